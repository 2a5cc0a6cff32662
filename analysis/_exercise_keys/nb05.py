"""Answer key of notebook 05 (individual change): expected values computed with the workbook from the
shipped Beat the Blues data and from the notebook's seeded simulations, never typed in."""

from __future__ import annotations

import numpy as np

from analysis.exercises import Exercise

RTM_SEED, RUPTURE_SEED = 1986, 2004  # the seeds of notebook 05's parameters cell


def _rci_threshold(sd: float = 10.0, reliability: float = 0.91) -> float:
    from analysis import change

    return float(change.reliable_change_threshold(sd, reliability).threshold)


def _rtm_predicted(rho: float = 0.70) -> float:
    """Section 3's simulation with another reliability: (1 - rho)(mean x1 of the referred - mu)."""
    from analysis import change

    rng = np.random.default_rng(RTM_SEED)
    n_people, mu, sd_true = 20_000, 7.0, 4.0
    sd_error = sd_true * np.sqrt((1 - rho) / rho)
    true_score = rng.normal(mu, sd_true, n_people)
    x1 = true_score + rng.normal(0, sd_error, n_people)
    referred = x1 >= change.norms("PHQ-9")["cutoff"]
    return float((1 - rho) * (x1[referred].mean() - mu))


def _btheb_reliably_improved(reliability: float = 0.80) -> int:
    from analysis import change, datasets

    btheb = datasets.load("btheb", package=datasets.PACKAGE_PATH.parent / "trials")
    cs = change.clinical_significance(btheb["bdi.pre"].astype(float), btheb["bdi.2m"].astype(float),
                                      reliability=reliability, cutoff="a")
    return int(cs.counts()[["recovered", "improved"]].sum())


def _locf_unchanged_dropouts() -> int:
    from analysis import change
    from analysis.simulate import simulate_trial

    rt = simulate_trial(n_therapists=40, caseload=8, n_sessions=12, rupture_rate=0.10, rupture_depth=0.4,
                        repair_prob=0.6, dropout="MCAR", dropout_rate=0.15, seed=RUPTURE_SEED)
    mine = rt.sessions[["patient", "session", "symptom"]]
    last = int(mine["session"].max())
    obs = mine.dropna(subset=["symptom"])
    pp = obs.groupby("patient").agg(pre=("symptom", "first"), last_score=("symptom", "last"))
    dropout = mine[mine["session"] == last].set_index("patient")["symptom"].reindex(pp.index).isna().to_numpy()
    cs = change.clinical_significance(pp["pre"], pp["last_score"], reliability=0.85, cutoff="a")
    return int((cs.table["category"].astype(str).to_numpy()[dropout] == "unchanged").sum())


EXERCISES = [
    Exercise("05.1", "is a pre-post fall after selecting high scorers evidence of a treatment effect?",
             lambda: False, hint="Section 3: what happens to people selected for a high score when nobody changes?"),
    Exercise("05.2", "1.96 S_diff for SD 10 and reliability .91", _rci_threshold, tol=0.01,
             hint="S_diff = SD x sqrt(2) x sqrt(1 - r_xx); change.reliable_change_threshold does it."),
    Exercise("05.3", "predicted regression to the mean with reliability .70", _rtm_predicted, tol=0.02,
             hint="Rerun section 3 with rho = 0.70 (the error SD changes); "
                  "then (1 - rho)(mean x1 of the referred - mu)."),
    Exercise("05.4", "BtheB patients reliably improved at 2 months with r_xx = .80", _btheb_reliably_improved,
             tol=0.5, hint="clinical_significance(pre, post, reliability=0.80, cutoff='a').counts(): "
                           "recovered + improved."),
    Exercise("05.5", "dropouts classified 'unchanged' under LOCF in section 6", _locf_unchanged_dropouts, tol=0.5,
             hint="Classify pre vs last_score, then count 'unchanged' among the rows with dropout == True."),
]
