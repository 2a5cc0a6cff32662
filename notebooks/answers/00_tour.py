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
# # Answers · 00 · A guided tour
#
# Worked answers to the exercises of [the tour](../00_tour.ipynb). Try them there first: `check()` tells
# you whether an answer is right without showing it. Each numeric answer below is asserted with the same
# `check()`.

# %%
import numpy as np

from analysis import effect_sizes, published
from analysis.exercises import check
from analysis.meta import meta_analysis

# the tour's data: relationship elements published as r with a 95% CI, on Fisher's z scale
rel = published.checked(published.load("relationship_elements"))
elements = rel[(rel["side"] == "relationship") & (rel["measure"] == "r")
               & rel["ci_low"].notna() & rel["ci_high"].notna()].reset_index(drop=True)
z_low = effect_sizes.fisher_z(elements["ci_low"].to_numpy(float))
z_high = effect_sizes.fisher_z(elements["ci_high"].to_numpy(float))
elements["yi"] = effect_sizes.fisher_z(elements["estimate"].to_numpy(float))
elements["vi"] = ((z_high - z_low) / (2 * 1.959963984540054)) ** 2
fit = meta_analysis("yi", "vi", data=elements, method="REML")

# %% [markdown]
# **1.** The **prediction interval** (PI). The confidence interval says where the *average* true
# correlation lies; a particular clinic is one new setting, whose true correlation differs from the
# average by the between-setting spread τ². The PI adds τ² to the uncertainty of the average, so it
# answers "what to expect here" (and it is wider: about .17 to .38 against .23 to .32).

# %%
assert check("00.1", "PI")

# %% [markdown]
# **2.** Empathy's r = .28 gives $d = 2r/\sqrt{1-r^2} = 0.58$ and $100\,r^2 = 7.84\%$ of outcome variance.

# %%
r_empathy = float(elements.loc[elements["element"] == "Empathy", "estimate"].iloc[0])
answer = [effect_sizes.r_to_d(r_empathy), 100 * r_empathy**2]
print(np.round(answer, 3))
assert check("00.2", answer)

# %% [markdown]
# **3.** About 20%. The adult-alliance row has the smallest sampling variance by far, but a row's
# random-effects weight is $1/(v_i + \hat\tau^2)$: once τ² (the real spread between elements) is added,
# the precise rows differ much less, and no single row can dominate. Only the very imprecise row
# (managing countertransference, 9 studies) gets a small weight.

# %%
weights = dict(zip(elements["element"], np.asarray(fit.weights)))
print({k: round(float(v), 1) for k, v in weights.items()})
answer = weights["Alliance (individual adult psychotherapy)"]
assert check("00.3", answer)

# %% [markdown]
# **4.** With τ² = 0 the weights are $1/v_i$, and the adult-alliance row (the smallest $v_i$) gets
# most of them: the pooled r moves **towards** .278, and the CI gets **narrower** (the spread between
# elements is ignored, so the interval claims more precision than the data have; with Q = 19.8 on
# 6 df the fixed-effect assumption is implausible).

# %%
fe = meta_analysis("yi", "vi", data=elements, method="FE")
fe_r = fe.predict(transform="z2r").to_frame()
print(fe_r.round(3))
print(f"fixed-effect weight of the adult-alliance row: {np.asarray(fe.weights)[0]:.0f}%")
assert check("00.4", float(fe_r["pred"].iloc[0]))

# %% [markdown]
# **5.** CBT vs other psychotherapies, g = 0.06, is r = 0.06/√(0.06² + 4) = .030, i.e. 0.09% of
# variance; the pooled relationship r of about .28 is about 7.7%. The ratio is about 86. But the two
# numbers answer different questions (a correlation within treatments, observational, against a
# randomised difference between two active treatments), and squaring shrinks small effects: notebook 02
# discusses why such ratios mislead.

# %%
table = published.load("relationship_elements")
g_cbt = float(table.loc[table["element"].str.startswith("CBT vs other"), "estimate"].iloc[0])
r_cbt = float(effect_sizes.d_to_r(g_cbt))
r_pooled = float(fit.predict(transform="z2r").pred[0])
answer = r_pooled**2 / r_cbt**2
print(f"r (CBT contrast) = {r_cbt:.3f}; % of variance {100 * r_cbt**2:.2f}% vs {100 * r_pooled**2:.1f}%; "
      f"ratio {answer:.0f}")
assert check("00.5", answer)
