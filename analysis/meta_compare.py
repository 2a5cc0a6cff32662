"""Model comparison for :func:`analysis.meta.meta_analysis` fits (metafor ``anova``, ``fitstats``).

- :func:`fitstats` tabulates log-likelihood, deviance, AIC, BIC and AICc of one or
  more fits, as metafor's ``fitstats(res1, res2, ...)``.
- :func:`anova` tests coefficients of one fit by a Wald test (metafor
  ``anova(res, btt = ...)``) or general linear contrasts of them (metafor
  ``anova(res, X = ...)``), or, given two fits, compares them by a likelihood-ratio
  test (metafor ``anova(res1, res2)``), which is also :func:`lrt`.

Neither statsmodels nor any other maintained Python library has these tests for
meta-analytic models, so they are written by hand on the fitted coefficients,
their covariance matrix and the likelihoods stored in
:class:`analysis.meta.MetaResult`. They are checked against metafor 3.8
(``tests/oracles/meta_compare.R``) to a relative error of 1e-8.

Where this module is stricter than metafor
------------------------------------------
metafor computes a likelihood-ratio test for any two fits with different numbers of
parameters and only warns when the REML fits differ in their fixed effects. Here
:func:`lrt` refuses, with a ValueError saying why, fits to different data, fits
that are not nested (the reduced model's moderators must span a subspace of the
full model's) and REML fits with different fixed effects (the restricted
likelihood is the likelihood of error contrasts that depend on the design, so
two such likelihoods are of different data; ``refit=True`` refits both by ML, as
metafor's ``refit=TRUE``).

References
----------
Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.
Viechtbauer, W. (2005). Bias and efficiency of meta-analytic variance estimators
    in the random-effects model.
    *Journal of Educational and Behavioral Statistics, 30*, 261-293.
Burnham, K. P., & Anderson, D. R. (2002).
    *Model selection and multimodel inference* (2nd ed.). Springer.
"""

from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis._checks import suggest_name
from analysis._results import deprecated_alias
from analysis.meta import MetaResult, _apa_p, _fit, _fmt, _fmt_p

__all__ = [
    "ContrastResult",
    "FitStatsResult",
    "LRTResult",
    "WaldResult",
    "anova",
    "fitstats",
    "lrt",
]

_COEF_COLUMNS = ["term", "estimate", "se", "statistic", "pvalue", "ci_low", "ci_high"]


def _check_model(model: Any, name: str) -> MetaResult:
    if not isinstance(model, MetaResult):
        raise ValueError(
            f"`{name}` must be a MetaResult from analysis.meta.meta_analysis, got {type(model).__name__}."
        )
    if not model.fit_stats:
        raise ValueError(f"`{name}` carries no fit statistics (it was not made by meta_analysis).")
    return model


def _same_data(a: MetaResult, b: MetaResult) -> bool:
    return a.yi.shape == b.yi.shape and np.array_equal(a.yi, b.yi) and np.array_equal(a.vi, b.vi)


def _pv_eq(p: float) -> str:
    s = _fmt_p(p)
    return s if s.startswith("<") else f"= {s}"


def _crit(model: MetaResult) -> float:
    a = 1 - model.level
    if model.test == "knha":
        return float(stats.t.ppf(1 - a / 2, model.k - model.p))
    return float(stats.norm.ppf(1 - a / 2))


def _two_sided(model: MetaResult, z: np.ndarray) -> np.ndarray:
    if model.test == "knha":
        return 2 * stats.t.sf(np.abs(z), model.k - model.p)
    return 2 * stats.norm.sf(np.abs(z))


def _quad_form_inv(b: np.ndarray, V: np.ndarray, what: str) -> float:
    try:
        L = np.linalg.cholesky(V)
    except np.linalg.LinAlgError:
        raise ValueError(
            f"The covariance matrix of the {what} is not positive definite, so no Wald test exists "
            "(metafor reports NA)."
        ) from None
    z = np.linalg.solve(L, b)
    return float(z @ z)


def _omnibus(model: MetaResult, qm: float, m: int) -> tuple[float, int, int | None, float]:
    """QM (chi^2, df m) or QM / m (F, df m and k - p with test='knha')."""
    if model.test == "knha":
        f = qm / m
        return f, m, model.k - model.p, float(stats.f.sf(f, m, model.k - model.p))
    return qm, m, None, float(stats.chi2.sf(qm, m))


def _rhs(rhs: Any, m: int) -> np.ndarray:
    if rhs is None:
        return np.zeros(m)
    if isinstance(rhs, (str, bytes, dict)):
        raise ValueError(f"`rhs` must be a number or a sequence of {m} numbers; got {type(rhs).__name__}.")
    try:
        r = np.atleast_1d(np.asarray(rhs, dtype=float))
    except (TypeError, ValueError):
        raise ValueError(f"`rhs` must be numeric; got {rhs!r}.") from None
    if r.ndim != 1:
        raise ValueError(f"`rhs` must be a number or a 1-D sequence; got shape {r.shape}.")
    if r.size == 1:
        r = np.repeat(r, m)
    if r.size != m:
        raise ValueError(f"`rhs` has {r.size} values but {m} coefficients or contrasts are tested.")
    if not np.all(np.isfinite(r)):
        raise ValueError(f"`rhs` must be finite; got {r.tolist()}.")
    return r


# --------------------------------------------------------------------- fitstats


@dataclass
class FitStatsResult:
    """Fit statistics of one or more models (metafor ``fitstats``).

    ``table`` has rows ``logLik, deviance, AIC, BIC, AICc`` and one column per model;
    ``likelihood`` says which ("ML" or "REML"); ``n_params`` the number of
    parameters per model.
    """

    table: pd.DataFrame
    likelihood: str
    n_params: dict[str, int]
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """One row per model: model, likelihood, n_params, loglik, deviance, aic, bic, aicc."""
        t = self.table.T
        return pd.DataFrame({
            "model": list(t.index), "likelihood": self.likelihood,
            "n_params": [self.n_params[m] for m in t.index],
            "loglik": t["logLik"].to_numpy(), "deviance": t["deviance"].to_numpy(),
            "aic": t["AIC"].to_numpy(), "bic": t["BIC"].to_numpy(), "aicc": t["AICc"].to_numpy(),
        })

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dict (likelihood, notes and one record per model)."""
        return {"likelihood": self.likelihood, "notes": list(self.notes),
                "models": self.to_frame().to_dict(orient="records")}

    def summary(self) -> str:
        """The table as metafor prints it (one column per model)."""
        body = self.table.to_string(float_format=lambda x: f"{x:.4f}")
        return f"Fit statistics ({self.likelihood} likelihood)\n\n{body}\n" + "".join(f"Note: {n}\n" for n in self.notes)

    def __repr__(self) -> str:
        return self.summary()


def fitstats(*models: MetaResult, reml: bool | None = None, names: Any = None) -> FitStatsResult:
    r"""Log-likelihood, deviance, AIC, BIC and AICc of fitted models (metafor ``fitstats``).

    For the normal-normal model :math:`y_i \sim N(x_i'\beta, v_i + \tau^2)` with
    :math:`w_i = 1/(v_i + \hat\tau^2)` and :math:`RSS = \sum w_i (y_i - x_i'\hat\beta)^2`:

    - ML: :math:`\ell = -\tfrac12[k \log 2\pi + \sum \log(v_i + \hat\tau^2) + RSS]`,
      deviance :math:`-2(\ell - \ell_{sat})` with :math:`\ell_{sat} = -\tfrac12\sum\log(2\pi v_i)`
      (0 when k <= p), n = k.
    - REML: :math:`\ell_R = -\tfrac12[(k-p)\log 2\pi - \log|X'X| + \sum\log(v_i+\hat\tau^2)
      + \log|X'WX| + RSS]`, deviance :math:`-2\ell_R`, n = k - p.
    - AIC = :math:`-2\ell + 2q`, BIC = :math:`-2\ell + q\log n`,
      AICc = :math:`-2\ell + 2q\max(n, q+2)/(\max(n, q+2) - q - 1)`, with q the number of
      parameters (p coefficients, plus tau^2 unless FE).

    As in metafor the likelihood is REML when the first model was fitted by REML
    and ML otherwise, unless ``reml`` says which; models fitted to different data
    get a warning (their AICs cannot be compared), and so do REML statistics of
    models with different moderators (metafor does not warn about these).

    Parameters
    ----------
    *models : MetaResult
        One or more fits from :func:`analysis.meta.meta_analysis`.
    reml : bool, optional
        Report the REML (True) or ML (False) likelihood for all models.
    names : sequence of str, optional
        Column names (default "model1", "model2", ...).

    Returns
    -------
    FitStatsResult

    References
    ----------
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.
    Burnham, K. P., & Anderson, D. R. (2002). *Model selection and multimodel inference*.

    Examples
    --------
    >>> from analysis.meta import meta_analysis
    >>> y, v = [0.1, 0.3, 0.5, 0.2, 0.6], [0.01, 0.02, 0.015, 0.03, 0.02]
    >>> a = meta_analysis(y, v, method="ML")
    >>> b = meta_analysis(y, v, method="ML", mods=[1.0, 2.0, 3.0, 1.5, 3.5])
    >>> fs = fitstats(a, b, names=["intercept", "slope"])
    >>> list(fs.table.columns), fs.likelihood
    (['intercept', 'slope'], 'ML')
    """
    if not models:
        raise ValueError("`models`: give at least one MetaResult to fitstats().")
    for j, m in enumerate(models):
        _check_model(m, f"models[{j}]")
    if reml is not None and not isinstance(reml, (bool, np.bool_)):
        raise ValueError(f"`reml` must be True, False or None; got {reml!r}.")
    use_reml = models[0].method == "REML" if reml is None else bool(reml)
    if names is None:
        names = [f"model{j + 1}" for j in range(len(models))]
    else:
        if isinstance(names, str):
            names = [names]
        names = [str(n) for n in names]
        if len(names) != len(models):
            raise ValueError(f"`names` has {len(names)} entries but {len(models)} models were given.")
        if len(set(names)) != len(names):
            raise ValueError(f"`names` must be unique; got {names}.")
    cols = {n: m.fitstats(reml=use_reml).to_numpy() for n, m in zip(names, models)}
    table = pd.DataFrame(cols, index=["logLik", "deviance", "AIC", "BIC", "AICc"])
    notes = []
    if any(not _same_data(models[0], m) for m in models[1:]):
        msg = "Models not all fitted to the same data (yi, vi): their AIC/BIC cannot be compared."
        warnings.warn(msg, UserWarning, stacklevel=2)
        notes.append(msg)
    elif use_reml and any(not _same_fixed_effects(models[0], m) for m in models[1:]):
        msg = ("REML fit statistics of models with different fixed effects are not comparable (the restricted "
               "likelihood depends on the moderators); compare such models on fits with method='ML'.")
        warnings.warn(msg, UserWarning, stacklevel=2)
        notes.append(msg)
    return FitStatsResult(table=table, likelihood="REML" if use_reml else "ML",
                          n_params={n: m.n_params for n, m in zip(names, models)}, notes=notes)


# ------------------------------------------------------------------- Wald tests


@dataclass
class WaldResult:
    """Wald test that chosen coefficients are zero (or ``rhs``): metafor ``anova(res, btt=)``.

    ``statistic`` is QM (chi^2 with ``df``) or, with ``test='knha'``, QM/m (F with
    ``df`` and ``df_den``); ``coefficients`` lists the tested coefficients with
    their individual tests.
    """

    terms: list[str]
    positions: list[int]
    statistic: float
    df: int
    df_den: int | None
    pvalue: float
    test: str
    k: int
    rhs: np.ndarray
    coefficients: pd.DataFrame

    @property
    def distribution(self) -> str:
        """"F" (Knapp-Hartung) or "chisq"."""
        return "F" if self.df_den is not None else "chisq"

    #: Old names kept for one release (DeprecationWarning): old -> new.
    _deprecated = {"df_denom": "df_den"}
    df_denom = deprecated_alias("df_den", "df_denom")
    n_studies = property(lambda self: self.k, doc="Number of studies (effect sizes) in the model, metafor's k.")

    def to_frame(self) -> pd.DataFrame:
        """The tested coefficients: term, estimate, se, statistic, pvalue, ci_low, ci_high."""
        return self.coefficients.copy()

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dict of the test and the tested coefficients."""
        return {"terms": list(self.terms), "statistic": self.statistic, "df": self.df, "df_den": self.df_den,
                "pvalue": self.pvalue, "distribution": self.distribution, "test": self.test, "k": self.k,
                "rhs": self.rhs.tolist(), "coefficients": self.coefficients.to_dict(orient="records")}

    def summary(self) -> str:
        """metafor's layout: ``Test of Moderators (coefficients 2:3):`` then ``QM(df = 2) = ...``."""
        one = [i + 1 for i in self.positions]
        span = (f"{one[0]}:{one[-1]}" if len(one) > 1 and one == list(range(one[0], one[-1] + 1))
                else ",".join(map(str, one)))
        head = f"Test of Moderators (coefficient{'s' if len(one) > 1 else ''} {span}):"
        if self.df_den is not None:
            line = f"F(df1 = {self.df}, df2 = {self.df_den}) = {_fmt(self.statistic)}, p-val {_pv_eq(self.pvalue)}"
        else:
            line = f"QM(df = {self.df}) = {_fmt(self.statistic)}, p-val {_pv_eq(self.pvalue)}"
        return f"\n{head}\n{line}\n"

    def apa(self) -> str:
        """APA-style line, e.g. ``QM(2) = 19.44, p < .001`` or ``F(2, 10) = 9.72, p = .005``."""
        stat = (f"F({self.df}, {self.df_den}) = {self.statistic:.2f}" if self.df_den is not None
                else f"QM({self.df}) = {self.statistic:.2f}")
        return f"Test of {', '.join(self.terms)}: {stat}, {_apa_p(self.pvalue)}."

    def __repr__(self) -> str:
        return self.summary()


def _resolve_btt(model: MetaResult, btt: Any) -> list[int]:
    names = list(model.coef_names)
    if btt is None:
        return model._btt() if model.p > 1 else [0]
    if isinstance(btt, str):
        hits = [j for j, n in enumerate(names) if btt in n]
        if not hits:
            raise ValueError(
                f"`btt`: no coefficient name contains {btt!r} (coefficients: {names}).{suggest_name(btt, names)}"
            )
        return hits
    if isinstance(btt, (numbers.Integral, np.integer)) and not isinstance(btt, bool):
        btt = [btt]
    if isinstance(btt, (dict, set, float)) or not hasattr(btt, "__iter__"):
        raise ValueError(
            f"`btt` must be a coefficient name, a list of names or of 0-based positions; got {type(btt).__name__}."
        )
    items = list(btt)
    if not items:
        raise ValueError("`btt` is empty: name at least one coefficient to test.")
    out = []
    for b in items:
        if isinstance(b, str):
            if b not in names:
                raise ValueError(f"`btt`: {b!r} is not a coefficient (coefficients: {names}).{suggest_name(b, names)}")
            out.append(names.index(b))
        elif isinstance(b, (numbers.Integral, np.integer)) and not isinstance(b, (bool, np.bool_)):
            if not 0 <= int(b) < model.p:
                raise ValueError(
                    f"`btt`: position {int(b)} is out of range; positions are 0-based, 0 to {model.p - 1} "
                    f"({names})."
                )
            out.append(int(b))
        else:
            raise ValueError(f"`btt` entries must be coefficient names or 0-based integer positions; got {b!r}.")
    if len(set(out)) != len(out):
        raise ValueError(f"`btt` names a coefficient twice: {[names[j] for j in out]}.")
    return sorted(out)


def _wald(model: MetaResult, btt: Any, rhs: Any) -> WaldResult:
    pos = _resolve_btt(model, btt)
    m = len(pos)
    r = _rhs(rhs, m)
    b = model.beta[pos] - r
    V = model.vcov[np.ix_(pos, pos)]
    qm = _quad_form_inv(b, V, "tested coefficients")
    stat, df1, df2, pv = _omnibus(model, qm, m)
    se = np.sqrt(np.diag(V))
    z = b / se
    c = _crit(model)
    coefs = pd.DataFrame({"term": [model.coef_names[j] for j in pos], "estimate": model.beta[pos], "se": se,
                          "statistic": z, "pvalue": _two_sided(model, z),
                          "ci_low": model.beta[pos] - c * se, "ci_high": model.beta[pos] + c * se})
    return WaldResult(terms=list(coefs["term"]), positions=pos, statistic=stat, df=df1, df_den=df2, pvalue=pv,
                      test=model.test, k=model.k, rhs=r, coefficients=coefs)


# ------------------------------------------------------------------- contrasts


@dataclass
class ContrastResult:
    """Tests of linear combinations of the coefficients: metafor ``anova(res, X = L)``.

    ``contrasts`` has one row per hypothesis (term, estimate = L b - rhs, se,
    statistic (z, or t with df = k - p for ``test='knha'``), pvalue, ci_low,
    ci_high); ``statistic``/``df``/``df_den``/``pvalue`` is the joint (omnibus)
    test, None when the rows of L are linearly dependent (metafor reports NA).
    """

    contrasts: pd.DataFrame
    L: np.ndarray
    statistic: float | None
    df: int | None
    df_den: int | None
    pvalue: float | None
    test: str
    k: int
    notes: list[str] = field(default_factory=list)

    #: Old names kept for one release (DeprecationWarning): old -> new.
    _deprecated = {"df_denom": "df_den"}
    df_denom = deprecated_alias("df_den", "df_denom")
    n_studies = property(lambda self: self.k, doc="Number of studies (effect sizes) in the model, metafor's k.")

    def to_frame(self) -> pd.DataFrame:
        """One row per hypothesis: term, estimate, se, statistic, pvalue, ci_low, ci_high."""
        return self.contrasts.copy()

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dict of the hypotheses and the joint test."""
        return {"contrasts": self.contrasts.to_dict(orient="records"), "statistic": self.statistic,
                "df": self.df, "df_den": self.df_den, "pvalue": self.pvalue, "test": self.test,
                "k": self.k, "notes": list(self.notes)}

    def summary(self) -> str:
        """metafor's layout: hypotheses, their results and the omnibus test."""
        lines = ["", "Hypotheses:"]
        for j, h in enumerate(self.contrasts["term"]):
            lines.append(f"{j + 1}: {h}")
        lines += ["", "Results:"]
        stat = "tval" if self.test == "knha" else "zval"
        c = self.contrasts
        tab = pd.DataFrame({"estimate": [_fmt(x) for x in c["estimate"]], "se": [_fmt(x) for x in c["se"]],
                            stat: [_fmt(x) for x in c["statistic"]], "pval": [_fmt_p(x) for x in c["pvalue"]]},
                           index=[f"{j + 1}:" for j in range(len(c))])
        lines.append(tab.to_string())
        if self.statistic is not None:
            lines += ["", "Omnibus Test of Hypotheses:"]
            if self.df_den is not None:
                lines.append(f"F(df1 = {self.df}, df2 = {self.df_den}) = {_fmt(self.statistic)}, "
                             f"p-val {_pv_eq(self.pvalue)}")
            else:
                lines.append(f"QM(df = {self.df}) = {_fmt(self.statistic)}, p-val {_pv_eq(self.pvalue)}")
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def __repr__(self) -> str:
        return self.summary()


def _num_label(c: float) -> str:
    return f"{c:.6g}"


def _hypothesis(row: np.ndarray, names: list[str], rhs: float) -> str:
    parts = []
    for c, n in zip(row, names):
        if c == 0:
            continue
        if c == 1:
            parts.append(n)
        elif c == -1:
            parts.append(f"-{n}")
        else:
            parts.append(f"{_num_label(c)}*{n}")
    s = " + ".join(parts).replace("+ -", "- ") or "0"
    return f"{s} = {_num_label(rhs)}"


def _contrast_matrix(model: MetaResult, X: Any) -> np.ndarray:
    if isinstance(X, (str, bytes, dict)) or X is None:
        raise ValueError(f"`X` must be a numeric vector or matrix of contrast weights; got {type(X).__name__}.")
    if isinstance(X, pd.Series):
        X = X.to_numpy()[None, :]
    if isinstance(X, pd.DataFrame):
        bad = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
        if bad:
            raise ValueError(f"`X` must be numeric; column(s) {bad} are not.")
        X = X.to_numpy(dtype=float)
    arr = np.asarray(X)
    if arr.dtype.kind not in "iufb":
        raise ValueError(f"`X` must be numeric (got dtype {arr.dtype}).")
    L = np.atleast_2d(arr.astype(float))
    if L.ndim != 2 or L.shape[0] == 0 or L.shape[1] == 0:
        raise ValueError(f"`X` must be a non-empty vector or 2-D matrix; got shape {np.shape(arr)}.")
    if not np.all(np.isfinite(L)):
        rows = np.where(~np.isfinite(L).all(axis=1))[0]
        raise ValueError(f"`X` has missing or infinite values in row(s) {rows.tolist()} (0-based).")
    if model.has_intercept and L.shape[1] == model.p - 1 and model.p > 1:
        L = np.hstack([np.ones((L.shape[0], 1)), L])  # metafor adds the intercept column
    if L.shape[1] != model.p:
        raise ValueError(
            f"`X` has {L.shape[1]} columns but the model has {model.p} coefficients ({model.coef_names})"
            + (f"; give {model.p} columns, or {model.p - 1} to have the intercept added" if model.has_intercept
               and model.p > 1 else "") + "."
        )
    zero = np.where(~L.any(axis=1))[0]
    if zero.size:
        raise ValueError(f"`X` row(s) {zero.tolist()} (0-based) are all zeros: such a contrast tests nothing.")
    return L


def _contrasts(model: MetaResult, X: Any, rhs: Any) -> ContrastResult:
    L = _contrast_matrix(model, X)
    m = L.shape[0]
    r = _rhs(rhs, m)
    est = L @ model.beta - r
    VL = L @ model.vcov @ L.T
    se = np.sqrt(np.diag(VL))
    z = est / se
    c = _crit(model)
    terms = [_hypothesis(L[j], model.coef_names, r[j]) for j in range(m)]
    tab = pd.DataFrame({"term": terms, "estimate": est, "se": se, "statistic": z, "pvalue": _two_sided(model, z),
                        "ci_low": est - c * se, "ci_high": est + c * se})
    notes: list[str] = []
    stat = df1 = df2 = pv = None
    if np.linalg.matrix_rank(L) == m:
        qm = _quad_form_inv(est, VL, "contrasts")
        stat, df1, df2, pv = _omnibus(model, qm, m)
    else:
        notes.append("The rows of X are linearly dependent, so there is no joint test (metafor reports NA).")
    return ContrastResult(contrasts=tab, L=L, statistic=stat, df=df1, df_den=df2, pvalue=pv, test=model.test,
                          k=model.k, notes=notes)


# ------------------------------------------------------------------------- LRT


@dataclass
class LRTResult:
    """Likelihood-ratio test of a reduced against a full model: metafor ``anova(res1, res2)``.

    ``statistic`` = deviance(reduced) - deviance(full) (truncated at 0), chi^2 with
    ``df`` = difference in the number of parameters; ``likelihood`` is "REML" when
    the full model was fitted by REML, else "ML". ``table`` compares the two fits
    side by side (n_params, AIC, BIC, AICc, logLik, QE, tau^2) and ``r2`` is the
    pseudo-R^2 (%) of the full relative to the reduced model.
    """

    statistic: float
    df: int
    pvalue: float
    likelihood: str
    table: pd.DataFrame
    tau2_full: float
    tau2_reduced: float
    r2: float
    full: MetaResult = field(repr=False)
    reduced: MetaResult = field(repr=False)
    refitted: bool = False
    notes: list[str] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """Rows full and reduced: model, n_params, loglik, deviance, aic, bic, aicc, statistic, df, pvalue, qe, tau2, r2."""
        return self.table.copy()

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python dict of the test and both models' fit statistics."""
        return {"statistic": self.statistic, "df": self.df, "pvalue": self.pvalue, "likelihood": self.likelihood,
                "tau2_full": self.tau2_full, "tau2_reduced": self.tau2_reduced, "r2": self.r2,
                "refitted": self.refitted, "notes": list(self.notes),
                "models": self.table.to_dict(orient="records")}

    def summary(self) -> str:
        """metafor's layout: ``df AIC BIC AICc logLik LRT pval QE tau^2 R^2`` for Full and Reduced."""
        t = self.table
        rows = []
        for j, lab in enumerate(["Full", "Reduced"]):
            rows.append([lab, str(int(t["n_params"].iloc[j])), _fmt(t["aic"].iloc[j]), _fmt(t["bic"].iloc[j]),
                         _fmt(t["aicc"].iloc[j]), _fmt(t["loglik"].iloc[j]),
                         "" if j == 0 else _fmt(self.statistic), "" if j == 0 else _fmt_p(self.pvalue),
                         _fmt(t["qe"].iloc[j]), _fmt(t["tau2"].iloc[j]),
                         "" if j == 0 else f"{self.r2:.2f}%"])
        head = ["", "df", "AIC", "BIC", "AICc", "logLik", "LRT", "pval", "QE", "tau^2", "R^2"]
        widths = [max(len(head[c]), *(len(r[c]) for r in rows)) for c in range(len(head))]
        fmt = lambda r: "  ".join((x.ljust(w) if c == 0 else x.rjust(w)) for c, (x, w) in enumerate(zip(r, widths)))  # noqa: E731
        lines = ["", f"Likelihood-ratio test ({self.likelihood})" + (" after refitting both by ML" if self.refitted
                                                                      else ""), "", fmt(head)]
        lines += [fmt(r) for r in rows]
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def apa(self) -> str:
        """APA-style line, e.g. ``chi2(1) = 8.00, p = .005``."""
        return (f"Likelihood-ratio test ({self.likelihood}): \u03c7\u00b2({self.df}) = {self.statistic:.2f}, "
                f"{_apa_p(self.pvalue)}; AIC {self.table['aic'].iloc[0]:.2f} (full) vs "
                f"{self.table['aic'].iloc[1]:.2f} (reduced).")

    def __repr__(self) -> str:
        return self.summary()


def _col_space_contains(big: np.ndarray, small: np.ndarray) -> bool:
    """Is span(small) within span(big)? (columns scaled to unit length first)."""
    def unit(A):
        n = np.linalg.norm(A, axis=0)
        return A / np.where(n > 0, n, 1.0)
    b, s = unit(big), unit(small)
    return np.linalg.matrix_rank(np.hstack([b, s])) == np.linalg.matrix_rank(b)


def _same_fixed_effects(a: MetaResult, b: MetaResult) -> bool:
    return a.p == b.p and _col_space_contains(a.X, b.X) and _col_space_contains(b.X, a.X)


def _lr_r2(full: MetaResult, reduced: MetaResult) -> float:
    """metafor's pseudo-R^2 of anova(): from tau^2 (RE) or from the WLS residual variances (FE)."""
    if full.method == "FE":
        def s2(r: MetaResult) -> float:
            w = 1.0 / r.vi
            XtW = r.X.T * w
            b = np.linalg.solve(XtW @ r.X, XtW @ r.yi)
            res = r.yi - r.X @ b
            return float(np.dot(w, res * res)) / (r.k - r.p)
        if full.k <= full.p:
            return float("nan")
        s2f, s2r = s2(full), s2(reduced)
        return 100 * max(0.0, (s2r - s2f) / s2r) if s2r > 0 else 0.0
    if reduced.tau2 == 0:
        return 0.0
    return 100 * max(0.0, (reduced.tau2 - full.tau2) / reduced.tau2)


def lrt(full: MetaResult, reduced: MetaResult, *, refit: bool = False) -> LRTResult:
    r"""Likelihood-ratio test between two nested fits (metafor ``anova(res1, res2)``).

    :math:`LRT = D_{reduced} - D_{full}` (deviances as in :func:`fitstats`, REML when
    the full model was fitted by REML, ML otherwise), truncated at 0, referred to
    :math:`\chi^2` with df = difference in the number of parameters (coefficients,
    plus tau^2 for random-effects fits). The pseudo-R^2 is
    :math:`100\max(0, (\hat\tau^2_R - \hat\tau^2_F)/\hat\tau^2_R)` (0 when
    :math:`\hat\tau^2_R = 0`; for fixed-effect fits from the WLS residual variances).
    The models may be given in either order (the one with more parameters is the
    full model), as in metafor. Testing tau^2 = 0 (random- against fixed-effect
    model, same moderators) is allowed; the p-value is then conservative (the null
    value lies on the boundary).

    Refused, with a ValueError that says why:

    - fits to different data (``yi`` or ``vi`` differ);
    - the same number of parameters;
    - models that are not nested: the reduced model's moderators must lie in the
      column space of the full model's, and a fixed-effect full model cannot nest a
      random-effects reduced one;
    - an ML fit against a REML fit;
    - REML fits with different fixed effects: the restricted likelihood is the
      likelihood of error contrasts :math:`K'y` with :math:`K'X = 0`, which depend on
      X, so two REML likelihoods with different X are likelihoods of different data
      and their difference is not a likelihood ratio (Verbyla, 1990). ``refit=True``
      refits both models by ML and tests those (metafor ``refit=TRUE``).

    Fits by DL, HE, SJ or PM are compared on their ML likelihood with a warning
    (as metafor: an LRT should rest on ML/REML estimates).

    Parameters
    ----------
    full, reduced : MetaResult
        Fits from :func:`analysis.meta.meta_analysis` to the same ``yi`` and ``vi``.
    refit : bool
        Refit both models by ML when REML fits differ in their fixed effects.

    Returns
    -------
    LRTResult

    References
    ----------
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.
    Verbyla, A. P. (1990). A conditional derivation of residual maximum likelihood.
    *Australian Journal of Statistics, 32*, 227-230.

    Examples
    --------
    >>> from analysis.meta import meta_analysis
    >>> y, v = [0.1, 0.3, 0.5, 0.2, 0.6, 0.4], [0.01, 0.02, 0.015, 0.03, 0.02, 0.01]
    >>> x = [1.0, 2.0, 3.0, 1.5, 3.5, 2.5]
    >>> full = meta_analysis(y, v, mods=x, method="ML")
    >>> red = meta_analysis(y, v, method="ML")
    >>> res = lrt(full, red)
    >>> res.df
    1
    >>> bool(abs(res.statistic - 2 * (full.loglik - red.loglik)) < 1e-12)
    True
    """
    full = _check_model(full, "full")
    reduced = _check_model(reduced, "reduced")
    if not isinstance(refit, (bool, np.bool_)):
        raise ValueError(f"`refit` must be True or False; got {refit!r}.")
    if not _same_data(full, reduced):
        if full.k != reduced.k:
            why = f"`full` has k = {full.k} effect sizes and `reduced` k = {reduced.k}"
        else:
            diff = np.where((full.yi != reduced.yi) | (full.vi != reduced.vi))[0]
            why = f"yi or vi differ at position(s) {diff[:5].tolist()}{' ...' if diff.size > 5 else ''}"
        raise ValueError(f"The two models were not fitted to the same data ({why}); a likelihood-ratio test "
                         "needs the same yi and vi.")
    if full.n_params == reduced.n_params:
        raise ValueError(f"Both models have {full.n_params} parameters: they are not nested, so an LRT is not "
                         "meaningful (compare AIC/BIC with fitstats() instead).")
    if full.n_params < reduced.n_params:
        full, reduced = reduced, full
    fe = ("FE",)
    if full.method in fe and reduced.method not in fe:
        raise ValueError("The full model is a fixed-effect (FE) model and the reduced one a random/mixed-effects "
                         "model: a model without tau^2 cannot nest one with tau^2.")
    if {full.method, reduced.method} == {"ML", "REML"}:
        raise ValueError(f"Mismatch between {full.method} and {reduced.method} estimation in the full and reduced "
                         "model: fit both by ML (or both by REML, with the same moderators).")
    if not _col_space_contains(full.X, reduced.X) or reduced.p > full.p:
        raise ValueError(
            f"The models are not nested: the reduced model's coefficients {reduced.coef_names} are not a "
            f"restriction of the full model's {full.coef_names} (its moderators must lie in the column space of "
            "the full model's design). Compare non-nested models by AIC/BIC with fitstats()."
        )
    notes: list[str] = []
    refitted = False
    if full.method == "REML" and not _same_fixed_effects(full, reduced):
        if not refit:
            raise ValueError(
                "REML fits with different fixed effects cannot be compared by a likelihood-ratio test: the "
                "restricted likelihood is the likelihood of error contrasts K'y with K'X = 0, which change with "
                "the moderators, so the two REML likelihoods are of different data. Fit both with method='ML', "
                "or pass refit=True to refit both by ML."
            )
        full = _fit(full.yi, full.vi, full.X, full.coef_names, full.has_intercept, "ML", full.test, full.level,
                    warn_fe_knha=False)
        reduced = _fit(reduced.yi, reduced.vi, reduced.X, reduced.coef_names, reduced.has_intercept,
                       "FE" if reduced.method == "FE" else "ML", reduced.test, reduced.level, warn_fe_knha=False)
        refitted = True
        notes.append("Both models were refitted by ML (REML fits with different fixed effects).")
    ok = ("FE", "ML", "REML")
    if full.method not in ok or reduced.method not in ok:
        msg = (f"LRTs should be based on ML/REML estimation (here {full.method} and {reduced.method}); the ML "
               "likelihoods at these tau^2 estimates are compared.")
        warnings.warn(msg, UserWarning, stacklevel=2)
        notes.append(msg)
    use_reml = full.method == "REML"
    ff, fr = full.fitstats(reml=use_reml), reduced.fitstats(reml=use_reml)
    stat = max(0.0, float(fr["deviance"] - ff["deviance"]))
    df = full.n_params - reduced.n_params
    pv = float(stats.chi2.sf(stat, df))
    r2 = _lr_r2(full, reduced)
    table = pd.DataFrame({
        "model": ["full", "reduced"], "n_params": [full.n_params, reduced.n_params],
        "loglik": [ff["logLik"], fr["logLik"]], "deviance": [ff["deviance"], fr["deviance"]],
        "aic": [ff["AIC"], fr["AIC"]], "bic": [ff["BIC"], fr["BIC"]], "aicc": [ff["AICc"], fr["AICc"]],
        "statistic": [np.nan, stat], "df": [np.nan, df], "pvalue": [np.nan, pv],
        "qe": [full.q, reduced.q], "tau2": [full.tau2, reduced.tau2], "r2": [np.nan, r2],
    })
    return LRTResult(statistic=stat, df=df, pvalue=pv, likelihood="REML" if use_reml else "ML", table=table,
                     tau2_full=full.tau2, tau2_reduced=reduced.tau2, r2=r2, full=full, reduced=reduced,
                     refitted=refitted, notes=notes)


# ----------------------------------------------------------------------- anova


def anova(
    model: MetaResult,
    model2: MetaResult | None = None,
    *,
    btt: Any = None,
    X: Any = None,
    rhs: Any = None,
    refit: bool = False,
) -> WaldResult | ContrastResult | LRTResult:
    r"""Wald tests of coefficients or contrasts, or an LRT of two fits (metafor ``anova.rma``).

    - ``anova(model)`` / ``anova(model, btt=...)``: Wald test that the chosen
      coefficients equal ``rhs`` (default 0): :math:`Q_M = (b_S - r)' V_S^{-1} (b_S - r)`,
      :math:`\chi^2_m`; with ``test='knha'`` :math:`F = Q_M/m` on (m, k - p) df.
      Default ``btt``: every coefficient but the intercept (metafor's omnibus test).
    - ``anova(model, X=L)``: each row :math:`l_j` of L gives :math:`l_j'b - r_j` with
      :math:`se = \sqrt{l_j' V l_j}`, a z test (t on k - p df with ``test='knha'``) and a
      CI; the joint test :math:`Q_M = (Lb - r)'(LVL')^{-1}(Lb - r)` (F = Q_M/m with
      knha) when L has full row rank (else None, as metafor's NA).
    - ``anova(model, model2)``: likelihood-ratio test, see :func:`lrt`.

    Parameters
    ----------
    model : MetaResult
    model2 : MetaResult, optional
        A second fit to the same data: gives the likelihood-ratio test.
    btt : str, sequence of str or int, optional
        Coefficients to test: a string selects every coefficient whose name contains
        it (as metafor's ``btt = "alloc"``, handy for the dummies of one factor); a
        list of names or of 0-based positions in ``model.coef_names`` is tested
        jointly (metafor's ``btt = 2:3`` is ``btt = [1, 2]``).
    X : array-like, optional
        Contrast weights, one row per hypothesis, with ``p`` columns (or ``p - 1``:
        the intercept column of ones is added, as metafor does).
    rhs : float or sequence, optional
        Hypothesised values (default 0).
    refit : bool
        Passed to :func:`lrt`.

    Returns
    -------
    WaldResult, ContrastResult or LRTResult

    References
    ----------
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.

    Examples
    --------
    >>> from analysis.meta import meta_analysis
    >>> y, v = [0.1, 0.3, 0.5, 0.2, 0.6, 0.4], [0.01, 0.02, 0.015, 0.03, 0.02, 0.01]
    >>> fit = meta_analysis(y, v, mods=[1.0, 2.0, 3.0, 1.5, 3.5, 2.5])
    >>> w = anova(fit)
    >>> bool(abs(w.statistic - fit.qm) < 1e-10)
    True
    >>> c = anova(fit, X=[[1.0], [3.0]])          # predicted effects at x = 1 and x = 3
    >>> c.to_frame()["term"].tolist()
    ['intrcpt + mod1 = 0', 'intrcpt + 3*mod1 = 0']
    """
    model = _check_model(model, "model")
    if model2 is not None:
        if btt is not None or X is not None or rhs is not None:
            raise ValueError("Give either `model2` (likelihood-ratio test) or `btt`/`X`/`rhs` (Wald tests), not both.")
        return lrt(model, model2, refit=refit)
    if X is not None:
        if btt is not None:
            raise ValueError("Give either `btt` (coefficients) or `X` (contrasts), not both.")
        return _contrasts(model, X, rhs)
    return _wald(model, btt, rhs)
