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
# # Power report
#
# Made by `analysis.report` (`python -m analysis report power ...`) with the workbook's
# `analysis.power`: analytic power (normal approximation, Cohen 1988) with the therapist
# clustering folded into the design effect DE = 1 + (m − 1)·ICC (Kish 1965; Donner & Klar
# 2000), for (1) a two-arm comparison whose therapists are nested in the arms and (2) the
# test of an alliance–outcome correlation. Patients treated by the same therapist are not
# independent: the effective sample size is N / DE. For power under the full data-generating
# model (dropout, therapist effects on the alliance) use `analysis.power.simulate_power`.

# %% tags=["parameters"]
report_dir = "."  # this report's folder
effect_size = 0.3
r = 0.28
caseload = 6.0
icc = 0.05
alpha = 0.05
target = 0.8
allocation = 0.5
n_min = 20
n_max = 1000
title = "Power of a planned design"

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from analysis import report
from analysis.plots import save_figure, set_style
from analysis.power import design_effect, power_correlation, power_two_arm

set_style()
out = Path(report_dir)
figures = out / "figures"
de = float(design_effect(caseload, icc))
display(Markdown(
    f"## {title}\n\nDesign: effect size d = {effect_size:g} between arms (allocation "
    f"{allocation:g}), alliance–outcome r = {r:g}; {caseload:g} patients per therapist, ICC = "
    f"{icc:g}, so DE = {de:.3f}; two-sided α = {alpha:g}; target power {target:.0%}."
))

# %% [markdown]
# ## Power by total sample size

# %%
n = np.arange(n_min, n_max + 1)
table = pd.DataFrame({
    "n_total": n,
    "n_therapists": np.ceil(n / caseload).astype(int),
    "power_two_arm": power_two_arm(effect_size, n, de, alpha, allocation),
    "power_two_arm_ignoring_therapists": power_two_arm(effect_size, n, 1.0, alpha, allocation),
    "power_correlation": power_correlation(r, n, de, alpha) if n_min / de > 3 else np.nan,
    "power_correlation_ignoring_therapists": power_correlation(r, n, 1.0, alpha),
})
report.write_table(table, "power_by_n", out, index=False)


def smallest(column):
    reached = table.loc[table[column] >= target, "n_total"]
    return int(reached.iloc[0]) if len(reached) else None


needed = pd.DataFrame([
    {"analysis": "two arms, therapists nested in arms", "n_total": smallest("power_two_arm")},
    {"analysis": "two arms, ignoring therapists (DE = 1)",
     "n_total": smallest("power_two_arm_ignoring_therapists")},
    {"analysis": "alliance-outcome correlation", "n_total": smallest("power_correlation")},
    {"analysis": "alliance-outcome correlation, ignoring therapists (DE = 1)",
     "n_total": smallest("power_correlation_ignoring_therapists")},
])
needed["n_therapists"] = [None if v is None else int(np.ceil(v / caseload)) for v in needed["n_total"]]
report.write_table(needed, "sample_size_needed", out, index=False)
needed

# %%
fig, ax = plt.subplots(figsize=(7.2, 4.4))
ax.plot(n, table["power_two_arm"], color="#0072b2", label=f"two arms, d = {effect_size:g}")
ax.plot(n, table["power_two_arm_ignoring_therapists"], color="#0072b2", ls=":", label="… ignoring therapists")
ax.plot(n, table["power_correlation"], color="#d55e00", label=f"correlation, r = {r:g}")
ax.plot(n, table["power_correlation_ignoring_therapists"], color="#d55e00", ls=":", label="… ignoring therapists")
ax.axhline(target, color="0.4", lw=0.8, ls="--")
ax.set_xlabel("Patients in the study (N)")
ax.set_ylabel("Power")
ax.set_ylim(0, 1)
ax.legend(frameon=False, fontsize=8, loc="lower right")
save_figure(fig, "power_curves", directory=figures)
plt.show()

# %% [markdown]
# ## In words

# %%
def words(v):
    return f"{v} patients ({int(np.ceil(v / caseload))} therapists)" if v is not None else f"more than {n_max} patients"


two, cor = smallest("power_two_arm"), smallest("power_correlation")
paragraph = (
    f"With {caseload:g} patients per therapist and a therapist ICC of {icc:g} (design effect "
    f"{de:.2f}), a two-sided test at α = {alpha:g} reaches {target:.0%} power for a standardised "
    f"difference of d = {effect_size:g} between arms with therapists nested in arms with "
    f"{words(two)}, and for an alliance–outcome correlation of r = {r:g} with {words(cor)} "
    f"(normal approximations with the design effect; Cohen, 1988; Donner & Klar, 2000)."
)
(out / "apa.txt").write_text(paragraph + "\n", encoding="utf-8")
display(Markdown(paragraph))

# %%
report.write_results({
    "kind": "power", "design_effect": de, "effect_size": effect_size, "r": r, "caseload": caseload,
    "icc": icc, "alpha": alpha, "target": target, "allocation": allocation,
    "n_needed": {row["analysis"]: row["n_total"] for _, row in needed.iterrows()}, "apa": paragraph,
}, out)
print(f"Wrote {out.name}/results.json")
