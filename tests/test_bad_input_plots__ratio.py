"""Bad input for bubble_plot and the ratio-scale options of forest_plot (issue 14 item 6, issue 16
item 4): every refusal is a ValueError naming the argument."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from analysis import plots  # noqa: E402
from analysis.meta import meta_analysis  # noqa: E402
from analysis.plots import bubble_plot, forest_plot  # noqa: E402

YI = [-0.9, -1.6, -1.4, -1.5, -0.2, -1.0, -1.6, 0.0, -0.5]
VI = [0.36, 0.21, 0.43, 0.02, 0.05, 0.01, 0.23, 0.004, 0.06]
LAT = [44, 55, 42, 52, 13, 44, 19, 13, 27]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def reg():
    return meta_analysis(YI, VI, mods=np.column_stack([LAT, np.arange(9.0)]), measure="RR")


def test_bubble_plot_needs_a_meta_regression():
    with pytest.raises(ValueError, match=r"`model` must be a MetaResult .*got dict"):
        bubble_plot({"yi": YI}, "mod1")
    with pytest.raises(ValueError, match=r"`model` must be a MetaResult .*got NoneType"):
        plots.bubble_plot(None, "mod1")
    with pytest.raises(ValueError, match=r"`model` has no moderators"):
        bubble_plot(meta_analysis(YI, VI), "mod1")


def test_bubble_plot_moderator_names_and_positions(reg):
    with pytest.raises(ValueError, match=r"`moderator` 'mod11' is not a coefficient of `model`\. Did you mean 'mod1'\?"):
        bubble_plot(reg, "mod11")
    with pytest.raises(ValueError, match=r"`moderator` 'intrcpt' is the intercept; choose a moderator \(mod1, mod2\)"):
        bubble_plot(reg, "intrcpt")
    with pytest.raises(ValueError, match=r"`moderator` 'intrcpt' is the intercept"):
        bubble_plot(reg, 0)
    with pytest.raises(ValueError, match=r"`moderator` position 3 is out of range: `model` has 3 coefficients"):
        bubble_plot(reg, 3)
    with pytest.raises(ValueError, match=r"`moderator` position -1 is out of range"):
        bubble_plot(reg, -1)
    with pytest.raises(ValueError, match=r"`moderator` must be a coefficient name or position, got float"):
        bubble_plot(reg, 1.0)
    with pytest.raises(ValueError, match=r"`moderator` must be a coefficient name or position, got bool"):
        bubble_plot(reg, True)


def test_bubble_plot_constant_moderator_labels_grid_and_refline(reg):
    # without an intercept a constant column is a legitimate moderator, but there is no line to draw
    frame = pd.DataFrame({"yi": YI, "vi": VI, "lat": LAT, "one": 1.0})
    const = meta_analysis("yi", "vi", mods="~ 0 + lat + one", data=frame)
    with pytest.raises(ValueError, match=r"`moderator` 'one' takes one value \(1\) in every study"):
        bubble_plot(const, "one")
    with pytest.raises(ValueError, match=r"`labels` has 2 entries but the result has k = 9 studies"):
        bubble_plot(reg, "mod1", labels=["a", "b"])
    with pytest.raises(ValueError, match=r"`labels` must be a sequence .*got a string"):
        bubble_plot(reg, "mod1", labels="abc")
    for bad in (1, 0, -5, 2.5, True):
        with pytest.raises(ValueError, match=r"`n_grid` must be an integer >= 2"):
            bubble_plot(reg, "mod1", n_grid=bad)
    with pytest.raises(ValueError, match=r"`refline` must be > 0 on the ratio \(log\) scale"):
        bubble_plot(reg, "mod1", refline=0.0)
    with pytest.raises(ValueError, match=r"`transform` must be a callable or one of"):
        bubble_plot(reg, "mod1", transform="exponential")


def test_forest_plot_ratio_refline_must_be_positive():
    res = meta_analysis(YI, VI, measure="OR")
    with pytest.raises(ValueError, match=r"`refline` must be > 0 on the ratio \(log\) scale .*got 0\.0"):
        forest_plot(res, refline=0.0)
    with pytest.raises(ValueError, match=r"`refline` must be > 0 on the ratio"):
        forest_plot(meta_analysis(YI, VI), transform="exp", refline=-1.0)
    with pytest.raises(ValueError, match=r"`refline` must be a number, 'auto' or None; got 'one'"):
        forest_plot(res, refline="one")


@pytest.mark.parametrize("scale", [1e3, 1e50])
def test_log_ratios_too_large_for_the_ratio_scale_are_refused(scale):
    """exp() of a log ratio beyond 700 overflows: a clear refusal instead of an inf axis."""
    yi = np.array(YI) * scale
    res = meta_analysis(yi, np.array(VI) * scale**2, measure="OR", method="DL")
    with pytest.raises(ValueError, match=r"`result` has log ratios .*too large to draw on the ratio scale"):
        forest_plot(res)
    reg = meta_analysis(yi, np.array(VI) * scale**2, mods=np.array(LAT, float), measure="OR", method="DL")
    with pytest.raises(ValueError, match=r"`model` has log ratios .*transform='none'"):
        bubble_plot(reg, "mod1")
    if scale < 1e10:  # the log scale itself draws (1e50 only squeezes the text columns)
        assert forest_plot(res, transform="none").axes[0].get_xscale() == "linear"
