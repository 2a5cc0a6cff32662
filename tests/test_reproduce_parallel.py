"""tools/reproduce.py runs notebooks in parallel (--jobs) with outputs that do not depend on it
(issue 19 item 3): the ledger lists rows in notebook order whichever notebook finishes first, and
figures, ledger and pages are byte-identical with one job and with two."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from analysis import ledger
from conftest import REPO_ROOT, RUNNER, load_runner

runner = load_runner()


def _write(path: Path, cells) -> None:
    nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                            "language": "python"}})
    nbformat.write(nb, path)


def _run(notebooks: Path, reports: Path, jobs: int) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("ALLIANCE_LEDGER", "ALLIANCE_REPORTS_DIR")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH", "")])])
    return subprocess.run([sys.executable, str(RUNNER), "--reports", str(reports), "--notebooks", str(notebooks),
                           "--jobs", str(jobs), "--no-pdf", "--no-api"],
                          capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=600)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """The same three notebooks run with --jobs 1 and --jobs 2; the first is the slowest.

    Six kernel starts and a 4-second sleep (twice): about 20 s on an idle machine, more on a busy
    one (``--durations`` lists it under the first test); the runner's real notebooks are not run here.
    """
    root = tmp_path_factory.mktemp("parallel")
    notebooks = root / "notebooks"
    notebooks.mkdir()
    record = ("from analysis.ledger import record\n"
              "record('{claim}', 1.0, {ours}, 0.1, 'design', 'simulation')\n")
    _write(notebooks / "00_slow.ipynb", [
        new_markdown_cell("# Slow"),
        new_code_cell("import time\ntime.sleep(4)\n" + record.format(claim="slow first", ours=1.05)
                      + record.format(claim="slow second", ours=1.5)),
        new_code_cell("import matplotlib.pyplot as plt\nfrom analysis.plots import save_figure\n"
                      "fig, ax = plt.subplots()\nax.plot([0, 1], [1, 0])\nsave_figure(fig, 'slow_line')"),
    ])
    _write(notebooks / "01_fast.ipynb", [new_markdown_cell("# Fast"),
                                         new_code_cell(record.format(claim="fast", ours=1.0))])
    _write(notebooks / "02_fast.ipynb", [new_markdown_cell("# Also fast"),
                                         new_code_cell(record.format(claim="also fast", ours=0.95))])
    out = {}
    for jobs in (1, 2):
        reports = root / f"reports-{jobs}"
        done = _run(notebooks, reports, jobs)
        assert done.returncode == 0, done.stdout + done.stderr
        out[jobs] = (reports, done.stdout)
    return out


def test_ledger_is_in_notebook_order_whichever_finishes_first(two_runs):
    reports, log = two_runs[2]
    frame = ledger.read_ledger(reports / "ledger.csv")
    assert frame["claim"].tolist() == ["slow first", "slow second", "fast", "also fast"]
    assert frame["notebook"].tolist() == ["00_slow.ipynb"] * 2 + ["01_fast.ipynb", "02_fast.ipynb"]
    # the fast notebooks did finish first
    assert log.index("01_fast.ipynb ok") < log.index("00_slow.ipynb ok")


def test_outputs_identical_with_one_and_two_jobs(two_runs):
    (one, _), (two, _) = two_runs[1], two_runs[2]
    files = sorted(p.relative_to(one) for p in one.rglob("*")
                   if p.is_file() and "mathjax" not in p.parts)
    assert files == sorted(p.relative_to(two) for p in two.rglob("*") if p.is_file() and "mathjax" not in p.parts)
    assert Path("figures/slow_line.png") in files and Path("ledger.csv") in files
    for rel in files:
        assert (one / rel).read_bytes() == (two / rel).read_bytes(), rel


def test_log_lists_the_time_of_every_notebook(two_runs):
    for _, log in two_runs.values():
        block = log[log.index("notebook times (s):"):]
        for name in ("00_slow.ipynb", "01_fast.ipynb", "02_fast.ipynb", "sum"):
            assert name in block


def test_figures_go_to_the_index_of_their_notebook(two_runs):
    reports, _ = two_runs[2]
    assert 'from <a href="notebooks/00_slow.html">00_slow</a>' in (reports / "index.html").read_text()


def test_merge_ledgers_keeps_the_order_of_the_parts(tmp_path):
    parts = []
    for name, claims in (("b", ["b1", "b2"]), ("a", ["a1"]), ("empty", [])):
        part = tmp_path / f"{name}.csv"
        ledger.reset_ledger(part)
        for claim in claims:
            ledger.record(claim, 1.0, 1.0, 0.0, "s", "oracle", notebook=f"{name}.ipynb", path=part)
        parts.append(part)
    target = ledger.reset_ledger(tmp_path / "ledger.csv")
    runner.merge_ledgers(parts + [tmp_path / "missing.csv"], target)
    assert ledger.read_ledger(target)["claim"].tolist() == ["b1", "b2", "a1"]
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n", encoding="utf-8")
    with pytest.raises(runner.ReproductionError, match="bad.csv is not a ledger"):
        runner.merge_ledgers([bad], target)


def test_jobs_must_be_a_whole_number(tmp_path):
    layout = runner.Layout(notebooks=tmp_path, reports=tmp_path / "r", ledger=tmp_path / "r" / "ledger.csv")
    (tmp_path / "00_x.ipynb").write_text("{}", encoding="utf-8")
    with pytest.raises(runner.ReproductionError, match="--jobs must be a whole number >= 1"):
        runner.run_notebooks(layout, {}, 60, jobs=0)
