r"""lavaan model syntax turned into a parameter table (lavaan's ``partable``).

The model is written as in lavaan (Rosseel 2012): one formula per line (or separated by ``;``),
``#`` starts a comment.

- ``f =~ x1 + x2 + x3``: factor loadings (measurement model);
- ``y ~ f + x``: regressions;
- ``x1 ~~ x2``: (residual) variances and covariances;
- ``x1 ~ 1``: intercepts and means;
- ``u1 | t1 + t2``: thresholds of an ordered item;
- modifiers: ``a*x`` a label, ``1*x`` a fixed value, ``NA*x`` a free parameter,
  ``start(0.5)*x`` a start value, ``c(a, b)*x`` one modifier per group.

Parameters with the same label are equal. :func:`parameter_table` adds lavaan's defaults of
``cfa()``/``sem()``: the first loading of each factor fixed to 1 (or the factor variances to 1
with ``std_lv=True``), residual variances of every variable, covariances among exogenous factors
(``auto.cov.lv.x``) and among the purely dependent variables (``auto.cov.y``), intercepts of
the observed variables (latent means fixed to 0) when there is a mean structure, exogenous
observed covariates fixed at their sample moments (``fixed.x``), and the equality constraints
of ``group_equal`` (minus ``group_partial``) across groups.

References
----------
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software, 48*(2), 1--36.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import pandas as pd

from analysis._checks import suggest_name

__all__ = ["parse_syntax", "parameter_table", "GROUP_EQUAL", "ModelSyntaxError"]

#: The parameter types lavaan's ``group.equal`` knows.
GROUP_EQUAL = ("loadings", "intercepts", "means", "residuals", "residual.covariances", "lv.variances",
               "lv.covariances", "regressions", "thresholds")

_OPS = ("=~", "~~", "~", "|")
_UNSUPPORTED = (":=", "==", "<", ">", "<~", "~*~")
_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")


class ModelSyntaxError(ValueError):
    """A lavaan model string that cannot be read (the message names the line and the term)."""


@dataclass
class Statement:
    """One parsed term: ``lhs op rhs`` with per-group modifiers (lists, or a single entry)."""

    lhs: str
    op: str
    rhs: str
    fixed: list = field(default_factory=list)   # per group: float, None (free, NA*) or missing
    labels: list = field(default_factory=list)  # per group: str or ""
    starts: list = field(default_factory=list)
    line: int = 0


def _split_top(text: str, sep: str) -> list[str]:
    """Split on `sep` outside parentheses."""
    out, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == sep and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


def _modifier_values(mod: str, where: str) -> tuple[str, list]:
    """('fixed'|'label'|'start', values) of one modifier such as ``a``, ``1``, ``NA``, ``c(a, b)``."""
    mod = mod.strip()
    m = re.fullmatch(r"start\((.*)\)", mod)
    if m:
        vals = [_number(v, where) for v in _vector(m.group(1))]
        return "start", vals
    m = re.fullmatch(r"label\((.*)\)", mod)
    if m:
        return "label", [v.strip().strip("'\"") for v in _vector(m.group(1))]
    m = re.fullmatch(r"c\((.*)\)", mod)
    items = _vector(m.group(1)) if m else [mod]
    if not items or any(not i.strip() for i in items):
        raise ModelSyntaxError(f"{where}: empty modifier in {mod!r}.")
    kinds = set()
    vals: list = []
    for it in items:
        it = it.strip().strip("'\"") if not _is_number(it.strip()) else it.strip()
        if it == "NA":
            kinds.add("fixed")
            vals.append(None)
        elif _is_number(it):
            kinds.add("fixed")
            vals.append(float(it))
        elif _NAME.match(it):
            kinds.add("label")
            vals.append(it)
        else:
            raise ModelSyntaxError(f"{where}: cannot read the modifier {it!r} (a label, a number, NA, c(...), "
                                   "start(...) or label(...) is expected).")
    if len(kinds) > 1:
        raise ModelSyntaxError(f"{where}: the modifier {mod!r} mixes labels and values; write them as "
                               "two modifiers (e.g. 'a*1*x' is not lavaan either: use 'x ~~ 1*x' and a label "
                               "on another term).")
    return kinds.pop(), vals


def _vector(inner: str) -> list[str]:
    return [v for v in _split_top(inner, ",")]


def _is_number(s: str) -> bool:
    try:
        v = float(s)
    except ValueError:
        return False
    return math.isfinite(v)


def _number(s: str, where: str) -> float:
    s = s.strip()
    if not _is_number(s):
        raise ModelSyntaxError(f"{where}: {s!r} is not a finite number.")
    return float(s)


def _logical_lines(model: str) -> list[tuple[int, str]]:
    """(line number, text) after removing comments, splitting on ';' and joining continuations."""
    raw = []
    for no, line in enumerate(model.splitlines(), start=1):
        line = re.split(r"[#!]", line, maxsplit=1)[0]
        for part in line.split(";"):
            if part.strip():
                raw.append((no, part.strip()))
    out: list[tuple[int, str]] = []
    for no, text in raw:
        has_op = any(op in text for op in _OPS + _UNSUPPORTED)
        cont_prev = out and (out[-1][1].rstrip().endswith(("+", "*", "=~", "~~", "~", "|", ",", "("))
                             or text.startswith(("+", "*")))
        if out and (cont_prev or not has_op):
            if not has_op and not cont_prev:
                raise ModelSyntaxError(f"line {no}: {text!r} has no operator (=~, ~, ~~, ~ 1 or |).")
            out[-1] = (out[-1][0], out[-1][1] + " " + text)
        else:
            if not has_op:
                raise ModelSyntaxError(f"line {no}: {text!r} has no operator (=~, ~, ~~, ~ 1 or |).")
            out.append((no, text))
    return out


def parse_syntax(model: str) -> list[Statement]:
    """Read a lavaan model string into statements (one per right-hand-side term).

    Parameters
    ----------
    model : str
        The model in lavaan syntax.

    Returns
    -------
    list of Statement
        ``lhs``, ``op`` (``=~``, ``~``, ``~~``, ``~1``, ``|``), ``rhs`` and the modifiers.

    Examples
    --------
    >>> [(s.lhs, s.op, s.rhs, s.labels) for s in parse_syntax("f =~ x1 + a*x2\\n x1 ~ 1")]
    [('f', '=~', 'x1', []), ('f', '=~', 'x2', ['a']), ('x1', '~1', '', [])]
    """
    if not isinstance(model, str):
        raise ModelSyntaxError(f"model must be a string in lavaan syntax, got {type(model).__name__}.")
    lines = _logical_lines(model)
    if not lines:
        raise ModelSyntaxError("model is empty: write at least one formula such as 'f =~ x1 + x2 + x3'.")
    out: list[Statement] = []
    for no, text in lines:
        where = f"line {no} ({text!r})"
        for bad in _UNSUPPORTED:
            if bad in text:
                if bad == ":=":
                    raise ModelSyntaxError(f"{where}: the operator ':=' is not supported by parse_syntax, which reads "
                                           "the model formulas; sem() reads defined parameters (name := expression).")
                if bad == "==":
                    raise ModelSyntaxError(f"{where}: the operator '==' is not supported by analysis.sem; give equal "
                                           "parameters one shared label instead (e.g. 'y ~ a*x1 + a*x2').")
                raise ModelSyntaxError(f"{where}: the operator {bad!r} is not supported by analysis.sem "
                                       "(supported: =~, ~, ~~, ~ 1, |, labels and fixed values).")
        op = next(o for o in _OPS if o in text)
        lhs, rhs = text.split(op, 1)
        lhs = lhs.strip()
        if not _NAME.match(lhs):
            raise ModelSyntaxError(f"{where}: the left-hand side {lhs!r} is not a variable name.")
        terms = _split_top(rhs, "+")
        if not rhs.strip():
            raise ModelSyntaxError(f"{where}: nothing on the right-hand side of {op!r}.")
        for term in terms:
            term = term.strip()
            if not term:
                raise ModelSyntaxError(f"{where}: empty term (two '+' in a row or a trailing '+').")
            parts = _split_top(term, "*")
            var = parts[-1].strip()
            st = Statement(lhs, op, var, line=no)
            if var in ("1", "1.0") and op == "~":
                st.op, st.rhs = "~1", ""
            elif op == "|":
                if not re.fullmatch(r"t\d+", var):
                    raise ModelSyntaxError(f"{where}: thresholds are named t1, t2, ... (got {var!r}).")
            elif not _NAME.match(var):
                raise ModelSyntaxError(f"{where}: {var!r} is not a variable name.")
            for mod in parts[:-1]:
                kind, vals = _modifier_values(mod, where)
                target = {"fixed": st.fixed, "label": st.labels, "start": st.starts}[kind]
                if target:
                    raise ModelSyntaxError(f"{where}: two {kind} modifiers on {var!r}.")
                target.extend(vals)
            out.append(st)
    return out


# --------------------------------------------------------------------------- parameter table
def _vnames(stmts: Sequence[Statement], data_names: Sequence[str] | None) -> dict:
    lv = []
    for s in stmts:
        if s.op == "=~" and s.lhs not in lv:
            lv.append(s.lhs)
    ov: list[str] = []

    def add(v):
        if v and v not in lv and v not in ov:
            ov.append(v)

    for s in stmts:  # indicators first (lavaan's ov.ind), then the rest in order of appearance
        if s.op == "=~":
            add(s.rhs)
    for s in stmts:
        if s.op in ("~", "~~"):
            add(s.lhs)
            add(s.rhs)
        elif s.op in ("~1", "|"):
            add(s.lhs)
    eqs_y = {s.lhs for s in stmts if s.op == "~"}
    eqs_x = {s.rhs for s in stmts if s.op == "~"}
    ind = {s.rhs for s in stmts if s.op == "=~"}
    return {"lv": lv, "ov": ov, "eqs_y": eqs_y, "eqs_x": eqs_x, "ind": ind}


def _check_names(stmts, names, data_names):
    if data_names is None:
        return
    data_names = [str(c) for c in data_names]
    for s in stmts:
        # the right side of "u | t1" names a threshold, not a variable
        for v in (s.lhs,) if s.op == "|" else (s.lhs, s.rhs):
            if v and v not in names["lv"] and v not in data_names:
                raise ModelSyntaxError(
                    f"line {s.line}: the variable {v!r} of '{s.lhs} {s.op} {s.rhs}'.strip() is neither a column of "
                    f"data nor a latent variable (defined with =~).{suggest_name(v, data_names + names['lv'])}"
                    .replace("'.strip()", "'"))


def _parse_partial(group_partial: Iterable[str]) -> set[tuple[str, str, str]]:
    out = set()
    for item in group_partial:
        if not isinstance(item, str):
            raise ValueError(f"group_partial: each entry is a string such as 'f =~ x2' or 'x1 ~ 1', got {item!r}.")
        try:
            sts = parse_syntax(item)
        except ModelSyntaxError as exc:
            raise ValueError(f"group_partial: cannot read {item!r}: {exc}") from None
        for s in sts:
            out.add((s.lhs, s.op, s.rhs))
    return out


def parameter_table(model: str, data_names: Sequence[str] | None = None, *, n_groups: int = 1,
                    meanstructure: bool = False, std_lv: bool = False, orthogonal: bool = False,
                    fixed_x: bool = True, group_equal: Iterable[str] = (), group_partial: Iterable[str] = (),
                    ordered: Sequence[str] = (), n_thresholds: dict | None = None) -> pd.DataFrame:
    """The parameter table of a lavaan model with the defaults of lavaan's ``sem()``/``cfa()``.

    Parameters
    ----------
    model : str
        lavaan model syntax.
    data_names : sequence of str, optional
        Column names of the data; a variable of the model that is neither a column nor a latent
        variable is refused (with the nearest column suggested).
    n_groups : int
        Number of groups (the table is repeated for each, ``group`` = 1..G).
    meanstructure : bool
        Add intercepts of the observed variables (free) and latent means (fixed 0).
    std_lv : bool
        Identify the factors by fixing their variances to 1 (all loadings free) instead of the
        first loading to 1.
    orthogonal : bool
        No covariances among the exogenous factors.
    fixed_x : bool
        Exogenous observed covariates (predictors only) have their (co)variances and means fixed
        at the sample values (``exo = 1``), as lavaan's ``fixed.x = TRUE``.
    group_equal, group_partial : iterable of str
        lavaan's ``group.equal`` types (see :data:`GROUP_EQUAL`) and the parameters exempted
        (``"f =~ x2"``, ``"x1 ~ 1"``).
    ordered : sequence of str
        Ordered (categorical) observed variables: thresholds instead of intercepts.
    n_thresholds : dict, optional
        Number of thresholds per ordered variable (categories - 1); default 1.

    Returns
    -------
    pandas.DataFrame
        Columns ``id, lhs, op, rhs, user, block, group, free, ustart, exo, label, plabel,
        start``; ``free`` numbers the distinct free parameters 1..q (0 = fixed; equal
        parameters share one number); ``ustart`` is the fixed value (NaN when free or when
        fixed at a sample value, ``exo = 1``).

    Examples
    --------
    >>> pt = parameter_table("f =~ x1 + x2 + x3")
    >>> pt[["lhs", "op", "rhs", "free", "ustart"]].head(4).to_string(index=False)
    'lhs op rhs  free  ustart\\n  f =~  x1     0     1.0\\n  f =~  x2     1     NaN\\n  f =~  x3     2     NaN\\n x1 ~~  x1     3     NaN'
    """
    stmts = parse_syntax(model)
    n_groups = int(n_groups)
    ge = [group_equal] if isinstance(group_equal, str) else list(group_equal)
    for t in ge:
        if t not in GROUP_EQUAL:
            raise ValueError(f"group_equal: unknown type {t!r}; choose from {', '.join(GROUP_EQUAL)}."
                             f"{suggest_name(str(t), list(GROUP_EQUAL))}")
    partial = _parse_partial([group_partial] if isinstance(group_partial, str) else group_partial)
    names = _vnames(stmts, data_names)
    _check_names(stmts, names, data_names)
    lv, ov = names["lv"], names["ov"]
    ordered = list(ordered or ())
    for o in ordered:
        if o not in ov:
            raise ValueError(f"ordered: {o!r} is not an observed variable of the model."
                             f"{suggest_name(str(o), ov)}")
    for s in stmts:
        if s.op == "|" and s.lhs not in ordered:
            raise ModelSyntaxError(f"line {s.line}: thresholds of {s.lhs!r} given, but {s.lhs!r} is not in ordered.")
        if s.op == "=~" and s.lhs == s.rhs:
            raise ModelSyntaxError(f"line {s.line}: {s.lhs!r} cannot be an indicator of itself.")
    eqs_y, eqs_x, ind = names["eqs_y"], names["eqs_x"], names["ind"]
    # exogenous observed covariates (lavaan's ov.x): predictors only, never dependent or indicators
    user_cov_ov = set()
    for s in stmts:
        if s.op == "~~" and s.lhs != s.rhs:
            user_cov_ov |= {s.lhs, s.rhs}
    ov_x = [v for v in ov if v in eqs_x and v not in eqs_y and v not in ind and v not in ordered] if fixed_x else []
    lv_x = [f for f in lv if f not in eqs_y]
    pure_y = [v for v in lv + ov if v in eqs_y and v not in eqs_x]

    rows: list[dict] = []
    seen: dict[tuple, int] = {}

    def key(lhs, op, rhs):
        if op == "~~" and (rhs, op, lhs) in seen:
            return (rhs, op, lhs)
        return (lhs, op, rhs)

    def add(lhs, op, rhs, *, user, fixed=None, free=True, label="", start=math.nan, exo=0, line=0,
            per_group=None):
        k = key(lhs, op, rhs)
        if k in seen:
            if user:
                raise ModelSyntaxError(f"line {line}: the parameter '{lhs} {op} {rhs}' is specified twice."
                                       .replace(" ~1 ", " ~ 1"))
            return
        seen[k] = len(rows)
        rows.append(dict(lhs=k[0], op=op, rhs=k[2], user=int(user), fixed=fixed, free=free, label=label,
                         start=start, exo=exo, per_group=per_group, line=line))

    # user statements
    for s in stmts:
        add(s.lhs, s.op, s.rhs, user=True, line=s.line,
            per_group={"fixed": s.fixed, "labels": s.labels, "starts": s.starts})
    # factor identification
    for f in lv:
        first = next(i for i, r in enumerate(rows) if r["op"] == "=~" and r["lhs"] == f)
        r = rows[first]
        if not std_lv and not r["per_group"]["fixed"]:
            r["fixed"] = 1.0
            r["free"] = False
    # thresholds
    nth = dict(n_thresholds or {})
    for o in ordered:
        for t in range(1, int(nth.get(o, 1)) + 1):
            add(o, "|", f"t{t}", user=False)
    # residual variances and variances
    for v in ov:
        if v in ov_x:
            add(v, "~~", v, user=False, free=False, exo=1)
        elif v in ordered:
            add(v, "~~", v, user=False, free=False, fixed=1.0)
        else:
            add(v, "~~", v, user=False)
    for f in lv:
        if std_lv and f not in eqs_y:
            add(f, "~~", f, user=False, free=False, fixed=1.0)
        else:
            add(f, "~~", f, user=False)
    if std_lv:  # a user-given `f ~~ f` without a modifier is fixed to 1 as well
        for r in rows:
            if r["op"] == "~~" and r["lhs"] == r["rhs"] and r["lhs"] in lv and r["user"] \
                    and r["lhs"] not in eqs_y and not r["per_group"]["fixed"]:
                r["fixed"], r["free"] = 1.0, False
    # covariances among exogenous factors (auto.cov.lv.x)
    if not orthogonal:
        for i, a in enumerate(lv_x):
            for b in lv_x[i + 1:]:
                add(a, "~~", b, user=False)
    else:
        for r in rows:
            if r["op"] == "~~" and r["lhs"] != r["rhs"] and r["lhs"] in lv_x and r["rhs"] in lv_x and not r["user"]:
                r["free"], r["fixed"] = False, 0.0
    # covariances among purely dependent variables (auto.cov.y)
    for i, a in enumerate(pure_y):
        for b in pure_y[i + 1:]:
            add(a, "~~", b, user=False)
    # exogenous covariates: their covariances (fixed at the sample values)
    for i, a in enumerate(ov_x):
        for b in ov_x[i + 1:]:
            add(a, "~~", b, user=False, free=False, exo=1)
    # mean structure
    if meanstructure or any(r["op"] == "~1" for r in rows):
        for v in ov:
            if v in ov_x:
                add(v, "~1", "", user=False, free=False, exo=1)
            elif v in ordered:
                add(v, "~1", "", user=False, free=False, fixed=0.0)
            else:
                add(v, "~1", "", user=False)
        for f in lv:
            add(f, "~1", "", user=False, free=False, fixed=0.0)

    # expand over groups
    table = []
    for g in range(1, n_groups + 1):
        for r in rows:
            pg = r["per_group"] or {}
            fixed, free, label, start = r["fixed"], r["free"], r["label"], r["start"]
            for kind in ("fixed", "labels", "starts"):
                vals = pg.get(kind) or []
                if not vals:
                    continue
                if len(vals) not in (1, n_groups):
                    raise ModelSyntaxError(
                        f"line {r['line']}: '{r['lhs']} {r['op']} {r['rhs']}' has {len(vals)} modifiers in c(...) "
                        f"but the data have {n_groups} group(s).")
                v = vals[0] if len(vals) == 1 else vals[g - 1]
                if kind == "fixed":
                    fixed, free = (None, True) if v is None else (v, False)
                elif kind == "labels":
                    label = v
                else:
                    start = v
            if r["user"] and r["per_group"] and not (pg.get("fixed")) and r["op"] == "=~" and r["fixed"] is not None:
                fixed, free = r["fixed"], False  # marker loading
            table.append(dict(lhs=r["lhs"], op=r["op"], rhs=r["rhs"], user=r["user"], block=g, group=g,
                              free=bool(free), ustart=(math.nan if fixed is None or free else float(fixed)),
                              exo=r["exo"], label=label, start=start))
    pt = pd.DataFrame(table)
    pt.insert(0, "id", range(1, len(pt) + 1))
    pt["plabel"] = [f".p{i}." for i in pt["id"]]
    if n_groups > 1:
        _apply_group_equal(pt, ge, partial, lv, ov, std_lv)
    _number_free(pt)
    return pt


def _ptype(r, lv, ov) -> str | None:
    op, lhs, rhs = r["op"], r["lhs"], r["rhs"]
    if op == "=~":
        return "loadings"
    if op == "~":
        return "regressions"
    if op == "|":
        return "thresholds"
    if op == "~1":
        return "means" if lhs in lv else "intercepts"
    if op == "~~":
        both_lv = lhs in lv and rhs in lv
        if lhs == rhs:
            return "lv.variances" if both_lv else "residuals"
        return "lv.covariances" if both_lv else "residual.covariances"
    return None


def _apply_group_equal(pt: pd.DataFrame, ge: list[str], partial: set, lv, ov, std_lv: bool) -> None:
    """Labels tying parameters across groups (lavaan's group.equal), and lavaan's consequences."""
    ge = set(ge)
    recs = pt[["lhs", "op", "rhs", "group", "free", "label", "plabel", "exo", "user"]].to_dict("records")
    first = {(r["lhs"], r["op"], r["rhs"]): r for r in recs if r["group"] == 1}
    labels = list(pt["label"])
    free = list(pt["free"])
    ustart = list(pt["ustart"])
    for i, r in enumerate(recs):
        t = _ptype(r, lv, ov)
        k = (r["lhs"], r["op"], r["rhs"])
        if t in ge and r["free"] and k not in partial and r["exo"] == 0 and r["label"] == "":
            f1 = first.get(k)
            if f1 is not None and f1["free"] and f1["label"] == "":
                labels[i] = f1["plabel"]
    # lavaan: equal intercepts (not means) -> latent means free beyond group 1;
    # std.lv with equal loadings (not lv.variances) -> factor variances free beyond group 1
    for i, r in enumerate(recs):
        if r["group"] == 1 or r["lhs"] not in lv:
            continue
        if r["op"] == "~1" and "intercepts" in ge and "means" not in ge and not r["user"]:
            free[i], ustart[i] = True, math.nan
        if (std_lv and r["op"] == "~~" and r["lhs"] == r["rhs"] and "loadings" in ge
                and "lv.variances" not in ge and not r["user"]):
            free[i], ustart[i] = True, math.nan
    pt["label"], pt["free"], pt["ustart"] = labels, free, ustart


def _number_free(pt: pd.DataFrame) -> None:
    """``free`` = 1..q, one number per free parameter, shared by equal labels."""
    nums = []
    by_label: dict[str, int] = {}
    fixed_labels = {lab for lab, fr in zip(pt["label"], pt["free"]) if lab and not fr}
    q = 0
    for lab, fr in zip(pt["label"], pt["free"]):
        if not fr or (lab and lab in fixed_labels):
            nums.append(0)
            continue
        if lab:
            if lab not in by_label:
                q += 1
                by_label[lab] = q
            nums.append(by_label[lab])
        else:
            q += 1
            nums.append(q)
    if fixed_labels:  # a label shared with a fixed parameter fixes its partners at that value
        val = {lab: u for lab, u, fr in zip(pt["label"], pt["ustart"], pt["free"]) if lab and not fr}
        pt["ustart"] = [val.get(lab, u) if lab in fixed_labels else u for lab, u in zip(pt["label"], pt["ustart"])]
    pt["free"] = nums
