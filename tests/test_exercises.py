"""Tests of analysis.exercises.check with a test-only answer key (tolerances stated per case)."""

from __future__ import annotations

import sys
import types

import pytest

from analysis import exercises
from analysis.exercises import Exercise, check


@pytest.fixture()
def key_module(monkeypatch):
    mod = types.ModuleType("analysis._exercise_keys.nb98")
    mod.EXERCISES = [
        Exercise("98.1", "a number", lambda: 0.25, tol=0.01, hint="look at tau^2"),
        Exercise("98.2", "relative", lambda: 200.0, tol=0.05, relative=True),
        Exercise("98.3", "two numbers", lambda: (1.0, 2.0), tol=1e-6),
        Exercise("98.4", "yes or no", lambda: True),
        Exercise("98.5", "which method", lambda: "REML", choices=("REML", "restricted maximum likelihood")),
    ]
    monkeypatch.setitem(sys.modules, "analysis._exercise_keys.nb98", mod)
    return mod


def test_numbers_within_tolerance(key_module):
    assert check("98.1", 0.259)          # |0.259 - 0.25| <= 0.01 (absolute)
    assert not check("98.1", 0.261)
    assert "tau^2" in check("98.1", 0.3).message
    assert check("98.2", 209.0)          # 5% relative of 200 = 10
    assert not check("98.2", 211.0)
    assert check("98.3", [1.0, 2.0 + 1e-7])
    assert not check("98.3", [1.0, 2.1])


def test_bool_and_choices(key_module):
    assert check("98.4", True) and not check("98.4", False)
    assert check("98.5", " reml ") and check("98.5", "Restricted maximum likelihood")
    assert not check("98.5", "ML")


def test_never_shows_the_answer(key_module):
    assert "0.25" not in check("98.1", 0.9).message


def test_exercises_lists_them(key_module):
    assert [e.key for e in exercises.exercises("98")] == ["98.1", "98.2", "98.3", "98.4", "98.5"]


def test_none_means_not_answered_yet(key_module):
    fb = check("98.1", None)
    assert not fb and fb.message.startswith("Not answered yet.")
    assert check("98.1", 0.25)._repr_markdown_().startswith("**Right.**")
