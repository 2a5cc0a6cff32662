"""Real open datasets: checksum-verified loading, schema validation and downloads.

The workbook's data are described by a `Frictionless data package
<https://datapackage.org/>`_, ``data/datapackage.json``: for every resource its
file, sha256, size, source, citation, license and a *schema* (every column's
type, unit, description and constraints). Two kinds of resource live there:

* files in ``data/raw/``: meta-analysis datasets exported unchanged from the R
  package metadat by ``data/scripts/import_metadat.R``;
* files in ``data/metapsy/``: the two open Metapsy databases (meta-analytic
  research domains, ODC-By 1.0), copied unchanged from their public
  repositories at pinned commits, with their README, metadata and license.

:func:`load` reads any of them from the repository (no download). For the
Metapsy databases, :func:`fetch` downloads a newer commit from GitHub (with
the sha256 you give), or returns the pinned copy when no commit is given.

Both go through the same checks, which users can also run on their own data
with :func:`validate` and :func:`read_csv`:

1. the file's sha256 must equal the one in the data package (a corrupted or
   hand-edited file is refused; raw files are never modified);
2. every column of the schema must be present (and, for ``fieldsMatch:
   "equal"``, no other);
3. every value must have the declared type (``integer``, ``number``,
   ``string``, ``boolean``); missing values are only the schema's
   ``missingValues`` (never a silent NaN from unparsable text);
4. constraints hold: ``required``, ``unique``, ``minimum``, ``maximum``,
   ``exclusiveMinimum``, ``exclusiveMaximum``, ``enum``, ``pattern``;
5. the ``primaryKey`` is complete and unique.

Every violation raises :class:`DataValidationError` (a ``ValueError``) naming
the file, the column and the rows. Rows are counted from 0 after the header, as
in ``DataFrame.iloc``; where the data have a primary key its value is shown too.

Column types in the returned DataFrame: ``integer`` → pandas ``Int64``
(nullable, so missing values stay missing without turning counts into floats),
``number`` → ``float64`` (missing = NaN, only where the file says so),
``string`` → pandas ``str``, ``boolean`` → ``boolean``.

Written by hand (no maintained Python library reads Frictionless schemas into
typed pandas DataFrames with row-level error messages and without network
access; ``frictionless-py`` validates but does not return typed DataFrames and
is a heavy dependency). Downloads use ``pooch``.
"""

from __future__ import annotations

import argparse
import codecs
import csv
import hashlib
import io
import json
import math
import os
import re
import stat
import sys
import tempfile
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from analysis._checks import suggest_name

__all__ = [
    "DataValidationError",
    "ChecksumError",
    "PACKAGE_PATH",
    "list_datasets",
    "describe",
    "load",
    "fetch",
    "validate",
    "read_csv",
    "repair_mojibake",
    "sha256_file",
    "write_checksums",
    "DatasetInfo",
]

#: The workbook's data package (``data/datapackage.json`` in the repository).
PACKAGE_PATH = Path(__file__).resolve().parent.parent / "data" / "datapackage.json"

#: Environment variable naming the download cache (default: pooch's OS cache).
CACHE_ENV = "ALLIANCE_DATA_CACHE"

_SUPPORTED_TYPES = ("string", "integer", "number", "boolean", "any")
_SUPPORTED_CONSTRAINTS = (
    "required",
    "unique",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "enum",
    "pattern",
)
_MAX_SHOWN = 5


# ----------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------


class DataValidationError(ValueError):
    """Data that do not match their schema or their checksum.

    Attributes
    ----------
    source : str
        The file (or ``"<your data>"``) the problem was found in.
    column : str or None
        The first offending column (None for file-level problems).
    rows : list of int
        0-based positions (after the header) of the first offending rows.
    problems : list of str
        Every problem found, one sentence each.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        column: str | None = None,
        rows: list[int] | None = None,
        problems: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.source = source
        self.column = column
        self.rows = list(rows or [])
        self.problems = list(problems or [message])


class ChecksumError(DataValidationError):
    """A file whose sha256 differs from the one its data package declares.

    Attributes
    ----------
    path : str
        The file that was checked.
    expected, actual : str
        The declared and the computed sha256 (hex digests).
    """

    def __init__(self, path: str | Path, expected: str, actual: str, hint: str = "") -> None:
        self.path = str(path)
        self.expected = expected
        self.actual = actual
        message = (
            f"{path}: checksum mismatch: the data package declares sha256 {expected}, "
            f"but the file has sha256 {actual}. The file is corrupted or was edited; "
            "raw data are never modified."
        )
        if hint:
            message += " " + hint
        super().__init__(message, source=str(path))


# ----------------------------------------------------------------------------
# Data package access
# ----------------------------------------------------------------------------


def _as_path(argument: str, value: Any) -> Path:
    """A path from a str or path-like, or a ValueError naming the argument."""
    if isinstance(value, bool) or not isinstance(value, (str, os.PathLike)):
        raise ValueError(f"`{argument}` must be a path (str or path-like), got {type(value).__name__}.")
    if not os.fspath(value):
        raise ValueError(f"`{argument}` must not be empty.")
    return Path(value)


def _read_package(package: str | Path | None) -> tuple[dict, Path]:
    path = _as_path("package", package) if package is not None else PACKAGE_PATH
    if path.is_dir():
        path = path / "datapackage.json"
    if not path.is_file():
        raise ValueError(f"`package`: no data package at {path}.")
    try:
        with open(path, encoding="utf-8") as fh:
            pkg = json.load(fh, object_pairs_hook=OrderedDict)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"`package`: {path} is not a JSON data package ({exc}).") from None
    if not isinstance(pkg, Mapping) or not isinstance(pkg.get("resources"), list):
        raise ValueError(f"`package`: {path} is not a data package (no 'resources' list).")
    return pkg, path.parent


def _resource(pkg: Mapping, name: str) -> dict:
    if not isinstance(name, str):
        raise ValueError(f"`name` must be a dataset name (str), got {type(name).__name__}.")
    for res in pkg.get("resources", []):
        if res.get("name") == name:
            return res
    options = [str(r.get("name")) for r in pkg.get("resources", [])]
    names = ", ".join(map(repr, options))
    raise ValueError(f"`name`: no dataset {name!r}.{suggest_name(name, options)} Available: {names}.")


def _check_flag(argument: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"`{argument}` must be True or False, got {value!r}.")
    return bool(value)


def list_datasets(*, external: bool = True, package: str | Path | None = None) -> list[str]:
    """Names of the datasets in the data package.

    Parameters
    ----------
    external : bool, default True
        Include external resources (not in the repository, only downloaded by
        :func:`fetch`; the workbook's package has none since the Metapsy
        databases are shipped) as well as the shipped files (read by
        :func:`load`).
    package : path, optional
        Another ``datapackage.json`` (or its folder); default the workbook's.

    Returns
    -------
    list of str
        Shipped datasets first, in the order of the data package.

    References
    ----------
    Frictionless Data. Data Package standard (v2): Data Package, Data Resource and Table
    Schema specifications. https://datapackage.org/standard/

    Examples
    --------
    >>> from analysis import datasets
    >>> "dat.bcg" in datasets.list_datasets()
    True
    >>> "metapsy-depression-psyctr" in datasets.list_datasets(external=False)
    True
    """
    external = _check_flag("external", external)
    pkg, _ = _read_package(package)
    shipped = [r["name"] for r in pkg["resources"] if not r.get("external")]
    ext = [r["name"] for r in pkg["resources"] if r.get("external")]
    return shipped + (ext if external else [])


@dataclass
class DatasetInfo:
    """What :func:`describe` returns: provenance and the column dictionary.

    Attributes
    ----------
    name, title, description : str
    citation : str
        The study (or database) to cite when using the data.
    license : str
        License name and terms (e.g. ``GPL-2.0-or-later``, ``ODC-By-1.0``).
    sources : list of dict
        Where the data came from (``title``, ``path``, ``version``).
    location : str
        Shipped file path or download URL.
    sha256 : str
        The declared checksum.
    external : bool
        True for databases downloaded by :func:`fetch`.
    fields : pandas.DataFrame
        One row per column: name, type, unit, description, constraints.
    primary_key : list of str
    """

    name: str
    title: str
    description: str
    citation: str
    license: str
    sources: list[dict]
    location: str
    sha256: str
    external: bool
    fields: pd.DataFrame = field(repr=False)
    primary_key: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """A readable description: title, citation, license, source and columns."""
        lines = [
            f"{self.name}: {self.title}",
            "",
            self.description,
            "",
            f"Cite: {self.citation}",
            f"License: {self.license}",
        ]
        for src in self.sources:
            lines.append(f"Source: {src.get('title', '')} <{src.get('path', '')}>")
        how = "downloaded by fetch()" if self.external else "shipped, read by load()"
        lines += [f"File: {self.location} ({how}); sha256 {self.sha256}", ""]
        if self.primary_key:
            lines.append(f"Primary key: {', '.join(self.primary_key)}")
        lines.append("Columns:")
        for row in self.fields.itertuples(index=False):
            unit = f" [{row.unit}]" if row.unit else ""
            cons = f" ({row.constraints})" if row.constraints else ""
            lines.append(f"  {row.name} <{row.type}>{unit}: {row.description}{cons}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _format_constraints(cons: Mapping) -> str:
    parts = []
    for key, value in cons.items():
        if key == "enum":
            parts.append("one of " + ", ".join(map(str, value)))
        elif value is True:
            parts.append(key)
        else:
            parts.append(f"{key} {value}")
    return "; ".join(parts)


def describe(name: str, *, package: str | Path | None = None) -> DatasetInfo:
    """Provenance and column dictionary of a dataset.

    Parameters
    ----------
    name : str
        A name from :func:`list_datasets`, e.g. ``"dat.bcg"``.
    package : path, optional
        Another ``datapackage.json``; default the workbook's.

    Returns
    -------
    DatasetInfo
        ``citation``, ``license``, ``sources``, ``fields`` (a DataFrame with
        name, type, unit, description, constraints) and ``summary()``.

    References
    ----------
    Frictionless Data. Data Package standard (v2): Data Package, Data Resource and Table
    Schema specifications. https://datapackage.org/standard/

    Examples
    --------
    >>> from analysis import datasets
    >>> info = datasets.describe("dat.bcg")
    >>> info.citation.startswith("Colditz")
    True
    >>> info.fields.set_index("name").loc["ablat", "unit"]
    'degrees'
    """
    pkg, _ = _read_package(package)
    res = _resource(pkg, name)
    schema = res.get("schema", {})
    rows = [
        {
            "name": f["name"],
            "type": f.get("type", "string"),
            "unit": f.get("unit", ""),
            "description": f.get("description", ""),
            "constraints": _format_constraints(f.get("constraints", {})),
        }
        for f in schema.get("fields", [])
    ]
    lic = "; ".join(
        f"{lic.get('name', '')} ({lic.get('title', '')}) {lic.get('path', '')}".strip()
        for lic in res.get("licenses", pkg.get("licenses", []))
    )
    return DatasetInfo(
        name=res["name"],
        title=res.get("title", ""),
        description=res.get("description", ""),
        citation=res.get("citation", ""),
        license=lic,
        sources=list(res.get("sources", [])),
        location=res.get("path", ""),
        sha256=res.get("hash", "").removeprefix("sha256:"),
        external=bool(res.get("external", False)),
        fields=pd.DataFrame(rows, columns=["name", "type", "unit", "description", "constraints"]),
        primary_key=list(schema.get("primaryKey", [])),
    )


# ----------------------------------------------------------------------------
# Checksums
# ----------------------------------------------------------------------------


def sha256_file(path: str | Path) -> str:
    """Hex sha256 digest of a file, read in chunks.

    Parameters
    ----------
    path : str or path
        The file (read in binary mode, 1 MiB at a time, so large files need little
        memory).

    Returns
    -------
    str
        The SHA-256 digest as 64 lower-case hexadecimal characters (``hashlib``).

    Raises
    ------
    ValueError
        If `path` is not a str or path-like, or names no file.

    References
    ----------
    National Institute of Standards and Technology (2015). *Secure Hash Standard (SHS)*.
    FIPS PUB 180-4. https://doi.org/10.6028/NIST.FIPS.180-4

    Examples
    --------
    >>> from analysis.datasets import sha256_file, PACKAGE_PATH
    >>> len(sha256_file(PACKAGE_PATH))
    64
    """
    target = _as_path("path", path)
    if not target.is_file():
        raise ValueError(f"`path`: no file at {target}.")
    digest = hashlib.sha256()
    with open(target, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _declared_sha256(res: Mapping) -> str:
    value = res.get("hash", "")
    if not value.startswith("sha256:") or len(value) != len("sha256:") + 64:
        raise ValueError(
            f"datapackage.json: resource {res.get('name')!r} has no sha256 hash "
            f"(found {value!r}); run `python -m analysis.datasets --write-checksums`."
        )
    return value.removeprefix("sha256:")


def _verify(path: Path, expected: str, hint: str = "") -> None:
    actual = sha256_file(path)
    if actual != expected:
        raise ChecksumError(path, expected, actual, hint)


def write_checksums(package: str | Path | None = None) -> list[str]:
    """Recompute ``hash`` (sha256) and ``bytes`` of every shipped resource.

    Only these two properties are rewritten; the rest of ``datapackage.json`` is
    kept as it is (same order, UTF-8, two-space indent). External resources keep
    their pinned hashes, and so do files pinned to an upstream commit (the
    Metapsy copies: a ``commit`` in the resource; their sha256 is the
    published file's and must never follow a local edit). ``make data`` calls this through
    ``python -m analysis.datasets --write-checksums``.

    Parameters
    ----------
    package : path, optional
        Another ``datapackage.json``; default the workbook's.

    Returns
    -------
    list of str
        Names of the resources whose hash or size changed.

    References
    ----------
    Frictionless Data. Data Package standard (v2): Data Package, Data Resource and Table
    Schema specifications. https://datapackage.org/standard/
    National Institute of Standards and Technology (2015). *Secure Hash Standard (SHS)*.
    FIPS PUB 180-4. https://doi.org/10.6028/NIST.FIPS.180-4

    Examples
    --------
    >>> from analysis import datasets
    >>> datasets.write_checksums()  # doctest: +SKIP
    []
    """
    pkg, base = _read_package(package)
    changed = []
    for res in pkg["resources"]:
        if res.get("external") or res.get("commit"):
            continue
        path = base / res["path"]
        if not path.is_file():
            raise ValueError(f"`package`: resource {res.get('name')!r} names {path}, which does not exist.")
        digest, size = "sha256:" + sha256_file(path), path.stat().st_size
        if res.get("hash") != digest or res.get("bytes") != size:
            changed.append(res["name"])
        res["hash"], res["bytes"] = digest, size
    target = base / "datapackage.json"
    # Atomic: a temporary file in the same folder replaces the package only when complete.
    fd, tmp = tempfile.mkstemp(prefix=".datapackage.", suffix=".tmp", dir=base)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(json.dumps(pkg, ensure_ascii=False, indent=2) + "\n")
        os.chmod(tmp, stat.S_IMODE(target.stat().st_mode))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return changed


# ----------------------------------------------------------------------------
# Reading and validation
# ----------------------------------------------------------------------------


def _rows_text(positions: list[int], values: list[Any] | None = None, keys: list[str] | None = None) -> str:
    shown = []
    for k, pos in enumerate(positions[:_MAX_SHOWN]):
        extra = []
        if keys is not None and keys[k]:
            extra.append(keys[k])
        if values is not None:
            extra.append(f"value {values[k]!r}")
        shown.append(f"{pos}" + (f" ({', '.join(extra)})" if extra else ""))
    word = "row" if len(positions) == 1 else "rows"
    more = f" and {len(positions) - _MAX_SHOWN} more" if len(positions) > _MAX_SHOWN else ""
    return f"{word} {', '.join(shown)}{more}"


class _Problems:
    def __init__(self, source: str, key_labels: list[str] | None) -> None:
        self.source = source
        self.items: list[tuple[str | None, list[int], str]] = []
        self.key_labels = key_labels

    def add(self, column: str | None, rows: list[int], text: str, values: list | None = None) -> None:
        where = f"column {column!r}" if column is not None else "the data"
        if rows:
            keys = [self.key_labels[r] for r in rows[:_MAX_SHOWN]] if self.key_labels else None
            text = f"{where}, {_rows_text(rows, values, keys)}: {text}"
        else:
            text = f"{where}: {text}"
        self.items.append((column, rows, text))

    def raise_if_any(self) -> None:
        if not self.items:
            return
        texts = [t for _, _, t in self.items]
        if len(texts) == 1:
            message = f"{self.source}: {texts[0]}"
        else:
            message = f"{self.source}: {len(texts)} problems:\n  - " + "\n  - ".join(texts)
        column, rows, _ = self.items[0]
        raise DataValidationError(message, source=self.source, column=column, rows=rows[:_MAX_SHOWN], problems=texts)


def _schema_of(schema_or_name: Mapping | str, package: str | Path | None) -> tuple[dict, dict]:
    """Return (schema, resource-or-empty) for a schema dict or a dataset name."""
    if isinstance(schema_or_name, str):
        pkg, _ = _read_package(package)
        res = _resource(pkg, schema_or_name)
        return res["schema"], res
    if isinstance(schema_or_name, Mapping) and "fields" in schema_or_name:
        return dict(schema_or_name), {}
    if isinstance(schema_or_name, Mapping) and "schema" in schema_or_name:
        return dict(schema_or_name["schema"]), dict(schema_or_name)
    raise ValueError(
        "`schema` must be a dataset name or a Frictionless table schema (a dict with 'fields')."
    )


def _check_schema(schema: Mapping) -> None:
    names = []
    fields = schema.get("fields", [])
    if not isinstance(fields, list):
        raise ValueError(f"`schema`: 'fields' must be a list of field descriptors, got {type(fields).__name__}.")
    for f in fields:
        if not isinstance(f, Mapping):
            raise ValueError(f"`schema`: each field must be a dict with a 'name', got {f!r}.")
        if "name" not in f:
            raise ValueError(f"`schema`: a field has no 'name': {dict(f)!r}.")
        names.append(f["name"])
        ftype = f.get("type", "string")
        if ftype not in _SUPPORTED_TYPES:
            raise ValueError(
                f"`schema`: field {f['name']!r} has type {ftype!r}; supported: {', '.join(_SUPPORTED_TYPES)}."
            )
        unknown = set(f.get("constraints", {})) - set(_SUPPORTED_CONSTRAINTS)
        if unknown:
            raise ValueError(
                f"`schema`: field {f['name']!r} has unsupported constraints {sorted(unknown)}; "
                f"supported: {', '.join(_SUPPORTED_CONSTRAINTS)}."
            )
    for key in schema.get("primaryKey", []) or []:
        if key not in names:
            raise ValueError(f"`schema`: primaryKey column {key!r} is not a field.")
    match = schema.get("fieldsMatch", "exact")
    if match not in ("exact", "equal", "subset"):
        raise ValueError(f"`schema`: fieldsMatch {match!r} is not supported (exact, equal, subset).")


def _is_missing_scalar(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float) and math.isnan(v)


def _parse_number(text: str, decimal: str, group: str | None) -> float | None:
    t = text.strip()
    if group:
        t = t.replace(group, "")
    if decimal != ".":
        if "." in t:
            return None
        t = t.replace(decimal, ".")
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", t):
        return None
    return float(t)


def _convert(
    col: pd.Series, fdef: Mapping, missing: list[str], schema: Mapping, probs: _Problems
) -> tuple[pd.Series, np.ndarray]:
    """Convert one column to its declared type; return (series, missing mask)."""
    name = fdef["name"]
    ftype = fdef.get("type", "string")
    values = col.to_numpy(dtype=object)
    n = len(values)
    is_text = np.array([isinstance(v, str) for v in values], dtype=bool)
    miss = np.array(
        [_is_missing_scalar(v) or (isinstance(v, str) and v in missing) for v in values], dtype=bool
    )
    out = np.empty(n, dtype=object)
    bad: list[int] = []
    why = ""
    if ftype in ("string", "any"):
        for i, v in enumerate(values):
            if miss[i]:
                out[i] = None
            elif isinstance(v, str) or ftype == "any":
                out[i] = v
            else:
                bad.append(i)
        why = "is not text (declared type 'string')"
        result = pd.Series(out, index=col.index, dtype="str" if ftype == "string" else object, name=name)
    elif ftype in ("number", "integer"):
        decimal = fdef.get("decimalChar", schema.get("decimalChar", "."))
        group = fdef.get("groupChar")
        num = np.full(n, np.nan)
        for i, v in enumerate(values):
            if miss[i]:
                continue
            if isinstance(v, (bool, np.bool_)):
                bad.append(i)
                continue
            if is_text[i]:
                x = _parse_number(v, decimal, group)
                if x is None or (ftype == "integer" and not re.fullmatch(r"\s*[+-]?\d+\s*", v)):
                    bad.append(i)
                    continue
            else:
                try:
                    x = float(v)
                except (TypeError, ValueError):
                    bad.append(i)
                    continue
            if not math.isfinite(x) or (ftype == "integer" and x != round(x)):
                bad.append(i)
                continue
            num[i] = x
        why = (
            "is not a whole number (declared type 'integer')"
            if ftype == "integer"
            else "is not a finite number (declared type 'number')"
        )
        if ftype == "integer":
            arr = pd.array([pd.NA if (miss[i] or i in bad) else int(num[i]) for i in range(n)], dtype="Int64")
            result = pd.Series(arr, index=col.index, name=name)
        else:
            result = pd.Series(num, index=col.index, name=name)
    else:  # boolean
        true_values = fdef.get("trueValues", ["true", "True", "TRUE", "1"])
        false_values = fdef.get("falseValues", ["false", "False", "FALSE", "0"])
        arr = []
        for i, v in enumerate(values):
            if miss[i]:
                arr.append(pd.NA)
            elif isinstance(v, (bool, np.bool_)):
                arr.append(bool(v))
            elif isinstance(v, str) and v in true_values:
                arr.append(True)
            elif isinstance(v, str) and v in false_values:
                arr.append(False)
            else:
                bad.append(i)
                arr.append(pd.NA)
        why = "is not a boolean (declared type 'boolean')"
        result = pd.Series(pd.array(arr, dtype="boolean"), index=col.index, name=name)
    if bad:
        probs.add(name, bad, why, [values[i] for i in bad[:_MAX_SHOWN]])
    bad_mask = np.zeros(n, dtype=bool)
    bad_mask[bad] = True
    return result, miss | bad_mask


def _check_constraints(s: pd.Series, miss: np.ndarray, fdef: Mapping, probs: _Problems) -> None:
    """Check every constraint except ``required`` (handled by the caller) on typed values."""
    name = fdef["name"]
    cons = fdef.get("constraints", {})
    ftype = fdef.get("type", "string")
    present = ~miss
    pos = np.arange(len(s))
    vals = s.to_numpy(dtype=object)
    if cons.get("unique"):
        dup = s[present].duplicated(keep=False)
        rows = pos[present][dup.to_numpy()].tolist()
        if rows:
            probs.add(name, rows, "values must be unique but repeat", [vals[r] for r in rows[:_MAX_SHOWN]])
    numeric = ftype in ("number", "integer")
    for key, op, text in (
        ("minimum", np.less, "is below the minimum"),
        ("maximum", np.greater, "is above the maximum"),
        ("exclusiveMinimum", np.less_equal, "must be greater than"),
        ("exclusiveMaximum", np.greater_equal, "must be less than"),
    ):
        if key in cons and numeric:
            x = s.to_numpy(dtype=float, na_value=np.nan)
            with np.errstate(invalid="ignore"):
                hit = present & op(x, float(cons[key]))
            rows = pos[hit].tolist()
            if rows:
                probs.add(name, rows, f"{text} {cons[key]}", [vals[r] for r in rows[:_MAX_SHOWN]])
    if "enum" in cons:
        allowed = list(cons["enum"])
        if numeric:
            hit = present & ~np.isin(s.to_numpy(dtype=float, na_value=np.nan), np.array(allowed, dtype=float))
        else:
            hit = present & ~np.isin(vals.astype(str), np.array([str(a) for a in allowed]))
        rows = pos[hit].tolist()
        if rows:
            probs.add(
                name, rows, "is not one of the allowed values " + ", ".join(map(repr, allowed)),
                [vals[r] for r in rows[:_MAX_SHOWN]],
            )
    if "pattern" in cons and not numeric:
        rx = re.compile(cons["pattern"])
        hit = present & np.array([not (isinstance(v, str) and rx.fullmatch(v)) for v in vals])
        rows = pos[hit].tolist()
        if rows:
            probs.add(name, rows, f"does not match the pattern {cons['pattern']!r}", [vals[r] for r in rows[:_MAX_SHOWN]])


def _infer_extra(col: pd.Series, missing: list[str], decimal: str) -> pd.Series:
    """Type a column that the schema does not describe: numbers if all parse, else text."""
    values = col.to_numpy(dtype=object)
    miss = [_is_missing_scalar(v) or (isinstance(v, str) and v in missing) for v in values]
    if not all(isinstance(v, str) or m for v, m in zip(values, miss)):
        return col
    nums = [None if m else _parse_number(v, decimal, None) for v, m in zip(values, miss)]
    if all(m or x is not None for x, m in zip(nums, miss)) and not all(miss):
        return pd.Series([np.nan if m else x for x, m in zip(nums, miss)], index=col.index, name=col.name, dtype=float)
    return pd.Series([None if m else v for v, m in zip(values, miss)], index=col.index, name=col.name, dtype="str")


def validate(
    data: pd.DataFrame,
    schema: Mapping | str,
    *,
    source: str = "<your data>",
    package: str | Path | None = None,
) -> pd.DataFrame:
    """Check a table against a Frictionless table schema and return it typed.

    The same checks as :func:`load` applies to the shipped files, for your own
    data: every schema column present (and, for ``fieldsMatch: "equal"``, no
    other); each value of the declared type; constraints (``required``,
    ``unique``, ``minimum``, ``maximum``, ``exclusiveMinimum``,
    ``exclusiveMaximum``, ``enum``, ``pattern``); a complete and unique
    ``primaryKey``. All problems are collected and reported together.

    Parameters
    ----------
    data : pandas.DataFrame
        Your table. Text columns are parsed (numbers with the schema's
        ``decimalChar``); values listed in the schema's ``missingValues``
        (default ``[""]``) and NaN/None are missing.
    schema : dict or str
        A table schema (a dict with ``fields``), a resource dict with a
        ``schema``, or the name of a dataset whose schema to use.
    source : str
        How to name your data in error messages (e.g. the file name).
    package : path, optional
        Data package to look a dataset name up in; default the workbook's.

    Returns
    -------
    pandas.DataFrame
        A typed copy (``integer`` → ``Int64``, ``number`` → ``float64``,
        ``string`` → ``str``, ``boolean`` → ``boolean``); columns the schema
        does not describe (allowed with ``fieldsMatch: "subset"``) are kept,
        as numbers when every value parses as one. The input is not modified.

    Raises
    ------
    DataValidationError
        A ``ValueError`` naming ``source``, the column and the rows (0-based,
        after the header; with the primary key's value where there is one).

    References
    ----------
    Frictionless Data. Table Schema specification (Data Package standard v2).
    https://datapackage.org/standard/table-schema/

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis import datasets
    >>> mine = pd.DataFrame({"study": ["A", "B"], "n": [120, 80], "tval": [2.1, 0.4],
    ...                      "preds": [3, 5], "R2": [0.2, 0.1]})
    >>> datasets.validate(mine, "dat.aloe2013")["n"].dtype
    Int64Dtype()
    >>> mine.loc[1, "R2"] = 1.7
    >>> datasets.validate(mine, "dat.aloe2013", source="mine.csv")
    Traceback (most recent call last):
    ...
    analysis.datasets.DataValidationError: mine.csv: column 'R2', row 1 (study=B, value 1.7): is above the maximum 1
    """
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"`data` must be a pandas DataFrame, got {type(data).__name__}.")
    if not isinstance(source, str):
        raise ValueError(f"`source` must be a str naming your data, got {type(source).__name__}.")
    schema, _ = _schema_of(schema, package)
    _check_schema(schema)
    fields = list(schema.get("fields", []))
    missing_values = list(schema.get("missingValues", [""]))
    decimal = schema.get("decimalChar", ".")
    df = data.copy()
    # Headers that the file cannot hold (e.g. R's empty row-name header) are renamed.
    renames = {f["x-header"]: f["name"] for f in fields if "x-header" in f and f["x-header"] in df.columns}
    if renames:
        df = df.rename(columns=renames)

    header_problems = _Problems(source, None)
    cols = [str(c) for c in df.columns]
    dupes = sorted({c for c in cols if cols.count(c) > 1})
    for c in dupes:
        header_problems.add(c, [], "appears more than once in the header")
    names = [f["name"] for f in fields]
    for c in names:
        if c not in cols:
            hint = suggest_name(c, [x for x in cols if x not in names])
            header_problems.add(c, [], f"is missing (the schema requires this column).{hint}")
    if schema.get("fieldsMatch", "exact") in ("exact", "equal"):
        for c in cols:
            if c not in names:
                header_problems.add(c, [], "is not in the schema (unexpected column)")
    header_problems.raise_if_any()
    df.columns = cols

    key = list(schema.get("primaryKey", []) or [])
    key_labels = None
    if key:
        key_labels = [
            ", ".join(f"{k}={df[k].iloc[i]}" for k in key) for i in range(len(df))
        ]
    probs = _Problems(source, key_labels)
    typed: dict[str, pd.Series] = {}
    missing_masks: dict[str, np.ndarray] = {}
    for fdef in fields:
        s, miss = _convert(df[fdef["name"]], fdef, missing_values, schema, probs)
        typed[fdef["name"]] = s
        missing_masks[fdef["name"]] = miss
    n_type_problems = len(probs.items)
    for fdef in fields:
        s = typed[fdef["name"]]
        true_missing = np.array(s.isna().to_numpy(dtype=bool))
        mistyped = missing_masks[fdef["name"]] & ~_raw_missing(df[fdef["name"]], missing_values)
        cons = dict(fdef.get("constraints", {}))
        if cons.get("required"):
            rows = np.flatnonzero(true_missing & ~mistyped).tolist()
            if rows:
                probs.add(fdef["name"], rows, "a value is required but missing")
            cons.pop("required")
        _check_constraints(s, true_missing, {**fdef, "constraints": cons}, probs)
    if key and n_type_problems == 0:
        kdf = pd.DataFrame({k: typed[k] for k in key})
        incomplete = kdf.isna().any(axis=1).to_numpy()
        if incomplete.any() and not any(
            fdef.get("constraints", {}).get("required") for fdef in fields if fdef["name"] in key
        ):
            probs.add(", ".join(key), np.flatnonzero(incomplete).tolist(), "the primary key has a missing value")
        dup = kdf.duplicated(keep=False).to_numpy() & ~incomplete
        if dup.any():
            probs.add(", ".join(key), np.flatnonzero(dup).tolist(), "duplicated primary key (each key must identify one row)")
    probs.raise_if_any()

    out = {}
    for c in df.columns:
        if c in typed:
            out[c] = typed[c]
        else:
            out[c] = _infer_extra(df[c], missing_values, decimal)
    return pd.DataFrame(out, index=df.index)


def _raw_missing(col: pd.Series, missing: list[str]) -> np.ndarray:
    return np.array(
        [_is_missing_scalar(v) or (isinstance(v, str) and v in missing) for v in col.to_numpy(dtype=object)],
        dtype=bool,
    )


def _read_text_table(text: str, dialect: Mapping, source: str) -> pd.DataFrame:
    """Parse CSV text into a DataFrame of strings (no type guessing, no NA guessing)."""
    delimiter = dialect.get("delimiter", ",")
    quotechar = dialect.get("quoteChar", '"')
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar=quotechar,
                        doublequote=dialect.get("doubleQuote", True), strict=True)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise DataValidationError(f"{source}: not a well-formed CSV file ({exc}).", source=source) from None
    if not rows:
        raise DataValidationError(f"{source}: the file is empty (no header row).", source=source)
    header, body = rows[0], rows[1:]
    wrong = [i for i, r in enumerate(body) if len(r) != len(header)]
    if wrong:
        raise DataValidationError(
            f"{source}: {_rows_text(wrong)} ha{'s' if len(wrong) == 1 else 've'} "
            f"{len(body[wrong[0]])} fields, but the header has {len(header)}.",
            source=source, rows=wrong[:_MAX_SHOWN],
        )
    cols = {}
    seen = set()
    for j, name in enumerate(header):
        if name in seen:
            raise DataValidationError(f"{source}: column {name!r} appears more than once in the header.",
                                      source=source, column=name)
        seen.add(name)
        cols[name] = pd.Series([r[j] for r in body], dtype=object, name=name)
    return pd.DataFrame(cols)


def _decode(raw: bytes, encoding: str, source: str) -> str:
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise DataValidationError(
            f"{source}: not valid {encoding} at byte {exc.start} ({raw[exc.start:exc.start + 4]!r}).",
            source=source,
        ) from None
    return text.removeprefix("\ufeff")


def read_csv(
    path: str | Path,
    schema: Mapping | str,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    package: str | Path | None = None,
) -> pd.DataFrame:
    """Read your own CSV file with a schema's types and check it.

    Parameters
    ----------
    path : path
        The CSV file.
    schema : dict or str
        A table schema, a resource dict, or a dataset name (whose dialect and
        encoding are then used unless given here).
    encoding : str, optional
        Default: the resource's encoding, else UTF-8.
    delimiter : str, optional
        Default: the resource's dialect, else ``","``.
    package : path, optional
        Data package to look a dataset name up in.

    Returns
    -------
    pandas.DataFrame
        Typed and validated, as from :func:`validate`.

    Raises
    ------
    DataValidationError
        Naming the file, the column and the rows.
    ValueError
        Naming the argument: a `path` that is not a path or no file, an
        unknown `encoding`, a `delimiter` that is not one character.

    References
    ----------
    Frictionless Data. Table Schema specification (Data Package standard v2).
    https://datapackage.org/standard/table-schema/
    Frictionless Data. Table Dialect specification (Data Package standard v2).
    https://datapackage.org/standard/table-dialect/

    Examples
    --------
    >>> from analysis import datasets
    >>> df = datasets.read_csv("data/raw/dat.bcg.csv", "dat.bcg")  # doctest: +SKIP
    >>> int(df["tpos"].sum())  # doctest: +SKIP
    1065
    """
    path = _as_path("path", path)
    schema_dict, res = _schema_of(schema, package)
    dialect = dict(res.get("dialect", {}))
    if delimiter is not None:
        if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\r\n\"":
            raise ValueError(f"`delimiter` must be one character (e.g. ',' or ';'), got {delimiter!r}.")
        dialect["delimiter"] = delimiter
    if encoding is not None:
        if not isinstance(encoding, str):
            raise ValueError(f"`encoding` must be an encoding name (str), got {type(encoding).__name__}.")
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ValueError(f"`encoding`: unknown text encoding {encoding!r} (e.g. 'utf-8', 'latin-1').") from None
    enc = encoding or res.get("encoding", "utf-8")
    if not path.is_file():
        raise ValueError(f"`path`: no file at {path}.")
    text = _decode(path.read_bytes(), enc, str(path))
    table = _read_text_table(text, dialect, str(path))
    return validate(table, schema_dict, source=str(path))


def load(name: str, *, package: str | Path | None = None) -> pd.DataFrame:
    """Load a shipped dataset, verified against its checksum and schema.

    The file's sha256 is compared with ``datapackage.json`` first (a corrupted
    or hand-edited file is refused), then the file is read with the declared
    types and validated (see :func:`validate`). The raw file is never modified.

    Parameters
    ----------
    name : str
        A shipped dataset, e.g. ``"dat.bcg"``, ``"dat.lopez2019"``,
        ``"metapsy-depression-psyctr"`` (see :func:`list_datasets`).
    package : path, optional
        Another ``datapackage.json`` (or its folder); default the workbook's.

    Returns
    -------
    pandas.DataFrame
        One column per schema field, with ``attrs["citation"]``,
        ``attrs["license"]`` and ``attrs["source"]`` set. For the Metapsy
        databases also ``attrs["text_repairs"]``: the encoding mix-ups undone
        by :func:`repair_mojibake`, as ``(row, column, before, after)`` (the
        file itself is never changed).

    Raises
    ------
    ChecksumError
        The file's sha256 differs from the declared one (names the file and
        both hashes).
    DataValidationError
        A value breaks the schema (names the file, column and rows).

    References
    ----------
    Frictionless Data. Data Package standard (v2): Data Package, Data Resource and Table
    Schema specifications. https://datapackage.org/standard/
    National Institute of Standards and Technology (2015). *Secure Hash Standard (SHS)*.
    FIPS PUB 180-4. https://doi.org/10.6028/NIST.FIPS.180-4

    Examples
    --------
    >>> from analysis import datasets
    >>> bcg = datasets.load("dat.bcg")
    >>> bcg.shape
    (13, 9)
    >>> int(bcg["tpos"].sum())
    1065
    """
    pkg, base = _read_package(package)
    res = _resource(pkg, name)
    if res.get("external"):
        raise ValueError(f"`name`: {name!r} is an external database; use fetch({name!r}).")
    path = base / res["path"]
    if not path.is_file():
        raise ValueError(f"{path}: the file of dataset {name!r} is missing; restore it with `git checkout`.")
    hint = ("Restore it with `git checkout -- data/`"
            + (f"; it must be an unmodified copy of {_download_url(res, res['commit'])}." if res.get("commit")
               else " or re-export with `make data`."))
    _verify(path, _declared_sha256(res), hint)
    return _parse(path, res)


def _parse(path: Path, res: Mapping) -> pd.DataFrame:
    """Decode, read, repair text (resources with ``textRepair``), validate and attach provenance."""
    source = str(path)
    text = _decode(Path(path).read_bytes(), res.get("encoding", "utf-8"), source)
    table = _read_text_table(text, res.get("dialect", {}), source)
    repairs = []
    if res.get("textRepair"):
        for c in table.columns:
            col = table[c].to_numpy(dtype=object).copy()
            for i, v in enumerate(col):
                fixed = repair_mojibake(v)
                if fixed != v:
                    repairs.append((i, c, v, fixed))
                    col[i] = fixed
            table[c] = pd.Series(col, dtype=object)
    df = validate(table, res["schema"], source=source)
    _attach(df, res)
    df.attrs["file"] = source
    if res.get("textRepair"):
        df.attrs["text_repairs"] = repairs
    return df


def _attach(df: pd.DataFrame, res: Mapping) -> None:
    df.attrs["name"] = res["name"]
    df.attrs["citation"] = res.get("citation", "")
    df.attrs["license"] = ", ".join(lic.get("name", "") for lic in res.get("licenses", []))
    df.attrs["source"] = res.get("path", "")


# ----------------------------------------------------------------------------
# Text repair for the Metapsy files
# ----------------------------------------------------------------------------

# UTF-8 bytes that were decoded as Windows-1252 ("â€“" for "–", "Ã©" for "é").
_CP1252_CONT = "".join(
    ch for ch in (bytes([b]).decode("cp1252", errors="ignore") for b in range(0x80, 0xC0)) if ch
)
_UTF8_AS_CP1252 = re.compile(f"[\u00c2-\u00f4][{re.escape(_CP1252_CONT)}]{{1,3}}")

# Latin-1 bytes that were decoded as Mac Roman ("M¸ller" for "Müller"). Only
# glyphs that do not occur inside words are repaired when they stand between
# two letters; quotes, dashes and the like are left alone.
_MAC_INSIDE_WORD = "¸·˘˙˚˝˛¯‡‰∫√≈∆¬÷⁄"
_MAC_TO_LATIN1 = {
    ch: bytes([b]).decode("latin-1")
    for b in range(0x80, 0x100)
    if (ch := bytes([b]).decode("mac_roman")) and bytes([b]).decode("latin-1").isalpha()
}


def _fix_cp1252(match: re.Match) -> str:
    s = match.group(0)
    lead = ord(s[0])
    need = 1 if lead < 0xE0 else 2 if lead < 0xF0 else 3
    head, tail = s[: need + 1], s[need + 1 :]
    try:
        return head.encode("cp1252").decode("utf-8") + tail
    except (UnicodeEncodeError, UnicodeDecodeError):
        return s


def repair_mojibake(text: str) -> str:
    """Undo the two encoding mix-ups found in the Metapsy databases.

    1. UTF-8 read as Windows-1252: a lead character U+00C2–U+00F4 followed by
       1–3 characters that are Windows-1252 continuation bytes is re-encoded
       and decoded as UTF-8 when that succeeds ("â€“" → "–", "Ã©" → "é").
    2. Latin-1 read as Mac Roman: a Mac Roman glyph that cannot stand inside a
       word (``¸ · ˘ ˙ ˚ ˝ ˛ ¯ ‡ ‰ ∫ √ ≈ ∆ ¬ ÷ ⁄``) between two letters is
       replaced by the Latin-1 letter of the same byte ("M¸ller" → "Müller",
       "D·vila" → "Dávila"; Catalan "l·l" is kept); an upper-case Mac Roman
       letter right after a lower-case letter whose byte is a lower-case Latin-1
       letter ("HassmÈn" → "Hassmén"); a word-initial "ÿ" before a lower-case
       letter ("ÿstvik" → "Østvik").

    The result is normalised to Unicode NFC. Written by hand: the rules are
    narrow on purpose (they change only sequences that cannot be correct text)
    and every change :func:`fetch` makes is listed in
    ``DataFrame.attrs["text_repairs"]``.

    Parameters
    ----------
    text : str

    Returns
    -------
    str

    References
    ----------
    The Unicode Consortium. Unicode Standard Annex #15: Unicode Normalization Forms (NFC).
    https://www.unicode.org/reports/tr15/
    The two rules themselves are the workbook's own (no literature): they undo the
    Windows-1252 and Mac Roman mis-decodings seen in the Metapsy files.

    Examples
    --------
    >>> from analysis.datasets import repair_mojibake
    >>> repair_mojibake("M¸ller-Nielsen, K.; D·vila-Rom·n VG; HassmÈn, P.; ÿstvik AR")
    'Müller-Nielsen, K.; Dávila-Román VG; Hassmén, P.; Østvik AR'
    >>> repair_mojibake("the ADEPT trial â€“ a pilot; difference 6·32 points")
    'the ADEPT trial – a pilot; difference 6·32 points'
    """
    if not isinstance(text, str):
        raise ValueError(f"`text` must be a str, got {type(text).__name__}.")
    s = _UTF8_AS_CP1252.sub(_fix_cp1252, text)
    chars = list(s)
    n = len(chars)
    for i, ch in enumerate(chars):
        if ch not in _MAC_TO_LATIN1:
            continue
        prev = s[i - 1] if i > 0 else ""
        nxt = s[i + 1] if i + 1 < n else ""
        target = _MAC_TO_LATIN1[ch]
        if ch in _MAC_INSIDE_WORD:
            if prev.isalpha() and nxt.isalpha() and not (ch == "·" and prev.lower() == "l" and nxt.lower() == "l"):
                chars[i] = target
        elif ch.isupper() and prev.islower() and target.islower():
            chars[i] = target
        elif ch == "ÿ" and not prev.isalpha() and nxt.islower():
            chars[i] = target
    return unicodedata.normalize("NFC", "".join(chars))


# ----------------------------------------------------------------------------
# External databases
# ----------------------------------------------------------------------------


def fetch(
    name: str,
    *,
    commit: str | None = None,
    sha256: str | None = None,
    cache_dir: str | Path | None = None,
    package: str | Path | None = None,
) -> pd.DataFrame:
    """A Metapsy database at a given commit: the shipped copy, or a download of a newer one.

    Without `commit` (or with the pinned commit) this is the version shipped in
    ``data/metapsy/`` and recorded in ``datapackage.json``: the local file is
    read after its sha256 is checked, and nothing is downloaded (the same as
    :func:`load`). If ``$ALLIANCE_METAPSY_DIR`` is set (a folder laid out as
    ``<database>/data.csv``, e.g. your own copy of the repositories), the file
    is taken from there instead, still checked against the pinned sha256.

    With another `commit`, the file is downloaded once with ``pooch`` from the
    resource's ``download`` URL (for Metapsy
    ``https://raw.githubusercontent.com/metapsy-project/<repo>/<commit>/data.csv``)
    into the cache (`cache_dir`, else ``$ALLIANCE_DATA_CACHE``, else
    ``pooch.os_cache("alliance-workbook")``) and refused unless its sha256 equals
    `sha256`, which you must give (compute it once from a file you trust, e.g.
    ``sha256sum data.csv``): a newer version is never used unchecked.

    Parsing is the same for every version: semicolon-separated, decimal commas,
    ``NA`` for missing; the unnamed first column (R's row names) becomes
    ``row_id``. Old encoding mix-ups in author names are undone by
    :func:`repair_mojibake` in every text column, each change listed in
    ``attrs["text_repairs"]`` as ``(row, column, before, after)``. Then the
    columns in the schema are typed and validated (see :func:`validate`; a newer
    version with, e.g., a new condition code is refused with the column and
    rows named); other columns are kept, as numbers when every value parses.

    Parameters
    ----------
    name : str
        A database with a ``download`` URL in the data package:
        ``"metapsy-depression-psyctr"`` or ``"metapsy-depression-selfguided-psyctr"``.
    commit : str, optional
        A commit of the database's repository (7 to 40 hexadecimal digits);
        default: the pinned one (the shipped copy).
    sha256 : str, optional
        The expected sha256 (64 hexadecimal digits) of ``data.csv`` at `commit`;
        required with a `commit` other than the pinned one.
    cache_dir : path, optional
        Where to keep downloads.
    package : path, optional
        Another ``datapackage.json``; default the workbook's.

    Returns
    -------
    pandas.DataFrame
        With ``attrs`` ``citation``, ``license``, ``source`` (the shipped
        path, or the URL of a download), ``file`` (the file read), ``commit``
        and ``text_repairs``.

    Raises
    ------
    ChecksumError
        The shipped, local or downloaded file's sha256 differs from the pinned
        one (or from `sha256`); a download that fails the check is discarded.
    DataValidationError
        The data break the schema (names the file, column and rows).
    ConnectionError
        A download failed (no network).
    ValueError
        An unknown `name` (with a "Did you mean" suggestion), a dataset
        without a download URL, a malformed `commit` or `sha256`, a new
        `commit` without `sha256`.

    References
    ----------
    Frictionless Data. Data Package standard (v2): Data Package, Data Resource and Table
    Schema specifications. https://datapackage.org/standard/
    National Institute of Standards and Technology (2015). *Secure Hash Standard (SHS)*.
    FIPS PUB 180-4. https://doi.org/10.6028/NIST.FIPS.180-4
    Uieda, L., Soler, S. R., Rampin, R., van Kemenade, H., Turk, M., Shapero, D., Banihirwe,
    A., & Leeman, J. (2020). Pooch: A friend to fetch your data files. *Journal of Open
    Source Software, 5*(45), 1943. https://doi.org/10.21105/joss.01943

    Examples
    --------
    >>> from analysis import datasets
    >>> psy = datasets.fetch("metapsy-depression-psyctr")  # the pinned commit: shipped copy
    >>> len(psy), psy[".g"].dtype, psy.attrs["commit"][:7]
    (900, dtype('float64'), 'ceeabb7')
    >>> newer = datasets.fetch("metapsy-depression-psyctr", commit="0123abc",
    ...                        sha256="<64 hex digits>")  # doctest: +SKIP
    """
    pkg, base = _read_package(package)
    res = _resource(pkg, name)
    if not res.get("download") and not res.get("external"):
        raise ValueError(
            f"`name`: {name!r} has no download URL in the data package; read the shipped file with "
            f"load({name!r})."
        )
    pinned = res.get("commit", "")
    if commit is not None:
        if not isinstance(commit, str) or not re.fullmatch(r"[0-9a-fA-F]{7,40}", commit):
            raise ValueError(f"`commit` must be a git commit (7 to 40 hexadecimal digits), got {commit!r}.")
        commit = commit.lower()
    if sha256 is not None:
        if not isinstance(sha256, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", sha256.removeprefix("sha256:")):
            raise ValueError(f"`sha256` must be 64 hexadecimal digits (a SHA-256 digest), got {sha256!r}.")
        sha256 = sha256.removeprefix("sha256:").lower()
    if cache_dir is not None:
        cache_dir = _as_path("cache_dir", cache_dir)
    is_pinned = commit is None or (pinned and pinned.startswith(commit))
    if is_pinned:
        expected = _declared_sha256(res)
        if sha256 is not None and sha256 != expected:
            raise ValueError(
                f"`sha256` {sha256} differs from the pinned sha256 {expected} of {name!r} at commit "
                f"{pinned}; leave `sha256` out for the pinned version."
            )
        url = _download_url(res, pinned)
        local = res.get("localPath", {})
        local_dir = os.environ.get(local["env"]) if local.get("env") else None
        if local_dir:
            path = Path(local_dir) / local["path"]
            if not path.is_file():
                raise ValueError(
                    f"{local['env']}={local_dir}: no file {local['path']} there "
                    f"(expected a copy of {url}); unset it to use the copy shipped in data/."
                )
        else:
            path = base / res["path"]
        if path.is_file():
            _verify(path, expected, f"It should be an unmodified copy of {url}.")
        else:  # a data package without the shipped copy
            path = _download(url, expected, f"{name}-{pinned[:12]}", cache_dir)
        version = pinned
    else:
        if sha256 is None:
            raise ValueError(
                f"`sha256` is required with `commit` {commit!r} (not the pinned {pinned[:7]}): give the sha256 "
                "of that version's data.csv (e.g. from `sha256sum data.csv`), so that the download is checked."
            )
        url = _download_url(res, commit)
        path = _download(url, sha256, f"{name}-{commit[:12]}", cache_dir)
        version = commit
    df = _parse(Path(path), res)
    df.attrs["commit"] = version
    if version != pinned:
        df.attrs["source"] = url
    return df


def _download_url(res: Mapping, commit: str) -> str:
    template = res.get("download", "")
    return template.replace("{commit}", commit) if template else str(res.get("path", ""))


def _download(url: str, sha256: str, fname: str, cache_dir: str | Path | None) -> Path:
    import pooch  # imported here: only fetch() needs it

    cache = cache_dir or os.environ.get(CACHE_ENV) or pooch.os_cache("alliance-workbook")
    try:
        path = pooch.retrieve(url, known_hash=f"sha256:{sha256}", fname=f"{fname}.csv",
                              path=cache, progressbar=False)
    except ValueError as exc:  # pooch's hash mismatch
        if "hash" in str(exc).lower():
            actual = re.findall(r"[0-9a-f]{64}", str(exc))
            raise ChecksumError(url, sha256, next((a for a in actual if a != sha256), "unknown"),
                                "The download was discarded.") from None
        raise
    except Exception as exc:  # network errors come from requests
        raise ConnectionError(
            f"Could not download {url} ({type(exc).__name__}: {exc}). Without network, use the copy "
            "shipped in data/metapsy/ (fetch() without `commit`, or load())."
        ) from exc
    return Path(path)


# ----------------------------------------------------------------------------
# Command line
# ----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """``python -m analysis.datasets [--write-checksums | --check] [--package PATH]``.

    The command-line entry point: with ``--write-checksums`` it runs
    :func:`write_checksums`; with ``--check`` it loads every shipped dataset
    (checksum and schema, :func:`load`); otherwise it prints the dataset names
    (:func:`list_datasets`).

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (default ``sys.argv[1:]``); ``--package PATH`` points
        to another ``datapackage.json``.

    Returns
    -------
    int
        The exit status, 0 on success (a failed check raises).

    References
    ----------
    None: a command-line utility (``argparse``) with no method literature.

    Examples
    --------
    >>> import contextlib, io
    >>> with contextlib.redirect_stdout(io.StringIO()) as out:
    ...     status = main([])
    >>> status, "dat.bcg" in out.getvalue().split()
    (0, True)
    """
    parser = argparse.ArgumentParser(prog="python -m analysis.datasets", description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write-checksums", action="store_true",
                       help="recompute sha256 and bytes of every shipped file in datapackage.json")
    group.add_argument("--check", action="store_true",
                       help="load every shipped dataset (checksum and schema)")
    parser.add_argument("--package", default=None, help="another datapackage.json")
    args = parser.parse_args(argv)
    if args.write_checksums:
        changed = write_checksums(args.package)
        print(f"checksums written; changed: {', '.join(changed) if changed else 'none'}")
        return 0
    if args.check:
        for n in list_datasets(external=False, package=args.package):
            df = load(n, package=args.package)
            print(f"{n}: {df.shape[0]} rows x {df.shape[1]} columns, ok")
        return 0
    for n in list_datasets(package=args.package):
        print(n)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
