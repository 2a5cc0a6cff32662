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
# # Answers · 01 · Relationship elements and technique on one scale
#
# Worked answers to the exercises of [notebook 01](../01_relationship_elements.ipynb). Try them there
# first: `check()` tells you whether an answer is right without showing it. Each answer below is
# asserted with the same `check()`.

# %%
import numpy as np
import pandas as pd

from analysis import datasets, effect_sizes, published
from analysis.exercises import check
from analysis.meta import meta_analysis
from analysis.meta_bias import leave_one_out
from analysis.meta_compare import lrt

mol = datasets.load("dat.molloy2014")
mol = pd.concat([mol, effect_sizes.compute_effect_sizes("ZCOR", ri="ri", ni="ni", data=mol).to_frame()], axis=1)
labels = [f"{a} ({y})" for a, y in zip(mol["authors"], mol["year"])]
fit = meta_analysis("yi", "vi", data=mol, method="REML")

# %% [markdown]
# **1. False.** I² = τ² / (τ² + typical sampling variance) is a *share*: the same true spread τ² gives a
# larger I² when the studies are larger (their sampling variance shrinks). With samples ten times larger,
# the typical sampling variance falls about tenfold and I² rises towards 100% although the true
# correlations spread exactly as much. The spread itself is τ (on the z scale) or, in r units, the
# prediction interval.

# %%
typical_v = fit.tau2 * (100 / fit.i2 - 1)  # from I^2 = tau^2 / (tau^2 + v)
print(f"I^2 now {fit.i2:.0f}%; with v ten times smaller: {100 * fit.tau2 / (fit.tau2 + typical_v / 10):.0f}%")
assert check("01.1", False)

# %% [markdown]
# **2.** r = .38 gives d = 2·.38/√(1 − .38²) = 0.82, and d = .80 corresponds to r = .37 — the value
# of the article's own clinical-impact statement. Quote the printed r with its own CI (the result of the
# meta-analysis); the printed d was converted from a different r.

# %%
table = published.load("relationship_elements")
row = table[table["element"] == "Real relationship"].iloc[0]
answer = [effect_sizes.r_to_d(float(row["estimate"])), effect_sizes.d_to_r(float(row["d_published"]))]
print(np.round(answer, 3))
assert check("01.2", answer)

# %% [markdown]
# **3.** DerSimonian–Laird gives a slightly **smaller** τ² here (0.0078 against REML's 0.0081); there
# is no general rule (DL can be larger or smaller, and it is 0 more often in small meta-analyses). With
# a smaller τ² the weights are a little less equal, and the pooled r barely moves.

# %%
dl = meta_analysis("yi", "vi", data=mol, method="DL")
print(f"tau^2: REML {fit.tau2:.5f}, DL {dl.tau2:.5f}; pooled r: REML {np.tanh(fit.estimate):.4f}, "
      f"DL {np.tanh(dl.estimate):.4f}")
assert check("01.3", dl.tau2)

# %% [markdown]
# **4.** Leaving out Jerant et al. (2011), a large study with a small correlation, moves the pooled r
# most: from .149 to about .163, and τ² and I² drop (from 62% to 44%). The conclusion — a small positive
# correlation, CI above zero — does not change.

# %%
loo = leave_one_out(fit, labels=labels).table
shift = (loo["estimate"] - fit.estimate).abs()
most = shift.idxmax()
print(most, loo.loc[most, ["estimate", "tau2", "i2"]].round(4).to_dict())
answer = float(np.tanh(loo.loc[most, "estimate"]))
assert check("01.4", answer)

# %% [markdown]
# **5.** Fixed effects are compared with **ML** fits (two REML likelihoods with different moderators are
# likelihoods of different data). χ²(1) ≈ 11.4, p < .001: the three studies that controlled for other
# variables report clearly smaller correlations (the reference level is `multiple`: their pooled z is
# near 0, and `controls[T.none]` says the other 13 studies are about 0.16 higher). But three studies are a
# thin basis; "controls" goes together with other design features, and it is one of several moderators
# one could try — report it as exploratory.

# %%
ml_controls = meta_analysis("yi", "vi", data=mol, method="ML", mods="~ controls")
test = lrt(ml_controls, meta_analysis("yi", "vi", data=mol, method="ML"))
print(test.apa())
print(ml_controls.to_frame()[["term", "estimate", "se", "pvalue"]].round(4))
assert check("01.5", test.statistic)
