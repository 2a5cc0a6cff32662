r"""Monte Carlo power and type I error for alliance and therapist designs.

:func:`simulate_power` draws many trials from the calibrated simulator
(:func:`analysis.simulate.simulate_trial`), analyses each with the workbook's own
estimators and counts rejections of the null hypothesis at level :math:`\alpha`. The
rejection rate estimates power when the tested effect is non-zero in the generating
model, and the type I error when it is zero. Its Monte Carlo standard error is

.. math:: \mathrm{SE}_{MC}(\hat p) = \sqrt{\hat p (1 - \hat p) / R}

for :math:`R` successful replicates (a binomial proportion; Morris, White & Crowther
2019, table 6).

Three questions (and the naive analyses beside them)
----------------------------------------------------
``analysis`` names what is fitted to each simulated trial (one row per patient,
complete cases):

=========================  ==================================================================  =========
name                       model (tested term)                                                 question
=========================  ==================================================================  =========
``alliance_multilevel``    change ~ alliance_mean + arm, random therapist intercept            (a)
                           (:func:`~analysis.multilevel.therapist_effect`; ``alliance_mean``)
``alliance_ols``           the same by OLS, ignoring therapists (statsmodels)                  (a) naive
``alliance_between``       :func:`~analysis.multilevel.disaggregate_alliance`, covariate arm;  (b)
                           the between-therapist coefficient (Baldwin, Wampold & Imel 2007)
``alliance_within``        the same fit; the within-therapist (patient) coefficient            (b)
``treatment_multilevel``   post ~ pre + arm, random therapist intercept (``arm``)              (c)
``treatment_ols``          post ~ pre + arm by OLS, ignoring therapists (``arm``)              (c) naive
=========================  ==================================================================  =========

The multilevel tests use a *t* reference with "between-within" degrees of freedom
(a term constant within every therapist gets :math:`J - q`, with :math:`q` the number
of such terms including the intercept; any other term :math:`N - J - (p - q)`; as SAS
``ddfm=bw``); ``reference="normal"`` gives the z tests that ``therapist_effect``
prints. OLS uses its residual degrees of freedom :math:`N - p`.

Therapists crossed with or nested in arms
-----------------------------------------
The simulator randomises each *patient* to an arm, so every therapist treats both arms
(``arms="crossed"``). Comparisons of treatments delivered by different therapists
(each therapist in one arm; Wampold & Serlin 2000) use ``arms="nested"``: the trial
is simulated with no treatment effect, then ``round(J * allocation)`` therapists drawn
at random deliver arm 1 and their patients' post scores are re-made from the
measured latent post score of the simulator, :math:`\operatorname{clip}_{[0,27]}
\operatorname{round}(Y^{m}_{iT} - \tau x_i)` with :math:`\tau = d\,\mathrm{SD}(Y_{iT})`,
which is exactly the simulator's model with therapist-level allocation (the post
score depends on the improvement :math:`D_i` one-for-one). This needs
``reverse_causation = 0`` and MCAR (or no) dropout, where nothing else depends on
the arm.

Analytic approximations (beside the simulation)
-----------------------------------------------
Design effect (Kish 1965; Donner & Klar 2000): :math:`\mathrm{DE} = 1 + (m-1)\rho`
for caseload :math:`m` and ICC :math:`\rho`. Two-arm comparison with allocation
:math:`a`, standardised effect :math:`\delta` and effective sample size
:math:`N/\mathrm{DE}` (normal approximation):

.. math:: 1-\beta = \Phi\!\left(|\delta|\sqrt{a(1-a)N/\mathrm{DE}} - z_{1-\alpha/2}\right)
          + \Phi\!\left(-|\delta|\sqrt{a(1-a)N/\mathrm{DE}} - z_{1-\alpha/2}\right).

For therapists nested in arms DE is :math:`1 + (m-1)\rho`; when patients are randomised
within therapists the multilevel estimate removes the therapist variance
(DE :math:`= 1 - \rho`) and the naive OLS estimate is unbiased with DE :math:`= 1`.
A naive test that ignores clustering in a nested design uses a standard error too small
by :math:`\sqrt{\mathrm{DE}}`; its rejection rate is

.. math:: \Phi\!\left(\frac{\lambda - z_{1-\alpha/2}}{\sqrt{\mathrm{DE}}}\right)
          + \Phi\!\left(\frac{-\lambda - z_{1-\alpha/2}}{\sqrt{\mathrm{DE}}}\right),
          \quad \lambda = |\delta|\sqrt{a(1-a)N},

which under the null is :math:`2\Phi(-z_{1-\alpha/2}/\sqrt{\mathrm{DE}})`, the type I
error inflation of Wampold & Serlin (2000) in its large-sample form. For a correlation
:math:`r` (question a) the Fisher-z approximation
:math:`\Phi(|\operatorname{atanh} r|\sqrt{N/\mathrm{DE} - 3} - z_{1-\alpha/2}) + \dots`.

Reproducibility and execution
-----------------------------
Replicate :math:`r` uses the :math:`r`-th child of ``numpy.random.SeedSequence(seed)``
(spawn key ``(r,)``) in *every* design cell (common random numbers: curves over a
grid are smooth and cells are compared on the same draws). So the results are
identical on one core (``n_jobs=1``), with local processes (``n_jobs > 1``,
:class:`concurrent.futures.ProcessPoolExecutor`) and on a Dask cluster (``client``).

Batched replicates. Where every replicate of a cell has the same patients (fixed
caseloads, no dropout), the replicates of a chunk are simulated with their own generators
but computed as arrays, and fitted together (every analysis of :data:`ANALYSES`: OLS from the
normal equations, the profiled REML criterion vectorised over replicates); the data are
identical to ``simulate_trial``'s and the results to the one-by-one fits (estimates to about
:math:`10^{-9}`, the same rejections), tens of times faster (``benchmarks/bench_power.py``).
In both paths the REML optimum of :math:`\theta = \tau/\sigma` found by the bracketing search
of :func:`~analysis.multilevel.therapist_effect` (or
:func:`~analysis.multilevel.disaggregate_alliance`) is polished by Newton steps, so the
multilevel estimates can differ from a plain ``therapist_effect`` fit by about
:math:`10^{-7}` (the precision of its bracketing search). ``batched=False`` fits one by one.

To use a real Dask cluster, start a scheduler and workers (``dask scheduler`` on one
machine, ``dask worker tcp://HOST:8786`` on each worker) in environments that have the
workbook installed at the same version (``pip install -r requirements.lock`` and
``pip install -e .`` from a checkout of the same commit), then pass
``client="tcp://HOST:8786"`` (or a ``dask.distributed.Client``). Workers import
``analysis.power``; they need no data files.

References
----------
Baldwin, S. A., Wampold, B. E., & Imel, Z. E. (2007). *J Consult Clin Psychol, 75*(6),
842--852.
Cohen, J. (1988). *Statistical power analysis for the behavioral sciences* (2nd ed.).
Erlbaum.
Donner, A., & Klar, N. (2000). *Design and analysis of cluster randomization trials in
health research*. Arnold.
Fisher, R. A. (1921). On the "probable error" of a coefficient of correlation deduced
from a small sample. *Metron, 1*, 3-32.
Kish, L. (1965). *Survey sampling*. Wiley.
Morris, T. P., White, I. R., & Crowther, M. J. (2019). Using simulation studies to
evaluate statistical methods. *Stat Med, 38*(11), 2074--2102.
Wampold, B. E., & Serlin, R. C. (2000). The consequence of ignoring a nested factor on
measures of effect size in analysis of variance. *Psychol Methods, 5*(4), 425--433.
"""

from __future__ import annotations

import inspect
import itertools
import math
import os
import threading
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis._checks import (as_float_array, broadcast_arrays, check_choice, check_finite, check_integer_valued,
                              check_open_interval, check_positive, first_bad, suggest_name)
from analysis._results import ResultMixin
from analysis.multilevel import disaggregate_alliance, therapist_effect
from analysis.simulate import PHQ9_RANGE, simulate_trial

__all__ = [
    "ANALYSES",
    "PowerResult",
    "simulate_power",
    "design_effect",
    "power_two_arm",
    "naive_rejection_rate",
    "power_correlation",
    "mc_se",
]

#: The analyses :func:`simulate_power` can run: name -> (question, description).
ANALYSES: dict[str, tuple[str, str]] = {
    "alliance_multilevel": ("a", "change ~ alliance_mean + arm, random therapist intercept; alliance_mean"),
    "alliance_ols": ("a", "change ~ alliance_mean + arm by OLS, ignoring therapists; alliance_mean"),
    "alliance_between": ("b", "disaggregate_alliance(change, alliance_mean, covariate arm); between"),
    "alliance_within": ("b", "disaggregate_alliance(change, alliance_mean, covariate arm); within"),
    "treatment_multilevel": ("c", "post ~ pre + arm, random therapist intercept; arm"),
    "treatment_ols": ("c", "post ~ pre + arm by OLS, ignoring therapists; arm"),
}
_ARMS = ("crossed", "nested")
_REFERENCES = ("t", "normal")
_SIM_PARAMS = tuple(p for p in inspect.signature(simulate_trial).parameters if p != "seed")
_DESIGN_KEYS = _SIM_PARAMS + ("arms",)
# warnings.catch_warnings is not thread-safe: fits in one process run one at a time
_FIT_LOCK = threading.Lock()


# --------------------------------------------------------------------------- analytic
def design_effect(caseload: Any, icc: Any) -> np.ndarray | float:
    r"""Design effect of clustering, :math:`\mathrm{DE} = 1 + (m - 1)\rho`.

    The factor by which clustering of :math:`m` patients per therapist with
    intraclass correlation :math:`\rho` inflates the variance of a mean (or of a
    difference between arms whose therapists are nested in them) compared with
    independent patients (Kish 1965; Donner & Klar 2000, ch. 1).

    Parameters
    ----------
    caseload : float or array
        Patients per therapist, :math:`m \ge 1`.
    icc : float or array
        Intraclass correlation, :math:`0 \le \rho < 1`.

    Returns
    -------
    float or ndarray
        The design effect (a float when both inputs are scalars).

    Raises
    ------
    ValueError
        When `caseload` < 1 or `icc` is outside [0, 1), an input is empty, not numeric or
        not finite, or array inputs have different lengths.

    References
    ----------
    Donner, A., & Klar, N. (2000). *Design and analysis of cluster randomization trials in
    health research*. Arnold.
    Kish, L. (1965). *Survey sampling*. Wiley.

    Examples
    --------
    >>> float(design_effect(5, 0.1))
    1.4
    """
    m, rho = _arrays(caseload=caseload, icc=icc)
    check_positive("caseload", m)
    bad = m < 1
    if bad.any():
        raise ValueError(f"`caseload` must be >= 1; {first_bad(bad)} has {m[bad][0]!r}.")
    check_finite("icc", rho)
    bad = (rho < 0) | (rho >= 1)
    if bad.any():
        raise ValueError(f"`icc` must lie in [0, 1); {first_bad(bad)} has {rho[bad][0]!r}.")
    out = 1.0 + (m - 1.0) * rho
    scalar = np.ndim(caseload) == 0 and np.ndim(icc) == 0
    return float(out[0]) if scalar else out


def _arrays(**named: Any) -> list[np.ndarray]:
    """Named inputs as 1-D float arrays (none empty), broadcast to one length."""
    out = {}
    for name, value in named.items():
        arr = as_float_array(name, value)
        if arr.size == 0:
            raise ValueError(f"`{name}` is empty; give at least one value.")
        out[name] = arr
    return list(broadcast_arrays(**out).values())


def _check_alpha(alpha: Any) -> float:
    a = as_float_array("alpha", alpha)
    if a.size != 1:
        raise ValueError("`alpha` must be a single number.")
    check_open_interval("alpha", a, 0.0, 1.0)
    return float(a[0])


def _check_de(d: np.ndarray, at_least_one: bool) -> None:
    check_positive("design_effect", d)
    if at_least_one:
        bad = d < 1
        if bad.any():
            raise ValueError(f"`design_effect` must be >= 1 (1 + (m - 1) ICC); {first_bad(bad)} has {d[bad][0]!r}.")


def _two_arm_inputs(effect_size, n_total, design_effect, alpha, allocation, *, de_at_least_one):
    """Checked arrays for the two-arm formulas (one set of checks serves both)."""
    d, n, de, alloc = _arrays(effect_size=effect_size, n_total=n_total, design_effect=design_effect,
                              allocation=allocation)
    check_finite("effect_size", d)
    check_positive("n_total", n)
    _check_de(de, de_at_least_one)
    a = _check_alpha(alpha)
    check_open_interval("allocation", alloc, 0.0, 1.0)
    return d, n, de, a, alloc


def _noncentrality(d: np.ndarray, *factors: np.ndarray, divide: np.ndarray | None = None) -> np.ndarray:
    r"""|d| sqrt(prod(factors) / divide), computed on the log scale (no overflow; inf when huge)."""
    with np.errstate(divide="ignore", over="ignore"):
        log_lam = np.log(np.abs(d)) + 0.5 * sum(np.log(f) for f in factors)
        if divide is not None:
            log_lam = log_lam - 0.5 * np.log(divide)
        return np.exp(log_lam)


def _nct_power(c: np.ndarray, df: np.ndarray, lam: np.ndarray) -> np.ndarray:
    r"""P(T > c) + P(T < -c) for T noncentral t(df, lam).

    scipy's ``nct`` returns NaN in the far lower tail (e.g. ``nct.cdf(-2, 10, 40)``) and for
    noncentralities above about 3e9; there, and only there, the two tails are computed from
    :math:`P(T > c) = E\,\Phi(\lambda - cS)`, :math:`P(T < -c) = E\,\Phi(-\lambda - cS)`
    with :math:`S = \sqrt{V/\nu}`, :math:`V \sim \chi^2_\nu` (one-dimensional quadrature).
    """
    c, df, lam = np.broadcast_arrays(c, df, lam)
    with np.errstate(all="ignore"):
        up = np.asarray(stats.nct.sf(c, df, lam), dtype=float)
        lo = np.asarray(stats.nct.cdf(-c, df, lam), dtype=float)
    ok = np.isfinite(up) & np.isfinite(lo) & (up >= 0) & (up <= 1) & (lo >= 0) & (lo <= 1)
    out = np.where(ok, up + lo, np.nan)
    for i in np.flatnonzero(~ok):
        out.flat[i] = _nct_power_quad(float(c.flat[i]), float(df.flat[i]), float(lam.flat[i]))
    return np.clip(out, 0.0, 1.0)


def _nct_power_quad(c: float, df: float, lam: float) -> float:
    """P(|T| > c) of a noncentral t by quadrature over S = sqrt(V / df), V ~ chi2(df)."""
    from scipy import integrate

    if not np.isfinite(lam):
        return 1.0
    chi = stats.chi(df, scale=1 / math.sqrt(df))
    a, b = float(chi.ppf(1e-17)), float(chi.isf(1e-17))
    pts = [x for x in (lam / c, 1.0) if a < x < b] or None
    kw = dict(points=pts, epsabs=1e-15, epsrel=1e-12, limit=200)
    upper = integrate.quad(lambda x: stats.norm.cdf(lam - c * x) * chi.pdf(x), a, b, **kw)[0]
    lower = integrate.quad(lambda x: stats.norm.cdf(-lam - c * x) * chi.pdf(x), a, b, **kw)[0]
    return min(1.0, max(0.0, upper + lower))


def power_two_arm(effect_size: Any, n_total: Any, design_effect: Any = 1.0, alpha: float = 0.05,
                  allocation: float = 0.5, df: Any = None) -> np.ndarray | float:
    r"""Power of a two-sided two-arm comparison, with clustering through the design effect.

    .. math:: 1-\beta = P(|T| > c),\quad T \sim \text{(noncentral) } t_{df}\ \text{or}\ N(\lambda, 1),
              \quad \lambda = |\delta|\sqrt{a(1-a)\,N/\mathrm{DE}}

    with :math:`c` the :math:`1-\alpha/2` quantile of :math:`t_{df}` (or the standard
    normal when ``df`` is None: the normal approximation with the effective sample
    size :math:`N/\mathrm{DE}`; Donner & Klar 2000, ch. 5; Cohen 1988, ch. 2).

    Parameters
    ----------
    effect_size : float or array
        Standardised difference :math:`\delta` (difference / SD of the analysed outcome).
    n_total : float or array
        Patients in both arms, :math:`N`.
    design_effect : float or array
        DE (see :func:`design_effect`); 1 for independent patients. Values below 1 are
        allowed (> 0): with patients randomised within therapists the multilevel estimate
        has DE :math:`= 1 - \rho` (module docstring).
    alpha : float
        Two-sided level.
    allocation : float
        Share :math:`a` of patients in arm 1.
    df : float or array, optional
        Degrees of freedom (>= 1) for a noncentral-*t* calculation (e.g. :math:`N - 2` for
        a pooled t test); None for the normal approximation.

    Returns
    -------
    float or ndarray
        Array inputs broadcast against each other (length-1 inputs stretch). Extreme
        magnitudes are handled on the log scale: the result depends on `n_total` and
        `design_effect` only through their ratio.

    Raises
    ------
    ValueError
        Naming the argument: empty, non-numeric or non-finite input, mismatched lengths,
        `n_total` or `design_effect` <= 0, `alpha` or `allocation` outside (0, 1),
        `df` < 1.

    References
    ----------
    Cohen, J. (1988). *Statistical power analysis for the behavioral sciences* (2nd ed.).
    Erlbaum.
    Donner, A., & Klar, N. (2000). *Design and analysis of cluster randomization trials in
    health research*. Arnold.

    Examples
    --------
    >>> round(float(power_two_arm(0.5, 128)), 3)   # Cohen's 64 per group for d = .5
    0.807
    """
    if df is None:
        d, n, de, a, alloc = _two_arm_inputs(effect_size, n_total, design_effect, alpha, allocation,
                                             de_at_least_one=False)
    else:
        d, n, de, alloc, dfa = _arrays(effect_size=effect_size, n_total=n_total, design_effect=design_effect,
                                       allocation=allocation, df=df)
        d, n, de, a, alloc = _two_arm_inputs(d, n, de, alpha, alloc, de_at_least_one=False)
        check_finite("df", dfa)
        bad = dfa < 1
        if bad.any():
            raise ValueError(f"`df` must be >= 1; {first_bad(bad)} has {dfa[bad][0]!r}.")
    lam = _noncentrality(d, alloc * (1 - alloc), n, divide=de)
    if df is None:
        z = stats.norm.ppf(1 - a / 2)
        out = stats.norm.sf(z - lam) + stats.norm.cdf(-z - lam)
    else:
        c = stats.t.ppf(1 - a / 2, dfa)
        out = _nct_power(c, dfa, lam)
    scalar = all(np.ndim(v) == 0 for v in (effect_size, n_total, design_effect, allocation)) and (
        df is None or np.ndim(df) == 0)
    return float(out[0]) if scalar else out


def naive_rejection_rate(effect_size: Any, n_total: Any, design_effect: Any, alpha: float = 0.05,
                         allocation: float = 0.5) -> np.ndarray | float:
    r"""Rejection rate of a test that ignores clustering (therapists nested in arms).

    The naive standard error is too small by :math:`\sqrt{\mathrm{DE}}`, so the naive
    statistic is :math:`N(\lambda, \mathrm{DE})` with :math:`\lambda =
    |\delta|\sqrt{a(1-a)N}` and it rejects with probability

    .. math:: \Phi\bigl((\lambda - z)/\sqrt{\mathrm{DE}}\bigr) + \Phi\bigl((-\lambda - z)/\sqrt{\mathrm{DE}}\bigr),
              \qquad z = z_{1-\alpha/2};

    under the null this is the inflated type I error :math:`2\Phi(-z/\sqrt{\mathrm{DE}})`
    (Wampold & Serlin 2000 derive it for the F test; this is its large-sample form).

    Parameters
    ----------
    effect_size, n_total, alpha, allocation
        As :func:`power_two_arm`.
    design_effect : float or array
        DE >= 1 of the nested design (see :func:`design_effect`).

    Returns
    -------
    float or ndarray

    Raises
    ------
    ValueError
        As :func:`power_two_arm`, and when `design_effect` < 1.

    References
    ----------
    Donner, A., & Klar, N. (2000). *Design and analysis of cluster randomization trials in
    health research*. Arnold.
    Wampold, B. E., & Serlin, R. C. (2000). The consequence of ignoring a nested factor on
    measures of effect size in analysis of variance. *Psychol Methods, 5*(4), 425--433.

    Examples
    --------
    >>> round(float(naive_rejection_rate(0.0, 200, design_effect(10, 0.1))), 3)
    0.155
    """
    d, n, de, a, alloc = _two_arm_inputs(effect_size, n_total, design_effect, alpha, allocation,
                                         de_at_least_one=True)
    lam = _noncentrality(d, alloc * (1 - alloc), n)
    z = stats.norm.ppf(1 - a / 2)
    s = np.sqrt(de)
    out = stats.norm.cdf((lam - z) / s) + stats.norm.cdf((-lam - z) / s)
    scalar = all(np.ndim(v) == 0 for v in (effect_size, n_total, design_effect, allocation))
    return float(out[0]) if scalar else out


def power_correlation(r: Any, n: Any, design_effect: Any = 1.0, alpha: float = 0.05) -> np.ndarray | float:
    r"""Power of the two-sided test of a correlation, Fisher-z approximation.

    .. math:: 1-\beta = \Phi(|\zeta|\sqrt{n_e - 3} - z_{1-\alpha/2}) + \Phi(-|\zeta|\sqrt{n_e - 3} - z_{1-\alpha/2}),
              \quad \zeta = \operatorname{atanh} r,\ n_e = n / \mathrm{DE}

    (Cohen 1988, ch. 3; the design effect turns the number of patients into an
    effective number of independent ones).

    Parameters
    ----------
    r : float or array
        Population correlation, :math:`|r| < 1`.
    n : float or array
        Patients (finite; > 3 after the design effect).
    design_effect : float or array
        DE >= 1 (see :func:`design_effect`).
    alpha : float

    Returns
    -------
    float or ndarray

    Raises
    ------
    ValueError
        Naming the argument: empty, non-numeric or non-finite input, mismatched lengths,
        :math:`|r| \ge 1`, `design_effect` < 1, `alpha` outside (0, 1), `n` / DE <= 3.

    References
    ----------
    Cohen, J. (1988). *Statistical power analysis for the behavioral sciences* (2nd ed.).
    Erlbaum.
    Fisher, R. A. (1921). On the "probable error" of a coefficient of correlation deduced
    from a small sample. *Metron, 1*, 3-32.
    Kish, L. (1965). *Survey sampling*. Wiley.

    Examples
    --------
    >>> round(float(power_correlation(0.28, 100)), 3)
    0.809
    """
    rr, nn, de = _arrays(r=r, n=n, design_effect=design_effect)
    check_open_interval("r", rr, -1.0, 1.0)
    check_finite("n", nn)
    _check_de(de, True)
    a = _check_alpha(alpha)
    ne = nn / de
    bad = ~(ne > 3)
    if bad.any():
        raise ValueError(f"`n` / `design_effect` must exceed 3; {first_bad(bad)} has {ne[bad][0]!r}.")
    lam = np.abs(np.arctanh(rr)) * np.sqrt(ne - 3)
    z = stats.norm.ppf(1 - a / 2)
    out = stats.norm.sf(z - lam) + stats.norm.cdf(-z - lam)
    scalar = all(np.ndim(v) == 0 for v in (r, n, design_effect))
    return float(out[0]) if scalar else out


def mc_se(p: Any, n_replicates: Any) -> np.ndarray | float:
    r"""Monte Carlo standard error of a rejection rate, :math:`\sqrt{p(1-p)/R}`.

    Morris, White & Crowther (2019), table 6.

    Parameters
    ----------
    p : float or array
        Rejection rate in [0, 1].
    n_replicates : int or array
        Replicates :math:`R` (whole numbers >= 1).

    Returns
    -------
    float or ndarray

    Raises
    ------
    ValueError
        Naming the argument: empty, non-numeric or missing input, mismatched lengths,
        `p` outside [0, 1], `n_replicates` not a whole number >= 1.

    References
    ----------
    Morris, T. P., White, I. R., & Crowther, M. J. (2019). Using simulation studies to
    evaluate statistical methods. *Stat Med, 38*(11), 2074--2102.

    Examples
    --------
    >>> mc_se(0.05, 1900)
    0.005
    """
    pp, rr = _arrays(p=p, n_replicates=n_replicates)
    check_positive("n_replicates", rr)
    check_integer_valued("n_replicates", rr)
    bad = ~((pp >= 0) & (pp <= 1))
    if bad.any():
        raise ValueError(f"`p` must lie in [0, 1]; {first_bad(bad)} has {pp[bad][0]!r}.")
    out = np.sqrt(pp * (1 - pp) / rr)
    return float(out[0]) if np.ndim(p) == 0 and np.ndim(n_replicates) == 0 else out


# --------------------------------------------------------------------------- one replicate
def _p_value(stat: float, df: float | None) -> float:
    if df is None or not np.isfinite(df):
        return float(2 * stats.norm.sf(abs(stat)))
    return float(2 * stats.t.sf(abs(stat), df))


def _bw_df(data: pd.DataFrame, columns: list[str], term: str, codes: np.ndarray, J: int) -> float:
    """Between-within degrees of freedom of `term` (SAS ddfm=bw)."""
    level2 = {"Intercept"}
    for c in columns:
        x = data[c].to_numpy(dtype=float)
        lo = np.full(J, np.inf)
        hi = np.full(J, -np.inf)
        np.minimum.at(lo, codes, x)
        np.maximum.at(hi, codes, x)
        if np.all(hi - lo == 0):
            level2.add(c)
    p = len(columns) + 1
    q = len(level2)
    df = J - q if term in level2 else len(data) - J - (p - q)
    return float(df) if df > 0 else math.nan


def _ols(data: pd.DataFrame, outcome: str, columns: list[str], term: str):
    import statsmodels.api as sm

    X = sm.add_constant(data[columns].to_numpy(dtype=float), has_constant="add")
    fit = sm.OLS(data[outcome].to_numpy(dtype=float), X).fit()
    k = columns.index(term) + 1
    return float(fit.params[k]), float(fit.bse[k]), float(fit.df_resid)


def _polish_theta(crit, theta: np.ndarray) -> np.ndarray:
    r"""Newton steps on the profiled criterion from an optimum found by a bracketing search.

    Brent's and golden-section searches stop where the criterion is flat to rounding
    (about :math:`10^{-7}` in :math:`\theta` here), so two of them agree only to about
    :math:`10^{-7}` in the fixed effects. Newton steps with central differences (step
    :math:`h = \min(10^{-5}, \theta/10)`) use the slope instead and reach the optimum to about
    :math:`10^{-9}`; both the batched and the one-by-one fits of :func:`simulate_power` are
    polished so. Interior optima only (:math:`\theta \ge 10^{-4}`); a step is kept when it
    stays in :math:`[\theta_0/2, 2\theta_0]` and does not raise the criterion beyond
    rounding. ``crit`` maps an array of :math:`\theta` to an array of criterion values.
    """
    theta0 = np.asarray(theta, dtype=float)
    theta = theta0.copy()
    active = theta >= 1e-4
    for _ in range(4):
        if not active.any():
            break
        h = np.minimum(1e-5, theta / 10)
        f0, fp, fm = crit(theta), crit(theta + h), crit(theta - h)
        d1, d2 = (fp - fm) / (2 * h), (fp - 2 * f0 + fm) / (h * h)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(active & (d2 > 0), -d1 / d2, 0.0)
        new = np.clip(theta + step, theta0 / 2, theta0 * 2)
        fn = crit(new)
        keep = active & np.isfinite(fn) & (fn <= f0 + 1e-9 * np.abs(f0))
        theta = np.where(keep, new, theta)
        active = keep & (np.abs(step) > 1e-12 * np.maximum(1.0, theta))
    return theta


def _polished_fixed(fit, data: pd.DataFrame, outcome: str, cols: list[str], term: str) -> tuple[float, float]:
    """Estimate and SE of `term` at the Newton-polished optimum of a therapist_effect fit."""
    from analysis.multilevel import _ProfiledRI

    est, se = float(fit.fixed.loc[term, "estimate"]), float(fit.fixed.loc[term, "se"])
    if fit.theta < 1e-4:
        return est, se
    codes, labels = pd.factorize(data["therapist"], sort=True)
    X = np.column_stack([np.ones(len(data))] + [data[c].to_numpy(dtype=float) for c in cols])
    prof = _ProfiledRI(data[outcome].to_numpy(dtype=float), X, codes.astype(np.int64), len(labels), True)
    theta = float(_polish_theta(lambda t: np.array([prof.crit(float(x)) for x in np.atleast_1d(t)]),
                                np.array([fit.theta]))[0])
    if theta == fit.theta:
        return est, se
    _, A, beta, r2, _, _ = prof.pieces(theta)
    sigma2 = r2 / (X.shape[0] - X.shape[1])
    k = cols.index(term) + 1
    return float(beta[k]), float(math.sqrt(sigma2 * np.linalg.inv(A)[k, k]))


def _polished_disaggregation(fit, data: pd.DataFrame, codes: np.ndarray, J: int) -> dict[str, tuple[float, float]]:
    """Within and between estimates and SEs of a disaggregate_alliance fit at the Newton-polished optimum.

    The model matrix is that of :func:`~analysis.multilevel.disaggregate_alliance` (intercept,
    the alliance's deviation from the therapist mean, the therapist mean, arm); theta = tau / sigma
    starts from the fit's variances and is polished as in :func:`_polished_fixed`.
    """
    from analysis.multilevel import _ProfiledRI

    res = {"alliance_between": (float(fit.between), float(fit.between_se)),
           "alliance_within": (float(fit.within), float(fit.within_se))}
    theta0 = math.sqrt(fit.therapist_var / fit.residual_var) if fit.residual_var > 0 else 0.0
    if theta0 < 1e-4:
        return res
    a = data["alliance_mean"].to_numpy(dtype=float)
    n_j = np.bincount(codes, minlength=J)
    between = (np.bincount(codes, weights=a, minlength=J) / n_j)[codes]
    X = np.column_stack([np.ones(len(a)), a - between, between, data["arm"].to_numpy(dtype=float)])
    prof = _ProfiledRI(data["change"].to_numpy(dtype=float), X, codes.astype(np.int64), J, True)
    theta = float(_polish_theta(lambda t: np.array([prof.crit(float(x)) for x in np.atleast_1d(t)]),
                                np.array([theta0]))[0])
    _, A, beta, r2, _, _ = prof.pieces(theta)
    sigma2 = r2 / (X.shape[0] - X.shape[1])
    inv = np.linalg.inv(A)
    return {"alliance_between": (float(beta[2]), float(math.sqrt(sigma2 * inv[2, 2]))),
            "alliance_within": (float(beta[1]), float(math.sqrt(sigma2 * inv[1, 1])))}


def _analyse(name: str, data: pd.DataFrame, reference: str, cache: dict) -> dict:
    codes, labels = pd.factorize(data["therapist"], sort=True)
    J = len(labels)
    row: dict[str, Any] = {"patients_analysed": len(data), "therapists_analysed": J, "singular": False}
    if name in ("alliance_ols", "treatment_ols"):
        outcome, cols, term = (("change", ["alliance_mean", "arm"], "alliance_mean") if name == "alliance_ols"
                               else ("post", ["pre", "arm"], "arm"))
        est, se, df = _ols(data, outcome, cols, term)
        row.update(singular=None)
    elif name in ("alliance_multilevel", "treatment_multilevel"):
        outcome, cols, term = (("change", ["alliance_mean", "arm"], "alliance_mean")
                               if name == "alliance_multilevel" else ("post", ["pre", "arm"], "arm"))
        fit = therapist_effect(data, outcome, "therapist", covariates=cols)
        est, se = _polished_fixed(fit, data, outcome, cols, term)
        df = _bw_df(data, cols, term, codes, J)
        row.update(singular=bool(fit.singular))
    else:  # alliance_between / alliance_within share one fit
        if "disaggregate" not in cache:
            cache["disaggregate"] = disaggregate_alliance(data, "change", "alliance_mean", "therapist",
                                                          covariates=["arm"])
        fit = cache["disaggregate"]
        if "disaggregate_polished" not in cache:
            cache["disaggregate_polished"] = _polished_disaggregation(fit, data, codes, J)
        est, se = cache["disaggregate_polished"][name]
        tmp = data.assign(_between=data.groupby("therapist")["alliance_mean"].transform("mean"))
        tmp["_within"] = tmp["alliance_mean"] - tmp["_between"]
        df = _bw_df(tmp, ["_within", "_between", "arm"], "_between" if name == "alliance_between" else "_within",
                    codes, J)
        row.update(singular=bool(fit.singular))
    stat = est / se
    row.update(estimate=est, se=se, statistic=stat, df=df if reference == "t" else math.nan)
    row["pvalue"] = _p_value(stat, df if reference == "t" else None)
    return row


def _trial_data(sim: dict, arms: str, entropy: int, r: int) -> pd.DataFrame:
    """Simulate replicate r of one design cell and return the complete cases."""
    seed = np.random.SeedSequence(entropy, spawn_key=(r, 0))
    if arms == "crossed":
        trial = simulate_trial(**sim, seed=seed)
        pts = trial.patients
    else:
        d = sim.get("treatment_d", 0.06)
        trial = simulate_trial(**{**sim, "treatment_d": 0.0}, seed=seed)
        tau = d * trial.truth["post_sd"]
        pts = trial.patients.copy()
        J = int(trial.params["n_therapists"])
        alloc = float(trial.params["allocation"])
        rng = np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(r, 1)))
        arm_th = np.zeros(J, dtype=np.int64)
        arm_th[rng.permutation(J)[: int(round(J * alloc))]] = 1
        arm = arm_th[pts["therapist"].to_numpy()]
        post_m = trial.truth["latent"]["post_measured"].to_numpy()
        post = np.clip(np.round(post_m - tau * arm), *PHQ9_RANGE) + 0.0
        done = pts["completed"].to_numpy()
        pts["arm"] = arm
        pts["post"] = np.where(done, post, np.nan)
        pts["change"] = pts["pre"] - pts["post"]
    return pts.loc[pts["completed"].to_numpy()].reset_index(drop=True)


def _replicate_rows(cell: int, sim: dict, arms: str, analyses: list, entropy: int, r: int,
                    reference: str) -> list[dict]:
    """Replicate r of one cell, simulated and fitted one by one (one row per analysis)."""
    rows = []
    data = _trial_data(sim, arms, entropy, r)
    cache: dict = {}
    for name in analyses:
        base = {"cell": cell, "replicate": r, "analysis": name}
        try:
            res = _analyse(name, data, reference, cache)
            res["error"] = ""
        except (ValueError, np.linalg.LinAlgError, ZeroDivisionError, FloatingPointError) as exc:
            res = {"patients_analysed": len(data), "therapists_analysed": int(data["therapist"].nunique()),
                   "singular": None, "estimate": math.nan, "se": math.nan, "statistic": math.nan,
                   "df": math.nan, "pvalue": math.nan, "error": f"{type(exc).__name__}: {exc}"}
        rows.append({**base, **res})
    return rows


def _run_chunk(task: tuple) -> list[dict]:
    """Run replicates [start, stop) of one design cell (a picklable unit of work)."""
    cell, sim, arms, analyses, entropy, start, stop, reference, batched = task
    rows: list[dict] = []
    with _FIT_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not batched:
            for r in range(start, stop):
                rows.extend(_replicate_rows(cell, sim, arms, analyses, entropy, r, reference))
            return rows
        alliance = any(name not in _TREATMENT_ANALYSES for name in analyses)
        data = _trial_stack(sim, arms, entropy, start, stop, alliance=alliance)
        fits = _fit_stack(data, reference, analyses)
        for k, r in enumerate(range(start, stop)):
            if not all(fits[name]["ok"][k] for name in analyses):  # fitted one by one, as the general path
                rows.extend(_replicate_rows(cell, sim, arms, analyses, entropy, r, reference))
                continue
            for name in analyses:
                f = fits[name]
                rows.append({
                    "cell": cell, "replicate": r, "analysis": name, "patients_analysed": data["N"],
                    "therapists_analysed": data["J"],
                    "singular": None if name.endswith("_ols") else bool(f["singular"][k]),
                    "estimate": float(f["estimate"][k]), "se": float(f["se"][k]),
                    "statistic": float(f["statistic"][k]), "df": float(f["df"][k]), "pvalue": float(f["p"][k]),
                    "error": "",
                })
    return rows


# --------------------------------------------------------------------------- batched replicates
#: Analyses that need only pre, post, arm and therapist (no alliance ratings simulated).
_TREATMENT_ANALYSES = ("treatment_multilevel", "treatment_ols")
#: Analyses the batched path fits: all of them (the alliance ones need the session ratings too).
_BATCHED_ANALYSES = tuple(ANALYSES)


def _batchable(params: dict, analyses: Sequence[str]) -> bool:
    """True when every replicate of the cell has the same patients (no drawn caseloads, no dropout)."""
    return (all(a in _BATCHED_ANALYSES for a in analyses) and params["dropout_rate"] == 0
            and (params["caseload_dist"] == "fixed" or isinstance(params["caseload"], list)))


def _trial_stack(sim: dict, arms: str, entropy: int, start: int, stop: int, block: int = 32,
                 alliance: bool = False) -> dict:
    """:func:`_trial_block` over blocks of `block` replicates (small arrays stay in cache)."""
    parts = [_trial_block(sim, arms, entropy, b, min(b + block, stop), alliance=alliance)
             for b in range(start, stop, block)]
    out = dict(parts[0])
    for key in ("pre", "post", "arm", "change", "alliance_mean"):
        if key in out:
            out[key] = np.concatenate([q[key] for q in parts], axis=0)
    return out


def _trial_block(sim: dict, arms: str, entropy: int, start: int, stop: int, alliance: bool = False) -> dict:
    r"""Replicates [start, stop) of one cell as arrays (replicate x patient): pre, post, arm.

    Makes exactly the draws of :func:`analysis.simulate.simulate_trial` with each
    replicate's own generator (child ``(r, 0)`` of the root seed; ``(r, 1)`` for the
    therapists' arms of a nested design), in the same order and with the same arguments,
    and stops after the last draw that pre and post (with ``alliance=True`` also the
    session alliance ratings, for ``change`` and ``alliance_mean``) depend on; everything
    else is computed for all replicates at once with the same elementwise arithmetic. So
    pre, post, arm, change and alliance_mean are identical, bit for bit, to those of
    :func:`_trial_data` (tested).
    """
    from analysis.simulate import _DEFAULTS, WAI_RANGE, _checked_params, implied_population

    d_treat = sim.get("treatment_d", _DEFAULTS["treatment_d"])
    params = _checked_params({**_DEFAULTS, **sim, **({"treatment_d": 0.0} if arms == "nested" else {})})
    pop = implied_population(params)
    J, T = params["n_therapists"], params["n_sessions"]
    cl = params["caseload"]
    n_j = np.asarray(cl, dtype=np.int64) if isinstance(cl, list) else np.full(J, int(float(cl)), dtype=np.int64)
    N = int(n_j.sum())
    th = np.repeat(np.arange(J), n_j)
    R = stop - start
    alloc, phi = params["allocation"], params["alliance_state_autocorr"]
    rr, rep, rdepth = params["rupture_rate"], params["repair_prob"], params["rupture_depth"]
    sd_a, sd_b = math.sqrt(pop["alliance_therapist_var"]), math.sqrt(pop["alliance_trait_var"])
    sd_s = math.sqrt(pop["alliance_state_var"])
    sd_innov = sd_s * math.sqrt(1 - phi**2)
    arm = np.empty((R, N), dtype=np.int64)
    a_j, theta_j = np.empty((R, J)), np.empty((R, J))
    b_i, s0_, eps, y0n, sg_u = (np.empty((R, N)) for _ in range(5))
    t_sg = np.empty((R, N), dtype=np.int64)
    innov, rupt_u, rep_u = np.empty((R, N, T)), np.empty((R, N, T)), np.empty((R, N, T))
    noise = np.empty((R, N, T + 1))
    anoise = np.empty((R, N, T)) if alliance else None
    sd_ae = math.sqrt(pop["alliance_error_var"])
    arm_th = np.zeros((R, J), dtype=np.int64)
    # consecutive draws of one kind are made in one call (the generator's stream is the same:
    # normal(loc, scale) is loc + scale * standard_normal, and no value is cached between calls)
    n1 = J + N + N + N * T  # a_j, b_i, s[:, 0], innov
    n2 = J + N + N          # theta_j, eps, y0 noise
    for k, r in enumerate(range(start, stop)):
        rng = np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(r, 0)))
        arm[k] = rng.random(N) < alloc
        z = rng.standard_normal(n1)
        a_j[k] = 0.0 + sd_a * z[:J]
        b_i[k] = 0.0 + sd_b * z[J:J + N]
        s0_[k] = 0.0 + sd_s * z[J + N:J + 2 * N]
        innov[k] = 0.0 + sd_innov * z[J + 2 * N:].reshape(N, T)
        u = rng.random(2 * N * T)
        rupt_u[k] = u[: N * T].reshape(N, T)
        rep_u[k] = u[N * T:].reshape(N, T)
        z = rng.standard_normal(n2)
        theta_j[k] = 0.0 + pop["therapist_sd"] * z[:J]
        eps[k] = 0.0 + pop["residual_sd"] * z[J:J + N]
        y0n[k] = 0.0 + params["intake_sd"] * z[J + N:]
        sg_u[k] = rng.random(N)
        t_sg[k] = rng.integers(2, T, N)
        noise[k] = 0.0 + pop["symptom_error_sd"] * rng.standard_normal((N, T + 1))
        if alliance:
            anoise[k] = 0.0 + sd_ae * rng.standard_normal((N, T))
        if arms == "nested":
            rng2 = np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(r, 1)))
            arm_th[k, rng2.permutation(J)[: int(round(J * alloc))]] = 1
    # the simulator's arithmetic, replicate x patient (x session)
    s = np.empty((R, N, T))
    s[:, :, 0] = s0_
    for t in range(1, T):
        s[:, :, t] = phi * s[:, :, t - 1] + innov[:, :, t]
    rupt = rupt_u < rr
    repaired = rupt & (rep_u < rep)
    unrep = rupt & ~repaired
    deficit = np.empty((R, N, T))
    running = np.zeros((R, N), dtype=np.int64)
    for t in range(T):  # rdepth * (repaired + cumsum(unrep)), the same integers
        running += unrep[:, :, t]
        deficit[:, :, t] = rdepth * (repaired[:, :, t] + running)
    w_tilde = b_i + s.mean(axis=2) - (deficit.mean(axis=2) - pop["rupture_deficit_mean"])
    D = (params["mean_change"] + pop["tau"] * arm + theta_j[:, th] + pop["alliance_between"] * a_j[:, th]
         + pop["alliance_within"] * w_tilde + eps)
    y0 = params["intake_mean"] + y0n
    tt = np.arange(T + 1)
    G = np.log1p(tt) / math.log1p(T)
    sg = sg_u < params["sudden_gain_prob"]
    dG = G[t_sg] - G[t_sg - 1]
    gam = np.clip((params["sudden_gain_share"] - dG) / (1 - dG), 0.0, 1.0)
    cols = np.array([0, T]) if not alliance else tt  # every session when the alliance needs Y*
    Gi = np.where(sg[..., None], (1 - gam[..., None]) * G[cols] + gam[..., None] * (tt[cols] >= t_sg[..., None]),
                  G[cols])
    ystar = y0[..., None] - D[..., None] * Gi
    ymeas = ystar + noise[:, :, cols]
    last = ymeas.shape[2] - 1
    pre = np.clip(np.round(ymeas[..., 0]), *PHQ9_RANGE) + 0.0
    if arms == "crossed":
        post = np.clip(np.round(ymeas[..., last]), *PHQ9_RANGE) + 0.0
    else:
        arm = arm_th[:, th]
        post = np.clip(np.round(ymeas[..., last] - d_treat * pop["post_sd"] * arm), *PHQ9_RANGE) + 0.0
    # C order throughout (arm_th[:, th] is column-major): reductions over a row then add in one order
    out = {"pre": np.ascontiguousarray(pre), "post": np.ascontiguousarray(post),
           "arm": np.ascontiguousarray(arm, dtype=float), "n_j": n_j, "J": J, "N": N}
    if alliance:
        astar = (params["alliance_mean"] + params["alliance_growth"] * np.arange(T)[None, None, :]
                 + a_j[:, th][..., None] + b_i[..., None] + s - deficit
                 + params["reverse_causation"] * (ystar[..., :-1] - ystar[..., 1:]))
        ameas = astar + anoise
        a_obs = np.ascontiguousarray(np.clip(np.round(ameas * 12) / 12, *WAI_RANGE))
        out["alliance_mean"] = np.sum(a_obs, axis=2) / T  # np.nanmean of complete rows: sum / count
        out["change"] = np.ascontiguousarray(pre - post)
    return out


def _sums(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row sums of a * b over the last axis (one order of additions for every batch size).

    The product is made C-contiguous first: numpy adds the elements of a row in another order
    when the row is strided (e.g. the column-major result of ``x[:, index]``).
    """
    return np.sum(np.ascontiguousarray(a * b), axis=-1)


def _chol(A: dict, p: int) -> tuple[dict, list[np.ndarray]]:
    """Cholesky factors of a stack of symmetric p x p matrices, elementwise over the stack.

    ``A[a, b]`` (a >= b) are arrays over replicates; returns ``L[a, b]`` and the pivots
    (the squared diagonal of L, NaN-free; L's diagonal is NaN where a pivot is not positive).
    Elementwise arithmetic only, so a replicate's factor does not depend on the stack.
    """
    L: dict = {}
    pivots = []
    for j in range(p):
        s = A[j, j]
        for k in range(j):
            s = s - L[j, k] * L[j, k]
        pivots.append(s)
        d = np.sqrt(np.where(s > 0, s, np.nan))
        L[j, j] = d
        for i in range(j + 1, p):
            t = A[i, j]
            for k in range(j):
                t = t - L[i, k] * L[j, k]
            L[i, j] = t / d
    return L, pivots


def _chol_solve(L: dict, b: list[np.ndarray], p: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(z, x) with L z = b and L' x = z (so A x = b and b'x = z'z)."""
    z = []
    for i in range(p):
        t = b[i]
        for k in range(i):
            t = t - L[i, k] * z[k]
        z.append(t / L[i, i])
    x: list = [None] * p
    for i in reversed(range(p)):
        t = z[i]
        for k in range(i + 1, p):
            t = t - L[k, i] * x[k]
        x[i] = t / L[i, i]
    return z, x


def _chol_inv_diag(L: dict, p: int, k: int) -> np.ndarray:
    """Element (k, k) of A^{-1} from its Cholesky factor: the squared norm of L^{-1} e_k."""
    v = {k: 1.0 / L[k, k]}
    total = v[k] * v[k]
    for i in range(k + 1, p):
        t = L[i, k] * v[k]
        for j in range(k + 1, i):
            t = t + L[i, j] * v[j]
        v[i] = -t / L[i, i]
        total = total + v[i] * v[i]
    return total


def _level2_stack(v: np.ndarray, n_j: np.ndarray, R: int, J: int) -> np.ndarray:
    """Per replicate: is `v` constant within every therapist (a therapist-level term)?"""
    if np.all(n_j == n_j[0]):
        w = v.reshape(R, J, int(n_j[0]))
        return np.all(w.max(axis=2) - w.min(axis=2) == 0, axis=1)
    starts = np.concatenate([[0], np.cumsum(n_j)[:-1]])
    return np.all(np.maximum.reduceat(v, starts, axis=1) - np.minimum.reduceat(v, starts, axis=1) == 0, axis=1)


def _per_therapist(n_j: np.ndarray, R: int, J: int):
    """A function summing a (replicate x patient) array over each therapist's patients."""
    if np.all(n_j == n_j[0]):
        m = int(n_j[0])
        return lambda v: v.reshape(R, J, m).sum(axis=2)
    starts = np.concatenate([[0], np.cumsum(n_j)[:-1]])
    return lambda v: np.add.reduceat(v, starts, axis=1)


def _test_arrays(est, se, df, reference: str, ok: np.ndarray, **extra) -> dict:
    """Statistic, p value and the `ok` mask of one tested term, as the one-by-one path reports them."""
    stat = est / se
    if reference == "t":
        pval = np.where(np.isfinite(df), 2 * stats.t.sf(np.abs(stat), df), 2 * stats.norm.sf(np.abs(stat)))
    else:
        pval = 2 * stats.norm.sf(np.abs(stat))
    good = ok & np.isfinite(stat) & np.isfinite(pval)
    return dict(ok=good, estimate=est, se=se, statistic=stat,
                df=df if reference == "t" else np.full(est.shape, math.nan), p=pval, **extra)


def _ols_stack(y: np.ndarray, X: list[np.ndarray], terms: dict[str, int], ok: np.ndarray, reference: str) -> dict:
    """OLS of y on the columns X (the first is the intercept) for a stack; one test per term."""
    R, N = y.shape
    p = len(X)
    A = {(a, b): np.where(ok, _sums(X[a], X[b]), float(a == b)) for a in range(p) for b in range(a + 1)}
    Xty = [_sums(x, y) for x in X]
    L, piv = _chol(A, p)
    z, beta = _chol_solve(L, Xty, p)
    rss = _sums(y, y) - sum(zi * zi for zi in z)
    sigma2 = rss / (N - p)
    df = np.full(R, float(N - p))
    out = {}
    for name, k in terms.items():
        se = np.sqrt(sigma2 * _chol_inv_diag(L, p, k))
        out[name] = _test_arrays(beta[k], se, df, reference, ok, singular=np.zeros(R, dtype=bool))
    return out


def _reml_stack(y: np.ndarray, X: list[np.ndarray], terms: dict[str, int], ok: np.ndarray, n_j: np.ndarray,
                J: int, reference: str) -> dict:
    r"""Random-intercept REML fits of y on the columns X for a stack of replicates; one test per term.

    The profiled REML criterion of :class:`analysis.multilevel._ProfiledRI` evaluated for all
    replicates at once from per-therapist sums, minimised over :math:`\theta = \tau/\sigma` as
    there (the same 50-point grid, then a golden-section search between the grid neighbours of
    the best point to :math:`10^{-12}\max(1, hi)`, then the boundary check at 0, then the Newton
    polish of :func:`_polish_theta`); the fixed effects, their covariance :math:`\sigma^2 A^{-1}`
    (Cholesky factor computed elementwise) and the between-within degrees of freedom follow as in
    :func:`analysis.multilevel.therapist_effect` and :func:`_bw_df`.
    """
    from analysis.multilevel import _SINGULAR_TOL

    R, N = y.shape
    p = len(X)
    per_therapist = _per_therapist(n_j, R, J)
    Sx = [per_therapist(x) for x in X]
    Sy = per_therapist(y)
    nj = n_j.astype(float)
    d_reml = N - p
    pairs = [(a, b) for a in range(p) for b in range(a + 1)]
    XtX = {ab: np.where(ok, _sums(X[ab[0]], X[ab[1]]), float(ab[0] == ab[1])) for ab in pairs}
    Xty = [_sums(x, y) for x in X]
    yty = _sums(y, y)
    # per-therapist products, one column each: Sx_a Sx_b, Sx_a Sy, Sy^2
    M = np.stack([Sx[a] * Sx[b] for a, b in pairs] + [Sx[a] * Sy for a in range(p)] + [Sy * Sy], axis=2)
    n_pairs = len(pairs)
    sizes, counts = np.unique(nj, return_counts=True)
    # c_j depends on the therapist only through n_j: sum the products over the therapists of
    # each caseload once, then sum_j c_j M_j = sum_s c(n_s) M_s (a few terms, added in one order)
    M_by_size = [np.sum(M[:, nj == size, :], axis=1) for size in sizes]
    weak_seen = np.zeros(R, dtype=bool)

    def pieces(theta: np.ndarray):
        lam = theta * theta
        # sum_j c_j M_j per replicate, elementwise (not a matrix product, whose BLAS kernel may add
        # in another order depending on the memory alignment of a replicate's slice)
        S = 0.0
        for size, Ms in zip(sizes, M_by_size):
            S = S + (lam / (1.0 + lam * size))[:, None] * Ms
        A = {ab: XtX[ab] - S[:, i] for i, ab in enumerate(pairs)}
        bv = [Xty[a] - S[:, n_pairs + a] for a in range(p)]
        L, piv = _chol(A, p)
        z, beta = _chol_solve(L, bv, p)
        r2 = yty - S[:, -1] - sum(zi * zi for zi in z)
        ldv = np.sum(np.log1p(lam[:, None] * sizes) * counts, axis=1)
        lda = sum(np.log(np.where(q > 0, q, np.nan)) for q in piv)
        # where a Cholesky pivot is not clearly positive the single fit may stop with "not
        # positive definite": let it decide
        weak = np.zeros(R, dtype=bool)
        for a in range(p):
            weak |= ~(piv[a] > 1e-9 * XtX[a, a])
        weak_seen[:] |= weak
        return L, beta, r2, ldv, lda

    def crit(theta: np.ndarray) -> np.ndarray:
        *_, r2, ldv, lda = pieces(theta)
        r2 = np.maximum(r2, 1e-300)
        return d_reml * (1.0 + np.log(2 * math.pi * r2 / d_reml)) + ldv + lda

    grid = np.concatenate([[0.0], np.logspace(-4, 2, 49)])
    vals = np.stack([crit(np.full(R, g)) for g in grid], axis=1)
    k = np.argmin(vals, axis=1)
    ok_ml = ok & (k < len(grid) - 1) & np.isfinite(vals).all(axis=1)
    lo = grid[np.maximum(k - 1, 0)]
    hi = grid[np.minimum(k + 1, len(grid) - 1)]
    tol = 1e-12 * np.maximum(1.0, hi)
    # golden-section search on [lo, hi], all replicates in step
    g = (math.sqrt(5) - 1) / 2
    a_, b_ = lo.copy(), hi.copy()
    x1, x2 = b_ - g * (b_ - a_), a_ + g * (b_ - a_)
    f1, f2 = crit(x1), crit(x2)
    for _ in range(300):
        active = (b_ - a_) > tol
        if not active.any():
            break
        left = f1 <= f2  # the minimum lies in [a, x2]
        na, nb = np.where(left, a_, x1), np.where(left, x2, b_)
        nx1 = np.where(left, nb - g * (nb - na), x2)
        nx2 = np.where(left, x1, na + g * (nb - na))
        fe = crit(np.where(left, nx1, nx2))
        nf1, nf2 = np.where(left, fe, f2), np.where(left, f1, fe)
        a_, b_ = np.where(active, na, a_), np.where(active, nb, b_)
        x1, x2 = np.where(active, nx1, x1), np.where(active, nx2, x2)
        f1, f2 = np.where(active, nf1, f1), np.where(active, nf2, f2)
    theta = (a_ + b_) / 2
    ftheta = crit(theta)
    theta = np.where(ftheta <= vals[np.arange(R), k], theta, grid[k])
    best = np.minimum(ftheta, vals[np.arange(R), k])
    at0 = vals[:, 0] <= best
    theta = np.where(at0, 0.0, theta)
    # therapist_effect also searches the upper profile-likelihood limit of theta, doubling
    # max(theta, 1e-3) * 2 while the criterion is within the chi2(1) quantile of its minimum
    # (up to 1e8); A can lose definiteness out there (e.g. two therapists), where the single
    # fit stops with an error: walk the same points and let the single fit decide there
    q95 = stats.chi2.ppf(0.95, 1)
    f_hat = crit(theta)
    hi_ci = np.maximum(theta, 1e-3) * 2
    walking = ok_ml.copy()
    while walking.any():
        f_hi = crit(np.where(walking, hi_ci, 1.0))
        walking &= (f_hi - f_hat - q95 < 0) | ~np.isfinite(f_hi)
        hi_ci = np.where(walking, hi_ci * 2, hi_ci)
        walking &= hi_ci <= 1e8
    theta = _polish_theta(crit, theta)
    L, beta, r2, _, _ = pieces(theta)
    sigma2 = r2 / d_reml
    # between-within df (SAS ddfm=bw), as _bw_df: q = intercept + therapist-level columns
    level2 = [np.ones(R, dtype=bool)] + [_level2_stack(x, n_j, R, J) for x in X[1:]]
    q = sum(v.astype(int) for v in level2)
    out = {}
    for name, kk in terms.items():
        se = np.sqrt(sigma2 * _chol_inv_diag(L, p, kk))
        df = np.where(level2[kk], J - q, N - J - (p - q)).astype(float)
        df = np.where(df > 0, df, np.nan)
        out[name] = _test_arrays(beta[kk], se, df, reference, ok_ml & ~weak_seen,
                                 singular=theta < _SINGULAR_TOL)
    return out


def _fit_stack(data: dict, reference: str,
               analyses: Sequence[str] = _TREATMENT_ANALYSES) -> dict[str, dict[str, np.ndarray]]:
    r"""The requested analyses for a stack of replicates (see :data:`ANALYSES`).

    ``*_ols``: least squares from the normal equations (Cholesky). ``*_multilevel`` and
    ``alliance_between``/``alliance_within``: :func:`_reml_stack` (the last two share one fit of
    change on the within- and between-therapist parts of the alliance and arm, as
    :func:`~analysis.multilevel.disaggregate_alliance`). ``ok`` is False where the stack cannot
    vouch for reproducing the single fit (a constant column, an alliance that does not vary
    within or between therapists, an optimum beyond the grid, a Cholesky pivot of :math:`A` not
    clearly positive at a point the single fit evaluates, including its walk towards the upper
    profile limit, anything non-finite): those replicates are fitted one by one.

    Every replicate's arithmetic is elementwise or a reduction of fixed length over its own
    therapists or patients, so the result does not depend on which replicates share the
    stack (chunking, processes).
    """
    n_j, J, N = data["n_j"], data["J"], data["N"]
    arm = data["arm"]
    R = arm.shape[0]
    one = np.ones_like(arm)
    varies = lambda v: np.ptp(v, axis=1) > 0  # noqa: E731
    base_ok = varies(arm) & (N - J > 0) & (N >= 6)
    out: dict[str, dict[str, np.ndarray]] = {}
    with np.errstate(all="ignore"):
        if any(a in _TREATMENT_ANALYSES for a in analyses):
            y, X = data["post"], [one, data["pre"], arm]
            ok = base_ok & varies(data["pre"]) & varies(y)
            if "treatment_ols" in analyses:
                out.update(_ols_stack(y, X, {"treatment_ols": 2}, ok, reference))
            if "treatment_multilevel" in analyses:
                out.update(_reml_stack(y, X, {"treatment_multilevel": 2}, ok, n_j, J, reference))
        if any(a in ("alliance_multilevel", "alliance_ols") for a in analyses):
            y, X = data["change"], [one, data["alliance_mean"], arm]
            ok = base_ok & varies(data["alliance_mean"]) & varies(y)
            if "alliance_ols" in analyses:
                out.update(_ols_stack(y, X, {"alliance_ols": 1}, ok, reference))
            if "alliance_multilevel" in analyses:
                out.update(_reml_stack(y, X, {"alliance_multilevel": 1}, ok, n_j, J, reference))
        if any(a in ("alliance_between", "alliance_within") for a in analyses):
            a = data["alliance_mean"]
            per_therapist = _per_therapist(n_j, R, J)
            th = np.repeat(np.arange(J), n_j)
            between = np.ascontiguousarray((per_therapist(a) / n_j)[:, th])  # [:, th] is column-major
            within = a - between
            amax = np.max(np.abs(a), axis=1)
            ok = (base_ok & varies(data["change"]) & (np.max(np.abs(within), axis=1) > 1e-9 * amax)
                  & (np.ptp(between, axis=1) > 1e-9 * amax))
            out.update(_reml_stack(data["change"], [one, within, between, arm],
                                   {"alliance_within": 1, "alliance_between": 2}, ok, n_j, J, reference))
    return {name: out[name] for name in analyses}


# --------------------------------------------------------------------------- results
@dataclass
class PowerResult(ResultMixin):
    """Result of :func:`simulate_power`.

    Attributes
    ----------
    replicates : DataFrame
        Tidy: one row per design cell, replicate and analysis, with the grid's
        columns, ``analysis``, ``replicate``, ``patients_analysed`` and ``therapists_analysed``
        (complete cases), ``estimate``, ``se``, ``statistic``, ``df``, ``pvalue``, ``reject``
        (missing when the fit failed), ``singular`` and ``error`` (empty if none).
    table : DataFrame
        One row per design cell and analysis: the grid's columns, ``analysis``,
        ``question``, ``null`` (the tested effect is zero in the generating model, so
        the rate is a type I error), ``measure``, ``n_replicates``, ``n_failed``,
        ``rejections``, ``rate``, ``mc_se``, ``ci_low``/``ci_high`` (rate ± 1.96 MC SE,
        clipped to [0, 1]), ``mean_estimate``, ``sd_estimate``, ``mean_se``,
        ``singular_rate``, ``analytic`` (the approximation of the module docstring,
        missing where none is given) and ``analytic_method``.
    design, grid : dict
        The fixed design and the grid (name -> values).
    analyses : list of str
    n_replicates : int
    seed : dict
        ``{"entropy": ...}`` of the root SeedSequence (re-create it exactly).
    alpha : float
    reference : str
    backend : str
        "serial", "processes (n)" or "dask (address)".
    elapsed : float
        Wall time in seconds.
    """

    _frame_from = ('table',)

    replicates: pd.DataFrame
    table: pd.DataFrame
    design: dict
    grid: dict
    analyses: list
    n_replicates: int
    seed: dict
    alpha: float
    reference: str
    backend: str
    elapsed: float
    notes: list = field(default_factory=list)

    def summary(self) -> str:
        """Readable table of rejection rates with Monte Carlo SEs and the analytic values."""
        gcols = list(self.grid)
        cols = gcols + ["analysis", "measure", "rate", "mc_se", "analytic", "n_failed", "singular_rate"]
        txt = self.table[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}")
        lines = [
            f"Monte Carlo power: {self.n_replicates} replicates per cell, {len(self.table)} cell x analysis "
            f"rows, alpha = {self.alpha}, reference {self.reference!r}",
            f"  seed entropy {self.seed['entropy']}; backend {self.backend}; {self.elapsed:.1f} s",
            f"  fixed design: {self.design}",
            txt,
        ]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def plot_data(self, x: str, analyses: Sequence[str] | None = None) -> pd.DataFrame:
        """Rows for a power curve over grid column `x`: x, analysis, rate, ci_low, ci_high, analytic.

        Parameters
        ----------
        x : str
            A grid column.
        analyses : list of str, optional
            Keep these analyses only.

        Raises
        ------
        ValueError
            When `x` is not a grid column or an analysis was not run.
        """
        if x not in self.grid:
            raise ValueError(f"`x` must be a grid column ({', '.join(map(repr, self.grid)) or 'none'}); got {x!r}.")
        t = self.table
        if analyses is not None:
            bad = [a for a in analyses if a not in self.analyses]
            if bad:
                raise ValueError(f"`analyses` {bad} were not run; run were {self.analyses}.")
            t = t[t["analysis"].isin(list(analyses))]
        keep = list(self.grid) + ["analysis", "measure", "rate", "mc_se", "ci_low", "ci_high", "analytic"]
        return t[keep].sort_values(["analysis", x], kind="stable").reset_index(drop=True)


def _null_effect(name: str, truth: dict, params: dict) -> bool:
    kappa = params.get("reverse_causation", 0.0)
    bw, bb = truth["alliance_within"], truth["alliance_between"]
    if name.startswith("treatment"):
        return params.get("treatment_d", 0.06) == 0
    if name == "alliance_within":
        return bw == 0 and kappa == 0
    return bw == 0 and bb == 0 and kappa == 0


def _analytic(name: str, truth: dict, params: dict, arms: str, alpha: float) -> tuple[float, str]:
    """The approximation of the module docstring for one cell and analysis (nan if none)."""
    J = params.get("n_therapists", 40)
    cl = params.get("caseload", 8)
    if not np.isscalar(cl):
        return math.nan, ""
    keep = 1.0 - params.get("dropout_rate", 0.0)
    m = float(cl) * keep
    N = J * m
    icc = truth["therapist_icc"]
    alloc = params.get("allocation", 0.5)
    if name.startswith("treatment"):
        # effect on the scale of the post score given pre (the analysed residual)
        delta = params.get("treatment_d", 0.06) * truth["post_sd"] / math.sqrt(truth["residual_post_given_pre_var"])
        if arms == "nested":
            de = 1 + (m - 1) * icc
            if name == "treatment_multilevel":
                return power_two_arm(delta, N, de, alpha, alloc), "normal, N/DE, DE = 1+(m-1)ICC"
            return naive_rejection_rate(delta, N, de, alpha, alloc), "naive z, variance x DE"
        if name == "treatment_multilevel":
            return power_two_arm(delta, N, 1 - icc, alpha, alloc), "normal, DE = 1-ICC (within therapists)"
        return power_two_arm(delta, N, 1.0, alpha, alloc), "normal, DE = 1 (patient randomisation)"
    if name in ("alliance_multilevel", "alliance_ols") and params.get("reverse_causation", 0.0) == 0:
        r = truth["alliance_outcome_r"]
        if N > 4:
            return power_correlation(r, N, 1.0, alpha), "Fisher z, unclustered"
    return math.nan, ""


def _cells(design: Mapping, grid: Mapping | None) -> tuple[dict, dict, list[dict]]:
    if not isinstance(design, Mapping):
        raise ValueError(f"`design` must be a dict of simulate_trial arguments; got {type(design).__name__}.")
    grid = {} if grid is None else grid
    if not isinstance(grid, Mapping):
        raise ValueError(f"`grid` must be a dict of name -> list of values; got {type(grid).__name__}.")
    for where, d in (("design", design), ("grid", grid)):
        for k in d:
            if k == "seed":
                raise ValueError(f"`{where}` must not set 'seed': give `seed` to simulate_power.")
            if k not in _DESIGN_KEYS:
                raise ValueError(f"`{where}` has unknown key {k!r}.{suggest_name(k, _DESIGN_KEYS)} Valid keys are "
                                 f"simulate_trial's arguments and 'arms'.")
    both = sorted(set(design) & set(grid))
    if both:
        raise ValueError(f"{both} given in both `design` and `grid`; give each in one place.")
    gvals = {}
    for k, v in grid.items():
        if isinstance(v, (str, bytes)) or not isinstance(v, (Sequence, np.ndarray)) or len(v) == 0:
            raise ValueError(f"`grid[{k!r}]` must be a non-empty list of values; got {v!r}.")
        gvals[k] = list(v)
    cells = [dict(zip(gvals, combo)) for combo in itertools.product(*gvals.values())]
    return dict(design), gvals, cells


def _check_cell(i: int, params: dict) -> tuple[dict, str, dict]:
    arms = params.pop("arms", "crossed")
    check_choice("arms", arms, _ARMS)
    try:
        trial = simulate_trial(**params, seed=0)
    except ValueError as exc:
        raise ValueError(f"design cell {i} {params}: {exc}") from None
    full = trial.params
    if arms == "nested":
        if full["reverse_causation"] != 0:
            raise ValueError(f"`arms`='nested' needs reverse_causation = 0 (cell {i}).")
        if full["dropout_rate"] > 0 and full["dropout"] != "MCAR":
            raise ValueError(f"`arms`='nested' needs MCAR dropout or dropout_rate = 0 (cell {i}: "
                             f"dropout {full['dropout']!r}).")
        n1 = int(round(full["n_therapists"] * full["allocation"]))
        if not 1 <= n1 <= full["n_therapists"] - 1:
            raise ValueError(f"`arms`='nested' needs therapists in both arms (cell {i}: n_therapists "
                             f"{full['n_therapists']}, allocation {full['allocation']}).")
    return params, arms, {"truth": trial.truth, "params": full}


def simulate_power(
    design: Mapping[str, Any],
    analysis: str | Sequence[str],
    n_replicates: int,
    seed: int | np.random.SeedSequence | None,
    *,
    grid: Mapping[str, Sequence[Any]] | None = None,
    alpha: float = 0.05,
    reference: str = "t",
    n_jobs: int = 1,
    client: Any = None,
    chunk_size: int | None = None,
    progress: bool = True,
    mp_context: Any = None,
    batched: bool = True,
) -> PowerResult:
    r"""Monte Carlo power and type I error of analyses of simulated alliance trials.

    For each design cell (the fixed ``design`` updated by one combination of the
    ``grid``), ``n_replicates`` trials are drawn with
    :func:`analysis.simulate.simulate_trial`; every analysis in ``analysis`` is fitted
    to each (complete cases) and its two-sided test of the target term rejects when
    :math:`p < \alpha`. The rejection rate :math:`\hat p` over the :math:`R`
    successful fits estimates power (or the type I error when the tested effect is
    zero in the generating model), with Monte Carlo SE :math:`\sqrt{\hat p(1-\hat p)/R}`.
    The analyses, the tests, the nested design and the analytic approximations are
    described in the module docstring (:mod:`analysis.power`).

    Parameters
    ----------
    design : dict
        Fixed arguments of ``simulate_trial`` (e.g. ``{"n_therapists": 60, "caseload":
        5}``), plus ``"arms"``: ``"crossed"`` (default; patients randomised) or
        ``"nested"`` (therapists randomised; each therapist in one arm).
    analysis : str or list of str
        Names from :data:`ANALYSES`; several are fitted to the same trials.
    n_replicates : int
        Trials per design cell (>= 1).
    seed : int, numpy.random.SeedSequence or None
        Root seed; replicate r of every cell uses its child with spawn key (r,).
        None draws fresh entropy (reported in the result, so the run can be repeated).
    grid : dict, optional
        Name -> list of values; the cells are all combinations (e.g. ``{"n_therapists":
        [20, 40], "therapist_icc": [0.05, 0.2]}``). Keys as ``design``; not both.
    alpha : float
        Level of the two-sided tests.
    reference : {"t", "normal"}
        t tests with between-within (multilevel) or residual (OLS) degrees of freedom,
        or z tests.
    n_jobs : int
        Local worker processes (1: in this process; -1: one per core). Ignored when
        ``client`` is given.
    client : dask.distributed.Client or str, optional
        Run on a Dask cluster (a client, or a scheduler address such as
        ``"tcp://10.0.0.5:8786"``, for which a client is opened and closed). Workers need
        the workbook installed at the same version.
    chunk_size : int, optional
        Replicates per task (default: about 4 tasks per worker and cell, at most 1,000 for batched
        cells; in one process 50, or up to 1,000 for batched cells). Results do not depend on it.
    progress : bool
        Show a tqdm progress bar.
    mp_context : multiprocessing context or str, optional
        For the local process pool (default: the platform's); a name such as ``"spawn"``
        is passed to :func:`multiprocessing.get_context`.
    batched : bool
        Simulate and fit the replicates of a chunk together where the design allows (the
        default): fixed caseloads (a number with ``caseload_dist="fixed"`` or one per
        therapist) and no dropout, for every analysis. The draws are those of ``simulate_trial`` (identical data); the REML fits
        use the same criterion, grid and boundary rule vectorised over replicates, and
        agree with the one-by-one fits to about :math:`10^{-9}` in the estimates (both are
        Newton-polished at the optimum; see :func:`_polish_theta`), with the same rejection
        decisions. Replicates the stack cannot reproduce (a constant column, an optimum
        beyond the grid) are fitted one by one. False fits every replicate one by one.

    Returns
    -------
    PowerResult
        Tidy ``replicates``, aggregated ``table``, ``summary()``, ``plot_data()``.

    Raises
    ------
    ValueError
        Naming the argument: unknown design/grid keys or `analysis` names (with the nearest
        valid name), invalid simulator values (with the cell), bad `n_replicates`, `seed`,
        `alpha`, `reference`, `n_jobs`, `chunk_size`, `progress`, `mp_context` or `client`.

    References
    ----------
    Baldwin, S. A., Wampold, B. E., & Imel, Z. E. (2007). Untangling the alliance-outcome
    correlation: Exploring the relative importance of therapist and patient variability in
    the alliance. *J Consult Clin Psychol, 75*(6), 842--852.
    Morris, T. P., White, I. R., & Crowther, M. J. (2019). Using simulation studies to
    evaluate statistical methods. *Stat Med, 38*(11), 2074--2102.
    Wampold, B. E., & Serlin, R. C. (2000). The consequence of ignoring a nested factor on
    measures of effect size in analysis of variance. *Psychol Methods, 5*(4), 425--433.

    Examples
    --------
    >>> res = simulate_power({"n_therapists": 10, "caseload": 4, "arms": "nested"},
    ...                      "treatment_ols", n_replicates=20, seed=1, progress=False)
    >>> res.table[["analysis", "n_replicates"]].to_dict("records")
    [{'analysis': 'treatment_ols', 'n_replicates': 20}]
    """
    t0 = time.perf_counter()
    analyses = [analysis] if isinstance(analysis, str) else analysis
    if not isinstance(analyses, (list, tuple)) or not analyses:
        raise ValueError(f"`analysis` must be a name or a non-empty list of names from {list(ANALYSES)}; "
                         f"got {analysis!r}.")
    analyses = list(analyses)
    for a in analyses:
        if not isinstance(a, str) or a not in ANALYSES:
            raise ValueError(f"`analysis` {a!r} is unknown.{suggest_name(a, ANALYSES)} Choose from {list(ANALYSES)}.")
    if len(set(analyses)) != len(analyses):
        raise ValueError(f"`analysis` lists a name twice: {analyses}.")
    if isinstance(n_replicates, (bool, np.bool_)) or not isinstance(n_replicates, (int, np.integer)) \
            or n_replicates < 1:
        raise ValueError(f"`n_replicates` must be a whole number >= 1; got {n_replicates!r}.")
    n_replicates = int(n_replicates)
    if isinstance(seed, np.random.SeedSequence):
        root = seed
    elif seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0):
        root = np.random.SeedSequence(seed)
    else:
        raise ValueError(f"`seed` must be a non-negative int, a numpy SeedSequence or None; got {seed!r}.")
    if root.spawn_key:
        raise ValueError("`seed` must be a root SeedSequence (no spawn_key).")
    entropy = root.entropy
    alpha = _check_alpha(alpha)
    check_choice("reference", reference, _REFERENCES)
    if client is None:
        if isinstance(n_jobs, (bool, np.bool_)) or not isinstance(n_jobs, (int, np.integer)) \
                or not (n_jobs >= 1 or n_jobs == -1):
            raise ValueError(f"`n_jobs` must be a whole number >= 1 or -1; got {n_jobs!r}.")
        n_jobs = (os.cpu_count() or 1) if n_jobs == -1 else int(n_jobs)
    if chunk_size is not None and (isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer))
                                   or chunk_size < 1):
        raise ValueError(f"`chunk_size` must be a whole number >= 1; got {chunk_size!r}.")
    if not isinstance(progress, (bool, np.bool_)):
        raise ValueError(f"`progress` must be True or False; got {progress!r}.")
    if not isinstance(batched, (bool, np.bool_)):
        raise ValueError(f"`batched` must be True or False; got {batched!r}.")
    if isinstance(mp_context, str):
        import multiprocessing

        try:
            mp_context = multiprocessing.get_context(mp_context)
        except ValueError:
            raise ValueError(f"`mp_context` {mp_context!r} is not a start method of this platform; choose from "
                             f"{multiprocessing.get_all_start_methods()}.") from None
    elif mp_context is not None and not callable(getattr(mp_context, "Process", None)):
        raise ValueError(f"`mp_context` must be a multiprocessing context, a start-method name or None; "
                         f"got {mp_context!r}.")

    design, gvals, cells = _cells(design, grid)
    sims, arms_list, infos = [], [], []
    for i, cell in enumerate(cells):
        sim, arms, info = _check_cell(i, {**design, **cell})
        sims.append(sim)
        arms_list.append(arms)
        infos.append(info)

    # ---------------------------------------------------------------- tasks
    workers = 1
    dask_client, own_client = None, False
    if client is not None:
        try:
            from dask.distributed import Client
        except ImportError as exc:  # pragma: no cover - dask is a dependency
            raise ValueError("`client` needs dask.distributed installed.") from exc
        if isinstance(client, str):
            dask_client, own_client = Client(client), True
        elif isinstance(client, Client):
            dask_client = client
        else:
            raise ValueError(f"`client` must be a dask.distributed.Client or a scheduler address; got {client!r}.")
        workers = max(1, sum(dask_client.nthreads().values()))
    else:
        workers = n_jobs
    use_batch = [bool(batched) and _batchable(infos[i]["params"], analyses) for i in range(len(cells))]
    if chunk_size is None:
        if workers > 1:  # batched stacks of at most 1,000 replicates keep the arrays small
            chunk_size = max(1, math.ceil(n_replicates / (4 * workers)))
            if any(use_batch):
                chunk_size = min(chunk_size, 1000)
        else:  # a batched stack pays per call, not per replicate: larger chunks
            chunk_size = max(1, min(n_replicates, 1000 if any(use_batch) else 50))
    tasks = []
    for i in range(len(cells)):
        for start in range(0, n_replicates, chunk_size):
            tasks.append((i, sims[i], arms_list[i], analyses, entropy, start,
                          min(start + chunk_size, n_replicates), reference, use_batch[i]))

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(cells) * n_replicates, desc="replicates", unit="rep")
    rows: list[dict] = []
    try:
        if dask_client is not None:
            from dask.distributed import as_completed as dask_completed

            futures = dask_client.map(_run_chunk, tasks, pure=False)
            for fut in dask_completed(futures):
                part = fut.result()
                rows.extend(part)
                if bar is not None:
                    bar.update(len(part) // len(analyses))
            backend = f"dask ({dask_client.scheduler.address}, {workers} threads)"
        elif n_jobs == 1:
            for task in tasks:
                part = _run_chunk(task)
                rows.extend(part)
                if bar is not None:
                    bar.update(len(part) // len(analyses))
            backend = "serial"
        else:
            with ProcessPoolExecutor(max_workers=n_jobs, mp_context=mp_context) as pool:
                futures = [pool.submit(_run_chunk, task) for task in tasks]
                for fut in as_completed(futures):
                    part = fut.result()
                    rows.extend(part)
                    if bar is not None:
                        bar.update(len(part) // len(analyses))
            backend = f"processes ({n_jobs})"
    finally:
        if bar is not None:
            bar.close()
        if own_client:
            dask_client.close()
    if any(use_batch):
        backend += ", batched fits"

    # ---------------------------------------------------------------- tidy results
    order = {a: k for k, a in enumerate(analyses)}
    reps = pd.DataFrame(rows)
    reps["_order"] = reps["analysis"].map(order)
    reps = reps.sort_values(["cell", "replicate", "_order"], kind="stable").drop(columns="_order")
    reps = reps.reset_index(drop=True)
    grid_frame = pd.DataFrame(cells, index=range(len(cells))) if gvals else pd.DataFrame(index=range(len(cells)))
    reps = grid_frame.reset_index(names="cell").merge(reps, on="cell", how="right") if gvals else reps
    ok = reps["error"] == ""
    reps["reject"] = pd.array(np.where(ok, reps["pvalue"] < alpha, False), dtype="boolean")
    reps.loc[~ok, "reject"] = pd.NA
    reps["singular"] = pd.array(reps["singular"].tolist(), dtype="boolean")
    cols = ["cell", *gvals, "analysis", "replicate", "patients_analysed", "therapists_analysed", "estimate", "se",
            "statistic", "df", "pvalue", "reject", "singular", "error"]
    reps = reps[cols]

    table_rows = []
    for (cell, name), g in reps.groupby(["cell", "analysis"], sort=False):
        good = g[g["error"] == ""]
        R = len(good)
        k = int(good["reject"].astype(bool).sum()) if R else 0
        rate = k / R if R else math.nan
        se = math.sqrt(rate * (1 - rate) / R) if R else math.nan
        info = infos[cell]
        null = _null_effect(name, info["truth"], info["params"])
        an, how = _analytic(name, info["truth"], info["params"], arms_list[cell], alpha)
        sing = good["singular"].dropna()
        table_rows.append({
            "cell": cell, **cells[cell], "analysis": name, "question": ANALYSES[name][0], "null": null,
            "measure": "type I error" if null else "power", "n_replicates": R, "n_failed": len(g) - R,
            "rejections": k, "rate": rate, "mc_se": se,
            "ci_low": max(0.0, rate - 1.959963984540054 * se) if R else math.nan,
            "ci_high": min(1.0, rate + 1.959963984540054 * se) if R else math.nan,
            "mean_estimate": float(good["estimate"].mean()) if R else math.nan,
            "sd_estimate": float(good["estimate"].std(ddof=1)) if R > 1 else math.nan,
            "mean_se": float(good["se"].mean()) if R else math.nan,
            "singular_rate": float(sing.astype(float).mean()) if len(sing) else math.nan,
            "analytic": float(an), "analytic_method": how,
        })
    table = pd.DataFrame(table_rows)
    table["_order"] = table["analysis"].map(order)
    table = table.sort_values(["cell", "_order"], kind="stable").drop(columns="_order").reset_index(drop=True)
    notes = []
    failed = int(table["n_failed"].sum())
    if failed:
        first = reps.loc[reps["error"] != "", "error"].iloc[0]
        notes.append(f"{failed} fits failed and are excluded from the rates (first: {first}); see "
                     "replicates['error'].")
        warnings.warn(notes[-1], UserWarning, stacklevel=2)
    return PowerResult(
        replicates=reps, table=table, design=design, grid=gvals, analyses=analyses, n_replicates=n_replicates,
        seed={"entropy": entropy}, alpha=alpha, reference=reference, backend=backend,
        elapsed=time.perf_counter() - t0, notes=notes,
    )
