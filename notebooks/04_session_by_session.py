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
# # 04 · Session by session: does this week's alliance predict next week's symptoms?
#
# Notebook 03 split the alliance into a therapist and a patient part. Here we go one level down,
# to **sessions within patients**. The clinical question is a within-person one: *when this patient's
# alliance is better than usual, are their symptoms lower at the next session?* Three things stand in
# the way, and each is shown on SIMULATED data whose truth we know:
#
# 1. **Between-patient differences leak into session-level models.** Patients with good alliances
#    also improve more; a model with the raw alliance mixes that with the within-patient process.
#    The fix is person-mean centring (Wang & Maxwell 2015), and, when both series trend over
#    treatment, **detrending** (Falkenström et al. 2017: within-patient effects depend on it).
# 2. **Reverse causation.** Early symptom gains raise later alliance ratings, so an alliance–outcome
#    correlation can appear without the alliance doing anything.
# 3. **Cross-lagged panel models** need random intercepts to separate stable differences from
#    within-person dynamics (Hamaker, Kuiper & Grasman 2015): the RI-CLPM.
#
# Functions: `analysis.sessions` (`within_between`, `lagged_model`, `riclpm`), checked against lme4
# and lavaan in `tests/test_sessions.py`; `analysis.growth` (`growth_model`, `compare_growth_models`),
# checked against lme4 in `tests/test_growth.py`.

# %% [markdown]
# **Learning goals.** After this notebook you can
#
# - split a session-level predictor into its between-patient (person mean) and within-patient parts, with
#   and without detrending, and say what each coefficient answers;
# - explain, with a Monte Carlo on data of known truth, why a lagged model with the raw alliance is biased;
# - recognise reverse causation (early gains raising the alliance) and what it does to alliance–outcome
#   correlations;
# - fit and read a random-intercept cross-lagged panel model (RI-CLPM), with complete cases or full
#   information ML under dropout;
# - fit a growth model with random intercepts and slopes, test the random slope, and read its diagnostics.
#
# **Prerequisites.** Notebook 03 (random-intercept models, REML vs ML, random slopes); regression with
# lagged predictors; for section 4, path diagrams and structural equation models at the level of "each
# arrow is a regression".
#
# Cells tagged `qc` (first line `# Checks: ...`, at the end of a section) are the workbook's own quality
# control — comparisons with lme4, lavaan and the simulation's truth, recorded in the ledger. You can
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

from analysis import datasets, ledger, plots, sessions
from analysis.growth import compare_growth_models, growth_model
from analysis.simulate import simulate_trial

plots.set_style()
ROOT = Path(datasets.PACKAGE_PATH).parent.parent

# %% [markdown]
# The Monte Carlo sections refit many simulated trials; their size is a parameter (the cell is tagged
# `parameters`, so the report runner may lower it).

# %% tags=["parameters"]
n_replicates_04 = 40  # Monte Carlo replicates per setting (each: one trial of 240 patients)
mc_seed_04 = 2017  # seed of the Monte Carlo

# %% [markdown]
# ## 1 · Within and between: the split
#
# For a patient $i$ at session $t$, the alliance $A_{it}$ is split into the person mean $\bar A_i$
# (between) and the deviation $A_{it} - \bar A_i$ (within). With **detrending**, the within part is the
# deviation from the patient's own straight line over sessions instead, so that a steady rise of the
# alliance (and a steady fall of symptoms) over treatment does not pass for a session-to-session link.
#
# In the simulator, there is **no session-level effect** of the alliance on the next session's
# symptoms: a patient's *mean* alliance drives their overall improvement (calibrated to the
# alliance–outcome r = .28 of Flückiger et al. 2018), which unfolds along a smooth curve. So the true
# within-patient lagged coefficient is **0**, while between patients the alliance predicts
# improvement. The lagged model should find ≈ 0 within.

# %%
sim = simulate_trial(n_therapists=30, caseload=8, n_sessions=12, seed=4)
s = sim.sessions[sim.sessions["session"] >= 1]  # the intake (session 0) has no alliance rating
wb = sessions.within_between(s, "alliance")
wbd = sessions.within_between(s, "alliance", detrend=True)
shares = pd.Series({
    "between (person means)": wb["alliance_between"].var(),
    "within, centred": wb["alliance_within"].var(),
    "within, detrended": wbd["alliance_within"].var(),
}, name="variance of the WAI-SR rating")
display(shares.round(4).to_frame())

# %%
fits = {
    "naive (raw alliance)": sessions.lagged_model(s, split=False),
    "person-mean centred": sessions.lagged_model(s),
    "centred and detrended": sessions.lagged_model(s, detrend=True),
}
table = pd.DataFrame({name: {"within (or raw) coefficient": f.within,
                             "SE": f.fixed.iloc[1]["se"],
                             "between coefficient": (f.fixed.loc["alliance_between", "estimate"]
                                                     if f.split else np.nan)}
                      for name, f in fits.items()}).T
display(table.round(3))
print(fits["centred and detrended"].summary())

# %% [markdown] tags=["qc"]
# **Checks: against lme4.** `tests/oracles/sessions_lavaan.R` fits the same lagged model with
# `lme4::lmer` on an unbalanced data set made in R (missing sessions, missing ratings), computing the
# centring, detrending and lags with base R. The ledger records the within-patient coefficient; the
# tolerance, 1e-4, is that of the test suite.

# %% tags=["qc"]
# Checks: the lagged model's within coefficient vs lme4 (ledger, kind "oracle")
fix = json.loads((ROOT / "tests" / "fixtures" / "sessions.json").read_text())
fix_sessions = pd.DataFrame(fix["sessions"])
for key, det in (("centred", False), ("detrended", True)):
    ours = sessions.lagged_model(fix_sessions, detrend=det).within
    display(ledger.record(
        claim=f"Lagged multilevel model ({key}): within-patient alliance coefficient vs lme4 (REML)",
        published=fix["lagged"][key]["REML"]["fixef"]["a_within"], ours=ours, tolerance=1e-4,
        source="tests/oracles/sessions_lavaan.R (lme4 lmer, bobyqa rhoend 1e-12)", kind="oracle",
        unit="symptom points per alliance point"))

# %% [markdown]
# ## 2 · The bias of naive lagged models, with the truth known
#
# We simulate many trials with short (6 sessions) and longer (12 sessions) series and fit the three
# models. The true within-patient coefficient is 0 in every trial.

# %%
def mc_lagged(n_sessions, kappa, n_rep, seed):
    """Within coefficients of the three lagged models over n_rep SIMULATED trials."""
    seeds = np.random.SeedSequence(seed).spawn(n_rep)
    out = []
    for ss in seeds:
        tr = simulate_trial(n_therapists=30, caseload=8, n_sessions=n_sessions, reverse_causation=kappa,
                            seed=ss)
        d = tr.sessions[tr.sessions["session"] >= 1]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out.append({"naive": sessions.lagged_model(d, split=False).within,
                        "centred": sessions.lagged_model(d).within,
                        "detrended": sessions.lagged_model(d, detrend=True).within,
                        "early_r": float(np.corrcoef(tr.patients["alliance_early"], tr.patients["change"])[0, 1])})
    return pd.DataFrame(out)


mc = {(T, k): mc_lagged(T, k, n_replicates_04, mc_seed_04 + 100 * T + int(10 * k))
      for T in (6, 12) for k in (0.0, 0.3)}
rows = []
for (T, k), df in mc.items():
    for model in ("naive", "centred", "detrended"):
        rows.append({"sessions": T, "reverse causation κ": k, "model": model, "mean estimate": df[model].mean(),
                     "MC SE": df[model].std(ddof=1) / np.sqrt(len(df)), "truth": 0.0})
mc_table = pd.DataFrame(rows)
display(mc_table[mc_table["reverse causation κ"] == 0].round(3))

# %% [markdown]
# Without reverse causation (κ = 0), the naive model's coefficient is clearly negative — the
# between-patient association (better alliance, more improvement) leaks in — and more so in short
# series (6 sessions) than in longer ones. Person-mean centring removes the leak: the centred and the
# detrended estimates lie within about two Monte Carlo SEs of the truth. Detrending matters once the
# alliance and the symptoms move together over treatment for other reasons (section 3).

# %% [markdown] tags=["qc"]
# **Checks.** The ledger records the recommended estimator (centred and detrended, 12 sessions, κ = 0) against the
# truth, with a tolerance of 3 Monte Carlo standard errors (an unbiased estimator's mean lands outside
# it in about 0.3% of Monte Carlo runs). The naive and centred rows are shown as the *demonstration of
# a bias*, not as reproduction claims.

# %% tags=["qc"]
# Checks: Monte Carlo mean of the detrended within coefficient vs the truth 0 (ledger, kind "simulation")
row = mc_table[(mc_table["sessions"] == 12) & (mc_table["reverse causation κ"] == 0)
               & (mc_table["model"] == "detrended")].iloc[0]
display(ledger.record(
    claim=f"Monte Carlo mean of the detrended within-patient lagged alliance coefficient ({n_replicates_04} "
          "SIMULATED trials, 12 sessions, no reverse causation) vs generating truth 0; tolerance 3 MC SE",
    published=0.0, ours=float(row["mean estimate"]), tolerance=float(3 * row["MC SE"]),
    source=f"analysis.simulate truth (no session-level alliance effect; Monte Carlo seed {mc_seed_04})",
    kind="simulation", unit="PHQ-9 points per WAI-SR point"))

# %% [markdown]
# ## 3 · The reverse-causation pitfall: early gains raise the alliance
#
# Now let symptom improvement *raise* the alliance: with `reverse_causation = κ = 0.3`, each PHQ-9 point
# of improvement since the previous session adds 0.3 WAI-SR points to the next rating. Nothing else
# changes — in particular the alliance's effect on outcome (the truth) is the same.
#
# Two consequences, both false:
#
# - the **early alliance** (mean of sessions 1–3) correlates more strongly with pre–post change, because
#   it now also records the early gains (a classic critique of alliance–outcome studies);
# - the centred within-patient lagged coefficient moves away from 0 (here to a *positive* value, as if
#   a good session made the next one worse), because the alliance now follows the symptom curve;
#   detrending removes most of this shift.

# %%
rc_rows = []
for k in (0.0, 0.3):
    df = mc[(12, k)]
    rc_rows.append({"κ": k, "early alliance–change r": df["early_r"].mean(),
                    "centred within": df["centred"].mean(), "detrended within": df["detrended"].mean(),
                    "naive": df["naive"].mean()})
rc_table = pd.DataFrame(rc_rows).set_index("κ")
display(rc_table.round(3))

fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
ax = axes[0]
for j, k in enumerate((0.0, 0.3)):
    ax.hist(mc[(12, k)]["early_r"], bins=15, alpha=0.6, color=plots.OKABE_ITO[j],
            label=f"κ = {k}: mean r = {mc[(12, k)]['early_r'].mean():.2f}")
ax.set(xlabel="r (early alliance, pre–post change)", ylabel="trials", title="Early alliance and outcome")
ax.legend(frameon=False, fontsize=8)
ax = axes[1]
models = ["naive", "centred", "detrended"]
x = np.arange(len(models))
for j, k in enumerate((0.0, 0.3)):
    sub = mc_table[(mc_table["sessions"] == 12) & (mc_table["reverse causation κ"] == k)].set_index("model")
    ax.errorbar(x + (j - 0.5) * 0.2, sub.loc[models, "mean estimate"], yerr=1.96 * sub.loc[models, "MC SE"],
                fmt="o", color=plots.OKABE_ITO[j], label=f"κ = {k}")
ax.axhline(0, color="0.3", lw=1, ls="--", label="truth (0)")
ax.set(xticks=x, xticklabels=models, ylabel="within-patient lagged coefficient",
       title="Lagged models, 12 sessions (Monte Carlo means)")
ax.legend(frameon=False, fontsize=8)
fig.suptitle("SIMULATED: reverse causation inflates alliance–outcome associations", fontsize=10)
fig.tight_layout()
plots.save_figure(fig, "04_reverse_causation")
plt.show()

# %% [markdown]
# The remedy for the first problem is design and adjustment: measure symptoms *before* each alliance
# rating and control for prior change (the lagged models do this by holding $Y_{it}$ fixed); the second
# needs detrending and, better, models that separate within-person dynamics from stable differences.
#
# ## 4 · The random-intercept cross-lagged panel model (RI-CLPM)
#
# The classic cross-lagged panel model regresses each wave on the previous one; with stable
# between-person differences its paths are biased (Hamaker, Kuiper & Grasman 2015). The RI-CLPM adds a
# random intercept per variable and models the within-person deviations:
#
# $$x_{it} = \mu_{xt} + RI_{x,i} + wx_{it},\qquad wx_{it} = \alpha_t\,wx_{i,t-1} + \beta_t\,wy_{i,t-1} + u_{it},$$
#
# and likewise for $y$. `sessions.riclpm` fits it by maximum likelihood with the workbook's own SEM engine
# (`analysis.sem`, checked against lavaan), on complete cases by default; χ² and the fit indices come from
# the same engine. With `missing="ml"` it fits the model by full-information maximum likelihood (FIML)
# instead, using every observed wave of every patient (below).

# %% [markdown]
# **Missing waves: full-information ML.** Session data always have missed sessions and dropouts. Complete
# cases throw away every patient with a gap and are biased when the missingness depends on what was observed
# before (missing at random, MAR: e.g. patients with high symptoms drop out). FIML maximises the normal
# likelihood of each patient's *observed* values, jointly over the model and the wave means, as
# `lavaan::sem(..., missing = "ml")` does; it is unbiased under MAR. `riclpm(..., missing="ml")` uses the
# FIML likelihood of the same engine (`analysis.sem`, checked against lavaan). SEs come from the observed
# information, lavaan's default with `missing = "ml"`; χ² compares the model with the saturated model fitted by EM. The oracle
# comparisons are at the end of this section.

# %% [markdown]
# **On the simulated trial with reverse causation** (sessions 1–5 as waves, 240 patients, κ = 0.3).
# The truth: no session-level alliance → symptom path; the symptom change raises the concurrent
# alliance rating.

# %%
rt = simulate_trial(n_therapists=30, caseload=8, n_sessions=12, reverse_causation=0.3, seed=mc_seed_04)
waves = rt.sessions[(rt.sessions["session"] >= 1) & (rt.sessions["session"] <= 5)]
ri = sessions.riclpm(waves, x="alliance", y="symptom", wave="session")
print(ri.summary())

# %%
fig = plots.riclpm_paths_plot(ri.lagged, labels={"x -> y": "alliance(t−1) → symptoms(t)",
                                                  "y -> x": "symptoms(t−1) → alliance(t)"},
                              title="SIMULATED RI-CLPM, 5 sessions (truth: no alliance → symptom path)")
plots.save_figure(fig, "04_riclpm_simulated")
plt.show()

# %% [markdown]
# The cross-lagged alliance → symptom paths scatter around 0 with intervals that include it, as the
# truth says. Where did the reverse effect go? In the simulator a rating rises with the improvement
# since the previous session, which is proportional to the patient's overall improvement — a
# person-specific *slope*. The RI-CLPM has random intercepts only, so this effect is spread over the
# within components rather than showing as a lagged symptom → alliance path; the within-wave
# covariances below have no consistent sign either. An RI-CLPM without a significant lagged path
# therefore does not rule out reverse causation of this kind (growth-curve extensions of the model
# exist; Mulder & Hamaker 2021).

# %%
cov_w = ri.params[(ri.params["op"] == "~~") & ri.params["lhs"].str.startswith("w")
                  & ri.params["rhs"].str.startswith("w") & (ri.params["lhs"].str[:2] != ri.params["rhs"].str[:2])]
display(cov_w[["lhs", "rhs", "estimate", "se", "pvalue"]].round(4))

# %% [markdown]
# **Dropout: what complete cases cost.** The same SIMULATED trial (same seed, so the same patients and
# scores), now with MAR dropout: 40% of the patients leave before session 12, and the odds of leaving after a
# session rise by a factor of $e^{1.5} \approx 4.5$ per SD of the symptom score observed at that session
# (`dropout="MAR", dropout_rate=0.4, dropout_strength=1.5`). Waves 1–5 lose the patients who leave early.
# The reference is the fit of the trial *before* dropout (all 240 patients, the section above, refitted by
# FIML, which on complete data is ordinary ML). The simulator does not generate an RI-CLPM, so apart from
# the alliance → symptom paths (truth 0) there is no generating value for the paths; the wave means are the
# clearest casualty of complete cases.

# %%
rd = simulate_trial(n_therapists=30, caseload=8, n_sessions=12, reverse_causation=0.3, seed=mc_seed_04,
                    dropout="MAR", dropout_rate=0.4, dropout_strength=1.5)
waves_d = rd.sessions[(rd.sessions["session"] >= 1) & (rd.sessions["session"] <= 5)]
before = waves[["alliance", "symptom"]].to_numpy(dtype=float)
after = waves_d[["alliance", "symptom"]].to_numpy(dtype=float)
kept = np.isfinite(after)
assert np.array_equal(before[kept], after[kept]), "dropout must only delete values"
ri_full = sessions.riclpm(waves, x="alliance", y="symptom", wave="session", missing="ml")
ri_lw = sessions.riclpm(waves_d, x="alliance", y="symptom", wave="session")
ri_ml = sessions.riclpm(waves_d, x="alliance", y="symptom", wave="session", missing="ml")
print(ri_ml.summary().split("  within-person")[0])

completers = waves_d.pivot(index="patient", columns="session", values="symptom").dropna()
means = pd.DataFrame({
    "before dropout (240, reference)": ri_full.params.query("op == '~1'").set_index("lhs")["estimate"],
    f"complete cases ({ri_lw.n}), sample mean": pd.Series(completers.mean().to_numpy(),
                                                          index=[f"symptom{w}" for w in completers.columns]),
    f"FIML ({ri_ml.n})": ri_ml.params.query("op == '~1'").set_index("lhs")["estimate"],
}).loc[[f"symptom{w}" for w in range(1, 6)]]
means.index = [f"PHQ-9 mean, session {w}" for w in range(1, 6)]
display(means.round(2))

rows = []
for name, f in (("before dropout", ri_full), ("complete cases", ri_lw), ("FIML", ri_ml)):
    g = f.lagged.groupby("path")[["estimate", "se"]].mean()
    rows.append({"fit": name, "patients": f.n,
                 **{f"{p} (mean of 4 waves)": f"{g.loc[p, 'estimate']:+.3f} (SE {g.loc[p, 'se']:.3f})"
                    for p in ("x -> y", "y -> x", "x -> x", "y -> y")}})
display(pd.DataFrame(rows).set_index("fit"))

# %%
fig = plots.riclpm_dropout_plot(
    means.set_axis(range(1, 6)),
    {f"{name} (N = {f.n})": f.lagged for name, f in (("before dropout", ri_full), ("complete cases", ri_lw),
                                                    ("FIML", ri_ml))},
    path="x -> y", truth=0.0, ylabel_means="PHQ-9 wave mean", ylabel_path="alliance(t−1) → symptoms(t) (95% CI)",
    title="SIMULATED trial with MAR dropout: complete cases vs full-information ML")
plots.save_figure(fig, "04_riclpm_dropout")
plt.show()

# %% [markdown]
# Complete cases keep only the patients present at all five sessions — the less symptomatic ones, because
# high symptoms made leaving more likely — so their wave means run more than a PHQ-9 point below those of
# the trial before dropout; FIML, using every observed session, stays within a few tenths of a point. The
# within-person paths are less affected in this trial (they describe deviations from each patient's own
# level, not the level), and the alliance → symptom intervals include the truth 0 in all three fits. In a
# single trial the FIML SEs need not be smaller than the complete-case ones (the two use different
# information matrices, observed and expected, and slightly different estimates); what FIML buys is the
# absence of the MAR selection bias and the use of every patient. With session data, report
# `missing="ml"`; the complete-case fit remains the default only so that earlier results stay reproducible.

# %% [markdown]
# **Falkenström's published RI-CLPM, for context only.** In a trial in Kenya (345 patients), Falkenström
# and colleagues found that one point more on the Session Alliance Inventory than the patient's usual
# level predicted 1.27 points lower CORE-OM distress at the next session (SE .60; checked in
# `published_figures.md`). The instruments, the number of waves and the population differ from our
# simulation, and the simulator has no session-level alliance effect built in, so the two are set
# side by side as a picture of what a within-person effect looks like in real data — not as a
# reproduction, and no ledger comparison is made.

# %%
context = pd.DataFrame({
    "source": ["Falkenström et al., Kenya trial (real)", "ours: SIMULATED trial, κ = 0.3"],
    "instruments": ["SAI → CORE-OM", "WAI-SR → PHQ-9"],
    "alliance → next-session symptoms": ["−1.27 (SE .60)",
                                         f"{ri.lagged.loc[ri.lagged['path'] == 'x -> y', 'estimate'].mean():+.2f} "
                                         "(mean of 4 waves; truth 0)"],
    "patients": [345, ri.n],
})
display(context)

# %% [markdown] tags=["qc"]
# **Checks: complete-case RI-CLPM against lavaan** on a 5-wave data set made in
# `tests/oracles/sessions_lavaan.R` (400 persons): every parameter and SE within 1e-3 (the test-suite
# tolerance), and χ² to a relative 1e-3.

# %% tags=["qc"]
# Checks: complete-case RI-CLPM vs lavaan (ledger, kind "oracle")
wide = pd.DataFrame(fix["riclpm"]["wide"])
long = pd.wide_to_long(wide, ["x", "y"], i="id", j="wave").reset_index().sort_values(["id", "wave"])
rfix = sessions.riclpm(long, x="x", y="y", patient="id", wave="wave")
lav = {(p["lhs"], p["rhs"]): p["est"] for p in fix["riclpm"]["params"] if p["op"] == "~"}
ours_cl = rfix.lagged.set_index(["lhs", "rhs"])["estimate"]
worst = max(abs(ours_cl[k] - v) for k, v in lav.items())
print(f"largest difference in the 16 lagged paths vs lavaan: {worst:.2e}")
display(ledger.record(
    claim="RI-CLPM (5 waves): cross-lagged path wx1 -> wy2 vs lavaan (ML)",
    published=lav[("wy2", "wx1")], ours=float(ours_cl[("wy2", "wx1")]), tolerance=1e-3,
    source="tests/oracles/sessions_lavaan.R (lavaan ML, expected information)", kind="oracle"))
display(ledger.record(
    claim="RI-CLPM (5 waves): chi-square vs lavaan (relative tolerance 1e-3)",
    published=fix["riclpm"]["fit"]["chisq"], ours=rfix.fit["chisq"], tolerance=1e-3, relative=True,
    source="tests/oracles/sessions_lavaan.R (lavaan fitMeasures)", kind="oracle"))

# %% [markdown] tags=["qc"]
# **Checks: FIML against lavaan.** The oracle deletes values from the same 400-person data by a fixed MAR rule
# (dropout after wave $t-1$ with a probability that rises with the observed $y_{t-1}$; intermittent missing
# $x$ whose probability depends on the observed $y_1$; two persons with nothing observed; written to
# `tests/fixtures/sessions_riclpm_missing.csv`) and fits `lavaan(..., missing = "ml")`. The test suite
# checks every parameter, wave mean and SE to 1e-3 and the fit statistics; the ledger records a cross-lagged
# path, its SE, χ² and the log-likelihood at the same tolerance (1e-3; χ² relative).

# %% tags=["qc"]
# Checks: RI-CLPM by FIML vs lavaan missing = "ml" (ledger, kind "oracle")
ml_fix = fix["riclpm_ml"]["free"]
mis_wide = pd.read_csv(ROOT / "tests" / "fixtures" / fix["riclpm_ml"]["csv"])
mis_long = pd.wide_to_long(mis_wide, ["x", "y"], i="id", j="wave").reset_index().sort_values(["id", "wave"])
rml = sessions.riclpm(mis_long, x="x", y="y", patient="id", wave="wave", missing="ml")
lav_ml = {(p["lhs"], p["op"], p["rhs"]): p for p in ml_fix["params"]}
ref_rows = [lav_ml.get((l, o, r)) or lav_ml[(r, o, l)]
            for l, o, r in zip(rml.params["lhs"], rml.params["op"], rml.params["rhs"])]
cmp = rml.params.assign(lav_est=[r["est"] for r in ref_rows], lav_se=[r["se"] for r in ref_rows])
d_est = np.max(np.abs(cmp["estimate"] - cmp["lav_est"]))
d_se = np.max(np.abs(cmp["se"] - cmp["lav_se"]))
print(f"{len(cmp)} parameters (paths, (co)variances, wave means); largest difference vs lavaan: "
      f"estimates {d_est:.1e}, SEs {d_se:.1e}")
print(rml.summary().split("  within-person")[0])
path_ml = cmp.set_index(["lhs", "op", "rhs"]).loc[("wy2", "~", "wx1")]
display(ledger.record(
    claim="RI-CLPM by FIML (5 waves, MAR-deleted values): cross-lagged path wx1 -> wy2 vs lavaan missing='ml'",
    published=float(path_ml["lav_est"]), ours=float(path_ml["estimate"]), tolerance=1e-3,
    source="tests/oracles/sessions_lavaan.R (lavaan missing = 'ml', defaults)", kind="oracle"))
display(ledger.record(
    claim="RI-CLPM by FIML: SE of the path wx1 -> wy2 (observed information) vs lavaan missing='ml'",
    published=float(path_ml["lav_se"]), ours=float(path_ml["se"]), tolerance=1e-3,
    source="tests/oracles/sessions_lavaan.R (lavaan missing = 'ml', defaults)", kind="oracle"))
display(ledger.record(
    claim="RI-CLPM by FIML: chi-square against the EM saturated model vs lavaan (relative tolerance 1e-3)",
    published=ml_fix["fit"]["chisq"], ours=rml.fit["chisq"], tolerance=1e-3, relative=True,
    source="tests/oracles/sessions_lavaan.R (lavaan fitMeasures, missing = 'ml')", kind="oracle"))
display(ledger.record(
    claim="RI-CLPM by FIML: log-likelihood vs lavaan logl (tolerance 1e-3)",
    published=ml_fix["fit"]["logl"], ours=rml.loglik, tolerance=1e-3,
    source="tests/oracles/sessions_lavaan.R (lavaan fitMeasures, missing = 'ml')", kind="oracle"))

# %% [markdown]
# ## 5 · Growth over sessions: random intercepts and slopes
#
# Most session-level psychotherapy papers report a **growth model** (Singer & Willett 2003, ch. 4;
# Raudenbush & Bryk 2002, ch. 6): every patient gets their own starting level and their own rate of
# change, and the fixed effects describe the average course and whether the treatment arm changes it,
#
# $$y_{ti} = \beta_0 + \beta_1\,\mathrm{time}_{ti} + \beta_2\,\mathrm{arm}_i
#            + \beta_3\,\mathrm{arm}_i\,\mathrm{time}_{ti} + u_{0i} + u_{1i}\,\mathrm{time}_{ti} + e_{ti},$$
#
# with $(u_{0i}, u_{1i}) \sim N(0, G)$ (intercept variance $\tau_{00}$, slope variance $\tau_{11}$, their
# covariance $\tau_{01}$) and $e_{ti} \sim N(0, \sigma^2)$. $\beta_3$, the **arm × time** interaction, is
# the usual treatment effect on the rate of change. `analysis.growth.growth_model` fits it as
# `lme4::lmer(symptom ~ time * arm + (time | patient))` does (checked against lme4 in `tests/test_growth.py`).
#
# **The time scale.** We use the SIMULATED trial of section 1 (240 patients, intake and 12 sessions, no
# dropout). Its symptoms fall along a negatively accelerated curve,
# $Y^*_{it} = Y^*_{i0} - D_i\,G(t)$ with $G(t) = \log(1+t)/\log(1+T)$ (see `analysis.simulate`), so
# the time variable is `course` $= G(t)$: 0 at intake, 1 at the last session. A slope on this scale
# reads as *the change in PHQ-9 points from intake to the end of treatment*, and the simulator knows its
# truth: $-\delta = -6$ points in arm 0 (the mean improvement, `mean_change`), an extra $-\tau$ in arm 1
# (the treatment effect added to the improvement), no arm difference at intake (randomisation),
# an intake mean of 16, and intake level and improvement drawn independently ($\tau_{01} = 0$).
# What the model does *not* know: 20% of the patients make a sudden gain (their curve has a step),
# scores are rounded and clipped to 0–27 (a floor at 0 for the patients who improve most), and patients
# share therapists (a 5% therapist ICC that the model ignores). These make the fit an approximation, as it
# is with real data.

# %%
T_04 = int(sim.params["n_sessions"])
growth_data = sim.sessions[["patient", "arm", "session", "symptom"]].copy()  # intake (session 0) included
growth_data["course"] = np.log1p(growth_data["session"]) / np.log1p(T_04)
g_ri = growth_model(growth_data, "symptom", "course", "patient", covariates=["arm"], time_by=["arm"],
                    random_slope=False)
g_rs = growth_model(growth_data, "symptom", "course", "patient", covariates=["arm"], time_by=["arm"])
print(g_rs.summary())

# %% [markdown]
# **How to read it.** *Random effects*: the intercept SD (≈ 4 PHQ-9 points) says how much patients differ
# at intake, the `course` SD how much their total change differs, `corr` whether those who start higher
# change more, and `Residual` the session-to-session scatter around each patient's own curve.
# *Fixed effects*: `(Intercept)` is the mean intake score in arm 0, `course` the mean change from intake to
# session 12 in arm 0, `arm` the arm difference at intake and `course:arm` how much more (negative) or less
# arm 1 changes; each row has a Wald z test and a 95% CI.
#
# **Do patients differ in their rate of change?** Compare the random-intercept model (all patients change
# at the same rate) with the random-slope model. Three details matter:
#
# - **REML is refitted by ML.** Both models were fitted by REML, which gives better variance estimates
#   but whose likelihood depends on the fixed-effects design; `compare_growth_models` refits both by ML
#   before the likelihood-ratio test (LRT), as lme4's `anova()` does, so the table shows ML log-likelihoods,
#   AIC and BIC (slightly different from the REML ones in the summary above).
# - **The boundary.** The LRT has df = 2 (the slope variance and the intercept–slope covariance). Under the
#   null the slope variance is 0, on the edge of the values a variance can take, so the statistic does not
#   follow $\chi^2_2$: the naive `pvalue` is too large (conservative).
# - **The mixture p.** Stram & Lee (1994) show that the null distribution is then a 50:50 mixture of
#   $\chi^2_1$ and $\chi^2_2$; `pvalue_mixture` uses it. Report it beside the naive one.

# %%
growth_cmp = compare_growth_models(g_ri, g_rs)
growth_cmp.table.index = ["random intercept", "random intercept and slope"]
print(growth_cmp.summary())
print(growth_cmp.apa())

# %% [markdown]
# **How to read it.** One row per model, smallest first; lower AIC and BIC are better. The LRT `statistic`
# on the second row is twice the gain in log-likelihood from letting slopes vary; a `pvalue_mixture` below
# .05 says that patients differ in their rate of change. Here the difference is overwhelming (a χ² in
# the hundreds): with a real spread of improvements, a random-intercept model would pretend every patient
# improves by the same amount, and its SEs for the time effects would be too small.
#
# **The fixed effects and the APA sentence** of the chosen model (REML, the default for reporting):

# %%
display(g_rs.to_frame().round(3))
print(g_rs.apa())
print(g_rs.apa("course"))

# %% [markdown]
# **How to read it.** `estimate` is in PHQ-9 points (for `course`: points of change from intake to the last
# session); `statistic` is estimate / SE, and the CI is estimate ± 1.96 SE. The APA sentence reports the
# arm × time effect by default: arm 1's change differs from arm 0's by b points over the course.
# The simulated treatment effect is small (d = 0.06 at post, $\tau \approx$ 0.4 PHQ-9 points), as between
# bona fide psychotherapies; a trial of 240 patients cannot tell it from 0, whatever its point estimate.

# %%
vc = g_rs.variance_components
sd_truth = pd.DataFrame({
    "estimate": [vc["sd"].iloc[0], vc["sd"].iloc[1], vc["corr"].iloc[2], vc["sd"].iloc[3]],
    "generating value": [float(sim.params["intake_sd"]), float(sim.params["change_sd"]), 0.0,
                         float(np.sqrt(sim.truth["symptom_error_sd"] ** 2 + 1 / 12))],
}, index=["intake SD (u0)", "SD of the total change (u1)", "corr(u0, u1)",
          "residual SD (measurement error + rounding)"])
display(sd_truth.round(2))

# %% [markdown]
# **How to read it.** The variance components beside their generating values (the fixed effects are
# checked against the truth, within 3 SEs, in the checks at the end of this section). The variance
# components are shown, not recorded: the model gives no SE for them. The intake SD is recovered; the SD
# of the change comes out somewhat below 5 because the floor at 0 compresses the largest improvements,
# and the residual SD slightly above the measurement error because sudden gains leave steps that a
# smooth curve does not follow.
#
# **Diagnostics.** The model assumes normal residuals and normal random slopes. A QQ plot sets the sorted
# values against the quantiles of a normal distribution: points on the line mean normality; a staircase
# (rounded scores), bent tails or isolated points show where the assumption fails. The random-slope plot
# uses the BLUPs (the patients' predicted deviations from the mean change), which are shrunk toward 0,
# so their spread is smaller than the model's slope SD.

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
plots.qq_plot(g_rs.residuals.to_numpy(), axes[0], title=f"Residuals ({g_rs.n_obs} measurements)")
plots.qq_plot(g_rs.ranef["course"].to_numpy(), axes[1],
              title=f"Random slopes, BLUPs ({g_rs.n_subjects} patients)")
fig.suptitle("SIMULATED trial: growth model diagnostics (random intercept and slope)", fontsize=10)
fig.tight_layout()
plots.save_figure(fig, "04_growth_qq")
plt.show()

# %% [markdown]
# **How to read it.** The residuals follow the line closely, with a few points off it only in the extreme
# tails: with 13 measurements per patient, rounding to whole PHQ-9 points and the sudden-gain steps barely
# show. The random slopes lie near the line but with a short lower tail and a slightly long upper tail (a
# mild skew): the most negative slopes are the largest improvements, and the floor at 0 cuts them short.
# With 240 patients, mild departures like these leave the fixed effects and their SEs nearly unchanged;
# strong skew or outlying patients call for a robustness check (e.g. cluster-robust SEs, or a refit
# without them).

# %% [markdown] tags=["qc"]
# **Checks: against the simulation truth.** The tolerance is fixed *before* comparing: the estimate must
# lie within **3 of its standard errors** of the generating value (an unbiased estimator misses this in about 0.3% of
# trials). The model is an approximation of the simulator (sudden gains, the floor at 0, therapists), and
# in a large SIMULATED trial (4,000 patients, same settings) we found the `course` slope about 0.2 points
# less steep than −6 — under half an SE of this 240-patient trial, so the check remains fair. The ledger
# records the intake mean, the slope in arm 0 and the arm × time effect.

# %% tags=["qc"]
# Checks: growth-model fixed effects vs the generating truth, 3 SE (ledger, kind "simulation")
truth_growth = {
    "(Intercept)": (float(sim.params["intake_mean"]), "intake mean of the latent PHQ-9 (intake_mean)"),
    "course": (-float(sim.params["mean_change"]), "minus the mean improvement in arm 0 (mean_change)"),
    "course:arm": (-float(sim.truth["tau"]), "minus the treatment effect on the improvement (tau)"),
}
for term, (true_value, what) in truth_growth.items():
    est = g_rs.coefficients.loc[term]
    display(ledger.record(
        claim=f"Growth model (random intercept and slope, REML; 240 SIMULATED patients, 13 measurements): "
              f"{term} vs generating truth; tolerance 3 SE",
        published=true_value, ours=float(est["estimate"]), tolerance=float(3 * est["se"]),
        source=f"analysis.simulate truth: {what}; simulate_trial(n_therapists=30, caseload=8, n_sessions=12, "
               "seed=4), time = log(1+session)/log(13)",
        kind="simulation", unit="PHQ-9 points"))

# %% [markdown]
# ## 6 · Run it on your own data
#
# One row per patient and session (long format), sorted by patient and session:
#
# | column | meaning |
# |---|---|
# | `patient` | patient id |
# | `session` | session number (whole numbers) |
# | `alliance` | alliance rating of the session (empty if missing) |
# | `symptom` | symptom score of the session, measured *before* or independently of the rating |
#
# `lagged_model` uses pairs of consecutive session numbers (a missing session breaks a pair; the
# counts are in `notes`); `riclpm` uses the waves you name, with complete cases by default or every
# observed value with `missing="ml"` (full-information ML).

# %%
workdir = Path(tempfile.mkdtemp(prefix="alliance_nb04_"))
csv_path = workdir / "my_sessions.csv"
rt.sessions.loc[rt.sessions["session"] >= 1, ["patient", "session", "alliance", "symptom"]].to_csv(
    csv_path, index=False)
mine = pd.read_csv(csv_path)
fit = sessions.lagged_model(mine, predictor="alliance", outcome="symptom", detrend=True)
print(fit.apa())
print(sessions.riclpm(mine, x="alliance", y="symptom", wave="session", waves=[3, 4, 5, 6], missing="ml").summary())
shutil.rmtree(workdir)

# %% [markdown]
# ## What we learned
#
# - A lagged model with the raw alliance mixes between-patient differences into the within-patient
#   coefficient; in short series the bias is larger (section 2).
# - Person-mean centring removes most of it; shared trends over treatment leave a bias that
#   detrending removes (section 2).
# - When early gains raise the alliance, early-alliance–outcome correlations are inflated and
#   within-patient coefficients shift, with no alliance effect at all (section 3).
# - The RI-CLPM separates stable differences from within-person dynamics; ours agrees with lavaan
#   (section 4), with complete cases and with full-information ML.
# - Under MAR dropout complete cases lose patients and bias the wave means; FIML (`missing="ml"`) uses every
#   observed session and recovers them (section 4).
# - A growth model with random intercepts and slopes describes the average course, the arm × time
#   effect and how much patients differ in their change; test the random slope with the ML likelihood
#   ratio and the boundary-corrected mixture p-value, and check the residuals and slopes with QQ plots
#   (section 5).

# %% [markdown]
# ## Exercises
#
# From conceptual to hands-on. Put your answer in place of `None` and run the cell: `check` says
# *Right* or *Not yet* with a hint, without showing the answer. Worked answers:
# `answers/04_session_by_session.ipynb` (in the `notebooks/answers/` folder).

# %%
from analysis.exercises import check  # noqa: E402

# %% [markdown]
# **1 (concept).** Which centring keeps between-patient differences out of the within-patient lagged
# coefficient: `"person-mean"` or `"grand-mean"`?

# %%
your_answer = None  # "person-mean" or "grand-mean"
check("04.1", your_answer) if your_answer is not None else "not answered yet"

# %% [markdown]
# **2 (concept).** The likelihood-ratio test of a random slope has df = 2, but the null value of the
# slope variance lies on the boundary. Is the 50:50 mixture p-value `"smaller"` or `"larger"` than the
# naive χ²(2) p-value?

# %%
your_answer = None  # "smaller" or "larger"
check("04.2", your_answer) if your_answer is not None else "not answered yet"

# %% [markdown]
# **3 (predict, then check).** Simulate section 1's trial again with reverse causation,
# `simulate_trial(n_therapists=30, caseload=8, n_sessions=12, reverse_causation=0.3, seed=4)`, and fit
# the person-mean centred lagged model (not detrended) to sessions 1–12. The truth is still 0: which
# way will the within coefficient move? Give it; then fit the detrended model too.

# %%
your_answer = None  # the centred within coefficient
check("04.3", your_answer) if your_answer is not None else "not answered yet"

# %% [markdown]
# **4 (hands-on).** Fit section 5's growth model (random intercept and slope, arm × time, REML) with time
# in *sessions* (`time = session`, a straight line) instead of the log course. What is the mean change
# per session in arm 0 (the `session` coefficient)? Then refit both time scales by ML and compare their
# AIC: which describes the course better?

# %%
your_answer = None  # the session coefficient
check("04.4", your_answer) if your_answer is not None else "not answered yet"
