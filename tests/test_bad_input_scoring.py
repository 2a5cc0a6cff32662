"""Bad input to analysis.scoring: a ValueError naming the argument, the respondent and the item.
"""

import numpy as np
import pandas as pd
import pytest

from analysis import scoring as sc


@pytest.fixture(scope="module")
def wai():
    rng = np.random.default_rng(8)
    return pd.DataFrame(rng.integers(1, 6, size=(30, 12)), columns=[f"wai{j}" for j in range(1, 13)])


def test_score_items_bad_input(wai):
    key = sc.wai_sr_key()
    with pytest.raises(ValueError, match="`key` must be an InstrumentKey, got str"):
        sc.score_items(wai, "WAI-SR")
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame, got dict"):
        sc.score_items(wai.to_dict(), key)
    with pytest.raises(ValueError, match="`data` has no rows"):
        sc.score_items(wai.iloc[:0], key)
    with pytest.raises(ValueError, match=r"Column 'id' \(given as `respondent`\) is not in `data`"):
        sc.score_items(wai, key, respondent="id")
    with pytest.raises(ValueError, match="respondent 3, item 'wai1' has 9, outside the allowed range 1-5"):
        sc.score_items(wai.assign(wai1=wai["wai1"].where(wai.index != 3, 9)), key)
    bad = wai.astype({"wai2": object})
    bad.loc[5, "wai2"] = "often"
    with pytest.raises(ValueError, match="respondent 5, item 'wai2': 'often' is not a number"):
        sc.score_items(bad, key)
    with pytest.raises(ValueError, match="not a finite number"):
        sc.score_items(wai.astype(float).assign(wai3=np.inf), key)
    with pytest.raises(ValueError, match="has 2.5, not a whole number"):
        sc.score_items(wai.astype(float).assign(wai4=2.5), key)
    ids = wai.assign(rid=["r1"] * 2 + [f"r{j}" for j in range(2, 30)])
    with pytest.raises(ValueError, match="respondent ids must be unique; 'r1' appears more than once"):
        sc.score_items(ids, key, respondent="rid")
    ids = wai.assign(rid=[None] + [f"r{j}" for j in range(1, 30)]).set_axis(range(100, 130))
    with pytest.raises(ValueError, match=r"missing ids at index labels 100"):
        sc.score_items(ids, key, respondent="rid")


def test_score_items_missing_item_column_suggests(wai):
    with pytest.raises(ValueError, match=r"item columns not in `data`: \['wai1'\]\. Did you mean 'wai_1'\?"):
        sc.score_items(wai.rename(columns={"wai1": "wai_1"}), sc.wai_sr_key())


@pytest.mark.parametrize("kw, match", [
    ({"items": ["a"] * 12}, r"12 distinct columns \(items 1\.\.12\), got 12 with repeats \['a'\]"),
    ({"items": ["a", "b"]}, "12 distinct columns .* got 2"),
    ({"items": "wai"}, "`items` must be a list of 12 column names"),
    ({"min_answered": 0}, "`min_answered` for subscale 'task' must be a whole number in 1..4"),
    ({"min_answered": 5}, "whole number in 1..4"),
    ({"min_answered": 2.5}, "whole number in 1..4"),
    ({"method": "median"}, "`method` must be one of 'mean', 'sum'"),
])
def test_wai_sr_key_bad_options(kw, match):
    with pytest.raises(ValueError, match=match):
        sc.wai_sr_key(**kw)


def test_score_wai_sr_bad_input(wai):
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame, got NoneType"):
        sc.score_wai_sr(None)
    with pytest.raises(ValueError, match=r"not in `data`: \['wai12'\]\. Did you mean 'wai_12'\?"):
        sc.score_wai_sr(wai.rename(columns={"wai12": "wai_12"}))
    with pytest.raises(ValueError, match="`min_answered`"):
        sc.score_wai_sr(wai, min_answered=-1)
