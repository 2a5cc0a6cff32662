"""Bad input for the effect sizes added in issue 14 (SMDH, ROM, RPB, PR, PLO, UCOR, PCOR, ZPCOR,
SPCOR): every refusal is a ValueError whose message names the argument (and the position)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import effect_sizes as es

TWO = dict(m1i=[55.0, 27.0], sd1i=[47.0, 7.0], n1i=[155, 31], m2i=[75.0, 29.0], sd2i=[64.0, 4.0],
           n2i=[156, 32])


def _two(**changes):
    args = {k: list(v) for k, v in TWO.items()}
    args.update(changes)
    return [args[k] for k in ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")]


@pytest.mark.parametrize("fn", [es.smd_heteroscedastic, es.log_ratio_of_means,
                                es.point_biserial_correlation])
@pytest.mark.parametrize("sd", [0.0, -3.0])
def test_zero_or_negative_sd_is_refused(fn, sd):
    with pytest.raises(ValueError, match=r"`sd2i` must be a positive standard deviation .*position 1"):
        fn(*_two(sd2i=[64.0, sd]))


@pytest.mark.parametrize("fn", [es.smd_heteroscedastic, es.log_ratio_of_means,
                                es.point_biserial_correlation])
def test_two_group_nan_strings_lengths_and_sizes(fn):
    with pytest.raises(ValueError, match=r"`m1i` has missing or infinite values at position 1"):
        fn(*_two(m1i=[55.0, np.nan]))
    with pytest.raises(ValueError, match=r"`sd1i` must be numeric; position 0"):
        fn(*_two(sd1i=["a lot", 7.0]))
    with pytest.raises(ValueError, match=r"mismatched lengths: .*`n1i` has 3"):
        fn(*_two(n1i=[155, 31, 20]))
    with pytest.raises(ValueError, match=r"`n2i` must be a positive sample size .*position 0"):
        fn(*_two(n2i=[0, 32]))
    with pytest.raises(ValueError, match=r"`\w+` is empty: there is nothing to compute"):
        fn([], [], [], [], [], [])
    with pytest.raises(ValueError, match=r"`m2i` must be (numeric|a number, an array or a pandas Series)"):
        fn(*_two(m2i={"a": 1}))


def test_smdh_needs_two_observations_per_group():
    with pytest.raises(ValueError, match=r"`n1i` must be greater than 1 for measure='SMDH'.*position 0"):
        es.smd_heteroscedastic(*_two(n1i=[1, 31]))
    with pytest.raises(ValueError, match=r"`n1i` must be greater than 1 for measure='SMDH'"):
        es.compute_effect_sizes("SMDH", **{**TWO, "n1i": [1, 31]})


@pytest.mark.parametrize("mean", [0.0, -2.0])
def test_rom_needs_positive_means(mean):
    with pytest.raises(ValueError, match=r"`m1i` must be a positive mean .*ratio scale.*position 1"):
        es.log_ratio_of_means(*_two(m1i=[55.0, mean]))
    with pytest.raises(ValueError, match=r"`m2i` must be a positive mean"):
        es.compute_effect_sizes("ROM", **{**TWO, "m2i": [mean, 29.0]})


def test_rpb_sizes_and_vtype():
    with pytest.raises(ValueError, match=r"`n1i` \+ `n2i` must be greater than 2 .*position 0"):
        es.point_biserial_correlation(1, 1, 1, 0, 1, 1)
    with pytest.raises(ValueError, match=r"`vtype` must be one of 'ST', 'LS', 'CS'; got 'UB'"):
        es.point_biserial_correlation(*_two(), vtype="UB")


@pytest.mark.parametrize("fn", [es.proportion, es.logit_proportion])
def test_proportion_counts(fn):
    with pytest.raises(ValueError, match=r"`xi` exceeds `ni` .*proportion above 1.*position 1"):
        fn([3, 12], [10, 11])
    with pytest.raises(ValueError, match=r"`xi` must be >= 0; position 0"):
        fn([-1, 2], [10, 11])
    with pytest.raises(ValueError, match=r"`xi` must hold whole numbers; position 0"):
        fn([1.5], [3])
    with pytest.raises(ValueError, match=r"`ni` is not `xi` \+ `mi` at position 0"):
        fn([3], [10], mi=[6])
    with pytest.raises(ValueError, match=r"Give `ni` .* or `mi`"):
        fn([3])
    with pytest.raises(ValueError, match=r"Give `xi`"):
        fn(None, [10])
    with pytest.raises(ValueError, match=r"no participants .*position 0"):
        fn([0], mi=[0])
    with pytest.raises(ValueError, match=r"`ni` has missing or infinite values at position 0"):
        fn([1], [np.inf])
    with pytest.raises(ValueError, match=r"`\w+` is empty: there is nothing to compute"):
        fn([], [])
    with pytest.raises(ValueError, match=r"`add` must be a single finite number >= 0"):
        fn([0], [10], add=-0.5)
    with pytest.raises(ValueError, match=r"`to` must be one of"):
        fn([0], [10], to="some")


@pytest.mark.parametrize("fn, x", [(es.proportion, 0), (es.proportion, 10), (es.logit_proportion, 0),
                                   (es.logit_proportion, 10)])
def test_uncorrected_zero_or_one_proportion_is_refused(fn, x):
    with pytest.raises(ValueError, match=r"not positive at position 0 .*to='none'"):
        fn([x], [10], to="none")


def test_unbiased_correlation_bad_input():
    with pytest.raises(ValueError, match=r"`ri` must lie strictly between -1 and 1; position 1"):
        es.unbiased_correlation([0.3, 1.0], [20, 30])
    with pytest.raises(ValueError, match=r"`ni` must be greater than 4 .*'UCOR'.*position 0"):
        es.unbiased_correlation([0.3], [4])
    with pytest.raises(ValueError, match=r"`vtype` must be one of 'LS', 'UB'; got 'AV'"):
        es.unbiased_correlation(0.3, 10, vtype="AV")
    with pytest.raises(ValueError, match=r"`ri` has missing or infinite values"):
        es.unbiased_correlation([np.nan], [10])
    with pytest.raises(ValueError, match=r"`\w+` is empty: there is nothing to compute"):
        es.unbiased_correlation([], [])


@pytest.mark.parametrize("fn", [es.partial_correlation, es.partial_correlation_z])
def test_partial_correlation_bad_input(fn):
    with pytest.raises(ValueError, match=r"`ni` must exceed `mi` \+ 1 .*position 1 has ni = 4 and mi = 3"):
        fn([2.0, 1.0], [50, 4], [3, 3])
    with pytest.raises(ValueError, match=r"`mi` must be a positive number of predictors .*position 0"):
        fn([2.0], [50], [0])
    with pytest.raises(ValueError, match=r"`mi` must hold whole numbers"):
        fn([2.0], [50], [2.5])
    with pytest.raises(ValueError, match=r"`ti` has missing or infinite values"):
        fn([np.inf], [50], [2])
    with pytest.raises(ValueError, match=r"`ni` must be a positive sample size"):
        fn([2.0], [-5], [2])
    # extreme |t|: the partial correlation rounds to 1, its variance to 0 -> refused, not a NaN
    with pytest.raises(ValueError, match=r"not positive at position 0 \(\|t\| so large"):
        fn([1e300], [100], [2])


def test_semipartial_correlation_bad_input():
    with pytest.raises(ValueError, match=r"`r2i` must be an R-squared in \[0, 1\]; position 1"):
        es.semipartial_correlation([2.0, 1.0], [50, 60], [2, 2], [0.3, 1.2])
    with pytest.raises(ValueError, match=r"`r2i` must be an R-squared"):
        es.semipartial_correlation([2.0], [50], [2], [-0.1])
    with pytest.raises(ValueError, match=r"exceeds `r2i` at position 0;.*do not fit together"):
        es.semipartial_correlation([5.0], [30], [2], [0.1])
    with pytest.raises(ValueError, match=r"`ni` must exceed `mi` \+ 1"):
        es.semipartial_correlation([2.0], [3], [2], [0.3])
    with pytest.raises(ValueError, match=r"not positive at position 0 \(an R-squared of 1"):
        es.semipartial_correlation([0.0], [30], [2], [1.0])


def test_compute_effect_sizes_new_measures_arguments():
    with pytest.raises(ValueError, match=r"measure='PCOR' needs `mi`"):
        es.compute_effect_sizes("PCOR", ti=[1.0], ni=[10])
    with pytest.raises(ValueError, match=r"measure='PCOR' does not use `r2i`"):
        es.compute_effect_sizes("PCOR", ti=[1.0], ni=[10], mi=[2], r2i=[0.3])
    with pytest.raises(ValueError, match=r"measure='SPCOR' needs `r2i`"):
        es.compute_effect_sizes("SPCOR", ti=[1.0], ni=[10], mi=[2])
    with pytest.raises(ValueError, match=r"measure='UCOR' does not use `xi`"):
        es.compute_effect_sizes("UCOR", ri=[0.3], ni=[10], xi=[1])
    with pytest.raises(ValueError, match=r"measure='PR' needs `xi`"):
        es.compute_effect_sizes("PR", ni=[10])
    with pytest.raises(ValueError, match=r"`measure` must be one of .*'SPCOR'"):
        es.compute_effect_sizes("SPCORR", ti=[1.0], ni=[10], mi=[2], r2i=[0.3])
    frame = pd.DataFrame({"events": [3, 4], "n": [10, 3]})
    with pytest.raises(ValueError, match=r"`xi` exceeds `ni`.*position 1.*`xi` is column 'events'"):
        es.compute_effect_sizes("PR", xi="events", ni="n", data=frame)
    with pytest.raises(ValueError, match=r"`ni`.*'size'.*`data`"):
        es.compute_effect_sizes("PLO", xi="events", ni="size", data=frame)


def test_direct_calls_name_the_argument():
    """The same refusals called by name (the coverage test reads calls, not parametrised `fn`)."""
    with pytest.raises(ValueError, match=r"`xi` exceeds `ni` .*position 0"):
        es.proportion([12], [10])
    with pytest.raises(ValueError, match=r"`xi` must be >= 0; position 0"):
        es.logit_proportion([-1], [10])
    with pytest.raises(ValueError, match=r"`ni` must exceed `mi` \+ 1"):
        es.partial_correlation([2.0], [4], [3])
    with pytest.raises(ValueError, match=r"`mi` must be a positive number of predictors"):
        es.partial_correlation_z([2.0], [50], [0])
