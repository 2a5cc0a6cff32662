r"""DWLS / WLSMV estimation for ordered (ordinal) items: the SEM engine's ordinal estimator.

Each ordered item :math:`y_i` with categories :math:`1..K_i` is a cut latent response,
:math:`y_i = c \iff \tau_{i,c-1} < y^*_i \le \tau_{i,c}`, with, in group :math:`g`,

.. math::

    y^* = \nu + \Lambda\eta + \varepsilon,\quad E\eta = \alpha,\ \operatorname{cov}\eta = \Psi,\
    \operatorname{cov}\varepsilon = \Theta,\qquad
    \Sigma^* = \Lambda\Psi\Lambda^\top + \Theta,\quad \mu^* = \nu + \Lambda\alpha \ (\nu = 0).

The data identify only the standardised thresholds and the correlations of :math:`y^*`,

.. math::

    \tau^*_{ic} = \Delta_i\,(\tau_{ic} - \mu^*_i),\qquad
    \rho_{ij} = \Delta_i\Delta_j\,\Sigma^*_{ij}\ (i \ne j),

with the scaling factors :math:`\Delta_i`. In the **delta** parameterization (lavaan's
default) :math:`\Delta_i` is a parameter (fixed at 1 unless freed) and
:math:`\Theta_{ii} = \Delta_i^{-2} - [\Lambda\Psi\Lambda^\top]_{ii}` is implied; in the
**theta** parameterization :math:`\Theta_{ii}` is a parameter (fixed at 1 unless freed) and
:math:`\Delta_i = (\Sigma^*_{ii})^{-1/2}` is implied (lavaan's ``parameterization="theta"``).

Estimation (lavaan 0.6's WLSMV, Muthén 1984; Muthén, du Toit & Spisic 1997):

1. per group, thresholds from the marginal proportions and polychoric correlations by two-step
   pairwise ML; :math:`\Gamma_g` (:math:`n_g` times the asymptotic covariance of
   :math:`s_g = (\hat\tau, r)`) from the casewise scores (:func:`ordinal_sample_stats`);
2. DWLS: minimise :math:`F = \sum_g (n_g - 1)\,(s_g - \sigma_g(\theta))^\top W_g
   (s_g - \sigma_g(\theta))` with :math:`W_g = \operatorname{diag}(\Gamma_g)^{-1}`;
3. robust SEs :math:`\operatorname{cov}(\hat\theta) = E^{-1} B E^{-1}/(N - G)` with
   :math:`E = \sum_g f_g \Delta_g^\top W_g\Delta_g`, :math:`B = \sum_g f_g \Delta_g^\top W_g
   \Gamma_g W_g\Delta_g`, :math:`f_g = n_g/N`, :math:`\Delta_g = \partial\sigma_g/\partial\theta^\top`;
4. test :math:`T = \sum_g (n_g - 1)\,e_g^\top W_g e_g` and the scaled-shifted statistic
   :math:`T_{ss} = aT + b`, :math:`a = \sqrt{df/\operatorname{tr}(U\Gamma U\Gamma)}`,
   :math:`b = df - a\operatorname{tr}(U\Gamma)`, with the stacked
   :math:`V = \oplus_g f_g W_g`, :math:`\Gamma = \oplus_g \Gamma_g/f_g` and
   :math:`U = V - V\Delta E^{-1}\Delta^\top V` (Asparouhov & Muthén 2010).

Multiple groups follow lavaan 0.6-14's defaults for ordered items: in the configural model every
group has its own thresholds, loadings and factor (co)variances with the scales and latent means
fixed; with ``group_equal`` containing ``"thresholds"`` the scaling factors (delta) or residual
variances (theta) of the items (binary ones included) and the latent means are freed in
the groups after the first. ``"intercepts"`` adds nothing for ordered items (their intercepts
are fixed at 0). (lavaan's current source changes these defaults: it frees the item intercepts rather
than the latent means with equal thresholds, the marker loadings with equal loadings, and keeps the
scales of binary items fixed; the oracle and this module follow 0.6-14, the version installed with the
repository's R.)

The model is the engine's (:mod:`analysis.sem.syntax`, :mod:`analysis.sem.model`): any lavaan
model whose observed variables are ordered indicators (factors may regress on each other, labels
and fixed values as in lavaan). Written by hand (numpy/scipy); the sample statistics were
``analysis.psychometrics``'s ``fit_cfa_ordinal`` (checked against lavaan there), moved here.

References
----------
Asparouhov, T., & Muthén, B. (2010). Simple second order chi-square correction. Mplus technical
appendix.
Muthén, B. (1984). A general structural equation model with dichotomous, ordered categorical,
and continuous latent variable indicators. *Psychometrika, 49*(1), 115--132.
Muthén, B., du Toit, S. H. C., & Spisic, D. (1997). Robust inference using weighted least
squares and quadratic estimating equations in latent variable modeling with categorical and
continuous outcomes. Unpublished technical report.
Owen, D. B. (1956). Tables for computing bivariate normal probabilities. *Annals of
Mathematical Statistics, 27*(4), 1075--1090.
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software, 48*(2), 1--36.
Wu, H., & Estabrook, R. (2016). Identification of confirmatory factor analysis models of
different levels of invariance for ordered categorical outcomes. *Psychometrika, 81*(4),
1014--1045.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from analysis.sem import fit as _fit
from analysis._checks import suggest_name
from analysis._results import ResultMixin, coef_frame
from analysis.sem.model import SEMModel
from analysis.sem.standardized import solution_table
from analysis.sem.syntax import GROUP_EQUAL, _number_free, _parse_partial, parameter_table, parse_syntax

__all__ = ["OrdinalSampleStats", "WLSMVResult", "ordinal_sample_stats", "parse_measurement_model", "fit_wlsmv",
           "difference_test", "ordinal_invariance", "OrdinalInvarianceResult", "INVARIANCE_STEPS",
           "PARAMETERIZATIONS", "GROUP_EQUAL"]

#: The parameterizations of the latent responses (lavaan's ``parameterization``).
PARAMETERIZATIONS = ("delta", "theta")


# --------------------------------------------------------------------------- bivariate normal
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


def _npdf(x):
    """Standard normal density (0 at +-inf)."""
    return np.exp(-0.5 * np.square(x)) / math.sqrt(2 * math.pi)


def _bvn_pdf(h: np.ndarray, k: np.ndarray, rho: float) -> np.ndarray:
    h, k = np.broadcast_arrays(np.asarray(h, float), np.asarray(k, float))
    out = np.zeros(h.shape)
    m = np.isfinite(h) & np.isfinite(k)
    s2 = 1 - rho * rho
    out[m] = np.exp(-(h[m] ** 2 - 2 * rho * h[m] * k[m] + k[m] ** 2) / (2 * s2)) / (2 * math.pi * math.sqrt(s2))
    return out


def _cell_probs(t1: np.ndarray, t2: np.ndarray, rho: float) -> np.ndarray:
    """Probabilities of the (K1 x K2) cells cut by the thresholds ``t1``, ``t2`` at correlation ``rho``:
    the margins of the CDF grid are univariate (constant in rho), only its interior is bivariate."""
    K1, K2 = t1.size + 1, t2.size + 1
    F = np.zeros((K1 + 1, K2 + 1))
    F[-1, 1:-1] = special.ndtr(t2)
    F[1:-1, -1] = special.ndtr(t1)
    F[-1, -1] = 1.0
    F[1:-1, 1:-1] = _bvn_cdf(t1[:, None], t2[None, :], rho)
    return F[1:, 1:] - F[:-1, 1:] - F[1:, :-1] + F[:-1, :-1]


def _cell_drho(t1: np.ndarray, t2: np.ndarray, rho: float) -> np.ndarray:
    """d P_ab / d rho: the bivariate density at the four corners of each cell (Plackett's identity)."""
    K1, K2 = t1.size + 1, t2.size + 1
    f = np.zeros((K1 + 1, K2 + 1))
    f[1:-1, 1:-1] = _bvn_pdf(t1[:, None], t2[None, :], rho)
    return f[1:, 1:] - f[:-1, 1:] - f[1:, :-1] + f[:-1, :-1]


def _polychoric_pair(x: np.ndarray, y: np.ndarray, t1: np.ndarray, t2: np.ndarray) -> tuple[float, bool]:
    """Two-step ML polychoric correlation of two coded items (thresholds fixed), bounded at +-0.999 as
    lavaan's: Fisher scoring on the pairwise likelihood (score sum n_ab P'_ab/P_ab, information
    N sum P'^2/P), with bounded Brent as the fallback."""
    tab = np.zeros((t1.size + 1, t2.size + 1))
    np.add.at(tab, (x, y), 1.0)
    n = tab.sum()
    obs = tab > 0
    r = 0.0
    for _ in range(200):
        P = _cell_probs(t1, t2, r)
        if np.any(P[obs] <= 0):
            break
        dP = _cell_drho(t1, t2, r)
        Pp = np.where(P > 0, P, 1.0)
        g = float(np.sum(tab * dP / Pp))
        info = n * float(np.sum(np.where(P > 0, dP * dP / Pp, 0.0)))
        if not info > 0:
            break
        r_new = min(max(r + g / info, -0.999), 0.999)
        if abs(r_new - r) < 1e-13:
            return r_new, True
        r = r_new
    else:
        pass

    def nll(rr: float) -> float:
        return -float(np.sum(tab * np.log(np.maximum(_cell_probs(t1, t2, rr), 1e-300))))

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
        row = _npdf(t1[t]) * (g[1:] - g[:-1])
        d1[t, :, t] += row
        d1[t + 1, :, t] -= row
    d2 = np.zeros((K1, K2, K2 - 1))
    for t in range(K2 - 1):
        g = special.ndtr((a - rho * t2[t]) / s)
        col = _npdf(t2[t]) * (g[1:] - g[:-1])
        d2[:, t, t] += col
        d2[:, t + 1, t] -= col
    return d_rho, d1 / P[:, :, None], d2 / P[:, :, None]


def _sample_stats_coded(X: np.ndarray, K: list[int]):
    """Thresholds, polychoric matrix and Gamma (N x the asymptotic covariance) of coded data
    (categories 0..K-1), lavaan's order: thresholds item by item, then the correlations of the
    lower triangle column by column. Returns (TH, R, Gamma, pairs, failed pairs)."""
    N, p = X.shape
    TH = [special.ndtri(np.cumsum(np.bincount(X[:, j], minlength=K[j]))[:-1] / N) for j in range(p)]
    start = np.cumsum([0] + [k - 1 for k in K])
    nth = int(start[-1])
    sc_th = np.zeros((N, nth))
    for j in range(p):
        a = np.r_[-np.inf, TH[j], np.inf]
        Pc = special.ndtr(a[1:]) - special.ndtr(a[:-1])
        ph = _npdf(a)
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
                         "sparse or a polychoric correlation of +-1); merge sparse categories.")
    inner = SC.T @ SC
    A11 = np.zeros((nth, nth))
    for j in range(p):
        sl = slice(start[j], start[j + 1])
        A11[sl, sl] = inner[sl, sl]
    A11i = np.linalg.inv(A11)
    A22i = np.diag(1.0 / np.diag(inner[nth:, nth:]))
    Binv = np.block([[A11i, np.zeros((nth, len(pairs)))], [-A22i @ A21 @ A11i, A22i]])
    return TH, R, N * (Binv @ inner @ Binv.T), pairs, failed


# --------------------------------------------------------------------------- sample statistics
@dataclass
class OrdinalSampleStats(ResultMixin):
    r"""Per-group sample statistics of ordered items (result of :func:`ordinal_sample_stats`).

    Attributes
    ----------
    items : list of str
    groups : list
        Group labels (``[None]`` for one group).
    categories : dict of str to list
        The answer values of each item (each one category), shared by the groups.
    n_obs : dict
        Respondents per group (complete cases).
    n_dropped : int
        Respondents dropped for a missing answer (listwise).
    thresholds : dict of group to pandas.Series
        :math:`\hat\tau_{ic} = \Phi^{-1}(\sum_{k\le c} n_{ik}/n_g)`, index ``item|tc``.
    polychoric : dict of group to pandas.DataFrame
        The polychoric correlation matrices.
    gamma : dict of group to pandas.DataFrame
        :math:`\Gamma_g`, :math:`n_g` times the asymptotic covariance of (thresholds, correlations).
    failed : dict of group to list
        Item pairs whose polychoric correlation did not converge.
    """

    _frame_from = ("table",)
    _dict_skip = ("gamma",)

    items: list
    groups: list
    categories: dict
    n_obs: dict
    n_dropped: int
    thresholds: dict
    polychoric: dict
    gamma: dict
    failed: dict = field(default_factory=dict)

    @property
    def table(self) -> pd.DataFrame:
        """Long table: group, statistic, value."""
        rows = []
        for g in self.groups:
            for k, v in self.thresholds[g].items():
                rows.append({"group": g, "statistic": k, "value": v})
            R = self.polychoric[g]
            for j in range(len(self.items)):
                for i in range(j + 1, len(self.items)):
                    rows.append({"group": g, "statistic": f"{self.items[i]}~~{self.items[j]}",
                                 "value": R.iat[i, j]})
        return pd.DataFrame(rows)

    def summary(self) -> str:
        """Group sizes, number of thresholds and the polychoric matrices."""
        lines = [f"Ordinal sample statistics: {len(self.items)} items, groups "
                 + ", ".join(f"{g} (n = {self.n_obs[g]})" for g in self.groups)]
        for g in self.groups:
            lines += [f"  polychoric correlations{'' if g is None else f' ({g})'}:",
                      self.polychoric[g].to_string(float_format=lambda v: f"{v:.3f}")]
        return "\n".join(lines)


def _check_items_frame(data: Any, items: Sequence[str], group: str | None) -> None:
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"`data` must be a pandas DataFrame, got {type(data).__name__}.")
    if len(data) == 0:
        raise ValueError("`data` has no rows.")
    absent = [c for c in items if c not in data.columns]
    if absent:
        raise ValueError(f"`data` has no column {absent[0]!r} (named in the model or `ordered`)."
                         f"{suggest_name(absent[0], data.columns)}")
    if group is not None:
        if not isinstance(group, str):
            raise ValueError(f"`group` must be a column name (str), got {group!r}.")
        if group not in data.columns:
            raise ValueError(f"`group`: `data` has no column {group!r}.{suggest_name(group, data.columns)}")
        if data[group].isna().any():
            bad = data.index[data[group].isna().to_numpy()][:5].tolist()
            raise ValueError(f"`group` column {group!r} is missing at index labels {bad}.")
    for c in items:
        col = data[c]
        if col.dtype == bool or col.dtype.kind not in "iuf":
            raise ValueError(f"`data` column {c!r} must be numeric: integer-coded ordinal answers (dtype {col.dtype}).")
        v = col.to_numpy(dtype=float)
        inf = np.isinf(v)
        if inf.any():
            raise ValueError(f"`data` column {c!r} has an infinite value at index label {data.index[inf][0]!r}.")
        fin = np.isfinite(v)
        frac = fin & (v != np.round(v))
        if frac.any():
            raise ValueError(f"`data` column {c!r} has a non-integer answer {float(v[frac][0]):g} at row "
                             f"{data.index[frac][0]!r}; ordinal items must be integer-coded (rows are named by their "
                             "index labels).")


def _coded_groups(data: pd.DataFrame, items: list[str], group: str | None, what: str):
    """Listwise-complete coded arrays per group, shared categories; errors name item and group."""
    complete = data[items].notna().all(axis=1).to_numpy()
    n_dropped = int((~complete).sum())
    D = data[complete]
    if len(D) <= len(items):
        raise ValueError(f"`data` has {len(D)} complete respondents; the model needs more than the number of items "
                         f"({len(items)}); {n_dropped} respondents have a missing answer.")
    if group is None:
        labels: list = [None]
        parts = [D]
    else:
        labels = pd.unique(D[group]).tolist()  # order of appearance, as lavaan's group.label
        parts = [D[D[group] == g] for g in labels]
        if len(labels) < 2:
            raise ValueError(f"`group` column {group!r} has a single group ({labels[0]!r} among the complete "
                             "respondents); a multi-group model needs at least 2.")
    p = len(items)
    cats: dict[str, list] = {}
    Ks = []
    for c in items:
        u = np.unique(D[c].to_numpy(dtype=float))
        if u.size < 2:
            raise ValueError(f"`data` column {c!r} has a single category ({u[0]:g}) among the complete "
                             "respondents; it carries no information.")
        cats[c] = [int(x) for x in u]
        Ks.append(int(u.size))
    Xs = []
    for g, part in zip(labels, parts):
        n = len(part)
        if n <= p:
            where = "" if g is None else f" in group {g!r}"
            raise ValueError(f"`data` has {n} complete respondents{where}; the model needs more than the number "
                             f"of items ({p}).")
        X = np.empty((n, p), dtype=int)
        for j, c in enumerate(items):
            v = part[c].to_numpy(dtype=float)
            X[:, j] = np.searchsorted(np.asarray(cats[c], float), v)
            counts = np.bincount(X[:, j], minlength=Ks[j])
            if (counts == 0).any():
                empty = [cats[c][k] for k in np.flatnonzero(counts == 0)]
                where = "" if g is None else f" in group {g!r}"
                raise ValueError(f"`data` column {c!r}: category {empty[0]} is empty{where} (frequencies "
                                 f"{counts.tolist()}); every group needs every category (as lavaan); merge it "
                                 "with a neighbour.")
        Xs.append(X)
    many = [c for c, k in zip(items, Ks) if k > 15]
    if many:
        warnings.warn(f"{what}: item(s) {many} have more than 15 categories ({max(Ks)} at most); they look "
                      "continuous: thresholds for sparse categories are poorly estimated, and fit_cfa (ML for continuous "
                      "items) may suit them better.", UserWarning, stacklevel=3)
    if n_dropped:
        warnings.warn(f"{what}: {n_dropped} respondents with a missing answer were dropped (listwise, lavaan's "
                      "default for categorical data).", UserWarning, stacklevel=3)
    return labels, Xs, Ks, cats, n_dropped


def _stats_from_coded(labels, Xs, Ks, items, cats, n_dropped, what: str) -> OrdinalSampleStats:
    th, pc, gm, failed, n = {}, {}, {}, {}, {}
    for g, X in zip(labels, Xs):
        TH, R, G, pairs, bad = _sample_stats_coded(X, Ks)
        names_th = [f"{it}|t{t + 1}" for j, it in enumerate(items) for t in range(TH[j].size)]
        names = names_th + [f"{items[i]}~~{items[j]}" for i, j in pairs]
        th[g] = pd.Series(np.concatenate(TH), index=names_th)
        pc[g] = pd.DataFrame(R, index=items, columns=items)
        gm[g] = pd.DataFrame(G, index=names, columns=names)
        failed[g] = [(items[i], items[j]) for i, j in bad]
        n[g] = int(X.shape[0])
        if bad:
            warnings.warn(f"{what}: the polychoric correlation did not converge for "
                          + ", ".join(f"{a}-{b}" for a, b in failed[g])
                          + ("" if g is None else f" (group {g!r})") + ".", ConvergenceWarning, stacklevel=3)
        near1 = [(items[i], items[j]) for i, j in pairs if abs(R[i, j]) > 0.99]
        if near1:
            warnings.warn(f"{what}: polychoric correlation(s) near 1: {near1}"
                          + ("" if g is None else f" (group {g!r})") + ".", UserWarning, stacklevel=3)
    return OrdinalSampleStats(items=list(items), groups=list(labels), categories=cats, n_obs=n, n_dropped=n_dropped,
                              thresholds=th, polychoric=pc, gamma=gm, failed=failed)


def ordinal_sample_stats(data: pd.DataFrame, items: Sequence[str], *, group: str | None = None
                         ) -> OrdinalSampleStats:
    r"""Thresholds, polychoric correlations and their asymptotic covariance, per group (lavaan's way).

    For each group :math:`g` (complete cases): thresholds
    :math:`\hat\tau_{ic} = \Phi^{-1}(\sum_{k\le c} n_{ik}/n_g)` (univariate probit ML); polychoric
    correlations :math:`r_{ij}` by pairwise ML with the thresholds fixed (two-step, bounded at
    :math:`\pm 0.999`; cell probabilities from the bivariate normal CDF through Owen's T); and
    :math:`\Gamma_g = n_g B^{-1}(\sum_n g_n g_n^\top)B^{-\top}`, with :math:`g_n` the casewise scores
    (thresholds, then correlations) and :math:`B` lower block-triangular (per-item threshold blocks,
    diagonal correlation block, and the cross-products of correlation scores with the pairwise
    threshold derivatives): lavaan's ``muthen1984`` estimator (Muthén 1984).

    Parameters
    ----------
    data : pandas.DataFrame
        Integer-coded ordinal answers; each distinct value of an item is a category, shared by the
        groups (a category empty in one group is an error, as in lavaan).
    items : sequence of str
        The item columns, in the order of the statistics.
    group : str, optional
        Column of group labels (groups in order of appearance, as lavaan's ``group.label``).

    Returns
    -------
    OrdinalSampleStats

    Raises
    ------
    ValueError
        Not a DataFrame, a missing column (with a suggestion), a non-integer or infinite answer (named
        by column and index label), a single category, a category empty in a group, too few
        respondents, fewer than two items.

    References
    ----------
    Muthén, B. (1984). A general structural equation model with dichotomous, ordered categorical,
    and continuous latent variable indicators. *Psychometrika, 49*(1), 115--132.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> z = rng.normal(size=(300, 1)) + rng.normal(size=(300, 3))
    >>> df = pd.DataFrame(1 + np.digitize(z, [-1.0, 0.0, 1.0]), columns=["a", "b", "c"])
    >>> st = ordinal_sample_stats(df, ["a", "b", "c"])
    >>> st.gamma[None].shape, round(float(st.polychoric[None].loc["a", "b"]), 2)
    ((12, 12), 0.45)
    """
    if isinstance(items, str) or not isinstance(items, Sequence):
        raise ValueError(f"`items` must be a list of column names, got {items!r}.")
    items = list(items)
    if len(items) < 2:
        raise ValueError(f"`items` needs at least 2 items, got {len(items)}.")
    if len(set(items)) != len(items):
        raise ValueError(f"`items` lists an item twice: {items}.")
    _check_items_frame(data, items, group)
    labels, Xs, Ks, cats, n_dropped = _coded_groups(data, items, group, "ordinal_sample_stats")
    return _stats_from_coded(labels, Xs, Ks, items, cats, n_dropped, "ordinal_sample_stats")


# --------------------------------------------------------------------------- model specification
def parse_measurement_model(model: str | Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    r"""Factors and their items from measurement syntax (``f =~ a + b + c`` lines) or a mapping.

    Only measurement statements are read (one ``=~`` per line or ``;``-separated statement,
    ``#`` comments); the first item of each factor is its marker (loading fixed at 1). Used to
    check a factor -> items mapping before :func:`fit_wlsmv` turns it into syntax (which
    :func:`fit_wlsmv` reads in full with the engine's parser, :mod:`analysis.sem.syntax`).

    Parameters
    ----------
    model : str or mapping of str to sequence of str

    Returns
    -------
    dict of str to list of str

    Raises
    ------
    ValueError
        Empty model, another operator than ``=~`` (give such models to :func:`fit_wlsmv` as syntax),
        a factor with fewer than 2 items, an item on two factors, a factor named like an item.

    Examples
    --------
    >>> parse_measurement_model("f =~ a + b + c  # one factor\ng =~ d + e")
    {'f': ['a', 'b', 'c'], 'g': ['d', 'e']}
    """
    if isinstance(model, str):
        facs: dict[str, list[str]] = {}
        for raw in re.split(r"[;\n]", model):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if "=~" not in line:
                raise ValueError(f"`model`: parse_measurement_model reads measurement statements only "
                                 f"(`f =~ a + b`); cannot read {line!r} (fit_wlsmv reads full lavaan syntax).")
            lhs, rhs = (s.strip() for s in line.split("=~", 1))
            its = [t.strip() for t in rhs.split("+")]
            if not re.fullmatch(r"[A-Za-z_.][\w.]*", lhs) or not all(re.fullmatch(r"[A-Za-z_.][\w.]*", t)
                                                                        for t in its):
                raise ValueError(f"`model`: cannot read {line!r} (names only; no labels or fixed values here).")
            facs.setdefault(lhs, []).extend(its)
        model = facs
    if not isinstance(model, Mapping) or not model:
        raise ValueError("`model` must be lavaan syntax (`f =~ a + b + c`) or a non-empty mapping of factor -> items.")
    out: dict[str, list[str]] = {}
    seen: dict[str, str] = {}
    for k, v in model.items():
        if isinstance(v, (str, bytes, Mapping)) or not hasattr(v, "__iter__"):
            raise ValueError(f"`model`: the items of factor {k!r} must be a list of column names; got {v!r}.")
        its = [str(x) for x in v]
        if len(its) < 2:
            raise ValueError(f"`model`: factor {k!r} needs at least 2 items, got {len(its)}.")
        for it in its:
            if it in seen:
                raise ValueError(f"`model`: item {it!r} is listed in {seen[it]!r} and {k!r}; cross-loadings are not "
                                 "supported by the ordinal estimator.")
            seen[it] = str(k)
        out[str(k)] = its
    clash = set(out) & set(seen)
    if clash:
        raise ValueError(f"`model`: factor names must differ from item names: {sorted(clash)}.")
    return out


class _EngineSpec:
    """The engine's parameter table and LISREL model (:mod:`analysis.sem.syntax`, :mod:`analysis.sem.model`)
    with lavaan's ordinal additions: standardised thresholds and correlations of the latent responses,
    scaling factors (delta) or residual variances (theta) freed after group 1 once the thresholds are
    equal, latent means freed with equal thresholds."""

    def __init__(self, pt: pd.DataFrame, ov: list[str], labels: list, K: dict, group_equal: tuple[str, ...],
                 parameterization: str):
        ge = set(group_equal)
        G = len(labels)
        pt = pt.copy()
        pt["free"] = pt["free"] > 0
        lv = list(dict.fromkeys(pt.loc[pt["op"] == "=~", "lhs"]))
        nth = {v: K[v] - 1 for v in ov}
        if G > 1 and "thresholds" in ge:
            for idx, r in pt.iterrows():
                if r["group"] == 1 or r["user"]:
                    continue
                if r["op"] == "~1" and r["lhs"] in lv and "means" not in ge:
                    pt.at[idx, "free"], pt.at[idx, "ustart"] = True, math.nan
                if (parameterization == "theta" and r["op"] == "~~" and r["lhs"] == r["rhs"] and r["lhs"] in ov
                        and r["label"] == "" and "residuals" not in ge):
                    pt.at[idx, "free"], pt.at[idx, "ustart"] = True, math.nan
        _number_free(pt)
        self.pt = pt
        self.model = SEMModel(pt, ov, groups=labels, meanstructure=True, ordered=list(ov))
        if self.model.dummy:
            raise ValueError(f"`model`: the ordered item(s) {self.model.dummy} appear in a regression or in a "
                             "covariance with a factor; the ordinal estimator supports ordered items as indicators "
                             "only.")
        self.param = parameterization
        self.items, self.lv = list(ov), lv
        self.p, self.G = len(ov), G
        self.nth = [nth[v] for v in ov]
        self.th_item = np.repeat(np.arange(self.p), self.nth)
        self.th_off = np.cumsum([0] + self.nth)
        self.pairs = [(i, j) for j in range(self.p) for i in range(j + 1, self.p)]
        self.I = np.array([i for i, _ in self.pairs], dtype=int)
        self.J = np.array([j for _, j in self.pairs], dtype=int)
        self.q0 = self.model.n_free
        # delta: free scaling factors after group 1 (binary items included, as lavaan 0.6-14)
        self.scales = [(g, i) for g in range(1, G) for i in range(self.p)
                       if parameterization == "delta" and "thresholds" in ge]
        self.q = self.q0 + len(self.scales)
        # threshold rows -> (group, position, free index); rows per group and position
        self.tau_free = [[] for _ in range(G)]
        self.tau_rows = [np.zeros(int(self.th_off[-1]), dtype=int) for _ in range(G)]
        oi = {v: k for k, v in enumerate(ov)}
        for idx, r in enumerate(pt.itertuples(index=False)):
            if r.op == "|":
                pos = self.th_off[oi[r.lhs]] + int(r.rhs[1:]) - 1
                self.tau_rows[int(r.group) - 1][pos] = idx
                if r.free > 0:
                    self.tau_free[int(r.group) - 1].append((pos, int(r.free) - 1))

    def _taus(self, t0: np.ndarray) -> list[np.ndarray]:
        vals = self.model.row_values(t0)
        return [vals[rows] for rows in self.tau_rows]

    def _d(self, theta: np.ndarray, Sigmas: list[np.ndarray]) -> list[np.ndarray]:
        out = []
        for g, S in enumerate(Sigmas):
            if self.param == "delta":
                d = np.ones(self.p)
                for k, (gg, i) in enumerate(self.scales):
                    if gg == g:
                        d[i] = theta[self.q0 + k]
            else:
                v = np.diag(S)
                d = np.where(v > 0, 1.0 / np.sqrt(np.where(v > 0, v, 1.0)), np.nan)
            out.append(d)
        return out

    def implied(self, theta: np.ndarray) -> list[np.ndarray]:
        t0 = theta[:self.q0]
        mom = self.model.implied(t0)
        taus = self._taus(t0)
        ds = self._d(theta, [S for _, S in mom])
        out = []
        for (mu, S), tau, d in zip(mom, taus, ds):
            th = d[self.th_item] * (tau - mu[self.th_item])
            rho = d[self.I] * d[self.J] * S[self.I, self.J]
            out.append(np.concatenate([th, rho]))
        return out

    def jacobian(self, theta: np.ndarray) -> list[np.ndarray]:
        t0 = theta[:self.q0]
        mom = self.model.implied(t0)
        taus = self._taus(t0)
        jac = self.model.jacobian(t0)
        ds = self._d(theta, [S for _, S in mom])
        p, q = self.p, self.q
        out = []
        for g, ((mu, S), tau, d, (dmu0, dS0)) in enumerate(zip(mom, taus, ds, jac)):
            dmu = np.zeros((p, q))
            dmu[:, :self.q0] = dmu0
            dS = np.zeros((p, p, q))
            dS[:, :, :self.q0] = dS0.reshape(p, p, self.q0)  # symmetric: vec order does not matter
            dtau = np.zeros((tau.size, q))
            for pos, k in self.tau_free[g]:
                dtau[pos, k] += 1.0
            dd = np.zeros((p, q))
            if self.param == "delta":
                for k, (gg, i) in enumerate(self.scales):
                    if gg == g:
                        dd[i, self.q0 + k] = 1.0
            else:
                v = np.diag(S)
                dd = -0.5 * v[:, None] ** -1.5 * dS[np.arange(p), np.arange(p), :]
            ti = self.th_item
            Jt = d[ti][:, None] * (dtau - dmu[ti]) + (tau - mu[ti])[:, None] * dd[ti]
            Jr = ((d[self.I] * d[self.J])[:, None] * dS[self.I, self.J, :]
                  + S[self.I, self.J][:, None] * (d[self.J][:, None] * dd[self.I] + d[self.I][:, None] * dd[self.J]))
            out.append(np.vstack([Jt, Jr]))
        return out

    def start(self, s_obs: list[np.ndarray]) -> np.ndarray:
        """Thresholds at the sample values, loadings 1, factor variances .5, covariances .25 (or the
        syntax's ``start()``), scales and residual variances 1, means and regressions 0."""
        x0 = np.zeros(self.q)
        seen = np.zeros(self.q, bool)
        oi = {v: k for k, v in enumerate(self.items)}
        for r in self.pt.itertuples(index=False):
            k = int(r.free) - 1
            if k < 0 or seen[k]:
                continue
            seen[k] = True
            if np.isfinite(r.start):
                x0[k] = r.start
            elif r.op == "|":
                x0[k] = s_obs[int(r.group) - 1][self.th_off[oi[r.lhs]] + int(r.rhs[1:]) - 1]
                if self.param == "theta":
                    x0[k] *= math.sqrt(1.5)  # latent responses of variance ~1.5 at these start values
            elif r.op == "=~":
                x0[k] = 1.0
            elif r.op == "~~":
                x0[k] = (1.0 if r.lhs in oi else 0.5) if r.lhs == r.rhs else 0.25 if r.lhs not in oi else 0.0
        x0[self.q0:] = 1.0
        return x0

    def _rows(self) -> list[tuple]:
        """The rows of the parameter table, in order: (group, kind, lhs, op, rhs, label, pt row, free
        index, i, j) with kind one of load, th, resid, lvcov, reg, mean, fixed, scale."""
        if getattr(self, "_rows_cache", None) is not None:
            return self._rows_cache
        oi = {v: k for k, v in enumerate(self.items)}
        ei = {v: k for k, v in enumerate(self.model.eta_names)}
        rows = []
        pt = self.pt
        for g in range(self.G):
            for idx in np.flatnonzero(pt["group"].to_numpy() == g + 1):
                r = pt.iloc[idx]
                lhs, op, rhs = r["lhs"], r["op"], r["rhs"]
                k = int(r["free"]) - 1
                if op == "=~":
                    kind, i, j = "load", oi[rhs], ei[lhs]
                elif op == "|":
                    kind, i, j = "th", oi[lhs], 0
                elif op == "~~" and lhs in oi:
                    kind, i, j = "resid", oi[lhs], 0
                    if self.param == "delta":  # implied: 1/delta^2 - common variance
                        k = -1
                elif op == "~~":
                    kind, i, j = "lvcov", ei[lhs], ei[rhs]
                elif op == "~":
                    kind, i, j = "reg", ei[lhs], ei[rhs]
                elif op == "~1" and lhs in ei:
                    kind, i, j = "mean", ei[lhs], 0
                else:
                    kind, i, j = "fixed", 0, 0
                rows.append((g, kind, lhs, op, rhs, r["label"], int(idx), k, i, j))
            for i, it in enumerate(self.items):
                k = next((self.q0 + j for j, (gg, ii) in enumerate(self.scales) if gg == g and ii == i), -1)
                rows.append((g, "scale", it, "~*~", it, "", -1, k, i, 0))
        self._rows_cache = rows
        return rows

    def values_std(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r"""Estimates and ``std.all`` values of every row of the parameter table at `theta`:
        loadings :math:`\lambda\sqrt{\operatorname{var}\eta}/\sqrt{\sigma^*_{ii}}`, thresholds
        :math:`\tau/\sqrt{\sigma^*_{ii}}`, residual variances :math:`\theta_{ii}/\sigma^*_{ii}`, factor
        (co)variances as correlations, regressions :math:`\beta\,sd(x)/sd(y)`, means :math:`\alpha/sd`."""
        t0 = theta[:self.q0]
        vals = self.model.row_values(t0)
        mom = self.model.implied(t0)
        ds = self._d(theta, [S for _, S in mom])
        mats = self.model.matrices(t0)
        per = []
        for g in range(self.G):
            M = mats[g]
            Binv = np.linalg.inv(np.eye(self.model.m) - M["beta"])
            C = Binv @ M["psi"] @ Binv.T
            L = M["lambda"]
            var_star = 1.0 / ds[g] ** 2
            per.append((var_star, var_star - np.einsum("ij,jk,ik->i", L, C, L), np.sqrt(np.clip(np.diag(C), 0, None)),
                        ds[g]))
        rows = self._rows()
        est = np.empty(len(rows))
        std = np.empty(len(rows))
        with np.errstate(divide="ignore", invalid="ignore"):
            for n, (g, kind, lhs, op, rhs, label, idx, k, i, j) in enumerate(rows):
                var_star, resid, sd, d = per[g]
                v = vals[idx] if idx >= 0 else math.nan
                if kind == "load":
                    std[n] = v * sd[j] / math.sqrt(var_star[i])
                elif kind == "th":
                    std[n] = v / math.sqrt(var_star[i])
                elif kind == "resid":
                    if self.param == "delta":
                        v = resid[i]
                    std[n] = v / var_star[i]
                elif kind == "lvcov":
                    std[n] = v / (sd[i] * sd[j]) if sd[i] * sd[j] > 0 else math.nan
                elif kind == "reg":
                    std[n] = v * sd[j] / sd[i] if sd[i] > 0 else math.nan
                elif kind == "mean":
                    std[n] = v / sd[i] if sd[i] > 0 else math.nan
                elif kind == "scale":
                    v, std[n] = d[i], 1.0
                else:
                    std[n] = 0.0 if v == 0 else math.nan
                est[n] = v
        return est, std

    def table(self, theta: np.ndarray, se: np.ndarray, labels: list, imp: list, ss: OrdinalSampleStats,
              vcov: np.ndarray | None = None):
        """lavaan's parameter rows per group (implied scales / residual variances included, se 0), with
        ``std_all`` and, given `vcov`, its delta-method SE ``std_all_se`` (central differences)."""
        rows = self._rows()
        est, std = self.values_std(theta)
        std_se = np.full(len(rows), math.nan)
        if vcov is not None and np.all(np.isfinite(vcov)):
            Js_ = np.zeros((len(rows), self.q))
            for k in range(self.q):
                h = 1e-6 * max(1.0, abs(theta[k]))
                tp, tm = theta.copy(), theta.copy()
                tp[k] += h
                tm[k] -= h
                Js_[:, k] = (self.values_std(tp)[1] - self.values_std(tm)[1]) / (2 * h)
            with np.errstate(invalid="ignore"):
                std_se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", Js_, vcov, Js_), 0, None))
            std_se[~np.isfinite(std)] = math.nan
        z = stats.norm.ppf(0.975)
        out_rows, implied, boundary = [], {}, []
        for n, (g, kind, lhs, op, rhs, label, idx, k, i, j) in enumerate(rows):
            lab = labels[g]
            v = float(est[n])
            s = float(se[k]) if k >= 0 else 0.0
            stat = v / s if k >= 0 and s > 0 else math.nan
            out_rows.append({"lhs": lhs, "op": op, "rhs": rhs, "group": g + 1, "group_label": lab, "label": label,
                             "free": int(k + 1) if k >= 0 else 0, "estimate": v, "se": s, "statistic": stat,
                             "pvalue": 2 * stats.norm.sf(abs(stat)) if np.isfinite(stat) else math.nan,
                             "ci_low": v - z * s, "ci_high": v + z * s, "std_all": float(std[n]),
                             "std_all_se": float(std_se[n])})
            if kind == "resid" and v <= 0:
                boundary.append(lhs if lab is None else f"{lhs} [{lab}]")
        nt = int(sum(self.nth))
        for g, lab in enumerate(labels):
            implied[lab] = {"thresholds": pd.Series(imp[g][:nt], index=ss.thresholds[lab].index),
                            "cor": _cor_from(imp[g][nt:], self)}
        out = pd.DataFrame(out_rows)
        term = (out["lhs"] + " " + out["op"] + " " + out["rhs"]).str.replace(" ~1 ", " ~1", regex=False).str.rstrip()
        out.insert(0, "term", term)
        cols = ["term", "estimate", "se", "statistic", "pvalue", "ci_low", "ci_high", "lhs", "op", "rhs", "group",
                "group_label", "label", "free", "std_all", "std_all_se"]
        return out[cols], implied, boundary


def _scaled_shifted(U: np.ndarray, G: np.ndarray, T: float, df: float) -> tuple[float, float, float]:
    """Asparouhov-Muthen scaled-shifted statistic; NaNs when tr(UGUG) is not positive (lavaan: NA)."""
    UG = U @ G
    tr2 = float(np.sum(UG * UG.T))
    if not (np.isfinite(tr2) and tr2 > 0):
        return math.nan, math.nan, math.nan
    a = math.sqrt(df / tr2)
    b = df - a * float(np.trace(UG))
    return a * T + b, a, b


# --------------------------------------------------------------------------- result
@dataclass
class WLSMVResult(ResultMixin):
    r"""Result of :func:`fit_wlsmv` (lavaan's ``cfa(..., ordered = ..., estimator = "WLSMV")``).

    Attributes
    ----------
    factors : dict of str to list of str
    items : list of str
        The items in model order (factor by factor).
    groups : list
        Group labels (``[None]`` for one group).
    parameterization : str
        ``"delta"`` or ``"theta"``.
    group_equal : tuple of str
    n_obs : int
        Respondents analysed (all groups).
    n_per_group : dict
    n_dropped : int
        Respondents dropped for a missing answer (listwise).
    params : pandas.DataFrame
        lavaan's parameter table in the engine's layout (:meth:`analysis.sem.SEMResult.parameter_estimates`):
        ``term, estimate, se, statistic, pvalue, ci_low, ci_high`` (robust SEs; ``se`` 0 where fixed
        or implied, as lavaan), then ``lhs, op, rhs, group`` (1..G), ``group_label``, ``label``,
        ``free`` (free-parameter number, 0 for a fixed or implied value), ``std_all`` (lavaan's
        ``std.all``) and ``std_all_se`` (its delta-method SE from the robust covariance matrix, as
        ``standardizedSolution()``); the delta scaling factors are rows ``x ~*~ x``.
    fit : pandas.Series
        lavaan's WLSMV fit measures under lavaan's names: ``npar, chisq, df, pvalue, chisq.scaled,
        df.scaled, pvalue.scaled, chisq.scaling.factor, chisq.shift.parameter, baseline.chisq,
        baseline.df, baseline.chisq.scaled, baseline.pvalue.scaled, cfi, tli, cfi.scaled, tli.scaled,
        rmsea, rmsea.scaled, srmr, ntotal``, and the 90% RMSEA interval and close-fit p-value
        ``rmsea.ci.lower, rmsea.ci.upper, rmsea.pvalue`` (and ``.scaled``: from :math:`T_{ss}`),
        Browne & Cudeck's noncentral chi-square interval with :math:`N - G`.
    sample_stats : OrdinalSampleStats
    implied : dict of group to dict
        ``thresholds`` (Series) and ``cor`` (DataFrame) implied by the estimates.
    vcov : pandas.DataFrame
        Robust covariance matrix of the free parameters (``theta`` order, labelled by first term).
    converged : bool
    notes : list of str
        Boundary (negative residual variance) and convergence notes.
    boundary : list of str
        Items whose residual variance is at or below zero (Heywood cases; ``"x [group]"`` with groups).
    """

    _frame_from = ("params",)
    _dict_skip = ("sample_stats", "vcov")

    factors: dict
    items: list
    groups: list
    parameterization: str
    group_equal: tuple
    n_obs: int
    n_per_group: dict
    n_dropped: int
    params: pd.DataFrame
    fit: pd.Series
    sample_stats: OrdinalSampleStats
    implied: dict
    vcov: pd.DataFrame
    converged: bool
    notes: list = field(default_factory=list)
    boundary: list = field(default_factory=list)
    _jac: list = field(default_factory=list, repr=False)
    _w: list = field(default_factory=list, repr=False)

    def parameter_estimates(self) -> pd.DataFrame:
        """lavaan's ``parameterEstimates()`` plus ``std_all`` and ``std_all_se``: one row per parameter and group."""
        return self.params.copy()

    def standardized_solution(self, *, level: float = 0.95) -> pd.DataFrame:
        """lavaan's ``standardizedSolution()`` (std.all): estimate, delta-method SE, z, p and CI."""
        if not (isinstance(level, float) and 0 < level < 1):
            raise ValueError(f"`level` must be a number in (0, 1), got {level!r}.")
        return solution_table(self.params, "std_all", level)

    @property
    def coefficients(self) -> pd.DataFrame:
        """The parameter table indexed by ``term`` (``"f =~ x1"``), as ``SEMResult.coefficients``."""
        return self.params.set_index("term")

    def fit_measures(self, names: str | Sequence[str] | None = None) -> pd.Series:
        """lavaan's ``fitMeasures()`` for WLSMV as a Series (all, or the `names` asked for)."""
        if names is None:
            return self.fit.copy()
        names = [names] if isinstance(names, str) else list(names)
        bad = [n for n in names if n not in self.fit.index]
        if bad:
            raise ValueError(f"`names`: no fit measure {bad[0]!r}.{suggest_name(str(bad[0]), list(self.fit.index))}")
        return self.fit[names].copy()

    def to_frame(self) -> pd.DataFrame:
        """The parameter table in the vocabulary's column order."""
        return coef_frame(self.params)

    def summary(self) -> str:
        """Tests, fit indices and the parameter table, in lavaan's layout."""
        f = self.fit
        grp = "" if self.groups == [None] else f", {len(self.groups)} groups ({', '.join(map(str, self.groups))})"
        lines = [
            f"Ordinal SEM by WLSMV (DWLS on thresholds and polychoric correlations, {self.parameterization} "
            f"parameterization){grp}; {self.n_obs} respondents"
            + (f" ({self.n_dropped} dropped, listwise)" if self.n_dropped else ""),
            f"  group.equal: {', '.join(self.group_equal) or 'none'}; converged: {self.converged}",
            f"  Test (DWLS):         chi2({f['df']:.0f}) = {f['chisq']:.3f}, p = {f['pvalue']:.4g}",
            f"  Scaled-shifted test: chi2({f['df']:.0f}) = {f['chisq.scaled']:.3f}, p = {f['pvalue.scaled']:.4g} "
            f"(scaling {f['chisq.scaling.factor']:.3f}, shift {f['chisq.shift.parameter']:.3f})",
            f"  CFI = {f['cfi']:.3f} (scaled {f['cfi.scaled']:.3f}), TLI = {f['tli']:.3f} (scaled "
            f"{f['tli.scaled']:.3f}), RMSEA = {f['rmsea']:.3f} (scaled {f['rmsea.scaled']:.3f}), "
            f"SRMR = {f['srmr']:.3f}",
            "",
            self.params[["lhs", "op", "rhs", "group_label", "estimate", "se", "statistic", "pvalue", "std_all"]]
            .to_string(index=False, float_format=lambda v: f"{v:.3f}", na_rep=""),
        ]
        lines += [f"  NOTE: {n}" for n in self.notes]
        return "\n".join(lines)

    def apa(self) -> str:
        """The WLSMV test and fit indices in APA style."""
        f = self.fit
        p = f["pvalue.scaled"]
        ptxt = "p < .001" if p < 0.001 else f"p = {p:.3f}".replace("0.", ".", 1)
        return (f"WLSMV \u03c7\u00b2({f['df']:.0f}, N = {self.n_obs}) = {f['chisq.scaled']:.2f}, {ptxt}; "
                f"CFI = {f['cfi.scaled']:.3f}, TLI = {f['tli.scaled']:.3f}, RMSEA = {f['rmsea.scaled']:.3f}, "
                f"SRMR = {f['srmr']:.3f}".replace("= 0.", "= .").replace("= 1.000", "= 1.000"))


# --------------------------------------------------------------------------- estimation
def _check_group_equal(group_equal: Any, group: str | None) -> tuple[str, ...]:
    if group_equal is None:
        return ()
    if isinstance(group_equal, str):
        group_equal = (group_equal,)
    if not isinstance(group_equal, (list, tuple)):
        raise ValueError(f"`group_equal` must be a list of keywords from {GROUP_EQUAL}, got {group_equal!r}.")
    for k in group_equal:
        if k not in GROUP_EQUAL:
            raise ValueError(f"`group_equal`: unknown or unsupported keyword {k!r} for ordered items; choose from "
                             f"{GROUP_EQUAL}.{suggest_name(str(k), GROUP_EQUAL)}")
    if group_equal and group is None:
        raise ValueError("`group_equal` needs `group` (a multi-group model).")
    return tuple(group_equal)


def _check_group_partial(group_partial: Any) -> tuple[list[str], list[tuple]]:
    """The strings and their (lhs, op, rhs) keys (read by the engine's syntax parser)."""
    if group_partial is None:
        return [], []
    if isinstance(group_partial, str):
        group_partial = (group_partial,)
    if not isinstance(group_partial, (list, tuple)):
        raise ValueError(f"`group_partial` must be a list of strings like 'f =~ x' or 'x | t1', got {group_partial!r}.")
    for s in group_partial:
        if not isinstance(s, str):
            raise ValueError(f"`group_partial` entries must be strings like 'f =~ x' or 'x | t1', got {s!r}.")
    try:
        keys = sorted(_parse_partial(group_partial))
    except ValueError as exc:
        raise ValueError(f"`group_partial`: {exc}") from None
    return list(group_partial), keys


def fit_wlsmv(data: pd.DataFrame, model: str | Mapping[str, Sequence[str]], *, ordered: Sequence[str] | bool | None = True,
              group: str | None = None, group_equal: Sequence[str] = (), group_partial: Sequence[str] = (),
              parameterization: str = "delta", orthogonal: bool = False, std_lv: bool = False,
              estimator: str = "WLSMV", maxiter: int = 20000, sample_stats: OrdinalSampleStats | None = None
              ) -> WLSMVResult:
    r"""Structural equation model of ordered items by WLSMV, as lavaan's ``sem(model, data, ordered = ...)``.

    The model (lavaan syntax, read by :func:`analysis.sem.syntax.parameter_table` and turned into
    LISREL matrices by :class:`analysis.sem.model.SEMModel`, the engine's) describes the latent
    responses :math:`y^*` of the module docstring; their standardised thresholds and correlations
    :math:`\sigma_g(\theta)` and the analytic Jacobian :math:`\Delta_g` (the engine's
    :math:`\partial\mu/\partial\theta`, :math:`\partial\Sigma/\partial\theta` and
    :math:`\partial\tau/\partial\theta` by the chain rule through the scaling factors) enter DWLS on the
    thresholds and polychoric correlations of each group (weights :math:`\operatorname{diag}
    (\Gamma_g)^{-1}`, objective :math:`\sum_g (n_g-1) e_g^\top W_g e_g`, Levenberg-Marquardt),
    robust (sandwich) SEs :math:`E^{-1}BE^{-1}/(N-G)` and the scaled-shifted test
    :math:`T_{ss} = aT + b`. Fit measures as lavaan reports them for WLSMV: CFI/TLI from
    :math:`T` and the baseline (independence: thresholds free in each group, correlations 0),
    their ``.scaled`` versions from the scaled-shifted statistics;
    :math:`RMSEA = \sqrt{G}\sqrt{\max(0, (T - df)/(df(N-G)))}` (``rmsea.scaled`` with :math:`T_{ss}`);
    SRMR from the correlation residuals, :math:`\sqrt{\sum_{i<j} e_{ij}^2/(p(p+1)/2)}` per group,
    averaged with weights :math:`n_g/N`. Identification: marker (first loading of each factor 1)
    or ``std_lv``; multi-group defaults of lavaan 0.6-14 (module docstring).

    Parameters
    ----------
    data : pandas.DataFrame
        Integer-coded answers (each distinct value a category, shared by the groups);
        respondents with a missing answer are dropped (listwise) with a warning.
    model : str or mapping
        lavaan syntax (``=~``, ``~`` among factors, ``~~``, ``~ 1``, ``|``, labels, fixed values,
        ``start()``), or factor -> items. Ordered items are indicators (not in regressions).
    ordered : True or sequence of str, default True
        The ordered items: True (all), or the list of every observed variable of the model (mixed
        continuous and ordered items are not supported by this estimator).
    group : str, optional
        Column of group labels (groups in order of appearance, as lavaan's ``group.label``).
    group_equal : sequence of str
        lavaan's ``group.equal`` (:data:`GROUP_EQUAL`), e.g. ``("thresholds", "loadings")``;
        ``"intercepts"`` adds nothing for ordered items (fixed at 0), ``"residuals"`` keeps the theta
        parameterization's residual variances at 1.
    group_partial : sequence of str
        Exceptions to ``group_equal``, e.g. ``"f =~ x"`` or ``"x | t2"``.
    parameterization : {"delta", "theta"}
    orthogonal : bool, default False
        Fix the covariances of the exogenous factors at 0.
    std_lv : bool, default False
        Identify the factors by unit variances instead of marker loadings.
    estimator : {"WLSMV", "DWLS"}
        Both give the same estimates, SEs and tests (lavaan's DWLS default SEs are not robust; here
        both report the WLSMV robust ones).
    maxiter : int
        Iterations of the Levenberg-Marquardt DWLS fit.
    sample_stats : OrdinalSampleStats, optional
        The result of ``ordinal_sample_stats(data, items, group=group)`` for the model's items in
        model order, to reuse across several models of the same data (invariance steps); ``data``
        is then only checked for the columns.

    Returns
    -------
    WLSMVResult

    Raises
    ------
    ValueError
        Bad data (see :func:`ordinal_sample_stats`), a bad model (the engine's syntax errors name
        the line), unknown keywords, a model with more free parameters than sample statistics, a
        singular information matrix (not identified).

    References
    ----------
    Asparouhov, T., & Muthén, B. (2010). Simple second order chi-square correction. Mplus technical
    appendix.
    Muthén, B., du Toit, S. H. C., & Spisic, D. (1997). Robust inference using weighted least
    squares and quadratic estimating equations in latent variable modeling with categorical and
    continuous outcomes. Unpublished technical report.
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
    Statistical Software, 48*(2), 1--36.

    Examples
    --------
    >>> rng = np.random.default_rng(4)
    >>> ystar = 0.8 * rng.normal(size=(400, 1)) + 0.6 * rng.normal(size=(400, 4))
    >>> df = pd.DataFrame(1 + np.digitize(ystar, [-1.0, 0.0, 1.0]), columns=list("abcd"))
    >>> res = fit_wlsmv(df, "g =~ a + b + c + d")
    >>> int(res.fit["df"]), int(res.fit["npar"])
    (2, 16)
    >>> ld = res.params[res.params["op"] == "=~"]
    >>> bool(ld["std_all"].between(0.7, 0.9).all())
    True
    """
    what = "fit_wlsmv"

    if not isinstance(estimator, str) or estimator.upper() not in ("WLSMV", "DWLS"):
        raise ValueError(f"`estimator` must be 'WLSMV' or 'DWLS' for ordered items, got {estimator!r}.")
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(f"`parameterization` must be one of {PARAMETERIZATIONS}, got {parameterization!r}."
                         f"{suggest_name(str(parameterization), PARAMETERIZATIONS)}")
    for name, val in (("orthogonal", orthogonal), ("std_lv", std_lv)):
        if not isinstance(val, (bool, np.bool_)):
            raise ValueError(f"`{name}` must be True or False, got {val!r}.")
    if isinstance(maxiter, bool) or not isinstance(maxiter, (int, np.integer)) or maxiter < 1:
        raise ValueError(f"`maxiter` must be a positive integer, got {maxiter!r}.")
    if isinstance(model, Mapping):
        facs = parse_measurement_model(model)
        model = "\n".join(f"{f} =~ {' + '.join(its)}" for f, its in facs.items())
    if not isinstance(model, str) or not model.strip():
        raise ValueError("`model` must be lavaan syntax (`f =~ a + b + c`) or a non-empty mapping of factor -> items.")
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"`data` must be a pandas DataFrame, got {type(data).__name__}.")
    ge = _check_group_equal(group_equal, group)
    gp, gp_keys = _check_group_partial(group_partial)
    explicit = [st for st in parse_syntax(model) if st.op == "|"]
    if explicit:
        # lavaan's "u | t1 + t2" lines: the estimator adds one threshold per category boundary
        # itself; labelled or fixed thresholds are not supported yet, so refuse rather than ignore
        raise ValueError(f"line {explicit[0].line}: explicit threshold lines ('{explicit[0].lhs} | ...') are not "
                         "supported by the WLSMV estimator yet; leave them out (every item gets one threshold "
                         "per category boundary) and use group_equal=('thresholds', ...) for equal thresholds.")
    pt1 = parameter_table(model, None, group_equal=(), orthogonal=bool(orthogonal),
                          std_lv=bool(std_lv), fixed_x=False)
    items = _ov_order(pt1)
    facs = {f: list(pt1.loc[(pt1["op"] == "=~") & (pt1["lhs"] == f), "rhs"])
            for f in dict.fromkeys(pt1.loc[pt1["op"] == "=~", "lhs"])}
    if ordered is not True:
        if ordered is None or ordered is False or isinstance(ordered, str) or not isinstance(ordered, Sequence):
            raise ValueError(f"`ordered` must be True or the list of the model's observed variables, got {ordered!r}.")
        unknown = [o for o in ordered if o not in items]
        if unknown:
            raise ValueError(f"`ordered` names {unknown[0]!r}, which is not an observed variable of the model."
                             f"{suggest_name(str(unknown[0]), items)}")
        cont = [it for it in items if it not in ordered]
        if cont:
            raise ValueError(f"`ordered` leaves item(s) {cont} continuous; this estimator needs every observed "
                             "variable of the model ordered (mixed continuous/ordered models are not supported).")
    if orthogonal and len(facs) > 1:
        two = [f for f, its in facs.items() if len(its) < 3]
        if two:
            raise ValueError(f"`model`: factor {two[0]!r} has {len(facs[two[0]])} items in an orthogonal model: its "
                             "loading and variance are not separately identified. Give it at least 3 items or let "
                             "the factors correlate.")
    _check_items_frame(data, items, group)
    if group is not None and group in items:
        raise ValueError(f"`group`: column {group!r} is also a variable of the model.")
    if sample_stats is None:
        labels, Xs, Ks, cats, n_dropped = _coded_groups(data, items, group, what)
        ss = _stats_from_coded(labels, Xs, Ks, items, cats, n_dropped, what)
    else:
        if not isinstance(sample_stats, OrdinalSampleStats):
            raise ValueError(f"`sample_stats` must come from ordinal_sample_stats(), got {type(sample_stats).__name__}.")
        if sample_stats.items != items:
            raise ValueError(f"`sample_stats` holds items {sample_stats.items}; the model needs {items} (model "
                             "order): call ordinal_sample_stats(data, items, group=group) with them.")
        if (sample_stats.groups == [None]) != (group is None):
            raise ValueError("`sample_stats` and `group` disagree on whether the model has groups.")
        ss = sample_stats
        labels, n_dropped = list(ss.groups), ss.n_dropped
    K = {it: len(ss.categories[it]) for it in items}
    G = len(labels)
    pt = parameter_table(model, [str(c) for c in data.columns], n_groups=G, meanstructure=True, std_lv=bool(std_lv),
                         orthogonal=bool(orthogonal), fixed_x=False, group_equal=ge, group_partial=gp,
                         ordered=items, n_thresholds={it: K[it] - 1 for it in items})
    known = set(zip(pt["lhs"], pt["op"], pt["rhs"]))
    for s in gp_keys:
        if (s[0], s[1], s[2]) not in known:
            raise ValueError(f"`group_partial`: '{s[0]} {s[1]} {s[2]}' is not a parameter of the model."
                             .replace(" ~1 ", " ~ 1"))
    spec = _EngineSpec(pt, items, labels, K, ge, parameterization)
    return _fit_core(spec, ss, labels, n_dropped, facs, items, ge, parameterization, int(maxiter), what)


def _ov_order(pt: pd.DataFrame) -> list[str]:
    """Observed variables in lavaan's order: indicators first, then the others as they appear."""
    lv = set(pt.loc[pt["op"] == "=~", "lhs"])
    ov: list[str] = []
    for op_first in (True, False):
        for lhs, op, rhs in zip(pt["lhs"], pt["op"], pt["rhs"]):
            if (op == "=~") != op_first:
                continue
            for v in ((rhs,) if op == "=~" else (lhs,) if op in ("|", "~1") else (lhs, rhs)):
                if v and v not in lv and v not in ov:
                    ov.append(v)
    return ov


def _fit_core(spec, ss: OrdinalSampleStats, labels: list, n_dropped: int, facs: dict, items: list,
              ge: tuple, parameterization: str, maxiter: int, what: str) -> WLSMVResult:
    """DWLS fit, robust SEs, scaled-shifted tests and fit measures of a specification."""
    G = len(labels)
    s_obs = [np.r_[ss.thresholds[g].to_numpy(), ss.polychoric[g].to_numpy()[spec.I, spec.J]] for g in labels]
    Gam = [ss.gamma[g].to_numpy() for g in labels]
    w = [1.0 / np.diag(Gm) for Gm in Gam]
    ng = np.array([ss.n_obs[g] for g in labels], dtype=float)
    N = float(ng.sum())
    nstat = sum(s.size for s in s_obs)
    df = nstat - spec.q
    if df < 0:
        raise ValueError(f"`model` has {spec.q} free parameters but the data give only {nstat} sample statistics "
                         "(thresholds and polychoric correlations); the model is not identified.")
    sw = [np.sqrt((n - 1) * wg) for n, wg in zip(ng, w)]

    x0 = spec.start(s_obs)

    def resid(t):
        return np.concatenate([s * (o - e) for s, o, e in zip(sw, s_obs, spec.implied(t))])

    def jac(t):
        return -np.vstack([s[:, None] * J for s, J in zip(sw, spec.jacobian(t))])

    with np.errstate(invalid="ignore", divide="ignore"):
        opt = optimize.least_squares(resid, x0, jac=jac, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15,
                                     max_nfev=int(maxiter))
    theta = opt.x
    notes: list[str] = []
    converged = bool(opt.success) and bool(np.all(np.isfinite(theta)))
    if not converged:
        notes.append(f"the DWLS fit did not converge ({opt.message})")
        warnings.warn(f"{what}: the DWLS fit did not converge ({opt.message}).", ConvergenceWarning, stacklevel=2)
    imp = spec.implied(theta)
    if not all(np.all(np.isfinite(s)) for s in imp):
        raise ValueError("fit_wlsmv: the implied statistics are not finite at the estimates (a latent response "
                         "variance at or below 0); the model does not fit these data.")
    Js = spec.jacobian(theta)
    e = [o - s for o, s in zip(s_obs, imp)]
    fg = ng / N
    E = sum(f * (J.T * wg) @ J for f, J, wg in zip(fg, Js, w))
    try:
        Einv = np.linalg.inv(E)
        if not np.all(np.isfinite(Einv)) or np.linalg.cond(E) > 1e14:
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        raise ValueError("fit_wlsmv: the information matrix is singular: the model is not identified (check the "
                         "markers, `group_equal` and the number of categories).") from None
    B = sum(f * ((wg[:, None] * J).T @ Gm @ (wg[:, None] * J)) for f, J, wg, Gm in zip(fg, Js, w, Gam))
    vc = Einv @ B @ Einv / (N - G)
    se = np.sqrt(np.maximum(np.diag(vc), 0.0))

    T = float(sum((n - 1) * np.sum(wg * eg * eg) for n, wg, eg in zip(ng, w, e)))
    V = _block_diag([f * wg for f, wg in zip(fg, w)])
    Gall = _block_diag_m([Gm / f for f, Gm in zip(fg, Gam)])
    Dall = np.vstack(Js)
    if df > 0:
        VD = V[:, None] * Dall
        U = np.diag(V) - VD @ Einv @ VD.T
        Tss, a_sc, b_sc = _scaled_shifted(U, Gall, T, df)
    else:
        Tss, a_sc, b_sc = math.nan, math.nan, math.nan
    if df == 0:
        notes.append("the model is saturated (df = 0): the tests, p-values, TLI and RMSEA are not defined (NaN)")
    if df > 0 and not np.isfinite(Tss):
        notes.append("the scaled-shifted test is undefined (tr(UGUG) <= 0); its statistics are NaN")
        warnings.warn(f"{what}: the scaled-shifted test is undefined (tr(UGUG) <= 0): chisq.scaled and the scaled "
                      "indices are NaN.", UserWarning, stacklevel=2)
    # baseline: thresholds free per group, correlations 0
    nths = [int(sum(spec.nth))] * G
    npairs = len(spec.pairs)
    Db = np.zeros((nstat, sum(nths)))
    ro = co = 0
    for g in range(G):
        Db[ro:ro + nths[g], co:co + nths[g]] = np.eye(nths[g])
        ro += nths[g] + npairs
        co += nths[g]
    dfb = G * npairs
    Bchi = float(sum((n - 1) * np.sum(wg[nt:] * o[nt:] ** 2) for n, wg, o, nt in zip(ng, w, s_obs, nths)))
    VDb = V[:, None] * Db
    Ub = np.diag(V) - VDb @ np.linalg.inv(Db.T @ VDb) @ VDb.T
    Bss = _scaled_shifted(Ub, Gall, Bchi, dfb)[0]
    srmr_g = [math.sqrt(float(np.sum(eg[nt:] ** 2)) / (spec.p * (spec.p + 1) / 2)) for eg, nt in zip(e, nths)]
    fit = pd.Series({
        "npar": float(spec.q), "chisq": T, "df": float(df),
        "pvalue": float(stats.chi2.sf(T, df)) if df > 0 else math.nan,
        "chisq.scaled": Tss, "df.scaled": float(df),
        "pvalue.scaled": float(stats.chi2.sf(Tss, df)) if df > 0 else math.nan,
        "chisq.scaling.factor": 1 / a_sc if df > 0 else math.nan, "chisq.shift.parameter": b_sc,
        "baseline.chisq": Bchi, "baseline.df": float(dfb), "baseline.chisq.scaled": Bss,
        "baseline.pvalue.scaled": float(stats.chi2.sf(Bss, dfb)),
        "cfi": _fit.cfi(T, df, Bchi, dfb), "tli": _fit.tli(T, df, Bchi, dfb),
        "cfi.scaled": _fit.cfi(Tss, df, Bss, dfb) if df > 0 else math.nan,
        "tli.scaled": _fit.tli(Tss, df, Bss, dfb) if df > 0 else math.nan,
        "rmsea": _fit.rmsea(T, df, N - G, groups=G),
        "rmsea.scaled": _fit.rmsea(Tss, df, N - G, groups=G) if df > 0 else math.nan,
        "srmr": float(np.sum(fg * np.array(srmr_g))), "ntotal": N})
    for suffix, stat in (("", T), (".scaled", Tss)):
        ok = df > 0 and np.isfinite(stat)
        lo, hi = _fit.rmsea_ci(stat, df, N - G, groups=G) if ok else (math.nan, math.nan)
        fit[f"rmsea.ci.lower{suffix}"], fit[f"rmsea.ci.upper{suffix}"] = lo, hi
        fit[f"rmsea.pvalue{suffix}"] = _fit.rmsea_pvalue(stat, df, N - G, groups=G) if ok else math.nan

    params, implied, boundary = spec.table(theta, se, labels, imp, ss, vcov=vc)
    if boundary:
        notes.append(f"residual variance at or below zero: {boundary} (Heywood case)")
        from analysis.multilevel import BoundaryWarning
        warnings.warn(f"{what}: residual variance at or below zero for {boundary} (Heywood case).",
                      BoundaryWarning, stacklevel=2)
    first = {}
    for _, r in params.iterrows():
        if r["free"] > 0 and r["free"] not in first:
            first[int(r["free"])] = r["term"] + ("" if r["group_label"] is None else f" [{r['group_label']}]")
    names = [first.get(k + 1, f"p{k + 1}") for k in range(spec.q)]
    return WLSMVResult(factors=facs, items=items, groups=list(labels), parameterization=parameterization,
                       group_equal=ge, n_obs=int(N), n_per_group={g: ss.n_obs[g] for g in labels},
                       n_dropped=n_dropped, params=params, fit=fit, sample_stats=ss, implied=implied,
                       vcov=pd.DataFrame(vc, index=names, columns=names), converged=converged, notes=notes,
                       boundary=boundary, _jac=Js, _w=w)


def _block_diag(vs: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(vs)


def _block_diag_m(ms: list[np.ndarray]) -> np.ndarray:
    n = sum(m.shape[0] for m in ms)
    out = np.zeros((n, n))
    o = 0
    for m in ms:
        k = m.shape[0]
        out[o:o + k, o:o + k] = m
        o += k
    return out


def _cor_from(rho: np.ndarray, spec: _EngineSpec) -> pd.DataFrame:
    R = np.eye(spec.p)
    R[spec.I, spec.J] = rho
    R[spec.J, spec.I] = rho
    return pd.DataFrame(R, index=spec.items, columns=spec.items)


# --------------------------------------------------------------------------- nested models
def difference_test(m1: WLSMVResult, m0: WLSMVResult) -> pd.Series:
    r"""Scaled-shifted chi-square difference test of two nested WLSMV fits (lavaan's ``lavTestLRT``).

    lavaan's default for WLSMV (``method = "satorra.2000"``, ``scaled.shifted = TRUE``,
    ``A.method = "delta"``; Satorra 2000; Asparouhov & Muthén 2010): with :math:`T_1, T_0` the
    (unscaled) DWLS statistics of the less restricted model :math:`M_1` and the restricted
    :math:`M_0`, :math:`m = df_0 - df_1`, :math:`\Delta_1, \Delta_0` their stacked Jacobians,
    :math:`A` a basis of the orthogonal complement of :math:`H = \Delta_1^+\Delta_0` (the
    restrictions, :math:`m \times q_1`), :math:`P = \sum_g f_g\Delta_{1g}^\top W_g\Delta_{1g}`,
    :math:`M = P^{-1}A^\top(AP^{-1}A^\top)^+AP^{-1}` and :math:`K = \sum_g f_g \Delta_{1g}^\top
    W_g\Gamma_g W_g\Delta_{1g}`:

    .. math::

        T_\Delta = a(T_0 - T_1) + b,\quad a = \sqrt{m/\operatorname{tr}((MK)^2)},\quad
        b = m - a\operatorname{tr}(MK),

    referred to :math:`\chi^2_m`.

    Parameters
    ----------
    m1, m0 : WLSMVResult
        Two fits of the same data (same items, groups and sample statistics), the restricted one
        with more degrees of freedom (the order does not matter).

    Returns
    -------
    pandas.Series
        ``chisq_diff`` (:math:`T_\Delta`), ``df_diff``, ``pvalue``, ``scaling`` (a), ``shift`` (b),
        ``chisq_naive_diff`` (:math:`T_0 - T_1`).

    Raises
    ------
    ValueError
        Not two WLSMVResult objects, different data or groups, equal degrees of freedom.

    References
    ----------
    Satorra, A. (2000). Scaled and adjusted restricted tests in multi-sample analysis of moment
    structures. In R. D. H. Heijmans, D. S. G. Pollock & A. Satorra (Eds.), *Innovations in
    multivariate statistical analysis* (pp. 233--247). Kluwer.
    Asparouhov, T., & Muthén, B. (2010). Simple second order chi-square correction. Mplus technical
    appendix.

    Examples
    --------
    >>> rng = np.random.default_rng(4)
    >>> ystar = 0.8 * rng.normal(size=(600, 1)) + 0.6 * rng.normal(size=(600, 4))
    >>> df = pd.DataFrame(1 + np.digitize(ystar, [-1.0, 0.0, 1.0]), columns=list("abcd"))
    >>> df["grp"] = np.repeat(["x", "y"], 300)
    >>> conf = fit_wlsmv(df, "f =~ a + b + c + d", group="grp")
    >>> thr = fit_wlsmv(df, "f =~ a + b + c + d", group="grp", group_equal=["thresholds"])
    >>> int(difference_test(conf, thr)["df_diff"])
    7
    """
    for name, m in (("m1", m1), ("m0", m0)):
        if not isinstance(m, WLSMVResult):
            raise ValueError(f"`{name}` must be a WLSMVResult (from fit_wlsmv), got {type(m).__name__}.")
    if m1.items != m0.items or m1.groups != m0.groups or m1.n_per_group != m0.n_per_group:
        raise ValueError("`m1` and `m0` are fits of different items, groups or respondents; a difference test needs "
                         "two models of the same data.")
    for g in m1.groups:
        if not np.allclose(m1.sample_stats.thresholds[g].to_numpy(), m0.sample_stats.thresholds[g].to_numpy()) or \
                not np.allclose(m1.sample_stats.polychoric[g].to_numpy(), m0.sample_stats.polychoric[g].to_numpy()):
            raise ValueError("`m1` and `m0` have different sample statistics; a difference test needs two models of "
                             "the same data.")
    if m1.fit["df"] > m0.fit["df"]:
        m1, m0 = m0, m1
    m = float(m0.fit["df"] - m1.fit["df"])
    T1, T0 = float(m1.fit["chisq"]), float(m0.fit["chisq"])
    if m == 0:
        raise ValueError("`m1` and `m0` have the same degrees of freedom; they are not nested.")
    D1, D0 = np.vstack(m1._jac), np.vstack(m0._jac)
    H = np.linalg.pinv(D1) @ D0
    U_, sv, _ = np.linalg.svd(H, full_matrices=True)
    rank = int(np.sum(sv > sv.max() * max(H.shape) * np.finfo(float).eps)) if sv.size else 0
    A = U_[:, rank:].T
    labels = m1.groups
    ng = np.array([m1.n_per_group[g] for g in labels], dtype=float)
    fg = ng / ng.sum()
    Pm = sum(f * (J.T * w) @ J for f, J, w in zip(fg, m1._jac, m1._w))
    Pinv = np.linalg.inv(Pm)
    APA = A @ Pinv @ A.T
    M = Pinv @ A.T @ np.linalg.pinv(APA) @ A @ Pinv
    K = sum(f * ((w[:, None] * J).T @ m1.sample_stats.gamma[g].to_numpy() @ (w[:, None] * J))
            for f, J, w, g in zip(fg, m1._jac, m1._w, labels))
    MK = M @ K
    tr1, tr2 = float(np.trace(MK)), float(np.sum(MK * MK.T))
    if not (tr2 > 0):
        raise ValueError("difference_test: tr((MK)^2) is not positive; the models may not be nested.")
    a = math.sqrt(m / tr2)
    b = m - a * tr1
    T = (T0 - T1) * a + b
    return pd.Series({"chisq_diff": T, "df_diff": m, "pvalue": float(stats.chi2.sf(T, m)), "scaling": a,
                      "shift": b, "chisq_naive_diff": T0 - T1})


# --------------------------------------------------------------------------- invariance sequence
#: lavaan's usual sequence for ordered items (Wu & Estabrook 2016; lavaan's group.equal keywords).
INVARIANCE_STEPS = (("configural", ()), ("thresholds", ("thresholds",)),
                    ("thresholds_loadings", ("thresholds", "loadings")))


@dataclass
class OrdinalInvarianceResult(ResultMixin):
    r"""Result of :func:`ordinal_invariance`: nested WLSMV fits and their scaled difference tests.

    Attributes
    ----------
    steps : dict of str to WLSMVResult
        The fits, in order (least restricted first).
    table : pandas.DataFrame
        One row per step: ``npar, chisq, df, chisq_scaled, pvalue_scaled, cfi_scaled, tli_scaled,
        rmsea_scaled, srmr``, then the test against the previous step (:func:`difference_test`):
        ``delta_chisq, delta_df, delta_pvalue`` and the changes ``delta_cfi_scaled``,
        ``delta_rmsea_scaled`` (NaN on the first row).
    groups : list
    parameterization : str
    n_obs : int
    """

    _frame_from = ("table",)
    _dict_skip = ("steps",)

    steps: dict
    table: pd.DataFrame
    groups: list
    parameterization: str
    n_obs: int

    def summary(self) -> str:
        """The step table, lavaan/semTools style."""
        cols = ["df", "chisq_scaled", "pvalue_scaled", "cfi_scaled", "rmsea_scaled", "srmr", "delta_chisq",
                "delta_df", "delta_pvalue", "delta_cfi_scaled", "delta_rmsea_scaled"]
        return (f"Ordinal measurement invariance by WLSMV ({self.parameterization} parameterization), groups "
                f"{', '.join(map(str, self.groups))}; {self.n_obs} respondents\n"
                "  delta_chisq: scaled-shifted difference test against the previous step (satorra.2000)\n"
                + self.table[cols].to_string(float_format=lambda v: f"{v:.3f}", na_rep=""))

    def apa(self) -> str:
        """One sentence per step after the first."""
        out = []
        names = list(self.steps)
        for prev, name in zip(names, names[1:]):
            r = self.table.loc[name]
            p = r["delta_pvalue"]
            ptxt = "p < .001" if p < 0.001 else f"p = {p:.3f}".replace("0.", ".", 1)
            out.append(f"{name} vs {prev}: \u0394\u03c7\u00b2({r['delta_df']:.0f}) = {r['delta_chisq']:.2f}, {ptxt}, "
                       f"\u0394CFI = {r['delta_cfi_scaled']:.3f}, \u0394RMSEA = {r['delta_rmsea_scaled']:.3f}")
        return "; ".join(out) + "."


def ordinal_invariance(data: pd.DataFrame, model: str | Mapping[str, Sequence[str]], group: str, *,
                       steps: Sequence[tuple[str, Sequence[str]]] = INVARIANCE_STEPS,
                       group_partial: Sequence[str] = (), parameterization: str = "delta",
                       ordered: Sequence[str] | bool = True) -> OrdinalInvarianceResult:
    r"""Measurement invariance of ordered items across groups: nested WLSMV fits and difference tests.

    Fits each step with :func:`fit_wlsmv` on one set of sample statistics (thresholds, polychoric
    correlations and :math:`\Gamma_g` computed once), in lavaan 0.6-14's ordinal identification
    (module docstring), and tests each step against the previous one by the scaled-shifted
    difference test :math:`T_\Delta = a(T_0 - T_1) + b` of :func:`difference_test` (lavaan's
    ``lavTestLRT`` default for WLSMV). The default sequence is configural, equal thresholds, equal
    thresholds and loadings (Wu & Estabrook 2016).

    Parameters
    ----------
    data : pandas.DataFrame
    model : str or mapping
        As in :func:`fit_wlsmv`.
    group : str
        Column of group labels.
    steps : sequence of (name, group_equal)
        The nested models, least restricted first.
    group_partial : sequence of str
        Parameters left free in every step (e.g. ``"x6 | t1"``).
    parameterization : {"delta", "theta"}
    ordered : True or sequence of str

    Returns
    -------
    OrdinalInvarianceResult

    Raises
    ------
    ValueError
        As :func:`fit_wlsmv`; ``steps`` empty, with a duplicated name, or not nested by degrees of
        freedom.

    References
    ----------
    Wu, H., & Estabrook, R. (2016). Identification of confirmatory factor analysis models of
    different levels of invariance for ordered categorical outcomes. *Psychometrika, 81*(4),
    1014--1045.

    Examples
    --------
    >>> rng = np.random.default_rng(4)
    >>> ystar = 0.8 * rng.normal(size=(600, 1)) + 0.6 * rng.normal(size=(600, 4))
    >>> df = pd.DataFrame(1 + np.digitize(ystar, [-1.0, 0.0, 1.0]), columns=list("abcd"))
    >>> df["grp"] = np.repeat(["x", "y"], 300)
    >>> inv = ordinal_invariance(df, "f =~ a + b + c + d", "grp")
    >>> inv.table["df"].astype(int).tolist(), inv.table["delta_df"].tolist()[1:]
    ([4, 11, 14], [7.0, 3.0])
    """
    if not isinstance(group, str):
        raise ValueError(f"`group` must be a column name (str), got {group!r}.")
    if isinstance(steps, (str, bytes)) or not isinstance(steps, Sequence) or not steps:
        raise ValueError("`steps` must be a non-empty list of (name, group_equal) pairs.")
    names = []
    for st_ in steps:
        if not (isinstance(st_, (tuple, list)) and len(st_) == 2 and isinstance(st_[0], str)):
            raise ValueError(f"`steps`: each step is a (name, group_equal) pair, got {st_!r}.")
        names.append(st_[0])
    if len(set(names)) != len(names):
        raise ValueError(f"`steps`: step names must differ, got {names}.")
    if isinstance(model, Mapping):
        facs = parse_measurement_model(model)
        model = "\n".join(f"{f} =~ {' + '.join(its)}" for f, its in facs.items())
    if not isinstance(model, str):
        raise ValueError("`model` must be lavaan syntax (`f =~ a + b + c`) or a mapping of factor -> items.")
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"`data` must be a pandas DataFrame, got {type(data).__name__}.")
    items = _ov_order(parameter_table(model, None))
    _check_items_frame(data, items, group)
    ss = ordinal_sample_stats(data, items, group=group)
    fits = {}
    for name, ge in steps:
        fits[name] = fit_wlsmv(data, model, ordered=ordered, group=group, group_equal=tuple(ge),
                               group_partial=group_partial, parameterization=parameterization, sample_stats=ss)
    rows, prev = {}, None
    for name, res in fits.items():
        f = res.fit
        r = {"npar": f["npar"], "chisq": f["chisq"], "df": f["df"], "chisq_scaled": f["chisq.scaled"],
             "pvalue_scaled": f["pvalue.scaled"], "cfi_scaled": f["cfi.scaled"], "tli_scaled": f["tli.scaled"],
             "rmsea_scaled": f["rmsea.scaled"], "srmr": f["srmr"]}
        if prev is None:
            r.update(delta_chisq=math.nan, delta_df=math.nan, delta_pvalue=math.nan, delta_cfi_scaled=math.nan,
                     delta_rmsea_scaled=math.nan)
        else:
            if f["df"] <= prev.fit["df"]:
                raise ValueError(f"`steps`: {name!r} has {f['df']:.0f} degrees of freedom, not more than the step "
                                 f"before it ({prev.fit['df']:.0f}); the steps must be nested, least restricted first.")
            t = difference_test(prev, res)
            r.update(delta_chisq=t["chisq_diff"], delta_df=t["df_diff"], delta_pvalue=t["pvalue"],
                     delta_cfi_scaled=f["cfi.scaled"] - prev.fit["cfi.scaled"],
                     delta_rmsea_scaled=f["rmsea.scaled"] - prev.fit["rmsea.scaled"])
        rows[name] = r
        prev = res
    table = pd.DataFrame(rows).T.infer_objects()
    table.index.name = "step"
    first = next(iter(fits.values()))
    return OrdinalInvarianceResult(steps=fits, table=table, groups=list(first.groups),
                                   parameterization=parameterization, n_obs=first.n_obs)
