"""Tests of analysis.importance (dominance analysis / Shapley R²).

Exact checks (1e-12) against weights computed by hand from the correlation matrix for 2 and 3
predictors (R² of every subset from r_yX' R_XX^{-1} r_yX, then the Shapley average written out);
properties: weights sum to the full R², invariance to predictor order, seeded bootstrap.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.importance import dominance_analysis


def data(n=150, seed=3, p=3):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, p))
    x = z @ np.linalg.cholesky(np.full((p, p), 0.5) + 0.5 * np.eye(p)).T  # correlated predictors
    df = pd.DataFrame(x, columns=[f"x{i}" for i in range(p)])
    df["y"] = x @ np.arange(1, p + 1) * 0.4 + rng.normal(size=n)
    return df


def r2_from_corr(df, cols):
    if not cols:
        return 0.0
    c = df[["y"] + cols].corr().to_numpy()
    r = c[0, 1:]
    return float(r @ np.linalg.solve(c[1:, 1:], r))


def test_two_predictors_by_hand():
    df = data(p=2)
    a, b = r2_from_corr(df, ["x0"]), r2_from_corr(df, ["x1"])
    full = r2_from_corr(df, ["x0", "x1"])
    # D_0 = (R2(0) + [R2(01) - R2(1)]) / 2
    d0, d1 = (a + full - b) / 2, (b + full - a) / 2
    res = dominance_analysis(df, "y", ["x0", "x1"])
    np.testing.assert_allclose(res.table["weight"], [d0, d1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.r2, full, atol=1e-12)
    np.testing.assert_allclose(res.conditional.loc["x0"], [a, full - b], atol=1e-12)


def test_three_predictors_by_hand():
    df = data(p=3)
    R = {s: r2_from_corr(df, [f"x{i}" for i in s]) for s in
         [(), (0,), (1,), (2,), (0, 1), (0, 2), (1, 2), (0, 1, 2)]}
    # Shapley weights for player 0: (1/3)[R(0)] + (1/3)(1/2)[R(01)-R(1) + R(02)-R(2)] + (1/3)[R(012)-R(12)]
    d0 = (R[(0,)] + 0.5 * (R[(0, 1)] - R[(1,)] + R[(0, 2)] - R[(2,)]) + R[(0, 1, 2)] - R[(1, 2)]) / 3
    d1 = (R[(1,)] + 0.5 * (R[(0, 1)] - R[(0,)] + R[(1, 2)] - R[(2,)]) + R[(0, 1, 2)] - R[(0, 2)]) / 3
    d2 = (R[(2,)] + 0.5 * (R[(0, 2)] - R[(0,)] + R[(1, 2)] - R[(1,)]) + R[(0, 1, 2)] - R[(0, 1)]) / 3
    res = dominance_analysis(df, "y", ["x0", "x1", "x2"])
    np.testing.assert_allclose(res.table["weight"], [d0, d1, d2], rtol=0, atol=1e-12)
    assert abs(res.table["share_pct"].sum() - 100) < 1e-9


def test_predictor_sets():
    df = data(p=3)
    res = dominance_analysis(df, "y", {"first": ["x0"], "others": ["x1", "x2"]})
    full = r2_from_corr(df, ["x0", "x1", "x2"])
    a, b = r2_from_corr(df, ["x0"]), r2_from_corr(df, ["x1", "x2"])
    np.testing.assert_allclose(res.table["weight"], [(a + full - b) / 2, (b + full - a) / 2], atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), perm=st.permutations([0, 1, 2, 3]))
def test_sum_and_order_invariance(seed, perm):
    df = data(n=60, seed=seed, p=4)
    names = [f"x{i}" for i in range(4)]
    r1 = dominance_analysis(df, "y", names)
    r2 = dominance_analysis(df, "y", [names[i] for i in perm])
    assert abs(r1.table["weight"].sum() - r1.r2) < 1e-12
    np.testing.assert_allclose(r2.table.loc[names, "weight"], r1.table["weight"], atol=1e-12)
    assert (r1.table["weight"] >= -1e-12).all()  # R² never falls when a predictor is added


def test_bootstrap_seeded_and_covering():
    df = data(p=2)
    a = dominance_analysis(df, "y", ["x0", "x1"], n_boot=50, seed=7)
    b = dominance_analysis(df, "y", ["x0", "x1"], n_boot=50, seed=7)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert (a.table["ci_low"] <= a.table["weight"]).all() and (a.table["weight"] <= a.table["ci_high"]).all()
    assert "sum to R" in a.apa() and "Dominance analysis" in a.summary()


def test_bad_input():
    df = data(p=2)
    with pytest.raises(ValueError, match="at least two"):
        dominance_analysis(df, "y", ["x0"])
    with pytest.raises(ValueError, match="'nope'"):
        dominance_analysis(df, "y", ["x0", "nope"])
    bad = df.copy()
    bad.loc[4, "x1"] = np.nan
    with pytest.raises(ValueError, match="'x1'.*position 4"):
        dominance_analysis(bad, "y", ["x0", "x1"])
    with pytest.raises(ValueError, match="n_boot"):
        dominance_analysis(df, "y", ["x0", "x1"], n_boot=-1)
    with pytest.raises(ValueError, match="not a string"):
        dominance_analysis(df, "y", "x0")
    const = df.assign(y=1.0)
    with pytest.raises(ValueError, match="constant"):
        dominance_analysis(const, "y", ["x0", "x1"])
