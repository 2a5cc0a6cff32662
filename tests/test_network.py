"""Tests of analysis.network against metafor 3.8.1 rma.mv (tests/oracles/network.R -> fixtures/network.json).

Tolerance: relative error <= 1e-5 on coefficients, SEs, tau^2, QM, QE, the league table and the
design-by-treatment test (the brief's 1e-5; metafor's nlminb stops about 1e-6 from the optimum
of tau^2 here, see the oracle script), and our log-likelihood must be at least metafor's minus
1e-8 (we find the optimum, not a point near it). Contrast data and V: 1e-12 absolute.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.network import arm_to_contrast, component_model, design_by_treatment, network_meta_analysis

ROOT = Path(__file__).resolve().parents[1]
FIX = json.loads((Path(__file__).parent / "fixtures" / "network.json").read_text())
RTOL = 1e-5


def arms(name: str) -> tuple[pd.DataFrame, dict]:
    if name == "lopez":
        a = pd.read_csv(ROOT / "data" / "raw" / "dat.lopez2019.csv")
        a["y"], a["v"] = a["diff"], a["se"] ** 2
        a["cbt"] = a["treatment"].isin(["F2F CBT", "Hybrid CBT", "Multimedia CBT"]).astype(float)
        a["no_treatment"] = (a["treatment"] == "No treatment").astype(float)
        a["wait_list"] = (a["treatment"] == "Wait list").astype(float)
        a["placebo"] = (a["treatment"] == "Placebo").astype(float)
    else:
        a = pd.read_csv(ROOT / "data" / "raw" / "dat.hasselblad1998.csv").rename(columns={"trt": "treatment"})
        a["y"] = np.log((a["xi"] + 0.5) / (a["ni"] - a["xi"] + 0.5))
        a["v"] = 1 / (a["xi"] + 0.5) + 1 / (a["ni"] - a["xi"] + 0.5)
    return a, FIX[name]


def close(ours, ref, rtol=RTOL):
    np.testing.assert_allclose(np.asarray(ours, float), np.asarray(ref, float), rtol=rtol, atol=0)


@pytest.mark.parametrize("name", ["lopez", "hasselblad"])
def test_contrast_data_matches_oracle(name):
    a, ref = arms(name)
    cd = arm_to_contrast(a, yi="y", vi="v", order=ref["order"])
    c = ref["contrasts"]
    assert cd.data["treatment1"].tolist() == c["treatment1"] and cd.data["treatment2"].tolist() == c["treatment2"]
    assert cd.data["arm1"].tolist() == c["arm1"] and cd.data["design"].tolist() == c["design"]
    np.testing.assert_allclose(cd.data["yi"], c["yi"], atol=1e-12, rtol=0)
    np.testing.assert_allclose(cd.V, np.array(ref["V"]), atol=1e-12, rtol=0)


@pytest.mark.parametrize("name", ["lopez", "hasselblad"])
@pytest.mark.parametrize("method", ["REML", "ML", "FE"])
def test_nma_matches_rma_mv(name, method):
    a, ref = arms(name)
    res = network_meta_analysis(arm_to_contrast(a, yi="y", vi="v", order=ref["order"]), method=method)
    fit = ref["fits"][method]
    close(res.beta, fit["beta"])
    close(res.se, fit["se"])
    close(res.vcov, np.array(fit["vcov"]))
    close(res.q, fit["qe"])
    close(res.qm, fit["qm"])
    assert res.q_df == fit["qe_df"] and res.k == fit["k"]
    if method == "FE":
        assert res.tau2 == 0
        close(res.loglik, fit["loglik"], rtol=1e-10)
    else:
        close(res.tau2, fit["tau2"])
        assert res.loglik >= fit["loglik"] - 1e-8
        close(res.loglik, fit["loglik"], rtol=1e-9)
        assert res.converged


@pytest.mark.parametrize("name", ["lopez", "hasselblad"])
def test_league_table_matches_predict(name):
    a, ref = arms(name)
    res = network_meta_analysis(arm_to_contrast(a, yi="y", vi="v", order=ref["order"]))
    tab = res.league_table(long=True)
    theirs = pd.DataFrame(ref["league"])
    m = tab.merge(theirs, on=["treatment1", "treatment2"], suffixes=("", "_r"))
    assert len(m) == len(theirs) == len(ref["order"]) * (len(ref["order"]) - 1)
    for c in ("estimate", "se"):
        close(m[c], m[c + "_r"])
    # A bound of an interval that crosses zero can sit near 0, where a relative error says
    # nothing: the bounds are compared on the scale of their own interval, 1e-5 of the SE
    # (metafor's nlminb stops ~1e-6 from tau^2's optimum, which moves a bound by ~1e-6).
    for c in ("ci_low", "ci_high"):
        assert np.all(np.abs(m[c] - m[c + "_r"]) <= RTOL * m["se_r"]), c
    wide = res.league_table()
    assert wide.shape == (len(ref["order"]),) * 2 and wide.iloc[0, 0] == ref["order"][0]


@pytest.mark.parametrize("name", ["lopez", "hasselblad"])
@pytest.mark.parametrize("method", ["REML", "FE"])
def test_design_by_treatment_matches_anova(name, method):
    a, ref = arms(name)
    inc = design_by_treatment(arm_to_contrast(a, yi="y", vi="v", order=ref["order"]), method=method)
    r = ref["inconsistency"][method]
    assert inc.df == r["df"] == ref["inconsistency_columns"]
    close([inc.qm, inc.pvalue], [r["qm"], r["pvalue"]])
    if method == "REML":
        close(inc.tau2, r["tau2"])
    assert "Design-by-treatment" in inc.apa()


def test_component_model_matches_rma_mv():
    a, ref = arms("lopez")
    comp = ref["component"]
    res = component_model(arm_to_contrast(a, yi="y", vi="v", order=ref["order"]), comp["components"])
    close(res.beta, comp["beta"])
    close(res.se, comp["se"])
    close(res.tau2, comp["tau2"])
    close(res.coefficients["ci_low"], comp["ci_low"])
    close(res.coefficients["ci_high"], comp["ci_high"])
    assert res.coef_names == comp["components"] and "component" in res.summary()


def test_baseline_choice_does_not_matter_with_rho_half():
    # rho = 1/2 makes the model invariant to which arm is the study baseline
    a, ref = arms("hasselblad")
    r1 = network_meta_analysis(arm_to_contrast(a, yi="y", vi="v", order=ref["order"]))
    r2 = network_meta_analysis(arm_to_contrast(a, yi="y", vi="v", order=ref["order"][::-1]),
                               reference=ref["order"][0])
    close(r2.tau2, r1.tau2, rtol=1e-7)
    for t in ref["order"][1:]:
        close([r2.contrast(t, ref["order"][0])["estimate"]], [r1.contrast(t, ref["order"][0])["estimate"]], rtol=1e-7)
    # and choosing another reference only re-expresses the same contrasts
    r3 = network_meta_analysis(arm_to_contrast(a, yi="y", vi="v", order=ref["order"]), reference="self_help")
    c = r1.contrast("grp_counseling", "self_help")
    close([r3.contrast("grp_counseling", "self_help")["estimate"]], [c["estimate"]], rtol=1e-7)


def test_bad_input():
    a, ref = arms("hasselblad")
    with pytest.raises(ValueError, match="exactly one of"):
        arm_to_contrast(a, yi="y")
    with pytest.raises(ValueError, match="column 'nope'"):
        arm_to_contrast(a, yi="nope", vi="v")
    b = a.copy()
    b.loc[3, "v"] = np.nan
    with pytest.raises(ValueError, match="non-finite values at position 3"):
        arm_to_contrast(b, yi="y", vi="v")
    b = a.copy()
    b.loc[2, "v"] = -1
    with pytest.raises(ValueError, match="positive"):
        arm_to_contrast(b, yi="y", vi="v")
    with pytest.raises(ValueError, match="does not list"):
        arm_to_contrast(a, yi="y", vi="v", order=["no_contact"])
    with pytest.raises(ValueError, match="only one arm"):
        arm_to_contrast(a.iloc[1:], yi="y", vi="v")
    cd = arm_to_contrast(a, yi="y", vi="v", order=ref["order"])
    with pytest.raises(ValueError, match="reference"):
        network_meta_analysis(cd, reference="magic")
    with pytest.raises(ValueError, match="method"):
        network_meta_analysis(cd, method="DL")
    with pytest.raises(ValueError, match="ContrastData"):
        network_meta_analysis(a)
    with pytest.raises(ValueError, match="components"):
        component_model(cd, "xi")
    with pytest.raises(ValueError, match="singular"):
        component_model(cd, ["ni", "ni"])
    # a star network (no loops) has nothing to test for inconsistency
    star = pd.DataFrame({"study": [1, 1, 2, 2, 3, 3], "treatment": ["A", "B", "A", "C", "A", "B"],
                         "y": [0, .5, 0, .9, 0, .4], "v": [.05] * 6})
    with pytest.raises(ValueError, match="no closed loops"):
        design_by_treatment(arm_to_contrast(star, yi="y", vi="v"))
