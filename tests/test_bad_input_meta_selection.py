"""Bad input for analysis.meta_selection.selection_model: every refusal is a ValueError naming the
argument (or the empty p-value interval); estimates at a bound are a UserWarning with a note.
Extreme magnitudes: the model is scale-equivariant (y * c, v * c^2 for c from 1e-6 to 1e6, relative
tolerance 1e-5 on beta, tau^2 / c^2, delta and the LRT; see also tests/test_meta_selection.py).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.meta import meta_analysis
from analysis import meta_selection as ms
from analysis.meta_selection import selection_model

FIX = json.loads((Path(__file__).parent / "fixtures" / "meta_selection.json").read_text())
HACK = FIX["datasets"]["hackshaw1998"]


@pytest.fixture(scope="module")
def res():
    return meta_analysis(HACK["yi"], HACK["vi"], method="ML")


@pytest.mark.parametrize("bad", [None, {"yi": [0.1], "vi": [0.1]}, "res", 3.0, pd.DataFrame({"yi": [0.1]})])
def test_res_must_be_a_metaresult(bad):
    with pytest.raises(ValueError, match="`res` must be a MetaResult"):
        selection_model(bad, "stepfun", steps=[0.025])


def test_type_and_alternative_are_checked(res):
    with pytest.raises(ValueError, match="`type` must be one of 'stepfun', 'halfnorm'"):
        selection_model(res, "beta")
    with pytest.raises(ValueError, match="`type` must be one of"):
        selection_model(res, None)
    with pytest.raises(ValueError, match="`alternative` must be one of 'greater', 'less', 'two.sided'"):
        selection_model(res, "halfnorm", alternative="two-sided")


@pytest.mark.parametrize(("steps", "msg"), [
    (None, "`steps` is required for type='stepfun'"),
    ("0.025", "`steps` must be a number or a sequence"),
    ({"a": 0.025}, "`steps` must be a number or a sequence"),
    ([], "`steps` must be a non-empty 1-D sequence"),
    ([0.025, float("nan")], "`steps` has missing or infinite values at position 1"),
    ([0.025, np.inf], "`steps` has missing or infinite values at position 1"),
    ([0.0, 0.5], r"`steps` must lie in \(0, 1\]; position 0 is 0.0"),
    ([-0.1], r"`steps` must lie in \(0, 1\]"),
    ([0.5, 1.5], r"`steps` must lie in \(0, 1\]; position 1 is 1.5"),
    ([[0.025, 0.5]], "`steps` must be a non-empty 1-D sequence"),
    (["a", "b"], "`steps` must be numeric p-value cut-points"),
    ([1.0], r"`steps` = \[1\] leaves a single p-value interval"),
])
def test_bad_steps(res, steps, msg):
    with pytest.raises(ValueError, match=msg):
        selection_model(res, "stepfun", steps=steps)


def test_continuous_model_takes_one_cut_point(res):
    with pytest.raises(ValueError, match="type='halfnorm' takes a single `steps` value"):
        selection_model(res, "halfnorm", steps=[0.025, 0.5])


def test_empty_interval_is_refused_and_named(res):
    # metafor: "One or more intervals do not contain any observed p-values" (without naming them)
    assert "do not contain any observed p-values" in FIX["empty_interval_error"]
    with pytest.raises(ValueError, match=r"`steps`: the p-value intervals 0 < p <= 0.001; 0.001 < p <= 0.002 "
                                         r"hold no study"):
        selection_model(res, "stepfun", steps=[0.001, 0.002, 1])
    with pytest.raises(ValueError, match=r"the p-value interval 0.025 < p <= 0.026 holds no study"):
        selection_model(res, "stepfun", steps=[0.025, 0.026])
    with pytest.raises(ValueError, match="holds no study"):
        selection_model(res, "halfnorm", steps=[1e-6])


def test_too_few_studies():
    one = meta_analysis([0.3], [0.02], method="FE")
    with pytest.raises(ValueError, match=r"Number of studies \(k = 1\) is too small"):
        selection_model(one, "stepfun", steps=[0.5])
    few = meta_analysis([0.5, 0.1, 0.4], [0.02, 0.03, 0.01], method="ML")
    with pytest.raises(ValueError, match=r"Number of studies \(k = 3\) is too small.*3 selection parameter"):
        selection_model(few, "stepfun", steps=[0.01, 0.2, 0.5])
    fe_many = meta_analysis([0.5, 0.1], [0.02, 0.03], method="FE", mods=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"k = 2\) is too small to fit this selection model: it has 2 coefficient"):
        selection_model(fe_many, "halfnorm")


@pytest.mark.parametrize("bad", [0, -5, 2.5, True, "100", None])
def test_maxiter(res, bad):
    with pytest.raises(ValueError, match="`maxiter` must be a positive integer"):
        selection_model(res, "halfnorm", maxiter=bad)


def test_delta_at_its_bound_warns_and_notes():
    rng = np.random.default_rng(1)
    v = rng.uniform(0.01, 0.1, 30)
    y = -0.3 + rng.normal(0, np.sqrt(v))
    y[:3] = [0.9, 1.0, 0.8]
    with pytest.warns(UserWarning, match="delta estimates are \\(almost\\) equal to their lower or upper bound"):
        s = selection_model(meta_analysis(y, v, method="ML"), "negexp")
    assert any("at their bound" in n for n in s.notes) and "Note:" in s.summary()


def test_tau2_on_the_boundary_is_noted():
    yi = [0.45, 0.31, 0.62, 0.05, 0.28, -0.10, 0.51, 0.22, 0.70, 0.15, 0.38, 0.02, 0.12, 0.55, -0.05, 0.33]
    vi = [0.02, 0.03, 0.05, 0.04, 0.01, 0.06, 0.03, 0.02, 0.08, 0.05, 0.04, 0.03, 0.02, 0.06, 0.05, 0.01]
    s = selection_model(meta_analysis(yi, vi, method="ML"), "stepfun", steps=[0.025])
    assert any("boundary" in n for n in s.notes)


@pytest.mark.parametrize("scale", [1e-6, 1e-2, 1e2, 1e6])
def test_extreme_magnitudes_are_equivariant(scale):
    y, v = np.asarray(HACK["yi"]), np.asarray(HACK["vi"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        base = selection_model(meta_analysis(y, v, method="DL"), "negexp")
        s = selection_model(meta_analysis(y * scale, v * scale**2, method="DL"), "negexp")
    np.testing.assert_allclose(s.beta / scale, base.beta, rtol=1e-5)
    np.testing.assert_allclose(s.tau2 / scale**2, base.tau2, rtol=1e-5)
    np.testing.assert_allclose(s.delta, base.delta, rtol=1e-5)
    np.testing.assert_allclose(s.lrt, base.lrt, rtol=1e-5)
    assert ms.SELECTION_TYPES == ("stepfun", "halfnorm", "negexp", "power")


def test_optimiser_failure_is_reported(res, monkeypatch):
    """A failed optimiser gives converged=False, a note and a ConvergenceWarning (not silent numbers)."""
    from scipy import optimize
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    def stuck(fun, x0, **kwargs):
        return optimize.OptimizeResult(x=np.asarray(x0, float), fun=fun(np.asarray(x0, float)), success=False,
                                       message="stuck", nfev=1)

    monkeypatch.setattr(ms.optimize, "minimize", stuck)
    with pytest.warns(ConvergenceWarning) as rec:
        s = selection_model(res, "stepfun", steps=[0.025, 0.5])
    assert any("the optimiser did not converge" in str(w.message) for w in rec)
    assert not s.converged and any("did not converge" in n for n in s.notes)
