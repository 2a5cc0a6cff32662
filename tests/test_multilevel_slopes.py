"""Notebook 03's random-slope and REML-vs-ML lessons agree with lme4 (issue 17 item 5).

Oracle: tests/oracles/multilevel_slopes.R (lme4 1.1-31, bobyqa, rhoend 1e-12) fits lmer to
tests/fixtures/multilevel_slopes_data.csv — the data notebook 03 builds in section 6 (the shipped
SIMULATED Baldwin-design trial with a therapist-specific alliance slope added) — and writes
tests/fixtures/multilevel_slopes.json. We fit the same models with the workbook's
``analysis.multilevel`` functions (random slopes: ``disaggregate_alliance(random_slope=True)``,
MixedLM polished on lme4's profiled criterion).

Tolerances: 1e-4 relative on fixed effects, their SEs and the variance components; 1e-4 absolute on
log-likelihoods and likelihood-ratio statistics (achieved: about 1e-6 relative on the random-slope
variances, 1e-8 on the random-intercept fits).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import datasets
from analysis.multilevel import disaggregate_alliance, therapist_effect

FIXTURES = Path(__file__).parent / "fixtures"
FIX = json.loads((FIXTURES / "multilevel_slopes.json").read_text(encoding="utf-8"))
DATA = pd.read_csv(FIXTURES / "multilevel_slopes_data.csv")
RTOL, LL_ATOL = 1e-4, 1e-4
COVS = ["pre", "arm"]
R_NAMES = {"(Intercept)": "Intercept"}  # lme4 term name -> ours


def _vc(fit):
    return {(v["var1"], v["var2"]): v["vcov"] for v in fit["varcomp"]}


def test_fixture_data_is_the_shipped_trial_plus_a_slope():
    """The CSV is the shipped trial with only `change` altered, and only for patients who differ
    from their therapist's mean alliance (the added term is s_j * (A_ij - mean_j A))."""
    pts = datasets.load("baldwin2007-design-patients", package=datasets.PACKAGE_PATH.parent / "simulated")
    for col in ("patient", "therapist", "arm", "pre", "post", "alliance_mean"):
        np.testing.assert_allclose(DATA[col].to_numpy(float), pts[col].to_numpy(float), rtol=0, atol=1e-12)
    single = DATA.groupby("therapist")["therapist"].transform("size") == 1
    np.testing.assert_allclose(DATA.loc[single, "change"], pts.loc[single, "change"], atol=1e-12)


@pytest.mark.parametrize("method", ["REML", "ML"])
@pytest.mark.parametrize("random_slope", [True, False], ids=["slope", "intercept"])
def test_disaggregation_with_and_without_random_slope_matches_lmer(method, random_slope):
    o = FIX["slope" if random_slope else "intercept"]["fits"][method]
    r = disaggregate_alliance(DATA, "change", "alliance_mean", "therapist", covariates=COVS,
                              random_slope=random_slope, method=method)
    for term, est in o["fixef"].items():
        np.testing.assert_allclose(r.fixed.loc[R_NAMES.get(term, term), "estimate"], est, rtol=RTOL)
        np.testing.assert_allclose(r.fixed.loc[R_NAMES.get(term, term), "se"], o["se"][term], rtol=RTOL)
    vc = _vc(o)
    np.testing.assert_allclose(r.therapist_var, vc[("(Intercept)", None)], rtol=RTOL)
    np.testing.assert_allclose(r.residual_var, o["sigma2"], rtol=RTOL)
    if random_slope:
        np.testing.assert_allclose(r.slope_var, vc[("alliance_mean_within", None)], rtol=RTOL)
        np.testing.assert_allclose(r.intercept_slope_cov, vc[("(Intercept)", "alliance_mean_within")], rtol=RTOL)
    assert abs(r.loglik - o["loglik"]) <= LL_ATOL
    assert r.singular is o["singular"] is False


def _ml(**kw):
    return disaggregate_alliance(DATA, "change", "alliance_mean", "therapist", covariates=COVS, method="ML", **kw)


def test_likelihood_ratio_test_of_the_random_slope_matches_anova():
    chisq = 2 * (_ml(random_slope=True).loglik - _ml(random_slope=False).loglik)
    assert abs(chisq - FIX["lrt_slope"]["chisq"]) <= LL_ATOL
    assert FIX["lrt_slope"]["df"] == 2


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_fixed_effect_models_match_lmer(method):
    for key, covs in [("post0", COVS), ("post1", [*COVS, "alliance_mean"])]:
        o = FIX[key]["fits"][method]
        r = therapist_effect(DATA, "post", "therapist", covariates=covs, method=method)
        for term, est in o["fixef"].items():
            np.testing.assert_allclose(r.fixed.loc[R_NAMES.get(term, term), "estimate"], est, rtol=RTOL)
            np.testing.assert_allclose(r.fixed.loc[R_NAMES.get(term, term), "se"], o["se"][term], rtol=RTOL)
        np.testing.assert_allclose(r.therapist_var, _vc(o)[("(Intercept)", None)], rtol=RTOL)
        np.testing.assert_allclose(r.residual_var, o["sigma2"], rtol=RTOL)
        assert abs(r.loglik - o["loglik"]) <= LL_ATOL


def test_ml_likelihood_ratio_test_of_a_fixed_effect_matches_anova():
    m0 = therapist_effect(DATA, "post", "therapist", covariates=COVS, method="ML")
    m1 = therapist_effect(DATA, "post", "therapist", covariates=[*COVS, "alliance_mean"], method="ML")
    chisq = 2 * (m1.loglik - m0.loglik)
    assert abs(chisq - FIX["lrt_alliance"]["chisq"]) <= LL_ATOL
    np.testing.assert_allclose(stats.chi2.sf(chisq, 1), FIX["lrt_alliance"]["p"], rtol=1e-3)


def test_reml_loglik_depends_on_the_units_of_a_covariate_and_ml_does_not():
    """The lesson of the notebook, against lme4: dividing `pre` by 10 moves the REML
    log-likelihood by log(10) (the log|X'V^-1 X| term) but leaves the ML one unchanged."""
    d = DATA.assign(pre10=DATA["pre"] / 10)
    for method in ("REML", "ML"):
        ours = therapist_effect(d, "post", "therapist", covariates=["pre10", "arm"], method=method).loglik
        assert abs(ours - FIX["post_pre10"]["fits"][method]["loglik"]) <= LL_ATOL
    shift = FIX["post_pre10"]["fits"]["REML"]["loglik"] - FIX["post0"]["fits"]["REML"]["loglik"]
    np.testing.assert_allclose(shift, np.log(10), rtol=1e-8)
    assert abs(FIX["post_pre10"]["fits"]["ML"]["loglik"] - FIX["post0"]["fits"]["ML"]["loglik"]) < 1e-8
