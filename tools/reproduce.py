"""Rebuild the workbook's reports from scratch: the runner behind ``make reproduce``.

Steps, each of which stops the run with a non-zero exit and a message naming
the notebook (and cell) when it fails:

1. clean the outputs of a previous run (ledger, figures, notebook HTML, index
   HTML and PDF) so nothing stale survives; only files of the kinds the runner
   writes are deleted (see :data:`GENERATED`): ``reports/README.md`` and any
   other file are kept, and a ledger path that is not a ledger is refused;
2. execute every ``notebooks/NN_*.ipynb``, ``--jobs`` at a time (default 2, each in a
   worker process), each in a fresh ``python3`` kernel started in ``notebooks/`` with
   ``ALLIANCE_NOTEBOOK``, ``ALLIANCE_REPORTS_DIR`` and ``ALLIANCE_LEDGER`` set to a staging
   folder of its own (so ``save_figure`` and ``ledger.record`` write there); a finished
   notebook's figures move into the reports folder and the ledgers are merged in notebook
   order, so the outputs do not depend on the number of jobs or on which notebook finishes
   first. Per-notebook times are printed in the log (not written into the reports);
3. write each executed notebook as HTML into ``reports/notebooks/`` that reads
   offline (local MathJax, no CDN script) and check that no page loads an
   external resource;
4. write ``reports/index.html`` with ``tools/index_page.py`` (a start-here path, the
   headline figure, a gallery of every exported figure, the ledger grouped by notebook
   and kind), with inline CSS and script, no external resource, and no timestamp;
5. print the index to ``reports/index.pdf`` with Debian's chromium (its print
   time replaced by ``SOURCE_DATE_EPOCH``), or say clearly that the PDF was skipped;
6. (before the index) build the API reference into ``reports/api/`` with
   ``tools/build_docs.py`` (what ``make docs`` runs), linked from the index
   (``--no-api`` skips it).

Two runs in the same folder write identical files: figures, ledger, index, PDF and
notebook pages (warnings are printed without the kernel's temporary file name and in
program order, and stream outputs are merged before the pages are written).

Usage::

    python tools/reproduce.py [--reports DIR] [--notebooks DIR] [--jobs N]
                              [--param key=value ...] [--timeout S] [--no-pdf] [--no-api]

``--param`` works like papermill: the values are injected as a new cell after
the cell tagged ``parameters`` (tests use it for small replicate counts).
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbconvert.filters import strip_ansi

REPO_ROOT = Path(__file__).resolve().parents[1]
TOOLS_DIR = Path(__file__).resolve().parent
NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
FIGURE_FORMATS = ("png", "svg", "pdf")
#: What a run writes, as glob patterns relative to the reports folder: clean_outputs deletes
#: files matching these (and the MathJax copy in notebooks/mathjax/), nothing else. The ledger is
#: emptied by analysis.ledger.reset_ledger, which refuses a file that is not a ledger.
GENERATED = (
    "index.html",
    "index.pdf",
    "*.png",  # written at the top by earlier versions of the runner
    *(f"figures/*.{fmt}" for fmt in FIGURE_FORMATS),
    "notebooks/*.html",
)

# Make `analysis` importable when the runner is started as a script without the
# editable install (e.g. from a source checkout).
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from analysis.ledger import KINDS, read_ledger, reset_ledger  # noqa: E402
# Execution, offline HTML and PDF printing are shared with analysis.report (one-call
# reports on a user's file); the template and CSS ship in analysis/report_templates/.
from analysis._runner import (  # noqa: E402,F401
    CHROMIUM,
    MATHJAX_URL,
    NOTEBOOK_TEMPLATE,
    REPORT_CSS,
    RunnerError,
    _ResourceFinder,
    cell_excerpt as _cell_excerpt,
    external_resources,
    inject_parameters,
    ipython_dir as _ipython_dir,
    print_to_pdf,
    render_html,
    stamp_pdf_dates,
)

# The index page (step 4) is built by tools/index_page.py; its names stay importable from here.
if str(TOOLS_DIR) not in sys.path:
    sys.path.insert(0, str(TOOLS_DIR))
from index_page import (  # noqa: E402,F401
    KIND_TEXT,
    KNOWN_DISCREPANCIES,
    api_section as _api_section,
    build_index,
    kind_counts,
    known_discrepancies,
)
from notebook_page import render_notebook  # noqa: E402  (qc cells folded on the pages)


class ReproductionError(RuntimeError):
    """A step of the reproduction failed; the message says which and where."""


@dataclass(frozen=True)
class Layout:
    """Where the runner reads notebooks and writes every output."""

    notebooks: Path
    reports: Path
    ledger: Path

    @property
    def figures(self) -> Path:
        return self.reports / "figures"

    @property
    def html_dir(self) -> Path:
        return self.reports / "notebooks"

    @property
    def mathjax(self) -> Path:
        # Inside reports/notebooks/ so that the pages' relative MathJax URL
        # works and the copy is covered by the .gitignore of that folder.
        return self.html_dir / "mathjax"

    @property
    def index(self) -> Path:
        return self.reports / "index.html"

    @property
    def pdf(self) -> Path:
        return self.reports / "index.pdf"


@dataclass
class NotebookRun:
    """What one executed notebook produced, for the index."""

    path: Path
    title: str
    html: Path
    figures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # kernel and export, all processes (robust to a busy machine)


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="reproduce.py",
        description="Execute every notebook and rebuild reports/ from scratch.",
    )
    parser.add_argument(
        "--reports",
        type=Path,
        default=None,
        help="output folder (default: $ALLIANCE_REPORTS_DIR, else <repo>/reports)",
    )
    parser.add_argument(
        "--notebooks",
        type=Path,
        default=REPO_ROOT / "notebooks",
        help="folder of NN_name.ipynb notebooks (default: <repo>/notebooks)",
    )
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a value of the cell tagged 'parameters' (repeatable); "
        "VALUE is read as a Python literal, else as a string",
    )
    parser.add_argument(
        "--timeout",
        type=int,
        default=1800,
        help="seconds one cell may run before the run fails (default 1800)",
    )
    parser.add_argument("--jobs", type=int, default=2,
                        help="notebooks executed at the same time, each in its own worker process and "
                        "kernel (default 2; 1 runs them one by one). Outputs do not depend on it.")
    parser.add_argument("--no-pdf", action="store_true", help="do not print index.pdf")
    parser.add_argument("--no-api", action="store_true",
                        help="do not build the API reference into REPORTS/api/")
    return parser.parse_args(argv)


def parse_params(items: list[str]) -> dict[str, object]:
    """Read ``key=value`` items; values are Python literals where they parse.

    >>> parse_params(["n_boot=200", "label=quick", "alpha=0.05"])
    {'n_boot': 200, 'label': 'quick', 'alpha': 0.05}
    """
    params: dict[str, object] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise ReproductionError(f"--param must look like name=value, got {item!r}.")
        try:
            params[key] = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            params[key] = raw
    return params


def resolve_layout(args: argparse.Namespace) -> Layout:
    """Folders from the options, then the environment, then the repository defaults."""
    if args.reports is not None:
        reports = args.reports
    elif os.environ.get("ALLIANCE_REPORTS_DIR"):
        reports = Path(os.environ["ALLIANCE_REPORTS_DIR"])
    else:
        reports = REPO_ROOT / "reports"
    reports = reports.resolve()
    ledger = os.environ.get("ALLIANCE_LEDGER")
    ledger_file = Path(ledger).resolve() if ledger else reports / "ledger.csv"
    return Layout(notebooks=args.notebooks.resolve(), reports=reports, ledger=ledger_file)


# --------------------------------------------------------------------------
# Step 1: clean
# --------------------------------------------------------------------------


def clean_outputs(layout: Layout) -> None:
    """Remove the outputs of earlier runs, and only those.

    Deleted: the files matching :data:`GENERATED` (index HTML and PDF, figures,
    notebook pages) and the MathJax copy; the ledger is emptied to its header.
    Kept: ``README.md`` and every other file or folder. A ledger path naming a
    file that is not a ledger stops the run (nothing is deleted).
    """
    try:
        reset_ledger(layout.ledger)
    except ValueError as error:
        raise ReproductionError(f"the ledger was not reset: {error}") from None
    for pattern in GENERATED:
        for stale in layout.reports.glob(pattern):
            if stale.is_file() or stale.is_symlink():
                stale.unlink()
    if (layout.mathjax / "MathJax.js").is_file():
        shutil.rmtree(layout.mathjax)
    if (layout.reports / "api" / ".buildinfo").is_file():  # the API reference Sphinx wrote
        shutil.rmtree(layout.reports / "api")
    layout.figures.mkdir(parents=True, exist_ok=True)
    layout.html_dir.mkdir(parents=True, exist_ok=True)


# --------------------------------------------------------------------------
# Step 2: execute
# --------------------------------------------------------------------------


def find_notebooks(folder: Path) -> list[Path]:
    """The numbered notebooks, in order."""
    if not folder.is_dir():
        raise ReproductionError(f"notebook folder {folder} does not exist.")
    return sorted(folder.glob(NOTEBOOK_GLOB))


def kernel_environment(layout: Layout, notebook: Path) -> dict[str, str]:
    """The environment of a notebook's kernel."""
    env = dict(os.environ)
    env["IPYTHONDIR"] = str(_ipython_dir())
    env["ALLIANCE_NOTEBOOK"] = notebook.name
    env["ALLIANCE_REPORTS_DIR"] = str(layout.reports)
    env["ALLIANCE_LEDGER"] = str(layout.ledger)
    # `make` exports MPLBACKEND=Agg for scripts; in a kernel it would hide every
    # figure from the HTML. Without it ipykernel selects the inline backend.
    env.pop("MPLBACKEND", None)
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def execute_notebook(
    path: Path, layout: Layout, params: dict[str, object], timeout: int, pages: Layout | None = None
) -> nbformat.NotebookNode:
    """Run a notebook top to bottom in a fresh kernel; raise on the first error.

    The kernel writes figures and ledger rows where `layout` says; a partial page of a failed
    notebook goes to the pages folder of `pages` (default `layout`).
    """
    nb = nbformat.read(path, as_version=4)
    if not inject_parameters(nb, params):
        print(f"    note: {path.name} has no cell tagged 'parameters'; --param ignored")
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=False,
        record_timing=False,  # no timestamps in the executed notebook
        resources={"metadata": {"path": str(path.parent)}},
    )
    current = {"index": -1}

    def on_cell_start(cell, cell_index, **_):
        current["index"] = cell_index

    client.on_cell_start = on_cell_start
    try:
        client.execute(env=kernel_environment(layout, path))
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
        index = current["index"]
        cell = nb.cells[index] if 0 <= index < len(nb.cells) else None
        try:  # the partial notebook shows the traceback in context
            failed_html = str(export_html(nb, path.stem, pages or layout))
        except Exception as export_error:  # noqa: BLE001 - never mask the real failure
            failed_html = f"(not written: {export_error})"
        where = f"cell {index + 1} of {len(nb.cells)}" if cell is not None else "start-up"
        excerpt = f"\n  source:\n{_cell_excerpt(cell)}" if cell is not None else ""
        raise ReproductionError(
            f"notebook {path.name} failed at {where} ({type(error).__name__}).{excerpt}\n"
            f"  partial output: {failed_html}\n{strip_ansi(str(error))}"
        ) from None
    return nb


# --------------------------------------------------------------------------
# Step 3: HTML that reads offline
# --------------------------------------------------------------------------


def copy_mathjax(layout: Layout) -> None:
    """Copy MathJax from the jupyter-server-mathjax package beside the pages."""
    import jupyter_server_mathjax

    source = Path(jupyter_server_mathjax.__file__).parent / "static"
    if not (source / "MathJax.js").exists():
        raise ReproductionError(f"MathJax not found in {source} (jupyter-server-mathjax).")
    if not layout.mathjax.exists():
        shutil.copytree(source, layout.mathjax)


def export_html(nb: nbformat.NotebookNode, stem: str, layout: Layout) -> Path:
    """Write ``reports/notebooks/<stem>.html`` (offline template, ``qc`` cells folded)."""
    body = render_notebook(nb, stem, MATHJAX_URL, source_dir=layout.notebooks, page_dir=layout.html_dir,
                           exported=[path.name for path in find_notebooks(layout.notebooks)])
    target = layout.html_dir / f"{stem}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(body, encoding="utf-8")
    return target


def check_offline(path: Path) -> None:
    """Fail if the page at `path` would load anything from the network."""
    remote = external_resources(path.read_text(encoding="utf-8"))
    if remote:
        raise ReproductionError(
            f"{path} loads external resources (it must read offline): {remote[:5]}"
        )


def notebook_title(nb: nbformat.NotebookNode, fallback: str) -> str:
    """The first Markdown heading of the notebook, else `fallback`."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            match = re.match(r"#{1,6}\s+(.*\S)", line.strip())
            if match:
                return match.group(1)
    return fallback


def figure_names(folder: Path) -> set[str]:
    return {p.stem for p in folder.glob("*.png")}


def check_figure_formats(layout: Layout) -> None:
    """Every exported figure must exist in all three formats."""
    stems = {p.stem for fmt in FIGURE_FORMATS for p in layout.figures.glob(f"*.{fmt}")}
    missing = [
        f"{stem}.{fmt}"
        for stem in sorted(stems)
        for fmt in FIGURE_FORMATS
        if not (layout.figures / f"{stem}.{fmt}").exists()
    ]
    if missing:
        raise ReproductionError(f"figures missing a format in {layout.figures}: {missing}")


# --------------------------------------------------------------------------
# Step 4: the API reference (the index page itself is built by tools/index_page.py)
# --------------------------------------------------------------------------

def build_api(layout: Layout) -> bool:
    """Build the API reference (Sphinx) into ``reports/api/``; True when written."""
    sys.path.insert(0, str(TOOLS_DIR))
    from build_docs import build

    try:
        build(layout.reports / "api")
    except RuntimeError as error:
        raise ReproductionError(f"the API reference was not built: {error}") from None
    return True


# --------------------------------------------------------------------------
# Step 5: PDF
# --------------------------------------------------------------------------


def print_pdf(layout: Layout, chromium: str = CHROMIUM) -> bool:
    """Print the index to PDF with headless chromium; False if chromium is absent."""
    try:
        return print_to_pdf(layout.index, layout.pdf, chromium)
    except RunnerError as error:
        raise ReproductionError(str(error)) from None


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------


def _stage(layout: Layout, staging: Path, notebook: Path) -> Layout:
    """Where one notebook's kernel writes while notebooks run in parallel: its own folder.

    Figures and ledger rows of a notebook go to ``staging/<stem>/`` and are moved into the
    reports folder (figures) and merged in notebook order (ledger) when it has finished, so the
    outputs do not depend on which notebook finishes first.
    """
    folder = staging / notebook.stem
    (folder / "figures").mkdir(parents=True, exist_ok=True)
    return Layout(notebooks=layout.notebooks, reports=folder, ledger=folder / "ledger.csv")


def _cpu_seconds() -> float:
    """CPU time of this process and its reaped children (a notebook's kernel, once shut down)."""
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _run_one(path: Path, layout: Layout, stage: Layout, params: dict[str, object],
             timeout: int) -> tuple[str, list[str], float, float]:
    """Execute one notebook (its kernel writing into `stage`) and write its page into `layout`.

    Returns (title, figure names, seconds, CPU seconds). A unit of work for the process pool.
    """
    start, cpu = time.monotonic(), _cpu_seconds()
    reset_ledger(stage.ledger)
    nb = execute_notebook(path, stage, params, timeout, pages=layout)
    page = export_html(nb, path.stem, layout)
    check_offline(page)
    return (notebook_title(nb, path.stem), sorted(figure_names(stage.figures)), time.monotonic() - start,
            _cpu_seconds() - cpu)


def _build_api_job(layout: Layout) -> float:
    """Build the API reference; returns seconds. The logging set-up Sphinx leaves behind is undone,
    so that notebooks run later in the same worker process do not log every step."""
    import logging

    loggers = [logging.getLogger()] + [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    saved = [(lg, lg.level, list(lg.handlers), lg.propagate, lg.disabled) for lg in loggers]
    start = time.monotonic()
    try:
        build_api(layout)
    finally:
        for lg, level, handlers, propagate, disabled in saved:
            lg.setLevel(level)
            lg.handlers[:] = handlers
            lg.propagate, lg.disabled = propagate, disabled
        for name in list(logging.root.manager.loggerDict):  # loggers Sphinx created: back to defaults
            lg = logging.getLogger(name)
            if all(lg is not item[0] for item in saved):
                lg.setLevel(logging.NOTSET)
                lg.handlers[:] = []
                lg.propagate = True
    return time.monotonic() - start


def _collect(layout: Layout, stage: Layout, path: Path, owners: dict[str, str]) -> None:
    """Move a finished notebook's figures into the reports folder (a name used twice is an error)."""
    for source in sorted(stage.figures.iterdir()):
        if source.stem in owners and owners[source.stem] != path.name:
            raise ReproductionError(f"figure {source.stem!r} is saved by both {owners[source.stem]} and "
                                    f"{path.name}; give one of them another name.")
        owners[source.stem] = path.name
        shutil.move(str(source), layout.figures / source.name)


def merge_ledgers(parts: list[Path], target: Path) -> None:
    """Append the rows of each part ledger to `target`, in the order of `parts`.

    Each part is a ledger written by one notebook; the rows are copied byte for byte (after the
    header, which must be the ledger's), under the ledger's lock.
    """
    from analysis.ledger import _header_line, _rewrite

    header = _header_line()
    body = b""
    for part in parts:
        data = part.read_bytes() if part.exists() else b""
        if not data:
            continue
        if not data.startswith(header):
            raise ReproductionError(f"{part} is not a ledger (its first line is not the ledger's header).")
        body += data[len(header):]
    _rewrite(target, lambda old: (old or header) + body)


def run_notebooks(layout: Layout, params: dict[str, object], timeout: int, jobs: int = 2,
                  api: bool = False) -> list[NotebookRun]:
    """Execute and export every notebook, `jobs` at a time; stop at the first failure.

    Each notebook runs in its own kernel (in a worker process when ``jobs > 1``) and writes its
    figures and ledger rows into a staging folder of its own; when it has finished its figures
    move into the reports folder, and at the end the ledgers are merged in notebook order, so
    every output is the same whatever the number of jobs and whichever notebook finishes
    first. With `api`, the API reference is built as one more job beside the notebooks.
    Per-notebook times are printed (they are not written into the reports: they differ run to run).

    On a failure the run stops with the error of the first failing notebook (in notebook
    order); pages of later notebooks are removed, as if the notebooks had run one by one.
    """
    import tempfile
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    notebooks = find_notebooks(layout.notebooks)
    if not notebooks:
        raise ReproductionError(f"no notebook matching {NOTEBOOK_GLOB} in {layout.notebooks}.")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ReproductionError(f"--jobs must be a whole number >= 1, got {jobs!r}.")
    n = len(notebooks)
    done: dict[Path, NotebookRun] = {}
    failures: dict[Path, BaseException] = {}
    owners: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="alliance-reproduce-") as tmp:
        staging = Path(tmp)
        stages = {path: _stage(layout, staging, path) for path in notebooks}

        def finish(path: Path, result: tuple[str, list[str], float, float]) -> None:
            title, figures, seconds, cpu = result
            _collect(layout, stages[path], path, owners)
            done[path] = NotebookRun(path=path, title=title, html=layout.html_dir / f"{path.stem}.html",
                                     figures=figures, seconds=seconds, cpu_seconds=cpu)
            print(f"[{len(done)}/{n}] {path.name} ok in {seconds:.1f} s ({cpu:.1f} CPU s), "
                  f"{len(figures)} new figures", flush=True)

        if jobs == 1:
            if api:
                print(f"API reference built in {_build_api_job(layout):.1f} s", flush=True)
            for number, path in enumerate(notebooks, start=1):
                print(f"[{number}/{n}] {path.name} ...", flush=True)
                finish(path, _run_one(path, layout, stages[path], params, timeout))
        else:
            import multiprocessing

            # fork: the workers inherit this module as loaded (also when imported from a file path)
            with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
                pending = {}
                if api:  # the longest single job: start it first
                    pending[pool.submit(_build_api_job, layout)] = None
                for path in notebooks:
                    pending[pool.submit(_run_one, path, layout, stages[path], params, timeout)] = path
                print(f"running {n} notebooks{' and the API reference' if api else ''} on {jobs} workers",
                      flush=True)
                while pending:
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        path = pending.pop(future)
                        try:
                            result = future.result()
                        except BaseException as error:  # noqa: BLE001 - reported below, in notebook order
                            if path is None:
                                failures[Path("API reference")] = error
                            else:
                                failures[path] = error
                            for other in pending:
                                other.cancel()
                            continue
                        if path is None:
                            print(f"API reference built in {result:.1f} s", flush=True)
                        elif not failures:
                            finish(path, result)
        if failures:
            first = min((p for p in failures if p in stages), default=None)
            if first is not None:
                for later in notebooks[notebooks.index(first) + 1:]:
                    (layout.html_dir / f"{later.stem}.html").unlink(missing_ok=True)
                # the ledger holds the rows of the notebooks before the failure, as a run one by one
                merge_ledgers([stages[p].ledger for p in notebooks[:notebooks.index(first)] if p in done],
                              layout.ledger)
            error = failures[first] if first is not None else next(iter(failures.values()))
            if isinstance(error, ReproductionError):
                raise error
            raise ReproductionError(f"{first.name if first else 'the API reference'}: "
                                    f"{type(error).__name__}: {error}") from None
        merge_ledgers([stages[path].ledger for path in notebooks], layout.ledger)
    runs = [done[path] for path in notebooks]
    width = max(len(run.path.name) for run in runs)
    print(f"notebook times (s):\n  {'':<{width}}    wall     CPU\n"
          + "\n".join(f"  {run.path.name:<{width}} {run.seconds:7.1f} {run.cpu_seconds:7.1f}" for run in runs)
          + f"\n  {'sum':<{width}} {sum(r.seconds for r in runs):7.1f} {sum(r.cpu_seconds for r in runs):7.1f}",
          flush=True)
    return runs


def reproduce(layout: Layout, params: dict[str, object], timeout: int, pdf: bool,
              api: bool = True, jobs: int = 2) -> int:
    """All steps; returns the number of FAIL entries in the ledger."""
    print(f"reports: {layout.reports}\nledger:  {layout.ledger}", flush=True)
    clean_outputs(layout)
    copy_mathjax(layout)
    runs = run_notebooks(layout, params, timeout, jobs=jobs, api=api)
    check_figure_formats(layout)
    if api:  # built beside the notebooks by run_notebooks
        print(f"wrote {layout.reports / 'api' / 'index.html'}")
    layout.index.write_text(build_index(layout, runs), encoding="utf-8")
    check_offline(layout.index)
    print(f"wrote {layout.index}")
    if not pdf:
        print("PDF skipped (--no-pdf).")
    elif print_pdf(layout):
        print(f"wrote {layout.pdf}")
    else:
        print(f"NOTE: {CHROMIUM} not found, so index.pdf was skipped "
              "(install Debian's chromium to get it).")
    frame = read_ledger(layout.ledger)
    n_fail = int((frame["status"] != "pass").sum())
    # a FAIL traced to an inconsistency in the published source is not a failure of ours
    explained = known_discrepancies()
    n_source = sum((r.claim, r.notebook) in explained for r in frame[frame["status"] != "pass"].itertuples())
    print(f"ledger: {len(frame)} comparisons, {n_fail} FAIL"
          + (f" ({n_source} of them discrepancies in the published source, listed on the index)" if n_source else ""))
    return n_fail


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit code.

    0 when every notebook ran (FAIL rows in the ledger are reported, not
    fatal: they are results); 1 when a step failed.
    """
    args = parse_args(argv)
    try:
        params = parse_params(args.param)
        layout = resolve_layout(args)
        reproduce(layout, params, args.timeout, pdf=not args.no_pdf, api=not args.no_api, jobs=args.jobs)
    except ReproductionError as error:
        print(f"\nREPRODUCTION FAILED: {error}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
