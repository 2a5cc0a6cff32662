"""Bad input to analysis.meta (meta_analysis, subgroup_analysis): refused with a ValueError that
names the argument, column or rows, or handled as documented (na_action="omit", scale equivariance).

Tolerances: scale-equivariance checks compare tau^2 / c^2, z and p with the unscaled fit to a
relative error of 1e-6.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import meta
from analysis.meta import METHODS, meta_analysis, subgroup_analysis

Y = np.array([0.1, 0.3, 0.5, 0.2, 0.9, 0.7, 0.05, 0.4])
V = np.array([0.01, 0.02, 0.015, 0.03, 0.08, 0.06, 0.02, 0.04])
G = np.array(["a", "a", "a", "a", "b", "b", "b", "b"])
DATA = pd.DataFrame({"yi": Y, "vi": V, "year": np.arange(1990, 1998, dtype=float), "grp": G},
                    index=[f"s{i}" for i in range(8)])


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return fn(*args, **kwargs)


# ----------------------------------------------------------------------------- meta_analysis


def test_empty_input():
    with pytest.raises(ValueError, match="empty"):
        meta_analysis([], [])


def test_one_study_random_effects_is_refused():
    with pytest.raises(ValueError, match="at least 2 effect sizes"):
        meta_analysis([0.3], [0.01])


def test_identical_values_give_tau2_zero_not_nan():
    for m in METHODS:
        res = quiet(meta_analysis, [0.3] * 5, [0.02] * 5, method=m)
        assert res.tau2 == 0.0 and res.q == 0.0 and np.isfinite(res.statistic)


def test_more_moderators_than_studies():
    with pytest.raises(ValueError, match="more moderators than studies"):
        meta_analysis(Y[:3], V[:3], mods=np.arange(12, dtype=float).reshape(3, 4) ** 2, method="FE")


def test_nan_and_inf():
    with pytest.raises(ValueError, match=r"`yi` has missing values .*position 2.*na_action='omit'"):
        meta_analysis([0.1, 0.2, np.nan, 0.4], [0.01] * 4)
    with pytest.raises(ValueError, match=r"`vi` has missing or infinite values at position 1"):
        meta_analysis([0.1, 0.2, 0.3, 0.4], [0.01, np.inf, 0.01, 0.01])
    with pytest.raises(ValueError, match=r"`mods` has missing or infinite values at rows position 0"):
        meta_analysis(Y, V, mods=np.r_[np.inf, np.arange(7.0)])


def test_nan_in_data_column_lists_index_labels():
    d = DATA.copy()
    d.loc["s3", "vi"] = np.nan
    d.loc["s5", "year"] = np.nan
    with pytest.raises(ValueError, match=r"`vi`, `mods` have missing values .* index labels s3, s5"):
        meta_analysis("yi", "vi", data=d, mods="~ year")


def test_na_action_omit_drops_and_warns_with_labels():
    d = DATA.copy()
    d.loc["s3", "vi"] = np.nan
    d.loc["s5", "year"] = np.nan
    with pytest.warns(UserWarning, match=r"dropped 2 of 8 studies .*index labels s3, s5"):
        res = meta_analysis("yi", "vi", data=d, mods="~ year", na_action="omit")
    ref = meta_analysis("yi", "vi", data=d.drop(["s3", "s5"]), mods="~ year")
    assert res.k == 6 and res.dropped == ["s3", "s5"] and res.dropped_kind == "index labels"
    np.testing.assert_allclose(res.beta, ref.beta, rtol=1e-12)
    assert "omitted because of missing values" in res.summary() and "s3, s5" in res.summary()


def test_na_action_omit_arrays_reports_positions():
    y = Y.copy()
    y[[1, 6]] = np.nan
    with pytest.warns(UserWarning, match=r"positions 1, 6"):
        res = meta_analysis(y, V, na_action="omit")
    assert res.dropped == [1, 6] and res.dropped_kind == "positions" and res.k == 6
    mods = pd.DataFrame({"x": [1.0, None, 2, 3, 4, 5, 6, 7]})
    with pytest.warns(UserWarning, match=r"`mods`.*position 1\)"):
        r2 = meta_analysis(Y, V, mods=mods, na_action="omit")
    assert r2.k == 7


@settings(max_examples=25)
@given(mask=st.lists(st.booleans(), min_size=8, max_size=8).filter(lambda m: sum(m) <= 5),
       where=st.sampled_from(["yi", "vi", "mods"]), method=st.sampled_from(METHODS))
def test_na_action_omit_equals_the_complete_case_fit(mask, where, method):
    miss = np.array(mask)
    y, v, x = Y.copy(), V.copy(), DATA["year"].to_numpy() - 1990.0
    {"yi": y, "vi": v, "mods": x}[where][miss] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = meta_analysis(y, v, mods=x, method=method, na_action="omit")
        ref = meta_analysis(Y[~miss], V[~miss], mods=x[~miss], method=method)
    assert res.dropped == [int(i) for i in np.flatnonzero(miss)]
    np.testing.assert_array_equal(res.beta, ref.beta)
    assert res.tau2 == ref.tau2


def test_na_action_value_is_checked():
    with pytest.raises(ValueError, match="na_action"):
        meta_analysis(Y, V, na_action="drop")


def test_negative_and_zero_variances():
    with pytest.raises(ValueError, match=r"`vi` must be a positive sampling variance.*position 3"):
        meta_analysis(Y, np.r_[V[:3], 0.0, V[4:]])
    with pytest.raises(ValueError, match=r"`vi` must be a positive sampling variance.*position 0"):
        meta_analysis(Y, np.r_[-0.01, V[1:]])


def test_variances_spanning_more_than_double_precision_are_refused():
    with pytest.raises(ValueError, match=r"`vi` spans a ratio of 1e\+20 \(position 0 has 1e-10, position 2 has 1e\+10\)"):
        meta_analysis([0.1, 0.2, 0.3, 0.4], [1e-10, 1.0, 1e10, 2.0], method="REML")
    res = meta_analysis([0.1, 0.2, 0.3, 0.4], [1e-6, 1.0, 1e6, 2.0], method="REML")  # 1e12 is fine
    assert np.isfinite(res.estimate) and np.isfinite(res.tau2)


def test_wrong_types():
    with pytest.raises(ValueError, match="`yi` must be an array.*dict"):
        meta_analysis({"a": 1.0}, V)
    with pytest.raises(ValueError, match="`vi` is required but was None"):
        meta_analysis(Y, None)
    with pytest.raises(ValueError, match="`yi` must be numeric.*position 1.*'x'"):
        meta_analysis(np.array([0.1, "x", 0.3], dtype=object), [0.01] * 3)
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame, got dict"):
        meta_analysis("yi", "vi", data={"yi": Y, "vi": V})
    with pytest.raises(ValueError, match="`yi` is the column name 'yi' but no `data`"):
        meta_analysis("yi", V)


def test_strings_in_a_data_column_name_the_index_label():
    d = DATA.astype({"yi": object})
    d.loc["s4", "yi"] = "n/a"
    with pytest.raises(ValueError, match=r"`yi` must be numeric; position 4 .*'n/a'.*Index labels: s4"):
        meta_analysis("yi", "vi", data=d)


def test_mismatched_lengths():
    with pytest.raises(ValueError, match="mismatched lengths.*`yi` has 8, `vi` has 7"):
        meta_analysis(Y, V[:7])
    with pytest.raises(ValueError, match="`mods` must have 8 rows"):
        meta_analysis(Y, V, mods=np.ones(5))


def test_unknown_columns_suggest_the_nearest():
    with pytest.raises(ValueError, match=r"`vi`: column 'vii' is not in `data`. Did you mean 'vi'\?"):
        meta_analysis("yi", "vii", data=DATA)
    with pytest.raises(ValueError, match=r"Column 'yaer' is not in `data`. Did you mean 'year'\?"):
        meta_analysis("yi", "vi", data=DATA, mods="~ yaer")


def test_argument_ranges():
    with pytest.raises(ValueError, match="`level` must lie strictly between 0 and 1"):
        meta_analysis(Y, V, level=1.0)
    with pytest.raises(ValueError, match="`level` must be a number"):
        meta_analysis(Y, V, level="0.95")
    with pytest.raises(ValueError, match="`maxiter` must be a whole number >= 1, got 0"):
        meta_analysis(Y, V, maxiter=0)
    with pytest.raises(ValueError, match="`method` must be one of"):
        meta_analysis(Y, V, method="reml")
    res = meta_analysis(Y, V)
    with pytest.raises(ValueError, match="`level` must lie strictly between 0 and 1"):
        res.confint_tau2(level=-0.5)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("c", [1e-150, 1e-60, 1e-8, 1e8, 1e60, 1e150])
def test_scale_equivariance_every_method(method, c):
    base = meta_analysis(Y, V, method=method)
    res = meta_analysis(Y * c, V * c * c, method=method)
    np.testing.assert_allclose(res.tau2 / c**2, base.tau2, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose([res.statistic, res.pvalue, res.q, res.i2, res.estimate / c],
                               [base.statistic, base.pvalue, base.q, base.i2, base.estimate], rtol=1e-6)
    if method != "FE":
        np.testing.assert_allclose(np.array(res.tau2_ci) / c**2, base.tau2_ci, rtol=1e-5)
    # the log-likelihood moves by the Jacobian of the change of units only
    # (metafor reports the ML likelihood for every method but REML, whose restricted one drops p df)
    n = base.k - base.p if method == "REML" else base.k
    np.testing.assert_allclose(res.loglik, base.loglik - n * np.log(c), rtol=1e-9, atol=1e-6)


@settings(max_examples=25)
@given(e=st.integers(-480, 480), method=st.sampled_from(METHODS))
def test_scale_equivariance_property(e, method):
    c = 2.0**e
    base = meta_analysis(Y, V, method=method, mods=DATA["year"].to_numpy())
    res = meta_analysis(Y * c, V * c * c, method=method, mods=DATA["year"].to_numpy())
    np.testing.assert_allclose(res.tau2 / c**2, base.tau2, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(res.statistic, base.statistic, rtol=1e-6)
    np.testing.assert_allclose(res.qm, base.qm, rtol=1e-6)


def test_extreme_moderator_units_are_not_called_collinear():
    base = meta_analysis(Y, V, mods=DATA["year"].to_numpy())
    for c in (1e-60, 1e60):
        res = meta_analysis(Y, V, mods=DATA["year"].to_numpy() * c)
        np.testing.assert_allclose(res.beta[1] * c, base.beta[1], rtol=1e-6)
        np.testing.assert_allclose(res.qm, base.qm, rtol=1e-6)
    with pytest.raises(ValueError, match="Moderator 'mod1' has values of magnitude 2e\\+203.*Rescale"):
        meta_analysis(Y, V, mods=DATA["year"].to_numpy() * 1e200)


def test_pm_with_huge_heterogeneity_finds_the_root():
    y = np.array([0.0, 1e8, -1e8, 5e7, 2e7])
    res = meta_analysis(y, [1.0] * 5, method="PM")
    assert np.isfinite(res.tau2) and res.tau2 > 1e14


# ----------------------------------------------------------------------------- subgroup_analysis


def test_subgroup_bad_groups():
    with pytest.raises(ValueError, match="`groups` has 3 labels but there are 8"):
        subgroup_analysis(Y, V, ["a", "b", "c"])
    with pytest.raises(ValueError, match="at least two different subgroups"):
        subgroup_analysis(Y, V, ["a"] * 8)
    with pytest.raises(ValueError, match="Subgroup 'b' has only 1 effect size"):
        subgroup_analysis(Y, V, ["a"] * 7 + ["b"])
    with pytest.raises(ValueError, match="`groups` must be a 1-D array"):
        subgroup_analysis(Y, V, None)
    with pytest.raises(ValueError, match=r"`groups`: column 'gpr' is not in `data`. Did you mean 'grp'\?"):
        subgroup_analysis("yi", "vi", "gpr", data=DATA)


def test_subgroup_missing_values():
    g = G.astype(object)
    g[2] = None
    with pytest.raises(ValueError, match=r"`groups` has missing values .*position 2"):
        subgroup_analysis(Y, V, g)
    with pytest.warns(UserWarning, match=r"dropped 1 of 8 studies .*`groups`.*position 2"):
        res = subgroup_analysis(Y, V, g, na_action="omit")
    assert res.dropped == [2] and res.table["k"].tolist() == [3, 4]
    assert "position 2" in res.summary()


def test_subgroup_argument_ranges():
    with pytest.raises(ValueError, match="`level` must lie strictly between 0 and 1"):
        subgroup_analysis(Y, V, G, level=0)
    with pytest.raises(ValueError, match="`approach` must be one of"):
        subgroup_analysis(Y, V, G, approach="pooled")
    with pytest.raises(ValueError, match="`vi` must be a positive sampling variance"):
        subgroup_analysis(Y, -V, G)


def test_subgroup_scale_equivariance():
    base = subgroup_analysis(Y, V, G)
    res = subgroup_analysis(Y * 1e100, V * 1e200, G)
    np.testing.assert_allclose(res.q_between, base.q_between, rtol=1e-6)
    np.testing.assert_allclose(res.table["tau2"] / 1e200, base.table["tau2"], rtol=1e-6, atol=1e-12)


def test_module_functions_are_covered():
    assert {"meta_analysis", "subgroup_analysis"} <= set(meta.__all__)
