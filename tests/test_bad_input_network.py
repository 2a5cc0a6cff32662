"""Bad input to analysis.network (arm_to_contrast, network_meta_analysis, design_by_treatment,
component_model): refused with a ValueError naming the argument, column or rows, or handled as
documented (na_action="omit", scale equivariance).

Tolerance of the scale checks: relative error 1e-5 on tau^2 / c^2, z and the inconsistency Q
(tau^2 is found by a bounded Brent search whose relative precision is about 1e-8 in tau).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import network
from analysis.network import arm_to_contrast, component_model, design_by_treatment, network_meta_analysis

ARMS = pd.DataFrame({
    "study": [1, 1, 2, 2, 3, 3, 4, 4, 4, 5, 5, 6, 6],
    "treatment": ["A", "B", "A", "C", "B", "C", "A", "B", "C", "A", "B", "A", "C"],
    "yi": [0, 2.5, 0, -1.2, 0, 1.9, 0, -1.6, 2.0, 0.1, 0.3, 0.0, 2.9],
    "vi": [.05, .04, .06, .05, .03, .05, .04, .05, .06, .05, .07, .04, .05],
    "x": [0, 1, 0, 1, 1, 1, 0, 1, 1, 0, 1, 0, 1],
    "w": [0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 1],
}, index=[f"r{i}" for i in range(13)])
CD = arm_to_contrast(ARMS, vi="vi")


# ----------------------------------------------------------------------------- arm_to_contrast

def test_arms_must_be_a_dataframe():
    with pytest.raises(ValueError, match="`arms` must be a pandas DataFrame"):
        arm_to_contrast(ARMS.to_dict(), vi="vi")
    with pytest.raises(ValueError, match="`arms` must be a pandas DataFrame"):
        arm_to_contrast(None, vi="vi")


def test_empty_and_single_arm():
    with pytest.raises(ValueError, match="`arms` has no rows"):
        arm_to_contrast(ARMS.iloc[:0], vi="vi")
    with pytest.raises(ValueError, match="Study 1 has only one arm"):
        arm_to_contrast(ARMS.iloc[1:], vi="vi")


def test_unknown_columns_suggest_the_nearest():
    with pytest.raises(ValueError, match=r"`study`: column 'studies' is not in `arms`. Did you mean 'study'\?"):
        arm_to_contrast(ARMS, study="studies", vi="vi")
    with pytest.raises(ValueError, match=r"`vi`: column 'v' is not in `arms`"):
        arm_to_contrast(ARMS, vi="v")
    with pytest.raises(ValueError, match="exactly one of `vi`"):
        arm_to_contrast(ARMS, vi="vi", sei="vi")


def test_missing_values_fail_and_omit():
    a = ARMS.copy()
    a.loc["r4", "yi"] = np.nan
    with pytest.raises(ValueError, match=r"column 'yi' has missing or non-finite values at position 4 "
                                         r"\(index labels r4\).*na_action='omit'"):
        arm_to_contrast(a, vi="vi")
    with pytest.warns(UserWarning, match=r"dropped 1 arm rows .*'yi' \(index label r4\); then index labels r5, "
                                         "the only arm left"):
        cd = arm_to_contrast(a, vi="vi", na_action="omit")
    assert cd.dropped == ["r4", "r5"] and 3 not in set(cd.data["study"])
    assert "omitted because of missing values" in cd.summary()
    b = ARMS.astype({"treatment": object})
    b.loc["r0", "treatment"] = None
    with pytest.raises(ValueError, match=r"`treatment`: column 'treatment' has missing labels at position 0"):
        arm_to_contrast(b, vi="vi")
    with pytest.raises(ValueError, match="`na_action` must be one of"):
        arm_to_contrast(ARMS, vi="vi", na_action="drop")


def test_bad_values():
    with pytest.raises(ValueError, match="Column 'vi' must be positive .*position 2"):
        arm_to_contrast(ARMS.assign(vi=ARMS.vi.where(ARMS.index != "r2", 0.0)), vi="vi")
    with pytest.raises(ValueError, match=r"column 'yi' has missing or non-finite values at position 1"):
        arm_to_contrast(ARMS.assign(yi=ARMS.yi.astype(object).where(ARMS.index != "r1", "big")), vi="vi")
    with pytest.raises(ValueError, match=r"column 'vi' has missing or non-finite values at position 0"):
        arm_to_contrast(ARMS.assign(vi=ARMS.vi.where(ARMS.index != "r0", np.inf)), vi="vi")
    with pytest.raises(ValueError, match="`order` lists a treatment twice"):
        arm_to_contrast(ARMS, vi="vi", order=["A", "B", "C", "A"])


# ----------------------------------------------------------------------------- network_meta_analysis

def test_network_arguments():
    with pytest.raises(ValueError, match="`contrasts` must be a ContrastData"):
        network_meta_analysis(ARMS)
    with pytest.raises(ValueError, match=r"`reference` 'a' is not a treatment.*Did you mean 'A'\?"):
        network_meta_analysis(CD, reference="a")
    with pytest.raises(ValueError, match="`level` must lie strictly between 0 and 1"):
        network_meta_analysis(CD, level=0.0)
    with pytest.raises(ValueError, match="`rho` must be in \\[0, 1\\)"):
        network_meta_analysis(CD, rho=1.0)
    with pytest.raises(ValueError, match="`method` must be one of"):
        network_meta_analysis(CD, method="DL")


def test_contrast_names_the_nearest_treatment():
    res = network_meta_analysis(CD, method="FE")
    with pytest.raises(ValueError, match=r"`b`: treatment 'c' is not in the network.*Did you mean 'C'\?"):
        res.contrast("A", "c")


def test_one_contrast_is_too_few_for_random_effects():
    one = arm_to_contrast(ARMS.iloc[:2], vi="vi")
    with pytest.raises(ValueError, match="needs more contrasts than coefficients"):
        network_meta_analysis(one)


def test_disconnected_network_is_singular():
    a = pd.DataFrame({"study": [1, 1, 2, 2], "treatment": ["A", "B", "C", "D"], "yi": [0, .5, 0, .3],
                      "vi": [.1] * 4})
    with pytest.raises(ValueError, match="singular.*disconnected"):
        network_meta_analysis(arm_to_contrast(a, vi="vi"), method="FE")


@pytest.mark.parametrize("method", ["REML", "ML", "FE"])
@pytest.mark.parametrize("c", [1e-150, 1e-60, 1e60, 1e150])
def test_scale_equivariance(method, c):
    a2 = ARMS.assign(yi=ARMS.yi * c, vi=ARMS.vi * c * c)
    cd2 = arm_to_contrast(a2, vi="vi")
    b, r = network_meta_analysis(CD, method=method), network_meta_analysis(cd2, method=method)
    np.testing.assert_allclose(r.tau2 / c**2, b.tau2, rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(r.beta / r.se, b.beta / b.se, rtol=1e-5)
    np.testing.assert_allclose(r.q, b.q, rtol=1e-8)
    n = r.k if method in ("ML", "FE") else r.k - len(r.beta)
    np.testing.assert_allclose(r.loglik, b.loglik - n * np.log(c), rtol=1e-8)
    bc, rc = component_model(CD, ["x", "w"], method=method), component_model(cd2, ["x", "w"], method=method)
    np.testing.assert_allclose(rc.tau2 / c**2, bc.tau2, rtol=1e-5, atol=1e-12)
    if method != "ML":
        np.testing.assert_allclose(design_by_treatment(cd2, method=method).qm,
                                   design_by_treatment(CD, method=method).qm, rtol=1e-5)


# ----------------------------------------------------------------------------- design_by_treatment

def test_design_by_treatment_bad_input():
    star = pd.DataFrame({"study": [1, 1, 2, 2, 3, 3], "treatment": ["A", "B", "A", "C", "A", "B"],
                         "yi": [0, .5, 0, .9, 0, .4], "vi": [.05] * 6})
    with pytest.raises(ValueError, match="no closed loops"):
        design_by_treatment(arm_to_contrast(star, vi="vi"))
    with pytest.raises(ValueError, match="`contrasts` must be a ContrastData"):
        design_by_treatment({"data": ARMS})
    with pytest.raises(ValueError, match="`rho` must be in"):
        design_by_treatment(CD, rho=-0.5)
    with pytest.raises(ValueError, match=r"`reference` 'Z' is not a treatment"):
        design_by_treatment(CD, reference="Z")


# ----------------------------------------------------------------------------- component_model

def test_component_model_bad_input():
    with pytest.raises(ValueError, match="`components` must be a non-empty list"):
        component_model(CD, "x")
    with pytest.raises(ValueError, match="`components` must be a non-empty list"):
        component_model(CD, [])
    with pytest.raises(ValueError, match=r"`components`: column 'ww' is not in `arms`. Did you mean 'w'\?"):
        component_model(CD, ["x", "ww"])
    with pytest.raises(ValueError, match="singular"):
        component_model(CD, ["x", "x"])
    cd = arm_to_contrast(ARMS.assign(x=ARMS.x.astype(float).where(ARMS.index != "r3", np.nan)), vi="vi")
    with pytest.raises(ValueError, match="column 'x' has missing or non-numeric values at position 3"):
        component_model(cd, ["x"])
    with pytest.raises(ValueError, match="`level` must lie strictly between 0 and 1"):
        component_model(CD, ["x"], level=2)


def test_component_units_are_not_called_collinear():
    base = component_model(CD, ["x", "w"], method="FE")
    for c in (1e-100, 1e100):
        cd = arm_to_contrast(ARMS.assign(w=ARMS.w * c), vi="vi")
        res = component_model(cd, ["x", "w"], method="FE")
        np.testing.assert_allclose(res.beta[1] * c, base.beta[1], rtol=1e-8)


def test_module_functions_are_covered():
    assert {"arm_to_contrast", "network_meta_analysis", "design_by_treatment", "component_model"} <= set(
        network.__all__)
