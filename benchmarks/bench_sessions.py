"""Speed of the session models against lme4 and lavaan (and plain semopy).

Not a test. Run from the repository root:

    .venv/bin/python benchmarks/bench_sessions.py [--reps 5]

1. Lagged within/between multilevel model: ``analysis.sessions.lagged_model(s)``
   (symptom at t+1 on the person-mean-centred alliance at t, the person mean and the
   symptom at t; random intercept per patient; REML) against ``lme4::lmer`` on the same
   long data, with the preparation (centring, lagging) of tests/oracles/sessions_lavaan.R
   done in base R inside each timed repetition, as our function does it inside its call.
   lmer runs twice: with its default settings (what a user runs; the ratio to read) and
   with the oracle's tight bobyqa control (``rhoend = 1e-12``; the estimates we compare
   against). Data from ``analysis.simulate.simulate_trial(caseload=12, seed=7)``, sessions
   1..12: a small trial (10 therapists, 120 patients) and a large one (250 therapists,
   3,000 patients, 36,000 patient-sessions).
2. RI-CLPM (Hamaker, Kuiper & Grasman 2015), five waves, free lagged paths:
   ``analysis.sessions.riclpm`` (the workbook's SEM engine ``analysis.sem.sem``: Fisher scoring with
   analytic gradients, fit indices from ``analysis.sem.fit``) against
   ``lavaan::lavaan`` with the oracle's syntax and options (ML, mean structure, expected
   information), and against plain semopy (``semopy.Model(riclpm_syntax(5)).fit(wide)``,
   its defaults). Data: the oracle's wide data (N = 400, tests/fixtures/sessions.json) and
   sessions 1..5 of the large simulated trial (N = 3,000; alliance = x, symptom = y).
3. RI-CLPM by full-information ML: ``riclpm(..., missing="ml")`` (the engine with the casewise
   likelihood of ``analysis.sem.missing``: per-pattern sufficient statistics, analytic gradient) against ``lavaan::lavaan(..., missing = "ml")``
   with the options of the oracle's ``riclpm_ml`` block (mean structure, free intercepts,
   lavaan's defaults otherwise: observed information, EM for the saturated model), free
   lagged paths. Data: the oracle's MAR-deleted wide data
   (tests/fixtures/sessions_riclpm_missing.csv, 400 patients, 2 without any value) and
   sessions 1..5 of ``simulate_trial(n_therapists=250, caseload=12, seed=7, dropout="MAR",
   dropout_rate=0.4)`` (3,000 patients, monotone dropout).

R is timed in-process (``benchmarks/bench_sessions.R``: the CSV is read once, the fit
repeated). Times are medians over the repetitions (``--reps`` for the RI-CLPM, 4 x
``--reps`` for the fast lagged model), after one untimed warm-up call on the Python
side. Ratio = peer time / our time (> 1: we are faster). Estimates are printed side by
side with their maximum absolute difference. Writes ``benchmarks/results/sessions.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

# One BLAS thread, as R's reference BLAS on this machine: with OpenBLAS's default threading,
# small-matrix code (plain semopy's, and ours) ran up to ~90x slower whenever another process was using the
# cores (seen here on 2 cores), which would make the timings meaningless. Override from the shell.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.sessions import lagged_model, riclpm, riclpm_syntax  # noqa: E402
from analysis.simulate import simulate_trial  # noqa: E402
from _timing import cpu, median_time  # noqa: E402  (benchmarks/ is sys.path[0])

R_SCRIPT = ROOT / "benchmarks" / "bench_sessions.R"
SEED = 7
LOAD = os.getloadavg()
TRIALS = {"small": 10, "large": 250}  # therapists; caseload 12, 12 sessions


def med(times) -> float:
    """Median of R's times (jsonlite writes a single repetition as a scalar)."""
    return float(np.median(np.atleast_1d(times)))


def run_r(mode: str, csv: Path, reps: int) -> dict:
    out = subprocess.run(["Rscript", str(R_SCRIPT), mode, str(csv), str(reps)], capture_output=True, text=True,
                         timeout=1800)
    if out.returncode != 0:
        raise RuntimeError(f"Rscript {mode} failed:\n{out.stderr}")
    return json.loads(out.stdout)


def sessions_of(n_therapists: int, **dropout) -> pd.DataFrame:
    sim = simulate_trial(n_therapists=n_therapists, caseload=12, seed=SEED, **dropout)
    s = sim.sessions[sim.sessions["session"] >= 1]
    return s[["patient", "session", "alliance", "symptom"]].reset_index(drop=True)


# --------------------------------------------------------------------------- lagged model
LAG_TERMS = [("Intercept", "(Intercept)"), ("alliance_within", "a_within"), ("alliance_between", "a_between"),
             ("symptom", "symptom")]


def bench_lagged(s: pd.DataFrame, reps: int, tmp: Path, name: str) -> dict:
    fit = lagged_model(s)  # warm-up and the estimates
    t_ours = median_time(lambda: lagged_model(s), reps)
    csv = tmp / f"lagged_{name}.csv"
    s.to_csv(csv, index=False)
    r = run_r("lagged", csv, reps)
    rows = []
    for ours_name, r_name in LAG_TERMS:
        rows.append((f"beta {ours_name}", fit.fixed.loc[ours_name, "estimate"], r["tight"]["fixef"][r_name],
                     r["default"]["fixef"][r_name]))
        rows.append((f"SE {ours_name}", fit.fixed.loc[ours_name, "se"], r["tight"]["se"][r_name],
                     r["default"]["se"][r_name]))
    rows += [("tau^2 (patient)", fit.patient_var, r["tight"]["tau2"], r["default"]["tau2"]),
             ("sigma^2 (residual)", fit.residual_var, r["tight"]["sigma2"], r["default"]["sigma2"]),
             ("REML log-likelihood", fit.loglik, r["tight"]["loglik"], r["default"]["loglik"])]
    assert fit.n_obs == r["tight"]["nobs"], (fit.n_obs, r["tight"]["nobs"])
    return dict(name=name, n_patients=fit.n_patients, n_obs=fit.n_obs, n_rows=len(s), t_ours=t_ours,
                t_default=med(r["default"]["times"]), t_tight=med(r["tight"]["times"]),
                rows=rows, max_tight=max(abs(o - t) for _, o, t, _ in rows),
                max_default=max(abs(o - d) for _, o, _, d in rows), version=r["version"])


# --------------------------------------------------------------------------- RI-CLPM
def plain_semopy(wide: pd.DataFrame, W: int):
    import semopy

    model = semopy.Model(riclpm_syntax(W, "x", "y"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(wide)
    return model


def bench_riclpm(wide: pd.DataFrame, reps: int, tmp: Path, name: str) -> dict:
    W = sum(c.startswith("x") for c in wide.columns)
    long = pd.wide_to_long(wide.assign(id=np.arange(len(wide))), ["x", "y"], i="id", j="wave").reset_index()
    long = long.sort_values(["id", "wave"]).reset_index(drop=True)
    call = lambda: riclpm(long, x="x", y="y", patient="id", wave="wave")  # noqa: E731
    res = call()
    t_ours = median_time(call, reps)
    num = wide[[f"x{t}" for t in range(1, W + 1)] + [f"y{t}" for t in range(1, W + 1)]]
    sem = plain_semopy(num, W)
    t_sem = median_time(lambda: plain_semopy(num, W), reps)
    ins = sem.inspect()
    ins = ins[ins["Std. Err"].astype(str) != "-"]
    sem_est = {(a, o, b): (float(e), float(s)) for a, o, b, e, s in
               zip(ins["lval"], ins["op"], ins["rval"], ins["Estimate"], ins["Std. Err"])}
    csv = tmp / f"riclpm_{name}.csv"
    num.to_csv(csv, index=False)
    r = run_r("riclpm", csv, reps)
    lav = {(a, o, b): (e, s) for a, o, b, e, s in zip(r["lhs"], r["op"], r["rhs"], r["est"], r["se"])}
    rows = []
    for _, p in res.params.iterrows():
        key = (p["lhs"], p["op"], p["rhs"])
        swap = (p["rhs"], p["op"], p["lhs"])
        lv = lav.get(key) or lav[swap]
        sv = sem_est.get(key) or sem_est[swap]
        rows.append((key, p["estimate"], p["se"], lv[0], lv[1], sv[0], sv[1]))
    if len(rows) != len(lav):
        raise RuntimeError(f"RI-CLPM {name}: {len(rows)} parameters here, {len(lav)} in lavaan")
    return dict(name=name, n=res.n, W=W, t_ours=t_ours, t_sem=t_sem, t_lav=med(r["times"]),
                rows=rows, chisq=(res.fit["chisq"], r["fit"]["chisq"]), df=(res.fit["df"], r["fit"]["df"]),
                fitdiff=max(abs(res.fit[k] - r["fit"][k]) for k in ("cfi", "tli", "rmsea", "srmr")),
                d_est=max(abs(x[1] - x[3]) for x in rows), d_se=max(abs(x[2] - x[4]) for x in rows),
                d_est_sem=max(abs(x[5] - x[3]) for x in rows), d_se_sem=max(abs(x[6] - x[4]) for x in rows),
                converged=r["converged"], version=r["version"])


def to_long(wide: pd.DataFrame) -> pd.DataFrame:
    long = pd.wide_to_long(wide.assign(id=np.arange(len(wide))), ["x", "y"], i="id", j="wave").reset_index()
    return long.sort_values(["id", "wave"]).reset_index(drop=True)


def bench_riclpm_ml(wide: pd.DataFrame, reps: int, tmp: Path, name: str) -> dict:
    """``riclpm(missing="ml")`` vs ``lavaan(missing = "ml")`` on wide x1..xW, y1..yW with NaN."""
    W = sum(c.startswith("x") for c in wide.columns)
    num = wide[[f"x{t}" for t in range(1, W + 1)] + [f"y{t}" for t in range(1, W + 1)]].reset_index(drop=True)
    long = to_long(num)

    def call():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the note on patients without any value
            return riclpm(long, x="x", y="y", patient="id", wave="wave", missing="ml")

    res = call()
    t_ours = median_time(call, reps)
    csv = tmp / f"riclpm_ml_{name}.csv"
    num.to_csv(csv, index=False, na_rep="")
    r = run_r("riclpm_ml", csv, reps)
    lav = {(a, o, b): (e, s) for a, o, b, e, s in zip(r["lhs"], r["op"], r["rhs"], r["est"], r["se"])}
    rows = []
    for _, p in res.params.iterrows():
        key = (p["lhs"], p["op"], p["rhs"] if p["op"] != "~1" else "")
        lv = lav.get(key) or lav[(key[2], key[1], key[0])]
        rows.append((key, p["estimate"], p["se"], lv[0], lv[1]))
    if len(rows) != len(lav):
        raise RuntimeError(f"RI-CLPM FIML {name}: {len(rows)} parameters here, {len(lav)} in lavaan")
    f, rf = res.fit, r["fit"]
    return dict(name=name, n=res.n, n_dropped=res.n_dropped, n_patterns=(res.n_patterns, int(r["n_patterns"])),
                n_lav=int(rf["ntotal"]), n_missing=int(num.isna().sum().sum()), cells=num.size,
                t_ours=t_ours, t_lav=med(r["times"]), rows=rows,
                chisq=(f["chisq"], rf["chisq"]), df=(f["df"], rf["df"]),
                loglik=(res.loglik, rf["logl"]), loglik_h1=(res.loglik_saturated, rf["unrestricted.logl"]),
                fitdiff=max(abs(f[k] - rf[k]) for k in ("cfi", "tli", "rmsea", "srmr")),
                d_est=max(abs(x[1] - x[3]) for x in rows), d_se=max(abs(x[2] - x[4]) for x in rows),
                converged=(bool(res.converged), bool(r["converged"])), boundary=list(res.boundary),
                version=r["version"])


# --------------------------------------------------------------------------- report
def g(v: float) -> str:
    return f"{v:.3e}" if v < 0.01 else f"{v:.4f}"


def report(lag: list[dict], ric: list[dict], ml: list[dict], reps: int) -> str:
    import semopy

    lines = [
        "# Session models: lagged multilevel model and RI-CLPM (complete cases and FIML)",
        "",
        f"Made by `benchmarks/bench_sessions.py` (not a test). Machine: {cpu()}, 2 cores (BLAS threads: "
        f"{os.environ['OPENBLAS_NUM_THREADS']}; R links Debian's single-threaded reference BLAS); Python "
        f"{platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, semopy {semopy.__version__}; "
        f"R with lme4 {lag[0]['version']}, lavaan {ric[0]['version']}. Seconds are medians of {4 * reps} (lagged "
        f"model) or {reps} (RI-CLPM) repetitions; R timed in-process (data read once). Ratio = peer time / our "
        "time (> 1: we are faster).",
        "",
        f"Machine load (1-minute load average on the 2 cores) at the start / end of the run: {LOAD[0]:.1f} / "
        f"{os.getloadavg()[0]:.1f}. The machine is shared: with a load above 2 every timing (ours and R's) is "
        "inflated, and the ratios are less reliable than on an idle machine.",
        "",
        "## Lagged within/between model (REML), `lagged_model` vs `lme4::lmer`",
        "",
        "Each timed call includes the centring and lagging (base R `ave` + `merge` on the R side, as the oracle "
        "does) and the fit; ours also computes the profile-likelihood interval of the ICC. Data: "
        f"`simulate_trial(n_therapists=J, caseload=12, seed={SEED})`, sessions 1..12.",
        "",
        "| data | patients | session pairs | ours (s) | lmer default (s) | ratio | lmer tight (s) | ratio | "
        "max abs diff vs lmer tight | vs lmer default |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for d in lag:
        lines.append(f"| {d['name']} | {d['n_patients']:,} | {d['n_obs']:,} | {g(d['t_ours'])} | {g(d['t_default'])} | "
                     f"{d['t_default'] / d['t_ours']:.1f} | {g(d['t_tight'])} | {d['t_tight'] / d['t_ours']:.1f} | "
                     f"{d['max_tight']:.1e} | {d['max_default']:.1e} |")
    lines += ["", "Estimates side by side (max abs diff over every row, log-likelihood included):", ""]
    for d in lag:
        lines += [f"**{d['name']}** ({d['n_obs']:,} session pairs)", "",
                  "| quantity | ours | lmer tight | lmer default | abs diff (tight) |", "|---|---:|---:|---:|---:|"]
        for lab, o, t, dd in d["rows"]:
            lines.append(f"| {lab} | {o:.8f} | {t:.8f} | {dd:.8f} | {abs(o - t):.1e} |")
        lines.append("")
    lines += [
        "## RI-CLPM, 5 waves (ML), `riclpm` vs `lavaan` and plain semopy",
        "",
        "Ours: `riclpm` on the workbook's SEM engine (`analysis.sem.sem`: the lavaan syntax of `riclpm_syntax`, "
        "Fisher scoring with the analytic Jacobian, expected-information SEs, lavaan's fit measures). Plain semopy: `semopy.Model(riclpm_syntax(5)).fit(wide)` with "
        "its default optimiser settings (no fit indices). lavaan: the oracle's call "
        "(`lavaan(..., meanstructure = TRUE, information = \"expected\", int.ov.free = TRUE)`).",
        "",
        "| data | N | ours (s) | lavaan (s) | ratio lavaan/ours | plain semopy (s) | ratio semopy/ours | "
        "max abs diff est / SE vs lavaan: ours | plain semopy | chi2 ours | chi2 lavaan | "
        "max abs diff CFI, TLI, RMSEA, SRMR |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for d in ric:
        lines.append(
            f"| {d['name']} | {d['n']:,} | {g(d['t_ours'])} | {g(d['t_lav'])} | {d['t_lav'] / d['t_ours']:.2f} | "
            f"{g(d['t_sem'])} | {d['t_sem'] / d['t_ours']:.2f} | {d['d_est']:.1e} / {d['d_se']:.1e} | "
            f"{d['d_est_sem']:.1e} / {d['d_se_sem']:.1e} | {d['chisq'][0]:.4f} (df {d['df'][0]}) | "
            f"{d['chisq'][1]:.4f} (df {int(d['df'][1])}) | {d['fitdiff']:.1e} |")
    lines += ["", "Within-person lagged paths side by side (all 34 free parameters enter the max abs diff above):", ""]
    for d in ric:
        lines += [f"**{d['name']}** (N = {d['n']:,})", "",
                  "| path | ours | lavaan | plain semopy | SE ours | SE lavaan | abs diff est |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for key, e, se, le, lse, sve, _ in d["rows"]:
            if key[1] == "~":
                lines.append(f"| {key[0]} ~ {key[2]} | {e:.6f} | {le:.6f} | {sve:.6f} | {se:.6f} | {lse:.6f} | "
                             f"{abs(e - le):.1e} |")
        lines.append("")
    lines += [
        "Reading: our lagged model profiles the (RE)ML likelihood over one variance ratio with closed-form GLS "
        "inside; lmer's time includes building its sparse model matrices in R. The RI-CLPM runs on the "
        "workbook's SEM engine (parsing the syntax, building the matrices, start values, Fisher scoring, SEs and "
        "fit measures in each timed call); plain semopy's default optimiser stops up to "
        f"{max(d['d_est_sem'] for d in ric):.0e} away from lavaan's estimates here.",
        "",
        "## RI-CLPM by full-information ML, `riclpm(..., missing=\"ml\")` vs `lavaan(..., missing = \"ml\")`",
        "",
        "Ours: `riclpm` on the SEM engine with `missing=\"ml\"`: the casewise normal log-likelihood of "
        "`analysis.sem.missing` (per-pattern sufficient statistics, batched by pattern size, analytic gradient), "
        "maximised jointly over the 34 covariance-structure parameters and the 10 wave means by Fisher scoring, "
        "observed-information SEs (the engine's central differences of the analytic gradient), the saturated "
        "model by EM finished by Newton steps for the chi-square and SRMR, the FIML independence model for "
        "CFI/TLI. lavaan: "
        "the oracle's call (`lavaan(..., meanstructure = TRUE, int.ov.free = TRUE, missing = \"ml\")`, defaults "
        "otherwise: observed information, EM h1 model). No Python peer: semopy's `\"FIML\"` objective did not "
        "reproduce lavaan on the oracle data when it was tried, so it is not timed here. Data: the "
        "oracle's MAR-deleted data (`tests/fixtures/sessions_riclpm_missing.csv`) and sessions 1..5 of "
        f"`simulate_trial(n_therapists=250, caseload=12, seed={SEED}, dropout=\"MAR\", dropout_rate=0.4)`.",
        "",
        "| data | N used (dropped) | missing values | patterns ours / lavaan | ours (s) | lavaan (s) | "
        "ratio lavaan/ours | max abs diff est / SE (44 params) | chi2 ours | chi2 lavaan | logL ours - lavaan "
        "(model / saturated) | max abs diff CFI, TLI, RMSEA, SRMR |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for d in ml:
        lines.append(
            f"| {d['name']} | {d['n']:,} ({d['n_dropped']}) | {d['n_missing']:,} of {d['cells']:,} | "
            f"{d['n_patterns'][0]} / {d['n_patterns'][1]} | {g(d['t_ours'])} | {g(d['t_lav'])} | "
            f"{d['t_lav'] / d['t_ours']:.2f} | {d['d_est']:.1e} / {d['d_se']:.1e} | "
            f"{d['chisq'][0]:.4f} (df {d['df'][0]}) | {d['chisq'][1]:.4f} (df {int(d['df'][1])}) | "
            f"{d['loglik'][0] - d['loglik'][1]:+.1e} / {d['loglik_h1'][0] - d['loglik_h1'][1]:+.1e} | "
            f"{d['fitdiff']:.1e} |")
    lines += ["", "Lagged paths and wave means side by side (all 44 free parameters, variances and covariances "
              "included, enter the max abs diff above):", ""]
    for d in ml:
        lines += [f"**{d['name']}** (N = {d['n']:,}; converged: ours {d['converged'][0]}, lavaan "
                  f"{d['converged'][1]}; log-likelihood ours {d['loglik'][0]:.6f}, lavaan {d['loglik'][1]:.6f}"
                  + (f"; negative variances: {', '.join(d['boundary'])}" if d["boundary"] else "") + ")", "",
                  "| parameter | ours | lavaan | SE ours | SE lavaan | abs diff est | abs diff SE |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for key, e, se, le, lse in d["rows"]:
            if key[1] in ("~", "~1"):
                lab = f"{key[0]} ~ {key[2]}" if key[1] == "~" else f"{key[0]} ~ 1"
                lines.append(f"| {lab} | {e:.6f} | {le:.6f} | {se:.6f} | {lse:.6f} | {abs(e - le):.1e} | "
                             f"{abs(se - lse):.1e} |")
        lines.append("")
    worst = max(ml, key=lambda d: d["d_est"])
    lines += [
        "Reading: "
        + ("lavaan is faster here. " if all(d["t_lav"] < d["t_ours"] for d in ml) else "")
        + "Under FIML the cost of a likelihood evaluation grows with the number "
        "of missing-data patterns (batched by pattern size) more than with N: here "
        + " and ".join(f"{d['n_patterns'][0]} patterns among {d['n']:,} patients take {g(d['t_ours'])} s"
                       for d in ml) + "; our observed information is analytic in the moments, with only the model's curvature "
        "differenced (2 x 44 Jacobian calls, no likelihood calls); lavaan differences its gradient. Our time on "
        "the 3,000 patients is mostly the engine's Fisher scoring (about 80 iterations there along a flat "
        "direction). Largest estimate difference: "
        f"{worst['d_est']:.1e} on {worst['name']}, with the log-likelihood "
        f"{'higher' if worst['loglik'][0] >= worst['loglik'][1] else 'lower'} on our side by "
        f"{abs(worst['loglik'][0] - worst['loglik'][1]):.1e}: "
        + ("lavaan's optimizer stops slightly short of the maximum along a flat direction of the likelihood "
           "(the difference is far below the SEs of the paths concerned)."
           if worst["loglik"][0] >= worst["loglik"][1] else
           "our optimizer stops slightly short of lavaan's maximum."),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "sessions.md"))
    a = ap.parse_args()
    if a.reps < 1:
        raise ValueError("`--reps` must be at least 1.")
    tmp = Path(tempfile.mkdtemp())
    data = {k: sessions_of(J) for k, J in TRIALS.items()}
    lag = []
    for k in ("small", "large"):
        lag.append(bench_lagged(data[k], 4 * a.reps, tmp, f"{k} trial"))
        print("lagged", k, {x: lag[-1][x] for x in ("t_ours", "t_default", "t_tight", "max_tight")}, flush=True)
    fixture = json.loads((ROOT / "tests" / "fixtures" / "sessions.json").read_text())
    wide_fix = pd.DataFrame(fixture["riclpm"]["wide"]).drop(columns="id")
    big = data["large"][data["large"]["session"].between(1, 5)]
    wide_big = big.pivot(index="patient", columns="session", values=["alliance", "symptom"])
    wide_big.columns = [f"{'x' if v == 'alliance' else 'y'}{t}" for v, t in wide_big.columns]
    wide_big = wide_big.dropna().reset_index(drop=True)
    ric = []
    for name, wide in (("oracle data", wide_fix), ("large trial, sessions 1-5", wide_big)):
        ric.append(bench_riclpm(wide, a.reps, tmp, name.split()[0]))
        ric[-1]["name"] = name
        print("riclpm", name, {x: ric[-1][x] for x in ("t_ours", "t_lav", "t_sem", "d_est", "d_se")}, flush=True)
    wide_miss = pd.read_csv(ROOT / "tests" / "fixtures" / "sessions_riclpm_missing.csv").drop(columns="id")
    drop = sessions_of(TRIALS["large"], dropout="MAR", dropout_rate=0.4)
    drop = drop[drop["session"].between(1, 5)]
    wide_drop = drop.pivot(index="patient", columns="session", values=["alliance", "symptom"])
    wide_drop.columns = [f"{'x' if v == 'alliance' else 'y'}{t}" for v, t in wide_drop.columns]
    ml = []
    for name, wide in (("oracle data, MAR-deleted", wide_miss),
                       ("large trial with MAR dropout, sessions 1-5", wide_drop.reset_index(drop=True))):
        ml.append(bench_riclpm_ml(wide, a.reps, tmp, name.split(",")[0].split()[0]))
        ml[-1]["name"] = name
        print("riclpm ml", name, {x: ml[-1][x] for x in ("t_ours", "t_lav", "d_est", "d_se")}, flush=True)
    text = report(lag, ric, ml, a.reps)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(text)
    print(json.dumps({"written": a.out}))


if __name__ == "__main__":
    main()
