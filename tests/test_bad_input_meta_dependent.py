"""Bad input to analysis.meta_dependent (vcalc, aggregate): clear ValueErrors naming the argument."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.meta_dependent import aggregate, vcalc

D = pd.DataFrame({"study": [1, 1, 2, 2, 3], "es": [1, 2, 1, 2, 1], "vi": [0.02, 0.03, 0.02, 0.04, 0.05],
                  "yi": [0.1, 0.2, 0.3, 0.1, 0.4], "t": [0, 1, 0, 2, 0]})


@pytest.mark.parametrize("rho", [1.0, -1.0, 1.5, float("nan"), "0.5", None])
def test_vcalc_rho_outside_open_interval(rho):
    with pytest.raises(ValueError, match="rho"):
        vcalc("vi", "study", obs="es", rho=rho, data=D)


def test_vcalc_bad_inputs():
    with pytest.raises(ValueError, match="Did you mean 'study'"):
        vcalc("vi", "studdy", obs="es", rho=0.5, data=D)
    with pytest.raises(ValueError, match="`cluster` has 4 entries but `vi` has 5"):
        vcalc(D.vi, [1, 1, 2, 2], obs=D.es, rho=0.5)
    with pytest.raises(ValueError, match="`vi` has missing or infinite values at position 1"):
        vcalc([0.1, np.nan], [1, 1], obs=[1, 2], rho=0.5)
    with pytest.raises(ValueError, match="`vi` must be a positive sampling variance"):
        vcalc([0.1, 0.0], [1, 1], obs=[1, 2], rho=0.5)
    with pytest.raises(ValueError, match="`vi` must be a positive sampling variance"):
        vcalc([0.1, -1e-300], [1, 1], obs=[1, 2], rho=0.5)
    with pytest.raises(ValueError, match="`vi` is empty"):
        vcalc([], [], obs=[], rho=0.5)
    with pytest.raises(ValueError, match="`vi` must be numeric"):
        vcalc(["a", "b"], [1, 1], obs=[1, 2], rho=0.5)
    with pytest.raises(ValueError, match="`cluster` has missing values at position 1"):
        vcalc([0.1, 0.2], [1, None], obs=[1, 2], rho=0.5)
    with pytest.raises(ValueError, match="`cluster` must be a column name or a 1-D array, got dict"):
        vcalc([0.1, 0.2], {"a": 1}, obs=[1, 2], rho=0.5)
    with pytest.raises(ValueError, match="`rho` is required"):
        vcalc("vi", "study", obs="es", data=D)
    with pytest.raises(ValueError, match="neither `obs` nor `type`"):
        vcalc("vi", "study", rho=0.5, data=D)
    with pytest.raises(ValueError, match="`rho` must have 2 values"):
        vcalc("vi", "study", obs="es", type="es", rho=0.5, data=D)
    with pytest.raises(ValueError, match="`phi` is required"):
        vcalc("vi", "study", time1="t", data=D)
    with pytest.raises(ValueError, match="`phi` must lie strictly between -1 and 1"):
        vcalc("vi", "study", time1="t", phi=1.5, data=D)
    with pytest.raises(ValueError, match="no `time1`"):
        vcalc("vi", "study", phi=0.5, data=D)
    with pytest.raises(ValueError, match="`grp2` needs `grp1`"):
        vcalc("vi", "study", grp2="es", data=D)
    with pytest.raises(ValueError, match="`w1` must be positive"):
        vcalc("vi", "study", grp1="es", grp2="study", w1=[1, 0, 1, 1, 1], data=D)
    with pytest.raises(ValueError, match="non-integer lag"):
        vcalc([0.1, 0.2], [1, 1], time1=[0, 0.5], phi=-0.5)
    with pytest.raises(ValueError, match="contrasts a group with itself"):
        vcalc([0.1, 0.2], [1, 1], grp1=["a", "b"], grp2=["a", "c"])
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame, got dict"):
        vcalc("vi", "study", obs="es", rho=0.5, data={"vi": [1]})
    with pytest.raises(ValueError, match="no `data` was given"):
        vcalc("vi", "study", obs="es", rho=0.5)


def test_vcalc_not_positive_definite_warns():
    with pytest.warns(UserWarning, match="not positive definite in cluster 1"):
        vcalc([0.1, 0.2, 0.3], [1, 1, 1], obs=[1, 1, 2], rho=0.5)  # rows 0 and 1: same observation


def test_vcalc_extreme_scale_is_equivariant():
    for s in (1e-300, 1.0, 1e300):
        V = vcalc(np.array([0.5, 2.0]) * s, [1, 1], obs=[1, 2], rho=0.5)
        np.testing.assert_allclose(V / s, vcalc([0.5, 2.0], [1, 1], obs=[1, 2], rho=0.5), rtol=1e-12)


def test_aggregate_bad_inputs():
    with pytest.raises(ValueError, match="Did you mean 'study'"):
        aggregate("yi", "vi", "stuyd", data=D, rho=0.5)
    with pytest.raises(ValueError, match="`rho` is required for struct='CS'"):
        aggregate("yi", "vi", "study", data=D)
    with pytest.raises(ValueError, match="`rho` must lie strictly between -1 and 1"):
        aggregate("yi", "vi", "study", data=D, rho=1.0)
    with pytest.raises(ValueError, match="`struct` must be one of"):
        aggregate("yi", "vi", "study", data=D, struct="AR", rho=0.5)
    with pytest.raises(ValueError, match="`phi` is required"):
        aggregate("yi", "vi", "study", data=D, struct="CAR", time="t")
    with pytest.raises(ValueError, match=r"`phi` must lie in \[0, 1\]"):
        aggregate("yi", "vi", "study", data=D, struct="CAR", time="t", phi=-0.2)
    with pytest.raises(ValueError, match="`time` is required"):
        aggregate("yi", "vi", "study", data=D, struct="CAR", phi=0.5)
    with pytest.raises(ValueError, match="`yi` has missing or infinite values at position 0"):
        aggregate([np.nan, 0.2], [0.1, 0.1], [1, 1], rho=0.5)
    with pytest.raises(ValueError, match="`vi` has 1 entries but `vi` has 2|`vi` has 1 entries"):
        aggregate([0.1, 0.2], [0.1], [1, 1], rho=0.5)
    with pytest.raises(ValueError, match="`vi` must be a positive sampling variance"):
        aggregate([0.1, 0.2], [0.1, -0.1], [1, 1], rho=0.5)
    with pytest.raises(ValueError, match="`yi` is empty"):
        aggregate([], [], [], rho=0.5)
    with pytest.raises(ValueError, match="`V` must be a 5 x 5 matrix"):
        aggregate("yi", "vi", "study", data=D, V=np.eye(4))
    with pytest.raises(ValueError, match="`V` must be symmetric"):
        aggregate([0.1, 0.2], [0.1, 0.1], [1, 1], V=[[0.1, 0.05], [0.0, 0.1]])
    with pytest.raises(ValueError, match="`V` has missing or infinite values"):
        aggregate([0.1, 0.2], [0.1, 0.1], [1, 1], V=[[0.1, np.nan], [np.nan, 0.1]])
    with pytest.raises(ValueError, match="`weighted` must be True or False"):
        aggregate("yi", "vi", "study", data=D, rho=0.5, weighted="yes")
    # non-positive-definite block (compound symmetry with rho below -1/(n-1)), rows named by index label
    d3 = pd.DataFrame({"yi": [0.1, 0.2, 0.3], "vi": [0.1] * 3, "s": [1, 1, 1]}, index=[10, 11, 12])
    with pytest.raises(ValueError, match="Cluster 1 \\(index labels 10, 11, 12\\).*not positive definite"):
        aggregate("yi", "vi", "s", data=d3, rho=-0.6)


def test_aggregate_one_row_and_extreme_scale():
    out = aggregate([0.3], [0.02], ["a"], rho=0.5)  # one effect: passes through
    assert out.to_dict("list") == {"cluster": ["a"], "yi": [0.3], "vi": [0.02], "n_effects": [1]}
    for s in (1e-300, 1e300):
        o = aggregate([0.1, 0.3], [s, 2 * s], [1, 1], rho=0.3)
        ref = aggregate([0.1, 0.3], [1.0, 2.0], [1, 1], rho=0.3)
        np.testing.assert_allclose(o["yi"], ref["yi"], rtol=1e-12)
        np.testing.assert_allclose(o["vi"] / s, ref["vi"], rtol=1e-12)
