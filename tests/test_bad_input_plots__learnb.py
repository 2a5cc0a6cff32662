"""Bad input for the lesson figures of notebooks 03-06 (plots.py block B): each refusal is a
ValueError naming the argument, column or rows."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from analysis import plots  # noqa: E402
from analysis.multilevel import therapist_effect  # noqa: E402
from analysis.simulate import simulate_trial  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def fitted():
    pts = simulate_trial(n_therapists=20, caseload=5, seed=11).patients
    return pts, therapist_effect(pts, "post", "therapist", covariates=["pre", "arm"])


def test_diagnostics_draws_three_panels_with_the_residuals(fitted):
    pts, fit = fitted
    fig = plots.mixed_model_diagnostics(fit, pts, title="t")
    assert len(fig.axes) == 3
    # residuals vs fitted: the points' y values are y - X b - u, whose mean is about 0 (REML, BLUPs)
    offsets = fig.axes[2].collections[0].get_offsets()
    assert abs(float(np.mean(offsets[:, 1]))) < 0.5


def test_diagnostics_refuses_a_wrong_result(fitted):
    pts, _ = fitted
    with pytest.raises(ValueError, match="`result` must be a TherapistEffect"):
        plots.mixed_model_diagnostics({"icc": 0.1}, pts)


def test_diagnostics_refuses_bad_data(fitted):
    pts, fit = fitted
    with pytest.raises(ValueError, match="data"):
        plots.mixed_model_diagnostics(fit, None)
    with pytest.raises(ValueError, match="Column 'pre'.*Did you mean 'pree'"):
        plots.mixed_model_diagnostics(fit, pts.rename(columns={"pre": "pree"}))
    with pytest.raises(ValueError, match="rows but the fit used"):
        plots.mixed_model_diagnostics(fit, pts.iloc[:10])
    bad = pts.copy()
    bad.loc[3, "pre"] = np.nan
    with pytest.raises(ValueError, match="index labels 3"):
        plots.mixed_model_diagnostics(fit, bad)
    bad = pts.copy()
    bad["pre"] = bad["pre"].astype(object)
    bad.loc[4, "pre"] = "n/a"
    with pytest.raises(ValueError, match="non-numeric.*index labels 4"):
        plots.mixed_model_diagnostics(fit, bad)
    bad = pts.copy()
    bad.loc[5, "therapist"] = 999
    with pytest.raises(ValueError, match="therapists the fit does not know.*5"):
        plots.mixed_model_diagnostics(fit, bad)
