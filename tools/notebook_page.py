"""The executed notebooks as HTML pages for ``reports/notebooks/``, checks folded away.

A notebook teaches and checks: cells tagged ``qc`` (ledger records, comparisons with R
and with published numbers, tolerances) are the workbook's quality control, grouped at the
end of each section. On the HTML page each run of consecutive ``qc`` cells is shown
collapsed, as one ``<details>`` whose summary reads
"Checks: this section compares our numbers with R and the published ones"; a reader opens
it to see the inputs and outputs. The page is otherwise the offline page of
``analysis/report_templates/notebook_offline.html.j2`` (local MathJax, nothing from a CDN).

:class:`QCCellsPreprocessor` marks the runs (metadata ``alliance_qc`` of the first and last
cell of a run; the notebook on disk is not changed) and ``tools/notebook_qc.html.j2``
wraps them. :func:`render_notebook` is what ``tools/reproduce.py`` calls.

Links between notebooks: a notebook links the others by relative ``.ipynb`` paths
(``01_relationship_elements.ipynb``, ``answers/00_tour.ipynb``), which mean nothing beside
the page. :func:`rewrite_notebook_links` resolves each against the notebook's folder: a
notebook that has a page of its own (a numbered lesson that reproduce exports) is linked
as that page, ``01_relationship_elements.html`` (``#anchor`` kept); any other notebook
(the answers, which get no page) as its source file in the checkout, relative to the page
(``../../notebooks/answers/00_tour.ipynb`` from ``reports/notebooks/``). Absolute URLs,
root paths and ``#anchor`` links are left alone.
"""

from __future__ import annotations

import copy
import html
import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from nbconvert.preprocessors import Preprocessor

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from analysis._runner import MATHJAX_URL, TEMPLATES_DIR  # noqa: E402

TOOLS_DIR = Path(__file__).resolve().parent
QC_TEMPLATE = TOOLS_DIR / "notebook_qc.html.j2"
QC_TAG = "qc"
QC_SUMMARY = "Checks: this section compares our numbers with R and the published ones"
# Where the notebooks live and where reproduce writes their pages (tools/reproduce.py passes
# its own Layout's folders; these are the defaults of a plain checkout).
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
PAGES_DIR = REPO_ROOT / "reports" / "notebooks"
# The notebooks that get a page: tools/reproduce.py's NOTEBOOK_GLOB.
LESSON_GLOB = "[0-9][0-9]_*.ipynb"

# href="..." / href='...' of an <a> tag (markdown links, raw HTML, HTML outputs)
_A_HREF = re.compile(r"""(<a\b[^>]*?\shref\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)


def is_qc(cell) -> bool:
    """True when `cell` carries the tag ``qc``."""
    return QC_TAG in (cell.get("metadata", {}).get("tags") or [])


class QCCellsPreprocessor(Preprocessor):
    """Mark each run of consecutive cells tagged ``qc`` for the template.

    The first cell of a run gets ``metadata["alliance_qc"] = {"first": True, "summary": ...,
    "n_cells": n}``, the last ``{"last": True}`` (one cell can be both). Other cells are
    unchanged, and so is a notebook without ``qc`` cells.

    >>> import nbformat
    >>> cells = [nbformat.v4.new_code_cell(s) for s in ("a = 1", "check(a)", "check(b)", "b = 2")]
    >>> for c in cells[1:3]:
    ...     c.metadata["tags"] = ["qc"]
    >>> nb, _ = QCCellsPreprocessor().preprocess(nbformat.v4.new_notebook(cells=cells), {})
    >>> [c.metadata.get("alliance_qc", {}).get("first", False) for c in nb.cells]
    [False, True, False, False]
    >>> [c.metadata.get("alliance_qc", {}).get("last", False) for c in nb.cells]
    [False, False, True, False]
    """

    summary = QC_SUMMARY

    def preprocess(self, nb, resources):
        cells = nb.cells
        start = None
        for index in range(len(cells) + 1):
            inside = index < len(cells) and is_qc(cells[index])
            if inside and start is None:
                start = index
            elif not inside and start is not None:
                first, last = cells[start], cells[index - 1]
                first.metadata["alliance_qc"] = {"first": True, "summary": self.summary,
                                                 "n_cells": index - start}
                last.metadata.setdefault("alliance_qc", {})["last"] = True
                start = None
        return nb, resources


def notebook_link(href: str, source_dir: Path, page_dir: Path, exported: Iterable[str]) -> str:
    """Where a link written in a notebook should point from the notebook's HTML page.

    Parameters
    ----------
    href : str
        The link as written in the notebook (URL-encoded, not HTML-escaped).
    source_dir : Path
        Folder of the notebook (its relative links start there).
    page_dir : Path
        Folder of the HTML page.
    exported : iterable of str
        File names of the notebooks in `source_dir` that have a page ``<stem>.html`` in
        `page_dir`.

    Returns
    -------
    str
        `href` itself unless it is a relative link to a ``.ipynb`` file: then the page
        ``<stem>.html`` of an exported notebook, else the path from `page_dir` to the
        notebook file. Query and ``#anchor`` are kept.

    Examples
    --------
    >>> from pathlib import Path
    >>> src, pages = Path("/repo/notebooks"), Path("/repo/reports/notebooks")
    >>> notebook_link("01_elements.ipynb#Where-next", src, pages, ["01_elements.ipynb"])
    '01_elements.html#Where-next'
    >>> notebook_link("answers/00_tour.ipynb", src, pages, ["01_elements.ipynb"])
    '../../notebooks/answers/00_tour.ipynb'
    >>> notebook_link("https://example.org/x.ipynb", src, pages, [])
    'https://example.org/x.ipynb'
    """
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path or parts.path.startswith("/"):
        return href
    if not parts.path.lower().endswith(".ipynb"):
        return href
    source_dir, page_dir = Path(os.path.abspath(source_dir)), Path(os.path.abspath(page_dir))
    target = Path(os.path.normpath(source_dir / unquote(parts.path)))
    if target.parent == source_dir and target.name in set(exported):
        new_path = page_dir / f"{target.stem}.html"  # its page, beside this one
    else:
        new_path = target
    try:
        relative = Path(os.path.relpath(new_path, page_dir)).as_posix()
    except ValueError:  # another drive (Windows): no relative path exists
        return urlunsplit(("file", "", quote(new_path.as_posix()), parts.query, parts.fragment))
    return urlunsplit(("", "", quote(relative), parts.query, parts.fragment))


def rewrite_notebook_links(page: str, source_dir: Path = NOTEBOOKS_DIR, page_dir: Path = PAGES_DIR,
                           exported: Iterable[str] | None = None) -> str:
    """`page` with the ``href`` of each ``<a>`` mended by :func:`notebook_link`.

    `exported` defaults to the notebooks in `source_dir` matching :data:`LESSON_GLOB`.
    Only relative ``.ipynb`` links change; the rest of the page is kept byte for byte.

    >>> page = '<a href="02_b.ipynb#Top">next</a> <a href="#Top">top</a>'
    >>> rewrite_notebook_links(page, "/r/notebooks", "/r/reports/notebooks", ["02_b.ipynb"])
    '<a href="02_b.html#Top">next</a> <a href="#Top">top</a>'
    """
    if exported is None:
        exported = [p.name for p in Path(source_dir).glob(LESSON_GLOB)]
    exported = frozenset(exported)

    def mend(match: re.Match) -> str:
        before, quote_char, raw = match.groups()
        href = html.unescape(raw)
        new = notebook_link(href, Path(source_dir), Path(page_dir), exported)
        if new == href:
            return match.group(0)
        return f"{before}{quote_char}{html.escape(new, quote=True)}{quote_char}"

    return _A_HREF.sub(mend, page)


def render_notebook(nb, stem: str, mathjax_url: str = MATHJAX_URL, source_dir: Path = NOTEBOOKS_DIR,
                    page_dir: Path = PAGES_DIR, exported: Iterable[str] | None = None) -> str:
    """An executed notebook as an offline HTML page, ``qc`` cells folded (streams merged).

    As :func:`analysis._runner.render_html` with :data:`QC_TEMPLATE`; `nb` is not changed.
    Links to other notebooks are mended for a page written into `page_dir` from a notebook
    in `source_dir` (:func:`rewrite_notebook_links`; `exported` names the notebooks that
    have pages, default those matching :data:`LESSON_GLOB`).
    """
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    # the template extends notebook_offline.html.j2, which ships with the package
    exporter = HTMLExporter(extra_template_paths=[str(TEMPLATES_DIR)], template_file=str(QC_TEMPLATE))
    exporter.mathjax_url = mathjax_url
    # One output area per run of text: how a stream arrives in chunks varies run to run.
    marked, _ = CoalesceStreamsPreprocessor(enabled=True).preprocess(copy.deepcopy(nb), {})
    marked, _ = QCCellsPreprocessor().preprocess(marked, {})
    body, _ = exporter.from_notebook_node(marked, resources={"metadata": {"name": stem}})
    return rewrite_notebook_links(body, source_dir, page_dir, exported)
