"""Every answers notebook (``notebooks/answers/NN_*.ipynb``) executes without error (issue 17 item 1).

The answers notebooks assert each answer with ``analysis.exercises.check``, so a run without error
means the worked answers and the answer keys agree. They run the way a student runs them (no
``make reproduce`` variables): figures and ledger rows go to ``ALLIANCE_OUTPUT_DIR``, a folder in
``tmp_path``, and nothing is written in the working tree (checked).

All answers notebooks are executed once per session, two at a time in worker processes (fixture
``answers_runs``); its set-up can take longer than 30 s in all (about 10-30 s per notebook, kernel
start included), and is listed by ``--durations`` under the first test that uses it.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from conftest import REPO_ROOT

ANSWERS = sorted((REPO_ROOT / "notebooks" / "answers").glob("[0-9][0-9]_*.ipynb"))
TIMEOUT_S = 600  # per cell


def _execute(path: Path, output_dir: Path) -> tuple[str, float]:
    """Run one notebook in a fresh kernel in its folder; return (error text or "", seconds)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("ALLIANCE_REPORTS_DIR", "ALLIANCE_LEDGER", "ALLIANCE_NOTEBOOK", "MPLBACKEND")}
    env["ALLIANCE_OUTPUT_DIR"] = str(output_dir)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH", "")])])
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=TIMEOUT_S, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.monotonic()
    try:
        client.execute(env=env)
    except CellExecutionError as error:
        return str(error)[-4000:], time.monotonic() - start
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    return (f"error outputs: {errors}" if errors else ""), time.monotonic() - start


def _tree_state() -> dict[str, float]:
    """Files under notebooks/ and reports/ with their modification times (what a run could touch)."""
    out = {}
    for folder in (REPO_ROOT / "notebooks", REPO_ROOT / "reports"):
        for p in folder.rglob("*"):
            if p.is_file() and ".ipynb_checkpoints" not in p.parts:
                out[str(p)] = p.stat().st_mtime_ns
    return out


@pytest.fixture(scope="session")
def answers_runs(tmp_path_factory) -> dict[Path, tuple[str, float, Path]]:
    """Execute every answers notebook once, two at a time; {path: (error or "", seconds, output dir)}."""
    before = _tree_state()
    dirs = {path: tmp_path_factory.mktemp(f"answers-{path.stem}") for path in ANSWERS}
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("fork")) as pool:
        futures = {path: pool.submit(_execute, path, dirs[path]) for path in ANSWERS}
        results = {path: (*future.result(), dirs[path]) for path, future in futures.items()}
    after = _tree_state()
    changed = sorted(set(after) ^ set(before) | {p for p in after if p in before and after[p] != before[p]})
    results[Path("tree")] = ("\n".join(changed), 0.0, Path())
    return results


def test_there_are_answers_notebooks():
    assert ANSWERS, "notebooks/answers/ holds no NN_name.ipynb"


@pytest.mark.notebooks
@pytest.mark.parametrize("path", ANSWERS, ids=lambda p: p.name)
def test_answers_notebook_runs_without_error(answers_runs, path):
    error, seconds, _ = answers_runs[path]
    assert not error, f"{path.name} failed after {seconds:.0f} s:\n{error}"


@pytest.mark.notebooks
def test_answers_notebooks_write_nothing_in_the_tree(answers_runs):
    changed, _, _ = answers_runs[Path("tree")]
    assert not changed, f"running the answers notebooks changed files in the tree:\n{changed}"


@pytest.mark.parametrize("path", ANSWERS, ids=lambda p: p.name)
def test_answers_notebook_is_paired_and_stripped(path):
    import jupytext

    paired = path.with_suffix(".py")
    assert paired.exists(), f"{path.name} has no paired {paired.name} (run `jupytext --sync`)"
    a = jupytext.reads(path.read_text(encoding="utf-8"), fmt="ipynb")
    b = jupytext.reads(paired.read_text(encoding="utf-8"), fmt="py:percent")
    assert [(c.cell_type, c.source) for c in a.cells] == [(c.cell_type, c.source) for c in b.cells]
    nb = nbformat.read(path, as_version=4)
    assert all(c.outputs == [] for c in nb.cells if c.cell_type == "code"), f"{path.name} has outputs"
    assert path.stem in {p.stem for p in (REPO_ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}, \
        f"{path.name} answers no notebook of the same name"
