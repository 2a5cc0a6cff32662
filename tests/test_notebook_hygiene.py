"""Notebooks stay diff-friendly: outputs stripped, paired with a jupytext file in sync.

Executing the notebooks is the job of the reproduction fixture (tests/conftest.py);
this file checks what is committed.
"""

from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_there_are_notebooks_and_the_tour_comes_first():
    assert NOTEBOOKS, "notebooks/ holds no NN_name.ipynb"
    assert NOTEBOOKS[0].name == "00_tour.ipynb"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_outputs_are_stripped(path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name} cell {i} has outputs committed"
            assert cell.execution_count is None, f"{path.name} cell {i} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_kernel_is_python3(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_paired_text_file_is_in_sync(path):
    paired = path.with_suffix(".py")
    assert paired.exists(), f"{path.name} has no paired {paired.name} (run `jupytext --sync`)"
    from_ipynb = jupytext.reads(path.read_text(encoding="utf-8"), fmt="ipynb")
    from_py = jupytext.reads(paired.read_text(encoding="utf-8"), fmt="py:percent")
    src_a = [(c.cell_type, c.source) for c in from_ipynb.cells]
    src_b = [(c.cell_type, c.source) for c in from_py.cells]
    assert src_a == src_b, f"{path.name} and {paired.name} differ: run `jupytext --sync {path}`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_records_to_the_ledger(path):
    """Issue 8: every notebook records its published-vs-ours comparisons."""
    text = path.read_text(encoding="utf-8")
    assert "ledger.record(" in text, f"{path.name} records nothing in the ledger"
