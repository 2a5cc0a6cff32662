r"""Sample statistics of ordinal items for WLSMV: thresholds, polychoric correlations and Gamma.

Private machinery of :func:`analysis.factor_models.fit_cfa_ordinal` (formulas in its
docstring), written by hand (numpy/scipy): no maintained Python library reproduces lavaan's
WLSMV (semopy 2.3 has polychoric helpers but no DWLS with lavaan's Gamma, robust SEs or
scaled-shifted test).

References
----------
Muthén, B. (1984). A general structural equation model with dichotomous, ordered categorical,
and continuous latent variable indicators. *Psychometrika, 49*(1), 115--132.
Owen, D. B. (1956). Tables for computing bivariate normal probabilities. *Annals of
Mathematical Statistics, 27*(4), 1075--1090.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special, stats


# Written by hand (numpy/scipy): no maintained Python library reproduces lavaan's WLSMV (semopy 2.3
# has polychoric helpers but no DWLS with lavaan's Gamma, robust SEs or scaled-shifted test).
def _bvn_cdf(h: np.ndarray, k: np.ndarray, rho: float) -> np.ndarray:
    r"""Bivariate standard normal CDF :math:`\Phi_2(h, k; \rho)` through Owen's T (exact, vectorised).

    :math:`\Phi_2 = \tfrac12\Phi(h) + \tfrac12\Phi(k) - T(h, a_h) - T(k, a_k) - \beta` with
    :math:`a_h = (k - \rho h)/(h\sqrt{1-\rho^2})`, :math:`a_k = (h - \rho k)/(k\sqrt{1-\rho^2})` and
    :math:`\beta = 0` when :math:`h, k` have the same sign, else 1/2 (Owen 1956). ``h``, ``k`` may be
    infinite (the margins of the contingency table)."""
    h, k = np.broadcast_arrays(np.asarray(h, float), np.asarray(k, float))
    out = np.zeros(h.shape)
    hinf, kinf = np.isposinf(h), np.isposinf(k)
    low = np.isneginf(h) | np.isneginf(k)
    m = ~low & hinf & ~kinf
    out[m] = special.ndtr(k[m])
    m = ~low & kinf & ~hinf
    out[m] = special.ndtr(h[m])
    out[~low & hinf & kinf] = 1.0
    m = np.isfinite(h) & np.isfinite(k)
    hh = np.where(h[m] == 0, 1e-300, h[m])  # the formula is continuous at 0 from the right
    kk = np.where(k[m] == 0, 1e-300, k[m])
    s = math.sqrt(1 - rho * rho)
    beta = np.where((hh > 0) == (kk > 0), 0.0, 0.5)
    out[m] = (0.5 * special.ndtr(hh) + 0.5 * special.ndtr(kk) - special.owens_t(hh, (kk - rho * hh) / (hh * s))
              - special.owens_t(kk, (hh - rho * kk) / (kk * s)) - beta)
    return out


def _bvn_pdf(h: np.ndarray, k: np.ndarray, rho: float) -> np.ndarray:
    h, k = np.broadcast_arrays(np.asarray(h, float), np.asarray(k, float))
    out = np.zeros(h.shape)
    m = np.isfinite(h) & np.isfinite(k)
    s2 = 1 - rho * rho
    out[m] = np.exp(-(h[m] ** 2 - 2 * rho * h[m] * k[m] + k[m] ** 2) / (2 * s2)) / (2 * math.pi * math.sqrt(s2))
    return out


def _cell_probs(t1: np.ndarray, t2: np.ndarray, rho: float) -> np.ndarray:
    a, b = np.r_[-np.inf, t1, np.inf], np.r_[-np.inf, t2, np.inf]
    F = _bvn_cdf(a[:, None], b[None, :], rho)
    return F[1:, 1:] - F[:-1, 1:] - F[1:, :-1] + F[:-1, :-1]


def _polychoric_pair(x: np.ndarray, y: np.ndarray, t1: np.ndarray, t2: np.ndarray) -> tuple[float, bool]:
    """Two-step ML polychoric correlation of two coded items (thresholds fixed), bounded as lavaan's."""
    tab = np.zeros((t1.size + 1, t2.size + 1))
    np.add.at(tab, (x, y), 1.0)

    def nll(r: float) -> float:
        return -float(np.sum(tab * np.log(np.maximum(_cell_probs(t1, t2, r), 1e-300))))

    res = optimize.minimize_scalar(nll, bounds=(-0.999, 0.999), method="bounded",
                                   options={"xatol": 1e-12, "maxiter": 500})
    return float(res.x), bool(res.success)


def _pair_scores(t1: np.ndarray, t2: np.ndarray, rho: float):
    """Cell-level derivatives of log P_ab: by rho, by the thresholds of item 1 and of item 2."""
    a, b = np.r_[-np.inf, t1, np.inf], np.r_[-np.inf, t2, np.inf]
    P = _cell_probs(t1, t2, rho)
    f = _bvn_pdf(a[:, None], b[None, :], rho)
    # cells whose probability underflows to 0 are empty cells (never indexed by an observed pair);
    # observed ones are checked for finite scores by the caller
    P = np.where(P > 0, P, np.nan)
    d_rho = (f[1:, 1:] - f[:-1, 1:] - f[1:, :-1] + f[:-1, :-1]) / P
    s = math.sqrt(1 - rho * rho)
    K1, K2 = P.shape
    d1 = np.zeros((K1, K2, K1 - 1))
    for t in range(K1 - 1):
        g = special.ndtr((b - rho * t1[t]) / s)
        row = stats.norm.pdf(t1[t]) * (g[1:] - g[:-1])
        d1[t, :, t] += row
        d1[t + 1, :, t] -= row
    d2 = np.zeros((K1, K2, K2 - 1))
    for t in range(K2 - 1):
        g = special.ndtr((a - rho * t2[t]) / s)
        col = stats.norm.pdf(t2[t]) * (g[1:] - g[:-1])
        d2[:, t, t] += col
        d2[:, t + 1, t] -= col
    return d_rho, d1 / P[:, :, None], d2 / P[:, :, None]


def _ordinal_sample_stats(X: np.ndarray, K: list[int]):
    """Thresholds, polychoric matrix and Gamma (N x the asymptotic covariance), lavaan's order:
    thresholds item by item, then the correlations of the lower triangle column by column."""
    N, p = X.shape
    TH = [special.ndtri(np.cumsum(np.bincount(X[:, j], minlength=K[j]))[:-1] / N) for j in range(p)]
    start = np.cumsum([0] + [k - 1 for k in K])
    nth = int(start[-1])
    sc_th = np.zeros((N, nth))
    for j in range(p):
        a = np.r_[-np.inf, TH[j], np.inf]
        Pc = special.ndtr(a[1:]) - special.ndtr(a[:-1])
        ph = stats.norm.pdf(a)
        c = X[:, j]
        for t in range(K[j] - 1):
            sc_th[:, start[j] + t] = (np.where(c == t, ph[t + 1], 0.0) - np.where(c == t + 1, ph[t + 1], 0.0)) / Pc[c]
    pairs = [(i, j) for j in range(p) for i in range(j + 1, p)]
    R = np.eye(p)
    sc_r = np.zeros((N, len(pairs)))
    A21 = np.zeros((len(pairs), nth))
    failed = []
    for q, (i, j) in enumerate(pairs):
        r, ok = _polychoric_pair(X[:, i], X[:, j], TH[i], TH[j])
        if not ok:
            failed.append((i, j))
        R[i, j] = R[j, i] = r
        d_rho, d1, d2 = _pair_scores(TH[i], TH[j], r)
        sc_r[:, q] = d_rho[X[:, i], X[:, j]]
        A21[q, start[i]:start[i + 1]] = sc_r[:, q] @ d1[X[:, i], X[:, j], :]
        A21[q, start[j]:start[j + 1]] = sc_r[:, q] @ d2[X[:, i], X[:, j], :]
    SC = np.hstack([sc_th, sc_r])
    if not np.all(np.isfinite(SC)) or not np.all(np.isfinite(A21)):
        raise ValueError("`data`: an observed pair of categories has a model probability of 0 (categories too "
                         "sparse or a polychoric correlation of +-1); merge sparse categories or use fit_cfa.")
    inner = SC.T @ SC
    A11 = np.zeros((nth, nth))
    for j in range(p):
        sl = slice(start[j], start[j + 1])
        A11[sl, sl] = inner[sl, sl]
    A11i = np.linalg.inv(A11)
    A22i = np.diag(1.0 / np.diag(inner[nth:, nth:]))
    Binv = np.block([[A11i, np.zeros((nth, len(pairs)))], [-A22i @ A21 @ A11i, A22i]])
    return TH, R, N * (Binv @ inner @ Binv.T), pairs, failed


def _scaled_shifted(U: np.ndarray, G: np.ndarray, T: float, df: int) -> tuple[float, float, float]:
    UG = U @ G
    a = math.sqrt(df / np.trace(UG @ UG))
    b = df - a * np.trace(UG)
    return a * T + b, a, b
