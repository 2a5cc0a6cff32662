"""Tests of analysis.psychometrics: scoring, reliability (psych oracle) and CFA (lavaan oracle).

Reference values: tests/oracles/psych_lavaan.R (R 4.2, lavaan, psych), written to
tests/fixtures/psychometrics.json with the data in tests/fixtures/psychometrics_items.csv;
the reference values use the complete cases of that file.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import _cfa_ml
from analysis import psychometrics as P
from analysis.simulate import simulate_wai_sr_items

FIX = Path(__file__).parent / "fixtures"
REF = json.loads((FIX / "psychometrics.json").read_text(encoding="utf-8"))
ITEMS = [f"i{j}" for j in range(1, 13)]
MODEL_NAMES = {"one-factor": "one", "three-factor": "three", "bifactor": "bifactor"}


@pytest.fixture(scope="module")
def raw():
    return pd.read_csv(FIX / "psychometrics_items.csv")


@pytest.fixture(scope="module")
def complete(raw):
    cc = raw.dropna(subset=ITEMS)
    assert cc["respondent"].tolist() == REF["complete_respondents"]
    return cc


@pytest.fixture(scope="module")
def models(complete):
    return P.compare_factor_models(complete, P.wai_sr_key(ITEMS), general="g")


# ----------------------------------------------------------------------------- scoring
def wai_frame(rows, ids=None):
    cols = [f"wai{j}" for j in range(1, 13)]
    return pd.DataFrame(rows, columns=cols, index=ids)


def test_wai_sr_key_items():
    key = P.wai_sr_key()
    assert key.subscales == {"task": ("wai1", "wai2", "wai10", "wai12"),
                             "bond": ("wai3", "wai5", "wai7", "wai9"),
                             "goal": ("wai4", "wai6", "wai8", "wai11")}
    assert key.reverse == ()
    assert sorted(key.items, key=lambda s: int(s[3:])) == [f"wai{j}" for j in range(1, 13)]


def test_wai_sr_scores_by_hand():
    # items 1..12 answered 1,2,3,4,5,1,2,3,4,5,1,2
    row = [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2]
    res = P.score_wai_sr(wai_frame([row], ids=["p1"]))
    # task: items 1,2,10,12 -> 1,2,5,2 ; bond 3,5,7,9 -> 3,5,2,4 ; goal 4,6,8,11 -> 4,1,3,1
    assert res.scores.loc["p1", "task"] == pytest.approx(10 / 4)
    assert res.scores.loc["p1", "bond"] == pytest.approx(14 / 4)
    assert res.scores.loc["p1", "goal"] == pytest.approx(9 / 4)
    assert res.scores.loc["p1", "total"] == pytest.approx(33 / 12)
    summed = P.score_wai_sr(wai_frame([row], ids=["p1"]), method="sum").scores
    assert summed.loc["p1"].tolist() == [10.0, 14.0, 9.0, 33.0]


def test_prorating_and_unscored_report():
    rows = [[4] * 12, [4] * 12, [4] * 12]
    df = wai_frame(rows, ids=["a", "b", "c"]).astype(float)
    df.loc["b", "wai1"] = np.nan              # task: 3 of 4 answered -> prorated
    df.loc["b", "wai2"] = 2                   # task mean of 2, 4, 4
    df.loc["c", ["wai3", "wai5"]] = np.nan    # bond: 2 of 4 -> unscored (min 3)
    res = P.score_wai_sr(df)
    assert res.scores.loc["b", "task"] == pytest.approx((2 + 4 + 4) / 3)
    assert bool(res.prorated.loc["b", "task"]) and not bool(res.prorated.loc["a", "task"])
    assert np.isnan(res.scores.loc["c", "bond"])
    assert res.unscored[["respondent", "scale", "answered", "required"]].values.tolist() == [["c", "bond", 2, 3]]
    assert res.missing.values.tolist() == [["b", "wai1", "task"], ["c", "wai3", "bond"], ["c", "wai5", "bond"]]
    # total: 10 of 12 answered >= 9 -> scored, prorated
    assert res.scores.loc["c", "total"] == pytest.approx(4.0)
    assert bool(res.prorated.loc["c", "total"])
    # prorated sum = mean * number of items
    s = P.score_wai_sr(df, method="sum").scores
    assert s.loc["b", "task"] == pytest.approx(4 * (10 / 3))
    # no prorating: any missing item leaves the subscale unscored
    strict = P.score_wai_sr(df, prorate=False).scores
    assert np.isnan(strict.loc["b", "task"]) and np.isnan(strict.loc["b", "total"])
    assert "missing answers: 3 in 2 respondents" in res.summary()


def test_reverse_keying_generic_instrument():
    key = P.InstrumentKey("demo", {"a": ["q1", "q2", "q3"], "b": ["q4", "q5"]}, 0, 4,
                          reverse=["q2", "q5"], min_answered={"a": 2, "b": 2})
    df = pd.DataFrame({"q1": [0, 4], "q2": [0, 4], "q3": [2, 2], "q4": [1, 3], "q5": [1, 3]},
                      index=["x", "y"])
    res = P.score_items(df, key)
    # x: a = (0 + 4 + 2)/3, b = (1 + 3)/2 ; y: a = (4 + 0 + 2)/3, b = (3 + 1)/2
    assert res.scores.loc["x", "a"] == pytest.approx(2.0)
    assert res.scores.loc["x", "b"] == pytest.approx(2.0)
    assert res.keyed_items.loc["y", "q2"] == 0 and res.keyed_items.loc["y", "q5"] == 1
    assert res.scores.loc["x", "total"] == pytest.approx((0 + 4 + 2 + 1 + 3) / 5)


def test_reverse_keying_is_an_involution():
    key = P.InstrumentKey("k", {"a": ["q1", "q2"]}, 1, 7, reverse=["q1", "q2"], total_name=None)
    df = pd.DataFrame({"q1": [1, 7, 3], "q2": [2, 5, 6]})
    once = P.score_items(df, key).keyed_items
    twice = P.score_items(once, key).keyed_items
    pd.testing.assert_frame_equal(twice, df.astype(float))


@pytest.mark.parametrize("value, message", [
    (6, "respondent 'R2', item 'wai7' has 6, outside the allowed range 1-5"),
    (0, "respondent 'R2', item 'wai7' has 0, outside"),
    ("often", "respondent 'R2', item 'wai7': 'often' is not a number"),
    (3.5, "respondent 'R2', item 'wai7' has 3.5, not a whole number"),
    (True, "respondent 'R2', item 'wai7': True is not a number"),
    (float("inf"), "respondent 'R2', item 'wai7': inf is not a finite number"),
])
def test_bad_answers_name_respondent_and_item(value, message):
    df = wai_frame([[3] * 12, [3] * 12]).astype(object)
    df.insert(0, "id", ["R1", "R2"])
    df.loc[1, "wai7"] = value
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        P.score_wai_sr(df, respondent="id")


def test_key_and_data_errors():
    with pytest.raises(ValueError, match="item 'q1' is in both 'a' and 'b'"):
        P.InstrumentKey("k", {"a": ["q1"], "b": ["q1"]}, 1, 5)
    with pytest.raises(ValueError, match="`reverse` names items that are in no subscale"):
        P.InstrumentKey("k", {"a": ["q1"]}, 1, 5, reverse=["q9"])
    with pytest.raises(ValueError, match="`low`"):
        P.InstrumentKey("k", {"a": ["q1"]}, 5, 1)
    with pytest.raises(ValueError, match="`min_answered` for subscale 'a'"):
        P.InstrumentKey("k", {"a": ["q1", "q2"]}, 1, 5, min_answered=3)
    with pytest.raises(ValueError, match="item columns not in `data`"):
        P.score_wai_sr(pd.DataFrame({"wai1": [1]}))
    with pytest.raises(ValueError, match="'R1' appears more than once"):
        df = wai_frame([[3] * 12, [3] * 12])
        df["id"] = ["R1", "R1"]
        P.score_wai_sr(df, respondent="id")
    with pytest.raises(ValueError, match="12 distinct columns"):
        P.wai_sr_key(["a"] * 12)


def test_missing_answers_in_fixture(raw):
    res = P.score_wai_sr(raw, ITEMS, respondent="respondent")
    assert len(res.missing) == int(raw[ITEMS].isna().sum().sum()) == 5
    assert set(res.unscored["respondent"]) == {"R002", "R009"}
    complete_ids = raw.dropna(subset=ITEMS)["respondent"]
    np.testing.assert_allclose(res.scores.loc[complete_ids, "total"],
                               raw.set_index("respondent").loc[complete_ids, ITEMS].mean(axis=1), rtol=1e-15)


# ----------------------------------------------------------------------------- reliability vs psych
def test_alpha_matches_psych(complete):
    """psych::alpha raw_alpha, Feldt CI, r.drop, alpha.drop, std.alpha: tolerance 1e-6 (closed form)."""
    a = P.cronbach_alpha(complete, ITEMS)
    ref = REF["alpha"]
    assert a.alpha == pytest.approx(ref["raw_alpha"], abs=1e-6)
    assert a.standardized_alpha == pytest.approx(ref["std_alpha"], abs=1e-6)
    assert a.ci[0] == pytest.approx(ref["feldt_lower"], abs=1e-6)
    assert a.ci[1] == pytest.approx(ref["feldt_upper"], abs=1e-6)
    for it in ITEMS:
        assert a.items.loc[it, "r_drop"] == pytest.approx(ref["r_drop"][it], abs=1e-6)
        assert a.items.loc[it, "alpha_if_deleted"] == pytest.approx(ref["alpha_if_deleted"][it], abs=1e-6)
    for s, its in P.wai_sr_key(ITEMS).subscales.items():
        assert P.cronbach_alpha(complete, its).alpha == pytest.approx(ref["subscales"][s], abs=1e-6)
    assert a.n == len(complete) and a.n_dropped == 0
    assert "Cronbach's alpha" in a.summary() and a.apa().startswith("Cronbach's")


def test_alpha_ci_equals_pingouin_rounded(complete):
    import pingouin
    a = P.cronbach_alpha(complete, ITEMS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, ci = pingouin.cronbach_alpha(complete[ITEMS])
    assert np.round(a.ci, 3).tolist() == list(ci)


def test_alpha_listwise_drops_with_warning(raw):
    with pytest.warns(UserWarning, match="3 respondents with a missing answer were dropped"):
        a = P.cronbach_alpha(raw, ITEMS)
    assert a.n_dropped == 3 and a.alpha == pytest.approx(REF["alpha"]["raw_alpha"], abs=1e-12)


def test_alpha_errors():
    with pytest.raises(ValueError, match="at least 2 items"):
        P.cronbach_alpha(pd.DataFrame({"a": [1.0, 2, 3]}))
    with pytest.raises(ValueError, match="column 'b' has zero variance"):
        P.cronbach_alpha(pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [2.0, 2, 2, 2]}))
    with pytest.raises(ValueError, match="column 'b' must be numeric"):
        P.cronbach_alpha(pd.DataFrame({"a": [1.0, 2, 3], "b": ["x", "y", "z"]}))
    with pytest.raises(ValueError, match="`level`"):
        P.cronbach_alpha(pd.DataFrame({"a": [1.0, 2, 3], "b": [1.0, 3, 2]}), level=95)


item_matrices = st.integers(min_value=0, max_value=10_000).map(
    lambda s: pd.DataFrame(np.random.default_rng(s).normal(size=(40, 1))
                           + np.random.default_rng(s + 1).normal(size=(40, 5)), columns=list("abcde")))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=item_matrices, perm_seed=st.integers(0, 1000), shift=st.floats(-50, 50, allow_nan=False))
def test_alpha_invariant_to_item_order_and_constant_shift(df, perm_seed, shift):
    a = P.cronbach_alpha(df).alpha
    cols = list(np.random.default_rng(perm_seed).permutation(df.columns))
    assert P.cronbach_alpha(df[cols]).alpha == pytest.approx(a, abs=1e-10)
    assert P.cronbach_alpha(df + shift).alpha == pytest.approx(a, abs=1e-9)


@settings(max_examples=30, deadline=None)
@given(df=item_matrices, scale=st.floats(0.1, 10))
def test_alpha_if_deleted_equals_alpha_of_the_rest(df, scale):
    a = P.cronbach_alpha(df * scale)
    for c in df.columns:
        rest = P.cronbach_alpha(df.drop(columns=c)).alpha
        assert a.items.loc[c, "alpha_if_deleted"] == pytest.approx(rest, abs=1e-10)
    # scaling all items by one constant leaves alpha unchanged
    assert a.alpha == pytest.approx(P.cronbach_alpha(df).alpha, abs=1e-10)


def test_feldt_ci_brackets_alpha():
    lo, hi = P.feldt_ci(0.85, 200, 12)
    assert lo < 0.85 < hi
    with pytest.raises(ValueError, match="`level`"):
        P.feldt_ci(0.8, 10, 3, level=1.5)


# ----------------------------------------------------------------------------- CFA vs lavaan
FIT_MAP = {"chisq": "chisq", "df": "df", "cfi": "cfi", "tli": "tli", "rmsea": "rmsea",
           "rmsea_lower": "rmsea.ci.lower", "rmsea_upper": "rmsea.ci.upper", "srmr": "srmr",
           "loglik": "logl", "baseline_chisq": "baseline.chisq", "baseline_df": "baseline.df"}


@pytest.mark.parametrize("name", list(MODEL_NAMES))
def test_fit_indices_match_lavaan(models, name):
    """lavaan::cfa(estimator = "ML") fitMeasures: tolerance 1e-3 (optimizer differences).

    chi-square and log-likelihood are on a scale of tens to thousands, so 1e-3 absolute is a
    relative agreement of 1e-5 or better."""
    m = models.models[name]
    ref = REF["cfa"][MODEL_NAMES[name]]
    assert ref["converged"] and m.converged
    for ours, theirs in FIT_MAP.items():
        assert m.fit[ours] == pytest.approx(ref["fit"][theirs], abs=1e-3), ours
    assert m.n == ref["fit"]["ntotal"]


@pytest.mark.parametrize("name", list(MODEL_NAMES))
def test_standardized_loadings_match_lavaan(models, name):
    """standardizedSolution()$est.std: tolerance 1e-3."""
    m = models.models[name]
    ref = {(r["factor"], r["item"]): r["std"] for r in REF["cfa"][MODEL_NAMES[name]]["std_loadings"]}
    ours = {(r.factor, r.item): r.std for r in m.loadings.itertuples()}
    assert set(ours) == set(ref)
    for k, v in ref.items():
        assert ours[k] == pytest.approx(v, abs=1e-3), k


@pytest.mark.parametrize("name", ["one-factor", "three-factor"])
def test_unstandardized_loadings_and_se_match_lavaan(models, name):
    """parameterEstimates(): estimates 1e-3; SEs (expected information, both) 1e-3."""
    m = models.models[name]
    for r in REF["cfa"][MODEL_NAMES[name]]["loadings"]:
        row = m.loadings[(m.loadings.factor == r["factor"]) & (m.loadings.item == r["item"])].iloc[0]
        assert row.estimate == pytest.approx(r["est"], abs=1e-3)
        if r["se"] > 0:
            assert row.se == pytest.approx(r["se"], abs=1e-3)
    for it, v in REF["cfa"][MODEL_NAMES[name]]["residual_var"].items():
        assert m.residual_var[it] == pytest.approx(v, abs=1e-3)


@pytest.mark.parametrize("name", list(MODEL_NAMES))
def test_omega_matches_lavaan_based_omega(models, name):
    """omega from lavaan estimates (formula in the R oracle): tolerance 1e-4."""
    m = models.models[name]
    ref = REF["omega"][MODEL_NAMES[name]]
    assert m.omega()["total"] == pytest.approx(ref["total"], abs=1e-4)
    assert m.omega(denominator="observed")["total"] == pytest.approx(ref["total_observed_denominator"], abs=1e-4)
    for f, v in ref["by_factor"].items():
        assert m.omega()[f"omega_{f}"] == pytest.approx(v, abs=1e-4)
    if name == "bifactor":
        assert m.omega()["hierarchical"] == pytest.approx(ref["by_factor"]["g"], abs=1e-4)


def test_standardized_omega_matches_psych_omega(models):
    """psych::omega(nfactors = 1, fm = "ml")$omega.tot: tolerance 1e-4."""
    m = models.models["one-factor"]
    assert m.omega_standardized() == pytest.approx(REF["psych_omega_1f"]["omega_tot"], abs=1e-4)
    with pytest.raises(ValueError, match="one-factor"):
        models.models["three-factor"].omega_standardized()


def test_configural_invariance_matches_lavaan(complete):
    """lavaan::cfa(group = "group") configural chi-square, df and RMSEA: 1e-3."""
    res = P.configural_invariance(complete, P.wai_sr_key(ITEMS).subscales, "group")
    ref = REF["invariance"]
    assert res.chisq == pytest.approx(ref["fit"]["configural"]["chisq"], abs=1e-3)
    assert res.df == ref["fit"]["configural"]["df"]
    assert res.rmsea == pytest.approx(ref["fit"]["configural"]["rmsea"], abs=1e-3)
    for g, m in res.groups.items():
        assert m.fit["chisq"] == pytest.approx(ref["per_group"][g]["chisq"], abs=1e-3)
    assert "measurement_invariance" in res.summary()


# ----------------------------------------------------------------------------- invariance (multi-group CFA)
WAI3 = {"task": ["i1", "i2", "i10", "i12"], "bond": ["i3", "i5", "i7", "i9"], "goal": ["i4", "i6", "i8", "i11"]}
FIT_KEYS = {"chisq": "chisq", "df": "df", "cfi": "cfi", "rmsea": "rmsea", "srmr": "srmr", "tli": "tli",
            "pvalue": "pvalue", "baseline_chisq": "baseline.chisq", "baseline_df": "baseline.df",
            "npar": "npar", "loglik": "logl", "rmsea_lower": "rmsea.ci.lower", "rmsea_upper": "rmsea.ci.upper"}
TOL_LAVAAN = 1e-3  # absolute, for every fit index, estimate and SE (differences seen: < 1e-5)


@pytest.fixture(scope="module")
def invariance(raw):
    with pytest.warns(UserWarning, match="3 respondents with a missing answer were dropped"):
        return P.measurement_invariance(raw, WAI3, "group")


def _merge_params(ours, ref_rows):
    ref = pd.DataFrame(ref_rows)
    mg = ours.merge(ref, on=["lhs", "op", "rhs", "group"], suffixes=("", "_lavaan"), validate="one_to_one")
    assert len(mg) == len(ref) == len(ours)
    return mg


@pytest.mark.parametrize("step", P.INVARIANCE_STEPS)
def test_invariance_fit_matches_lavaan(invariance, step):
    """lavaan::cfa(group = "group", group.equal = ...) fitMeasures: every index within 1e-3."""
    ref = REF["invariance"]["fit"][step]
    fit = invariance.steps[step].fit
    for ours, theirs in FIT_KEYS.items():
        assert fit[ours] == pytest.approx(ref[theirs], abs=TOL_LAVAAN), ours
    assert int(fit["df"]) == ref["df"] and int(fit["npar"]) == ref["npar"]
    assert invariance.steps[step].converged and REF["invariance"]["converged"][step]
    assert invariance.steps[step].boundary == []


@pytest.mark.parametrize("step", P.INVARIANCE_STEPS)
def test_invariance_parameters_match_lavaan(invariance, step):
    """Every parameterEstimates row (est; se of free parameters, expected information) within 1e-3."""
    mg = _merge_params(invariance.steps[step].params, REF["invariance"]["params"][step])
    assert np.abs(mg["estimate"] - mg["est"]).max() < TOL_LAVAAN
    free = mg["free"]
    assert np.abs(mg.loc[free, "se"] - mg.loc[free, "se_lavaan"]).max() < TOL_LAVAAN
    # fixed parameters: lavaan reports se = 0, we report NaN
    assert (mg.loc[~free, "se_lavaan"] == 0).all() and mg.loc[~free, "se"].isna().all()


def test_invariance_lrt_matches_lavtestlrt(invariance):
    """lavTestLRT(configural, metric, scalar): chi-square differences, df and p within 1e-3."""
    t = invariance.table
    for row in REF["invariance"]["lrt"]:
        name = row["model"]
        assert t.loc[name, "chisq"] == pytest.approx(row["chisq"], abs=TOL_LAVAAN)
        if "chisq_diff" in row:
            assert t.loc[name, "delta_chisq"] == pytest.approx(row["chisq_diff"], abs=TOL_LAVAAN)
            assert t.loc[name, "delta_df"] == row["df_diff"]
            assert t.loc[name, "delta_pvalue"] == pytest.approx(row["pvalue"], abs=TOL_LAVAAN)
        else:
            assert np.isnan(t.loc[name, "delta_chisq"])
    # the planted item-6 intercept shift: scalar invariance rejected, metric not
    assert t.loc["metric", "delta_pvalue"] > 0.05 and t.loc["scalar", "delta_pvalue"] < 0.05


def test_partial_scalar_matches_lavaan(complete):
    """group.partial = "i6 ~ 1": fit indices and every parameter within 1e-3."""
    res = P.measurement_invariance(complete, WAI3, "group", steps=("metric", "scalar"), free_intercepts=["i6"])
    ref = REF["invariance"]["scalar_partial_i6"]
    for k in ("chisq", "df", "cfi", "rmsea", "srmr"):
        assert res.steps["scalar"].fit[k] == pytest.approx(ref["fit"][k], abs=TOL_LAVAAN), k
    mg = _merge_params(res.steps["scalar"].params, ref["params"])
    assert np.abs(mg["estimate"] - mg["est"]).max() < TOL_LAVAAN
    assert np.abs(mg.loc[mg["free"], "se"] - mg.loc[mg["free"], "se_lavaan"]).max() < TOL_LAVAAN
    assert res.table.loc["scalar", "delta_pvalue"] > 0.05
    assert "partial scalar (intercepts of i6 free)" in res.apa()


def _check_against_lavaan(step, ref, fit_keys=FIT_KEYS):
    """Fit indices, every estimate and every free parameter's SE within TOL_LAVAAN; fixed ones NaN."""
    for ours, theirs in fit_keys.items():
        assert step.fit[ours] == pytest.approx(ref["fit"][theirs], abs=TOL_LAVAAN), (step.name, ours)
    assert int(step.fit["df"]) == ref["fit"]["df"] and int(step.fit["npar"]) == ref["fit"]["npar"]
    assert step.converged and ref["converged"] and step.boundary == []
    mg = _merge_params(step.params, ref["params"])
    assert np.abs(mg["estimate"] - mg["est"]).max() < TOL_LAVAAN
    free = mg["free"]
    assert np.abs(mg.loc[free, "se"] - mg.loc[free, "se_lavaan"]).max() < TOL_LAVAAN
    assert (mg.loc[~free, "se_lavaan"] == 0).all() and mg.loc[~free, "se"].isna().all()
    return mg


def _check_lrt(table, ref):
    """lavTestLRT(scalar, strict): chi-square difference, df and p."""
    assert table.loc["strict", "delta_chisq"] == pytest.approx(ref["chisq_diff"], abs=TOL_LAVAAN)
    assert table.loc["strict", "delta_df"] == ref["df_diff"]
    assert table.loc["strict", "delta_pvalue"] == pytest.approx(ref["pvalue"], abs=TOL_LAVAAN)


def test_strict_matches_lavaan(complete):
    """group.equal = c("loadings", "intercepts", "residuals"): fit indices, every estimate and SE,
    and lavTestLRT(scalar, strict) within 1e-3 (differences seen: < 1e-5)."""
    res = P.measurement_invariance(complete, WAI3, "group", steps=("scalar", "strict"))
    ref = REF["invariance"]["strict"]
    mg = _check_against_lavaan(res.steps["strict"], ref)
    _check_lrt(res.table, ref["lrt_vs_scalar"])
    # the scalar step of this call is the default sequence's scalar model
    assert res.steps["scalar"].fit["chisq"] == pytest.approx(REF["invariance"]["fit"]["scalar"]["chisq"], abs=TOL_LAVAAN)
    th = mg[(mg["op"] == "~~") & mg["lhs"].isin(ITEMS) & (mg["lhs"] == mg["rhs"])]
    assert th["equal"].all() and (th.groupby("lhs")["estimate"].nunique() == 1).all()
    assert res.table.loc["strict", "delta_df"] == len(ITEMS)
    text = res.summary()
    assert "strict" in text and "residual variances equal" in text
    assert "strict invariance was not rejected" in res.apa()


def test_strict_fiml_matches_lavaan(raw):
    """Strict model by full-information ML (missing = "ml", observed-information SEs) on all 400
    respondents: fit indices, estimates, SEs and the difference from the scalar model within 1e-3."""
    res = P.measurement_invariance(raw, WAI3, "group", steps=("scalar", "strict"), missing="ml")
    assert res.n_incomplete == {"A": 3, "B": 0} and res.steps["strict"].information == "observed"
    ref = REF["fiml"]["strict"]
    keys = {k: v for k, v in FIT_KEYS.items() if k != "baseline_df"} | {"loglik_h1": "unrestricted.logl"}
    _check_against_lavaan(res.steps["strict"], ref, keys)
    _check_lrt(res.table, ref["lrt_vs_scalar"])


def test_partial_loadings_match_lavaan(complete):
    """group.partial = "goal =~ i6" in the metric and scalar steps: fit indices, every estimate and SE
    within 1e-3; the item name and lavaan's syntax give the same model."""
    res = P.measurement_invariance(complete, WAI3, "group", steps=("metric", "scalar"), free_loadings=["goal =~ i6"])
    for step in ("metric", "scalar"):
        mg = _check_against_lavaan(res.steps[step], REF["invariance"]["partial_loading_i6"][step])
        lam = mg[mg["op"] == "=~"].set_index(["rhs", "group"])
        assert not lam.loc["i6", "equal"].any() and lam.loc["i8", "equal"].all()
        assert lam.loc[("i6", "A"), "estimate"] != pytest.approx(lam.loc[("i6", "B"), "estimate"], abs=1e-3)
    assert res.free_loadings == ("i6",)
    # one loading fewer constrained than the full metric model
    assert res.table.loc["metric", "df"] == REF["invariance"]["fit"]["metric"]["df"] - 1
    same = P.measurement_invariance(complete, WAI3, "group", steps=("metric",), free_loadings="i6")
    assert same.steps["metric"].fit["chisq"] == pytest.approx(res.steps["metric"].fit["chisq"], abs=1e-8)
    assert "loadings free across groups for i6" in res.summary()
    assert "partial metric (loadings of i6 free)" in res.apa()


def test_free_loadings_errors(complete):
    base = complete[ITEMS + ["group"]].reset_index(drop=True)
    with pytest.raises(ValueError, match="`free_loadings` names an item that is in no factor: 'zz'"):
        P.measurement_invariance(base, WAI3, "group", free_loadings=["zz"])
    with pytest.raises(ValueError, match="'i4' is the marker \\(first\\) item of factor 'goal'.*cannot be freed"):
        P.measurement_invariance(base, WAI3, "group", free_loadings=["i4"])
    with pytest.raises(ValueError, match="marker"):
        P.measurement_invariance(base, WAI3, "group", free_loadings=["task =~ i1"])
    with pytest.raises(ValueError, match="item 'i6' loads on factor 'goal', not 'bond'"):
        P.measurement_invariance(base, WAI3, "group", free_loadings=["bond =~ i6"])
    with pytest.raises(ValueError, match="lists item 'i6' twice"):
        P.measurement_invariance(base, WAI3, "group", free_loadings=["i6", "goal =~ i6"])
    with pytest.raises(ValueError, match="`free_loadings` applies to the metric, scalar and strict steps"):
        P.measurement_invariance(base, WAI3, "group", steps=("configural",), free_loadings=["i6"])
    with pytest.raises(ValueError, match="in the order configural, metric, scalar, strict"):
        P.measurement_invariance(base, WAI3, "group", steps=("strict", "scalar"))


def test_strict_and_partial_df_three_groups():
    """Three groups: the strict step adds (G - 1) p equality constraints; freeing one loading and one
    intercept gives back G - 1 parameters each; nested chi-squares grow."""
    df, facs = _mg_data(11, n=(200, 200, 200))
    res = P.measurement_invariance(df, facs, "grp", steps=P.INVARIANCE_STEPS_ALL)
    t = res.table
    assert list(t.index) == list(P.INVARIANCE_STEPS_ALL)
    assert t.loc["strict", "delta_df"] == 2 * 6
    assert (np.diff(t["chisq"].to_numpy()) > -1e-7).all()
    part = P.measurement_invariance(df, facs, "grp", steps=P.INVARIANCE_STEPS_ALL, free_loadings=["y2"],
                                    free_intercepts=["y1"])
    assert (part.table["df"] - t["df"]).tolist() == [0, -2, -4, -4]
    assert "partial strict (loadings of y2; intercepts of y1 free)" in part.apa()


def test_invariance_configural_equals_per_group_fits(invariance, complete):
    """The configural chi-square is the sum of the per-group ones (one-group fits without a mean structure)."""
    conf = P.configural_invariance(complete, WAI3, "group")
    assert invariance.steps["configural"].fit["chisq"] == pytest.approx(conf.chisq, abs=1e-4)
    assert invariance.steps["configural"].fit["rmsea"] == pytest.approx(conf.rmsea, abs=1e-6)
    assert invariance.n == {"A": 197, "B": 200} and invariance.n_dropped == {"A": 3, "B": 0}


def test_invariance_summary_and_apa(invariance):
    text = invariance.summary()
    for word in ("configural", "metric", "scalar", "d_chi2", "CFI", "SRMR", "3 dropped"):
        assert word in text
    apa = invariance.apa()
    assert "χ²(102) = 117.44" in apa and "Δχ²(9) = 20.63" in apa
    assert "scalar invariance was rejected" in apa and "metric invariance was not rejected" in apa
    with pytest.raises(ValueError, match="alpha"):
        invariance.apa(alpha=1.5)


def _mg_data(seed, n=(150, 150), shift=0.0, p_per=3, m=2):
    """Simulated G-group data: m factors with p_per items each; item 'y1' intercept shifted in the last group."""
    rng = np.random.default_rng(seed)
    frames = []
    for g, n_g in enumerate(n):
        phi = np.array([[1.0, 0.4], [0.4, 1.0]])[:m, :m] * (1 + 0.2 * g)
        eta = rng.multivariate_normal(np.full(m, 0.3 * g), phi, size=n_g)
        cols = {}
        for f in range(m):
            for k in range(p_per):
                j = f * p_per + k
                cols[f"y{j}"] = 2 + (0.6 + 0.1 * k) * eta[:, f] + rng.normal(scale=0.7, size=n_g)
        df = pd.DataFrame(cols)
        if g == len(n) - 1:
            df["y1"] += shift
        df["grp"] = f"g{g}"
        frames.append(df)
    facs = {f"F{f}": [f"y{f * p_per + k}" for k in range(p_per)] for f in range(m)}
    return pd.concat(frames, ignore_index=True), facs


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), perm_seed=st.integers(0, 10_000),
       scale=st.floats(0.2, 5.0), loc=st.floats(-10, 10))
def test_invariance_properties(seed, perm_seed, scale, loc):
    """Nested chi-squares grow; df arithmetic; fit unchanged by row order, group labels and
    group order (the scalar reference group changes, not the fit), and by a linear rescaling of
    an item (ML is scale invariant)."""
    df, facs = _mg_data(seed)
    res = P.measurement_invariance(df, facs, "grp")
    t = res.table
    c, mt, sc = (t.loc[s, "chisq"] for s in P.INVARIANCE_STEPS)
    assert c <= mt + 1e-7 and mt <= sc + 1e-7
    p, m, G = 6, 2, 2
    free_loadings = p - m
    assert t.loc["configural", "df"] == G * (p * (p + 1) // 2 + p) - G * (free_loadings + m * (m + 1) // 2 + 2 * p)
    assert t.loc["metric", "delta_df"] == (G - 1) * free_loadings
    assert t.loc["scalar", "delta_df"] == (G - 1) * (p - m)
    # row order, labels and group order
    rng = np.random.default_rng(perm_seed)
    shuffled = df.iloc[rng.permutation(len(df))].reset_index(drop=True)
    shuffled["grp"] = shuffled["grp"].map({"g0": "zeta", "g1": "alpha"})
    res2 = P.measurement_invariance(shuffled, facs, "grp")
    assert res2.groups[0] == shuffled["grp"].iloc[0]
    for s in P.INVARIANCE_STEPS:
        for k in ("chisq", "cfi", "rmsea", "srmr"):
            assert res2.steps[s].fit[k] == pytest.approx(res.steps[s].fit[k], rel=1e-6, abs=1e-8), (s, k)
    # rescale a non-marker item
    df3 = df.assign(y2=loc + scale * df["y2"])
    res3 = P.measurement_invariance(df3, facs, "grp")
    for s in P.INVARIANCE_STEPS:
        for k in ("chisq", "cfi", "rmsea", "srmr"):
            assert res3.steps[s].fit[k] == pytest.approx(res.steps[s].fit[k], rel=1e-6, abs=1e-8), (s, k)


def test_invariance_three_groups_and_planted_shift():
    """Three groups: df arithmetic; a large intercept shift in one item is found by the scalar step
    and the latent means of the other groups are estimated against the first group."""
    df, facs = _mg_data(7, n=(300, 300, 300), shift=0.5)
    res = P.measurement_invariance(df, facs, "grp")
    t = res.table
    assert t.loc["metric", "delta_df"] == 2 * 4 and t.loc["scalar", "delta_df"] == 2 * 4
    assert t.loc["scalar", "delta_pvalue"] < 1e-6 and t.loc["metric", "delta_pvalue"] > 1e-3
    pr = res.steps["scalar"].params
    means = pr[(pr["op"] == "~1") & pr["lhs"].isin(facs)]
    assert (means.loc[means["group"] == "g0", "estimate"] == 0).all() and not means.loc[means["group"] == "g0", "free"].any()
    assert means.loc[means["group"] != "g0", "free"].all()
    partial = P.measurement_invariance(df, facs, "grp", steps=("metric", "scalar"), free_intercepts=["y1"])
    assert partial.table.loc["scalar", "delta_pvalue"] > 1e-3
    assert partial.table.loc["scalar", "delta_df"] == 2 * 3


def _exact_cov_data(cov, n, rng):
    z = rng.normal(size=(n, cov.shape[0]))
    z = (z - z.mean(0)) @ np.linalg.inv(np.linalg.cholesky(np.cov(z.T, bias=True))).T
    return z @ np.linalg.cholesky(cov).T


def test_invariance_reports_heywood_case():
    """A one-factor model on r12 = r13 = .85, r23 = .5 needs lambda1^2 = 1.445 > 1: the residual
    variance of item a is negative; it is reported (warning and ``boundary``), not hidden."""
    R = np.array([[1, 0.85, 0.85], [0.85, 1, 0.5], [0.85, 0.5, 1]])
    rng = np.random.default_rng(5)
    df = pd.DataFrame(np.vstack([_exact_cov_data(R, 100, rng), _exact_cov_data(R, 100, rng)]), columns=list("abc"))
    df["g"] = np.repeat(["x", "y"], 100)
    with pytest.warns(UserWarning, match="boundary estimates"):
        res = P.measurement_invariance(df, {"f": ["a", "b", "c"]}, "g", steps=("configural",))
    step = res.steps["configural"]
    assert any("residual variance of a" in b and "(negative)" in b for b in step.boundary)
    assert "boundary" in res.summary()
    th = step.params[(step.params["op"] == "~~") & (step.params["lhs"] == "a")]
    assert (th["estimate"] < 0).all()


def test_invariance_errors(complete):
    base = complete[ITEMS + ["group"]].reset_index(drop=True)
    with pytest.raises(ValueError, match="`group`: column 'nope' is not in `data`"):
        P.measurement_invariance(base, WAI3, "nope")
    with pytest.raises(ValueError, match="at least 2 are needed"):
        P.measurement_invariance(base.assign(group="A"), WAI3, "group")
    bad = base.copy()
    bad.loc[7, "group"] = None
    with pytest.raises(ValueError, match="missing value at row 7"):
        P.measurement_invariance(bad, WAI3, "group")
    small = pd.concat([base[base["group"] == "A"], base[base["group"] == "B"].head(10)])
    with pytest.raises(ValueError, match="group 'B' has 10 complete respondents"):
        P.measurement_invariance(small, WAI3, "group")
    with pytest.raises(ValueError, match="column 'i3' must be numeric"):
        P.measurement_invariance(base.assign(i3=base["i3"].astype(str)), WAI3, "group")
    const = base.copy()
    const.loc[const["group"] == "B", "i5"] = 3
    with pytest.raises(ValueError, match="column 'i5' is constant in group 'B'"):
        P.measurement_invariance(const, WAI3, "group")
    dep = base.copy()
    dep["i12"] = dep["i1"] + dep["i2"]
    with pytest.raises(ValueError, match="linearly dependent in group 'A'"):
        P.measurement_invariance(dep, WAI3, "group")
    inf = base.astype({"i2": float})
    inf.loc[4, "i2"] = np.inf
    with pytest.raises(ValueError, match="column 'i2' has an infinite value at row 4"):
        P.measurement_invariance(inf, WAI3, "group")
    with pytest.raises(ValueError, match="item columns not in `data`"):
        P.measurement_invariance(base, {"f": ["i1", "i2", "zz"]}, "group")
    with pytest.raises(ValueError, match="factor 'f' needs at least 2 items"):
        P.measurement_invariance(base, {"f": ["i1"], "g": ["i2", "i3"]}, "group")
    with pytest.raises(ValueError, match="item 'i1' is listed in 'f' and 'g'"):
        P.measurement_invariance(base, {"f": ["i1", "i2"], "g": ["i1", "i3"]}, "group")
    with pytest.raises(ValueError, match="not identified"):
        P.measurement_invariance(base, {"f": ["i1", "i2"]}, "group")
    with pytest.raises(ValueError, match="`steps`"):
        P.measurement_invariance(base, WAI3, "group", steps=("configural", "weak"))
    with pytest.raises(ValueError, match="in the order"):
        P.measurement_invariance(base, WAI3, "group", steps=("scalar", "metric"))
    with pytest.raises(ValueError, match="at least one"):
        P.measurement_invariance(base, WAI3, "group", steps=())
    with pytest.raises(ValueError, match="`free_intercepts` names items that are in no factor"):
        P.measurement_invariance(base, WAI3, "group", free_intercepts=["zz"])
    with pytest.raises(ValueError, match="`free_intercepts` applies to the scalar and strict steps"):
        P.measurement_invariance(base, WAI3, "group", steps=("configural",), free_intercepts=["i6"])
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame"):
        P.measurement_invariance(base.to_numpy(), WAI3, "group")


def test_cfa_summary_and_table(models):
    text = models.summary()
    assert "one-factor" in text and "bifactor" in text
    assert models.table.loc["bifactor", "omega_h"] < models.table.loc["bifactor", "omega_total"]
    assert "standardised loadings" in models.models["three-factor"].summary()


def test_cfa_errors(complete):
    with pytest.raises(ValueError, match="factor 'a' needs at least 2 items"):
        P.fit_cfa(complete, {"a": ["i1"]})
    with pytest.raises(ValueError, match="not in `data`"):
        P.fit_cfa(complete, {"a": ["i1", "nope", "i2"]})
    with pytest.raises(ValueError, match="`general` 'a' is already a factor name"):
        P.fit_cfa(complete, {"a": ["i1", "i2"], "b": ["i3", "i4"]}, general="a")
    with pytest.raises(ValueError, match="`group`"):
        P.configural_invariance(complete, {"a": ITEMS}, "nope")


def test_cfa_items_with_awkward_names(complete):
    """Item names that are not identifiers are renamed internally and restored."""
    df = complete[ITEMS[:4]].rename(columns=lambda c: f"item {c}!")
    res = P.fit_cfa(df, {"my factor": list(df.columns)})
    ref = P.fit_cfa(complete, {"g": ITEMS[:4]})
    assert res.fit["chisq"] == pytest.approx(ref.fit["chisq"], abs=1e-8)
    assert set(res.loadings["item"]) == set(df.columns)


# ----------------------------------------------------------------------------- simulator
def test_simulator_shape_range_and_reproducible():
    a = simulate_wai_sr_items(300, seed=11)
    b = simulate_wai_sr_items(300, seed=11)
    pd.testing.assert_frame_equal(a.items, b.items)
    assert a.items.shape == (300, 12)
    vals = a.items.to_numpy()
    assert np.isin(vals, [1, 2, 3, 4, 5]).all()
    scored = P.score_wai_sr(a.items)
    assert scored.scores.notna().all().all()


def test_simulator_recovers_loadings():
    """Standardised loadings of the latent responses are attenuated by categorisation,
    so the check is on the polychoric-free truth of the *continuous* responses: with
    thresholds=None the responses are continuous and ML recovers the loadings."""
    sim = simulate_wai_sr_items(4000, thresholds=None, seed=5)
    res = P.fit_cfa(sim.items, P.wai_sr_key().subscales)
    for r in res.loadings.itertuples():
        assert r.std == pytest.approx(sim.loadings[r.item], abs=0.05)


def test_simulator_errors():
    with pytest.raises(ValueError, match="`loadings`"):
        simulate_wai_sr_items(10, loadings=[0.5] * 11)
    with pytest.raises(ValueError, match="`factor_corr`"):
        simulate_wai_sr_items(10, factor_corr=[[1, 2, 0], [2, 1, 0], [0, 0, 1]])
    with pytest.raises(ValueError, match="`thresholds`"):
        simulate_wai_sr_items(10, thresholds=[0.5, 0.1, 1, 2])
    with pytest.raises(ValueError, match="`n`"):
        simulate_wai_sr_items(0)


@pytest.mark.filterwarnings("ignore:.*boundary estimates")
def test_invariance_reports_nonconvergence(monkeypatch, complete):
    """A fit that stops short (here: the engine's optimiser stopped at its starting values)
    is flagged: ``converged`` False, a warning, and a line in ``summary()``."""
    from analysis.sem import estimate

    def short(obj, theta0, **kw):  # the engine's ML optimiser stopped at the starting values
        f, g = obj.value_grad(theta0)
        return {"theta": theta0, "f": f, "iterations": 0, "converged": False,
                "grad_max": float(np.max(np.abs(g))), "message": "stopped by the test"}

    monkeypatch.setitem(estimate.ESTIMATORS, "ML", short)
    with pytest.warns(UserWarning, match="did not converge"):
        res = P.measurement_invariance(complete, WAI3, "group", steps=("configural",))
    assert not res.steps["configural"].converged
    assert "did not converge" in res.summary()


# ----------------------------------------------------------------------------- full-information ML (missing = "ml")
FIML = REF["fiml"]
TOL_FIML = 1e-3  # absolute, vs lavaan missing = "ml" (differences seen: < 2e-6)
FIML_KEYS = {**FIT_KEYS, "loglik_h1": "unrestricted.logl"}


@pytest.fixture(scope="module")
def fiml_cfa(raw):
    return P.fit_cfa(raw, WAI3, missing="ml")


@pytest.fixture(scope="module")
def fiml_inv(raw):
    return P.measurement_invariance(raw, WAI3, "group", missing="ml")


def test_fiml_cfa_matches_lavaan(fiml_cfa):
    """lavaan::cfa(three-factor, missing = "ml") on all 400 respondents: fitMeasures (chi-square,
    df, CFI, TLI, RMSEA and interval, SRMR, logL, unrestricted logL, baseline), every parameter's
    estimate and observed-information SE, and the EM H1 moments, within 1e-3."""
    ref = FIML["three"]
    assert ref["information"] == "observed" and ref["observed_information"] == "hessian"
    for ours, theirs in FIML_KEYS.items():
        assert fiml_cfa.fit[ours] == pytest.approx(ref["fit"][theirs], abs=TOL_FIML), ours
    assert fiml_cfa.n == ref["fit"]["ntotal"] == 400 and fiml_cfa.n_incomplete == 3 and fiml_cfa.n_dropped == 0
    assert fiml_cfa.converged and ref["converged"] and fiml_cfa.boundary == []
    lav = pd.DataFrame(ref["params"]).drop(columns="group")
    mg = fiml_cfa.params.merge(lav, on=["lhs", "op", "rhs"], suffixes=("", "_lavaan"), validate="one_to_one")
    assert len(mg) == len(lav) == len(fiml_cfa.params) == 45
    assert np.abs(mg["estimate"] - mg["est"]).max() < TOL_FIML
    assert np.abs(mg.loc[mg["free"], "se"] - mg.loc[mg["free"], "se_lavaan"]).max() < TOL_FIML
    assert (mg.loc[~mg["free"], "se_lavaan"] == 0).all() and mg.loc[~mg["free"], "se"].isna().all()
    # loadings table and intercepts agree with the parameter table
    lo = fiml_cfa.loadings.merge(lav[lav["op"] == "=~"], left_on=["factor", "item"], right_on=["lhs", "rhs"])
    assert np.abs(lo["estimate"] - lo["est"]).max() < TOL_FIML and len(lo) == 12
    ints = lav[lav["op"] == "~1"].set_index("lhs")["est"]
    assert np.abs(fiml_cfa.intercepts - ints.reindex(fiml_cfa.intercepts.index)).max() < TOL_FIML
    # H1 moments (EM): lavInspect(fit, "sampstat"); lavaan's EM stops at 1e-5, ours at 1e-11
    h1 = pd.DataFrame(ref["h1_cov"], index=list(ref["h1_cov"][0]))
    idx = fiml_cfa.sample_cov.index
    assert np.abs(fiml_cfa.sample_cov - h1.loc[idx, idx]).max().max() < TOL_FIML
    assert np.abs(fiml_cfa.sample_mean - pd.Series(ref["h1_mean"]).reindex(idx)).max() < TOL_FIML
    text = fiml_cfa.summary()
    assert "FIML" in text and "3 with missing answers" in text


@pytest.mark.parametrize("step", P.INVARIANCE_STEPS)
def test_fiml_invariance_matches_lavaan(fiml_inv, step):
    """lavaan::cfa(group = "group", group.equal = ..., missing = "ml"): every fit index, estimate
    and observed-information SE within 1e-3."""
    ref = FIML["invariance"][step]
    s = fiml_inv.steps[step]
    for ours, theirs in FIML_KEYS.items():
        assert s.fit[ours] == pytest.approx(ref["fit"][theirs], abs=TOL_FIML), ours
    assert s.converged and ref["converged"] and s.boundary == [] and s.information == "observed"
    mg = _merge_params(s.params, ref["params"])
    assert np.abs(mg["estimate"] - mg["est"]).max() < TOL_FIML
    assert np.abs(mg.loc[mg["free"], "se"] - mg.loc[mg["free"], "se_lavaan"]).max() < TOL_FIML


def test_fiml_invariance_lrt_and_counts(fiml_inv):
    """lavTestLRT under FIML within 1e-3; everyone kept (3 incomplete respondents in group A)."""
    t = fiml_inv.table
    for row in FIML["lrt"]:
        assert t.loc[row["model"], "chisq"] == pytest.approx(row["chisq"], abs=TOL_FIML)
        if "chisq_diff" in row:
            assert t.loc[row["model"], "delta_chisq"] == pytest.approx(row["chisq_diff"], abs=TOL_FIML)
            assert t.loc[row["model"], "delta_pvalue"] == pytest.approx(row["pvalue"], abs=TOL_FIML)
    assert fiml_inv.n == {"A": 200, "B": 200} and fiml_inv.n_dropped == {"A": 0, "B": 0}
    assert fiml_inv.n_incomplete == {"A": 3, "B": 0} and fiml_inv.missing == "ml"
    assert "FIML" in fiml_inv.summary() and "3 incomplete" in fiml_inv.summary()
    assert "full-information maximum likelihood" in fiml_inv.apa()


def test_fiml_loglik_is_the_casewise_normal_loglik(fiml_cfa, raw):
    """logL equals the sum over respondents of the normal log-density of their observed answers at
    the implied moments (scipy.stats, a separate code path), and the H1 logL at the EM moments."""
    from scipy import stats as sst
    items = list(fiml_cfa.implied_cov.index)
    X = raw[items].to_numpy(dtype=float)
    mu = (fiml_cfa.intercepts).to_numpy()
    Sig = fiml_cfa.implied_cov.to_numpy()

    def casewise(mu, Sig):
        tot = 0.0
        for row in X:
            o = ~np.isnan(row)
            tot += sst.multivariate_normal(mu[o], Sig[np.ix_(o, o)]).logpdf(row[o])
        return tot

    assert fiml_cfa.fit["loglik"] == pytest.approx(casewise(mu, Sig), abs=1e-6)
    h1 = casewise(fiml_cfa.sample_mean.to_numpy(), fiml_cfa.sample_cov.to_numpy())
    assert fiml_cfa.fit["loglik_h1"] == pytest.approx(h1, abs=1e-6)
    assert fiml_cfa.fit["chisq"] == pytest.approx(2 * (h1 - fiml_cfa.fit["loglik"]), abs=1e-6)


def test_em_matches_the_factored_likelihood_for_monotone_missingness():
    """Bivariate monotone pattern (y1 complete, y2 partly missing): the ML estimates have a closed
    form (Anderson 1957; Little & Rubin 2002, sec. 7.2): mu1, s11 from all y1, the regression of
    y2 on y1 from the complete pairs. The EM moments must equal it."""
    rng = np.random.default_rng(11)
    y1 = rng.normal(size=300)
    y2 = 1 + 0.6 * y1 + rng.normal(scale=0.8, size=300)
    y2[rng.random(300) < 0.3 + 0.3 * (y1 > 0)] = np.nan       # MAR: depends on y1
    X = np.column_stack([y1, y2])
    gd = _cfa_ml._group_data(X, "ml")
    cc = ~np.isnan(y2)
    mu1, s11 = y1.mean(), y1.var()
    c = np.cov(y1[cc], y2[cc], bias=True)
    beta = c[0, 1] / c[0, 0]
    alpha = y2[cc].mean() - beta * y1[cc].mean()
    s22_1 = c[1, 1] - beta ** 2 * c[0, 0]
    want_mu = [mu1, alpha + beta * mu1]
    want_cov = [[s11, beta * s11], [beta * s11, s22_1 + beta ** 2 * s11]]
    assert gd.em_converged
    np.testing.assert_allclose(gd.mean, want_mu, atol=1e-8)
    np.testing.assert_allclose(gd.cov, want_cov, atol=1e-8)


def test_fiml_equals_listwise_on_complete_data_cfa(complete):
    """No missing answer: FIML gives the listwise estimates, chi-square, CFI, TLI, RMSEA and
    logL; SRMR includes the (zero) mean residuals, so it is the listwise SRMR times
    sqrt(78/90); SEs differ (observed vs expected information) but only slightly."""
    lw = P.fit_cfa(complete, WAI3)
    ml = P.fit_cfa(complete, WAI3, missing="ml")
    for k in ("chisq", "df", "cfi", "tli", "rmsea", "rmsea_lower", "rmsea_upper", "loglik", "baseline_chisq"):
        assert ml.fit[k] == pytest.approx(lw.fit[k], abs=1e-6), k
    assert ml.fit["npar"] == lw.fit["npar"] + 12
    assert ml.fit["srmr"] == pytest.approx(lw.fit["srmr"] * np.sqrt(78 / 90), abs=1e-8)
    np.testing.assert_allclose(ml.loadings["estimate"], lw.loadings["estimate"], atol=1e-6)
    np.testing.assert_allclose(ml.loadings["std"], lw.loadings["std"], atol=1e-6)
    np.testing.assert_allclose(ml.factor_cov, lw.factor_cov, atol=1e-6)
    np.testing.assert_allclose(ml.residual_var, lw.residual_var.reindex(ml.residual_var.index), atol=1e-6)
    np.testing.assert_allclose(ml.loadings["se"], lw.loadings["se"], atol=5e-3)
    np.testing.assert_allclose(ml.intercepts, complete[list(ml.intercepts.index)].mean(), atol=1e-8)
    assert ml.n == lw.n == 397 and ml.n_incomplete == 0
    assert ml.omega()["total"] == pytest.approx(lw.omega()["total"], abs=1e-6)


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), shift=st.floats(0.0, 0.6))
def test_fiml_equals_listwise_on_complete_data_invariance(seed, shift):
    """No missing answer: every step's fit indices and estimates are the listwise ones."""
    df, facs = _mg_data(seed, shift=shift)
    lw = P.measurement_invariance(df, facs, "grp")
    ml = P.measurement_invariance(df, facs, "grp", missing="ml")
    for s in P.INVARIANCE_STEPS:
        for k in ("chisq", "df", "cfi", "tli", "rmsea", "srmr", "loglik", "loglik_h1", "baseline_chisq"):
            assert ml.steps[s].fit[k] == pytest.approx(lw.steps[s].fit[k], rel=1e-7, abs=1e-6), (s, k)
        np.testing.assert_allclose(ml.steps[s].params["estimate"], lw.steps[s].params["estimate"], atol=1e-5)
        assert ml.steps[s].information == "observed" and lw.steps[s].information == "expected"


def test_fiml_row_order_and_empty_rows(raw):
    """FIML is unchanged by row order; a respondent with no answer is dropped and counted."""
    items = ITEMS
    shuffled = raw.sample(frac=1.0, random_state=3).reset_index(drop=True)
    empty = pd.DataFrame({"respondent": ["X1", "X2"], "group": ["B", "A"], **{c: [np.nan, np.nan] for c in items}})
    more = pd.concat([shuffled, empty], ignore_index=True)
    with pytest.warns(UserWarning, match="2 respondents with no answer at all were dropped"):
        res = P.measurement_invariance(more, WAI3, "group", steps=("configural",), missing="ml")
    assert res.n_dropped == {"B": 1, "A": 1} and res.n == {"B": 200, "A": 200}
    ref = FIML["invariance"]["configural"]["fit"]
    assert res.steps["configural"].fit["chisq"] == pytest.approx(ref["chisq"], abs=TOL_FIML)
    with pytest.warns(UserWarning, match="1 respondents with no answer at all were dropped"):
        one = P.fit_cfa(more.iloc[:-1], WAI3, missing="ml")
    assert one.n_dropped == 1 and one.fit["chisq"] == pytest.approx(FIML["three"]["fit"]["chisq"], abs=TOL_FIML)


def test_fiml_errors(raw):
    base = raw[ITEMS + ["group"]].copy()
    with pytest.raises(ValueError, match="`missing`"):
        P.measurement_invariance(base, WAI3, "group", missing="pairwise")
    with pytest.raises(ValueError, match="`missing`"):
        P.fit_cfa(base, WAI3, missing="fiml")
    gone = base.copy()
    gone.loc[gone["group"] == "B", "i7"] = np.nan
    with pytest.raises(ValueError, match="column 'i7' is missing for every respondent in group 'B'"):
        P.measurement_invariance(gone, WAI3, "group", missing="ml")
    with pytest.raises(ValueError, match="column 'i7' is missing for every respondent in the data"):
        P.fit_cfa(gone[gone["group"] == "B"], WAI3, missing="ml")
    apart = base.copy()
    a_rows = np.flatnonzero((apart["group"] == "A").to_numpy())
    apart.loc[apart.index[a_rows[::2]], "i1"] = np.nan
    apart.loc[apart.index[a_rows[1::2]], "i2"] = np.nan
    with pytest.raises(ValueError, match="columns 'i1' and 'i2' are never answered together in group 'A'"):
        P.measurement_invariance(apart, WAI3, "group", missing="ml")
    few = pd.concat([base[base["group"] == "A"], base[base["group"] == "B"].head(8)])
    with pytest.raises(ValueError, match="group 'B' has 8 respondents with an answer"):
        P.measurement_invariance(few, WAI3, "group", missing="ml")
    const = base.copy()
    const.loc[const["group"] == "A", "i5"] = 2.0
    const.loc[const.index[0], "i5"] = np.nan
    with pytest.raises(ValueError, match="column 'i5' is constant in group 'A'"):
        P.measurement_invariance(const, WAI3, "group", missing="ml")
    with pytest.raises(ValueError, match="column 'i3' must be numeric"):
        P.fit_cfa(base.assign(i3=base["i3"].astype(str)), WAI3, missing="ml")
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame"):
        P.fit_cfa(base.to_numpy(), WAI3, missing="ml")


def test_fiml_reports_heywood_case():
    """The Heywood data of test_invariance_reports_heywood_case with a few answers removed: under
    FIML the negative residual variance of item a is still reported (warning and ``boundary``)."""
    R = np.array([[1, 0.85, 0.85], [0.85, 1, 0.5], [0.85, 0.5, 1]])
    df = pd.DataFrame(_exact_cov_data(R, 300, np.random.default_rng(5)), columns=list("abc"))
    df.loc[[3, 10, 40], "b"] = np.nan
    df.loc[[7, 11], "c"] = np.nan
    with pytest.warns(UserWarning, match="boundary estimates"):
        res = P.fit_cfa(df, {"f": ["a", "b", "c"]}, missing="ml")
    assert any("residual variance of a" in b and "(negative)" in b for b in res.boundary)
    assert res.residual_var["a"] < 0 and "boundary" in res.summary() and res.n_incomplete == 5


def test_docstring_examples_run():
    import doctest
    from analysis import factor_models, invariance, reliability, scoring
    for module in (P, scoring, reliability, factor_models, invariance):
        assert doctest.testmod(module).failed == 0


# ----------------------------------------------------------------------------- ordinal CFA (WLSMV)
# Oracle: lavaan 0.6 cfa(model, data = complete cases, ordered = TRUE) (block "ordinal" of the
# fixture). Observed agreement: thresholds 1e-14, polychorics 4e-8, estimates and SEs below 1e-6,
# chi-squares 3e-8 relative (lavaan's optimisers stop earlier than ours). Tolerances: 1e-5 absolute
# for thresholds, polychorics, estimates, SEs and indices on the correlation scale; 1e-6 relative
# for the chi-squares.
ORD_MODELS = {"three": {"task": ["i1", "i2", "i10", "i12"], "bond": ["i3", "i5", "i7", "i9"],
                        "goal": ["i4", "i6", "i8", "i11"]},
              "one": {"g": ITEMS}}
ORD_FIT = {"chisq": "chisq", "df": "df", "pvalue": "pvalue", "chisq.scaled": "chisq_scaled",
           "pvalue.scaled": "pvalue_scaled", "chisq.scaling.factor": "scaling_factor",
           "baseline.chisq": "baseline_chisq", "baseline.df": "baseline_df",
           "baseline.chisq.scaled": "baseline_chisq_scaled", "cfi": "cfi", "tli": "tli",
           "cfi.scaled": "cfi_scaled", "tli.scaled": "tli_scaled", "rmsea": "rmsea",
           "rmsea.scaled": "rmsea_scaled", "srmr": "srmr", "npar": "npar", "ntotal": None}


@pytest.fixture(scope="module")
def ordinal_fits(raw):
    out = {}
    for name, facs in ORD_MODELS.items():
        with pytest.warns(UserWarning, match="3 respondents with a missing answer were dropped"):
            out[name] = P.fit_cfa_ordinal(raw, facs)
    return out


@pytest.mark.parametrize("name", list(ORD_MODELS))
def test_ordinal_cfa_matches_lavaan(ordinal_fits, name):
    res, ref = ordinal_fits[name], REF["ordinal"][name]
    assert ref["estimator"] == "DWLS" and ref["parameterization"] == "delta" and ref["converged"]
    assert res.converged and res.n == ref["fit"]["ntotal"] and res.n_dropped == 3
    pe = pd.DataFrame(ref["params"])
    # thresholds
    th = pe[pe["op"] == "|"]
    ours = res.thresholds.set_index(["item", "threshold"])
    assert len(th) == len(ours) == 48
    for r in th.itertuples():
        o = ours.loc[(r.lhs, int(r.rhs[1:]))]
        assert o["estimate"] == pytest.approx(r.est, abs=1e-5)
        assert o["se"] == pytest.approx(r.se, abs=1e-5)
    # polychoric matrix
    pc = pd.DataFrame(ref["polychoric"])
    pc.index = pc.columns
    np.testing.assert_allclose(res.polychoric.to_numpy(), pc.loc[res.items, res.items].to_numpy(), atol=1e-5)
    # loadings (marker fixed: lavaan's se 0, ours NaN) and standardised loadings
    ld = pe[pe["op"] == "=~"].merge(res.loadings, left_on=["lhs", "rhs"], right_on=["factor", "item"])
    assert len(ld) == 12
    np.testing.assert_allclose(ld["estimate"], ld["est"], atol=1e-5)
    free = ld["se_x"] > 0
    assert ld.loc[~free, "se_y"].isna().all() and (~free).sum() == len(ORD_MODELS[name])
    np.testing.assert_allclose(ld.loc[free, "se_y"], ld.loc[free, "se_x"], atol=1e-5)
    np.testing.assert_allclose(ld["std_y"], ld["std_x"], atol=1e-5)
    # factor (co)variances and the (fixed) residual variances
    for r in pe[(pe["op"] == "~~")].itertuples():
        if r.lhs in res.factor_cov.index:
            assert res.factor_cov.loc[r.lhs, r.rhs] == pytest.approx(r.est, abs=1e-5)
            assert res.factor_cov_se.loc[r.lhs, r.rhs] == pytest.approx(r.se, abs=1e-5)
        else:
            assert r.lhs == r.rhs and res.residual_var[r.lhs] == pytest.approx(r.est, abs=1e-5)
    # fit measures
    for k, ours_k in ORD_FIT.items():
        if ours_k is None:
            continue
        want = ref["fit"][k]
        tol = dict(rel=1e-6) if "chisq" in k else dict(abs=1e-5)
        assert res.fit[ours_k] == pytest.approx(want, **tol), k
    assert ref["fit"]["df.scaled"] == res.fit["df"]


def test_ordinal_cfa_summary_and_gamma(ordinal_fits):
    res = ordinal_fits["three"]
    s = res.summary()
    assert "WLSMV" in s and "scaled-shifted chi2(51)" in s and "factor correlations" in s
    G = res.gamma.to_numpy()
    assert G.shape == (48 + 66, 48 + 66) and np.allclose(G, G.T) and np.linalg.eigvalsh(G).min() > 0
    # the SEs of the thresholds are sqrt(diag(Gamma)/(N-1)) (saturated thresholds)
    np.testing.assert_allclose(res.thresholds["se"], np.sqrt(np.diag(G)[:48] / (res.n - 1)), rtol=1e-10)
    assert res.categories["i1"] == [1, 2, 3, 4, 5]


def test_bvn_cdf_matches_scipy():
    from scipy import stats

    from analysis.sem.ordinal import _bvn_cdf  # the one implementation (the engine's WLSMV)
    for h, k, r in [(0.3, -0.5, 0.6), (0.0, 0.2, -0.3), (-1.2, 0.0, 0.95), (0.0, 0.0, 0.5),
                    (1.5, 1.2, -0.99), (-2.0, 0.0, -0.5), (0.0, -1.0, 0.999)]:
        want = stats.multivariate_normal([0, 0], [[1, r], [r, 1]]).cdf([h, k])
        assert _bvn_cdf(np.array(h), np.array(k), r) == pytest.approx(want, abs=1e-7)
    assert _bvn_cdf(np.array([np.inf, -np.inf, 0.5]), np.array([0.3, 1.0, np.inf]), 0.4) == pytest.approx(
        [stats.norm.cdf(0.3), 0.0, stats.norm.cdf(0.5)])


def test_ordinal_cfa_recovers_generating_loadings():
    """On a large simulated sample the standardised loadings are the generating ones (delta scale)."""
    sim = simulate_wai_sr_items(3000, seed=11)
    key = P.wai_sr_key()
    res = P.fit_cfa_ordinal(sim.items, dict(key.subscales))
    got = res.loadings.set_index("item")["std"]
    np.testing.assert_allclose(got[sim.loadings.index], sim.loadings, atol=0.05)


def test_ordinal_cfa_relabelled_categories_and_row_order(raw):
    """Category codes only matter through their order; the row order does not matter."""
    facs = ORD_MODELS["one"]
    cc = raw.dropna(subset=ITEMS)
    base = P.fit_cfa_ordinal(cc, facs)
    recoded = cc.copy()
    recoded[ITEMS] = recoded[ITEMS] * 10 + 3
    shuffled = recoded.sample(frac=1.0, random_state=1)
    other = P.fit_cfa_ordinal(shuffled, facs)
    np.testing.assert_allclose(other.loadings["estimate"], base.loadings["estimate"], atol=1e-9)
    assert other.fit["chisq"] == pytest.approx(base.fit["chisq"], rel=1e-9)
    assert other.categories["i1"] == [13, 23, 33, 43, 53]


def test_ordinal_cfa_errors(raw):
    cc = raw.dropna(subset=ITEMS).reset_index(drop=True)
    facs = ORD_MODELS["three"]
    bad = cc.copy()
    bad["i5"] = bad["i5"].astype(float)
    bad.loc[7, "i5"] = 2.5
    with pytest.raises(ValueError, match=r"column 'i5' has a non-integer answer 2.5 at row 7"):
        P.fit_cfa_ordinal(bad, facs)
    one_cat = cc.copy()
    one_cat["i3"] = 4
    with pytest.raises(ValueError, match=r"column 'i3' has a single category"):
        P.fit_cfa_ordinal(one_cat, facs)
    txt = cc.copy()
    txt["i2"] = txt["i2"].astype(str)
    with pytest.raises(ValueError, match=r"column 'i2' must be numeric"):
        P.fit_cfa_ordinal(txt, facs)
    with pytest.raises(ValueError, match=r"no column"):
        P.fit_cfa_ordinal(cc.drop(columns="i4"), facs)
    with pytest.raises(ValueError, match="complete respondents"):
        P.fit_cfa_ordinal(cc.head(10), facs)
    with pytest.raises(ValueError, match="orthogonal"):
        P.fit_cfa_ordinal(cc, facs, orthogonal="yes")
    with pytest.raises(ValueError, match="factors"):
        P.fit_cfa_ordinal(cc, {"f": ["i1"]})


# ----------------------------------------------------------------------------- ordinal invariance (WLSMV)
# Oracle: tests/oracles/sem_ordinal_invariance.R (lavaan 0.6-14, cfa(..., ordered = TRUE, group = "group",
# group.equal = ...), delta and theta parameterizations, lavTestLRT satorra.2000), fixture
# tests/fixtures/sem_ordinal_invariance.json (made for analysis.sem.ordinal). Observed agreement:
# scaled chi-squares 1.1e-5 absolute (1e-7 relative), CFI 4e-9, estimates 1.8e-5, robust SEs 4.3e-6.
# Tolerances: 1e-6 relative for chi-squares, 1e-6 absolute for fit indices and p-values, 1e-4 absolute
# for estimates, SEs and the scaled difference test.
ORD_INV = json.loads((FIX / "sem_ordinal_invariance.json").read_text(encoding="utf-8"))
ORD_STEPS = {"configural": "configural", "thresholds": "thresholds", "metric": "thresholds_loadings"}


@pytest.fixture(scope="module", params=["delta", "theta"])
def ordinal_invariance(request, raw):
    with pytest.warns(UserWarning, match="3 respondents with a missing answer were dropped"):
        return request.param, P.measurement_invariance(raw, WAI3, "group", ordered=True,
                                                       parameterization=request.param)


def test_ordinal_invariance_matches_lavaan(ordinal_invariance):
    """Every step (configural, equal thresholds, equal thresholds and loadings): scaled and unscaled
    chi-squares, CFI/TLI/RMSEA (scaled), SRMR, every estimate and robust SE; lavTestLRT's scaled
    differences."""
    par, res = ordinal_invariance
    assert list(res.table.index) == list(P.ORDINAL_INVARIANCE_STEPS) and res.ordered
    for step, key in ORD_STEPS.items():
        ref, s = ORD_INV[par][key], res.steps[step]
        assert ref["parameterization"] == par and ref["converged"] and s.converged and s.boundary == []
        f, rf = s.fit, ref["fit"]
        assert f["chisq"] == pytest.approx(rf["chisq.scaled"], rel=1e-6)
        assert f["chisq_unscaled"] == pytest.approx(rf["chisq"], rel=1e-6)
        assert int(f["df"]) == rf["df"] and int(f["npar"]) == rf["npar"]
        for ours, theirs in (("cfi", "cfi.scaled"), ("tli", "tli.scaled"), ("rmsea", "rmsea.scaled"),
                             ("srmr", "srmr"), ("pvalue", "pvalue.scaled")):
            assert f[ours] == pytest.approx(rf[theirs], abs=1e-6), (step, ours)
        mg = _merge_params(s.params, ref["params"])
        assert np.abs(mg["estimate"] - mg["est"]).max() < 1e-4
        free = mg["free"]
        assert (free == mg["free_lavaan"]).all()
        assert np.abs(mg.loc[free, "se"] - mg.loc[free, "se_lavaan"]).max() < 1e-4
    for row in ORD_INV[f"lrt_{par}"]["rows"]:
        step = {v: k for k, v in ORD_STEPS.items()}[row["model"]]
        assert res.table.loc[step, "delta_chisq"] == pytest.approx(row["chisq_diff"], abs=1e-4)
        assert res.table.loc[step, "delta_df"] == row["df_diff"]
        assert res.table.loc[step, "delta_pvalue"] == pytest.approx(row["pvalue"], abs=1e-5)
    assert "WLSMV" in res.summary() and "ordered" in res.apa()


def test_ordinal_invariance_options():
    """Steps, partial loadings and refusals for ordered items."""
    rng = np.random.default_rng(3)
    eta = rng.normal(size=(600, 1))
    df = pd.DataFrame(1 + np.digitize(0.8 * eta + 0.6 * rng.normal(size=(600, 4)), [-0.8, 0.2, 1.0]),
                      columns=list("abcd"))
    df["site"] = np.repeat(["x", "y"], 300)
    facs = {"g": list("abcd")}
    full = P.measurement_invariance(df, facs, "site", ordered=True)
    part = P.measurement_invariance(df, facs, "site", ordered=True, steps=("thresholds", "metric"),
                                    free_loadings=["c"])
    assert part.table.loc["metric", "df"] == full.table.loc["metric", "df"] - 1
    assert part.table.loc["thresholds", "chisq"] == pytest.approx(full.table.loc["thresholds", "chisq"], rel=1e-8)
    with pytest.raises(ValueError, match="'scalar' is not a step for ordered items"):
        P.measurement_invariance(df, facs, "site", ordered=True, steps=P.INVARIANCE_STEPS)
    with pytest.raises(ValueError, match="missing='ml' is for continuous items"):
        P.measurement_invariance(df, facs, "site", ordered=True, missing="ml")
    with pytest.raises(ValueError, match="`free_intercepts`: ordered items have no free intercepts"):
        P.measurement_invariance(df, facs, "site", ordered=True, free_intercepts=["b"])
    with pytest.raises(ValueError, match="`parameterization` must be one of"):
        P.measurement_invariance(df, facs, "site", ordered=True, parameterization="gamma")
