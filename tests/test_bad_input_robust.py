"""Bad input to analysis.robust (robust, wald_test, che): ValueErrors naming the argument."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from analysis.meta import meta_analysis
from analysis.meta_mv import rma_mv
from analysis.robust import che, robust, wald_test

D = pd.DataFrame({
    "study": [1, 1, 2, 2, 3, 3, 4, 4, 5],
    "es_id": [1, 2, 1, 2, 1, 2, 1, 2, 1],
    "yi": [0.1, 0.3, 0.2, 0.6, 0.5, 0.9, 0.0, 0.2, 0.3],
    "vi": [0.01, 0.02, 0.01, 0.02, 0.01, 0.03, 0.02, 0.01, 0.02],
    "x": [1.0, 2.0, 1.5, 3.0, 2.5, 4.0, 0.5, 1.0, 2.0],
    "only5": [0, 0, 0, 0, 0, 0, 0, 0, 1.0],
}, index=list(range(20, 29)))


@pytest.fixture(scope="module")
def uni():
    return meta_analysis("yi", "vi", data=D, mods="~ x")


@pytest.fixture(scope="module")
def mv():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return rma_mv("yi", "vi", data=D, random=["study", "es_id"], mods="~ x")


def test_robust_model_and_cluster(uni, mv):
    with pytest.raises(ValueError, match="`model` must be a result of analysis.meta.meta_analysis"):
        robust({"beta": 1}, D.study)
    with pytest.raises(ValueError, match="`cluster` is required for a univariate model"):
        robust(uni)
    with pytest.raises(ValueError, match="`cluster` has 3 entries but the model has 9"):
        robust(uni, [1, 2, 3])
    with pytest.raises(ValueError, match="`cluster` has missing values at position 2"):
        robust(uni, [1, 1, None, 2, 3, 3, 4, 4, 5])
    with pytest.raises(ValueError, match="got the string 'study'"):
        robust(uni, "study")
    with pytest.raises(ValueError, match="got dict"):
        robust(uni, {"a": 1})
    with pytest.raises(ValueError, match="single cluster"):
        robust(uni, [1] * 9)
    with pytest.raises(ValueError, match="`cluster` must nest them"):
        robust(mv, D.es_id)  # random study effects cross these clusters
    with pytest.raises(ValueError, match="`vcov` must be one of 'CR0', 'CR1', 'CR2'"):
        robust(uni, D.study, vcov="CR3")
    for lv in (0, 1, "0.9", None):
        with pytest.raises(ValueError, match="`level`"):
            robust(uni, D.study, level=lv)


def test_robust_coefficient_from_one_cluster():
    """The reference level occurs in one study only: its CR variance is 0 (up to rounding), refused by name."""
    d = D.assign(lev=["b", "b", "b", "b", "a", "b", "b", "b", "b"])
    res = meta_analysis("yi", "vi", data=d, mods="~ C(lev, Treatment('a'))")
    with pytest.raises(ValueError, match="robust variance of 'intrcpt' is 0"):
        robust(res, d.study, vcov="CR0")


def test_full_leverage_cluster_warns():
    """CR2 with a cluster that alone determines a coefficient: generalised inverse, with a warning."""
    d = D.copy()
    d["in5"] = (d.study == 5).astype(float)
    d.loc[28, "in5"] = 1.0
    d = pd.concat([d, d.iloc[[8]].assign(es_id=2, yi=0.5)])
    res = meta_analysis("yi", "vi", data=d.reset_index(drop=True), mods="~ x + in5")
    with pytest.warns(UserWarning, match="full leverage"):
        robust(res, d.study.to_numpy(), vcov="CR2")


def test_wald_test_bad_arguments(uni):
    r = robust(uni, D.study)
    with pytest.raises(ValueError, match="`result` must be a RobustResult"):
        wald_test(uni, ["x"])
    with pytest.raises(ValueError, match="term 'xx' is not in the model. Did you mean 'x'"):
        wald_test(r, ["xx"])
    with pytest.raises(ValueError, match="index 5 is out of range 0..1"):
        wald_test(r, [5])
    with pytest.raises(ValueError, match="names a term twice"):
        wald_test(r, ["x", "x"])
    with pytest.raises(ValueError, match="must have 2 columns"):
        wald_test(r, np.eye(3))
    with pytest.raises(ValueError, match="linearly dependent"):
        wald_test(r, np.array([[0.0, 1.0], [0.0, 2.0]]))
    with pytest.raises(ValueError, match="`constraints` has missing or infinite values"):
        wald_test(r, np.array([[0.0, np.nan]]))
    with pytest.raises(ValueError, match="`constraints` must be a term name"):
        wald_test(r, [])
    with pytest.raises(ValueError, match="entries must be term names or integer indices"):
        wald_test(r, [1.5])
    with pytest.raises(ValueError, match="kind='equal' needs at least two terms"):
        wald_test(r, ["x"], kind="equal")
    with pytest.raises(ValueError, match="`kind` must be one of 'zero', 'equal'"):
        wald_test(r, ["x"], kind="same")
    with pytest.raises(ValueError, match="`test` must be one of 'HTZ', 'chi-sq', 'Naive-F'"):
        wald_test(r, ["x"], test="EDT")
    with pytest.raises(ValueError, match="`null` must be one finite number or 1 of them"):
        wald_test(r, ["x"], null=[0, 1])
    with pytest.raises(ValueError, match="`null` must be one finite number"):
        wald_test(r, ["x"], null=np.nan)


def test_che_bad_arguments():
    for rho in (1.0, -1.0, 2, "0.6", None, True):
        with pytest.raises(ValueError, match="`rho` must lie strictly between -1 and 1"):
            che("yi", "vi", "study", data=D, rho=rho)
    with pytest.raises(ValueError, match="Did you mean 'study'"):
        che("yi", "vi", "Study", data=D)
    with pytest.raises(ValueError, match="`vi` has 3 entries but `yi` has 9"):
        che(D.yi, [0.1, 0.1, 0.1], D.study)
    with pytest.raises(ValueError, match="`es_id` must be unique within each study; repeated at index labels 21"):
        che("yi", "vi", "study", es_id=[1, 1, 1, 2, 1, 2, 1, 2, 1], data=D)
    with pytest.raises(ValueError, match="`yi` must be numeric"):
        che(["a"] * 9, D.vi, D.study)
    with pytest.raises(ValueError, match="`vi` must be a positive sampling variance"):
        che(D.yi, D.vi.where(D.vi > 0.015, -0.01), D.study)
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame, got list"):
        che("yi", "vi", "study", data=[1, 2])
    with pytest.raises(ValueError, match="`mods` is a formula but no `data` was given"):
        che(D.yi, D.vi, D.study, mods="~ x")
    with pytest.raises(ValueError, match="`vcov` must be one of"):
        che("yi", "vi", "study", data=D, vcov="HC3")
    with pytest.raises(ValueError, match="`study` must be a column name or an array, got dict"):
        che(D.yi, D.vi, {"a": 1})


def test_che_missing_values():
    d = D.copy()
    d.loc[23, "yi"] = np.nan
    with pytest.raises(ValueError, match="Missing or infinite values .* at index labels 23"):
        che("yi", "vi", "study", data=d)
    with pytest.warns(UserWarning, match="dropped 1 row\\(s\\) with missing values at index labels 23"):
        out = che("yi", "vi", "study", data=d, na_action="omit")
    assert out.model.k == 8
    d2 = D.copy()
    d2.loc[25, "x"] = np.nan
    with pytest.raises(ValueError, match="index labels 25"):
        che("yi", "vi", "study", data=d2, mods="~ x")
    with pytest.raises(ValueError, match="`na_action` must be one of 'fail', 'omit'"):
        che("yi", "vi", "study", data=D, na_action="pass")


def test_extreme_scales_are_equivariant(mv):
    """Robust SEs scale with the effect sizes, df do not (1e-150 .. 1e150)."""
    base = robust(mv)
    for c in (1e-150, 1e150):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            m = rma_mv(D.yi * c, D.vi * c * c, random=[D.study, D.es_id], mods=D[["x"]])
        r = robust(m)
        np.testing.assert_allclose(r.se / c, base.se, rtol=1e-5)
        np.testing.assert_allclose(r.df, base.df, rtol=1e-5)
        w, w0 = wald_test(r, ["x"]), wald_test(base, ["x"])
        np.testing.assert_allclose(w.statistic, w0.statistic, rtol=1e-5)
