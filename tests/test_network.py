"""Tests of analysis.network against metafor 3.8.1 rma.mv (tests/oracles/network.R -> fixtures/network.json).

Tolerance: relative error <= 1e-5 on coefficients, SEs, tau^2, QM, QE, the league table and the
design-by-treatment test (the brief's 1e-5; metafor's nlminb stops about 1e-6 from the optimum
of tau^2 here, see the oracle script), and our log-likelihood must be at least metafor's minus
1e-8 (we find the optimum, not a point near it). Contrast data and V: 1e-12 absolute.

The fixtures "lopez" and "hasselblad" were made with the baseline rule written by hand in the
oracle (first arm of the first treatment of ORDER: ``baseline="order"``, the earlier default), so
their tests ask for that rule explicitly. "lopez_towide", "lopez_towide_tau" and "toy" come from
metafor's own ``to.wide`` + ``contrmat`` + ``rma.mv`` and check the default
(``baseline="metafor"``).
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
    cd = arm_to_contrast(a, yi="y", vi="v", order=ref["order"], baseline="order")
    c = ref["contrasts"]
    assert cd.data["treatment1"].tolist() == c["treatment1"] and cd.data["treatment2"].tolist() == c["treatment2"]
    assert cd.data["arm1"].tolist() == c["arm1"] and cd.data["design"].tolist() == c["design"]
    np.testing.assert_allclose(cd.data["yi"], c["yi"], atol=1e-12, rtol=0)
    np.testing.assert_allclose(cd.V, np.array(ref["V"]), atol=1e-12, rtol=0)


@pytest.mark.parametrize("name", ["lopez", "hasselblad"])
@pytest.mark.parametrize("method", ["REML", "ML", "FE"])
def test_nma_matches_rma_mv(name, method):
    a, ref = arms(name)
    cd = arm_to_contrast(a, yi="y", vi="v", order=ref["order"], baseline="order")
    res = network_meta_analysis(cd, method=method)
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
    res = network_meta_analysis(arm_to_contrast(a, yi="y", vi="v", order=ref["order"], baseline="order"))
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
    cd = arm_to_contrast(a, yi="y", vi="v", order=ref["order"], baseline="order")
    inc = design_by_treatment(cd, method=method)
    r = ref["inconsistency"][method]
    assert inc.df == r["df"] == ref["inconsistency_columns"]
    close([inc.qm, inc.pvalue], [r["qm"], r["pvalue"]])
    if method == "REML":
        close(inc.tau2, r["tau2"])
    assert "Design-by-treatment" in inc.apa()


def test_component_model_matches_rma_mv():
    a, ref = arms("lopez")
    comp = ref["component"]
    cd = arm_to_contrast(a, yi="y", vi="v", order=ref["order"], baseline="order")
    res = component_model(cd, comp["components"])
    close(res.beta, comp["beta"])
    close(res.se, comp["se"])
    close(res.tau2, comp["tau2"])
    close(res.coefficients["ci_low"], comp["ci_low"])
    close(res.coefficients["ci_high"], comp["ci_high"])
    assert res.coef_names == comp["components"] and "component" in res.summary()


def test_baseline_choice_does_not_matter_with_rho_half():
    # rho = 1/2 makes the model invariant to which arm is the study baseline when no study has
    # two arms of the same treatment (none in dat.hasselblad1998)
    a, ref = arms("hasselblad")
    assert not a.groupby("study")["treatment"].apply(lambda t: t.duplicated().any()).any()
    r0 = network_meta_analysis(arm_to_contrast(a, yi="y", vi="v", order=ref["order"]))  # to.wide's rule
    r1o = network_meta_analysis(arm_to_contrast(a, yi="y", vi="v", order=ref["order"], baseline="order"))
    close(r0.tau2, r1o.tau2, rtol=1e-7)
    close(r0.beta, r1o.beta, rtol=1e-7)
    r1 = network_meta_analysis(arm_to_contrast(a, yi="y", vi="v", order=ref["order"], baseline="order"))
    r2 = network_meta_analysis(arm_to_contrast(a, yi="y", vi="v", order=ref["order"][::-1], baseline="order"),
                               reference=ref["order"][0])
    close(r2.tau2, r1.tau2, rtol=1e-7)
    for t in ref["order"][1:]:
        close([r2.contrast(t, ref["order"][0])["estimate"]], [r1.contrast(t, ref["order"][0])["estimate"]], rtol=1e-7)
    # and choosing another reference only re-expresses the same contrasts
    r3 = network_meta_analysis(arm_to_contrast(a, yi="y", vi="v", order=ref["order"], baseline="order"),
                               reference="self_help")
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
    cd = arm_to_contrast(a, yi="y", vi="v", order=ref["order"], baseline="order")
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


# ------------------------------------------------- the default baseline rule is metafor's to.wide


def towide_arms(key: str) -> tuple[pd.DataFrame, dict, dict]:
    """Arm data, the fixture entry and the arm_to_contrast keywords of a to.wide oracle case."""
    if key.startswith("lopez"):
        a, _ = arms("lopez")
        return a, FIX[key], ({} if key == "lopez_towide" else {"reference": "TAU"})
    toy = FIX["toy"]
    a = pd.DataFrame(toy["arms"])
    if key == "towide_factor_cab":  # to.wide on a factor: its levels, not the sorted labels
        a["treatment"] = pd.Categorical(a["treatment"], categories=["C", "A", "B"])
    return a, toy[key], ({"reference": "B"} if key == "towide_ref_b" else {})


TOWIDE = ["lopez_towide", "lopez_towide_tau", "towide_default", "towide_ref_b", "towide_factor_cab"]


@pytest.mark.parametrize("key", TOWIDE)
def test_default_contrasts_equal_to_wide(key):
    # to.wide(arms, study = "study", grp = "treatment", ref = <default or given>): same rows in the
    # same order (to.wide's id = row number), same arms, yi, vi and V (1e-12 absolute)
    a, ref, kw = towide_arms(key)
    cd = arm_to_contrast(a, yi="y", vi="v", **kw)
    c = ref["contrasts"]
    assert cd.baseline == "metafor"
    assert cd.reference == ref["reference"] and cd.treatments == ref["treatments"]
    assert (np.arange(cd.k) + 1).tolist() == c["id"]
    for col in ("study", "treatment1", "treatment2", "arm1", "arm2"):
        assert cd.data[col].tolist() == c[col], col
    np.testing.assert_allclose(cd.data["yi"], c["yi"], atol=1e-12, rtol=0)
    np.testing.assert_allclose(cd.data["vi"], c["vi"], atol=1e-12, rtol=0)
    np.testing.assert_allclose(cd.V, np.array(ref["V"]), atol=1e-12, rtol=0)
    # metafor's comparison labels ("Wa-F2") partition each study's contrasts as ours ("Wait list vs F2F CBT")
    ours, theirs = cd.data["comp"].to_numpy(), np.array(c["comp"])
    st = cd.data["study"].to_numpy()
    same = st[:, None] == st[None, :]
    np.testing.assert_array_equal((ours[:, None] == ours[None, :]) & same, (theirs[:, None] == theirs[None, :]) & same)


@pytest.mark.parametrize("key,method", [(k, m) for k in TOWIDE for m in ("REML", "ML", "FE")
                                        if m in (FIX[k] if k.startswith("lopez") else FIX["toy"][k])["fits"]])
def test_default_nma_equals_rma_mv_on_to_wide(key, method):
    a, ref, kw = towide_arms(key)
    res = network_meta_analysis(arm_to_contrast(a, yi="y", vi="v", **kw), method=method)
    fit = ref["fits"][method]
    assert res.reference == ref["reference"]
    assert res.coef_names == [n[1:] for n in fit["coef_names"]]  # metafor prefixes the matrix name X
    close(res.beta, fit["beta"])
    close(res.se, fit["se"])
    close(res.q, fit["qe"])
    assert res.k == fit["k"] and res.q_df == fit["qe_df"]
    if method == "FE":
        assert res.tau2 == 0
    else:
        close(res.tau2, fit["tau2"])
        assert res.loglik >= fit["loglik"] - 1e-8
        assert res.converged


def test_baseline_matters_with_repeated_treatments():
    # The constructed network has studies with two arms of one treatment (s4: B, A, B; s5: C, B, C;
    # s7: A, C, A). metafor's own fits depend on to.wide's ref, and ours follow them; the other
    # rule (first arm of the first treatment) gives yet another tau^2.
    toy = FIX["toy"]
    a = pd.DataFrame(toy["arms"])
    default = network_meta_analysis(arm_to_contrast(a, yi="y", vi="v"))
    ref_b = network_meta_analysis(arm_to_contrast(a, yi="y", vi="v", reference="B"), reference="A")
    first = network_meta_analysis(arm_to_contrast(a, yi="y", vi="v", order=["A", "B", "C"], baseline="order"))
    close(default.tau2, toy["towide_default"]["fits"]["REML"]["tau2"])
    close(ref_b.tau2, toy["towide_ref_b"]["fits"]["REML"]["tau2"])
    close(first.tau2, toy["order_rule"]["fits"]["REML"]["tau2"])
    taus = [default.tau2, ref_b.tau2, first.tau2]
    assert min(abs(x - y) / y for i, x in enumerate(taus) for y in taus[i + 1:]) > 0.05, taus
    assert abs(default.contrast("C", "A")["estimate"] - ref_b.contrast("C", "A")["estimate"]) > 1e-3
    # in s4 the default makes two "B vs A" contrasts (correlation 1); with reference B, "A vs B" and "B vs B"
    s4 = arm_to_contrast(a, yi="y", vi="v").data.query("study == 's4'")
    assert s4["comp"].tolist() == ["B vs A", "B vs A"] and s4["arm2"].tolist() == [7, 7]
    s4b = arm_to_contrast(a, yi="y", vi="v", reference="B").data.query("study == 's4'")
    assert s4b["comp"].tolist() == ["A vs B", "B vs B"] and s4b["arm2"].tolist() == [8, 8]
    # without those three studies every rule gives the same fit (rho = 1/2, common tau^2)
    b = a[~a["study"].isin(["s4", "s5", "s7"])]
    fits = [network_meta_analysis(arm_to_contrast(b, yi="y", vi="v", **kw), reference="A")
            for kw in ({}, {"reference": "B"}, {"reference": "C"}, {"baseline": "order"},
                       {"baseline": "order", "order": ["C", "B", "A"]})]
    for f in fits[1:]:
        close(f.tau2, fits[0].tau2, rtol=1e-7)
        close([f.contrast(t, "A")["estimate"] for t in "BC"], [fits[0].contrast(t, "A")["estimate"] for t in "BC"],
              rtol=1e-6)
    # (the REML log-likelihood carries metafor's log|X'X| term, which depends on the contrasts
    # chosen; the ML log-likelihood is invariant)
    ml = [network_meta_analysis(arm_to_contrast(b, yi="y", vi="v", **kw), method="ML").loglik
          for kw in ({}, {"reference": "C"}, {"baseline": "order"})]
    close(ml[1:], [ml[0]] * 2, rtol=1e-10)
    # a two-arm study with both arms of one treatment is not affected either (a sign flip)
    c = pd.concat([b, pd.DataFrame({"study": ["t1", "t1"], "treatment": ["B", "B"], "y": [0.1, 0.9],
                                    "v": [0.05, 0.04]})], ignore_index=True)
    f1 = network_meta_analysis(arm_to_contrast(c, yi="y", vi="v"), reference="A")
    f2 = network_meta_analysis(arm_to_contrast(c, yi="y", vi="v", baseline="order"), reference="A")
    close(f1.tau2, f2.tau2, rtol=1e-7)


def test_reference_defaults():
    a = pd.DataFrame(FIX["toy"]["arms"])
    # no order: to.wide's default ref, the treatment with most arms (A and C tie: the first level)
    assert arm_to_contrast(a, yi="y", vi="v").reference == "A"
    assert arm_to_contrast(a[a["study"] != "s1"], yi="y", vi="v").reference == "C"
    # order given: its first treatment, and treatments start with the reference
    cd = arm_to_contrast(a, yi="y", vi="v", order=["B", "C", "A"])
    assert cd.reference == "B" and cd.treatments == ["B", "C", "A"]
    cd = arm_to_contrast(a, yi="y", vi="v", order=["B", "C", "A"], reference="A")
    assert cd.treatments == ["A", "B", "C"] and network_meta_analysis(cd).reference == "A"
    # numeric treatment codes are levels in numeric order, as R's sort(): study 1 (10 vs 2, no
    # reference 1) has 10, the last level, as baseline (as text, "2" would sort last)
    num = pd.DataFrame({"study": [1, 1, 2, 2, 3, 3], "treatment": [10, 2, 2, 1, 10, 1],
                        "yi": [0.3, 0.1, 0.2, 0.0, 0.5, 0.1], "vi": [0.1] * 6})
    cd = arm_to_contrast(num, vi="vi")
    assert cd.reference == "1" and cd.treatments == ["1", "2", "10"]
    assert cd.data["treatment2"].tolist() == ["10", "1", "1"]
