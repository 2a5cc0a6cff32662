r"""Multivariate / multilevel meta-analysis with a known sampling covariance (metafor ``rma.mv``).

Model (Konstantopoulos, 2011; Pustejovsky & Tipton, 2022):

.. math:: y = X\beta + \sum_{l=1}^{L} Z_l u_l + e,\quad u_l \sim N(0, \sigma^2_l I),\quad
          e \sim N(0, V),

where V is the known (block-diagonal) sampling covariance matrix, e.g. from
:func:`analysis.meta_dependent.vcalc`, and :math:`Z_l` maps each effect to its unit at
nesting level l (level 1 = the outermost grouping, e.g. study; level 2 = effect within
study, ...). This is metafor's ``rma.mv(yi, V, random = ~ 1 | study/es_id, mods)``.

Written by hand: statsmodels' MixedLM cannot fix the residual covariance at a known V, and
no maintained Python library fits this model. The marginal covariance
:math:`M = V + \sum_l \sigma^2_l Z_l Z_l'` is block-diagonal (blocks = connected groups of
effects linked by V or by the outermost grouping); blocks of equal size are stacked and
inverted together with numpy, so one likelihood evaluation costs
:math:`O(\sum_b n_b^3)`. The REML (or ML) log-likelihood is maximised by Newton-Raphson on
its analytic score and observed information (Fisher scoring when the observed information
is not positive definite), with step halving and components held at 0 when the score
points below the boundary. Profile-likelihood CIs of the variance components solve
:math:`2(\ell_{max} - \ell_p(\sigma^2_l)) = \chi^2_{1;level}` with Brent's method.

Checked against metafor 3.8.1 (``tests/oracles/meta_dependent.R``, ``tests/test_meta_mv.py``).

References
----------
Konstantopoulos, S. (2011). Fixed effects and variance components estimation in
    three-level meta-analysis. *Research Synthesis Methods, 2*, 61-76.
Pustejovsky, J. E., & Tipton, E. (2022). Meta-analysis with robust variance estimation:
    Expanding the range of working models. *Prevention Science, 23*, 425-438.
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
from scipy import optimize, stats
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from analysis._checks import (
    as_float_array,
    check_choice,
    check_columns,
    check_level,
    check_na_action,
    describe_labels,
)
from analysis.meta import Prediction, _apa_num, _apa_p, _design, _fmt, _fmt_p, _pv_eq, _stars, _transform

__all__ = ["MVResult", "rma_mv", "MV_METHODS"]

#: Estimators of the variance components.
MV_METHODS = ("REML", "ML")


# ----------------------------------------------------------------------------- algebra


class _Batch:
    """Blocks of one size n stacked: rows idx (nb, n), V, X, y and the level indicators G."""

    def __init__(self, idx, V, X, y, G, codes):
        self.idx, self.V, self.X, self.y, self.G, self.codes = idx, V, X, y, G, codes


class _Evaluator:
    """REML/ML log-likelihood, score and information of the model for given sigma^2."""

    def __init__(self, y: np.ndarray, X: np.ndarray, Vblocks: list, codes: np.ndarray, reml: bool):
        # Vblocks: list of (row index array, dense block); codes: (L, k) group codes per level
        self.y, self.X, self.reml = y, X, reml
        self.k, self.p = X.shape
        self.L = codes.shape[0]
        self.codes = codes
        by_size: dict[int, list] = {}
        for idx, B in Vblocks:
            by_size.setdefault(idx.size, []).append((idx, B))
        self.batches = []
        for n, items in sorted(by_size.items()):
            idx = np.stack([i for i, _ in items])
            Vb = np.stack([B for _, B in items])
            cb = codes[:, idx]  # (L, nb, n)
            G = (cb[:, :, :, None] == cb[:, :, None, :]).astype(float)
            self.batches.append(_Batch(idx, Vb, X[idx], y[idx], G, cb))
        self.logdetXtX = float(np.linalg.slogdet(X.T @ X)[1])

    def evaluate(self, s: np.ndarray, order: int = 0) -> dict:
        p, L = self.p, self.L
        XtViX = np.zeros((p, p))
        XtViy = np.zeros(p)
        logdet = 0.0
        cache = []
        for b in self.batches:
            Mb = b.V + np.einsum("l,lbij->bij", s, b.G)
            Lc = np.linalg.cholesky(Mb)
            logdet += 2.0 * float(np.sum(np.log(np.diagonal(Lc, axis1=1, axis2=2))))
            Vi = np.linalg.inv(Mb)
            Vi = 0.5 * (Vi + np.swapaxes(Vi, 1, 2))
            ViX = Vi @ b.X
            Viy = np.einsum("bij,bj->bi", Vi, b.y)
            XtViX += np.einsum("bip,biq->pq", b.X, ViX)
            XtViy += np.einsum("bip,bi->p", b.X, Viy)
            cache.append((Vi, ViX, Viy))
        XtViX = 0.5 * (XtViX + XtViX.T)
        M = np.linalg.inv(XtViX)
        beta = M @ XtViy
        quad = 0.0
        out: dict[str, Any] = {"beta": beta, "M": M, "XtViX": XtViX, "logdet": logdet}
        score = np.zeros(L)
        obs = np.zeros((L, L))
        exp_ = np.zeros((L, L))
        trViG = np.zeros(L)
        K = np.zeros((L, p, p))
        uGu = np.zeros(L)
        w = np.zeros((L, p))
        trViGViG = np.zeros((L, L))
        T = np.zeros((L, L, p, p))
        GuViGu = np.zeros((L, L))
        us = []
        for b, (Vi, ViX, Viy) in zip(self.batches, cache):
            u = Viy - ViX @ beta
            r = b.y - b.X @ beta
            quad += float(np.sum(r * u))
            us.append(u)
            if order >= 1:
                Gu = np.einsum("lbij,bj->lbi", b.G, u)
                trViG += np.einsum("bij,lbij->l", Vi, b.G)
                GViX = np.einsum("lbij,bjp->lbip", b.G, ViX)
                K += np.einsum("bip,lbiq->lpq", ViX, GViX)
                uGu += np.einsum("bi,lbi->l", u, Gu)
                w += np.einsum("bip,lbi->lp", ViX, Gu)
            if order >= 2:
                ViG = np.einsum("bij,lbjk->lbik", Vi, b.G)
                trViGViG += np.einsum("lbij,mbji->lm", ViG, ViG)
                T += np.einsum("lbip,bij,mbjq->lmpq", GViX, Vi, GViX, optimize=True)
                GuViGu += np.einsum("lbi,bij,mbj->lm", Gu, Vi, Gu, optimize=True)
        out["quad"] = quad
        out["u"] = us
        out["cache"] = cache
        k, pp = self.k, self.p
        if self.reml:
            ll = -0.5 * ((k - pp) * math.log(2 * math.pi) - self.logdetXtX + logdet
                         + float(np.linalg.slogdet(XtViX)[1]) + quad)
        else:
            ll = -0.5 * (k * math.log(2 * math.pi) + logdet + quad)
        out["ll"] = ll
        if order >= 1:
            trP = trViG - (np.einsum("pq,lqp->l", M, K) if self.reml else 0.0)
            score = -0.5 * trP + 0.5 * uGu
            out["score"] = score
        if order >= 2:
            tr2 = trViGViG.copy()
            if self.reml:
                MK = np.einsum("pq,lqr->lpr", M, K)
                tr2 = tr2 - 2 * np.einsum("pq,lmqp->lm", M, T) + np.einsum("lpq,mqp->lm", MK, MK)
            yPGPGPy = GuViGu - np.einsum("lp,pq,mq->lm", w, M, w)
            exp_ = 0.5 * tr2
            obs = yPGPGPy - 0.5 * tr2
            out["obs_info"] = 0.5 * (obs + obs.T)
            out["exp_info"] = 0.5 * (exp_ + exp_.T)
        return out


def _maximise(ev: _Evaluator, s0: np.ndarray, free: np.ndarray, maxiter: int, tol: float = 1e-11):
    """Newton / Fisher scoring with step halving on sigma^2 >= 0; returns (s, info, converged, iterations)."""
    s = np.where(free, np.maximum(s0, 0.0), s0).astype(float)
    cur = ev.evaluate(s, 2)
    scale = max(float(np.var(ev.y)), float(np.mean(np.abs(ev.y))) ** 2, 1e-300)
    for it in range(1, maxiter + 1):
        g = cur["score"]
        act = free & ~((s <= 0) & (g <= 0))
        if not act.any():
            return s, cur, True, it
        ia = np.flatnonzero(act)
        A = cur["obs_info"][np.ix_(ia, ia)]
        try:
            np.linalg.cholesky(A)
            step = np.linalg.solve(A, g[ia])
        except np.linalg.LinAlgError:
            step = np.linalg.solve(cur["exp_info"][np.ix_(ia, ia)], g[ia])
        t = 1.0
        while True:
            new = s.copy()
            new[ia] = np.maximum(s[ia] + t * step, 0.0)
            nxt = ev.evaluate(new, 2)
            if nxt["ll"] >= cur["ll"] - 1e-13 * max(1.0, abs(cur["ll"])):
                break
            t /= 2
            if t < 1e-12:
                return s, cur, bool(np.max(np.abs(g[ia]) * np.maximum(s[ia], 1e-8 * scale)) < 1e-6), it
        change = np.max(np.abs(new[ia] - s[ia]) / np.maximum(np.abs(s[ia]), 1e-9 * scale))
        s, cur = new, nxt
        if change < tol:
            return s, cur, True, it
    return s, cur, False, maxiter


# ----------------------------------------------------------------------------- results


@dataclass
class MVResult:
    """Results of :func:`rma_mv` (metafor ``rma.mv``).

    ``sigma2`` holds one variance component per nesting level (outer to inner),
    ``sigma2_names`` their factors ("study", "study/es_id"), ``n_levels`` the number of
    units per level. ``qe`` is Cochran's Q for residual heterogeneity with V alone, ``qm``
    the omnibus test of moderators (an F test with ``test="t"``), ``i2_levels`` the share of
    total variance per level (%) with the typical sampling variance (k - p) / tr(P) of
    W = V^-1 (metafor FAQ). Coefficient properties are floats for one coefficient and
    arrays otherwise.
    """

    method: str
    test: str
    level: float
    k: int
    p: int
    coef_names: list[str]
    beta: np.ndarray
    vcov: np.ndarray
    sigma2: np.ndarray
    sigma2_names: list[str]
    n_levels: list[int]
    n_clusters: int
    qe: float
    qe_df: int
    qe_pvalue: float
    qm: float | None
    qm_df: int | None
    qm_pvalue: float | None
    i2_levels: np.ndarray
    loglik: float
    deviance: float
    aic: float
    bic: float
    converged: bool
    iterations: int
    notes: list[str]
    has_intercept: bool
    yi: np.ndarray = field(repr=False)
    X: np.ndarray = field(repr=False)
    group_codes: np.ndarray = field(repr=False)
    group_labels: list = field(repr=False)
    _ev: _Evaluator = field(repr=False)
    _scale: float = 1.0  # the evaluator works on y / c and V / c^2 (c a power of 2: exact)
    _ci_cache: dict = field(default_factory=dict, repr=False)
    #: Denominator df of the F test of the moderators (test="t"); None for the chi-square test.
    qm_df_den: int | None = None

    def _ll_shift(self) -> float:
        """log-likelihood(original units) - log-likelihood(scaled units)."""
        return -(self.k - (self.p if self.method == "REML" else 0)) * math.log(self._scale)

    def profile_loglik(self, component: int, value: float) -> float:
        """The (RE)ML log-likelihood maximised over the other components with ``component`` fixed at ``value``."""
        c2 = self._scale**2
        s0 = self.sigma2 / c2
        s0[component] = value / c2
        free = np.ones(len(s0), bool)
        free[component] = False
        if not free.any():
            return self._ev.evaluate(s0, 0)["ll"] + self._ll_shift()
        return _maximise(self._ev, s0, free, 500)[1]["ll"] + self._ll_shift()

    # ---- coefficient table
    @property
    def df(self) -> float | None:
        """Residual degrees of freedom k - p for ``test="t"``; None for z tests."""
        return float(self.k - self.p) if self.test == "t" else None

    @property
    def n_obs(self) -> int:
        """Number of effect sizes (k)."""
        return self.k

    @property
    def n_studies(self) -> int:
        """Number of units at the outermost level."""
        return self.n_clusters

    def _crit(self, level: float | None = None) -> float:
        a = 1 - (self.level if level is None else level)
        return float(stats.t.ppf(1 - a / 2, self.k - self.p) if self.test == "t" else stats.norm.ppf(1 - a / 2))

    def to_frame(self) -> pd.DataFrame:
        """Coefficient table: term, estimate, se, statistic, pvalue, ci_low, ci_high (and df with t)."""
        se = np.sqrt(np.diag(self.vcov))
        stat = self.beta / se
        if self.test == "t":
            pv = 2 * stats.t.sf(np.abs(stat), self.k - self.p)
        else:
            pv = 2 * stats.norm.sf(np.abs(stat))
        c = self._crit()
        out = pd.DataFrame({"term": self.coef_names, "estimate": self.beta, "se": se, "statistic": stat,
                            "pvalue": pv, "ci_low": self.beta - c * se, "ci_high": self.beta + c * se})
        if self.test == "t":
            out["df"] = float(self.k - self.p)
        return out

    def _pick(self, col: str):
        v = self.to_frame()[col].to_numpy()
        return float(v[0]) if self.p == 1 else v

    estimate = property(lambda self: self._pick("estimate"), doc="Estimate(s).")
    se = property(lambda self: self._pick("se"), doc="Model-based standard error(s).")
    statistic = property(lambda self: self._pick("statistic"), doc="z or t statistic(s).")
    pvalue = property(lambda self: self._pick("pvalue"), doc="Two-sided p-value(s).")
    ci_low = property(lambda self: self._pick("ci_low"), doc="Lower confidence bound(s).")
    ci_high = property(lambda self: self._pick("ci_high"), doc="Upper confidence bound(s).")

    # ---- prediction
    def predict(self, newmods: Any = None, *, transform: str | Callable | None = None) -> Prediction:
        """Predicted average effect(s) with CI and prediction interval (metafor ``predict.rma``).

        PI = x'b +/- c sqrt(x' Var(b) x + sum(sigma^2)), with c the normal quantile (t with
        df = k - p for ``test="t"``), as metafor does for models with only nested
        ``~ 1 | ...`` terms.

        Parameters
        ----------
        newmods : array-like, optional
            Moderator values without the intercept column, one row per prediction.
            Default: the pooled effect (intercept only) or the fitted values.
        transform : str or callable, optional
            Back-transformation as in :meth:`analysis.meta.MetaResult.predict`.

        Returns
        -------
        analysis.meta.Prediction

        Examples
        --------
        >>> res = rma_mv([0.1, 0.3, 0.2, 0.6, 0.5, 0.9, 0.0, 0.2], [0.01] * 8,
        ...              random=[[1, 1, 2, 2, 3, 3, 4, 4], [1, 2, 1, 2, 1, 2, 1, 2]])
        >>> bool(res.predict().pi_low[0] < res.ci_low)
        True
        """
        if newmods is None:
            Xn = self.X if self.p > 1 else np.ones((1, 1))
        else:
            nm = np.asarray(newmods, dtype=float)
            if nm.ndim == 0:
                nm = nm.reshape(1, 1)
            elif nm.ndim == 1:
                nm = nm[:, None] if (self.p - int(self.has_intercept)) == 1 else nm[None, :]
            want = self.p - 1 if self.has_intercept else self.p
            if nm.shape[1] != want:
                raise ValueError(f"`newmods` must have {want} column(s) (moderators without the intercept), "
                                 f"got {nm.shape[1]}.")
            if not np.all(np.isfinite(nm)):
                raise ValueError("`newmods` has missing or infinite values.")
            Xn = np.hstack([np.ones((nm.shape[0], 1)), nm]) if self.has_intercept else nm
        pred = Xn @ self.beta
        vpred = np.einsum("ij,jk,ik->i", Xn, self.vcov, Xn)
        se = np.sqrt(vpred)
        c = self._crit()
        f = _transform(transform)
        tot = float(np.sum(self.sigma2))
        return Prediction(pred=np.asarray(f(pred), float), se=None if transform is not None else se,
                          ci_low=np.asarray(f(pred - c * se), float), ci_high=np.asarray(f(pred + c * se), float),
                          pi_low=np.asarray(f(pred - c * np.sqrt(vpred + tot)), float),
                          pi_high=np.asarray(f(pred + c * np.sqrt(vpred + tot)), float), level=self.level)

    @property
    def pi_low(self) -> float:
        """Lower bound of the prediction interval of the pooled effect (intercept-only model)."""
        return float(self.predict(None if self.p == 1 else self.X[:, 1:].mean(0)[None, :]).pi_low[0])

    @property
    def pi_high(self) -> float:
        """Upper bound of the prediction interval of the pooled effect (intercept-only model)."""
        return float(self.predict(None if self.p == 1 else self.X[:, 1:].mean(0)[None, :]).pi_high[0])

    # ---- random effects
    def ranef(self) -> dict[str, pd.DataFrame]:
        r"""Best linear unbiased predictions of the random effects (metafor ``ranef.rma.mv``).

        For level l: :math:`\hat u_l = \sigma^2_l Z_l' M^{-1}(y - X\hat\beta)` with
        :math:`\mathrm{Var}(\hat u_l - u_l) = \sigma^2_l I - \sigma^4_l Z_l' P Z_l`,
        :math:`P = M^{-1} - M^{-1}X(X'M^{-1}X)^{-1}X'M^{-1}`; prediction intervals use the
        normal (or t, df = k - p) quantile.

        Returns
        -------
        dict of DataFrame
            One table per level (keys = ``sigma2_names``), indexed by the unit label
            ("study" values, "study/es_id" pairs), with columns pred, se, pi_low, pi_high.
        """
        ev = self._ev
        sc = self._scale
        q = ev.evaluate(self.sigma2 / sc**2, 0)
        M = q["M"]
        out = {}
        c = self._crit()
        for l, name in enumerate(self.sigma2_names):
            n_g = len(self.group_labels[l])
            su = np.zeros(n_g)
            s11 = np.zeros(n_g)
            s1X = np.zeros((n_g, self.p))
            for b, (Vi, ViX, _), u in zip(ev.batches, q["cache"], q["u"]):
                cod = b.codes[l].ravel()
                su += np.bincount(cod, weights=u.ravel(), minlength=n_g)
                rowsum = np.einsum("bij,bij->bi", Vi, b.G[l])
                s11 += np.bincount(cod, weights=rowsum.ravel(), minlength=n_g)
                flat = ViX.reshape(-1, self.p)
                for j in range(self.p):
                    s1X[:, j] += np.bincount(cod, weights=flat[:, j], minlength=n_g)
            s2 = float(self.sigma2[l]) / sc**2
            pred = s2 * su * sc
            zpz = s11 - np.einsum("gp,pq,gq->g", s1X, M, s1X)
            var = np.maximum(s2 - s2 * s2 * zpz, 0.0)
            se = np.sqrt(var) * sc
            out[name] = pd.DataFrame({"pred": pred, "se": se, "pi_low": pred - c * se, "pi_high": pred + c * se},
                                     index=pd.Index(self.group_labels[l], name=name))
        return out

    # ---- profile-likelihood intervals
    def profile_ci(self, component: int, level: float | None = None) -> tuple[float, float]:
        """Profile-likelihood CI of variance component ``component`` (0 = outermost).

        Solves 2 (ll_max - ll_p(s)) = chi^2_{1; level}, where ll_p maximises the (RE)ML
        log-likelihood over the other components with this one fixed at s (metafor
        ``confint.rma.mv``); the lower bound is 0 when the profile at 0 is inside the region.
        """
        level = self.level if level is None else check_level("level", level)
        if not isinstance(component, (int, np.integer)) or not 0 <= component < len(self.sigma2):
            raise ValueError(f"`component` must be an integer from 0 to {len(self.sigma2) - 1}, got {component!r}.")
        key = (int(component), level)
        if key in self._ci_cache:
            return self._ci_cache[key]
        crit = float(stats.chi2.ppf(level, 1))
        c2 = self._scale**2
        s_hat = float(self.sigma2[component]) / c2  # the search runs in the evaluator's units
        ll_max = self.loglik

        def g(val: float) -> float:
            return 2 * (ll_max - self.profile_loglik(component, val * c2)) - crit

        if s_hat <= 0 or g(0.0) <= 0:
            lb = 0.0
        else:
            lb = optimize.brentq(g, 0.0, s_hat, xtol=1e-15, rtol=1e-13)
        hi = max(s_hat, float(np.var(self.yi)) / c2, 1e-12) * 2
        for _ in range(200):
            if g(hi) > 0:
                break
            hi *= 2
        else:
            raise RuntimeError("The profile likelihood upper bound could not be bracketed.")
        ub = optimize.brentq(g, s_hat, hi, xtol=1e-15, rtol=1e-13)
        lb, ub = lb * c2, ub * c2
        self._ci_cache[key] = (lb, ub)
        return lb, ub

    @property
    def sigma2_ci(self) -> list[tuple[float, float]]:
        """Profile-likelihood CIs of all variance components (computed on first access)."""
        return [self.profile_ci(j) for j in range(len(self.sigma2))]

    def _marginal_blocks(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(row index, block of M = V + sum sigma^2_l Z_l Z_l') for every block of the model."""
        out = []
        for b in self._ev.batches:
            Mb = (b.V + np.einsum("l,lbij->bij", self.sigma2 / self._scale**2, b.G)) * self._scale**2
            out.extend(zip(list(b.idx), list(Mb)))
        return out

    # ---- reports
    def summary(self) -> str:
        """Text laid out like metafor's ``print.rma.mv``."""
        mods = self.p > 1 or not self.has_intercept
        lines = ["", f"Multivariate Meta-Analysis Model (k = {self.k}; method: {self.method})", ""]
        lines.append(f"{'logLik':>9}  {'Deviance':>9}  {'AIC':>9}  {'BIC':>9}")
        lines.append(f"{self.loglik:>9.4f}  {self.deviance:>9.4f}  {self.aic:>9.4f}  {self.bic:>9.4f}")
        lines += ["", "Variance Components:", ""]
        fw = max(6, *(len(n) for n in self.sigma2_names))
        lines.append(f"{'':10} {'estim':>8}  {'sqrt':>7}  {'nlvls':>5}  {'fixed':>5}  {'factor':>{fw}}")
        for j, (s, n, nm) in enumerate(zip(self.sigma2, self.n_levels, self.sigma2_names)):
            lines.append(f"sigma^2.{j + 1:<2} {_fmt(s):>8}  {_fmt(math.sqrt(s)):>7}  {n:>5}  {'no':>5}  {nm:>{fw}}")
        lines += ["", "Test for Residual Heterogeneity:" if mods else "Test for Heterogeneity:",
                  f"{'QE' if mods else 'Q'}(df = {self.qe_df}) = {_fmt(self.qe)}, p-val {_pv_eq(self.qe_pvalue)}", ""]
        if self.qm is not None:
            btt = list(range(1, self.p)) if self.has_intercept else list(range(self.p))
            span = f"{btt[0] + 1}:{btt[-1] + 1}" if len(btt) > 1 else f"{btt[0] + 1}"
            lab = (f"F(df1 = {self.qm_df}, df2 = {self.qm_df_den})" if self.test == "t"
                   else f"QM(df = {self.qm_df})")
            lines += [f"Test of Moderators (coefficient{'s' if len(btt) > 1 else ''} {span}):",
                      f"{lab} = {_fmt(self.qm)}, p-val {_pv_eq(self.qm_pvalue)}", ""]
        lines += ["Model Results:", ""]
        tab = self.to_frame()
        stat = "tval" if self.test == "t" else "zval"
        cells = pd.DataFrame({"estimate": tab["estimate"].map(_fmt), "se": tab["se"].map(_fmt),
                              stat: tab["statistic"].map(_fmt), "pval": tab["pvalue"].map(_fmt_p),
                              "ci.lb": tab["ci_low"].map(_fmt), "ci.ub": tab["ci_high"].map(_fmt),
                              "": [_stars(p) for p in tab["pvalue"]]})
        if self.test == "t":
            cells.insert(3, "df", [f"{int(self.k - self.p)}"] * self.p)
        cells.index = self.coef_names if mods else [""] * self.p
        lines.append(cells.to_string())
        lines += ["", "---", "Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1"]
        if self.notes:
            lines += [""] + [f"Note: {n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict:
        """Plain-Python dictionary of the estimates, variance components and tests."""
        return {"method": self.method, "test": self.test, "level": self.level, "n_obs": self.k,
                "n_studies": self.n_clusters, "n_levels": list(self.n_levels),
                "coefficients": self.to_frame().to_dict("records"),
                "sigma2": dict(zip(self.sigma2_names, map(float, self.sigma2))),
                "qe": self.qe, "qe_df": self.qe_df, "qe_pvalue": self.qe_pvalue, "qm": self.qm,
                "qm_df": self.qm_df, "qm_df_den": self.qm_df_den, "qm_pvalue": self.qm_pvalue,
                "i2_levels": dict(zip(self.sigma2_names, map(float, self.i2_levels))),
                "loglik": self.loglik, "deviance": self.deviance, "aic": self.aic, "bic": self.bic,
                "converged": self.converged, "notes": list(self.notes)}

    def apa(self) -> str:
        """One-sentence APA-style report (pooled effect or moderator test)."""
        lvl = int(round(self.level * 100))
        tab = self.to_frame()
        comps = ", ".join(f"\u03c3\u00b2({n}) = {s:.3f}" for n, s in zip(self.sigma2_names, self.sigma2))
        head = (f"A multilevel meta-analysis ({self.method}) of k = {self.k} effect sizes from "
                f"{self.n_clusters} {self.sigma2_names[0]} units")
        if self.p == 1:
            r = tab.iloc[0]
            stat = f"t({int(self.k - self.p)}) = {_apa_num(r['statistic'])}" if self.test == "t" \
                else f"z = {_apa_num(r['statistic'])}"
            return (f"{head} gave {_apa_num(r['estimate'])}, {lvl}% CI [{_apa_num(r['ci_low'])}, "
                    f"{_apa_num(r['ci_high'])}], {stat}, {_apa_p(r['pvalue'])}; {lvl}% prediction interval "
                    f"[{_apa_num(self.pi_low)}, {_apa_num(self.pi_high)}]; {comps}.")
        qm = (f"F({self.qm_df}, {self.qm_df_den}) = {self.qm:.2f}" if self.test == "t"
              else f"QM({self.qm_df}) = {self.qm:.2f}") if self.qm is not None else ""
        parts = "; ".join(f"{r.term}: b = {_apa_num(r.estimate)}, {lvl}% CI [{_apa_num(r.ci_low)}, "
                          f"{_apa_num(r.ci_high)}], {_apa_p(r.pvalue)}" for r in tab.itertuples())
        return f"{head}: {qm}{', ' + _apa_p(self.qm_pvalue) if self.qm is not None else ''}; {parts}; {comps}."

    def __repr__(self) -> str:
        return self.summary()


# ----------------------------------------------------------------------------- input


def _as_vector_or_matrix(V: Any, data: pd.DataFrame | None, k: int):
    """Return ('diag', v) or ('dense', array) or ('sparse', csr) after shape checks."""
    from scipy import sparse as sp

    if isinstance(V, str):
        if data is None:
            raise ValueError(f"`V` is the column name {V!r} but no `data` was given.")
        check_columns(data, {"V": V})
        V = data[V]
    if V is None:
        raise ValueError("`V` is required (sampling variances or a k x k covariance matrix) but was None.")
    if sp.issparse(V):
        if V.shape != (k, k):
            raise ValueError(f"`V` must be a {k} x {k} matrix (one row per effect size), got shape {V.shape}.")
        return "sparse", sp.csr_matrix(V, dtype=float)
    if isinstance(V, pd.DataFrame):
        V = V.to_numpy()
    if isinstance(V, (dict, set)):
        raise ValueError(f"`V` must be a vector of sampling variances or a k x k matrix, got {type(V).__name__}.")
    try:
        arr = np.asarray(V.to_numpy() if isinstance(V, pd.Series) else V, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("`V` must be numeric (sampling variances or a covariance matrix).") from None
    if arr.ndim <= 1:
        arr = np.atleast_1d(arr)
        if arr.shape[0] != k:
            raise ValueError(f"`V` has {arr.shape[0]} sampling variances but `yi` has {k}: lengths must match.")
        return "diag", arr
    if arr.ndim != 2 or arr.shape != (k, k):
        raise ValueError(f"`V` must be a {k} x {k} matrix (one row per effect size), got shape {arr.shape}.")
    return "dense", arr


def _label(v: Any) -> str:
    if isinstance(v, (float, np.floating)) and float(v).is_integer():
        return str(int(v))
    return str(v)


def rma_mv(
    yi: Any,
    V: Any,
    *,
    data: pd.DataFrame | None = None,
    random: Any = ("study", "es_id"),
    mods: Any = None,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    na_action: str = "fail",
    maxiter: int = 1000,
) -> MVResult:
    r"""Multilevel / multivariate meta-analysis (metafor ``rma.mv(yi, V, random = ~ 1 | study/es_id, mods)``).

    :math:`\hat\beta = (X'M^{-1}X)^{-1}X'M^{-1}y`, :math:`\mathrm{Var}(\hat\beta) =
    (X'M^{-1}X)^{-1}` with :math:`M = V + \sum_l \sigma^2_l Z_l Z_l'`; the variance
    components maximise the REML log-likelihood (metafor's constant)

    .. math:: \ell_R = -\tfrac12\left[(k-p)\log 2\pi - \log|X'X| + \log|M| + \log|X'M^{-1}X|
              + r'M^{-1}r\right]

    or the ML one :math:`-\tfrac12[k\log 2\pi + \log|M| + r'M^{-1}r]`, by Newton-Raphson on
    the analytic score and information with step halving and a boundary at 0 (hand-written;
    see the module docstring). Q_E (df k - p) uses :math:`W = V^{-1}`; the omnibus test QM
    covers every coefficient but the intercept (F = QM / m with df (m, k - p) when
    ``test="t"``, t tests then use df = k - p, as metafor's ``test="t"``).

    Parameters
    ----------
    yi : array-like or str
        Effect sizes, or a column of ``data``.
    V : array-like, str or scipy.sparse matrix
        Sampling variances (1-D; a diagonal V) or the k x k sampling covariance matrix
        (e.g. from :func:`analysis.meta_dependent.vcalc`); must be positive definite.
    data : DataFrame, optional
    random : str or sequence
        The nesting of the random effects from outer to inner, as column names of ``data``
        (``["study", "es_id"]`` is ``~ 1 | study/es_id``) or arrays; one variance
        component per level. Any number of levels.
    mods : formula, array or DataFrame, optional
        Moderators as in :func:`analysis.meta.meta_analysis` (an intercept is added).
    method : {"REML", "ML"}
    test : {"z", "t"}
    level : float
        Confidence level in (0, 1).
    na_action : {"fail", "omit"}
        Refuse rows with missing values (default) or drop them with a ``UserWarning``
        listing their index labels.
    maxiter : int
        Iteration limit of the optimiser (> 0).

    Returns
    -------
    MVResult
        ``estimate, se, statistic, pvalue, ci_low, ci_high, sigma2, qe, qm, loglik``;
        ``to_frame()``, ``summary()``, ``to_dict()``, ``apa()``, ``predict()``, ``ranef()``,
        ``profile_ci()``. Cluster-robust (CR2) inference: :func:`analysis.robust.robust`.

    References
    ----------
    Konstantopoulos, S. (2011). Fixed effects and variance components estimation in
    three-level meta-analysis. *Research Synthesis Methods, 2*, 61-76.
    Pustejovsky, J. E., & Tipton, E. (2022). Meta-analysis with robust variance
    estimation: Expanding the range of working models. *Prevention Science, 23*, 425-438.
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"study": [1, 1, 2, 2, 3, 3, 4, 4], "es_id": [1, 2] * 4,
    ...                   "yi": [0.1, 0.3, 0.2, 0.6, 0.5, 0.4, 0.0, 0.1], "vi": [0.01] * 8})
    >>> res = rma_mv("yi", "vi", data=d, random=["study", "es_id"])
    >>> round(res.estimate, 4), len(res.sigma2)
    (0.275, 2)
    """
    method = check_choice("method", method, MV_METHODS)
    test = check_choice("test", test, ("z", "t"))
    level = check_level("level", level)
    na_action = check_na_action(na_action)
    if isinstance(maxiter, (bool, np.bool_)) or not isinstance(maxiter, (int, np.integer)) or maxiter < 1:
        raise ValueError(f"`maxiter` must be a positive integer, got {maxiter!r}.")
    if data is not None and not isinstance(data, pd.DataFrame):
        raise ValueError(f"`data` must be a pandas DataFrame, got {type(data).__name__}.")
    # -- effect sizes
    if isinstance(yi, str):
        if data is None:
            raise ValueError(f"`yi` is the column name {yi!r} but no `data` was given.")
        check_columns(data, {"yi": yi})
        yv = data[yi]
    else:
        yv = yi
    y = as_float_array("yi", yv)
    k = y.shape[0]
    if k < 2:
        raise ValueError(f"`yi` must hold at least 2 effect sizes, got {k}.")
    if data is not None and len(data) != k:
        raise ValueError(f"`yi` has {k} entries but `data` has {len(data)} rows.")
    labels = data.index if data is not None else pd.RangeIndex(k)
    kind, Vin = _as_vector_or_matrix(V, data, k)
    # -- random structure
    if isinstance(random, str) or (not isinstance(random, (list, tuple)) and random is not None):
        random = [random]
    if random is None or len(random) == 0:
        raise ValueError("`random` must name at least one grouping level (e.g. ['study', 'es_id']).")
    levels_raw, names = [], []
    for j, r in enumerate(random):
        if isinstance(r, str):
            if data is None:
                raise ValueError(f"`random` names the column {r!r} but no `data` was given.")
            check_columns(data, {"random": r})
            levels_raw.append(pd.Series(data[r].to_numpy(), dtype=object))
            names.append(r)
        else:
            if isinstance(r, (dict, set)) or np.ndim(r) != 1:
                raise ValueError(f"`random` level {j + 1} must be a column name or a 1-D array.")
            arr = pd.Series(np.asarray(r, dtype=object))
            if len(arr) != k:
                raise ValueError(f"`random` level {j + 1} has {len(arr)} entries but `yi` has {k}: lengths must match.")
            levels_raw.append(arr)
            names.append(f"level{j + 1}")
    # -- missing values
    miss = ~np.isfinite(y)
    vdiag = Vin if kind == "diag" else (Vin.diagonal() if kind == "sparse" else np.diag(Vin))
    miss |= ~np.isfinite(vdiag)
    if kind == "dense":
        miss |= ~np.all(np.isfinite(Vin), axis=1)
    for s in levels_raw:
        miss |= s.isna().to_numpy()
    if isinstance(mods, str) and data is not None:
        import patsy

        try:
            dm = patsy.dmatrix(mods, data, NA_action="drop", return_type="dataframe")
            miss |= ~data.index.isin(dm.index)
        except Exception:  # noqa: BLE001 - the formula error is reported by _design below
            pass
    elif mods is not None and not isinstance(mods, str):
        mm = mods.to_numpy() if isinstance(mods, (pd.Series, pd.DataFrame)) else np.asarray(mods)
        if mm.dtype.kind in "iuf" and mm.shape[0] == k:
            miss |= ~np.isfinite(mm.reshape(k, -1)).all(axis=1)
    if miss.any():
        where = describe_labels(labels[miss])
        if na_action == "fail":
            raise ValueError(f"Missing or infinite values in `yi`, `V`, `random` or `mods` at {where} "
                             "(use na_action='omit' to drop these rows).")
        warnings.warn(f"rma_mv: dropped {int(miss.sum())} row(s) with missing values at {where}.", UserWarning,
                      stacklevel=2)
        keep = ~miss
        y = y[keep]
        vdiag = vdiag[keep]
        if kind == "diag":
            Vin = Vin[keep]
        elif kind == "dense":
            Vin = Vin[np.ix_(keep, keep)]
        else:
            Vin = Vin[keep][:, keep]
        levels_raw = [s[keep].reset_index(drop=True) for s in levels_raw]
        if data is not None:
            data = data.loc[keep]
        if mods is not None and not isinstance(mods, str):
            mods = mods.loc[keep] if isinstance(mods, (pd.Series, pd.DataFrame)) else np.asarray(mods)[keep]
        k = y.shape[0]
        if k < 2:
            raise ValueError("Fewer than 2 complete effect sizes remain after dropping missing values.")
    bad = vdiag <= 0
    if bad.any():
        raise ValueError(f"`V` must have positive sampling variances on its diagonal; not at "
                         f"{describe_labels(np.asarray(labels)[~miss][bad] if miss.any() else labels[bad])}.")
    # -- design
    X, coef_names, has_int = _design(mods, data, k)
    p = X.shape[1]
    # -- groupings (level l = first l+1 columns)
    L = len(levels_raw)
    codes = np.zeros((L, k), dtype=int)
    group_labels = []
    sig_names = []
    for l in range(L):
        frame = pd.DataFrame({f"c{j}": levels_raw[j].map(_label).to_numpy() for j in range(l + 1)})
        keys = frame["c0"]
        for j in range(1, l + 1):
            keys = keys + "/" + frame[f"c{j}"]
        cod, uniq = pd.factorize(keys, sort=True)
        codes[l] = cod
        group_labels.append(list(uniq))
        sig_names.append("/".join(names[: l + 1]))
    n_levels = [len(g) for g in group_labels]
    for l in range(1, L):
        if n_levels[l] == n_levels[l - 1]:
            raise ValueError(f"`random` level {names[l]!r} does not split any unit of {sig_names[l - 1]!r} "
                             "(every unit holds one row of the inner level): the two variance components "
                             "are not identified; drop one level.")
    if n_levels[0] < 2:
        raise ValueError(f"`random` level {names[0]!r} has a single unit: its variance is not identified.")
    if k - p < 1:
        raise ValueError(f"Too few effect sizes (k = {k}) for {p} coefficients.")
    # -- blocks: connected components of V's pattern and the outermost grouping
    from scipy import sparse as sp
    from scipy.sparse.csgraph import connected_components

    if kind == "diag":
        Vs = sp.diags(Vin).tocsr()
    elif kind == "dense":
        if not np.allclose(Vin, Vin.T, rtol=1e-10, atol=0):
            raise ValueError("`V` must be symmetric.")
        Vs = sp.csr_matrix(Vin)
    else:
        Vs = Vin.tocsr()
        if abs(Vs - Vs.T).max() > 1e-10 * abs(Vs).max():
            raise ValueError("`V` must be symmetric.")
    first = np.zeros(n_levels[0], dtype=int)
    first[codes[0][::-1]] = np.arange(k)[::-1]
    link = sp.csr_matrix((np.ones(k), (np.arange(k), first[codes[0]])), shape=(k, k))
    nb, comp = connected_components((abs(Vs) + link).tocsr(), directed=False)
    # work on y / c and V / c^2 with c a power of 2 near the typical standard error: exact in floating
    # point, and the information matrices (~ 1 / V^2) cannot overflow for effect sizes on any scale
    csc = 2.0 ** round(math.log2(math.sqrt(float(np.mean(vdiag)))))
    Vd = (Vs / csc**2).tocsr()
    from analysis.meta_dependent import _pairs

    ii, jj, pi, pj, sizes = _pairs(comp)
    v_pairs = np.asarray(Vd[ii, jj]).ravel()
    order = np.argsort(comp, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    blocks = []
    for n in np.unique(sizes):
        cls = np.flatnonzero(sizes == n)
        slot = np.full(nb, -1)
        slot[cls] = np.arange(cls.size)
        sel = sizes[comp[ii]] == n
        stack = np.zeros((cls.size, n, n))
        stack[slot[comp[ii[sel]]], pi[sel], pj[sel]] = v_pairs[sel]
        rows = order[starts[cls][:, None] + np.arange(n)[None, :]]
        try:
            np.linalg.cholesky(stack)
        except np.linalg.LinAlgError:
            for r, B in zip(rows, stack):
                try:
                    np.linalg.cholesky(B)
                except np.linalg.LinAlgError:
                    lab = np.asarray(labels)[~miss][r] if miss.any() else np.asarray(labels)[r]
                    raise ValueError(f"`V` is not positive definite in the block of rows {describe_labels(lab)} "
                                     "(check the assumed correlations).") from None
        blocks.extend(zip(list(rows), list(stack)))
    # -- fit
    ys = y / csc
    ev = _Evaluator(ys, X, blocks, codes, reml=(method == "REML"))
    b_ols = np.linalg.lstsq(X, ys, rcond=None)[0]
    vm = float(np.mean(vdiag)) / csc**2
    tot = max(float(np.var(ys - X @ b_ols)) - vm, 0.01 * float(np.var(ys)), 1e-8 * vm)
    best = None
    for s0 in (np.full(L, tot / L), np.full(L, tot)):
        s, info, conv, it = _maximise(ev, s0, np.ones(L, bool), maxiter)
        if best is None or info["ll"] > best[1]["ll"] + 1e-12 * abs(info["ll"]):
            best = (s, info, conv, it)
    s, info, converged, iterations = best
    notes = []
    if not converged:
        warnings.warn(f"rma_mv: the {method} optimiser did not converge in {maxiter} iterations; "
                      "the estimates are not reliable.", ConvergenceWarning, stacklevel=2)
        notes.append("the optimiser did not converge")
    at0 = [sig_names[j] for j in range(L) if s[j] <= 0]
    if at0:
        msg = f"variance component(s) {', '.join(at0)} estimated at the boundary (0)"
        warnings.warn(f"rma_mv: {msg}.", UserWarning, stacklevel=2)
        notes.append(msg)
    beta, vb = info["beta"] * csc, info["M"] * csc**2
    s_scaled, s = s, s * csc**2
    # -- heterogeneity with V alone (W = V^-1) and the I^2 split
    q0 = ev.evaluate(np.zeros(L), 0)
    qe = max(float(q0["quad"]), 0.0)
    qe_p = float(stats.chi2.sf(qe, k - p))
    trVi = 0.0
    XtVi2X = np.zeros((p, p))
    for Vi, ViX, _ in q0["cache"]:
        trVi += float(np.trace(Vi, axis1=1, axis2=2).sum())
        XtVi2X += np.einsum("bip,biq->pq", ViX, ViX)
    trP = trVi - float(np.sum(q0["M"] * XtVi2X))
    typical = (k - p) / trP
    i2 = 100 * s_scaled / (s_scaled.sum() + typical)
    # -- omnibus test
    qm = qm_df = qm_df_den = qm_p = None
    btt = list(range(1, p)) if has_int else list(range(p))
    if btt and (p > 1 or not has_int):
        bb = beta[btt]
        qm = float(bb @ np.linalg.solve(vb[np.ix_(btt, btt)], bb))
        m = len(btt)
        if test == "t":
            qm /= m
            qm_df, qm_df_den = m, k - p
            qm_p = float(stats.f.sf(qm, m, k - p))
        else:
            qm_df = m
            qm_p = float(stats.chi2.sf(qm, m))
    shift = -(k - (p if method == "REML" else 0)) * math.log(csc)
    ll = float(info["ll"]) + shift
    parms = p + L
    if method == "ML":
        ll_qe = -0.5 * k * math.log(2 * math.pi) - 0.5 * q0["logdet"] + shift
        dev = -2 * (ll - ll_qe)
        bic = -2 * ll + parms * math.log(k)
    else:
        dev = -2 * ll
        bic = -2 * ll + parms * math.log(k - p)
    return MVResult(
        method=method, test=test, level=level, k=k, p=p, coef_names=coef_names, beta=beta, vcov=vb, sigma2=s,
        sigma2_names=sig_names, n_levels=n_levels, n_clusters=n_levels[0], qe=qe, qe_df=k - p, qe_pvalue=qe_p,
        qm=qm, qm_df=qm_df, qm_df_den=qm_df_den, qm_pvalue=qm_p, i2_levels=i2, loglik=ll, deviance=dev, aic=-2 * ll + 2 * parms,
        bic=bic, converged=converged, iterations=iterations, notes=notes, has_intercept=has_int, yi=y, X=X,
        group_codes=codes, group_labels=group_labels, _ev=ev, _scale=csc,
    )
