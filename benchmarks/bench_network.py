"""Speed of the network meta-analysis against metafor's ``rma.mv`` with the same model.

Not a test. Run from the repository root:

    .venv/bin/python benchmarks/bench_network.py [--reps 20]

Model (tests/oracles/network.R, notebook 02): contrast-based random-effects network under
consistency, one common tau^2, REML,

- ours: ``analysis.network.network_meta_analysis(cd, reference=REF)`` on
  ``cd = arm_to_contrast(arms, ...)`` (the conversion is done once, outside the timing);
- metafor: ``rma.mv(yi, V, mods = ~ 0 + X, random = ~ comp | study, rho = 1/2,
  method = "REML")`` on the very same yi, V and X (written by this script and read once by
  ``benchmarks/bench_network.R``), timed in-process with metafor's default control (the ratio
  to read) and with the oracle's tight control (``rel.tol = 1e-12``; the estimates compared).

Data: ``dat.lopez2019`` (data/raw; ``arm_to_contrast(lop, yi="diff", sei="se", order=ORDER)``
as in notebook 02; 76 studies, 7 treatments, reference TAU) and two synthetic networks of 10
treatments (seed 20190601): 150 and 300 studies, a fifth of them three-arm, arm effects
``mu_s + d_t + delta_st`` with ``delta_st ~ N(0, tau^2/2)`` (which gives exactly the rho = 1/2
structure), tau^2 = 0.04, arm variances ~ U(0.01, 0.08).

Times are medians over ``--reps`` repetitions (one untimed warm-up call first on the Python
side; fewer repetitions for the largest network, where one metafor fit takes seconds). Ratio =
metafor time / our time (> 1: we are faster). Estimates (coefficients, SEs, tau^2,
log-likelihood) side by side with their maximum absolute difference. Writes
``benchmarks/results/network.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

# One BLAS thread, as R's reference BLAS on this machine: with OpenBLAS's default threading,
# semopy's many small matrix products ran up to ~90x slower whenever another process was using the
# cores (seen here on 2 cores), which would make the timings meaningless. Override from the shell.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analysis.network import arm_to_contrast, network_meta_analysis  # noqa: E402
from _timing import cpu, median_time  # noqa: E402  (benchmarks/ is sys.path[0])

R_SCRIPT = ROOT / "benchmarks" / "bench_network.R"
LOPEZ_ORDER = ["TAU", "No treatment", "Wait list", "Placebo", "F2F CBT", "Hybrid CBT", "Multimedia CBT"]
SEED = 20190601
SYNTH = (150, 300)  # studies


def synthetic_arms(n_studies: int, n_treat: int = 10, tau2: float = 0.04, seed: int = SEED) -> pd.DataFrame:
    """Arm-level data of a random connected network (every study has at least two treatments)."""
    rng = np.random.default_rng(seed + n_studies)
    trts = [f"T{j:02d}" for j in range(n_treat)]
    d = np.concatenate([[0.0], rng.normal(0.3, 0.25, n_treat - 1)])
    rows = []
    for s in range(n_studies):
        n_arms = 3 if rng.random() < 0.2 else 2
        # half the studies include the reference; the others compare active treatments
        pool = np.arange(n_treat) if rng.random() < 0.5 else np.arange(1, n_treat)
        picked = rng.choice(pool, size=n_arms, replace=False)
        if s < n_treat - 1:  # make sure every treatment meets the reference at least once
            picked = np.array([0, s + 1] + ([int(rng.integers(1, n_treat))] if n_arms == 3 else []))
            picked = np.unique(picked)
        mu = rng.normal(-0.5, 0.3)
        for t in picked:
            v = rng.uniform(0.01, 0.08)
            y = mu + d[t] + rng.normal(0, np.sqrt(tau2 / 2)) + rng.normal(0, np.sqrt(v))
            rows.append({"study": f"S{s:04d}", "treatment": trts[t], "yi": y, "vi": v})
    return pd.DataFrame(rows)


def run_r(cd, res, tmp: Path, name: str, reps: int) -> dict:
    d = cd.data
    X = pd.DataFrame(res.X, columns=[f"X_{n}" for n in res.coef_names])
    csv, vcsv = tmp / f"{name}.csv", tmp / f"{name}_V.csv"
    pd.concat([d[["study", "comp", "yi"]].reset_index(drop=True), X], axis=1).to_csv(csv, index=False)
    np.savetxt(vcsv, cd.V, delimiter=",", fmt="%.17g")
    out = subprocess.run(["Rscript", str(R_SCRIPT), str(csv), str(vcsv), "REML", str(reps)], capture_output=True,
                         text=True, timeout=3600)
    if out.returncode != 0:
        raise RuntimeError(f"Rscript failed on {name}:\n{out.stderr}")
    return json.loads(out.stdout)


def bench(name: str, cd, reference: str, reps: int, tmp: Path) -> dict:
    call = lambda: network_meta_analysis(cd, reference=reference)  # noqa: E731
    res = call()
    t_ours = median_time(call, reps)
    r = run_r(cd, res, tmp, name.split()[0], reps)
    names = [re.sub(r"^X?X_", "", n) for n in r["tight"]["names"]]  # metafor: "X" + column name
    if names != list(res.coef_names):
        raise RuntimeError(f"{name}: coefficient names differ: {names} vs {res.coef_names}")
    rows = []
    for j, n in enumerate(res.coef_names):
        rows.append((f"beta {n}", float(res.beta[j]), r["tight"]["beta"][j], r["default"]["beta"][j]))
        rows.append((f"SE {n}", float(res.se[j]), r["tight"]["se"][j], r["default"]["se"][j]))
    rows += [("tau^2", res.tau2, r["tight"]["tau2"], r["default"]["tau2"]),
             ("REML log-likelihood", res.loglik, r["tight"]["loglik"], r["default"]["loglik"])]
    return dict(name=name, k=res.k, studies=cd.data["study"].nunique(), p=len(res.coef_names), t_ours=t_ours,
                t_default=float(np.median(r["default"]["times"])), t_tight=float(np.median(r["tight"]["times"])),
                control=r["tight"]["control"], rows=rows, converged=res.converged,
                max_tight=max(abs(o - t) for _, o, t, _ in rows), max_default=max(abs(o - d) for _, o, _, d in rows),
                version=r["version"], reps=reps)


def g(v: float) -> str:
    return f"{v:.3e}" if v < 0.01 else f"{v:.4f}"


def report(results: list[dict]) -> str:
    lines = [
        "# Network meta-analysis: `network_meta_analysis` vs metafor `rma.mv`",
        "",
        f"Made by `benchmarks/bench_network.py` (not a test). Machine: {cpu()}, 2 cores (BLAS threads: "
        f"{os.environ['OPENBLAS_NUM_THREADS']}; R links Debian's single-threaded reference BLAS); Python "
        f"{platform.python_version()}, numpy {np.__version__}, scipy {__import__('scipy').__version__}; R with metafor "
        f"{results[0]['version']}. Model: contrast-based consistency model, one common tau^2 (REML), "
        "`rma.mv(yi, V, mods = ~ 0 + X, random = ~ comp | study, rho = 1/2)` on the same yi, V and X. Seconds are "
        "medians of the repetitions; metafor timed in-process (data read once). Ratio = metafor time / our time "
        "(> 1: we are faster).",
        "",
        "| network | studies | contrasts k | coefficients | reps | ours (s) | rma.mv default (s) | ratio | "
        "rma.mv tight (s) | ratio | max abs diff vs tight | vs default |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for d in results:
        lines.append(
            f"| {d['name']} | {d['studies']} | {d['k']} | {d['p']} | {d['reps']} | {g(d['t_ours'])} | "
            f"{g(d['t_default'])} | {d['t_default'] / d['t_ours']:.1f} | {g(d['t_tight'])} | "
            f"{d['t_tight'] / d['t_ours']:.1f} | {d['max_tight']:.1e} | {d['max_default']:.1e} |")
    lines += ["", "The tight metafor control is the oracle's `list(rel.tol = 1e-12, iter.max = 10000)`"
              + ("" if all(d["control"] == "nlminb rel.tol 1e-12" for d in results) else
                 "; where nlminb did not converge at that tolerance the oracle's fallback was used: "
                 + ", ".join(f"{d['name']}: {d['control']}" for d in results))
              + ". The max abs diff runs over every coefficient, SE, tau^2 and the log-likelihood.", ""]
    for d in results:
        lines += [f"**{d['name']}** (k = {d['k']})", "",
                  "| quantity | ours | rma.mv tight | rma.mv default | abs diff (tight) |", "|---|---:|---:|---:|---:|"]
        for lab, o, t, dd in d["rows"]:
            lines.append(f"| {lab} | {o:.9f} | {t:.9f} | {dd:.9f} | {abs(o - t):.1e} |")
        lines.append("")
    lines += [
        "Reading: ours maximises the exact (RE)ML log-likelihood over the single parameter tau^2 (a grid, then "
        "Brent; dense Cholesky of the k x k marginal covariance per evaluation); `rma.mv` is a general "
        "multivariate mixed-model fitter (nlminb over the variance components, with many more checks and "
        "outputs). Both use dense k x k matrices here; the ratio grows with k, so per-evaluation cost, not only "
        "fixed overhead, differs.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "network.md"))
    a = ap.parse_args()
    if a.reps < 1:
        raise ValueError("`--reps` must be at least 1.")
    tmp = Path(tempfile.mkdtemp())
    lop = pd.read_csv(ROOT / "data" / "raw" / "dat.lopez2019.csv")
    results = [bench("dat.lopez2019", arm_to_contrast(lop, yi="diff", sei="se", order=LOPEZ_ORDER), "TAU",
                     a.reps, tmp)]
    print(results[-1]["name"], g(results[-1]["t_ours"]), g(results[-1]["t_default"]), results[-1]["max_tight"],
          flush=True)
    for n in SYNTH:
        arms = synthetic_arms(n)
        cd = arm_to_contrast(arms, vi="vi", order=sorted(arms["treatment"].unique()))
        reps = a.reps if n <= 200 else max(3, a.reps // 4)
        results.append(bench(f"synthetic {n} studies", cd, "T00", reps, tmp))
        print(results[-1]["name"], g(results[-1]["t_ours"]), g(results[-1]["t_default"]), results[-1]["max_tight"],
              flush=True)
    text = report(results)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(text)
    print(json.dumps({"written": a.out}))


if __name__ == "__main__":
    main()
