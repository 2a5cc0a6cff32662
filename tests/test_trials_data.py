"""mice's fdd (SE Fireworks disaster trial) in data/trials: loads, checksum, and
reliable change / clinical significance agree with base R (tests/oracles/change_btheb.R,
tolerance 1e-10: both sides do the same double-precision arithmetic; the fixture
stores 15 significant digits)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from analysis import change, datasets

ROOT = Path(__file__).resolve().parents[1]
TRIALS = ROOT / "data" / "trials"


@pytest.fixture(scope="module")
def ref():
    return json.loads((ROOT / "tests" / "fixtures" / "change_btheb.json").read_text())["fdd"]


@pytest.fixture(scope="module")
def fdd():
    return datasets.load("fdd", package=TRIALS)


def test_fdd_checksum_matches_datapackage():
    pkg = json.loads((TRIALS / "datapackage.json").read_text(encoding="utf-8"))
    res = next(r for r in pkg["resources"] if r["name"] == "fdd")
    raw = (TRIALS / "fdd.csv").read_bytes()
    assert res["hash"] == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert res["bytes"] == len(raw)
    assert res["licenses"][0]["name"] == "GPL-2.0 OR GPL-3.0"
    for f in res["schema"]["fields"]:
        assert f.get("type") and f.get("unit") and f.get("description"), f["name"]


def test_fdd_loads_as_in_r(fdd, ref):
    assert fdd.shape == (ref["n_rows"], ref["n_cols"]) == (52, 65)
    assert fdd["trt"].value_counts().to_dict() == ref["trt_counts"]
    assert fdd["id"].is_unique
    for col, s in ref["summary"].items():
        x = fdd[col].astype(float)
        assert int(x.isna().sum()) == s["n_missing"], col
        assert float(x.sum()) == pytest.approx(s["sum"], abs=1e-10), col


def test_fdd_corrupted_copy_is_refused(tmp_path):
    for f in ("datapackage.json", "fdd.csv"):
        (tmp_path / f).write_bytes((TRIALS / f).read_bytes())
    raw = (tmp_path / "fdd.csv").read_bytes()
    (tmp_path / "fdd.csv").write_bytes(raw.replace(b",36,", b",37,", 1))
    with pytest.raises(datasets.ChecksumError):
        datasets.load("fdd", package=tmp_path)


def test_fdd_reliable_change_against_r(fdd, ref):
    pre = fdd[ref["pre"]].astype(float).to_numpy()
    post = fdd[ref["post"]].astype(float).to_numpy()
    cs = change.clinical_significance(pre, post, reliability=ref["reliability"], cutoff="a")
    assert cs.cutoffs["a"] == pytest.approx(ref["cutoff_a"], abs=1e-10)
    assert cs.reliable.s_diff == pytest.approx(ref["s_diff"], abs=1e-10)
    rc_r = np.array([np.nan if v is None else v for v in ref["rc"]], dtype=float)
    np.testing.assert_allclose(cs.table["rc"].to_numpy(), rc_r, atol=1e-10, equal_nan=True)
    assert cs.table["category"].astype(str).tolist() == ref["category"]
    for arm, counts in ref["counts_by_arm"].items():
        got = cs.table["category"][(fdd["trt"] == arm).to_numpy()].astype(str).value_counts()
        assert {k: int(got.get(k, 0)) for k in counts} == counts
    rc = change.reliable_change(pre, post, reliability=ref["reliability"], sd_pre=ref["sd_clin"])
    np.testing.assert_allclose(rc.rc, rc_r, atol=1e-10, equal_nan=True)
