"""Tests of analysis.sessions against lme4 and lavaan (tests/fixtures/sessions.json).

Fixture made by tests/oracles/sessions_lavaan.R (lme4 lmer with bobyqa at rhoend 1e-12;
lavaan ML with expected information). Tolerances: lagged multilevel models 1e-4
(absolute on fixed effects, SEs, variance components and log-likelihood); RI-CLPM 1e-3
on parameters and SEs, 1e-3 relative on chi-square and 1e-3 absolute on CFI, TLI,
RMSEA and SRMR.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import sessions

FIX = json.loads((Path(__file__).parent / "fixtures" / "sessions.json").read_text())
SESS = pd.DataFrame(FIX["sessions"])


@pytest.mark.parametrize("key, detrend", [("centred", False), ("detrended", True)])
@pytest.mark.parametrize("method", ["REML", "ML"])
def test_lagged_model_matches_lme4(key, detrend, method):
    ref = FIX["lagged"][key][method]
    fit = sessions.lagged_model(SESS, detrend=detrend, method=method)
    assert fit.n_obs == ref["nobs"] == FIX["lagged"][key]["n_rows"]
    names = ["(Intercept)", "a_within", "a_between", "symptom"]
    ours = ["Intercept", "alliance_within", "alliance_between", "symptom"]
    for r_name, o_name in zip(names, ours):
        assert fit.fixed.loc[o_name, "estimate"] == pytest.approx(ref["fixef"][r_name], abs=1e-4)
        assert fit.fixed.loc[o_name, "se"] == pytest.approx(ref["se"][r_name], abs=1e-4)
    assert fit.patient_var == pytest.approx(ref["tau2"], abs=1e-4)
    assert fit.residual_var == pytest.approx(ref["sigma2"], abs=1e-4)
    assert fit.loglik == pytest.approx(ref["loglik"], abs=1e-4)
    assert fit.within == fit.fixed.loc["alliance_within", "estimate"]
    assert "session pairs" in fit.summary() and "next session" in fit.apa()
    assert any("no next session" in n for n in fit.notes)


@pytest.mark.parametrize("key, detrend", [("centred", False), ("detrended", True)])
def test_within_component_matches_r(key, detrend):
    wb = sessions.within_between(SESS, "alliance", detrend=detrend)
    fit = sessions.lagged_model(SESS, detrend=detrend)
    head = np.array(FIX["lagged"][key]["a_within_head"])
    np.testing.assert_allclose(fit.data["alliance_within"].to_numpy()[:10], head, atol=1e-10)
    # missing alliance stays missing; no NaN where a rating exists
    obs = SESS["alliance"].notna().to_numpy()
    assert wb["alliance_within"].notna().to_numpy()[obs].all()
    assert wb["alliance_within"].isna().to_numpy()[~obs].all()


def test_within_between_properties():
    wb = sessions.within_between(SESS, ["alliance", "symptom"])
    sums = wb.groupby("patient")["alliance_within"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 0, atol=1e-10)
    det = sessions.within_between(SESS, "alliance", detrend=True)
    # detrended residuals are orthogonal to session within patient
    prod = (det["alliance_within"] * det["session"]).groupby(det["patient"]).sum()
    np.testing.assert_allclose(prod.to_numpy(), 0, atol=1e-8)


def test_within_between_short_series_noted():
    d = pd.DataFrame({"patient": [1, 1, 2, 2, 2], "session": [1, 2, 1, 2, 3],
                      "alliance": [3.0, 4.0, 2.0, 3.0, 5.0]})
    out = sessions.within_between(d, "alliance", detrend=True)
    assert out["alliance_within"].iloc[:2].isna().all()
    assert "fewer than three" in out.attrs["notes"][0]
    np.testing.assert_allclose(out["alliance_trend"].iloc[2], 1.5)


def test_naive_model_and_errors():
    naive = sessions.lagged_model(SESS, split=False)
    assert list(naive.fixed.index) == ["Intercept", "alliance", "symptom"]
    with pytest.raises(ValueError, match="detrend"):
        sessions.lagged_model(SESS, split=False, detrend=True)
    with pytest.raises(ValueError, match="method"):
        sessions.lagged_model(SESS, method="Bayes")
    bad = SESS.copy()
    bad.loc[[3, 4], "session"] = bad.loc[[4, 3], "session"].to_numpy()
    with pytest.raises(ValueError, match="increasing order.*rows 4"):
        sessions.lagged_model(bad)
    dup = pd.concat([SESS.iloc[:3], SESS.iloc[[2]], SESS.iloc[3:]], ignore_index=True)
    with pytest.raises(ValueError, match="duplicated.*rows 3"):
        sessions.lagged_model(dup)


def _riclpm_long():
    wide = pd.DataFrame(FIX["riclpm"]["wide"])
    long = pd.wide_to_long(wide, ["x", "y"], i="id", j="wave").reset_index()
    return long.sort_values(["id", "wave"]).reset_index(drop=True)


def test_riclpm_matches_lavaan():
    res = sessions.riclpm(_riclpm_long(), x="x", y="y", patient="id", wave="wave")
    lav = {(p["lhs"], p["op"], p["rhs"]): p for p in FIX["riclpm"]["params"]}
    n_checked = 0
    for _, row in res.params.iterrows():
        key = (row["lhs"], row["op"], row["rhs"])
        ref = lav.get(key) or lav.get((row["rhs"], row["op"], row["lhs"]))
        assert ref is not None, key
        assert row["estimate"] == pytest.approx(ref["est"], abs=1e-3)
        assert row["se"] == pytest.approx(ref["se"], abs=1e-3)
        n_checked += 1
    assert n_checked == len(lav) == 34
    f, rf = res.fit, FIX["riclpm"]["fit"]
    assert f["df"] == rf["df"]
    assert f["chisq"] == pytest.approx(rf["chisq"], rel=1e-3)
    for k in ("cfi", "tli", "rmsea", "srmr", "pvalue"):
        assert f[k] == pytest.approx(rf[k], abs=1e-3), k
    assert len(res.lagged) == 16 and set(res.lagged["path"]) == {"x -> x", "x -> y", "y -> x", "y -> y"}
    assert "RI-CLPM" in res.summary()


def test_riclpm_complete_cases_and_errors():
    long = _riclpm_long()
    long.loc[(long["id"] == 1) & (long["wave"] == 3), "y"] = np.nan
    res = sessions.riclpm(long, x="x", y="y", patient="id", wave="wave", constrain=True)
    assert res.n == 399 and res.n_dropped == 1
    assert any("dropped" in n for n in res.notes)
    # equal paths across waves
    xx = res.lagged[res.lagged["path"] == "x -> x"]["estimate"]
    assert xx.nunique() == 1
    with pytest.raises(ValueError, match="at least 3 waves"):
        sessions.riclpm(long, x="x", y="y", patient="id", wave="wave", waves=[1, 2])
    with pytest.raises(ValueError, match="not in column"):
        sessions.riclpm(long, x="x", y="y", patient="id", wave="wave", waves=[1, 2, 9])
    with pytest.raises(ValueError, match="n_waves"):
        sessions.riclpm_syntax(2)
