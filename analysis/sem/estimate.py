r"""Estimation: normal-theory maximum likelihood (complete data, lavaan's ``F_ML``) and FIML.

For groups :math:`g = 1..G` with :math:`n_g` rows, :math:`N = \sum n_g`, sample covariance
:math:`S_g` (divisor :math:`n_g`, lavaan's ``likelihood = "normal"``) and mean :math:`\bar y_g`,
the ML discrepancy minimised is

.. math::

    F(\theta) = \sum_g \frac{n_g}{N}\,\tfrac12\Big[\log|\Sigma_g| + \operatorname{tr}(S_g\Sigma_g^{-1})
        - \log|S_g| - p + (\bar y_g - \mu_g)^\top\Sigma_g^{-1}(\bar y_g - \mu_g)\Big]

(the mean term only with a mean structure), :math:`\chi^2 = 2NF(\hat\theta)`. The gradient is
:math:`\sum_g \frac{n_g}{N}\big[\tfrac12\Delta_{\Sigma g}^\top\operatorname{vec}(\Sigma_g^{-1} -
\Sigma_g^{-1}(S_g + dd^\top)\Sigma_g^{-1}) - \Delta_{\mu g}^\top\Sigma_g^{-1}d\big]` with the
analytic Jacobians :math:`\Delta` of :mod:`analysis.sem.model`; the expected information per
observation is :math:`\sum_g \frac{n_g}{N}\big[\tfrac12\Delta_{\Sigma g}^\top(\Sigma_g^{-1}\otimes
\Sigma_g^{-1})\Delta_{\Sigma g} + \Delta_{\mu g}^\top\Sigma_g^{-1}\Delta_{\mu g}\big]`, used for Fisher
scoring and, times N, inverted for the standard errors (lavaan's ``information = "expected"``).
The observed information is the derivative of the analytic gradient (central differences).
With ``missing = "ml"`` the casewise likelihood of :mod:`analysis.sem.missing` replaces F
(FIML, Arbuckle 1996).

References
----------
Arbuckle, J. L. (1996). Full information estimation in the presence of incomplete data. In
*Advanced structural equation modeling* (pp. 243--277). Erlbaum.
Bollen, K. A. (1989). *Structural Equations with Latent Variables*. Wiley.
Jöreskog, K. G. (1969). A general approach to confirmatory maximum likelihood factor analysis.
*Psychometrika, 34*(2), 183--202.
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software, 48*(2), 1--36.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from analysis.sem.model import SEMModel, check_theta

__all__ = ["GroupData", "ESTIMATORS", "register_estimator", "start_values", "fit_ml", "Objective"]

_LOG2PI = math.log(2 * math.pi)


@dataclass
class GroupData:
    """Data of one group: raw rows (NaN allowed under FIML) and the complete-data moments."""

    X: np.ndarray
    label: object = None
    missing: str = "listwise"
    n: int = field(init=False)
    S: np.ndarray = field(init=False)
    ybar: np.ndarray = field(init=False)
    pat: object = field(init=False, default=None)
    h1_loglik: float = field(init=False, default=math.nan)
    h1_mu: np.ndarray = field(init=False, default=None)
    h1_Sigma: np.ndarray = field(init=False, default=None)
    h1_converged: bool = field(init=False, default=True)

    def __post_init__(self):
        X = np.asarray(self.X, dtype=float)
        self.X = X
        self.n = X.shape[0]
        p = X.shape[1]
        if self.missing == "ml" and np.isnan(X).any():
            from analysis.sem import missing as _miss
            self.pat = _miss.Patterns(X)
            mu, Sig, ll, conv = _miss.em_saturated(self.pat)
            self.h1_mu, self.h1_Sigma, self.h1_loglik, self.h1_converged = mu, Sig, float(ll), bool(conv)
            self.ybar, self.S = mu, Sig
        else:
            self.ybar = X.mean(axis=0)
            D = X - self.ybar
            self.S = D.T @ D / self.n
            sign, logdet = np.linalg.slogdet(self.S)
            self.h1_mu, self.h1_Sigma = self.ybar, self.S
            self.h1_loglik = (-0.5 * self.n * (p * _LOG2PI + logdet + p)) if sign > 0 else math.nan


class Objective:
    """``f(theta) = -loglik(theta) / N`` (up to a constant), its analytic gradient and information.

    For complete data this is lavaan's ``F_ML / 2`` plus a constant; under FIML the casewise
    log-likelihood. ``value_grad`` returns ``(f, grad)`` with ``f = inf`` where some
    :math:`\\Sigma_g` is not positive definite.
    """

    def __init__(self, model: SEMModel, data: list[GroupData]):
        self.model, self.data = model, data
        self.N = float(sum(d.n for d in data))
        self.w = np.array([d.n / self.N for d in data])
        self.ms = model.meanstructure

    def loglik(self, theta) -> float:
        """The log-likelihood (sum over groups)."""
        f, _ = self.value_grad(theta, grad=False)
        return -f * self.N

    def value_grad(self, theta, grad: bool = True):
        m = self.model
        imp = m.implied(theta)
        jac = m.jacobian(theta) if grad else [None] * len(imp)
        f = 0.0
        g = np.zeros(m.n_free)
        for d, (mu, Sig), J in zip(self.data, imp, jac):
            if d.pat is not None:
                from analysis.sem import missing as _miss
                if grad:
                    ll, gmu, gS = _miss.loglik_grad(d.pat, mu, Sig)
                else:
                    ll, gmu, gS = _miss.loglik(d.pat, mu, Sig), None, None
                if not np.isfinite(ll):
                    return math.inf, g
                f -= ll / self.N
                if grad:
                    g -= (gmu @ J[0] + gS.ravel(order="F") @ J[1]) / self.N
                continue
            try:
                L = np.linalg.cholesky(Sig)
            except np.linalg.LinAlgError:
                return math.inf, g
            logdet = 2 * np.sum(np.log(np.diag(L)))
            A = np.linalg.inv(Sig)
            T = d.S
            r = d.ybar - mu
            if self.ms:
                T = T + np.outer(r, r)
            p = len(mu)
            f += d.n / self.N * 0.5 * (p * _LOG2PI + logdet + np.sum(A * T))
            if grad:
                W = A - A @ T @ A
                gg = 0.5 * W.ravel(order="F") @ J[1]
                if self.ms:
                    gg -= (A @ r) @ J[0]
                g += d.n / self.N * gg
        return float(f), g

    def expected_information(self, theta) -> np.ndarray:
        """Expected information per observation (times N: the total information)."""
        m = self.model
        info = np.zeros((m.n_free, m.n_free))
        for d, (mu, Sig), (dmu, dS) in zip(self.data, m.implied(theta), m.jacobian(theta)):
            p = len(mu)
            if d.pat is not None:
                from analysis.sem import missing as _miss
                M = _miss.pattern_information(d.pat, mu, Sig)
                Jf = np.vstack([dmu, dS])
                info += Jf.T @ M @ Jf / self.N
                continue
            A = np.linalg.inv(Sig)
            Dq = dS.T.reshape(-1, p, p)          # Dq[k] = dSigma/dtheta_k (symmetric)
            ADA = A @ Dq @ A
            Ig = 0.5 * ADA.reshape(len(Dq), -1) @ dS
            if self.ms:
                Ig = Ig + dmu.T @ A @ dmu
            info += d.n / self.N * Ig
        return (info + info.T) / 2

    def observed_information(self, theta, h: float = 1e-5) -> np.ndarray:
        """Hessian of ``f`` (per observation) by central differences of the analytic gradient."""
        q = self.model.n_free
        H = np.zeros((q, q))
        theta = np.asarray(theta, dtype=float)
        for k in range(q):
            e = np.zeros(q)
            step = h * max(1.0, abs(theta[k]))
            e[k] = step
            H[:, k] = (self.value_grad(theta + e)[1] - self.value_grad(theta - e)[1]) / (2 * step)
        return (H + H.T) / 2


def start_values(model: SEMModel, data: list[GroupData]) -> np.ndarray:
    """Starting values in the spirit of lavaan's ``start = "simple"``.

    Free loadings and regressions start at 1 and 0, factor variances at 0.05, residual
    variances at half the observed variance, covariances at 0, intercepts at the sample means,
    thresholds at 0; a user's ``start()`` wins. Loadings and factor variances are then refined by
    covariance ratios (:func:`_factor_starts`).

    Examples
    --------
    >>> from analysis.sem.syntax import parameter_table
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 1)) @ [[1.0, 0.8, 0.6]] + rng.normal(size=(100, 3))
    >>> m = SEMModel(parameter_table("f =~ x1 + x2 + x3"), ["x1", "x2", "x3"])
    >>> start_values(m, [GroupData(X)]).shape
    (6,)
    """
    if not isinstance(model, SEMModel):
        raise ValueError(f"model must be an analysis.sem.model.SEMModel, got {type(model).__name__}.")
    if not isinstance(data, list) or not data or not all(isinstance(d, GroupData) for d in data):
        raise ValueError("data must be a non-empty list of GroupData (one per group).")
    if len(data) != len(model.groups):
        raise ValueError(f"data has {len(data)} group(s) but the model has {len(model.groups)}.")
    pt = model.partable
    q = model.n_free
    theta = np.full(q, np.nan)
    ov = model.ov_names
    oi = {v: k for k, v in enumerate(ov)}
    for r, s in enumerate(pt.itertuples(index=False)):
        k = int(s.free) - 1
        if k < 0 or not np.isnan(theta[k]):
            continue
        d = data[min(int(s.group), len(data)) - 1]
        if not np.isnan(s.start):
            theta[k] = s.start
        elif s.op == "=~":
            theta[k] = 1.0
        elif s.op == "~":
            theta[k] = 0.0
        elif s.op == "~~":
            if s.lhs != s.rhs:
                theta[k] = 0.0
            elif s.lhs in oi:
                theta[k] = 0.5 * d.S[oi[s.lhs], oi[s.lhs]]
            else:
                theta[k] = 0.05
        elif s.op == "~1":
            theta[k] = d.ybar[oi[s.lhs]] if s.lhs in oi else 0.0
        elif s.op == "|":
            theta[k] = 0.0
        else:
            theta[k] = 0.0
    _factor_starts(model, data, theta)
    return np.nan_to_num(theta)


def _factor_starts(model: SEMModel, data: list[GroupData], theta: np.ndarray) -> None:
    """Loadings and factor variances from covariance ratios (in the spirit of FABIN, Hägglund 1982).

    For a factor with marker m and indicator j, ``lambda_j = median_k cov(j, k) / cov(m, k)`` and
    ``psi = median_j cov(m, j) / lambda_j`` (shared among the factors the marker loads on);
    with ``std_lv`` the triad rule ``lambda_j = sqrt(cov(j,k) cov(j,l) / cov(k,l))``.
    User ``start()`` values are kept.
    """
    pt = model.partable
    oi = {v: k for k, v in enumerate(model.ov_names)}
    dummy = set(model.dummy)
    recs = pt[["lhs", "op", "rhs", "group", "free", "ustart", "start"]].to_dict("records")
    n_fac_on: dict[str, int] = {}
    for r in recs:
        if r["op"] == "=~" and r["rhs"] in oi and r["group"] == 1:
            n_fac_on[r["rhs"]] = n_fac_on.get(r["rhs"], 0) + 1
    for g, d in enumerate(data, start=1):
        S = d.S
        sub = [r for r in recs if r["group"] == g]
        for f in model.lv_names:
            rows = [r for r in sub if r["op"] == "=~" and r["lhs"] == f]
            ind = [r for r in rows if r["rhs"] in oi and r["rhs"] not in dummy]
            if len(ind) < 3 or len(ind) != len(rows):
                continue
            idx = [oi[r["rhs"]] for r in ind]
            marker = [k for k, r in enumerate(ind) if r["free"] == 0 and r["ustart"] == 1.0]
            lam = np.ones(len(ind))
            psi = None
            if marker:
                mk = marker[0]
                m = idx[mk]
                for a in range(len(ind)):
                    if a == mk:
                        continue
                    ratios = [S[idx[a], idx[b]] / S[m, idx[b]] for b in range(len(ind))
                              if b not in (a, mk) and abs(S[m, idx[b]]) > 1e-12 * S[m, m]]
                    if ratios:
                        lam[a] = float(np.clip(np.median(ratios), -5, 5))
                vals = [S[m, idx[a]] / lam[a] for a in range(len(ind)) if a != mk and abs(lam[a]) > 1e-3]
                if vals:
                    psi = max(float(np.median(vals)) / n_fac_on.get(ind[mk]["rhs"], 1), 0.05 * S[m, m])
            else:
                for a in range(len(ind)):
                    tri = []
                    for b in range(len(ind)):
                        for c in range(b + 1, len(ind)):
                            if a in (b, c) or abs(S[idx[b], idx[c]]) < 1e-12 * math.sqrt(S[idx[b], idx[b]] * S[idx[c], idx[c]]):
                                continue
                            tri.append(S[idx[a], idx[b]] * S[idx[a], idx[c]] / S[idx[b], idx[c]])
                    if tri:
                        lam[a] = math.sqrt(max(float(np.median(tri)), 0.01 * S[idx[a], idx[a]])
                                           / n_fac_on.get(ind[a]["rhs"], 1))
            for a, r in enumerate(ind):
                k = int(r["free"]) - 1
                if k >= 0 and np.isnan(r["start"]):
                    theta[k] = lam[a]
            if psi is not None:
                for r in sub:
                    if r["op"] == "~~" and r["lhs"] == f and r["rhs"] == f:
                        k = int(r["free"]) - 1
                        if k >= 0 and np.isnan(r["start"]):
                            theta[k] = psi


def fit_ml(obj: Objective, theta0: np.ndarray, *, tol: float = 1e-10, maxiter: int = 500) -> dict:
    """Minimise the ML objective by Fisher scoring with a backtracking line search.

    Falls back on scipy's L-BFGS-B (analytic gradient) when scoring fails. Each step is
    :math:`\\theta_{k+1} = \\theta_k - t\\,\\mathcal I(\\theta_k)^{-1}\\nabla F(\\theta_k)`
    with the expected information :math:`\\mathcal I` and t halved until F decreases (Armijo).

    Returns
    -------
    dict
        ``theta``, ``f``, ``iterations``, ``converged``, ``grad_max`` and a ``message``.

    Examples
    --------
    >>> from analysis.sem.syntax import parameter_table
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 1)) @ [[1.0, 0.8, 0.6]] + rng.normal(size=(200, 3))
    >>> m = SEMModel(parameter_table("f =~ x1 + x2 + x3"), ["x1", "x2", "x3"])
    >>> d = [GroupData(X)]
    >>> fit_ml(Objective(m, d), start_values(m, d))["converged"]
    True
    """
    if not isinstance(obj, Objective):
        raise ValueError(f"obj must be an analysis.sem.estimate.Objective, got {type(obj).__name__}.")
    theta = check_theta(obj.model, theta0, "theta0").copy()
    if not (isinstance(tol, float) and tol > 0):
        raise ValueError(f"tol must be a positive number, got {tol!r}.")
    if not (isinstance(maxiter, (int, np.integer)) and maxiter >= 1):
        raise ValueError(f"maxiter must be a positive integer, got {maxiter!r}.")
    f, g = obj.value_grad(theta)
    if not np.isfinite(f):
        # shrink the covariances until the start is admissible
        for _ in range(30):
            theta = _shrink(obj.model, theta)
            f, g = obj.value_grad(theta)
            if np.isfinite(f):
                break
    it = 0
    converged = False
    msg = ""
    for it in range(1, maxiter + 1):
        if not np.isfinite(f):
            msg = "the starting values give a non-positive-definite implied covariance matrix"
            break
        info = obj.expected_information(theta)
        step = -_solve_scaled(info, g)
        slope = float(g @ step)
        if slope > 0:
            step, slope = -g, -float(g @ g)
        elif -slope < 1e-22:  # Newton decrement (scale-free): at the optimum
            converged = True
            break
        t = 1.0
        while True:
            fn, gn = obj.value_grad(theta + t * step)
            if np.isfinite(fn) and fn <= f + 1e-4 * t * slope:
                break
            t /= 2
            if t < 1e-10:
                break
        if t < 1e-10:
            msg = "line search failed"
            break
        theta = theta + t * step
        df_ = f - fn
        f, g = fn, gn
        rel_step = np.max(np.abs(t * step) / np.maximum(np.abs(theta), 1e-3 * _scale(theta)))
        if abs(df_) < tol * max(1.0, abs(f)) and rel_step < 1e-8:
            converged = True
            break
    if not converged:
        from scipy import optimize
        res = optimize.minimize(lambda th: obj.value_grad(th), theta, jac=True, method="L-BFGS-B",
                                options={"maxiter": 20000, "ftol": 1e-15, "gtol": 1e-10})
        if np.isfinite(res.fun) and res.fun <= f + 1e-12:
            theta, f = res.x, float(res.fun)
            g = obj.value_grad(theta)[1]
        try:
            dec = float(g @ _solve_scaled(obj.expected_information(theta), g))
        except np.linalg.LinAlgError:
            dec = math.inf
        converged = bool(np.isfinite(f) and dec < 1e-12)
        msg = msg or res.message
        it += int(res.nit)
    return {"theta": theta, "f": f, "iterations": it, "converged": converged,
            "grad_max": float(np.max(np.abs(g))) if len(g) else 0.0, "message": str(msg)}


def _solve_scaled(info: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``info^{-1} g`` after scaling info to unit diagonal (parameters on very different scales)."""
    d = np.sqrt(np.abs(np.diag(info)))
    d[d == 0] = 1.0
    R = info / np.outer(d, d)
    try:
        y = np.linalg.solve(R + 1e-12 * np.eye(len(g)), g / d)
    except np.linalg.LinAlgError:
        y = np.linalg.lstsq(R, g / d, rcond=None)[0]
    return y / d


def _scale(theta: np.ndarray) -> float:
    return float(np.max(np.abs(theta))) if len(theta) else 1.0


def _shrink(model: SEMModel, theta: np.ndarray) -> np.ndarray:
    out = theta.copy()
    pt = model.partable
    for s in pt.itertuples(index=False):
        k = int(s.free) - 1
        if k >= 0 and ((s.op == "~~" and s.lhs != s.rhs) or s.op in ("~", "=~")):
            out[k] *= 0.5
    return out


#: estimator name -> callable(obj, theta0, keyword arguments) -> dict as fit_ml; MLR and WLSMV are registered
#: by analysis.sem.robust and analysis.sem.ordinal (hook points).
ESTIMATORS: dict[str, Callable] = {"ML": fit_ml}


def register_estimator(name: str, func: Callable) -> None:
    """Register an estimator under `name` (used by ``sem(..., estimator=name)``).

    The callable is called as ``func(obj, theta0, *, model, data, partable, ordered, raw, keep, group)``
    (``obj`` the :class:`Objective`, ``theta0`` the start) and returns a dict like :func:`fit_ml`'s,
    optionally with ``vcov`` (covariance of the free parameters) and ``fit`` (fit measures, lavaan
    names) which then replace the ML ones.

    Examples
    --------
    >>> register_estimator("ML", fit_ml)
    >>> sorted(ESTIMATORS)[:1]
    ['ML']
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"name must be a non-empty string, got {name!r}.")
    if not callable(func):
        raise ValueError(f"func must be callable, got {type(func).__name__}.")
    ESTIMATORS[name.upper()] = func
