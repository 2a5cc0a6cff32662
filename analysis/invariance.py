r"""Measurement invariance across groups: configural, metric, scalar and strict multi-group CFA.

:func:`measurement_invariance` fits the configural, metric (equal loadings), scalar (equal
loadings and intercepts) and, on request, strict (also equal residual variances) multi-group
models by ML with mean structure, with chi-square difference tests, as
``lavaan::cfa(..., group =, group.equal =)``, listwise or by full-information ML
(``missing="ml"``), with partial invariance (``free_loadings``, ``free_intercepts``); with
``ordered=True`` the items are ordered categories and the steps (configural, equal thresholds,
equal thresholds and loadings) are fitted by WLSMV with lavaan's delta or theta
parameterization. Every model is a specification on the workbook's SEM engine
(:func:`analysis.sem.sem`, :func:`analysis.sem.ordinal.fit_wlsmv`): this module writes the
model and the equality constraints, checks the data and reports the results.
:func:`configural_invariance` fits the model in each group separately with
:func:`analysis.factor_models.fit_cfa` (the configural model only). All functions are pure
(data in, results object out).

Part of the psychometrics of the workbook: scoring in :mod:`analysis.scoring`, reliability in
:mod:`analysis.reliability`, factor models in :mod:`analysis.factor_models`, measurement
invariance here (``analysis.psychometrics`` re-exports them all).

References
----------
Byrne, B. M., Shavelson, R. J., & Muthén, B. (1989). Testing for the equivalence of factor
covariance and mean structures: The issue of partial measurement invariance.
*Psychological Bulletin, 105*(3), 456--466.
Cheung, G. W., & Rensvold, R. B. (2002). Evaluating goodness-of-fit indexes for testing
measurement invariance. *Structural Equation Modeling, 9*(2), 233--255.
Meredith, W. (1993). Measurement invariance, factor analysis and factorial invariance.
*Psychometrika, 58*(4), 525--543.
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software, 48*(2), 1--36.
Wu, H., & Estabrook, R. (2016). Identification of confirmatory factor analysis models of
different levels of invariance for ordered categorical outcomes. *Psychometrika, 81*(4),
1014--1045.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis import _sem_fit
from analysis._cfa_ml import _fit_step, _prepare_group, _warn_em
from analysis._checks import check_choice, check_open_interval, suggest_name
from analysis._items import MISSING_METHODS, _check_factors, _check_numeric_items, _item_scales
from analysis._results import ResultMixin
from analysis.factor_models import fit_cfa

__all__ = [
    "ConfiguralResult",
    "configural_invariance",
    "INVARIANCE_STEPS",
    "INVARIANCE_STEPS_ALL",
    "InvarianceStep",
    "InvarianceResult",
    "measurement_invariance",
    "ORDINAL_INVARIANCE_STEPS",
]


@dataclass
class ConfiguralResult(ResultMixin):
    """Result of :func:`configural_invariance`.

    Attributes
    ----------
    groups : dict of str to CFAResult
        The model fitted in each group.
    chisq, df : float, int
        Configural model: sums over groups (the multi-group ML chi-square of a model
        with no equality constraints equals the sum of the per-group chi-squares).
    rmsea : float
        Multi-group RMSEA as lavaan computes it,
        :math:`\\sqrt{G}\\sqrt{\\max((\\chi^2 - df)/(N\\,df), 0)}`.
    n : int
    """

    groups: dict
    chisq: float
    df: int
    rmsea: float
    n: int
    n_obs = property(lambda self: self.n, doc="Number of observations analysed (= ``n``).")

    def summary(self) -> str:
        """Per-group and configural fit; the note on metric and scalar invariance."""
        lines = [f"Configural model: chi2({self.df}) = {self.chisq:.3f}, RMSEA = {self.rmsea:.3f}, N = {self.n}"]
        for g, m in self.groups.items():
            lines.append(f"  group {g!r}: N = {m.n}, chi2({int(m.fit['df'])}) = {m.fit['chisq']:.3f}, "
                         f"CFI = {m.fit['cfi']:.3f}")
        lines.append("  Metric and scalar invariance: see measurement_invariance (multi-group CFA with "
                     "equality constraints across groups).")
        return "\n".join(lines)


def configural_invariance(data: pd.DataFrame, factors: Mapping[str, Sequence[str]], group: str
                          ) -> ConfiguralResult:
    r"""Configural invariance: the same factor model fitted in each group.

    .. math:: \chi^2_{conf} = \sum_g \chi^2_g,\quad df_{conf} = \sum_g df_g

    Each group is fitted on its own with :func:`analysis.factor_models.fit_cfa`, which gives the
    per-group fits and omegas. For the metric (equal loadings) and scalar (equal loadings and
    intercepts) steps, which need equality constraints across groups, use
    :func:`measurement_invariance`; its configural model has the same chi-square. Checked
    against ``lavaan::cfa(..., group = )`` (configural).

    Parameters
    ----------
    data : DataFrame
    factors : mapping
        As in :func:`analysis.factor_models.fit_cfa`.
    group : str
        Column with the group of each respondent (at least two groups).

    Returns
    -------
    ConfiguralResult

    References
    ----------
    Meredith, W. (1993). Measurement invariance, factor analysis and factorial invariance.
    *Psychometrika, 58*(4), 525--543.
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
    Statistical Software, 48*(2), 1--36.

    Examples
    --------
    >>> res = configural_invariance(df, wai_sr_key().subscales, "site")  # doctest: +SKIP
    """
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"`data` must be a pandas DataFrame, got {type(data).__name__}.")
    if not isinstance(group, str) or group not in data.columns:
        raise ValueError(f"`group`: column {group!r} is not in `data`.{suggest_name(group, data.columns)}")
    if data[group].isna().any():
        raise ValueError(f"`group`: column {group!r} has missing values at row "
                         f"{data.index[data[group].isna().to_numpy()][0]!r}.")
    levels = list(pd.unique(data[group]))
    if len(levels) < 2:
        raise ValueError(f"`group`: column {group!r} has {len(levels)} group(s); at least 2 are needed.")
    fits = {str(g): fit_cfa(data[data[group] == g], factors) for g in levels}
    chisq = float(sum(m.fit["chisq"] for m in fits.values()))
    df = int(sum(m.fit["df"] for m in fits.values()))
    n = int(sum(m.n for m in fits.values()))
    rmsea = _sem_fit.rmsea(chisq, df, n, groups=len(fits))
    return ConfiguralResult(groups=fits, chisq=chisq, df=df, rmsea=rmsea, n=n)


INVARIANCE_STEPS = ("configural", "metric", "scalar")        # the default sequence
INVARIANCE_STEPS_ALL = INVARIANCE_STEPS + ("strict",)         # every step, in order (strict is opt-in)


@dataclass
class InvarianceStep:
    """One fitted model of :func:`measurement_invariance` (configural, metric, scalar or strict;
    for ordered items configural, thresholds or metric).

    Attributes
    ----------
    name : str
        ``"configural"``, ``"metric"``, ``"scalar"``, ``"strict"`` or ``"thresholds"``.
    fit : pandas.Series
        ``chisq``, ``df``, ``pvalue``, ``baseline_chisq``, ``baseline_df``, ``cfi``, ``tli``,
        ``rmsea``, ``rmsea_lower``, ``rmsea_upper`` (90%), ``srmr``, ``loglik``, ``npar``,
        ``aic``, ``bic``, ``loglik_h1`` (the unrestricted model's, lavaan's ``unrestricted.logl``).
        For ordered items (WLSMV) ``chisq``, ``pvalue``, ``cfi``, ``tli``, ``rmsea`` are the
        scaled-shifted ones (lavaan's ``.scaled``), the DWLS ones are ``*_unscaled``, with
        ``scaling_factor`` and ``shift``; ``aic``/``bic`` are NaN (no likelihood).
    params : DataFrame
        lavaan's ``parameterEstimates`` layout: ``lhs``, ``op`` (``=~`` loading, ``~~``
        (co)variance, ``~1`` intercept or latent mean), ``rhs``, ``group``, ``estimate``, ``se``
        (expected information with listwise deletion, observed information under FIML; NaN
        for fixed parameters), ``statistic`` (z), ``pvalue``, ``free`` and
        ``equal`` (constrained equal across groups). For ordered items also thresholds
        (``op`` ``|``, ``rhs`` ``t1``, ``t2``, ...) and scaling factors (``~*~``), robust SEs and
        ``std_all``.
    converged : bool
        The gradient of the fit function is below 1e-6 at the solution.
    boundary : list of str
        Variances estimated at or below zero (Heywood cases) and factor covariance matrices
        that are not positive definite.
    optimizer : dict
        ``fun`` (the engine's objective), ``grad_max`` (its largest gradient), ``iterations``,
        ``converged`` (the optimiser's verdict) and ``identified`` (a non-singular information).
    implied : dict
        Group -> ``(mu, Sigma)``, the model-implied means and covariances (DataFrames); for
        ordered items ``(thresholds, correlations)`` of the latent responses.
    information : str
        The information matrix behind the SEs: ``"expected"`` (complete data, listwise) or
        ``"observed"`` (the Hessian; FIML), lavaan's defaults for each; ``"robust (WLSMV
        sandwich)"`` for ordered items.
    """

    name: str
    fit: pd.Series
    params: pd.DataFrame
    converged: bool
    boundary: list
    optimizer: dict
    implied: dict
    information: str = "expected"


@dataclass
class InvarianceResult(ResultMixin):
    """Result of :func:`measurement_invariance`.

    Attributes
    ----------
    steps : dict of str to InvarianceStep
    table : DataFrame
        One row per step: ``chisq``, ``df``, ``pvalue``, ``cfi``, ``tli``, ``rmsea``, ``srmr``,
        and against the previous step ``delta_chisq``, ``delta_df``, ``delta_pvalue``,
        ``delta_cfi``, ``delta_rmsea``.
    groups : list of str
        Group labels in order of first appearance (the first is the reference group whose
        latent means are fixed at 0 in the scalar and strict models).
    n : dict
        Respondents used per group (complete respondents with ``missing="listwise"``; under
        FIML every respondent with at least one answer).
    n_dropped : dict
        Respondents dropped per group: for a missing answer (listwise) or, under FIML, for
        having no answer at all.
    factors : dict
    free_intercepts : tuple of str
        Items whose intercepts were left free in the scalar and strict models (partial invariance).
    missing : str
        ``"listwise"`` or ``"ml"`` (full-information ML).
    n_incomplete : dict
        Respondents used per group with at least one missing answer (0 with listwise deletion).
    free_loadings : tuple of str
        Items whose loadings were left free in the metric, scalar and strict models (partial
        invariance).
    ordered : bool
        True when the items were treated as ordered (WLSMV; the steps are configural, thresholds
        and metric).
    parameterization : str or None
        ``"delta"`` or ``"theta"`` for ordered items; None otherwise.
    """

    _frame_from = ('table',)

    steps: dict
    table: pd.DataFrame
    groups: list
    n: dict
    n_dropped: dict
    factors: dict
    free_intercepts: tuple = ()
    missing: str = "listwise"
    n_incomplete: dict = field(default_factory=dict)
    free_loadings: tuple = ()
    ordered: bool = False
    parameterization: str | None = None

    def _label(self, name: str) -> str:
        """The step's name, with the parameters left free when the step is partial."""
        free = []
        if self.free_loadings and name in ("metric", "scalar", "strict"):
            free.append(f"loadings of {', '.join(self.free_loadings)}")
        if self.free_intercepts and name in ("scalar", "strict"):
            free.append(f"intercepts of {', '.join(self.free_intercepts)}")
        return f"partial {name} ({'; '.join(free)} free)" if free else name

    def summary(self) -> str:
        """The invariance table (fit of each step and the differences), with notes."""
        t = self.table.copy()
        show = pd.DataFrame({
            "chi2": t["chisq"].map(lambda v: f"{v:.3f}"),
            "df": t["df"].astype(int).astype(str),
            "p": t["pvalue"].map(lambda v: f"{v:.4f}"),
            "CFI": t["cfi"].map(lambda v: f"{v:.3f}"),
            "RMSEA": t["rmsea"].map(lambda v: f"{v:.3f}"),
            "SRMR": t["srmr"].map(lambda v: f"{v:.3f}"),
            "d_chi2": t["delta_chisq"].map(lambda v: "" if pd.isna(v) else f"{v:.3f}"),
            "d_df": t["delta_df"].map(lambda v: "" if pd.isna(v) else f"{int(v)}"),
            "p(d)": t["delta_pvalue"].map(lambda v: "" if pd.isna(v) else f"{v:.4f}"),
            "d_CFI": t["delta_cfi"].map(lambda v: "" if pd.isna(v) else f"{v:+.3f}"),
        }, index=t.index)
        show.index.name = "step"
        ns = ", ".join(f"{g}: {self.n[g]}" + (f" ({self.n_dropped[g]} dropped)" if self.n_dropped[g] else "")
                       + (f" ({self.n_incomplete[g]} incomplete)" if self.n_incomplete.get(g) else "")
                       for g in self.groups)
        est = ("WLSMV, ordered items, " + str(self.parameterization) + " parameterization" if self.ordered
               else "FIML" if self.missing == "ml" else "ML")
        lines = [f"Measurement invariance, multi-group CFA ({est}, marker identification); N per group: {ns}",
                 show.to_string()]
        if self.ordered:
            lines.append("  chi-squares, CFI, TLI and RMSEA scaled-shifted (lavaan's .scaled); differences by "
                         "lavaan's scaled-shifted difference test (satorra.2000); thresholds: equal thresholds, "
                         "metric: equal thresholds and loadings (Wu & Estabrook 2016)")
        if self.missing == "ml":
            lines.append("  full-information ML (missing = 'ml'): incomplete respondents kept; chi-square against "
                         "the EM-estimated unrestricted model; SEs from the observed information")
        if self.free_loadings:
            lines.append(f"  partial invariance: loadings free across groups for {', '.join(self.free_loadings)} "
                         "(metric and later steps)")
        if self.free_intercepts:
            lines.append(f"  partial scalar model: intercepts free across groups for {', '.join(self.free_intercepts)}"
                         + (" (also in the strict step)" if "strict" in self.steps else ""))
        if "strict" in self.steps:
            lines.append("  strict: loadings, intercepts and residual variances equal across groups")
        for s in self.steps.values():
            if not s.converged:
                lines.append(f"  WARNING: {s.name} model did not converge (max |gradient| = "
                             f"{s.optimizer['grad_max']:.2g})")
            if s.boundary:
                lines.append(f"  NOTE: {s.name} model has boundary estimates: {'; '.join(s.boundary)}")
        lines.append("  Differences against the previous step (" + ("scaled-shifted difference test" if self.ordered
                     else "likelihood-ratio test") + ", as lavaan::lavTestLRT); "
                     "Cheung & Rensvold (2002) suggest a CFI drop of more than .01 as a sign of non-invariance.")
        return "\n".join(lines)

    def apa(self, *, alpha: float = 0.05) -> str:
        """An APA-style sentence with each step's fit and the difference tests."""
        check_open_interval("alpha", np.asarray([alpha]), 0.0, 1.0)

        def p_(v: float) -> str:
            return "p < .001" if v < 0.001 else f"p = {v:.3f}".replace("0.", ".", 1)

        def n3(v: float) -> str:
            return f"{v:.3f}".replace("0.", ".", 1)

        t = self.table
        ns = ", ".join(f"{g}: n = {self.n[g]}" for g in self.groups)
        parts = []
        label = self._label
        for name, r in t.iterrows():
            s = (f"{label(name)} χ²({int(r['df'])}) = {r['chisq']:.2f}, {p_(r['pvalue'])}, CFI = {n3(r['cfi'])}, "
                 f"RMSEA = {n3(r['rmsea'])}, SRMR = {n3(r['srmr'])}")
            if not pd.isna(r["delta_chisq"]):
                dc = r["delta_cfi"]
                s += (f" (Δχ²({int(r['delta_df'])}) = {r['delta_chisq']:.2f}, {p_(r['delta_pvalue'])}, "
                      f"ΔCFI = {'−' if dc < 0 else ''}{n3(abs(dc))})")
            parts.append(s)
        verdict = []
        for name, r in t.iterrows():
            if pd.isna(r["delta_pvalue"]):
                continue
            verdict.append(f"{label(name)} invariance was {'rejected' if r['delta_pvalue'] < alpha else 'not rejected'}")
        return (f"Measurement invariance across {len(self.groups)} groups ({ns}) was tested with multi-group "
                f"confirmatory factor analyses ("
                + ("weighted least squares with mean- and variance-adjusted (scaled-shifted) tests, the items "
                   "treated as ordered" if self.ordered else
                   "full-information maximum likelihood, keeping respondents with missing answers"
                   if self.missing == "ml" else "maximum likelihood") + "): " + "; ".join(parts) + "."
                + (f" By the {'scaled ' if self.ordered else ''}chi-square difference test (α = {f'{alpha:g}'.replace('0.', '.', 1)}), " + " and ".join(verdict) + "."
                   if verdict else ""))


def _check_free_loadings(free_loadings: Any, facs: dict[str, list[str]], steps: Sequence[str]) -> tuple[str, ...]:
    """``free_loadings`` as item names: each an item (or lavaan's ``"factor =~ item"``) of a
    factor, not its marker; a step with equal loadings must be fitted."""
    if isinstance(free_loadings, str):
        free_loadings = (free_loadings,)
    owner = {it: f_ for f_, its in facs.items() for it in its}
    out: list[str] = []
    for spec in free_loadings:
        if not isinstance(spec, str):
            raise ValueError(f"`free_loadings`: {spec!r} is not an item name.")
        if "=~" in spec:
            f_, _, it = (t.strip() for t in spec.partition("=~"))
            if it not in owner:
                raise ValueError(f"`free_loadings` names an item that is in no factor: {it!r} (in {spec!r}).")
            if owner[it] != f_:
                raise ValueError(f"`free_loadings`: {spec!r}: item {it!r} loads on factor {owner[it]!r}, "
                                 f"not {f_!r}.")
        else:
            it = spec.strip()
            if it not in owner:
                raise ValueError(f"`free_loadings` names an item that is in no factor: {it!r}.")
        if facs[owner[it]][0] == it:
            raise ValueError(f"`free_loadings`: {it!r} is the marker (first) item of factor {owner[it]!r}; its "
                             "loading is fixed at 1 in every group to identify the factor (marker "
                             "identification), so it cannot be freed. Put another item first in `factors` "
                             "to free this one.")
        if it in out:
            raise ValueError(f"`free_loadings` lists item {it!r} twice.")
        out.append(it)
    if out and not {"metric", "scalar", "strict"} & set(steps):
        raise ValueError("`free_loadings` applies to the metric, scalar and strict steps, none of which is in "
                         "`steps`.")
    return tuple(out)


def measurement_invariance(data: pd.DataFrame, factors: Mapping[str, Sequence[str]], group: str, *,
                           steps: Sequence[str] | None = None,
                           free_intercepts: Sequence[str] = (), missing: str = "listwise",
                           free_loadings: Sequence[str] = (), ordered: bool = False,
                           parameterization: str = "delta") -> InvarianceResult:
    r"""Configural, metric, scalar and strict measurement invariance by multi-group CFA (ML).

    Each group :math:`g` has the factor model with mean structure

    .. math::

        \mu_g = \nu_g + \Lambda_g\alpha_g,\qquad \Sigma_g = \Lambda_g\Phi_g\Lambda_g^\top + \Theta_g,

    with :math:`\Theta_g` diagonal, each item loading on one factor and the first loading of
    each factor fixed at 1 (marker identification, ``lavaan::cfa``'s default). The steps, as
    ``lavaan::cfa(..., group = , group.equal = )``:

    - **configural**: all parameters free in every group, latent means :math:`\alpha_g = 0`;
    - **metric** (weak): loadings equal across groups (``group.equal = "loadings"``);
    - **scalar** (strong): loadings and intercepts :math:`\nu` equal
      (``c("loadings", "intercepts")``); latent means fixed at 0 in the first group and free
      in the others. ``free_intercepts`` leaves some intercepts free (partial invariance,
      lavaan's ``group.partial = "item ~ 1"``);
    - **strict**: loadings, intercepts and residual variances :math:`\Theta` equal
      (``c("loadings", "intercepts", "residuals")``), latent means as in the scalar step
      (Meredith 1993's strict factorial invariance). Opt-in: not in the default ``steps``
      (as ``semTools::measurementInvariance(strict = FALSE)``); ``free_intercepts`` applies
      here too.

    ``free_loadings`` leaves the loadings of some items free across groups in the metric, scalar
    and strict steps (partial metric invariance, lavaan's ``group.partial = "factor =~ item"``;
    Byrne, Shavelson & Muthén 1989). A marker item (the first item of a factor) cannot be freed:
    its loading is fixed at 1 in every group to identify the factor.

    Residual variances (except in the strict step) and factor (co)variances are free in every
    group. The parameters
    minimise lavaan's normal-theory ML fit function (times 2)

    .. math::

        f = \sum_g \frac{N_g}{N}\Bigl[\log|\Sigma_g| + \operatorname{tr}(S_g\Sigma_g^{-1}) - \log|S_g| - p
        + (\bar y_g - \mu_g)^\top\Sigma_g^{-1}(\bar y_g - \mu_g)\Bigr],\qquad \chi^2 = N f,

    with :math:`S_g` the covariance matrix with divisor :math:`N_g` (lavaan's
    ``likelihood = "normal"``), :math:`df = G\,(p(p+1)/2 + p) - q` for :math:`q` free
    parameters. Fit indices follow lavaan 0.6's multi-group conventions: the baseline model is
    the independence model with free means and variances in each group,
    :math:`\chi^2_B = \sum_g N_g(\sum_i\log s_{g,ii} - \log|S_g|)`,
    :math:`df_B = G\,p(p-1)/2`; CFI and TLI as in :func:`analysis.factor_models.fit_cfa`;
    :math:`\mathrm{RMSEA} = \sqrt G\sqrt{\max((\chi^2 - df)/(N\,df), 0)}` (its 90% interval
    scaled by :math:`\sqrt G` likewise); SRMR is lavaan's ``srmr`` (``srmr_bentler``) with mean
    structure: per group

    .. math::

        \mathrm{SRMR}_g = \sqrt{\frac{\sum_{i\le j} \bigl((s_{ij} - \hat\sigma_{ij})/\sqrt{s_{ii}s_{jj}}\bigr)^2
        + \sum_i \bigl((\bar y_i - \hat\mu_i)/\sqrt{s_{ii}}\bigr)^2}{p(p+1)/2 + p}},

    averaged with weights :math:`N_g/N`. Consecutive steps are compared by the likelihood-ratio
    (chi-square difference) test, as ``lavaan::lavTestLRT`` does for ML, and by
    :math:`\Delta\mathrm{CFI}` (Cheung & Rensvold 2002 suggest a drop of more than .01 as a
    sign of non-invariance).

    **A specification on the SEM engine**: each step is the lavaan model of ``factors`` fitted by
    :func:`analysis.sem.sem` with ``group``, ``group_equal`` (``"loadings"``, ``"intercepts"``,
    ``"residuals"``) and ``group_partial`` (``free_loadings``, ``free_intercepts``), the workbook's
    one multi-group ML / FIML implementation (Fisher scoring with analytic gradients, lavaan's
    starting values); this function checks and rescales the data and maps the engine's parameter
    table and fit measures onto :class:`InvarianceStep`. Standard errors come from the expected
    information (lavaan's default for ML with complete data),
    :math:`\operatorname{vcov} = (N\,\mathcal I)^{-1}`,
    :math:`\mathcal I = \sum_g \frac{N_g}{N}\bigl[\Delta_{\mu}^\top\Sigma_g^{-1}\Delta_{\mu} +
    \tfrac12\operatorname{tr}(\Sigma_g^{-1}\dot\Sigma_a\Sigma_g^{-1}\dot\Sigma_b)\bigr]`.
    Checked against lavaan 0.6 (fit indices, every estimate and standard error, the chi-square
    differences) in ``tests/test_psychometrics.py``. Variances are not bounded: negative or
    zero residual or factor variances (Heywood cases) are reported in ``boundary`` with a
    warning, as is a failure to converge.

    **Ordered items** (``ordered=True``): each step by WLSMV, as ``lavaan::cfa(..., ordered =
    TRUE, group = , group.equal = )``, with the engine's :func:`analysis.sem.ordinal.fit_wlsmv`
    (thresholds and polychoric correlations per group, DWLS, robust SEs, scaled-shifted test;
    ``parameterization`` ``"delta"`` or ``"theta"``, lavaan 0.6-14's multi-group defaults). The
    steps follow Wu & Estabrook (2016): ``configural``; ``thresholds`` (thresholds equal; the
    scaling factors (delta) or residual variances (theta) and the latent means are then free in
    the groups after the first); ``metric`` (thresholds and loadings equal); ``free_loadings``
    frees loadings in the metric step. The table holds the scaled-shifted chi-squares, CFI, TLI
    and RMSEA (lavaan's ``.scaled``) and the differences by lavaan's scaled-shifted difference
    test (``lavTestLRT``, ``method = "satorra.2000"``; Satorra 2000); respondents with a missing
    answer are dropped (listwise, lavaan's default for ordered items).

    **Missing answers** (``missing="ml"``, full-information ML, as lavaan's ``missing = "ml"``;
    Arbuckle 1996). Every respondent with at least one answer is kept; :math:`-2\log L_g` is the
    sum over the group's missing-data patterns :math:`k` (observed items :math:`o_k`, :math:`n_k`
    respondents, means :math:`\bar y_k`, covariances :math:`S_k`) of
    :math:`n_k[p_k\log 2\pi + \log|\Sigma_{g,o_k}| + \operatorname{tr}(S_k\Sigma_{g,o_k}^{-1}) +
    (\bar y_k - \mu_{g,o_k})^\top\Sigma_{g,o_k}^{-1}(\bar y_k - \mu_{g,o_k})]`, minimised with
    the same optimiser and constraints. Then :math:`\chi^2 = 2\sum_g(\log L_{g,H1} - \log L_g)`
    with the unrestricted means and covariances of each group estimated by EM (the engine's);
    the baseline model is the independence model fitted by FIML (closed form: each item's mean
    and variance from its available answers); CFI, TLI and RMSEA follow from these as above;
    SRMR uses the EM moments in place of :math:`\bar y_g, S_g` (lavaan does the same); SEs come
    from the observed information, the Hessian of the log-likelihood (the engine's central
    differences of the analytic gradient), lavaan's default with ``missing = "ml"`` (``information = "observed"``,
    ``observed.information = "hessian"``). Respondents with no answer are dropped and counted.

    Parameters
    ----------
    data : DataFrame
        Numeric item answers and the group column. With ``missing="listwise"`` respondents
        with a missing answer are dropped within each group (counted in ``n_dropped``, with a
        warning); with ``missing="ml"`` only respondents with no answer at all.
    factors : mapping of str to sequence of str
        Factor name -> its items (at least 2 items per factor, each item on one factor; the
        first item is the marker).
    group : str
        Column with each respondent's group (at least 2 groups; the first group in order of
        appearance is the reference group of the scalar and strict models, as in lavaan).
    steps : sequence of str, optional
        The models to fit, a subset of ``INVARIANCE_STEPS_ALL`` = ("configural", "metric",
        "scalar", "strict") in this order; add ``"strict"`` to fit the strict model. Default
        ``INVARIANCE_STEPS`` = ("configural", "metric", "scalar"); for ordered items
        ``ORDINAL_INVARIANCE_STEPS``.
    free_intercepts : sequence of str, default ()
        Items whose intercepts stay free across groups in the scalar and strict models.
    missing : {"listwise", "ml"}, default "listwise"
        Listwise deletion or full-information ML (see above). Under FIML each item must be
        answered by someone, and each pair of items by someone, in every group.
    free_loadings : sequence of str, default ()
        Items whose loadings stay free across groups in the metric, scalar and strict models,
        given as item names (``"i6"``) or in lavaan's syntax (``"goal =~ i6"``); not a marker
        (first) item.
    ordered : bool, default False
        Treat the items as ordered (integer-coded Likert answers) and fit by WLSMV (see above);
        the steps are then a subset of ``ORDINAL_INVARIANCE_STEPS`` = ("configural", "thresholds",
        "metric"), all three by default.
    parameterization : {"delta", "theta"}, default "delta"
        For ordered items: the scale of the latent responses (lavaan's ``parameterization``).

    Returns
    -------
    InvarianceResult
        ``summary()`` gives the table of steps; ``steps[name].params`` the estimates.

    Raises
    ------
    ValueError
        Checked before fitting: a group with no more respondents than items, linearly
        dependent or constant items in a group, more free parameters than sample moments;
        bad columns or options. The items are rescaled (one power of two per item, the same in
        every group) and the results transformed back, so the fit does not depend on units;
        a singular information matrix at the solution (an unidentified model) is warned
        about and the step reported as not converged.

    References
    ----------
    Arbuckle, J. L. (1996). Full information estimation in the presence of incomplete data. In
    G. A. Marcoulides & R. E. Schumacker (Eds.), *Advanced structural equation modeling*
    (pp. 243--277). Erlbaum.
    Byrne, B. M., Shavelson, R. J., & Muthén, B. (1989). Testing for the equivalence of factor
    covariance and mean structures: The issue of partial measurement invariance.
    *Psychological Bulletin, 105*(3), 456--466.
    Cheung, G. W., & Rensvold, R. B. (2002). Evaluating goodness-of-fit indexes for testing
    measurement invariance. *Structural Equation Modeling, 9*(2), 233--255.
    Meredith, W. (1993). Measurement invariance, factor analysis and factorial invariance.
    *Psychometrika, 58*(4), 525--543.
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
    Statistical Software, 48*(2), 1--36.
    Satorra, A. (2000). Scaled and adjusted restricted tests in multi-sample analysis of moment
    structures. In R. D. H. Heijmans, D. S. G. Pollock & A. Satorra (Eds.), *Innovations in
    multivariate statistical analysis* (pp. 233--247). Kluwer.
    Wu, H., & Estabrook, R. (2016). Identification of confirmatory factor analysis models of
    different levels of invariance for ordered categorical outcomes. *Psychometrika, 81*(4),
    1014--1045.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> f = rng.normal(size=(400, 1))
    >>> df = pd.DataFrame(0.8 * f + 0.6 * rng.normal(size=(400, 4)), columns=list("abcd"))
    >>> df["site"] = np.repeat(["x", "y"], 200)
    >>> res = measurement_invariance(df, {"g": ["a", "b", "c", "d"]}, "site")
    >>> res.table["df"].astype(int).tolist()
    [4, 7, 10]
    >>> strict = measurement_invariance(df, {"g": ["a", "b", "c", "d"]}, "site", steps=INVARIANCE_STEPS_ALL,
    ...                                 free_loadings=["d"])
    >>> strict.table["df"].astype(int).tolist()
    [4, 6, 9, 13]
    >>> df.loc[:30, "b"] = np.nan
    >>> fiml = measurement_invariance(df, {"g": ["a", "b", "c", "d"]}, "site", missing="ml")
    >>> fiml.n, fiml.n_incomplete
    ({'x': 200, 'y': 200}, {'x': 31, 'y': 0})
    >>> likert = df[list("acd")].apply(lambda c: 1 + np.digitize(c, [-1.0, 0.0, 1.0])).assign(site=df["site"])
    >>> ordinal = measurement_invariance(likert, {"g": ["a", "c", "d"]}, "site", ordered=True)
    >>> ordinal.table["df"].astype(int).tolist()
    [0, 5, 7]
    """
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"`data` must be a pandas DataFrame, got {type(data).__name__}.")
    check_choice("missing", missing, MISSING_METHODS)
    facs = _check_factors(factors)
    items = [it for its in facs.values() for it in its]
    if not isinstance(group, str) or group not in data.columns:
        raise ValueError(f"`group`: column {group!r} is not in `data`.{suggest_name(group, data.columns)}")
    if group in items:
        raise ValueError(f"`group`: column {group!r} is also an item.")
    if not isinstance(ordered, (bool, np.bool_)):
        raise ValueError(f"`ordered` must be True or False, got {ordered!r}.")
    check_choice("parameterization", parameterization, ("delta", "theta"))
    if ordered and missing != "listwise":
        raise ValueError("`missing`: ordered items are fitted by WLSMV on complete respondents (listwise, lavaan's "
                         "default); missing='ml' is for continuous items.")
    every = ORDINAL_INVARIANCE_STEPS if ordered else INVARIANCE_STEPS_ALL
    if steps is None:
        steps = ORDINAL_INVARIANCE_STEPS if ordered else INVARIANCE_STEPS
    if isinstance(steps, str):
        steps = (steps,)
    steps = tuple(steps)
    if not steps:
        raise ValueError(f"`steps` must name at least one of {', '.join(map(repr, every))}.")
    for s in steps:
        if ordered and s in ("scalar", "strict"):
            raise ValueError(f"`steps`: {s!r} is not a step for ordered items; their steps are 'configural', "
                             "'thresholds' (equal thresholds) and 'metric' (equal thresholds and loadings), as Wu & "
                             "Estabrook (2016) recommend: the thresholds of ordered items take the place of the "
                             "intercepts.")
        check_choice("steps", s, every)
    if len(set(steps)) != len(steps):
        raise ValueError(f"`steps` lists a step twice: {list(steps)}.")
    if list(steps) != sorted(steps, key=every.index):
        raise ValueError(f"`steps` must be in the order {', '.join(every)}; got {list(steps)}.")
    if isinstance(free_intercepts, str):
        free_intercepts = (free_intercepts,)
    free_intercepts = tuple(free_intercepts)
    bad = [it for it in free_intercepts if it not in items]
    if bad:
        raise ValueError(f"`free_intercepts` names items that are in no factor: {bad}.")
    if free_intercepts and ordered:
        raise ValueError("`free_intercepts`: ordered items have no free intercepts (fixed at 0, lavaan's default); "
                         "free loadings with `free_loadings`.")
    if free_intercepts and not {"scalar", "strict"} & set(steps):
        raise ValueError("`free_intercepts` applies to the scalar and strict steps, neither of which is in `steps`.")
    free_loadings = _check_free_loadings(free_loadings, facs, steps)
    absent = [c for c in items if c not in data.columns]
    if absent:
        raise ValueError(f"`factors`: item columns not in `data`: {absent}.{suggest_name(absent[0], data.columns)}")
    _check_numeric_items(data, items)
    gcol = data[group]
    if gcol.isna().any():
        raise ValueError(f"`group`: column {group!r} has a missing value at row "
                         f"{data.index[gcol.isna().to_numpy()][0]!r}.")
    levels = list(pd.unique(gcol))
    if len(levels) < 2:
        raise ValueError(f"`group`: column {group!r} has {len(levels)} group(s); at least 2 are needed.")
    labels = [str(g) for g in levels]
    if len(set(labels)) != len(labels):
        raise ValueError(f"`group`: column {group!r} has groups whose labels coincide as text: {labels}.")
    p, m = len(items), len(facs)
    q_group = sum(len(v) - 1 for v in facs.values()) + m * (m + 1) // 2 + p
    if q_group > p * (p + 1) // 2:
        raise ValueError(f"`factors`: the model is not identified ({q_group} covariance-structure parameters "
                         f"per group for {p * (p + 1) // 2} variances and covariances); a single factor "
                         "needs at least 3 items.")
    if ordered:
        return _ordinal_invariance(data, facs, items, group, labels, steps, free_loadings, parameterization)
    gdata, n, n_dropped = [], {}, {}
    scales = _item_scales(data[items].to_numpy(dtype=float))
    for g, lab in zip(levels, labels):
        block = data.loc[(gcol == g).to_numpy(), items].astype(float)
        gd, dropped = _prepare_group(block.to_numpy() / scales, items, missing, f"group {lab!r}")
        gdata.append(gd)
        n[lab], n_dropped[lab] = gd.n, dropped
    total_dropped = sum(n_dropped.values())
    if total_dropped:
        why = "a missing answer" if missing == "listwise" else "no answer at all"
        warnings.warn(f"measurement_invariance: {total_dropped} respondents with {why} were dropped "
                      f"({'listwise, ' if missing == 'listwise' else ''}per group: {n_dropped}).",
                      UserWarning, stacklevel=2)
    _warn_em(gdata, labels, "measurement_invariance")

    fitted: dict[str, InvarianceStep] = {}
    for step in steps:
        fields = _fit_step(gdata, facs, items, labels, step, missing, "measurement_invariance", scales,
                           free_intercepts=free_intercepts if step in ("scalar", "strict") else (),
                           free_loadings=free_loadings)
        fields.pop("h1"), fields.pop("result")
        fitted[step] = InvarianceStep(**fields)

    rows_t = {}
    prev = None
    for step, s in fitted.items():
        r = {k: s.fit[k] for k in ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "aic", "bic")}
        if prev is None:
            r.update(delta_chisq=np.nan, delta_df=np.nan, delta_pvalue=np.nan, delta_cfi=np.nan, delta_rmsea=np.nan)
        else:
            dc = s.fit["chisq"] - prev.fit["chisq"]
            dd = int(s.fit["df"] - prev.fit["df"])
            r.update(delta_chisq=dc, delta_df=dd,
                     delta_pvalue=float(stats.chi2.sf(max(dc, 0.0), dd)) if dd > 0 else np.nan,
                     delta_cfi=s.fit["cfi"] - prev.fit["cfi"], delta_rmsea=s.fit["rmsea"] - prev.fit["rmsea"])
        r["converged"] = s.converged
        rows_t[step] = r
        prev = s
    table = pd.DataFrame(rows_t).T.infer_objects()
    table.index.name = "step"
    return InvarianceResult(steps=fitted, table=table, groups=labels, n=n, n_dropped=n_dropped, factors=facs,
                            free_intercepts=free_intercepts, missing=missing,
                            n_incomplete={lab: gd.n_incomplete for lab, gd in zip(labels, gdata)},
                            free_loadings=free_loadings)


# --------------------------------------------------------------------------- ordered items (WLSMV)
#: The invariance steps for ordered items, in order (Wu & Estabrook 2016): equal thresholds, then
#: equal thresholds and loadings.
ORDINAL_INVARIANCE_STEPS = ("configural", "thresholds", "metric")
_ORDINAL_GROUP_EQUAL = {"configural": (), "thresholds": ("thresholds",), "metric": ("thresholds", "loadings")}


def _ordinal_invariance(data: pd.DataFrame, facs: dict[str, list[str]], items: list[str], group: str,
                        labels: list[str], steps: tuple, free_loadings: tuple, parameterization: str
                        ) -> InvarianceResult:
    """``measurement_invariance(..., ordered=True)``: each step by the engine's WLSMV
    (:func:`analysis.sem.ordinal.fit_wlsmv`, lavaan's ``cfa(..., ordered = TRUE, group.equal = )``), the
    differences by lavaan's scaled-shifted test (:func:`analysis.sem.ordinal.difference_test`)."""
    from analysis.sem.ordinal import difference_test, fit_wlsmv, ordinal_sample_stats

    what = "measurement_invariance"
    d = data[items + [group]].copy()
    d[group] = d[group].astype(str)
    miss = d[items].isna().any(axis=1)
    n_dropped = {lab: int((miss & (d[group] == lab)).sum()) for lab in labels}
    if miss.any():
        warnings.warn(f"{what}: {int(miss.sum())} respondents with a missing answer were dropped (listwise, "
                      f"lavaan's default for ordered items; per group: {n_dropped}).", UserWarning, stacklevel=3)
    d = d[~miss]

    def relay(caught):
        for w in caught:
            msg = str(w.message)
            if "were dropped" not in msg:
                warnings.warn(msg.replace("fit_wlsmv:", f"{what}:").replace("ordinal_sample_stats:", f"{what}:"),
                              w.category, stacklevel=4)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ss = ordinal_sample_stats(d, items, group=group)
    relay(caught)
    labels = [str(g) for g in ss.groups]  # lavaan's order (of appearance among the complete respondents)
    fits, fitted = {}, {}
    for step in steps:
        gp = [f"{f_} =~ {it}" for f_, its in facs.items() for it in its if it in free_loadings] \
            if step == "metric" else []
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            res = fit_wlsmv(d, facs, group=group, group_equal=_ORDINAL_GROUP_EQUAL[step], group_partial=gp,
                            parameterization=parameterization, sample_stats=ss)
        relay(caught)
        fits[step] = res
        f = res.fit
        fit = pd.Series({"chisq": f["chisq.scaled"], "df": int(f["df"]), "pvalue": f["pvalue.scaled"],
                         "cfi": f["cfi.scaled"], "tli": f["tli.scaled"], "rmsea": f["rmsea.scaled"], "srmr": f["srmr"],
                         "chisq_unscaled": f["chisq"], "pvalue_unscaled": f["pvalue"], "cfi_unscaled": f["cfi"],
                         "tli_unscaled": f["tli"], "rmsea_unscaled": f["rmsea"],
                         "scaling_factor": f["chisq.scaling.factor"], "shift": f["chisq.shift.parameter"],
                         "baseline_chisq": f["baseline.chisq.scaled"], "baseline_df": int(f["baseline.df"]),
                         "npar": int(f["npar"]), "aic": np.nan, "bic": np.nan})
        pe = res.params
        free = pe["free"].to_numpy() > 0
        shared = pd.Series(pe["free"].to_numpy()).where(free)
        params = pd.DataFrame({"lhs": pe["lhs"].to_numpy(), "op": pe["op"].to_numpy(), "rhs": pe["rhs"].to_numpy(),
                               "group": [str(g) for g in pe["group_label"]],
                               "estimate": pe["estimate"].to_numpy(dtype=float),
                               "se": np.where(free, pe["se"].to_numpy(dtype=float), np.nan)})
        with np.errstate(divide="ignore", invalid="ignore"):
            params["statistic"] = params["estimate"] / params["se"]
        params["pvalue"] = 2 * stats.norm.sf(np.abs(params["statistic"]))
        params["free"] = free
        params["equal"] = shared.map(shared.value_counts()).fillna(0).to_numpy() > 1
        params["std_all"] = pe["std_all"].to_numpy(dtype=float)
        rv = params[(params["op"] == "~~") & params["lhs"].isin(items) & (params["lhs"] == params["rhs"])]
        boundary = [f"group {r.group}: residual variance of {r.lhs} = {r.estimate:.3g}"
                    + (" (negative)" if r.estimate < 0 else "") for r in rv.itertuples() if r.estimate <= 0]
        implied = {str(g): (v["thresholds"], v["cor"]) for g, v in res.implied.items()}
        fitted[step] = InvarianceStep(name=step, fit=fit, params=params, converged=bool(res.converged),
                                      boundary=boundary, optimizer={"converged": bool(res.converged),
                                                                    "grad_max": np.nan},
                                      implied=implied, information="robust (WLSMV sandwich)")
    rows_t, prev = {}, None
    for step, s in fitted.items():
        r = {k: s.fit[k] for k in ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "aic", "bic")}
        if prev is None:
            r.update(delta_chisq=np.nan, delta_df=np.nan, delta_pvalue=np.nan, delta_cfi=np.nan, delta_rmsea=np.nan)
        else:
            dt = difference_test(fits[prev.name], fits[step])
            r.update(delta_chisq=float(dt["chisq_diff"]), delta_df=int(dt["df_diff"]), delta_pvalue=float(dt["pvalue"]),
                     delta_cfi=s.fit["cfi"] - prev.fit["cfi"], delta_rmsea=s.fit["rmsea"] - prev.fit["rmsea"])
        r["converged"] = s.converged
        rows_t[step] = r
        prev = s
    table = pd.DataFrame(rows_t).T.infer_objects()
    table.index.name = "step"
    return InvarianceResult(steps=fitted, table=table, groups=labels, n={str(g): int(v) for g, v in
                                                                         ss.n_obs.items()},
                            n_dropped=n_dropped, factors=facs, missing="listwise",
                            n_incomplete={lab: 0 for lab in labels}, free_loadings=free_loadings,
                            ordered=True, parameterization=parameterization)
