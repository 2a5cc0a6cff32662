"""Where figures and ledger rows go: the workbook's reports only under ``make reproduce``.

The workbook's ``reports/`` folder is written by ``make reproduce`` (``tools/reproduce.py``)
and by nothing else. The runner (and the test suite) set ``ALLIANCE_REPORTS_DIR`` (and
``ALLIANCE_LEDGER``); :func:`analysis.plots.save_figure` and :func:`analysis.ledger.record`
write there. Without those variables (a notebook run in JupyterLab, ``jupyter nbconvert
--execute``, a user's own script) they write into the *output folder* instead:

* ``$ALLIANCE_OUTPUT_DIR`` if set (refused if it lies inside the workbook's ``reports/``);
* else ``alliance-output/`` in the current working folder (for a notebook: the notebook's
  folder), or beside ``reports/`` when the current folder is inside the workbook's ``reports/``.

Figures go to ``<output folder>/figures/`` and the ledger to ``<output folder>/ledger.csv``,
mirroring the layout of ``reports/``. The first write of each kind in a process prints (on
stderr) where it goes. An explicit ``directory=`` / ``path=`` argument always wins.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: Environment variables: the reports folder (``make reproduce`` and the tests set it), the
#: ledger file, and the output folder of interactive runs.
REPORTS_ENV = "ALLIANCE_REPORTS_DIR"
LEDGER_ENV = "ALLIANCE_LEDGER"
OUTPUT_ENV = "ALLIANCE_OUTPUT_DIR"

#: Name of the default output folder, made in the current working folder.
DEFAULT_OUTPUT_NAME = "alliance-output"

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The workbook's own reports folder (written only by ``make reproduce``).
REPO_REPORTS = REPO_ROOT / "reports"

# (kind, destination) pairs already announced in this process.
_announced: set[tuple[str, str]] = set()


def _inside(path: Path, folder: Path) -> bool:
    """True when `path` is `folder` or lies below it (both resolved, links followed)."""
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(folder))
    except ValueError:
        return False
    return True


def reports_dir() -> Path | None:
    """``$ALLIANCE_REPORTS_DIR`` as a path, or None when it is unset or empty."""
    value = os.environ.get(REPORTS_ENV)
    return Path(value) if value else None


def output_dir() -> Path:
    """The output folder of runs outside ``make reproduce`` (absolute; not created here).

    >>> import os, tempfile
    >>> saved = os.environ.get(OUTPUT_ENV)
    >>> os.environ[OUTPUT_ENV] = tempfile.gettempdir()
    >>> output_dir() == Path(tempfile.gettempdir()).absolute()
    True
    >>> del os.environ[OUTPUT_ENV]
    >>> if saved is not None: os.environ[OUTPUT_ENV] = saved
    """
    value = os.environ.get(OUTPUT_ENV)
    if value:
        folder = Path(value).expanduser().absolute()
        if _inside(folder, REPO_REPORTS):
            raise ValueError(
                f"${OUTPUT_ENV} = {value!r} lies inside the workbook's reports folder {REPO_REPORTS}, "
                "which only `make reproduce` writes; choose a folder outside it."
            )
    else:
        cwd = Path.cwd()
        base = REPO_ROOT if _inside(cwd, REPO_REPORTS) else cwd
        folder = base / DEFAULT_OUTPUT_NAME
    if folder.exists() and not folder.is_dir():
        raise ValueError(
            f"the output folder {folder} exists and is not a folder; it is left unchanged "
            f"(set ${OUTPUT_ENV} to another folder)."
        )
    return folder


def announce(kind: str, destination: Path, argument: str) -> None:
    """Say once per process (on stderr) where `kind` ("figures", "ledger rows") are written."""
    key = (kind, str(destination))
    if key in _announced:
        return
    _announced.add(key)
    print(
        f"analysis: {kind} are saved to {destination} (the workbook's reports/ is written only by "
        f"`make reproduce`); set {OUTPUT_ENV} (or {REPORTS_ENV}), or pass `{argument}=`, to change.",
        file=sys.stderr,
        flush=True,
    )
