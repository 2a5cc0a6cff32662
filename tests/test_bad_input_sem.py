"""Bad input to analysis.sem (the package and its modules syntax, model, estimate, fit, standardized,
modindices): every public function refuses it with a ValueError that names the argument, column,
line or term (tests/test_bad_input.py checks that each public function is reached here)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from analysis import sem as S
from analysis.sem import estimate as E
from analysis.sem import fit as F
from analysis.sem import modindices as MI
from analysis.sem import standardized as ST
from analysis.sem import syntax as SY
from analysis.sem.model import SEMModel, check_theta

M1 = "f =~ x1 + x2 + x3 + x4"


def _data(n=200, seed=1, p=4):
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(n, 1))
    return pd.DataFrame(f @ np.full((1, p), 0.8) + rng.normal(size=(n, p)) * 0.6,
                        columns=[f"x{j}" for j in range(1, p + 1)])


# ----------------------------------------------------------------------------- syntax
@pytest.mark.parametrize("model,match", [
    ("", "model is empty"),
    ("# only a comment", "model is empty"),
    ("f =~ ", "nothing on the right-hand side"),
    ("f =~ x1 + + x2", "empty term"),
    ("f =~ x1 +\n\n", "empty term|nothing on the right"),
    ("f x1 x2", "line 1.*no operator"),
    ("f =~ x1 + x2\n x3 x4", "line 2.*no operator"),
    ("f =~ x1 + 2x", "line 1.*'2x' is not a variable name"),
    ("f := a*b", "':=' is not supported"),
    ("a == b", "'==' is not supported"),
    ("f =~ x1 + foo(3)*x2", "cannot read the modifier"),
    ("f =~ x1 + a*b*x2", "two label modifiers"),
    ("1f =~ x1", "left-hand side"),
    ("u1 | x1", "thresholds are named t1"),
])
def test_parse_syntax_refuses_bad_syntax(model, match):
    with pytest.raises(ValueError, match=match):
        SY.parse_syntax(model)


def test_parse_syntax_refuses_non_strings():
    for bad in (None, 3, ["f =~ x1"], {"f": "x1"}):
        with pytest.raises(ValueError, match="model must be a string"):
            SY.parse_syntax(bad)


def test_parameter_table_refuses_unknown_names_and_types():
    with pytest.raises(ValueError, match="'x5'.*neither a column.*Did you mean 'x55'"):
        SY.parameter_table("f =~ x1 + x2 + x5", ["x1", "x2", "x3", "x4", "x55"])
    with pytest.raises(ValueError, match="group_equal: unknown type 'loading'.*Did you mean 'loadings'"):
        SY.parameter_table(M1, n_groups=2, group_equal=["loading"])
    with pytest.raises(ValueError, match="specified twice"):
        SY.parameter_table("f =~ x1 + x2 + x3\n f =~ x2")
    with pytest.raises(ValueError, match="group_partial: cannot read"):
        SY.parameter_table(M1, n_groups=2, group_equal=["loadings"], group_partial=["f =~"])
    with pytest.raises(ValueError, match="group_partial: each entry is a string"):
        SY.parameter_table(M1, n_groups=2, group_equal=["loadings"], group_partial=[3])
    with pytest.raises(ValueError, match="has 3 modifiers in c\\(...\\) but the data have 2"):
        SY.parameter_table("f =~ x1 + c(a, b, c)*x2 + x3", n_groups=2)
    with pytest.raises(ValueError, match="ordered: 'x9' is not an observed variable"):
        SY.parameter_table(M1, ordered=["x9"])
    with pytest.raises(ValueError, match="'x1' is not in ordered"):
        SY.parameter_table(M1 + "\n x1 | t1")
    with pytest.raises(ValueError, match="indicator of itself"):
        SY.parameter_table("f =~ f + x1")


# ----------------------------------------------------------------------------- sem()
def test_sem_refuses_bad_model_and_data():
    X = _data()
    with pytest.raises(ValueError, match="model must be a string"):
        S.sem(None, X)
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame, got dict"):
        S.sem(M1, X.to_dict())
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame, got NoneType"):
        S.cfa(M1, None)
    with pytest.raises(ValueError, match="`data` has 0 rows"):
        S.sem(M1, X.iloc[:0])
    with pytest.raises(ValueError, match="line 1.*'X3'.*Did you mean 'x3'"):
        S.sem("f =~ x1 + x2 + X3", X)
    with pytest.raises(ValueError, match="line 2.*no operator"):
        S.sem("f =~ x1 + x2 + x3\n x4", X)


def test_sem_refuses_bad_columns():
    X = _data()
    with pytest.raises(ValueError, match="column 'x2' is not numeric"):
        S.sem(M1, X.assign(x2=["a"] * len(X)))
    with pytest.raises(ValueError, match="column 'x3' has zero variance"):
        S.sem(M1, X.assign(x3=1.0))
    with pytest.raises(ValueError, match="column 'x1' has infinite values at index labels \\[4\\]"):
        S.sem(M1, X.assign(x1=np.where(np.arange(len(X)) == 4, np.inf, X["x1"])))
    with pytest.raises(ValueError, match="singular"):
        S.sem(M1, X.assign(x4=X["x1"] + X["x2"]))
    with pytest.raises(ValueError, match="2 complete rows.*4 observed variables"):
        S.sem(M1, X.iloc[:2])
    with pytest.raises(ValueError, match="outside the range.*rescale"):
        S.sem(M1, X * 1e200)
    with pytest.raises(ValueError, match="outside the range.*rescale"):
        S.sem(M1, X * 1e-200)


def test_sem_scale_equivariance():
    """Rescaling all variables by 1e6 (or 1e-6) rescales loadings' variances and leaves the fit alone."""
    X = _data()
    a = S.sem(M1, X)
    for c in (1e-6, 1e6):
        b = S.sem(M1, X * c)
        assert b.fit["chisq"] == pytest.approx(a.fit["chisq"], rel=1e-6)
        pa, pb = a.parameter_estimates(), b.parameter_estimates()
        assert np.allclose(pb["std_all"], pa["std_all"], rtol=1e-6, atol=1e-9)


def test_sem_refuses_bad_options():
    X = _data()
    with pytest.raises(ValueError, match="missing must be one of.*'listwise'"):
        S.sem(M1, X, missing="pairwise")
    with pytest.raises(ValueError, match="estimator: 'GLS' is not available"):
        S.sem(M1, X, estimator="GLS")
    with pytest.raises(ValueError, match="estimator must be a string"):
        S.sem(M1, X, estimator=None)
    with pytest.raises(ValueError, match="information must be 'expected' or 'observed'"):
        S.sem(M1, X, information="hessian")
    with pytest.raises(ValueError, match="std_lv must be True or False"):
        S.sem(M1, X, std_lv="yes")
    with pytest.raises(ValueError, match="meanstructure must be None, True or False"):
        S.sem(M1, X, meanstructure=1)
    with pytest.raises(ValueError, match="ordered must be a list"):
        S.sem(M1, X, ordered="x1")


def test_sem_refuses_bad_groups():
    X = _data()
    with pytest.raises(ValueError, match="Column 'grp' \\(given as `group`\\).*Did you mean 'group'"):
        S.sem(M1, X.assign(group="a"), group="grp")
    with pytest.raises(ValueError, match="single group \\('a'\\)"):
        S.sem(M1, X.assign(g="a"), group="g")
    with pytest.raises(ValueError, match="missing values at index labels \\[0\\]"):
        S.sem(M1, X.assign(g=[None] + ["a", "b"] * 99 + ["a"]), group="g")
    with pytest.raises(ValueError, match="usable row\\(s\\) in group 'b'|complete rows in group 'b'"):
        S.sem(M1, X.assign(g=["a"] * 199 + ["b"]), group="g")
    with pytest.raises(ValueError, match="zero variance in group 'b'"):
        S.sem(M1, X.assign(g=["a"] * 100 + ["b"] * 100, x2=np.r_[X["x2"][:100], np.ones(100)]), group="g")


def test_sem_warns_about_dropped_rows_and_heywood_cases():
    X = _data()
    Xm = X.copy()
    Xm.iloc[[3, 8], 1] = np.nan
    with pytest.warns(UserWarning, match="2 row\\(s\\) with missing values dropped.*index labels \\[3, 8\\]"):
        res = S.sem(M1, Xm)
    assert res.n_obs == 198 and any("dropped" in w for w in res.warnings)
    # a Heywood case: x1 almost a copy of the factor's only other strong indicator
    rng = np.random.default_rng(5)
    Y = pd.DataFrame({"a": rng.normal(size=300)})
    Y["b"] = Y["a"] + rng.normal(size=300) * 0.05
    Y["c"] = 0.2 * Y["a"] + rng.normal(size=300)
    with pytest.warns(UserWarning, match="negative variance \\(Heywood case\\)|not positive definite"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            S.sem("f =~ a + b + c\n f ~~ 5*f", Y)


def test_sem_refuses_more_parameters_than_moments():
    with pytest.raises(ValueError, match="11 free parameters but only 10 sample moments.*not identified"):
        S.sem("f =~ x1 + x2 + x3 + x4\n x1 ~~ x2 + x3\n x2 ~~ x3", _data())


def test_sem_reports_non_identified_models():
    X = _data()
    with pytest.warns(UserWarning, match="information matrix is singular"):
        res = S.sem("f =~ x1 + x2\n g =~ x3 + x4\n f ~~ 0*g", X)
    assert not res.converged
    assert np.isnan(res.parameter_estimates()["se"][res.partable["free"] > 0]).all()


def test_result_methods_refuse_bad_arguments():
    res = S.sem(M1, _data())
    with pytest.raises(ValueError, match="level must be a number in \\(0, 1\\)"):
        res.parameter_estimates(level=1.5)
    with pytest.raises(ValueError, match="unknown fit measure 'cfii'.*Did you mean 'cfi'"):
        res.fit_measures(["cfii"])
    with pytest.raises(ValueError, match="minimum must be a non-negative number"):
        res.modification_indices(minimum=-1)
    with pytest.raises(ValueError, match="type must be 'std.all' or 'std.lv'"):
        res.standardized_solution(type="std.nox")


# ----------------------------------------------------------------------------- internals
def _model():
    return SEMModel(SY.parameter_table("f =~ x1 + x2 + x3"), ["x1", "x2", "x3"])


def test_check_theta_names_the_argument():
    m = _model()
    with pytest.raises(ValueError, match="theta0 must have length 6"):
        check_theta(m, [1.0, 2.0], "theta0")
    with pytest.raises(ValueError, match="theta must be a vector of 6 numbers, got str"):
        check_theta(m, "abc")
    with pytest.raises(ValueError, match="model must be an analysis.sem.model.SEMModel"):
        check_theta(None, np.ones(6))


def test_standardize_refuses_bad_theta():
    m = _model()
    with pytest.raises(ValueError, match="theta must have length 6"):
        ST.standardize(m, np.ones(5))
    with pytest.raises(ValueError, match="theta has non-finite values at positions \\[2\\]"):
        ST.standardize(m, np.array([1, 1, np.nan, 1, 1, 1.0]))
    with pytest.raises(ValueError, match="model must be an analysis.sem.model.SEMModel"):
        ST.scale_factors("f =~ x1", np.ones(6))
    with pytest.raises(ValueError, match="vcov must be a finite 6 x 6 matrix"):
        ST.standardized_se(m, np.ones(6), np.eye(5))


def test_fit_functions_refuse_bad_statistics():
    with pytest.raises(ValueError, match="chisq must be a finite non-negative number"):
        F.cfi(-1.0, 2, 100.0, 6)
    with pytest.raises(ValueError, match="df_base must be a finite positive number"):
        F.tli(3.0, 2, 100.0, 0)
    with pytest.raises(ValueError, match="n must be a finite positive number"):
        F.rmsea(3.0, 2, 0)
    with pytest.raises(ValueError, match="groups must be a positive integer"):
        F.rmsea(3.0, 2, 100, groups=0)
    with pytest.raises(ValueError, match="level must be a number in \\(0, 1\\)"):
        F.rmsea_ci(3.0, 2, 100, level=90)
    with pytest.raises(ValueError, match="chisq must be a number"):
        F.rmsea_pvalue("x", 2, 100)
    with pytest.raises(ValueError, match="chisq must be a finite non-negative number"):
        F.rmsea_pvalue(math.nan, 2, 100)
    with pytest.raises(ValueError, match="same \\(non-zero\\) length"):
        F.srmr([np.eye(2)], [], [np.eye(2)], [np.zeros(2)], [10], meanstructure=False)
    with pytest.raises(ValueError, match="positive variances"):
        F.srmr([np.zeros((2, 2))], [np.zeros(2)], [np.eye(2)], [np.zeros(2)], [10], meanstructure=False)
    with pytest.raises(ValueError, match="obj must be an analysis.sem.estimate.Objective"):
        F.fit_measures(None, np.ones(6))


def test_estimate_functions_refuse_bad_input():
    m = _model()
    X = _data(p=3).to_numpy()
    d = [E.GroupData(X)]
    obj = E.Objective(m, d)
    with pytest.raises(ValueError, match="theta0 must have length 6"):
        E.fit_ml(obj, np.ones(3))
    with pytest.raises(ValueError, match="maxiter must be a positive integer"):
        E.fit_ml(obj, np.ones(6), maxiter=0)
    with pytest.raises(ValueError, match="tol must be a positive number"):
        E.fit_ml(obj, np.ones(6), tol=-1.0)
    with pytest.raises(ValueError, match="obj must be an analysis.sem.estimate.Objective"):
        E.fit_ml("obj", np.ones(6))
    with pytest.raises(ValueError, match="data must be a non-empty list of GroupData"):
        E.start_values(m, [])
    with pytest.raises(ValueError, match="data has 2 group\\(s\\) but the model has 1"):
        E.start_values(m, d * 2)
    with pytest.raises(ValueError, match="func must be callable"):
        E.register_estimator("XYZ", None)
    with pytest.raises(ValueError, match="name must be a non-empty string"):
        E.register_estimator("", E.fit_ml)


def test_modification_indices_refuse_other_objects():
    with pytest.raises(ValueError, match="result must be an SEMResult"):
        MI.modification_indices({"model": M1})
