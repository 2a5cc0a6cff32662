"""Notebook HTML pages fold the quality-control cells (tools/notebook_page.py, issue 17 item 2).

Cells tagged ``qc`` (ledger records, comparisons with R and published numbers) are shown
on the pages ``make reproduce`` writes as one closed ``<details>`` per run of consecutive
``qc`` cells, summary "Checks: this section compares our numbers with R and the published
ones", with their inputs and outputs inside; the lesson's cells stay outside. Tested on a
small synthetic notebook (outputs written by hand, nothing executed).
"""

from __future__ import annotations

import copy
import os
import importlib.util
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from conftest import REPO_ROOT, load_runner

_spec = importlib.util.spec_from_file_location("alliance_notebook_page",
                                               REPO_ROOT / "tools" / "notebook_page.py")
notebook_page = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(notebook_page)

SUMMARY = "Checks: this section compares our numbers with R and the published ones"


def _qc(cell):
    cell.metadata["tags"] = ["qc"]
    return cell


def synthetic_notebook():
    """Lesson, two qc cells, lesson, one qc cell (with another tag too), lesson."""
    return new_notebook(
        cells=[
            new_markdown_cell("# Lesson\n\nThe pooled correlation $r$."),
            new_code_cell("lesson_value = 0.28", execution_count=1),
            _qc(new_code_cell("ledger.record('LEDGER_CALL_ONE', 0.28, 0.2801, 0.005)", execution_count=2,
                              outputs=[new_output("stream", name="stdout", text="QC_OUTPUT_ONE pass\n")])),
            _qc(new_markdown_cell("QC_NOTE: the tolerance is half a printed unit.")),
            new_markdown_cell("## Second section\n\nLESSON_TWO"),
            new_code_cell("print('LESSON_OUTPUT')", execution_count=3,
                          outputs=[new_output("stream", name="stdout", text="LESSON_OUTPUT\n")]),
            new_code_cell("assert abs(tau2 - 0.0123) < 1e-6  # QC_THREE", execution_count=4,
                          metadata={"tags": ["qc", "oracle"]}),
            new_markdown_cell("LESSON_END"),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )


class _Where(HTMLParser):
    """For each marker text, whether it sits inside a <details class="qc-checks"> (and which)."""

    MARKERS = ("LEDGER_CALL_ONE", "QC_OUTPUT_ONE", "QC_NOTE", "QC_THREE", "LESSON_TWO",
               "LESSON_OUTPUT", "LESSON_END", "lesson_value")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.n_details = 0
        self.summaries: list[str] = []
        self.found: dict[str, list[int]] = {}
        self._in_summary = False

    def handle_starttag(self, tag, attrs):
        if tag == "details" and "qc-checks" in (dict(attrs).get("class") or ""):
            assert "open" not in dict(attrs), "qc details must start closed"
            self.n_details += 1
            self.depth += 1
        if tag == "summary":
            self._in_summary = True
            self.summaries.append("")

    def handle_endtag(self, tag):
        if tag == "details" and self.depth:
            self.depth -= 1
        if tag == "summary":
            self._in_summary = False

    def handle_data(self, data):
        if self._in_summary:
            self.summaries[-1] += data
        for marker in self.MARKERS:
            if marker in data:
                self.found.setdefault(marker, []).append(self.n_details if self.depth else 0)


def where(page: str) -> _Where:
    parser = _Where()
    parser.feed(page)
    return parser


def test_consecutive_qc_cells_fold_into_one_closed_details():
    nb = synthetic_notebook()
    before = copy.deepcopy(nb)
    page = notebook_page.render_notebook(nb, "01_synthetic")
    assert nb == before  # the notebook itself is not changed
    shown = where(page)
    assert shown.n_details == 2
    assert [s.strip() for s in shown.summaries] == [SUMMARY, SUMMARY]
    # inputs and outputs of the qc cells inside their details; the lesson outside
    assert set(shown.found["LEDGER_CALL_ONE"]) == {1}
    assert set(shown.found["QC_OUTPUT_ONE"]) == {1}
    assert set(shown.found["QC_NOTE"]) == {1}
    assert set(shown.found["QC_THREE"]) == {2}
    for lesson in ("lesson_value", "LESSON_TWO", "LESSON_OUTPUT", "LESSON_END"):
        assert set(shown.found[lesson]) == {0}, lesson
    assert page.count("<details") == page.count("</details>") == 2


def test_notebook_without_qc_cells_has_no_details():
    nb = synthetic_notebook()
    for cell in nb.cells:
        cell.metadata.pop("tags", None)
    page = notebook_page.render_notebook(nb, "plain")
    assert "qc-checks\"" not in page and "<details" not in page
    assert SUMMARY not in page


def test_qc_page_reads_offline_and_loads_only_local_mathjax(tmp_path):
    runner = load_runner()
    layout = runner.Layout(notebooks=tmp_path, reports=tmp_path / "reports",
                           ledger=tmp_path / "reports" / "ledger.csv")
    page_path = runner.export_html(synthetic_notebook(), "01_synthetic", layout)  # what reproduce.py writes
    page = page_path.read_text(encoding="utf-8")
    assert page_path == tmp_path / "reports" / "notebooks" / "01_synthetic.html"
    assert runner.external_resources(page) == []
    assert re.findall(r'<script[^>]*\ssrc="([^"]+)"', page) == [runner.MATHJAX_URL]
    assert where(page).n_details == 2
    assert "jp-Notebook" in page and re.search(r"In(&nbsp;|\xa0)\[2\]:", page)


def test_a_qc_cell_alone_and_qc_cells_at_both_ends(tmp_path):
    cells = [_qc(new_code_cell("a = 1  # QC_THREE")), new_markdown_cell("LESSON_TWO"),
             _qc(new_code_cell("b = 2  # LEDGER_CALL_ONE"))]
    page = notebook_page.render_notebook(new_notebook(cells=cells), "edges")
    shown = where(page)
    assert shown.n_details == 2
    assert shown.found["QC_THREE"] == [1] and shown.found["LEDGER_CALL_ONE"] == [2]
    assert shown.found["LESSON_TWO"] == [0]


def test_template_and_module_live_in_tools():
    assert Path(notebook_page.QC_TEMPLATE).parent == REPO_ROOT / "tools"
    assert notebook_page.QC_SUMMARY == SUMMARY
    assert "cdn" not in Path(notebook_page.QC_TEMPLATE).read_text(encoding="utf-8").lower()
    sys.path.insert(0, str(REPO_ROOT / "tools"))
    assert load_runner().render_notebook.__module__ == "notebook_page"


# ---------------------------------------------------------------------------
# Links between notebooks (a lesson's .ipynb links work on its HTML page)
# ---------------------------------------------------------------------------

class _Hrefs(HTMLParser):
    """The href of every <a>, in order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a" and dict(attrs).get("href"):
            self.hrefs.append(dict(attrs)["href"])


def hrefs(page: str) -> list[str]:
    parser = _Hrefs()
    parser.feed(page)
    return [h for h in parser.hrefs if not h.startswith("#") or h.startswith("#LINK")]


def linking_notebook():
    """Markdown links of each kind (lesson, lesson with anchor, answers, unnumbered, web, anchor)."""
    return new_notebook(cells=[
        new_markdown_cell(
            "# Links\n\n"
            "[next](01_relationship_elements.ipynb) and "
            "[its end](02_relationship_vs_technique.ipynb#Where-next); "
            "[worked answers](answers/00_tour.ipynb#Exercise-1), "
            "[same folder, spelled long](./03_therapist_effects.ipynb), "
            "[scratch](scratch.ipynb), "
            "[a lesson that does not exist](09_missing.ipynb), "
            "[nbviewer](https://nbviewer.org/github/x/y/blob/main/01_a.ipynb), "
            "[anchor](#LINK-anchor), [data](../data/README.md)."),
        new_markdown_cell("<a href='04_session_by_session.ipynb?x=1&amp;y=2#Top'>raw HTML</a>"),
        _qc(new_markdown_cell("QC_NOTE see [the answers](answers/01_relationship_elements.ipynb)")),
    ])


def test_notebook_links_point_at_pages_and_at_sources():
    source, pages = REPO_ROOT / "notebooks", REPO_ROOT / "reports" / "notebooks"
    page = notebook_page.render_notebook(linking_notebook(), "00_links", source_dir=source, page_dir=pages,
                                         exported=["01_relationship_elements.ipynb",
                                                   "02_relationship_vs_technique.ipynb",
                                                   "03_therapist_effects.ipynb",
                                                   "04_session_by_session.ipynb"])
    to_source = Path(os.path.relpath(source, pages)).as_posix()  # computed from the folders
    assert to_source == "../../notebooks"
    assert hrefs(page) == [
        "01_relationship_elements.html",
        "02_relationship_vs_technique.html#Where-next",
        f"{to_source}/answers/00_tour.ipynb#Exercise-1",
        "03_therapist_effects.html",
        f"{to_source}/scratch.ipynb",
        f"{to_source}/09_missing.ipynb",
        "https://nbviewer.org/github/x/y/blob/main/01_a.ipynb",
        "#LINK-anchor",
        "../data/README.md",
        "04_session_by_session.html?x=1&y=2#Top",
        f"{to_source}/answers/01_relationship_elements.ipynb",
    ]
    # the links to the answers reach the real files from the page's folder
    for href in hrefs(page):
        if "/answers/" in href:
            assert (pages / href.split("#")[0]).resolve().is_file(), href


def test_default_folders_are_the_checkout_and_lessons_are_the_numbered_notebooks():
    page = notebook_page.render_notebook(linking_notebook(), "00_links")
    found = hrefs(page)
    assert found[:4] == ["01_relationship_elements.html", "02_relationship_vs_technique.html#Where-next",
                         "../../notebooks/answers/00_tour.ipynb#Exercise-1", "03_therapist_effects.html"]
    assert found[5] == "../../notebooks/09_missing.ipynb"  # numbered but absent: no page, so its path
    assert notebook_page.LESSON_GLOB == load_runner().NOTEBOOK_GLOB


def test_links_mended_for_the_layout_reproduce_writes(tmp_path):
    """export_html (what reproduce.py calls) resolves links from its own notebook and report folders."""
    notebooks = tmp_path / "lessons"
    (notebooks / "answers").mkdir(parents=True)
    for name in ("00_links.ipynb", "01_relationship_elements.ipynb", "answers/00_tour.ipynb"):
        (notebooks / name).write_text("{}", encoding="utf-8")
    runner = load_runner()
    layout = runner.Layout(notebooks=notebooks, reports=tmp_path / "out" / "reports",
                           ledger=tmp_path / "out" / "reports" / "ledger.csv")
    page_path = runner.export_html(linking_notebook(), "00_links", layout)
    found = hrefs(page_path.read_text(encoding="utf-8"))
    assert found[0] == "01_relationship_elements.html"
    assert (page_path.parent / found[0]).name == "01_relationship_elements.html"
    # 02_... is not in this folder, so it is not exported: linked as a (missing) source path
    assert found[1] == "../../../lessons/02_relationship_vs_technique.ipynb#Where-next"
    assert found[2] == "../../../lessons/answers/00_tour.ipynb#Exercise-1"
    assert (page_path.parent / found[2].split("#")[0]).resolve() == notebooks / "answers" / "00_tour.ipynb"


def test_rewriting_leaves_the_rest_of_the_page_alone():
    page = notebook_page.render_notebook(synthetic_notebook(), "01_synthetic")
    body = notebook_page.rewrite_notebook_links(page)
    assert body == page  # no notebook link: byte for byte
