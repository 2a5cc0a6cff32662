"""Bad input for analysis.sem.robust (MLR building blocks): ValueErrors naming the argument."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.sem import robust
from analysis.sem.robust import fit_mlr, h1_matrices, sandwich_vcov, scaled_fit_measures, yuan_bentler_scaling

I3 = np.eye(3)
D = np.array([[1.0], [0.0], [0.0]])


def test_h1_matrices_bad():
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match="`meanstructure` must be True or False"):
        h1_matrices(X, np.zeros(2), np.eye(2), meanstructure="yes")
    with pytest.raises(ValueError, match="`mu` must have length 2"):
        h1_matrices(X, np.zeros(3), np.eye(2))
    with pytest.raises(ValueError, match="2-d numeric array"):
        h1_matrices(None, np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="not positive definite"):
        h1_matrices(X, np.zeros(2), -np.eye(2))
    with pytest.raises(ValueError, match="infinite"):
        h1_matrices(np.array([[1.0, np.inf], [0.0, 1.0]]), np.zeros(2), np.eye(2))


def test_sandwich_bad():
    with pytest.raises(ValueError, match="`E` must be a square matrix"):
        sandwich_vcov(np.zeros((2, 3)), [I3], [D], [10])
    with pytest.raises(ValueError, match="`E` is singular"):
        sandwich_vcov(np.zeros((1, 1)), [I3], [D], [10])
    with pytest.raises(ValueError, match="`E` must be finite"):
        sandwich_vcov(np.array([[np.nan]]), [I3], [D], [10])
    with pytest.raises(ValueError, match="one entry per group"):
        sandwich_vcov(np.eye(1), [I3, I3], [D], [10])
    with pytest.raises(ValueError, match="`Deltas\\[0\\]` must be 3 x 1"):
        sandwich_vcov(np.eye(1), [I3], [np.ones((2, 1))], [10])
    with pytest.raises(ValueError, match="`ns\\[0\\]` must be a positive whole number"):
        sandwich_vcov(np.eye(1), [I3], [D], [0])
    with pytest.raises(ValueError, match="`B1s` must be a non-empty list"):
        sandwich_vcov(np.eye(1), [], [D], [10])
    with pytest.raises(ValueError, match="`ns` must be a non-empty list"):
        sandwich_vcov(np.eye(1), [I3], [D], None)


def test_yuan_bentler_bad():
    for df in (0, -1, np.nan, "8", True):
        with pytest.raises(ValueError, match="`df` must be a positive number"):
            yuan_bentler_scaling([I3], [I3], [D], np.eye(1), [50], df)
    with pytest.raises(ValueError, match="`A1s` must have one entry per group"):
        yuan_bentler_scaling([], [I3], [D], np.eye(1), [50], 2)
    with pytest.raises(ValueError, match="`A1s\\[0\\]` is singular"):
        yuan_bentler_scaling([np.zeros((3, 3))], [I3], [D], np.eye(1), [50], 2)
    with pytest.raises(ValueError, match="`A1s\\[0\\]` must be a 3 x 3"):
        yuan_bentler_scaling([np.eye(2)], [I3], [D], np.eye(1), [50], 2)


def test_scaled_fit_measures_bad():
    fit = {"chisq": 30.0, "df": 10, "ntotal": 200}
    with pytest.raises(ValueError, match="`fit` must be a dict"):
        scaled_fit_measures([1, 2], 1.0, None)
    with pytest.raises(ValueError, match="`fit` lacks 'ntotal'"):
        scaled_fit_measures({"chisq": 3.0, "df": 1}, 1.0, None)
    for c in (0.0, -1.0, np.inf, None, "1"):
        with pytest.raises(ValueError, match="`c` must be a positive scaling factor"):
            scaled_fit_measures(fit, c, None)
    with pytest.raises(ValueError, match="`c_base` must be a positive scaling factor"):
        scaled_fit_measures(fit, 1.0, -2.0)


def test_fit_mlr_bad():
    with pytest.raises(ValueError, match="`obj` must be the engine's Objective"):
        fit_mlr(None, np.zeros(2))


@pytest.mark.parametrize("scale", [1e-50, 1e-3, 1.0, 1e3, 1e50])
def test_scaling_factor_unit_free(scale):
    """The scaling factor and the h1 trace do not depend on the units of the data."""
    rng = np.random.default_rng(3)
    X = rng.chisquare(3, size=(200, 3))
    A1, B1 = h1_matrices(X, X.mean(axis=0), np.cov(X.T, ddof=0))
    A1s, B1s = h1_matrices(X * scale, X.mean(axis=0) * scale, np.cov(X.T, ddof=0) * scale ** 2)
    t = np.trace(np.linalg.solve(A1, B1))
    assert robust.yuan_bentler_scaling([A1s], [B1s], [np.zeros((9, 1))], np.eye(1), [200], 9) == pytest.approx(
        t / 9, rel=1e-6)


def test_extreme_scale_refused():
    X = np.random.default_rng(3).normal(size=(50, 2)) * 1e-160
    with pytest.raises(ValueError, match="overflow at this scale.*rescale"):
        h1_matrices(X, X.mean(axis=0), np.cov(X.T, ddof=0))
