"""Bad input to analysis.datasets: every public function refuses it with a ValueError (or a
subclass: DataValidationError, ChecksumError) that names the argument, the file, the column or the
rows, and suggests the nearest name where one was misspelt."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import datasets
from analysis.datasets import ChecksumError, DataValidationError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def bcg_package(tmp_path):
    """A copy of the data package with the metadat files only (tests may damage it)."""
    dst = tmp_path / "data"
    shutil.copytree(ROOT / "data", dst, ignore=shutil.ignore_patterns("cache", "scripts", "metapsy"))
    pkg = json.loads((dst / "datapackage.json").read_text(encoding="utf-8"))
    pkg["resources"] = [r for r in pkg["resources"] if not r["name"].startswith("metapsy")]
    (dst / "datapackage.json").write_text(json.dumps(pkg, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return dst


def _mine() -> pd.DataFrame:
    return pd.DataFrame({"study": ["A", "B"], "n": [120, 80], "tval": [2.1, 0.4], "preds": [3, 5],
                         "R2": [0.2, 0.1]})


# -- list_datasets ------------------------------------------------------------------------


def test_list_datasets_wrong_types(tmp_path):
    with pytest.raises(ValueError, match="`external` must be True or False, got 'yes'"):
        datasets.list_datasets(external="yes")
    with pytest.raises(ValueError, match="`package` must be a path .* got int"):
        datasets.list_datasets(package=3)
    with pytest.raises(ValueError, match="`package`: no data package at"):
        datasets.list_datasets(package=tmp_path / "nowhere.json")


def test_list_datasets_not_a_package(tmp_path):
    (tmp_path / "datapackage.json").write_text("study,yi\nA,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="`package`: .*datapackage.json is not a JSON data package"):
        datasets.list_datasets(package=tmp_path)
    (tmp_path / "datapackage.json").write_text('{"name": "x"}', encoding="utf-8")
    with pytest.raises(ValueError, match="is not a data package \\(no 'resources' list\\)"):
        datasets.list_datasets(package=tmp_path)


# -- describe -------------------------------------------------------------------------


def test_describe_unknown_name_suggests():
    with pytest.raises(ValueError, match=r"`name`: no dataset 'dat.bgc'\. Did you mean 'dat.bcg'\?"):
        datasets.describe("dat.bgc")


def test_describe_wrong_type():
    with pytest.raises(ValueError, match="`name` must be a dataset name \\(str\\), got NoneType"):
        datasets.describe(None)


# -- load -----------------------------------------------------------------------------


def test_load_unknown_name_suggests():
    with pytest.raises(ValueError, match=r"no dataset 'metapsy-depression'\. Did you mean 'metapsy-depression-psyctr'\?"):
        datasets.load("metapsy-depression")
    with pytest.raises(ValueError, match="`name` must be a dataset name .* got list"):
        datasets.load(["dat.bcg"])


def test_load_bad_checksum(bcg_package):
    path = bcg_package / "raw" / "dat.bcg.csv"
    path.write_bytes(path.read_bytes().replace(b"Aronson", b"Aronsen", 1))
    with pytest.raises(ChecksumError, match=r"dat\.bcg\.csv: checksum mismatch: the data package declares sha256"):
        datasets.load("dat.bcg", package=bcg_package)


def test_load_missing_file(bcg_package):
    (bcg_package / "raw" / "dat.aloe2013.csv").unlink()
    with pytest.raises(ValueError, match="the file of dataset 'dat.aloe2013' is missing"):
        datasets.load("dat.aloe2013", package=bcg_package)


# -- fetch ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"commit": "main"}, "`commit` must be a git commit \\(7 to 40 hexadecimal digits\\), got 'main'"),
        ({"commit": 1234567}, "`commit` must be a git commit"),
        ({"commit": "abc"}, "`commit` must be a git commit"),
        ({"commit": "1234567", "sha256": "abc"}, "`sha256` must be 64 hexadecimal digits"),
        ({"commit": "1234567", "sha256": None}, "`sha256` is required with `commit` '1234567'"),
        ({"sha256": "0" * 64}, "`sha256` 0{64} differs from the pinned sha256"),
        ({"cache_dir": 3.0}, "`cache_dir` must be a path"),
        ({"package": {"resources": []}}, "`package` must be a path .* got dict"),
    ],
)
def test_fetch_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        datasets.fetch("metapsy-depression-psyctr", **kwargs)


def test_fetch_unknown_name_suggests():
    with pytest.raises(ValueError, match=r"no dataset 'metapsy-depression-selfguided'\. Did you mean 'metapsy-depression-selfguided-psyctr'\?"):
        datasets.fetch("metapsy-depression-selfguided")


def test_fetch_dataset_without_download():
    with pytest.raises(ValueError, match=r"'dat.molloy2014' has no download URL"):
        datasets.fetch("dat.molloy2014")


def test_fetch_bad_checksum_of_the_shipped_copy(tmp_path):
    pkg = tmp_path / "data"
    shutil.copytree(ROOT / "data", pkg, ignore=shutil.ignore_patterns("cache", "scripts", "raw"))
    target = pkg / "metapsy" / "depression-selfguided-psyctr" / "data.csv"
    target.write_bytes(target.read_bytes()[:-200])
    with pytest.raises(ChecksumError, match="depression-selfguided-psyctr/data.csv: checksum mismatch.*unmodified copy of"):
        datasets.fetch("metapsy-depression-selfguided-psyctr", package=pkg)


# -- validate -------------------------------------------------------------------------


def test_validate_wrong_types():
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame, got dict"):
        datasets.validate({"study": ["A"]}, "dat.aloe2013")
    with pytest.raises(ValueError, match="`schema` must be a dataset name or a Frictionless table schema"):
        datasets.validate(_mine(), 42)
    with pytest.raises(ValueError, match="`source` must be a str"):
        datasets.validate(_mine(), "dat.aloe2013", source=None)


def test_validate_bad_schemas():
    with pytest.raises(ValueError, match="`schema`: 'fields' must be a list"):
        datasets.validate(_mine(), {"fields": "study"})
    with pytest.raises(ValueError, match="`schema`: each field must be a dict with a 'name', got 'study'"):
        datasets.validate(_mine(), {"fields": ["study"]})
    with pytest.raises(ValueError, match="`schema`: field 'n' has type 'float'; supported"):
        datasets.validate(_mine(), {"fields": [{"name": "n", "type": "float"}], "fieldsMatch": "subset"})


def test_validate_unknown_schema_name_suggests():
    with pytest.raises(ValueError, match=r"no dataset 'dat.aloe'\. Did you mean 'dat.aloe2013'\?"):
        datasets.validate(_mine(), "dat.aloe")


def test_validate_misspelt_column_suggests():
    df = _mine().rename(columns={"R2": "r2"})
    with pytest.raises(DataValidationError, match=r"column 'R2': is missing \(the schema requires this column\)\. Did you mean 'r2'\?"):
        datasets.validate(df, "dat.aloe2013", source="mine.csv")


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("n", "many", r"column 'n', row 1 \(study=B, value 'many'\): is not a whole number"),
        ("tval", np.inf, r"column 'tval', row 1 \(study=B, value inf\): is not a finite number"),
        ("tval", np.nan, r"column 'tval', row 1 \(study=B\): a value is required but missing"),
        ("R2", 1e300, r"column 'R2', row 1 \(study=B, value 1e\+300\): is above the maximum 1"),
        ("study", "A", r"column 'study', rows 0 \(study=A, value 'A'\), 1 \(study=A, value 'A'\): values must be unique"),
    ],
)
def test_validate_bad_values_name_column_and_row(column, value, message):
    df = _mine().astype({column: object})
    df.loc[1, column] = value
    with pytest.raises(DataValidationError, match=message):
        datasets.validate(df, "dat.aloe2013", source="mine.csv")


def test_validate_empty_table_without_columns():
    with pytest.raises(DataValidationError, match="column 'study': is missing"):
        datasets.validate(pd.DataFrame(), "dat.aloe2013")


# -- read_csv -------------------------------------------------------------------------


def test_read_csv_bad_arguments(tmp_path):
    f = tmp_path / "mine.csv"
    _mine().to_csv(f, index=False)
    with pytest.raises(ValueError, match="`path` must be a path .* got int"):
        datasets.read_csv(3, "dat.aloe2013")
    with pytest.raises(ValueError, match="`path`: no file at .*missing.csv"):
        datasets.read_csv(tmp_path / "missing.csv", "dat.aloe2013")
    with pytest.raises(ValueError, match="`encoding`: unknown text encoding 'utf-9'"):
        datasets.read_csv(f, "dat.aloe2013", encoding="utf-9")
    with pytest.raises(ValueError, match="`delimiter` must be one character .* got ';;'"):
        datasets.read_csv(f, "dat.aloe2013", delimiter=";;")
    with pytest.raises(ValueError, match="`delimiter` must be one character .* got 5"):
        datasets.read_csv(f, "dat.aloe2013", delimiter=5)


def test_read_csv_file_problems_name_the_file(tmp_path):
    f = tmp_path / "mine.csv"
    f.write_bytes(b"study,n,tval,preds,R2\nA,120,2.1,3,0.2\nB,80,0.4\n")
    with pytest.raises(DataValidationError, match=r"mine\.csv: row 1 has 3 fields, but the header has 5"):
        datasets.read_csv(f, "dat.aloe2013")
    f.write_bytes(b"")
    with pytest.raises(DataValidationError, match=r"mine\.csv: the file is empty"):
        datasets.read_csv(f, "dat.aloe2013")
    f.write_bytes("study,n,tval,preds,R2\nM\xfcller,1,1,1,0.1\n".encode("latin-1"))
    with pytest.raises(DataValidationError, match=r"mine\.csv: not valid utf-8 at byte 23"):
        datasets.read_csv(f, "dat.aloe2013")


# -- repair_mojibake, sha256_file, write_checksums -----------------------------------------


@pytest.mark.parametrize("value", [None, 3, b"M\xb8ller", ["x"]])
def test_repair_mojibake_refuses_non_text(value):
    with pytest.raises(ValueError, match="`text` must be a str"):
        datasets.repair_mojibake(value)


def test_sha256_file_bad_paths(tmp_path):
    with pytest.raises(ValueError, match="`path`: no file at .*absent.csv"):
        datasets.sha256_file(tmp_path / "absent.csv")
    with pytest.raises(ValueError, match="`path`: no file at"):
        datasets.sha256_file(tmp_path)  # a folder
    with pytest.raises(ValueError, match="`path` must be a path .* got NoneType"):
        datasets.sha256_file(None)


def test_write_checksums_missing_file_and_bad_package(bcg_package, tmp_path):
    before = (bcg_package / "datapackage.json").read_bytes()
    (bcg_package / "raw" / "dat.bcg.csv").unlink()
    with pytest.raises(ValueError, match=r"resource 'dat.bcg' names .*dat\.bcg\.csv, which does not exist"):
        datasets.write_checksums(bcg_package)
    assert (bcg_package / "datapackage.json").read_bytes() == before  # untouched
    with pytest.raises(ValueError, match="`package`: no data package at"):
        datasets.write_checksums(tmp_path / "nothing")
