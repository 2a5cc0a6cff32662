"""tools/reproduce.py deletes only what it generates (issue 13: no lost file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis import ledger
from conftest import REPO_ROOT, load_runner

runner = load_runner()


def _layout(reports: Path, ledger_file: Path | None = None):
    return runner.Layout(notebooks=reports / "nb", reports=reports,
                         ledger=ledger_file or reports / "ledger.csv")


def test_clean_deletes_generated_outputs_and_keeps_everything_else(tmp_path):
    reports = tmp_path / "reports"
    generated = ["index.html", "index.pdf", "old-layout.png", "figures/a.png", "figures/a.svg",
                 "figures/a.pdf", "notebooks/00_tour.html", "notebooks/mathjax/MathJax.js",
                 "notebooks/mathjax/config/x.js"]
    kept = ["README.md", "notes.txt", "figures/my_notes.md", "notebooks/draft.ipynb", "extra/keep.png"]
    for rel in generated + kept:
        (reports / rel).parent.mkdir(parents=True, exist_ok=True)
        (reports / rel).write_text(rel, encoding="utf-8")
    ledger.record("c", 1.0, 1.0, 0.0, "s", "oracle", notebook="nb", path=reports / "ledger.csv")
    runner.clean_outputs(_layout(reports))
    for rel in generated:
        assert not (reports / rel).exists(), rel
    for rel in kept:
        assert (reports / rel).read_text(encoding="utf-8") == rel, rel
    assert ledger.read_ledger(reports / "ledger.csv").empty
    assert (reports / "figures").is_dir() and (reports / "notebooks").is_dir()


def test_clean_refuses_a_ledger_path_that_is_not_a_ledger(tmp_path):
    reports = tmp_path / "reports"
    (reports / "figures").mkdir(parents=True)
    (reports / "figures" / "old.png").write_bytes(b"old")
    data = tmp_path / "trial.csv"
    data.write_text("id,y\n1,2\n", encoding="utf-8")
    with pytest.raises(runner.ReproductionError, match=r"ledger was not reset: .*trial\.csv is not a ledger file"):
        runner.clean_outputs(_layout(reports, data))
    assert data.read_text(encoding="utf-8") == "id,y\n1,2\n"
    assert (reports / "figures" / "old.png").exists()  # nothing deleted when the run is refused


def test_repository_reports_folder_has_its_readme():
    readme = REPO_ROOT / "reports" / "README.md"
    assert readme.is_file() and "make reproduce" in readme.read_text(encoding="utf-8")
    for pattern in runner.GENERATED:
        assert not Path(pattern).match("README.md")


def test_gitignore_ignores_outputs_but_not_the_readme():
    import shutil
    import subprocess

    if shutil.which("git") is None or not (REPO_ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    def ignored(rel: str) -> bool:
        done = subprocess.run(["git", "check-ignore", "-q", "--no-index", rel], cwd=REPO_ROOT)
        assert done.returncode in (0, 1), rel
        return done.returncode == 0

    assert not ignored("reports/README.md")
    for rel in ("reports/index.html", "reports/index.pdf", "reports/ledger.csv", "reports/figures/a.png",
                "reports/notebooks/00_tour.html"):
        assert ignored(rel), rel
