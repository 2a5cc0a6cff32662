"""Bad input to analysis.growth gets a ValueError that names the argument, column or row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import growth


def _toy(n=30, waves=4, seed=3):
    rng = np.random.default_rng(seed)
    pid = np.repeat(np.arange(n), waves)
    t = np.tile(np.arange(waves, dtype=float), n)
    y = 10 + rng.normal(0, 2, n)[pid] + (-1 + rng.normal(0, 0.5, n)[pid]) * t + rng.normal(0, 1, n * waves)
    return pd.DataFrame({"patient_id": pid, "session": t, "arm": (pid % 2).astype(float), "phq": y})


def test_not_a_dataframe_and_empty():
    with pytest.raises(ValueError, match=r"`data` must be a pandas DataFrame, got dict"):
        growth.growth_model({"phq": [1]}, "phq", "session", "patient_id")
    with pytest.raises(ValueError, match=r"`data` has 0 rows"):
        growth.growth_model(_toy().iloc[:0], "phq", "session", "patient_id")


def test_unknown_column_suggests_nearest():
    with pytest.raises(ValueError, match=r"'patient' \(given as `subject`\) is not in `data`\. Did you mean 'patient_id'\?"):
        growth.growth_model(_toy(), "phq", "session", "patient")
    with pytest.raises(ValueError, match=r"'sesion' \(given as `time`\).*Did you mean 'session'"):
        growth.growth_model(_toy(), "phq", "sesion", "patient_id")
    with pytest.raises(ValueError, match=r"`covariates\[0\]`.*Did you mean 'arm'"):
        growth.growth_model(_toy(), "phq", "session", "patient_id", covariates=["arms"])


def test_one_measurement_per_patient_is_unidentified():
    d = _toy().assign(patient_id=np.arange(120))  # the subject column is really a row id
    with pytest.raises(ValueError, match=r"Every level of `patient_id` \(120\) has one measurement.*not separately identified"):
        growth.growth_model(d, "phq", "session", "patient_id")


def test_too_few_measurements_for_random_slopes():
    d = _toy(waves=2)  # 2 waves: 60 rows, 2 x 30 random effects
    with pytest.raises(ValueError, match=r"60 measurements are too few for 2 random effects in each of 30 patients"):
        growth.growth_model(d, "phq", "session", "patient_id")


def test_time_constant_within_patients():
    d = _toy()
    d["session"] = d["patient_id"] % 3  # varies only between patients
    with pytest.raises(ValueError, match=r"`session` never varies within a patient"):
        growth.growth_model(d, "phq", "session", "patient_id")


def test_one_patient_and_zero_variance():
    d = _toy()
    with pytest.raises(ValueError, match=r"`patient_id` has a single level"):
        growth.growth_model(d[d["patient_id"] == 0], "phq", "session", "patient_id")
    with pytest.raises(ValueError, match=r"The outcome does not vary"):
        growth.growth_model(d.assign(phq=5.0), "phq", "session", "patient_id")


def test_collinear_or_constant_covariate():
    d = _toy().assign(const=1.0, arm2=lambda x: 2 * x["arm"])
    with pytest.raises(ValueError, match=r"collinear"):
        growth.growth_model(d, "phq", "session", "patient_id", covariates=["const"])
    with pytest.raises(ValueError, match=r"collinear"):
        growth.growth_model(d, "phq", "session", "patient_id", covariates=["arm", "arm2"])


@pytest.mark.parametrize("bad", ["x", None])
def test_strings_and_none_in_numeric_columns(bad):
    d = _toy().astype({"phq": object})
    d.loc[5, "phq"] = bad
    pattern = r"index label 5 has 'x'" if bad == "x" else r"Missing values in `data` at index labels 5"
    with pytest.raises(ValueError, match=pattern):
        growth.growth_model(d, "phq", "session", "patient_id")


def test_infinite_value_names_row():
    d = _toy()
    d.loc[7, "session"] = np.inf
    with pytest.raises(ValueError, match=r"Column 'session' has an infinite value at index label 7"):
        growth.growth_model(d, "phq", "session", "patient_id")


@pytest.mark.parametrize("kwargs,pattern", [
    ({"method": "reml"}, r"`method` must be 'REML' or 'ML'"),
    ({"level": 1.5}, r"`level` must lie strictly between 0 and 1"),
    ({"level": 0}, r"`level` must lie strictly between 0 and 1"),
    ({"na_action": "drop"}, r"`na_action` must be one of 'fail', 'omit'"),
    ({"random_slope": "yes"}, r"`random_slope` must be True or False"),
    ({"time_by": ["arm"]}, r"`time_by` column 'arm' must also be in `covariates`"),
    ({"covariates": ["session"]}, r"Each column may appear only once"),
    ({"covariates": [1]}, r"`covariates` must hold column names"),
])
def test_argument_ranges(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        growth.growth_model(_toy(), "phq", "session", "patient_id", **kwargs)


def test_compare_refuses_bad_pairs():
    d = _toy()
    m0 = growth.growth_model(d, "phq", "session", "patient_id", random_slope=False, method="ML")
    m1 = growth.growth_model(d, "phq", "session", "patient_id", method="ML")
    other = growth.growth_model(d.iloc[4:], "phq", "session", "patient_id", method="ML")
    with pytest.raises(ValueError, match=r"give at least two fitted growth models"):
        growth.compare_growth_models(m0)
    with pytest.raises(ValueError, match=r"`models\[1\]` must be a GrowthModel"):
        growth.compare_growth_models(m0, "m1")
    with pytest.raises(ValueError, match=r"`models\[1\]` was not fitted to the same measurements"):
        growth.compare_growth_models(m1, other)
    with pytest.raises(ValueError, match=r"same number of parameters: they are not nested"):
        growth.compare_growth_models(m1, m1)
    arm = growth.growth_model(d, "phq", "session", "patient_id", covariates=["arm"], random_slope=False, method="ML")
    with pytest.raises(ValueError, match=r"not nested"):
        growth.compare_growth_models(arm, m1)  # arm has a fixed effect m1 lacks
    with pytest.raises(ValueError, match=r"`term` 'sesion' is not a fixed effect\. Did you mean 'session'"):
        m1.apa("sesion")
