"""Tests of analysis.meta_selection (selection models) and of the publication-bias additions
at the end of analysis.meta_bias (rank_correlation_test, fail_safe_n, pet_peese), against
metafor 3.8.1 (tests/oracles/meta_selection.R -> tests/fixtures/meta_selection.json).

Tolerances (issue 14): selection models relative error <= 1e-4 (absolute 1e-6 where the
reference is near 0; the oracle is run with optim reltol = 1e-15 and integrate rel.tol = 1e-10,
the Hessian is numerical on both sides); ranktest, fsn and PET-PEESE relative error <= 1e-6.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import integrate, stats

from analysis.meta import meta_analysis
from analysis.meta_bias import fail_safe_n, pet_peese, rank_correlation_test
from analysis.meta_selection import _Model, _pvalues, _quad_nodes, _log_weight, selection_model

FIX = json.loads((Path(__file__).parent / "fixtures" / "meta_selection.json").read_text())
DATA = FIX["datasets"]
SEL = FIX["selmodel"]


def close(ours, ref, rtol, atol):
    ref = np.atleast_1d(np.asarray([np.nan if x is None else x for x in np.atleast_1d(ref)], dtype=float))
    ours = np.atleast_1d(np.asarray(ours, dtype=float))
    assert ours.shape == ref.shape, (ours, ref)
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=atol)


def _res(case):
    d = DATA[case["data"]]
    mods = None
    if case["mods"] == "design":
        mods = pd.DataFrame({"design": d["design"]})
    elif case["mods"] == "sessions":
        mods = pd.DataFrame({"sessions": d["sessions"]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return meta_analysis(d["yi"], d["vi"], method=case["method"], mods=mods)


_CACHE: dict[str, object] = {}


def _sel(name):
    if name not in _CACHE:
        case = SEL[name]
        _CACHE[name] = selection_model(_res(case), case["type"], steps=case["steps_in"],
                                       alternative=case["alternative"])
    return _CACHE[name]


@pytest.mark.parametrize("name", list(SEL))
def test_selection_model_against_metafor(name):
    ref = SEL[name]
    s = _sel(name)
    tol = {"rtol": 1e-4, "atol": 1e-6}
    assert s.converged
    close(s.beta, ref["beta"], **tol)
    close(s._se_vec, ref["se"], **tol)
    close(s.beta / s._se_vec, ref["zval"], **tol)
    close(2 * stats.norm.sf(np.abs(s.beta / s._se_vec)), ref["pval"], **tol)
    close(s.beta - 1.959963984540054 * s._se_vec, ref["ci_lb"], **tol)
    close(s.beta + 1.959963984540054 * s._se_vec, ref["ci_ub"], **tol)
    close(s.tau2, ref["tau2"], **tol)
    close(s.delta, ref["delta"], **tol)
    close(s.delta_se, ref["se_delta"], **tol)
    close(s.delta_statistic, ref["zval_delta"], **tol)
    close(s.delta_pvalue, ref["pval_delta"], **tol)
    close(s.delta_ci_low, ref["ci_lb_delta"], **tol)
    close(s.delta_ci_high, ref["ci_ub_delta"], **tol)
    close(s.loglik, ref["ll"], **tol)
    close(s.loglik0, ref["ll0"], **tol)
    close(s.lrt, ref["LRT"], **tol)
    assert s.lrt_df == ref["LRTdf"]
    close(s.lrt_pvalue, ref["LRTp"], **tol)
    close(s.pvalues, ref["pvals"], rtol=1e-10, atol=1e-14)
    if ref["method"] == "FE":
        assert s.lrt_tau2 is None and s.tau2 == 0.0 and ref["LRT_tau2"] is None
    else:
        close(s.se_tau2, ref["se_tau2"], **tol)
        close(s.tau2_ci, [ref["ci_lb_tau2"], ref["ci_ub_tau2"]], **tol)
        close(s.lrt_tau2, ref["LRT_tau2"], **tol)
        close(s.lrt_tau2_pvalue, ref["LRTp_tau2"], **tol)
    if ref["QM"] is not None and s.p > 1:
        close(s.qm, ref["QM"], **tol)
        close(s.qm_pvalue, ref["QMp"], **tol)
    if ref["ptable_k"] is not None:
        assert s.interval_counts["k"].tolist() == ref["ptable_k"]
        assert list(s.interval_counts.index) == ref["ptable_labels"]
        close(s.steps, ref["steps"], rtol=0, atol=0)


@pytest.mark.parametrize("name", ["hack_step4", "hack_halfnorm", "lan_step_design", "hack_step_fe"])
def test_summary_matches_metafor_print(name):
    """The printed numbers (metafor rounds to 4 decimals) agree line by line."""
    ours = [ln.rstrip() for ln in _sel(name).summary().splitlines() if ln.strip()]
    ref = [ln.rstrip().replace("\u2018", "'").replace("\u2019", "'") for ln in SEL[name]["print"].splitlines()
           if ln.strip()]
    assert len(ours) == len(ref)
    for a, b in zip(ours, ref):
        # our moderator names are patsy-style (design[T.rct]); metafor pastes them (designrct)
        a = a.replace("[T.", "").replace("]", "") if a.startswith("design") else a
        assert a.split() == b.split(), (a, b)


def test_results_vocabulary_and_reports():
    s = _sel("hack_step4")
    tab = s.to_frame()
    assert list(tab.columns[:7]) == ["term", "estimate", "se", "statistic", "pvalue", "ci_low", "ci_high"]
    assert tab["term"].tolist() == ["intrcpt", "tau2", "delta.1", "delta.2", "delta.3", "delta.4"]
    assert tab.loc[tab.term == "delta.3", "k"].item() == 16
    d = s.to_dict()
    json.dumps(d)
    assert d["interval_counts"]["0.1   < p <= 0.5"] == 16 and d["lrt_df"] == 3
    assert isinstance(s.estimate, float) and s.estimate == pytest.approx(SEL["hack_step4"]["beta"], rel=1e-4)
    text = s.apa()
    assert "Vevea & Hedges, 1995" in text and "\u03c7\u00b2(3) = 6.40" in text and "p = .094" in text
    m = _sel("lan_step_design")
    assert m.to_frame()["term"].tolist()[:3] == ["intrcpt", "design[T.nonequiv]", "design[T.rct]"]
    assert "QM(2)" in m.apa()


def test_reml_input_is_refitted_by_ml():
    a, b = _sel("hack_step4"), _sel("hack_step4_reml")
    assert b.method == "ML"
    np.testing.assert_allclose(a.beta, b.beta, rtol=1e-8)


@pytest.mark.parametrize("type_", ["halfnorm", "negexp", "power"])
@pytest.mark.parametrize("alternative", ["greater", "less", "two.sided"])
@pytest.mark.parametrize("cut", [0.0, 0.05])
@pytest.mark.parametrize(("tau2", "dval"), [(0.5, 3.0), (0.0, 50.0)])
def test_quadrature_matches_adaptive_integration(type_, alternative, cut, tau2, dval):
    """The fixed Gauss-Legendre normalising constant A_i agrees with scipy.integrate.quad to 1e-10."""
    y = np.array([0.3, -0.1, 0.8])
    v = np.array([0.04, 0.01, 0.2])
    pmin = 1e-5 if type_ == "power" else 0.0
    pv = np.clip(_pvalues(y / np.sqrt(v), alternative), pmin, 1 - pmin)
    m = _Model(y=y, v=v, X=np.ones((3, 1)), type_=type_, alternative=alternative, steps=None, cut=cut,
               pval_min=pmin, group=None, pvals=pv)
    t, wq = _quad_nodes(alternative, cut, pmin)
    pn = np.clip(_pvalues(t, alternative), pmin, 1 - pmin)
    m.nodes, m.qweights = t, wq
    m.log_w_nodes = lambda d: _log_weight(pn, d, type_, cut)
    beta, delta = np.array([0.2]), np.array([dval])
    ll = m.loglik(beta, tau2, delta)
    ref = 0.0
    for yi, vi, p in zip(y, v, pv):
        s = math.sqrt(vi + tau2)

        def f(x, vi=vi, s=s):
            pp = min(max(float(_pvalues(np.array([x / math.sqrt(vi)]), alternative)[0]), pmin), 1 - pmin)
            return math.exp(float(_log_weight(np.array([pp]), dval, type_, cut)[0])) * stats.norm.pdf(x, 0.2, s)

        # split at the p-value's transition (|y| of a few sqrt(v)) so that quad cannot miss it
        pts = [-12 * math.sqrt(vi), 0.0, 12 * math.sqrt(vi)]
        A = (integrate.quad(f, -np.inf, pts[0], epsabs=1e-15, epsrel=1e-12, limit=500)[0]
             + integrate.quad(f, pts[0], pts[1], epsabs=1e-15, epsrel=1e-12, limit=500)[0]
             + integrate.quad(f, pts[1], pts[2], epsabs=1e-15, epsrel=1e-12, limit=500)[0]
             + integrate.quad(f, pts[2], np.inf, epsabs=1e-15, epsrel=1e-12, limit=500)[0])
        ref += float(_log_weight(np.array([p]), dval, type_, cut)[0]) + stats.norm.logpdf(yi, 0.2, s) - math.log(A)
    assert ll == pytest.approx(ref, rel=1e-10, abs=1e-10)


@pytest.mark.parametrize("scale", [1e-6, 1e-3, 1e3, 1e6])
def test_step_model_is_scale_equivariant(scale):
    """Multiplying y by c (v by c^2): beta and SEs scale by c, tau^2 by c^2, deltas and LRT unchanged.

    The input fit is DL (non-iterative): selection_model refits by ML itself on y / sqrt(median v), so its
    result does not depend on the input's tau^2 estimator. (meta_analysis, which makes the input, overflows
    beyond about 1e100 and its ML/REML stopping rule is absolute: that is outside this module.)
    """
    d = DATA["hackshaw1998"]
    y, v = np.asarray(d["yi"]), np.asarray(d["vi"])
    base = _sel("hack_step1")
    s = selection_model(meta_analysis(y * scale, v * scale**2, method="DL"), "stepfun", steps=[0.025])
    np.testing.assert_allclose(s.beta / scale, base.beta, rtol=1e-6)
    np.testing.assert_allclose(s._se_vec / scale, base._se_vec, rtol=1e-5)
    np.testing.assert_allclose(s.tau2 / scale**2, base.tau2, rtol=1e-6)
    np.testing.assert_allclose(s.delta, base.delta, rtol=1e-6)
    np.testing.assert_allclose(s.lrt, base.lrt, rtol=1e-6, atol=1e-9)


# --------------------------------------------------------- ranktest, fsn, PET-PEESE (1e-6)

BIAS = FIX["bias"]
RT = {"rtol": 1e-6, "atol": 1e-12}


def _fit(name):
    d = DATA[name]
    return meta_analysis(d["yi"], d["vi"], method="REML")


@pytest.mark.parametrize("name", list(BIAS))
def test_ranktest_against_metafor(name):
    ref = BIAS[name]["ranktest"]
    rt = rank_correlation_test(_fit(name))
    close(rt.estimate, ref["tau"], **RT)
    close(rt.pvalue, ref["pval"], **RT)
    assert rt.exact == (not ref["ties"])
    assert rt.summary().split() == ref["print"].split()


@pytest.mark.parametrize("name", ["small", "tied"])
def test_ranktest_exact_and_ties(name):
    ref = FIX["ranktest_extra"][name]
    rt = rank_correlation_test(meta_analysis(ref["yi"], ref["vi"]))
    close(rt.estimate, ref["tau"], **RT)
    close(rt.pvalue, ref["pval"], **RT)
    assert rt.exact == (name == "small")


@pytest.mark.parametrize("name", list(BIAS))
@pytest.mark.parametrize(("key", "kwargs"), [
    ("Rosenthal", {"type": "Rosenthal"}),
    ("Rosenthal_alpha01", {"type": "Rosenthal", "alpha": 0.01}),
    ("Orwin", {"type": "Orwin"}),
    ("Orwin_target005", {"type": "Orwin", "target": 0.05}),
    ("Orwin_weighted", {"type": "Orwin", "weighted": True}),
    ("Rosenberg", {"type": "Rosenberg"}),
])
def test_fsn_against_metafor(name, key, kwargs):
    ref = BIAS[name]["fsn"][key]
    f = fail_safe_n(_fit(name), **kwargs)
    assert f.fsn == ref["fsnum"]
    for ours, r in [(f.pvalue, ref["pval"]), (f.mean_effect, ref["meanes"]), (f.target, ref["target"])]:
        if r is None:
            assert ours is None
        else:
            close(ours, r, **RT)
    assert f.to_frame().loc[0, "estimate"] == ref["fsnum"]


def test_fsn_print_layout():
    ref = BIAS["hackshaw1998"]["fsn"]["print_Rosenthal"]
    assert fail_safe_n(_fit("hackshaw1998")).summary().split() == ref.split()


@pytest.mark.parametrize("name", list(BIAS))
@pytest.mark.parametrize("error", ["additive", "multiplicative"])
def test_pet_peese_against_metafor_and_lm(name, error):
    pp = pet_peese(_fit(name), error=error)
    suffix = "fe" if error == "additive" else "lm"
    for model, tab in (("pet", pp.pet), ("peese", pp.peese)):
        ref = BIAS[name][f"{model}_{suffix}"]
        close(tab["estimate"], ref["beta"], **RT)
        close(tab["se"], ref["se"], **RT)
        close(tab["statistic"], ref["zval" if error == "additive" else "tval"], **RT)
        close(tab["pvalue"], ref["pval"], **RT)
        close(tab["ci_low"], ref["ci_lb"], **RT)
        close(tab["ci_high"], ref["ci_ub"], **RT)
        if error == "multiplicative":
            assert pp.df == ref["df"]
    pet_p = BIAS[name][f"pet_{suffix}"]["pval"][0]
    assert pp.selected == ("PEESE" if pet_p < 0.10 else "PET")
    chosen = BIAS[name][f"{pp.selected.lower()}_{suffix}"]
    close(pp.estimate, chosen["beta"][0], **RT)
    tab = pp.to_frame()
    assert list(tab.columns[:7]) == ["term", "estimate", "se", "statistic", "pvalue", "ci_low", "ci_high"]
    assert tab["selected"].sum() == 2
    assert pp.selected in pp.apa() and pp.selected in pp.summary()


def test_pet_peese_rule_follows_alpha():
    res = _fit("bcg")
    p = pet_peese(res).pet_pvalue
    assert pet_peese(res, alpha=min(0.999, p * 1.01)).selected == "PEESE"
    assert pet_peese(res, alpha=p * 0.99).selected == "PET"


@given(st.lists(st.tuples(st.floats(-2, 2), st.floats(0.001, 1.0)), min_size=3, max_size=25, unique_by=lambda t: t[1]),
       st.randoms(use_true_random=False))
def test_ranktest_properties(pairs, rnd):
    """tau in [-1, 1], p in [0, 1], and both unchanged when the studies are reordered."""
    y, v = map(np.asarray, zip(*pairs))
    a = rank_correlation_test(meta_analysis(y, v, method="FE"))
    order = list(range(len(y)))
    rnd.shuffle(order)
    b = rank_correlation_test(meta_analysis(y[order], v[order], method="FE"))
    assert -1 <= a.estimate <= 1 and 0 <= a.pvalue <= 1
    assert b.estimate == pytest.approx(a.estimate, abs=1e-12) and b.pvalue == pytest.approx(a.pvalue, abs=1e-12)


@given(st.lists(st.tuples(st.floats(0.01, 2), st.floats(0.001, 1.0)), min_size=2, max_size=30),
       st.floats(1e-3, 0.49))
def test_fsn_rosenthal_meets_its_target(pairs, alpha):
    """Adding N null studies (z = 0) brings Stouffer's combined p to at least alpha; N - 1 does not."""
    y, v = map(np.asarray, zip(*pairs))
    f = fail_safe_n(meta_analysis(y, v, method="FE"), alpha=alpha)
    z = np.sum(y / np.sqrt(v))
    p_with = lambda n: stats.norm.sf(abs(z) / np.sqrt(len(y) + n))  # noqa: E731
    assert p_with(f.fsn) >= alpha * (1 - 1e-9)
    if f.fsn > 0:
        assert p_with(f.fsn - 1) < alpha * (1 + 1e-9)
