"""Bad input for analysis.sem.missing (FIML building blocks): clear ValueErrors naming the argument."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.sem import missing as M
from analysis.sem.missing import (Patterns, casewise_scores, em_saturated, hessian, loglik, loglik_grad,
                                  pattern_information)

X = np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 5.0], [4.0, 4.0]])


@pytest.mark.parametrize("bad, match", [
    (None, "2-d numeric array"), ({"a": 1}, "2-d numeric array"), ("abc", "2-d numeric array"),
    ([1.0, 2.0], "2-d array"), (np.zeros((3, 0)), "2-d array"), ([["a", "b"]], "non-numeric"),
    (np.array([[1.0, np.inf]]), "infinite value \\(row 0, column 1\\)"),
    (np.full((3, 2), np.nan), "no row has an observed value"), (np.zeros((0, 2)), "no row"),
])
def test_patterns_bad_data(bad, match):
    with pytest.raises(ValueError, match=match):
        Patterns(bad)


def test_from_moments_bad():
    with pytest.raises(ValueError, match="`cov` must be 2 x 2"):
        Patterns.from_moments(np.zeros(2), np.eye(3), 5)
    with pytest.raises(ValueError, match="`n` must be a positive whole number"):
        Patterns.from_moments(np.zeros(2), np.eye(2), 0)
    with pytest.raises(ValueError, match="finite"):
        Patterns.from_moments(np.array([np.nan, 0.0]), np.eye(2), 5)


@pytest.mark.parametrize("fn", [loglik, loglik_grad, hessian, casewise_scores, pattern_information])
def test_moment_functions_bad(fn):
    pat = Patterns(X)
    with pytest.raises(ValueError, match="`pat` must be a Patterns"):
        fn(X, np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="`mu` must have length 2"):
        fn(pat, np.zeros(3), np.eye(2))
    with pytest.raises(ValueError, match="`Sigma` must be 2 x 2"):
        fn(pat, np.zeros(2), np.eye(3))
    with pytest.raises(ValueError, match="finite"):
        fn(pat, np.array([np.nan, 0.0]), np.eye(2))
    with pytest.raises(ValueError, match="finite"):
        fn(pat, np.zeros(2), np.full((2, 2), np.inf))


def test_not_positive_definite():
    pat = Patterns(X)
    for fn in (hessian, casewise_scores, pattern_information):
        with pytest.raises(ValueError, match="not positive definite"):
            fn(pat, np.zeros(2), -np.eye(2))
    with pytest.raises(ValueError, match="built from moments"):
        casewise_scores(Patterns.from_moments(np.zeros(2), np.eye(2), 5), np.zeros(2), np.eye(2))


def test_em_saturated_bad():
    pat = Patterns(X)
    for tol in (0, -1e-3, np.nan, "1e-8", True):
        with pytest.raises(ValueError, match="`tol` must be a positive number"):
            em_saturated(pat, tol=tol)
    for mi in (0, -5, 2.5, None):
        with pytest.raises(ValueError, match="`max_iter` must be a whole number"):
            em_saturated(pat, max_iter=mi)
    with pytest.raises(ValueError, match="`pat` must be a Patterns"):
        em_saturated(X)
    apart = np.array([[1.0, np.nan], [np.nan, 2.0], [3.0, np.nan], [np.nan, 1.0]])
    with pytest.raises(ValueError, match="never observed together"):
        em_saturated(Patterns(apart))
    const = np.array([[1.0, 2.0], [1.0, np.nan], [1.0, 5.0]])
    with pytest.raises(ValueError, match="variable 0 has zero variance"):
        em_saturated(Patterns(const))


@pytest.mark.parametrize("scale", [1e-150, 1e-10, 1.0, 1e10, 1e150])
def test_scale_equivariance(scale):
    rng = np.random.default_rng(2)
    Y = rng.normal(size=(30, 3))
    Y[:6, 1] = np.nan
    a = em_saturated(Patterns(Y))
    b = em_saturated(Patterns(Y * scale))
    np.testing.assert_allclose(b[0], a[0] * scale, rtol=1e-7)
    np.testing.assert_allclose(b[1], a[1] * scale ** 2, rtol=1e-7)
    assert b[2] == pytest.approx(a[2] - Y.size * 0 - np.isfinite(Y).sum() * np.log(scale), rel=1e-9)
    assert M.Patterns(Y * scale).n == 30


def test_observed_information_bad():
    pat = Patterns(X)

    class Model:
        def implied(self, th):
            return [(np.zeros(2), np.eye(2))]

        def jacobian(self, th):
            return [(np.zeros((2, 1)), np.zeros((4, 1)))]

    with pytest.raises(ValueError, match="`h` must be a positive number"):
        M.observed_information([pat], Model(), np.zeros(1), h=0)
    with pytest.raises(ValueError, match="`pats` must be a list of Patterns"):
        M.observed_information([X], Model(), np.zeros(1))
    with pytest.raises(ValueError, match="`model` must have implied"):
        M.observed_information([pat], None, np.zeros(1))
    with pytest.raises(ValueError, match="`theta` must be finite"):
        M.observed_information([pat], Model(), np.array([np.nan]))
    with pytest.raises(ValueError, match="`pats` has 2 groups, the model 1"):
        M.observed_information([pat, pat], Model(), np.zeros(1))
