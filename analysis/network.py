r"""Network meta-analysis: arm-based to contrast-based data, the consistency model, a league
table, the design-by-treatment test of inconsistency and the additive component model.

Model (contrast-based, Higgins & Whitehead, 1996; Salanti et al., 2008). Study :math:`s` has a
baseline arm :math:`b_s` and contrasts :math:`y_{si} = \hat\theta_{s,a_i} - \hat\theta_{s,b_s}`
(each other arm :math:`a_i` against the baseline), with sampling covariance
:math:`S_s`: :math:`\mathrm{Var}(y_{si}) = v_{s,a_i} + v_{s,b_s}` and
:math:`\mathrm{Cov}(y_{si}, y_{sj}) = v_{s,b_s}` (the arms are independent samples). Then

.. math:: y_s = X_s \beta + u_s + e_s,\quad e_s \sim N(0, S_s),\quad
          u_s \sim N(0, \tau^2 R_s),\quad (R_s)_{ij} = 1 \text{ if contrasts } i, j
          \text{ are the same pair of treatments, else } \rho = 1/2,

where row :math:`i` of :math:`X_s` is :math:`e_{a_i} - e_{b_s}` over the treatments other than
the network reference (so :math:`\beta_t` is treatment :math:`t` vs the reference, and
consistency :math:`d_{ab} = \beta_a - \beta_b` holds by construction). This is exactly metafor's

``rma.mv(yi, V, mods = ~ 0 + X, random = ~ comp | study, rho = 1/2)``

(struct ``"CS"`` with rho fixed at 1/2, one common between-study variance tau^2 for every
comparison) fitted to the contrasts of metafor's ``to.wide(arms, study, grp, ref)``.

When the baseline matters. With :math:`\rho = 1/2` and one common :math:`\tau^2`, a study whose
arms are all different treatments has :math:`R_s = \tfrac12(I + 11')`, which is the covariance of
contrasts of independent arm-level random effects (variance :math:`\tau^2/2` each); choosing
another baseline arm is then an invertible linear map of :math:`y_s` with determinant
:math:`\pm 1` that keeps the form of the model, so the likelihood, :math:`\hat\tau^2` and every
treatment contrast are the same whichever arm is the baseline. This
fails for a study with two or more arms of the same treatment (and at least three arms): two
contrasts of the same pair of treatments get correlation 1 in :math:`R_s` instead of 1/2, and
whether two of its contrasts are the same pair depends on the baseline (arms A, B, B: baseline A
gives "B vs A" twice; baseline B gives "A vs B" and "B vs B"); a two-arm study is never
affected. In dat.lopez2019 (16 of 76 studies have such arms) the REML :math:`\hat\tau^2` is
1.568 with to.wide's default (reference F2F CBT, the treatment with most arms; baseline the
*last* F2F CBT arm) but 1.488 with the *first* F2F CBT arm as baseline (``baseline="order"``,
the earlier default of this module), and 1.626 with reference TAU, as in metafor's own example
(there both rules happen to pick baseline arms of the same treatments). With
:math:`\rho \ne 1/2` the baseline matters in every study with three or more arms.
:func:`arm_to_contrast` therefore follows to.wide's rule by default (``baseline="metafor"``),
so that default results equal metafor's; ``baseline="order"`` gives the other rule.

:math:`\hat\beta = (X'W X)^{-1} X'W y`, :math:`W = (S + \tau^2 R)^{-1}` (block diagonal),
:math:`\mathrm{Var}(\hat\beta) = (X'WX)^{-1}`; tau^2 maximises the REML log-likelihood
:math:`-\tfrac12[(k-p)\log 2\pi - \log|X'X| + \log|V| + \log|X'V^{-1}X| + r'V^{-1}r]`
(ML: :math:`-\tfrac12[k \log 2\pi + \log|V| + r'V^{-1}r]`), as metafor does.

Inconsistency: the design-by-treatment interaction model (Higgins et al., 2012; White et al.,
2012) adds one parameter per (design, non-baseline treatment) — a design is the set of
treatments compared in a study — and the Wald test of the added parameters (df = their number
beyond the consistency model's span) tests inconsistency. The random-effects version keeps the
same tau^2 structure and re-estimates tau^2.

Additive component model (Welton et al., 2009; Rücker et al., 2020): each arm is described by
arm-level variables (components, delivery, control type); a contrast's design row is the
difference of its two arms' rows, and the coefficients are each component's added effect.

Written by hand (no Python library fits rma.mv-type models with known sampling covariances):
dense linear algebra on k x k matrices, fine for networks of a few hundred contrasts. tau^2 is
found by a bounded 1-D search (Brent) on the exact log-likelihood, compared with the boundary 0.
Checked against metafor 3.8.1 ``rma.mv`` (tests/oracles/network.R) on dat.lopez2019 and
dat.hasselblad1998 to a relative error of 1e-5.

References
----------
Higgins, J. P. T., & Whitehead, A. (1996). Borrowing strength from external trials in a
    meta-analysis. *Statistics in Medicine, 15*, 2733-2749.
Salanti, G., Higgins, J. P. T., Ades, A. E., & Ioannidis, J. P. A. (2008). Evaluation of networks
    of randomized trials. *Statistical Methods in Medical Research, 17*, 279-301.
Higgins, J. P. T., Jackson, D., Barrett, J. K., Lu, G., Ades, A. E., & White, I. R. (2012).
    Consistency and inconsistency in network meta-analysis: concepts and models for multi-arm
    studies. *Research Synthesis Methods, 3*, 98-110.
White, I. R., Barrett, J. K., Jackson, D., & Higgins, J. P. T. (2012). Consistency and
    inconsistency in network meta-analysis: model estimation using multivariate
    meta-regression. *Research Synthesis Methods, 3*, 111-125.
Welton, N. J., Caldwell, D. M., Adamopoulos, E., & Vedhara, K. (2009). Mixed treatment comparison
    meta-analysis of complex interventions: psychological interventions in coronary heart disease.
    *American Journal of Epidemiology, 169*, 1158-1165.
Rücker, G., Petropoulou, M., & Schwarzer, G. (2020). Network meta-analysis of multicomponent
    interventions. *Biometrical Journal, 62*(3), 808-821.
Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import linalg, optimize, stats

from analysis._checks import check_choice, check_level, check_na_action, describe_labels, first_bad, suggest_name
from analysis._results import ResultMixin, coef_table, plain, tidy

__all__ = [
    "ContrastData",
    "NetworkResult",
    "InconsistencyResult",
    "arm_to_contrast",
    "network_meta_analysis",
    "design_by_treatment",
    "component_model",
]

METHODS = ("REML", "ML", "FE")
#: Rules for the baseline arm of each study in :func:`arm_to_contrast`.
BASELINES = ("metafor", "order")


# ----------------------------------------------------------------------------- data


@dataclass
class ContrastData(ResultMixin):
    """Contrast-based network data made by :func:`arm_to_contrast`.

    ``data`` has one row per contrast (``study``, ``treatment1`` = the arm, ``treatment2`` = the
    study's baseline, ``arm1``/``arm2`` = row positions in the arm data, ``yi``, ``vi``,
    ``design``, ``comp``); ``V`` is the block-diagonal sampling covariance; ``arms`` the arm data
    (kept for component models); ``treatments`` the treatment order (the first is ``reference``,
    the network reference unless another is chosen when fitting); ``baseline`` the rule that
    chose each study's baseline arm ("metafor" or "order").
    """

    _frame_from = ('data',)

    data: pd.DataFrame
    V: np.ndarray = field(repr=False)
    arms: pd.DataFrame = field(repr=False)
    treatments: list[str]
    #: Arm rows (index labels of the arm data) dropped by ``na_action="omit"``.
    dropped: list = field(default_factory=list)
    #: The reference treatment (to.wide's ``ref``; first of ``treatments``).
    reference: str | None = None
    #: The baseline rule used ("metafor" = to.wide's, or "order").
    baseline: str = "metafor"

    @property
    def k(self) -> int:
        """Number of contrasts."""
        return len(self.data)

    def summary(self) -> str:
        """Counts of studies, arms, contrasts and designs."""
        d = self.data
        note = (f"; {len(self.dropped)} arm rows omitted because of missing values (na_action='omit'): "
                f"{describe_labels(self.dropped)}" if self.dropped else "")
        return (f"Contrast-based network: {d['study'].nunique()} studies, {len(self.arms)} arms, {self.k} contrasts, "
                f"{d['design'].nunique()} designs; treatments: {', '.join(self.treatments)}; "
                f"reference {self.reference}, baseline rule {self.baseline!r}{note}")

    def __repr__(self) -> str:
        return self.summary()


def _col(data: pd.DataFrame, arg: str, name: str) -> pd.Series:
    if not isinstance(name, str) or name not in data.columns:
        raise ValueError(f"`{arg}`: column {name!r} is not in `arms`.{suggest_name(name, data.columns)} "
                         f"Its columns are: {', '.join(map(str, list(data.columns)[:20]))}.")
    return data[name]


def _omit_incomplete(arms: pd.DataFrame, cols: list[str], study: str, na_action: str) -> tuple[pd.DataFrame, list]:
    """metafor-style na.action on arm rows: refuse, or drop rows with missing values (and then studies
    left with a single arm), warning with their index labels."""
    miss = arms[cols].isna().any(axis=1).to_numpy()
    if not miss.any() or na_action == "fail":  # "fail": the column checks below refuse them
        return arms, []
    labels = list(arms.index[miss])
    what = describe_labels(labels, what="index label" if len(labels) == 1 else "index labels")
    bad_cols = [c for c in cols if arms[c].isna().any()]
    kept = arms.loc[~miss]
    sizes = kept.groupby(study, sort=False)[study].transform("size").to_numpy()
    lone = list(kept.index[sizes < 2])
    extra = f"; then {describe_labels(lone)}, the only arm left in its study" if lone else ""
    warnings.warn(f"na_action='omit': dropped {int(miss.sum())} arm rows with missing values in "
                  f"{', '.join(map(repr, bad_cols))} ({what}){extra}.", UserWarning, stacklevel=3)
    return kept.loc[sizes >= 2], labels + lone


def _levels(col: pd.Series) -> list:
    """Distinct labels in R's level order: a categorical's categories (those present), else the
    sorted values (numbers numerically; mixed types as strings), as ``factor()``/``sort()`` do."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        present = set(col.dropna().unique())
        return [c for c in col.cat.categories if c in present]
    uniq = list(pd.unique(col.to_numpy()))
    try:
        return sorted(uniq)
    except TypeError:
        return sorted(uniq, key=str)


def arm_to_contrast(
    arms: pd.DataFrame,
    *,
    study: str = "study",
    treatment: str = "treatment",
    yi: str = "yi",
    vi: str | None = None,
    sei: str | None = None,
    order: Sequence[str] | None = None,
    reference: str | None = None,
    baseline: str = "metafor",
    na_action: str = "fail",
) -> ContrastData:
    r"""Turn arm-level estimates into contrasts against each study's baseline arm, with their covariance.

    In study :math:`s` with baseline arm :math:`b_s`, every other arm :math:`a` gives
    :math:`y = \hat\theta_a - \hat\theta_{b_s}` with :math:`\mathrm{Var} = v_a + v_{b_s}`, and two
    contrasts of the same study have :math:`\mathrm{Cov} = v_{b_s}` (arms are independent
    samples; Salanti et al., 2008). A study with two arms of the same treatment gives a contrast
    of that treatment against itself (it informs tau^2 and component models).

    The baseline arm (``baseline="metafor"``, the default) is the one metafor's
    ``to.wide(arms, study, grp = treatment, ref = reference)`` picks: the treatment levels
    (a categorical's categories, else the sorted labels) are put in order with ``reference``
    moved to the end, the arms of a study are sorted by level and, within a level, by data order,
    and the last arm is the baseline — the *last* arm (in data order) of ``reference`` when the
    study has it, otherwise the last arm of its last treatment in level order. The other arms
    give the contrasts in that sorted order, and studies come in sorted order of their labels
    (as in ``to.wide``; R sorts character labels in the locale's collation, the same as Python's
    in the C locale). ``order`` does not change this rule (as in ``to.wide``, pass a pandas
    Categorical to set the levels). ``baseline="order"`` is the other rule: the baseline is the
    *first* arm (in data order) of the earliest treatment of ``[reference] + order`` present in
    the study, the contrasts follow data order, and studies their first appearance.

    The rule matters only for studies with two or more arms of the same treatment (and at least
    three arms): otherwise, with ``rho = 1/2`` and one common tau^2, every fit of this module is
    the same whichever arm is the baseline (see the module docstring). With the default, results
    equal metafor's ``rma.mv`` on ``to.wide``'s contrasts.

    Parameters
    ----------
    arms : DataFrame
        One row per arm.
    study, treatment, yi : str
        Columns: study label, treatment label, arm-level estimate (e.g. a standardized mean
        change or a log odds).
    vi, sei : str
        Column of the arm-level sampling variance, or of its standard error (give one).
    order : sequence of str, optional
        Treatment order of ``treatments`` (coefficients, league table; default: the levels of
        the treatment column). Must list every treatment. Its first treatment is the default
        ``reference``.
    reference : str, optional
        Reference treatment: to.wide's ``ref`` and the default network reference of the fits.
        Default: the first of ``order`` if given, else to.wide's default, the treatment with the
        most arms (ties: the first in level order).
    baseline : {"metafor", "order"}
        Rule for each study's baseline arm (above).
    na_action : {"fail", "omit"}
        Arms with missing values (NaN/None) in the study, treatment, estimate or variance
        columns: refuse them, listing their index labels (default), or drop them with a
        UserWarning (and then any study left with one arm); recorded in ``dropped``.

    Returns
    -------
    ContrastData

    References
    ----------
    Salanti, G., Higgins, J. P. T., Ades, A. E., & Ioannidis, J. P. A. (2008). Evaluation of networks
    of randomized trials. *Statistical Methods in Medical Research, 17*, 279-301.
    White, I. R., Barrett, J. K., Jackson, D., & Higgins, J. P. T. (2012). Consistency and
    inconsistency in network meta-analysis: model estimation using multivariate
    meta-regression. *Research Synthesis Methods, 3*, 111-125.
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package. *Journal of
    Statistical Software, 36*(3), 1-48 (``to.wide``).

    Examples
    --------
    >>> arms = pd.DataFrame({"study": [1, 1, 1, 2, 2], "treatment": ["A", "B", "C", "A", "B"],
    ...                      "yi": [0.0, 0.5, 0.8, 0.1, 0.4], "vi": [0.1, 0.2, 0.2, 0.1, 0.1]})
    >>> cd = arm_to_contrast(arms, vi="vi")
    >>> cd.reference, cd.data[["treatment1", "treatment2", "yi"]].to_dict("list")
    ('A', {'treatment1': ['B', 'C', 'B'], 'treatment2': ['A', 'A', 'A'], 'yi': [0.5, 0.8, 0.30000000000000004]})
    >>> float(cd.V[0, 1])   # the shared baseline variance
    0.1

    Two arms of B: to.wide's baseline is the last arm of the reference (or, without it, of the
    last treatment); ``baseline="order"`` takes the first arm of the first treatment of the order.

    >>> arms = pd.DataFrame({"study": [1, 1, 1], "treatment": ["B", "A", "B"], "yi": [0.5, 0.0, 0.7],
    ...                      "vi": [0.1, 0.1, 0.1]})
    >>> arm_to_contrast(arms, vi="vi", reference="A").data["comp"].tolist()
    ['B vs A', 'B vs A']
    >>> cols = ["comp", "arm1", "arm2"]
    >>> arm_to_contrast(arms, vi="vi").data[cols].to_dict("list")   # default reference: B (most arms)
    {'comp': ['A vs B', 'B vs B'], 'arm1': [1, 0], 'arm2': [2, 2]}
    >>> arm_to_contrast(arms, vi="vi", reference="B", baseline="order").data[cols].to_dict("list")
    {'comp': ['A vs B', 'B vs B'], 'arm1': [1, 2], 'arm2': [0, 0]}
    """
    if not isinstance(arms, pd.DataFrame):
        raise ValueError("`arms` must be a pandas DataFrame with one row per arm.")
    na_action = check_na_action(na_action)
    if not isinstance(baseline, str):
        raise ValueError(f"`baseline` must be one of {', '.join(map(repr, BASELINES))}; got {baseline!r}.")
    if baseline not in BASELINES:
        raise ValueError(f"`baseline` must be one of {', '.join(map(repr, BASELINES))}; got {baseline!r}."
                         f"{suggest_name(baseline, BASELINES)}")
    if reference is not None and (isinstance(reference, bool)
                                  or not isinstance(reference, (str, int, float, np.integer, np.floating))):
        raise ValueError(f"`reference` must be one treatment label (a string); got {reference!r}.")
    if order is not None and (isinstance(order, (str, bytes, dict)) or not hasattr(order, "__iter__")):
        raise ValueError(f"`order` must be a list of treatment labels; got {order!r}.")
    if (vi is None) == (sei is None):
        raise ValueError("Give exactly one of `vi` (variance column) or `sei` (standard-error column).")
    names = {"study": study, "treatment": treatment, "yi": yi, "vi" if vi is not None else "sei": vi or sei}
    for arg, col in names.items():
        _col(arms, arg, col)
    arms, dropped = _omit_incomplete(arms, list(names.values()), study, na_action)
    if len(arms) == 0:
        raise ValueError("`arms` has no rows" + (" left after dropping missing values." if dropped else "."))
    s = _col(arms, "study", study)
    t = _col(arms, "treatment", treatment)
    y = pd.to_numeric(_col(arms, "yi", yi), errors="coerce").to_numpy(dtype=float)
    if vi is not None:
        v = pd.to_numeric(_col(arms, "vi", vi), errors="coerce").to_numpy(dtype=float)
        vname = vi
    else:
        v = pd.to_numeric(_col(arms, "sei", sei), errors="coerce").to_numpy(dtype=float) ** 2
        vname = sei
    for name, col, arr in (("yi", yi, y), ("vi" if vi else "sei", vname, v)):
        bad = ~np.isfinite(arr)
        if bad.any():
            raise ValueError(f"`{name}`: column {col!r} has missing or non-finite values at {first_bad(bad)} "
                             f"(index labels {', '.join(map(str, list(arms.index[bad])[:5]))}). Remove these arms "
                             "or, for missing values, pass na_action='omit' to drop them.")
    if (v <= 0).any():
        raise ValueError(f"Column {vname!r} must be positive (sampling variances/SEs); not at {first_bad(v <= 0)}.")
    for name, col in (("study", s), ("treatment", t)):
        if col.isna().any():
            raise ValueError(f"`{name}`: column {col.name!r} has missing labels at {first_bad(col.isna().to_numpy())}"
                             " (pass na_action='omit' to drop these arms).")
    tl = t.astype(str).to_numpy()
    # treatment levels as R's factor() would make them (categories, or sorted labels)
    levels = list(dict.fromkeys(str(x) for x in _levels(t)))
    present = set(levels)
    order_given = order is not None
    if not order_given:
        order = levels
    else:
        order = [str(o) for o in order]
        missing = sorted(set(levels) - set(order))
        if missing:
            raise ValueError(f"`order` does not list the treatments {missing}.")
        if len(set(order)) != len(order):
            raise ValueError("`order` lists a treatment twice.")
        order = [o for o in order if o in present]
    if reference is None and order_given:
        reference = order[0]
    elif reference is None:  # to.wide's default: the treatment with the most arms (ties: first level)
        counts = pd.Series(tl).value_counts()
        reference = next(lv for lv in levels if counts.get(lv, 0) == counts.max())
    else:
        reference = str(reference)
        if reference not in present:
            raise ValueError(f"`reference` {reference!r} is not a treatment of `arms` ({levels})."
                             f"{suggest_name(reference, levels)}")
    treatments = [reference] + [o for o in order if o != reference]
    sv = s.to_numpy()
    if baseline == "metafor":
        rank = {lv: i for i, lv in enumerate([lv for lv in levels if lv != reference] + [reference])}
        study_order = _levels(s)
    else:
        rank = {lv: i for i, lv in enumerate(treatments)}
        study_order = list(pd.unique(sv))
    rows, blocks = [], []
    for st in study_order:
        idx = np.flatnonzero(sv == st)
        if idx.size < 2:
            lab = st.item() if isinstance(st, np.generic) else st
            raise ValueError(f"Study {lab!r} has only one arm (row {idx[0]}); a contrast needs two.")
        if baseline == "metafor":  # to.wide: sort by level, then data order; the last arm is the baseline
            srt = sorted(idx, key=lambda i: (rank[tl[i]], i))
            base, others = srt[-1], srt[:-1]
        else:  # first arm of the earliest treatment of [reference] + order; contrasts in data order
            base = min(idx, key=lambda i: (rank[tl[i]], i))
            others = [i for i in idx if i != base]
        design = ":".join(sorted(set(tl[idx])))
        for i in others:
            rows.append({"study": st, "treatment1": tl[i], "treatment2": tl[base], "arm1": int(i), "arm2": int(base),
                         "yi": y[i] - y[base], "vi": v[i] + v[base], "design": design,
                         "comp": f"{tl[i]} vs {tl[base]}"})
        b = np.full((len(others), len(others)), v[base])
        b[np.diag_indices_from(b)] = v[others] + v[base]
        blocks.append(b)
    d = pd.DataFrame(rows)
    return ContrastData(data=d, V=linalg.block_diag(*blocks), arms=arms.reset_index(drop=True), treatments=treatments,
                        dropped=dropped, reference=reference, baseline=baseline)


# ---------------------------------------------------------------------------- fitting


def _random_structure(d: pd.DataFrame, rho: float) -> np.ndarray:
    """R (k x k): 1 for the same study and contrast, rho for the same study and another contrast."""
    st = d["study"].to_numpy()
    cp = d["comp"].to_numpy()
    same_s = st[:, None] == st[None, :]
    same_c = cp[:, None] == cp[None, :]
    return np.where(same_s & same_c, 1.0, np.where(same_s, rho, 0.0))


def _gls(y: np.ndarray, X: np.ndarray, Vt: np.ndarray) -> dict[str, Any]:
    c = linalg.cho_factor(Vt, lower=True)
    Wi_X = linalg.cho_solve(c, X)
    Wi_y = linalg.cho_solve(c, y)
    XtWX = X.T @ Wi_X
    vb = np.linalg.inv(XtWX)
    beta = vb @ (X.T @ Wi_y)
    r = y - X @ beta
    rWr = float(r @ linalg.cho_solve(c, r))
    logdetV = 2.0 * float(np.sum(np.log(np.diag(c[0]))))
    return {"beta": beta, "vcov": vb, "rWr": rWr, "logdetV": logdetV, "logdetXWX": float(np.linalg.slogdet(XtWX)[1])}


def _loglik(tau2: float, y, X, S, R, method: str) -> float:
    g = _gls(y, X, S + tau2 * R)
    k, p = X.shape
    if method == "ML":
        return -0.5 * (k * math.log(2 * math.pi) + g["logdetV"] + g["rWr"])
    return -0.5 * ((k - p) * math.log(2 * math.pi) - np.linalg.slogdet(X.T @ X)[1] + g["logdetV"] + g["logdetXWX"]
                   + g["rWr"])


def _estimate_tau2(y, X, S, R, method: str) -> tuple[float, float, bool]:
    """Maximise the (RE)ML log-likelihood over tau^2 >= 0: Brent on tau = sqrt(tau^2), then a check of 0."""
    def nll(tau):
        return -_loglik(tau * tau, y, X, S, R, method)
    scale = max(float(np.var(y)), float(np.mean(np.diag(S))), 1e-8)
    hi = math.sqrt(100.0 * scale)
    grid = np.linspace(0.0, hi, 41)
    vals = [nll(t) for t in grid]
    j = int(np.argmin(vals))
    lo_b, hi_b = grid[max(j - 1, 0)], grid[min(j + 1, len(grid) - 1)]
    res = optimize.minimize_scalar(nll, bounds=(lo_b, hi_b), method="bounded",
                                   options={"xatol": 1e-13, "maxiter": 10000})
    tau = float(res.x)
    at_bound = j == len(grid) - 1 and hi_b - tau < 1e-6
    if nll(0.0) <= res.fun:
        tau = 0.0
    return tau * tau, -nll(tau), at_bound


@dataclass
class NetworkResult:
    """Results of :func:`network_meta_analysis` / :func:`component_model`.

    ``beta``/``vcov`` are the coefficients (treatment vs ``reference``, or component effects) in
    ``coef_names`` order; ``tau2`` the common between-study variance; ``q``/``q_df`` the test of
    residual heterogeneity (Q_E = r'S^{-1}r from the fixed-effect GLS fit, as metafor's QE);
    ``qm``/``qm_df`` the omnibus Wald test of all coefficients; ``loglik`` the (RE)ML
    log-likelihood (metafor's ``logLik``).
    """

    method: str
    reference: str | None
    coef_names: list[str]
    beta: np.ndarray
    vcov: np.ndarray
    tau2: float
    loglik: float
    q: float
    q_df: int
    qm: float
    qm_df: int
    k: int
    level: float
    contrasts: ContrastData = field(repr=False)
    X: np.ndarray = field(repr=False)
    converged: bool = True

    @property
    def se(self) -> np.ndarray:
        """Standard errors of the coefficients."""
        return np.sqrt(np.diag(self.vcov))

    @property
    def q_pvalue(self) -> float:
        """p-value of Q_E (chi-square, k - p df)."""
        return float(stats.chi2.sf(self.q, self.q_df))

    @property
    def qm_pvalue(self) -> float:
        """p-value of QM."""
        return float(stats.chi2.sf(self.qm, self.qm_df))

    @property
    def coefficients(self) -> pd.DataFrame:
        """Coefficient table indexed by ``term``: estimate, se, statistic (z), pvalue, ci_low, ci_high (Wald)."""
        z = stats.norm.ppf(0.5 + self.level / 2)
        se = self.se
        return coef_table(self.coef_names, self.beta, se, self.beta / se, 2 * stats.norm.sf(np.abs(self.beta / se)),
                          self.beta - z * se, self.beta + z * se)

    def to_frame(self) -> pd.DataFrame:
        """Tidy coefficient table: term, estimate, se, statistic, pvalue, ci_low, ci_high."""
        return tidy(self.coefficients)

    def to_dict(self) -> dict:
        """Plain Python (JSON-serialisable): coefficients, heterogeneity and tests."""
        return plain({"method": self.method, "reference": self.reference, "level": self.level,
                      "n_studies": self.k, "coefficients": self.to_frame(), "tau2": self.tau2,
                      "loglik": self.loglik, "q": self.q, "q_df": self.q_df, "qm": self.qm, "qm_df": self.qm_df,
                      "qm_pvalue": self.qm_pvalue, "converged": self.converged})

    @property
    def n_studies(self) -> int:
        """Number of contrasts (rows) in the fit, metafor's k."""
        return self.k

    def contrast(self, a: str, b: str) -> dict[str, float]:
        """Estimate of treatment ``a`` vs ``b`` (b_a - b_b) with se and CI (consistency model only)."""
        if self.reference is None:
            raise ValueError("`contrast` needs a treatment network fit (network_meta_analysis), not a component model.")
        trts = [self.reference] + self.coef_names
        for nm, v in (("a", a), ("b", b)):
            if v not in trts:
                raise ValueError(f"`{nm}`: treatment {v!r} is not in the network ({trts}).{suggest_name(v, trts)}")
        c = np.array([(n == a) - (n == b) for n in self.coef_names], dtype=float)
        est = float(c @ self.beta)
        se = float(math.sqrt(c @ self.vcov @ c))
        z = stats.norm.ppf(0.5 + self.level / 2)
        return {"estimate": est, "se": se, "ci_low": est - z * se, "ci_high": est + z * se,
                "pvalue": float(2 * stats.norm.sf(abs(est / se))) if se > 0 else float("nan")}

    def league_table(self, *, long: bool = False, digits: int = 2) -> pd.DataFrame:
        """All pairwise contrasts: cell (row a, column b) is a vs b, estimate [CI].

        With ``long=True`` a tidy table (treatment1, treatment2, estimate, se, ci_low, ci_high, pvalue).
        """
        trts = self.contrasts.treatments if self.reference is None else (
            [self.reference] + [n for n in self.coef_names])
        rows = [{"treatment1": a, "treatment2": b, **self.contrast(a, b)} for a in trts for b in trts if a != b]
        tab = pd.DataFrame(rows)
        if long:
            return tab
        out = pd.DataFrame("", index=trts, columns=trts)
        for r in tab.itertuples():
            out.loc[r.treatment1, r.treatment2] = (f"{r.estimate:.{digits}f} [{r.ci_low:.{digits}f}, "
                                                   f"{r.ci_high:.{digits}f}]")
        for t in trts:
            out.loc[t, t] = t
        return out

    def summary(self) -> str:
        """Text summary: model, tau^2, heterogeneity, coefficient table."""
        what = "Network meta-analysis (consistency model)" if self.reference else "Additive component model"
        lines = [f"{what}, k = {self.k} contrasts from {self.contrasts.data['study'].nunique()} studies; "
                 f"method {self.method}" + (f"; reference: {self.reference}" if self.reference else ""),
                 f"tau^2 (common, rho = 1/2) = {self.tau2:.4f} (tau = {math.sqrt(self.tau2):.4f}); "
                 f"log-likelihood = {self.loglik:.4f}",
                 f"Test for residual heterogeneity: QE(df = {self.q_df}) = {self.q:.4f}, p = {self.q_pvalue:.4g}",
                 f"Test of coefficients: QM(df = {self.qm_df}) = {self.qm:.4f}, p = {self.qm_pvalue:.4g}", "",
                 self.coefficients.to_string(float_format=lambda x: f"{x:.4f}")]
        return "\n".join(lines) + "\n"

    def apa(self) -> str:
        """One-sentence report of the fit."""
        return (f"A random-effects network meta-analysis ({self.method}, common tau^2 = {self.tau2:.3f}) of k = {self.k} "
                f"contrasts from {self.contrasts.data['study'].nunique()} studies; residual heterogeneity "
                f"QE({self.q_df}) = {self.q:.2f}, p {'< .001' if self.q_pvalue < 0.001 else f'= {self.q_pvalue:.3f}'.replace('0.', '.')}.")

    def __repr__(self) -> str:
        return self.summary()


def _fit(cd: ContrastData, X: np.ndarray, names: list[str], method: str, rho: float, level: float,
         reference: str | None) -> NetworkResult:
    y0 = cd.data["yi"].to_numpy(dtype=float)
    # data in extreme units (median sampling variance outside 2^+-30, about 1e-9..1e9) are fitted on
    # y / 2^e, S / 4^e with that median near 1 (exact powers of two), so that tau^2 scales by 4^e and
    # z, p, Q do not depend on the units of the data
    from analysis.meta import _scale_exponent

    e = _scale_exponent(np.diag(cd.V))
    if abs(e) <= 15:  # ordinary units (median variance within 2^+-30): fitted as given
        e = 0
    y, S = np.ldexp(y0, -e), np.ldexp(cd.V, -2 * e)
    k, p = X.shape
    top = np.max(np.abs(X), axis=0)
    if np.linalg.matrix_rank(X / np.where(top > 0, top, 1.0)) < p:
        raise ValueError(f"The design is singular: the network does not identify all of {names} "
                         "(a disconnected network, or a component that never varies within a contrast).")
    if k <= p and method != "FE":
        raise ValueError(f"A random-effects network needs more contrasts than coefficients (k = {k}, p = {p}).")
    R = _random_structure(cd.data, rho)
    if method == "FE":
        tau2, ok = 0.0, True
        ll = _loglik(0.0, y, X, S, R, "ML")
    else:
        tau2, ll, at_bound = _estimate_tau2(y, X, S, R, method)
        ok = not at_bound
    g = _gls(y, X, S + tau2 * R)
    g0 = _gls(y, X, S)
    qm = float(g["beta"] @ np.linalg.solve(g["vcov"], g["beta"]))
    # back to the data's units; the (RE)ML log-likelihood drops by (k - p) e log 2 (REML) or k e log 2
    ll -= (k if method in ("ML", "FE") else k - p) * e * math.log(2.0)
    return NetworkResult(method=method, reference=reference, coef_names=names, beta=np.ldexp(g["beta"], e),
                         vcov=np.ldexp(g["vcov"], 2 * e), tau2=float(np.ldexp(tau2, 2 * e)), loglik=ll, q=g0["rWr"],
                         q_df=k - p, qm=qm, qm_df=p, k=k, level=level, contrasts=cd, X=X, converged=ok)


def _check_common(cd: Any, method: str, rho: float, level: float) -> str:
    if not isinstance(cd, ContrastData):
        raise ValueError("`contrasts` must be a ContrastData from arm_to_contrast().")
    method = check_choice("method", method, METHODS)
    if isinstance(rho, bool) or not (isinstance(rho, (int, float)) and 0 <= rho < 1):
        raise ValueError(f"`rho` must be in [0, 1); got {rho!r}.")
    check_level("level", level)
    return method


def _treatment_design(cd: ContrastData, reference: str) -> tuple[np.ndarray, list[str]]:
    others = [t for t in cd.treatments if t != reference]
    if not others:
        raise ValueError(f"`contrasts` has one treatment only ({reference!r}; every study compares arms of it): "
                         "a network needs two or more treatments.")
    d = cd.data
    X = np.column_stack([(d["treatment1"] == t).to_numpy(float) - (d["treatment2"] == t).to_numpy(float)
                         for t in others])
    return X, others


def network_meta_analysis(
    contrasts: ContrastData,
    *,
    reference: str | None = None,
    method: str = "REML",
    rho: float = 0.5,
    level: float = 0.95,
) -> NetworkResult:
    r"""Random-effects network meta-analysis under consistency (metafor ``rma.mv`` with ``rho = 1/2``).

    The model and estimator are in the module docstring: :math:`y = X\beta + u + e`,
    :math:`e \sim N(0, S)`, :math:`u \sim N(0, \tau^2 R)` with :math:`R_{ij} = 1` for the same
    study and contrast, :math:`\rho` (1/2) for the same study and another contrast;
    :math:`\beta_t` = treatment t vs ``reference``. metafor equivalent:
    ``rma.mv(yi, V, mods = ~ 0 + X, random = ~ comp | study, rho = 1/2, method = method)``.

    Parameters
    ----------
    contrasts : ContrastData
        From :func:`arm_to_contrast`.
    reference : str, optional
        Network reference treatment (default: ``contrasts.reference``, the first of
        ``contrasts.treatments``). It only re-expresses the same fit; the baseline arms were
        chosen by :func:`arm_to_contrast`.
    method : {"REML", "ML", "FE"}
        Estimator of tau^2 ("FE": tau^2 = 0, common-effect network).
    rho : float
        Correlation of random effects of different contrasts within a study (1/2 gives one
        common tau^2 for every comparison).
    level : float

    Returns
    -------
    NetworkResult
        With ``coefficients``, ``contrast(a, b)``, ``league_table()``, ``summary()``, ``apa()``.

    References
    ----------
    Salanti et al. (2008); Viechtbauer (2010); see the module docstring.

    Examples
    --------
    >>> arms = pd.DataFrame({"study": [1, 1, 2, 2, 3, 3, 4, 4, 4],
    ...                      "treatment": ["A", "B", "A", "C", "B", "C", "A", "B", "C"],
    ...                      "yi": [0, .5, 0, .9, 0, .3, 0, .6, 1.0], "vi": [.05] * 9})
    >>> res = network_meta_analysis(arm_to_contrast(arms, vi="vi"))
    >>> res.coef_names
    ['B', 'C']
    """
    method = _check_common(contrasts, method, rho, level)
    reference = contrasts.treatments[0] if reference is None else str(reference)
    if reference not in contrasts.treatments:
        raise ValueError(f"`reference` {reference!r} is not a treatment of the network "
                         f"({contrasts.treatments}).{suggest_name(reference, contrasts.treatments)}")
    X, names = _treatment_design(contrasts, reference)
    return _fit(contrasts, X, names, method, float(rho), float(level), reference)


@dataclass
class InconsistencyResult(ResultMixin):
    """Design-by-treatment interaction test (:func:`design_by_treatment`)."""

    qm: float
    df: int
    pvalue: float
    tau2: float
    loglik: float
    method: str
    consistency: NetworkResult = field(repr=False)
    columns: list[str] = field(repr=False)

    def summary(self) -> str:
        """The Wald test of inconsistency, with tau^2 under both models."""
        return (f"Design-by-treatment interaction ({self.method}): chi2({self.df}) = {self.qm:.4f}, "
                f"p = {self.pvalue:.4g}; tau^2 {self.consistency.tau2:.4f} (consistency) vs {self.tau2:.4f} "
                "(inconsistency model)")

    def apa(self) -> str:
        """One-line report."""
        p = "< .001" if self.pvalue < 0.001 else f"= {self.pvalue:.3f}".replace("0.", ".")
        return f"Design-by-treatment test of inconsistency: \u03c7\u00b2({self.df}) = {self.qm:.2f}, p {p}."

    def __repr__(self) -> str:
        return self.summary()


def design_by_treatment(
    contrasts: ContrastData, *, reference: str | None = None, method: str = "REML", rho: float = 0.5,
) -> InconsistencyResult:
    r"""Design-by-treatment interaction test of inconsistency (Higgins et al., 2012).

    Adds to the consistency design :math:`X` one indicator per (design, non-baseline treatment)
    — :math:`Z`, scanned left to right and kept when it adds rank to :math:`[X, Z_{kept}]` — and
    fits :math:`y = X\beta + Z\omega + u + e` with the same random-effects structure (tau^2
    re-estimated). The test is the Wald statistic :math:`\hat\omega' \mathrm{Var}(\hat\omega)^{-1}
    \hat\omega \sim \chi^2_{\dim\omega}` (metafor: ``anova(rma.mv(yi, V, mods = ~ 0 + X + Z,
    ...), btt = <Z columns>)``). The statistic does not depend on which basis of the extra
    columns is kept. With ``method="FE"`` it is the fixed-effect Q for inconsistency.

    Parameters
    ----------
    contrasts : ContrastData
    reference, method, rho : as in :func:`network_meta_analysis`

    Returns
    -------
    InconsistencyResult

    References
    ----------
    Higgins, J. P. T., Jackson, D., Barrett, J. K., Lu, G., Ades, A. E., & White, I. R. (2012).
    Consistency and inconsistency in network meta-analysis: concepts and models for multi-arm
    studies. *Research Synthesis Methods, 3*, 98-110.
    White, I. R., Barrett, J. K., Jackson, D., & Higgins, J. P. T. (2012). Consistency and
    inconsistency in network meta-analysis: model estimation using multivariate
    meta-regression. *Research Synthesis Methods, 3*, 111-125.
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package. *Journal of
    Statistical Software, 36*(3), 1-48.

    Examples
    --------
    >>> arms = pd.DataFrame({"study": [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6],
    ...                      "treatment": ["A", "B", "A", "C", "B", "C"] * 2,
    ...                      "yi": [0, .5, 0, .9, 0, .3, 0, .6, 0, 1.0, 0, .2], "vi": [.05] * 12})
    >>> design_by_treatment(arm_to_contrast(arms, vi="vi")).df
    1
    """
    cons = network_meta_analysis(contrasts, reference=reference, method=method, rho=rho)
    d = contrasts.data
    key = np.where(d["treatment1"] == d["treatment2"], None, d["design"] + " | " + d["treatment1"])
    keys = list(dict.fromkeys(k for k in key if k is not None))
    X = cons.X
    kept, names = X, []
    for kk in keys:
        z = (key == kk).astype(float)
        trial = np.column_stack([kept, z])
        if np.linalg.matrix_rank(trial) == trial.shape[1]:
            kept, names = trial, names + [kk]
    if not names:
        raise ValueError("The network has no closed loops of evidence: there is no inconsistency to test.")
    full = _fit(contrasts, kept, cons.coef_names + names, cons.method, float(rho), cons.level, None)
    idx = np.arange(X.shape[1], kept.shape[1])
    w = full.beta[idx]
    qm = float(w @ np.linalg.solve(full.vcov[np.ix_(idx, idx)], w))
    return InconsistencyResult(qm=qm, df=len(idx), pvalue=float(stats.chi2.sf(qm, len(idx))), tau2=full.tau2,
                               loglik=full.loglik, method=cons.method, consistency=cons, columns=names)


def component_model(
    contrasts: ContrastData,
    components: Sequence[str],
    *,
    method: str = "REML",
    rho: float = 0.5,
    level: float = 0.95,
) -> NetworkResult:
    r"""Additive component network meta-analysis (Welton et al., 2009).

    Each arm has component values :math:`c_a` (columns of ``contrasts.arms``: 0/1 indicators
    of components, delivery or control type, or numbers). A contrast of arm :math:`a` against
    baseline :math:`b` has design row :math:`c_a - c_b`, so :math:`\beta_j` is the added effect
    of component :math:`j`. Same random-effects model and estimator as
    :func:`network_meta_analysis`; metafor: ``rma.mv(yi, V, mods = ~ 0 + Xc, random = ~ comp |
    study, rho = 1/2)`` with ``Xc`` the differenced components.

    Parameters
    ----------
    contrasts : ContrastData
    components : sequence of str
        Arm-level columns of ``contrasts.arms``.
    method, rho, level : as in :func:`network_meta_analysis`

    Returns
    -------
    NetworkResult
        ``reference`` is None; ``coef_names`` are the components.

    References
    ----------
    Welton, N. J., Caldwell, D. M., Adamopoulos, E., & Vedhara, K. (2009). Mixed treatment comparison
    meta-analysis of complex interventions: psychological interventions in coronary heart disease.
    *American Journal of Epidemiology, 169*, 1158-1165.
    Rücker, G., Petropoulou, M., & Schwarzer, G. (2020). Network meta-analysis of multicomponent
    interventions. *Biometrical Journal, 62*(3), 808-821.
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package. *Journal of
    Statistical Software, 36*(3), 1-48.

    Examples
    --------
    >>> arms = pd.DataFrame({"study": [1, 1, 2, 2, 3, 3, 4, 4], "treatment": ["A", "B", "A", "C", "B", "C", "A", "C"],
    ...                      "yi": [0, .5, 0, .9, 0, .3, 0, .8], "vi": [.05] * 8,
    ...                      "x": [0, 1, 0, 1, 1, 1, 0, 1], "w": [0, 0, 0, 1, 0, 1, 0, 1]})
    >>> component_model(arm_to_contrast(arms, vi="vi"), ["x", "w"]).coef_names
    ['x', 'w']
    """
    method = _check_common(contrasts, method, rho, level)
    if isinstance(components, str) or len(components) == 0:
        raise ValueError("`components` must be a non-empty list of column names of the arm data.")
    arms = contrasts.arms
    a1 = contrasts.data["arm1"].to_numpy()
    a2 = contrasts.data["arm2"].to_numpy()
    cols = []
    for c in components:
        col = pd.to_numeric(_col(arms, "components", c), errors="coerce").to_numpy(dtype=float)
        used = np.zeros(len(arms), bool)
        used[a1] = used[a2] = True
        bad = ~np.isfinite(col) & used
        if bad.any():
            raise ValueError(f"`components`: column {c!r} has missing or non-numeric values at {first_bad(bad)}.")
        cols.append(col[a1] - col[a2])
    X = np.column_stack(cols)
    return _fit(contrasts, X, [str(c) for c in components], method, float(rho), float(level), None)
