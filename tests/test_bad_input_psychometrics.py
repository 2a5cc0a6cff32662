"""Bad input to analysis.psychometrics: a ValueError naming the argument, column or row, never a
low-level error, a silent NaN, or a "converged" fit whose optimum is meaningless.

Identification is checked before fitting: fewer respondents than items (singular sample covariance),
linearly dependent items, more free parameters than sample moments. Scale: every SEM path fits the
items divided by a power of two near their SDs and transforms estimates, SEs, implied moments and
log-likelihoods back, so rescaling items (together or one by one) by 1e-150..1e150 gives the same
chi-square (1e-6 absolute), fit indices and standardised loadings (1e-6; the optimizers' tolerance),
and estimates that scale exactly (1e-6 relative). Results beyond double precision are refused.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from analysis import psychometrics as ps

ITEMS = list("abcdef")
FAC = {"g": ITEMS}
TWO = {"f1": list("abc"), "f2": list("def")}


@pytest.fixture(scope="module")
def items():
    rng = np.random.default_rng(3)
    f = rng.normal(size=(240, 2))
    load = np.array([[0.8, 0], [0.7, 0], [0.6, 0], [0, 0.7], [0, 0.6], [0, 0.8]])
    x = f @ load.T + 0.6 * rng.normal(size=(240, 6)) + 0.3 * f[:, [0]]
    df = pd.DataFrame(x, columns=ITEMS)
    df["site"] = np.repeat(["x", "y"], 120)
    return df


@pytest.fixture(scope="module")
def ordinal(items):
    return pd.DataFrame(np.clip(np.round(2 + items[ITEMS].to_numpy()), 0, 4).astype(int), columns=ITEMS)


@pytest.fixture(scope="module")
def wai():
    rng = np.random.default_rng(8)
    return pd.DataFrame(rng.integers(1, 6, size=(30, 12)), columns=[f"wai{j}" for j in range(1, 13)])


def _quiet(f, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*a, **k)


# ------------------------------------------------------------------ scoring
def test_score_items_bad_input(wai):
    key = ps.wai_sr_key()
    with pytest.raises(ValueError, match="`key` must be an InstrumentKey, got str"):
        ps.score_items(wai, "WAI-SR")
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame, got dict"):
        ps.score_items(wai.to_dict(), key)
    with pytest.raises(ValueError, match="`data` has no rows"):
        ps.score_items(wai.iloc[:0], key)
    with pytest.raises(ValueError, match=r"Column 'id' \(given as `respondent`\) is not in `data`"):
        ps.score_items(wai, key, respondent="id")
    with pytest.raises(ValueError, match="respondent 3, item 'wai1' has 9, outside the allowed range 1-5"):
        ps.score_items(wai.assign(wai1=wai["wai1"].where(wai.index != 3, 9)), key)
    bad = wai.astype({"wai2": object})
    bad.loc[5, "wai2"] = "often"
    with pytest.raises(ValueError, match="respondent 5, item 'wai2': 'often' is not a number"):
        ps.score_items(bad, key)
    with pytest.raises(ValueError, match="not a finite number"):
        ps.score_items(wai.astype(float).assign(wai3=np.inf), key)
    with pytest.raises(ValueError, match="has 2.5, not a whole number"):
        ps.score_items(wai.astype(float).assign(wai4=2.5), key)
    ids = wai.assign(rid=["r1"] * 2 + [f"r{j}" for j in range(2, 30)])
    with pytest.raises(ValueError, match="respondent ids must be unique; 'r1' appears more than once"):
        ps.score_items(ids, key, respondent="rid")
    ids = wai.assign(rid=[None] + [f"r{j}" for j in range(1, 30)]).set_axis(range(100, 130))
    with pytest.raises(ValueError, match=r"missing ids at index labels 100"):
        ps.score_items(ids, key, respondent="rid")


def test_score_items_missing_item_column_suggests(wai):
    with pytest.raises(ValueError, match=r"item columns not in `data`: \['wai1'\]\. Did you mean 'wai_1'\?"):
        ps.score_items(wai.rename(columns={"wai1": "wai_1"}), ps.wai_sr_key())


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
        ps.wai_sr_key(**kw)


def test_score_wai_sr_bad_input(wai):
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame, got NoneType"):
        ps.score_wai_sr(None)
    with pytest.raises(ValueError, match=r"not in `data`: \['wai12'\]\. Did you mean 'wai_12'\?"):
        ps.score_wai_sr(wai.rename(columns={"wai12": "wai_12"}))
    with pytest.raises(ValueError, match="`min_answered`"):
        ps.score_wai_sr(wai, min_answered=-1)


# ------------------------------------------------------------------ alpha
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
        ps.cronbach_alpha(items, **kw)


def test_cronbach_alpha_bad_data(items):
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame, got ndarray"):
        ps.cronbach_alpha(items[ITEMS].to_numpy())
    with pytest.raises(ValueError, match="needs at least 3 complete rows, got 2"):
        ps.cronbach_alpha(items[ITEMS].iloc[:2])
    with pytest.raises(ValueError, match="`data` column 'a' has zero variance"):
        ps.cronbach_alpha(items[ITEMS].assign(a=3.0))
    with pytest.raises(ValueError, match="infinite value at row 7"):
        ps.cronbach_alpha(items[ITEMS].assign(a=items["a"].where(items.index != 7, np.inf)))
    with pytest.raises(ValueError, match="the sum of the items has zero variance"):
        ps.cronbach_alpha(pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [4.0, 3, 2, 1]}))


@pytest.mark.parametrize("scale", [1e-300, 1e-150, 1e150, 1e300])
def test_cronbach_alpha_is_scale_equivariant(items, scale):
    base = ps.cronbach_alpha(items[ITEMS])
    r = ps.cronbach_alpha(items[ITEMS] * scale)
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
        ps.feldt_ci(*args, **kw)


# ------------------------------------------------------------------ CFA: identification
@pytest.mark.parametrize("missing", ["listwise", "ml"])
def test_fit_cfa_fewer_respondents_than_items(items, missing):
    with pytest.raises(ValueError, match=r"(n = 5 complete respondents for 6 items.*singular)|(5 respondents with "
                                         r"an answer; the model needs more than the number of items \(6\))"):
        ps.fit_cfa(items.iloc[:5], FAC, missing=missing)
    with pytest.raises(ValueError, match=r"n = 6 complete respondents for 6 items; the sample covariance matrix "
                                         r"is singular unless n > 6"):
        ps.fit_cfa(items.iloc[:6], FAC)


@pytest.mark.parametrize("missing", ["listwise", "ml"])
def test_fit_cfa_linearly_dependent_items(items, missing):
    d = items.assign(g2=items["a"] + items["b"])
    with pytest.raises(ValueError, match="linearly dependent"):
        ps.fit_cfa(d, {"g": ["a", "b", "c", "g2"]}, missing=missing)


def test_fit_cfa_more_parameters_than_moments(items):
    with pytest.raises(ValueError, match="not identified: 4 free parameters for 3 variances and covariances of 2 items"):
        ps.fit_cfa(items, {"g": ["a", "b"]})
    with pytest.raises(ValueError, match="not identified"):
        ps.fit_cfa(items, {"g": ["a", "b"]}, missing="ml")


@pytest.mark.parametrize("kw, match", [
    ({"factors": ["a", "b", "c"]}, "`factors` must be a non-empty mapping"),
    ({"factors": {}}, "`factors` must be a non-empty mapping"),
    ({"factors": {"g": "abc"}}, "the items of factor 'g' must be a list of column names"),
    ({"factors": {"g": ["a", "b", "cc"]}}, r"columns not in `data`: \['cc'\]\. Did you mean 'c'\?"),
    ({"factors": {"g": ["a", "a", "b"]}}, "lists an item twice"),
    ({"factors": {"a": ["a", "b", "c"]}}, "factor names must differ from item names"),
    ({"factors": FAC, "general": "g"}, "`general` 'g' is already a factor name"),
    ({"factors": FAC, "orthogonal": "yes"}, "`orthogonal` must be True, False or None"),
    ({"factors": FAC, "missing": "pairwise"}, "`missing` must be one of 'listwise', 'ml'"),
])
def test_fit_cfa_bad_options(items, kw, match):
    with pytest.raises(ValueError, match=match):
        ps.fit_cfa(items, **kw)


@pytest.mark.parametrize("missing", ["listwise", "ml"])
def test_fit_cfa_bad_data(items, missing):
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame"):
        ps.fit_cfa(items[ITEMS].to_numpy(), FAC, missing=missing)
    with pytest.raises(ValueError, match="`data` column 'a' must be numeric"):
        ps.fit_cfa(items.assign(a="x"), FAC, missing=missing)
    with pytest.raises(ValueError, match="`data` column 'a' has an infinite value at row 7"):
        ps.fit_cfa(items.assign(a=items["a"].where(items.index != 7, -np.inf)), FAC, missing=missing)
    with pytest.raises(ValueError, match="column 'a' (has zero variance|is constant)"):
        ps.fit_cfa(items.assign(a=2.0), FAC, missing=missing)


# ------------------------------------------------------------------ CFA: scale
@pytest.mark.parametrize("missing", ["listwise", "ml"])
@pytest.mark.parametrize("scales", [
    [1e-150] * 6, [1e150] * 6, [1e-150, 1e150, 1.0, 1e-8, 1e8, 3.0],
], ids=["all-1e-150", "all-1e150", "mixed"])
def test_fit_cfa_is_scale_equivariant(items, missing, scales):
    s = np.asarray(scales)
    base = _quiet(ps.fit_cfa, items, TWO, missing=missing)
    r = _quiet(ps.fit_cfa, items[ITEMS] * s, TWO, missing=missing)
    assert r.converged and base.converged
    for k in ("chisq", "cfi", "tli", "rmsea", "srmr"):
        assert r.fit[k] == pytest.approx(base.fit[k], abs=1e-6), k
    np.testing.assert_allclose(r.loadings["std"], base.loadings["std"], atol=1e-6)
    marker = {"f1": s[0], "f2": s[3]}
    k = np.array([s[ITEMS.index(it)] / marker[f] for f, it in zip(r.loadings["factor"], r.loadings["item"])])
    np.testing.assert_allclose(r.loadings["estimate"] / k, base.loadings["estimate"], rtol=1e-6)
    free = base.loadings["se"].notna()
    np.testing.assert_allclose((r.loadings["se"] / k)[free], base.loadings["se"][free], rtol=1e-4)
    np.testing.assert_allclose(r.residual_var / s**2, base.residual_var, rtol=1e-5)
    if len(set(scales)) == 1:  # omega of the raw sum score: invariant to a common rescaling only
        assert r.omega()["total"] == pytest.approx(base.omega()["total"], abs=1e-6)
    else:
        assert 0 < r.omega()["total"] < 1
    assert r.fit["loglik"] == pytest.approx(base.fit["loglik"] - len(items) * np.log(s).sum(), rel=1e-9)
    assert r.boundary == base.boundary


@pytest.mark.parametrize("missing", ["listwise", "ml"])
def test_fit_cfa_beyond_double_precision_is_refused(items, missing):
    with pytest.raises(ValueError, match="cannot be represented in double precision.*rescale"):
        _quiet(ps.fit_cfa, items.assign(a=items["a"] * 1e300), FAC, missing=missing)


# ------------------------------------------------------------------ ordinal CFA
@pytest.mark.parametrize("kw, match", [
    ({"factors": {"g": ["a", "b", "cc"]}}, r"no column\(s\) \['cc'\]\. Did you mean 'c'\?"),
    ({"factors": FAC, "orthogonal": "no"}, "`orthogonal` must be True or False"),
    ({"factors": "g"}, "`factors` must be a non-empty mapping"),
])
def test_fit_cfa_ordinal_bad_options(ordinal, kw, match):
    with pytest.raises(ValueError, match=match):
        ps.fit_cfa_ordinal(ordinal, **kw)


def test_fit_cfa_ordinal_bad_data(ordinal, items):
    with pytest.raises(ValueError, match=r"5 complete respondents; the model needs more than the number of items \(6\)"):
        ps.fit_cfa_ordinal(ordinal.iloc[:5], FAC)
    with pytest.raises(ValueError, match="non-integer answer 2.5 at row 3; ordinal items must be integer-coded"):
        ps.fit_cfa_ordinal(ordinal.astype(float).assign(a=ordinal["a"].where(ordinal.index != 3, 2.5)), FAC)
    with pytest.raises(ValueError, match="single category"):
        ps.fit_cfa_ordinal(ordinal.assign(a=1), FAC)
    with pytest.raises(ValueError, match="must be numeric"):
        ps.fit_cfa_ordinal(ordinal.astype(object), FAC)
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame"):
        ps.fit_cfa_ordinal(None, FAC)


def test_fit_cfa_ordinal_ignores_the_coding_scale(ordinal):
    # categories coded 0..4 or 0, 1e150, ..., 4e150: the same ordinal data
    base = _quiet(ps.fit_cfa_ordinal, ordinal, FAC)
    r = _quiet(ps.fit_cfa_ordinal, ordinal * 1e150, FAC)
    assert r.fit["chisq"] == pytest.approx(base.fit["chisq"], rel=1e-12)


# ------------------------------------------------------------------ model comparison and invariance
@pytest.mark.parametrize("key, match", [
    (None, "`key` must be an InstrumentKey or a non-empty mapping"),
    (["a", "b"], "`key` must be an InstrumentKey or a non-empty mapping"),
    ({"s1": list("abc")}, "`key` has 1 subscale; the correlated-subscale and bifactor models need at least 2"),
    ({"s1": list("abc"), "s2": "def"}, "the items of factor 's2' must be a list"),
])
def test_compare_factor_models_bad_key(items, key, match):
    with pytest.raises(ValueError, match=match):
        ps.compare_factor_models(items, key)


def test_compare_factor_models_bad_data(items):
    with pytest.raises(ValueError, match="`general` must be a factor name"):
        ps.compare_factor_models(items, TWO, general=None)
    with pytest.raises(ValueError, match="n = 5 complete respondents for 6 items"):
        ps.compare_factor_models(items.iloc[:5], TWO)


def test_configural_invariance_bad_input(items):
    with pytest.raises(ValueError, match=r"`group`: column 'sit' is not in `data`\. Did you mean 'site'\?"):
        ps.configural_invariance(items, FAC, "sit")
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame"):
        ps.configural_invariance(items.to_dict(), FAC, "site")
    with pytest.raises(ValueError, match="has 1 group"):
        ps.configural_invariance(items.assign(site="x"), FAC, "site")
    d = items.copy()
    d.loc[4, "site"] = None
    with pytest.raises(ValueError, match="missing values at row 4"):
        ps.configural_invariance(d, FAC, "site")
    with pytest.raises(ValueError, match="n = 5 complete respondents for 6 items"):
        ps.configural_invariance(items.iloc[115:130], FAC, "site")


@pytest.mark.parametrize("kw, match", [
    ({"group": "sit"}, r"`group`: column 'sit' is not in `data`\. Did you mean 'site'\?"),
    ({"group": "a"}, "`group`: column 'a' is also an item"),
    ({"steps": ["metric", "configural"]}, "`steps` must be in the order configural, metric, scalar, strict"),
    ({"steps": []}, "`steps` must name at least one"),
    ({"steps": ["weak"]}, "`steps` must be one of"),
    ({"steps": ["configural", "configural"]}, "`steps` lists a step twice"),
    ({"free_intercepts": ["zz"]}, r"`free_intercepts` names items that are in no factor: \['zz'\]"),
    ({"missing": "fiml"}, "`missing` must be one of 'listwise', 'ml'"),
    ({"factors": {"g": ["a", "b"]}}, "not identified"),
    ({"factors": {"g": ["a", "b", "cc"]}}, r"item columns not in `data`: \['cc'\]\. Did you mean 'c'\?"),
])
def test_measurement_invariance_bad_options(items, kw, match):
    args = {"factors": FAC, "group": "site", **kw}
    with pytest.raises(ValueError, match=match):
        ps.measurement_invariance(items, **args)


@pytest.mark.parametrize("missing", ["listwise", "ml"])
def test_measurement_invariance_small_groups(items, missing):
    with pytest.raises(ValueError, match=r"group 'x' has 5 (complete respondents|respondents with an answer); the "
                                         r"model needs more than the number of items \(6\)"):
        ps.measurement_invariance(items.iloc[115:130], FAC, "site", missing=missing)
    with pytest.raises(ValueError, match="`data` column 'a' is constant in group 'x'"):
        ps.measurement_invariance(items.assign(a=np.where(items["site"] == "x", 1.0, items["a"])), FAC, "site",
                                  missing=missing)


@pytest.mark.parametrize("scales", [[1e-150] * 6, [1e150, 1e-150, 1.0, 1e100, 1e-100, 7.0]], ids=["all", "mixed"])
def test_measurement_invariance_is_scale_equivariant(items, scales):
    s = np.asarray(scales)
    base = _quiet(ps.measurement_invariance, items, TWO, "site")
    d = items.copy()
    d[ITEMS] = d[ITEMS] * s
    r = _quiet(ps.measurement_invariance, d, TWO, "site")
    for k in ("chisq", "cfi", "rmsea", "srmr", "delta_chisq"):
        np.testing.assert_allclose(r.table[k], base.table[k], atol=1e-6, err_msg=k)
    assert list(r.table["converged"]) == list(base.table["converged"])
    p0, p1 = base.steps["scalar"].params, r.steps["scalar"].params
    np.testing.assert_allclose(p1["statistic"], p0["statistic"], rtol=1e-4, atol=1e-6)
    nu = p1["op"] == "~1"
    items_nu = nu & p1["lhs"].isin(ITEMS)
    k = p1.loc[items_nu, "lhs"].map(dict(zip(ITEMS, s))).to_numpy()
    np.testing.assert_allclose(p1.loc[items_nu, "estimate"] / k, p0.loc[items_nu, "estimate"], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("missing", ["listwise", "ml"])
def test_two_item_factor_in_an_orthogonal_model_is_not_identified(items, missing):
    with pytest.raises(ValueError, match=r"factor 'f2' has 2 items in an orthogonal model.*not separately identified"):
        ps.fit_cfa(items, {"f1": list("abcd"), "f2": ["e", "f"]}, orthogonal=True, missing=missing)
    with pytest.raises(ValueError, match=r"factor 'f2' has 2 items in an orthogonal model"):
        ps.fit_cfa(items, {"f1": list("abcd"), "f2": ["e", "f"]}, general="g", missing=missing)


def test_two_item_factor_in_an_orthogonal_ordinal_model(ordinal):
    with pytest.raises(ValueError, match=r"factor 'f2' has 2 items in an orthogonal model"):
        ps.fit_cfa_ordinal(ordinal, {"f1": list("abcd"), "f2": ["e", "f"]}, orthogonal=True)


def test_fit_cfa_ordinal_warns_about_continuous_items(items):
    cont = pd.DataFrame(np.round(items[ITEMS].to_numpy() * 10).astype(int), columns=ITEMS)
    with pytest.warns(UserWarning, match=r"have more than 15 categories.*look continuous.*fit_cfa"):
        ps.fit_cfa_ordinal(cont, FAC)
