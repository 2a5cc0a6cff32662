"""Bad input for compute_effect_sizes(..., append=True) (issue 16 item 3: results as data)."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import effect_sizes as es

DAT = pd.DataFrame({"ri": [0.2, 0.3, 0.1], "ni": [50, 80, 120]}, index=[3, 7, 9])


def test_append_returns_the_data_with_yi_vi_joined():
    out = es.compute_effect_sizes("ZCOR", ri="ri", ni="ni", data=DAT, append=True)
    plain = es.compute_effect_sizes("ZCOR", ri="ri", ni="ni", data=DAT)
    assert list(out.columns) == ["ri", "ni", "yi", "vi"]
    assert out.index.tolist() == [3, 7, 9]
    pd.testing.assert_series_equal(out["yi"], plain.yi, check_names=False, rtol=0, atol=0)
    pd.testing.assert_series_equal(out["vi"], plain.vi, check_names=False, rtol=0, atol=0)
    assert "yi" not in DAT.columns  # the input is not changed


def test_append_needs_data():
    with pytest.raises(ValueError, match=r"`append=True` needs `data`"):
        es.compute_effect_sizes("ZCOR", ri=[0.2, 0.3], ni=[50, 80], append=True)


def test_append_refuses_to_overwrite_yi():
    with pytest.raises(ValueError, match=r"already has column\(s\) \['yi'\]"):
        es.compute_effect_sizes("ZCOR", ri="ri", ni="ni", data=DAT.assign(yi=1.0), append=True)


def test_append_must_be_boolean():
    with pytest.raises(ValueError, match=r"`append` must be True or False"):
        es.compute_effect_sizes("ZCOR", ri="ri", ni="ni", data=DAT, append="yes")
