"""Bad input to the baseline options of analysis.network.arm_to_contrast (``baseline``,
``reference``, ``order``) and to fits of networks whose studies compare arms of one treatment:
refused with a ValueError naming the argument (and suggesting the nearest valid value).

The invariance checks use tolerance 1e-7 relative on tau^2 (Brent's search, see test_network.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.network import arm_to_contrast, component_model, design_by_treatment, network_meta_analysis

ARMS = pd.DataFrame({
    "study": [1, 1, 2, 2, 3, 3, 4, 4, 4, 5, 5, 5],
    "treatment": ["A", "B", "A", "C", "B", "C", "A", "B", "C", "B", "A", "B"],
    "yi": [0, 0.5, 0, 0.9, 0, 0.3, 0, 0.6, 1.0, 0.4, 0.1, 0.8],
    "vi": [.05, .04, .06, .05, .03, .05, .04, .05, .06, .05, .07, .04],
}, index=[f"r{i}" for i in range(12)])


@pytest.mark.parametrize("bad", ["metafr", "Metafor", "to.wide", "", None, 1, ["metafor"]])
def test_baseline_must_be_a_known_rule(bad):
    with pytest.raises(ValueError, match=r"`baseline` must be one of 'metafor', 'order'; got"):
        arm_to_contrast(ARMS, vi="vi", baseline=bad)


def test_baseline_suggests_the_nearest_rule():
    with pytest.raises(ValueError, match=r"got 'metafr'\. Did you mean 'metafor'\?"):
        arm_to_contrast(ARMS, vi="vi", baseline="metafr")
    with pytest.raises(ValueError, match=r"got 'ordr'\. Did you mean 'order'\?"):
        arm_to_contrast(ARMS, vi="vi", baseline="ordr")


@pytest.mark.parametrize("baseline", ["metafor", "order"])
def test_reference_must_be_a_treatment(baseline):
    with pytest.raises(ValueError, match=r"`reference` 'a' is not a treatment of `arms` \(\['A', 'B', 'C'\]\)\. "
                                         r"Did you mean 'A'\?"):
        arm_to_contrast(ARMS, vi="vi", reference="a", baseline=baseline)
    with pytest.raises(ValueError, match=r"`reference` 'D' is not a treatment of `arms`"):
        arm_to_contrast(ARMS, vi="vi", reference="D", baseline=baseline)
    with pytest.raises(ValueError, match=r"`reference` 'nan' is not a treatment"):
        arm_to_contrast(ARMS, vi="vi", reference=np.nan, baseline=baseline)
    # a category that no arm has is not a treatment of the network either
    cat = ARMS.assign(treatment=pd.Categorical(ARMS["treatment"], categories=["A", "B", "C", "Z"]))
    with pytest.raises(ValueError, match=r"`reference` 'Z' is not a treatment of `arms`"):
        arm_to_contrast(cat, vi="vi", reference="Z", baseline=baseline)


@pytest.mark.parametrize("bad", [["A"], ("A", "B"), {"A": 1}, True, object()])
def test_reference_must_be_one_label(bad):
    with pytest.raises(ValueError, match=r"`reference` must be one treatment label"):
        arm_to_contrast(ARMS, vi="vi", reference=bad)


@pytest.mark.parametrize("bad", ["ABC", b"AB", {"A": 0, "B": 1, "C": 2}, 3])
def test_order_must_be_a_list(bad):
    with pytest.raises(ValueError, match=r"`order` must be a list of treatment labels"):
        arm_to_contrast(ARMS, vi="vi", order=bad)


def test_order_must_list_every_treatment_under_either_rule():
    for baseline in ("metafor", "order"):
        with pytest.raises(ValueError, match=r"`order` does not list the treatments \['C'\]"):
            arm_to_contrast(ARMS, vi="vi", order=["A", "B"], reference="A", baseline=baseline)


def test_numeric_reference_matches_numeric_codes():
    a = ARMS.assign(treatment=ARMS["treatment"].map({"A": 1, "B": 2, "C": 3}))
    assert arm_to_contrast(a, vi="vi", reference=2).reference == "2"
    with pytest.raises(ValueError, match=r"`reference` '4' is not a treatment of `arms` \(\['1', '2', '3'\]\)"):
        arm_to_contrast(a, vi="vi", reference=4)


def test_single_treatment_network_is_refused():
    # every study compares two arms of one treatment: contrasts exist (for tau^2) but no network
    same = pd.DataFrame({"study": [1, 1, 2, 2], "treatment": ["A"] * 4, "yi": [0, .1, .2, .3], "vi": [.1] * 4})
    cd = arm_to_contrast(same, vi="vi")
    assert cd.data["comp"].tolist() == ["A vs A", "A vs A"]
    with pytest.raises(ValueError, match=r"`contrasts` has one treatment only \('A'"):
        network_meta_analysis(cd)
    with pytest.raises(ValueError, match=r"`contrasts` has one treatment only"):
        design_by_treatment(cd)
    # a component that is the same in both arms of every contrast is not identified
    with pytest.raises(ValueError, match=r"The design is singular"):
        component_model(arm_to_contrast(same.assign(x=1.0), vi="vi"), ["x"])


def test_fits_refuse_what_arm_to_contrast_did_not_make():
    cd = arm_to_contrast(ARMS, vi="vi", baseline="order")
    with pytest.raises(ValueError, match=r"`reference` 'a' is not a treatment of the network .* Did you mean 'A'\?"):
        network_meta_analysis(cd, reference="a")
    with pytest.raises(ValueError, match="ContrastData"):
        network_meta_analysis(cd.data)


@settings(max_examples=12, deadline=None)
@given(st.lists(st.permutations(["A", "B", "C"]), min_size=4, max_size=7),
       st.lists(st.floats(-1, 1), min_size=21, max_size=21),
       st.sampled_from(["A", "B", "C"]))
def test_without_repeated_treatments_the_rule_does_not_matter(perms, ys, ref):
    # three-arm studies with arms in any data order, no treatment twice: every rule and reference
    # gives the same tau^2 and treatment contrasts (rho = 1/2, common tau^2)
    rows = [{"study": i, "treatment": t, "yi": ys[3 * i + j] + {"A": 0, "B": 0.5, "C": 1}[t], "vi": 0.05 + 0.01 * j}
            for i, p in enumerate(perms) for j, t in enumerate(p)]
    a = pd.DataFrame(rows)
    f0 = network_meta_analysis(arm_to_contrast(a, vi="vi"), reference="A")
    f1 = network_meta_analysis(arm_to_contrast(a, vi="vi", reference=ref, baseline="order"), reference="A")
    f2 = network_meta_analysis(arm_to_contrast(a, vi="vi", reference=ref), reference="A")
    est0 = [f0.contrast(t, "A")["estimate"] for t in "BC"]
    for f in (f1, f2):
        assert abs(f.tau2 - f0.tau2) <= 1e-7 * max(f0.tau2, 1e-3)
        np.testing.assert_allclose([f.contrast(t, "A")["estimate"] for t in "BC"], est0, rtol=1e-6, atol=1e-9)
