"""Tests of analysis.meta_bias against metafor 3.8.1 (tests/oracles/meta.R).

Tolerance: relative error <= 1e-6, absolute 1e-9 where the reference is (near) 0
(REML on the boundary: metafor's step-halving stops at tau^2 ~ 1e-12, we at 0).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from analysis.meta import meta_analysis
from analysis.meta_bias import cumulative, egger_test, influence, leave_one_out, trim_and_fill

FIX = Path(__file__).parent / "fixtures"
SENS = json.loads((FIX / "meta_sens.json").read_text())
CASES = [(d, key) for d in SENS for key in SENS[d]["fits"]]


def close(ours, ref, rtol=1e-6, atol=1e-9):
    ref = np.atleast_1d(np.asarray([np.nan if x is None else x for x in np.atleast_1d(ref)], dtype=float))
    ours = np.atleast_1d(np.asarray(ours, dtype=float))
    assert ours.shape == ref.shape, (ours, ref)
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=atol)


def fit(dataset, key):
    ds = SENS[dataset]
    method, test = key.split("_")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return meta_analysis(ds["yi"], ds["vi"], method=method, test=test), SENS[dataset]["fits"][key]


@pytest.mark.parametrize(("dataset", "key"), CASES)
def test_leave1out_and_cumul(dataset, key):
    res, ref = fit(dataset, key)
    l1, cu = leave_one_out(res).table, cumulative(res).table
    for tab, r in [(l1, ref["leave1out"]), (cu, ref["cumul"])]:
        for col, val in r.items():
            if res.method == "FE" and col == "tau2":
                assert val == [] and (tab[col] == 0).all()  # metafor gives no tau^2 for FE
                continue
            close(tab[col], val)


@pytest.mark.parametrize(("dataset", "key"), CASES)
def test_influence(dataset, key):
    res, ref = fit(dataset, key)
    tab = influence(res).table
    for col, val in ref["influence"].items():
        close(tab[col], val)
    assert tab["influential"].dtype == bool


@pytest.mark.parametrize(("dataset", "key"), CASES)
def test_egger_regtest(dataset, key):
    res, ref = fit(dataset, key)
    eg = egger_test(res)
    r = ref["regtest"]
    close([eg.statistic, eg.pvalue, eg.limit_estimate, eg.limit_ci_low, eg.limit_ci_high],
          [r["statistic"], r["pvalue"], r["limit_estimate"], r["limit_ci_low"], r["limit_ci_high"]])
    if res.test == "knha":
        assert eg.df == r["df"] == res.k - 2
    assert "Funnel Plot Asymmetry" in eg.summary() and "Egger" in eg.apa()


@pytest.mark.parametrize(("dataset", "key"), CASES)
@pytest.mark.parametrize("estimator", ["L0", "R0"])
def test_trimfill(dataset, key, estimator):
    res, ref = fit(dataset, key)
    r = ref["trimfill"][estimator]
    tf = trim_and_fill(res, estimator=estimator)
    assert (tf.k0, tf.side) == (r["k0"], r["side"])
    for col in ["estimate", "se", "ci_low", "ci_high", "tau2", "pvalue"]:
        close(getattr(tf.fit, col), r[col])
    close(tf.yi, r["yi"])
    close(tf.vi, r["vi"])
    assert tf.filled.tolist() == r["fill"]
    assert "missing studies" in tf.summary() and "Trim-and-fill" in tf.apa()


def test_oracle_covers_both_sides_and_nonzero_k0():
    sides = {f["trimfill"]["L0"]["side"] for d in SENS.values() for f in d["fits"].values()}
    k0 = {f["trimfill"][e]["k0"] for d in SENS.values() for f in d["fits"].values() for e in ("L0", "R0")}
    assert sides == {"left", "right"} and max(k0) >= 2 and 0 in k0


def test_cumulative_order_and_errors():
    ds = SENS["bcg"]
    res = meta_analysis(ds["yi"], ds["vi"], method="DL")
    order = np.arange(res.k)[::-1]
    cu = cumulative(res, order=order)
    full = cumulative(meta_analysis(ds["yi"][::-1], ds["vi"][::-1], method="DL"))
    close(cu.table["estimate"], full.table["estimate"], rtol=1e-12)
    assert cu.estimate[-1] == pytest.approx(res.estimate, rel=1e-12)
    with pytest.raises(ValueError, match="order"):
        cumulative(res, order=[1, 2])
    with pytest.raises(ValueError, match="MetaResult"):
        leave_one_out("not a fit")
    with pytest.raises(ValueError, match="estimator"):
        trim_and_fill(res, estimator="Q9")
    reg = meta_analysis(ds["yi"], ds["vi"], mods=np.arange(res.k, dtype=float))
    with pytest.raises(ValueError, match="moderators"):
        trim_and_fill(reg)
    assert "Leave-one-out" in leave_one_out(res, labels=[f"s{i}" for i in range(res.k)]).summary()


def test_docstring_examples_run():
    import doctest

    import analysis.meta_bias as mod

    assert doctest.testmod(mod).failed == 0
