"""Only ``make reproduce`` writes reports/ (issue 17, item 3: the user's files and the reports are sacred).

A notebook run by hand (JupyterLab, ``jupyter nbconvert --execute``) or a user's script calling
``plots.save_figure`` / ``ledger.record`` without ``ALLIANCE_REPORTS_DIR`` writes into the output
folder (``$ALLIANCE_OUTPUT_DIR``, else ``./alliance-output/``) and says so once per process; the
repository's ``reports/`` is left byte-for-byte unchanged.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import pytest  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

from analysis import _outputs, ledger, plots  # noqa: E402
from conftest import NOTEBOOKS_DIR, REPO_ROOT  # noqa: E402

REPORTS = REPO_ROOT / "reports"
ENV_VARS = ("ALLIANCE_REPORTS_DIR", "ALLIANCE_LEDGER", "ALLIANCE_OUTPUT_DIR", "ALLIANCE_NOTEBOOK")


def tree_hashes(folder: Path) -> dict[str, str]:
    """{relative path: sha256} of every file below `folder` (links by their target's bytes)."""
    if not folder.exists():
        return {}
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def by_hand(tmp_path, monkeypatch):
    """A run by hand: no ALLIANCE_* variable, the current folder a fresh tmp folder, nothing announced yet."""
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(_outputs, "_announced", set())
    return work


@pytest.fixture
def fig():
    figure, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    yield figure
    plt.close(figure)


def _record(**kwargs):
    return ledger.record("c", 1.0, 1.0, 0.0, "s", "oracle", notebook="nb", **kwargs)


# --------------------------------------------------------------------------- the default-folder rule


def test_default_is_alliance_output_in_the_current_folder(by_hand):
    assert plots.figures_dir() == by_hand / "alliance-output" / "figures"
    assert ledger.ledger_path() == by_hand / "alliance-output" / "ledger.csv"
    assert not (by_hand / "alliance-output").exists()  # asking writes nothing


def test_output_dir_variable_moves_the_folder(by_hand, tmp_path, monkeypatch):
    monkeypatch.setenv("ALLIANCE_OUTPUT_DIR", str(tmp_path / "mine"))
    assert plots.figures_dir() == tmp_path / "mine" / "figures"
    assert ledger.ledger_path() == tmp_path / "mine" / "ledger.csv"


def test_reports_variables_win_as_under_make_reproduce(by_hand, tmp_path, monkeypatch):
    monkeypatch.setenv("ALLIANCE_OUTPUT_DIR", str(tmp_path / "mine"))
    monkeypatch.setenv("ALLIANCE_REPORTS_DIR", str(tmp_path / "rep"))
    assert plots.figures_dir() == tmp_path / "rep" / "figures"
    assert ledger.ledger_path() == tmp_path / "rep" / "ledger.csv"
    monkeypatch.setenv("ALLIANCE_LEDGER", str(tmp_path / "explicit.csv"))
    assert ledger.ledger_path() == tmp_path / "explicit.csv"


def test_explicit_arguments_win(by_hand, tmp_path):
    assert plots.figures_dir(tmp_path / "f") == tmp_path / "f"
    assert ledger.ledger_path(tmp_path / "l.csv") == tmp_path / "l.csv"


def test_current_folder_inside_reports_puts_the_folder_beside_reports(by_hand, monkeypatch):
    monkeypatch.chdir(REPORTS)
    assert plots.figures_dir() == REPO_ROOT / "alliance-output" / "figures"
    assert ledger.ledger_path() == REPO_ROOT / "alliance-output" / "ledger.csv"


def test_output_dir_variable_inside_reports_is_refused(by_hand, monkeypatch, fig):
    before = tree_hashes(REPORTS)
    monkeypatch.setenv("ALLIANCE_OUTPUT_DIR", str(REPORTS / "scratch"))
    with pytest.raises(ValueError, match=r"ALLIANCE_OUTPUT_DIR .* inside the workbook's reports folder"):
        plots.figures_dir()
    with pytest.raises(ValueError, match=r"ALLIANCE_OUTPUT_DIR .* only `make reproduce` writes"):
        plots.save_figure(fig, "nope")
    with pytest.raises(ValueError, match=r"ALLIANCE_OUTPUT_DIR .* inside the workbook's reports folder"):
        _record()
    assert tree_hashes(REPORTS) == before


def test_output_folder_that_is_a_file_is_refused_and_kept(by_hand, fig):
    precious = by_hand / "alliance-output"
    precious.write_text("my notes\n", encoding="utf-8")
    with pytest.raises(ValueError, match="alliance-output exists and is not a folder"):
        plots.save_figure(fig, "f")
    with pytest.raises(ValueError, match="alliance-output exists and is not a folder"):
        _record()
    assert precious.read_text(encoding="utf-8") == "my notes\n"


def test_save_figure_by_hand_writes_the_output_folder_and_says_so_once(by_hand, fig, capsys):
    first = plots.save_figure(fig, "one")
    second = plots.save_figure(fig, "two")
    folder = by_hand / "alliance-output" / "figures"
    assert first["png"] == folder / "one.png" and second["svg"] == folder / "two.svg"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{n}.{fmt}" for n in ("one", "two") for fmt in ("png", "svg", "pdf"))
    err = capsys.readouterr().err
    assert err.count("figures are saved to") == 1
    assert f"figures are saved to {folder} " in err
    assert "ALLIANCE_OUTPUT_DIR" in err and "`directory=`" in err


def test_record_by_hand_writes_a_scratch_ledger_and_says_so_once(by_hand, capsys):
    _record()
    _record()
    scratch = by_hand / "alliance-output" / "ledger.csv"
    assert len(ledger.read_ledger(scratch)) == 2
    assert len(ledger.read_ledger()) == 2  # reading follows the same rule
    err = capsys.readouterr().err
    assert err.count("ledger rows are saved to") == 1
    assert f"ledger rows are saved to {scratch} " in err


def test_no_message_under_make_reproduce_or_with_explicit_paths(by_hand, tmp_path, monkeypatch, fig, capsys):
    plots.save_figure(fig, "explicit", directory=tmp_path / "f")
    _record(path=tmp_path / "l.csv")
    monkeypatch.setenv("ALLIANCE_REPORTS_DIR", str(tmp_path / "rep"))
    monkeypatch.setenv("ALLIANCE_LEDGER", str(tmp_path / "rep" / "ledger.csv"))
    plots.save_figure(fig, "reproduce")
    _record()
    assert (tmp_path / "rep" / "figures" / "reproduce.png").exists()
    assert len(ledger.read_ledger(tmp_path / "rep" / "ledger.csv")) == 1
    assert capsys.readouterr().err == ""
    assert not (by_hand / "alliance-output").exists()


def test_scratch_ledger_keeps_refusing_a_file_that_is_not_a_ledger(by_hand):
    folder = by_hand / "alliance-output"
    folder.mkdir()
    (folder / "ledger.csv").write_text("study,yi\nA,0.1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="is not a ledger file"):
        _record()
    assert (folder / "ledger.csv").read_text(encoding="utf-8") == "study,yi\nA,0.1\n"


# --------------------------------------------------------------------------- a notebook run by hand


@pytest.mark.notebooks
def test_tour_run_by_hand_leaves_reports_unchanged(tmp_path):
    """notebooks/00_tour.ipynb executed with nbclient outside `make reproduce` (as nbconvert --execute does)."""
    before = tree_hashes(REPORTS)
    work = tmp_path / "work"
    work.mkdir()
    notebook = work / "00_tour.ipynb"
    shutil.copy(NOTEBOOKS_DIR / "00_tour.ipynb", notebook)
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS and k != "MPLBACKEND"}
    # The kernel imports this checkout's `analysis` (a worktree beside an editable install too).
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    env["PYTHONHASHSEED"] = "0"
    nb = nbformat.read(notebook, as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(work)}})
    client.execute(env=env)

    assert tree_hashes(REPORTS) == before, "a notebook run by hand changed the repository's reports/"
    out = work / "alliance-output"
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert figures == [f"00_tour_study_effects.{fmt}" for fmt in ("pdf", "png", "svg")]
    rows = ledger.read_ledger(out / "ledger.csv")
    assert len(rows) >= 1 and set(rows["status"]) <= {"pass", "FAIL"}
    # the notebook said where its files went, once each
    text = "".join(
        o.get("text", "") for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
        if o.get("output_type") == "stream"
    )
    assert text.count(f"figures are saved to {out / 'figures'} ") == 1, text
    assert text.count(f"ledger rows are saved to {out / 'ledger.csv'} ") == 1, text
