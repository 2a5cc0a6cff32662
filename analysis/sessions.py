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
  Kuiper & Grasman (2015) with semopy (ML), checked against lavaan to 1e-3. Fit
  statistics (χ², df, CFI, TLI, RMSEA, SRMR) are computed by hand from the
  model-implied covariance matrix, because ``semopy.calc_stats`` fails with
  scipy 1.17.

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
            out[f"{c}_trend"] = slope[codes]
            n_bad = int((~ok & (n > 0)).sum())
            if n_bad:
                notes.append(f"{c}: {n_bad} patients with fewer than three observed scores cannot be detrended; "
                             "their within-person values are missing")
        else:
            within = np.where(obs, y - between, np.nan)
        n_none = int((n == 0).sum())
        if n_none:
            notes.append(f"{c}: {n_none} patients have no observed score (between and within missing)")
        out[f"{c}_between"] = between
        out[f"{c}_within"] = within
    out.attrs["notes"] = notes
    return out


# --------------------------------------------------------------------------- lagged model
@dataclass
class LaggedModel:
    """Result of :func:`lagged_model`.

    Attributes
    ----------
    fixed : pandas.DataFrame
        Fixed effects (estimate, se, z, p, ci_low, ci_high); terms ``Intercept``,
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

    fixed: pd.DataFrame
    patient_var: float
    residual_var: float
    loglik: float
    method: str
    n_obs: int
    n_patients: int
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
        p = "p < .001" if r["p"] < 0.001 else f"p = {r['p']:.3f}".replace("0.", ".")
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
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = therapist_effect(m, f"{outcome}_next", "patient", covariates=cov, method=method, engine="profile",
                               ci="profile")
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
    r"""Model syntax (semopy/lavaan) of the RI-CLPM for ``n_waves`` waves.

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

    Examples
    --------
    >>> print(riclpm_syntax(3).splitlines()[0])
    RIx =~ 1*x1 + 1*x2 + 1*x3
    """
    if isinstance(n_waves, bool) or not isinstance(n_waves, (int, np.integer)) or n_waves < 3:
        raise ValueError(f"`n_waves` must be a whole number >= 3 (the RI-CLPM needs 3 waves); got {n_waves!r}.")
    W = int(n_waves)
    L = [f"RIx =~ " + " + ".join(f"1*{x}{t}" for t in range(1, W + 1)),
         f"RIy =~ " + " + ".join(f"1*{y}{t}" for t in range(1, W + 1))]
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
class RICLPM:
    """Result of :func:`riclpm`.

    Attributes
    ----------
    params : pandas.DataFrame
        Every free parameter: ``lhs``, ``op`` (``~`` regression, ``~~`` (co)variance),
        ``rhs``, ``estimate``, ``se``, ``z``, ``p`` (lavaan's naming: for ``~`` the
        outcome is ``lhs``).
    lagged : pandas.DataFrame
        The within-person lagged paths only, with a ``path`` label
        (``"x -> x"``, ``"y -> x"``, ``"x -> y"``, ``"y -> y"``) and wave.
    fit : dict
        ``chisq``, ``df``, ``pvalue``, ``cfi``, ``tli``, ``rmsea``, ``srmr``, ``n``.
    syntax : str
    n_dropped : int
        Patients dropped for a missing wave (complete cases are analysed).
    notes : list of str
    """

    params: pd.DataFrame
    lagged: pd.DataFrame
    fit: dict
    syntax: str
    n: int
    n_dropped: int
    x: str
    y: str
    notes: list = field(default_factory=list)

    def summary(self) -> str:
        """Readable account."""
        f = self.fit
        lines = [
            f"RI-CLPM (Hamaker, Kuiper & Grasman 2015): x = {self.x!r}, y = {self.y!r}; ML (semopy)",
            f"  N = {self.n} ({self.n_dropped} dropped for missing waves)",
            f"  chi2({f['df']}) = {f['chisq']:.3f}, p = {f['pvalue']:.3f}; CFI = {f['cfi']:.3f}; TLI = {f['tli']:.3f}; "
            f"RMSEA = {f['rmsea']:.3f}; SRMR = {f['srmr']:.3f}",
            "  within-person lagged paths:",
            self.lagged.to_string(index=False, float_format=lambda v: f"{v:.4f}"),
        ]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def _fit_stats(S: np.ndarray, Sigma: np.ndarray, n: int, n_free_cov: int) -> dict:
    p = S.shape[0]
    _, ld_sig = np.linalg.slogdet(Sigma)
    _, ld_s = np.linalg.slogdet(S)
    F = ld_sig + np.trace(S @ np.linalg.inv(Sigma)) - ld_s - p
    chisq = n * F
    dof = p * (p + 1) // 2 - n_free_cov
    Fb = np.sum(np.log(np.diag(S))) - ld_s
    chib = n * Fb
    dfb = p * (p - 1) // 2
    cfi_den = max(chib - dfb, chisq - dof, 0.0)
    cfi = 1.0 - max(chisq - dof, 0.0) / cfi_den if cfi_den > 0 else 1.0
    tli = ((chib / dfb) - (chisq / dof)) / ((chib / dfb) - 1.0) if dof > 0 else np.nan
    rmsea = math.sqrt(max(chisq - dof, 0.0) / (dof * n)) if dof > 0 else 0.0
    sd = np.sqrt(np.diag(S))
    resid = (S - Sigma) / np.outer(sd, sd)
    iu = np.triu_indices(p)
    # lavaan's SRMR with a saturated mean structure: the p mean residuals (all 0) count too
    srmr = math.sqrt(np.sum(resid[iu] ** 2) / (len(iu[0]) + p))
    return dict(chisq=float(chisq), df=int(dof), pvalue=float(stats.chi2.sf(chisq, dof)) if dof > 0 else np.nan,
                cfi=float(cfi), tli=float(tli), rmsea=float(rmsea), srmr=float(srmr), n=int(n),
                baseline_chisq=float(chib), baseline_df=int(dfb))


def riclpm(
    data: pd.DataFrame,
    *,
    x: str,
    y: str,
    patient: str = "patient",
    wave: str = "wave",
    waves: Sequence[int] | None = None,
    constrain: bool = False,
) -> RICLPM:
    r"""Fit a random-intercept cross-lagged panel model (Hamaker, Kuiper & Grasman 2015).

    The model (:func:`riclpm_syntax`) separates stable between-person differences
    (random intercepts) from within-person carry-over and cross-lagged effects.
    Estimated by maximum likelihood with semopy (objective ``"MLW"``, SLSQP with
    ``ftol = 1e-14``) on the covariance matrix of the complete cases; the wave means
    are saturated, so the estimates equal lavaan's ML estimates with a mean
    structure (checked to 1e-3, in practice 1e-6). Patients missing any wave are
    dropped (counted in ``n_dropped``; semopy's FIML did not reproduce lavaan on
    the test data, so it is not offered).

    Fit statistics are computed by hand from the sample covariance :math:`S`
    (denominator N) and the implied :math:`\Sigma`: :math:`\chi^2 = N F_{ML}`,
    :math:`F_{ML} = \log|\Sigma| + \operatorname{tr}(S\Sigma^{-1}) - \log|S| - p`;
    CFI and TLI against the independence model; RMSEA
    :math:`= \sqrt{\max(\chi^2 - df, 0)/(df\,N)}`; SRMR as lavaan's (Bentler's,
    with the saturated means).

    Parameters
    ----------
    data : pandas.DataFrame
        Long table, one row per patient and wave.
    x, y : str
        The two variables (e.g. ``"alliance"``, ``"symptom"``).
    patient, wave : str
    waves : sequence of int, optional
        Which waves to use, in order (default: all, sorted). At least 3.
    constrain : bool, default False
        Equal lagged paths across waves.

    Returns
    -------
    RICLPM

    References
    ----------
    Hamaker, E. L., Kuiper, R. M., & Grasman, R. P. P. P. (2015). *Psychological Methods,
    20*(1), 102--116.

    Examples
    --------
    >>> from analysis.simulate import simulate_trial
    >>> sim = simulate_trial(n_therapists=20, caseload=8, seed=3)
    >>> waves = sim.sessions[sim.sessions["session"].between(1, 4)]
    >>> fit = riclpm(waves, x="alliance", y="symptom", wave="session")
    >>> fit.fit["df"], len(fit.lagged)
    (9, 12)
    """
    import semopy

    clean = check_long(data, patient, wave, [x, y])
    all_waves = sorted(clean["session"].unique().tolist())
    use = all_waves if waves is None else [int(w) for w in waves]
    miss = [w for w in use if w not in all_waves]
    if miss:
        raise ValueError(f"`waves`: wave(s) {miss} are not in column {wave!r}.")
    if len(use) < 3:
        raise ValueError("`waves`: the RI-CLPM needs at least 3 waves.")
    W = len(use)
    sub = clean[clean["session"].isin(use)]
    wide = sub.pivot(index="patient", columns="session", values=[x, y])
    cols = {}
    for k, w in enumerate(use, start=1):
        cols[f"x{k}"] = wide[(x, w)] if (x, w) in wide.columns else np.nan
        cols[f"y{k}"] = wide[(y, w)] if (y, w) in wide.columns else np.nan
    wd = pd.DataFrame(cols)
    n_all = len(wd)
    wd = wd.dropna()
    n = len(wd)
    notes = []
    if n < n_all:
        notes.append(f"{n_all - n} of {n_all} patients miss at least one wave and were dropped (complete cases)")
    p = 2 * W
    if n <= p:
        raise ValueError(f"`data`: {n} complete patients for {p} variables; the RI-CLPM needs more patients.")
    syntax = riclpm_syntax(W, "x", "y", constrain=constrain)
    model = semopy.Model(syntax)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = model.fit(wd, obj="MLW", solver="SLSQP", options={"ftol": 1e-14, "maxiter": 10000})
    notes += sorted({str(w.message).splitlines()[0] for w in caught})
    if hasattr(res, "success") and not res.success:
        notes.append(f"optimizer did not report success: {getattr(res, 'message', '')}")
    ins = model.inspect()
    ins = ins[ins["Std. Err"].astype(str) != "-"].copy()
    params = pd.DataFrame({
        "lhs": ins["lval"].to_numpy(), "op": ins["op"].to_numpy(), "rhs": ins["rval"].to_numpy(),
        "estimate": ins["Estimate"].astype(float).to_numpy(), "se": ins["Std. Err"].astype(float).to_numpy(),
    })
    params["z"] = params["estimate"] / params["se"]
    params["p"] = 2 * stats.norm.sf(np.abs(params["z"]))
    if constrain:
        params = params.drop_duplicates(subset=["lhs", "op", "rhs"])
    reg = params[params["op"] == "~"].copy()
    lab = {("wx", "wx"): "x -> x", ("wx", "wy"): "y -> x", ("wy", "wx"): "x -> y", ("wy", "wy"): "y -> y"}
    reg["path"] = [lab[(l[:2], r[:2])] for l, r in zip(reg["lhs"], reg["rhs"])]
    reg["wave"] = [use[int(l[2:]) - 1] for l in reg["lhs"]]
    lagged = reg[["path", "wave", "lhs", "rhs", "estimate", "se", "z", "p"]].sort_values(
        ["path", "wave"]).reset_index(drop=True)
    order = [f"x{k}" for k in range(1, W + 1)] + [f"y{k}" for k in range(1, W + 1)]
    S = np.cov(wd[order].to_numpy().T, ddof=0)
    sigma, _ = model.calc_sigma()
    names = model.vars["observed"]
    idx = [names.index(v) for v in order]
    Sigma = np.asarray(sigma)[np.ix_(idx, idx)]
    n_free = int(len(model.param_vals))
    fit = _fit_stats(S, Sigma, n, n_free)
    # rename x/y back to the user's variables in the parameter table
    ren = {**{f"x{k}": f"{x}{use[k - 1]}" for k in range(1, W + 1)},
           **{f"y{k}": f"{y}{use[k - 1]}" for k in range(1, W + 1)}}
    params["lhs"] = params["lhs"].replace(ren)
    params["rhs"] = params["rhs"].replace(ren)
    return RICLPM(params=params, lagged=lagged, fit=fit, syntax=syntax, n=n, n_dropped=n_all - n, x=x, y=y,
                  notes=notes)
