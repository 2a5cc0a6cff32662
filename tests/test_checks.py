"""The shared input checks name the argument and the offending position."""

import numpy as np
import pytest

from analysis import _checks


def test_non_numeric_names_argument_and_position():
    with pytest.raises(ValueError, match=r"`n` must be numeric; position 1 .*'x'"):
        _checks.as_float_array("n", ["1", "x", 3])


def test_mismatched_lengths_lists_each_argument():
    with pytest.raises(ValueError, match=r"`a` has 3, `b` has 2"):
        _checks.broadcast_arrays(a=np.ones(3), b=np.ones(2))


def test_scalars_broadcast():
    out = _checks.broadcast_arrays(a=np.array([1.0]), b=np.arange(4.0))
    assert out["a"].tolist() == [1.0] * 4


def test_positive_names_position():
    with pytest.raises(ValueError, match=r"`sd` must be positive .*position 2"):
        _checks.check_positive("sd", np.array([1.0, 2.0, 0.0]))


def test_nan_is_refused():
    with pytest.raises(ValueError, match=r"`vi` has missing or infinite values at position 0"):
        _checks.check_finite("vi", np.array([np.nan, 1.0]))


def test_open_interval():
    with pytest.raises(ValueError, match=r"`ri` must lie strictly between -1 and 1; position 1"):
        _checks.check_open_interval("ri", np.array([0.2, 1.0]), -1, 1)
