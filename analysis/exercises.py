"""Check an answer to a notebook exercise without reading the worked solution.

Every notebook ends with exercises; the worked answers live in ``notebooks/answers/``.
A student who wants to know only whether an answer is right calls :func:`check`::

    from analysis.exercises import check
    check("01.3", 0.28)        # -> Right. / Not yet. Hint: ...

The expected answers are *computed* by the workbook from the shipped data (a function
per exercise, in ``analysis/_exercise_keys/nbNN.py``), never typed in, so they follow the
data and the estimators. Written by hand: no maintained library offers answer checking
for these notebooks (nbgrader grades whole assignments, which is not what a reader needs).
"""

from __future__ import annotations

import importlib
import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

__all__ = ["Exercise", "Feedback", "check", "exercises"]


@dataclass(frozen=True)
class Exercise:
    """One exercise of a notebook: its key, question, expected answer and a hint.

    Parameters
    ----------
    key : str
        ``"NN.k"``: notebook ``NN``, exercise ``k`` (as numbered in the notebook).
    question : str
        The question, one or two sentences (the notebook has the full text).
    expected : callable
        Called with no arguments; returns the right answer (a number, a sequence of numbers,
        a bool or a short string), computed with the workbook from the shipped data.
    tol : float
        Tolerance for numbers: absolute, or relative when ``relative=True``.
    relative : bool
        Whether `tol` is relative to the expected value.
    hint : str
        What to look at again when the answer is not right (never the answer itself).
    choices : tuple of str
        For a multiple-choice exercise, the accepted answers (compared case-insensitively).
    """

    key: str
    question: str
    expected: Callable[[], Any]
    tol: float = 0.01
    relative: bool = False
    hint: str = ""
    choices: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Feedback:
    """Result of :func:`check`: ``correct`` and a message; true in ``if`` and ``assert``."""

    key: str
    correct: bool
    message: str

    def __bool__(self) -> bool:
        return self.correct

    def __repr__(self) -> str:
        return self.message

    def _repr_markdown_(self) -> str:
        # "Right." / "Not yet." / "Not answered yet." in bold, the rest as it is
        head, _, rest = self.message.partition(". ")
        return f"**{head}.** {rest}".strip()


def _load(notebook: str) -> dict[str, Exercise]:
    """The exercises of notebook ``NN`` (``analysis._exercise_keys.nbNN.EXERCISES``)."""
    try:
        module = importlib.import_module(f"analysis._exercise_keys.nb{notebook}")
    except ModuleNotFoundError:
        return {}
    return {ex.key: ex for ex in module.EXERCISES}


def exercises(notebook: str) -> list[Exercise]:
    """The exercises of one notebook, in order.

    Parameters
    ----------
    notebook : str
        The notebook's two-digit number, e.g. ``"03"``.

    Returns
    -------
    list of Exercise

    Raises
    ------
    ValueError
        If `notebook` is not a two-digit string or the notebook has no exercises.

    Examples
    --------
    >>> exercises("99")
    Traceback (most recent call last):
    ...
    ValueError: notebook '99' has no exercises; notebooks with exercises: ...
    """
    if not isinstance(notebook, str) or len(notebook) != 2 or not notebook.isdigit():
        raise ValueError(f"notebook must be a two-digit string such as '03', got {notebook!r}.")
    found = _load(notebook)
    if not found:
        have = [f"{i:02d}" for i in range(100) if _load(f"{i:02d}")]
        raise ValueError(f"notebook {notebook!r} has no exercises; notebooks with exercises: "
                         f"{', '.join(have) or 'none yet'}.")
    return list(found.values())


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _close(given: float, want: float, ex: Exercise) -> bool:
    scale = abs(want) if ex.relative else 1.0
    return math.isfinite(given) and abs(given - want) <= ex.tol * scale


def check(key: str, answer: Any) -> Feedback:
    """Say whether `answer` to exercise `key` is right, with a hint when it is not.

    A number is right when ``|answer - expected| <= tol`` (or ``tol * |expected|`` for
    exercises with a relative tolerance); a sequence of numbers when every element is; a
    string when it equals one of the accepted choices, ignoring case and surrounding spaces;
    a bool when it equals the expected bool. The worked answer is never shown.

    Parameters
    ----------
    key : str
        The exercise, ``"NN.k"`` (notebook ``NN``, exercise ``k``), e.g. ``"01.2"``.
    answer : float, sequence of float, bool, str or None
        Your answer; None (not answered yet) gives a false Feedback saying so, not an error.

    Returns
    -------
    Feedback
        ``correct`` (bool) and ``message``; the object is true when the answer is right, so
        ``assert check(...)`` works in the answers notebooks.

    Raises
    ------
    ValueError
        If `key` names no exercise, or `answer` has the wrong type or length for it.

    Examples
    --------
    >>> check("00.0", 1)
    Traceback (most recent call last):
    ...
    ValueError: key '00.0' names no exercise ...
    """
    if not isinstance(key, str) or "." not in key:
        raise ValueError(f"key must be a string 'NN.k' such as '01.2', got {key!r}.")
    notebook = key.split(".", 1)[0]
    found = _load(notebook) if len(notebook) == 2 and notebook.isdigit() else {}
    if key not in found:
        listed = ", ".join(found) if found else "none"
        raise ValueError(f"key {key!r} names no exercise (exercises of notebook {notebook!r}: {listed}).")
    ex = found[key]
    if answer is None:
        # The exercise cells start with `your_answer = None`, so a notebook run top to bottom
        # (Run All, the test suite) passes them without an error.
        return Feedback(key, False, f"Not answered yet. ({key}: {ex.question}) Replace None with your answer.")
    want = ex.expected()
    hint = f" Hint: {ex.hint}" if ex.hint else ""
    if ex.choices or isinstance(want, str):
        if not isinstance(answer, str):
            raise ValueError(f"answer to {key} must be a string (one of {list(ex.choices or [want])}), "
                             f"got {type(answer).__name__}.")
        # choices: the spellings accepted for the one right answer (e.g. "REML", "restricted ML")
        accepted = {c.strip().lower() for c in (ex.choices or (str(want),))}
        ok = answer.strip().lower() in accepted
    elif isinstance(want, (bool, np.bool_)):
        if not isinstance(answer, (bool, np.bool_)):
            raise ValueError(f"answer to {key} must be True or False, got {answer!r}.")
        ok = bool(answer) == bool(want)
    elif _is_number(want):
        if not _is_number(answer):
            raise ValueError(f"answer to {key} must be a number, got {type(answer).__name__} {answer!r}.")
        ok = _close(float(answer), float(want), ex)
    else:
        want_arr = np.asarray(want, dtype=float).ravel()
        try:
            given = np.asarray(answer, dtype=float).ravel()
        except (TypeError, ValueError):
            raise ValueError(f"answer to {key} must be {want_arr.size} numbers, got {answer!r}.") from None
        if given.size != want_arr.size:
            raise ValueError(f"answer to {key} must be {want_arr.size} numbers, got {given.size}.")
        ok = all(_close(g, w, ex) for g, w in zip(given, want_arr))
    if ok:
        return Feedback(key, True, f"Right. ({key}: {ex.question})")
    return Feedback(key, False, f"Not yet. ({key}: {ex.question}){hint}")
