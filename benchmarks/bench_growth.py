"""Benchmark: growth model (random intercept and slope of time) vs lme4::lmer.

    .venv/bin/python benchmarks/bench_growth.py [--reps 5]

3,000 simulated patients x 12 sessions (36,000 rows; treatment x time interaction,
correlated random intercepts and slopes), fitted by ``analysis.growth.growth_model``
(REML; BLUPs, residuals and fit statistics included) and by
``lmer(y ~ time * arm + (time | patient), REML = TRUE)`` with lme4's default settings on
the same CSV, timed in-process in R (data read once; median of the repetitions). Also
the Beat the Blues model of HSAUR3 (97 patients) for the small-data overhead.

Writes benchmarks/results/growth.md. Timings depend on the machine; the ratio (lmer time /
ours; above 1 means faster) is the number to read. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.growth import growth_model  # noqa: E402
from _timing import cpu, median_time  # noqa: E402  (benchmarks/ is sys.path[0])

ROOT = Path(__file__).resolve().parents[1]

R_CODE = r"""
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); reps <- as.integer(args[2]); form <- as.formula(args[3])
d$patient <- factor(d$patient)
times <- numeric(reps)
for (i in seq_len(reps)) {
  t0 <- proc.time()[["elapsed"]]
  fit <- lmer(form, data = d, REML = TRUE)
  times[i] <- proc.time()[["elapsed"]] - t0
}
vc <- as.data.frame(VarCorr(fit))
cat(toJSON(list(times = times, fixef = as.list(fixef(fit)), vcov = vc$vcov, loglik = as.numeric(logLik(fit)),
                version = as.character(packageVersion("lme4"))), digits = NA, auto_unbox = TRUE))
"""


def make_data(n_patients: int = 3000, sessions: int = 12, seed: int = 2026) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pid = np.repeat(np.arange(n_patients), sessions)
    t = np.tile(np.arange(sessions, dtype=float), n_patients)
    arm = (rng.random(n_patients) < 0.5).astype(float)[pid]
    G = np.array([[16.0, -1.0], [-1.0, 0.36]])
    u = rng.multivariate_normal([0, 0], G, n_patients)[pid]
    y = 18 + u[:, 0] + (-0.6 - 0.3 * arm + u[:, 1]) * t + rng.normal(0, 3, len(t))
    return pd.DataFrame({"patient": pid, "time": t, "arm": arm, "y": y})


def btheb_long() -> pd.DataFrame:
    fix = json.loads((ROOT / "tests" / "fixtures" / "growth_lme4.json").read_text())
    return pd.DataFrame(fix["btheb"]["data"]).rename(columns={"subject": "patient", "bdi": "y"})


def run_r(d: pd.DataFrame, reps: int, formula: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.csv"
        d.to_csv(path, index=False)
        out = subprocess.run(["Rscript", "-e", R_CODE, str(path), str(reps), formula],
                             capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main(reps: int) -> str:
    rows = []
    cases = [
        ("3,000 patients x 12 sessions", make_data(), dict(covariates=["arm"], time_by=["arm"]),
         "y ~ time * arm + (time | patient)"),
        ("Beat the Blues (97 patients, 280 rows)", btheb_long(),
         dict(covariates=["bdi_pre", "btheb", "drug", "length6"]),
         "y ~ bdi_pre + time + btheb + drug + length6 + (time | patient)"),
    ]
    for label, d, kw, formula in cases:
        fit = growth_model(d, "y", "time", "patient", **kw)
        ours = median_time(lambda: growth_model(d, "y", "time", "patient", **kw), reps)
        r = run_r(d, reps, formula)
        t_r = float(np.median(r["times"]))
        est = fit.coefficients["estimate"]
        names = {"(Intercept)": "(Intercept)", "arm": "arm", "time:arm": "time:arm"}
        diff_b = float(max(abs(est[names.get(k, k)] - v) for k, v in r["fixef"].items()))
        ours_vc = fit.variance_components["variance"].to_numpy()
        diff_v = float(np.max(np.abs(ours_vc - np.asarray(r["vcov"])) / np.maximum(np.abs(r["vcov"]), 1e-12)))
        rows.append((label, ours, t_r, t_r / ours, diff_b, diff_v, fit.loglik - r["loglik"], r["version"]))
    lines = [
        "# Growth model vs lme4::lmer",
        "",
        f"Machine: {cpu()}; Python {platform.python_version()}; lme4 {rows[0][-1]}; "
        f"one BLAS thread; median of {reps} runs.",
        "",
        "| data | ours (s) | lmer (s) | ratio lmer/ours | max abs diff fixed effects | max rel diff variances | logLik ours - lmer |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, ours, t_r, ratio, db, dv, dl, _ in rows:
        lines.append(f"| {label} | {ours:.3f} | {t_r:.3f} | {ratio:.2f} | {db:.1e} | {dv:.1e} | {dl:.1e} |")
    lines += ["", "lmer runs with its defaults (bobyqa, its own stopping rule), so the estimates agree to the",
              "precision of its stopping rule; the tests compare with a tightly converged lmer at 1e-4."]
    text = "\n".join(lines) + "\n"
    (ROOT / "benchmarks" / "results" / "growth.md").write_text(text)
    return text


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=5)
    print(main(ap.parse_args().reps))
