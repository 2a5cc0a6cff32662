r"""Effect sizes, their sampling variances and conversions between them.

The entry point is :func:`compute_effect_sizes`, modelled on ``metafor::escalc``
(Viechtbauer 2010): give a ``measure`` named as metafor names it and the study-level
summaries (or column names of ``data``), get back an :class:`EffectSizes` object with
``yi`` (effect sizes) and ``vi`` (sampling variances). Small named helpers do single
steps: :func:`fisher_z`, :func:`r_from_z`, :func:`d_to_r`, :func:`r_to_d`,
:func:`hedges_g`, :func:`smd_from_t`, :func:`log_odds_ratio`,
:func:`correct_for_attenuation`, ...

Every function is vectorised: it takes scalars, sequences, numpy arrays or pandas
Series. Given a Series it returns a Series with the same index; given only scalars a
helper returns a ``float``. Bad input (NaN, non-numbers, ``|r| >= 1``, sample sizes or
SDs ``<= 0``, negative or fractional counts, mismatched lengths) raises a
``ValueError`` that names the argument and the 0-based position.

Measures of :func:`compute_effect_sizes` (sampling variances are metafor's default
large-sample ``vtype="LS"`` ones):

======= ===================================================================
SMD     standardized mean difference with Hedges' exact bias correction (g)
MD      raw mean difference
OR      log odds ratio from a 2x2 table
RR      log risk ratio from a 2x2 table
RD      risk difference from a 2x2 table
COR     Pearson correlation (raw)
ZCOR    Fisher's r-to-z transformed correlation
SMCR    standardized mean change, change standardized by the pre-test SD
SMCC    standardized mean change, change standardized by the SD of the change
SMDH    standardized mean difference with heteroscedastic variances (Bonett)
ROM     log ratio of means (response ratio)
RPB     point-biserial correlation from group means, SDs and sizes
PR      raw proportion
PLO     logit of a proportion
UCOR    correlation corrected for its small-sample bias (Olkin-Pratt)
PCOR    partial correlation from a regression t statistic
ZPCOR   Fisher's z of that partial correlation
SPCOR   semi-partial correlation from a regression t statistic and R^2
======= ===================================================================

Nothing in scipy, statsmodels or pingouin computes study-level effect sizes and their
sampling variances from summary statistics with escalc's conventions (pingouin's
``compute_effsize`` works on raw data), so these formulas are written out by hand and
checked against metafor 3.8.1 (``tests/oracles/escalc.R`` and ``tests/oracles/escalc_more.R``).

References
----------
Becker, B. J. (1988). Synthesizing standardized mean-change measures. *British Journal
of Mathematical and Statistical Psychology, 41*, 257-278.
Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009).
*Introduction to meta-analysis*. Wiley (chapters 4-7).
Chinn, S. (2000). A simple method for converting an odds ratio to effect size for use
in meta-analysis. *Statistics in Medicine, 19*, 3127-3131.
Fisher, R. A. (1921). On the "probable error" of a coefficient of correlation deduced
from a small sample. *Metron, 1*, 3-32.
Gibbons, R. D., Hedeker, D. R., & Davis, J. M. (1993). Estimation of effect size from a
series of experiments involving paired comparisons. *Journal of Educational Statistics,
18*, 271-279.
Hasselblad, V., & Hedges, L. V. (1995). Meta-analysis of screening and diagnostic
tests. *Psychological Bulletin, 117*, 167-178.
Hedges, L. V. (1981). Distribution theory for Glass's estimator of effect size and
related estimators. *Journal of Educational Statistics, 6*, 107-128.
Hunter, J. E., & Schmidt, F. L. (2004). *Methods of meta-analysis* (2nd ed.). Sage.
Morris, S. B. (2008). Estimating effect sizes from pretest-posttest-control group
designs. *Organizational Research Methods, 11*, 364-386.
Spearman, C. (1904). The proof and measurement of association between two things.
*American Journal of Psychology, 15*, 72-101.
Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
*Journal of Statistical Software, 36*(3), 1-48.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import gammaln

from analysis._checks import (
    as_float_array,
    broadcast_arrays,
    check_choice,
    check_finite,
    check_integer_valued,
    check_nonnegative,
    check_open_interval,
    check_positive,
    describe_labels,
    first_bad,
    suggest_name,
)
from analysis._results import ResultMixin

__all__ = [
    "EffectSizes",
    "MEASURES",
    "compute_effect_sizes",
    "convert_effect_sizes",
    "fisher_z",
    "r_from_z",
    "d_to_r",
    "r_to_d",
    "d_to_log_odds_ratio",
    "log_odds_ratio_to_d",
    "hedges_correction",
    "hedges_g",
    "g_to_d",
    "cohens_d",
    "smd_from_t",
    "var_smd",
    "var_r",
    "var_fisher_z",
    "log_odds_ratio",
    "log_risk_ratio",
    "risk_difference",
    "correct_for_attenuation",
]

MEASURES: dict[str, str] = {
    "SMD": "standardized mean difference (Hedges' g, exact bias correction)",
    "MD": "raw mean difference",
    "OR": "log odds ratio",
    "RR": "log risk ratio",
    "RD": "risk difference",
    "COR": "raw correlation coefficient",
    "ZCOR": "Fisher r-to-z transformed correlation",
    "SMCR": "standardized mean change (raw-score standardization: pre-test SD)",
    "SMCC": "standardized mean change (change-score standardization)",
    "SMDH": "standardized mean difference with heteroscedastic variances",
    "ROM": "log ratio of means (response ratio)",
    "RPB": "point-biserial correlation (from group means and SDs)",
    "PR": "raw proportion",
    "PLO": "logit (log odds) of a proportion",
    "UCOR": "correlation corrected for its small-sample bias (Olkin-Pratt)",
    "PCOR": "partial correlation (from a regression t statistic)",
    "ZPCOR": "Fisher r-to-z transformed partial correlation",
    "SPCOR": "semi-partial correlation (from a regression t statistic and R^2)",
}

_ZERO_RULES = ("only0", "all", "if0all", "none")
_SCALES = ("r", "z", "d", "g", "logOR")


# --------------------------------------------------------------------------------------
# input handling
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Shape:
    index: pd.Index | None
    scalar: bool


def _gather(**named: Any) -> tuple[dict[str, np.ndarray], _Shape]:
    """Convert named inputs to finite float arrays of a common length.

    Remembers the pandas index (all Series must share it) and whether every input
    was a scalar, so that :func:`_wrap` can return the caller's type.
    """
    index: pd.Index | None = None
    index_from = ""
    scalar = True
    arrays: dict[str, np.ndarray | None] = {}
    for name, value in named.items():
        if value is None:
            arrays[name] = None
            continue
        if isinstance(value, pd.Series):
            if index is None:
                index, index_from = value.index, name
            elif not value.index.equals(index):
                raise ValueError(
                    f"`{name}` and `{index_from}` are pandas Series with different indexes; "
                    "align them (or pass arrays) first."
                )
        if np.ndim(value) != 0 or isinstance(value, (str, bytes)):
            scalar = False
        if isinstance(value, dict):
            raise ValueError(f"`{name}` must be a number, an array or a pandas Series, got a dict.")
        arrays[name] = as_float_array(name, value)
        if arrays[name].shape[0] == 0:
            raise ValueError(f"`{name}` is empty: there is nothing to compute.")
    out = broadcast_arrays(**arrays)
    for name, arr in out.items():
        if arr is not None:
            check_finite(name, arr)
    if index is not None:
        n = next(a.shape[0] for a in out.values() if a is not None)
        if n != len(index):
            raise ValueError(
                f"`{index_from}` is a Series of length {len(index)} but the other "
                f"arguments have length {n}."
            )
    return out, _Shape(index=index, scalar=scalar and index is None)


def _wrap(arr: np.ndarray, shape: _Shape, name: str | None = None) -> Any:
    if shape.index is not None:
        return pd.Series(arr, index=shape.index, name=name)
    if shape.scalar:
        return float(arr[0])
    return arr


def _required(**named: Any) -> None:
    """Refuse None for arguments the formula needs."""
    for name, value in named.items():
        if value is None:
            raise ValueError(f"`{name}` is required but was None.")


def _representable(what: str, arr: np.ndarray, *, positive: bool = False) -> np.ndarray:
    """Refuse results that overflowed to inf or underflowed to 0 (variances), naming the positions.

    The arithmetic runs under ``np.errstate(all="ignore")``; inputs so large or small that the
    result is not a finite double (e.g. a variance of 1e-400) are refused with a message about
    their scale instead of returning inf, 0 or NaN.
    """
    bad = ~np.isfinite(arr)
    if positive:
        bad |= ~(arr > 0)
    if bad.any():
        raise ValueError(
            f"The {what} is not representable as a finite{' positive' if positive else ''} number at "
            f"{first_bad(bad)} (it overflows to inf or underflows to 0): the inputs there are too large or too "
            "small in magnitude. Rescale them (e.g. express means and SDs in other units)."
        )
    return arr


def _check_greater(name: str, arr: np.ndarray, bound: float, why: str) -> None:
    """Refuse values <= bound (e.g. ZCOR needs ni > 3)."""
    bad = arr <= bound
    if bad.any():
        raise ValueError(
            f"`{name}` must be greater than {bound:g} {why}; {first_bad(bad)} has {arr[bad][0]!r}."
        )


def _check_n(name: str, arr: np.ndarray, bound: float = 0.0, why: str = "") -> None:
    check_positive(name, arr, "a positive sample size")
    if bound > 0:
        _check_greater(name, arr, bound, why)


def _check_r(name: str, arr: np.ndarray) -> None:
    check_open_interval(name, arr, -1, 1)


def _check_counts(name: str, arr: np.ndarray) -> None:
    check_nonnegative(name, arr)
    check_integer_valued(name, arr)


def _group_factor(n1: np.ndarray | None, n2: np.ndarray | None) -> np.ndarray:
    """a = (n1 + n2)^2 / (n1 n2), or 4 for equal groups (Borenstein et al. 2009, eq. 7.5)."""
    if n1 is None and n2 is None:
        return np.array(4.0)
    if n1 is None or n2 is None:
        raise ValueError("Give both `n1i` and `n2i` (or neither, for equal group sizes).")
    _check_n("n1i", n1)
    _check_n("n2i", n2)
    return (n1 + n2) ** 2 / (n1 * n2)


# --------------------------------------------------------------------------------------
# results object
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EffectSizes(ResultMixin):
    """Effect sizes ``yi`` and their sampling variances ``vi``, one per study.

    Attributes
    ----------
    yi, vi : numpy.ndarray or pandas.Series
        Effect sizes and sampling variances (pandas Series with the caller's index when
        the input was pandas).
    measure : str
        The measure, named as in metafor (``"SMD"``, ``"OR"``, ...) or a scale name of
        :func:`convert_effect_sizes` (``"r"``, ``"z"``, ``"d"``, ``"g"``, ``"logOR"``).

    Examples
    --------
    >>> es = compute_effect_sizes("ZCOR", ri=[0.3, 0.5], ni=[50, 103])
    >>> es.to_frame().round(4).values.tolist()
    [[0.3095, 0.0213], [0.5493, 0.01]]
    """

    yi: Any
    vi: Any
    measure: str
    #: Rows dropped by ``na_action="omit"`` (index labels or 0-based positions, see ``dropped_kind``).
    dropped: tuple = ()
    dropped_kind: str = ""

    @property
    def sei(self) -> Any:
        """Standard errors, ``sqrt(vi)``."""
        return np.sqrt(self.vi)

    def __len__(self) -> int:
        return len(self.yi)

    def to_frame(self) -> pd.DataFrame:
        """A DataFrame with columns ``yi`` and ``vi`` (the caller's index when pandas)."""
        yi = np.asarray(self.yi, dtype=float)
        vi = np.asarray(self.vi, dtype=float)
        index = self.yi.index if isinstance(self.yi, pd.Series) else None
        return pd.DataFrame({"yi": yi, "vi": vi}, index=index)

    def summary(self, level: float = 0.95) -> str:
        """Readable table: yi, vi, standard error and a Wald confidence interval."""
        from scipy.stats import norm

        from analysis._checks import check_level

        level = check_level("level", level)
        crit = norm.ppf(0.5 + level / 2)
        frame = self.to_frame()
        frame["sei"] = np.sqrt(frame["vi"])
        pct = f"{100 * level:g}"
        frame[f"ci_lb ({pct}%)"] = frame["yi"] - crit * frame["sei"]
        frame[f"ci_ub ({pct}%)"] = frame["yi"] + crit * frame["sei"]
        title = MEASURES.get(self.measure, self.measure)
        note = ""
        if self.dropped:
            what = self.dropped_kind[:-1] if len(self.dropped) == 1 else self.dropped_kind
            note = (f"\n{len(self.dropped)} row{'s' if len(self.dropped) != 1 else ''} omitted because of missing "
                    f"values (na_action='omit'): {describe_labels(self.dropped, what=what)}.")
        return f"Effect sizes: {self.measure} ({title}), k = {len(self)}\n" + frame.to_string(
            float_format=lambda v: f"{v:.4f}"
        ) + note

    def __repr__(self) -> str:
        return f"EffectSizes(measure={self.measure!r}, k={len(self)})"


# --------------------------------------------------------------------------------------
# correlations
# --------------------------------------------------------------------------------------
def fisher_z(r: Any) -> Any:
    r"""Fisher's r-to-z transformation.

    .. math:: z = \tfrac12 \ln\frac{1 + r}{1 - r} = \operatorname{artanh}(r)

    Its sampling variance is ``1 / (n - 3)`` (:func:`var_fisher_z`). Fisher (1921);
    Borenstein et al. (2009), eq. 6.2; metafor's measure ``"ZCOR"`` (Viechtbauer 2010).

    Parameters
    ----------
    r : float, array-like or pandas.Series
        Correlations, strictly between -1 and 1.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Fisher's z, same shape and type as ``r``.

    References
    ----------
    Fisher, R. A. (1921). On the "probable error" of a coefficient of correlation deduced
    from a small sample. *Metron, 1*, 3-32.
    Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009).
    *Introduction to meta-analysis*. Wiley (chapters 4-7).
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.

    Examples
    --------
    >>> round(fisher_z(0.5), 6)
    0.549306
    """
    _required(r=r)
    arrs, shape = _gather(r=r)
    _check_r("r", arrs["r"])
    return _wrap(np.arctanh(arrs["r"]), shape, "z")


def r_from_z(z: Any) -> Any:
    r"""Back-transform Fisher's z to a correlation.

    .. math:: r = \tanh(z) = \frac{e^{2z} - 1}{e^{2z} + 1}

    Borenstein et al. (2009), eq. 6.4; metafor's ``transf.ztor``.

    Parameters
    ----------
    z : float, array-like or pandas.Series
        Fisher z values (finite).

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Correlations.

    References
    ----------
    Fisher, R. A. (1921). On the "probable error" of a coefficient of correlation deduced
    from a small sample. *Metron, 1*, 3-32.
    Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009).
    *Introduction to meta-analysis*. Wiley (chapters 4-7).

    Examples
    --------
    >>> round(r_from_z(fisher_z(0.3)), 12)
    0.3
    """
    _required(z=z)
    arrs, shape = _gather(z=z)
    return _wrap(np.tanh(arrs["z"]), shape, "r")


def var_r(ri: Any, ni: Any) -> Any:
    r"""Large-sample sampling variance of a Pearson correlation.

    .. math:: v_r = \frac{(1 - r^2)^2}{n - 1}

    Borenstein et al. (2009), eq. 6.1; metafor ``"COR"`` with ``vtype="LS"``.

    Parameters
    ----------
    ri : float, array-like or pandas.Series
        Correlations, strictly between -1 and 1.
    ni : float, array-like or pandas.Series
        Sample sizes, greater than 1.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Sampling variances.

    References
    ----------
    Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009).
    *Introduction to meta-analysis*. Wiley (chapters 4-7).
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.

    Examples
    --------
    >>> round(var_r(0.3, 101), 6)
    0.008281
    """
    _required(ri=ri, ni=ni)
    arrs, shape = _gather(ri=ri, ni=ni)
    _check_r("ri", arrs["ri"])
    _check_n("ni", arrs["ni"], 1, "for the variance of a correlation")
    return _wrap((1 - arrs["ri"] ** 2) ** 2 / (arrs["ni"] - 1), shape, "vi")


def var_fisher_z(ni: Any) -> Any:
    r"""Sampling variance of Fisher's z.

    .. math:: v_z = \frac{1}{n - 3}

    Borenstein et al. (2009), eq. 6.3; metafor ``"ZCOR"``.

    Parameters
    ----------
    ni : float, array-like or pandas.Series
        Sample sizes, greater than 3.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Sampling variances.

    References
    ----------
    Fisher, R. A. (1921). On the "probable error" of a coefficient of correlation deduced
    from a small sample. *Metron, 1*, 3-32.
    Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009).
    *Introduction to meta-analysis*. Wiley (chapters 4-7).
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.

    Examples
    --------
    >>> var_fisher_z(53)
    0.02
    """
    _required(ni=ni)
    arrs, shape = _gather(ni=ni)
    _check_n("ni", arrs["ni"], 3, "for the variance of Fisher's z")
    return _wrap(1 / (arrs["ni"] - 3), shape, "vi")


def correct_for_attenuation(ri: Any, rxx: Any, ryy: Any, *, vi: Any = None, ni: Any = None) -> EffectSizes:
    r"""Spearman's correction of a correlation for measurement error (disattenuation).

    .. math::

        r_c = \frac{r}{\sqrt{r_{xx}\, r_{yy}}}, \qquad
        v_{r_c} = \frac{v_r}{r_{xx}\, r_{yy}}

    with the reliabilities treated as known constants (Spearman 1904; Hunter &
    Schmidt 2004, ch. 3, "artifact multiplier" ``A = sqrt(rxx ryy)``). ``v_r`` is ``vi``
    when given, otherwise the large-sample ``(1 - r^2)^2 / (n - 1)`` of the observed
    correlation (:func:`var_r`). Corrected values beyond +-1 are possible with low
    reliabilities; they are returned as computed and a ``UserWarning`` names them.

    Parameters
    ----------
    ri : float, array-like or pandas.Series
        Observed correlations, strictly between -1 and 1.
    rxx, ryy : float, array-like or pandas.Series
        Reliabilities of the two measures, in (0, 1].
    vi : array-like, optional
        Sampling variances of ``ri`` (positive). Give ``vi`` or ``ni``.
    ni : array-like, optional
        Sample sizes (> 1), used when ``vi`` is not given.

    Returns
    -------
    EffectSizes
        ``yi`` the corrected correlations, ``vi`` their sampling variances
        (``measure="COR"``).

    References
    ----------
    Spearman, C. (1904). The proof and measurement of association between two things.
    *American Journal of Psychology, 15*, 72-101.
    Hunter, J. E., & Schmidt, F. L. (2004). *Methods of meta-analysis* (2nd ed.). Sage.

    Examples
    --------
    >>> es = correct_for_attenuation(0.30, 0.80, 0.70, ni=120)
    >>> round(float(es.yi[0]), 4), round(float(es.vi[0]), 5)
    (0.4009, 0.01243)
    """
    if vi is None and ni is None:
        raise ValueError("Give the sampling variances `vi` or the sample sizes `ni`.")
    _required(ri=ri, rxx=rxx, ryy=ryy)
    arrs, shape = _gather(ri=ri, rxx=rxx, ryy=ryy, vi=vi, ni=ni if vi is None else None)
    r = arrs["ri"]
    _check_r("ri", r)
    for name in ("rxx", "ryy"):
        rel = arrs[name]
        bad = (rel <= 0) | (rel > 1)
        if bad.any():
            raise ValueError(
                f"`{name}` must be a reliability in (0, 1]; {first_bad(bad)} has {rel[bad][0]!r}."
            )
    if vi is not None:
        check_positive("vi", arrs["vi"], "a positive variance")
        v = arrs["vi"]
    else:
        _check_n("ni", arrs["ni"], 1, "for the variance of a correlation")
        v = (1 - r**2) ** 2 / (arrs["ni"] - 1)
    a = np.sqrt(arrs["rxx"]) * np.sqrt(arrs["ryy"])  # sqrt(rxx ryy) without underflow
    with np.errstate(all="ignore"):
        rc = _representable("corrected correlation", r / a)
        vc = _representable("variance of the corrected correlation", v / a / a, positive=True)
    if (np.abs(rc) > 1).any():
        warnings.warn(
            f"Corrected correlations exceed 1 in absolute value at {first_bad(np.abs(rc) > 1)}; "
            "check the reliabilities.",
            UserWarning,
            stacklevel=2,
        )
    shape = _Shape(shape.index, False)
    return EffectSizes(_wrap(rc, shape, "yi"), _wrap(vc, shape, "vi"), "COR")


# --------------------------------------------------------------------------------------
# standardized mean differences
# --------------------------------------------------------------------------------------
def _j(m: np.ndarray) -> np.ndarray:
    return np.exp(gammaln(m / 2) - np.log(np.sqrt(m / 2)) - gammaln((m - 1) / 2))


def hedges_correction(m: Any) -> Any:
    r"""Hedges' exact small-sample bias correction factor J(m).

    .. math:: J(m) = \frac{\Gamma(m/2)}{\sqrt{m/2}\;\Gamma\big((m-1)/2\big)}
              \approx 1 - \frac{3}{4m - 1}

    computed on the log scale with ``scipy.special.gammaln``, as metafor does
    (Hedges 1981, eq. 6e; Viechtbauer 2010). For two groups ``m = n1 + n2 - 2``; for a
    pre/post change ``m = n - 1``.

    Parameters
    ----------
    m : float, array-like or pandas.Series
        Degrees of freedom, greater than 1.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        The factor J (between 0 and 1).

    References
    ----------
    Hedges, L. V. (1981). Distribution theory for Glass's estimator of effect size and
    related estimators. *Journal of Educational Statistics, 6*, 107-128.
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.

    Examples
    --------
    >>> round(hedges_correction(10), 6)
    0.922746
    """
    _required(m=m)
    arrs, shape = _gather(m=m)
    _check_greater("m", arrs["m"], 1, "(degrees of freedom of J)")
    return _wrap(_j(arrs["m"]), shape, "J")


def _check_two_groups(n1: np.ndarray, n2: np.ndarray) -> None:
    _check_n("n1i", n1)
    _check_n("n2i", n2)
    bad = n1 + n2 <= 3
    if bad.any():
        raise ValueError(
            f"`n1i` + `n2i` must be greater than 3 for Hedges' correction; {first_bad(bad)} "
            f"has {(n1 + n2)[bad][0]!r}."
        )


def hedges_g(d: Any, n1i: Any, n2i: Any) -> Any:
    r"""Hedges' g: Cohen's d times the exact bias correction J(n1 + n2 - 2).

    .. math:: g = J(n_1 + n_2 - 2)\, d

    Hedges (1981); Borenstein et al. (2009), eq. 4.22-4.24 (with the exact J as in
    metafor's ``"SMD"``).

    Parameters
    ----------
    d : float, array-like or pandas.Series
        Cohen's d.
    n1i, n2i : float, array-like or pandas.Series
        Group sizes (positive, sum greater than 3).

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Hedges' g.

    References
    ----------
    Hedges, L. V. (1981). Distribution theory for Glass's estimator of effect size and
    related estimators. *Journal of Educational Statistics, 6*, 107-128.
    Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009).
    *Introduction to meta-analysis*. Wiley (chapters 4-7).
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.

    Examples
    --------
    >>> round(hedges_g(0.5, 10, 10), 6)
    0.478823
    """
    _required(d=d, n1i=n1i, n2i=n2i)
    arrs, shape = _gather(d=d, n1i=n1i, n2i=n2i)
    _check_two_groups(arrs["n1i"], arrs["n2i"])
    return _wrap(_j(arrs["n1i"] + arrs["n2i"] - 2) * arrs["d"], shape, "g")


def g_to_d(g: Any, n1i: Any, n2i: Any) -> Any:
    r"""Undo Hedges' correction: ``d = g / J(n1 + n2 - 2)``.

    Hedges (1981); see :func:`hedges_g`.

    Parameters
    ----------
    g : float, array-like or pandas.Series
        Hedges' g.
    n1i, n2i : float, array-like or pandas.Series
        Group sizes (positive, sum greater than 3).

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Cohen's d.

    References
    ----------
    Hedges, L. V. (1981). Distribution theory for Glass's estimator of effect size and
    related estimators. *Journal of Educational Statistics, 6*, 107-128.

    Examples
    --------
    >>> round(g_to_d(hedges_g(0.5, 10, 10), 10, 10), 12)
    0.5
    """
    _required(g=g, n1i=n1i, n2i=n2i)
    arrs, shape = _gather(g=g, n1i=n1i, n2i=n2i)
    _check_two_groups(arrs["n1i"], arrs["n2i"])
    return _wrap(arrs["g"] / _j(arrs["n1i"] + arrs["n2i"] - 2), shape, "d")


def cohens_d(m1i: Any, sd1i: Any, n1i: Any, m2i: Any, sd2i: Any, n2i: Any) -> Any:
    r"""Cohen's d with the pooled within-group standard deviation.

    .. math::

        d = \frac{\bar x_1 - \bar x_2}{s_p}, \qquad
        s_p = \sqrt{\frac{(n_1 - 1) s_1^2 + (n_2 - 1) s_2^2}{n_1 + n_2 - 2}}

    Borenstein et al. (2009), eq. 4.18-4.19. Positive when group 1 has the larger mean.

    Parameters
    ----------
    m1i, sd1i, n1i : float, array-like or pandas.Series
        Mean, SD (> 0) and size of group 1.
    m2i, sd2i, n2i : float, array-like or pandas.Series
        Mean, SD (> 0) and size of group 2 (``n1i + n2i > 2``).

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Cohen's d.

    References
    ----------
    Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009).
    *Introduction to meta-analysis*. Wiley (chapters 4-7).

    Examples
    --------
    >>> round(cohens_d(12.0, 4.0, 30, 10.0, 4.0, 30), 6)
    0.5
    """
    _required(m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i)
    arrs, shape = _gather(m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i)
    return _wrap(_cohens_d(arrs), shape, "d")


def _cohens_d(a: dict[str, np.ndarray]) -> np.ndarray:
    for name in ("sd1i", "sd2i"):
        check_positive(name, a[name], "a positive standard deviation")
    _check_n("n1i", a["n1i"])
    _check_n("n2i", a["n2i"])
    _check_greater("n1i + n2i", a["n1i"] + a["n2i"], 2, "to pool the standard deviations")
    mi = a["n1i"] + a["n2i"] - 2
    # s_p computed relative to the larger SD, so SDs of 1e-200 or 1e200 neither underflow nor overflow
    top = np.maximum(a["sd1i"], a["sd2i"])
    sp = top * np.sqrt(((a["n1i"] - 1) * (a["sd1i"] / top) ** 2 + (a["n2i"] - 1) * (a["sd2i"] / top) ** 2) / mi)
    with np.errstate(all="ignore"):
        return _representable("standardized mean difference", a["m1i"] / sp - a["m2i"] / sp)


def smd_from_t(ti: Any, n1i: Any, n2i: Any, *, correct: bool = True) -> Any:
    r"""Standardized mean difference from an independent-groups t statistic.

    .. math:: d = t \sqrt{\frac{1}{n_1} + \frac{1}{n_2}}, \qquad g = J(n_1 + n_2 - 2)\, d

    Borenstein et al. (2009), eq. 4.20 (Student's pooled-variance t); metafor's
    ``escalc("SMD", ti=, n1i=, n2i=)``. The sign of ``ti`` gives the direction.

    Parameters
    ----------
    ti : float, array-like or pandas.Series
        t statistics of two-sample (pooled-variance) t tests.
    n1i, n2i : float, array-like or pandas.Series
        Group sizes (positive, sum greater than 3).
    correct : bool, default True
        Return Hedges' g (bias-corrected, as metafor's ``"SMD"``); ``False`` gives d.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        g (or d).

    References
    ----------
    Hedges, L. V. (1981). Distribution theory for Glass's estimator of effect size and
    related estimators. *Journal of Educational Statistics, 6*, 107-128.
    Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009).
    *Introduction to meta-analysis*. Wiley (chapters 4-7).
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.

    Examples
    --------
    >>> round(smd_from_t(2.31, 20, 22), 6)
    0.700211
    """
    _required(ti=ti, n1i=n1i, n2i=n2i)
    arrs, shape = _gather(ti=ti, n1i=n1i, n2i=n2i)
    _check_two_groups(arrs["n1i"], arrs["n2i"])
    d = arrs["ti"] * np.sqrt(1 / arrs["n1i"] + 1 / arrs["n2i"])
    if correct:
        d = _j(arrs["n1i"] + arrs["n2i"] - 2) * d
    return _wrap(d, shape, "g" if correct else "d")


def var_smd(yi: Any, n1i: Any, n2i: Any) -> Any:
    r"""Large-sample sampling variance of a standardized mean difference.

    .. math:: v = \frac{1}{n_1} + \frac{1}{n_2} + \frac{y^2}{2 (n_1 + n_2)}

    Borenstein et al. (2009), eq. 4.20 (with ``n1 + n2`` in the last denominator, as
    metafor's ``"SMD"`` with ``vtype="LS"``, which plugs in g for ``y``).

    Parameters
    ----------
    yi : float, array-like or pandas.Series
        Standardized mean differences (d or g).
    n1i, n2i : float, array-like or pandas.Series
        Group sizes (positive).

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Sampling variances.

    References
    ----------
    Hedges, L. V. (1981). Distribution theory for Glass's estimator of effect size and
    related estimators. *Journal of Educational Statistics, 6*, 107-128.
    Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009).
    *Introduction to meta-analysis*. Wiley (chapters 4-7).
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.

    Examples
    --------
    >>> round(var_smd(0.5, 20, 20), 6)
    0.103125
    """
    _required(yi=yi, n1i=n1i, n2i=n2i)
    arrs, shape = _gather(yi=yi, n1i=n1i, n2i=n2i)
    _check_n("n1i", arrs["n1i"])
    _check_n("n2i", arrs["n2i"])
    with np.errstate(all="ignore"):
        v = _representable("sampling variance", _var_smd(arrs["yi"], arrs["n1i"], arrs["n2i"]), positive=True)
    return _wrap(v, shape, "vi")


def _var_smd(y: np.ndarray, n1: np.ndarray, n2: np.ndarray) -> np.ndarray:
    return 1 / n1 + 1 / n2 + y**2 / (2 * (n1 + n2))


# --------------------------------------------------------------------------------------
# conversions between d, r and log odds ratio
# --------------------------------------------------------------------------------------
def d_to_r(d: Any, n1i: Any = None, n2i: Any = None) -> Any:
    r"""Convert a standardized mean difference to a (point-biserial) correlation.

    .. math:: r = \frac{d}{\sqrt{d^2 + a}}, \qquad a = \frac{(n_1 + n_2)^2}{n_1 n_2}

    with ``a = 4`` when the group sizes are not given (equal groups). Borenstein et al.
    (2009), eq. 7.5. Its variance is :func:`convert_effect_sizes`.

    Parameters
    ----------
    d : float, array-like or pandas.Series
        Standardized mean differences.
    n1i, n2i : array-like, optional
        Group sizes (both or neither).

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Correlations.

    References
    ----------
    Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009).
    *Introduction to meta-analysis*. Wiley (chapters 4-7).

    Examples
    --------
    >>> round(d_to_r(0.5), 6)
    0.242536
    >>> round(d_to_r(0.5, 20, 80), 6)
    0.196116
    """
    _required(d=d)
    arrs, shape = _gather(d=d, n1i=n1i, n2i=n2i)
    a = _group_factor(arrs["n1i"], arrs["n2i"])
    return _wrap(arrs["d"] / np.hypot(arrs["d"], np.sqrt(a)), shape, "r")


def r_to_d(r: Any, n1i: Any = None, n2i: Any = None) -> Any:
    r"""Convert a (point-biserial) correlation to a standardized mean difference.

    .. math:: d = \frac{\sqrt{a}\, r}{\sqrt{1 - r^2}}, \qquad a = \frac{(n_1 + n_2)^2}{n_1 n_2}

    i.e. ``d = 2r / sqrt(1 - r^2)`` for equal groups (Borenstein et al. 2009, eq. 7.3);
    the exact inverse of :func:`d_to_r`.

    Parameters
    ----------
    r : float, array-like or pandas.Series
        Correlations, strictly between -1 and 1.
    n1i, n2i : array-like, optional
        Group sizes (both or neither).

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Standardized mean differences.

    References
    ----------
    Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009).
    *Introduction to meta-analysis*. Wiley (chapters 4-7).

    Examples
    --------
    >>> round(r_to_d(0.242535625), 6)
    0.5
    """
    _required(r=r)
    arrs, shape = _gather(r=r, n1i=n1i, n2i=n2i)
    _check_r("r", arrs["r"])
    a = _group_factor(arrs["n1i"], arrs["n2i"])
    return _wrap(np.sqrt(a) * arrs["r"] / np.sqrt(1 - arrs["r"] ** 2), shape, "d")


_LOGIT_SCALE = np.pi / np.sqrt(3.0)


def d_to_log_odds_ratio(d: Any) -> Any:
    r"""Convert a standardized mean difference to a log odds ratio (logistic method).

    .. math:: \ln OR = \frac{\pi}{\sqrt 3}\, d, \qquad v_{\ln OR} = \frac{\pi^2}{3} v_d

    Hasselblad & Hedges (1995); Chinn (2000); Borenstein et al. (2009), eq. 7.2;
    metafor's measure ``"D2ORL"``.

    Parameters
    ----------
    d : float, array-like or pandas.Series
        Standardized mean differences.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Log odds ratios.

    References
    ----------
    Hasselblad, V., & Hedges, L. V. (1995). Meta-analysis of screening and diagnostic
    tests. *Psychological Bulletin, 117*, 167-178.
    Chinn, S. (2000). A simple method for converting an odds ratio to effect size for use
    in meta-analysis. *Statistics in Medicine, 19*, 3127-3131.
    Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009).
    *Introduction to meta-analysis*. Wiley (chapters 4-7).
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.

    Examples
    --------
    >>> round(d_to_log_odds_ratio(0.5), 6)
    0.9069
    """
    _required(d=d)
    arrs, shape = _gather(d=d)
    with np.errstate(all="ignore"):
        return _wrap(_representable("log odds ratio", arrs["d"] * _LOGIT_SCALE), shape, "logOR")


def log_odds_ratio_to_d(log_or: Any) -> Any:
    r"""Convert a log odds ratio to a standardized mean difference (logistic method).

    .. math:: d = \frac{\sqrt 3}{\pi} \ln OR, \qquad v_d = \frac{3}{\pi^2} v_{\ln OR}

    Hasselblad & Hedges (1995); Chinn (2000); Borenstein et al. (2009), eq. 7.1.

    Parameters
    ----------
    log_or : float, array-like or pandas.Series
        Log odds ratios.

    Returns
    -------
    float, numpy.ndarray or pandas.Series
        Standardized mean differences.

    References
    ----------
    Hasselblad, V., & Hedges, L. V. (1995). Meta-analysis of screening and diagnostic
    tests. *Psychological Bulletin, 117*, 167-178.
    Chinn, S. (2000). A simple method for converting an odds ratio to effect size for use
    in meta-analysis. *Statistics in Medicine, 19*, 3127-3131.
    Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009).
    *Introduction to meta-analysis*. Wiley (chapters 4-7).

    Examples
    --------
    >>> round(log_odds_ratio_to_d(np.log(2.0)), 6)
    0.382152
    """
    _required(log_or=log_or)
    arrs, shape = _gather(log_or=log_or)
    return _wrap(arrs["log_or"] / _LOGIT_SCALE, shape, "d")


def convert_effect_sizes(
    yi: Any, vi: Any, *, source: str, target: str, n1i: Any = None, n2i: Any = None
) -> EffectSizes:
    r"""Convert effect sizes and their sampling variances between scales.

    Scales: ``"r"`` (correlation), ``"z"`` (Fisher's z), ``"d"`` (Cohen's d), ``"g"``
    (Hedges' g) and ``"logOR"`` (log odds ratio). Conversions go through d (r and z
    directly between themselves); variances follow by the delta method:

    - r <-> z: :math:`z = \operatorname{artanh} r`, :math:`v_z = v_r / (1 - r^2)^2`
    - r <-> d: :math:`d = \sqrt a\, r / \sqrt{1 - r^2}`, :math:`v_d = a\, v_r / (1 - r^2)^3`;
      :math:`r = d / \sqrt{d^2 + a}`, :math:`v_r = a^2 v_d / (d^2 + a)^3`
      (Borenstein et al. 2009, eq. 7.3-7.6; ``a = (n1 + n2)^2 / (n1 n2)``, 4 if no sizes)
    - d <-> logOR: factor :math:`\pi/\sqrt 3`, variance factor :math:`\pi^2/3`
      (Hasselblad & Hedges 1995; Chinn 2000)
    - d <-> g: factor :math:`J(n_1 + n_2 - 2)`, variance factor :math:`J^2` (Hedges 1981;
      needs ``n1i`` and ``n2i``)

    Parameters
    ----------
    yi : float, array-like or pandas.Series
        Effect sizes on the ``source`` scale.
    vi : float, array-like or pandas.Series
        Their sampling variances (positive).
    source, target : {"r", "z", "d", "g", "logOR"}
        Scales to convert from and to.
    n1i, n2i : array-like, optional
        Group sizes: used for d <-> r (equal groups if absent) and required for g.

    Returns
    -------
    EffectSizes
        ``yi`` and ``vi`` on the ``target`` scale (``measure=target``).

    References
    ----------
    Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009).
    *Introduction to meta-analysis*. Wiley (chapters 4-7).
    Chinn, S. (2000). A simple method for converting an odds ratio to effect size for use
    in meta-analysis. *Statistics in Medicine, 19*, 3127-3131.
    Hasselblad, V., & Hedges, L. V. (1995). Meta-analysis of screening and diagnostic
    tests. *Psychological Bulletin, 117*, 167-178.
    Hedges, L. V. (1981). Distribution theory for Glass's estimator of effect size and
    related estimators. *Journal of Educational Statistics, 6*, 107-128.

    Examples
    --------
    >>> d = cohens_d(55, 47, 155, 75, 64, 156)
    >>> es = convert_effect_sizes(d, var_smd(d, 155, 156), source="d", target="logOR")
    >>> round(float(es.yi[0]), 6), round(float(es.vi[0]), 6)
    (-0.645775, 0.042984)
    """
    check_choice("source", source, _SCALES)
    check_choice("target", target, _SCALES)
    _required(yi=yi, vi=vi)
    arrs, shape = _gather(yi=yi, vi=vi, n1i=n1i, n2i=n2i)
    y, v = arrs["yi"], arrs["vi"]
    check_positive("vi", v, "a positive variance")
    n1, n2 = arrs["n1i"], arrs["n2i"]
    if source in ("r",):
        _check_r("yi", y)
    if "g" in (source, target):
        if n1 is None or n2 is None:
            raise ValueError("Converting to or from Hedges' g needs `n1i` and `n2i`.")
        _check_two_groups(n1, n2)

    def a_factor() -> np.ndarray:
        return _group_factor(n1, n2)

    with np.errstate(all="ignore"):  # extreme inputs are refused below, not returned as inf/0/NaN
        # to d (or stay on r/z when both ends are correlations)
        scale = source
        if scale == "z" and target != "z":
            y, v = np.tanh(y), v * (1 - np.tanh(y) ** 2) ** 2
            scale = "r"
        if scale == "r" and target == "z":
            y, v = np.arctanh(y), v / (1 - y**2) ** 2
            scale = "z"
        if scale == "r" and target != "r":
            a = a_factor()
            y, v = np.sqrt(a) * y / np.sqrt(1 - y**2), a * v / (1 - y**2) ** 3
            scale = "d"
        if scale == "g":
            j = _j(n1 + n2 - 2)
            y, v = y / j, v / j**2
            scale = "d"
        if scale == "logOR":
            y, v = y / _LOGIT_SCALE, v / _LOGIT_SCALE**2
            scale = "d"
        # from d
        if scale == "d" and target == "g":
            j = _j(n1 + n2 - 2)
            y, v = j * y, j**2 * v
        elif scale == "d" and target == "logOR":
            y, v = y * _LOGIT_SCALE, v * _LOGIT_SCALE**2
        elif scale == "d" and target in ("r", "z"):
            a = a_factor()
            y, v = y / np.hypot(y, np.sqrt(a)), a**2 * v / (y**2 + a) ** 3
            if target == "z":
                y, v = np.arctanh(y), v / (1 - y**2) ** 2
    _representable(f"converted effect size ({source} to {target})", y)
    _representable(f"converted sampling variance ({source} to {target})", v, positive=True)
    shape = _Shape(shape.index, False)
    return EffectSizes(_wrap(y, shape, "yi"), _wrap(v, shape, "vi"), target)


# --------------------------------------------------------------------------------------
# 2x2 tables
# --------------------------------------------------------------------------------------
def _table(ai: Any, bi: Any, ci: Any, di: Any, n1i: Any = None, n2i: Any = None):
    """Validate a 2x2 table given as (ai, bi, ci, di) or (ai, n1i, ci, n2i)."""
    if bi is None and n1i is None:
        raise ValueError("Give `bi` (non-events in group 1) or `n1i` (size of group 1).")
    if di is None and n2i is None:
        raise ValueError("Give `di` (non-events in group 2) or `n2i` (size of group 2).")
    arrs, shape = _gather(ai=ai, bi=bi, ci=ci, di=di, n1i=n1i, n2i=n2i)
    for name in ("ai", "bi", "ci", "di", "n1i", "n2i"):
        if arrs[name] is not None:
            _check_counts(name, arrs[name])
    for ev, non, n, grp in (("ai", "bi", "n1i", 1), ("ci", "di", "n2i", 2)):
        if arrs[n] is not None:
            bad = arrs[ev] > arrs[n]
            if bad.any():
                raise ValueError(f"`{ev}` exceeds `{n}` (events > group size) at {first_bad(bad)}.")
            if arrs[non] is not None:
                bad = arrs[ev] + arrs[non] != arrs[n]
                if bad.any():
                    raise ValueError(f"`{n}` is not `{ev}` + `{non}` at {first_bad(bad)}.")
            else:
                arrs[non] = arrs[n] - arrs[ev]
        bad = arrs[ev] + arrs[non] == 0
        if bad.any():
            raise ValueError(f"Group {grp} has no participants (`{ev}` + `{non}` = 0) at {first_bad(bad)}.")
    return arrs["ai"], arrs["bi"], arrs["ci"], arrs["di"], shape


def _check_add(add: Any) -> float:
    """The continuity correction must be one finite number >= 0."""
    try:
        if isinstance(add, bool) or np.ndim(add) != 0:
            raise TypeError
        value = float(add)
    except (TypeError, ValueError):
        raise ValueError(f"`add` must be a single number >= 0; got {add!r}.") from None
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"`add` must be a single finite number >= 0; got {add!r}.")
    return value


def _add_to_cells(a, b, c, d, add: float, to: str):
    check_choice("to", to, _ZERO_RULES)
    add = _check_add(add)
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    if to == "all":
        rows = np.ones_like(zero)
    elif to == "only0":
        rows = zero
    elif to == "if0all":
        rows = np.full_like(zero, zero.any())
    else:
        rows = np.zeros_like(zero)
    inc = np.where(rows, float(add), 0.0)
    return a + inc, b + inc, c + inc, d + inc


def _refuse_undefined(yi: np.ndarray, vi: np.ndarray, what: str, to: str, add: float) -> None:
    bad = ~np.isfinite(yi) | ~np.isfinite(vi) | ~(vi > 0)
    if bad.any():
        raise ValueError(
            f"The {what} is undefined (or has zero variance) at {first_bad(bad)} because of "
            f"zero cells with add={add!r}, to={to!r}; use add > 0 with to='only0' "
            "(metafor's default) or another zero-cell rule."
        )


def _two_by_two(measure: str, a, b, c, d, add: float, to: str):
    a, b, c, d = _add_to_cells(a, b, c, d, add, to)
    n1, n2 = a + b, c + d
    p1, p2 = a / n1, c / n2
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "OR":
            yi = np.log(p1 / (1 - p1)) - np.log(p2 / (1 - p2))
            vi = 1 / a + 1 / b + 1 / c + 1 / d
            what = "log odds ratio"
        elif measure == "RR":
            yi = np.log(p1) - np.log(p2)
            vi = 1 / a - 1 / n1 + 1 / c - 1 / n2
            what = "log risk ratio"
        else:
            yi = p1 - p2
            vi = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
            what = "risk difference"
    _refuse_undefined(yi, vi, what, to, add)
    return yi, vi


_TABLE_DOC = r"""
    Parameters
    ----------
    ai, bi : array-like or pandas.Series
        Events and non-events in group 1 (whole numbers >= 0).
    ci, di : array-like or pandas.Series
        Events and non-events in group 2. Instead of ``bi``/``di`` the group sizes
        ``n1i``/``n2i`` may be given (``bi = n1i - ai``).
    n1i, n2i : array-like, optional
        Group sizes (checked against ``ai + bi`` when both are given).
    add : float, default 0.5
        Continuity correction added to the cells.
    to : {"only0", "all", "if0all", "none"}, default "only0"
        Which tables get ``add``: with metafor's default ``"only0"`` it is added to all
        four cells of each table that has a zero cell (and only those); ``"all"`` adds it
        to every table; ``"if0all"`` to every table when any has a zero cell; ``"none"``
        never. A table whose effect or variance is still undefined (e.g. a zero cell with
        ``to="none"``) raises a ``ValueError`` naming its position.

    Returns
    -------
    EffectSizes
        ``yi`` and ``vi`` (pandas Series with the input's index when given pandas).

    References
    ----------
    Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009).
    *Introduction to meta-analysis*. Wiley (chapters 4-7).
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.
"""


def _table_measure(measure: str, ai, bi, ci, di, n1i, n2i, add: float, to: str) -> EffectSizes:
    """One 2x2-table measure (OR, RR, RD) as an EffectSizes with the input's index."""
    a, b, c, d, shape = _table(ai, bi, ci, di, n1i, n2i)
    yi, vi = _two_by_two(measure, a, b, c, d, add, to)
    shape = _Shape(shape.index, False)
    return EffectSizes(_wrap(yi, shape, "yi"), _wrap(vi, shape, "vi"), measure)


def log_odds_ratio(
    ai: Any, bi: Any = None, ci: Any = None, di: Any = None, *, n1i: Any = None, n2i: Any = None,
    add: float = 0.5, to: str = "only0",
) -> EffectSizes:
    r"""Log odds ratio of a 2x2 table and its sampling variance (Woolf).

    .. math::

        \ln OR = \ln\frac{a\,d}{b\,c}, \qquad v = \frac1a + \frac1b + \frac1c + \frac1d

    after the continuity correction below. Borenstein et al. (2009), eq. 5.8-5.9;
    metafor's ``"OR"`` (Viechtbauer 2010).
    """
    return _table_measure("OR", ai, bi, ci, di, n1i, n2i, add, to)


def log_risk_ratio(
    ai: Any, bi: Any = None, ci: Any = None, di: Any = None, *, n1i: Any = None, n2i: Any = None,
    add: float = 0.5, to: str = "only0",
) -> EffectSizes:
    r"""Log risk ratio of a 2x2 table and its sampling variance.

    .. math::

        \ln RR = \ln\frac{a / n_1}{c / n_2}, \qquad
        v = \frac1a - \frac1{n_1} + \frac1c - \frac1{n_2}

    after the continuity correction below. Borenstein et al. (2009), eq. 5.1-5.2;
    metafor's ``"RR"`` (Viechtbauer 2010).
    """
    return _table_measure("RR", ai, bi, ci, di, n1i, n2i, add, to)


def risk_difference(
    ai: Any, bi: Any = None, ci: Any = None, di: Any = None, *, n1i: Any = None, n2i: Any = None,
    add: float = 0.5, to: str = "only0",
) -> EffectSizes:
    r"""Risk difference of a 2x2 table and its sampling variance.

    .. math::

        RD = \frac{a}{n_1} - \frac{c}{n_2}, \qquad
        v = \frac{p_1 (1 - p_1)}{n_1} + \frac{p_2 (1 - p_2)}{n_2}

    after the continuity correction below (metafor applies it to RD too).
    Borenstein et al. (2009), eq. 5.13-5.14; metafor's ``"RD"`` with ``vtype="LS"``.
    """
    return _table_measure("RD", ai, bi, ci, di, n1i, n2i, add, to)


log_odds_ratio.__doc__ += _TABLE_DOC + r"""
    Examples
    --------
    >>> es = log_odds_ratio([4, 0], [119, 116], [11, 3], [128, 114])
    >>> es.yi.round(4).tolist(), es.vi.round(4).tolist()
    ([-0.9387, -1.9632], [0.3571, 2.303])
"""
log_risk_ratio.__doc__ += _TABLE_DOC + r"""
    Examples
    --------
    >>> es = log_risk_ratio([4, 0], n1i=[123, 116], ci=[11, 3], n2i=[139, 117])
    >>> es.yi.round(4).tolist()
    [-0.8893, -1.9374]
"""
risk_difference.__doc__ += _TABLE_DOC + r"""
    Examples
    --------
    >>> es = risk_difference([4], [119], [11], [128])
    >>> round(float(es.yi[0]), 4), round(float(es.vi[0]), 6)
    (-0.0466, 0.00078)
"""


# --------------------------------------------------------------------------------------
# the escalc-like entry point
# --------------------------------------------------------------------------------------
_ALLOWED: dict[str, set[str]] = {
    "SMD": {"m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i", "ti", "di"},
    "MD": {"m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"},
    "OR": {"ai", "bi", "ci", "di", "n1i", "n2i"},
    "RR": {"ai", "bi", "ci", "di", "n1i", "n2i"},
    "RD": {"ai", "bi", "ci", "di", "n1i", "n2i"},
    "COR": {"ri", "ni"},
    "ZCOR": {"ri", "ni"},
    "SMCR": {"m1i", "m2i", "sd1i", "sd2i", "ni", "ri"},
    "SMCC": {"m1i", "m2i", "sd1i", "sd2i", "ni", "ri"},
    "SMDH": {"m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"},
    "ROM": {"m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"},
    "RPB": {"m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"},
    "PR": {"xi", "mi", "ni"},
    "PLO": {"xi", "mi", "ni"},
    "UCOR": {"ri", "ni"},
    "PCOR": {"ti", "ni", "mi"},
    "ZPCOR": {"ti", "ni", "mi"},
    "SPCOR": {"ti", "ni", "mi", "r2i"},
}


_MORE_MEASURES = ("SMDH", "ROM", "RPB", "PR", "PLO", "UCOR", "PCOR", "ZPCOR", "SPCOR")


def _require(measure: str, given: dict[str, Any], names: tuple[str, ...]) -> None:
    missing = [n for n in names if given.get(n) is None]
    if missing:
        raise ValueError(
            f"measure={measure!r} needs {', '.join(f'`{n}`' for n in missing)}."
        )


def _compute(measure: str, given: dict[str, Any], add: float, to: str):
    """The arithmetic of :func:`compute_effect_sizes` on validated arguments."""
    if measure in _MORE_MEASURES:
        return _compute_more(measure, given, add, to)
    if measure in ("OR", "RR", "RD"):
        _require(measure, given, ("ai", "ci"))
        a, b, c, d, shape = _table(given.get("ai"), given.get("bi"), given.get("ci"),
                                   given.get("di"), given.get("n1i"), given.get("n2i"))
        yi, vi = _two_by_two(measure, a, b, c, d, add, to)
    elif measure in ("SMD", "MD"):
        summaries = ("m1i", "sd1i", "m2i", "sd2i")
        if measure == "SMD" and ("ti" in given or "di" in given):
            if "ti" in given and "di" in given:
                raise ValueError("Give `ti` or `di` (Cohen's d) for measure='SMD', not both.")
            extra = [n for n in summaries if n in given]
            if extra:
                raise ValueError(
                    f"measure='SMD' takes either means and SDs or `ti`/`di`; got both "
                    f"({', '.join(f'`{n}`' for n in extra)})."
                )
            src = "ti" if "ti" in given else "di"
            _require(measure, given, ("n1i", "n2i"))
            arrs, shape = _gather(**{src: given[src]}, n1i=given["n1i"], n2i=given["n2i"])
            _check_two_groups(arrs["n1i"], arrs["n2i"])
            dval = arrs[src]
            if src == "ti":
                dval = dval * np.sqrt(1 / arrs["n1i"] + 1 / arrs["n2i"])
        else:
            _require(measure, given, ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"))
            arrs, shape = _gather(**{k: given[k] for k in ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")})
            if measure == "SMD":
                _check_two_groups(arrs["n1i"], arrs["n2i"])
            dval = _cohens_d(arrs)
        n1, n2 = arrs["n1i"], arrs["n2i"]
        if measure == "SMD":
            yi = _j(n1 + n2 - 2) * dval
            vi = _var_smd(yi, n1, n2)
        else:
            yi = arrs["m1i"] - arrs["m2i"]
            vi = arrs["sd1i"] ** 2 / n1 + arrs["sd2i"] ** 2 / n2
    elif measure in ("COR", "ZCOR"):
        _require(measure, given, ("ri", "ni"))
        arrs, shape = _gather(ri=given["ri"], ni=given["ni"])
        r, n = arrs["ri"], arrs["ni"]
        _check_r("ri", r)
        if measure == "COR":
            _check_n("ni", n, 1, "for the variance of a correlation")
            yi, vi = r.copy(), (1 - r**2) ** 2 / (n - 1)
        else:
            _check_n("ni", n, 3, "for the variance of Fisher's z")
            yi, vi = np.arctanh(r), 1 / (n - 3)
    else:  # SMCR, SMCC
        need = ("m1i", "m2i", "sd1i", "ni", "ri") + (("sd2i",) if measure == "SMCC" else ())
        _require(measure, given, need)
        arrs, shape = _gather(**{k: given[k] for k in need})
        n, r = arrs["ni"], arrs["ri"]
        _check_n("ni", n, 2, "for Hedges' correction J(ni - 1)")
        _check_r("ri", r)
        for name in ("sd1i", "sd2i"):
            if name in arrs:
                check_positive(name, arrs[name], "a positive standard deviation")
        j = _j(n - 1)
        change = arrs["m1i"] - arrs["m2i"]
        if measure == "SMCR":
            yi = j * change / arrs["sd1i"]
            vi = 2 * (1 - r) / n + yi**2 / (2 * n)
        else:
            s1, s2 = arrs["sd1i"], arrs["sd2i"]
            top = np.maximum(s1, s2)  # relative to the larger SD: no overflow/underflow at extreme units
            u1, u2 = s1 / top, s2 / top
            sd_change = top * np.sqrt(np.maximum(u1**2 + u2**2 - 2 * r * u1 * u2, 0.0))
            yi = j * change / sd_change
            vi = 1 / n + yi**2 / (2 * n)

    return yi, vi, shape


def compute_effect_sizes(
    measure: str,
    *,
    ai: Any = None,
    bi: Any = None,
    ci: Any = None,
    di: Any = None,
    n1i: Any = None,
    n2i: Any = None,
    m1i: Any = None,
    m2i: Any = None,
    sd1i: Any = None,
    sd2i: Any = None,
    ti: Any = None,
    ri: Any = None,
    ni: Any = None,
    xi: Any = None,
    mi: Any = None,
    r2i: Any = None,
    data: pd.DataFrame | None = None,
    add: float = 0.5,
    to: str = "only0",
    na_action: str = "fail",
    append: bool = False,
) -> EffectSizes | pd.DataFrame:
    r"""Compute effect sizes and sampling variances, in the spirit of ``metafor::escalc``.

    Arguments carry metafor's names and meanings; any of them may be the name of a
    column of ``data`` (as escalc's ``data=`` argument). Formulas (``J`` is Hedges'
    exact correction :func:`hedges_correction`; variances are metafor's ``vtype="LS"``):

    - ``"SMD"`` (``m1i, sd1i, n1i, m2i, sd2i, n2i``; or ``ti`` with ``n1i, n2i``; or
      ``di`` = Cohen's d with ``n1i, n2i``): :math:`y = J(n_1+n_2-2)\,(\bar x_1-\bar x_2)/s_p`,
      :math:`v = 1/n_1 + 1/n_2 + y^2 / (2(n_1+n_2))` (Hedges 1981; Borenstein et al.
      2009, ch. 4). From t: :math:`d = t\sqrt{1/n_1 + 1/n_2}`.
    - ``"MD"``: :math:`y = \bar x_1 - \bar x_2`, :math:`v = s_1^2/n_1 + s_2^2/n_2`.
    - ``"OR"``, ``"RR"``, ``"RD"`` (``ai, bi, ci, di`` or ``ai, n1i, ci, n2i``): see
      :func:`log_odds_ratio`, :func:`log_risk_ratio`, :func:`risk_difference`.
      Zero cells: by default (``add=0.5, to="only0"``, metafor's rule) 1/2 is added to
      all four cells of each table that has a zero cell, tables without zeros are left
      alone; double-zero tables are kept (metafor's ``drop00=FALSE``).
    - ``"COR"`` (``ri, ni``): :math:`y = r`, :math:`v = (1-r^2)^2/(n-1)`.
    - ``"ZCOR"`` (``ri, ni``): :math:`y = \operatorname{artanh} r`, :math:`v = 1/(n-3)`.
    - ``"SMCR"`` (``m1i`` post mean, ``m2i`` pre mean, ``sd1i`` pre SD, ``ni``, ``ri`` the
      pre-post correlation): :math:`y = J(n-1)\,(\bar x_1 - \bar x_2)/s_1`,
      :math:`v = 2(1-r)/n + y^2/(2n)` (Becker 1988; Morris 2008).
    - ``"SMCC"`` (as SMCR plus ``sd2i`` post SD): :math:`s_D = \sqrt{s_1^2 + s_2^2 - 2 r s_1 s_2}`,
      :math:`y = J(n-1)\,(\bar x_1 - \bar x_2)/s_D`, :math:`v = 1/n + y^2/(2n)`
      (Gibbons et al. 1993; Morris 2008).
    - ``"SMDH"``, ``"ROM"``, ``"RPB"`` (``m1i, sd1i, n1i, m2i, sd2i, n2i``): see
      :func:`smd_heteroscedastic`, :func:`log_ratio_of_means`,
      :func:`point_biserial_correlation` (``vtype="ST"``).
    - ``"PR"``, ``"PLO"`` (``xi`` with ``ni`` or ``mi`` = non-events; ``add``/``to`` as for
      2x2 tables): see :func:`proportion`, :func:`logit_proportion`.
    - ``"UCOR"`` (``ri, ni``): see :func:`unbiased_correlation` (``vtype="LS"``).
    - ``"PCOR"``, ``"ZPCOR"`` (``ti, ni, mi`` = number of predictors) and ``"SPCOR"``
      (also ``r2i``): see :func:`partial_correlation`, :func:`partial_correlation_z`,
      :func:`semipartial_correlation`.

    Viechtbauer (2010) documents these in metafor's ``escalc``; the fixtures of
    ``tests/oracles/escalc.R`` check every measure against metafor 3.8.1.

    Parameters
    ----------
    measure : {"SMD", "MD", "OR", "RR", "RD", "COR", "ZCOR", "SMCR", "SMCC", "SMDH", "ROM", "RPB", "PR", "PLO", "UCOR", "PCOR", "ZPCOR", "SPCOR"}
        The effect size, named as in metafor (the keys of ``MEASURES``).
    ai, bi, ci, di : array-like, str or pandas.Series, optional
        2x2 cell counts (events/non-events in groups 1 and 2); for ``"SMD"``, ``di`` is
        Cohen's d as in metafor.
    n1i, n2i : array-like, str or pandas.Series, optional
        Group sizes.
    m1i, m2i, sd1i, sd2i : array-like, str or pandas.Series, optional
        Means and standard deviations (groups 1 and 2; for SMCR/SMCC post and pre
        means, pre and post SDs).
    ti : array-like, str or pandas.Series, optional
        Independent-groups t statistics (``"SMD"``); t statistics of a regression
        coefficient (``"PCOR"``, ``"ZPCOR"``, ``"SPCOR"``).
    ri : array-like, str or pandas.Series, optional
        Correlations (``"COR"``, ``"ZCOR"``) or pre-post correlations (SMCR/SMCC).
    ni : array-like, str or pandas.Series, optional
        Sample sizes (correlations, pre/post designs, proportions, regressions).
    xi, mi : array-like, str or pandas.Series, optional
        Events and non-events (``"PR"``, ``"PLO"``); for ``"PCOR"``, ``"ZPCOR"`` and
        ``"SPCOR"``, ``mi`` is the number of predictors in the regression (as metafor).
    r2i : array-like, str or pandas.Series, optional
        R-squared of the regression model (``"SPCOR"``).
    data : pandas.DataFrame, optional
        Where string arguments are looked up as column names; its index labels the result.
    add : float, default 0.5
        Continuity correction for 2x2 tables and proportions.
    to : {"only0", "all", "if0all", "none"}, default "only0"
        Which 2x2 tables get ``add`` (see above).
    na_action : {"fail", "omit"}, default "fail"
        Missing inputs (NaN/None): ``"fail"`` refuses them, listing the arguments and rows
        (``data`` index labels, else 0-based positions); ``"omit"`` drops those rows with a
        UserWarning that lists them and records them in ``EffectSizes.dropped`` (and
        ``dropped_kind``: "index labels" or "positions"), as metafor's ``na.omit``.

    Inputs so large or small that a result is not a finite double (a variance of 1e-400)
    are refused with a message about their scale, never returned as inf, 0 or NaN.
    append : bool, default False
        If True, return ``data`` with the columns ``yi`` and ``vi`` joined (as escalc's
        ``append=TRUE``; results as data). Needs ``data`` without ``yi``/``vi`` columns.

    Returns
    -------
    EffectSizes or pandas.DataFrame
        ``.yi`` and ``.vi`` (pandas Series when ``data`` or Series were given, with that
        index), ``.to_frame()`` and ``.summary()``; with ``append=True`` a copy of
        ``data`` with ``yi`` and ``vi`` as its last columns.

    Raises
    ------
    ValueError
        For an unknown measure, missing or unused arguments, a column not in ``data``,
        and bad values (named with their 0-based position).

    References
    ----------
    Becker, B. J. (1988). Synthesizing standardized mean-change measures. *British Journal
    of Mathematical and Statistical Psychology, 41*, 257-278.
    Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009).
    *Introduction to meta-analysis*. Wiley (chapters 4-7).
    Gibbons, R. D., Hedeker, D. R., & Davis, J. M. (1993). Estimation of effect size from a
    series of experiments involving paired comparisons. *Journal of Educational Statistics,
    18*, 271-279.
    Hedges, L. V. (1981). Distribution theory for Glass's estimator of effect size and
    related estimators. *Journal of Educational Statistics, 6*, 107-128.
    Morris, S. B. (2008). Estimating effect sizes from pretest-posttest-control group
    designs. *Organizational Research Methods, 11*, 364-386.
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.

    Examples
    --------
    >>> dat = pd.DataFrame({"n1i": [155, 31], "m1i": [55, 27], "sd1i": [47, 7],
    ...                     "n2i": [156, 32], "m2i": [75, 29], "sd2i": [64, 4]})
    >>> es = compute_effect_sizes("SMD", m1i="m1i", sd1i="sd1i", n1i="n1i",
    ...                           m2i="m2i", sd2i="sd2i", n2i="n2i", data=dat)
    >>> es.to_frame().round(4).values.tolist()
    [[-0.3552, 0.0131], [-0.3479, 0.0645]]
    >>> dat.join(es.to_frame()).shape
    (2, 8)
    >>> compute_effect_sizes("SMD", m1i="m1i", sd1i="sd1i", n1i="n1i", m2i="m2i",
    ...                      sd2i="sd2i", n2i="n2i", data=dat, append=True).columns[-2:].tolist()
    ['yi', 'vi']
    """
    check_choice("measure", measure, tuple(MEASURES))
    from analysis._checks import check_na_action

    na_action = check_na_action(na_action)
    raw = dict(ai=ai, bi=bi, ci=ci, di=di, n1i=n1i, n2i=n2i, m1i=m1i, m2i=m2i,
               sd1i=sd1i, sd2i=sd2i, ti=ti, ri=ri, ni=ni)
    raw.update(xi=xi, mi=mi, r2i=r2i)
    given = {k: v for k, v in raw.items() if v is not None}
    unused = sorted(set(given) - _ALLOWED[measure])
    if unused:
        raise ValueError(
            f"measure={measure!r} does not use {', '.join(f'`{n}`' for n in unused)}."
        )
    index = None
    if data is not None:
        if not isinstance(data, pd.DataFrame):
            raise ValueError(f"`data` must be a pandas DataFrame, got {type(data).__name__}.")
        index = data.index
        for k, v in list(given.items()):
            if isinstance(v, str):
                if v not in data.columns:
                    raise ValueError(
                        f"`{k}`: there is no column {v!r} in `data`.{suggest_name(v, data.columns)} "
                        f"Its columns are: {', '.join(map(str, list(data.columns)[:20]))}."
                    )
                given[k] = data[v]
            elif isinstance(v, pd.Series):
                given[k] = v
            elif np.ndim(v) != 0:
                arr = np.asarray(v)
                if arr.ndim == 1 and arr.shape[0] != len(data):
                    raise ValueError(
                        f"`{k}` has length {arr.shape[0]} but `data` has {len(data)} rows."
                    )
                given[k] = pd.Series(arr, index=data.index)
            else:
                given[k] = pd.Series(np.full(len(data), v), index=data.index)
    else:
        for k, v in given.items():
            if isinstance(v, str):
                raise ValueError(f"`{k}` is the string {v!r}; pass `data=` to refer to a column.")

    columns = {k: v for k, v in raw.items() if isinstance(v, str) and data is not None}
    given, index, dropped, dropped_kind = _na_rows(given, index, columns, na_action)
    try:
        with np.errstate(all="ignore"):  # results that are not finite doubles are refused just below
            yi, vi, shape = _compute(measure, given, add, to)
        _representable(f"{measure} effect size", yi)
        _representable(f"{measure} sampling variance", vi, positive=True)
    except ValueError as err:
        named = [k for k in columns if f"`{k}`" in str(err)]
        if not named:
            raise
        where = ", ".join(f"`{k}` is column {columns[k]!r}" for k in named)
        raise ValueError(f"{err} ({where} of `data`; positions count rows from 0.)") from None

    if index is not None:
        shape = _Shape(index, False)
    else:
        shape = _Shape(shape.index, False)
    result = EffectSizes(_wrap(yi, shape, "yi"), _wrap(vi, shape, "vi"), measure, dropped=tuple(dropped),
                         dropped_kind=dropped_kind)
    if not isinstance(append, (bool, np.bool_)):
        raise ValueError(f"`append` must be True or False, got {append!r}.")
    if not append:
        return result
    # append=True (issue 16): the input data with yi and vi joined, as escalc(append=TRUE);
    # rows dropped by na_action="omit" keep their place with yi = vi = NaN.
    if data is None:
        raise ValueError("`append=True` needs `data` (the columns are joined to it).")
    clash = [c for c in ("yi", "vi") if c in data.columns]
    if clash:
        raise ValueError(f"`append=True`: `data` already has column(s) {clash}; rename or drop them.")
    if dropped:
        kept = data.index.drop(list(dropped))
        return data.assign(yi=pd.Series(np.asarray(yi, dtype=float), index=kept),
                           vi=pd.Series(np.asarray(vi, dtype=float), index=kept))
    return data.assign(yi=np.asarray(yi, dtype=float), vi=np.asarray(vi, dtype=float))


def _na_rows(given: dict[str, Any], index: pd.Index | None, columns: dict[str, str], na_action: str):
    """metafor's na.action for :func:`compute_effect_sizes`: refuse or drop rows with missing inputs."""
    masks = {}
    for k, v in given.items():
        if isinstance(v, (str, bytes, dict)) or np.ndim(v) != 1:
            continue
        arr = v.to_numpy() if isinstance(v, pd.Series) else np.asarray(v)
        if arr.dtype.kind == "f":
            masks[k] = np.isnan(arr)
        elif arr.dtype.kind == "O":
            masks[k] = pd.isna(pd.Series(arr, dtype=object)).to_numpy(dtype=bool)
    lengths = {m.shape[0] for m in masks.values()}
    if not masks or len(lengths) != 1 or (index is not None and lengths != {len(index)}):
        return given, index, [], ""  # nothing missing, or a length error that _gather reports
    n = lengths.pop()
    miss = np.zeros(n, bool)
    for m in masks.values():
        miss |= m
    if not miss.any():
        return given, index, [], ""
    series_index = index if index is not None else next(
        (v.index for v in given.values() if isinstance(v, pd.Series)), None)
    if series_index is not None:
        labels, kind = list(series_index[miss]), "index labels"
    else:
        labels, kind = [int(i) for i in np.flatnonzero(miss)], "positions"
    where = describe_labels(labels, what=kind[:-1] if len(labels) == 1 else kind)
    named = [k for k, m in masks.items() if m.any()]
    args = ", ".join(f"`{k}`" + (f" (column {columns[k]!r})" if k in columns else "") for k in named)
    if na_action == "fail":
        raise ValueError(f"{args} {'has' if len(named) == 1 else 'have'} missing or infinite values at {where} "
                         "(missing: NaN/None). Remove these rows or pass na_action='omit' to drop them "
                         "(metafor's na.omit).")
    warnings.warn(f"na_action='omit': dropped {int(miss.sum())} of {n} rows with missing values in {args} "
                  f"({where}).", UserWarning, stacklevel=3)
    keep = ~miss
    out = {}
    for k, v in given.items():
        if isinstance(v, pd.Series):
            out[k] = v.iloc[keep]
        elif np.ndim(v) == 1 and not isinstance(v, (str, bytes)) and len(v) == n:
            out[k] = np.asarray(v)[keep]
        else:
            out[k] = v
    return out, (None if index is None else index[keep]), labels, kind


# --------------------------------------------------------------------------------------
# more measures of metafor's escalc (issue 14): SMDH, ROM, RPB, PR, PLO, UCOR, PCOR,
# ZPCOR, SPCOR. Written by hand for the reason given in the module docstring; the values
# are metafor 3.8.1's (tests/oracles/escalc_more.R). Later metafor releases changed some
# of them; each docstring says how.
# --------------------------------------------------------------------------------------
__all__ += [
    "smd_heteroscedastic",
    "log_ratio_of_means",
    "point_biserial_correlation",
    "proportion",
    "logit_proportion",
    "unbiased_correlation",
    "partial_correlation",
    "partial_correlation_z",
    "semipartial_correlation",
]

_METAFOR_REF = (
    "Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.\n"
    "    *Journal of Statistical Software, 36*(3), 1-48."
)


def _finish(measure: str, yi: np.ndarray, vi: np.ndarray, shape: _Shape, why: str) -> EffectSizes:
    """Refuse undefined effects or variances <= 0 (never a silent NaN), wrap the result."""
    if yi.size == 0:
        raise ValueError(f"measure={measure!r}: the inputs are empty (no studies).")
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(yi) | ~np.isfinite(vi) | ~(vi > 0)
    if bad.any():
        raise ValueError(
            f"measure={measure!r}: the effect size is undefined or its sampling variance is not "
            f"positive at {first_bad(bad)} ({why})."
        )
    shape = _Shape(shape.index, False)
    return EffectSizes(_wrap(yi, shape, "yi"), _wrap(vi, shape, "vi"), measure)


def _two_group_arrays(m1i, sd1i, n1i, m2i, sd2i, n2i) -> tuple[dict[str, np.ndarray], _Shape]:
    arrs, shape = _gather(m1i=m1i, sd1i=sd1i, n1i=n1i, m2i=m2i, sd2i=sd2i, n2i=n2i)
    for name in ("sd1i", "sd2i"):
        check_positive(name, arrs[name], "a positive standard deviation")
    _check_n("n1i", arrs["n1i"])
    _check_n("n2i", arrs["n2i"])
    return arrs, shape


def _smdh(a: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    n1, n2 = a["n1i"], a["n2i"]
    _check_greater("n1i", n1, 1, "for measure='SMDH' (its variance divides by n1i - 1)")
    _check_greater("n2i", n2, 1, "for measure='SMDH' (its variance divides by n2i - 1)")
    s = np.hypot(a["sd1i"], a["sd2i"]) / np.sqrt(2.0)  # sqrt((s1^2 + s2^2) / 2) without overflow
    q1, q2 = (a["sd1i"] / s) ** 2, (a["sd2i"] / s) ** 2
    j = _j(n1 + n2 - 2)
    yi = j * (a["m1i"] - a["m2i"]) / s
    vi = j**2 * (yi**2 * (q1**2 / (n1 - 1) + q2**2 / (n2 - 1)) / 8 + q1 / (n1 - 1) + q2 / (n2 - 1))
    return yi, vi


def _rom(a: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    for name in ("m1i", "m2i"):
        check_positive(name, a[name], "a positive mean (the log ratio of means needs a ratio scale)")
    yi = np.log(a["m1i"]) - np.log(a["m2i"])
    vi = (a["sd1i"] / a["m1i"]) ** 2 / a["n1i"] + (a["sd2i"] / a["m2i"]) ** 2 / a["n2i"]
    return yi, vi


def _rpb(a: dict[str, np.ndarray], vtype: str) -> tuple[np.ndarray, np.ndarray]:
    check_choice("vtype", vtype, ("ST", "LS", "CS"))
    n1, n2 = a["n1i"], a["n2i"]
    n = n1 + n2
    _check_greater("n1i` + `n2i", n, 2, "for a point-biserial correlation (pooled SD on n1i + n2i - 2 df)")
    m = n - 2
    c = np.maximum(a["sd1i"], a["sd2i"])
    sdp = c * np.sqrt(((n1 - 1) * (a["sd1i"] / c) ** 2 + (n2 - 1) * (a["sd2i"] / c) ** 2) / m)
    d = (a["m1i"] - a["m2i"]) / sdp
    h = m / n1 + m / n2
    yi = d / np.sqrt(d**2 + h)
    if vtype in ("ST", "LS"):
        vi = h**2 / (h + d**2) ** 3 * (1 / n1 + 1 / n2 + d**2 / (2 * n))
    else:
        vi = (1 - yi**2) ** 2 * (n * yi**2 / (4 * n1 * n2) + (2 - 3 * yi**2) / (2 * n))
    return yi, vi


def smd_heteroscedastic(m1i: Any, sd1i: Any, n1i: Any, m2i: Any, sd2i: Any, n2i: Any) -> EffectSizes:
    r"""Standardized mean difference without assuming equal variances (metafor's ``"SMDH"``).

    The difference is standardized by the root mean of the two variances instead of the
    pooled SD (Bonett 2008, 2009), then multiplied by Hedges' correction
    :math:`J(n_1 + n_2 - 2)` (:func:`hedges_correction`):

    .. math::

        s = \sqrt{(s_1^2 + s_2^2)/2}, \qquad y = J\,\frac{\bar x_1 - \bar x_2}{s}, \qquad
        v = J^2\left[\frac{y^2}{8 s^4}\left(\frac{s_1^4}{n_1 - 1} + \frac{s_2^4}{n_2 - 1}\right)
            + \frac{1}{s^2}\left(\frac{s_1^2}{n_1 - 1} + \frac{s_2^2}{n_2 - 1}\right)\right]

    as metafor 3.8.1's ``escalc(measure="SMDH")`` (``vtype="LS"``). From metafor 4.6 on
    the variance drops the factor :math:`J^2` (so newer metafor gives a variance smaller by
    :math:`J^2`, a fraction of a percent for moderate samples). Computed on SD ratios, so
    it is unchanged when all means and SDs are multiplied by the same factor.

    Parameters
    ----------
    m1i, sd1i, n1i : float, array-like or pandas.Series
        Mean, standard deviation (> 0) and size (> 1) of group 1.
    m2i, sd2i, n2i : float, array-like or pandas.Series
        The same for group 2.

    Returns
    -------
    EffectSizes
        ``yi``, ``vi`` with ``measure="SMDH"``.

    References
    ----------
    Bonett, D. G. (2008). Confidence intervals for standardized linear contrasts of
    means. *Psychological Methods, 13*, 99-109.
    Bonett, D. G. (2009). Meta-analytic interval estimation for standardized and
    unstandardized mean differences. *Psychological Methods, 14*, 225-238.
    """
    arrs, shape = _two_group_arrays(m1i, sd1i, n1i, m2i, sd2i, n2i)
    yi, vi = _smdh(arrs)
    return _finish("SMDH", yi, vi, shape, "check the SDs and group sizes")


def log_ratio_of_means(m1i: Any, sd1i: Any, n1i: Any, m2i: Any, sd2i: Any, n2i: Any) -> EffectSizes:
    r"""Log ratio of means, the "response ratio" (metafor's ``"ROM"``).

    .. math::

        y = \ln\frac{\bar x_1}{\bar x_2}, \qquad
        v = \frac{s_1^2}{n_1 \bar x_1^2} + \frac{s_2^2}{n_2 \bar x_2^2}

    (Hedges, Gurevitch & Curtis 1999), as metafor 3.8.1's ``escalc(measure="ROM")``
    (``vtype="LS"``). Only for outcomes on a ratio scale (a true zero), so both means must
    be positive. metafor 4.8 and later add Lajeunesse's (2015) bias correction
    :math:`\tfrac12 (s_1^2/(n_1 \bar x_1^2) - s_2^2/(n_2 \bar x_2^2))` to ``y`` by
    default (``correct=TRUE``); this function returns the uncorrected value, as 3.8.1.
    Back-transform with ``exp`` for the ratio.

    Parameters
    ----------
    m1i, sd1i, n1i : float, array-like or pandas.Series
        Mean (> 0), standard deviation (> 0) and size (> 0) of group 1.
    m2i, sd2i, n2i : float, array-like or pandas.Series
        The same for group 2.

    Returns
    -------
    EffectSizes
        ``yi``, ``vi`` with ``measure="ROM"``.

    References
    ----------
    Hedges, L. V., Gurevitch, J., & Curtis, P. S. (1999). The meta-analysis of response
    ratios in experimental ecology. *Ecology, 80*, 1150-1156.
    Lajeunesse, M. J. (2015). Bias and correction for the log response ratio in
    ecological meta-analysis. *Ecology, 96*, 2056-2063.
    """
    arrs, shape = _two_group_arrays(m1i, sd1i, n1i, m2i, sd2i, n2i)
    yi, vi = _rom(arrs)
    return _finish("ROM", yi, vi, shape, "check the means and SDs")


def point_biserial_correlation(
    m1i: Any, sd1i: Any, n1i: Any, m2i: Any, sd2i: Any, n2i: Any, *, vtype: str = "ST"
) -> EffectSizes:
    r"""Point-biserial correlation from group means, SDs and sizes (metafor's ``"RPB"``).

    With Cohen's d on the pooled SD (:func:`cohens_d`), :math:`m = n_1 + n_2 - 2` and
    :math:`h = m/n_1 + m/n_2`:

    .. math::

        y = \frac{d}{\sqrt{d^2 + h}}, \qquad
        v_{ST} = \frac{h^2}{(h + d^2)^3}\left(\frac1{n_1} + \frac1{n_2} + \frac{d^2}{2n}\right), \qquad
        v_{CS} = (1 - y^2)^2\left(\frac{n y^2}{4 n_1 n_2} + \frac{2 - 3y^2}{2n}\right)

    (Tate 1954; Jacobs & Viechtbauer 2017), as metafor's ``escalc(measure="RPB")``:
    ``vtype="ST"`` (metafor's default ``"LS"`` is the same) when the group sizes were
    fixed by design (stratified sampling, e.g. a randomised trial), ``"CS"`` when they
    arose from cross-sectional (multinomial) sampling.

    Parameters
    ----------
    m1i, sd1i, n1i : float, array-like or pandas.Series
        Mean, standard deviation (> 0) and size (> 0) of group 1.
    m2i, sd2i, n2i : float, array-like or pandas.Series
        The same for group 2 (``n1i + n2i > 2``).
    vtype : {"ST", "LS", "CS"}, default "ST"
        Sampling scheme for the variance (``"LS"`` is an alias of ``"ST"``).

    Returns
    -------
    EffectSizes
        ``yi``, ``vi`` with ``measure="RPB"``.

    References
    ----------
    Tate, R. F. (1954). Correlation between a discrete and a continuous variable.
    Point-biserial correlation. *Annals of Mathematical Statistics, 25*, 603-607.
    Jacobs, P., & Viechtbauer, W. (2017). Estimation of the biserial correlation and its
    sampling variance for use in meta-analysis. *Research Synthesis Methods, 8*, 161-180.
    """
    check_choice("vtype", vtype, ("ST", "LS", "CS"))
    arrs, shape = _two_group_arrays(m1i, sd1i, n1i, m2i, sd2i, n2i)
    yi, vi = _rpb(arrs, vtype)
    return _finish("RPB", yi, vi, shape, "check the SDs and group sizes")


def _proportion_arrays(xi: Any, ni: Any, mi: Any) -> tuple[np.ndarray, np.ndarray, _Shape]:
    """Events and non-events from (xi, ni) or (xi, mi), validated."""
    if xi is None:
        raise ValueError("Give `xi` (the number of events).")
    if ni is None and mi is None:
        raise ValueError("Give `ni` (the group size) or `mi` (the number of non-events) with `xi`.")
    arrs, shape = _gather(xi=xi, ni=ni, mi=mi)
    for name in ("xi", "ni", "mi"):
        if arrs[name] is not None:
            _check_counts(name, arrs[name])
    x = arrs["xi"]
    if arrs["ni"] is not None:
        n = arrs["ni"]
        bad = x > n
        if bad.any():
            raise ValueError(
                f"`xi` exceeds `ni` (events > group size, a proportion above 1) at {first_bad(bad)}."
            )
        if arrs["mi"] is not None:
            bad = x + arrs["mi"] != n
            if bad.any():
                raise ValueError(f"`ni` is not `xi` + `mi` at {first_bad(bad)}.")
        m = n - x
    else:
        m = arrs["mi"]
    bad = x + m == 0
    if bad.any():
        raise ValueError(f"The group has no participants (`xi` + `mi` = 0) at {first_bad(bad)}.")
    return x, m, shape


def _proportion_measure(measure: str, x: np.ndarray, m: np.ndarray, add: Any, to: str):
    check_choice("to", to, _ZERO_RULES)
    add = _check_add(add)
    zero = (x == 0) | (m == 0)
    if to == "all":
        rows = np.ones_like(zero)
    elif to == "only0":
        rows = zero
    elif to == "if0all":
        rows = np.full_like(zero, zero.any())
    else:
        rows = np.zeros_like(zero)
    inc = np.where(rows, add, 0.0)
    x, m = x + inc, m + inc
    n = x + m
    p = x / n
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "PR":
            yi, vi = p, p * (1 - p) / n
        else:
            yi, vi = np.log(x) - np.log(m), 1 / x + 1 / m
    return yi, vi


def proportion(
    xi: Any, ni: Any = None, *, mi: Any = None, add: float = 0.5, to: str = "only0"
) -> EffectSizes:
    r"""Raw proportion of events and its sampling variance (metafor's ``"PR"``).

    .. math:: y = p = \frac{x}{n}, \qquad v = \frac{p(1 - p)}{n}

    after the zero-count rule below, as metafor's ``escalc(measure="PR")`` with its
    defaults (``add=1/2, to="only0"``, ``vtype="LS"``; the corrected counts enter both
    ``y`` and ``v``, metafor's ``addyi=addvi=TRUE``). Raw proportions near 0 or 1 have
    skewed sampling distributions; :func:`logit_proportion` is usually the better scale
    for pooling (Lipsey & Wilson 2001, ch. 3).

    Parameters
    ----------
    xi : float, array-like or pandas.Series
        Numbers of events (whole numbers >= 0).
    ni : float, array-like or pandas.Series, optional
        Group sizes (>= ``xi``). Give ``ni`` or ``mi``.
    mi : float, array-like or pandas.Series, optional
        Numbers of non-events (``ni = xi + mi``; checked when both are given).
    add : float, default 0.5
        Added to the events and the non-events of the groups chosen by ``to``.
    to : {"only0", "all", "if0all", "none"}, default "only0"
        ``"only0"``: groups with no events or no non-events; ``"all"``: every group;
        ``"if0all"``: every group when any has a zero; ``"none"``: never. A proportion of
        0 or 1 left uncorrected has variance 0 and raises a ``ValueError``.

    Returns
    -------
    EffectSizes
        ``yi``, ``vi`` with ``measure="PR"``.

    References
    ----------
    Lipsey, M. W., & Wilson, D. B. (2001). *Practical meta-analysis*. Sage.
    """
    x, m, shape = _proportion_arrays(xi, ni, mi)
    yi, vi = _proportion_measure("PR", x, m, add, to)
    return _finish("PR", yi, vi, shape, f"a proportion of 0 or 1 with add={add!r}, to={to!r}")


def logit_proportion(
    xi: Any, ni: Any = None, *, mi: Any = None, add: float = 0.5, to: str = "only0"
) -> EffectSizes:
    r"""Logit (log odds) of a proportion and its sampling variance (metafor's ``"PLO"``).

    .. math:: y = \ln\frac{p}{1 - p} = \ln\frac{x}{n - x}, \qquad v = \frac1x + \frac1{n - x}

    after the zero-count rule (see :func:`proportion`), as metafor's
    ``escalc(measure="PLO")`` with its defaults. Back-transform a pooled value with the
    inverse logit :math:`e^y / (1 + e^y)` (Lipsey & Wilson 2001, ch. 3).

    Parameters
    ----------
    xi : float, array-like or pandas.Series
        Numbers of events (whole numbers >= 0).
    ni : float, array-like or pandas.Series, optional
        Group sizes (>= ``xi``). Give ``ni`` or ``mi``.
    mi : float, array-like or pandas.Series, optional
        Numbers of non-events.
    add : float, default 0.5
        Zero-count correction (see :func:`proportion`).
    to : {"only0", "all", "if0all", "none"}, default "only0"
        Which groups get ``add``; an uncorrected 0 or 1 has an infinite logit and raises a
        ``ValueError``.

    Returns
    -------
    EffectSizes
        ``yi``, ``vi`` with ``measure="PLO"``.

    References
    ----------
    Lipsey, M. W., & Wilson, D. B. (2001). *Practical meta-analysis*. Sage.
    """
    x, m, shape = _proportion_arrays(xi, ni, mi)
    yi, vi = _proportion_measure("PLO", x, m, add, to)
    return _finish("PLO", yi, vi, shape, f"a proportion of 0 or 1 with add={add!r}, to={to!r}")


# From this c on the Gauss series converges within a few dozen terms (its terms shrink like
# k^(a + b - c - 1) x^k) while QUADPACK's algebraic weights lose accuracy (c of about 1000).
_SERIES_FROM = 10.0


def _hyp2f1_series(a: float, b: float, c: float, x: float) -> float:
    """The Gauss series sum_k (a)_k (b)_k / ((c)_k k!) x^k, summed until terms are negligible."""
    total, term, k = 1.0, 1.0, 0
    while True:
        term *= (a + k) * (b + k) / ((c + k) * (k + 1)) * x
        total += term
        k += 1
        if abs(term) < 1e-17 * abs(total) or k > 100_000:
            return total


def _hyp2f1_half(c: float, x: float) -> float:
    """2F1(1/2, 1/2; c; x) for c > 1, 0 < x <= 1, by Euler's integral.

    scipy.special.hyp2f1 returns NaN in part of this range (e.g. c = 162, x = 0.9975, a
    correlation of 0.05 with n = 326), so the integral
    Gamma(c) / (Gamma(1/2) Gamma(c - 1/2)) int_0^1 t^(-1/2) (1 - t)^(c - 3/2) (1 - x t)^(-1/2) dt
    is computed with QUADPACK's algebraic-weight rule (scipy.integrate.quad, weight="alg"):
    relative error about 1e-13 against GSL's hyperg_2F1 (metafor's). For c >= 10 the Gauss
    series is summed directly (fast there; QUADPACK's weights fail near c = 1000).
    """
    from scipy.integrate import quad

    if x == 1.0:  # Gauss's theorem
        return float(np.exp(gammaln(c) + gammaln(c - 1) - 2 * gammaln(c - 0.5)))
    if c >= _SERIES_FROM:
        return _hyp2f1_series(0.5, 0.5, c, x)
    val, _ = quad(lambda t: np.sqrt((1 - t) / (1 - x * t)), 0, 1, weight="alg", wvar=(-0.5, c - 2.0),
                  epsabs=0, epsrel=1e-13, limit=500)
    return float(np.exp(gammaln(c) - gammaln(0.5) - gammaln(c - 0.5)) * val)


def _hyp2f1_one(c: float, x: float) -> float:
    """2F1(1, 1; c; x) for c > 2, 0 < x <= 1: (c - 1) int_0^1 u^(c-2) / (1 - x + x u) du."""
    from scipy.integrate import quad

    if x == 1.0:
        return (c - 1) / (c - 2)
    if c >= _SERIES_FROM:
        return _hyp2f1_series(1.0, 1.0, c, x)
    val, _ = quad(lambda u: u / (1 - x + x * u), 0, 1, weight="alg", wvar=(c - 3.0, 0.0),
                  epsabs=0, epsrel=1e-13, limit=500)
    return (c - 1) * val


def _ucor(r: np.ndarray, n: np.ndarray, vtype: str) -> tuple[np.ndarray, np.ndarray]:
    check_choice("vtype", vtype, ("LS", "UB"))
    _check_r("ri", r)
    _check_n("ni", n, 4, "for the bias-corrected correlation (metafor's 'UCOR')")
    one_minus = 1 - r**2
    yi = r * np.array([_hyp2f1_half((ni - 2) / 2, x) for ni, x in zip(n, one_minus)])
    if vtype == "LS":
        vi = (1 - yi**2) ** 2 / (n - 1)
    else:
        f = np.array([_hyp2f1_one(ni / 2, x) for ni, x in zip(n, one_minus)])
        vi = yi**2 - (1 - (n - 3) / (n - 2) * one_minus * f)
    return yi, vi


def unbiased_correlation(ri: Any, ni: Any, *, vtype: str = "LS") -> EffectSizes:
    r"""Correlation corrected for its small negative bias (metafor's ``"UCOR"``).

    The Olkin-Pratt (1958, eq. 2.3) minimum-variance unbiased estimator, with the
    Gauss hypergeometric function :math:`{}_2F_1` (metafor uses ``gsl::hyperg_2F1``; here
    Euler's integral by ``scipy.integrate.quad``, as ``scipy.special.hyp2f1`` returns NaN for
    small correlations in samples of a few hundred):

    .. math::

        y = r\,{}_2F_1\!\left(\tfrac12, \tfrac12; \tfrac{n-2}{2}; 1 - r^2\right), \qquad
        v_{LS} = \frac{(1 - y^2)^2}{n - 1}, \qquad
        v_{UB} = y^2 - \left[1 - \frac{n-3}{n-2}(1 - r^2)\,
                 {}_2F_1\!\left(1, 1; \tfrac n2; 1 - r^2\right)\right]

    ``vtype="LS"`` is metafor's default (the large-sample variance with the corrected
    correlation plugged in, Borenstein et al. 2009, eq. 6.1); ``"UB"`` is the unbiased
    estimate of the variance (Hedges 1989, exact form).

    Parameters
    ----------
    ri : float, array-like or pandas.Series
        Correlations, strictly between -1 and 1.
    ni : float, array-like or pandas.Series
        Sample sizes, greater than 4.
    vtype : {"LS", "UB"}, default "LS"
        Large-sample or unbiased sampling variance.

    Returns
    -------
    EffectSizes
        ``yi``, ``vi`` with ``measure="UCOR"``.

    References
    ----------
    Olkin, I., & Pratt, J. W. (1958). Unbiased estimation of certain correlation
    coefficients. *Annals of Mathematical Statistics, 29*, 201-211.
    Hedges, L. V. (1989). An unbiased correction for sampling error in validity
    generalization studies. *Journal of Applied Psychology, 74*, 469-477.
    """
    check_choice("vtype", vtype, ("LS", "UB"))
    arrs, shape = _gather(ri=ri, ni=ni)
    yi, vi = _ucor(arrs["ri"], arrs["ni"], vtype)
    return _finish("UCOR", yi, vi, shape, "check the correlations and sample sizes")


def _partial_arrays(ti: Any, ni: Any, mi: Any, r2i: Any = None) -> tuple[dict[str, np.ndarray], _Shape]:
    arrs, shape = _gather(ti=ti, ni=ni, mi=mi, r2i=r2i)
    _check_n("ni", arrs["ni"])
    check_positive("mi", arrs["mi"], "a positive number of predictors (counting the focal one)")
    check_integer_valued("mi", arrs["mi"])
    df = arrs["ni"] - arrs["mi"] - 1
    bad = df <= 0
    if bad.any():
        raise ValueError(
            f"`ni` must exceed `mi` + 1 (the t test has ni - mi - 1 degrees of freedom); "
            f"{first_bad(bad)} has ni = {float(arrs['ni'][bad][0]):g} and mi = {float(arrs['mi'][bad][0]):g}."
        )
    if r2i is not None:
        r2 = arrs["r2i"]
        bad = (r2 < 0) | (r2 > 1)
        if bad.any():
            raise ValueError(f"`r2i` must be an R-squared in [0, 1]; {first_bad(bad)} has {float(r2[bad][0]):g}.")
    return arrs, shape


def _pcor(a: dict[str, np.ndarray]) -> np.ndarray:
    df = a["ni"] - a["mi"] - 1
    return a["ti"] / np.hypot(a["ti"], np.sqrt(df))  # t / sqrt(t^2 + df) without overflow


def _spcor(a: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    df = a["ni"] - a["mi"] - 1
    r2 = a["r2i"]
    yi = a["ti"] * np.sqrt(1 - r2) / np.sqrt(df)
    with np.errstate(over="ignore", invalid="ignore"):
        bad = ~(yi**2 <= r2)
    if bad.any():
        raise ValueError(
            f"The squared semi-partial correlation t^2 (1 - R^2) / (ni - mi - 1) exceeds `r2i` at "
            f"{first_bad(bad)}; it is the focal predictor's share of R^2 and cannot exceed it, so "
            "`ti`, `ni`, `mi` and `r2i` do not fit together (check them, and the rounding of R^2)."
        )
    vi = (r2**2 - 2 * r2 + (r2 - yi**2) + 1 - (r2 - yi**2) ** 2) / a["ni"]
    return yi, vi


def partial_correlation(ti: Any, ni: Any, mi: Any) -> EffectSizes:
    r"""Partial correlation of the focal predictor from its regression t statistic (``"PCOR"``).

    For the t test of one coefficient in a linear regression with :math:`m` predictors
    (the focal one included) and :math:`n` observations, :math:`df = n - m - 1`:

    .. math:: y = \frac{t}{\sqrt{t^2 + df}}, \qquad v = \frac{(1 - y^2)^2}{df}

    (Aloe & Becker 2012; Aloe & Thompson 2013), as metafor 3.8.1's
    ``escalc(measure="PCOR")``. metafor 4.4 and later divide the variance by
    :math:`n - m` instead of :math:`n - m - 1` (the same ``y``).

    Parameters
    ----------
    ti : float, array-like or pandas.Series
        t statistics of the focal coefficient (their sign gives the sign of ``y``).
    ni : float, array-like or pandas.Series
        Sample sizes.
    mi : float, array-like or pandas.Series
        Numbers of predictors in the model, the focal one included (whole numbers >= 1,
        ``ni > mi + 1``).

    Returns
    -------
    EffectSizes
        ``yi``, ``vi`` with ``measure="PCOR"``.

    References
    ----------
    Aloe, A. M., & Becker, B. J. (2012). An effect size for regression predictors in
    meta-analysis. *Journal of Educational and Behavioral Statistics, 37*, 278-297.
    Aloe, A. M., & Thompson, C. G. (2013). The synthesis of partial effect sizes.
    *Journal of the Society for Social Work and Research, 4*, 390-405.
    """
    arrs, shape = _partial_arrays(ti, ni, mi)
    yi = _pcor(arrs)
    vi = (1 - yi**2) ** 2 / (arrs["ni"] - arrs["mi"] - 1)
    return _finish("PCOR", yi, vi, shape, "|t| so large that the partial correlation is 1")


def partial_correlation_z(ti: Any, ni: Any, mi: Any) -> EffectSizes:
    r"""Fisher's z of a partial correlation from its t statistic (metafor's ``"ZPCOR"``).

    With :math:`r_p` from :func:`partial_correlation` and :math:`df = n - m - 1`:

    .. math:: y = \operatorname{artanh} r_p, \qquad v = \frac{1}{df}

    as metafor 3.8.1's ``escalc(measure="ZPCOR")`` (Aloe & Thompson 2013). metafor 4.0
    changed the variance to :math:`1/(n - m - 3)` and 4.4 redefined ``mi``, giving
    :math:`1/(n - m - 2)` with ``mi`` counting the focal predictor.

    Parameters
    ----------
    ti : float, array-like or pandas.Series
        t statistics of the focal coefficient.
    ni : float, array-like or pandas.Series
        Sample sizes.
    mi : float, array-like or pandas.Series
        Numbers of predictors, the focal one included (whole numbers >= 1, ``ni > mi + 1``).

    Returns
    -------
    EffectSizes
        ``yi``, ``vi`` with ``measure="ZPCOR"``.

    References
    ----------
    Aloe, A. M., & Thompson, C. G. (2013). The synthesis of partial effect sizes.
    *Journal of the Society for Social Work and Research, 4*, 390-405.
    Fisher, R. A. (1921). On the "probable error" of a coefficient of correlation deduced
    from a small sample. *Metron, 1*, 3-32.
    """
    arrs, shape = _partial_arrays(ti, ni, mi)
    with np.errstate(divide="ignore"):
        yi = np.arctanh(_pcor(arrs))
    vi = 1 / (arrs["ni"] - arrs["mi"] - 1)
    return _finish("ZPCOR", yi, vi, shape, "|t| so large that the partial correlation is 1")


def semipartial_correlation(ti: Any, ni: Any, mi: Any, r2i: Any) -> EffectSizes:
    r"""Semi-partial correlation of the focal predictor from its t statistic (``"SPCOR"``).

    With :math:`df = n - m - 1` and the full model's :math:`R^2`:

    .. math::

        y = \frac{t\sqrt{1 - R^2}}{\sqrt{df}}, \qquad
        v = \frac{R^4 - 2R^2 + (R^2 - y^2) + 1 - (R^2 - y^2)^2}{n}

    (Aloe & Becker 2012), as metafor's ``escalc(measure="SPCOR")`` (``vtype="LS"``).
    :math:`y^2` is the focal predictor's increment in :math:`R^2`, so :math:`y^2 > R^2`
    means the four inputs are inconsistent and is refused.

    Parameters
    ----------
    ti : float, array-like or pandas.Series
        t statistics of the focal coefficient.
    ni : float, array-like or pandas.Series
        Sample sizes.
    mi : float, array-like or pandas.Series
        Numbers of predictors, the focal one included (whole numbers >= 1, ``ni > mi + 1``).
    r2i : float, array-like or pandas.Series
        R-squared of the full regression model, in [0, 1].

    Returns
    -------
    EffectSizes
        ``yi``, ``vi`` with ``measure="SPCOR"``.

    References
    ----------
    Aloe, A. M., & Becker, B. J. (2012). An effect size for regression predictors in
    meta-analysis. *Journal of Educational and Behavioral Statistics, 37*, 278-297.
    """
    arrs, shape = _partial_arrays(ti, ni, mi, r2i)
    yi, vi = _spcor(arrs)
    return _finish("SPCOR", yi, vi, shape, "an R-squared of 1 leaves no variance")


for _f, _ex in (
    (smd_heteroscedastic, """
    >>> es = smd_heteroscedastic(55, 47, 155, 75, 64, 156)
    >>> round(float(es.yi[0]), 4), round(float(es.vi[0]), 4)
    (-0.3553, 0.0131)
"""),
    (log_ratio_of_means, """
    >>> es = log_ratio_of_means(55, 47, 155, 75, 64, 156)
    >>> round(float(np.exp(es.yi[0])), 4), round(float(es.vi[0]), 4)
    (0.7333, 0.0094)
"""),
    (point_biserial_correlation, """
    >>> es = point_biserial_correlation(55, 47, 155, 75, 64, 156)
    >>> round(float(es.yi[0]), 4), round(float(es.vi[0]), 5)
    (-0.1758, 0.00299)
"""),
    (proportion, """
    >>> es = proportion([16, 10, 10], [17, 12, 10])
    >>> es.yi.round(4).tolist()
    [0.9412, 0.8333, 0.9545]
"""),
    (logit_proportion, """
    >>> es = logit_proportion([11, 24], mi=[18, 9])
    >>> es.yi.round(4).tolist(), es.vi.round(4).tolist()
    ([-0.4925, 0.9808], [0.1465, 0.1528])
"""),
    (unbiased_correlation, """
    >>> es = unbiased_correlation([0.187, 0.34], [109, 55])
    >>> es.yi.round(4).tolist()
    [0.1879, 0.3429]
"""),
    (partial_correlation, """
    >>> es = partial_correlation(4.61, 218, 4)
    >>> round(float(es.yi[0]), 4), round(float(es.vi[0]), 5)
    (0.3012, 0.00388)
"""),
    (partial_correlation_z, """
    >>> es = partial_correlation_z(4.61, 218, 4)
    >>> round(float(es.yi[0]), 4), round(float(es.vi[0]), 5)
    (0.3108, 0.00469)
"""),
    (semipartial_correlation, """
    >>> es = semipartial_correlation(4.61, 218, 4, 0.24)
    >>> round(float(es.yi[0]), 4), round(float(es.vi[0]), 5)
    (0.2754, 0.00328)
"""),
):
    _f.__doc__ = _f.__doc__.rstrip() + "\n    " + _METAFOR_REF + "\n\n    Examples\n    --------" + _ex


def _compute_more(measure: str, given: dict[str, Any], add: float, to: str):
    """The arithmetic of the measures added in issue 14 (see the functions above)."""
    if measure in ("SMDH", "ROM", "RPB"):
        names = ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")
        _require(measure, given, names)
        arrs, shape = _two_group_arrays(*(given[k] for k in names))
        if measure == "SMDH":
            yi, vi = _smdh(arrs)
        elif measure == "ROM":
            yi, vi = _rom(arrs)
        else:
            yi, vi = _rpb(arrs, "ST")
    elif measure in ("PR", "PLO"):
        _require(measure, given, ("xi",))
        x, m, shape = _proportion_arrays(given.get("xi"), given.get("ni"), given.get("mi"))
        yi, vi = _proportion_measure(measure, x, m, add, to)
    elif measure == "UCOR":
        _require(measure, given, ("ri", "ni"))
        arrs, shape = _gather(ri=given["ri"], ni=given["ni"])
        yi, vi = _ucor(arrs["ri"], arrs["ni"], "LS")
    else:  # PCOR, ZPCOR, SPCOR
        need = ("ti", "ni", "mi") + (("r2i",) if measure == "SPCOR" else ())
        _require(measure, given, need)
        arrs, shape = _partial_arrays(*(given[k] for k in need))
        if measure == "SPCOR":
            yi, vi = _spcor(arrs)
        else:
            r = _pcor(arrs)
            df = arrs["ni"] - arrs["mi"] - 1
            if measure == "PCOR":
                yi, vi = r, (1 - r**2) ** 2 / df
            else:
                with np.errstate(divide="ignore"):
                    yi = np.arctanh(r)
                vi = 1 / df
    _finish(measure, yi, vi, shape, "see the measure's function in analysis.effect_sizes")
    return yi, vi, shape
