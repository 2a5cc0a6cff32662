r"""Hand-written normal-theory ML for the factor models: multi-group ML and FIML, EM, fit indices.

Private machinery of :func:`analysis.factor_models.fit_cfa` (the fit indices of the listwise
fit, and the whole ``missing="ml"`` fit) and :func:`analysis.invariance.measurement_invariance`
(multi-group CFA with equality constraints, listwise or by full-information ML). The formulas
are in the docstrings of those two functions; the EM for the unrestricted (H1) moments is
Dempster, Laird & Rubin's (1977) as in Little & Rubin (2002, sec. 11.2).

References
----------
Browne, M. W., & Cudeck, R. (1993). Alternative ways of assessing model fit. In
K. A. Bollen & J. S. Long (Eds.), *Testing structural equation models* (pp. 136--162).
Dempster, A. P., Laird, N. M., & Rubin, D. B. (1977). Maximum likelihood from incomplete data
via the EM algorithm. *Journal of the Royal Statistical Society B, 39*(1), 1--38.
Little, R. J. A., & Rubin, D. B. (2002). *Statistical analysis with missing data* (2nd ed.). Wiley.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

from analysis import _sem_fit
from analysis._items import _check_representable, _outer
from analysis.multilevel import BoundaryWarning, ConvergenceWarning  # UserWarning subclasses


def _rmsea_ci(chisq: float, df: int, n: int, level: float = 0.90) -> tuple[float, float]:
    """Noncentral chi-square interval for the RMSEA (Browne & Cudeck 1993)."""
    if df <= 0:
        return (np.nan, np.nan)
    hi_p, lo_p = 1 - (1 - level) / 2, (1 - level) / 2  # P(X <= chisq | lambda) targets

    def solve(target: float) -> float:
        g = lambda lam: stats.ncx2.cdf(chisq, df, lam) - target if lam > 0 else stats.chi2.cdf(chisq, df) - target  # noqa: E731
        if g(0.0) < 0:
            return 0.0
        upper = max(chisq, 1.0)
        while g(upper) > 0:
            upper *= 2
        return optimize.brentq(g, 0.0, upper, xtol=1e-12, rtol=1e-14, maxiter=500)

    return (math.sqrt(solve(hi_p) / (n * df)), math.sqrt(solve(lo_p) / (n * df)))


def _fit_indices(S: np.ndarray, Sig: np.ndarray, n: int, npar: int) -> dict:
    p = S.shape[0]
    ld_S = np.linalg.slogdet(S)[1]
    ld_Sig = np.linalg.slogdet(Sig)[1]
    F = ld_Sig + np.trace(S @ np.linalg.inv(Sig)) - ld_S - p
    chisq = max(n * F, 0.0)
    df = p * (p + 1) // 2 - npar
    base = n * (np.log(np.diag(S)).sum() - ld_S)
    df_b = p * (p - 1) // 2
    cfi = _sem_fit.cfi(chisq, df, base, df_b)
    tli = _sem_fit.tli(chisq, df, base, df_b)
    rmsea = _sem_fit.rmsea(chisq, df, n)
    lo, hi = _rmsea_ci(chisq, df, n)
    dS, dH = np.sqrt(np.diag(S)), np.sqrt(np.diag(Sig))
    resid = S / np.outer(dS, dS) - Sig / np.outer(dH, dH)
    iu = np.triu_indices(p)
    srmr = math.sqrt(np.mean(resid[iu] ** 2))
    loglik = -n / 2 * (ld_Sig + np.trace(S @ np.linalg.inv(Sig)) + p * math.log(2 * math.pi))
    return {"chisq": chisq, "df": df, "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan,
            "baseline_chisq": base, "baseline_df": df_b, "cfi": cfi, "tli": tli, "rmsea": rmsea,
            "rmsea_lower": lo, "rmsea_upper": hi, "srmr": srmr, "loglik": loglik, "npar": npar,
            "aic": -2 * loglik + 2 * npar, "bic": -2 * loglik + math.log(n) * npar}


def _read_semopy(est: pd.DataFrame, inv_f: dict, inv_i: dict, scales: np.ndarray, sm: dict, items: list,
                 load_rows: list, Phi: pd.DataFrame, theta: pd.Series) -> None:
    """Loadings, factor covariances and residual variances from semopy's ``inspect()``, in the data's
    units (the fit was to items divided by ``scales``; factors are identified by their markers)."""
    for _, r in est.iterrows():
        if r["op"] == "~" and r["rval"] in inv_f:
            se = r["Std. Err"]
            f_, it = inv_f[r["rval"]], inv_i[r["lval"]]
            k = scales[items.index(it)] / sm[f_]
            load_rows.append({"factor": f_, "item": it, "estimate": r["Estimate"] * k,
                              "se": float(se) * k if se != "-" else np.nan})
        elif r["op"] == "~~" and r["lval"] in inv_f and r["rval"] in inv_f:
            a, b = inv_f[r["lval"]], inv_f[r["rval"]]
            Phi.loc[a, b] = Phi.loc[b, a] = r["Estimate"] * sm[a] * sm[b]
        elif r["op"] == "~~" and r["lval"] == r["rval"] and r["lval"] in inv_i:
            theta[inv_i[r["lval"]]] = r["Estimate"] * scales[items.index(inv_i[r["lval"]])] ** 2


@dataclass
class _ParTable:
    """Parameter table of a multi-group CFA (one row per parameter and group, as lavaan's)."""

    rows: pd.DataFrame      # lhs, op, rhs, group, kind, g, i, j, free (-1 fixed), value, equal
    n_free: int


def _mg_partable(items: list[str], facs: dict[str, list[str]], groups: list[str], step: str,
                 free_intercepts: Sequence[str], orthogonal: bool = False,
                 free_loadings: Sequence[str] = ()) -> _ParTable:
    """Rows for loadings, residual variances, factor (co)variances, intercepts and latent means.

    ``kind``: 'lam' (i = item, j = factor), 'theta' (i = item), 'phi' (i, j = factors, i <= j),
    'nu' (i = item), 'alpha' (j = factor). Parameters equal across groups share a free index.
    Equal across groups: loadings from the metric step on (except ``free_loadings``), intercepts
    from the scalar step on (except ``free_intercepts``), residual variances in the strict step.
    """
    fl = list(facs)
    rows: list[dict] = []
    shared: dict[tuple, int] = {}
    counter = [0]

    def new_free(key: tuple | None) -> int:
        if key is not None and key in shared:
            return shared[key]
        k = counter[0]
        counter[0] += 1
        if key is not None:
            shared[key] = k
        return k

    eq_load = step in ("metric", "scalar", "strict")
    eq_int = step in ("scalar", "strict")
    eq_res = step == "strict"
    for g_i, g in enumerate(groups):
        for f_j, f_ in enumerate(fl):
            for pos, it in enumerate(facs[f_]):
                i = items.index(it)
                if pos == 0:
                    rows.append(dict(lhs=f_, op="=~", rhs=it, group=g, kind="lam", g=g_i, i=i, j=f_j,
                                     free=-1, value=1.0, equal=False))
                else:
                    eq = eq_load and it not in free_loadings
                    rows.append(dict(lhs=f_, op="=~", rhs=it, group=g, kind="lam", g=g_i, i=i, j=f_j,
                                     free=new_free(("lam", i, f_j) if eq else None), value=np.nan,
                                     equal=eq))
        for i, it in enumerate(items):
            rows.append(dict(lhs=it, op="~~", rhs=it, group=g, kind="theta", g=g_i, i=i, j=i,
                             free=new_free(("theta", i) if eq_res else None), value=np.nan, equal=eq_res))
        for a in range(len(fl)):
            for b in range(a, len(fl)):
                fixed0 = orthogonal and a != b
                rows.append(dict(lhs=fl[a], op="~~", rhs=fl[b], group=g, kind="phi", g=g_i, i=a, j=b,
                                 free=-1 if fixed0 else new_free(None), value=0.0 if fixed0 else np.nan,
                                 equal=False))
        for i, it in enumerate(items):
            eq = eq_int and it not in free_intercepts
            rows.append(dict(lhs=it, op="~1", rhs="", group=g, kind="nu", g=g_i, i=i, j=0,
                             free=new_free(("nu", i) if eq else None), value=np.nan, equal=eq))
        for f_j, f_ in enumerate(fl):
            free_mean = eq_int and g_i > 0
            rows.append(dict(lhs=f_, op="~1", rhs="", group=g, kind="alpha", g=g_i, i=f_j, j=f_j,
                             free=new_free(None) if free_mean else -1, value=np.nan if free_mean else 0.0,
                             equal=False))
    return _ParTable(rows=pd.DataFrame(rows), n_free=counter[0])


@dataclass
class _GroupData:
    r"""The data of one group as the ML engine needs them.

    ``patterns``: one entry per missing-data pattern, ``(obs, n_k, ybar_k, S_k)`` with ``obs`` the
    indices of the observed items (``None`` when all are observed), ``n_k`` respondents,
    ``ybar_k`` and ``S_k`` (divisor :math:`n_k`) their means and covariances on those items.
    ``mean``/``cov`` are the H1 (unrestricted) moments: the sample moments with complete data,
    the EM estimates under FIML. ``m2ll_h1`` and ``m2ll_baseline`` are :math:`-2\log L` (without
    the :math:`\log 2\pi` terms) of the unrestricted and independence models; ``n_values`` is the
    number of observed answers (for the :math:`\log 2\pi` terms).
    """

    n: int
    patterns: list
    mean: np.ndarray
    cov: np.ndarray
    m2ll_h1: float
    m2ll_baseline: float
    n_values: int
    n_incomplete: int = 0
    em_iterations: int = 0
    em_converged: bool = True


def _pattern_m2ll(patterns: list, mu: np.ndarray, Sig: np.ndarray) -> float:
    r""":math:`\sum_k n_k[\log|\Sigma_{o}| + \operatorname{tr}(S_k\Sigma_o^{-1}) + (\bar y_k - \mu_o)^\top
    \Sigma_o^{-1}(\bar y_k - \mu_o)]` over missing-data patterns (observed parts :math:`o`)."""
    tot = 0.0
    for obs, nk, yk, Sk in patterns:
        So = Sig if obs is None else Sig[np.ix_(obs, obs)]
        d = yk - (mu if obs is None else mu[obs])
        Si = np.linalg.inv(So)
        tot += nk * (np.linalg.slogdet(So)[1] + np.sum(Sk * Si) + d @ Si @ d)
    return float(tot)


def _patterns(X: np.ndarray) -> list:
    """Missing-data patterns of X (rows with at least one observed value), sorted for reproducibility."""
    miss = np.isnan(X)
    keys, inv = np.unique(miss, axis=0, return_inverse=True)
    out = []
    for k, m in enumerate(keys):
        rows = X[inv.ravel() == k]
        obs = np.flatnonzero(~m)
        Y = rows[:, obs]
        yk = Y.mean(axis=0)
        Yc = Y - yk
        out.append((None if len(obs) == X.shape[1] else obs, len(rows), yk, Yc.T @ Yc / len(rows), rows))
    return out


def _em_moments(X: np.ndarray, pats: list, *, tol: float = 1e-11, max_iter: int = 10000
                ) -> tuple[np.ndarray, np.ndarray, int, bool]:
    r"""Unrestricted normal ML means and covariances from incomplete data by EM
    (Dempster, Laird & Rubin 1977; Little & Rubin 2002, sec. 11.2), written by hand.

    E-step per pattern: the missing part :math:`m` of a row is replaced by
    :math:`\mu_m + \Sigma_{mo}\Sigma_{oo}^{-1}(y_o - \mu_o)` and the cross-products get the
    conditional covariance :math:`\Sigma_{mm} - \Sigma_{mo}\Sigma_{oo}^{-1}\Sigma_{om}`; M-step:
    :math:`\mu = T_1/N`, :math:`\Sigma = T_2/N - \mu\mu^\top`. Starts, as lavaan's, from the
    available-case means and a diagonal matrix of available-case variances; stops when no mean or
    covariance changes by more than ``tol`` times the largest variance (lavaan stops at an
    absolute 1e-5).
    """
    n, p = X.shape
    mu = np.nanmean(X, axis=0)
    Sig = np.diag(np.nanvar(X, axis=0))
    scale = max(1.0, float(np.nanvar(X, axis=0).max()))
    for it in range(1, max_iter + 1):
        T1 = np.zeros(p)
        T2 = np.zeros((p, p))
        for obs, nk, yk, Sk, rows in pats:
            if obs is None:
                T1 += rows.sum(axis=0)
                T2 += rows.T @ rows
                continue
            mis = np.setdiff1d(np.arange(p), obs)
            Soo = Sig[np.ix_(obs, obs)]
            Smo = Sig[np.ix_(mis, obs)]
            B = np.linalg.solve(Soo, Smo.T).T
            Y = np.empty((nk, p))
            Y[:, obs] = rows[:, obs]
            Y[:, mis] = mu[mis] + (rows[:, obs] - mu[obs]) @ B.T
            T1 += Y.sum(axis=0)
            T2 += Y.T @ Y
            T2[np.ix_(mis, mis)] += nk * (Sig[np.ix_(mis, mis)] - B @ Smo.T)
        mu_new = T1 / n
        Sig_new = T2 / n - np.outer(mu_new, mu_new)
        delta = max(np.abs(mu_new - mu).max(), np.abs(Sig_new - Sig).max())
        mu, Sig = mu_new, (Sig_new + Sig_new.T) / 2
        if delta < tol * scale:
            return mu, Sig, it, True
    return mu, Sig, max_iter, False


def _group_data(X: np.ndarray, missing: str) -> _GroupData:
    """H1 moments, patterns and the H1/baseline likelihoods of one group (rows all-NaN removed before)."""
    n, p = X.shape
    if missing == "listwise":
        ybar = X.mean(axis=0)
        Xc = X - ybar
        S = Xc.T @ Xc / n
        return _GroupData(n=n, patterns=[(None, n, ybar, S)], mean=ybar, cov=S,
                          m2ll_h1=n * (np.linalg.slogdet(S)[1] + p),
                          m2ll_baseline=n * (np.log(np.diag(S)).sum() + p), n_values=n * p)
    pats = _patterns(X)
    mu, Sig, iters, ok = _em_moments(X, pats)
    obs_count = (~np.isnan(X)).sum(axis=0)
    var_av = np.nanvar(X, axis=0)
    return _GroupData(n=n, patterns=[pt[:4] for pt in pats], mean=mu, cov=Sig,
                      m2ll_h1=_pattern_m2ll([pt[:4] for pt in pats], mu, Sig),
                      m2ll_baseline=float(np.sum(obs_count * (np.log(var_av) + 1))),
                      n_values=int(obs_count.sum()), n_incomplete=int(np.isnan(X).any(axis=1).sum()),
                      em_iterations=iters, em_converged=ok)


class _MGModel:
    r"""Normal-theory ML for a multi-group CFA with mean structure (lavaan's ``cfa(group=)``),
    with complete data or by full-information ML over missing-data patterns.

    Objective (lavaan's, times 2): :math:`f(\theta) = \frac1N\sum_g\bigl[-2\log L_g(\theta) + 2\log L_{g,H1}\bigr]`,
    i.e. with complete data :math:`\sum_g \frac{N_g}{N} F_g`,
    :math:`F_g = \log|\Sigma_g| + \operatorname{tr}(S_g\Sigma_g^{-1}) - \log|S_g| - p
    + (\bar y_g - \mu_g)^\top\Sigma_g^{-1}(\bar y_g - \mu_g)`, and with missing data the sum over
    the patterns :math:`k` of :math:`n_k[\log|\Sigma_{o}| + \operatorname{tr}(S_k\Sigma_{o}^{-1})
    + (\bar y_k - \mu_{o})^\top\Sigma_{o}^{-1}(\bar y_k - \mu_{o})]` on the observed items :math:`o`
    (the casewise likelihood grouped by pattern); :math:`\chi^2 = N f`.
    """

    def __init__(self, pt: _ParTable, groups: list[_GroupData], n_factors: int):
        self.pt = pt
        self.data = groups
        self.S = [gd.cov for gd in groups]        # H1 moments (starting values, SRMR)
        self.ybar = [gd.mean for gd in groups]
        self.n = np.asarray([gd.n for gd in groups], dtype=float)
        self.N = float(self.n.sum())
        self.w = self.n / self.N
        self.G, self.p, self.m = len(groups), self.S[0].shape[0], n_factors
        r = pt.rows
        self.kind = r["kind"].to_numpy()
        self.g = r["g"].to_numpy()
        self.i = r["i"].to_numpy()
        self.j = r["j"].to_numpy()
        self.free = r["free"].to_numpy()
        self.fixed = r["value"].to_numpy(dtype=float)

    # -- model matrices
    def values(self, theta: np.ndarray) -> np.ndarray:
        return np.where(self.free >= 0, theta[np.maximum(self.free, 0)], self.fixed)

    def matrices(self, theta: np.ndarray):
        v = self.values(theta)
        G, p, m = self.G, self.p, self.m
        L = np.zeros((G, p, m))
        Phi = np.zeros((G, m, m))
        th = np.zeros((G, p))
        nu = np.zeros((G, p))
        al = np.zeros((G, m))
        for k in ("lam", "phi", "theta", "nu", "alpha"):
            sel = self.kind == k
            gg, ii, jj, vv = self.g[sel], self.i[sel], self.j[sel], v[sel]
            if k == "lam":
                L[gg, ii, jj] = vv
            elif k == "phi":
                Phi[gg, ii, jj] = vv
                Phi[gg, jj, ii] = vv
            elif k == "theta":
                th[gg, ii] = vv
            elif k == "nu":
                nu[gg, ii] = vv
            else:
                al[gg, ii] = vv
        return L, Phi, th, nu, al

    def implied(self, theta: np.ndarray):
        L, Phi, th, nu, al = self.matrices(theta)
        Sig = L @ Phi @ np.transpose(L, (0, 2, 1)) + np.stack([np.diag(t) for t in th])
        mu = nu + np.einsum("gpm,gm->gp", L, al)
        return Sig, mu

    def m2ll(self, theta: np.ndarray) -> np.ndarray:
        """-2 log L per group, without the log(2 pi) terms."""
        Sig, mu = self.implied(theta)
        return np.array([_pattern_m2ll(gd.patterns, mu[g], Sig[g]) for g, gd in enumerate(self.data)])

    # -- objective and analytic gradient
    def objective(self, theta: np.ndarray, grad: bool = True):
        L, Phi, th, nu, al = self.matrices(theta)
        total = 0.0
        dv = np.zeros(len(self.kind))   # derivative w.r.t. each row's value
        p = self.p
        for g, gd in enumerate(self.data):
            Sig = L[g] @ Phi[g] @ L[g].T + np.diag(th[g])
            mu = nu[g] + L[g] @ al[g]
            val = 0.0
            Gm = np.zeros((p, p))       # d f / d Sigma (times N), symmetric-matrix derivative
            h = np.zeros(p)             # d f / d mu (times N)
            for obs, nk, yk, Sk in gd.patterns:
                So = Sig if obs is None else Sig[np.ix_(obs, obs)]
                try:
                    C = np.linalg.cholesky(So)
                except np.linalg.LinAlgError:
                    return (1e10, np.zeros_like(theta)) if grad else 1e10
                Si = np.linalg.inv(So)
                d = yk - (mu if obs is None else mu[obs])
                Sid = Si @ d
                val += nk * (2 * np.log(np.diag(C)).sum() + np.sum(Sk * Si) + d @ Sid)
                if grad:
                    Gk = nk * (Si - Si @ (Sk + np.outer(d, d)) @ Si)
                    if obs is None:
                        Gm += Gk
                        h += -2 * nk * Sid
                    else:
                        Gm[np.ix_(obs, obs)] += Gk
                        h[obs] += -2 * nk * Sid
            total += (val - gd.m2ll_h1) / self.N
            if not grad:
                continue
            Gm /= self.N
            h /= self.N
            dL = 2 * Gm @ L[g] @ Phi[g] + np.outer(h, al[g])
            M = L[g].T @ Gm @ L[g]
            sel = self.g == g
            k, ii, jj = self.kind[sel], self.i[sel], self.j[sel]
            out = np.zeros(sel.sum())
            out[k == "lam"] = dL[ii[k == "lam"], jj[k == "lam"]]
            ph = k == "phi"
            out[ph] = np.where(ii[ph] == jj[ph], 1.0, 2.0) * M[ii[ph], jj[ph]]
            out[k == "theta"] = np.diag(Gm)[ii[k == "theta"]]
            out[k == "nu"] = h[ii[k == "nu"]]
            out[k == "alpha"] = (L[g].T @ h)[ii[k == "alpha"]]
            dv[sel] = out
        if not grad:
            return total
        gvec = np.zeros_like(theta)
        fr = self.free >= 0
        np.add.at(gvec, self.free[fr], dv[fr])
        return total, gvec

    # -- expected information (per observation), lavaan's default for ML with complete data
    def information(self, theta: np.ndarray) -> np.ndarray:
        r""":math:`\sum_g \frac{N_g}{N}\bigl[\Delta_{\mu}^\top\Sigma^{-1}\Delta_{\mu}
        + \tfrac12\operatorname{tr}(\Sigma^{-1}\dot\Sigma_a\Sigma^{-1}\dot\Sigma_b)\bigr]`."""
        L, Phi, th, nu, al = self.matrices(theta)
        q = len(theta)
        info = np.zeros((q, q))
        p = self.p
        eye = np.eye(p)
        for g in range(self.G):
            Sig = L[g] @ Phi[g] @ L[g].T + np.diag(th[g])
            Si = np.linalg.inv(Sig)
            A = L[g] @ Phi[g]
            dS = np.zeros((q, p, p))
            dmu = np.zeros((q, p))
            for r in np.flatnonzero((self.g == g) & (self.free >= 0)):
                k, i, j, f = self.kind[r], self.i[r], self.j[r], self.free[r]
                if k == "lam":
                    E = np.outer(eye[i], A[:, j])
                    dS[f] += E + E.T
                    dmu[f] += eye[i] * al[g, j]
                elif k == "phi":
                    E = np.outer(L[g][:, i], L[g][:, j])
                    dS[f] += E + E.T if i != j else E
                elif k == "theta":
                    dS[f][i, i] += 1.0
                elif k == "nu":
                    dmu[f] += eye[i]
                else:
                    dmu[f] += L[g][:, i]
            B = np.einsum("ij,ajk,kl->ail", Si, dS, Si)
            info += self.w[g] * (dmu @ Si @ dmu.T + 0.5 * np.einsum("aij,bji->ab", B, dS))
        return info

    # -- observed information: half the Hessian of f (lavaan's "hessian" observed information)
    def observed_information(self, theta: np.ndarray, h: float = 1e-5) -> np.ndarray:
        r"""Half the Hessian of :math:`f`, by the five-point central difference of the analytic
        gradient (as lavaan's ``lav_model_hessian``, which uses :math:`h = 10^{-6}`), symmetrised."""
        q = len(theta)
        H = np.zeros((q, q))
        for a in range(q):
            e = np.zeros(q)
            e[a] = h
            g = [self.objective(theta + c * e)[1] for c in (-2, -1, 1, 2)]
            H[:, a] = (g[0] - 8 * g[1] + 8 * g[2] - g[3]) / (12 * h)
        return (H + H.T) / 4

    # -- starting values (lavaan-like)
    def start(self, facs: dict[str, list[str]], items: list[str]) -> np.ndarray:
        """Marker loadings 1, other loadings an instrumental-variable ratio (FABIN-type),
        residual variances half the observed variances, factor variances 0.05 and covariances 0
        (lavaan's defaults), intercepts the sample means, latent means 0; a parameter shared by
        groups starts at the N-weighted mean of its group starts. Under FIML the "sample"
        moments are the EM estimates."""
        v = np.zeros(len(self.kind))
        fl = list(facs)
        for r in range(len(self.kind)):
            k, g, i, j = self.kind[r], self.g[r], self.i[r], self.j[r]
            S = self.S[g]
            if k == "lam":
                its = [items.index(it) for it in facs[fl[j]]]
                mk = its[0]
                others = [o for o in its if o not in (i, mk)]
                ratios = [S[i, o] / S[mk, o] for o in others if abs(S[mk, o]) > 1e-8 * S[mk, mk]]
                v[r] = float(np.median(ratios)) if ratios else 1.0
            elif k == "theta":
                v[r] = 0.5 * S[i, i]
            elif k == "phi":
                v[r] = 0.05 if i == j else 0.0
            elif k == "nu":
                v[r] = self.ybar[g][i]
        q = int(self.free.max()) + 1
        num, den = np.zeros(q), np.zeros(q)
        fr = self.free >= 0
        np.add.at(num, self.free[fr], v[fr] * self.w[self.g[fr]])
        np.add.at(den, self.free[fr], self.w[self.g[fr]])
        return num / den


def _fit_mg(model: _MGModel, x0: np.ndarray) -> tuple[np.ndarray, dict]:
    """L-BFGS-B with the analytic gradient, then Fisher scoring with the expected information."""
    res = optimize.minimize(model.objective, x0, jac=True, method="L-BFGS-B",
                            options={"maxiter": 20000, "maxfun": 50000, "ftol": 1e-15, "gtol": 1e-10,
                                     "maxcor": 30})
    x, f = res.x, float(res.fun)
    steps = 0
    for _ in range(50):  # polish: theta <- theta - I^{-1} grad / 2 (f = -2 loglik / N + const)
        f0, g0 = model.objective(x)
        if np.max(np.abs(g0)) < 1e-12:
            break
        try:
            step = np.linalg.solve(model.information(x), g0 / 2)
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)):
            break
        t = 1.0
        while t > 1e-4:
            f1 = model.objective(x - t * step, grad=False)
            if f1 <= f0:
                break
            t /= 2
        if t <= 1e-4:
            break
        x = x - t * step
        steps += 1
        if f0 - f1 < 1e-16:
            break
    f, g = model.objective(x)
    gmax = float(np.max(np.abs(g)))
    return x, {"fun": float(f), "grad_max": gmax, "lbfgs_success": bool(res.success),
               "lbfgs_message": str(res.message), "lbfgs_iterations": int(res.nit),
               "scoring_steps": steps, "converged": bool(gmax < 1e-6 and np.isfinite(f) and f < 1e9)}


def _mg_fit_indices(model: _MGModel, theta: np.ndarray, npar: int) -> dict:
    """Fit indices of a multi-group model with lavaan's conventions (see :func:`analysis.invariance.measurement_invariance`).

    With complete data the H1 moments are the sample moments; under FIML they are the EM
    estimates, the chi-square is :math:`2(\\log L_{H1} - \\log L)` and the baseline chi-square
    :math:`2(\\log L_{H1} - \\log L_B)` with the independence model fitted by FIML (its means and
    variances are those of the available answers of each item: the likelihood factorises)."""
    G, p = model.G, model.p
    N = model.N
    Sig, mu = model.implied(theta)
    f = model.objective(theta, grad=False)
    chisq = max(N * f, 0.0)
    df = G * (p * (p + 1) // 2 + p) - npar
    base = float(sum(gd.m2ll_baseline - gd.m2ll_h1 for gd in model.data))
    df_b = G * p * (p - 1) // 2
    cfi = _sem_fit.cfi(chisq, df, base, df_b)
    tli = _sem_fit.tli(chisq, df, base, df_b)
    rmsea = _sem_fit.rmsea(chisq, df, N, groups=G)
    lo, hi = _rmsea_ci(chisq, df, int(N))
    lo, hi = math.sqrt(G) * lo, math.sqrt(G) * hi
    srmr_g = []
    e = p * (p + 1) / 2 + p
    iu = np.tril_indices(p)
    for g in range(G):
        S, ybar = model.S[g], model.ybar[g]
        dinv = 1 / np.sqrt(np.diag(S))
        R = (S - Sig[g]) * np.outer(dinv, dinv)
        rm = (ybar - mu[g]) * dinv
        srmr_g.append(math.sqrt((np.sum(R[iu] ** 2) + np.sum(rm ** 2)) / e))
    srmr = float(np.dot(model.w, srmr_g))
    log2pi = math.log(2 * math.pi)
    m2ll = model.m2ll(theta)
    loglik = -0.5 * float(sum(m2ll[g] + gd.n_values * log2pi for g, gd in enumerate(model.data)))
    loglik_h1 = -0.5 * float(sum(gd.m2ll_h1 + gd.n_values * log2pi for gd in model.data))
    return {"chisq": chisq, "df": df, "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan,
            "baseline_chisq": base, "baseline_df": df_b, "cfi": cfi, "tli": tli, "rmsea": rmsea,
            "rmsea_lower": lo, "rmsea_upper": hi, "srmr": srmr, "loglik": loglik, "npar": npar,
            "aic": -2 * loglik + 2 * npar, "bic": -2 * loglik + math.log(N) * npar,
            "loglik_h1": loglik_h1}


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


def _unscale_factors(rows: pd.DataFrame, scales: np.ndarray, facs: dict[str, list[str]], items: list[str]
                     ) -> np.ndarray:
    """Per parameter-table row, the factor that takes an estimate on ``X / s`` back to the data's units.

    Item ``i`` rescaled by ``s_i``, factor ``f`` identified by its marker item ``m(f)`` (loading 1):
    loading ``s_i / s_m(f)``, residual (co)variance ``s_i s_j``, factor (co)variance
    ``s_m(a) s_m(b)``, intercept ``s_i``, latent mean ``s_m(f)``."""
    fl = list(facs)
    sm = np.array([scales[items.index(facs[f_][0])] for f_ in fl])
    out = np.ones(len(rows))
    with np.errstate(over="ignore"):
        _fill_factors(out, rows, scales, sm)
    return out


def _fill_factors(out: np.ndarray, rows: pd.DataFrame, scales: np.ndarray, sm: np.ndarray) -> None:
    for k, r in enumerate(rows.itertuples()):
        if r.kind == "lam":
            out[k] = scales[r.i] / sm[r.j]
        elif r.kind == "theta":
            out[k] = scales[r.i] * scales[r.j]
        elif r.kind == "phi":
            out[k] = sm[r.i] * sm[r.j]
        elif r.kind == "nu":
            out[k] = scales[r.i]
        elif r.kind == "alpha":
            out[k] = sm[r.j]


def _warn_em(gdata: list[_GroupData], labels: list[str], what: str) -> None:
    for gd, lab in zip(gdata, labels):
        if not gd.em_converged:
            warnings.warn(f"{what}: the EM estimate of the unrestricted (H1) moments{f' in group {lab!r}' if lab else ''}"
                          f" did not converge in {gd.em_iterations} iterations; the chi-square, CFI, TLI, RMSEA "
                          "and SRMR may be off.", ConvergenceWarning, stacklevel=3)


def _fit_step(pt: _ParTable, gdata: list[_GroupData], facs: dict[str, list[str]], items: list[str],
              labels: list[str], step: str, missing: str, what: str, scales: np.ndarray | None = None
              ) -> dict:
    """Fit one parameter table; estimates, SEs, fit indices, boundary and convergence reports.

    Returns the fields of :class:`analysis.invariance.InvarianceStep` as a dict.

    ``gdata`` hold the items divided by ``scales`` (see :func:`_item_scales`); estimates, SEs and
    implied moments are transformed back, and the log-likelihoods shifted by the log-Jacobian
    (the sum over observed answers of ``log s_i``). Boundary checks use the rescaled fit."""
    m = len(facs)
    p = len(items)
    n_moments = len(gdata) * (p * (p + 1) // 2 + p)
    if pt.n_free > n_moments:
        raise ValueError(f"{what}: the model is not identified: {pt.n_free} free parameters for {n_moments} "
                         "sample moments (means, variances and covariances).")
    scales = np.ones(p) if scales is None else np.asarray(scales, float)
    log_s = np.log(scales)
    log_jacobian = float(sum(n_k * (log_s.sum() if obs is None else log_s[obs].sum())
                             for gd in gdata for obs, n_k, *_ in gd.patterns))
    model = _MGModel(pt, gdata, m)
    x, info = _fit_mg(model, model.start(facs, items))
    fit = _mg_fit_indices(model, x, pt.n_free)
    name = f"the {step} model" if step else "the model"
    identified = True
    try:
        I = model.information(x) if missing == "listwise" else model.observed_information(x)
        ev = np.linalg.eigvalsh((I + I.T) / 2)
        if not np.all(np.isfinite(ev)) or ev[0] <= 1e-10 * max(ev[-1], 0.0):
            raise np.linalg.LinAlgError("singular information")
        vcov = np.linalg.inv(I) / model.N
        se_free = np.sqrt(np.where(np.diag(vcov) > 0, np.diag(vcov), np.nan))
    except np.linalg.LinAlgError:
        identified = False
        se_free = np.full(pt.n_free, np.nan)
        warnings.warn(f"{what}: the information matrix of {name} is singular: the model is not identified "
                      "at this solution (no standard errors; the fit is reported as not converged).",
                      ConvergenceWarning, stacklevel=3)
    rows = pt.rows
    free = rows["free"].to_numpy()
    back = _unscale_factors(rows, scales, facs, items)
    with np.errstate(over="ignore"):
        est = model.values(x) * back
        se = np.where(free >= 0, se_free[np.maximum(free, 0)], np.nan) * back
    _check_representable(what, est)
    params = rows[["lhs", "op", "rhs", "group"]].copy()
    params["estimate"] = est
    params["se"] = se
    params["statistic"] = est / se
    params["pvalue"] = 2 * stats.norm.sf(np.abs(params["statistic"]))
    params["free"] = free >= 0
    params["equal"] = rows["equal"].to_numpy()
    boundary = []
    L, Phi, th, nu, al = model.matrices(x)
    for g_i, lab in enumerate(labels):
        pre = f"group {lab}: " if lab else ""
        for i, it in enumerate(items):
            if th[g_i, i] < 1e-6:
                boundary.append(f"{pre}residual variance of {it} = {th[g_i, i]:.3g}"
                                + (" (negative)" if th[g_i, i] < 0 else ""))
        for f_j, f_ in enumerate(facs):
            if Phi[g_i, f_j, f_j] < 1e-6:
                boundary.append(f"{pre}variance of factor {f_} = {Phi[g_i, f_j, f_j]:.3g}")
        if m > 1 and np.linalg.eigvalsh(Phi[g_i]).min() < 0:
            boundary.append(f"{pre}factor covariance matrix not positive definite")
    if boundary:
        warnings.warn(f"{what}: {name} has boundary estimates: {'; '.join(boundary)}.",
                      BoundaryWarning, stacklevel=3)
    if not info["converged"]:
        warnings.warn(f"{what}: {name} did not converge (max |gradient| = "
                      f"{info['grad_max']:.2g}); check the results.", ConvergenceWarning, stacklevel=3)
    Sig, mu = model.implied(x)
    with np.errstate(over="ignore"):
        Sig = Sig * _outer(scales)[None]
        mu = mu * scales[None]
    _check_representable(what, Sig)
    implied = {lab: (pd.Series(mu[g_i], index=items), pd.DataFrame(Sig[g_i], index=items, columns=items))
               for g_i, lab in enumerate(labels)}
    for k in ("loglik", "loglik_h1"):
        fit[k] -= log_jacobian
    fit["aic"] = -2 * fit["loglik"] + 2 * fit["npar"]
    fit["bic"] = -2 * fit["loglik"] + math.log(model.N) * fit["npar"]
    info = {**info, "identified": identified}
    return dict(name=step, fit=pd.Series(fit), params=params, converged=bool(info["converged"] and identified),
                boundary=boundary, optimizer=info, implied=implied,
                information="expected" if missing == "listwise" else "observed")
