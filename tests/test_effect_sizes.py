"""Effect sizes against metafor::escalc (tests/fixtures/escalc.json), properties and errors.

Oracle tolerance everywhere: rtol = 1e-10 and atol = 1e-10 (numpy.testing.assert_allclose),
stated again in each test. The fixture is written by ``Rscript tests/oracles/escalc.R``.
"""

from __future__ import annotations

import doctest
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import effect_sizes as es
from analysis.effect_sizes import (
    EffectSizes,
    cohens_d,
    compute_effect_sizes,
    convert_effect_sizes,
    correct_for_attenuation,
    d_to_log_odds_ratio,
    d_to_r,
    fisher_z,
    g_to_d,
    hedges_correction,
    hedges_g,
    log_odds_ratio,
    log_odds_ratio_to_d,
    log_risk_ratio,
    r_from_z,
    r_to_d,
    risk_difference,
    smd_from_t,
    var_fisher_z,
    var_r,
    var_smd,
)

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "escalc.json").read_text())
CASES = {c["name"]: c for c in FIXTURE["cases"]}
RTOL = ATOL = 1e-10


def close(actual, expected, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(np.asarray(actual, dtype=float), np.asarray(expected, dtype=float),
                               rtol=rtol, atol=atol)


def _options(case):
    return dict(case["options"]) if case["options"] else {}


# ---------------------------------------------------------------------------------------------
# metafor oracles
# ---------------------------------------------------------------------------------------------
ESCALC_CASES = [n for n, c in CASES.items() if c["measure"] in es.MEASURES]


@pytest.mark.parametrize("name", ESCALC_CASES)
def test_compute_effect_sizes_matches_escalc(name):
    """yi and vi equal metafor::escalc's at rtol = atol = 1e-10."""
    case = CASES[name]
    inputs = {k: np.array(v, dtype=float) for k, v in case["inputs"].items()}
    res = compute_effect_sizes(case["measure"], **inputs, **_options(case))
    assert isinstance(res, EffectSizes) and res.measure == case["measure"]
    close(res.yi, case["yi"])
    close(res.vi, case["vi"])


@pytest.mark.parametrize("name", ESCALC_CASES)
def test_data_argument_with_column_names_matches_escalc(name):
    """Column names of `data` work like escalc's data= argument (rtol = atol = 1e-10)."""
    case = CASES[name]
    frame = pd.DataFrame(case["inputs"], index=[f"study{i}" for i in range(len(case["yi"]))])
    frame = frame.rename(columns=lambda c: f"col_{c}")
    res = compute_effect_sizes(case["measure"], data=frame,
                               **{k: f"col_{k}" for k in case["inputs"]}, **_options(case))
    assert isinstance(res.yi, pd.Series) and res.yi.index.equals(frame.index)
    out = res.to_frame()
    assert list(out.columns) == ["yi", "vi"] and out.index.equals(frame.index)
    close(out["yi"], case["yi"])
    close(out["vi"], case["vi"])


@pytest.mark.parametrize("measure, fn", [("OR", log_odds_ratio), ("RR", log_risk_ratio),
                                         ("RD", risk_difference)])
@pytest.mark.parametrize("dataset", ["bcg", "nielweise", "zero_cells"])
def test_two_by_two_helpers_match_escalc(measure, fn, dataset):
    """The named 2x2 helpers agree with escalc at rtol = atol = 1e-10 (zero cells included)."""
    case = CASES[f"{dataset}_{measure}"]
    inp = {k: np.array(v) for k, v in case["inputs"].items()}
    if "bi" in inp:
        res = fn(inp["ai"], inp["bi"], inp["ci"], inp["di"])
    else:
        res = fn(inp["ai"], ci=inp["ci"], n1i=inp["n1i"], n2i=inp["n2i"])
    close(res.yi, case["yi"])
    close(res.vi, case["vi"])


def test_zero_cell_rule_is_metafors_only0():
    """add=1/2 goes to all four cells of tables with a zero, and only those (exact)."""
    case = CASES["zero_cells_OR"]
    a, b, c, d = (np.array(case["inputs"][k], dtype=float) for k in ("ai", "bi", "ci", "di"))
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    add = np.where(zero, 0.5, 0.0)
    expected = np.log((a + add) * (d + add) / ((b + add) * (c + add)))
    res = log_odds_ratio(a, b, c, d)
    close(res.yi, expected, rtol=1e-12, atol=1e-12)
    # bcg has no zero cells: only0 leaves it alone, to="all" changes every study
    bcg = CASES["bcg_OR"]["inputs"]
    plain = log_odds_ratio(bcg["ai"], bcg["bi"], bcg["ci"], bcg["di"], to="none")
    close(plain.yi, CASES["bcg_OR"]["yi"])
    assert not np.allclose(log_odds_ratio(**{k: bcg[k] for k in ("ai", "bi", "ci", "di")},
                                          to="all").yi, plain.yi)


def test_fisher_z_and_variance_match_escalc_zcor():
    """fisher_z / var_fisher_z equal escalc "ZCOR"; var_r equals "COR" (rtol = atol = 1e-10)."""
    z = CASES["molloy_ZCOR"]
    close(fisher_z(np.array(z["inputs"]["ri"])), z["yi"])
    close(var_fisher_z(np.array(z["inputs"]["ni"])), z["vi"])
    c = CASES["molloy_COR"]
    close(var_r(np.array(c["inputs"]["ri"]), np.array(c["inputs"]["ni"])), c["vi"])


def test_transf_rtoz_ztor_and_exact_hedges_correction():
    """r<->z against metafor's transf.rtoz/ztor and J against metafor:::.cmicalc (1e-10)."""
    conv = FIXTURE["conversions"]
    close(fisher_z(np.array(conv["rtoz"]["r"])), conv["rtoz"]["z"])
    close(r_from_z(np.array(conv["ztor"]["z"])), conv["ztor"]["r"])
    close(hedges_correction(np.array(conv["cmi"]["m"])), conv["cmi"]["J"])


def test_smd_helpers_match_escalc():
    """cohens_d -> hedges_g -> var_smd reproduce escalc "SMD"; smd_from_t its ti= form (1e-10)."""
    case = CASES["normand_SMD"]
    x = {k: np.array(v) for k, v in case["inputs"].items()}
    d = cohens_d(x["m1i"], x["sd1i"], x["n1i"], x["m2i"], x["sd2i"], x["n2i"])
    g = hedges_g(d, x["n1i"], x["n2i"])
    close(g, case["yi"])
    close(var_smd(g, x["n1i"], x["n2i"]), case["vi"])
    close(g_to_d(g, x["n1i"], x["n2i"]), d)
    t = CASES["t_statistics_SMD"]["inputs"]
    close(smd_from_t(np.array(t["ti"]), np.array(t["n1i"]), np.array(t["n2i"])),
          CASES["t_statistics_SMD"]["yi"])


def test_smd_from_cohens_d_argument_matches_means_form():
    """escalc-style di= (Cohen's d) gives the same SMD as means/SDs (rtol = atol = 1e-10)."""
    case = CASES["normand_SMD"]
    x = {k: np.array(v) for k, v in case["inputs"].items()}
    d = cohens_d(x["m1i"], x["sd1i"], x["n1i"], x["m2i"], x["sd2i"], x["n2i"])
    res = compute_effect_sizes("SMD", di=d, n1i=x["n1i"], n2i=x["n2i"])
    close(res.yi, case["yi"])
    close(res.vi, case["vi"])


def test_d_to_log_odds_ratio_matches_escalc_d2orl():
    """d -> logOR (and its variance) equals escalc "D2ORL" (rtol = atol = 1e-10)."""
    case = CASES["normand_D2ORL"]
    x = {k: np.array(v) for k, v in case["inputs"].items()}
    d = cohens_d(x["m1i"], x["sd1i"], x["n1i"], x["m2i"], x["sd2i"], x["n2i"])
    close(d_to_log_odds_ratio(d), case["yi"])
    conv = convert_effect_sizes(d, var_smd(d, x["n1i"], x["n2i"]), source="d", target="logOR")
    close(conv.yi, case["yi"])
    close(conv.vi, case["vi"])


def test_correct_for_attenuation_matches_psych():
    """Spearman's correction equals psych::scoreItems' disattenuated r (rtol = atol = 1e-10)."""
    att = FIXTURE["attenuation"]
    res = correct_for_attenuation(np.array(att["ri"]), np.array(att["rxx"]), np.array(att["ryy"]),
                                  ni=2800)
    close(res.yi, att["corrected"])
    r = np.array(att["ri"])
    close(res.vi, (1 - r**2) ** 2 / 2799 / (np.array(att["rxx"]) * np.array(att["ryy"])),
          rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------------------------
# worked values and conversions (closed forms, tolerance 1e-12)
# ---------------------------------------------------------------------------------------------
def test_borenstein_conversions_closed_forms():
    """Borenstein et al. (2009) ch. 7 formulas, checked at rtol = atol = 1e-12."""
    close(d_to_r(0.5), 0.5 / math.sqrt(4.25), rtol=1e-12, atol=1e-12)
    a = (20 + 80) ** 2 / (20 * 80)
    close(d_to_r(0.5, 20, 80), 0.5 / math.sqrt(0.25 + a), rtol=1e-12, atol=1e-12)
    close(r_to_d(0.3), 0.6 / math.sqrt(0.91), rtol=1e-12, atol=1e-12)
    close(log_odds_ratio_to_d(1.0), math.sqrt(3) / math.pi, rtol=1e-12, atol=1e-12)
    # variances: Borenstein eq. 7.4 and 7.6 (equal groups)
    conv = convert_effect_sizes(0.3, 0.01, source="r", target="d")
    close(conv.vi, 4 * 0.01 / 0.91**3, rtol=1e-12, atol=1e-12)
    back = convert_effect_sizes(0.5, 0.04, source="d", target="r")
    close(back.vi, 16 * 0.04 / (0.25 + 4) ** 3, rtol=1e-12, atol=1e-12)
    z = convert_effect_sizes(0.3, 0.01, source="r", target="z")
    close(z.yi, np.arctanh(0.3), rtol=1e-12, atol=1e-12)
    close(z.vi, 0.01 / 0.91**2, rtol=1e-12, atol=1e-12)


def test_hedges_correction_approximation():
    """J(m) is close to Hedges' 1 - 3/(4m - 1): within rtol 5e-4 at m = 10, 1e-7 at m = 1000."""
    m = np.array([10.0, 30.0, 100.0, 1000.0])
    close(hedges_correction(m), 1 - 3 / (4 * m - 1), rtol=5e-4, atol=0)
    close(hedges_correction(1000.0), 1 - 3 / 3999, rtol=1e-7, atol=0)


@pytest.mark.parametrize("source, target", [(s, t) for s in ("r", "z", "d", "g", "logOR")
                                            for t in ("r", "z", "d", "g", "logOR")])
def test_convert_round_trips_every_pair(source, target):
    """Converting there and back returns yi and vi (rtol = atol = 1e-10)."""
    y = np.array([-0.4, 0.1, 0.35])
    v = np.array([0.02, 0.05, 0.011])
    kw = dict(n1i=np.array([20, 35, 50]), n2i=np.array([25, 30, 70]))
    there = convert_effect_sizes(y, v, source=source, target=target, **kw)
    back = convert_effect_sizes(there.yi, there.vi, source=target, target=source, **kw)
    close(back.yi, y)
    close(back.vi, v)


# ---------------------------------------------------------------------------------------------
# types: pandas in -> pandas out, scalars in -> float out
# ---------------------------------------------------------------------------------------------
def test_pandas_in_pandas_out_keeps_index():
    idx = pd.Index(["a", "b", "c"], name="study")
    r = pd.Series([0.1, 0.2, -0.3], index=idx)
    z = fisher_z(r)
    assert isinstance(z, pd.Series) and z.index.equals(idx)
    res = compute_effect_sizes("COR", ri=r, ni=pd.Series([30, 40, 50], index=idx))
    assert res.yi.index.equals(idx) and res.to_frame().index.equals(idx)
    assert isinstance(fisher_z(0.2), float)
    assert isinstance(fisher_z([0.2, 0.1]), np.ndarray)


def test_series_with_different_indexes_are_refused():
    with pytest.raises(ValueError, match=r"`ni` and `ri` are pandas Series with different indexes"):
        compute_effect_sizes("COR", ri=pd.Series([0.1, 0.2], index=[0, 1]),
                             ni=pd.Series([30, 40], index=[1, 2]))


def test_summary_is_readable():
    res = compute_effect_sizes("ZCOR", ri=[0.3, 0.5], ni=[50, 103])
    text = res.summary()
    assert "ZCOR" in text and "ci_lb (95%)" in text and "k = 2" in text
    close(res.sei, np.sqrt(res.vi), rtol=0, atol=0)


def test_docstring_examples_run():
    """Every docstring example of analysis.effect_sizes runs and prints what it shows."""
    result = doctest.testmod(es, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 25
    assert result.failed == 0


def test_every_public_function_has_formula_reference_and_example():
    for name in es.__all__:
        obj = getattr(es, name)
        if not callable(obj) or isinstance(obj, type):
            continue
        doc = obj.__doc__ or ""
        assert "Examples" in doc and ">>>" in doc, name
        assert "Returns" in doc and "Parameters" in doc, name
        assert any(str(y) in doc for y in range(1900, 2011)), f"{name} cites no reference year"


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("call, pattern", [
    (lambda: fisher_z([0.2, 1.0]), r"`r` must lie strictly between -1 and 1; position 1"),
    (lambda: fisher_z([0.2, -1.5]), r"`r` .* position 1"),
    (lambda: compute_effect_sizes("COR", ri=[0.1, 0.2], ni=[10, 0]),
     r"`ni` must be a positive sample size .*position 1"),
    (lambda: compute_effect_sizes("ZCOR", ri=[0.1, 0.2], ni=[10, 3]),
     r"`ni` must be greater than 3 .*position 1"),
    (lambda: compute_effect_sizes("COR", ri=[0.1, np.nan], ni=[10, 20]),
     r"`ri` has missing or infinite values at position 1"),
    (lambda: compute_effect_sizes("COR", ri=[0.1, "x"], ni=[10, 20]),
     r"`ri` must be numeric; position 1"),
    (lambda: compute_effect_sizes("COR", ri=[0.1, 0.2, 0.3], ni=[10, 20]),
     r"mismatched lengths: `ri` has 3, `ni` has 2"),
    (lambda: compute_effect_sizes("SMD", m1i=[1, 2], sd1i=[1, 0], n1i=[10, 10], m2i=[0, 0],
                                  sd2i=[1, 1], n2i=[10, 10]),
     r"`sd1i` must be a positive standard deviation .*position 1"),
    (lambda: compute_effect_sizes("MD", m1i=[1, 2], sd1i=[1, 1], n1i=[10, 10], m2i=[0, 0],
                                  sd2i=[1, -2], n2i=[10, 10]),
     r"`sd2i` must be a positive standard deviation .*position 1"),
    (lambda: compute_effect_sizes("SMD", m1i=[1], sd1i=[1], n1i=[-5], m2i=[0], sd2i=[1], n2i=[10]),
     r"`n1i` must be a positive sample size .*position 0"),
    (lambda: compute_effect_sizes("OR", ai=[1, -1], bi=[5, 5], ci=[2, 2], di=[5, 5]),
     r"`ai` must be >= 0; position 1"),
    (lambda: compute_effect_sizes("RR", ai=[1, 2.5], bi=[5, 5], ci=[2, 2], di=[5, 5]),
     r"`ai` must hold whole numbers; position 1"),
    (lambda: log_odds_ratio([5, 12], n1i=[10, 10], ci=[1, 1], n2i=[9, 9]),
     r"`ai` exceeds `n1i` .*position 1"),
    (lambda: log_odds_ratio([5], [5], [1], [8], n1i=[11]), r"`n1i` is not `ai` \+ `bi` at position 0"),
    (lambda: log_odds_ratio([0, 3], [0, 4], [1, 1], [8, 8]), r"Group 1 has no participants .*position 0"),
    (lambda: log_odds_ratio([0, 3], [4, 4], [1, 1], [8, 8], to="none"),
     r"log odds ratio is undefined .*position 0"),
    (lambda: log_risk_ratio([0, 3], [4, 4], [1, 1], [8, 8], add=0), r"log risk ratio is undefined .*position 0"),
    (lambda: log_odds_ratio([1], [4], [1], [8], add=-1), r"`add` must be"),
    (lambda: log_odds_ratio([1], [4], [1], [8], to="sometimes"), r"`to` must be one of"),
    (lambda: compute_effect_sizes("SMCR", m1i=[1, 2], m2i=[0, 0], sd1i=[1, 1], ni=[10, 10], ri=[0.5, 1.0]),
     r"`ri` must lie strictly between -1 and 1; position 1"),
    (lambda: compute_effect_sizes("SMCC", m1i=[1], m2i=[0], sd1i=[1], sd2i=[1], ni=[2], ri=[0.5]),
     r"`ni` must be greater than 2 .*position 0"),
    (lambda: compute_effect_sizes("SMD", ti=[2.0], n1i=[2], n2i=[1]), r"`n1i` \+ `n2i` must be greater than 3"),
    (lambda: compute_effect_sizes("XYZ", ri=[0.1], ni=[10]), r"`measure` must be one of"),
    (lambda: compute_effect_sizes("COR", ri=[0.1]), r"measure='COR' needs `ni`"),
    (lambda: compute_effect_sizes("COR", ri=[0.1], ni=[10], n1i=[5]), r"does not use `n1i`"),
    (lambda: compute_effect_sizes("COR", ri="r", ni="n"), r"`ri` is the string 'r'; pass `data=`"),
    (lambda: compute_effect_sizes("COR", ri="r", ni="nn", data=pd.DataFrame({"r": [0.1], "n": [10]})),
     r"`ni`: there is no column 'nn' in `data`"),
    (lambda: compute_effect_sizes("SMD", ti=[1.0], di=[0.2], n1i=[10], n2i=[10]), r"Give `ti` or `di`"),
    (lambda: correct_for_attenuation(0.3, 0.0, 0.8, ni=50), r"`rxx` must be a reliability in \(0, 1\]"),
    (lambda: correct_for_attenuation(0.3, 0.7, 0.8), r"Give the sampling variances `vi` or the sample sizes `ni`"),
    (lambda: d_to_r(0.5, n1i=10), r"Give both `n1i` and `n2i`"),
    (lambda: convert_effect_sizes(0.5, 0.1, source="d", target="g"), r"needs `n1i` and `n2i`"),
    (lambda: convert_effect_sizes(0.5, -0.1, source="d", target="r"), r"`vi` must be a positive variance"),
    (lambda: hedges_correction([5, 1]), r"`m` must be greater than 1 .*position 1"),
])
def test_bad_input_names_argument_and_position(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


def test_bad_value_in_data_names_the_column():
    dat = pd.DataFrame({"r": [0.1, 0.2, 0.3], "n": [30, 0, 50]}, index=["x", "y", "z"])
    with pytest.raises(ValueError, match=r"`ni` must be a positive sample size .*position 1.*"
                                         r"`ni` is column 'n' of `data`"):
        compute_effect_sizes("COR", ri="r", ni="n", data=dat)


def test_scalar_and_array_arguments_alongside_data():
    dat = pd.DataFrame({"r": [0.1, 0.2]}, index=["x", "y"])
    res = compute_effect_sizes("ZCOR", ri="r", ni=53, data=dat)
    assert res.yi.index.tolist() == ["x", "y"]
    close(res.vi, [0.02, 0.02], rtol=1e-12, atol=0)
    with pytest.raises(ValueError, match=r"`ni` has length 3 but `data` has 2 rows"):
        compute_effect_sizes("ZCOR", ri="r", ni=[53, 60, 70], data=dat)


def test_disattenuated_r_above_one_warns():
    with pytest.warns(UserWarning, match="exceed 1"):
        correct_for_attenuation(0.6, 0.5, 0.5, ni=50)


# ---------------------------------------------------------------------------------------------
# properties (hypothesis)
# ---------------------------------------------------------------------------------------------
rs = st.floats(min_value=-0.995, max_value=0.995, allow_nan=False)
ds = st.floats(min_value=-5, max_value=5, allow_nan=False)
ns = st.integers(min_value=2, max_value=5000)
counts = st.integers(min_value=0, max_value=500)
means = st.floats(min_value=-100, max_value=100, allow_nan=False)
sds = st.floats(min_value=0.1, max_value=50, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(rs)
def test_r_z_r_round_trip(r):
    assert r_from_z(fisher_z(r)) == pytest.approx(r, rel=1e-12, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(ds, ns, ns)
def test_d_r_d_round_trip(d, n1, n2):
    assert r_to_d(d_to_r(d)) == pytest.approx(d, rel=1e-9, abs=1e-10)
    assert r_to_d(d_to_r(d, n1, n2), n1, n2) == pytest.approx(d, rel=1e-9, abs=1e-10)


@settings(max_examples=200, deadline=None)
@given(ds, ns, ns)
def test_d_log_or_d_and_d_g_d_round_trips(d, n1, n2):
    assert log_odds_ratio_to_d(d_to_log_odds_ratio(d)) == pytest.approx(d, rel=1e-12, abs=1e-12)
    if n1 + n2 > 3:
        assert g_to_d(hedges_g(d, n1, n2), n1, n2) == pytest.approx(d, rel=1e-12, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(rs, rs)
def test_z_and_d_increase_with_r(r1, r2):
    lo, hi = sorted((r1, r2))
    if hi - lo < 1e-9:
        return
    assert fisher_z(hi) > fisher_z(lo)
    assert r_to_d(hi) > r_to_d(lo)
    assert r_to_d(hi, 10, 90) > r_to_d(lo, 10, 90)


@settings(max_examples=200, deadline=None)
@given(means, sds, ns, means, sds, ns)
def test_swapping_groups_flips_smd_and_md(m1, s1, n1, m2, s2, n2):
    if n1 + n2 <= 3:
        return
    kw1 = dict(m1i=m1, sd1i=s1, n1i=n1, m2i=m2, sd2i=s2, n2i=n2)
    kw2 = dict(m1i=m2, sd1i=s2, n1i=n2, m2i=m1, sd2i=s1, n2i=n1)
    for measure in ("SMD", "MD"):
        a, b = compute_effect_sizes(measure, **kw1), compute_effect_sizes(measure, **kw2)
        close(a.yi, -b.yi, rtol=1e-12, atol=1e-12)
        close(a.vi, b.vi, rtol=1e-12, atol=0)
        assert (a.vi > 0).all()


@settings(max_examples=300, deadline=None)
@given(counts, counts, counts, counts)
def test_swapping_groups_flips_log_or_rr_and_rd(a, b, c, d):
    if a + b == 0 or c + d == 0:
        return
    for fn in (log_odds_ratio, log_risk_ratio, risk_difference):
        one, two = fn([a], [b], [c], [d]), fn([c], [d], [a], [b])
        close(one.yi, -two.yi, rtol=1e-12, atol=1e-12)
        close(one.vi, two.vi, rtol=1e-12, atol=0)
        assert np.isfinite(one.yi).all() and (one.vi > 0).all()


@settings(max_examples=200, deadline=None)
@given(means, means, sds, sds, st.integers(min_value=3, max_value=2000), rs)
def test_change_score_variances_positive_and_sign(m1, m2, s1, s2, n, r):
    for measure in ("SMCR", "SMCC"):
        kw = dict(m1i=m1, m2i=m2, sd1i=s1, sd2i=s2, ni=n, ri=r)
        res = compute_effect_sizes(measure, **kw)
        flipped = compute_effect_sizes(measure, **{**kw, "m1i": m2, "m2i": m1})
        close(res.yi, -flipped.yi, rtol=1e-12, atol=1e-12)
        assert np.isfinite(res.yi).all() and (res.vi > 0).all()


@settings(max_examples=200, deadline=None)
@given(rs, st.integers(min_value=4, max_value=100000))
def test_correlation_variances_positive(r, n):
    assert compute_effect_sizes("COR", ri=r, ni=n).vi[0] > 0
    assert compute_effect_sizes("ZCOR", ri=r, ni=n).vi[0] > 0
    assert var_r(r, n) > 0 and var_fisher_z(n) > 0


@settings(max_examples=200, deadline=None)
@given(rs, st.floats(min_value=0.05, max_value=1), st.floats(min_value=0.05, max_value=1),
       st.integers(min_value=5, max_value=1000))
def test_attenuation_correction_grows_r_and_variance(r, rxx, ryy, n):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = correct_for_attenuation(r, rxx, ryy, ni=n)
    assert abs(res.yi[0]) >= abs(r) * (1 - 1e-12)
    assert res.vi[0] >= var_r(r, n) * (1 - 1e-12)
