"""Univariate meta-analysis and meta-regression that agree with metafor's ``rma``.

The entry point is :func:`meta_analysis` (random- or fixed-effects model, with or
without moderators); :func:`subgroup_analysis` tabulates subgroups and tests the
difference between them. Sensitivity and small-study-bias tools live in
:mod:`analysis.meta_bias`, the three-level model in :mod:`analysis.meta_multilevel`.

What is built on statsmodels and what is written by hand
---------------------------------------------------------
``statsmodels.stats.meta_analysis.combine_effects`` gives the DL and (iterated)
PM random-effects estimates for the intercept-only model but neither REML/ML,
Hedges, Sidik-Jonkman, moderators, the Q-profile interval nor Knapp-Hartung with
the t distribution, so the estimators here are written by hand as weighted least
squares on ``p x p`` cross-products: every iteration costs ``O(k p^2)`` and no
``k x k`` matrix is ever built (metafor builds ``diag(w)``, which is ``O(k^2)``).
The test suite checks the DL/PM intercept-only estimates against
``combine_effects`` as well as against metafor.

Agreement with metafor 3.8 (``tests/oracles/meta.R``) is checked to a relative
error of 1e-6 on estimates, standard errors, tau^2 and its Q-profile interval,
I^2, H^2, Q, QM, R^2, confidence and prediction intervals; the log-likelihoods,
deviances, AIC, BIC and AICc (``MetaResult.fitstats()``, metafor's ``fitstats``) to
1e-8 (``tests/test_meta_compare.py``). Model comparisons (Wald tests of coefficients
and contrasts, likelihood-ratio tests) are in :mod:`analysis.meta_compare`.

References
----------
DerSimonian, R., & Laird, N. (1986). Meta-analysis in clinical trials.
    *Controlled Clinical Trials, 7*, 177-188.
Hedges, L. V. (1983). A random effects model for effect sizes.
    *Psychological Bulletin, 93*, 388-395.
Paule, R. C., & Mandel, J. (1982). Consensus values and weighting factors.
    *Journal of Research of the National Bureau of Standards, 87*, 377-385.
Sidik, K., & Jonkman, J. N. (2005). Simple heterogeneity variance estimation for
    meta-analysis. *Journal of the Royal Statistical Society C, 54*, 367-384.
Viechtbauer, W. (2005). Bias and efficiency of meta-analytic variance estimators
    in the random-effects model. *Journal of Educational and Behavioral
    Statistics, 30*, 261-293.
Viechtbauer, W. (2007). Confidence intervals for the amount of heterogeneity in
    meta-analysis. *Statistics in Medicine, 26*, 37-52.
Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.
Knapp, G., & Hartung, J. (2003). Improved tests for a random effects
    meta-regression with a single covariate. *Statistics in Medicine, 22*,
    2693-2710.
Higgins, J. P. T., & Thompson, S. G. (2002). Quantifying heterogeneity in a
    meta-analysis. *Statistics in Medicine, 21*, 1539-1558.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd
from scipy import optimize, stats

from analysis._checks import (
    as_float_array,
    check_choice,
    check_finite,
    check_level,
    check_na_action,
    check_positive,
    describe_labels,
    first_bad,
    suggest_name,
)
from analysis._results import ResultMixin, coef_table, plain, tidy

__all__ = [
    "METHODS",
    "TESTS",
    "MetaConvergenceError",
    "MetaResult",
    "Prediction",
    "RATIO_MEASURES",
    "SubgroupResult",
    "meta_analysis",
    "subgroup_analysis",
]

METHODS = ("FE", "DL", "REML", "ML", "PM", "HE", "SJ")
TESTS = ("z", "knha")
_METHOD_NAMES = {
    "FE": "fixed-effect",
    "DL": "DerSimonian-Laird",
    "REML": "restricted maximum-likelihood",
    "ML": "maximum-likelihood",
    "PM": "Paule-Mandel",
    "HE": "Hedges",
    "SJ": "Sidik-Jonkman",
}
# metafor's defaults tightened as in tests/oracles/meta.R
_THRESHOLD = 1e-12
_THRESHOLD_REL = 100.0  # the threshold in internal units (median v = 1) is 1e-10
_MAXITER = 10000
_TAU2_MAX = 100.0
_VI_SPAN_MAX = 1e15  # largest max(vi)/min(vi) the weighted sums resolve (1 / double epsilon is 4.5e15)


class MetaConvergenceError(RuntimeError):
    """An iterative tau^2 estimator did not converge (the message names it)."""


# --------------------------------------------------------------------------- input


def _column(data: pd.DataFrame | None, name: str, value: Any) -> Any:
    if data is not None and not isinstance(data, pd.DataFrame):
        raise ValueError(f"`data` must be a pandas DataFrame, got {type(data).__name__}.")
    if isinstance(value, str):
        if data is None:
            raise ValueError(f"`{name}` is the column name {value!r} but no `data` was given.")
        if value not in data.columns:
            cols = list(map(str, data.columns))
            raise ValueError(
                f"`{name}`: column {value!r} is not in `data`.{suggest_name(value, cols)} Its columns are: "
                f"{', '.join(cols[:20])}{' ...' if len(cols) > 20 else ''}."
            )
        return data[value]
    if isinstance(value, dict):
        raise ValueError(f"`{name}` must be an array, a Series or a column name of `data`, got a dict.")
    return value


def _missing(value: Any) -> np.ndarray | None:
    """Boolean mask of missing entries (NaN/None) of a 1-D input, or None if it is not 1-D."""
    if value is None or isinstance(value, (str, bytes)) or np.ndim(value) != 1:
        return None
    arr = value.to_numpy() if isinstance(value, pd.Series) else np.asarray(value)
    if arr.dtype.kind in "iub":
        return np.zeros(arr.shape[0], bool)
    if arr.dtype.kind == "f":
        return np.isnan(arr)
    return np.asarray(pd.isna(pd.Series(arr, dtype=object)).to_numpy(), dtype=bool)


def _mods_missing(mods: Any, data: pd.DataFrame | None, n: int) -> np.ndarray | None:
    """Rows whose moderators are missing (NaN/None), as metafor's na.omit sees them."""
    if mods is None:
        return None
    if isinstance(mods, str):
        if data is None or not mods.strip().startswith("~"):
            return None  # _design gives the error
        import patsy

        try:
            dm = patsy.dmatrix(mods.strip(), data.reset_index(drop=True), NA_action="drop",
                               return_type="dataframe")
        except patsy.PatsyError:
            return None  # _design reports the bad formula
        miss = np.ones(len(data), bool)
        miss[dm.index.to_numpy(dtype=int)] = False
        return miss
    if isinstance(mods, pd.Series):
        mods = mods.to_frame()
    if isinstance(mods, pd.DataFrame):
        return mods.isna().any(axis=1).to_numpy() if len(mods) == n else None
    arr = np.asarray(mods)
    if arr.dtype.kind != "f" or arr.shape[:1] != (n,):
        return None
    return np.isnan(arr.reshape(n, -1)).any(axis=1)


def _subset(value: Any, keep: np.ndarray) -> Any:
    if isinstance(value, (pd.Series, pd.DataFrame)):
        return value.iloc[keep]
    if value is None or isinstance(value, str) or np.ndim(value) == 0:
        return value
    return np.asarray(value)[keep]


def _where(labels: list, kind: str) -> str:
    """ "index label 3" / "positions 1, 4": describe_labels with the singular for one row."""
    return describe_labels(labels, what=kind[:-1] if len(labels) == 1 else kind)


def _apply_na_action(
    na_action: Any, data: pd.DataFrame | None, inputs: dict[str, Any], mods: Any = None,
    *, what: str = "studies",
) -> tuple[dict[str, Any], Any, pd.DataFrame | None, list, str]:
    """metafor's ``na.action``: refuse missing values (``"fail"``) or drop those rows (``"omit"``).

    ``inputs`` maps argument names to values (arrays, Series or column names of ``data``).
    A row is incomplete when any input or moderator is missing there (metafor's na.omit).
    Returns the inputs (column names resolved to Series), moderators and data restricted to the
    complete rows, the dropped row labels (DataFrame/Series index labels, else 0-based
    positions) and which of the two they are.
    """
    na_action = check_na_action(na_action)
    vals = {name: _column(data, name, val) for name, val in inputs.items()}
    masks = {name: _missing(val) for name, val in vals.items()}
    lengths = {m.shape[0] for m in masks.values() if m is not None}
    n = len(data) if data is not None else (lengths.pop() if len(lengths) == 1 else None)
    if n is None or any(m is not None and m.shape[0] != n for m in masks.values()):
        return vals, mods, data, [], ""  # length errors are reported by the callers
    mm = _mods_missing(mods, data, n)
    if mm is not None and mm.shape[0] == n:
        masks["mods"] = mm
    miss = np.zeros(n, bool)
    for m in masks.values():
        if m is not None:
            miss |= m
    if not miss.any():
        return vals, mods, data, [], ""
    index = data.index if data is not None else next(
        (v.index for v in vals.values() if isinstance(v, pd.Series)), None)
    if index is not None:
        labels, kind = list(index[miss]), "index labels"
    else:
        labels, kind = [int(i) for i in np.flatnonzero(miss)], "positions"
    args = [f"`{k}`" for k, m in masks.items() if m is not None and m.any()]
    where = _where(labels, kind)
    if na_action == "fail":
        raise ValueError(
            f"{', '.join(args)} {'has' if len(args) == 1 else 'have'} missing values (NaN/None) at {where}. "
            f"Remove these {what} or pass na_action='omit' to drop them (metafor's na.omit)."
        )
    warnings.warn(
        f"na_action='omit': dropped {int(miss.sum())} of {n} {what} with missing values in "
        f"{', '.join(args)} ({where}).", UserWarning, stacklevel=3,
    )
    keep = ~miss
    vals = {k: _subset(v, keep) for k, v in vals.items()}
    if not isinstance(mods, str):
        mods = _subset(mods, keep)
    data = None if data is None else data.iloc[keep]
    return vals, mods, data, labels, kind


def _float_column(name: str, value: Any) -> np.ndarray:
    """as_float_array, naming the index labels of non-numeric entries of a Series (a column of `data`)."""
    try:
        return as_float_array(name, value)
    except ValueError as err:
        if not isinstance(value, pd.Series) or value.dtype.kind in "iufb":
            raise
        bad = pd.to_numeric(value, errors="coerce").isna() & value.notna()
        if not bad.any():
            raise
        raise ValueError(f"{err} Index labels: {', '.join(map(str, list(value.index[bad])[:5]))}.") from None


def _check_yi_vi(yi: Any, vi: Any, data: pd.DataFrame | None = None) -> tuple[np.ndarray, np.ndarray]:
    y = _float_column("yi", _column(data, "yi", yi))
    v = _float_column("vi", _column(data, "vi", vi))
    if y.shape[0] != v.shape[0]:
        raise ValueError(f"`yi` and `vi` have mismatched lengths: `yi` has {y.shape[0]}, `vi` has {v.shape[0]}.")
    if y.shape[0] == 0:
        raise ValueError("`yi` and `vi` are empty: there are no effect sizes to analyse.")
    check_finite("yi", y)
    check_positive("vi", v, what="a positive sampling variance")
    lo, hi = int(np.argmin(v)), int(np.argmax(v))
    if v[hi] / v[lo] > _VI_SPAN_MAX:
        raise ValueError(
            f"`vi` spans a ratio of {v[hi] / v[lo]:.3g} (position {lo} has {v[lo]:.3g}, position {hi} has "
            f"{v[hi]:.3g}): weights 1/vi that differ by more than {_VI_SPAN_MAX:.0e} cannot be combined in double "
            "precision. Check the units of `vi` (sampling variances, not SDs) or leave out the extreme study."
        )
    return y, v


def _full_rank_or_raise(X: np.ndarray, names: list[str]) -> None:
    """Raise a ValueError naming the moderators that make the design singular.

    Columns are scanned left to right; a column lying in the span of the previous
    ones is redundant (R's ``lm``/metafor would silently drop it).
    """
    if X.shape[1] > X.shape[0]:
        raise ValueError(
            f"The model has {X.shape[1]} coefficients ({', '.join(map(repr, names))}) but only {X.shape[0]} "
            "effect sizes: more moderators than studies cannot be estimated."
        )
    # columns scaled to a maximum of 1 first, so that a moderator in large or small units
    # (1e200, 1e-200) is not mistaken for a redundant one
    top = np.max(np.abs(X), axis=0)
    X = X / np.where(top > 0, top, 1.0)
    if np.linalg.matrix_rank(X) == X.shape[1]:
        return
    redundant: list[str] = []
    kept: list[int] = []
    for j in range(X.shape[1]):
        trial = kept + [j]
        if np.linalg.matrix_rank(X[:, trial]) == len(trial):
            kept.append(j)
        else:
            redundant.append(names[j])
    raise ValueError(
        "The moderator design matrix is singular (columns are linearly dependent): "
        f"{', '.join(map(repr, redundant))} is a linear combination of "
        f"{', '.join(repr(names[j]) for j in kept)}. Remove or recode these moderators "
        "(metafor would silently drop them)."
    )


def _design(mods: Any, data: pd.DataFrame | None, k: int) -> tuple[np.ndarray, list[str], bool]:
    """Build the design matrix: intercept plus moderators.

    ``mods`` may be a patsy formula (``"~ ablat + year"``; strings and categoricals
    are treatment-coded with the first sorted level as reference, as R does), a
    DataFrame (object/categorical columns are coded the same way), a 1-D or 2-D
    numeric array, or None (intercept only).
    """
    if mods is None:
        return np.ones((k, 1)), ["intrcpt"], True
    if isinstance(mods, str):
        import patsy

        if data is None:
            raise ValueError("`mods` is a formula but no `data` was given.")
        formula = mods.strip()
        if not formula.startswith("~"):
            raise ValueError(f"`mods` formula must start with '~', got {mods!r}.")
        try:
            dm = patsy.dmatrix(formula, data, NA_action="raise", return_type="dataframe")
        except patsy.PatsyError as exc:
            import re

            hint = ""
            m = re.search(r"name '([^']+)' is not defined", str(exc))
            if m:
                hint = f" Column {m.group(1)!r} is not in `data`.{suggest_name(m.group(1), data.columns)}"
            raise ValueError(f"`mods` formula {mods!r} could not be evaluated on `data`:{hint} {exc}") from None
        if dm.shape[0] != k:
            raise ValueError(f"`mods` formula gives {dm.shape[0]} rows but there are {k} effect sizes.")
        names = ["intrcpt" if c == "Intercept" else c for c in dm.columns]
        X = dm.to_numpy(dtype=float)
        has_int = "Intercept" in dm.columns
    else:
        if isinstance(mods, pd.Series):
            mods = mods.to_frame()
        if isinstance(mods, pd.DataFrame):
            if mods.shape[0] != k:
                raise ValueError(f"`mods` has {mods.shape[0]} rows but there are {k} effect sizes.")
            parts, names = [np.ones((k, 1))], ["intrcpt"]
            for col in mods.columns:
                s = mods[col]
                if s.isna().any():
                    raise ValueError(f"`mods` column {col!r} has missing values at {first_bad(s.isna().to_numpy())}.")
                if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
                    parts.append(s.to_numpy(dtype=float)[:, None])
                    names.append(str(col))
                else:
                    levels = sorted(pd.unique(s.astype(str)))
                    if isinstance(s.dtype, pd.CategoricalDtype):
                        levels = [str(c) for c in s.cat.categories]
                    for lev in levels[1:]:
                        parts.append((s.astype(str).to_numpy() == lev).astype(float)[:, None])
                        names.append(f"{col}[T.{lev}]")
            X = np.hstack(parts)
        else:
            arr = np.asarray(mods)
            if arr.dtype.kind not in "iufb":
                raise ValueError(
                    "`mods` must be numeric when given as an array (got dtype "
                    f"{arr.dtype}); pass a DataFrame or a formula for categorical moderators."
                )
            arr = arr.astype(float)
            if arr.ndim == 1:
                arr = arr[:, None]
            if arr.ndim != 2 or arr.shape[0] != k:
                raise ValueError(f"`mods` must have {k} rows (one per effect size), got shape {arr.shape}.")
            X = np.hstack([np.ones((k, 1)), arr])
            names = ["intrcpt"] + [f"mod{j + 1}" for j in range(arr.shape[1])]
        has_int = True
        bad = ~np.isfinite(X)
        if bad.any():
            rows = bad.any(axis=1)
            raise ValueError(f"`mods` has missing or infinite values at rows {first_bad(rows)}.")
    top = np.max(np.abs(X), axis=0)
    extreme = (top > 1e100) | ((top > 0) & (top < 1e-100))
    if extreme.any():
        j = int(np.flatnonzero(extreme)[0])
        raise ValueError(
            f"Moderator {names[j]!r} has values of magnitude {top[j]:.3g}: the weighted cross-products "
            "would overflow or underflow. Rescale it (express it in other units) before the meta-regression."
        )
    _full_rank_or_raise(X, names)
    return X, names, has_int


def _check_maxiter(maxiter: Any, name: str = "maxiter") -> int:
    if isinstance(maxiter, (bool, np.bool_)) or not isinstance(maxiter, (int, np.integer)) or maxiter < 1:
        raise ValueError(f"`{name}` must be a whole number >= 1, got {maxiter!r}.")
    return int(maxiter)


def _scale_exponent(v: np.ndarray) -> int:
    """e such that v / 4^e has a median in [1/2, 2]: the fits run on y / 2^e, v / 4^e.

    Scaling by a power of two is exact in floating point, so the results scale back exactly
    (tau^2 by 4^e, coefficients by 2^e) and z, p, I^2 and Q do not depend on the units of y
    (1e-150 or 1e150 alike).
    """
    med = float(np.median(v))
    if not (med > 0 and math.isfinite(med)):
        return 0
    return int(round(0.5 * math.log2(med)))


# ----------------------------------------------------------------- linear algebra


def _wls(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted least squares: beta, (X'WX)^-1 and residuals, in O(k p^2)."""
    if X.shape[1] == 1:  # intercept only: scalar arithmetic
        sw = w.sum()
        b = np.array([np.dot(w, y) / sw])
        return b, np.array([[1.0 / sw]]), y - b[0]
    XtW = X.T * w
    A = XtW @ X
    Ainv = np.linalg.inv(A)
    b = Ainv @ (XtW @ y)
    return b, Ainv, y - X @ b


def _bform(X: np.ndarray, u: np.ndarray) -> np.ndarray:
    """X' diag(u) X."""
    return (X.T * u) @ X


def _q_gen(tau2: float, X: np.ndarray, y: np.ndarray, v: np.ndarray) -> float:
    """Generalised Q statistic  Q(tau^2) = sum w_i (y_i - x_i'b)^2,  w = 1/(v + tau^2)."""
    w = 1.0 / (v + tau2)
    _, _, r = _wls(X, y, w)
    return float(np.dot(w, r * r))


def _traces(X: np.ndarray, d: np.ndarray, v: np.ndarray) -> dict[str, float]:
    """Traces of P = D - D X (X'DX)^-1 X'D (D = diag(d)) with V = diag(v), in O(k p^2).

    tr(P) = sum d - tr(A^-1 B(d^2)), tr(PP) = sum d^2 - 2 tr(A^-1 B(d^3)) + tr((A^-1 B(d^2))^2),
    tr(PV), tr(PVPV), tr(PVP) likewise, with A = X'DX and B(u) = X' diag(u) X.
    """
    if X.shape[1] == 1 and np.all(X == 1.0):  # intercept only: scalar sums
        s1, s2, s3 = d.sum(), np.dot(d, d), np.dot(d * d, d)
        dv = d * v
        m2, m2v = s2 / s1, np.dot(d, dv) / s1
        return {
            "P": float(s1 - m2),
            "PP": float(s2 - 2 * s3 / s1 + m2 * m2),
            "PV": float(dv.sum() - m2v),
            "PVPV": float(np.dot(dv, dv) - 2 * np.dot(d * dv, dv) / s1 + m2v * m2v),
            "PVP": float(np.dot(d, dv) - 2 * np.dot(d * d, dv) / s1 + m2v * m2),
        }
    Ainv = np.linalg.inv(_bform(X, d))
    M2 = Ainv @ _bform(X, d * d)
    M2v = Ainv @ _bform(X, d * d * v)
    return {
        "P": float(d.sum() - np.trace(M2)),
        "PP": float(np.sum(d * d) - 2 * np.trace(Ainv @ _bform(X, d**3)) + np.sum(M2 * M2.T)),
        "PV": float(np.sum(d * v) - np.trace(M2v)),
        "PVPV": float(np.sum((d * v) ** 2) - 2 * np.trace(Ainv @ _bform(X, d**3 * v**2)) + np.sum(M2v * M2v.T)),
        "PVP": float(np.sum(d * d * v) - 2 * np.trace(Ainv @ _bform(X, d**3 * v)) + np.sum(M2v * M2.T)),
    }


# ------------------------------------------------------------------ tau^2 estimators


def _loglik(tau2: float, X: np.ndarray, y: np.ndarray, v: np.ndarray, reml: bool) -> float:
    r"""(Restricted) log-likelihood of the normal-normal model, as metafor's ``ll.ML`` / ``ll.REML``.

    ML:   :math:`-\tfrac12 [k \log 2\pi + \sum \log(v_i + \tau^2) + RSS]`,
    REML: :math:`-\tfrac12 [(k-p) \log 2\pi - \log|X'X| + \sum \log(v_i + \tau^2) + \log|X'WX| + RSS]`,
    with :math:`RSS = \sum w_i (y_i - x_i'b)^2`, :math:`w_i = 1/(v_i + \tau^2)`. The
    :math:`\tfrac12 \log|X'X|` term is metafor's "full" REML likelihood (control ``REMLf = TRUE``,
    its default): it makes the REML likelihood invariant to a reparametrisation of X.
    """
    k, p = X.shape
    w = 1.0 / (v + tau2)
    _, Ainv, r = _wls(X, y, w)
    rss = float(np.dot(w, r * r))
    if reml:
        logdet = -np.linalg.slogdet(Ainv)[1]
        logdet_xx = np.linalg.slogdet(X.T @ X)[1]
        return (-0.5 * (k - p) * math.log(2 * math.pi) + 0.5 * logdet_xx - 0.5 * np.sum(np.log(v + tau2))
                - 0.5 * logdet - 0.5 * rss)
    return -0.5 * k * math.log(2 * math.pi) - 0.5 * np.sum(np.log(v + tau2)) - 0.5 * rss


def _fit_stats(tau2: float, X: np.ndarray, y: np.ndarray, v: np.ndarray, method: str) -> dict[str, dict[str, float]]:
    """Fit statistics of both likelihoods, as metafor's ``fit.stats`` (rows ll, dev, AIC, BIC, AICc).

    parms = p (+ 1 for tau^2 unless FE); ML deviance = -2 (ll_ML - ll_saturated), with the
    saturated log-likelihood sum log N(y_i; y_i, v_i) (0 when k <= p); REML deviance = -2 ll_REML;
    AIC = -2 ll + 2 parms; BIC = -2 ll + parms log(n); AICc = -2 ll + 2 parms max(n, parms + 2) /
    (max(n, parms + 2) - parms - 1), n = k (ML) or k - p (REML).
    """
    k, p = X.shape
    parms = p + (0 if method == "FE" else 1)
    out: dict[str, dict[str, float]] = {}
    for kind, n in (("ML", k), ("REML", k - p)):
        ll = float(_loglik(tau2, X, y, v, reml=kind == "REML"))
        if kind == "ML":
            sat = float(np.sum(-0.5 * np.log(2 * math.pi * v)))
            dev = -2 * (ll - sat) if k > p else 0.0
        else:
            dev = -2 * ll
        big = max(n, parms + 2)
        bic = -2 * ll + parms * math.log(n) if n > 0 else float("-inf")  # R: parms * log(0) = -Inf
        out[kind] = {"loglik": ll, "deviance": dev, "aic": -2 * ll + 2 * parms, "bic": bic,
                     "aicc": -2 * ll + 2 * parms * big / (big - parms - 1), "n_params": parms}
    return out


def _estimate_tau2(
    method: str, X: np.ndarray, y: np.ndarray, v: np.ndarray, *, maxiter: int, threshold: float
) -> tuple[float, dict[str, Any]]:
    """tau^2 by the chosen estimator, following metafor's ``rma.uni`` step by step.

    Returns tau^2 and a dict of extras (iterations, SE of tau^2, warnings raised).
    """
    k, p = X.shape
    ymc = y - y.mean()  # metafor estimates tau^2 on mean-centred y (no effect with an intercept)
    info: dict[str, Any] = {"iterations": 0, "se_tau2": float("nan"), "boundary": False}
    if method == "FE":
        return 0.0, info
    if method == "DL":
        # tau^2 = (Q - (k - p)) / tr(P), P with w = 1/v
        w = 1.0 / v
        _, _, r = _wls(X, ymc, w)
        tr = _traces(X, w, v)
        tau2 = (float(np.dot(w, r * r)) - (k - p)) / tr["P"]
        t = max(tau2, 0.0)
        info["se_tau2"] = math.sqrt((2 * (k - p) + 4 * t * tr["P"] + 2 * t * t * tr["PP"]) / tr["P"] ** 2)
    elif method == "HE":
        # tau^2 = (RSS_OLS - tr(P_OLS V)) / (k - p)
        w = np.ones(k)
        _, _, r = _wls(X, ymc, w)
        tr = _traces(X, w, v)
        tau2 = (float(np.dot(r, r)) - tr["PV"]) / (k - p)
        t = max(tau2, 0.0)
        info["se_tau2"] = math.sqrt((2 * tr["PVPV"] + 4 * t * tr["PV"] + 2 * t * t * (k - p)) / (k - p) ** 2)
    elif method == "SJ":
        # one-step: tau0^2 = mean((y - ybar)^2); tau^2 = tau0^2 * Q(tau0^2) / (k - p)
        tau0 = float(np.mean(ymc * ymc))
        w = 1.0 / (v + tau0)
        _, _, r = _wls(X, ymc, w)
        tau2 = tau0 * float(np.dot(w, r * r)) / (k - p)
        tr = _traces(X, w, v)
        t = max(tau2, 0.0)
        info["se_tau2"] = math.sqrt(
            tau0**2 / (k - p) ** 2 * (2 * tr["PVPV"] + 4 * t * tr["PVP"] + 2 * t * t * tr["PP"])
        )
    elif method == "PM":
        # root of Q(tau^2) = k - p (Q decreases in tau^2)
        target = k - p
        if _q_gen(0.0, X, ymc, v) < target:
            tau2 = 0.0
        else:
            upper = _TAU2_MAX
            limit = 1e12 * max(1.0, float(np.dot(ymc, ymc)))
            while _q_gen(upper, X, ymc, v) > target:
                upper *= 10
                if upper > limit:
                    raise MetaConvergenceError("Paule-Mandel (PM) estimator: no root of Q(tau^2) = k - p found.")
            tau2 = optimize.brentq(
                lambda t: _q_gen(t, X, ymc, v) - target, 0.0, upper, xtol=1e-15, rtol=4 * np.finfo(float).eps,
                maxiter=maxiter,
            )
        w = 1.0 / (v + tau2)
        info["se_tau2"] = math.sqrt(2 * k * k / (k - p) / w.sum() ** 2)
    elif method in ("REML", "ML"):
        # Fisher scoring from the Hedges estimate, step-halving at the 0 boundary (metafor)
        w1 = np.ones(k)
        _, _, r = _wls(X, ymc, w1)
        tau2 = max(0.0, (float(np.dot(r, r)) - _traces(X, w1, v)["PV"]) / (k - p))
        change, it = threshold + 1, 0
        while change > threshold:
            it += 1
            old = tau2
            w = 1.0 / (v + tau2)
            _, _, r = _wls(X, ymc, w)
            Py = w * r
            if method == "ML":
                adj = (float(np.dot(Py, Py)) - w.sum()) / float(np.dot(w, w))
            else:
                tr = _traces(X, w, v)
                adj = (float(np.dot(Py, Py)) - tr["P"]) / tr["PP"]
            if not np.isfinite(adj):
                adj = 0.0
            while tau2 + adj < 0:
                adj /= 2
            tau2 = tau2 + adj
            change = abs(old - tau2)
            if it > maxiter:
                raise MetaConvergenceError(
                    f"{_METHOD_NAMES[method]} ({method}) estimator of tau^2: Fisher scoring did not converge "
                    f"in {maxiter} iterations (last change {change:.3g}). Try method='PM' or 'DL', or a larger "
                    "`maxiter`."
                )
        info["iterations"] = it
        reml = method == "REML"
        ll0, ll = _loglik(0.0, X, ymc, v, reml), _loglik(tau2, X, ymc, v, reml)
        if ll0 - ll > 1e-14 and tau2 > threshold:
            warnings.warn(
                f"{method}: Fisher scoring may have stopped at a local maximum; the likelihood is higher at "
                "tau^2 = 0, so tau^2 is set to 0 (as metafor does).",
                UserWarning,
                stacklevel=3,
            )
            tau2 = 0.0
        w = 1.0 / (v + tau2)
        if method == "ML":
            info["se_tau2"] = math.sqrt(2 / float(np.dot(w, w)))
        else:
            info["se_tau2"] = math.sqrt(2 / _traces(X, w, v)["PP"])
    else:  # pragma: no cover - guarded by check_choice
        raise ValueError(method)
    tau2 = max(0.0, float(tau2))
    info["boundary"] = tau2 == 0.0
    return tau2, info


# ------------------------------------------------------------------------ results


def _fmt(x: float, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "NA"
    return f"{x:.{digits}f}"


def _fmt_p(p: float, digits: int = 4) -> str:
    if p is None or math.isnan(p):
        return "NA"
    lim = 10.0**-digits
    return f"<{lim:.{digits}f}".replace("0.", ".", 1) if p < lim else f"{p:.{digits}f}"


def _metafor_labels(t_test: bool) -> dict[str, str]:
    """Vocabulary column names -> metafor's printed labels (summary() keeps metafor's layout)."""
    return {"statistic": "tval" if t_test else "zval", "pvalue": "pval", "ci_low": "ci.lb", "ci_high": "ci.ub"}


def _stars(p: float) -> str:
    if math.isnan(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else "." if p < 0.1 else ""


def _apa_p(p: float) -> str:
    return "p < .001" if p < 0.001 else f"p = {p:.3f}".replace("0.", ".", 1)


def _apa_num(x: float, digits: int = 2) -> str:
    s = f"{x:.{digits}f}"
    return s.replace("-", "\u2212")


_TRANSFORMS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "z2r": np.tanh,
    "fisher_z": np.tanh,
    "tanh": np.tanh,
    "exp": np.exp,
    "log": np.exp,
    "logor": np.exp,
    "logrr": np.exp,
    "none": lambda x: x,
}


#: Effect-size measures that are log ratios: pooled on the log scale, reported on the ratio
#: scale (``exp``) by :meth:`MetaResult.apa` and :func:`analysis.plots.forest_plot` when the
#: fit knows its measure (``meta_analysis(..., measure="OR")``). Names as in metafor /
#: :mod:`analysis.effect_sizes` (``"logOR"`` is a scale of ``convert_effect_sizes``).
RATIO_MEASURES: dict[str, str] = {
    "OR": "odds ratio",
    "RR": "risk ratio",
    "ROM": "ratio of means",
    "logOR": "odds ratio",
}
#: ``transform`` names that turn a log ratio into a ratio.
EXP_TRANSFORMS = ("exp", "log", "logor", "logrr")


def _transform(transform: str | Callable | None) -> Callable[[np.ndarray], np.ndarray]:
    if transform is None:
        return lambda x: x
    if callable(transform):
        return transform
    if transform not in _TRANSFORMS:
        raise ValueError(
            f"`transform` must be a callable or one of {', '.join(map(repr, _TRANSFORMS))}; got {transform!r}."
        )
    return _TRANSFORMS[transform]


@dataclass
class Prediction(ResultMixin):
    """Predicted (average) effects with confidence and prediction intervals.

    ``pred``, ``ci_low``, ``ci_high``, ``pi_low`` and ``pi_high`` are on the scale
    chosen by ``transform`` (``se`` stays on the model scale and is None after a
    transformation, as in metafor).
    """

    pred: np.ndarray
    se: np.ndarray | None
    ci_low: np.ndarray
    ci_high: np.ndarray
    pi_low: np.ndarray
    pi_high: np.ndarray
    level: float

    def to_frame(self) -> pd.DataFrame:
        """The predictions as a DataFrame (one row per prediction)."""
        d = {"pred": self.pred}
        if self.se is not None:
            d["se"] = self.se
        d.update(ci_low=self.ci_low, ci_high=self.ci_high, pi_low=self.pi_low, pi_high=self.pi_high)
        return pd.DataFrame(d)

    def summary(self) -> str:
        """A metafor-like text table of the predictions."""
        return self.to_frame().to_string(index=False, float_format=lambda x: f"{x:.4f}")

    def __repr__(self) -> str:
        return self.summary()


@dataclass
class MetaResult:
    """Results of :func:`meta_analysis` (a metafor ``rma.uni`` equivalent).

    For the intercept-only model ``estimate``, ``se``, ``statistic``, ``pvalue``,
    ``ci_low`` and ``ci_high`` are floats; with moderators they are arrays with one
    entry per coefficient (``coef_names``), and ``coefficients`` is the table.
    ``q``/``q_df``/``q_pvalue`` is the test for (residual) heterogeneity (QE),
    ``qm``/``qm_df``/``qm_pvalue`` the omnibus test of moderators (None without
    moderators; an F test with ``test='knha'``, whose denominator degrees of freedom are
    ``qm_df_den``; ``qm_df`` is a number, ``qm_df_den`` None for the chi-square test), ``r2`` the pseudo-R^2 (%) of
    metafor. ``weights`` are the model weights in percent. ``tau2_ci``,
    ``i2_ci`` and ``h2_ci`` are the Q-profile intervals (computed on first access).
    ``loglik`` is metafor's ``logLik()``: the restricted log-likelihood for a REML
    fit, the ML log-likelihood for every other method; ``deviance``, ``aic``,
    ``bic``, ``aicc`` and ``n_params`` go with it and ``fitstats()`` tabulates them
    (``fit_stats`` holds both likelihoods' statistics, as metafor's ``fit.stats``).
    """

    method: str
    test: str
    level: float
    k: int
    p: int
    coef_names: list[str]
    beta: np.ndarray
    vcov: np.ndarray
    tau2: float
    se_tau2: float
    i2: float
    h2: float
    q: float
    q_df: int
    q_pvalue: float
    vt: float
    s2w: float
    df: float | None
    weights: np.ndarray
    qm: float | None
    qm_df: int | None
    qm_pvalue: float | None
    r2: float | None
    converged: bool
    iterations: int
    loglik: float
    yi: np.ndarray = field(repr=False)
    vi: np.ndarray = field(repr=False)
    X: np.ndarray = field(repr=False)
    has_intercept: bool = True
    fit_stats: dict = field(default_factory=dict, repr=False)
    _ci_cache: dict = field(default_factory=dict, repr=False)
    #: The effect-size measure of ``yi`` when known (``meta_analysis(measure=...)``), e.g. "OR".
    measure: str | None = None
    #: Rows dropped by ``na_action="omit"`` (index labels, or 0-based positions for arrays;
    #: ``dropped_kind`` says which).
    dropped: list = field(default_factory=list)
    dropped_kind: str = ""
    #: Denominator degrees of freedom of the F test of moderators (``test="knha"``), else None.
    qm_df_den: int | None = None

    # -- likelihood-based fit statistics (metafor fitstats / logLik)
    def _fs(self, reml: bool | None = None) -> dict[str, float]:
        if not self.fit_stats:
            raise ValueError("This MetaResult carries no fit statistics (it was not made by meta_analysis).")
        if reml is None:
            reml = self.method == "REML"
        if not isinstance(reml, (bool, np.bool_)):
            raise ValueError(f"`reml` must be True, False or None; got {reml!r}.")
        return self.fit_stats["REML" if reml else "ML"]

    @property
    def deviance(self) -> float:
        """Deviance as metafor: -2 (ll_ML - ll_saturated) (ML) or -2 ll_REML (REML fits)."""
        return self._fs()["deviance"]

    @property
    def aic(self) -> float:
        """AIC = -2 logLik + 2 n_params (REML likelihood for REML fits, ML otherwise)."""
        return self._fs()["aic"]

    @property
    def bic(self) -> float:
        """BIC = -2 logLik + n_params log(n), n = k (ML) or k - p (REML)."""
        return self._fs()["bic"]

    @property
    def aicc(self) -> float:
        """AICc = -2 logLik + 2 n_params max(n, n_params + 2) / (max(n, n_params + 2) - n_params - 1)."""
        return self._fs()["aicc"]

    @property
    def n_params(self) -> int:
        """Number of estimated parameters: p coefficients, plus tau^2 unless FE (metafor ``parms``)."""
        return int(self._fs()["n_params"])

    def fitstats(self, reml: bool | None = None) -> pd.Series:
        r"""Log-likelihood, deviance, AIC, BIC and AICc, as metafor's ``fitstats()``.

        ``loglik`` is the ML log-likelihood
        :math:`-\tfrac12[k\log 2\pi + \sum\log(v_i+\tau^2) + \sum w_i(y_i - x_i'b)^2]` for every
        method but REML, whose restricted log-likelihood adds
        :math:`\tfrac12(p\log 2\pi + \log|X'X| - \log|X'WX|)` (metafor's full REML
        likelihood). Deviance (ML) is :math:`-2(\ell - \ell_{sat})` with
        :math:`\ell_{sat} = \sum \log\phi(0; 0, v_i)`; deviance (REML) is :math:`-2\ell`.
        AIC, BIC and AICc count ``n_params`` = p (+1 for tau^2 unless FE) and use
        n = k (ML) or k - p (REML).

        Parameters
        ----------
        reml : bool, optional
            Which likelihood to report; default: REML for a REML fit, ML otherwise (metafor).

        Returns
        -------
        pandas.Series
            Index ``logLik, deviance, AIC, BIC, AICc``; its name is "REML" or "ML".

        References
        ----------
        Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
        *Journal of Statistical Software, 36*(3), 1-48.

        Examples
        --------
        >>> res = meta_analysis([0.2, 0.5, 0.1, 0.4], [0.02, 0.03, 0.01, 0.05], method="ML")
        >>> fs = res.fitstats()
        >>> list(fs.index)
        ['logLik', 'deviance', 'AIC', 'BIC', 'AICc']
        >>> bool(fs["AIC"] == -2 * res.loglik + 2 * res.n_params)
        True
        """
        f = self._fs(reml)
        kind = "REML" if (self.method == "REML" if reml is None else reml) else "ML"
        return pd.Series([f["loglik"], f["deviance"], f["aic"], f["bic"], f["aicc"]],
                         index=["logLik", "deviance", "AIC", "BIC", "AICc"], name=kind)

    # -- coefficient-level quantities
    @property
    def _se_vec(self) -> np.ndarray:
        return np.sqrt(np.diag(self.vcov))

    @property
    def _crit(self) -> float:
        a = 1 - self.level
        if self.test == "knha":
            return float(stats.t.ppf(1 - a / 2, self.df)) if self.df > 0 else float("nan")
        return float(stats.norm.ppf(1 - a / 2))

    def _pick(self, arr: np.ndarray):
        return float(arr[0]) if self.p == 1 else arr

    @property
    def estimate(self):
        """Pooled estimate (intercept-only) or the coefficients (with moderators)."""
        return self._pick(self.beta)

    @property
    def se(self):
        """Standard error(s); Knapp-Hartung-scaled with ``test='knha'``."""
        return self._pick(self._se_vec)

    @property
    def statistic(self):
        """z (or t with ``test='knha'``) statistic(s)."""
        return self._pick(self.beta / self._se_vec)

    @property
    def pvalue(self):
        """Two-sided p-value(s) from the normal (or t with df = k - p) distribution."""
        t = np.abs(self.beta / self._se_vec)
        if self.test == "knha":
            p = 2 * stats.t.sf(t, self.df)
        else:
            p = 2 * stats.norm.sf(t)
        return self._pick(p)

    @property
    def ci_low(self):
        """Lower confidence bound(s)."""
        return self._pick(self.beta - self._crit * self._se_vec)

    @property
    def ci_high(self):
        """Upper confidence bound(s)."""
        return self._pick(self.beta + self._crit * self._se_vec)

    @property
    def tau(self) -> float:
        """Square root of tau^2."""
        return math.sqrt(self.tau2)

    @property
    def coefficients(self) -> pd.DataFrame:
        """Model results table indexed by ``term``: estimate, se, statistic, pvalue, ci_low, ci_high.

        metafor's ``zval``/``tval``, ``pval``, ``ci.lb``, ``ci.ub`` (the results vocabulary,
        CONTRIBUTING.md); ``statistic`` is a t value with ``test="knha"`` (``df`` degrees of
        freedom), else a z value. ``to_frame()`` is this table with ``term`` as a column.
        """
        se = self._se_vec
        t = self.beta / se
        pv = 2 * (stats.t.sf(np.abs(t), self.df) if self.test == "knha" else stats.norm.sf(np.abs(t)))
        return coef_table(self.coef_names, self.beta, se, t, pv, self.beta - self._crit * se,
                          self.beta + self._crit * se)

    def to_frame(self) -> pd.DataFrame:
        """Tidy coefficient table: term, estimate, se, statistic, pvalue, ci_low, ci_high."""
        return tidy(self.coefficients)

    def to_dict(self) -> dict:
        """Plain Python (JSON-serialisable): coefficients, heterogeneity, tests and fit statistics."""
        out = {"method": self.method, "test": self.test, "level": self.level, "measure": self.measure,
               "n_studies": self.k, "n_coef": self.p, "coefficients": plain(self.to_frame()),
               "tau2": self.tau2, "se_tau2": self.se_tau2, "i2": self.i2, "h2": self.h2,
               "q": self.q, "q_df": self.q_df, "q_pvalue": self.q_pvalue, "df": self.df,
               "qm": self.qm, "qm_df": self.qm_df, "qm_df_den": self.qm_df_den, "qm_pvalue": self.qm_pvalue,
               "r2": self.r2, "converged": self.converged, "iterations": self.iterations, "loglik": self.loglik,
               "dropped": plain(self.dropped), "dropped_kind": self.dropped_kind}
        return plain(out)

    @property
    def n_studies(self) -> int:
        """Number of studies (effect sizes) in the fit, metafor's ``k``."""
        return self.k

    # -- prediction interval
    @property
    def pi_low(self) -> float:
        """Lower bound of the prediction interval (intercept-only model; with moderators see predict)."""
        return float(self.predict(newmods=self._mean_mods()).pi_low[0])

    @property
    def pi_high(self) -> float:
        """Upper bound of the prediction interval."""
        return float(self.predict(newmods=self._mean_mods()).pi_high[0])

    def _mean_mods(self):
        return None if self.p == 1 else self.X[:, 1:].mean(axis=0)[None, :] if self.has_intercept else self.X.mean(0)[None, :]

    def predict(self, newmods: Any = None, *, transform: str | Callable | None = None) -> Prediction:
        """Predicted average effect(s) with CI and prediction interval (metafor ``predict.rma``).

        PI = x'b +/- c * sqrt(x' Var(b) x + tau^2), with c the normal quantile, or the
        t quantile with df = k - p when ``test='knha'``.

        Parameters
        ----------
        newmods : array-like, optional
            Moderator values (without the intercept column), one row per prediction.
            Default: the fitted values for every study (with moderators) or the
            pooled effect (intercept only).
        transform : {"z2r", "exp", ...} or callable, optional
            Back-transformation applied to the prediction and its bounds: "z2r"
            (alias "fisher_z", "tanh") turns Fisher z into r; "exp" (aliases "log",
            "logor", "logrr") turns log ratios into ratios; any callable works.

        Returns
        -------
        Prediction

        Examples
        --------
        >>> res = meta_analysis([0.1, 0.3, 0.5, 0.2], [0.01, 0.02, 0.015, 0.03])
        >>> float(res.predict(transform="z2r").pred[0]) == float(np.tanh(res.estimate))
        True
        """
        if newmods is None:
            Xn = self.X if self.p > 1 else np.ones((1, 1))
        else:
            nm = np.atleast_2d(np.asarray(newmods, dtype=float))
            if self.has_intercept:
                if nm.shape[1] != self.p - 1:
                    raise ValueError(f"`newmods` must have {self.p - 1} columns (moderators without intercept), got {nm.shape[1]}.")
                Xn = np.hstack([np.ones((nm.shape[0], 1)), nm])
            else:
                Xn = nm
        pred = Xn @ self.beta
        vpred = np.einsum("ij,jk,ik->i", Xn, self.vcov, Xn)
        se = np.sqrt(vpred)
        c = self._crit
        f = _transform(transform)
        lo, hi = pred - c * se, pred + c * se
        plo, phi = pred - c * np.sqrt(vpred + self.tau2), pred + c * np.sqrt(vpred + self.tau2)
        return Prediction(
            pred=np.asarray(f(pred), dtype=float),
            se=None if transform is not None else se,
            ci_low=np.asarray(f(lo), dtype=float),
            ci_high=np.asarray(f(hi), dtype=float),
            pi_low=np.asarray(f(plo), dtype=float),
            pi_high=np.asarray(f(phi), dtype=float),
            level=self.level,
        )

    # -- Q-profile interval for tau^2
    def confint_tau2(self, level: float | None = None) -> dict[str, tuple[float, float]]:
        """Q-profile confidence interval for tau^2 (Viechtbauer, 2007), with I^2 and H^2.

        The bounds solve Q(tau^2) = chi^2_{k-p; 1-a/2} (lower) and chi^2_{k-p; a/2}
        (upper), with Q(tau^2) = sum (y_i - x_i'b)^2 / (v_i + tau^2), searched on
        [0, max(100, 10 tau^2)] as metafor's ``confint``; a bound is 0 when Q(0) is
        below the critical value. I^2 and H^2 bounds use the same typical variance as
        the point estimates. Hand-written (statsmodels has no Q-profile).

        Returns
        -------
        dict with keys "tau2", "tau", "i2", "h2", each a (low, high) tuple.
        """
        level = self.level if level is None else level
        if level in self._ci_cache:
            return self._ci_cache[level]
        if self.method == "FE":
            raise ValueError("A fixed-effect model (method='FE') has no tau^2 to give an interval for.")
        k, p = self.k, self.p
        if k <= p:
            raise ValueError("The Q-profile interval needs k > p.")
        level = check_level("level", level)
        a = 1 - level
        crit_u = stats.chi2.ppf(1 - a / 2, k - p)
        crit_l = stats.chi2.ppf(a / 2, k - p)
        e = _scale_exponent(self.vi)  # searched in units where the v_i are about 1 (exact powers of 2)
        X, y, v = self.X, np.ldexp(self.yi, -e), np.ldexp(self.vi, -2 * e)
        # metafor's search interval [0, max(100, 10 tau^2)] in the original units (a bound at its end means
        # "at least that": Q stays above the critical value there), widened to at least 100 internal units
        # so that a bound that exists is found at any scale of the data
        tmin, tmax = 0.0, max(float(np.ldexp(max(_TAU2_MAX, 10 * self.tau2), -2 * e)), _TAU2_MAX)

        def qf(t: float) -> float:
            return _q_gen(t, X, y, v)

        def root(target: float) -> float:
            return optimize.brentq(lambda t: qf(t) - target, tmin, tmax, xtol=1e-15,
                                   rtol=4 * np.finfo(float).eps, maxiter=_MAXITER)

        q_min, q_max = qf(tmin), qf(tmax)
        if q_min < crit_l:
            lb = ub = tmin
        else:
            ub = tmax if q_max > crit_l else root(crit_l)
        if q_max > crit_u:
            lb = ub = tmax
        elif q_min >= crit_l:
            lb = tmin if q_min < crit_u else root(crit_u)
        lb, ub = float(np.ldexp(lb, 2 * e)), float(np.ldexp(ub, 2 * e))
        vt = self.vt
        out = {
            "tau2": (lb, ub),
            "tau": (math.sqrt(lb), math.sqrt(ub)),
            "i2": (100 * lb / (vt + lb), 100 * ub / (vt + ub)),
            "h2": (lb / vt + 1, ub / vt + 1),
        }
        self._ci_cache[level] = out
        return out

    @property
    def tau2_ci(self) -> tuple[float, float] | None:
        """Q-profile CI of tau^2 (None for a fixed-effect model)."""
        return None if self.method == "FE" else self.confint_tau2()["tau2"]

    @property
    def i2_ci(self) -> tuple[float, float] | None:
        """CI of I^2 (%) implied by the Q-profile CI of tau^2."""
        return None if self.method == "FE" else self.confint_tau2()["i2"]

    @property
    def h2_ci(self) -> tuple[float, float] | None:
        """CI of H^2 implied by the Q-profile CI of tau^2."""
        return None if self.method == "FE" else self.confint_tau2()["h2"]

    # -- reports
    def summary(self) -> str:
        """Text laid out like metafor's ``print.rma.uni``."""
        mods = self.p > 1 or not self.has_intercept
        lines = [""]
        if self.method == "FE":
            lines.append(f"{'Fixed-Effects with Moderators Model' if mods else 'Fixed-Effects Model'} (k = {self.k})")
        else:
            lines.append(
                f"{'Mixed-Effects Model' if mods else 'Random-Effects Model'} (k = {self.k}; "
                f"tau^2 estimator: {self.method})"
            )
        lines.append("")
        if self.fit_stats:  # metafor's summary(): the fit statistics under the title
            fs = self.fitstats()
            cells = [_fmt(x) for x in fs.to_numpy()]
            w = max(len(c) for c in cells)
            lines.append("  ".join(n.rjust(w) for n in fs.index))
            lines.append("  ".join(c.rjust(w) for c in cells))
            lines.append("")
        qlab = "QE" if mods else "Q"
        if self.method != "FE":
            what = "residual" if mods else "total"
            se_t = "" if math.isnan(self.se_tau2) else f" (SE = {_fmt(self.se_tau2)})"
            if mods:
                lines.append(f"tau^2 (estimated amount of residual heterogeneity):     {_fmt(self.tau2)}{se_t}")
                lines.append(f"tau (square root of estimated tau^2 value):             {_fmt(self.tau)}")
                lines.append(f"I^2 (residual heterogeneity / unaccounted variability): {self.i2:.2f}%")
                lines.append(f"H^2 (unaccounted variability / sampling variability):   {self.h2:.2f}")
                if self.r2 is not None:
                    lines.append(f"R^2 (amount of heterogeneity accounted for):            {self.r2:.2f}%")
            else:
                lines.append(f"tau^2 (estimated amount of {what} heterogeneity): {_fmt(self.tau2)}{se_t}")
                lines.append(f"tau (square root of estimated tau^2 value):      {_fmt(self.tau)}")
                lines.append(f"I^2 (total heterogeneity / total variability):   {self.i2:.2f}%")
                lines.append(f"H^2 (total variability / sampling variability):  {self.h2:.2f}")
            lines.append("")
        else:
            lines.append(f"I^2 (total heterogeneity / total variability):   {self.i2:.2f}%")
            lines.append(f"H^2 (total variability / sampling variability):  {self.h2:.2f}")
            lines.append("")
        lines.append("Test for Residual Heterogeneity:" if mods else "Test for Heterogeneity:")
        lines.append(f"{qlab}(df = {self.q_df}) = {_fmt(self.q)}, p-val {_pv_eq(self.q_pvalue)}")
        lines.append("")
        if mods and self.qm is not None:
            lines.append(f"Test of Moderators (coefficient{'s' if len(self._btt()) > 1 else ''} {_span(self._btt())}):")
            if self.test == "knha":
                lines.append(f"F(df1 = {self.qm_df}, df2 = {self.qm_df_den}) = {_fmt(self.qm)}, p-val {_pv_eq(self.qm_pvalue)}")
            else:
                lines.append(f"QM(df = {self.qm_df}) = {_fmt(self.qm)}, p-val {_pv_eq(self.qm_pvalue)}")
            lines.append("")
        lines.append("Model Results:")
        lines.append("")
        tab = self.coefficients.rename(columns=_metafor_labels(self.test == "knha"))
        cols = list(tab.columns)
        cells = [[_fmt(v) if c != "pval" else _fmt_p(v) for c, v in zip(cols, row)] for row in tab.to_numpy()]
        stars = [_stars(pv) for pv in tab["pval"]]
        names = [n for n in tab.index] if mods else [""] * len(tab)
        nw = max(len(n) for n in names)
        widths = [max(len(c), *(len(r[j]) for r in cells)) for j, c in enumerate(cols)]
        header = (" " * nw + ("  " if nw else "")) + "  ".join(c.rjust(w) for c, w in zip(cols, widths))
        lines.append(header.rstrip() if nw == 0 else header)
        for n, r, s in zip(names, cells, stars):
            prefix = n.ljust(nw) + ("  " if nw else "")
            lines.append(prefix + "  ".join(x.rjust(w) for x, w in zip(r, widths)) + "  " + s)
        lines.append("")
        lines.append("---")
        lines.append("Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1")
        if self.method != "FE" and self.k > self.p:
            ci = self.confint_tau2()
            lines.append("")
            lines.append(f"tau^2 {int(round(self.level * 100))}% CI (Q-profile): [{_fmt(ci['tau2'][0])}, {_fmt(ci['tau2'][1])}]; "
                         f"I^2: [{ci['i2'][0]:.2f}%, {ci['i2'][1]:.2f}%]")
            if not mods:
                lines.append(f"{int(round(self.level * 100))}% prediction interval: [{_fmt(self.pi_low)}, {_fmt(self.pi_high)}]")
        if self.dropped:
            lines += ["", f"{len(self.dropped)} stud{'y' if len(self.dropped) == 1 else 'ies'} omitted because of "
                      f"missing values (na_action='omit'): {_where(self.dropped, self.dropped_kind)}."]
        return "\n".join(lines) + "\n"

    def _btt(self) -> list[int]:
        return list(range(1, self.p)) if self.has_intercept and self.p > 1 else list(range(self.p))

    def apa(self, *, transform: str | Callable | None = None, label: str = "effect") -> str:
        """One-line APA-style report of the pooled effect and heterogeneity.

        With ``transform`` the estimate and its CI/PI are back-transformed (e.g.
        "z2r" for correlations). When the fit knows that its measure is a log ratio
        (``measure`` in ``RATIO_MEASURES``: OR, RR, ROM, ...) the default is the ratio
        scale (``exp``, labelled e.g. "odds ratio"); ``transform="none"`` keeps the log
        scale. Back-transformation only for the intercept-only model.

        Examples
        --------
        >>> res = meta_analysis([-0.9, -1.6, -0.2], [0.36, 0.21, 0.05], measure="OR", method="DL")
        >>> res.apa()[res.apa().index('pooled'):][:46]
        'pooled odds ratio of 0.43, 95% CI [0.17, 1.11]'
        """
        if self.measure in RATIO_MEASURES and label == "effect" and transform in (None, "none", *EXP_TRANSFORMS):
            label = ("log " if transform == "none" else "") + RATIO_MEASURES[self.measure]
        if transform is None and self.measure in RATIO_MEASURES:
            transform = "exp"
        if self.p != 1:
            coef = self.coefficients
            parts = [
                f"{n}: b = {_apa_num(r['estimate'])}, {int(round(self.level * 100))}% CI "
                f"[{_apa_num(r['ci_low'])}, {_apa_num(r['ci_high'])}], {_apa_p(r['pvalue'])}"
                for n, r in coef.iterrows()
            ]
            qm = (f"F({self.qm_df}, {self.qm_df_den}) = {self.qm:.2f}" if self.test == "knha"
                  else f"QM({self.qm_df}) = {self.qm:.2f}") if self.qm is not None else ""
            return (f"Meta-regression ({self.method}, k = {self.k}): {qm}, {_apa_p(self.qm_pvalue)}; "
                    + "; ".join(parts) + f"; residual tau\u00b2 = {self.tau2:.3f}, QE({self.q_df}) = {self.q:.2f}, "
                    f"{_apa_p(self.q_pvalue)}.")
        pr = self.predict(transform=transform)
        lvl = int(round(self.level * 100))
        model = "fixed-effect" if self.method == "FE" else f"random-effects ({self.method})"
        stat = (f"t({int(self.df)}) = {_apa_num(self.statistic)}" if self.test == "knha"
                else f"z = {_apa_num(self.statistic)}")
        s = (f"A {model} meta-analysis of k = {self.k} studies gave a pooled {label} of "
             f"{_apa_num(pr.pred[0])}, {lvl}% CI [{_apa_num(pr.ci_low[0])}, {_apa_num(pr.ci_high[0])}], "
             f"{stat}, {_apa_p(self.pvalue)}; Q({self.q_df}) = {self.q:.2f}, {_apa_p(self.q_pvalue)}, "
             f"I\u00b2 = {self.i2:.1f}%")
        if self.method != "FE":
            s += (f", \u03c4\u00b2 = {self.tau2:.3f}; {lvl}% prediction interval "
                  f"[{_apa_num(pr.pi_low[0])}, {_apa_num(pr.pi_high[0])}]")
        return s + "."

    def __repr__(self) -> str:
        return self.summary()


def _pv_eq(p: float) -> str:
    s = _fmt_p(p)
    return s if s.startswith("<") else f"= {s}"


def _span(idx: list[int]) -> str:
    one = [i + 1 for i in idx]
    if len(one) > 1 and one == list(range(one[0], one[-1] + 1)):
        return f"{one[0]}:{one[-1]}"
    return ",".join(map(str, one))


# ----------------------------------------------------------------------- fitting


def _fit(
    y: np.ndarray,
    v: np.ndarray,
    X: np.ndarray,
    names: list[str],
    has_int: bool,
    method: str,
    test: str,
    level: float,
    *,
    maxiter: int = _MAXITER,
    threshold: float = _THRESHOLD,
    compute_r2: bool = True,
    warn_fe_knha: bool = True,
    _internal: bool = False,
) -> MetaResult:
    if not _internal:  # fit in units where the sampling variances are about 1 (see _scale_exponent)
        e = _scale_exponent(v)
        # metafor's stopping threshold is absolute (1e-12 in the data's units); here it is relative to
        # the median sampling variance, so that the fit does not depend on the units of y
        res = _fit(np.ldexp(y, -e), np.ldexp(v, -2 * e), X, names, has_int, method, test, level, maxiter=maxiter,
                   threshold=threshold * _THRESHOLD_REL, compute_r2=compute_r2, warn_fe_knha=warn_fe_knha,
                   _internal=True)
        return _unscale(res, e, y, v)
    k, p = X.shape
    tau2, info = _estimate_tau2(method, X, y, v, maxiter=maxiter, threshold=threshold)
    w = 1.0 / (v + tau2)
    beta, vb, r = _wls(X, y, w)
    s2w, df = 1.0, None
    if test == "knha":
        if method == "FE" and warn_fe_knha:
            warnings.warn("Knapp & Hartung method is not meant to be used with a fixed-effect (FE) model.",
                          UserWarning, stacklevel=3)
        rss = float(np.dot(w, r * r))
        s2w = 0.0 if rss <= np.finfo(float).eps else rss / (k - p)
        df = k - p
        vb = s2w * vb
    # heterogeneity (W = 1/v)
    if k > p:
        w0 = 1.0 / v
        _, _, r0 = _wls(X, y - y.mean(), w0)
        qe = max(0.0, float(np.dot(w0, r0 * r0)))
        qe_p = float(stats.chi2.sf(qe, k - p))
        vt = (k - p) / _traces(X, w0, v)["P"]
        if method == "FE":
            i2 = max(0.0, 100 * (qe - (k - p)) / qe) if qe > 0 else 0.0
            h2 = qe / (k - p)
        else:
            i2 = 100 * tau2 / (vt + tau2)
            h2 = tau2 / vt + 1
    else:
        qe, qe_p, i2, h2, vt = 0.0, 1.0, 0.0, 1.0, 0.0
    # omnibus test of moderators
    qm = qm_df = qm_df_den = qm_p = r2 = None
    if p > 1 or not has_int:
        btt = list(range(1, p)) if has_int else list(range(p))
        m = len(btt)
        bb = beta[btt]
        qm = float(bb @ np.linalg.solve(vb[np.ix_(btt, btt)], bb))
        if test == "knha":
            qm /= m
            qm_df, qm_df_den = m, k - p
            qm_p = float(stats.f.sf(qm, m, k - p)) if k - p > 0 else float("nan")
        else:
            qm_df = m
            qm_p = float(stats.chi2.sf(qm, m))
        if has_int and compute_r2:
            r2 = _pseudo_r2(y, v, X, method, test, tau2, maxiter, threshold)
    fs = _fit_stats(tau2, X, y, v, method)
    ll = fs["REML" if method == "REML" else "ML"]["loglik"]
    return MetaResult(
        method=method, test=test, level=level, k=k, p=p, coef_names=names, beta=beta, vcov=vb,
        tau2=tau2, se_tau2=info["se_tau2"], i2=i2, h2=h2, q=qe, q_df=k - p, q_pvalue=qe_p, vt=vt,
        s2w=s2w, df=df, weights=100 * w / w.sum(), qm=qm, qm_df=qm_df, qm_df_den=qm_df_den, qm_pvalue=qm_p,
        r2=r2, converged=True, iterations=info["iterations"], loglik=ll, yi=y, vi=v, X=X, has_intercept=has_int,
        fit_stats=fs,
    )


def _unscale(res: MetaResult, e: int, y: np.ndarray, v: np.ndarray) -> MetaResult:
    """Express a fit made on y / 2^e, v / 4^e in the original units (exact powers of two).

    tau^2, its SE, the typical variance and Var(b) scale by 4^e, b by 2^e; the
    log-likelihood drops by (k - p) e log 2 (REML) or k e log 2 (ML, reported for every
    method but REML), and the fit statistics with it; z, p, Q, I^2, H^2, R^2 and the
    weights are unchanged.
    """
    res.beta = np.ldexp(res.beta, e)
    res.vcov = np.ldexp(res.vcov, 2 * e)
    res.tau2 = float(np.ldexp(res.tau2, 2 * e))
    res.se_tau2 = float(np.ldexp(res.se_tau2, 2 * e))
    res.vt = float(np.ldexp(res.vt, 2 * e))
    # Both likelihoods move by a constant: ML by -k e log 2, REML by -(k - p) e log 2. The ML
    # deviance is a difference of two ML log-likelihoods on the same data, so it does not move.
    shift = {"ML": res.k * e * math.log(2.0), "REML": (res.k - res.p) * e * math.log(2.0)}
    for kind, stats_ in res.fit_stats.items():
        d = shift[kind]
        stats_["loglik"] -= d
        for key in ("aic", "bic", "aicc"):
            stats_[key] += 2 * d
        if kind == "REML":
            stats_["deviance"] += 2 * d
    res.loglik = res.loglik - shift["REML" if res.method == "REML" else "ML"]
    res.yi, res.vi = y, v
    return res


def _pseudo_r2(y, v, X, method, test, tau2, maxiter, threshold) -> float:
    """metafor's pseudo-R^2 (%): max(0, 100 (tau^2_RE - tau^2_ME) / tau^2_RE).

    tau^2_RE comes from the intercept-only model with the same estimator; it is 0
    when tau^2_RE = 0. For FE models metafor reports the adjusted R^2 of the
    weighted least-squares regression (weights 1/v), and so does this function.
    """
    k, p = X.shape
    if method == "FE":
        if np.var(y) == 0:
            return 0.0
        if k <= p:
            return float("nan")  # no residual df: R's adjusted R^2 is NaN too
        w = 1.0 / v
        _, _, r = _wls(X, y, w)
        ybar = np.dot(w, y) / w.sum()
        ss_res = float(np.dot(w, r * r))
        ss_tot = float(np.dot(w, (y - ybar) ** 2))
        r2 = 1 - ss_res / ss_tot
        adj = 1 - (1 - r2) * (k - 1) / (k - p)
        return max(0.0, 100 * adj)
    tau2_re, _ = _estimate_tau2(method, np.ones((k, 1)), y, v, maxiter=maxiter, threshold=threshold)
    if tau2_re == 0:
        return 0.0
    return max(0.0, 100 * (tau2_re - tau2) / tau2_re)


def meta_analysis(
    yi: Any,
    vi: Any,
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    mods: Any = None,
    data: pd.DataFrame | None = None,
    maxiter: int = _MAXITER,
    measure: str | None = None,
    na_action: str = "fail",
) -> MetaResult:
    r"""Fixed-, random- or mixed-effects meta-analysis (metafor ``rma.uni``).

    Model: :math:`y_i = x_i'\beta + u_i + e_i`, :math:`u_i \sim N(0, \tau^2)`,
    :math:`e_i \sim N(0, v_i)`. Given :math:`\hat\tau^2`, :math:`\hat\beta =
    (X'WX)^{-1}X'Wy` with :math:`W = \mathrm{diag}(1/(v_i + \hat\tau^2))` and
    :math:`\mathrm{Var}(\hat\beta) = (X'WX)^{-1}`.

    tau^2 estimators (``method``):

    - ``"FE"``: tau^2 = 0 (fixed-/common-effect model).
    - ``"DL"`` (DerSimonian & Laird, 1986): (Q - (k - p)) / tr(P), P for W = 1/v.
    - ``"HE"`` (Hedges, 1983): (RSS_OLS - tr(P_OLS V)) / (k - p).
    - ``"SJ"`` (Sidik & Jonkman, 2005), one step as metafor: tau0^2 = mean((y - ybar)^2),
      tau^2 = tau0^2 Q(tau0^2) / (k - p).
    - ``"PM"`` (Paule & Mandel, 1982): the root of Q(tau^2) = k - p.
    - ``"ML"``, ``"REML"`` (Viechtbauer, 2005): Fisher scoring from the HE estimate,
      update (y'PPy - tr P)/tr(PP) (REML) or (y'PPy - sum w)/sum w^2 (ML), stopping
      when the change is below 1e-12 (MetaConvergenceError after ``maxiter``).

    All estimates are truncated at 0. ``test="knha"`` (Knapp & Hartung, 2003)
    scales Var(b) by s^2 = sum w_i r_i^2 / (k - p) (no truncation at 1, as
    metafor's default) and uses t (and F for moderators) with df = k - p.
    Heterogeneity: Q = sum (y_i - x_i'b_FE)^2 / v_i; I^2 = 100 tau^2 / (tau^2 + v~),
    H^2 = (tau^2 + v~) / v~ with v~ = (k - p) / tr(P) (Higgins & Thompson, 2002;
    for FE, I^2 = (Q - df)/Q and H^2 = Q/df).

    Written by hand on O(k p^2) weighted least squares (statsmodels'
    ``combine_effects`` has only DL/PM without moderators), so it is linear in k.

    Parameters
    ----------
    yi, vi : array-like or str
        Effect sizes and their sampling variances (> 0), or column names of ``data``.
    method : {"FE", "DL", "REML", "ML", "PM", "HE", "SJ"}
    test : {"z", "knha"}
    level : float
        Confidence level of intervals (0.95).
    mods : str, array-like or DataFrame, optional
        Moderators: a formula on ``data`` such as ``"~ ablat + year"`` (patsy; string
        or ``C()`` terms are dummy-coded), a numeric array (one column per moderator)
        or a DataFrame (text/categorical columns dummy-coded). An intercept is added.
        A singular design raises a ValueError naming the redundant moderators.
    data : DataFrame, optional
    maxiter : int
        Iteration limit of the ML/REML Fisher scoring.
    measure : str, optional
        The effect-size measure of ``yi`` (a key of ``analysis.effect_sizes.MEASURES``,
        e.g. ``"OR"``, or ``EffectSizes.measure``). Stored on the result; log-ratio
        measures (``RATIO_MEASURES``) make ``apa()`` and ``forest_plot`` use the ratio scale.
    na_action : {"fail", "omit"}
        Missing values (NaN/None) in ``yi``, ``vi`` or a moderator: ``"fail"`` (default)
        refuses them, listing the rows; ``"omit"`` drops those studies with a UserWarning
        that lists them (metafor's ``na.omit``) and records them in ``dropped``
        (DataFrame/Series index labels, else 0-based positions; ``dropped_kind`` says which).

    Results do not depend on the units of the data: the fit runs on ``yi / 2^e``,
    ``vi / 4^e`` with the median ``vi / 4^e`` near 1 and is scaled back exactly, so
    multiplying ``yi`` by ``c`` and ``vi`` by ``c^2`` multiplies tau^2 by ``c^2`` and leaves
    z, p, Q and I^2 unchanged (for ``c`` from 1e-150 to 1e150).

    Returns
    -------
    MetaResult
        With ``estimate, se, statistic, pvalue, ci_low, ci_high, tau2, tau2_ci,
        tau, i2, h2, q, q_df, q_pvalue, pi_low, pi_high, k, weights`` (and ``qm``,
        ``r2``, ``coefficients`` for meta-regression), ``loglik`` (REML for REML
        fits, ML otherwise, as metafor's ``logLik``), ``deviance``, ``aic``, ``bic``,
        ``aicc``, ``n_params``, ``fitstats()``, ``summary()``, ``apa()``,
        ``predict()``.

    References
    ----------
    Viechtbauer (2010), metafor; see the module docstring for the full list.

    Examples
    --------
    >>> res = meta_analysis([0.2, 0.5, 0.1, 0.4], [0.02, 0.03, 0.01, 0.05], method="REML")
    >>> round(res.estimate, 4)
    0.2534
    >>> res.k
    4
    """
    method = check_choice("method", method, METHODS)
    test = check_choice("test", test, TESTS)
    level = check_level("level", level)
    maxiter = _check_maxiter(maxiter)
    vals, mods, data, dropped, kind = _apply_na_action(na_action, data, {"yi": yi, "vi": vi}, mods)
    y, v = _check_yi_vi(vals["yi"], vals["vi"])
    k = y.shape[0]
    if method != "FE" and k < 2:
        raise ValueError(f"A random-effects model (method={method!r}) needs at least 2 effect sizes; got k = {k}.")
    if k < 1:
        raise ValueError("`yi` is empty.")
    X, names, has_int = _design(mods, data, k)
    p = X.shape[1]
    if method != "FE" and k - p < 1:
        raise ValueError(f"With {p} coefficients a random-effects model needs k > {p} effect sizes; got k = {k}.")
    if test == "knha" and k - p < 1:
        raise ValueError(f"test='knha' needs k > p (here k = {k}, p = {p}).")
    measure = _check_measure(measure)
    res = _fit(y, v, X, names, has_int, method, test, float(level), maxiter=maxiter)
    res.measure = measure
    res.dropped, res.dropped_kind = dropped, kind
    return res


def _check_measure(measure: Any) -> str | None:
    """None or a measure name of analysis.effect_sizes (or one of its scale names)."""
    if measure is None:
        return None
    from analysis._checks import suggest_name
    from analysis.effect_sizes import MEASURES

    known = tuple(MEASURES) + ("r", "z", "d", "g", "logOR")
    if not isinstance(measure, str) or measure not in known:
        raise ValueError(f"`measure` must be None or one of {', '.join(map(repr, known))}; got "
                         f"{measure!r}.{suggest_name(measure, known)}")
    return measure


# --------------------------------------------------------------------- subgroups


@dataclass
class SubgroupResult(ResultMixin):
    """Results of :func:`subgroup_analysis`.

    ``table`` has one row per subgroup (k, estimate, se, CI, tau2, I2, Q, Q p);
    ``q_between``/``q_between_df``/``q_between_pvalue`` is the chosen test of
    subgroup differences; ``mixed`` is the mixed-effects moderator fit (one
    common tau^2) and ``separate`` the fixed-effect fit of the subgroup estimates.
    """

    _frame_from = ('table',)

    table: pd.DataFrame
    approach: str
    q_between: float
    q_between_df: int
    q_between_pvalue: float
    mixed: MetaResult
    separate: MetaResult
    method: str
    #: Studies dropped by ``na_action="omit"`` (index labels or 0-based positions, see ``dropped_kind``).
    dropped: list = field(default_factory=list)
    dropped_kind: str = ""

    def summary(self) -> str:
        """Subgroup table and the test between subgroups."""
        lines = [
            f"Subgroup analysis (tau^2 estimator: {self.method}; test between subgroups: {self.approach})",
            "",
            self.table.to_string(float_format=lambda x: f"{x:.4f}"),
            "",
            f"Test of subgroup differences: Q_between(df = {self.q_between_df}) = {self.q_between:.4f}, "
            f"p-val {_pv_eq(self.q_between_pvalue)}",
            f"(one common tau^2, mixed-effects QM = {self.mixed.qm:.4f}, p = {_fmt_p(self.mixed.qm_pvalue)}; "
            f"separate tau^2 per subgroup, Q_b = {self.separate.qm:.4f}, p = {_fmt_p(self.separate.qm_pvalue)})",
        ]
        if self.dropped:
            lines.append(f"{len(self.dropped)} omitted because of missing values (na_action='omit'): "
                         f"{_where(self.dropped, self.dropped_kind)}.")
        return "\n".join(lines) + "\n"

    def apa(self) -> str:
        """One-line APA-style report of the test of subgroup differences."""
        return (f"The subgroups differed {'significantly' if self.q_between_pvalue < 0.05 else 'not significantly'}, "
                f"Q_between({self.q_between_df}) = {self.q_between:.2f}, {_apa_p(self.q_between_pvalue)}.")

    def __repr__(self) -> str:
        return self.summary()


def subgroup_analysis(
    yi: Any,
    vi: Any,
    groups: Any,
    *,
    data: pd.DataFrame | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    approach: str = "separate",
    na_action: str = "fail",
) -> SubgroupResult:
    r"""Meta-analysis per subgroup and a test of differences between subgroups.

    Two tests are computed (both reported):

    - ``approach="separate"`` (default; Borenstein et al., 2009, ch. 19, "separate
      tau^2"): each subgroup gets its own random-effects fit; the subgroup
      estimates :math:`\hat\mu_g` with standard errors :math:`s_g` are compared
      by the fixed-effect test :math:`Q_b = \sum_g (\hat\mu_g - \bar\mu)^2 / s_g^2`,
      :math:`\bar\mu = \sum_g \hat\mu_g s_g^{-2} / \sum_g s_g^{-2}`, df = G - 1
      (metafor: ``rma(est, sei = se, mods = ~ group, method = "FE")$QM``).
    - ``approach="mixed"``: a mixed-effects meta-regression on the subgroup dummies
      with one common tau^2 (metafor: ``rma(yi, vi, mods = ~ factor(group))``);
      the omnibus QM (F with ``test="knha"``) is the test.

    Parameters
    ----------
    yi, vi : array-like or str
    groups : array-like or str
        Subgroup labels (or a column of ``data``).
    data : DataFrame, optional
    method, test, level : as in :func:`meta_analysis`
    approach : {"separate", "mixed"}
        Which test is reported as ``q_between``.
    na_action : {"fail", "omit"}
        Missing ``yi``, ``vi`` or group labels: refuse (default) or drop those studies with a
        UserWarning listing them (recorded in ``dropped``), as in :func:`meta_analysis`.

    Returns
    -------
    SubgroupResult

    References
    ----------
    Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009).
    *Introduction to meta-analysis*. Wiley (chapter 19).
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.
    Knapp, G., & Hartung, J. (2003). Improved tests for a random effects
    meta-regression with a single covariate. *Statistics in Medicine, 22*,
    2693-2710.

    Examples
    --------
    >>> res = subgroup_analysis([0.1, 0.2, 0.5, 0.6, 0.55], [0.01, 0.02, 0.01, 0.02, 0.015],
    ...                         ["a", "a", "b", "b", "b"], method="DL")
    >>> list(res.table.index)
    ['a', 'b']
    """
    approach = check_choice("approach", approach, ("separate", "mixed"))
    method = check_choice("method", method, METHODS)
    test = check_choice("test", test, TESTS)
    level = check_level("level", level)
    vals, _, data, dropped, kind = _apply_na_action(na_action, data, {"yi": yi, "vi": vi, "groups": groups})
    y, v = _check_yi_vi(vals["yi"], vals["vi"])
    g = vals["groups"]
    if g is None or isinstance(g, (str, bytes, dict)) or np.ndim(g) != 1:
        raise ValueError(f"`groups` must be a 1-D array, a Series or a column name of `data`, got {g!r:.60}.")
    g = pd.Series(np.asarray(g, dtype=object) if not isinstance(g, pd.Series) else g.to_numpy())
    if len(g) != len(y):
        raise ValueError(f"`groups` has {len(g)} labels but there are {len(y)} effect sizes.")
    if g.isna().any():
        raise ValueError(f"`groups` has missing labels at {first_bad(g.isna().to_numpy())}.")
    g = g.astype(str)
    levels = sorted(g.unique())
    if len(levels) < 2:
        raise ValueError("`groups` must have at least two different subgroups.")
    rows, ests, ses = [], [], []
    for lev in levels:
        sel = (g == lev).to_numpy()
        if method != "FE" and sel.sum() < 2:
            raise ValueError(f"Subgroup {lev!r} has only {sel.sum()} effect size; a random-effects fit needs 2.")
        r = meta_analysis(y[sel], v[sel], method=method, test=test, level=level)
        rows.append({"k": r.k, "estimate": r.estimate, "se": r.se, "ci_low": r.ci_low, "ci_high": r.ci_high,
                     "tau2": r.tau2, "i2": r.i2, "q": r.q, "q_pvalue": r.q_pvalue})
        ests.append(r.estimate)
        ses.append(r.se)
    table = pd.DataFrame(rows, index=pd.Index(levels, name="subgroup"))
    mixed = meta_analysis(y, v, method=method, test=test, level=level, mods=pd.DataFrame({"group": g}))
    sep = meta_analysis(np.array(ests), np.array(ses) ** 2, method="FE", level=level,
                        mods=pd.DataFrame({"group": levels}))
    chosen = sep if approach == "separate" else mixed
    return SubgroupResult(
        table=table, approach=approach, q_between=float(chosen.qm), q_between_df=int(chosen.qm_df),
        q_between_pvalue=float(chosen.qm_pvalue), mixed=mixed, separate=sep, method=method,
        dropped=dropped, dropped_kind=kind,
    )
