r"""Relative importance of correlated predictors: dominance analysis (Shapley decomposition of R²).

With predictors (or predictor sets) :math:`1..p` and :math:`R^2(S)` the OLS R² of the model with
the predictors in subset :math:`S` (statsmodels OLS with an intercept; :math:`R^2(\emptyset)=0`),
the **general dominance weight** of predictor :math:`j` (Budescu, 1993; Azen & Budescu, 2003) is

.. math:: D_j = \frac{1}{p}\sum_{s=0}^{p-1} \binom{p-1}{s}^{-1}
          \sum_{S \subseteq \{1..p\}\setminus\{j\},\ |S| = s} \left[R^2(S \cup \{j\}) - R^2(S)\right],

the average increase in R² from adding :math:`j`, first within each subset size and then across
sizes. This is the Shapley value of the "R²" game (Lipovetsky & Conklin, 2001; Grömping, 2007,
"LMG"), so :math:`\sum_j D_j = R^2(\text{all})` exactly, and the weights do not depend on the
order in which the predictors are listed. Conditional dominance (the size-specific averages) is
returned too. Cost: :math:`2^p` OLS fits (limit: 12 predictors or sets).

Bootstrap CIs: rows resampled with replacement (``numpy.random.default_rng(seed)``), all
weights recomputed, percentile intervals.

Written by hand on statsmodels OLS: pingouin and statsmodels have no dominance analysis.

References
----------
Budescu, D. V. (1993). Dominance analysis: A new approach to the problem of relative importance
    of predictors in multiple regression. *Psychological Bulletin, 114*, 542-551.
Azen, R., & Budescu, D. V. (2003). The dominance analysis approach for comparing predictors in
    multiple regression. *Psychological Methods, 8*, 129-148.
Lipovetsky, S., & Conklin, M. (2001). Analysis of regression in game theory approach.
    *Applied Stochastic Models in Business and Industry, 17*, 319-330.
Grömping, U. (2007). Estimators of relative importance in linear regression based on variance
    decomposition. *The American Statistician, 61*, 139-147.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import statsmodels.api as sm

from analysis._checks import check_level, first_bad, suggest_name
from analysis._results import ResultMixin

__all__ = ["DominanceResult", "dominance_analysis"]

MAX_PREDICTORS = 12


def _r2_table(y: np.ndarray, blocks: list[np.ndarray]) -> dict[frozenset, float]:
    p = len(blocks)
    n = y.shape[0]
    out: dict[frozenset, float] = {frozenset(): 0.0}
    # A bootstrap resample can leave a dummy column constant (rank-deficient design); OLS by
    # pseudo-inverse still gives the projection's R², which is what dominance needs.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The design matrix is rank-deficient")
        return _r2_loop(y, blocks, out, p, n)


def _r2_loop(y, blocks, out, p, n):
    for size in range(1, p + 1):
        for sub in itertools.combinations(range(p), size):
            X = sm.add_constant(np.column_stack([blocks[j] for j in sub]), has_constant="add")
            out[frozenset(sub)] = float(sm.OLS(y, X).fit().rsquared) if n > X.shape[1] else float("nan")
    return out


def _standardize(x: np.ndarray) -> np.ndarray:
    """Centre and divide by the largest absolute deviation (column-wise), without overflow or underflow.

    R² with an intercept does not change under affine maps of y or of a predictor column, so the
    weights are the same; values of 1e-200 or 1e200 no longer vanish in the pseudo-inverse or
    overflow in squares. Constant columns become zero columns.
    """
    top = np.max(np.abs(x), axis=0)
    top = np.where(top > 0, top, 1.0)
    z = x / top
    z = z - z.mean(axis=0)
    spread = np.max(np.abs(z), axis=0)
    return z / np.where(spread > 0, spread, 1.0)


def _weights(r2: dict[frozenset, float], p: int) -> tuple[np.ndarray, np.ndarray]:
    cond = np.zeros((p, p))
    for j in range(p):
        rest = [i for i in range(p) if i != j]
        for s in range(p):
            incs = [r2[frozenset(S) | {j}] - r2[frozenset(S)] for S in itertools.combinations(rest, s)]
            cond[j, s] = float(np.mean(incs))
    return cond.mean(axis=1), cond


@dataclass
class DominanceResult(ResultMixin):
    """Results of :func:`dominance_analysis`.

    ``table``: per predictor the general dominance weight, its share of R² (%), and bootstrap
    percentile CI (if ``n_boot > 0``); ``conditional``: conditional dominance (columns = number
    of other predictors in the model); ``r2``: full-model R²; ``boot``: bootstrap weights.
    """

    _frame_from = ('table',)

    table: pd.DataFrame
    conditional: pd.DataFrame
    r2: float
    n: int
    n_obs = property(lambda self: self.n, doc="Number of observations analysed (= ``n``).")
    n_boot: int
    level: float
    boot: np.ndarray | None = field(default=None, repr=False)

    def summary(self) -> str:
        """The weights table and the full-model R²."""
        return (f"Dominance analysis (n = {self.n}; full-model R^2 = {self.r2:.4f}; bootstrap n = {self.n_boot})\n"
                + self.table.to_string(float_format=lambda x: f"{x:.4f}") + "\n")

    def apa(self) -> str:
        """One sentence with each general dominance weight."""
        parts = []
        for name, r in self.table.iterrows():
            ci = (f", {int(round(self.level * 100))}% CI [{r['ci_low']:.3f}, {r['ci_high']:.3f}]"
                  if "ci_low" in r and np.isfinite(r["ci_low"]) else "")
            parts.append(f"{name} {r['weight']:.3f}{ci}")
        return (f"General dominance weights (they sum to R\u00b2 = {self.r2:.3f}): " + "; ".join(parts) + ".")

    def __repr__(self) -> str:
        return self.summary()


def dominance_analysis(
    data: pd.DataFrame,
    y: str,
    predictors: Sequence[str] | Mapping[str, Sequence[str]],
    *,
    n_boot: int = 0,
    seed: int = 0,
    level: float = 0.95,
) -> DominanceResult:
    r"""Dominance analysis: split the OLS R² among correlated predictors (general dominance weights).

    See the module docstring for the formula (:math:`D_j`, the Shapley value of R²). A predictor
    *set* (e.g. the dummies of one categorical variable) enters and leaves models together.

    Parameters
    ----------
    data : DataFrame
    y : str
        Outcome column.
    predictors : list of str, or dict name -> list of columns
        Predictors (numeric columns), or named sets of columns. At most 12 entries.
    n_boot : int
        Bootstrap replicates for percentile CIs (0: none).
    seed : int
        Seed of ``numpy.random.default_rng``.
    level : float

    Returns
    -------
    DominanceResult

    References
    ----------
    Budescu (1993); Azen & Budescu (2003); Grömping (2007).

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame(rng.normal(size=(200, 2)), columns=["a", "b"])
    >>> df["y"] = df.a + 0.5 * df.b + rng.normal(size=200)
    >>> res = dominance_analysis(df, "y", ["a", "b"])
    >>> bool(abs(res.table["weight"].sum() - res.r2) < 1e-12)
    True
    """
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"`data` must be a pandas DataFrame, got {type(data).__name__}.")
    if isinstance(predictors, str):
        raise ValueError("`predictors` must be a list of column names or a dict of named column lists, not a string.")
    if not isinstance(predictors, (Mapping, Sequence, pd.Index)):
        raise ValueError("`predictors` must be a list of column names or a dict of named column lists, "
                         f"got {type(predictors).__name__}.")
    if isinstance(predictors, Mapping):
        for k, v in predictors.items():
            if isinstance(v, str) or not isinstance(v, (Sequence, pd.Index)) or len(v) == 0:
                raise ValueError(f"`predictors`: set {k!r} must be a non-empty list of column names, got {v!r}.")
    sets = {str(k): list(v) for k, v in predictors.items()} if isinstance(predictors, Mapping) else {
        str(c): [c] for c in predictors}
    flat = [c for v in sets.values() for c in v]
    listed = flat if isinstance(predictors, Mapping) else [str(c) for c in predictors]
    twice = sorted({str(c) for c in listed if listed.count(c) > 1})
    if twice:
        raise ValueError(f"`predictors` lists {', '.join(map(repr, twice))} more than once.")
    if y in flat:
        raise ValueError(f"The outcome {y!r} is also listed in `predictors`.")
    if len(sets) < 2:
        raise ValueError("`predictors`: dominance analysis needs at least two predictors (or sets).")
    if len(sets) > MAX_PREDICTORS:
        raise ValueError(f"`predictors`: at most {MAX_PREDICTORS} predictors or sets (2^p models); got {len(sets)}.")
    if isinstance(n_boot, bool) or not (isinstance(n_boot, (int, np.integer)) and n_boot >= 0):
        raise ValueError(f"`n_boot` must be a non-negative integer; got {n_boot!r}.")
    if isinstance(seed, bool) or not (isinstance(seed, (int, np.integer)) and seed >= 0):
        raise ValueError(f"`seed` must be a non-negative integer; got {seed!r}.")
    check_level("level", level)
    cols = [y] + [c for v in sets.values() for c in v]
    for c in cols:
        if not isinstance(c, (str, int)) or c not in data.columns:
            arg = "`y`" if c is y else "`predictors`"
            raise ValueError(f"{arg}: column {c!r} is not in `data`.{suggest_name(c, data.columns)} "
                             f"Its columns are: {', '.join(map(str, list(data.columns)[:20]))}.")
        s = pd.to_numeric(data[c], errors="coerce")
        bad = ~np.isfinite(s.to_numpy(dtype=float))
        if bad.any():
            raise ValueError(f"Column {c!r} has missing or non-numeric values at {first_bad(bad)}.")
    yv = data[y].to_numpy(dtype=float)
    blocks = [data[v].to_numpy(dtype=float) for v in sets.values()]
    n, p = len(yv), len(blocks)
    if n <= sum(b.shape[1] for b in blocks) + 1:
        raise ValueError(f"`data` has {n} rows: too few for {sum(b.shape[1] for b in blocks)} predictor columns.")
    if np.all(yv == yv[0]):
        raise ValueError(f"Column {y!r} is constant: there is no variance to partition.")
    # R² is unchanged by centring and rescaling; doing so keeps data in any units (1e-200..1e200) exact
    yv = _standardize(yv[:, None])[:, 0]
    blocks = [_standardize(b) for b in blocks]
    r2 = _r2_table(yv, blocks)
    w, cond = _weights(r2, p)
    names = list(sets)
    full = r2[frozenset(range(p))]
    table = pd.DataFrame({"weight": w, "share_pct": 100 * w / full if full > 0 else np.nan}, index=names)
    table.index.name = "predictor"
    boot = None
    if n_boot:
        rng = np.random.default_rng(seed)
        boot = np.empty((n_boot, p))
        for b in range(n_boot):
            idx = rng.integers(0, n, n)
            boot[b] = _weights(_r2_table(yv[idx], [blk[idx] for blk in blocks]), p)[0]
        a = (1 - level) / 2
        table["ci_low"] = np.nanquantile(boot, a, axis=0)
        table["ci_high"] = np.nanquantile(boot, 1 - a, axis=0)
    conditional = pd.DataFrame(cond, index=names, columns=[f"k={s}" for s in range(p)])
    return DominanceResult(table=table, conditional=conditional, r2=full, n=n, n_boot=int(n_boot),
                           level=float(level), boot=boot)
