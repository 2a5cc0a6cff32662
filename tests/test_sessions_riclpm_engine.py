"""riclpm as a specification on the SEM engine: wide data, the user's own syntax (``model=``).

Reference values are this module's own long-data fits, which tests/test_sessions.py checks against
lavaan (tests/oracles/sessions_lavaan.R); here: equal to 1e-8 (same engine, same data).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import sessions

FIX = json.loads((Path(__file__).parent / "fixtures" / "sessions.json").read_text())
CSV = Path(__file__).parent / "fixtures" / FIX["riclpm_ml"]["csv"]


def _long(wide):
    long = pd.wide_to_long(wide, ["x", "y"], i="id", j="wave").reset_index()
    return long.sort_values(["id", "wave"]).reset_index(drop=True)


@pytest.mark.parametrize("missing", ["listwise", "ml"])
def test_wide_equals_long(missing):
    wide = pd.read_csv(CSV)
    a = sessions.riclpm(_long(wide), x="x", y="y", patient="id", wave="wave", missing=missing)
    b = sessions.riclpm(wide, x="x", y="y", patient="id", missing=missing)
    np.testing.assert_allclose(b.params["estimate"], a.params["estimate"], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(b.params["se"], a.params["se"], rtol=1e-8, atol=1e-10)
    assert b.n == a.n and b.n_dropped == a.n_dropped and b.fit == a.fit
    # the patient may also be the index
    c = sessions.riclpm(wide.set_index("id"), x="x", y="y", missing=missing)
    np.testing.assert_allclose(c.params["estimate"], a.params["estimate"], rtol=1e-8, atol=1e-10)


def test_user_model_equals_builtin_and_can_be_edited():
    long = _long(pd.read_csv(CSV))
    ref = sessions.riclpm(long, x="x", y="y", patient="id", wave="wave", missing="ml", constrain=True)
    mine = sessions.riclpm(long, x="x", y="y", patient="id", wave="wave", missing="ml",
                           model=sessions.riclpm_syntax(5, constrain=True))
    assert mine.syntax == sessions.riclpm_syntax(5, constrain=True)
    np.testing.assert_allclose(mine.params["estimate"], ref.params["estimate"], atol=1e-6)
    assert mine.loglik == pytest.approx(ref.loglik, abs=1e-6)
    # an edit: the random intercepts uncorrelated -> one parameter fewer, one more df
    edited = sessions.riclpm_syntax(5).replace("RIx ~~ RIy", "RIx ~~ 0*RIy")
    free = sessions.riclpm(long, x="x", y="y", patient="id", wave="wave", missing="ml")
    res = sessions.riclpm(long, x="x", y="y", patient="id", wave="wave", missing="ml", model=edited)
    assert res.fit["df"] == free.fit["df"] + 1
    assert not ((res.params["lhs"] == "RIx") & (res.params["rhs"] == "RIy")).any()
    assert res.loglik <= free.loglik + 1e-8


def test_riclpm_mlr_fiml_matches_lavaan():
    """riclpm(missing="ml", estimator="MLR") against lavaan 0.6-14 (tests/oracles/sem_mlr.R, block riclpm_fiml):
    estimates and robust SEs 1e-4 absolute, scaled chi-square 1e-3 relative, scaling factor and scaled
    indices 1e-3 absolute."""
    ref = json.loads((Path(__file__).parent / "fixtures" / "sem_mlr.json").read_text())["riclpm_fiml"]
    res = sessions.riclpm(_long(pd.read_csv(CSV)), x="x", y="y", patient="id", wave="wave", missing="ml",
                          estimator="MLR")
    lav = {(p["lhs"], p["op"], p["rhs"]): p for p in ref["params"]}
    for _, row in res.params.iterrows():
        key = (row["lhs"], row["op"], row["rhs"])
        r = lav.get(key) or lav[(key[2], key[1], key[0])]
        assert row["estimate"] == pytest.approx(r["est"], abs=1e-4), key
        assert row["se"] == pytest.approx(r["se"], abs=1e-4), key
    assert len(res.params) == len(lav) == 44
    f, rf = res.fit, ref["fit"]
    assert f["chisq_scaled"] == pytest.approx(rf["chisq.scaled"], rel=1e-3)
    for ours, theirs in (("scaling_factor", "chisq.scaling.factor"), ("pvalue_scaled", "pvalue.scaled"),
                         ("cfi_scaled", "cfi.scaled"), ("tli_scaled", "tli.scaled"), ("rmsea_scaled", "rmsea.scaled")):
        assert f[ours] == pytest.approx(rf[theirs], abs=1e-3), ours
    assert res.estimator == "MLR" and "Yuan-Bentler scaled chi2" in res.summary()
    # same estimates as ML, different SEs
    ml = sessions.riclpm(_long(pd.read_csv(CSV)), x="x", y="y", patient="id", wave="wave", missing="ml")
    np.testing.assert_allclose(res.params["estimate"], ml.params["estimate"], atol=1e-6)
    assert not np.allclose(res.params["se"], ml.params["se"], rtol=1e-3)
