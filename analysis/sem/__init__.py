r"""Structural equation models written in lavaan syntax: the one SEM engine of the workbook.

:func:`sem` (and :func:`cfa`, the same with lavaan's ``cfa()`` defaults) reads a model in lavaan
syntax (:mod:`analysis.sem.syntax`), builds its LISREL matrices once (:mod:`analysis.sem.model`),
estimates it by normal-theory maximum likelihood (complete data) or full-information ML
(``missing="ml"``, :mod:`analysis.sem.missing`) with analytic gradients
(:mod:`analysis.sem.estimate`), and returns a :class:`SEMResult` with lavaan's parameter table,
fit measures (:mod:`analysis.sem.fit`), standardized solutions
(:mod:`analysis.sem.standardized`), modification indices (:mod:`analysis.sem.modindices`) and
defined parameters ``name := expression`` with delta-method SEs (:mod:`analysis.sem.defined`).
Robust ML (MLR) and WLSMV for ordered items are plugged in by ``analysis.sem.robust`` and
``analysis.sem.ordinal`` through :func:`analysis.sem.estimate.register_estimator`.

The ML estimate minimises (Jöreskog 1969; Bollen 1989)

.. math::

    F_{ML}(\theta) = \sum_g \frac{n_g}{N}\Big[\log|\Sigma_g(\theta)| + \operatorname{tr}(S_g\Sigma_g(\theta)^{-1})
        - \log|S_g| - p + (\bar y_g - \mu_g(\theta))^\top\Sigma_g(\theta)^{-1}(\bar y_g - \mu_g(\theta))\Big]

and the standard errors are the square roots of the diagonal of the inverse expected
information (observed information under FIML), as lavaan (Rosseel 2012) does.

References
----------
Bollen, K. A. (1989). *Structural Equations with Latent Variables*. Wiley.
Jöreskog, K. G. (1969). A general approach to confirmatory maximum likelihood factor analysis.
*Psychometrika, 34*(2), 183--202.
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software, 48*(2), 1--36.
Sörbom, D. (1989). Model modification. *Psychometrika, 54*(3), 371--384.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from analysis._checks import check_dataframe, suggest_name
from analysis._results import coef_frame, plain
from analysis.sem import estimate as _est
from analysis.sem import fit as _fit
from analysis.sem.defined import apply_equalities, check_labels, defined_rows, split_definitions
from analysis.sem.model import SEMModel
from analysis.sem.syntax import GROUP_EQUAL, ModelSyntaxError, parameter_table, parse_syntax
from analysis.sem.standardized import solution_table, standardize, standardized_se

__all__ = ["sem", "cfa", "SEMResult", "ModelSyntaxError", "GROUP_EQUAL"]

_MISSING = ("listwise", "ml", "fiml")
_INFORMATION = ("expected", "observed")


@dataclass
class SEMResult:
    """A fitted structural equation model (lavaan's ``lavaan`` object, in the results vocabulary).

    Attributes
    ----------
    model : str
        The model syntax.
    partable : pandas.DataFrame
        lavaan's parameter table with ``est`` replaced by ``estimate`` and ``se``.
    theta : numpy.ndarray
        The q free parameters.
    vcov : numpy.ndarray
        Their covariance matrix (inverse information).
    fit : dict
        Fit measures (lavaan's names).
    converged : bool
        False when the optimiser did not reach a stationary point (or the information is
        singular: the model is not identified).
    warnings : list of str
        Non-convergence, negative variances (Heywood cases), non-positive-definite matrices.
    n_obs : int
        Rows used (all groups).
    n_groups : int
    group_labels : list
    estimator, missing, information : str
    iterations : int
    defined : list of analysis.sem.defined.Definition
        The ``name := expression`` (and ``a == b``) lines of the model; the defined parameters
        are the rows with ``op == ":="`` of :meth:`parameter_estimates`.
    """

    model: str
    partable: pd.DataFrame
    theta: np.ndarray
    vcov: np.ndarray
    fit: dict
    converged: bool
    warnings: list
    n_obs: int
    n_groups: int
    group_labels: list
    estimator: str
    missing: str
    information: str
    iterations: int
    n_obs_per_group: list = field(default_factory=list)
    _model: Any = field(default=None, repr=False)
    _obj: Any = field(default=None, repr=False)
    _exo: list = field(default_factory=list, repr=False)
    _level: float = field(default=0.95, repr=False)
    defined: list = field(default_factory=list, repr=False)

    # ------------------------------------------------------------------ tables
    def parameter_estimates(self, *, level: float = 0.95, standardized: bool = True) -> pd.DataFrame:
        """lavaan's ``parameterEstimates`` (and ``standardizedSolution``'s ``est.std``).

        Columns ``term, estimate, se, statistic (z), pvalue, ci_low, ci_high`` then ``lhs, op, rhs,
        group, group_label, label, free, std_lv, std_all`` (and ``std_lv_se``, ``std_all_se``).
        Fixed parameters have ``se`` 0 and no z statistic, as in lavaan.
        """
        if not (isinstance(level, float) and 0 < level < 1):
            raise ValueError(f"level must be a number in (0, 1), got {level!r}.")
        pt = self.partable
        z = stats.norm.ppf(0.5 + level / 2)
        est = pt["estimate"].to_numpy(dtype=float)
        se = pt["se"].to_numpy(dtype=float)
        free = pt["free"].to_numpy() > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            stat = np.where(free & (se > 0), est / np.where(se > 0, se, 1.0), np.nan)
        pval = np.where(np.isnan(stat), np.nan, 2 * stats.norm.sf(np.abs(np.nan_to_num(stat))))
        term = [f"{a} {o} {b}".rstrip() if o != "~1" else f"{a} ~1" for a, o, b in zip(pt["lhs"], pt["op"], pt["rhs"])]
        out = pd.DataFrame({
            "term": term, "estimate": est, "se": se, "statistic": stat, "pvalue": pval,
            "ci_low": est - z * se, "ci_high": est + z * se,
            "lhs": pt["lhs"].to_numpy(), "op": pt["op"].to_numpy(), "rhs": pt["rhs"].to_numpy(),
            "group": pt["group"].to_numpy(), "group_label": [self.group_labels[g - 1] for g in pt["group"]],
            "label": pt["label"].to_numpy(), "free": pt["free"].to_numpy(), "exo": pt["exo"].to_numpy(),
        })
        if standardized:
            lv, al = standardize(self._model, self.theta)
            out["std_lv"], out["std_all"] = lv, al
            if np.all(np.isfinite(self.vcov)):
                slv, sal = standardized_se(self._model, self.theta, self.vcov)
                out["std_lv_se"], out["std_all_se"] = slv, sal
        if any(d.kind == ":=" for d in self.defined):
            from analysis.sem.defined import defined_rows
            rows, _ = defined_rows(self, level=level, standardized=standardized)
            out = pd.concat([out, pd.DataFrame(rows, columns=out.columns)], ignore_index=True)
        return out

    @property
    def coefficients(self) -> pd.DataFrame:
        """The parameter table indexed by ``term`` (``"f =~ x1"``)."""
        return self.parameter_estimates().set_index("term")

    def standardized_solution(self, *, type: str = "std.all", level: float = 0.95) -> pd.DataFrame:
        """lavaan's ``standardizedSolution``: the standardized estimate with delta-method SE, z, p and CI."""
        if type not in ("std.all", "std.lv"):
            raise ValueError(f"type must be 'std.all' or 'std.lv', got {type!r}.")
        col = "std_all" if type == "std.all" else "std_lv"
        return solution_table(self.parameter_estimates(level=level), col, level)

    def fit_measures(self, names: Iterable[str] | None = None) -> pd.Series:
        """lavaan's ``fitMeasures`` as a Series (all, or the `names` asked for)."""
        s = pd.Series(self.fit, dtype=float, name="value")
        if names is None:
            return s
        names = [names] if isinstance(names, str) else list(names)
        for n in names:
            if n not in s.index:
                raise ValueError(f"names: unknown fit measure {n!r}.{suggest_name(n, list(s.index))}")
        return s[names]

    def modification_indices(self, *, minimum: float = 0.0, sort: bool = False) -> pd.DataFrame:
        """lavaan's ``modindices``: score tests of fixed parameters (expected information).

        Columns ``term, lhs, op, rhs, group, mi, epc, sepc_lv, sepc_all``; see
        :func:`analysis.sem.modindices.modification_indices`.
        """
        from analysis.sem.modindices import modification_indices
        if not (isinstance(minimum, (int, float)) and minimum >= 0):
            raise ValueError(f"minimum must be a non-negative number, got {minimum!r}.")
        out = modification_indices(self)
        out = out[out["mi"] >= minimum]
        if sort:
            out = out.sort_values("mi", ascending=False)
        return out.reset_index(drop=True)

    def to_frame(self) -> pd.DataFrame:
        """The parameter table (tidy: ``term`` first)."""
        return coef_frame(self.parameter_estimates())

    def to_dict(self) -> dict:
        """Plain Python: estimates, fit measures and the diagnostics."""
        return {"model": self.model, "estimator": self.estimator, "missing": self.missing,
                "converged": bool(self.converged), "warnings": list(self.warnings), "n_obs": int(self.n_obs),
                "n_groups": int(self.n_groups), "group_labels": plain(self.group_labels),
                "iterations": int(self.iterations), "fit": plain(self.fit),
                "parameters": plain(self.parameter_estimates(standardized=False))}

    def _fit_args(self):
        return self._obj, self.theta

    # ------------------------------------------------------------------ matrices (lavInspect)
    def matrices(self) -> list[dict]:
        """The estimated model matrices per group (lavaan's ``lavInspect(fit, "est")``).

        A list (one entry per group) of dicts of DataFrames: ``lambda`` (observed x latent),
        ``theta`` (observed x observed), ``psi`` and ``beta`` (latent x latent), ``nu`` and
        ``alpha`` (Series). Observed variables in regressions appear as latent "dummies" in
        psi/beta, as in lavaan.
        """
        ov, eta = self._model.ov_names, self._model.eta_names
        out = []
        for M in self._model.matrices(self.theta):
            out.append({"lambda": pd.DataFrame(M["lambda"], index=ov, columns=eta),
                        "theta": pd.DataFrame(M["theta"], index=ov, columns=ov),
                        "psi": pd.DataFrame(M["psi"], index=eta, columns=eta),
                        "beta": pd.DataFrame(M["beta"], index=eta, columns=eta),
                        "nu": pd.Series(M["nu"].ravel(), index=ov), "alpha": pd.Series(M["alpha"].ravel(), index=eta)})
        return out

    def implied(self) -> list[tuple[pd.Series, pd.DataFrame]]:
        """Model-implied ``(mean, covariance)`` per group (lavaan's ``lavInspect(fit, "implied")``)."""
        ov = self._model.ov_names
        return [(pd.Series(mu, index=ov), pd.DataFrame(S, index=ov, columns=ov))
                for mu, S in self._model.implied(self.theta)]

    def sample_moments(self) -> list[tuple[pd.Series, pd.DataFrame]]:
        """Sample (H1) ``(mean, covariance)`` per group, divisor n (lavaan's ``lavInspect(fit, "sampstat")``;
        the EM estimates under ``missing="ml"``)."""
        ov = self._model.ov_names
        return [(pd.Series(d.ybar, index=ov), pd.DataFrame(d.S, index=ov, columns=ov)) for d in self._obj.data]

    # ------------------------------------------------------------------ text
    def summary(self) -> str:
        """lavaan-like summary: header, test statistic, fit indices and the parameter blocks."""
        f = self.fit
        lines = [f"analysis.sem {'ended normally after ' + str(self.iterations) + ' iterations' if self.converged else 'did NOT converge'}",
                 "",
                 f"  Estimator                                 {self.estimator:>10}",
                 f"  Number of model parameters                {f['npar']:>10d}",
                 f"  Number of observations                    {self.n_obs:>10d}"]
        if self.n_groups > 1:
            for lab, n in zip(self.group_labels, self.n_obs_per_group):
                lines.append(f"    {str(lab):<40}{n:>10d}")
        if self.missing == "ml":
            lines.append("  Missing data                                    FIML")
        lines += ["", "Model Test User Model:", "",
                  f"  Test statistic                            {f['chisq']:>10.3f}",
                  f"  Degrees of freedom                        {f['df']:>10d}",
                  f"  P-value (Chi-square)                      {f['pvalue']:>10.3f}", "",
                  "Fit indices:",
                  f"  CFI / TLI                           {f['cfi']:>8.3f} / {f['tli']:.3f}",
                  f"  RMSEA [90% CI]                      {f['rmsea']:>8.3f} [{f['rmsea.ci.lower']:.3f}, "
                  f"{f['rmsea.ci.upper']:.3f}]",
                  f"  SRMR                                {f['srmr']:>8.3f}",
                  f"  Loglikelihood / AIC / BIC           {f['logl']:.3f} / {f['aic']:.3f} / {f['bic']:.3f}"]
        if self.warnings:
            lines += ["", "Warnings:"] + [f"  - {w}" for w in self.warnings]
        pe = self.parameter_estimates()
        blocks = [("=~", "Latent Variables:"), ("~", "Regressions:"), ("~~", "Covariances:"),
                  ("~1", "Intercepts:"), ("|", "Thresholds:")]
        for g in range(1, self.n_groups + 1):
            if self.n_groups > 1:
                lines += ["", f"Group {g} [{self.group_labels[g - 1]}]:"]
            sub = pe[pe["group"] == g]
            for op, title in blocks:
                rows = sub[sub["op"] == op]
                if op == "~~":
                    cov = rows[rows["lhs"] != rows["rhs"]]
                    var = rows[rows["lhs"] == rows["rhs"]]
                    for r_, t_ in ((cov, "Covariances:"), (var, "Variances:")):
                        if len(r_):
                            lines += ["", t_] + self._block(r_)
                    continue
                if len(rows):
                    lines += ["", title] + self._block(rows)
        dfn = pe[pe["op"] == ":="]
        if len(dfn):
            lines += ["", "Defined Parameters:"] + self._block(dfn)
        eqs = [d for d in self.defined if d.kind == "=="]
        if eqs:  # met exactly: the two labels are one free parameter
            lines += ["", "Constraints:", f"  {'':<40}{'|Slack|':>10}"]
            lines += [f"  {d.name + ' - (' + d.expr + ')':<40}{0.0:10.3f}" for d in eqs]
        return "\n".join(lines)

    @staticmethod
    def _block(rows: pd.DataFrame) -> list[str]:
        out = [f"  {'':<22}{'Estimate':>10}{'Std.Err':>10}{'z-value':>9}{'P(>|z|)':>9}{'Std.lv':>9}{'Std.all':>9}"]
        for r in rows.itertuples(index=False):
            name = f"{r.rhs}" if r.op in ("=~", "~", "|") else (f"{r.lhs}" if r.op in ("~1",) else f"{r.lhs} ~~ {r.rhs}")
            if r.op in ("=~", "~"):
                name = f"{r.lhs} {r.op} {r.rhs}"
            if r.label:
                name = f"{name} ({r.label})"
            if r.op == ":=":
                name = r.lhs
            se = f"{r.se:10.3f}" if (r.free > 0 or r.op == ":=") else f"{'':10}"
            z = f"{r.statistic:9.3f}" if np.isfinite(r.statistic) else f"{'':9}"
            p = f"{r.pvalue:9.3f}" if np.isfinite(r.pvalue) else f"{'':9}"
            out.append(f"  {name[:22]:<22}{r.estimate:10.3f}{se}{z}{p}{r.std_lv:9.3f}{r.std_all:9.3f}")
        return out

    def apa(self) -> str:
        """The fit in APA style: chi-square test, CFI, TLI, RMSEA with 90% CI, SRMR."""
        f = self.fit

        def n3(v):
            return f"{v:.3f}".replace("0.", ".", 1) if abs(v) < 1 else f"{v:.3f}"

        p = f["pvalue"]
        ptxt = "p < .001" if p < 0.001 else f"p = {n3(p)}"
        return (f"χ²({f['df']}, N = {self.n_obs}) = {f['chisq']:.2f}, {ptxt}; CFI = {n3(f['cfi'])}, "
                f"TLI = {n3(f['tli'])}, RMSEA = {n3(f['rmsea'])}, 90% CI [{n3(f['rmsea.ci.lower'])}, "
                f"{n3(f['rmsea.ci.upper'])}], SRMR = {n3(f['srmr'])}")


# ---------------------------------------------------------------------------- sem()
def _check_args(model, data, group, missing, estimator, std_lv, meanstructure, information, ordered):
    if not isinstance(model, str):
        raise ValueError(f"model must be a string in lavaan syntax, got {type(model).__name__}.")
    check_dataframe("data", data)
    if group is not None and group not in data.columns:
        raise ValueError(f"Column {group!r} (given as `group`) is not in `data`.{suggest_name(group, data.columns)}")
    if missing not in _MISSING:
        raise ValueError(f"missing must be one of {', '.join(map(repr, _MISSING))}, got {missing!r}."
                         f"{suggest_name(str(missing), _MISSING)}")
    if not isinstance(estimator, str):
        raise ValueError(f"estimator must be a string such as 'ML', got {estimator!r}.")
    if information is not None and information not in _INFORMATION:
        raise ValueError(f"information must be 'expected' or 'observed', got {information!r}.")
    if not isinstance(std_lv, (bool, np.bool_)):
        raise ValueError(f"std_lv must be True or False, got {std_lv!r}.")
    if meanstructure is not None and not isinstance(meanstructure, (bool, np.bool_)):
        raise ValueError(f"meanstructure must be None, True or False, got {meanstructure!r}.")
    if ordered is not None and not (isinstance(ordered, (list, tuple)) or ordered is True):
        raise ValueError(f"ordered must be a list of column names, got {type(ordered).__name__}.")


def sem(model: str, data: pd.DataFrame, *, group: str | None = None, group_equal: Sequence[str] = (),
        group_partial: Sequence[str] = (), missing: str = "listwise", ordered: Sequence[str] | None = None,
        estimator: str = "ML", std_lv: bool = False, meanstructure: bool | None = None,
        orthogonal: bool = False, fixed_x: bool = True, information: str | None = None,
        parameterization: str = "delta", _cfa: bool = False) -> SEMResult:
    r"""Fit a structural equation model written in lavaan syntax (lavaan's ``sem()``).

    Maximum likelihood with lavaan's defaults: the first loading of each factor fixed to 1
    (``std_lv=True``: factor variances fixed to 1), residual variances free, exogenous factors
    correlated, exogenous observed covariates fixed at their sample moments (``fixed_x``),
    intercepts when there are groups or missing data (or ``meanstructure=True``). The estimate
    minimises :math:`F_{ML}` (see :mod:`analysis.sem`), :math:`\chi^2 = N F_{ML}(\hat\theta)`,
    standard errors from the expected information (observed under FIML).

    Defined parameters ``name := expression`` (lavaan's ``:=``, e.g. the indirect effect
    ``ab := a*b`` of a mediation) are functions of parameter labels (and of earlier defined
    parameters) with numbers, ``+ - * / ^``, parentheses, ``sqrt``, ``exp``, ``log`` and ``abs``:
    :math:`\hat\delta = g(\hat\theta)` with the delta-method standard error
    :math:`\sqrt{\nabla g^\top \widehat V \nabla g}` (exact gradient; :math:`\widehat V` the robust
    covariance under MLR), z, p value and Wald CI (Sobel 1982; see :mod:`analysis.sem.defined`).
    They are the rows with ``op == ":="`` (group 0) of :meth:`SEMResult.parameter_estimates` and the
    "Defined Parameters:" block of :meth:`SEMResult.summary`; their ``std_all`` is the expression
    evaluated on the ``std_all`` values of its labels, as lavaan's ``standardizedSolution``.

    Parameters
    ----------
    model : str
        lavaan model syntax: ``=~``, ``~``, ``~~``, ``~ 1``, ``|``, labels (``c(a1, a2)*x``: one per
        group), fixed values, and defined parameters ``:=`` (ML and MLR, complete data or
        ``missing="ml"``, one or several groups; not with ordered items). ``a == b`` between two
        labels makes them one free parameter (as a shared label; printed under "Constraints:" in
        the summary); other constraints (``==`` with expressions, ``<``, ``>``) are refused.
    data : pandas.DataFrame
        One row per respondent; the observed variables of the model are columns.
    group : str, optional
        Column with the group of each row (multi-group model; groups in order of appearance).
    group_equal : sequence of str
        Parameter types held equal across groups (lavaan's ``group.equal``): ``loadings``,
        ``intercepts``, ``means``, ``residuals``, ``residual.covariances``, ``lv.variances``,
        ``lv.covariances``, ``regressions``, ``thresholds``.
    group_partial : sequence of str
        Parameters exempted from `group_equal` (e.g. ``"f =~ x2"``, ``"x3 ~ 1"``).
    missing : {"listwise", "ml"}
        Drop incomplete rows (with a warning) or full-information ML (``"fiml"`` is a synonym).
    ordered : sequence of str, optional
        Ordered items (thresholds; needs ``estimator="WLSMV"`` from ``analysis.sem.ordinal``).
    estimator : str
        ``"ML"``; ``"MLR"``/``"WLSMV"`` when the robust/ordinal modules are installed.
    std_lv : bool
        Identify the factors by unit variances.
    meanstructure : bool, optional
        Model the means (default: with groups or missing data).
    orthogonal : bool
        Uncorrelated exogenous factors.
    fixed_x : bool
        Exogenous observed covariates at their sample moments (lavaan's ``fixed.x``).
    information : {"expected", "observed"}, optional
        Information matrix for the standard errors (default expected; observed under FIML).
    parameterization : {"delta", "theta"}
        Ordered items only: lavaan's parameterization of the latent responses.

    Returns
    -------
    SEMResult

    Raises
    ------
    ValueError
        Bad syntax (the line and term named), variables that are not columns (with the nearest
        column suggested), non-numeric or constant columns, too few rows.

    References
    ----------
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
    Statistical Software, 48*(2), 1--36.
    Sobel, M. E. (1982). Asymptotic confidence intervals for indirect effects in structural equation
    models. *Sociological Methodology, 13*, 290--312.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> eta = rng.normal(size=(500, 1))
    >>> X = pd.DataFrame(eta @ [[1.0, 0.8, 0.6]] + rng.normal(size=(500, 3)) * 0.5, columns=["x1", "x2", "x3"])
    >>> X["y"] = 0.5 * eta[:, 0] + rng.normal(size=500)
    >>> res = sem("f =~ x1 + x2 + x3\n y ~ f", X)
    >>> res.converged, int(res.fit["df"])
    (True, 2)
    >>> pe = res.parameter_estimates().set_index("term")
    >>> round(float(pe.loc["y ~ f", "estimate"]), 2)
    0.48

    A mediation x -> m -> y with the indirect and total effects as defined parameters:

    >>> d = pd.DataFrame({"x": rng.normal(size=300)})
    >>> d["m"] = 0.5 * d["x"] + rng.normal(size=300)
    >>> d["y"] = 0.4 * d["m"] + 0.2 * d["x"] + rng.normal(size=300)
    >>> med = sem("m ~ a*x\n y ~ b*m + c*x\n ab := a*b\n total := c + a*b", d)
    >>> pe = med.parameter_estimates()
    >>> print(pe.loc[pe["op"] == ":=", ["lhs", "rhs", "estimate", "se", "pvalue"]].round(3).to_string(index=False))
      lhs   rhs  estimate    se  pvalue
       ab   a*b     0.176 0.035     0.0
    total c+a*b     0.375 0.067     0.0
    """
    _check_args(model, data, group, missing, estimator, std_lv, meanstructure, information, ordered)
    model_text, defs = split_definitions(model)
    if (ordered is not None and ordered is not False) or estimator.upper() in ("WLSMV", "DWLS"):
        if defs:
            raise ValueError(f"model: defined parameters and '==' (line {defs[0].line}: '{defs[0].name} "
                             f"{defs[0].kind} {defs[0].expr}') are available with estimator 'ML'/'MLR', not with ordered "
                             "items (WLSMV) yet.")
        # ordered items: WLSMV (lavaan's default with `ordered`), by analysis.sem.ordinal on this
        # engine's parameter table and matrices; its result has the same parameter_estimates() /
        # fit_measures() interface
        from analysis.sem.ordinal import fit_wlsmv
        est = estimator.upper()
        if est not in ("ML", "WLSMV", "DWLS"):
            raise ValueError(f"estimator: ordered items are fitted by 'WLSMV' (or 'DWLS'), got {estimator!r}.")
        if missing != "listwise":
            raise ValueError(f"missing: ordered items are analysed on the complete cases (listwise, lavaan's "
                             f"default for categorical data), got missing={missing!r}.")
        return fit_wlsmv(data, model, ordered=True if ordered is None else ordered, group=group,
                         group_equal=group_equal, group_partial=group_partial, parameterization=parameterization,
                         orthogonal=orthogonal, std_lv=std_lv, estimator="WLSMV" if est == "ML" else est)
    missing = "ml" if missing == "fiml" else missing
    estimator = estimator.upper()
    stmts = parse_syntax(model_text)
    names = [str(c) for c in data.columns]
    # groups
    if group is not None:
        gcol = data[group]
        if gcol.isna().any():
            rows = list(data.index[gcol.isna()][:10])
            raise ValueError(f"group: column {group!r} has missing values at index labels {rows}.")
        labels = list(pd.unique(gcol))
    else:
        labels = [1]
    G = len(labels)
    if group is not None and G < 2:
        raise ValueError(f"group: column {group!r} has a single group ({labels[0]!r}); drop `group` for a "
                         "one-group model.")
    ms = bool(meanstructure) if meanstructure is not None else (G > 1 or missing == "ml")
    ordered_l = list(ordered or [])
    pt0 = parameter_table(model_text, names, n_groups=G, meanstructure=ms, std_lv=std_lv, orthogonal=orthogonal,
                          fixed_x=fixed_x, group_equal=group_equal, group_partial=group_partial,
                          ordered=ordered_l, n_thresholds=_n_thresholds(data, ordered_l))
    ov = _ov_order(pt0)
    if group is not None and group in ov:
        raise ValueError(f"group: column {group!r} is also a variable of the model.")
    for v in ov:
        col = data[v]
        if not (pd.api.types.is_numeric_dtype(col) or v in ordered_l) or pd.api.types.is_bool_dtype(col):
            raise ValueError(f"data: column {v!r} is not numeric (dtype {col.dtype}); SEM needs numbers.")
        vals = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
        if np.isinf(vals).any():
            raise ValueError(f"data: column {v!r} has infinite values at index labels "
                             f"{list(data.index[np.isinf(vals)][:10])}.")
    exo = sorted({r.lhs for r in pt0.itertuples() if r.exo == 1 and r.op == "~~" and r.lhs == r.rhs},
                 key=ov.index)
    # rows per group, missing data
    notes: list[str] = []
    X_all = data[ov].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    gidx = np.zeros(len(data), dtype=int) if group is None else pd.Categorical(data[group], categories=labels).codes
    keep = np.ones(len(data), dtype=bool)
    if missing == "listwise":
        keep = ~np.isnan(X_all).any(axis=1)
        if not keep.all():
            msg = (f"{int((~keep).sum())} row(s) with missing values dropped (listwise deletion; index labels "
                   f"{list(data.index[~keep][:10])}{' ...' if (~keep).sum() > 10 else ''}); missing='ml' uses them.")
            notes.append(msg)
            warnings.warn(msg, UserWarning, stacklevel=2)
    else:
        allmiss = np.isnan(X_all).all(axis=1)
        exo_i = [ov.index(v) for v in exo]
        xmiss = np.isnan(X_all[:, exo_i]).any(axis=1) if exo_i else np.zeros(len(data), bool)
        drop = allmiss | xmiss
        if drop.any():
            msg = (f"{int(drop.sum())} row(s) dropped: every variable missing or an exogenous covariate missing "
                   f"(index labels {list(data.index[drop][:10])}).")
            notes.append(msg)
            warnings.warn(msg, UserWarning, stacklevel=2)
        keep = ~drop
    gd = []
    for g, lab in enumerate(labels):
        Xg = X_all[keep & (gidx == g)]
        where = f" in group {lab!r}" if G > 1 else ""
        if Xg.shape[0] < 2:
            raise ValueError(f"data: {Xg.shape[0]} usable row(s){where}; a SEM needs many more rows than variables.")
        scale = np.nanmax(np.abs(Xg))
        if scale > 1e150 or scale < 1e-150:
            raise ValueError(f"data: values of magnitude {scale:.3g}{where} are outside the range the ML "
                             "fit handles (about 1e-150..1e150); rescale the variables.")
        with np.errstate(invalid="ignore"):
            sd = np.nanstd(Xg, axis=0)
        for k, v in enumerate(ov):
            if not np.isfinite(sd[k]) or sd[k] == 0:
                raise ValueError(f"data: column {v!r} has zero variance{where} (constant or all missing); "
                                 "it cannot enter the model.")
        if missing == "listwise" and Xg.shape[0] <= len(ov):
            raise ValueError(f"data: {Xg.shape[0]} complete rows{where} for {len(ov)} observed variables; the "
                             "sample covariance matrix is singular (more variables than rows).")
        gd.append(_est.GroupData(Xg, label=lab, missing=missing))
    for d, lab in zip(gd, labels):
        if missing == "listwise" and np.linalg.eigvalsh(d.S).min() <= 1e-12 * np.trace(d.S):
            raise ValueError(f"data: the sample covariance matrix{' of group ' + repr(lab) if G > 1 else ''} is "
                             "singular (a variable is a linear combination of others).")
    check_labels(defs, [lab for lab in pt0["label"] if lab])
    pt0 = apply_equalities(pt0, defs)
    smodel = SEMModel(pt0, ov, groups=labels, meanstructure=ms, ordered=ordered_l)
    k = len(exo)
    n_moments = G * (len(ov) * (len(ov) + 1) // 2 + (len(ov) if ms else 0) - k * (k + 1) // 2 - (k if ms else 0))
    if smodel.n_free > n_moments:
        raise ValueError(f"model: {smodel.n_free} free parameters but only {n_moments} sample moments "
                         f"(df = {n_moments - smodel.n_free}); the model is not identified. Fix parameters "
                         "(e.g. a loading to 1) or add equality constraints.")
    # exogenous covariates at their sample moments
    oi = {v: k for k, v in enumerate(ov)}
    for r, s in enumerate(pt0.itertuples(index=False)):
        if s.exo == 1:
            d = gd[int(s.group) - 1]
            Xc = d.X[:, [oi[s.lhs]] + ([oi[s.rhs]] if s.rhs else [])]
            Xc = Xc[~np.isnan(Xc).any(axis=1)]
            if s.op == "~1":
                smodel.set_fixed(r, float(Xc[:, 0].mean()))
            else:
                c = Xc - Xc.mean(axis=0)
                smodel.set_fixed(r, float(np.mean(c[:, 0] * c[:, -1])))
    obj = _est.Objective(smodel, gd)
    if ordered_l and estimator not in ("WLSMV", "DWLS", "WLS", "ULSMV", "ULS"):
        raise ValueError(f"ordered: ordered items need estimator='WLSMV' (got estimator={estimator!r}).")
    _load_plugins()
    if estimator not in _est.ESTIMATORS:
        raise ValueError(f"estimator: {estimator!r} is not available; choose from "
                         f"{', '.join(sorted(_est.ESTIMATORS))}.{suggest_name(estimator, list(_est.ESTIMATORS))}")
    theta0 = _est.start_values(smodel, gd)
    fitter = _est.ESTIMATORS[estimator]
    res = fitter(obj, theta0) if estimator == "ML" else fitter(obj, theta0, model=smodel, data=gd, partable=pt0,
                                                               ordered=ordered_l, raw=data, keep=keep, group=group)
    theta = np.asarray(res["theta"], dtype=float)
    converged = bool(res["converged"])
    if not converged:
        msg = f"the optimiser did not converge ({res.get('message', '')}; max |gradient| {res.get('grad_max', np.nan):.2g})."
        notes.append(msg)
        warnings.warn(msg, ConvergenceWarning, stacklevel=2)
    info_kind = information or ("observed" if missing == "ml" else "expected")
    vcov = res.get("vcov")
    if vcov is None:
        info = obj.observed_information(theta) if info_kind == "observed" else obj.expected_information(theta)
        vcov, ok = _invert_information(info * obj.N)
        if not ok:
            msg = ("the information matrix is singular (smallest eigenvalue ~ 0): the model may not be identified; "
                   "standard errors are NaN.")
            notes.append(msg)
            warnings.warn(msg, UserWarning, stacklevel=2)
            converged = False
    se_free = np.sqrt(np.clip(np.diag(vcov), 0, None))
    pt = pt0.copy()
    vals = smodel.row_values(theta)
    pt["estimate"] = vals
    pt["se"] = [se_free[f - 1] if f > 0 else 0.0 for f in pt["free"]]
    fm = res.get("fit") or _fit.fit_measures(obj, theta, exo=exo)
    fm = dict(fm)
    diag = _diagnose(smodel, theta, pt, labels)
    for w in diag:
        warnings.warn(w, UserWarning, stacklevel=2)
    notes += diag
    result = SEMResult(model=model, partable=pt, theta=theta, vcov=vcov, fit=fm, converged=converged,
                     warnings=notes, n_obs=int(sum(d.n for d in gd)), n_groups=G, group_labels=labels,
                     estimator=estimator, missing=missing, information=info_kind,
                     iterations=int(res.get("iterations", 0)), n_obs_per_group=[int(d.n) for d in gd],
                     _model=smodel, _obj=obj, _exo=exo, defined=defs)
    if any(d.kind == ":=" for d in defs):
        _, dnotes = defined_rows(result)
        for w in dnotes:
            warnings.warn(w, UserWarning, stacklevel=2)
        result.warnings += dnotes
    return result


def cfa(model: str, data: pd.DataFrame, **kwargs) -> SEMResult:
    """Confirmatory factor analysis: :func:`sem` with lavaan's ``cfa()`` defaults (identical here).

    Parameters
    ----------
    model : str
        lavaan syntax, e.g. ``"f =~ x1 + x2 + x3"``.
    data : pandas.DataFrame
    **kwargs
        As :func:`sem`.

    Returns
    -------
    SEMResult

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> X = pd.DataFrame(rng.normal(size=(200, 1)) @ [[1, 1, 1, 1]] + rng.normal(size=(200, 4)), columns=list("abcd"))
    >>> res = cfa("f =~ a + b + c + d", X)
    >>> int(res.fit["npar"]), int(res.fit["df"])
    (8, 2)
    """
    return sem(model, data, **kwargs)


def _load_plugins() -> None:
    """Import the optional estimator modules (MLR, WLSMV) so that they register themselves."""
    import importlib
    for name in ("analysis.sem.robust", "analysis.sem.ordinal"):
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def _n_thresholds(data: pd.DataFrame, ordered: list[str]) -> dict:
    out = {}
    for v in ordered:
        if v in data.columns:
            k = pd.Series(data[v]).dropna().nunique()
            out[v] = max(int(k) - 1, 1)
    return out


def _ov_order(pt: pd.DataFrame) -> list[str]:
    lv = set(pt.loc[pt["op"] == "=~", "lhs"])
    ov: list[str] = []
    for lhs, op, rhs in zip(pt["lhs"], pt["op"], pt["rhs"]):
        for v in ((rhs,) if op == "=~" else (lhs, rhs)):
            if v and v not in lv and v not in ov and not (op == "|" and v == rhs):
                ov.append(v)
    return ov


def _invert_information(info: np.ndarray) -> tuple[np.ndarray, bool]:
    q = info.shape[0]
    if q == 0:
        return np.zeros((0, 0)), True
    d = np.sqrt(np.abs(np.diag(info)))
    if np.any(d == 0) or not np.all(np.isfinite(info)):
        return np.full((q, q), np.nan), False
    R = info / np.outer(d, d)  # scale-free: the parameters may live on very different scales
    if np.linalg.eigvalsh(R).min() <= 1e-10:
        return np.full((q, q), np.nan), False
    return np.linalg.inv(R) / np.outer(d, d), True


def _diagnose(model: SEMModel, theta: np.ndarray, pt: pd.DataFrame, labels: list) -> list[str]:
    """Heywood cases and non-positive-definite matrices (reported, not hidden)."""
    out = []
    G = len(labels)
    neg = pt[(pt["op"] == "~~") & (pt["lhs"] == pt["rhs"]) & (pt["estimate"] < 0)]
    for r in neg.itertuples(index=False):
        where = f" in group {labels[r.group - 1]!r}" if G > 1 else ""
        out.append(f"negative variance (Heywood case): {r.lhs} ~~ {r.rhs} = {r.estimate:.4g}{where}.")
    for g, M in enumerate(model.matrices(theta)):
        where = f" of group {labels[g]!r}" if G > 1 else ""
        lvi = [k for k, v in enumerate(model.eta_names) if v in model.lv_names]
        if lvi and len(neg) == 0:
            P = model._core(theta)[g]["C"][np.ix_(lvi, lvi)]
            if np.linalg.eigvalsh(P).min() <= 0:
                out.append(f"the covariance matrix of the latent variables{where} is not positive definite "
                           "(a correlation beyond +-1?).")
        if len(neg) == 0 and model.p:
            T = M["theta"]
            if T.any() and np.linalg.eigvalsh(T).min() < 0:
                out.append(f"the residual covariance matrix (theta){where} is not positive definite.")
    return out
