"""Speed of our REML random-effects fit against metafor's ``rma`` and PyMARE.

Not a test. Run from the repository root:

    .venv/bin/python benchmarks/bench_meta.py [--pymare-python PATH] [--reps N]

The same simulated data (seed 20240601; yi = 0.3 + u + e, tau = 0.2,
vi ~ U(0.01, 0.1)) is fitted at k = 30, 300, 3000 by

- ours: ``analysis.meta.meta_analysis(yi, vi, method="REML")``;
- metafor: ``rma(yi, vi, method = "REML", control = list(threshold = 1e-12,
  maxiter = 10000, tol = 1e-14))`` timed in-process in R (``benchmarks/bench_meta.R``:
  a loop of ``reps`` calls inside ``system.time``, best of 5, so R's start-up is not
  counted; at k = 3000 a single fit, as one takes minutes);
- PyMARE: ``pymare.estimators.VarianceBasedLikelihoodEstimator(method="REML").fit(...)``
  in the Python given by ``--pymare-python`` (a throw-away venv, since PyMARE is not a
  project dependency); skipped with a note when unavailable.

Times are the median seconds per fit over ``reps`` (repeated 5 times, best
median kept). The estimates of tau^2 are printed next to the times so that a
speed-up never hides a different answer. Results go to
``benchmarks/results/meta.md``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.meta import meta_analysis  # noqa: E402

KS = (30, 300, 3000)
SEED = 20240601


def simulate(k: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """yi = 0.3 + N(0, 0.2^2) + N(0, vi), vi ~ U(0.01, 0.1)."""
    rng = np.random.default_rng(seed + k)
    vi = rng.uniform(0.01, 0.1, k)
    yi = 0.3 + rng.normal(0, 0.2, k) + rng.normal(0, np.sqrt(vi))
    return yi, vi


def reps_for(k: int, reps: int) -> int:
    return max(3, reps // (1 if k <= 300 else 10))


def time_ours(yi, vi, n: int) -> tuple[float, float]:
    best = float("inf")
    for _ in range(5):
        ts = []
        for _ in range(n):
            t0 = time.perf_counter()
            res = meta_analysis(yi, vi, method="REML")
            ts.append(time.perf_counter() - t0)
        best = min(best, statistics.median(ts))
    return best, res.tau2


R_SCRIPT = ROOT / "benchmarks" / "bench_meta.R"

PYMARE_CODE = r"""
import sys, time, statistics, numpy as np
from pymare.estimators import VarianceBasedLikelihoodEstimator
d = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1); n = int(sys.argv[2])
y, v = d[:, 0][:, None], d[:, 1][:, None]; X = np.ones_like(y)
est = VarianceBasedLikelihoodEstimator(method="REML").fit(y=y, v=v, X=X)
best = float("inf")
for _ in range(5):
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        VarianceBasedLikelihoodEstimator(method="REML").fit(y=y, v=v, X=X)
        ts.append(time.perf_counter() - t0)
    best = min(best, statistics.median(ts))
print(best, float(np.ravel(est.params_["tau2"])[0]))
"""


def run_external(cmd: list[str], code: str | Path, suffix: str, csv: Path, n: int,
                 extra: tuple[str, ...] = ()) -> tuple[float, float] | str:
    if isinstance(code, Path):
        script = str(code)
    else:
        with tempfile.NamedTemporaryFile("w", suffix=suffix, delete=False) as fh:
            fh.write(code)
        script = fh.name
    try:
        out = subprocess.run(cmd + [script, str(csv), str(n), *extra], capture_output=True, text=True, timeout=3600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"not run ({exc})"
    if out.returncode != 0:
        return f"failed: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else out.returncode}"
    t, tau2 = out.stdout.split()[-2:]
    return float(t), float(tau2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pymare-python", default="/tmp/pymare-venv/bin/python")
    ap.add_argument("--reps", type=int, default=50)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "meta.md"))
    a = ap.parse_args()
    have_pymare = Path(a.pymare_python).exists() and subprocess.run(
        [a.pymare_python, "-c", "import pymare"], capture_output=True).returncode == 0
    rows = []
    tmp = Path(tempfile.mkdtemp())
    for k in KS:
        yi, vi = simulate(k)
        csv = tmp / f"k{k}.csv"
        np.savetxt(csv, np.column_stack([yi, vi]), delimiter=",", header="yi,vi", comments="", fmt="%.17g")
        n = reps_for(k, a.reps)
        ours = time_ours(yi, vi, n)
        # metafor needs minutes per fit at k = 3000: one timed fit there
        r_n, r_runs = (n, 5) if k <= 300 else (1, 1)
        r = run_external(["Rscript"], R_SCRIPT, ".R", csv, r_n, (str(r_runs),))
        pm = run_external([a.pymare_python], PYMARE_CODE, ".py", csv, n) if have_pymare else "not installed"
        rows.append((k, ours, r, pm))
        print(k, ours, r, pm, flush=True)
    lines = [
        "# Meta-analysis speed: REML random-effects fit",
        "",
        "Made by `benchmarks/bench_meta.py` (not a test); median seconds per fit, best of 5 runs.",
        f"Machine: {platform.machine()}, {platform.python_version()}, 2 cores. Ratio = peer time / our time "
        "(> 1: we are faster).",
        "",
        "| k | ours (s) | metafor rma (s) | ratio metafor/ours | PyMARE (s) | ratio PyMARE/ours | tau2 ours | tau2 metafor | tau2 PyMARE |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for k, (t_o, tau_o), r, pm in rows:
        rt, rtau = (r if isinstance(r, tuple) else (None, None))
        pt, ptau = (pm if isinstance(pm, tuple) else (None, None))
        lines.append(
            f"| {k} | {t_o:.2e} | {rt if rt is None else f'{rt:.2e}'} | "
            f"{'n/a' if rt is None else f'{rt / t_o:.1f}'} | {pm if pt is None else f'{pt:.2e}'} | "
            f"{'n/a' if pt is None else f'{pt / t_o:.1f}'} | {tau_o:.10f} | "
            f"{'n/a' if rtau is None else f'{rtau:.10f}'} | {'n/a' if ptau is None else f'{ptau:.10f}'} |"
        )
    lines += ["", "metafor builds k x k weight matrices (`diag(wi)`), so its time grows with k^2; ours is O(k) per "
              "iteration. PyMARE was installed from PyPI into a throw-away venv (not a project dependency)."
              if have_pymare else "", ""]
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text("\n".join(lines))
    print(json.dumps({"written": a.out}))


if __name__ == "__main__":
    main()
