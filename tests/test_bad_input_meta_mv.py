"""Bad input to analysis.meta_mv.rma_mv: ValueErrors naming the argument, column or rows."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from statsmodels.tools.sm_exceptions import ConvergenceWarning

from analysis.meta_dependent import vcalc
from analysis.meta_mv import rma_mv

D = pd.DataFrame({
    "study": [1, 1, 2, 2, 3, 3, 4, 4],
    "es_id": [1, 2, 1, 2, 1, 2, 1, 2],
    "yi": [0.1, 0.3, 0.2, 0.6, 0.5, 0.9, 0.0, 0.2],
    "vi": [0.01] * 8,
    "x": [1.0, 2.0, 1.5, 3.0, 2.5, 4.0, 0.5, 1.0],
    "const": [1.0] * 8,
    "g": list("aabbaabb"),
}, index=[10, 11, 12, 13, 14, 15, 16, 17])
R = ["study", "es_id"]


def fit(**kw):
    args = dict(yi="yi", V="vi", data=D, random=R)
    args.update(kw)
    return rma_mv(args.pop("yi"), args.pop("V"), **args)


def test_unknown_columns_suggest():
    with pytest.raises(ValueError, match="Column 'studdy'.*Did you mean 'study'"):
        fit(random=["studdy", "es_id"])
    with pytest.raises(ValueError, match="Column 'y'.*`yi`"):
        fit(yi="y")
    with pytest.raises(ValueError, match="Column 'vii'.*Did you mean 'vi'"):
        fit(V="vii")
    with pytest.raises(ValueError, match="could not be evaluated"):
        fit(mods="~ xx")


def test_v_problems():
    V = vcalc("vi", "study", obs="es_id", rho=0.5, data=D)
    bad = V.copy()
    bad[0, 1] = bad[1, 0] = 0.02  # |r| = 2: not positive definite
    with pytest.raises(ValueError, match="`V` is not positive definite in the block of rows index labels 10, 11"):
        fit(V=bad)
    asym = V.copy()
    asym[0, 1] = 0.001
    with pytest.raises(ValueError, match="`V` must be symmetric"):
        fit(V=asym)
    with pytest.raises(ValueError, match="`V` must be a 8 x 8 matrix"):
        fit(V=np.eye(7))
    with pytest.raises(ValueError, match="`V` has 7 sampling variances but `yi` has 8"):
        fit(V=[0.01] * 7)
    with pytest.raises(ValueError, match="positive sampling variances on its diagonal; not at index labels 12"):
        fit(V=[0.01, 0.01, 0.0, 0.01, 0.01, 0.01, 0.01, 0.01])
    with pytest.raises(ValueError, match="`V` must be a vector of sampling variances or a k x k matrix, got dict"):
        fit(V={"a": 1})
    with pytest.raises(ValueError, match="`V` must be numeric"):
        fit(V=["a"] * 8)
    with pytest.raises(ValueError, match="`V` is required"):
        fit(V=None)


def test_missing_values_fail_or_omit():
    d = D.copy()
    d.loc[13, "yi"] = np.nan
    with pytest.raises(ValueError, match="Missing or infinite values .* at index labels 13.*na_action='omit'"):
        fit(data=d)
    with pytest.warns(UserWarning, match="dropped 1 row\\(s\\) with missing values at index labels 13"):
        res = fit(data=d, na_action="omit")
    assert res.k == 7
    d2 = D.copy()
    d2.loc[11, "x"] = np.nan
    with pytest.raises(ValueError, match="index labels 11"):
        fit(data=d2, mods="~ x")
    d3 = D.copy()
    d3["study"] = d3["study"].astype(object)
    d3.loc[16, "study"] = None
    with pytest.raises(ValueError, match="index labels 16"):
        fit(data=d3)
    with pytest.raises(ValueError, match="`na_action` must be one of 'fail', 'omit'"):
        fit(na_action="drop")
    with pytest.raises(ValueError, match="`yi` has missing or infinite|Missing or infinite"):
        rma_mv([0.1, np.inf, 0.2, 0.3], [0.01] * 4, random=[[1, 1, 2, 2], [1, 2, 1, 2]])


def test_design_problems():
    with pytest.raises(ValueError, match="singular.*'const'"):
        fit(mods="~ x + const")
    with pytest.raises(ValueError, match="singular"):
        fit(mods=D[["const"]])  # no variation in a moderator = the intercept
    with pytest.raises(ValueError, match="Too few effect sizes"):
        rma_mv([0.1, 0.2, 0.3], [0.01] * 3, random=[[1, 1, 2], [1, 2, 1]], mods=np.array([[1, 2], [2, 1], [3, 5.0]]))


def test_random_problems():
    with pytest.raises(ValueError, match="does not split any unit"):
        fit(random=["study", "study"])
    with pytest.raises(ValueError, match="single unit"):
        fit(random=["const", "es_id"])
    with pytest.raises(ValueError, match="at least one grouping level"):
        fit(random=[])
    with pytest.raises(ValueError, match="`random` level 1 has 3 entries but `yi` has 8"):
        fit(random=[[1, 2, 3]])
    with pytest.raises(ValueError, match="`random` level 1 must be a column name or a 1-D array"):
        fit(random=[{"a": 1}])
    with pytest.raises(ValueError, match="no `data` was given"):
        rma_mv(D.yi, D.vi, random=R)


def test_types_and_ranges():
    with pytest.raises(ValueError, match="`method` must be one of 'REML', 'ML'"):
        fit(method="DL")
    with pytest.raises(ValueError, match="`test` must be one of 'z', 't'"):
        fit(test="knha")
    for lv in (0, 1, 1.5, "0.95", None):
        with pytest.raises(ValueError, match="`level`"):
            fit(level=lv)
    for mi in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="`maxiter` must be a positive integer"):
            fit(maxiter=mi)
    with pytest.raises(ValueError, match="`yi` must be numeric"):
        rma_mv(["a", "b", "c", "d"], [0.01] * 4, random=[[1, 1, 2, 2], [1, 2, 1, 2]])
    with pytest.raises(ValueError, match="at least 2 effect sizes"):
        rma_mv([0.1], [0.01], random=[[1]])
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame, got dict"):
        rma_mv("yi", "vi", data={"yi": [1]}, random=R)
    with pytest.raises(ValueError, match="`yi` has 8 entries but `data` has 4 rows"):
        rma_mv(D.yi.to_numpy(), D.vi.to_numpy(), data=D.iloc[:4], random=[D.study.to_numpy()])


def test_predict_and_profile_arguments():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = fit(mods="~ x")
    with pytest.raises(ValueError, match="`newmods` must have 1 column"):
        res.predict([[1.0, 2.0]])
    with pytest.raises(ValueError, match="`newmods` has missing or infinite values"):
        res.predict([np.nan])
    with pytest.raises(ValueError, match="`component` must be an integer from 0 to 1"):
        res.profile_ci(2)
    with pytest.raises(ValueError, match="`level`"):
        res.profile_ci(0, level=1.2)


def test_non_convergence_is_reported():
    with pytest.warns(ConvergenceWarning, match="did not converge in 1 iterations"):
        res = fit(maxiter=1)
    assert not res.converged and "the optimiser did not converge" in res.notes


def test_extreme_scale_is_equivariant():
    """1e-150..1e150 effect-size scales: beta scales by c and sigma^2 by c^2 (no refusal needed)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        base = fit()
        for c in (1e-150, 1e150):
            res = rma_mv(D.yi * c, D.vi * c * c, random=[D.study, D.es_id])
            np.testing.assert_allclose(res.beta / c, base.beta, rtol=1e-6)
            np.testing.assert_allclose(res.sigma2 / (c * c), base.sigma2, rtol=1e-5, atol=1e-12)
