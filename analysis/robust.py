r"""Cluster-robust inference for meta-analytic models (clubSandwich's CR0/CR1/CR2).

:func:`robust` takes a fitted model — a univariate :func:`analysis.meta.meta_analysis`
result or a multilevel :func:`analysis.meta_mv.rma_mv` result — and the clustering of its
effect sizes (usually the study), and returns coefficient tests that stay valid when the
model's assumed dependence (the "working model") is wrong. :func:`wald_test` tests several
coefficients at once; :func:`che` is the correlated-and-hierarchical-effects recipe of
Pustejovsky & Tipton (2022) in one call.

The sandwich estimator with working weights :math:`W_j = \Phi_j^{-1}` (:math:`\Phi_j` the
model's marginal covariance of cluster j, as clubSandwich takes for ``rma.mv`` and
``rma.uni`` fits) is

.. math:: V^{CR} = M\Big[\sum_j X_j' W_j A_j e_j e_j' A_j' W_j X_j\Big] M,\qquad
          M = \Big(\sum_j X_j' W_j X_j\Big)^{-1},

with :math:`A_j = I` (CR0), :math:`\sqrt{J/(J-1)}\,I` (CR1), or the bias-reduced CR2
adjustment of Bell & McCaffrey (2002) in the symmetric form of Pustejovsky & Tipton
(2018): with :math:`\Phi_j = L_j L_j'` (Cholesky),

.. math:: A_j = L_j\,\big[L_j'(\Phi_j - X_j M X_j')L_j\big]^{-1/2} L_j'

(the inverse square root is taken on the eigenvalues above 1e-12 times the largest, so a
cluster whose effects have full leverage gets a generalised inverse, as in clubSandwich).
A cluster with a single effect is allowed: its :math:`A_j` is the scalar
:math:`\sqrt{\phi_j / (\phi_j - x_j' M x_j)}`.

Small-sample tests (Pustejovsky & Tipton, 2018): for a contrast c, write
:math:`c'V^{CR}c = \sum_j (g_j'y)^2` and let :math:`\Omega_{ij} = g_i'\Phi g_j` under the
working model; the Satterthwaite degrees of freedom are
:math:`\nu = (\mathrm{tr}\,\Omega)^2 / \sum_{ij}\Omega_{ij}^2`. Several constraints
:math:`C\beta = c_0` (q rows) use the Hotelling-T^2 approximation with the "HTZ" degrees of
freedom: :math:`F = \frac{\nu - q + 1}{\nu q} Q` on (q, :math:`\nu - q + 1`) df, with Q the
robust Wald statistic and :math:`\nu = q(q+1)/\sum_{s,t}\mathrm{Var}_{st}` from the
moments of the whitened :math:`C V^{CR} C'`.

Written by hand (no Python package implements CR2 with Satterthwaite or HTZ tests);
learned from clubSandwich's documentation and source, not copied. Checked against
clubSandwich 0.5.8 (``tests/oracles/meta_dependent.R``, ``tests/test_robust.py``).

References
----------
Bell, R. M., & McCaffrey, D. F. (2002). Bias reduction in standard errors for linear
    regression with multi-stage samples. *Survey Methodology, 28*(2), 169-181.
Pustejovsky, J. E., & Tipton, E. (2018). Small-sample methods for cluster-robust variance
    estimation and hypothesis testing in fixed effects models. *Journal of Business &
    Economic Statistics, 36*(4), 672-683.
Tipton, E., & Pustejovsky, J. E. (2015). Small-sample adjustments for tests of moderators
    and model fit using robust variance estimation in meta-regression. *Journal of
    Educational and Behavioral Statistics, 40*(6), 604-634.
Pustejovsky, J. E., & Tipton, E. (2022). Meta-analysis with robust variance estimation:
    Expanding the range of working models. *Prevention Science, 23*, 425-438.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from analysis._checks import check_choice, check_columns, check_level, check_na_action, describe_labels, first_bad
from analysis.meta import _apa_num, _apa_p, _fmt, _fmt_p, _stars

__all__ = ["RobustResult", "WaldResult", "CHEResult", "robust", "wald_test", "che", "VCOV_TYPES", "WALD_TESTS"]

#: Small-sample corrections of the sandwich estimator.
VCOV_TYPES = ("CR0", "CR1", "CR2")
#: Tests of :func:`wald_test` (clubSandwich names).
WALD_TESTS = ("HTZ", "chi-sq", "Naive-F")


def _inv_sqrt_psd(G: np.ndarray) -> tuple[np.ndarray, bool]:
    """Symmetric G^{-1/2} on eigenvalues above 1e-12 x the largest; flag if any was dropped."""
    vals, vecs = np.linalg.eigh(0.5 * (G + G.T))
    top = max(float(vals.max()), 0.0)
    keep = vals > 1e-12 * top
    inv = np.where(keep, 1.0 / np.sqrt(np.where(keep, vals, 1.0)), 0.0)
    return (vecs * inv) @ vecs.T, bool((~keep).any())


@dataclass
class RobustResult:
    """Cluster-robust coefficient tests (clubSandwich ``coef_test`` + ``conf_int``).

    ``to_frame()`` gives ``term, estimate, se, statistic, pvalue, ci_low, ci_high, df``
    (Satterthwaite df); ``vcov`` is the robust covariance matrix of the coefficients.
    """

    terms: list[str]
    estimate: np.ndarray
    se: np.ndarray
    statistic: np.ndarray
    df: np.ndarray
    pvalue: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    vcov: np.ndarray
    vcov_type: str
    level: float
    n_obs: int
    n_clusters: int
    model_label: str
    notes: list[str]
    _parts: dict = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """Tidy coefficient table."""
        return pd.DataFrame({"term": self.terms, "estimate": self.estimate, "se": self.se,
                             "statistic": self.statistic, "pvalue": self.pvalue, "ci_low": self.ci_low,
                             "ci_high": self.ci_high, "df": self.df})

    def summary(self) -> str:
        """Text table in the layout of clubSandwich's ``coef_test`` print."""
        lvl = int(round(self.level * 100))
        tab = self.to_frame()
        cells = pd.DataFrame({"Coef.": tab["term"], "Estimate": tab["estimate"].map(_fmt),
                              "SE": tab["se"].map(_fmt), "t-stat": tab["statistic"].map(_fmt),
                              "d.f. (Satt)": tab["df"].map(lambda x: f"{x:.2f}"),
                              "p-val (Satt)": tab["pvalue"].map(_fmt_p),
                              f"{lvl}% CI": [f"[{_fmt(a)}, {_fmt(b)}]" for a, b in zip(tab.ci_low, tab.ci_high)],
                              "Sig.": [_stars(p) for p in tab["pvalue"]]})
        lines = ["", f"Cluster-robust inference ({self.vcov_type}, Satterthwaite df) for {self.model_label}",
                 f"k = {self.n_obs} effect sizes in {self.n_clusters} clusters", "",
                 cells.to_string(index=False), ""]
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict:
        """Plain-Python dictionary of the table and the setting."""
        return {"vcov_type": self.vcov_type, "level": self.level, "n_obs": self.n_obs,
                "n_clusters": self.n_clusters, "coefficients": self.to_frame().to_dict("records"),
                "vcov": self.vcov.tolist(), "notes": list(self.notes)}

    def apa(self) -> str:
        """APA-style sentence per coefficient: b, CI, t(df) with Satterthwaite df, p."""
        lvl = int(round(self.level * 100))
        parts = [f"{r.term}: b = {_apa_num(r.estimate)}, {lvl}% CI [{_apa_num(r.ci_low)}, {_apa_num(r.ci_high)}], "
                 f"t({r.df:.1f}) = {_apa_num(r.statistic)}, {_apa_p(r.pvalue)}" for r in self.to_frame().itertuples()]
        return (f"With cluster-robust ({self.vcov_type}) standard errors and Satterthwaite degrees of freedom "
                f"({self.n_clusters} clusters, k = {self.n_obs}): " + "; ".join(parts) + ".")

    def __repr__(self) -> str:
        return self.summary()


@dataclass
class WaldResult:
    """Cluster-robust Wald test of C beta = c0 (clubSandwich ``Wald_test``)."""

    test: str
    statistic: float
    df_num: int
    df_denom: float
    pvalue: float
    delta: float
    vcov_type: str
    hypothesis: str
    notes: list[str]

    def to_frame(self) -> pd.DataFrame:
        """One-row table: test, statistic (F), df_num, df_denom, pvalue, delta."""
        return pd.DataFrame([{"test": self.test, "statistic": self.statistic, "df_num": self.df_num,
                              "df_denom": self.df_denom, "pvalue": self.pvalue, "delta": self.delta}])

    def to_dict(self) -> dict:
        """Plain-Python dictionary."""
        return {"test": self.test, "statistic": self.statistic, "df_num": self.df_num, "df_denom": self.df_denom,
                "pvalue": self.pvalue, "delta": self.delta, "vcov_type": self.vcov_type,
                "hypothesis": self.hypothesis, "notes": list(self.notes)}

    def summary(self) -> str:
        """Text in the layout of clubSandwich's ``Wald_test`` print."""
        den = "Inf" if math.isinf(self.df_denom) else f"{self.df_denom:.2f}"
        return (f"\nRobust Wald test ({self.vcov_type}) of {self.hypothesis}\n"
                f" test  F.stat  d.f.num  d.f.denom  p.val\n"
                f" {self.test}  {self.statistic:.3f}  {self.df_num}  {den}  {_fmt_p(self.pvalue)}  "
                f"{_stars(self.pvalue)}\n"
                + "".join(f"Note: {n}\n" for n in self.notes))

    def apa(self) -> str:
        """APA-style report, e.g. ``F(2, 7.3) = 4.12, p = .060``."""
        den = "\u221e" if math.isinf(self.df_denom) else f"{self.df_denom:.1f}"
        return (f"Robust ({self.vcov_type}, {self.test}) test of {self.hypothesis}: "
                f"F({self.df_num}, {den}) = {self.statistic:.2f}, {_apa_p(self.pvalue)}.")

    def __repr__(self) -> str:
        return self.summary()


# --------------------------------------------------------------------------- working model


def _working(model: Any) -> dict:
    """X, y, beta, names, marginal covariance (as blocks) and the model's own blocks."""
    from analysis.meta import MetaResult
    from analysis.meta_multilevel import ThreeLevelResult
    from analysis.meta_mv import MVResult

    if isinstance(model, ThreeLevelResult):  # three_level is fitted by rma_mv: use that fit
        model = model._mv
    if isinstance(model, MVResult):
        blocks = model._marginal_blocks()
        return {"X": model.X, "y": model.yi, "beta": model.beta, "names": list(model.coef_names),
                "blocks": blocks, "label": f"rma_mv ({model.method}, {'/'.join(model.sigma2_names[-1:])})",
                "default_cluster": np.asarray(model.group_codes[0])}
    if isinstance(model, MetaResult):
        d = model.vi + model.tau2
        blocks = [(np.array([i]), np.array([[d[i]]])) for i in range(model.k)]
        return {"X": model.X, "y": model.yi, "beta": model.beta, "names": list(model.coef_names),
                "blocks": blocks, "label": f"meta_analysis ({model.method})", "default_cluster": None}
    raise ValueError("`model` must be a result of analysis.meta.meta_analysis, analysis.meta_mv.rma_mv or "
                     f"analysis.meta_multilevel.three_level, got {type(model).__name__}.")


def _cluster_codes(cluster: Any, k: int, default: np.ndarray | None) -> tuple[np.ndarray, list]:
    if cluster is None:
        if default is None:
            raise ValueError("`cluster` is required for a univariate model (which effects share a study?).")
        codes = default
        uniq = list(range(int(codes.max()) + 1))
        return codes, uniq
    if isinstance(cluster, str):
        raise ValueError(f"`cluster` must be an array with one entry per effect size (got the string {cluster!r}; "
                         "pass data[...] instead).")
    if isinstance(cluster, (dict, set)) or cluster is None:
        raise ValueError(f"`cluster` must be an array with one entry per effect size, got {type(cluster).__name__}.")
    s = pd.Series(cluster.to_numpy() if isinstance(cluster, pd.Series) else np.asarray(cluster, dtype=object))
    if s.ndim != 1 or len(s) != k:
        raise ValueError(f"`cluster` has {len(s)} entries but the model has {k} effect sizes: lengths must match.")
    bad = s.isna().to_numpy()
    if bad.any():
        raise ValueError(f"`cluster` has missing values at {first_bad(bad)}.")
    codes, uniq = pd.factorize(s, sort=True)
    return codes, list(uniq)


def robust(model: Any, cluster: Any = None, *, vcov: str = "CR2", level: float = 0.95) -> RobustResult:
    r"""Cluster-robust standard errors and small-sample t tests (clubSandwich ``coef_test``).

    See the module docstring for the estimator,
    :math:`V^{CR} = M[\sum_j X_j'W_jA_je_je_j'A_j'W_jX_j]M` with the working weights
    :math:`W_j = \Phi_j^{-1}` of the fitted model, the CR0/CR1/CR2 adjustments
    :math:`A_j` and the Satterthwaite degrees of freedom
    :math:`\nu = (\mathrm{tr}\,\Omega)^2/\sum_{ij}\Omega_{ij}^2` (Bell & McCaffrey, 2002;
    Pustejovsky & Tipton, 2018). t = estimate / se, p from t(:math:`\nu`), CI =
    estimate :math:`\pm t_{\nu}` se (clubSandwich ``conf_int``).

    Parameters
    ----------
    model : MetaResult or MVResult
        A fit of :func:`analysis.meta.meta_analysis` or :func:`analysis.meta_mv.rma_mv`.
    cluster : array-like, optional
        Cluster of each effect size (one entry per effect, in the model's row order).
        Default for ``rma_mv`` fits: the outermost random-effects level. The model's
        random effects (and the blocks of V) must be nested in the clusters.
    vcov : {"CR2", "CR1", "CR0"}
    level : float
        Confidence level of the intervals.

    Returns
    -------
    RobustResult
        ``to_frame()`` (term, estimate, se, statistic, pvalue, ci_low, ci_high, df),
        ``vcov``, ``summary()``, ``apa()``; pass it to :func:`wald_test`.

    References
    ----------
    Bell, R. M., & McCaffrey, D. F. (2002). Bias reduction in standard errors for linear
    regression with multi-stage samples. *Survey Methodology, 28*(2), 169-181.
    Pustejovsky, J. E., & Tipton, E. (2018). Small-sample methods for cluster-robust
    variance estimation and hypothesis testing in fixed effects models. *Journal of
    Business & Economic Statistics, 36*(4), 672-683.

    Examples
    --------
    >>> from analysis.meta import meta_analysis
    >>> res = meta_analysis([0.1, 0.3, 0.2, 0.6, 0.5, 0.4], [0.02, 0.03, 0.02, 0.04, 0.03, 0.02])
    >>> rob = robust(res, cluster=[1, 1, 2, 2, 3, 3])
    >>> rob.to_frame().columns.tolist()[:4]
    ['term', 'estimate', 'se', 'statistic']
    """
    vcov = check_choice("vcov", vcov, VCOV_TYPES)
    level = check_level("level", level)
    w = _working(model)
    X, y, beta = w["X"], w["y"], w["beta"]
    k, p = X.shape
    codes, uniq = _cluster_codes(cluster, k, w["default_cluster"])
    J = len(uniq)
    if J < 2:
        raise ValueError("`cluster` has a single cluster: cluster-robust variance estimation needs at least 2.")
    # the model's blocks (random effects, V) must lie within clusters
    for idx, _ in w["blocks"]:
        if idx.size > 1 and np.unique(codes[idx]).size > 1:
            raise ValueError("The model's random effects or sampling covariances link effect sizes of different "
                             f"clusters (rows {', '.join(map(str, idx[:5]))}): `cluster` must nest them "
                             "(use the study, or the outermost random-effects level).")
    from scipy import sparse as sp

    rows, cols, vals = [], [], []
    for idx, B in w["blocks"]:
        ii, jj = np.meshgrid(idx, idx, indexing="ij")
        rows.append(ii.ravel())
        cols.append(jj.ravel())
        vals.append(np.asarray(B).ravel())
    Phi_all = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(k, k))
    # work on e / c and Phi / c^2 (c a power of 2: exact); A_j, E_j and the df are scale-free, V^CR scales by c^2
    csc = 2.0 ** round(math.log2(math.sqrt(float(np.mean(Phi_all.diagonal())))))
    Phi_all = Phi_all / csc**2
    e = (y - X @ beta) / csc
    # clusters of equal size are stacked and processed together
    from analysis.meta_dependent import _pairs

    ii, jj, pi, pj, sizes = _pairs(codes)
    phi_pairs = np.asarray(Phi_all[ii, jj]).ravel()
    cl = []  # one batch per cluster size: clusters (nb,), Phi (nb,n,n), X (nb,n,p), e (nb,n)
    XtWX = np.zeros((p, p))
    order = np.argsort(codes, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    for n in np.unique(sizes):
        cls = np.flatnonzero(sizes == n)
        slot = np.full(J, -1)
        slot[cls] = np.arange(cls.size)
        sel = sizes[codes[ii]] == n
        Phi = np.zeros((cls.size, n, n))
        Phi[slot[codes[ii[sel]]], pi[sel], pj[sel]] = phi_pairs[sel]
        rows = order[starts[cls][:, None] + np.arange(n)[None, :]]  # (nb, n) row indices
        Xb = X[rows]
        Lc = np.linalg.cholesky(Phi)
        WX = np.linalg.solve(Phi, Xb)
        XtWX += np.einsum("bip,biq->pq", Xb, WX)
        cl.append({"clusters": cls, "Phi": Phi, "L": Lc, "X": Xb, "WX": WX, "e": e[rows], "n": n})
    M = np.linalg.inv(0.5 * (XtWX + XtWX.T))
    notes = []
    singular = []
    c1 = math.sqrt(J / (J - 1))
    meat = np.zeros((p, p))
    for c in cl:
        n, nb = c["n"], c["clusters"].size
        if vcov == "CR2":
            Lc = c["L"]
            B = c["Phi"] - np.einsum("bip,pq,bjq->bij", c["X"], M, c["X"])
            G = np.swapaxes(Lc, 1, 2) @ B @ Lc
            G = 0.5 * (G + np.swapaxes(G, 1, 2))
            vals, vecs = np.linalg.eigh(G)
            keep = vals > 1e-12 * np.maximum(vals[:, -1:], 0.0)
            inv = np.where(keep, 1.0 / np.sqrt(np.where(keep, vals, 1.0)), 0.0)
            Gi = (vecs * inv[:, None, :]) @ np.swapaxes(vecs, 1, 2)
            singular += [str(uniq[j]) for j in c["clusters"][(~keep).any(axis=1)]]
            A = Lc @ Gi @ np.swapaxes(Lc, 1, 2)
        elif vcov == "CR1":
            A = np.broadcast_to(c1 * np.eye(n), (nb, n, n))
        else:
            A = np.broadcast_to(np.eye(n), (nb, n, n))
        E = np.einsum("pq,biq,bij->bpj", M, c["WX"], A)  # (nb, p, n): M X_j' W_j A_j
        c["E"] = E
        ee = np.einsum("bpj,bj->bp", E, c["e"])
        meat += ee.T @ ee
    V = 0.5 * (meat + meat.T) * csc**2
    n_single = int(np.sum(sizes == 1))
    if n_single:
        notes.append(f"{n_single} of {J} clusters hold a single effect size; the sandwich estimator is still "
                     "defined for them (CR2 scales their residual by sqrt(phi / (phi - x'Mx))).")
    if singular:
        notes.append(f"cluster(s) {', '.join(singular[:10])} have full leverage on some coefficients: their CR2 "
                     "adjustment uses a generalised inverse (as clubSandwich); inference on those coefficients "
                     "is weak.")
    parts = {"clusters": cl, "M": M, "beta": beta, "p": p, "J": J, "names": w["names"], "V": V,
             "vcov": vcov, "level": level}
    se = np.sqrt(np.maximum(np.diag(V), 0.0))
    # zero up to rounding, relative to the model-based variance (M is in the rescaled units)
    degenerate = np.diag(V) <= 1e-12 * np.diag(M) * csc**2
    if np.any(degenerate):
        bad = [w["names"][i] for i in np.flatnonzero(degenerate)]
        raise ValueError(f"The robust variance of {', '.join(map(repr, bad))} is 0: the coefficient is estimated "
                         "from one cluster only (or is constant within every cluster), so cluster-robust "
                         "inference is not possible for it.")
    df = np.array([_satterthwaite(parts, np.eye(p)[[s]]) for s in range(p)])
    stat = beta / se
    pv = 2 * stats.t.sf(np.abs(stat), df)
    crit = stats.t.ppf(1 - (1 - level) / 2, df)
    if singular:  # a note, not a warning, for single-effect clusters (CR2 is defined for them)
        warnings.warn(f"robust: {notes[-1]}", UserWarning, stacklevel=2)
    return RobustResult(terms=list(w["names"]), estimate=np.asarray(beta, float), se=se, statistic=stat, df=df,
                        pvalue=pv, ci_low=beta - crit * se, ci_high=beta + crit * se, vcov=V, vcov_type=vcov,
                        level=level, n_obs=k, n_clusters=J, model_label=w["label"], notes=notes, _parts=parts)


def _pieces(parts: dict, C: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """S_j = A_j Phi_j A_j' (J, q, q) and H_j = A_j X_j (J, q, p) with A_j = C E_j (clusters in batch order)."""
    S, H = [], []
    for c in parts["clusters"]:
        Aj = np.einsum("qp,bpn->bqn", C, c["E"])
        S.append(np.einsum("bqn,bnm,brm->bqr", Aj, c["Phi"], Aj))
        H.append(np.einsum("bqn,bnp->bqp", Aj, c["X"]))
    return np.concatenate(S), np.concatenate(H)


def _omega(S: np.ndarray, H: np.ndarray, M: np.ndarray, s: int, t: int) -> np.ndarray:
    """J x J matrix Omega^{st}_{ij} = delta_ij S_j[s,t] - H_i[s] M H_j[t]'."""
    return np.diag(S[:, s, t]) - H[:, s, :] @ M @ H[:, t, :].T


def _satterthwaite(parts: dict, C: np.ndarray) -> float:
    S, H = _pieces(parts, C)
    Om = _omega(S, H, parts["M"], 0, 0)
    return float(np.trace(Om) ** 2 / np.sum(Om * Om))


def _htz_nu(parts: dict, C: np.ndarray) -> float:
    S, H = _pieces(parts, C)
    q = C.shape[0]
    M = parts["M"]
    Omega = np.array([[np.trace(_omega(S, H, M, s, t)) for t in range(q)] for s in range(q)])
    Oi, _ = _inv_sqrt_psd(Omega)
    St = np.einsum("ab,jbc,dc->jad", Oi, S, Oi)
    Ht = np.einsum("ab,jbp->jap", Oi, H)
    B = {(s, t): _omega(St, Ht, M, s, t) for s in range(q) for t in range(q)}
    total = 0.0
    for s in range(q):
        for t in range(q):
            total += float(np.sum(B[s, t] * B[s, t].T) + np.sum(B[s, s] * B[t, t]))
    return q * (q + 1) / total


def _constraint_matrix(constraints: Any, names: list[str], kind: str) -> tuple[np.ndarray, str]:
    p = len(names)
    if isinstance(constraints, (str, int, np.integer)):
        constraints = [constraints]
    if isinstance(constraints, np.ndarray) and constraints.ndim == 1:
        constraints = constraints.tolist()
    nested = isinstance(constraints, (list, tuple)) and constraints and isinstance(constraints[0],
                                                                                 (list, tuple, np.ndarray))
    if isinstance(constraints, np.ndarray) and constraints.ndim == 2 or nested:
        arr = np.asarray(constraints, dtype=float)
        if arr.ndim != 2 or arr.shape[1] != p:
            raise ValueError(f"`constraints` as a matrix must have {p} columns (one per coefficient), "
                             f"got shape {arr.shape}.")
        if not np.all(np.isfinite(arr)):
            raise ValueError("`constraints` has missing or infinite values.")
        if np.linalg.matrix_rank(arr) < arr.shape[0]:
            raise ValueError("`constraints` rows are linearly dependent; remove the redundant rows.")
        return arr, "C beta = c0"
    if not isinstance(constraints, (list, tuple)) or len(constraints) == 0:
        raise ValueError("`constraints` must be a term name, a list of term names or indices, or a q x p matrix.")
    idx = []
    for c in constraints:
        if isinstance(c, (int, np.integer)) and not isinstance(c, bool):
            if not 0 <= c < p:
                raise ValueError(f"`constraints` index {c} is out of range 0..{p - 1}.")
            idx.append(int(c))
        elif isinstance(c, str):
            if c not in names:
                from analysis._checks import suggest_name

                raise ValueError(f"`constraints`: term {c!r} is not in the model.{suggest_name(c, names)} "
                                 f"Terms: {', '.join(names)}.")
            idx.append(names.index(c))
        else:
            raise ValueError(f"`constraints` entries must be term names or integer indices, got {c!r}.")
    if len(set(idx)) != len(idx):
        raise ValueError("`constraints` names a term twice.")
    I = np.eye(p)
    if kind == "zero":
        return I[idx], " = ".join(names[i] for i in idx) + " = 0"
    if len(idx) < 2:
        raise ValueError("kind='equal' needs at least two terms.")
    C = I[idx[1:]] - I[idx[0]]
    return C, " = ".join(names[i] for i in idx)


def wald_test(result: RobustResult, constraints: Any, *, kind: str = "zero", null: Any = 0.0,
              test: str = "HTZ") -> WaldResult:
    r"""Cluster-robust Wald test of several coefficients (clubSandwich ``Wald_test``).

    :math:`Q = (C\hat\beta - c_0)'(C V^{CR} C')^{-1}(C\hat\beta - c_0)`. ``"HTZ"``: the
    Hotelling-T^2 approximation of Pustejovsky & Tipton (2018), :math:`F = \delta Q / q`
    with :math:`\delta = (\nu - q + 1)/\nu` on (q, :math:`\nu - q + 1`) df (see the module
    docstring for :math:`\nu`); ``"chi-sq"``: Q / q against :math:`\chi^2_q / q`;
    ``"Naive-F"``: Q / q on (q, J - 1) df.

    Parameters
    ----------
    result : RobustResult
        From :func:`robust`.
    constraints : str, int, list or 2-D array
        Term name(s) or indices (with ``kind``), or a q x p constraint matrix C.
    kind : {"zero", "equal"}
        For term lists: all named coefficients are 0 (clubSandwich ``constrain_zero``), or
        all are equal (``constrain_equal``: differences from the first are 0).
    null : float or array
        The constant c0 (default 0).
    test : {"HTZ", "chi-sq", "Naive-F"}

    Returns
    -------
    WaldResult

    References
    ----------
    Pustejovsky, J. E., & Tipton, E. (2018). Small-sample methods for cluster-robust
    variance estimation and hypothesis testing in fixed effects models. *Journal of
    Business & Economic Statistics, 36*(4), 672-683.
    Tipton, E., & Pustejovsky, J. E. (2015). Small-sample adjustments for tests of
    moderators and model fit using robust variance estimation in meta-regression.
    *Journal of Educational and Behavioral Statistics, 40*(6), 604-634.

    Examples
    --------
    >>> from analysis.meta import meta_analysis
    >>> res = meta_analysis([0.1, 0.3, 0.2, 0.6, 0.5, 0.4, 0.2, 0.1],
    ...                     [0.02, 0.03, 0.02, 0.04, 0.03, 0.02, 0.03, 0.02], mods=[1, 2, 3, 4, 5, 6, 2, 1])
    >>> w = wald_test(robust(res, cluster=[1, 1, 2, 2, 3, 3, 4, 4]), "mod1")
    >>> w.df_num
    1
    """
    if not isinstance(result, RobustResult):
        raise ValueError(f"`result` must be a RobustResult from robust(), got {type(result).__name__}.")
    kind = check_choice("kind", kind, ("zero", "equal"))
    test = check_choice("test", test, WALD_TESTS)
    parts = result._parts
    C, hyp = _constraint_matrix(constraints, parts["names"], kind)
    q = C.shape[0]
    c0 = np.atleast_1d(np.asarray(null, dtype=float))
    if c0.size == 1:
        c0 = np.repeat(c0, q)
    if c0.shape != (q,) or not np.all(np.isfinite(c0)):
        raise ValueError(f"`null` must be one finite number or {q} of them (one per constraint row), got {null!r}.")
    d = C @ parts["beta"] - c0
    VC = C @ parts["V"] @ C.T
    try:
        Lc = np.linalg.cholesky(0.5 * (VC + VC.T))
    except np.linalg.LinAlgError:
        raise ValueError("The robust covariance of the constrained coefficients is not positive definite; "
                         "the Wald test cannot be computed (too few clusters for these terms?).") from None
    z = np.linalg.solve(Lc, d)
    Q = float(z @ z)
    notes: list[str] = []
    if test == "chi-sq":
        F, delta, dfd = Q / q, 1.0, math.inf
        pv = float(stats.chi2.sf(Q, q))
    elif test == "Naive-F":
        F, delta, dfd = Q / q, 1.0, float(parts["J"] - 1)
        pv = float(stats.f.sf(F, q, dfd))
    else:
        nu = _htz_nu(parts, C)
        dfd = nu - q + 1
        delta = max(dfd / nu, 0.0)
        F = delta * Q / q
        if dfd > 0:
            pv = float(stats.f.sf(F, q, dfd))
        else:
            pv = float("nan")
            msg = (f"the HTZ denominator df ({dfd:.3g}) is not positive: too few clusters for {q} constraints; "
                   "no p-value.")
            notes.append(msg)
            warnings.warn(f"wald_test: {msg}", UserWarning, stacklevel=2)
    if np.any(c0 != 0):
        hyp = f"{hyp} (c0 = {c0.tolist()})"
    return WaldResult(test=test, statistic=float(F), df_num=q, df_denom=float(dfd), pvalue=pv, delta=float(delta),
                      vcov_type=parts["vcov"], hypothesis=hyp, notes=notes)


# --------------------------------------------------------------------------- CHE recipe


@dataclass
class CHEResult:
    """A correlated-and-hierarchical-effects model with cluster-robust inference.

    ``model`` is the :class:`analysis.meta_mv.MVResult` working model, ``robust`` its CR2
    inference (the numbers to report), ``V`` the imputed sampling covariance, ``rho`` the
    assumed correlation.
    """

    model: Any
    robust: RobustResult
    V: Any = field(repr=False)
    rho: float = 0.6

    def to_frame(self) -> pd.DataFrame:
        """The robust coefficient table."""
        return self.robust.to_frame()

    def to_dict(self) -> dict:
        """Working model and robust inference as plain Python."""
        return {"rho": self.rho, "model": self.model.to_dict(), "robust": self.robust.to_dict()}

    def summary(self) -> str:
        """The working model (metafor layout) followed by the CR2 table (clubSandwich layout)."""
        return (f"\nCHE working model (assumed within-study correlation rho = {self.rho})\n" + self.model.summary()
                + self.robust.summary())

    def apa(self) -> str:
        """APA-style report: pooled effect (or coefficients) with robust CI and t test, and the variances."""
        comps = ", ".join(f"\u03c3\u00b2({n}) = {s:.3f}" for n, s in zip(self.model.sigma2_names, self.model.sigma2))
        return (f"Correlated and hierarchical effects model (REML, rho = {self.rho}; k = {self.model.k} effect sizes "
                f"in {self.robust.n_clusters} studies). " + self.robust.apa() + f" Variance components: {comps}.")

    def __repr__(self) -> str:
        return self.summary()


def che(
    yi: Any,
    vi: Any,
    study: Any,
    *,
    es_id: Any = None,
    data: pd.DataFrame | None = None,
    rho: float = 0.6,
    mods: Any = None,
    method: str = "REML",
    vcov: str = "CR2",
    level: float = 0.95,
    na_action: str = "fail",
) -> CHEResult:
    r"""The CHE working model with CR2 inference in one call (Pustejovsky & Tipton, 2022).

    The recipe, equal to the three R calls

    .. code-block:: r

        V   <- vcalc(vi, cluster = study, obs = es_id, rho = 0.6, data = dat)
        res <- rma.mv(yi, V, mods = MODS, random = ~ 1 | study/es_id, data = dat)
        coef_test(res, vcov = "CR2", cluster = dat$study)

    i.e. :func:`analysis.meta_dependent.vcalc` (constant sampling correlation ``rho``
    between the effects of a study), :func:`analysis.meta_mv.rma_mv` with random
    effects of studies and of effects within studies (REML), then :func:`robust` with
    CR2 and Satterthwaite df clustered by study. The robust table is what to report; the
    working model gives the variance components. Vary ``rho`` (e.g. 0.4 to 0.8) as a
    sensitivity analysis: the CR2 inference stays valid when rho is wrong.

    Parameters
    ----------
    yi, vi, study : array-like or str
        Effect sizes, sampling variances (> 0) and study of each effect (or columns of ``data``).
    es_id : array-like or str, optional
        Effect identifier within study (unique within a study). Default: row number within study.
    data : DataFrame, optional
    rho : float
        Assumed correlation between effects of one study, strictly between -1 and 1 (0.6).
    mods : formula, array or DataFrame, optional
        Moderators (a formula needs ``data``).
    method : {"REML", "ML"}
    vcov : {"CR2", "CR1", "CR0"}
    level : float
    na_action : {"fail", "omit"}

    Returns
    -------
    CHEResult
        ``robust`` (report this), ``model``, ``V``; ``summary()``, ``to_frame()``, ``apa()``.

    References
    ----------
    Pustejovsky, J. E., & Tipton, E. (2022). Meta-analysis with robust variance
    estimation: Expanding the range of working models. *Prevention Science, 23*, 425-438.

    Examples
    --------
    >>> out = che([0.1, 0.3, 0.2, 0.6, 0.5, 0.9, 0.0, 0.2, 0.3], [0.01] * 9,
    ...           [1, 1, 2, 2, 3, 3, 4, 4, 5])
    >>> out.robust.to_frame()["term"].tolist()
    ['intrcpt']
    """
    from analysis._checks import as_float_array
    from analysis.meta_dependent import vcalc
    from analysis.meta_mv import rma_mv

    na_action = check_na_action(na_action)
    check_choice("vcov", vcov, VCOV_TYPES)
    if isinstance(rho, (bool, np.bool_)) or not isinstance(rho, (int, float, np.number)) or not -1 < float(rho) < 1:
        raise ValueError(f"`rho` must lie strictly between -1 and 1, got {rho!r}.")
    if data is not None and not isinstance(data, pd.DataFrame):
        raise ValueError(f"`data` must be a pandas DataFrame, got {type(data).__name__}.")

    def col(name: str, value: Any, numeric: bool = False) -> np.ndarray:
        if isinstance(value, str):
            if data is None:
                raise ValueError(f"`{name}` is the column name {value!r} but no `data` was given.")
            check_columns(data, {name: value})
            value = data[value]
        if value is None or isinstance(value, (dict, set)):
            raise ValueError(f"`{name}` must be a column name or an array, got {type(value).__name__}.")
        if numeric:
            return as_float_array(name, value)
        arr = np.asarray(value.to_numpy() if isinstance(value, pd.Series) else value, dtype=object)
        if arr.ndim != 1:
            raise ValueError(f"`{name}` must be one-dimensional, got shape {arr.shape}.")
        return arr

    y = col("yi", yi, numeric=True)
    k = y.shape[0]
    index = data.index if data is not None and len(data) == k else pd.RangeIndex(k)
    frame = pd.DataFrame({"yi": y}, index=index)
    for name, value, numeric in (("vi", vi, True), ("study", study, False)):
        arr = col(name, value, numeric)
        if arr.shape[0] != k:
            raise ValueError(f"`{name}` has {arr.shape[0]} entries but `yi` has {k}: lengths must match.")
        frame[name] = arr
    if es_id is None:
        frame["es_id"] = frame.groupby("study", sort=False, dropna=False).cumcount() + 1
    else:
        arr = col("es_id", es_id)
        if arr.shape[0] != k:
            raise ValueError(f"`es_id` has {arr.shape[0]} entries but `yi` has {k}: lengths must match.")
        frame["es_id"] = arr
    # moderators travel with the rows (a formula is evaluated on data + these columns)
    if isinstance(mods, str):
        if data is None:
            raise ValueError("`mods` is a formula but no `data` was given.")
        full = pd.concat([data.drop(columns=[c for c in frame.columns if c in data.columns]), frame], axis=1)
        mods_rows = None
    else:
        full = frame
        mods_rows = None if mods is None else (
            mods.set_axis(index) if isinstance(mods, (pd.Series, pd.DataFrame)) and len(mods) == k else mods)
    miss = (frame[["study", "es_id"]].isna().any(axis=1).to_numpy()
            | ~np.isfinite(frame["yi"].to_numpy()) | ~np.isfinite(frame["vi"].to_numpy()))
    if isinstance(mods, str):
        import patsy

        try:
            dm = patsy.dmatrix(mods, full, NA_action="drop", return_type="dataframe")
            miss |= ~full.index.isin(dm.index)
        except Exception:  # noqa: BLE001 - rma_mv reports the formula error
            pass
    elif isinstance(mods_rows, (pd.Series, pd.DataFrame)):
        miss |= mods_rows.isna().to_numpy().reshape(k, -1).any(axis=1)
    if miss.any():
        where = describe_labels(frame.index[miss])
        if na_action == "fail":
            raise ValueError(f"Missing or infinite values in `yi`, `vi`, `study`, `es_id` or `mods` at {where} "
                             "(use na_action='omit' to drop these rows).")
        warnings.warn(f"che: dropped {int(miss.sum())} row(s) with missing values at {where}.", UserWarning,
                      stacklevel=2)
        frame, full = frame.loc[~miss], full.loc[~miss]
        if isinstance(mods_rows, (pd.Series, pd.DataFrame)):
            mods_rows = mods_rows.loc[~miss]
        elif mods_rows is not None:
            mods_rows = np.asarray(mods_rows)[~miss]
    dup = frame.duplicated(subset=["study", "es_id"]).to_numpy()
    if dup.any():
        raise ValueError(f"`es_id` must be unique within each study; repeated at {describe_labels(frame.index[dup])}.")
    V = vcalc(frame["vi"].to_numpy(), frame["study"].to_numpy(), obs=frame["es_id"].to_numpy(), rho=float(rho),
              sparse=True)
    if isinstance(mods_rows, (pd.Series, pd.DataFrame)):
        mods_rows = mods_rows.reset_index(drop=True)
    model = rma_mv(frame["yi"].to_numpy(), V, data=full.reset_index(drop=True),
                   random=[frame["study"].to_numpy(), frame["es_id"].to_numpy()],
                   mods=mods if isinstance(mods, str) else mods_rows, method=method, level=level)
    model.sigma2_names = ["study", "study/es_id"]
    rob = robust(model, frame["study"].to_numpy(), vcov=vcov, level=level)
    return CHEResult(model=model, robust=rob, V=V, rho=float(rho))
