"""Answer key of notebook 03 (therapist effects): each expected value is computed with the workbook
from the shipped SIMULATED Baldwin-design trial or from a seeded simulation, never typed in."""

from __future__ import annotations

from functools import lru_cache

from analysis.exercises import Exercise


@lru_cache(maxsize=1)
def _patients():
    from analysis import datasets

    return datasets.load("baldwin2007-design-patients", package=datasets.PACKAGE_PATH.parent / "simulated")


def _shrinkage(n: int = 4, tau2: float = 2.0, sigma2: float = 30.0) -> float:
    """The numbers of the question, put through the BLUP's shrinkage factor n tau^2 / (sigma^2 + n tau^2)."""
    return n * tau2 / (sigma2 + n * tau2)


def _ml_icc() -> float:
    from analysis.multilevel import therapist_effect

    return therapist_effect(_patients(), "post", "therapist", covariates=["pre", "arm"], method="ML").icc


def _lrt_arm() -> float:
    from analysis.multilevel import therapist_effect

    full = therapist_effect(_patients(), "post", "therapist", covariates=["pre", "arm"], method="ML")
    reduced = therapist_effect(_patients(), "post", "therapist", covariates=["pre"], method="ML")
    return 2 * (full.loglik - reduced.loglik)


def _mcar_completer_bias() -> float:
    from analysis.simulate import simulate_trial

    design = dict(n_therapists=100, caseload=8, n_sessions=12, seed=3017)
    trial = simulate_trial(**design, dropout="MCAR", dropout_rate=0.3, dropout_strength=1.5).patients
    truth = simulate_trial(**design).patients
    done = trial[trial["completed"] & (trial["arm"] == 0)]["post"].mean()
    return float(done - truth[truth["arm"] == 0]["post"].mean())


EXERCISES = [
    Exercise("03.1", "method for a likelihood-ratio test of fixed effects", lambda: "ML",
             choices=("ML", "maximum likelihood", "full maximum likelihood", "FIML"),
             hint="Section 7: which log-likelihood moved when `pre` was expressed in tens of points?"),
    Exercise("03.2", "BLUP shrinkage factor for n = 4, tau^2 = 2, sigma^2 = 30", _shrinkage, tol=0.005,
             hint="Section 4: c_j n_j = n tau^2 / (sigma^2 + n tau^2); a small factor means strong shrinkage."),
    Exercise("03.3", "ICC of the shipped trial's post score (pre, arm) fitted by ML", _ml_icc, tol=0.001,
             hint="therapist_effect(..., method='ML').icc; ML treats the fixed effects as known."),
    Exercise("03.4", "ML likelihood-ratio statistic for the arm (post ~ pre + arm vs post ~ pre)", _lrt_arm,
             tol=0.01, hint="2 x (logLik of the larger ML fit - logLik of the smaller ML fit); both method='ML'."),
    Exercise("03.5", "completers' minus true mean post score, arm 0, MCAR dropout", _mcar_completer_bias,
             tol=0.01, hint="Use simulate_trial(**design, dropout='MCAR', dropout_rate=0.3, dropout_strength=1.5) "
                            "and the same design without dropout; compare patients['post'] means in arm 0."),
]
