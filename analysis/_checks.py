"""Input checks shared by the estimators.

Every public function of the workbook validates its input with these helpers so
that bad input produces a ``ValueError`` that names the argument and the
offending position (0-based, as in numpy/pandas), never a silent NaN or a wrong
number. They are private: users meet them only through the messages.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "as_float_array",
    "broadcast_arrays",
    "check_finite",
    "check_positive",
    "check_nonnegative",
    "check_integer_valued",
    "check_open_interval",
    "check_choice",
    "first_bad",
    "suggest_name",
    "check_dataframe",
    "check_columns",
    "check_level",
    "check_na_action",
    "NA_ACTIONS",
    "describe_labels",
]

#: The missing-value policies every meta-analysis entry point accepts, named as in metafor
#: (``na.action = "na.fail"`` / ``"na.omit"``): refuse (the default) or drop the incomplete rows
#: with a warning that lists them.
NA_ACTIONS = ("fail", "omit")


def _show(value) -> str:
    """A value as a user wrote it: numpy scalars as plain Python (-0.01, not np.float64(-0.01))."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def first_bad(mask: np.ndarray) -> str:
    """Describe the offending positions of a boolean mask, e.g. ``"position 3"``.

    At most five positions are listed so that messages stay readable.
    """
    idx = np.flatnonzero(np.asarray(mask).ravel())
    if idx.size == 0:
        return ""
    shown = ", ".join(str(i) for i in idx[:5])
    more = f" and {idx.size - 5} more" if idx.size > 5 else ""
    word = "position" if idx.size == 1 else "positions"
    return f"{word} {shown}{more}"


def as_float_array(name: str, x: Any, *, allow_none: bool = False) -> np.ndarray | None:
    """Convert ``x`` to a 1-D float array, with an error naming ``name``.

    Scalars become length-1 arrays (they broadcast later). Strings, objects that
    cannot be read as numbers and arrays of more than one dimension are refused.
    """
    if x is None:
        if allow_none:
            return None
        raise ValueError(f"`{name}` is required but was None.")
    if isinstance(x, (str, bytes)):
        raise ValueError(f"`{name}` must be numeric, got the string {x!r}.")
    if isinstance(x, pd.DataFrame):
        raise ValueError(f"`{name}` must be one-dimensional (a Series or array), got a DataFrame.")
    arr = np.asarray(x.to_numpy() if isinstance(x, pd.Series) else x)
    if arr.dtype == bool:
        raise ValueError(f"`{name}` must be numeric, got booleans.")
    if arr.dtype.kind not in "iuf":
        try:
            arr = arr.astype(float)
        except (TypeError, ValueError):
            flat = arr.ravel()
            bad = np.array([not _is_number(v) for v in flat])
            raise ValueError(
                f"`{name}` must be numeric; {first_bad(bad)} cannot be read as a number "
                f"(first: {str(flat[bad][0])!r})."
            ) from None
    arr = np.atleast_1d(arr.astype(float))
    if arr.ndim != 1:
        raise ValueError(f"`{name}` must be one-dimensional, got shape {arr.shape}.")
    return arr


def _is_number(v: Any) -> bool:
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


def broadcast_arrays(**arrays: np.ndarray | None) -> dict[str, np.ndarray | None]:
    """Broadcast named 1-D arrays to a common length.

    Length-1 arrays stretch; any other mismatch is an error that lists each
    argument's length.
    """
    present = {k: v for k, v in arrays.items() if v is not None}
    lengths = {k: v.shape[0] for k, v in present.items()}
    sizes = {n for n in lengths.values() if n != 1}
    if len(sizes) > 1:
        detail = ", ".join(f"`{k}` has {n}" for k, n in lengths.items())
        raise ValueError(f"Arguments have mismatched lengths: {detail}.")
    n = sizes.pop() if sizes else 1
    return {k: (None if v is None else np.broadcast_to(v, (n,)).copy()) for k, v in arrays.items()}


def check_finite(name: str, arr: np.ndarray) -> None:
    """Refuse NaN and infinite values, naming the positions."""
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(f"`{name}` has missing or infinite values at {first_bad(bad)}.")


def check_positive(name: str, arr: np.ndarray, what: str = "positive") -> None:
    """Refuse values <= 0 (after the finiteness check)."""
    check_finite(name, arr)
    bad = arr <= 0
    if bad.any():
        raise ValueError(
            f"`{name}` must be {what} (> 0); {first_bad(bad)} "
            f"has {_show(arr[bad][0])}."
        )


def check_nonnegative(name: str, arr: np.ndarray) -> None:
    """Refuse values < 0 (after the finiteness check)."""
    check_finite(name, arr)
    bad = arr < 0
    if bad.any():
        raise ValueError(f"`{name}` must be >= 0; {first_bad(bad)} has {_show(arr[bad][0])}.")


def check_integer_valued(name: str, arr: np.ndarray) -> None:
    """Refuse non-integer counts such as a sample size of 10.5."""
    bad = arr != np.round(arr)
    if bad.any():
        raise ValueError(f"`{name}` must hold whole numbers; {first_bad(bad)} has {_show(arr[bad][0])}.")


def check_open_interval(name: str, arr: np.ndarray, low: float, high: float) -> None:
    """Refuse values outside the open interval (low, high), e.g. |r| >= 1."""
    check_finite(name, arr)
    bad = (arr <= low) | (arr >= high)
    if bad.any():
        raise ValueError(
            f"`{name}` must lie strictly between {low} and {high}; {first_bad(bad)} "
            f"has {_show(arr[bad][0])}."
        )


def check_choice(name: str, value: Any, choices: tuple[str, ...] | list[str]) -> str:
    """Check that an option is one of the allowed choices (case-sensitive)."""
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {', '.join(map(repr, choices))}; got {value!r}.")
    return value


def suggest_name(name: Any, options: Any) -> str:
    """A " Did you mean 'x'?" hint for a misspelt name, or "" when nothing is close.

    Uses :func:`difflib.get_close_matches` (case-insensitive), so ``"therapist"`` suggests
    ``"therapist_id"``.
    """
    import difflib

    opts = [str(o) for o in options]
    lowered = {o.lower(): o for o in opts}
    close = difflib.get_close_matches(str(name).lower(), list(lowered), n=1, cutoff=0.6)
    if not close:
        # a prefix or substring is a strong hint too ("therapist" -> "therapist_id")
        close = [o for o in lowered if str(name).lower() in o or o in str(name).lower()][:1]
    return f" Did you mean {lowered[close[0]]!r}?" if close else ""


def check_dataframe(name: str, data: Any, *, min_rows: int = 1) -> pd.DataFrame:
    """Refuse anything but a pandas DataFrame with at least ``min_rows`` rows."""
    if not isinstance(data, pd.DataFrame):
        raise ValueError(
            f"`{name}` must be a pandas DataFrame, got {type(data).__name__}."
        )
    if len(data) < min_rows:
        raise ValueError(
            f"`{name}` has {len(data)} row{'s' if len(data) != 1 else ''}; at least {min_rows} "
            f"{'is' if min_rows == 1 else 'are'} needed."
        )
    return data


def check_columns(data: pd.DataFrame, columns: Any, *, argument: str = "data") -> None:
    """Refuse column names that ``data`` does not have, suggesting the nearest existing one.

    ``columns`` maps the argument that named the column to the name (or is a list of names).
    """
    items = columns.items() if isinstance(columns, dict) else [(None, c) for c in columns]
    for arg, col in items:
        if col is None:
            continue
        if not isinstance(col, (str, int)) or col not in data.columns:
            which = f" (given as `{arg}`)" if arg else ""
            raise ValueError(
                f"Column {col!r}{which} is not in `{argument}`.{suggest_name(col, data.columns)} "
                f"Its columns are: {', '.join(map(str, list(data.columns)[:20]))}"
                f"{' ...' if data.shape[1] > 20 else ''}."
            )


def check_level(name: str, value: Any) -> float:
    """A confidence or significance level must be a number strictly between 0 and 1."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise ValueError(f"`{name}` must be a number between 0 and 1, got {value!r}.")
    value = float(value)
    if not (0.0 < value < 1.0):
        raise ValueError(f"`{name}` must lie strictly between 0 and 1, got {value!r}.")
    return value


def check_na_action(value: Any) -> str:
    """The ``na_action`` option: ``"fail"`` (refuse missing values) or ``"omit"`` (drop, warn)."""
    return check_choice("na_action", value, NA_ACTIONS)


def describe_labels(labels: Any, *, what: str = "index labels") -> str:
    """List at most five row labels, e.g. ``"index labels 3, 7 and 2 more"``.

    Say ``what`` the labels are: DataFrame ``"index labels"`` or a CSV's ``"lines"``.
    """
    labels = list(labels)
    shown = ", ".join(map(str, labels[:5]))
    more = f" and {len(labels) - 5} more" if len(labels) > 5 else ""
    return f"{what} {shown}{more}"
