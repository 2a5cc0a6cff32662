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
# # Growth-model report
#
# Made by `analysis.report` (`python -m analysis report growth ...`) with the workbook's
# `analysis.growth.growth_model`: lme4's `lmer(outcome ~ time + covariates + time:time_by +
# (time | patient))` on its profiled (RE)ML criterion, checked against lme4. Every number is
# also written to `tables/*.csv` and `results.json` in this folder.

# %% tags=["parameters"]
csv_path = ""  # the validated input file
report_dir = "."  # this report's folder
outcome = "score"
time = "session"
subject = "patient"
covariates = []
time_by = []
random_slope = True
method = "REML"
level = 0.95
na_action = "fail"
title = "Growth-model report"

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from analysis import report
from analysis.growth import growth_model
from analysis.plots import save_figure, set_style

set_style()
pd.set_option("display.precision", 4)
out = Path(report_dir)
figures = out / "figures"
data = report.load_input("growth", csv_path, outcome=outcome, time=time, subject=subject,
                         covariates=covariates, na_action=na_action)
per_patient = data.groupby(subject).size()
display(Markdown(
    f"## {title}\n\nInput: `{Path(csv_path).name}`: {len(data)} measurements of "
    f"{per_patient.size} patients ({per_patient.min()}–{per_patient.max()} each); outcome `{outcome}`, "
    f"time `{time}`; covariates: {', '.join(covariates) or 'none'}; time interactions: "
    f"{', '.join(time_by) or 'none'}; {'random intercepts and slopes' if random_slope else 'random intercepts'}, "
    f"{method}."
))

# %% [markdown]
# ## Trajectories

# %%
fig, ax = plt.subplots(figsize=(7.2, 4.6))
for _, rows in data.sort_values(time).groupby(subject):
    ax.plot(rows[time], rows[outcome], color="0.75", lw=0.7)
means = data.groupby(time)[outcome].mean()
ax.plot(means.index, means.to_numpy(), color="#0072b2", lw=2.5, marker="o", label="observed mean")
ax.set_xlabel(time)
ax.set_ylabel(outcome)
ax.legend(frameon=False)
save_figure(fig, "trajectories", directory=figures)
plt.show()

# %% [markdown]
# ## The growth model

# %%
fit = growth_model(data, outcome, time, subject, covariates=covariates or None,
                   time_by=time_by or None, random_slope=random_slope, method=method,
                   level=level)
print(fit.summary())
coefs = fit.to_frame()
report.write_table(coefs, "fixed_effects", out, index=False)
report.write_table(fit.variance_components, "variance_components", out)
report.write_table(fit.ranef, "random_effects", out)
display(coefs)

# %% [markdown]
# ## Results in APA style

# %%
paragraph = fit.apa()
if time_by:
    paragraph += " " + fit.apa(time)
(out / "apa.txt").write_text(paragraph + "\n", encoding="utf-8")
display(Markdown(paragraph))
for note in fit.notes:
    print("note:", note)

# %%
results = {
    "kind": "growth", "input": Path(csv_path).name, "n_obs": fit.n_obs, "n_subjects": fit.n_subjects,
    "method": method, "fixef": dict(zip(coefs["term"], coefs["estimate"])),
    "se": dict(zip(coefs["term"], coefs["se"])), "sigma2": fit.sigma2, "loglik": fit.loglik,
    "aic": fit.aic, "bic": fit.bic, "singular": fit.singular, "converged": fit.converged,
    "variance_components": fit.variance_components.reset_index().to_dict(orient="records"),
    "apa": paragraph,
}
report.write_results(results, out)
print(f"Wrote {out.name}/results.json")
