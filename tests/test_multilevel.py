"""analysis.multilevel agrees with lme4 and reports what it should.

Oracle: tests/oracles/lme4.R (lme4 1.1-31, bobyqa with rhoend = 1e-12) writes the
data and lmer's fits into tests/fixtures/lme4.json. Tolerance: 1e-4 relative on
fixed effects, their SEs and variance components (absolute 1e-8 for a variance
that lme4 puts at exactly zero), 1e-6 absolute on log-likelihoods. The profiled
engine reaches lme4's optimum to about 1e-7; MixedLM to about 3e-5.
"""

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.multilevel import (
    BoundaryWarning,
    _ProfiledRI,
    disaggregate_alliance,
    therapist_effect,
)
from analysis.simulate import simulate_trial

FIX = json.loads((Path(__file__).parent / "fixtures" / "lme4.json").read_text())
RTOL = 1e-4

CASES = {
    "unbalanced": ("y", ["x1", "x2"]),
    "singular": ("y", ["x"]),
    "alliance": ("change", ["alliance_within", "alliance_between", "pre"]),
}


def _data(key):
    return pd.DataFrame(FIX[key]["data"])


def _close(ours, theirs, rtol=RTOL, atol=0.0):
    np.testing.assert_allclose(np.asarray(ours, float), np.asarray(theirs, float), rtol=rtol, atol=atol)


def _fit(key, method, engine):
    y, covs = CASES[key]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BoundaryWarning)
        warnings.simplefilter("ignore", UserWarning)
        return therapist_effect(_data(key), y, "therapist", covs, method=method, engine=engine)


def test_fixture_has_the_promised_designs():
    d = _data("unbalanced")
    n = d.groupby("therapist").size()
    assert (n == 1).sum() >= 6 and n.max() > 5 * n.min()
    assert FIX["singular"]["fits"]["REML"]["singular"] is True
    assert FIX["singular"]["fits"]["REML"]["varcomp"][0]["vcov"] == 0


@pytest.mark.parametrize("engine", ["profile", "mixedlm"])
@pytest.mark.parametrize("method", ["REML", "ML"])
@pytest.mark.parametrize("key", list(CASES))
def test_random_intercept_matches_lme4(key, method, engine):
    o = FIX[key]["fits"][method]
    r = _fit(key, method, engine)
    _close(r.fixed["estimate"], list(o["fixef"].values()))
    _close(r.fixed["se"], list(o["se"].values()))
    _close(r.fixed_cov.to_numpy(), np.array(o["vcov"]), atol=1e-10)
    tau_lme4 = o["varcomp"][0]["vcov"]
    if tau_lme4 == 0:
        assert r.therapist_var < 1e-8
    else:
        _close(r.therapist_var, tau_lme4)
    _close(r.residual_var, o["varcomp"][1]["vcov"])
    assert abs(r.loglik - o["loglik"]) < 1e-6
    assert r.singular == o["singular"]
    # BLUPs and their conditional SEs (lme4's condVar)
    assert list(r.effects["therapist"]) == o["ranef_group"]
    # singular fit: lme4 has exact zeros; judge ours on the residual SD scale
    scale = math.sqrt(tau_lme4) if tau_lme4 > 0 else math.sqrt(o["varcomp"][1]["vcov"])
    _close(r.effects["effect"], o["ranef"]["(Intercept)"], atol=RTOL * scale)
    _close(r.effects["se"], o["ranef_se"], atol=RTOL * scale)


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_disaggregation_random_intercept_matches_lme4(method):
    o = FIX["alliance"]["fits"][method]
    r = disaggregate_alliance(_data("alliance"), "change", "alliance", "therapist", ["pre"], method=method)
    _close(r.fixed["estimate"], list(o["fixef"].values()))
    _close(r.fixed["se"], list(o["se"].values()))
    assert r.within == pytest.approx(o["fixef"]["alliance_within"], rel=RTOL)
    assert r.between == pytest.approx(o["fixef"]["alliance_between"], rel=RTOL)
    V = np.array(o["vcov"])  # order: intercept, within, between, pre
    se_c = math.sqrt(V[1, 1] + V[2, 2] - 2 * V[1, 2])
    assert r.contextual_se == pytest.approx(se_c, rel=RTOL)
    assert r.contextual == pytest.approx(o["fixef"]["alliance_between"] - o["fixef"]["alliance_within"], rel=RTOL)
    _close(r.therapist_var, o["varcomp"][0]["vcov"])
    assert "contextual" in r.summary() and "Within therapists" in r.apa()


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_disaggregation_random_slope_matches_lme4(method):
    o = FIX["alliance"]["fits_slope"][method]
    r = disaggregate_alliance(_data("alliance"), "change", "alliance", "therapist", ["pre"],
                              random_slope=True, method=method)
    _close(r.fixed["estimate"], list(o["fixef"].values()))
    _close(r.fixed["se"], list(o["se"].values()))
    vc = {(v["var1"], v["var2"]): v["vcov"] for v in o["varcomp"]}
    _close(r.therapist_var, vc[("(Intercept)", None)])
    _close(r.slope_var, vc[("alliance_within", None)])
    _close(r.intercept_slope_cov, vc[("(Intercept)", "alliance_within")])
    _close(r.residual_var, vc[(None, None)])
    assert abs(r.loglik - o["loglik"]) < 1e-6
    assert r.singular == o["singular"]
    assert set(r.optimizer_log["optimizer"]) >= {"lbfgs", "powell", "nm"}
    assert "slope variance" in r.summary()


def test_singular_fit_is_reported_not_hidden():
    with pytest.warns(BoundaryWarning, match="singular"):
        r = therapist_effect(_data("singular"), "y", "therapist", ["x"])
    assert r.singular and r.therapist_var < 1e-8 and r.icc < 1e-8
    assert r.icc_ci[0] == 0.0 and r.icc_ci[1] > 0
    assert any("singular" in n for n in r.notes)
    assert "singular" in r.summary() and "singular" in r.apa()


def test_profile_interval_endpoints_raise_criterion_by_chi2():
    d = _data("unbalanced")
    r = therapist_effect(d, "y", "therapist", ["x1", "x2"])
    prof = _ProfiledRI(d["y"].to_numpy(), np.column_stack([np.ones(len(d)), d["x1"], d["x2"]]),
                       pd.factorize(d["therapist"], sort=True)[0], r.n_therapists, True)
    crit_hat = -2 * r.loglik
    for icc in r.icc_ci:
        theta = math.sqrt(icc / (1 - icc))
        assert prof.crit(theta) - crit_hat == pytest.approx(3.841458820694124, abs=1e-6)
    assert r.icc_ci[0] < r.icc < r.icc_ci[1]
    assert r.icc == pytest.approx(r.therapist_var / (r.therapist_var + r.residual_var))


def test_bootstrap_interval_is_seeded():
    d = _data("unbalanced")
    a = therapist_effect(d, "y", "therapist", ["x1", "x2"], ci="bootstrap", n_boot=200, seed=5)
    b = therapist_effect(d, "y", "therapist", ["x1", "x2"], ci="bootstrap", n_boot=200, seed=5)
    c = therapist_effect(d, "y", "therapist", ["x1", "x2"], ci="bootstrap", n_boot=200, seed=6)
    assert a.icc_ci == b.icc_ci and a.icc_ci != c.icc_ci
    assert a.icc_ci[0] < a.icc < a.icc_ci[1]
    assert "bootstrap" in a.ci_method


def test_recovers_simulated_truth():
    # 400 therapists x 10: the ICC of post | pre, arm is .05 in the population. The ICC
    # estimate's SE is about .0085 here (Snijders & Bosker eq. 3.13); rounding and the
    # PHQ-9 floor shift it a little, so allow 4 SE + .01.
    tr = simulate_trial(n_therapists=400, caseload=10, seed=77)
    r = therapist_effect(tr.patients, "post", "therapist", ["pre", "arm"])
    assert abs(r.icc - 0.05) < 4 * 0.0085 + 0.01
    # BLUPs track the true therapist effects (on post, effects are minus the improvement effect)
    true = -tr.truth["therapists"]["outcome_effect"].to_numpy()
    assert np.corrcoef(r.effects["effect"], true)[0, 1] > 0.4


def test_summary_and_apa_report_numbers():
    r = _fit("unbalanced", "REML", "profile")
    s, a = r.summary(), r.apa()
    assert f"{r.icc:.4f}" in s and "x1" in s
    assert "ICC = ." in a and "95% CI" in a and "60 therapists" in a


def test_therapist_labels_may_be_any_hashable():
    d = _data("unbalanced")
    d2 = d.assign(therapist=pd.factorize(d["therapist"], sort=True)[0] * 7 + 3)
    r1 = therapist_effect(d, "y", "therapist", ["x1", "x2"])
    r2 = therapist_effect(d2, "y", "therapist", ["x1", "x2"])
    assert r1.therapist_var == pytest.approx(r2.therapist_var, rel=1e-12)


# ------------------------------------------------------------------ bad input
@pytest.fixture
def small():
    return pd.DataFrame({"t": ["a", "a", "b", "b", "c"], "y": [1.0, 2, 3, 4, 5], "x": [0.5, 1, 2, 0, 1]})


def test_missing_column_is_named(small):
    with pytest.raises(ValueError, match="'z'"):
        therapist_effect(small, "z", "t")
    with pytest.raises(ValueError, match="'w'"):
        therapist_effect(small, "y", "t", ["w"])
    with pytest.raises(ValueError, match="'q'"):
        disaggregate_alliance(small, "y", "q", "t")


def test_non_numeric_outcome_names_column_and_row(small):
    bad = small.assign(y=["1", "2", "three", "4", "5"])
    with pytest.raises(ValueError, match=r"'y' must be numeric; row 2 has 'three'"):
        therapist_effect(bad, "y", "t")


def test_missing_outcome_names_rows(small):
    bad = small.copy()
    bad.loc[3, "y"] = np.nan
    with pytest.raises(ValueError, match=r"'y' has missing .* row\(s\) \[3\]"):
        therapist_effect(bad, "y", "t")


def test_missing_therapist_id_names_row(small):
    bad = small.copy()
    bad.loc[1, "t"] = None
    with pytest.raises(ValueError, match=r"'t' \(therapist id\) is missing at row\(s\) \[1\]"):
        therapist_effect(bad, "y", "t")


def test_fewer_than_two_therapists(small):
    with pytest.raises(ValueError, match="at least two therapists"):
        therapist_effect(small.assign(t="a"), "y", "t")


def test_bad_options(small):
    with pytest.raises(ValueError, match="`method`"):
        therapist_effect(small, "y", "t", method="OLS")
    with pytest.raises(ValueError, match="`engine`"):
        therapist_effect(small, "y", "t", engine="lme4")
    with pytest.raises(ValueError, match="`ci`"):
        therapist_effect(small, "y", "t", ci="wald")
    with pytest.raises(ValueError, match="`data`"):
        therapist_effect(small.to_dict(), "y", "t")
    with pytest.raises(ValueError, match="collinear"):
        therapist_effect(small.assign(x2=small["x"] * 2), "y", "t", ["x", "x2"])
    with pytest.raises(ValueError, match="does not vary within"):
        disaggregate_alliance(small.assign(al=small["t"].map({"a": 1.0, "b": 2.0, "c": 3.0})), "y", "al", "t")
