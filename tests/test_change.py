"""Tests of analysis.change against hand-computed cases and published worked examples.

The R packages suddengains and clinicalsignificance are not available on this
machine. Numbers are either computed by hand in the comments (tolerance 1e-10 for
exact arithmetic, 5e-4 where a critical value is a 3-decimal t quantile) or read in
the peers' published documentation (``fixtures/change_published.json``, tolerance half
a unit in the last printed digit).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from analysis import change

# The worked examples printed by suddengains and clinicalsignificance, with their calls and sources; the same
# file feeds notebook 05's ledger records.
PUBLISHED = json.loads((Path(__file__).parent / "fixtures" / "change_published.json").read_text(encoding="utf-8"))
SUDDENGAINS_CRIT1 = PUBLISHED["suddengains_crit1"]
SUDDENGAINS_CHECK_INTERVAL = PUBLISHED["suddengains_check_interval"]["examples"]
CLINICALSIGNIFICANCE_CUTOFF_C = PUBLISHED["clinicalsignificance_cutoff_c"]


# --------------------------------------------------------------------------- reliable change
def test_reliable_change_hand_computed():
    # S_diff = 8 * sqrt(2) * sqrt(1 - .91) = 8 * 1.414214 * 0.3 = 3.394113
    r = change.reliable_change([30, 20, 10], [18, 19, 17], reliability=0.91, sd_pre=8.0)
    assert r.s_diff == pytest.approx(8 * math.sqrt(2) * 0.3, abs=1e-12)
    assert r.rc[0] == pytest.approx(-12 / 3.3941125496954, abs=1e-10)  # -3.535534
    assert list(r.direction) == ["improved", "unchanged", "deteriorated"]  # 7/3.394 = 2.06 > 1.96
    assert r.n_missing == 0
    assert "reliably improved" in r.summary()


def test_reliable_change_higher_is_better_flips_sign():
    r = change.reliable_change([30, 20], [18, 30], reliability=0.91, sd_pre=8.0, higher_is_better=True)
    assert list(r.direction) == ["deteriorated", "improved"]


def test_reliable_change_boundary_is_not_reliable():
    s_diff = 10 * math.sqrt(2) * math.sqrt(0.5)  # = 10
    r = change.reliable_change([50.0], [50.0 - 1.96 * s_diff], reliability=0.5, sd_pre=10.0)
    assert r.s_diff == pytest.approx(10.0)
    assert list(r.direction) == ["unchanged"]  # |RC| == 1.96 exactly: strict inequality


def test_reliable_change_sample_sd_and_missing():
    pre = [20.0, 30.0, np.nan, 25.0]
    post = [10.0, 29.0, 12.0, np.nan]
    r = change.reliable_change(pre, post, reliability=0.8)
    sd = np.std([20.0, 30.0, 25.0], ddof=1)
    assert r.s_diff == pytest.approx(sd * math.sqrt(2 * 0.2))
    assert list(r.direction[2:]) == ["missing", "missing"]
    assert r.n_missing == 2


@pytest.mark.parametrize("kw, match", [
    (dict(reliability=1.0), "reliability"),
    (dict(reliability=0.0), "reliability"),
    (dict(reliability=0.9, sd_pre=-1), "sd_pre"),
    (dict(reliability=0.9, critical=0), "critical"),
])
def test_reliable_change_bad_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        change.reliable_change([1, 2], [2, 3], **kw)


def test_reliable_change_bad_scores():
    with pytest.raises(ValueError, match="pre.*position 1"):
        change.reliable_change([1, "x"], [2, 3], reliability=0.9, sd_pre=1)
    with pytest.raises(ValueError, match="same length"):
        change.reliable_change([1, 2], [2, 3, 4], reliability=0.9, sd_pre=1)


@settings(max_examples=50, deadline=None)
@given(st.floats(0.05, 0.99), st.floats(0.5, 20), st.floats(-50, 50))
def test_reliable_change_property_scale_invariance(rel, sd, delta):
    a = change.reliable_change([40.0], [40.0 + delta], reliability=rel, sd_pre=sd)
    b = change.reliable_change([400.0], [400.0 + 10 * delta], reliability=rel, sd_pre=10 * sd)
    assert a.rc[0] == pytest.approx(b.rc[0], rel=1e-9, abs=1e-12)
    assert a.direction[0] == b.direction[0] or abs(abs(a.rc[0]) - 1.96) < 1e-9


# --------------------------------------------------------------------------- cut-offs
def test_cutoffs_hand_computed():
    c = change.clinical_cutoffs(30.0, 8.0, 8.0, 6.0)
    assert c["a"] == 14.0  # 30 - 2*8
    assert c["b"] == 20.0  # 8 + 2*6 (functional SD)
    assert c["c"] == pytest.approx((8 * 8 + 6 * 30) / 14, abs=1e-12)  # 17.428571
    assert change.clinical_cutoffs(30.0, 8.0, 8.0, 6.0, b_sd="clinical")["b"] == 24.0
    assert change.clinical_cutoffs(30.0, 8.0)["b"] is None


def test_cutoffs_higher_is_better():
    c = change.clinical_cutoffs(30.0, 8.0, 50.0, 10.0, higher_is_better=True)
    assert c["a"] == 46.0 and c["b"] == 30.0
    assert c["c"] == pytest.approx(700 / 18, abs=1e-12)


def test_cutoffs_bad_input():
    with pytest.raises(ValueError, match="m_func"):
        change.clinical_cutoffs(30.0, 8.0, 35.0, 6.0)  # functional mean on the worse side
    with pytest.raises(ValueError, match="both"):
        change.clinical_cutoffs(30.0, 8.0, 8.0)
    with pytest.raises(ValueError, match="sd_clin"):
        change.clinical_cutoffs(30.0, 0.0)
    with pytest.raises(ValueError, match="b_sd"):
        change.clinical_cutoffs(30.0, 8.0, 8.0, 6.0, b_sd="pooled")


def test_clinical_significance_categories():
    # S_diff = 8*sqrt(2)*sqrt(.1) = 3.5777; reliable change > 7.012 points; c = 17.43
    cs = change.clinical_significance([30, 30, 30, 12, 30, np.nan], [10, 24, 40, 3, 19, 10], reliability=0.9,
                                      m_clin=30, sd_clin=8, m_func=8, sd_func=6)
    assert list(cs.table["category"]) == ["recovered", "unchanged", "deteriorated", "improved", "improved",
                                           "missing"]
    # patient 5: 30 -> 19 is reliable (11 > 7.01) but 19 is above c = 17.43: improved, not recovered
    cnt = cs.counts()
    assert cnt["recovered"] == 1 and cnt["improved"] == 2 and cnt["missing"] == 1
    assert any("functional side" in n for n in cs.notes)
    assert "recovered" in cs.apa()
    with pytest.raises(ValueError, match="functional norms"):
        change.clinical_significance([30, 20], [10, 10], reliability=0.9, cutoff="b")


def test_clinical_significance_cutoff_tie_is_dysfunctional():
    # post exactly at the cut-off a = 14 is not "functional"
    cs = change.clinical_significance([30.0], [14.0], reliability=0.9, m_clin=30, sd_clin=8, cutoff="a")
    assert cs.table["category"].iloc[0] == "improved"
    cs = change.clinical_significance([30.0], [13.9], reliability=0.9, m_clin=30, sd_clin=8, cutoff="a")
    assert cs.table["category"].iloc[0] == "recovered"


# --------------------------------------------------------------------------- sudden gains
def _series(values, pid=1, start=1):
    return pd.DataFrame({"patient": pid, "session": range(start, start + len(values)), "symptom": values})


def test_critical_values_are_t_quantiles():
    for df, cv in change.CRITICAL_VALUES.items():
        assert cv == pytest.approx(stats.t.ppf(0.975, df), abs=5e-4)


def test_sudden_gain_worked_example():
    # gain 31 -> 18 between sessions 3 and 4: 13 >= 7; 13/31 = .419 >= .25;
    # pre window 30, 29, 31 (mean 30, var 1), post 18, 17, 16 (mean 17, var 1): s_p = 1,
    # 13 > 2.776 * 1
    sg = change.sudden_gains(_series([30, 29, 31, 18, 17, 16, 15]))
    assert len(sg.gains) == 1
    g = sg.gains.iloc[0]
    assert (g["pregain_session"], g["postgain_session"]) == (3, 4)
    assert g["magnitude"] == 13 and g["relative"] == pytest.approx(13 / 31)
    assert g["mean_pre"] == 30 and g["mean_post"] == 17 and g["sd_pooled"] == pytest.approx(1.0)
    assert g["critical"] == 2.776 and g["df"] == 4 and g["statistic"] == pytest.approx(13.0)
    assert g["total_improvement"] == 15 and g["share_of_total"] == pytest.approx(13 / 15)
    assert not g["reversal"]
    assert sg.patients["sudden_gain"].tolist() == [True]
    assert "1 with at least one gain" in sg.summary()


def test_criterion3_forms_differ():
    # pre 24, 20, 28 (mean 24, var 16); post 14, 18, 10 (mean 14, var 16); s_p = 4; diff 10.
    # suddengains form: 10 / 4 = 2.5 < 2.776 (no gain);
    # t test: 10 / (4 * sqrt(2/3)) = 3.0619 > 2.776 (gain).
    d = _series([24, 20, 28, 14, 18, 10])
    a = change.sudden_gains(d, criterion3="suddengains")
    b = change.sudden_gains(d, criterion3="t_test")
    assert len(a.gains) == 0
    assert len(b.gains) == 1
    assert b.gains["statistic"].iloc[0] == pytest.approx(10 / (4 * math.sqrt(2 / 3)), abs=1e-10)
    cand = a.candidates.set_index("pregain_session").loc[3]
    assert cand["crit1"] and cand["crit2"] and not cand["crit3"]
    assert cand["statistic"] == pytest.approx(2.5)


def test_criteria_1_and_2_ties_qualify():
    # exactly 7 points and exactly 25%: 28 -> 21
    d = _series([28, 28, 28, 21, 21, 21])
    sg = change.sudden_gains(d)  # s_p = 0 with pre mean > post mean: criterion 3 holds
    assert len(sg.gains) == 1 and sg.gains["magnitude"].iloc[0] == 7
    sg = change.sudden_gains(_series([28.1, 28, 28.1, 21.1, 21, 21.1]))  # 7.0 points but < 25%? 7/28.1 = .249
    assert len(sg.gains) == 0


def test_missing_one_value_uses_adjusted_critical_value():
    # session 2 missing: pre window 30, 31 (mean 30.5, var .5), post 18, 17, 16 (var 1);
    # s_p = sqrt((1*.5 + 2*1) / 3) = .912871; df 3 -> 3.182
    d = _series([30, np.nan, 31, 18, 17, 16, 15])
    sg = change.sudden_gains(d)
    g = sg.gains.iloc[0]
    assert g["df"] == 3 and g["critical"] == 3.182
    assert g["sd_pooled"] == pytest.approx(math.sqrt(2.5 / 3), abs=1e-12)
    # one missing on both sides: df 2 -> 4.303
    d2 = _series([30, np.nan, 31, 18, np.nan, 16, 15])
    assert change.sudden_gains(d2).gains["critical"].iloc[0] == 4.303
    # not allowed
    assert len(change.sudden_gains(d, allow_missing=False).gains) == 0
    # two missing on one side: not testable, noted
    d3 = _series([np.nan, np.nan, 31, 18, 17, 16, 15])
    r3 = change.sudden_gains(d3)
    assert len(r3.gains) == 0
    assert "not testable" in r3.candidates.set_index("pregain_session").loc[3, "note"]
    assert any("could not be tested" in n for n in r3.notes)


def test_pair_across_missing_session_only_with_skip():
    d = pd.DataFrame({"patient": 1, "session": [1, 2, 3, 5, 6, 7], "symptom": [30, 29, 31, 18, 17, 16]})
    assert len(change.sudden_gains(d).gains) == 0
    sk = change.sudden_gains(d, skip_missing_sessions=True)
    assert sk.gains[["pregain_session", "postgain_session"]].values.tolist() == [[3, 5]]
    assert sk.gains["df"].iloc[0] == 4


def test_reversal_and_selection():
    # gain 13 (31 -> 18); reversal threshold 18 + 6.5 = 24.5; session 7 = 25 reverses
    sg = change.sudden_gains(_series([30, 29, 31, 18, 17, 16, 25]))
    g = sg.gains.iloc[0]
    assert g["reversal"] and g["reversal_session"] == 7
    # 24 does not reach 24.5
    assert not change.sudden_gains(_series([30, 29, 31, 18, 17, 16, 24])).gains["reversal"].iloc[0]


def test_two_gains_first_and_largest():
    y = [40, 41, 40, 30, 29, 30, 29, 15, 14, 15]
    # gains 40 -> 30 (10, s3->s4) and 29 -> 15 (14, s7->s8)
    first = change.sudden_gains(_series(y))
    assert first.gains["pregain_session"].tolist() == [3, 7]
    assert first.patients["pregain_session"].iloc[0] == 3 and first.patients["n_gains"].iloc[0] == 2
    largest = change.sudden_gains(_series(y), select="largest")
    assert largest.patients["pregain_session"].iloc[0] == 7


def test_higher_is_better():
    sg = change.sudden_gains(_series([10, 11, 9, 22, 23, 24, 25]), higher_is_better=True)
    g = sg.gains.iloc[0]
    assert g["pregain_score"] == 9 and g["postgain_score"] == 22 and g["magnitude"] == 13


def test_short_series_and_many_patients():
    d = pd.concat([_series([30, 29, 31, 18, 17, 16], pid="a"), _series([20], pid="b"),
                   _series([20, 12], pid="c")], ignore_index=True)
    sg = change.sudden_gains(d)
    assert sg.patients["patient"].tolist() == ["a", "b", "c"]
    assert sg.patients["sudden_gain"].tolist() == [True, False, False]
    assert any("fewer than two" in n for n in sg.notes)
    late = change.sudden_gains(d, first_session=3)
    assert late.patients["patient"].tolist() == ["a"]
    assert any("no session at or after first_session=3" in n for n in late.notes)


# --------------------------------------------------------------------------- input checks
def test_long_table_errors_name_rows():
    d = _series([30, 29, 31])
    with pytest.raises(ValueError, match=r"increasing order.*rows 2"):
        change.sudden_gains(d.iloc[[0, 2, 1]])
    dup = pd.concat([d, d.iloc[[1]]]).sort_values("session", kind="stable")
    with pytest.raises(ValueError, match=r"duplicated patient–session rows at rows 2"):
        change.sudden_gains(dup)
    bad = d.astype({"symptom": object})
    bad.loc[1, "symptom"] = "high"
    with pytest.raises(ValueError, match=r"'symptom' must be numeric; rows 1.*'high'"):
        change.sudden_gains(bad)
    with pytest.raises(ValueError, match="no column 'score'"):
        change.sudden_gains(d, score="score")
    nc = pd.concat([_series([1, 2], pid=1), _series([1, 2], pid=2), _series([3], pid=1, start=3)])
    with pytest.raises(ValueError, match="contiguous"):
        change.sudden_gains(nc)
    fr = d.assign(session=[1, 2.5, 3])
    with pytest.raises(ValueError, match=r"whole session numbers; rows 1"):
        change.rupture_episodes(fr.rename(columns={"symptom": "alliance"}))


# --------------------------------------------------------------------------- ruptures
def _all(values, pid=1, sessions=None):
    s = range(1, len(values) + 1) if sessions is None else sessions
    return pd.DataFrame({"patient": pid, "session": list(s), "alliance": values})


def test_rupture_worked_example():
    # mean 3.625, SD sqrt(7.875 / 7) = 1.06066; threshold (k = 1) 2.5643: session 4 (1.0) ruptures;
    # session 5 = 4.0 >= 3.625: repaired at 5
    r = change.rupture_episodes(_all([4, 4, 4, 1, 4, 4, 4, 4]))
    p = r.patients.iloc[0]
    assert p["mean"] == pytest.approx(3.625) and p["sd"] == pytest.approx(math.sqrt(7.875 / 7))
    assert p["threshold"] == pytest.approx(3.625 - math.sqrt(7.875 / 7))
    e = r.episodes.iloc[0]
    assert (e["onset"], e["end"], e["repaired"], e["repair_session"]) == (4, 4, True, 5)
    assert e["depth_sd"] == pytest.approx(2.625 / math.sqrt(7.875 / 7))
    # k = 3: threshold 3.625 - 3.182 = 0.443: no rupture
    assert len(change.rupture_episodes(_all([4, 4, 4, 1, 4, 4, 4, 4]), k=3).episodes) == 0


def test_rupture_repair_to_pre_and_window():
    y = [4, 4, 3.8, 1, 3.7, 3.9, 4, 4]  # mean 3.55
    assert change.rupture_episodes(_all(y)).episodes["repair_session"].iloc[0] == 5  # 3.7 >= 3.55
    pre = change.rupture_episodes(_all(y), repair_to="pre")  # needs >= 3.8: session 6
    assert pre.episodes["repair_session"].iloc[0] == 6
    e = change.rupture_episodes(_all(y), repair_to="pre", m=1).episodes.iloc[0]
    assert not e["repaired"] and not e["censored"]


def test_rupture_multi_session_episode_censored_and_gaps():
    r = change.rupture_episodes(_all([4, 4, 4, 4, 4, 1, 1]))
    e = r.episodes.iloc[0]
    assert (e["onset"], e["end"]) == (6, 7)
    assert not e["repaired"] and e["censored"] and e["at_end"]
    # a missing session splits episodes and is not a rupture
    g = change.rupture_episodes(_all([4, 4, 1, 1, 4, 4, 4], sessions=[1, 2, 3, 5, 6, 7, 8]))
    assert g.episodes[["onset", "end"]].values.tolist() == [[3, 3], [5, 5]]
    assert g.episodes["repaired"].tolist() == [False, True]
    # first episode: window sessions 4 (missing) and 5 (1.0 < mean): not repaired, censored (missing rating)
    assert g.episodes["censored"].tolist() == [True, False]


def test_rupture_short_constant_and_ties():
    d = pd.concat([_all([4, 4, 4], pid="short"), _all([5, 5, 5, 5, 5], pid="ceiling"),
                   _all([4, 4, 4, 1, 4, 4, 4, 4], pid="ok")], ignore_index=True)
    r = change.rupture_episodes(d)
    st_ = r.patients.set_index("patient")["status"]
    assert st_["short"].startswith("too short") and st_["ceiling"].startswith("constant")
    assert st_["ok"] == "ok"
    assert any("not analysed" in n for n in r.notes)
    # a value exactly on the threshold is not a rupture: 2 values of 1 and 2 of 3 -> mean 2, SD 1.1547
    y = np.array([1.0, 3.0, 1.0, 3.0])
    thr = y.mean() - y.std(ddof=1)  # 0.845: no value below
    assert len(change.rupture_episodes(_all(list(y))).episodes) == 0 and thr < 1


def test_rupture_bad_arguments():
    with pytest.raises(ValueError, match="`m`"):
        change.rupture_episodes(_all([4, 4, 4, 1]), m=0)
    with pytest.raises(ValueError, match="`k`"):
        change.rupture_episodes(_all([4, 4, 4, 1]), k=-1)
    with pytest.raises(ValueError, match="repair_to"):
        change.rupture_episodes(_all([4, 4, 4, 1]), repair_to="max")


def test_rupture_outcome_matches_group_means():
    pats = []
    frames = []
    rng = np.random.default_rng(1)
    for i in range(30):
        kind = i % 3
        if kind == 0:
            y = [4, 4.1, 4, 4.1, 4, 4.1, 4, 4.1]
        elif kind == 1:
            y = [4, 4, 4, 1, 4, 4, 4, 4]
        else:
            y = [4, 4, 4, 4, 4, 4, 1, 1]
        frames.append(_all(y, pid=i))
        pats.append({"patient": i, "change": 5 + kind + rng.normal()})
    eps = change.rupture_episodes(pd.concat(frames, ignore_index=True))
    out = pd.DataFrame(pats)
    ro = change.rupture_outcome(eps, out)
    m = out.assign(g=out["patient"] % 3).groupby("g")["change"].mean()
    assert ro.table.loc["all_repaired", "estimate"] == pytest.approx(m[1] - m[0], abs=1e-10)
    assert ro.table.loc["any_unrepaired", "estimate"] == pytest.approx(m[2] - m[0], abs=1e-10)
    assert ro.table.loc["repaired_vs_unrepaired", "estimate"] == pytest.approx(m[1] - m[2], abs=1e-10)
    assert ro.n == 30 and "Ruptures" in ro.summary()
    with pytest.raises(ValueError, match="duplicated patients at rows 30"):
        change.rupture_outcome(eps, pd.concat([out, out.iloc[[0]]], ignore_index=True))


# --------------------------------------------------------------------------- real data: Beat the Blues
def test_btheb_against_r():
    """Reliable change and cut-off a on HSAUR3's BtheB agree with base R (1e-10)."""
    from analysis import datasets

    root = Path(__file__).resolve().parents[1]
    ref = json.loads((root / "tests" / "fixtures" / "change_btheb.json").read_text())
    d = datasets.load("btheb", package=root / "data" / "trials")
    assert len(d) == ref["n_rows"] == 100
    for col, s in ref["summary"].items():
        assert int(d[col].isna().sum()) == s["n_missing"]
        assert float(d[col].astype(float).mean()) == pytest.approx(s["mean"], abs=1e-10)
        assert float(d[col].astype(float).std()) == pytest.approx(s["sd"], abs=1e-10)
    pre = d["bdi.pre"].astype(float)
    post = d["bdi.2m"].astype(float)
    cs = change.clinical_significance(pre, post, reliability=ref["reliability"], cutoff="a")
    assert cs.reliable.s_diff == pytest.approx(ref["s_diff"], abs=1e-10)
    assert cs.cutoff == pytest.approx(ref["cutoff_a"], abs=1e-10)
    rc_r = np.array([np.nan if v is None else v for v in ref["rc"]], dtype=float)
    np.testing.assert_allclose(cs.table["rc"].to_numpy(), rc_r, atol=1e-10, equal_nan=True)
    assert cs.table["category"].astype(str).tolist() == ref["category"]
    for arm, counts in ref["counts_by_arm"].items():
        got = cs.table["category"][(d["treatment"] == arm).to_numpy()].value_counts()
        for k, v in counts.items():
            assert int(got.get(k, 0)) == v


# --------------------------------------------------------------------------- properties
_series_st = st.lists(st.integers(0, 40), min_size=2, max_size=14)


@settings(max_examples=60, deadline=None)
@given(_series_st)
def test_sudden_gains_mirror_property(values):
    """Negated scores with higher_is_better=True give the same gains."""
    d = _series([float(v) for v in values])
    a = change.sudden_gains(d)
    b = change.sudden_gains(d.assign(symptom=-d["symptom"]), higher_is_better=True)
    assert a.gains["pregain_session"].tolist() == b.gains["pregain_session"].tolist()
    np.testing.assert_allclose(a.gains["magnitude"], b.gains["magnitude"])


@settings(max_examples=60, deadline=None)
@given(_series_st, st.floats(-3, 3), st.floats(0.1, 10))
def test_rupture_episodes_affine_invariance(values, shift, scale):
    # The property holds exactly only away from ties: a rating equal to the rupture threshold
    # (mean - k SD) or to the repair level (the mean) can fall either side after rescaling in
    # floating point, e.g. [0, 3, 32, 40, 2, 19, 5, 40, 30] with scale 1.4654. Such draws are skipped.
    x = np.array([float(v) for v in values])
    mu, sd = x.mean(), x.std(ddof=1)
    for level in (mu - 1.0 * sd, mu):
        assume(np.all(np.abs(x - level) > 1e-9 * (1.0 + abs(level))))
    d = _all([float(v) for v in values])
    a = change.rupture_episodes(d, k=1.0, m=2)
    b = change.rupture_episodes(d.assign(alliance=shift + scale * d["alliance"]), k=1.0, m=2)
    cols = ["onset", "end", "repaired", "repair_session", "censored"]
    assert a.episodes[cols].values.tolist() == b.episodes[cols].values.tolist()


@settings(max_examples=30, deadline=None)
@given(_series_st, _series_st)
def test_results_per_patient_do_not_depend_on_other_patients(v1, v2):
    one = _series([float(v) for v in v1], pid="a")
    both = pd.concat([one, _series([float(v) for v in v2], pid="b")], ignore_index=True)
    g1 = change.sudden_gains(one).gains
    g2 = change.sudden_gains(both).gains
    pd.testing.assert_frame_equal(g1, g2[g2["patient"] == "a"].reset_index(drop=True), check_dtype=False,
                                  check_index_type=False)


# --------------------------------------------------------------------------- published norms
def test_published_norms_rows_are_sourced_and_in_range():
    for name, row in change.PUBLISHED_NORMS.items():
        assert row["instrument"] == name and row["status"] == "checked"
        assert row["citation"] and row["read_at"]
        lo, hi = row["score_range"]
        for k in ("m_clin", "m_func", "cutoff"):
            if row[k] is not None:
                assert lo <= row[k] <= hi, (name, k)
        for k in ("sd_clin", "sd_func", "rci"):
            if row[k] is not None:
                assert 0 < row[k] < hi - lo, (name, k)
        if row["reliability"] is not None:
            assert 0 < row["reliability"] < 1
        # a number without its description would be unusable
        assert (row["cutoff"] is None) == (row["cutoff_kind"] is None), name
        assert (row["reliability"] is None) == (row["reliability_kind"] is None), name
        assert (row["rci"] is None) == (row["rci_kind"] is None), name
        if row["severity"] is not None:  # ascending lower bounds inside the score range
            bounds = [b for b, _ in row["severity"]]
            assert bounds == sorted(bounds) and lo < bounds[0] and bounds[-1] <= hi, name


def test_norms_lookup_and_refusal():
    assert change.norms("phq9")["severity"] == ((5, "mild"), (10, "moderate"), (15, "moderately severe"),
                                                (20, "severe"))
    assert change.norms("OQ 45")["rci"] == 14.0
    assert change.norms("OQ-45-NL")["cutoff"] == 56.0
    assert change.norms("phq 9")["rci"] == 6.0 and "IAPT" in change.norms("PHQ-9")["rci_kind"]
    assert change.norms("PHQ-9-DE-men")["m_func"] == 2.7
    assert change.norms("bdi ii")["severity"] == ((14, "mild"), (20, "moderate"), (29, "severe"))
    assert change.norms("BDI-II")["reliability"] == 0.91
    row = change.norms("BDI-II")
    row["reliability"] = 0.5  # a copy: the table is not changed
    assert change.PUBLISHED_NORMS["BDI-II"]["reliability"] == 0.91
    with pytest.raises(ValueError, match="instrument.*'HAM-D'.*available: PHQ-9, PHQ-9-DE-women, PHQ-9-DE-men, BDI-II, BDI-II-GenPod"):
        change.norms("HAM-D")
    with pytest.raises(ValueError, match="instrument"):
        change.norms(9)


# --------------------------------------------------------------------------- published worked examples
def test_reliable_change_threshold_matches_suddengains_documented_example():
    ex = SUDDENGAINS_CRIT1
    t = change.reliable_change_threshold(ex["sd"], ex["reliability"])
    tol = ex["tolerance"]  # half a unit in the 7th printed digit
    assert t.se_measurement == pytest.approx(ex["standard_error_measurement"], abs=tol)
    assert t.s_diff == pytest.approx(ex["standard_error_difference"], abs=tol)
    assert t.threshold == pytest.approx(ex["reliable_change_value"], abs=tol)
    assert "7.65 points" in t.summary()


def test_cutoff_c_matches_clinicalsignificance_documented_example():
    ex = CLINICALSIGNIFICANCE_CUTOFF_C
    cuts = change.clinical_cutoffs(ex["m_clin"], ex["sd_clin"], ex["m_func"], ex["sd_func"])
    # hand: (8.16 * 8 + 8 * 35.48) / 16.16 = 349.12 / 16.16 = 21.6040
    assert cuts["c"] == pytest.approx(349.12 / 16.16, abs=1e-12)
    assert cuts["c"] == pytest.approx(ex["cutoff_c"], abs=ex["tolerance"])


def test_reliable_change_threshold_hand_computed_and_errors():
    # S_E = 8 * sqrt(.09) = 2.4; S_diff = 2.4 * sqrt(2) = 3.394113; threshold = 1.96 * S_diff = 6.652461
    t = change.reliable_change_threshold(8.0, 0.91)
    assert t.se_measurement == pytest.approx(2.4, abs=1e-12)
    assert t.threshold == pytest.approx(1.96 * 2.4 * math.sqrt(2), abs=1e-12)
    assert change.reliable_change_threshold(8.0, 0.91, critical=2.576).threshold == pytest.approx(
        2.576 * 2.4 * math.sqrt(2), abs=1e-12)
    with pytest.raises(ValueError, match="`sd` must be positive"):
        change.reliable_change_threshold(0.0, 0.9)
    with pytest.raises(ValueError, match="`reliability` must lie strictly between 0"):
        change.reliable_change_threshold(5.0, 1.0)
    with pytest.raises(ValueError, match="`reliability`"):
        change.reliable_change_threshold(5.0, float("nan"))
    with pytest.raises(ValueError, match="`sd` must be numeric"):
        change.reliable_change_threshold("ten", 0.9)
    with pytest.raises(ValueError, match="`sd` must be a single number"):
        change.reliable_change_threshold([5.0, 6.0], 0.9)


@given(sd=st.floats(0.1, 100), rel=st.floats(0.01, 0.99), pre=st.floats(0, 100))
def test_reliable_change_threshold_is_the_rc_criterion_in_points(sd, rel, pre):
    t = change.reliable_change_threshold(sd, rel)
    r = change.reliable_change([pre], [pre], reliability=rel, sd_pre=sd)
    assert t.s_diff == pytest.approx(r.s_diff, rel=1e-12)
    assert t.threshold == pytest.approx(r.reliable_change_in_raw_units, rel=1e-12)
    # a drop just beyond the threshold is reliable, one just inside is not
    beyond = change.reliable_change([pre], [pre - t.threshold * 1.001], reliability=rel, sd_pre=sd)
    inside = change.reliable_change([pre], [pre - t.threshold * 0.999], reliability=rel, sd_pre=sd)
    assert list(beyond.direction) == ["improved"] and list(inside.direction) == ["unchanged"]


@given(sd=st.floats(0.1, 100), r1=st.floats(0.01, 0.98), dr=st.floats(0.001, 0.5))
def test_reliable_change_threshold_falls_as_reliability_rises(sd, r1, dr):
    r2 = min(r1 + dr, 0.99)
    assume(r2 > r1)
    assert change.reliable_change_threshold(sd, r2).threshold < change.reliable_change_threshold(sd, r1).threshold


def test_sudden_gains_accepts_the_threshold_as_criterion_1():
    # Stiles et al. 2003: criterion 1 = the reliable change value instead of 7 BDI points.
    t = change.reliable_change_threshold(10.5, 0.931).threshold  # 7.645131
    d = pd.DataFrame({"patient": 1, "session": range(1, 9),
                      "symptom": [30.0, 29, 30, 22.5, 21, 22, 21, 20]})  # a 7.5-point drop: < 7.65
    assert len(change.sudden_gains(d).gains) == 1  # 7-point criterion: a gain
    assert len(change.sudden_gains(d, min_gain=t).gains) == 0  # RCI criterion: not reliable


# --------------------------------------------------------------------------- clinical significance from published norms
def test_clinical_significance_fills_published_functional_norms():
    # PHQ-9, German women (Kocalevent et al. 2013): M = 3.1, SD = 3.5 -> b = 3.1 + 2 * 3.5 = 10.1;
    # clinical norms from the sample: pre = [18, 20, 16, 22], M = 19, SD = sqrt(20/3) = 2.581989
    # c = (2.581989 * 3.1 + 3.5 * 19) / (2.581989 + 3.5) = 74.504166 / 6.081989 = 12.249953
    pre, post = [18, 20, 16, 22], [4, 19, 15, 8]
    cs = change.clinical_significance(pre, post, instrument="PHQ-9-DE-women", reliability=0.89, cutoff="b")
    assert cs.cutoff == pytest.approx(10.1, abs=1e-12)
    sd = math.sqrt(20 / 3)
    assert cs.cutoffs["c"] == pytest.approx((sd * 3.1 + 3.5 * 19) / (sd + 3.5), abs=1e-12)
    assert any("Kocalevent" in n and "functional norms M = 3.1, SD = 3.5" in n for n in cs.notes)
    # explicit arguments win over the row
    cs2 = change.clinical_significance(pre, post, instrument="PHQ-9-DE-women", reliability=0.89, cutoff="b",
                                       m_func=2.0, sd_func=3.0)
    assert cs2.cutoff == pytest.approx(8.0, abs=1e-12)
    # the published PHQ-9 row supplies the reliability (.89) when none is given
    cs3 = change.clinical_significance(pre, post, instrument="phq9", cutoff="a")
    assert cs3.reliable.s_diff == pytest.approx(sd * math.sqrt(2) * math.sqrt(1 - 0.89), abs=1e-12)
    assert any("reliability 0.89" in n for n in cs3.notes)


def test_clinical_significance_fills_published_clinical_norms():
    # BDI-II, GenPod baseline (Button et al. 2015): M = 33.4, SD = 9.1 -> a = 33.4 - 2 * 9.1 = 15.2;
    # S_diff = 9.1 * sqrt(2) * sqrt(1 - .91) = 3.860803; patient 1: 30 -> 12, RC = -18 / 3.860803 = -4.66
    cs = change.clinical_significance([30, 25, 40], [12, 20, 41], instrument="BDI-II-GenPod", reliability=0.91,
                                      cutoff="a")
    assert cs.cutoff == pytest.approx(15.2, abs=1e-12)
    assert cs.reliable.s_diff == pytest.approx(9.1 * math.sqrt(2) * 0.3, abs=1e-12)
    assert list(cs.table["category"]) == ["recovered", "unchanged", "unchanged"]  # 5/3.86 = 1.30 < 1.96
    assert any("clinical norms M = 33.4, SD = 9.1" in n and "Button" in n for n in cs.notes)
    with pytest.raises(ValueError, match="`cutoff='c'` needs the functional norms"):
        change.clinical_significance([30, 25], [12, 20], instrument="BDI-II-GenPod", reliability=0.91)


def test_clinical_significance_instrument_errors():
    with pytest.raises(ValueError, match="`reliability` is required: the published norms of 'PHQ-9-DE-men'"):
        change.clinical_significance([20, 18], [5, 9], instrument="PHQ-9-DE-men")
    with pytest.raises(ValueError, match="`reliability` is required"):
        change.clinical_significance([20, 18], [5, 9])
    with pytest.raises(ValueError, match="`post` has scores outside the PHQ-9 range 0-27 at position 1"):
        change.clinical_significance([20, 18], [5, 29], instrument="PHQ-9")
    with pytest.raises(ValueError, match="`instrument`: no published norms for 'GAD-7'"):
        change.clinical_significance([20, 18], [5, 9], reliability=0.9, instrument="GAD-7")
    with pytest.raises(ValueError, match="higher_is_better=True` contradicts `instrument='BDI-II'"):
        change.clinical_significance([20, 18], [5, 9], instrument="BDI-II", higher_is_better=True)


@pytest.mark.parametrize("ex", SUDDENGAINS_CHECK_INTERVAL, ids=lambda e: f"{e['identify']}-alpha{e['alpha']}-"
                         f"missing{e['pre'].count(None) + e['post'].count(None)}")
def test_sudden_gains_match_suddengains_check_interval_examples(ex):
    # The six values become sessions 1-6 of one patient; the interval tested is session 3 -> 4.
    scores = [np.nan if v is None else float(v) for v in ex["pre"] + ex["post"]]
    d = pd.DataFrame({"patient": "p", "session": range(1, 7), "symptom": scores})
    fn = change.sudden_gains if ex["identify"] == "sg" else change.sudden_losses
    res = fn(d, min_gain=ex["min_gain"], min_relative=ex["min_relative"], alpha=ex["alpha"])
    row = res.candidates.set_index("pregain_session").loc[3]
    assert row["critical"] == pytest.approx(ex["critical"], abs=5e-4)  # printed to 3 decimals
    assert (row["n_pre"], row["n_post"]) == (ex["n_pre"], ex["n_post"])
    assert row["mean_pre"] == pytest.approx(ex["mean_pre"], abs=1e-12)
    assert row["mean_post"] == pytest.approx(ex["mean_post"], abs=1e-12)
    pre = np.array([v for v in ex["pre"] if v is not None], float)
    post = np.array([v for v in ex["post"] if v is not None], float)
    assert pre.std(ddof=1) == pytest.approx(ex["sd_pre"], abs=5e-4)
    assert post.std(ddof=1) == pytest.approx(ex["sd_post"], abs=5e-4)
    pooled = math.sqrt(((pre.size - 1) * ex["sd_pre"] ** 2 + (post.size - 1) * ex["sd_post"] ** 2)
                       / (pre.size + post.size - 2))
    assert row["sd_pooled"] == pytest.approx(pooled, abs=1e-3)
    for k in ("crit1", "crit2", "crit3"):
        if ex[k] is not None:  # None: the criterion was not applied (switched off)
            assert bool(row[k]) is ex[k], k
    found = 3 in set(res.gains["pregain_session"])
    assert found is ex["found"]


def test_sudden_gains_switched_off_criteria_and_alpha_errors():
    # a 5-point, 17% drop: fails criteria 1 (7) and 2 (25%), passes 3 -> only found with both switched off
    d = pd.DataFrame({"patient": 1, "session": range(1, 7), "symptom": [30.0, 30, 30, 25, 25, 25]})
    assert change.sudden_gains(d).gains.empty
    assert change.sudden_gains(d, min_gain=None).gains.empty
    both_off = change.sudden_gains(d, min_gain=None, min_relative=None)
    assert list(both_off.gains["pregain_session"]) == [3]
    assert "1 not applied; 2 not applied" in both_off.summary()
    with pytest.raises(ValueError, match="Give `alpha` or `critical_values`, not both"):
        change.sudden_gains(d, alpha=0.01, critical_values={2: 1, 3: 1, 4: 1})
    with pytest.raises(ValueError, match="`alpha` must lie strictly between 0"):
        change.sudden_gains(d, alpha=1.5)
    with pytest.raises(ValueError, match="`direction` must be one of"):
        change.sudden_gains(d, direction="up")
    with pytest.raises(ValueError, match="`direction` is fixed to 'loss'"):
        change.sudden_losses(d, direction="gain")
    # alpha = .05 gives the exact t quantiles, within rounding of the published 3-decimal table
    exact = change.sudden_gains(d, alpha=0.05).settings["critical_values"]
    for df_, v in change.CRITICAL_VALUES.items():
        assert exact[df_] == pytest.approx(v, abs=5e-4)


@given(st.lists(st.integers(0, 40), min_size=6, max_size=12))
def test_sudden_losses_are_gains_of_the_mirrored_series(values):
    # a loss on a lower-is-better scale is a gain on the same scale read as higher-is-better
    y = [float(v) for v in values]
    d = pd.DataFrame({"patient": 1, "session": range(1, len(y) + 1), "symptom": y})
    losses = change.sudden_losses(d).gains
    mirrored = change.sudden_gains(d, higher_is_better=True).gains
    pd.testing.assert_frame_equal(losses, mirrored)


# --------------------------------------------------------------------------- published cut-offs and fixed thresholds
def test_clinical_significance_with_published_cutoff_and_rci_dutch_oq45():
    # OQ-45-NL (Timman et al. 2017): cut-off 56, RCI 18 points. Changes: -30, -10, -20, +20, -18 (exactly 18)
    pre, post = [80, 70, 60, 90, 70], [50, 60, 40, 110, 52]
    cs = change.clinical_significance(pre, post, instrument="OQ-45-NL", cutoff="published", min_change="published")
    assert cs.cutoff == 56.0 and cs.cutoff_used == "published" and cs.cutoffs["published"] == 56.0
    # 80->50 crosses 56 (recovered); -10 < 18 (unchanged); 60->40 crosses (recovered); +20 deteriorated;
    # -18 meets "18 points or more" (inclusive) and 70->52 crosses 56: recovered
    assert list(cs.table["category"]) == ["recovered", "unchanged", "recovered", "deteriorated", "recovered"]
    assert cs.table["rc"].isna().all()  # no reliability given: the index itself is not computed
    assert cs.reliable.min_change == 18.0 and cs.reliable.reliable_change_in_raw_units == 18.0
    assert "18 points or more" in cs.notes[0] and "Timman" in cs.notes[0]
    assert "|change| >= 18 points" in cs.summary() and "a change of at least 18 points" in cs.apa()


def test_iapt_reliable_recovery_on_the_phq9():
    # IAPT: caseness >= 10 at the start, < 10 at the end, and a fall of 6 or more
    pre, post = [15, 15, 12, 9, 20], [9, 10, 7, 2, 14]
    cs = change.clinical_significance(pre, post, instrument="PHQ-9", cutoff="published", min_change="published")
    assert cs.cutoff == 10.0
    # 15->9: -6, crosses: recovered; 15->10: -5 not reliable, not below 10: unchanged; 12->7: -5: unchanged;
    # 9->2: -7 reliable but started below caseness: improved; 20->14: -6 reliable, still a case: improved
    assert list(cs.table["category"]) == ["recovered", "unchanged", "unchanged", "improved", "improved"]
    # reliability .89 (the row's) still gives the rc column
    assert np.isfinite(cs.table["rc"]).all()


def test_reliable_change_min_change_rule_and_errors():
    r = change.reliable_change([30, 30, 30, 30], [16, 17, 44, np.nan], min_change=14)
    assert list(r.direction) == ["improved", "unchanged", "deteriorated", "missing"]  # 14 counts, 13 does not
    assert np.isnan(r.s_diff) and "|change| >= 14 points" in r.summary()
    hb = change.reliable_change([30, 30], [44, 16], min_change=14, higher_is_better=True)
    assert list(hb.direction) == ["improved", "deteriorated"]
    with pytest.raises(ValueError, match="`reliability` is required \\(or give `min_change`"):
        change.reliable_change([30], [10])
    with pytest.raises(ValueError, match="`min_change` must be positive"):
        change.reliable_change([30], [10], min_change=0)
    with pytest.raises(ValueError, match="`min_change` must be a number of raw points or 'published'"):
        change.clinical_significance([30, 20], [10, 5], reliability=0.9, min_change="iapt")
    with pytest.raises(ValueError, match="'published' .* needs `instrument=`"):
        change.clinical_significance([30, 20], [10, 5], reliability=0.9, cutoff="published")
    with pytest.raises(ValueError, match="`cutoff='published'`: BDI-II has no published cut-off"):
        change.clinical_significance([30, 20], [10, 5], instrument="BDI-II", cutoff="published")
    with pytest.raises(ValueError, match="`min_change='published'`: BDI-II has no published reliable change"):
        change.clinical_significance([30, 20], [10, 5], instrument="BDI-II", min_change="published")
    with pytest.raises(ValueError, match="`cutoff` must be one of"):
        change.clinical_significance([30, 20], [10, 5], reliability=0.9, cutoff="d")
    # a number is used as the cut-off itself
    cs = change.clinical_significance([30, 20], [10, 5], reliability=0.9, cutoff=12.5)
    assert cs.cutoff == 12.5 and cs.cutoff_used == "given"


@given(st.lists(st.tuples(st.integers(0, 27), st.integers(0, 27)), min_size=2, max_size=30),
       st.floats(0.5, 20))
def test_min_change_rule_matches_its_definition(pairs, k):
    pre = [float(a) for a, _ in pairs]
    post = [float(b) for _, b in pairs]
    r = change.reliable_change(pre, post, min_change=k)
    for a, b, d in zip(pre, post, r.direction):
        expect = "improved" if a - b >= k else "deteriorated" if b - a >= k else "unchanged"
        assert d == expect
