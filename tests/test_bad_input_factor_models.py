"""Bad input to analysis.factor_models: a ValueError naming the argument, column or row, never a
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

from analysis import factor_models as fm

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


def _quiet(f, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*a, **k)


# ------------------------------------------------------------------ CFA: identification
@pytest.mark.parametrize("missing", ["listwise", "ml"])
def test_fit_cfa_fewer_respondents_than_items(items, missing):
    with pytest.raises(ValueError, match=r"(n = 5 complete respondents for 6 items.*singular)|(5 respondents with "
                                         r"an answer; the model needs more than the number of items \(6\))"):
        fm.fit_cfa(items.iloc[:5], FAC, missing=missing)
    with pytest.raises(ValueError, match=r"n = 6 complete respondents for 6 items; the sample covariance matrix "
                                         r"is singular unless n > 6"):
        fm.fit_cfa(items.iloc[:6], FAC)


@pytest.mark.parametrize("missing", ["listwise", "ml"])
def test_fit_cfa_linearly_dependent_items(items, missing):
    d = items.assign(g2=items["a"] + items["b"])
    with pytest.raises(ValueError, match="linearly dependent"):
        fm.fit_cfa(d, {"g": ["a", "b", "c", "g2"]}, missing=missing)


def test_fit_cfa_more_parameters_than_moments(items):
    with pytest.raises(ValueError, match="not identified: 4 free parameters for 3 variances and covariances of 2 items"):
        fm.fit_cfa(items, {"g": ["a", "b"]})
    with pytest.raises(ValueError, match="not identified"):
        fm.fit_cfa(items, {"g": ["a", "b"]}, missing="ml")


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
        fm.fit_cfa(items, **kw)


@pytest.mark.parametrize("missing", ["listwise", "ml"])
def test_fit_cfa_bad_data(items, missing):
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame"):
        fm.fit_cfa(items[ITEMS].to_numpy(), FAC, missing=missing)
    with pytest.raises(ValueError, match="`data` column 'a' must be numeric"):
        fm.fit_cfa(items.assign(a="x"), FAC, missing=missing)
    with pytest.raises(ValueError, match="`data` column 'a' has an infinite value at row 7"):
        fm.fit_cfa(items.assign(a=items["a"].where(items.index != 7, -np.inf)), FAC, missing=missing)
    with pytest.raises(ValueError, match="column 'a' (has zero variance|is constant)"):
        fm.fit_cfa(items.assign(a=2.0), FAC, missing=missing)


# ------------------------------------------------------------------ CFA: scale
@pytest.mark.parametrize("missing", ["listwise", "ml"])
@pytest.mark.parametrize("scales", [
    [1e-150] * 6, [1e150] * 6, [1e-150, 1e150, 1.0, 1e-8, 1e8, 3.0],
], ids=["all-1e-150", "all-1e150", "mixed"])
def test_fit_cfa_is_scale_equivariant(items, missing, scales):
    s = np.asarray(scales)
    base = _quiet(fm.fit_cfa, items, TWO, missing=missing)
    r = _quiet(fm.fit_cfa, items[ITEMS] * s, TWO, missing=missing)
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
        _quiet(fm.fit_cfa, items.assign(a=items["a"] * 1e300), FAC, missing=missing)


# ------------------------------------------------------------------ ordinal CFA
@pytest.mark.parametrize("kw, match", [
    ({"factors": {"g": ["a", "b", "cc"]}}, r"no column\(s\) \['cc'\]\. Did you mean 'c'\?"),
    ({"factors": FAC, "orthogonal": "no"}, "`orthogonal` must be True or False"),
    ({"factors": "g"}, "`factors` must be a non-empty mapping"),
])
def test_fit_cfa_ordinal_bad_options(ordinal, kw, match):
    with pytest.raises(ValueError, match=match):
        fm.fit_cfa_ordinal(ordinal, **kw)


def test_fit_cfa_ordinal_bad_data(ordinal, items):
    with pytest.raises(ValueError, match=r"5 complete respondents; the model needs more than the number of items \(6\)"):
        fm.fit_cfa_ordinal(ordinal.iloc[:5], FAC)
    with pytest.raises(ValueError, match="non-integer answer 2.5 at row 3; ordinal items must be integer-coded"):
        fm.fit_cfa_ordinal(ordinal.astype(float).assign(a=ordinal["a"].where(ordinal.index != 3, 2.5)), FAC)
    with pytest.raises(ValueError, match="single category"):
        fm.fit_cfa_ordinal(ordinal.assign(a=1), FAC)
    with pytest.raises(ValueError, match="must be numeric"):
        fm.fit_cfa_ordinal(ordinal.astype(object), FAC)
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame"):
        fm.fit_cfa_ordinal(None, FAC)


def test_fit_cfa_ordinal_ignores_the_coding_scale(ordinal):
    # categories coded 0..4 or 0, 1e150, ..., 4e150: the same ordinal data
    base = _quiet(fm.fit_cfa_ordinal, ordinal, FAC)
    r = _quiet(fm.fit_cfa_ordinal, ordinal * 1e150, FAC)
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
        fm.compare_factor_models(items, key)


def test_compare_factor_models_bad_data(items):
    with pytest.raises(ValueError, match="`general` must be a factor name"):
        fm.compare_factor_models(items, TWO, general=None)
    with pytest.raises(ValueError, match="n = 5 complete respondents for 6 items"):
        fm.compare_factor_models(items.iloc[:5], TWO)


@pytest.mark.parametrize("missing", ["listwise", "ml"])
def test_two_item_factor_in_an_orthogonal_model_is_not_identified(items, missing):
    with pytest.raises(ValueError, match=r"factor 'f2' has 2 items in an orthogonal model.*not separately identified"):
        fm.fit_cfa(items, {"f1": list("abcd"), "f2": ["e", "f"]}, orthogonal=True, missing=missing)
    with pytest.raises(ValueError, match=r"factor 'f2' has 2 items in an orthogonal model"):
        fm.fit_cfa(items, {"f1": list("abcd"), "f2": ["e", "f"]}, general="g", missing=missing)


def test_two_item_factor_in_an_orthogonal_ordinal_model(ordinal):
    with pytest.raises(ValueError, match=r"factor 'f2' has 2 items in an orthogonal model"):
        fm.fit_cfa_ordinal(ordinal, {"f1": list("abcd"), "f2": ["e", "f"]}, orthogonal=True)


def test_fit_cfa_ordinal_warns_about_continuous_items(items):
    cont = pd.DataFrame(np.round(items[ITEMS].to_numpy() * 10).astype(int), columns=ITEMS)
    with pytest.warns(UserWarning, match=r"have more than 15 categories.*look continuous.*fit_cfa"):
        fm.fit_cfa_ordinal(cont, FAC)


def test_fit_cfa_ordinal_bad_parameterization(ordinal):
    with pytest.raises(ValueError, match="`parameterization` must be one of 'delta', 'theta'"):
        fm.fit_cfa_ordinal(ordinal, FAC, parameterization="gamma")
