"""Bad input to analysis.plots: a ValueError naming the argument before anything is drawn or written."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from analysis import plots  # noqa: E402
from analysis.meta import meta_analysis  # noqa: E402
from analysis.multilevel import therapist_effect  # noqa: E402
from analysis.simulate import simulate_trial  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def meta():
    return meta_analysis([0.2, 0.5, 0.1, 0.4], [0.02, 0.03, 0.01, 0.05])


@pytest.fixture(scope="module")
def meta_with_moderator():
    return meta_analysis([0.2, 0.5, 0.1, 0.4, 0.3], [0.02, 0.03, 0.01, 0.05, 0.02], mods=[1.0, 2.0, 3.0, 4.0, 2.5])


@pytest.fixture(scope="module")
def fit():
    pts = simulate_trial(n_therapists=6, caseload=4, n_sessions=4, seed=1).patients
    return therapist_effect(pts, "post", "therapist", covariates=["pre"])


# --------------------------------------------------------------------------- set_style
@pytest.mark.parametrize("context", [None, "Paper", "", 3, "presentation"])
def test_set_style_refuses_unknown_contexts(context):
    with pytest.raises(ValueError, match="`context` must be one of 'paper', 'notebook', 'talk', 'poster'"):
        plots.set_style(context)


# --------------------------------------------------------------------------- figures_dir
@pytest.mark.parametrize("directory", [3, "", b"/tmp/figures", ["figures"], np.nan, {"dir": "x"}])
def test_figures_dir_refuses_what_is_not_a_path(directory):
    with pytest.raises(ValueError, match=r"`directory` must be a folder path \(str or pathlib.Path\) or None"):
        plots.figures_dir(directory)


# --------------------------------------------------------------------------- save_figure
@pytest.mark.parametrize("name", ["a/b", "../up", "fig.png", "", None, 3, "with space", "x" * 101, ".hidden"])
def test_save_figure_refuses_names_that_are_not_plain_stems(name, tmp_path):
    fig, _ = plt.subplots()
    with pytest.raises(ValueError, match="`name` must be a plain file stem"):
        plots.save_figure(fig, name, directory=tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.parametrize("fig", [None, "figure", plt.Axes, 3])
def test_save_figure_refuses_non_figures(fig, tmp_path):
    with pytest.raises(ValueError, match="`fig` must be a matplotlib Figure"):
        plots.save_figure(fig, "x", directory=tmp_path)


def test_save_figure_refuses_axes_and_bad_directories(tmp_path):
    fig, ax = plt.subplots()
    with pytest.raises(ValueError, match="`fig` must be a matplotlib Figure, got Axes"):
        plots.save_figure(ax, "x", directory=tmp_path)
    with pytest.raises(ValueError, match="`directory` must be a folder path"):
        plots.save_figure(fig, "x", directory=3)


# --------------------------------------------------------------------------- forest_plot
@pytest.mark.parametrize("kwargs, match", [
    (dict(labels=["a"]), "`labels` has 1 entries but the result has k = 4 studies"),
    (dict(labels="abcd"), "`labels` must be a sequence with one entry per study, got a string"),
    (dict(groups=[1, 2]), "`groups` has 2 entries but the result has k = 4 studies"),
    (dict(groups=[None, 1, 2, 2]), "`groups` has missing labels at position 0"),
    (dict(groups=[1, np.nan, 2, 2]), "`groups` has missing labels at position 1"),
    (dict(subgroups=object()), "`subgroups` needs `groups`"),
    (dict(subgroups=3, groups=[1, 1, 2, 2]), "`subgroups` must be a SubgroupResult, got int"),
    (dict(digits=-1), "`digits` must be a non-negative integer"),
    (dict(digits=2.5), "`digits` must be a non-negative integer"),
    (dict(digits=True), "`digits` must be a non-negative integer"),
    (dict(transform="nope"), "`transform` must be a callable or one of"),
    (dict(refline=np.nan), "`refline` must be a finite number or None; got nan"),
    (dict(refline=np.inf), "`refline` must be a finite number or None"),
    (dict(refline="0"), "`refline` must be a number, 'auto' or None; got '0'"),
    (dict(refline=True), "`refline` must be a finite number or None"),
    (dict(figsize=(0, 1)), r"`figsize` must be two positive finite numbers \(inches\)"),
    (dict(figsize=(-8, 3)), "`figsize` must be two positive finite numbers"),
    (dict(figsize=(np.inf, 3)), "`figsize` must be two positive finite numbers"),
    (dict(figsize="big"), r"`figsize` must be \(width, height\) in inches"),
    (dict(figsize=(8, 3, 1)), r"`figsize` must be \(width, height\) in inches"),
    (dict(xlabel=3), "`xlabel` must be a string; got 3"),
    (dict(title=["Forest"]), "`title` must be a string"),
    (dict(summary_label=0), "`summary_label` must be a string"),
    (dict(show_weights="no"), "`show_weights` must be True or False"),
    (dict(show_prediction=None), "`show_prediction` must be True or False"),
])
def test_forest_plot_refuses(meta, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plots.forest_plot(meta, **kwargs)


@pytest.mark.parametrize("result", [None, {"estimate": 0.3}, [0.2, 0.5], "meta"])
def test_forest_plot_refuses_what_is_not_a_meta_result(result):
    with pytest.raises(ValueError, match="`result` must be a MetaResult from analysis.meta.meta_analysis"):
        plots.forest_plot(result)


def test_forest_and_funnel_refuse_meta_regressions(meta_with_moderator):
    with pytest.raises(ValueError, match="`result` has moderators"):
        plots.forest_plot(meta_with_moderator)
    with pytest.raises(ValueError, match="`result` has moderators"):
        plots.funnel_plot(meta_with_moderator)


# --------------------------------------------------------------------------- funnel_plot
@pytest.mark.parametrize("args, kwargs, match", [
    ((None,), {}, "`result` must be a MetaResult"),
    (("meta", [1.5]), {}, "`contours`: every level must lie strictly between 0 and 1; got 1.5"),
    (("meta", [0.0, 0.9]), {}, "`contours`: every level must lie strictly between 0 and 1; got 0.0"),
    (("meta", [np.nan]), {}, "`contours`: every level must lie strictly between 0 and 1; got nan"),
    (("meta", "0.9"), {}, "`contours` must be a sequence of levels in \\(0, 1\\), got a string"),
    (("meta", None), {}, "`contours` must be a sequence of numbers in \\(0, 1\\)"),
    (("meta", ["high"]), {}, "`contours` must be a sequence of numbers"),
    (("meta", [0.9, 0.9]), {}, "`contours` has a repeated level"),
    (("meta",), dict(trimfill=3), "`trimfill` must be a TrimFillResult, got int"),
    (("meta",), dict(contour_centre=np.nan), "`contour_centre` must be a finite number; got nan"),
    (("meta",), dict(contour_centre="0"), "`contour_centre` must be a finite number; got '0'"),
    (("meta",), dict(contour_centre=None), "`contour_centre` must be a finite number; got None"),
    (("meta",), dict(figsize=(0, 0)), "`figsize` must be two positive finite numbers"),
    (("meta",), dict(xlabel=1), "`xlabel` must be a string"),
    (("meta",), dict(title=2.0), "`title` must be a string"),
])
def test_funnel_plot_refuses(meta, args, kwargs, match):
    args = tuple(meta if a == "meta" else a for a in args)
    with pytest.raises(ValueError, match=match):
        plots.funnel_plot(*args, **kwargs)


def test_funnel_plot_refuses_a_trimfill_of_other_studies(meta):
    from analysis.meta_bias import trim_and_fill

    other = meta_analysis([0.1, 0.3, 0.2, 0.6, 0.5, 0.7], [0.01, 0.02, 0.02, 0.05, 0.04, 0.06])
    with pytest.raises(ValueError, match="`trimfill` was computed on 6 studies, but `result` has k = 4"):
        plots.funnel_plot(meta, trimfill=trim_and_fill(other))


# --------------------------------------------------------------------------- caterpillar_plot
@pytest.mark.parametrize("kwargs, match", [
    (dict(ax=3), "`ax` must be a matplotlib Axes or None; got int"),
    (dict(ax="left"), "`ax` must be a matplotlib Axes or None"),
    (dict(labels="yes"), "`labels` must be 'auto', True or False; got 'yes'"),
    (dict(labels=None), "`labels` must be 'auto', True or False"),
    (dict(color="notacolour"), "`color` must be a matplotlib colour"),
    (dict(color=3), "`color` must be a matplotlib colour"),
    (dict(xlabel=3), "`xlabel` must be a string"),
    (dict(title=[1]), "`title` must be a string"),
])
def test_caterpillar_plot_refuses(fit, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plots.caterpillar_plot(fit, **kwargs)


@pytest.mark.parametrize("result", [None, "fit", {"effects": []}])
def test_caterpillar_plot_refuses_what_is_not_a_therapist_effect(result):
    with pytest.raises(ValueError, match="`result` must be the result of analysis.multilevel.therapist_effect"):
        plots.caterpillar_plot(result)


def test_caterpillar_plot_refuses_a_broken_effects_table(fit):
    import dataclasses

    broken = dataclasses.replace(fit, effects=fit.effects.drop(columns=["ci_low"]))
    with pytest.raises(ValueError, match="`result.effects` must be a DataFrame with columns"):
        plots.caterpillar_plot(broken)
    empty = dataclasses.replace(fit, effects=fit.effects.iloc[:0])
    with pytest.raises(ValueError, match="`result.effects` holds no therapist"):
        plots.caterpillar_plot(empty)
    eff = fit.effects.copy()
    eff.loc[eff.index[2], "effect"] = np.nan
    with pytest.raises(ValueError, match="`result.effects` row 2 .* non-finite value"):
        plots.caterpillar_plot(dataclasses.replace(fit, effects=eff))
