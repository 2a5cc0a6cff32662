"""Tests of analysis.meta_multilevel against metafor 3.8.1 rma.mv (tests/oracles/meta.R).

Tolerance: relative error <= 1e-6 on estimates, SEs, CIs, variance components, Q,
QM, I^2 decomposition and the REML log-likelihood; 1e-6 on the profile-likelihood
CIs where metafor finds them (it fails on some bounds: those are null in the fixture).
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

from analysis.meta import meta_analysis
from analysis.meta_multilevel import three_level

MV = json.loads((Path(__file__).parent / "fixtures" / "meta_mv.json").read_text())
DATA = pd.DataFrame(MV["data"])


def close(ours, ref, rtol=1e-6, atol=0.0):
    np.testing.assert_allclose(np.atleast_1d(np.asarray(ours, float)), np.atleast_1d(np.asarray(ref, float)),
                               rtol=rtol, atol=atol)


@pytest.mark.parametrize("key", list(MV["fits"]))
def test_three_level_matches_rma_mv(key):
    ref = MV["fits"][key]
    test = key.split("_")[-1]
    mods = "~ year_c" if key.startswith("year") else None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no convergence or boundary warning on this data
        res = three_level("yi", "vi", "district", es_id="school", data=DATA, mods=mods, test=test)
    for ours, theirs in [("estimate", "estimate"), ("se", "se"), ("statistic", "statistic"), ("pvalue", "pvalue"),
                         ("ci_low", "ci_low"), ("ci_high", "ci_high"), ("sigma2", "sigma2"), ("q", "qe"),
                         ("i2_levels", "i2_levels"), ("i2_total", "i2_total"), ("loglik", "loglik_reml")]:
        close(getattr(res, ours), ref[theirs])
    assert res.q_df == ref["qe_df"] and res.n_clusters == 11 and res.converged
    if mods:
        close([res.qm, res.qm_pvalue], [ref["qm"], ref["qm_pvalue"]])
    for comp in (0, 1):
        lo, hi = res.profile_ci(comp)
        for ours, theirs in [(lo, ref["sigma2_ci_low"][comp]), (hi, ref["sigma2_ci_high"][comp])]:
            if theirs is not None:
                close(ours, theirs)
        assert lo < res.sigma2[comp] < hi
    s = res.summary()
    assert "Multivariate Meta-Analysis Model (k = 56; method: REML)" in s and "sigma^2.1" in s
    assert "three-level meta-analysis of k = 56 effect sizes from 11 studies" in res.apa()


def test_bad_input():
    y, v = [0.1, 0.2, 0.3, 0.4], [0.01] * 4
    with pytest.raises(ValueError, match="cluster.*3 entries"):
        three_level(y, v, [1, 1, 2])
    with pytest.raises(ValueError, match="one effect size"):
        three_level(y, v, [1, 2, 3, 4])
    with pytest.raises(ValueError, match="at least 2"):
        three_level(y, v, [1, 1, 1, 1])
    with pytest.raises(ValueError, match="es_id.*unique"):
        three_level(y, v, [1, 1, 2, 2], es_id=[1, 1, 1, 2])
    with pytest.raises(ValueError, match="vi"):
        three_level(y, [0.01, 0.0, 0.01, 0.01], [1, 1, 2, 2])
    with pytest.raises(ValueError, match="test"):
        three_level(y, v, [1, 1, 2, 2], test="knha")


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.floats(-3, 3))
def test_shift_and_order_invariance(seed, c):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(8), 3)
    v = rng.uniform(0.01, 0.05, g.size)
    y = rng.normal(0.3, 0.2, 8)[g] + rng.normal(0, 0.1, g.size) + rng.normal(0, np.sqrt(v))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        a = three_level(y, v, g)
        b = three_level(y + c, v, g)
        perm = rng.permutation(g.size)
        d = three_level(y[perm], v[perm], g[perm])
    close(b.estimate, a.estimate + c, rtol=1e-6, atol=1e-6)
    close(b.sigma2, a.sigma2, rtol=1e-4, atol=1e-7)
    close(d.sigma2, a.sigma2, rtol=1e-4, atol=1e-7)
    assert (a.sigma2 >= 0).all() and a.i2_total <= 100


def test_zero_within_variance_reduces_to_univariate_on_cluster_means_limit():
    # one effect per cluster but two clusters duplicated exactly: sanity that sigma2 sum ~ univariate tau^2
    rng = np.random.default_rng(1)
    g = np.repeat(np.arange(10), 4)
    v = np.full(g.size, 0.02)
    y = rng.normal(0, 0.4, 10)[g] + rng.normal(0, np.sqrt(v))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = three_level(y, v, g)
    uni = meta_analysis(y, v)
    assert res.sigma2[0] > res.sigma2[1]
    assert res.se > uni.se  # ignoring the nesting understates the uncertainty


def test_docstring_examples_run():
    import doctest

    import analysis.meta_multilevel as mod

    assert doctest.testmod(mod).failed == 0
