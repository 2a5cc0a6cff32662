"""Answer key of notebook 04 (session by session): expected values computed with the workbook from the
notebook's seeded simulations, never typed in."""

from __future__ import annotations

import numpy as np

from analysis.exercises import Exercise


def _lagged_with_reverse_causation() -> float:
    from analysis import sessions
    from analysis.simulate import simulate_trial

    sim = simulate_trial(n_therapists=30, caseload=8, n_sessions=12, reverse_causation=0.3, seed=4)
    s = sim.sessions[sim.sessions["session"] >= 1]
    return float(sessions.lagged_model(s).within)


def _linear_growth_slope() -> float:
    from analysis.growth import growth_model
    from analysis.simulate import simulate_trial

    sim = simulate_trial(n_therapists=30, caseload=8, n_sessions=12, seed=4)
    data = sim.sessions[["patient", "arm", "session", "symptom"]]
    fit = growth_model(data, "symptom", "session", "patient", covariates=["arm"], time_by=["arm"])
    return float(fit.coefficients.loc["session", "estimate"])


EXERCISES = [
    Exercise("04.1", "centring that keeps between-patient differences out of the within coefficient",
             lambda: "person-mean", choices=("person-mean", "person mean", "person-mean centring", "within-person",
                                             "group-mean", "cluster-mean"),
             hint="Section 1: which mean is subtracted so that only a patient's deviations from their own "
                  "level remain?"),
    Exercise("04.2", "is the 50:50 mixture p-value smaller or larger than the naive chi2(2) one?",
             lambda: "smaller", choices=("smaller", "lower"),
             hint="Section 5 (or notebook 03, section 7): half of the mixture is chi2(1), which has a lighter tail."),
    Exercise("04.3", "person-mean centred within coefficient with reverse causation 0.3 (truth 0)",
             _lagged_with_reverse_causation, tol=0.005,
             hint="sessions.lagged_model(s).within (centred, not detrended) on sessions >= 1 of the new "
                  "simulation."),
    Exercise("04.4", "mean change per session in arm 0, linear time", _linear_growth_slope, tol=0.005,
             hint="growth_model(data, 'symptom', 'session', 'patient', covariates=['arm'], time_by=['arm'])."),
]
