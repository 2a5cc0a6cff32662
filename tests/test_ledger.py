"""Tests of the reproduction ledger (analysis.ledger)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import ledger


@pytest.fixture
def path(tmp_path, monkeypatch):
    """A fresh ledger file, with no notebook name inherited from the environment."""
    monkeypatch.delenv("ALLIANCE_NOTEBOOK", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    return tmp_path / "ledger.csv"


def _record(path, **overrides):
    args = dict(
        claim="Pooled alliance-outcome r",
        published=0.278,
        ours=0.2781,
        tolerance=0.0005,
        source="Flückiger et al. (2018), Table 2",
        kind="published-reanalysis",
        notebook="01_alliance.ipynb",
        path=path,
    )
    args.update(overrides)
    return ledger.record(**args)


def test_pass_entry_is_written_and_read_back(path):
    entry = _record(path)
    assert entry.status == "pass" and entry.passed
    assert entry.difference == pytest.approx(0.0001, abs=1e-15)
    frame = ledger.read_ledger(path)
    assert list(frame.columns) == list(ledger.COLUMNS)
    assert len(frame) == 1
    row = frame.iloc[0]
    assert row["claim"] == "Pooled alliance-outcome r"
    assert row["published"] == 0.278 and row["ours"] == 0.2781
    assert row["difference"] == entry.difference
    assert row["status"] == "pass"
    assert row["notebook"] == "01_alliance.ipynb"
    assert row["unit"] == ""
    assert not row["relative"]


def test_fail_is_recorded_not_dropped(path):
    _record(path)
    entry = _record(path, ours=0.30)
    assert entry.status == "FAIL" and not entry.passed
    frame = ledger.read_ledger(path)
    assert frame["status"].tolist() == ["pass", "FAIL"]
    assert frame.loc[1, "difference"] == pytest.approx(0.022)


def test_value_exactly_at_tolerance_passes(path):
    # 0.5 and 0.25 are exact in binary: |0.75 - 0.5| == 0.25 exactly.
    assert _record(path, published=0.5, ours=0.75, tolerance=0.25).status == "pass"
    assert _record(path, published=0.5, ours=0.7500001, tolerance=0.25).status == "FAIL"
    assert _record(path, published=2.0, ours=2.0, tolerance=0).status == "pass"


def test_relative_tolerance(path):
    assert _record(path, published=200.0, ours=203.0, tolerance=0.02, relative=True).passed
    assert not _record(path, published=200.0, ours=205.0, tolerance=0.02, relative=True).passed
    # Negative published values: the bound uses |published|.
    assert _record(path, published=-200.0, ours=-203.0, tolerance=0.02, relative=True).passed
    frame = ledger.read_ledger(path)
    assert frame["relative"].tolist() == [True, True, True]


@settings(max_examples=200, deadline=None)
@given(
    published=st.floats(-1e6, 1e6, allow_nan=False),
    ours=st.floats(-1e6, 1e6, allow_nan=False),
    tolerance=st.floats(0, 1e3, allow_nan=False),
)
def test_status_matches_definition(published, ours, tolerance):
    difference, status = ledger.compare(published, ours, tolerance)
    assert difference == ours - published
    assert status == ("pass" if abs(ours - published) <= tolerance else "FAIL")


def test_numbers_round_trip_exactly(path):
    rng = np.random.default_rng(7)
    values = rng.normal(size=30) * 10.0 ** rng.integers(-12, 12, size=30)
    for v in values:
        _record(path, published=float(v), ours=float(v) * (1 + 1e-13), tolerance=1e-3)
    frame = ledger.read_ledger(path)
    np.testing.assert_array_equal(frame["published"].to_numpy(), values)
    np.testing.assert_array_equal(frame["ours"].to_numpy(), values * (1 + 1e-13))


def test_reruns_write_identical_files(tmp_path, monkeypatch):
    monkeypatch.delenv("ALLIANCE_NOTEBOOK", raising=False)
    texts = []
    for run in ("a", "b"):
        p = tmp_path / f"{run}.csv"
        ledger.reset_ledger(p)
        _record(p, published=1 / 3, ours=np.float64(2 / 3), tolerance=0.1, unit="r")
        _record(p, claim='Quote "and", comma', published=np.int64(5), ours=5.0, tolerance=0)
        texts.append(p.read_bytes())
    assert texts[0] == texts[1]
    assert b"0.3333333333333333" in texts[0]  # repr precision, not 6 digits


def test_text_fields_with_commas_and_quotes(path):
    _record(path, claim='Effect, "adjusted"', source="Smith, J. (2020), p. 4")
    row = ledger.read_ledger(path).iloc[0]
    assert row["claim"] == 'Effect, "adjusted"'
    assert row["source"] == "Smith, J. (2020), p. 4"


def test_notebook_from_environment(path, monkeypatch):
    monkeypatch.setenv("ALLIANCE_NOTEBOOK", "03_sessions.ipynb")
    assert _record(path, notebook=None).notebook == "03_sessions.ipynb"
    # The argument wins over the environment.
    assert _record(path, notebook="x.ipynb").notebook == "x.ipynb"


def test_notebook_from_jupyter_session(path, monkeypatch, tmp_path):
    monkeypatch.setenv("JPY_SESSION_NAME", str(tmp_path / "work" / "notebooks" / "02_meta.ipynb"))
    assert _record(path, notebook=None).notebook == "02_meta.ipynb"


def test_ledger_location_from_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("ALLIANCE_LEDGER", raising=False)
    monkeypatch.setenv("ALLIANCE_REPORTS_DIR", str(tmp_path / "rep"))
    assert ledger.ledger_path() == tmp_path / "rep" / "ledger.csv"
    monkeypatch.setenv("ALLIANCE_LEDGER", str(tmp_path / "explicit.csv"))
    assert ledger.ledger_path() == tmp_path / "explicit.csv"
    _record(None)
    assert len(ledger.read_ledger()) == 1
    assert (tmp_path / "explicit.csv").exists()


def test_reset_and_missing_file(path):
    empty = ledger.read_ledger(path)
    assert empty.empty and list(empty.columns) == list(ledger.COLUMNS)
    _record(path)
    ledger.reset_ledger(path)
    assert path.read_text().strip() == ",".join(ledger.COLUMNS)
    assert ledger.read_ledger(path).empty
    _record(path)
    assert len(ledger.read_ledger(path)) == 1


def test_read_refuses_foreign_file(path):
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a ledger file"):
        ledger.read_ledger(path)


def test_reprs_show_both_values(path):
    entry = _record(path, ours=0.30, unit="r")
    text = repr(entry)
    assert text.startswith("[FAIL]")
    assert "published 0.278 r" in text and "ours 0.3 r" in text and "±0.0005" in text
    markup = entry._repr_html_()
    for part in ("0.278", "0.3", "+0.022", "±0.0005", "FAIL", "Flückiger et al. (2018), Table 2"):
        assert part in markup
    assert _record(path, claim="<b>x</b>")._repr_html_().count("<b>x</b>") == 0  # escaped


@pytest.mark.parametrize(
    ("overrides", "argument"),
    [
        ({"published": "0.28"}, "published"),
        ({"published": None}, "published"),
        ({"ours": float("nan")}, "ours"),
        ({"ours": [0.1, 0.2]}, "ours"),
        ({"ours": True}, "ours"),
        ({"tolerance": -0.01}, "tolerance"),
        ({"tolerance": float("inf")}, "tolerance"),
        ({"kind": "paper"}, "kind"),
        ({"claim": "  "}, "claim"),
        ({"claim": None}, "claim"),
        ({"source": ""}, "source"),
        ({"claim": "two\nlines"}, "claim"),
        ({"relative": "yes"}, "relative"),
        ({"unit": 3}, "unit"),
    ],
)
def test_bad_input_names_the_argument(path, overrides, argument):
    with pytest.raises(ValueError, match=f"`{argument}`"):
        _record(path, **overrides)
    assert not path.exists(), "a refused entry must not touch the ledger"


def test_old_kind_published_is_refused_naming_the_two_new_kinds(path):
    with pytest.raises(ValueError, match="`kind` 'published' was split in two: 'published-reanalysis'.*"
                                         "'published-conversion'"):
        _record(path, kind="published")
    assert not path.exists(), "a refused entry must not touch the ledger"


@pytest.mark.parametrize("kind", ledger.KINDS)
def test_every_kind_is_recorded_and_read_back(path, kind):
    _record(path, kind=kind)
    assert ledger.read_ledger(path)["kind"].tolist() == [kind]


def test_old_ledger_with_kind_published_reads_as_conversion(path):
    """A ledger written before the split keeps reading: 'published' -> 'published-conversion'."""
    _record(path, kind="oracle")
    _record(path, kind="published-reanalysis")
    text = path.read_text(encoding="utf-8").splitlines()
    old_row = text[1].replace(",oracle,", ",published,")
    assert old_row != text[1]
    path.write_text("\n".join([text[0], old_row, text[2]]) + "\n", encoding="utf-8")
    frame = ledger.read_ledger(path)
    assert frame["kind"].tolist() == ["published-conversion", "published-reanalysis"]
    assert ledger.LEGACY_KINDS == {"published": "published-conversion"}
    assert set(ledger.LEGACY_KINDS.values()) <= set(ledger.KINDS)


def test_concurrent_appends_keep_rows_whole(tmp_path):
    """Several processes appending at once: one header, every row intact."""
    path = tmp_path / "ledger.csv"
    script = textwrap.dedent(
        """
        import sys
        from analysis.ledger import record
        for i in range(40):
            record("claim " + sys.argv[2] + " " + "x" * 500, i, i, 0, "s", "simulation",
                   notebook="nb" + sys.argv[2], path=sys.argv[1])
        """
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", script, str(path), str(k)]) for k in range(4)
    ]
    for proc in procs:
        assert proc.wait(timeout=120) == 0
    frame = ledger.read_ledger(path)
    assert len(frame) == 160
    assert frame["notebook"].value_counts().to_dict() == {f"nb{k}": 40 for k in range(4)}
    assert path.read_text().count("claim,published") == 1


# --- No lost file: the ledger functions write only ledger files (issue 13) ---

FOREIGN = "study,yi,vi\nA,0.1,0.01\nB,0.2,0.02\n"


@pytest.mark.parametrize("call", ["record", "reset", "read"])
def test_a_data_file_is_refused_and_left_unchanged(tmp_path, call):
    data = tmp_path / "my_data.csv"
    data.write_text(FOREIGN, encoding="utf-8")
    before = data.stat()
    with pytest.raises(ValueError, match=r"my_data\.csv is not a ledger file: its first line is 'study,yi,vi'"):
        if call == "record":
            _record(data)
        elif call == "reset":
            ledger.reset_ledger(data)
        else:
            ledger.read_ledger(data)
    assert data.read_text(encoding="utf-8") == FOREIGN
    assert data.stat().st_mtime_ns == before.st_mtime_ns
    assert sorted(p.name for p in tmp_path.iterdir()) == ["my_data.csv"]  # no temporary file left


def test_binary_file_and_folder_are_refused(tmp_path):
    image = tmp_path / "figure.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    with pytest.raises(ValueError, match="figure.png is not a ledger file"):
        ledger.reset_ledger(image)
    assert image.read_bytes().startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="not a regular file"):
        _record(tmp_path)


def test_ledger_env_pointing_at_a_data_file_is_refused(tmp_path, monkeypatch):
    data = tmp_path / "trial.csv"
    data.write_text(FOREIGN, encoding="utf-8")
    monkeypatch.setenv("ALLIANCE_LEDGER", str(data))
    with pytest.raises(ValueError, match="trial.csv is not a ledger file"):
        _record(None)
    assert data.read_text(encoding="utf-8") == FOREIGN


def test_empty_file_is_accepted(path):
    path.write_bytes(b"")
    assert ledger.read_ledger(path).empty
    _record(path)
    assert path.read_text(encoding="utf-8").splitlines()[0] == ",".join(ledger.COLUMNS)
    assert len(ledger.read_ledger(path)) == 1


def test_writes_are_atomic_replacements(path, monkeypatch):
    """A crash while writing leaves the previous ledger whole (temporary file + os.replace)."""
    import os

    _record(path)
    before = path.read_bytes()
    inode = path.stat().st_ino
    _record(path, claim="second")
    assert path.stat().st_ino != inode  # a new file was moved into place
    assert path.read_bytes().startswith(before)

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    current = path.read_bytes()
    with pytest.raises(OSError, match="disk full"):
        _record(path, claim="third")
    assert path.read_bytes() == current
    assert [p.name for p in path.parent.iterdir()] == ["ledger.csv"]  # temporary file removed


def test_file_mode_is_kept(path):
    import stat

    _record(path)
    path.chmod(0o640)
    _record(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_symbolic_link_keeps_pointing_at_the_ledger(tmp_path):
    real = tmp_path / "real.csv"
    link = tmp_path / "ledger.csv"
    link.symlink_to(real)
    _record(link)
    _record(link, claim="second")
    assert link.is_symlink() and len(ledger.read_ledger(real)) == 2
