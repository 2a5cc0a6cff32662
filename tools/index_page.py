"""The front page of the reports, ``reports/index.html``, built from the ledger and the runs.

``tools/reproduce.py`` executes the notebooks; this module turns what they wrote (the
ledger, the figures, one :class:`NotebookRun`-like record per notebook) into one HTML page:

* a *Start here* path through the notebooks (tour, 01, 02, ...), one line each, and the
  headline figure at the top;
* what the workbook is, the API link, a gallery of every figure;
* the reproduction ledger, grouped by notebook and, inside each notebook, by kind
  (published reanalysis / published conversion / oracle / simulation), each group a
  ``<details>`` element; a few lines of inline JavaScript (no file, no CDN) add a search box
  and a status filter. Without JavaScript every group is open and everything is visible.

A ledger row is in one of three states: ``pass``; ``discrepancy`` when it is outside its
tolerance and the cause was traced to the published source
(``data/published/known_discrepancies.csv``: shown in amber as "discrepancy in the
source", with the explanation); ``FAIL`` otherwise (red: a failure of ours until explained).

The page is deterministic (sorted, no timestamps), loads nothing from the network and
wraps long text so that it fits a 1,280 px window without a horizontal scroll bar.

The layout and the runs are duck-typed so that the module can be used (and tested)
without importing the runner: ``layout`` needs ``reports``, ``ledger`` and ``figures``
(paths), each run ``path`` (the notebook), ``title``, ``html`` (its page) and ``figures``
(the stems of the figures it saved).
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from analysis._runner import REPORT_CSS  # noqa: E402
from analysis.ledger import KINDS, read_ledger  # noqa: E402

#: FAIL rows whose cause was traced to the published source (an internally inconsistent
#: table, say), with an explanation; they stay outside tolerance, and the index shows why.
KNOWN_DISCREPANCIES = REPO_ROOT / "data" / "published" / "known_discrepancies.csv"

#: The figure shown at the top of the page (saved by notebook 01; README shows a copy).
HEADLINE_FIGURE = "01_headline_relationship_vs_technique"
HEADLINE_CAPTION = (
    "Relationship elements and technique on one scale: published meta-analytic results as r "
    "with its 95% CI, the same effect as Cohen's d, and as % of outcome variance."
)

#: One line per notebook for the Start-here path, by the notebook's number: what it teaches,
#: beside its title.
STEP_LINES = {
    "00": "Start here: load a shipped dataset, compute and convert effect sizes (r, d, % of "
          "variance), draw a figure and record a comparison with a published number.",
    "01": "The published meta-analyses of each relationship element and of technique on one "
          "scale; how a random-effects meta-analysis pools studies; the headline figure.",
    "02": "The same question on trial data: the Dodo bird verdict, the dose of relationship and "
          "a network meta-analysis of CBT.",
    "03": "How much outcomes differ between therapists: multilevel models, the intraclass "
          "correlation, within- and between-therapist alliance effects.",
    "04": "Within- and between-patient effects over sessions: cross-lagged models and what "
          "reverse causation looks like.",
    "05": "Reliable and clinically significant change, sudden gains and rupture-repair episodes "
          "in individual patients.",
    "06": "Scoring the WAI-SR, reliability (alpha, omega), factor models and measurement "
          "invariance.",
    "07": "Simulation-based power for designs with therapists and patients, and the type I error "
          "of ignoring clustering.",
    "08": "Growth, GEE and meta-analysis results of published analyses re-run on the published "
          "data, each number beside the printed one.",
}

#: The question, in one sentence under the title.
LEAD = ("How much of a patient's improvement in psychotherapy comes from the therapeutic "
        "relationship, and how much from the specific technique? Each notebook answers a part "
        "of it with tested estimators on open data.")

ABOUT = (
    "The alliance workbook asks how much of a patient's improvement in psychotherapy comes "
    "from the therapeutic relationship &mdash; working alliance, empathy, positive regard, "
    "goal consensus, rupture and repair, hope &mdash; and how much from the specific "
    "technique. Its notebooks re-run published analyses on open data with tested "
    "estimators, and every comparison of a published number with ours is recorded in the "
    "ledger below against a tolerance stated in advance.",
    "It is written for academics who want to reproduce published alliance and technique "
    "analyses and then run them on their own data, and for students learning the methods of "
    "alliance research: effect sizes, meta-analysis, therapist and session effects, change "
    "and psychometrics. This page and everything it links were rebuilt from scratch by "
    "<code>make reproduce</code>.",
)

#: How the page names each ledger kind (analysis.ledger.KINDS): (title, what a row is).
KIND_TEXT = {
    "published-reanalysis": ("Published reanalysis",
                             "a published result reproduced by re-running the analysis on its data"),
    "published-conversion": ("Published conversion",
                             "a printed number met by arithmetic on other printed numbers"),
    "oracle": ("Oracle", "one of our estimates checked against an R reference"),
    "simulation": ("Simulation", "a simulation's known truth recovered"),
}

#: The three states of a row: CSS class -> label shown.
STATUS_TEXT = {"pass": "pass", "discrepancy": "discrepancy in the source", "fail": "FAIL"}

DISCREPANCY_LABEL = STATUS_TEXT["discrepancy"]


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


def known_discrepancies(path: Path = KNOWN_DISCREPANCIES) -> dict[tuple[str, str], str]:
    """{(claim, notebook): explanation} for FAIL rows explained in the repository."""
    path = Path(path)
    if not path.exists():
        return {}
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    return {(r.claim, r.notebook): r.explanation for r in table.itertuples(index=False)}


def row_states(frame: pd.DataFrame, explained: dict[tuple[str, str], str] | None = None) -> list[str]:
    """The state of each ledger row: ``"pass"``, ``"discrepancy"`` or ``"fail"``.

    A row outside its tolerance is a ``"discrepancy"`` when ``(claim, notebook)`` is a key
    of `explained` (a published inconsistency), else ``"fail"``.

    >>> frame = pd.DataFrame({"claim": ["a", "b", "c"], "notebook": ["x", "x", "x"],
    ...                       "status": ["pass", "FAIL", "FAIL"]})
    >>> row_states(frame, {("b", "x"): "the table adds up to 101%"})
    ['pass', 'discrepancy', 'fail']
    """
    explained = explained or {}
    claims = frame["claim"] if "claim" in frame else [""] * len(frame)
    notebooks = frame["notebook"] if "notebook" in frame else [""] * len(frame)
    states = []
    for status, claim, notebook in zip(frame["status"], claims, notebooks):
        if status == "pass":
            states.append("pass")
        elif (claim, notebook) in explained:
            states.append("discrepancy")
        else:
            states.append("fail")
    return states


def _kinds_in(frame: pd.DataFrame) -> list[str]:
    present = set(frame["kind"]) if "kind" in frame else set()
    return [*KINDS, *sorted(present - set(KINDS))]


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _state_counts(states: list[str]) -> str:
    """'3 pass, 1 discrepancy in the source, 1 FAIL' (zero counts left out, pass always shown)."""
    n = {state: states.count(state) for state in STATUS_TEXT}
    parts = [f'<span class="count pass">{n["pass"]} pass</span>']
    if n["discrepancy"]:
        parts.append(f'<span class="count discrepancy">'
                     f'{_plural(n["discrepancy"], "discrepancy", "discrepancies")} in the source</span>')
    if n["fail"]:
        parts.append(f'<span class="count fail">{n["fail"]} FAIL</span>')
    return ", ".join(parts)


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def _anchor(*parts: str) -> str:
    """An id made of `parts`: letters, digits, '-' and '_' only."""
    return "-".join(re.sub(r"[^A-Za-z0-9_-]+", "_", part) for part in parts)


def figure_names(folder: Path) -> set[str]:
    return {p.stem for p in Path(folder).glob("*.png")}


# --------------------------------------------------------------------------
# Sections
# --------------------------------------------------------------------------


def _step_line(run) -> str:
    return STEP_LINES.get(Path(run.path).name[:2], "")


def _short_name(run) -> str:
    """'00 tour', '01 relationship elements' from the notebook's file name."""
    stem = Path(run.path).stem
    number, _, rest = stem.partition("_")
    return f"{number} {rest.replace('_', ' ')}".strip()


def start_path(runs) -> str:
    """One line at the top: Start here: 00 tour -> 01 ... -> 08 ..., each a link to its page."""
    e = html.escape
    if not runs:
        return ""
    steps = " &rarr; ".join(f'<a href="notebooks/{e(Path(run.html).name)}">{e(_short_name(run))}</a>'
                            for run in runs)
    return (f'<nav class="start-path" aria-label="Start here"><strong>Start here:</strong> {steps} '
            '<span class="meta">(<a href="#start">one line on each</a>)</span></nav>')


def headline_figure(runs, figures: set[str]) -> str:
    """The headline figure (:data:`HEADLINE_FIGURE`), or '' when it was not drawn."""
    e = html.escape
    if HEADLINE_FIGURE not in figures:
        return ""
    origin = next((run for run in runs if HEADLINE_FIGURE in run.figures), None)
    source = (f' From notebook <a href="notebooks/{e(Path(origin.html).name)}">{e(Path(origin.path).stem)}</a>.'
              if origin else "")
    stem = e(HEADLINE_FIGURE)
    return (
        f'<figure class="headline" id="headline"><a href="figures/{stem}.png">'
        f'<img src="figures/{stem}.png" alt="Headline figure: relationship elements and technique '
        f'on one scale"></a><figcaption><strong>The headline.</strong> {e(HEADLINE_CAPTION)}{source} '
        f'(<a href="figures/{stem}.svg">SVG</a> &middot; <a href="figures/{stem}.pdf">PDF</a>)'
        "</figcaption></figure>"
    )


def start_section(runs, frame: pd.DataFrame) -> str:
    """The Start-here path (tour, 01, 02, ...) with one line each on what the notebook teaches."""
    e = html.escape
    items = []
    for run in runs:
        name = Path(run.path).name
        n_rows = int((frame["notebook"] == name).sum()) if not frame.empty else 0
        line = _step_line(run)
        items.append(
            f'<li><a href="notebooks/{e(Path(run.html).name)}"><strong>{e(run.title)}</strong></a>'
            + (f"<br>{e(line)}" if line else "")
            + f' <span class="meta">({_plural(len(run.figures), "figure")}, '
            f'{_plural(n_rows, "ledger entry", "ledger entries")})</span></li>'
        )
    path = ('<ol class="path">\n' + "\n".join(items) + "\n</ol>") if items else (
        '<p class="empty">No notebook was run.</p>')
    intro = ("<p>Read the notebooks in this order; each page is the executed notebook, with every "
             "number it prints and every figure it draws. Cells that check our numbers against R "
             "and the published ones are folded away under <em>Checks</em>. Run a notebook yourself in "
             "JupyterLab from the repository's <code>notebooks/</code> folder; worked answers to its "
             "exercises are in <code>notebooks/answers/</code>.</p>")
    return f'<section id="start">\n<h2>Start here</h2>\n{intro}\n{path}\n</section>'


def gallery_section(figures_dir: Path, runs) -> str:
    """Every exported figure (PNG shown, SVG and PDF linked), with the notebook that drew it."""
    e = html.escape
    origin = {name: run for run in runs for name in run.figures}
    figures = []
    for stem in sorted(figure_names(figures_dir)):
        run = origin.get(stem)
        source = (
            f' &middot; from <a href="notebooks/{e(Path(run.html).name)}">{e(Path(run.path).stem)}</a>'
            if run
            else ""
        )
        figures.append(
            f'<figure id="figure-{e(stem)}"><a href="figures/{e(stem)}.png">'
            f'<img src="figures/{e(stem)}.png" alt="Figure {e(stem)}"></a>'
            f'<figcaption><span class="name">{e(stem)}</span>{source}<br>'
            f'<a href="figures/{e(stem)}.png">PNG</a> &middot; '
            f'<a href="figures/{e(stem)}.svg">SVG</a> &middot; '
            f'<a href="figures/{e(stem)}.pdf">PDF</a></figcaption></figure>'
        )
    if not figures:
        return '<p class="empty">No figure was exported.</p>'
    return '<div class="gallery">\n' + "\n".join(figures) + "\n</div>"


def kind_counts(frame: pd.DataFrame, explained: dict[tuple[str, str], str] | None = None) -> str:
    """One paragraph counting the ledger's rows by kind, in the order of KINDS, with their states.

    Says how many published results are reproduced from data, how many converted, how many
    of our estimates are checked against R and how many against a simulation's truth.
    """
    states = row_states(frame, explained)
    parts = []
    for kind in _kinds_in(frame):
        mask = (frame["kind"] == kind).to_numpy() if len(frame) else []
        kind_states = [s for s, m in zip(states, mask) if m]
        title, what = KIND_TEXT.get(kind, (kind, "other"))
        n = len(kind_states)
        counts = f" ({_state_counts(kind_states)})" if n else ""
        parts.append(f'<li><strong>{n}</strong> <em>{html.escape(kind)}</em>: '
                     f"{html.escape(what, quote=False)}{counts}</li>")
    return ('<ul class="kind-counts" id="ledger-kinds">\n' + "\n".join(parts) + "\n</ul>")


def provenance_line(frame: pd.DataFrame) -> str:
    """One sentence: how many rows are published results reproduced from data, conversions,
    R checks and simulation truths.

    >>> provenance_line(pd.DataFrame({"kind": ["oracle", "oracle", "published-reanalysis"]}))
    '<p class="status-line" id="ledger-provenance">Of the 3 comparisons, 1 is a published result \
reproduced from its data, 0 are published numbers converted from other printed numbers, 2 are our \
estimates checked against R and 0 are simulation truths recovered.</p>'
    """
    phrases = {
        "published-reanalysis": ("is a published result reproduced from its data",
                                 "are published results reproduced from their data"),
        "published-conversion": ("is a published number converted from other printed numbers",
                                 "are published numbers converted from other printed numbers"),
        "oracle": ("is our estimate checked against R", "are our estimates checked against R"),
        "simulation": ("is a simulation truth recovered", "are simulation truths recovered"),
    }
    parts = []
    for kind in _kinds_in(frame):
        n = int((frame["kind"] == kind).sum()) if len(frame) else 0
        one, many = phrases.get(kind, (f"is of kind {kind}", f"are of kind {kind}"))
        parts.append(f"{n} {one if n == 1 else many}")
    listed = ", ".join(parts[:-1]) + " and " + parts[-1]
    return (f'<p class="status-line" id="ledger-provenance">Of the {_plural(len(frame), "comparison")}, '
            f"{html.escape(listed)}.</p>")


def status_section(frame: pd.DataFrame, runs, n_figures: int,
                   explained: dict[tuple[str, str], str]) -> str:
    """The badges and counts at the top of the page.

    The badges open on the passes; a published inconsistency gets an amber
    "discrepancy in the source" badge, and the red FAIL badge appears only for rows
    outside tolerance with no traced cause.
    """
    states = row_states(frame, explained)
    n_pass, n_disc, n_fail = (states.count(s) for s in ("pass", "discrepancy", "fail"))
    badges = [f'<span class="badge pass">{n_pass} pass</span>']
    if n_disc:
        badges.append(f'<span class="badge discrepancy">'
                      f'{_plural(n_disc, "discrepancy", "discrepancies")} in the source</span>')
    if n_fail:
        badges.append(f'<span class="badge fail">{n_fail} FAIL</span>')
    text = (f'<p class="status-line" id="ledger-status">{" ".join(badges)} '
            f'of {_plural(len(frame), "comparison")} in the <a href="#ledger">ledger</a> &middot; '
            f'{_plural(len(runs), "notebook")} &middot; {_plural(n_figures, "figure")}</p>\n')
    text += provenance_line(frame)
    notes = []
    if n_disc:
        notes.append(
            f'<span class="discrepancy-text">{_plural(n_disc, "published number")} '
            f"{'is' if n_disc == 1 else 'are'} not met because the source contradicts itself "
            "(discrepancy in the source)</span>: each row says why "
            "(<code>data/published/known_discrepancies.csv</code>); they stay outside tolerance "
            "and are not counted as passes")
    if n_fail:
        notes.append(
            f'<span class="fail-text">{_plural(n_fail, "comparison")} outside tolerance with no '
            "traced cause (FAIL)</span>: marked in red in the ledger")
    if notes:
        text += "\n<p>" + ". ".join(notes) + ".</p>"
    return text


def _ledger_row(record, state: str, explained: dict[tuple[str, str], str]) -> str:
    e = html.escape
    unit = f" {e(record.unit)}" if record.unit else ""
    tolerance = (
        f"&plusmn;{_fmt(record.tolerance)} &times; |published|"
        if record.relative
        else f"&plusmn;{_fmt(record.tolerance)}"
    )
    note = explained.get((record.claim, record.notebook))
    # the explanation of a published inconsistency gets the table's full width, in the row below
    explanation = (f'\n<tr class="note"><td colspan="6"><div class="explained"><strong>Discrepancy in '
                   f"the source:</strong> {e(note)}</div></td></tr>"
                   if state == "discrepancy" and note else "")
    return (
        f'<tr class="{state}"><td class="claim">{e(record.claim)}'
        f'<div class="source">{e(record.source)}</div></td>'
        f'<td class="num">{_fmt(record.published)}{unit}</td>'
        f'<td class="num">{_fmt(record.ours)}{unit}</td>'
        f'<td class="num">{record.difference:+.3g}</td>'
        f'<td class="num">{tolerance}</td>'
        f'<td class="status">{STATUS_TEXT[state]}</td></tr>{explanation}'
    )


_TABLE_HEAD = (
    '<table class="ledger"><colgroup><col class="c-claim"><col class="c-num"><col class="c-num">'
    '<col class="c-num"><col class="c-tol"><col class="c-status"></colgroup>'
    "<thead><tr><th>claim and source</th><th>published</th><th>ours</th><th>difference</th>"
    "<th>tolerance</th><th>status</th></tr></thead><tbody>"
)


def _notebook_order(frame: pd.DataFrame, runs) -> list[str]:
    names = [Path(run.path).name for run in runs]
    return names + sorted(set(frame["notebook"]) - set(names))


def ledger_groups(frame: pd.DataFrame, runs, explained: dict[tuple[str, str], str]) -> str:
    """The ledger as one ``<details>`` per notebook, holding one ``<details>`` per kind."""
    e = html.escape
    if frame.empty:
        return '<p class="empty">No comparison was recorded.</p>'
    states = row_states(frame, explained)
    frame = frame.assign(_state=states)
    by_name = {Path(run.path).name: run for run in runs}
    blocks = []
    for notebook in _notebook_order(frame, runs):
        rows = frame[frame["notebook"] == notebook]
        if rows.empty:
            continue
        run = by_name.get(notebook)
        label = notebook or "(no notebook)"
        title = f" &mdash; {e(run.title)}" if run else ""
        link = (f'<p class="group-link">Comparisons recorded by '
                f'<a href="notebooks/{e(Path(run.html).name)}">{e(Path(run.path).stem)}</a>.</p>'
                if run else "")
        kinds = []
        for kind in _kinds_in(rows):
            part = rows[rows["kind"] == kind]
            if part.empty:
                continue
            kind_title, what = KIND_TEXT.get(kind, (kind, "other"))
            body = "\n".join(_ledger_row(r, state, explained)
                             for r, state in zip(part.itertuples(index=False), part["_state"]))
            kinds.append(
                f'<details class="kind-group" open id="{_anchor("ledger", Path(label).stem, kind)}" '
                f'data-kind="{e(kind)}">'
                f'<summary><span class="group-title">{e(kind_title)}</span> '
                f'<span class="meta">({e(what)})</span> &middot; '
                f'{_plural(len(part), "comparison")}: {_state_counts(list(part["_state"]))}</summary>\n'
                f"{_TABLE_HEAD}\n{body}\n</tbody></table></details>"
            )
        blocks.append(
            f'<details class="notebook-group" open id="{_anchor("ledger", Path(label).stem)}" '
            f'data-notebook="{e(label)}">'
            f'<summary><span class="group-title">{e(Path(label).stem)}</span>{title} &middot; '
            f'{_plural(len(rows), "comparison")}: {_state_counts(list(rows["_state"]))}</summary>\n'
            f"{link}\n" + "\n".join(kinds) + "\n</details>"
        )
    return '<div id="ledger-groups">\n' + "\n".join(blocks) + "\n</div>"


def ledger_overview(frame: pd.DataFrame, runs) -> str:
    """A small notebook x kind table of row counts, each count linking to its group."""
    if frame.empty:
        return ""
    kinds = _kinds_in(frame)
    head = "".join(f"<th>{html.escape(KIND_TEXT.get(k, (k, ''))[0])}</th>" for k in kinds)
    rows = []
    for notebook in _notebook_order(frame, runs):
        part = frame[frame["notebook"] == notebook]
        if part.empty:
            continue
        stem = Path(notebook or "(no notebook)").stem
        cells = []
        for kind in kinds:
            n = int((part["kind"] == kind).sum())
            cells.append(f'<td class="num"><a href="#{_anchor("ledger", stem, kind)}">{n}</a></td>'
                         if n else '<td class="num zero">&ndash;</td>')
        rows.append(f'<tr><th scope="row"><a href="#{_anchor("ledger", stem)}">{html.escape(stem)}</a>'
                    f'</th>{"".join(cells)}<td class="num">{len(part)}</td></tr>')
    totals = "".join(f'<td class="num">{int((frame["kind"] == k).sum())}</td>' for k in kinds)
    return (f'<table class="overview"><thead><tr><th>notebook</th>{head}<th>all</th></tr></thead>'
            f'<tbody>\n' + "\n".join(rows) + f'\n<tr class="total"><th scope="row">all</th>{totals}'
            f'<td class="num">{len(frame)}</td></tr></tbody></table>')


# The search box and the status filter. The bar is hidden until the script runs, so that
# a reader without JavaScript sees no control that does nothing (and every group open).
LEDGER_TOOLS = """<div id="ledger-tools" class="ledger-tools" hidden>
<label>Search <input type="search" id="ledger-search" placeholder="claim, source, notebook, kind, number"></label>
<label>Status <select id="ledger-filter">
<option value="all">all</option>
<option value="pass">pass</option>
<option value="notpass">not pass (FAIL or discrepancy)</option>
<option value="fail">FAIL</option>
<option value="discrepancy">discrepancy in the source</option>
</select></label>
<button type="button" id="ledger-expand">Expand all</button>
<button type="button" id="ledger-collapse">Collapse all</button>
<span id="ledger-shown" class="meta" aria-live="polite"></span>
</div>"""

LEDGER_SCRIPT = """<script>
(function () {
  var tools = document.getElementById('ledger-tools');
  if (!tools) return;
  tools.hidden = false;
  var search = document.getElementById('ledger-search');
  var filter = document.getElementById('ledger-filter');
  var shown = document.getElementById('ledger-shown');
  var rows = Array.prototype.slice.call(document.querySelectorAll('#ledger-groups tbody tr:not(.note)'));
  var groups = Array.prototype.slice.call(document.querySelectorAll('#ledger-groups details'));
  rows.forEach(function (row) {
    var kind = row.closest('[data-kind]'), nb = row.closest('[data-notebook]');
    var next = row.nextElementSibling;
    row._note = next && next.className === 'note' ? next : null;
    row._text = (row.textContent + ' ' + (row._note ? row._note.textContent : '') + ' ' +
                 (kind ? kind.getAttribute('data-kind') : '') + ' ' +
                 (nb ? nb.getAttribute('data-notebook') : '')).toLowerCase();
  });
  function apply() {
    var words = search.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var want = filter.value, n = 0;
    rows.forEach(function (row) {
      var state = row.className;
      var ok = (want === 'all' || state === want || (want === 'notpass' && state !== 'pass')) &&
               words.every(function (w) { return row._text.indexOf(w) >= 0; });
      row.hidden = !ok;
      if (row._note) row._note.hidden = !ok;
      if (ok) n += 1;
    });
    var active = words.length > 0 || want !== 'all';
    groups.forEach(function (group) {
      var any = group.querySelector('tbody tr:not(.note):not([hidden])') !== null;
      group.hidden = !any;
      if (active && any) group.open = true;
    });
    shown.textContent = n + ' of ' + rows.length + ' comparisons shown';
  }
  function openAll(open) { groups.forEach(function (g) { g.open = open; }); }
  search.addEventListener('input', apply);
  filter.addEventListener('change', apply);
  document.getElementById('ledger-expand').addEventListener('click', function () { openAll(true); });
  document.getElementById('ledger-collapse').addEventListener('click', function () { openAll(false); });
  window.addEventListener('beforeprint', function () { openAll(true); });
  apply();
})();
</script>"""

INDEX_CSS = """
/* tools/index_page.py: the index's own layout (fits 1,280 px; long text wraps) */
:root { --amber: #8a5a00; --amber-bg: #fff4d6; --amber-line: #e3b341; }
body { overflow-wrap: break-word; }
.badge.discrepancy { background: var(--amber-bg); color: var(--amber); }
.count.pass { color: var(--pass); }
.count.fail, .fail-text { color: var(--fail); font-weight: bold; }
.count.discrepancy, .discrepancy-text { color: var(--amber); font-weight: bold; }
.meta { color: var(--muted); font-size: 0.9em; }
.kind-counts { margin: 0.25rem 0 1rem; padding-left: 1.25rem; }
.lead { font-size: 1.1rem; margin: 0.25rem 0 0.75rem; }
.start-path { font-size: 1.05rem; margin: 0.5rem 0; padding: 0.5rem 0.75rem; background: #eef6fc;
  border-left: 4px solid var(--accent); border-radius: 0.25rem; }
ol.path { padding-left: 1.5rem; }
ol.path li { margin: 0.45rem 0; }
figure.headline { margin: 1rem 0; border: 1px solid var(--line); border-radius: 0.4rem; padding: 0.75rem; }
figure.headline img { width: 100%; height: auto; display: block; }
figure.headline figcaption { margin-top: 0.4rem; }
table.overview { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.9em; max-width: 100%; }
table.overview th, table.overview td { border-bottom: 1px solid var(--line); padding: 0.2rem 0.6rem; text-align: left; }
table.overview td.num { text-align: right; }
table.overview td.zero { color: var(--muted); }
table.overview tr.total th, table.overview tr.total td { font-weight: bold; }
.ledger-tools { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: center;
  position: sticky; top: 0; background: #fff; padding: 0.5rem 0; z-index: 1; border-bottom: 1px solid var(--line); }
.ledger-tools[hidden] { display: none; }
.ledger-tools input[type=search] { width: 22rem; max-width: 100%; }
details.notebook-group { border: 1px solid var(--line); border-radius: 0.4rem; margin: 0.75rem 0; padding: 0.25rem 0.75rem; }
details.kind-group { margin: 0.5rem 0 0.75rem 0.5rem; }
details > summary { cursor: pointer; padding: 0.25rem 0; }
details.notebook-group > summary { font-size: 1.05rem; }
.group-title { font-weight: bold; }
.group-link { margin: 0.25rem 0; font-size: 0.9em; }
table.ledger { table-layout: fixed; }
table.ledger col.c-claim { width: 44%; }
table.ledger col.c-num { width: 10%; }
table.ledger col.c-tol { width: 12%; }
table.ledger col.c-status { width: 14%; }
table.ledger td, table.ledger th { overflow-wrap: anywhere; }
table.ledger td.num { white-space: normal; }
table.ledger td.claim .source { color: var(--muted); font-size: 0.9em; }
table.ledger tr.note td { padding-top: 0; }
table.ledger .explained { padding: 0.4rem 0.6rem; background: var(--amber-bg);
  border-left: 3px solid var(--amber-line); color: var(--ink); }
table.ledger tr.discrepancy, table.ledger tr.note { background: #fffbeb; }
table.ledger tr.discrepancy td { border-bottom: none; }
table.ledger tr.discrepancy td.status { color: var(--amber); }
@media print {
  .ledger-tools { display: none; }
  details.notebook-group { break-inside: auto; }
}
"""


def _relative_link(target: Path, base: Path) -> str:
    try:
        return Path(target).relative_to(base).as_posix()
    except ValueError:
        return Path(target).as_uri()


def api_section(layout) -> str:
    """A link to the API reference when ``reports/api/index.html`` was built, else ''."""
    if not (Path(layout.reports) / "api" / "index.html").exists():
        return ""
    return ('<section id="api">\n<h2>API reference</h2>\n<p><a href="api/index.html">Every '
            "function and class of <code>analysis</code></a>, with its formula, reference and "
            "example (built by <code>make docs</code> too).</p>\n</section>\n")


def build_index(layout, runs, explained: dict[tuple[str, str], str] | None = None) -> str:
    """The index page as a string: deterministic (sorted, no timestamps).

    `explained` defaults to :func:`known_discrepancies` of the repository.
    """
    frame = read_ledger(layout.ledger)
    if explained is None:
        explained = known_discrepancies()
    figures = figure_names(layout.figures)
    css = Path(REPORT_CSS).read_text(encoding="utf-8") + INDEX_CSS
    about = "\n".join(f"<p>{paragraph}</p>" for paragraph in ABOUT)
    ledger_file = html.escape(_relative_link(layout.ledger, layout.reports))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>The alliance workbook &mdash; reproduction report</title>
<style>
{css}</style>
</head>
<body>
<header>
<h1>The alliance workbook</h1>
<p class="lead">{html.escape(LEAD)}</p>
{start_path(runs)}
{status_section(frame, runs, len(figures), explained)}
</header>
{headline_figure(runs, figures)}
{start_section(runs, frame)}
<section id="about">
<h2>What this is</h2>
{about}
</section>
{api_section(layout)}<section id="figures">
<h2>Figures</h2>
{gallery_section(layout.figures, runs)}
</section>
<section id="ledger">
<h2>Reproduction ledger</h2>
<p>Published (or reference) values beside ours; difference = ours &minus; published. The rows are
grouped by notebook and, inside each, by kind: <em>published reanalysis</em> (a printed result met
by re-running the published analysis on its data), <em>published conversion</em> (a printed number
met by arithmetic on other printed numbers), <em>oracle</em> (an R reference) and
<em>simulation</em> (a known simulation truth); rows of ledgers written before the split read their
old kind <em>published</em> as <em>published conversion</em>. A row is <span class="count pass">pass</span>,
<span class="count discrepancy">discrepancy in the source</span> (outside tolerance because the
published numbers contradict each other; the row says why) or <span class="count fail">FAIL</span>
(outside tolerance, no traced cause). The full-precision numbers are in
<a href="{ledger_file}">the ledger file</a>. By kind:</p>
{kind_counts(frame, explained)}
{ledger_overview(frame, runs)}
{LEDGER_TOOLS}
{ledger_groups(frame, runs, explained)}
</section>
<footer>Built by <code>tools/reproduce.py</code> (page: <code>tools/index_page.py</code>).</footer>
{LEDGER_SCRIPT}
</body>
</html>
"""
