"""Shared loader of tests/fixtures/meta_dependent.json (written by tests/oracles/meta_dependent.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

FIX = json.loads((Path(__file__).parent / "fixtures" / "meta_dependent.json").read_text())


def dense(trip: dict, k: int) -> np.ndarray:
    """The symmetric k x k matrix from the lower-triangle triplets of the fixture."""
    V = np.zeros((k, k))
    i, j = np.asarray(trip["i"], int), np.asarray(trip["j"], int)
    V[i, j] = trip["value"]
    V[j, i] = trip["value"]
    return V


def frame(name: str) -> pd.DataFrame:
    return pd.DataFrame(FIX[name]["data"])


ASSINK = frame("assink2016")
LOPEZ = frame("lopez2019")
THREE = frame("three_level")
V_ASSINK = dense(FIX["assink2016"]["V_rho06"], len(ASSINK))
V_LOPEZ = dense(FIX["lopez2019"]["V_rho06"], len(LOPEZ))
V_THREE = dense(FIX["three_level"]["V"], len(THREE))

#: (dataset, fit key) -> arguments of rma_mv and the newmods used by predict in the oracle
FITS = {
    ("assink2016", "diag_REML_z"): dict(data=ASSINK, V="vi", random=["study", "esid"]),
    ("assink2016", "che_REML_z"): dict(data=ASSINK, V=V_ASSINK, random=["study", "esid"]),
    ("assink2016", "che_onelevel_REML_z"): dict(data=ASSINK, V=V_ASSINK, random=["study"]),
    ("assink2016", "che_year_overt_REML_z"): dict(data=ASSINK, V=V_ASSINK, random=["study", "esid"],
                                                  mods="~ year + overt", newmods=[[0, 0], [2.5, 1]]),
    ("lopez2019", "che_REML_z"): dict(data=LOPEZ, V=V_LOPEZ, random=["study", "es_id"]),
    ("lopez2019", "che_treatment_REML_t"): dict(data=LOPEZ, V=V_LOPEZ, random=["study", "es_id"],
                                                mods="~ treatment", test="t", newmods=[[0, 0], [1, 0], [0, 1]]),
    ("three_level", "REML"): dict(data=THREE, V=V_THREE, random=["study", "sample", "es"], mods="~ x",
                                  newmods=[[-1], [0], [1]]),
    ("three_level", "ML"): dict(data=THREE, V=V_THREE, random=["study", "sample", "es"], mods="~ x", method="ML",
                                newmods=[[-1], [0], [1]]),
}
for _m in ("REML", "ML"):
    for _t in ("z", "t"):
        FITS[("assink2016", f"che_mods_{_m}_{_t}")] = dict(
            data=ASSINK, V=V_ASSINK, random=["study", "esid"], mods="~ deltype + year", method=_m, test=_t,
            newmods=[[0, 0, 0], [1, 0, 2.5], [0, 1, -3]])
