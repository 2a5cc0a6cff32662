"""Browser test: a generated one-call report as a reader sees it.

The meta-analysis report of ``data/examples/meta_molloy2014.csv`` is generated into a
temporary folder with :func:`analysis.report.make_report` (no PDF) and its ``report.html``
is opened from disk in Debian's chromium (``/usr/bin/chromium``) with Python playwright;
no browser is downloaded. Without chromium or playwright the test skips, saying why.

It checks that the page reads offline (no console error, no failed request, no request
leaving the machine), that the forest plot's image is loaded (``naturalWidth > 0``) and
that the pooled estimate is printed: metafor's estimate for this file
(``tests/fixtures/report_meta.json``, made by ``tests/oracles/report_meta.R``) rounded to the
4 decimals of the page's tables, and its back-transformed correlation to the 2 decimals of
the APA paragraph.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from conftest import REPO_ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PAGE_TIMEOUT_MS = 30_000
EXAMPLE = REPO_ROOT / "data" / "examples" / "meta_molloy2014.csv"
FIXTURE = REPO_ROOT / "tests" / "fixtures" / "report_meta.json"

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is absent (apt-get install chromium)"),
    pytest.mark.skipif(sync_playwright is None, reason="python playwright is not installed"),
]

# The images in the output of the code cell that draws the forest plot:
# [complete, naturalWidth, naturalHeight] for each.
_FOREST_IMAGES_JS = """
() => [...document.querySelectorAll('.jp-CodeCell')]
  .filter(c => (c.querySelector('.jp-InputArea') || {textContent: ''}).textContent.includes('forest_plot('))
  .flatMap(c => [...c.querySelectorAll('.jp-OutputArea img')])
  .map(img => [img.complete, img.naturalWidth, img.naturalHeight])
"""


@pytest.fixture(scope="module")
def meta_report(tmp_path_factory):
    """The meta report of the example file, written into a temporary folder."""
    from analysis.report import make_report

    out = tmp_path_factory.mktemp("report-out")
    return make_report("meta", EXAMPLE, out=out, measure="ZCOR", pdf=False)


def test_meta_report_page_reads_offline_with_forest_plot(meta_report):
    assert meta_report.html.is_file() and meta_report.html.parent == meta_report.folder
    console_errors: list[str] = []
    failed: list[str] = []
    remote: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda error: console_errors.append(f"page error: {error}"))
            page.on("requestfailed", lambda r: failed.append(f"{r.url} ({r.failure})"))
            page.on("request", lambda r: remote.append(r.url)
                    if not r.url.startswith(("file:", "data:", "about:", "blob:")) else None)
            page.goto(meta_report.html.as_uri(), wait_until="load", timeout=PAGE_TIMEOUT_MS)
            forest = page.evaluate(_FOREST_IMAGES_JS)
            text = page.inner_text("body")
            page.screenshot(path=str(meta_report.folder / "page-screenshot.png"), full_page=True)
        finally:
            browser.close()

    assert not console_errors, f"report.html: console errors {console_errors}"
    assert not failed, f"report.html: failed requests {failed}"
    assert not remote, f"report.html: requests leaving the machine {remote}"

    assert len(forest) == 1, f"expected one forest plot image, found {forest}"
    complete, width, height = forest[0]
    assert complete and width > 0 and height > 0, f"the forest plot image did not load: {forest}"

    # Pooled Fisher z from metafor (rma(yi, vi, method = "REML") on this file); exact to
    # the page's rounding (4 decimals in the tables, 2 for the correlation in the APA text).
    r_model = json.loads(FIXTURE.read_text(encoding="utf-8"))["z"]["model"]
    assert f"{r_model['estimate']:.4f}" in text, "the pooled estimate (Fisher z) is not on the page"
    assert f"pooled correlation of {math.tanh(r_model['estimate']):.2f}" in text, (
        "the APA paragraph with the pooled correlation is not on the page")
