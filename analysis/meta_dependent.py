r"""Dependent effect sizes: imputed sampling covariance (metafor ``vcalc``) and aggregation.

Many studies report several effect sizes from the same participants (several outcomes,
time points, or treatment arms compared with one control group). Their sampling errors are
correlated, and the correlations are rarely reported. Two tools from metafor are written
here by hand (no Python library offers them):

- :func:`vcalc` builds the block-diagonal sampling covariance matrix V from the sampling
  variances and an assumed correlation structure (constant correlation ``rho`` between
  different outcomes or constructs, auto-correlation ``phi`` over time, shared groups such
  as a common control arm), as metafor's ``vcalc``.
- :func:`aggregate` turns the effects of each cluster into one inverse-variance weighted
  composite with its variance (metafor's ``aggregate.escalc``), for a univariate
  meta-analysis of independent study-level effects.

The matrix from :func:`vcalc` is what :func:`analysis.meta_mv.rma_mv` takes as ``V``.
Checked against metafor 3.8.1 (``tests/oracles/meta_dependent.R``) to 1e-12.

References
----------
Pustejovsky, J. E., & Tipton, E. (2022). Meta-analysis with robust variance estimation:
    Expanding the range of working models. *Prevention Science, 23*, 425-438.
Gleser, L. J., & Olkin, I. (2009). Stochastically dependent effect sizes. In H. Cooper,
    L. V. Hedges, & J. C. Valentine (Eds.), *The handbook of research synthesis and
    meta-analysis* (2nd ed., pp. 357-376). Russell Sage Foundation.
Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from analysis._checks import as_float_array, check_choice, check_columns, check_positive, describe_labels, first_bad

__all__ = ["vcalc", "aggregate", "STRUCTS"]

#: Correlation structures of :func:`aggregate` (metafor ``struct``).
STRUCTS = ("ID", "CS", "CAR", "CS+CAR", "CS*CAR")


def _get(data: pd.DataFrame | None, name: str, value: Any, k: int | None, *, numeric: bool = False,
         required: bool = False) -> np.ndarray | None:
    """Fetch an argument that is a column name of ``data`` or an array of length k."""
    if value is None:
        if required:
            raise ValueError(f"`{name}` is required but was None.")
        return None
    if isinstance(value, str):
        if data is None:
            raise ValueError(f"`{name}` is the column name {value!r} but no `data` was given.")
        check_columns(data, {name: value})
        value = data[value]
    if numeric:
        arr = as_float_array(name, value)
    else:
        if isinstance(value, (dict, set)):
            raise ValueError(f"`{name}` must be a column name or a 1-D array, got {type(value).__name__}.")
        arr = np.asarray(value.to_numpy() if isinstance(value, pd.Series) else value, dtype=object)
        if arr.ndim == 0:
            arr = arr.reshape(1)
        if arr.ndim != 1:
            raise ValueError(f"`{name}` must be one-dimensional, got shape {arr.shape}.")
        bad = pd.isna(pd.Series(arr)).to_numpy()
        if bad.any():
            raise ValueError(f"`{name}` has missing values at {first_bad(bad)}.")
    if k is not None and arr.shape[0] != k:
        raise ValueError(f"`{name}` has {arr.shape[0]} entries but `vi` has {k}: lengths must match.")
    if numeric:
        bad = ~np.isfinite(arr)
        if bad.any():
            raise ValueError(f"`{name}` has missing or infinite values at {first_bad(bad)}.")
    return arr


def _keys(arr: np.ndarray) -> np.ndarray:
    """Integer codes of labels (equal labels, equal codes)."""
    return pd.factorize(pd.Series(arr).astype(str))[0]


def _check_corr(name: str, value: Any, *, low: float = -1.0) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise ValueError(f"`{name}` must be a number, got {value!r}.")
    value = float(value)
    if not np.isfinite(value) or not (low < value < 1.0) and not (name == "phi" and value == 1.0):
        raise ValueError(f"`{name}` must lie strictly between {low:g} and 1, got {value!r}.")
    return value


def vcalc(
    vi: Any,
    cluster: Any,
    *,
    obs: Any = None,
    type: Any = None,  # noqa: A002 - metafor's name
    rho: Any = None,
    time1: Any = None,
    time2: Any = None,
    phi: float | None = None,
    grp1: Any = None,
    grp2: Any = None,
    w1: Any = None,
    w2: Any = None,
    subgroup: Any = None,
    data: pd.DataFrame | None = None,
    checkpd: bool = True,
    sparse: bool = False,
) -> np.ndarray:
    r"""Block-diagonal sampling covariance matrix of dependent effect sizes (metafor ``vcalc``).

    :math:`V_{ij} = R_{ij}\sqrt{v_i v_j}` for effects i, j of the same cluster (0 across
    clusters), with the correlation

    .. math:: R_{ij} = \rho_{ij}\;\frac{g_{11} s_{11} - g_{12} s_{12} - g_{21} s_{21} + g_{22} s_{22}}
              {\sqrt{d_i d_j}},

    where :math:`\rho_{ij}` is 1 for the same observation (``obs``) of the same construct
    (``type``), ``rho`` for different observations of one construct and the between-construct
    correlation otherwise; :math:`g_{ab} = [\mathrm{grp}_a(i) = \mathrm{grp}_b(j)]\,
    \phi^{|t_a(i) - t_b(j)|}`, :math:`s_{ab} = (w_a(i) w_b(j))^{-1/2}` and
    :math:`d_i = 1/w_1(i) + 1/w_2(i) - 2 g_{12}(i, i) (w_1(i) w_2(i))^{-1/2}`. Without
    ``grp``/``time``/``w`` arguments the fraction is 1, so :math:`R_{ij} = \rho_{ij}`
    (the constant correlation of the correlated-and-hierarchical-effects working model);
    with ``time1`` and ``phi`` it is :math:`\phi^{|t_i - t_j|}`; with ``grp1``/``grp2`` and
    group sizes ``w1``/``w2`` it gives the correlation of contrasts that share a group
    (e.g. several treatments compared with one control: about 1/2 for equal sizes).
    Written by hand following metafor's definition (Viechtbauer, 2010; Pustejovsky &
    Tipton, 2022).

    Parameters
    ----------
    vi : array-like or str
        Sampling variances (> 0), or a column of ``data``.
    cluster : array-like or str
        Cluster (usually study) of each effect; effects of different clusters are independent.
    obs, type : array-like or str, optional
        Observation (e.g. outcome or effect id) and construct of each effect, as in metafor.
        ``rho`` is one number when only one of them is given and (within-construct,
        between-construct) when both are.
    rho : float or pair of floats, optional
        Assumed correlation(s), strictly between -1 and 1. Needed with ``obs`` or ``type``.
    time1, time2 : array-like or str, optional
        Time points (numeric) of the effect (and of its second group); need ``phi``.
    phi : float, optional
        Auto-correlation per unit of time, in (-1, 1].
    grp1, grp2 : array-like or str, optional
        Group identifiers of the two groups each effect contrasts (``grp2`` needs ``grp1``).
    w1, w2 : array-like or str, optional
        Group sizes (> 0) of ``grp1`` and ``grp2`` (default 1).
    subgroup : array-like or str, optional
        Effects of different subgroups of a cluster are independent.
    data : DataFrame, optional
    checkpd : bool
        Warn (``UserWarning`` naming the clusters) when a block is not positive definite,
        as metafor does.
    sparse : bool
        Return a ``scipy.sparse.csr_matrix`` (for many effects) instead of a dense array.

    Returns
    -------
    numpy.ndarray or scipy.sparse.csr_matrix
        The k x k matrix V, rows in the order of ``vi``.

    References
    ----------
    Pustejovsky, J. E., & Tipton, E. (2022). Meta-analysis with robust variance
    estimation: Expanding the range of working models. *Prevention Science, 23*, 425-438.
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.

    Examples
    --------
    >>> V = vcalc([0.04, 0.09, 0.01], cluster=[1, 1, 2], obs=[1, 2, 1], rho=0.5)
    >>> V.round(4)
    array([[0.04, 0.03, 0.  ],
           [0.03, 0.09, 0.  ],
           [0.  , 0.  , 0.01]])
    """
    if data is not None and not isinstance(data, pd.DataFrame):
        raise ValueError(f"`data` must be a pandas DataFrame, got {data.__class__.__name__}.")
    v = _get(data, "vi", vi, None, numeric=True, required=True)
    k = v.shape[0]
    if k < 1:
        raise ValueError("`vi` is empty.")
    check_positive("vi", v, what="a positive sampling variance")
    cl = _get(data, "cluster", cluster, k, required=True)
    ob = _get(data, "obs", obs, k)
    ty = _get(data, "type", type, k)
    t1 = _get(data, "time1", time1, k, numeric=True)
    t2 = _get(data, "time2", time2, k, numeric=True)
    g1 = _get(data, "grp1", grp1, k)
    g2 = _get(data, "grp2", grp2, k)
    ww1 = _get(data, "w1", w1, k, numeric=True)
    ww2 = _get(data, "w2", w2, k, numeric=True)
    sg = _get(data, "subgroup", subgroup, k)
    # correlations
    if ob is not None or ty is not None:
        if rho is None:
            raise ValueError("`rho` is required when `obs` or `type` is given.")
        rr = np.atleast_1d(np.asarray(rho, dtype=object))
        want = 2 if (ob is not None and ty is not None) else 1
        if rr.size != want:
            why = ("(within-construct, between-construct) because both `obs` and `type` are given" if want == 2
                   else "one correlation")
            raise ValueError(f"`rho` must have {want} value{'s' if want > 1 else ''} here ({why}); got {rho!r}.")
        rr = [_check_corr("rho", x) for x in rr]
        rho_obs, rho_type = (rr[0], rr[1]) if want == 2 else ((rr[0], 0.0) if ob is not None else (0.0, rr[0]))
    else:
        if rho is not None:
            raise ValueError("`rho` is given but neither `obs` nor `type` says which effects it applies to.")
        rho_obs = rho_type = 0.0
    if g2 is not None and g1 is None:
        raise ValueError("`grp2` needs `grp1`: give only `grp1`, both, or neither.")
    if t2 is not None and t1 is None:
        raise ValueError("`time2` needs `time1`: give only `time1`, both, or neither.")
    if t2 is not None and g2 is None:
        raise ValueError("`time2` needs `grp2`.")
    if ww2 is not None and ww1 is None:
        raise ValueError("`w2` needs `w1`.")
    if ww2 is not None and g2 is None:
        raise ValueError("`w2` needs `grp2`.")
    if t1 is not None:
        if phi is None:
            raise ValueError("`phi` is required when `time1` is given.")
        phi = _check_corr("phi", phi)
    elif phi is not None:
        raise ValueError("`phi` is given but no `time1`.")
    else:
        phi = 1.0
    for name, w in (("w1", ww1), ("w2", ww2)):
        if w is not None:
            check_positive(name, w)
    ob_c = _keys(ob) if ob is not None else np.zeros(k, int)
    ty_c = _keys(ty) if ty is not None else np.zeros(k, int)
    if g1 is not None:
        both = _keys(np.concatenate([g1, g2 if g2 is not None else np.array(["\x00grp2"] * k, dtype=object)]))
        g1_c, g2_c = both[:k], both[k:]
    else:
        g1_c, g2_c = np.zeros(k, int), np.ones(k, int)
    t1 = np.zeros(k) if t1 is None else t1
    t2 = t1 if t2 is None else t2
    ww1 = np.ones(k) if ww1 is None else ww1
    ww2 = ww1 if ww2 is None else ww2
    if phi < 0:
        for t in (t1, t2):
            if np.any(t != np.round(t)):
                raise ValueError("A negative `phi` needs whole-number times (phi ** non-integer lag is undefined).")
    cl_s = pd.Series(cl).astype(str)
    if sg is not None:
        cl_s = cl_s + "." + pd.Series(sg).astype(str)
    codes, uniq = pd.factorize(cl_s)

    ii, jj, pi, pj, sizes = _pairs(codes)

    def g(ga, gb, ta, tb, a, b):
        lag = np.abs(ta[a] - tb[b])
        with np.errstate(invalid="ignore"):
            pw = np.where(lag == 0, 1.0, np.power(phi, lag))
        return (ga[a] == gb[b]) * pw

    # every within-cluster pair at once (no loop over clusters)
    same_type = ty_c[ii] == ty_c[jj]
    same_obs = ob_c[ii] == ob_c[jj]
    rterm = np.where(same_type, np.where(same_obs, 1.0, rho_obs), rho_type)
    s1, s2 = 1.0 / ww1, 1.0 / ww2
    num = (g(g1_c, g1_c, t1, t1, ii, jj) * np.sqrt(s1[ii] * s1[jj])
           - g(g1_c, g2_c, t1, t2, ii, jj) * np.sqrt(s1[ii] * s2[jj])
           - g(g2_c, g1_c, t2, t1, ii, jj) * np.sqrt(s2[ii] * s1[jj])
           + g(g2_c, g2_c, t2, t2, ii, jj) * np.sqrt(s2[ii] * s2[jj]))
    rows = np.arange(k)
    d = s1 + s2 - 2 * g(g1_c, g2_c, t1, t2, rows, rows) * np.sqrt(s1 * s2)
    if np.any(d <= 0):
        bad = int(np.flatnonzero(d <= 0)[0])
        raise ValueError(f"Cluster {uniq[codes[bad]]!r}: an effect contrasts a group with itself (`grp1` equals `grp2` "
                         f"at the same time, {first_bad(d <= 0)}), so its variance structure is undefined.")
    R = np.where(ii == jj, 1.0, rterm * num / np.sqrt(d[ii] * d[jj]))
    sq = np.sqrt(v)
    vals = R * sq[ii] * sq[jj]
    if checkpd:
        not_pd = []
        for n in np.unique(sizes[sizes > 1]):
            sel = sizes[codes[ii]] == n
            cl_n = np.flatnonzero(sizes == n)
            slot = np.full(len(uniq), -1)
            slot[cl_n] = np.arange(cl_n.size)
            blocks = np.zeros((cl_n.size, n, n))
            blocks[slot[codes[ii[sel]]], pi[sel], pj[sel]] = R[sel]
            low = np.linalg.eigvalsh(blocks)[:, 0] <= 1e-12
            not_pd += list(cl_n[low])
        not_pd = [str(uniq[c]) for c in sorted(not_pd)]
        if not_pd:
            warnings.warn("vcalc: the var-cov matrix is not positive definite in cluster"
                          f"{'s' if len(not_pd) > 1 else ''} {', '.join(not_pd[:10])}"
                          f"{' ...' if len(not_pd) > 10 else ''} (check `obs`, `type`, `rho`).", UserWarning,
                          stacklevel=2)
    if sparse:
        from scipy import sparse as sp

        M = sp.csr_matrix((vals, (ii, jj)), shape=(k, k))
        M.eliminate_zeros()
        return M
    V = np.zeros((k, k))
    V[ii, jj] = vals
    return V


def _pairs(codes: np.ndarray) -> tuple[np.ndarray, ...]:
    """Every ordered pair (i, j) of rows in the same cluster, their positions within it, and the cluster sizes."""
    k = codes.size
    order = np.argsort(codes, kind="stable")
    sizes = np.bincount(codes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    sc = codes[order]
    n_row = sizes[sc]
    pos_row = np.arange(k) - starts[sc]
    i_sorted = np.repeat(np.arange(k), n_row)
    offs = np.arange(int(n_row.sum())) - np.repeat(np.cumsum(n_row) - n_row, n_row)
    j_sorted = starts[sc][i_sorted] + offs
    return order[i_sorted], order[j_sorted], pos_row[i_sorted], offs, sizes


def aggregate(
    yi: Any,
    vi: Any,
    cluster: Any,
    *,
    data: pd.DataFrame | None = None,
    struct: str = "CS",
    rho: float | None = None,
    phi: float | None = None,
    time: Any = None,
    obs: Any = None,
    V: Any = None,
    weighted: bool = True,
) -> pd.DataFrame:
    r"""One composite effect per cluster (metafor ``aggregate.escalc``).

    Within cluster j with covariance block :math:`V_j = S R_j S`
    (:math:`S = \mathrm{diag}(\sqrt{v})`), the inverse-variance weighted composite and its
    variance are

    .. math:: \bar y_j = \frac{\mathbf 1' V_j^{-1} y_j}{\mathbf 1' V_j^{-1}\mathbf 1},\qquad
              \bar v_j = \frac{1}{\mathbf 1' V_j^{-1} \mathbf 1}

    (``weighted=False``: the plain mean and :math:`\mathbf 1' V_j \mathbf 1 / n_j^2`).
    :math:`R_j` follows ``struct``: ``"ID"`` (independent), ``"CS"`` (compound symmetry,
    every pair ``rho``), ``"CAR"`` (:math:`\phi^{|t_i - t_h|}`), ``"CS+CAR"``
    (:math:`\rho + (1 - \rho)\phi^{|t_i - t_h|}`) or ``"CS*CAR"`` (``rho`` for different
    ``obs`` times :math:`\phi^{|t_i - t_h|}`); or give the full matrix ``V``. Written by hand
    after metafor (Viechtbauer, 2010); with ``"CS"`` this is the composite of Borenstein et
    al. (2009, ch. 24) for correlated outcomes.

    Parameters
    ----------
    yi, vi : array-like or str
        Effect sizes and sampling variances (> 0), or columns of ``data``.
    cluster : array-like or str
        Cluster (study) of each effect.
    data : DataFrame, optional
    struct : {"ID", "CS", "CAR", "CS+CAR", "CS*CAR"}
    rho : float, optional
        Within-cluster correlation, strictly between -1 and 1 (structures with CS).
    phi : float, optional
        Auto-correlation per unit of ``time``, in [0, 1] (structures with CAR).
    time, obs : array-like or str, optional
        Time points (CAR) and observation ids (CS*CAR).
    V : array-like, optional
        A full k x k sampling covariance matrix (e.g. from :func:`vcalc`); ``struct``,
        ``rho`` and ``phi`` are then ignored.
    weighted : bool

    Returns
    -------
    pandas.DataFrame
        Columns ``cluster, yi, vi, n_effects``, one row per cluster in order of first
        appearance (as metafor).

    References
    ----------
    Borenstein, M., Hedges, L. V., Higgins, J. P. T., & Rothstein, H. R. (2009).
    *Introduction to meta-analysis*. Wiley (chapter 24).
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.

    Examples
    --------
    >>> out = aggregate([0.2, 0.4, 0.5], [0.04, 0.04, 0.02], cluster=[1, 1, 2], rho=0.5)
    >>> out.round(4).to_dict("list")
    {'cluster': [1, 2], 'yi': [0.3, 0.5], 'vi': [0.03, 0.02], 'n_effects': [2, 1]}
    """
    if data is not None and not isinstance(data, pd.DataFrame):
        raise ValueError(f"`data` must be a pandas DataFrame, got {type(data).__name__}.")
    y = _get(data, "yi", yi, None, numeric=True, required=True)
    k = y.shape[0]
    if k < 1:
        raise ValueError("`yi` is empty.")
    v = _get(data, "vi", vi, k, numeric=True, required=True)
    check_positive("vi", v, what="a positive sampling variance")
    cl = _get(data, "cluster", cluster, k, required=True)
    if not isinstance(weighted, (bool, np.bool_)):
        raise ValueError(f"`weighted` must be True or False, got {weighted!r}.")
    if V is not None:
        Vm = V.toarray() if hasattr(V, "toarray") else np.asarray(V, dtype=float)
        if Vm.shape != (k, k):
            raise ValueError(f"`V` must be a {k} x {k} matrix (one row per effect), got shape {Vm.shape}.")
        if not np.all(np.isfinite(Vm)):
            raise ValueError("`V` has missing or infinite values.")
        if not np.allclose(Vm, Vm.T, rtol=1e-10, atol=0):
            raise ValueError("`V` must be symmetric.")
    else:
        struct = check_choice("struct", struct, STRUCTS)
        if "CS" in struct:
            if rho is None:
                raise ValueError(f"`rho` is required for struct={struct!r}.")
            rho = _check_corr("rho", rho)
        if "CAR" in struct:
            if phi is None:
                raise ValueError(f"`phi` is required for struct={struct!r}.")
            if isinstance(phi, (bool, np.bool_)) or not isinstance(phi, (int, float, np.number)) \
                    or not 0.0 <= float(phi) <= 1.0:
                raise ValueError(f"`phi` must lie in [0, 1], got {phi!r}.")
            phi = float(phi)
            tt = _get(data, "time", time, k, numeric=True, required=True)
        if struct == "CS*CAR":
            ob = _get(data, "obs", obs, k, required=True)
            ob_c = _keys(ob)
    codes, uniq = pd.factorize(pd.Series(cl))
    out_y, out_v, out_n = [], [], []
    for c in range(len(uniq)):
        idx = np.flatnonzero(codes == c)
        n = idx.size
        if V is not None:
            B = Vm[np.ix_(idx, idx)]
        else:
            if struct == "ID":
                R = np.eye(n)
            elif struct == "CS":
                R = np.full((n, n), rho)
            else:
                lag = np.abs(tt[idx][:, None] - tt[idx][None, :])
                car = np.where(lag == 0, 1.0, phi ** lag)
                if struct == "CAR":
                    R = car
                elif struct == "CS+CAR":
                    R = rho + (1 - rho) * car
                else:
                    R = np.where(ob_c[idx][:, None] == ob_c[idx][None, :], 1.0, rho) * car
            np.fill_diagonal(R, 1.0)
            sq = np.sqrt(v[idx])
            B = R * np.outer(sq, sq)
        if n > 1 and np.linalg.eigvalsh(B).min() <= 1e-12 * np.abs(np.diag(B)).max():
            where = (describe_labels(data.index[idx]) if data is not None and len(data) == k
                     else describe_labels(idx, what="positions"))
            raise ValueError(f"Cluster {uniq[c]!r} ({where}): its sampling "
                             "covariance block is not positive definite, so the estimates cannot be aggregated "
                             "(check `rho`, `phi`, `time` or `V`).")
        yc = y[idx]
        if n == 1:  # one effect: passes through unchanged
            out_y.append(float(yc[0]))
            out_v.append(float(B[0, 0]))
        elif weighted:
            L = np.linalg.cholesky(B)
            one = np.linalg.solve(L, np.ones(n))
            yy = np.linalg.solve(L, yc)
            sw = float(one @ one)
            out_y.append(float(one @ yy) / sw)
            out_v.append(1.0 / sw)
        else:
            out_y.append(float(yc.mean()))
            out_v.append(float(B.sum()) / n**2)
        out_n.append(n)
    return pd.DataFrame({"cluster": list(uniq), "yi": out_y, "vi": out_v, "n_effects": out_n})
