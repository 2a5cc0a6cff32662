"""Write the SIMULATED example trials of data/simulated/ and their datapackage.json.

Every file is made by ``analysis.simulate.simulate_trial`` with a fixed seed; the
generating parameters, the seed and the implied population values go into
``datapackage.json`` beside a sha256 of each file. Rerunning gives identical bytes
(tests/test_simulate.py checks it).

    python data/simulated/make_simulated.py            # rewrite data/simulated/
    python data/simulated/make_simulated.py --out DIR  # write elsewhere
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.simulate import simulate_trial

HERE = Path(__file__).resolve().parent

SESSION_FIELDS = {
    "patient": ("integer", "Patient id (0-based, unique within the file)."),
    "therapist": ("integer", "Therapist id (0-based)."),
    "arm": ("integer", "Randomised arm: 0 or 1 (arm 1 is better by treatment_d at post)."),
    "session": ("integer", "0 = intake (symptoms only), 1..n_sessions = end of that session."),
    "attended": ("boolean", "False after the patient dropped out (scores then missing)."),
    "symptom": ("number", "PHQ-9 total, 0-27 (whole numbers), with measurement error; empty after dropout."),
    "alliance": ("number", "WAI-SR item mean, 1-5 in steps of 1/12; empty at intake and after dropout."),
    "rupture": ("boolean", "A rupture occurred in this session (true event, not observed in practice)."),
    "repaired": ("boolean", "The rupture of this session was repaired (true event)."),
}
PATIENT_FIELDS = {
    "patient": ("integer", "Patient id."),
    "therapist": ("integer", "Therapist id."),
    "arm": ("integer", "Randomised arm (0/1)."),
    "pre": ("number", "PHQ-9 at intake (0-27)."),
    "post": ("number", "PHQ-9 at the last planned session; empty for dropouts."),
    "change": ("number", "pre - post (positive = improvement); empty for dropouts."),
    "alliance_mean": ("number", "Mean of the patient's observed WAI-SR ratings."),
    "alliance_early": ("number", "Mean of the observed WAI-SR ratings of sessions 1-3."),
    "sessions_attended": ("integer", "Last session attended."),
    "completed": ("boolean", "Attended every planned session."),
}
THERAPIST_FIELDS = {
    "therapist": ("integer", "Therapist id."),
    "caseload": ("integer", "Number of patients."),
    "alliance_component": ("number", "True therapist component a_j of the alliance (WAI-SR points)."),
    "outcome_effect": ("number", "True therapist effect on improvement, theta_j + beta_B a_j (PHQ-9 points; "
                                 "the effect on post is its negative)."),
    "outcome_effect_not_alliance": ("number", "theta_j: the part not carried by the alliance."),
}


def baldwin_caseloads() -> list[int]:
    """80 caseloads summing to 331 (mean 4.1), unequal as in practice (seed 2007)."""
    rng = np.random.default_rng(2007)
    n = 1 + rng.negative_binomial(2.0, 2.0 / (2.0 + 3.1375), 80)
    while n.sum() != 331:
        i = rng.integers(80)
        if n.sum() > 331 and n[i] > 1:
            n[i] -= 1
        elif n.sum() < 331:
            n[i] += 1
    return [int(v) for v in n]


TRIALS = {
    "baldwin2007_design": dict(
        description=("SIMULATED data with the design of Baldwin, Wampold & Imel (2007): 331 patients, "
                     "80 therapists (mean caseload 4.1, unequal caseloads), defaults otherwise "
                     "(alliance-outcome r .28, therapist ICC .05, no dropout)."),
        kwargs=dict(n_therapists=80, caseload=baldwin_caseloads(), seed=20071),
    ),
    "two_arm_mar_dropout": dict(
        description=("SIMULATED two-arm trial: 60 therapists with negative-binomial caseloads "
                     "(mean 6), CBT-vs-control sized effect d = 0.79 (Cuijpers et al. 2023), 20% "
                     "MAR dropout, default alliance and therapist calibration."),
        kwargs=dict(n_therapists=60, caseload=6, caseload_dist="negbin", treatment_d=0.79,
                    dropout="MAR", dropout_rate=0.2, seed=20232),
    ),
}


def _schema(fields: dict) -> dict:
    return {"fields": [{"name": k, "type": t, "description": d} for k, (t, d) in fields.items()]}


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False, lineterminator="\n", float_format="%.10g")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _jsonable(v):
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, (np.bool_,)):
        return bool(v)
    return v


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    resources = []
    for name, spec in TRIALS.items():
        trial = simulate_trial(**spec["kwargs"])
        truth = {k: _jsonable(v) for k, v in trial.truth.items() if not isinstance(v, pd.DataFrame)}
        params = {k: _jsonable(v) for k, v in trial.params.items()}
        tables = [("sessions", trial.sessions, SESSION_FIELDS, "one row per patient and session (long)"),
                  ("patients", trial.patients, PATIENT_FIELDS, "one row per patient (wide)"),
                  ("therapists_truth", trial.truth["therapists"], THERAPIST_FIELDS,
                   "true therapist components (for checking estimators)")]
        for kind, df, fields, what in tables:
            assert list(df.columns) == list(fields), (kind, list(df.columns))
            path = out / f"{name}_{kind}.csv"
            _write_csv(df, path)
            resources.append({
                "name": f"{name}_{kind}".replace("_", "-"),
                "path": path.name,
                "title": f"SIMULATED: {name} ({what})",
                "description": spec["description"],
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "bytes": path.stat().st_size,
                "hash": f"sha256:{_sha256(path)}",
                "simulated": True,
                "generator": {"script": "data/simulated/make_simulated.py",
                              "function": "analysis.simulate.simulate_trial",
                              "seed": params["seed"], "parameters": params,
                              "implied_population_values": truth},
                "schema": _schema(fields),
            })
    package = {
        "name": "alliance-workbook-simulated",
        "title": "SIMULATED example trials (not real data)",
        "description": ("Example trials drawn by analysis.simulate.simulate_trial with fixed seeds. "
                        "SIMULATED: every value is generated; the generating parameters, seed and "
                        "implied population values are recorded per resource. See the module "
                        "docstring of analysis.simulate for the model and its calibration sources."),
        "licenses": [{"name": "CC0-1.0", "title": "CC0 1.0 (generated data)"}],
        "sources": [{"title": "Generated by data/simulated/make_simulated.py"}],
        "resources": resources,
    }
    (out / "datapackage.json").write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n",
                                          encoding="utf-8")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE)
    main(ap.parse_args().out)
