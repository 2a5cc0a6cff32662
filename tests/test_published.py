"""Tests of data/published and analysis.published: checksum, schema, consistency."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from analysis import datasets, effect_sizes, published

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "data" / "published"


@pytest.fixture()
def copy_pkg(tmp_path):
    dst = tmp_path / "published"
    shutil.copytree(PKG, dst)
    return dst


def test_table_loads_typed_with_citation():
    df = published.load()
    assert df.shape == (19, 13)
    assert df["estimate"].dtype == np.float64
    assert str(df["k"].dtype) == "Int64"
    assert set(df["status"]) <= {"checked", "unchecked"}
    assert "CC0" in df.attrs["license"]
    assert published.list_tables() == ["relationship_elements"]


def test_checked_rows_say_where_and_unchecked_are_kept():
    df = published.load()
    ok = published.checked(df)
    assert len(ok) < len(df)  # the unread row (rupture repair) is kept but not checked
    assert (ok["where"].str.len() > 0).all()
    assert "Repairing alliance ruptures" in set(df.loc[df["status"] == "unchecked", "element"])


def test_flueckiger_row_matches_the_abstract():
    df = published.load().set_index("element")
    row = df.loc["Alliance (individual adult psychotherapy)"]
    assert (row["estimate"], row["ci_low"], row["ci_high"], row["d_published"], row["k"]) == (
        0.278, 0.256, 0.299, 0.579, 295)
    # the published d is the published r converted with the equal-n formula, to its 3 decimals
    assert abs(effect_sizes.r_to_d(row["estimate"]) - row["d_published"]) <= 0.0005


def test_checksum_is_enforced(copy_pkg):
    csv = copy_pkg / "relationship_elements.csv"
    csv.write_text(csv.read_text(encoding="utf-8").replace("0.278", "0.300"), encoding="utf-8")
    with pytest.raises(datasets.ChecksumError):
        published.load(package=copy_pkg)


def _rewrite(copy_pkg, old, new):
    csv = copy_pkg / "relationship_elements.csv"
    text = csv.read_text(encoding="utf-8")
    assert old in text
    csv.write_text(text.replace(old, new, 1), encoding="utf-8")
    datasets.write_checksums(package=copy_pkg)


def test_schema_error_names_column(copy_pkg):
    _rewrite(copy_pkg, ",abstract,checked\n", ",abstract,maybe\n")
    with pytest.raises(ValueError, match="status"):
        published.load(package=copy_pkg)


def test_checked_row_without_where_is_refused(copy_pkg):
    _rewrite(copy_pkg, "doi:10.1037/pst0000172\",abstract,checked", "doi:10.1037/pst0000172\",,checked")
    with pytest.raises(ValueError, match="'where'.*position 0"):
        published.load(package=copy_pkg)


def test_estimate_outside_ci_is_refused(copy_pkg):
    _rewrite(copy_pkg, "r,0.19,0.13,0.25", "r,0.29,0.13,0.25")
    with pytest.raises(ValueError, match="outside its confidence interval at position 1"):
        published.load(package=copy_pkg)


def test_half_interval_is_refused(copy_pkg):
    _rewrite(copy_pkg, "r,0.19,0.13,0.25", "r,0.19,0.13,")
    with pytest.raises(ValueError, match="both bounds or neither"):
        published.load(package=copy_pkg)


def test_datapackage_describes_every_field_and_license():
    pkg = json.loads((PKG / "datapackage.json").read_text(encoding="utf-8"))
    res = pkg["resources"][0]
    assert res["hash"] == "sha256:" + datasets.sha256_file(PKG / res["path"])
    assert all(f.get("description") and f.get("type") for f in res["schema"]["fields"])
    assert pkg["licenses"][0]["name"] == "CC0-1.0"


def test_checked_needs_status_column():
    with pytest.raises(ValueError, match="status"):
        published.checked(published.load().drop(columns="status"))
