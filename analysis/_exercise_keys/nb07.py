"""Answer key of notebook 07 (power and design): each expected value is computed with the workbook
(analysis.power's formulas, or simulate_power with the seed the question gives), never typed in."""

from __future__ import annotations

import math
from functools import lru_cache

from analysis.exercises import Exercise

#: The design of exercises 07.5 and 07.6 (therapists nested in arms, d = 0.4, ICC .20).
DESIGN = {"arms": "nested", "treatment_d": 0.4, "therapist_icc": 0.2}
REPLICATES, SEED = 400, 7


def _de() -> float:
    from analysis.power import design_effect

    return design_effect(8, 0.10)


def _effective_n() -> float:
    from analysis.power import design_effect

    return 60 * 5 / design_effect(5, 0.20)


def _naive_alpha() -> float:
    from analysis.power import design_effect, naive_rejection_rate

    return naive_rejection_rate(0.0, 30 * 10, design_effect(10, 0.10), 0.05)


def _replicates_needed() -> float:
    # smallest R with sqrt(p (1 - p) / R) <= 0.01 at p = 0.8
    return float(math.ceil(0.8 * 0.2 / 0.01**2 - 1e-9))


@lru_cache(maxsize=None)
def _power(n_therapists: int, caseload: int) -> float:
    from analysis.power import simulate_power

    res = simulate_power({**DESIGN, "n_therapists": n_therapists, "caseload": caseload}, "treatment_multilevel",
                         REPLICATES, seed=SEED, progress=False)
    return float(res.table["rate"].iloc[0])


def _more_therapists_or_caseload() -> str:
    return "therapists" if _power(40, 5) > _power(20, 10) else "caseload"


EXERCISES = [
    Exercise("07.1", "design effect for a caseload of 8 and a therapist ICC of .10", _de, tol=1e-6,
             hint="Section 2: DE = 1 + (m - 1) ICC; analysis.power.design_effect(m, icc) computes it."),
    Exercise("07.2", "effective number of independent patients: 60 therapists x 5 patients, ICC .20",
             _effective_n, tol=0.05,
             hint="N / DE with N = 60 x 5 and DE = 1 + (5 - 1) x 0.20 (the end of section 6 reads it off)."),
    Exercise("07.3", "large-sample type I error of the naive OLS test, 30 therapists x 10 patients, ICC .10",
             _naive_alpha, tol=5e-4,
             hint="Section 3: 2 Phi(-z_.975 / sqrt(DE)); analysis.power.naive_rejection_rate(0.0, N, DE)."),
    Exercise("07.4", "replicates needed for a Monte Carlo SE of at most 0.01 at a power of .80",
             _replicates_needed, tol=0.5,
             hint="Section 1: MC SE = sqrt(p (1 - p) / R); solve for R and round up."),
    Exercise("07.5", "simulated power: 20 therapists x 5 patients nested in arms, d = 0.4, ICC .20, "
             "400 replicates, seed 7", lambda: _power(20, 5), tol=1e-9,
             hint="simulate_power({'arms': 'nested', 'treatment_d': 0.4, 'therapist_icc': 0.2, 'n_therapists': "
                  "20, 'caseload': 5}, 'treatment_multilevel', 400, seed=7); read table['rate']."),
    Exercise("07.6", "100 more patients: 'therapists' (40 x 5) or 'caseload' (20 x 10) gives more power?",
             _more_therapists_or_caseload,
             hint="Simulate both designs as in 07.5 (same seed and replicates) and compare the rates; "
                  "think of DE = 1 + (m - 1) ICC and of the J - 2 degrees of freedom."),
]
