r"""Fit measures of a structural equation model, under lavaan's ``fitMeasures`` names.

The one fit-index implementation of the workbook (``analysis._sem_fit`` re-exports
:func:`cfi`, :func:`tli` and :func:`rmsea` from here). With the test statistic
:math:`\chi^2 = 2(\ell_{H1} - \ell)` (complete data: :math:`2NF_{ML}`), :math:`df = d - q`
(:math:`d` sample moments, exogenous covariates' moments not counted under ``fixed.x``),
the baseline (independence) model's :math:`\chi^2_B, df_B`, :math:`N` rows and :math:`G` groups:

.. math::

    CFI = 1 - \frac{\max(\chi^2 - df, 0)}{\max(\chi^2 - df,\ \chi^2_B - df_B,\ 0)},\qquad
    TLI = \frac{\chi^2_B/df_B - \chi^2/df}{\chi^2_B/df_B - 1},

    RMSEA = \sqrt{G}\sqrt{\max\Bigl(\frac{\chi^2 - df}{N\,df}, 0\Bigr)},\qquad
    SRMR = \sum_g \frac{n_g}{N}\sqrt{\frac{\sum_{i\le j} r_{gij}^2 + \sum_i m_{gi}^2}{p(p+1)/2 + p}}

with the residuals :math:`r_{ij} = (s_{ij} - \hat\sigma_{ij})/\sqrt{s_{ii}s_{jj}}` and
:math:`m_i = (\bar y_i - \hat\mu_i)/\sqrt{s_{ii}}` (lavaan's ``srmr_bentler``; no mean terms
without a mean structure). The RMSEA interval inverts the noncentral :math:`\chi^2`
distribution (Browne & Cudeck 1993), ``rmsea.pvalue`` tests :math:`RMSEA \le .05`;
:math:`AIC = -2\ell + 2q`, :math:`BIC = -2\ell + q\log N`.

References
----------
Bentler, P. M. (1990). Comparative fit indexes in structural models. *Psychological Bulletin,
107*(2), 238--246.
Browne, M. W., & Cudeck, R. (1993). Alternative ways of assessing model fit. In K. A. Bollen &
J. S. Long (Eds.), *Testing structural equation models* (pp. 136--162). Sage.
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software, 48*(2), 1--36.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, stats

__all__ = ["cfi", "tli", "rmsea", "rmsea_ci", "rmsea_pvalue", "srmr", "fit_measures"]

_LOG2PI = math.log(2 * math.pi)


def cfi(chisq: float, df: float, base: float, df_base: float) -> float:
    """Comparative fit index (Bentler 1990); 1 when neither model misfits.

    Examples
    --------
    >>> round(cfi(30.0, 20, 500.0, 28), 4)
    0.9788
    """
    den = max(chisq - df, base - df_base, 0.0)
    return 1.0 if den == 0 else 1 - max(chisq - df, 0.0) / den


def tli(chisq: float, df: float, base: float, df_base: float) -> float:
    """Tucker-Lewis index; NaN for a saturated model (df 0).

    Examples
    --------
    >>> round(tli(30.0, 20, 500.0, 28), 4)
    0.9703
    """
    return ((base / df_base) - (chisq / df)) / ((base / df_base) - 1) if df > 0 else math.nan


def rmsea(chisq: float, df: float, n: float, *, groups: int = 1, zero_df: float = math.nan) -> float:
    """RMSEA (times sqrt(groups), lavaan's multi-group form); ``zero_df`` for a saturated model.

    Examples
    --------
    >>> round(rmsea(30.0, 20, 400), 4)
    0.0354
    """
    if df <= 0:
        return zero_df
    return math.sqrt(groups) * math.sqrt(max((chisq - df) / (n * df), 0.0))


def _ncp_for(chisq: float, df: float, target: float) -> float:
    """The noncentrality with P(X <= chisq) = target (0 when even lambda = 0 is below it)."""
    def g(lam):
        return (stats.ncx2.cdf(chisq, df, lam) if lam > 0 else stats.chi2.cdf(chisq, df)) - target
    if g(0.0) < 0:
        return 0.0
    upper = max(chisq, 1.0)
    while g(upper) > 0:
        upper *= 2
    return optimize.brentq(g, 0.0, upper, xtol=1e-12, rtol=1e-14, maxiter=500)


def rmsea_ci(chisq: float, df: float, n: float, *, level: float = 0.90, groups: int = 1) -> tuple[float, float]:
    """Noncentral chi-square interval of the RMSEA (Browne & Cudeck 1993), lavaan's rmsea.ci.

    Examples
    --------
    >>> [round(v, 4) for v in rmsea_ci(30.0, 20, 400)]
    [0.0, 0.06]
    """
    if df <= 0:
        return (math.nan, math.nan)
    hi_p, lo_p = 1 - (1 - level) / 2, (1 - level) / 2
    s = math.sqrt(groups)
    return (s * math.sqrt(_ncp_for(chisq, df, hi_p) / (n * df)), s * math.sqrt(_ncp_for(chisq, df, lo_p) / (n * df)))


def rmsea_pvalue(chisq: float, df: float, n: float, *, close: float = 0.05, groups: int = 1) -> float:
    """P-value of the test of close fit, H0: RMSEA <= `close` (lavaan's ``rmsea.pvalue``).

    Examples
    --------
    >>> round(rmsea_pvalue(30.0, 20, 400), 4)
    0.8175
    """
    if df <= 0:
        return math.nan
    return float(stats.ncx2.sf(chisq, df, n * df * close ** 2 / groups))


def srmr(S_list, ybar_list, Sigma_list, mu_list, n_list, *, meanstructure: bool) -> float:
    """lavaan's ``srmr`` (``srmr_bentler``): standardised by the observed SDs, groups weighted by n_g/N.

    Examples
    --------
    >>> S = np.array([[1.0, 0.5], [0.5, 1.0]]); Sig = np.array([[1.0, 0.4], [0.4, 1.0]])
    >>> round(srmr([S], [np.zeros(2)], [Sig], [np.zeros(2)], [100], meanstructure=False), 4)
    0.0577
    """
    out, N = 0.0, float(sum(n_list))
    for S, yb, Sig, mu, n in zip(S_list, ybar_list, Sigma_list, mu_list, n_list):
        p = S.shape[0]
        dinv = 1 / np.sqrt(np.diag(S))
        R = (S - Sig) * np.outer(dinv, dinv)
        iu = np.tril_indices(p)
        ss, e = float(np.sum(R[iu] ** 2)), p * (p + 1) / 2
        if meanstructure:
            ss += float(np.sum(((yb - mu) * dinv) ** 2))
            e += p
        out += n / N * math.sqrt(ss / e)
    return out


def _baseline_loglik(d, exo_idx: list[int]) -> float:
    """Log-likelihood of the independence model (exogenous covariates kept saturated)."""
    X = d.X
    p = X.shape[1]
    non = [k for k in range(p) if k not in exo_idx]
    if d.pat is None:
        ll = -0.5 * d.n * (len(non) * (_LOG2PI + 1) + float(np.sum(np.log(np.diag(d.S)[non]))))
        if exo_idx:
            Sx = d.S[np.ix_(exo_idx, exo_idx)]
            ll += -0.5 * d.n * (len(exo_idx) * (_LOG2PI + 1) + np.linalg.slogdet(Sx)[1])
        return float(ll)
    ll = 0.0
    for k in range(p):  # the independence likelihood factorises over variables
        x = X[:, k]
        x = x[~np.isnan(x)]
        v = float(np.mean((x - x.mean()) ** 2))
        ll += -0.5 * len(x) * (_LOG2PI + math.log(v) + 1)
    return ll


def fit_measures(obj, theta: np.ndarray, *, exo: list[str] | None = None) -> dict:
    """lavaan's fit measures of a fitted model (``fitMeasures`` names).

    Parameters
    ----------
    obj : analysis.sem.estimate.Objective
        The ML/FIML objective (model and group data).
    theta : array
        The estimates.
    exo : list of str, optional
        Exogenous observed covariates with moments fixed at the sample values (``fixed.x``).

    Returns
    -------
    dict
        ``npar, fmin, chisq, df, pvalue, baseline.chisq, baseline.df, baseline.pvalue, cfi, tli,
        logl, unrestricted.logl, aic, bic, bic2, ntotal, ngroups, rmsea, rmsea.ci.lower,
        rmsea.ci.upper, rmsea.pvalue, srmr``.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.sem import sem
    >>> rng = np.random.default_rng(1)
    >>> f = rng.normal(size=(300, 1))
    >>> X = pd.DataFrame(f @ [[0.8, 0.7, 0.6, 0.5]] + rng.normal(size=(300, 4)) * 0.6, columns=list("abcd"))
    >>> fm = fit_measures(*sem("f =~ a + b + c + d", X)._fit_args())
    >>> int(fm["df"]), fm["cfi"] > 0.95
    (2, True)
    """
    model = obj.model
    exo = list(exo or [])
    ov = model.ov_names
    exo_idx = [ov.index(v) for v in exo]
    G, p, ms = len(obj.data), model.p, model.meanstructure
    npar = model.n_free
    N = obj.N
    k = len(exo_idx)
    ndat = G * (p * (p + 1) // 2 + (p if ms else 0)) - G * (k * (k + 1) // 2 + (k if ms else 0))
    df = ndat - npar
    ll = obj.loglik(theta)
    ll_h1 = float(sum(d.h1_loglik for d in obj.data))
    chisq = max(2 * (ll_h1 - ll), 0.0)
    ll_b = float(sum(_baseline_loglik(d, exo_idx) for d in obj.data))
    base = 2 * (ll_h1 - ll_b)
    npar_b = G * ((p - k) * (2 if ms else 1))
    df_b = ndat - npar_b
    imp = model.implied(theta)
    out = {
        "npar": npar, "fmin": chisq / (2 * N), "chisq": chisq, "df": df,
        "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else math.nan,
        "baseline.chisq": base, "baseline.df": df_b,
        "baseline.pvalue": float(stats.chi2.sf(base, df_b)) if df_b > 0 else math.nan,
        "cfi": cfi(chisq, df, base, df_b), "tli": tli(chisq, df, base, df_b),
        "logl": ll, "unrestricted.logl": ll_h1, "aic": -2 * ll + 2 * npar, "bic": -2 * ll + npar * math.log(N),
        "bic2": -2 * ll + npar * math.log((N + 2) / 24), "ntotal": int(N), "ngroups": G,
        "rmsea": rmsea(chisq, df, N, groups=G),
    }
    lo, hi = rmsea_ci(chisq, df, N, groups=G)
    out["rmsea.ci.lower"], out["rmsea.ci.upper"] = lo, hi
    out["rmsea.pvalue"] = rmsea_pvalue(chisq, df, N, groups=G)
    out["srmr"] = srmr([d.S for d in obj.data], [d.ybar for d in obj.data], [s for _, s in imp],
                       [m for m, _ in imp], [d.n for d in obj.data], meanstructure=ms)
    return out
