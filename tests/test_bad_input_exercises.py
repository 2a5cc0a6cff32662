"""Bad input to analysis.exercises: wrong keys and answers of the wrong type are refused by name."""

from __future__ import annotations

import sys
import types

import pytest

from analysis import exercises
from analysis.exercises import Exercise, check


@pytest.fixture(autouse=True)
def key_module(monkeypatch):
    mod = types.ModuleType("analysis._exercise_keys.nb97")
    mod.EXERCISES = [Exercise("97.1", "a number", lambda: 0.5), Exercise("97.2", "pair", lambda: (1, 2)),
                     Exercise("97.3", "bool", lambda: False), Exercise("97.4", "word", lambda: "ML")]
    monkeypatch.setitem(sys.modules, "analysis._exercise_keys.nb97", mod)


def test_check_bad_key():
    with pytest.raises(ValueError, match="key must be a string 'NN.k'"):
        check(3.1, 1)
    with pytest.raises(ValueError, match=r"key '97.9' names no exercise \(exercises of notebook '97': 97.1"):
        check("97.9", 1)


def test_check_bad_answer_types():
    with pytest.raises(ValueError, match="answer to 97.1 must be a number, got str"):
        check("97.1", "0.5")
    with pytest.raises(ValueError, match="answer to 97.2 must be 2 numbers, got 3"):
        check("97.2", [1, 2, 3])
    with pytest.raises(ValueError, match="answer to 97.3 must be True or False"):
        check("97.3", 0)
    with pytest.raises(ValueError, match="answer to 97.4 must be a string"):
        check("97.4", 1.0)


def test_exercises_bad_notebook():
    with pytest.raises(ValueError, match="notebook must be a two-digit string"):
        exercises.exercises(3)
    with pytest.raises(ValueError, match="notebook '96' has no exercises"):
        exercises.exercises("96")
