"""Bad input for the lesson figures of notebooks 01 and 08 (analysis.plots block A: one_scale_plot,
tolerance_plot): every refusal is a ValueError naming the argument, the column and the rows."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from analysis import plots  # noqa: E402
from analysis.plots import interval_plot, one_scale_plot, r_scale_plot, tolerance_plot  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def scale_rows() -> pd.DataFrame:
    return pd.DataFrame({"element": ["Empathy", "Adherence", "Added component"],
                         "side": ["relationship", "technique", "technique"], "measure": ["r", "r", "d"],
                         "status": ["checked", "checked", "unchecked"], "r_estimate": [0.28, 0.02, 0.07],
                         "r_ci_low": [0.23, np.nan, np.nan], "r_ci_high": [0.33, np.nan, np.nan],
                         "pct_variance": [7.84, 0.04, 0.49]})


def tolerance_rows() -> pd.DataFrame:
    return pd.DataFrame({"section": ["A", "A", "B"], "printed": ["0.62", "12", "-0.5429"],
                         "ours": [0.6231, 12.0, -0.5430], "tolerance": [0.005, 0.0, 5e-5],
                         "status": ["pass", "pass", "FAIL"]})


def test_good_input_draws():
    fig = one_scale_plot(scale_rows())
    assert fig.axes[0].get_xlabel().startswith("correlation with outcome")
    fig = tolerance_plot(tolerance_rows())
    assert len(fig.axes[0].collections) == 2  # one scatter per section


def test_one_scale_plot_refuses_non_frames_and_empty():
    with pytest.raises(ValueError, match=r"`rows` must be a pandas DataFrame, got dict"):
        one_scale_plot({"element": ["x"]})
    with pytest.raises(ValueError, match=r"`rows` must be a pandas DataFrame, got NoneType"):
        plots.one_scale_plot(None)
    with pytest.raises(ValueError, match=r"`rows` has 0 rows"):
        one_scale_plot(scale_rows().iloc[:0])


def test_one_scale_plot_names_a_missing_column_with_a_suggestion():
    with pytest.raises(ValueError, match=r"Column 'r_estimate' is not in `rows`\. Did you mean 'r_estimat'"):
        one_scale_plot(scale_rows().rename(columns={"r_estimate": "r_estimat"}))


@pytest.mark.parametrize("column, value, message", [
    ("side", "common factor", r"column 'side' must be 'relationship' or 'technique'; index labels 1"),
    ("r_estimate", np.nan, r"column 'r_estimate' must be finite; index labels 1"),
    ("pct_variance", np.inf, r"column 'pct_variance' must be finite; index labels 1"),
    ("r_estimate", 1.0, r"column 'r_estimate' must be a correlation between -1 and 1; index labels 1"),
    ("r_ci_high", -3.0, r"column 'r_ci_high' must be a correlation between -1 and 1; index labels 1"),
    ("r_estimate", "a lot", r"column 'r_estimate' must hold numbers"),
])
def test_one_scale_plot_names_the_bad_rows(column, value, message):
    rows = scale_rows().astype({column: object})
    rows.loc[1, column] = value
    with pytest.raises(ValueError, match=message):
        one_scale_plot(rows)


def test_one_scale_plot_single_row_draws():
    fig = one_scale_plot(scale_rows().iloc[:1], title="one row")
    assert fig.texts[0].get_text() == "one row"


def test_tolerance_plot_refuses_non_frames_empty_and_missing_columns():
    with pytest.raises(ValueError, match=r"`rows` must be a pandas DataFrame, got list"):
        tolerance_plot([1, 2])
    with pytest.raises(ValueError, match=r"`rows` has 0 rows"):
        plots.tolerance_plot(tolerance_rows().iloc[:0])
    with pytest.raises(ValueError, match=r"Column 'tolerance' is not in `rows`\. Did you mean 'tolerence'"):
        tolerance_plot(tolerance_rows().rename(columns={"tolerance": "tolerence"}))


@pytest.mark.parametrize("column, value, message", [
    ("printed", "n/a", r"column 'printed' must hold finite numbers; index labels 2"),
    ("ours", np.nan, r"column 'ours' must hold finite numbers; index labels 2"),
    ("tolerance", np.inf, r"column 'tolerance' must hold finite numbers; index labels 2"),
    ("tolerance", -0.01, r"column 'tolerance' must be >= 0; index labels 2 are negative"),
])
def test_tolerance_plot_names_the_bad_rows(column, value, message):
    rows = tolerance_rows().astype({column: object})
    rows.loc[2, column] = value
    with pytest.raises(ValueError, match=message):
        tolerance_plot(rows)


@pytest.mark.parametrize("clip", [0, -1.0, np.nan, np.inf, "3", None, True])
def test_tolerance_plot_refuses_a_bad_clip(clip):
    with pytest.raises(ValueError, match=r"`clip` must be a positive number"):
        tolerance_plot(tolerance_rows(), clip=clip)


@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_tolerance_plot_extreme_magnitudes_clip(scale):
    rows = tolerance_rows().assign(ours=lambda f: f["ours"] * 0 + scale, tolerance=[scale * 1e-3, 0.0, 1.0])
    fig = tolerance_plot(rows)
    offsets = np.concatenate([c.get_offsets()[:, 0] for c in fig.axes[0].collections])
    assert np.all(np.abs(offsets) <= 3.0) and np.all(np.isfinite(offsets))


# --------------------------------------------------------------------------- notebook 02's figures

def means() -> pd.DataFrame:
    return pd.DataFrame({"estimate": [0.76, 0.61, 0.69], "ci_low": [0.70, 0.35, np.nan],
                         "ci_high": [0.82, 0.87, np.nan], "trials": [250, 15, 38]}, index=["cbt", "sup", "bat"])


def contrasts() -> pd.DataFrame:
    return pd.DataFrame({"label": ["group vs individual", "adding BA"], "group": ["therapist contact", "technique"],
                         "r": [-0.05, 0.02], "r_lo": [-0.10, -0.08], "r_hi": [0.0, 0.12]})


def published_r() -> pd.DataFrame:
    return pd.DataFrame({"element": ["Empathy", "Adherence"], "side": ["relationship", "technique"],
                         "estimate": [0.28, 0.02], "ci_low": [0.23, np.nan], "ci_high": [0.33, np.nan]})


def test_interval_and_r_scale_plots_draw_good_input():
    fig = interval_plot(means(), n="trials", highlight="sup", highlight_label="supportive",
                        refline=0.7, refline_label="all", r_axis=True, title="t")
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()][0] == "cbt (250 trials)"
    fig = r_scale_plot(contrasts(), published_r().iloc[:0])  # no published rows: only ours
    assert len(fig.axes[0].get_yticklabels()) == 2


def test_interval_plot_refuses_bad_tables():
    with pytest.raises(ValueError, match=r"`table` must be a pandas DataFrame, got dict"):
        interval_plot({"estimate": [1.0]})
    with pytest.raises(ValueError, match=r"`table` has 0 rows"):
        plots.interval_plot(means().iloc[:0])
    with pytest.raises(ValueError, match=r"Column 'trails' \(given as `n`\) is not in `table`\. Did you mean 'trials'"):
        interval_plot(means(), n="trails")


@pytest.mark.parametrize("column, value, message", [
    ("estimate", np.nan, r"column 'estimate' must be finite; index labels sup"),
    ("estimate", np.inf, r"column 'estimate' must be finite; index labels sup"),
    ("ci_high", -np.inf, r"column 'ci_high' must be finite; index labels sup"),
    ("ci_low", 0.7, r"the interval must contain the estimate .*index labels sup"),
    ("estimate", "big", r"column 'estimate' must hold numbers"),
])
def test_interval_plot_names_the_bad_rows(column, value, message):
    table = means().astype({column: object})
    table.loc["sup", column] = value
    with pytest.raises(ValueError, match=message):
        interval_plot(table)


@pytest.mark.parametrize("kwargs, message", [
    ({"highlight": "supp"}, r"`highlight` 'supp' is not an index label of `table`\. Did you mean 'sup'"),
    ({"colour": 99}, r"`colour` must be an index of OKABE_ITO"),
    ({"colour": True}, r"`colour` must be an index of OKABE_ITO"),
    ({"colour": "blue"}, r"`colour` must be an index of OKABE_ITO"),
])
def test_interval_plot_refuses_bad_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        interval_plot(means(), **kwargs)


def test_r_scale_plot_refuses_bad_tables():
    with pytest.raises(ValueError, match=r"`contrasts` must be a pandas DataFrame, got NoneType"):
        r_scale_plot(None, published_r())
    with pytest.raises(ValueError, match=r"`contrasts` has 0 rows"):
        plots.r_scale_plot(contrasts().iloc[:0], published_r())
    with pytest.raises(ValueError, match=r"`published` must be a pandas DataFrame, got list"):
        r_scale_plot(contrasts(), [0.28])
    with pytest.raises(ValueError, match=r"Column 'r_hi' is not in `contrasts`\. Did you mean 'r_high'"):
        r_scale_plot(contrasts().rename(columns={"r_hi": "r_high"}), published_r())
    with pytest.raises(ValueError, match=r"Column 'side' is not in `published`\. Did you mean 'sides'"):
        r_scale_plot(contrasts(), published_r().rename(columns={"side": "sides"}))


@pytest.mark.parametrize("which, column, value, message", [
    ("contrasts", "r", np.nan, r"`contrasts` column 'r' must be finite; index labels 1"),
    ("contrasts", "r_lo", 0.5, r"`contrasts`: the interval must contain the estimate .*index labels 1"),
    ("contrasts", "r_hi", 1.5, r"`contrasts`: the interval must contain|`contrasts` holds correlations outside"),
    ("contrasts", "r", 2.0, r"`contrasts`: the interval must contain|`contrasts` holds correlations outside"),
    ("published", "estimate", -1.0, r"`published`: the interval must contain|`published` holds correlations outside"),
    ("published", "side", "common factor", r"`published` column 'side' must be 'relationship' or 'technique'; index labels 1"),
    ("published", "estimate", "n/a", r"`published` column 'estimate' must hold numbers"),
])
def test_r_scale_plot_names_the_bad_rows(which, column, value, message):
    tables = {"contrasts": contrasts(), "published": published_r()}
    tables[which] = tables[which].astype({column: object})
    tables[which].loc[1, column] = value
    with pytest.raises(ValueError, match=message):
        r_scale_plot(tables["contrasts"], tables["published"])


def test_r_scale_plot_refuses_correlations_outside_the_unit_interval():
    with pytest.raises(ValueError, match=r"`contrasts` holds correlations outside \(-1, 1\); index labels 1"):
        r_scale_plot(contrasts().assign(r_hi=[0.0, 1.2]), published_r())
