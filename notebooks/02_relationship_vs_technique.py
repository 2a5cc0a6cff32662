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
# # 02 · Relationship vs technique on real trial data
#
# The "Dodo bird" debate asks whether the particular treatment approach matters once a credible therapy
# is delivered by a therapist in a working relationship. This notebook looks at the technique side on
# open trial data:
#
# 1. **Dodo-bird test** on the Metapsy database of psychotherapy vs control for adult depression: do
#    therapy types differ, and where does non-directive supportive counselling (the relationship
#    without specific techniques) stand? All effect sizes are used, several per trial, with the
#    correlated-and-hierarchical-effects (CHE) model and cluster-robust (CR2) inference.
# 2. **Dose of relationship**: effects by format (individual, group, telephone, guided self-help) and
#    for self-guided interventions with no therapist at all (a second Metapsy database).
# 3. **Network and component meta-analysis** of CBT delivery formats and components (López-López et al.,
#    2019, `dat.lopez2019`), checked against R's metafor.
# 4. **"% of variance"**: dominance analysis and why such comparisons mislead.
# 5. The **comparison figure**: technique contrasts, therapist-contact contrasts and notebook 01's
#    relationship elements on one r scale.
# 6. **Run it on your own data**: the same calls on a CSV file of your own, and the one-call report.
#
# Every estimate here is observational across trials (meta-regression): differences between types or
# formats are confounded with control groups, risk of bias, populations and researcher allegiance.
#
# **Learning goals.** After this notebook you can
#
# - meta-analyse several dependent effect sizes per trial with the CHE working model and cluster-robust
#   (CR2) inference, and say what ρ assumes and what the robust degrees of freedom warn about;
# - test whether therapy types differ (an omnibus robust Wald test) and estimate a planned contrast;
# - run sensitivity analyses for small-study effects (selection model, PET-PEESE) on per-trial composites;
# - read a network and a component meta-analysis;
# - explain why "% of variance" comparisons between relationship and technique mislead.
#
# **Prerequisites.** [Notebook 01](01_relationship_elements.ipynb) (random-effects model, τ², selection
# model); regression with dummy variables; a standard error and a t test.

# %% tags=["parameters"]
n_boot_importance = 200  # bootstrap replicates of the dominance analysis
rho = 0.6  # assumed correlation between the sampling errors of one trial's effect sizes (CHE working model)

# %%
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from scipy import stats

from analysis import datasets, effect_sizes, ledger, plots, published
from analysis.exercises import check
from analysis.meta import meta_analysis
from analysis.meta_bias import pet_peese
from analysis.meta_dependent import aggregate
from analysis.meta_selection import selection_model
from analysis.robust import che, wald_test
from analysis.network import arm_to_contrast, component_model, design_by_treatment, network_meta_analysis
from analysis.importance import dominance_analysis

plots.set_style()
pd.set_option("display.width", 160, "display.max_colwidth", 60)

# %% [markdown]
# ## 1 · The Metapsy database: several effect sizes per trial
#
# `depression-psyctr` has 900 effect sizes (Hedges' g, positive = psychotherapy better) from 480 trials.
# A trial often contributes several: several depression scales, or several therapy arms compared with one
# control group. Their sampling errors are correlated, and the correlations are not reported.
#
# Instead of averaging them by hand, we keep **every effect size** and use the working model that
# Pustejovsky & Tipton (2022, *Prevention Science*) recommend for this situation, the
# **correlated and hierarchical effects (CHE)** model:
#
# * the sampling errors of one trial's effects are assumed to correlate ρ = 0.6
#   (`analysis.meta_dependent.vcalc`, metafor's `vcalc`);
# * random effects for trials and for effects within trials, REML (`analysis.meta_mv.rma_mv`,
#   metafor's `rma.mv(yi, V, random = ~ 1 | study/es_id)`);
# * **cluster-robust standard errors (CR2)** by trial with Satterthwaite degrees of freedom
#   (`analysis.robust.robust`, clubSandwich's `coef_test`). They stay valid when ρ or the random-effects
#   structure is wrong; the working model only makes them efficient.
#
# `analysis.robust.che` does the three steps in one call (each step is checked against metafor and
# clubSandwich in the test suite). A robust test with few trials behind a coefficient has few degrees of
# freedom (df): read df below about 4 as "do not trust this p-value" (Tipton, 2015).

# %%
raw = datasets.load("metapsy-depression-psyctr")  # shipped in data/metapsy/ (pinned commit, sha256-checked)
TYPES = ["cbt", "bat", "3rd", "pst", "ipt", "dyn", "lrt", "sup", "other psy"]  # cbt first: the reference
CONTROLS = {"wl": "wait list", "cau": "care as usual", "other ctr": "other control"}


def prepare(df: pd.DataFrame) -> pd.DataFrame:
    """Effect sizes with a finite g and SE, their sampling variance and the moderators we use."""
    ok = np.isfinite(df[".g"].astype(float)) & np.isfinite(df[".g_se"].astype(float))
    if (~ok).any():
        print(f"{int((~ok).sum())} effect size(s) without g or its SE left out")
    out = df[ok].copy()
    out["g"] = out[".g"].astype(float)
    out["v"] = out[".g_se"].astype(float) ** 2
    out["control"] = out["condition_arm2"].map(CONTROLS)
    out["rob_low"] = (out["rob"] >= 3).astype(float)  # 3-4 of 4 criteria met: low risk of bias
    return out.reset_index(drop=True)


es = prepare(raw)
es["type"] = pd.Categorical(es["condition_arm1"], categories=TYPES)
per_trial = es.groupby("study").size()
print(f"{len(es)} effect sizes from {es['study'].nunique()} trials; {int((per_trial > 1).sum())} trials "
      f"contribute more than one (up to {per_trial.max()})")
es.groupby("type", observed=True).agg(effects=("g", "size"), trials=("study", "nunique"), mean_g=("g", "mean")).round(2)

# %% [markdown]
# ## 2 · Dodo-bird test: do therapy types differ?
#
# Therapy types (`condition_arm1`): cbt, bat (behavioural activation), 3rd (third wave), pst (problem
# solving), ipt (interpersonal), dyn (psychodynamic), lrt (life review), sup (non-directive supportive
# counselling) and "other psy" (a mixed bag, kept so that every effect size is used, but left out of the
# contrasts). First the mean effect of each type, from the CHE model with one coefficient per type
# (`mods="~ 0 + C(type)"`):

# %%
by_type = che("g", "v", "study", data=es, rho=rho, mods="~ 0 + C(type)")
print(by_type.summary())
type_means = by_type.to_frame().assign(type=TYPES).set_index("type")
type_means["trials"] = es.groupby("type", observed=True)["study"].nunique()
type_means[["estimate", "se", "df", "ci_low", "ci_high", "trials"]].round(3)

# %% [markdown]
# The Dodo-bird question as a test: with CBT as the reference (`mods="~ C(type)"`), are all eight
# differences from CBT zero? Several coefficients at once call for the robust Wald test with the
# Hotelling-T² approximation (HTZ; Tipton & Pustejovsky, 2015), `analysis.robust.wald_test`.
#
# The **supportive-counselling contrast** is sup minus the equal-weight average of the six
# technique-rich types (cbt, bat, 3rd, pst, ipt, dyn): "the relationship without specific techniques"
# against "relationship plus techniques". It is one row of a constraint matrix C, tested with the same
# `wald_test` (with one constraint, HTZ is the Satterthwaite t test squared); its interval is
# estimate ± t(df) × robust SE. A second, simpler version compares sup with all other therapies pooled
# (one dummy, `is_sup`). We fit the models without and with adjustment for control group and risk of bias.

# %%
RICH = ["cbt", "bat", "3rd", "pst", "ipt", "dyn"]
es["is_sup"] = (es["condition_arm1"] == "sup").astype(float)


def sup_vs_rich(fit):
    """Constraint row C: sup minus the equal-weight mean of the technique-rich types (CBT = reference = 0)."""
    terms = fit.robust.terms
    C = np.zeros((1, len(terms)))
    C[0, terms.index("C(type)[T.sup]")] = 1.0
    for t in RICH[1:]:
        C[0, terms.index(f"C(type)[T.{t}]")] -= 1.0 / len(RICH)
    return C


def contrast_row(fit, C):
    """Estimate, robust SE, Satterthwaite/HTZ df, CI and p of one contrast (wald_test gives df and p)."""
    w = wald_test(fit.robust, C)
    est = float(C[0] @ fit.robust.estimate)
    se = float(np.sqrt(C[0] @ fit.robust.vcov @ C[0]))
    half = stats.t.ppf(0.975, w.df_denom) * se
    return {"sup - technique-rich": est, "se": se, "ci_low": est - half, "ci_high": est + half,
            "df": w.df_denom, "p": w.pvalue}


rows = []
for label, mods in [("types only", "~ C(type)"),
                    ("+ control type + risk of bias", "~ C(type) + C(control) + rob_low")]:
    fit = che("g", "v", "study", data=es, rho=rho, mods=mods)
    type_terms = [t for t in fit.robust.terms if t.startswith("C(type)")]
    omnibus = wald_test(fit.robust, type_terms)  # HTZ: all type differences from CBT are 0
    rows.append({"model": label, "k": fit.model.k, "trials": fit.robust.n_clusters,
                 "F types (HTZ)": omnibus.statistic, "df1": omnibus.df_num, "df2": omnibus.df_denom,
                 "p types": omnibus.pvalue, "sigma2 trial": fit.model.sigma2[0],
                 "sigma2 effect": fit.model.sigma2[1], **contrast_row(fit, sup_vs_rich(fit))})
dodo_table = pd.DataFrame(rows).set_index("model")
dodo_table.round(3)

# %%
sup_only = che("g", "v", "study", data=es[es["condition_arm1"] != "other psy"], rho=rho,
               mods="~ is_sup + C(control) + rob_low")
print(sup_only.robust.summary())

# %% [markdown]
# **Does ρ matter?** ρ = 0.6 is an assumption. The robust inference is valid whatever ρ is, but the
# estimates move a little with the working model; we refit the adjusted contrast with ρ = 0.4 and 0.8.

# %%
rho_rows = []
for r_ in [0.4, rho, 0.8]:
    f = che("g", "v", "study", data=es, rho=r_, mods="~ C(type) + C(control) + rob_low")
    rho_rows.append({"rho": r_, **contrast_row(f, sup_vs_rich(f))})
pd.DataFrame(rho_rows).set_index("rho").round(3)

# %%
overall = che("g", "v", "study", data=es, rho=rho)
g_all = float(overall.robust.estimate[0])
om = dodo_table.iloc[0]  # the omnibus test of the types-only model
fig = plots.interval_plot(type_means.sort_values("estimate", ascending=False), n="trials", highlight="sup",
                          highlight_label="supportive counselling", refline=g_all,
                          refline_label=f"all types, g = {g_all:.2f}",
                          title=f"Therapy types: robust F({int(om['df1'])}, {om['df2']:.1f}) = "
                                f"{om['F types (HTZ)']:.2f}, p = {om['p types']:.2f}")
plots.save_figure(fig, "02_dodo_bird")

# %% [markdown]
# **Reading** (numbers in the tables above). The variance between trials (σ² of trials) is many times
# the variance of the type means: trials of one type differ far more than types differ on average.
# With robust inference the HTZ test finds no detectable difference between the types, with or without
# adjustment for control group and risk of bias. Supportive counselling does not differ detectably from
# the equal-weight average of the technique-rich types; its interval is wide and its degrees of freedom
# are small, because `sup` comes from few trials. Cuijpers et al. (2012) reported −0.20 against other
# psychotherapies in direct comparisons, gone after controlling for researcher allegiance (not coded in
# this database). None of this is a randomised comparison of types.
#
# **Sensitivity: small-study effects and selective publication.** Selection models and PET-PEESE assume
# independent effects, so we first aggregate each trial's effects into one composite (inverse-variance
# weighted, same ρ; `analysis.meta_dependent.aggregate`, metafor's `aggregate`), pool them with a
# random-effects model (`analysis.meta.meta_analysis`, REML), then fit a three-parameter selection model
# (3PSM: one step at one-sided p = .025, `analysis.meta_selection.selection_model`, metafor's `selmodel`)
# and PET-PEESE (`analysis.meta_bias.pet_peese`).

# %%
per_study = aggregate("g", "v", "study", data=es, rho=rho)
re_studies = meta_analysis(per_study["yi"].to_numpy(), per_study["vi"].to_numpy())
sel = selection_model(re_studies, "stepfun", steps=[0.025])
pp = pet_peese(re_studies)
print(sel.summary())
print(pp.summary())
o = overall.robust.to_frame().iloc[0]
sensitivity = pd.DataFrame([
    {"analysis": "CHE, all effect sizes (CR2)", "k": overall.model.k, "g": o["estimate"],
     "ci_low": o["ci_low"], "ci_high": o["ci_high"]},
    {"analysis": "random effects on per-trial composites (REML)", "k": re_studies.k, "g": re_studies.estimate,
     "ci_low": re_studies.ci_low, "ci_high": re_studies.ci_high},
    {"analysis": "3PSM selection model (step at p = .025)", "k": re_studies.k, "g": sel.estimate,
     "ci_low": sel.ci_low, "ci_high": sel.ci_high},
    {"analysis": f"PET-PEESE ({pp.selected} selected)", "k": re_studies.k, "g": pp.estimate,
     "ci_low": pp.ci_low, "ci_high": pp.ci_high},
]).set_index("analysis")
sensitivity.round(3)

# %% [markdown]
# The selection model and PET-PEESE adjust the pooled effect for small-study effects in different ways
# (a model of which results get published; a regression on the standard error). When they give a smaller
# effect than the unadjusted pooled g, the size of "therapy vs control" is less certain than its
# confidence interval says. That matters more for the absolute effects than for the contrasts between
# types (a bias that affects all types alike cancels in a contrast).

# %% tags=["qc"]
# Checks: our type means beside the published ones of the same research group's databases.
# * Cuijpers et al. (2023, World Psychiatry 22(1), abstract): CBT vs control g = 0.79 [0.70, 0.89] (409 trials).
#   The Metapsy depression-psyctr database continues the database behind that paper (our copy: search to
#   2024-01-01). Recorded with a tolerance equal to the published CI half-width (0.095): the sampling
#   uncertainty of the published estimate itself, decided before looking at our number. Ours is the CBT
#   mean of the CHE model (all CBT effect sizes, robust CI); the paper pooled comparisons with its own
#   outlier and multi-arm choices.
# * Cuijpers et al. (2012, Clin Psychol Rev 32(4), abstract): non-directive supportive therapy vs control
#   g = 0.58 [0.45, 0.72], 31 studies. A decade older database with its own definition of "supportive
#   therapy"; the overlap with our `sup` trials is unknown, so it is shown, not recorded.
cbt = type_means.loc["cbt"]
sup_row = type_means.loc["sup"]
ledger.record("Cuijpers 2023: CBT vs control for depression, Hedges' g", 0.79, float(cbt["estimate"]),
              tolerance=0.095, source="Cuijpers et al. (2023), World Psychiatry 22(1), 105-115, abstract",
              kind="published-reanalysis")
pd.DataFrame({
    "published": ["0.79 [0.70, 0.89] (409 trials)", "0.58 [0.45, 0.72] (31 studies)"],
    "ours (CHE, CR2 CI)": [
        f"{cbt['estimate']:.2f} [{cbt['ci_low']:.2f}, {cbt['ci_high']:.2f}] ({int(cbt['trials'])} trials)",
        f"{sup_row['estimate']:.2f} [{sup_row['ci_low']:.2f}, {sup_row['ci_high']:.2f}] ({int(sup_row['trials'])} trials)"],
    "recorded": ["ledger (tolerance = published CI half-width)", "shown only (older, different database)"]},
    index=["CBT vs control (Cuijpers 2023)", "supportive vs control (Cuijpers 2012)"])

# %% [markdown]
# ## 3 · Dose of relationship: format and self-guided interventions
#
# Format codes the amount of therapist contact: individual (ind), group (grp), telephone (tel), guided
# self-help (gsh); couple, mixed and other formats are pooled as "other". The self-guided database adds
# interventions with no therapist. The two databases are stacked (a trial found in both is one cluster:
# its therapist-guided and self-guided arms share a control group) and the CHE model gives each format's
# mean; we convert g to r (r = g/√(g² + 4), equal arms; `effect_sizes.d_to_r`) and adjust the format
# contrasts for control group and risk of bias.

# %%
sg = prepare(datasets.load("metapsy-depression-selfguided-psyctr"))
sg["format"] = "self-guided"
FORMATS = ["ind", "grp", "tel", "gsh", "other", "self-guided"]
both = pd.concat([es.drop(columns=["type"]), sg], ignore_index=True)
both["fmt"] = pd.Categorical(both["format"].where(both["format"].isin(FORMATS), "other"), categories=FORMATS)
print(f"{len(both)} effect sizes from {both['study'].nunique()} trials")
by_fmt = che("g", "v", "study", data=both, rho=rho, mods="~ 0 + C(fmt)")
dose = by_fmt.to_frame().assign(format=FORMATS).set_index("format")[["estimate", "ci_low", "ci_high", "df"]]
dose = dose.rename(columns={"estimate": "g"})
dose["trials"] = both.groupby("fmt", observed=True)["study"].nunique()
for c in ["g", "ci_low", "ci_high"]:
    dose["r" if c == "g" else "r_" + c] = effect_sizes.d_to_r(dose[c].to_numpy())
adj = che("g", "v", "study", data=both, rho=rho, mods="~ C(fmt) + C(control) + rob_low")
adjp = adj.robust.to_frame().set_index("term")
print(adj.robust.summary())
fmt_terms = [t for t in adj.robust.terms if t.startswith("C(fmt)")]
print(wald_test(adj.robust, fmt_terms).apa())
dose.round(3)

# %%
fig = plots.interval_plot(dose, estimate="g", n="trials", r_axis=True, colour=1, figsize=(7, 3.6),
                          title="Less therapist contact, smaller effects? (confounded by control type)")
plots.save_figure(fig, "02_dose_of_relationship")

# %% [markdown]
# **Caveats.** Wait-list controls give larger effects than care as usual and low-risk-of-bias trials
# smaller ones (coefficients above), and these are distributed unevenly over formats; formats are
# chosen by investigators, not randomised, and group trials also differ in populations. The adjusted coefficients
# (format vs individual, with control type and risk of bias in the model) are a better guide than the
# raw format means, but residual confounding (population, severity, allegiance, publication year) remains.
#
# ## 4 · Network and component meta-analysis of CBT delivery (dat.lopez2019)
#
# Arm-level standardized mean changes (negative = improvement) become contrasts against each trial's
# baseline arm with their covariance (`arm_to_contrast`, which picks the baseline arm as metafor's
# `to.wide(..., ref = "TAU")` does: the TAU arm, or in trials without TAU the arm of the last treatment in
# alphabetical order), and a random-effects network model with one common τ² (`network_meta_analysis`,
# metafor `rma.mv(..., random = ~ comp | study, rho = 1/2)`) gives every treatment against TAU. The
# choice of baseline arm matters only in trials with two arms of the same treatment (16 of the 76 here);
# with TAU as reference the estimates are the same under either rule of `arm_to_contrast`, but with
# face-to-face CBT (the treatment with most arms, `to.wide`'s default) τ² is 1.57 with `to.wide`'s
# baseline and 1.49 with the first F2F arm as baseline. The numbers are checked against metafor's
# `to.wide` + `rma.mv` (oracle, 1e-5) in the suite and recorded here.

# %%
lop = datasets.load("dat.lopez2019")
ORDER = ["TAU", "No treatment", "Wait list", "Placebo", "F2F CBT", "Hybrid CBT", "Multimedia CBT"]
lop = lop.reset_index(drop=True)
cd = arm_to_contrast(lop, yi="diff", sei="se", order=ORDER)
nma = network_meta_analysis(cd, reference="TAU")
print(cd.summary())
print(nma.summary())
inc = design_by_treatment(cd)
print(inc.summary())

# %%
nma.league_table()

# %% [markdown]
# Additive component model: every arm is described by control type (vs TAU), "any CBT", delivery
# (multimedia, group) and the 11 content components; a contrast's row is the difference of its arms'
# rows. The paper found "no evidence of specific effects of any content components"; our intervals are
# wide too.

# %%
for c, t in [("no_treatment", "No treatment"), ("wait_list", "Wait list"), ("placebo", "Placebo")]:
    lop[c] = (lop["treatment"] == t).astype(float)
lop["cbt"] = lop["treatment"].isin(["F2F CBT", "Hybrid CBT", "Multimedia CBT"]).astype(float)
COMPONENTS = ["no_treatment", "wait_list", "placebo", "cbt", "multi", "group", "cog", "ba", "psed", "home", "prob",
              "soc", "relax", "goal", "final", "mind", "act"]
cd_c = arm_to_contrast(lop, yi="diff", sei="se", order=ORDER)
cm = component_model(cd_c, COMPONENTS)
cm.coefficients.round(3)

# %% [markdown]
# López-López et al. (2019, *Psychol Med* 49(12), abstract) report, against TAU, face-to-face CBT −1.11
# [−1.62, −0.60], multimedia CBT −0.59 [−1.20, 0.02] and wait list +0.72 [0.09, 1.35]. Theirs are
# **Bayesian** posterior summaries with credible intervals (their priors and model details differ); ours
# are REML estimates with Wald intervals from the same arm-level data. The checks below show them side by
# side and do not record them in the ledger: no tolerance for "Bayesian vs frequentist on the same data" can be
# justified without their model code.

# %% tags=["qc"]
# Checks: the network model against metafor 3.8.1 (to.wide + rma.mv) on the same data, written by
# tests/oracles/network.R into tests/fixtures/network.json (the suite checks them too): every coefficient
# against TAU and tau^2, relative tolerance 1e-5 (kind oracle).
FIX = json.loads((Path(datasets.PACKAGE_PATH).parent.parent / "tests" / "fixtures" / "network.json").read_text())
ref = FIX["lopez_towide_tau"]["fits"]["REML"]  # metafor: to.wide(ref = "TAU") + rma.mv
for name, b in zip(ref["coef_names"], ref["beta"]):
    nm = name[1:] if name.startswith("X") else name
    # Every metafor coefficient must have its twin here: a missing one is an error, not a skip.
    ours = nma.contrast(nm, "TAU")["estimate"]
    ledger.record(f"dat.lopez2019 NMA (REML) {nm} vs TAU", float(b), float(ours), tolerance=1e-5, relative=True,
                  source="metafor 3.8.1 to.wide + rma.mv, tests/oracles/network.R", kind="oracle")
ledger.record("dat.lopez2019 NMA tau^2 (REML)", float(ref["tau2"]), float(nma.tau2), tolerance=1e-5, relative=True,
              source="metafor 3.8.1 to.wide + rma.mv, tests/oracles/network.R", kind="oracle")

# %% tags=["qc"]
# Checks (shown, not recorded): the López-López et al. (2019) Bayesian estimates against TAU beside ours.
pub = {"F2F CBT": (-1.11, -1.62, -0.60), "Multimedia CBT": (-0.59, -1.20, 0.02), "Wait list": (0.72, 0.09, 1.35)}
pd.DataFrame({t: {"López-López 2019 (Bayesian)": f"{p[0]:.2f} [{p[1]:.2f}, {p[2]:.2f}]",
                  "ours (REML, Wald CI)": "{estimate:.2f} [{ci_low:.2f}, {ci_high:.2f}]".format(**nma.contrast(t, "TAU"))}
              for t, p in pub.items()}).T

# %% [markdown]
# ## 5 · "% of variance" and why it misleads
#
# Dominance analysis splits the R² of an OLS regression among correlated predictors (general dominance
# weights, the Shapley values of R², sum to R²). Here: how much of the spread of comparison-level effect
# sizes in the Metapsy database (one row per effect size, "other psy" left out) goes with therapy type, format, control group and risk of bias?

# %%
dodo = es[es["condition_arm1"] != "other psy"].reset_index(drop=True)  # one row per effect size
X = pd.get_dummies(dodo[["condition_arm1", "format", "control"]].astype(str), drop_first=True, dtype=float)
dd = pd.concat([dodo[["g", "rob_low"]], X], axis=1)
sets = {"therapy type": [c for c in X if c.startswith("condition_arm1")],
        "format": [c for c in X if c.startswith("format")],
        "control group": [c for c in X if c.startswith("control")],
        "risk of bias": ["rob_low"]}
dom = dominance_analysis(dd, "g", sets, n_boot=n_boot_importance, seed=20240101)
print(dom.apa())
dom.table.round(3)

# %% [markdown]
# These shares describe *this* set of trials, unweighted, with sampling error inside the "unexplained"
# part; they are not properties of therapy. The same holds for the famous pies. Wampold's argument
# (e.g., Wampold & Imel, *The Great Psychotherapy Debate*) sets the variance in outcome associated with
# the alliance or therapists against the tiny variance associated with treatment differences; critics
# (e.g., DeRubeis, Brotman & Gibbons, 2005, *Clin Psychol Sci Pract*) answer that such comparisons mix
# correlational and experimental evidence: an alliance–outcome correlation includes reverse causation
# (early improvement builds the alliance) and patient factors, while a treatment contrast is a
# randomised difference between two active treatments, and "% of variance" squares small effects into
# tiny-looking numbers even when they matter (r = .10 is 1% of variance, yet a shift of about 0.2 SD).
# The workbook therefore puts every effect on the r scale *with its design* — correlational elements,
# randomised contrasts — and does not rank them by r² (no quotation from either side is given here,
# only the arguments as we read them).
#
# ## 6 · Comparison figure: technique, therapist contact and relationship on one r scale
#
# Technique and contact contrasts come from two sources: the Metapsy CHE meta-regressions (sections 2
# and 3, CR2 intervals) and the López-López network (section 4) — face-to-face against multimedia CBT (the same techniques with and
# without a therapist) and the component model's added effect of cognitive techniques and of
# behavioural activation (a technique added, everything else held fixed). Standardized differences
# are put on the r scale with r = g / √(g² + 4).

# %%
rows = []
adj_sup = dodo_table.loc["+ control type + risk of bias"]  # CHE, CR2 interval with Satterthwaite df
rows.append({"label": "supportive − technique-rich (adjusted)", "group": "technique contrast (Metapsy, ours)",
             "g": adj_sup["sup - technique-rich"], "lo": adj_sup["ci_low"], "hi": adj_sup["ci_high"]})
FORMAT_NAMES = {"grp": "group", "tel": "telephone", "gsh": "guided self-help", "self-guided": "self-guided (no therapist)"}
for f, label in FORMAT_NAMES.items():
    cc = adjp.loc[f"C(fmt)[T.{f}]"]
    rows.append({"label": f"{label} vs individual (adjusted)", "group": "therapist contact (Metapsy, ours)",
                 "g": cc["estimate"], "lo": cc["ci_low"], "hi": cc["ci_high"]})
# López-López network (section 4; standardized mean change, negative = improvement): the sign is flipped
# so that positive favours the first-named condition, as for the other rows.
ff = nma.contrast("F2F CBT", "Multimedia CBT")
rows.append({"label": "face-to-face vs multimedia CBT (network)", "group": "therapist contact (López-López, ours)",
             "g": -ff["estimate"], "lo": -ff["ci_high"], "hi": -ff["ci_low"]})
for comp, label in [("cog", "cognitive techniques"), ("ba", "behavioural activation")]:
    cc = cm.coefficients.loc[comp]
    rows.append({"label": f"adding {label} (component model)", "group": "technique contrast (López-López, ours)",
                 "g": -cc["estimate"], "lo": -cc["ci_high"], "hi": -cc["ci_low"]})
fig_rows = pd.DataFrame(rows)
for c in ["g", "lo", "hi"]:
    fig_rows[c.replace("g", "r") if c == "g" else "r_" + c] = effect_sizes.d_to_r(fig_rows[c].to_numpy())
pubrows = published.checked(published.load("relationship_elements"))
fig = plots.r_scale_plot(fig_rows, pubrows[pubrows["measure"] == "r"])  # drawing code: analysis.plots
plots.save_figure(fig, "02_relationship_vs_technique")

# %% [markdown]
# **What the figure says and does not.** Relationship elements are correlations within treatments
# (observational; patient factors and early improvement are mixed in); technique and contact contrasts
# are differences between randomised arms compared across trials (meta-regression, confounded). The
# scales line up, the designs do not.

# %% [markdown]
# ## 7 · Run it on your own data
#
# Put one row per effect size in a CSV file, several rows per study where a study reports several:
#
# | column | meaning |
# |---|---|
# | `study` | study label (the cluster of the robust inference) |
# | `es_id` | effect-size id, unique within a study (outcome, arm, time point) |
# | `yi` | effect size (e.g. Hedges' g, positive = treatment better) |
# | `vi` | its sampling variance (> 0); from a standard error: `vi = se**2` |
# | moderators | e.g. `type` (text) or `rob_low` (0/1) |
#
# A table schema makes `datasets.read_csv` refuse bad values (a missing `vi`, a negative variance,
# a repeated study–effect pair) with a message naming the file, column and row. Below we write part of
# the Metapsy database (CBT, behavioural activation and supportive counselling) to a temporary CSV and
# read it back, as you would read yours.

# %%
my_schema = {
    "fields": [
        {"name": "study", "type": "string", "constraints": {"required": True}},
        {"name": "es_id", "type": "integer", "constraints": {"required": True}},
        {"name": "yi", "type": "number", "constraints": {"required": True}},
        {"name": "vi", "type": "number", "constraints": {"required": True, "exclusiveMinimum": 0}},
        {"name": "type", "type": "string", "constraints": {"required": True}},
    ],
    "primaryKey": ["study", "es_id"],
    "fieldsMatch": "subset",  # further columns are allowed and kept
}
workdir = Path(tempfile.mkdtemp(prefix="alliance_nb02_"))
csv_path = workdir / "my_effects.csv"
part = es[es["condition_arm1"].isin(["cbt", "bat", "sup"])]
(part.drop(columns=["type"]).assign(es_id=part.groupby("study").cumcount() + 1)
     .rename(columns={"g": "yi", "v": "vi", "condition_arm1": "type"})
     [["study", "es_id", "yi", "vi", "type"]].to_csv(csv_path, index=False))
mine = datasets.read_csv(csv_path, my_schema)
print(f"{len(mine)} effect sizes from {mine['study'].nunique()} studies")
mine.head()

# %% [markdown]
# The calls of section 2, on your file: the CHE model with CR2 inference (report the robust table and
# the HTZ test; vary ρ as a sensitivity analysis), then one composite per study for the analyses that
# need independent effects.

# %%
my_che = che("yi", "vi", "study", es_id="es_id", data=mine, rho=0.6, mods='~ C(type, Treatment("cbt"))')  # CBT = reference
print(my_che.robust.summary())
print(wald_test(my_che.robust, [t for t in my_che.robust.terms if t != "intrcpt"]).apa())
my_studies = aggregate("yi", "vi", "study", data=mine, rho=0.6)
my_re = meta_analysis(my_studies["yi"].to_numpy(), my_studies["vi"].to_numpy())
print(pet_peese(my_re).summary())

# %% [markdown]
# **The one-call report.** For a univariate random-effects meta-analysis of one effect per study (here
# the per-study composites), `analysis.report.make_report("meta", ...)` validates the file and writes a
# complete report (page, figures, tables, key numbers) into a folder of your choice — never into the
# workbook's `reports/`. From a terminal the same is
# `python -m analysis report meta my_studies.csv --out my_reports`. We write it into the temporary folder
# and list what it made (`pdf=False`: no printing here).

# %%
from analysis.report import make_report

study_csv = workdir / "my_studies.csv"
my_studies.rename(columns={"cluster": "study"})[["study", "yi", "vi"]].to_csv(study_csv, index=False)
rep = make_report("meta", study_csv, out=workdir / "my_reports", pdf=False, title="CBT, BA and supportive counselling")
print(f"{rep.kind} report: {rep.html.name} and {len(rep.files)} files, e.g. {sorted(rep.files)[:4]}")
print(rep.results["apa"])
shutil.rmtree(workdir)  # remove the temporary files

# %% [markdown]
# ## What we learned
#
# - With every effect size kept (CHE working model, CR2 robust inference), therapy types do not differ
#   detectably from one another; trials of one type differ far more than types do (section 2).
# - Supportive counselling — the relationship without specific techniques — is not detectably less
#   effective than the technique-rich therapies in this database, but its interval is wide and its
#   robust degrees of freedom small (few trials), and the comparison is observational.
# - Adjusting for small-study effects (selection model, PET-PEESE) moves the pooled effect; contrasts
#   between types are less affected than the absolute effects.
# - Less therapist contact goes with smaller effects, confounded with control groups and risk of bias
#   (section 3); the network and component models of López-López et al. find wide intervals for
#   single techniques (section 4).


# %% [markdown]
# ## Exercises
#
# From thinking to doing. Put your answer in place of `None` and run the cell: `check` says *Right* or
# *Not yet* with a hint, without showing the answer. Worked answers:
# [answers/02_relationship_vs_technique.ipynb](answers/02_relationship_vs_technique.ipynb).
#
# **1 (concept).** True or false: because CR2 standard errors stay valid when the working model (ρ, the
# random effects) is wrong, a robust test comparing therapy types is trustworthy even when only 5 trials
# study one of the types.

# %%
your_answer = None  # True or False
check("02.1", your_answer) if your_answer is not None else "not answered yet"

# %% [markdown]
# **2 (predict, then check).** ρ is the assumed correlation between the sampling errors of one trial's
# effect sizes. Predict what happens to the two variance components of the CHE model without moderators
# (σ² between trials, σ² between effect sizes within trials) when ρ goes from 0.6 to 0.9. Then refit
# (`che("g", "v", "study", data=es, rho=0.9)`) and give both, `[trial, within]`.

# %%
your_answer = None  # [sigma^2 trial, sigma^2 within trial]
check("02.2", your_answer) if your_answer is not None else "not answered yet"

# %% [markdown]
# **3 (read the output).** In the model of the type means (`by_type`), which therapy type has the
# smallest robust degrees of freedom? Answer with its code (e.g. `"cbt"`), and say what that means for
# its confidence interval.

# %%
your_answer = None  # a type code
check("02.3", your_answer) if your_answer is not None else "not answered yet"

# %% [markdown]
# **4 (convert).** Convert the overall CHE mean (`overall`, all effect sizes, no moderators) from g to r and
# then to % of outcome variance. Compare it with the alliance's 7.7% (notebook 00): what does the
# comparison leave out (section 5)?

# %%
your_answer = None  # % of outcome variance
check("02.4", your_answer) if your_answer is not None else "not answered yet"

# %% [markdown]
# **5 (hands-on).** Aggregate each trial's effect sizes into one composite (ρ = 0.6) and fit an ordinary
# random-effects model to the composites, as in the sensitivity analysis of section 2. Give its τ² and
# compare it with the sum of the CHE model's two σ² components: why are they close but not equal?

# %%
your_answer = None  # tau^2 of the composites
check("02.5", your_answer) if your_answer is not None else "not answered yet"
