"""Bad input for analysis.meta_compare (anova, fitstats, lrt): every refusal is a ValueError naming
the argument, and the one legitimate-but-dubious case (LRT on moment estimators, models on
different data in fitstats) is a UserWarning. Extreme magnitudes: the Wald and likelihood-ratio
statistics are scale-invariant (checked for y * c, v * c^2 with c from 1e-30 to 1e30, relative
tolerance 1e-8, on fixed-effect fits).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.meta import meta_analysis
from analysis.meta_compare import anova, fitstats, lrt

REF = json.loads((Path(__file__).parent / "fixtures" / "meta_compare.json").read_text())
BCG = pd.DataFrame(REF["data"]["bcg"])


@pytest.fixture(scope="module")
def reg():
    return meta_analysis("yi", "vi", data=BCG, mods="~ ablat + year", method="ML")


@pytest.fixture(scope="module")
def null():
    return meta_analysis("yi", "vi", data=BCG, method="ML")


# ------------------------------------------------------------------- types


@pytest.mark.parametrize("bad", [None, {"yi": [0.1]}, "res", 3.0, pd.DataFrame({"yi": [0.1]})])
def test_model_must_be_a_metaresult(bad, reg):
    with pytest.raises(ValueError, match="`model` must be a MetaResult"):
        anova(bad)
    with pytest.raises(ValueError, match=r"`models\[1\]` must be a MetaResult"):
        fitstats(reg, bad)
    with pytest.raises(ValueError, match="`reduced` must be a MetaResult"):
        lrt(reg, bad)
    with pytest.raises(ValueError, match="`full` must be a MetaResult"):
        lrt(bad, reg)


def test_flags_must_be_booleans(reg, null):
    with pytest.raises(ValueError, match="`reml` must be True, False or None"):
        fitstats(reg, reml="yes")
    with pytest.raises(ValueError, match="`refit` must be True or False"):
        lrt(reg, null, refit=1)
    with pytest.raises(ValueError, match="`reml` must be True, False or None"):
        reg.fitstats(reml="REML")


# ------------------------------------------------------------------- empty


def test_fitstats_needs_a_model_and_matching_names(reg, null):
    with pytest.raises(ValueError, match="at least one MetaResult"):
        fitstats()
    with pytest.raises(ValueError, match="`names` has 1 entries but 2 models"):
        fitstats(reg, null, names=["a"])
    with pytest.raises(ValueError, match="`names` must be unique"):
        fitstats(reg, null, names=["a", "a"])


def test_empty_btt_and_empty_contrasts(reg):
    with pytest.raises(ValueError, match="`btt` is empty"):
        anova(reg, btt=[])
    with pytest.raises(ValueError, match="`X` must be a non-empty"):
        anova(reg, X=np.empty((0, 3)))


# ---------------------------------------------------------- unknown names


def test_unknown_coefficient_name_suggests_the_nearest(reg):
    with pytest.raises(ValueError, match=r"`btt`: 'ablt' is not a coefficient.*Did you mean 'ablat'\?"):
        anova(reg, btt=["ablt"])
    with pytest.raises(ValueError, match=r"`btt`: no coefficient name contains 'yaer'.*Did you mean 'year'\?"):
        anova(reg, btt="yaer")


def test_btt_positions_and_types(reg):
    with pytest.raises(ValueError, match="position 3 is out of range; positions are 0-based, 0 to 2"):
        anova(reg, btt=[3])
    with pytest.raises(ValueError, match="position -1 is out of range"):
        anova(reg, btt=-1)
    with pytest.raises(ValueError, match="`btt` names a coefficient twice"):
        anova(reg, btt=[1, "ablat"])
    with pytest.raises(ValueError, match="`btt` entries must be coefficient names or 0-based integer positions"):
        anova(reg, btt=[1.0])
    with pytest.raises(ValueError, match="`btt` must be a coefficient name"):
        anova(reg, btt={"ablat": 1})
    with pytest.raises(ValueError, match="`btt` entries must be"):
        anova(reg, btt=[True])


# ----------------------------------------------------- contrasts and rhs


def test_contrast_matrix_is_checked(reg):
    with pytest.raises(ValueError, match="`X` has 4 columns but the model has 3 coefficients"):
        anova(reg, X=[[1, 2, 3, 4]])
    with pytest.raises(ValueError, match="`X` has missing or infinite values in row"):
        anova(reg, X=[[1, np.nan, 3]])
    with pytest.raises(ValueError, match="`X` has missing or infinite values in row"):
        anova(reg, X=[[1, np.inf, 3]])
    with pytest.raises(ValueError, match="`X` must be numeric"):
        anova(reg, X=[["1", "2", "3"]])
    with pytest.raises(ValueError, match="`X` must be numeric"):
        anova(reg, X=pd.DataFrame({"a": [1.0], "b": ["x"], "c": [2.0]}))
    with pytest.raises(ValueError, match="`X` must be a numeric vector or matrix"):
        anova(reg, X={"ablat": 1})
    with pytest.raises(ValueError, match=r"`X` row\(s\) \[1\] \(0-based\) are all zeros"):
        anova(reg, X=[[0, 1, 0], [0, 0, 0]])
    with pytest.raises(ValueError, match="either `btt`.*or `X`"):
        anova(reg, btt=[1], X=[[0, 1, 0]])


def test_rhs_is_checked(reg):
    with pytest.raises(ValueError, match="`rhs` has 3 values but 2 coefficients"):
        anova(reg, btt=[1, 2], rhs=[0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="`rhs` must be finite"):
        anova(reg, btt=[1], rhs=np.nan)
    with pytest.raises(ValueError, match="`rhs` must be a number"):
        anova(reg, btt=[1], rhs="0")
    with pytest.raises(ValueError, match="`rhs` must be a number or a 1-D sequence"):
        anova(reg, X=[[0, 1, 0], [0, 0, 1]], rhs=[[0.0], [0.0]])


# -------------------------------------------------------------- LRT refusals


def test_lrt_refuses_different_data(reg):
    other = meta_analysis(BCG["yi"] + 0.1, BCG["vi"], method="ML")
    with pytest.raises(ValueError, match=r"not fitted to the same data \(yi or vi differ at position"):
        lrt(reg, other)
    fewer = meta_analysis(BCG["yi"][:10], BCG["vi"][:10], method="ML")
    with pytest.raises(ValueError, match="`full` has k = 13 effect sizes and `reduced` k = 10"):
        lrt(reg, fewer)
    with pytest.warns(UserWarning, match="not all fitted to the same data"):
        fitstats(reg, fewer)


def test_lrt_refuses_non_nested_and_same_size(null):
    a = meta_analysis("yi", "vi", data=BCG, mods="~ ablat", method="ML")
    b = meta_analysis("yi", "vi", data=BCG, mods="~ year", method="ML")
    with pytest.raises(ValueError, match="Both models have 3 parameters"):
        lrt(a, b)
    c = meta_analysis("yi", "vi", data=BCG, mods="~ alloc", method="ML")
    with pytest.raises(ValueError, match="not nested.*column space"):
        lrt(c, a)
    fe = meta_analysis("yi", "vi", data=BCG, mods="~ ablat + year", method="FE")
    with pytest.raises(ValueError, match="fixed-effect \\(FE\\) model.*cannot nest"):
        lrt(fe, null)


def test_lrt_refuses_ml_against_reml_and_reml_with_different_fixed_effects(null):
    reml = meta_analysis("yi", "vi", data=BCG, mods="~ ablat", method="REML")
    with pytest.raises(ValueError, match="Mismatch between REML and ML"):
        lrt(reml, null)
    reml0 = meta_analysis("yi", "vi", data=BCG, method="REML")
    with pytest.raises(ValueError, match="different fixed effects.*refit=True"):
        lrt(reml, reml0)
    with pytest.raises(ValueError, match="either `model2`"):
        anova(reml, reml0, btt=[1])


def test_lrt_on_moment_estimators_warns(null):
    dl = meta_analysis("yi", "vi", data=BCG, mods="~ ablat", method="DL")
    dl0 = meta_analysis("yi", "vi", data=BCG, method="DL")
    with pytest.warns(UserWarning, match="LRTs should be based on ML/REML"):
        lrt(dl, dl0)


# ------------------------------------------------------ one study, boundary


def test_single_study_fit_is_handled():
    one = meta_analysis([0.3], [0.04], method="FE")
    w = anova(one)  # the intercept's Wald test: z^2
    assert abs(w.statistic - 0.3**2 / 0.04) < 1e-12
    fs = one.fitstats()
    assert fs["deviance"] == 0.0  # k <= p: metafor's saturated deviance 0
    with pytest.raises(ValueError, match="Both models have 1 parameters"):
        lrt(one, meta_analysis([0.3], [0.04], method="FE"))


# ----------------------------------------------------------- magnitudes


# c up to 1e+-30: meta_analysis itself overflows in its heterogeneity traces (I^2) beyond about 1e+-100,
# which is meta.py's input-scale handling, not this module's
@pytest.mark.parametrize("c", [1e-30, 1e-10, 1.0, 1e10, 1e30])
def test_statistics_are_scale_invariant(c):
    y, v = BCG["yi"].to_numpy() * c, BCG["vi"].to_numpy() * c * c
    mods = BCG[["ablat", "year"]]
    base_f = meta_analysis(BCG["yi"], BCG["vi"], mods=mods, method="FE")
    base_r = meta_analysis(BCG["yi"], BCG["vi"], mods=mods[["ablat"]], method="FE")
    f = meta_analysis(y, v, mods=mods, method="FE")
    r = meta_analysis(y, v, mods=mods[["ablat"]], method="FE")
    np.testing.assert_allclose(anova(f).statistic, anova(base_f).statistic, rtol=1e-8)
    np.testing.assert_allclose(lrt(f, r).statistic, lrt(base_f, base_r).statistic, rtol=1e-8)
    np.testing.assert_allclose(anova(f, X=[[0, 1, -1]]).to_frame()["statistic"],
                               anova(base_f, X=[[0, 1, -1]]).to_frame()["statistic"], rtol=1e-8)
