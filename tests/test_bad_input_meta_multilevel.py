"""Bad input to analysis.meta_multilevel.three_level: refused with a ValueError naming the argument,
column or rows, or handled as documented (na_action="omit", scale equivariance).

Tolerance of the scale checks: relative error 1e-6 on sigma^2 / c^2, z and p (the REML optimum is
polished to a relative step of 1e-13, so 1e-6 leaves room for the optimiser's path).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import meta_multilevel
from analysis.meta_multilevel import three_level

Y = np.array([0.1, 0.3, 0.5, 0.2, 0.9, 0.7, 0.05, 0.4, 0.35, 0.6])
V = np.array([0.01, 0.02, 0.015, 0.03, 0.08, 0.06, 0.02, 0.04, 0.02, 0.03])
CL = np.array([1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
DATA = pd.DataFrame({"yi": Y, "vi": V, "study": CL, "x": np.linspace(0, 1, 10)},
                    index=[f"e{i}" for i in range(10)])
BASE = three_level(Y, V, CL)


def test_empty_input():
    with pytest.raises(ValueError, match="empty"):
        three_level([], [], [])


def test_one_cluster_is_refused():
    with pytest.raises(ValueError, match="at least 2 different clusters"):
        three_level(Y, V, [1] * 10)


def test_one_effect_size_per_cluster_is_unidentified():
    with pytest.raises(ValueError, match="two variance components are not identified"):
        three_level(Y, V, np.arange(10))


def test_too_few_effect_sizes_for_the_moderators():
    with pytest.raises(ValueError, match="Too few effect sizes"):
        three_level(Y[:4], V[:4], CL[:4] // 2 * 0 + [1, 1, 2, 2], mods=np.c_[np.arange(4.0), np.arange(4.0) ** 2])
    with pytest.raises(ValueError, match="more moderators than studies"):
        three_level(Y[:4], V[:4], [1, 1, 2, 2], mods=np.arange(20.0).reshape(4, 5) ** 1.5)


def test_identical_values_give_zero_components_and_a_warning():
    with pytest.warns(UserWarning, match="boundary"):
        res = three_level([0.3] * 10, V, CL)
    assert np.all(res.sigma2 == 0) and np.isfinite(res.statistic)


def test_nan_and_inf():
    y = Y.copy()
    y[3] = np.nan
    with pytest.raises(ValueError, match=r"`yi` has missing values .*position 3.*na_action='omit'"):
        three_level(y, V, CL)
    with pytest.raises(ValueError, match=r"`vi` has missing or infinite values at position 0"):
        three_level(Y, np.r_[np.inf, V[1:]], CL)
    c = CL.astype(object)
    c[4] = None
    with pytest.raises(ValueError, match=r"`cluster` has missing values .*position 4"):
        three_level(Y, V, c)


@pytest.mark.filterwarnings("ignore:three_level. a variance component:UserWarning")
def test_na_action_omit_lists_index_labels():
    d = DATA.copy()
    d.loc["e2", "yi"] = np.nan
    d.loc["e7", "x"] = np.nan
    with pytest.warns(UserWarning, match=r"dropped 2 of 10 effect sizes .*index labels e2, e7"):
        res = three_level("yi", "vi", "study", data=d, mods="~ x", na_action="omit")
    ref = three_level("yi", "vi", "study", data=d.drop(["e2", "e7"]), mods="~ x")
    assert res.k == 8 and res.dropped == ["e2", "e7"] and res.dropped_kind == "index labels"
    np.testing.assert_allclose(res.beta, ref.beta, rtol=1e-10)
    assert "index labels e2, e7" in res.summary()


def test_negative_and_zero_variances():
    with pytest.raises(ValueError, match=r"`vi` must be a positive sampling variance.*position 1"):
        three_level(Y, np.r_[V[0], 0.0, V[2:]], CL)
    with pytest.raises(ValueError, match=r"`vi` must be a positive sampling variance.*position 0"):
        three_level(Y, np.r_[-0.01, V[1:]], CL)


def test_variances_spanning_more_than_double_precision_are_refused():
    with pytest.raises(ValueError, match=r"`vi` spans a ratio of 1e\+18"):
        three_level(Y, np.r_[1e-9, V[1:-1], 1e9], CL)


def test_wrong_types():
    with pytest.raises(ValueError, match="`yi` must be an array.*dict"):
        three_level({"a": 1}, V, CL)
    with pytest.raises(ValueError, match="`cluster` must be a 1-D array"):
        three_level(Y, V, None)
    with pytest.raises(ValueError, match="`yi` must be numeric.*position 0"):
        three_level(np.array(["a"] + [0.1] * 9, dtype=object), V, CL)
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame, got list"):
        three_level("yi", "vi", "study", data=[1, 2])


def test_mismatched_lengths():
    with pytest.raises(ValueError, match="`cluster` has 4 entries but there are 10"):
        three_level(Y, V, [1, 1, 2, 2])
    with pytest.raises(ValueError, match="mismatched lengths"):
        three_level(Y, V[:9], CL)
    with pytest.raises(ValueError, match="`es_id` has 2 entries"):
        three_level(Y, V, CL, es_id=[1, 2])


def test_unknown_columns_suggest_the_nearest():
    with pytest.raises(ValueError, match=r"`cluster`: column 'studdy' is not in `data`. Did you mean 'study'\?"):
        three_level("yi", "vi", "studdy", data=DATA)


def test_argument_ranges():
    with pytest.raises(ValueError, match="`level` must lie strictly between 0 and 1"):
        three_level(Y, V, CL, level=95)
    with pytest.raises(ValueError, match="`maxiter` must be a whole number >= 1, got 0"):
        three_level(Y, V, CL, maxiter=0)
    with pytest.raises(ValueError, match="`test` must be one of"):
        three_level(Y, V, CL, test="knha")
    with pytest.raises(ValueError, match="`na_action` must be one of"):
        three_level(Y, V, CL, na_action=None)
    with pytest.raises(ValueError, match="`component` must be 0"):
        BASE.profile_ci(2)
    with pytest.raises(ValueError, match="`level` must lie strictly between 0 and 1"):
        BASE.profile_ci(0, level=1.5)


@pytest.mark.parametrize("c", [1e-150, 1e-40, 1e-6, 1e6, 1e40, 1e150])
def test_scale_equivariance(c):
    res = three_level(Y * c, V * c * c, CL)
    np.testing.assert_allclose(res.sigma2 / c**2, BASE.sigma2, rtol=1e-6)
    np.testing.assert_allclose([res.statistic, res.pvalue, res.estimate / c, res.q],
                               [BASE.statistic, BASE.pvalue, BASE.estimate, BASE.q], rtol=1e-6)
    np.testing.assert_allclose(res.loglik, BASE.loglik - (BASE.k - BASE.p) * np.log(c), rtol=1e-9, atol=1e-6)
    assert res.converged


def test_scale_equivariance_of_profile_ci():
    c = 1e-100
    res = three_level(Y * c, V * c * c, CL)
    np.testing.assert_allclose(np.array(res.profile_ci(0)) / c**2, BASE.profile_ci(0), rtol=1e-4, atol=1e-10)


@settings(max_examples=10)
@given(e=st.integers(-490, 490))
def test_scale_equivariance_property(e):
    c = 2.0**e
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no convergence or boundary warning at any scale
        res = three_level(Y * c, V * c * c, CL, mods=DATA["x"].to_numpy())
        base = three_level(Y, V, CL, mods=DATA["x"].to_numpy())
    np.testing.assert_allclose(res.sigma2 / c**2, base.sigma2, rtol=1e-6)
    np.testing.assert_allclose(res.qm, base.qm, rtol=1e-6)


def test_module_functions_are_covered():
    assert "three_level" in meta_multilevel.__all__
