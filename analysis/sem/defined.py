r"""Defined parameters (lavaan's ``name := expression``): functions of labelled parameters.

A line ``ab := a*b`` of the model defines a new quantity from the labels of the model's
parameters (and of earlier defined parameters): numbers, ``+ - * / ^`` (``**`` too),
parentheses and the functions ``sqrt``, ``exp``, ``log`` and ``abs``. It is evaluated at the
estimates, :math:`\hat\delta = g(\hat\theta)`, with the delta-method standard error
(Sobel 1982 for the indirect effect; Rosseel 2012 for lavaan)

.. math::

    \operatorname{se}(\hat\delta) = \sqrt{\nabla g(\hat\theta)^\top\, \widehat V(\hat\theta)\, \nabla g(\hat\theta)},

where :math:`\widehat V` is the covariance matrix of the free parameters (the robust sandwich
under ``estimator="MLR"``) and the gradient :math:`\nabla g` is the EXACT derivative of the
expression (chain rule on its syntax tree), not a finite difference. ``z`` is
:math:`\hat\delta/\operatorname{se}`, the p value two-sided normal and the interval Wald's.

A line ``a == b`` between two labels (lavaan's equality constraint) is mapped onto the
shared-label mechanism: the two parameters become one free parameter (:func:`apply_equalities`);
for a linear equality of two parameters this is the same fit, SEs, chi-square and df as
lavaan's constrained estimation.

The expression is read with :mod:`ast` and a whitelist (names, numbers, the four operations,
powers, unary signs and the four functions of one argument): nothing of it is run as Python.

References
----------
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software, 48*(2), 1--36.
Sobel, M. E. (1982). Asymptotic confidence intervals for indirect effects in structural equation
models. *Sociological Methodology, 13*, 290--312.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from analysis._checks import suggest_name
from analysis.sem.syntax import ModelSyntaxError

__all__ = ["Definition", "split_definitions", "apply_equalities", "check_labels", "evaluate", "defined_rows"]

_TOKEN = re.compile(r"(?P<num>\d*\.?\d+(?:[eE][+-]?\d+)?)|(?P<name>[A-Za-z_.][A-Za-z0-9_.]*)(?P<call>\s*\()?")
_FUNCS = ("sqrt", "exp", "log", "abs")


@dataclass
class Definition:
    """One ``name := expression`` line: ``name``, the expression as written (spaces removed, as
    lavaan prints it), the parsed tree (names replaced by ``_v0, _v1, ...``) and the names used."""

    name: str
    expr: str
    tree: ast.Expression
    names: dict
    line: int
    kind: str = ":="  # or "==": an equality between two labels (name == expr)


def _parse_expr(expr: str, where: str) -> tuple[ast.Expression, dict]:
    """Parse `expr` with a whitelist; names become safe identifiers (labels may contain dots)."""
    names: dict[str, str] = {}

    def sub(m):
        if m.group("num"):
            return m.group("num")
        tok, call = m.group("name"), m.group("call") or ""
        if call:
            if tok not in _FUNCS:
                raise ModelSyntaxError(f"{where}: the function {tok!r} is not supported in a defined parameter "
                                       f"(one of {', '.join(_FUNCS)}).{suggest_name(tok, list(_FUNCS))}")
            return tok + call
        if tok not in names:
            names[tok] = f"_v{len(names)}"
        return names[tok]

    text = _TOKEN.sub(sub, expr)
    text = text.replace("^", "**")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise ModelSyntaxError(f"{where}: cannot read the expression {expr!r} (labels, numbers, + - * / ^, "
                               f"parentheses and {', '.join(_FUNCS)} are allowed).") from None
    for node in ast.walk(tree):
        ok = isinstance(node, (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Add, ast.Sub, ast.Mult, ast.Div,
                               ast.Pow, ast.USub, ast.UAdd, ast.Load, ast.Name, ast.Call))
        if isinstance(node, ast.Constant):
            ok = isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
        if isinstance(node, ast.Call):
            fname = node.func.id if isinstance(node.func, ast.Name) else ""
            if fname not in _FUNCS or len(node.args) != 1 or node.keywords:
                shown = fname or ast.unparse(node.func)
                raise ModelSyntaxError(f"{where}: the function {shown!r} is not supported in a defined parameter "
                                       f"(one argument of {', '.join(_FUNCS)}).{suggest_name(shown, list(_FUNCS))}")
        if not ok:
            raise ModelSyntaxError(f"{where}: {type(node).__name__} is not allowed in the expression {expr!r} "
                                   f"(labels, numbers, + - * / ^, parentheses and {', '.join(_FUNCS)}).")
    return tree, names


def split_definitions(model: str) -> tuple[str, list[Definition]]:
    """Take the ``name := expression`` lines out of a lavaan model string.

    Parameters
    ----------
    model : str
        lavaan syntax.

    Returns
    -------
    tuple
        The model without the definitions (line numbers kept: removed parts become empty) and the
        list of :class:`Definition` in the order written (``kind`` ``":="``, or ``"=="`` for an
        equality ``a == b`` between two labels, see :func:`apply_equalities`).

    Raises
    ------
    ModelSyntaxError
        A definition that cannot be read (the line named), a name defined twice, or ``==``
        between anything but two labels. (``<`` and ``>`` are refused later, by
        :func:`analysis.sem.syntax.parse_syntax`.)

    Examples
    --------
    >>> rest, defs = split_definitions("m ~ a*x\\ny ~ b*m\\nab := a * b")
    >>> rest.split("\\n"), [(d.name, d.expr) for d in defs]
    (['m ~ a*x', 'y ~ b*m', ''], [('ab', 'a*b')])
    """
    if not isinstance(model, str):
        raise ModelSyntaxError(f"model must be a string in lavaan syntax, got {type(model).__name__}.")
    kept_lines, defs = [], []
    pending: list | None = None  # a definition continued on the next line
    for no, line in enumerate(model.splitlines(), start=1):
        code = re.split(r"[#!]", line, maxsplit=1)[0]
        kept = []
        for part in code.split(";"):
            if pending is not None:
                pending[2] += " " + part.strip()
                if not pending[2].rstrip().endswith(("+", "-", "*", "/", "^", "(")):
                    defs.append(_make(*pending))
                    pending = None
                continue
            if "==" in part and ":=" not in part:
                defs.append(_make_equality(no, part))
                continue
            if ":=" in part:
                lhs, rhs = part.split(":=", 1)
                item = [no, lhs.strip(), rhs.strip()]
                if rhs.strip().endswith(("+", "-", "*", "/", "^", "(")):
                    pending = item
                else:
                    defs.append(_make(*item))
                continue
            kept.append(part)
        kept_lines.append(";".join(kept) if any(p.strip() for p in kept) else "")
    if pending is not None:
        defs.append(_make(*pending))
    seen: dict[str, int] = {}
    for d in [d for d in defs if d.kind == ":="]:
        if d.name in seen:
            raise ModelSyntaxError(f"line {d.line}: the parameter {d.name!r} is defined twice (first on line "
                                   f"{seen[d.name]}).")
        seen[d.name] = d.line
    return "\n".join(kept_lines), defs


def _make_equality(no: int, part: str) -> Definition:
    lhs, rhs = (t.strip() for t in part.split("==", 1))
    where = f"line {no} ({part.strip()!r})"
    name = r"[A-Za-z_.][A-Za-z0-9_.]*"
    if not (re.fullmatch(name, lhs) and re.fullmatch(name, rhs)) or "=" in rhs:
        raise ModelSyntaxError(f"{where}: the operator '==' is supported between two parameter labels only "
                               "(e.g. 'a == b', the same as giving both parameters one label); other "
                               "constraints are not available.")
    return Definition(name=lhs, expr=rhs, tree=None, names={lhs: "_v0", rhs: "_v1"}, line=no, kind="==")


def apply_equalities(pt, defs: list[Definition]):
    """Make the parameters of ``a == b`` lines one free parameter (as a shared label would).

    Parameters
    ----------
    pt : pandas.DataFrame
        Parameter table (:func:`analysis.sem.syntax.parameter_table`).
    defs : list of Definition
        From :func:`split_definitions`; only the ``==`` entries are used.

    Returns
    -------
    pandas.DataFrame
        A copy with the ``free`` numbers merged and renumbered 1..q (labels unchanged).

    Raises
    ------
    ModelSyntaxError
        An unknown label (with "Did you mean"), a fixed parameter, or a defined parameter in ``==``.

    Examples
    --------
    >>> from analysis.sem.syntax import parameter_table
    >>> _, defs = split_definitions("y ~ a*x1 + b*x2\\na == b")
    >>> pt = apply_equalities(parameter_table("y ~ a*x1 + b*x2", fixed_x=False), defs)
    >>> pt.loc[pt["op"] == "~", "free"].tolist()
    [1, 1]
    """
    import pandas as pd

    if not isinstance(pt, pd.DataFrame) or not {"label", "free"} <= set(pt.columns):
        raise ValueError("pt must be a parameter table (a DataFrame with columns 'label' and 'free').")
    if not isinstance(defs, list) or not all(isinstance(d, Definition) for d in defs):
        raise ValueError("defs must be a list of Definition (from split_definitions).")
    eqs = [d for d in defs if d.kind == "=="]
    if not eqs:
        return pt
    pt = pt.copy()
    labels = [lab for lab in pt["label"] if lab]
    defined = {d.name for d in defs if d.kind == ":="}
    free = pt["free"].to_numpy().astype(int)
    parent = {k: k for k in set(free) if k > 0}

    def root(k):
        while parent[k] != k:
            k = parent[k]
        return k

    for d in eqs:
        where = f"line {d.line} ({d.name} == {d.expr})"
        ks = []
        for lab in (d.name, d.expr):
            if lab in defined:
                raise ModelSyntaxError(f"{where}: {lab!r} is a defined parameter; '==' is supported between "
                                       "parameter labels only.")
            if lab not in labels:
                raise ModelSyntaxError(f"{where}: {lab!r} is not a parameter label of the model."
                                       f"{suggest_name(lab, list(dict.fromkeys(labels)))}")
            k = int(free[list(pt["label"]).index(lab)])
            if k == 0:
                raise ModelSyntaxError(f"{where}: {lab!r} is a fixed parameter; give the other one the same "
                                       "fixed value instead of '=='.")
            ks.append(k)
        a, b = root(ks[0]), root(ks[1])
        if a != b:
            parent[max(a, b)] = min(a, b)
    new, nums = {}, []
    for k in free:
        if k == 0:
            nums.append(0)
            continue
        r = root(int(k))
        if r not in new:
            new[r] = len(new) + 1
        nums.append(new[r])
    pt["free"] = nums
    return pt


def _make(no: int, lhs: str, rhs: str) -> Definition:
    where = f"line {no} ({lhs} := {rhs})"
    if not re.fullmatch(r"[A-Za-z_.][A-Za-z0-9_.]*", lhs):
        raise ModelSyntaxError(f"{where}: the defined name {lhs!r} is not a name (letters, digits, '_' and '.').")
    if lhs in _FUNCS:
        raise ModelSyntaxError(f"{where}: {lhs!r} is a function name; choose another name.")
    if not rhs:
        raise ModelSyntaxError(f"{where}: nothing on the right-hand side of ':='.")
    tree, names = _parse_expr(rhs, where)
    return Definition(name=lhs, expr=re.sub(r"\s+", "", rhs), tree=tree, names=names, line=no)


def check_labels(defs: list[Definition], labels: list[str]) -> None:
    """Refuse names that are neither labels of the model nor earlier definitions.

    Parameters
    ----------
    defs : list of Definition
    labels : list of str
        The labels of the model's parameters.

    Raises
    ------
    ModelSyntaxError
        Naming the line, the unknown name and the nearest label ("Did you mean").

    Examples
    --------
    >>> _, defs = split_definitions("ab := a*b")
    >>> check_labels(defs, ["a", "b"]) is None
    True
    """
    if not isinstance(defs, list) or not all(isinstance(d, Definition) for d in defs):
        raise ValueError("defs must be a list of Definition (from split_definitions).")
    if isinstance(labels, str) or not all(isinstance(lab, str) for lab in labels):
        raise ValueError("labels must be a list of label strings.")
    known = list(dict.fromkeys(labels))
    for d in [d for d in defs if d.kind == ":="]:
        if d.name in labels:
            raise ModelSyntaxError(f"line {d.line} ({d.name} := {d.expr}): {d.name!r} is already a parameter "
                                   "label of the model; give the defined parameter another name.")
        for name in d.names:
            if name not in known:
                raise ModelSyntaxError(
                    f"line {d.line} ({d.name} := {d.expr}): {name!r} is not a parameter label of the model "
                    f"(labels: {', '.join(known) if known else 'none; write e.g. y ~ a*x'})."
                    f"{suggest_name(name, known)}")
        known.append(d.name)


def evaluate(defs: list[Definition], values: Mapping[str, float], grads: Mapping[str, np.ndarray],
             q: int) -> list[tuple[float, np.ndarray, str]]:
    """Value, exact gradient (length `q`) and a note ('' or why the value is NaN) of each definition.

    Parameters
    ----------
    defs : list of Definition
    values : mapping
        Label -> value.
    grads : mapping
        Label -> gradient of that value with respect to the q free parameters.
    q : int
        Number of free parameters.

    Returns
    -------
    list of (float, numpy.ndarray, str)

    Examples
    --------
    >>> _, defs = split_definitions("ab := a*b\\nr := sqrt(ab)")
    >>> out = evaluate(defs, {"a": 2.0, "b": 8.0}, {"a": np.array([1.0, 0]), "b": np.array([0, 1.0])}, 2)
    >>> [(v, g.tolist()) for v, g, _ in out]
    [(16.0, [8.0, 2.0]), (4.0, [1.0, 0.25])]
    """
    if not isinstance(defs, list) or not all(isinstance(d, Definition) for d in defs):
        raise ValueError("defs must be a list of Definition (from split_definitions).")
    if not isinstance(q, (int, np.integer)) or isinstance(q, bool) or q < 0:
        raise ValueError(f"q must be a non-negative integer, got {q!r}.")
    if not isinstance(values, Mapping) or not isinstance(grads, Mapping):
        raise ValueError("values and grads must be mappings from label to value / gradient.")
    values, grads = dict(values), dict(grads)
    for lab in values:
        if lab not in grads or np.shape(grads[lab]) != (q,):
            raise ValueError(f"grads: label {lab!r} needs a gradient of length q = {q}.")
        if not isinstance(values[lab], (int, float, np.floating, np.integer)) or isinstance(values[lab], bool):
            raise ValueError(f"values: label {lab!r} has a non-numeric value {values[lab]!r}.")
    check_labels(defs, list(values))
    defs = [d for d in defs if d.kind == ":="]
    out = []
    for d in defs:
        env = {ident: (values[name], np.asarray(grads[name], dtype=float)) for name, ident in d.names.items()}
        try:
            v, g = _ev(d.tree.body, env, q)
            note = "" if math.isfinite(v) and np.all(np.isfinite(g)) else "not finite at the estimates"
        except _Domain as e:
            v, g, note = math.nan, np.full(q, np.nan), str(e)
        if note:
            v, g = (v if math.isfinite(v) else math.nan), np.full(q, np.nan)
            note = f"defined parameter {d.name!r} ({d.expr}): {note}; estimate/SE are NaN."
        values[d.name], grads[d.name] = v, g
        out.append((v, g, note))
    return out


class _Domain(ValueError):
    pass


def _ev(node, env, q) -> tuple[float, np.ndarray]:
    zero = np.zeros(q)
    if isinstance(node, ast.Constant):
        return float(node.value), zero
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.UnaryOp):
        v, g = _ev(node.operand, env, q)
        return (-v, -g) if isinstance(node.op, ast.USub) else (v, g)
    if isinstance(node, ast.BinOp):
        u, du = _ev(node.left, env, q)
        v, dv = _ev(node.right, env, q)
        if isinstance(node.op, ast.Add):
            return u + v, du + dv
        if isinstance(node.op, ast.Sub):
            return u - v, du - dv
        if isinstance(node.op, ast.Mult):
            return u * v, v * du + u * dv
        if isinstance(node.op, ast.Div):
            if v == 0:
                raise _Domain("division by zero")
            return u / v, (du * v - u * dv) / (v * v)
        # power
        if not np.any(dv):  # constant exponent: n u^(n-1) u'
            if u == 0 and v < 1:
                raise _Domain("0 to a power below 1")
            if u < 0 and v != int(v):
                raise _Domain("negative number to a non-integer power")
            return u ** v, v * u ** (v - 1) * du if v != 0 else zero
        if u <= 0:
            raise _Domain("a power with a variable exponent of a non-positive base")
        val = u ** v
        return val, val * (dv * math.log(u) + v * du / u)
    if isinstance(node, ast.Call):
        u, du = _ev(node.args[0], env, q)
        name = node.func.id
        if name == "sqrt":
            if u <= 0:
                raise _Domain(f"sqrt of {u:.4g}" if u < 0 else "sqrt at 0 (no derivative)")
            s = math.sqrt(u)
            return s, du / (2 * s)
        if name == "exp":
            e = math.exp(u) if u < 700 else math.inf
            return e, e * du
        if name == "log":
            if u <= 0:
                raise _Domain(f"log of {u:.4g}")
            return math.log(u), du / u
        return abs(u), (1.0 if u >= 0 else -1.0) * du
    raise _Domain(f"cannot evaluate {type(node).__name__}")  # pragma: no cover (whitelisted)



def defined_rows(result, *, level: float = 0.95, standardized: bool = True) -> tuple[list[dict], list[str]]:
    """The ``:=`` rows of :meth:`analysis.sem.SEMResult.parameter_estimates` and the notes.

    Each label takes the value of its (first) row of the parameter table; its gradient is the unit
    vector of its free parameter (zero for a fixed one). The SE is the delta method with the
    exact gradient and ``result.vcov``. ``std_lv``/``std_all`` evaluate the expression on the
    standardized values of the labelled rows (as lavaan's ``standardizedSolution``); their SEs use
    the Jacobian of the standardized values by central differences (as
    :func:`analysis.sem.standardized.standardized_se`) times the exact gradient of the expression.

    Parameters
    ----------
    result : SEMResult
    level : float
        Confidence level of the Wald interval.
    standardized : bool
        Add ``std_lv``, ``std_all`` (and their SEs).

    Returns
    -------
    tuple
        (list of row dicts, list of notes)

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.sem import sem
    >>> rng = np.random.default_rng(5)
    >>> d = pd.DataFrame({"x": rng.normal(size=200)})
    >>> d["m"] = 0.5 * d["x"] + rng.normal(size=200)
    >>> d["y"] = 0.5 * d["m"] + rng.normal(size=200)
    >>> rows, notes = defined_rows(sem("m ~ a*x\\ny ~ b*m\\nab := a*b", d))
    >>> rows[0]["term"], notes
    ('ab := a*b', [])
    """
    from scipy import stats
    from analysis.sem.standardized import standardize

    if not hasattr(result, "defined") or not hasattr(result, "partable") or not hasattr(result, "vcov"):
        raise ValueError(f"result must be a fitted SEMResult (from analysis.sem.sem), got {type(result).__name__}.")
    if not (isinstance(level, float) and 0 < level < 1):
        raise ValueError(f"level must be a number in (0, 1), got {level!r}.")
    defs = [d for d in result.defined if d.kind == ":="]
    if not defs:
        return [], []
    pt = result.partable
    model, theta, V = result._model, np.asarray(result.theta, dtype=float), np.asarray(result.vcov, dtype=float)
    q = len(theta)
    first: dict[str, int] = {}
    for i, lab in enumerate(pt["label"]):
        if lab and lab not in first:
            first[lab] = i
    free = pt["free"].to_numpy()

    def unit(i):
        g = np.zeros(q)
        if free[i] > 0:
            g[free[i] - 1] = 1.0
        return g

    est = pt["estimate"].to_numpy(dtype=float)
    raw = evaluate(defs, {k: est[i] for k, i in first.items()}, {k: unit(i) for k, i in first.items()}, q)
    std = None
    if standardized:
        lv0, al0 = standardize(model, theta)
        J_lv, J_all = np.zeros((len(pt), q)), np.zeros((len(pt), q))
        for k in range(q):
            step = 1e-6 * (abs(theta[k]) if theta[k] != 0 else 1.0)  # relative: parameters of any scale
            e = np.zeros(q)
            e[k] = step
            a_lv, a_all = standardize(model, theta + e)
            b_lv, b_all = standardize(model, theta - e)
            J_lv[:, k], J_all[:, k] = (a_lv - b_lv) / (2 * step), (a_all - b_all) / (2 * step)
        std = [evaluate(defs, {k: v0[i] for k, i in first.items()}, {k: J[i] for k, i in first.items()}, q)
               for v0, J in ((lv0, J_lv), (al0, J_all))]
    z = stats.norm.ppf(0.5 + level / 2)
    finite_v = bool(np.all(np.isfinite(V)))
    rows, notes = [], []
    for k, d in enumerate(defs):
        v, g, note = raw[k]
        if note:
            notes.append(note)
        se = float(np.sqrt(max(g @ V @ g, 0.0))) if finite_v and np.all(np.isfinite(g)) else math.nan
        stat = v / se if se > 0 and math.isfinite(se) else math.nan
        pval = 2 * stats.norm.sf(abs(stat)) if math.isfinite(stat) else math.nan
        row = {"term": f"{d.name} := {d.expr}", "estimate": v, "se": se, "statistic": stat, "pvalue": pval,
               "ci_low": v - z * se, "ci_high": v + z * se, "lhs": d.name, "op": ":=", "rhs": d.expr,
               "group": 0, "group_label": "", "label": d.name, "free": 0, "exo": 0}
        if std is not None:
            for col, res in zip(("std_lv", "std_all"), std):
                sv, sg, snote = res[k]
                if snote:
                    notes.append(snote.replace("estimate/SE are NaN", f"{col} is NaN"))
                row[col] = sv
                if finite_v:
                    row[f"{col}_se"] = (float(np.sqrt(max(sg @ V @ sg, 0.0))) if np.all(np.isfinite(sg))
                                        else math.nan)
        rows.append(row)
    return rows, notes
