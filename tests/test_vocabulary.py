"""One results vocabulary across every public results class (CONTRIBUTING.md, "Results vocabulary").

Walks ``__all__`` of every ``analysis/*.py`` not starting with "_" and of every public subpackage
(``analysis/sem``: its package-level ``__all__``) (new modules are picked up
automatically) and finds the results classes:

    a public class of ``__all__`` is a results class when it is a dataclass with a ``summary``
    method, or when its name ends in ``Result``, ``Model``, ``Effect``, ``Effects`` or
    ``Comparison`` -- unless it is in ``NOT_RESULTS`` below (data or specifications, with the
    reason given).

For each results class a small real instance is built through the public function (``BUILDERS``,
on the small data of the module's own examples/tests); a class without a builder (a new module's)
is built by running the doctest examples of its module and taking an instance from their namespace,
so a new module is checked as soon as it arrives; a class that neither gives fails until someone
adds a builder (two lines). Each instance must have
``summary()`` (str), ``to_frame()`` (DataFrame) and ``to_dict()`` (JSON-serialisable with
``json.dumps(d, default=float)``); a ``to_frame()`` with an ``estimate`` column is a coefficient table
and starts with ``term, estimate, se, statistic, pvalue, ci_low, ci_high`` (those it has, in that
order); and no table anywhere uses the old names (metafor's ``ci.lb``/``ci.ub``/``pval``/``zval``/
``tval``/``se.b``, lavaan's ``est``, ``lower``/``upper``/``p``/``z`` ...).
"""

from __future__ import annotations

import dataclasses
import doctest
import importlib
import inspect
import json
import pathlib
import re
import warnings

import numpy as np
import pandas as pd
import pytest

ANALYSIS = pathlib.Path(__file__).resolve().parents[1] / "analysis"
MODULES = sorted([p.stem for p in ANALYSIS.glob("*.py") if not p.stem.startswith("_")]
                 # public subpackages (analysis/sem): their package-level __all__
                 + [p.parent.name for p in ANALYSIS.glob("*/__init__.py") if not p.parent.name.startswith("_")]
                 # and their public modules (analysis/sem/ordinal.py -> "sem.ordinal")
                 + [f"{p.parent.name}.{p.stem}" for init in ANALYSIS.glob("*/__init__.py")
                    for p in init.parent.glob("*.py")
                    if not p.parent.name.startswith("_") and not p.stem.startswith("_")])

RESULT_NAME = re.compile(r"(Result|Model|Effects?|Comparison)$")

#: Public classes that look like results by the rule but are data or specifications.
NOT_RESULTS = {
    "DatasetInfo": "metadata of a dataset in the registry (a catalogue entry, not an estimate)",
    "SimulatedTrial": "simulated data (the input of analyses), not a result of one",
    "SimulatedItems": "simulated item answers (data)",
    "InstrumentKey": "a scoring key (the specification of an instrument)",
    "LedgerEntry": "one row of the reproduction ledger (a record, written to CSV)",
    "InvarianceStep": "one fitted step inside InvarianceResult (reached through it, no public builder)",
    "SEMModel": "the matrices of a model specification (engine internals, no estimates)",
    "OrdinalSampleStats": "sample statistics of ordered items (thresholds, polychorics: data summaries)",
}

#: Names that must not be column names of any results table (old dialects -> the vocabulary).
OLD_NAMES = {
    "ci.lb": "ci_low", "ci.ub": "ci_high", "lower": "ci_low", "upper": "ci_high", "ci_lower": "ci_low",
    "ci_upper": "ci_high", "est": "estimate", "se.b": "se", "pval": "pvalue", "p": "pvalue",
    "p_value": "pvalue", "zval": "statistic", "tval": "statistic", "z": "statistic",
}
COEF = ["term", "estimate", "se", "statistic", "pvalue", "ci_low", "ci_high"]


def _public_classes():
    out = {}
    for name in MODULES:
        mod = importlib.import_module(f"analysis.{name}")
        for attr in getattr(mod, "__all__", []):
            obj = getattr(mod, attr)
            if inspect.isclass(obj) and obj.__module__ == mod.__name__:
                out[f"{name}.{attr}"] = obj
    return out


def is_results_class(cls) -> bool:
    """The rule of the module docstring."""
    if cls.__name__ in NOT_RESULTS or issubclass(cls, BaseException):
        return False
    return (dataclasses.is_dataclass(cls) and callable(getattr(cls, "summary", None))) or bool(
        RESULT_NAME.search(cls.__name__))


RESULT_CLASSES = {k: c for k, c in _public_classes().items() if is_results_class(c)}


# ----------------------------------------------------------------------------- builders
def _meta(**kw):
    from analysis.meta import meta_analysis
    return meta_analysis([0.1, 0.3, 0.5, 0.2, 0.9, 0.7], [0.01, 0.02, 0.015, 0.03, 0.08, 0.06], **kw)


def _meta_mods():
    from analysis.meta import meta_analysis
    return meta_analysis([0.1, 0.3, 0.5, 0.2, 0.6, 0.4], [0.01, 0.02, 0.015, 0.03, 0.02, 0.01],
                         mods=[1.0, 2.0, 3.0, 1.5, 3.5, 2.5], method="ML")


def _arms():
    return pd.DataFrame({"study": [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6],
                         "treatment": ["A", "B", "A", "C", "B", "C"] * 2,
                         "yi": [0, .5, 0, .9, 0, .3, 0, .6, 0, 1.0, 0, .2], "vi": [.05] * 12})


def _trial(**kw):
    from analysis.simulate import simulate_trial
    return simulate_trial(**{"n_therapists": 20, "caseload": 6, "seed": 1, **kw})


def _growth(random_slope=True):
    from analysis.growth import growth_model
    rng = np.random.default_rng(2)
    pid = np.repeat(np.arange(40), 4)
    t = np.tile(np.arange(4.0), 40)
    y = 10 + rng.normal(0, 2, 40)[pid] + (rng.normal(-1, 0.7, 40)[pid]) * t + rng.normal(0, 1, 160)
    return growth_model(pd.DataFrame({"id": pid, "t": t, "y": y}), "y", "t", "id", random_slope=random_slope,
                        method="ML")


def _items(n=300, seed=3):
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(n, 1))
    return pd.DataFrame(0.7 * f + 0.7 * rng.normal(size=(n, 4)), columns=list("abcd"))


def _wai(n=120, seed=5):
    rng = np.random.default_rng(seed)
    lat = rng.normal(size=(n, 1))
    raw = np.clip(np.round(3 + lat + rng.normal(size=(n, 12))), 1, 5)
    return pd.DataFrame(raw, columns=[f"wai{j}" for j in range(1, 13)])


def _rupture_eps():
    from analysis.change import rupture_episodes
    rows = []
    for i, y in enumerate([[4, 4.1, 4, 4.1, 4], [4, 4, 1, 4, 4], [4, 4, 4, 1, 1], [4.1, 4, 4.1, 4, 4.1]]):
        rows += [{"patient": i, "session": t + 1, "alliance": v} for t, v in enumerate(y)]
    return rupture_episodes(pd.DataFrame(rows))


def _b(module, expr):
    """Builder evaluating ``expr`` with ``m`` the module and the helpers above in scope."""
    def build():
        m = importlib.import_module(f"analysis.{module}")
        return eval(expr, {**globals(), "m": m, "np": np, "pd": pd})
    return build


BUILDERS = {
    "change.ReliableChange": _b("change", "m.reliable_change([30, 20], [18, 19], reliability=0.91, sd_pre=8.0)"),
    "change.ReliableChangeThreshold": _b("change", "m.reliable_change_threshold(10.5, 0.931)"),
    "change.ClinicalSignificance": _b("change", "m.clinical_significance([30, 30, 30, 12], [10, 24, 40, 3], "
                                                "reliability=0.9, m_clin=30, sd_clin=8, m_func=8, sd_func=6)"),
    "change.SuddenGains": _b("change", "m.sudden_gains(pd.DataFrame({'patient': 1, 'session': range(1, 8), "
                                       "'symptom': [30, 29, 31, 18, 17, 16, 15]}))"),
    "change.RuptureEpisodes": _b("change", "_rupture_eps()"),
    "change.RuptureOutcome": _b("change", "m.rupture_outcome(_rupture_eps(), pd.DataFrame("
                                          "{'patient': [0, 1, 2, 3], 'change': [5.0, 7.0, 2.0, 6.0]}))"),
    "effect_sizes.EffectSizes": _b("effect_sizes", "m.compute_effect_sizes('SMD', m1i=[5, 6], sd1i=[2, 2], "
                                                   "n1i=[20, 30], m2i=[4, 4], sd2i=[2, 3], n2i=[20, 30])"),
    "growth.GrowthModel": _b("growth", "_growth()"),
    "growth.ModelComparison": _b("growth", "m.compare_growth_models(_growth(False), _growth(True))"),
    "importance.DominanceResult": _b("importance", "m.dominance_analysis((lambda d: d.assign(y=d.a + 0.5 * d.b + "
                                                   "np.random.default_rng(2).normal(size=80)))(pd.DataFrame("
                                                   "np.random.default_rng(1).normal(size=(80, 2)), columns=['a', 'b']"
                                                   ")), 'y', ['a', 'b'])"),
    "meta.MetaResult": _b("meta", "_meta_mods()"),
    "meta.Prediction": _b("meta", "_meta().predict()"),
    "meta.SubgroupResult": _b("meta", "m.subgroup_analysis([0.1, 0.2, 0.5, 0.6, 0.55], "
                                      "[0.01, 0.02, 0.01, 0.02, 0.015], ['a', 'a', 'b', 'b', 'b'], method='DL')"),
    "meta_bias.BiasTable": _b("meta_bias", "m.leave_one_out(_meta(method='DL'))"),
    "meta_bias.EggerResult": _b("meta_bias", "m.egger_test(_meta())"),
    "meta_bias.TrimFillResult": _b("meta_bias", "m.trim_and_fill(_meta())"),
    "meta_bias.FailSafeNResult": _b("meta_bias", "m.fail_safe_n(_meta())"),
    "meta_bias.PetPeeseResult": _b("meta_bias", "m.pet_peese(_meta())"),
    "meta_bias.RankTestResult": _b("meta_bias", "m.rank_correlation_test(_meta())"),
    "meta_compare.WaldResult": _b("meta_compare", "m.anova(_meta_mods())"),
    "meta_compare.ContrastResult": _b("meta_compare", "m.anova(_meta_mods(), X=[[1.0], [3.0]])"),
    "meta_compare.FitStatsResult": _b("meta_compare", "m.fitstats(_meta(method='ML'), _meta_mods())"),
    "meta_compare.LRTResult": _b("meta_compare", "m.lrt(_meta_mods(), __import__('analysis.meta').meta."
                                                 "meta_analysis([0.1, 0.3, 0.5, 0.2, 0.6, 0.4], "
                                                 "[0.01, 0.02, 0.015, 0.03, 0.02, 0.01], method='ML'))"),
    "meta_multilevel.ThreeLevelResult": _b("meta_multilevel", "m.three_level([0.1, 0.3, 0.2, 0.6, 0.5, 0.4, 0.0, "
                                                              "0.1], [0.01] * 8, [1, 1, 2, 2, 3, 3, 4, 4])"),
    "meta_selection.SelectionModelResult": _b("meta_selection", "m.selection_model(__import__('analysis.meta').meta."
                                              "meta_analysis([0.45, 0.31, 0.62, 0.05, 0.28, -0.10, 0.51, 0.22, 0.70, "
                                              "0.15, 0.38, 0.02], [0.02, 0.03, 0.05, 0.04, 0.01, 0.06, 0.03, 0.02, "
                                              "0.08, 0.05, 0.04, 0.03], method='ML'), 'stepfun', steps=[0.025])"),
    "multilevel.TherapistEffect": _b("multilevel", "m.therapist_effect(_trial().patients, 'post', 'therapist', "
                                                   "covariates=['pre', 'arm'])"),
    "multilevel.AllianceDisaggregation": _b("multilevel", "m.disaggregate_alliance(_trial().patients, 'change', "
                                                          "'alliance_mean', 'therapist', covariates=['arm'])"),
    "network.ContrastData": _b("network", "m.arm_to_contrast(_arms(), vi='vi')"),
    "network.NetworkResult": _b("network", "m.network_meta_analysis(m.arm_to_contrast(_arms(), vi='vi'))"),
    "network.InconsistencyResult": _b("network", "m.design_by_treatment(m.arm_to_contrast(_arms(), vi='vi'))"),
    "power.PowerResult": _b("power", "m.simulate_power({'n_therapists': 6, 'caseload': 4, 'arms': 'nested'}, "
                                     "'treatment_ols', n_replicates=5, seed=1, progress=False)"),
    "scoring.ScoredItems": _b("scoring", "m.score_wai_sr(_wai())"),
    "reliability.AlphaResult": _b("reliability", "m.cronbach_alpha(_items())"),
    "factor_models.CFAResult": _b("factor_models", "m.fit_cfa(_items(), {'g': ['a', 'b', 'c', 'd']})"),
    "factor_models.OrdinalCFAResult": _b("factor_models", "m.fit_cfa_ordinal(pd.DataFrame(1 + np.digitize(_items("
                                                          "400, 4), [-1.0, 0.0, 1.0]), columns=list('abcd')), "
                                                          "{'g': ['a', 'b', 'c', 'd']})"),
    "factor_models.FactorModelComparison": _b("factor_models", "m.compare_factor_models(_wai(200), "
                                                               "__import__('analysis.scoring').scoring.wai_sr_key())"),
    "invariance.ConfiguralResult": _b("invariance", "m.configural_invariance(_items(400).assign(site=np.repeat("
                                                    "['x', 'y'], 200)), {'g': ['a', 'b', 'c', 'd']}, 'site')"),
    "invariance.InvarianceResult": _b("invariance", "m.measurement_invariance(_items(400).assign(site=np.repeat("
                                                    "['x', 'y'], 200)), {'g': ['a', 'b', 'c', 'd']}, 'site')"),
    "sessions.LaggedModel": _b("sessions", "m.lagged_model((lambda s: s[s['session'] >= 1])(_trial(n_therapists=10)"
                                           ".sessions))"),
    "sessions.RICLPM": _b("sessions", "m.riclpm((lambda s: s[s['session'].between(1, 5)])(_trial(n_therapists=30, "
                                      "caseload=8, seed=2017).sessions), x='alliance', y='symptom', wave='session')"),
    "sem.SEMResult": _b("sem", "m.sem('f =~ a + b + c + d', _items())"),
    "sem.ordinal.WLSMVResult": _b("sem.ordinal", "m.fit_wlsmv(pd.DataFrame(1 + np.digitize(_items(400, 4), "
                                                 "[-1.0, 0.0, 1.0]), columns=list('abcd')), 'g =~ a + b + c + d')"),
    "sem.ordinal.OrdinalInvarianceResult": _b("sem.ordinal", "m.ordinal_invariance(pd.DataFrame(1 + np.digitize("
                                                             "_items(400, 4), [-1.0, 0.0, 1.0]), columns=list('abcd'))"
                                                             ".assign(site=np.repeat(['x', 'y'], 200)), "
                                                             "'g =~ a + b + c + d', 'site')"),
    "report.ReportResult": None,  # built in test_report_result_vocabulary (it writes a report into tmp_path)
}


def from_doctests(key):
    """An instance of the class ``key`` made by the doctest examples of its module (None if none)."""
    module, name = key.rsplit(".", 1)
    mod = importlib.import_module(f"analysis.{module}")
    cls = RESULT_CLASSES[key]
    for test in doctest.DocTestFinder().find(mod):
        ns = dict(test.globs)
        for ex in test.examples:
            if ex.options.get(doctest.SKIP):
                continue
            try:
                try:  # an expression: keep its value (``fit(...).df`` keeps ``fit(...)`` too)
                    code = compile(ex.source, f"<doctest {test.name}>", "eval")
                except SyntaxError:
                    exec(compile(ex.source, f"<doctest {test.name}>", "exec"), ns)
                else:
                    ns["_"] = eval(code, ns)
                    node = ex.source.strip()
                    while "." in node and isinstance(ns["_"], cls) is False:
                        node = node.rsplit(".", 1)[0]
                        try:
                            ns["_"] = eval(compile(node, "<doctest>", "eval"), ns)
                        except Exception:
                            break
            except Exception:
                break
            found = [v for v in ns.values() if isinstance(v, cls)]
            if found:
                return found[-1]
    return None


@pytest.fixture(scope="module")
def instances():
    cache = {}

    def get(key):
        if key not in cache:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                cache[key] = BUILDERS[key]() if BUILDERS.get(key) is not None else from_doctests(key)
        return cache[key]
    return get


def test_the_rule_finds_the_known_results_classes():
    names = {k.rsplit(".", 1)[1] for k in RESULT_CLASSES}
    assert {"MetaResult", "ThreeLevelResult", "NetworkResult", "CFAResult", "RICLPM", "GrowthModel"} <= names
    assert not names & set(NOT_RESULTS)
    assert not set(BUILDERS) - set(RESULT_CLASSES), "a builder names a class that is gone or not a results class"


def check_vocabulary(obj, where: str):
    for meth in ("summary", "to_frame", "to_dict"):
        assert callable(getattr(obj, meth, None)), f"{where} has no {meth}()"
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # the new API never goes through an old alias
        text = obj.summary()
        frame = obj.to_frame()
        d = obj.to_dict()
    assert isinstance(text, str) and text, f"{where}.summary() is not a non-empty str"
    assert isinstance(frame, pd.DataFrame), f"{where}.to_frame() is not a DataFrame"
    assert isinstance(d, dict), f"{where}.to_dict() is not a dict"
    json.dumps(d, default=float)  # raises if not serialisable
    check_table(frame, f"{where}.to_frame()")
    if "estimate" in frame.columns and "se" in frame.columns:
        have = [c for c in COEF if c in frame.columns]
        assert list(frame.columns[: len(have)]) == have, (
            f"{where}.to_frame() is a coefficient table; its first columns must be {have}, got {list(frame.columns)}")
        assert have[:2] == ["term", "estimate"], f"{where}.to_frame() coefficient table lacks `term`"
    for f in dataclasses.fields(obj) if dataclasses.is_dataclass(obj) else ():
        v = getattr(obj, f.name, None)
        if isinstance(v, pd.DataFrame) and not f.name.startswith("_"):
            check_table(v, f"{where}.{f.name}")
        if re.fullmatch(r"(.+_)?df(_num|_den)?", f.name):  # degrees of freedom are numbers, a pair is two fields
            est = getattr(obj, "estimate", None)
            if (f.name == "df" and isinstance(v, np.ndarray) and isinstance(est, np.ndarray)
                    and v.shape == est.shape and np.issubdtype(v.dtype, np.number)):
                continue  # a per-coefficient column (Satterthwaite df) stored beside `estimate`
            assert v is None or isinstance(v, (int, float, np.integer, np.floating)), (
                f"{where}.{f.name} is {type(v).__name__} {v!r}; degrees of freedom are numbers "
                f"(a pair is two fields, e.g. `{f.name}` and `{f.name}_den`)")
    for name in ("coefficients", "params", "fixed", "effects", "table"):
        v = getattr(obj, name, None) if name in dir(type(obj)) else None
        if isinstance(v, pd.DataFrame):
            check_table(v, f"{where}.{name}")


def check_table(frame: pd.DataFrame, where: str):
    cols = [c if isinstance(c, str) else "_".join(map(str, c)) for c in frame.columns]
    old = sorted(set(cols) & set(OLD_NAMES))
    assert not old, f"{where} uses old column name(s) {old}; the vocabulary says {[OLD_NAMES[o] for o in old]}"


@pytest.mark.parametrize("key", sorted(k for k in RESULT_CLASSES if k != "report.ReportResult"))
def test_results_vocabulary(key, instances):
    obj = instances(key)
    assert obj is not None, (f"no instance of {key}: add a builder to BUILDERS in tests/test_vocabulary.py "
                             "(or an Example in its module that makes one), or list the class in NOT_RESULTS")
    assert isinstance(obj, RESULT_CLASSES[key]), f"builder of {key} returned {type(obj).__name__}"
    check_vocabulary(obj, key)


def test_report_result_vocabulary(tmp_path):
    report = importlib.import_module("analysis.report")
    if "ReportResult" not in getattr(report, "__all__", []):
        pytest.skip("no ReportResult")
    res = report.ReportResult(kind="power", folder=tmp_path, html=tmp_path / "report.html", pdf=None,
                              files=["a.csv"], results={"n": 3}, seconds=0.5)
    check_vocabulary(res, "report.ReportResult")


def test_coefficient_tables_have_term_index_and_numbers():
    from analysis.meta import meta_analysis
    fit = meta_analysis([0.1, 0.3, 0.5, 0.2], [0.01, 0.02, 0.015, 0.03], mods=[1.0, 2.0, 3.0, 4.0], test="knha")
    assert fit.coefficients.index.name == "term"
    assert list(fit.to_frame().columns) == COEF
    assert isinstance(fit.qm_df, int) and isinstance(fit.qm_df_den, int)  # numbers, not a tuple
    assert fit.n_studies == fit.k == 4


def test_deprecated_aliases_warn_and_return_the_new_value(instances):
    checked = 0
    for key in RESULT_CLASSES:
        cls = RESULT_CLASSES[key]
        aliases = getattr(cls, "_deprecated", {})
        if not aliases or key == "report.ReportResult":
            continue
        obj = instances(key)
        for old, new in aliases.items():
            with pytest.warns(DeprecationWarning, match=re.escape(new)):
                got = getattr(obj, old)
            want = getattr(obj, new)
            if isinstance(want, (pd.DataFrame, pd.Series)):
                assert got.equals(want)
            else:
                assert got == want or (got is want)
            checked += 1
    assert checked >= 1
