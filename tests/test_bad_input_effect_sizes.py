"""Bad input to analysis.effect_sizes: every public function refuses it with a ValueError that names
the argument (and position or index label), or handles it as documented (na_action="omit", extreme
magnitudes computed without overflow or refused with a message about scale).

Tolerance: relative error 1e-12 where a result in extreme units is compared with the same
computation in ordinary units (the scale-safe formulas are exact up to rounding).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import effect_sizes as es
from analysis.effect_sizes import (
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

SMD_DATA = pd.DataFrame({"m1": [55.0, 27, 30], "s1": [47.0, 7, 9], "n1": [155, 31, 40],
                         "m2": [75.0, 29, 28], "s2": [64.0, 4, 8], "n2": [156, 32, 41]},
                        index=["a", "b", "c"])
SMD_COLS = dict(m1i="m1", sd1i="s1", n1i="n1", m2i="m2", sd2i="s2", n2i="n2")


# ----------------------------------------------------------------------------- empty / None / types

@pytest.mark.parametrize("call, pattern", [
    (lambda: fisher_z([]), "`r` is empty"),
    (lambda: r_from_z([]), "`z` is empty"),
    (lambda: var_r([], []), "`ri` is empty"),
    (lambda: var_fisher_z([]), "`ni` is empty"),
    (lambda: hedges_correction([]), "`m` is empty"),
    (lambda: d_to_log_odds_ratio([]), "`d` is empty"),
    (lambda: log_odds_ratio_to_d([]), "`log_or` is empty"),
    (lambda: compute_effect_sizes("COR", ri=[], ni=[]), "`ri` is empty"),
])
def test_empty_input(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


def test_none_is_named():
    with pytest.raises(ValueError, match="`r` is required but was None"):
        fisher_z(None)
    with pytest.raises(ValueError, match="`z` is required but was None"):
        r_from_z(None)
    with pytest.raises(ValueError, match="`ni` is required but was None"):
        var_r(0.3, None)
    with pytest.raises(ValueError, match="`ni` is required but was None"):
        var_fisher_z(None)
    with pytest.raises(ValueError, match="`m` is required but was None"):
        hedges_correction(None)
    with pytest.raises(ValueError, match="`d` is required but was None"):
        hedges_g(None, 10, 10)
    with pytest.raises(ValueError, match="`n2i` is required but was None"):
        g_to_d(0.5, 10, None)
    with pytest.raises(ValueError, match="`sd2i` is required but was None"):
        cohens_d(1, 1, 10, 0, None, 10)
    with pytest.raises(ValueError, match="`ti` is required but was None"):
        smd_from_t(None, 10, 10)
    with pytest.raises(ValueError, match="`n1i` is required but was None"):
        var_smd(0.5, None, 10)
    with pytest.raises(ValueError, match="`d` is required but was None"):
        d_to_r(None)
    with pytest.raises(ValueError, match="`r` is required but was None"):
        r_to_d(None)
    with pytest.raises(ValueError, match="`d` is required but was None"):
        d_to_log_odds_ratio(None)
    with pytest.raises(ValueError, match="`log_or` is required but was None"):
        log_odds_ratio_to_d(None)
    with pytest.raises(ValueError, match="`vi` is required but was None"):
        convert_effect_sizes(0.5, None, source="d", target="r")
    with pytest.raises(ValueError, match="`ryy` is required but was None"):
        correct_for_attenuation(0.3, 0.8, None, ni=50)


def test_dicts_and_strings_are_refused():
    with pytest.raises(ValueError, match="`r` must be a number, an array or a pandas Series, got a dict"):
        fisher_z({"a": 0.3})
    with pytest.raises(ValueError, match="`ai` must be numeric, got the string 'x'"):
        log_odds_ratio("x", 2, 3, 4)
    with pytest.raises(ValueError, match="`bi` must be numeric; position 1 cannot be read"):
        log_risk_ratio([1, 2], np.array([3, "many"], dtype=object), [1, 1], [3, 3])
    with pytest.raises(ValueError, match="`ci` must be >= 0; position 0"):
        risk_difference([1], [3], [-1], [3])
    bad = SMD_DATA.astype({"s1": object})
    bad.loc["b", "s1"] = "seven"
    with pytest.raises(ValueError, match=r"`sd1i` must be numeric; position 1 .*'seven'.*column 's1'"):
        compute_effect_sizes("SMD", data=bad, **SMD_COLS)


def test_mismatched_lengths():
    with pytest.raises(ValueError, match="mismatched lengths: `d` has 3, `n1i` has 2"):
        hedges_g([0.1, 0.2, 0.3], [10, 10], [10, 10, 10])
    with pytest.raises(ValueError, match="`m1i` has length 2 but `data` has 3 rows"):
        compute_effect_sizes("SMD", m1i=[1.0, 2.0], sd1i="s1", n1i="n1", m2i="m2", sd2i="s2", n2i="n2",
                             data=SMD_DATA)


def test_unknown_column_suggests_the_nearest():
    with pytest.raises(ValueError, match=r"`sd1i`: there is no column 'sd1' in `data`. Did you mean 's1'\?"):
        compute_effect_sizes("SMD", data=SMD_DATA, **{**SMD_COLS, "sd1i": "sd1"})


# ----------------------------------------------------------------------------- values and ranges

def test_value_ranges():
    with pytest.raises(ValueError, match="`r` must lie strictly between -1 and 1; position 0"):
        fisher_z(1.0)
    with pytest.raises(ValueError, match="`ri` must lie strictly between -1 and 1"):
        var_r(-1.0, 50)
    with pytest.raises(ValueError, match="`ni` must be greater than 3"):
        var_fisher_z(3)
    with pytest.raises(ValueError, match="`m` must be greater than 1"):
        hedges_correction(1.0)
    with pytest.raises(ValueError, match="`n1i` \\+ `n2i` must be greater than 3"):
        hedges_g(0.5, 1, 2)
    with pytest.raises(ValueError, match="`n1i` must be a positive sample size"):
        g_to_d(0.5, 0, 10)
    with pytest.raises(ValueError, match="`sd1i` must be a positive standard deviation .*position 0"):
        cohens_d(1, 0.0, 10, 0, 1, 10)
    with pytest.raises(ValueError, match="`n2i` must be a positive sample size"):
        smd_from_t(2.0, 10, -3)
    with pytest.raises(ValueError, match="`n1i` must be a positive sample size"):
        var_smd(0.5, 0, 10)
    with pytest.raises(ValueError, match="`r` must lie strictly between -1 and 1"):
        r_to_d(1.5)
    with pytest.raises(ValueError, match="Give both `n1i` and `n2i`"):
        d_to_r(0.5, n2i=10)
    with pytest.raises(ValueError, match="`rxx` must be a reliability in \\(0, 1\\]"):
        correct_for_attenuation(0.3, 1.2, 0.8, ni=50)
    with pytest.raises(ValueError, match="`source` must be one of"):
        convert_effect_sizes(0.5, 0.1, source="cohen", target="r")
    with pytest.raises(ValueError, match="`level` must lie strictly between 0 and 1"):
        compute_effect_sizes("COR", ri=[0.1], ni=[10]).summary(level=1.5)


def test_nan_and_inf():
    with pytest.raises(ValueError, match="`z` has missing or infinite values at position 1"):
        r_from_z([0.1, np.inf])
    with pytest.raises(ValueError, match="`d` has missing or infinite values at position 0"):
        d_to_log_odds_ratio([np.nan])
    with pytest.raises(ValueError, match="`log_or` has missing or infinite values at position 0"):
        log_odds_ratio_to_d(-np.inf)
    with pytest.raises(ValueError, match="`yi` has missing or infinite values at position 0"):
        convert_effect_sizes([np.nan], [0.1], source="d", target="r")


def test_zero_and_negative_variances():
    with pytest.raises(ValueError, match="`vi` must be a positive variance"):
        convert_effect_sizes(0.5, 0.0, source="d", target="logOR")
    with pytest.raises(ValueError, match="`vi` must be a positive variance"):
        correct_for_attenuation(0.3, 0.8, 0.8, vi=-0.01)


def test_identical_zero_cells():
    with pytest.raises(ValueError, match="risk difference is undefined .*position 0"):
        risk_difference([10], [0], [10], [0], add=0)
    with pytest.raises(ValueError, match="Group 2 has no participants"):
        log_odds_ratio([1], [2], [0], [0])


# ----------------------------------------------------------------------------- missing values

def test_missing_values_fail_lists_index_labels_and_columns():
    d = SMD_DATA.copy()
    d.loc["b", "m2"] = np.nan
    with pytest.raises(ValueError, match=r"`m2i` \(column 'm2'\) has missing .*index label b.*na_action='omit'"):
        compute_effect_sizes("SMD", data=d, **SMD_COLS)


def test_missing_values_omit():
    d = SMD_DATA.copy()
    d.loc["b", "m2"] = np.nan
    d.loc["c", "n1"] = np.nan
    with pytest.warns(UserWarning, match=r"dropped 2 of 3 rows .*`n1i` \(column 'n1'\), `m2i` \(column 'm2'\).*index labels b, c"):
        out = compute_effect_sizes("SMD", data=d, **SMD_COLS, na_action="omit")
    ref = compute_effect_sizes("SMD", data=SMD_DATA.loc[["a"]], **SMD_COLS)
    assert list(out.yi.index) == ["a"] and out.dropped == ("b", "c") and out.dropped_kind == "index labels"
    np.testing.assert_allclose(out.vi.to_numpy(), ref.vi.to_numpy(), rtol=1e-15)
    assert "omitted because of missing values" in out.summary()
    with pytest.warns(UserWarning, match=r"positions 0, 2"):
        arr = compute_effect_sizes("ZCOR", ri=[np.nan, 0.3, None, 0.5], ni=[10, 20, 30, 40], na_action="omit")
    assert arr.dropped == (0, 2) and arr.dropped_kind == "positions" and len(arr) == 2
    with pytest.raises(ValueError, match="`na_action` must be one of"):
        compute_effect_sizes("ZCOR", ri=[0.3], ni=[20], na_action="ignore")


# ----------------------------------------------------------------------------- extreme magnitudes

@pytest.mark.parametrize("c", [1e-200, 1e-100, 1e100, 1e200])
def test_smd_does_not_depend_on_the_units(c):
    ref = compute_effect_sizes("SMD", data=SMD_DATA, **SMD_COLS)
    scaled = SMD_DATA.assign(m1=SMD_DATA.m1 * c, m2=SMD_DATA.m2 * c, s1=SMD_DATA.s1 * c, s2=SMD_DATA.s2 * c)
    out = compute_effect_sizes("SMD", data=scaled, **SMD_COLS)
    np.testing.assert_allclose(out.yi, ref.yi, rtol=1e-12)
    np.testing.assert_allclose(cohens_d(55 * c, 47 * c, 155, 75 * c, 64 * c, 156), cohens_d(55, 47, 155, 75, 64, 156),
                               rtol=1e-12)
    smcc = compute_effect_sizes("SMCC", m1i=[12 * c], m2i=[10 * c], sd1i=[4 * c], sd2i=[5 * c], ni=[30], ri=[0.6])
    smcc1 = compute_effect_sizes("SMCC", m1i=[12], m2i=[10], sd1i=[4], sd2i=[5], ni=[30], ri=[0.6])
    np.testing.assert_allclose(smcc.yi, smcc1.yi, rtol=1e-12)


@settings(max_examples=40)
@given(e=st.integers(-1000, 1000))
def test_cohens_d_scale_property(e):
    c = 2.0**e
    np.testing.assert_allclose(cohens_d(3 * c, 2 * c, 20, 1 * c, 4 * c, 25), cohens_d(3, 2, 20, 1, 4, 25), rtol=1e-14)


def test_unrepresentable_results_are_refused_with_a_scale_message():
    with pytest.raises(ValueError, match="sampling variance is not representable .*position 0.*Rescale"):
        var_smd(1e200, 10, 10)
    with pytest.raises(ValueError, match="MD sampling variance is not representable.*too large or too small"):
        compute_effect_sizes("MD", m1i=[1e-200], sd1i=[1e-200], n1i=[10], m2i=[0], sd2i=[1e-200], n2i=[10])
    with pytest.raises(ValueError, match="converted effect size \\(z to d\\) is not representable"):
        convert_effect_sizes(400.0, 0.01, source="z", target="d")
    with pytest.raises(ValueError, match="log odds ratio is not representable"):
        d_to_log_odds_ratio(1e308)
    with pytest.raises(ValueError, match="variance of the corrected correlation is not representable"):
        correct_for_attenuation(0.3, 1e-300, 1e-300, ni=100)
    with pytest.raises(ValueError, match="standardized mean difference is not representable"):
        cohens_d(1e300, 1e-300, 10, -1e300, 1e-300, 10)


def test_extreme_but_representable_results_are_exact():
    assert d_to_r(1e200) == 1.0 and d_to_r(-1e200) == -1.0
    assert d_to_r(1e-200) == pytest.approx(5e-201, rel=1e-12)
    assert hedges_g(0.5, 1e300, 1e300) == pytest.approx(0.5, rel=1e-12)
    assert var_fisher_z(1e300) == pytest.approx(1e-300, rel=1e-12)


def test_module_functions_are_listed():
    public = {n for n in es.__all__ if callable(getattr(es, n)) and not isinstance(getattr(es, n), type)}
    assert public >= {"fisher_z", "compute_effect_sizes", "convert_effect_sizes", "correct_for_attenuation"}
