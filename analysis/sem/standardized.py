r"""Standardized solutions (lavaan's ``standardizedSolution``: ``std.lv`` and ``std.all``).

With model-implied standard deviations :math:`s_v` (observed: :math:`\sqrt{\hat\Sigma_{vv}}`;
latent: :math:`\sqrt{C_{vv}}`, :math:`C = (I-B)^{-1}\Psi(I-B)^{-\top}`), ``std.all`` rescales

.. math::

    f \mathbin{=\sim} x:\ \hat\lambda\,s_f/s_x,\qquad y \sim x:\ \hat\beta\,s_x/s_y,\qquad
    v \sim\sim v:\ \hat\psi/s_v^2,\qquad a \sim\sim b:\ \hat\psi_{ab}/\sqrt{\hat\psi_{aa}\hat\psi_{bb}},\qquad
    v \sim 1:\ \hat\alpha/s_v,\qquad u \mid t:\ \hat\tau/s_u,

covariances scaled by the *residual* variances (lavaan's ``cov.std = TRUE``); ``std.lv`` does the
same with :math:`s_v = 1` for the observed variables. Standard errors by the delta method,
:math:`\operatorname{Var}(g(\hat\theta)) = J V J^\top` with the Jacobian J of the standardization
(central differences).

References
----------
Bollen, K. A. (1989). *Structural Equations with Latent Variables*. Wiley.
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software, 48*(2), 1--36.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from analysis.sem.model import check_theta

__all__ = ["standardize", "standardized_se", "scale_factors"]


def _sds(model, core, vals):
    """Per group: dict var -> (sd_all, sd_lv) and residual variances."""
    out = []
    ov = model.ov_names
    eta = model.eta_names
    for c in core:
        sd = {}
        Sig, C = c["Sigma"], c["C"]
        for k, v in enumerate(ov):
            sd[v] = (np.sqrt(max(Sig[k, k], 0.0)), 1.0)
        for k, v in enumerate(eta):
            if v not in sd:
                s = np.sqrt(max(C[k, k], 0.0))
                sd[v] = (s, s)
        out.append(sd)
    return out


def scale_factors(model, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per partable row the factors ``(f_lv, f_all)`` with ``std = value * f`` at `theta`.

    Examples
    --------
    >>> from analysis.sem.syntax import parameter_table
    >>> from analysis.sem.model import SEMModel
    >>> m = SEMModel(parameter_table("f =~ x1 + x2 + x3"), ["x1", "x2", "x3"])
    >>> f_lv, f_all = scale_factors(m, np.array([1.0, 1.0, 0.5, 0.5, 0.5, 1.0]))
    >>> round(float(f_lv[0]), 4)
    1.0
    """
    theta = check_theta(model, theta)
    pt = model.partable
    vals = model.row_values(theta)
    core = model._core(theta)
    sds = _sds(model, core, vals)
    resvar = [dict() for _ in core]
    for r, (lhs, op, rhs, g) in enumerate(zip(pt["lhs"], pt["op"], pt["rhs"], pt["group"])):
        if op == "~~" and lhs == rhs and g - 1 < len(core):
            resvar[g - 1][lhs] = vals[r]
    f_lv = np.full(len(pt), np.nan)
    f_all = np.full(len(pt), np.nan)
    lv = set(model.lv_names)
    with np.errstate(divide="ignore", invalid="ignore"):
        for r, (lhs, op, rhs, g) in enumerate(zip(pt["lhs"], pt["op"], pt["rhs"], pt["group"])):
            if g - 1 >= len(core):
                continue
            sd = sds[g - 1]
            if op == "=~":
                f_lv[r] = sd[lhs][1] / (sd[rhs][1] if rhs in lv else 1.0)
                f_all[r] = sd[lhs][0] / sd[rhs][0]
            elif op == "~":
                f_lv[r] = sd[rhs][1] / sd[lhs][1]
                f_all[r] = sd[rhs][0] / sd[lhs][0]
            elif op == "~~":
                if lhs == rhs:
                    f_lv[r] = 1 / sd[lhs][1] ** 2
                    f_all[r] = 1 / sd[lhs][0] ** 2
                else:
                    a, b = resvar[g - 1].get(lhs, np.nan), resvar[g - 1].get(rhs, np.nan)
                    den = np.sqrt(a * b) if a > 0 and b > 0 else np.nan
                    f_all[r] = 1 / den
                    f_lv[r] = 1 / den if (lhs in lv and rhs in lv) else 1.0
            elif op == "~1":
                f_lv[r] = 1 / sd[lhs][1]
                f_all[r] = 1 / sd[lhs][0]
            elif op == "|":
                f_lv[r] = 1.0
                f_all[r] = 1 / sd[lhs][0]
    return f_lv, f_all


def standardize(model, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(std_lv, std_all)`` for every row of the parameter table at `theta`.

    Parameters
    ----------
    model : analysis.sem.model.SEMModel
    theta : array
        Free parameters.

    Returns
    -------
    tuple of numpy.ndarray
        One value per partable row.

    Examples
    --------
    >>> from analysis.sem.syntax import parameter_table
    >>> from analysis.sem.model import SEMModel
    >>> m = SEMModel(parameter_table("f =~ x1 + x2 + x3"), ["x1", "x2", "x3"])
    >>> lv, al = standardize(m, np.array([1.0, 1.0, 0.5, 0.5, 0.5, 1.0]))
    >>> round(float(al[0]), 4)
    0.8165
    """
    theta = check_theta(model, theta)
    vals = model.row_values(theta)
    f_lv, f_all = scale_factors(model, theta)
    return vals * f_lv, vals * f_all


def standardized_se(model, theta: np.ndarray, vcov: np.ndarray, h: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    """Delta-method standard errors of ``std_lv`` and ``std_all`` (central differences).

    :math:`\\operatorname{se}(g(\\hat\\theta)) = \\sqrt{\\operatorname{diag}(J V J^\\top)}`, J the Jacobian of
    :func:`standardize` at `theta`, V = `vcov`.

    Examples
    --------
    >>> from analysis.sem.syntax import parameter_table
    >>> from analysis.sem.model import SEMModel
    >>> m = SEMModel(parameter_table("f =~ x1 + x2 + x3"), ["x1", "x2", "x3"])
    >>> se_lv, se_all = standardized_se(m, np.array([1.0, 1.0, 0.5, 0.5, 0.5, 1.0]), np.eye(6) * 0.01)
    >>> bool(se_all[1] > 0)
    True
    """
    theta = check_theta(model, theta)
    q = len(theta)
    vcov = np.asarray(vcov, dtype=float)
    if vcov.shape != (q, q) or not np.all(np.isfinite(vcov)):
        raise ValueError(f"vcov must be a finite {q} x {q} matrix, got shape {vcov.shape}.")
    J_lv = np.zeros((len(model.partable), q))
    J_all = np.zeros_like(J_lv)
    for k in range(q):
        e = np.zeros(q)
        # a step relative to the parameter's own size (its value, else its standard error), so
        # that parameters of data in tiny or huge units are differenced on their own scale
        size = abs(theta[k]) or math.sqrt(max(vcov[k, k], 0.0)) or 1.0
        step = h * size
        e[k] = step
        a_lv, a_all = standardize(model, theta + e)
        b_lv, b_all = standardize(model, theta - e)
        J_lv[:, k] = (a_lv - b_lv) / (2 * step)
        J_all[:, k] = (a_all - b_all) / (2 * step)
    se_lv = np.sqrt(np.clip(np.einsum("ik,kl,il->i", J_lv, vcov, J_lv), 0, None))
    se_all = np.sqrt(np.clip(np.einsum("ik,kl,il->i", J_all, vcov, J_all), 0, None))
    return se_lv, se_all


def solution_table(pe: pd.DataFrame, column: str, level: float) -> pd.DataFrame:
    """lavaan's ``standardizedSolution()`` layout from a parameter table with standardized columns.

    The estimate is ``pe[column]`` (``"std_all"`` or ``"std_lv"``) and its SE ``pe[column + "_se"]``
    (NaN when absent); z = estimate / SE where the SE is positive (fixed and implied rows have no z,
    as in lavaan), the two-sided normal p value and the Wald interval at `level`. Shared by
    :class:`analysis.sem.SEMResult` and :class:`analysis.sem.ordinal.WLSMVResult`; `level` is
    checked by the caller.
    """
    est = pe[column].to_numpy(dtype=float)
    se = pe.get(f"{column}_se", pd.Series(np.nan, index=pe.index)).to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = np.where(se > 1e-12, est / np.where(se > 1e-12, se, 1.0), np.nan)
    z = stats.norm.ppf(0.5 + level / 2)
    return pd.DataFrame({"term": pe["term"], "estimate": est, "se": se, "statistic": stat,
                         "pvalue": np.where(np.isnan(stat), np.nan, 2 * stats.norm.sf(np.abs(np.nan_to_num(stat)))),
                         "ci_low": est - z * se, "ci_high": est + z * se, "lhs": pe["lhs"], "op": pe["op"],
                         "rhs": pe["rhs"], "group": pe["group"]})
