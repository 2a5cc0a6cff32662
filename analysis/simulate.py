r"""A truth-known, calibrated simulator of psychotherapy trials (alliance and technique).

``simulate_trial`` draws patients nested in therapists, session-by-session
working-alliance ratings on the WAI-SR metric (item mean, 1--5) and PHQ-9
symptom scores (0--27), with the generating values returned beside the data so
that every estimator of the workbook can be checked against the truth.

Generating model
----------------
Indices: therapist :math:`j = 1..J`, patient :math:`i` (seen by therapist
:math:`j(i)`), session :math:`t = 1..T`; :math:`t = 0` is intake. Arm
:math:`x_i \in \{0, 1\}` is randomised per patient with probability
``allocation``.

**Alliance** (WAI-SR item mean; latent values before rounding and clipping)

.. math::

    A^{*}_{it} = \mu_A + g\,(t-1) + a_j + b_i + s_{it} - R_{it}
                 + \kappa\,(Y^{*}_{i,t-1} - Y^{*}_{it}),\qquad
    A_{it} = \operatorname{clip}_{[1,5]}\bigl(\operatorname{round}_{1/12}(A^{*}_{it} + e_{it})\bigr)

with therapist component :math:`a_j \sim N(0, \rho_A \sigma_A^2)`, patient trait
:math:`b_i \sim N(0, \pi (r_A - \rho_A)\sigma_A^2)`, state
:math:`s_{it}` a stationary AR(1) with autocorrelation :math:`\phi` and variance
:math:`(1-\pi)(r_A - \rho_A)\sigma_A^2`, measurement error
:math:`e_{it} \sim N(0, (1 - r_A)\sigma_A^2)`. So :math:`\sigma_A` is the SD of one
session's rating (ruptures aside), :math:`\rho_A` (``alliance_icc``) its
therapist share and :math:`r_A` (``alliance_reliability``) its reliability.
Ruptures: in each session a rupture occurs with probability ``rupture_rate``
and lowers the alliance by ``rupture_depth``; it is repaired with probability
``repair_prob`` (the dip lasts that session only), otherwise the deficit
persists for the rest of treatment. :math:`R_{it}` is the summed deficit.
Reverse causation: :math:`\kappa` (``reverse_causation``, WAI-SR points per PHQ-9
point) raises the rating of session :math:`t` by the symptom improvement since the
previous measurement, which precedes the rating.

**Symptoms** (PHQ-9 total; latent :math:`Y^{*}`, observed :math:`Y`)

.. math::

    Y^{*}_{i0} = \mu_0 + p_i,\quad p_i \sim N(0, \sigma_0^2);\qquad
    Y^{*}_{it} = Y^{*}_{i0} - D_i\, G_i(t);\qquad
    Y_{it} = \operatorname{clip}_{[0,27]}\bigl(\operatorname{round}(Y^{*}_{it} + m_{it})\bigr)

    D_i = \delta + \tau x_i + \theta_j + \beta_B a_j + \beta_W \tilde w_i + \varepsilon_i

with measurement error :math:`m_{it} \sim N(0, \sigma_0^2 (1-r_Y)/r_Y)` so that an
intake score has reliability :math:`r_Y` (``symptom_reliability``). The improvement
:math:`D_i` depends on the therapist's alliance component :math:`a_j` (between-therapist
coefficient :math:`\beta_B`, ``alliance_between``) and on the patient's own
deviation :math:`\tilde w_i = b_i + \bar s_i - (\bar R_i - E\bar R)` (within,
:math:`\beta_W`, ``alliance_within``), both in PHQ-9 points per WAI-SR point of the
patient's mean alliance over the :math:`T` planned sessions; :math:`\theta_j \sim N(0,
\sigma_\theta^2)` is the therapist effect not carried by the alliance and
:math:`\varepsilon_i` the patient residual. The course
:math:`G(t) = \log(1+t)/\log(1+T)` is negatively accelerated (a dose--response
shape); a sudden gainer (probability ``sudden_gain_prob``) makes the share
``sudden_gain_share`` (:math:`q`) of its improvement between two adjacent sessions:
:math:`G_i(t) = (1-\gamma_i) G(t) + \gamma_i\,1[t \ge t^{sg}_i]`, :math:`t^{sg}_i` uniform on
:math:`2..T-1`, with :math:`\gamma_i = (q - \Delta G)/(1 - \Delta G)`,
:math:`\Delta G = G(t^{sg}_i) - G(t^{sg}_i - 1)` (0 if :math:`q < \Delta G`). Pre is :math:`Y_{i0}`, post :math:`Y_{iT}`.

**Dropout** after session :math:`t < T` with hazard
:math:`\operatorname{logit} h_{it} = \eta_0 + \eta z_{it}`: MCAR :math:`\eta = 0`; MAR
:math:`z_{it}` is the standardised *observed* score at session :math:`t`; MNAR
:math:`z_{it}` the standardised *unobserved* latent score at :math:`t+1`. The intercept
:math:`\eta_0` is solved so that the expected share of dropouts in the sample
equals ``dropout_rate`` exactly. Sessions after dropout stay in the long table with
``attended = False`` and missing scores.

Calibration
-----------
The free coefficients are solved from the targets users think in, using exact
moments of the model (complete data, before rounding and clipping):

- ``alliance_outcome_r = 0.28``: correlation of the observed patient mean alliance
  with observed pre--post improvement. Flückiger, Del Re, Wampold & Horvath (2018),
  face-to-face r = .278, 95% CI [.256, .299]. With ``alliance_within`` and
  ``alliance_between`` left ``None`` they are set equal (no contextual effect) and
  solved to meet the target; give both to set them directly (then the implied r is
  reported in ``truth``).
- ``therapist_icc = 0.05``: therapist share of the within-arm variance of post
  scores adjusted for pre (residual variance of the regression of post on pre),
  :math:`(\sigma_\theta^2 + \beta_B^2 \rho_A\sigma_A^2) / \operatorname{Var}(Y_{iT} \mid Y_{i0})`.
  Johns, Barkham, Kellett & Saxon (2019): weighted average 5% (RCTs 8.2%).
- ``treatment_d = 0.06``: arm 1 ends lower than arm 0 by :math:`d` within-arm SDs of
  the post score: :math:`\tau = d\,\mathrm{SD}(Y_{iT})` added to the improvement. Cuijpers et al.
  (2023): CBT vs other psychotherapies g = 0.06 [0, 0.12]; Wampold et al. (1997):
  bona fide treatments differ little (upper bound about .20). Set 0.79 for CBT vs
  control (Cuijpers et al. 2023).
- ``sudden_gain_share = 0.5``: Tang & DeRubeis (1999), a sudden gain was on average
  50% of total improvement.
- Assumptions, not calibrated to a read source (change them for your setting):
  intake mean 16 and SD 4 (moderate depression at trial entry), mean improvement 6 and
  SD of improvement 5 PHQ-9 points, symptom reliability .85 (PHQ-9 internal
  consistency is usually reported near .86--.89, Kroenke, Spitzer & Williams 2001,
  unchecked), alliance mean 3.9 and SD 0.6, alliance reliability .85 (WAI-SR α > .80,
  Munder et al. 2010), alliance ICC .10, trait share .6, state autocorrelation .5,
  growth 0.02 per session, rupture rate .10 per session, depth 0.4, repair probability
  .6, sudden-gain probability .2, 12 sessions, 40 therapists with 8 patients each.

References
----------
Baldwin, S. A., Wampold, B. E., & Imel, Z. E. (2007). Untangling the alliance-outcome
correlation. *J Consult Clin Psychol, 75*(6), 842--852.
Cuijpers, P., et al. (2023). *World Psychiatry, 22*(1), 105--115.
Flückiger, C., Del Re, A. C., Wampold, B. E., & Horvath, A. O. (2018). *Psychotherapy,
55*(4), 316--340.
Johns, R. G., Barkham, M., Kellett, S., & Saxon, D. (2019). *Clin Psychol Rev, 67*, 78--93.
Tang, T. Z., & DeRubeis, R. J. (1999). *J Consult Clin Psychol, 67*(6), 894--904.
Wampold, B. E., et al. (1997). *Psychol Bull, 122*(3), 203--215.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
import inspect
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, special

from analysis._checks import as_float_array, check_finite, check_integer_valued, first_bad, suggest_name

__all__ = ["SimulatedTrial", "simulate_trial", "implied_population"]

PHQ9_RANGE = (0, 27)
WAI_RANGE = (1.0, 5.0)
_DROPOUT = ("MCAR", "MAR", "MNAR")
_CASELOAD = ("fixed", "poisson", "negbin")


@dataclass
class SimulatedTrial:
    """A simulated trial: data and the truth that generated it.

    Attributes
    ----------
    sessions : pandas.DataFrame
        Long table, one row per patient and session (0 = intake): ``patient``,
        ``therapist``, ``arm``, ``session``, ``attended``, ``symptom`` (PHQ-9, 0--27,
        integer-valued, missing after dropout), ``alliance`` (WAI-SR item mean,
        1--5 in steps of 1/12; missing at intake and after dropout), ``rupture``
        and ``repaired`` (true events of that session).
    patients : pandas.DataFrame
        Wide table, one row per patient: ``patient``, ``therapist``, ``arm``,
        ``pre``, ``post`` (missing for dropouts), ``change`` (pre − post, positive =
        improvement), ``alliance_mean`` (mean of the observed ratings),
        ``alliance_early`` (mean of the observed ratings of sessions 1--3),
        ``sessions_attended``, ``completed``.
    params : dict
        Every argument of the call (the seed as given plus its entropy).
    truth : dict
        Solved coefficients and implied population values (``alliance_within``,
        ``alliance_between``, ``therapist_sd``, ``residual_sd``, ``tau``,
        ``alliance_outcome_r``, ``therapist_icc``, ``alliance_icc``, ...), the data
        frames ``therapists`` (true components per therapist) and ``latent`` (latent
        patient values: intake and post before error, rounding and clipping, the
        same with measurement error before rounding/clipping, improvement ``D``,
        mean alliance before rounding/clipping, sudden gain, dropout session).
    """

    sessions: pd.DataFrame
    patients: pd.DataFrame
    params: dict
    truth: dict = field(repr=False)

    def summary(self) -> str:
        """A readable account of the design and the generating values."""
        p, t = self.params, self.truth
        n_pat = len(self.patients)
        n_th = self.patients["therapist"].nunique()
        lines = [
            "SIMULATED trial (not real data)",
            f"  {n_pat} patients, {n_th} therapists, {p['n_sessions']} sessions, seed {p['seed']!r}",
            f"  alliance-outcome r (population) = {t['alliance_outcome_r']:.3f}",
            f"  therapist ICC of outcome (post | pre) = {t['therapist_icc']:.3f}",
            f"  therapist ICC of one alliance rating = {t['alliance_icc']:.3f}",
            f"  alliance coefficients: within = {t['alliance_within']:.3f}, "
            f"between = {t['alliance_between']:.3f} PHQ-9 points per WAI-SR point",
            f"  treatment d = {p['treatment_d']:.3f} (tau = {t['tau']:.3f} PHQ-9 points)",
            f"  dropout: {p['dropout']} at rate {p['dropout_rate']:.2f}; observed "
            f"{1 - self.patients['completed'].mean():.3f}",
        ]
        return "\n".join(lines)


def _check_number(name: str, value: Any, low: float | None = None, high: float | None = None,
                  *, low_open: bool = False, high_open: bool = False) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"`{name}` must be a number; got {value!r}.")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"`{name}` must be finite; got {value!r}.")
    if abs(v) > _MAX_MAGNITUDE:
        raise ValueError(f"`{name}` = {value!r} is outside the scale the simulator works on (|value| <= "
                         f"{_MAX_MAGNITUDE:g}; scores are on the PHQ-9 0-27 and WAI-SR 1-5 metrics).")
    if low is not None and (v < low or (low_open and v == low)):
        op = ">" if low_open else ">="
        raise ValueError(f"`{name}` must be {op} {low}; got {value!r}.")
    if high is not None and (v > high or (high_open and v == high)):
        op = "<" if high_open else "<="
        raise ValueError(f"`{name}` must be {op} {high}; got {value!r}.")
    return v


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"`{name}` must be a whole number; got {value!r}.")
    if value < low:
        raise ValueError(f"`{name}` must be >= {low}; got {value!r}.")
    return int(value)


def _state_mean_var(var_s: float, phi: float, T: int) -> float:
    """Variance of the mean of T values of a stationary AR(1) with variance var_s."""
    lags = np.arange(1, T)
    return var_s / T**2 * (T + 2.0 * np.sum((T - lags) * phi**lags))


def _rupture_moments(rate: float, depth: float, repair: float, T: int) -> tuple[float, float]:
    """Mean and variance of the patient-mean rupture deficit over T sessions."""
    t = np.arange(1, T + 1)
    c_unrep = (T - t + 1) / T
    c_rep = 1.0 / T
    ex = rate * depth * (repair * c_rep + (1 - repair) * c_unrep)
    ex2 = rate * depth**2 * (repair * c_rep**2 + (1 - repair) * c_unrep**2)
    return float(ex.sum()), float(np.sum(ex2 - ex**2))


def implied_population(p: dict) -> dict:
    """Solve the free coefficients and return the implied population values.

    Parameters
    ----------
    p : dict
        Arguments of :func:`simulate_trial` (as in ``SimulatedTrial.params``); keys left
        out take simulate_trial's defaults, ``seed`` is ignored. Checked as in
        simulate_trial.

    Returns
    -------
    dict
        ``alliance_within``, ``alliance_between`` (β_W, β_B), ``therapist_sd`` (σ_θ),
        ``residual_sd`` (SD of ε), ``tau`` (treatment effect on improvement, PHQ-9
        points), ``alliance_outcome_r`` (implied r of observed mean alliance with
        observed improvement), ``therapist_icc`` (post given pre, within arm),
        ``alliance_icc`` (one session's rating), ``post_sd`` (within arm), the
        variance pieces used, and ``symptom_error_sd``.

    Notes
    -----
    Exact for complete data before rounding and clipping (see the module
    docstring). Cov(Ā, C) = β_B V_a + β_W V_w + κ V_D / T and
    Var(Ā) = V_a + V_w + σ_e²/T + κ² V_D / T² + 2κ(β_B V_a + β_W V_w)/T, where
    V_a, V_w are the therapist and within-therapist variances of the latent mean
    alliance, C = pre − post, Var(C) = V_D + 2σ_m².

    References
    ----------
    Flückiger, C., Del Re, A. C., Wampold, B. E., & Horvath, A. O. (2018). *Psychotherapy,
    55*(4), 316--340.
    Johns, R. G., Barkham, M., Kellett, S., & Saxon, D. (2019). *Clin Psychol Rev, 67*, 78--93.
    Cuijpers, P., et al. (2023). *World Psychiatry, 22*(1), 105--115.
    (the calibration targets; the moment equations are derived for this model in the
    module docstring, not taken from a source).

    Raises
    ------
    ValueError
        When `p` is not a dict, has a key that is not an argument of simulate_trial (with
        the nearest name), a value out of range (naming it), or targets the model cannot
        reach.

    Examples
    --------
    >>> from analysis.simulate import simulate_trial
    >>> round(simulate_trial(seed=1).truth["alliance_outcome_r"], 3)
    0.28
    >>> round(implied_population({"therapist_icc": 0.2})["therapist_icc"], 3)
    0.2
    """
    if not isinstance(p, Mapping):
        raise ValueError(f"`p` must be a dict of simulate_trial's arguments; got {type(p).__name__}.")
    for key in p:
        if key != "seed" and key not in _PARAM_NAMES:
            raise ValueError(f"`p` has the key {key!r}, which is not an argument of simulate_trial."
                             f"{suggest_name(key, _PARAM_NAMES)}")
    p = _checked_params({**_DEFAULTS, **{k: v for k, v in p.items() if k != "seed"}})
    T = p["n_sessions"]
    sA2 = p["alliance_sd"] ** 2
    rhoA, relA, pi = p["alliance_icc"], p["alliance_reliability"], p["alliance_trait_share"]
    V_a = rhoA * sA2
    var_b = pi * (relA - rhoA) * sA2
    var_s = (1 - pi) * (relA - rhoA) * sA2
    var_e = (1 - relA) * sA2
    rup_mean, rup_var = _rupture_moments(p["rupture_rate"], p["rupture_depth"], p["repair_prob"], T)
    V_w = var_b + _state_mean_var(var_s, p["alliance_state_autocorr"], T) + rup_var
    V_D = p["change_sd"] ** 2
    s0 = p["intake_sd"]
    relY = p["symptom_reliability"]
    var_m = s0**2 * (1 - relY) / relY
    kappa = p["reverse_causation"]
    var_C = V_D + 2 * var_m
    V_res = V_D + var_m + (1 - relY) * s0**2  # Var(post | pre) within arm
    post_sd = math.sqrt(s0**2 + V_D + var_m)

    def r_of(bw: float, bb: float) -> float:
        cov = bb * V_a + bw * V_w + kappa * V_D / T
        var_A = V_a + V_w + var_e / T + kappa**2 * V_D / T**2 + 2 * kappa * (bb * V_a + bw * V_w) / T
        return float(cov / math.sqrt(var_A * var_C))

    bw, bb = p["alliance_within"], p["alliance_between"]
    if bw is None:
        target = p["alliance_outcome_r"]
        # r is increasing in a common coefficient beta on the feasible range.
        bmax = math.sqrt(V_D / (V_a + V_w))
        if r_of(bmax, bmax) < target:
            raise ValueError(
                f"`alliance_outcome_r` = {target} cannot be reached: with these variances the "
                f"largest attainable r is {r_of(bmax, bmax):.3f} (raise `change_sd` or "
                "`alliance_reliability`)."
            )
        lo = -bmax
        if r_of(lo, lo) > target:
            raise ValueError(f"`alliance_outcome_r` = {target} is below the attainable range.")
        beta = optimize.brentq(lambda b: r_of(b, b) - target, lo, bmax, xtol=1e-14, rtol=1e-14)
        bw = bb = beta
    V_T = p["therapist_icc"] * V_res
    var_theta = V_T - bb**2 * V_a
    if var_theta < 0:
        raise ValueError(
            f"`therapist_icc` = {p['therapist_icc']} is too small for the between-therapist alliance "
            f"effect ({bb:.3f}): the alliance alone gives a therapist share of {bb**2 * V_a / V_res:.4f}."
        )
    var_eps = V_D - V_T - bw**2 * V_w
    if var_eps <= 0:
        raise ValueError(
            "`change_sd` is too small for the alliance and therapist effects requested "
            f"(residual variance would be {var_eps:.4f})."
        )
    return {
        "alliance_within": float(bw),
        "alliance_between": float(bb),
        "therapist_sd": math.sqrt(var_theta),
        "residual_sd": math.sqrt(var_eps),
        "tau": p["treatment_d"] * post_sd,
        "alliance_outcome_r": r_of(bw, bb),
        "therapist_icc": V_T / V_res,
        "alliance_icc": rhoA,
        "post_sd": post_sd,
        "residual_post_given_pre_var": V_res,
        "alliance_therapist_var": V_a,
        "alliance_trait_var": var_b,
        "alliance_state_var": var_s,
        "alliance_error_var": var_e,
        "alliance_within_mean_var": V_w,
        "rupture_deficit_mean": rup_mean,
        "symptom_error_sd": math.sqrt(var_m),
    }


def _caseloads(rng: np.random.Generator, n_therapists: int, caseload: Any, dist: str,
               dispersion: float, n_sessions: int = 1) -> np.ndarray:
    """Patients per therapist; `caseload` was checked by :func:`_check_caseload`."""
    if isinstance(caseload, list):
        return np.asarray(caseload, dtype=np.int64)
    m = float(caseload)
    if dist == "fixed":
        return np.full(n_therapists, int(m), dtype=np.int64)
    extra = m - 1.0  # every therapist sees at least one patient
    if dist == "poisson":
        n_j = 1 + rng.poisson(extra, n_therapists)
    elif extra == 0:
        n_j = np.ones(n_therapists, dtype=np.int64)
    else:
        # negative binomial with mean `extra` and size `dispersion` (variance extra + extra^2/size)
        prob = dispersion / (dispersion + extra)
        try:
            n_j = 1 + rng.negative_binomial(dispersion, prob, n_therapists)
        except ValueError:
            raise ValueError(f"`caseload_dispersion` = {dispersion!r} is too small for a mean caseload of {m!r}: "
                             "numpy cannot draw such a negative binomial; use a larger dispersion.") from None
    if float(n_j.sum()) * (n_sessions + 1) > _MAX_SESSION_ROWS:
        raise ValueError(f"The drawn caseloads total {int(n_j.sum())} patients, too many to simulate in one call "
                         f"(`caseload` = {m!r}, `caseload_dispersion` = {dispersion!r}).")
    return n_j


#: Arguments of :func:`simulate_trial` other than ``seed``, in order.
_PARAM_NAMES = (
    'n_therapists', 'caseload', 'caseload_dist', 'caseload_dispersion', 'n_sessions', 'allocation',
    'treatment_d', 'alliance_outcome_r', 'alliance_within', 'alliance_between', 'therapist_icc',
    'alliance_icc', 'alliance_mean', 'alliance_sd', 'alliance_reliability', 'alliance_trait_share',
    'alliance_state_autocorr', 'alliance_growth', 'rupture_rate', 'rupture_depth', 'repair_prob',
    'sudden_gain_prob', 'sudden_gain_share', 'reverse_causation', 'intake_mean', 'intake_sd', 'mean_change',
    'change_sd', 'symptom_reliability', 'dropout', 'dropout_rate', 'dropout_strength', 'early_sessions',
)

#: Largest absolute value accepted for a parameter without a natural bound. The simulator
#: works on the PHQ-9 (0--27) and WAI-SR (1--5) metrics; beyond this the arithmetic overflows
#: long before the numbers mean anything.
_MAX_MAGNITUDE = 1e6

#: Largest long table (patients x (sessions + 1) rows) simulated in one call (memory).
_MAX_SESSION_ROWS = 50_000_000


def _check_seed(seed: Any) -> np.random.SeedSequence:
    """A SeedSequence from an int >= 0, a SeedSequence or None, naming `seed` otherwise."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is None:
        return np.random.SeedSequence()
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, (bool, np.bool_)):
        if seed < 0:
            raise ValueError(f"`seed` must be >= 0; got {seed!r}.")
        return np.random.SeedSequence(int(seed))
    raise ValueError(f"`seed` must be an int, a numpy SeedSequence or Generator, or None; got {seed!r}.")


def _check_caseload(caseload: Any, n_therapists: int, dist: str) -> Any:
    """The caseload as given (a number) or as a list of ints (one per therapist), checked."""
    if isinstance(caseload, (list, tuple, np.ndarray, pd.Series)):
        arr = as_float_array("caseload", caseload)
        if arr.size != n_therapists:
            raise ValueError(f"`caseload` as a sequence must have one entry per therapist ({n_therapists}); "
                             f"got {arr.size}.")
        check_finite("caseload", arr)
        check_integer_valued("caseload", arr)
        bad = arr < 1
        if bad.any():
            raise ValueError(f"`caseload` must be >= 1 for every therapist; {first_bad(bad)} has {arr[bad][0]!r}.")
        if arr.max() > _MAX_MAGNITUDE:
            raise ValueError(f"`caseload` has {arr.max()!r} patients for one therapist; at most {_MAX_MAGNITUDE:g}.")
        return [int(v) for v in arr]
    if caseload is None or isinstance(caseload, (str, bytes, dict)):
        raise ValueError(f"`caseload` must be a number or a sequence with one whole number per therapist; "
                         f"got {caseload!r}.")
    m = _check_number("caseload", caseload, 1.0)
    if dist == "fixed" and m != round(m):
        raise ValueError(f"`caseload` must be a whole number when caseload_dist='fixed'; got {caseload!r}.")
    return caseload


def _checked_params(a: Any) -> dict:
    """Check the arguments of :func:`simulate_trial` (all but ``seed``); the ``params`` record."""
    # the names of simulate_trial, so that the checks read as in its signature
    n_therapists, caseload, caseload_dist, caseload_dispersion, n_sessions, allocation, treatment_d, \
    alliance_outcome_r, alliance_within, alliance_between, therapist_icc, alliance_icc, alliance_mean, \
    alliance_sd, alliance_reliability, alliance_trait_share, alliance_state_autocorr, alliance_growth, \
    rupture_rate, rupture_depth, repair_prob, sudden_gain_prob, sudden_gain_share, reverse_causation, \
    intake_mean, intake_sd, mean_change, change_sd, symptom_reliability, dropout, dropout_rate, \
    dropout_strength, early_sessions = (
        a[k] for k in _PARAM_NAMES)
    J = _check_int("n_therapists", n_therapists, 2)
    T = _check_int("n_sessions", n_sessions, 4)
    early = _check_int("early_sessions", early_sessions, 1)
    if early > T:
        raise ValueError(f"`early_sessions` must be <= n_sessions ({T}); got {early}.")
    if caseload_dist not in _CASELOAD:
        raise ValueError(f"`caseload_dist` must be one of {_CASELOAD}; got {caseload_dist!r}.")
    if dropout not in _DROPOUT:
        raise ValueError(f"`dropout` must be one of {_DROPOUT}; got {dropout!r}.")
    disp = _check_number("caseload_dispersion", caseload_dispersion, 0.0, low_open=True)
    alloc = _check_number("allocation", allocation, 0.0, 1.0, low_open=True, high_open=True)
    d = _check_number("treatment_d", treatment_d)
    if (alliance_within is None) != (alliance_between is None):
        raise ValueError("`alliance_within` and `alliance_between` must be given together (or both None).")
    if alliance_within is None:
        if alliance_outcome_r is None:
            raise ValueError("`alliance_outcome_r` is required when `alliance_within`/`alliance_between` are None.")
        r_target = _check_number("alliance_outcome_r", alliance_outcome_r, -1.0, 1.0, low_open=True, high_open=True)
        bw = bb = None
    else:
        if alliance_outcome_r is not None and alliance_outcome_r != 0.28:
            raise ValueError("Give either `alliance_outcome_r` or `alliance_within`/`alliance_between`, not both.")
        r_target = None
        bw = _check_number("alliance_within", alliance_within)
        bb = _check_number("alliance_between", alliance_between)
    icc_y = _check_number("therapist_icc", therapist_icc, 0.0, 1.0, high_open=True)
    relA = _check_number("alliance_reliability", alliance_reliability, 0.0, 1.0, low_open=True)
    icc_a = _check_number("alliance_icc", alliance_icc, 0.0, 1.0, high_open=True)
    if icc_a >= relA:
        raise ValueError(f"`alliance_icc` ({icc_a}) must be below `alliance_reliability` ({relA}).")
    muA = _check_number("alliance_mean", alliance_mean, 1.0, 5.0)
    sA = _check_number("alliance_sd", alliance_sd, 0.0, low_open=True)
    pi = _check_number("alliance_trait_share", alliance_trait_share, 0.0, 1.0)
    phi = _check_number("alliance_state_autocorr", alliance_state_autocorr, -1.0, 1.0, low_open=True, high_open=True)
    growth = _check_number("alliance_growth", alliance_growth)
    rr = _check_number("rupture_rate", rupture_rate, 0.0, 1.0)
    rdepth = _check_number("rupture_depth", rupture_depth, 0.0)
    rep = _check_number("repair_prob", repair_prob, 0.0, 1.0)
    sgp = _check_number("sudden_gain_prob", sudden_gain_prob, 0.0, 1.0)
    sgs = _check_number("sudden_gain_share", sudden_gain_share, 0.0, 1.0)
    kappa = _check_number("reverse_causation", reverse_causation)
    mu0 = _check_number("intake_mean", intake_mean, *PHQ9_RANGE)
    s0 = _check_number("intake_sd", intake_sd, 0.0, low_open=True)
    delta = _check_number("mean_change", mean_change)
    sD = _check_number("change_sd", change_sd, 0.0, low_open=True)
    relY = _check_number("symptom_reliability", symptom_reliability, 0.0, 1.0, low_open=True)
    drate = _check_number("dropout_rate", dropout_rate, 0.0, 1.0, high_open=True)
    dstr = _check_number("dropout_strength", dropout_strength)
    params = dict(
        n_therapists=J, caseload=_check_caseload(caseload, J, caseload_dist),
        caseload_dist=caseload_dist, caseload_dispersion=disp, n_sessions=T, allocation=alloc,
        treatment_d=d, alliance_outcome_r=r_target, alliance_within=bw, alliance_between=bb,
        therapist_icc=icc_y, alliance_icc=icc_a, alliance_mean=muA, alliance_sd=sA,
        alliance_reliability=relA, alliance_trait_share=pi, alliance_state_autocorr=phi,
        alliance_growth=growth, rupture_rate=rr, rupture_depth=rdepth, repair_prob=rep,
        sudden_gain_prob=sgp, sudden_gain_share=sgs, reverse_causation=kappa, intake_mean=mu0,
        intake_sd=s0, mean_change=delta, change_sd=sD, symptom_reliability=relY, dropout=dropout,
        dropout_rate=drate, dropout_strength=dstr, early_sessions=early,
    )
    n_pat = sum(params["caseload"]) if isinstance(params["caseload"], list) else J * float(params["caseload"])
    rows = n_pat * (T + 1)
    if rows > _MAX_SESSION_ROWS:
        raise ValueError(
            f"The trial would have about {n_pat:.4g} patients x {T + 1} sessions = {rows:.4g} rows; at most "
            f"{_MAX_SESSION_ROWS:,} are simulated in one call (memory). Lower `n_therapists`, `caseload` or "
            "`n_sessions`."
        )
    return params


def simulate_trial(
    n_therapists: int = 40,
    caseload: float | Sequence[int] = 8,
    caseload_dist: str = "fixed",
    caseload_dispersion: float = 2.0,
    n_sessions: int = 12,
    allocation: float = 0.5,
    treatment_d: float = 0.06,
    alliance_outcome_r: float | None = 0.28,
    alliance_within: float | None = None,
    alliance_between: float | None = None,
    therapist_icc: float = 0.05,
    alliance_icc: float = 0.10,
    alliance_mean: float = 3.9,
    alliance_sd: float = 0.6,
    alliance_reliability: float = 0.85,
    alliance_trait_share: float = 0.6,
    alliance_state_autocorr: float = 0.5,
    alliance_growth: float = 0.02,
    rupture_rate: float = 0.10,
    rupture_depth: float = 0.4,
    repair_prob: float = 0.6,
    sudden_gain_prob: float = 0.2,
    sudden_gain_share: float = 0.5,
    reverse_causation: float = 0.0,
    intake_mean: float = 16.0,
    intake_sd: float = 4.0,
    mean_change: float = 6.0,
    change_sd: float = 5.0,
    symptom_reliability: float = 0.85,
    dropout: str = "MCAR",
    dropout_rate: float = 0.0,
    dropout_strength: float = 1.0,
    early_sessions: int = 3,
    seed: int | np.random.SeedSequence | np.random.Generator | None = 0,
) -> SimulatedTrial:
    r"""Simulate a two-arm psychotherapy trial with therapists, alliance and symptoms.

    The generating model, its equations and what each default is calibrated to are
    in the module docstring (:mod:`analysis.simulate`); the solved coefficients and
    the implied population values come back in ``truth``.

    Parameters
    ----------
    n_therapists : int
        Number of therapists J (>= 2).
    caseload : float or sequence of int
        Mean patients per therapist, or one whole number per therapist.
    caseload_dist : {"fixed", "poisson", "negbin"}
        Fixed caseloads, or 1 + Poisson(caseload − 1), or 1 + negative binomial with
        mean caseload − 1 and size ``caseload_dispersion``.
    caseload_dispersion : float
        Size parameter of the negative binomial (smaller = more unequal caseloads).
    n_sessions : int
        Planned sessions T (>= 4).
    allocation : float
        Probability of arm 1.
    treatment_d : float
        Standardised advantage of arm 1 at post (within-arm SD of post).
    alliance_outcome_r : float or None
        Target correlation of observed mean alliance with observed improvement; used
        when ``alliance_within`` and ``alliance_between`` are None.
    alliance_within, alliance_between : float or None
        β_W and β_B, PHQ-9 points of improvement per WAI-SR point of the patient's
        (within) or therapist's (between) alliance. Give both or neither.
    therapist_icc : float
        Therapist share of Var(post | pre) within arm, in [0, 1).
    alliance_icc : float
        Therapist share of one session's alliance rating, in [0, alliance_reliability).
    alliance_mean, alliance_sd : float
        Mean at session 1 and SD of one session's rating (WAI-SR item metric).
    alliance_reliability : float
        Reliability of one session's rating, in (0, 1].
    alliance_trait_share : float
        Share of the true patient-level alliance variance that is stable (trait-like).
    alliance_state_autocorr : float
        AR(1) autocorrelation of the state-like part, in (−1, 1).
    alliance_growth : float
        Mean change of the alliance per session (WAI-SR points).
    rupture_rate, rupture_depth, repair_prob : float
        Probability of a rupture per session, the drop it causes (WAI-SR points), and
        the probability that it is repaired.
    sudden_gain_prob, sudden_gain_share : float
        Probability that a patient has a sudden gain, and the share of the patient's
        improvement made in it.
    reverse_causation : float
        κ, WAI-SR points added to a session's rating per PHQ-9 point of improvement
        since the previous measurement.
    intake_mean, intake_sd : float
        Mean and SD of the true intake PHQ-9 score.
    mean_change, change_sd : float
        Mean (arm 0) and within-arm SD of the true improvement D.
    symptom_reliability : float
        Reliability of an intake PHQ-9 score, in (0, 1].
    dropout : {"MCAR", "MAR", "MNAR"}
        Dropout mechanism.
    dropout_rate : float
        Expected share of patients who drop out, in [0, 1).
    dropout_strength : float
        η, log-odds of dropout per SD of the (observed or unobserved) score.
    early_sessions : int
        Sessions averaged for ``alliance_early``.
    seed : int, SeedSequence, Generator or None
        Seed of ``numpy.random.default_rng``; the same seed gives identical frames.

    Returns
    -------
    SimulatedTrial
        ``.sessions`` (long), ``.patients`` (wide), ``.params``, ``.truth``.

    Raises
    ------
    ValueError
        A parameter out of range or of the wrong type, naming it; a number without a
        natural bound beyond :math:`10^6` in absolute value (outside the scale of the
        PHQ-9 and WAI-SR metrics); a trial of more than 50 million session rows; a
        ``seed`` below 0; targets the model cannot reach (``alliance_outcome_r``,
        ``therapist_icc``, ``dropout_rate``).

    References
    ----------
    Baldwin, S. A., Wampold, B. E., & Imel, Z. E. (2007). Untangling the alliance-outcome
    correlation. *J Consult Clin Psychol, 75*(6), 842--852.
    Cuijpers, P., et al. (2023). *World Psychiatry, 22*(1), 105--115.
    Flückiger, C., Del Re, A. C., Wampold, B. E., & Horvath, A. O. (2018). *Psychotherapy,
    55*(4), 316--340.
    Johns, R. G., Barkham, M., Kellett, S., & Saxon, D. (2019). *Clin Psychol Rev, 67*, 78--93.
    Tang, T. Z., & DeRubeis, R. J. (1999). *J Consult Clin Psychol, 67*(6), 894--904.
    Wampold, B. E., et al. (1997). *Psychol Bull, 122*(3), 203--215.
    (the sources of the calibration targets; the model and the moment equations that
    solve its free coefficients are the workbook's own, see the module docstring).

    Examples
    --------
    >>> from analysis.simulate import simulate_trial
    >>> trial = simulate_trial(n_therapists=20, caseload=5, seed=42)
    >>> trial.patients.shape[0]
    100
    >>> bool(trial.sessions["symptom"].between(0, 27).all())
    True
    """
    # ---------------------------------------------------------------- validation
    args = dict(locals())  # the arguments only: nothing else is defined yet
    del args["seed"]
    params = _checked_params(args)
    if isinstance(seed, np.random.Generator):
        rng = seed
        seed_record: Any = "Generator"
    else:
        ss = _check_seed(seed)
        rng = np.random.default_rng(ss)
        seed_record = seed if isinstance(seed, (int, np.integer)) else f"SeedSequence(entropy={ss.entropy})"
    params["seed"] = seed_record
    pop = implied_population(params)
    J, T, early = params["n_therapists"], params["n_sessions"], params["early_sessions"]
    caseload, caseload_dist, disp = params["caseload"], params["caseload_dist"], params["caseload_dispersion"]
    alloc, muA, growth = params["allocation"], params["alliance_mean"], params["alliance_growth"]
    phi, rr, rdepth, rep = (params["alliance_state_autocorr"], params["rupture_rate"], params["rupture_depth"],
                            params["repair_prob"])
    sgp, sgs, kappa = params["sudden_gain_prob"], params["sudden_gain_share"], params["reverse_causation"]
    mu0, s0, delta = params["intake_mean"], params["intake_sd"], params["mean_change"]
    dropout, drate, dstr = params["dropout"], params["dropout_rate"], params["dropout_strength"]

    # ---------------------------------------------------------------- design
    n_j = _caseloads(rng, J, caseload, caseload_dist, disp, T)
    N = int(n_j.sum())
    th = np.repeat(np.arange(J), n_j)
    arm = (rng.random(N) < alloc).astype(np.int64)

    # ---------------------------------------------------------------- alliance components
    a_j = rng.normal(0.0, math.sqrt(pop["alliance_therapist_var"]), J)
    b_i = rng.normal(0.0, math.sqrt(pop["alliance_trait_var"]), N)
    sd_s = math.sqrt(pop["alliance_state_var"])
    s = np.empty((N, T))
    s[:, 0] = rng.normal(0.0, sd_s, N)
    innov = rng.normal(0.0, sd_s * math.sqrt(1 - phi**2), (N, T))
    for t in range(1, T):
        s[:, t] = phi * s[:, t - 1] + innov[:, t]
    rupt = rng.random((N, T)) < rr
    repaired = rupt & (rng.random((N, T)) < rep)
    unrep = rupt & ~repaired
    # deficit: repaired ruptures for that session, unrepaired ones from then on
    deficit = rdepth * (repaired + np.cumsum(unrep, axis=1))
    w_tilde = b_i + s.mean(axis=1) - (deficit.mean(axis=1) - pop["rupture_deficit_mean"])

    # ---------------------------------------------------------------- outcome components
    theta_j = rng.normal(0.0, pop["therapist_sd"], J)
    eps = rng.normal(0.0, pop["residual_sd"], N)
    D = (delta + pop["tau"] * arm + theta_j[th] + pop["alliance_between"] * a_j[th]
         + pop["alliance_within"] * w_tilde + eps)
    y0 = mu0 + rng.normal(0.0, s0, N)
    tt = np.arange(T + 1)
    G = np.log1p(tt) / math.log1p(T)
    sg = rng.random(N) < sgp
    t_sg = rng.integers(2, T, N)  # uniform on 2..T-1
    # gamma_i makes the drop between sessions t_sg - 1 and t_sg exactly `sgs` of D_i
    dG = G[t_sg] - G[t_sg - 1]
    gam = np.clip((sgs - dG) / (1 - dG), 0.0, 1.0)[:, None]
    Gi = np.where(sg[:, None], (1 - gam) * G[None, :] + gam * (tt[None, :] >= t_sg[:, None]), G[None, :])
    ystar = y0[:, None] - D[:, None] * Gi  # (N, T+1), column 0 = intake
    ymeas = ystar + rng.normal(0.0, pop["symptom_error_sd"], (N, T + 1))
    y_obs = np.clip(np.round(ymeas), *PHQ9_RANGE) + 0.0  # + 0.0 turns -0.0 into 0.0

    astar = (muA + growth * np.arange(T)[None, :] + a_j[th][:, None] + b_i[:, None] + s - deficit
             + kappa * (ystar[:, :-1] - ystar[:, 1:]))
    ameas = astar + rng.normal(0.0, math.sqrt(pop["alliance_error_var"]), (N, T))
    a_obs = np.clip(np.round(ameas * 12) / 12, *WAI_RANGE)

    # ---------------------------------------------------------------- dropout
    u_drop = rng.random((N, T - 1))
    last = np.full(N, T)
    if drate > 0:
        if dropout == "MCAR":
            z = np.zeros((N, T - 1))
        else:
            sd_obs = math.sqrt(s0**2 + pop["symptom_error_sd"] ** 2)
            src = y_obs[:, 1:T] if dropout == "MAR" else ystar[:, 2:T + 1]
            z = dstr * (src - mu0) / sd_obs

        def expected_rate(eta0: float) -> float:
            log_surv = -np.logaddexp(0.0, eta0 + z).sum(axis=1)  # sum of log(1 - h)
            return float(np.mean(-np.expm1(log_surv))) - drate

        lo_eta, hi_eta = -60.0, 60.0  # widen until the target rate is bracketed (tiny or strong rates)
        while expected_rate(lo_eta) > 0 and lo_eta > -1e9:
            lo_eta *= 2
        while expected_rate(hi_eta) < 0 and hi_eta < 1e9:
            hi_eta *= 2
        if not expected_rate(lo_eta) <= 0 <= expected_rate(hi_eta):
            raise ValueError(f"`dropout_rate` = {drate!r} cannot be reached with `dropout_strength` = {dstr!r} "
                             f"({dropout} dropout); choose a larger rate or a weaker strength.")
        eta0 = optimize.brentq(expected_rate, lo_eta, hi_eta, xtol=1e-12)
        h = special.expit(eta0 + z)
        drop = u_drop < h  # drop after session t (columns t = 1..T-1)
        any_drop = drop.any(axis=1)
        last = np.where(any_drop, np.argmax(drop, axis=1) + 1, T)

    # ---------------------------------------------------------------- tables
    sess_idx = np.arange(T + 1)
    attended = sess_idx[None, :] <= last[:, None]  # intake always observed
    sym = np.where(attended, y_obs, np.nan)
    all_ = np.full((N, T + 1), np.nan)
    all_[:, 1:] = a_obs
    all_ = np.where(attended, all_, np.nan)
    rupt_full = np.zeros((N, T + 1), dtype=bool)
    rupt_full[:, 1:] = rupt
    rep_full = np.zeros((N, T + 1), dtype=bool)
    rep_full[:, 1:] = repaired
    patient_ids = np.arange(N)
    sessions = pd.DataFrame({
        "patient": np.repeat(patient_ids, T + 1),
        "therapist": np.repeat(th, T + 1),
        "arm": np.repeat(arm, T + 1),
        "session": np.tile(sess_idx, N),
        "attended": attended.ravel(),
        "symptom": sym.ravel(),
        "alliance": all_.ravel(),
        "rupture": rupt_full.ravel(),
        "repaired": rep_full.ravel(),
    })
    a_att = all_[:, 1:]
    completed = last == T
    patients = pd.DataFrame({
        "patient": patient_ids,
        "therapist": th,
        "arm": arm,
        "pre": y_obs[:, 0],
        "post": np.where(completed, y_obs[:, T], np.nan),
        "alliance_mean": np.nanmean(a_att, axis=1),
        "alliance_early": np.nanmean(a_att[:, :early], axis=1),
        "sessions_attended": last,
        "completed": completed,
    })
    patients.insert(5, "change", patients["pre"] - patients["post"])
    latent = pd.DataFrame({
        "patient": patient_ids,
        "pre_true": ystar[:, 0],
        "post_true": ystar[:, T],
        "pre_measured": ymeas[:, 0],
        "post_measured": ymeas[:, T],
        "improvement": D,
        "alliance_mean_measured": ameas.mean(axis=1),
        "alliance_within_component": w_tilde,
        "sudden_gain": sg,
        "sudden_gain_session": np.where(sg, t_sg, -1),
        "n_ruptures": rupt.sum(axis=1),
        "n_repaired": repaired.sum(axis=1),
        "last_session": last,
    })
    therapists = pd.DataFrame({
        "therapist": np.arange(J),
        "caseload": n_j,
        "alliance_component": a_j,
        "outcome_effect": theta_j + pop["alliance_between"] * a_j,
        "outcome_effect_not_alliance": theta_j,
    })
    truth = dict(pop)
    truth.update(therapists=therapists, latent=latent, n_patients=N)
    return SimulatedTrial(sessions=sessions, patients=patients, params=params, truth=truth)


#: simulate_trial's defaults (all arguments but ``seed``), for :func:`implied_population`.
_DEFAULTS = {k: v.default for k, v in inspect.signature(simulate_trial).parameters.items() if k != "seed"}


# --------------------------------------------------------------------------- item-level WAI-SR
#: Generating values of :func:`simulate_wai_sr_items` (assumptions of the workbook, not
#: estimates read in a source; see its docstring).
WAI_SR_SIM_LOADINGS: tuple[float, ...] = (0.78, 0.74, 0.70, 0.77, 0.75, 0.73, 0.72, 0.71, 0.68, 0.76, 0.75, 0.72)
WAI_SR_SIM_FACTOR_CORR: tuple[tuple[float, ...], ...] = (
    (1.00, 0.70, 0.85),  # task, bond, goal
    (0.70, 1.00, 0.65),
    (0.85, 0.65, 1.00),
)
WAI_SR_SIM_THRESHOLDS: tuple[float, ...] = (-2.2, -1.4, -0.6, 0.4)


@dataclass
class SimulatedItems:
    """Simulated item-level WAI-SR answers and the model that generated them.

    Attributes
    ----------
    items : pandas.DataFrame
        ``wai1`` .. ``wai12`` (items 1..12 of the form): integers 1--5, or the continuous
        latent responses when ``thresholds`` is None.
    latent : pandas.DataFrame
        The factor scores ``task``, ``bond``, ``goal`` (standard normal, correlated).
    loadings : pandas.Series
        Standardised loading of each item on its factor (the truth for the latent
        responses; categorisation attenuates the loadings of the 1--5 answers).
    factor : pandas.Series
        The factor of each item.
    factor_corr : pandas.DataFrame
    thresholds : tuple of float or None
    truth : dict
        Population values for the latent responses: ``omega_total`` of the 12-item sum
        and of each subscale sum (``omega_task`` ...), and the reliability of the total
        item mean (equal to ``omega_total``).
    seed : int or None
    """

    items: pd.DataFrame
    latent: pd.DataFrame
    loadings: pd.Series
    factor: pd.Series
    factor_corr: pd.DataFrame
    thresholds: tuple | None
    truth: dict
    seed: Any


def _float_matrix(name: str, value: Any) -> np.ndarray:
    """`value` as a float array, or a ValueError naming `name` (strings, dicts, ragged lists)."""
    if isinstance(value, (str, bytes, dict)) or value is None:
        raise ValueError(f"`{name}` must be numbers (a list or array); got {value!r}.")
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must be numbers (a list or array); got {value!r}.") from None


def simulate_wai_sr_items(
    n: int,
    *,
    loadings: Sequence[float] | None = None,
    factor_corr: Sequence[Sequence[float]] | None = None,
    thresholds: Sequence[float] | None = WAI_SR_SIM_THRESHOLDS,
    seed: int | None = None,
) -> SimulatedItems:
    r"""Simulate item-level WAI-SR answers (1--5) from a three-factor ordinal model.

    No open item-level alliance data exist, so the workbook's psychometric examples use
    this generator. Respondent :math:`i`, item :math:`j` on factor :math:`f(j)` (task 1,
    2, 10, 12; bond 3, 5, 7, 9; goal 4, 6, 8, 11, the key of
    :func:`analysis.psychometrics.wai_sr_key`):

    .. math::

        \eta_i \sim N_3(0, \Phi),\qquad
        y^*_{ij} = \lambda_j \eta_{i f(j)} + \sqrt{1 - \lambda_j^2}\,\varepsilon_{ij},\quad
        \varepsilon_{ij} \sim N(0, 1),\qquad
        y_{ij} = 1 + \#\{k : y^*_{ij} > \tau_k\}

    so each latent response has variance 1, :math:`\lambda_j` is its standardised loading
    and the four thresholds :math:`\tau_1 < \dots < \tau_4` cut it into the five answer
    categories (the same thresholds for every item).

    Default generating values (**assumptions**, chosen to look like WAI-SR data, not
    estimates read in a source): loadings .68--.78 (``WAI_SR_SIM_LOADINGS``); factor
    correlations task--bond .70, task--goal .85, bond--goal .65 (task and goal closely
    related, bond more distinct; ``WAI_SR_SIM_FACTOR_CORR``); thresholds
    (-2.2, -1.4, -0.6, 0.4), giving answer probabilities of about .014, .067, .193, .381,
    .345 and an item mean near 4.0, close to the alliance mean 3.9 assumed by
    :func:`simulate_trial`.

    Parameters
    ----------
    n : int
        Respondents (>= 1).
    loadings : sequence of 12 floats in (0, 1), optional
        Standardised loadings of items 1..12 in form order.
    factor_corr : 3x3 array-like, optional
        Correlations of task, bond and goal (symmetric, unit diagonal, positive definite).
    thresholds : sequence of 4 increasing floats, or None
        None returns the continuous latent responses instead of 1--5 answers.
    seed : int, optional
        Seed (>= 0) of ``numpy.random.default_rng``.

    Returns
    -------
    SimulatedItems

    Raises
    ------
    ValueError
        Naming the argument: `n` not a whole number >= 1 (or too large to hold), `loadings`,
        `factor_corr` or `thresholds` of the wrong shape, not numeric or out of range,
        `seed` not an int >= 0.

    References
    ----------
    Hatcher, R. L., & Gillaspy, J. A. (2006). Development and validation of a revised
    short version of the Working Alliance Inventory. *Psychotherapy Research, 16*(1), 12--25.
    (the item-to-subscale key; see :func:`analysis.psychometrics.wai_sr_key`). The
    generating values are assumptions of the workbook, not estimates read in a source.

    Examples
    --------
    >>> sim = simulate_wai_sr_items(5, seed=1)
    >>> sim.items.shape
    (5, 12)
    """
    from analysis.psychometrics import WAI_SR_SUBSCALES

    n = _check_int("n", n, 1)
    if n * 12 > _MAX_SESSION_ROWS:
        raise ValueError(f"`n` = {n} respondents is too many to simulate in one call (at most "
                         f"{_MAX_SESSION_ROWS // 12:,}; memory).")
    lam = _float_matrix("loadings", WAI_SR_SIM_LOADINGS if loadings is None else loadings)
    if lam.shape != (12,) or not np.all(np.isfinite(lam)) or np.any((lam <= 0) | (lam >= 1)):
        raise ValueError("`loadings` must be 12 numbers strictly between 0 and 1 (items 1..12).")
    phi = _float_matrix("factor_corr", WAI_SR_SIM_FACTOR_CORR if factor_corr is None else factor_corr)
    if (phi.shape != (3, 3) or not np.all(np.isfinite(phi)) or not np.allclose(phi, phi.T)
            or not np.allclose(np.diag(phi), 1) or np.linalg.eigvalsh(phi).min() <= 0):
        raise ValueError("`factor_corr` must be a 3x3 symmetric positive-definite correlation matrix "
                         "(task, bond, goal).")
    if thresholds is not None:
        tau = _float_matrix("thresholds", thresholds)
        if tau.shape != (4,) or not np.all(np.isfinite(tau)) or np.any(np.diff(tau) <= 0):
            raise ValueError("`thresholds` must be 4 strictly increasing finite numbers, or None.")
        tau_out = tuple(float(t) for t in tau)
    else:
        tau_out = None
    names = ("task", "bond", "goal")
    fac_of = np.empty(12, dtype=int)
    for f_i, f in enumerate(names):
        for item in WAI_SR_SUBSCALES[f]:
            fac_of[item - 1] = f_i
    rng = np.random.default_rng(_check_seed(seed))
    eta = rng.standard_normal((n, 3)) @ np.linalg.cholesky(phi).T
    eps = rng.standard_normal((n, 12))
    ystar = eta[:, fac_of] * lam + eps * np.sqrt(1 - lam**2)
    cols = [f"wai{j}" for j in range(1, 13)]
    if tau_out is None:
        items = pd.DataFrame(ystar, columns=cols)
    else:
        items = pd.DataFrame(1 + (ystar[:, :, None] > np.asarray(tau_out)).sum(axis=2), columns=cols)
    # population omega of the latent-response sums: (1' L Phi L' 1) / (1' Sigma 1)
    L = np.zeros((12, 3))
    L[np.arange(12), fac_of] = lam
    sigma = L @ phi @ L.T + np.diag(1 - lam**2)
    truth = {"omega_total": float(L.sum(axis=0) @ phi @ L.sum(axis=0) / sigma.sum())}
    for f_i, f in enumerate(names):
        idx = fac_of == f_i
        truth[f"omega_{f}"] = float(lam[idx].sum() ** 2 / sigma[np.ix_(idx, idx)].sum())
    return SimulatedItems(
        items=items,
        latent=pd.DataFrame(eta, columns=list(names)),
        loadings=pd.Series(lam, index=cols),
        factor=pd.Series([names[k] for k in fac_of], index=cols),
        factor_corr=pd.DataFrame(phi, index=list(names), columns=list(names)),
        thresholds=tau_out,
        truth=truth,
        seed=seed,
    )


__all__ += ["SimulatedItems", "simulate_wai_sr_items"]
