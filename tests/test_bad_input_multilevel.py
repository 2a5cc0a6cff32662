"""Bad input to analysis.multilevel: refused with a ValueError naming the argument, column or row,
or reported (warning + field) — never a silent NaN or a meaningless "converged" optimum.

Identification is checked before fitting, as lme4 does ("number of levels of each grouping factor
must be < number of observations"). Scale: the fit is done on standardised data and transformed
back, so multiplying the outcome and covariates by 1e-150..1e150 changes the ICC by less than 1e-6
(the one-dimensional optimum is located to about sqrt(machine epsilon)) and the fixed effects
scale exactly (1e-6 relative).
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from analysis import multilevel as ml


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    n = 72
    t = np.arange(n) % 8
    return pd.DataFrame({
        "pid": np.arange(n),
        "therapist": t,
        "y": rng.normal(size=n) + 0.6 * rng.normal(size=8)[t],
        "x": rng.normal(size=n),
        "alliance": rng.normal(size=n) + 0.5 * rng.normal(size=8)[t],
    })


# ------------------------------------------------------------------ identification (the serious cases)
def test_one_patient_per_therapist_is_refused_before_fitting(data):
    # the "therapist" column is really the patient id: ICC would come out as 1.0, "converged"
    with pytest.raises(ValueError, match=r"Every cluster in column 'pid' \(`therapist`\) has one observation"
                                         r".*not separately identified"):
        ml.therapist_effect(data, "y", "pid", ["x"])
    with pytest.raises(ValueError, match="'pid'.*one observation.*lme4 refuses"):
        ml.therapist_effect(data, "y", "pid", engine="mixedlm")
    with pytest.raises(ValueError, match=r"does not vary within therapists: every cluster in column 'pid' "
                                         r"\(`therapist`\) has one observation.*not separately identified"):
        ml.disaggregate_alliance(data, "y", "alliance", "pid")


def test_one_cluster_only(data):
    with pytest.raises(ValueError, match=r"'therapist' \(`therapist`\) must identify at least two clusters"):
        ml.therapist_effect(data.assign(therapist="T1"), "y", "therapist")
    with pytest.raises(ValueError, match="at least two clusters"):
        ml.disaggregate_alliance(data.assign(therapist=1), "y", "alliance", "therapist")


@pytest.mark.parametrize("value", [0.0, 3.5, -1e200])
def test_zero_variance_outcome(data, value):
    with pytest.raises(ValueError, match=r"'y' \(`outcome`\) has zero variance"):
        ml.therapist_effect(data.assign(y=value), "y", "therapist", ["x"])
    with pytest.raises(ValueError, match="zero variance"):
        ml.disaggregate_alliance(data.assign(y=value), "y", "alliance", "therapist")


def test_outcome_constant_within_every_therapist(data):
    # residual variance zero: the likelihood is unbounded (theta -> infinity)
    with pytest.raises(ValueError, match=r"'y' does not vary within the clusters of 'therapist'.*residual variance "
                                         r"is zero"):
        ml.therapist_effect(data.assign(y=data["therapist"] * 1.5), "y", "therapist")


def test_outcome_reproduced_by_covariates(data):
    with pytest.raises(ValueError, match="covariates reproduce 'y' exactly"):
        ml.therapist_effect(data.assign(y=2 * data["x"] - 1), "y", "therapist", ["x"])


def test_more_parameters_than_observations():
    d = pd.DataFrame({"t": [1, 1, 2, 2], "y": [1.0, 2.0, 4.0, 3.5], "a": [0.1, 0.5, 0.2, 0.9],
                      "b": [1.0, 0.0, 3.0, 1.0], "c": [2.0, 5.0, 1.0, 0.0]})
    with pytest.raises(ValueError, match="More parameters than observations: 3 fixed effects and 2 variances "
                                         "from 4 rows"):
        ml.therapist_effect(d, "y", "t", ["a", "b"])
    with pytest.raises(ValueError, match="collinear"):  # five columns in four rows
        ml.therapist_effect(d.assign(e=[0.0, 1.0, 1.0, 2.0]), "y", "t", ["a", "b", "c", "e"])


def test_random_slope_needs_more_observations_than_random_effects(data):
    d = data[data["therapist"] < 4].groupby("therapist").head(2)  # 8 rows, 4 therapists: 8 random effects
    with pytest.raises(ValueError, match=r"random slope needs more observations than random effects: 8 rows "
                                         r"and 4 clusters"):
        ml.disaggregate_alliance(d, "y", "alliance", "therapist", random_slope=True)


def test_alliance_without_within_or_between_variation(data):
    with pytest.raises(ValueError, match=r"'alliance' \(`alliance`\) does not vary within therapists"):
        ml.disaggregate_alliance(data.assign(alliance=data["therapist"] * 0.5), "y", "alliance", "therapist")
    sign = np.where((np.arange(len(data)) // 8) % 2 == 0, 1.0, -1.0)  # 5 x (+1), 4 x (-1) per therapist
    bal = data.assign(alliance=sign * 1e-200)  # the same mean in every cluster
    with pytest.raises(ValueError, match="does not vary between therapists"):
        ml.disaggregate_alliance(bal, "y", "alliance", "therapist")


def test_constant_covariate(data):
    with pytest.raises(ValueError, match="Covariate 'x' does not vary"):
        ml.therapist_effect(data.assign(x=7.0), "y", "therapist", ["x"])


# ------------------------------------------------------------------ types, names, missing values
@pytest.mark.parametrize("bad", [None, {"y": [1, 2]}, [[1, 2]], "data.csv", np.ones((5, 3))])
def test_data_must_be_a_dataframe(bad):
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame"):
        ml.therapist_effect(bad, "y", "therapist")
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame"):
        ml.disaggregate_alliance(bad, "y", "alliance", "therapist")


def test_empty_frame(data):
    with pytest.raises(ValueError, match="`data` has 0 rows"):
        ml.therapist_effect(data.iloc[:0], "y", "therapist")
    with pytest.raises(ValueError, match="`data` has 0 rows"):
        ml.disaggregate_alliance(data.iloc[:0], "y", "alliance", "therapist")


def test_unknown_columns_suggest_the_nearest(data):
    with pytest.raises(ValueError, match=r"Column 'therapist_id' \(given as `therapist`\) is not in `data`\. "
                                         r"Did you mean 'therapist'\?"):
        ml.therapist_effect(data, "y", "therapist_id")
    with pytest.raises(ValueError, match=r"'allaince' \(given as `alliance`\).*Did you mean 'alliance'\?"):
        ml.disaggregate_alliance(data, "y", "allaince", "therapist")
    with pytest.raises(ValueError, match=r"'xx' \(given as `covariates`\).*Did you mean 'x'\?"):
        ml.therapist_effect(data, "y", "therapist", ["xx"])


@pytest.mark.parametrize("bad", [5, {"x": 1}, [1.5]])
def test_covariates_must_be_names(data, bad):
    with pytest.raises(ValueError, match="`covariates` must"):
        ml.therapist_effect(data, "y", "therapist", bad)


def test_column_name_not_a_string(data):
    with pytest.raises(ValueError, match=r"`outcome` must be a column name \(str\); got None"):
        ml.therapist_effect(data, None, "therapist")


def test_same_column_twice(data):
    with pytest.raises(ValueError, match="'y' appears more than once"):
        ml.therapist_effect(data, "y", "therapist", ["y"])
    with pytest.raises(ValueError, match="'therapist' appears more than once"):
        ml.therapist_effect(data, "therapist", "therapist")


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_missing_or_infinite_values_name_index_labels(data, value):
    bad = data.set_index(data.index + 100)
    bad.loc[[105, 130], "x"] = value
    with pytest.raises(ValueError, match=r"Column 'x' has missing or infinite values .*index labels 105, 130"):
        ml.therapist_effect(bad, "y", "therapist", ["x"])
    with pytest.raises(ValueError, match=r"index labels 105, 130"):
        ml.disaggregate_alliance(bad, "y", "alliance", "therapist", ["x"])


def test_strings_in_numeric_column_name_the_row(data):
    bad = data.astype({"alliance": object})
    bad.loc[7, "alliance"] = "high"
    with pytest.raises(ValueError, match=r"Column 'alliance' must be numeric; row 7 has 'high'"):
        ml.disaggregate_alliance(bad, "y", "alliance", "therapist")
    with pytest.raises(ValueError, match="'y' must be numeric"):
        ml.therapist_effect(data.assign(y=data["y"] > 0), "y", "therapist")


# ------------------------------------------------------------------ options
@pytest.mark.parametrize("level", [0.0, 1.0, 1.5, -0.1, 95, "0.95", None, np.nan])
def test_ci_level_outside_the_unit_interval(data, level):
    with pytest.raises(ValueError, match="`ci_level`"):
        ml.therapist_effect(data, "y", "therapist", ci_level=level)


@pytest.mark.parametrize("kw, match", [
    ({"n_boot": 0}, "`n_boot`"), ({"n_boot": 1.5}, "`n_boot`"), ({"n_boot": True}, "`n_boot`"),
    ({"seed": "a"}, "`seed`"), ({"seed": -1}, "`seed`"), ({"method": "reml"}, "`method`"),
    ({"engine": "lme4"}, "`engine`"), ({"ci": "wald"}, "`ci`"),
])
def test_options(data, kw, match):
    with pytest.raises(ValueError, match=match):
        ml.therapist_effect(data, "y", "therapist", **kw)


@pytest.mark.parametrize("kw, match", [({"random_slope": "yes"}, "`random_slope`"), ({"method": "OLS"}, "`method`"),
                                       ({"engine": None}, "`engine`"), ({"covariates": ["alliance"]}, "alliance")])
def test_disaggregate_options(data, kw, match):
    with pytest.raises(ValueError, match=match):
        ml.disaggregate_alliance(data, "y", "alliance", "therapist", **kw)


# ------------------------------------------------------------------ extreme magnitudes
def _quiet(f, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ml.BoundaryWarning)
        return f(*a, **k)


@pytest.mark.parametrize("sy", [1e-150, 1e-100, 1e-8, 1e8, 1e100, 1e150])
@pytest.mark.parametrize("sx", [1e-150, 1.0, 1e150])
def test_therapist_effect_is_scale_equivariant(data, sy, sx):
    base = _quiet(ml.therapist_effect, data, "y", "therapist", ["x"])
    if abs(np.log10(sy) - np.log10(sx)) > 154:  # the slope's variance, (sy/sx)^2, is beyond 1e308
        with pytest.raises(ValueError, match="cannot be represented in double precision.*rescale"):
            ml.therapist_effect(data.assign(y=data["y"] * sy, x=data["x"] * sx), "y", "therapist", ["x"])
        return
    r = _quiet(ml.therapist_effect, data.assign(y=data["y"] * sy, x=data["x"] * sx), "y", "therapist", ["x"])
    assert r.converged and np.isfinite(r.loglik)
    assert r.icc == pytest.approx(base.icc, abs=1e-6)
    np.testing.assert_allclose(r.icc_ci, base.icc_ci, atol=1e-6)
    np.testing.assert_allclose(r.fixed["estimate"] / [sy, sy / sx], base.fixed["estimate"], rtol=1e-6)
    np.testing.assert_allclose(r.fixed["se"] / [sy, sy / sx], base.fixed["se"], rtol=1e-6)
    np.testing.assert_allclose(r.fixed["statistic"], base.fixed["statistic"], rtol=1e-6)
    assert r.residual_var / sy**2 == pytest.approx(base.residual_var, rel=1e-6)
    np.testing.assert_allclose(r.effects["effect"] / sy, base.effects["effect"], rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("scale", [1e-150, 1e150])
def test_disaggregation_is_scale_equivariant(data, scale):
    base = _quiet(ml.disaggregate_alliance, data, "y", "alliance", "therapist")
    r = _quiet(ml.disaggregate_alliance, data.assign(y=data["y"] * scale), "y", "alliance", "therapist")
    assert r.within / scale == pytest.approx(base.within, rel=1e-6)
    assert r.contextual_statistic == pytest.approx(base.contextual_statistic, rel=1e-6)
    assert r.therapist_var / scale**2 == pytest.approx(base.therapist_var, rel=1e-5, abs=1e-8)


def test_results_beyond_double_precision_are_refused(data):
    with pytest.raises(ValueError, match="cannot be represented in double precision"):
        ml.therapist_effect(data.assign(y=data["y"] * 1e300), "y", "therapist")


@pytest.mark.parametrize("scale", [1e-150, 1e150])
def test_singular_fit_is_reported_at_any_scale(scale):
    import json
    from pathlib import Path

    fix = json.loads((Path(__file__).parent / "fixtures" / "lme4.json").read_text())["singular"]
    d = pd.DataFrame(fix["data"])
    with pytest.warns(ml.BoundaryWarning, match="singular"):
        r = ml.therapist_effect(d.assign(y=d["y"] * scale), "y", "therapist", ["x"])
    assert r.singular and r.icc < 1e-8 and r.therapist_var / scale**2 < 1e-8
    assert r.residual_var / scale**2 == pytest.approx(fix["fits"]["REML"]["varcomp"][1]["vcov"], rel=1e-4)
