"""The API reference builds with every Sphinx warning an error, and reads offline.

``tools/build_docs.py --strict`` (what ``make docs`` runs, there without ``--strict``)
is run once into a temporary folder; the tests read the pages. Every public function
and class of every ``analysis`` module (its ``__all__``) must have its entry, and no
page may load anything from the network.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILDER = ROOT / "tools" / "build_docs.py"
#: A guard against a build that became slow (e.g. notebooks executed by accident); the
#: build takes about 25 s of CPU time (about a minute of wall time on a busy 2-core machine).
MAX_SECONDS = 300


def _builder():
    spec = importlib.util.spec_from_file_location("alliance_build_docs", BUILDER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The strict Sphinx build of the whole site, once per module.

    Slow by nature (about 30-40 s on 2 cores: every module page, the nine notebooks and their
    answers are rendered); the tests below share this one build instead of building per test.
    """
    out = tmp_path_factory.mktemp("api") / "html"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(BUILDER), "--strict", "--out", str(out)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=2 * MAX_SECONDS,
    )
    seconds = time.monotonic() - start
    assert done.returncode == 0, f"docs build failed:\n{done.stdout[-5000:]}\n{done.stderr[-5000:]}"
    assert seconds < MAX_SECONDS, f"docs build took {seconds:.0f} s"
    # nothing but the site beside it (myst-nb's jupyter_execute/ once landed in reports/)
    assert sorted(p.name for p in out.parent.iterdir()) == ["html"]
    return out


def test_every_module_has_a_page_with_every_public_function_and_class(site):
    builder = _builder()
    names = builder.module_names()
    assert {"meta", "effect_sizes", "growth", "meta_compare"} <= set(names)
    missing = []
    for name in names:
        page = site / "api" / f"{name}.html"
        assert page.exists(), f"no page for analysis.{name}"
        text = page.read_text(encoding="utf-8")
        module = importlib.import_module(f"analysis.{name}")
        groups = builder.public_objects(module)
        for obj_name in groups["functions"] + groups["classes"]:
            if f'id="analysis.{name}.{obj_name}"' not in text:
                missing.append(f"analysis.{name}.{obj_name}")
    assert not missing, f"public objects without an entry: {missing}"


def test_docstring_sections_and_examples_are_rendered(site):
    text = (site / "api" / "meta.html").read_text(encoding="utf-8")
    from analysis import meta

    assert "Parameters" in text and "Returns" in text and "Examples" in text
    first_line = inspect.getdoc(meta.meta_analysis).splitlines()[0].split("(")[0]
    assert first_line[:30] in text
    assert "&gt;&gt;&gt;" in text  # the doctest example is shown


def test_notebooks_are_shown_unexecuted(site):
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert notebooks
    for path in notebooks:
        assert (site / "notebooks" / f"{path.stem}.html").exists(), path.name


def test_pages_load_nothing_from_the_network(site):
    assert (site / "_static" / "mathjax" / "MathJax.js").exists()
    page = (site / "api" / "change.html").read_text(encoding="utf-8")
    configs = re.search(r'src="\.\./_static/mathjax/MathJax\.js\?config=([^"]+)"', page)
    assert configs, "the pages do not load the local MathJax"
    for name in configs.group(1).split(","):  # every configuration MathJax is asked for is there
        assert (site / "_static" / "mathjax" / "config" / f"{name}.js").exists(), name
    assert _builder().remote_resources(site) == []


def test_reproduce_links_the_api_reference_only_when_built_and_cleans_it(tmp_path):
    from conftest import load_runner

    runner = load_runner()
    reports = tmp_path / "reports"
    layout = runner.Layout(notebooks=tmp_path, reports=reports, ledger=reports / "ledger.csv")
    assert runner._api_section(layout) == ""
    (reports / "api").mkdir(parents=True)
    (reports / "api" / "index.html").write_text("<html></html>", encoding="utf-8")
    assert '<a href="api/index.html">' in runner._api_section(layout)
    (reports / "api" / ".buildinfo").write_text("# Sphinx build info", encoding="utf-8")
    runner.clean_outputs(layout)
    assert not (reports / "api").exists()


def test_the_builder_never_replaces_a_folder_it_did_not_write(tmp_path):
    keep = tmp_path / "mine.txt"
    keep.write_text("keep", encoding="utf-8")
    with pytest.raises(RuntimeError, match="not a Sphinx build"):
        _builder().build(tmp_path)
    assert keep.read_text(encoding="utf-8") == "keep"
