"""Sensitivity analyses and small-study (publication) bias for :func:`analysis.meta.meta_analysis`.

Each function takes a fitted :class:`analysis.meta.MetaResult` and repeats the fit
with the same estimator and test, as metafor does:

- :func:`leave_one_out` (metafor ``leave1out``),
- :func:`influence` (metafor ``influence``: rstudent, dffits, cook.d, cov.r, hat, weight, dfbetas),
- :func:`egger_test` (metafor ``regtest``: the standard error as moderator in a
  mixed-effects meta-regression; Egger et al., 1997),
- :func:`trim_and_fill` (metafor ``trimfill``, estimators L0 and R0; Duval & Tweedie, 2000),
- :func:`cumulative` (metafor ``cumul``).

None of these exists in statsmodels; they are written by hand on the O(k p^2)
fitting core of :mod:`analysis.meta` and checked against metafor 3.8 to a relative
error of 1e-6 (``tests/test_meta_bias.py``).

References
----------
Egger, M., Davey Smith, G., Schneider, M., & Minder, C. (1997). Bias in
    meta-analysis detected by a simple, graphical test. *BMJ, 315*, 629-634.
Duval, S., & Tweedie, R. (2000). Trim and fill: A simple funnel-plot-based method
    of testing and adjusting for publication bias in meta-analysis.
    *Biometrics, 56*, 455-463.
Viechtbauer, W., & Cheung, M. W.-L. (2010). Outlier and influence diagnostics for
    meta-analysis. *Research Synthesis Methods, 1*, 112-125.
Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis._checks import check_choice, check_na_action, describe_labels
from analysis._results import ResultMixin
from analysis.meta import (
    MetaConvergenceError,
    MetaResult,
    _apa_num,
    _apa_p,
    _check_maxiter,
    _fit,
    _fmt,
    _fmt_p,
    _scale_exponent,
    _where,
)

__all__ = [
    "BiasTable",
    "EggerResult",
    "TrimFillResult",
    "cumulative",
    "egger_test",
    "influence",
    "leave_one_out",
    "trim_and_fill",
]


def _refit(res: MetaResult, sel: np.ndarray | slice, *, X: np.ndarray | None = None, test: str | None = None,
           names: list[str] | None = None) -> MetaResult:
    y, v = res.yi[sel], res.vi[sel]
    Xs = (res.X if X is None else X)[sel]
    test = res.test if test is None else test
    if y.shape[0] == 1:  # metafor's k = 1 model: tau^2 = 0 and a z test
        one = _fit(y, v, Xs, res.coef_names, res.has_intercept, "FE", "z", res.level, compute_r2=False,
                   warn_fe_knha=False)
        one.method = res.method
        return one
    return _fit(y, v, Xs, names or res.coef_names, res.has_intercept, res.method, test, res.level,
                compute_r2=False, warn_fe_knha=False)


def _check_result(res: Any, name: str = "res") -> MetaResult:
    if not isinstance(res, MetaResult):
        raise ValueError(f"`{name}` must be a MetaResult from analysis.meta.meta_analysis, got {type(res).__name__}.")
    return res


@dataclass
class BiasTable(ResultMixin):
    """A per-study table (leave-one-out, influence or cumulative results).

    ``table`` is a DataFrame with one row per study (in the order the analysis
    used); ``kind`` says which analysis made it.
    """

    _frame_from = ('table',)

    kind: str
    table: pd.DataFrame
    method: str
    test: str

    def __getattr__(self, name: str):
        table = self.__dict__.get("table")
        if table is not None and name in table.columns:
            return table[name].to_numpy()
        raise AttributeError(name)

    def summary(self) -> str:
        """The table, printed like metafor's."""
        title = {"leave1out": "Leave-one-out analysis", "influence": "Influence diagnostics",
                 "cumul": "Cumulative meta-analysis"}[self.kind]
        return (f"{title} (tau^2 estimator: {self.method}; test: {self.test})\n\n"
                + self.table.to_string(float_format=lambda x: f"{x:.4f}") + "\n")

    def __repr__(self) -> str:
        return self.summary()


def _row(r: MetaResult) -> dict[str, float]:
    return {"estimate": r.estimate, "se": r.se, "statistic": r.statistic, "pvalue": r.pvalue,
            "ci_low": r.ci_low, "ci_high": r.ci_high, "q": r.q, "q_pvalue": r.q_pvalue,
            "tau2": r.tau2, "i2": r.i2, "h2": r.h2}


def leave_one_out(res: MetaResult, labels: Any = None) -> BiasTable:
    r"""Refit the model k times, each time without one study (metafor ``leave1out``).

    Row i holds the fit to the other k - 1 studies; for the intercept-only model

    .. math:: \hat\mu_{(-i)} = \frac{\sum_{j \ne i} w_j y_j}{\sum_{j \ne i} w_j}, \qquad
              w_j = \frac{1}{v_j + \hat\tau^2_{(-i)}}

    with :math:`\hat\tau^2_{(-i)}` re-estimated by the same method (0 for ``"FE"``),
    and the same test and interval as ``res``.

    Parameters
    ----------
    res : MetaResult
        An intercept-only fit from :func:`analysis.meta.meta_analysis`.
    labels : sequence, optional
        Study labels for the index (default "Study 1" ... "Study k").

    Returns
    -------
    BiasTable
        Columns estimate, se, statistic, pvalue, ci_low, ci_high, q, q_pvalue, tau2,
        i2, h2; row i is the fit without study i.

    References
    ----------
    Viechtbauer, W., & Cheung, M. W.-L. (2010). Outlier and influence diagnostics for
    meta-analysis. *Research Synthesis Methods, 1*, 112-125.
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.

    Examples
    --------
    >>> from analysis.meta import meta_analysis
    >>> res = meta_analysis([0.1, 0.3, 0.5, 0.2], [0.01, 0.02, 0.015, 0.03], method="DL")
    >>> leave_one_out(res).table.shape
    (4, 11)
    """
    res = _check_result(res)
    if res.p != 1:
        raise ValueError("leave_one_out is for models without moderators (res.p must be 1).")
    if res.method != "FE" and res.k < 3:
        raise ValueError("leave_one_out needs k >= 3 for a random-effects model.")
    if res.k < 2:
        raise ValueError("leave_one_out needs at least 2 studies (leaving out the only one leaves nothing to fit).")
    rows = []
    for i in range(res.k):
        keep = np.arange(res.k) != i
        rows.append(_row(_refit(res, keep)))
    return BiasTable("leave1out", pd.DataFrame(rows, index=_labels(labels, res.k, res)), res.method, res.test)


def _labels(labels: Any, k: int, res: MetaResult | None = None) -> pd.Index:
    if labels is None:
        return pd.Index([f"Study {i + 1}" for i in range(k)])
    if isinstance(labels, (str, bytes, dict)) or np.ndim(labels) != 1:
        raise ValueError(f"`labels` must be a sequence with one label per study, got {type(labels).__name__}.")
    labels = list(labels)
    if len(labels) != k:
        extra = ""
        if res is not None and res.dropped:
            extra = (f" (the fit omitted {len(res.dropped)} with missing values, "
                     f"{_where(res.dropped, res.dropped_kind)}: give labels for the {k} studies it used)")
        raise ValueError(f"`labels` has {len(labels)} entries but there are {k} studies{extra}.")
    return pd.Index(labels)


def influence(res: MetaResult, labels: Any = None) -> BiasTable:
    r"""Case-deletion influence diagnostics (Viechtbauer & Cheung, 2010; metafor ``influence``).

    With :math:`b_{(-i)}`, :math:`\tau^2_{(-i)}`, :math:`V_{(-i)}` and
    :math:`s^2_{(-i)}` (Knapp-Hartung factor, 1 for z tests) from the fit without study i:

    - rstudent: :math:`(y_i - x_i'b_{(-i)}) / \sqrt{s^2_{(-i)}(v_i + \tau^2_{(-i)}) + x_i'V_{(-i)}x_i}`
    - dffits: :math:`(x_i'b - x_i'b_{(-i)}) / \sqrt{s^2_{(-i)} h_i (\tau^2_{(-i)} + v_i)}`
    - cook_d: :math:`(b - b_{(-i)})' V^{-1} (b - b_{(-i)})` over all p coefficients
      (intercept included, as metafor's default)
    - cov_r: :math:`\det V_{(-i)} / \det V` (all p coefficients)
    - tau2_del, qe_del: tau^2 and Q without study i
    - hat: :math:`h_i = w_i x_i'(X'WX)^{-1}x_i`; weight: :math:`100 w_i / \sum w`
    - dfbetas: :math:`(b - b_{(-i)}) / \sqrt{s^2_{(-i)} [(X'W_{(-i)}X)^{-1}]_{jj}}` with
      :math:`W_{(-i)}` all k weights at :math:`\tau^2_{(-i)}`.

    Parameters
    ----------
    res : MetaResult
    labels : sequence, optional

    Returns
    -------
    BiasTable
        Columns rstudent, dffits, cook_d, cov_r, tau2_del, qe_del, hat, weight,
        dfbetas (intercept-only) or dfbetas_<coef>, and ``influential`` flagged by
        metafor's rules (``|dffits| > 3 sqrt(p/(k-p))``, P(chi2_p <= cook_d) > .5,
        hat > 3p/k, any ``|dfbetas| > 1``). When leaving study i out makes the
        moderator design singular (e.g. the only study in a category), metafor
        drops a coefficient and reports NA: row i then holds NaN in the
        case-deletion columns (hat and weight stay), a UserWarning names the study,
        and ``influential`` is decided by the remaining rules.

    References
    ----------
    Viechtbauer, W., & Cheung, M. W.-L. (2010). Outlier and influence diagnostics for
    meta-analysis. *Research Synthesis Methods, 1*, 112-125.
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.

    Examples
    --------
    >>> from analysis.meta import meta_analysis
    >>> res = meta_analysis([0.1, 0.3, 0.5, 0.2, 0.9], [0.01, 0.02, 0.015, 0.03, 0.02])
    >>> bool(influence(res).table["hat"].sum().round(8) == 1.0)
    True
    """
    res = _check_result(res)
    k, p = res.k, res.p
    if res.method != "FE" and k - 1 <= p:
        raise ValueError("influence needs k - 1 > p studies for a random-effects model.")
    if k - 1 < p:
        raise ValueError(f"influence needs k - 1 >= p studies (k = {k}, p = {p}): deleting a study leaves too few.")
    X, y, v = res.X, res.yi, res.vi
    index = _labels(labels, k, res)
    btt = list(range(p))  # metafor: Cook's distance and COVRATIO on all coefficients
    m = len(btt)
    svb = np.linalg.inv(res.vcov[np.ix_(btt, btt)])
    w = 1.0 / (v + res.tau2)
    Ainv = np.linalg.inv((X.T * w) @ X)
    hat = w * np.einsum("ij,jk,ik->i", X, Ainv, X)
    pred_full = X @ res.beta
    unit = math.ldexp(1.0, _scale_exponent(v))
    out = {c: np.full(k, np.nan) for c in ["rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "qe_del"]}
    dfbs = np.full((k, p), np.nan)
    skipped = []
    for i in range(k):
        keep = np.arange(k) != i
        Xk = X[keep]
        norms = np.linalg.norm(Xk, axis=0)
        if np.linalg.matrix_rank(Xk / np.where(norms > 0, norms, 1.0)) < p:  # metafor drops a coefficient: NA
            skipped.append(i)
            continue
        try:
            r = _refit(res, keep)
        except (np.linalg.LinAlgError, MetaConvergenceError):
            skipped.append(i)
            continue
        xi = X[i]
        delpred = float(xi @ r.beta)
        vdel = float(xi @ r.vcov @ xi)
        resid = y[i] - delpred
        if abs(resid) < 100 * np.finfo(float).eps * unit:  # metafor's rule, in units where median(v) ~ 1
            resid = 0.0
        out["rstudent"][i] = resid / math.sqrt(v[i] * r.s2w + vdel + r.tau2 * r.s2w)
        out["dffits"][i] = (pred_full[i] - delpred) / math.sqrt(r.s2w * hat[i] * (r.tau2 + v[i]))
        wd = 1.0 / (v + r.tau2)
        vb_del = np.linalg.inv((X.T * wd) @ X)
        dfb = res.beta - r.beta
        dfbs[i] = dfb / np.sqrt(r.s2w * np.diag(vb_del))
        db = dfb[btt]
        out["cook_d"][i] = float(db @ svb @ db)
        out["cov_r"][i] = np.linalg.det(r.vcov[np.ix_(btt, btt)]) / np.linalg.det(res.vcov[np.ix_(btt, btt)])
        out["tau2_del"][i] = r.tau2
        out["qe_del"][i] = r.q
    if skipped:
        warnings.warn(
            "influence: the model could not be refitted without "
            + describe_labels([repr(index[i]) for i in skipped], what="study" if len(skipped) == 1 else "studies")
            + " (leaving it out makes the moderator design singular or the fit fail); its case-deletion "
            "diagnostics (rstudent, dffits, cook_d, cov_r, tau2_del, qe_del, dfbetas) are NaN, "
            "as metafor reports NA.",
            UserWarning,
            stacklevel=2,
        )
    table = pd.DataFrame(out, index=index)
    table["hat"] = hat
    table["weight"] = res.weights
    if p == 1:
        table["dfbetas"] = dfbs[:, 0]
    else:
        for j, n in enumerate(res.coef_names):
            table[f"dfbetas_{n}"] = dfbs[:, j]
    table["influential"] = (
        (np.abs(table["dffits"]) > 3 * math.sqrt(p / (k - p)))
        | (stats.chi2.cdf(table["cook_d"], m) > 0.5)
        | (table["hat"] > 3 * p / k)
        | (np.abs(dfbs) > 1).any(axis=1)
    )
    return BiasTable("influence", table, res.method, res.test)


# ------------------------------------------------------------------------ Egger


@dataclass
class EggerResult(ResultMixin):
    """Egger's regression test (metafor ``regtest``, model "rma", predictor "sei").

    ``statistic``/``pvalue`` test the slope on the standard error (z, or t with
    ``df`` = k - 2 for Knapp-Hartung fits); ``limit_estimate`` with its CI is the
    intercept, the estimate as the standard error goes to 0.
    """

    statistic: float
    pvalue: float
    df: int | None
    slope: float
    limit_estimate: float
    limit_ci_low: float
    limit_ci_high: float
    fit: MetaResult
    test: str

    def to_frame(self) -> pd.DataFrame:
        """The test regression's coefficient table (``intrcpt`` = limit estimate, ``sei`` = asymmetry)."""
        return self.fit.to_frame()

    def summary(self) -> str:
        """metafor-like print of the test."""
        dist = f"t = {_fmt(self.statistic)}, df = {self.df}" if self.test == "knha" else f"z = {_fmt(self.statistic)}"
        return (
            "Regression Test for Funnel Plot Asymmetry\n\n"
            f"Model:     {'mixed-effects' if self.fit.method != 'FE' else 'fixed-effects'} meta-regression model\n"
            "Predictor: standard error\n\n"
            f"Test for Funnel Plot Asymmetry: {dist}, p = {_fmt_p(self.pvalue)}\n"
            f"Limit Estimate (as sei -> 0):   b = {_fmt(self.limit_estimate)} "
            f"(CI: {_fmt(self.limit_ci_low)}, {_fmt(self.limit_ci_high)})\n"
        )

    def apa(self) -> str:
        """One-line APA-style report."""
        stat = f"t({self.df}) = {_apa_num(self.statistic)}" if self.test == "knha" else f"z = {_apa_num(self.statistic)}"
        return (f"Egger's regression test {'did' if self.pvalue < 0.05 else 'did not'} indicate funnel plot "
                f"asymmetry, {stat}, {_apa_p(self.pvalue)}.")

    def __repr__(self) -> str:
        return self.summary()


def egger_test(res: MetaResult) -> EggerResult:
    r"""Egger's regression test for funnel-plot asymmetry (Egger et al., 1997), as metafor's ``regtest``.

    Fits :math:`y_i = \beta_0 + \beta_1 \sqrt{v_i} + u_i + e_i` with the same
    tau^2 estimator and test as ``res`` (a mixed-effects meta-regression, or a
    weighted regression for FE) and tests :math:`H_0: \beta_1 = 0`.

    Parameters
    ----------
    res : MetaResult
        Intercept-only fit.

    Returns
    -------
    EggerResult

    References
    ----------
    Egger, M., Davey Smith, G., Schneider, M., & Minder, C. (1997). Bias in
    meta-analysis detected by a simple, graphical test. *BMJ, 315*, 629-634.
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.

    Examples
    --------
    >>> from analysis.meta import meta_analysis
    >>> res = meta_analysis([0.1, 0.3, 0.5, 0.2, 0.9], [0.01, 0.02, 0.015, 0.03, 0.02])
    >>> egger_test(res).df is None
    True
    """
    res = _check_result(res)
    if res.p != 1:
        raise ValueError("egger_test is implemented for models without moderators (res.p must be 1).")
    if res.k < 3:
        raise ValueError("egger_test needs at least 3 studies.")
    _check_sei_varies(res.vi, "egger_test")
    X = np.column_stack([res.X, np.sqrt(res.vi)])
    fit = _fit(res.yi, res.vi, X, ["intrcpt", "sei"], True, res.method, res.test, res.level, compute_r2=False,
               warn_fe_knha=False)
    coef = fit.coefficients
    return EggerResult(
        statistic=float(coef.iloc[1, 2]), pvalue=float(coef.iloc[1, 3]), df=fit.df, slope=float(fit.beta[1]),
        limit_estimate=float(fit.beta[0]), limit_ci_low=float(coef.iloc[0, 4]), limit_ci_high=float(coef.iloc[0, 5]),
        fit=fit, test=res.test,
    )


def _check_sei_varies(v: np.ndarray, who: str) -> None:
    """The standard error as a predictor needs studies of different precision."""
    sei = np.sqrt(v)
    if np.ptp(sei) <= 1e-8 * float(np.max(sei)):
        raise ValueError(
            f"{who}: every study has the same sampling variance (`vi`), so the standard error cannot be used "
            "as a predictor (funnel-plot asymmetry is not identified)."
        )


# -------------------------------------------------------------------- trim and fill


@dataclass
class TrimFillResult(ResultMixin):
    """Trim-and-fill results (metafor ``trimfill``).

    ``k0`` studies were imputed on ``side``; ``fit`` is the model refitted on the
    observed plus filled studies (``yi``, ``vi``, ``filled`` marks the imputed ones).
    """

    k0: int
    se_k0: float
    side: str
    estimator: str
    fit: MetaResult
    yi: np.ndarray
    vi: np.ndarray
    filled: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """Coefficient table of the fit to the filled data (the adjusted pooled effect)."""
        return self.fit.to_frame()

    @property
    def estimate(self) -> float:
        """Adjusted pooled estimate."""
        return self.fit.estimate

    def summary(self) -> str:
        """Adds the number of imputed studies to the refitted model's summary."""
        return (f"Estimated number of missing studies on the {self.side} side: {self.k0} "
                f"(SE = {_fmt(self.se_k0)}; estimator {self.estimator})\n" + self.fit.summary())

    def apa(self) -> str:
        """One-line APA-style report."""
        f = self.fit
        return (f"Trim-and-fill ({self.estimator}) imputed {self.k0} stud{'y' if self.k0 == 1 else 'ies'} on the "
                f"{self.side} side; the adjusted estimate was {_apa_num(f.estimate)}, "
                f"{int(round(f.level * 100))}% CI [{_apa_num(f.ci_low)}, {_apa_num(f.ci_high)}].")

    def __repr__(self) -> str:
        return self.summary()


def trim_and_fill(res: MetaResult, *, estimator: str = "L0", side: str | None = None,
                  maxiter: int = 100) -> TrimFillResult:
    r"""Trim-and-fill (Duval & Tweedie, 2000) as metafor's ``trimfill``.

    Side (when None): "left" if the slope of the Egger-type regression of y on
    :math:`\sqrt{v}` (same estimator, z test) is >= 0, else "right". The
    algorithm sorts the effects, repeatedly fits the model to the k - k0 least
    extreme ones and estimates k0 from the signed ranks :math:`r_i` of
    :math:`|y_i - \hat\mu|`:

    - L0: :math:`k_0 = (4 S_r - k(k+1)) / (2k - 1)`, :math:`S_r` = sum of positive ranks;
    - R0: :math:`k_0 = k - \gamma - 1`, :math:`\gamma` the largest rank of a negative deviation;

    rounded and truncated at 0, until k0 is stable. The k0 most extreme studies are
    mirrored (:math:`2\hat\mu - y_i`, same v) and the model is refitted. As in
    metafor, these fits use the z test whatever ``res.test`` is.

    Parameters
    ----------
    res : MetaResult
        Intercept-only fit.
    estimator : {"L0", "R0"}
    side : {"left", "right"}, optional
    maxiter : int

    Returns
    -------
    TrimFillResult

    References
    ----------
    Duval, S., & Tweedie, R. (2000). Trim and fill: A simple funnel-plot-based method
    of testing and adjusting for publication bias in meta-analysis.
    *Biometrics, 56*, 455-463.
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.

    Examples
    --------
    >>> from analysis.meta import meta_analysis
    >>> res = meta_analysis([0.1, 0.3, 0.5, 0.2, 0.9, 0.7], [0.01, 0.02, 0.015, 0.03, 0.08, 0.06])
    >>> trim_and_fill(res).side
    'left'
    """
    res = _check_result(res)
    estimator = check_choice("estimator", estimator, ("L0", "R0"))
    maxiter = _check_maxiter(maxiter)
    if side is not None:
        side = check_choice("side", side, ("left", "right"))
    if res.p != 1:
        raise ValueError("Trim-and-fill applies to models without moderators (res.p must be 1).")
    if res.k < 3:
        raise ValueError("trim_and_fill needs at least 3 studies.")
    y0, v0 = res.yi, res.vi
    method = res.method
    if side is None:
        _check_sei_varies(v0, "trim_and_fill (choosing the side; pass side='left' or 'right')")
        X = np.column_stack([np.ones(res.k), np.sqrt(v0)])
        f = _fit(y0, v0, X, ["intrcpt", "sei"], True, method, "z", res.level, compute_r2=False)
        side = "right" if f.beta[1] < 0 else "left"
    y = -y0 if side == "right" else y0.copy()
    ix = np.argsort(y, kind="stable")
    y, v = y[ix], v0[ix]
    k = y.shape[0]
    k0, k0_prev, it = 0, -1, 0
    one = np.ones((k, 1))
    se_k0 = float("nan")
    while k0 != k0_prev:
        k0_prev = k0
        it += 1
        if it > maxiter:
            raise MetaConvergenceError(
                f"Trim and fill algorithm did not converge in maxiter = {maxiter} iterations; try a larger `maxiter`.")
        kt = k - k0
        fit_method = method if kt >= 2 else "FE"
        beta = _fit(y[:kt], v[:kt], one[:kt], ["intrcpt"], True, fit_method, "z", res.level,
                    compute_r2=False).beta[0]
        yc = y - beta
        ranks = np.empty(k)
        ranks[np.argsort(np.abs(yc), kind="stable")] = np.arange(1, k + 1)
        signed = np.sign(yc) * ranks
        if estimator == "R0":
            neg = -signed[signed < 0]
            k0_raw = (k - (neg.max() if neg.size else 0)) - 1
            se_k0 = math.sqrt(2 * max(0, k0_raw) + 2)
        else:
            sr = signed[signed > 0].sum()
            k0_raw = (4 * sr - k * (k + 1)) / (2 * k - 1)
            var_sr = (k * (k + 1) * (2 * k + 1) + 10 * k0_raw**3 + 27 * k0_raw**2 + 17 * k0_raw
                      - 18 * k * k0_raw**2 - 18 * k * k0_raw + 6 * k**2 * k0_raw) / 24
            se_k0 = 4 * math.sqrt(var_sr) / (2 * k - 1) if var_sr > 0 else float("nan")
        k0 = max(0, int(_round_half_even(k0_raw)))
        se_k0 = max(0.0, se_k0)
    if k0 > 0:
        yc = y - beta
        mirrored = -(yc[k - k0:] - beta)  # 2*beta - y on the (possibly flipped) scale
        yfill = -mirrored if side == "right" else mirrored
        yi_all = np.concatenate([y0, yfill])
        vi_all = np.concatenate([v0, v[k - k0:]])
        fit = _fit(yi_all, vi_all, np.ones((yi_all.shape[0], 1)), ["intrcpt"], True, method, "z", res.level,
                   compute_r2=False)
    else:
        yi_all, vi_all = y0.copy(), v0.copy()
        fit = res
    filled = np.r_[np.zeros(res.k, bool), np.ones(k0, bool)]
    return TrimFillResult(k0=k0, se_k0=se_k0, side=side, estimator=estimator, fit=fit, yi=yi_all, vi=vi_all,
                          filled=filled)


def _round_half_even(x: float) -> float:
    """R's round(): IEC 60559 round half to even (as Python's round)."""
    return float(round(x))


# ----------------------------------------------------------------------- cumulative


def cumulative(res: MetaResult, order: Any = None, labels: Any = None, *, na_action: str = "fail") -> BiasTable:
    r"""Cumulative meta-analysis (metafor ``cumul``): fit the first 1, 2, ..., k studies.

    Row m holds the fit to the first m studies in the chosen order; for the
    intercept-only model

    .. math:: \hat\mu_{(1:m)} = \frac{\sum_{j \le m} w_j y_j}{\sum_{j \le m} w_j}, \qquad
              w_j = \frac{1}{v_j + \hat\tau^2_{(1:m)}}

    with :math:`\hat\tau^2_{(1:m)}` re-estimated by the same method (0 for ``"FE"``).

    Parameters
    ----------
    res : MetaResult
        Intercept-only fit.
    order : array-like, optional
        Sort key (e.g. publication year); studies are added in increasing order
        (stable for ties). Default: the order of the data.
    labels : sequence, optional
    na_action : {"fail", "omit"}
        Missing values (NaN/None) in ``order``: refuse them (default), or leave those studies
        out of the cumulative sequence with a UserWarning that lists them (0-based positions).

    Returns
    -------
    BiasTable
        Row j is the model fitted on the first j studies (a single study gives
        tau^2 = 0 and a z test, as in metafor).

    References
    ----------
    Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009).
    *Introduction to meta-analysis*. Wiley.
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.

    Examples
    --------
    >>> from analysis.meta import meta_analysis
    >>> res = meta_analysis([0.1, 0.3, 0.5, 0.2], [0.01, 0.02, 0.015, 0.03], method="DL")
    >>> float(cumulative(res).table["estimate"].iloc[0])
    0.1
    """
    res = _check_result(res)
    if res.p != 1:
        raise ValueError("cumulative is for models without moderators (res.p must be 1).")
    na_action = check_na_action(na_action)
    k = res.k
    idx = np.arange(k)
    lab = _labels(labels, k, res)
    if order is not None:
        if isinstance(order, (str, bytes, dict)) or np.ndim(order) != 1:
            raise ValueError(f"`order` must be a sequence with one sort key per study, got {type(order).__name__}.")
        key = order.to_numpy() if isinstance(order, pd.Series) else np.asarray(order)
        if key.shape[0] != k:
            raise ValueError(f"`order` has {key.shape[0]} entries but there are {k} studies.")
        miss = pd.isna(pd.Series(key, dtype=object)).to_numpy(dtype=bool)
        if miss.any():
            where = _where([int(i) for i in np.flatnonzero(miss)], "positions")
            if na_action == "fail":
                raise ValueError(f"`order` has missing values (NaN/None) at {where}; give every study a sort key "
                                 "or pass na_action='omit' to leave those studies out.")
            warnings.warn(f"na_action='omit': {int(miss.sum())} of {k} studies left out of the cumulative "
                          f"analysis because `order` is missing ({where}).", UserWarning, stacklevel=2)
        ok = np.flatnonzero(~miss)
        try:
            idx = ok[np.argsort(key[ok], kind="stable")]
        except TypeError:
            raise ValueError("`order` mixes values that cannot be compared (e.g. numbers and strings).") from None
        if idx.size == 0:
            raise ValueError("`order` is missing for every study: nothing to accumulate.")
    lab = lab[idx]
    rows = []
    for j in range(1, idx.size + 1):
        rows.append(_row(_refit(res, idx[:j])))
    return BiasTable("cumul", pd.DataFrame(rows, index=lab), res.method, res.test)


# =====================================================================================
# Rank-correlation test, fail-safe N and PET-PEESE (appended; see also analysis.meta_selection)
# =====================================================================================

from analysis.meta import _pv_eq, _stars  # noqa: E402  (kept here so the appended section stays self-contained)


def _pb_check(res: Any, fname: str, *, min_k: int = 3, need_spread: bool = True) -> MetaResult:
    """Shared checks of the publication-bias helpers: intercept-only fit, enough studies."""
    res = _check_result(res)
    if res.p != 1:
        raise ValueError(f"{fname} is for models without moderators (res.p must be 1, got {res.p}).")
    if res.k < min_k:
        raise ValueError(f"{fname} needs at least {min_k} studies; `res` has k = {res.k}.")
    if need_spread and np.ptp(res.vi) == 0:
        raise ValueError(f"{fname}: all sampling variances `vi` are equal, so the effects cannot be related to "
                         "their precision (the test is not defined).")
    return res


@dataclass
class RankTestResult:
    """Begg & Mazumdar's rank-correlation test (metafor ``ranktest``).

    ``estimate`` is Kendall's tau-b between the standardised deviates and the
    sampling variances; ``pvalue`` is two-sided (``exact`` says whether it is the
    exact permutation p-value or the normal approximation used with ties).
    """

    estimate: float
    pvalue: float
    statistic: float
    exact: bool
    k: int
    n_studies = property(lambda self: self.k, doc="Number of studies (effect sizes), metafor's k.")

    @property
    def n_studies(self) -> int:
        """Number of studies (k)."""
        return self.k

    def summary(self) -> str:
        """metafor-like print."""
        return ("\nRank Correlation Test for Funnel Plot Asymmetry\n\n"
                f"Kendall's tau = {_fmt(self.estimate)}, p {_pv_eq(self.pvalue).replace('<', '< ')}\n")

    def to_frame(self) -> pd.DataFrame:
        """One-row table (term, estimate, se, statistic, pvalue, ci_low, ci_high, exact, n_studies)."""
        return pd.DataFrame([{"term": "kendall_tau", "estimate": self.estimate, "se": np.nan,
                              "statistic": self.statistic, "pvalue": self.pvalue, "ci_low": np.nan,
                              "ci_high": np.nan, "exact": self.exact, "n_studies": self.k}])

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python summary."""
        return {"estimate": self.estimate, "statistic": self.statistic, "pvalue": self.pvalue, "exact": self.exact,
                "n_studies": self.k}

    def apa(self) -> str:
        """One-line APA-style report."""
        return (f"The rank-correlation test (Begg & Mazumdar, 1994) {'did' if self.pvalue < 0.05 else 'did not'} "
                f"indicate funnel plot asymmetry, Kendall's \u03c4 = {_apa_num(self.estimate)}, {_apa_p(self.pvalue)}.")

    def __repr__(self) -> str:
        return self.summary()


def rank_correlation_test(res: MetaResult, *, exact: bool = True) -> RankTestResult:
    r"""Rank-correlation test for funnel-plot asymmetry (Begg & Mazumdar, 1994), as metafor's ``ranktest``.

    With the fixed-effect estimate :math:`\bar y = \sum w_i y_i / \sum w_i`
    (:math:`w_i = 1/v_i`), the standardised deviates
    :math:`y_i^* = (y_i - \bar y) / \sqrt{v_i - 1/\sum w_j}` are correlated with
    :math:`v_i` by Kendall's :math:`\tau_b`. The two-sided p-value is exact
    (permutation distribution, as R's ``cor.test(..., exact = TRUE)``) when neither
    variable has ties, otherwise from the normal approximation with the
    tie-corrected variance of S (no continuity correction). The test uses only
    ``res.yi`` and ``res.vi``, not the model. Built on ``scipy.stats.kendalltau``.

    Parameters
    ----------
    res : MetaResult
        Intercept-only fit from :func:`analysis.meta.meta_analysis`.
    exact : bool
        Exact p-value when there are no ties (metafor's default); False forces the
        normal approximation.

    Returns
    -------
    RankTestResult

    References
    ----------
    Begg, C. B., & Mazumdar, M. (1994). Operating characteristics of a rank
    correlation test for publication bias. *Biometrics, 50*, 1088-1101.

    Examples
    --------
    >>> from analysis.meta import meta_analysis
    >>> res = meta_analysis([0.1, 0.3, 0.35, 0.6, 0.2, 0.8, 0.45],
    ...                     [0.01, 0.02, 0.03, 0.05, 0.015, 0.08, 0.04])
    >>> rt = rank_correlation_test(res)
    >>> round(rt.estimate, 4), round(rt.pvalue, 6), rt.exact
    (1.0, 0.000397, True)
    """
    res = _pb_check(res, "rank_correlation_test")
    if not isinstance(exact, (bool, np.bool_)):
        raise ValueError(f"`exact` must be True or False, got {exact!r}.")
    y, v = res.yi, res.vi
    w = 1.0 / v
    theta = float(np.dot(w, y) / w.sum())
    vstar = v - 1.0 / w.sum()
    ystar = (y - theta) / np.sqrt(vstar)
    k = y.shape[0]
    ties = min(np.unique(ystar).size, np.unique(v).size) < k
    use_exact = bool(exact) and not ties
    kt = stats.kendalltau(ystar, v, method="exact" if use_exact else "asymptotic", variant="b")
    tau = float(kt.statistic)
    if not np.isfinite(tau):
        raise ValueError("rank_correlation_test: Kendall's tau is undefined (a variable is constant).")
    # the z statistic of S (reported for the normal approximation; for the exact test too, for reference)
    n0 = k * (k - 1) / 2
    _, cx = np.unique(ystar, return_counts=True)
    _, cy = np.unique(v, return_counts=True)
    t1, t2 = float(np.sum(cx * (cx - 1)) / 2), float(np.sum(cy * (cy - 1)) / 2)
    S = tau * math.sqrt((n0 - t1) * (n0 - t2))
    var_s = ((k * (k - 1) * (2 * k + 5) - np.sum(cx * (cx - 1) * (2 * cx + 5)) - np.sum(cy * (cy - 1) * (2 * cy + 5)))
             / 18 + 4 * t1 * t2 / (2 * k * (k - 1))
             + np.sum(cx * (cx - 1) * (cx - 2)) * np.sum(cy * (cy - 1) * (cy - 2)) / (9 * k * (k - 1) * (k - 2)))
    return RankTestResult(estimate=tau, pvalue=float(kt.pvalue), statistic=float(S / math.sqrt(var_s)),
                          exact=use_exact, k=k)


FSN_TYPES = ("Rosenthal", "Orwin", "Rosenberg")


@dataclass
class FailSafeNResult:
    """Fail-safe N (metafor ``fsn``): how many null studies would overturn the result.

    ``fsn`` is the number (rounded up, as metafor; ``math.inf`` for Orwin with a
    target of 0); ``pvalue`` is the observed (combined) significance (Rosenthal,
    Rosenberg), ``mean_effect``/``target`` the average and target effect (Orwin,
    Rosenberg).
    """

    type: str
    fsn: float
    alpha: float
    pvalue: float | None
    mean_effect: float | None
    target: float | None
    k: int
    n_studies = property(lambda self: self.k, doc="Number of studies (effect sizes), metafor's k.")
    weighted: bool = False

    @property
    def n_studies(self) -> int:
        """Number of studies (k)."""
        return self.k

    def summary(self) -> str:
        """metafor-like print."""
        lines = ["", f"Fail-safe N Calculation Using the {self.type} Approach", ""]
        if self.type == "Rosenthal":
            lines += [f"Observed Significance Level: {_fmt_p(self.pvalue)}", f"Target Significance Level:   {self.alpha:g}"]
        elif self.type == "Orwin":
            lines += [f"Average Effect Size: {_fmt(self.mean_effect)}", f"Target Effect Size:  {_fmt(self.target)}"]
        else:
            lines += [f"Average Effect Size:         {_fmt(self.mean_effect)}",
                      f"Observed Significance Level: {_fmt_p(self.pvalue)}",
                      f"Target Significance Level:   {self.alpha:g}"]
        fs = "Inf" if math.isinf(self.fsn) else str(int(self.fsn))
        lines += ["", f"Fail-safe N: {fs}", ""]
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """One-row table (term, estimate = fail-safe N, pvalue = observed significance, ...)."""
        return pd.DataFrame([{"term": f"fsn_{self.type.lower()}", "estimate": self.fsn, "se": np.nan,
                              "statistic": np.nan, "pvalue": np.nan if self.pvalue is None else self.pvalue,
                              "ci_low": np.nan, "ci_high": np.nan, "alpha": self.alpha,
                              "mean_effect": np.nan if self.mean_effect is None else self.mean_effect,
                              "target": np.nan if self.target is None else self.target, "n_studies": self.k}])

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python summary."""
        return {"type": self.type, "fsn": self.fsn, "alpha": self.alpha, "pvalue": self.pvalue,
                "mean_effect": self.mean_effect, "target": self.target, "weighted": self.weighted,
                "n_studies": self.k}

    def apa(self) -> str:
        """One-line APA-style report."""
        fs = "infinitely many" if math.isinf(self.fsn) else f"{int(self.fsn)}"
        if self.type == "Orwin":
            return (f"Orwin's fail-safe N was {fs}: that many studies with a null effect would bring the average "
                    f"effect of {_apa_num(self.mean_effect)} down to {_apa_num(self.target)}.")
        return (f"{self.type}'s fail-safe N was {fs}: that many null studies would make the combined result "
                f"non-significant at \u03b1 = {self.alpha:g}.")

    def __repr__(self) -> str:
        return self.summary()


def fail_safe_n(res: MetaResult, *, type: str = "Rosenthal", alpha: float = 0.05,  # noqa: A002
                target: float | None = None, weighted: bool = False) -> FailSafeNResult:
    r"""Fail-safe N (metafor ``fsn``): Rosenthal (1979), Orwin (1983) or Rosenberg (2005).

    - Rosenthal (Stouffer's method): :math:`z_i = y_i/\sqrt{v_i}`,
      :math:`\bar z = |\sum z_i| / \sqrt{k}`, observed one-sided p = :math:`1 - \Phi(\bar z)`,
      :math:`N = k (\bar z / z_{1-\alpha})^2 - k`.
    - Orwin: :math:`N = k (\bar y - y_T) / y_T` with :math:`\bar y` the (unweighted,
      or with ``weighted=True`` inverse-variance weighted) mean and target
      :math:`y_T` (default :math:`\bar y / 2`, sign matched to :math:`\bar y`).
    - Rosenberg: with :math:`w_i = 1/v_i`,
      :math:`N = k [(\sum w_i y_i / z_{1-\alpha/2})^2 - \sum w_i] / \sum w_i`; the
      observed p-value is the two-sided fixed-effect z test.

    N is truncated at 0 and rounded up to an integer as in metafor. Only
    ``res.yi``/``res.vi`` are used (not the fitted model).

    Parameters
    ----------
    res : MetaResult
        Intercept-only fit.
    type : {"Rosenthal", "Orwin", "Rosenberg"}
    alpha : float
        Target significance level (metafor's default .05).
    target : float, optional
        Orwin's target effect (default: half the average effect). A target of 0
        gives an infinite N.
    weighted : bool
        Orwin with the inverse-variance weighted mean.

    Returns
    -------
    FailSafeNResult

    References
    ----------
    Rosenthal, R. (1979). The file drawer problem and tolerance for null results.
    *Psychological Bulletin, 86*, 638-641.
    Orwin, R. G. (1983). A fail-safe N for effect size in meta-analysis. *Journal of
    Educational Statistics, 8*, 157-159.
    Rosenberg, M. S. (2005). The file-drawer problem revisited: A general weighted
    method for calculating fail-safe numbers in meta-analysis. *Evolution, 59*,
    464-468.

    Examples
    --------
    >>> from analysis.meta import meta_analysis
    >>> res = meta_analysis([0.3, 0.5, 0.2, 0.4], [0.02, 0.03, 0.01, 0.05])
    >>> fail_safe_n(res).fsn
    25
    >>> fail_safe_n(res, type="Orwin").fsn
    4
    """
    res = _pb_check(res, "fail_safe_n", min_k=1, need_spread=False)
    type_ = check_choice("type", type, FSN_TYPES)
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.number)) or not 0 < alpha < 1:
        raise ValueError(f"`alpha` must lie strictly between 0 and 1, got {alpha!r}.")
    alpha = float(alpha)
    if not isinstance(weighted, (bool, np.bool_)):
        raise ValueError(f"`weighted` must be True or False, got {weighted!r}.")
    if target is not None:
        if type_ != "Orwin":
            raise ValueError(f"`target` applies to type='Orwin' only (got type={type_!r}).")
        if isinstance(target, bool) or not isinstance(target, (int, float, np.number)) or not np.isfinite(target):
            raise ValueError(f"`target` must be a finite number, got {target!r}.")
    y, v = res.yi, res.vi
    k = y.shape[0]
    pval = mean_es = tgt = None
    if type_ == "Rosenthal":
        if alpha >= 0.5:
            raise ValueError(f"`alpha` must be below 0.5 for type='Rosenthal' (its one-sided critical value "
                             f"z_(1-alpha) must be positive); got {alpha!r}.")
        z_avg = abs(float(np.sum(y / np.sqrt(v)))) / math.sqrt(k)
        pval = float(stats.norm.sf(z_avg))
        n = max(0.0, k * (z_avg / stats.norm.isf(alpha)) ** 2 - k)
    elif type_ == "Orwin":
        mean_es = float(np.dot(1 / v, y) / np.sum(1 / v)) if weighted else float(np.mean(y))
        tgt = mean_es / 2 if target is None else float(target)
        if tgt == 0:
            n = math.inf
        else:
            if np.sign(tgt) != np.sign(mean_es):
                tgt = -tgt
            n = max(0.0, k * (mean_es - tgt) / tgt)
    else:
        w = 1 / v
        mean_es = float(np.dot(w, y) / w.sum())
        zval = mean_es * math.sqrt(w.sum())
        wp = (float(np.dot(w, y)) / stats.norm.isf(alpha / 2)) ** 2 - w.sum()
        pval = float(2 * stats.norm.sf(abs(zval)))
        n = max(0.0, k * wp / w.sum())
    if not math.isinf(n):
        n = math.ceil(n) if abs(n - round(n)) >= math.sqrt(np.finfo(float).eps) else round(n)
        n = int(n)
    return FailSafeNResult(type=type_, fsn=n, alpha=alpha, pvalue=pval, mean_effect=mean_es, target=tgt, k=k,
                           weighted=bool(weighted))


@dataclass
class PetPeeseResult:
    """PET-PEESE (Stanley & Doucouliagos, 2014).

    ``pet`` and ``peese`` are the two coefficient tables (term, estimate, se,
    statistic, pvalue, ci_low, ci_high); ``selected`` is "PET" or "PEESE" by the
    conditional rule, and ``estimate``/``se``/``statistic``/``pvalue``/``ci_low``/
    ``ci_high`` are the selected model's intercept (the bias-adjusted effect).
    """

    pet: pd.DataFrame
    peese: pd.DataFrame
    selected: str
    alpha: float
    error: str
    df: int | None
    k: int
    n_studies = property(lambda self: self.k, doc="Number of studies (effect sizes), metafor's k.")
    level: float

    @property
    def n_studies(self) -> int:
        """Number of studies (k)."""
        return self.k

    def _row(self) -> pd.Series:
        tab = self.pet if self.selected == "PET" else self.peese
        return tab.iloc[0]

    @property
    def estimate(self) -> float:
        """Intercept of the selected model (the effect at se = 0)."""
        return float(self._row()["estimate"])

    @property
    def se(self) -> float:
        """Its standard error."""
        return float(self._row()["se"])

    @property
    def statistic(self) -> float:
        """Its z (additive) or t (multiplicative error) statistic."""
        return float(self._row()["statistic"])

    @property
    def pvalue(self) -> float:
        """Its two-sided p-value."""
        return float(self._row()["pvalue"])

    @property
    def ci_low(self) -> float:
        """Lower confidence bound of the selected intercept."""
        return float(self._row()["ci_low"])

    @property
    def ci_high(self) -> float:
        """Upper confidence bound of the selected intercept."""
        return float(self._row()["ci_high"])

    @property
    def pet_pvalue(self) -> float:
        """Two-sided p-value of PET's intercept (the rule's test)."""
        return float(self.pet.iloc[0]["pvalue"])

    def to_frame(self) -> pd.DataFrame:
        """Both models stacked, with columns ``model`` and ``selected``."""
        a = self.pet.assign(model="PET", selected=self.selected == "PET")
        b = self.peese.assign(model="PEESE", selected=self.selected == "PEESE")
        return pd.concat([a, b], ignore_index=True)

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python summary."""
        return {"selected": self.selected, "estimate": self.estimate, "se": self.se, "statistic": self.statistic,
                "pvalue": self.pvalue, "ci_low": self.ci_low, "ci_high": self.ci_high, "alpha": self.alpha,
                "error": self.error, "df": self.df, "n_studies": self.k,
                "coefficients": self.to_frame().to_dict(orient="records")}

    def summary(self) -> str:
        """The two meta-regressions in metafor's layout and the rule's decision."""
        stat = "zval" if self.error == "additive" else "tval"
        kind = ("fixed-effects meta-regression (rma(yi, vi, mods, method = 'FE'))" if self.error == "additive"
                else f"weighted least squares with multiplicative error (lm(yi ~ x, weights = 1/vi), df = {self.df})")
        lines = ["", f"PET-PEESE (k = {self.k}; {kind})", ""]
        for name, tab, pred in (("PET", self.pet, "standard error"), ("PEESE", self.peese, "sampling variance")):
            lines.append(f"{name}: predictor {pred}")
            lines.append("")
            header = ["estimate", "se", stat, "pval", "ci.lb", "ci.ub"]
            cells = [[_fmt(r.estimate), _fmt(r.se), _fmt(r.statistic), _fmt_p(r.pvalue), _fmt(r.ci_low),
                      _fmt(r.ci_high)] for r in tab.itertuples()]
            names = list(tab["term"])
            nw = max(len(n) for n in names)
            widths = [max(len(h), *(len(c[j]) for c in cells)) for j, h in enumerate(header)]
            lines.append(" " * (nw + 2) + "  ".join(h.rjust(wd) for h, wd in zip(header, widths)))
            for n, c, pv in zip(names, cells, tab["pvalue"]):
                lines.append(n.ljust(nw) + "  " + "  ".join(x.rjust(wd) for x, wd in zip(c, widths)) + "  "
                             + _stars(pv))
            lines.append("")
        lines.append(f"Rule: PET's intercept p = {_fmt_p(self.pet_pvalue)} (two-sided) "
                     f"{'<' if self.selected == 'PEESE' else '>='} alpha = {self.alpha:g}: use {self.selected}.")
        lines.append(f"Bias-adjusted estimate ({self.selected}): {_fmt(self.estimate)} "
                     f"(CI: {_fmt(self.ci_low)}, {_fmt(self.ci_high)})")
        return "\n".join(lines) + "\n"

    def apa(self) -> str:
        """One-line APA-style report."""
        stat = f"z = {_apa_num(self.statistic)}" if self.error == "additive" else f"t({self.df}) = {_apa_num(self.statistic)}"
        return (f"PET-PEESE (Stanley & Doucouliagos, 2014) selected {self.selected}; the bias-adjusted estimate was "
                f"{_apa_num(self.estimate)}, {int(round(self.level * 100))}% CI [{_apa_num(self.ci_low)}, "
                f"{_apa_num(self.ci_high)}], {stat}, {_apa_p(self.pvalue)}.")

    def __repr__(self) -> str:
        return self.summary()


def _pp_table(names: list[str], b, se, stat, pv, lo, hi) -> pd.DataFrame:
    return pd.DataFrame({"term": names, "estimate": np.asarray(b, float), "se": np.asarray(se, float),
                         "statistic": np.asarray(stat, float), "pvalue": np.asarray(pv, float),
                         "ci_low": np.asarray(lo, float), "ci_high": np.asarray(hi, float)})


def pet_peese(res: MetaResult, *, alpha: float = 0.10, error: str = "additive") -> PetPeeseResult:
    r"""PET-PEESE (Stanley & Doucouliagos, 2014): the effect of a study with standard error 0.

    PET regresses :math:`y_i = \beta_0 + \beta_1 \sqrt{v_i} + e_i`, PEESE
    :math:`y_i = \beta_0 + \beta_1 v_i + e_i`, both weighted by :math:`1/v_i`;
    :math:`\beta_0` is the bias-adjusted effect. Conditional rule: PEESE's
    :math:`\beta_0` is reported when PET's :math:`\beta_0` differs from 0 at
    two-sided ``alpha`` = .10 (equivalently, a one-sided .05 test in the direction
    of the estimate, the test Stanley & Doucouliagos propose for a genuine effect),
    otherwise PET's.

    ``error="additive"`` (default) is the common metafor recipe
    ``rma(yi, vi, mods = ~ sqrt(vi), method = "FE")`` (and ``mods = ~ vi``):
    :math:`\mathrm{Var}(b) = (X'WX)^{-1}` and z tests. ``error="multiplicative"``
    is the weighted least squares of Stanley & Doucouliagos,
    ``lm(yi ~ sqrt(vi), weights = 1/vi)``: Var(b) scaled by the residual variance,
    t tests with k - 2 df (``statsmodels.WLS``).

    Parameters
    ----------
    res : MetaResult
        Intercept-only fit (its level sets the confidence level).
    alpha : float
        Two-sided significance level of PET's intercept test (default .10).
    error : {"additive", "multiplicative"}

    Returns
    -------
    PetPeeseResult

    References
    ----------
    Stanley, T. D., & Doucouliagos, H. (2014). Meta-regression approximations to
    reduce publication selection bias. *Research Synthesis Methods, 5*, 60-78.
    Stanley, T. D. (2017). Limitations of PET-PEESE and other meta-analysis methods.
    *Social Psychological and Personality Science, 8*, 581-591.

    Examples
    --------
    >>> from analysis.meta import meta_analysis
    >>> res = meta_analysis([0.1, 0.3, 0.35, 0.6, 0.2, 0.8, 0.45],
    ...                     [0.01, 0.02, 0.03, 0.05, 0.015, 0.08, 0.04])
    >>> pp = pet_peese(res)
    >>> pp.selected, round(pp.estimate, 4)
    ('PET', -0.2657)
    """
    res = _pb_check(res, "pet_peese")
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.number)) or not 0 < alpha < 1:
        raise ValueError(f"`alpha` must lie strictly between 0 and 1, got {alpha!r}.")
    error = check_choice("error", error, ("additive", "multiplicative"))
    y, v = res.yi, res.vi
    k = y.shape[0]
    tables = {}
    df = None
    crit = stats.norm.isf((1 - res.level) / 2)
    for name, x, pred in (("PET", np.sqrt(v), "sei"), ("PEESE", v, "vi")):
        X = np.column_stack([np.ones(k), x])
        if np.linalg.matrix_rank(X) < 2:
            raise ValueError(f"pet_peese: the {name} design is singular (the `vi` hardly vary).")
        if error == "additive":
            f = _fit(y, v, X, ["intrcpt", pred], True, "FE", "z", res.level, compute_r2=False, warn_fe_knha=False)
            se = np.sqrt(np.diag(f.vcov))
            z = f.beta / se
            tables[name] = _pp_table(["intrcpt", pred], f.beta, se, z, 2 * stats.norm.sf(np.abs(z)),
                                     f.beta - crit * se, f.beta + crit * se)
        else:
            import statsmodels.api as sm

            fit = sm.WLS(y, X, weights=1 / v).fit()
            df = int(fit.df_resid)
            ci = np.asarray(fit.conf_int(alpha=1 - res.level))
            tables[name] = _pp_table(["intrcpt", pred], fit.params, fit.bse, fit.tvalues, fit.pvalues,
                                     ci[:, 0], ci[:, 1])
    selected = "PEESE" if float(tables["PET"].iloc[0]["pvalue"]) < alpha else "PET"
    return PetPeeseResult(pet=tables["PET"], peese=tables["PEESE"], selected=selected, alpha=float(alpha),
                          error=error, df=df, k=k, level=res.level)


__all__ += [
    "FSN_TYPES",
    "FailSafeNResult",
    "PetPeeseResult",
    "RankTestResult",
    "fail_safe_n",
    "pet_peese",
    "rank_correlation_test",
]
