"""Bad input for the publication-bias functions appended to analysis.meta_bias
(rank_correlation_test, fail_safe_n, pet_peese): ValueErrors naming the argument.
Extreme magnitudes: all three are scale-invariant (tau, p-values, fail-safe N) or -equivariant
(PET-PEESE coefficients scale with c), checked for y * c, v * c^2 with c from 1e-6 to 1e6.
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis.meta import meta_analysis
from analysis.meta_bias import fail_safe_n, pet_peese, rank_correlation_test

YI = [0.1, 0.3, 0.35, 0.6, 0.2, 0.8, 0.45, 0.05]
VI = [0.01, 0.02, 0.03, 0.05, 0.015, 0.08, 0.04, 0.012]


@pytest.fixture(scope="module")
def res():
    return meta_analysis(YI, VI)


@pytest.mark.parametrize("bad", [None, {"yi": YI}, "res", 1.0])
def test_res_must_be_a_metaresult(bad):
    with pytest.raises(ValueError, match="`res` must be a MetaResult"):
        rank_correlation_test(bad)
    with pytest.raises(ValueError, match="`res` must be a MetaResult"):
        fail_safe_n(bad)
    with pytest.raises(ValueError, match="`res` must be a MetaResult"):
        pet_peese(bad)


def test_moderators_are_refused():
    reg = meta_analysis(YI, VI, mods=np.arange(8.0))
    with pytest.raises(ValueError, match=r"rank_correlation_test is for models without moderators \(res.p must be 1"):
        rank_correlation_test(reg)
    with pytest.raises(ValueError, match="fail_safe_n is for models without moderators"):
        fail_safe_n(reg)
    with pytest.raises(ValueError, match="pet_peese is for models without moderators"):
        pet_peese(reg)


def test_too_few_studies():
    two = meta_analysis([0.1, 0.3], [0.01, 0.02])
    with pytest.raises(ValueError, match="rank_correlation_test needs at least 3 studies; `res` has k = 2"):
        rank_correlation_test(two)
    with pytest.raises(ValueError, match="pet_peese needs at least 3 studies"):
        pet_peese(two)


def test_equal_variances_are_refused():
    eq = meta_analysis([0.1, 0.3, 0.2, 0.5], [0.02] * 4)
    with pytest.raises(ValueError, match="rank_correlation_test: all sampling variances `vi` are equal"):
        rank_correlation_test(eq)
    with pytest.raises(ValueError, match="pet_peese: all sampling variances `vi` are equal"):
        pet_peese(eq)
    assert fail_safe_n(eq).fsn >= 0  # fail-safe N does not need spread in vi


def test_rank_test_options(res):
    with pytest.raises(ValueError, match="`exact` must be True or False"):
        rank_correlation_test(res, exact="yes")
    assert not rank_correlation_test(res, exact=False).exact


@pytest.mark.parametrize("alpha", [0, 1, -0.1, 1.5, float("nan"), "0.05", None, True])
def test_alpha_range(res, alpha):
    with pytest.raises(ValueError, match="`alpha` must lie strictly between 0 and 1"):
        fail_safe_n(res, alpha=alpha)
    with pytest.raises(ValueError, match="`alpha` must lie strictly between 0 and 1"):
        pet_peese(res, alpha=alpha)


def test_fsn_options(res):
    with pytest.raises(ValueError, match="`type` must be one of 'Rosenthal', 'Orwin', 'Rosenberg'"):
        fail_safe_n(res, type="REM")
    with pytest.raises(ValueError, match="`target` applies to type='Orwin' only"):
        fail_safe_n(res, type="Rosenthal", target=0.1)
    for bad in [float("nan"), np.inf, "0.1", True]:
        with pytest.raises(ValueError, match="`target` must be a finite number"):
            fail_safe_n(res, type="Orwin", target=bad)
    with pytest.raises(ValueError, match=r"`alpha` must be below 0.5 for type='Rosenthal'"):
        fail_safe_n(res, alpha=0.5)
    assert fail_safe_n(res, type="Rosenberg", alpha=0.6).fsn >= 0  # two-sided: z_(1-alpha/2) > 0
    with pytest.raises(ValueError, match="`weighted` must be True or False"):
        fail_safe_n(res, type="Orwin", weighted=1)
    inf = fail_safe_n(res, type="Orwin", target=0.0)
    assert inf.fsn == float("inf") and "Inf" in inf.summary()


def test_pet_peese_error_option(res):
    with pytest.raises(ValueError, match="`error` must be one of 'additive', 'multiplicative'"):
        pet_peese(res, error="WLS")


@pytest.mark.parametrize("scale", [1e-6, 1e-2, 1e2, 1e6])
def test_extreme_magnitudes(scale):
    y, v = np.asarray(YI), np.asarray(VI)
    a, b = meta_analysis(y, v, method="FE"), meta_analysis(y * scale, v * scale**2, method="FE")
    ra, rb = rank_correlation_test(a), rank_correlation_test(b)
    assert rb.estimate == pytest.approx(ra.estimate, rel=1e-12) and rb.pvalue == pytest.approx(ra.pvalue, rel=1e-9)
    for t in ("Rosenthal", "Rosenberg", "Orwin"):
        assert fail_safe_n(b, type=t).fsn == fail_safe_n(a, type=t).fsn
    for err in ("additive", "multiplicative"):
        pa, pb = pet_peese(a, error=err), pet_peese(b, error=err)
        assert pb.selected == pa.selected
        np.testing.assert_allclose(pb.estimate / scale, pa.estimate, rtol=1e-8)
        np.testing.assert_allclose(pb.pvalue, pa.pvalue, rtol=1e-8)


def test_rank_test_print_of_a_tiny_p_value():
    from analysis.meta_bias import RankTestResult

    assert "Kendall's tau = 0.5000, p < .0001" in RankTestResult(0.5, 1e-6, 3.0, True, 10).summary()
