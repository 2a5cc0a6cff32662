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
# # Meta-analysis report
#
# Made by `analysis.report` (`python -m analysis report meta ...`) from the alliance workbook's
# tested estimators: effect sizes as metafor's `escalc`, the random-effects model as `rma`
# (REML by default; Knapp–Hartung with `test="knha"`), Egger's regression test as `regtest`,
# trim-and-fill as `trimfill` and case-deletion diagnostics as `influence`. Every number below is
# also written, at full precision, to `tables/*.csv` and `results.json` in this folder.

# %% tags=["parameters"]
csv_path = ""  # the validated input file
report_dir = "."  # this report's folder
measure = None  # metafor's effect-size measure for raw columns; None: the file has yi, vi
method = "REML"
test = "z"
level = 0.95
mods = None  # a formula on the file's columns, e.g. "~ meanage"
na_action = "fail"
title = "Meta-analysis report"

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from analysis import report
from analysis.effect_sizes import compute_effect_sizes
from analysis.meta import meta_analysis
from analysis.meta_bias import egger_test, influence, trim_and_fill
from analysis.plots import forest_plot, funnel_plot, save_figure, set_style

set_style()
pd.set_option("display.precision", 4)
out = Path(report_dir)
figures = out / "figures"
display(Markdown(f"## {title}\n\nInput: `{Path(csv_path).name}`; measure: "
                 f"{measure or 'given yi and vi'}; tau² estimator: {method}; "
                 f"test: {'Knapp–Hartung (t)' if test == 'knha' else 'z'}; "
                 f"level: {level:.0%}; moderators: {mods or 'none'}."))

# %% [markdown]
# ## Data and effect sizes
#
# The file was checked before this report ran (columns, numbers, missing values); rows are
# labelled by the `study` column, else by the file's line numbers.

# %%
data = report.load_input("meta", csv_path, measure=measure, mods=mods, na_action=na_action)
labels = report.study_labels(data)
if measure is None:
    dat = data.copy()
else:
    needed = next(a for a in report.MEASURE_COLUMNS[measure] if all(c in data.columns for c in a))
    dat = compute_effect_sizes(measure, data=data, append=True, **{c: c for c in needed})
dat.insert(0, "label", labels)
report.write_table(dat, "data_with_effect_sizes", out)
dat

# %% [markdown]
# ## Random-effects model

# %%
res = meta_analysis("yi", "vi", data=dat, method=method, test=test, level=level, measure=measure)
print(res.summary())

# %%
tau2_ci = res.tau2_ci or (np.nan, np.nan)
overall = pd.DataFrame([{
    "term": "overall", "estimate": res.estimate, "se": res.se, "statistic": res.statistic,
    "pvalue": res.pvalue, "ci_low": res.ci_low, "ci_high": res.ci_high,
    "pi_low": res.pi_low, "pi_high": res.pi_high, "df": res.df,
    "tau2": res.tau2, "tau2_ci_low": tau2_ci[0], "tau2_ci_high": tau2_ci[1], "tau": res.tau,
    "i2": res.i2, "h2": res.h2, "q": res.q, "q_df": res.q_df, "q_pvalue": res.q_pvalue,
    "k": res.k, "method": method, "test": test,
}])
back = {"ZCOR": np.tanh}.get(measure)
if back is not None:  # Fisher's z pooled, reported also as a correlation
    overall["estimate_r"] = back(res.estimate)
    overall["ci_low_r"], overall["ci_high_r"] = back(res.ci_low), back(res.ci_high)
    overall["pi_low_r"], overall["pi_high_r"] = back(res.pi_low), back(res.pi_high)
report.write_table(overall, "model", out, index=False)
overall.T

# %% [markdown]
# ## Forest plot
#
# Studies with their confidence intervals, weights, the pooled estimate (diamond) and the
# prediction interval (the bar through it: where the true effect of a new, comparable study
# is expected).

# %%
transform = "z2r" if measure == "ZCOR" else None
fig = forest_plot(res, labels=labels, transform=transform,
                  xlabel="Correlation (pooled as Fisher's z)" if measure == "ZCOR" else None)
save_figure(fig, "forest", directory=figures)
plt.show()

# %% [markdown]
# ## Small-study effects: funnel plot, Egger's test, trim-and-fill

# %%
egger = egger_test(res)
tf = trim_and_fill(res)
print(egger.summary())
print(tf.summary())

# %%
fig = funnel_plot(res, trimfill=tf, xlabel="Fisher's z" if measure == "ZCOR" else "Effect size")
save_figure(fig, "funnel", directory=figures)
plt.show()

# %%
bias = pd.DataFrame([
    {"test": "Egger regression (slope on SE)", "statistic": egger.statistic, "df": egger.df,
     "pvalue": egger.pvalue, "estimate": egger.limit_estimate, "ci_low": egger.limit_ci_low,
     "ci_high": egger.limit_ci_high},
    {"test": f"trim-and-fill ({tf.estimator}, {tf.k0} filled on the {tf.side})", "statistic": np.nan,
     "df": None, "pvalue": tf.fit.pvalue, "estimate": tf.estimate, "ci_low": tf.fit.ci_low,
     "ci_high": tf.fit.ci_high},
])
report.write_table(bias, "small_study_effects", out, index=False)
bias

# %% [markdown]
# ## Influence diagnostics
#
# Leave-one-out diagnostics (Viechtbauer & Cheung, 2010); `influential` uses metafor's rules.

# %%
infl = influence(res, labels=labels).table
infl.index.name = "label"
report.write_table(infl, "influence", out)
flagged = [str(s) for s in infl.index[infl["influential"]]]
print("Influential studies:", ", ".join(flagged) if flagged else "none")
infl

# %% [markdown]
# ## Moderators

# %%
mod = None
if mods:
    mod = meta_analysis("yi", "vi", data=dat, method=method, test=test, level=level, mods=mods,
                        measure=measure)
    print(mod.summary())
    coefs = mod.to_frame()
    report.write_table(coefs, "moderators", out, index=False)
    display(coefs)
else:
    print("No moderators were given (--mods).")

# %% [markdown]
# ## Results in APA style

# %%
paragraph = res.apa(transform="z2r", label="correlation") if measure == "ZCOR" else res.apa()
if measure == "ZCOR":  # trim-and-fill pools Fisher's z; report its estimate as r too
    tf_text = (f"Trim-and-fill ({tf.estimator}) imputed {tf.k0} stud{'y' if tf.k0 == 1 else 'ies'} on the "
               f"{tf.side} side; the adjusted correlation was {np.tanh(tf.estimate):.2f}, "
               f"{level:.0%} CI [{np.tanh(tf.fit.ci_low):.2f}, {np.tanh(tf.fit.ci_high):.2f}].")
else:
    tf_text = tf.apa()
paragraph += " " + egger.apa() + " " + tf_text
if flagged:
    paragraph += f" Influence diagnostics flagged {', '.join(flagged)}."
if mod is not None:
    stat = (f"F({mod.qm_df}, {mod.qm_df_den}) = {mod.qm:.2f}" if mod.qm_df_den is not None
            else f"Q_M({mod.qm_df}) = {mod.qm:.2f}")
    p = mod.qm_pvalue
    paragraph += (f" The moderators ({mods.lstrip('~ ').strip()}) {'did' if p < 0.05 else 'did not'} "
                  f"explain heterogeneity, {stat}, p {'< .001' if p < 0.001 else '= ' + f'{p:.3f}'.lstrip('0')}"
                  f" (R² = {mod.r2:.1f}%).")
(out / "apa.txt").write_text(paragraph + "\n", encoding="utf-8")
display(Markdown(paragraph))

# %%
results = {
    "kind": "meta", "input": Path(csv_path).name, "measure": measure, "method": method, "test": test,
    "level": level, "k": res.k,
    "model": {key: overall.at[0, key] for key in overall.columns if key not in ("method", "test")},
    "egger": {"statistic": egger.statistic, "pvalue": egger.pvalue, "df": egger.df,
              "limit_estimate": egger.limit_estimate},
    "trimfill": {"k0": tf.k0, "side": tf.side, "estimate": tf.estimate, "se": tf.fit.se,
                 "ci_low": tf.fit.ci_low, "ci_high": tf.fit.ci_high, "tau2": tf.fit.tau2},
    "influence": {"rstudent": infl["rstudent"].tolist(), "cook_d": infl["cook_d"].tolist(),
                  "hat": infl["hat"].tolist(), "influential": flagged},
    "apa": paragraph,
}
if mod is not None:
    results["moderators"] = {
        "terms": list(mod.coef_names), "estimate": list(mod.beta.ravel()),
        "se": coefs["se"].tolist(), "pvalue": coefs["pvalue"].tolist(), "tau2": mod.tau2,
        "qm": mod.qm, "qm_pvalue": mod.qm_pvalue, "r2": mod.r2, "i2": mod.i2,
    }
report.write_results(results, out)
print(f"Wrote {out.name}/results.json")
