"""Bad input to analysis.importance.dominance_analysis: refused with a ValueError naming the
argument or column, or handled exactly (data in extreme units give the same weights).

Tolerance: absolute 1e-10 on weights (they lie in [0, 1]) between data in ordinary and extreme units.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import importance
from analysis.importance import dominance_analysis

rng = np.random.default_rng(3)
DF = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
DF["y"] = DF.a + 0.5 * DF.b + rng.normal(size=60)
BASE = dominance_analysis(DF, "y", ["a", "b", "c"])


def test_wrong_types():
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame, got dict"):
        dominance_analysis(DF.to_dict(), "y", ["a", "b"])
    with pytest.raises(ValueError, match="`predictors` must be a list .* got NoneType"):
        dominance_analysis(DF, "y", None)
    with pytest.raises(ValueError, match="not a string"):
        dominance_analysis(DF, "y", "a")
    with pytest.raises(ValueError, match="set 'A' must be a non-empty list"):
        dominance_analysis(DF, "y", {"A": [], "B": ["b"]})
    with pytest.raises(ValueError, match="Column 'a' has missing or non-numeric values at position 3"):
        dominance_analysis(DF.assign(a=DF.a.astype(object).where(DF.index != 3, "x")), "y", ["a", "b"])


def test_empty_one_and_too_few():
    with pytest.raises(ValueError, match="`data` has 0 rows"):
        dominance_analysis(DF.iloc[:0], "y", ["a", "b"])
    with pytest.raises(ValueError, match="at least two predictors"):
        dominance_analysis(DF, "y", ["a"])
    with pytest.raises(ValueError, match="`data` has 3 rows: too few for 3 predictor columns"):
        dominance_analysis(DF.iloc[:3], "y", ["a", "b", "c"])
    with pytest.raises(ValueError, match="at most 12"):
        dominance_analysis(DF, "y", [f"x{i}" for i in range(13)])


def test_identical_values():
    with pytest.raises(ValueError, match="Column 'y' is constant"):
        dominance_analysis(DF.assign(y=2.0), "y", ["a", "b"])
    res = dominance_analysis(DF.assign(a=1.0), "y", ["a", "b"])  # a constant predictor explains nothing
    assert res.table.loc["a", "weight"] == pytest.approx(0.0, abs=1e-12)


def test_nan_and_inf():
    with pytest.raises(ValueError, match="Column 'b' has missing or non-numeric values at position 5"):
        dominance_analysis(DF.assign(b=DF.b.where(DF.index != 5, np.nan)), "y", ["a", "b"])
    with pytest.raises(ValueError, match="Column 'y' has missing or non-numeric values at position 0"):
        dominance_analysis(DF.assign(y=DF.y.where(DF.index != 0, np.inf)), "y", ["a", "b"])


def test_unknown_columns_suggest_the_nearest():
    with pytest.raises(ValueError, match=r"`predictors`: column 'bb' is not in `data`. Did you mean 'b'\?"):
        dominance_analysis(DF, "y", ["a", "bb"])
    with pytest.raises(ValueError, match=r"`y`: column 'yy' is not in `data`. Did you mean 'y'\?"):
        dominance_analysis(DF, "yy", ["a", "b"])


def test_duplicates_and_outcome_as_predictor():
    with pytest.raises(ValueError, match="`predictors` lists 'a' more than once"):
        dominance_analysis(DF, "y", ["a", "a", "b"])
    with pytest.raises(ValueError, match="`predictors` lists 'b' more than once"):
        dominance_analysis(DF, "y", {"A": ["a", "b"], "B": ["b"]})
    with pytest.raises(ValueError, match="The outcome 'y' is also listed"):
        dominance_analysis(DF, "y", ["y", "a"])


def test_argument_ranges():
    with pytest.raises(ValueError, match="`n_boot` must be a non-negative integer"):
        dominance_analysis(DF, "y", ["a", "b"], n_boot=-1)
    with pytest.raises(ValueError, match="`seed` must be a non-negative integer; got 'x'"):
        dominance_analysis(DF, "y", ["a", "b"], n_boot=2, seed="x")
    with pytest.raises(ValueError, match="`level` must lie strictly between 0 and 1"):
        dominance_analysis(DF, "y", ["a", "b"], level=1)


@pytest.mark.parametrize("col", ["y", "a"])
@pytest.mark.parametrize("c", [1e-200, 1e-100, 1e100, 1e200])
def test_extreme_units_give_the_same_weights(col, c):
    res = dominance_analysis(DF.assign(**{col: DF[col] * c}), "y", ["a", "b", "c"])
    np.testing.assert_allclose(res.table["weight"], BASE.table["weight"], atol=1e-10)
    np.testing.assert_allclose(res.r2, BASE.r2, atol=1e-10)


@settings(max_examples=15)
@given(e=st.integers(-900, 900), shift=st.floats(-100, 100))
def test_affine_invariance_property(e, shift):
    res = dominance_analysis(DF.assign(b=(DF.b + shift) * 2.0**e), "y", ["a", "b", "c"])
    np.testing.assert_allclose(res.table["weight"], BASE.table["weight"], atol=1e-8)


def test_module_functions_are_covered():
    assert "dominance_analysis" in importance.__all__
