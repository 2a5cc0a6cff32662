"""Benchmark: Monte Carlo power, batched replicates vs one by one, 1 vs 2 workers, local vs Dask.

    .venv/bin/python benchmarks/bench_power.py [--replicates 1000] [--repeats 3]
        [--compare-replicates 200] [--workers-replicates 20000] [--big-replicates 100000]
        [--dask-replicates 20000]

Design: 60 therapists x 5 patients (300 patients, therapists nested in arms, d = 0.3,
therapist ICC .05), each replicate analysed with the therapist model
(``treatment_multilevel``: post ~ pre + arm, random therapist intercept, profiled REML).

1. The batched path (default of ``simulate_power``): ``--replicates`` replicates in one
   process (goal: 1,000 in < 0.5 s on one core), against the one-by-one path
   (``batched=False``) on the first ``--compare-replicates`` replicates of the same seed,
   timed in the same session (the speed-up is a ratio, so it survives a busy machine) and
   compared: the data are identical, estimates agree to 1e-8 and every rejection decision
   is the same (checked here, as in tests/test_power_batched.py).
2. The batched path with ``n_jobs=1`` and ``n_jobs=2`` (ProcessPoolExecutor; the time
   includes starting the pool) on ``--workers-replicates`` replicates: the speed-up from 1 to 2
   workers; identical results (checked exactly).
3. ``--big-replicates`` (100,000) replicates on 2 worker processes: goal < 60 s (one run).
4. Local (2 worker processes) against a Dask ``LocalCluster`` of 2 single-threaded worker
   processes on ``--dask-replicates`` replicates (cluster start timed apart); identical results
   (checked exactly).

Writes benchmarks/results/power.md. Timings depend on the machine and its load (printed).
Not a test.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the other benchmark scripts

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.power import simulate_power  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DESIGN = {"n_therapists": 60, "caseload": 5, "arms": "nested", "treatment_d": 0.3, "therapist_icc": 0.05}
SEED = 2025


#: CPU seconds of the last run(): this process plus its reaped children (the worker processes).
LAST_CPU = [0.0]


def _cpu() -> float:
    import resource

    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run(replicates: int, **kw):
    c0, t0 = _cpu(), time.perf_counter()
    res = simulate_power(DESIGN, "treatment_multilevel", replicates, seed=SEED, progress=False, **kw)
    LAST_CPU[0] = _cpu() - c0
    return time.perf_counter() - t0, res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--compare-replicates", type=int, default=200)
    ap.add_argument("--workers-replicates", type=int, default=20000)
    ap.add_argument("--big-replicates", type=int, default=100000)
    ap.add_argument("--dask-replicates", type=int, default=20000)
    args = ap.parse_args()
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3

    # 1. batched vs one by one, one process
    tb = []
    for _ in range(args.repeats):
        t, fast = run(args.replicates)
        tb.append(t)
    t_fast = statistics.median(tb)
    t_slow, slow = run(args.compare_replicates, batched=False)
    per_fast = t_fast / args.replicates
    per_slow = t_slow / args.compare_replicates
    a = fast.replicates.iloc[: args.compare_replicates].reset_index(drop=True)
    b = slow.replicates
    d_est = float(np.max(np.abs(a["estimate"].to_numpy() - b["estimate"].to_numpy())))
    d_se = float(np.max(np.abs(a["se"].to_numpy() - b["se"].to_numpy())))
    same_reject = a["reject"].tolist() == b["reject"].tolist()
    same_singular = a["singular"].tolist() == b["singular"].tolist()
    assert d_est < 1e-8 and same_reject and same_singular, (d_est, same_reject, same_singular)

    # 2. batched, 1 vs 2 worker processes
    times: dict[int, list[float]] = {1: [], 2: []}
    results = {}
    cpu: dict[int, float] = {}
    for _ in range(args.repeats):
        for n_jobs in (1, 2):
            t, res = run(args.workers_replicates, n_jobs=n_jobs)
            times[n_jobs].append(t)
            results[n_jobs] = res
            cpu[n_jobs] = LAST_CPU[0]
    pd.testing.assert_frame_equal(results[1].replicates, results[2].replicates, check_exact=True)
    t1, t2 = statistics.median(times[1]), statistics.median(times[2])
    speedup = t1 / t2
    print(f"1 vs 2 workers: {t1:.2f} / {t2:.2f} s", flush=True)

    # 3. 100,000 replicates on 2 workers
    t_big, big = run(args.big_replicates, n_jobs=2)
    cpu_big = LAST_CPU[0]
    print(f"{args.big_replicates} replicates on 2 workers: {t_big:.2f} s", flush=True)

    # 4. local processes vs a 2-worker Dask LocalCluster
    import warnings

    from dask.distributed import Client, LocalCluster

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    t_start = time.perf_counter() - t0
    try:
        t_dask, on_dask = run(args.dask_replicates, client=client)
    finally:
        client.close()
        cluster.close()
    t_local, local = run(args.dask_replicates, n_jobs=2)
    pd.testing.assert_frame_equal(on_dask.replicates, local.replicates, check_exact=True)
    print(f"dask vs local on {args.dask_replicates}: {t_dask:.2f} / {t_local:.2f} s", flush=True)
    row = fast.table.iloc[0]
    import scipy

    lines = [
        "# Power benchmark",
        "",
        f"Made by `benchmarks/bench_power.py --replicates {args.replicates} --repeats {args.repeats} "
        f"--compare-replicates {args.compare_replicates} --workers-replicates {args.workers_replicates} "
        f"--big-replicates {args.big_replicates} --dask-replicates {args.dask_replicates}` "
        f"(medians; {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"numpy {np.__version__}, scipy {scipy.__version__}). Timings vary by machine and load: the load "
        f"average at the start was {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min) on "
        f"{os.cpu_count()} cores (the machine was shared with other jobs); compare ratios measured in one "
        "session.",
        "",
        "Design: 60 therapists x 5 patients, therapists nested in arms (30 per arm), d = 0.3, therapist ICC "
        "(post | pre) = .05; each replicate simulates a trial and fits post ~ pre + arm with a random "
        "therapist intercept (profiled REML, between-within t test of arm).",
        "",
        "## 1. Batched replicates (default) vs one by one, one process",
        "",
        "| path | replicates | seconds | ms per replicate | speed-up |",
        "|---|---|---|---|---|",
        f"| batched (`simulate_power(...)`) | {args.replicates} | {t_fast:.2f} | {1000 * per_fast:.2f} | "
        f"{per_slow / per_fast:.1f} |",
        f"| one by one (`batched=False`) | {args.compare_replicates} | {t_slow:.2f} | {1000 * per_slow:.2f} | "
        "1.0 |",
        "",
        f"Goal: {args.replicates} replicates in < 0.5 s on one core "
        f"({'met' if t_fast < 0.5 else 'NOT met'} here: {t_fast:.2f} s; runs " +
        "/".join(f"{v:.2f}" for v in tb) + " s).",
        "",
        f"Same answer: on the first {args.compare_replicates} replicates the simulated data are identical, "
        f"the estimates differ by at most {d_est:.1e} and the SEs by {d_se:.1e}; rejection decisions and "
        f"singular flags are identical ({'yes' if same_reject and same_singular else 'NO'}).",
        "",
        f"## 2. Batched, {args.workers_replicates} replicates, 1 vs 2 worker processes",
        "",
        "| workers | seconds | speed-up |",
        "|---|---|---|",
        f"| 1 (in-process) | {t1:.2f} | 1.00 |",
        f"| 2 (ProcessPoolExecutor, pool start included) | {t2:.2f} | {speedup:.2f} |",
        "",
        f"CPU seconds (all processes, last run): 1 worker {cpu[1]:.2f}, 2 workers {cpu[2]:.2f} "
        f"(ratio {cpu[2] / cpu[1]:.2f}: the work added by a second process; on two idle cores the "
        f"wall-clock speed-up is about 2 / that ratio = {2 * cpu[1] / cpu[2]:.2f}).",
        "",
        "All runs: " + ", ".join(f"{k} worker(s) " + "/".join(f"{v:.2f}" for v in vs) + " s"
                                 for k, vs in times.items()) + ". Identical replicate tables (checked exactly).",
        "",
        f"## 3. {args.big_replicates:,} replicates on 2 worker processes",
        "",
        f"{t_big:.1f} s ({1000 * t_big / args.big_replicates:.2f} ms per replicate; one run). Goal < 60 s: "
        f"{'met' if t_big < 60 else 'NOT met'} here; {cpu_big:.1f} CPU seconds in all, so about "
        f"{cpu_big / 2:.0f} s on two idle cores. Power {big.table['rate'].iloc[0]:.4f} "
        f"(MC SE {big.table['mc_se'].iloc[0]:.4f}).",
        "",
        f"## 4. Local processes vs a Dask LocalCluster, {args.dask_replicates} replicates",
        "",
        "| backend | seconds | ratio to local |",
        "|---|---|---|",
        f"| local, 2 worker processes (pool start included) | {t_local:.2f} | 1.00 |",
        f"| Dask LocalCluster, 2 single-threaded worker processes | {t_dask:.2f} | {t_dask / t_local:.2f} |",
        "",
        f"Starting the cluster took {t_start:.1f} s more (not included). Identical replicate tables "
        "(checked exactly): the seeds travel with the tasks.",
        "",
        f"Power {row['rate']:.3f} (MC SE {row['mc_se']:.3f}, {args.replicates} replicates); normal approximation "
        f"with DE = 1 + (m - 1) ICC: {row['analytic']:.3f}; singular fits {row['singular_rate']:.1%}.",
        "",
    ]
    out = ROOT / "benchmarks" / "results" / "power.md"
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
