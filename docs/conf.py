"""Sphinx configuration of the API reference.

Build with ``make docs`` (tools/build_docs.py), which assembles the pages from the
package and the notebooks; this file is copied into that staging folder. Nothing is
downloaded at build or read time: no intersphinx, the furo theme ships its assets, and
MathJax 2 is copied from the jupyter-server-mathjax package beside the pages.
"""

import importlib.util
import re
import shutil
from pathlib import Path

import analysis

project = "The alliance workbook"
author = "Alliance workbook contributors"
copyright = "Alliance workbook contributors, MIT license"
version = release = analysis.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_nb",
]

root_doc = "index"
exclude_patterns = ["_build"]
source_suffix = {".rst": "restructuredtext", ".ipynb": "myst-nb"}
templates_path: list[str] = []

# autodoc / numpydoc: members are documented from __all__ by tools/build_docs.py.
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # numpydoc's Parameters section says the types
autosummary_generate = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# Notebooks: shown as committed (outputs stripped), never executed.
nb_execution_mode = "off"
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_update_mathjax = False
myst_heading_anchors = 3

# Offline MathJax 2 (the copy jupyter-server-mathjax ships; the notebooks' HTML uses it too).
# (Located without importing it: importing it imports jupyter_server, seconds of start-up.)
MATHJAX_SOURCE = Path(importlib.util.find_spec("jupyter_server_mathjax").origin).parent / "static"
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
mathjax2_config = {
    "tex2jax": {
        "inlineMath": [["\\(", "\\)"]],
        "displayMath": [["\\[", "\\]"]],
        "processEscapes": True,
    },
    "showMathMenu": False,
    "messageStyle": "none",
}

html_theme = "furo"
html_title = "The alliance workbook — API reference"
html_static_path: list[str] = []
html_last_updated_fmt = None
html_show_sourcelink = False
html_copy_source = False


def _copy_mathjax(app, exception):
    if exception is None and app.builder.format == "html":
        target = Path(app.outdir) / "_static" / "mathjax"
        if not (target / "MathJax.js").exists():
            shutil.copytree(MATHJAX_SOURCE, target, dirs_exist_ok=True)


# References are written APA style in plain text, ``*J Consult Clin Psychol, 85*(6)``: in
# reStructuredText an emphasis must be followed by a space or punctuation, so the page gets an
# escaped space there (``*...*\\ (6)``); doctest lines are left alone.
_EMPHASIS_THEN_PAREN = re.compile(r"(?<=\S)\*\(")


def _apa_emphasis(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        if not line.lstrip().startswith((">>>", "...")):
            lines[i] = _EMPHASIS_THEN_PAREN.sub("*\\ (", line)


_UNDERLINE = re.compile(r"^(-{3,}|={3,})\s*$")


def _module_sections(app, what, name, obj, options, lines):
    """A module docstring's sections ("References", "Notes" ...) become rubrics: as page
    sections they would sit beside the module's title in the navigation."""
    if what != "module":
        return
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() and i + 1 < len(lines) and _UNDERLINE.match(lines[i + 1]) \
                and len(lines[i + 1].strip()) >= len(line.strip()):
            out += ["", f".. rubric:: {line.strip()}", ""]
            i += 2
            continue
        out.append(line)
        i += 1
    lines[:] = out


def setup(app):
    app.connect("autodoc-process-docstring", _apa_emphasis, priority=100)
    app.connect("autodoc-process-docstring", _module_sections, priority=100)
    app.connect("build-finished", _copy_mathjax)
