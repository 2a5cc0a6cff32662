"""Published meta-analytic results shipped in ``data/published/`` (checksum- and schema-checked).

``data/published/datapackage.json`` is a Frictionless data package like
``data/datapackage.json``: every file has a sha256, a schema (type, description
and constraints of each column), a source and a license. :func:`load` reads a
table through :func:`analysis.datasets.load` (same checksum and schema checks,
same error messages naming file, column and row) and then checks what a schema
cannot say:

* a row with ``status == "checked"`` names where its figures were read
  (``where`` not empty); a row that could not be read is ``"unchecked"``;
* a published confidence interval contains its estimate, and has both bounds
  or neither.

Unchecked rows are kept (so that readers see what is missing) but must never be
recorded as published numbers: :func:`checked` returns only the rows that were
read in a source.

No library does this; it is a thin layer over :mod:`analysis.datasets`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis import datasets
from analysis._checks import first_bad

__all__ = ["PACKAGE_PATH", "list_tables", "load", "checked"]

#: The data package of published results.
PACKAGE_PATH = Path(__file__).resolve().parent.parent / "data" / "published" / "datapackage.json"


def list_tables(*, package: str | Path | None = None) -> list[str]:
    """Names of the tables in ``data/published``.

    Parameters
    ----------
    package : str or path, optional
        Another data package of the same kind; default
        ``data/published/datapackage.json``.

    Returns
    -------
    list of str
        The table names, in the order of the data package.

    References
    ----------
    Frictionless Data. Data Package standard (v2): Data Package, Data Resource and Table
    Schema specifications. https://datapackage.org/standard/

    Examples
    --------
    >>> list_tables()
    ['relationship_elements']
    """
    return datasets.list_datasets(external=False, package=package or PACKAGE_PATH)


def _consistency(df: pd.DataFrame, source: str) -> None:
    """Checks across columns that a Frictionless schema cannot express."""
    problems = []
    if {"status", "where"} <= set(df.columns):
        where_missing = df["where"].isna() | (df["where"].astype(str).str.strip() == "")
        bad = (df["status"] == "checked").to_numpy() & where_missing.to_numpy()
        if bad.any():
            problems.append(f"column 'where': rows with status 'checked' must say where the figures were read "
                            f"(empty at {first_bad(bad)})")
    if {"estimate", "ci_low", "ci_high"} <= set(df.columns):
        lo, hi, est = (df[c].to_numpy(dtype=float) for c in ("ci_low", "ci_high", "estimate"))
        half = np.isnan(lo) != np.isnan(hi)
        if half.any():
            problems.append(f"columns 'ci_low'/'ci_high': give both bounds or neither ({first_bad(half)})")
        both = ~np.isnan(lo) & ~np.isnan(hi)
        outside = both & ((est < lo) | (est > hi))
        if outside.any():
            problems.append(f"column 'estimate' lies outside its confidence interval at {first_bad(outside)}")
    if problems:
        raise datasets.DataValidationError("; ".join(problems) + f" in {source}.")


def load(name: str = "relationship_elements", *, package: str | Path | None = None) -> pd.DataFrame:
    """Load a table of published results, verified against its checksum, schema and consistency rules.

    Parameters
    ----------
    name : str
        Table name (see :func:`list_tables`).
    package : path, optional
        Another data package of the same kind (for tests); default
        ``data/published/datapackage.json``.

    Returns
    -------
    pandas.DataFrame
        Typed as declared (numbers ``float64``, counts ``Int64``), with
        ``attrs["citation"]``, ``attrs["license"]``, ``attrs["source"]``.

    Raises
    ------
    analysis.datasets.ChecksumError
        The file's sha256 differs from the data package (it was edited).
    analysis.datasets.DataValidationError
        A value breaks the schema, a checked row does not say where it was
        read, or an estimate lies outside its interval (a ``ValueError``
        naming the column and rows).

    References
    ----------
    Frictionless Data. Data Package standard (v2): Data Package, Data Resource and Table
    Schema specifications. https://datapackage.org/standard/
    The published sources of the numbers themselves: the table's
    ``attrs["citation"]`` and ``attrs["source"]``, and each row's ``where``.

    Examples
    --------
    >>> df = load("relationship_elements")
    >>> int((df["status"] == "checked").sum()) > 0
    True
    """
    pkg = package or PACKAGE_PATH
    df = datasets.load(name, package=pkg)
    _consistency(df, str(df.attrs.get("source", name)))
    return df


def checked(df: pd.DataFrame) -> pd.DataFrame:
    """Only the rows read in a source (``status == "checked"``): the ones that may be recorded as published.

    Parameters
    ----------
    df : pandas.DataFrame
        A table from :func:`load`.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    ValueError
        If `df` has no ``status`` column.

    References
    ----------
    None: a filter (a utility). The sources of the rows it keeps are in the
    table's ``attrs["citation"]`` and each row's ``where``.

    Examples
    --------
    >>> (checked(load())["status"] == "checked").all()
    np.True_
    """
    if not isinstance(df, pd.DataFrame) or "status" not in df.columns:
        raise ValueError("`df` must be a DataFrame with a 'status' column (a table from analysis.published.load).")
    return df[df["status"] == "checked"]
