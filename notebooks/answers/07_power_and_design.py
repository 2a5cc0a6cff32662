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
# # Answers · 07 Power and design
#
# Worked answers to the exercises of `07_power_and_design.ipynb`. Try them first; `check("07.k", x)` in
# the notebook tells you whether an answer is right without showing it. Each answer here is asserted
# with `check`, so this notebook fails if an answer and the key ever disagree. The simulations are of
# SIMULATED trials (`analysis.simulate.simulate_trial`).

# %%
import math

from scipy import stats

from analysis.exercises import check
from analysis.power import design_effect, naive_rejection_rate, simulate_power

# %% [markdown]
# ## 1 · The design effect
#
# $\mathrm{DE} = 1 + (m - 1)\rho = 1 + 7 \times 0.10 = 1.7$: the variance of an arm's mean is 70%
# larger than with 8 × J independent patients.

# %%
de = 1 + (8 - 1) * 0.10
print(de, design_effect(8, 0.10))
assert check("07.1", de)

# %% [markdown]
# ## 2 · The effective sample size
#
# $N/\mathrm{DE} = 300 / (1 + 4 \times 0.20) = 300 / 1.8 \approx 167$ independent patients: clustering
# costs the study about 133 patients' worth of information.

# %%
n_eff = 60 * 5 / design_effect(5, 0.20)
print(round(n_eff, 1))
assert check("07.2", n_eff)

# %% [markdown]
# ## 3 · Ignoring the therapists
#
# With DE = 1 + 9 × 0.10 = 1.9 the naive statistic has variance 1.9 instead of 1, so it exceeds
# ±1.96 with probability $2\Phi(-1.96/\sqrt{1.9}) \approx .155$: about three times the nominal .05
# (the prediction ".15" was right). Section 3 of the notebook shows the simulation agrees.

# %%
de3 = design_effect(10, 0.10)
naive = 2 * stats.norm.cdf(-stats.norm.ppf(0.975) / math.sqrt(de3))
print(round(naive, 4), round(naive_rejection_rate(0.0, 300, de3), 4))
assert check("07.3", naive)

# %% [markdown]
# ## 4 · How many replicates?
#
# $\sqrt{p(1-p)/R} \le 0.01$ gives $R \ge p(1-p)/0.01^2 = 0.8 \times 0.2 / 0.0001 = 1600$. (The notebook's
# 500 replicates give an MC SE of $\sqrt{0.16/500} \approx 0.018$ at a power of .80.)

# %%
R = math.ceil(0.8 * 0.2 / 0.01**2 - 1e-9)
print(R, math.sqrt(0.8 * 0.2 / 500))
assert check("07.4", R)

# %% [markdown]
# ## 5 · A simulated power
#
# The same call as in section 2 of the notebook, for one design cell. Replicate r draws from child r of
# the seed, so the rate is the same on any machine, with any number of processes.

# %%
design = {"arms": "nested", "treatment_d": 0.4, "therapist_icc": 0.2, "n_therapists": 20, "caseload": 5}
res5 = simulate_power(design, "treatment_multilevel", 400, seed=7, progress=False)
print(res5.summary())
power5 = float(res5.table["rate"].iloc[0])
assert check("07.5", power5)

# %% [markdown]
# ## 6 · More therapists or a larger caseload?
#
# Both designs have 200 patients. With 40 therapists of 5 the design effect is 1 + 4 × 0.2 = 1.8 and
# the arm has 38 degrees of freedom; with 20 therapists of 10 it is 1 + 9 × 0.2 = 2.8 with 18 degrees
# of freedom: the effective sample sizes are 111 and 71. More therapists win clearly — for a
# therapist-level question, the number of therapists is what buys power.

# %%
rates = {}
for label, (J, m) in {"therapists": (40, 5), "caseload": (20, 10)}.items():
    res = simulate_power({**design, "n_therapists": J, "caseload": m}, "treatment_multilevel", 400, seed=7,
                         progress=False)
    rates[label] = float(res.table["rate"].iloc[0])
    print(f"{label:>10}: {J} x {m}, DE = {design_effect(m, 0.2):.1f}, N/DE = {J * m / design_effect(m, 0.2):.0f}, "
          f"power {rates[label]:.3f}")
best = max(rates, key=rates.get)
assert check("07.6", best)
