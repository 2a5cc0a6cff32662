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
# # Answers · 02 · Relationship vs technique on real trial data
#
# Worked answers to the exercises of [notebook 02](../02_relationship_vs_technique.ipynb). Try them there
# first: `check()` tells you whether an answer is right without showing it. Each answer below is asserted
# with the same `check()`.

# %%
import numpy as np
import pandas as pd

from analysis import datasets, effect_sizes
from analysis.exercises import check
from analysis.meta import meta_analysis
from analysis.meta_dependent import aggregate
from analysis.robust import che

TYPES = ["cbt", "bat", "3rd", "pst", "ipt", "dyn", "lrt", "sup", "other psy"]
raw = datasets.load("metapsy-depression-psyctr")
ok = np.isfinite(raw[".g"].astype(float)) & np.isfinite(raw[".g_se"].astype(float))
es = raw[ok].copy()
es["g"] = es[".g"].astype(float)
es["v"] = es[".g_se"].astype(float) ** 2
es["type"] = pd.Categorical(es["condition_arm1"], categories=TYPES)
es = es.reset_index(drop=True)
overall = che("g", "v", "study", data=es, rho=0.6)

# %% [markdown]
# **1. False.** CR2 standard errors with Satterthwaite degrees of freedom protect against a wrong working
# model, not against too few clusters. With few trials behind a coefficient the robust df are small
# (below about 4, Tipton 2015, the test is unreliable even after the small-sample correction): the CI is
# very wide and its coverage uncertain. The robust df tell you how much to trust each test.

# %%
assert check("02.1", False)

# %% [markdown]
# **2.** With a larger ρ, more of the agreement between one trial's effect sizes is attributed to
# correlated *sampling* error, so the model needs less between-trial variance to explain it: σ² between
# trials **falls** (0.28 → 0.24) and, because effect sizes that differ despite highly correlated errors
# must differ for real, σ² within trials **rises** (0.075 → 0.117). Their sum barely moves, and the
# overall mean hardly changes — the robust inference is valid for either ρ.

# %%
rows = []
for rho in (0.6, 0.9):
    f = che("g", "v", "study", data=es, rho=rho)
    rows.append({"rho": rho, "sigma2 trial": f.model.sigma2[0], "sigma2 within": f.model.sigma2[1],
                 "sum": f.model.sigma2.sum(), "mean g": f.robust.estimate[0]})
print(pd.DataFrame(rows).round(4).to_string(index=False))
answer = [rows[1]["sigma2 trial"], rows[1]["sigma2 within"]]
assert check("02.2", answer)

# %% [markdown]
# **3. `dyn`** (psychodynamic therapy): few trials, so its robust df are about 7 — its CI is wide and its
# Satterthwaite p-value only roughly calibrated. CBT, with about 250 trials, has df in the hundreds.

# %%
by_type = che("g", "v", "study", data=es, rho=0.6, mods="~ 0 + C(type)")
table = by_type.to_frame().assign(type=TYPES)[["type", "estimate", "ci_low", "ci_high", "df"]]
print(table.round(3).to_string(index=False))
answer = table.loc[table["df"].idxmin(), "type"]
assert check("02.3", answer)

# %% [markdown]
# **4.** The overall mean g ≈ 0.72 is r ≈ .34, about **11%** of outcome variance — more than the
# alliance's 7.7%. But it is a different quantity: therapy *against a control group* (wait list, care as
# usual), a randomised difference, while the alliance correlation is a within-treatment, observational
# association; and squaring makes every small effect look tiny. Section 5 explains why ranking such
# numbers misleads.

# %%
g = float(overall.robust.estimate[0])
r = float(effect_sizes.d_to_r(g))
answer = 100 * r**2
print(f"g = {g:.3f} -> r = {r:.3f} -> {answer:.1f}% of outcome variance")
assert check("02.4", answer)

# %% [markdown]
# **5.** τ² ≈ 0.32 on the composites against σ²_trial + σ²_within ≈ 0.355 in the CHE model. Averaging a
# trial's effect sizes removes part of the within-trial variation (a composite of several effects varies
# less than one effect), so the composites' τ² sits between σ²_trial and the sum; the composites also
# weight trials differently.

# %%
per_study = aggregate("g", "v", "study", data=es, rho=0.6)
re_studies = meta_analysis(per_study["yi"].to_numpy(), per_study["vi"].to_numpy())
print(f"composites: k = {re_studies.k}, tau^2 = {re_studies.tau2:.4f}; CHE: sigma^2 = "
      f"{overall.model.sigma2.round(4).tolist()} (sum {overall.model.sigma2.sum():.4f})")
assert check("02.5", re_studies.tau2)
