"""Notebooks 00, 01, 02 and 08 as lessons (issue 17): goals and prerequisites first, 4-6 exercises that a
student can check with `check()`, worked answers that assert the same keys, and every ledger record in a
`qc` cell that says what it checks. Reads the committed notebooks (no execution: the answers notebooks are
executed by the shared answers test, the notebooks by the reproduction fixture)."""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import nbformat
import pytest

from analysis.exercises import exercises

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = {"00": "00_tour", "01": "01_relationship_elements", "02": "02_relationship_vs_technique",
             "08": "08_reproductions"}


def cells(path: Path):
    return nbformat.read(path, as_version=4).cells


@pytest.mark.parametrize("nb", sorted(NOTEBOOKS))
def test_notebook_opens_with_goals_and_prerequisites(nb):
    first = cells(ROOT / "notebooks" / f"{NOTEBOOKS[nb]}.ipynb")[0]
    assert first.cell_type == "markdown"
    assert "**Learning goals.**" in first.source and "**Prerequisites.**" in first.source


@pytest.mark.parametrize("nb", sorted(NOTEBOOKS))
def test_exercises_are_checkable_and_answered(nb):
    keys = [e.key for e in exercises(nb)]
    assert 4 <= len(keys) <= 6
    assert keys == [f"{nb}.{k}" for k in range(1, len(keys) + 1)]
    assert all(e.hint for e in exercises(nb))
    student = "\n".join(c.source for c in cells(ROOT / "notebooks" / f"{NOTEBOOKS[nb]}.ipynb"))
    answers_path = ROOT / "notebooks" / "answers" / f"{NOTEBOOKS[nb]}.ipynb"
    answers = "\n".join(c.source for c in cells(answers_path))
    assert "## Exercises" in student and f"answers/{NOTEBOOKS[nb]}.ipynb" in student
    assert re.findall(r'check\("(\d\d\.\d)", your_answer\)', student) == keys
    assert re.findall(r'assert check\("(\d\d\.\d)"', answers) == keys
    # a student who has not answered yet still runs the notebook top to bottom
    assert student.count('if your_answer is not None else "not answered yet"') == len(keys)


@pytest.mark.parametrize("nb", sorted(NOTEBOOKS))
def test_answers_notebook_is_paired_and_stripped(nb):
    path = ROOT / "notebooks" / "answers" / f"{NOTEBOOKS[nb]}.ipynb"
    nb_cells = cells(path)
    assert all(c.outputs == [] and c.execution_count is None for c in nb_cells if c.cell_type == "code")
    paired = jupytext.reads(path.with_suffix(".py").read_text(encoding="utf-8"), fmt="py:percent")
    assert [(c.cell_type, c.source) for c in paired.cells] == [(c.cell_type, c.source) for c in nb_cells]


@pytest.mark.parametrize("nb", sorted(NOTEBOOKS))
def test_ledger_records_sit_in_qc_cells_that_say_what_they_check(nb):
    nb_cells = cells(ROOT / "notebooks" / f"{NOTEBOOKS[nb]}.ipynb")
    qc = [c for c in nb_cells if "qc" in c.metadata.get("tags", [])]
    assert qc, "no qc cell"
    for c in qc:
        assert c.cell_type == "code" and c.source.startswith("# Checks"), c.source[:80]
    recording = [c for c in nb_cells if c.cell_type == "code" and ("ledger.record(" in c.source
                                                                  or re.search(r"^reproduce\(", c.source, re.M))]
    assert recording and all("qc" in c.metadata.get("tags", []) for c in recording)


@pytest.mark.parametrize("nb", sorted(NOTEBOOKS))
def test_qc_cells_close_their_section(nb):
    """After a qc cell comes another qc cell, a new section (## heading) or nothing."""
    nb_cells = cells(ROOT / "notebooks" / f"{NOTEBOOKS[nb]}.ipynb")
    for i, c in enumerate(nb_cells[:-1]):
        if "qc" not in c.metadata.get("tags", []):
            continue
        nxt = nb_cells[i + 1]
        assert "qc" in nxt.metadata.get("tags", []) or (
            nxt.cell_type == "markdown" and re.match(r"#{1,2} ", nxt.source)), (i, nxt.source[:80])
