"""Bad input to analysis.published: every public function refuses it with a ValueError (or
DataValidationError / ChecksumError) naming the argument, the file, the column or the rows."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis import datasets, published
from analysis.datasets import ChecksumError, DataValidationError

PKG = Path(__file__).resolve().parents[1] / "data" / "published"
CSV = "relationship_elements.csv"


@pytest.fixture
def copy_pkg(tmp_path):
    dst = tmp_path / "published"
    shutil.copytree(PKG, dst)
    return dst


def _edit(pkg: Path, old: str, new: str) -> None:
    """Change the table and refresh its checksum, so that only the consistency rules can object."""
    path = pkg / CSV
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    datasets.write_checksums(pkg)


def test_list_tables_bad_package(tmp_path):
    with pytest.raises(ValueError, match="`package` must be a path .* got int"):
        published.list_tables(package=3)
    with pytest.raises(ValueError, match="`package`: no data package at"):
        published.list_tables(package=tmp_path / "none.json")


def test_load_unknown_table_suggests():
    with pytest.raises(ValueError, match=r"no dataset 'relationship_element'\. Did you mean 'relationship_elements'\?"):
        published.load("relationship_element")
    with pytest.raises(ValueError, match="`name` must be a dataset name \\(str\\), got int"):
        published.load(0)


def test_load_bad_checksum(copy_pkg):
    path = copy_pkg / CSV
    path.write_bytes(path.read_bytes().replace(b"0.278", b"0.287", 1))
    with pytest.raises(ChecksumError, match=r"relationship_elements\.csv: checksum mismatch"):
        published.load(package=copy_pkg)


def test_load_estimate_outside_its_interval(copy_pkg):
    _edit(copy_pkg, "r,0.278,0.256,0.299", "r,0.378,0.256,0.299")
    with pytest.raises(DataValidationError, match="column 'estimate' lies outside its confidence interval at"):
        published.load(package=copy_pkg)


def test_load_half_an_interval(copy_pkg):
    _edit(copy_pkg, "r,0.278,0.256,0.299", "r,0.278,0.256,")
    with pytest.raises(DataValidationError, match="columns 'ci_low'/'ci_high': give both bounds or neither"):
        published.load(package=copy_pkg)


def test_load_checked_row_without_where(copy_pkg):
    _edit(copy_pkg, "doi:10.1037/pst0000172\",abstract,checked", "doi:10.1037/pst0000172\",,checked")
    with pytest.raises(DataValidationError, match="column 'where': rows with status 'checked' must say where"):
        published.load(package=copy_pkg)


@pytest.mark.parametrize("bad", [None, {"status": ["checked"]}, pd.DataFrame({"state": ["checked"]})])
def test_checked_refuses_what_is_not_a_published_table(bad):
    with pytest.raises(ValueError, match="`df` must be a DataFrame with a 'status' column"):
        published.checked(bad)
