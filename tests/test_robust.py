"""Tests of analysis.robust against clubSandwich 0.5.8 (tests/oracles/meta_dependent.R).

Tolerance: 1e-6 relative on the robust covariance matrix, SEs, t statistics, Satterthwaite df,
CIs and the Wald F statistics / HTZ df (the models are fitted by us; on univariate models,
whose tau^2 agrees with metafor to 1e-12, the agreement is 1e-13); p-values 1e-5 relative.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.meta import meta_analysis
from analysis.meta_mv import rma_mv
from analysis.robust import CHEResult, RobustResult, WaldResult, che, robust, wald_test
from tests._dependent_fixture import ASSINK, FIX, FITS, LOPEZ


def close(ours, ref, rtol=1e-6, atol=0.0):
    np.testing.assert_allclose(np.atleast_1d(np.asarray(ours, float)), np.atleast_1d(np.asarray(ref, float)),
                               rtol=rtol, atol=atol)


def model_for(ds: str, key: str):
    if key.startswith("uni_"):
        mods = "~ year + overt" if key == "uni_year_overt" else None
        return meta_analysis("yi", "vi", data=ASSINK, mods=mods), ASSINK["study"].to_numpy()
    kw = dict(FITS[(ds, key)])
    kw.pop("newmods", None)
    data, V = kw.pop("data"), kw.pop("V")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return rma_mv("yi", V, data=data, **kw), data["study"].to_numpy()


# constraint name in the fixture -> (wald_test constraints, kind)
CONSTRAINTS = {"both": ([1, 2], "zero"), "year": (["year"], "zero"), "equal": ([1, 2], "equal"),
               "treatment": ([1, 2], "zero"), "x": (["x"], "zero")}
CASES = [(ds, key, typ) for ds in ("assink2016", "lopez2019", "three_level")
         for key in FIX[ds].get("robust", {}) for typ in ("CR0", "CR1", "CR2")]


@pytest.mark.parametrize("ds,key,typ", CASES)
def test_coef_test_and_wald_match_clubsandwich(ds, key, typ):
    ref = FIX[ds]["robust"][key][typ]
    model, cluster = model_for(ds, key)
    res = robust(model, cluster, vcov=typ)
    tab = res.to_frame()
    assert list(tab.columns) == ["term", "estimate", "se", "statistic", "pvalue", "ci_low", "ci_high", "df"]
    p = len(tab)
    close(res.vcov, np.asarray(ref["vcov"]).reshape(p, p, order="F"))
    for col in ("estimate", "se", "statistic", "df", "ci_low", "ci_high"):
        close(tab[col], ref[col])
    close(tab["pvalue"], ref["pvalue"], rtol=1e-5)
    for name, w in (ref["wald"] or {}).items():
        cons, kind = CONSTRAINTS[name]
        for i, test in enumerate(w["test"]):
            out = wald_test(res, cons, kind=kind, test=test)
            close(out.statistic, w["Fstat"][i])
            close(out.delta, w["delta"][i])
            close(out.pvalue, w["p_val"][i], rtol=1e-5)
            assert out.df_num == w["df_num"][i]
            if w["df_denom"][i] is None:
                assert out.df_denom == np.inf
            else:
                close(out.df_denom, w["df_denom"][i])


def test_model_cluster_default_is_outermost_level():
    model, cluster = model_for("assink2016", "che_REML_z")
    a = robust(model)
    b = robust(model, cluster)
    close(a.se, b.se, rtol=1e-14)
    close(a.df, b.df, rtol=1e-12)


def test_che_recipe_equals_the_three_calls():
    """che() = vcalc(rho = .6) + rma_mv(study/es_id, REML) + robust(CR2), as the R recipe."""
    out = che("yi", "vi", "study", es_id="esid", data=ASSINK)
    ref = FIX["assink2016"]["robust"]["che_REML_z"]["CR2"]
    close(out.robust.se, ref["se"])
    close(out.robust.df, ref["df"])
    close(out.model.sigma2, FIX["assink2016"]["fits"]["che_REML_z"]["sigma2"])
    out2 = che("yi", "vi", "study", data=ASSINK, mods="~ year + overt")  # es_id: row within study
    ref2 = FIX["assink2016"]["robust"]["che_year_overt_REML_z"]["CR2"]
    close(out2.robust.se, ref2["se"])
    close(out2.robust.pvalue, ref2["pvalue"], rtol=1e-5)
    w = wald_test(out2.robust, ["year", "overt"])
    both = ref2["wald"]["both"]
    close(w.statistic, both["Fstat"][both["test"].index("HTZ")])
    # moderators as a DataFrame instead of a formula
    out3 = che(ASSINK["yi"], ASSINK["vi"], ASSINK["study"], mods=ASSINK[["year", "overt"]])
    close(out3.robust.se, ref2["se"])
    # psychotherapy data: CBT contrasts against the control arm
    out4 = che("yi", "vi", "study", es_id="es_id", data=LOPEZ, mods="~ treatment")
    ref4 = FIX["lopez2019"]["robust"]["che_treatment_REML_t"]["CR2"]
    close(out4.robust.se, ref4["se"])
    close(out4.robust.df, ref4["df"])
    assert isinstance(out4, CHEResult) and out4.rho == 0.6
    s = out4.summary()
    assert "CHE working model (assumed within-study correlation rho = 0.6)" in s
    assert "Cluster-robust inference (CR2, Satterthwaite df)" in s and "d.f. (Satt)" in s
    assert out4.apa().startswith("Correlated and hierarchical effects model (REML, rho = 0.6; k = ")
    assert set(out4.to_dict()) == {"rho", "model", "robust"}


def test_che_rho_sensitivity_moves_little():
    """CR2 inference is robust to the assumed rho: estimates move, but stay close."""
    ests = [che("yi", "vi", "study", data=ASSINK, rho=r).robust.estimate[0] for r in (0.4, 0.6, 0.8)]
    assert np.ptp(ests) < 0.05


def test_single_effect_clusters_are_defined():
    """A cluster with one effect: CR2 still defined (here every cluster: the HC2-type estimator)."""
    res = meta_analysis("yi", "vi", data=ASSINK)
    out = robust(res, np.arange(len(ASSINK)))
    assert np.isfinite(out.se[0]) and out.se[0] > 0 and np.isfinite(out.df[0])
    assert any("single effect" in n for n in out.notes)
    # a CR2 scalar adjustment: same as hand formula sqrt(phi / (phi - x'Mx)) for each effect
    phi = ASSINK["vi"].to_numpy() + res.tau2
    w = 1 / phi
    m = 1 / w.sum()
    e = ASSINK["yi"].to_numpy() - res.beta[0]
    a = np.sqrt(phi / (phi - m))
    close(out.se[0] ** 2, m**2 * np.sum((w * a * e) ** 2), rtol=1e-12)


def test_reports():
    model, cluster = model_for("assink2016", "che_year_overt_REML_z")
    res = robust(model, cluster)
    assert isinstance(res, RobustResult) and res.n_clusters == 17 and res.n_obs == 100
    assert "t(" in res.apa() and "Satterthwaite" in res.apa()
    d = res.to_dict()
    assert d["vcov_type"] == "CR2" and len(d["coefficients"]) == 3
    w = wald_test(res, ["year", "overt"])
    assert isinstance(w, WaldResult) and "HTZ" in w.summary() and w.apa().startswith("Robust (CR2, HTZ) test of")
    assert list(w.to_frame().columns) == ["test", "statistic", "df_num", "df_denom", "pvalue", "delta"]
    # a constraint matrix equals the term list
    w2 = wald_test(res, np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))
    close(w2.statistic, w.statistic, rtol=1e-12)
    # a non-zero null shifts the test
    w3 = wald_test(res, "year", null=0.01, test="chi-sq")
    t = (res.estimate[1] - 0.01) / res.se[1]
    close(w3.statistic, t**2, rtol=1e-10)


@settings(max_examples=10, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([1e-3, 1.0, 1e3]))
def test_scale_equivariance(seed, scale):
    """Scaling y by c and V by c^2 scales robust SEs by c and leaves df and p unchanged (rma_mv fits)."""
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(8), 3)
    es = np.tile([1, 2, 3], 8)
    v = rng.uniform(0.01, 0.05, g.size)
    x = rng.normal(size=g.size)
    y = 0.2 + 0.1 * x + rng.normal(0, 0.3, 8)[g] + rng.normal(0, 0.1, g.size) + rng.normal(0, np.sqrt(v))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        m1 = rma_mv(y, v, random=[g, es], mods=x)
        m2 = rma_mv(scale * y, scale**2 * v, random=[g, es], mods=x)
    a, b = robust(m1), robust(m2)
    close(b.se, scale * a.se, rtol=1e-5)
    close(b.df, a.df, rtol=1e-5)
    close(b.pvalue, a.pvalue, rtol=1e-4)
    # CR1 is CR0 times J / (J - 1)
    close(robust(m1, vcov="CR1").vcov, robust(m1, vcov="CR0").vcov * 8 / 7, rtol=1e-12)


def test_frame_index_is_positional():
    """A DataFrame with a non-default index works (cluster arrays are positional)."""
    d = ASSINK.set_index(ASSINK.index + 100)
    res = robust(meta_analysis("yi", "vi", data=d), d["study"])
    ref = FIX["assink2016"]["robust"]["uni_intercept"]["CR2"]
    close(res.se, ref["se"])
    assert isinstance(pd.Series(res.df), pd.Series)


def test_three_level_results_are_accepted():
    """three_level is fitted by rma_mv: robust() on its result equals robust() on the rma_mv fit."""
    from analysis.meta_multilevel import three_level

    d = ASSINK.assign(es=ASSINK.groupby("study").cumcount())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        tl = three_level("yi", "vi", "study", es_id="es", data=d)
        mv = rma_mv(d["yi"], d["vi"], data=d, random=["study", "es"])
    a, b = robust(tl), robust(mv)
    close(a.estimate, b.estimate, rtol=1e-12)
    close(a.se, b.se, rtol=1e-10)
    close(a.df, b.df, rtol=1e-10)
    with pytest.raises(ValueError, match="`model` must be a result of analysis.meta.meta_analysis, "
                                         "analysis.meta_mv.rma_mv or analysis.meta_multilevel.three_level"):
        robust({"beta": [1.0]})
