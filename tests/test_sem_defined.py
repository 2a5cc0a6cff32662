"""Defined parameters (``name := expression``) in analysis.sem against lavaan 0.6.14.

Fixture: tests/fixtures/sem_defined.json made by tests/oracles/sem_defined.R on
tests/fixtures/sem_defined.csv (simulated in R, fixed seed).
"""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.sem import sem
from analysis.sem.defined import evaluate, split_definitions

FIX = Path(__file__).parent / "fixtures"
ORACLE = json.loads((FIX / "sem_defined.json").read_text())
DATA = pd.read_csv(FIX / "sem_defined.csv")
CASES = {"ml": {}, "mlr": {"estimator": "MLR"}, "fiml": {"missing": "ml"},
         "mlr_fiml": {"missing": "ml", "estimator": "MLR"}, "mg": {"group": "g"}}
# absolute tolerances: complete-data ML/MLR and the two-group ML agree with lavaan to ~1e-8;
# FIML (its optimiser stops ~1e-7 from lavaan's optimum) to ~1e-6, so 1e-5 there.
TOL = {"ml": 1e-6, "mlr": 1e-6, "fiml": 1e-5, "mlr_fiml": 1e-5, "mg": 1e-6}
COLS = [("estimate", "est"), ("se", "se"), ("statistic", "z"), ("pvalue", "pvalue"), ("ci_low", "ci_lower"),
        ("ci_high", "ci_upper"), ("std_all", "std_all"), ("std_all_se", "std_all_se")]


@pytest.fixture(scope="module", params=list(CASES))
def fitted(request):
    case = request.param
    return case, sem(ORACLE[case]["model"], DATA, **CASES[case])


def test_defined_rows_match_lavaan(fitted):
    case, res = fitted
    ref = ORACLE[case]
    pe = res.parameter_estimates()
    d = pe[pe["op"] == ":="]
    assert list(d["lhs"]) == ref["lhs"] and list(d["rhs"]) == ref["rhs"]
    assert list(d["label"]) == ref["lhs"] and list(d["group"]) == [0] * len(d)
    for ours, theirs in COLS:
        np.testing.assert_allclose(d[ours].to_numpy(dtype=float), ref[theirs], rtol=0, atol=TOL[case],
                                   err_msg=f"{case}: {ours}")


def test_standardized_solution_has_defined_rows(fitted):
    case, res = fitted
    ss = res.standardized_solution()
    d = ss[ss["op"] == ":="]
    np.testing.assert_allclose(d["estimate"], ORACLE[case]["std_all"], atol=TOL[case])
    np.testing.assert_allclose(d["se"], ORACLE[case]["std_all_se"], atol=TOL[case])


def test_summary_prints_defined_parameters():
    res = sem(ORACLE["ml"]["model"], DATA)
    text = res.summary()
    block = text.split("Defined Parameters:")[1].splitlines()
    assert block[2].split()[:3] == ["ab", "0.238", "0.043"]
    assert block[3].split()[0] == "total"
    assert res.to_frame()["term"].iloc[-1] == "total := c+a*b"


def test_to_dict_is_plain():
    res = sem(ORACLE["ml"]["model"], DATA)
    pars = res.to_dict()["parameters"]
    assert any(p == "ab := a*b" for p in (pars["term"] if isinstance(pars, dict) else [r["term"] for r in pars]))


def test_gradient_is_exact_against_central_differences():
    _, defs = split_definitions("f := sqrt(a)*exp(b)/(1 + abs(a - b))^2 - log(b)*a^b")
    a, b = 1.7, 0.6
    (v, g, note), = evaluate(defs, {"a": a, "b": b}, {"a": np.array([1.0, 0]), "b": np.array([0, 1.0])}, 2)

    def f(a, b):
        return math.sqrt(a) * math.exp(b) / (1 + abs(a - b)) ** 2 - math.log(b) * a ** b

    h = 1e-6
    num = [(f(a + h, b) - f(a - h, b)) / (2 * h), (f(a, b + h) - f(a, b - h)) / (2 * h)]
    assert note == "" and v == pytest.approx(f(a, b), rel=1e-14)
    np.testing.assert_allclose(g, num, rtol=1e-8)


def test_definitions_may_use_earlier_definitions_and_constants():
    res = sem("m ~ a*x\ny ~ b*m + c*x\nab := a*b\nprop := ab / (c + ab)\nhalf := 0.5*ab", DATA)
    pe = res.parameter_estimates().set_index("term")
    ab = pe.loc["ab := a*b", "estimate"]
    assert pe.loc["half := 0.5*ab", "estimate"] == pytest.approx(ab / 2)
    assert pe.loc["half := 0.5*ab", "se"] == pytest.approx(pe.loc["ab := a*b", "se"] / 2)
    c = pe.loc["y ~ x", "estimate"]
    assert pe.loc["prop := ab/(c+ab)", "estimate"] == pytest.approx(ab / (c + ab))


def test_nan_is_reported_not_silent():
    with pytest.warns(UserWarning, match="defined parameter 'l'.*log of"):
        res = sem("m ~ a*x\ny ~ b*m + c*x\nl := log(-a)", DATA)
    assert any("log of" in w for w in res.warnings)
    assert np.isnan(res.parameter_estimates().set_index("lhs").loc["l", "estimate"])


def test_semicolons_comments_and_continuations():
    rest, defs = split_definitions("m ~ a*x; ab := a *   # comment\n b; y ~ b*m")
    assert [(d.name, d.expr) for d in defs] == [("ab", "a*b")]
    assert rest.split("\n") == ["m ~ a*x", " y ~ b*m"]


def test_equality_between_two_labels_matches_lavaan():
    """`a1 == a2` (a lavaan equality constraint) is one free parameter here, as a shared label."""
    ref = ORACLE["mg_eq"]
    res = sem(ref["model"], DATA, group="g")
    assert int(res.fit["npar"]) == ref["npar"] and int(res.fit["df"]) == ref["df"]
    assert res.fit["chisq"] == pytest.approx(ref["chisq"], abs=1e-6)
    pe = res.parameter_estimates()
    d = pe[pe["op"] == ":="]
    for ours, theirs in COLS:
        np.testing.assert_allclose(d[ours].to_numpy(dtype=float), np.atleast_1d(ref[theirs]), rtol=0, atol=1e-5,
                                   err_msg=ours)
    allp = pd.DataFrame(ref["all"])
    m = pe[pe["op"] != ":="].merge(allp, on=["lhs", "op", "rhs", "group"], how="outer", indicator=True)
    assert (m["_merge"] == "both").all()
    # estimates to 1e-5 (the optimisers stop ~7e-7 apart), SEs to 1e-6
    np.testing.assert_allclose(m["estimate"], m["est"], atol=1e-5)
    np.testing.assert_allclose(m["se_x"], m["se_y"], atol=1e-6)
    a = pe[(pe["op"] == "~") & (pe["rhs"] == "x") & (pe["lhs"] == "m")]["estimate"].to_numpy()
    assert a[0] == a[1]
    assert "a1 - (a2)" in res.summary().split("Constraints:")[1]
