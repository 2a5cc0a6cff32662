"""Build the API reference (HTML) with Sphinx: the runner behind ``make docs``.

The pages are generated from the package each time, so a new module is picked up
without editing anything here:

1. a staging source folder is assembled in a temporary directory: ``docs/conf.py`` and
   ``docs/*.rst``, one page per module ``analysis/<name>.py`` (every module not starting
   with ``_``) documenting each function and class in its ``__all__`` (numpydoc
   docstrings, formulas, references and examples), and a copy of the numbered notebooks
   ``notebooks/NN_*.ipynb`` (outputs stripped; they are shown, not executed);
2. ``sphinx-build -b html`` writes the site into the output folder (default
   ``docs/_build/html``, gitignored), warnings as errors with ``--strict``;
3. no page may load anything from the network (MathJax is copied from the
   jupyter-server-mathjax package, the theme ships its assets).

``make reproduce`` calls :func:`build` to write the same site into ``reports/api/``.

Usage::

    python tools/build_docs.py [--out DIR] [--strict]
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import shutil
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DOCS_DIR = REPO_ROOT / "docs"
PACKAGE_DIR = REPO_ROOT / "analysis"
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
DEFAULT_OUT = DOCS_DIR / "_build" / "html"

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


def module_names(package_dir: Path = PACKAGE_DIR) -> list[str]:
    """The public modules of ``analysis``: every ``analysis/*.py`` not starting with ``_``, and
    each public subpackage (``analysis/sem``) with its public modules (``sem``, ``sem.fit``, ...).

    >>> "meta" in module_names() and "_checks" not in module_names()
    True
    >>> "sem" in module_names() and "sem.syntax" in module_names()
    True
    """
    mods = [p.stem for p in package_dir.glob("*.py") if not p.stem.startswith("_")]
    for init in package_dir.glob("*/__init__.py"):
        pkg = init.parent.name
        if not pkg.startswith("_"):
            mods.append(pkg)
            mods += [f"{pkg}.{p.stem}" for p in init.parent.glob("*.py") if not p.stem.startswith("_")]
    return sorted(mods)


def public_objects(module) -> dict[str, list[str]]:
    """The names of a module's ``__all__``, split into functions, classes and data.

    Names defined in another module (re-exports) are listed under ``"reexports"`` and
    documented on their own module's page only.
    """
    names = getattr(module, "__all__", None)
    if names is None:
        raise ValueError(f"module {module.__name__} has no __all__: list its public names there.")
    groups: dict[str, list[str]] = {"functions": [], "classes": [], "data": [], "reexports": []}
    for name in names:
        obj = getattr(module, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            if getattr(obj, "__module__", module.__name__) != module.__name__:
                groups["reexports"].append(name)
            else:
                groups["classes" if inspect.isclass(obj) else "functions"].append(name)
        else:
            groups["data"].append(name)
    return groups


def module_page(name: str) -> str:
    """The reStructuredText page of ``analysis.<name>``."""
    full = f"analysis.{name}"
    module = importlib.import_module(full)
    groups = public_objects(module)
    title = f"``{full}``"
    lines = [title, "=" * len(title), "", f".. automodule:: {full}", "   :no-members:", ""]
    lines += [f".. currentmodule:: {full}", ""]
    for key, heading in (("functions", "Functions"), ("classes", "Classes")):
        if groups[key]:
            lines += [f".. rubric:: {heading}", "", ".. autosummary::", "   :nosignatures:", ""]
            lines += [f"   {n}" for n in groups[key]] + [""]
    if groups["reexports"]:
        lines += [".. rubric:: Also importable from here", ""]
        for n in groups["reexports"]:
            origin = getattr(module, n).__module__
            lines.append(f"- :py:obj:`{full}.{n} <{origin}.{n}>` (documented in ``{origin}``)")
        lines.append("")
    for n in groups["functions"]:
        lines += [f".. autofunction:: {n}", ""]
    for n in groups["classes"]:
        lines += [f".. autoclass:: {n}", "   :members:", ""]
    for n in groups["data"]:
        lines += [f".. autodata:: {n}", "   :no-value:", ""]
    return "\n".join(lines)


def assemble(stage: Path) -> None:
    """Write the complete Sphinx source folder into `stage`."""
    for item in DOCS_DIR.iterdir():
        if item.suffix in (".py", ".rst") and item.is_file():
            shutil.copy2(item, stage / item.name)
    api = stage / "api"
    api.mkdir()
    names = module_names()
    for name in names:
        (api / f"{name}.rst").write_text(module_page(name), encoding="utf-8")
    toc = ["API reference", "=============", "",
           "One page per module of the package ``analysis``; every function and class "
           "listed in the module's ``__all__``, with its docstring and example (each example "
           "runs as a doctest in the test suite).", "",
           ".. toctree::", "   :maxdepth: 1", ""]
    toc += [f"   {name}" for name in names]
    (api / "index.rst").write_text("\n".join(toc) + "\n", encoding="utf-8")
    nb_dir = stage / "notebooks"
    nb_dir.mkdir()
    notebooks = sorted(NOTEBOOK_DIR.glob(NOTEBOOK_GLOB))
    for path in notebooks:
        shutil.copy2(path, nb_dir / path.name)
    toc = ["Notebooks", "=========", "",
           "The workbook's notebooks as committed: code and narrative, *not executed* "
           "(their outputs are stripped). ``make reproduce`` runs them and writes the executed "
           "pages, with every table and figure, into ``reports/notebooks/``.", "",
           ".. toctree::", "   :maxdepth: 1", ""]
    toc += [f"   {path.stem}" for path in notebooks]
    # The worked answers (notebooks/answers/NN_*.ipynb): the lessons link to them, so they are
    # pages of the site too (shown, not executed, like the lessons).
    answers = sorted((NOTEBOOK_DIR / "answers").glob(NOTEBOOK_GLOB))
    if answers:
        (nb_dir / "answers").mkdir()
        for path in answers:
            shutil.copy2(path, nb_dir / "answers" / path.name)
        toc += ["", ".. toctree::", "   :maxdepth: 1", "   :caption: Worked answers to the exercises", ""]
        toc += [f"   answers/{path.stem}" for path in answers]
    (nb_dir / "index.rst").write_text("\n".join(toc) + "\n", encoding="utf-8")


def build(out: Path, strict: bool = False, quiet: bool = True) -> Path:
    """Build the HTML site into `out` (replaced if it exists); return `out`.

    With ``strict`` every Sphinx warning is an error (``-W --keep-going``). Raises
    ``RuntimeError`` when Sphinx fails or a page would load a remote resource.
    """
    from sphinx.cmd.build import build_main

    out = Path(out).resolve()
    with tempfile.TemporaryDirectory(prefix="alliance-docs-") as tmp:
        stage = Path(tmp) / "src"
        stage.mkdir()
        assemble(stage)
        args = ["-b", "html", "-E", "-d", str(Path(tmp) / "doctrees")]
        if strict:
            args += ["-W", "--keep-going"]
        if quiet:
            args += ["-q"]
        if out.exists():
            if any(out.iterdir()) and not (out / ".buildinfo").exists():
                raise RuntimeError(f"{out} is not empty and not a Sphinx build: not replaced.")
        # Sphinx builds into the temporary folder and the site is copied out afterwards: myst-nb
        # writes a `jupyter_execute/` folder beside its output, which must not land next to
        # `out` (e.g. in reports/).
        staged = Path(tmp) / "html"
        status = build_main([*args, str(stage), str(staged)])
        if status == 0:
            if out.exists():
                shutil.rmtree(out)
            shutil.copytree(staged, out)
    if status != 0:
        raise RuntimeError(f"sphinx-build failed (exit {status}); see the messages above.")
    remote = remote_resources(out)
    if remote:
        raise RuntimeError(f"the API pages load remote resources: {remote[:5]}")
    return out


def remote_resources(site: Path) -> list[str]:
    """Every ``file: url`` of a remote resource a page of `site` would load."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from reproduce import external_resources

    found = []
    for page in sorted(site.rglob("*.html")):
        found += [f"{page.relative_to(site)}: {url}"
                  for url in external_resources(page.read_text(encoding="utf-8"))]
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="build_docs.py", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help="output folder (default: docs/_build/html)")
    parser.add_argument("--strict", action="store_true",
                        help="treat every Sphinx warning as an error")
    args = parser.parse_args(argv)
    try:
        out = build(args.out, strict=args.strict, quiet=False)
    except RuntimeError as error:
        print(f"DOCS BUILD FAILED: {error}", file=sys.stderr)
        return 1
    print(f"wrote {out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
