"""The measures added in issue 14 (SMDH, ROM, RPB, PR, PLO, UCOR, PCOR, ZPCOR, SPCOR) against
metafor::escalc (tests/fixtures/escalc_more.json, written by ``Rscript tests/oracles/escalc_more.R``
with metafor 3.8.1), plus properties.

Oracle tolerance everywhere: rtol = 1e-10 and atol = 1e-10 (numpy.testing.assert_allclose),
stated again in each test.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import effect_sizes as es
from analysis.effect_sizes import (
    EffectSizes,
    compute_effect_sizes,
    log_ratio_of_means,
    logit_proportion,
    partial_correlation,
    partial_correlation_z,
    point_biserial_correlation,
    proportion,
    semipartial_correlation,
    smd_heteroscedastic,
    unbiased_correlation,
)

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "escalc_more.json").read_text())
CASES = {c["name"]: c for c in FIXTURE["cases"]}
RTOL = ATOL = 1e-10
NEW = ("SMDH", "ROM", "RPB", "PR", "PLO", "UCOR", "PCOR", "ZPCOR", "SPCOR")

FUNCTIONS = {
    "SMDH": smd_heteroscedastic,
    "ROM": log_ratio_of_means,
    "RPB": point_biserial_correlation,
    "PR": proportion,
    "PLO": logit_proportion,
    "UCOR": unbiased_correlation,
    "PCOR": partial_correlation,
    "ZPCOR": partial_correlation_z,
    "SPCOR": semipartial_correlation,
}


def close(actual, expected, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(np.asarray(actual, dtype=float), np.asarray(expected, dtype=float),
                               rtol=rtol, atol=atol)


def _options(case):
    return dict(case["options"]) if case["options"] else {}


def _inputs(case):
    return {k: np.array(v, dtype=float) for k, v in case["inputs"].items()}


def test_fixture_covers_every_new_measure():
    assert FIXTURE["versions"]["metafor"] == "3.8.1"
    assert {c["measure"] for c in FIXTURE["cases"]} == set(NEW)
    assert set(NEW) <= set(es.MEASURES)


# cases that compute_effect_sizes can reproduce: metafor's default vtype (it has no vtype argument)
DEFAULT_CASES = [n for n, c in CASES.items() if "vtype" not in _options(c)]


@pytest.mark.parametrize("name", DEFAULT_CASES)
def test_compute_effect_sizes_matches_escalc(name):
    """yi and vi equal metafor::escalc's at rtol = atol = 1e-10."""
    case = CASES[name]
    res = compute_effect_sizes(case["measure"], **_inputs(case), **_options(case))
    assert isinstance(res, EffectSizes) and res.measure == case["measure"]
    close(res.yi, case["yi"])
    close(res.vi, case["vi"])


@pytest.mark.parametrize("name", DEFAULT_CASES)
def test_data_argument_with_column_names_matches_escalc(name):
    """Column names of `data` work like escalc's data= (rtol = atol = 1e-10), index kept."""
    case = CASES[name]
    frame = pd.DataFrame(case["inputs"], index=[f"s{i}" for i in range(len(case["yi"]))])
    frame = frame.rename(columns=lambda c: f"col_{c}")
    res = compute_effect_sizes(case["measure"], data=frame, **{k: f"col_{k}" for k in case["inputs"]},
                               **_options(case))
    assert res.yi.index.equals(frame.index)
    close(res.yi, case["yi"])
    close(res.vi, case["vi"])


@pytest.mark.parametrize("name", list(CASES))
def test_named_functions_match_escalc(name):
    """Each measure's own function (vtype cases included) equals escalc at rtol = atol = 1e-10."""
    case = CASES[name]
    fn = FUNCTIONS[case["measure"]]
    x = _inputs(case)
    opts = _options(case)
    if case["measure"] in ("SMDH", "ROM", "RPB"):
        res = fn(x["m1i"], x["sd1i"], x["n1i"], x["m2i"], x["sd2i"], x["n2i"], **opts)
    elif case["measure"] in ("PR", "PLO"):
        res = fn(x["xi"], x.get("ni"), mi=x.get("mi"), **opts)
    elif case["measure"] == "UCOR":
        res = fn(x["ri"], x["ni"], **opts)
    elif case["measure"] == "SPCOR":
        res = fn(x["ti"], x["ni"], x["mi"], x["r2i"])
    else:
        res = fn(x["ti"], x["ni"], x["mi"])
    assert res.measure == case["measure"]
    close(res.yi, case["yi"])
    close(res.vi, case["vi"])


def test_max_differences_against_metafor_are_tiny():
    """The largest relative difference over all default-vtype cases stays below 1e-10 (it is about
    1e-12, from UCOR's hypergeometric function; the closed forms agree to 1e-15)."""
    worst = 0.0
    for case in CASES.values():
        if "vtype" in _options(case):
            continue
        res = compute_effect_sizes(case["measure"], **_inputs(case), **_options(case))
        for ours, theirs in ((res.yi, case["yi"]), (res.vi, case["vi"])):
            theirs = np.asarray(theirs, float)
            diff = np.abs(np.asarray(ours) - theirs) / np.maximum(np.abs(theirs), 1e-300)
            worst = max(worst, float(diff[theirs != 0].max(initial=0.0)))
    assert worst < 1e-10


# ---------------------------------------------------------------------------------------------
# properties
# ---------------------------------------------------------------------------------------------
SCALES = [1e-300, 1e-150, 1e-3, 1e3, 1e150, 1e300]


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("fn", [smd_heteroscedastic, log_ratio_of_means, point_biserial_correlation])
def test_two_group_measures_are_scale_invariant(fn, scale):
    """Multiplying all means and SDs by one factor (1e-300..1e300) changes nothing (rtol 1e-12)."""
    m1, s1, m2, s2 = np.array([55.0, 27.0]), np.array([47.0, 7.0]), np.array([75.0, 29.0]), np.array([64.0, 4.0])
    n1, n2 = np.array([155, 31]), np.array([156, 32])
    base = fn(m1, s1, n1, m2, s2, n2)
    scaled = fn(m1 * scale, s1 * scale, n1, m2 * scale, s2 * scale, n2)
    close(scaled.yi, base.yi, rtol=1e-12, atol=1e-15)
    close(scaled.vi, base.vi, rtol=1e-12, atol=1e-15)


@given(x=st.integers(1, 199), extra=st.integers(1, 200))
@settings(max_examples=40)
def test_logit_is_the_logit_of_the_proportion(x, extra):
    """Without zero counts PLO = logit(PR) and v_PLO = 1 / (n p (1 - p)) (delta method), 1e-12."""
    n = x + extra
    pr, plo = proportion(x, n), logit_proportion(x, n)
    p = pr.yi[0]
    close(plo.yi, np.log(p / (1 - p)), rtol=1e-12, atol=1e-12)
    close(plo.vi, 1 / (n * p * (1 - p)), rtol=1e-12, atol=1e-12)
    close(pr.vi, p * (1 - p) / n, rtol=1e-12, atol=1e-15)


@given(r=st.floats(-0.95, 0.95), n=st.integers(5, 5000))
@settings(max_examples=40)
def test_unbiased_correlation_moves_r_away_from_zero_by_the_olkin_pratt_amount(r, n):
    """|UCOR| >= |r| and it is within 1e-3 of r (1 + (1 - r^2) / (2 (n - 3))) (Olkin & Pratt's
    approximation) for n >= 50."""
    y = float(unbiased_correlation(r, n).yi[0])
    assert abs(y) >= abs(r) - 1e-15
    assert np.sign(y) == np.sign(r) or r == 0
    if n >= 50:
        assert abs(y - r * (1 + (1 - r**2) / (2 * (n - 3)))) < 1e-3


def test_partial_and_semipartial_correlations_equal_those_of_a_fitted_regression():
    """From an OLS fit's t, n, number of predictors and R^2 the functions return the partial and
    semi-partial correlations computed from residuals (rtol = 1e-10)."""
    rng = np.random.default_rng(20240514)
    n = 120
    x1, x2, x3 = rng.normal(size=(3, n))
    y = 0.4 * x1 + 0.3 * x2 - 0.2 * x3 + rng.normal(size=n)
    X = np.column_stack([np.ones(n), x1, x2, x3])
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    df = n - 4
    s2 = resid @ resid / df
    se = np.sqrt(s2 * np.linalg.inv(X.T @ X)[1, 1])
    t = beta[1] / se
    r2 = 1 - resid @ resid / np.sum((y - y.mean()) ** 2)
    others = np.column_stack([np.ones(n), x2, x3])
    ry = y - others @ np.linalg.lstsq(others, y, rcond=None)[0]
    rx = x1 - others @ np.linalg.lstsq(others, x1, rcond=None)[0]
    pcor = np.corrcoef(ry, rx)[0, 1]
    spcor = np.corrcoef(y, rx)[0, 1]
    close(partial_correlation(t, n, 3).yi, [pcor])
    close(partial_correlation_z(t, n, 3).yi, [np.arctanh(pcor)])
    close(semipartial_correlation(t, n, 3, r2).yi, [spcor])


def test_rpb_equals_the_pearson_correlation_with_the_group_dummy():
    """For raw data, RPB from group means/SDs is the Pearson r of outcome and group (1e-10)."""
    rng = np.random.default_rng(7)
    a, b = rng.normal(1.0, 2.0, 23), rng.normal(0.0, 1.5, 31)
    r = np.corrcoef(np.r_[a, b], np.r_[np.ones(23), np.zeros(31)])[0, 1]
    res = point_biserial_correlation(a.mean(), a.std(ddof=1), 23, b.mean(), b.std(ddof=1), 31)
    close(res.yi, [r])


def test_series_in_series_out_and_scalars():
    s = pd.Series([16, 10], index=["a", "b"])
    res = proportion(s, pd.Series([17, 12], index=["a", "b"]))
    assert list(res.yi.index) == ["a", "b"]
    assert isinstance(unbiased_correlation(0.3, 50).yi, np.ndarray)
