"""Tests of analysis.sem.ordinal: the engine's WLSMV estimator for ordered items (lavaan oracles).

Reference values:

* single-group ordinal CFA: block "ordinal" of tests/fixtures/psychometrics.json
  (tests/oracles/psych_lavaan.R, lavaan 0.6-14 ``cfa(model, data = complete cases, ordered = TRUE)``),
  refitted here by the engine's ``sem(model, data, ordered=...)`` with the tolerances of
  tests/test_psychometrics.py;
* ordinal measurement invariance: tests/fixtures/sem_ordinal_invariance.json
  (tests/oracles/sem_ordinal_invariance.R: two groups of the shipped items file; configural,
  thresholds, thresholds + loadings (+ intercepts); parameterization "delta" and "theta").

Observed agreement with lavaan on the invariance fixture: estimates within 1.8e-5, robust SEs
within 4.3e-6, chi-squares within 1.1e-5 absolute (1e-7 relative; lavaan's optimiser stops earlier
than ours), CFI/TLI/RMSEA/SRMR within 5e-8. Tolerances (tighter than the 1e-3 asked for): 1e-4
absolute for estimates and SEs, 1e-6 relative for chi-squares and scaling factors, 1e-6 absolute
for p-values and fit indices.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.sem import ordinal as O
from analysis.sem import sem

FIX = Path(__file__).parent / "fixtures"
PSY = json.loads((FIX / "psychometrics.json").read_text(encoding="utf-8"))
INV = json.loads((FIX / "sem_ordinal_invariance.json").read_text(encoding="utf-8"))
ITEMS = [f"i{j}" for j in range(1, 13)]
M3 = "task =~ i1 + i2 + i10 + i12\n bond =~ i3 + i5 + i7 + i9\n goal =~ i4 + i6 + i8 + i11"
M1 = "g =~ " + " + ".join(ITEMS)
STEPS = {"configural": (), "thresholds": ("thresholds",), "thresholds_loadings": ("thresholds", "loadings"),
         "thresholds_loadings_intercepts": ("thresholds", "loadings", "intercepts")}


@pytest.fixture(scope="module")
def raw():
    return pd.read_csv(FIX / "psychometrics_items.csv")


# ----------------------------------------------------------------------------- single group
# Same tolerances as tests/test_psychometrics.py (ordinal block): 1e-5 absolute for thresholds,
# polychorics, estimates, SEs and indices; 1e-6 relative for the chi-squares.
@pytest.fixture(scope="module")
def single_fits(raw):
    out = {}
    for name, model in {"three": M3, "one": M1}.items():
        with pytest.warns(UserWarning, match="3 respondents with a missing answer were dropped"):
            out[name] = sem(model, raw, ordered=ITEMS, estimator="WLSMV")
    return out


@pytest.mark.parametrize("name", ["three", "one"])
def test_single_group_matches_lavaan(single_fits, name):
    res, ref = single_fits[name], PSY["ordinal"][name]
    assert ref["estimator"] == "DWLS" and ref["parameterization"] == "delta"
    assert res.converged and res.n_obs == ref["fit"]["ntotal"] and res.n_dropped == 3
    # sample statistics
    th = res.sample_stats.thresholds[None]
    for k, v in ref["thresholds"].items():
        assert th[k] == pytest.approx(v, abs=1e-5)
    pc = pd.DataFrame(ref["polychoric"])
    pc.index = pc.columns
    np.testing.assert_allclose(res.sample_stats.polychoric[None].to_numpy(),
                               pc.loc[res.items, res.items].to_numpy(), atol=1e-5)
    # every parameter lavaan reports (loadings, thresholds, variances), free or implied
    pe = pd.DataFrame(ref["params"])
    m = pe.merge(res.params, on=["lhs", "op", "rhs"], how="left")
    assert m["estimate"].notna().all() and len(m) == len(pe)
    np.testing.assert_allclose(m["estimate"], m["est"], atol=1e-5)
    np.testing.assert_allclose(m["std_all"], m["std"], atol=1e-5)
    free = m["free"] > 0
    assert ((m["se_x"] > 0) == free).all()
    np.testing.assert_allclose(m.loc[free, "se_y"], m.loc[free, "se_x"], atol=1e-5)
    assert (m.loc[~free, "se_y"] == 0).all()
    # fit measures (lavaan's names)
    for k, want in ref["fit"].items():
        tol = dict(rel=1e-6) if "chisq" in k else dict(abs=1e-5)
        assert res.fit[k] == pytest.approx(want, **tol), k


def test_single_group_gamma_and_threshold_ses(single_fits):
    res = single_fits["three"]
    G = res.sample_stats.gamma[None].to_numpy()
    assert G.shape == (48 + 66, 48 + 66) and np.allclose(G, G.T) and np.linalg.eigvalsh(G).min() > 0
    th = res.params[res.params["op"] == "|"]
    np.testing.assert_allclose(th["se"], np.sqrt(np.diag(G)[:48] / (res.n_obs - 1)), rtol=1e-8)
    assert res.sample_stats.categories["i1"] == [1, 2, 3, 4, 5]


# ----------------------------------------------------------------------------- invariance
@pytest.fixture(scope="module")
def stats_by_group(raw):
    with pytest.warns(UserWarning, match="dropped"):
        return O.ordinal_sample_stats(raw, O.parse_measurement_model(M3)["task"] + ["i3", "i5", "i7", "i9", "i4",
                                                                                   "i6", "i8", "i11"],
                                      group="group")


@pytest.fixture(scope="module")
def inv_fits(raw, stats_by_group):
    out = {}
    for par in ("delta", "theta"):
        for step, ge in STEPS.items():
            if step == "thresholds_loadings_intercepts" and par == "theta":
                continue
            out[par, step] = O.fit_wlsmv(raw, M3, group="group", group_equal=ge, parameterization=par,
                                         sample_stats=stats_by_group)
    return out


FIT_KEYS = ["npar", "chisq", "df", "pvalue", "chisq.scaled", "df.scaled", "pvalue.scaled", "chisq.scaling.factor",
            "baseline.chisq", "baseline.df", "baseline.chisq.scaled", "cfi", "tli", "rmsea.ci.lower", "rmsea.ci.upper",
            "rmsea.pvalue", "rmsea.ci.lower.scaled", "rmsea.ci.upper.scaled", "rmsea.pvalue.scaled",
            "cfi.scaled", "tli.scaled", "rmsea", "rmsea.scaled", "srmr", "ntotal"]


@pytest.mark.parametrize("par,step", [(p, s) for p in ("delta", "theta") for s in STEPS
                                      if not (p == "theta" and s == "thresholds_loadings_intercepts")])
def test_invariance_matches_lavaan(inv_fits, par, step):
    res, ref = inv_fits[par, step], INV[par][step]
    assert ref["converged"] and ref["estimator"] == "DWLS" and ref["parameterization"] == par
    assert res.converged and res.groups == INV["groups"] == ["A", "B"]
    assert res.n_per_group == INV["n_per_group"]
    for k in FIT_KEYS:
        want = ref["fit"][k]
        tol = dict(rel=1e-6) if ("chisq" in k or k == "chisq.shift.parameter") else dict(abs=1e-6)
        assert res.fit[k] == pytest.approx(want, **tol), k
    pe = pd.DataFrame(ref["params"])
    m = pe.merge(res.params.rename(columns={"group": "group_no", "group_label": "group"}),
                 on=["lhs", "op", "rhs", "group"], how="outer", indicator=True)
    assert (m["_merge"] == "both").all(), m.loc[m["_merge"] != "both", ["lhs", "op", "rhs", "group"]]
    # which parameters are free: lavaan's default identification for ordered multi-group models
    assert (m["free_x"] == (m["free_y"] > 0)).all()
    np.testing.assert_allclose(m["estimate"], m["est"], atol=1e-4)
    free = m["free_x"]
    np.testing.assert_allclose(m.loc[free, "se_y"], m.loc[free, "se_x"], atol=1e-4)
    # equality constraints share one free parameter across groups
    if "thresholds" in STEPS[step]:
        th = res.params[res.params["op"] == "|"].pivot(index=["lhs", "rhs"], columns="group_label", values="free")
        assert (th["A"] == th["B"]).all()


@pytest.mark.parametrize("par", ["delta", "theta"])
def test_sem_dispatches_ordered_items_to_wlsmv(raw, inv_fits, par):
    """analysis.sem.sem(..., ordered=..., estimator="WLSMV") is this estimator (same fit as fit_wlsmv)."""
    with pytest.warns(UserWarning, match="dropped"):
        res = sem(M3, raw, ordered=ITEMS, estimator="WLSMV", group="group", group_equal=["thresholds", "loadings"],
                  parameterization=par)
    ref = inv_fits[par, "thresholds_loadings"]
    assert isinstance(res, O.WLSMVResult)
    np.testing.assert_allclose(res.parameter_estimates()["estimate"], ref.params["estimate"], atol=1e-9)
    assert res.fit_measures("chisq.scaled") .iloc[0] == pytest.approx(INV[par]["thresholds_loadings"]["fit"]["chisq.scaled"],
                                                                    rel=1e-6)


def test_invariance_sample_stats_match_lavaan(stats_by_group):
    ref = INV["delta"]["configural"]["sampstat"]
    for g in ("A", "B"):
        for k, v in ref[g]["th"].items():
            assert stats_by_group.thresholds[g][k] == pytest.approx(v, abs=1e-8)
        pc = pd.DataFrame(ref[g]["cor"])
        pc.index = pc.columns
        items = stats_by_group.items
        np.testing.assert_allclose(stats_by_group.polychoric[g].to_numpy(), pc.loc[items, items].to_numpy(),
                                   atol=1e-6)


def test_delta_and_theta_are_equivalent(inv_fits):
    """The two parameterizations are reparameterizations: same fit, same standardised solution."""
    for step in ("configural", "thresholds", "thresholds_loadings"):
        d, t = inv_fits["delta", step], inv_fits["theta", step]
        for k in ("chisq", "chisq.scaled", "cfi.scaled", "rmsea.scaled", "srmr"):
            assert d.fit[k] == pytest.approx(t.fit[k], rel=1e-6, abs=1e-9)
        sd = d.params[d.params["op"] == "=~"]["std_all"].to_numpy()
        st = t.params[t.params["op"] == "=~"]["std_all"].to_numpy()
        np.testing.assert_allclose(sd, st, atol=1e-6)


def test_reusing_sample_stats_gives_the_same_fit(raw, inv_fits):
    with pytest.warns(UserWarning, match="dropped"):
        fresh = O.fit_wlsmv(raw, M3, group="group", group_equal=("thresholds",))
    np.testing.assert_allclose(fresh.params["estimate"], inv_fits["delta", "thresholds"].params["estimate"],
                               atol=1e-9)


def test_result_vocabulary_and_summary(inv_fits):
    res = inv_fits["delta", "thresholds_loadings"]
    fr = res.to_frame()
    assert list(fr.columns[:7]) == ["term", "estimate", "se", "statistic", "pvalue", "ci_low", "ci_high"]
    assert "task =~ i2" in set(fr["term"]) and "task ~1" in set(fr["term"])
    s = res.summary()
    assert "WLSMV" in s and "Scaled-shifted" in s and "thresholds, loadings" in s
    assert "CFI" in res.apa() and "\u03c7\u00b2(144" in res.apa()
    d = res.to_dict()
    json.dumps(d, default=float)
    assert res.parameter_estimates().shape == res.params.shape and res.coefficients.index[0] == "task =~ i1"
    assert res.boundary == []
    sol = res.standardized_solution()
    assert list(sol.columns[:7]) == ["term", "estimate", "se", "statistic", "pvalue", "ci_low", "ci_high"]
    assert sol["se"].notna().sum() > 50
    assert res.fit_measures()["df"] == 144
    assert res.vcov.shape == (84, 84) and np.allclose(res.vcov, res.vcov.T)
    imp = res.implied["B"]
    assert imp["cor"].shape == (12, 12) and len(imp["thresholds"]) == 48


def test_partial_thresholds_free_one_more_parameter(raw, stats_by_group, inv_fits):
    res = O.fit_wlsmv(raw, M3, group="group", group_equal=("thresholds", "loadings"),
                      group_partial=("i6 | t1", "goal =~ i6"), sample_stats=stats_by_group)
    full = inv_fits["delta", "thresholds_loadings"]
    assert res.fit["npar"] == full.fit["npar"] + 2 and res.fit["df"] == full.fit["df"] - 2
    assert res.fit["chisq"] <= full.fit["chisq"] + 1e-8
    th = res.params[(res.params["op"] == "|") & (res.params["lhs"] == "i6")]
    assert th.loc[th["rhs"] == "t1", "free"].nunique() == 2 and th.loc[th["rhs"] == "t2", "free"].nunique() == 1


@pytest.mark.parametrize("par", ["delta", "theta"])
def test_binary_and_polytomous_items_match_lavaan(raw, par):
    """Block "binary" of the fixture (i1, i3 cut at 4; thresholds and loadings equal): lavaan 0.6-14
    frees the scales / residual variances of the binary items in group 2 too. Tolerances as the
    invariance test."""
    ref = INV["binary"][par]
    d = raw.dropna(subset=ITEMS).copy()
    d["i1"] = (d["i1"] >= 4).astype(int)
    d["i3"] = (d["i3"] >= 4).astype(int)
    res = O.fit_wlsmv(d, INV["binary"]["model"], group="group", group_equal=("thresholds", "loadings"),
                      parameterization=par)
    assert res.converged and ref["converged"]
    for k, want in ref["fit"].items():
        tol = dict(rel=1e-6) if "chisq" in k else dict(abs=1e-6)
        assert res.fit[k] == pytest.approx(want, **tol), k
    pe = pd.DataFrame(ref["params"])
    m = pe.merge(res.params.rename(columns={"group": "group_no", "group_label": "group"}),
                 on=["lhs", "op", "rhs", "group"], how="outer", indicator=True)
    assert (m["_merge"] == "both").all() and (m["free_x"] == (m["free_y"] > 0)).all()
    np.testing.assert_allclose(m["estimate"], m["est"], atol=1e-4)
    np.testing.assert_allclose(m.loc[m["free_x"], "se_y"], m.loc[m["free_x"], "se_x"], atol=1e-4)


def test_orthogonal_factors(raw):
    with pytest.warns(UserWarning, match="dropped"):
        res = O.fit_wlsmv(raw, M3, orthogonal=True)
    cov = res.params[(res.params["op"] == "~~") & (res.params["lhs"] != res.params["rhs"])]
    assert (cov["estimate"] == 0).all() and (cov["free"] == 0).all()
    assert res.fit["df"] == 51 + 3


def test_parse_measurement_model():
    assert O.parse_measurement_model("a =~ x + y; a =~ z\nb =~ u + v  # c") == {"a": ["x", "y", "z"],
                                                                             "b": ["u", "v"]}
    assert O.parse_measurement_model({"f": ("x", "y")}) == {"f": ["x", "y"]}


# ----------------------------------------------------------------------------- structural model
# lavaan sem(m_sem, ordered = TRUE) with regressions among the factors and an equality label
# (block "structural" of the invariance fixture). Observed: estimates within 2.1e-6, SEs within
# 2.4e-7, std.all within 1.3e-6, chi-squares within 1e-7 relative, p-values and indices within 2e-7.
# Tolerances: 1e-5 absolute for estimates, SEs and std.all; 1e-6 relative for the chi-squares,
# 1e-6 absolute for the other fit measures.
@pytest.mark.parametrize("par", ["delta", "theta"])
def test_structural_model_matches_lavaan(raw, par):
    ref = INV["structural"][par]
    with pytest.warns(UserWarning, match="dropped"):
        res = O.fit_wlsmv(raw, INV["structural"]["model"], parameterization=par)
    assert res.converged and ref["converged"]
    for k, want in ref["fit"].items():
        tol = dict(rel=1e-6) if "chisq" in k else dict(abs=1e-6)
        assert res.fit[k] == pytest.approx(want, **tol), k
    pe = pd.DataFrame(ref["params"])
    m = pe.merge(res.params, on=["lhs", "op", "rhs"], how="outer", indicator=True)
    assert (m["_merge"] == "both").all()
    np.testing.assert_allclose(m["estimate"], m["est"], atol=1e-5)
    np.testing.assert_allclose(m["se_y"], m["se_x"], atol=1e-5)
    np.testing.assert_allclose(m["std_all_y"], m["std_all_x"], atol=1e-5)
    # standardizedSolution()'s delta-method SEs of std.all (observed: within 1.5e-8)
    np.testing.assert_allclose(m["std_all_se_y"], m["std_all_se_x"], atol=1e-5)
    eq = res.params[res.params["label"] == "a"]
    assert len(eq) == 2 and eq["free"].nunique() == 1


def test_groups_in_order_of_appearance(raw):
    """lavaan's group.label: the groups in the order they first appear in the data."""
    with pytest.warns(UserWarning, match="dropped"):
        st_ = O.ordinal_sample_stats(raw.iloc[::-1], ["i1", "i2", "i3"], group="group")
    assert st_.groups == ["B", "A"]


# ----------------------------------------------------------------------------- difference tests
# lavTestLRT(configural, thresholds, thresholds_loadings), lavaan's default for WLSMV
# (satorra.2000, scaled-shifted). Tolerances: 1e-5 relative for the statistic, 1e-6 absolute for the
# p-value (both models come from optimisers that stop at slightly different points).
@pytest.mark.parametrize("par", ["delta", "theta"])
def test_difference_tests_match_lavaan(inv_fits, par):
    ref = INV[f"lrt_{par}"]
    assert "satorra.2000" in ref["method"]
    prev = "configural"
    for row in ref["rows"]:
        out = O.difference_test(inv_fits[par, prev], inv_fits[par, row["model"]])
        assert out["df_diff"] == row["df_diff"]
        assert out["chisq_diff"] == pytest.approx(row["chisq_diff"], rel=1e-5)
        assert out["pvalue"] == pytest.approx(row["pvalue"], abs=1e-6)
        # the order of the two models does not matter
        back = O.difference_test(inv_fits[par, row["model"]], inv_fits[par, prev])
        assert back["chisq_diff"] == pytest.approx(out["chisq_diff"], rel=1e-12)
        prev = row["model"]


# ----------------------------------------------------------------------------- invariance sequence
@pytest.mark.parametrize("par", ["delta", "theta"])
def test_ordinal_invariance_sequence_matches_lavaan(raw, par):
    """ordinal_invariance: the three steps and lavTestLRT's difference tests (tolerances as above)."""
    with pytest.warns(UserWarning, match="dropped"):
        inv = O.ordinal_invariance(raw, M3, "group", parameterization=par)
    assert list(inv.table.index) == ["configural", "thresholds", "thresholds_loadings"]
    for step, row in inv.table.iterrows():
        ref = INV[par][step]["fit"]
        assert row["df"] == ref["df"] and row["npar"] == ref["npar"]
        assert row["chisq_scaled"] == pytest.approx(ref["chisq.scaled"], rel=1e-6)
        for k in ("cfi_scaled", "rmsea_scaled", "srmr", "pvalue_scaled"):
            assert row[k] == pytest.approx(ref[k.replace("_", ".")], abs=1e-6), k
    for lr in INV[f"lrt_{par}"]["rows"]:
        row = inv.table.loc[lr["model"]]
        assert row["delta_df"] == lr["df_diff"]
        assert row["delta_chisq"] == pytest.approx(lr["chisq_diff"], rel=1e-5)
        assert row["delta_pvalue"] == pytest.approx(lr["pvalue"], abs=1e-6)
    assert np.isnan(inv.table.loc["configural", "delta_chisq"])
    assert "satorra.2000" in inv.summary() and "thresholds_loadings vs thresholds" in inv.apa()
    assert list(inv.to_frame().columns[:2]) == ["step", "npar"]
    json.dumps(inv.to_dict(), default=float)


def test_std_lv_identification_gives_the_same_fit(raw, stats_by_group):
    """Unit factor variances instead of markers: an equivalent model (same test statistics as lavaan's
    marker-identified fit), with the factor variances freed after group 1 once the loadings are equal."""
    res = O.fit_wlsmv(raw, M3, group="group", group_equal=("thresholds", "loadings"), std_lv=True,
                      sample_stats=stats_by_group)
    ref = INV["delta"]["thresholds_loadings"]["fit"]
    assert res.fit["df"] == ref["df"]
    assert res.fit["chisq.scaled"] == pytest.approx(ref["chisq.scaled"], rel=1e-6)
    var = res.params[(res.params["op"] == "~~") & (res.params["lhs"] == "task") & (res.params["rhs"] == "task")]
    assert var["free"].tolist()[0] == 0 and var["free"].tolist()[1] > 0
