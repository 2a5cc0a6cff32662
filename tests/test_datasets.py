"""Tests for analysis.datasets: shipped files, checksums, schema validation.

R oracle: tests/fixtures/datasets_summary.json is written by
data/scripts/import_metadat.R from the metadat objects in R (not from the CSV
files), so comparing it with what Python loads checks the whole export and
parse path. Tolerance: jsonlite writes 15 significant digits, so means, SDs
and sums are compared at rel 1e-12; counts, minima, maxima and missing counts
exactly.
"""

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
FIXTURE = json.loads((ROOT / "tests" / "fixtures" / "datasets_summary.json").read_text(encoding="utf-8"))
PACKAGE = json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))
SHIPPED = datasets.list_datasets(external=False)
METAPSY = ["metapsy-depression-psyctr", "metapsy-depression-selfguided-psyctr"]
METADAT = [n for n in SHIPPED if n not in METAPSY]  # exported from R's metadat (R oracle below)
REQUIRED = ["dat.lopez2019", "dat.landenberger2005", "dat.hasselblad1998", "dat.molloy2014", "dat.bcg"]


@pytest.fixture
def package_copy(tmp_path: Path) -> Path:
    """A copy of the data package (json + raw files) that a test may damage."""
    dst = tmp_path / "data"
    shutil.copytree(ROOT / "data", dst, ignore=shutil.ignore_patterns("cache", "scripts"))
    return dst


# -- the shipped package ---------------------------------------------------------


def test_required_datasets_are_shipped():
    for name in REQUIRED:
        assert name in SHIPPED
    assert set(METADAT) == set(FIXTURE["datasets"])
    assert set(SHIPPED) == set(METADAT) | set(METAPSY)


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_file_matches_its_checksum_and_size(name):
    res = next(r for r in PACKAGE["resources"] if r["name"] == name)
    path = ROOT / "data" / res["path"]
    assert res["hash"] == "sha256:" + datasets.sha256_file(path)
    assert res["bytes"] == path.stat().st_size


@pytest.mark.parametrize("name", METADAT)
def test_every_shipped_file_loads_and_matches_r(name):
    df = datasets.load(name)
    ref = FIXTURE["datasets"][name]
    assert df.shape == (ref["n_rows"], ref["n_cols"])
    assert list(df.columns) == ref["columns"]
    for col, s in ref["summary"].items():
        x = df[col]
        assert int(x.isna().sum()) == s["n_missing"], col
        if s["type"] in ("integer", "number"):
            expected_dtype = "Int64" if s["type"] == "integer" else "float64"
            declared = next(f for f in res_fields(name) if f["name"] == col)["type"]
            assert str(x.dtype) == ("Int64" if declared == "integer" else "float64"), col
            if declared == s["type"]:
                assert str(x.dtype) == expected_dtype
            v = x.dropna().to_numpy(dtype=float)
            assert v.min() == s["min"] and v.max() == s["max"], col
            np.testing.assert_allclose(v.sum(), s["sum"], rtol=1e-12, err_msg=col)
            np.testing.assert_allclose(v.mean(), s["mean"], rtol=1e-12, err_msg=col)
            if s["sd"] is not None:
                np.testing.assert_allclose(v.std(ddof=1), s["sd"], rtol=1e-12, atol=1e-15, err_msg=col)
        else:
            assert str(x.dtype) == "str", col
            v = x.dropna()
            assert v.nunique() == s["n_distinct"], col
            assert v.iloc[0] == s["first"] and v.iloc[-1] == s["last"], col


def res_fields(name):
    return next(r for r in PACKAGE["resources"] if r["name"] == name)["schema"]["fields"]


def test_known_values_bcg():
    # Colditz et al. (1994) table as printed by R for dat.bcg (trial 1 and 13).
    bcg = datasets.load("dat.bcg")
    first = bcg.iloc[0]
    assert (first["author"], first["year"], first["tpos"], first["tneg"], first["cpos"], first["cneg"]) == (
        "Aronson", 1948, 4, 119, 11, 128)
    assert bcg.attrs["citation"].startswith("Colditz")
    assert bcg.attrs["license"] == "GPL-2.0-or-later"


def test_metadat_version_recorded_everywhere():
    version = FIXTURE["metadat_version"]
    for res in PACKAGE["resources"]:
        if res["name"] in METAPSY:
            continue
        metadat = [s for s in res["sources"] if "metadat" in s["title"]]
        assert metadat and metadat[0]["version"] == version


def test_every_field_is_described():
    for res in PACKAGE["resources"]:
        assert res["citation"] and res["licenses"] and res["sources"], res["name"]
        for f in res["schema"]["fields"]:
            assert f["type"] in ("string", "integer", "number", "boolean"), (res["name"], f["name"])
            assert len(f.get("description", "")) > 3, (res["name"], f["name"])
    for res in PACKAGE["resources"]:
        header = (ROOT / "data" / res["path"]).read_text(encoding="utf-8").splitlines()[0]
        columns = header.replace('"', "").split(res["dialect"]["delimiter"])
        names = {f.get("x-header", f["name"]): f["name"] for f in res["schema"]["fields"]}
        if res["schema"].get("fieldsMatch") == "subset":  # Metapsy: the schema names the columns used
            assert set(names) <= set(columns), res["name"]
        else:
            assert columns == list(names), res["name"]


def test_metapsy_resources_are_pinned_and_shipped():
    pinned = [r for r in PACKAGE["resources"] if r.get("commit")]
    assert [r["name"] for r in pinned] == METAPSY
    assert not [r for r in PACKAGE["resources"] if r.get("external")]  # nothing needs a download
    for r in pinned:
        assert r["path"].startswith("metapsy/") and (ROOT / "data" / r["path"]).is_file()
        assert r["download"].startswith("https://raw.githubusercontent.com/metapsy-project/")
        assert "{commit}" in r["download"] and len(r["commit"]) == 40
        assert r["commit"] in r["sources"][0]["path"]
        assert r["hash"].startswith("sha256:") and len(r["hash"]) == 71
        assert r["licenses"][0]["name"] == "ODC-By-1.0"
        assert r["doi"].startswith("10.5281/zenodo.") and r["doi"] in r["citation"]


def test_write_checksums_keeps_pinned_hashes(package_copy):
    """The Metapsy hashes are the published files'; --write-checksums never follows a local edit."""
    target = package_copy / "metapsy" / "depression-psyctr" / "data.csv"
    target.write_bytes(target.read_bytes() + b"\n")
    assert datasets.write_checksums(package_copy) == []
    with pytest.raises(ChecksumError, match="unmodified copy of https://raw.githubusercontent.com/metapsy-project"):
        datasets.load("metapsy-depression-psyctr", package=package_copy)


def test_list_and_describe():
    assert datasets.list_datasets()[: len(SHIPPED)] == SHIPPED
    info = datasets.describe("dat.lopez2019")
    assert "López-López" in info.citation and "GPL" in info.license
    fields = info.fields.set_index("name")
    assert fields.loc["length", "unit"] == "minutes"
    assert "one of 0, 1" in fields.loc["cog", "constraints"]
    text = info.summary()
    assert "dat.lopez2019" in text and "cog <integer>" in text
    with pytest.raises(ValueError, match="no dataset 'nope'.*dat.bcg"):
        datasets.describe("nope")


def test_write_checksums_is_idempotent_and_repairs_a_stale_hash(package_copy):
    before = (package_copy / "datapackage.json").read_text(encoding="utf-8")
    assert datasets.write_checksums(package_copy) == []
    assert (package_copy / "datapackage.json").read_text(encoding="utf-8") == before
    pkg = json.loads(before)
    pkg["resources"][0]["hash"] = "sha256:" + "0" * 64
    (package_copy / "datapackage.json").write_text(json.dumps(pkg, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    assert datasets.write_checksums(package_copy) == [pkg["resources"][0]["name"]]
    assert (package_copy / "datapackage.json").read_text(encoding="utf-8") == before


def test_main_check_and_write(package_copy, capsys):
    assert datasets.main(["--check", "--package", str(package_copy)]) == 0
    assert "dat.bcg: 13 rows x 9 columns, ok" in capsys.readouterr().out
    assert datasets.main(["--write-checksums", "--package", str(package_copy)]) == 0
    assert "changed: none" in capsys.readouterr().out


# -- tampering -------------------------------------------------------------------


def test_tampered_file_is_refused_naming_file_and_hashes(package_copy):
    path = package_copy / "raw" / "dat.bcg.csv"
    raw = bytearray(path.read_bytes())
    i = raw.index(b"119")
    raw[i] = ord("2")  # 119 -> 219 tneg in trial 1
    path.write_bytes(bytes(raw))
    declared = next(r for r in PACKAGE["resources"] if r["name"] == "dat.bcg")["hash"][7:]
    with pytest.raises(ChecksumError) as err:
        datasets.load("dat.bcg", package=package_copy)
    msg = str(err.value)
    assert "dat.bcg.csv" in msg and declared in msg and datasets.sha256_file(path) in msg
    assert err.value.expected == declared
    assert isinstance(err.value, ValueError)


def test_hand_edited_and_rehashed_file_is_caught_by_the_schema(package_copy):
    # Someone edits a value out of range AND refreshes the hash: the schema still refuses it.
    path = package_copy / "raw" / "dat.bcg.csv"
    text = path.read_text(encoding="utf-8").replace('"Aronson",1948,4,119', '"Aronson",1948,-4,119')
    path.write_text(text, encoding="utf-8")
    datasets.write_checksums(package_copy)
    with pytest.raises(DataValidationError, match=r"dat\.bcg\.csv: column 'tpos', row 0 \(trial=1, value -4\): is below the minimum 0") as err:
        datasets.load("dat.bcg", package=package_copy)
    assert err.value.column == "tpos" and err.value.rows == [0]


def test_missing_shipped_file(package_copy):
    (package_copy / "raw" / "dat.bcg.csv").unlink()
    with pytest.raises(ValueError, match="dat.bcg.csv: the file of dataset 'dat.bcg' is missing"):
        datasets.load("dat.bcg", package=package_copy)


def test_fetch_refuses_a_dataset_without_download():
    with pytest.raises(ValueError, match=r"'dat.bcg' has no download URL.*load\('dat.bcg'\)"):
        datasets.fetch("dat.bcg")


# -- users' own data -------------------------------------------------------------


def _mine() -> pd.DataFrame:
    return pd.DataFrame({
        "trial": [1, 2, 3, 4],
        "author": ["A", "B", "C", "D"],
        "year": [1990, 1995, 2001, 2010],
        "tpos": [4, 6, 3, 10],
        "tneg": [100, 200, 150, 90],
        "cpos": [11, 20, 9, 12],
        "cneg": [90, 180, 140, 88],
        "ablat": [44, 55, 12, 30],
        "alloc": ["random", "random", "alternate", "systematic"],
    })


def test_valid_user_data_is_typed():
    out = datasets.validate(_mine(), "dat.bcg")
    assert str(out["tpos"].dtype) == "Int64" and str(out["author"].dtype) == "str"
    # text numbers from a CSV are parsed too
    as_text = _mine().astype(str)
    pd.testing.assert_frame_equal(datasets.validate(as_text, "dat.bcg"), out)


def test_user_data_missing_column():
    with pytest.raises(DataValidationError, match=r"<your data>: column 'ablat': is missing") as err:
        datasets.validate(_mine().drop(columns="ablat"), "dat.bcg")
    assert err.value.column == "ablat"


def test_user_data_unexpected_column():
    with pytest.raises(DataValidationError, match="column 'extra': is not in the schema"):
        datasets.validate(_mine().assign(extra=1), "dat.bcg")


def test_user_data_text_in_numeric_column_names_row():
    df = _mine().astype(object)
    df.loc[2, "cneg"] = "n/a"
    with pytest.raises(DataValidationError) as err:
        datasets.validate(df, "dat.bcg", source="mine.csv")
    msg = str(err.value)
    assert msg == ("mine.csv: column 'cneg', row 2 (trial=3, value 'n/a'): "
                   "is not a whole number (declared type 'integer')")
    assert err.value.column == "cneg" and err.value.rows == [2]


def test_user_data_fractional_integer_and_infinite_number():
    df = _mine().astype({"tpos": float})
    df.loc[1, "tpos"] = 6.5
    with pytest.raises(DataValidationError, match=r"column 'tpos', row 1 \(trial=2, value 6.5\): is not a whole number"):
        datasets.validate(df, "dat.bcg")
    r = pd.DataFrame({"study": ["a", "b"], "n": [10, 20], "tval": [1.0, np.inf], "preds": [1, 2], "R2": [0.1, 0.2]})
    with pytest.raises(DataValidationError, match=r"column 'tval', row 1 .*is not a finite number"):
        datasets.validate(r, "dat.aloe2013")


def test_user_data_duplicated_ids():
    df = _mine()
    df.loc[3, "trial"] = 2
    with pytest.raises(DataValidationError) as err:
        datasets.validate(df, "dat.bcg")
    msg = str(err.value)
    assert "column 'trial', rows 1 (trial=2, value 2), 3 (trial=2, value 2): values must be unique" in msg
    assert "duplicated primary key" in msg  # reported by the key check as well
    assert err.value.rows == [1, 3]


def test_user_data_duplicated_composite_key():
    df = pd.DataFrame({
        "authors": ["X et al.", "X et al.", "Y"], "year": [2001, 2001, 2002], "ni": [50, 60, 70],
        "ri": [0.1, 0.2, 0.3], "controls": ["none"] * 3, "design": ["prospective"] * 3,
        "a_measure": ["other"] * 3, "c_measure": ["NEO"] * 3, "meanage": [40.0, 41.0, 42.0], "quality": [1, 2, 3],
    })
    with pytest.raises(DataValidationError, match=r"column 'authors, year', rows 0 \(authors=X et al., year=2001\), 1 .*duplicated primary key"):
        datasets.validate(df, "dat.molloy2014")


def test_user_data_out_of_range_and_enum_and_required():
    df = _mine().astype(object)
    df.loc[0, "ablat"] = 95
    df.loc[3, "alloc"] = "coin"
    df.loc[1, "author"] = None
    with pytest.raises(DataValidationError) as err:
        datasets.validate(df, "dat.bcg")
    msg = str(err.value)
    assert msg.startswith("<your data>: 3 problems:")
    assert "column 'author', row 1 (trial=2): a value is required but missing" in msg
    assert "column 'ablat', row 0 (trial=1, value 95): is above the maximum 90" in msg
    assert "column 'alloc', row 3 (trial=4, value 'coin'): is not one of the allowed values 'random', 'alternate', 'systematic'" in msg
    assert len(err.value.problems) == 3


def test_exclusive_minimum_and_many_rows_are_summarised():
    df = pd.DataFrame({"study": [f"s{i}" for i in range(8)], "n": [10] * 8, "tval": [1.0] * 8,
                       "preds": [0] * 8, "R2": [0.5] * 8})
    with pytest.raises(DataValidationError, match=r"column 'preds', rows 0 .*, 4 \(study=s4, value 0\) and 3 more: is below the minimum 1"):
        datasets.validate(df, "dat.aloe2013")


def test_read_csv_user_file(tmp_path):
    path = tmp_path / "mine.csv"
    _mine().to_csv(path, index=False)
    out = datasets.read_csv(path, "dat.bcg")
    assert out["tneg"].sum() == 540
    text = path.read_text().replace("1995,6,200", "1995,six,200")
    path.write_text(text)
    with pytest.raises(DataValidationError, match=r"mine\.csv: column 'tpos', row 1 \(trial=2, value 'six'\)"):
        datasets.read_csv(path, "dat.bcg")


def test_read_csv_ragged_and_bad_encoding(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("study,n,tval,preds,R2\na,10,1.0,1,0.1\nb,20,2.0,2\n")
    with pytest.raises(DataValidationError, match=r"ragged\.csv: row 1 has 4 fields, but the header has 5"):
        datasets.read_csv(path, "dat.aloe2013")
    bad = tmp_path / "latin1.csv"
    bad.write_bytes("study,n,tval,preds,R2\nM\u00fcller,10,1.0,1,0.1\n".encode("latin-1"))
    with pytest.raises(DataValidationError, match=r"latin1\.csv: not valid utf-8 at byte 23"):
        datasets.read_csv(bad, "dat.aloe2013")
    assert datasets.read_csv(bad, "dat.aloe2013", encoding="latin-1")["study"].iloc[0] == "Müller"


def test_custom_schema_dict_with_missing_values_and_decimal_comma():
    schema = {
        "fields": [
            {"name": "id", "type": "integer", "constraints": {"required": True, "unique": True}},
            {"name": "g", "type": "number", "constraints": {"minimum": -5, "maximum": 5}},
            {"name": "ok", "type": "boolean"},
        ],
        "missingValues": ["NA"],
        "decimalChar": ",",
        "primaryKey": ["id"],
    }
    df = pd.DataFrame({"id": ["1", "2", "3"], "g": ["0,5", "NA", "-1,25"], "ok": ["true", "false", "NA"]})
    out = datasets.validate(df, schema)
    assert out["g"].tolist()[0] == 0.5 and np.isnan(out["g"].iloc[1]) and out["g"].iloc[2] == -1.25
    assert out["ok"].tolist()[:2] == [True, False] and out["ok"].isna().iloc[2]
    df.loc[1, "g"] = "0.5"  # a decimal point where a comma is declared
    with pytest.raises(DataValidationError, match=r"column 'g', row 1 \(id=2, value '0.5'\): is not a finite number"):
        datasets.validate(df, schema)


def test_bad_schema_and_arguments():
    with pytest.raises(ValueError, match="type 'date'"):
        datasets.validate(pd.DataFrame({"a": [1]}), {"fields": [{"name": "a", "type": "date"}]})
    with pytest.raises(ValueError, match="unsupported constraints"):
        datasets.validate(pd.DataFrame({"a": [1]}), {"fields": [{"name": "a", "type": "integer", "constraints": {"minimun": 0}}]})
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame"):
        datasets.validate([1, 2], "dat.bcg")
    with pytest.raises(ValueError, match="`schema` must be a dataset name"):
        datasets.validate(_mine(), 3)


def test_validate_does_not_modify_input():
    df = _mine().astype(str)
    before = df.copy()
    datasets.validate(df, "dat.bcg")
    pd.testing.assert_frame_equal(df, before)


def test_docstring_examples_run():
    import doctest

    result = doctest.testmod(datasets, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 10 and result.failed == 0
