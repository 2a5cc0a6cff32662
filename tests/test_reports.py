"""Tests of `make reproduce` (tools/reproduce.py) and of the reports it writes.

The first group reads the output of the session's reproduction run over the
real notebooks (fixture ``reproduction`` in conftest.py); the second tests the
runner's parts on small temporary notebooks.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from conftest import NOTEBOOKS_DIR, REPO_ROOT, RUNNER, load_runner, notebook_paths

known_discrepancies = load_runner().known_discrepancies

runner = load_runner()

NOTEBOOKS = notebook_paths()

# save_figure(<figure expression>, "name") or save_figure(..., name="name").
_SAVE_FIGURE = re.compile(
    r"save_figure\([^\"'\n]*?,\s*(?:name\s*=\s*)?[\"']([A-Za-z0-9][A-Za-z0-9_-]*)[\"']"
)


class _Links(HTMLParser):
    """Collect (tag, attribute, value) of every src/href in a page."""

    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href", "srcset", "data", "poster") and value:
                self.found.append((tag, name, value))


def links(page: str) -> list[tuple[str, str, str]]:
    parser = _Links()
    parser.feed(page)
    return parser.found


def figures_named_in(notebook: Path) -> list[str]:
    nb = nbformat.read(notebook, as_version=4)
    sources = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    return _SAVE_FIGURE.findall(sources)


# ---------------------------------------------------------------------------
# The real notebooks, executed once per session
# ---------------------------------------------------------------------------

def test_there_is_at_least_one_notebook():
    # Guards every parametrised test below against passing on an empty folder.
    assert NOTEBOOKS, f"no NN_name.ipynb in {NOTEBOOKS_DIR}"


@pytest.mark.notebooks
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_ran_and_has_html(reproduction, notebook):
    page = reproduction.html_for(notebook)
    assert page.exists(), f"{notebook.name} produced no HTML"
    text = page.read_text(encoding="utf-8")
    assert "jp-Notebook" in text
    # Executed: at least one code cell has an execution count in the HTML.
    assert re.search(r"In&nbsp;\[\d+\]|In\s*\[\d+\]", text), f"{notebook.name} shows no executed cell"


@pytest.mark.notebooks
def test_ledger_has_no_fail_and_every_entry_names_a_notebook(reproduction):
    assert reproduction.ledger.exists(), "the runner writes the ledger (header at least)"
    frame = pd.read_csv(reproduction.ledger, keep_default_na=False, dtype=str)
    failed = frame[frame["status"] != "pass"]
    # A FAIL passes review only when its cause was traced to the published source and
    # explained in data/published/known_discrepancies.csv; it still shows as FAIL.
    explained = known_discrepancies()
    unexplained = failed[[(c, n) not in explained for c, n in zip(failed["claim"], failed["notebook"])]]
    assert unexplained.empty, "ledger FAIL entries:\n" + unexplained.to_string()
    names = {p.name for p in reproduction.notebooks}
    unnamed = frame[~frame["notebook"].isin(names)]
    assert unnamed.empty, "ledger entries without a known notebook:\n" + unnamed.to_string()


@pytest.mark.notebooks
def test_every_known_discrepancy_still_fails_and_is_shown(reproduction):
    """Strict: an explanation whose comparison now passes, or no longer exists, must go."""
    frame = pd.read_csv(reproduction.ledger, keep_default_na=False, dtype=str)
    failed = set(zip(frame.loc[frame["status"] != "pass", "claim"], frame.loc[frame["status"] != "pass", "notebook"]))
    explained = known_discrepancies()
    stale = [key for key in explained if key not in failed]
    assert not stale, f"known discrepancies that no longer FAIL in the ledger: {stale}"
    index = (reproduction.reports / "index.html").read_text(encoding="utf-8")
    for note in explained.values():
        assert html.escape(note) in index


@pytest.mark.notebooks
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_figures_named_in_notebooks_exist_in_three_formats(reproduction, notebook):
    for name in figures_named_in(notebook):
        for fmt in ("png", "svg", "pdf"):
            path = reproduction.figures / f"{name}.{fmt}"
            assert path.exists() and path.stat().st_size > 0, f"{notebook.name}: missing {path.name}"


@pytest.mark.notebooks
def test_index_links_every_notebook_and_figure(reproduction):
    page = reproduction.index.read_text(encoding="utf-8")
    found = links(page)
    hrefs = {value for tag, attr, value in found if tag == "a" and attr == "href"}
    images = {value for tag, attr, value in found if tag == "img"}
    for notebook in reproduction.notebooks:
        assert f"notebooks/{notebook.stem}.html" in hrefs, f"index does not link {notebook.name}"
    stems = sorted(p.stem for p in reproduction.figures.glob("*.png"))
    for stem in stems:
        assert f"figures/{stem}.png" in images, f"figure {stem} not shown"
        assert f"figures/{stem}.svg" in hrefs and f"figures/{stem}.pdf" in hrefs
    # Every local link points at a file that exists.
    for tag, attr, value in found:
        target = value.split("#")[0]
        if target and not re.match(r"^[a-z]+:", target):
            assert (reproduction.reports / target).exists(), f"broken link {value}"


@pytest.mark.notebooks
def test_index_has_no_external_resources(reproduction):
    page = reproduction.index.read_text(encoding="utf-8")
    # The index loads nothing and links nothing outside the reports folder.
    assert "http://" not in page and "https://" not in page
    assert not any(re.match(r"^(?:[a-z]+:)?//", v) for _, _, v in links(page))
    assert "<style>" in page  # CSS is inline
    # the one script (ledger search and filter) is inline: no src, nothing fetched
    assert page.count("<script") == 1 and "<script>" in page and "<script src" not in page
    assert runner.external_resources(page) == []


@pytest.mark.notebooks
def test_index_reports_ledger_counts(reproduction):
    page = reproduction.index.read_text(encoding="utf-8")
    frame = pd.read_csv(reproduction.ledger, keep_default_na=False, dtype=str)
    failed = frame[frame["status"] != "pass"]
    explained = known_discrepancies()
    n_source = sum((c, n) in explained for c, n in zip(failed["claim"], failed["notebook"]))
    n_fail = len(failed) - n_source  # outside tolerance with no traced cause
    status = re.search(r'<p class="status-line" id="ledger-status">(.*?)</p>', page).group(1)
    assert status.startswith(f'<span class="badge pass">{len(frame) - len(failed)} pass</span>')
    if n_fail:
        assert f'<span class="badge fail">{n_fail} FAIL</span>' in status
    else:  # a published inconsistency is not a red FAIL of ours
        assert "badge fail" not in status
    if n_source:
        assert "discrepancies in the source</span>" in status or "discrepancy in the source</span>" in status
    assert page.count('<tr class="fail">') == n_fail
    assert page.count('<tr class="discrepancy">') == n_source
    assert page.count('<tr class="pass">') + n_fail + n_source == len(frame)
    # No timestamp in the index (it must be identical run to run).
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", page)


@pytest.mark.notebooks
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_html_holds_nothing_that_changes_run_to_run(reproduction, notebook):
    """Pages must be identical run to run: no kernel temp file in a warning, no wall-clock time."""
    page = reproduction.html_for(notebook).read_text(encoding="utf-8")
    assert "ipykernel_" not in page, "a warning names the kernel's temporary cell file"
    assert not re.search(r"\bran in \d+(\.\d+)? s\b|run time: \d", page), "a notebook prints its run time"


@pytest.mark.notebooks
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_html_reads_offline(reproduction, notebook):
    page = reproduction.html_for(notebook).read_text(encoding="utf-8")
    assert runner.external_resources(page) == []
    loading = [(t, v) for t, a, v in links(page) if t in ("script", "link", "img", "iframe")]
    assert not [v for _, v in loading if re.match(r"^(?:[a-z]+:)?//", v)]
    scripts = [v for t, v in loading if t == "script"]
    assert scripts == [runner.MATHJAX_URL]
    mathjax = reproduction.html_for(notebook).parent / scripts[0].split("?")[0]
    assert mathjax.exists()


@pytest.mark.notebooks
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_html_links_reach_existing_files(reproduction, notebook):
    """No link to a notebook is left dangling: a lesson's page, or the answers' source file."""
    page_path = reproduction.html_for(notebook)
    for tag, _, href in links(page_path.read_text(encoding="utf-8")):
        path = unquote(href.split("#")[0].split("?")[0])
        if tag != "a" or not path or re.match(r"^[a-z][a-z0-9+.-]*:", path) or path.startswith("/"):
            continue
        if path.endswith((".ipynb", ".html")):
            assert (page_path.parent / path).is_file(), f"{notebook.name}: {href} leads nowhere"


@pytest.mark.notebooks
def test_index_pdf_written_when_chromium_exists(reproduction):
    if not Path(runner.CHROMIUM).exists():
        assert "index.pdf was skipped" in reproduction.log
        pytest.skip(f"{runner.CHROMIUM} is absent: the runner skipped the PDF (checked)")
    pdf = reproduction.reports / "index.pdf"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    # the print time chromium writes is replaced by SOURCE_DATE_EPOCH, so the file is identical run to run
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0") or 0)
    stamp = time.strftime("D:%Y%m%d%H%M%S", time.gmtime(epoch)).encode()
    dates = re.findall(rb"/(?:CreationDate|ModDate) \((D:\d{14})", data)
    assert dates and all(d == stamp for d in dates), dates


def test_pdf_dates_are_stamped_in_place(tmp_path, monkeypatch):
    body = b"%PDF-1.4\n/CreationDate (D:20261126103832+00'00')\n/ModDate (D:20261126103832+01'00')>>\nxref"
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(body)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "86400")
    runner.stamp_pdf_dates(pdf)
    out = pdf.read_bytes()
    assert len(out) == len(body)  # same length: the cross-reference offsets stay valid
    assert out.count(b"D:19700102000000+00'00'") == 2 and b"2026" not in out


# ---------------------------------------------------------------------------
# The runner's parts, on small temporary notebooks
# ---------------------------------------------------------------------------


def _write_notebook(path: Path, cells) -> Path:
    nb = new_notebook(
        cells=cells,
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    nbformat.write(nb, path)
    return path


def _parameters_cell(source: str):
    cell = new_code_cell(source)
    cell.metadata["tags"] = ["parameters"]
    return cell


def _run(args: list[str], reports: Path) -> subprocess.CompletedProcess:
    env = {
        k: v for k, v in os.environ.items()
        if k not in ("ALLIANCE_LEDGER", "ALLIANCE_REPORTS_DIR")
    }
    return subprocess.run(
        [sys.executable, str(RUNNER), "--reports", str(reports), *args],
        capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=300,
    )


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """Two tiny notebooks (a figure, ledger rows, a parameters cell) through the runner."""
    root = tmp_path_factory.mktemp("small")
    notebooks = root / "notebooks"
    notebooks.mkdir()
    _write_notebook(notebooks / "00_first.ipynb", [
        new_markdown_cell("# First tiny notebook\n\nMath: $r = .28$."),
        new_markdown_cell("Next: [the second](01_second.ipynb#Second); "
                          "[worked answers](answers/00_first.ipynb)."),
        _parameters_cell("n_rep = 1000"),
        new_code_cell(
            "import os, matplotlib.pyplot as plt\n"
            "from analysis.plots import set_style, save_figure\n"
            "from analysis.ledger import record\n"
            "set_style()\n"
            "fig, ax = plt.subplots()\n"
            "ax.plot([0, 1], [0, n_rep])\n"
            "save_figure(fig, 'tiny_line')\n"
            "record('tiny claim', 0.28, 0.2801, 0.0005, 'Tiny (2020), Table 1', 'published-reanalysis')\n"
            "print('cwd', os.path.basename(os.getcwd()), 'n_rep', n_rep)"
        ),
    ])
    _write_notebook(notebooks / "01_second.ipynb", [
        new_markdown_cell("# Second"),
        new_code_cell(
            "from analysis.ledger import record\n"
            "record('sim truth', 0.5, 0.6, 0.05, 'simulation design', 'simulation')"
        ),
    ])
    (notebooks / "answers").mkdir()  # not exported: linked as the source file
    _write_notebook(notebooks / "answers" / "00_first.ipynb", [new_code_cell("raise SystemExit('ran')")])
    # Not numbered: must be ignored.
    _write_notebook(notebooks / "scratch.ipynb", [new_code_cell("raise SystemExit('ran')")])
    reports = root / "reports"
    # Stale outputs of an earlier run must disappear.
    (reports / "figures").mkdir(parents=True)
    (reports / "figures" / "stale.png").write_bytes(b"old")
    (reports / "index.pdf").write_bytes(b"old")
    done = _run(["--notebooks", str(notebooks), "--param", "n_rep=7", "--no-pdf", "--no-api"], reports)
    assert done.returncode == 0, done.stdout + done.stderr
    return reports, done


def test_small_run_outputs(small_run):
    reports, done = small_run
    assert sorted(p.name for p in (reports / "notebooks").glob("*.html")) == [
        "00_first.html", "01_second.html"]
    assert sorted(p.name for p in (reports / "figures").iterdir()) == [
        "tiny_line.pdf", "tiny_line.png", "tiny_line.svg"]
    assert not (reports / "index.pdf").exists()
    assert "PDF skipped" in done.stdout


def test_small_run_injects_parameters_and_runs_in_notebook_folder(small_run):
    reports, _ = small_run
    page = (reports / "notebooks" / "00_first.html").read_text()
    assert "cwd notebooks n_rep 7" in page
    assert "Parameters injected by tools/reproduce.py" in page


def test_small_run_links_between_notebooks_work_on_the_pages(small_run):
    reports, _ = small_run
    page = reports / "notebooks" / "00_first.html"
    hrefs = [v for t, a, v in links(page.read_text()) if t == "a" and not v.startswith("#")]
    assert hrefs == ["01_second.html#Second", "../../notebooks/answers/00_first.ipynb"]
    for href in hrefs:
        assert (page.parent / href.split("#")[0]).is_file(), href


def test_small_run_ledger_and_index(small_run):
    reports, done = small_run
    frame = pd.read_csv(reports / "ledger.csv", keep_default_na=False, dtype=str)
    assert frame["notebook"].tolist() == ["00_first.ipynb", "01_second.ipynb"]
    assert frame["status"].tolist() == ["pass", "FAIL"]
    assert "2 comparisons, 1 FAIL" in done.stdout
    page = (reports / "index.html").read_text()
    assert '<span class="badge fail">1 FAIL</span>' in page
    assert page.count('<tr class="fail">') == 1
    assert "First tiny notebook" in page
    assert 'from <a href="notebooks/00_first.html">00_first</a>' in page


def test_index_is_deterministic(small_run):
    reports, _ = small_run
    layout = runner.Layout(notebooks=reports, reports=reports, ledger=reports / "ledger.csv")
    runs = [runner.NotebookRun(path=Path("00_first.ipynb"), title="First",
                               html=reports / "notebooks" / "00_first.html",
                               figures=["tiny_line"], seconds=1.0)]
    first = runner.build_index(layout, runs)
    runs[0].seconds = 99.0  # timings must not reach the page
    assert runner.build_index(layout, runs) == first


def test_failing_notebook_fails_the_run_naming_notebook_and_cell(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _write_notebook(notebooks / "00_ok.ipynb", [new_code_cell("x = 1")])
    _write_notebook(notebooks / "01_broken.ipynb", [
        new_markdown_cell("# Broken"), new_code_cell("y = 2"), new_code_cell("1 / 0  # boom")])
    _write_notebook(notebooks / "02_never.ipynb", [new_code_cell("z = 3")])
    done = _run(["--notebooks", str(notebooks), "--no-pdf", "--no-api"], tmp_path / "reports")
    assert done.returncode == 1
    assert "01_broken.ipynb failed at cell 3 of 3" in done.stderr
    assert "1 / 0  # boom" in done.stderr and "ZeroDivisionError" in done.stderr
    assert "\x1b[" not in done.stderr  # no terminal colour codes
    assert not (tmp_path / "reports" / "index.html").exists()
    assert not (tmp_path / "reports" / "notebooks" / "02_never.html").exists()


def test_empty_notebook_folder_fails(tmp_path):
    (tmp_path / "notebooks").mkdir()
    done = _run(["--notebooks", str(tmp_path / "notebooks"), "--no-pdf", "--no-api"], tmp_path / "r")
    assert done.returncode == 1
    assert "no notebook" in done.stderr


def test_main_returns_error_for_bad_param(tmp_path, capsys):
    assert runner.main(["--reports", str(tmp_path), "--param", "no-equals", "--no-pdf"]) == 1
    assert "--param must look like name=value" in capsys.readouterr().err


def test_parse_params():
    assert runner.parse_params(["n=200", "alpha=0.05", "name=quick run", "flag=True",
                                "items=[1, 2]"]) == {
        "n": 200, "alpha": 0.05, "name": "quick run", "flag": True, "items": [1, 2]}
    for bad in ("=3", "1x=3", "x"):
        with pytest.raises(runner.ReproductionError):
            runner.parse_params([bad])


def test_inject_parameters_after_tagged_cell():
    nb = new_notebook(cells=[new_markdown_cell("# t"), _parameters_cell("n = 1"), new_code_cell("n")])
    assert runner.inject_parameters(nb, {"n": 5, "label": "x"})
    assert [c.source.splitlines()[-1] for c in nb.cells[1:3]] == ["n = 1", "label = 'x'"]
    assert nb.cells[2].metadata["tags"] == ["injected-parameters"]
    untagged = new_notebook(cells=[new_code_cell("n = 1")])
    assert not runner.inject_parameters(untagged, {"n": 5})
    assert len(untagged.cells) == 1


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ('<script src="https://cdn.x/require.js"></script>', 1),
        ('<script src="//cdn.x/a.js"></script>', 1),
        ('<link rel="stylesheet" href="http://x/a.css">', 1),
        ('<img src="https://x/a.png">', 1),
        ("<style>@import 'https://x/a.css';</style>", 1),
        ("<style>body{background:url(https://x/a.png)}</style>", 1),
        ('<div style="background: url(\'http://x/a.png\')"></div>', 1),
        ('<script type="module">await import("https://x/m.mjs")</script>', 1),
        ('<a href="https://doi.org/10.1/x">paper</a>', 0),
        ("<style>/* see https://example.org */ a{color:red}</style>", 0),
        ('<script src="mathjax/MathJax.js"></script><img src="figures/a.png">', 0),
        ('<img src="data:image/png;base64,AAAA">', 0),
    ],
)
def test_external_resources(page, expected):
    assert len(runner.external_resources(page)) == expected


def test_notebook_title():
    nb = new_notebook(cells=[new_code_cell("# not a heading"), new_markdown_cell("Intro\n\n## The title  ")])
    assert runner.notebook_title(nb, "fallback") == "The title"
    assert runner.notebook_title(new_notebook(), "fallback") == "fallback"


def test_regex_finds_figure_names(tmp_path):
    cells = 'save_figure(fig, "a")\nsave_figure(g.figure, name=\'b-2\')\nsave_figure(make(x, y), "c_3")'
    nb = new_notebook(cells=[new_code_cell(cells)])
    path = tmp_path / "00_x.ipynb"
    nbformat.write(nb, path)
    assert figures_named_in(path) == ["a", "b-2", "c_3"]


def test_runner_is_what_make_reproduce_calls():
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert "tools/reproduce.py" in makefile
