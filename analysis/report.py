"""One-call reports on your own CSV file: validated data in, a complete report out.

``make_report(kind, path, out=...)`` (or ``python -m analysis report <kind> <file.csv>
--out <folder>``) checks the file against the kind's schema (required and optional
columns, types, missing values; errors name the file's line and column and suggest the
nearest column name), then executes a template notebook from
``analysis/report_templates/`` with the same machinery as ``make reproduce``
(:mod:`analysis._runner`: nbclient, the offline HTML template, chromium for the PDF)
and writes into a folder of its own:

- ``report.html`` (reads offline) and ``report.pdf`` (where Debian's chromium exists);
- ``figures/*.png|svg|pdf`` and ``tables/*.csv``; ``results.json`` (the key numbers at
  full precision); ``report.ipynb`` (the executed notebook);
- ``.alliance-report.json``, the manifest of the files the report wrote.

The report folder is ``<out>/<kind>-<file stem>``. It is created if absent; a folder of
that name made by an earlier report (it has the manifest) has the files listed in its
manifest replaced; any other existing folder, and any folder inside the workbook's
``reports/`` or ``data/``, is refused, so no file the report did not create is
overwritten.

Kinds (``KINDS``): ``meta`` (random-effects meta-analysis: effect sizes from raw
columns or given ``yi``/``vi``, REML with the Knapp-Hartung option, prediction
interval, moderators, forest and funnel plots, Egger's test, trim-and-fill, influence
diagnostics, an APA paragraph); ``therapists`` (therapist variance and ICC with each
therapist's predicted effect, and the alliance-outcome association within and between
therapists); ``change`` (Jacobson-Truax reliable change and clinical significance); ``growth``
(session-by-session growth model with random intercepts and slopes); ``scale`` (WAI-SR
scores, alpha, omega, CFA); ``power`` (analytic power of a planned therapist-clustered
design; options only).
"""

from __future__ import annotations

import csv
import json
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis._checks import check_choice, check_level, check_na_action, suggest_name
from analysis._results import ResultMixin

__all__ = [
    "KINDS",
    "ReportInputError",
    "ReportResult",
    "load_input",
    "make_report",
    "example_file",
]

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_ROOT = PACKAGE_DIR.parent
TEMPLATES = PACKAGE_DIR / "report_templates"
EXAMPLES = REPO_ROOT / "data" / "examples"
MANIFEST = ".alliance-report.json"
#: Folders of the workbook a report never writes into.
PROTECTED = (REPO_ROOT / "reports", REPO_ROOT / "data")
#: Cells read as missing (besides an empty cell).
NA_TOKENS = frozenset({"", "na", "nan", "n/a", "null", "none", ".", "-"})


class ReportInputError(ValueError):
    """The input file does not fit the report's schema (message names lines and columns)."""


# --------------------------------------------------------------------------------------
# Schemas
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a report's input file."""

    name: str
    type: str  # "number", "integer", "text"
    description: str
    positive: bool = False
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class Kind:
    """A report kind: its template, columns and example file."""

    name: str
    title: str
    template: str
    columns: dict[str, Column]
    example: str
    example_command: str
    notes: str = ""


def _c(name: str, type_: str, description: str, positive: bool = False) -> tuple[str, Column]:
    return name, Column(name, type_, description, positive)


_META_COLUMNS = dict([
    _c("study", "text", "study label (optional; else the file's line numbers label the studies)"),
    _c("yi", "number", "effect size (without --measure)"),
    _c("vi", "number", "sampling variance of yi, > 0 (without --measure)", True),
    _c("ri", "number", "correlation (COR, ZCOR, UCOR)"),
    _c("ni", "number", "sample size (COR, ZCOR, UCOR, SMCR, SMCC, PR, PLO)", True),
    _c("m1i", "number", "mean of group 1 (SMD, MD, SMDH, ROM)"),
    _c("sd1i", "number", "SD of group 1", True),
    _c("n1i", "number", "size of group 1", True),
    _c("m2i", "number", "mean of group 2"),
    _c("sd2i", "number", "SD of group 2", True),
    _c("n2i", "number", "size of group 2", True),
    _c("ai", "number", "events in group 1 (OR, RR, RD)"),
    _c("bi", "number", "non-events in group 1"),
    _c("ci", "number", "events in group 2"),
    _c("di", "number", "non-events in group 2 (or Cohen's d with SMD)"),
    _c("ti", "number", "t statistic (SMD)"),
    _c("xi", "number", "events (PR, PLO)"),
    _c("mi", "number", "non-events (PR, PLO)"),
])

#: Columns each --measure needs (alternatives in order; the first complete one is used).
MEASURE_COLUMNS: dict[str | None, tuple[tuple[str, ...], ...]] = {
    None: (("yi", "vi"),),
    "SMD": (("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"), ("ti", "n1i", "n2i"), ("di", "n1i", "n2i")),
    "MD": (("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"),),
    "SMDH": (("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"),),
    "ROM": (("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"),),
    "OR": (("ai", "bi", "ci", "di"), ("ai", "n1i", "ci", "n2i")),
    "RR": (("ai", "bi", "ci", "di"), ("ai", "n1i", "ci", "n2i")),
    "RD": (("ai", "bi", "ci", "di"), ("ai", "n1i", "ci", "n2i")),
    "COR": (("ri", "ni"),),
    "ZCOR": (("ri", "ni"),),
    "UCOR": (("ri", "ni"),),
    "PR": (("xi", "ni"), ("xi", "mi")),
    "PLO": (("xi", "ni"), ("xi", "mi")),
}

KINDS: dict[str, Kind] = {
    "meta": Kind(
        name="meta",
        title="Random-effects meta-analysis",
        template="meta.py",
        columns=_META_COLUMNS,
        example="meta_molloy2014.csv",
        example_command=(
            "python -m analysis report meta data/examples/meta_molloy2014.csv "
            "--measure ZCOR --mods meanage --out my_reports"
        ),
        notes=(
            "Give yi and vi, or raw columns with --measure (metafor's names; needed columns: "
            + "; ".join(
                f"{m}: " + " or ".join(", ".join(alt) for alt in alts)
                for m, alts in MEASURE_COLUMNS.items() if m is not None
            )
            + "). Moderators (--mods) are further columns of the file (numbers or text)."
        ),
    ),
    "therapists": Kind(
        name="therapists",
        title="Therapist effects and the alliance within and between therapists",
        template="therapists.py",
        columns=dict([
            _c("therapist", "text", "therapist id (--therapist names another column)"),
            _c("post", "number", "outcome, one row per patient (--outcome names another column)"),
            _c("alliance", "number", "alliance score (optional; --alliance names another column): "
               "within/between-therapist disaggregation"),
            _c("<covariates>", "number", "adjustment columns given by --covariates, e.g. pre,arm "
               "(code categories as 0/1)"),
        ]),
        example="therapists_simulated.csv",
        example_command=(
            "python -m analysis report therapists data/examples/therapists_simulated.csv "
            "--covariates pre,arm --out my_reports"
        ),
        notes=("One row per patient. The therapist variance, ICC (profile-likelihood CI) and each "
               "therapist's predicted effect come from a random-intercept model "
               "(analysis.multilevel.therapist_effect, checked against lme4); with an alliance "
               "column, its within- and between-therapist coefficients "
               "(analysis.multilevel.disaggregate_alliance; Baldwin, Wampold & Imel, 2007)."),
    ),
    "change": Kind(
        name="change",
        title="Reliable change and clinical significance (Jacobson & Truax, 1991)",
        template="change.py",
        columns=dict([
            _c("pre", "number", "score before treatment (--pre names another column)"),
            _c("post", "number", "score after treatment (--post names another column)"),
            _c("<group>", "text", "optional group column given by --group (e.g. treatment arm)"),
        ]),
        example="change_btheb.csv",
        example_command=(
            "python -m analysis report change data/examples/change_btheb.csv --instrument BDI-II "
            "--cutoff 14 --group treatment --out my_reports"
        ),
        notes=("One row per patient. Reliable change index (analysis.change.reliable_change) and "
               "the recovered / improved / unchanged / deteriorated categories "
               "(clinical_significance). Give --reliability or --instrument (published norms of "
               "analysis.change.PUBLISHED_NORMS, e.g. BDI-II, PHQ-9, OQ-45); cut-off c needs "
               "functional norms (--m-func, --sd-func), else cut-off a (2 SD from the clinical "
               "mean) is used. Scores are taken as symptoms (lower is better) unless "
               "--higher-is-better."),
    ),
    "growth": Kind(
        name="growth",
        title="Session-by-session growth (random intercept and slope per patient)",
        template="growth.py",
        columns=dict([
            _c("patient", "text", "patient id (--subject names another column)"),
            _c("session", "number", "measurement time, e.g. session or month (--time)"),
            _c("score", "number", "the outcome at that time (--outcome)"),
            _c("<covariates>", "number", "fixed effects given by --covariates (0/1 for categories); "
               "--time-by adds their interaction with time"),
        ]),
        example="growth_btheb.csv",
        example_command=(
            "python -m analysis report growth data/examples/growth_btheb.csv --outcome bdi --time month "
            "--subject patient --covariates bdi_pre,btheb,drug,length6 --time-by btheb --out my_reports"
        ),
        notes=("Long format: one row per measurement (missing measurements are absent rows). The "
               "model is lme4's lmer(score ~ time + covariates + time:time_by + (time | patient)), "
               "REML by default (analysis.growth.growth_model, checked against lme4)."),
    ),
    "power": Kind(
        name="power",
        title="Power of a planned therapist-clustered design (options only, no file)",
        template="power.py",
        columns={},
        example="",
        example_command=(
            "python -m analysis report power --effect-size 0.3 --r 0.28 --caseload 6 --icc 0.05 "
            "--out my_reports"
        ),
        notes=("No input file: the design is given by options. Analytic power (normal "
               "approximation with the design effect DE = 1 + (caseload - 1) ICC; "
               "analysis.power.power_two_arm and power_correlation) for a two-arm comparison "
               "with therapists nested in arms and for an alliance-outcome correlation, over a "
               "range of total sample sizes; the smallest N reaching the target power. For "
               "Monte Carlo power with the workbook's simulator use "
               "analysis.power.simulate_power."),
    ),
    "scale": Kind(
        name="scale",
        title="WAI-SR scoring, reliability (alpha, omega) and confirmatory factor analysis",
        template="scale.py",
        columns=dict([
            _c("respondent", "text", "respondent id (optional; else the file's line numbers)"),
            _c("wai1..wai12", "integer", "the 12 WAI-SR answers, 1-5, in the order of the printed "
               "form (--items names other columns); missing answers allowed"),
        ]),
        example="scale_wai_sr_simulated.csv",
        example_command=(
            "python -m analysis report scale data/examples/scale_wai_sr_simulated.csv --respondent respondent "
            "--out my_reports"
        ),
        notes=("WAI-SR subscales task (items 1, 2, 10, 12), bond (3, 5, 7, 9) and goal (4, 6, 8, "
               "11) scored as item means with analysis.psychometrics.score_wai_sr (a subscale "
               "needs 3 of its 4 answers; the item key was read in secondary scoring guides, see "
               "analysis.psychometrics); Cronbach's alpha with Feldt CIs; the three-factor CFA "
               "(ML, listwise) with fit indices and McDonald's omega."),
    ),
}


def example_file(kind: str) -> Path:
    """The example input file shipped for a report kind (in ``data/examples/``).

    >>> example_file("meta").name
    'meta_molloy2014.csv'
    """
    check_choice("kind", kind, tuple(KINDS))
    if not KINDS[kind].example:
        raise ValueError(f"the {kind!r} report reads no file (its design is given by options).")
    return EXAMPLES / KINDS[kind].example


def describe_kind(kind: str) -> str:
    """The columns of a kind's input file, for ``--help``."""
    spec = KINDS[kind]
    lines = [f"{spec.title} ({kind})." + (" Input columns (a CSV file with a header line):"
                                           if spec.columns else "")]
    for col in spec.columns.values():
        lines.append(f"  {col.name:<8} {col.type:<8} {col.description}")
    if spec.notes:
        import textwrap

        lines += ["", textwrap.fill(spec.notes, width=88)]
    lines.append("")
    if spec.example:
        lines.append(f"Example file: data/examples/{spec.example}")
    lines.append(f"Example: {spec.example_command}")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Reading and validating the file
# --------------------------------------------------------------------------------------


def _read_csv_lines(path: Path) -> tuple[list[str], pd.DataFrame]:
    """Header and a frame of strings indexed by the file's line numbers (header = line 1)."""
    if not path.is_file():
        raise ReportInputError(f"`path`: no file {str(path)!r}.")
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            raise ReportInputError(f"{path.name} is empty (line 1 should name the columns).") from None
        header = [h.strip() for h in header]
        rows, lines = [], []
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue  # blank line
            if len(record) != len(header):
                raise ReportInputError(
                    f"line {reader.line_num} of {path.name}: {len(record)} fields, but the header "
                    f"(line 1) names {len(header)} columns."
                )
            rows.append([cell.strip() for cell in record])
            lines.append(reader.line_num)
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise ReportInputError(f"line 1 of {path.name}: column name(s) {dupes} appear more than once.")
    if not rows:
        raise ReportInputError(f"{path.name} has a header but no data lines.")
    frame = pd.DataFrame(rows, columns=header, index=pd.Index(lines, name="line"), dtype=object)
    return header, frame


def _lines(index) -> str:
    shown = ", ".join(str(i) for i in list(index)[:10])
    return shown + (f" and {len(index) - 10} more" if len(index) > 10 else "")


def _convert(frame: pd.DataFrame, col: Column, file: str) -> pd.Series:
    """A column as numbers (NaN where missing), or text; refuse a cell that is not a number."""
    raw = frame[col.name].astype(str)
    missing = raw.str.lower().isin(NA_TOKENS)
    if col.type == "text":
        return raw.where(~missing, None)
    values = pd.to_numeric(raw.where(~missing, None), errors="coerce")
    bad = values.isna() & ~missing
    if bad.any():
        first = bad[bad].index[0]
        raise ReportInputError(
            f"line {first} of {file}, column {col.name!r}: {raw[first]!r} is not a number"
            + (f" (also lines {_lines(bad[bad].index[1:])})" if bad.sum() > 1 else "") + "."
        )
    values = values.astype(float)
    if not np.isfinite(values[~missing]).all():
        first = values[~missing & ~np.isfinite(values)].index[0]
        raise ReportInputError(f"line {first} of {file}, column {col.name!r}: {raw[first]!r} is not finite.")
    if col.type == "integer":
        frac = ~missing & (values != np.round(values))
        if frac.any():
            first = frac[frac].index[0]
            raise ReportInputError(
                f"line {first} of {file}, column {col.name!r}: {raw[first]!r} is not a whole number."
            )
    if col.positive:
        nonpos = ~missing & (values <= 0)
        if nonpos.any():
            first = nonpos[nonpos].index[0]
            raise ReportInputError(
                f"line {first} of {file}, column {col.name!r}: {raw[first]!r} must be > 0"
                + (f" (also lines {_lines(nonpos[nonpos].index[1:])})" if nonpos.sum() > 1 else "") + "."
            )
    if col.minimum is not None or col.maximum is not None:
        low = -np.inf if col.minimum is None else col.minimum
        high = np.inf if col.maximum is None else col.maximum
        outside = ~missing & ((values < low) | (values > high))
        if outside.any():
            first = outside[outside].index[0]
            raise ReportInputError(
                f"line {first} of {file}, column {col.name!r}: {raw[first]!r} is outside "
                f"{col.minimum:g}..{col.maximum:g}"
                + (f" (also lines {_lines(outside[outside].index[1:])})" if outside.sum() > 1 else "") + "."
            )
    return values


def _require_columns(header: list[str], needed: tuple[str, ...], file: str, why: str,
                     alternatives: tuple[tuple[str, ...], ...] = ()) -> None:
    missing = [c for c in needed if c not in header]
    if not missing:
        return
    hints = "".join(
        f" Column {c!r} is missing.{suggest_name(c, [h for h in header if h not in needed])}" for c in missing
    )
    other = ""
    if alternatives:
        other = " Or give: " + " or ".join(", ".join(a) for a in alternatives) + "."
    raise ReportInputError(
        f"line 1 (header) of {file}: {why} needs the column(s) {', '.join(map(repr, needed))}."
        f"{hints}{other} Columns found: {', '.join(header)}."
    )


def _meta_columns(options: dict[str, Any], header: list[str], file: str) -> tuple[list[str], list[str]]:
    """(effect-size columns, moderator columns) the meta report reads."""
    measure = options.get("measure")
    if measure is not None and measure not in MEASURE_COLUMNS:
        check_choice("measure", measure, tuple(m for m in MEASURE_COLUMNS if m is not None))
    alts = MEASURE_COLUMNS[measure]
    chosen = next((a for a in alts if all(c in header for c in a)), None)
    why = f"--measure {measure}" if measure else "a meta-analysis of given effect sizes (no --measure)"
    if chosen is None:
        _require_columns(header, alts[0], file, why, alts[1:])
    mods = _mod_columns(options.get("mods"))
    for m in mods:
        if m not in header:
            raise ReportInputError(
                f"line 1 (header) of {file}: the moderator {m!r} (--mods) is not a column."
                f"{suggest_name(m, header)} Columns found: {', '.join(header)}."
            )
    return list(chosen), mods


def _mod_columns(mods: Any) -> list[str]:
    """Column names of --mods: "a,b" or a formula "~ a + b" (its plain names)."""
    if mods is None or mods == "" or mods == []:
        return []
    if isinstance(mods, (list, tuple)):
        return [str(m).strip() for m in mods]
    text = str(mods).strip()
    if text.startswith("~"):
        import re

        names = re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", text[1:])
        return [n for n in dict.fromkeys(names) if n not in {"C", "I", "np", "log", "exp", "Treatment"}]
    return [m.strip() for m in text.split(",") if m.strip()]


def _names(value: Any) -> list[str]:
    """A list of column names from "a,b", ["a", "b"] or None."""
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v).strip() for v in value]


def _therapist_columns(options: dict[str, Any], header: list[str], file: str) -> dict[str, Column]:
    """The columns the therapists report reads, typed; missing ones named with a suggestion."""
    outcome = options.get("outcome") or "post"
    therapist = options.get("therapist") or "therapist"
    alliance = options.get("alliance")
    if alliance is None and "alliance" in header:
        alliance = "alliance"
    covariates = _names(options.get("covariates"))
    roles = [(therapist, "--therapist", "text"), (outcome, "--outcome", "number")]
    roles += [(alliance, "--alliance", "number")] if alliance else []
    roles += [(c, "--covariates", "number") for c in covariates]
    return _role_columns(roles, header, file)


def _role_columns(roles: list[tuple[str, str, str]], header: list[str], file: str) -> dict[str, Column]:
    """Typed columns for (name, option, type) roles; a missing one is named with a suggestion."""
    typed: dict[str, Column] = {}
    for name, flag, type_ in roles:
        if name not in header:
            raise ReportInputError(
                f"line 1 (header) of {file}: no column {name!r} ({flag})."
                f"{suggest_name(name, header)} Columns found: {', '.join(header)}."
            )
        if name in typed:
            raise ReportInputError(f"column {name!r} is given twice (as {flag} and another role).")
        typed[name] = Column(name, type_, flag)
    return typed


def _mods_formula(mods: Any) -> str | None:
    """--mods as a formula: "a,b" or ["a", "b"] -> "~ a + b"; a formula is kept.

    >>> _mods_formula("meanage, design"), _mods_formula("~ meanage"), _mods_formula(None)
    ('~ meanage + design', '~ meanage', None)
    """
    if mods is None or (isinstance(mods, str) and not mods.strip()):
        return None
    if isinstance(mods, str) and mods.strip().startswith("~"):
        return mods.strip()
    names = _mod_columns(mods)
    return "~ " + " + ".join(names) if names else None


def load_input(kind: str, path: str | os.PathLike, **options: Any) -> pd.DataFrame:
    """Read and validate a report's input file; the frame is indexed by file line number.

    Every column the report uses is checked: present (else the message names line 1,
    the missing column and the nearest column name of the file), numeric where it must
    be (naming the line and column of the first bad cell), positive where it must be.
    Missing values in the used columns are refused with their line numbers
    (``na_action="fail"``) or the lines are dropped with a ``UserWarning`` listing them
    (``na_action="omit"``).

    Parameters
    ----------
    kind : str
        A key of :data:`KINDS`.
    path : path-like
        The CSV file (comma-separated, header line first, UTF-8).
    **options
        The report's options that decide the columns (``measure``, ``mods``,
        ``na_action``).

    Returns
    -------
    pandas.DataFrame
        Used columns converted (numbers as float), index = the file's line numbers.

    Examples
    --------
    >>> data = load_input("meta", example_file("meta"), measure="ZCOR")
    >>> data.index[:2].tolist(), float(data["ni"].iloc[0])
    ([2, 3], 109.0)
    """
    check_choice("kind", kind, tuple(KINDS))
    na_action = check_na_action(options.get("na_action", "fail"))
    path = Path(path)
    file = path.name
    header, frame = _read_csv_lines(path)
    spec = KINDS[kind]
    if kind == "meta":
        used, mods = _meta_columns(options, header, file)
        label = ["study"] if "study" in header else []
        typed = {c: spec.columns[c] for c in used + label}
        for m in mods:
            raw = frame[m].astype(str)
            numeric = pd.to_numeric(raw.where(~raw.str.lower().isin(NA_TOKENS), None), errors="coerce")
            as_number = numeric.notna() | raw.str.lower().isin(NA_TOKENS)
            typed[m] = Column(m, "number" if as_number.all() else "text", "moderator")
    elif kind == "therapists":
        typed = _therapist_columns(options, header, file)
    elif kind == "growth":
        roles = [(options.get("subject") or "patient", "--subject", "text"),
                 (options.get("time") or "session", "--time", "number"),
                 (options.get("outcome") or "score", "--outcome", "number")]
        roles += [(c, "--covariates", "number") for c in _names(options.get("covariates"))]
        typed = _role_columns(roles, header, file)
    elif kind == "scale":
        items = _names(options.get("items")) or [f"wai{j}" for j in range(1, 13)]
        roles = [(c, "--items", "integer") for c in items]
        if options.get("respondent"):
            roles.append((options["respondent"], "--respondent", "text"))
        typed = _role_columns(roles, header, file)
        for c in items:
            typed[c] = Column(c, "integer", "WAI-SR item", minimum=1, maximum=5)
    elif kind == "change":
        roles = [(options.get("pre") or "pre", "--pre", "number"),
                 (options.get("post") or "post", "--post", "number")]
        if options.get("group"):
            roles.append((options["group"], "--group", "text"))
        typed = _role_columns(roles, header, file)
    else:  # pragma: no cover - every kind is handled above
        raise ReportInputError(f"kind {kind!r} has no reader.")
    out = pd.DataFrame(index=frame.index)
    for name, col in typed.items():
        out[name] = _convert(frame, col, file)
    for name in frame.columns:  # keep the other columns as text, for the tables
        if name not in out.columns:
            out[name] = frame[name]
    # WAI-SR answers may be missing (scored by the scale's missing-data rule).
    checked = [c for c in typed if c != "study" and not (kind == "scale" and typed[c].description == "WAI-SR item")]
    incomplete = out[checked].isna().any(axis=1)
    if incomplete.any():
        where = "; ".join(
            f"line {line}: {', '.join(c for c in checked if pd.isna(out.at[line, c]))}"
            for line in incomplete[incomplete].index[:10]
        )
        more = f" and {int(incomplete.sum()) - 10} more lines" if incomplete.sum() > 10 else ""
        if na_action == "fail":
            raise ReportInputError(
                f"{file}: missing values in the columns the report uses ({where}{more}). "
                "Fill them in, or pass na_action='omit' (--na-action omit) to leave those lines out."
            )
        warnings.warn(
            f"{file}: {int(incomplete.sum())} line(s) with missing values left out ({where}{more}).",
            UserWarning,
            stacklevel=2,
        )
        out = out[~incomplete]
    if len(out) < 2:
        raise ReportInputError(f"{file}: {len(out)} complete data line(s); a report needs at least 2.")
    return out


# --------------------------------------------------------------------------------------
# The output folder
# --------------------------------------------------------------------------------------


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _prepare_folder(out: str | os.PathLike, kind: str, stem: str) -> Path:
    """Create (or reclaim) ``<out>/<kind>-<stem>``; refuse the workbook's folders."""
    base = Path(out).expanduser().resolve()
    for protected in PROTECTED:
        if _inside(base, protected):
            raise ValueError(
                f"`out`: {base} is inside the workbook's {protected.name}/ folder, which "
                "`make reproduce` and the shipped data own; write your report elsewhere."
            )
    if base.exists() and not base.is_dir():
        raise ValueError(f"`out`: {base} exists and is not a folder.")
    folder = base / f"{kind}-{stem}"
    if folder.exists():
        manifest = folder / MANIFEST
        if not manifest.is_file():
            raise ValueError(
                f"`out`: {folder} exists and was not made by analysis.report (no {MANIFEST}); "
                "refusing to write into it. Choose another --out or remove the folder."
            )
        try:
            listed = json.loads(manifest.read_text(encoding="utf-8"))["files"]
        except (ValueError, KeyError, TypeError):
            raise ValueError(f"`out`: {manifest} is not a report manifest; refusing to write.") from None
        for name in listed:
            target = (folder / name).resolve()
            if _inside(target, folder) and target.is_file():
                target.unlink()
        manifest.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "figures").mkdir(exist_ok=True)
    (folder / "tables").mkdir(exist_ok=True)
    return folder


# --------------------------------------------------------------------------------------
# Running a template
# --------------------------------------------------------------------------------------


@dataclass
class ReportResult(ResultMixin):
    """What a report wrote: its folder, the pages and files, the key numbers."""

    kind: str
    folder: Path
    html: Path
    pdf: Path | None
    files: list[str]
    results: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        """Where the report is, in a few lines."""
        pdf = self.pdf.name if self.pdf else "not printed (no chromium, or pdf=False)"
        return (f"{self.kind} report in {self.folder} ({self.seconds:.1f} s)\n"
                f"  page: {self.html.name}; PDF: {pdf}\n  files: {len(self.files)}")

    def to_dict(self) -> dict[str, Any]:
        """Paths as strings, with the key numbers (``results``)."""
        return {"kind": self.kind, "folder": str(self.folder), "html": str(self.html),
                "pdf": str(self.pdf) if self.pdf else None, "files": list(self.files),
                "results": self.results, "seconds": self.seconds}

    def __repr__(self) -> str:
        return self.summary()


def _kernel_env() -> dict[str, str]:
    from analysis._runner import ipython_dir

    env = dict(os.environ)
    env["IPYTHONDIR"] = str(ipython_dir())
    env.pop("MPLBACKEND", None)  # ipykernel's inline backend shows the figures in the page
    env.setdefault("PYTHONHASHSEED", "0")
    # The kernel imports this copy of `analysis` (a source checkout wins over an install).
    env["PYTHONPATH"] = os.pathsep.join(
        [str(PACKAGE_DIR.parent)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    return env


def _execute(template: Path, params: dict[str, Any], folder: Path, timeout: int):
    import jupytext
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from nbconvert.filters import strip_ansi

    from analysis._runner import RunnerError, cell_excerpt, inject_parameters

    nb = jupytext.read(template)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    if not inject_parameters(nb, params, by="analysis.report.make_report"):
        raise RunnerError(f"template {template.name} has no cell tagged 'parameters'.")
    # The report's kernel listens on 127.0.0.1 only; ipykernel's start-up notice about TCP without
    # encryption would land in the output of a notebook that calls make_report, so the kernel logs
    # errors only.
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False,
                            record_timing=False, resources={"metadata": {"path": str(folder)}},
                            extra_arguments=["--IPKernelApp.log_level=ERROR"])
    current = {"index": -1}
    client.on_cell_start = lambda cell, cell_index, **_: current.update(index=cell_index)
    try:
        client.execute(env=_kernel_env())
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
        index = current["index"]
        excerpt = cell_excerpt(nb.cells[index]) if 0 <= index < len(nb.cells) else ""
        raise RunnerError(
            f"the {template.stem} report failed at cell {index + 1} of {len(nb.cells)}:\n{excerpt}\n"
            f"{strip_ansi(str(error))[-3000:]}"
        ) from None
    return nb


def _options(kind: str, options: dict[str, Any]) -> dict[str, Any]:
    """Check and complete a kind's options (defaults as metafor's rma)."""
    if kind == "meta":
        allowed = {"measure", "method", "test", "level", "mods", "na_action", "title"}
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise ValueError(
                f"unknown option(s) {unknown} for the meta report."
                f"{suggest_name(unknown[0], sorted(allowed))} Options: {', '.join(sorted(allowed))}."
            )
        from analysis.meta import METHODS, TESTS

        out = {
            "measure": options.get("measure"),
            "method": check_choice("method", options.get("method", "REML"), METHODS),
            "test": check_choice("test", options.get("test", "z"), TESTS),
            "level": float(check_level("level", options.get("level", 0.95))),
            "mods": _mods_formula(options.get("mods")),
            "na_action": check_na_action(options.get("na_action", "fail")),
            "title": str(options.get("title") or "Meta-analysis report"),
        }
        return out
    if kind == "therapists":
        allowed = {"outcome", "therapist", "alliance", "covariates", "na_action", "title", "level"}
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise ValueError(
                f"unknown option(s) {unknown} for the therapists report."
                f"{suggest_name(unknown[0], sorted(allowed))} Options: {', '.join(sorted(allowed))}."
            )
        return {
            "outcome": str(options.get("outcome") or "post"),
            "therapist": str(options.get("therapist") or "therapist"),
            "alliance": options.get("alliance"),
            "covariates": _names(options.get("covariates")),
            "level": float(check_level("level", options.get("level", 0.95))),
            "na_action": check_na_action(options.get("na_action", "fail")),
            "title": str(options.get("title") or "Therapist-effects report"),
        }
    if kind == "growth":
        allowed = {"outcome", "time", "subject", "covariates", "time_by", "random_slope", "method",
                   "level", "na_action", "title"}
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise ValueError(
                f"unknown option(s) {unknown} for the growth report."
                f"{suggest_name(unknown[0], sorted(allowed))} Options: {', '.join(sorted(allowed))}."
            )
        covariates, time_by = _names(options.get("covariates")), _names(options.get("time_by"))
        extra = [c for c in time_by if c not in covariates]
        if extra:
            raise ValueError(f"`time_by` {extra} must also be in `covariates` ({covariates}).")
        return {
            "outcome": str(options.get("outcome") or "score"), "time": str(options.get("time") or "session"),
            "subject": str(options.get("subject") or "patient"), "covariates": covariates,
            "time_by": time_by, "random_slope": bool(options.get("random_slope", True)),
            "method": check_choice("method", options.get("method", "REML"), ("REML", "ML")),
            "level": float(check_level("level", options.get("level", 0.95))),
            "na_action": check_na_action(options.get("na_action", "fail")),
            "title": str(options.get("title") or "Growth-model report"),
        }
    if kind == "power":
        allowed = {"effect_size", "r", "caseload", "icc", "alpha", "target", "allocation", "n_min",
                   "n_max", "title"}
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise ValueError(
                f"unknown option(s) {unknown} for the power report."
                f"{suggest_name(unknown[0], sorted(allowed))} Options: {', '.join(sorted(allowed))}."
            )
        opts = {"effect_size": options.get("effect_size", 0.3), "r": options.get("r", 0.28),
                "caseload": options.get("caseload", 6.0), "icc": options.get("icc", 0.05),
                "alpha": options.get("alpha", 0.05), "target": options.get("target", 0.8),
                "allocation": options.get("allocation", 0.5), "n_min": options.get("n_min", 20),
                "n_max": options.get("n_max", 1000)}
        for key, value in opts.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
                raise ValueError(f"`{key}` must be a finite number, got {value!r}.")
        if opts["effect_size"] == 0 or not -1 < opts["r"] < 1 or opts["r"] == 0:
            raise ValueError("`effect_size` must be non-zero and `r` must lie in (-1, 1) without 0 "
                             f"(power against no effect is alpha); got {opts['effect_size']!r}, {opts['r']!r}.")
        if opts["caseload"] < 1 or not 0 <= opts["icc"] < 1:
            raise ValueError(f"`caseload` must be >= 1 and `icc` in [0, 1); got {opts['caseload']!r}, {opts['icc']!r}.")
        for key in ("alpha", "target", "allocation"):
            check_level(key, opts[key])
        if not 4 <= opts["n_min"] < opts["n_max"] <= 1e6:
            raise ValueError(f"need 4 <= n_min < n_max <= 1e6; got n_min={opts['n_min']!r}, n_max={opts['n_max']!r}.")
        opts = {k: float(v) for k, v in opts.items()}
        opts["n_min"], opts["n_max"] = int(opts["n_min"]), int(opts["n_max"])
        opts["title"] = str(options.get("title") or "Power of a planned design")
        return opts
    if kind == "scale":
        allowed = {"items", "respondent", "level", "title", "na_action"}
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise ValueError(
                f"unknown option(s) {unknown} for the scale report."
                f"{suggest_name(unknown[0], sorted(allowed))} Options: {', '.join(sorted(allowed))}."
            )
        items = _names(options.get("items")) or [f"wai{j}" for j in range(1, 13)]
        if len(items) != 12 or len(set(items)) != 12:
            raise ValueError(f"`items` must name 12 distinct columns (WAI-SR items 1..12), got {items}.")
        return {"items": items, "respondent": options.get("respondent"),
                "level": float(check_level("level", options.get("level", 0.95))),
                "na_action": check_na_action(options.get("na_action", "fail")),
                "title": str(options.get("title") or "WAI-SR scale report")}
    if kind == "change":
        allowed = {"pre", "post", "group", "instrument", "reliability", "cutoff", "m_clin", "sd_clin",
                   "m_func", "sd_func", "higher_is_better", "critical", "na_action", "title"}
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise ValueError(
                f"unknown option(s) {unknown} for the change report."
                f"{suggest_name(unknown[0], sorted(allowed))} Options: {', '.join(sorted(allowed))}."
            )
        norms_given = {k: options.get(k) for k in ("m_clin", "sd_clin", "m_func", "sd_func", "reliability")}
        for key, value in norms_given.items():
            if value is not None and not (isinstance(value, (int, float)) and np.isfinite(value)):
                raise ValueError(f"`{key}` must be a finite number, got {value!r}.")
        if options.get("instrument") is None and options.get("reliability") is None:
            raise ValueError("the change report needs `reliability` (--reliability) or `instrument` "
                             "(--instrument, e.g. BDI-II) for the reliable change index.")
        cutoff = options.get("cutoff")
        if cutoff is None:
            cutoff = "c" if options.get("m_func") is not None else "a"
        if isinstance(cutoff, str):
            try:
                cutoff = float(cutoff)
            except ValueError:
                cutoff = check_choice("cutoff", cutoff, ("a", "b", "c", "published"))
        return {
            "pre": str(options.get("pre") or "pre"), "post": str(options.get("post") or "post"),
            "group": options.get("group"), "instrument": options.get("instrument"), "cutoff": cutoff,
            **norms_given,
            "higher_is_better": bool(options.get("higher_is_better", False)),
            "critical": float(options.get("critical", 1.96)),
            "na_action": check_na_action(options.get("na_action", "fail")),
            "title": str(options.get("title") or "Reliable change and clinical significance"),
        }
    raise ValueError(f"`kind`: no options for {kind!r}.")  # pragma: no cover


def make_report(kind: str, path: str | os.PathLike | None, out: str | os.PathLike, *,
                pdf: bool = True, timeout: int = 600, **options: Any) -> ReportResult:
    """Validate a CSV file and write a complete report (HTML, PDF, figures, tables) for it.

    The file is validated first (:func:`load_input`); then the kind's template notebook
    runs in a fresh kernel with the file and options as parameters, and its page is
    written with the workbook's offline template. The folder is
    ``<out>/<kind>-<file stem>`` (see the module docstring for what is refused).

    Parameters
    ----------
    kind : {"meta", "therapists", "change", "growth", "scale", "power"}
        The report (a key of :data:`KINDS`; ``describe_kind(kind)`` lists its columns).
    path : path-like or None
        The CSV file (None for ``power``, whose design is given by options).
    out : path-like
        The folder in which the report's own folder is made (not inside the
        workbook's ``reports/`` or ``data/``).
    pdf : bool, default True
        Print ``report.pdf`` with Debian's chromium when it is installed.
    timeout : int, default 600
        Seconds one cell may run.
    **options
        For ``meta``: ``measure`` (metafor's name, e.g. ``"ZCOR"``, ``"SMD"``; None
        for given ``yi``/``vi``), ``method`` ("REML"), ``test`` ("z" or "knha" for
        Knapp-Hartung), ``level`` (0.95), ``mods`` ("a,b" or a formula "~ a + b"),
        ``na_action`` ("fail" or "omit"), ``title``. For ``therapists``: ``outcome``
        ("post"), ``therapist`` ("therapist"), ``alliance`` (default: the column
        ``alliance`` if present), ``covariates`` ("pre,arm" or a list), ``level``,
        ``na_action``, ``title``. For ``change``: ``pre``, ``post`` (column names),
        ``group`` (optional column), ``instrument`` or ``reliability``, ``cutoff``
        ("a", "b", "c", "published" or a number; default "c" with functional norms, else
        "a"), ``m_clin``, ``sd_clin``, ``m_func``, ``sd_func``, ``higher_is_better``,
        ``critical``, ``na_action``, ``title``. For ``growth``: ``outcome`` ("score"),
        ``time`` ("session"), ``subject`` ("patient"), ``covariates``, ``time_by``,
        ``random_slope`` (True), ``method`` ("REML"), ``level``, ``na_action``, ``title``.
        For ``scale``: ``items`` (12 columns, default wai1..wai12), ``respondent``,
        ``level``, ``title``. For ``power``: ``effect_size`` (0.3), ``r`` (0.28), ``caseload`` (6), ``icc``
        (0.05), ``alpha`` (0.05), ``target`` (0.8), ``allocation`` (0.5), ``n_min`` (20),
        ``n_max`` (1000), ``title``.

    Returns
    -------
    ReportResult
        The folder, the page, the PDF (or None), the files written and the key numbers
        (``results``, as in ``results.json``).

    Raises
    ------
    ReportInputError
        The file does not fit the schema (line, column and nearest name in the message).
    ValueError
        Bad options, or an output folder that is refused.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:  # doctest: +SKIP
    ...     rep = make_report("meta", example_file("meta"), out=tmp, measure="ZCOR")
    ...     sorted(p.name for p in rep.folder.glob("figures/*.png"))
    ['forest.png', 'funnel.png']
    """
    from analysis._runner import (REPORT_TEMPLATE, RunnerError, external_resources,
                                  print_to_pdf, render_html)

    start = time.monotonic()
    check_choice("kind", kind, tuple(KINDS))
    opts = _options(kind, options)
    if not KINDS[kind].columns:  # a design given by options (power): no file
        if path is not None:
            raise ValueError(f"the {kind!r} report reads no file; pass path=None (got {str(path)!r}).")
        stem, params = "plan", {}
    else:
        if path is None:
            raise ValueError(f"`path`: the {kind!r} report needs a CSV file.")
        path = Path(path).expanduser().resolve()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # shown again by the report itself
            load_input(kind, path, **opts)  # validate before anything is written
        stem, params = path.stem, {"csv_path": str(path)}
    folder = _prepare_folder(out, kind, stem)
    params = {**params, "report_dir": str(folder), **opts}
    template = TEMPLATES / KINDS[kind].template
    try:
        nb = _execute(template, params, folder, timeout)
        page = render_html(nb, f"{kind}-{stem}", REPORT_TEMPLATE, mathjax_url="")
    except RunnerError as error:
        _write_manifest(folder)
        raise RuntimeError(str(error)) from None
    remote = external_resources(page)
    if remote:  # pragma: no cover - the template loads nothing
        raise RuntimeError(f"the report page would load external resources: {remote[:5]}")
    html_path = folder / "report.html"
    html_path.write_text(page, encoding="utf-8")
    import nbformat

    nbformat.write(nb, folder / "report.ipynb")
    pdf_path = None
    if pdf:
        try:
            if print_to_pdf(html_path, folder / "report.pdf"):
                pdf_path = folder / "report.pdf"
        except RunnerError as error:
            warnings.warn(f"report.pdf was not printed: {error}", UserWarning, stacklevel=2)
    files = _write_manifest(folder)
    results_file = folder / "results.json"
    results = json.loads(results_file.read_text(encoding="utf-8")) if results_file.is_file() else {}
    return ReportResult(kind=kind, folder=folder, html=html_path, pdf=pdf_path, files=files,
                        results=results, seconds=time.monotonic() - start)


def _write_manifest(folder: Path) -> list[str]:
    """List every file in the report folder (all written by this report) in the manifest."""
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                   if p.is_file() and p.name != MANIFEST)
    (folder / MANIFEST).write_text(
        json.dumps({"made_by": "analysis.report", "files": files}, indent=1) + "\n", encoding="utf-8"
    )
    return files


# --------------------------------------------------------------------------------------
# Helpers the templates use
# --------------------------------------------------------------------------------------


def write_table(frame: pd.DataFrame, name: str, report_dir: str | os.PathLike, *, index: bool = True) -> Path:
    """Write ``tables/<name>.csv`` in the report folder (full precision)."""
    target = Path(report_dir) / "tables" / f"{name}.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(target, index=index, float_format="%.17g")
    return target


def write_results(results: dict[str, Any], report_dir: str | os.PathLike) -> Path:
    """Write ``results.json`` (numbers as JSON floats, NaN as null)."""

    def clean(value):
        if isinstance(value, dict):
            return {str(k): clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple, np.ndarray)):
            return [clean(v) for v in value]
        if isinstance(value, (np.integer,)):
            return int(value)
        if isinstance(value, (float, np.floating)):
            return None if not np.isfinite(value) else float(value)
        return value

    target = Path(report_dir) / "results.json"
    target.write_text(json.dumps(clean(results), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return target


def study_labels(data: pd.DataFrame) -> list[str]:
    """The ``study`` column, else "line N" (the file's line numbers)."""
    if "study" in data.columns:
        return [str(s) if s is not None else f"line {i}" for i, s in zip(data.index, data["study"])]
    return [f"line {i}" for i in data.index]
