"""Bad input for analysis.report (issue 16): every public function refuses it with a ValueError
naming the argument, the file's line and column, and the nearest column name. Nothing here runs
a report (every refusal comes before the template executes)."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import report
from analysis.report import example_file, load_input, make_report


def test_unknown_kind_suggests_the_name(tmp_path):
    with pytest.raises(ValueError, match=r"kind.*'meta'"):
        make_report("mta", example_file("meta"), out=tmp_path)
    with pytest.raises(ValueError, match=r"kind.*'therapists'"):
        load_input("therapist", example_file("meta"))
    with pytest.raises(ValueError, match=r"kind"):
        example_file("nope")
    with pytest.raises(ValueError, match=r"reads no file"):
        example_file("power")


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(report.ReportInputError, match=r"`path`: no file"):
        load_input("meta", tmp_path / "absent.csv")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(report.ReportInputError, match=r"empty\.csv is empty \(line 1 should name the columns\)"):
        load_input("meta", empty)
    header_only = tmp_path / "header.csv"
    header_only.write_text("yi,vi\n")
    with pytest.raises(report.ReportInputError, match=r"header\.csv has a header but no data lines"):
        make_report("meta", header_only, out=tmp_path / "out")
    one = tmp_path / "one.csv"
    one.write_text("yi,vi\n0.1,0.01\n")
    with pytest.raises(report.ReportInputError, match=r"one\.csv: 1 complete data line\(s\); a report needs at least 2"):
        load_input("meta", one)
    assert not (tmp_path / "out").exists()


def test_duplicate_columns_and_blank_lines(tmp_path):
    dup = tmp_path / "dup.csv"
    dup.write_text("yi,vi,yi\n0.1,0.01,0.2\n0.3,0.02,0.1\n")
    with pytest.raises(report.ReportInputError, match=r"line 1 of dup\.csv: column name\(s\) \['yi'\] appear more than once"):
        load_input("meta", dup)
    blank = tmp_path / "blank.csv"
    blank.write_text("yi,vi\n0.1,0.01\n\n0.3,x\n")
    # the blank line 3 is skipped, and line numbers still count it
    with pytest.raises(report.ReportInputError, match=r"line 4 of blank\.csv, column 'vi': 'x' is not a number"):
        load_input("meta", blank)


def test_non_finite_and_non_positive_values(tmp_path):
    inf = tmp_path / "inf.csv"
    inf.write_text("yi,vi\n0.1,0.01\ninf,0.02\n0.2,0.03\n")
    with pytest.raises(report.ReportInputError, match=r"line 3 of inf\.csv, column 'yi': 'inf' is not finite"):
        load_input("meta", inf)
    neg = tmp_path / "neg.csv"
    neg.write_text("ri,ni\n0.1,50\n0.2,-4\n0.3,0\n")
    with pytest.raises(report.ReportInputError, match=r"line 3 of neg\.csv, column 'ni': '-4' must be > 0 \(also lines 4\)"):
        load_input("meta", neg, measure="ZCOR")


def test_unknown_measure_and_bad_options(tmp_path):
    ex = example_file("meta")
    with pytest.raises(ValueError, match=r"measure.*'ZCOR'"):
        make_report("meta", ex, out=tmp_path, measure="ZCORR")
    with pytest.raises(ValueError, match=r"level"):
        make_report("meta", ex, out=tmp_path, measure="ZCOR", level=1.5)
    with pytest.raises(ValueError, match=r"test.*'knha'"):
        make_report("meta", ex, out=tmp_path, measure="ZCOR", test="kh")
    with pytest.raises(ValueError, match=r"na_action"):
        load_input("meta", ex, measure="ZCOR", na_action="drop")
    with pytest.raises(ValueError, match=r"`items` must name 12 distinct columns"):
        make_report("scale", example_file("scale"), out=tmp_path, items="wai1,wai2")
    with pytest.raises(ValueError, match=r"`reliability` must be a finite number"):
        make_report("change", example_file("change"), out=tmp_path, reliability="high")
    with pytest.raises(ValueError, match=r"`path`: the 'meta' report needs a CSV file"):
        make_report("meta", None, out=tmp_path)
    assert not any(tmp_path.iterdir())


def test_raw_columns_missing_for_the_measure_list_the_alternatives(tmp_path):
    path = tmp_path / "smd.csv"
    pd.DataFrame({"m1i": [1.0, 2.0], "sd1": [1.0, 1.0], "n1i": [10, 12], "m2i": [0.5, 1.0],
                  "sd2i": [1.0, 1.2], "n2i": [11, 13]}).to_csv(path, index=False)
    with pytest.raises(report.ReportInputError,
                       match=r"--measure SMD needs .*Column 'sd1i' is missing\. Did you mean 'sd1'\?.*"
                             r"Or give: ti, n1i, n2i or di, n1i, n2i"):
        make_report("meta", path, out=tmp_path / "out", measure="SMD")
    with pytest.raises(report.ReportInputError, match=r"no measure given.*|needs the column\(s\) 'yi', 'vi'"):
        load_input("meta", path)


def test_out_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    with pytest.raises(ValueError, match=r"`out`: .* exists and is not a folder"):
        make_report("meta", example_file("meta"), out=target, measure="ZCOR")
    assert target.read_text() == "x"


def test_a_damaged_manifest_is_refused(tmp_path):
    folder = tmp_path / "meta-meta_molloy2014"
    folder.mkdir()
    (folder / report.MANIFEST).write_text("not json")
    (folder / "report.html").write_text("keep")
    with pytest.raises(ValueError, match=r"is not a report manifest; refusing to write"):
        make_report("meta", example_file("meta"), out=tmp_path, measure="ZCOR")
    assert (folder / "report.html").read_text() == "keep"
