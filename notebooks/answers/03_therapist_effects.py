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
# # Answers · 03 Therapist effects
#
# Worked answers to the exercises of `03_therapist_effects.ipynb`. Try them first; `check("03.k", x)`
# in the notebook tells you whether an answer is right without showing it. Each numeric answer here is
# asserted with `check`, so this notebook fails if an answer and the key ever disagree.

# %%
import numpy as np
from scipy import stats

from analysis import datasets
from analysis.exercises import check
from analysis.multilevel import therapist_effect
from analysis.simulate import simulate_trial

pts = datasets.load("baldwin2007-design-patients", package=datasets.PACKAGE_PATH.parent / "simulated")

# %% [markdown]
# ## 1 · Which method for a likelihood-ratio test of fixed effects?
#
# **ML.** The REML likelihood is the likelihood of residual contrasts, and those contrasts depend on the
# fixed-effect design matrix $X$. Two models with different fixed effects therefore have REML
# likelihoods of different data, and their difference is not a likelihood ratio (section 7 showed the
# REML log-likelihood moving by $\log 10$ when a covariate was merely rescaled). Fit both models by ML,
# test, then report the chosen model's REML estimates.

# %%
assert check("03.1", "ML")

# %% [markdown]
# ## 2 · Shrinkage factor
#
# $c_j n_j = n\tau^2/(\sigma^2 + n\tau^2) = 4 \cdot 2 / (30 + 8) = 8/38 \approx 0.21$: the BLUP keeps about a
# fifth of this therapist's mean residual. With four patients, most of what a therapist's raw mean shows
# is patient-level noise.

# %%
n, tau2, sigma2 = 4, 2.0, 30.0
factor = n * tau2 / (sigma2 + n * tau2)
print(round(factor, 4))
assert check("03.2", factor)

# %% [markdown]
# ## 3 · ML vs REML ICC
#
# *Prediction:* smaller. ML treats the three estimated fixed effects as known, so it underestimates the
# variances — the therapist variance most, because it rests on only 80 therapists.

# %%
reml = therapist_effect(pts, "post", "therapist", covariates=["pre", "arm"])
ml = therapist_effect(pts, "post", "therapist", covariates=["pre", "arm"], method="ML")
print(f"REML: tau^2 = {reml.therapist_var:.3f}, ICC = {reml.icc:.4f}")
print(f"ML:   tau^2 = {ml.therapist_var:.3f}, ICC = {ml.icc:.4f}")
assert ml.icc < reml.icc
assert check("03.3", ml.icc)

# %% [markdown]
# ## 4 · Likelihood-ratio test of the treatment arm
#
# Both models by ML; the statistic is twice the difference of their log-likelihoods, referred to
# $\chi^2_1$ (one parameter added). The shipped trial's arm effect is small (d = 0.06 in the
# simulator), and the test does not detect it.

# %%
full = therapist_effect(pts, "post", "therapist", covariates=["pre", "arm"], method="ML")
reduced = therapist_effect(pts, "post", "therapist", covariates=["pre"], method="ML")
lr = 2 * (full.loglik - reduced.loglik)
print(f"LR = {lr:.3f}, p = {stats.chi2.sf(lr, 1):.3f}")
assert check("03.4", lr)

# %% [markdown]
# ## 5 · Listwise deletion under MCAR
#
# When dropout is missing *completely* at random, the completers are a random subset of the patients,
# so their mean post score differs from the truth only by chance (here a fraction of a point, against
# about two points under MAR in section 9). Listwise deletion then costs precision, not validity.

# %%
design = dict(n_therapists=100, caseload=8, n_sessions=12, seed=3017)
trial = simulate_trial(**design, dropout="MCAR", dropout_rate=0.3, dropout_strength=1.5).patients
truth = simulate_trial(**design).patients
diff = trial.loc[trial["completed"] & (trial["arm"] == 0), "post"].mean() - truth.loc[truth["arm"] == 0, "post"].mean()
se = truth.loc[truth["arm"] == 0, "post"].std() / np.sqrt((trial["completed"] & (trial["arm"] == 0)).sum())
print(f"completers minus truth, arm 0: {diff:.3f} PHQ-9 points (roughly one SE of a completers' mean: {se:.2f})")
assert check("03.5", float(diff))
