"""MLR (robust ML) against lavaan 0.6-14: tests/oracles/sem_mlr.R -> tests/fixtures/sem_mlr.json.

Two-factor CFA on skewed data (tests/fixtures/sem_mlr.csv), complete (``y1..y6``), with MAR
missing values (``m1..m6``, ``missing="ml"``), and complete in two groups (alternate rows) with equal
loadings, ``estimator="MLR"``. Tolerances: estimates and
robust SEs 1e-4 absolute; chisq.scaled 1e-3 relative; scaling factors, cfi/tli/rmsea scaled and
robust 1e-3 absolute (observed: about 1e-7; see the commit message / report).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.sem import robust

FIX = Path(__file__).parent / "fixtures"
REF = json.loads((FIX / "sem_mlr.json").read_text())
DATA = pd.read_csv(FIX / REF["csv"])
DATA["g"] = np.tile(["a", "b"], len(DATA) // 2)  # the oracle's rep(c("a", "b"), 150)
CASES = {"complete": ("f1 =~ y1 + y2 + y3\nf2 =~ y4 + y5 + y6", "listwise"),
         "missing": ("f1 =~ m1 + m2 + m3\nf2 =~ m4 + m5 + m6", "ml"),
         "multigroup": ("f1 =~ y1 + y2 + y3\nf2 =~ y4 + y5 + y6", "listwise")}


def _sem():
    try:
        from analysis.sem import sem
    except ImportError:  # the engine (branch semcore) not merged yet
        pytest.skip("analysis.sem.sem (the engine) is not available on this branch")
    return sem


@pytest.fixture(scope="module", params=["complete", "missing", "multigroup"])
def fitted(request):
    sem = _sem()
    model, missing = CASES[request.param]
    grp = dict(group="g", group_equal=["loadings"]) if request.param == "multigroup" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # lavaan too: "some cases are empty"
        res = sem(model, DATA, estimator="MLR", missing=missing, **grp)
    return request.param, res


def _term(p):
    return f"{p['lhs']} ~1" if p["op"] == "~1" else f"{p['lhs']} {p['op']} {p['rhs']}"


def test_estimates_and_robust_se(fitted):
    key, res = fitted
    ref = REF[key]
    assert ref["options"]["se"] == "robust.huber.white" and ref["options"]["test"] == "yuan.bentler.mplus"
    pe = res.parameter_estimates()
    pe.index = [(t.replace(" ", ""), int(g)) for t, g in zip(pe["term"], pe["group"])]
    n = 0
    for p in ref["params"]:
        t = (_term(p).replace(" ", ""), int(p.get("group", 1)))
        if p["se"] == 0 and t not in pe.index:
            continue
        assert pe.loc[[t], "estimate"].iloc[0] == pytest.approx(p["est"], abs=1e-4), t
        assert pe.loc[[t], "se"].iloc[0] == pytest.approx(p["se"], abs=1e-4), t
        n += 1
    assert n >= 13
    assert res.converged


def test_scaled_test_and_indices(fitted):
    key, res = fitted
    rf, f = REF[key]["fit"], res.fit
    for k in ("chisq", "chisq.scaled", "baseline.chisq", "baseline.chisq.scaled", "logl", "unrestricted.logl"):
        assert f[k] == pytest.approx(rf[k], rel=1e-3), k
    assert f["df"] == rf["df"] and f["df.scaled"] == rf["df.scaled"] and f["ntotal"] == rf["ntotal"]
    for k in ("chisq.scaling.factor", "baseline.chisq.scaling.factor", "pvalue.scaled", "cfi.scaled",
              "tli.scaled", "rmsea.scaled", "cfi", "tli", "rmsea", "srmr"):
        assert f[k] == pytest.approx(rf[k], abs=1e-3), k
    if key != "missing":
        for k in ("cfi.robust", "tli.robust", "rmsea.robust"):
            assert f[k] == pytest.approx(rf[k], abs=1e-3), k
    else:
        # lavaan's robust CFI/RMSEA with missing data (Zhang & Savalei) are not implemented: absent, not NaN
        assert "cfi.robust" not in f and "rmsea.robust" not in f


def test_mlr_equals_ml_estimates_and_differs_in_se():
    sem = _sem()
    model, _ = CASES["complete"]
    ml = sem(model, DATA, estimator="ML").parameter_estimates()
    mlr = sem(model, DATA, estimator="MLR").parameter_estimates()
    np.testing.assert_allclose(mlr["estimate"], ml["estimate"], atol=1e-8)
    free = ml["se"] > 0
    assert not np.allclose(mlr["se"][free], ml["se"][free], rtol=1e-3)


def test_normal_data_scaling_near_one():
    """With multivariate normal data the Yuan-Bentler factor is close to 1 (large n)."""
    rng = np.random.default_rng(11)
    L = np.array([[1.0, 0.8, 0.7, 0.6]])
    X = rng.normal(size=(4000, 1)) @ L + rng.normal(size=(4000, 4)) * 0.6
    A1, B1 = robust.h1_matrices(X, X.mean(axis=0), np.cov(X.T, ddof=0))
    # information-matrix equality: B1 ~ A1 under normality
    assert np.trace(np.linalg.solve(A1, B1)) / A1.shape[0] == pytest.approx(1.0, abs=0.05)
