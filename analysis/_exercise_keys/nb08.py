"""Answer key of notebook 08 (published analyses re-run on their data).

Every expected value is computed from the shipped data (dat.bcg, data/trials/btheb.csv) with the
workbook, as the notebook does.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import datasets, effect_sizes
from analysis.exercises import Exercise
from analysis.growth import growth_model
from analysis.meta import meta_analysis

TRIALS = Path(datasets.PACKAGE_PATH).parent / "trials"


def _half_unit(printed: str) -> float:
    """Half a unit of the last printed digit (the notebook's rule; counts: 0)."""
    mantissa, _, exponent = printed.lower().partition("e")
    decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
    if decimals == 0 and not exponent:
        return 0.0
    return 0.5 * 10.0 ** (-decimals + (int(exponent) if exponent else 0))


@lru_cache(maxsize=None)
def _bcg_log_or() -> tuple[np.ndarray, np.ndarray]:
    bcg = datasets.load("dat.bcg")
    es = effect_sizes.compute_effect_sizes("OR", ai="tpos", bi="tneg", ci="cpos", di="cneg", data=bcg)
    return es.yi, es.vi


def _latitude_r2() -> float:
    bcg = datasets.load("dat.bcg")
    es = effect_sizes.compute_effect_sizes("RR", ai="tpos", bi="tneg", ci="cpos", di="cneg", data=bcg)
    data = pd.concat([bcg, es.to_frame()], axis=1)
    return float(meta_analysis("yi", "vi", data=data, method="REML", mods="~ ablat").r2)


def _btheb_patient_variance_reml() -> float:
    wide = datasets.load("btheb", package=TRIALS)
    visits = {"bdi.2m": 2, "bdi.3m": 3, "bdi.5m": 5, "bdi.8m": 8}
    long = wide.melt(id_vars=["patient", "drug", "length", "treatment", "bdi.pre"], value_vars=list(visits),
                     var_name="visit", value_name="bdi")
    long = long.assign(time=long["visit"].map(visits)).dropna(subset=["bdi"])
    data = pd.DataFrame({
        "patient": long["patient"].astype(str), "time": long["time"].astype(float),
        "bdi": long["bdi"].astype(float), "bdi_pre": long["bdi.pre"].astype(float),
        "btheb": (long["treatment"] == "BtheB").astype(float), "drug": (long["drug"] == "Yes").astype(float),
        "length6": (long["length"] == ">6m").astype(float)}).reset_index(drop=True)
    fit = growth_model(data, "bdi", "time", "patient", covariates=["bdi_pre", "btheb", "drug", "length6"],
                       random_slope=False, method="REML")
    vc = fit.variance_components.set_index("grp")
    return float(vc.loc["patient", "variance"])


EXERCISES = [
    Exercise("08.1", "The tolerance of a number printed as 0.0557", lambda: _half_unit("0.0557"), tol=1e-9,
             hint="Half a unit of the last printed digit: the last digit of 0.0557 is in the fourth decimal."),
    Exercise("08.2", "Which pooled odds ratio of chapter 17 assumes one common true effect?",
             lambda: "Mantel-Haenszel", choices=("Mantel-Haenszel", "Mantel Haenszel", "MH"),
             hint="One of the two has a between-trial variance (tau^2) in its model."),
    Exercise("08.3", "tau^2 of the BCG log odds ratios by REML", lambda: float(meta_analysis(*_bcg_log_or(), method="REML").tau2),
             tol=5e-4, hint="meta_analysis(log_or, v, method='REML').tau2 with the log odds ratios of section 3."),
    Exercise("08.4", "% of tau^2 explained by latitude (log risk ratios, ordinary variances, REML)", _latitude_r2,
             tol=0.1, hint="compute_effect_sizes('RR', ai='tpos', bi='tneg', ci='cpos', di='cneg', data=bcg), then "
                           "meta_analysis(..., method='REML', mods='~ ablat').r2"),
    Exercise("08.5", "Patient variance of BtheB_lmer1 refitted by REML", _btheb_patient_variance_reml, tol=0.01,
             hint="growth_model(..., random_slope=False, method='REML'), then variance_components."),
]
