"""Tests of analysis.sessions against lme4 and lavaan (tests/fixtures/sessions.json).

Fixture made by tests/oracles/sessions_lavaan.R (lme4 lmer with bobyqa at rhoend 1e-12;
lavaan ML with expected information). Tolerances: lagged multilevel models 1e-4
(absolute on fixed effects, SEs, variance components and log-likelihood); RI-CLPM 1e-3
on parameters and SEs, 1e-3 relative on chi-square and 1e-3 absolute on CFI, TLI,
RMSEA and SRMR.

RI-CLPM by full-information ML (``missing="ml"``) against ``lavaan(..., missing = "ml")`` on the
5-wave data with values deleted by a fixed MAR rule (tests/fixtures/sessions_riclpm_missing.csv,
rule in the oracle script): parameters (paths, (co)variances, wave means) and SEs (lavaan's default
observed information) to 1e-3 absolute (observed: < 1e-6), log-likelihoods to 1e-3 absolute,
chi-square and baseline chi-square to 1e-3 relative, CFI, TLI, RMSEA, SRMR and p to 1e-3 absolute
(SRMR differs by about 1e-6 because lavaan stops its EM for the saturated moments at a parameter
change of 1e-5).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.multilevel import BoundaryWarning, ConvergenceWarning

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


# --------------------------------------------------------------------------- RI-CLPM, FIML
ML = FIX["riclpm_ml"]


def _missing_long():
    wide = pd.read_csv(Path(__file__).parent / "fixtures" / ML["csv"])
    long = pd.wide_to_long(wide, ["x", "y"], i="id", j="wave").reset_index()
    return long.sort_values(["id", "wave"]).reset_index(drop=True)


@pytest.mark.parametrize("key, constrain", [("free", False), ("constrained", True)])
def test_riclpm_fiml_matches_lavaan(key, constrain):
    ref = ML[key]
    res = sessions.riclpm(_missing_long(), x="x", y="y", patient="id", wave="wave", missing="ml",
                          constrain=constrain)
    lav = {(p["lhs"], p["op"], p["rhs"]): p for p in ref["params"]}
    seen = set()
    for _, row in res.params.iterrows():
        key_ = (row["lhs"], row["op"], row["rhs"])
        r = lav.get(key_) or lav.get((row["rhs"], row["op"], row["lhs"]))
        assert r is not None, key_
        assert row["estimate"] == pytest.approx(r["est"], abs=1e-3), key_
        assert row["se"] == pytest.approx(r["se"], abs=1e-3), key_
        seen.add(key_)
    # 34 covariance-structure rows + 10 wave means, every lavaan row matched
    assert len(seen) == len(res.params) == len(lav) == 44
    f, rf = res.fit, ref["fit"]
    assert f["df"] == rf["df"] and f["baseline_df"] == rf["baseline.df"]
    assert res.n == rf["ntotal"] == 398 and res.n_dropped == 2
    assert res.n_patterns == ref["n_patterns"]
    assert res.loglik == pytest.approx(rf["logl"], abs=1e-3)
    assert res.loglik_saturated == pytest.approx(rf["unrestricted.logl"], abs=1e-3)
    assert f["chisq"] == pytest.approx(rf["chisq"], rel=1e-3)
    assert f["baseline_chisq"] == pytest.approx(rf["baseline.chisq"], rel=1e-3)
    for k in ("cfi", "tli", "rmsea", "srmr", "pvalue"):
        assert f[k] == pytest.approx(rf[k], abs=1e-3), k
    assert ref["information"] == "observed" and ref["converged"]
    assert res.converged and res.boundary == [] and res.missing == "ml"
    if constrain:
        assert res.lagged.groupby("path")["estimate"].nunique().eq(1).all()
    text = res.summary()
    assert "full-information ML" in text and "18 missing-data pattern(s)" in text
    assert any("no observed value" in n for n in res.notes)


def test_riclpm_fiml_equals_ml_on_complete_data():
    """FIML with no missing value is ordinary ML: same estimates, log-likelihood and fit as listwise.

    Estimates to 1e-5 (two optimizers); fit statistics to 1e-6 relative. The SEs differ slightly by
    design: listwise uses lavaan's expected information, FIML its observed information.
    """
    long = _riclpm_long()
    lw = sessions.riclpm(long, x="x", y="y", patient="id", wave="wave")
    ml = sessions.riclpm(long, x="x", y="y", patient="id", wave="wave", missing="ml")
    m = lw.params.merge(ml.params, on=["lhs", "op", "rhs"], suffixes=("_lw", "_ml"))
    assert len(m) == 34
    np.testing.assert_allclose(m["estimate_ml"], m["estimate_lw"], atol=1e-5)
    np.testing.assert_allclose(m["se_ml"], m["se_lw"], rtol=0.1)
    for k in ("chisq", "cfi", "tli", "rmsea", "srmr", "baseline_chisq"):
        assert ml.fit[k] == pytest.approx(lw.fit[k], rel=1e-6, abs=1e-9), k
    assert ml.loglik == pytest.approx(lw.loglik, abs=1e-6)
    assert lw.loglik == pytest.approx(FIX["riclpm"]["fit"]["logl"], abs=1e-3)
    assert ml.n_patterns == 1 and ml.n_dropped == 0 and lw.missing == "listwise"
    # the wave means of FIML on complete data are the sample means
    wide = pd.DataFrame(FIX["riclpm"]["wide"])
    means = ml.params[ml.params["op"] == "~1"].set_index("lhs")["estimate"]
    np.testing.assert_allclose(means[["x1", "y5"]].to_numpy(), wide[["x1", "y5"]].mean().to_numpy(), atol=1e-6)


def test_riclpm_fiml_shift_invariance():
    """Adding a constant to y moves only the y means; paths, variances and log-likelihood stay."""
    long = _missing_long()
    a = sessions.riclpm(long, x="x", y="y", patient="id", wave="wave", missing="ml")
    shifted = long.assign(y=long["y"] + 10.0)
    b = sessions.riclpm(shifted, x="x", y="y", patient="id", wave="wave", missing="ml")
    cov_a, cov_b = a.params[a.params["op"] != "~1"], b.params[b.params["op"] != "~1"]
    np.testing.assert_allclose(cov_b["estimate"], cov_a["estimate"], atol=1e-6)
    np.testing.assert_allclose(cov_b["se"], cov_a["se"], atol=1e-6)
    ya = a.params[(a.params["op"] == "~1") & a.params["lhs"].str.startswith("y")]["estimate"].to_numpy()
    yb = b.params[(b.params["op"] == "~1") & b.params["lhs"].str.startswith("y")]["estimate"].to_numpy()
    np.testing.assert_allclose(yb, ya + 10.0, atol=1e-6)
    assert b.loglik == pytest.approx(a.loglik, abs=1e-6)


def test_riclpm_boundary_and_convergence_reported():
    from analysis.simulate import simulate_trial

    # 4 waves of this simulated trial: lavaan (missing = "ml") also finds wy2 ~~ wy2 < 0 here
    sim = simulate_trial(n_therapists=20, caseload=8, seed=3)
    w = sim.sessions[sim.sessions["session"].between(1, 4)]
    with pytest.warns(BoundaryWarning, match="wy2 ~~ wy2"):
        ml = sessions.riclpm(w, x="alliance", y="symptom", wave="session", missing="ml")
    assert "wy2 ~~ wy2" in ml.boundary and "negative variance" in ml.summary()
    # semopy's bounded complete-case fit either stops at the bound (wy2 ~~ wy2 = 0) or, depending on
    # the BLAS's floating-point order, fails to converge on this ill-posed case: either way it is
    # reported with a warning and in the result, never hidden
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lw = sessions.riclpm(w, x="alliance", y="symptom", wave="session")
    at_bound = lw.boundary == ["wy2 ~~ wy2"] and any(
        issubclass(c.category, BoundaryWarning) and "lower bound 0" in str(c.message) for c in caught)
    stopped = not lw.converged and any(issubclass(c.category, ConvergenceWarning) for c in caught)
    assert at_bound or stopped
    # with dropout the same model does not converge (lavaan: "not all elements of the gradient are
    # (near) zero"): reported, not hidden
    drop = simulate_trial(n_therapists=20, caseload=8, seed=3, dropout="MAR", dropout_rate=0.3)
    w = drop.sessions[drop.sessions["session"].between(1, 4)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bad = sessions.riclpm(w, x="alliance", y="symptom", wave="session", missing="ml")
    assert any(issubclass(c.category, ConvergenceWarning) for c in caught)
    assert not bad.converged and "did not converge" in bad.summary()


def test_riclpm_fiml_errors():
    long = _missing_long()
    with pytest.raises(ValueError, match="missing"):
        sessions.riclpm(long, x="x", y="y", patient="id", wave="wave", missing="pairwise")
    few = long[long["id"] <= 9]
    with pytest.raises(ValueError, match="needs more patients"):
        sessions.riclpm(few, x="x", y="y", patient="id", wave="wave", missing="ml")
    gone = long.copy()
    gone.loc[gone["wave"] == 3, "x"] = np.nan
    for how in ("ml", "listwise"):
        with pytest.raises(ValueError, match="'x' has no observed value at wave 3"):
            sessions.riclpm(gone, x="x", y="y", patient="id", wave="wave", missing=how)
    apart = long.copy()
    odd = apart["id"] % 2 == 1
    apart.loc[odd & (apart["wave"] == 5), "y"] = np.nan
    apart.loc[~odd & (apart["wave"] == 1), "x"] = np.nan
    with pytest.raises(ValueError, match="no patient has both x@1 and y@5"):
        sessions.riclpm(apart, x="x", y="y", patient="id", wave="wave", missing="ml")
