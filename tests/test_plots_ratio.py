"""Ratio measures on the ratio scale (issue 14 item 6, issue 16 item 4): forest plots with a log
x axis, ratio tick labels and the reference line at 1; apa() on the ratio scale; the bubble plot
of a meta-regression (metafor's regplot).

The plots draw only; the tests read the drawn artists back (by gid) and compare them with the
fit (exact up to 1e-12, floating point of exp/log). Figures are written to tmp_path only.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from analysis import datasets  # noqa: E402
from analysis.effect_sizes import compute_effect_sizes  # noqa: E402
from analysis.meta import RATIO_MEASURES, meta_analysis  # noqa: E402
from analysis.plots import bubble_plot, forest_plot  # noqa: E402
from analysis.plots.meta import _ratio_ticks  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def bcg():
    d = datasets.load("dat.bcg")
    es = compute_effect_sizes("RR", ai="tpos", bi="tneg", ci="cpos", di="cneg", data=d)
    d = d.assign(yi=es.yi, vi=es.vi)
    return d


def _by_gid(artists, gid):
    return [a for a in artists if a.get_gid() == gid]


def _texts(fig, gid):
    return [t.get_text() for t in fig.axes[0].texts if t.get_gid() == gid]


# ------------------------------------------------------------------ forest plot, ratio scale
def test_forest_for_a_ratio_measure_has_a_log_axis_with_ratio_ticks_and_refline_at_1(bcg):
    res = meta_analysis(bcg["yi"], bcg["vi"], measure="RR")
    fig = forest_plot(res)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert {"0.25", "0.5", "1", "2"} <= set(labels)
    assert all(float(lab) > 0 for lab in labels)
    (ref,) = _by_gid(ax.lines, "refline")
    assert list(ref.get_xdata()) == [1.0, 1.0]
    assert ax.get_xlabel() == "Risk ratio (log scale)"
    # the diamond spans exp(CI) and peaks at exp(estimate) (1e-12)
    (dia,) = _by_gid(ax.patches, "summary-diamond")
    xs = dia.get_xy()[:, 0]
    np.testing.assert_allclose(sorted(set(np.round(xs, 12))),
                               np.round(sorted(np.exp([res.ci_low, res.estimate, res.ci_high])), 12),
                               rtol=1e-12)
    # study CIs are exp(y -+ z sqrt(v)) and the text column shows ratios
    cis = _by_gid(ax.lines, "study-ci")
    z = 1.959963984540054
    np.testing.assert_allclose([c.get_xdata()[0] for c in cis], np.exp(bcg["yi"] - z * np.sqrt(bcg["vi"])),
                               rtol=1e-12)
    first = _texts(fig, "estimate-text")[0]
    assert first == f"{np.exp(bcg['yi'].iloc[0]):.2f} [" + first.split("[")[1]


def test_forest_transform_exp_without_measure_is_on_the_ratio_scale(bcg):
    res = meta_analysis(bcg["yi"], bcg["vi"])
    ax = forest_plot(res, transform="exp").axes[0]
    assert ax.get_xscale() == "log"
    assert list(_by_gid(ax.lines, "refline")[0].get_xdata()) == [1.0, 1.0]
    assert ax.get_xlabel() == "Ratio (log scale)"
    assert "1" in [t.get_text() for t in ax.get_xticklabels()]


def test_forest_transform_none_keeps_the_log_scale_linear_axis(bcg):
    res = meta_analysis(bcg["yi"], bcg["vi"], measure="RR")
    ax = forest_plot(res, transform="none").axes[0]
    assert ax.get_xscale() == "linear"
    assert list(_by_gid(ax.lines, "refline")[0].get_xdata()) == [0.0, 0.0]
    (dia,) = _by_gid(ax.patches, "summary-diamond")
    assert dia.get_xy()[:, 0].min() == pytest.approx(res.ci_low, rel=1e-12)


def test_forest_for_an_additive_measure_is_unchanged(bcg):
    res = meta_analysis(bcg["yi"], bcg["vi"], measure="SMD")
    ax = forest_plot(res, refline=0.5).axes[0]
    assert ax.get_xscale() == "linear"
    assert ax.get_xlabel() == "Effect size"
    assert list(_by_gid(ax.lines, "refline")[0].get_xdata()) == [0.5, 0.5]
    assert not _by_gid(forest_plot(res, refline=None).axes[0].lines, "refline")


def test_forest_ratio_figure_saves(bcg, tmp_path):
    res = meta_analysis(bcg["yi"], bcg["vi"], measure="RR")
    out = tmp_path / "forest_rr.png"
    forest_plot(res, list(bcg["author"])).savefig(out)
    assert out.stat().st_size > 10_000


@pytest.mark.parametrize("low, high", [(0.05, 3.0), (0.3, 4.0), (0.8, 1.3), (0.9, 1.05), (0.001, 500.0),
                                       (0.01, 0.05), (2.0, 3000.0), (1e-6, 1e6)])
def test_ratio_ticks_are_readable_and_inside_the_range(low, high):
    ticks = _ratio_ticks(low, high)
    assert 2 <= len(ticks) <= 9
    assert ticks == sorted(ticks) and all(low <= t <= high for t in ticks)
    assert all(len(f"{t:g}") <= 6 for t in ticks)
    if low <= 1 <= high and high / low >= 4:
        assert 1.0 in ticks


def test_ratio_ticks_are_powers_of_two_for_usual_ranges():
    assert _ratio_ticks(0.2, 5.0) == [0.25, 0.5, 1.0, 2.0, 4.0]


# ------------------------------------------------------------------ apa() on the ratio scale
def test_apa_reports_ratios_when_the_fit_knows_its_measure(bcg):
    res = meta_analysis(bcg["yi"], bcg["vi"], measure="RR")
    text = res.apa()
    est, lo, hi = np.exp([res.estimate, res.ci_low, res.ci_high])
    assert f"pooled risk ratio of {est:.2f}, 95% CI [{lo:.2f}, {hi:.2f}]" in text
    assert f"prediction interval [{np.exp(res.pi_low):.2f}, {np.exp(res.pi_high):.2f}]" in text
    log_text = res.apa(transform="none")
    assert "pooled log risk ratio of \u2212" in log_text
    plain = meta_analysis(bcg["yi"], bcg["vi"]).apa()
    assert plain == log_text.replace("log risk ratio", "effect")
    assert res.measure == "RR" and "ROM" in RATIO_MEASURES


def test_meta_analysis_measure_is_checked(bcg):
    with pytest.raises(ValueError, match=r"`measure` must be None or one of .*got 'ORR'\. Did you mean '(RR|OR)'"):
        meta_analysis(bcg["yi"], bcg["vi"], measure="ORR")
    with pytest.raises(ValueError, match=r"`measure` must be None or one of"):
        meta_analysis(bcg["yi"], bcg["vi"], measure=3)


# ------------------------------------------------------------------ bubble plot
def test_bubble_plot_draws_studies_line_and_band_from_the_fit(bcg):
    res = meta_analysis("yi", "vi", mods="~ ablat", data=bcg)
    fig = bubble_plot(res, "ablat", refline=0.0)
    ax = fig.axes[0]
    (pts,) = _by_gid(ax.collections, "studies")
    xy = pts.get_offsets()
    np.testing.assert_allclose(xy[:, 0], bcg["ablat"], rtol=0, atol=0)
    np.testing.assert_allclose(xy[:, 1], bcg["yi"], rtol=1e-15)
    sizes = pts.get_sizes()
    np.testing.assert_allclose(sizes, 20 + 280 * res.weights / res.weights.max(), rtol=1e-12)
    assert np.argmax(sizes) == np.argmax(res.weights)
    (line,) = _by_gid(ax.lines, "regression-line")
    gx, gy = line.get_xdata(), line.get_ydata()
    assert gx[0] == bcg["ablat"].min() and gx[-1] == bcg["ablat"].max() and len(gx) == 200
    np.testing.assert_allclose(gy, res.beta[0] + res.beta[1] * gx, rtol=1e-12)
    (band,) = _by_gid(ax.collections, "ci-band")
    verts = band.get_paths()[0].vertices
    pred = res.predict(newmods=gx[:, None])
    assert verts[:, 1].min() == pytest.approx(min(pred.ci_low.min(), pred.ci_high.min()), rel=1e-12)
    assert verts[:, 1].max() == pytest.approx(pred.ci_high.max(), rel=1e-12)
    assert ax.get_xlabel() == "ablat" and ax.get_ylabel() == "Effect size"
    assert list(_by_gid(ax.lines, "refline")[0].get_ydata()) == [0.0, 0.0]


def test_bubble_plot_of_a_ratio_measure_uses_a_log_axis(bcg, tmp_path):
    res = meta_analysis("yi", "vi", mods="~ ablat", data=bcg, measure="RR")
    fig = bubble_plot(res, "ablat", refline=1.0, show_prediction=True, labels=list(bcg["author"]))
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert "1" in [t.get_text() for t in ax.get_yticklabels()]
    np.testing.assert_allclose(_by_gid(ax.collections, "studies")[0].get_offsets()[:, 1], np.exp(bcg["yi"]),
                               rtol=1e-12)
    (line,) = _by_gid(ax.lines, "regression-line")
    np.testing.assert_allclose(line.get_ydata(), np.exp(res.beta[0] + res.beta[1] * line.get_xdata()), rtol=1e-12)
    assert _by_gid(ax.lines, "pi-band")
    assert ax.get_ylabel() == "Risk ratio (log scale)"
    fig.savefig(tmp_path / "bubble.png")
    assert (tmp_path / "bubble.png").stat().st_size > 5_000


def test_bubble_plot_holds_other_moderators_at_their_means(bcg):
    res = meta_analysis("yi", "vi", mods="~ ablat + year", data=bcg)
    ax = bubble_plot(res, 2, show_ci=False).axes[0]
    assert not _by_gid(ax.collections, "ci-band")
    (line,) = _by_gid(ax.lines, "regression-line")
    gx = line.get_xdata()
    expected = res.beta[0] + res.beta[1] * bcg["ablat"].mean() + res.beta[2] * gx
    np.testing.assert_allclose(line.get_ydata(), expected, rtol=1e-12)
    assert ax.get_xlabel() == "year"


@given(low=st.floats(1e-6, 1e6), factor=st.floats(1.01, 1e6))
@settings(max_examples=60)
def test_ratio_ticks_property(low, factor):
    """For any positive range: 2 to 9 sorted ticks, all inside it, 1 among them when the range
    holds 1 and spans at least a factor 4."""
    high = low * factor
    ticks = _ratio_ticks(low, high)
    assert 2 <= len(ticks) <= 9
    assert ticks == sorted(set(ticks)) and all(low <= t <= high for t in ticks)
    if low <= 1 <= high and factor >= 4:
        assert 1.0 in ticks
