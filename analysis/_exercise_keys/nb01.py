"""Answer key of notebook 01 (relationship elements; the meta-analysis workflow on dat.molloy2014).

Every expected value is computed from the shipped data with the workbook, as the notebook does.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from analysis import datasets, effect_sizes, published
from analysis.exercises import Exercise
from analysis.meta import MetaResult, meta_analysis
from analysis.meta_bias import leave_one_out
from analysis.meta_compare import lrt


@lru_cache(maxsize=None)
def _molloy() -> pd.DataFrame:
    mol = datasets.load("dat.molloy2014")
    es = effect_sizes.compute_effect_sizes("ZCOR", ri="ri", ni="ni", data=mol)
    return pd.concat([mol, es.to_frame()], axis=1)


@lru_cache(maxsize=None)
def _fit(method: str, mods: str | None = None) -> MetaResult:
    return meta_analysis("yi", "vi", data=_molloy(), method=method, mods=mods)


def _real_relationship() -> tuple[float, float]:
    t = published.load("relationship_elements")
    row = t[t["element"] == "Real relationship"].iloc[0]
    return float(effect_sizes.r_to_d(float(row["estimate"]))), float(effect_sizes.d_to_r(float(row["d_published"])))


def _most_influential_r() -> float:
    loo = leave_one_out(_fit("REML")).table
    i = int(np.argmax(np.abs(loo["estimate"].to_numpy(float) - _fit("REML").estimate)))
    return float(np.tanh(loo["estimate"].iloc[i]))


EXERCISES = [
    Exercise("01.1", "True or false: I^2 alone tells you how widely the true correlations spread.",
             lambda: False,
             hint="I^2 is a share of the observed variance; it grows with the studies' precision. "
                  "Which number is on the scale of the effects?"),
    Exercise("01.2", "Real relationship: d from the printed r, and the r that gives the printed d", _real_relationship,
             tol=0.005, hint="effect_sizes.r_to_d on the printed r, effect_sizes.d_to_r on the printed d."),
    Exercise("01.3", "tau^2 of dat.molloy2014 (z scale) by DerSimonian-Laird", lambda: _fit("DL").tau2,
             tol=5e-5, hint="meta_analysis('yi', 'vi', data=mol, method='DL').tau2"),
    Exercise("01.4", "Pooled r without the study whose omission moves it most", _most_influential_r, tol=0.002,
             hint="leave_one_out(fit).table has the estimate without each study (z scale): find the one "
                  "farthest from fit.estimate and back-transform with np.tanh."),
    Exercise("01.5", "LRT statistic for the moderator `controls` (ML fits)",
             lambda: lrt(_fit("ML", "~ controls"), _fit("ML")).statistic, tol=0.01,
             hint="lrt(ML fit with mods='~ controls', ML fit without moderators).statistic"),
]
