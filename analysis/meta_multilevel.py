"""Three-level meta-analysis: effect sizes nested in studies (metafor ``rma.mv``).

Model (Konstantopoulos, 2011; Cheung, 2014):

.. math:: y_{ij} = x_{ij}'\\beta + u_j + w_{ij} + e_{ij},\\quad
          u_j \\sim N(0, \\sigma^2_1),\\ w_{ij} \\sim N(0, \\sigma^2_2),\\ e_{ij} \\sim N(0, v_{ij})

for effect size i in study (cluster) j, the same as metafor's
``rma.mv(yi, vi, random = ~ 1 | study/es_id)``. Written by hand (statsmodels'
MixedLM cannot fix the sampling variances v_ij): the marginal covariance of a
cluster, :math:`V_j = \\mathrm{diag}(v_{ij} + \\sigma^2_2) + \\sigma^2_1 \\mathbf{1}\\mathbf{1}'`,
is inverted with the Sherman-Morrison formula, so one likelihood evaluation costs
O(k p^2) and no k x k matrix is built. The REML log-likelihood is maximised with
L-BFGS-B on its analytic gradient, then polished by Newton steps on the score.

Checked against metafor 3.8 (``tests/test_meta_multilevel.py``): estimates, SEs,
both variance components, Q_E, QM and the I^2 decomposition to a relative error of
1e-6; the profile-likelihood CIs of the variance components to 1e-4 (metafor's
``confint`` finds them by nested optimisation and root finding).

References
----------
Konstantopoulos, S. (2011). Fixed effects and variance components estimation in
    three-level meta-analysis. *Research Synthesis Methods, 2*, 61-76.
Cheung, M. W.-L. (2014). Modeling dependent effect sizes with three-level
    meta-analyses: A structural equation modeling approach. *Psychological
    Methods, 19*, 211-229.
Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from analysis._checks import check_choice, check_level, first_bad
from analysis._results import coef_table, plain, tidy
from analysis.meta import (
    _apa_num,
    _apa_p,
    _apply_na_action,
    _check_maxiter,
    _check_yi_vi,
    _design,
    _fmt,
    _fmt_p,
    _pv_eq,
    _scale_exponent,
    _stars,
    _traces,
    _where,
    _wls,
)

__all__ = ["ThreeLevelResult", "three_level"]


class _Clusters:
    """Cluster bookkeeping and the Sherman-Morrison algebra for V_j = D_j + s1 11'."""

    def __init__(self, codes: np.ndarray, y: np.ndarray, v: np.ndarray, X: np.ndarray):
        self.g = codes
        self.n_groups = int(codes.max()) + 1
        self.y, self.v, self.X = y, v, X

    def _sum(self, a: np.ndarray) -> np.ndarray:
        """Sum rows of a (k,) or (k, m) array within clusters."""
        if a.ndim == 1:
            return np.bincount(self.g, weights=a, minlength=self.n_groups)
        out = np.zeros((self.n_groups, a.shape[1]))
        np.add.at(out, self.g, a)
        return out

    def parts(self, s1: float, s2: float) -> dict[str, Any]:
        y, v, X, g = self.y, self.v, self.X, self.g
        d = 1.0 / (v + s2)  # D^-1
        c = self._sum(d)  # 1'D^-1 1 per cluster
        f = s1 / (1.0 + s1 * c)  # Sherman-Morrison factor
        # V^-1 a = D^-1 a - f_j D^-1 1 (1'D^-1 a)
        def vinv(a: np.ndarray) -> np.ndarray:
            da = d[:, None] * a if a.ndim == 2 else d * a
            s = self._sum(da)
            return da - (f[g] * d)[:, None] * s[g] if a.ndim == 2 else da - f[g] * d * s[g]

        ViX = vinv(X)
        Viy = vinv(y)
        XtViX = X.T @ ViX
        M = np.linalg.inv(XtViX)
        beta = M @ (X.T @ Viy)
        r = y - X @ beta
        Pr = vinv(r)  # = P y
        logdetV = float(np.sum(np.log(v + s2)) + np.sum(np.log1p(s1 * c)))
        return {"d": d, "c": c, "f": f, "ViX": ViX, "XtViX": XtViX, "M": M, "beta": beta, "r": r, "Pr": Pr,
                "logdetV": logdetV}

    def reml_ll(self, s1: float, s2: float, parts: dict | None = None) -> float:
        """REML log-likelihood with metafor's constant (REMLf = TRUE)."""
        q = parts or self.parts(s1, s2)
        k, p = self.X.shape
        return float(-0.5 * (k - p) * math.log(2 * math.pi) + 0.5 * np.linalg.slogdet(self.X.T @ self.X)[1]
                     - 0.5 * q["logdetV"] - 0.5 * np.linalg.slogdet(q["XtViX"])[1] - 0.5 * np.dot(q["r"], q["Pr"]))

    def score(self, s1: float, s2: float, parts: dict | None = None) -> np.ndarray:
        """Gradient of the REML log-likelihood: -tr(P dV)/2 + y'P dV P y / 2."""
        q = parts or self.parts(s1, s2)
        d, c, f, ViX, M, Pr = q["d"], q["c"], q["f"], q["ViX"], q["M"], q["Pr"]
        g = self.g
        # dV/ds2 = I:   tr(P) = tr(V^-1) - tr(M X'V^-2 X)
        tr_vinv = float(np.sum(d) - np.sum(f * self._sum(d * d)))
        tr_p2 = tr_vinv - float(np.sum(M * (ViX.T @ ViX)))
        s2_score = -0.5 * tr_p2 + 0.5 * float(np.dot(Pr, Pr))
        # dV/ds1 = Z Z' (cluster blocks of ones)
        one_vinv_one = c / (1.0 + _self_safe(f, c))  # 1'V_j^-1 1 = c_j/(1+s1 c_j)
        S = self._sum(ViX)  # (G, p): 1'V_j^-1 X_j
        tr_p1 = float(np.sum(one_vinv_one) - np.sum(M * (S.T @ S)))
        s1_score = -0.5 * tr_p1 + 0.5 * float(np.sum(self._sum(Pr) ** 2))
        del g
        return np.array([s1_score, s2_score])


def _self_safe(f: np.ndarray, c: np.ndarray) -> np.ndarray:
    r"""s1 * c_j recovered from the Sherman-Morrison factor: f c / (1 - f c) = s1 c.

    An internal helper of the REML score of :func:`three_level` (not in ``__all__``).
    With :math:`c_j = \mathbf 1' D_j^{-1} \mathbf 1` and the Sherman-Morrison factor
    :math:`f_j = \sigma^2_1 / (1 + \sigma^2_1 c_j)` of
    :math:`V_j^{-1} = D_j^{-1} - f_j D_j^{-1}\mathbf 1 \mathbf 1' D_j^{-1}`,

    .. math:: \frac{f_j c_j}{1 - f_j c_j} = \sigma^2_1 c_j .

    Parameters
    ----------
    f : numpy.ndarray
        Sherman-Morrison factors :math:`f_j`, one per cluster.
    c : numpy.ndarray
        :math:`c_j = \sum_i 1 / (v_{ij} + \sigma^2_2)`, one per cluster.

    Returns
    -------
    numpy.ndarray
        :math:`\sigma^2_1 c_j` per cluster.

    References
    ----------
    Sherman, J., & Morrison, W. J. (1950). Adjustment of an inverse matrix corresponding
    to a change in one element of a given matrix. *Annals of Mathematical Statistics,
    21*(1), 124-127.

    Examples
    --------
    >>> s1, c = 0.5, np.array([4.0])
    >>> _self_safe(s1 / (1 + s1 * c), c).round(12)
    array([2.])
    """
    fc = f * c
    return fc / (1.0 - fc)


@dataclass
class ThreeLevelResult:
    """Results of :func:`three_level` (metafor ``rma.mv`` with ``~ 1 | cluster/es_id``).

    ``sigma2`` = (between-cluster variance, within-cluster variance);
    ``sigma2_ci`` their profile-likelihood CIs (computed on first access);
    ``i2_levels`` the I^2 decomposition (%) and ``i2_total`` its sum.
    Counts: ``k`` (also ``n_studies``, metafor's k) effect sizes in ``n_clusters`` clusters
    (studies). ``qm_df`` (and ``qm_df_den`` for the F test) are numbers.
    """

    coef_names: list[str]
    beta: np.ndarray
    vcov: np.ndarray
    sigma2: np.ndarray
    test: str
    level: float
    k: int
    p: int
    n_clusters: int
    q: float
    q_df: int
    q_pvalue: float
    qm: float | None
    qm_df: int | None
    qm_pvalue: float | None
    i2_levels: np.ndarray
    i2_total: float
    loglik: float
    converged: bool
    _clusters: _Clusters = field(repr=False)
    _ci_cache: dict = field(default_factory=dict, repr=False)
    #: The fit ran on y / 2^e, v / 4^e (``_clusters`` holds those); see :func:`three_level`.
    _scale_exp: int = field(default=0, repr=False)
    #: Rows dropped by ``na_action="omit"`` (index labels, or 0-based positions; ``dropped_kind`` says which).
    dropped: list = field(default_factory=list)
    dropped_kind: str = ""
    #: Denominator degrees of freedom of the F test of moderators (``test="t"``), else None.
    qm_df_den: int | None = None

    @property
    def n_studies(self) -> int:
        """Number of effect sizes in the fit (metafor's k)."""
        return self.k

    @property
    def df(self) -> int | None:
        """Residual df k - p for the t test, None for z."""
        return self.k - self.p if self.test == "t" else None

    @property
    def _crit(self) -> float:
        a = 1 - self.level
        return float(stats.t.ppf(1 - a / 2, self.df) if self.test == "t" else stats.norm.ppf(1 - a / 2))

    @property
    def coefficients(self) -> pd.DataFrame:
        """Model results table indexed by ``term``: estimate, se, statistic, pvalue, ci_low, ci_high.

        (metafor's zval/tval, pval, ci.lb, ci.ub; ``statistic`` is a t value with ``df``
        degrees of freedom when ``test="t"``.)
        """
        se = np.sqrt(np.diag(self.vcov))
        t = self.beta / se
        pv = 2 * (stats.t.sf(np.abs(t), self.df) if self.test == "t" else stats.norm.sf(np.abs(t)))
        return coef_table(self.coef_names, self.beta, se, t, pv, self.beta - self._crit * se,
                          self.beta + self._crit * se)

    def to_frame(self) -> pd.DataFrame:
        """Tidy coefficient table: term, estimate, se, statistic, pvalue, ci_low, ci_high."""
        return tidy(self.coefficients)

    def to_dict(self) -> dict:
        """Plain Python (JSON-serialisable): coefficients, variance components, I^2 and tests."""
        return plain({"test": self.test, "level": self.level, "n_studies": self.k, "n_clusters": self.n_clusters,
                      "n_coef": self.p, "coefficients": self.to_frame(), "sigma2": self.sigma2,
                      "i2_levels": self.i2_levels, "i2_total": self.i2_total, "q": self.q, "q_df": self.q_df,
                      "q_pvalue": self.q_pvalue, "qm": self.qm, "qm_df": self.qm_df, "qm_df_den": self.qm_df_den,
                      "qm_pvalue": self.qm_pvalue, "loglik": self.loglik, "converged": self.converged,
                      "dropped": self.dropped, "dropped_kind": self.dropped_kind})

    def _pick(self, col: int):
        v = self.coefficients.iloc[:, col].to_numpy()
        return float(v[0]) if self.p == 1 else v

    estimate = property(lambda self: self._pick(0), doc="Pooled estimate (or coefficients).")
    se = property(lambda self: self._pick(1), doc="Standard error(s).")
    statistic = property(lambda self: self._pick(2), doc="z or t statistic(s).")
    pvalue = property(lambda self: self._pick(3), doc="p-value(s).")
    ci_low = property(lambda self: self._pick(4), doc="Lower CI bound(s).")
    ci_high = property(lambda self: self._pick(5), doc="Upper CI bound(s).")

    def profile_ci(self, component: int, level: float = 0.95) -> tuple[float, float]:
        """Profile-likelihood CI of variance component 0 (between) or 1 (within).

        The bounds solve 2 (ll_max - ll_prof(s)) = chi^2_{1; level}, where
        ll_prof(s) maximises the REML log-likelihood over the other component with
        this one fixed at s (as metafor's ``confint.rma.mv``). A bound is 0 when the
        profile at 0 is inside the region.
        """
        if component not in (0, 1) or isinstance(component, bool):
            raise ValueError(f"`component` must be 0 (between clusters) or 1 (within clusters), got {component!r}.")
        level = check_level("level", level)
        key = (component, level)
        if key in self._ci_cache:
            return self._ci_cache[key]
        cl = self._clusters  # the data in internal units (v / 4^e)
        e = self._scale_exp
        sig = np.ldexp(self.sigma2, -2 * e)
        other = 1 - component
        ll_max = cl.reml_ll(*sig)
        crit = stats.chi2.ppf(level, 1)
        s_hat = float(sig[component])
        scale = max(float(np.var(cl.y)), 1e-8)

        def prof(s: float) -> float:
            def negll(t: float) -> float:
                pair = [0.0, 0.0]
                pair[component], pair[other] = s, t
                return -cl.reml_ll(*pair)

            hi = max(10 * scale, 10 * float(sig[other]) + 1e-8)
            best = optimize.minimize_scalar(negll, bounds=(0.0, hi), method="bounded",
                                            options={"xatol": 1e-13 * max(hi, 1.0), "maxiter": 2000})
            val = min(best.fun, negll(0.0))
            return -val

        def g(s: float) -> float:
            return 2 * (ll_max - prof(s)) - crit

        if s_hat <= 0 or g(0.0) <= 0:
            lb = 0.0
        else:
            lb = optimize.brentq(g, 0.0, s_hat, xtol=1e-14, rtol=1e-12)
        hi = max(s_hat, scale) * 2
        n = 0
        while g(hi) < 0:
            hi *= 2
            n += 1
            if n > 60:
                raise RuntimeError("Profile likelihood upper bound not bracketed.")
        ub = optimize.brentq(g, s_hat, hi, xtol=1e-14, rtol=1e-12)
        lb, ub = float(np.ldexp(lb, 2 * e)), float(np.ldexp(ub, 2 * e))
        self._ci_cache[key] = (lb, ub)
        return lb, ub

    @property
    def sigma2_ci(self) -> list[tuple[float, float]]:
        """Profile-likelihood 95% CIs of (between, within) variance components."""
        return [self.profile_ci(0, self.level), self.profile_ci(1, self.level)]

    def summary(self) -> str:
        """Text laid out like metafor's ``print.rma.mv``."""
        lines = ["", f"Multivariate Meta-Analysis Model (k = {self.k}; method: REML)", "",
                 "Variance Components:", "",
                 "            estim    sqrt  nlvls",
                 f"sigma^2.1  {_fmt(self.sigma2[0])}  {_fmt(math.sqrt(self.sigma2[0]))}  {self.n_clusters:>5}  (between clusters)",
                 f"sigma^2.2  {_fmt(self.sigma2[1])}  {_fmt(math.sqrt(self.sigma2[1]))}  {self.k:>5}  (within clusters)",
                 "",
                 f"I^2: level 3 (between) {self.i2_levels[0]:.2f}%, level 2 (within) {self.i2_levels[1]:.2f}%, "
                 f"total {self.i2_total:.2f}%",
                 "",
                 "Test for Residual Heterogeneity:" if self.p > 1 else "Test for Heterogeneity:",
                 f"{'QE' if self.p > 1 else 'Q'}(df = {self.q_df}) = {_fmt(self.q)}, p-val {_pv_eq(self.q_pvalue)}", ""]
        if self.qm is not None:
            lab = f"F(df1 = {self.qm_df}, df2 = {self.qm_df_den})" if self.test == "t" else f"QM(df = {self.qm_df})"
            lines += ["Test of Moderators:", f"{lab} = {_fmt(self.qm)}, p-val {_pv_eq(self.qm_pvalue)}", ""]
        lines += ["Model Results:", ""]
        tab = self.coefficients.rename(columns={"statistic": "tval" if self.test == "t" else "zval",
                                                "pvalue": "pval", "ci_low": "ci.lb", "ci_high": "ci.ub"})
        tab.index.name = None
        cells = tab.apply(lambda col: [(_fmt_p(x) if col.name == "pval" else _fmt(x)) for x in col]).astype(str)
        cells["signif"] = [_stars(p) for p in tab["pval"]]
        lines.append(cells.to_string())
        lines += ["", "---", "Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1"]
        if self.dropped:
            lines += ["", f"{len(self.dropped)} effect size{'s' if len(self.dropped) != 1 else ''} omitted because "
                      f"of missing values (na_action='omit'): {_where(self.dropped, self.dropped_kind)}."]
        return "\n".join(lines) + "\n"

    def apa(self) -> str:
        """One-line APA-style report (intercept-only model)."""
        c = self.coefficients.iloc[0]
        stat = f"t({self.df}) = {_apa_num(c.iloc[2])}" if self.test == "t" else f"z = {_apa_num(c.iloc[2])}"
        return (f"A three-level meta-analysis of k = {self.k} effect sizes from {self.n_clusters} studies gave "
                f"{_apa_num(c['estimate'])}, {int(round(self.level * 100))}% CI [{_apa_num(c['ci_low'])}, "
                f"{_apa_num(c['ci_high'])}], {stat}, {_apa_p(c['pvalue'])}; \u03c3\u00b2 between = {self.sigma2[0]:.3f}, "
                f"within = {self.sigma2[1]:.3f}; I\u00b2 between = {self.i2_levels[0]:.1f}%, "
                f"within = {self.i2_levels[1]:.1f}%.")

    def __repr__(self) -> str:
        return self.summary()


def three_level(
    yi: Any,
    vi: Any,
    cluster: Any,
    *,
    es_id: Any = None,
    data: pd.DataFrame | None = None,
    mods: Any = None,
    test: str = "z",
    level: float = 0.95,
    maxiter: int = 10000,
    na_action: str = "fail",
) -> ThreeLevelResult:
    r"""Three-level random-effects meta-analysis by REML (metafor ``rma.mv(yi, vi, random = ~ 1 | cluster/es_id)``).

    :math:`\hat\beta = (X'V^{-1}X)^{-1}X'V^{-1}y`, Var = :math:`(X'V^{-1}X)^{-1}`, with
    :math:`V` block-diagonal by cluster, :math:`V_j = \mathrm{diag}(v_{ij} + \sigma^2_2)
    + \sigma^2_1 \mathbf{1}\mathbf{1}'`; the variance components maximise the REML
    log-likelihood :math:`-\frac12[\log|V| + \log|X'V^{-1}X| + r'V^{-1}r]` (+ const).
    I^2 decomposition (Cheung, 2014; metafor FAQ): with :math:`W = \mathrm{diag}(1/v)`,
    :math:`P = W - WX(X'WX)^{-1}X'W`, :math:`I^2_l = 100\,\sigma^2_l / (\sigma^2_1 +
    \sigma^2_2 + (k-p)/\mathrm{tr}(P))`.

    Parameters
    ----------
    yi, vi : array-like or str
        Effect sizes and sampling variances (> 0), or columns of ``data``.
    cluster : array-like or str
        Study (level-3 unit) of each effect size.
    es_id : array-like or str, optional
        Effect-size id (level 2); must be unique within clusters (each row its own
        level-2 unit). Default: the row number.
    data : DataFrame, optional
    mods : formula, array or DataFrame, optional
        Moderators as in :func:`analysis.meta.meta_analysis`.
    test : {"z", "t"}
        "t" uses the t distribution (F for QM) with df = k - p (metafor ``test = "t"``).
    level : float
    maxiter : int
    na_action : {"fail", "omit"}
        Missing values (NaN/None) in ``yi``, ``vi``, ``cluster``, ``es_id`` or a moderator:
        refuse them, listing the rows (default), or drop those rows with a UserWarning that
        lists them (metafor's ``na.omit``); the result records them in ``dropped``.

    The fit runs on ``yi / 2^e``, ``vi / 4^e`` (median ``vi / 4^e`` near 1; powers of two are
    exact) and is scaled back, so multiplying ``yi`` by ``c`` and ``vi`` by ``c^2`` multiplies
    both variance components by ``c^2`` and leaves z and p unchanged, from c = 1e-150 to 1e150.
    A cluster structure that cannot separate the two variance components (one cluster, or
    one effect size per cluster) is refused.

    Returns
    -------
    ThreeLevelResult

    References
    ----------
    Konstantopoulos, S. (2011). Fixed effects and variance components estimation in
    three-level meta-analysis. *Research Synthesis Methods, 2*, 61-76.
    Cheung, M. W.-L. (2014). Modeling dependent effect sizes with three-level
    meta-analyses: A structural equation modeling approach. *Psychological
    Methods, 19*, 211-229.
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.

    Examples
    --------
    >>> res = three_level([0.1, 0.3, 0.2, 0.6, 0.5, 0.4, 0.0, 0.1], [0.01] * 8, [1, 1, 2, 2, 3, 3, 4, 4])
    >>> len(res.sigma2)
    2
    """
    test = check_choice("test", test, ("z", "t"))
    level = check_level("level", level)
    maxiter = _check_maxiter(maxiter)
    vals, mods, data, dropped, kind = _apply_na_action(
        na_action, data, {"yi": yi, "vi": vi, "cluster": cluster, "es_id": es_id}, mods, what="effect sizes")
    y_orig, v_orig = _check_yi_vi(vals["yi"], vals["vi"])
    # internal units: median v near 1 (exact powers of two), results scaled back at the end
    e_scale = _scale_exponent(v_orig)
    y, v = np.ldexp(y_orig, -e_scale), np.ldexp(v_orig, -2 * e_scale)
    k = y.shape[0]
    cl, es_id = vals["cluster"], vals["es_id"]
    if cl is None or isinstance(cl, (bytes, dict)) or np.ndim(cl) != 1:
        raise ValueError(f"`cluster` must be a 1-D array, a Series or a column name of `data`, got {cl!r:.60}.")
    cl = pd.Series(np.asarray(cl, dtype=object) if not isinstance(cl, pd.Series) else cl.to_numpy())
    if len(cl) != k:
        raise ValueError(f"`cluster` has {len(cl)} entries but there are {k} effect sizes.")
    if cl.isna().any():
        raise ValueError(f"`cluster` has missing values at {first_bad(cl.isna().to_numpy())}.")
    codes = pd.factorize(cl, sort=True)[0]
    if es_id is not None:
        e = es_id
        if isinstance(e, (bytes, dict)) or np.ndim(e) != 1:
            raise ValueError(f"`es_id` must be a 1-D array, a Series or a column name of `data`, got {e!r:.60}.")
        e = pd.Series(np.asarray(e, dtype=object) if not isinstance(e, pd.Series) else e.to_numpy())
        if len(e) != k:
            raise ValueError(f"`es_id` has {len(e)} entries but there are {k} effect sizes.")
        dup = pd.DataFrame({"c": codes, "e": e.astype(str)}).duplicated()
        if dup.any():
            raise ValueError(f"`es_id` must be unique within each cluster; repeated at {first_bad(dup.to_numpy())}.")
    n_groups = int(codes.max()) + 1
    if n_groups < 2:
        raise ValueError("`cluster` must have at least 2 different clusters.")
    if n_groups == k:
        raise ValueError("Every cluster holds one effect size: the two variance components are not identified; "
                         "use analysis.meta.meta_analysis.")
    X, names, has_int = _design(mods, data, k)
    p = X.shape[1]
    if k - p < 2:
        raise ValueError(f"Too few effect sizes (k = {k}) for {p} coefficients and two variance components.")
    C = _Clusters(codes, y, v, X)

    # --- REML: L-BFGS-B on log-likelihood with analytic gradient, then Newton polish
    def obj(theta: np.ndarray) -> tuple[float, np.ndarray]:
        parts = C.parts(theta[0], theta[1])
        return -C.reml_ll(theta[0], theta[1], parts), -C.score(theta[0], theta[1], parts)

    start_var = max(float(np.var(y)) - float(np.mean(v)), 0.01 * float(np.var(y)), 1e-4)
    best = None
    for s0 in ([start_var / 2, start_var / 2], [start_var, 1e-3 * start_var], [1e-3 * start_var, start_var]):
        sol = optimize.minimize(obj, np.array(s0), jac=True, method="L-BFGS-B", bounds=[(0.0, None), (0.0, None)],
                                options={"maxiter": maxiter, "ftol": 1e-15, "gtol": 1e-12, "maxcor": 20})
        if best is None or sol.fun < best.fun:
            best = sol
    s = np.maximum(best.x, 0.0)
    # L-BFGS-B often stops "abnormally" at such tight tolerances; convergence is judged by the score below
    converged = True
    # Newton polish on the free (interior) components, finite-difference Hessian of the analytic score
    for _ in range(50):
        free = s > 1e-10
        if not free.any():
            break
        gr = C.score(*s)
        h = 1e-6 * np.maximum(s, 1e-6)
        H = np.zeros((2, 2))
        for j in range(2):
            e = np.zeros(2)
            e[j] = h[j]
            H[:, j] = (C.score(*(s + e)) - C.score(*(s - e))) / (2 * h[j])
        idx = np.flatnonzero(free)
        try:
            step = -np.linalg.solve(H[np.ix_(idx, idx)], gr[idx])
        except np.linalg.LinAlgError:
            break
        new = s.copy()
        new[idx] = s[idx] + step
        if np.any(new < 0):
            break
        if C.reml_ll(*new) < C.reml_ll(*s) - 1e-12:
            break
        s = new
        if np.max(np.abs(step) / np.maximum(s[idx], 1e-12)) < 1e-13:
            break
    gr = C.score(*s)
    interior_bad = (s > 1e-10) & (np.abs(gr) > 1e-4 * (1 + np.abs(C.reml_ll(*s))))
    if interior_bad.any():
        warnings.warn("three_level: the REML optimiser may not have converged (gradient "
                      f"{gr.tolist()}); check the estimates.", UserWarning, stacklevel=2)
        converged = False
    if np.any(s <= 1e-10):
        warnings.warn("three_level: a variance component is estimated at the boundary (0).", UserWarning, stacklevel=2)
    parts = C.parts(*s)
    beta, vb = np.ldexp(parts["beta"], e_scale), np.ldexp(parts["M"], 2 * e_scale)
    # heterogeneity (W = 1/v) and I^2 decomposition
    w0 = 1.0 / v
    _, _, r0 = _wls(X, y, w0)
    qe = float(np.dot(w0, r0 * r0))
    qe_p = float(stats.chi2.sf(qe, k - p))
    typical = (k - p) / _traces(X, w0, v)["P"]
    denom = s.sum() + typical
    qm = qm_df = qm_df_den = qm_p = None
    if p > 1 and has_int:
        btt = list(range(1, p))
        bb = beta[btt]
        qm = float(bb @ np.linalg.solve(vb[np.ix_(btt, btt)], bb))
        if test == "t":
            qm /= len(btt)
            qm_df, qm_df_den = len(btt), k - p
            qm_p = float(stats.f.sf(qm, len(btt), k - p))
        else:
            qm_df = len(btt)
            qm_p = float(stats.chi2.sf(qm, len(btt)))
    return ThreeLevelResult(
        coef_names=names, beta=beta, vcov=vb, sigma2=np.ldexp(s, 2 * e_scale), test=test, level=float(level), k=k,
        p=p, n_clusters=n_groups, q=qe, q_df=k - p, q_pvalue=qe_p, qm=qm, qm_df=qm_df, qm_df_den=qm_df_den,
        qm_pvalue=qm_p, i2_levels=100 * s / denom, i2_total=float(100 * s.sum() / denom),
        # the REML log-likelihood in the original units: minus (k - p) log 2^e (Jacobian of the rescaling)
        loglik=C.reml_ll(*s, parts) - (k - p) * e_scale * math.log(2.0),
        converged=converged, _clusters=C, _scale_exp=e_scale, dropped=dropped, dropped_kind=kind,
    )
