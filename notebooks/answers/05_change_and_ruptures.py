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
# # Answers · 05 Individual change
#
# Worked answers to the exercises of `05_change_and_ruptures.ipynb`. Each numeric answer is asserted
# with `check`, so this notebook fails if an answer and the key ever disagree.

# %%
import numpy as np

from analysis import change, datasets
from analysis.exercises import check
from analysis.simulate import simulate_trial

# %% [markdown]
# ## 1 · Is a pre–post fall after selecting high scorers evidence that treatment works?
#
# **No (False).** Patients selected for a score of 15 or more would score lower on average at a second
# measurement even without treatment (regression to the mean, section 3), and some would recover
# spontaneously. Only a comparison group selected the same way — ideally randomised — separates the
# treatment's effect from both.

# %%
assert check("05.1", False)

# %% [markdown]
# ## 2 · The reliable change threshold
#
# $S_{diff} = 10\sqrt 2\sqrt{1-.91} = 4.24$; $1.96\,S_{diff} = 8.32$ BDI-II points.

# %%
s_diff = 10 * np.sqrt(2) * np.sqrt(1 - 0.91)
print(round(s_diff, 3), round(1.96 * s_diff, 3))
assert check("05.2", 1.96 * s_diff)
assert np.isclose(change.reliable_change_threshold(10, 0.91).threshold, 1.96 * s_diff)

# %% [markdown]
# ## 3 · Lower reliability, more regression to the mean
#
# *Prediction:* it grows, for two reasons: the factor $1-\rho$ doubles (from .15 to .30), and with more
# error variance the referred group's first scores lie further above the mean. The simulation of section
# 3 with $\rho = .70$:

# %%
rng = np.random.default_rng(1986)
n_people, mu, sd_true, rho = 20_000, 7.0, 4.0, 0.70
sd_error = sd_true * np.sqrt((1 - rho) / rho)
true_score = rng.normal(mu, sd_true, n_people)
x1 = true_score + rng.normal(0, sd_error, n_people)
x2 = true_score + rng.normal(0, sd_error, n_people)
referred = x1 >= change.norms("PHQ-9")["cutoff"]
predicted = (1 - rho) * (x1[referred].mean() - mu)
print(f"predicted {predicted:.2f}, apparent {np.mean(x1[referred] - x2[referred]):.2f} points (true change 0)")
assert check("05.3", float(predicted))

# %% [markdown]
# ## 4 · Beat the Blues with a lower reliability
#
# A lower reliability widens the band of unreliable change ($S_{diff}$ grows with $\sqrt{1-r_{xx}}$), so
# *fewer* patients count as reliably improved.

# %%
btheb = datasets.load("btheb", package=datasets.PACKAGE_PATH.parent / "trials")
pre, post = btheb["bdi.pre"].astype(float), btheb["bdi.2m"].astype(float)
counts = {r: change.clinical_significance(pre, post, reliability=r, cutoff="a").counts() for r in (0.91, 0.80)}
for r, c in counts.items():
    print(f"r_xx = {r}: reliably improved {int(c[['recovered', 'improved']].sum())}")
n80 = int(counts[0.80][["recovered", "improved"]].sum())
assert check("05.4", n80)

# %% [markdown]
# ## 5 · LOCF and the dropouts
#
# Rebuild section 6's per-patient table, classify each patient on the last *observed* score (LOCF),
# and count the dropouts called "unchanged". Their last scores come from mid-treatment, before much of
# the improvement the course still had to bring.

# %%
rt = simulate_trial(n_therapists=40, caseload=8, n_sessions=12, rupture_rate=0.10, rupture_depth=0.4,
                    repair_prob=0.6, dropout="MCAR", dropout_rate=0.15, seed=2004)
mine = rt.sessions[["patient", "session", "symptom"]]
last_planned = int(mine["session"].max())
obs = mine.dropna(subset=["symptom"])
per_patient = obs.groupby("patient").agg(pre=("symptom", "first"), last_score=("symptom", "last"))
per_patient["dropout"] = mine[mine["session"] == last_planned].set_index("patient")["symptom"].reindex(
    per_patient.index).isna()
locf = change.clinical_significance(per_patient["pre"], per_patient["last_score"], reliability=0.85, cutoff="a")
categories = locf.table["category"].astype(str).to_numpy()
is_dropout = per_patient["dropout"].to_numpy()
by_status = {d: {k: int(v) for k, v in zip(*np.unique(categories[is_dropout == d], return_counts=True))}
             for d in (False, True)}
print("completers:", by_status[False])
print("dropouts (LOCF):", by_status[True])
n_unchanged = int((categories[per_patient["dropout"].to_numpy()] == "unchanged").sum())
assert check("05.5", n_unchanged)
