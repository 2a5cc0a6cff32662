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
# # 00 · A guided tour: how strongly does the therapy relationship go with outcome?
#
# A series of meta-analyses has asked how strongly the **therapeutic relationship** — the working
# alliance, empathy, agreement on goals, collaboration — goes with how much patients improve. This tour
# takes their published results, pools them into one random-effects meta-analysis, reads the forest plot
# row by row and puts the answer on the three scales you will meet in papers: a correlation *r*, a
# standardized difference *d* and a "% of outcome variance".
#
# **Learning goals.** After this notebook you can
#
# - explain what a random-effects meta-analysis estimates (an *average* true effect and the *spread*
#   of true effects, τ²);
# - read a forest plot: each row, the squares' size, the diamond and the prediction interval;
# - convert a correlation r to a standardized difference d and to % of variance explained, and back;
# - run a cell, change a number and check your answer with `check()`.
#
# **Prerequisites.** A correlation coefficient and a mean difference from a first statistics course; a
# 95% confidence interval; how to run a cell in Jupyter (Shift+Enter). No R and no meta-analysis yet.

# %%
import matplotlib.pyplot as plt

from analysis import effect_sizes, ledger, plots, published
from analysis.exercises import check
from analysis.meta import meta_analysis

plots.set_style()

# %% [markdown]
# ## 1 · The data: published relationship elements
#
# The 2018 special issue of *Psychotherapy* (55(4), edited by Norcross & Lambert) pooled, one
# **relationship element** at a time, the correlations between that element and treatment outcome.
# The workbook ships their published results (`data/published/relationship_elements.csv`, read from
# the articles' abstracts; `published.load` checks the file's checksum). Each row is a whole
# meta-analysis: `estimate` is its pooled correlation r, `ci_low`/`ci_high` its 95% confidence
# interval and `k` the number of studies behind it; `status` says whether the row was read in a source
# (`checked`) or not (`unchecked`: shown, never used as a published number).

# %%
table = published.load("relationship_elements")
table.loc[table["side"] == "relationship", ["element", "measure", "estimate", "ci_low", "ci_high", "k", "status"]]

# %% [markdown]
# To pool, every row needs an estimate **and** its uncertainty. We keep the elements published as a
# correlation with a 95% CI and read in a source (`published.checked` drops the unchecked row): seven
# elements.

# %%
rel = published.checked(table)
elements = rel[(rel["side"] == "relationship") & (rel["measure"] == "r")
               & rel["ci_low"].notna() & rel["ci_high"].notna()].reset_index(drop=True)
elements[["element", "estimate", "ci_low", "ci_high", "k"]]

# %% [markdown]
# ## 2 · Correlations are pooled on Fisher's z scale
#
# A correlation's sampling distribution is skewed near ±1, so meta-analyses pool
# $z = \operatorname{artanh}(r)$, whose sampling distribution is close to normal, and turn the result
# back into r at the end. The papers give a 95% CI instead of a standard error; on the z scale the CI is
# $z \pm 1.96\,SE$, so
#
# $$SE = \frac{\operatorname{artanh}(\text{upper}) - \operatorname{artanh}(\text{lower})}{2 \times 1.96},
# \qquad v = SE^2 .$$

# %%
z_low = effect_sizes.fisher_z(elements["ci_low"].to_numpy(float))
z_high = effect_sizes.fisher_z(elements["ci_high"].to_numpy(float))
elements["yi"] = effect_sizes.fisher_z(elements["estimate"].to_numpy(float))
elements["vi"] = ((z_high - z_low) / (2 * 1.959963984540054)) ** 2
elements[["element", "estimate", "yi", "vi"]].round(5)

# %% [markdown]
# ## 3 · Pool them: a random-effects meta-analysis
#
# The **random-effects model** says that each element has its own true correlation, and that those true
# correlations vary around an average with variance **τ²** (tau squared). `meta_analysis` estimates the
# average and τ² (here by restricted maximum likelihood, REML, as R's *metafor* does by default). Each
# row is weighted by $1/(v_i + \tau^2)$: precise rows count more, but when τ² is large the weights even out.

# %%
fit = meta_analysis("yi", "vi", data=elements, method="REML")
print(fit.apa(transform="z2r", label="correlation"))

# %% [markdown]
# On the r scale, with both intervals (`predict` turns z back into r):

# %%
fit.predict(transform="z2r").to_frame().round(3)

# %% [markdown]
# - **pred** — the average correlation of the relationship elements, about .28.
# - **ci_low, ci_high** — the 95% *confidence* interval: where that **average** lies.
# - **pi_low, pi_high** — the 95% *prediction* interval: where the true correlation of **a new,
#   comparable element** (or setting) is expected. It is wider because it adds τ², the real spread.
#
# *A caution before you quote it:* the seven meta-analyses share studies and patients (one study may
# report alliance, empathy and goal consensus), so the rows are not independent and this CI is too
# narrow. The pooled number is a way to learn the tools, not a new finding.
#
# ## 4 · Read the forest plot
#
# - **Each row** is one element: the square is its correlation, the line its 95% CI; the square's
#   **area** is the row's weight in the random-effects model (the % on the right).
# - **The diamond** at the bottom is the pooled average: its centre is the estimate, its width the 95% CI.
# - **The line through the diamond** is the 95% prediction interval.
# - **The vertical line at 0** marks no association: every row, and the diamond, lies clearly to its right.
#
# The rows' intervals are rebuilt from z(r) ± 1.96 SE, so a bound may differ from the printed one by a
# hundredth (the authors' own CIs came from their models). The `apa()` sentence above says "k = 7
# studies": the model does not know that our rows are whole meta-analyses.

# %%
fig = plots.forest_plot(fit, list(elements["element"]), transform="z2r",
                        xlabel="correlation with outcome, r",
                        title="Relationship elements and outcome (published meta-analyses, REML)")
plots.save_figure(fig, "00_tour_study_effects")
plt.show()

# %% [markdown]
# ## 5 · Three scales: r, d and % of variance
#
# Papers on the relationship report r; papers comparing treatments report a standardized mean difference
# d (or Hedges' g). For two groups of equal size they are linked by
#
# $$d = \frac{2r}{\sqrt{1-r^2}}, \qquad r = \frac{d}{\sqrt{d^2+4}},$$
#
# (`effect_sizes.r_to_d` and `effect_sizes.d_to_r`), and the share of outcome variance that goes with the
# element is $100\,r^2$.

# %%
r_pooled = float(fit.predict(transform="z2r").pred[0])
d_pooled = effect_sizes.r_to_d(r_pooled)
print(f"pooled r = {r_pooled:.3f}  ->  d = {d_pooled:.3f}  ->  back to r = {effect_sizes.d_to_r(d_pooled):.3f}")
print(f"% of outcome variance: 100 r^2 = {100 * r_pooled**2:.1f}%")

# %% [markdown]
# An r of .28 is "8% of the variance", which sounds small, yet it is a d of almost 0.6 — a difference
# of more than half a standard deviation between patients with a stronger and a weaker relationship.
# Squaring makes small effects look tiny: notebook 02 comes back to why "% of variance" misleads.

# %% tags=["qc"]
# Checks: our r-to-d conversion against a published one. Flückiger, Del Re, Wampold & Horvath (2018)
# print r = .278 and "d = .579"; the tolerance is half a unit of the printed third decimal. The
# comparison goes to the reproduction ledger (see reports/index.html after `make reproduce`; a run by
# hand records into alliance-output/ledger.csv beside this notebook).
ledger.record(
    claim="Alliance-outcome r = .278 expressed as Cohen's d",
    published=0.579,
    ours=float(effect_sizes.r_to_d(0.278)),
    tolerance=0.0005,
    source="Flückiger, Del Re, Wampold & Horvath (2018), Psychotherapy 55(4), 316-340, abstract",
    kind="published-conversion",
)

# %% [markdown]
# ## Where next
#
# - [01 · Relationship elements](01_relationship_elements.ipynb) — every element and the technique side
#   on one scale (the workbook's headline figure), and the full meta-analysis workflow on open
#   study-level data: heterogeneity, funnel plot, publication bias, moderators.
# - [02 · Relationship vs technique](02_relationship_vs_technique.ipynb) — do therapy types differ (the
#   "Dodo bird")? Several effect sizes per trial, robust inference, network meta-analysis.
# - [03 · Therapist effects](03_therapist_effects.ipynb) — how much outcome depends on *who* the therapist
#   is (the intraclass correlation), and the therapist's vs the patient's part of the alliance; multilevel
#   models on simulated data with known truth.
# - [04 · Session by session](04_session_by_session.ipynb) — does this week's alliance predict next
#   week's symptoms? Person-mean centring, reverse causation, cross-lagged panel models.
# - [05 · Change and ruptures](05_change_and_ruptures.ipynb) — reliable and clinically significant change,
#   sudden gains, rupture–repair episodes in one patient's sessions.
# - [06 · Measuring the alliance](06_alliance_measurement.ipynb) — scoring the WAI-SR, reliability, factor
#   structure and measurement invariance, and what measurement error does to correlations.
# - [07 · Power and design](07_power_and_design.ipynb) — how many therapists and patients a study needs,
#   by simulation, and what ignoring therapists does to type I error.
# - [08 · Reproductions](08_reproductions.ipynb) — published analyses re-run on their data, number by number.

# %% [markdown]
# ## Exercises
#
# From thinking to doing. Put your answer in place of `None` and run the cell: `check` says *Right* or
# *Not yet* with a hint, without showing the answer. Worked answers:
# [answers/00_tour.ipynb](answers/00_tour.ipynb).
#
# **1 (concept).** A colleague wants to tell a clinic how strongly the alliance *in their setting* will
# go with outcome. Which interval of section 3 answers that question: `"CI"` or `"PI"`?

# %%
your_answer = None  # "CI" or "PI"
check("00.1", your_answer) if your_answer is not None else "not answered yet"

# %% [markdown]
# **2 (convert).** Empathy's published correlation is in the table of section 1. Convert it to Cohen's d
# and to % of outcome variance. Answer as two numbers to two decimals, `[d, percent]`.

# %%
your_answer = None  # [d, percent]
check("00.2", your_answer) if your_answer is not None else "not answered yet"

# %% [markdown]
# **3 (read the plot).** In the forest plot, what weight (in %) does the adult-alliance row get? Predict
# first: why is it not close to 100%, although that row's CI is by far the narrowest? (Look at
# `fit.weights`.)

# %%
your_answer = None  # weight in %
check("00.3", your_answer) if your_answer is not None else "not answered yet"

# %% [markdown]
# **4 (predict, then refit).** A *fixed-effect* model (`method="FE"`) assumes τ² = 0: one true
# correlation for all elements. Predict whether the pooled r moves towards the adult-alliance row
# (.278) or away from it, and whether its CI gets wider or narrower. Then refit and give the pooled r.

# %%
your_answer = None  # pooled r of the fixed-effect model
check("00.4", your_answer) if your_answer is not None else "not answered yet"

# %% [markdown]
# **5 (relationship vs technique).** The table's technique rows include "CBT vs other psychotherapies
# for depression", published as Hedges' g. Convert that g to r (treat g as d), then say how many times
# larger the % of variance of the pooled relationship r (section 5) is than that of the CBT contrast.

# %%
your_answer = None  # ratio of the two % of variance
check("00.5", your_answer) if your_answer is not None else "not answered yet"
