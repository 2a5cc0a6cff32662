"""Notebook HTML pages fold the quality-control cells (tools/notebook_page.py, issue 17 item 2).

Cells tagged ``qc`` (ledger records, comparisons with R and published numbers) are shown
on the pages ``make reproduce`` writes as one closed ``<details>`` per run of consecutive
``qc`` cells, summary "Checks: this section compares our numbers with R and the published
ones", with their inputs and outputs inside; the lesson's cells stay outside. Tested on a
small synthetic notebook (outputs written by hand, nothing executed).
"""

from __future__ import annotations

import copy
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
