"""FIML building blocks (analysis.sem.missing) checked against brute force and against lavaan.

* log-likelihood: equal to the sum of the rows' normal log-densities (scipy), 1e-9 relative;
* gradient, Hessian: equal to central differences (1e-6 relative), scores sum to the gradient (1e-9);
* saturated model by EM: lavaan's ``unrestricted.logl`` on the RI-CLPM missing-data fixture
  (``tests/oracles/sessions_lavaan.R``, lavaan 0.6-14, missing = "ml") to 1e-3 absolute; with complete
  data the sample moments exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.sem import missing as M

FIX = Path(__file__).parent / "fixtures"
ML = json.loads((FIX / "sessions.json").read_text())["riclpm_ml"]


def _data():
    wide = pd.read_csv(FIX / ML["csv"])
    return wide.drop(columns="id").to_numpy(float)


def _point(p, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(p, p))
    return rng.normal(size=p), A @ A.T / p + np.eye(p)


def _brute(X, mu, Sigma):
    tot = 0.0
    for row in X:
        o = np.isfinite(row)
        if o.any():
            tot += stats.multivariate_normal(mu[o], Sigma[np.ix_(o, o)]).logpdf(row[o])
    return tot


def test_patterns_and_loglik_brute_force():
    X = _data()
    pat = M.Patterns(X)
    assert pat.n == 398 and pat.empty.tolist() == [398, 399] and len(pat.patterns) == ML["free"]["n_patterns"]
    assert sum(pt.n for pt in pat.patterns) == pat.n
    mu, S = _point(10)
    mu = mu + np.nanmean(X, axis=0)
    assert M.loglik(pat, mu, S) == pytest.approx(_brute(X, mu, S), rel=1e-9)
    ll, *_ = M.loglik_grad(pat, mu, S)
    assert ll == pytest.approx(_brute(X, mu, S), rel=1e-9)
    # not positive definite -> -inf (a line search backs off)
    assert M.loglik(pat, mu, -np.eye(10)) == -np.inf


def test_gradient_hessian_scores_match_differences():
    X = _data()
    pat = M.Patterns(X)
    p = 10
    mu, S = _point(p, 3)
    mu = mu + np.nanmean(X, axis=0)

    def grad(v):
        Sg = v[p:].reshape(p, p, order="F")
        _, a, b = M.loglik_grad(pat, v[:p], (Sg + Sg.T) / 2)
        return np.concatenate([a, b.ravel(order="F")])

    v = np.concatenate([mu, S.ravel(order="F")])
    H = M.hessian(pat, mu, S)
    rng = np.random.default_rng(1)
    h = 1e-6
    for _ in range(4):
        E = rng.normal(size=(p, p))
        e = np.concatenate([rng.normal(size=p), (E + E.T).ravel(order="F")])
        Sp, Sm = (v + h * e)[p:].reshape(p, p, order="F"), (v - h * e)[p:].reshape(p, p, order="F")
        fd = (M.loglik(pat, (v + h * e)[:p], Sp) - M.loglik(pat, (v - h * e)[:p], Sm)) / (2 * h)
        assert grad(v) @ e == pytest.approx(fd, rel=1e-6)
        hd = (grad(v + h * e) - grad(v - h * e)) / (2 * h) @ e
        assert e @ H @ e == pytest.approx(hd, rel=1e-6)
    sc = M.casewise_scores(pat, mu, S)
    np.testing.assert_allclose(sc.sum(axis=0), grad(v), rtol=1e-9, atol=1e-9)
    # expected information: complete data gives n diag(S^-1, 1/2 S^-1 (x) S^-1)
    cpat = M.Patterns.from_moments(mu, S, 50)
    Si = np.linalg.inv(S)
    info = M.pattern_information(cpat, mu, S)
    np.testing.assert_allclose(info[:p, :p], 50 * Si, rtol=1e-12)
    np.testing.assert_allclose(info[p:, p:], 25 * np.kron(Si, Si), rtol=1e-12)
    # the observed information at the sample moments equals the expected one with complete data
    np.testing.assert_allclose(-M.hessian(cpat, mu, S)[p:, p:], info[p:, p:], rtol=1e-10, atol=1e-10)


def test_em_saturated_matches_lavaan_unrestricted_logl():
    pat = M.Patterns(_data())
    mu, S, ll, ok = M.em_saturated(pat)
    assert ok
    assert ll == pytest.approx(ML["free"]["fit"]["unrestricted.logl"], abs=1e-3)
    # a maximum: gradient zero
    _, gmu, gS = M.loglik_grad(pat, mu, S)
    assert np.abs(gmu).max() < 1e-6 and np.abs(gS).max() < 1e-6
    # complete data: the sample moments (denominator n)
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 3))
    m, C, llc, okc = M.em_saturated(M.Patterns(X))
    np.testing.assert_allclose(m, X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(C, np.cov(X.T, ddof=0), rtol=1e-12)
    # EM alone (no Newton polish) reaches the same point
    X[:15, 0] = np.nan
    X[10:20, 2] = np.nan
    pat2 = M.Patterns(X)
    m2, C2, _, _ = M.em_saturated(pat2)
    mu_e, S_e = np.nanmean(X, axis=0), np.diag(np.nanvar(X, axis=0))
    for _ in range(3000):
        mu_e, S_e = M._em_step(pat2, mu_e, S_e)
    np.testing.assert_allclose(m2, mu_e, atol=1e-8)
    np.testing.assert_allclose(C2, S_e, atol=1e-8)


def test_em_shift_and_scale_equivariant():
    X = _data()
    a = M.em_saturated(M.Patterns(X))
    b = M.em_saturated(M.Patterns(X * 1e3 + 7.0))
    np.testing.assert_allclose(b[0], a[0] * 1e3 + 7.0, rtol=1e-8)
    np.testing.assert_allclose(b[1], a[1] * 1e6, rtol=1e-7)


def test_observed_information_equals_numerical_hessian():
    """Analytic-in-the-moments observed information = the engine's central differences of the gradient (1e-6)."""
    import warnings

    from analysis import sessions
    from analysis.sem import sem

    wide = pd.read_csv(FIX / ML["csv"]).drop(columns="id")
    wide = wide[wide.notna().any(axis=1)].reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sem(sessions.riclpm_syntax(5, constrain=True), wide, missing="ml", meanstructure=True)
    obj = res._obj
    num = obj.observed_information(res.theta) * obj.N
    ana = M.observed_information([d.pat for d in obj.data], obj.model, res.theta)
    np.testing.assert_allclose(ana, num, rtol=1e-5, atol=1e-6 * np.abs(num).max())
