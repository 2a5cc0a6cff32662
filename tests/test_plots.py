"""Tests of the house style and the reproducible figure export."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib as mpl  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from analysis import plots  # noqa: E402

# A figure with the elements whose export tends to carry random ids or dates:
# clip paths (scatter), text and math (glyph definitions), a legend, an image.
_SCRIPT = textwrap.dedent(
    """
    import sys
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from analysis.plots import set_style, save_figure

    set_style()
    rng = np.random.default_rng(1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(7, 3))
    x = np.linspace(0, 1, 40)
    ax1.plot(x, x ** 2, label="alliance")
    ax1.scatter(x, rng.normal(size=40), label="technique")
    ax1.set_title(r"Effect $r = .28$")
    ax1.legend()
    ax2.imshow(rng.random((8, 8)))
    save_figure(fig, "determinism", directory=sys.argv[1])
    """
)


def _save_in_fresh_process(directory: Path, hashseed: str) -> None:
    env = dict(os.environ, PYTHONHASHSEED=hashseed, MPLBACKEND="Agg")
    # A different SOURCE_DATE_EPOCH must not matter either: no dates at all.
    env.pop("SOURCE_DATE_EPOCH", None)
    subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(directory)], check=True, env=env, timeout=120
    )


def test_save_figure_is_byte_identical_across_processes(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    # Different hash seeds: set/dict ordering inside matplotlib must not leak.
    _save_in_fresh_process(first, "1")
    _save_in_fresh_process(second, "2")
    for fmt in plots.FIGURE_FORMATS:
        a = (first / f"determinism.{fmt}").read_bytes()
        b = (second / f"determinism.{fmt}").read_bytes()
        assert len(a) > 1000, fmt
        assert a == b, f"{fmt} export differs between runs"


def test_exports_have_no_dates(tmp_path):
    _save_in_fresh_process(tmp_path, "0")
    svg = (tmp_path / "determinism.svg").read_text()
    pdf = (tmp_path / "determinism.pdf").read_bytes()
    assert "<dc:date>" not in svg
    assert b"/CreationDate" not in pdf
    assert b"/ModDate" not in pdf


def test_save_figure_writes_three_formats_at_300_dpi(tmp_path):
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [1, 0])
    paths = plots.save_figure(fig, "small_figure-1", directory=tmp_path)
    plt.close(fig)
    assert set(paths) == {"png", "svg", "pdf"}
    assert paths["png"] == tmp_path / "small_figure-1.png"
    with Image.open(paths["png"]) as im:
        dpi_x, dpi_y = im.info["dpi"]
        width, _ = im.size
    assert dpi_x == pytest.approx(300, abs=0.01)
    assert dpi_y == pytest.approx(300, abs=0.01)
    # 2 inches wide at 300 dpi, give or take the tight bounding box.
    assert 450 < width < 700
    assert paths["svg"].read_text().lstrip().startswith("<?xml")
    assert paths["pdf"].read_bytes().startswith(b"%PDF")


def test_save_figure_overwrites(tmp_path):
    fig, ax = plt.subplots()
    plots.save_figure(fig, "f", directory=tmp_path)
    ax.plot([0, 1], [0, 1])
    before = (tmp_path / "f.png").read_bytes()
    plots.save_figure(fig, "f", directory=tmp_path)
    plt.close(fig)
    assert (tmp_path / "f.png").read_bytes() != before


def test_default_directory_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ALLIANCE_REPORTS_DIR", str(tmp_path))
    assert plots.figures_dir() == tmp_path / "figures"
    fig, _ = plt.subplots()
    paths = plots.save_figure(fig, "env_figure")
    plt.close(fig)
    assert paths["pdf"] == tmp_path / "figures" / "env_figure.pdf"
    assert paths["pdf"].exists()


def test_default_directory_without_environment(tmp_path, monkeypatch):
    # Only `make reproduce` writes reports/: a run by hand saves into ./alliance-output/figures
    # (the rule is tested in detail in test_interactive_runs.py).
    monkeypatch.delenv("ALLIANCE_REPORTS_DIR", raising=False)
    monkeypatch.delenv("ALLIANCE_OUTPUT_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    root = Path(plots.__file__).resolve().parents[2]  # analysis/plots/__init__.py -> the repository
    assert plots.figures_dir() == tmp_path / "alliance-output" / "figures"
    assert root / "reports" not in plots.figures_dir().parents


@pytest.mark.parametrize(
    "bad",
    ["", "a/b", "a\\b", "../up", "fig.png", "fig.", ".hidden", "with space", "-lead", "x" * 101,
     None, 3, Path("fig")],
)
def test_bad_names_raise(tmp_path, bad):
    fig, _ = plt.subplots()
    try:
        with pytest.raises(ValueError, match="`name`"):
            plots.save_figure(fig, bad, directory=tmp_path)
    finally:
        plt.close(fig)
    assert not any(tmp_path.iterdir()), "nothing may be written for a bad name"


def test_non_figure_raises(tmp_path):
    fig, ax = plt.subplots()
    try:
        with pytest.raises(ValueError, match="`fig`"):
            plots.save_figure(ax, "axes", directory=tmp_path)
    finally:
        plt.close(fig)


def test_set_style_applies_house_style():
    with mpl.rc_context():
        plots.set_style()
        assert mpl.rcParams["font.family"] == ["DejaVu Sans"]
        assert mpl.rcParams["savefig.dpi"] == 300
        cycle = [mpl.colors.to_hex(c["color"]).upper() for c in mpl.rcParams["axes.prop_cycle"]]
        assert cycle[: len(plots.OKABE_ITO)] == [c.upper() for c in plots.OKABE_ITO]


def test_set_style_rejects_unknown_context():
    with pytest.raises(ValueError, match="`context`"):
        plots.set_style("huge")


def test_returned_mapping_shows_no_folder(tmp_path):
    fig, _ = plt.subplots()
    paths = plots.save_figure(fig, "shown", directory=tmp_path)
    plt.close(fig)
    assert isinstance(paths, dict)
    assert repr(paths) == "SavedFigure('shown': png, svg, pdf)"
    # What a notebook cell ending in save_figure(...) displays.
    from IPython.lib.pretty import pretty

    assert str(tmp_path) not in pretty(paths)
