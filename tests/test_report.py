"""One-call reports on a user's CSV file (analysis.report, ``python -m analysis report``; issue 16).

The meta-analysis report runs twice on its example file (z tests with a moderator and the
PDF; Knapp-Hartung without the PDF); its numbers are compared with metafor's
(tests/oracles/report_meta.R -> tests/fixtures/report_meta.json) at 1e-6. Edge files
(missing values, a misspelt column, a cell that is not a number) are refused before any
analysis runs, with the line and column named. Nothing may be written into the
workbook's reports/ folder.
"""

from __future__ import annotations

import html
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import report
from analysis.__main__ import main as cli_main
from conftest import REPO_ROOT

FIXTURE = json.loads((REPO_ROOT / "tests" / "fixtures" / "report_meta.json").read_text())
EXAMPLE = report.example_file("meta")
# metafor's fixture values are written with 15 significant digits; the estimators agree
# with metafor to about 1e-10 (tests/test_meta.py), so 1e-6 is a wide margin.
TOL = 1e-6
#: A report should take well under this (seconds) on a quiet machine; measured per kind below.
TIMES: dict[str, float] = {}


def _tree_state(folder: Path) -> dict[str, tuple[int, int]]:
    """{relative path: (size, mtime_ns)} of every file under `folder` (empty if absent)."""
    if not folder.exists():
        return {}
    return {p.relative_to(folder).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def reports_before():
    return _tree_state(REPO_ROOT / "reports")


@pytest.fixture(scope="module")
def meta_z(tmp_path_factory, reports_before):
    out = tmp_path_factory.mktemp("meta-z")
    start = time.monotonic()
    rep = report.make_report("meta", EXAMPLE, out=out, measure="ZCOR", mods="meanage")
    TIMES["meta (z, mods, PDF)"] = time.monotonic() - start
    print(f"\nmeta report (z, moderator, PDF): {TIMES['meta (z, mods, PDF)']:.1f} s")
    return rep


@pytest.fixture(scope="module")
def meta_knha(tmp_path_factory, reports_before):
    out = tmp_path_factory.mktemp("meta-knha")
    start = time.monotonic()
    rep = report.make_report("meta", EXAMPLE, out=out, measure="ZCOR", test="knha",
                             mods="~ meanage", pdf=False)
    TIMES["meta (knha, no PDF)"] = time.monotonic() - start
    print(f"\nmeta report (Knapp-Hartung, no PDF): {TIMES['meta (knha, no PDF)']:.1f} s")
    return rep


# ---------------------------------------------------------------------------------------
# The meta-analysis report on its example file
# ---------------------------------------------------------------------------------------


def test_meta_report_writes_every_file(meta_z):
    folder = meta_z.folder
    assert folder.parent.name.startswith("meta-z") and folder.name == "meta-meta_molloy2014"
    for name in ("report.html", "report.ipynb", "results.json", "apa.txt",
                 "tables/model.csv", "tables/data_with_effect_sizes.csv", "tables/influence.csv",
                 "tables/small_study_effects.csv", "tables/moderators.csv"):
        assert (folder / name).is_file() and (folder / name).stat().st_size > 0, name
    for stem in ("forest", "funnel"):
        for fmt in ("png", "svg", "pdf"):
            assert (folder / "figures" / f"{stem}.{fmt}").stat().st_size > 0
    if report_pdf_expected():
        assert meta_z.pdf is not None and meta_z.pdf.read_bytes()[:5] == b"%PDF-"
    manifest = json.loads((folder / report.MANIFEST).read_text())
    on_disk = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                     if p.is_file() and p.name != report.MANIFEST)
    assert manifest["files"] == on_disk == meta_z.files
    assert meta_z.to_dict()["files"] == meta_z.files and "meta report in" in meta_z.summary()


def report_pdf_expected() -> bool:
    from analysis._runner import chromium_available

    return chromium_available()


def test_meta_report_html_shows_the_key_numbers_and_reads_offline(meta_z):
    from analysis._runner import external_resources

    page = meta_z.html.read_text(encoding="utf-8")
    z = FIXTURE["z"]["model"]
    # metafor-style summary (4 decimals) and the APA paragraph (2 decimals, r scale)
    assert f"{z['estimate']:.4f}" in page and f"{z['tau2']:.4f}" in page
    assert f"Q(df = 15) = {z['q']:.4f}" in page
    assert "pooled correlation of 0.15, 95% CI [0.09, 0.21]" in page
    assert "Egger's regression test did not indicate" in html.unescape(page)
    assert "imputed 2 studies on the left side" in page
    assert "Axelsson et al. (2009)" in page  # study labels from the file
    assert external_resources(page) == []
    assert "<script src=" not in page  # no MathJax, no CDN


def _close(ours, theirs, what):
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    assert ours.shape == theirs.shape, what
    np.testing.assert_allclose(ours, theirs, rtol=TOL, atol=TOL, err_msg=what)


@pytest.mark.parametrize("test_kind", ["z", "knha"])
def test_meta_report_numbers_equal_metafor(test_kind, meta_z, meta_knha):
    rep = meta_z if test_kind == "z" else meta_knha
    ours, ref = rep.results, FIXTURE[test_kind]
    assert ours["k"] == 16 and ours["test"] == test_kind
    for key, value in ref["model"].items():
        _close(ours["model"][key], value, f"model {key}")
    # the tables hold the same numbers at full precision
    table = pd.read_csv(rep.folder / "tables" / "model.csv")
    _close(table.loc[0, "estimate"], ref["model"]["estimate"], "model.csv estimate")
    _close(table.loc[0, "estimate_r"], np.tanh(ref["model"]["estimate"]), "pooled r")
    for key, value in ref["egger"].items():
        _close(ours["egger"][key], value, f"egger {key}")
    tf = ref["trimfill"]
    assert ours["trimfill"]["k0"] == tf["k0"] and ours["trimfill"]["side"] == tf["side"]
    for key in ("estimate", "se", "ci_low", "ci_high", "tau2"):
        _close(ours["trimfill"][key], tf[key], f"trimfill {key}")
    for key in ("rstudent", "cook_d", "hat"):
        _close(ours["influence"][key], ref["influence"][key], f"influence {key}")
    assert len(ours["influence"]["influential"]) == len(ref["influence"]["influential"])
    mods = ref["moderators"]
    for key in ("estimate", "se", "pvalue"):
        _close(ours["moderators"][key], mods[key], f"moderators {key}")
    for key in ("tau2", "qm", "qm_pvalue", "r2", "i2"):
        _close(ours["moderators"][key], mods[key], f"moderators {key}")


def test_reports_take_modest_time(meta_z, meta_knha):
    # Not a benchmark: a guard against a report that hangs. Seen 20-70 s on a 2-core machine
    # shared by 8 processes (most of it the kernel start, the imports and chromium).
    for what, seconds in TIMES.items():
        assert seconds < 300, f"{what} took {seconds:.0f} s"


def test_nothing_was_written_into_reports(meta_z, meta_knha, reports_before):
    assert _tree_state(REPO_ROOT / "reports") == reports_before


def test_rerun_replaces_only_its_own_files(meta_z, tmp_path):
    # a copy of a finished report folder stands for an earlier run
    out = tmp_path / "mine"
    shutil.copytree(meta_z.folder, out / meta_z.folder.name)
    keep = out / meta_z.folder.name / "my_notes.txt"
    keep.write_text("mine")
    folder = report._prepare_folder(out, "meta", "meta_molloy2014")
    assert keep.read_text() == "mine"  # not listed in the manifest: kept
    assert not (folder / "report.html").exists() and not (folder / report.MANIFEST).exists()


# ---------------------------------------------------------------------------------------
# Output folders that are refused
# ---------------------------------------------------------------------------------------


def test_out_inside_reports_is_refused():
    with pytest.raises(ValueError, match=r"inside the workbook's reports/ folder"):
        report.make_report("meta", EXAMPLE, out=REPO_ROOT / "reports" / "mine", measure="ZCOR")
    assert not (REPO_ROOT / "reports" / "mine").exists()


def test_out_inside_data_is_refused():
    with pytest.raises(ValueError, match=r"inside the workbook's data/ folder"):
        report.make_report("meta", EXAMPLE, out=REPO_ROOT / "data", measure="ZCOR")


def test_existing_folder_not_made_by_a_report_is_refused(tmp_path):
    theirs = tmp_path / "meta-meta_molloy2014"
    theirs.mkdir()
    (theirs / "report.html").write_text("someone else's page")
    with pytest.raises(ValueError, match=r"was not made by analysis.report"):
        report.make_report("meta", EXAMPLE, out=tmp_path, measure="ZCOR")
    assert (theirs / "report.html").read_text() == "someone else's page"


# ---------------------------------------------------------------------------------------
# Edge files: refused before any analysis, with line and column
# ---------------------------------------------------------------------------------------


def _edit(tmp_path, name, fn) -> Path:
    frame = pd.read_csv(EXAMPLE)
    frame = fn(frame)
    target = tmp_path / name
    frame.to_csv(target, index=False)
    return target


def test_missing_values_are_refused_with_their_lines(tmp_path):
    def blank(f):
        f = f.astype(object)
        f.loc[2, "ni"] = None
        f.loc[5, "ri"] = None
        return f

    path = _edit(tmp_path, "missing.csv", blank)
    with pytest.raises(report.ReportInputError,
                       match=r"missing\.csv: missing values .*line 4: ni; line 7: ri.*na_action='omit'"):
        report.make_report("meta", path, out=tmp_path / "out", measure="ZCOR")
    assert not (tmp_path / "out").exists()  # nothing was written
    with pytest.warns(UserWarning, match=r"2 line\(s\) with missing values left out \(line 4: ni; line 7: ri\)"):
        data = report.load_input("meta", path, measure="ZCOR", na_action="omit")
    assert len(data) == 14 and 4 not in data.index and 7 not in data.index


def test_misspelt_column_names_line_1_and_suggests_the_name(tmp_path, capsys):
    path = _edit(tmp_path, "misspelt.csv", lambda f: f.rename(columns={"ni": "n_i"}))
    with pytest.raises(report.ReportInputError,
                       match=r"line 1 \(header\) of misspelt\.csv: --measure ZCOR needs the column\(s\) "
                             r"'ri', 'ni'\. Column 'ni' is missing\. Did you mean 'n_i'\?"):
        report.make_report("meta", path, out=tmp_path / "out", measure="ZCOR")
    # the same through the command line: exit code 2 and the message on stderr
    assert cli_main(["report", "meta", str(path), "--measure", "ZCOR", "--out", str(tmp_path / "o")]) == 2
    assert "Did you mean 'n_i'?" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_misspelt_moderator_is_named(tmp_path):
    with pytest.raises(report.ReportInputError, match=r"the moderator 'mean_age' .*Did you mean 'meanage'\?"):
        report.make_report("meta", EXAMPLE, out=tmp_path, measure="ZCOR", mods="mean_age")


def test_a_cell_that_is_not_a_number_names_line_and_column(tmp_path):
    def text(f):
        f = f.astype(object)
        f.loc[3, "ri"] = "0.3O"
        return f

    path = _edit(tmp_path, "typo.csv", text)
    with pytest.raises(report.ReportInputError, match=r"line 5 of typo\.csv, column 'ri': '0\.3O' is not a number"):
        report.load_input("meta", path, measure="ZCOR")


def test_given_yi_vi_need_positive_variances(tmp_path):
    path = tmp_path / "yv.csv"
    path.write_text("study,yi,vi\nA,0.1,0.01\nB,0.2,0\nC,0.3,0.02\n")
    with pytest.raises(report.ReportInputError, match=r"line 3 of yv\.csv, column 'vi': '0' must be > 0"):
        report.load_input("meta", path)


def test_ragged_line_is_named(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("yi,vi\n0.1,0.01\n0.2\n")
    with pytest.raises(report.ReportInputError, match=r"line 3 of ragged\.csv: 1 fields"):
        report.load_input("meta", path)


def test_unknown_option_suggests_the_name(tmp_path):
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['mesure'\].*Did you mean 'measure'\?"):
        report.make_report("meta", EXAMPLE, out=tmp_path, mesure="ZCOR")


# ---------------------------------------------------------------------------------------
# Help and results as data
# ---------------------------------------------------------------------------------------


def test_help_lists_kinds_columns_and_example(capsys):
    with pytest.raises(SystemExit) as done:
        cli_main(["report", "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "meta" in text and "ri       number" in text and "data/examples/meta_molloy2014.csv" in text
    with pytest.raises(SystemExit):
        cli_main(["report", "meta", "--help"])
    text = capsys.readouterr().out
    assert "--measure" in text and "--test {z,knha}" in text and "--mods" in text
    for kind in ("therapists", "change", "growth", "power"):
        with pytest.raises(SystemExit):
            cli_main(["report", kind, "--help"])
        assert "Example: python -m analysis report " + kind in capsys.readouterr().out


def test_every_kind_ships_its_example_file():
    for kind in report.KINDS:
        if not report.KINDS[kind].columns:  # power: options only
            with pytest.raises(ValueError, match="reads no file"):
                report.example_file(kind)
            continue
        path = report.example_file(kind)
        assert path.is_file(), path
        assert path.name in (REPO_ROOT / "data" / "examples" / "README.md").read_text()


def test_effect_sizes_append_joins_yi_vi_to_the_data():
    from analysis.effect_sizes import compute_effect_sizes

    data = pd.read_csv(EXAMPLE)
    out = compute_effect_sizes("ZCOR", ri="ri", ni="ni", data=data, append=True)
    assert list(out.columns) == list(data.columns) + ["yi", "vi"]
    np.testing.assert_allclose(out["yi"], np.arctanh(data["ri"]), rtol=0, atol=1e-15)
    np.testing.assert_allclose(out["vi"], 1 / (data["ni"] - 3), rtol=0, atol=1e-15)


# ---------------------------------------------------------------------------------------
# The therapists report
# ---------------------------------------------------------------------------------------

THERAPISTS = report.example_file("therapists")


@pytest.fixture(scope="module")
def therapists(tmp_path_factory, reports_before):
    out = tmp_path_factory.mktemp("therapists")
    start = time.monotonic()
    rep = report.make_report("therapists", THERAPISTS, out=out, covariates="pre,arm", pdf=False)
    TIMES["therapists (no PDF)"] = time.monotonic() - start
    print(f"\ntherapists report (no PDF): {TIMES['therapists (no PDF)']:.1f} s")
    return rep


def test_therapists_report_files_and_numbers(therapists, reports_before):
    from analysis.multilevel import disaggregate_alliance, therapist_effect

    folder = therapists.folder
    for name in ("report.html", "results.json", "apa.txt", "tables/fixed_effects.csv",
                 "tables/therapist_effects.csv", "tables/alliance_within_between.csv",
                 "tables/caseloads.csv", "figures/caterpillar.png", "figures/caterpillar.svg",
                 "figures/caterpillar.pdf"):
        assert (folder / name).is_file() and (folder / name).stat().st_size > 0, name
    # The report's numbers are the estimators' (which tests/test_multilevel.py checks against
    # lme4 at 1e-4 relative): same data, same call, so equal to 1e-10.
    data = pd.read_csv(THERAPISTS)
    fit = therapist_effect(data, "post", "therapist", covariates=["pre", "arm"])
    dis = disaggregate_alliance(data, "post", "alliance", "therapist", covariates=["pre", "arm"])
    res = therapists.results
    assert res["n_obs"] == 331 and res["n_therapists"] == 80
    _close([res["icc"], res["therapist_var"], res["residual_var"], *res["icc_ci"]],
           [fit.icc, fit.therapist_var, fit.residual_var, *fit.icc_ci], "therapist model")
    _close([res["alliance"]["within"], res["alliance"]["between"], res["alliance"]["contextual_pvalue"]],
           [dis.within, dis.between, dis.contextual_pvalue], "alliance disaggregation")
    page = therapists.html.read_text(encoding="utf-8")
    assert f"ICC = {fit.icc:.4f}" in page and "ICC = .120, 95% CI [.027, .242]" in page
    assert "Within therapists, a one-point higher alliance" in page
    assert _tree_state(REPO_ROOT / "reports") == reports_before


def test_therapists_missing_outcome_is_refused_with_its_line(tmp_path):
    frame = pd.read_csv(THERAPISTS).astype(object)
    frame.loc[10, "post"] = None
    frame.loc[20, "therapist"] = ""
    path = tmp_path / "gaps.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(report.ReportInputError, match=r"gaps\.csv: missing values .*line 12: post; line 22: therapist"):
        report.make_report("therapists", path, out=tmp_path / "out", covariates="pre,arm")
    assert not (tmp_path / "out").exists()


def test_therapists_misspelt_column_suggests_the_name(tmp_path):
    path = tmp_path / "t.csv"
    pd.read_csv(THERAPISTS).rename(columns={"therapist": "therapist_id"}).to_csv(path, index=False)
    with pytest.raises(report.ReportInputError,
                       match=r"line 1 \(header\) of t\.csv: no column 'therapist' \(--therapist\)\. "
                             r"Did you mean 'therapist_id'\?"):
        report.make_report("therapists", path, out=tmp_path / "out")
    with pytest.raises(report.ReportInputError, match=r"no column 'pree' \(--covariates\)\. Did you mean 'pre'\?"):
        report.load_input("therapists", THERAPISTS, covariates="pree")


# ---------------------------------------------------------------------------------------
# The change report
# ---------------------------------------------------------------------------------------

CHANGE = report.example_file("change")


@pytest.fixture(scope="module")
def change(tmp_path_factory, reports_before):
    out = tmp_path_factory.mktemp("change")
    start = time.monotonic()
    rep = report.make_report("change", CHANGE, out=out, instrument="BDI-II", cutoff=14,
                             group="treatment", pdf=False)
    TIMES["change (no PDF)"] = time.monotonic() - start
    print(f"\nchange report (no PDF): {TIMES['change (no PDF)']:.1f} s")
    return rep


def test_change_report_files_and_numbers(change, reports_before):
    from analysis.change import clinical_significance

    folder = change.folder
    for name in ("report.html", "results.json", "apa.txt", "tables/patients.csv",
                 "tables/categories.csv", "tables/categories_by_group.csv",
                 "figures/pre_post.png", "figures/pre_post.svg", "figures/pre_post.pdf"):
        assert (folder / name).is_file() and (folder / name).stat().st_size > 0, name
    data = pd.read_csv(CHANGE)
    cs = clinical_significance(data["pre"], data["post"], instrument="BDI-II", cutoff=14)
    res = change.results
    assert res["n"] == 97 and res["cutoff"] == 14 and res["cutoff_used"] == "given"
    assert res["counts"] == {k: int(v) for k, v in cs.counts().drop("missing").items()}
    _close(res["s_diff"], cs.reliable.s_diff, "S_diff")
    # by group: the per-patient categories split by the treatment column
    for arm in ("BtheB", "TAU"):
        rows = (data["treatment"] == arm).to_numpy()
        want = {k: v for k, v in cs.table.loc[rows, "category"].value_counts().items() if v}
        assert {k: v for k, v in res["by_group"][arm].items() if v} == want
    page = change.html.read_text(encoding="utf-8")
    assert cs.apa() in html.unescape(page)
    assert _tree_state(REPO_ROOT / "reports") == reports_before


def test_change_missing_post_is_refused_with_its_line(tmp_path):
    frame = pd.read_csv(CHANGE).astype(object)
    frame.loc[0, "post"] = "NA"
    path = tmp_path / "gap.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(report.ReportInputError, match=r"gap\.csv: missing values .*\(line 2: post\)"):
        report.make_report("change", path, out=tmp_path / "out", instrument="BDI-II")
    assert not (tmp_path / "out").exists()


def test_change_misspelt_column_and_missing_reliability(tmp_path):
    with pytest.raises(report.ReportInputError, match=r"no column 'pre_score' \(--pre\)\. Did you mean 'pre'\?"):
        report.make_report("change", CHANGE, out=tmp_path, pre="pre_score", reliability=0.9)
    with pytest.raises(ValueError, match=r"needs `reliability` \(--reliability\) or `instrument`"):
        report.make_report("change", CHANGE, out=tmp_path)
    assert not any(tmp_path.iterdir())


# ---------------------------------------------------------------------------------------
# The growth report
# ---------------------------------------------------------------------------------------

GROWTH = report.example_file("growth")
LME4 = json.loads((REPO_ROOT / "tests" / "fixtures" / "growth_lme4.json").read_text())["btheb"]["rsx_reml"]
GROWTH_OPTIONS = dict(outcome="bdi", time="month", subject="patient",
                      covariates="bdi_pre,btheb,drug,length6", time_by="btheb")


@pytest.fixture(scope="module")
def growth(tmp_path_factory, reports_before):
    out = tmp_path_factory.mktemp("growth")
    start = time.monotonic()
    rep = report.make_report("growth", GROWTH, out=out, pdf=False, **GROWTH_OPTIONS)
    TIMES["growth (no PDF)"] = time.monotonic() - start
    print(f"\ngrowth report (no PDF): {TIMES['growth (no PDF)']:.1f} s")
    return rep


def test_growth_report_equals_lme4(growth, reports_before):
    folder = growth.folder
    for name in ("report.html", "results.json", "apa.txt", "tables/fixed_effects.csv",
                 "tables/variance_components.csv", "tables/random_effects.csv",
                 "figures/trajectories.png", "figures/trajectories.svg", "figures/trajectories.pdf"):
        assert (folder / name).is_file() and (folder / name).stat().st_size > 0, name
    res = growth.results
    assert res["n_obs"] == 280 and res["n_subjects"] == 97 and res["converged"]
    # lme4's names: time -> month in the example file. Tolerance 1e-4 relative, as
    # tests/test_growth.py (differences seen there <= 1e-6).
    for term, value in LME4["fixef"].items():
        ours = res["fixef"][term.replace("time", "month")]
        np.testing.assert_allclose(ours, value, rtol=1e-4, err_msg=term)
    for term, value in LME4["se"].items():
        np.testing.assert_allclose(res["se"][term.replace("time", "month")], value, rtol=1e-4, err_msg=term)
    np.testing.assert_allclose(res["sigma2"], LME4["sigma2"], rtol=1e-4)
    np.testing.assert_allclose(res["loglik"], LME4["loglik"], rtol=1e-6)
    variances = [r["variance"] for r in res["variance_components"]]
    np.testing.assert_allclose(variances, [v["vcov"] for v in LME4["varcomp"]], rtol=1e-4, atol=1e-8)
    page = html.unescape(growth.html.read_text(encoding="utf-8"))
    assert "the month:btheb effect was b = 0.51, SE = 0.30" in page
    assert _tree_state(REPO_ROOT / "reports") == reports_before


def test_growth_edge_files_name_line_and_column(tmp_path):
    frame = pd.read_csv(GROWTH).astype(object)
    frame.loc[4, "bdi"] = ""
    path = tmp_path / "gap.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(report.ReportInputError, match=r"gap\.csv: missing values .*\(line 6: bdi\)"):
        report.make_report("growth", path, out=tmp_path / "out", **GROWTH_OPTIONS)
    with pytest.raises(report.ReportInputError, match=r"no column 'months' \(--time\)\. Did you mean 'month'\?"):
        report.make_report("growth", GROWTH, out=tmp_path / "out", **{**GROWTH_OPTIONS, "time": "months"})
    with pytest.raises(ValueError, match=r"`time_by` \['arm'\] must also be in `covariates`"):
        report.make_report("growth", GROWTH, out=tmp_path / "out", **{**GROWTH_OPTIONS, "time_by": "arm"})
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------------------
# The power report (options only)
# ---------------------------------------------------------------------------------------


def _smallest_n(power_of_n, target=0.8):
    n = np.arange(20, 1001)
    return int(n[np.argmax(power_of_n(n) >= target)])


@pytest.fixture(scope="module")
def power(tmp_path_factory, reports_before):
    out = tmp_path_factory.mktemp("power")
    start = time.monotonic()
    rep = report.make_report("power", None, out=out, effect_size=0.3, r=0.28, caseload=6, icc=0.05,
                             pdf=False)
    TIMES["power (no PDF)"] = time.monotonic() - start
    print(f"\npower report (no PDF): {TIMES['power (no PDF)']:.1f} s")
    return rep


def test_power_report_sample_sizes_match_the_formula(power, reports_before):
    from scipy.stats import norm

    folder = power.folder
    assert folder.name == "power-plan"
    for name in ("report.html", "results.json", "apa.txt", "tables/power_by_n.csv",
                 "tables/sample_size_needed.csv", "figures/power_curves.png",
                 "figures/power_curves.svg", "figures/power_curves.pdf"):
        assert (folder / name).is_file() and (folder / name).stat().st_size > 0, name
    de = 1 + (6 - 1) * 0.05
    z = norm.ppf(0.975)

    def two_arm(n, de_):
        lam = 0.3 * np.sqrt(0.25 * n / de_)
        return norm.cdf(lam - z) + norm.cdf(-lam - z)

    def corr(n, de_):
        lam = np.arctanh(0.28) * np.sqrt(n / de_ - 3)
        return norm.cdf(lam - z) + norm.cdf(-lam - z)

    needed = power.results["n_needed"]
    assert needed["two arms, therapists nested in arms"] == _smallest_n(lambda n: two_arm(n, de)) == 437
    assert needed["two arms, ignoring therapists (DE = 1)"] == _smallest_n(lambda n: two_arm(n, 1.0)) == 349
    assert needed["alliance-outcome correlation"] == _smallest_n(lambda n: corr(n, de))
    _close(power.results["design_effect"], de, "design effect")
    page = html.unescape(power.html.read_text(encoding="utf-8"))
    assert "with 437 patients (73 therapists)" in page
    assert _tree_state(REPO_ROOT / "reports") == reports_before


def test_power_options_are_checked(tmp_path):
    with pytest.raises(ValueError, match=r"`caseload` must be >= 1 and `icc` in \[0, 1\)"):
        report.make_report("power", None, out=tmp_path, icc=1.2)
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['efect_size'\].*Did you mean 'effect_size'\?"):
        report.make_report("power", None, out=tmp_path, efect_size=0.3)
    with pytest.raises(ValueError, match=r"the 'power' report reads no file"):
        report.make_report("power", EXAMPLE, out=tmp_path)
    with pytest.raises(ValueError, match=r"`effect_size` must be non-zero"):
        report.make_report("power", None, out=tmp_path, effect_size=0)
    assert not any(tmp_path.iterdir())


# ---------------------------------------------------------------------------------------
# The scale report
# ---------------------------------------------------------------------------------------

SCALE = report.example_file("scale")
WAI = [f"wai{j}" for j in range(1, 13)]


@pytest.fixture(scope="module")
def scale(tmp_path_factory, reports_before):
    out = tmp_path_factory.mktemp("scale")
    start = time.monotonic()
    rep = report.make_report("scale", SCALE, out=out, respondent="respondent", pdf=False)
    TIMES["scale (no PDF)"] = time.monotonic() - start
    print(f"\nscale report (no PDF): {TIMES['scale (no PDF)']:.1f} s")
    return rep


def test_scale_report_files_and_numbers(scale, reports_before):
    from analysis.psychometrics import cronbach_alpha, fit_cfa, wai_sr_key

    folder = scale.folder
    for name in ("report.html", "results.json", "apa.txt", "tables/scores.csv", "tables/alpha.csv",
                 "tables/item_statistics.csv", "tables/cfa_fit.csv", "tables/cfa_loadings.csv",
                 "tables/omega.csv", "figures/score_distributions.png",
                 "figures/score_distributions.svg", "figures/score_distributions.pdf"):
        assert (folder / name).is_file() and (folder / name).stat().st_size > 0, name
    # The estimators are checked against psych and lavaan in tests/test_psychometrics.py;
    # here the report must carry their numbers unchanged (1e-10).
    items = pd.read_csv(SCALE)[WAI]
    a = cronbach_alpha(items)
    cfa = fit_cfa(items, {k: list(v) for k, v in wai_sr_key().subscales.items()})
    res = scale.results
    _close([res["alpha"]["total"], *res["alpha_ci_total"]], [a.alpha, *a.ci], "alpha")
    _close([res["cfa_fit"][k] for k in ("chisq", "cfi", "rmsea", "srmr")],
           [cfa.fit[k] for k in ("chisq", "cfi", "rmsea", "srmr")], "CFA fit")
    _close(res["omega"]["total"], cfa.omega()["total"], "omega")
    page = html.unescape(scale.html.read_text(encoding="utf-8"))
    assert f"Cronbach's α = .{round(a.alpha * 100):02d}" in page and "χ²(51) = " in page
    assert _tree_state(REPO_ROOT / "reports") == reports_before


def test_scale_edge_files(tmp_path):
    frame = pd.read_csv(SCALE).astype(object)
    frame.loc[7, "wai3"] = 6
    path = tmp_path / "range.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(report.ReportInputError, match=r"line 9 of range\.csv, column 'wai3': '6' is outside 1\.\.5"):
        report.make_report("scale", path, out=tmp_path / "out")
    renamed = tmp_path / "renamed.csv"
    pd.read_csv(SCALE).rename(columns={"wai3": "wai_3"}).to_csv(renamed, index=False)
    with pytest.raises(report.ReportInputError, match=r"no column 'wai3' \(--items\)\. Did you mean 'wai_3'\?"):
        report.make_report("scale", renamed, out=tmp_path / "out")
    assert not (tmp_path / "out").exists()
    # missing answers are allowed (scored by the WAI-SR missing-data rule), not refused
    gaps = pd.read_csv(SCALE).astype(object)
    gaps.loc[[0, 5], "wai2"] = ""
    gaps_path = tmp_path / "gaps.csv"
    gaps.to_csv(gaps_path, index=False)
    loaded = report.load_input("scale", gaps_path)
    assert loaded["wai2"].isna().sum() == 2 and len(loaded) == 300
