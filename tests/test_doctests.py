"""Every docstring example of the package runs and prints what it shows.

The equivalent of ``pytest --doctest-modules analysis/`` (same default option flag,
ELLIPSIS), one test per module found in ``analysis/*.py`` and in public subpackages
(``analysis/sem/*.py``), so a new module's examples
are run without editing this file. The examples run in a scratch working directory.
"""

from __future__ import annotations

import doctest
import importlib
import io
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULES = sorted(
    ["analysis" if p.stem == "__init__" else f"analysis.{p.stem}" for p in (ROOT / "analysis").glob("*.py")]
    # public subpackages (analysis/sem): the package and each of its modules
    + [f"analysis.{p.parent.name}" if p.stem == "__init__" else f"analysis.{p.parent.name}.{p.stem}"
       for p in (ROOT / "analysis").glob("*/*.py")
       if (p.parent / "__init__.py").is_file() and not p.parent.name.startswith("_")]
)


def test_the_package_has_modules_with_examples():
    assert len(MODULES) > 10
    finder = doctest.DocTestFinder()
    n_examples = sum(
        len(t.examples) for name in MODULES for t in finder.find(importlib.import_module(name))
    )
    assert n_examples > 100


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    report = io.StringIO()
    for test in sorted(finder.find(module, name), key=lambda t: t.name):
        test.globs = dict(test.globs)  # each docstring starts from the module's globals
        runner.run(test, out=report.write)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}:\n{report.getvalue()}"
