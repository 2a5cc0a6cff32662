"""Bad input for analysis.sem.ordinal (the engine's WLSMV estimator): clear ValueErrors naming the
argument, column, group or index label; warnings for dropped respondents; invariance to the coding
of the categories (any strictly increasing integer coding, tiny or huge, gives the same fit)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.sem import ordinal as O
from analysis.sem.ordinal import fit_wlsmv, ordinal_sample_stats, parse_measurement_model


def _data(n=240, seed=0, groups=False):
    rng = np.random.default_rng(seed)
    eta = rng.normal(size=(n, 1))
    ystar = 0.8 * eta + 0.6 * rng.normal(size=(n, 4))
    df = pd.DataFrame(1 + np.digitize(ystar, [-1.0, 0.0, 1.0]), columns=list("abcd"))
    if groups:
        df["grp"] = np.repeat(["g1", "g2"], n // 2)
    return df


MODEL = "f =~ a + b + c + d"


# ----------------------------------------------------------------------------- parse_measurement_model
def test_parse_rejects_bad_models():
    with pytest.raises(ValueError, match="`model` must be lavaan syntax"):
        parse_measurement_model("")
    with pytest.raises(ValueError, match="`model` must be lavaan syntax"):
        parse_measurement_model(None)
    with pytest.raises(ValueError, match="measurement statements only.*fit_wlsmv reads full lavaan syntax"):
        parse_measurement_model("f =~ a + b\nf ~ x")
    with pytest.raises(ValueError, match="cannot read"):
        parse_measurement_model("f =~ 0.5*a + b")
    with pytest.raises(ValueError, match="needs at least 2 items"):
        parse_measurement_model("f =~ a")
    with pytest.raises(ValueError, match="item 'a' is listed in 'f' and 'g'"):
        parse_measurement_model({"f": ["a", "b"], "g": ["a", "c"]})
    with pytest.raises(ValueError, match="must be a list of column names"):
        parse_measurement_model({"f": "abc"})
    with pytest.raises(ValueError, match="factor names must differ from item names"):
        parse_measurement_model({"a": ["a", "b"]})


# ----------------------------------------------------------------------------- ordinal_sample_stats
def test_sample_stats_bad_data():
    df = _data()
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame"):
        ordinal_sample_stats(df.to_numpy(), list("abcd"))
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame, got dict"):
        ordinal_sample_stats(df.to_dict(), list("abcd"))
    with pytest.raises(ValueError, match="`data` has no rows"):
        ordinal_sample_stats(df.iloc[:0], list("abcd"))
    with pytest.raises(ValueError, match="has 1 complete respondents"):
        ordinal_sample_stats(df.iloc[:1], list("abcd"))
    with pytest.raises(ValueError, match="no column 'bb'.*Did you mean 'b'"):
        ordinal_sample_stats(df, ["a", "bb", "c"])
    with pytest.raises(ValueError, match="`items` must be a list"):
        ordinal_sample_stats(df, "abcd")
    with pytest.raises(ValueError, match="`items` needs at least 2 items"):
        ordinal_sample_stats(df, ["a"])
    with pytest.raises(ValueError, match="lists an item twice"):
        ordinal_sample_stats(df, ["a", "a", "b"])


def test_sample_stats_bad_values():
    df = _data()
    txt = df.astype({"b": object})
    txt.loc[3, "b"] = "agree"
    with pytest.raises(ValueError, match="column 'b' must be numeric: integer-coded"):
        ordinal_sample_stats(txt, list("abcd"))
    boo = df.assign(c=df["c"] > 2)
    with pytest.raises(ValueError, match="column 'c' must be numeric: integer-coded"):
        ordinal_sample_stats(boo, list("abcd"))
    frac = df.astype(float)
    frac.loc[7, "a"] = 2.5
    with pytest.raises(ValueError, match="non-integer answer 2.5 at row 7; ordinal items must be integer-coded \\(rows are named by their index labels\\)"):
        ordinal_sample_stats(frac, list("abcd"))
    inf = df.astype(float)
    inf.loc[11, "d"] = np.inf
    with pytest.raises(ValueError, match="column 'd' has an infinite value at index label 11"):
        ordinal_sample_stats(inf, list("abcd"))
    const = df.assign(a=3)
    with pytest.raises(ValueError, match="column 'a' has a single category"):
        ordinal_sample_stats(const, list("abcd"))
    allnan = df.astype(float).assign(b=np.nan)
    with pytest.raises(ValueError, match="has 0 complete respondents; the model needs more than the number of items \\(4\\); 240 respondents have a missing answer"):
        ordinal_sample_stats(allnan, list("abcd"))


def test_sample_stats_missing_answers_warn_and_are_dropped():
    df = _data().astype(float)
    df.loc[[2, 5], "a"] = np.nan
    with pytest.warns(UserWarning, match="2 respondents with a missing answer were dropped"):
        st_ = ordinal_sample_stats(df, list("abcd"))
    assert st_.n_obs[None] == 238 and st_.n_dropped == 2


def test_sample_stats_bad_groups():
    df = _data(groups=True)
    with pytest.raises(ValueError, match="`group`: `data` has no column 'gpr'.*Did you mean 'grp'"):
        ordinal_sample_stats(df, list("abcd"), group="gpr")
    with pytest.raises(ValueError, match="`group` must be a column name"):
        ordinal_sample_stats(df, list("abcd"), group=["grp"])
    with pytest.raises(ValueError, match="single group"):
        ordinal_sample_stats(df.assign(grp="g1"), list("abcd"), group="grp")
    miss = df.astype({"grp": object})
    miss.loc[4, "grp"] = None
    with pytest.raises(ValueError, match="`group` column 'grp' is missing at index labels \\[4\\]"):
        ordinal_sample_stats(miss, list("abcd"), group="grp")
    tiny = pd.concat([df[df["grp"] == "g1"], df[df["grp"] == "g2"].head(3)])
    with pytest.raises(ValueError, match="3 complete respondents in group 'g2'"):
        ordinal_sample_stats(tiny, list("abcd"), group="grp")
    empty_cat = df.copy()
    empty_cat.loc[(empty_cat["grp"] == "g2") & (empty_cat["a"] == 4), "a"] = 3
    with pytest.raises(ValueError, match="column 'a': category 4 is empty in group 'g2'"):
        ordinal_sample_stats(empty_cat, list("abcd"), group="grp")


def test_sample_stats_many_categories_warn():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(2000, 1)) + rng.normal(size=(2000, 2))
    df = pd.DataFrame(np.round(z * 4).astype(int), columns=["a", "b"])
    with pytest.warns(UserWarning, match="more than 15 categories.*look continuous.*fit_cfa"):
        ordinal_sample_stats(df, ["a", "b"])


# ----------------------------------------------------------------------------- fit_wlsmv
def test_fit_bad_arguments():
    df = _data(groups=True)
    with pytest.raises(ValueError, match="`parameterization` must be one of.*Did you mean 'theta'"):
        fit_wlsmv(df, MODEL, parameterization="thetta")
    with pytest.raises(ValueError, match="`estimator` must be 'WLSMV' or 'DWLS'"):
        fit_wlsmv(df, MODEL, estimator="ML")
    with pytest.raises(ValueError, match="`orthogonal` must be True or False"):
        fit_wlsmv(df, MODEL, orthogonal="yes")
    with pytest.raises(ValueError, match="`maxiter` must be a positive integer"):
        fit_wlsmv(df, MODEL, maxiter=0)
    with pytest.raises(ValueError, match="`maxiter` must be a positive integer"):
        fit_wlsmv(df, MODEL, maxiter=2.5)
    with pytest.raises(ValueError, match="`group_equal`: unknown or unsupported keyword 'loading'.*Did you mean"):
        fit_wlsmv(df, MODEL, group="grp", group_equal=("loading",))
    with pytest.raises(ValueError, match="`group_equal` must be a list"):
        fit_wlsmv(df, MODEL, group="grp", group_equal=5)
    with pytest.raises(ValueError, match="`group_equal` needs `group`"):
        fit_wlsmv(df, MODEL, group_equal=("thresholds",))
    with pytest.raises(ValueError, match="`group_partial`: 'f =~ z' is not a parameter of the model"):
        fit_wlsmv(df, MODEL, group="grp", group_equal=("loadings",), group_partial=("f =~ z",))
    with pytest.raises(ValueError, match="`group_partial` entries must be strings"):
        fit_wlsmv(df, MODEL, group="grp", group_partial=(3,))
    with pytest.raises(ValueError, match="`ordered` names 'e', which is not an observed variable"):
        fit_wlsmv(df, MODEL, ordered=["a", "b", "c", "d", "e"])
    with pytest.raises(ValueError, match="leaves item\\(s\\) \\['d'\\] continuous"):
        fit_wlsmv(df, MODEL, ordered=["a", "b", "c"])
    with pytest.raises(ValueError, match="`ordered` must be True or the list"):
        fit_wlsmv(df, MODEL, ordered="a")
    with pytest.raises(ValueError, match="no column 'dd'.*Did you mean 'd'"):
        fit_wlsmv(df, "f =~ a + b + c + dd")
    with pytest.raises(ValueError, match="`model` must be lavaan syntax"):
        fit_wlsmv(df, {})


def test_fit_orthogonal_two_item_factor_refused():
    df = _data()
    with pytest.raises(ValueError, match="factor 'f' has 2 items in an orthogonal model"):
        fit_wlsmv(df, "f =~ a + b\ng =~ c + d", orthogonal=True)


def test_fit_more_parameters_than_statistics():
    """Two binary items on one factor: 2 thresholds + 1 correlation, 4 parameters."""
    rng = np.random.default_rng(5)
    z = rng.normal(size=(200, 1)) + rng.normal(size=(200, 2))
    df = pd.DataFrame((z > 0).astype(int), columns=["a", "b"])
    with pytest.raises(ValueError, match="4 free parameters but the data give only 3 sample statistics"):
        fit_wlsmv(df, "f =~ a + b")


def test_fit_not_identified():
    """All thresholds of a non-marker item free in group 2 with its scale free (thresholds equal
    elsewhere): its loading and scale are confounded; the information matrix is singular."""
    df = _data(groups=True)
    with pytest.raises(ValueError, match="information matrix is singular: the model is not identified"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit_wlsmv(df, "f =~ b + a + c + d", group="grp", group_equal=("thresholds",),
                      group_partial=("a | t1", "a | t2", "a | t3"))


def test_fit_duplicate_items_warn():
    """An item entered twice: polychoric at the bound (near 1) and an undefined scaled test, both reported."""
    rng = np.random.default_rng(6)
    z = rng.normal(size=(300, 1)) + rng.normal(size=(300, 3))
    df = pd.DataFrame((z > 0).astype(int), columns=["a", "b", "c"])
    df["d"] = df["c"]
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        with pytest.warns(UserWarning, match="near 1"):
            res = fit_wlsmv(df, "f =~ a + b\ng =~ c + d")
    if not np.isfinite(res.fit["chisq.scaled"]):
        assert any("scaled-shifted test is undefined" in n_ for n_ in res.notes)


def test_fit_bad_sample_stats():
    df = _data(groups=True)
    ss = ordinal_sample_stats(df, list("abcd"), group="grp")
    with pytest.raises(ValueError, match="`sample_stats` must come from ordinal_sample_stats"):
        fit_wlsmv(df, MODEL, group="grp", sample_stats={"a": 1})
    with pytest.raises(ValueError, match="`sample_stats` holds items"):
        fit_wlsmv(df, "f =~ b + a + c + d", group="grp", sample_stats=ss)
    with pytest.raises(ValueError, match="`sample_stats` and `group` disagree"):
        fit_wlsmv(df, MODEL, sample_stats=ss)


def test_fit_heywood_case_is_reported():
    """An implied residual variance below zero: BoundaryWarning and a note."""
    from analysis.multilevel import BoundaryWarning
    rng = np.random.default_rng(8)
    n = 400
    eta = rng.normal(size=n)
    a = eta + 0.05 * rng.normal(size=n)
    ystar = np.column_stack([a, a + 0.05 * rng.normal(size=n), 0.5 * eta + rng.normal(size=n),
                             0.2 * eta + rng.normal(size=n)])
    df = pd.DataFrame(1 + np.digitize(ystar, [-0.5, 0.5]), columns=list("abcd"))
    with pytest.warns(BoundaryWarning, match="residual variance at or below zero"):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*near 1.*")
            res = fit_wlsmv(df, "f =~ c + a + b + d")
    assert any("Heywood" in n_ for n_ in res.notes) and res.boundary


@settings(max_examples=8, deadline=None)
@given(scale=st.sampled_from([1, 7, 10 ** 6, 10 ** 15]), shift=st.integers(-10 ** 6, 10 ** 6))
def test_fit_invariant_to_category_coding(scale, shift):
    """Only the order of the answer values matters: tiny or huge integer codes give the same fit."""
    df = _data(n=200, seed=1)
    base = fit_wlsmv(df, MODEL)
    other = fit_wlsmv(df * scale + shift, MODEL)
    np.testing.assert_allclose(other.params["estimate"], base.params["estimate"], atol=1e-10)
    assert other.fit["chisq.scaled"] == pytest.approx(base.fit["chisq.scaled"], rel=1e-10)


def test_fit_huge_codes_as_floats_are_categories():
    df = _data(n=200, seed=1).astype(float) * 1e300
    res = fit_wlsmv(df, MODEL)
    assert res.sample_stats.categories["a"][0] > 1e299 and res.converged


def test_module_constants():
    assert O.PARAMETERIZATIONS == ("delta", "theta") and "thresholds" in O.GROUP_EQUAL


def test_difference_test_bad_input():
    df = _data(groups=True)
    conf = fit_wlsmv(df, MODEL, group="grp")
    with pytest.raises(ValueError, match="`m0` must be a WLSMVResult"):
        O.difference_test(conf, {"chisq": 3.0})
    with pytest.raises(ValueError, match="same degrees of freedom"):
        O.difference_test(conf, conf)
    other = fit_wlsmv(_data(groups=True, seed=9), MODEL, group="grp", group_equal=("thresholds",))
    with pytest.raises(ValueError, match="different sample statistics"):
        O.difference_test(conf, other)
    single = fit_wlsmv(df, MODEL)
    with pytest.raises(ValueError, match="different items, groups or respondents"):
        O.difference_test(conf, single)


def test_sem_hook_refuses_what_wlsmv_cannot_do():
    """analysis.sem.sem with ordered items dispatches to fit_wlsmv; other estimators / FIML are refused."""
    from analysis.sem import sem
    df = _data()
    with pytest.raises(ValueError, match="ordered items are fitted by 'WLSMV'"):
        sem(MODEL, df, ordered=list("abcd"), estimator="MLR")
    with pytest.raises(ValueError, match="listwise.*missing='ml'"):
        sem(MODEL, df, ordered=list("abcd"), missing="ml")
    with pytest.raises(ValueError, match="`parameterization` must be one of"):
        sem(MODEL, df, ordered=list("abcd"), parameterization="gamma")
    with pytest.raises(ValueError, match="leaves item\\(s\\) \\['d'\\] continuous"):
        sem(MODEL, df, ordered=list("abc"))


def test_ordinal_invariance_bad_input():
    df = _data(groups=True)
    with pytest.raises(ValueError, match="`group` must be a column name"):
        O.ordinal_invariance(df, MODEL, None)
    with pytest.raises(ValueError, match="`group`: `data` has no column 'gr'.*Did you mean 'grp'"):
        O.ordinal_invariance(df, MODEL, "gr")
    with pytest.raises(ValueError, match="`steps` must be a non-empty list"):
        O.ordinal_invariance(df, MODEL, "grp", steps=[])
    with pytest.raises(ValueError, match="each step is a \\(name, group_equal\\) pair"):
        O.ordinal_invariance(df, MODEL, "grp", steps=[("configural",)])
    with pytest.raises(ValueError, match="step names must differ"):
        O.ordinal_invariance(df, MODEL, "grp", steps=[("a", ()), ("a", ("thresholds",))])
    with pytest.raises(ValueError, match="must be nested, least restricted first"):
        O.ordinal_invariance(df, MODEL, "grp", steps=[("thr", ("thresholds",)), ("conf", ())])
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame"):
        O.ordinal_invariance(df.to_numpy(), MODEL, "grp")
    with pytest.raises(ValueError, match="single group"):
        O.ordinal_invariance(df.assign(grp="g1"), MODEL, "grp")


def test_saturated_model_says_why_its_tests_are_nan():
    """One factor, three items: df 0; the NaN tests are explained in the notes."""
    df = _data()
    res = fit_wlsmv(df, "f =~ a + b + c")
    assert res.fit["df"] == 0 and np.isnan(res.fit["chisq.scaled"]) and np.isnan(res.fit["rmsea"])
    assert any("saturated (df = 0)" in n_ for n_ in res.notes)
    with pytest.raises(ValueError, match="`names`: no fit measure 'cfi_scaled'.*Did you mean 'cfi.scaled'"):
        res.fit_measures(["cfi_scaled"])
    with pytest.raises(ValueError, match="`level` must be a number in \\(0, 1\\)"):
        res.standardized_solution(level=95)


def test_explicit_threshold_lines_are_refused_not_ignored():
    import numpy as np
    import pandas as pd
    from analysis.sem import sem
    rng = np.random.default_rng(1)
    z = rng.normal(size=(300, 1))
    d = pd.DataFrame(np.digitize(z + rng.normal(size=(300, 4)) * 0.8, [-0.5, 0.6]), columns=["u1", "u2", "u3", "u4"])
    with pytest.raises(ValueError, match=r"line 2: explicit threshold lines \('u1 \| \.\.\.'\) are not supported"):
        sem("f =~ u1 + u2 + u3 + u4\nu1 | t1 + t2", d, ordered=["u1", "u2", "u3", "u4"])
