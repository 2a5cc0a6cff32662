"""Answer key of notebook 00 (the tour): computed from the shipped published table.

The seven relationship elements published as a correlation with a 95% CI (status ``checked``) are
pooled on Fisher's z scale with SE = (artanh(upper) - artanh(lower)) / (2 x 1.96), as the tour does.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from analysis import effect_sizes, published
from analysis.exercises import Exercise
from analysis.meta import MetaResult, meta_analysis

Z975 = 1.959963984540054


@lru_cache(maxsize=None)
def _table() -> pd.DataFrame:
    return published.load("relationship_elements")


@lru_cache(maxsize=None)
def _elements() -> pd.DataFrame:
    rel = published.checked(_table())
    out = rel[(rel["side"] == "relationship") & (rel["measure"] == "r")
              & rel["ci_low"].notna() & rel["ci_high"].notna()].reset_index(drop=True)
    lo = effect_sizes.fisher_z(out["ci_low"].to_numpy(float))
    hi = effect_sizes.fisher_z(out["ci_high"].to_numpy(float))
    return out.assign(yi=effect_sizes.fisher_z(out["estimate"].to_numpy(float)),
                      vi=((hi - lo) / (2 * Z975)) ** 2)


@lru_cache(maxsize=None)
def _fit(method: str) -> MetaResult:
    return meta_analysis("yi", "vi", data=_elements(), method=method)


def _row(element_start: str) -> pd.Series:
    t = _table()
    return t[t["element"].str.startswith(element_start)].iloc[0]


def _pooled_r(method: str = "REML") -> float:
    return float(_fit(method).predict(transform="z2r").pred[0])


def _empathy() -> tuple[float, float]:
    r = float(_row("Empathy")["estimate"])
    return float(effect_sizes.r_to_d(r)), 100 * r**2


def _alliance_weight() -> float:
    names = list(_elements()["element"])
    return float(np.asarray(_fit("REML").weights)[names.index(next(n for n in names if n.startswith("Alliance (ind")))])


def _variance_ratio() -> float:
    g = float(_row("CBT vs other")["estimate"])
    r_cbt = float(effect_sizes.d_to_r(g))
    return _pooled_r() ** 2 / r_cbt**2


EXERCISES = [
    Exercise("00.1", "Which interval says where the alliance-outcome correlation of a new setting lies?",
             lambda: "PI", choices=("PI", "prediction interval", "prediction"),
             hint="One interval describes the average true correlation, the other adds the spread tau^2."),
    Exercise("00.2", "Empathy's r as Cohen's d and as % of outcome variance", _empathy, tol=0.01,
             hint="d = 2r / sqrt(1 - r^2) (effect_sizes.r_to_d); % of variance = 100 r^2, with r from the table."),
    Exercise("00.3", "Weight (%) of the adult-alliance row in the random-effects model", _alliance_weight, tol=0.5,
             hint="Read the weights in fit.weights (in %); with tau^2 > 0 every row's weight is 1/(v_i + tau^2)."),
    Exercise("00.4", "Pooled r of the fixed-effect model", lambda: _pooled_r("FE"), tol=0.001,
             hint="meta_analysis('yi', 'vi', data=elements, method='FE'), then predict(transform='z2r')."),
    Exercise("00.5", "How many times larger the % of variance of the pooled relationship r is than the CBT contrast's",
             _variance_ratio, tol=0.02, relative=True,
             hint="Convert g to r with effect_sizes.d_to_r, square both correlations, divide."),
]
