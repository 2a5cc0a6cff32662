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
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

from nbconvert.preprocessors import Preprocessor

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from analysis._runner import MATHJAX_URL, TEMPLATES_DIR  # noqa: E402

TOOLS_DIR = Path(__file__).resolve().parent
QC_TEMPLATE = TOOLS_DIR / "notebook_qc.html.j2"
QC_TAG = "qc"
QC_SUMMARY = "Checks: this section compares our numbers with R and the published ones"


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


def render_notebook(nb, stem: str, mathjax_url: str = MATHJAX_URL) -> str:
    """An executed notebook as an offline HTML page, ``qc`` cells folded (streams merged).

    As :func:`analysis._runner.render_html` with :data:`QC_TEMPLATE`; `nb` is not changed.
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
    return body
