"""Notebook execution and offline HTML/PDF shared by ``make reproduce`` and ``analysis.report``.

``tools/reproduce.py`` (the runner behind ``make reproduce``) and :mod:`analysis.report`
(one-call reports on a user's own file) execute notebooks the same way: a fresh
``python3`` kernel (nbclient), warnings printed in program order without the kernel's
temporary file names, parameters injected after the cell tagged ``parameters`` (as
papermill), HTML written with the offline template in ``analysis/report_templates/``
and checked for external resources, and the page printed to PDF by Debian's chromium
with the print time replaced by ``SOURCE_DATE_EPOCH``. This module holds those parts;
it lives in the package so that the report templates and this code ship together.
"""

from __future__ import annotations

import atexit
import copy
import functools
import os
import re
import shutil
import subprocess
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

TEMPLATES_DIR = Path(__file__).resolve().parent / "report_templates"
NOTEBOOK_TEMPLATE = TEMPLATES_DIR / "notebook_offline.html.j2"
REPORT_TEMPLATE = TEMPLATES_DIR / "report_offline.html.j2"
REPORT_CSS = TEMPLATES_DIR / "report.css"
# MathJax 2 as shipped by jupyter-server-mathjax; this config file is in it.
MATHJAX_URL = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
CHROMIUM = "/usr/bin/chromium"


class RunnerError(RuntimeError):
    """Executing, exporting or printing a notebook failed; the message says where."""


def inject_parameters(nb, params: dict[str, object], by: str = "tools/reproduce.py --param") -> bool:
    """Insert a cell overriding `params` after the cell tagged ``parameters``.

    Returns False (and changes nothing) when the notebook has no such cell.
    The injected cell is tagged ``injected-parameters`` and stays visible in
    the HTML, so a report made with overrides says so.

    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("n = 1")])
    >>> nb.cells[0].metadata["tags"] = ["parameters"]
    >>> inject_parameters(nb, {"n": 2}), nb.cells[1].source.splitlines()[-1]
    (True, 'n = 2')
    """
    import nbformat

    if not params:
        return True
    for position, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            lines = [f"# Parameters injected by {by}"]
            lines += [f"{key} = {value!r}" for key, value in params.items()]
            injected = nbformat.v4.new_code_cell("\n".join(lines))
            injected.metadata["tags"] = ["injected-parameters"]
            nb.cells.insert(position + 1, injected)
            return True
    return False


# A warning shown in a notebook names the kernel's temporary cell file
# (/tmp/ipykernel_<pid>/<hash>.py), which changes every run, and goes to stderr, whose
# chunks reach the notebook interleaved with stdout's in an order that can change from
# run to run. Kernels started here get an IPython start-up file that prints warnings as
# "Category: message" on stdout, in program order; consecutive stream outputs are then
# merged (coalesce_streams) before the HTML is written, so the pages are identical.
_WARNING_STARTUP = """\
# Written by analysis/_runner.py (see kernel_environment in tools/reproduce.py).
import sys as _sys
import warnings as _warnings


def _alliance_formatwarning(message, category, filename, lineno, line=None):
    return f"{category.__name__}: {message}\\n"


def _alliance_showwarning(message, category, filename, lineno, file=None, line=None):
    _sys.stdout.write(_alliance_formatwarning(message, category, filename, lineno))


_warnings.formatwarning = _alliance_formatwarning
_warnings.showwarning = _alliance_showwarning
"""


@functools.cache
def ipython_dir() -> Path:
    """A private IPYTHONDIR holding the warning start-up file (made once per process)."""
    root = Path(tempfile.mkdtemp(prefix="alliance-ipython-"))
    startup = root / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-alliance-warnings.py").write_text(_WARNING_STARTUP, encoding="utf-8")
    atexit.register(shutil.rmtree, root, True)
    return root


def cell_excerpt(cell, lines: int = 6) -> str:
    """The first `lines` lines of a cell's source, indented for an error message."""
    source = cell.source.splitlines()
    shown = "\n".join(f"    | {line}" for line in source[:lines])
    return shown + ("\n    | ..." if len(source) > lines else "")


def render_html(nb, stem: str, template: Path = NOTEBOOK_TEMPLATE,
                mathjax_url: str = MATHJAX_URL) -> str:
    """An executed notebook as an HTML page with the offline template (streams merged)."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    exporter = HTMLExporter(template_file=str(template))
    exporter.mathjax_url = mathjax_url
    # One output area per run of text: how a stream arrives in chunks varies run to run.
    merged, _ = CoalesceStreamsPreprocessor(enabled=True).preprocess(copy.deepcopy(nb), {})
    body, _ = exporter.from_notebook_node(merged, resources={"metadata": {"name": stem}})
    return body


class _ResourceFinder(HTMLParser):
    """Collect the URLs a page would load (scripts, styles, images, frames)."""

    LOADING = {
        "script": ("src",),
        "img": ("src", "srcset"),
        "iframe": ("src",),
        "frame": ("src",),
        "embed": ("src",),
        "source": ("src", "srcset"),
        "video": ("src", "poster"),
        "audio": ("src",),
        "track": ("src",),
        "object": ("data",),
        "input": ("src",),
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self._in = ""
        self.inline: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        for attribute in self.LOADING.get(tag, ()):
            if values.get(attribute):
                self.urls.append(values[attribute])
        if tag == "link" and values.get("href"):
            # Every <link> that fetches (stylesheet, icon, preload, modulepreload ...);
            # plain navigation links are <a>, which are allowed to point anywhere.
            self.urls.append(values["href"])
        if values.get("style"):
            self.inline.append(("style", values["style"]))
        self._in = tag if tag in ("script", "style") else ""

    def handle_endtag(self, tag):
        self._in = ""

    def handle_data(self, data):
        if self._in:
            self.inline.append((self._in, data))


_REMOTE = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_CSS_REMOTE = re.compile(r"(?:url\(\s*['\"]?|@import\s+['\"])\s*(?:https?:)?//", re.IGNORECASE)
_JS_REMOTE = re.compile(r"import\s*\(\s*['\"`](?:https?:)?//|importScripts\(", re.IGNORECASE)


def external_resources(page: str) -> list[str]:
    """Describe every resource `page` would fetch from the network (empty if none).

    Looks at the URLs of loading tags (script, link, img, iframe ...), at CSS
    ``url()``/``@import`` in style blocks and attributes, and at dynamic
    ``import()`` of URLs in scripts. Links a reader may click (``<a>``) are fine.

    >>> external_resources('<script src="https://cdn.example/x.js"></script><a href="https://doi.org">x</a>')
    ['https://cdn.example/x.js']
    """
    finder = _ResourceFinder()
    finder.feed(page)
    found = [url for url in finder.urls if _REMOTE.match(url)]
    for kind, text in finder.inline:
        if kind == "script":
            found += [f"script: {m.group(0)}" for m in _JS_REMOTE.finditer(text)]
        else:
            text = _CSS_COMMENT.sub("", text)
            found += [f"css: {m.group(0)}" for m in _CSS_REMOTE.finditer(text)]
    return found


def chromium_available(chromium: str = CHROMIUM) -> bool:
    """True when the chromium executable exists and can be run."""
    return Path(chromium).exists() and os.access(chromium, os.X_OK)


def print_to_pdf(page: Path, pdf: Path, chromium: str = CHROMIUM, timeout: int = 180) -> bool:
    """Print the HTML file `page` to `pdf` with headless chromium; False if chromium is absent.

    The PDF's dates are stamped with ``SOURCE_DATE_EPOCH`` (:func:`stamp_pdf_dates`).
    Raises :class:`RunnerError` when chromium fails or times out.
    """
    if not chromium_available(chromium):
        return False
    with tempfile.TemporaryDirectory(prefix="alliance-chromium-") as profile:
        command = [
            chromium,
            "--headless",
            "--no-sandbox",  # needed as root (CI); the page is our own file
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-pdf-header-footer",  # the default header prints today's date
            f"--user-data-dir={profile}",
            f"--print-to-pdf={pdf}",
            Path(page).resolve().as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RunnerError(f"chromium did not print {pdf.name} within {timeout} s.") from None
    if done.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
        raise RunnerError(
            f"chromium failed to print {pdf} (exit {done.returncode}):\n{done.stderr[-2000:]}"
        )
    stamp_pdf_dates(pdf)
    return True


_PDF_DATE = re.compile(rb"(/(?:CreationDate|ModDate) \()D:\d{14}(?:[+-]\d{2}'\d{2}'|Z00'00')(\))")


def stamp_pdf_dates(pdf: Path) -> None:
    """Replace the print time chromium writes into the PDF by ``SOURCE_DATE_EPOCH`` (default 0).

    The two dates (``/CreationDate``, ``/ModDate``) are the only part of the file that
    changes run to run; the replacement has the same length, so the cross-reference
    offsets stay valid.
    """
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "0") or 0)
    fixed = time.strftime("D:%Y%m%d%H%M%S+00'00'", time.gmtime(epoch)).encode()
    data = pdf.read_bytes()
    new, n = _PDF_DATE.subn(lambda m: m.group(1) + fixed + m.group(2), data)
    if n and len(new) == len(data):
        pdf.write_bytes(new)
