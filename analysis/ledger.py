"""The reproduction ledger: every published-vs-ours comparison, pass or FAIL.

A notebook that reproduces a published number calls :func:`record` with the
published value, our value, a tolerance stated in advance and the source. The
comparison is shown inline in the notebook and appended as one row to the
ledger file (``reports/ledger.csv`` under ``make reproduce``), which the runner
turns into a table in ``reports/index.html``. A comparison outside its tolerance is recorded
as ``FAIL``: it is never dropped, and the tolerance is never tuned to pass.

The ledger functions write only ledger files: a path that exists and does not
start with the ledger's header line is refused with a ``ValueError`` (never
appended to or emptied), and every write replaces the file atomically (a
temporary file in the same folder, then :func:`os.replace`).

Where the ledger lives:

* ``$ALLIANCE_LEDGER`` if set;
* else ``$ALLIANCE_REPORTS_DIR/ledger.csv`` if that is set (``make reproduce`` sets both,
  and so do the tests);
* else, for a notebook run by hand or a user's script, a scratch ledger in the output
  folder: ``$ALLIANCE_OUTPUT_DIR/ledger.csv``, or ``alliance-output/ledger.csv`` in the
  current working folder. The first row recorded there in a process prints where it went.
  Only ``make reproduce`` writes the workbook's ``reports/ledger.csv``.

The notebook that made a row is the `notebook` argument, else
``$ALLIANCE_NOTEBOOK`` (set by ``tools/reproduce.py`` for each notebook), else
the notebook that a Jupyter server runs the kernel for (``$JPY_SESSION_NAME``).
"""

from __future__ import annotations

import csv
import fcntl
import html
import io
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis import _outputs
from analysis._checks import as_float_array, check_choice, check_finite

__all__ = ["KINDS", "LEGACY_KINDS", "COLUMNS", "LedgerEntry", "record", "read_ledger", "reset_ledger",
           "ledger_path"]

#: Where a published value comes from, and what was done to meet it.
#: ``"published-reanalysis"``: a number printed in a paper, book or package documentation,
#: met by re-running the published analysis on the published data;
#: ``"published-conversion"``: a printed number met by arithmetic on other printed numbers
#: (an r converted to d, a cut-off from printed means and SDs): no data are analysed;
#: ``"oracle"``: a reference computed with R (metafor, lme4, lavaan, psych);
#: ``"simulation"``: the known truth of a simulation (or a literature value a simulator is
#: calibrated to).
KINDS: tuple[str, ...] = ("published-reanalysis", "published-conversion", "oracle", "simulation")

#: Kinds written by earlier versions of the ledger and how :func:`read_ledger` reads them.
#: Before the split, ``"published"`` covered both re-analyses and conversions; an old row does
#: not say which, so it is read as the weaker claim, ``"published-conversion"``.
#: :func:`record` no longer accepts these kinds.
LEGACY_KINDS: dict[str, str] = {"published": "published-conversion"}

#: Columns of the ledger file, in order.
COLUMNS: tuple[str, ...] = (
    "claim",
    "published",
    "ours",
    "difference",
    "tolerance",
    "relative",
    "unit",
    "status",
    "kind",
    "source",
    "notebook",
)

_FLOAT_COLUMNS = ("published", "ours", "difference", "tolerance")


@dataclass(frozen=True)
class LedgerEntry:
    """One comparison of a published value with ours, as written to the ledger.

    Attributes
    ----------
    claim, source, kind, notebook, unit : str
        What is compared, where the published value is from, its kind (see
        :data:`KINDS`), the notebook that recorded it and the unit ("" if none).
    published, ours, difference, tolerance : float
        ``difference = ours - published``; `tolerance` as given.
    relative : bool
        Whether `tolerance` is a fraction of ``|published|``.
    status : {"pass", "FAIL"}
    """

    claim: str
    published: float
    ours: float
    difference: float
    tolerance: float
    relative: bool
    unit: str
    status: str
    kind: str
    source: str
    notebook: str

    @property
    def passed(self) -> bool:
        """True when the status is ``"pass"``."""
        return self.status == "pass"

    def _tolerance_text(self) -> str:
        return f"±{self.tolerance:g} × |published|" if self.relative else f"±{self.tolerance:g}"

    def __repr__(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return (
            f"[{self.status}] {self.claim}: published {self.published!r}{unit}, "
            f"ours {self.ours!r}{unit}, difference {self.difference:+.6g} "
            f"(tolerance {self._tolerance_text()}; {self.kind}: {self.source})"
        )

    def _repr_html_(self) -> str:
        """A small table for Jupyter: published beside ours, FAIL in red."""
        e = html.escape
        colour = "#1a7f37" if self.passed else "#b42318"
        unit = f" {e(self.unit)}" if self.unit else ""
        return (
            '<table class="alliance-ledger-entry" style="border-collapse:collapse">'
            f'<caption style="text-align:left"><b>{e(self.claim)}</b> '
            f"<small>({e(self.kind)}: {e(self.source)})</small></caption>"
            "<tr><th>published</th><th>ours</th><th>difference</th>"
            "<th>tolerance</th><th>status</th></tr>"
            f"<tr><td>{self.published!r}{unit}</td><td>{self.ours!r}{unit}</td>"
            f"<td>{self.difference:+.6g}</td><td>{e(self._tolerance_text())}</td>"
            f'<td style="color:{colour};font-weight:bold">{e(self.status)}</td></tr>'
            "</table>"
        )

    def as_row(self) -> list[str]:
        """The entry as CSV fields; floats at full ``repr`` precision."""
        return [
            self.claim,
            repr(self.published),
            repr(self.ours),
            repr(self.difference),
            repr(self.tolerance),
            "true" if self.relative else "false",
            self.unit,
            self.status,
            self.kind,
            self.source,
            self.notebook,
        ]


def ledger_path(path: str | os.PathLike | None = None) -> Path:
    """Return the ledger file: `path`, else the environment's, else the output folder's.

    Parameters
    ----------
    path : str or path-like, optional
        An explicit ledger file; returned as given.

    Returns
    -------
    pathlib.Path
        `path`, else ``$ALLIANCE_LEDGER``, else ``$ALLIANCE_REPORTS_DIR/ledger.csv``
        (``make reproduce`` and the tests set these), else ``ledger.csv`` in the output
        folder of runs by hand: ``$ALLIANCE_OUTPUT_DIR/ledger.csv``, or
        ``alliance-output/ledger.csv`` in the current working folder (beside ``reports/``
        when that folder is inside the workbook's ``reports/``). The file need not exist.

    Raises
    ------
    ValueError
        If `path` is not a str or path-like, or names a file that exists and
        is not a ledger (its first line is not the ledger's header; empty files
        are fine), or a folder. Every ledger function goes through this check,
        so no ledger function writes into a file that is not a ledger. Also if
        ``$ALLIANCE_OUTPUT_DIR`` lies inside the workbook's ``reports/`` (which only
        ``make reproduce`` writes) or the output folder is a file.

    References
    ----------
    None: a utility (no method literature).

    Examples
    --------
    >>> ledger_path("/tmp/my_ledger.csv")
    PosixPath('/tmp/my_ledger.csv')
    """
    if path is not None:
        if isinstance(path, bool) or not isinstance(path, (str, os.PathLike)):
            raise ValueError(f"`path` must be a file path (str or path-like), got {type(path).__name__}.")
        if not os.fspath(path):
            raise ValueError("`path` must not be empty.")
        target = Path(path)
    elif os.environ.get("ALLIANCE_LEDGER"):
        target = Path(os.environ["ALLIANCE_LEDGER"])
    elif _outputs.reports_dir() is not None:
        target = _outputs.reports_dir() / "ledger.csv"
    else:
        target = _outputs.output_dir() / "ledger.csv"
    _check_is_ledger(target)
    return target


def _header_line() -> bytes:
    return _csv_line(COLUMNS).encode("utf-8")


def _check_is_ledger(target: Path) -> None:
    """Refuse `target` unless it is absent, empty, or starts with the ledger's header line.

    A file that exists and is something else (a data file, a notebook) is never
    appended to, emptied or replaced: a ValueError names it and says why.
    """
    if not target.exists():  # (a symbolic link to a new file is fine: the file is created)
        return
    if not target.is_file():
        raise ValueError(f"`path` {target} is not a ledger file: it is not a regular file (a folder or device).")
    with open(target, "rb") as handle:
        head = handle.read(len(_header_line()))
    if head and head != _header_line():
        first = head.split(b"\n", 1)[0].decode("utf-8", errors="replace")
        raise ValueError(
            f"`path` {target} is not a ledger file: its first line is {first[:80]!r}, not the ledger "
            f"header {','.join(COLUMNS)!r}; it is left unchanged (pass another path)."
        )


def _as_number(name: str, value: object) -> float:
    """One finite number, or a ValueError naming the argument."""
    arr = as_float_array(name, value)
    if arr.shape[0] != 1:
        raise ValueError(f"`{name}` must be a single number, got {arr.shape[0]} values.")
    check_finite(name, arr)
    return float(arr[0])


def _as_text(name: str, value: object, *, allow_empty: bool = False) -> str:
    """A one-line string, or a ValueError naming the argument."""
    if value is None and allow_empty:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"`{name}` must be a string, got {type(value).__name__}.")
    text = value.strip()
    if not text and not allow_empty:
        raise ValueError(f"`{name}` must not be empty.")
    if "\n" in text or "\r" in text:
        raise ValueError(f"`{name}` must be a single line, got {value!r}.")
    return text


def _notebook_name(notebook: str | None) -> str:
    if notebook is not None:
        return _as_text("notebook", notebook)
    for var in ("ALLIANCE_NOTEBOOK", "JPY_SESSION_NAME"):
        if os.environ.get(var):
            return Path(os.environ[var]).name
    return ""


def compare(
    published: float, ours: float, tolerance: float, *, relative: bool = False
) -> tuple[float, str]:
    r"""Difference ``ours - published`` and status of one comparison.

    ``pass`` when ``|ours - published| <= tolerance`` (absolute) or
    ``<= tolerance * |published|`` (relative), else ``FAIL``. Inputs are
    assumed checked (finite floats, tolerance >= 0).

    Parameters
    ----------
    published : float
        The published (or reference) value.
    ours : float
        The workbook's value.
    tolerance : float
        Largest accepted difference (>= 0); a fraction of ``|published|`` when
        `relative` is True.
    relative : bool, default False
        Read `tolerance` as relative.

    Returns
    -------
    tuple of (float, str)
        ``(ours - published, "pass" or "FAIL")``: the test is
        :math:`|y_{ours} - y_{pub}| \le t` (absolute) or
        :math:`|y_{ours} - y_{pub}| \le t\,|y_{pub}|` (relative).

    References
    ----------
    None: a utility (no method literature).

    Examples
    --------
    >>> compare(0.28, 0.2795, 0.005)
    (-0.0005000000000000004, 'pass')
    >>> compare(100.0, 103.0, 0.02, relative=True)
    (3.0, 'FAIL')
    """
    difference = ours - published
    bound = tolerance * abs(published) if relative else tolerance
    # The comparison is on the exact difference, so a value exactly at the
    # bound (a rounded published number) passes.
    status = "pass" if abs(difference) <= bound else "FAIL"
    return difference, status


def record(
    claim: str,
    published: float,
    ours: float,
    tolerance: float,
    source: str,
    kind: str,
    *,
    notebook: str | None = None,
    relative: bool = False,
    unit: str | None = None,
    path: str | os.PathLike | None = None,
) -> LedgerEntry:
    """Compare a published value with ours and append the result to the ledger.

    ``difference = ours - published``; status ``"pass"`` when
    ``|difference| <= tolerance`` (or ``<= tolerance * |published|`` with
    ``relative=True``), else ``"FAIL"``. A FAIL is recorded like a pass: the
    ledger keeps every comparison.

    Parameters
    ----------
    claim : str
        What is compared, e.g. ``"Flückiger 2018: alliance-outcome r"``.
    published : float
        The published (or reference) value, as printed in the source.
    ours : float
        The workbook's value.
    tolerance : float
        Largest accepted absolute difference (>= 0), stated before comparing;
        usually half a unit of the last published digit plus any known
        difference in method.
    source : str
        Where `published` comes from (author, year, table/page; or the R
        script for an oracle).
    kind : {"published-reanalysis", "published-conversion", "oracle", "simulation"}
        A printed number met by re-running the published analysis on its data, a
        printed number met by arithmetic on other printed numbers, an R reference
        value, or a known simulation truth (see :data:`KINDS`). The old kind
        ``"published"`` is refused: say which of the two it is.
    notebook : str, optional
        Notebook that records the comparison; default ``$ALLIANCE_NOTEBOOK``
        (set by ``make reproduce``), else the Jupyter session's notebook.
    relative : bool, default False
        Read `tolerance` as a fraction of ``|published|``.
    unit : str, optional
        Unit shown beside the numbers (e.g. ``"sessions"``).
    path : path, optional
        Ledger file; default :func:`ledger_path` (``reports/ledger.csv`` only under
        ``make reproduce``; a run by hand records into ``alliance-output/ledger.csv`` or
        ``$ALLIANCE_OUTPUT_DIR/ledger.csv`` and the first such row prints where it went).

    Returns
    -------
    LedgerEntry
        The recorded row; Jupyter shows it as a small comparison table.

    Raises
    ------
    ValueError
        Naming the argument: a non-numeric or non-finite number, a negative
        tolerance, an unknown `kind`, an empty `claim` or `source`; or a
        `path` that exists and is not a ledger (its first line is not the
        ledger's header): such a file is left unchanged.

    References
    ----------
    None: a bookkeeping utility with no method literature. The ledger is a CSV file
    written with Python's :mod:`csv` module (fields quoted as in RFC 4180,
    https://datatracker.ietf.org/doc/html/rfc4180, but with LF line ends).

    Examples
    --------
    >>> import tempfile, os
    >>> ledger = os.path.join(tempfile.mkdtemp(), "ledger.csv")
    >>> record("Example: pooled r", 0.28, 0.2787, 0.005, "Paper (2018), Table 2",
    ...        "published-reanalysis", notebook="00_tour.ipynb", path=ledger)
    [pass] Example: pooled r: published 0.28, ours 0.2787, difference -0.0013 (tolerance ±0.005; published-reanalysis: Paper (2018), Table 2)
    >>> read_ledger(ledger)[["claim", "status"]].to_dict("records")
    [{'claim': 'Example: pooled r', 'status': 'pass'}]
    """
    claim = _as_text("claim", claim)
    source = _as_text("source", source)
    if isinstance(kind, str) and kind in LEGACY_KINDS:
        raise ValueError(
            f"`kind` {kind!r} was split in two: 'published-reanalysis' (the published analysis re-run "
            "on its data) or 'published-conversion' (arithmetic on printed numbers); say which."
        )
    kind = check_choice("kind", kind, KINDS)
    published_f = _as_number("published", published)
    ours_f = _as_number("ours", ours)
    tolerance_f = _as_number("tolerance", tolerance)
    if tolerance_f < 0:
        raise ValueError(f"`tolerance` must be >= 0, got {tolerance_f!r}.")
    if not isinstance(relative, bool):
        raise ValueError(f"`relative` must be True or False, got {relative!r}.")
    difference, status = compare(published_f, ours_f, tolerance_f, relative=relative)
    entry = LedgerEntry(
        claim=claim,
        published=published_f,
        ours=ours_f,
        difference=difference,
        tolerance=tolerance_f,
        relative=relative,
        unit=_as_text("unit", unit, allow_empty=True),
        status=status,
        kind=kind,
        source=source,
        notebook=_notebook_name(notebook),
    )
    target = ledger_path(path)
    if _is_scratch(path):
        _outputs.announce("ledger rows", target, "path")
    _append(target, entry.as_row())
    return entry


def _is_scratch(path: object) -> bool:
    """True when a ledger call without `path` writes the output folder's ledger (a run by hand)."""
    return path is None and not os.environ.get("ALLIANCE_LEDGER") and _outputs.reports_dir() is None


def _csv_line(fields: list[str] | tuple[str, ...]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(fields)
    return buffer.getvalue()


def _append(path: Path, row: list[str]) -> None:
    """Add one CSV line (with the header if the ledger is new or empty), atomically."""
    line = _csv_line(row).encode("utf-8")
    _rewrite(path, lambda old: (old or _header_line()) + line)


def _rewrite(path: Path, change) -> None:
    """Replace the ledger by ``change(old bytes)`` under a lock, atomically.

    The new content is written to a temporary file in the same folder, flushed
    to disk and moved over the ledger with :func:`os.replace`, so a reader sees
    the old or the new file, never half of one, and a crash leaves the old
    file. A POSIX ``flock`` on the ledger serialises writers (kernels or
    processes recording at the same time); after taking it the writer checks
    that the path still names the locked file (another writer may have
    replaced it) and retries otherwise. The header is checked under the lock:
    a file that is not a ledger is refused, never truncated.
    """
    _check_is_ledger(path)
    path = Path(os.path.realpath(path))  # a symbolic link: write its target, keep the link
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        _check_is_ledger(path)
        # "a" creates a missing file and never truncates an existing one.
        with open(path, "ab") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                try:
                    same = os.fstat(lock.fileno()).st_ino == os.stat(path).st_ino
                except FileNotFoundError:
                    same = False
                if not same:
                    continue  # replaced by another writer meanwhile: lock the new file
                _check_is_ledger(path)
                old = path.read_bytes()
                mode = stat.S_IMODE(os.fstat(lock.fileno()).st_mode)
                fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
                try:
                    with os.fdopen(fd, "wb") as out:
                        out.write(change(old))
                        out.flush()
                        os.fsync(out.fileno())
                    os.chmod(tmp, mode)
                    os.replace(tmp, path)
                except BaseException:
                    Path(tmp).unlink(missing_ok=True)
                    raise
                return
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def reset_ledger(path: str | os.PathLike | None = None) -> Path:
    """Empty the ledger: the file then holds only the header row.

    ``make reproduce`` calls it first, so the ledger lists exactly the
    comparisons of one run.

    Parameters
    ----------
    path : str or path-like, optional
        Ledger file; default :func:`ledger_path`. Its folder is created if needed.

    Returns
    -------
    pathlib.Path
        The ledger file.

    Raises
    ------
    ValueError
        If `path` exists and is not a ledger (its first line is not the
        ledger's header; an empty file is fine): only a ledger is ever emptied.

    References
    ----------
    None: a bookkeeping utility with no method literature. The ledger is a CSV file
    written with Python's :mod:`csv` module (fields quoted as in RFC 4180,
    https://datatracker.ietf.org/doc/html/rfc4180, but with LF line ends).

    Examples
    --------
    >>> import tempfile, os
    >>> p = reset_ledger(os.path.join(tempfile.mkdtemp(), "ledger.csv"))
    >>> len(read_ledger(p))
    0
    """
    target = ledger_path(path)
    _rewrite(target, lambda old: _header_line())
    return target


def read_ledger(path: str | os.PathLike | None = None) -> pd.DataFrame:
    """Read the ledger into a DataFrame (one row per comparison, in recording order).

    Numbers are read back exactly (round-trip precision); `relative` is
    boolean; text columns have no missing values (an absent unit or notebook
    is ``""``). A ledger that does not exist yet reads as an empty frame with
    the columns of :data:`COLUMNS`.

    Parameters
    ----------
    path : str or path-like, optional
        Ledger file; default :func:`ledger_path`.

    Returns
    -------
    pandas.DataFrame
        One row per comparison with the columns of :data:`COLUMNS`: numbers as
        ``float64``, ``relative`` as ``bool``, text as ``str`` (``""`` when absent).
        A ledger written before the ``published`` kind was split reads with that kind
        mapped by :data:`LEGACY_KINDS` (``"published"`` becomes ``"published-conversion"``,
        the weaker claim, since an old row does not say whether the analysis was re-run).

    Raises
    ------
    ValueError
        If the file exists and its header is not the ledger's.

    References
    ----------
    None: a bookkeeping utility with no method literature. The ledger is a CSV file
    written with Python's :mod:`csv` module (fields quoted as in RFC 4180,
    https://datatracker.ietf.org/doc/html/rfc4180, but with LF line ends).

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "ledger.csv")
    >>> _ = record("A", 1.0, 1.25, 0.1, "S", "simulation", notebook="x", path=p)
    >>> row = read_ledger(p).iloc[0]
    >>> float(row["difference"]), row["status"]
    (0.25, 'FAIL')
    """
    target = ledger_path(path)
    if not target.exists() or target.stat().st_size == 0:
        return pd.DataFrame({c: pd.Series(dtype=_dtype(c)) for c in COLUMNS})
    text_columns = [c for c in COLUMNS if c not in _FLOAT_COLUMNS and c != "relative"]
    frame = pd.read_csv(
        target,
        dtype={**{c: str for c in text_columns}, **{c: float for c in _FLOAT_COLUMNS}},
        keep_default_na=False,
        na_values={c: [] for c in COLUMNS},
    )
    if tuple(frame.columns) != COLUMNS:
        raise ValueError(
            f"{target} is not a ledger file: expected columns {list(COLUMNS)}, "
            f"got {list(frame.columns)}."
        )
    # pandas may already have parsed true/false as booleans; normalise via text.
    relative = frame["relative"].astype(str).str.lower()
    bad = ~relative.isin(["true", "false"])
    if bad.any():
        raise ValueError(
            f"{target}: column `relative` must be true or false; row {int(bad.to_numpy().argmax())} "
            f"has {frame['relative'].iloc[int(bad.to_numpy().argmax())]!r}."
        )
    frame["relative"] = relative.eq("true")
    frame["kind"] = frame["kind"].replace(LEGACY_KINDS)
    return frame


def _dtype(column: str) -> str:
    if column in _FLOAT_COLUMNS:
        return "float64"
    if column == "relative":
        return "bool"
    return "str"
