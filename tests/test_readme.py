"""The README's promises: two commands, .ci/run calling the test command, a current headline figure."""

import re
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_quick_start_is_exactly_two_make_commands():
    block = re.search(r"## Quick start.*?```bash\n(.*?)```", README, re.S)
    assert block, "README has no Quick start code block"
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]
    assert commands == ["make reproduce", "make test"]


def test_ci_runs_the_readme_test_command():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    lines = [l.strip() for l in script.splitlines() if l.strip() and not l.strip().startswith("#")]
    assert lines[-1] == "make test"


def test_readme_links_the_index_and_shows_the_headline_figure():
    assert "reports/index.html" in README
    image = re.search(r"!\[[^\]]*\]\(([^)]+)\)", README)
    assert image and (ROOT / image.group(1)).exists()


@pytest.mark.notebooks
def test_headline_copy_matches_the_reproduced_figure(reproduction):
    """docs/ holds a copy for the README; it must not drift from what notebook 01 draws.

    Compared as pixels (not bytes) so that a different freetype build does not fail it;
    tolerance: mean absolute difference below 0.5% of the intensity range.
    """
    copy = mpimg.imread(ROOT / "docs" / "headline_relationship_vs_technique.png")
    fresh = mpimg.imread(reproduction.figures / "01_headline_relationship_vs_technique.png")
    assert copy.shape == fresh.shape
    assert float(np.mean(np.abs(copy - fresh))) < 0.005
