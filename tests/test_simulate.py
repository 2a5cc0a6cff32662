"""The trial simulator meets its calibration targets and keeps its promises.

Calibration targets are checked on large samples on the scale the simulator
calibrates (measured scores before rounding and clipping, from ``truth["latent"]``),
each with a tolerance of 4 Monte Carlo standard errors derived in the test
(a false alarm about once in 16,000 runs; the seeds are fixed, so the suite is
deterministic). Clustering of patients in therapists inflates the SEs by a design
effect 1 + (m − 1)ρ; we use the conservative ρ stated in each test.
"""

import math

import numpy as np
import pandas as pd
import pytest

from analysis.simulate import implied_population, simulate_trial


@pytest.fixture(scope="module")
def big():
    # 40,000 patients in 4,000 therapists of 10
    return simulate_trial(n_therapists=4000, caseload=10, seed=20240501)


def _anova_icc(values: np.ndarray, groups: np.ndarray, m: int) -> float:
    """One-way ANOVA ICC(1) for balanced groups of size m."""
    df = pd.DataFrame({"y": values, "g": groups})
    gm = df.groupby("g")["y"].transform("mean")
    J = df["g"].nunique()
    msb = m * ((df.groupby("g")["y"].mean() - df["y"].mean()) ** 2).sum() / (J - 1)
    msw = ((df["y"] - gm) ** 2).sum() / (len(df) - J)
    return (msb - msw) / (msb + (m - 1) * msw)


def _icc_se(rho: float, m: int, J: int) -> float:
    """Large-sample SE of the balanced ANOVA ICC (Snijders & Bosker 2012, eq. 3.13)."""
    return math.sqrt(2 * (1 - rho) ** 2 * (1 + (m - 1) * rho) ** 2 / (m * (m - 1) * (J - 1)))


def test_alliance_outcome_r_is_calibrated(big):
    lat = big.truth["latent"]
    r = np.corrcoef(lat["alliance_mean_measured"], lat["pre_measured"] - lat["post_measured"])[0, 1]
    n = len(lat)
    # SE of r: (1 - r^2)/sqrt(n), times sqrt(design effect) with rho <= .2 for both, m = 10
    se = (1 - 0.28**2) / math.sqrt(n) * math.sqrt(1 + 9 * 0.2)
    assert big.truth["alliance_outcome_r"] == pytest.approx(0.28, abs=1e-10)
    assert abs(r - 0.28) < 4 * se, (r, se)
    # The observed (rounded, clipped) data are close: floor/ceiling costs < .02 here.
    p = big.patients
    r_obs = np.corrcoef(p["alliance_mean"], p["change"])[0, 1]
    assert abs(r_obs - 0.28) < 4 * se + 0.02


def test_therapist_icc_of_outcome_is_calibrated(big):
    lat = big.truth["latent"]
    p = big.patients
    X = np.column_stack([np.ones(len(p)), lat["pre_measured"], p["arm"]])
    beta, *_ = np.linalg.lstsq(X, lat["post_measured"], rcond=None)
    resid = lat["post_measured"] - X @ beta
    icc = _anova_icc(resid.to_numpy(), p["therapist"].to_numpy(), 10)
    se = _icc_se(0.05, 10, 4000)  # about .0032
    assert abs(icc - 0.05) < 4 * se, (icc, se)


def test_alliance_icc_is_calibrated():
    # no ruptures, mean 3 so that clipping at 1 and 5 is negligible (|z| > 3.3);
    # rounding to 1/12 adds variance 1/1728, a bias below .0002 in the ICC.
    tr = simulate_trial(n_therapists=4000, caseload=10, rupture_rate=0.0, alliance_mean=3.0, seed=7)
    s1 = tr.sessions[tr.sessions["session"] == 1]
    icc = _anova_icc(s1["alliance"].to_numpy(), s1["therapist"].to_numpy(), 10)
    se = _icc_se(0.10, 10, 4000)
    assert abs(icc - 0.10) < 4 * se + 0.0002, (icc, se)
    sd = s1["alliance"].std()
    # SD of one rating: 0.6; SE of an SD about sd/sqrt(2n) * sqrt(deff), deff <= 2
    assert abs(sd - 0.6) < 4 * 0.6 / math.sqrt(2 * len(s1)) * math.sqrt(2)


@pytest.mark.parametrize("d", [0.06, 0.79])
def test_treatment_d_is_calibrated(d):
    tr = simulate_trial(n_therapists=4000, caseload=10, treatment_d=d, seed=11)
    lat, p = tr.truth["latent"], tr.patients
    post = lat["post_measured"]
    m1, m0 = post[p["arm"] == 1].mean(), post[p["arm"] == 0].mean()
    sd = math.sqrt((post[p["arm"] == 1].var() + post[p["arm"] == 0].var()) / 2)
    est = (m0 - m1) / sd
    n1, n0 = (p["arm"] == 1).sum(), (p["arm"] == 0).sum()
    # SE of d (Hedges & Olkin), times sqrt(design effect) with therapist share <= .1
    se = math.sqrt(1 / n1 + 1 / n0 + d**2 / (2 * (n1 + n0))) * math.sqrt(1 + 9 * 0.1)
    assert abs(est - d) < 4 * se, (est, se)


def test_given_coefficients_are_recovered():
    tr = simulate_trial(n_therapists=4000, caseload=10, alliance_within=0.0, alliance_between=4.0,
                        alliance_outcome_r=None, therapist_icc=0.08, seed=3)
    th = tr.truth["therapists"]
    lat, p = tr.truth["latent"], tr.patients
    a = th["alliance_component"].to_numpy()[p["therapist"]]
    X = np.column_stack([np.ones(len(p)), p["arm"], a, lat["alliance_within_component"]])
    beta, *_ = np.linalg.lstsq(X, lat["improvement"], rcond=None)
    # the regression error holds theta_j, so the between slope has SE
    # sqrt(var_theta / (J var_a)) ~ 0.09 at J = 4000; the within slope sqrt(var_eps/(n V_w)) ~ 0.05
    assert beta[2] == pytest.approx(4.0, abs=0.4)
    assert beta[3] == pytest.approx(0.0, abs=0.25)
    assert tr.truth["alliance_between"] == 4.0 and tr.truth["alliance_within"] == 0.0


def test_reverse_causation_inflates_r_as_implied():
    tr = simulate_trial(n_therapists=4000, caseload=10, alliance_within=0.0, alliance_between=0.0,
                        alliance_outcome_r=None, reverse_causation=0.3, seed=5)
    lat = tr.truth["latent"]
    r = np.corrcoef(lat["alliance_mean_measured"], lat["pre_measured"] - lat["post_measured"])[0, 1]
    implied = tr.truth["alliance_outcome_r"]
    assert implied > 0.1  # no causal effect, yet a positive correlation
    se = (1 - implied**2) / math.sqrt(len(lat)) * math.sqrt(1 + 9 * 0.2)
    assert abs(r - implied) < 4 * se


def test_sudden_gain_share_is_exact():
    tr = simulate_trial(n_therapists=50, caseload=10, sudden_gain_prob=0.5, seed=9)
    lat = tr.truth["latent"]
    sg = lat[lat["sudden_gain"]]
    assert 0.4 < lat["sudden_gain"].mean() < 0.6
    # the latent drop at the gain session is 50% of the improvement
    # (latent trajectories are not returned; use the design identity through G)
    T = tr.params["n_sessions"]
    G = np.log1p(np.arange(T + 1)) / math.log1p(T)
    t = sg["sudden_gain_session"].to_numpy()
    dG = G[t] - G[t - 1]
    gam = (0.5 - dG) / (1 - dG)
    share = (1 - gam) * dG + gam
    np.testing.assert_allclose(share, 0.5, rtol=1e-12)


def test_ranges_and_types():
    tr = simulate_trial(n_therapists=30, caseload=6, caseload_dist="negbin", dropout="MAR",
                        dropout_rate=0.3, seed=1)
    s = tr.sessions
    sym = s["symptom"].dropna()
    assert sym.between(0, 27).all() and (sym == np.round(sym)).all()
    assert not (np.signbit(sym) & (sym == 0)).any()  # no -0.0
    al = s["alliance"].dropna()
    assert al.between(1, 5).all()
    np.testing.assert_allclose(al * 12, np.round(al * 12), atol=1e-9)
    assert s.loc[s["session"] == 0, "alliance"].isna().all()
    assert s.loc[s["session"] == 0, "symptom"].notna().all()
    # missing exactly after dropout
    assert (s["symptom"].isna() == ~s["attended"]).all()
    p = tr.patients
    assert (p["post"].isna() == ~p["completed"]).all()
    assert (tr.truth["therapists"]["caseload"] >= 1).all()
    assert len(p) == tr.truth["therapists"]["caseload"].sum()
    assert len(s) == len(p) * (tr.params["n_sessions"] + 1)
    assert "SIMULATED" in tr.summary()


def test_same_seed_same_frames_different_seed_differs():
    a = simulate_trial(n_therapists=10, caseload=5, caseload_dist="poisson", seed=123)
    b = simulate_trial(n_therapists=10, caseload=5, caseload_dist="poisson", seed=123)
    c = simulate_trial(n_therapists=10, caseload=5, caseload_dist="poisson", seed=124)
    pd.testing.assert_frame_equal(a.sessions, b.sessions)
    pd.testing.assert_frame_equal(a.patients, b.patients)
    assert not a.sessions["symptom"].equals(c.sessions["symptom"])
    ss = simulate_trial(n_therapists=10, caseload=5, seed=np.random.SeedSequence(123))
    gen = simulate_trial(n_therapists=10, caseload=5, seed=np.random.default_rng(np.random.SeedSequence(123)))
    pd.testing.assert_frame_equal(ss.sessions, gen.sessions)


def test_mcar_dropout_rate_and_unrelated_to_symptoms():
    tr = simulate_trial(n_therapists=2000, caseload=10, dropout="MCAR", dropout_rate=0.25, seed=2)
    drop = ~tr.patients["completed"]
    n = len(drop)
    assert abs(drop.mean() - 0.25) < 4 * math.sqrt(0.25 * 0.75 / n)
    lat = tr.truth["latent"]
    # true post score does not differ between dropouts and completers (Welch z < 4)
    x, y = lat.loc[drop, "post_true"], lat.loc[~drop, "post_true"]
    z = (x.mean() - y.mean()) / math.sqrt(x.var() / len(x) + y.var() / len(y))
    assert abs(z) < 4


def test_mnar_dropout_relates_to_unobserved_symptoms():
    tr = simulate_trial(n_therapists=2000, caseload=10, dropout="MNAR", dropout_rate=0.25,
                        dropout_strength=1.0, seed=2)
    drop = ~tr.patients["completed"]
    lat = tr.truth["latent"]
    x, y = lat.loc[drop, "post_true"], lat.loc[~drop, "post_true"]
    z = (x.mean() - y.mean()) / math.sqrt(x.var() / len(x) + y.var() / len(y))
    assert z > 10  # dropouts would have ended worse
    # the intercept is solved so that the expected rate is met
    assert abs(drop.mean() - 0.25) < 4 * math.sqrt(0.25 * 0.75 / len(drop))


def test_mar_dropout_relates_to_observed_symptoms():
    tr = simulate_trial(n_therapists=2000, caseload=10, dropout="MAR", dropout_rate=0.25, seed=4)
    p = tr.patients
    drop = ~p["completed"]
    # higher intake (observed) scores -> more dropout
    assert p.loc[drop, "pre"].mean() > p.loc[~drop, "pre"].mean() + 0.5


def test_caseload_distributions():
    fixed = simulate_trial(n_therapists=80, caseload=4, seed=0).truth["therapists"]["caseload"]
    assert (fixed == 4).all()
    pois = simulate_trial(n_therapists=2000, caseload=4.1, caseload_dist="poisson", seed=0)
    cl = pois.truth["therapists"]["caseload"]
    assert abs(cl.mean() - 4.1) < 4 * math.sqrt(3.1 / 2000)
    nb = simulate_trial(n_therapists=2000, caseload=4.1, caseload_dist="negbin",
                        caseload_dispersion=1.0, seed=0).truth["therapists"]["caseload"]
    assert nb.var() > cl.var() * 1.5  # overdispersed
    given = simulate_trial(n_therapists=3, caseload=[1, 2, 5], seed=0)
    assert given.patients.groupby("therapist").size().tolist() == [1, 2, 5]


def test_implied_population_matches_truth():
    tr = simulate_trial(n_therapists=5, caseload=2, seed=0)
    pop = implied_population(tr.params)
    for k in ("alliance_within", "therapist_sd", "tau", "alliance_outcome_r"):
        assert pop[k] == tr.truth[k]


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(n_therapists=1), "n_therapists"),
        (dict(n_therapists=2.5), "n_therapists"),
        (dict(n_sessions=2), "n_sessions"),
        (dict(caseload=0), "caseload"),
        (dict(caseload=4.5), "caseload"),
        (dict(caseload=[1, 2]), "caseload"),
        (dict(caseload_dist="uniform"), "caseload_dist"),
        (dict(allocation=1.0), "allocation"),
        (dict(therapist_icc=-0.1), "therapist_icc"),
        (dict(therapist_icc=1.0), "therapist_icc"),
        (dict(alliance_icc=0.9), "alliance_icc"),
        (dict(alliance_reliability=0.0), "alliance_reliability"),
        (dict(alliance_outcome_r=1.2), "alliance_outcome_r"),
        (dict(alliance_outcome_r=0.99), "alliance_outcome_r"),
        (dict(alliance_within=1.0), "alliance_within"),
        (dict(rupture_rate=1.5), "rupture_rate"),
        (dict(repair_prob=-0.1), "repair_prob"),
        (dict(sudden_gain_prob=2.0), "sudden_gain_prob"),
        (dict(symptom_reliability=1.5), "symptom_reliability"),
        (dict(dropout="random"), "dropout"),
        (dict(dropout_rate=1.0), "dropout_rate"),
        (dict(intake_mean=40), "intake_mean"),
        (dict(change_sd=0), "change_sd"),
        (dict(alliance_state_autocorr=1.0), "alliance_state_autocorr"),
        (dict(treatment_d="big"), "treatment_d"),
        (dict(seed="abc"), "seed"),
        (dict(early_sessions=20), "early_sessions"),
    ],
)
def test_bad_parameters_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=f"`{name}`"):
        simulate_trial(**kwargs)


# ------------------------------------------------------------------ shipped simulated data
SIMDIR = __import__("pathlib").Path(__file__).resolve().parents[1] / "data" / "simulated"


def test_make_simulated_is_byte_identical(tmp_path):
    import subprocess
    import sys

    subprocess.run([sys.executable, str(SIMDIR / "make_simulated.py"), "--out", str(tmp_path)], check=True)
    made = sorted(p.name for p in tmp_path.iterdir())
    shipped = sorted(p.name for p in SIMDIR.iterdir() if p.suffix in (".csv", ".json"))
    assert made == shipped
    for name in made:
        assert (tmp_path / name).read_bytes() == (SIMDIR / name).read_bytes(), name


def test_simulated_datapackage_describes_every_file():
    import hashlib
    import json

    pkg = json.loads((SIMDIR / "datapackage.json").read_text())
    assert "SIMULATED" in pkg["title"]
    names = {r["path"] for r in pkg["resources"]}
    assert names == {p.name for p in SIMDIR.glob("*.csv")}
    for r in pkg["resources"]:
        path = SIMDIR / r["path"]
        assert r["simulated"] is True and "SIMULATED" in r["title"]
        assert r["hash"] == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
        header = path.read_text().splitlines()[0].split(",")
        assert header == [f["name"] for f in r["schema"]["fields"]]
        assert all(f["description"] for f in r["schema"]["fields"])
        gen = r["generator"]
        assert gen["seed"] == gen["parameters"]["seed"] and isinstance(gen["seed"], int)
        # every argument of simulate_trial is recorded
        import inspect

        assert set(inspect.signature(simulate_trial).parameters) == set(gen["parameters"])


def test_baldwin_design_file():
    p = pd.read_csv(SIMDIR / "baldwin2007_design_patients.csv")
    assert len(p) == 331 and p["therapist"].nunique() == 80
    assert round(len(p) / 80, 1) == 4.1
