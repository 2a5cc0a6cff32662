"""Shared fixtures: isolated output folders and one reproduction run per session.

* Every test writes figures and ledger rows into a scratch folder, never into
  the repository's ``reports/`` (``ALLIANCE_REPORTS_DIR`` / ``ALLIANCE_LEDGER``).
* ``reproduction`` runs ``tools/reproduce.py`` once over the real
  ``notebooks/`` folder into a temporary reports folder, so the notebooks are
  executed by the suite and any error in them fails it. The tests of
  ``test_reports.py`` and ``test_browser.py`` read that output.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings as _hypothesis_settings

# Property tests draw the same examples on every run and every machine, so a green CI
# is reproducible (seeds everywhere); a failure found once fails every time.
_hypothesis_settings.register_profile("workbook", derandomize=True, deadline=None)
_hypothesis_settings.load_profile("workbook")

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
RUNNER = REPO_ROOT / "tools" / "reproduce.py"

#: ``--param key=value`` overrides passed to every notebook with a cell tagged
#: "parameters" during the test run (e.g. "n_boot=200" for quick bootstraps).
#: Notebooks without such a cell ignore them.
REPRODUCE_TEST_PARAMS: list[str] = ["power_replicates=20"]

#: Upper bound on one reproduction run in the suite (all notebooks).
REPRODUCE_TIMEOUT_S = 3600


def notebook_paths() -> list[Path]:
    """The numbered notebooks the runner executes, in order."""
    return sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def load_runner():
    """Import tools/reproduce.py as a module (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location("alliance_reproduce", RUNNER)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("alliance_reproduce", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session", autouse=True)
def _isolated_outputs(tmp_path_factory):
    """Point save_figure and the ledger at a scratch folder for the whole session."""
    scratch = tmp_path_factory.mktemp("scratch-reports")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ALLIANCE_REPORTS_DIR", str(scratch))
        patch.setenv("ALLIANCE_LEDGER", str(scratch / "ledger.csv"))
        patch.delenv("ALLIANCE_NOTEBOOK", raising=False)
        yield scratch


@dataclass(frozen=True)
class Reproduction:
    """The output of one run of tools/reproduce.py."""

    reports: Path
    ledger: Path
    notebooks: list[Path]
    log: str

    @property
    def index(self) -> Path:
        return self.reports / "index.html"

    @property
    def figures(self) -> Path:
        return self.reports / "figures"

    def html_for(self, notebook: Path) -> Path:
        return self.reports / "notebooks" / f"{notebook.stem}.html"


@pytest.fixture(scope="session")
def reproduction(tmp_path_factory) -> Reproduction:
    """Run the whole reproduction once into a temporary reports folder.

    Fails (rather than skips) when there is no notebook or when any notebook
    raises: the notebooks are part of what the suite tests.

    The slowest set-up of the suite, by design (well over 30 s: every notebook is executed,
    with the small replicate counts of ``REPRODUCE_TEST_PARAMS``, plus the API reference and the
    PDF). It uses the runner's parallel execution (``--jobs 2``: two notebooks at a time, the API
    reference beside them); ``--durations`` lists its time under the first test that uses it.
    """
    notebooks = notebook_paths()
    if not notebooks:
        pytest.fail(f"no notebook matching NN_*.ipynb in {NOTEBOOKS_DIR}")
    reports = tmp_path_factory.mktemp("reproduction") / "reports"
    ledger = reports / "ledger.csv"
    env = dict(
        os.environ,
        ALLIANCE_REPORTS_DIR=str(reports),
        ALLIANCE_LEDGER=str(ledger),
        PYTHONHASHSEED="0",
        SOURCE_DATE_EPOCH="0",
        MPLBACKEND="Agg",
    )
    command = [sys.executable, str(RUNNER), "--reports", str(reports),
               "--notebooks", str(NOTEBOOKS_DIR), "--jobs", "2"]
    for item in REPRODUCE_TEST_PARAMS:
        command += ["--param", item]
    try:
        done = subprocess.run(
            command, env=env, cwd=REPO_ROOT, capture_output=True, text=True,
            timeout=REPRODUCE_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"tools/reproduce.py did not finish within {REPRODUCE_TIMEOUT_S} s:\n"
                    f"{error.stdout}\n{error.stderr}")
    log = done.stdout + "\n" + done.stderr
    if done.returncode != 0:
        pytest.fail(f"tools/reproduce.py failed (exit {done.returncode}):\n{log[-6000:]}")
    return Reproduction(reports=reports, ledger=ledger, notebooks=notebooks, log=log)
