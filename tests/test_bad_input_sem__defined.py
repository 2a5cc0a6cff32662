"""Bad input for defined parameters (``name := expression``) of analysis.sem (analysis/sem/defined.py)."""

import numpy as np
import pandas as pd
import pytest

from analysis.sem import sem
from analysis.sem.defined import apply_equalities, check_labels, defined_rows, evaluate, split_definitions

BASE = "m ~ a*x\ny ~ b*m + c*x\n"


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    d = pd.DataFrame({"x": rng.normal(size=150)})
    d["m"] = 0.5 * d["x"] + rng.normal(size=150)
    d["y"] = 0.4 * d["m"] + rng.normal(size=150)
    d["g"] = np.repeat(["u", "v"], 75)
    d["o"] = np.digitize(d["y"], [-1, 0, 1])
    return d


@pytest.mark.parametrize("line,match", [
    ("ab := a*bb", r"line 3 \(ab := a\*bb\): 'bb' is not a parameter label.*Did you mean 'b'"),
    ("ab := a*d", r"line 3.*'d' is not a parameter label"),
    ("ab := foo(a)", r"line 3.*function 'foo' is not supported"),
    ("ab := sqr(a)", r"function 'sqr' is not supported.*Did you mean 'sqrt'"),
    ("ab := sqrt(a, b)", r"function 'sqrt' is not supported.*one argument"),
    ("ab := __import__('os')", r"function '__import__' is not supported"),
    ("ab := a % b", r"line 3.*Mod is not allowed"),
    ("ab := a == b", r"line 3.*Compare is not allowed"),
    ("ab := a[0]", r"line 3.*Subscript is not allowed"),
    ("ab := 'a'", r"line 3.*Constant is not allowed"),
    ("ab := (a*b", r"line 3.*cannot read the expression"),
    ("ab := a if b else c", r"line 3.*cannot read the expression"),
    ("ab := ", r"line 3.*nothing on the right-hand side of ':='"),
    ("1ab := a*b", r"line 3.*the defined name '1ab' is not a name"),
    ("log := a*b", r"line 3.*'log' is a function name"),
    ("ab := a*b\nab := a", r"line 4.*'ab' is defined twice \(first on line 3\)"),
    ("ab := ind*2\nind := a*b", r"line 3.*'ind' is not a parameter label"),
    ("c := a*b", r"line 3 \(c := a\*b\): 'c' is already a parameter label"),
])
def test_sem_refuses_bad_definitions(data, line, match):
    with pytest.raises(ValueError, match=match):
        sem(BASE + line, data)


def test_sem_refuses_constraints(data):
    with pytest.raises(ValueError, match=r"line 3.*'==' is supported between two parameter labels only"):
        sem(BASE + "a == 2*b", data)
    with pytest.raises(ValueError, match=r"line 3.*'==' is supported between two parameter labels only"):
        sem(BASE + "a == 0.5", data)
    with pytest.raises(ValueError, match=r"line 3 \(a == bb\): 'bb' is not a parameter label.*Did you mean 'b'"):
        sem(BASE + "a == bb", data)
    with pytest.raises(ValueError, match=r"line 4 \(ab == c\): 'ab' is a defined parameter"):
        sem(BASE + "ab := a*b\nab == c", data)
    with pytest.raises(ValueError, match=r"line 4 \(a == f\): 'f' is a fixed parameter"):
        sem("m ~ a*x\ny ~ m + f*x\ny ~~ f*1*m\na == f", data)
    with pytest.raises(ValueError, match="'<' is not supported"):
        sem(BASE + "a < 1", data)
    with pytest.raises(ValueError, match="'>' is not supported"):
        sem(BASE + "b > 0", data)


def test_sem_refuses_group_labels_that_do_not_exist(data):
    with pytest.raises(ValueError, match=r"'a3' is not a parameter label of the model \(labels: a1, a2\)"):
        sem("m ~ c(a1, a2)*x\ny ~ m + x\ndiff := a1 - a3", data, group="g")


def test_sem_refuses_definitions_with_ordered_items(data):
    with pytest.raises(ValueError, match=r"defined parameters and '==' \(line 2: 'k := 2\*a'\).*not with ordered"):
        sem("f =~ a*o + m + y\nk := 2*a", data, ordered=["o"], estimator="WLSMV")


def test_domain_errors_are_reported(data):
    with pytest.warns(UserWarning, match="defined parameter 'r' .*sqrt of"):
        sem(BASE + "r := sqrt(-a)", data)
    with pytest.warns(UserWarning, match="defined parameter 'q' .*division by zero"):
        sem(BASE + "q := a/(b - b)", data)


def test_split_definitions_refuses_bad_input():
    with pytest.raises(ValueError, match="model must be a string"):
        split_definitions(None)
    with pytest.raises(ValueError, match="line 1.*cannot read the expression"):
        split_definitions("ab := a**")


def test_check_labels_refuses_bad_input():
    _, defs = split_definitions("ab := a*b")
    with pytest.raises(ValueError, match="'b' is not a parameter label.*Did you mean 'bb'"):
        check_labels(defs, ["a", "bb"])
    with pytest.raises(ValueError, match="labels must be a list of label strings"):
        check_labels(defs, "ab")
    with pytest.raises(ValueError, match="defs must be a list of Definition"):
        check_labels("ab := a*b", ["a", "b"])


def test_evaluate_refuses_bad_input():
    _, defs = split_definitions("ab := a*b")
    g = {"a": np.array([1.0, 0.0]), "b": np.array([0.0, 1.0])}
    with pytest.raises(ValueError, match="q must be a non-negative integer"):
        evaluate(defs, {"a": 1.0, "b": 2.0}, g, -1)
    with pytest.raises(ValueError, match="grads: label 'b' needs a gradient of length q = 2"):
        evaluate(defs, {"a": 1.0, "b": 2.0}, {"a": g["a"], "b": np.zeros(3)}, 2)
    with pytest.raises(ValueError, match="values: label 'a' has a non-numeric value 'x'"):
        evaluate(defs, {"a": "x", "b": 2.0}, g, 2)
    with pytest.raises(ValueError, match="'b' is not a parameter label"):
        evaluate(defs, {"a": 1.0}, {"a": g["a"]}, 2)
    with pytest.raises(ValueError, match="values and grads must be mappings"):
        evaluate(defs, [1.0, 2.0], g, 2)


def test_defined_rows_refuses_bad_input(data):
    with pytest.raises(ValueError, match="result must be a fitted SEMResult"):
        defined_rows({"defined": []})
    res = sem(BASE + "ab := a*b", data)
    with pytest.raises(ValueError, match="level must be a number in"):
        defined_rows(res, level=95.0)
    with pytest.raises(ValueError, match="level must be a number in"):
        res.parameter_estimates(level=0.0)


@pytest.mark.parametrize("scale", [1e-4, 1e-2, 1e2, 1e4])
def test_defined_parameters_are_scale_equivariant(data, scale):
    """a*b is in units of y per x: rescaling x by s divides it and its SE by s; std_all is unchanged.

    (Only x is rescaled: beyond ~1e5 the engine refuses the sample covariance as singular, its
    eigenvalue check being relative to the trace; that is the engine, not the defined parameters.)"""
    ref = sem(BASE + "ab := a*b", data).parameter_estimates().set_index("term").loc["ab := a*b"]
    d = data.copy()
    d["x"] = d["x"] * scale
    got = sem(BASE + "ab := a*b", d).parameter_estimates().set_index("term").loc["ab := a*b"]
    assert got["estimate"] * scale == pytest.approx(ref["estimate"], rel=1e-5)
    assert got["se"] * scale == pytest.approx(ref["se"], rel=1e-4)
    assert got["std_all"] == pytest.approx(ref["std_all"], rel=1e-5)
    assert got["std_all_se"] == pytest.approx(ref["std_all_se"], rel=1e-3)


def test_apply_equalities_refuses_bad_input():
    from analysis.sem.syntax import parameter_table
    _, defs = split_definitions("y ~ a*x1 + b*x2\na == b")
    with pytest.raises(ValueError, match="pt must be a parameter table"):
        apply_equalities({"label": ["a"]}, defs)
    with pytest.raises(ValueError, match="defs must be a list of Definition"):
        apply_equalities(parameter_table("y ~ a*x1 + b*x2"), "a == b")
    _, defs = split_definitions("y ~ a*x1 + b*x2\na == d")
    with pytest.raises(ValueError, match="'d' is not a parameter label"):
        apply_equalities(parameter_table("y ~ a*x1 + b*x2"), defs)
