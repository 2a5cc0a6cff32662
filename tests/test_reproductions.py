"""Notebook 08 (published analyses re-run on their data) and the ledger's kinds on the index.

The module runs ``tools/reproduce.py`` over notebook 08 alone (a copy in a temporary folder, the
reports into another), then reads its ledger: at least 30 rows of kind ``published-reanalysis``,
every FAIL explained in ``data/published/known_discrepancies.csv`` (and every explanation of
notebook 08 still a FAIL), tolerances of the declared form (half a unit of a printed digit, or 0 for
counts), a page or figure named in every source.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys

import nbformat
import pandas as pd
import pytest

from conftest import NOTEBOOKS_DIR, REPO_ROOT, RUNNER, load_runner

runner = load_runner()
NOTEBOOK = NOTEBOOKS_DIR / "08_reproductions.ipynb"
MIN_ROWS = 30  # issue 18: at least 30 published results re-run on their data


@pytest.fixture(scope="module")
def ledger_08(tmp_path_factory) -> pd.DataFrame:
    """The ledger written by notebook 08 alone, run through tools/reproduce.py."""
    root = tmp_path_factory.mktemp("repro08")
    notebooks = root / "notebooks"
    notebooks.mkdir()
    shutil.copy(NOTEBOOK, notebooks / NOTEBOOK.name)
    reports = root / "reports"
    env = {k: v for k, v in os.environ.items() if k not in ("ALLIANCE_LEDGER", "ALLIANCE_REPORTS_DIR")}
    env.update(PYTHONHASHSEED="0", SOURCE_DATE_EPOCH="0", MPLBACKEND="Agg")
    done = subprocess.run(
        [sys.executable, str(RUNNER), "--reports", str(reports), "--notebooks", str(notebooks), "--no-pdf", "--no-api"],
        capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=900,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    return pd.read_csv(reports / "ledger.csv", keep_default_na=False, dtype=str)


@pytest.mark.notebooks
def test_at_least_30_reanalysis_rows_and_nothing_else(ledger_08):
    assert set(ledger_08["notebook"]) == {NOTEBOOK.name}
    assert set(ledger_08["kind"]) == {"published-reanalysis"}
    assert len(ledger_08) >= MIN_ROWS
    # the three sources of the notebook each contribute rows
    sections = ledger_08["claim"].str.extract(r"^(Ch\. \d+ [^:]+|Berkey 1995 BCG):")[0]
    assert sections.notna().all()
    assert set(sections) == {"Ch. 13 growth", "Ch. 14 GEE", "Ch. 17 BCG", "Berkey 1995 BCG"}
    assert not ledger_08["claim"].duplicated().any()


@pytest.mark.notebooks
def test_every_fail_is_explained_and_every_explanation_still_fails(ledger_08):
    explained = runner.known_discrepancies()
    failed = ledger_08[ledger_08["status"] != "pass"]
    unexplained = failed[[(c, n) not in explained for c, n in zip(failed["claim"], failed["notebook"])]]
    assert unexplained.empty, "FAIL rows without an explanation:\n" + unexplained.to_string()
    ours = {key for key in explained if key[1] == NOTEBOOK.name}
    stale = ours - set(zip(failed["claim"], failed["notebook"]))
    assert not stale, f"explanations of notebook 08 whose row no longer fails: {stale}"
    # a FAIL stays a minority: the explanations are for the source, not for our method
    assert len(failed) <= 0.05 * len(ledger_08)


@pytest.mark.notebooks
def test_tolerances_are_half_a_printed_unit_and_sources_cite_a_page(ledger_08):
    for row in ledger_08.itertuples(index=False):
        tol, published = float(row.tolerance), float(row.published)
        assert row.relative == "false"
        if tol == 0:  # a count must agree exactly
            assert published == round(published), row.claim
        else:  # 0.5 x 10^k: half a unit of the last printed digit, never tuned
            k = math.log10(tol / 0.5)
            assert abs(k - round(k)) < 1e-9, (row.claim, tol)
            # the published value is a whole number of printed units
            units = published / (2 * tol)
            assert abs(units - round(units)) < 1e-6 * max(1.0, abs(units)), (row.claim, published, tol)
        assert re.search(r"p\. \d+", row.source), row.source
        assert "HSAUR" in row.source or row.source.startswith("Berkey, Hoaglin, Mosteller & Colditz (1995)")


def test_notebook_states_each_conclusion_and_what_was_not_reproduced():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert text.count("**What the authors") >= 3
    assert "What was tried and not reproduced" in text
    assert "published-reanalysis" in "\n".join(c.source for c in nb.cells)


def test_index_counts_rows_and_fails_by_kind():
    frame = pd.DataFrame({
        "kind": ["published-reanalysis", "published-reanalysis", "published-conversion", "oracle", "mystery"],
        "status": ["pass", "FAIL", "pass", "pass", "pass"],
    })
    line = runner.kind_counts(frame)
    reanalysis = ('<li><strong>2</strong> <em>published-reanalysis</em>: a published result reproduced by '
                  're-running the analysis on its data (<span class="count pass">1 pass</span>, '
                  '<span class="count fail">1 FAIL</span>)</li>')
    assert reanalysis in line
    assert ("<strong>1</strong> <em>published-conversion</em>: a printed number met by arithmetic on "
            'other printed numbers (<span class="count pass">1 pass</span>)') in line
    assert "<strong>1</strong> <em>oracle</em>: one of our estimates checked against an R reference" in line
    assert "<strong>0</strong> <em>simulation</em>: a simulation's known truth recovered</li>" in line
    assert "<strong>1</strong> <em>mystery</em>: other" in line  # an unknown kind is still counted, not dropped
    assert line.index("published-reanalysis") < line.index("published-conversion") < line.index("oracle")
