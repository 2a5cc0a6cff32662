"""Shared machinery of the results vocabulary (see CONTRIBUTING.md, "Results vocabulary").

Every public results class has ``summary()`` (str), ``to_frame()`` (tidy DataFrame) and
``to_dict()`` (plain Python, JSON-serialisable with ``json.dumps(d, default=float)``).
:class:`ResultMixin` gives a class the two conversions from its dataclass fields when it
has no tailored ones; :func:`coef_table` builds the coefficient table in the vocabulary's
column order; :func:`plain` turns any field value into plain Python; :func:`deprecated_alias`
keeps an old attribute name alive for one release.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

#: The coefficient-table columns, in this order (model-specific extras follow them).
COEF_COLUMNS = ("term", "estimate", "se", "statistic", "pvalue", "ci_low", "ci_high")


def coef_table(terms, estimate, se, statistic, pvalue, ci_low, ci_high, **extras) -> pd.DataFrame:
    """Coefficient table indexed by ``term`` with the vocabulary's columns (extras after them)."""
    cols = {"estimate": estimate, "se": se, "statistic": statistic, "pvalue": pvalue,
            "ci_low": ci_low, "ci_high": ci_high, **extras}
    tab = pd.DataFrame({k: np.asarray(v, dtype=float) if not isinstance(v, pd.Series) else v.to_numpy()
                        for k, v in cols.items()}, index=pd.Index(list(terms), name="term"))
    return tab


def tidy(table: pd.DataFrame) -> pd.DataFrame:
    """A coefficient table indexed by term as a tidy frame whose first column is ``term``."""
    out = table.copy()
    out.index.name = "term"
    return out.reset_index()


def coef_frame(table: pd.DataFrame) -> pd.DataFrame:
    """A table of estimates in the vocabulary's order: ``term`` first, then those of
    estimate, se, statistic, pvalue, ci_low, ci_high it has, then the rest.

    ``term`` is taken from a ``term`` column, else lavaan's ``lhs op rhs`` (e.g. "g =~ a"),
    else ``factor =~ item``, else the index labels.
    """
    out = table.copy()
    if "term" not in out.columns:
        if {"lhs", "op", "rhs"} <= set(out.columns):
            term = out["lhs"].astype(str) + " " + out["op"].astype(str) + " " + out["rhs"].astype(str)
            term = term.str.replace(" ~1 ", " ~1", regex=False).str.rstrip()
        elif {"factor", "item"} <= set(out.columns):
            term = out["factor"].astype(str) + " =~ " + out["item"].astype(str)
        elif not isinstance(out.index, pd.RangeIndex):
            term = pd.Series([str(v) if not isinstance(v, tuple) else " ".join(map(str, v)) for v in out.index],
                             index=out.index)
        else:
            term = pd.Series([str(i) for i in range(len(out))], index=out.index)
        out.insert(0, "term", term.to_numpy())
    first = [c for c in COEF_COLUMNS if c in out.columns]
    return out[first + [c for c in out.columns if c not in first]].reset_index(drop=True)


def plain(value: Any) -> Any:
    """``value`` as plain Python (dict, list, str, int, float, bool, None)."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, pd.DataFrame):
        frame = value.reset_index() if not isinstance(value.index, pd.RangeIndex) else value
        frame.columns = ["_".join(map(str, c)) if isinstance(c, tuple) else str(c) for c in frame.columns]
        return [{k: plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
    if isinstance(value, pd.Series):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (pd.Index,)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [plain(v) for v in value.tolist()] if value.ndim else plain(value.item())
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if hasattr(value, "to_dict") and callable(value.to_dict) and not isinstance(value, type):
        return plain(value.to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if not f.name.startswith("_")}
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if isinstance(value, complex):
        return str(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


class ResultMixin:
    """Default ``to_frame()``/``to_dict()`` for a results dataclass.

    ``to_dict()`` converts every public dataclass field with :func:`plain`, except the names in
    ``_dict_skip`` (bulky inputs such as the data). ``to_frame()`` returns, in this order of
    preference, the ``coefficients`` table (tidy, ``term`` first), the first of the attributes
    named in ``_frame_from``, or a one-row frame of the scalar fields.
    """

    _frame_from: tuple[str, ...] = ()
    _dict_skip: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """Tidy DataFrame: the coefficient table where there is one, else the main table."""
        if "coefficients" in dir(type(self)):
            return tidy(self.coefficients)
        for name in self._frame_from:
            value = getattr(self, name)
            if isinstance(value, pd.DataFrame):
                if "estimate" in value.columns:
                    return coef_frame(value)
                return value.reset_index() if not isinstance(value.index, pd.RangeIndex) else value.copy()
            if isinstance(value, pd.Series):
                return value.rename_axis(value.index.name or "name").reset_index()
        row = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if not f.name.startswith("_") and isinstance(v, (int, float, str, bool, np.number, np.bool_)):
                row[f.name] = v
        return pd.DataFrame([row])

    def to_dict(self) -> dict[str, Any]:
        """Plain Python (JSON-serialisable with ``json.dumps(d, default=float)``)."""
        return {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)
                if not f.name.startswith("_") and f.name not in self._dict_skip}


def deprecated_alias(new: str, old: str, *, since: str = "this release") -> property:
    """A read-only property ``old`` that warns (DeprecationWarning) and returns ``self.new``."""

    def getter(self):
        warnings.warn(f"`{old}` is deprecated; use `{new}` (the results vocabulary, CONTRIBUTING.md). "
                      f"The old name goes after {since}.", DeprecationWarning, stacklevel=2)
        return getattr(self, new)

    return property(getter, doc=f"Deprecated alias of ``{new}``.")


def df_number(value: Any) -> float:
    """A degrees-of-freedom value as a number (NaN when there is none)."""
    return math.nan if value is None else float(value)
