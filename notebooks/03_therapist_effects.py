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
# # 03 · Therapist effects: Baldwin, Wampold & Imel (2007) in miniature
#
# Patients are nested in therapists. Two questions follow from that nesting, and this notebook
# answers both on data whose truth we know:
#
# 1. **How much do therapists differ?** The share of outcome variance that lies *between*
#    therapists (the intraclass correlation, ICC), and each therapist's predicted effect.
# 2. **Whose alliance matters?** A patient's alliance rating mixes what the *therapist* brings (some
#    therapists form better alliances with all their patients) and what the *patient* brings. The
#    two parts can predict outcome differently, and a plain correlation of alliance with outcome
#    mixes them.
#
# **All data in this notebook are SIMULATED** (by `analysis.simulate.simulate_trial`), so every
# estimate can be compared with the value that generated it. Section 10 shows how to run the same
# functions on your own data.

# %% [markdown]
# **Learning goals.** After this notebook you can
#
# - state the random-intercept model, its assumptions, and read its variance components and ICC;
# - read a caterpillar plot and explain why predicted therapist effects are shrunk;
# - check the model's assumptions with residual and random-effect QQ plots and a residuals-vs-fitted plot;
# - split the alliance into its within- and between-therapist parts and say why the total slope mixes them;
# - fit a random slope, test a variance component, and explain why fixed effects must be compared with
#   ML (not REML) likelihood-ratio tests;
# - say what dropping patients with missing outcomes does, and what a mixed model using every observation
#   does, when data are missing at random.
#
# **Prerequisites.** Linear regression (coefficients, residuals, R²); the idea of a likelihood and of a
# likelihood-ratio test; notebook 02 for the alliance–outcome correlation. No multilevel modelling is
# assumed.
#
# Cells tagged `qc` (first line `# Checks: ...`, at the end of a section) are the workbook's own quality
# control — comparisons with the simulation's truth and with R's lme4, recorded in the ledger. You can
# skip them on a first reading.

# %%
import json
import shutil
import tempfile
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import display

from analysis import datasets, ledger, plots
from scipy import stats

from analysis.growth import growth_model
from analysis.multilevel import BoundaryWarning, disaggregate_alliance, therapist_effect
from analysis.simulate import simulate_trial

plots.set_style()

# %% [markdown]
# The Monte Carlo check in section 8 refits many simulated trials. Its size is a parameter: the
# report runner may lower it (the cell is tagged `parameters`).

# %% tags=["parameters"]
n_replicates = 50  # Monte Carlo replicates in section 8 (each: two trials of 331 patients)
mc_seed = 2007  # seed of the Monte Carlo

# %% [markdown]
# ## 1 · What Baldwin, Wampold & Imel asked
#
# Baldwin, Wampold & Imel (2007, *J Consult Clin Psychol*, 75(6), 842–852; abstract) studied
# **331 patients treated by 80 therapists** (a mean caseload of about 4.1). Patients rated the
# alliance and their outcome; the models adjusted for baseline functioning. They split the alliance
# into its **therapist** part (differences between therapists' average alliances) and its
# **patient** part (differences among one therapist's patients) and found that **therapist
# variability in the alliance predicted outcome, patient variability did not**.
#
# The paper's coefficients are not quoted here: they have not been checked against the article, and
# the workbook only quotes numbers read in a source. What we reproduce is the *design* and the
# *method*: a two-level model with the alliance split by group-mean centring.
#
# How big are therapist effects in general? Johns, Barkham, Kellett & Saxon (2019, *Clin Psychol
# Rev*) reviewed the literature: therapist effects ranged from 0.2% to 29% of outcome variance, with
# a **weighted average of 5%** (checked in `published_figures.md`).

# %% [markdown]
# ## 2 · A simulated trial with Baldwin's design
#
# The workbook ships a **SIMULATED** trial with that design in `data/simulated/`: 80 therapists with
# unequal caseloads summing to 331 patients, 12 sessions, PHQ-9 symptoms (0–27, lower is better) and
# WAI-SR alliance ratings (item mean 1–5). The data package records the generator, its seed and the
# **generating truth**; loading checks the file's sha256 and schema.

# %%
SIMULATED = datasets.PACKAGE_PATH.parent / "simulated"
pkg = json.loads((SIMULATED / "datapackage.json").read_text(encoding="utf-8"))
resource = next(r for r in pkg["resources"] if r["name"] == "baldwin2007-design-patients")
print(resource["title"])
print(resource["description"])

pts = datasets.load("baldwin2007-design-patients", package=SIMULATED)
true_th = datasets.load("baldwin2007-design-therapists-truth", package=SIMULATED)
gen = resource["generator"]
params, truth = gen["parameters"], gen["implied_population_values"]
caseload = pts.groupby("therapist").size()
print(f"\n{len(pts)} patients, {pts['therapist'].nunique()} therapists, "
      f"caseload mean {caseload.mean():.2f} (range {caseload.min()}-{caseload.max()}), seed {gen['seed']}")
pts.head()

# %% [markdown]
# The generating truth we will try to recover (population values of the simulator):
#
# - the **therapist ICC** of the post score given the intake score, within arm: 5%, calibrated to
#   Johns et al. (2019);
# - the **alliance coefficients**: a patient's improvement (pre − post, PHQ-9 points) rises by
#   β_W per WAI-SR point of the patient's own alliance above the therapist's, and by β_B per point of
#   the therapist's alliance component. In this shipped trial β_W = β_B (the simulator's default): no
#   contextual effect. Section 6 also simulates a world shaped like Baldwin's finding.

# %%
truth_table = pd.Series({
    "therapist ICC (post | pre)": truth["therapist_icc"],
    "beta_W (within, PHQ-9 per WAI-SR point)": truth["alliance_within"],
    "beta_B (between, PHQ-9 per WAI-SR point)": truth["alliance_between"],
    "alliance-outcome r (population)": truth["alliance_outcome_r"],
    "therapist share of one alliance rating": truth["alliance_icc"],
}, name="truth")
truth_table.round(4).to_frame()

# %% [markdown]
# ## 3 · How much do therapists differ?
#
# `therapist_effect` fits the random-intercept model
# $y_{ij} = x_{ij}^\top\beta + u_j + e_{ij}$, $u_j \sim N(0,\tau^2)$, $e_{ij} \sim N(0,\sigma^2)$,
# by REML (checked against R's lme4 in the tests), and reports
# $\mathrm{ICC} = \tau^2/(\tau^2+\sigma^2)$ with a profile-likelihood interval. The outcome is the
# post score, adjusted for the intake score and the arm, as the truth is defined.

# %%
fit = therapist_effect(pts, "post", "therapist", covariates=["pre", "arm"])
print(fit.summary())
print()
print(fit.apa())

# %% [markdown] tags=["qc"]
# **Checks: against the truth.** One trial of 80 therapists pins the ICC down poorly: look at the width of
# the interval. The fair check of one trial is whether its 95% interval contains the true 5%. We
# record it with a tolerance equal to the distance from the estimate to the interval's limit on the
# truth's side, so the entry passes exactly when the interval covers the truth (which a 95% interval
# does in 95% of trials; a FAIL would be shown, not hidden).

# %% tags=["qc"]
# Checks: the ICC's 95% interval covers the generating truth (ledger, kind "simulation")
lo, hi = fit.icc_ci
tol_icc = (fit.icc - lo) if truth["therapist_icc"] < fit.icc else (hi - fit.icc)
ledger.record(
    claim="Therapist ICC of post | pre (SIMULATED Baldwin-design trial, 331 patients) vs generating truth; "
          "tolerance = distance to the 95% profile CI limit",
    published=truth["therapist_icc"],
    ours=fit.icc,
    tolerance=float(tol_icc),
    source="analysis.simulate truth (data/simulated/datapackage.json, seed 20071)",
    kind="simulation",
)

# %% [markdown] tags=["qc"]
# **Checks: against the published 5%.** A single small trial cannot test a literature average. The simulator
# is *calibrated* to Johns et al.'s 5%, so the question we can ask is whether the simulated world
# and our estimator, together, give back the published share when the sample is large: 500
# therapists with 20 patients each (10,000 patients, a fresh seed). The tolerance is set before
# looking: 0.005 because the review prints a whole percentage (5% stands for 4.5–5.5%), plus the
# larger half of the large sample's own 95% interval (its sampling error). Rounding and clipping of
# the simulated scores to the PHQ-9 range may move the true ICC slightly off 5%; this check would
# catch a large shift. The ledger files it under *simulation*, not as a re-analysis: the review's
# data are not analysed here, the simulated world calibrated to its figure is.

# %% tags=["qc"]
# Checks: a large simulated trial gives back Johns et al.'s 5% (ledger, kind "simulation")
big = simulate_trial(n_therapists=500, caseload=20, seed=20191).patients
fit_big = therapist_effect(big, "post", "therapist", covariates=["pre", "arm"])
blo, bhi = fit_big.icc_ci
tol_big = 0.005 + max(fit_big.icc - blo, bhi - fit_big.icc)
print(fit_big.apa())
ledger.record(
    claim="Therapist share of outcome variance, weighted average across studies, vs ICC of a large "
          "SIMULATED trial calibrated to it (10,000 patients, 500 therapists)",
    published=0.05,
    ours=fit_big.icc,
    tolerance=float(tol_big),
    source="Johns, Barkham, Kellett & Saxon (2019), Clin Psychol Rev, abstract (weighted average 5%)",
    kind="simulation",
)

# %% [markdown]
# ## 4 · Each therapist's effect: a caterpillar plot
#
# The model also predicts each therapist's effect $\hat u_j$ (the BLUP): the therapist's mean
# residual **shrunk toward 0** by $c_j n_j = n_j\tau^2/(\sigma^2 + n_j\tau^2)$ — strongly for a
# therapist with one or two patients, less for one with sixteen. `plots.caterpillar_plot` draws them
# ranked, with their 95% intervals. On the post score, **negative is better** (fewer symptoms).
#
# Because the data are simulated, we can add what no real study shows: each therapist's **true**
# effect on the post score ($-(\theta_j + \beta_B a_j)$, centred), as crosses.

# %%
fig = plots.caterpillar_plot(fit, title="Therapist effects on the PHQ-9 post score (SIMULATED)")
ax = fig.axes[0]
order = np.argsort(fit.effects["effect"].to_numpy(), kind="stable")
true_effect = -true_th.set_index("therapist")["outcome_effect"].astype(float)
true_effect = (true_effect - true_effect.mean()).reindex(fit.effects["therapist"].to_numpy()[order])
ax.plot(true_effect.to_numpy(), np.arange(len(order)), "x", ms=4, color=plots.OKABE_ITO[3],
        label="true effect (simulation only)")
ax.legend(loc="upper left", fontsize=8, frameon=True)
fig.tight_layout()
plots.save_figure(fig, "03_caterpillar")
plt.show()

r_blup = np.corrcoef(fit.effects["effect"], true_effect.reindex(fit.effects["therapist"]))[0, 1]
covered = ((true_effect.to_numpy() >= fit.effects["ci_low"].to_numpy()[order])
           & (true_effect.to_numpy() <= fit.effects["ci_high"].to_numpy()[order])).mean()
print(f"correlation of predicted with true therapist effects: {r_blup:.2f}")
print(f"share of true effects inside their 95% intervals: {covered:.0%}")

# %% [markdown]
# Most intervals cross 0: with four patients per therapist, a single therapist's effect is barely
# identifiable even when therapists truly differ. Ranking therapists from such data (league tables)
# would mostly rank noise.

# %% [markdown]
# ## 5 · Assumptions and diagnostics
#
# The random-intercept model makes assumptions that the data can contradict:
#
# 1. **linearity**: the outcome depends linearly on the covariates (here intake and arm);
# 2. **level-1 residuals** $e_{ij}$: independent, normal, with the *same* variance $\sigma^2$ for every
#    patient and therapist;
# 3. **random effects** $u_j$: normal with variance $\tau^2$, independent of the covariates (a therapist's
#    effect does not depend on the kind of patients they see) and of the residuals;
# 4. **independence** between therapists, and between patients of one therapist once $u_j$ is known.
#
# Non-normal residuals or random effects bias the fixed effects little, but they make the intervals of
# the variances, the ICC and the BLUPs less trustworthy; a covariate that is correlated with $u_j$ (e.g.
# therapists who are assigned the hardest patients) biases the fixed effects themselves (Snijders & Bosker
# 2012, ch. 10). Three plots check 1–3: a QQ plot of the residuals $\hat e_{ij} = y_{ij} -
# x_{ij}^\top\hat\beta - \hat u_j$, a QQ plot of the BLUPs $\hat u_j$, and the residuals against the
# fitted values $x_{ij}^\top\hat\beta + \hat u_j$.

# %%
fig = plots.mixed_model_diagnostics(fit, pts, title="Random-intercept model of the post score: diagnostics "
                                                     "(SIMULATED)")
plots.save_figure(fig, "03_diagnostics")
plt.show()
print(f"patients at the PHQ-9 floor (post = 0): {(pts['post'] == 0).sum()} of {len(pts)}")

# %% [markdown]
# **Reading the plots.** The residuals follow the normal line except in the lower tail, and the
# residuals-vs-fitted plot shows why: a straight lower edge of points with residual $= -\text{fitted}$.
# Those are the patients whose post score is 0; the PHQ-9 cannot go lower, so the model's normal errors
# are cut off there (the floor effect that section 8 meets again). The BLUPs lie close to their line:
# nothing speaks against normal therapist effects — with 80 therapists a QQ plot of BLUPs can only
# reveal gross departures, and BLUPs are shrunk, so read the shape, not the slope. The LOWESS line
# stays near 0 apart from the floor region: no sign of a missing curvature. A floor like this one
# would matter more in a sample of milder patients; a model for censored outcomes (a Tobit model) or an
# outcome without a floor are the remedies.

# %% [markdown]
# ## 6 · Whose alliance predicts outcome? Within vs between therapists
#
# `disaggregate_alliance` splits each patient's mean alliance $A_{ij}$ into the therapist's mean
# $\bar A_j$ and the patient's deviation $A_{ij} - \bar A_j$ and fits
#
# $$y_{ij} = \beta_0 + \beta_W (A_{ij}-\bar A_j) + \beta_B \bar A_j + x_{ij}^\top\gamma + u_j + e_{ij}.$$
#
# The outcome is the improvement (pre − post, positive = better), adjusted for intake and arm, so that
# the coefficients are on the scale of the truth. The contextual effect $\beta_B - \beta_W$ tests
# whether the therapist part matters more than the patient part.

# %%
dis = disaggregate_alliance(pts, "change", "alliance_mean", "therapist", covariates=["pre", "arm"])
print(dis.summary())
print()
print(dis.apa())

# %% [markdown]
# ### The total coefficient mixes the two
#
# A plain regression of improvement on alliance ignores the nesting. Its slope is an exact weighted
# average of the *within* slope (patients compared with their own therapist's other patients) and
# the *between* slope (therapists' means compared, each weighted by caseload), with weights equal to
# the alliance's within- and between-therapist sums of squares:
#
# $$b_{total} = \frac{SS_W\, b_W + SS_B\, b_B}{SS_W + SS_B}.$$
#
# (Ordinary least squares without covariates here, so that the identity is exact; the multilevel
# estimates above also adjust for intake and arm and weight therapists by their precision.)
#
# In the shipped trial the two true slopes are equal, so the mix hides nothing. To see what it does
# hide, we simulate a second trial with the same design, seed and calibration but a world **shaped
# like Baldwin's finding**: the patient part of the alliance has no effect (β_W = 0) and the therapist
# part has β_B = 5 PHQ-9 points per WAI-SR point (an illustrative value, not Baldwin's estimate).

# %%
baldwin_world = {**params, "alliance_within": 0.0, "alliance_between": 5.0, "alliance_outcome_r": None}
trial_b = simulate_trial(**baldwin_world)
print(trial_b.summary())
pts_b = trial_b.patients
dis_b = disaggregate_alliance(pts_b, "change", "alliance_mean", "therapist", covariates=["pre", "arm"])
print()
print(dis_b.apa())


# %%
def ols_slopes(df, y="change", a="alliance_mean", g="therapist"):
    """Within, between (caseload-weighted) and total OLS slopes, and the sums of squares."""
    a_bar = df.groupby(g)[a].transform("mean")
    y_bar = df.groupby(g)[y].transform("mean")
    aw, yw = df[a] - a_bar, df[y] - y_bar
    ab, yb = a_bar - df[a].mean(), y_bar - df[y].mean()
    ss_w, ss_b = float((aw**2).sum()), float((ab**2).sum())
    b_w, b_b = float((aw * yw).sum()) / ss_w, float((ab * yb).sum()) / ss_b
    b_t = float(((df[a] - df[a].mean()) * (df[y] - df[y].mean())).sum() / ((df[a] - df[a].mean())**2).sum())
    return {"within": b_w, "between": b_b, "total": b_t, "SS_W": ss_w, "SS_B": ss_b}


slopes = {"shipped trial (beta_W = beta_B)": ols_slopes(pts), "Baldwin-shaped world (beta_W = 0)": ols_slopes(pts_b)}
for name, s in slopes.items():
    mix = (s["SS_W"] * s["within"] + s["SS_B"] * s["between"]) / (s["SS_W"] + s["SS_B"])
    assert np.isclose(mix, s["total"], rtol=1e-12), "the decomposition is an identity"
    print(f"{name}: within {s['within']:.2f}, between {s['between']:.2f}, total {s['total']:.2f} "
          f"= {s['SS_W'] / (s['SS_W'] + s['SS_B']):.0%} within + {s['SS_B'] / (s['SS_W'] + s['SS_B']):.0%} between")
pd.DataFrame(slopes).T.round(3)

# %% [markdown]
# Most of the alliance's variance lies within therapists, so the total slope leans toward the
# *patient* part. In the Baldwin-shaped world the total slope is small although therapists' alliances
# matter a lot: a plain alliance–outcome correlation under-states the therapist part and credits
# patients with an effect they do not have.

# %%
fig = plots.within_between_plot(
    {"Shipped trial: β_W = β_B": pts, "Baldwin-shaped world: β_W = 0, β_B = 5": pts_b},
    xlabel="patient's mean alliance (WAI-SR, 1-5)", ylabel="improvement, pre - post (PHQ-9 points)",
    title="Within-, between-therapist and total alliance slopes (SIMULATED data)")
plots.save_figure(fig, "03_within_between")
plt.show()

# %% [markdown] tags=["qc"]
# **Checks: against the truth**, with a tolerance of 3 standard errors of each estimate (a 3-SE band misses
# an unbiased, normally distributed estimate in about 0.3% of trials). The within coefficient is
# slightly attenuated by the measurement error of the alliance ratings (reliability .85 per session,
# averaged over 12 sessions), far less than one SE here.

# %% tags=["qc"]
# Checks: within and between coefficients vs the generating truth, 3 SE (ledger, kind "simulation")
for part, est, se, true in [("within", dis.within, dis.within_se, truth["alliance_within"]),
                            ("between", dis.between, dis.between_se, truth["alliance_between"])]:
    display(ledger.record(
        claim=f"Alliance-outcome coefficient {part} therapists (SIMULATED Baldwin-design trial) vs "
              f"generating truth; tolerance 3 SE",
        published=true,
        ours=est,
        tolerance=3 * se,
        source="analysis.simulate truth (data/simulated/datapackage.json, seed 20071)",
        kind="simulation",
        unit="PHQ-9 points per WAI-SR point",
    ))

# %% [markdown]
# ## 7 · Random slopes, and REML vs ML
#
# ### Does the alliance matter more with some therapists?
#
# So far therapists differ in their *level* ($u_{0j}$) but share one alliance slope. A **random slope**
# lets the within-therapist slope vary from therapist to therapist:
#
# $$y_{ij} = \beta_0 + (\beta_W + u_{1j})(A_{ij}-\bar A_j) + \beta_B \bar A_j + x_{ij}^\top\gamma + u_{0j}
#   + e_{ij},\qquad \begin{pmatrix}u_{0j}\\u_{1j}\end{pmatrix} \sim N\!\left(0, \begin{pmatrix}\tau_0^2 &
#   \tau_{01}\\ \tau_{01} & \tau_1^2\end{pmatrix}\right).$$
#
# $\tau_1$ is the SD of the therapists' slopes around $\beta_W$. It is what lme4 writes as
# `(1 + alliance_within | therapist)` and what `disaggregate_alliance(..., random_slope=True)` fits.
#
# The shipped trial has no such variation. To see one whose size we know, we **add** it: each therapist
# gets a slope deviation $s_j \sim N(0, 3^2)$ (seed 2025) and each patient's improvement gains
# $s_j (A_{ij} - \bar A_j)$ — nothing changes for a patient at their therapist's mean alliance. The true
# slope variance is $\tau_1^2 = 9$; $\beta_W$ and $\beta_B$ are unchanged.

# %%
slope_sd, slope_seed = 3.0, 2025
codes, therapists = pd.factorize(pts["therapist"], sort=True)
slope_j = np.random.default_rng(slope_seed).normal(0.0, slope_sd, len(therapists))
a_within = pts["alliance_mean"] - pts.groupby("therapist")["alliance_mean"].transform("mean")
pts_slope = pts.assign(change=pts["change"] + slope_j[codes] * a_within)

rs = disaggregate_alliance(pts_slope, "change", "alliance_mean", "therapist", covariates=["pre", "arm"],
                           random_slope=True)
print(rs.summary())
print(f"\nslope SD: true {slope_sd:.1f} (the 80 drawn slopes: {slope_j.std(ddof=1):.2f}); "
      f"estimated {np.sqrt(rs.slope_var):.2f}")

# %% [markdown]
# **Is the slope variance real? A likelihood-ratio test of a variance.** Compare the model with and
# without the random slope. They have the same fixed effects, so their REML log-likelihoods can be
# compared (REML is preferred for variances). The random slope adds two parameters ($\tau_1^2$ and
# $\tau_{01}$), but under the null hypothesis $\tau_1^2 = 0$ lies on the *boundary* of its range, so the
# statistic does not follow $\chi^2_2$: the usual reference is a 50:50 mixture of $\chi^2_1$ and
# $\chi^2_2$ (Self & Liang 1987; Snijders & Bosker 2012, sec. 6.2), whose p-value is smaller than the
# naive one — the naive test is conservative.

# %%
ri = disaggregate_alliance(pts_slope, "change", "alliance_mean", "therapist", covariates=["pre", "arm"])
lr_slope = 2 * (rs.loglik - ri.loglik)
p_naive = stats.chi2.sf(lr_slope, 2)
p_mix = 0.5 * stats.chi2.sf(lr_slope, 1) + 0.5 * stats.chi2.sf(lr_slope, 2)
print(f"REML log-likelihoods: random intercept {ri.loglik:.3f}, random slope {rs.loglik:.3f}")
print(f"LR = {lr_slope:.2f}; p = {p_naive:.4f} against chi2(2), p = {p_mix:.4f} against the 50:50 mixture")

# %% [markdown]
# ### REML vs ML: why fixed effects are compared with ML
#
# **ML** maximises the likelihood of the data over $\beta$ and the variances together, and treats the
# estimated $\hat\beta$ as if it were known: its variance estimates are too small, by about the number
# of fixed effects per cluster (as dividing a sample variance by $n$ instead of $n-1$). **REML** maximises
# the likelihood of the residual contrasts — the part of the data that is free of $\beta$ — and gives
# less biased variances. That is why REML is the default.
#
# The price: the REML likelihood is a likelihood of *contrasts that depend on the fixed-effect design
# $X$*. Two models with different fixed effects define different contrasts, so their REML
# log-likelihoods belong to different data and their difference is **not** a likelihood ratio. A
# simple demonstration: express the intake score in tens of points (`pre / 10`). The model, its fit and
# every prediction are the same; the ML log-likelihood is the same; the REML log-likelihood moves by
# $\log 10 = 2.30$ (the REML criterion contains $\log|X^\top V^{-1}X|$, which depends on the units of $X$).

# %%
units = []
for method in ("REML", "ML"):
    in_points = therapist_effect(pts, "post", "therapist", covariates=["pre", "arm"], method=method)
    in_tens = therapist_effect(pts.assign(pre10=pts["pre"] / 10), "post", "therapist",
                               covariates=["pre10", "arm"], method=method)
    units.append({"method": method, "tau^2": in_points.therapist_var, "sigma^2": in_points.residual_var,
                  "ICC": in_points.icc, "logLik, pre in points": in_points.loglik,
                  "logLik, pre in tens": in_tens.loglik,
                  "difference": in_tens.loglik - in_points.loglik})
pd.DataFrame(units).set_index("method").round(4)

# %% [markdown]
# ML's therapist variance is smaller than REML's, as expected. To test a **fixed effect** — does the
# patient's mean alliance predict the post score beyond intake and arm? — fit both models by **ML** and
# compare (the likelihood-ratio test; lme4's `anova()` refits REML models by ML for this reason). Then
# report the estimates of the chosen model from its REML fit.

# %%
m0 = therapist_effect(pts, "post", "therapist", covariates=["pre", "arm"], method="ML")
m1 = therapist_effect(pts, "post", "therapist", covariates=["pre", "arm", "alliance_mean"], method="ML")
lr_fixed = 2 * (m1.loglik - m0.loglik)
print(f"ML: logLik {m0.loglik:.3f} without, {m1.loglik:.3f} with the alliance; "
      f"LR = {lr_fixed:.2f}, df = 1, p = {stats.chi2.sf(lr_fixed, 1):.2g}")
m1_reml = therapist_effect(pts, "post", "therapist", covariates=["pre", "arm", "alliance_mean"])
print(m1_reml.fixed.loc[["alliance_mean"]].round(3).to_string())

# %% [markdown] tags=["qc"]
# **Checks: against lme4.** `tests/oracles/multilevel_slopes.R` fits the same models with `lme4::lmer`
# (REML and ML, random intercept and random slope) to this notebook's data, exported to
# `tests/fixtures/multilevel_slopes_data.csv`; `tests/test_multilevel_slopes.py` checks fixed effects,
# SEs, variance components and log-likelihoods to 1e-4. Here: the data are the same, and two of the
# numbers above are recorded (tolerance 1e-4 relative, that of the tests).

# %% tags=["qc"]
# Checks: this section's data and results against lme4 (ledger, kind "oracle")
FIXTURES = datasets.PACKAGE_PATH.parent.parent / "tests" / "fixtures"
lme4_ref = json.loads((FIXTURES / "multilevel_slopes.json").read_text(encoding="utf-8"))
exported = pd.read_csv(FIXTURES / "multilevel_slopes_data.csv")
assert np.allclose(exported["change"], pts_slope["change"], rtol=0, atol=1e-12), "the oracle's data are this section's"
r_slope = {(v["var1"], v["var2"]): v["vcov"] for v in lme4_ref["slope"]["fits"]["REML"]["varcomp"]}
display(ledger.record(
    claim="Random-slope variance of the within-therapist alliance slope (REML; SIMULATED Baldwin-design "
          "trial with added slopes) vs lme4::lmer",
    published=r_slope[("alliance_mean_within", None)], ours=rs.slope_var,
    tolerance=1e-4 * r_slope[("alliance_mean_within", None)],
    source="tests/oracles/multilevel_slopes.R (lme4 1.1-31, bobyqa)", kind="oracle",
    unit="(PHQ-9 points per WAI-SR point)^2"))
display(ledger.record(
    claim="ML likelihood-ratio statistic for the patient's mean alliance (post | pre, arm; SIMULATED "
          "Baldwin-design trial) vs lme4 anova()",
    published=lme4_ref["lrt_alliance"]["chisq"], ours=lr_fixed, tolerance=1e-4,
    source="tests/oracles/multilevel_slopes.R (lme4 1.1-31, anova of ML fits)", kind="oracle"))

# %% [markdown]
# ## 8 · Monte Carlo in miniature: is the between-therapist estimate unbiased?
#
# One trial shows one draw. Repeating the whole study many times shows what the *method* does. We
# simulate `n_replicates` trials with the shipped design and calibration (fresh seeds) and fit
# `disaggregate_alliance` to each, three ways:
#
# 1. **model-exact**: the data the model describes exactly — each patient's *true* mean alliance
#    ($a_j + \tilde w_i$ from the simulator) and symptom scores with measurement error but not rounded
#    to whole points nor cut at 0 and 27. This checks the estimator itself;
# 2. **observed**: the scores a study sees (rounded, bounded, alliance rated with error);
# 3. **observed, Baldwin-shaped world** (β_W = 0, β_B = 5; same seeds), for a warning that follows.
#
# The ledger records the first: the mean between-therapist estimate against the truth, with a
# tolerance of 3 Monte Carlo standard errors (SD of the estimates / √replicates); an unbiased
# estimator's mean lands outside that band in about 0.3% of Monte Carlo runs.

# %%
def model_exact(trial):
    """Patients with the true mean alliance and unrounded, unbounded symptom scores (simulation only)."""
    lat, th = trial.truth["latent"], trial.truth["therapists"].set_index("therapist")
    out = trial.patients[["patient", "therapist", "arm"]].copy()
    out["pre"] = lat["pre_measured"].to_numpy()
    out["change"] = (lat["pre_measured"] - lat["post_measured"]).to_numpy()
    out["alliance_mean"] = (th["alliance_component"].reindex(out["therapist"]).to_numpy()
                            + lat["alliance_within_component"].to_numpy())
    return out


seeds = np.random.SeedSequence(mc_seed).spawn(n_replicates)
rows, n_singular = [], 0
for k, ss in enumerate(seeds):
    seed = int(ss.generate_state(1)[0])
    shipped = simulate_trial(**{**params, "seed": seed})
    baldwin = simulate_trial(**{**baldwin_world, "seed": seed})
    for how, df in [("model-exact", model_exact(shipped)), ("observed", shipped.patients),
                    ("observed, Baldwin-shaped", baldwin.patients)]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", BoundaryWarning)  # counted below, not hidden
            r = disaggregate_alliance(df, "change", "alliance_mean", "therapist", covariates=["pre", "arm"])
        n_singular += r.singular
        rows.append({"replicate": k, "data": how, "within": r.within, "between": r.between,
                     "between_se": r.between_se})
mc = pd.DataFrame(rows)
print(f"{n_replicates} replicates x 3 fits; "
      f"{n_singular} of {len(mc)} fits on the boundary (therapist variance 0)")

true_b = {"model-exact": truth["alliance_between"], "observed": truth["alliance_between"],
          "observed, Baldwin-shaped": 5.0}
true_w = {"model-exact": truth["alliance_within"], "observed": truth["alliance_within"],
          "observed, Baldwin-shaped": 0.0}
mc["true_between"] = mc["data"].map(true_b)
mc["covered"] = ((mc["between"] - 1.959964 * mc["between_se"] <= mc["true_between"])
                 & (mc["true_between"] <= mc["between"] + 1.959964 * mc["between_se"]))
summary = mc.groupby("data", sort=False).agg(mean_between=("between", "mean"), sd_between=("between", "std"),
                                             mean_se=("between_se", "mean"), coverage_95=("covered", "mean"),
                                             mean_within=("within", "mean"))
summary.insert(2, "mc_se", summary["sd_between"] / np.sqrt(n_replicates))
summary["true_between"] = pd.Series(true_b)
summary["true_within"] = pd.Series(true_w)
summary.round(3)

# %% [markdown]
# **Observed scores.** On the scores a study sees, the estimates sit a little lower. Two things
# differ from the model: the PHQ-9 cannot go below 0, so the patients who improve most (often those
# of the best therapists) are cut at the floor, which flattens every alliance slope; and alliance
# ratings carry error. With few replicates this is within Monte Carlo error; with several hundred it
# shows as a bias of a few percent. It belongs to the measurement, not to the estimator — which is
# why the ledger checks the estimator on model-exact data and shows the observed case beside it.
# Note also the model-based SEs against the SD of the estimates, and the coverage of the 95%
# intervals: in a design this small they are only approximately right.

# %% [markdown]
# **A warning from the Baldwin-shaped world.** There the between estimate is *not* centred on the
# true β_B = 5: it is pulled toward the within coefficient. The therapist's *observed* mean alliance,
# averaged over about four patients, contains those patients' own deviations (and rating error), so
# it measures the therapist's alliance component with limited reliability; part of what it carries
# behaves like the patient part. This is the bias of the manifest group mean described by Lüdtke,
# Marsh, Robitzsch, Trautwein, Asparouhov & Muthén (2008, *Psychological Methods*, 13(3), 203–229).
# It does not arise when β_W = β_B (the shipped world) and shrinks as caseloads grow. For Baldwin's
# design it means the therapist part is, if anything, **under**-estimated, and the contextual
# difference β_B − β_W is biased toward 0. This is shown, not recorded: under manifest aggregation
# the estimator's target is not the generating β_B.
#
# A rough guide (our approximation, not from the paper): with $\lambda$ the reliability of an
# observed therapist mean, $\lambda = V_a / (V_a + V_w/\bar n)$ ($V_a$, $V_w$ the between- and
# within-therapist variances of the latent mean alliance, $\bar n$ the mean caseload), the between
# estimate centres near $\beta_W + \lambda(\beta_B - \beta_W)$. It ignores unequal caseloads,
# rating error and the model's precision weights, so expect it to be near, not equal to, the Monte
# Carlo mean.

# %%
s_b = summary.loc["observed, Baldwin-shaped"]
print(f"Baldwin-shaped world: mean between estimate {s_b['mean_between']:.2f} "
      f"(Monte Carlo SE {s_b['mc_se']:.2f}) vs true beta_B = 5; "
      f"mean within estimate {s_b['mean_within']:.2f} vs true beta_W = 0")
v_a = truth["alliance_therapist_var"]
v_w = truth["alliance_within_mean_var"]
lam = v_a / (v_a + v_w / caseload.mean())
print(f"reliability of an observed therapist mean over {caseload.mean():.1f} patients: {lam:.2f}; "
      f"rough guide to the between estimate: 0 + {lam:.2f} x (5 - 0) = {lam * 5:.2f}")

# %% tags=["qc"]
# Checks: the Monte Carlo mean of the between coefficient vs the truth, 3 MC SE (ledger, kind "simulation")
s_exact = summary.loc["model-exact"]
ledger.record(
    claim=f"Monte Carlo mean of the between-therapist alliance coefficient ({n_replicates} SIMULATED "
          "Baldwin-design trials, model-exact data) vs generating truth; tolerance 3 Monte Carlo SE",
    published=truth["alliance_between"],
    ours=float(s_exact["mean_between"]),
    tolerance=float(3 * s_exact["mc_se"]),
    source=f"analysis.simulate truth (shipped Baldwin-design parameters, Monte Carlo seed {mc_seed})",
    kind="simulation",
    unit="PHQ-9 points per WAI-SR point",
)

# %% [markdown]
# ## 9 · Missing outcomes: dropping patients vs using every observation
#
# Patients drop out. Suppose the chance of dropping out after a session rises with the symptom score
# the patient **had so far** — patients who are not improving leave. The data are then *missing at
# random* (MAR): missingness depends on observed values only. Two common analyses:
#
# - **listwise deletion**: keep the completers, the patients with a post score (what a
#   one-row-per-patient analysis such as section 3's does with a missing outcome);
# - **a mixed model on every observation**: the growth model of notebook 04 fitted to all sessions each
#   patient attended (`analysis.growth.growth_model`). It needs no balanced data: a patient seen for 3
#   sessions contributes 3 rows. Under MAR its likelihood gives valid estimates without modelling the
#   dropout (Rubin 1976; Little & Rubin 2019), because the earlier scores that predicted the dropout are
#   in the model.
#
# The simulator can run the same trial **with and without** dropout (same seed, same patients and
# scores), so we know what the complete data would have said. 800 patients, 30% MAR dropout. Time is
# $\log(1 + \text{session})$, the shape of the simulator's average course, so that a straight line in
# time fits the mean trajectory.

# %%
miss_design = dict(n_therapists=100, caseload=8, n_sessions=12, seed=3017)
with_dropout = simulate_trial(**miss_design, dropout="MAR", dropout_rate=0.3, dropout_strength=1.5)
complete = simulate_trial(**miss_design)  # the same trial without dropout: the truth
p_miss = with_dropout.patients
intake_by_status = p_miss.groupby("completed")["pre"].mean()
print(f"{(~p_miss['completed']).sum()} of {len(p_miss)} patients dropped out; mean intake PHQ-9 of dropouts "
      f"{intake_by_status[False]:.1f} vs completers {intake_by_status[True]:.1f}")


def post_means(fit, T=12):
    """Mean PHQ-9 at session T in arm 0 and arm 1 from a growth model in log(1 + session)."""
    b, tT = fit.coefficients["estimate"], np.log1p(T)
    return (b["(Intercept)"] + b["time"] * tT,
            b["(Intercept)"] + b["arm"] + (b["time"] + b["time:arm"]) * tT)


def sessions_of(trial):
    return trial.sessions.assign(time=np.log1p(trial.sessions["session"]))


with warnings.catch_warnings():
    # the unattended sessions are dropped (listed in .dropped); boundary or convergence warnings still show
    warnings.filterwarnings("ignore", message="Dropped .* incomplete measurement")
    g_all = growth_model(sessions_of(with_dropout), "symptom", "time", "patient", covariates=["arm"],
                         time_by=["arm"], na_action="omit")
completers = p_miss.loc[p_miss["completed"], "patient"]
g_completers = growth_model(sessions_of(with_dropout).query("patient in @completers"), "symptom", "time",
                            "patient", covariates=["arm"], time_by=["arm"], na_action="omit")
missing_table = pd.DataFrame({
    "truth: all patients, no dropout": complete.patients.groupby("arm")["post"].mean(),
    "listwise: completers' post scores": p_miss[p_miss["completed"]].groupby("arm")["post"].mean(),
    "listwise: growth model, completers only": post_means(g_completers),
    "mixed model on every observation": post_means(g_all),
}).T.rename(columns={0: "arm 0", 1: "arm 1"})
missing_table["n patients"] = [len(p_miss), len(completers), len(completers), len(p_miss)]
missing_table.round(2)

# %% [markdown]
# Listwise deletion makes the treatment look about two PHQ-9 points better than it was in both arms:
# the patients it drops are those who were doing badly. Fitting a fancier model to the completers does
# not help (third row) — the information is gone with the patients. The mixed model that keeps every
# attended session of every patient lands within a few tenths of a point of the truth (the straight
# line in log time only approximates the simulator's course and its floor at 0, so even complete data
# would not give the truth exactly). Two caveats: it is valid under MAR, not
# when dropout depends on the *unobserved* future score (MNAR; try `dropout="MNAR"` in the exercises);
# and it assumes the model for the course over time is right.

# %% [markdown]
# ## 10 · Run it on your own data
#
# Put one row per patient in a CSV file with (at least) these columns:
#
# | column | meaning |
# |---|---|
# | `patient` | patient id (unique) |
# | `therapist` | therapist id |
# | `outcome` | the outcome (e.g. post score, or pre − post improvement) |
# | `alliance` | the patient's alliance rating (e.g. mean over sessions) |
# | covariates | e.g. `pre` (intake score), `arm` (0/1) |
#
# Describe the columns in a small table schema: `datasets.read_csv` then reads the file with those
# types and refuses bad values with a message naming the file, column and row. Adjust the ranges to
# your instruments (here WAI-SR item means 1–5 and PHQ-9 totals 0–27). Below we write the simulated
# trial to a temporary CSV file and read it back, as you would read yours.

# %%
my_schema = {
    "fields": [
        {"name": "patient", "type": "integer", "constraints": {"required": True, "unique": True}},
        {"name": "therapist", "type": "integer", "constraints": {"required": True}},
        {"name": "outcome", "type": "number", "constraints": {"required": True, "minimum": 0, "maximum": 27}},
        {"name": "alliance", "type": "number", "constraints": {"required": True, "minimum": 1, "maximum": 5}},
        {"name": "pre", "type": "number", "constraints": {"required": True, "minimum": 0, "maximum": 27}},
        {"name": "arm", "type": "integer", "constraints": {"enum": [0, 1]}},
    ],
    "primaryKey": ["patient"],
    "fieldsMatch": "subset",  # further columns are allowed and kept
}

workdir = Path(tempfile.mkdtemp(prefix="alliance_nb03_"))
csv_path = workdir / "my_trial.csv"
(pts.rename(columns={"post": "outcome", "alliance_mean": "alliance"})
    [["patient", "therapist", "outcome", "alliance", "pre", "arm"]]
    .to_csv(csv_path, index=False))

mine = datasets.read_csv(csv_path, my_schema)
print(mine.dtypes.to_dict())
mine.head()

# %% [markdown]
# The two calls. With the post score as the outcome (lower = better), a *negative* alliance
# coefficient means better outcomes with a better alliance.

# %%
my_fit = therapist_effect(mine, "outcome", "therapist", covariates=["pre", "arm"])
print(my_fit.apa())
my_dis = disaggregate_alliance(mine, "outcome", "alliance", "therapist", covariates=["pre", "arm"])
print(my_dis.apa())
# the same data give the same answers as in sections 3 and 6 (the sign flips with post vs improvement)
assert np.isclose(my_fit.icc, fit.icc, rtol=1e-9)
assert np.isclose(my_dis.between, -dis.between, rtol=1e-6)

# %% [markdown]
# A file with a problem is refused with a message that says where to look, never analysed silently:

# %%
broken = csv_path.read_text(encoding="utf-8").splitlines()
header, row5 = broken[0].split(","), broken[6].split(",")
row5[header.index("alliance")] = "6.2"  # outside the WAI-SR range
broken[6] = ",".join(row5)
(workdir / "broken.csv").write_text("\n".join(broken) + "\n", encoding="utf-8")
try:
    datasets.read_csv(workdir / "broken.csv", my_schema)
except ValueError as err:
    # the message names the file; the temporary folder's name changes every run, so it is shortened
    print(f"{type(err).__name__}: {str(err).replace(str(workdir), '<temporary folder>')}")
shutil.rmtree(workdir)  # remove the temporary files

# %% [markdown]
# ## What we learned
#
# - In a trial of Baldwin's size the therapist ICC is estimated with an interval far wider than the
#   5% it is meant to find; only a large sample pins it down (section 3).
# - Predicted therapist effects are shrunk and uncertain; most intervals cross 0 (section 4).
# - Diagnostic plots show the PHQ-9 floor as a short lower tail of the residuals; the therapist effects
#   look normal (section 5).
# - The alliance's within- and between-therapist coefficients are estimated separately by group-mean
#   centring; the total coefficient is a variance-weighted mix that leans to the patient part
#   (section 6).
# - A random slope lets the alliance matter more with some therapists; its variance is tested against a
#   50:50 chi-square mixture; fixed effects are compared with ML fits, never REML (section 7).
# - The between-therapist estimate is unbiased when the two true coefficients are equal, but the
#   observed therapist mean pulls it toward the within coefficient when they differ (section 8).
# - With outcomes missing at random, dropping patients biases the result; a mixed model on every
#   observation does not (section 9).

# %% [markdown]
# ## Exercises
#
# From conceptual to hands-on. Put your answer in place of `None` and run the cell: `check` says
# *Right* or *Not yet* with a hint, without showing the answer. Worked answers:
# `answers/03_therapist_effects.ipynb` (in the `notebooks/answers/` folder).

# %%
from analysis.exercises import check  # noqa: E402

# %% [markdown]
# **1 (concept).** Two models differ only in their fixed effects (one adds the alliance). Which
# estimation method must *both* fits use for a likelihood-ratio test? Answer `"REML"` or `"ML"`.

# %%
your_answer = None  # "REML" or "ML"
check("03.1", your_answer) if your_answer is not None else "not answered yet"

# %% [markdown]
# **2 (formula).** A therapist sees $n = 4$ patients; $\tau^2 = 2$ and $\sigma^2 = 30$. By which factor
# $n\tau^2/(\sigma^2 + n\tau^2)$ is the therapist's mean residual shrunk to give the BLUP?

# %%
your_answer = None  # the shrinkage factor
check("03.2", your_answer) if your_answer is not None else "not answered yet"

# %% [markdown]
# **3 (predict, then check).** Refit section 3's model (post score, covariates `pre` and `arm`) by ML.
# Will the ICC be smaller or larger than the REML one? Give the ML ICC.

# %%
your_answer = None  # the ML ICC
check("03.3", your_answer) if your_answer is not None else "not answered yet"

# %% [markdown]
# **4 (hands-on).** With ML fits of the shipped trial, test the treatment arm: the likelihood-ratio
# statistic comparing `post ~ pre + arm` with `post ~ pre` (random therapist intercept in both).

# %%
your_answer = None  # the LR statistic
check("03.4", your_answer) if your_answer is not None else "not answered yet"

# %% [markdown]
# **5 (hands-on, missing data).** Rerun section 9 with `dropout="MCAR"` (same design, rate 0.3,
# strength 1.5, seed 3017). By how many PHQ-9 points does the completers' mean post score in arm 0
# differ from the truth (completers minus truth)? What does that say about listwise deletion under
# MCAR?

# %%
your_answer = None  # completers minus truth, PHQ-9 points
check("03.5", your_answer) if your_answer is not None else "not answered yet"
