# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 07 · Power and design: how many therapists, how many patients?
#
# A trial or a naturalistic study of the alliance has two sample sizes: **therapists** and
# **patients per therapist** (the caseload). Which one limits what the study can detect depends on the
# question. This notebook answers three by Monte Carlo simulation, beside the closed-form
# approximations where they exist:
#
# - **(a)** Is the alliance related to outcome (patients nested in therapists)?
# - **(b)** Does the *therapist's* part of the alliance predict outcome — Baldwin, Wampold & Imel
#   (2007)'s question?
# - **(c)** Do two treatments differ, when each therapist delivers one of them?
#
# and a fourth, about validity rather than power: **what happens to the type I error when the
# therapists are ignored** in (c) (Wampold & Serlin 2000)?
#
# **All data in this notebook are SIMULATED** by `analysis.simulate.simulate_trial` (calibrated to
# published targets; see notebook 03), so the true effects are known. Every simulated trial is
# analysed with the workbook's own estimators (`analysis.multilevel`, checked against lme4) and with
# statsmodels OLS for the naive analysis; `analysis.power.simulate_power` does the bookkeeping.

# %% [markdown]
# **Learning goals.** After this notebook you can
#
# - explain what a Monte Carlo power analysis estimates, and give the Monte Carlo standard error of a
#   simulated power or type I error;
# - compute the design effect $1 + (m-1)\rho$ and the effective sample size of a clustered design, and
#   say when the two-arm formula with $N/\mathrm{DE}$ is a good approximation and when it is not;
# - show why ignoring therapists nested in arms inflates the type I error (Wampold & Serlin 2000);
# - tell a patient-level question (the alliance–outcome correlation) from a therapist-level one (the
#   therapist's part of the alliance, a treatment difference with therapists nested in arms), and
#   decide whether a study needs more therapists or more patients per therapist;
# - run `simulate_power` for your own design, on one core, several processes or a Dask cluster, with
#   the same answer.
#
# **Prerequisites.** The *t* test and the idea of power (α, effect size, sample size); the random
# intercept model and the ICC (notebook 03); reading a Monte Carlo result as an estimate with a
# standard error. Python: calling a function with a dict of arguments and reading a DataFrame.
#
# Cells tagged `qc` (at the end of each section) record our numbers beside the approximations in the
# workbook's ledger: they check the workbook, and a student can skip them.

# %%
import math
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display

from analysis import ledger, plots
from analysis.power import (
    design_effect,
    power_two_arm,
    simulate_power,
)
from analysis.simulate import simulate_trial

plots.set_style()

# %% [markdown]
# The number of Monte Carlo replicates per design cell is a parameter (the cell is tagged
# `parameters`): `make reproduce` runs 500 per cell (48 cells in sections 2–6: 24,000 simulated
# trials, some fitted twice), the test suite far fewer. Every tolerance below is computed from the
# replicates actually run, so a smaller run is less precise, not less honest.
#
# Every design here has fixed caseloads and no dropout, so `simulate_power` simulates and fits the
# replicates of a cell together, as arrays (its *batched* path; the same numbers as fitting them one
# by one, tested): all of this runs in well under a minute on one core, so `power_jobs` is 1 (more
# processes pay off for designs the batched path does not cover, e.g. with dropout; section 7).

# %% tags=["parameters"]
power_replicates = 500  # Monte Carlo replicates per design cell
power_seed = 2000  # root of numpy.random.SeedSequence; replicate r uses child (r,)
power_jobs = 1  # local worker processes

# %% [markdown]
# ## 1 · How a Monte Carlo power analysis works
#
# For one design (therapists, caseload, ICC, effect size) we simulate `power_replicates` trials,
# analyse each, and count how often the test rejects at α = .05. That rate estimates the **power**
# when the effect is real, and the **type I error** when it is zero. It is itself an estimate, a
# binomial proportion with **Monte Carlo standard error** $\sqrt{\hat p(1-\hat p)/R}$ (Morris, White
# & Crowther 2019): with R = 500 replicates that is at most 0.022, and 0.010 at a rate of .05.
#
# Replicate r of *every* design cell draws from the same child `SeedSequence(power_seed,
# spawn_key=(r,))`: the results are identical on one core, on local processes and on a Dask cluster
# (section 7 shows it), and the curves below are smooth because neighbouring cells share their
# random draws (common random numbers).
#
# The multilevel tests use a *t* reference with "between-within" degrees of freedom (J − 2 for the
# arm when each therapist is in one arm), the naive OLS tests their residual degrees of freedom.

# %%
alpha = 0.05
run = dict(n_replicates=power_replicates, seed=power_seed, n_jobs=power_jobs, progress=False)


def tol_mc(p0: float, R: int) -> float:
    """Three Monte Carlo SEs at the rate p0 we expect: a false alarm in 0.27% of runs."""
    return 3 * math.sqrt(p0 * (1 - p0) / R)


# %% [markdown]
# ## 2 · (c) A treatment difference with therapists nested in arms
#
# Each therapist delivers one treatment (half the therapists per arm), patients are nested in
# therapists, and the two arms differ by d = 0.4 within-arm SDs of the post score (a moderate
# difference; bona fide treatments usually differ far less — Wampold et al. 1997; Cuijpers et al.
# 2023 find g = 0.06 for CBT vs other therapies). The analysis is the ANCOVA post ~ pre + arm with
# a random therapist intercept. The grid varies the number of therapists and the therapist ICC at
# a caseload of 5.
#
# **Analytic approximation.** Clustering inflates the variance of each arm's mean by the **design
# effect** $\mathrm{DE} = 1 + (m-1)\rho$ (Kish 1965; Donner & Klar 2000), so N patients carry the
# information of $N/\mathrm{DE}$ independent ones; the power of the two-arm comparison is then that
# of an ordinary one with the effective sample size. The effect is on the scale of the analysed
# residual (post given pre). The normal version ignores that the arm is a *therapist*-level
# contrast with only J − 2 degrees of freedom; the *t* version with J − 2 df is shown too.

# %%
nested_c = {"caseload": 5, "arms": "nested", "treatment_d": 0.4}
grid_c = {"n_therapists": [10, 20, 40, 60], "therapist_icc": [0.05, 0.20]}
res_c = simulate_power(nested_c, ["treatment_multilevel", "treatment_ols"], grid=grid_c, **run)


def delta_residual(params: dict) -> float:
    """d on the scale of the post score given pre (the analysed residual)."""
    t = simulate_trial(**params, seed=0).truth
    return params.get("treatment_d", 0.06) * t["post_sd"] / math.sqrt(t["residual_post_given_pre_var"])


tab_c = res_c.table.copy()
tab_c["DE"] = design_effect(5, tab_c["therapist_icc"].to_numpy())
delta_c = delta_residual({"treatment_d": 0.4})
tab_c["analytic_t"] = [
    power_two_arm(delta_c, 5 * J, de, alpha, df=J - 2) if a == "treatment_multilevel" else np.nan
    for J, de, a in zip(tab_c["n_therapists"], tab_c["DE"], tab_c["analysis"])
]
show = ["n_therapists", "therapist_icc", "analysis", "rate", "mc_se", "analytic", "analytic_t",
        "singular_rate"]
display(tab_c[show].round(3))

# %% [markdown]
# **Simulation against the approximation.** The simulated power of the multilevel model falls a
# little short of the approximation, and far short with 10 therapists, where the therapist
# variance is often estimated at zero (see `singular_rate`) and the *t* reference is rough. Part of
# the gap is the PHQ-9 scale itself: scores are whole points and cannot fall below 0, and the better
# arm's post scores (mean about 7) pile up at the floor, which shrinks the observed difference.
#
# Where the formula holds, it must agree. We rerun the cells with 20 or more therapists on a
# floor-free version of the scale (intake SD 2, SD of change 2, mean change 3: scores stay more than
# 4 SDs from 0 and 27), with the rounding variance 1/12 (Sheppard's correction) added to the
# within-therapist residual variance σ² = Var(post) − s₀⁴/Var(pre), the therapist variance
# ρ·V_res unchanged, and the *t* approximation with J − 2 df. Tolerance: 3 Monte Carlo SEs at
# the analytic power (chosen before running).

# %%
floor_free = dict(intake_sd=2.0, change_sd=2.0, mean_change=3.0)
res_ff = simulate_power({**nested_c, **floor_free}, "treatment_multilevel",
                        grid={"n_therapists": [20, 40, 60], "therapist_icc": [0.05, 0.20]}, **run)
ff = simulate_trial(**floor_free, treatment_d=0.4, seed=0)
s0, vm, vd = ff.params["intake_sd"], ff.truth["symptom_error_sd"] ** 2, ff.params["change_sd"] ** 2
v_res = ff.truth["residual_post_given_pre_var"]  # latent, before rounding
sigma2_ff = s0**2 + vd + vm + 1 / 12 - s0**4 / (s0**2 + vm + 1 / 12)
tab_ff = res_ff.table.copy()
icc_obs = tab_ff["therapist_icc"] * v_res / sigma2_ff
tab_ff["analytic_t"] = power_two_arm(ff.truth["tau"] / math.sqrt(sigma2_ff), 5 * tab_ff["n_therapists"],
                                     design_effect(5, icc_obs.to_numpy()), alpha,
                                     df=tab_ff["n_therapists"].to_numpy() - 2)
display(tab_ff[["n_therapists", "therapist_icc", "rate", "mc_se", "analytic_t", "singular_rate"]].round(3))

# %% [markdown]
# **Checks** (tagged `qc`): each floor-free cell's simulated power beside the *t* approximation, in the
# ledger, with the tolerance of 3 Monte Carlo SEs stated above.

# %% tags=["qc"]
for _, row in tab_ff.iterrows():
    ledger.record(
        claim=(f"(c) power, therapists nested in arms, floor-free scale, J = {row['n_therapists']}, m = 5, "
               f"ICC = {row['therapist_icc']}, d = 0.4: simulated vs DE-adjusted t approximation (J - 2 df)"),
        published=round(float(row["analytic_t"]), 6), ours=float(row["rate"]),
        tolerance=round(tol_mc(row["analytic_t"], row["n_replicates"]), 6),
        source="analysis.power.power_two_arm with DE = 1 + (m - 1) ICC (Donner & Klar 2000); SIMULATED trials",
        kind="simulation",
    )

# %% [markdown]
# ## 3 · Ignoring the therapists: type I error inflation (Wampold & Serlin 2000)
#
# Wampold & Serlin (2000, *Psychological Methods*, 5(4), 425–433; abstract) point out that
# researchers typically ignore treatment providers, a nested factor, when comparing treatments, and
# that this incorrect analysis "not only invalidates tests of hypotheses, but it also overestimates
# the treatment effect"; they derived formulas and ran a Monte Carlo study of how far the F
# statistic and effect sizes are inflated. The abstract gives **no numbers**, so no published value
# is quoted here; we reproduce the phenomenon.
#
# Under the null (d = 0), with 30 therapists nested in arms, a naive OLS test that ignores them
# uses a standard error too small by $\sqrt{\mathrm{DE}}$, so its statistic has variance DE and it
# rejects with probability $2\Phi(-z_{.975}/\sqrt{\mathrm{DE}})$ — the large-sample form of their
# result. The multilevel model should keep α.

# %%
null_design = {"n_therapists": 30, "arms": "nested", "treatment_d": 0.0}
grid_null = {"caseload": [5, 10], "therapist_icc": [0.02, 0.05, 0.10, 0.20]}
res_null = simulate_power(null_design, ["treatment_multilevel", "treatment_ols"], grid=grid_null, **run)
tab_null = res_null.table
display(tab_null[["caseload", "therapist_icc", "analysis", "rate", "mc_se", "analytic"]].round(3))

# %% [markdown]
# Simulated rates (points, with 95% Monte Carlo intervals) beside the naive test's large-sample rate
# (dashed): the naive rate climbs with the ICC and more steeply with the larger caseload, since
# DE = 1 + (m − 1)ρ; the multilevel model stays at α. (`plots.type1_inflation_plot` draws it.)

# %%
fig = plots.type1_inflation_plot(tab_null, n_therapists=30, alpha=alpha)
plots.save_figure(fig, "07_type1_inflation")
plt.show()

# %% [markdown]
# **Checks** (tagged `qc`). Two per design cell, each with 3 Monte Carlo SEs at the rate expected (set before running):
# the multilevel model's type I error against α = .05, and the naive test's inflated rate against
# $2\Phi(-z/\sqrt{\mathrm{DE}})$.

# %% tags=["qc"]
for _, row in tab_null.iterrows():
    m, icc, R = row["caseload"], row["therapist_icc"], row["n_replicates"]
    if row["analysis"] == "treatment_multilevel":
        ledger.record(
            claim=f"Type I error, multilevel model, therapists nested in arms (J = 30, m = {m}, ICC = {icc})",
            published=alpha, ours=float(row["rate"]), tolerance=round(tol_mc(alpha, R), 6),
            source="nominal alpha; SIMULATED trials with no treatment effect", kind="simulation",
        )
    else:
        ledger.record(
            claim=f"Type I error, naive OLS ignoring therapists (J = 30, m = {m}, ICC = {icc}) vs "
                  f"2 Phi(-z / sqrt(DE)), DE = {design_effect(m, icc):.2f}",
            published=round(float(row["analytic"]), 6), ours=float(row["rate"]),
            tolerance=round(tol_mc(row["analytic"], R), 6),
            source="analysis.power.naive_rejection_rate (large-sample form of Wampold & Serlin 2000); "
                   "SIMULATED trials", kind="simulation",
        )

# %% [markdown]
# ## 4 · Where the analytic formula is exact: no clustering
#
# With no therapist variance (therapist ICC 0 and no therapist part in the alliance) patients are
# independent, and the ANCOVA t test of the arm has an exact power: noncentral *t* with N − 3 df and
# noncentrality $(\tau/\sigma)\sqrt{n_1 n_0/N}$, averaged over the Binomial(N, ½) number $n_1$ of
# patients randomised to arm 1. $\sigma^2$ is the residual variance of post given pre, including
# the rounding of the PHQ-9 to whole points (variance 1/12, Sheppard's correction); intake and
# change SDs of 2 keep the scores more than 4 SDs from the floor and ceiling of the scale, so
# clipping does not matter. Patients are randomised individually here (every therapist treats both
# arms). The simulated power must agree within 3 Monte Carlo SEs.

# %%
flat = dict(n_therapists=40, caseload=4, therapist_icc=0.0, alliance_icc=0.0, intake_sd=2.0, change_sd=2.0,
            mean_change=3.0, treatment_d=0.3)
res_flat = simulate_power(flat, "treatment_ols", **run)
tr = simulate_trial(**flat, seed=0)
s0, vm, vd = tr.params["intake_sd"], tr.truth["symptom_error_sd"] ** 2, tr.params["change_sd"] ** 2
sigma2 = s0**2 + vd + vm + 1 / 12 - s0**4 / (s0**2 + vm + 1 / 12)
N = 160
n1 = np.arange(1, N)
w = np.exp([math.lgamma(N + 1) - math.lgamma(k + 1) - math.lgamma(N - k + 1) - N * math.log(2) for k in n1])
exact = float(np.sum(w * power_two_arm(tr.truth["tau"] / math.sqrt(sigma2), N, 1.0, alpha,
                                       allocation=n1 / N, df=N - 3)) / w.sum())
flat_row = res_flat.table.iloc[0]
print(f"exact power {exact:.4f}; simulated {flat_row['rate']:.4f} (MC SE {flat_row['mc_se']:.4f})")

# %% tags=["qc"]
ledger.record(
    claim="Power of the ANCOVA t test, no clustering (N = 160, d = 0.3): simulated vs exact noncentral t",
    published=round(exact, 6), ours=float(flat_row["rate"]),
    tolerance=round(tol_mc(exact, flat_row["n_replicates"]), 6),
    source="noncentral t, Binomial(N, 1/2) allocation (derivation above); SIMULATED trials", kind="simulation",
)

# %% [markdown]
# ## 5 · (a) The alliance–outcome relation
#
# How many patients does a study need to detect the alliance–outcome correlation? The simulator is
# calibrated to Flückiger et al. (2018)'s face-to-face r = .28; we vary r and the number of therapists
# (caseload 5), and fit change ~ alliance + arm with a random therapist intercept. The approximation
# beside it is the Fisher-z power for a correlation among N independent patients; the alliance is
# mostly a patient-level variable (10% of one rating's variance is between therapists), so
# clustering costs little here.

# %%
grid_a = {"alliance_outcome_r": [0.1, 0.2, 0.28], "n_therapists": [10, 20, 40]}
res_a = simulate_power({"caseload": 5}, "alliance_multilevel", grid=grid_a, **run)
display(res_a.table[["alliance_outcome_r", "n_therapists", "rate", "mc_se", "analytic"]].round(3))

# %% [markdown]
# ## 6 · (b) The therapist's part of the alliance (Baldwin et al. 2007)
#
# Here the world is shaped like Baldwin, Wampold & Imel (2007)'s finding: only the **therapist**
# part of the alliance predicts outcome ($\beta_W = 0$). Its size is set by the share of the
# therapist outcome variance (ICC .05) that the therapists' alliance carries: 0 (the null), 25%,
# 50% or 90% — $\beta_B = \sqrt{f\,\rho\,V_{res}/V_a}$ with $V_a$ the therapist variance of the
# alliance. `disaggregate_alliance` splits each patient's alliance into the therapist mean and the
# deviation from it and tests the between coefficient (t with J − 3 df).

# %%
t0 = simulate_trial(seed=0).truth
shares = [0.0, 0.25, 0.5, 0.9]
betas = [round(math.sqrt(f * 0.05 * t0["residual_post_given_pre_var"] / t0["alliance_therapist_var"]), 4)
         for f in shares]
grid_b = {"alliance_between": betas, "n_therapists": [20, 40, 80, 160]}
res_b = simulate_power({"caseload": 5, "alliance_within": 0.0}, "alliance_between", grid=grid_b, **run)
tab_b = res_b.table.assign(share=lambda t: t["alliance_between"].map(dict(zip(betas, shares))))
display(tab_b[["share", "alliance_between", "n_therapists", "measure", "rate", "mc_se"]].round(3))

# %% [markdown]
# There is no closed form for the power of the between coefficient here (it depends on the
# reliability of each therapist's mean alliance), so only the simulation is shown.

# %% [markdown]
# ### The three questions in one figure
#
# Power curves with 95% Monte Carlo intervals (points) and the approximations (lines): in (a) the
# Fisher-z power for N independent patients (dashed); in (b) none (points joined); in (c) the
# design-effect approximation with a *t* reference on J − 2 df (dashed) and the normal one (dotted).
# Grey lines: 80% power and α.

# %%
fig = plots.power_curves_plot(res_a.table, tab_b, tab_c, delta_c=delta_c, caseload=5, alpha=alpha)
plots.save_figure(fig, "07_power_curves")
plt.show()

# %% [markdown]
# **Reading the curves.** (a) The alliance–outcome correlation is a patient-level question: its
# power follows the number of patients, close to the unclustered Fisher-z curve, because only a
# small share of the alliance lies between therapists. (b) The therapist part of the alliance is a
# *therapist*-level question: with the same 5 patients per therapist its power grows with the number
# of therapists, and at any given number of patients it is far below that of (a) — studies like
# Baldwin et al.'s need many therapists, not just many patients. (c) For a treatment difference with
# therapists nested in arms the effective sample size is N / DE: at ICC .20 and caseload 5
# (DE = 1.8), 60 therapists (300 patients) carry the information of about 167 independent patients.
#
# **Published recommendations.** We quote none: the sources read for this notebook (the Wampold &
# Serlin 2000 abstract) state the problem without recommended numbers of therapists, and the
# workbook only quotes numbers read in a source.

# %% [markdown]
# **Checks** (tagged `qc`). Under the null ($\beta_B = \beta_W = 0$) the between test must keep α; recorded for each number of
# therapists with 3 Monte Carlo SEs.

# %% tags=["qc"]
for _, row in tab_b[tab_b["null"]].iterrows():
    ledger.record(
        claim=f"(b) Type I error of the between-therapist alliance test (J = {row['n_therapists']}, m = 5)",
        published=alpha, ours=float(row["rate"]), tolerance=round(tol_mc(alpha, row["n_replicates"]), 6),
        source="nominal alpha; SIMULATED trials with no alliance effect", kind="simulation",
    )

# %% [markdown]
# ## 7 · From a laptop to a cluster: the same answer
#
# `simulate_power` runs in this process (`n_jobs=1`; used above), on local processes (`n_jobs=2`)
# or on a **Dask** cluster when given a `dask.distributed.Client` or a scheduler address. Here a
# small `LocalCluster` of two single-threaded worker processes reruns the first cell of section 2
# and must give exactly the same replicates as one core.

# %%
from dask.distributed import Client, LocalCluster

demo = dict(design={**nested_c, "n_therapists": 20, "therapist_icc": 0.2}, analysis="treatment_multilevel",
            n_replicates=min(power_replicates, 100), seed=power_seed, progress=False)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # distributed's start-up chatter
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None)
    client = Client(cluster)
on_cluster = simulate_power(**demo, client=client)
on_one_core = simulate_power(**demo, n_jobs=1)
pd.testing.assert_frame_equal(on_cluster.replicates, on_one_core.replicates, check_exact=True)
# (the backend string names the scheduler's address, a new port every run: only its kind is printed)
print(f"{len(on_cluster.replicates)} replicates identical on a local {on_cluster.backend.split(' ')[0]} cluster "
      "and on one core; "
      f"power {on_cluster.table['rate'].iloc[0]:.3f}")
client.close()
cluster.close()

# %% [markdown]
# **On a real cluster.** Start a scheduler and workers in environments with the workbook installed
# at the same commit (`pip install -r requirements.lock && pip install -e .`):
#
# ```bash
# dask scheduler                          # on the head node; prints tcp://HEAD:8786
# dask worker tcp://HEAD:8786 --nworkers 8 --nthreads 1   # on each worker machine
# ```
#
# then `simulate_power(..., client="tcp://HEAD:8786")` (a client is opened and closed for the call) or
# pass your own `Client`. Use single-threaded workers: fits in one worker process run one at a time.
# Workers only import `analysis.power`; no data files are needed. The seeds travel with the tasks, so
# the numbers are those of a laptop run.

# %% [markdown]
# ## 8 · Your own design
#
# Replace the design and grid with yours (any argument of `simulate_trial`, plus `arms`), for example
# 24 therapists with caseloads varying around 8 and a small treatment difference:
#
# ```python
# res = simulate_power({"caseload": 8, "caseload_dist": "negbin", "arms": "nested", "treatment_d": 0.2},
#                      ["treatment_multilevel", "treatment_ols"], n_replicates=1000, seed=1,
#                      grid={"n_therapists": [24, 48]}, n_jobs=-1)
# print(res.summary())
# ```

# %% [markdown]
# ## Exercises
#
# From conceptual to hands-on. Check a numeric answer with `check("07.k", your_answer)`: it says right
# or not yet, with a hint, and never shows the solution. Worked answers:
# `notebooks/answers/07_power_and_design.ipynb`.
#
# 1. **(concept)** A naturalistic study has therapists with 8 patients each and a therapist ICC of .10.
#    By which factor does the clustering inflate the variance of an arm's mean (the design effect)?
# 2. **(concept)** At the end of section 6: 60 therapists with 5 patients each, ICC .20. How many
#    independent patients is that sample worth for comparing two treatments nested in therapists?
# 3. **(formula, predict then check)** Someone compares two treatments delivered by 30 therapists with
#    10 patients each (ICC .10) and ignores the therapists. Predict: is the type I error of their test
#    nearer .05, .10 or .15? Then compute its large-sample value.
# 4. **(Monte Carlo error)** How many replicates does a simulation need so that the Monte Carlo SE of
#    a power near .80 is at most 0.01?
# 5. **(hands-on)** Run `simulate_power` for 20 therapists with 5 patients each, nested in arms, d = 0.4,
#    therapist ICC .20, `"treatment_multilevel"`, 400 replicates, seed 7. What is the simulated power?
# 6. **(hands-on, design)** You can afford 100 more patients: 40 therapists with 5 patients, or 20
#    therapists with 10 patients. Which gives more power for the design of exercise 5 (same seed and
#    replicates)? Answer `"therapists"` or `"caseload"`, and say why with the design effect.

# %%
from analysis.exercises import check  # noqa: E402

check("07.1", 0.0)  # replace 0.0 by your answer, e.g. check("07.1", 1.5)
