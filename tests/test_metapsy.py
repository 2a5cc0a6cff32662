"""Tests of the Metapsy databases shipped in data/metapsy/ and of datasets.fetch().

The two databases are in the repository, exactly as published at the pinned commits
(ODC-By 1.0), so these tests need no network and never skip. fetch() of a newer commit is
exercised offline against a small HTTP server on 127.0.0.1 that stands in for GitHub.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import json
import os
import shutil
import threading
import unicodedata
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import datasets
from analysis.datasets import ChecksumError, DataValidationError, repair_mojibake

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / "data" / "metapsy"
PSYCTR = "metapsy-depression-psyctr"
SELFGUIDED = "metapsy-depression-selfguided-psyctr"
PINNED = {PSYCTR: "ceeabb718db4a8ed6d5c5e265262d6ed7a392b72", SELFGUIDED: "f0a64252e35de86c5dbe041a3e93555f12feca4e"}
# Signs of the two encoding mix-ups (UTF-8 read as Windows-1252; Latin-1 read as Mac Roman).
MOJIBAKE = r"â€|Ã[\u0080-\u00bf]|[a-zA-Z][¸·˘˙˚˝˛¯‡‰][a-zA-Z]|[a-z]È|\bÿ[a-z]"


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch, tmp_path):
    monkeypatch.delenv("ALLIANCE_METAPSY_DIR", raising=False)
    monkeypatch.setenv("ALLIANCE_DATA_CACHE", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def psyctr():
    return datasets.load(PSYCTR)


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


def test_selfguided():
    df = datasets.load(SELFGUIDED)
    assert df.shape[0] == 361 and df["study"].nunique() == 92  # number_studies.txt
    assert df[".g"].dtype == np.float64 and df[".g"].notna().sum() == 354
    assert set(df["time"]) == {"post", "FU1", "FU2"}
    assert df["full_reference"].str.contains("Østvik AR", na=False).any()
    assert not df["full_reference"].str.contains(MOJIBAKE, regex=True, na=False).any()
    # the Lancet-style decimal point '6·32' in a statistic is not a mojibake and is kept
    assert df["other_statistic"].str.contains("6·32", na=False, regex=False).any()
    assert df.attrs["license"] == "ODC-By-1.0" and "10.5281/zenodo.12705748" in df.attrs["citation"]


# -- the shipped copy -----------------------------------------------------------------


def test_shipped_copies_are_the_pinned_files():
    pkg = json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))
    for name, commit in PINNED.items():
        res = next(r for r in pkg["resources"] if r["name"] == name)
        assert not res.get("external") and res["commit"] == commit
        path = ROOT / "data" / res["path"]
        assert path.parent.parent == LOCAL
        assert res["hash"] == "sha256:" + datasets.sha256_file(path) and res["bytes"] == path.stat().st_size
        assert res["download"].format(commit=commit).endswith(f"/{commit}/data.csv")
        assert res["licenses"][0]["name"] == "ODC-By-1.0" and res["doi"] in res["attribution"]
        assert commit in res["attribution"]
    # COMMITS.txt and PROVENANCE.md came with the copy and agree with the data package
    commits = dict(line.split() for line in (LOCAL / "COMMITS.txt").read_text().splitlines() if line.strip())
    assert commits == {"depression-psyctr": PINNED[PSYCTR], "depression-selfguided-psyctr": PINNED[SELFGUIDED]}
    provenance = (LOCAL / "PROVENANCE.md").read_text(encoding="utf-8")
    for name in PINNED:
        res = next(r for r in pkg["resources"] if r["name"] == name)
        assert f"{res['hash'][7:]}  {res['path'].removeprefix('metapsy/')}" in provenance


def test_every_vendored_file_is_listed_with_its_sha256():
    """data/metapsy/SHA256SUMS lists every file of the copy (README, metadata, license, data)."""
    listed = {}
    for line in (LOCAL / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, rel = line.split("  ", 1)
        listed[rel] = digest
    present = {str(p.relative_to(LOCAL)) for p in LOCAL.rglob("*") if p.is_file()}
    assert set(listed) == present - {"SHA256SUMS", "README.md"}
    for rel, digest in listed.items():
        assert hashlib.sha256((LOCAL / rel).read_bytes()).hexdigest() == digest, rel


def test_fetch_of_the_pinned_commit_is_the_shipped_copy(psyctr, monkeypatch):
    import pooch

    def no_network(*args, **kwargs):
        raise AssertionError("fetch() of the pinned commit must not download")

    monkeypatch.setattr(pooch, "retrieve", no_network)
    for commit in (None, PINNED[PSYCTR], PINNED[PSYCTR][:7]):
        df = datasets.fetch(PSYCTR, commit=commit)
        pd.testing.assert_frame_equal(df, psyctr)
        assert df.attrs["commit"] == PINNED[PSYCTR]
        assert df.attrs["file"] == str(LOCAL / "depression-psyctr" / "data.csv")
        assert df.attrs["source"] == "metapsy/depression-psyctr/data.csv"


def test_shipped_copy_with_wrong_hash_is_refused(tmp_path):
    pkg = tmp_path / "data"
    shutil.copytree(ROOT / "data", pkg, ignore=shutil.ignore_patterns("cache", "scripts", "raw", "trials",
                                                                      "published", "simulated"))
    target = pkg / "metapsy" / "depression-psyctr" / "data.csv"
    target.write_bytes(target.read_bytes().replace(b"0,231455024943138", b"0,231455024943139", 1))
    for call in (datasets.load, datasets.fetch):
        with pytest.raises(ChecksumError, match="checksum mismatch") as err:
            call(PSYCTR, package=pkg)
        msg = str(err.value)
        assert str(target) in msg and "4695dcf3fb9e8852411ac53aedf592d697743b9bc081569abbe59eefd587d98d" in msg
        assert datasets.sha256_file(target) in msg and PINNED[PSYCTR] in msg


def test_local_override_is_checked(monkeypatch, tmp_path):
    """$ALLIANCE_METAPSY_DIR (a user's own copy) replaces the shipped file in fetch(), hash-checked."""
    fake = tmp_path / "metapsy"
    (fake / "depression-psyctr").mkdir(parents=True)
    shutil.copyfile(LOCAL / "depression-psyctr" / "data.csv", fake / "depression-psyctr" / "data.csv")
    monkeypatch.setenv("ALLIANCE_METAPSY_DIR", str(fake))
    assert datasets.fetch(PSYCTR).attrs["file"] == str(fake / "depression-psyctr" / "data.csv")
    raw = (LOCAL / "depression-psyctr" / "data.csv").read_bytes()
    (fake / "depression-psyctr" / "data.csv").write_bytes(raw.replace(b"0,231455024943138", b"0,2", 1))
    with pytest.raises(ChecksumError, match=r"metapsy/depression-psyctr/data\.csv: checksum mismatch"):
        datasets.fetch(PSYCTR)


def test_missing_local_copy_is_reported(monkeypatch, tmp_path):
    monkeypatch.setenv("ALLIANCE_METAPSY_DIR", str(tmp_path))
    with pytest.raises(ValueError, match=r"ALLIANCE_METAPSY_DIR=.*no file depression-psyctr/data.csv"):
        datasets.fetch(PSYCTR)


def test_schema_violation_names_file_column_row(tmp_path):
    # A package whose pinned hash matches a damaged copy: the schema must still refuse it.
    pkg = json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))
    res = next(r for r in pkg["resources"] if r["name"] == PSYCTR)
    dst = tmp_path / "metapsy" / "depression-psyctr"
    dst.mkdir(parents=True)
    raw = (LOCAL / "depression-psyctr" / "data.csv").read_bytes()
    bad = raw.replace(b'"Abas, 2018";"pst";"cau"', b'"Abas, 2018";"pst";"xyz"', 1)
    (dst / "data.csv").write_bytes(bad)
    res["hash"] = "sha256:" + datasets.sha256_file(dst / "data.csv")
    (tmp_path / "datapackage.json").write_text(json.dumps(pkg), encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"data\.csv: column 'condition_arm2', row 1 \(row_id=2, value 'xyz'\): is not one of"):
        datasets.load(PSYCTR, package=tmp_path)


# -- fetch() of a newer commit, offline: a local HTTP server stands in for GitHub ------------


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def github(tmp_path, monkeypatch):
    """Serve tmp_path/www over http://127.0.0.1:<port>/ and point the data package's download there.

    Layout served: ``/<commit>/data.csv``. Returns (package folder, www folder).
    """
    www = tmp_path / "www"
    www.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(www)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    pkg = json.loads((ROOT / "data" / "datapackage.json").read_text(encoding="utf-8"))
    res = next(r for r in pkg["resources"] if r["name"] == PSYCTR)
    res["download"] = f"http://127.0.0.1:{server.server_address[1]}/{{commit}}/data.csv"
    folder = tmp_path / "package"
    shutil.copytree(LOCAL, folder / "metapsy")
    (folder / "datapackage.json").write_text(json.dumps(pkg), encoding="utf-8")
    try:
        yield folder, www
    finally:
        server.shutdown()
        server.server_close()


def _newer_version(www: Path, commit: str) -> tuple[bytes, str]:
    """A small 'newer release': the first 21 lines of the shipped file (header and some rows)."""
    lines = (LOCAL / "depression-psyctr" / "data.csv").read_bytes().split(b"\n")
    body = b"\n".join(lines[:21]) + b"\n"
    (www / commit).mkdir()
    (www / commit / "data.csv").write_bytes(body)
    return body, hashlib.sha256(body).hexdigest()


def package_url(package: Path) -> str:
    pkg = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    return next(r for r in pkg["resources"] if r["name"] == PSYCTR)["download"].split("{commit}")[0]


def test_fetch_newer_commit_downloads_and_checks(github, tmp_path):
    package, www = github
    commit = "abcdef1234567890abcdef1234567890abcdef12"
    body, digest = _newer_version(www, commit)
    df = datasets.fetch(PSYCTR, commit=commit, sha256=digest, package=package, cache_dir=tmp_path / "dl")
    n = len(pd.read_csv(io.BytesIO(body), sep=";", keep_default_na=False))  # quoted fields hold line breaks
    assert n > 10 and len(df) == n and df["row_id"].tolist() == list(range(1, n + 1))
    assert df.attrs["commit"] == commit
    assert df.attrs["source"] == f"{package_url(package)}{commit}/data.csv"
    cached = Path(df.attrs["file"])
    assert cached.parent == tmp_path / "dl" and cached.read_bytes() == body
    assert (0, "full_ref") in {(r[0], r[1]) for r in df.attrs["text_repairs"]}  # same repair as load()


def test_fetch_newer_commit_with_wrong_sha256_is_refused_and_discarded(github, tmp_path):
    package, www = github
    commit = "1234567"
    _, digest = _newer_version(www, commit)
    wrong = "0" * 64
    with pytest.raises(ChecksumError, match=rf"/1234567/data\.csv: checksum mismatch: .*declares sha256 {wrong}, "
                                            rf"but the file has sha256 {digest}.*discarded"):
        datasets.fetch(PSYCTR, commit=commit, sha256=wrong, package=package, cache_dir=tmp_path / "dl")
    assert not any((tmp_path / "dl").glob("*.csv"))


def test_fetch_newer_commit_not_served_is_a_connection_error(github, tmp_path):
    package, _ = github
    with pytest.raises(ConnectionError, match=r"Could not download http://127\.0\.0\.1:\d+/7654321/data\.csv"):
        datasets.fetch(PSYCTR, commit="7654321", sha256="a" * 64, package=package, cache_dir=tmp_path / "dl")


def test_fetch_newer_commit_needs_sha256():
    with pytest.raises(ValueError, match="`sha256` is required with `commit` '1234567'"):
        datasets.fetch(PSYCTR, commit="1234567")


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
