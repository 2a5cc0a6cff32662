"""Three-level meta-analysis: effect sizes nested in studies (metafor ``rma.mv``).

Model (Konstantopoulos, 2011; Cheung, 2014):

.. math:: y_{ij} = x_{ij}'\\beta + u_j + w_{ij} + e_{ij},\\quad
          u_j \\sim N(0, \\sigma^2_1),\\ w_{ij} \\sim N(0, \\sigma^2_2),\\ e_{ij} \\sim N(0, v_{ij})

for effect size i in study (cluster) j, the same as metafor's
``rma.mv(yi, vi, random = ~ 1 | study/es_id)``. :func:`three_level` is a specification of the
general model :func:`analysis.meta_mv.rma_mv`: a diagonal sampling covariance V = diag(v_ij)
and two nested random levels (cluster, then effect size within cluster). The REML fit, the
profile-likelihood CIs and the heterogeneity statistics are rma_mv's; this module adds the
checks specific to the three-level model (identifiability of both components, the
``es_id`` uniqueness, the range of ``vi``) and the :class:`ThreeLevelResult` report.

Checked against metafor 3.8 (``tests/test_meta_multilevel.py``): estimates, SEs,
both variance components, Q_E, QM and the I^2 decomposition to a relative error of
1e-6; the profile-likelihood CIs of the variance components to 1e-6 (metafor's
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
from scipy import stats
from statsmodels.tools.sm_exceptions import ConvergenceWarning

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
    _stars,
    _where,
)
from analysis.meta_mv import MVResult, rma_mv

__all__ = ["ThreeLevelResult", "three_level"]


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
    #: The underlying :func:`analysis.meta_mv.rma_mv` fit (profile likelihood, BLUPs).
    _mv: MVResult = field(repr=False)
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
        profile at 0 is inside the region. Computed by the underlying
        :meth:`analysis.meta_mv.MVResult.profile_ci`.
        """
        if component not in (0, 1) or isinstance(component, bool):
            raise ValueError(f"`component` must be 0 (between clusters) or 1 (within clusters), got {component!r}.")
        level = check_level("level", level)
        return self._mv.profile_ci(int(component), level)

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
        Iteration limit of rma_mv's Newton-Raphson optimiser (>= 1).
    na_action : {"fail", "omit"}
        Missing values (NaN/None) in ``yi``, ``vi``, ``cluster``, ``es_id`` or a moderator:
        refuse them, listing the rows (default), or drop those rows with a UserWarning that
        lists them (metafor's ``na.omit``); the result records them in ``dropped``.

    The model is fitted by :func:`analysis.meta_mv.rma_mv` with ``V = vi`` (diagonal) and
    ``random = [cluster, es_id]``; rma_mv runs on ``yi / c``, ``vi / c^2`` (c a power of two
    near the typical standard error: exact) and scales back, so multiplying ``yi`` by ``c`` and
    ``vi`` by ``c^2`` multiplies both variance components by ``c^2`` and leaves z and p
    unchanged, from c = 1e-150 to 1e150. A cluster structure that cannot separate the two
    variance components (one cluster, or one effect size per cluster) is refused.

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
    y, v = _check_yi_vi(vals["yi"], vals["vi"])
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
    # --- the model: rma_mv with V = diag(vi) and random = ~ 1 | cluster/es_id. es_id is unique
    # within clusters (checked above), so every row is its own level-2 unit: the inner level is the
    # row number, and the cluster codes stand for the labels (no relabelling by rma_mv).
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mv = rma_mv(y, v, data=data if isinstance(mods, str) else None, random=[codes, np.arange(k)], mods=mods,
                    method="REML", test=test, level=level, na_action="fail", maxiter=maxiter)
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            warnings.warn(f"three_level: the REML optimiser may not have converged (maxiter = {maxiter}); check the "
                          "estimates or raise `maxiter`.", ConvergenceWarning, stacklevel=2)
        elif "boundary" in str(w.message):
            at0 = [lab for lab, s2 in zip(("between clusters", "within clusters"), mv.sigma2) if s2 <= 0]
            warnings.warn(f"three_level: a variance component is estimated at the boundary (0): {', '.join(at0)}.",
                          UserWarning, stacklevel=2)
        else:  # anything else rma_mv said, as it said it (filters see analysis.meta_mv)
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, module="analysis.meta_mv")
    qm = qm_df = qm_df_den = qm_p = None
    if p > 1 and has_int:  # the omnibus test of the moderators (metafor's QM; F with test="t")
        qm, qm_df, qm_df_den, qm_p = mv.qm, mv.qm_df, mv.qm_df_den, mv.qm_pvalue
    return ThreeLevelResult(
        coef_names=list(mv.coef_names), beta=mv.beta, vcov=mv.vcov, sigma2=mv.sigma2, test=test, level=float(level),
        k=k, p=p, n_clusters=mv.n_clusters, q=mv.qe, q_df=mv.qe_df, q_pvalue=mv.qe_pvalue, qm=qm, qm_df=qm_df,
        qm_df_den=qm_df_den, qm_pvalue=qm_p, i2_levels=mv.i2_levels, i2_total=float(np.sum(mv.i2_levels)),
        loglik=mv.loglik, converged=mv.converged, _mv=mv, dropped=dropped, dropped_kind=kind,
    )
