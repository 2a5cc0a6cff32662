"""lavaan syntax -> parameter table (analysis.sem.syntax), the matrices and Jacobian (analysis.sem.model),
and the SEMResult methods. The defaults are those of lavaan's sem()/cfa() (checked row by row against
lavaan's parameterEstimates in tests/test_sem_oracle.py); here the parser's details. Exact
comparisons (integers, strings); the Jacobian against central differences at 1e-7 (absolute).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.sem import cfa, sem
from analysis.sem.model import SEMModel
from analysis.sem.syntax import parameter_table, parse_syntax


def rows(pt, cols=("lhs", "op", "rhs", "free", "ustart", "label")):
    return [tuple(r) for r in pt[list(cols)].itertuples(index=False)]


def test_comments_semicolons_and_continuation_lines():
    a = parse_syntax("# a model\n f =~ x1 + x2 +\n   x3   ! lavaan comment\n x1 ~~ x2; x3 ~ 1")
    assert [(s.lhs, s.op, s.rhs) for s in a] == [("f", "=~", "x1"), ("f", "=~", "x2"), ("f", "=~", "x3"),
                                                ("x1", "~~", "x2"), ("x3", "~1", "")]


def test_modifiers_fixed_free_labels_and_per_group_vectors():
    pt = parameter_table("f =~ NA*x1 + 0.5*x2 + a*x3 + start(2)*x4\n f ~~ 1*f")
    r = {(l, o, rh): (fr, u, lab, st) for l, o, rh, fr, u, lab, st in
         pt[["lhs", "op", "rhs", "free", "ustart", "label", "start"]].itertuples(index=False)}
    assert r[("f", "=~", "x1")][0] > 0                      # NA* frees the marker
    assert r[("f", "=~", "x2")][:2] == (0, 0.5)             # fixed value
    assert r[("f", "=~", "x3")][2] == "a" and r[("f", "=~", "x3")][0] > 0
    assert r[("f", "=~", "x4")][3] == 2.0                   # start value, still free
    assert r[("f", "~~", "f")][:2] == (0, 1.0)
    pt = parameter_table("f =~ x1 + c(a, b)*x2 + c(1, NA)*x3", n_groups=2)
    g = pt[pt["op"] == "=~"].set_index(["group", "rhs"])
    assert g.loc[(1, "x2"), "label"] == "a" and g.loc[(2, "x2"), "label"] == "b"
    assert g.loc[(1, "x3"), "free"] == 0 and g.loc[(2, "x3"), "free"] > 0


def test_equal_labels_share_one_free_parameter():
    pt = parameter_table("f =~ x1 + a*x2 + a*x3\n g =~ y1 + b*y2 + b*y3")
    lo = pt[pt["op"] == "=~"].set_index("rhs")["free"]
    assert lo["x2"] == lo["x3"] and lo["y2"] == lo["y3"] and lo["x2"] != lo["y2"]
    # a plain label applies to every group, so it is equal across groups too (as in lavaan)
    pt = parameter_table("f =~ x1 + a*x2 + x3", n_groups=2)
    assert pt.loc[(pt["rhs"] == "x2") & (pt["op"] == "=~"), "free"].nunique() == 1
    assert pt.loc[(pt["rhs"] == "x3") & (pt["op"] == "=~"), "free"].nunique() == 2


def test_defaults_std_lv_orthogonal_and_auto_cov_y():
    pt = parameter_table("f =~ x1 + x2 + x3\n g =~ x4 + x5 + x6", std_lv=True, orthogonal=True)
    assert (pt.loc[pt["op"] == "=~", "free"] > 0).all()
    assert rows(pt[(pt["op"] == "~~") & pt["lhs"].isin(["f", "g"])], ("lhs", "rhs", "free", "ustart")) == [
        ("f", "f", 0, 1.0), ("g", "g", 0, 1.0)]
    # two purely dependent variables: their residual covariance is free (lavaan's auto.cov.y)
    pt = parameter_table("y1 ~ x\n y2 ~ x")
    assert ("y1", "~~", "y2") in {(a, o, b) for a, o, b in pt[["lhs", "op", "rhs"]].itertuples(index=False)}
    # x is exogenous (fixed.x): its variance is fixed at the sample value
    x = pt[(pt["lhs"] == "x") & (pt["op"] == "~~")]
    assert int(x["exo"].iloc[0]) == 1 and int(x["free"].iloc[0]) == 0


def test_group_equal_and_partial():
    pt = parameter_table("f =~ x1 + x2 + x3", n_groups=2, meanstructure=True,
                         group_equal=["loadings", "intercepts"], group_partial=["x3 ~ 1"])
    q = pt.set_index(["group", "lhs", "op", "rhs"])["free"]
    assert q[(1, "f", "=~", "x2")] == q[(2, "f", "=~", "x2")]
    assert q[(1, "x2", "~1", "")] == q[(2, "x2", "~1", "")]
    assert q[(1, "x3", "~1", "")] != q[(2, "x3", "~1", "")]          # group.partial
    assert q[(1, "f", "~1", "")] == 0 and q[(2, "f", "~1", "")] > 0   # latent mean freed in group 2
    assert q[(1, "x1", "~~", "x1")] != q[(2, "x1", "~~", "x1")]


def test_jacobian_matches_central_differences():
    model = "f =~ x1 + x2 + x3\n g =~ x4 + x5 + x6\n g ~ f + z\n x1 ~~ x4\n y ~ g"
    ov = ["x1", "x2", "x3", "x4", "x5", "x6", "z", "y"]
    pt = parameter_table(model, ov, n_groups=2, meanstructure=True, group_equal=["loadings"])
    m = SEMModel(pt, ov, groups=["a", "b"], meanstructure=True)
    for r in np.flatnonzero(pt["exo"].to_numpy() == 1):
        m.set_fixed(r, 1.3 if pt["op"].iat[r] == "~~" else 0.2)
    th = np.random.default_rng(4).uniform(0.2, 0.6, m.n_free)
    eps = 1e-6
    for g, (dmu, dS) in enumerate(m.jacobian(th)):
        for k in range(m.n_free):
            e = np.zeros(m.n_free)
            e[k] = eps
            (mu1, S1), (mu0, S0) = m.implied(th + e)[g], m.implied(th - e)[g]
            np.testing.assert_allclose(dmu[:, k], (mu1 - mu0) / (2 * eps), atol=1e-7)
            np.testing.assert_allclose(dS[:, k], (S1 - S0).ravel(order="F") / (2 * eps), atol=1e-7)


def test_result_methods():
    rng = np.random.default_rng(7)
    f = rng.normal(size=(300, 1))
    X = pd.DataFrame(f @ [[1.0, 0.8, 0.7, 0.6]] + rng.normal(size=(300, 4)) * 0.7, columns=list("abcd"))
    res = cfa("f =~ a + b + c + d", X)
    text = res.summary()
    assert "Latent Variables:" in text and "Variances:" in text and "Test statistic" in text
    assert res.apa().startswith("χ²(2, N = 300)")
    pe = res.to_frame()
    assert list(pe.columns[:7]) == ["term", "estimate", "se", "statistic", "pvalue", "ci_low", "ci_high"]
    json.dumps(res.to_dict(), default=float)
    fm = res.fit_measures(["cfi", "rmsea"])
    assert list(fm.index) == ["cfi", "rmsea"]
    ss = res.standardized_solution()
    assert ss.loc[ss["term"] == "f =~ a", "estimate"].iloc[0] == pytest.approx(
        res.coefficients.loc["f =~ a", "std_all"])
    # sem() and cfa() agree (lavaan's cfa() and sem() share these defaults)
    assert sem("f =~ a + b + c + d", X).fit["chisq"] == pytest.approx(res.fit["chisq"], rel=1e-12)


def test_thresholds_counted_once_per_item_in_multigroup_models():
    # every group has the same thresholds of an item; the threshold vector has one entry per
    # item and category boundary in each group (exact count)
    from analysis.sem.model import SEMModel
    from analysis.sem.syntax import parameter_table
    items = ["u1", "u2", "u3"]
    pt = parameter_table("f =~ u1 + u2 + u3", items, n_groups=2, ordered=items,
                         n_thresholds={"u1": 2, "u2": 2, "u3": 3})
    m = SEMModel(pt, items, groups=["A", "B"], meanstructure=True, ordered=items)
    assert m.n_tau == 7
    assert [t.size for t in m.thresholds(np.full(m.n_free, 0.5))] == [7, 7]


def test_standardized_ses_do_not_depend_on_the_data_units():
    # std.all and its delta-method SE are unit-free: data in units 1e-8 give the same values
    # (1e-4 relative; the step of the numerical Jacobian follows each parameter's own size)
    import pandas as pd
    from analysis.sem import sem
    rng = np.random.default_rng(7)
    f = rng.normal(size=(300, 1))
    X = pd.DataFrame(f @ np.array([[1.0, 0.8, 0.6, 0.7]]) + rng.normal(size=(300, 4)), columns=["a", "b", "c", "d"])
    one = sem("f =~ a + b + c + d", X).parameter_estimates()
    tiny = sem("f =~ a + b + c + d", X * 1e-8).parameter_estimates()
    for col in ("std_all", "std_all_se"):
        if col in one:
            np.testing.assert_allclose(tiny[col].to_numpy(float), one[col].to_numpy(float), rtol=1e-4, atol=1e-10)
