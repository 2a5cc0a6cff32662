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
# # WAI-SR scale report
#
# Made by `analysis.report` (`python -m analysis report scale ...`) with the workbook's
# `analysis.psychometrics`: WAI-SR scores (task, bond, goal, total; item means 1–5), Cronbach's
# alpha with Feldt's interval (checked against psych), and the three-factor confirmatory
# factor analysis (ML; checked against lavaan) with McDonald's omega. The item key was read in
# secondary scoring guides, not confirmed against Hatcher & Gillaspy (2006): see the docstring
# of `analysis.psychometrics.wai_sr_key`. Every number is also written to `tables/*.csv` and
# `results.json` in this folder.

# %% tags=["parameters"]
csv_path = ""  # the validated input file
report_dir = "."  # this report's folder
items = [f"wai{j}" for j in range(1, 13)]
respondent = None
level = 0.95
na_action = "fail"
title = "WAI-SR scale report"

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from analysis import report
from analysis.psychometrics import cronbach_alpha, fit_cfa, score_wai_sr, wai_sr_key
from analysis.plots import save_figure, set_style

set_style()
pd.set_option("display.precision", 3)
out = Path(report_dir)
figures = out / "figures"
data = report.load_input("scale", csv_path, items=items, respondent=respondent)
answers = data[items].astype(float)
if respondent:
    answers.index = data[respondent]
key = wai_sr_key(items)
display(Markdown(
    f"## {title}\n\nInput: `{Path(csv_path).name}`: {len(answers)} respondents, "
    f"{int(answers.isna().sum().sum())} missing answers."
))

# %% [markdown]
# ## Scores

# %%
scored = score_wai_sr(answers, items)
report.write_table(scored.scores, "scores", out)
report.write_table(scored.scores.describe().T, "score_summary", out)
scored.scores.describe().T

# %%
fig, axes = plt.subplots(1, 4, figsize=(10, 2.8), sharey=True)
for ax, column in zip(axes, ["task", "bond", "goal", "total"]):
    ax.hist(scored.scores[column].dropna(), bins=16, range=(1, 5), color="#0072b2")
    ax.set_title(column)
    ax.set_xlim(1, 5)
axes[0].set_ylabel("respondents")
save_figure(fig, "score_distributions", directory=figures)
plt.show()

# %% [markdown]
# ## Reliability: Cronbach's alpha

# %%
rows = []
alpha_total = cronbach_alpha(answers, items, level=level)
rows.append({"scale": "total", "alpha": alpha_total.alpha, "ci_low": alpha_total.ci[0],
             "ci_high": alpha_total.ci[1], "n": alpha_total.n, "k": alpha_total.k})
for name, subscale in key.subscales.items():
    a = cronbach_alpha(answers, list(subscale), level=level)
    rows.append({"scale": name, "alpha": a.alpha, "ci_low": a.ci[0], "ci_high": a.ci[1], "n": a.n, "k": a.k})
alphas = pd.DataFrame(rows)
report.write_table(alphas, "alpha", out, index=False)
report.write_table(alpha_total.items, "item_statistics", out)
display(alphas)
alpha_total.items

# %% [markdown]
# ## Confirmatory factor analysis (three correlated factors) and omega

# %%
cfa = fit_cfa(answers, {name: list(sub) for name, sub in key.subscales.items()})
print(cfa.summary())
fit_table = pd.Series(cfa.fit).to_frame("value")
report.write_table(fit_table, "cfa_fit", out)
report.write_table(cfa.loadings, "cfa_loadings", out)
omega = cfa.omega()
report.write_table(omega.to_frame("omega"), "omega", out)

# %% [markdown]
# ## Results in APA style

# %%
f = cfa.fit
paragraph = (
    alpha_total.apa().rstrip(".") + "."
    + " Subscale alphas: " + ", ".join(f"{r.scale} {r.alpha:.2f}".replace(" 0.", " .")
                                       for r in alphas.iloc[1:].itertuples()) + "."
    + f" A three-factor CFA (task, bond, goal; ML, n = {cfa.n}) fitted with χ²({int(f['df'])}) = {f['chisq']:.2f}, "
    f"CFI = {f['cfi']:.3f}, TLI = {f['tli']:.3f}, RMSEA = {f['rmsea']:.3f}, SRMR = {f['srmr']:.3f}; "
    f"McDonald's omega total = {omega['total']:.2f}."
)
(out / "apa.txt").write_text(paragraph + "\n", encoding="utf-8")
display(Markdown(paragraph))

# %%
report.write_results({
    "kind": "scale", "input": Path(csv_path).name, "n": len(answers),
    "alpha": dict(zip(alphas["scale"], alphas["alpha"])),
    "alpha_ci_total": list(alpha_total.ci), "cfa_fit": dict(cfa.fit), "omega": omega.to_dict(),
    "converged": cfa.converged, "apa": paragraph,
}, out)
print(f"Wrote {out.name}/results.json")
