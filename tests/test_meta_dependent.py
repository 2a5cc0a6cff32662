"""Tests of analysis.meta_dependent (vcalc, aggregate) against metafor 3.8.1 (tests/oracles/meta_dependent.R).

Tolerance: 1e-12 absolute on every matrix entry and aggregated yi/vi (closed-form computations).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.meta_dependent import aggregate, vcalc
from tests._dependent_fixture import ASSINK, FIX, LOPEZ, V_ASSINK, dense

VDAT = pd.DataFrame(FIX["vcalc"]["data"])
VCALC_ARGS = {
    "obs": dict(obs="obs", rho=0.6),
    "type_obs": dict(type="type", obs="obs", rho=[0.5, 0.3]),
    "type": dict(type="type", rho=0.4),
    "obs_time": dict(obs="obs", rho=0.4, time1="time", phi=0.8),
    "time": dict(time1="time", phi=0.7),
    "grp": dict(grp1="grp1", grp2="grp2", w1="w1", w2="w2"),
    "subgroup": dict(subgroup="sub", obs="obs", rho=0.6),
}
AGG_ARGS = {
    "cs": dict(rho=0.6),
    "id": dict(struct="ID"),
    "car": dict(struct="CAR", time="time", phi=0.8),
    "cs_car": dict(struct="CS+CAR", time="time", rho=0.3, phi=0.8),
    "cs_unweighted": dict(rho=0.6, weighted=False),
}


@pytest.mark.parametrize("case", list(VCALC_ARGS))
def test_vcalc_matches_metafor(case):
    ref = dense(FIX["vcalc"]["cases"][case]["V"], len(VDAT))
    if case == "type":  # same construct, same (default) observation: correlation 1, as metafor warns
        with pytest.warns(UserWarning, match="not positive definite in clusters a, b, d"):
            V = vcalc("vi", "cluster", data=VDAT, **VCALC_ARGS[case])
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            V = vcalc("vi", "cluster", data=VDAT, **VCALC_ARGS[case])
    np.testing.assert_allclose(V, ref, rtol=0, atol=1e-12)
    Vs = vcalc("vi", "cluster", data=VDAT, sparse=True, checkpd=False, **VCALC_ARGS[case])
    np.testing.assert_allclose(Vs.toarray(), ref, rtol=0, atol=1e-12)


def test_vcalc_datasets():
    np.testing.assert_allclose(vcalc("vi", "study", obs="esid", rho=0.6, data=ASSINK), V_ASSINK, atol=1e-12, rtol=0)
    ref = dense(FIX["lopez2019"]["V_grp"], len(LOPEZ))
    V = vcalc("vi", "study", grp1="arm", grp2="control_arm", w1="n_t", w2="n_c", data=LOPEZ)
    np.testing.assert_allclose(V, ref, atol=1e-12, rtol=0)
    # equal group sizes: contrasts sharing a control correlate 1/2
    V2 = vcalc([1.0, 1.0], [1, 1], grp1=["a", "b"], grp2=["c", "c"], w1=[10, 10], w2=[10, 10])
    assert V2[0, 1] == pytest.approx(0.5, abs=1e-15)


@pytest.mark.parametrize("case", list(AGG_ARGS))
def test_aggregate_matches_metafor(case):
    ref = FIX["aggregate"][case]["out"]
    out = aggregate("yi", "vi", "cluster", data=VDAT, **AGG_ARGS[case])
    assert list(out.columns) == ["cluster", "yi", "vi", "n_effects"]
    assert list(out["cluster"]) == ref["cluster"]
    np.testing.assert_allclose(out["yi"], ref["yi"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(out["vi"], ref["vi"], rtol=0, atol=1e-12)


def test_aggregate_assink_and_full_v():
    ref = FIX["assink2016"]["aggregate_rho06"]
    out = aggregate("yi", "vi", "study", data=ASSINK, rho=0.6)
    np.testing.assert_allclose(out["yi"], ref["yi"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(out["vi"], ref["vi"], rtol=0, atol=1e-12)
    assert out["n_effects"].sum() == len(ASSINK)
    same = aggregate("yi", "vi", "study", data=ASSINK, V=V_ASSINK)
    np.testing.assert_allclose(same[["yi", "vi"]], out[["yi", "vi"]], rtol=1e-12, atol=0)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 10_000), st.floats(-0.3, 0.9), st.sampled_from([1e-6, 1.0, 1e4]))
def test_aggregate_properties(seed, rho, scale):
    """The composite's variance scales with V (and its mean does not move), struct="ID" is inverse-variance
    weighting, and equal variances under compound symmetry give the plain mean (rho > -1/3 keeps the
    blocks of up to 4 effects positive definite)."""
    rng = np.random.default_rng(seed)
    g = np.repeat([1, 2, 3], [3, 1, 4])
    v = scale * rng.uniform(0.5, 2, g.size)
    y = rng.normal(size=g.size)
    out = aggregate(y, v, g, rho=rho)
    out0 = aggregate(y, v / scale, g, rho=rho)
    np.testing.assert_allclose(out["vi"], scale * out0["vi"], rtol=1e-10)
    np.testing.assert_allclose(out["yi"], out0["yi"], rtol=1e-10, atol=1e-12)
    iv = aggregate(y, v, g, struct="ID")
    w = 1 / v
    expect = [np.sum(w[g == c] * y[g == c]) / np.sum(w[g == c]) for c in (1, 2, 3)]
    np.testing.assert_allclose(iv["yi"], expect, rtol=1e-10)
    eq = aggregate(y, np.ones(g.size), g, rho=rho)
    np.testing.assert_allclose(eq["yi"], [y[g == c].mean() for c in (1, 2, 3)], rtol=1e-9, atol=1e-12)
