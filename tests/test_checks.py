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


def test_suggest_name_finds_nearest_column():
    assert _checks.suggest_name("therapist", ["patient", "therapist_id"]) == " Did you mean 'therapist_id'?"
    assert _checks.suggest_name("zzz", ["patient", "therapist_id"]) == ""


def test_check_columns_names_argument_and_suggests():
    import pandas as pd

    df = pd.DataFrame({"therapist_id": [1], "outcome": [2.0]})
    with pytest.raises(ValueError, match=r"'therapist' \(given as `cluster`\) is not in `data`\. Did you mean 'therapist_id'\?"):
        _checks.check_columns(df, {"cluster": "therapist"})
    _checks.check_columns(df, ["outcome"])  # present: no error


def test_check_dataframe_and_level():
    import pandas as pd

    with pytest.raises(ValueError, match=r"`data` must be a pandas DataFrame, got dict"):
        _checks.check_dataframe("data", {"a": [1]})
    with pytest.raises(ValueError, match=r"`data` has 0 rows"):
        _checks.check_dataframe("data", pd.DataFrame({"a": []}))
    for bad in (0, 1, 1.5, float("nan"), "0.95", True):
        with pytest.raises(ValueError, match=r"`level`"):
            _checks.check_level("level", bad)
    assert _checks.check_level("level", 0.95) == 0.95


def test_na_action_and_labels():
    with pytest.raises(ValueError, match=r"`na_action` must be one of 'fail', 'omit'"):
        _checks.check_na_action("drop")
    assert _checks.describe_labels(range(7)) == "index labels 0, 1, 2, 3, 4 and 2 more"
    assert _checks.describe_labels([3], what="line") == "line 3"


def test_messages_show_numpy_scalars_as_plain_numbers():
    # "-0.01", as the user wrote it, never "np.float64(-0.01)"
    import numpy as np
    import pytest
    from analysis import _checks
    with pytest.raises(ValueError, match=r"has -0\.01\.$") as info:
        _checks.check_nonnegative("vi", np.array([0.2, -0.01]))
    assert "np.float64" not in str(info.value)
