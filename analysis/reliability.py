r"""Reliability of a sum score: Cronbach's alpha with its interval, and where omega lives.

:func:`cronbach_alpha` (Cronbach 1951; ``pingouin`` underneath) with the Feldt, Woodruff &
Salih (1987) interval (:func:`feldt_ci`), corrected item--total correlations and
alpha-if-item-deleted. McDonald's (1999) omega comes from a factor model:
:meth:`analysis.factor_models.CFAResult.omega` (total, per factor and, for a bifactor model,
hierarchical; Reise 2012) and :meth:`~analysis.factor_models.CFAResult.omega_standardized`
(``psych::omega``'s ``omega.tot`` for one factor). All functions are pure (data in, results
object out).

Part of the psychometrics of the workbook: scoring in :mod:`analysis.scoring`, reliability
here, factor models in :mod:`analysis.factor_models`, measurement invariance in
:mod:`analysis.invariance` (``analysis.psychometrics`` re-exports them all).

References
----------
Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
*Psychometrika, 16*(3), 297--334.
Feldt, L. S., Woodruff, D. J., & Salih, F. A. (1987). Statistical inference for
coefficient alpha. *Applied Psychological Measurement, 11*(1), 93--103.
McDonald, R. P. (1999). *Test theory: A unified treatment*. Erlbaum.
Reise, S. P. (2012). The rediscovery of bifactor measurement models. *Multivariate
Behavioral Research, 47*(5), 667--696.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis._checks import check_level
from analysis._items import _item_frame, _item_scales
from analysis._results import ResultMixin

__all__ = [
    "AlphaResult",
    "cronbach_alpha",
    "feldt_ci",
]


def feldt_ci(alpha: float, n: int, k: int, level: float = 0.95) -> tuple[float, float]:
    r"""Feldt, Woodruff & Salih (1987) interval for Cronbach's alpha.

    .. math::

        \left[1 - (1-\hat\alpha) F_{1-\gamma/2}(n-1, (n-1)(k-1)),\;
              1 - (1-\hat\alpha) F_{\gamma/2}(n-1, (n-1)(k-1))\right],\quad \gamma = 1 - \text{level},

    the formula of ``pingouin.cronbach_alpha``, here without its rounding to three
    decimals. :math:`F_q(d_1, d_2)` is the :math:`q` quantile of the F distribution.

    Parameters
    ----------
    alpha : float
        Estimated Cronbach's alpha :math:`\hat\alpha`.
    n : int
        Respondents (at least 2).
    k : int
        Items (at least 2).
    level : float, default 0.95
        Confidence level, strictly between 0 and 1.

    Returns
    -------
    tuple of float
        ``(lower, upper)`` limits of the interval.

    References
    ----------
    Feldt, L. S., Woodruff, D. J., & Salih, F. A. (1987). Statistical inference for
    coefficient alpha. *Applied Psychological Measurement, 11*(1), 93--103.

    Examples
    --------
    >>> [round(v, 4) for v in feldt_ci(0.8, 100, 10)]
    [0.736, 0.8537]
    """
    level = check_level("level", level)
    if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, (int, float, np.number)) \
            or not np.isfinite(alpha) or alpha > 1:
        raise ValueError(f"`alpha` must be a finite number <= 1 (Cronbach's alpha), got {alpha!r}.")
    for name, v in (("n", n), ("k", k)):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer, float)) or v != int(v):
            raise ValueError(f"`{name}` must be a whole number, got {v!r}.")
    if n < 2 or k < 2:
        raise ValueError(f"`n` and `k` must be at least 2, got n={n}, k={k}.")
    n, k = int(n), int(k)
    g = 1 - level
    df1, df2 = n - 1, (n - 1) * (k - 1)
    return (float(1 - (1 - alpha) * stats.f.isf(g / 2, df1, df2)),
            float(1 - (1 - alpha) * stats.f.isf(1 - g / 2, df1, df2)))


@dataclass
class AlphaResult(ResultMixin):
    """Result of :func:`cronbach_alpha`.

    Attributes
    ----------
    alpha : float
    ci : tuple of float
        Feldt interval at ``level``.
    level : float
    n, k : int
        Complete respondents and items.
    n_dropped : int
        Respondents dropped for a missing answer (listwise).
    items : DataFrame
        Per item: ``mean``, ``sd``, ``r_drop`` (corrected item--total correlation)
        and ``alpha_if_deleted``.
    standardized_alpha : float
        Alpha of the standardised items, :math:`k\\bar r / (1 + (k-1)\\bar r)`.
    """

    alpha: float
    ci: tuple
    level: float
    n: int
    n_obs = property(lambda self: self.n, doc="Number of observations analysed (= ``n``).")
    k: int
    n_dropped: int
    items: pd.DataFrame
    standardized_alpha: float

    def to_frame(self) -> pd.DataFrame:
        """One row: alpha, ci_low, ci_high (Feldt), level, standardized_alpha, n_obs, k."""
        return pd.DataFrame([{"alpha": self.alpha, "ci_low": self.ci[0], "ci_high": self.ci[1], "level": self.level,
                              "standardized_alpha": self.standardized_alpha, "n_obs": self.n, "k": self.k}])

    def summary(self) -> str:
        """Alpha with its interval and the item table."""
        lo, hi = self.ci
        lines = [f"Cronbach's alpha = {self.alpha:.4f}, {self.level:.0%} CI [{lo:.4f}, {hi:.4f}] (Feldt)"
                 f"; standardised alpha = {self.standardized_alpha:.4f}",
                 f"  {self.n} respondents, {self.k} items"
                 + (f"; {self.n_dropped} respondents with missing answers dropped (listwise)"
                    if self.n_dropped else "")]
        lines.append(self.items.to_string(float_format=lambda v: f"{v:.4f}"))
        return "\n".join(lines)

    def apa(self) -> str:
        """One APA-style phrase."""
        lo, hi = self.ci
        f = lambda v: f"{v:.2f}".replace("0.", ".", 1)  # noqa: E731
        return f"Cronbach's \u03b1 = {f(self.alpha)}, {self.level:.0%} CI [{f(lo)}, {f(hi)}] ({self.k} items, N = {self.n})"


def _alpha(cov: np.ndarray) -> float:
    k = cov.shape[0]
    return k / (k - 1) * (1 - np.trace(cov) / cov.sum())


def cronbach_alpha(data: pd.DataFrame, items: Sequence[str] | None = None, *, level: float = 0.95
                   ) -> AlphaResult:
    r"""Cronbach's alpha with the Feldt interval, corrected item--total r and alpha-if-deleted.

    .. math::

        \alpha = \frac{k}{k-1}\Bigl(1 - \frac{\sum_j s_j^2}{s_X^2}\Bigr)

    (Cronbach 1951), :math:`s_j^2` the item variances and :math:`s_X^2` the variance of
    the sum. The point estimate is ``pingouin.cronbach_alpha`` (listwise); the interval
    is Feldt, Woodruff & Salih's (1987), as pingouin computes it but unrounded
    (:func:`feldt_ci`). The corrected item--total correlation ``r_drop`` of item
    :math:`j` is its correlation with the sum of the *other* items; ``alpha_if_deleted``
    is alpha of the other :math:`k-1` items (hand-written; checked against
    ``psych::alpha``'s ``r.drop`` and ``alpha.drop``).

    Parameters
    ----------
    data : DataFrame
        Item answers (numeric), one row per respondent. Rows with a missing answer are
        dropped (listwise) and counted in ``n_dropped``; a ``UserWarning`` says so.
    items : sequence of str, optional
        Item columns; default all columns.
    level : float, default 0.95

    Returns
    -------
    AlphaResult

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    *Psychometrika, 16*(3), 297--334.
    Feldt, L. S., Woodruff, D. J., & Salih, F. A. (1987). Statistical inference for
    coefficient alpha. *Applied Psychological Measurement, 11*(1), 93--103.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> f = rng.normal(size=(300, 1))
    >>> df = pd.DataFrame(f + rng.normal(size=(300, 4)), columns=list("abcd"))
    >>> round(cronbach_alpha(df).alpha, 2)
    0.78
    """
    import pingouin

    level = check_level("level", level)
    block, dropped = _item_frame(data, items, "cronbach_alpha")
    if dropped:
        warnings.warn(f"cronbach_alpha: {dropped} respondents with a missing answer were dropped (listwise).",
                      UserWarning, stacklevel=2)
    # one common power-of-two rescaling (alpha is invariant to it; variances then cannot overflow)
    common = float(np.max(_item_scales(block.to_numpy())))
    unit = block
    block = block / common
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, _ = pingouin.cronbach_alpha(block, ci=level, nan_policy="listwise")
    a = float(a)
    n, k = block.shape
    cov = block.cov().to_numpy()
    if cov.sum() <= 1e-12 * np.trace(cov):
        raise ValueError("`data`: the sum of the items has zero variance (the items cancel out, e.g. an item and "
                         "its reverse); alpha is undefined. Reverse-key the items first (score_items).")
    total = block.sum(axis=1)
    rows = []
    for j, c in enumerate(block.columns):
        rest = total - block[c]
        keep = [i for i in range(k) if i != j]
        rows.append({
            "item": c,
            "mean": unit[c].mean(),
            "sd": float(np.std(block[c].to_numpy(), ddof=1)) * common,
            "r_drop": float(np.corrcoef(block[c], rest)[0, 1]),
            "alpha_if_deleted": _alpha(cov[np.ix_(keep, keep)]) if k > 2 else np.nan,
        })
    corr = block.corr().to_numpy()
    rbar = corr[np.tril_indices(k, -1)].mean()
    return AlphaResult(alpha=a, ci=feldt_ci(a, n, k, level), level=level, n=n, k=k, n_dropped=dropped,
                       items=pd.DataFrame(rows).set_index("item"),
                       standardized_alpha=float(k * rbar / (1 + (k - 1) * rbar)))
