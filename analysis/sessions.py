r"""Session-by-session analysis: within-person alliance effects and cross-lagged panels.

Does a *better-than-usual* alliance in one session predict *lower-than-usual*
symptoms at the next, within the same patient? Three tools:

* :func:`within_between` — person-mean centring (the within-person deviation
  :math:`A_{it} - \bar A_i` and the person mean :math:`\bar A_i`) and, optionally,
  detrending (the residual of a per-patient linear trend over sessions), as
  recommended by Wang & Maxwell (2015) and used by Falkenström et al. (2017)
  when the alliance grows over treatment.
* :func:`lagged_model` — the lagged multilevel model

  .. math::

      Y_{i,t+1} = \beta_0 + \beta_W (A_{it} - \bar A_i) + \beta_B \bar A_i
                  + \gamma Y_{it} + u_i + e_{i,t+1},

  random intercept :math:`u_i \sim N(0, \tau^2)`, fitted by the workbook's profiled
  (RE)ML engine (:func:`analysis.multilevel.therapist_effect` with the patient as
  the grouping factor; checked against ``lme4::lmer`` to 1e-4). With
  ``split=False`` the naive model (raw :math:`A_{it}`, no split) is fitted for
  comparison.
* :func:`riclpm` — the random-intercept cross-lagged panel model of Hamaker,
  Kuiper & Grasman (2015), a specification (lavaan syntax, :func:`riclpm_syntax`) fitted
  by the workbook's SEM engine :func:`analysis.sem.sem`: ML on complete cases (default), or
  with ``missing="ml"`` full-information ML (casewise likelihood of
  :mod:`analysis.sem.missing`, as ``lavaan::sem(..., missing = "ml")``), both checked
  against lavaan to 1e-3; long or wide data.

Why split at all? A raw session-level correlation mixes stable differences
between patients (some form good alliances *and* improve more) with the
within-patient process (does the alliance drive next week's symptoms?). Only the
within-patient coefficient speaks to the process; Hamaker et al. (2015) show the
same for the classic cross-lagged panel model, whose paths are biased when stable
trait differences exist.

References
----------
Falkenström, F., Finkel, S., Sandell, R., Rubel, J. A., & Holmqvist, R. (2017). Dynamic
models of individual change in psychotherapy process research. *J Consult Clin Psychol,
85*(6), 537--549.
Hamaker, E. L., Kuiper, R. M., & Grasman, R. P. P. P. (2015). A critique of the
cross-lagged panel model. *Psychological Methods, 20*(1), 102--116.
Mulder, J. D., & Hamaker, E. L. (2021). Three extensions of the random intercept
cross-lagged panel model. *Structural Equation Modeling, 28*(4), 638--648.
Wang, L. P., & Maxwell, S. E. (2015). On disaggregating between-person and within-person
effects with longitudinal data using multilevel models. *Psychological Methods, 20*(1),
63--83.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis._checks import check_choice
from analysis._results import ResultMixin
from analysis.change import check_long

__all__ = ["within_between", "LaggedModel", "lagged_model", "RICLPM", "riclpm", "riclpm_syntax"]


# --------------------------------------------------------------------------- centring
def within_between(
    data: pd.DataFrame,
    columns: Sequence[str] | str,
    *,
    patient: str = "patient",
    session: str = "session",
    detrend: bool = False,
) -> pd.DataFrame:
    r"""Split session-level scores into a between-person and a within-person part.

    For each column :math:`A` and patient :math:`i` (over the observed sessions):

    * ``A_between`` :math:`= \bar A_i` (person mean);
    * ``A_within`` :math:`= A_{it} - \bar A_i` (person-mean centring), or, with
      ``detrend=True``, the residual :math:`A_{it} - (\hat a_i + \hat b_i t)` of the
      patient's own least-squares line over session number :math:`t` (Wang &
      Maxwell 2015); then ``A_trend`` holds the fitted slope :math:`\hat b_i`.

    Missing scores stay missing in ``A_within``. Detrending needs at least three
    observed scores (two points fit a line exactly): patients with fewer get a
    missing ``A_within`` and are listed in ``result.attrs["notes"]``. A patient with
    one observed score has ``A_within = 0`` under centring.

    Parameters
    ----------
    data : pandas.DataFrame
        Long table (one row per patient and session), sorted by patient and session.
    columns : str or sequence of str
        Columns to split.
    patient, session : str
    detrend : bool, default False

    Returns
    -------
    pandas.DataFrame
        ``data`` (index reset) with the new columns; ``attrs["notes"]`` says what was done.

    References
    ----------
    Wang, L. P., & Maxwell, S. E. (2015). *Psychological Methods, 20*(1), 63--83.

    Examples
    --------
    >>> d = pd.DataFrame({"patient": [1, 1, 1, 2, 2, 2], "session": [1, 2, 3, 1, 2, 3],
    ...                   "alliance": [3.0, 4.0, 5.0, 2.0, 2.0, 5.0]})
    >>> within_between(d, "alliance")["alliance_within"].tolist()
    [-1.0, 0.0, 1.0, -1.0, -1.0, 2.0]
    >>> within_between(d, "alliance", detrend=True)["alliance_within"].round(3).tolist()
    [0.0, 0.0, 0.0, 0.5, -1.0, 0.5]
    """
    if not isinstance(detrend, (bool, np.bool_)):
        raise ValueError(f"`detrend` must be True or False; got {detrend!r}.")
    if columns is None or isinstance(columns, (dict, int, float)):
        raise ValueError(f"`columns` must be a column name or a list of column names; got {columns!r}.")
    cols = [columns] if isinstance(columns, str) else list(columns)
    if not cols:
        raise ValueError("`columns` must name at least one column.")
    clean = check_long(data, patient, session, cols)
    out = data.reset_index(drop=True).copy()
    notes: list[str] = []
    codes = pd.factorize(clean["patient"])[0]
    t = clean["session"].to_numpy(dtype=float)
    for c in cols:
        y = clean[c].to_numpy(dtype=float)
        obs = np.isfinite(y)
        # in units of the largest |score| (exact back-transformation): no overflow at any magnitude
        unit = float(np.max(np.abs(y[obs]))) if obs.any() else 0.0
        unit = 2.0 ** math.floor(math.log2(unit)) if unit > 0 else 1.0
        y = y / unit
        n = np.bincount(codes, weights=obs.astype(float))
        s = np.bincount(codes, weights=np.where(obs, y, 0.0))
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = s / n
        between = mean[codes]
        if detrend:
            st = np.bincount(codes, weights=np.where(obs, t, 0.0))
            with np.errstate(invalid="ignore", divide="ignore"):
                tbar = (st / n)[codes]
            dt = np.where(obs, t - tbar, 0.0)
            dy = np.where(obs, y - between, 0.0)
            sxx = np.bincount(codes, weights=dt * dt)
            sxy = np.bincount(codes, weights=dt * dy)
            ok = (n >= 3) & (sxx > 0)
            slope = np.where(ok, sxy / np.where(ok, sxx, 1.0), np.nan)
            within = np.where(obs, y - between - slope[codes] * (t - tbar), np.nan)
            out[f"{c}_trend"] = slope[codes] * unit
            n_bad = int((~ok & (n > 0)).sum())
            if n_bad:
                notes.append(f"{c}: {n_bad} patients with fewer than three observed scores cannot be detrended; "
                             "their within-person values are missing")
        else:
            within = np.where(obs, y - between, np.nan)
        n_none = int((n == 0).sum())
        if n_none:
            notes.append(f"{c}: {n_none} patients have no observed score (between and within missing)")
        out[f"{c}_between"] = between * unit
        out[f"{c}_within"] = within * unit
    out.attrs["notes"] = notes
    return out


# --------------------------------------------------------------------------- lagged model
@dataclass
class LaggedModel(ResultMixin):
    """Result of :func:`lagged_model`.

    Attributes
    ----------
    fixed : pandas.DataFrame
        Fixed effects indexed by ``term`` (estimate, se, statistic (z), pvalue, ci_low, ci_high); terms ``Intercept``,
        ``<predictor>_within`` and ``<predictor>_between`` (or ``<predictor>`` when
        ``split=False``) and ``<outcome>`` (the outcome at t).
    patient_var, residual_var : float
        :math:`\\tau^2` and :math:`\\sigma^2`.
    loglik : float
        (Restricted) log-likelihood, lme4's scale.
    method : str
    n_obs, n_patients : int
        Session pairs (t, t+1) and patients analysed.
    data : pandas.DataFrame
        The analysed rows (``<outcome>_next`` and the predictors).
    singular : bool
    notes : list of str
    """

    _frame_from = ('fixed',)
    _dict_skip = ('data',)

    fixed: pd.DataFrame
    patient_var: float
    residual_var: float
    loglik: float
    method: str
    n_obs: int
    n_patients: int
    n_clusters = property(lambda self: self.n_patients, doc="Number of patients (clusters); = ``n_patients``.")
    predictor: str
    outcome: str
    split: bool
    detrend: bool
    data: pd.DataFrame = field(repr=False)
    singular: bool = False
    notes: list = field(default_factory=list)

    @property
    def within(self) -> float:
        """The within-person lagged coefficient (or the naive one with ``split=False``)."""
        key = f"{self.predictor}_within" if self.split else self.predictor
        return float(self.fixed.loc[key, "estimate"])

    def summary(self) -> str:
        """Readable account."""
        lines = [
            f"Lagged multilevel model: {self.outcome}(t+1) on {self.predictor}(t) "
            f"({'within/between split' + (', detrended' if self.detrend else '') if self.split else 'no split'}; "
            f"{self.method})",
            f"  {self.n_obs} session pairs from {self.n_patients} patients",
            f"  patient variance tau^2 = {self.patient_var:.5g}; residual sigma^2 = {self.residual_var:.5g}; "
            f"log-likelihood = {self.loglik:.4f}",
            self.fixed.to_string(float_format=lambda v: f"{v:.5g}"),
        ]
        if self.singular:
            lines.append("  NOTE: boundary fit: patient variance estimated at zero")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def apa(self) -> str:
        """One sentence for a results section."""
        key = f"{self.predictor}_within" if self.split else self.predictor
        r = self.fixed.loc[key]
        p = "p < .001" if r["pvalue"] < 0.001 else f"p = {r['pvalue']:.3f}".replace("0.", ".")
        what = "A within-patient increase of one point in" if self.split else "One point higher"
        return (f"{what} {self.predictor} predicted a change of {r['estimate']:.2f} points in {self.outcome} at "
                f"the next session (SE = {r['se']:.2f}, 95% CI [{r['ci_low']:.2f}, {r['ci_high']:.2f}], {p}; "
                f"controlling for {self.outcome} at the current session; {self.n_obs} session pairs, "
                f"{self.n_patients} patients; {self.method}).")


def lagged_model(
    data: pd.DataFrame,
    *,
    patient: str = "patient",
    session: str = "session",
    predictor: str = "alliance",
    outcome: str = "symptom",
    split: bool = True,
    detrend: bool = False,
    method: str = "REML",
) -> LaggedModel:
    r"""Lagged multilevel model: does the alliance at session t predict symptoms at t+1?

    .. math::

        Y_{i,t+1} = \beta_0 + \beta_W A^{w}_{it} + \beta_B \bar A_i + \gamma Y_{it} + u_i + e_{i,t+1}

    with :math:`A^{w}_{it}` the person-mean-centred (or detrended) alliance and
    :math:`\bar A_i` the person mean (:func:`within_between`), :math:`Y_{it}` the
    symptom score at the same session as the alliance rating, and a random intercept
    per patient. :math:`\beta_W` is the within-patient lagged effect. With
    ``split=False`` the raw :math:`A_{it}` enters alone (the naive model, which
    mixes within and between variation).

    "Next session" means session number t+1: a pair is used only when both
    sessions are in the data with scores (a missing session breaks the pair; it is
    not bridged). The person mean is taken over every observed alliance rating of
    the patient, including the last session, which has no successor. The counts of
    pairs dropped are in ``notes``. Known pitfall: with a lagged outcome and a
    random intercept in short series the coefficient :math:`\gamma` is biased
    (Nickell bias) and this bias spreads to :math:`\beta_W` (Falkenström et al. 2017);
    notebook 04 shows its size with the simulator.

    Fitted by :func:`analysis.multilevel.therapist_effect` (profiled REML/ML,
    equal to lme4 to 1e-4) with the patient as the grouping factor.

    Parameters
    ----------
    data : pandas.DataFrame
        Long table sorted by patient and session.
    patient, session, predictor, outcome : str
    split, detrend : bool
    method : {"REML", "ML"}

    Returns
    -------
    LaggedModel

    References
    ----------
    Falkenström, F., et al. (2017). *J Consult Clin Psychol, 85*(6), 537--549.
    Wang, L. P., & Maxwell, S. E. (2015). *Psychological Methods, 20*(1), 63--83.

    Examples
    --------
    >>> from analysis.simulate import simulate_trial
    >>> sim = simulate_trial(n_therapists=10, caseload=6, seed=1)
    >>> s = sim.sessions[sim.sessions["session"] >= 1]
    >>> fit = lagged_model(s)
    >>> list(fit.fixed.index)
    ['Intercept', 'alliance_within', 'alliance_between', 'symptom']
    """
    from analysis.multilevel import BoundaryWarning, therapist_effect

    check_choice("method", method, ("REML", "ML"))
    for nm, v in (("split", split), ("detrend", detrend)):
        if not isinstance(v, (bool, np.bool_)):
            raise ValueError(f"`{nm}` must be True or False; got {v!r}.")
    if detrend and not split:
        raise ValueError("`detrend=True` needs `split=True` (detrending defines the within-person part).")
    clean = check_long(data, patient, session, [predictor, outcome])
    notes: list[str] = []
    if split:
        wb = within_between(clean, predictor, patient="patient", session="session", detrend=detrend)
        notes += wb.attrs.get("notes", [])
        clean = wb
        xcols = [f"{predictor}_within", f"{predictor}_between"]
    else:
        xcols = [predictor]
    nxt = clean[["patient", "session", outcome]].copy()
    nxt["session"] = nxt["session"] - 1
    nxt = nxt.rename(columns={outcome: f"{outcome}_next"})
    m = clean.merge(nxt, on=["patient", "session"], how="left", validate="one_to_one")
    n_all = len(m)
    has_next = m[f"{outcome}_next"].notna()
    keep = has_next & m[[*xcols, outcome]].notna().all(axis=1)
    n_last = int((~m.set_index(["patient", "session"]).index.isin(
        nxt.set_index(["patient", "session"]).index)).sum())
    dropped = n_all - int(keep.sum())
    if dropped:
        notes.append(f"{dropped} of {n_all} sessions not used: {n_last} have no next session in the data "
                     f"(last session or a gap), the rest lack a score at t or t+1")
    m = m[keep].reset_index(drop=True)
    if m["patient"].nunique() < 2:
        raise ValueError("`data`: fewer than two patients have a usable session pair (t, t+1).")
    cov = [*xcols, outcome]
    if m["patient"].nunique() >= len(m):
        raise ValueError(f"`data`: every patient has a single usable session pair (t, t+1) ({len(m)} pairs, "
                         f"{len(m)} patients): the patient and residual variances are not separately "
                         "identified. The lagged model needs patients with several consecutive sessions.")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = therapist_effect(m, f"{outcome}_next", "patient", covariates=cov, method=method,
                                   engine="profile", ci="profile")
        except ValueError as exc:  # name this function's arguments, not therapist_effect's
            raise ValueError(f"lagged_model: {exc}".replace("(`therapist`)", "(`patient`)")
                             .replace("(`outcome`)", f"(`outcome`, the next session's {outcome!r})")) from None
    for w in caught:
        if not issubclass(w.category, BoundaryWarning):
            notes.append(str(w.message).splitlines()[0])
    fixed = fit.fixed.copy()
    fixed.index = ["Intercept" if i in ("(Intercept)", "Intercept", "const") else i for i in fixed.index]
    return LaggedModel(fixed=fixed, patient_var=fit.therapist_var, residual_var=fit.residual_var,
                       loglik=fit.loglik, method=method, n_obs=len(m), n_patients=int(m["patient"].nunique()),
                       predictor=predictor, outcome=outcome, split=split, detrend=detrend, data=m,
                       singular=fit.singular, notes=notes + list(fit.notes))


# --------------------------------------------------------------------------- RI-CLPM
def riclpm_syntax(n_waves: int, x: str = "x", y: str = "y", *, constrain: bool = False) -> str:
    r"""Model syntax (lavaan) of the RI-CLPM for ``n_waves`` waves.

    Observed :math:`x_t = \mu_{xt} + RI_x + wx_t` (and likewise for *y*): random
    intercepts ``RIx``, ``RIy`` load 1 on every wave; the within components
    ``wx_t``, ``wy_t`` load 1 on their wave; measurement-error variances are fixed at 0;

    .. math::

        wx_t = \alpha_t wx_{t-1} + \beta_t wy_{t-1} + u_t,\qquad
        wy_t = \delta_t wy_{t-1} + \gamma_t wx_{t-1} + v_t,

    with covariances of :math:`wx_1, wy_1` and of the residuals :math:`u_t, v_t` within a
    wave, and :math:`RI_x \leftrightarrow RI_y`; the random intercepts are uncorrelated
    with the wave-1 within components (Hamaker et al. 2015; Mulder & Hamaker 2021).
    ``constrain=True`` makes the four lagged paths equal across waves.

    Parameters
    ----------
    n_waves : int
        Number of waves (at least 3).
    x, y : str, default "x", "y"
        Stems of the observed columns; wave ``t`` is column ``f"{x}{t}"`` (``t`` = 1..
        ``n_waves``).
    constrain : bool, default False
        Label the lagged paths ``a``, ``b``, ``c``, ``d`` so that they are equal across
        waves (a time-invariant within-person process).

    Returns
    -------
    str
        One lavaan-style statement per line (``=~`` loadings, ``~`` regressions, ``~~``
        (co)variances), accepted by :func:`analysis.sem.sem` (and :func:`riclpm` as ``model=``)
        and by ``lavaan::sem``.

    References
    ----------
    Hamaker, E. L., Kuiper, R. M., & Grasman, R. P. P. P. (2015). A critique of the
    cross-lagged panel model. *Psychological Methods, 20*(1), 102--116.
    Mulder, J. D., & Hamaker, E. L. (2021). Three extensions of the random intercept
    cross-lagged panel model. *Structural Equation Modeling, 28*(4), 638--648.

    Examples
    --------
    >>> print(riclpm_syntax(3).splitlines()[0])
    RIx =~ 1*x1 + 1*x2 + 1*x3
    """
    if isinstance(n_waves, bool) or not isinstance(n_waves, (int, np.integer)) or n_waves < 3:
        raise ValueError(f"`n_waves` must be a whole number >= 3 (the RI-CLPM needs 3 waves); got {n_waves!r}.")
    W = int(n_waves)
    for nm, v in (("x", x), ("y", y)):
        if not isinstance(v, str) or not v.isidentifier():
            raise ValueError(f"`{nm}` must be a variable stem usable in model syntax (letters, digits, _); "
                             f"got {v!r}.")
    if x == y:
        raise ValueError(f"`x` and `y` must differ; both are {x!r}.")
    if not isinstance(constrain, (bool, np.bool_)):
        raise ValueError(f"`constrain` must be True or False; got {constrain!r}.")
    L = ["RIx =~ " + " + ".join(f"1*{x}{t}" for t in range(1, W + 1)),
         "RIy =~ " + " + ".join(f"1*{y}{t}" for t in range(1, W + 1))]
    for t in range(1, W + 1):
        L += [f"wx{t} =~ 1*{x}{t}", f"wy{t} =~ 1*{y}{t}", f"{x}{t} ~~ 0*{x}{t}", f"{y}{t} ~~ 0*{y}{t}"]
    for t in range(2, W + 1):
        if constrain:
            L += [f"wx{t} ~ a*wx{t - 1} + b*wy{t - 1}", f"wy{t} ~ c*wx{t - 1} + d*wy{t - 1}"]
        else:
            L += [f"wx{t} ~ wx{t - 1} + wy{t - 1}", f"wy{t} ~ wx{t - 1} + wy{t - 1}"]
    L += [f"wx{t} ~~ wy{t}" for t in range(1, W + 1)]
    L += ["RIx ~~ RIy", "RIx ~~ 0*wx1", "RIx ~~ 0*wy1", "RIy ~~ 0*wx1", "RIy ~~ 0*wy1"]
    return "\n".join(L)


@dataclass
class RICLPM(ResultMixin):
    """Result of :func:`riclpm`.

    Attributes
    ----------
    params : pandas.DataFrame
        Every free parameter: ``lhs``, ``op`` (``~`` regression, ``~~`` (co)variance,
        and with ``missing="ml"`` also ``~1``, the wave means), ``rhs``, ``estimate``,
        ``se``, ``statistic`` (z), ``pvalue`` (lavaan's naming: for ``~`` the outcome is ``lhs``).
    lagged : pandas.DataFrame
        The within-person lagged paths only, with a ``path`` label
        (``"x -> x"``, ``"y -> x"``, ``"x -> y"``, ``"y -> y"``) and wave.
    fit : dict
        ``chisq``, ``df``, ``pvalue``, ``cfi``, ``tli``, ``rmsea``, ``srmr``, ``n``,
        ``baseline_chisq``, ``baseline_df``.
    syntax : str
    n : int
        Patients analysed.
    n_dropped : int
        Patients not analysed: with ``missing="listwise"`` those missing any wave; with
        ``missing="ml"`` those without a single observed value in the waves used.
    missing : str
        ``"listwise"`` (complete cases, ML) or ``"ml"`` (full-information ML).
    loglik : float
        Log-likelihood of the model (lavaan's ``logl``; with ``"listwise"`` of the
        complete cases).
    loglik_saturated : float
        Log-likelihood of the unrestricted (saturated) model (lavaan's ``unrestricted.logl``).
    n_patterns : int
        Missing-data patterns among the analysed patients (1 with ``"listwise"``).
    converged : bool
    boundary : list of str
        Variance parameters estimated below zero (Heywood cases), e.g. ``"RIx ~~ RIx"``.
    estimator : str
        ``"ML"`` or ``"MLR"`` (robust SEs and scaled test statistics in ``fit``).
    notes : list of str
    """

    _frame_from = ('params',)

    params: pd.DataFrame
    lagged: pd.DataFrame
    fit: dict
    syntax: str
    n: int
    n_obs = property(lambda self: self.n, doc="Number of observations analysed (= ``n``).")
    n_dropped: int
    x: str
    y: str
    notes: list = field(default_factory=list)
    missing: str = "listwise"
    loglik: float = float("nan")
    loglik_saturated: float = float("nan")
    n_patterns: int = 1
    converged: bool = True
    boundary: list = field(default_factory=list)
    estimator: str = "ML"

    def summary(self) -> str:
        """Readable account."""
        f = self.fit
        robust = self.estimator == "MLR"
        if self.missing == "ml":
            est = ("full-information ML (FIML, casewise likelihood), "
                   + ("robust (MLR) SEs" if robust else "observed-information SEs"))
            who = (f"  N = {self.n} patients in {self.n_patterns} missing-data pattern(s) "
                   f"({self.n_dropped} without any observed value dropped)")
        else:
            est = "ML on complete cases, " + ("robust (MLR) SEs" if robust else "expected-information SEs")
            who = f"  N = {self.n} ({self.n_dropped} dropped for missing waves)"
        srmr = "NaN" if not np.isfinite(f["srmr"]) else f"{f['srmr']:.3f}"
        lines = [
            f"RI-CLPM (Hamaker, Kuiper & Grasman 2015): x = {self.x!r}, y = {self.y!r}; {est}",
            who,
            f"  chi2({f['df']}) = {f['chisq']:.3f}, p = {f['pvalue']:.3f}; CFI = {f['cfi']:.3f}; TLI = {f['tli']:.3f}; "
            f"RMSEA = {f['rmsea']:.3f}; SRMR = {srmr}; log-likelihood = {self.loglik:.3f}",
        ]
        if robust and "chisq_scaled" in f:
            lines.append(f"  Yuan-Bentler scaled chi2({f['df']}) = {f['chisq_scaled']:.3f} (scaling factor "
                         f"{f['scaling_factor']:.3f}), p = {f['pvalue_scaled']:.3f}; CFI = {f['cfi_scaled']:.3f}; "
                         f"TLI = {f['tli_scaled']:.3f}; RMSEA = {f['rmsea_scaled']:.3f} (scaled)")
        lines += [
            "  within-person lagged paths:",
            self.lagged.to_string(index=False, float_format=lambda v: f"{v:.4f}"),
        ]
        if not self.converged:
            lines.append("  WARNING: the optimizer did not converge; do not interpret the estimates")
        if self.boundary:
            lines.append(f"  WARNING: negative variance estimate(s) (boundary/Heywood): {', '.join(self.boundary)}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def riclpm(
    data: pd.DataFrame,
    *,
    x: str,
    y: str,
    patient: str = "patient",
    wave: str = "wave",
    waves: Sequence[int] | None = None,
    constrain: bool = False,
    missing: str = "listwise",
    model: str | None = None,
    estimator: str = "ML",
) -> RICLPM:
    r"""Fit a random-intercept cross-lagged panel model (Hamaker, Kuiper & Grasman 2015).

    The model (:func:`riclpm_syntax`) separates stable between-person differences
    (random intercepts) from within-person carry-over and cross-lagged effects. The
    observed vector :math:`z_i = (x_{i1}, \dots, x_{iW}, y_{i1}, \dots, y_{iW})` is
    normal with free (saturated) wave means :math:`\mu` and covariance

    .. math::

        \Sigma(\theta) = Z \Phi Z' + (I - B)^{-1} \Psi (I - B)^{-\top},

    :math:`Z` the random-intercept loadings (1 on every wave), :math:`\Phi` the
    random-intercept covariance, :math:`B` the lagged paths and :math:`\Psi` the
    wave-1 and residual (co)variances of the within components.

    The model is a specification on the workbook's SEM engine (:func:`analysis.sem.sem`):
    its lavaan syntax is built by :func:`riclpm_syntax` (or passed as ``model``), the
    data are put in wide form (one row per patient, columns ``x1..xW``, ``y1..yW`` for
    the waves used) and fitted by maximum likelihood.

    ``missing="listwise"`` (default): ML on the complete cases, patients missing any
    wave dropped (``n_dropped``); :math:`\chi^2 = N F_{ML}`,
    :math:`F_{ML} = \log|\Sigma| + \operatorname{tr}(S\Sigma^{-1}) - \log|S| - p`,
    expected-information SEs, as ``lavaan`` with ``missing = "listwise"``.

    ``missing="ml"``: full-information ML (FIML, :mod:`analysis.sem.missing`), unbiased
    when the missing waves are missing at random (MAR), where complete cases are not.
    The casewise normal log-likelihood, summed over missing-data patterns :math:`k` with
    :math:`n_k` patients, observed variables :math:`o_k`, pattern mean :math:`m_k` and
    covariance :math:`S_k`,

    .. math::

        \ell(\theta, \mu) = -\tfrac12 \sum_k n_k \big[ p_k \log 2\pi + \log|\Sigma_{o_k}|
            + \operatorname{tr}(\Sigma_{o_k}^{-1} S_k)
            + (m_k - \mu_{o_k})' \Sigma_{o_k}^{-1} (m_k - \mu_{o_k}) \big],

    is maximised jointly over :math:`\theta` and the wave means :math:`\mu` (as
    ``lavaan::sem(..., missing = "ml")``) with analytic gradients; SEs from the observed
    information, lavaan's default with ``missing = "ml"``. :math:`\chi^2 = 2(\ell_{sat} - \ell)`
    with the saturated model fitted by EM; CFI and TLI against the FIML independence model;
    RMSEA with N the patients analysed; SRMR as lavaan's (Bentler's, with means). Patients
    without any observed value are dropped (lavaan does the same). Both checked against
    lavaan 0.6-14 (``tests/oracles/sessions_lavaan.R``): parameters and SEs to 1e-3, in
    practice 1e-6.

    Non-convergence and negative variance estimates (Heywood cases; the fit is not bounded,
    like lavaan's) are reported in ``converged``, ``boundary`` and ``notes``, with a warning.

    Parameters
    ----------
    data : pandas.DataFrame
        Long table, one row per patient and wave (columns ``patient``, ``wave``, ``x``,
        ``y``); or wide, one row per patient with columns ``f"{x}{t}"`` and ``f"{y}{t}"``
        for the waves ``t`` (recognised when there is no column ``wave``; the patient is
        the column ``patient`` if present, else the index).
    x, y : str
        The two variables (e.g. ``"alliance"``, ``"symptom"``).
    patient, wave : str
    waves : sequence of int, optional
        Which waves to use, in order (default: all, sorted). At least 3.
    constrain : bool, default False
        Equal lagged paths across waves.
    missing : {"listwise", "ml"}, default "listwise"
        Complete cases or full-information ML. The default keeps earlier results;
        with missing waves (dropout) ``"ml"`` is the estimator to report.
    model : str, optional
        Your own lavaan syntax instead of ``riclpm_syntax(W, constrain=constrain)``, written
        in its names: observed ``x1..xW`` and ``y1..yW`` (the ``k``-th wave used, whatever its
        number), within components ``wx1..``, ``wy1..``, intercepts ``RIx``, ``RIy``. Start
        from ``riclpm_syntax(W)`` and edit it (e.g. add a wave-specific constraint).
    estimator : {"ML", "MLR"}, default "ML"
        ``"MLR"``: the same estimates with robust inference for non-normal data, as lavaan's
        ``estimator = "MLR"`` (:mod:`analysis.sem.robust`): Huber-White SEs and the Yuan-Bentler
        scaled test; ``fit`` then also holds ``chisq_scaled``, ``pvalue_scaled``,
        ``scaling_factor``, ``cfi_scaled``, ``tli_scaled``, ``rmsea_scaled`` (and, with complete
        data, ``cfi_robust``, ``tli_robust``, ``rmsea_robust``).

    Returns
    -------
    RICLPM

    Raises
    ------
    ValueError
        Bad or missing columns, ``x == y``, bad ``waves`` (missing, fractional, repeated, out
        of order, fewer than 3), no more patients than observed variables, an ``x`` or ``y``
        with zero variance, bad ``model`` syntax, estimates beyond double precision. The
        variables are divided by a power of two near their SD before fitting and the results
        transformed back, so the fit does not depend on their units.

    References
    ----------
    Hamaker, E. L., Kuiper, R. M., & Grasman, R. P. P. P. (2015). *Psychological Methods,
    20*(1), 102--116.
    Arbuckle, J. L. (1996). Full information estimation in the presence of incomplete data.
    In G. A. Marcoulides & R. E. Schumacker (Eds.), *Advanced structural equation modeling*
    (pp. 243--277). Erlbaum.
    Enders, C. K. (2010). *Applied missing data analysis*. Guilford.

    Examples
    --------
    >>> from analysis.simulate import simulate_trial
    >>> sim = simulate_trial(n_therapists=30, caseload=8, seed=2017)
    >>> waves = sim.sessions[sim.sessions["session"].between(1, 5)]
    >>> fit = riclpm(waves, x="alliance", y="symptom", wave="session")
    >>> fit.fit["df"], len(fit.lagged), fit.boundary
    (21, 16, [])

    With dropout, FIML keeps every patient with at least one observed value:

    >>> drop = simulate_trial(n_therapists=30, caseload=8, seed=2017, dropout="MAR", dropout_rate=0.3)
    >>> w = drop.sessions[drop.sessions["session"].between(1, 5)]
    >>> ml = riclpm(w, x="alliance", y="symptom", wave="session", missing="ml")
    >>> ml.n, ml.n_patterns, ml.converged, ml.boundary, ml.fit["df"]
    (240, 5, True, [], 21)
    """
    check_choice("missing", missing, ("listwise", "ml"))
    check_choice("estimator", estimator, ("ML", "MLR"))
    if not isinstance(constrain, (bool, np.bool_)):
        raise ValueError(f"`constrain` must be True or False; got {constrain!r}.")
    if isinstance(x, str) and x == y:
        raise ValueError(f"`x` and `y` must be different columns; both are {x!r}.")
    if model is not None and (not isinstance(model, str) or not model.strip()):
        raise ValueError(f"`model` must be lavaan model syntax (a non-empty string); got {model!r}.")
    data = _wide_to_long(data, x, y, patient, wave)
    clean = check_long(data, patient, wave, [x, y])
    all_waves = sorted(clean["session"].unique().tolist())
    if waves is not None:
        if isinstance(waves, (str, bytes, dict)) or not hasattr(waves, "__iter__"):
            raise ValueError(f"`waves` must be a list of wave numbers; got {waves!r}.")
        wl = list(waves)
        bad = [w for w in wl if isinstance(w, (bool, np.bool_)) or not isinstance(w, (int, float, np.number))
               or not np.isfinite(w) or w != int(w)]
        if bad:
            raise ValueError(f"`waves` must hold whole wave numbers; got {bad[0]!r}.")
        if len(set(int(w) for w in wl)) != len(wl):
            raise ValueError(f"`waves` lists a wave twice: {wl}.")
        if [int(w) for w in wl] != sorted(int(w) for w in wl):
            raise ValueError(f"`waves` must be in increasing order (the lagged paths run from each wave to the "
                             f"next); got {wl}.")
    use = all_waves if waves is None else [int(w) for w in waves]
    miss = [w for w in use if w not in all_waves]
    if miss:
        raise ValueError(f"`waves`: wave(s) {miss} are not in column {wave!r}.")
    if len(use) < 3:
        raise ValueError("`waves`: the RI-CLPM needs at least 3 waves.")
    W = len(use)
    sub = clean[clean["session"].isin(use)]
    # wide array (patients in sorted order x waves): x1..xW, y1..yW (numpy: no pandas pivot per call)
    pid, _ = pd.factorize(sub["patient"], sort=True)
    wpos = np.searchsorted(np.asarray(use), sub["session"].to_numpy())
    Y = np.full((int(pid.max()) + 1 if len(pid) else 0, 2 * W), np.nan)
    Y[pid, wpos] = sub[x].to_numpy(dtype=float)
    Y[pid, W + wpos] = sub[y].to_numpy(dtype=float)
    seen = np.isfinite(Y).any(axis=0)
    for c in np.flatnonzero(~seen)[:1]:
        var = x if c < W else y
        raise ValueError(f"`data`: column {var!r} has no observed value at wave {use[c % W]} "
                         f"(column {wave!r}); the RI-CLPM cannot be estimated. Drop that wave with `waves=`.")
    xs = [f"x{k}" for k in range(1, W + 1)]
    ys = [f"y{k}" for k in range(1, W + 1)]
    for var, block in ((x, Y[:, :W]), (y, Y[:, W:])):
        vals = block[np.isfinite(block)]
        amax = float(np.max(np.abs(vals)))
        if amax == 0 or float(np.std(vals / amax)) <= 1e-12:
            raise ValueError(f"`data`: column {var!r} has zero variance over waves {use}; the RI-CLPM needs "
                             "variation within and between patients.")
    # fit on rescaled variables (a power of two near each variable's SD over all waves) and transform
    # back: ML estimates are equivariant, so results do not depend on the units (1e-150 or 1e150)
    sx, sy = _power2_scale(Y[:, :W]), _power2_scale(Y[:, W:])
    Y[:, :W] /= sx
    Y[:, W:] /= sy
    p = 2 * W
    notes: list[str] = []
    n_patients = int(clean["patient"].nunique())
    if missing == "ml":
        keep = np.isfinite(Y).any(axis=1)
        n_dropped = n_patients - int(keep.sum())
        Y = Y[keep]
        n = len(Y)
        if n_dropped:
            notes.append(f"{n_dropped} of {n_patients} patients have no observed value in waves {use} and were "
                         "dropped (they carry no information under FIML)")
        if n <= p:
            raise ValueError(f"`data`: {n} patients with an observed value for {p} variables; the RI-CLPM needs "
                             "more patients.")
        obs = np.isfinite(Y)
        cover = obs.T.astype(float) @ obs.astype(float)
        if (cover == 0).any():
            j, k = np.argwhere(cover == 0)[0]
            names = [f"{x}@{w}" for w in use] + [f"{y}@{w}" for w in use]
            raise ValueError(f"`data`: no patient has both {names[j]} and {names[k]} observed ({wave!r} = wave); "
                             "their covariance cannot be estimated under FIML.")
        n_pat = len(np.unique(obs, axis=0))
        notes.append(f"{n_pat} missing-data pattern(s); {100.0 * obs.mean():.1f}% of the {n} x {p} values observed")
    else:
        n_all = len(Y)
        Y = Y[np.isfinite(Y).all(axis=1)]
        n = len(Y)
        n_dropped = n_all - n
        if n < n_all:
            notes.append(f"{n_all - n} of {n_all} patients miss at least one wave and were dropped (complete cases)")
        if n <= p:
            raise ValueError(f"`data`: {n} complete patients for {p} variables; the RI-CLPM needs more patients.")
        obs = np.ones((n, p), dtype=bool)
    wd = pd.DataFrame(Y, columns=xs + ys)
    syntax = riclpm_syntax(W, "x", "y", constrain=constrain) if model is None else model
    fitted = syntax + "\n" + _start_lines(wd, W, syntax)
    res, se_free, converged = _fit_engine(fitted, wd, missing, notes, estimator)
    pt = res.partable.copy()
    if se_free is not None:
        pt["se"] = [se_free[int(k) - 1] if k > 0 else 0.0 for k in pt["free"]]
    free = pt[pt["free"] > 0]
    if missing == "listwise":  # the wave means are the sample means: not reported (as before)
        free = free[free["op"] != "~1"]
    params = pd.DataFrame({"lhs": free["lhs"].to_numpy(), "op": free["op"].to_numpy(),
                           "rhs": free["rhs"].fillna("").to_numpy() if hasattr(free["rhs"], "fillna")
                           else free["rhs"].to_numpy(),
                           "estimate": free["estimate"].to_numpy(dtype=float),
                           "se": free["se"].to_numpy(dtype=float)})
    with np.errstate(divide="ignore", invalid="ignore"):
        params["statistic"] = params["estimate"] / params["se"]
    params["pvalue"] = 2 * stats.norm.sf(np.abs(params["statistic"]))
    boundary = _boundary(params, notes, bounded=False)
    params = _unscale(params, sx, sy)
    fm = res.fit
    fit = dict(chisq=float(fm["chisq"]), df=int(fm["df"]),
               pvalue=float(fm["pvalue"]) if np.isfinite(fm["pvalue"]) else float("nan"),
               cfi=float(fm["cfi"]), tli=float(fm["tli"]), rmsea=float(fm["rmsea"]), srmr=float(fm["srmr"]),
               n=int(n), baseline_chisq=float(fm["baseline.chisq"]), baseline_df=int(fm["baseline.df"]))
    for ours, lav in (("chisq_scaled", "chisq.scaled"), ("pvalue_scaled", "pvalue.scaled"),
                      ("scaling_factor", "chisq.scaling.factor"), ("cfi_scaled", "cfi.scaled"),
                      ("tli_scaled", "tli.scaled"), ("rmsea_scaled", "rmsea.scaled"), ("cfi_robust", "cfi.robust"),
                      ("tli_robust", "tli.robust"), ("rmsea_robust", "rmsea.robust")):
        if estimator == "MLR" and lav in fm:
            fit[ours] = float(fm[lav])
    shift = float(obs[:, :W].sum()) * math.log(sx) + float(obs[:, W:].sum()) * math.log(sy)
    gd = res._obj.data[0]
    n_patterns = 1 if getattr(gd, "pat", None) is None else len(gd.pat.patterns)
    return RICLPM(params=_rename(params, use, x, y), lagged=_lagged(params, use), fit=fit, syntax=syntax, n=n,
                  n_dropped=n_dropped, x=x, y=y, notes=notes, missing=missing,
                  loglik=float(fm["logl"]) - shift, loglik_saturated=float(fm["unrestricted.logl"]) - shift,
                  n_patterns=n_patterns, converged=converged, boundary=boundary, estimator=estimator)


def _start_lines(wd: pd.DataFrame, W: int, syntax: str) -> str:
    """Start values for the latent variances (half the available-case variances, as the old FIML code).

    The engine's generic starts (0.05) are far from an RI-CLPM's, where all the variance is
    latent; from there its optimiser can wander into a Heywood region. Same model, better start.
    Only for the model's latent variables whose variance the syntax does not declare itself.
    """
    import re

    v = np.nanvar(wd.to_numpy(dtype=float), axis=0)
    vx, vy = v[:W], v[W:]
    want = {"RIx": 0.5 * vx.min(), "RIy": 0.5 * vy.min()}
    want.update({f"wx{t}": 0.5 * vx[t - 1] for t in range(1, W + 1)})
    want.update({f"wy{t}": 0.5 * vy[t - 1] for t in range(1, W + 1)})
    out = []
    for name, val in want.items():
        used = re.search(rf"\b{name}\s*=~", syntax)
        declared = re.search(rf"(^|[\n;])\s*{name}\s*~~[^\n;]*\b{name}\b", syntax)
        if used and not declared:
            out.append(f"{name} ~~ start({val:.6g})*{name}")
    return "\n".join(out)


def _fit_engine(syntax: str, wd: pd.DataFrame, missing: str, notes: list, estimator: str = "ML"):
    """Fit ``syntax`` to the wide frame with :func:`analysis.sem.sem`; its warnings become notes.

    Returns ``(result, se of the free parameters, converged)``. Under FIML the SEs come from the
    observed information (lavaan's default there) of :func:`analysis.sem.missing.observed_information`
    (analytic in the moments, the model's curvature by differences of its Jacobian), a third of
    the cost of differencing the gradient; the engine is asked for its cheap expected information.
    """
    from analysis.multilevel import ConvergenceWarning
    from analysis.sem import missing as _miss
    from analysis.sem import sem

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            # with a mean structure (saturated wave means) as lavaan's RI-CLPM: the SRMR counts the means
            res = sem(syntax, wd, missing=missing, meanstructure=True, information="expected", estimator=estimator)
        except ValueError as exc:
            raise ValueError(f"riclpm: `model`/`data`: {exc}") from None
    for w in caught:
        msg = str(w.message).splitlines()[0]
        if "negative variance" in msg or "Heywood" in msg or "not positive definite" in msg:
            continue  # reported by _boundary, in this module's words
        if "converge" in msg or "singular" in msg:
            continue  # reported below
        notes.append(msg)
    why = [m for m in res.warnings if "converge" in m]
    q = len(res.theta)
    pt = res.partable
    heywood = bool(((pt["op"] == "~~") & (pt["lhs"] == pt["rhs"]) & (pt["free"] > 0) & (pt["estimate"] < 0)).any())
    # the engine's information singular: not identified at this point
    singular = any("singular" in m for m in res.warnings)
    se = None
    if missing == "ml" or heywood:
        # observed information: SEs under FIML; with complete cases (expected-information SEs, as lavaan)
        # only the check that a Heywood solution is a maximum, not a saddle point
        obj = res._obj
        pats = [d.pat if d.pat is not None else _miss.Patterns.from_moments(d.ybar, d.S, d.n) for d in obj.data]
        info = _miss.observed_information(pats, obj.model, res.theta)
        d = np.sqrt(np.abs(np.diag(info)))
        d[d == 0] = 1.0
        ev = np.linalg.eigvalsh(info / np.outer(d, d))
        # equilibrated (unit-diagonal) information: an eigenvalue below 1e-6 is a direction along which
        # the likelihood is flat (SEs inflated > 1000-fold): empirically not identified, a ridge or saddle
        singular = singular or not ev.min() > 1e-6 * max(ev.max(), 1.0)
        if missing == "ml" and estimator == "ML":
            se = np.full(q, np.nan) if singular else np.sqrt(np.diag(np.linalg.inv(info)))
        elif singular:  # (MLR: the robust SEs come from the engine)
            se = np.full(q, np.nan)
    converged = bool(res.converged) and not singular
    if why:
        notes.append(f"the optimizer did not converge: {'; '.join(why)}")
    elif singular:
        notes.append("no proper optimum (the optimizer stopped, but the information matrix is singular or "
                     "not positive definite: a saddle point, a ridge or an unidentified model; standard errors are "
                     "not available)")
    if why or singular:
        converged = False
        warnings.warn(f"riclpm: {notes[-1]}", ConvergenceWarning, stacklevel=3)
    return res, se, converged


def _wide_to_long(data, x: str, y: str, patient: str, wave: str):
    """Wide data (``x1..``, ``y1..`` columns, no ``wave`` column) as a long table; long data unchanged."""
    if not isinstance(data, pd.DataFrame) or wave in data.columns:
        return data
    import re

    pat = {v: re.compile(rf"^{re.escape(v)}(\d+)$") for v in (x, y)}
    found = {v: {int(m.group(1)): c for c in map(str, data.columns) if (m := pat[v].match(c))} for v in (x, y)}
    if not found[x] and not found[y]:
        return data  # check_long names the missing columns
    for v in (x, y):
        if not found[v]:
            raise ValueError(f"`data` looks wide (no column {wave!r}) but has no columns {v}1, {v}2, ... for `{v}`.")
    ids = data[patient].to_numpy() if patient in data.columns else data.index.to_numpy()
    ws = sorted(set(found[x]) | set(found[y]))
    rows = []
    for t in ws:
        part = pd.DataFrame({patient: ids, wave: t,
                             x: data[found[x][t]].to_numpy(dtype=float) if t in found[x] else np.nan,
                             y: data[found[y][t]].to_numpy(dtype=float) if t in found[y] else np.nan})
        rows.append(part)
    return pd.concat(rows, ignore_index=True).sort_values([patient, wave], kind="stable").reset_index(drop=True)


def _lagged(params: pd.DataFrame, use: list) -> pd.DataFrame:
    reg = params[(params["op"] == "~") & params["lhs"].str.match(r"^w[xy]\d+$")
                 & params["rhs"].str.match(r"^w[xy]\d+$")].copy()
    lab = {("wx", "wx"): "x -> x", ("wx", "wy"): "y -> x", ("wy", "wx"): "x -> y", ("wy", "wy"): "y -> y"}
    reg["path"] = [lab[(l[:2], r[:2])] for l, r in zip(reg["lhs"], reg["rhs"])]
    reg["wave"] = [use[int(l[2:]) - 1] if 0 < int(l[2:]) <= len(use) else int(l[2:]) for l in reg["lhs"]]
    return reg[["path", "wave", "lhs", "rhs", "estimate", "se", "statistic", "pvalue"]].sort_values(
        ["path", "wave"]).reset_index(drop=True)


def _rename(params: pd.DataFrame, use: list, x: str, y: str) -> pd.DataFrame:
    """Observed names x1, y1, ... back to the user's variables and waves (``alliance3``)."""
    W = len(use)
    ren = {**{f"x{k}": f"{x}{use[k - 1]}" for k in range(1, W + 1)},
           **{f"y{k}": f"{y}{use[k - 1]}" for k in range(1, W + 1)}}
    params = params.copy()
    params["lhs"] = params["lhs"].replace(ren)
    params["rhs"] = params["rhs"].replace(ren)
    return params


def _boundary(params: pd.DataFrame, notes: list, *, bounded: bool) -> list:
    """Variance parameters at or below zero: listed, noted and warned about (never hidden).

    ``bounded=True`` is for a fit that keeps variances at or above 0 (a boundary solution shows
    as a variance of about 0); the engine, like lavaan, is unbounded and shows a negative one.
    """
    from analysis.multilevel import BoundaryWarning

    var = params[(params["op"] == "~~") & (params["lhs"] == params["rhs"])]
    scale = max(1.0, float(var["estimate"].abs().max())) if len(var) else 1.0
    cut = 1e-8 * scale if bounded else 0.0
    var = var[var["estimate"] <= cut] if bounded else var[var["estimate"] < cut]
    out = [f"{l} ~~ {r}" for l, r in zip(var["lhs"], var["rhs"])]
    if out:
        if bounded:
            msg = (f"variance estimate(s) at the lower bound 0 (boundary solution; lavaan would report a "
                   f"negative value): {', '.join(out)}")
        else:
            msg = (f"negative variance estimate(s), below the lower bound 0 (Heywood case, a boundary "
                   f"solution): {', '.join(out)}")
        notes.append(msg)
        warnings.warn(msg, BoundaryWarning, stacklevel=3)
    return out


def _power2_scale(values: np.ndarray) -> float:
    """A power of two near the SD of the finite ``values`` (1 when they do not vary)."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    a = float(np.max(np.abs(v))) if v.size else 0.0
    sd = float(np.std(v / a)) * a if a > 0 else 0.0
    return 2.0 ** round(math.log2(sd)) if sd > 0 and np.isfinite(sd) else 1.0


def _unscale(params: pd.DataFrame, sx: float, sy: float) -> pd.DataFrame:
    """Estimates and SEs of a fit to ``x / sx``, ``y / sy`` in the data's units (internal names)."""
    def sc(name: str) -> float:
        return sx if name in ("RIx",) or name.startswith(("x", "wx")) else sy

    k = []
    for l, o, r in zip(params["lhs"], params["op"], params["rhs"]):
        if o == "~~":
            k.append(sc(l) * sc(r))
        elif o == "~":
            k.append(sc(l) / sc(r))
        elif o == "~1":
            k.append(sc(l))
        else:
            k.append(1.0)
    k = np.asarray(k)
    out = params.copy()
    with np.errstate(over="ignore"):
        out["estimate"] = params["estimate"].to_numpy() * k
        out["se"] = params["se"].to_numpy() * k
    if not np.isfinite(out["estimate"]).all():
        raise ValueError("`data`: the RI-CLPM estimates cannot be represented in double precision in the units "
                         "of the data (variances beyond 1e308); rescale x and y (e.g. to SD units) first.")
    return out
