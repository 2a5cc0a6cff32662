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
# # 00 · A guided tour of the alliance workbook
#
# How much of a patient's improvement comes from the **therapeutic relationship** and how much from
# the **specific technique**? Answering that means putting very different studies on one scale:
# correlations between alliance and outcome on one side, differences between treatments on the other.
#
# This tour shows the three moves every later notebook makes:
#
# 1. **load** a real, shipped dataset whose provenance and checksum are verified on loading;
# 2. **compute effect sizes** (here log odds ratios, then the same effects as *d* and *r*);
# 3. **draw and save a figure** in the house style, and **record** each comparison with a published
#    number in the reproduction ledger, so that `reports/index.html` shows it beside ours
#    (`make reproduce` writes `reports/`; run by hand, figures and ledger rows go to `alliance-output/`
#    beside this notebook, or `$ALLIANCE_OUTPUT_DIR`, and the first save says where).
#
# Everything the notebook computes comes from the package `analysis`; the notebook only tells the story.

# %%
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt

from analysis import datasets, effect_sizes, ledger, plots

plots.set_style()

# %% [markdown]
# ## 1 · Load a shipped dataset
#
# `dat.landenberger2005` (from the R package *metadat*) holds 58 studies of cognitive-behavioural
# programmes for criminal offenders (Landenberger & Lipsey, 2005): for each study, how many people in
# the CBT and in the control group did or did not re-offend. `datasets.load` checks the file's sha256
# against `data/datapackage.json` and its columns against the declared schema before returning it.

# %%
info = datasets.describe("dat.landenberger2005")
print(info)
offenders = datasets.load("dat.landenberger2005")
offenders[["study", "n.cbt.non", "n.cbt.rec", "n.ctrl.non", "n.ctrl.rec"]].head()

# %% [markdown]
# ## 2 · Effect sizes
#
# For each study the **log odds ratio** of *not* re-offending, CBT against control, and its sampling
# variance (Woolf's formula, with ½ added to every cell of a study that has a zero cell):
#
# $$\log OR = \log\frac{a\,d}{b\,c}, \qquad v = \frac1a + \frac1b + \frac1c + \frac1d .$$
#
# A positive value means fewer re-offenders after CBT. `compute_effect_sizes` mirrors R's
# `metafor::escalc` (same measure names, same arguments), and the test suite checks it against
# escalc's output to 1e-10.

# %%
es = effect_sizes.compute_effect_sizes(
    "OR",
    ai="n.cbt.non", bi="n.cbt.rec", ci="n.ctrl.non", di="n.ctrl.rec",
    data=offenders,
)
es = pd.concat([offenders[["study"]], es.to_frame()], axis=1)
es.head()

# %% [markdown]
# The same effects on the two scales that alliance research uses: Cohen's *d* (Hasselblad & Hedges'
# conversion, $d = \log OR \cdot \sqrt3/\pi$) and the correlation *r* (equal group sizes assumed).

# %%
es["d"] = effect_sizes.log_odds_ratio_to_d(es["yi"])
es["r"] = effect_sizes.d_to_r(es["d"])
es[["study", "yi", "vi", "d", "r"]].describe().loc[["mean", "min", "max"]].round(3)

# %% [markdown]
# ## 3 · One scale for relationship and technique
#
# Flückiger, Del Re, Wampold & Horvath (2018, *Psychotherapy*, 55(4), abstract) report the
# alliance–outcome correlation in face-to-face psychotherapy as **r = .278**, "equivalent of
# **d = .579**". Converting their r with our function must give their d, to the three decimals they
# print (tolerance 0.0005). The ledger records the comparison as a *published-conversion* (arithmetic on
# a printed number); notebook 08 re-runs published analyses on their data (*published-reanalysis*).

# %%
d_alliance = float(effect_sizes.r_to_d(0.278))
ledger.record(
    claim="Alliance-outcome r = .278 expressed as Cohen's d",
    published=0.579,
    ours=d_alliance,
    tolerance=0.0005,
    source="Flückiger, Del Re, Wampold & Horvath (2018), Psychotherapy 55(4), 316-340, abstract",
    kind="published-conversion",
)

# %% [markdown]
# Variance explained is the other common currency: $r^2$. An alliance–outcome correlation of .278 is
# about 7.7% of outcome variance — the size of the effects the workbook compares throughout.

# %%
print(f"r = .278 explains {0.278**2:.1%} of outcome variance")

# %% [markdown]
# ## 4 · Unreliability hides part of a correlation
#
# Observed correlations are attenuated by measurement error. Spearman's correction divides by the
# square root of the two reliabilities, $r_c = r / \sqrt{r_{xx} r_{yy}}$. With illustrative
# reliabilities of .85 for an alliance questionnaire and .90 for a symptom measure (assumed here, not
# taken from a study), an alliance–outcome correlation of .278 observed in a study of 200 patients
# would be, with its standard error (the correction inflates the sampling variance too):

# %%
corrected = effect_sizes.correct_for_attenuation(0.278, rxx=0.85, ryy=0.90, ni=200)
print(f"corrected r = {float(corrected.yi[0]):.3f} (SE {float(corrected.sei[0]):.3f})")

# %% [markdown]
# ## 5 · A figure in the house style
#
# Each study's log odds ratio with its 95% confidence interval, sorted by size. The dashed line is
# "no effect". `save_figure` writes PNG (300 dpi), SVG and PDF, byte-identical from run to run, into
# `reports/figures/` under `make reproduce`, and into `alliance-output/figures/` when you run the
# notebook yourself (only `make reproduce` writes `reports/`).

# %%
order = es.sort_values("yi").reset_index(drop=True)
half_width = 1.959963984540054 * np.sqrt(order["vi"])
fig, ax = plt.subplots(figsize=(6.5, 8))
ax.errorbar(order["yi"], np.arange(len(order)), xerr=half_width, fmt="o", ms=3.5,
            color=plots.OKABE_ITO[0], ecolor=plots.OKABE_ITO[0], elinewidth=0.8, capsize=0)
ax.axvline(0, color="0.3", ls="--", lw=0.8)
ax.set_yticks(np.arange(len(order)), order["study"], fontsize=6)
ax.set_xlabel("log odds ratio of not re-offending (CBT vs control), 95% CI")
ax.set_title("CBT programmes for offenders, 58 studies\n(data: Landenberger & Lipsey, 2005)", fontsize=11)
ax.grid(axis="y", visible=False)
fig.tight_layout()
plots.save_figure(fig, "00_tour_study_effects")
plt.show()

# %% [markdown]
# ## Where next
#
# - The meta-analysis engine pools such effects and checks every number against R's *metafor*.
# - Later notebooks take the relationship side (alliance, empathy, rupture repair) and the technique
#   side (therapy types, components) onto this one scale.
# - Every comparison with a published number lands in the ledger: open `reports/index.html` after
#   `make reproduce` (a run by hand records into the scratch ledger `alliance-output/ledger.csv`).
