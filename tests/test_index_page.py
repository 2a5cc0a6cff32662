"""The index page builder (tools/index_page.py) on a small synthetic reports folder.

Grouping of the ledger by notebook and kind, the counts at the top, the amber
"discrepancy in the source" label for a published inconsistency (never a red FAIL badge),
escaping of ledger text, the Start-here path and headline figure, and a page that is
complete without JavaScript (every group open) and loads nothing from the network.
The page in a browser is tested in tests/test_browser_index.py.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pandas as pd
import pytest

from _index_fixture import (
    DISCREPANCY_CLAIM,
    DISCREPANCY_NOTE,
    FAIL_CLAIM,
    HEADLINE,
    NASTY_CLAIM,
    NOTEBOOKS,
    ledger_rows,
    load_index_page,
    make_reports,
)
from conftest import load_runner

index_page = load_index_page()


class _Ledger(HTMLParser):
    """Collect every ledger row with the notebook and kind groups that hold it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[dict] = []
        self.rows: list[dict] = []
        self.details: list[dict] = []
        self._row = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "details":
            self.stack.append(a)
            self.details.append(a)
        elif tag == "tr" and self.stack and a.get("class") == "note":
            self._row = {"class": "note", "cells": [], "notebook": None, "kind": None}
        elif tag == "tr" and self.stack and a.get("class"):
            self._row = {"class": a["class"], "cells": [],
                         "notebook": next((d["data-notebook"] for d in self.stack if "data-notebook" in d), None),
                         "kind": next((d["data-kind"] for d in self.stack if "data-kind" in d), None)}
        elif tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "details":
            self.stack.pop()
        elif tag == "td" and self._row is not None and self._cell is not None:
            if not self._row["cells"]:
                self._row["claim"] = self._cell[0] if self._cell else ""
            self._row["cells"].append("".join(self._cell))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row["class"] == "note":  # the explanation below a row belongs to it
                self.rows[-1]["note"] = self._row["cells"][0]
            else:
                self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse(page: str) -> _Ledger:
    parser = _Ledger()
    parser.feed(page)
    return parser


@pytest.fixture()
def built(tmp_path):
    layout, runs, explained = make_reports(tmp_path)
    page = index_page.build_index(layout, runs, explained=explained)
    return page, layout, runs, explained


def _row(parsed: _Ledger, claim: str) -> dict:
    found = [r for r in parsed.rows if r["claim"] == claim]
    assert len(found) == 1, (claim, [r["claim"][:40] for r in parsed.rows])
    return found[0]


def test_rows_are_grouped_by_notebook_then_kind(built):
    page, *_ = built
    parsed = parse(page)
    expected = ledger_rows()
    assert len(parsed.rows) == len(expected)
    for row in expected:
        shown = _row(parsed, row["claim"])
        assert (shown["notebook"], shown["kind"]) == (row["notebook"], row["kind"])
    # notebook groups in the order of the runs; inside each, kinds in the order of analysis.ledger.KINDS
    notebooks = [d["data-notebook"] for d in parsed.details if "data-notebook" in d]
    assert notebooks == [name for name, _ in NOTEBOOKS]
    nb01 = page[page.index('data-notebook="01_relationship_elements.ipynb"'):
                page.index('data-notebook="08_reproductions.ipynb"')]
    kinds = re.findall(r'data-kind="([^"]+)"', nb01)
    assert kinds == ["published-reanalysis", "published-conversion", "oracle", "simulation"]
    # every group is a <details> that is open: without JavaScript everything is visible
    assert parsed.details and all("open" in d for d in parsed.details)
    # each group has an anchor the overview table links to
    for anchor in ("ledger-01_relationship_elements", "ledger-01_relationship_elements-oracle"):
        assert f'id="{anchor}"' in page and f'href="#{anchor}"' in page


def test_counts_by_state_and_kind(built):
    page, *_ = built
    n = len(ledger_rows())
    assert (f'<span class="badge pass">{n - 2} pass</span> '
            '<span class="badge discrepancy">1 discrepancy in the source</span> '
            '<span class="badge fail">1 FAIL</span>') in page
    counts = {kind: sum(r["kind"] == kind for r in ledger_rows()) for kind in
              ("published-reanalysis", "published-conversion", "oracle", "simulation")}
    assert counts == {"published-reanalysis": 25, "published-conversion": 2, "oracle": 2, "simulation": 1}
    assert (f"Of the {n} comparisons, 25 are published results reproduced from their data, "
            "2 are published numbers converted from other printed numbers, 2 are our estimates "
            "checked against R and 1 is a simulation truth recovered.") in page
    # the summary of each group counts its own rows
    assert re.search(r'01_relationship_elements</span> &mdash; 01 · Relationship elements &middot; '
                     r'5 comparisons: <span class="count pass">3 pass</span>, <span class="count '
                     r'discrepancy">1 discrepancy in the source</span>, <span class="count fail">1 FAIL'
                     r'</span></summary>', page)
    assert ('<span class="group-title">Published conversion</span>' in page)
    # the overview table: notebook x kind, with totals
    assert re.search(r'<tr class="total"><th scope="row">all</th><td class="num">25</td>'
                     r'<td class="num">2</td><td class="num">2</td><td class="num">1</td>'
                     rf'<td class="num">{n}</td></tr>', page)


def test_published_inconsistency_is_amber_not_a_red_fail(built):
    page, *_ = built
    parsed = parse(page)
    row = _row(parsed, DISCREPANCY_CLAIM)
    assert row["class"] == "discrepancy"
    assert row["cells"][-1] == "discrepancy in the source"
    assert row["note"] == "Discrepancy in the source: " + DISCREPANCY_NOTE  # full width, below the row
    assert '<tr class="note"><td colspan="6">' in page
    assert html.escape(DISCREPANCY_NOTE) in page  # the explanation is escaped, not raw
    assert "--amber" in page and ".badge.discrepancy" in page  # styled amber
    # an unexplained FAIL stays a red FAIL
    fail = _row(parsed, FAIL_CLAIM)
    assert (fail["class"], fail["cells"][-1]) == ("fail", "FAIL") and "note" not in fail
    assert page.count('<tr class="note">') == 1


def test_badges_do_not_open_on_fail_when_every_fail_is_a_source_discrepancy(tmp_path):
    layout, runs, explained = make_reports(tmp_path)
    explained[(FAIL_CLAIM, "01_relationship_elements.ipynb")] = "The design table is misprinted."
    page = index_page.build_index(layout, runs, explained=explained)
    status = re.search(r'<p class="status-line" id="ledger-status">(.*?)</p>', page).group(1)
    assert status.startswith('<span class="badge pass">')
    assert "badge fail" not in page and "FAIL</span>" not in status
    assert '<span class="badge discrepancy">2 discrepancies in the source</span>' in status
    assert not [r for r in parse(page).rows if r["class"] == "fail"]


def test_ledger_text_is_escaped(built):
    page, *_ = built
    assert NASTY_CLAIM not in page and "<script>alert" not in page
    assert html.escape(NASTY_CLAIM) in page
    assert "Source &lt;i&gt;in italics&lt;/i&gt; &amp; more" in page
    _row(parse(page), NASTY_CLAIM)  # read back as the original text
    # the only script is the inline one of the page itself
    assert page.count("<script") == 1 and "<script>\n(function" in page


def test_start_path_and_headline_figure(built, tmp_path):
    page, layout, runs, _ = built
    start = page.index('<nav class="start-path"')
    links = re.findall(r'<a href="(notebooks/[^"]+)">', page[start:page.index("</nav>", start)])
    assert links == ["notebooks/00_tour.html", "notebooks/01_relationship_elements.html",
                     "notebooks/08_reproductions.html"]
    assert "00 tour</a> &rarr; " in page
    # each notebook has its line in the Start-here section
    section = page[page.index('<section id="start">'):page.index("</section>", page.index('<section id="start">'))]
    for key in ("00", "01", "08"):
        assert html.escape(index_page.STEP_LINES[key]) in section
    # the headline figure comes before the Start-here list, with its source notebook
    assert page.index('<figure class="headline"') < page.index('<section id="start">')
    assert f'<img src="figures/{HEADLINE}.png"' in page
    assert 'From notebook <a href="notebooks/01_relationship_elements.html">' in page
    # no headline figure drawn: no headline block and no broken image
    layout2, runs2, explained2 = make_reports(tmp_path / "no-headline", headline=False)
    page2 = index_page.build_index(layout2, runs2, explained=explained2)
    assert 'class="headline"' not in page2 and HEADLINE not in page2


def test_page_is_offline_deterministic_and_has_no_fixed_wide_table(built):
    page, layout, runs, explained = built
    runner = load_runner()
    assert runner.external_resources(page) == []
    assert "http://" not in page and "https://" not in page
    assert index_page.build_index(layout, runs, explained=explained) == page
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", page)
    # long text wraps: the ledger tables have a fixed layout in percentages, no pixel widths
    assert "table-layout: fixed" in page and "overflow-wrap: anywhere" in page
    assert not re.search(r"width:\s*\d{3,}px", page)
    # the search/filter bar is hidden until the script shows it
    assert '<div id="ledger-tools" class="ledger-tools" hidden>' in page


def test_empty_ledger(tmp_path):
    layout, runs, _ = make_reports(tmp_path)
    from analysis.ledger import reset_ledger

    reset_ledger(layout.ledger)
    page = index_page.build_index(layout, runs, explained={})
    assert "No comparison was recorded." in page
    assert '<span class="badge pass">0 pass</span> of 0 comparisons' in page


def test_row_states_and_known_discrepancies_file(tmp_path):
    frame = pd.DataFrame({"claim": ["a", "b", "c"], "notebook": ["x", "x", "y"],
                          "status": ["pass", "FAIL", "FAIL"]})
    csv = tmp_path / "known.csv"
    csv.write_text('claim,notebook,explanation\nb,x,"printed d, not from r"\nc,x,other notebook\n',
                   encoding="utf-8")
    explained = index_page.known_discrepancies(csv)
    assert explained == {("b", "x"): "printed d, not from r", ("c", "x"): "other notebook"}
    # the key is (claim, notebook): the same claim in another notebook is not explained
    assert index_page.row_states(frame, explained) == ["pass", "discrepancy", "fail"]
    assert index_page.known_discrepancies(tmp_path / "absent.csv") == {}


def test_runner_uses_the_index_page_module():
    runner = load_runner()
    assert runner.build_index is not None
    assert runner.build_index.__module__ == runner.kind_counts.__module__ == "index_page"
