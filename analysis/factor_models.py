r"""Factor models of questionnaire items: CFA by ML (complete data or FIML) and by WLSMV, omega.

:func:`fit_cfa` fits a confirmatory factor model by maximum likelihood, with lavaan's fit
indices; ``fit_cfa(..., missing="ml")`` fits by full-information ML instead (as
``lavaan::cfa(..., missing = "ml")``). :func:`compare_factor_models` fits
the one-factor, correlated-subscale and bifactor models of an instrument.
:func:`fit_cfa_ordinal` treats the items as ordinal: thresholds and polychoric correlations,
DWLS estimates with robust SEs and the scaled-shifted test (WLSMV), as
``lavaan::cfa(..., ordered = TRUE)``. Every model is a specification on the workbook's SEM
engine (:func:`analysis.sem.sem`, :func:`analysis.sem.ordinal.fit_wlsmv`): this module writes
the model, checks the data and reports the results. McDonald's omega, total and
hierarchical, is :meth:`CFAResult.omega`. All functions are pure (data in, results object out).

Part of the psychometrics of the workbook: scoring in :mod:`analysis.scoring`, reliability in
:mod:`analysis.reliability`, factor models here, measurement invariance in
:mod:`analysis.invariance` (``analysis.psychometrics`` re-exports them all).

**Missing answers.** By default respondents with a missing answer are dropped (listwise).
``missing="ml"`` in :func:`fit_cfa` is full-information ML (Arbuckle 1996), unbiased when
answers are missing at random: the casewise normal likelihood of the observed answers, grouped
by missing-data pattern, with the unrestricted (H1) moments estimated by EM for the chi-square
and SRMR, and observed-information SEs, all as lavaan's ``missing = "ml"``.

Estimation conventions (as lavaan's defaults)
---------------------------------------------
ML on the biased covariance matrix :math:`S` (divisor :math:`N`), no mean
structure, marker-variable identification (first loading of each factor fixed at
1), complete cases. With :math:`\hat\Sigma` the model-implied covariance and
:math:`p` items,

.. math::

    F_{ML} = \log|\hat\Sigma| + \operatorname{tr}(S\hat\Sigma^{-1}) - \log|S| - p,\qquad
    \chi^2 = N F_{ML},

    \chi^2_B = N\Bigl(\sum_i \log s_{ii} - \log|S|\Bigr),\ df_B = p(p-1)/2,

    \mathrm{CFI} = 1 - \frac{\max(\chi^2 - df, 0)}{\max(\chi^2 - df,\ \chi^2_B - df_B,\ 0)},\qquad
    \mathrm{TLI} = \frac{\chi^2_B/df_B - \chi^2/df}{\chi^2_B/df_B - 1},

    \mathrm{RMSEA} = \sqrt{\max\Bigl(\frac{\chi^2 - df}{N\,df}, 0\Bigr)},\qquad
    \mathrm{SRMR} = \sqrt{\frac{\sum_{i \le j}\bigl(r_{ij} - \hat\rho_{ij}\bigr)^2}{p(p+1)/2}}

with the RMSEA 90% interval from the noncentral :math:`\chi^2` (Browne & Cudeck
1993; the noncentrality :math:`\lambda` solving :math:`P(\chi^2_{df,\lambda} \le
\chi^2) = 0.95` and :math:`0.05`, :math:`\mathrm{RMSEA} = \sqrt{\lambda/(N\,df)}`), the
SRMR on correlations (Bentler's form, lavaan's ``srmr`` without mean structure),
TLI not truncated at 1 (as lavaan). Cut-offs often quoted: CFI/TLI near .95 or
above, RMSEA near .06 or below, SRMR near .08 or below (Hu & Bentler 1999), rules
of thumb, not tests.

References
----------
Arbuckle, J. L. (1996). Full information estimation in the presence of incomplete data. In
G. A. Marcoulides & R. E. Schumacker (Eds.), *Advanced structural equation modeling*
(pp. 243--277). Erlbaum.
Browne, M. W., & Cudeck, R. (1993). Alternative ways of assessing model fit. In
K. A. Bollen & J. S. Long (Eds.), *Testing structural equation models* (pp. 136--162).
Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes in covariance
structure analysis. *Structural Equation Modeling, 6*(1), 1--55.
McDonald, R. P. (1999). *Test theory: A unified treatment*. Erlbaum.
Reise, S. P. (2012). The rediscovery of bifactor measurement models. *Multivariate
Behavioral Research, 47*(5), 667--696.
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software, 48*(2), 1--36.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

from analysis import _sem_fit
from analysis._cfa_ml import _fit_step, _group_data, _prepare_group, _warn_em
from analysis._checks import check_choice, suggest_name
from analysis._items import (
    MISSING_METHODS,
    _check_factors,
    _check_numeric_items,
    _check_representable,
    _item_frame,
    _item_scales,
    _outer,
)
from analysis._results import ResultMixin
from analysis.multilevel import BoundaryWarning, ConvergenceWarning  # UserWarning subclasses
from analysis.scoring import InstrumentKey
from analysis.sem.ordinal import PARAMETERIZATIONS, fit_wlsmv

__all__ = [
    "CFAResult",
    "fit_cfa",
    "OrdinalCFAResult",
    "fit_cfa_ordinal",
    "FactorModelComparison",
    "compare_factor_models",
]


@dataclass
class CFAResult(ResultMixin):
    r"""Result of :func:`fit_cfa`.

    Attributes
    ----------
    factors : dict of str to list of str
        Factor -> items (the general factor of a bifactor model included).
    general : str or None
        The general factor of a bifactor model.
    n : int
        Respondents used (complete ones with ``missing="listwise"``; under FIML everyone with
        at least one answer).
    n_dropped : int
        Respondents dropped: for a missing answer (listwise) or for having no answer (FIML).
    fit : pandas.Series
        ``chisq``, ``df``, ``pvalue``, ``baseline_chisq``, ``baseline_df``, ``cfi``,
        ``tli``, ``rmsea``, ``rmsea_lower``, ``rmsea_upper`` (90%), ``srmr``, ``loglik``,
        ``npar``, ``aic``, ``bic``.
    loadings : DataFrame
        ``factor``, ``item``, ``estimate``, ``se`` (NaN for the fixed marker), ``std``
        (standardised: :math:`\lambda\sqrt{\psi_{ff}}/\hat\sigma_{ii}^{1/2}`, lavaan's ``std.all``).
    factor_cov : DataFrame
        Estimated factor covariance matrix :math:`\Phi`.
    residual_var : pandas.Series
        Residual (unique) variances :math:`\theta_i`.
    implied_cov, sample_cov : DataFrame
        :math:`\hat\Sigma` and :math:`S` (divisor N; under FIML the EM estimate of the
        unrestricted covariance matrix).
    converged : bool
    boundary : list of str
        Variances estimated at (or within 1e-6 of) zero: Heywood cases, reported.
    missing : str
        ``"listwise"`` or ``"ml"`` (full-information ML).
    n_incomplete : int
        Respondents used with at least one missing answer (FIML only; 0 otherwise).
    intercepts : pandas.Series or None
        Item intercepts :math:`\nu` (FIML, which has a mean structure); None otherwise.
    sample_mean : pandas.Series or None
        Under FIML, the EM estimate of the unrestricted means; None otherwise.
    params : DataFrame or None
        Under FIML, every parameter in lavaan's ``parameterEstimates`` layout (``lhs``, ``op``,
        ``rhs``, ``estimate``, ``se`` (observed information), ``statistic`` (z), ``pvalue``, ``free``); None otherwise.
    optimizer : dict or None
        Under FIML, the optimiser report (see :class:`analysis.invariance.InvarianceStep`); None otherwise.
    """

    _frame_from = ('params', 'loadings')

    factors: dict
    general: str | None
    n: int
    n_obs = property(lambda self: self.n, doc="Number of observations analysed (= ``n``).")
    n_dropped: int
    fit: pd.Series
    loadings: pd.DataFrame
    factor_cov: pd.DataFrame
    residual_var: pd.Series
    implied_cov: pd.DataFrame
    sample_cov: pd.DataFrame
    converged: bool
    boundary: list = field(default_factory=list)
    missing: str = "listwise"
    n_incomplete: int = 0
    intercepts: pd.Series | None = None
    sample_mean: pd.Series | None = None
    params: pd.DataFrame | None = None
    optimizer: dict | None = None

    def _lambda(self) -> np.ndarray:
        items = list(self.implied_cov.index)
        facs = list(self.factor_cov.index)
        L = np.zeros((len(items), len(facs)))
        for _, r in self.loadings.iterrows():
            L[items.index(r["item"]), facs.index(r["factor"])] = r["estimate"]
        return L

    def omega(self, *, denominator: str = "model") -> pd.Series:
        r"""McDonald's omega of the unit-weighted sum score, from this model.

        .. math::

            \omega_{total} = \frac{\mathbf 1^\top \Lambda\Phi\Lambda^\top \mathbf 1}{V},\qquad
            \omega_{f} = \frac{(\sum_i \lambda_{if})^2 \phi_{ff}}{V},\qquad
            V = \mathbf 1^\top\hat\Sigma\mathbf 1\ (\text{"model"})\ \text{or}\ \mathbf 1^\top S\mathbf 1\
            (\text{"observed"})

        (McDonald 1999). In a bifactor model (orthogonal factors) :math:`\omega_{G}` is
        omega hierarchical, :math:`\omega_h` (Reise 2012): the share of sum-score
        variance due to the general factor. In a one-factor model
        :math:`\omega_{total} = (\sum\lambda_i)^2\phi / V`. Raw-score metric (unstandardised
        items); ``psych::omega`` works on correlations instead (see :meth:`omega_standardized`).

        Returns
        -------
        pandas.Series
            ``total`` and one entry per factor (``omega_<factor>``); for a bifactor
            model also ``hierarchical``.
        """
        check_choice("denominator", denominator, ("model", "observed"))
        C = (self.implied_cov if denominator == "model" else self.sample_cov).to_numpy()
        # in units of the largest item SD (a common rescaling leaves omega unchanged; no overflow)
        c = float(np.sqrt(np.max(np.diag(self.implied_cov.to_numpy()))))
        c = 2.0 ** math.floor(math.log2(c)) if c > 0 and np.isfinite(c) else 1.0
        V = float((C / c / c).sum())
        L = self._lambda() / c
        Phi = self.factor_cov.to_numpy()
        one = np.ones(L.shape[0])
        out = {"total": float(one @ L @ Phi @ L.T @ one) / V}
        for f_i, f in enumerate(self.factor_cov.index):
            out[f"omega_{f}"] = float(L[:, f_i].sum() ** 2 * Phi[f_i, f_i]) / V
        if self.general is not None:
            out["hierarchical"] = out[f"omega_{self.general}"]
        return pd.Series(out)

    def omega_standardized(self) -> float:
        r"""Omega total of the standardised items with the observed correlations in the denominator.

        For a one-factor model with standardised loadings :math:`\lambda^*_i`,

        .. math:: \omega_t = 1 - \frac{\sum_i (1 - \lambda_i^{*2})}{\mathbf 1^\top R\,\mathbf 1}

        with :math:`R` the observed correlation matrix: the quantity ``psych::omega``
        reports as ``omega.tot`` (for ``nfactors = 1``, ``fm = "ml"``, whose ML
        loadings equal the CFA's standardised loadings). Only for one-factor models.
        """
        if len(self.factor_cov) != 1:
            raise ValueError("omega_standardized is defined here for one-factor models only.")
        S = self.sample_cov.to_numpy()
        d = np.sqrt(np.diag(S))
        R = S / np.outer(d, d)
        u2 = 1 - self.loadings["std"].to_numpy() ** 2
        return float(1 - u2.sum() / R.sum())

    def summary(self) -> str:
        """Fit indices, standardised loadings and factor correlations."""
        f = self.fit
        kind = "bifactor" if self.general else f"{len(self.factors)}-factor"
        lines = [
            (f"CFA ({kind}, ML), {self.n} respondents" + (f" ({self.n_dropped} dropped, listwise)" if self.n_dropped else "")
             if self.missing == "listwise" else
             f"CFA ({kind}, FIML), {self.n} respondents ({self.n_incomplete} with missing answers, kept"
             + (f"; {self.n_dropped} with no answer dropped" if self.n_dropped else "") + ")"),
            f"  chi2({int(f['df'])}) = {f['chisq']:.3f}, p = {f['pvalue']:.4g}; CFI = {f['cfi']:.3f}, "
            f"TLI = {f['tli']:.3f}, RMSEA = {f['rmsea']:.3f} [90% CI {f['rmsea_lower']:.3f}, "
            f"{f['rmsea_upper']:.3f}], SRMR = {f['srmr']:.3f}",
            f"  AIC = {f['aic']:.2f}, BIC = {f['bic']:.2f}; converged: {self.converged}",
            "  standardised loadings:",
            self.loadings.pivot(index="item", columns="factor", values="std")
            .reindex(index=list(self.implied_cov.index), columns=list(self.factor_cov.index))
            .to_string(float_format=lambda v: f"{v:.3f}", na_rep=""),
        ]
        if len(self.factor_cov) > 1:
            sd = np.sqrt(np.diag(self.factor_cov.to_numpy()))
            corr = self.factor_cov / np.outer(sd, sd)
            lines += ["  factor correlations:", corr.to_string(float_format=lambda v: f"{v:.3f}")]
        om = self.omega()
        lines.append("  omega: " + ", ".join(f"{k} = {v:.3f}" for k, v in om.items()))
        if self.boundary:
            lines.append(f"  NOTE: boundary estimates (variance at or below zero): {', '.join(self.boundary)}")
        return "\n".join(lines)


def fit_cfa(data: pd.DataFrame, factors: Mapping[str, Sequence[str]], *, general: str | None = None,
            orthogonal: bool | None = None, missing: str = "listwise") -> CFAResult:
    r"""Confirmatory factor analysis by maximum likelihood, with lavaan's fit indices.

    The model is :math:`\Sigma = \Lambda\Phi\Lambda^\top + \Theta` with :math:`\Theta`
    diagonal, each item loading on the factors that list it, the first loading of each
    factor fixed at 1 (marker identification, as ``lavaan::cfa``). ``general`` adds a
    factor on which all items load (a bifactor model); its factors are then orthogonal
    (as ``lavaan::cfa(..., orthogonal = TRUE)``). The model is written in lavaan syntax (items and
    factors renamed internally, so any column name works) and fitted by the SEM engine,
    :func:`analysis.sem.sem` (ML by Fisher scoring with analytic gradients, expected-information
    SEs); its fit measures are lavaan's (formulas in the module docstring).

    **Missing answers.** ``missing="listwise"`` (default) drops every respondent with a
    missing answer and fits as above (no mean structure). ``missing="ml"`` is
    full-information ML, as ``lavaan::cfa(..., missing = "ml")``: unbiased under MAR, every
    respondent with at least one answer is kept, and the model gets a mean structure
    (intercepts :math:`\nu` free, :math:`\mu = \nu`). It maximises the casewise normal
    log-likelihood, grouped by missing-data pattern :math:`k` (observed items :math:`o_k`,
    :math:`n_k` respondents with means :math:`\bar y_k` and covariances :math:`S_k`),

    .. math::

        -2\log L(\theta) = \sum_k n_k\bigl[p_k\log 2\pi + \log|\Sigma_{o_k}| +
        \operatorname{tr}(S_k\Sigma_{o_k}^{-1}) + (\bar y_k - \mu_{o_k})^\top\Sigma_{o_k}^{-1}
        (\bar y_k - \mu_{o_k})\bigr],

    with the engine's FIML (:mod:`analysis.sem.missing`, the workbook's one FIML and EM), so that
    ``fit_cfa(..., missing="ml")`` is the one-group model of
    :func:`analysis.invariance.measurement_invariance`. The fit
    statistics are lavaan's under FIML: :math:`\chi^2 = 2(\log L_{H1} - \log L)` with the
    unrestricted :math:`\mu, \Sigma` (H1) estimated by EM; the baseline (independence) model
    fitted by FIML (it factorises: each item's mean and variance from its available answers);
    CFI, TLI and RMSEA from these as in the module docstring; SRMR (with the mean residuals, as
    lavaan's with a mean structure) against the EM-estimated H1 moments, which lavaan uses as
    the "sample" moments; SEs from the observed information (the Hessian), lavaan's default with
    ``missing = "ml"`` (``lavOptions()``: ``information = "observed"``, ``observed.information
    = "hessian"``). ``sample_cov`` then holds the EM covariance matrix, ``npar`` counts the
    intercepts (as lavaan's), and ``params`` holds every parameter with its SE. Checked against
    lavaan 0.6 in ``tests/test_psychometrics.py``. On complete data it gives the listwise
    estimates, chi-square and CFI/TLI/RMSEA; SRMR then differs by the mean residuals' share of
    the denominator, :math:`\sqrt{(p(p+1)/2)/(p(p+1)/2 + p)}`.

    Parameters
    ----------
    data : DataFrame
        Numeric item answers; with ``missing="listwise"`` rows with a missing answer are
        dropped (counted in ``n_dropped``, with a warning); with ``missing="ml"`` only rows
        with no answer at all (likewise counted and warned about).
    factors : mapping of str to sequence of str
        Factor name -> its items (at least 2 items per factor; factor names must differ
        from item names).
    general : str, optional
        Name of a general factor loading on every item (bifactor model).
    orthogonal : bool, optional
        Fix the factor covariances at zero. Default: True for a bifactor model, else False.
    missing : {"listwise", "ml"}, default "listwise"
        Listwise deletion or full-information ML (lavaan's ``missing = "ml"``).

    Returns
    -------
    CFAResult

    Raises
    ------
    ValueError
        Checked before fitting: no more respondents than items (``n <= p``: the sample
        covariance matrix is singular), linearly dependent items, a model with more free
        parameters than variances and covariances, a factor with fewer than 3 items in an
        orthogonal (or bifactor) model; missing or non-numeric columns (with the nearest
        name), infinite or constant items; estimates beyond double precision.

    Notes
    -----
    Scale: the items are divided by a power of two near their SD before fitting and the
    estimates, SEs, implied moments and log-likelihood are transformed back (ML is
    equivariant under rescaling), so items in any units (1e-150 to 1e150) give the same
    chi-square, fit indices and standardised solution.

    References
    ----------
    Arbuckle, J. L. (1996). Full information estimation in the presence of incomplete data. In
    G. A. Marcoulides & R. E. Schumacker (Eds.), *Advanced structural equation modeling*
    (pp. 243--277). Erlbaum.
    Enders, C. K. (2010). *Applied missing data analysis*. Guilford.
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
    Statistical Software, 48*(2), 1--36.

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> f = rng.normal(size=(500, 1))
    >>> df = pd.DataFrame(0.7 * f + 0.7 * rng.normal(size=(500, 4)), columns=list("abcd"))
    >>> res = fit_cfa(df, {"g": ["a", "b", "c", "d"]})
    >>> int(res.fit["df"])
    2
    >>> df.iloc[:50, 0] = np.nan
    >>> fiml = fit_cfa(df, {"g": ["a", "b", "c", "d"]}, missing="ml")
    >>> fiml.n, fiml.n_incomplete, int(fiml.fit["df"])
    (500, 50, 2)
    """
    check_choice("missing", missing, MISSING_METHODS)
    if not isinstance(factors, Mapping) or not factors:
        raise ValueError("`factors` must be a non-empty mapping of factor name -> items.")
    for k, v in factors.items():
        if isinstance(v, (str, bytes, Mapping)) or not hasattr(v, "__iter__"):
            raise ValueError(f"`factors`: the items of factor {k!r} must be a list of column names; got {v!r}.")
    facs = {str(k): list(v) for k, v in factors.items()}
    for f_, its in facs.items():
        if len(its) < 2:
            raise ValueError(f"`factors`: factor {f_!r} needs at least 2 items, got {len(its)}.")
        if len(set(its)) != len(its):
            raise ValueError(f"`factors`: factor {f_!r} lists an item twice.")
    items = list(dict.fromkeys(it for its in facs.values() for it in its))
    if general is not None:
        if general in facs:
            raise ValueError(f"`general` {general!r} is already a factor name.")
        facs = {general: list(items), **facs}
    clash = set(facs) & set(items)
    if clash:
        raise ValueError(f"factor names must differ from item names: {sorted(clash)}.")
    if orthogonal is None:
        orthogonal = general is not None
    if not isinstance(orthogonal, (bool, np.bool_)):
        raise ValueError(f"`orthogonal` must be True, False or None; got {orthogonal!r}.")
    p, m = len(items), len(facs)
    if orthogonal and m > 1:
        two = [f_ for f_, its in facs.items() if len(its) < 3]
        if two:
            raise ValueError(f"`factors`: factor {two[0]!r} has {len(facs[two[0]])} items in an orthogonal model "
                             f"(orthogonal=True or a bifactor model): its loading and variance are not separately "
                             "identified. Give it at least 3 items or let the factors correlate.")
    npar_model = (sum(len(v) - 1 for v in facs.values()) + p
                  + (m if orthogonal else m * (m + 1) // 2))
    if npar_model > p * (p + 1) // 2:
        raise ValueError(f"`factors`: the model is not identified: {npar_model} free parameters for "
                         f"{p * (p + 1) // 2} variances and covariances of {p} items (a single factor needs at "
                         "least 3 items).")
    if missing == "ml":
        return _fit_cfa_ml(data, facs, items, general, bool(orthogonal))
    block, dropped = _item_frame(data, items, "fit_cfa", min_items=3)
    if len(block) <= p:
        raise ValueError(f"`data`: fit_cfa has n = {len(block)} complete respondents for {p} items; the sample "
                         f"covariance matrix is singular unless n > {p} (number of items). Collect more "
                         "respondents or fit fewer items.")
    scales = _item_scales(block.to_numpy())
    Rs = np.corrcoef((block / scales).to_numpy().T)
    if not np.all(np.isfinite(Rs)) or np.linalg.eigvalsh(Rs).min() < 1e-10:
        raise ValueError(f"`data`: the items are linearly dependent (singular sample covariance matrix, "
                         f"n = {len(block)}, {p} items); drop the redundant item.")
    if dropped:
        warnings.warn(f"fit_cfa: {dropped} respondents with a missing answer were dropped (listwise).",
                      UserWarning, stacklevel=2)
    gd = _group_data(block.to_numpy() / scales, "listwise")
    step = _fit_step([gd], facs, items, [""], "", "listwise", "fit_cfa", scales, orthogonal=bool(orthogonal),
                     meanstructure=False, short_boundary=True)
    return _cfa_result(step, gd, facs, items, general, dropped, "listwise", scales)


def _fit_cfa_ml(data: pd.DataFrame, facs: dict[str, list[str]], items: list[str], general: str | None,
                orthogonal: bool) -> CFAResult:
    """``fit_cfa(..., missing="ml")``: the one-group model by full-information ML (the engine's FIML)."""
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"`data` must be a pandas DataFrame, got {type(data).__name__}.")
    absent = [c for c in items if c not in data.columns]
    if absent:
        raise ValueError(f"`items`: columns not in `data`: {absent}.{suggest_name(absent[0], data.columns)}")
    if len(items) < 3:
        raise ValueError(f"fit_cfa needs at least 3 items, got {len(items)}.")
    _check_numeric_items(data, items)
    X = data[items].to_numpy(dtype=float)
    scales = _item_scales(X)
    gd, dropped = _prepare_group(X / scales, items, "ml", "the data")
    if dropped:
        warnings.warn(f"fit_cfa: {dropped} respondents with no answer at all were dropped (FIML keeps everyone "
                      "with at least one answer).", UserWarning, stacklevel=3)
    _warn_em([gd], [""], "fit_cfa")
    step = _fit_step([gd], facs, items, [""], "", "ml", "fit_cfa", scales, orthogonal=orthogonal)
    return _cfa_result(step, gd, facs, items, general, dropped, "ml", scales)


def _cfa_result(step: dict, gd, facs: dict[str, list[str]], items: list[str], general: str | None, dropped: int,
                missing: str, scales: np.ndarray) -> CFAResult:
    """A :class:`CFAResult` from the one-group fit of :func:`analysis._cfa_ml._fit_step`."""
    pr = step["params"].drop(columns=["group", "equal"])
    fl = list(facs)
    ld = pr[pr["op"] == "=~"]
    loadings = pd.DataFrame({"factor": ld["lhs"].to_numpy(), "item": ld["rhs"].to_numpy(),
                             "estimate": ld["estimate"].to_numpy(dtype=float), "se": ld["se"].to_numpy(dtype=float)})
    Phi = pd.DataFrame(0.0, index=fl, columns=fl)
    for r in pr[(pr["op"] == "~~") & pr["lhs"].isin(fl)].itertuples():
        Phi.loc[r.lhs, r.rhs] = Phi.loc[r.rhs, r.lhs] = r.estimate
    th = pr[(pr["op"] == "~~") & pr["lhs"].isin(items) & (pr["lhs"] == pr["rhs"])]
    theta = pd.Series(th["estimate"].to_numpy(dtype=float), index=th["lhs"].to_numpy()).reindex(items)
    _check_representable("fit_cfa", np.r_[Phi.to_numpy().ravel(), theta.to_numpy()])
    _, Sig = step["implied"][""]
    sd_item = np.sqrt(np.diag(Sig.to_numpy()))
    loadings["std"] = [r.estimate * math.sqrt(max(Phi.loc[r.factor, r.factor], 0.0)) / sd_item[items.index(r.item)]
                       for r in loadings.itertuples()]
    fit = step["fit"].drop(["loglik_h1"]) if missing == "listwise" else step["fit"].copy()
    common = dict(factors=facs, general=general, n=gd.n, n_dropped=dropped, fit=fit, loadings=loadings,
                  factor_cov=Phi, residual_var=theta, implied_cov=Sig, converged=step["converged"],
                  boundary=step["boundary"])
    if missing == "listwise":
        with np.errstate(over="ignore"):
            S = gd.cov * _outer(scales)
        return CFAResult(**common, sample_cov=pd.DataFrame(S, index=items, columns=items))
    nu = pr[(pr["op"] == "~1") & pr["lhs"].isin(items)]
    h1_mean, h1_cov = step["h1"][""]
    return CFAResult(**common, sample_cov=pd.DataFrame(h1_cov, index=items, columns=items), missing="ml",
                     n_incomplete=gd.n_incomplete,
                     intercepts=pd.Series(nu["estimate"].to_numpy(dtype=float), index=nu["lhs"].to_numpy()).reindex(items),
                     sample_mean=pd.Series(h1_mean, index=items), params=pr.reset_index(drop=True),
                     optimizer=step["optimizer"])


@dataclass
class FactorModelComparison(ResultMixin):
    """Result of :func:`compare_factor_models`.

    Attributes
    ----------
    models : dict of str to CFAResult
        ``"one-factor"``, ``"three-factor"`` (correlated subscale factors), ``"bifactor"``.
    table : DataFrame
        One row per model: fit indices, omega total and (bifactor) omega hierarchical.
    """

    _frame_from = ('table',)

    models: dict
    table: pd.DataFrame

    def summary(self) -> str:
        """The comparison table, with the Hu & Bentler (1999) rules of thumb."""
        cols = ["chisq", "df", "cfi", "tli", "rmsea", "rmsea_lower", "rmsea_upper", "srmr", "aic", "bic",
                "omega_total", "omega_h"]
        text = ("Factor models (ML); rules of thumb (Hu & Bentler 1999): CFI/TLI >= .95, RMSEA <= .06, "
                "SRMR <= .08\n" + self.table[cols].to_string(float_format=lambda v: f"{v:.3f}", na_rep="-"))
        bad = [name for name, m in self.models.items() if not m.converged]
        if bad:
            text += (f"\n  NOTE: {', '.join(bad)} did not converge (an improper solution, e.g. a variance drifting "
                     "below zero): its fit indices, estimates and omegas are not interpretable.")
        return text


def compare_factor_models(data: pd.DataFrame, key: InstrumentKey | Mapping[str, Sequence[str]], *,
                          general: str = "general") -> FactorModelComparison:
    """Fit the one-factor, correlated-subscale and bifactor models of an instrument.

    Each model by :func:`fit_cfa` on the same complete cases: one factor for all
    items; one factor per subscale, correlated; and a bifactor model (a general factor
    plus orthogonal subscale factors). Omega total (raw metric, model-implied
    denominator) and, for the bifactor model, omega hierarchical are added to the table.

    Parameters
    ----------
    data : DataFrame
        Item answers (keyed: reverse-keyed items already reversed, e.g.
        ``score_items(...).keyed_items``).
    key : InstrumentKey or mapping
        Subscales -> items.
    general : str, default "general"
        Name of the general factor.

    Returns
    -------
    FactorModelComparison

    References
    ----------
    Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes in covariance
    structure analysis. *Structural Equation Modeling, 6*(1), 1--55.
    McDonald, R. P. (1999). *Test theory: A unified treatment*. Erlbaum.
    Reise, S. P. (2012). The rediscovery of bifactor measurement models. *Multivariate
    Behavioral Research, 47*(5), 667--696.

    Examples
    --------
    >>> cmp = compare_factor_models(items, wai_sr_key())  # doctest: +SKIP
    """
    if isinstance(key, InstrumentKey):
        subs = key.subscales
    elif isinstance(key, Mapping) and key:
        subs = _check_factors(key)
    else:
        raise ValueError(f"`key` must be an InstrumentKey or a non-empty mapping of subscale -> items; got "
                         f"{type(key).__name__}.")
    if not isinstance(general, str) or not general:
        raise ValueError(f"`general` must be a factor name (str); got {general!r}.")
    if len(subs) < 2:
        raise ValueError(f"`key` has {len(subs)} subscale; the correlated-subscale and bifactor models need at "
                         "least 2 subscales.")
    items = [it for its in subs.values() for it in its]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        models = {
            "one-factor": fit_cfa(data, {general: items}),
            "three-factor" if len(subs) == 3 else f"{len(subs)}-factor": fit_cfa(data, subs),
            "bifactor": fit_cfa(data, subs, general=general),
        }
    for w in caught:
        if not any(str(w.message) == str(c.message) for c in caught[: caught.index(w)]):
            warnings.warn(str(w.message), w.category, stacklevel=2)
    rows = {}
    for name, m in models.items():
        om = m.omega()
        rows[name] = {**m.fit.to_dict(), "omega_total": om["total"],
                      "omega_h": om.get("hierarchical", np.nan), "converged": m.converged,
                      "boundary": "; ".join(m.boundary)}
    return FactorModelComparison(models=models, table=pd.DataFrame(rows).T.infer_objects())


@dataclass
class OrdinalCFAResult(ResultMixin):
    r"""Result of :func:`fit_cfa_ordinal` (lavaan's ``cfa(..., ordered = TRUE)``, estimator WLSMV).

    Attributes
    ----------
    factors : dict of str to list of str
    items : list of str
        The items in model order (factor by factor), the order of every matrix below.
    n, n_dropped : int
        Complete respondents used; respondents dropped for a missing answer (listwise).
    categories : dict of str to list
        The observed answer values of each item, in order (each is one category).
    thresholds : DataFrame
        ``item``, ``threshold`` (1, 2, ...), ``estimate`` (:math:`\Phi^{-1}` of the cumulative
        proportion), ``se`` (robust, from :math:`\Gamma`).
    polychoric : DataFrame
        The sample polychoric correlation matrix.
    loadings : DataFrame
        ``factor``, ``item``, ``estimate`` (marker fixed at 1), ``se`` (robust; NaN for the marker),
        ``std`` (:math:`\lambda\sqrt{\phi_{ff}}`, lavaan's ``std.all``: the latent response has
        variance 1 in the delta parameterization).
    factor_cov : DataFrame
        :math:`\Phi`.
    factor_cov_se : DataFrame
        Robust SEs of :math:`\Phi` (NaN where fixed, e.g. orthogonal factors).
    residual_var : pandas.Series
        Delta parameterization: :math:`\theta_i = 1 - [\Lambda\Phi\Lambda^\top]_{ii}` (implied, not
        free parameters); theta parameterization: fixed at 1.
    implied_cor : DataFrame
        The implied correlations of the latent responses (unit diagonal).
    gamma : DataFrame
        :math:`\Gamma`, N times the asymptotic covariance matrix of thresholds and polychorics.
    fit : pandas.Series
        ``chisq``, ``df``, ``pvalue`` (naive DWLS test), ``chisq_scaled``, ``pvalue_scaled``,
        ``scaling_factor``, ``shift`` (scaled-shifted test), ``baseline_chisq``, ``baseline_df``,
        ``baseline_chisq_scaled``, ``cfi``, ``tli``, ``cfi_scaled``, ``tli_scaled``, ``rmsea``,
        ``rmsea_scaled``, ``srmr``, ``npar``.
    converged : bool
    boundary : list of str
        Items with a residual variance at or below zero (Heywood cases), reported.
    parameterization : str
        ``"delta"`` (lavaan's default) or ``"theta"``.
    """

    _frame_from = ('loadings',)

    factors: dict
    items: list
    n: int
    n_obs = property(lambda self: self.n, doc="Number of observations analysed (= ``n``).")
    n_dropped: int
    categories: dict
    thresholds: pd.DataFrame
    polychoric: pd.DataFrame
    loadings: pd.DataFrame
    factor_cov: pd.DataFrame
    factor_cov_se: pd.DataFrame
    residual_var: pd.Series
    implied_cor: pd.DataFrame
    gamma: pd.DataFrame
    fit: pd.Series
    converged: bool
    boundary: list = field(default_factory=list)
    parameterization: str = "delta"

    def summary(self) -> str:
        """Tests, fit indices, standardised loadings and factor correlations."""
        f = self.fit
        lines = [
            f"Ordinal CFA ({len(self.factors)}-factor, WLSMV: DWLS on polychoric correlations), {self.n} "
            f"respondents" + (f" ({self.n_dropped} dropped, listwise)" if self.n_dropped else ""),
            f"  chi2({int(f['df'])}) = {f['chisq']:.3f}, p = {f['pvalue']:.4g} (DWLS); scaled-shifted "
            f"chi2({int(f['df'])}) = {f['chisq_scaled']:.3f}, p = {f['pvalue_scaled']:.4g}",
            f"  CFI = {f['cfi']:.3f} (scaled {f['cfi_scaled']:.3f}), TLI = {f['tli']:.3f} (scaled "
            f"{f['tli_scaled']:.3f}), RMSEA = {f['rmsea']:.3f} (scaled {f['rmsea_scaled']:.3f}), "
            f"SRMR = {f['srmr']:.3f}; converged: {self.converged}",
            "  standardised loadings:",
            self.loadings.pivot(index="item", columns="factor", values="std")
            .reindex(index=self.items, columns=list(self.factor_cov.index))
            .to_string(float_format=lambda v: f"{v:.3f}", na_rep=""),
        ]
        if len(self.factor_cov) > 1:
            sd = np.sqrt(np.diag(self.factor_cov.to_numpy()))
            corr = self.factor_cov / np.outer(sd, sd)
            lines += ["  factor correlations:", corr.to_string(float_format=lambda v: f"{v:.3f}")]
        if self.boundary:
            lines.append(f"  NOTE: residual variance at or below zero: {', '.join(self.boundary)}")
        return "\n".join(lines)


def fit_cfa_ordinal(data: pd.DataFrame, factors: Mapping[str, Sequence[str]], *,
                    orthogonal: bool = False, parameterization: str = "delta") -> OrdinalCFAResult:
    r"""Ordinal CFA of Likert items by WLSMV, as ``lavaan::cfa(model, data, ordered = TRUE)``.

    Each item :math:`y_i` with categories :math:`1..K_i` is a cut latent response,
    :math:`y_i = c \iff \tau_{i,c-1} < y^*_i \le \tau_{i,c}`, with :math:`y^* \sim N(0, P)`
    and :math:`P = \Lambda\Phi\Lambda^\top + \Theta` a correlation matrix (delta
    parameterization: :math:`\Theta = I - \operatorname{diag}(\Lambda\Phi\Lambda^\top)`).
    Estimation in three steps, lavaan's defaults (Muthén 1984; Muthén, du Toit & Spisic 1997):

    1. **Thresholds** from the marginal proportions, :math:`\hat\tau_{ic} = \Phi^{-1}(\sum_{k\le c}
       n_{ik}/N)` (the univariate probit ML).
    2. **Polychoric correlations** :math:`r_{ij}` by pairwise ML with the thresholds fixed
       (two-step; bounded at :math:`\pm 0.999`), cell probabilities from the bivariate normal CDF
       (Owen's T). :math:`\Gamma`, N times the asymptotic covariance of
       :math:`s = (\hat\tau, r)`, is :math:`N B^{-1} (\sum_n g_n g_n^\top) B^{-\top}` with
       :math:`g_n` the casewise scores (thresholds, then correlations) and :math:`B` lower block
       triangular: the block-diagonal cross-products of the threshold scores (per item), the
       diagonal cross-products of the correlation scores, and the cross-products of correlation
       scores with the pairwise-likelihood threshold derivatives (lavaan's ``muthen1984``).
    3. **DWLS**: minimise :math:`F(\theta) = \sum_{i>j} (r_{ij} - \rho_{ij}(\theta))^2/\gamma_{ij}`
       with :math:`\gamma` the diagonal of :math:`\Gamma` (the thresholds are saturated), marker
       identification (first loading of each factor at 1, factor (co)variances free).

    Robust SEs: :math:`\widehat{\operatorname{cov}}(\hat\theta) = (\Delta^\top W\Delta)^{-1}
    \Delta^\top W\Gamma W\Delta(\Delta^\top W\Delta)^{-1}/(N-1)`, :math:`W = \operatorname{diag}
    (\Gamma)^{-1}`, :math:`\Delta = \partial s/\partial\theta^\top` (thresholds included). Tests:
    :math:`T = (N-1)\,e^\top W e`; scaled-shifted :math:`T_{ss} = aT + b` with
    :math:`U = W - W\Delta(\Delta^\top W\Delta)^{-1}\Delta^\top W`, :math:`a = \sqrt{df/
    \operatorname{tr}(U\Gamma U\Gamma)}`, :math:`b = df - a\operatorname{tr}(U\Gamma)` (Asparouhov &
    Muthén 2010); baseline: all polychorics zero (its :math:`\Delta` holds the thresholds only).
    CFI/TLI as in the module docstring from :math:`T` and the baseline (``_scaled``: from the
    scaled-shifted statistics), RMSEA :math:`\sqrt{\max(0, (T - df)/(df(N-1)))}`, SRMR over the
    :math:`p(p+1)/2` elements of the polychoric matrix. The :math:`N-1` are lavaan 0.6's, found
    by comparison with it.

    A specification on the SEM engine: the estimation is :func:`analysis.sem.ordinal.fit_wlsmv`
    (the workbook's one WLSMV; numpy/scipy, as no maintained Python library reproduces lavaan's),
    called with the factors as the model; this function checks the data, names the problems in
    its own words and maps the engine's parameter table onto :class:`OrdinalCFAResult`. Checked
    against lavaan 0.6-14 in ``tests/test_psychometrics.py`` (thresholds, polychorics,
    :math:`\Gamma`, estimates, SEs and the fit measures above). With
    ``parameterization="theta"`` the residual variances of the latent responses are fixed at 1
    instead of their total variances (lavaan's ``parameterization = "theta"``): the same fit,
    loadings on another scale, the same standardised loadings. Not implemented:
    ``cfi.robust``/``rmsea.robust`` (lavaan's Savalei-type robust indices), bifactor models
    (cross-loadings), missing data by pairwise deletion; multiple groups: see
    :func:`analysis.invariance.measurement_invariance` with ``ordered=True``.

    Parameters
    ----------
    data : pandas.DataFrame
        Integer-coded ordinal answers (e.g. 1--5); each distinct observed value is a category
        (as lavaan's ``ordered``). Respondents with a missing answer are dropped (listwise,
        lavaan's default for categorical data), with a warning.
    factors : mapping of str to sequence of str
        Factor -> items (at least 2 each, no cross-loadings).
    orthogonal : bool, default False
        Fix the factor covariances at 0.
    parameterization : {"delta", "theta"}, default "delta"
        The scale of the latent responses, as lavaan's ``parameterization``.

    Returns
    -------
    OrdinalCFAResult

    Raises
    ------
    ValueError
        A missing column, a non-numeric or non-integer answer (the error names the column and the
        row), an item with a single category, too few complete respondents.

    References
    ----------
    Asparouhov, T., & Muthén, B. (2010). Simple second order chi-square correction. Mplus technical
    appendix.
    Muthén, B. (1984). A general structural equation model with dichotomous, ordered categorical,
    and continuous latent variable indicators. *Psychometrika, 49*(1), 115--132.
    Muthén, B., du Toit, S. H. C., & Spisic, D. (1997). Robust inference using weighted least
    squares and quadratic estimating equations in latent variable modeling with categorical and
    continuous outcomes. Unpublished technical report.
    Owen, D. B. (1956). Tables for computing bivariate normal probabilities. *Annals of
    Mathematical Statistics, 27*(4), 1075--1090.
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
    Statistical Software, 48*(2), 1--36.

    Examples
    --------
    >>> rng = np.random.default_rng(4)
    >>> ystar = 0.8 * rng.normal(size=(400, 1)) + 0.6 * rng.normal(size=(400, 4))
    >>> df = pd.DataFrame(1 + np.digitize(ystar, [-1.0, 0.0, 1.0]), columns=list("abcd"))
    >>> res = fit_cfa_ordinal(df, {"g": ["a", "b", "c", "d"]})
    >>> int(res.fit["df"]), len(res.thresholds)
    (2, 12)
    >>> bool(res.loadings["std"].between(0.7, 0.9).all())
    True
    """
    facs = _check_factors(factors)
    if not isinstance(data, pd.DataFrame):
        raise ValueError("`data` must be a pandas DataFrame.")
    if not isinstance(orthogonal, (bool, np.bool_)):
        raise ValueError(f"`orthogonal` must be True or False, got {orthogonal!r}.")
    check_choice("parameterization", parameterization, PARAMETERIZATIONS)
    two = [f_ for f_, its in facs.items() if len(its) < 3]
    if orthogonal and len(facs) > 1 and two:
        raise ValueError(f"`factors`: factor {two[0]!r} has {len(facs[two[0]])} items in an orthogonal model: its "
                         "loading and variance are not separately identified. Give it at least 3 items or let "
                         "the factors correlate.")
    items = [it for its in facs.values() for it in its]
    absent = [c for c in items if c not in data.columns]
    if absent:
        raise ValueError(f"`data` has no column(s) {absent}.{suggest_name(absent[0], data.columns)}")
    _check_numeric_items(data, items)
    D = data[items]
    complete = D.notna().all(axis=1).to_numpy()
    n_dropped = int((~complete).sum())
    D = D[complete]
    N, p = D.shape
    if N <= p:
        raise ValueError(f"`data` has {N} complete respondents; the model needs more than the number of items ({p}).")
    K = []
    for c in items:
        v = D[c].to_numpy(dtype=float)
        frac = v != np.round(v)
        if frac.any():
            raise ValueError(f"`data` column {c!r} has a non-integer answer {float(v[frac][0]):g} at row "
                             f"{D.index[frac][0]!r}; ordinal items must be integer-coded.")
        u = np.unique(v)
        if u.size < 2:
            raise ValueError(f"`data` column {c!r} has a single category ({u[0]:g}) among the complete "
                             "respondents; it carries no information.")
        K.append(int(u.size))
    many = [c for c, k in zip(items, K) if k > 15]
    if many:
        warnings.warn(f"fit_cfa_ordinal: item(s) {many} have more than 15 categories "
                      f"({max(K)} at most); they look continuous: thresholds for sparse categories are "
                      "poorly estimated, and fit_cfa (ML for continuous items) may suit them better.",
                      UserWarning, stacklevel=2)
    if n_dropped:
        warnings.warn(f"fit_cfa_ordinal: {n_dropped} respondents with a missing answer were dropped "
                      "(listwise, lavaan's default for categorical data).", UserWarning, stacklevel=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = fit_wlsmv(D, facs, orthogonal=bool(orthogonal), parameterization=parameterization)
    for w in caught:  # the engine's warnings, in this function's name (the two above are not repeated)
        msg = str(w.message)
        if "more than 15 categories" in msg or "were dropped" in msg:
            continue
        warnings.warn(msg.replace("fit_wlsmv:", "fit_cfa_ordinal:"), w.category, stacklevel=2)
    pe = res.params
    fnames = list(facs)
    th = pe[pe["op"] == "|"]
    thresholds = pd.DataFrame({"item": th["lhs"].to_numpy(), "threshold": [int(t[1:]) for t in th["rhs"]],
                               "estimate": th["estimate"].to_numpy(dtype=float), "se": th["se"].to_numpy(dtype=float)})
    ld = pe[pe["op"] == "=~"]
    loadings = pd.DataFrame({"factor": ld["lhs"].to_numpy(), "item": ld["rhs"].to_numpy(),
                             "estimate": ld["estimate"].to_numpy(dtype=float),
                             "se": np.where(ld["free"].to_numpy() > 0, ld["se"].to_numpy(dtype=float), np.nan),
                             "std": ld["std_all"].to_numpy(dtype=float)})
    Phi = pd.DataFrame(0.0, index=fnames, columns=fnames)
    Phi_se = pd.DataFrame(np.nan, index=fnames, columns=fnames)
    for r in pe[(pe["op"] == "~~") & pe["lhs"].isin(fnames)].itertuples(index=False):
        Phi.loc[r.lhs, r.rhs] = Phi.loc[r.rhs, r.lhs] = r.estimate
        if r.free > 0:
            Phi_se.loc[r.lhs, r.rhs] = Phi_se.loc[r.rhs, r.lhs] = r.se
    rv = pe[(pe["op"] == "~~") & pe["lhs"].isin(items) & (pe["lhs"] == pe["rhs"])]
    resid = pd.Series(rv["estimate"].to_numpy(dtype=float), index=rv["lhs"].to_numpy()).reindex(items)
    boundary = [it for it in items if resid[it] <= 0]
    f = res.fit
    names = {"chisq": "chisq", "df": "df", "pvalue": "pvalue", "chisq_scaled": "chisq.scaled",
             "pvalue_scaled": "pvalue.scaled", "scaling_factor": "chisq.scaling.factor",
             "shift": "chisq.shift.parameter", "baseline_chisq": "baseline.chisq", "baseline_df": "baseline.df",
             "baseline_chisq_scaled": "baseline.chisq.scaled", "cfi": "cfi", "tli": "tli",
             "cfi_scaled": "cfi.scaled", "tli_scaled": "tli.scaled", "rmsea": "rmsea",
             "rmsea_scaled": "rmsea.scaled", "srmr": "srmr", "npar": "npar"}
    fit = pd.Series({ours: f[theirs] for ours, theirs in names.items()})
    fit[["df", "baseline_df", "npar"]] = fit[["df", "baseline_df", "npar"]].astype(int)
    ss = res.sample_stats
    return OrdinalCFAResult(
        factors=facs, items=items, n=int(res.n_obs), n_dropped=n_dropped, categories=ss.categories,
        thresholds=thresholds, polychoric=ss.polychoric[None].copy(), loadings=loadings, factor_cov=Phi,
        factor_cov_se=Phi_se, residual_var=resid, implied_cor=res.implied[None]["cor"],
        gamma=ss.gamma[None].copy(), fit=fit, converged=bool(res.converged), boundary=boundary,
        parameterization=parameterization)
