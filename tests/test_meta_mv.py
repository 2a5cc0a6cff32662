"""Tests of analysis.meta_mv.rma_mv against metafor 3.8.1 rma.mv (tests/oracles/meta_dependent.R).

Tolerances (relative unless stated):
- estimates, SEs, statistics, CIs, variance components, QE, QM, log-likelihood, AIC/BIC,
  predictions and BLUPs: 1e-6 (bounds near 0 of predictions: 1e-7 absolute). metafor's nlminb stops at rel.tol 1e-10 on some fits (the
  fixture records the control used); our REML log-likelihood is never below metafor's.
  Variance components at the boundary (metafor ~1e-13, ours exactly 0): absolute 1e-9.
- BLUPs (``ranef``): 1e-6 relative or 2e-7 absolute (on the diagonal-V fit, where metafor stopped
  at rel.tol 1e-10 and its sigma^2 differ from ours by 8e-7 relative, a BLUP near 0 moves by 9e-8);
  1e-5 absolute for a level whose variance is at the boundary (metafor's 1e-12 gives SEs of 1e-6).
- p-values: 1e-5 (a relative error in z of 1e-7 becomes ~1e-6 in a small p-value).
- profile-likelihood CIs of the variance components: 1e-6 where metafor finds the bound. Where
  metafor's confint warns and returns a point that is not on the profile (we check: there
  2 (ll_max - ll_p) differs from chi^2_1(.95) by more than 0.4), the bound is checked by its
  defining equation instead.
- three_level (analysis.meta_multilevel) equals rma_mv with two levels and diagonal V: 1e-6.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse, stats

from analysis.meta_dependent import vcalc
from analysis.meta_multilevel import three_level
from analysis.meta_mv import MVResult, rma_mv
from tests._dependent_fixture import FITS, FIX, THREE, V_THREE

# metafor's confint returned a point off the profile (it warned): (dataset, fit, component, side)
METAFOR_PROFILE_FAILED = {("assink2016", "che_REML_z", 0, "low"), ("three_level", "ML", 1, "low"),
                          ("three_level", "ML", 2, "low")}


def close(ours, ref, rtol=1e-6, atol=0.0):
    np.testing.assert_allclose(np.atleast_1d(np.asarray(ours, float)), np.atleast_1d(np.asarray(ref, float)),
                               rtol=rtol, atol=atol)


def fit(key, **extra):
    kw = dict(FITS[key])
    kw.pop("newmods", None)
    data, V = kw.pop("data"), kw.pop("V")
    kw.update(extra)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # boundary notes are tested separately
        return rma_mv("yi", V, data=data, **kw)


@pytest.mark.parametrize("key", list(FITS), ids=lambda k: "-".join(k))
def test_rma_mv_matches_metafor(key):
    ref = FIX[key[0]]["fits"][key[1]]
    res = fit(key)
    tab = res.to_frame()
    assert list(tab.columns[:7]) == ["term", "estimate", "se", "statistic", "pvalue", "ci_low", "ci_high"]
    for col in ("estimate", "se", "statistic", "ci_low", "ci_high"):
        close(tab[col], ref[col])
    close(tab["pvalue"], ref["pvalue"], rtol=1e-5)
    s_ref = np.atleast_1d(np.asarray(ref["sigma2"], float))
    interior = s_ref > 1e-8
    close(res.sigma2[interior], s_ref[interior])
    close(res.sigma2[~interior], s_ref[~interior], rtol=0, atol=1e-9)
    assert res.n_levels == [int(x) for x in np.atleast_1d(ref["s_nlevels"])]
    close(res.qe, ref["qe"])
    assert res.qe_df == ref["qe_df"]
    close(res.qe_pvalue, ref["qe_pvalue"], rtol=1e-5, atol=1e-300)
    if res.qm is not None:
        close(res.qm, ref["qm"])
        close(res.qm_pvalue, ref["qm_pvalue"], rtol=1e-5)
        dfs = [int(x) for x in np.atleast_1d(ref["qm_df"]) if x is not None]
        assert res.qm_df == dfs[0] and res.qm_df_den == (dfs[1] if len(dfs) > 1 else None)
    for ours, theirs in (("loglik", "loglik"), ("deviance", "deviance"), ("aic", "aic"), ("bic", "bic")):
        close(getattr(res, ours), ref[theirs])
    assert res.loglik >= ref["loglik"] - 1e-9  # never a worse optimum than metafor's
    if res.test == "t":
        assert res.df == ref["ddf"][0] if isinstance(ref["ddf"], list) else ref["ddf"]
    # predictions
    pr = res.predict(FITS[key].get("newmods"))
    for col in ("pred", "se", "ci_low", "ci_high", "pi_low", "pi_high"):
        close(getattr(pr, col), ref["predict"][col], rtol=1e-6, atol=1e-7)
    # BLUPs per level, matched by the unit label ("1", "1/3", ...)
    blups = res.ranef()
    assert set(blups) == set(ref["ranef"])
    for lvl, (name, r) in enumerate(ref["ranef"].items()):
        tabr = blups[name].loc[[str(x) for x in r["level"]]]
        # a component at the boundary: metafor's ~1e-12 gives BLUP SEs ~ sqrt(1e-12) = 1e-6, ours exactly 0
        atol = 1e-5 if s_ref[res.sigma2_names.index(name)] < 1e-8 else 2e-7
        for col in ("pred", "se", "pi_low", "pi_high"):
            close(tabr[col], r[col], rtol=1e-6, atol=atol)


@pytest.mark.parametrize("key", [k for k in FITS if "sigma2_ci_low" in FIX[k[0]]["fits"][k[1]]],
                         ids=lambda k: "-".join(k))
def test_profile_ci_matches_metafor(key):
    ref = FIX[key[0]]["fits"][key[1]]
    res = fit(key)
    lows, highs = np.atleast_1d(ref["sigma2_ci_low"]), np.atleast_1d(ref["sigma2_ci_high"])
    crit = stats.chi2.ppf(0.95, 1)
    for comp, (lo, hi) in enumerate(res.sigma2_ci):
        assert lo <= res.sigma2[comp] <= hi
        for side, ours, theirs in (("low", lo, lows[comp]), ("high", hi, highs[comp])):
            if theirs is None or (key[0], key[1], comp, side) in METAFOR_PROFILE_FAILED:
                if ours > 0:  # the bound solves the profile equation
                    ll = res.profile_loglik(comp, ours)
                    assert 2 * (res.loglik - ll) == pytest.approx(crit, abs=1e-7)
                continue
            close(ours, theirs, rtol=1e-6, atol=1e-10)


def test_metafor_failures_are_real():
    """The skipped metafor bounds are not on the profile: 2 (ll_max - ll_p) is far from chi^2_1(.95)."""
    crit = stats.chi2.ppf(0.95, 1)
    for ds, key, comp, _side in METAFOR_PROFILE_FAILED:
        res = fit((ds, key))
        theirs = FIX[ds]["fits"][key]["sigma2_ci_low"][comp]
        ll = res.profile_loglik(comp, theirs)
        assert abs(2 * (res.loglik - ll) - crit) > 0.4


MV = json.loads((Path(__file__).parent / "fixtures" / "meta_mv.json").read_text())
KON = pd.DataFrame(MV["data"])


@pytest.mark.parametrize("mods,test", [(None, "z"), (None, "t"), ("~ year_c", "z")])
def test_two_levels_diagonal_v_equals_three_level(mods, test):
    """rma_mv(yi, vi, random = district/school) is three_level: same numbers to 1e-6."""
    a = three_level("yi", "vi", "district", es_id="school", data=KON, mods=mods, test=test)
    b = rma_mv("yi", "vi", data=KON, random=["district", "school"], mods=mods, test=test)
    close(b.beta, a.beta)
    close(np.sqrt(np.diag(b.vcov)), np.sqrt(np.diag(a.vcov)))
    close(b.sigma2, a.sigma2)
    close(b.loglik, a.loglik)
    close([b.qe, b.qe_pvalue], [a.q, a.q_pvalue])
    close(b.i2_levels, a.i2_levels)
    close(b.to_frame()["pvalue"], a.coefficients["pvalue"], rtol=1e-5)
    if mods:
        close([b.qm, b.qm_pvalue], [a.qm, a.qm_pvalue])
    for comp in (0, 1):
        close(b.profile_ci(comp), a.profile_ci(comp), rtol=1e-6)
    # and metafor's numbers for the same data (tests/fixtures/meta_mv.json)
    key = "year_z" if mods else f"intercept_{test}"
    close(b.sigma2, MV["fits"][key]["sigma2"])
    close(b.i2_levels, MV["fits"][key]["i2_levels"])


def test_sparse_and_dense_v_agree():
    Vs = sparse.csr_matrix(V_THREE)
    with pytest.warns(UserWarning, match="boundary"):
        a = rma_mv("yi", V_THREE, data=THREE, random=["study", "sample", "es"], mods="~ x")
    with pytest.warns(UserWarning, match="boundary"):
        b = rma_mv("yi", Vs, data=THREE, random=["study", "sample", "es"], mods="~ x")
    close(a.beta, b.beta, rtol=1e-12)
    close(a.sigma2, b.sigma2, rtol=1e-10, atol=1e-14)


def test_boundary_is_reported():
    with pytest.warns(UserWarning, match="boundary"):
        res = rma_mv("yi", V_THREE, data=THREE, random=["study", "sample", "es"], mods="~ x")
    assert res.sigma2[0] == 0.0 and res.converged
    assert any("boundary" in n for n in res.notes)
    assert "Note: variance component(s) study estimated at the boundary" in res.summary()


def test_ml_below_reml_variance():
    a = fit(("assink2016", "che_mods_REML_z"))
    b = fit(("assink2016", "che_mods_ML_z"))
    assert np.all(b.sigma2 < a.sigma2)


def test_reports():
    res = fit(("assink2016", "che_year_overt_REML_z"))
    s = res.summary()
    assert "Multivariate Meta-Analysis Model (k = 100; method: REML)" in s
    assert "sigma^2.1" in s and "study/esid" in s and "Test of Moderators (coefficients 2:3):" in s
    assert "QM(df = 2)" in s and "Test for Residual Heterogeneity:" in s
    d = res.to_dict()
    assert d["n_obs"] == 100 and d["n_studies"] == 17 and set(d["sigma2"]) == {"study", "study/esid"}
    json.dumps(d)
    assert res.apa().startswith("A multilevel meta-analysis (REML) of k = 100 effect sizes from 17 study units")
    one = fit(("assink2016", "che_REML_z"))
    assert "prediction interval" in one.apa() and isinstance(one.estimate, float)
    assert one.pi_low < one.ci_low < one.estimate < one.ci_high < one.pi_high
    t = fit(("lopez2019", "che_treatment_REML_t"))
    assert "F(df1 = 2, df2 = " in t.summary() and "tval" in t.summary()
    assert isinstance(res, MVResult) and res.n_obs == 100 and res.n_studies == 17


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000), st.floats(-5, 5), st.sampled_from([1e-3, 0.5, 30.0]))
def test_shift_scale_and_order(seed, shift, scale):
    """Shifting y shifts the intercept; scaling y by c and V by c^2 scales beta by c and sigma^2 by c^2;
    permuting rows changes nothing."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(9), 3)
    v = rng.uniform(0.01, 0.05, g.size)
    y = rng.normal(0.3, 0.3, 9)[g] + rng.normal(0, 0.2, g.size) + rng.normal(0, np.sqrt(v))
    es = np.tile([1, 2, 3], 9)
    V = vcalc(v, g, obs=es, rho=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        base = rma_mv(y, V, random=[g, es])
        shifted = rma_mv(y + shift, V, random=[g, es])
        scaled = rma_mv(scale * y, scale**2 * V, random=[g, es])
        perm = rng.permutation(g.size)
        permuted = rma_mv(y[perm], V[np.ix_(perm, perm)], random=[g[perm], es[perm]])
    close(shifted.beta, base.beta + shift, rtol=1e-7, atol=1e-9)
    close(shifted.sigma2, base.sigma2, rtol=1e-6, atol=1e-10)
    close(scaled.beta, scale * base.beta, rtol=1e-6, atol=1e-12 * scale)
    close(scaled.sigma2, scale**2 * base.sigma2, rtol=1e-5, atol=1e-10 * scale**2)
    close(permuted.beta, base.beta, rtol=1e-8, atol=1e-12)
    close(permuted.sigma2, base.sigma2, rtol=1e-6, atol=1e-10)
