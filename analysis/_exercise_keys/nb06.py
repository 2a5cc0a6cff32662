"""Answer key of notebook 06 (alliance measurement): expected values computed with the workbook from
seeded simulated WAI-SR answers, never typed in."""

from __future__ import annotations

from functools import lru_cache

from analysis.exercises import Exercise


@lru_cache(maxsize=1)
def _items():
    from analysis.simulate import simulate_wai_sr_items

    return simulate_wai_sr_items(400, seed=2006).items.astype(float)


def _key():
    from analysis import psychometrics

    return psychometrics.wai_sr_key()


def _corrected(r: float = 0.25, rxx: float = 0.80, ryy: float = 0.70) -> float:
    from analysis.effect_sizes import correct_for_attenuation

    return float(correct_for_attenuation(r, rxx, ryy, ni=100).yi[0])


def _alpha_task_bond() -> float:
    from analysis import psychometrics

    sub = _key().subscales
    return float(psychometrics.cronbach_alpha(_items(), [*sub["task"], *sub["bond"]]).alpha)


def _omega_one_factor() -> float:
    from analysis import psychometrics

    return float(psychometrics.fit_cfa(_items(), {"alliance": list(_key().items)}).omega()["total"])


def _spearman_brown_items(target: float = 0.90) -> float:
    from analysis import psychometrics

    bond = list(_key().subscales["bond"])
    a = psychometrics.cronbach_alpha(_items(), bond).alpha
    return float(len(bond) * target * (1 - a) / (a * (1 - target)))


EXERCISES = [
    Exercise("06.1", "alpha = reliability of the sum only under tau-equivalence", lambda: True,
             hint="Section 3: what does omega use that alpha does not?"),
    Exercise("06.2", "r = .25 corrected for reliabilities .80 and .70", _corrected, tol=0.005,
             hint="r / sqrt(rxx * ryy) (Spearman 1904); effect_sizes.correct_for_attenuation."),
    Exercise("06.3", "alpha of the 8 task and bond items", _alpha_task_bond, tol=0.002,
             hint="psychometrics.cronbach_alpha(items, task + bond items), the subscales from "
                  "psychometrics.wai_sr_key()."),
    Exercise("06.4", "omega total of the one-factor CFA of all 12 items", _omega_one_factor, tol=0.002,
             hint="psychometrics.fit_cfa(items, {'alliance': all 12 items}).omega()['total']."),
    Exercise("06.5", "bond items needed for reliability .90 (Spearman-Brown)", _spearman_brown_items, tol=0.05,
             hint="k x .90 (1 - alpha) / (alpha (1 - .90)) with k = 4 and the bond subscale's alpha."),
]
