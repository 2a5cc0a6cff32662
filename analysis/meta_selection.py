r"""Selection models for publication bias, as metafor's ``selmodel``.

:func:`selection_model` refits a random- (or fixed-) effects model from
:func:`analysis.meta.meta_analysis` by maximum likelihood under a model of how
studies were selected for publication by their one-sided p-value (Vevea &
Hedges, 1995; Iyengar & Greenhouse, 1988; Preston, Ashby & Smyth, 2004). With
:math:`y_i \sim N(x_i'\beta, v_i + \tau^2)` before selection and a selection
(weight) function :math:`w(p)`, the observed :math:`y_i` has the weighted density

.. math::

    f(y_i) = \frac{w(p_i)\, \phi(y_i; x_i'\beta, v_i + \tau^2)}{A_i}, \qquad
    A_i = \int w(p(y))\, \phi(y; x_i'\beta, v_i + \tau^2)\, dy ,

with :math:`p(y) = 1 - \Phi(y/\sqrt{v_i})` (``alternative="greater"``, metafor's
default), :math:`\Phi(y/\sqrt{v_i})` (``"less"``) or :math:`2(1 - \Phi(|y|/\sqrt{v_i}))`
(``"two.sided"``). Weight functions (``type``):

- ``"stepfun"`` (Vevea & Hedges, 1995): :math:`w(p) = \delta_j` for
  :math:`a_{j-1} < p \le a_j` with cut-points ``steps`` :math:`a_1 < \dots < a_J = 1`
  and :math:`\delta_1 = 1`; then :math:`A_i = \sum_j \delta_j P(a_{j-1} < p \le a_j)`
  in closed form.
- ``"halfnorm"``: :math:`w(p) = \exp(-\delta p^2)`; ``"negexp"``:
  :math:`w(p) = \exp(-\delta p)`; ``"power"``: :math:`w(p) = (1 - p)^\delta`
  (Preston et al., 2004; p-values kept in :math:`[10^{-5}, 1 - 10^{-5}]` for the
  power model as in metafor). With one ``steps`` value :math:`a`, :math:`w(p) = 1`
  for :math:`p \le a` and :math:`w(p)/w(a)` above. :math:`A_i` is computed by
  composite Gauss-Legendre quadrature on :math:`t = y/\sqrt{v_i}` over
  :math:`[-10, 10]` (the weight is constant beyond), with break points where the
  weight function has kinks.

The log-likelihood :math:`\sum_i \log f(y_i)` is maximised over
:math:`\beta`, :math:`\tau^2 \ge 0` and :math:`\delta \in [0, 100]` (metafor's
bounds and parametrisation: :math:`\log\tau^2` and a logistic map of
:math:`\delta`) with BFGS; standard errors come from the inverse of a
Richardson-extrapolated finite-difference Hessian in :math:`(\beta, \tau^2,
\delta)` (metafor uses numDeriv the same way). The likelihood-ratio test of
:math:`H_0`: no selection compares with the ML fit of the ordinary model
(df = number of estimated :math:`\delta`); the heterogeneity LRT refits with
:math:`\tau^2 = 0`.

Why written by hand: no maintained Python library fits selection models
(PyMARE 0.0.13 and statsmodels have none; the implementations are R's metafor
``selmodel`` and weightr ``weightfunct``). The code is checked against metafor
3.8.1 (``tests/oracles/meta_selection.R``) to a relative error of 1e-4 on the
estimates, standard errors, tau^2, deltas, log-likelihoods and LRTs.

References
----------
Vevea, J. L., & Hedges, L. V. (1995). A general linear model for estimating effect
    size in the presence of publication bias. *Psychometrika, 60*, 419-435.
Iyengar, S., & Greenhouse, J. B. (1988). Selection models and the file drawer
    problem. *Statistical Science, 3*, 109-117.
Preston, C., Ashby, D., & Smyth, R. (2004). Adjusting for publication bias:
    Modelling the selection process. *Journal of Evaluation in Clinical Practice,
    10*, 313-322.
Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd
from scipy import optimize, special, stats
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from analysis._checks import check_choice
from analysis.meta import MetaResult, _apa_num, _apa_p, _fit, _fmt, _fmt_p, _loglik, _span, _stars

__all__ = [
    "ALTERNATIVES",
    "SELECTION_TYPES",
    "SelectionModelResult",
    "selection_model",
]

SELECTION_TYPES = ("stepfun", "halfnorm", "negexp", "power")
ALTERNATIVES = ("greater", "less", "two.sided")
_DELTA_MIN, _DELTA_MAX = 0.0, 100.0
_T_MAX = 10.0  # quadrature range in t = y / sqrt(v); 1 - Phi(10) = 7.6e-24
_GL_X, _GL_W = np.polynomial.legendre.leggauss(20)
_EPS = np.finfo(float).eps
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


# ------------------------------------------------------------------ p-values, weights


def _pvalues(t: np.ndarray, alternative: str) -> np.ndarray:
    """One- or two-sided p-value of the standardised effect t = y / sqrt(v)."""
    if alternative == "greater":
        return special.ndtr(-t)
    if alternative == "less":
        return special.ndtr(t)
    return 2 * special.ndtr(-np.abs(t))


def _log_weight(p: np.ndarray, delta: float, type_: str, cut: float) -> np.ndarray:
    """log w(p) of the continuous weight functions, 0 for p <= cut (metafor's ``steps``)."""
    p = np.asarray(p, dtype=float)
    if type_ == "halfnorm":
        lw = -delta * (p * p - cut * cut)
    elif type_ == "negexp":
        lw = -delta * (p - cut)
    else:  # power
        lw = delta * (np.log1p(-p) - math.log1p(-cut))
    return np.where(p <= cut, 0.0, lw)


def _quad_nodes(alternative: str, cut: float, pval_min: float) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss-Legendre nodes and weights on [-T, T] in t, split at the kinks of w(p(t))."""
    br = {-_T_MAX, _T_MAX}
    kinks = [c for c in (cut, pval_min, 1 - pval_min) if 0 < c < 1]
    for c in kinks:
        if alternative == "greater":
            br.add(float(stats.norm.isf(c)))
        elif alternative == "less":
            br.add(float(stats.norm.ppf(c)))
        else:
            z = float(stats.norm.isf(c / 2))
            br.update((z, -z))
    br.add(0.0)
    pts = np.array(sorted(b for b in br if -_T_MAX <= b <= _T_MAX))
    nodes, weights = [], []
    for a, b in zip(pts[:-1], pts[1:]):
        m = max(1, int(math.ceil((b - a) / 1.0)))  # panels of width <= 1
        edges = np.linspace(a, b, m + 1)
        for lo, hi in zip(edges[:-1], edges[1:]):
            half = (hi - lo) / 2
            nodes.append(lo + half * (_GL_X + 1))
            weights.append(half * _GL_W)
    return np.concatenate(nodes), np.concatenate(weights)


# ------------------------------------------------------------------ the likelihood


@dataclass
class _Model:
    y: np.ndarray
    v: np.ndarray
    X: np.ndarray
    type_: str
    alternative: str
    steps: np.ndarray | None
    cut: float
    pval_min: float
    group: np.ndarray | None  # 0-based interval of each study's p-value (step function)
    pvals: np.ndarray
    nodes: np.ndarray | None = None
    qweights: np.ndarray | None = None
    log_w_nodes: Callable | None = None

    @property
    def n_delta(self) -> int:
        return 0 if self.steps is None or self.type_ != "stepfun" else len(self.steps)

    def _step_masses(self, mu: np.ndarray, s: np.ndarray) -> np.ndarray:
        """P(a_{j-1} < p <= a_j) for each study (rows) and interval (columns)."""
        sd = np.sqrt(self.v)
        a = self.steps
        J = a.shape[0]
        # F_j = P(p <= a_j) and G_j = 1 - F_j, for the inner cut-points a_1..a_{J-1}
        inner = a[:-1]
        if self.alternative == "greater":
            c = sd[:, None] * stats.norm.isf(inner)[None, :]
            F = special.ndtr((mu[:, None] - c) / s[:, None])
            G = special.ndtr((c - mu[:, None]) / s[:, None])
        elif self.alternative == "less":
            c = sd[:, None] * stats.norm.ppf(inner)[None, :]
            F = special.ndtr((c - mu[:, None]) / s[:, None])
            G = special.ndtr((mu[:, None] - c) / s[:, None])
        else:
            c = sd[:, None] * stats.norm.isf(inner / 2)[None, :]
            up = special.ndtr((mu[:, None] - c) / s[:, None])
            lo = special.ndtr((-c - mu[:, None]) / s[:, None])
            F = up + lo
            G = special.ndtr((c - mu[:, None]) / s[:, None]) - special.ndtr((-c - mu[:, None]) / s[:, None])
        out = np.empty((mu.shape[0], J))
        out[:, 0] = F[:, 0]
        for j in range(1, J - 1):
            out[:, j] = F[:, j] - F[:, j - 1]
        out[:, J - 1] = G[:, J - 2]
        return out

    def loglik(self, beta: np.ndarray, tau2: float, delta: np.ndarray) -> float:
        """Log-likelihood of the selection model at (beta, tau2, delta) (delta with delta_1 for steps)."""
        if tau2 < 10 * _EPS:
            tau2 = 0.0
        mu = self.X @ beta
        s = np.sqrt(self.v + tau2)
        r = (self.y - mu) / s
        log_dens = -0.5 * r * r - np.log(s) - 0.5 * math.log(2 * math.pi)
        if self.type_ == "stepfun":
            if np.any(delta <= 0):
                return -np.inf
            A = self._step_masses(mu, s) @ delta
            lw = np.log(delta[self.group])
        else:
            d = float(delta[0])
            sd = np.sqrt(self.v)
            t = self.nodes
            w_nodes = np.exp(self.log_w_nodes(d))  # (n,)
            zz = (sd[:, None] * t[None, :] - mu[:, None]) / s[:, None]
            dens = np.exp(-0.5 * zz * zz) * (_INV_SQRT_2PI * sd / s)[:, None]
            A = dens @ (self.qweights * w_nodes)
            # beyond |t| = T the p-value (and so the weight) is constant
            w_lo = math.exp(float(self._log_w_p(np.array([self._p_clamped(-_T_MAX - 1)]), d)[0]))
            w_hi = math.exp(float(self._log_w_p(np.array([self._p_clamped(_T_MAX + 1)]), d)[0]))
            A = A + w_lo * special.ndtr((-_T_MAX * sd - mu) / s) + w_hi * special.ndtr((mu - _T_MAX * sd) / s)
            lw = self._log_w_p(self.pvals, d)
        if np.any(~np.isfinite(A)) or np.any(A <= 0):
            return -np.inf
        return float(np.sum(lw + log_dens - np.log(A)))

    def _p_clamped(self, t: float) -> float:
        p = float(_pvalues(np.array([t]), self.alternative)[0])
        return min(max(p, self.pval_min), 1 - self.pval_min)

    def _log_w_p(self, p: np.ndarray, d: float) -> np.ndarray:
        return _log_weight(p, d, self.type_, self.cut)


def _hessian(f: Callable[[np.ndarray], float], x: np.ndarray, positive: np.ndarray, r: int = 6) -> np.ndarray:
    """Hessian of f at x by central differences with Richardson extrapolation.

    A first pass estimates each parameter's curvature scale s_i = 1/sqrt(f_ii); the
    steps start at h_i = 0.1 s_i (at most half of x_i for parameters that must stay
    positive: tau^2, step-function deltas), are halved r - 1 times, and the r
    estimates are extrapolated to h -> 0 (O(h^2) error per level). Steps tied to the
    curvature scale keep roundoff small whatever the size of x_i (steps
    proportional to |x_i|, as numDeriv's, fail for estimates near 0).
    """
    n = x.shape[0]
    f0 = f(x)
    scale = np.empty(n)
    for i in range(n):
        h = 1e-4 * max(abs(x[i]), 1e-2)
        if positive[i] and x[i] > 0:
            h = min(h, 0.5 * x[i])
        e = np.zeros(n)
        e[i] = h
        d2 = (f(x + e) - 2 * f0 + f(x - e)) / h**2
        scale[i] = 1 / math.sqrt(d2) if np.isfinite(d2) and d2 > 0 else 1e-2 * max(abs(x[i]), 1.0)
    h0 = 0.1 * scale
    h0 = np.where(positive & (x > 0), np.minimum(h0, 0.5 * np.abs(x)), h0)
    est = np.empty((r, n, n))
    for m in range(r):
        h = h0 / 2**m
        H = np.empty((n, n))
        for i in range(n):
            ei = np.zeros(n)
            ei[i] = h[i]
            H[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / h[i] ** 2
            for j in range(i):
                ej = np.zeros(n)
                ej[j] = h[j]
                H[i, j] = H[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (
                    4 * h[i] * h[j])
        est[m] = H
    for lev in range(1, r):
        fac = 4.0**lev
        est = (fac * est[1:] - est[:-1]) / (fac - 1)
    return est[0]


def _grad(f: Callable[[np.ndarray], float], x: np.ndarray) -> np.ndarray:
    """Central-difference gradient (step 1e-6 max(1, |x|))."""
    g = np.empty_like(x)
    for i in range(x.shape[0]):
        h = 1e-6 * max(1.0, abs(x[i]))
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


# ------------------------------------------------------------------ results


@dataclass
class SelectionModelResult:
    """Results of :func:`selection_model` (metafor's ``rma.uni.selmodel``).

    ``beta``/``vcov``/``coef_names`` are the adjusted coefficients (``estimate`` and
    friends are floats for the intercept-only model), ``tau2`` with ``se_tau2`` and
    a Wald interval (``tau2_ci``, truncated at 0), ``delta`` the selection
    parameters with ``delta_se``, ``delta_statistic`` (z for H0: delta = 1 for
    step functions, 0 otherwise), ``delta_pvalue``, ``delta_ci_low``/``high``
    (truncated at 0); ``delta_fixed`` marks delta_1 = 1 of a step function.
    ``lrt``/``lrt_df``/``lrt_pvalue`` test H0: no selection against the ordinary
    ML model (``loglik0``); ``lrt_tau2``/``lrt_tau2_pvalue`` test tau^2 = 0 under
    selection. ``interval_counts`` is the number of studies per p-value interval
    (step functions or a continuous model with a cut-point). ``converged`` is
    False when the optimiser failed; ``notes`` records that, a Hessian that
    cannot be inverted (NaN standard errors, with a ConvergenceWarning), deltas at
    their bounds and tau^2 at 0 (then without SE). ``hessian`` (a diagnostic) is
    that of the negative log-likelihood in (coefficients of the standardised
    moderators, tau^2, free deltas) for y / sqrt(median v), the scale the fit works on.
    """

    type: str
    alternative: str
    method: str
    level: float
    k: int
    n_studies = property(lambda self: self.k, doc="Number of studies (effect sizes), metafor's k.")
    p: int
    coef_names: list[str]
    beta: np.ndarray
    vcov: np.ndarray
    tau2: float
    se_tau2: float
    delta: np.ndarray
    delta_se: np.ndarray
    delta_fixed: np.ndarray
    h0_delta: float
    loglik: float
    loglik0: float
    lrt: float
    lrt_df: int
    lrt_pvalue: float
    lrt_tau2: float | None
    lrt_tau2_pvalue: float | None
    qm: float | None
    qm_df: int | None
    qm_pvalue: float | None
    steps: np.ndarray | None
    interval_counts: pd.DataFrame | None
    pvalues: np.ndarray = field(repr=False)
    converged: bool = True
    notes: list[str] = field(default_factory=list)
    has_intercept: bool = True
    hessian: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_studies(self) -> int:
        """Number of studies (k)."""
        return self.k

    # -- coefficients
    @property
    def _crit(self) -> float:
        return float(stats.norm.isf((1 - self.level) / 2))

    @property
    def _se_vec(self) -> np.ndarray:
        return np.sqrt(np.diag(self.vcov))

    def _pick(self, arr):
        return float(arr[0]) if self.p == 1 else np.asarray(arr)

    @property
    def estimate(self):
        """Adjusted pooled estimate (intercept-only) or the coefficients."""
        return self._pick(self.beta)

    @property
    def se(self):
        """Standard error(s) from the inverse Hessian."""
        return self._pick(self._se_vec)

    @property
    def statistic(self):
        """z statistic(s)."""
        return self._pick(self.beta / self._se_vec)

    @property
    def pvalue(self):
        """Two-sided p-value(s) of the z test(s)."""
        return self._pick(2 * stats.norm.sf(np.abs(self.beta / self._se_vec)))

    @property
    def ci_low(self):
        """Lower Wald bound(s)."""
        return self._pick(self.beta - self._crit * self._se_vec)

    @property
    def ci_high(self):
        """Upper Wald bound(s)."""
        return self._pick(self.beta + self._crit * self._se_vec)

    @property
    def tau(self) -> float:
        """Square root of tau^2."""
        return math.sqrt(self.tau2)

    @property
    def tau2_ci(self) -> tuple[float, float]:
        """Wald interval tau^2 +/- z se (lower bound truncated at 0), as metafor."""
        if math.isnan(self.se_tau2):
            return (float("nan"), float("nan"))
        lo = self.tau2 - self._crit * self.se_tau2
        return (max(0.0, lo), self.tau2 + self._crit * self.se_tau2)

    @property
    def delta_statistic(self) -> np.ndarray:
        """z = (delta - H0) / se (NaN for the fixed delta_1 of a step function)."""
        return (self.delta - self.h0_delta) / self.delta_se

    @property
    def delta_pvalue(self) -> np.ndarray:
        """Two-sided p-values of the delta z tests."""
        return 2 * stats.norm.sf(np.abs(self.delta_statistic))

    @property
    def delta_ci_low(self) -> np.ndarray:
        """Lower Wald bounds of delta, truncated at 0."""
        return np.maximum(0.0, self.delta - self._crit * self.delta_se)

    @property
    def delta_ci_high(self) -> np.ndarray:
        """Upper Wald bounds of delta."""
        return self.delta + self._crit * self.delta_se

    def _delta_names(self) -> list[str]:
        return ["delta"] if self.delta.shape[0] == 1 else [f"delta.{j + 1}" for j in range(self.delta.shape[0])]

    def to_frame(self) -> pd.DataFrame:
        """Tidy table: coefficients, tau2 (random effects) and deltas.

        Columns ``term, estimate, se, statistic, pvalue, ci_low, ci_high`` then
        ``component`` ("coefficient", "heterogeneity", "selection") and ``k`` (studies
        in the delta's p-value interval, step functions). tau^2 has no test (NaN
        statistic/p-value, as metafor); a fixed delta_1 = 1 has NaN se/statistic.
        """
        se = self._se_vec
        z = self.beta / se
        rows = []
        for j, n in enumerate(self.coef_names):
            rows.append({"term": n, "estimate": self.beta[j], "se": se[j], "statistic": z[j],
                         "pvalue": 2 * stats.norm.sf(abs(z[j])), "ci_low": self.beta[j] - self._crit * se[j],
                         "ci_high": self.beta[j] + self._crit * se[j], "component": "coefficient", "k": np.nan})
        if self.method != "FE":
            lo, hi = self.tau2_ci
            rows.append({"term": "tau2", "estimate": self.tau2, "se": self.se_tau2, "statistic": np.nan,
                         "pvalue": np.nan, "ci_low": lo, "ci_high": hi, "component": "heterogeneity", "k": np.nan})
        counts = None if self.interval_counts is None else self.interval_counts["k"].to_numpy()
        for j, n in enumerate(self._delta_names()):
            rows.append({"term": n, "estimate": self.delta[j], "se": self.delta_se[j],
                         "statistic": self.delta_statistic[j], "pvalue": self.delta_pvalue[j],
                         "ci_low": self.delta_ci_low[j], "ci_high": self.delta_ci_high[j], "component": "selection",
                         "k": float(counts[j]) if counts is not None and self.type == "stepfun" else np.nan})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python summary (JSON-serialisable)."""
        return {
            "type": self.type, "alternative": self.alternative, "method": self.method, "level": self.level,
            "k": self.k, "n_studies": self.k,
            "coefficients": self.to_frame().to_dict(orient="records"),
            "tau2": self.tau2, "se_tau2": self.se_tau2,
            "delta": self.delta.tolist(), "delta_se": self.delta_se.tolist(),
            "loglik": self.loglik, "loglik0": self.loglik0,
            "lrt": self.lrt, "lrt_df": self.lrt_df, "lrt_pvalue": self.lrt_pvalue,
            "lrt_tau2": self.lrt_tau2, "lrt_tau2_pvalue": self.lrt_tau2_pvalue,
            "qm": self.qm, "qm_df": self.qm_df, "qm_pvalue": self.qm_pvalue,
            "steps": None if self.steps is None else self.steps.tolist(),
            "interval_counts": None if self.interval_counts is None
            else dict(zip(self.interval_counts.index, self.interval_counts["k"].astype(int).tolist())),
            "converged": self.converged, "notes": list(self.notes),
        }

    @staticmethod
    def _table(header: list[str], rows: list[list[str]], names: list[str], stars: list[str]) -> list[str]:
        nw = max((len(n) for n in names), default=0)
        widths = [max(len(h), *(len(r[j]) for r in rows)) for j, h in enumerate(header)]
        pre = " " * nw + ("  " if nw else "")
        out = [pre + "  ".join(h.rjust(w) for h, w in zip(header, widths))]
        for n, r, s in zip(names, rows, stars):
            out.append(n.ljust(nw) + ("  " if nw else "") + "  ".join(c.rjust(w) for c, w in zip(r, widths))
                       + "  " + s)
        return out

    def summary(self) -> str:
        """Text laid out like metafor's ``print`` of a selection model."""
        mods = self.p > 1 or not self.has_intercept
        lines = [""]
        if self.method == "FE":
            lines.append(f"{'Fixed-Effects with Moderators Model' if mods else 'Fixed-Effects Model'} (k = {self.k})")
        else:
            lines.append(f"{'Mixed-Effects Model' if mods else 'Random-Effects Model'} (k = {self.k}; "
                         "tau^2 estimator: ML)")
        lines.append("")
        if self.method != "FE":
            what = "residual" if mods else "total"
            width = 56 if mods else 49  # metafor pads the labels to a common width
            lines.append(f"tau^2 (estimated amount of {what} heterogeneity):".ljust(width)
                         + f"{_fmt(self.tau2)} (SE = {_fmt(self.se_tau2)})")
            lines.append("tau (square root of estimated tau^2 value):".ljust(width) + _fmt(self.tau))
            lines.append("")
            lines.append("Test for Heterogeneity:" if not mods else "Test for Residual Heterogeneity:")
            lines.append(f"LRT(df = 1) = {_fmt(self.lrt_tau2)}, p-val {_pv_eq(self.lrt_tau2_pvalue)}")
            lines.append("")
        if mods and self.qm is not None:
            btt = list(range(1, self.p)) if self.has_intercept else list(range(self.p))
            lines.append(f"Test of Moderators (coefficient{'s' if len(btt) > 1 else ''} {_span(btt)}):")
            lines.append(f"QM(df = {self.qm_df}) = {_fmt(self.qm)}, p-val {_pv_eq(self.qm_pvalue)}")
            lines.append("")
        lines.append("Model Results:")
        lines.append("")
        se = self._se_vec
        z = self.beta / se
        pv = 2 * stats.norm.sf(np.abs(z))
        lo, hi = self.beta - self._crit * se, self.beta + self._crit * se
        rows = [[_fmt(b), _fmt(s), _fmt(zz), _fmt_p(pp), _fmt(lw), _fmt(hg)]
                for b, s, zz, pp, lw, hg in zip(self.beta, se, z, pv, lo, hi)]
        lines += self._table(["estimate", "se", "zval", "pval", "ci.lb", "ci.ub"], rows,
                             list(self.coef_names) if mods else [""] * self.p, [_stars(x) for x in pv])
        lines.append("")
        lines.append("Test for Selection Model Parameters:")
        lines.append(f"LRT(df = {self.lrt_df}) = {_fmt(self.lrt)}, p-val {_pv_eq(self.lrt_pvalue)}")
        lines.append("")
        lines.append("Selection Model Results:")
        lines.append("")
        rows, stars = [], []
        counts = self.interval_counts["k"].to_numpy() if self.interval_counts is not None else None
        for j in range(self.delta.shape[0]):
            if self.delta_fixed[j]:
                cells = [_fmt(self.delta[j])] + ["---"] * 5
                stars.append("")
            else:
                cells = [_fmt(self.delta[j]), _fmt(self.delta_se[j]), _fmt(self.delta_statistic[j]),
                         _fmt_p(self.delta_pvalue[j]), _fmt(self.delta_ci_low[j]), _fmt(self.delta_ci_high[j])]
                stars.append(_stars(self.delta_pvalue[j]))
            if self.type == "stepfun":
                cells = [str(int(counts[j]))] + cells
            rows.append(cells)
        header = ["estimate", "se", "zval", "pval", "ci.lb", "ci.ub"]
        if self.type == "stepfun":
            header = ["k"] + header
            names = list(self.interval_counts.index)
        else:
            names = [""]
        lines += self._table(header, rows, names, stars)
        lines.append("")
        lines.append("---")
        lines.append("Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1")
        if self.notes:
            lines.append("")
            lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def apa(self) -> str:
        """One-line APA-style report of the adjusted estimate and the test for selection."""
        what = {"stepfun": f"step-function selection model (Vevea & Hedges, 1995; p-value cut-points "
                           f"{', '.join(_apa_cut(a) for a in self.steps[:-1])})" if self.steps is not None else "",
                "halfnorm": "half-normal selection model", "negexp": "negative-exponential selection model",
                "power": "power selection model"}[self.type]
        lvl = int(round(self.level * 100))
        lrt = f"\u03c7\u00b2({self.lrt_df}) = {self.lrt:.2f}, {_apa_p(self.lrt_pvalue)}"
        if self.p == 1:
            return (f"A {what} gave an adjusted estimate of {_apa_num(self.estimate)}, {lvl}% CI "
                    f"[{_apa_num(self.ci_low)}, {_apa_num(self.ci_high)}], z = {_apa_num(self.statistic)}, "
                    f"{_apa_p(self.pvalue)}; likelihood-ratio test for selection {lrt}.")
        return (f"A {what} with {self.p - 1} moderator coefficient(s) (QM({self.qm_df}) = {self.qm:.2f}, "
                f"{_apa_p(self.qm_pvalue)}); likelihood-ratio test for selection {lrt}.")

    def __repr__(self) -> str:
        return self.summary()


def _pv_eq(p: float) -> str:
    """metafor's "p-val = 0.0244" / "p-val < .0001"."""
    s = _fmt_p(p)
    return s.replace("<", "< ") if s.startswith("<") else f"= {s}"


def _apa_cut(a: float) -> str:
    s = f"{a:g}"
    return s[1:] if s.startswith("0.") else s


# ------------------------------------------------------------------ fitting


def _interval_labels(steps: np.ndarray) -> list[str]:
    left = ["0"] + [f"{a:g}" for a in steps[:-1]]
    right = [f"{a:g}" for a in steps]
    wl = max(len(s) for s in left)
    return [f"{lft.ljust(wl)} < p <= {rgt}" for lft, rgt in zip(left, right)]


def _check_steps(steps: Any, type_: str) -> np.ndarray | None:
    if steps is None:
        if type_ == "stepfun":
            raise ValueError("`steps` is required for type='stepfun' (e.g. steps=[0.025] or [0.025, 0.1, 0.5, 1]).")
        return None
    if isinstance(steps, (str, bytes, dict)) or steps is True or steps is False:
        raise ValueError(f"`steps` must be a number or a sequence of p-value cut-points, got {steps.__class__.__name__}.")
    try:
        arr = np.atleast_1d(np.asarray(steps, dtype=float))
    except (TypeError, ValueError):
        raise ValueError(f"`steps` must be numeric p-value cut-points, got {steps!r}.") from None
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError("`steps` must be a non-empty 1-D sequence of p-value cut-points.")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(f"`steps` has missing or infinite values at position {int(np.flatnonzero(bad)[0])}.")
    bad = (arr <= 0) | (arr > 1)
    if bad.any():
        raise ValueError(f"`steps` must lie in (0, 1]; position {int(np.flatnonzero(bad)[0])} is "
                         f"{float(arr[bad][0])!r}.")
    arr = np.unique(arr)
    if arr.shape[0] == 1 and arr[0] == 1.0:
        raise ValueError("`steps` = [1] leaves a single p-value interval (0, 1], i.e. no selection to estimate; "
                         "give at least one cut-point below 1, e.g. steps=[0.025].")
    if arr[-1] != 1.0:
        arr = np.append(arr, 1.0)
    if type_ != "stepfun" and arr.shape[0] != 2:
        raise ValueError(f"type={type_!r} takes a single `steps` value (the p-value up to which w(p) = 1); "
                         f"got {arr.shape[0] - 1}.")
    return arr


def _scale_design(X: np.ndarray, has_int: bool) -> tuple[np.ndarray, np.ndarray]:
    """Standardise the non-dummy moderators (as metafor) for the optimiser.

    Returns X_s and M with beta = M beta_s.
    """
    k, p = X.shape
    M = np.eye(p)
    if not has_int or p == 1:
        return X, M
    Xs = X.copy()
    for j in range(1, p):
        col = X[:, j]
        if np.all(np.isin(col, (0.0, 1.0))):
            continue
        m, sdv = col.mean(), col.std(ddof=1)
        Xs[:, j] = (col - m) / sdv
        M[j, j] = 1 / sdv
        M[0, j] = -m / sdv
    return Xs, M


def selection_model(res: MetaResult, type: str = "stepfun", *, steps: Any = None,  # noqa: A002
                    alternative: str = "greater", maxiter: int = 10000) -> SelectionModelResult:
    r"""Fit a selection model to a fitted meta-analysis (metafor ``selmodel``).

    See the module docstring for the model. A random-effects fit with a tau^2
    estimator other than ML is refitted by ML first (as metafor does); a
    fixed-effect fit (``method="FE"``) keeps tau^2 = 0. Moderators of ``res``
    are kept (the adjusted meta-regression).

    Parameters
    ----------
    res : MetaResult
        From :func:`analysis.meta.meta_analysis` (any tau^2 estimator; ``test`` is
        ignored: selection models use z tests).
    type : {"stepfun", "halfnorm", "negexp", "power"}
        The weight function.
    steps : float or sequence of float, optional
        Step function: the p-value cut-points (1 is appended if missing), e.g.
        ``[0.025]`` (significant vs. not, one-sided) or ``[0.025, 0.1, 0.5, 1]``.
        Continuous types: one value below which w(p) = 1 (default 0).
    alternative : {"greater", "less", "two.sided"}
        Direction of the p-values that drive selection (metafor's default
        ``"greater"``: one-sided p for a positive effect).
    maxiter : int
        Iteration limit of the BFGS optimiser.

    Returns
    -------
    SelectionModelResult
        Adjusted ``estimate``/``se``/``ci_low``/``ci_high`` (or coefficients),
        ``tau2``, ``delta`` with standard errors, the LRT for selection
        (``lrt``, ``lrt_df``, ``lrt_pvalue``), the heterogeneity LRT, the number of
        studies per p-value interval (``interval_counts``), ``summary()``,
        ``to_frame()``, ``to_dict()``, ``apa()``.

    Raises
    ------
    ValueError
        For bad options, too few studies for the number of parameters, or a
        p-value interval that holds no study (named in the message; metafor
        refuses too, as the delta of an empty interval is not identified).

    References
    ----------
    Vevea, J. L., & Hedges, L. V. (1995). A general linear model for estimating
    effect size in the presence of publication bias. *Psychometrika, 60*, 419-435.
    Preston, C., Ashby, D., & Smyth, R. (2004). Adjusting for publication bias:
    Modelling the selection process. *Journal of Evaluation in Clinical Practice,
    10*, 313-322.

    Examples
    --------
    >>> from analysis.meta import meta_analysis
    >>> yi = [0.45, 0.31, 0.62, 0.05, 0.28, -0.10, 0.51, 0.22, 0.70, 0.15, 0.38, 0.02,
    ...       0.12, 0.55, -0.05, 0.33, 0.25, 0.41]
    >>> vi = [0.02, 0.03, 0.05, 0.04, 0.01, 0.06, 0.03, 0.02, 0.08, 0.05, 0.04, 0.03,
    ...       0.02, 0.06, 0.05, 0.01, 0.04, 0.03]
    >>> sel = selection_model(meta_analysis(yi, vi, method="ML"), "stepfun", steps=[0.025])
    >>> sel.interval_counts["k"].tolist()
    [8, 10]
    >>> sel.lrt_df, round(sel.estimate, 3)
    (1, 0.254)
    """
    if not isinstance(res, MetaResult):
        raise ValueError("`res` must be a MetaResult from analysis.meta.meta_analysis, got "
                         f"{res.__class__.__name__}.")
    type_ = check_choice("type", type, SELECTION_TYPES)
    alternative = check_choice("alternative", alternative, ALTERNATIVES)
    if isinstance(maxiter, bool) or not isinstance(maxiter, (int, np.integer)) or maxiter < 1:
        raise ValueError(f"`maxiter` must be a positive integer, got {maxiter!r}.")
    steps_arr = _check_steps(steps, type_)
    random = res.method != "FE"
    # work on y / c, v / c^2 (c = sqrt(median v)): the model is scale-equivariant, and the optimiser's
    # starting values and steps are then independent of the units of y
    c = math.sqrt(float(np.median(res.vi)))
    y, v, X = res.yi / c, res.vi / c**2, res.X
    k, p = X.shape
    n_free_delta = (steps_arr.shape[0] - 1) if type_ == "stepfun" else 1
    if k < p + int(random) + n_free_delta:
        raise ValueError(
            f"Number of studies (k = {k}) is too small to fit this selection model: it has {p} coefficient(s), "
            f"{int(random)} tau^2 and {n_free_delta} selection parameter(s).")
    pval_min = 1e-5 if type_ == "power" else 0.0
    pvals = _pvalues(y / np.sqrt(v), alternative)
    pvals = np.clip(pvals, pval_min, 1 - pval_min)
    # number of studies per interval; refuse empty intervals (their delta is not identified)
    counts = None
    group = None
    if steps_arr is not None:
        group = np.searchsorted(steps_arr, pvals, side="left")  # first j with p <= a_j
        n_j = np.bincount(group, minlength=steps_arr.shape[0])
        labels = _interval_labels(steps_arr)
        counts = pd.DataFrame({"k": n_j}, index=pd.Index(labels, name="interval"))
        empty = [" ".join(lab.split()) for lab, n in zip(labels, n_j) if n == 0]
        if empty:
            raise ValueError(
                f"`steps`: the p-value interval{'s' if len(empty) > 1 else ''} {'; '.join(empty)} "
                f"hold{'s' if len(empty) == 1 else ''} no study ({alternative} one-sided p-values"
                f"{'' if alternative != 'two.sided' else ', two-sided'}), so "
                f"{'its' if len(empty) == 1 else 'their'} selection weight cannot be estimated; merge the "
                "interval with a neighbour (change `steps`).")
    cut = float(steps_arr[0]) if (steps_arr is not None and type_ != "stepfun") else 0.0
    model = _Model(y=y, v=v, X=X, type_=type_, alternative=alternative, steps=steps_arr, cut=cut,
                   pval_min=pval_min, group=group, pvals=pvals)
    if type_ != "stepfun":
        t, wq = _quad_nodes(alternative, cut, pval_min)
        p_nodes = np.clip(_pvalues(t, alternative), pval_min, 1 - pval_min)
        model.nodes, model.qweights = t, wq
        model.log_w_nodes = lambda d: _log_weight(p_nodes, d, type_, cut)

    # starting values: the ML (or FE) fit
    start = _fit(y, v, X, res.coef_names, res.has_intercept, "ML" if random else "FE", "z", res.level,
                 compute_r2=False, warn_fe_knha=False)
    notes: list[str] = []
    log_c = k * math.log(c)  # log-likelihoods on the original scale: ll(y) = ll(y / c) - k log c
    ll0 = _loglik(start.tau2, X, y, v, reml=False) - log_c
    Xs, M = _scale_design(X, res.has_intercept)
    model.X = Xs
    beta0 = np.linalg.solve(M, start.beta)

    def unpack(x: np.ndarray, tau2_fixed: float | None):
        b = x[:p]
        pos = p
        if tau2_fixed is None:
            tau2 = math.exp(x[pos])
            pos += 1
        else:
            tau2 = tau2_fixed
        dfree = _DELTA_MIN + (_DELTA_MAX - _DELTA_MIN) / (1 + np.exp(-x[pos:]))
        delta = np.r_[1.0, dfree] if type_ == "stepfun" else dfree
        return b, tau2, delta

    def fit(tau2_fixed: float | None):
        x0 = [beta0]
        if tau2_fixed is None:
            x0.append([math.log(start.tau2 + 0.001)])
        x0.append(np.full(n_free_delta, math.log((1 - _DELTA_MIN) / (_DELTA_MAX - 1))))
        x0 = np.concatenate([np.asarray(a, dtype=float) for a in x0])

        def nll(x):
            val = -model.loglik(*unpack(x, tau2_fixed))
            return val if np.isfinite(val) else 1e300

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            opt = optimize.minimize(nll, x0, jac=lambda x: _grad(nll, x), method="BFGS",
                                    options={"gtol": 1e-8, "maxiter": maxiter})
            # BFGS often stops with "precision loss" at the optimum (the gradient is numerical): accept a
            # small gradient, otherwise restart from a Nelder-Mead solution
            if not (opt.success or np.max(np.abs(_grad(nll, opt.x))) < 1e-5):
                nm = optimize.minimize(nll, opt.x, method="Nelder-Mead",
                                       options={"xatol": 1e-8, "fatol": 1e-12, "maxfev": 2000 * x0.shape[0]})
                opt2 = optimize.minimize(nll, nm.x, jac=lambda x: _grad(nll, x), method="BFGS",
                                         options={"gtol": 1e-8, "maxiter": maxiter})
                if opt2.fun <= opt.fun:
                    opt = opt2
        g = _grad(nll, opt.x)
        ok = bool(np.isfinite(opt.fun) and opt.fun < 1e299 and np.max(np.abs(g)) < 1e-4)
        return opt.x, -opt.fun, ok

    x_hat, ll, ok = fit(None if random else 0.0)
    if not ok:
        notes.append("The optimiser did not converge; estimates are not reliable.")
        warnings.warn("selection_model: the optimiser did not converge; treat the estimates with caution.",
                      ConvergenceWarning, stacklevel=2)
    beta_s, tau2, delta = unpack(x_hat, None if random else 0.0)
    if tau2 < 10 * _EPS:
        tau2 = 0.0
    free = np.ones(delta.shape[0], bool)
    if type_ == "stepfun":
        free[0] = False
    dfree = delta[free]
    if np.any(dfree <= _DELTA_MIN + _EPS**0.25) or np.any(dfree >= _DELTA_MAX - 100 * _EPS**0.25):
        notes.append("One or more delta estimates are (almost) at their bound (0 or 100); treat the results "
                     "with caution.")
        warnings.warn("selection_model: one or more delta estimates are (almost) equal to their lower or upper "
                      "bound (0 or 100); treat the results with caution.", UserWarning, stacklevel=2)
    boundary = random and tau2 < 1e-8  # (y and v are in units of the median v here)
    if boundary:
        # metafor's log(tau^2) parametrisation cannot reach 0; at the boundary the numerical Hessian in
        # tau^2 is meaningless, so tau^2 is set to 0 and the other SEs are computed with tau^2 fixed there
        tau2 = 0.0
        ll = model.loglik(beta_s, 0.0, delta)
        notes.append("tau^2 is estimated at 0 (the boundary): it has no standard error or Wald interval; the "
                     "other standard errors are computed with tau^2 fixed at 0.")
    h_tau = random and not boundary

    # Hessian in (beta_s, tau2, free deltas) on the natural scale
    def nll_nat(theta):
        b = theta[:p]
        pos = p
        if h_tau:
            t2 = theta[pos]
            pos += 1
        else:
            t2 = 0.0
        d = np.r_[1.0, theta[pos:]] if type_ == "stepfun" else theta[pos:]
        return -model.loglik(b, t2, d)

    theta = np.concatenate([beta_s, [tau2] if h_tau else [], dfree])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        positive = np.r_[np.zeros(p, bool), [True] if h_tau else [], np.full(dfree.shape[0], type_ == "stepfun")]
        H = _hessian(nll_nat, theta, positive.astype(bool), r=4)
    vb = np.full((p, p), np.nan)
    se_tau2 = float("nan")
    delta_se = np.full(delta.shape[0], np.nan)
    converged = ok
    try:
        if not np.all(np.isfinite(H)):
            raise np.linalg.LinAlgError
        L = np.linalg.cholesky(H)
        iH = np.linalg.inv(L).T @ np.linalg.inv(L)
        vb_s = iH[:p, :p]
        vb = M @ vb_s @ M.T
        pos = p
        if h_tau:
            se_tau2 = math.sqrt(iH[pos, pos])
            pos += 1
        delta_se[free] = np.sqrt(np.diag(iH[pos:, pos:]))
    except np.linalg.LinAlgError:
        notes.append("The Hessian is not positive definite: standard errors, tests and intervals are not "
                     "available (NaN).")
        warnings.warn("selection_model: the Hessian could not be inverted; standard errors are NaN.",
                      ConvergenceWarning, stacklevel=2)
    beta = c * (M @ beta_s)
    vb = c**2 * vb
    ll = ll - log_c
    # heterogeneity LRT (tau^2 = 0 under the same selection model)
    lrt_tau2 = lrt_tau2_p = None
    if random:
        model.X = Xs
        _, ll_t0, ok0 = fit(0.0)
        lrt_tau2 = max(0.0, -2 * (ll_t0 - log_c - ll))
        lrt_tau2_p = float(stats.chi2.sf(lrt_tau2, 1))
        if not ok0:
            notes.append("The fit with tau^2 = 0 (heterogeneity LRT) did not converge.")
    if ll0 - ll > 1e-4:  # the model without selection is nested: the optimum cannot be below it
        converged = False
        notes.append(f"The maximised log-likelihood ({ll:.6g}) is below that of the model without selection "
                     f"({ll0:.6g}): the optimiser failed.")
        warnings.warn("selection_model: the fit is worse than the model without selection; the optimiser failed.",
                      ConvergenceWarning, stacklevel=2)
    lrt = max(0.0, -2 * (ll0 - ll))
    lrt_df = int(n_free_delta)
    qm = qm_df = qm_p = None
    if p > 1:
        btt = list(range(1, p)) if res.has_intercept else list(range(p))
        bb = beta[btt]
        try:
            qm = float(bb @ np.linalg.solve(vb[np.ix_(btt, btt)], bb))
            qm_p = float(stats.chi2.sf(qm, len(btt)))
        except np.linalg.LinAlgError:
            qm, qm_p = float("nan"), float("nan")
        qm_df = len(btt)
    return SelectionModelResult(
        type=type_, alternative=alternative, method="ML" if random else "FE", level=res.level, k=k, p=p,
        coef_names=list(res.coef_names), beta=beta, vcov=vb, tau2=float(c**2 * tau2), se_tau2=c**2 * se_tau2,
        delta=delta,
        delta_se=delta_se, delta_fixed=~free, h0_delta=1.0 if type_ == "stepfun" else 0.0, loglik=float(ll),
        loglik0=float(ll0), lrt=float(lrt), lrt_df=lrt_df, lrt_pvalue=float(stats.chi2.sf(lrt, lrt_df)),
        lrt_tau2=lrt_tau2, lrt_tau2_pvalue=lrt_tau2_p, qm=qm, qm_df=qm_df, qm_pvalue=qm_p, steps=steps_arr,
        interval_counts=counts, pvalues=pvals, converged=converged, notes=notes, has_intercept=res.has_intercept,
        hessian=H,
    )
