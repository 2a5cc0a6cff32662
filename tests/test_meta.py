"""Tests of analysis.meta against metafor 3.8.1 (tests/oracles/meta.R).

Tolerance: relative error <= 1e-6 on every compared number (absolute 1e-9 where
the reference is 0, e.g. tau^2 on the boundary), unless a test says otherwise.
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

from analysis.meta import METHODS, TESTS, MetaConvergenceError, meta_analysis, subgroup_analysis

FIX = Path(__file__).parent / "fixtures"
RTOL, ATOL = 1e-6, 1e-9
UNI = json.loads((FIX / "meta_uni.json").read_text())
REG = json.loads((FIX / "meta_reg.json").read_text())


def close(ours, ref, rtol=RTOL, atol=ATOL):
    ours = np.atleast_1d(np.asarray(ours, dtype=float))
    ref = np.atleast_1d(np.asarray(ref, dtype=float))
    assert ours.shape == ref.shape, (ours, ref)
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=atol)


def fit_quiet(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return meta_analysis(*args, **kwargs)


UNI_CASES = [(d, key) for d in UNI for key in UNI[d]["fits"]]


@pytest.mark.parametrize(("dataset", "key"), UNI_CASES)
def test_univariate_matches_metafor(dataset, key):
    ds, ref = UNI[dataset], UNI[dataset]["fits"][key]
    method, test = key.split("_")
    res = fit_quiet(ds["yi"], ds["vi"], method=method, test=test)
    for name in ["estimate", "se", "statistic", "pvalue", "ci_low", "ci_high", "tau2", "i2", "h2", "q",
                 "q_pvalue", "weights"]:
        close(getattr(res, name), ref[name])
    assert res.q_df == ref["q_df"] and res.k == len(ds["yi"])
    if method == "FE":  # metafor prints no PI for FE: tau^2 = 0 makes it the CI
        close([res.pi_low, res.pi_high], [res.ci_low, res.ci_high])
        assert res.tau2_ci is None
    else:
        close([res.pi_low, res.pi_high], [ref["pi_low"], ref["pi_high"]])
        close(res.tau2_ci, ref["tau2_ci"])
        close(res.i2_ci, ref["i2_ci"])
        close(res.h2_ci, ref["h2_ci"])
    close(res.tau, math.sqrt(ref["tau2"]))


def test_boundary_cases_are_what_they_claim():
    # the homogeneous set has tau^2 = 0 for every estimator but SJ (positive by construction)
    for key, ref in UNI["homogeneous"]["fits"].items():
        assert (ref["tau2"] == 0.0) != key.startswith("SJ"), key
    assert len(UNI["k2"]["yi"]) == 2
    dom = fit_quiet(UNI["dominating"]["yi"], UNI["dominating"]["vi"], method="FE")
    assert dom.weights.max() > 99


def test_dl_pm_agree_with_statsmodels_combine_effects():
    from statsmodels.stats.meta_analysis import combine_effects

    ds = UNI["bcg"]
    for method, sm in [("DL", "chi2"), ("PM", "iterated")]:
        ref = combine_effects(np.array(ds["yi"]), np.array(ds["vi"]), method_re=sm)
        res = meta_analysis(ds["yi"], ds["vi"], method=method)
        close(res.estimate, ref.mean_effect_re)
        close(res.se, ref.sd_eff_w_re)
        close(res.tau2, ref.tau2, rtol=1e-5)  # statsmodels' PM iteration stops at its own tolerance


# ------------------------------------------------------------------ meta-regression
REG_DATA = pd.DataFrame(REG["data"])
REG_CASES = list(REG["fits"])


@pytest.mark.parametrize("key", REG_CASES)
def test_meta_regression_matches_metafor(key):
    ref = REG["fits"][key]
    *mods, method, test = key.split("_")
    formula = "~ ablat + year" if mods == ["ablat", "year"] else "~ alloc"
    res = fit_quiet("yi", "vi", data=REG_DATA, mods=formula, method=method, test=test)
    for ours, theirs in [("estimate", "estimate"), ("se", "se"), ("statistic", "statistic"), ("pvalue", "pvalue"),
                         ("ci_low", "ci_low"), ("ci_high", "ci_high"), ("tau2", "tau2"), ("i2", "i2"), ("h2", "h2"),
                         ("q", "qe"), ("q_pvalue", "qe_pvalue"), ("qm", "qm"), ("qm_pvalue", "qm_pvalue")]:
        close(getattr(res, ours), ref[theirs])
    assert [d for d in (res.qm_df, res.qm_df_den) if d is not None] == [int(x) for x in ref["qm_df"] if x is not None]
    if ref.get("r2") is not None:
        close(res.r2, ref["r2"])
    if method != "FE":
        close(res.tau2_ci, ref["tau2_ci"])
    assert len(res.coef_names) == len(ref["coef_names"])


def test_moderators_as_dataframe_and_array_match_formula():
    f = meta_analysis("yi", "vi", data=REG_DATA, mods="~ ablat + year")
    a = meta_analysis(REG_DATA["yi"], REG_DATA["vi"], mods=REG_DATA[["ablat", "year"]].to_numpy())
    d = meta_analysis(REG_DATA["yi"], REG_DATA["vi"], mods=REG_DATA[["ablat", "year"]])
    c = meta_analysis(REG_DATA["yi"], REG_DATA["vi"], mods=REG_DATA[["alloc"]])
    g = meta_analysis("yi", "vi", data=REG_DATA, mods="~ alloc")
    close(a.estimate, f.estimate, rtol=1e-10)
    close(d.se, f.se, rtol=1e-10)
    close(c.estimate, g.estimate, rtol=1e-10)
    assert d.coef_names == ["intrcpt", "ablat", "year"]


def test_singular_design_raises_naming_the_moderator():
    data = REG_DATA.assign(ablat2=2 * REG_DATA["ablat"])
    # metafor drops ablat2 and keeps two coefficients
    assert REG["singular"]["coef_names"] == ["intrcpt", "ablat"]
    with pytest.raises(ValueError, match="ablat2"):
        meta_analysis("yi", "vi", data=data, mods="~ ablat + ablat2")


@pytest.mark.parametrize("method", ["REML", "DL"])
def test_subgroups_match_metafor(method):
    ref = REG["subgroups"][method]
    res = subgroup_analysis("yi", "vi", "alloc", data=REG_DATA, method=method)
    close(res.q_between, ref["separate"]["qb"])
    close(res.q_between_pvalue, ref["separate"]["qb_pvalue"])
    assert res.q_between_df == ref["separate"]["qb_df"]
    close(res.mixed.qm, ref["mixed"]["qm"])
    close(res.mixed.qm_pvalue, ref["mixed"]["qm_pvalue"])
    close(res.mixed.tau2, ref["mixed"]["tau2"])
    mixed = subgroup_analysis("yi", "vi", "alloc", data=REG_DATA, method=method, approach="mixed")
    close(mixed.q_between, ref["mixed"]["qm"])
    for g in ref["groups"]:
        row = res.table.loc[g["group"]]
        assert row["k"] == g["k"]
        for c in ["estimate", "se", "ci_low", "ci_high", "tau2", "i2", "q", "q_pvalue"]:
            close(row[c], g[c])
    assert "Test of subgroup differences" in res.summary()
    assert "Q_between(2)" in res.apa()


# ------------------------------------------------------------------ reports


def test_summary_is_laid_out_like_metafor():
    ds = UNI["bcg"]
    s = meta_analysis(ds["yi"], ds["vi"]).summary()
    assert "Random-Effects Model (k = 13; tau^2 estimator: REML)" in s
    assert "tau^2 (estimated amount of total heterogeneity): 0.3132 (SE = 0.1664)" in s
    assert "I^2 (total heterogeneity / total variability):   92.22%" in s
    assert "H^2 (total variability / sampling variability):  12.86" in s
    assert "Test for Heterogeneity:\nQ(df = 12) = 152.2330, p-val <.0001" in s
    assert "Model Results:" in s and "estimate" in s and "ci.ub" in s
    assert "-0.7145" in s and "0.1798" in s and "***" in s
    fe = meta_analysis(ds["yi"], ds["vi"], method="FE").summary()
    assert "Fixed-Effects Model (k = 13)" in fe
    reg = meta_analysis("yi", "vi", data=REG_DATA, mods="~ ablat", test="knha").summary()
    assert "Mixed-Effects Model (k = 13; tau^2 estimator: REML)" in reg
    assert "Test of Moderators (coefficient 2):\nF(df1 = 1, df2 = 11) =" in reg
    assert "R^2 (amount of heterogeneity accounted for):" in reg


def test_apa_and_predict_transform():
    ds = UNI["molloy2014"]
    res = meta_analysis(ds["yi"], ds["vi"], test="knha")
    pr = res.predict(transform="z2r")
    close(pr.pred, np.tanh(res.estimate), rtol=1e-14)
    close([pr.pi_low[0], pr.pi_high[0]], np.tanh([res.pi_low, res.pi_high]), rtol=1e-14)
    assert pr.se is None
    line = res.apa(transform="z2r", label="correlation")
    assert line.startswith("A random-effects (REML) meta-analysis of k = 16 studies")
    assert f"t({res.k - 1})" in line and "prediction interval" in line
    rr = meta_analysis(UNI["bcg"]["yi"], UNI["bcg"]["vi"]).predict(transform="exp")
    close(rr.pred, math.exp(meta_analysis(UNI["bcg"]["yi"], UNI["bcg"]["vi"]).estimate))
    same = res.predict(transform=lambda x: 2 * x)
    close(same.pred, 2 * res.estimate)
    with pytest.raises(ValueError, match="transform"):
        res.predict(transform="nope")
    reg = meta_analysis("yi", "vi", data=REG_DATA, mods="~ ablat")
    p = reg.predict(newmods=[[10.0], [50.0]])
    close(p.pred, reg.beta[0] + reg.beta[1] * np.array([10.0, 50.0]))
    assert "Meta-regression" in reg.apa()


# ------------------------------------------------------------------ bad input


def test_bad_input_is_refused():
    y, v = [0.1, 0.2, 0.3], [0.01, 0.02, 0.03]
    with pytest.raises(ValueError, match="yi.*position 1"):
        meta_analysis([0.1, np.nan, 0.3], v)
    with pytest.raises(ValueError, match="vi.*position 2"):
        meta_analysis(y, [0.01, 0.02, 0.0])
    with pytest.raises(ValueError, match="vi.*position 0"):
        meta_analysis(y, [-0.01, 0.02, 0.03])
    with pytest.raises(ValueError, match="mismatched lengths"):
        meta_analysis(y, [0.01, 0.02])
    with pytest.raises(ValueError, match="at least 2"):
        meta_analysis([0.1], [0.01])
    with pytest.raises(ValueError, match="method"):
        meta_analysis(y, v, method="EB")
    with pytest.raises(ValueError, match="test"):
        meta_analysis(y, v, test="t")
    with pytest.raises(ValueError, match="mods.*numeric"):
        meta_analysis(y, v, mods=np.array(["a", "b", "c"]))
    with pytest.raises(ValueError, match="mods.*missing"):
        meta_analysis(y, v, mods=pd.DataFrame({"x": [1.0, np.nan, 2.0]}))
    with pytest.raises(ValueError, match="column 'nope'"):
        meta_analysis("nope", "vi", data=REG_DATA)
    with pytest.raises(ValueError, match="k > 3"):
        meta_analysis(y, v, mods=np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 5.0]]))
    with pytest.raises(ValueError, match="level"):
        meta_analysis(y, v, level=95)


def test_nonconvergence_is_an_error_naming_the_estimator():
    ds = UNI["bcg"]
    with pytest.raises(MetaConvergenceError, match="REML"):
        meta_analysis(ds["yi"], ds["vi"], method="REML", maxiter=2)


def test_fe_with_knha_warns():
    with pytest.warns(UserWarning, match="Knapp"):
        meta_analysis([0.1, 0.2, 0.3], [0.01, 0.02, 0.03], method="FE", test="knha")


# ------------------------------------------------------------------ properties

studies = st.integers(min_value=3, max_value=15).flatmap(
    lambda k: st.tuples(
        st.lists(st.floats(-2, 2, allow_nan=False), min_size=k, max_size=k),
        st.lists(st.floats(0.005, 0.5, allow_nan=False), min_size=k, max_size=k),
    )
)


@settings(max_examples=40, deadline=None)
@given(studies, st.sampled_from(METHODS), st.sampled_from(TESTS), st.randoms(use_true_random=False))
def test_invariant_to_study_order(data, method, test, rnd):
    y, v = map(np.array, data)
    perm = list(range(len(y)))
    rnd.shuffle(perm)
    a = fit_quiet(y, v, method=method, test=test)
    b = fit_quiet(y[perm], v[perm], method=method, test=test)
    close(b.estimate, a.estimate, rtol=1e-8, atol=1e-10)
    close(b.tau2, a.tau2, rtol=1e-7, atol=1e-10)
    close(b.se, a.se, rtol=1e-7, atol=1e-10)


@settings(max_examples=40, deadline=None)
@given(studies, st.sampled_from(METHODS), st.floats(-5, 5, allow_nan=False))
def test_shift_moves_estimate_not_tau2(data, method, c):
    y, v = map(np.array, data)
    a = fit_quiet(y, v, method=method)
    b = fit_quiet(y + c, v, method=method)
    assert a.tau2 >= 0 and b.tau2 >= 0
    close(b.estimate, a.estimate + c, rtol=1e-8, atol=1e-8)
    close(b.tau2, a.tau2, rtol=1e-6, atol=1e-10)
    assert 0 <= a.i2 <= 100 and a.h2 >= (0 if method == "FE" else 1)  # FE: H^2 = Q/df


@settings(max_examples=40, deadline=None)
@given(studies)
def test_fe_estimate_within_range(data):
    y, v = map(np.array, data)
    res = meta_analysis(y, v, method="FE")
    assert y.min() - 1e-12 <= res.estimate <= y.max() + 1e-12
    assert res.ci_low <= res.estimate <= res.ci_high


def test_docstring_examples_run():
    import doctest

    import analysis.meta as mod

    assert doctest.testmod(mod).failed == 0
