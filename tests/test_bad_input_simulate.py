"""Bad input to analysis.simulate: a ValueError naming the argument, never a numpy error or NaN data.

Numbers without a natural bound are refused beyond 1e6 in absolute value with a message
that mentions the scale (the simulator works on the PHQ-9 0-27 and WAI-SR 1-5 metrics, and
the arithmetic overflowed at 1e300); within that range the frames hold no NaN where the
design says there is data (checked with hypothesis).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import simulate

TINY = {"n_therapists": 3, "caseload": 2, "n_sessions": 4}


# --------------------------------------------------------------------------- simulate_trial
@pytest.mark.parametrize("kwargs, match", [
    # counts
    (dict(n_therapists=1), "`n_therapists` must be >= 2"),
    (dict(n_therapists=2.5), "`n_therapists` must be a whole number"),
    (dict(n_therapists=None), "`n_therapists` must be a whole number"),
    (dict(n_therapists=True), "`n_therapists` must be a whole number"),
    (dict(n_sessions=3), "`n_sessions` must be >= 4"),
    (dict(early_sessions=0), "`early_sessions` must be >= 1"),
    (dict(early_sessions=5), r"`early_sessions` must be <= n_sessions \(4\)"),
    (dict(n_therapists=10**9), "rows; at most 50,000,000 are simulated"),
    (dict(n_sessions=10**9), "rows; at most 50,000,000 are simulated"),
    # caseload: numbers and sequences
    (dict(caseload=0), "`caseload` must be >= 1.0"),
    (dict(caseload=2.5), "`caseload` must be a whole number when caseload_dist='fixed'"),
    (dict(caseload=None), "`caseload` must be a number or a sequence"),
    (dict(caseload="8"), "`caseload` must be a number or a sequence"),
    (dict(caseload={"a": 1}), "`caseload` must be a number or a sequence"),
    (dict(caseload=[]), r"one entry per therapist \(3\); got 0"),
    (dict(caseload=[2, 2]), r"one entry per therapist \(3\); got 2"),
    (dict(caseload=[2, np.nan, 2]), "`caseload` has missing or infinite values at position 1"),
    (dict(caseload=[2, 1.5, 2]), "`caseload` must hold whole numbers; position 1"),
    (dict(caseload=[2, 0, 2]), "`caseload` must be >= 1 for every therapist; position 1"),
    (dict(caseload=["a", "b", "c"]), "`caseload` must be numeric"),
    (dict(caseload=1e300), "`caseload` = 1e\\+300 is outside the scale"),
    (dict(caseload=4, caseload_dist="negbin", caseload_dispersion=1e-300),
     "`caseload_dispersion` = 1e-300 is too small"),
    (dict(caseload_dispersion=0), "`caseload_dispersion` must be > 0.0"),
    (dict(caseload_dist="uniform"), "`caseload_dist` must be one of"),
    (dict(caseload_dist=None), "`caseload_dist` must be one of"),
    # probabilities and reliabilities
    (dict(allocation=0.0), "`allocation` must be > 0.0"),
    (dict(allocation=1.0), "`allocation` must be < 1.0"),
    (dict(allocation=np.nan), "`allocation` must be finite"),
    (dict(therapist_icc=-0.01), "`therapist_icc` must be >= 0.0"),
    (dict(therapist_icc=1.0), "`therapist_icc` must be < 1.0"),
    (dict(alliance_icc=1.0), "`alliance_icc` must be < 1.0"),
    (dict(alliance_icc=0.9), r"`alliance_icc` \(0.9\) must be below `alliance_reliability`"),
    (dict(alliance_reliability=0.0), "`alliance_reliability` must be > 0.0"),
    (dict(alliance_reliability=1.01), "`alliance_reliability` must be <= 1.0"),
    (dict(symptom_reliability=0.0), "`symptom_reliability` must be > 0.0"),
    (dict(symptom_reliability=1.5), "`symptom_reliability` must be <= 1.0"),
    (dict(alliance_trait_share=-0.1), "`alliance_trait_share` must be >= 0.0"),
    (dict(alliance_state_autocorr=1.0), "`alliance_state_autocorr` must be < 1.0"),
    (dict(alliance_state_autocorr=-1.0), "`alliance_state_autocorr` must be > -1.0"),
    (dict(rupture_rate=1.5), "`rupture_rate` must be <= 1.0"),
    (dict(repair_prob=-0.1), "`repair_prob` must be >= 0.0"),
    (dict(sudden_gain_prob=2.0), "`sudden_gain_prob` must be <= 1.0"),
    (dict(sudden_gain_share=-1), "`sudden_gain_share` must be >= 0.0"),
    (dict(dropout_rate=1.0), "`dropout_rate` must be < 1.0"),
    (dict(dropout_rate=-0.1), "`dropout_rate` must be >= 0.0"),
    (dict(dropout="random"), "`dropout` must be one of"),
    # targets and coefficients
    (dict(alliance_outcome_r=1.0), "`alliance_outcome_r` must be < 1.0"),
    (dict(alliance_outcome_r=0.99), "`alliance_outcome_r` = 0.99 cannot be reached"),
    (dict(alliance_outcome_r=None), "`alliance_outcome_r` is required"),
    (dict(alliance_within=1.0), "must be given together"),
    (dict(alliance_within=np.nan, alliance_between=1.0), "`alliance_within` must be finite"),
    (dict(alliance_within=1.0, alliance_between=1.0, alliance_outcome_r=0.3), "not both"),
    (dict(change_sd=0), "`change_sd` must be > 0.0"),
    (dict(change_sd=1e-300), "`alliance_outcome_r` = 0.28 cannot be reached"),
    (dict(intake_mean=40), "`intake_mean` must be <= 27"),
    (dict(alliance_mean=0.5), "`alliance_mean` must be >= 1.0"),
    (dict(treatment_d="big"), "`treatment_d` must be a number"),
    (dict(treatment_d=None), "`treatment_d` must be a number"),
    (dict(treatment_d=np.inf), "`treatment_d` must be finite"),
    # extreme magnitudes: refused with the scale named (they overflowed before)
    (dict(treatment_d=1e308), "`treatment_d` = 1e\\+308 is outside the scale the simulator works on"),
    (dict(change_sd=1e300), "`change_sd` = 1e\\+300 is outside the scale"),
    (dict(intake_sd=1e300), "`intake_sd` = 1e\\+300 is outside the scale"),
    (dict(alliance_sd=1e300), "`alliance_sd` = 1e\\+300 is outside the scale"),
    (dict(rupture_depth=1e300), "`rupture_depth` = 1e\\+300 is outside the scale"),
    (dict(reverse_causation=-1e300), "`reverse_causation` = -1e\\+300 is outside the scale"),
    (dict(dropout_strength=1e300, dropout_rate=0.3, dropout="MAR"), "`dropout_strength` = 1e\\+300 is outside"),
    (dict(mean_change=1e7), "`mean_change` = 10000000.0 is outside the scale"),
    # seed
    (dict(seed=-1), "`seed` must be >= 0"),
    (dict(seed=1.5), "`seed` must be an int, a numpy SeedSequence or Generator, or None"),
    (dict(seed="abc"), "`seed` must be an int"),
])
def test_simulate_trial_refuses(kwargs, match):
    with pytest.raises(ValueError, match=match):
        simulate.simulate_trial(**{**TINY, **kwargs})


@pytest.mark.parametrize("kwargs", [
    dict(dropout_rate=1e-300),                                        # a bracket far beyond -60
    dict(dropout_rate=0.3, dropout="MNAR", dropout_strength=1e5),    # a very strong mechanism
    dict(dropout_rate=0.999, dropout="MAR", dropout_strength=-50.0),
])
def test_extreme_but_valid_dropout_settings_are_simulated(kwargs):
    # these raised scipy's "f(a) and f(b) must have different signs" before
    trial = simulate.simulate_trial(**{**TINY, **kwargs})
    pts = trial.patients
    assert pts["pre"].notna().all()
    assert (pts["post"].isna() == ~pts["completed"]).all()


@settings(max_examples=25)
@given(
    d=st.floats(-1e6, 1e6), change_sd=st.floats(1.0, 1e6), intake_sd=st.floats(1e-6, 1e6),
    alliance_sd=st.floats(1e-6, 1e6), growth=st.floats(-1e6, 1e6), kappa=st.floats(-1e6, 1e6),
)
def test_values_up_to_the_scale_limit_give_data_without_nan(d, change_sd, intake_sd, alliance_sd, growth, kappa):
    try:
        trial = simulate.simulate_trial(**TINY, treatment_d=d, change_sd=change_sd, intake_sd=intake_sd,
                                        alliance_sd=alliance_sd, alliance_growth=growth, reverse_causation=kappa)
    except ValueError as exc:  # infeasible calibration targets are refused by name
        assert "`alliance_outcome_r`" in str(exc) or "`therapist_icc`" in str(exc) or "`change_sd`" in str(exc)
        return
    pts = trial.patients
    assert pts[["pre", "post", "change", "alliance_mean"]].notna().all().all()
    assert pts["pre"].between(0, 27).all() and pts["alliance_mean"].between(1, 5).all()


def test_negbin_caseloads_that_would_explode_are_refused():
    # the expected size (1000 x 9000 patients x 5 sessions = 4.5e7 rows) is allowed; with seed 0
    # the very unequal caseloads (dispersion .01) draw 12.1 million patients, refused before any
    # large array is made
    with pytest.raises(ValueError, match="drawn caseloads total 12108870 patients.*`caseload_dispersion` = 0.01"):
        simulate.simulate_trial(n_therapists=1000, caseload=9000, caseload_dist="negbin", caseload_dispersion=0.01,
                                n_sessions=4, seed=0)


# --------------------------------------------------------------------------- implied_population
@pytest.mark.parametrize("p, match", [
    (None, "`p` must be a dict of simulate_trial's arguments; got NoneType"),
    ([("n_sessions", 4)], "`p` must be a dict"),
    ({"n_session": 4}, "`p` has the key 'n_session', which is not an argument of simulate_trial. "
                       "Did you mean 'n_sessions'?"),
    ({"therapist_ICC": 0.1}, "Did you mean 'therapist_icc'?"),
    ({"n_sessions": 0}, "`n_sessions` must be >= 4"),
    ({"alliance_sd": "x"}, "`alliance_sd` must be a number"),
    ({"therapist_icc": 2.0}, "`therapist_icc` must be < 1.0"),
    ({"alliance_reliability": 1.5}, "`alliance_reliability` must be <= 1.0"),
    ({"change_sd": -1}, "`change_sd` must be > 0.0"),
    ({"change_sd": np.nan}, "`change_sd` must be finite"),
    ({"alliance_outcome_r": np.nan}, "`alliance_outcome_r` must be finite"),
    ({"alliance_outcome_r": 0.95}, "`alliance_outcome_r` = 0.95 cannot be reached"),
    ({"alliance_within": 0.0, "alliance_between": 30.0, "alliance_outcome_r": None}, "`therapist_icc` = 0.05 is too small"),
    ({"alliance_within": 30.0, "alliance_between": 0.0, "alliance_outcome_r": None}, "`change_sd` is too small"),
    ({"intake_sd": 1e300}, "`intake_sd` = 1e\\+300 is outside the scale"),
])
def test_implied_population_refuses(p, match):
    with pytest.raises(ValueError, match=match):
        simulate.implied_population(p)


def test_implied_population_accepts_a_trials_params_and_partial_dicts():
    trial = simulate.simulate_trial(**TINY, seed=np.random.default_rng(3))
    assert trial.params["seed"] == "Generator"  # the seed record is ignored
    assert simulate.implied_population(trial.params)["tau"] == trial.truth["tau"]
    # keys left out take simulate_trial's defaults
    assert simulate.implied_population({}) == simulate.implied_population(simulate.simulate_trial(seed=0).params)


def test_parameter_names_follow_the_signature():
    # _checked_params unpacks the arguments by this list
    assert tuple(simulate._DEFAULTS) == simulate._PARAM_NAMES


# --------------------------------------------------------------------------- simulate_wai_sr_items
@pytest.mark.parametrize("kwargs, match", [
    (dict(n=0), "`n` must be >= 1"),
    (dict(n=-1), "`n` must be >= 1"),
    (dict(n=2.5), "`n` must be a whole number"),
    (dict(n=None), "`n` must be a whole number"),
    (dict(n=10**12), "`n` = 1000000000000 respondents is too many"),
    (dict(loadings=[0.5] * 11), "`loadings` must be 12 numbers strictly between 0 and 1"),
    (dict(loadings=[0.5] * 11 + [np.nan]), "`loadings` must be 12 numbers"),
    (dict(loadings=[0.5] * 11 + [1.0]), "`loadings` must be 12 numbers strictly between 0 and 1"),
    (dict(loadings=[0.5] * 11 + [0.0]), "`loadings` must be 12 numbers strictly between 0 and 1"),
    (dict(loadings=["a"] * 12), "`loadings` must be numbers"),
    (dict(loadings={"wai1": 0.7}), "`loadings` must be numbers"),
    (dict(loadings=[[0.5] * 12]), "`loadings` must be 12 numbers"),
    (dict(factor_corr=np.eye(2)), "`factor_corr` must be a 3x3 symmetric positive-definite"),
    (dict(factor_corr=[[1, 0.9, 0.9], [0.9, 1, -0.9], [0.9, -0.9, 1]]), "`factor_corr` must be a 3x3 symmetric"),
    (dict(factor_corr=[[1, 0.5, 0], [0.4, 1, 0], [0, 0, 1]]), "`factor_corr` must be a 3x3 symmetric"),
    (dict(factor_corr=[[2, 0, 0], [0, 2, 0], [0, 0, 2]]), "`factor_corr` must be a 3x3 symmetric"),
    (dict(factor_corr=[["a"] * 3] * 3), "`factor_corr` must be numbers"),
    (dict(factor_corr=[[1, 0], [0, 1, 0], [0, 0, 1]]), "`factor_corr` must be numbers"),
    (dict(thresholds=[1, 0, 2, 3]), "`thresholds` must be 4 strictly increasing finite numbers"),
    (dict(thresholds=[1, 2, 3]), "`thresholds` must be 4 strictly increasing"),
    (dict(thresholds=[-np.inf, 1, 2, 3]), "`thresholds` must be 4 strictly increasing finite numbers"),
    (dict(thresholds="abcd"), "`thresholds` must be numbers"),
    (dict(seed=-1), "`seed` must be >= 0"),
    (dict(seed="x"), "`seed` must be an int"),
])
def test_simulate_wai_sr_items_refuses(kwargs, match):
    with pytest.raises(ValueError, match=match):
        simulate.simulate_wai_sr_items(**{"n": 5, **kwargs})
