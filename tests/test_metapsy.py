"""Tests for analysis.datasets.fetch on the Metapsy databases.

GitHub is not reachable from the test machines, so fetch() is pointed at the
shared read-only copy of the two databases (exactly as published at the pinned
commits) through ALLIANCE_METAPSY_DIR; it still checks the sha256. Nothing of
Metapsy is ever committed. The tests skip, with the reason, where that copy is
absent.
"""

from __future__ import annotations

import json
import os
import shutil
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import datasets
from analysis.datasets import ChecksumError, DataValidationError, repair_mojibake

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path("/work/shared/data/metapsy")
_CANDIDATES = [Path(os.environ["ALLIANCE_METAPSY_DIR"])] if os.environ.get("ALLIANCE_METAPSY_DIR") else []
_CANDIDATES += [SHARED, ROOT.parent / "shared" / "data" / "metapsy"]
LOCAL = next((p for p in _CANDIDATES if (p / "depression-psyctr" / "data.csv").is_file()), None)
needs_copy = pytest.mark.skipif(
    LOCAL is None,
    reason="no local copy of the Metapsy databases ($ALLIANCE_METAPSY_DIR, /work/shared/data/metapsy or ../shared/data/metapsy); "
    "GitHub is not reachable here, so fetch() cannot be exercised",
)
PSYCTR = "metapsy-depression-psyctr"
SELFGUIDED = "metapsy-depression-selfguided-psyctr"
# Signs of the two encoding mix-ups (UTF-8 read as Windows-1252; Latin-1 read as Mac Roman).
MOJIBAKE = r"â€|Ã[\u0080-\u00bf]|[a-zA-Z][¸·˘˙˚˝˛¯‡‰][a-zA-Z]|[a-z]È|\bÿ[a-z]"


@pytest.fixture
def metapsy_env(monkeypatch, tmp_path):
    monkeypatch.setenv("ALLIANCE_METAPSY_DIR", str(LOCAL))
    monkeypatch.setenv("ALLIANCE_DATA_CACHE", str(tmp_path / "cache"))
    return LOCAL


@pytest.fixture(scope="module")
def psyctr():
    if LOCAL is None:
        pytest.skip("no local Metapsy copy")
    mp = pytest.MonkeyPatch()
    mp.setenv("ALLIANCE_METAPSY_DIR", str(LOCAL))
    try:
        yield datasets.fetch(PSYCTR)
    finally:
        mp.undo()


@needs_copy
def test_psyctr_shape_and_types(psyctr):
    assert psyctr.shape[0] == 900
    assert psyctr["study"].nunique() == 480  # number_studies.txt in the database's metadata
    assert psyctr[".g"].dtype == np.float64 and psyctr[".g_se"].dtype == np.float64
    assert psyctr[".g"].notna().all() and (psyctr[".g_se"] > 0).all()
    assert str(psyctr["rob"].dtype) == "Int64" and psyctr["rob"].between(0, 4).all()
    assert psyctr["row_id"].tolist() == list(range(1, 901))
    # a column outside the schema is still typed as a number (decimal commas parsed)
    assert psyctr["mean_arm1"].dtype == np.float64
    assert psyctr.attrs["license"] == "ODC-By-1.0"
    assert "10.5281/zenodo.7254845" in psyctr.attrs["citation"]


@needs_copy
def test_psyctr_values_match_the_raw_text(psyctr):
    # Row 1 of data.csv: "Aagaard, 2017";"cbt";"cau";NA;NA;0;0,231455024943138;...
    first = psyctr.iloc[0]
    assert first["study"] == "Aagaard, 2017"
    assert (first["condition_arm1"], first["condition_arm2"], first["format"]) == ("cbt", "cau", "grp")
    assert first[".g"] == 0.0 and first[".g_se"] == 0.231455024943138
    assert pd.isna(first["multi_arm1"])
    # independent parse with pandas' own decimal-comma reader
    ref = pd.read_csv(LOCAL / "depression-psyctr" / "data.csv", sep=";", decimal=",", na_values=["NA"],
                      keep_default_na=False, encoding="utf-8")
    np.testing.assert_array_equal(psyctr[".g"].to_numpy(), ref[".g"].to_numpy())
    np.testing.assert_array_equal(psyctr[".g_se"].to_numpy(), ref[".g_se"].to_numpy())
    assert psyctr["condition_arm1"].value_counts()["sup"] == 27


@needs_copy
def test_psyctr_mojibake_repaired(psyctr):
    refs = psyctr["full_ref"]
    aagaard = refs[psyctr["study"] == "Aagaard, 2017"].iloc[0]
    assert "Müller-Nielsen, K." in aagaard and "M¸ller" not in aagaard
    freedland = refs[psyctr["study"] == "Freedland, 2009"].iloc[0]
    assert "Dávila-Román VG" in freedland
    assert refs.str.contains("Schütze M").any() and refs.str.contains("Hassmén, P.").any()
    assert refs.str.contains("Autism Depression Trial (ADEPT) – a pilot", regex=False).any()
    for col in ("study", "full_ref"):
        assert not psyctr[col].str.contains(MOJIBAKE, regex=True).any(), col
        assert all(unicodedata.is_normalized("NFC", v) for v in psyctr[col].dropna())
    repairs = psyctr.attrs["text_repairs"]
    assert (0, "full_ref") in {(r[0], r[1]) for r in repairs}
    assert all(r[1] == "full_ref" for r in repairs)  # nothing else needed repair in this database


@needs_copy
def test_selfguided(metapsy_env):
    df = datasets.fetch(SELFGUIDED)
    assert df.shape[0] == 361 and df["study"].nunique() == 92  # number_studies.txt
    assert df[".g"].dtype == np.float64 and df[".g"].notna().sum() == 354
    assert set(df["time"]) == {"post", "FU1", "FU2"}
    assert df["full_reference"].str.contains("Østvik AR", na=False).any()
    assert not df["full_reference"].str.contains(MOJIBAKE, regex=True, na=False).any()
    # the Lancet-style decimal point '6·32' in a statistic is not a mojibake and is kept
    assert df["other_statistic"].str.contains("6·32", na=False, regex=False).any()


@needs_copy
def test_wrong_hash_local_file_is_refused(monkeypatch, tmp_path):
    fake = tmp_path / "metapsy"
    (fake / "depression-psyctr").mkdir(parents=True)
    raw = (LOCAL / "depression-psyctr" / "data.csv").read_bytes()
    (fake / "depression-psyctr" / "data.csv").write_bytes(raw.replace(b"0,231455024943138", b"0,231455024943139", 1))
    monkeypatch.setenv("ALLIANCE_METAPSY_DIR", str(fake))
    with pytest.raises(ChecksumError) as err:
        datasets.fetch(PSYCTR)
    msg = str(err.value)
    assert str(fake / "depression-psyctr" / "data.csv") in msg
    assert "4695dcf3fb9e8852411ac53aedf592d697743b9bc081569abbe59eefd587d98d" in msg
    assert datasets.sha256_file(fake / "depression-psyctr" / "data.csv") in msg


def test_missing_local_copy_is_reported(monkeypatch, tmp_path):
    monkeypatch.setenv("ALLIANCE_METAPSY_DIR", str(tmp_path))
    with pytest.raises(ValueError, match=r"ALLIANCE_METAPSY_DIR=.*no file depression-psyctr/data.csv"):
        datasets.fetch(PSYCTR)


@needs_copy
def test_schema_violation_in_a_downloaded_file_names_file_column_row(tmp_path):
    # A package whose pinned hash matches a damaged copy: the schema must still refuse it.
    pkg = json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))
    res = next(r for r in pkg["resources"] if r["name"] == PSYCTR)
    dst = tmp_path / "copy" / "depression-psyctr"
    dst.mkdir(parents=True)
    raw = (LOCAL / "depression-psyctr" / "data.csv").read_bytes()
    bad = raw.replace(b'"Abas, 2018";"pst";"cau"', b'"Abas, 2018";"pst";"xyz"', 1)
    (dst / "data.csv").write_bytes(bad)
    res["hash"] = "sha256:" + datasets.sha256_file(dst / "data.csv")
    (tmp_path / "datapackage.json").write_text(json.dumps(pkg), encoding="utf-8")
    mp = pytest.MonkeyPatch()
    mp.setenv("ALLIANCE_METAPSY_DIR", str(tmp_path / "copy"))
    try:
        with pytest.raises(DataValidationError, match=r"data\.csv: column 'condition_arm2', row 1 \(row_id=2, value 'xyz'\): is not one of"):
            datasets.fetch(PSYCTR, package=tmp_path)
    finally:
        mp.undo()


def test_download_uses_pooch_with_the_pinned_hash(monkeypatch, tmp_path):
    """Without a local copy fetch() downloads with pooch into the cache, with the pinned sha256."""
    import pooch

    if LOCAL is None:
        pytest.skip("no local Metapsy copy to serve as the download")
    monkeypatch.delenv("ALLIANCE_METAPSY_DIR", raising=False)
    monkeypatch.setenv("ALLIANCE_DATA_CACHE", str(tmp_path / "cache"))
    calls = {}

    def fake_retrieve(url, known_hash, fname, path, progressbar):
        calls.update(url=url, known_hash=known_hash, fname=fname, path=str(path))
        target = Path(path) / fname
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(LOCAL / "depression-psyctr" / "data.csv", target)
        return str(target)

    monkeypatch.setattr(pooch, "retrieve", fake_retrieve)
    df = datasets.fetch(PSYCTR)
    assert len(df) == 900
    assert calls["url"] == ("https://raw.githubusercontent.com/metapsy-project/data-depression-psyctr/"
                            "ceeabb718db4a8ed6d5c5e265262d6ed7a392b72/data.csv")
    assert calls["known_hash"] == "sha256:4695dcf3fb9e8852411ac53aedf592d697743b9bc081569abbe59eefd587d98d"
    assert calls["path"] == str(tmp_path / "cache")


def test_download_hash_mismatch_and_network_error(monkeypatch, tmp_path):
    import pooch

    monkeypatch.delenv("ALLIANCE_METAPSY_DIR", raising=False)
    bad = "f" * 64

    def mismatch(url, known_hash, fname, path, progressbar):
        raise ValueError(f"SHA256 hash of downloaded file ({bad}) does not match the known hash: expected {known_hash[7:]}.")

    monkeypatch.setattr(pooch, "retrieve", mismatch)
    with pytest.raises(ChecksumError, match=f"data-depression-psyctr/.*checksum mismatch.*{bad}"):
        datasets.fetch(PSYCTR, cache_dir=tmp_path)

    def offline(url, known_hash, fname, path, progressbar):
        raise OSError("Name or service not known")

    monkeypatch.setattr(pooch, "retrieve", offline)
    with pytest.raises(ConnectionError, match="ALLIANCE_METAPSY_DIR"):
        datasets.fetch(PSYCTR, cache_dir=tmp_path)


@pytest.mark.parametrize(
    "broken, fixed",
    [
        ("M¸ller-Nielsen", "Müller-Nielsen"),
        ("D·vila-Rom·n", "Dávila-Román"),
        ("HassmÈn, P.", "Hassmén, P."),
        ("ÿstvik AR", "Østvik AR"),
        ("(ADEPT) â€“ a pilot", "(ADEPT) – a pilot"),
        ("Jos\u00c3\u00a9 Garc\u00c3\u00ada", "José García"),
        ("Apti\u0301vate", "Aptívate"),
    ],
)
def test_repair_mojibake_fixes(broken, fixed):
    assert repair_mojibake(broken) == fixed


@pytest.mark.parametrize(
    "text",
    ["difference 6·32 points", "col·lecció", "O’Brien, “quoted” – dash", "Müller, Dávila-Román, Østvik",
     "Garcìa", "SmartCare©", "p<0·0001", "HADS-A", "Pakistan(✰)"],
)
def test_repair_mojibake_leaves_correct_text_alone(text):
    assert repair_mojibake(text) == text


def test_repair_mojibake_refuses_non_text():
    with pytest.raises(ValueError, match="`text` must be a str"):
        repair_mojibake(3)
