"""Bad input to analysis.sessions: a ValueError naming the argument, column or row, never a
low-level error or a meaningless "converged" fit.

Scale: within_between is linear in the scores (1e-200..1e200, 1e-12 relative); the RI-CLPM is fitted
on x and y rescaled by a power of two near their SDs and transformed back, so rescaling x by
1e-150..1e150 leaves the chi-square (1e-6 absolute; the optimizer's tolerance) and the standardised
quantities unchanged and scales the estimates exactly (1e-6 relative).
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from analysis import sessions as se


@pytest.fixture(scope="module")
def long():
    rng = np.random.default_rng(2)
    rows = []
    for p in range(60):
        a0, s0 = rng.normal(), rng.normal()
        wx = wy = 0.0
        for t in range(1, 5):
            wx, wy = 0.3 * wx + rng.normal(), 0.3 * wy - 0.2 * wx + rng.normal()
            rows.append(dict(patient=p, session=t, alliance=a0 + wx, symptom=s0 + wy))
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ within_between
@pytest.mark.parametrize("kw, match", [
    ({"columns": []}, "`columns` must name at least one column"),
    ({"columns": None}, "`columns` must be a column name or a list"),
    ({"columns": "aliance"}, r"no column 'aliance'; Did you mean 'alliance'\?"),
    ({"columns": "alliance", "detrend": "yes"}, "`detrend` must be True or False"),
    ({"columns": "alliance", "patient": "id"}, "no column 'id'"),
])
def test_within_between_bad_arguments(long, kw, match):
    with pytest.raises(ValueError, match=match):
        se.within_between(long, **kw)


def test_within_between_bad_tables(long):
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame"):
        se.within_between(long.to_dict(), "alliance")
    with pytest.raises(ValueError, match="`data` has no rows"):
        se.within_between(long.iloc[:0], "alliance")
    bad = long.set_index(long.index + 10).astype({"alliance": object})
    bad.loc[12, "alliance"] = "good"
    with pytest.raises(ValueError, match=r"'alliance' must be numeric; rows 2 \(index labels 12\)"):
        se.within_between(bad, "alliance")
    with pytest.raises(ValueError, match="duplicated patient–session rows"):
        se.within_between(pd.concat([long.iloc[:1], long]).reset_index(drop=True), "alliance")


@pytest.mark.parametrize("scale", [1e-200, 1e-100, 1e100, 1e200])
@pytest.mark.parametrize("detrend", [False, True])
def test_within_between_is_scale_equivariant(long, scale, detrend):
    base = se.within_between(long, "alliance", detrend=detrend)
    r = se.within_between(long.assign(alliance=long["alliance"] * scale), "alliance", detrend=detrend)
    for c in ("alliance_within", "alliance_between"):
        np.testing.assert_allclose(r[c] / scale, base[c], rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ lagged_model
@pytest.mark.parametrize("kw, match", [
    ({"method": "OLS"}, "`method` must be one of 'REML', 'ML'"),
    ({"split": "no"}, "`split` must be True or False"),
    ({"detrend": 1}, "`detrend` must be True or False"),
    ({"split": False, "detrend": True}, "`detrend=True` needs `split=True`"),
    ({"predictor": "symptom"}, "the patient, session and score columns must differ"),
    ({"outcome": "symptoms"}, r"no column 'symptoms'; Did you mean 'symptom'\?"),
])
def test_lagged_model_bad_options(long, kw, match):
    with pytest.raises(ValueError, match=match):
        se.lagged_model(long, **kw)


def test_lagged_model_one_pair_per_patient_is_not_identified(long):
    # two sessions per patient: one (t, t+1) pair each, so the patient is the observation
    with pytest.raises(ValueError, match=r"every patient has a single usable session pair.*not separately identified"):
        se.lagged_model(long[long["session"] <= 2])


def test_lagged_model_degenerate_data(long):
    with pytest.raises(ValueError, match="fewer than two patients have a usable session pair"):
        se.lagged_model(long[long["patient"] == 0])
    with pytest.raises(ValueError, match=r"lagged_model: Covariate 'symptom' does not vary"):
        se.lagged_model(long.assign(symptom=4.0))
    with pytest.raises(ValueError, match="`data` has no rows"):
        se.lagged_model(long.iloc[:0])


@pytest.mark.parametrize("scale", [1e-150, 1e150])
def test_lagged_model_is_scale_equivariant(long, scale):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = se.lagged_model(long)
        r = se.lagged_model(long.assign(alliance=long["alliance"] * scale, symptom=long["symptom"] * scale))
    np.testing.assert_allclose(r.fixed["estimate"].iloc[1:], base.fixed["estimate"].iloc[1:], rtol=1e-6)
    assert r.residual_var / scale**2 == pytest.approx(base.residual_var, rel=1e-6)


# ------------------------------------------------------------------ riclpm_syntax
@pytest.mark.parametrize("args, kw, match", [
    ((2,), {}, "`n_waves` must be a whole number >= 3"),
    ((3.5,), {}, "`n_waves` must be a whole number >= 3"),
    ((True,), {}, "`n_waves` must be a whole number >= 3"),
    (("4",), {}, "`n_waves` must be a whole number >= 3"),
    ((3, "a", "a"), {}, "`x` and `y` must differ; both are 'a'"),
    ((3, "a b"), {}, "`x` must be a variable stem usable in model syntax"),
    ((3, "x", None), {}, "`y` must be a variable stem"),
    ((3,), {"constrain": "yes"}, "`constrain` must be True or False"),
])
def test_riclpm_syntax_bad_input(args, kw, match):
    with pytest.raises(ValueError, match=match):
        se.riclpm_syntax(*args, **kw)


# ------------------------------------------------------------------ riclpm
@pytest.mark.parametrize("kw, match", [
    ({"x": "alliance", "y": "alliance"}, "`x` and `y` must be different columns; both are 'alliance'"),
    ({"waves": [1, 2, np.nan]}, "`waves` must hold whole wave numbers; got nan"),
    ({"waves": [1, 2, 2.5]}, "`waves` must hold whole wave numbers; got 2.5"),
    ({"waves": [1, 2, 2, 3]}, "`waves` lists a wave twice"),
    ({"waves": [3, 1, 2]}, "`waves` must be in increasing order"),
    ({"waves": "1,2,3"}, "`waves` must be a list of wave numbers"),
    ({"waves": [1, 2]}, "needs at least 3 waves"),
    ({"waves": [1, 2, 9]}, r"wave\(s\) \[9\] are not in column 'session'"),
    ({"missing": "fiml"}, "`missing` must be one of 'listwise', 'ml'"),
    ({"constrain": "yes"}, "`constrain` must be True or False"),
    ({"estimator": "WLSMV"}, "`estimator` must be one of .ML., .MLR."),
    ({"x": "aliance"}, r"no column 'aliance'; Did you mean 'alliance'\?"),
])
def test_riclpm_bad_options(long, kw, match):
    args = {"x": "alliance", "y": "symptom", "wave": "session", **kw}
    with pytest.raises(ValueError, match=match):
        se.riclpm(long, **args)


@pytest.mark.parametrize("missing", ["listwise", "ml"])
def test_riclpm_degenerate_data(long, missing):
    with pytest.raises(ValueError, match="needs more patients"):
        se.riclpm(long[long["patient"] < 6], x="alliance", y="symptom", wave="session", missing=missing)
    with pytest.raises(ValueError, match="column 'symptom' has zero variance"):
        se.riclpm(long.assign(symptom=2.0), x="alliance", y="symptom", wave="session", missing=missing)
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame"):
        se.riclpm(None, x="alliance", y="symptom", wave="session", missing=missing)


@pytest.mark.parametrize("missing", ["listwise", "ml"])
@pytest.mark.parametrize("scale", [1e-150, 1e150])
def test_riclpm_is_scale_equivariant(long, missing, scale):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = se.riclpm(long, x="alliance", y="symptom", wave="session", missing=missing)
        r = se.riclpm(long.assign(alliance=long["alliance"] * scale), x="alliance", y="symptom", wave="session",
                      missing=missing)
    assert r.fit["chisq"] == pytest.approx(base.fit["chisq"], abs=1e-6)
    assert r.fit["cfi"] == pytest.approx(base.fit["cfi"], abs=1e-6)
    assert r.converged == base.converged
    lag = r.lagged.set_index(["path", "wave"])
    lag0 = base.lagged.set_index(["path", "wave"])
    k = lag.index.get_level_values("path").map({"x -> x": 1.0, "y -> y": 1.0, "y -> x": scale, "x -> y": 1 / scale})
    # 1e-150 is not a power of two, so the rescaled data differ from the base data in the last
    # bits and the optimizer may stop at a slightly different point: paths agree to ~1e-8
    # (standard errors ~0.1), far inside 1e-6 absolute.
    np.testing.assert_allclose(lag["estimate"] / k, lag0["estimate"], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(lag["statistic"], lag0["statistic"], rtol=1e-5, atol=1e-6)


def test_riclpm_beyond_double_precision_is_refused(long):
    with pytest.raises(ValueError, match="cannot be represented in double precision"):
        se.riclpm(long.assign(alliance=long["alliance"] * 1e300), x="alliance", y="symptom", wave="session")


def test_riclpm_model_and_wide_bad(long):
    for bad in (123, "", "   ", ["RIx =~ x1"]):
        with pytest.raises(ValueError, match="`model` must be lavaan model syntax"):
            se.riclpm(long, x="alliance", y="symptom", wave="session", model=bad)
    with pytest.raises(ValueError, match="riclpm: `model`/`data`"):
        se.riclpm(long[long["session"].between(1, 4)], x="alliance", y="symptom", wave="session",
                  model="RIx =~ 1*x1 + 1*x2 +")
    with pytest.raises(ValueError, match="riclpm: `model`/`data`.*'z9'"):
        se.riclpm(long[long["session"].between(1, 4)], x="alliance", y="symptom", wave="session",
                  model=se.riclpm_syntax(4) + "\nz9 ~ x1")
    wide = pd.DataFrame({"x1": [1.0, 2.0], "x2": [2.0, 3.0], "x3": [1.0, 1.0]})
    with pytest.raises(ValueError, match="looks wide .* no columns y1, y2"):
        se.riclpm(wide, x="x", y="y")
