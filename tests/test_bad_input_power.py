"""Bad input to analysis.power: every public function refuses it with a ValueError naming the argument.

Also the numerically extreme but valid inputs: the analytic power formulas work on the log
scale, so huge or tiny sample sizes and design effects give a power in [0, 1] (never NaN,
never an overflow warning), and the result depends on ``n_total`` and ``design_effect``
only through their ratio (checked with hypothesis to a relative 1e-9).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from analysis import power

SMALL = {"n_therapists": 6, "caseload": 2, "n_sessions": 4}


# --------------------------------------------------------------------------- design_effect
@pytest.mark.parametrize("caseload, icc, match", [
    ([], 0.1, "`caseload` is empty"),
    (5, [], "`icc` is empty"),
    (None, 0.1, "`caseload` is required"),
    ("5", 0.1, "`caseload` must be numeric"),
    ({"m": 5}, 0.1, "`caseload` must be numeric"),
    (5, True, "`icc` must be numeric, got booleans"),
    (np.nan, 0.1, "`caseload` has missing or infinite values at position 0"),
    (np.inf, 0.1, "`caseload` has missing or infinite values"),
    (5, np.nan, "`icc` has missing or infinite values"),
    (0.5, 0.1, "`caseload` must be >= 1; position 0 has"),
    (-3, 0.1, "`caseload` must be positive"),
    (5, -0.1, r"`icc` must lie in \[0, 1\)"),
    (5, 1.0, r"`icc` must lie in \[0, 1\)"),
    ([5, 6], [0.1, 0.2, 0.3], "mismatched lengths: `caseload` has 2, `icc` has 3"),
    ([[5, 6]], 0.1, "`caseload` must be one-dimensional"),
    ([5, 0, 6], 0.1, "`caseload` must be positive .* position 1"),
])
def test_design_effect_refuses(caseload, icc, match):
    with pytest.raises(ValueError, match=match):
        power.design_effect(caseload, icc)


# --------------------------------------------------------------------------- power_two_arm
@pytest.mark.parametrize("kwargs, match", [
    (dict(effect_size=[]), "`effect_size` is empty"),
    (dict(n_total=[]), "`n_total` is empty"),
    (dict(effect_size=np.nan), "`effect_size` has missing or infinite values"),
    (dict(effect_size=np.inf), "`effect_size` has missing or infinite values"),
    (dict(effect_size="large"), "`effect_size` must be numeric"),
    (dict(effect_size=None), "`effect_size` is required"),
    (dict(n_total=0), r"`n_total` must be positive \(> 0\)"),
    (dict(n_total=-10), r"`n_total` must be positive"),
    (dict(n_total=np.inf), "`n_total` has missing or infinite values"),
    (dict(n_total=[100, np.nan]), "`n_total` has missing or infinite values at position 1"),
    (dict(design_effect=0), "`design_effect` must be positive"),
    (dict(design_effect=-1.5), "`design_effect` must be positive"),
    (dict(design_effect=np.nan), "`design_effect` has missing"),
    (dict(alpha=0), "`alpha` must lie strictly between 0.0 and 1.0"),
    (dict(alpha=1), "`alpha` must lie strictly between"),
    (dict(alpha=1.5), "`alpha` must lie strictly between"),
    (dict(alpha=-0.05), "`alpha` must lie strictly between"),
    (dict(alpha=np.nan), "`alpha` has missing"),
    (dict(alpha="0.05"), "`alpha` must be numeric"),
    (dict(alpha=[0.05, 0.01]), "`alpha` must be a single number"),
    (dict(allocation=0.0), "`allocation` must lie strictly between"),
    (dict(allocation=1.0), "`allocation` must lie strictly between"),
    (dict(allocation=None), "`allocation` is required"),
    (dict(df=0), "`df` must be >= 1"),
    (dict(df=0.5), "`df` must be >= 1"),
    (dict(df=-3), "`df` must be >= 1"),
    (dict(df=np.inf), "`df` has missing or infinite values"),
    (dict(df=[]), "`df` is empty"),
    (dict(effect_size=[0.2, 0.5], n_total=[100, 200, 300]), "mismatched lengths"),
    (dict(n_total=[100, 200], df=[10, 20, 30]), "mismatched lengths: .*`df` has 3"),
])
def test_power_two_arm_refuses(kwargs, match):
    args = dict(effect_size=0.5, n_total=100)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        power.power_two_arm(**args)


def test_power_two_arm_never_returns_nan_where_scipy_nct_does():
    # scipy's noncentral t returns NaN in the far lower tail (nct.cdf(-3.17, 10, 10) is nan);
    # the power there is finite: lambda = 1 * sqrt(0.25 * 400) = 10, df = 10, alpha = .01
    with np.errstate(invalid="ignore"):
        assert math.isnan(stats.nct.cdf(-stats.t.ppf(0.995, 10), 10, 10.0))
    upper = stats.nct.sf(stats.t.ppf(0.995, 10), 10, 10.0)  # the lower tail is below Phi(-10)
    assert power.power_two_arm(1.0, 400, df=10, alpha=0.01) == pytest.approx(upper, abs=1e-12)
    # the fallback (quadrature) agrees with scipy where scipy works: a smooth curve through
    # the switch; statsmodels' TTestIndPower (nct) as the independent reference
    from statsmodels.stats.power import TTestIndPower

    for d in (0.5, 1.0, 1.5):
        ref = TTestIndPower().power(effect_size=d, nobs1=6, alpha=0.05, ratio=1.0)
        assert power.power_two_arm(d, 12, df=10) == pytest.approx(ref, abs=1e-10)
    for alpha, df in ((1e-10, 10), (0.05, 2), (1e-10, 100)):
        curve = power.power_two_arm(np.linspace(0.0, 60.0, 121), 4.0, df=df, alpha=alpha)
        assert np.isfinite(curve).all() and (curve >= 0).all() and (curve <= 1).all()
        assert np.all(np.diff(curve) >= -1e-9), (alpha, df)


@pytest.mark.parametrize("c, df, lam", [(2.0, 10.0, 1.0), (2.2, 4.0, 3.0), (3.0, 30.0, 2.5), (12.9, 1.0, 0.5),
                                         (1.97, 500.0, 4.0)])
def test_nct_quadrature_matches_scipy_where_scipy_is_finite(c, df, lam):
    # the fallback used where scipy's nct gives NaN, checked where scipy is reliable
    scipy_value = stats.nct.sf(c, df, lam) + stats.nct.cdf(-c, df, lam)
    assert power._nct_power_quad(c, df, lam) == pytest.approx(scipy_value, abs=1e-10)


@given(st.floats(1e-280, 1e280), st.floats(1e-12, 1e12))
def test_power_two_arm_depends_on_n_and_de_only_through_their_ratio(scale, n_eff):
    # multiplying N and DE by the same factor (1e-280 .. 1e280) leaves the power unchanged
    base = power.power_two_arm(0.3, n_eff)
    scaled = power.power_two_arm(0.3, n_eff * scale, design_effect=scale)
    assert 0.0 <= scaled <= 1.0
    assert scaled == pytest.approx(base, rel=1e-9, abs=1e-300)


@given(st.floats(-1e300, 1e300), st.floats(1e-300, 1e300), st.floats(1e-300, 1e300))
def test_power_two_arm_is_a_probability_at_extreme_magnitudes(d, n, de):
    for df in (None, 3.0):
        p = power.power_two_arm(d, n, design_effect=de, df=df)
        assert 0.0 <= p <= 1.0 and math.isfinite(p)


# --------------------------------------------------------------------------- naive_rejection_rate
@pytest.mark.parametrize("args, kwargs, match", [
    ((0.0, 100, 0.5), {}, r"`design_effect` must be >= 1 \(1 \+ \(m - 1\) ICC\)"),
    ((0.0, 100, 0.0), {}, "`design_effect` must be positive"),
    ((0.0, 100, np.nan), {}, "`design_effect` has missing"),
    ((0.0, [], 2.0), {}, "`n_total` is empty"),
    ((np.nan, 100, 2.0), {}, "`effect_size` has missing or infinite values"),
    ((0.0, -5, 2.0), {}, "`n_total` must be positive"),
    ((0.0, 100, 2.0), dict(alpha=1.0), "`alpha` must lie strictly between"),
    ((0.0, 100, 2.0), dict(allocation=1.2), "`allocation` must lie strictly between"),
    ((0.0, 100, [1.5, 2.0, 2.5]), dict(allocation=[0.3, 0.5]), "mismatched lengths"),
    (("none", 100, 2.0), {}, "`effect_size` must be numeric"),
])
def test_naive_rejection_rate_refuses(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        power.naive_rejection_rate(*args, **kwargs)


@given(st.floats(-1e300, 1e300), st.floats(1e-300, 1e300), st.floats(1.0, 1e300))
def test_naive_rejection_rate_is_a_probability_at_extreme_magnitudes(d, n, de):
    p = power.naive_rejection_rate(d, n, de)
    assert 0.0 <= p <= 1.0 and math.isfinite(p)


# --------------------------------------------------------------------------- power_correlation
@pytest.mark.parametrize("args, kwargs, match", [
    ((1.0, 100), {}, "`r` must lie strictly between -1.0 and 1.0"),
    ((-1.0, 100), {}, "`r` must lie strictly between"),
    ((np.nan, 100), {}, "`r` has missing or infinite values"),
    (([], 100), {}, "`r` is empty"),
    (("a", 100), {}, "`r` must be numeric"),
    ((0.3, 3), {}, "`n` / `design_effect` must exceed 3"),
    ((0.3, -10), {}, "`n` / `design_effect` must exceed 3"),
    ((0.3, 100), dict(design_effect=40), "`n` / `design_effect` must exceed 3"),
    ((0.3, np.inf), {}, "`n` has missing or infinite values"),
    ((0.3, np.nan), {}, "`n` has missing or infinite values"),
    ((0.3, 100), dict(design_effect=0), "`design_effect` must be positive"),
    ((0.3, 100), dict(design_effect=0.9), "`design_effect` must be >= 1"),
    ((0.3, 100), dict(alpha=0), "`alpha` must lie strictly between"),
    ((0.3, 100), dict(alpha=None), "`alpha` is required"),
    (([0.1, 0.2], [10, 20, 30]), {}, "mismatched lengths: `r` has 2, `n` has 3"),
])
def test_power_correlation_refuses(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        power.power_correlation(*args, **kwargs)


# --------------------------------------------------------------------------- mc_se
@pytest.mark.parametrize("p, n_replicates, match", [
    (0.5, 0, "`n_replicates` must be positive"),
    (0.5, -1, "`n_replicates` must be positive"),
    (0.5, 10.5, "`n_replicates` must hold whole numbers"),
    (0.5, np.inf, "`n_replicates` has missing or infinite values"),
    (1.5, 100, r"`p` must lie in \[0, 1\]"),
    (-0.1, 100, r"`p` must lie in \[0, 1\]"),
    (np.nan, 100, r"`p` must lie in \[0, 1\]"),
    ([], 100, "`p` is empty"),
    (0.5, [], "`n_replicates` is empty"),
    (None, 100, "`p` is required"),
    ([0.5, 0.1], [10, 20, 30], "mismatched lengths"),
])
def test_mc_se_refuses(p, n_replicates, match):
    with pytest.raises(ValueError, match=match):
        power.mc_se(p, n_replicates)


# --------------------------------------------------------------------------- simulate_power
@pytest.mark.parametrize("kwargs, match", [
    (dict(design=None), "`design` must be a dict"),
    (dict(design={"n_therapist": 10}), "`design` has unknown key 'n_therapist'. Did you mean 'n_therapists'?"),
    (dict(design={"therapist_ICC": 0.1}), "Did you mean 'therapist_icc'?"),
    (dict(grid={"casload": [2, 3]}), "`grid` has unknown key 'casload'. Did you mean 'caseload'?"),
    (dict(design={"therapist_icc": np.inf}), "design cell 0 .*`therapist_icc` must be finite"),
    (dict(grid={"therapist_icc": [0.1, np.nan]}), "design cell 1 .*`therapist_icc` must be finite"),
    (dict(grid={"therapist_icc": []}), r"`grid\['therapist_icc'\]` must be a non-empty list"),
    (dict(grid={"therapist_icc": "0.1"}), r"`grid\['therapist_icc'\]` must be a non-empty list"),
    (dict(grid=[("therapist_icc", [0.1])]), "`grid` must be a dict"),
    (dict(design={"caseload": 1e300}), "`caseload` = 1e\\+300 is outside the scale"),
    (dict(design={"n_therapists": 10**9}), "rows; at most 50,000,000"),
    (dict(analysis="treatment ols"), "`analysis` 'treatment ols' is unknown. Did you mean 'treatment_ols'?"),
    (dict(analysis=["treatment_ols", None]), "`analysis` None is unknown"),
    (dict(analysis=None), "`analysis` must be a name or a non-empty list"),
    (dict(analysis=3), "`analysis` must be a name or a non-empty list"),
    (dict(n_replicates=0), "`n_replicates` must be a whole number >= 1"),
    (dict(n_replicates=-5), "`n_replicates` must be a whole number >= 1"),
    (dict(n_replicates=None), "`n_replicates` must be a whole number >= 1"),
    (dict(n_replicates=True), "`n_replicates` must be a whole number >= 1"),
    (dict(n_replicates=np.int64(0)), "`n_replicates` must be a whole number >= 1"),
    (dict(seed=True), "`seed` must be a non-negative int"),
    (dict(seed=1.5), "`seed` must be a non-negative int"),
    (dict(seed=np.random.SeedSequence(1).spawn(1)[0]), "`seed` must be a root SeedSequence"),
    (dict(alpha=np.nan), "`alpha` has missing"),
    (dict(alpha=1.0), "`alpha` must lie strictly between"),
    (dict(alpha="0.05"), "`alpha` must be numeric"),
    (dict(reference=None), "`reference` must be one of 't', 'normal'"),
    (dict(n_jobs=-2), "`n_jobs` must be a whole number >= 1 or -1"),
    (dict(n_jobs=1.5), "`n_jobs` must be a whole number >= 1 or -1"),
    (dict(chunk_size=-1), "`chunk_size` must be a whole number >= 1"),
    (dict(chunk_size=2.0), "`chunk_size` must be a whole number >= 1"),
    (dict(progress="yes"), "`progress` must be True or False"),
    (dict(progress=None), "`progress` must be True or False"),
    (dict(batched="yes"), "`batched` must be True or False"),
    (dict(batched=None), "`batched` must be True or False"),
    (dict(mp_context="telepathy"), "`mp_context` 'telepathy' is not a start method"),
    (dict(mp_context=42), "`mp_context` must be a multiprocessing context"),
    (dict(client=42), "`client` must be a dask.distributed.Client"),
    (dict(design={"arms": None}), "`arms` must be one of 'crossed', 'nested'"),
    (dict(grid={"arms": ["crossed", "mixed"]}), "`arms` must be one of"),
    (dict(design={"arms": "nested", "n_therapists": 2, "allocation": 0.1}), "needs therapists in both arms"),
])
def test_simulate_power_refuses(kwargs, match):
    args = dict(design=SMALL, analysis="treatment_ols", n_replicates=2, seed=1, progress=False)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        power.simulate_power(**args)


def test_simulate_power_warns_when_every_fit_fails():
    # one patient per therapist: the between/within split is impossible in every replicate
    with pytest.warns(UserWarning, match="3 fits failed and are excluded from the rates"):
        res = power.simulate_power({"n_therapists": 5, "caseload": 1, "n_sessions": 4}, "alliance_within", 3,
                                   seed=2, progress=False)
    assert res.table["n_failed"].iloc[0] == 3
