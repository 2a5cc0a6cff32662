# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Therapist-effects report
#
# Made by `analysis.report` (`python -m analysis report therapists ...`) from the alliance
# workbook's tested estimators: a random-intercept model of the outcome with therapists as
# groups (`analysis.multilevel.therapist_effect`, REML, checked against lme4's `lmer`) gives
# the therapist variance, the ICC with its profile-likelihood interval and each therapist's
# predicted effect; with an alliance column, the alliance–outcome association is split into
# its within- and between-therapist parts (`disaggregate_alliance`; Baldwin, Wampold & Imel,
# 2007). Every number is also written to `tables/*.csv` and `results.json` in this folder.

# %% tags=["parameters"]
csv_path = ""  # the validated input file
report_dir = "."  # this report's folder
outcome = "post"
therapist = "therapist"
alliance = None
covariates = []
level = 0.95
na_action = "fail"
title = "Therapist-effects report"

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from analysis import report
from analysis.multilevel import disaggregate_alliance, therapist_effect
from analysis.plots import caterpillar_plot, save_figure, set_style

set_style()
pd.set_option("display.precision", 4)
out = Path(report_dir)
figures = out / "figures"
data = report.load_input("therapists", csv_path, outcome=outcome, therapist=therapist,
                         alliance=alliance, covariates=covariates, na_action=na_action)
if alliance is None and "alliance" in data.columns:
    alliance = "alliance"
display(Markdown(
    f"## {title}\n\nInput: `{Path(csv_path).name}`: {len(data)} patients, "
    f"{data[therapist].nunique()} therapists; outcome `{outcome}`; covariates: "
    f"{', '.join(covariates) or 'none'}; alliance: {alliance or 'not given'}."
))
caseloads = data.groupby(therapist).size()
report.write_table(caseloads.rename("patients").to_frame(), "caseloads", out)
caseloads.describe().to_frame("patients per therapist").T

# %% [markdown]
# ## Therapist variance and ICC

# %%
fit = therapist_effect(data, outcome, therapist, covariates=covariates or None, ci_level=level)
print(fit.summary())
fixed = fit.fixed.reset_index()
fixed.columns = ["term", "estimate", "se", "statistic", "pvalue", "ci_low", "ci_high"]
report.write_table(fixed, "fixed_effects", out, index=False)
report.write_table(fit.effects, "therapist_effects", out, index=False)

# %% [markdown]
# ## Each therapist's predicted effect
#
# Ranked predicted effects (BLUPs) with their intervals; with few patients per therapist
# the intervals are wide and most overlap: a ranking of therapists needs far more patients.

# %%
fig = caterpillar_plot(fit, xlabel=f"Predicted therapist effect on {outcome}")
save_figure(fig, "caterpillar", directory=figures)
plt.show()

# %% [markdown]
# ## The alliance within and between therapists

# %%
dis = None
if alliance:
    dis = disaggregate_alliance(data, outcome, alliance, therapist, covariates=covariates or None)
    print(dis.summary())
    table = dis.fixed.reset_index()
    table.columns = ["term", "estimate", "se", "statistic", "pvalue", "ci_low", "ci_high"]
    report.write_table(table, "alliance_within_between", out, index=False)
    display(table)
else:
    print("No alliance column (--alliance): the disaggregation was skipped.")

# %% [markdown]
# ## Results in APA style

# %%
paragraph = fit.apa() + (" " + dis.apa() if dis is not None else "")
notes = list(fit.notes) + (list(dis.notes) if dis is not None else [])
if fit.singular:
    paragraph += " The therapist variance was estimated at zero (singular fit)."
(out / "apa.txt").write_text(paragraph + "\n", encoding="utf-8")
display(Markdown(paragraph))
if notes:
    print("Notes:", *notes, sep="\n  ")

# %%
results = {
    "kind": "therapists", "input": Path(csv_path).name, "outcome": outcome, "therapist": therapist,
    "covariates": list(covariates), "n_obs": fit.n_obs, "n_therapists": fit.n_therapists,
    "therapist_var": fit.therapist_var, "residual_var": fit.residual_var, "icc": fit.icc,
    "icc_ci": list(fit.icc_ci), "loglik": fit.loglik, "singular": fit.singular,
    "converged": fit.converged, "fixed": fixed.set_index("term")["estimate"].to_dict(),
    "apa": paragraph,
}
if dis is not None:
    results["alliance"] = {
        "column": alliance, "within": dis.within, "within_se": dis.within_se, "between": dis.between,
        "between_se": dis.between_se, "contextual": dis.contextual, "contextual_se": dis.contextual_se,
        "contextual_pvalue": dis.contextual_pvalue, "therapist_var": dis.therapist_var,
        "residual_var": dis.residual_var,
    }
report.write_results(results, out)
print(f"Wrote {out.name}/results.json")
