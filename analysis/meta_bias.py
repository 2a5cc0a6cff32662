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

from analysis._checks import check_choice, describe_labels
from analysis.meta import MetaConvergenceError, MetaResult, _fit, _fmt, _fmt_p, _apa_num, _apa_p

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
class BiasTable:
    """A per-study table (leave-one-out, influence or cumulative results).

    ``table`` is a DataFrame with one row per study (in the order the analysis
    used); ``kind`` says which analysis made it.
    """

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
    rows = []
    for i in range(res.k):
        keep = np.arange(res.k) != i
        rows.append(_row(_refit(res, keep)))
    return BiasTable("leave1out", pd.DataFrame(rows, index=_labels(labels, res.k)), res.method, res.test)


def _labels(labels: Any, k: int) -> pd.Index:
    if labels is None:
        return pd.Index([f"Study {i + 1}" for i in range(k)])
    labels = list(labels)
    if len(labels) != k:
        raise ValueError(f"`labels` has {len(labels)} entries but there are {k} studies.")
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
    X, y, v = res.X, res.yi, res.vi
    index = _labels(labels, k)
    btt = list(range(p))  # metafor: Cook's distance and COVRATIO on all coefficients
    m = len(btt)
    svb = np.linalg.inv(res.vcov[np.ix_(btt, btt)])
    w = 1.0 / (v + res.tau2)
    Ainv = np.linalg.inv((X.T * w) @ X)
    hat = w * np.einsum("ij,jk,ik->i", X, Ainv, X)
    pred_full = X @ res.beta
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
        if abs(resid) < 100 * np.finfo(float).eps:
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
class EggerResult:
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
    X = np.column_stack([res.X, np.sqrt(res.vi)])
    fit = _fit(res.yi, res.vi, X, ["intrcpt", "sei"], True, res.method, res.test, res.level, compute_r2=False,
               warn_fe_knha=False)
    coef = fit.coefficients
    return EggerResult(
        statistic=float(coef.iloc[1, 2]), pvalue=float(coef.iloc[1, 3]), df=fit.df, slope=float(fit.beta[1]),
        limit_estimate=float(fit.beta[0]), limit_ci_low=float(coef.iloc[0, 4]), limit_ci_high=float(coef.iloc[0, 5]),
        fit=fit, test=res.test,
    )


# -------------------------------------------------------------------- trim and fill


@dataclass
class TrimFillResult:
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
    if side is not None:
        side = check_choice("side", side, ("left", "right"))
    if res.p != 1:
        raise ValueError("Trim-and-fill applies to models without moderators (res.p must be 1).")
    if res.k < 3:
        raise ValueError("trim_and_fill needs at least 3 studies.")
    y0, v0 = res.yi, res.vi
    method = res.method
    if side is None:
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
            raise RuntimeError("Trim and fill algorithm did not converge.")
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


def cumulative(res: MetaResult, order: Any = None, labels: Any = None) -> BiasTable:
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
    k = res.k
    idx = np.arange(k)
    if order is not None:
        key = np.asarray(order)
        if key.shape[0] != k:
            raise ValueError(f"`order` has {key.shape[0]} entries but there are {k} studies.")
        idx = np.argsort(key, kind="stable")
    lab = _labels(labels, k)[idx]
    rows = []
    for j in range(1, k + 1):
        rows.append(_row(_refit(res, idx[:j])))
    return BiasTable("cumul", pd.DataFrame(rows, index=lab), res.method, res.test)
