"""Tests of analysis.meta_compare (fitstats, anova, lrt) and of influence() on meta-regressions.

Reference: metafor 3.8.1 via tests/oracles/meta_compare.R (fixture tests/fixtures/meta_compare.json;
data: dat.bcg and dat.landenberger2005 from data/raw/, the latter CBT for offenders).
Tolerances: relative 1e-8 (absolute 1e-10 near 0) for log-likelihoods, deviances, AIC/BIC/AICc,
Wald/contrast/LRT statistics and p-values; relative 1e-6 (absolute 1e-9) for influence diagnostics.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.meta import meta_analysis
from analysis.meta_bias import influence
from analysis.meta_compare import ContrastResult, LRTResult, WaldResult, anova, fitstats, lrt

FIX = Path(__file__).parent / "fixtures"
REF = json.loads((FIX / "meta_compare.json").read_text())
DATA = {name: pd.DataFrame(rows) for name, rows in REF["data"].items()}
RTOL, ATOL = 1e-8, 1e-10
RTOL_INF, ATOL_INF = 1e-6, 1e-9


def close(ours, ref, rtol=RTOL, atol=ATOL):
    ours = np.atleast_1d(np.asarray(ours, dtype=float))
    ref = np.atleast_1d(np.asarray([np.nan if x is None else x for x in np.atleast_1d(np.asarray(ref, dtype=object))],
                                   dtype=float))
    assert ours.shape == ref.shape, (ours, ref)
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=atol, equal_nan=True)


def fit(dataset, mods, method, test="z"):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return meta_analysis("yi", "vi", data=DATA[dataset], mods=mods, method=method, test=test)


def case_id(c):
    return f"{c['dataset']}-{c.get('mods') or 'int'}-{c['method']}-{c['test']}"


# ------------------------------------------------------------------ fitstats


@pytest.mark.parametrize("case", REF["fitstats"], ids=case_id)
def test_fit_statistics_match_metafor(case):
    res = fit(case["dataset"], case["mods"], case["method"], case["test"])
    close(res.tau2, case["tau2"], rtol=1e-7, atol=1e-10)  # tau^2 itself: as tests/test_meta.py
    assert res.n_params == case["parms"]
    for kind in ("ml", "reml"):
        ref = case[kind]
        ours = res.fit_stats[kind.upper()]
        for name in ("loglik", "deviance", "aic", "bic", "aicc"):
            close(ours[name], ref[name])
    # logLik() and fitstats() pick REML for REML fits and ML otherwise
    close(res.loglik, case["loglik"])
    assert res.fitstats().name == case["fitstats_column"]
    close(res.fitstats().to_numpy(), case["fitstats"])
    close([res.deviance, res.aic, res.bic, res.aicc], case["fitstats"][1:])


def test_dat_bcg_reml_loglik_is_metafors():
    # metafor: logLik(rma(yi, vi, data = dat.bcg)) = -12.2024 (REML, with 1/2 log|X'X|); before the fix
    # the workbook reported -13.485 (without that term) and the REML likelihood for DL/FE fits too
    reml = fit("bcg", None, "REML")
    close(reml.loglik, -12.202371415493566, rtol=1e-9)
    dl = fit("bcg", None, "DL")
    assert dl.fitstats().name == "ML" and dl.loglik == dl.fit_stats["ML"]["loglik"]


def test_fitstats_function_tabulates_several_models():
    a, b = fit("bcg", None, "ML"), fit("bcg", "~ ablat", "ML")
    fs = fitstats(a, b, names=["null", "ablat"])
    assert list(fs.table.index) == ["logLik", "deviance", "AIC", "BIC", "AICc"]
    assert fs.likelihood == "ML"
    close(fs.table["ablat"].to_numpy(), b.fitstats().to_numpy(), rtol=0)
    frame = fs.to_frame()
    assert list(frame.columns[:3]) == ["model", "likelihood", "n_params"]
    assert frame["n_params"].tolist() == [2, 3]
    assert fs.to_dict()["models"][1]["model"] == "ablat"
    assert "AICc" in fs.summary()
    # the first model decides the likelihood, as metafor; reml= overrides it
    r = fitstats(fit("bcg", None, "REML"), fit("bcg", None, "FE"))
    assert r.likelihood == "REML" and list(r.table.columns) == ["model1", "model2"]
    with pytest.warns(UserWarning, match="REML fit statistics of models with different fixed effects"):
        fitstats(fit("bcg", None, "REML"), fit("bcg", "~ ablat", "REML"))
    assert fitstats(fit("bcg", None, "REML"), reml=False).likelihood == "ML"
    with pytest.warns(UserWarning, match="same data"):
        fitstats(a, fit("landenberger", None, "ML"))


# ---------------------------------------------------------------- Wald / btt


@pytest.mark.parametrize("case", REF["wald"], ids=case_id)
def test_wald_btt_matches_metafor(case):
    res = fit(case["dataset"], case["mods"], case["method"], case["test"])
    btt = case["btt"] if isinstance(case["btt"], str) else [int(b) for b in np.atleast_1d(case["btt"])]
    w = anova(res, btt=btt, rhs=case["rhs"])
    assert isinstance(w, WaldResult)
    assert [p + 1 for p in w.positions] == [int(b) for b in np.atleast_1d(case["btt_r"])]
    close(w.statistic, case["qm"])
    close(w.pvalue, case["qm_pvalue"])
    assert w.df == case["qm_df"]
    assert w.df_den == case["qm_df2"]


def test_default_wald_is_the_omnibus_test():
    res = fit("bcg", "~ ablat + year", "REML", "knha")
    w = anova(res)
    close(w.statistic, res.qm, rtol=1e-12)
    close(w.pvalue, res.qm_pvalue, rtol=1e-12)
    assert w.terms == ["ablat", "year"] and w.distribution == "F"
    assert "Test of Moderators (coefficients 2:3):\nF(df1 = 2, df2 = 10) =" in w.summary()
    tab = w.to_frame()
    assert list(tab.columns) == ["term", "estimate", "se", "statistic", "pvalue", "ci_low", "ci_high"]
    close(tab["se"], res.se[1:], rtol=1e-12)
    assert w.to_dict()["df_den"] == 10 and w.apa().startswith("Test of ablat, year: F(2, 10) =")
    # one named coefficient equals its squared z statistic
    z = anova(fit("bcg", "~ ablat + year", "REML"), btt=["year"])
    close(z.statistic, z.coefficients["statistic"].iloc[0] ** 2, rtol=1e-12)


# ------------------------------------------------------------------ contrasts


@pytest.mark.parametrize("case", REF["contrasts"], ids=case_id)
def test_contrasts_match_metafor(case):
    res = fit(case["dataset"], case["mods"], case["method"], case["test"])
    c = anova(res, X=np.array(case["X"], dtype=float), rhs=case["rhs"])
    assert isinstance(c, ContrastResult)
    tab = c.to_frame()
    for name in ("estimate", "se", "statistic", "pvalue"):
        close(tab[name], case[name])
    if case["qm"] is None:
        assert c.statistic is None and c.pvalue is None and "linearly dependent" in c.notes[0]
    else:
        close(c.statistic, case["qm"])
        close(c.pvalue, case["qm_pvalue"])
        assert c.df == case["qm_df"] and c.df_den == case["qm_df2"]


def test_contrast_without_intercept_column_and_labels():
    res = fit("bcg", "~ ablat + year", "REML")
    a = anova(res, X=[[10, 1970], [50, 1970]])
    b = anova(res, X=[[1, 10, 1970], [1, 50, 1970]])
    close(a.to_frame()["estimate"], b.to_frame()["estimate"], rtol=0)
    assert a.to_frame()["term"].tolist() == ["intrcpt + 10*ablat + 1970*year = 0",
                                             "intrcpt + 50*ablat + 1970*year = 0"]
    pr = res.predict(newmods=[[10, 1970], [50, 1970]])
    close(a.to_frame()["estimate"], pr.pred, rtol=1e-12)
    close(a.to_frame()["ci_low"], pr.ci_low, rtol=1e-12)
    d = anova(res, X=[0, 1, -1], rhs=0.5)
    assert d.to_frame()["term"].iloc[0] == "ablat - year = 0.5"
    assert "Omnibus Test of Hypotheses:" in b.summary() and "1: intrcpt" in b.summary()
    first = b.to_frame().iloc[0]
    row = next(line for line in b.summary().splitlines() if line.startswith("1:") and "=" not in line)
    assert row.split()[1:] == [f"{first['estimate']:.4f}", f"{first['se']:.4f}", f"{first['statistic']:.4f}",
                               f"{first['pvalue']:.4f}" if first["pvalue"] >= 1e-4 else "<.0001"]
    assert b.to_dict()["df"] == 2


# ------------------------------------------------------------------------ LRT


def lrt_id(c):
    return (f"{c['dataset']}-{c['full_mods'] or 'int'}-{c['full_method']}-vs-{c['reduced_mods'] or 'int'}-"
            f"{c['reduced_method']}{'-refit' if c['refit'] else ''}")


@pytest.mark.parametrize("case", REF["lrt"], ids=lrt_id)
def test_lrt_matches_metafor(case):
    full = fit(case["dataset"], case["full_mods"], case["full_method"])
    red = fit(case["dataset"], case["reduced_mods"], case["reduced_method"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # DL: "LRTs should be based on ML/REML estimation"
        res = anova(red, full, refit=case["refit"])  # order does not matter, as in metafor
    assert isinstance(res, LRTResult)
    close(res.statistic, case["lrt"])
    close(res.pvalue, case["pvalue"])
    assert res.df == case["parms_full"] - case["parms_reduced"]
    t = res.to_frame()
    assert t["n_params"].tolist() == [case["parms_full"], case["parms_reduced"]]
    for j, side in enumerate(("fit_full", "fit_reduced")):
        for name in ("loglik", "deviance", "aic", "bic", "aicc"):
            close(t[name].iloc[j], case[side][name])
    close([res.tau2_full, res.tau2_reduced], [case["tau2_full"], case["tau2_reduced"]], rtol=1e-7)
    close(t["qe"], [case["qe_full"], case["qe_reduced"]])
    close(res.r2, case["r2"], atol=1e-8)  # a percentage from a ratio of two tau^2 estimates
    assert res.refitted == case["refit"] and (case["refit"] == ("refitted" in res.notes[0] if res.notes else False))


def test_lrt_warns_for_moment_estimators_and_reports():
    with pytest.warns(UserWarning, match="ML/REML"):
        res = lrt(fit("bcg", "~ ablat", "DL"), fit("bcg", None, "DL"))
    s = res.summary()
    assert "Full" in s and "Reduced" in s and "LRT" in s and "tau^2" in s
    assert res.apa().startswith("Likelihood-ratio test (ML): \u03c7\u00b2(1) = ")
    assert res.to_dict()["models"][0]["model"] == "full"


def test_lrt_refuses_reml_with_different_fixed_effects_and_says_why():
    full, red = fit("bcg", "~ ablat", "REML"), fit("bcg", None, "REML")
    with pytest.raises(ValueError, match="REML fits with different fixed effects.*error contrasts"):
        lrt(full, red)
    # a reparametrised design is the same fixed effects: REML comparison allowed
    data = DATA["bcg"].assign(ablat_c=DATA["bcg"]["ablat"] - 30)
    a = meta_analysis("yi", "vi", data=data, mods="~ ablat", method="REML")
    b = meta_analysis("yi", "vi", data=data, mods="~ ablat_c", method="FE")
    close(a.loglik, meta_analysis("yi", "vi", data=data, mods="~ ablat_c", method="REML").loglik, rtol=1e-10)
    assert lrt(a, b).likelihood == "REML"


# ---------------------------------------------------------------- influence


@pytest.mark.parametrize("case", REF["influence"], ids=case_id)
def test_influence_on_meta_regression_matches_metafor(case):
    res = fit(case["dataset"], case["mods"], case["method"], case["test"])
    missing = [i for i, x in enumerate(case["rstudent"]) if x is None]
    if missing:
        with pytest.warns(UserWarning, match=r"without study 'Study 56'.*singular"):
            tab = influence(res).table
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)
            tab = influence(res).table
    for col in ("rstudent", "dffits", "cook_d", "cov_r", "tau2_del", "qe_del", "hat", "weight"):
        close(tab[col], case[col], rtol=RTOL_INF, atol=ATOL_INF)
    for j, name in enumerate(case["coef_names"]):
        col = "dfbetas" if len(case["coef_names"]) == 1 else f"dfbetas_{res.coef_names[j]}"
        close(tab[col], case["dfbetas"][j], rtol=RTOL_INF, atol=ATOL_INF)
    # metafor marks a study with '*' when is.infl is TRUE (NA counts as not marked)
    assert tab["influential"].tolist() == [bool(x) for x in case["influential"]]


def test_cook_distance_uses_all_coefficients():
    # metafor's default: Cook's distance on all p coefficients (0.0048 for study 1 of dat.bcg ~ ablat),
    # not on the moderators only (0.000545)
    tab = influence(fit("bcg", "~ ablat", "REML")).table
    close(tab["cook_d"].iloc[0], 0.00480423588743352, rtol=1e-6)
    assert not math.isclose(tab["cook_d"].iloc[0], 0.000545, rel_tol=1e-2)
