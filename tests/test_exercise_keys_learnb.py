"""Notebooks 03-06: every exercise in a notebook has an answer key and a worked answer, and back
(issue 17 item 1). Cheap: reads the files; the answers notebooks themselves, which assert each answer
with check(), are executed by tests/test_answers_notebooks.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analysis.exercises import exercises

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = {"03": "03_therapist_effects", "04": "04_session_by_session", "05": "05_change_and_ruptures",
             "06": "06_alliance_measurement"}


@pytest.mark.parametrize("nb", sorted(NOTEBOOKS))
def test_keys_notebook_and_answers_agree(nb):
    keys = [e.key for e in exercises(nb)]
    assert 4 <= len(keys) <= 6, "issue 17: 4-6 exercises per notebook"
    assert keys == [f"{nb}.{k}" for k in range(1, len(keys) + 1)]
    student = (ROOT / "notebooks" / f"{NOTEBOOKS[nb]}.py").read_text(encoding="utf-8")
    answers = (ROOT / "notebooks" / "answers" / f"{NOTEBOOKS[nb]}.py").read_text(encoding="utf-8")
    asked = re.findall(r'check\("(\d\d\.\d)", your_answer\)', student)
    asserted = re.findall(r'assert check\("(\d\d\.\d)"', answers)
    assert asked == keys, f"notebook {nb}: exercise cells {asked} vs keys {keys}"
    assert asserted == keys, f"answers {nb}: asserted {asserted} vs keys {keys}"
    assert (ROOT / "notebooks" / "answers" / f"{NOTEBOOKS[nb]}.ipynb").exists()
    for tag in ("**Learning goals.**", "**Prerequisites.**", "## Exercises"):
        assert tag in student, f"notebook {nb} lacks {tag}"
    assert all(e.hint for e in exercises(nb)), "every exercise has a hint"
