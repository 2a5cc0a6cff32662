"""Bad input to analysis.ledger: every public function refuses it with a ValueError naming the
argument or the file, and never writes into a file that is not a ledger."""

from __future__ import annotations

import pytest

from analysis import ledger

FOREIGN = "id,score\n1,3.5\n2,4.0\n"


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch):
    for var in ("ALLIANCE_LEDGER", "ALLIANCE_REPORTS_DIR", "ALLIANCE_NOTEBOOK", "JPY_SESSION_NAME"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def data_file(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text(FOREIGN, encoding="utf-8")
    return path


def _args(target, **overrides):
    args = dict(claim="c", published=1.0, ours=1.0, tolerance=0.1, source="s", kind="oracle",
                notebook="nb", path=target)
    args.update(overrides)
    return args


def test_record_refuses_a_data_file(data_file):
    with pytest.raises(ValueError, match=r"`path` .*scores\.csv is not a ledger file.*left unchanged"):
        ledger.record(**_args(data_file))
    assert data_file.read_text(encoding="utf-8") == FOREIGN


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"published": "0,28"}, "`published`"),
        ({"ours": float("inf")}, "`ours`"),
        ({"ours": {"r": 0.3}}, "`ours`"),
        ({"tolerance": -1e-300}, "`tolerance` must be >= 0"),
        ({"kind": "publshed"}, "`kind`"),
        ({"claim": ""}, "`claim` must not be empty"),
        ({"source": 3}, "`source` must be a string"),
        ({"notebook": "a\nb"}, "`notebook` must be a single line"),
        ({"relative": 1}, "`relative` must be True or False"),
        ({"path": 3.5}, "`path` must be a file path"),
        ({"path": ""}, "`path` must not be empty"),
    ],
)
def test_record_names_the_argument(tmp_path, overrides, message):
    target = tmp_path / "ledger.csv"
    with pytest.raises(ValueError, match=message):
        ledger.record(**_args(target, **overrides))
    assert not target.exists()


def test_reset_ledger_refuses_a_data_file(data_file):
    with pytest.raises(ValueError, match=r"scores\.csv is not a ledger file: its first line is 'id,score'"):
        ledger.reset_ledger(data_file)
    assert data_file.read_text(encoding="utf-8") == FOREIGN


def test_reset_ledger_refuses_a_folder(tmp_path):
    with pytest.raises(ValueError, match="not a regular file"):
        ledger.reset_ledger(tmp_path)


def test_reset_ledger_refuses_a_non_path():
    with pytest.raises(ValueError, match="`path` must be a file path .* got list"):
        ledger.reset_ledger(["reports", "ledger.csv"])


def test_read_ledger_refuses_a_data_file(data_file):
    with pytest.raises(ValueError, match=r"scores\.csv is not a ledger file"):
        ledger.read_ledger(data_file)


def test_read_ledger_refuses_a_binary_file(tmp_path):
    blob = tmp_path / "ledger.csv"
    blob.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ValueError, match="is not a ledger file"):
        ledger.read_ledger(blob)


def test_read_ledger_bad_relative_column(tmp_path):
    path = tmp_path / "ledger.csv"
    ledger.record(**_args(path))
    text = path.read_text(encoding="utf-8").replace(",false,", ",maybe,")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="column `relative` must be true or false; row 0 has 'maybe'"):
        ledger.read_ledger(path)


def test_ledger_path_refuses_a_data_file(data_file):
    with pytest.raises(ValueError, match=r"scores\.csv is not a ledger file"):
        ledger.ledger_path(data_file)


def test_ledger_path_refuses_wrong_types():
    with pytest.raises(ValueError, match="`path` must be a file path .* got int"):
        ledger.ledger_path(7)
    with pytest.raises(ValueError, match="`path` must be a file path .* got bool"):
        ledger.ledger_path(True)


def test_ledger_path_from_environment_is_checked(data_file, monkeypatch):
    monkeypatch.setenv("ALLIANCE_LEDGER", str(data_file))
    with pytest.raises(ValueError, match=r"scores\.csv is not a ledger file"):
        ledger.ledger_path()
