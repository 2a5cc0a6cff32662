"""Monte Carlo power (analysis.power): reproducible on every backend, right where the truth is known.

Monte Carlo tolerances. A rejection rate over R independent replicates is a binomial
proportion with standard error sqrt(p(1 - p)/R) at the true rate p. Each check below
compares a simulated rate with a rate known in advance (alpha, or an exact analytic
power) and allows 3 standard errors computed at that known rate: a false alarm has
probability 0.27% (normal approximation), and the seeds are fixed, so the suite is
deterministic.
"""

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.power import NormalIndPower, TTestIndPower

from analysis.power import (
    ANALYSES,
    design_effect,
    mc_se,
    naive_rejection_rate,
    power_correlation,
    power_two_arm,
    simulate_power,
)
from analysis.simulate import simulate_trial

SMALL = {"n_therapists": 12, "caseload": 4, "n_sessions": 6}


# --------------------------------------------------------------------------- analytic formulas
def test_power_two_arm_matches_statsmodels():
    # Independent implementations: statsmodels' TTestIndPower (noncentral t) and NormalIndPower.
    t_sm = TTestIndPower().power(effect_size=0.5, nobs1=64, alpha=0.05, ratio=1.0)
    assert power_two_arm(0.5, 128, df=126) == pytest.approx(t_sm, abs=1e-10)
    assert abs(t_sm - 0.80) < 0.005  # Cohen (1988, table 2.4.1): n = 64 per group for d = .5, power .80
    n_sm = NormalIndPower().power(effect_size=0.5, nobs1=64, alpha=0.05, ratio=1.0)
    assert power_two_arm(0.5, 128) == pytest.approx(n_sm, abs=1e-10)
    unequal = TTestIndPower().power(effect_size=0.3, nobs1=50, ratio=2.0, alpha=0.05)
    assert power_two_arm(0.3, 150, allocation=1 / 3, df=148) == pytest.approx(unequal, abs=1e-10)


def test_design_effect_shrinks_the_sample():
    assert design_effect(5, 0.1) == pytest.approx(1.4)
    np.testing.assert_allclose(design_effect([1, 10], 0.2), [1.0, 2.8])
    # N patients with DE behave as N / DE independent ones
    assert power_two_arm(0.4, 200, design_effect=2.0) == pytest.approx(power_two_arm(0.4, 100))
    # the naive test under the null: 2 Phi(-z / sqrt(DE)); alpha when DE = 1
    assert naive_rejection_rate(0.0, 100, 1.0) == pytest.approx(0.05)
    de = design_effect(10, 0.1)
    assert naive_rejection_rate(0.0, 100, de) == pytest.approx(2 * stats.norm.sf(1.959963984540054 / math.sqrt(de)))
    assert power_correlation(0.0, 100) == pytest.approx(0.05)
    assert mc_se(0.05, 1900) == pytest.approx(0.005)
    # arrays in any argument give arrays (here one allocation per element)
    alloc = np.array([0.25, 0.5])
    np.testing.assert_allclose(power_two_arm(0.4, 200, allocation=alloc, df=198),
                               [power_two_arm(0.4, 200, allocation=a, df=198) for a in alloc])
    assert naive_rejection_rate(0.0, 100, 2.0, allocation=alloc).shape == (2,)


@pytest.mark.parametrize("call, name", [
    (lambda: design_effect(0.5, 0.1), "caseload"),
    (lambda: design_effect(5, 1.0), "icc"),
    (lambda: power_two_arm(0.5, 100, alpha=1.5), "alpha"),
    (lambda: power_two_arm(0.5, -10), "n_total"),
    (lambda: power_two_arm(0.5, 100, allocation=0.0), "allocation"),
    (lambda: power_two_arm(0.5, 100, design_effect=0), "design_effect"),
    (lambda: naive_rejection_rate(float("nan"), 100, 2.0), "effect_size"),
    (lambda: power_correlation(1.2, 100), "r"),
    (lambda: power_correlation(0.2, 3), "n"),
    (lambda: mc_se(1.5, 10), "p"),
])
def test_analytic_bad_input(call, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        call()


# --------------------------------------------------------------------------- reproducibility
def test_identical_on_one_core_processes_and_dask():
    from dask.distributed import Client, LocalCluster

    kw = dict(design={**SMALL, "arms": "nested", "treatment_d": 0.5},
              analysis=["treatment_multilevel", "treatment_ols", "alliance_between"],
              n_replicates=10, seed=20240609, grid={"therapist_icc": [0.05, 0.2]}, progress=False)
    serial = simulate_power(**kw, n_jobs=1)
    procs = simulate_power(**kw, n_jobs=2)
    rechunked = simulate_power(**kw, n_jobs=1, chunk_size=3)
    with LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            on_dask = simulate_power(**kw, client=client)
        by_address = simulate_power(**kw, client=cluster.scheduler_address)
    assert serial.backend == "serial, batched fits" and procs.backend.startswith("processes")
    assert on_dask.backend.startswith("dask")
    for other in (procs, rechunked, on_dask, by_address):
        pd.testing.assert_frame_equal(serial.replicates, other.replicates, check_exact=True)
        pd.testing.assert_frame_equal(serial.table, other.table, check_exact=True)
    # the draws really differ between replicates and the effect is found
    # (per analysis: at a boundary fit, theta = 0, the multilevel estimate is the OLS one)
    for _, g in serial.replicates.groupby("analysis"):
        assert g["estimate"].nunique() == len(g)
    assert (serial.replicates["error"] == "").all()


def test_seed_sequence_and_fresh_entropy():
    a = simulate_power(SMALL, "treatment_ols", 4, np.random.SeedSequence(7), progress=False)
    b = simulate_power(SMALL, "treatment_ols", 4, 7, progress=False)
    pd.testing.assert_frame_equal(a.replicates, b.replicates, check_exact=True)
    fresh = simulate_power(SMALL, "treatment_ols", 4, None, progress=False)
    again = simulate_power(SMALL, "treatment_ols", 4, fresh.seed["entropy"], progress=False)
    pd.testing.assert_frame_equal(fresh.replicates, again.replicates, check_exact=True)
    # common random numbers: replicate r uses the same draws in every cell, and adding
    # replicates leaves the first ones unchanged
    more = simulate_power(SMALL, "treatment_ols", 6, 7, progress=False)
    pd.testing.assert_frame_equal(more.replicates.iloc[:4], b.replicates, check_exact=True)


# --------------------------------------------------------------------------- against known rates
@pytest.fixture(scope="module")
def null_nested():
    # therapists nested in arms, no treatment effect, ICC > 0 (Wampold & Serlin 2000's setting)
    return simulate_power({"n_therapists": 30, "caseload": 4, "n_sessions": 6, "arms": "nested",
                           "treatment_d": 0.0},
                          ["treatment_multilevel", "treatment_ols"], n_replicates=300, seed=2000,
                          grid={"therapist_icc": [0.05, 0.2]}, progress=False)


def test_type1_error_of_the_multilevel_model_is_alpha(null_nested):
    t = null_nested.table
    ml = t[t["analysis"] == "treatment_multilevel"]
    assert ml["null"].all() and (ml["measure"] == "type I error").all()
    assert (ml["n_failed"] == 0).all() and (ml["n_replicates"] == 300).all()
    tol = 3 * math.sqrt(0.05 * 0.95 / 300)  # 0.038
    for rate in ml["rate"]:
        assert abs(rate - 0.05) < tol, (rate, tol)


def test_ignoring_therapists_inflates_type1_error(null_nested):
    t = null_nested.table
    naive = t[t["analysis"] == "treatment_ols"].set_index("therapist_icc")
    # agreement with 2 Phi(-z / sqrt(DE)), DE = 1 + (m - 1) ICC, within 3 MC SEs at the analytic rate
    for icc, row in naive.iterrows():
        tol = 3 * math.sqrt(row["analytic"] * (1 - row["analytic"]) / row["n_replicates"])
        assert abs(row["rate"] - row["analytic"]) < tol, (icc, row["rate"], row["analytic"])
    # at ICC = .2 (DE = 1.6; analytic rate .12) the inflation is clear of alpha by more than 3 MC SEs
    assert naive.loc[0.2, "rate"] > 0.05 + 3 * math.sqrt(0.05 * 0.95 / 300)
    assert naive.loc[0.2, "rate"] > naive.loc[0.05, "rate"]


def test_simulated_power_matches_exact_power_without_clustering():
    """ICC = 0, patients randomised: the ANCOVA t test of arm has an exact power.

    Derivation. With therapist ICC 0 and alliance ICC 0 every patient is independent;
    within an arm post = y0 - D + m_T + e_T and pre = y0 + m0 + e0 (e = rounding error,
    variance 1/12 by Sheppard's correction; intake and change SDs of 2 keep clipping
    at 0 and 27 more than 4 SDs away). The residual variance of post given pre is
    s2 = Var(post) - s0^4 / Var(pre), the effect tau = d SD(post) (the simulator's
    calibration), and given n1 patients in arm 1 the t statistic (N - 3 df) is
    noncentral t with ncp = (tau / sqrt(s2)) sqrt(n1 n0 / N) (up to the factor
    1 + O(1/N) of chance covariate imbalance). The allocation is Bernoulli(1/2) per
    patient, so the power is the Binomial(N, 1/2) average over n1.
    """
    design = dict(n_therapists=40, caseload=4, n_sessions=6, therapist_icc=0.0, alliance_icc=0.0,
                  intake_sd=2.0, change_sd=2.0, mean_change=3.0, treatment_d=0.3)
    R = 400
    res = simulate_power(design, ["treatment_ols", "treatment_multilevel"], R, seed=1988, progress=False)
    truth, p = simulate_trial(**design, seed=0).truth, simulate_trial(**design, seed=0).params
    s0, vm, vd = p["intake_sd"], truth["symptom_error_sd"] ** 2, p["change_sd"] ** 2
    s2 = s0**2 + vd + vm + 1 / 12 - s0**4 / (s0**2 + vm + 1 / 12)
    N = 160
    n1 = np.arange(1, N)
    w = stats.binom.pmf(n1, N, 0.5)
    ncp = truth["tau"] / math.sqrt(s2) * np.sqrt(n1 * (N - n1) / N)
    c = stats.t.ppf(0.975, N - 3)
    exact = float(np.sum(w * (stats.nct.sf(c, N - 3, ncp) + stats.nct.cdf(-c, N - 3, ncp))) / w.sum())
    assert 0.5 < exact < 0.8
    ols = res.table.set_index("analysis").loc["treatment_ols"]
    tol = 3 * math.sqrt(exact * (1 - exact) / R)  # 0.071
    assert abs(ols["rate"] - exact) < tol, (ols["rate"], exact)
    # the table's normal approximation (no rounding correction) is close too
    assert abs(ols["analytic"] - exact) < 0.03
    # the reported MC SE is sqrt(p (1 - p) / R)
    assert ols["mc_se"] == pytest.approx(math.sqrt(ols["rate"] * (1 - ols["rate"]) / R))
    assert not ols["null"] and ols["measure"] == "power"
    # the multilevel model on the same trials (its therapist variance is mostly estimated at 0)
    ml = res.table.set_index("analysis").loc["treatment_multilevel"]
    assert abs(ml["rate"] - exact) < tol
    assert ml["singular_rate"] > 0.3


# --------------------------------------------------------------------------- results object
def test_results_object_and_questions():
    res = simulate_power({**SMALL, "alliance_within": 0.0}, list(ANALYSES), n_replicates=6, seed=3,
                         grid={"alliance_between": [0.0, 3.0]}, progress=False)
    t = res.table
    assert len(t) == 2 * len(ANALYSES)
    assert set(t["question"]) == {"a", "b", "c"}
    nulls = t[t["alliance_between"] == 0.0].set_index("analysis")["null"]
    assert nulls["alliance_between"] and nulls["alliance_within"] and nulls["alliance_multilevel"]
    assert not t[t["alliance_between"] == 3.0].set_index("analysis")["null"]["alliance_between"]
    assert t.set_index("analysis").loc["alliance_within", "null"].all()  # within stays 0 in both cells
    reps = res.replicates
    assert len(reps) == 2 * 6 * len(ANALYSES)
    assert list(reps.columns[:3]) == ["cell", "alliance_between", "analysis"]
    assert reps["reject"].dtype == "boolean"
    assert (reps["patients_analysed"] == 48).all() and (reps["therapists_analysed"] == 12).all()
    np.testing.assert_array_equal(reps["reject"].to_numpy(dtype=bool), (reps["pvalue"] < 0.05).to_numpy())
    text = res.summary()
    assert "alliance_between" in text and "seed entropy 3" in text
    pdata = res.plot_data("alliance_between", analyses=["alliance_between"])
    assert list(pdata["alliance_between"]) == [0.0, 3.0]
    assert {"rate", "ci_low", "ci_high", "analytic"} <= set(pdata.columns)
    with pytest.raises(ValueError, match="`x`"):
        res.plot_data("caseload")
    with pytest.raises(ValueError, match="`analyses`"):
        res.plot_data("alliance_between", analyses=["nope"])


def test_grid_over_the_number_of_therapists():
    res = simulate_power({"caseload": 3, "n_sessions": 6, "arms": "nested"}, "treatment_multilevel", 3, seed=5,
                         grid={"n_therapists": [6, 10]}, progress=False)
    assert list(res.table["n_therapists"]) == [6, 10]
    reps = res.replicates
    np.testing.assert_array_equal(reps["therapists_analysed"], reps["n_therapists"])
    # between-within df of a therapist-level contrast: J - 2
    np.testing.assert_array_equal(reps["df"], reps["n_therapists"] - 2)


def test_failed_fits_are_recorded_not_hidden():
    # one patient per therapist: the alliance cannot vary within therapists
    with pytest.warns(UserWarning, match="fits failed"):
        res = simulate_power({"n_therapists": 10, "caseload": 1, "n_sessions": 6}, "alliance_between", 3,
                             seed=1, progress=False)
    row = res.table.iloc[0]
    assert row["n_failed"] == 3 and row["n_replicates"] == 0 and math.isnan(row["rate"])
    assert res.replicates["error"].str.contains("does not vary within therapists").all()
    assert res.replicates["reject"].isna().all()


# --------------------------------------------------------------------------- bad arguments
@pytest.mark.parametrize("kwargs, match", [
    (dict(analysis="anova"), "`analysis` 'anova' is unknown"),
    (dict(analysis=[]), "`analysis`"),
    (dict(analysis=["treatment_ols", "treatment_ols"]), "`analysis` lists a name twice"),
    (dict(design={"n_therapist": 10}), "`design` has unknown key 'n_therapist'"),
    (dict(design={"seed": 3}), "must not set 'seed'"),
    (dict(design=[("n_therapists", 10)]), "`design` must be a dict"),
    (dict(design={"n_therapists": 10}, grid={"n_therapists": [10, 20]}), "given in both `design` and `grid`"),
    (dict(grid={"therapist_icc": 0.1}), r"`grid\['therapist_icc'\]` must be a non-empty list"),
    (dict(grid={"caseloads": [2, 3]}), "`grid` has unknown key 'caseloads'"),
    (dict(grid={"therapist_icc": [0.05, 1.5]}), "design cell 1 .*`therapist_icc`"),
    (dict(design={"arms": "mixed"}), "`arms`"),
    (dict(design={"arms": "nested", "reverse_causation": 0.1}), "`arms`='nested' needs reverse_causation"),
    (dict(design={"arms": "nested", "dropout": "MAR", "dropout_rate": 0.2}), "MCAR"),
    (dict(n_replicates=0), "`n_replicates`"),
    (dict(n_replicates=2.5), "`n_replicates`"),
    (dict(seed=-1), "`seed`"),
    (dict(seed="abc"), "`seed`"),
    (dict(alpha=0.0), "`alpha`"),
    (dict(reference="kenward-roger"), "`reference`"),
    (dict(n_jobs=0), "`n_jobs`"),
    (dict(chunk_size=0), "`chunk_size`"),
    (dict(client=42), "`client`"),
])
def test_bad_arguments_are_named(kwargs, match):
    args = dict(design=SMALL, analysis="treatment_ols", n_replicates=2, seed=1, progress=False)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        simulate_power(**args)
