"""Bad input for the lesson figures of notebook 07 (analysis/plots/lessons_power.py, block C): every refusal is a
ValueError naming the argument or column."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from analysis import plots  # noqa: E402
from analysis.plots import power_curves_plot, type1_inflation_plot  # noqa: E402

T1 = pd.DataFrame({"caseload": [5, 5], "therapist_icc": [0.1, 0.1],
                   "analysis": ["treatment_ols", "treatment_multilevel"], "rate": [0.12, 0.05], "mc_se": [0.01, 0.01]})
A = pd.DataFrame({"alliance_outcome_r": [0.2, 0.2], "n_therapists": [10, 20], "rate": [0.3, 0.5],
                  "ci_low": [0.2, 0.4], "ci_high": [0.4, 0.6], "analytic": [0.32, 0.52]})
B = pd.DataFrame({"share": [0.5, 0.5], "n_therapists": [20, 40], "rate": [0.2, 0.4], "ci_low": [0.1, 0.3],
                  "ci_high": [0.3, 0.5]})
C = pd.DataFrame({"therapist_icc": [0.05, 0.05], "n_therapists": [10, 20],
                  "analysis": ["treatment_multilevel"] * 2, "rate": [0.3, 0.6], "ci_low": [0.2, 0.5],
                  "ci_high": [0.4, 0.7]})


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_good_input_draws():
    assert len(type1_inflation_plot(T1).axes) == 1
    assert len(power_curves_plot(A, B, C, delta_c=0.4).axes) == 3


@pytest.mark.parametrize("table, match", [
    (None, "`table` must be a pandas DataFrame"),
    ({"rate": [0.1]}, "`table` must be a pandas DataFrame"),
    (T1.iloc[:0], "`table` has 0 rows"),
    (T1.rename(columns={"mc_se": "mcse"}), "Column 'mc_se' is not in `table`. Did you mean 'mcse'"),
    (T1.assign(rate=["a", "b"]), "Column 'rate' of `table` must be numeric"),
    (T1.assign(rate=[np.nan, 0.1]), "Column 'rate' of `table` has missing or infinite values at index labels 0"),
])
def test_type1_inflation_plot_bad_table(table, match):
    with pytest.raises(ValueError, match=match):
        type1_inflation_plot(table)


@pytest.mark.parametrize("kwargs, match", [
    ({"alpha": 0}, "`alpha` must be a number strictly between 0 and 1"),
    ({"alpha": 1.5}, "`alpha`"),
    ({"alpha": "0.05"}, "`alpha`"),
    ({"n_therapists": 1}, "`n_therapists` must be a whole number >= 2"),
    ({"n_therapists": 2.5}, "`n_therapists`"),
])
def test_type1_inflation_plot_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        type1_inflation_plot(T1, **kwargs)


@pytest.mark.parametrize("tables, match", [
    ((None, B, C), "`table_a` must be a pandas DataFrame"),
    ((A, B.iloc[:0], C), "`table_b` has 0 rows"),
    ((A.drop(columns="analytic"), B, C), "Column 'analytic' is not in `table_a`"),
    ((A, B.rename(columns={"share": "shares"}), C), "Column 'share' is not in `table_b`. Did you mean 'shares'"),
    ((A, B, C.drop(columns="analysis")), "Column 'analysis' is not in `table_c`"),
    ((A, B, C.assign(ci_high=[np.inf, 0.7])), "Column 'ci_high' of `table_c` has missing or infinite values"),
])
def test_power_curves_plot_bad_tables(tables, match):
    with pytest.raises(ValueError, match=match):
        power_curves_plot(*tables, delta_c=0.4)


@pytest.mark.parametrize("kwargs, match", [
    ({"delta_c": float("nan")}, "`delta_c` must be a finite number"),
    ({"delta_c": "0.4"}, "`delta_c`"),
    ({"delta_c": 0.4, "caseload": 0}, "`caseload` must be a whole number >= 1"),
    ({"delta_c": 0.4, "alpha": -0.1}, "`alpha`"),
])
def test_power_curves_plot_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        plots.power_curves_plot(A, B, C, **kwargs)
