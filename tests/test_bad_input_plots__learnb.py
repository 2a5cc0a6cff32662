"""Bad input for the lesson figures of notebooks 03-06 (block B: analysis/plots/lessons_change.py
and analysis/plots/lessons_sem.py): each refusal is a ValueError naming the argument, column or rows."""

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


# ----------------------------------------------------------------------------- jacobson_truax_plot
@pytest.fixture(scope="module")
def cs():
    from analysis.change import clinical_significance

    return clinical_significance([20.0, 25, 18, 30, 22], [8.0, 24, 19, 12, np.nan], reliability=0.9, cutoff="a")


def test_jacobson_truax_draws_each_classified_patient(cs):
    fig = plots.jacobson_truax_plot(cs, groups=["A", "A", "B", "B", "B"], lim=(0, 35), title="t")
    drawn = sum(len(c.get_offsets()) for c in fig.axes[0].collections[1:])  # after the band
    assert drawn == 4  # the patient with a missing post score is not drawn


def test_jacobson_truax_refuses_bad_input(cs):
    with pytest.raises(ValueError, match="`result` must be a ClinicalSignificance"):
        plots.jacobson_truax_plot(None)
    with pytest.raises(ValueError, match="`groups` has 2 labels but the result has 5 patients"):
        plots.jacobson_truax_plot(cs, groups=["A", "B"])
    with pytest.raises(ValueError, match="`groups` must be a sequence"):
        plots.jacobson_truax_plot(cs, groups={"A": 1})
    with pytest.raises(ValueError, match="at most 6"):
        plots.jacobson_truax_plot(_seven_groups(), groups=list("abcdefg"))
    with pytest.raises(ValueError, match="`lim` must be two finite numbers"):
        plots.jacobson_truax_plot(cs, lim=(5, 1))
    with pytest.raises(ValueError, match="`lim` must be two finite numbers"):
        plots.jacobson_truax_plot(cs, lim=(0, np.inf))
    with pytest.raises(ValueError, match="`lim` must be two numbers"):
        plots.jacobson_truax_plot(cs, lim="ab")


def _seven_groups():
    from analysis.change import clinical_significance

    return clinical_significance([20.0, 25, 18, 30, 22, 21, 19], [8.0, 24, 19, 12, 10, 11, 9], reliability=0.9,
                                 cutoff="a")


# ----------------------------------------------------------------------------- within_between_plot
def test_within_between_slopes_are_the_ols_slopes(fitted):
    pts, _ = fitted
    fig = plots.within_between_plot({"a": pts, "b": pts.assign(change=-pts["change"])}, title="t")
    assert len(fig.axes) == 2
    # the total line's slope equals the plain OLS slope of change on alliance (tolerance 1e-10)
    line = [ln for ln in fig.axes[0].lines if ln.get_linestyle() == "--"][0]
    x, y = line.get_data()
    total = np.polyfit(pts["alliance_mean"], pts["change"], 1)[0]
    assert abs((y[1] - y[0]) / (x[1] - x[0]) - total) < 1e-10


def test_within_between_refuses_bad_input(fitted):
    pts, _ = fitted
    with pytest.raises(ValueError, match="`panels` must be a non-empty dict"):
        plots.within_between_plot(pts)
    with pytest.raises(ValueError, match="`panels` must be a non-empty dict"):
        plots.within_between_plot({})
    with pytest.raises(ValueError, match="Did you mean 'alliance_mean'"):
        plots.within_between_plot({"x": pts}, alliance="alliance_men")
    bad = pts.copy()
    bad.loc[2, "change"] = np.nan
    with pytest.raises(ValueError, match="index labels 2"):
        plots.within_between_plot({"x": bad})
    flat = pts.assign(alliance_mean=pts.groupby("therapist")["alliance_mean"].transform("mean"))
    with pytest.raises(ValueError, match="does not vary within therapists"):
        plots.within_between_plot({"x": flat})
    with pytest.raises(ValueError, match="panels\\['x'\\]"):
        plots.within_between_plot({"x": None})


# ----------------------------------------------------------------------------- factor_models_plot
@pytest.fixture(scope="module")
def comparison():
    from analysis import psychometrics
    from analysis.simulate import simulate_wai_sr_items

    items = simulate_wai_sr_items(300, seed=2).items.astype(float)
    return psychometrics.compare_factor_models(items, psychometrics.wai_sr_key())


def test_factor_models_plot_draws_a_bar_per_item_and_model(comparison):
    fig = plots.factor_models_plot(comparison, truth={"wai1": 0.7})
    n_items = comparison.models[next(iter(comparison.models))].loadings["item"].nunique()
    assert len(fig.axes[0].patches) == n_items * len(comparison.models)


def test_factor_models_plot_refuses_bad_input(comparison):
    with pytest.raises(ValueError, match="`comparison` must be a FactorModelComparison"):
        plots.factor_models_plot({"models": {}})
    with pytest.raises(ValueError, match="`item_order` names items the models do not have: \\['wai99'\\]"):
        plots.factor_models_plot(comparison, item_order=["wai1", "wai99"])
    with pytest.raises(ValueError, match="`rmsea_line` must be a number in \\(0, 1\\)"):
        plots.factor_models_plot(comparison, rmsea_line=0)
    with pytest.raises(ValueError, match="`rmsea_line`"):
        plots.factor_models_plot(comparison, rmsea_line="0.06")


# ----------------------------------------------------------------------------- sudden_gains_plot, rupture_episodes_plot
@pytest.fixture(scope="module")
def series():
    import pandas as pd

    from analysis.change import rupture_episodes, sudden_gains

    d = pd.DataFrame({"patient": np.repeat([1, 2], 10), "session": np.tile(np.arange(1, 11), 2),
                      "symptom": [20, 21, 20, 19, 9, 8, 9, 8, 8, 7] + [15, 14, 14, 13, 13, 12, 12, 11, 11, 10],
                      "alliance": [4.0, 4.1, 4.0, 4.2, 2.5, 4.1, 4.0, 4.2, 4.1, 4.0] * 2,
                      "rupture": [False] * 4 + [True] + [False] * 15})
    return d, sudden_gains(d), rupture_episodes(d, k=1.5, m=2)


def test_series_plots_draw_one_panel_per_patient(series):
    d, sg, ep = series
    fig, axes = plt.subplots(2, 2)
    plots.sudden_gains_plot(d, sg, [1, 2], true_gain_session={1: 5, 2: -1}, ylim=(0, 27), axes=axes[0],
                            titles={1: "one"})
    plots.rupture_episodes_plot(d, ep, [1, 2], true_rupture="rupture", axes=axes[1])
    assert axes[0, 0].get_title() == "one" and axes[0, 1].get_title() == "patient 2"
    assert len(axes[0, 0].texts) == len(sg.gains[sg.gains["patient"] == 1]) >= 1  # one arrow per gain
    assert len(axes[1, 0].patches) == len(ep.episodes[ep.episodes["patient"] == 1]) >= 1  # one span per episode


def test_series_plots_refuse_bad_input(series):
    d, sg, ep = series
    with pytest.raises(ValueError, match="`result` must be a SuddenGains"):
        plots.sudden_gains_plot(d, ep, [1])
    with pytest.raises(ValueError, match="`result` must be a RuptureEpisodes"):
        plots.rupture_episodes_plot(d, sg, [1])
    with pytest.raises(ValueError, match="`patients` must be a non-empty list"):
        plots.sudden_gains_plot(d, sg, [])
    with pytest.raises(ValueError, match="`patients` must be a non-empty list"):
        plots.rupture_episodes_plot(d, ep, "1")
    with pytest.raises(ValueError, match=r"`patients` names ids not in column 'patient' of `sessions`: \[7\]"):
        plots.sudden_gains_plot(d, sg, [1, 7])
    with pytest.raises(ValueError, match="Did you mean 'symptom'"):
        plots.sudden_gains_plot(d, sg, [1], score="symptoms")
    with pytest.raises(ValueError, match="sessions"):
        plots.rupture_episodes_plot(None, ep, [1])
    with pytest.raises(ValueError, match="`axes` has 1 axes for 2 patients"):
        _, ax = plt.subplots()
        plots.rupture_episodes_plot(d, ep, [1, 2], axes=[ax])
    with pytest.raises(ValueError, match="Did you mean 'rupture'"):
        plots.rupture_episodes_plot(d, ep, [1], true_rupture="ruptures")


def test_rupture_plot_refuses_a_patient_the_rule_did_not_analyse():
    import pandas as pd

    from analysis.change import rupture_episodes

    d = pd.DataFrame({"patient": np.repeat([1, 2], 10), "session": np.tile(np.arange(1, 11), 2),
                      "alliance": [4.0] * 10 + [4.0, 4.1, 4.0, 4.2, 2.5, 4.1, 4.0, 4.2, 4.1, 4.0]})
    ep = rupture_episodes(d, k=1.5, m=2)
    with pytest.raises(ValueError, match=r"did not analyse \(too short or constant series\): \[1\]"):
        plots.rupture_episodes_plot(d, ep, [1])


# ----------------------------------------------------------------------------- qq_plot
def test_qq_plot_draws_standardised_sorted_values():
    v = np.array([3.0, 1.0, 2.0, 10.0])
    fig, ax = plt.subplots()
    assert plots.qq_plot(v, ax, title="t") is fig
    y = ax.lines[0].get_ydata()
    np.testing.assert_allclose(y, np.sort((v - v.mean()) / v.std(ddof=1)), rtol=1e-12)


@pytest.mark.parametrize("values, message", [
    ([1.0, 2.0], "at least 3 values"),
    ([1.0, np.nan, 2.0, 3.0], r"missing or infinite values at positions \[1\]"),
    ([1.0, 2.0, np.inf], r"positions \[2\]"),
    ([2.0, 2.0, 2.0], "no spread"),
    (["a", "b", "c"], "`values` must be numbers"),
    ({"a": 1}, "`values` must be numbers"),
])
def test_qq_plot_refuses_bad_values(values, message):
    with pytest.raises(ValueError, match=message):
        plots.qq_plot(values)


def test_qq_plot_is_scale_equivariant():
    v = np.random.default_rng(3).normal(size=20)
    for scale in (1e-300, 1e300):
        fig = plots.qq_plot(v * scale)
        np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), np.sort((v - v.mean()) / v.std(ddof=1)),
                                   rtol=1e-9, atol=1e-12)


def _lagged():
    import pandas as pd

    return pd.DataFrame({"path": ["x -> y", "x -> y", "y -> x", "y -> x"], "wave": [2, 3, 2, 3],
                         "estimate": [0.1, -0.05, 0.2, 0.15], "se": [0.05, 0.06, 0.05, 0.07]})


def test_riclpm_paths_plot_draws_one_series_per_path():
    fig = plots.riclpm_paths_plot(_lagged(), labels={"x -> y": "a", "y -> x": "b"}, title="t")
    assert len(fig.axes[0].containers) == 2
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["a", "b"]


@pytest.mark.parametrize("lagged, labels, message", [
    ({"path": ["x -> y"]}, None, "`lagged` must be a DataFrame"),
    ("drop_se", None, r"`lagged` lacks the columns \['se'\]"),
    ("empty", None, "`lagged` has no rows"),
    ("nan", None, "missing or infinite wave/estimate/se at index labels \\[1\\]"),
    ("ok", {"x -> z": "a"}, r"`labels` names paths that `lagged` does not have: \['x -> z'\]"),
    ("ok", [], "`labels` must be a non-empty mapping"),
])
def test_riclpm_paths_plot_refuses_bad_input(lagged, labels, message):
    tab = _lagged()
    if lagged == "drop_se":
        lagged = tab.drop(columns="se")
    elif lagged == "empty":
        lagged = tab.iloc[:0]
    elif lagged == "nan":
        tab.loc[1, "se"] = np.nan
        lagged = tab
    elif lagged == "ok":
        lagged = tab
    with pytest.raises(ValueError, match=message):
        plots.riclpm_paths_plot(lagged, labels=labels)


def test_riclpm_dropout_plot_draws_means_and_paths():
    import pandas as pd

    means = pd.DataFrame({"all": [10.0, 9.0, 8.0], "completers": [9.0, 8.0, 7.0]})
    fig = plots.riclpm_dropout_plot(means, {"a": _lagged(), "b": _lagged()}, title="t")
    assert len(fig.axes[0].lines) == 2 and len(fig.axes[1].containers) == 2
    assert list(fig.axes[1].get_xticks()) == [2, 3]


@pytest.mark.parametrize("case, message", [
    ("means_list", "`means` must be a non-empty DataFrame"),
    ("means_text", "`means` must hold numbers"),
    ("means_nan", r"`means` has missing or infinite values at index labels \[2\]"),
    ("fits_empty", "`fits` must be a non-empty mapping"),
    ("fits_bad", r"`fits\['b'\]` lacks the columns \['se'\]"),
    ("path", r"`fits\['a'\]` has no path 'x -> w'"),
    ("truth", "`truth` must be a finite number"),
])
def test_riclpm_dropout_plot_refuses_bad_input(case, message):
    import pandas as pd

    means = pd.DataFrame({"all": [10.0, 9.0, 8.0]})
    fits = {"a": _lagged(), "b": _lagged()}
    kw = {}
    if case == "means_list":
        means = [10.0, 9.0]
    elif case == "means_text":
        means = pd.DataFrame({"all": ["x", "y"]})
    elif case == "means_nan":
        means.loc[2, "all"] = np.inf
    elif case == "fits_empty":
        fits = {}
    elif case == "fits_bad":
        fits["b"] = fits["b"].drop(columns="se")
    elif case == "path":
        kw["path"] = "x -> w"
    elif case == "truth":
        kw["truth"] = float("nan")
    with pytest.raises(ValueError, match=message):
        plots.riclpm_dropout_plot(means, fits, **kw)


def _intercepts():
    import pandas as pd

    return pd.DataFrame({"op": ["~1"] * 4, "lhs": ["i1", "i2", "i1", "i2"], "group": ["A", "A", "B", "B"],
                         "estimate": [3.0, 3.5, 3.1, 4.0], "se": [0.1, 0.1, 0.1, 0.1]})


def test_invariance_intercepts_plot_draws_group_differences():
    fig = plots.invariance_intercepts_plot(_intercepts(), {"task": ["i1", "i2"]}, highlight="i2",
                                           highlight_label="planted")
    heights = [float(b.get_height()) for b in fig.axes[0].patches[:2]]
    assert heights == pytest.approx([0.1, 0.5])
    assert fig.axes[0].get_ylabel().startswith("intercept B − A")


@pytest.mark.parametrize("case, message", [
    ("dict", "`params` must be a parameter DataFrame"),
    ("no_se", r"`params` lacks the columns \['se'\]"),
    ("one_group", "exactly two groups; found 1"),
    ("absent", r"no finite intercept .* for the items \['i3'\]"),
    ("nan", r"no finite intercept .* for the items \['i2'\]"),
    ("subscales", "`subscales` must be a non-empty mapping"),
    ("highlight", "`highlight` must be an item of `subscales`; got 'i9'"),
])
def test_invariance_intercepts_plot_refuses_bad_input(case, message):
    params, subscales, kw = _intercepts(), {"task": ["i1", "i2"]}, {}
    if case == "dict":
        params = params.to_dict()
    elif case == "no_se":
        params = params.drop(columns="se")
    elif case == "one_group":
        params = params[params["group"] == "A"]
    elif case == "absent":
        subscales = {"task": ["i1", "i2", "i3"]}
    elif case == "nan":
        params.loc[3, "se"] = np.nan
    elif case == "subscales":
        subscales = []
    elif case == "highlight":
        kw["highlight"] = "i9"
    with pytest.raises(ValueError, match=message):
        plots.invariance_intercepts_plot(params, subscales, **kw)
