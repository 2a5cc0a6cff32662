r"""The factor models as specifications on the SEM engine :mod:`analysis.sem`.

Private machinery of :func:`analysis.factor_models.fit_cfa` and
:func:`analysis.invariance.measurement_invariance`: the items are checked and rescaled, the
model is written in lavaan syntax (items and factors renamed ``x0, x1, ...`` and ``F0, F1, ...``
so that any column name works), fitted by :func:`analysis.sem.sem` (ML with complete data,
full-information ML with ``missing="ml"``; multi-group with ``group_equal`` /
``group_partial`` for the invariance steps), and the engine's parameter table, fit measures
and implied moments are mapped back to the data's units and to the workbook's result
classes. Estimation, standard errors, the EM for the unrestricted (H1) moments and every fit
index come from the engine (one implementation in the tree); this module holds no
estimator of its own.

The rescaling: item :math:`i` is divided by :math:`s_i`, a power of two near its SD
(:func:`analysis._items._item_scales`); ML is equivariant under rescaling, so a loading goes
back by :math:`s_i/s_{m(f)}` (:math:`m(f)` the marker item of factor :math:`f`), a residual
(co)variance by :math:`s_i s_j`, a factor (co)variance by :math:`s_{m(a)} s_{m(b)}`, an
intercept by :math:`s_i`, a latent mean by :math:`s_{m(f)}`, and the log-likelihoods shift by
the log-Jacobian :math:`-\sum \log s_i` over the observed answers.

References
----------
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software, 48*(2), 1--36.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis._items import _check_representable, _outer
from analysis.multilevel import BoundaryWarning, ConvergenceWarning  # UserWarning subclasses


@dataclass
class _GroupData:
    """One group's (rescaled) item answers and their unrestricted (H1) moments.

    ``X`` holds the rows kept (NaN for a missing answer under FIML); ``mean``/``cov`` are the
    sample moments (divisor n) with complete data, the EM estimates of :mod:`analysis.sem.missing`
    under FIML (used for the checks; the engine recomputes them for the fit)."""

    X: np.ndarray
    n: int
    mean: np.ndarray
    cov: np.ndarray
    n_incomplete: int = 0
    em_iterations: int = 0
    em_converged: bool = True
    n_values: int = field(default=0)


def _group_data(X: np.ndarray, missing: str) -> _GroupData:
    """H1 moments of one group (rows with no answer removed before): sample moments or the EM ones."""
    n, p = X.shape
    miss = np.isnan(X)
    if missing == "listwise" or not miss.any():
        ybar = X.mean(axis=0)
        Xc = X - ybar
        return _GroupData(X=X, n=n, mean=ybar, cov=Xc.T @ Xc / n, n_values=n * p)
    from analysis.sem import missing as _miss
    mu, Sig, _, ok = _miss.em_saturated(_miss.Patterns(X))
    return _GroupData(X=X, n=n, mean=np.asarray(mu, float), cov=np.asarray(Sig, float),
                      n_incomplete=int(miss.any(axis=1).sum()), em_converged=bool(ok),
                      n_values=int((~miss).sum()))


def _prepare_group(X: np.ndarray, items: list[str], missing: str, where: str) -> tuple[_GroupData, int]:
    """Checks and H1 moments of one group's item block; returns the data and the rows dropped.

    ``listwise``: rows with a missing answer are dropped. ``ml``: rows with no answer at all are
    dropped (they carry no information, as in lavaan); every item and every pair of items must be
    answered by someone in the group (else the unrestricted covariance is not estimable)."""
    p = len(items)
    lead = "`group`: " if where.startswith("group") else "`data`: "
    miss = np.isnan(X)
    keep = ~miss.any(axis=1) if missing == "listwise" else ~miss.all(axis=1)
    Xk = X[keep]
    dropped = int(len(X) - len(Xk))
    nk = len(Xk)
    if nk <= p:
        what = "complete respondents" if missing == "listwise" else "respondents with an answer"
        raise ValueError(f"{lead}{where} has {nk} {what}; the model needs more than the number of "
                         f"items ({p}).")
    if missing == "ml":
        obs = ~np.isnan(Xk)
        cover = obs.T.astype(int) @ obs.astype(int)
        for j in range(p):
            if cover[j, j] == 0:
                raise ValueError(f"`data` column {items[j]!r} is missing for every respondent in {where}; "
                                 "FIML cannot estimate its mean and variance there.")
        zero = np.argwhere(np.triu(cover == 0))
        if len(zero):
            a, b = zero[0]
            raise ValueError(f"`data` columns {items[a]!r} and {items[b]!r} are never answered together in "
                             f"{where}; their covariance is not estimable (FIML needs some coverage of "
                             "every pair).")
    sd = np.nanstd(Xk, axis=0)
    const = sd <= 1e-12 * np.maximum(1.0, np.nanmax(np.abs(Xk), axis=0))
    if const.any():
        raise ValueError(f"`data` column {items[int(np.flatnonzero(const)[0])]!r} is constant in {where}; "
                         "it carries no information there.")
    gd = _group_data(Xk, missing)
    d = np.sqrt(np.diag(gd.cov))
    if np.linalg.eigvalsh(gd.cov / np.outer(d, d)).min() < 1e-10:
        raise ValueError(f"`data`: the items are linearly dependent in {where} (singular "
                         + ("covariance matrix)." if missing == "listwise" else "EM-estimated covariance matrix)."))
    return gd, dropped


def _warn_em(gdata: list[_GroupData], labels: list[str], what: str) -> None:
    for gd, lab in zip(gdata, labels):
        if not gd.em_converged:
            warnings.warn(f"{what}: the EM estimate of the unrestricted (H1) moments{f' in group {lab!r}' if lab else ''}"
                          " did not converge; the chi-square, CFI, TLI, RMSEA and SRMR may be off.",
                          ConvergenceWarning, stacklevel=3)


# --------------------------------------------------------------------------- specification
def _names(facs: dict[str, list[str]], items: list[str]) -> tuple[dict, dict]:
    """Internal identifiers (``x0``.., ``F0``..): lavaan syntax needs plain names."""
    return {it: f"x{j}" for j, it in enumerate(items)}, {f_: f"F{j}" for j, f_ in enumerate(facs)}


def _syntax(facs: dict[str, list[str]], iname: dict, fname: dict) -> str:
    """``F0 =~ x0 + x1 + ...`` per factor; the first item of each factor is its marker."""
    return "\n".join(f"{fname[f_]} =~ " + " + ".join(iname[it] for it in its) for f_, its in facs.items())


def _group_equal(step: str) -> list[str]:
    """lavaan's ``group.equal`` of an invariance step."""
    return {"configural": [], "metric": ["loadings"], "scalar": ["loadings", "intercepts"],
            "strict": ["loadings", "intercepts", "residuals"]}.get(step, [])


def _n_free(model: str, names: list[str], G: int, meanstructure: bool, orthogonal: bool, ge: list[str],
            gp: list[str]) -> int:
    """Free parameters of the model (after equality constraints), from the engine's parameter table."""
    from analysis.sem.syntax import parameter_table
    pt = parameter_table(model, names, n_groups=G, meanstructure=meanstructure, orthogonal=orthogonal,
                         group_equal=ge, group_partial=gp)
    return int(pt["free"].max()) if len(pt) else 0


def _fit_step(gdata: list[_GroupData], facs: dict[str, list[str]], items: list[str], labels: list[str],
              step: str, missing: str, what: str, scales: np.ndarray | None = None, *,
              free_intercepts: Sequence[str] = (), free_loadings: Sequence[str] = (), orthogonal: bool = False,
              meanstructure: bool = True, short_boundary: bool = False) -> dict:
    """Fit one model with :func:`analysis.sem.sem`; estimates, SEs, fit indices, boundary and
    convergence reports in the data's units.

    Returns the fields of :class:`analysis.invariance.InvarianceStep` as a dict, plus ``h1``
    (per group the unrestricted means and covariances, the engine's, in the data's units) and
    ``result`` (the engine's :class:`analysis.sem.SEMResult`, on the rescaled items).
    ``short_boundary``: report boundary estimates as ``factor f`` / ``item x`` (fit_cfa's
    listwise report) instead of with their values."""
    from analysis.sem import sem

    p, m, G = len(items), len(facs), len(gdata)
    scales = np.ones(p) if scales is None else np.asarray(scales, float)
    iname, fname = _names(facs, items)
    inv_i = {v: k for k, v in iname.items()}
    inv_f = {v: k for k, v in fname.items()}
    model = _syntax(facs, iname, fname)
    ge = _group_equal(step)
    gp = ([f"{fname[f_]} =~ {iname[it]}" for f_, its in facs.items() for it in its if it in free_loadings]
          if ge else [])
    gp += [f"{iname[it]} ~ 1" for it in free_intercepts] if "intercepts" in ge else []
    cols = [iname[it] for it in items]
    n_moments = G * (p * (p + 1) // 2 + (p if meanstructure else 0))
    q = _n_free(model, cols, G, meanstructure, orthogonal, ge, gp)
    if q > n_moments:
        raise ValueError(f"{what}: the model is not identified: {q} free parameters for {n_moments} "
                         "sample moments (means, variances and covariances).")
    frames = []
    for g, gd in enumerate(gdata):
        fr = pd.DataFrame(gd.X, columns=cols)
        fr["_group_"] = g
        frames.append(fr)
    data = pd.concat(frames, ignore_index=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = sem(model, data, group="_group_" if G > 1 else None, group_equal=ge, group_partial=gp,
                  missing=missing, meanstructure=meanstructure, orthogonal=orthogonal)
    name = f"the {step} model" if step else "the model"
    singular = any("information matrix is singular" in str(w.message) for w in caught)
    stopped = any("did not converge" in str(w.message) for w in caught)
    for w in caught:  # the engine's notes that this function does not report in its own words below
        msg = str(w.message)
        if not any(k in msg for k in ("did not converge", "information matrix is singular", "Heywood",
                                      "not positive definite")):
            warnings.warn(f"{what}: {msg}", w.category, stacklevel=3)
    if singular:
        warnings.warn(f"{what}: the information matrix of {name} is singular: the model is not identified "
                      "at this solution (no standard errors; the fit is reported as not converged).",
                      ConvergenceWarning, stacklevel=3)
    f0, g0 = res._obj.value_grad(res.theta)
    grad_max = float(np.max(np.abs(g0))) if len(g0) else 0.0
    optimizer = {"fun": float(f0), "grad_max": grad_max, "iterations": int(res.iterations),
                 "converged": not stopped, "identified": not singular}
    if stopped:
        warnings.warn(f"{what}: {name} did not converge (max |gradient| = {grad_max:.2g}); check the results.",
                      ConvergenceWarning, stacklevel=3)

    pt = res.partable
    pt = pt[pt["op"].isin(["=~", "~~", "~1"])].reset_index(drop=True)
    marker = {fname[f_]: iname[its[0]] for f_, its in facs.items()}
    sidx = {iname[it]: j for j, it in enumerate(items)}

    def s_of(v: str) -> float:
        return scales[sidx[v]] if v in sidx else scales[sidx[marker[v]]]

    back = np.ones(len(pt))
    with np.errstate(over="ignore"):
        for k, r in enumerate(pt.itertuples(index=False)):
            if r.op == "=~":
                back[k] = s_of(r.rhs) / s_of(r.lhs)
            elif r.op == "~~":
                back[k] = s_of(r.lhs) * s_of(r.rhs)
            else:
                back[k] = s_of(r.lhs)
        free = pt["free"].to_numpy() > 0
        est_s = pt["estimate"].to_numpy(dtype=float)
        se_s = np.where(free, pt["se"].to_numpy(dtype=float), np.nan)
        if singular:
            se_s = np.full(len(pt), np.nan)
        est, se = est_s * back, se_s * back
    _check_representable(what, est)
    shared = pd.Series(pt["free"].to_numpy()).where(free)
    equal = shared.map(shared.value_counts()).fillna(0).to_numpy() > 1
    params = pd.DataFrame({
        "lhs": [inv_f.get(v, inv_i.get(v, v)) for v in pt["lhs"]], "op": pt["op"].to_numpy(),
        "rhs": [inv_f.get(v, inv_i.get(v, v)) for v in pt["rhs"]],
        "group": [labels[int(g) - 1] for g in pt["group"]]})
    params["estimate"] = est
    params["se"] = se
    with np.errstate(divide="ignore", invalid="ignore"):
        params["statistic"] = est / se
    params["pvalue"] = 2 * stats.norm.sf(np.abs(params["statistic"]))
    params["free"] = free
    params["equal"] = equal

    # boundary checks on the rescaled fit (items with SD near 1), so they do not depend on units
    boundary = []
    lv = set(fname.values())
    for g_i, lab in enumerate(labels):
        pre = f"group {lab}: " if lab else ""
        sub = pt[pt["group"] == g_i + 1]
        var = sub[(sub["op"] == "~~") & (sub["lhs"] == sub["rhs"])]
        for k, lhs in zip(var.index, var["lhs"]):
            v = float(est_s[k])
            if v >= 1e-6:
                continue
            if short_boundary:
                boundary.append(f"factor {inv_f[lhs]}" if lhs in lv else f"item {inv_i[lhs]}")
            elif lhs in lv:
                boundary.append(f"{pre}variance of factor {inv_f[lhs]} = {v:.3g}")
            else:
                boundary.append(f"{pre}residual variance of {inv_i[lhs]} = {v:.3g}" + (" (negative)" if v < 0 else ""))
        if m > 1:
            Phi = np.zeros((m, m))
            fl = [fname[f_] for f_ in facs]
            for r in sub[(sub["op"] == "~~") & sub["lhs"].isin(lv)].itertuples(index=False):
                a, b = fl.index(r.lhs), fl.index(r.rhs)
                Phi[a, b] = Phi[b, a] = r.estimate
            if np.linalg.eigvalsh(Phi).min() < 0 and not short_boundary:
                boundary.append(f"{pre}factor covariance matrix not positive definite")
    if boundary and short_boundary:
        warnings.warn(f"{what}: boundary estimates (variance at or below zero): {', '.join(boundary)}.",
                      BoundaryWarning, stacklevel=3)
    elif boundary:
        warnings.warn(f"{what}: {name} has boundary estimates: {'; '.join(boundary)}.",
                      BoundaryWarning, stacklevel=3)

    fm = res.fit
    log_s = np.log(scales)
    log_jacobian = float(sum(np.sum((~np.isnan(gd.X)) * log_s) for gd in gdata))
    N = float(sum(gd.n for gd in gdata))
    npar = int(fm["npar"])
    loglik = float(fm["logl"]) - log_jacobian
    fit = {"chisq": float(fm["chisq"]), "df": int(fm["df"]), "pvalue": float(fm["pvalue"]),
           "baseline_chisq": float(fm["baseline.chisq"]), "baseline_df": int(fm["baseline.df"]),
           "cfi": float(fm["cfi"]), "tli": float(fm["tli"]), "rmsea": float(fm["rmsea"]),
           "rmsea_lower": float(fm["rmsea.ci.lower"]), "rmsea_upper": float(fm["rmsea.ci.upper"]),
           "srmr": float(fm["srmr"]), "loglik": loglik, "npar": npar,
           "aic": -2 * loglik + 2 * npar, "bic": -2 * loglik + math.log(N) * npar,
           "loglik_h1": float(fm["unrestricted.logl"]) - log_jacobian}
    D = _outer(scales)
    implied, h1 = {}, {}
    with np.errstate(over="ignore"):
        for g_i, (lab, (mu, Sig)) in enumerate(zip(labels, res._model.implied(res.theta))):
            Sig_u = np.asarray(Sig, float) * D
            _check_representable(what, Sig_u)
            implied[lab] = (pd.Series(np.asarray(mu, float) * scales, index=items),
                            pd.DataFrame(Sig_u, index=items, columns=items))
            d = res._obj.data[g_i]
            h1[lab] = (np.asarray(d.h1_mu, float) * scales, np.asarray(d.h1_Sigma, float) * D)
    return dict(name=step, fit=pd.Series(fit), params=params, converged=not (stopped or singular),
                boundary=boundary, optimizer=optimizer, implied=implied,
                information="expected" if missing == "listwise" else "observed", h1=h1, result=res)
