"""Speed of the SEM engine (``analysis.sem.sem``) against lavaan.

Not a test. Run from the repository root:

    .venv/bin/python benchmarks/bench_sem.py [--reps 10]

1. CFA, complete data: ``sem(model, X)`` against ``lavaan::cfa(model, data = X, estimator =
   "ML")`` for the three-factor WAI-SR model (task 1, 2, 10, 12; bond 3, 5, 7, 9; goal 4, 6, 8,
   11; 3 factors x 4 items, marker identification) on
   ``analysis.simulate.simulate_wai_sr_items(20000, seed=11)`` (N = 20,000) and on the oracle's
   items (tests/fixtures/psychometrics_items.csv, complete cases, N = 397).
2. Measurement invariance, 3 steps (configural, metric = equal loadings, scalar = equal
   loadings and intercepts), 2 groups: ``sem(model, X, group="group", group_equal=...)`` three
   times against the same three ``lavaan::cfa(..., group = "group", group.equal = ...)`` fits
   (one timed repetition = the three fits on both sides); simulated N = 20,000 (first 10,000
   "A", the rest "B") and the oracle's items (groups A/B, N = 397).

Both sides return estimates, standard errors (expected information) and the test statistic
with its baseline model; our fit measures are computed inside ``sem()``, lavaan's
``fitMeasures`` is called outside the timing (its baseline model is fitted inside ``cfa()``).
R is timed in-process (``benchmarks/bench_sem.R``; data read once). Times are medians of
``--reps`` repetitions after one untimed warm-up call on the Python side. Ratio = lavaan time /
our time (> 1: we are faster). Estimates side by side: maximum absolute difference over all
parameters. Writes ``benchmarks/results/sem.md``.
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

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.sem import sem  # noqa: E402
from analysis.simulate import simulate_wai_sr_items  # noqa: E402
from _timing import cpu, median_time  # noqa: E402

R_SCRIPT = ROOT / "benchmarks" / "bench_sem.R"
N_SIM, SEED = 20_000, 11
KEY = {"task": [1, 2, 10, 12], "bond": [3, 5, 7, 9], "goal": [4, 6, 8, 11]}
STEPS = {"configural": [], "metric": ["loadings"], "scalar": ["loadings", "intercepts"]}


def model_for(prefix: str) -> str:
    return "\n".join(f"{f} =~ " + " + ".join(f"{prefix}{j}" for j in js) for f, js in KEY.items())


def run_r(args: list[str]) -> dict:
    out = subprocess.run(["Rscript", str(R_SCRIPT), *args], capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout)


def max_diff(res, r: dict) -> float:
    pe = res.parameter_estimates(standardized=False)
    ref = pd.DataFrame({k: r[k] for k in ("lhs", "op", "rhs", "group", "est")})
    ref["rhs"] = ref["rhs"].fillna("")
    pe["gk"] = pe["group_label"].astype(str) if res.n_groups > 1 else ""
    ref["gk"] = ref["group"].astype(str) if res.n_groups > 1 else ""
    m = pe.merge(ref, on=["lhs", "op", "rhs", "gk"])
    return float(np.max(np.abs(m["estimate"] - m["est"])))


def quiet(fn):
    def wrapped():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn()
    return wrapped


def bench_cfa(X: pd.DataFrame, model: str, reps: int, csv: Path, name: str) -> dict:
    X.to_csv(csv, index=False)
    fn = quiet(lambda: sem(model, X))
    res = fn()  # warm-up
    ours = median_time(fn, reps)
    r = run_r(["cfa", str(csv), str(reps), model])
    return {"task": f"CFA 3x4, {name}", "n": len(X), "ours": ours, "lavaan": float(np.median(r["times"])),
            "diff": max_diff(res, r), "chisq": (res.fit["chisq"], r["fit"]["chisq"]), "version": r["version"]}


def bench_invariance(X: pd.DataFrame, model: str, reps: int, csv: Path, name: str) -> dict:
    X.to_csv(csv, index=False)
    fn = quiet(lambda: {k: sem(model, X, group="group", group_equal=v) for k, v in STEPS.items()})
    res = fn()
    ours = median_time(fn, reps)
    r = run_r(["invariance", str(csv), str(reps), model])
    diff = max(max_diff(res[k], r["steps"][k]) for k in STEPS)
    chis = tuple(round(res[k].fit["chisq"] - r["steps"][k]["fit"]["chisq"], 8) for k in STEPS)
    return {"task": f"invariance 3 steps, 2 groups, {name}", "n": len(X), "ours": ours,
            "lavaan": float(np.median(r["times"])), "diff": diff, "chisq": chis, "version": r["version"]}


#: 1-minute load average when the run started (reported beside the timings)
LOAD = [os.getloadavg()[0]]


def main() -> None:
    LOAD[0] = os.getloadavg()[0]
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "sem.md"))
    args = ap.parse_args()
    sim = simulate_wai_sr_items(N_SIM, seed=SEED).items.astype(float)
    sim_g = sim.assign(group=np.where(np.arange(len(sim)) < N_SIM // 2, "A", "B"))
    items = [f"i{k}" for k in range(1, 13)]
    ora = pd.read_csv(ROOT / "tests" / "fixtures" / "psychometrics_items.csv").dropna(subset=items)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        rows.append(bench_cfa(ora[items], model_for("i"), args.reps, tmp / "a.csv", "oracle items"))
        rows.append(bench_cfa(sim, model_for("wai"), args.reps, tmp / "b.csv", "simulated"))
        rows.append(bench_invariance(ora[items + ["group"]], model_for("i"), args.reps, tmp / "c.csv",
                                     "oracle items"))
        rows.append(bench_invariance(sim_g, model_for("wai"), max(1, args.reps // 2), tmp / "d.csv", "simulated"))
    lines = [
        "# SEM engine (analysis.sem) vs lavaan",
        "",
        f"Made by `benchmarks/bench_sem.py` (not a test). Machine: {cpu()}, 2 cores, "
        f"BLAS threads {os.environ.get('OPENBLAS_NUM_THREADS')}; Python {platform.python_version()}, "
        f"lavaan {rows[0]['version']}; {args.reps} repetitions (simulated invariance: {max(1, args.reps // 2)}), "
        "medians.",
        "",
        f"Machine load (1-minute load average on the 2 cores) at the start / end of the run: {LOAD[0]:.1f} / "
        f"{os.getloadavg()[0]:.1f}. With a load above 2 both sides' times are inflated and the ratios are noisy.",
        "",
        "| task | N | ours (s) | lavaan (s) | ratio lavaan/ours | max abs diff est | chisq (ours, lavaan or diff) |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(f"| {r['task']} | {r['n']:,} | {r['ours']:.4f} | {r['lavaan']:.4f} | "
                     f"{r['lavaan'] / r['ours']:.2f} | {r['diff']:.1e} | {r['chisq']} |")
    lines += ["", "Ours: lavaan syntax parsed and turned into matrices, Fisher scoring on the analytic gradient "
              "and expected information (analysis/sem/estimate.py), standard errors, fit measures with the "
              "baseline model, all inside `sem()`."]
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
