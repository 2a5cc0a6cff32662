"""Speed of the CHE working model + CR2 inference against metafor + clubSandwich.

Not a test. Run from the repository root:

    .venv/bin/python benchmarks/bench_meta_mv.py [--reps N]

Simulated data (seed 20261129): 500 studies with 1 to 11 effect sizes each (about 3,000 in all),
yi = 0.3 + 0.1 x + u_study + w_effect + e, sigma^2 = (0.04, 0.01), vi ~ U(0.01, 0.1), sampling errors
within a study correlated 0.6. The same CSV is fitted by

- ours: ``vcalc(vi, study, obs=es_id, rho=0.6, sparse=True)``, ``rma_mv(yi, V, random=[study, es_id],
  mods=x)`` and ``robust(res, study, vcov="CR2")`` (what :func:`analysis.robust.che` runs), each step timed;
- R: ``vcalc``, ``rma.mv(yi, V, mods = ~ x, random = ~ 1 | study/es_id)`` with metafor's default
  control, and clubSandwich ``coef_test(res, vcov = "CR2", cluster = study)``, timed in-process
  (``benchmarks/bench_meta_mv.R``), once with metafor's dense matrices (its default) and once with
  ``sparse = TRUE``.

The second table does the same on all effect sizes of the shipped Metapsy database
``depression-psyctr`` (finite g and SE, v = SE^2, es_id = row within trial), with one mean per
therapy type as in ``notebooks/02_relationship_vs_technique.py`` (``che("g", "v", "study", rho=0.6,
mods="~ 0 + C(type)")``; R: ``mods = ~ 0 + factor(type, levels = TYPES)``, metafor ``sparse = TRUE``).

Times are medians over the repetitions. The estimates (coefficients, variance components, CR2 SEs and
Satterthwaite df) are printed next to the times so that a speed-up never hides a different answer.
Results go to ``benchmarks/results/meta_mv.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _timing import cpu, median_time  # noqa: E402

from analysis.meta_dependent import vcalc  # noqa: E402
from analysis.meta_mv import rma_mv  # noqa: E402
from analysis.robust import che, robust  # noqa: E402

SEED = 20261129
R_SCRIPT = ROOT / "benchmarks" / "bench_meta_mv.R"


def simulate(n_studies: int = 500, seed: int = SEED) -> pd.DataFrame:
    """About 6 effects per study on average (1 to 11), correlated sampling errors (rho = 0.6)."""
    rng = np.random.default_rng(seed)
    n = rng.integers(1, 12, n_studies)
    study = np.repeat(np.arange(1, n_studies + 1), n)
    es_id = np.concatenate([np.arange(1, m + 1) for m in n])
    k = study.size
    vi = rng.uniform(0.01, 0.1, k)
    x = np.round(rng.normal(size=k), 4)
    V = vcalc(vi, study, obs=es_id, rho=0.6, sparse=True).toarray()
    e = np.zeros(k)
    for s in np.unique(study):
        idx = np.flatnonzero(study == s)
        e[idx] = rng.multivariate_normal(np.zeros(idx.size), V[np.ix_(idx, idx)])
    yi = 0.3 + 0.1 * x + rng.normal(0, 0.2, n_studies)[study - 1] + rng.normal(0, 0.1, k) + e
    return pd.DataFrame({"study": study, "es_id": es_id, "yi": np.round(yi, 6), "vi": np.round(vi, 6), "x": x})


def ours(d: pd.DataFrame, reps: int) -> dict:
    V = vcalc(d.vi, d.study, obs=d.es_id, rho=0.6, sparse=True)
    res = rma_mv(d.yi, V, random=[d.study, d.es_id], mods=d[["x"]])
    rob = robust(res, d.study.to_numpy(), vcov="CR2")
    return {
        "vcalc": median_time(lambda: vcalc(d.vi, d.study, obs=d.es_id, rho=0.6, sparse=True), reps),
        "rma_mv": median_time(lambda: rma_mv(d.yi, V, random=[d.study, d.es_id], mods=d[["x"]]), reps),
        "coef_test": median_time(lambda: robust(res, d.study.to_numpy(), vcov="CR2"), reps),
        "beta": res.beta.tolist(), "sigma2": res.sigma2.tolist(), "loglik": res.loglik,
        "se_cr2": rob.se.tolist(), "df_cr2": rob.df.tolist(),
    }


TYPES = ["cbt", "bat", "3rd", "pst", "ipt", "dyn", "lrt", "sup", "other psy"]  # as notebook 02
R_TYPES = "~ 0 + factor(type, levels = c(" + ", ".join(f"'{t}'" for t in TYPES) + "))"


def metapsy() -> pd.DataFrame:
    """All effect sizes of Metapsy depression-psyctr with a finite g and SE (notebook 02's ``prepare``)."""
    from analysis import datasets

    raw = datasets.load("metapsy-depression-psyctr")
    g_, se_ = raw[".g"].astype(float), raw[".g_se"].astype(float)
    ok = np.isfinite(g_) & np.isfinite(se_)
    d = pd.DataFrame({"study": raw.loc[ok, "study"].astype(str), "yi": g_[ok], "vi": se_[ok] ** 2,
                      "type": raw.loc[ok, "condition_arm1"].astype(str)}).reset_index(drop=True)
    d.insert(1, "es_id", d.groupby("study", sort=False).cumcount() + 1)
    return d


def ours_metapsy(d: pd.DataFrame, reps: int) -> dict:
    """The CHE steps on the Metapsy data, each timed, and ``che`` (all three, with input checks) timed."""
    dt = d.assign(type=pd.Categorical(d["type"], categories=TYPES))
    mods = "~ 0 + C(type)"
    V = vcalc(dt.vi, dt.study, obs=dt.es_id, rho=0.6, sparse=True)
    res = rma_mv(dt.yi, V, data=dt, random=[dt.study, dt.es_id], mods=mods)
    rob = robust(res, dt.study.to_numpy(), vcov="CR2")
    full = che("yi", "vi", "study", es_id="es_id", data=dt, rho=0.6, mods=mods)
    assert np.allclose(full.robust.se, rob.se, rtol=1e-12, atol=0)
    return {
        "vcalc": median_time(lambda: vcalc(dt.vi, dt.study, obs=dt.es_id, rho=0.6, sparse=True), reps),
        "rma_mv": median_time(lambda: rma_mv(dt.yi, V, data=dt, random=[dt.study, dt.es_id], mods=mods), reps),
        "coef_test": median_time(lambda: robust(res, dt.study.to_numpy(), vcov="CR2"), reps),
        "che": median_time(lambda: che("yi", "vi", "study", es_id="es_id", data=dt, rho=0.6, mods=mods), reps),
        "beta": res.beta.tolist(), "sigma2": res.sigma2.tolist(), "loglik": res.loglik,
        "se_cr2": rob.se.tolist(), "df_cr2": rob.df.tolist(),
    }


def run_r(csv: Path, reps: int, sparse: bool, mods: str | None = None) -> dict:
    cmd = ["Rscript", str(R_SCRIPT), str(csv), str(reps), "TRUE" if sparse else "FALSE"]
    out = subprocess.run(cmd + ([mods] if mods else []), capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"Rscript failed:\n{out.stderr}")
    r = json.loads(out.stdout)
    for key in ("vcalc", "rma_mv", "coef_test"):
        r[key] = float(np.median(r[key]))
    return r


def g(v: float) -> str:
    return f"{v:.3e}" if v < 0.01 else f"{v:.3f}"


def report(d: pd.DataFrame, o: dict, rd: dict | None, rs: dict, reps: dict) -> str:
    steps = ("vcalc", "rma_mv", "coef_test")
    skipped = rd is None
    if rd is None:  # --skip-dense: metafor's dense default not run (minutes at this k)
        rd = {key: float("nan") for key in steps}
        rd.update(beta=[float("nan")] * 2, sigma2=[float("nan")] * 2, loglik=float("nan"),
                  se_cr2=[float("nan")] * 2, df_cr2=[float("nan")] * 2, metafor=rs["metafor"],
                  clubSandwich=rs["clubSandwich"])
    tot = {name: sum(x[s] for s in steps) for name, x in (("ours", o), ("dense", rd), ("sparse", rs))}
    lines = [
        "# CHE working model + CR2: `vcalc` + `rma_mv` + `robust` vs metafor + clubSandwich",
        "",
        f"Made by `benchmarks/bench_meta_mv.py` (not a test). Machine: {cpu()}, 2 cores (BLAS threads: "
        f"{os.environ['OPENBLAS_NUM_THREADS']}; R links Debian's single-threaded reference BLAS); Python "
        f"{platform.python_version()}, numpy {np.__version__}, scipy {__import__('scipy').__version__}; R with "
        f"metafor {rd['metafor']}, clubSandwich {rd['clubSandwich']}. Data: {d.study.nunique()} simulated studies, "
        f"k = {len(d)} effect sizes (seed {SEED}). Seconds are medians of the repetitions (ours: {reps['ours']}, "
        f"metafor dense: {reps['dense']}, metafor sparse: {reps['sparse']}); R timed in-process. "
        "Ratio = peer time / our time (> 1: we are faster). Load average (1, 5, 15 min) when the report was "
        f"written: {', '.join(f'{x:.2f}' for x in os.getloadavg())} (a shared machine: other jobs ran alongside).",
        "",
        "| step | ours (s) | metafor/clubSandwich dense (s) | ratio | metafor sparse = TRUE (s) | ratio |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for s, lab in zip(steps, ("vcalc (rho = 0.6)", "rma.mv / rma_mv (REML, study/es_id, ~ x)",
                              "coef_test CR2 / robust CR2")):
        lines.append(f"| {lab} | {g(o[s])} | {g(rd[s])} | {rd[s] / o[s]:.1f} | {g(rs[s])} | {rs[s] / o[s]:.1f} |")
    lines.append(f"| **CHE + CR2, total** | {g(tot['ours'])} | {g(tot['dense'])} | {tot['dense'] / tot['ours']:.1f} "
                 f"| {g(tot['sparse'])} | {tot['sparse'] / tot['ours']:.1f} |")
    lines += ["", "Estimates side by side (metafor with its default control, so it stops earlier than ours):", "",
              f"| quantity | ours | metafor dense | metafor sparse | abs diff ({'sparse' if skipped else 'dense'}) |",
              "|---|---:|---:|---:|---:|"]
    rows = [("intercept", o["beta"][0], rd["beta"][0], rs["beta"][0]), ("x", o["beta"][1], rd["beta"][1], rs["beta"][1]),
            ("sigma^2 study", o["sigma2"][0], rd["sigma2"][0], rs["sigma2"][0]),
            ("sigma^2 study/es_id", o["sigma2"][1], rd["sigma2"][1], rs["sigma2"][1]),
            ("REML log-likelihood", o["loglik"], rd["loglik"], rs["loglik"]),
            ("CR2 SE intercept", o["se_cr2"][0], rd["se_cr2"][0], rs["se_cr2"][0]),
            ("CR2 SE x", o["se_cr2"][1], rd["se_cr2"][1], rs["se_cr2"][1]),
            ("Satterthwaite df intercept", o["df_cr2"][0], rd["df_cr2"][0], rs["df_cr2"][0]),
            ("Satterthwaite df x", o["df_cr2"][1], rd["df_cr2"][1], rs["df_cr2"][1])]
    for lab, a, b, c in rows:
        lines.append(f"| {lab} | {a:.9f} | {b:.9f} | {c:.9f} | {abs(a - (c if skipped else b)):.1e} |")
    if skipped:
        lines += ["", "metafor's dense default (`sparse = FALSE`) was not timed in this run (`--skip-dense`): at this k "
                  "its `rma.mv` takes many minutes (an earlier `--reps 3` run: its `vcalc` alone took 213 s and its "
                  "`rma.mv` had not finished after 15 CPU-minutes on this shared 2-core machine); its column is NaN."]
    lines += ["", "Reading: ours keeps the marginal covariance block-diagonal (blocks of one study) and stacks "
              "blocks of equal size, so an evaluation of the REML likelihood, its score and information costs "
              "O(sum of n_j^3); metafor's default builds k x k dense matrices (its `sparse = TRUE` option "
              "avoids that). clubSandwich works per cluster too; its Satterthwaite df are computed from "
              "p x N x J arrays.", ""]
    return "\n".join(lines)


def report_metapsy(d: pd.DataFrame, o: dict, r: dict, reps: dict) -> str:
    """The Metapsy table: times per step, ``che`` in one call, and ours vs R per coefficient."""
    steps = ("vcalc", "rma_mv", "coef_test")
    tot_r = sum(r[s] for s in steps)
    lines = [
        "## All effect sizes of Metapsy depression-psyctr, one mean per therapy type",
        "",
        f"Data: the shipped `depression-psyctr` database, every effect size with a finite g and SE: k = {len(d)} "
        f"in {d.study.nunique()} trials (up to {d.groupby('study').size().max()} per trial), "
        f"`mods = ~ 0 + type` ({len(TYPES)} types, as notebook 02). metafor with `sparse = TRUE` and its default "
        f"control; medians of {reps['ours']} (ours) and {reps['r']} (R) repetitions.",
        "",
        "| step | ours (s) | metafor sparse = TRUE / clubSandwich (s) | ratio |",
        "|---|---:|---:|---:|",
    ]
    for s, lab in zip(steps, ("vcalc (rho = 0.6)", "rma.mv / rma_mv (REML, study/es_id, ~ 0 + type)",
                              "coef_test CR2 / robust CR2")):
        lines.append(f"| {lab} | {g(o[s])} | {g(r[s])} | {r[s] / o[s]:.1f} |")
    tot_o = sum(o[s] for s in steps)
    lines.append(f"| **CHE + CR2, total of the steps** | {g(tot_o)} | {g(tot_r)} | {tot_r / tot_o:.1f} |")
    lines.append(f"| **`che()` in one call** (with its input checks and formula) | {g(o['che'])} | {g(tot_r)} "
                 f"| {tot_r / o['che']:.1f} |")
    diff = {key: np.max(np.abs(np.asarray(o[key]) - np.asarray(r[key]))) for key in ("beta", "se_cr2", "df_cr2", "sigma2")}
    rel = {key: np.max(np.abs(np.asarray(o[key]) - np.asarray(r[key])) / np.abs(np.asarray(r[key])))
           for key in ("beta", "se_cr2", "df_cr2", "sigma2")}
    lines += ["", f"Max differences, ours vs metafor + clubSandwich over the {len(TYPES)} coefficients: estimates "
              f"{diff['beta']:.1e} (relative {rel['beta']:.1e}), CR2 SEs {diff['se_cr2']:.1e} (relative "
              f"{rel['se_cr2']:.1e}), Satterthwaite df {diff['df_cr2']:.1e} (relative {rel['df_cr2']:.1e}); "
              f"variance components {diff['sigma2']:.1e} (relative {rel['sigma2']:.1e}); REML log-likelihood "
              f"{abs(o['loglik'] - r['loglik']):.1e} (metafor's default control stops earlier than ours: differences of "
              "this size are its convergence tolerance, not a different model).", "",
              "| type | estimate ours | metafor | CR2 SE ours | clubSandwich | df ours | clubSandwich |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for i, t in enumerate(TYPES):
        lines.append(f"| {t} | {o['beta'][i]:.9f} | {r['beta'][i]:.9f} | {o['se_cr2'][i]:.9f} | {r['se_cr2'][i]:.9f} "
                     f"| {o['df_cr2'][i]:.6f} | {r['df_cr2'][i]:.6f} |")
    lines += [f"| sigma^2 study / es_id | {o['sigma2'][0]:.9f} / {o['sigma2'][1]:.9f} | {r['sigma2'][0]:.9f} / "
              f"{r['sigma2'][1]:.9f} | | | | |", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "meta_mv.md"))
    ap.add_argument("--r-reps", type=int, default=None,
                    help="repetitions on the R side (default: --reps; at least 3 for the Metapsy row)")
    ap.add_argument("--skip-dense", action="store_true", help="do not time metafor's dense default")
    a = ap.parse_args()
    if a.reps < 1:
        raise ValueError("`--reps` must be at least 1.")
    tmp = Path(tempfile.mkdtemp())
    dm = metapsy()
    csv_m = tmp / "metapsy.csv"
    dm.to_csv(csv_m, index=False)
    om = ours_metapsy(dm, a.reps)
    print("ours metapsy", {k: om[k] for k in ("vcalc", "rma_mv", "coef_test", "che")}, flush=True)
    r_reps = a.r_reps or a.reps
    m_reps = max(3, r_reps)  # the Metapsy fit takes seconds in R: at least 3 repetitions
    rm = run_r(csv_m, m_reps, sparse=True, mods=R_TYPES)
    print("metafor sparse metapsy", {k: rm[k] for k in ("vcalc", "rma_mv", "coef_test")}, flush=True)
    d = simulate()
    csv = tmp / "che.csv"
    d.to_csv(csv, index=False)
    o = ours(d, a.reps)
    print("ours", {k: v for k, v in o.items() if k in ("vcalc", "rma_mv", "coef_test")}, flush=True)
    rs = run_r(csv, r_reps, sparse=True)
    print("metafor sparse", {k: rs[k] for k in ("vcalc", "rma_mv", "coef_test")}, flush=True)
    dense_reps = 0 if a.skip_dense else 1
    rd = None if a.skip_dense else run_r(csv, dense_reps, sparse=False)
    if rd is not None:
        print("metafor dense", {k: rd[k] for k in ("vcalc", "rma_mv", "coef_test")}, flush=True)
    text = report(d, o, rd, rs, {"ours": a.reps, "sparse": r_reps, "dense": dense_reps})
    text += "\n" + report_metapsy(dm, om, rm, {"ours": a.reps, "r": m_reps})
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(text)
    print(json.dumps({"written": a.out}))


if __name__ == "__main__":
    main()
