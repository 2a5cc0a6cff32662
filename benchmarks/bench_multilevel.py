"""Benchmark: random-intercept fit vs lme4::lmer, and the simulator's speed.

    .venv/bin/python benchmarks/bench_multilevel.py [--reps 7]

1. A random-intercept model with two covariates on 10,000 patients in 500
   therapists (unequal caseloads), fitted by ``analysis.multilevel.therapist_effect``
   (profiled REML engine, ICC profile interval and BLUPs included) and by statsmodels
   MixedLM (one "lbfgs" fit), against ``lme4::lmer`` with its default settings on the
   same CSV, timed in-process in R (data read once, median of the repetitions).
2. ``simulate_trial`` drawing 100,000 patient-sessions (8,334 patients x 12 sessions).

Writes benchmarks/results/multilevel.md. Timings depend on the machine; the ratio
is the number to read. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import tempfile
import warnings
from pathlib import Path

# One BLAS thread, as R's reference BLAS here, so that a busy machine does not distort the ratio
# (see bench_sessions.py). Override from the shell.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.multilevel import therapist_effect
from analysis.simulate import simulate_trial
from _timing import median_time  # noqa: E402  (benchmarks/ is sys.path[0])

ROOT = Path(__file__).resolve().parents[1]

R_CODE = r"""
suppressPackageStartupMessages({library(lme4); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); reps <- as.integer(args[2])
d$therapist <- factor(d$therapist)
times <- numeric(reps)
for (i in seq_len(reps)) {
  t0 <- proc.time()[["elapsed"]]
  fit <- lmer(y ~ x1 + x2 + (1 | therapist), data = d, REML = TRUE)
  times[i] <- proc.time()[["elapsed"]] - t0
}
vc <- as.data.frame(VarCorr(fit))
cat(toJSON(list(times = times, fixef = unname(fixef(fit)), tau2 = vc$vcov[1], sigma2 = vc$vcov[2],
                version = as.character(packageVersion("lme4"))), digits = NA, auto_unbox = TRUE))
"""


def make_data(seed: int = 2024) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    J, N = 500, 10_000
    # unequal caseloads: multinomial over therapists with gamma weights, each >= 1
    w = rng.gamma(2.0, 1.0, J)
    n = 1 + rng.multinomial(N - J, w / w.sum())
    th = np.repeat(np.arange(J), n)
    x1 = rng.normal(16, 4, N)
    x2 = rng.integers(0, 2, N).astype(float)
    y = 4 + 0.5 * x1 - 1.0 * x2 + rng.normal(0, 1.2, J)[th] + rng.normal(0, 5, N)
    return pd.DataFrame({"therapist": th, "x1": x1, "x2": x2, "y": y})


def main(reps: int) -> str:
    d = make_data()
    fit = therapist_effect(d, "y", "therapist", ["x1", "x2"])
    t_profile = median_time(lambda: therapist_effect(d, "y", "therapist", ["x1", "x2"]), reps)

    import statsmodels.formula.api as smf

    def mixedlm_once():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return smf.mixedlm("y ~ x1 + x2", d, groups=d["therapist"]).fit(reml=True, method="lbfgs")

    t_mixedlm = median_time(mixedlm_once, max(1, min(reps, 3)))

    with tempfile.TemporaryDirectory() as tmp:
        csv, rfile = Path(tmp) / "bench.csv", Path(tmp) / "bench.R"
        d.to_csv(csv, index=False)
        rfile.write_text(R_CODE)
        out = subprocess.run(["Rscript", str(rfile), str(csv), str(reps)], capture_output=True, text=True,
                             check=True)
        r = json.loads(out.stdout)
    t_lmer = float(np.median(r["times"]))
    d_fe = np.max(np.abs(fit.fixed["estimate"].to_numpy() - np.array(r["fixef"])) / np.abs(r["fixef"]))
    d_tau = abs(fit.therapist_var - r["tau2"]) / r["tau2"]
    d_sig = abs(fit.residual_var - r["sigma2"]) / r["sigma2"]

    # simulator: 8,334 patients x 12 sessions = 100,008 patient-sessions (plus intake rows)
    t_sim = median_time(lambda: simulate_trial(n_therapists=926, caseload=9, seed=1), reps)
    n_ps = 926 * 9 * 12

    lines = [
        "# Multilevel benchmark",
        "",
        f"Made by `benchmarks/bench_multilevel.py` (median of {reps} runs; {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}, lme4 {r['version']}, BLAS threads "
        f"{os.environ['OPENBLAS_NUM_THREADS']}). Timings vary by machine; read the ratios.",
        "",
        "## Random intercept, two covariates, 10,000 patients in 500 therapists (REML)",
        "",
        "| fit | seconds | ratio (peer time / ours; above 1: the workbook is faster) |",
        "|---|---|---|",
        f"| analysis.multilevel.therapist_effect (profiled REML, with ICC profile CI and BLUPs) | "
        f"{t_profile:.4f} | 1.00 |",
        f"| lme4::lmer (default settings, in-process in R) | {t_lmer:.4f} | {t_lmer / t_profile:.1f} |",
        f"| statsmodels MixedLM (one lbfgs fit) | {t_mixedlm:.4f} | {t_mixedlm / t_profile:.1f} |",
        "",
        f"Agreement with lmer on these data: fixed effects max relative difference {d_fe:.2e}, "
        f"therapist variance {d_tau:.2e}, residual variance {d_sig:.2e} (lmer's default convergence "
        "tolerance, not the tightened one of the test oracle).",
        "",
        "## Simulator",
        "",
        f"`simulate_trial(n_therapists=926, caseload=9)`: {n_ps:,} patient-sessions in {t_sim:.3f} s "
        "(goal: under 2 s on one core).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="Benchmark the multilevel fits against lme4.")
    ap.add_argument("--reps", type=int, default=7)
    text = main(ap.parse_args().reps)
    out = ROOT / "benchmarks" / "results" / "multilevel.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(text)
