"""Bad input to analysis.invariance: a ValueError naming the argument, column, group or row.

Identification is checked before fitting (groups with no more respondents than items, constant items
in a group, more free parameters than sample moments). Scale: rescaling items (together or one by
one) by 1e-150..1e150 gives the same chi-squares and fit indices (1e-6 absolute), the same z
statistics (1e-4 relative) and intercepts that scale exactly (1e-6 relative).
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from analysis import invariance as inv

ITEMS = list("abcdef")
FAC = {"g": ITEMS}
TWO = {"f1": list("abc"), "f2": list("def")}


@pytest.fixture(scope="module")
def items():
    rng = np.random.default_rng(3)
    f = rng.normal(size=(240, 2))
    load = np.array([[0.8, 0], [0.7, 0], [0.6, 0], [0, 0.7], [0, 0.6], [0, 0.8]])
    x = f @ load.T + 0.6 * rng.normal(size=(240, 6)) + 0.3 * f[:, [0]]
    df = pd.DataFrame(x, columns=ITEMS)
    df["site"] = np.repeat(["x", "y"], 120)
    return df


def _quiet(f, *a, **k):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*a, **k)


def test_configural_invariance_bad_input(items):
    with pytest.raises(ValueError, match=r"`group`: column 'sit' is not in `data`\. Did you mean 'site'\?"):
        inv.configural_invariance(items, FAC, "sit")
    with pytest.raises(ValueError, match="`data` must be a pandas DataFrame"):
        inv.configural_invariance(items.to_dict(), FAC, "site")
    with pytest.raises(ValueError, match="has 1 group"):
        inv.configural_invariance(items.assign(site="x"), FAC, "site")
    d = items.copy()
    d.loc[4, "site"] = None
    with pytest.raises(ValueError, match="missing values at row 4"):
        inv.configural_invariance(d, FAC, "site")
    with pytest.raises(ValueError, match="n = 5 complete respondents for 6 items"):
        inv.configural_invariance(items.iloc[115:130], FAC, "site")


@pytest.mark.parametrize("kw, match", [
    ({"group": "sit"}, r"`group`: column 'sit' is not in `data`\. Did you mean 'site'\?"),
    ({"group": "a"}, "`group`: column 'a' is also an item"),
    ({"steps": ["metric", "configural"]}, "`steps` must be in the order configural, metric, scalar, strict"),
    ({"steps": []}, "`steps` must name at least one"),
    ({"steps": ["weak"]}, "`steps` must be one of"),
    ({"steps": ["configural", "configural"]}, "`steps` lists a step twice"),
    ({"free_intercepts": ["zz"]}, r"`free_intercepts` names items that are in no factor: \['zz'\]"),
    ({"missing": "fiml"}, "`missing` must be one of 'listwise', 'ml'"),
    ({"factors": {"g": ["a", "b"]}}, "not identified"),
    ({"factors": {"g": ["a", "b", "cc"]}}, r"item columns not in `data`: \['cc'\]\. Did you mean 'c'\?"),
])
def test_measurement_invariance_bad_options(items, kw, match):
    args = {"factors": FAC, "group": "site", **kw}
    with pytest.raises(ValueError, match=match):
        inv.measurement_invariance(items, **args)


@pytest.mark.parametrize("missing", ["listwise", "ml"])
def test_measurement_invariance_small_groups(items, missing):
    with pytest.raises(ValueError, match=r"group 'x' has 5 (complete respondents|respondents with an answer); the "
                                         r"model needs more than the number of items \(6\)"):
        inv.measurement_invariance(items.iloc[115:130], FAC, "site", missing=missing)
    with pytest.raises(ValueError, match="`data` column 'a' is constant in group 'x'"):
        inv.measurement_invariance(items.assign(a=np.where(items["site"] == "x", 1.0, items["a"])), FAC, "site",
                                  missing=missing)


@pytest.mark.parametrize("scales", [[1e-150] * 6, [1e150, 1e-150, 1.0, 1e100, 1e-100, 7.0]], ids=["all", "mixed"])
def test_measurement_invariance_is_scale_equivariant(items, scales):
    s = np.asarray(scales)
    base = _quiet(inv.measurement_invariance, items, TWO, "site")
    d = items.copy()
    d[ITEMS] = d[ITEMS] * s
    r = _quiet(inv.measurement_invariance, d, TWO, "site")
    for k in ("chisq", "cfi", "rmsea", "srmr", "delta_chisq"):
        np.testing.assert_allclose(r.table[k], base.table[k], atol=1e-6, err_msg=k)
    assert list(r.table["converged"]) == list(base.table["converged"])
    p0, p1 = base.steps["scalar"].params, r.steps["scalar"].params
    np.testing.assert_allclose(p1["statistic"], p0["statistic"], rtol=1e-4, atol=1e-6)
    nu = p1["op"] == "~1"
    items_nu = nu & p1["lhs"].isin(ITEMS)
    k = p1.loc[items_nu, "lhs"].map(dict(zip(ITEMS, s))).to_numpy()
    np.testing.assert_allclose(p1.loc[items_nu, "estimate"] / k, p0.loc[items_nu, "estimate"], rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------------ ordered items (WLSMV)
@pytest.fixture(scope="module")
def likert(items):
    d = pd.DataFrame(np.clip(np.round(2 + items[ITEMS].to_numpy()), 0, 4).astype(int), columns=ITEMS)
    d["site"] = items["site"].to_numpy()
    return d


@pytest.mark.parametrize("kw, match", [
    ({"ordered": "yes"}, "`ordered` must be True or False"),
    ({"ordered": True, "parameterization": "gamma"}, "`parameterization` must be one of 'delta', 'theta'"),
    ({"ordered": True, "steps": ["configural", "scalar"]}, "'scalar' is not a step for ordered items"),
    ({"ordered": True, "steps": ["metric", "thresholds"]}, "in the order configural, thresholds, metric"),
    ({"ordered": True, "missing": "ml"}, "missing='ml' is for continuous items"),
    ({"ordered": True, "free_intercepts": ["b"]}, "ordered items have no free intercepts"),
])
def test_measurement_invariance_ordered_bad_options(likert, kw, match):
    with pytest.raises(ValueError, match=match):
        inv.measurement_invariance(likert, FAC, "site", **kw)


def test_measurement_invariance_ordered_bad_data(likert):
    with pytest.raises(ValueError, match=r"column 'a' has a non-integer answer 2.5"):
        inv.measurement_invariance(likert.astype({"a": float}).assign(a=lambda d: d["a"].where(d.index != 3, 2.5)),
                                   FAC, "site", ordered=True)
    with pytest.raises(ValueError, match="column 'b' has a single category"):
        inv.measurement_invariance(likert.assign(b=1), FAC, "site", ordered=True)
    with pytest.raises(ValueError, match=r"has \d+ complete respondents in group 'x'; the model needs more"):
        inv.measurement_invariance(likert.iloc[115:130], FAC, "site", ordered=True)


def test_measurement_invariance_ordered_ignores_the_coding_scale(likert):
    # categories coded 0..4 or 0, 1e150, ..., 4e150: the same ordinal data, the same fit
    base = _quiet(inv.measurement_invariance, likert, FAC, "site", ordered=True, steps=("configural", "thresholds"))
    big = likert.copy()
    big[ITEMS] = big[ITEMS] * 1e150
    r = _quiet(inv.measurement_invariance, big, FAC, "site", ordered=True, steps=("configural", "thresholds"))
    np.testing.assert_allclose(r.table["chisq"], base.table["chisq"], rtol=1e-10)
