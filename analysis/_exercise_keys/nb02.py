"""Answer key of notebook 02 (relationship vs technique on the Metapsy database).

Every expected value is computed from the shipped Metapsy database with the workbook, as the notebook
does (the CHE working model with rho = 0.6 unless the exercise changes it).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from analysis import datasets, effect_sizes
from analysis.exercises import Exercise
from analysis.meta import meta_analysis
from analysis.meta_dependent import aggregate
from analysis.robust import che

TYPES = ["cbt", "bat", "3rd", "pst", "ipt", "dyn", "lrt", "sup", "other psy"]
RHO = 0.6


@lru_cache(maxsize=None)
def _effects() -> pd.DataFrame:
    raw = datasets.load("metapsy-depression-psyctr")
    ok = np.isfinite(raw[".g"].astype(float)) & np.isfinite(raw[".g_se"].astype(float))
    out = raw[ok].copy()
    out["g"] = out[".g"].astype(float)
    out["v"] = out[".g_se"].astype(float) ** 2
    out["type"] = pd.Categorical(out["condition_arm1"], categories=TYPES)
    return out.reset_index(drop=True)


@lru_cache(maxsize=None)
def _che(rho: float, mods: str | None = None):
    return che("g", "v", "study", data=_effects(), rho=rho, mods=mods)


def _sigma2_at(rho: float) -> tuple[float, float]:
    s2 = _che(rho).model.sigma2
    return float(s2[0]), float(s2[1])


def _smallest_df_type() -> str:
    table = _che(RHO, "~ 0 + C(type)").to_frame()
    return TYPES[int(np.argmin(table["df"].to_numpy(float)))]


def _overall_pct() -> float:
    g = float(_che(RHO).robust.estimate[0])
    return 100 * float(effect_sizes.d_to_r(g)) ** 2


def _composite_tau2() -> float:
    per_study = aggregate("g", "v", "study", data=_effects(), rho=RHO)
    return float(meta_analysis(per_study["yi"].to_numpy(), per_study["vi"].to_numpy()).tau2)


EXERCISES = [
    Exercise("02.1", "True or false: CR2 robust inference stays trustworthy with only 5 trials.", lambda: False,
             hint="Robust standard errors need many clusters; look at what small Satterthwaite df mean."),
    Exercise("02.2", "sigma^2 between trials and within trials of the CHE model with rho = 0.9",
             lambda: _sigma2_at(0.9), tol=0.002,
             hint="che('g', 'v', 'study', data=es, rho=0.9).model.sigma2 (trial first, effect second)."),
    Exercise("02.3", "The therapy type whose mean has the smallest robust df", _smallest_df_type,
             hint="by_type.to_frame() has a df column; the rows are in the order of TYPES."),
    Exercise("02.4", "The overall CHE mean g as % of outcome variance", _overall_pct, tol=0.1,
             hint="overall.robust.estimate[0] is g; effect_sizes.d_to_r, then 100 r^2."),
    Exercise("02.5", "tau^2 of a random-effects model on per-trial composites (rho = 0.6)", _composite_tau2,
             tol=0.002, hint="aggregate('g', 'v', 'study', data=es, rho=0.6), then meta_analysis on yi and vi."),
]
