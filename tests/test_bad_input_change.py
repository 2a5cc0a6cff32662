"""Bad input to analysis.change: a ValueError naming the argument, column or row (DataFrame index
labels), never a silent NaN, a wrong number or a low-level numpy/pandas error.

Scale: reliable change indices, cutoffs and rupture episodes are ratios or linear in the scores;
tested for equivariance from 1e-200 to 1e200 (1e-12 relative: only rounding differs).
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis import change as ch


PRE = np.array([20.0, 18, 15, 22, 9, 14])
POST = np.array([10.0, 17, 16, 5, 9, 15])


@pytest.fixture(scope="module")
def sessions():
    rng = np.random.default_rng(4)
    rows = []
    for p in range(12):
        base = rng.normal(4, 0.6)
        for s in range(1, 9):
            rows.append({"patient": f"p{p}", "session": s, "symptom": 20 - s + rng.normal(0, 2) - (6 if (p % 3 == 0 and s == 4) else 0),
                         "alliance": base + rng.normal(0, 0.5) - (1.5 if s == 3 and p % 2 else 0)})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def outcome(sessions):
    rng = np.random.default_rng(5)
    pats = sessions["patient"].unique()
    return pd.DataFrame({"patient": pats, "change": rng.normal(5, 3, len(pats)), "pre": rng.normal(15, 4, len(pats))})


# ------------------------------------------------------------------ reliable_change
@pytest.mark.parametrize("pre, post, match", [
    (None, POST, "`pre` is required but was None"),
    ({"a": 1}, POST, "`pre` must be numeric"),
    (["a"] * 6, POST, "`pre` must be numeric; positions 0, 1, 2, 3, 4 and 1 more"),
    (PRE[:3], POST, "`pre` and `post` must have the same length; got 3 and 6"),
    (PRE, np.r_[POST[:5], np.inf], "`post` has infinite values at position 5"),
    ([], [], "fewer than two observed `pre` values"),
    ([3.0], [2.0], "fewer than two observed `pre` values"),
    ([5.0, 5.0, 5.0], [1.0, 2.0, 3.0], r"all equal \(SD 0\)"),
])
def test_reliable_change_bad_data(pre, post, match):
    with pytest.raises(ValueError, match=match):
        ch.reliable_change(pre, post, reliability=0.8)


@pytest.mark.parametrize("kw, match", [
    ({"reliability": 1.2}, "`reliability` must lie strictly between 0.0 and 1.0"),
    ({"reliability": 0.0}, "`reliability` must lie strictly between"),
    ({"reliability": 1.0}, "`reliability` must lie strictly between"),
    ({"reliability": np.nan}, "`reliability` has missing or infinite values"),
    ({"reliability": "0.8"}, "`reliability` must be numeric"),
    ({"reliability": 0.8, "critical": [1.96, 2.58]}, "`critical` must be a single number"),
    ({"reliability": 0.8, "critical": -1}, "`critical` must be positive"),
    ({"reliability": 0.8, "sd_pre": 0}, "`sd_pre` must be positive"),
    ({"reliability": 0.8, "sd_pre": [1, 2]}, "`sd_pre` must be a single number"),
    ({"min_change": -3}, "`min_change` must be positive"),
    ({}, "`reliability` is required"),
    ({"reliability": 0.8, "higher_is_better": "yes"}, "`higher_is_better` must be True or False"),
])
def test_reliable_change_bad_options(kw, match):
    with pytest.raises(ValueError, match=match):
        ch.reliable_change(PRE, POST, **kw)


def test_reliable_change_overflowing_difference():
    with pytest.raises(ValueError, match="overflows double precision at position 0"):
        ch.reliable_change([-1e308, 1.0, 2.0], [1e308, 2.0, 3.0], reliability=0.8)


@given(st.floats(min_value=-200, max_value=200))
def test_reliable_change_is_scale_equivariant(log_scale):
    scale = 10.0 ** log_scale
    base = ch.reliable_change(PRE, POST, reliability=0.8)
    r = ch.reliable_change(PRE * scale, POST * scale, reliability=0.8)
    np.testing.assert_allclose(r.rc, base.rc, rtol=1e-12, atol=1e-12)
    assert list(r.direction) == list(base.direction)
    assert r.s_diff / scale == pytest.approx(base.s_diff, rel=1e-12)


# ------------------------------------------------------------------ reliable_change_threshold
@pytest.mark.parametrize("args, kw, match", [
    ((-1, 0.8), {}, "`sd` must be positive"),
    ((0, 0.8), {}, "`sd` must be positive"),
    (("5", 0.8), {}, "`sd` must be numeric"),
    ((None, 0.8), {}, "`sd` is required"),
    ((5, 0.0), {}, "`reliability` must lie strictly between"),
    ((5, -0.1), {}, "`reliability` must lie strictly between"),
    ((5, 1.5), {}, "`reliability` must lie strictly between"),
    ((np.inf, 0.8), {}, "`sd` has missing or infinite values"),
    ((5, 0.8), {"critical": 0}, "`critical` must be positive"),
])
def test_reliable_change_threshold_bad_input(args, kw, match):
    with pytest.raises(ValueError, match=match):
        ch.reliable_change_threshold(*args, **kw)


@pytest.mark.parametrize("scale", [1e-300, 1e-100, 1e100, 1e300])
def test_reliable_change_threshold_is_scale_equivariant(scale):
    base = ch.reliable_change_threshold(6.0, 0.84)
    assert ch.reliable_change_threshold(6.0 * scale, 0.84).s_diff / scale == pytest.approx(base.s_diff, rel=1e-12)


# ------------------------------------------------------------------ clinical_cutoffs
@pytest.mark.parametrize("args, kw, match", [
    ((20, 0), {}, "`sd_clin` must be positive"),
    ((np.nan, 5), {}, "`m_clin` has missing or infinite values"),
    (("20", 5), {}, "`m_clin` must be numeric"),
    ((20, 5, 5, -3), {}, "`sd_func` must be positive"),
    ((20, 5, 5), {}, "Give both `m_func` and `sd_func`"),
    ((10, 5, 10, 5), {}, "`m_func` must lie on the better side of `m_clin`"),
    ((20, 5, 25, 5), {}, "`m_func` must lie on the better side"),
    ((20, 5, 5, 3), {"b_sd": "pooled"}, "`b_sd` must be one of 'functional', 'clinical'"),
    ((None, 5), {}, "`m_clin` and `sd_clin` are required"),
    (([20, 21], 5), {}, "`m_clin` must be a single number"),
])
def test_clinical_cutoffs_bad_input(args, kw, match):
    with pytest.raises(ValueError, match=match):
        ch.clinical_cutoffs(*args, **kw)


@pytest.mark.parametrize("scale", [1e-300, 1e-150, 1e150, 1e300])
def test_clinical_cutoffs_are_scale_equivariant(scale):
    base = ch.clinical_cutoffs(30.0, 8.0, 8.0, 6.0)
    r = ch.clinical_cutoffs(30.0 * scale, 8.0 * scale, 8.0 * scale, 6.0 * scale)
    for k in "abc":
        assert r[k] / scale == pytest.approx(base[k], rel=1e-12)


# ------------------------------------------------------------------ clinical_significance
NORMS = dict(m_clin=20.0, sd_clin=5.0, m_func=5.0, sd_func=4.0)


@pytest.mark.parametrize("kw, match", [
    ({}, "`reliability` is required"),
    ({"reliability": 2, **NORMS}, "`reliability` must lie strictly between"),
    ({"reliability": 0.8, **NORMS, "cutoff": "z"}, "`cutoff` must be one of"),
    ({"reliability": 0.8, "m_clin": 20.0, "sd_clin": 5.0}, r"`cutoff='c'` needs the functional norms"),
    ({"reliability": 0.8, **NORMS, "sd_clin": -5.0}, "`sd_clin` must be positive"),
    ({"reliability": 0.8, **NORMS, "critical": np.nan}, "`critical` has missing or infinite values"),
])
def test_clinical_significance_bad_options(kw, match):
    with pytest.raises(ValueError, match=match):
        ch.clinical_significance(PRE, POST, **kw)


def test_clinical_significance_bad_data():
    with pytest.raises(ValueError, match="`pre` and `post` must have the same length"):
        ch.clinical_significance(PRE, POST[:2], reliability=0.8, **NORMS)
    with pytest.raises(ValueError, match="`post` must be numeric"):
        ch.clinical_significance(PRE, ["x"] * 6, reliability=0.8, **NORMS)
    with pytest.raises(ValueError, match=r"`instrument`: no published norms for 'PHQ-99'"):
        ch.clinical_significance(PRE, POST, instrument="PHQ-99")


# ------------------------------------------------------------------ norms
@pytest.mark.parametrize("bad, match", [
    ("PHQ-99", r"no published norms for 'PHQ-99'.*available: PHQ-9"),
    (None, "`instrument` must be a string; got NoneType"),
    (9, "`instrument` must be a string; got int"),
    ({"PHQ-9": 1}, "`instrument` must be a string; got dict"),
])
def test_norms_bad_instrument(bad, match):
    with pytest.raises(ValueError, match=match):
        ch.norms(bad)


# ------------------------------------------------------------------ check_long
def test_check_long_bad_tables(sessions):
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame in long format, got NoneType"):
        ch.check_long(None, "patient", "session", ["symptom"])
    with pytest.raises(ValueError, match="`data` has no rows"):
        ch.check_long(sessions.iloc[:0], "patient", "session", ["symptom"])
    with pytest.raises(ValueError, match=r"has no column 'sesion'; Did you mean 'session'\?"):
        ch.check_long(sessions, "patient", "sesion", ["symptom"])
    with pytest.raises(ValueError, match="must differ"):
        ch.check_long(sessions, "patient", "session", ["session"])
    with pytest.raises(ValueError, match="Column names must be strings"):
        ch.check_long(sessions, "patient", None, ["symptom"])


def test_check_long_names_index_labels(sessions):
    d = sessions.set_index(sessions.index + 100)
    d.loc[103, "session"] = np.nan
    with pytest.raises(ValueError, match=r"missing session numbers at rows 3 \(index labels 103\)"):
        ch.check_long(d, "patient", "session", ["symptom"])
    d = sessions.set_index(sessions.index + 100).astype({"symptom": object})
    d.loc[[105, 106], "symptom"] = "n/a"
    with pytest.raises(ValueError, match=r"'symptom' must be numeric; rows 5, 6 \(index labels 105, 106\)"):
        ch.check_long(d, "patient", "session", ["symptom"])
    d = sessions.set_index(sessions.index + 100)
    d.loc[107, "symptom"] = -np.inf
    with pytest.raises(ValueError, match=r"infinite values at rows 7 \(index labels 107\)"):
        ch.check_long(d, "patient", "session", ["symptom"])


# ------------------------------------------------------------------ sudden gains and losses
@pytest.mark.parametrize("kw, match", [
    ({"min_gain": -1}, "`min_gain` must be positive"),
    ({"min_relative": 2}, r"`min_relative` must be one number in \[0, 1\)"),
    ({"alpha": 1.5}, "`alpha` must lie strictly between"),
    ({"criterion3": "anova"}, "`criterion3` must be one of"),
    ({"reversal_share": 1.5}, r"`reversal_share` must lie in \(0, 1\]"),
    ({"reversal_share": np.nan}, r"`reversal_share` must lie in \(0, 1\]"),
    ({"critical_values": {1: 2.0}}, "`critical_values` must give values for df 2, 3 and 4"),
    ({"score": "symptoms"}, r"no column 'symptoms'; Did you mean 'symptom'\?"),
])
def test_sudden_gains_bad_options(sessions, kw, match):
    with pytest.raises(ValueError, match=match):
        ch.sudden_gains(sessions, **kw)


def test_sudden_gains_bad_tables(sessions):
    with pytest.raises(ValueError, match="`data` has no rows"):
        ch.sudden_gains(sessions.iloc[:0])
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame"):
        ch.sudden_gains(sessions.to_dict())
    shuffled = sessions.iloc[[1, 0, *range(2, len(sessions))]]
    with pytest.raises(ValueError, match="increasing order"):
        ch.sudden_gains(shuffled)


def test_sudden_losses_bad_input(sessions):
    with pytest.raises(ValueError, match=r"unknown argument\(s\) \['min_gian'\]\. Did you mean 'min_gain'\?"):
        ch.sudden_losses(sessions, min_gian=7)
    with pytest.raises(ValueError, match="`direction` is fixed to 'loss'"):
        ch.sudden_losses(sessions, direction="gain")
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame"):
        ch.sudden_losses(None)


# ------------------------------------------------------------------ ruptures
@pytest.mark.parametrize("kw, match", [
    ({"k": -1}, "`k` must be positive"),
    ({"k": [1, 2]}, "`k` must be a single number"),
    ({"k": np.nan}, "`k` has missing or infinite values"),
    ({"m": 0}, "`m` must be a whole number >= 1"),
    ({"m": 1.5}, "`m` must be a whole number >= 1"),
    ({"min_sessions": 2}, "`min_sessions` must be a whole number >= 3"),
    ({"repair_to": "baseline"}, "`repair_to` must be one of 'mean', 'pre'"),
    ({"alliance": "aliance"}, r"no column 'aliance'; Did you mean 'alliance'\?"),
])
def test_rupture_episodes_bad_options(sessions, kw, match):
    with pytest.raises(ValueError, match=match):
        ch.rupture_episodes(sessions, **kw)


def test_rupture_episodes_empty(sessions):
    with pytest.raises(ValueError, match="`data` has no rows"):
        ch.rupture_episodes(sessions.iloc[:0])


@pytest.mark.parametrize("scale", [1e-200, 1e-100, 1e100, 1e200])
def test_rupture_episodes_are_scale_equivariant(sessions, scale):
    base = ch.rupture_episodes(sessions)
    r = ch.rupture_episodes(sessions.assign(alliance=sessions["alliance"] * scale))
    assert len(base.episodes) > 0
    pd.testing.assert_frame_equal(r.episodes[["patient", "onset", "end", "repaired"]],
                                  base.episodes[["patient", "onset", "end", "repaired"]])
    np.testing.assert_allclose(r.episodes["depth_sd"], base.episodes["depth_sd"], rtol=1e-12)
    assert list(r.patients["status"]) == list(base.patients["status"])


def test_rupture_outcome_bad_input(sessions, outcome):
    eps = ch.rupture_episodes(sessions)
    with pytest.raises(ValueError, match="`episodes` must be the result of rupture_episodes"):
        ch.rupture_outcome("episodes", outcome)
    with pytest.raises(ValueError, match="`outcome` must be a DataFrame"):
        ch.rupture_outcome(eps, outcome.to_dict())
    with pytest.raises(ValueError, match=r"no column 'chnge'\.? ?Did you mean 'change'\?"):
        ch.rupture_outcome(eps, outcome, outcome_col="chnge")
    with pytest.raises(ValueError, match="must name different columns"):
        ch.rupture_outcome(eps, outcome, covariates=["change"])
    dup = pd.concat([outcome, outcome.iloc[[2]]]).set_axis(range(50, 50 + len(outcome) + 1))
    with pytest.raises(ValueError, match=r"duplicated patients at rows 12 \(index labels 62\)"):
        ch.rupture_outcome(eps, dup)
    bad = outcome.astype({"pre": object})
    bad.loc[4, "pre"] = "high"
    with pytest.raises(ValueError, match=r"'pre' must be numeric; rows 4 \(index labels 4\)"):
        ch.rupture_outcome(eps, bad, covariates=["pre"])
    with pytest.raises(ValueError, match=r"'change' has infinite values at rows 1 \(index labels 1\)"):
        ch.rupture_outcome(eps, outcome.assign(change=outcome["change"].where(outcome.index != 1, np.inf)))
    with pytest.raises(ValueError, match="'change' has zero variance"):
        ch.rupture_outcome(eps, outcome.assign(change=3.0))


@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_rupture_outcome_is_scale_equivariant(sessions, outcome, scale):
    eps = ch.rupture_episodes(sessions)
    base = ch.rupture_outcome(eps, outcome, covariates="pre")
    r = ch.rupture_outcome(eps, outcome.assign(change=outcome["change"] * scale), covariates="pre")
    np.testing.assert_allclose(r.table["estimate"] / scale, base.table["estimate"], rtol=1e-9)
    np.testing.assert_allclose(r.table["statistic"], base.table["statistic"], rtol=1e-9)
    np.testing.assert_allclose(r.groups["mean"] / scale, base.groups["mean"], rtol=1e-9)
