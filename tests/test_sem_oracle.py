"""analysis.sem against lavaan 0.6 on general SEMs (tests/oracles/sem.R -> tests/fixtures/sem.json).

Models: Bollen's political democracy SEM (regressions among factors, equality by shared labels,
residual covariances), a CFA with std.lv = TRUE, a MIMIC model with exogenous observed covariates
(fixed.x), a two-group partial scalar invariance model and a CFA with a mean structure. Compared:
every row of parameterEstimates (estimate, se, z, p, CI), standardizedSolution (std.all and std.lv
with their delta-method SEs), fitMeasures and modindices (mi, epc, sepc.lv, sepc.all).
Tolerances: estimates, fit measures and standardized values 1e-5 relative (1e-6 absolute), except
the political democracy model's parameters at 2e-4 relative: lavaan's nlminb stops there about 1e-4
short along the residual covariances (our log-likelihood is 2e-8 higher, checked below; a tighter
rel.tol makes nlminb fail);
standard errors 1e-4 relative; modification indices 1e-3 relative (1e-4 absolute) -- the
brief asks for 1e-3; lavaan stops its optimiser at rel.tol 1e-10, which moves the MI of the
largest candidates by up to ~1e-5.
"""

from __future__ import annotations

import json
import pathlib
import warnings

import numpy as np
import pandas as pd
import pytest

from analysis.sem import sem

FIX = pathlib.Path(__file__).parent / "fixtures"
REF = json.loads((FIX / "sem.json").read_text())
EST = dict(rel=1e-5, abs=1e-6)
SE = dict(rel=1e-4, abs=1e-6)
MI = dict(rel=1e-3, abs=1e-4)

KW = {
    "poldem": {},
    "hs_stdlv": {"std_lv": True},
    "hs_mimic": {},
    "hs_scalar": {"group": "school", "group_equal": ["loadings", "intercepts"], "group_partial": ["x3 ~ 1"]},
    "hs_means": {"meanstructure": True},
}


@pytest.fixture(scope="module", params=list(KW))
def case(request):
    name = request.param
    ref = REF[name]
    data = pd.read_csv(FIX / ref["data"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # none of these fits should warn
        res = sem(ref["model"], data, **KW[name])
    return name, ref, res


def _merge(ours: pd.DataFrame, theirs: list[dict], grouped: bool) -> pd.DataFrame:
    t = pd.DataFrame(theirs)
    t["rhs"] = t["rhs"].fillna("")
    o = ours.copy()
    o["gkey"] = o["group_label"].astype(str) if grouped else ""
    t["gkey"] = t["group"].astype(str) if grouped else ""
    m = o.merge(t, on=["lhs", "op", "rhs", "gkey"], how="outer", suffixes=("", "_r"), indicator=True)
    return m


def test_converged_and_fit_measures(case):
    name, ref, res = case
    assert res.converged and ref["converged"]
    for k, v in ref["fit"].items():
        if v is None:
            assert not np.isfinite(res.fit[k]), k
            continue
        assert res.fit[k] == pytest.approx(v, **EST), (name, k)


#: relative tolerance of the parameters per model (see the module docstring)
PAR_RTOL = {"poldem": 2e-4}


def test_our_optimum_is_not_worse_than_lavaans(case):
    name, ref, res = case
    assert res.fit["logl"] >= ref["fit"]["logl"] - 1e-9


def test_parameter_estimates(case):
    name, ref, res = case
    m = _merge(res.parameter_estimates(), ref["params"], res.n_groups > 1)
    assert (m["_merge"] == "both").all(), m.loc[m["_merge"] != "both", ["lhs", "op", "rhs", "gkey", "_merge"]]
    rtol = PAR_RTOL.get(name, EST["rel"])
    np.testing.assert_allclose(m["estimate"], m["est"], rtol=rtol, atol=EST["abs"], err_msg=name)
    if name not in PAR_RTOL:
        np.testing.assert_allclose(m["se"], m["se_r"], rtol=SE["rel"], atol=SE["abs"], err_msg=name)
    z = m["z"].astype(float)
    ok = z.notna()
    np.testing.assert_allclose(m.loc[ok, "statistic"], z[ok], rtol=SE["rel"], atol=1e-4)
    np.testing.assert_allclose(m.loc[ok, "pvalue"], m.loc[ok, "pvalue_r"].astype(float), rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(m["ci_low"], m["estimate"] - 1.959963984540054 * m["se"], rtol=1e-12)
    np.testing.assert_allclose(m["ci_high"], m["estimate"] + 1.959963984540054 * m["se"], rtol=1e-12)
    if name not in PAR_RTOL:
        np.testing.assert_allclose(m["ci_low"], m["ci_lower"], rtol=SE["rel"], atol=1e-5)
        np.testing.assert_allclose(m["ci_high"], m["ci_upper"], rtol=SE["rel"], atol=1e-5)
    # labels given by the user (equality constraints) are kept
    user = m[m["label_r"].fillna("") != ""]
    if name == "poldem":
        assert set(user["label_r"]) == {"a", "b", "c"}
        assert (user["label"] == user["label_r"]).all()


def test_standard_errors_at_lavaans_estimates(case):
    """The information matrix itself, evaluated at lavaan's optimum (so lavaan's stopping point
    does not enter): standard errors at 1e-5 relative."""
    name, ref, res = case
    m = _merge(res.parameter_estimates(standardized=False), ref["params"], res.n_groups > 1)
    theta = np.zeros(res._model.n_free)
    for f, est in zip(m["free"], m["est"]):
        if f > 0:
            theta[int(f) - 1] = est
    obj = res._obj
    vcov = np.linalg.inv(obj.expected_information(theta) * obj.N)
    se = np.array([np.sqrt(vcov[int(f) - 1, int(f) - 1]) if f > 0 else 0.0 for f in m["free"]])
    np.testing.assert_allclose(se, m["se_r"], rtol=1e-5, atol=1e-7, err_msg=name)


def test_standardized_solution(case):
    name, ref, res = case
    m = _merge(res.parameter_estimates(), ref["params"], res.n_groups > 1)
    for col in ("std_all", "std_lv"):
        np.testing.assert_allclose(m[col], m[f"{col}_r"].astype(float), rtol=PAR_RTOL.get(name, EST["rel"]),
                                   atol=EST["abs"], err_msg=f"{name} {col}")
        se_r = m[f"{col}_se_r"].astype(float)
        ok = se_r.notna() & (se_r > 0)
        np.testing.assert_allclose(m.loc[ok, f"{col}_se"], se_r[ok], rtol=max(1e-4, PAR_RTOL.get(name, 0)), atol=1e-6,
                                   err_msg=f"{name} {col} se")


def test_modification_indices(case):
    name, ref, res = case
    ours = res.modification_indices()
    t = pd.DataFrame(ref["modindices"])
    # lavaan also lists the fixed (co)variances of the fixed.x covariates (ageyr, grade; MI 0) and
    # regressions of them on other variables;
    # analysis.sem does not offer them (see analysis.sem.modindices)
    exo = set(res.partable.loc[res.partable["exo"] == 1, "lhs"])
    t = t[~((t["op"] == "~") & t["lhs"].isin(exo)) & ~(t["lhs"].isin(exo) & t["rhs"].isin(exo))]
    t["gkey"] = t["group"].astype(str) if res.n_groups > 1 else ""
    o = ours.copy()
    o["gkey"] = o["group_label"].astype(str) if res.n_groups > 1 else ""
    m = t.merge(o, on=["lhs", "op", "rhs", "gkey"], how="left", suffixes=("_r", ""), indicator=True)
    missing = m[m["_merge"] != "both"]
    assert missing.empty, missing[["lhs", "op", "rhs", "gkey", "mi_r"]]
    np.testing.assert_allclose(m["mi"], m["mi_r"], **{"rtol": MI["rel"], "atol": MI["abs"]}, err_msg=name)
    np.testing.assert_allclose(m["epc"], m["epc_r"], rtol=MI["rel"], atol=MI["abs"], err_msg=name)
    for col in ("sepc_lv", "sepc_all"):
        np.testing.assert_allclose(m[col], m[f"{col}_r"].astype(float), rtol=MI["rel"], atol=MI["abs"],
                                   err_msg=f"{name} {col}")
