"""save_figure never truncates a file that is not a figure (issue 13: no lost file)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from analysis.plots import save_figure  # noqa: E402


@pytest.fixture
def fig():
    figure, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    yield figure
    plt.close(figure)


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_save_figure_refuses_to_overwrite_a_non_figure(tmp_path, fig, fmt):
    precious = tmp_path / f"results.{fmt}"
    precious.write_text("study,yi,vi\nA,0.1,0.01\n", encoding="utf-8")
    with pytest.raises(ValueError, match=rf"`name`: .*results\.{fmt} exists and is not a {fmt.upper()} figure"):
        save_figure(fig, "results", directory=tmp_path)
    assert precious.read_text(encoding="utf-8") == "study,yi,vi\nA,0.1,0.01\n"
    # nothing was written for the other formats either
    assert sorted(p.name for p in tmp_path.iterdir()) == [precious.name]


def test_save_figure_refuses_a_folder_of_that_name(tmp_path, fig):
    (tmp_path / "results.svg").mkdir()
    with pytest.raises(ValueError, match="results.svg exists and is not a SVG figure"):
        save_figure(fig, "results", directory=tmp_path)


def test_save_figure_overwrites_its_own_figures(tmp_path, fig):
    first = save_figure(fig, "diag", directory=tmp_path)
    data = {fmt: p.read_bytes() for fmt, p in first.items()}
    (tmp_path / "empty.png").write_bytes(b"")
    save_figure(fig, "empty", directory=tmp_path)  # an empty file holds nothing to lose
    second = save_figure(fig, "diag", directory=tmp_path)
    assert {fmt: p.read_bytes() for fmt, p in second.items()} == data
