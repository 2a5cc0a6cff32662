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
variances (theta) of the items with more than two categories and the latent means are freed in
the groups after the first. ``"intercepts"`` adds nothing for ordered items (their intercepts
are fixed at 0). (lavaan 0.6-20 changed these defaults: it frees the item intercepts rather than the
latent means with equal thresholds, and the marker loadings with equal loadings; the oracle and this
module follow 0.6-14, the version installed with the repository's R.)

Written by hand (numpy/scipy); the single-group math was ``analysis.psychometrics``'s
``fit_cfa_ordinal`` (checked against lavaan there), moved here.

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

from analysis import _sem_fit
from analysis._checks import suggest_name
from analysis._results import ResultMixin, coef_frame

__all__ = ["OrdinalSampleStats", "WLSMVResult", "ordinal_sample_stats", "parse_measurement_model", "fit_wlsmv",
           "difference_test",
           "PARAMETERIZATIONS", "GROUP_EQUAL"]

#: The parameterizations of the latent responses (lavaan's ``parameterization``).
PARAMETERIZATIONS = ("delta", "theta")
#: The ``group_equal`` keywords understood for ordered items.
GROUP_EQUAL = ("thresholds", "loadings", "intercepts", "means", "lv.variances", "lv.covariances")


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
            raise ValueError(f"`data` column {c!r} must hold integer-coded ordinal answers (dtype {col.dtype}).")
        v = col.to_numpy(dtype=float)
        inf = np.isinf(v)
        if inf.any():
            raise ValueError(f"`data` column {c!r} has an infinite value at index label {data.index[inf][0]!r}.")
        fin = np.isfinite(v)
        frac = fin & (v != np.round(v))
        if frac.any():
            raise ValueError(f"`data` column {c!r} has a non-integer answer {float(v[frac][0]):g} at index label "
                             f"{data.index[frac][0]!r}; ordinal items must be integer-coded.")


def _coded_groups(data: pd.DataFrame, items: list[str], group: str | None, what: str):
    """Listwise-complete coded arrays per group, shared categories; errors name item and group."""
    complete = data[items].notna().all(axis=1).to_numpy()
    n_dropped = int((~complete).sum())
    D = data[complete]
    if len(D) <= len(items):
        raise ValueError(f"`data` has {len(D)} complete respondents ({n_dropped} with a missing answer); the model "
                         f"needs more than the number of items ({len(items)}).")
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
                      "continuous: thresholds for sparse categories are poorly estimated.", UserWarning, stacklevel=3)
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
    r"""Factors and their items from lavaan syntax (``f =~ a + b + c`` lines) or a mapping.

    Only measurement statements are read (one ``=~`` per line or ``;``-separated statement,
    ``#`` comments); the first item of each factor is its marker (loading fixed at 1).

    Parameters
    ----------
    model : str or mapping of str to sequence of str

    Returns
    -------
    dict of str to list of str

    Raises
    ------
    ValueError
        Empty model, another operator than ``=~`` (the engine's :func:`analysis.sem.sem` fits those
        by other estimators), a factor with fewer than 2 items, an item on two factors, a factor
        named like an item.

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
                raise ValueError(f"`model`: the ordinal estimator reads measurement models only (`f =~ a + b`); "
                                 f"cannot read {line!r}.")
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


class _Spec:
    """Parameter table of a (multi-group) ordinal CFA: every entry is fixed or one free parameter."""

    def __init__(self, facs: dict[str, list[str]], K: list[int], ngroups: int, group_equal: tuple[str, ...],
                 group_partial: tuple[tuple, ...], parameterization: str, orthogonal: bool):
        self.facs = facs
        self.items = [it for its in facs.values() for it in its]
        self.fnames = list(facs)
        p, m = len(self.items), len(self.fnames)
        self.p, self.m, self.G = p, m, ngroups
        self.fidx = np.array([self.fnames.index(f) for f, its in facs.items() for _ in its])
        self.markers = {its[0] for its in facs.values()}
        self.nth = [k - 1 for k in K]
        self.th_item = np.repeat(np.arange(p), self.nth)
        self.pairs = [(i, j) for j in range(p) for i in range(j + 1, p)]
        self.I = np.array([i for i, _ in self.pairs], dtype=int)
        self.J = np.array([j for _, j in self.pairs], dtype=int)
        self.param = parameterization
        ge = set(group_equal)
        free_means = "thresholds" in ge and "means" not in ge and ngroups > 1
        free_scales = "thresholds" in ge and ngroups > 1
        # entries: (group, kind, a, b) -> free index or None; fixed values separately
        self.rows: list[dict] = []
        keys: dict[tuple, int] = {}

        def add(g, kind, a, b, free, value, eq_kind):
            k = None
            if free:
                key = (kind, a, b) if (eq_kind in ge and (kind, a, b) not in group_partial) else (g, kind, a, b)
                if key not in keys:
                    keys[key] = len(keys)
                k = keys[key]
            self.rows.append({"group": g, "kind": kind, "a": a, "b": b, "free": k, "value": value})

        for g in range(ngroups):
            for i, it in enumerate(self.items):
                add(g, "lambda", i, int(self.fidx[i]), it not in self.markers, 1.0, "loadings")
            for i in range(p):
                for t in range(self.nth[i]):
                    add(g, "tau", i, t, True, 0.0, "thresholds")
            for a in range(m):
                add(g, "psi", a, a, True, 1.0, "lv.variances")
            for b in range(m):
                for a in range(b + 1, m):
                    add(g, "psi", a, b, not orthogonal, 0.0, "lv.covariances")
            for a in range(m):
                add(g, "alpha", a, 0, g > 0 and free_means, 0.0, "means")
            for i in range(p):
                # scales (delta) / residual variances (theta): free after group 1 once thresholds are
                # equal, not for binary items (lavaan)
                add(g, "scale", i, 0, g > 0 and free_scales and self.nth[i] > 1, 1.0, "_never")
        self.q = len(keys)
        self.free_idx = np.array([r["free"] if r["free"] is not None else -1 for r in self.rows])

    def matrices(self, theta: np.ndarray):
        """Per group: Lambda, tau (flat), Psi, alpha, scale (complex-safe)."""
        dt = theta.dtype
        out = [dict(L=np.zeros((self.p, self.m), dt), tau=np.zeros(int(sum(self.nth)), dt),
                    Psi=np.zeros((self.m, self.m), dt), alpha=np.zeros(self.m, dt), scale=np.zeros(self.p, dt))
               for _ in range(self.G)]
        start = np.cumsum([0] + self.nth)
        for r, k in zip(self.rows, self.free_idx):
            v = theta[k] if k >= 0 else r["value"]
            M = out[r["group"]]
            kind, a, b = r["kind"], r["a"], r["b"]
            if kind == "lambda":
                M["L"][a, b] = v
            elif kind == "tau":
                M["tau"][start[a] + b] = v
            elif kind == "psi":
                M["Psi"][a, b] = v
                M["Psi"][b, a] = v
            elif kind == "alpha":
                M["alpha"][a] = v
            else:
                M["scale"][a] = v
        return out

    def implied(self, theta: np.ndarray) -> list[np.ndarray]:
        """Per group, the implied (standardised thresholds, correlations) in lavaan's order."""
        out = []
        for M in self.matrices(theta):
            S0 = M["L"] @ M["Psi"] @ M["L"].T
            if self.param == "delta":
                d = M["scale"]
            else:
                d = 1.0 / np.sqrt(np.diagonal(S0) + M["scale"])
            mu = M["L"] @ M["alpha"]
            th = d[self.th_item] * (M["tau"] - mu[self.th_item])
            rho = d[self.I] * d[self.J] * S0[self.I, self.J]
            out.append(np.concatenate([th, rho]))
        return out

    def jacobian(self, theta: np.ndarray) -> list[np.ndarray]:
        """Per group, d(implied)/d(theta) by complex step (exact to rounding; the map is analytic)."""
        h = 1e-30
        base = theta.astype(complex)
        cols: list[list[np.ndarray]] = [[] for _ in range(self.G)]
        for k in range(self.q):
            t = base.copy()
            t[k] += 1j * h
            for g, s in enumerate(self.implied(t)):
                cols[g].append(s.imag / h)
        return [np.column_stack(c) if c else np.zeros((0, 0)) for c in cols]


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
        lavaan's parameter table in the engine's layout (``SEMResult.parameter_estimates``):
        ``term, estimate, se, statistic, pvalue, ci_low, ci_high`` (robust SEs; ``se`` 0 where fixed
        or implied, as lavaan), then ``lhs, op, rhs, group`` (1..G), ``group_label``, ``label``,
        ``free`` (free-parameter number, 0 for a fixed or implied value) and ``std_all``; the delta
        scaling factors are rows ``x ~*~ x``.
    fit : pandas.Series
        lavaan's WLSMV fit measures under lavaan's names: ``npar, chisq, df, pvalue, chisq.scaled,
        df.scaled, pvalue.scaled, chisq.scaling.factor, chisq.shift.parameter, baseline.chisq,
        baseline.df, baseline.chisq.scaled, baseline.pvalue.scaled, cfi, tli, cfi.scaled, tli.scaled,
        rmsea, rmsea.scaled, srmr, ntotal``.
    sample_stats : OrdinalSampleStats
    implied : dict of group to dict
        ``thresholds`` (Series) and ``cor`` (DataFrame) implied by the estimates.
    vcov : pandas.DataFrame
        Robust covariance matrix of the free parameters (``theta`` order, labelled by first term).
    converged : bool
    notes : list of str
        Boundary (negative residual variance) and convergence notes.
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
    _jac: list = field(default_factory=list, repr=False)
    _w: list = field(default_factory=list, repr=False)

    def parameter_estimates(self) -> pd.DataFrame:
        """lavaan's ``parameterEstimates()`` plus ``std_all``: one row per parameter and group."""
        return self.params.copy()

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


def _check_group_partial(group_partial: Any, facs: dict[str, list[str]]) -> tuple[tuple, ...]:
    if group_partial is None:
        return ()
    if isinstance(group_partial, str):
        group_partial = (group_partial,)
    items = [it for its in facs.values() for it in its]
    out = []
    for s in group_partial:
        if not isinstance(s, str):
            raise ValueError(f"`group_partial` entries must be strings like 'f =~ x' or 'x | t1', got {s!r}.")
        m1 = re.fullmatch(r"\s*([\w.]+)\s*=~\s*([\w.]+)\s*", s)
        m2 = re.fullmatch(r"\s*([\w.]+)\s*\|\s*t(\d+)\s*", s)
        if m1 and m1.group(1) in facs and m1.group(2) in facs[m1.group(1)]:
            i = items.index(m1.group(2))
            out.append(("lambda", i, list(facs).index(m1.group(1))))
        elif m2 and m2.group(1) in items:
            out.append(("tau", items.index(m2.group(1)), int(m2.group(2)) - 1))
        else:
            raise ValueError(f"`group_partial`: {s.strip()!r} is not a parameter of the model "
                             "(forms 'f =~ x', 'x | t1').")
    return tuple(out)


def fit_wlsmv(data: pd.DataFrame, model: str | Mapping[str, Sequence[str]], *, ordered: Sequence[str] | bool | None = True,
              group: str | None = None, group_equal: Sequence[str] = (), group_partial: Sequence[str] = (),
              parameterization: str = "delta", orthogonal: bool = False, estimator: str = "WLSMV",
              maxiter: int = 20000, sample_stats: OrdinalSampleStats | None = None) -> WLSMVResult:
    r"""Ordinal CFA / measurement invariance by WLSMV, as lavaan's ``cfa(model, data, ordered = ...)``.

    The model of the module docstring: ordered items as cut latent responses, DWLS on the
    thresholds and polychoric correlations of each group (weights :math:`\operatorname{diag}
    (\Gamma_g)^{-1}`, objective :math:`\sum_g (n_g-1) e_g^\top W_g e_g`), robust (sandwich) SEs
    :math:`E^{-1}BE^{-1}/(N-G)` and the scaled-shifted test :math:`T_{ss} = aT + b`. Fit
    measures as lavaan reports them for WLSMV: CFI/TLI from :math:`T` and the baseline
    (independence: thresholds free in each group, correlations 0), their ``.scaled`` versions
    from the scaled-shifted statistics; :math:`RMSEA = \sqrt{G}\sqrt{\max(0, (T - df)/(df(N-G)))}`
    (``rmsea.scaled`` with :math:`T_{ss}`); SRMR from the correlation residuals,
    :math:`\sqrt{\sum_{i<j} e_{ij}^2/(p(p+1)/2)}` per group, averaged with weights :math:`n_g/N`.
    Identification: marker (first item of each factor, loading 1); multi-group defaults of
    lavaan 0.6-14 (module docstring).

    Parameters
    ----------
    data : pandas.DataFrame
        Integer-coded answers (each distinct value a category, shared by the groups);
        respondents with a missing answer are dropped (listwise) with a warning.
    model : str or mapping
        lavaan measurement syntax (``"f =~ a + b + c"``) or factor -> items.
    ordered : True or sequence of str, default True
        The ordered items: True (all), or the list of every model item (mixed continuous and
        ordered items are not supported by this estimator).
    group : str, optional
        Column of group labels (groups in order of appearance, as lavaan's ``group.label``).
    group_equal : sequence of str
        Equal across groups: ``"thresholds"``, ``"loadings"``, ``"intercepts"`` (no effect for
        ordered items), ``"means"``, ``"lv.variances"``, ``"lv.covariances"``.
    group_partial : sequence of str
        Exceptions to ``group_equal``: ``"f =~ x"`` or ``"x | t2"``.
    parameterization : {"delta", "theta"}
    orthogonal : bool, default False
        Fix the factor covariances at 0.
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
        Bad data (see :func:`ordinal_sample_stats`), a bad model, unknown keywords, a model with
        more free parameters than sample statistics.

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
    facs = parse_measurement_model(model)
    items = [it for its in facs.values() for it in its]
    if not isinstance(estimator, str) or estimator.upper() not in ("WLSMV", "DWLS"):
        raise ValueError(f"`estimator` must be 'WLSMV' or 'DWLS' for ordered items, got {estimator!r}.")
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(f"`parameterization` must be one of {PARAMETERIZATIONS}, got {parameterization!r}."
                         f"{suggest_name(str(parameterization), PARAMETERIZATIONS)}")
    if not isinstance(orthogonal, (bool, np.bool_)):
        raise ValueError(f"`orthogonal` must be True or False, got {orthogonal!r}.")
    if isinstance(maxiter, bool) or not isinstance(maxiter, (int, np.integer)) or maxiter < 1:
        raise ValueError(f"`maxiter` must be a positive integer, got {maxiter!r}.")
    if ordered is not True:
        if ordered is None or ordered is False or isinstance(ordered, str) or not isinstance(ordered, Sequence):
            raise ValueError(f"`ordered` must be True or the list of the model's items, got {ordered!r}.")
        unknown = [o for o in ordered if o not in items]
        if unknown:
            raise ValueError(f"`ordered` names {unknown[0]!r}, which is not an observed variable of the model."
                             f"{suggest_name(str(unknown[0]), items)}")
        cont = [it for it in items if it not in ordered]
        if cont:
            raise ValueError(f"`ordered` leaves item(s) {cont} continuous; this estimator needs every model item "
                             "ordered (mixed continuous/ordered models are not supported).")
    ge = _check_group_equal(group_equal, group)
    gp = _check_group_partial(group_partial, facs)
    if orthogonal and len(facs) > 1:
        two = [f for f, its in facs.items() if len(its) < 3]
        if two:
            raise ValueError(f"`model`: factor {two[0]!r} has {len(facs[two[0]])} items in an orthogonal model: its "
                             "loading and variance are not separately identified. Give it at least 3 items or let "
                             "the factors correlate.")
    _check_items_frame(data, items, group)
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
        Ks = [len(ss.categories[it]) for it in items]
    G = len(labels)
    spec = _Spec(facs, Ks, G, ge, gp, parameterization, bool(orthogonal))
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

    # start values: thresholds from the (first) group's sample thresholds, loadings 1, variances .5
    x0 = np.zeros(spec.q)
    seen = np.zeros(spec.q, bool)
    start = np.cumsum([0] + spec.nth)
    for r, k in zip(spec.rows, spec.free_idx):
        if k < 0 or seen[k]:
            continue
        seen[k] = True
        kind = r["kind"]
        if kind == "tau":
            x0[k] = s_obs[r["group"]][start[r["a"]] + r["b"]]
        elif kind == "lambda" or kind == "scale":
            x0[k] = 1.0
        elif kind == "psi":
            x0[k] = 0.5 if r["a"] == r["b"] else 0.25
    if parameterization == "theta":
        for r, k in zip(spec.rows, spec.free_idx):
            if k >= 0 and r["kind"] == "tau":
                x0[k] *= math.sqrt(1.5)  # latent responses of variance ~1.5 at the start values

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
        "cfi": _sem_fit.cfi(T, df, Bchi, dfb), "tli": _sem_fit.tli(T, df, Bchi, dfb),
        "cfi.scaled": _sem_fit.cfi(Tss, df, Bss, dfb) if df > 0 else math.nan,
        "tli.scaled": _sem_fit.tli(Tss, df, Bss, dfb) if df > 0 else math.nan,
        "rmsea": _sem_fit.rmsea(T, df, N - G, groups=G),
        "rmsea.scaled": _sem_fit.rmsea(Tss, df, N - G, groups=G) if df > 0 else math.nan,
        "srmr": float(np.sum(fg * np.array(srmr_g))), "ntotal": N})

    params, implied, boundary = _param_table(spec, theta, se, labels, imp, ss)
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
                       _jac=Js, _w=w)


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


def _param_table(spec: _Spec, theta: np.ndarray, se: np.ndarray, labels: list, imp: list, ss: OrdinalSampleStats):
    """lavaan-ordered parameter rows per group, derived values included (se NaN)."""
    rows = []
    implied = {}
    boundary = []
    z = stats.norm.ppf(0.975)
    start = np.cumsum([0] + spec.nth)
    mats = spec.matrices(theta)
    free_of = {}
    for r, k in zip(spec.rows, spec.free_idx):
        free_of[(r["group"], r["kind"], r["a"], r["b"])] = k
    for g, lab in enumerate(labels):
        M = mats[g]
        S0 = M["L"] @ M["Psi"] @ M["L"].T
        if spec.param == "delta":
            d = M["scale"]
            thv = 1.0 / d ** 2 - np.diag(S0)
        else:
            thv = M["scale"]
            d = 1.0 / np.sqrt(np.diag(S0) + thv)
        var_star = np.diag(S0) + thv
        sdf = np.sqrt(np.diag(M["Psi"]))

        def row(lhs, op, rhs, kind, a, b, est, std):
            k = free_of.get((g, kind, a, b), -1)
            s = se[k] if k >= 0 else 0.0
            stat = est / s if k >= 0 and s > 0 else math.nan
            rows.append({"lhs": lhs, "op": op, "rhs": rhs, "group": g + 1, "group_label": lab, "label": "",
                         "free": int(k + 1) if k >= 0 else 0, "estimate": est, "se": s, "statistic": stat,
                         "pvalue": 2 * stats.norm.sf(abs(stat)) if np.isfinite(stat) else math.nan,
                         "ci_low": est - z * s, "ci_high": est + z * s, "std_all": std})

        for i, it in enumerate(spec.items):
            f = int(spec.fidx[i])
            lam = M["L"][i, f]
            row(spec.fnames[f], "=~", it, "lambda", i, f, lam, lam * sdf[f] / math.sqrt(var_star[i]))
        for i, it in enumerate(spec.items):
            for t in range(spec.nth[i]):
                tau = M["tau"][start[i] + t]
                row(it, "|", f"t{t + 1}", "tau", i, t, tau, (tau - (M["L"] @ M["alpha"])[i]) / math.sqrt(var_star[i]))
        for i, it in enumerate(spec.items):
            row(it, "~~", it, "scale" if spec.param == "theta" else "_derived", i, 0, thv[i], thv[i] / var_star[i])
            if thv[i] <= 0:
                boundary.append(it if lab is None else f"{it} [{lab}]")
        for a in range(spec.m):
            row(spec.fnames[a], "~~", spec.fnames[a], "psi", a, a, M["Psi"][a, a], 1.0)
        for a in range(spec.m):
            for b in range(a + 1, spec.m):
                row(spec.fnames[a], "~~", spec.fnames[b], "psi", b, a, M["Psi"][b, a],
                    M["Psi"][b, a] / (sdf[a] * sdf[b]))
        for i, it in enumerate(spec.items):
            row(it, "~*~", it, "scale" if spec.param == "delta" else "_derived", i, 0, d[i], 1.0)
        for i, it in enumerate(spec.items):
            row(it, "~1", "", "_nu", i, 0, 0.0, 0.0)
        for a in range(spec.m):
            row(spec.fnames[a], "~1", "", "alpha", a, 0, M["alpha"][a], M["alpha"][a] / sdf[a])
        nt = int(sum(spec.nth))
        implied[lab] = {"thresholds": pd.Series(imp[g][:nt], index=ss.thresholds[lab].index),
                        "cor": _cor_from(imp[g][nt:], spec)}
    out = pd.DataFrame(rows)
    term = (out["lhs"] + " " + out["op"] + " " + out["rhs"]).str.replace(" ~1 ", " ~1", regex=False).str.rstrip()
    out.insert(0, "term", term)
    cols = ["term", "estimate", "se", "statistic", "pvalue", "ci_low", "ci_high", "lhs", "op", "rhs", "group",
            "group_label", "label", "free", "std_all"]
    return out[cols], implied, boundary


def _cor_from(rho: np.ndarray, spec: _Spec) -> pd.DataFrame:
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
