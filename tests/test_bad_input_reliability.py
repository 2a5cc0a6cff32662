"""Bad input to analysis.reliability: a ValueError naming the argument, column or row; alpha is
scale-equivariant (items rescaled by 1e-300..1e300 give the same alpha).
"""

import numpy as np
import pandas as pd
import pytest

from analysis import reliability as rel

ITEMS = list("abcdef")


@pytest.fixture(scope="module")
def items():
    rng = np.random.default_rng(3)
    f = rng.normal(size=(240, 2))
    load = np.array([[0.8, 0], [0.7, 0], [0.6, 0], [0, 0.7], [0, 0.6], [0, 0.8]])
    x = f @ load.T + 0.6 * rng.normal(size=(240, 6)) + 0.3 * f[:, [0]]
    df = pd.DataFrame(x, columns=ITEMS)
    df["site"] = np.repeat(["x", "y"], 120)
    return df


@pytest.mark.parametrize("kw, match", [
    ({"items": ["a"]}, "cronbach_alpha needs at least 2 items, got 1"),
    ({"items": "abc"}, "`items` must be a list of column names; got str"),
    ({"items": ["a", "bb"]}, r"columns not in `data`: \['bb'\]\. Did you mean 'b'\?"),
    ({"items": ["a", "a", "b"]}, "`items` lists a column twice"),
    ({"items": ["a", "site"]}, "`data` column 'site' must be numeric"),
    ({"items": ["a", "b"], "level": 95}, "`level` must lie strictly between 0 and 1"),
    ({"items": ["a", "b"], "level": 0.0}, "`level` must lie strictly between 0 and 1"),
    ({"items": ["a", "b"], "level": "0.95"}, "`level` must be a number between 0 and 1"),
])
def test_cronbach_alpha_bad_options(items, kw, match):
    with pytest.raises(ValueError, match=match):
        rel.cronbach_alpha(items, **kw)


def test_cronbach_alpha_bad_data(items):
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame, got ndarray"):
        rel.cronbach_alpha(items[ITEMS].to_numpy())
    with pytest.raises(ValueError, match="needs at least 3 complete rows, got 2"):
        rel.cronbach_alpha(items[ITEMS].iloc[:2])
    with pytest.raises(ValueError, match="`data` column 'a' has zero variance"):
        rel.cronbach_alpha(items[ITEMS].assign(a=3.0))
    with pytest.raises(ValueError, match="infinite value at row 7"):
        rel.cronbach_alpha(items[ITEMS].assign(a=items["a"].where(items.index != 7, np.inf)))
    with pytest.raises(ValueError, match="the sum of the items has zero variance"):
        rel.cronbach_alpha(pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [4.0, 3, 2, 1]}))


@pytest.mark.parametrize("scale", [1e-300, 1e-150, 1e150, 1e300])
def test_cronbach_alpha_is_scale_equivariant(items, scale):
    base = rel.cronbach_alpha(items[ITEMS])
    r = rel.cronbach_alpha(items[ITEMS] * scale)
    assert r.alpha == pytest.approx(base.alpha, rel=1e-12)
    np.testing.assert_allclose(r.items["alpha_if_deleted"], base.items["alpha_if_deleted"], rtol=1e-12)
    np.testing.assert_allclose(r.items["sd"] / scale, base.items["sd"], rtol=1e-12)


@pytest.mark.parametrize("args, kw, match", [
    ((np.nan, 100, 5), {}, "`alpha` must be a finite number <= 1"),
    ((1.5, 100, 5), {}, "`alpha` must be a finite number <= 1"),
    (("0.8", 100, 5), {}, "`alpha` must be a finite number <= 1"),
    ((0.8, 10.5, 5), {}, "`n` must be a whole number"),
    ((0.8, 100, None), {}, "`k` must be a whole number"),
    ((0.8, 1, 5), {}, "`n` and `k` must be at least 2"),
    ((0.8, 100, 5), {"level": 1.0}, "`level` must lie strictly between 0 and 1"),
    ((0.8, 100, 5), {"level": -0.5}, "`level` must lie strictly between 0 and 1"),
])
def test_feldt_ci_bad_input(args, kw, match):
    with pytest.raises(ValueError, match=match):
        rel.feldt_ci(*args, **kw)
