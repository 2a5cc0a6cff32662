"""Tests of the forest and funnel plots (analysis.plots, issue 3).

The plots draw only; these tests read the drawn artists back (by their gid) and
check them against the results objects: one row or point per study, the diamond
spanning the pooled CI, weights summing to 100 %, contour boundaries at
x0 +/- z * SE, and ValueErrors for bad input.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy import stats  # noqa: E402

from analysis import datasets, effect_sizes  # noqa: E402
from analysis.meta import meta_analysis, subgroup_analysis  # noqa: E402
from analysis.meta_bias import trim_and_fill  # noqa: E402
from analysis.plots import forest_plot, funnel_plot, save_figure  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def molloy():
    d = datasets.load("dat.molloy2014")
    es = effect_sizes.compute_effect_sizes("ZCOR", ri="ri", ni="ni", data=d)
    res = meta_analysis(es.yi, es.vi, method="REML")
    labels = [f"{a} ({y})" for a, y in zip(d["authors"], d["year"])]
    return d, res, labels


def _by_gid(artists, gid):
    return [a for a in artists if a.get_gid() == gid]


def _texts(fig, gid):
    return [t.get_text() for t in fig.axes[0].texts if t.get_gid() == gid]


# ------------------------------------------------------------------ forest plot


def test_forest_one_row_per_study_and_diamond_spans_ci(molloy):
    _, res, labels = molloy
    fig = forest_plot(res, labels, xlabel="Fisher z")
    ax = fig.axes[0]
    cis = _by_gid(ax.lines, "study-ci")
    assert len(cis) == res.k == 16
    assert len(_by_gid(ax.lines, "study-point")) == res.k
    # each CI line is y_i +/- z sqrt(v_i)
    z = stats.norm.ppf(0.975)
    xs = np.array([line.get_xdata() for line in cis])
    np.testing.assert_allclose(xs[:, 0], res.yi - z * np.sqrt(res.vi), rtol=1e-12)
    np.testing.assert_allclose(xs[:, 1], res.yi + z * np.sqrt(res.vi), rtol=1e-12)
    (diamond,) = _by_gid(ax.patches, "summary-diamond")
    vx = diamond.get_xy()[:, 0]
    assert vx.min() == pytest.approx(res.ci_low, abs=1e-12)
    assert vx.max() == pytest.approx(res.ci_high, abs=1e-12)
    (pi,) = _by_gid(ax.lines, "prediction-interval")
    np.testing.assert_allclose(pi.get_xdata(), [res.pi_low, res.pi_high], rtol=1e-12)
    labels_drawn = [t.get_text() for t in ax.get_yticklabels()]
    assert labels_drawn[:16] == labels
    assert ax.get_xlabel() == "Fisher z"


def test_forest_weights_sum_to_100(molloy):
    _, res, labels = molloy
    fig = forest_plot(res, labels)
    weights = [float(t.rstrip("%")) for t in _texts(fig, "weight")]
    assert len(weights) == res.k
    # printed with one decimal: 16 roundings of at most 0.05 each
    assert sum(weights) == pytest.approx(100.0, abs=16 * 0.05)
    np.testing.assert_allclose(weights, np.round(res.weights, 1))
    assert np.sum(res.weights) == pytest.approx(100.0, abs=1e-9)


def test_forest_transform_draws_on_r_scale(molloy):
    _, res, labels = molloy
    fig = forest_plot(res, labels, transform="z2r", xlabel="r")
    (diamond,) = _by_gid(fig.axes[0].patches, "summary-diamond")
    vx = diamond.get_xy()[:, 0]
    pred = res.predict(transform="z2r")
    assert vx.min() == pytest.approx(float(pred.ci_low[0]), abs=1e-12)
    assert vx.max() == pytest.approx(float(pred.ci_high[0]), abs=1e-12)
    point = _by_gid(fig.axes[0].lines, "study-point")[0]
    assert point.get_xdata()[0] == pytest.approx(np.tanh(res.yi[0]))


def test_forest_fixed_effect_has_no_prediction_interval(molloy):
    _, res, labels = molloy
    fe = meta_analysis(res.yi, res.vi, method="FE")
    fig = forest_plot(fe, labels)
    assert _by_gid(fig.axes[0].lines, "prediction-interval") == []


def test_forest_subgroups_from_column_and_from_result(molloy):
    d, res, labels = molloy
    design = list(d["design"])
    fig = forest_plot(res, labels, groups=design)
    ax = fig.axes[0]
    assert len(_by_gid(ax.lines, "study-ci")) == res.k
    diamonds = _by_gid(ax.patches, "subgroup-diamond")
    assert len(diamonds) == 2
    sub = subgroup_analysis(res.yi, res.vi, design, method="REML")
    spans = sorted((p.get_xy()[:, 0].min(), p.get_xy()[:, 0].max()) for p in diamonds)
    expected = sorted(zip(sub.table["ci_low"], sub.table["ci_high"]))
    np.testing.assert_allclose(spans, expected, rtol=1e-10)
    # the same picture from a SubgroupResult
    fig2 = forest_plot(res, labels, groups=design, subgroups=sub)
    spans2 = sorted((p.get_xy()[:, 0].min(), p.get_xy()[:, 0].max())
                    for p in _by_gid(fig2.axes[0].patches, "subgroup-diamond"))
    np.testing.assert_allclose(spans2, expected, rtol=1e-12)
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert "cross-sectional" in ticks and "prospective" in ticks


def test_forest_saves(molloy, tmp_path):
    _, res, labels = molloy
    paths = save_figure(forest_plot(res, labels), "forest_test", directory=tmp_path)
    assert paths["png"].stat().st_size > 0


def test_forest_bad_input(molloy):
    d, res, labels = molloy
    with pytest.raises(ValueError, match="`result` must be a MetaResult"):
        forest_plot({"estimate": 0.1})
    with pytest.raises(ValueError, match="`labels` has 3 entries but the result has k = 16"):
        forest_plot(res, ["a", "b", "c"])
    with pytest.raises(ValueError, match="`groups` has 2 entries"):
        forest_plot(res, labels, groups=["a", "b"])
    with pytest.raises(ValueError, match="`subgroups` needs `groups`"):
        sub = subgroup_analysis(res.yi, res.vi, list(d["design"]))
        forest_plot(res, labels, subgroups=sub)
    with pytest.raises(ValueError, match="`groups` has missing labels at position 3"):
        g = list(d["design"])
        g[3] = None
        forest_plot(res, labels, groups=g)
    with pytest.raises(ValueError, match="`subgroups` has subgroups"):
        other = subgroup_analysis(res.yi, res.vi, ["x"] * 8 + ["y"] * 8)
        forest_plot(res, labels, groups=list(d["design"]), subgroups=other)
    with pytest.raises(ValueError, match="moderators"):
        forest_plot(meta_analysis(res.yi, res.vi, mods=np.asarray(d["meanage"], float)))
    with pytest.raises(ValueError, match="`digits`"):
        forest_plot(res, digits=-1)
    with pytest.raises(ValueError, match="`transform`"):
        forest_plot(res, transform="nonsense")


# ------------------------------------------------------------------ funnel plot


def test_funnel_one_point_per_study(molloy):
    _, res, _ = molloy
    fig = funnel_plot(res, xlabel="Fisher z")
    ax = fig.axes[0]
    (pts,) = _by_gid(ax.collections, "studies")
    off = pts.get_offsets()
    assert off.shape == (res.k, 2)
    np.testing.assert_allclose(off[:, 0], res.yi)
    np.testing.assert_allclose(off[:, 1], np.sqrt(res.vi))
    lo, hi = ax.get_ylim()
    assert lo > hi == 0.0  # reversed SE axis, 0 at the top
    assert _by_gid(ax.collections, "filled-studies") == []


@pytest.mark.parametrize("centre", [0.0, 0.1])
def test_funnel_contours_at_z_times_se(molloy, centre):
    _, res, _ = molloy
    levels = (0.90, 0.95, 0.99)
    fig = funnel_plot(res, levels, contour_centre=centre)
    ax = fig.axes[0]
    se_max = ax.get_ylim()[0]
    for c in levels:
        wedges = _by_gid(ax.patches, f"contour-{c:.2f}")
        assert len(wedges) == 2
        z = stats.norm.ppf(0.5 + c / 2)
        inner = sorted(float(w.get_xy()[1, 0]) for w in wedges)  # boundary vertex at SE = se_max
        np.testing.assert_allclose(inner, [centre - z * se_max, centre + z * se_max], rtol=1e-12)
        for w in wedges:  # the boundary passes through (centre, 0)
            assert w.get_xy()[0, 0] == pytest.approx(centre) and w.get_xy()[0, 1] == 0.0
            assert w.get_xy()[1, 1] == pytest.approx(se_max)
    # pseudo-CI lines: estimate +/- 1.96 SE
    lines = _by_gid(ax.lines, "pseudo-ci")
    assert len(lines) == 2
    z95 = stats.norm.ppf(0.975)
    for line in lines:
        x, s = line.get_xdata(), line.get_ydata()
        np.testing.assert_allclose(np.abs(x - res.estimate), z95 * s, atol=1e-12)


def test_funnel_trimfill_open_circles(molloy):
    _, res, _ = molloy
    tf = trim_and_fill(res)
    assert tf.k0 > 0
    fig = funnel_plot(res, trimfill=tf)
    ax = fig.axes[0]
    (filled,) = _by_gid(ax.collections, "filled-studies")
    off = filled.get_offsets()
    assert off.shape == (tf.k0, 2)
    np.testing.assert_allclose(off[:, 0], tf.yi[tf.filled])
    (line,) = _by_gid(ax.lines, "trimfill-estimate")
    assert line.get_xdata()[0] == pytest.approx(tf.estimate)
    # open circles: white face
    np.testing.assert_allclose(filled.get_facecolor()[0][:3], [1, 1, 1])


def test_funnel_without_contours(molloy):
    _, res, _ = molloy
    fig = funnel_plot(res, contours=())
    assert [p for p in fig.axes[0].patches if (p.get_gid() or "").startswith("contour")] == []


def test_funnel_bad_input(molloy):
    _, res, _ = molloy
    with pytest.raises(ValueError, match="`result` must be a MetaResult"):
        funnel_plot([0.1, 0.2])
    with pytest.raises(ValueError, match="strictly between 0 and 1; got 95.0"):
        funnel_plot(res, contours=(0.9, 95))
    with pytest.raises(ValueError, match="repeated"):
        funnel_plot(res, contours=(0.9, 0.9))
    with pytest.raises(ValueError, match="`contours` must be a sequence"):
        funnel_plot(res, contours="0.95")
    with pytest.raises(ValueError, match="`trimfill` must be a TrimFillResult"):
        funnel_plot(res, trimfill=res)
    other = meta_analysis(res.yi[:10], res.vi[:10])
    with pytest.raises(ValueError, match="`trimfill` was computed on 10 studies"):
        funnel_plot(res, trimfill=trim_and_fill(other))
    with pytest.raises(ValueError, match="`contour_centre`"):
        funnel_plot(res, contour_centre=float("nan"))
