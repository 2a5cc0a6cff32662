"""Coverage of the bad-input tests: every public function is called with bad input somewhere.

For every public module ``analysis/<module>.py`` (file name not starting with ``_``; found
on disk, so a new module is picked up without editing this file), and every public module of a
subpackage such as ``analysis/sem/`` (the package ``sem`` itself and ``sem.fit``, ``sem.syntax``,
... whose bad-input tests all live in ``test_bad_input_sem.py`` and ``test_bad_input_sem__*.py``), the names in its
``__all__`` that are plain functions defined in that module (``inspect.isfunction``;
classes, constants and re-exports from other modules are skipped) must each be called
inside a ``with pytest.raises(...)`` or ``with pytest.warns(...)`` block of one of the
module's bad-input files:

* ``tests/test_bad_input_<module>.py`` (the module's owner), and
* ``tests/test_bad_input_<module>__<topic>.py`` (functions added by someone else).

A call counts in the forms ``module.func(...)``, ``x.func(...)`` and ``func(...)``
anywhere in the block's body, and in the call form ``pytest.raises(Error, func, ...)``; a
variable called in the block counts for the functions it runs over when it is a loop variable
(``for fn in (f, g):``) or a parametrized argument (``@pytest.mark.parametrize("fn", [f, g])``).
The files are read with :mod:`ast`, not executed; whether those tests pass is their own
business. One test per module; it fails with the list of functions no bad-input test
reaches (or says that the file is missing).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap
import types
from pathlib import Path

import pytest

import analysis

PACKAGE_DIR = Path(analysis.__file__).resolve().parent
TESTS_DIR = Path(__file__).resolve().parent

#: The pytest context managers whose body counts as a bad-input test.
_CHECKERS = ("raises", "warns")


def public_modules(package_dir: Path = PACKAGE_DIR) -> list[str]:
    """Names of the public modules of `analysis`: ``analysis/*.py`` not starting with "_", and for each
    public subpackage (``analysis/<pkg>/__init__.py``, e.g. ``sem``) the package itself (``"sem"``)
    and its public modules (``"sem.fit"``, ``"sem.syntax"``, ...)."""
    mods = [p.stem for p in package_dir.glob("*.py") if not p.name.startswith("_")]
    for init in package_dir.glob("*/__init__.py"):
        pkg = init.parent.name
        if pkg.startswith("_"):
            continue
        mods.append(pkg)
        mods += [f"{pkg}.{p.stem}" for p in init.parent.glob("*.py") if not p.name.startswith("_")]
    return sorted(mods)


def public_functions(module_name: str) -> list[str]:
    """The plain functions in ``analysis.<module_name>.__all__`` defined in that module."""
    return functions_of(importlib.import_module(f"analysis.{module_name}"))


def functions_of(module: types.ModuleType) -> list[str]:
    """Names in ``module.__all__`` that are plain functions defined in `module` itself."""
    names = getattr(module, "__all__", None)
    if names is None:
        raise AssertionError(f"{module.__name__} has no __all__: its public functions cannot be listed.")
    out = []
    for name in names:
        if not hasattr(module, name):
            raise AssertionError(f"{module.__name__}.__all__ lists {name!r}, which the module does not define.")
        obj = getattr(module, name)
        if inspect.isfunction(obj) and obj.__module__ == module.__name__:
            out.append(name)
    return out


def bad_input_files(module_name: str, tests_dir: Path = TESTS_DIR) -> list[Path]:
    """``test_bad_input_<module>.py`` and ``test_bad_input_<module>__*.py`` that exist.

    A module of a subpackage (``"sem.fit"``) shares its package's files (``test_bad_input_sem.py``
    and ``test_bad_input_sem__<topic>.py``, e.g. ``test_bad_input_sem__missing.py``).
    """
    module_name = module_name.split(".")[0]
    files = [tests_dir / f"test_bad_input_{module_name}.py"]
    files += sorted(tests_dir.glob(f"test_bad_input_{module_name}__*.py"))
    return [f for f in files if f.is_file()]


def _called_name(func: ast.expr) -> str | None:
    """``f`` for a call of ``f(...)``, ``x.f(...)`` or ``a.b.f(...)``; None otherwise."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _is_checker(node: ast.expr) -> bool:
    """True for a call ``pytest.raises(...)`` / ``pytest.warns(...)`` (or bare ``raises(...)``)."""
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    if isinstance(f, ast.Attribute):
        return f.attr in _CHECKERS and isinstance(f.value, ast.Name) and f.value.id == "pytest"
    return isinstance(f, ast.Name) and f.id in _CHECKERS


def names_called_under_checks(source: str, filename: str = "<source>") -> set[str]:
    """Names of the functions called inside ``with pytest.raises/warns`` blocks of `source`.

    Also the function given to the call form ``pytest.raises(Error, func, *args)``.
    """
    tree = ast.parse(source, filename=filename)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.With, ast.AsyncWith)):
            if not any(_is_checker(item.context_expr) for item in node.items):
                continue
            for stmt in node.body:
                for sub in ast.walk(stmt):
                    if isinstance(sub, ast.Call):
                        name = _called_name(sub.func)
                        if name is not None:
                            found.add(name)
        elif _is_checker(node) and len(node.args) >= 2:
            name = _called_name(node.args[1])
            if name is not None:
                found.add(name)
    return found | _aliased_functions(tree, found)


def _names_in(node: ast.AST) -> set[str]:
    """Function names listed in a literal (``[f, mod.g]``, ``(f, g)``, parametrize tuples ...)."""
    out = set()
    for sub in ast.walk(node):
        name = _called_name(sub) if isinstance(sub, (ast.Name, ast.Attribute)) else None
        if name is not None:
            out.add(name)
    return out


def _aliased_functions(tree: ast.AST, called: set[str]) -> set[str]:
    """Functions reached through a variable that is called under a check: a loop variable
    (``for fn in (loglik, hessian): with pytest.raises(...): fn(...)``) or a parametrized argument
    (``@pytest.mark.parametrize("fn", [loglik, hessian])`` with ``fn(...)`` under a check)."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.For) and isinstance(node.target, ast.Name) and node.target.id in called:
            inner = names_called_under_checks(ast.unparse(ast.Module(body=node.body, type_ignores=[])))
            if node.target.id in inner:
                out |= _names_in(node.iter)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inner = None
            for dec in node.decorator_list:
                if not (isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute)
                        and dec.func.attr == "parametrize" and len(dec.args) >= 2
                        and isinstance(dec.args[0], ast.Constant) and isinstance(dec.args[0].value, str)):
                    continue
                argnames = [a.strip() for a in dec.args[0].value.split(",")]
                if inner is None:
                    inner = names_called_under_checks(ast.unparse(ast.Module(body=node.body, type_ignores=[])))
                hits = [k for k, a in enumerate(argnames) if a in inner]
                if not hits or not isinstance(dec.args[1], (ast.List, ast.Tuple)):
                    continue
                for elt in dec.args[1].elts:
                    if len(argnames) == 1:
                        out |= _names_in(elt)
                    elif isinstance(elt, (ast.Tuple, ast.List)):
                        for k in hits:
                            if k < len(elt.elts):
                                out |= _names_in(elt.elts[k])
    return out


def uncovered(functions: list[str], sources: dict[str, str]) -> list[str]:
    """The functions that no source (file name -> text) calls under a raises/warns block."""
    called: set[str] = set()
    for filename, text in sources.items():
        called |= names_called_under_checks(text, filename)
    return [f for f in functions if f not in called]


# --------------------------------------------------------------------------- the coverage test
@pytest.mark.parametrize("module_name", public_modules())
def test_every_public_function_has_a_bad_input_test(module_name):
    functions = public_functions(module_name)
    if not functions:
        return  # a module of classes and constants only: nothing to call
    files = bad_input_files(module_name)
    if not files:
        pytest.fail(
            f"analysis.{module_name}: no bad-input test file. Write tests/test_bad_input_{module_name}.py "
            f"(or tests/test_bad_input_{module_name}__<topic>.py) calling each of these inside "
            f"`with pytest.raises(..., match=...)`: {', '.join(functions)}.",
            pytrace=False,
        )
    sources = {str(f.relative_to(TESTS_DIR.parent)): f.read_text(encoding="utf-8") for f in files}
    missing = uncovered(functions, sources)
    if missing:
        listing = "\n".join(f"  - {module_name}.{name}" for name in missing)
        pytest.fail(
            f"analysis.{module_name}: {len(missing)} of {len(functions)} public functions are not called inside "
            f"a `with pytest.raises(...)` or `with pytest.warns(...)` block of {', '.join(sources)}:\n{listing}",
            pytrace=False,
        )


# --------------------------------------------------------------------------- self-tests of the checker
_SYNTHETIC = textwrap.dedent(
    """
    import pytest
    from analysis import power
    from analysis.power import mc_se

    def test_outside_does_not_count():
        power.design_effect(5, 0.1)          # called, but not under raises
        with open("x") as fh:                # a with block that is not a check
            power.power_correlation(0.1, 10)

    def test_attribute_form():
        with pytest.raises(ValueError, match="alpha"):
            power.power_two_arm(0.5, 10, alpha=2)

    def test_bare_name_form():
        with pytest.raises(ValueError, match="p"):
            mc_se(2.0, 10)

    def test_nested_and_warns():
        with pytest.warns(UserWarning):
            x = [result.summary() for result in [object()]]
            if True:
                obj.method(inner_call(1))

    def test_several_items():
        with open("y") as fh, pytest.raises(ValueError) as info:
            helper_in_multi_item()

    def test_call_form():
        pytest.raises(ValueError, power.naive_rejection_rate, 0.1, -5, 1.0)
        pytest.raises(ValueError, bare_call_form, 1)
        pytest.raises(ValueError, lambda: not_a_name_counted())
    """
)


def test_checker_counts_calls_inside_raises_and_warns_only():
    found = names_called_under_checks(_SYNTHETIC)
    # inside `with pytest.raises` / `pytest.warns`, attribute and bare forms, nested calls
    for name in ("power_two_arm", "mc_se", "summary", "method", "inner_call", "helper_in_multi_item"):
        assert name in found, name
    # the call form pytest.raises(Error, func, ...)
    assert "naive_rejection_rate" in found
    assert "bare_call_form" in found
    # outside any check, or under a `with` that is not pytest.raises/warns
    assert "design_effect" not in found
    assert "power_correlation" not in found
    # a lambda given to the call form is not a named function
    assert "not_a_name_counted" not in found


def test_uncovered_lists_the_missing_functions_in_order():
    funcs = ["design_effect", "power_two_arm", "power_correlation", "mc_se", "naive_rejection_rate"]
    assert uncovered(funcs, {"a.py": _SYNTHETIC}) == ["design_effect", "power_correlation"]
    # a second file can cover the rest (the __<topic> files)
    extra = "import pytest\nwith pytest.raises(ValueError):\n    design_effect(0, 0.1)\n"
    more = "import pytest\ndef t():\n    with pytest.raises(ValueError):\n        x.power_correlation(1, 2)\n"
    assert uncovered(funcs, {"a.py": _SYNTHETIC, "b.py": extra, "c.py": more}) == []


def test_checker_follows_loop_variables_and_parametrized_functions():
    src = textwrap.dedent(
        """
        import pytest
        from analysis.sem import missing

        @pytest.mark.parametrize("fn", [missing.loglik, hessian])
        def test_a(fn):
            with pytest.raises(ValueError):
                fn(None)

        @pytest.mark.parametrize("fn, bad", [(grad_a, 1), (grad_b, 2)])
        def test_b(fn, bad):
            with pytest.raises(ValueError):
                fn(bad)

        @pytest.mark.parametrize("fn", [not_called_under_check])
        def test_c(fn):
            fn(None)

        def test_d():
            for f in (casewise, info):
                with pytest.raises(ValueError):
                    f(0)
            for g in (loop_outside,):
                g(0)
        """
    )
    found = names_called_under_checks(src)
    for name in ("loglik", "hessian", "grad_a", "grad_b", "casewise", "info"):
        assert name in found, name
    assert "not_called_under_check" not in found and "loop_outside" not in found


def test_checker_ignores_other_context_managers_named_like_checks():
    src = textwrap.dedent(
        """
        import contextlib, numpy as np
        with np.errstate(all="raise"):
            f_errstate()
        with contextlib.suppress(ValueError):
            f_suppress()
        with other.raises(ValueError):
            f_other_raises()
        """
    )
    assert names_called_under_checks(src) == set()


def test_public_functions_skip_classes_constants_and_reexports():
    module = types.ModuleType("analysis_selftest")
    exec(textwrap.dedent(
        """
        from os.path import join            # a function defined elsewhere (re-export)
        CONSTANT = {"a": 1}

        class Result:
            pass

        def estimator(x):
            return x

        def _private(x):
            return x

        def not_exported(x):
            return x

        __all__ = ["CONSTANT", "Result", "estimator", "join"]
        """
    ), module.__dict__)
    assert functions_of(module) == ["estimator"]
    # the real modules: power exports a class (PowerResult) and a constant (ANALYSES)
    funcs = public_functions("power")
    assert "PowerResult" not in funcs and "ANALYSES" not in funcs
    assert "simulate_power" in funcs and "mc_se" in funcs


def test_public_functions_refuse_a_module_without_all():
    module = types.ModuleType("analysis_selftest_noall")
    with pytest.raises(AssertionError, match="no __all__"):
        functions_of(module)
    module.__all__ = ["ghost"]
    with pytest.raises(AssertionError, match="'ghost'"):
        functions_of(module)


def test_bad_input_files_match_owner_and_topic_files(tmp_path):
    for name in ("test_bad_input_meta.py", "test_bad_input_meta__three_level.py",
                 "test_bad_input_meta_bias.py", "test_bad_input_metafoo.py", "test_bad_input_meta_x.py"):
        (tmp_path / name).write_text("")
    found = [p.name for p in bad_input_files("meta", tmp_path)]
    assert found == ["test_bad_input_meta.py", "test_bad_input_meta__three_level.py"]
    assert [p.name for p in bad_input_files("meta_bias", tmp_path)] == ["test_bad_input_meta_bias.py"]
    assert bad_input_files("network", tmp_path) == []


def test_public_modules_are_found_on_disk():
    mods = public_modules()
    assert "power" in mods and "simulate" in mods and "plots" in mods
    assert not any(m.startswith("_") for m in mods)
    # the SEM subpackage: the package and its public modules
    assert "sem" in mods and "sem.fit" in mods and "sem.syntax" in mods
    assert not any(m.split(".")[-1].startswith("_") for m in mods)


def test_subpackage_modules_share_the_package_files(tmp_path):
    for name in ("test_bad_input_sem.py", "test_bad_input_sem__missing.py", "test_bad_input_sem_fit.py"):
        (tmp_path / name).write_text("")
    assert [p.name for p in bad_input_files("sem.fit", tmp_path)] == ["test_bad_input_sem.py",
                                                                       "test_bad_input_sem__missing.py"]
    assert bad_input_files("sem", tmp_path) == bad_input_files("sem.missing", tmp_path)
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "_private").mkdir()
    for f in ("a.py", "_b.py", "sub/__init__.py", "sub/c.py", "sub/_d.py", "_private/__init__.py"):
        (pkg / f).write_text("")
    assert public_modules(pkg) == ["a", "sub", "sub.c"]
