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
# # Reliable change and clinical significance report
#
# Made by `analysis.report` (`python -m analysis report change ...`) with the workbook's
# `analysis.change`: the reliable change index of Jacobson & Truax (1991),
# RC = (post − pre) / S_diff with S_diff = SD·√2·√(1 − r_xx), and their categories: recovered
# (reliable improvement and crossing the cut-off), improved, unchanged, deteriorated. Every
# number is also written to `tables/*.csv` and `results.json` in this folder.

# %% tags=["parameters"]
csv_path = ""  # the validated input file
report_dir = "."  # this report's folder
pre = "pre"
post = "post"
group = None
instrument = None
reliability = None
cutoff = "a"
m_clin = None
sd_clin = None
m_func = None
sd_func = None
higher_is_better = False
critical = 1.96
na_action = "fail"
title = "Reliable change and clinical significance"

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from analysis import report
from analysis.change import clinical_significance
from analysis.plots import save_figure, set_style

set_style()
pd.set_option("display.precision", 4)
out = Path(report_dir)
figures = out / "figures"
data = report.load_input("change", csv_path, pre=pre, post=post, group=group, na_action=na_action)
display(Markdown(
    f"## {title}\n\nInput: `{Path(csv_path).name}`: {len(data)} patients; scores `{pre}` → `{post}` "
    f"({'higher' if higher_is_better else 'lower'} is better); instrument: {instrument or 'not given'}; "
    f"reliability: {reliability if reliability is not None else 'from the instrument'}; "
    f"cut-off: {cutoff}; groups: {group or 'none'}."
))

# %% [markdown]
# ## Categories

# %%
cs = clinical_significance(
    data[pre].to_numpy(), data[post].to_numpy(), reliability=reliability, m_clin=m_clin,
    sd_clin=sd_clin, m_func=m_func, sd_func=sd_func, cutoff=cutoff,
    higher_is_better=higher_is_better, critical=critical, instrument=instrument,
)
print(cs.summary())
patients = cs.table.copy()
patients.index = data.index
patients.index.name = "line"
if group:
    patients.insert(0, group, data[group].to_numpy())
report.write_table(patients, "patients", out)
counts = cs.counts().drop("missing").to_frame("n")
counts["percent"] = 100 * counts["n"] / counts["n"].sum()
report.write_table(counts, "categories", out)
counts

# %%
by_group = None
if group:
    by_group = pd.crosstab(patients[group], patients["category"]).reindex(
        columns=["recovered", "improved", "unchanged", "deteriorated"], fill_value=0)
    report.write_table(by_group, "categories_by_group", out)
    display(by_group)

# %% [markdown]
# ## Pre and post scores
#
# Each patient at (pre, post). Points outside the grey band changed reliably; the dashed line
# is the cut-off between the dysfunctional and the functional range.

# %%
colours = {"recovered": "#009e73", "improved": "#56b4e9", "unchanged": "#999999",
           "deteriorated": "#d55e00"}
fig, ax = plt.subplots(figsize=(6.4, 6.0))
lo = float(np.nanmin([patients["pre"].min(), patients["post"].min()]))
hi = float(np.nanmax([patients["pre"].max(), patients["post"].max()]))
grid = np.linspace(lo, hi, 2)
band = cs.reliable.critical * cs.reliable.s_diff if cs.reliable.min_change is None else cs.reliable.min_change
ax.fill_between(grid, grid - band, grid + band, color="0.9", label="no reliable change")
ax.plot(grid, grid, color="0.5", lw=0.8)
ax.axhline(cs.cutoff, ls="--", color="0.3", lw=1, label=f"cut-off {cs.cutoff_used} = {cs.cutoff:.1f}")
for category, colour in colours.items():
    rows = patients[patients["category"] == category]
    ax.scatter(rows["pre"], rows["post"], s=22, color=colour, label=f"{category} ({len(rows)})")
ax.set_xlabel(f"{pre} (before)")
ax.set_ylabel(f"{post} (after)")
ax.legend(frameon=False, fontsize=8, loc="upper left")
save_figure(fig, "pre_post", directory=figures)
plt.show()

# %% [markdown]
# ## Results in APA style

# %%
paragraph = cs.apa()
if by_group is not None:
    shares = (100 * by_group["recovered"] / by_group.sum(axis=1)).round(0)
    paragraph += " Recovered by group: " + "; ".join(
        f"{g} {int(by_group.loc[g, 'recovered'])} of {int(by_group.loc[g].sum())} ({shares[g]:.0f}%)"
        for g in by_group.index) + "."
(out / "apa.txt").write_text(paragraph + "\n", encoding="utf-8")
display(Markdown(paragraph))
for note in cs.notes:
    print("note:", note)

# %%
results = {
    "kind": "change", "input": Path(csv_path).name, "n": int(counts["n"].sum()),
    "s_diff": cs.reliable.s_diff, "critical": cs.reliable.critical, "cutoff_used": cs.cutoff_used,
    "cutoff": cs.cutoff, "cutoffs": {k: v for k, v in cs.cutoffs.items()},
    "counts": {k: int(v) for k, v in counts["n"].items()},
    "by_group": {str(g): {k: int(v) for k, v in row.items()} for g, row in by_group.iterrows()}
    if by_group is not None else None,
    "notes": list(cs.notes), "apa": paragraph,
}
report.write_results(results, out)
print(f"Wrote {out.name}/results.json")
