"""The batched Monte Carlo path of analysis.power gives the answers of the one-by-one path.

Tolerances. The simulated data are identical bit for bit (the batched simulator makes the
same draws with each replicate's own generator). The fits differ only in rounding: OLS
from the normal equations instead of statsmodels' pseudo-inverse, and the REML optimum of
theta reached by a vectorised golden-section search instead of Brent's method, both then
polished by Newton steps; so estimates agree to 1e-8 (absolute; PHQ-9 points), SEs to 1e-7,
p values to 1e-8, and rejection decisions, singular flags, degrees of freedom and counts
exactly. Results are identical (exactly) whatever the chunking, the number of processes or
the batch size, because every replicate's arithmetic is elementwise or a per-replicate
reduction of fixed length.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import power
from analysis.power import simulate_power

NESTED = {"n_therapists": 16, "caseload": 4, "n_sessions": 5, "arms": "nested", "treatment_d": 0.5,
          "therapist_icc": 0.2}
BOTH = ["treatment_multilevel", "treatment_ols"]


@pytest.mark.parametrize("sim, arms", [
    ({"n_therapists": 16, "caseload": 4, "n_sessions": 5, "treatment_d": 0.5, "therapist_icc": 0.2}, "nested"),
    ({"n_therapists": 12, "caseload": 3, "n_sessions": 6, "treatment_d": 0.3}, "crossed"),
    ({"n_therapists": 5, "caseload": [2, 3, 4, 5, 6], "n_sessions": 4, "alliance_icc": 0.0}, "nested"),
])
@pytest.mark.parametrize("block", [1, 3, 32])
def test_stacked_trials_are_bit_identical_to_simulate_trial(sim, arms, block):
    stack = power._trial_stack(sim, arms, 99, 5, 12, block=block)
    for k, r in enumerate(range(5, 12)):
        one = power._trial_data(sim, arms, 99, r)
        for col in ("pre", "post", "arm"):
            np.testing.assert_array_equal(stack[col][k], one[col].to_numpy(dtype=float), err_msg=f"{col} r={r}")


def _batched_and_one_by_one(kw):
    """Run `kw` batched and one by one; assert the replicate tables agree (estimates and p 1e-8,
    SEs 1e-7 absolute; counts, df, rejections and singular flags exactly); return both results."""
    fast = simulate_power(**kw)
    slow = simulate_power(**kw, batched=False)
    assert fast.backend == "serial, batched fits" and slow.backend == "serial"
    a, b = fast.replicates, slow.replicates
    assert (a["error"] == "").all() and (b["error"] == "").all()
    for col in ("cell", "analysis", "replicate", "patients_analysed", "therapists_analysed", "df", "error"):
        pd.testing.assert_series_equal(a[col], b[col], check_exact=True)
    np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(a["se"], b["se"], rtol=0, atol=1e-7)
    np.testing.assert_allclose(a["pvalue"], b["pvalue"], rtol=0, atol=1e-8)
    assert a["reject"].tolist() == b["reject"].tolist()
    assert a["singular"].tolist() == b["singular"].tolist()
    return fast, slow


@pytest.mark.parametrize("reference", ["t", "normal"])
@pytest.mark.parametrize("design", [
    NESTED,
    {"n_therapists": 12, "caseload": 3, "n_sessions": 5, "treatment_d": 0.4, "therapist_icc": 0.1},
    {"n_therapists": 6, "caseload": [2, 3, 5, 4, 6, 3], "n_sessions": 4, "arms": "nested", "treatment_d": 0.8},
])
def test_batched_fits_agree_with_one_by_one(design, reference):
    kw = dict(design=design, analysis=BOTH, n_replicates=30, seed=424242, reference=reference, progress=False)
    fast, slow = _batched_and_one_by_one(kw)
    pd.testing.assert_series_equal(fast.table["rate"], slow.table["rate"], check_exact=True)


def test_batched_results_do_not_depend_on_chunks_processes_or_batch_size():
    kw = dict(design=NESTED, analysis=BOTH, n_replicates=23, seed=7, progress=False)
    one = simulate_power(**kw)
    for other in (simulate_power(**kw, chunk_size=5), simulate_power(**kw, chunk_size=1),
                  simulate_power(**kw, n_jobs=2)):
        pd.testing.assert_frame_equal(one.replicates, other.replicates, check_exact=True)
        pd.testing.assert_frame_equal(one.table, other.table, check_exact=True)
    # adding replicates leaves the first ones unchanged (common random numbers)
    more = simulate_power(**{**kw, "n_replicates": 30})
    pd.testing.assert_frame_equal(more.replicates.iloc[: len(one.replicates)], one.replicates, check_exact=True)


def test_replicates_the_stack_cannot_fit_are_fitted_one_by_one():
    # 4 patients of 2 therapists, randomised: in about 1 replicate in 8 every patient is in one
    # arm (the arm column is constant) and the multilevel fit fails (collinear covariates);
    # those rows come from the general path
    design = {"n_therapists": 2, "caseload": 2, "n_sessions": 4, "treatment_d": 0.5}
    kw = dict(design=design, analysis=BOTH, n_replicates=40, seed=3, progress=False)
    with pytest.warns(UserWarning, match="fits failed"):
        fast = simulate_power(**kw)
    with pytest.warns(UserWarning, match="fits failed"):
        slow = simulate_power(**kw, batched=False)
    assert (fast.replicates["error"] != "").any()
    pd.testing.assert_series_equal(fast.replicates["error"], slow.replicates["error"], check_exact=True)
    ok = fast.replicates["error"] == ""
    np.testing.assert_allclose(fast.replicates.loc[ok, "estimate"], slow.replicates.loc[ok, "estimate"], atol=1e-8)


def test_designs_the_stack_does_not_cover_use_the_general_path():
    small = {"n_therapists": 6, "caseload": 3, "n_sessions": 4}
    for design, analysis in [({**small, "dropout_rate": 0.2}, "treatment_ols"),
                             ({**small, "caseload_dist": "poisson"}, "alliance_between")]:
        res = simulate_power(design, analysis, 2, seed=1, progress=False)
        assert res.backend == "serial", design


def test_newton_polish_reaches_the_optimum_of_a_flat_criterion():
    # a quadratic bowl with rounding noise at 1e-13 (as the REML criterion): bracketing
    # searches stop within ~1e-6 of the minimum; the polish gets to ~1e-9
    rng = np.random.default_rng(0)
    star = np.array([0.3, 0.8, 2.5])

    def crit(t):
        t = np.asarray(t, dtype=float)
        return 500.0 + 5.0 * (t - star[: t.size]) ** 2 + 1e-13 * rng.standard_normal(t.size)

    start = star + np.array([2e-6, -3e-6, 1e-6])
    np.testing.assert_allclose(power._polish_theta(crit, start), star, atol=1e-8)
    # boundary and singular fits are left alone
    assert power._polish_theta(crit, np.array([0.0, 5e-5]))[0] == 0.0


# --------------------------------------------------------------------------- the alliance analyses
ALLIANCE = ["alliance_multilevel", "alliance_ols", "alliance_between", "alliance_within"]


@pytest.mark.parametrize("sim, arms", [
    ({"n_therapists": 16, "caseload": 4, "n_sessions": 5, "alliance_within": 0.0, "alliance_between": 0.5},
     "crossed"),
    ({"n_therapists": 6, "caseload": [2, 3, 5, 4, 6, 3], "n_sessions": 4, "reverse_causation": 0.05}, "crossed"),
    ({"n_therapists": 12, "caseload": 3, "n_sessions": 6, "treatment_d": 0.3}, "nested"),
])
def test_stacked_alliance_is_bit_identical_to_simulate_trial(sim, arms):
    # the session ratings are simulated too (with reverse causation they depend on every
    # session's latent symptom score): change and the patient's mean alliance are identical
    stack = power._trial_stack(sim, arms, 99, 5, 12, block=3, alliance=True)
    for k, r in enumerate(range(5, 12)):
        one = power._trial_data(sim, arms, 99, r)
        for col in ("pre", "post", "arm", "change", "alliance_mean"):
            np.testing.assert_array_equal(stack[col][k], one[col].to_numpy(dtype=float), err_msg=f"{col} r={r}")


@pytest.mark.parametrize("reference", ["t", "normal"])
@pytest.mark.parametrize("design", [
    {"n_therapists": 20, "caseload": 5, "alliance_within": 0.0, "alliance_between": 2.0},
    {"n_therapists": 10, "caseload": 5, "arms": "nested", "treatment_d": 0.4},
])
def test_batched_alliance_fits_agree_with_one_by_one(design, reference):
    # question (a) and (b) analyses of notebook 07: tolerances as in the module docstring
    kw = dict(design=design, analysis=ALLIANCE, n_replicates=30, seed=424242, reference=reference, progress=False)
    fast, slow = _batched_and_one_by_one(kw)
    pd.testing.assert_frame_equal(fast.table, slow.table, check_exact=False, rtol=0, atol=1e-8)


def test_batched_alliance_with_unequal_caseloads_and_few_therapists():
    # 6 therapists: the between coefficient has an SE near 10 PHQ-9 points per WAI-SR point, and its
    # estimate agrees to 1e-8 of its SE (1e-9 relative); decisions exactly
    kw = dict(design={"n_therapists": 6, "caseload": [2, 3, 5, 4, 6, 3], "n_sessions": 4}, analysis=ALLIANCE,
              n_replicates=25, seed=5, progress=False)
    a, b = simulate_power(**kw).replicates, simulate_power(**kw, batched=False).replicates
    pd.testing.assert_series_equal(a["error"], b["error"], check_exact=True)
    ok = (a["error"] == "").to_numpy()
    assert ok.any()
    diff = np.abs(a["estimate"] - b["estimate"]).to_numpy()[ok]
    assert np.all(diff <= 1e-8 * np.maximum(1.0, b["se"].to_numpy()[ok])), diff.max()
    assert a["reject"].tolist() == b["reject"].tolist()
    pd.testing.assert_series_equal(a["df"], b["df"], check_exact=True)


def test_batched_alliance_does_not_depend_on_chunks_or_processes():
    kw = dict(design={"n_therapists": 10, "caseload": 4, "n_sessions": 5}, analysis=["alliance_between",
              "treatment_multilevel"], n_replicates=13, seed=11, progress=False)
    one = simulate_power(**kw)
    assert one.backend == "serial, batched fits"
    for other in (simulate_power(**kw, chunk_size=4), simulate_power(**kw, n_jobs=2)):
        pd.testing.assert_frame_equal(one.replicates, other.replicates, check_exact=True)
