"""analysis.growth against lme4::lmer (tests/oracles/growth_lme4.R -> tests/fixtures/growth_lme4.json).

Tolerance: 1e-4 relative (issue 18) on fixed effects, SEs, variance components and the
log-likelihood's scale; the log-likelihood itself to 1e-6 absolute (both optimise the same
criterion to its flat top). Differences seen when this was written: fixed effects <= 4e-8,
variance components <= 1e-6 relative, log-likelihoods <= 1e-10.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.growth import compare_growth_models, growth_model
from analysis.multilevel import BoundaryWarning

FIX = json.loads((Path(__file__).parent / "fixtures" / "growth_lme4.json").read_text())
REL = 1e-4
COVS = ["bdi_pre", "btheb", "drug", "length6"]


def _btheb():
    return pd.DataFrame(FIX["btheb"]["data"])


def _check(fit, ref):
    """Compare one fit with one lme4 block at the stated tolerances."""
    est = fit.coefficients["estimate"]
    for term, value in ref["fixef"].items():
        assert est[term] == pytest.approx(value, rel=REL, abs=1e-8)
        assert fit.coefficients.loc[term, "se"] == pytest.approx(ref["se"][term], rel=REL)
    vc = fit.variance_components
    scale = max(abs(v["vcov"]) for v in ref["varcomp"])
    for k, comp in enumerate(ref["varcomp"]):
        assert vc["variance"].iloc[k] == pytest.approx(comp["vcov"], rel=REL, abs=REL * scale)
    assert fit.sigma2 == pytest.approx(ref["sigma2"], rel=REL)
    assert fit.loglik == pytest.approx(ref["loglik"], abs=1e-6)
    assert fit.aic == pytest.approx(ref["aic"], abs=1e-6)
    assert fit.bic == pytest.approx(ref["bic"], abs=1e-6)
    assert fit.deviance == pytest.approx(ref["crit"], abs=1e-6)
    assert fit.singular == ref["singular"]
    # BLUPs and their conditional SDs, patient by patient
    assert [str(g) for g in fit.ranef.index] == ref["ranef_group"]
    blups = np.column_stack(list(ref["ranef"].values()))
    bscale = np.max(np.abs(blups))
    np.testing.assert_allclose(fit.ranef.to_numpy(), blups, rtol=0, atol=REL * bscale)
    np.testing.assert_allclose(fit.ranef_se.to_numpy(), np.column_stack(ref["ranef_sd"]), rtol=REL, atol=1e-8 * bscale)
    np.testing.assert_allclose(fit.residuals.to_numpy(), ref["resid"], rtol=0, atol=REL * bscale)


@pytest.mark.parametrize("key,slope,method", [("ri_ml", False, "ML"), ("rs_ml", True, "ML"),
                                              ("rs_reml", True, "REML")])
def test_btheb_matches_lme4(key, slope, method):
    fit = growth_model(_btheb(), "bdi", "time", "subject", covariates=COVS, random_slope=slope, method=method)
    _check(fit, FIX["btheb"][key])


def test_btheb_time_by_treatment_reml():
    fit = growth_model(_btheb(), "bdi", "time", "subject", covariates=COVS, time_by=["btheb"])
    _check(fit, FIX["btheb"]["rsx_reml"])
    assert "time:btheb" in fit.coefficients.index


def test_btheb_lrt_equals_anova():
    """HSAUR3's anova(BtheB_lmer1, BtheB_lmer2), as lme4 prints it (LRT on 2 df)."""
    b = _btheb()
    m1 = growth_model(b, "bdi", "time", "subject", covariates=COVS, random_slope=False, method="ML")
    m2 = growth_model(b, "bdi", "time", "subject", covariates=COVS, method="ML")
    ref = FIX["btheb"]["anova"]
    tab = compare_growth_models(m2, m1).table  # order given does not matter
    assert tab["npar"].tolist() == ref["npar"]
    np.testing.assert_allclose(tab["AIC"], ref["AIC"], atol=1e-6)
    np.testing.assert_allclose(tab["BIC"], ref["BIC"], atol=1e-6)
    np.testing.assert_allclose(tab["logLik"], ref["logLik"], atol=1e-6)
    assert tab["statistic"].iloc[1] == pytest.approx(ref["Chisq"], abs=1e-5)
    assert tab["df"].iloc[1] == ref["Df"]
    assert tab["pvalue"].iloc[1] == pytest.approx(ref["p"], abs=1e-5)
    # the boundary-corrected p is smaller than the naive one (mixture of chi2_1 and chi2_2)
    assert tab["pvalue_mixture"].iloc[1] < tab["pvalue"].iloc[1]


def test_lrt_refits_reml_by_ml_like_lme4():
    b = _btheb()
    m1 = growth_model(b, "bdi", "time", "subject", covariates=COVS, random_slope=False)
    m3 = growth_model(b, "bdi", "time", "subject", covariates=COVS, time_by=["btheb"])
    cmp = compare_growth_models(m1, m3)
    ref = FIX["btheb"]["anova_refit"]
    assert cmp.refitted
    np.testing.assert_allclose(cmp.table["logLik"], ref["logLik"], atol=1e-6)
    assert cmp.table["statistic"].iloc[1] == pytest.approx(ref["Chisq"], abs=1e-5)
    assert cmp.table["pvalue"].iloc[1] == pytest.approx(ref["p"], abs=1e-5)
    with pytest.raises(ValueError, match="REML likelihoods of models with different fixed effects"):
        compare_growth_models(m1, m3, refit=False)


@pytest.mark.parametrize("method,key", [("REML", "reml"), ("ML", "ml")])
def test_unbalanced_simulated_growth(method, key):
    sim = pd.DataFrame(FIX["sim"]["data"])
    fit = growth_model(sim, "y", "time", "subject", covariates=["arm"], time_by=["arm"], method=method)
    _check(fit, FIX["sim"][key])
    ref_corr = [v["sdcor"] for v in FIX["sim"][key]["varcomp"] if v["var2"]][0]
    assert fit.variance_components["corr"].dropna().iloc[0] == pytest.approx(ref_corr, rel=REL)


def test_singular_fit_is_reported():
    d = pd.DataFrame(FIX["singular"]["data"])
    with pytest.warns(BoundaryWarning, match="singular"):
        fit = growth_model(d, "y", "time", "subject")
    ref = FIX["singular"]["reml"]
    assert fit.singular and ref["singular"]
    assert fit.loglik == pytest.approx(ref["loglik"], abs=1e-6)
    for term, value in ref["fixef"].items():
        assert fit.coefficients.loc[term, "estimate"] == pytest.approx(value, rel=REL)
    assert "singular" in fit.summary()


def test_results_vocabulary_and_text():
    fit = growth_model(_btheb(), "bdi", "time", "subject", covariates=COVS, time_by=["btheb"])
    frame = fit.to_frame()
    assert list(frame.columns[:7]) == ["term", "estimate", "se", "statistic", "pvalue", "ci_low", "ci_high"]
    assert fit.to_dict()["n_obs"] == 280 and fit.n_subjects == 97
    text = fit.apa()
    assert text.startswith("In a growth model with random intercepts and slopes (280 measurements of 97 patients")
    assert "time:btheb" in text
    assert "Random effects:" in fit.summary()
    # Wald interval at the stated level
    r = fit.coefficients.loc["time"]
    assert r["ci_high"] - r["estimate"] == pytest.approx(1.959963984540054 * r["se"], rel=1e-12)


def _toy(n=40, waves=4, seed=0):
    rng = np.random.default_rng(seed)
    pid = np.repeat(np.arange(n), waves)
    t = np.tile(np.arange(waves, dtype=float), n)
    arm = (pid % 2).astype(float)
    y = 10 + rng.normal(0, 2, n)[pid] + (-1 - 0.5 * arm + rng.normal(0, 0.6, n)[pid]) * t + rng.normal(0, 1, n * waves)
    return pd.DataFrame({"id": pid, "t": t, "arm": arm, "y": y})


@settings(max_examples=12)
@given(ey=st.integers(-140, 140), et=st.integers(-140, 140))
def test_scale_equivariance(ey, et):
    """Rescaling the outcome by 10^ey and time by 10^et rescales every estimate accordingly.

    Variances scale with squares, so the factors are drawn where those squares stay inside
    double precision (|ey - et| <= 140); beyond, the fit refuses (next test).
    """
    if abs(ey - et) > 140:
        et = ey - 140 if et < ey else ey + 140
    base = _toy()
    f0 = growth_model(base, "y", "t", "id", covariates=["arm"], time_by=["arm"])
    cy, ct = 10.0**ey, 10.0**et
    d = base.assign(y=base["y"] * cy, t=base["t"] * ct)
    f1 = growth_model(d, "y", "t", "id", covariates=["arm"], time_by=["arm"])
    b0, b1 = f0.coefficients["estimate"], f1.coefficients["estimate"]
    expect = {"(Intercept)": cy, "t": cy / ct, "arm": cy, "t:arm": cy / ct}
    for term, factor in expect.items():
        assert b1[term] == pytest.approx(b0[term] * factor, rel=1e-5)
        assert f1.coefficients.loc[term, "statistic"] == pytest.approx(f0.coefficients.loc[term, "statistic"], rel=1e-4, abs=1e-6)
    assert f1.sigma2 == pytest.approx(f0.sigma2 * cy * cy, rel=1e-5)
    assert f1.G.iloc[1, 1] == pytest.approx(f0.G.iloc[1, 1] * (cy / ct) ** 2, rel=1e-4)
    # REML log-likelihood: y scaled by cy shifts it by -(N - p) log cy; the two time columns of X
    # scaled by ct add 2 log ct each to log|A|, so -log ct each to the log-likelihood
    n, p = f0.n_obs, 4
    assert f1.loglik == pytest.approx(f0.loglik - (n - p) * math.log(cy) - 2 * math.log(ct), abs=1e-5)


def test_unrepresentable_scale_is_refused():
    base = _toy()
    d = base.assign(y=base["y"] * 1e-150, t=base["t"] * 1e150)
    with pytest.raises(ValueError, match="scales of the outcome and of time make the variances overflow or underflow"):
        growth_model(d, "y", "t", "id")


def test_missing_outcomes_dropped_only_when_asked():
    d = _toy()
    d.loc[[3, 17], "y"] = np.nan
    with pytest.raises(ValueError, match=r"Missing values in `data` at index labels 3, 17.*na_action='omit'"):
        growth_model(d, "y", "t", "id")
    with pytest.warns(UserWarning, match=r"Dropped 2 incomplete measurement\(s\) at index labels 3, 17"):
        fit = growth_model(d, "y", "t", "id", na_action="omit")
    assert fit.n_obs == len(d) - 2 and fit.dropped == [3, 17]
    full = growth_model(d.dropna(), "y", "t", "id")
    assert fit.loglik == pytest.approx(full.loglik, abs=1e-9)
    assert d["y"].isna().sum() == 2  # the caller's data are untouched
