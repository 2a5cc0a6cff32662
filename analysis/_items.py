"""Checks and rescaling of item blocks, shared by the psychometric modules.

Private helpers of :mod:`analysis.reliability`, :mod:`analysis.factor_models` and
:mod:`analysis.invariance`: the numeric, complete-case item block of a reliability or CFA
analysis (with errors naming the column and row), the factor specification check, and the
power-of-two rescaling that makes the SEM fits independent of the items' units.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from analysis._checks import suggest_name

#: ``missing=`` choices of the factor models: listwise deletion or full-information ML.
MISSING_METHODS = ("listwise", "ml")


MISSING_METHODS = ("listwise", "ml")


def _item_frame(data: pd.DataFrame, items: Sequence[str] | None, what: str, min_items: int = 2
                ) -> tuple[pd.DataFrame, int]:
    """Numeric complete-case item block and the number of rows dropped."""
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"`data` must be a pandas DataFrame, got {type(data).__name__}.")
    if items is not None and (isinstance(items, (str, Mapping)) or not hasattr(items, "__iter__")):
        raise ValueError(f"`items` must be a list of column names; got {type(items).__name__} {items!r}.")
    cols = list(data.columns) if items is None else list(items)
    absent = [c for c in cols if c not in data.columns]
    if absent:
        raise ValueError(f"`items`: columns not in `data`: {absent}.{suggest_name(absent[0], data.columns)}")
    if len(set(cols)) != len(cols):
        raise ValueError(f"`items` lists a column twice: {sorted({c for c in cols if cols.count(c) > 1})}.")
    if len(cols) < min_items:
        raise ValueError(f"{what} needs at least {min_items} items, got {len(cols)}.")
    block = data[cols]
    for c in cols:
        if block[c].dtype == bool or block[c].dtype.kind not in "iuf":
            raise ValueError(f"`data` column {c!r} must be numeric (dtype {block[c].dtype}).")
        inf = np.isinf(block[c].to_numpy(dtype=float))
        if inf.any():
            raise ValueError(f"`data` column {c!r} has an infinite value at row {block.index[inf][0]!r}.")
    complete = block.dropna()
    dropped = len(block) - len(complete)
    if len(complete) < 3:
        raise ValueError(f"{what} needs at least 3 complete rows, got {len(complete)}.")
    X = complete.to_numpy(dtype=float)
    amax = np.max(np.abs(X), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel_sd = np.std(np.where(amax > 0, X / np.where(amax > 0, amax, 1.0), 0.0), axis=0)
    zero = rel_sd <= 1e-12
    if zero.any():
        raise ValueError(f"`data` column {cols[int(np.flatnonzero(zero)[0])]!r} has zero variance; it carries "
                         "no information.")
    return complete.astype(float), dropped


def _check_factors(factors: Any) -> dict[str, list[str]]:
    if not isinstance(factors, Mapping) or not factors:
        raise ValueError("`factors` must be a non-empty mapping of factor name -> items.")
    for k, v in factors.items():
        if isinstance(v, (str, bytes, Mapping)) or not hasattr(v, "__iter__"):
            raise ValueError(f"`factors`: the items of factor {k!r} must be a list of column names; got {v!r}.")
    facs = {str(k): list(v) for k, v in factors.items()}
    seen: dict[str, str] = {}
    for f_, its in facs.items():
        if len(its) < 2:
            raise ValueError(f"`factors`: factor {f_!r} needs at least 2 items, got {len(its)}.")
        for it in its:
            if it in seen:
                raise ValueError(f"`factors`: item {it!r} is listed in {seen[it]!r} and {f_!r}; "
                                 "cross-loadings are not supported here.")
            seen[it] = f_
    clash = set(facs) & set(seen)
    if clash:
        raise ValueError(f"factor names must differ from item names: {sorted(clash)}.")
    return facs


def _check_numeric_items(data: pd.DataFrame, items: Sequence[str]) -> None:
    """Item columns must be numeric (not bool) and finite where present; the error names column and row."""
    for c in items:
        col = data[c]
        if col.dtype == bool or col.dtype.kind not in "iuf":
            raise ValueError(f"`data` column {c!r} must be numeric (dtype {col.dtype}).")
        inf = np.isinf(col.to_numpy(dtype=float))
        if inf.any():
            raise ValueError(f"`data` column {c!r} has an infinite value at row {data.index[inf][0]!r}.")


def _item_scales(X: np.ndarray) -> np.ndarray:
    """A power of two near each item's SD (1 for constant or empty columns).

    The SEM engines fit ``X / s`` and transform the estimates back (see :func:`analysis._cfa_ml._fit_step`):
    ML estimates are equivariant under rescaling of the items, so results do not depend on the
    units (1e-150 or 1e150), and items already on a unit scale (SD between about 0.7 and 1.4)
    are fitted exactly as given (a power of two rescales without rounding)."""
    X = np.asarray(X, float)
    out = np.ones(X.shape[1])
    for j in range(X.shape[1]):
        col = X[:, j][np.isfinite(X[:, j])]
        if col.size < 2:
            continue
        a = float(np.max(np.abs(col)))
        if a == 0:
            continue
        sd = float(np.std(col / a)) * a
        if sd > 0 and np.isfinite(sd):
            out[j] = 2.0 ** round(math.log2(sd))
    return out


def _outer(scales: np.ndarray) -> np.ndarray:
    """``s s^T`` (inf where it overflows; callers then refuse with a message about scale)."""
    with np.errstate(over="ignore"):
        return np.outer(scales, scales)


def _check_representable(what: str, values: np.ndarray) -> None:
    """Refuse results that overflow double precision once back in the data's units."""
    v = np.asarray(values, float)
    if (~np.isfinite(v[~np.isnan(v)])).any():
        raise ValueError(f"{what}: the estimates cannot be represented in double precision in the units of the "
                         "data (variances beyond 1e308); rescale the items (e.g. to SD units) before fitting.")
