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
# # Answers · 04 Session by session
#
# Worked answers to the exercises of `04_session_by_session.ipynb`. Each answer is asserted with
# `check`, so this notebook fails if an answer and the key ever disagree.

# %%
import warnings

import numpy as np
from scipy import stats

from analysis import sessions
from analysis.exercises import check
from analysis.growth import growth_model
from analysis.simulate import simulate_trial

# %% [markdown]
# ## 1 · Which centring?
#
# **Person-mean centring** (centring within the patient): subtract each patient's own mean alliance, so
# the predictor only varies *within* patients and stable differences between patients (those with good
# alliances also improve more) cannot enter its coefficient. Grand-mean centring subtracts one number
# from everyone: it moves the intercept and changes nothing else.

# %%
assert check("04.1", "person-mean")

# %% [markdown]
# ## 2 · The mixture p-value
#
# **Smaller.** Under the null the statistic follows ½χ²(1) + ½χ²(2); for any positive statistic the
# χ²(1) tail is below the χ²(2) tail, so the mixture's p-value is below the naive one (the naive test is
# conservative). For example, for LR = 5:

# %%
lr = 5.0
p_naive, p_mix = stats.chi2.sf(lr, 2), 0.5 * stats.chi2.sf(lr, 1) + 0.5 * stats.chi2.sf(lr, 2)
print(f"naive p = {p_naive:.4f}, mixture p = {p_mix:.4f}")
assert p_mix < p_naive
assert check("04.2", "smaller")

# %% [markdown]
# ## 3 · Reverse causation and the lagged model
#
# With κ = 0.3, an improvement in symptoms raises the alliance rating. The alliance then follows the
# patient's symptom curve: it rises as symptoms fall over treatment. Centred on the patient's mean (but
# not detrended), a session's alliance is above the mean late in treatment, when the next score is also
# low — but less low than the steep early course would extrapolate, so the within coefficient moves to a
# **positive** value, "a better alliance predicts more symptoms", produced by nothing but reverse
# causation (κ = 0 with the same seed gives about 0.02). Detrending removes most of the shift.

# %%
fits = {}
for kappa in (0.0, 0.3):
    sim_k = simulate_trial(n_therapists=30, caseload=8, n_sessions=12, reverse_causation=kappa, seed=4)
    s_k = sim_k.sessions[sim_k.sessions["session"] >= 1]
    fits[kappa] = (sessions.lagged_model(s_k), sessions.lagged_model(s_k, detrend=True))
for kappa, (centred, detrended) in fits.items():
    print(f"kappa = {kappa}: centred {centred.within:+.3f} (SE {centred.fixed.iloc[1]['se']:.3f}), "
          f"detrended {detrended.within:+.3f} (SE {detrended.fixed.iloc[1]['se']:.3f})")
assert check("04.3", float(fits[0.3][0].within))

# %% [markdown]
# ## 4 · A straight line in sessions
#
# The `session` coefficient is the average change per session in arm 0 under a straight-line model. The
# simulator's course is steepest early (a log curve), so a straight line misfits: compare the two time
# scales by AIC of ML fits (the fixed-effect structures are the same up to the time variable, and both
# models have the same number of parameters, so AIC compares their likelihoods directly).

# %%
sim = simulate_trial(n_therapists=30, caseload=8, n_sessions=12, seed=4)
data = sim.sessions[["patient", "arm", "session", "symptom"]].copy()
data["course"] = np.log1p(data["session"]) / np.log1p(12)
linear = growth_model(data, "symptom", "session", "patient", covariates=["arm"], time_by=["arm"])
print(linear.coefficients.round(3))
assert check("04.4", float(linear.coefficients.loc["session", "estimate"]))

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)
    aic = {t: growth_model(data, "symptom", t, "patient", covariates=["arm"], time_by=["arm"], method="ML").aic
           for t in ("session", "course")}
print({k: round(v, 1) for k, v in aic.items()}, "-> lower is better")
