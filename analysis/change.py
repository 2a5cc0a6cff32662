r"""Individual change: reliable change, clinical significance, sudden gains, rupture–repair.

Four tools for patient-level change, each written by hand (no maintained Python
library implements them; the R packages *suddengains* and *clinicalsignificance*
are the closest peers and are not installable here, so the tests use hand-computed
cases and the worked examples printed in those packages' published documentation):

* :func:`reliable_change` — the Jacobson & Truax (1991) reliable change index,
  :math:`RC = (x_{post} - x_{pre}) / S_{diff}`,
  :math:`S_{diff} = \sqrt{2 S_E^2} = SD_{pre}\sqrt{2}\sqrt{1 - r_{xx}}`; a change is
  reliable when :math:`|RC| > 1.96`; :func:`reliable_change_threshold` gives the
  same criterion in raw points (the form used for sudden-gain criterion 1 by
  Stiles et al. 2003 and the suddengains package).
* :func:`clinical_cutoffs` and :func:`clinical_significance` — the cut-offs
  *a*, *b*, *c* and the classification into recovered, improved, unchanged and
  deteriorated.
* :func:`sudden_gains` — Tang & DeRubeis (1999)'s three criteria, with the
  adjusted critical values for missing sessions (Lutz et al. 2013), reversals and
  per-patient tables.
* :func:`rupture_episodes` and :func:`rupture_outcome` — rupture–repair episodes
  in a session-by-session alliance series under a parameterised rule, and their
  association with outcome.

Long-format input (one row per patient and session) is checked the same way by
every function: the columns must exist; session numbers must be whole numbers,
sorted within patient and unique per patient; scores must be numeric. Violations
raise ``ValueError`` naming the column and the rows (0-based positions, as in
``DataFrame.iloc``). Missing scores (NaN) are allowed and every function reports
what it did with them.

References
----------
Jacobson, N. S., & Truax, P. (1991). Clinical significance: A statistical approach to
defining meaningful change in psychotherapy research. *J Consult Clin Psychol, 59*(1),
12--19.
Christensen, L., & Mendoza, J. L. (1986). A method of assessing change in a single
subject: An alteration of the RC index. *Behavior Therapy, 17*, 305--308.
Tang, T. Z., & DeRubeis, R. J. (1999). Sudden gains and critical sessions in
cognitive-behavioral therapy for depression. *J Consult Clin Psychol, 67*(6), 894--904.
Lutz, W., Ehrlich, T., Rubel, J., et al. (2013). The ups and downs of psychotherapy:
Sudden gains and sudden losses identified with session reports. *Psychotherapy
Research, 23*(1), 14--24.
Gumz, A., Kästner, D., Geyer, M., Wutzler, U., Villmann, T., & Brähler, E. (2012).
Instability and discontinuous change in the experience of therapeutic interaction: An
extended single-case study of psychodynamic therapy processes. *BMC Med Res Methodol,
12*, 10. (Reviews the thresholds used for rupture–repair sequences.)
Stiles, W. B., Glick, M. J., Osatuke, K., et al. (2004). Patterns of alliance
development and the rupture-repair hypothesis. *J Counsel Psychol, 51*(1), 81--92.
Eubanks, C. F., Muran, J. C., & Safran, J. D. (2018). Alliance rupture repair: A
meta-analysis. *Psychotherapy, 55*(4), 508--519.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis._checks import (
    as_float_array,
    check_choice,
    check_finite,
    check_open_interval,
    check_positive,
    describe_labels,
    first_bad,
    suggest_name,
)
from analysis._results import ResultMixin

__all__ = [
    "CRITICAL_VALUES",
    "ReliableChange",
    "ClinicalSignificance",
    "SuddenGains",
    "RuptureEpisodes",
    "RuptureOutcome",
    "ReliableChangeThreshold",
    "reliable_change",
    "reliable_change_threshold",
    "clinical_cutoffs",
    "clinical_significance",
    "sudden_gains",
    "sudden_losses",
    "rupture_episodes",
    "rupture_outcome",
    "check_long",
    "PUBLISHED_NORMS",
    "norms",
]

#: Critical values of Tang & DeRubeis's third criterion by degrees of freedom of
#: the two 3-session windows: 2.776 (df 4, no missing value), 3.182 (df 3, one value
#: missing on one side), 4.303 (df 2, one missing on both sides) — the two-sided 5%
#: points of Student's t (Lutz et al. 2013; the suddengains package).
CRITICAL_VALUES: dict[int, float] = {4: 2.776, 3: 3.182, 2: 4.303}

_CATEGORIES = ("recovered", "improved", "unchanged", "deteriorated", "missing")


# --------------------------------------------------------------------------- input checks
def check_long(
    data: pd.DataFrame, patient: str, session: str, scores: Sequence[str], *, name: str = "data"
) -> pd.DataFrame:
    """Check a long table (patient × session) and return the columns as a clean copy.

    Refuses missing columns, missing or non-whole session numbers, missing patient
    ids, sessions out of order within a patient, duplicated patient–session rows and
    non-numeric scores, with a ``ValueError`` naming the column and rows.
    Missing scores (NaN or None) are kept.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per patient and session.
    patient, session : str
        Column names of the patient id and the session number.
    scores : sequence of str
        Score columns that must be numeric.
    name : str
        Argument name used in messages.

    Returns
    -------
    pandas.DataFrame
        Columns ``patient``, ``session`` and the score columns (float), index 0..n-1.

    References
    ----------
    None: an input check (a utility) with no method literature.

    Examples
    --------
    >>> d = pd.DataFrame({"id": [1, 1], "s": [1, 2], "y": [20, 12]})
    >>> check_long(d, "id", "s", ["y"]).shape
    (2, 3)
    """
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"`{name}` must be a pandas DataFrame in long format, got {type(data).__name__}.")
    cols = [patient, session, *scores]
    for c in cols:
        if not isinstance(c, (str, int)) or isinstance(c, bool):
            raise ValueError(f"Column names must be strings; got {c!r} for `{name}`.")
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise ValueError(f"`{name}` has no column {', '.join(map(repr, missing))};"
                         f"{suggest_name(missing[0], data.columns)} "
                         f"columns are {', '.join(map(repr, data.columns))}.")
    if len(set(cols)) != len(cols):
        raise ValueError(f"`{name}`: the patient, session and score columns must differ; got {cols}.")
    if len(data) == 0:
        raise ValueError(f"`{name}` has no rows.")
    labels = data.index

    def _rows(mask: np.ndarray) -> str:  # positions, and the DataFrame's index labels
        return f"{_positions(mask)} ({describe_labels(labels[np.asarray(mask)])})"

    d = data.reset_index(drop=True)
    pid = d[patient]
    if pid.isna().any():
        raise ValueError(f"`{name}` column {patient!r} has missing patient ids at rows "
                         f"{_rows(pid.isna().to_numpy())}.")
    sess = as_float_array(f"{name}[{session!r}]", d[session].to_numpy(dtype=object))
    bad = ~np.isfinite(sess)
    if bad.any():
        raise ValueError(f"`{name}` column {session!r} has missing session numbers at rows "
                         f"{_rows(bad)}.")
    bad = sess != np.round(sess)
    if bad.any():
        raise ValueError(f"`{name}` column {session!r} must hold whole session numbers; rows {_rows(bad)} "
                         f"do not (first: {sess[bad][0]!r}).")
    out = pd.DataFrame({"patient": pid.to_numpy(), "session": sess.astype(np.int64)})
    for c in scores:
        col = d[c]
        try:
            vals = pd.to_numeric(col, errors="raise") if col.dtype.kind not in "iuf" else col
        except (TypeError, ValueError):
            conv = pd.to_numeric(col, errors="coerce")
            badm = (conv.isna() & col.notna()).to_numpy()
            raise ValueError(f"`{name}` column {c!r} must be numeric; rows {_rows(badm)} cannot be read "
                             f"as numbers (first: {col[badm].iloc[0]!r}).") from None
        if pd.api.types.is_bool_dtype(col):
            raise ValueError(f"`{name}` column {c!r} must be numeric, got booleans.")
        vals = np.asarray(vals, dtype=float)
        badi = np.isinf(vals)
        if badi.any():
            raise ValueError(f"`{name}` column {c!r} has infinite values at rows {_rows(badi)}.")
        out[c] = vals
    # order and duplicates within patient
    same = out["patient"].to_numpy()[1:] == out["patient"].to_numpy()[:-1]
    step = np.diff(out["session"].to_numpy())
    dup = np.r_[False, same & (step == 0)]
    if dup.any():
        raise ValueError(f"`{name}` has duplicated patient–session rows at rows {_rows(dup)} "
                         f"(each patient may have one row per session).")
    unsorted = np.r_[False, same & (step < 0)]
    if unsorted.any():
        raise ValueError(f"`{name}`: sessions must be in increasing order within each patient; rows "
                         f"{_rows(unsorted)} come after a later session (sort by {patient!r}, {session!r}).")
    # a patient's rows must be contiguous
    codes = pd.factorize(out["patient"])[0]
    starts = np.r_[True, codes[1:] != codes[:-1]]
    seen = np.bincount(codes[starts], minlength=codes.max() + 1 if len(codes) else 0)
    if (seen > 1).any():
        again = np.flatnonzero(starts & (seen[codes] > 1))
        raise ValueError(f"`{name}`: the rows of a patient must be contiguous; patient "
                         f"{out['patient'].iloc[again[1]]!r} starts again at row {again[1]} "
                         f"(index label {labels[again[1]]!r}; sort by "
                         f"{patient!r}, {session!r}).")
    return out


def _rows(mask: np.ndarray) -> str:
    return first_bad(mask).split(" ", 1)[1]


_positions = _rows


# --------------------------------------------------------------------------- reliable change
@dataclass
class ReliableChange(ResultMixin):
    """Result of :func:`reliable_change`.

    Attributes
    ----------
    rc : numpy.ndarray
        Reliable change index per patient (NaN where pre or post is missing).
    s_diff : float
        Standard error of the difference, :math:`SD_{pre}\\sqrt{2(1-r_{xx})}`.
    change : numpy.ndarray
        ``post - pre`` (raw units).
    direction : numpy.ndarray of str
        ``"improved"``, ``"deteriorated"``, ``"unchanged"`` (not reliable) or
        ``"missing"``.
    critical : float
        :math:`|RC|` must exceed this value (default 1.96).
    higher_is_better : bool
    n_missing : int
        Patients with pre or post missing (not classified).
    min_change : float or None
        When set, the rule was a fixed change in raw points (``|change| >= min_change``,
        e.g. a published RCI such as 14 OQ-45 points) instead of ``|RC| > critical``;
        ``rc`` and ``s_diff`` are then NaN unless a reliability was also given.
    """

    rc: np.ndarray
    s_diff: float
    change: np.ndarray
    direction: np.ndarray
    critical: float
    higher_is_better: bool
    n_missing: int
    min_change: float | None = None

    def to_frame(self) -> pd.DataFrame:
        """One row per patient: change, rc, direction."""
        return pd.DataFrame({"change": np.asarray(self.change, dtype=float), "rc": np.asarray(self.rc, dtype=float),
                             "direction": np.asarray(self.direction)})

    @property
    def reliable_change_in_raw_units(self) -> float:
        """Smallest raw change counted as reliable: ``min_change`` if set, else ``critical * s_diff``."""
        return self.min_change if self.min_change is not None else self.critical * self.s_diff

    def _rule(self) -> str:
        if self.min_change is not None:
            return f"reliable if |change| >= {self.min_change:g} points (a fixed, published threshold)"
        return (f"S_diff = {self.s_diff:.3f}; reliable if |RC| > {self.critical:g} "
                f"(a change of more than {self.reliable_change_in_raw_units:.2f} points)")

    def counts(self) -> pd.Series:
        """Number of patients per direction."""
        return pd.Series(self.direction).value_counts().reindex(
            ["improved", "unchanged", "deteriorated", "missing"], fill_value=0)

    def summary(self) -> str:
        """Readable account."""
        c = self.counts()
        n = len(self.rc) - self.n_missing
        return "\n".join([
            "Reliable change (Jacobson & Truax 1991)",
            f"  {self._rule()}",
            f"  {'higher' if self.higher_is_better else 'lower'} scores are better",
            f"  of {n} patients with pre and post: {c['improved']} reliably improved, "
            f"{c['unchanged']} unchanged, {c['deteriorated']} reliably deteriorated",
            f"  {self.n_missing} patients with a missing pre or post score were not classified",
        ])


def reliable_change(
    pre: Any,
    post: Any,
    *,
    reliability: float | None = None,
    sd_pre: float | None = None,
    higher_is_better: bool = False,
    critical: float = 1.96,
    min_change: float | None = None,
) -> ReliableChange:
    r"""Jacobson & Truax (1991) reliable change index.

    .. math::

        RC_i = \frac{x_{post,i} - x_{pre,i}}{S_{diff}},\qquad
        S_{diff} = \sqrt{2 S_E^2} = SD_{pre}\,\sqrt{2}\,\sqrt{1 - r_{xx}}

    (the :math:`S_{diff}` of Christensen & Mendoza 1986, adopted by Jacobson & Truax).
    A change is reliable when :math:`|RC| > ` ``critical`` (1.96: less than a 5%
    chance under no true change). Its sign says whether it is an improvement:
    with ``higher_is_better=False`` (symptom scales: BDI-II, PHQ-9, OQ-45) a
    negative RC is an improvement. A value exactly at the critical value is not
    reliable (strict inequality).

    Parameters
    ----------
    pre, post : array-like
        Scores before and after treatment, one per patient. Missing values (NaN)
        give ``direction == "missing"`` and NaN RC; they are counted in ``n_missing``.
    reliability : float, optional
        Reliability :math:`r_{xx}` of the instrument, in (0, 1) (Jacobson & Truax use
        test–retest reliability; coefficient alpha is often used instead). Required
        unless ``min_change`` is given.
    sd_pre : float, optional
        SD of the pre scores (of the clinical population, or a normative SD).
        Default: the sample SD (ddof = 1) of the observed ``pre`` values.
    higher_is_better : bool, default False
        True for instruments where higher scores mean better functioning.
    critical : float, default 1.96
        Critical :math:`|RC|`.
    min_change : float, optional
        A fixed threshold in raw points instead of the index: a change is reliable when
        :math:`|x_{post} - x_{pre}| \ge` ``min_change`` — the form in which publishers
        and programmes state their rules ("a change of 14 points or more" on the
        OQ-45.2; "a fall of 6 or more" on the PHQ-9 in the English IAPT programme),
        hence the inclusive ``>=``. With ``reliability`` also given, ``rc`` is still
        computed for the table.

    Returns
    -------
    ReliableChange

    References
    ----------
    Jacobson, N. S., & Truax, P. (1991). *J Consult Clin Psychol, 59*(1), 12--19.

    Examples
    --------
    >>> r = reliable_change([30, 20], [18, 19], reliability=0.91, sd_pre=8.0)
    >>> round(r.s_diff, 4)   # 8 * sqrt(2) * sqrt(0.09)
    3.3941
    >>> list(r.direction)
    ['improved', 'unchanged']
    """
    pre_a = as_float_array("pre", pre)
    post_a = as_float_array("post", post)
    if pre_a.shape != post_a.shape:
        raise ValueError(f"`pre` and `post` must have the same length; got {pre_a.size} and {post_a.size}.")
    for nm, a in (("pre", pre_a), ("post", post_a)):
        if np.isinf(a).any():
            raise ValueError(f"`{nm}` has infinite values at {first_bad(np.isinf(a))}.")
    if min_change is not None:
        mc = as_float_array("min_change", min_change)
        if mc.size != 1:
            raise ValueError("`min_change` must be a single number of raw points.")
        check_positive("min_change", mc)
        min_change = float(mc[0])
    crit = as_float_array("critical", critical)
    if crit.size != 1:
        raise ValueError(f"`critical` must be a single number; got {crit.size} values.")
    check_positive("critical", crit)
    if not isinstance(higher_is_better, (bool, np.bool_)):
        raise ValueError(f"`higher_is_better` must be True or False; got {higher_is_better!r}.")
    with np.errstate(over="ignore"):
        change = post_a - pre_a
    if np.isinf(change).any():
        raise ValueError(f"`post` - `pre` overflows double precision at {first_bad(np.isinf(change))}; "
                         "rescale the scores.")
    miss = ~np.isfinite(change)
    c = float(crit[0])
    if reliability is None:
        if min_change is None:
            raise ValueError("`reliability` is required (or give `min_change`, a fixed threshold in raw points).")
        s_diff = float("nan")
    else:
        if sd_pre is None:
            obs = pre_a[np.isfinite(pre_a)]
            if obs.size < 2:
                raise ValueError("`sd_pre` is needed: fewer than two observed `pre` values to estimate it.")
            amax = float(np.max(np.abs(obs)))  # scale first: no overflow or underflow at any magnitude
            sd = float(np.std(obs / amax, ddof=1)) * amax if amax > 0 else 0.0
            if sd <= 1e-12 * amax or sd == 0:
                raise ValueError("`sd_pre`: the observed `pre` values are all equal (SD 0); give `sd_pre`.")
        else:
            sd_arr = as_float_array("sd_pre", sd_pre)
            if sd_arr.size != 1:
                raise ValueError("`sd_pre` must be a single number.")
            check_positive("sd_pre", sd_arr)
            sd = float(sd_arr[0])
        s_diff = reliable_change_threshold(sd, reliability, critical=c).s_diff
    rc = change / s_diff  # all NaN without a reliability
    # classify in the improvement direction: by raw points (a fixed rule) or by the index
    if min_change is not None:
        better, cut, inclusive = (change if higher_is_better else -change), min_change, True
    else:
        better, cut, inclusive = (rc if higher_is_better else -rc), c, False
    up = better >= cut if inclusive else better > cut
    down = better <= -cut if inclusive else better < -cut
    direction = np.where(miss, "missing", np.where(up, "improved", np.where(down, "deteriorated", "unchanged")))
    return ReliableChange(rc=rc, s_diff=s_diff, change=change, direction=direction.astype(object),
                          critical=c, higher_is_better=bool(higher_is_better), n_missing=int(miss.sum()),
                          min_change=min_change)


@dataclass(frozen=True)
class ReliableChangeThreshold(ResultMixin):
    """Result of :func:`reliable_change_threshold`.

    Attributes
    ----------
    sd : float
        The SD it was computed from.
    reliability : float
    critical : float
    se_measurement : float
        :math:`S_E = SD\\sqrt{1 - r_{xx}}`.
    s_diff : float
        :math:`S_{diff} = \\sqrt{2 S_E^2}`.
    threshold : float
        ``critical * s_diff``: the smallest change in raw points that counts as reliable.
    """

    sd: float
    reliability: float
    critical: float
    se_measurement: float
    s_diff: float
    threshold: float

    def summary(self) -> str:
        """Readable account."""
        return (f"Reliable change threshold (Jacobson & Truax 1991): SD = {self.sd:g}, r_xx = {self.reliability:g}; "
                f"S_E = {self.se_measurement:.4f}, S_diff = {self.s_diff:.4f}; a change of more than "
                f"{self.threshold:.2f} points is reliable (|RC| > {self.critical:g}).")


def reliable_change_threshold(sd: float, reliability: float, *, critical: float = 1.96) -> ReliableChangeThreshold:
    r"""Smallest reliable change in raw points (Jacobson & Truax 1991).

    .. math::

        S_E = SD\,\sqrt{1 - r_{xx}},\qquad S_{diff} = \sqrt{2 S_E^2},\qquad
        \text{threshold} = 1.96\,S_{diff}

    It is :func:`reliable_change`'s criterion :math:`|RC| > 1.96` expressed in the
    instrument's points, as publishers report it (e.g. 14 points on the OQ-45.2) and
    as Stiles et al. (2003) use it for the first sudden-gain criterion in place of
    Tang & DeRubeis's fixed 7 BDI points: pass ``threshold`` to
    :func:`sudden_gains` as ``min_gain``. Written by hand (a one-line formula; the
    R peers are ``suddengains::define_crit1_cutoff`` and the RCI in
    ``clinicalsignificance``).

    Parameters
    ----------
    sd : float
        SD of the scores: the normal population's (Stiles et al.) or the sample's
        pre-treatment SD (Jacobson & Truax).
    reliability : float
        :math:`r_{xx}` in (0, 1); Jacobson & Truax use test–retest reliability,
        Martinovich et al. (1996) argue coefficient alpha can be used instead.
    critical : float, default 1.96

    Returns
    -------
    ReliableChangeThreshold

    References
    ----------
    Jacobson, N. S., & Truax, P. (1991). *J Consult Clin Psychol, 59*(1), 12--19.
    Stiles, W. B., Leach, C., Barkham, M., et al. (2003). Early sudden gains in
    psychotherapy under routine clinic conditions: Practice-based evidence.
    *J Consult Clin Psychol, 71*(1), 14--21.
    Wiedemann, M., Thew, G. R., Stott, R., & Ehlers, A. (2020). suddengains: An R package to
    identify sudden gains in longitudinal data. *PLOS ONE, 15*(3), e0230276.

    Examples
    --------
    >>> t = reliable_change_threshold(10.5, 0.931)   # suddengains' documented example
    >>> round(t.threshold, 6)
    7.645131
    """
    vals = {}
    for nm, v in (("sd", sd), ("reliability", reliability), ("critical", critical)):
        a = as_float_array(nm, v)
        if a.size != 1:
            raise ValueError(f"`{nm}` must be a single number; got {a.size} values.")
        vals[nm] = a
    check_positive("sd", vals["sd"])
    check_open_interval("reliability", vals["reliability"], 0.0, 1.0)
    check_positive("critical", vals["critical"])
    sd_, rel, crit = (float(vals[k][0]) for k in ("sd", "reliability", "critical"))
    se = sd_ * math.sqrt(1.0 - rel)
    # sqrt(2 S_E^2) written as SD sqrt(2) sqrt(1 - r): the arithmetic reliable_change always used,
    # so an exact boundary case (|RC| = critical) stays on the same side
    s_diff = sd_ * math.sqrt(2.0) * math.sqrt(1.0 - rel)
    return ReliableChangeThreshold(sd=sd_, reliability=rel, critical=crit, se_measurement=se, s_diff=s_diff,
                                   threshold=crit * s_diff)


# --------------------------------------------------------------------------- clinical significance
def clinical_cutoffs(
    m_clin: float,
    sd_clin: float,
    m_func: float | None = None,
    sd_func: float | None = None,
    *,
    higher_is_better: bool = False,
    b_sd: str = "functional",
) -> dict[str, float | None]:
    r"""Jacobson & Truax (1991) cut-offs *a*, *b* and *c* between the dysfunctional and functional populations.

    For an instrument where lower scores are better (symptom scales):

    .. math::

        a = M_{clin} - 2\,SD_{clin},\qquad b = M_{func} + 2\,SD_{func},\qquad
        c = \frac{SD_{clin} M_{func} + SD_{func} M_{clin}}{SD_{clin} + SD_{func}}

    and with ``higher_is_better=True`` the signs of the 2 SD steps flip
    (:math:`a = M_{clin} + 2 SD_{clin}`, :math:`b = M_{func} - 2 SD_{func}`); *c* is
    unchanged. *a*: the post score lies outside the range (2 SD) of the
    dysfunctional population; *b*: it lies within the range of the functional
    population; *c*: it is closer to the functional mean than to the dysfunctional
    mean (in SD units). Jacobson & Truax's abstract defines clinically significant
    change as moving "outside the range of the dysfunctional population or within
    the range of the functional population"; *b* therefore uses the functional
    population's SD by default (``b_sd="functional"``). Some secondary sources use
    the clinical SD; ``b_sd="clinical"`` gives that variant. The full article's
    wording of *b* could not be read here: the choice follows the abstract's
    definition and is documented as such.

    Parameters
    ----------
    m_clin, sd_clin : float
        Mean and SD of the dysfunctional (clinical) population.
    m_func, sd_func : float, optional
        Mean and SD of the functional (normative) population; without them *b* and
        *c* are None.
    higher_is_better : bool, default False
    b_sd : {"functional", "clinical"}

    Returns
    -------
    dict
        ``{"a": ..., "b": ..., "c": ...}``.

    References
    ----------
    Jacobson, N. S., & Truax, P. (1991). *J Consult Clin Psychol, 59*(1), 12--19.

    Examples
    --------
    >>> clinical_cutoffs(30.0, 8.0, 8.0, 6.0)
    {'a': 14.0, 'b': 20.0, 'c': 17.428571428571427}
    """
    check_choice("b_sd", b_sd, ("functional", "clinical"))
    vals = {}
    for nm, v in (("m_clin", m_clin), ("sd_clin", sd_clin), ("m_func", m_func), ("sd_func", sd_func)):
        if v is None:
            vals[nm] = None
            continue
        a = as_float_array(nm, v)
        if a.size != 1:
            raise ValueError(f"`{nm}` must be a single number.")
        check_finite(nm, a)
        vals[nm] = float(a[0])
    if vals["m_clin"] is None or vals["sd_clin"] is None:
        raise ValueError("`m_clin` and `sd_clin` are required.")
    check_positive("sd_clin", np.array([vals["sd_clin"]]))
    if (vals["m_func"] is None) != (vals["sd_func"] is None):
        raise ValueError("Give both `m_func` and `sd_func` (the functional norms), or neither.")
    sign = -1.0 if higher_is_better else 1.0
    out: dict[str, float | None] = {"a": vals["m_clin"] - sign * 2 * vals["sd_clin"], "b": None, "c": None}
    if vals["m_func"] is not None:
        check_positive("sd_func", np.array([vals["sd_func"]]))
        if (vals["m_func"] - vals["m_clin"]) * sign >= 0:
            raise ValueError(
                "`m_func` must lie on the better side of `m_clin` "
                f"({'above' if higher_is_better else 'below'} it with higher_is_better={higher_is_better}); "
                f"got m_clin={vals['m_clin']}, m_func={vals['m_func']}.")
        sdb = vals["sd_func"] if b_sd == "functional" else vals["sd_clin"]
        out["b"] = vals["m_func"] + sign * 2 * sdb
        # in units of a power of two near the largest norm (exact), so the products neither
        # overflow nor underflow at any magnitude
        big = max(abs(vals["m_clin"]), vals["sd_clin"], abs(vals["m_func"]), vals["sd_func"])
        u = 2.0 ** math.floor(math.log2(big))
        mc, sc, mf, sf = (vals[k] / u for k in ("m_clin", "sd_clin", "m_func", "sd_func"))
        out["c"] = (sc * mf + sf * mc) / (sc + sf) * u
    bad = [k for k, v in out.items() if v is not None and not math.isfinite(v)]
    if bad:
        raise ValueError(f"cutoff(s) {bad} overflow double precision at these norms; rescale the scores.")
    return out


@dataclass
class ClinicalSignificance(ResultMixin):
    """Result of :func:`clinical_significance`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per patient: ``pre``, ``post``, ``rc``, ``reliable``,
        ``pre_dysfunctional``, ``post_functional``, ``category``.
    cutoff_used : str
        ``"a"``, ``"b"``, ``"c"``, ``"published"`` (the instrument's published cut-off)
        or ``"given"`` (a number passed as ``cutoff``).
    cutoff : float
    cutoffs : dict
        The three Jacobson-Truax cut-offs (None where norms were not given), plus the
        published or given one when used.
    reliable : ReliableChange
    notes : list of str
        What was done with missing values and patients starting in the functional range.
    """

    _frame_from = ('table',)

    table: pd.DataFrame
    cutoff_used: str
    cutoff: float
    cutoffs: dict
    reliable: ReliableChange
    notes: list = field(default_factory=list)

    def counts(self, proportion: bool = False) -> pd.Series:
        """Patients per category (recovered, improved, unchanged, deteriorated, missing)."""
        c = self.table["category"].value_counts().reindex(list(_CATEGORIES), fill_value=0)
        if proportion:
            n = int(c.drop("missing").sum())
            return c.drop("missing") / n if n else c.drop("missing") * np.nan
        return c

    def summary(self) -> str:
        """Readable account."""
        c = self.counts()
        n = int(c.drop("missing").sum())
        lines = [
            "Clinical significance (Jacobson & Truax 1991 categories"
            + ("; fixed thresholds)" if self.reliable.min_change is not None
               or self.cutoff_used in ("published", "given") else ")"),
            f"  cut-off {self.cutoff_used} = {self.cutoff:.2f}; {self.reliable._rule()}",
        ]
        for k in _CATEGORIES[:4]:
            lines.append(f"  {k:<13}{c[k]:>5}  ({c[k] / n:.1%})" if n else f"  {k:<13}{c[k]:>5}")
        lines += [f"  note: {x}" for x in self.notes]
        return "\n".join(lines)

    def apa(self) -> str:
        """One sentence for a results section."""
        c = self.counts()
        n = int(c.drop("missing").sum())
        pct = {k: f"{100 * c[k] / n:.0f}%" for k in _CATEGORIES[:4]}
        rule = (f"a change of at least {self.reliable.min_change:g} points" if self.reliable.min_change is not None
                else f"RC > {self.reliable.critical:g}")
        return (f"Of {n} patients, {c['recovered']} ({pct['recovered']}) recovered (reliable change, "
                f"{rule}, and crossing cut-off {self.cutoff_used} = {self.cutoff:.1f}), "
                f"{c['improved']} ({pct['improved']}) improved reliably without recovering, "
                f"{c['unchanged']} ({pct['unchanged']}) did not change reliably and {c['deteriorated']} "
                f"({pct['deteriorated']}) deteriorated reliably (Jacobson & Truax, 1991).")


def clinical_significance(
    pre: Any,
    post: Any,
    *,
    reliability: float | None = None,
    m_clin: float | None = None,
    sd_clin: float | None = None,
    m_func: float | None = None,
    sd_func: float | None = None,
    cutoff: str | float = "c",
    higher_is_better: bool = False,
    b_sd: str = "functional",
    critical: float = 1.96,
    instrument: str | None = None,
    min_change: float | str | None = None,
) -> ClinicalSignificance:
    r"""Classify patients as recovered, improved, unchanged or deteriorated (Jacobson & Truax 1991).

    * **recovered**: reliable improvement (:func:`reliable_change`) *and* the score
      moved from the dysfunctional side of the cut-off (pre) to the functional side
      (post);
    * **improved**: reliable improvement without that crossing (including patients
      who started on the functional side: they cannot "recover");
    * **unchanged**: :math:`|RC| \le` ``critical`` (or, with ``min_change``, a change
      of fewer points);
    * **deteriorated**: reliable change in the worse direction;
    * **missing**: pre or post missing (counted, not classified).

    A score exactly on the cut-off counts as dysfunctional (strict inequality
    for "functional": post < cut-off when lower is better).
    ``S_diff`` uses ``sd_clin`` (the clinical population's SD) when given, else the
    sample SD of ``pre``.

    Parameters
    ----------
    pre, post : array-like
    reliability : float, optional
        :math:`r_{xx}` in (0, 1). Required unless ``instrument`` has a published one.
    m_clin, sd_clin : float, optional
        Clinical norms; default the published ones of ``instrument`` if it has them,
        else the sample mean and SD (ddof = 1) of the observed ``pre`` values (then *a*
        describes this sample, not a published population).
    m_func, sd_func : float, optional
        Functional norms (needed for cut-offs *b* and *c*); default the published ones of
        ``instrument`` if it has them.
    instrument : str, optional
        A row of :data:`PUBLISHED_NORMS` (see :func:`norms`), e.g. ``"PHQ-9-DE-women"``.
        Fills every argument above that you left as None and the row has; what was
        filled, and from which citation, is listed in ``notes``. Arguments you give
        win. Scores outside the instrument's range are refused.
    cutoff : {"a", "b", "c", "published"} or float, default "c"
        Jacobson & Truax recommend *c* when functional norms exist and overlap with
        the clinical ones, *a* when no functional norms are available. A number is
        used as the cut-off itself (e.g. a published one you have read);
        ``"published"`` takes ``instrument``'s published cut-off (e.g. 56 on the Dutch
        OQ-45, 10 on the PHQ-9).
    min_change : float or "published", optional
        Classify reliable change by a fixed number of raw points (``|change| >=
        min_change``, see :func:`reliable_change`) instead of the index computed from
        the reliability; ``"published"`` takes ``instrument``'s published RCI (e.g. 14
        on the OQ-45.2, 6 on the PHQ-9 in the IAPT programme). ``reliability`` is then
        optional (used only for the ``rc`` column).
    higher_is_better, b_sd, critical
        See :func:`clinical_cutoffs` and :func:`reliable_change`.

    Returns
    -------
    ClinicalSignificance

    References
    ----------
    Jacobson, N. S., & Truax, P. (1991). *J Consult Clin Psychol, 59*(1), 12--19.

    Examples
    --------
    >>> cs = clinical_significance([30, 30, 30, 12], [10, 24, 40, 3], reliability=0.9,
    ...                            m_clin=30, sd_clin=8, m_func=8, sd_func=6)
    >>> list(cs.table["category"])
    ['recovered', 'unchanged', 'deteriorated', 'improved']
    """
    cut_value: float | None = None
    if isinstance(cutoff, str):
        check_choice("cutoff", cutoff, ("a", "b", "c", "published"))
    else:
        cv_ = as_float_array("cutoff", cutoff)
        if cv_.size != 1:
            raise ValueError("`cutoff` must be 'a', 'b', 'c', 'published' or one number.")
        check_finite("cutoff", cv_)
        cut_value = float(cv_[0])
    if isinstance(min_change, str) and min_change != "published":
        raise ValueError(f"`min_change` must be a number of raw points or 'published'; got {min_change!r}.")
    if (cutoff == "published" or min_change == "published") and instrument is None:
        raise ValueError("'published' (for `cutoff` or `min_change`) needs `instrument=`, the row of "
                         "PUBLISHED_NORMS to take it from.")
    pre_a = as_float_array("pre", pre)
    post_a = as_float_array("post", post)
    notes: list[str] = []
    if instrument is not None:
        row = _norms_row(instrument, name="instrument")
        if bool(row["higher_is_better"]) != bool(higher_is_better):
            raise ValueError(f"`higher_is_better={higher_is_better}` contradicts `instrument={instrument!r}`, "
                             f"where {'higher' if row['higher_is_better'] else 'lower'} scores are better.")
        lo, hi = row["score_range"]
        for nm, a in (("pre", pre_a), ("post", post_a)):
            bad = np.isfinite(a) & ((a < lo) | (a > hi))
            if bad.any():
                raise ValueError(f"`{nm}` has scores outside the {row['instrument']} range {lo}-{hi} at "
                                 f"{first_bad(bad)} (first: {a[bad][0]:g}).")
        filled = []
        if reliability is None and row["reliability"] is not None:
            reliability = row["reliability"]
            filled.append(f"reliability {reliability:g}")
        if m_clin is None and sd_clin is None and row["m_clin"] is not None:
            m_clin, sd_clin = row["m_clin"], row["sd_clin"]
            filled.append(f"clinical norms M = {m_clin:g}, SD = {sd_clin:g}")
        if m_func is None and sd_func is None and row["m_func"] is not None:
            m_func, sd_func = row["m_func"], row["sd_func"]
            filled.append(f"functional norms M = {m_func:g}, SD = {sd_func:g}")
        if cutoff == "published":
            if row["cutoff"] is None:
                raise ValueError(f"`cutoff='published'`: {row['instrument']} has no published cut-off in "
                                 "PUBLISHED_NORMS; give a number or use 'a', 'b' or 'c'.")
            cut_value = float(row["cutoff"])
            filled.append(f"cut-off {cut_value:g} ({row['cutoff_kind']})")
        if min_change == "published":
            if row["rci"] is None:
                raise ValueError(f"`min_change='published'`: {row['instrument']} has no published reliable change "
                                 "threshold in PUBLISHED_NORMS; give a number.")
            min_change = float(row["rci"])
            filled.append(f"reliable change of {min_change:g} points or more ({row['rci_kind']})")
        if filled:
            notes.append(f"{row['instrument']}: {', '.join(filled)} from {row['citation']}")
        else:
            notes.append(f"{row['instrument']}: no published norm filled an argument left empty")
    if reliability is None and min_change is None:
        raise ValueError("`reliability` is required" + (
            f": the published norms of {instrument!r} give none" if instrument is not None else "")
            + " (or give `min_change`, a fixed threshold in raw points).")
    obs = pre_a[np.isfinite(pre_a)]
    if m_clin is None:
        if obs.size < 2:
            raise ValueError("`m_clin`: fewer than two observed `pre` values to estimate the clinical norms.")
        m_clin = float(obs.mean())
        notes.append(f"clinical mean taken from this sample's pre scores ({m_clin:.2f})")
    if sd_clin is None:
        if obs.size < 2:
            raise ValueError("`sd_clin`: fewer than two observed `pre` values to estimate it.")
        sd_clin = float(obs.std(ddof=1))
        notes.append(f"clinical SD taken from this sample's pre scores ({sd_clin:.2f})")
    cuts = clinical_cutoffs(m_clin, sd_clin, m_func, sd_func, higher_is_better=higher_is_better, b_sd=b_sd)
    if cut_value is not None:
        cut = cut_value
        cut_name = "published" if cutoff == "published" else "given"
        cuts = {**cuts, cut_name: cut}
    else:
        if cuts[cutoff] is None:
            raise ValueError(f"`cutoff={cutoff!r}` needs the functional norms `m_func` and `sd_func`.")
        cut = float(cuts[cutoff])
        cut_name = str(cutoff)
    rc = reliable_change(pre_a, post_a, reliability=reliability, sd_pre=sd_clin,
                         higher_is_better=higher_is_better, critical=critical, min_change=min_change)
    if higher_is_better:
        pre_dys = pre_a <= cut
        post_fun = post_a > cut
    else:
        pre_dys = pre_a >= cut
        post_fun = post_a < cut
    cat = rc.direction.copy()
    rec = (cat == "improved") & pre_dys & post_fun
    cat[rec] = "recovered"
    n_start_fun = int((np.isfinite(pre_a) & ~pre_dys & (cat != "missing")).sum())
    if n_start_fun:
        notes.append(f"{n_start_fun} patients started on the functional side of the cut-off and cannot be "
                     "classified as recovered")
    if rc.n_missing:
        notes.append(f"{rc.n_missing} patients with a missing pre or post score are 'missing', not classified")
    table = pd.DataFrame({
        "pre": pre_a, "post": post_a, "change": rc.change, "rc": rc.rc,
        "reliable": np.isin(rc.direction, ("improved", "deteriorated")),
        "pre_dysfunctional": np.where(np.isfinite(pre_a), pre_dys, False),
        "post_functional": np.where(np.isfinite(post_a), post_fun, False),
        "category": pd.Categorical(cat, categories=list(_CATEGORIES)),
    })
    return ClinicalSignificance(table=table, cutoff_used=cut_name, cutoff=cut, cutoffs=cuts, reliable=rc,
                                notes=notes)


# --------------------------------------------------------------------------- published norms
#: Published norms for common instruments, ONLY as read in a source during the
#: workbook's preparation (``read_at`` says where, and whether it was the paper itself
#: or a secondary source quoting it). ``None`` means "not read" — never a guess.
#: ``rci`` is the smallest reliable change in raw points and ``rci_kind`` says how the
#: source defines it (a Jacobson-Truax RCI, or a fixed rule such as "6 points or more").
#: No source read so far gave both the normative means/SDs/reliability and the cut-off
#: or RCI derived from them, so none of the published cut-offs can be re-derived with
#: :func:`clinical_cutoffs`. The German PHQ-9 rows give functional norms, so cut-offs
#: *b* and *c* can be computed from them (with clinical norms from your sample or a
#: source); the GenPod BDI-II row gives clinical norms, so cut-off *a* can: pass
#: ``instrument=`` to :func:`clinical_significance`. ``status`` is
#: "checked" when every number in the row was read in the text named by ``read_at``.
_KOCALEVENT_2013 = ("Kocalevent, R.-D., Hinz, A., & Brähler, E. (2013). Standardization of the depression screener "
                    "Patient Health Questionnaire (PHQ-9) in the general population. Gen Hosp Psychiatry, 35(5), "
                    "551-555.")
_KOCALEVENT_2013_READ_AT = ("abstract: https://scinapse.io/papers/2098873622 and https://peeref.com/zh/works/9880464 "
                            "('Women had significantly higher mean (S.D.) scores compared with men [3.1 (3.5) vs. "
                            "2.7 (3.5)]')")
PUBLISHED_NORMS: dict[str, dict[str, Any]] = {
    "PHQ-9": {
        "instrument": "PHQ-9",
        "name": "Patient Health Questionnaire-9 (depression module of the PHQ)",
        "score_range": (0, 27),
        "higher_is_better": False,
        "m_clin": None, "sd_clin": None, "m_func": None, "sd_func": None,
        "reliability": 0.89,
        "reliability_kind": "Cronbach's alpha (Kroenke et al. 2001, as reported by a secondary summary; "
                            "the abstract itself gives no coefficient and no test-retest value)",
        "cutoff": 10.0,
        "cutoff_kind": "score >= 10: sensitivity 88% and specificity 88% for major depression against a "
                       "mental health professional's interview (not a Jacobson-Truax cut-off); the English "
                       "IAPT programme counts the same score as 'caseness' (> 9)",
        "rci": 6.0,
        "rci_kind": "fixed rule of the English IAPT programme: a fall of 6 or more points is a reliable "
                    "improvement (a rise of 6 or more a reliable deterioration); not derived here from an SD "
                    "and a reliability",
        "severity": ((5, "mild"), (10, "moderate"), (15, "moderately severe"), (20, "severe")),
        "citation": "Kroenke, K., Spitzer, R. L., & Williams, J. B. W. (2001). The PHQ-9: Validity of a brief "
                    "depression severity measure. J Gen Intern Med, 16(9), 606-613. Reliable improvement: "
                    "IAPT (Improving Access to Psychological Therapies) outcome definitions, as quoted in "
                    "trial registration NCT05134103.",
        "read_at": ("abstract: https://studylib.net/doc/25788761/kroenke2001-article-thephq-9 (items 0-3, "
                    "9 items; >= 10: sens./spec. 88%; 5, 10, 15, 20 = mild, moderate, moderately severe, "
                    "severe); alpha .89: https://www.oskarflygare.com/sources/scientific-publications/"
                    "Kroenke2001---The-PHQ-9,-validity-of-a-brief-depression-severity-measure; IAPT "
                    "definitions ('reduction in PHQ-9 score of 6 or more'; caseness 'scoring >9 on the "
                    "PHQ-9'), secondary: https://inclinicaltrials.com/major-depressive-disorder/NCT05134103/"
                    "details"),
        "status": "checked",
    },
    "PHQ-9-DE-women": {
        "instrument": "PHQ-9-DE-women",
        "name": "PHQ-9, German general population, women (functional norms)",
        "score_range": (0, 27),
        "higher_is_better": False,
        "m_clin": None, "sd_clin": None, "m_func": 3.1, "sd_func": 3.5,
        "reliability": None, "reliability_kind": None,
        "cutoff": None, "cutoff_kind": None, "rci": None, "rci_kind": None, "severity": None,
        "citation": _KOCALEVENT_2013 + " (Nationally representative German household surveys 2003-2008, "
                                       "n = 5018, 53.6% women.)",
        "read_at": _KOCALEVENT_2013_READ_AT,
        "status": "checked",
    },
    "PHQ-9-DE-men": {
        "instrument": "PHQ-9-DE-men",
        "name": "PHQ-9, German general population, men (functional norms)",
        "score_range": (0, 27),
        "higher_is_better": False,
        "m_clin": None, "sd_clin": None, "m_func": 2.7, "sd_func": 3.5,
        "reliability": None, "reliability_kind": None,
        "cutoff": None, "cutoff_kind": None, "rci": None, "rci_kind": None, "severity": None,
        "citation": _KOCALEVENT_2013 + " (Nationally representative German household surveys 2003-2008, "
                                       "n = 5018, 46.4% men.)",
        "read_at": _KOCALEVENT_2013_READ_AT,
        "status": "checked",
    },
    "BDI-II": {
        "instrument": "BDI-II",
        "name": "Beck Depression Inventory-II",
        "score_range": (0, 63),
        "higher_is_better": False,
        "m_clin": None, "sd_clin": None, "m_func": None, "sd_func": None,
        "reliability": 0.91,
        "reliability_kind": "coefficient alpha in 140 psychiatric outpatients (Beck, Steer, Ball & Ranieri 1996)",
        "cutoff": None, "cutoff_kind": None, "rci": None, "rci_kind": None,
        "severity": ((14, "mild"), (20, "moderate"), (29, "severe")),
        "citation": "Beck, A. T., Steer, R. A., Ball, R., & Ranieri, W. (1996). Comparison of Beck Depression "
                    "Inventories -IA and -II in psychiatric outpatients. J Pers Assess, 67(3), 588-597. "
                    "Severity bands: Beck, A. T., Steer, R. A., & Brown, G. K. (1996). Manual for the Beck "
                    "Depression Inventory-II. San Antonio, TX: Psychological Corporation.",
        "read_at": "alpha: abstract (PubMed 8991972) mirrored at https://suppr.wilddata.cn/browses/detail/pubmed/"
                   "8991972; severity bands (minimal 0-13, mild 14-19, moderate 20-28, severe 29-63), "
                   "secondary, quoting the manual: https://www.doctorabel.us/depression-therapy/"
                   "assessment-of-severe-depression.html",
        "status": "checked",
    },
    "BDI-II-GenPod": {
        "instrument": "BDI-II-GenPod",
        "name": "BDI-II, UK primary-care patients with depression at the start of an antidepressant trial "
                "(GenPod; clinical norms)",
        "score_range": (0, 63),
        "higher_is_better": False,
        "m_clin": 33.4, "sd_clin": 9.1, "m_func": None, "sd_func": None,
        "reliability": None, "reliability_kind": None,
        "cutoff": None, "cutoff_kind": None, "rci": None, "rci_kind": None, "severity": None,
        "citation": "Button, K. S., Kounali, D., Thomas, L., Wiles, N. J., Peters, T. J., Welton, N. J., Ades, "
                    "A. E., & Lewis, G. (2015). Minimal clinically important difference on the Beck Depression "
                    "Inventory-II according to the patient's perspective. Psychol Med, 45(15), 3269-3279. "
                    "Table 1, GenPod trial, first time point (0-6 weeks), n = 332.",
        "read_at": "Table 1 ('Sample characteristics') as rendered at https://www.ai-bt.com/si.php?db=pubmed&id="
                   "26165748: GenPod, n 332, 'BDI-II at first time point, mean (SD)' 33.4 (9.1). The same "
                   "table gives TREAD 31.8 (9.3), n 288, and CoBalT 31.6 (10.5), n 418.",
        "status": "checked",
    },
    "OQ-45": {
        "instrument": "OQ-45",
        "name": "Outcome Questionnaire-45.2 (US original)",
        "score_range": (0, 180),
        "higher_is_better": False,
        "m_clin": None, "sd_clin": None, "m_func": None, "sd_func": None,
        "reliability": None, "reliability_kind": None,
        "cutoff": None, "cutoff_kind": None,
        "rci": 14.0,
        "rci_kind": "publisher's reliable change index: a change of 14 points or more",
        "severity": None,
        "citation": "Lambert, M. J., et al. (2004). Administration and Scoring Manual for the OQ-45.2. American "
                    "Professional Credentialing Services; RCI as listed by the publisher (OQ Measures).",
        "read_at": "https://www.oqmeasures.com/faqs/ (table of RCIs: OQ-45.2 = 14). The cut-off (63/64) "
                   "and the normative means could not be read here and are left out.",
        "status": "checked",
    },
    "OQ-45-NL": {
        "instrument": "OQ-45-NL",
        "name": "Outcome Questionnaire-45, Dutch version",
        "score_range": (0, 180),
        "higher_is_better": False,
        "m_clin": None, "sd_clin": None, "m_func": None, "sd_func": None,
        "reliability": None, "reliability_kind": None,
        "cutoff": 56.0,
        "cutoff_kind": "Jacobson-Truax cut-off between the normal population (n = 1810) and the patient "
                       "population",
        "rci": 18.0,
        "rci_kind": "Jacobson-Truax reliable change index for the patient population",
        "severity": None,
        "citation": "Timman, R., de Jong, K., & de Neve-Enthoven, N. (2017). Cut-off scores and clinical change "
                    "indices for the Dutch Outcome Questionnaire (OQ-45) in a large sample of normal and several "
                    "psychotherapeutic populations. Clin Psychol Psychother, 24(1), 72-81.",
        "read_at": "abstract: https://repub.eur.nl/pub/108209",
        "status": "checked",
    },
}

_NORM_NUMBERS = ("m_clin", "sd_clin", "m_func", "sd_func", "reliability", "cutoff", "rci")


def norms(instrument: str) -> dict[str, Any]:
    """Published norms of a common instrument, as read in a cited source.

    Returns a copy of the row of :data:`PUBLISHED_NORMS`: the clinical and
    functional means and SDs, the reliability, the published cut-off and
    reliable change index (RCI, in raw points), severity bands, the citation,
    where it was read (``read_at``) and ``status``. Entries that were not read
    in a source are ``None``: the workbook does not fill them from memory.
    To use them, pass ``instrument=`` to :func:`clinical_significance`, which fills
    the arguments you leave empty from the row (and says so in its notes); give the
    ``None`` entries from norms you have read.

    The RCI in raw points relates to the reliability and SD by
    :math:`RCI = 1.96\\,SD\\,\\sqrt{2}\\,\\sqrt{1 - r_{xx}}` (Jacobson & Truax 1991;
    :func:`reliable_change_threshold`); ``rci_kind`` says whether a row's RCI was
    derived that way or is a fixed rule (e.g. IAPT's 6 PHQ-9 points).

    Parameters
    ----------
    instrument : str
        One of ``"PHQ-9"``, ``"PHQ-9-DE-women"``, ``"PHQ-9-DE-men"``, ``"BDI-II"``,
        ``"BDI-II-GenPod"``, ``"OQ-45"``, ``"OQ-45-NL"`` (case and spaces/hyphens/underscores
        ignored, so ``"phq9"`` works).

    Returns
    -------
    dict

    Raises
    ------
    ValueError
        The instrument is not in the table (the message lists those that are).

    References
    ----------
    Jacobson, N. S., & Truax, P. (1991). *J Consult Clin Psychol, 59*(1), 12--19.
    Each row's ``citation``.

    Examples
    --------
    >>> norms("PHQ-9")["severity"][1]
    (10, 'moderate')
    >>> norms("oq45")["rci"]
    14.0
    >>> norms("PHQ-9-DE-women")["m_func"], norms("PHQ-9-DE-women")["sd_func"]
    (3.1, 3.5)
    """
    return _norms_row(instrument, name="instrument")


def _norms_row(instrument: Any, *, name: str) -> dict[str, Any]:
    """Copy of a PUBLISHED_NORMS row, matched ignoring case, spaces, hyphens and underscores."""
    if not isinstance(instrument, str):
        raise ValueError(f"`{name}` must be a string; got {type(instrument).__name__}.")

    def key(s: str) -> str:
        return "".join(ch for ch in s.upper() if ch not in " -_")

    found = [k for k in PUBLISHED_NORMS if key(k) == key(instrument)]
    if not found:
        raise ValueError(
            f"`{name}`: no published norms for {instrument!r} in analysis.change.PUBLISHED_NORMS; "
            f"available: {', '.join(PUBLISHED_NORMS)}. Give the norms you have read in a source to "
            "clinical_significance() directly.")
    return dict(PUBLISHED_NORMS[found[0]])


# --------------------------------------------------------------------------- sudden gains
@dataclass
class SuddenGains(ResultMixin):
    """Result of :func:`sudden_gains`.

    Attributes
    ----------
    gains : pandas.DataFrame
        One row per sudden gain: ``patient``, ``pregain_session`` (n),
        ``postgain_session`` (n+1), ``pregain_score``, ``postgain_score``,
        ``magnitude`` (improvement, positive), ``relative`` (share of the pre-gain
        score), ``mean_pre``, ``mean_post``, ``sd_pooled``, ``n_pre``, ``n_post``,
        ``df``, ``critical``, ``statistic``, ``total_improvement`` (first minus last
        observed score, in the improvement direction), ``share_of_total``
        (``magnitude / total_improvement``), ``reversal``, ``reversal_session``.
    candidates : pandas.DataFrame
        Every pair of sessions tested, with each criterion (``crit1``, ``crit2``,
        ``crit3``) and the reason a pair could not be tested (``note``).
    patients : pandas.DataFrame
        One row per patient: ``n_gains``, ``sudden_gain`` (bool), and the selected
        gain's columns (first or largest, see ``select``).
    settings : dict
    notes : list of str
    """

    _frame_from = ('gains',)

    gains: pd.DataFrame
    candidates: pd.DataFrame
    patients: pd.DataFrame
    settings: dict
    notes: list = field(default_factory=list)

    def summary(self) -> str:
        """Readable account."""
        p = self.patients
        g = self.gains
        what = "loss" if self.settings.get("direction") == "loss" else "gain"
        st = self.settings
        c1 = "not applied" if st["min_gain"] is None else f"{what} >= {st['min_gain']:g} points"
        c2 = "not applied" if st["min_relative"] is None else f">= {st['min_relative']:.0%} of the pre-{what} score"
        lines = [
            f"Sudden {what}es (Tang & DeRubeis 1999)" if what == "loss" else "Sudden gains (Tang & DeRubeis 1999)",
            f"  criteria: 1 {c1}; 2 {c2}; 3 as {st['criterion3']!r}"
            + (f" (alpha {st['alpha']:g})" if st.get("alpha") is not None else ""),
            f"  {len(p)} patients, {int(p['sudden_gain'].sum())} with at least one {what} "
            f"({p['sudden_gain'].mean():.1%}); {len(g)} {what}{'es' if what == 'loss' else 's'} in all",
        ]
        if len(g):
            sel = p[p["sudden_gain"]]
            lines.append(f"  selected {what}{'es' if what == 'loss' else 's'} ({st['select']}): mean magnitude "
                         f"{sel['magnitude'].mean():.2f}, mean share of total "
                         f"{'deterioration' if what == 'loss' else 'improvement'} {sel['share_of_total'].mean():.1%}, "
                         f"reversals {int(sel['reversal'].sum())}")
        lines += [f"  note: {x}" for x in self.notes]
        return "\n".join(lines)


def sudden_gains(
    data: pd.DataFrame,
    *,
    patient: str = "patient",
    session: str = "session",
    score: str = "symptom",
    min_gain: float | None = 7.0,
    min_relative: float | None = 0.25,
    criterion3: str = "suddengains",
    critical_values: dict[int, float] | None = None,
    alpha: float | None = None,
    allow_missing: bool = True,
    skip_missing_sessions: bool = False,
    higher_is_better: bool = False,
    reversal_share: float = 0.5,
    select: str = "first",
    first_session: int | None = None,
    direction: str = "gain",
) -> SuddenGains:
    r"""Identify sudden gains with Tang & DeRubeis's (1999) three criteria.

    For adjacent sessions *n* (pre-gain) and *n+1* (post-gain), with scores where
    lower is better (for ``higher_is_better=True`` the scores are negated first):

    1. :math:`y_n - y_{n+1} \ge` ``min_gain`` (7 BDI points in Tang & DeRubeis);
    2. :math:`(y_n - y_{n+1}) / y_n \ge` ``min_relative`` (25%);
    3. the three pre-gain sessions :math:`n-2, n-1, n` have a higher mean than the
       three post-gain sessions :math:`n+1, n+2, n+3`:

       * ``criterion3="suddengains"`` (default; the form of the suddengains R package,
         Wiedemann et al.): :math:`\bar y_{pre} - \bar y_{post} > t_{crit}\, s_p`;
       * ``criterion3="t_test"`` (a textbook two-sample t statistic):
         :math:`(\bar y_{pre} - \bar y_{post}) / (s_p\sqrt{1/n_{pre} + 1/n_{post}}) > t_{crit}`;

       with the pooled SD
       :math:`s_p = \sqrt{((n_{pre}-1)s^2_{pre} + (n_{post}-1)s^2_{post})/(n_{pre}+n_{post}-2)}`
       and :math:`t_{crit}` = 2.776 (df 4), 3.182 (one value missing on one side,
       df 3) or 4.303 (one missing on both sides, df 2) (Lutz et al. 2013).

    Tang & DeRubeis's wording is that the pre-gain mean is *significantly* higher
    than the post-gain mean; the suddengains form compares the mean difference
    with the critical value times the pooled SD rather than with its standard
    error (it is stricter by the factor :math:`\sqrt{1/3 + 1/3} \approx 0.82`).
    The default follows the package so that results are comparable with the
    literature that uses it; ``"t_test"`` is the literal reading.

    Missing values and short series. Sessions are taken by their number: the
    windows are sessions n−2..n and n+1..n+3 by number, and a session that is
    missing (NaN, no row, or before the first / after the last session) counts as a
    missing value of its window. With ``allow_missing=True`` a window may lack one
    value (the critical value is adjusted); with two or more missing on a side the
    pair is not tested (noted in ``candidates``). With ``allow_missing=False``
    any missing value in a window rules the pair out. Sessions *n* and *n+1*
    must both be observed; with ``skip_missing_sessions=True`` a pair may instead
    span missing sessions (the last observed session before and the next one
    after), a variant some studies use. Ties: criteria 1 and 2 use ``>=``
    (a gain of exactly 7 points and exactly 25% qualifies); criterion 3 uses ``>``.
    A window with zero variance (all equal scores) has :math:`s_p = 0`; then
    criterion 3 holds whenever the pre mean exceeds the post mean.

    Reversals (Tang & DeRubeis 1999): a gain is reversed when a later score returns
    to within ``reversal_share`` (50%) of the gain, i.e. some
    :math:`y_k \ge y_{n+1} + 0.5 (y_n - y_{n+1})`, :math:`k > n+1` (the 50% rule is
    as commonly cited; not read in the original here).

    Several gains per patient are all listed in ``gains``; the per-patient table
    shows the first (``select="first"``, as Tang & DeRubeis) or largest gain.
    ``share_of_total`` divides the gain by the patient's total improvement from
    the first observed score (at or after ``first_session``) to the last observed
    score (NaN when total improvement is not positive).

    Parameters
    ----------
    data : pandas.DataFrame
        Long table, one row per patient and session, sorted by patient and session.
    patient, session, score : str
        Column names.
    min_gain, min_relative : float or None
        Criteria 1 and 2 (7 BDI points and 25% in Tang & DeRubeis; rescale ``min_gain``
        for other instruments, or pass :func:`reliable_change_threshold`'s
        ``threshold`` as Stiles et al. 2003 do). ``None`` switches a criterion off
        (as ``NULL`` does in suddengains).
    criterion3 : {"suddengains", "t_test", "none"}
    critical_values : dict, optional
        Critical values by df; default :data:`CRITICAL_VALUES` (the published
        3-decimal values for alpha = .05).
    alpha : float, optional
        Two-sided level of criterion 3: the critical values become the exact Student
        t quantiles :math:`t_{1-\alpha/2,\,df}` for df 2, 3, 4 (e.g. 4.604, 5.841,
        9.925 at alpha = .01). Give ``alpha`` or ``critical_values``, not both.
    allow_missing, skip_missing_sessions, higher_is_better : bool
    reversal_share : float in (0, 1]
    select : {"first", "largest"}
    first_session : int, optional
        Sessions before this number are ignored (e.g. 1 to leave out an intake at 0).
    direction : {"gain", "loss"}
        ``"loss"`` finds sudden losses (sudden worsening, Lutz et al. 2013) with the
        same three criteria applied in the worse direction; :func:`sudden_losses` is
        the shortcut. Column names keep the "gain" wording; ``magnitude`` is then the
        size of the worsening and ``total_improvement`` the total worsening.

    Returns
    -------
    SuddenGains

    References
    ----------
    Tang, T. Z., & DeRubeis, R. J. (1999). *J Consult Clin Psychol, 67*(6), 894--904.
    Lutz, W., et al. (2013). *Psychotherapy Research, 23*(1), 14--24.

    Examples
    --------
    >>> d = pd.DataFrame({"patient": 1, "session": range(1, 8),
    ...                   "symptom": [30, 29, 31, 18, 17, 16, 15]})
    >>> sg = sudden_gains(d)
    >>> g = sg.gains.iloc[0]
    >>> int(g["pregain_session"]), float(g["magnitude"]), bool(g["reversal"])
    (3, 13.0, False)
    """
    check_choice("criterion3", criterion3, ("suddengains", "t_test", "none"))
    check_choice("select", select, ("first", "largest"))
    check_choice("direction", direction, ("gain", "loss"))
    if min_gain is not None:
        a = as_float_array("min_gain", min_gain)
        if a.size != 1:
            raise ValueError("`min_gain` must be a single number (or None to switch criterion 1 off).")
        check_positive("min_gain", a)
        min_gain = float(a[0])
    if min_relative is not None:
        mr = as_float_array("min_relative", min_relative)
        if mr.size != 1 or not (0 <= mr[0] < 1):
            raise ValueError(f"`min_relative` must be one number in [0, 1) (or None); got {min_relative!r}.")
        min_relative = float(mr[0])
    rs = as_float_array("reversal_share", reversal_share)
    if not (0 < rs[0] <= 1):
        raise ValueError(f"`reversal_share` must lie in (0, 1]; got {reversal_share!r}.")
    if alpha is not None:
        if critical_values is not None:
            raise ValueError("Give `alpha` or `critical_values`, not both.")
        al = as_float_array("alpha", alpha)
        if al.size != 1:
            raise ValueError("`alpha` must be a single number.")
        check_open_interval("alpha", al, 0.0, 1.0)
        alpha = float(al[0])
        critical_values = {k: float(stats.t.ppf(1.0 - alpha / 2.0, k)) for k in (2, 3, 4)}
    cv = dict(CRITICAL_VALUES if critical_values is None else critical_values)
    for k in (2, 3, 4):
        if k not in cv:
            raise ValueError(f"`critical_values` must give values for df 2, 3 and 4; missing df {k}.")
    d = check_long(data, patient, session, [score])
    cand_rows, gain_rows, notes = [], [], []
    if first_session is not None:
        n_before = d["patient"].nunique()
        d = d[d["session"] >= int(first_session)].reset_index(drop=True)
        n_gone = n_before - d["patient"].nunique()
        if n_gone:
            notes.append(f"{n_gone} patients have no session at or after first_session={first_session} "
                         "and are left out")
    # work on scores where a drop is the change sought: improvement for gains, worsening for losses
    sign = (-1.0 if higher_is_better else 1.0) * (-1.0 if direction == "loss" else 1.0)
    pats = []
    for pid, g in d.groupby("patient", sort=False):
        s = g["session"].to_numpy()
        y = sign * g[score].to_numpy()
        ymap = {int(a): b for a, b in zip(s, y) if np.isfinite(b)}
        obs_s = np.array(sorted(ymap))
        pats.append(pid)
        if obs_s.size < 2:
            continue
        first_y, last_y = ymap[obs_s[0]], ymap[obs_s[-1]]
        total = first_y - last_y
        if skip_missing_sessions:
            pairs = list(zip(obs_s[:-1], obs_s[1:]))
        else:
            pairs = [(a, a + 1) for a in obs_s if (a + 1) in ymap]
        for n, n1 in pairs:
            yn, yn1 = ymap[n], ymap[n1]
            gain = yn - yn1
            c1 = True if min_gain is None else gain >= min_gain
            # relative criterion on the original scale: gain / |pre-gain score|
            c2 = True if min_relative is None else bool(yn != 0 and gain / abs(yn) >= min_relative)
            # windows by session number (previous two before n and the two after n1)
            if skip_missing_sessions:
                before = [x for x in obs_s if x < n][-2:]
                after = [x for x in obs_s if x > n1][:2]
                pre_sess = [*before, n]
                post_sess = [n1, *after]
                n_pre_missing = 3 - len(pre_sess)
                n_post_missing = 3 - len(post_sess)
            else:
                pre_sess = [n - 2, n - 1, n]
                post_sess = [n1, n1 + 1, n1 + 2]
                n_pre_missing = sum(x not in ymap for x in pre_sess)
                n_post_missing = sum(x not in ymap for x in post_sess)
            pre_v = np.array([ymap[x] for x in pre_sess if x in ymap])
            post_v = np.array([ymap[x] for x in post_sess if x in ymap])
            note = ""
            c3 = False
            stat = np.nan
            sp = np.nan
            dfree = len(pre_v) + len(post_v) - 2
            crit = np.nan
            if criterion3 == "none":
                c3 = True
            elif n_pre_missing > 1 or n_post_missing > 1:
                note = "criterion 3 not testable: two or more values missing in a window"
            elif not allow_missing and (n_pre_missing or n_post_missing):
                note = "criterion 3 not tested: a value missing in a window (allow_missing=False)"
            else:
                crit = float(cv[dfree])
                ss = ((len(pre_v) - 1) * pre_v.var(ddof=1) + (len(post_v) - 1) * post_v.var(ddof=1))
                sp = math.sqrt(ss / dfree)
                diff = pre_v.mean() - post_v.mean()
                if criterion3 == "suddengains":
                    stat = diff / sp if sp > 0 else (math.inf if diff > 0 else -math.inf if diff < 0 else 0.0)
                else:
                    se = sp * math.sqrt(1 / len(pre_v) + 1 / len(post_v))
                    stat = diff / se if se > 0 else (math.inf if diff > 0 else -math.inf if diff < 0 else 0.0)
                c3 = bool(stat > crit)
            row = dict(patient=pid, pregain_session=int(n), postgain_session=int(n1),
                       pregain_score=sign * yn, postgain_score=sign * yn1, magnitude=gain,
                       relative=gain / abs(yn) if yn != 0 else np.nan,
                       mean_pre=sign * pre_v.mean() if pre_v.size else np.nan,
                       mean_post=sign * post_v.mean() if post_v.size else np.nan,
                       sd_pooled=sp, n_pre=len(pre_v), n_post=len(post_v), df=dfree, critical=crit,
                       statistic=stat, crit1=bool(c1), crit2=bool(c2), crit3=bool(c3), note=note)
            cand_rows.append(row)
            if c1 and c2 and c3:
                later = [x for x in obs_s if x > n1]
                thresh = yn1 + rs[0] * gain
                rev = [x for x in later if ymap[x] >= thresh]
                grow = dict(row)
                grow.update(total_improvement=total,
                            share_of_total=gain / total if total > 0 else np.nan,
                            reversal=bool(rev), reversal_session=int(rev[0]) if rev else -1)
                gain_rows.append(grow)
    gcols = ["patient", "pregain_session", "postgain_session", "pregain_score", "postgain_score", "magnitude",
             "relative", "mean_pre", "mean_post", "sd_pooled", "n_pre", "n_post", "df", "critical", "statistic",
             "total_improvement", "share_of_total", "reversal", "reversal_session"]
    ccols = [c for c in gcols if c not in ("total_improvement", "share_of_total", "reversal",
                                          "reversal_session")] + ["crit1", "crit2", "crit3", "note"]
    cand = _typed(pd.DataFrame(cand_rows, columns=ccols))
    gains = _typed(pd.DataFrame(gain_rows, columns=gcols + ["crit1", "crit2", "crit3", "note"])[gcols])
    n_untestable = int((cand["note"] != "").sum()) if len(cand) else 0
    if n_untestable:
        notes.append(f"{n_untestable} session pairs could not be tested on criterion 3 (missing values; "
                     "see `candidates['note']`)")
    n_short = sum(1 for pid in pats if (d.loc[d["patient"] == pid, score].notna().sum() < 2))
    if n_short:
        notes.append(f"{n_short} patients have fewer than two observed scores (no pair to test)")
    # per-patient table
    if len(gains):
        if select == "first":
            sel = gains.groupby("patient", sort=False).head(1)
        else:
            sel = gains.loc[gains.groupby("patient", sort=False)["magnitude"].idxmax()]
        counts = gains.groupby("patient", sort=False).size()
    else:
        sel = gains
        counts = pd.Series(dtype=int)
    per = pd.DataFrame({"patient": pats})
    per["n_gains"] = per["patient"].map(counts).fillna(0).astype(int)
    per["sudden_gain"] = per["n_gains"] > 0
    per = per.merge(sel, on="patient", how="left")
    per["reversal"] = per["reversal"].astype("boolean")
    settings = dict(min_gain=min_gain, min_relative=min_relative, criterion3=criterion3,
                    critical_values=cv, alpha=alpha, direction=direction, allow_missing=allow_missing,
                    skip_missing_sessions=skip_missing_sessions, higher_is_better=higher_is_better,
                    reversal_share=float(rs[0]), select=select)
    return SuddenGains(gains=gains.reset_index(drop=True), candidates=cand, patients=per,
                       settings=settings, notes=notes)


def sudden_losses(data: pd.DataFrame, **kwargs: Any) -> SuddenGains:
    r"""Identify sudden losses: Tang & DeRubeis's criteria applied to sudden worsening.

    For a symptom scale (lower is better) a sudden loss between sessions *n* and
    *n+1* is a rise :math:`y_{n+1} - y_n \ge` ``min_gain`` that is at least
    ``min_relative`` of :math:`y_n` and whose three post-loss sessions have a
    higher mean than the three pre-loss sessions (criterion 3 as in
    :func:`sudden_gains`). Lutz et al. (2013) identify sudden losses this way, and
    the suddengains package (``identify_sl``) offers the same. Equivalent to
    ``sudden_gains(data, direction="loss", ...)``; all other arguments are those
    of :func:`sudden_gains`.

    Parameters
    ----------
    data : pandas.DataFrame
        Long table, one row per patient and session.
    **kwargs
        Any argument of :func:`sudden_gains` except ``direction``.

    Returns
    -------
    SuddenGains
        ``gains`` lists the losses; ``magnitude`` is the size of the worsening.

    References
    ----------
    Lutz, W., et al. (2013). *Psychotherapy Research, 23*(1), 14--24.
    Tang, T. Z., & DeRubeis, R. J. (1999). *J Consult Clin Psychol, 67*(6), 894--904.

    Examples
    --------
    >>> d = pd.DataFrame({"patient": 1, "session": range(1, 7), "symptom": [5, 6, 7, 16, 12, 14]})
    >>> sl = sudden_losses(d)
    >>> int(sl.gains["pregain_session"].iloc[0]), float(sl.gains["magnitude"].iloc[0])
    (3, 9.0)
    """
    if "direction" in kwargs:
        raise ValueError("`direction` is fixed to 'loss' by sudden_losses(); use sudden_gains() to choose it.")
    import inspect

    known = set(inspect.signature(sudden_gains).parameters) - {"data"}
    unknown = sorted(set(kwargs) - known)
    if unknown:
        raise ValueError(f"sudden_losses() got unknown argument(s) {unknown}.{suggest_name(unknown[0], known)} "
                         f"It takes the arguments of sudden_gains(): {', '.join(sorted(known - {'direction'}))}.")
    return sudden_gains(data, direction="loss", **kwargs)


_INT_COLS = ("pregain_session", "postgain_session", "n_pre", "n_post", "df", "reversal_session")
_BOOL_COLS = ("crit1", "crit2", "crit3", "reversal")
_STR_COLS = ("patient", "note")


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    """Give the sudden-gain tables fixed dtypes, also when they are empty."""
    for c in df.columns:
        if c in _INT_COLS:
            df[c] = df[c].astype(np.int64)
        elif c in _BOOL_COLS:
            df[c] = df[c].astype(bool)
        elif c not in _STR_COLS:
            df[c] = df[c].astype(float)
    return df


# --------------------------------------------------------------------------- ruptures
@dataclass
class RuptureEpisodes(ResultMixin):
    """Result of :func:`rupture_episodes`.

    Attributes
    ----------
    episodes : pandas.DataFrame
        One row per rupture episode: ``patient``, ``onset`` (first session below
        the threshold), ``end`` (last consecutive session below it), ``lowest``
        (lowest score), ``depth_sd`` (patient mean minus lowest score, in the
        patient's SDs), ``repaired`` (bool), ``repair_session`` (−1 if none),
        ``censored`` (not repaired but the window was cut short by the end of the
        series or missing sessions).
    patients : pandas.DataFrame
        One row per patient: ``n_sessions`` (observed), ``mean``, ``sd``,
        ``threshold``, ``n_ruptures``, ``n_repaired``, ``n_unrepaired``,
        ``status`` (``"ok"`` or why the patient was not analysed).
    settings : dict
    notes : list of str
    """

    _frame_from = ('episodes',)

    episodes: pd.DataFrame
    patients: pd.DataFrame
    settings: dict
    notes: list = field(default_factory=list)

    def summary(self) -> str:
        """Readable account."""
        p = self.patients
        ok = p[p["status"] == "ok"]
        e = self.episodes
        s = self.settings
        lines = [
            "Rupture–repair episodes",
            f"  rule: a rupture when the alliance falls more than {s['k']:g} SD below the patient's own mean; "
            f"repaired if it returns to {s['repair_to']!r} within {s['m']} sessions",
            f"  {len(ok)} of {len(p)} patients analysed; {len(e)} episodes in {int((ok['n_ruptures'] > 0).sum())} "
            f"patients; {int(e['repaired'].sum()) if len(e) else 0} repaired, "
            f"{int(e['censored'].sum()) if len(e) else 0} censored",
        ]
        lines += [f"  note: {x}" for x in self.notes]
        return "\n".join(lines)


def rupture_episodes(
    data: pd.DataFrame,
    *,
    patient: str = "patient",
    session: str = "session",
    alliance: str = "alliance",
    k: float = 1.0,
    m: int = 2,
    repair_to: str = "mean",
    min_sessions: int = 4,
) -> RuptureEpisodes:
    r"""Find rupture–repair episodes in session-by-session alliance ratings.

    Rule (parameterised; no single published rule exists). With the patient's own
    mean :math:`\bar A_i` and SD :math:`s_i` (ddof = 1) over their observed sessions,

    * a **rupture** session is one with :math:`A_{it} < \bar A_i - k\, s_i`;
      consecutive rupture sessions (by session number) form one **episode**;
    * the episode is **repaired** if, within the ``m`` sessions after its last
      rupture session, a rating returns to at least :math:`\bar A_i`
      (``repair_to="mean"``) or at least the last rating before the onset
      (``repair_to="pre"``, the V-shape of Stiles et al. 2004);
    * an unrepaired episode is **censored** when the window of ``m`` sessions was
      cut short by the end of the series or by missing ratings.

    Gumz et al. (2012, BMC Med Res Methodol 12:10) review rupture–repair studies
    and report that they used a 2 SD (stricter) or a 1 SD threshold, and that
    Stiles et al. (2004) called their own criterion ad hoc; ``k`` is therefore a
    parameter (default 1; use 2 for the stricter rule). Stiles et al.'s exact
    threshold was not read here.

    Handling: missing ratings are skipped for the mean and SD; a gap in session
    numbers ends an episode (a missing session is not assumed to be a rupture);
    patients with fewer than ``min_sessions`` observed ratings, or with a constant
    series (SD 0, e.g. all ratings tied at the ceiling), are not analysed and get a
    ``status`` saying why. Ties with the threshold are not ruptures (strict ``<``);
    a return exactly to the repair level counts as repair (``>=``).

    Parameters
    ----------
    data : pandas.DataFrame
        Long table sorted by patient and session.
    patient, session, alliance : str
    k : float > 0
    m : int >= 1
    repair_to : {"mean", "pre"}
    min_sessions : int >= 3

    Returns
    -------
    RuptureEpisodes

    References
    ----------
    Gumz, A., et al. (2012). *BMC Med Res Methodol, 12*, 10.
    Stiles, W. B., et al. (2004). *J Counsel Psychol, 51*(1), 81--92.

    Examples
    --------
    >>> d = pd.DataFrame({"patient": 1, "session": range(1, 9),
    ...                   "alliance": [4.0, 4.1, 4.0, 2.9, 4.2, 4.1, 4.0, 4.1]})
    >>> rupture_episodes(d).episodes[["onset", "repaired", "repair_session"]].values.tolist()
    [[4, True, 5]]
    """
    kk = as_float_array("k", k)
    if kk.size != 1:
        raise ValueError(f"`k` must be a single number; got {kk.size} values.")
    check_positive("k", kk)
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
        raise ValueError(f"`m` must be a whole number >= 1; got {m!r}.")
    if isinstance(min_sessions, bool) or not isinstance(min_sessions, (int, np.integer)) or min_sessions < 3:
        raise ValueError(f"`min_sessions` must be a whole number >= 3; got {min_sessions!r}.")
    check_choice("repair_to", repair_to, ("mean", "pre"))
    d = check_long(data, patient, session, [alliance])
    eps, pats = [], []
    for pid, g in d.groupby("patient", sort=False):
        g = g[g[alliance].notna()]
        s = g["session"].to_numpy()
        a = g[alliance].to_numpy()
        n = a.size
        row = dict(patient=pid, n_sessions=n, mean=np.nan, sd=np.nan, threshold=np.nan, n_ruptures=0,
                   n_repaired=0, n_unrepaired=0, status="ok")
        if n < min_sessions:
            row["status"] = f"too short ({n} observed ratings < min_sessions={min_sessions})"
            pats.append(row)
            continue
        amax = float(np.max(np.abs(a)))  # scale first: no overflow or underflow at any magnitude
        mu = float(np.mean(a / amax)) * amax if amax > 0 else 0.0
        sd = float(np.std(a / amax, ddof=1)) * amax if amax > 0 else 0.0
        if sd <= 1e-12 * amax:
            sd = 0.0
        row.update(mean=mu, sd=sd)
        if sd == 0:
            row["status"] = "constant series (SD 0): no ruptures can be defined"
            pats.append(row)
            continue
        thr = mu - float(kk[0]) * sd
        row["threshold"] = thr
        amap = dict(zip(s.tolist(), a.tolist()))
        below = a < thr
        i = 0
        while i < n:
            if not below[i]:
                i += 1
                continue
            j = i
            while j + 1 < n and below[j + 1] and s[j + 1] == s[j] + 1:
                j += 1
            onset, end = int(s[i]), int(s[j])
            lowest = float(a[i:j + 1].min())
            if repair_to == "mean":
                level = mu
            else:
                level = float(a[i - 1]) if i > 0 else mu
            window = range(end + 1, end + m + 1)
            rep = [t for t in window if t in amap and amap[t] >= level]
            repaired = bool(rep)
            last_s = int(s[-1])
            censored = (not repaired) and any((t not in amap) for t in window)
            eps.append(dict(patient=pid, onset=onset, end=end, lowest=lowest, depth_sd=(mu - lowest) / sd,
                            repair_level=level, repaired=repaired, repair_session=int(rep[0]) if rep else -1,
                            censored=bool(censored), at_end=bool(end + m > last_s)))
            row["n_ruptures"] += 1
            row["n_repaired"] += int(repaired)
            row["n_unrepaired"] += int(not repaired)
            i = j + 1
        pats.append(row)
    cols = ["patient", "onset", "end", "lowest", "depth_sd", "repair_level", "repaired", "repair_session",
            "censored", "at_end"]
    episodes = pd.DataFrame(eps, columns=cols)
    patients = pd.DataFrame(pats)
    notes = []
    n_skip = int((patients["status"] != "ok").sum())
    if n_skip:
        notes.append(f"{n_skip} patients not analysed (too short or constant; see `patients['status']`)")
    if len(episodes) and episodes["censored"].any():
        notes.append(f"{int(episodes['censored'].sum())} unrepaired episodes are censored (the repair window "
                     "ran past the last session or over missing ratings)")
    settings = dict(k=float(kk[0]), m=int(m), repair_to=repair_to, min_sessions=int(min_sessions))
    return RuptureEpisodes(episodes=episodes, patients=patients, settings=settings, notes=notes)


@dataclass
class RuptureOutcome(ResultMixin):
    """Result of :func:`rupture_outcome`.

    Attributes
    ----------
    table : pandas.DataFrame
        Regression coefficients indexed by ``term`` (estimate, se, statistic (t), pvalue,
        ci_low, ci_high).
    groups : pandas.DataFrame
        Outcome mean, SD and n per group (``no rupture``, ``all repaired``,
        ``any unrepaired``).
    n : int
        Patients analysed.
    notes : list of str
    """

    _frame_from = ('table',)

    table: pd.DataFrame
    groups: pd.DataFrame
    n: int
    n_obs = property(lambda self: self.n, doc="Number of observations analysed (= ``n``).")
    notes: list = field(default_factory=list)

    def summary(self) -> str:
        """Readable account."""
        return "\n".join(["Ruptures, repairs and outcome (OLS)", self.groups.to_string(),
                          self.table.round(4).to_string()] + [f"note: {x}" for x in self.notes])


def rupture_outcome(
    episodes: RuptureEpisodes,
    outcome: pd.DataFrame,
    *,
    patient: str = "patient",
    outcome_col: str = "change",
    covariates: Sequence[str] = (),
) -> RuptureOutcome:
    r"""Associate rupture–repair patterns with outcome (OLS with classical SEs).

    Each analysed patient is put in one group: *no rupture*, *all repaired* (at
    least one rupture, every one repaired) or *any unrepaired* (censored episodes
    count as unrepaired). The model is

    .. math::

        \text{outcome}_i = \beta_0 + \beta_1\,\text{all repaired}_i
        + \beta_2\,\text{any unrepaired}_i + \gamma^\top \text{covariates}_i + e_i

    fitted with statsmodels OLS; :math:`\beta_1 - \beta_2` contrasts repaired with
    unrepaired ruptures (``repaired_vs_unrepaired`` row). Patients without an
    outcome are dropped and counted in ``notes``. (Eubanks, Muran & Safran 2018
    meta-analysed rupture repair and outcome: r = .29, 11 studies.)

    Parameters
    ----------
    episodes : RuptureEpisodes
    outcome : pandas.DataFrame
        One row per patient with ``patient`` and ``outcome_col`` (and covariates).
    patient, outcome_col : str
    covariates : sequence of str

    Returns
    -------
    RuptureOutcome

    References
    ----------
    Eubanks, C. F., Muran, J. C., & Safran, J. D. (2018). Alliance rupture repair: A
    meta-analysis. *Psychotherapy, 55*(4), 508--519.
    Stiles, W. B., Glick, M. J., Osatuke, K., et al. (2004). Patterns of alliance
    development and the rupture-repair hypothesis. *J Counsel Psychol, 51*(1), 81--92.

    Examples
    --------
    >>> rows = []
    >>> for i, y in enumerate([[4, 4.1, 4, 4.1, 4], [4, 4, 1, 4, 4], [4, 4, 4, 1, 1], [4.1, 4, 4.1, 4, 4.1]]):
    ...     rows += [{"patient": i, "session": t + 1, "alliance": v} for t, v in enumerate(y)]
    >>> eps = rupture_episodes(pd.DataFrame(rows))
    >>> out = pd.DataFrame({"patient": [0, 1, 2, 3], "change": [5.0, 7.0, 2.0, 6.0]})
    >>> ro = rupture_outcome(eps, out)
    >>> round(float(ro.table.loc["all_repaired", "estimate"]), 2)  # 7 - mean(5, 6)
    1.5
    """
    import statsmodels.api as sm

    if not isinstance(episodes, RuptureEpisodes):
        raise ValueError("`episodes` must be the result of rupture_episodes().")
    if isinstance(covariates, str):
        covariates = [covariates]
    if covariates is None:
        covariates = []
    covariates = list(covariates)
    cols = [patient, outcome_col, *covariates]
    if len(set(cols)) != len(cols):
        raise ValueError(f"`patient`, `outcome_col` and `covariates` must name different columns; got {cols}.")
    if not isinstance(outcome, pd.DataFrame):
        raise ValueError("`outcome` must be a DataFrame with one row per patient.")
    miss = [c for c in cols if c not in outcome.columns]
    if miss:
        raise ValueError(f"`outcome` has no column {', '.join(map(repr, miss))}."
                         f"{suggest_name(miss[0], outcome.columns)}")
    dup = outcome[patient].duplicated().to_numpy()
    if dup.any():
        raise ValueError(f"`outcome` has duplicated patients at rows {_rows(dup)} "
                         f"({describe_labels(outcome.index[dup])}).")
    for c in [outcome_col, *covariates]:
        conv = pd.to_numeric(outcome[c], errors="coerce")
        bad = (conv.isna() & outcome[c].notna()).to_numpy()
        if bad.any() or outcome[c].dtype == bool:
            bad = bad if bad.any() else np.ones(len(outcome), bool)
            raise ValueError(f"`outcome` column {c!r} must be numeric; rows {_rows(bad)} "
                             f"({describe_labels(outcome.index[bad])}) are not.")
        inf = np.isinf(conv.to_numpy(dtype=float))
        if inf.any():
            raise ValueError(f"`outcome` column {c!r} has infinite values at rows {_rows(inf)} "
                             f"({describe_labels(outcome.index[inf])}).")
    p = episodes.patients[episodes.patients["status"] == "ok"][["patient", "n_ruptures", "n_unrepaired"]]
    df = p.merge(outcome[cols].rename(columns={patient: "patient"}), on="patient", how="inner")
    notes = []
    n0 = len(df)
    df = df.dropna(subset=[outcome_col, *covariates])
    if len(df) < n0:
        notes.append(f"{n0 - len(df)} patients without outcome or covariates dropped")
    n_nomatch = len(p) - n0
    if n_nomatch:
        notes.append(f"{n_nomatch} analysed patients have no row in `outcome`")
    group = np.where(df["n_ruptures"] == 0, "no rupture", np.where(df["n_unrepaired"] == 0, "all repaired",
                                                                   "any unrepaired"))
    df["group"] = group
    X = pd.DataFrame({"const": 1.0, "all_repaired": (group == "all repaired").astype(float),
                      "any_unrepaired": (group == "any unrepaired").astype(float)}, index=df.index)
    for c in covariates:
        X[c] = pd.to_numeric(df[c]).astype(float)
    empty = [c for c in ("all_repaired", "any_unrepaired") if X[c].sum() == 0]
    if empty:
        raise ValueError(f"No patient in group(s) {', '.join(empty)}: the contrast cannot be estimated.")
    if (X[["all_repaired", "any_unrepaired"]].sum(axis=1) == 0).sum() == 0:
        raise ValueError("No patient without ruptures: the reference group is empty.")
    if len(df) <= X.shape[1]:
        raise ValueError(f"{len(df)} patients for {X.shape[1]} regression coefficients: more parameters than "
                         "observations (no residual degrees of freedom).")
    yv = pd.to_numeric(df[outcome_col]).to_numpy(dtype=float)
    ymax = float(np.max(np.abs(yv)))
    if ymax == 0 or float(np.std(yv / ymax)) <= 1e-12:
        raise ValueError(f"`outcome` column {outcome_col!r} has zero variance among the analysed patients.")
    # fit in units of the largest |outcome| and scale back (results do not depend on the units)
    for c in covariates:
        cmax = float(np.max(np.abs(X[c].to_numpy())))
        if cmax > 0:
            X[c] = X[c] / cmax
    fit = sm.OLS(pd.Series(yv / ymax, index=df.index), X).fit()
    cov_scale = pd.Series(1.0, index=X.columns)
    for c in covariates:
        cmax = float(np.max(np.abs(pd.to_numeric(df[c]).to_numpy(dtype=float))))
        cov_scale[c] = 1.0 / cmax if cmax > 0 else 1.0
    k = ymax * cov_scale
    ci = fit.conf_int()
    tab = pd.DataFrame({"estimate": fit.params * k, "se": fit.bse * k, "statistic": fit.tvalues, "pvalue": fit.pvalues,
                        "ci_low": ci[0] * k, "ci_high": ci[1] * k})
    con = np.zeros(len(X.columns))
    con[1], con[2] = 1, -1
    tt = fit.t_test(con)
    cci = np.asarray(tt.conf_int()).ravel()
    tab.loc["repaired_vs_unrepaired"] = [float(np.squeeze(tt.effect)) * ymax, float(np.squeeze(tt.sd)) * ymax,
                                         float(np.squeeze(tt.tvalue)), float(np.squeeze(tt.pvalue)),
                                         cci[0] * ymax, cci[1] * ymax]
    groups = pd.DataFrame({"y": yv / ymax, "group": df["group"].to_numpy()}).groupby("group")["y"].agg(
        ["mean", "std", "count"]).reindex(["no rupture", "all repaired", "any unrepaired"])
    groups[["mean", "std"]] = groups[["mean", "std"]] * ymax
    groups.index.name = "group"
    return RuptureOutcome(table=tab, groups=groups, n=len(df), notes=notes)
