"""Tests of analysis.plots.caterpillar_plot (therapist effects from therapist_effect)."""

from __future__ import annotations

import dataclasses

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from analysis.multilevel import therapist_effect  # noqa: E402
from analysis.plots import caterpillar_plot, save_figure  # noqa: E402
from analysis.simulate import simulate_trial  # noqa: E402


@pytest.fixture(scope="module")
def fit():
    # unequal caseloads so that the intervals differ in width
    pts = simulate_trial(n_therapists=30, caseload=5, caseload_dist="poisson", therapist_icc=0.15,
                         seed=11).patients
    return therapist_effect(pts, "post", "therapist", covariates=["pre", "arm"])


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _drawn(ax):
    """Points and interval segments of the single errorbar container of `ax`."""
    assert len(ax.containers) == 1
    cont = ax.containers[0]
    line, _, (bars,) = cont.lines
    x, y = np.asarray(line.get_xdata(), float), np.asarray(line.get_ydata(), float)
    segs = np.asarray(bars.get_segments(), float)  # (n, 2, 2): [[lo, y], [hi, y]]
    return x, y, segs


def test_one_row_per_therapist_ranked_with_the_results_intervals(fit):
    fig = caterpillar_plot(fit)
    ax = fig.axes[0]
    x, y, segs = _drawn(ax)
    eff = fit.effects
    assert len(x) == fit.n_therapists == len(eff) == 30
    # rows 0..J-1, one per therapist
    np.testing.assert_array_equal(y, np.arange(30))
    # in order of the estimate
    assert np.all(np.diff(x) >= 0)
    order = np.argsort(eff["effect"].to_numpy(), kind="stable")
    np.testing.assert_allclose(x, eff["effect"].to_numpy()[order], rtol=0, atol=1e-12)
    # intervals are exactly the result's BLUP intervals, row by row
    np.testing.assert_allclose(segs[:, 0, 0], eff["ci_low"].to_numpy()[order], rtol=0, atol=1e-12)
    np.testing.assert_allclose(segs[:, 1, 0], eff["ci_high"].to_numpy()[order], rtol=0, atol=1e-12)
    np.testing.assert_allclose(segs[:, 0, 1], np.arange(30))
    # tick labels name the therapists in that order (30 <= 40: labelled)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [str(v) for v in eff["therapist"].to_numpy()[order]]


def test_intervals_differ_and_are_wider_for_small_caseloads(fit):
    # a property of the data drawn, checked through the plot: BLUP intervals are
    # wider for therapists with fewer patients (conditional variance sigma^2 c_j)
    _, _, segs = _drawn(caterpillar_plot(fit).axes[0])
    order = np.argsort(fit.effects["effect"].to_numpy(), kind="stable")
    width = segs[:, 1, 0] - segs[:, 0, 0]
    n = fit.effects["n"].to_numpy()[order]
    small, large = width[n == n.min()], width[n == n.max()]
    assert n.min() < n.max()
    assert small.min() > large.max()


def test_draws_into_given_axes_and_hides_labels_when_many():
    pts = simulate_trial(n_therapists=50, caseload=4, therapist_icc=0.15, seed=3).patients
    res = therapist_effect(pts, "post", "therapist", covariates=["pre"])
    fig, (a1, a2) = plt.subplots(1, 2)
    out = caterpillar_plot(res, ax=a2, color="#D55E00", title="t", xlabel="x")
    assert out is fig
    assert not a1.containers and len(a2.containers) == 1
    assert all(t.get_text() == "" for t in a2.get_yticklabels())
    assert a2.get_title() == "t" and a2.get_xlabel() == "x"
    x, _, _ = _drawn(a2)
    assert len(x) == 50
    # labels=True forces them
    fig2 = caterpillar_plot(res, labels=True)
    assert [t.get_text() for t in fig2.axes[0].get_yticklabels()][0] != ""


def test_ties_keep_therapist_order(fit):
    eff = fit.effects.copy()
    eff["effect"] = 0.0
    eff["ci_low"], eff["ci_high"] = -1.0, 1.0
    tied = dataclasses.replace(fit, effects=eff)
    ax = caterpillar_plot(tied).axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [str(v) for v in eff["therapist"]]


def test_saves_with_save_figure(fit, tmp_path):
    paths = save_figure(caterpillar_plot(fit), "caterpillar_test", directory=tmp_path)
    assert all(p.stat().st_size > 0 for p in paths.values())


@pytest.mark.parametrize("bad", [None, 3.0, "fit", pd.DataFrame({"effect": [0.0]}), {"effects": None}])
def test_not_a_therapist_effect_result(bad):
    with pytest.raises(ValueError, match="`result` must be the result of"):
        caterpillar_plot(bad)


def test_other_result_object_is_refused():
    from analysis.multilevel import disaggregate_alliance

    pts = simulate_trial(n_therapists=20, caseload=5, therapist_icc=0.15, seed=2).patients
    res = disaggregate_alliance(pts, "change", "alliance_mean", "therapist")
    with pytest.raises(ValueError, match="TherapistEffect"):
        caterpillar_plot(res)


def test_bad_options(fit):
    with pytest.raises(ValueError, match="`ax`"):
        caterpillar_plot(fit, ax="left")
    with pytest.raises(ValueError, match="`labels`"):
        caterpillar_plot(fit, labels="some")


@pytest.mark.parametrize("column,value,match", [
    ("effect", np.nan, "row 2"),
    ("ci_low", 99.0, "row 2"),
])
def test_broken_effects_table(fit, column, value, match):
    eff = fit.effects.copy()
    eff.loc[eff.index[2], column] = value
    with pytest.raises(ValueError, match=match):
        caterpillar_plot(dataclasses.replace(fit, effects=eff))


def test_missing_column(fit):
    with pytest.raises(ValueError, match="columns"):
        caterpillar_plot(dataclasses.replace(fit, effects=fit.effects.drop(columns="ci_high")))
