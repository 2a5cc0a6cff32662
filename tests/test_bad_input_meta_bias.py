"""Bad input to analysis.meta_bias (leave_one_out, influence, egger_test, trim_and_fill, cumulative):
refused with a ValueError naming the argument, or handled as documented.

Tolerance of the scale checks: relative error 1e-6 (1e-5 for the influence diagnostics, which
difference two fits) against the unscaled data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import meta_bias
from analysis.meta import MetaConvergenceError, meta_analysis
from analysis.meta_bias import cumulative, egger_test, influence, leave_one_out, trim_and_fill

Y = np.array([0.1, 0.3, 0.5, 0.2, 0.9, 0.7, 0.05, 0.4])
V = np.array([0.01, 0.02, 0.015, 0.03, 0.08, 0.06, 0.02, 0.04])
RES = meta_analysis(Y, V, method="REML")
FUNCS = [leave_one_out, influence, egger_test, trim_and_fill, cumulative]


@pytest.mark.parametrize("fn", FUNCS)
def test_not_a_meta_result(fn):
    with pytest.raises(ValueError, match="`res` must be a MetaResult.*got dict"):
        fn({"yi": Y, "vi": V})
    with pytest.raises(ValueError, match="`res` must be a MetaResult.*got NoneType"):
        fn(None)


def test_one_study():
    one = meta_analysis([0.3], [0.01], method="FE")
    with pytest.raises(ValueError, match="leave_one_out needs at least 2 studies"):
        leave_one_out(one)
    with pytest.raises(ValueError, match="influence needs k - 1 >= p"):
        influence(one)
    with pytest.raises(ValueError, match="egger_test needs at least 3 studies"):
        egger_test(one)
    with pytest.raises(ValueError, match="trim_and_fill needs at least 3 studies"):
        trim_and_fill(one)
    assert cumulative(one).table.shape[0] == 1


def test_too_few_studies_for_random_effects():
    two = meta_analysis(Y[:2], V[:2], method="DL")
    with pytest.raises(ValueError, match="leave_one_out needs k >= 3"):
        leave_one_out(two)
    with pytest.raises(ValueError, match="influence needs k - 1 > p"):
        influence(two)


def test_models_with_moderators_are_refused():
    reg = meta_analysis(Y, V, mods=np.arange(8.0))
    for fn, name in [(leave_one_out, "leave_one_out"), (egger_test, "egger_test"), (cumulative, "cumulative")]:
        with pytest.raises(ValueError, match=f"{name}.*res.p must be 1"):
            fn(reg)
    with pytest.raises(ValueError, match="Trim-and-fill applies to models without moderators"):
        trim_and_fill(reg)


def test_identical_variances():
    same = meta_analysis(Y, [0.02] * 8)
    with pytest.raises(ValueError, match="egger_test: every study has the same sampling variance"):
        egger_test(same)
    with pytest.raises(ValueError, match="pass side='left' or 'right'"):
        trim_and_fill(same)
    assert trim_and_fill(same, side="left").k0 >= 0


def test_identical_effects_are_fine():
    res = meta_analysis([0.3] * 6, V[:6])
    assert np.all(leave_one_out(res).table["tau2"] == 0)
    assert trim_and_fill(res).k0 == 0


def test_labels_are_checked():
    with pytest.raises(ValueError, match="`labels` has 3 entries but there are 8 studies"):
        leave_one_out(RES, labels=["a", "b", "c"])
    with pytest.raises(ValueError, match="`labels` must be a sequence.*str"):
        influence(RES, labels="abcdefgh")
    y = Y.copy()
    y[2] = np.nan
    with pytest.warns(UserWarning, match="dropped 1"):
        res = meta_analysis(y, V, na_action="omit")
    with pytest.raises(ValueError, match=r"omitted 1 with missing values, position 2: give labels for the 7"):
        leave_one_out(res, labels=list("abcdefgh"))


def test_trim_and_fill_arguments():
    with pytest.raises(ValueError, match="`maxiter` must be a whole number >= 1, got 0"):
        trim_and_fill(RES, maxiter=0)
    with pytest.raises(ValueError, match="`estimator` must be one of"):
        trim_and_fill(RES, estimator="Q0")
    with pytest.raises(ValueError, match="`side` must be one of"):
        trim_and_fill(RES, side="up")
    skewed = meta_analysis([0.1, 0.3, 0.5, 0.2, 0.9, 0.7, 1.2, 1.5], [0.01, 0.02, 0.015, 0.03, 0.08, 0.06, 0.1, 0.12])
    with pytest.raises(MetaConvergenceError, match="maxiter = 1"):
        trim_and_fill(skewed, maxiter=1)


def test_cumulative_order():
    with pytest.raises(ValueError, match="`order` has 3 entries but there are 8"):
        cumulative(RES, order=[1, 2, 3])
    with pytest.raises(ValueError, match="`order` must be a sequence.*dict"):
        cumulative(RES, order={"a": 1})
    with pytest.raises(ValueError, match="`order` mixes values"):
        cumulative(RES, order=np.array([1, "a", 2, 3, 4, 5, 6, 7], dtype=object))
    order = np.array([2001, 1999, np.nan, 2005, 2003, 2000, 2002, 2004])
    with pytest.raises(ValueError, match=r"`order` has missing values .*position 2.*na_action='omit'"):
        cumulative(RES, order=order)
    with pytest.warns(UserWarning, match=r"1 of 8 studies left out .*position 2"):
        tab = cumulative(RES, order=order, na_action="omit", labels=list("abcdefgh")).table
    assert list(tab.index) == ["b", "f", "a", "g", "e", "h", "d"]
    with pytest.raises(ValueError, match="`na_action` must be one of"):
        cumulative(RES, order=order, na_action="pairwise")
    with pytest.raises(ValueError, match="missing for every study"):
        with pytest.warns(UserWarning):
            cumulative(RES, order=[np.nan] * 8, na_action="omit")


@pytest.mark.parametrize("method", ["FE", "DL", "REML", "PM"])
@pytest.mark.parametrize("c", [1e-150, 1e150])
def test_scale_equivariance(method, c):
    base = meta_analysis(Y, V, method=method)
    res = meta_analysis(Y * c, V * c * c, method=method)
    l0, l1 = leave_one_out(base).table, leave_one_out(res).table
    np.testing.assert_allclose(l1["statistic"], l0["statistic"], rtol=1e-6)
    np.testing.assert_allclose(l1["tau2"] / c**2, l0["tau2"], rtol=1e-6, atol=1e-12)
    i0, i1 = influence(base).table, influence(res).table
    for col in ["rstudent", "dffits", "cook_d", "cov_r", "hat", "weight", "dfbetas"]:
        np.testing.assert_allclose(i1[col], i0[col], rtol=1e-5, atol=1e-9, err_msg=col)
    np.testing.assert_allclose(egger_test(res).statistic, egger_test(base).statistic, rtol=1e-6)
    t0, t1 = trim_and_fill(base), trim_and_fill(res)
    assert t1.k0 == t0.k0
    np.testing.assert_allclose(t1.estimate / c, t0.estimate, rtol=1e-6)
    np.testing.assert_allclose(cumulative(res).table["statistic"], cumulative(base).table["statistic"], rtol=1e-6)


def test_module_functions_are_covered():
    assert {f.__name__ for f in FUNCS} <= set(meta_bias.__all__)
