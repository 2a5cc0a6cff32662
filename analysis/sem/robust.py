r"""Robust maximum likelihood (lavaan's ``estimator = "MLR"``), complete data and FIML.

The estimates are the ML (or FIML) estimates; what changes is the inference, built from
per-observation matrices in the saturated ("h1") coordinates
:math:`\gamma = (\mu, \operatorname{vech}\Sigma)` of each group :math:`g` (:math:`n_g` rows,
:math:`f_g = n_g/N`), with :math:`\Delta_g = \partial\gamma_g/\partial\theta^\top` the model's
analytic Jacobian (:meth:`analysis.sem.model.SEMModel.jacobian`):

* :math:`A_{1g}` — observed h1 information: minus the Hessian of the log-likelihood per
  row in :math:`\gamma` (:func:`analysis.sem.missing.hessian`, casewise under FIML),
  evaluated at the saturated moments (sample moments, or EM estimates under FIML: lavaan's
  "unstructured", which its Mplus variant of the test always uses);
* :math:`B_{1g} = \frac1{n_g}\sum_i s_i s_i^\top` — first-order (cross-product) h1
  information from the casewise scores :math:`s_i` (:func:`analysis.sem.missing.casewise_scores`),
  at the saturated moments, and :math:`B^{(0)}_{1g}` the same at the model-implied moments
  (lavaan's default ``h1.information = "structured"``);
* :math:`E` — the h0 information per row, observed (Hessian of the objective, lavaan's
  default for MLR), :math:`E^{-1}` its inverse.

**Standard errors** (Huber 1967; White 1982): the sandwich
:math:`\widehat{V}(\hat\theta) = \frac1N E^{-1}\Big(\sum_g f_g\,\Delta_g^\top B^{(0)}_{1g}\Delta_g\Big)E^{-1}`
(lavaan's ``se = "robust.huber.white"``).

**Scaled test statistic** (Yuan & Bentler 2000; lavaan's ``test = "yuan.bentler.mplus"``):
:math:`c = \frac1{df}\sum_g\Big[\operatorname{tr}(A_{1g}^{-1}B_{1g})
- f_g\operatorname{tr}\big(\Delta_g^\top B^{(0)}_{1g}\Delta_g E^{-1}\big)\Big]`,
:math:`T_{scaled} = T_{ML}/c` referred to :math:`\chi^2_{df}`. The same for the independence
(baseline) model (free means and variances; its Jacobian is a selection matrix) gives
:math:`c_B` and :math:`T_{B,scaled} = T_B/c_B`.

**Fit indices** as lavaan's ``fitMeasures``: ``cfi.scaled``, ``tli.scaled``, ``rmsea.scaled``
are the usual formulas with the scaled statistics; with complete data ``cfi.robust``,
``tli.robust`` and ``rmsea.robust`` follow Brosseau-Liard, Savalei & Li (2012) and
Brosseau-Liard & Savalei (2014):
:math:`RMSEA_{robust} = \sqrt{\max(0, (T - c\,df)/(N\,df))}`,
:math:`CFI_{robust} = 1 - \max(T - c\,df, 0)/\max(T - c\,df, T_B - c_B df_B, 0)`,
:math:`TLI_{robust} = 1 - \frac{(T - c\,df)/df}{(T_B - c_B df_B)/df_B}`. With missing data
lavaan 0.6-13+ computes its robust CFI/RMSEA by the different method of Zhang & Savalei
(2023), not implemented here: those keys are absent (never NaN) under FIML.

References
----------
Brosseau-Liard, P. E., Savalei, V., & Li, L. (2012). An investigation of the sample performance of
two nonnormality corrections for RMSEA. *Multivariate Behavioral Research, 47*(6), 904--930.
Brosseau-Liard, P. E., & Savalei, V. (2014). Adjusting incremental fit indices for nonnormality.
*Multivariate Behavioral Research, 49*(5), 460--470.
Huber, P. J. (1967). The behavior of maximum likelihood estimates under nonstandard conditions.
*Proc. Fifth Berkeley Symposium, 1*, 221--233.
White, H. (1982). Maximum likelihood estimation of misspecified models. *Econometrica, 50*(1), 1--25.
Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based methods for mean and covariance
structure analysis with nonnormal missing data. *Sociological Methodology, 30*, 165--200.
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of Statistical
Software, 48*(2), 1--36.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from analysis.sem import missing as _miss

__all__ = ["h1_matrices", "sandwich_vcov", "yuan_bentler_scaling", "scaled_fit_measures", "fit_mlr"]


def _vech_rows(p: int) -> np.ndarray:
    """Positions in vec(Sigma) (column-major) of vech(Sigma) (lower triangle, column by column)."""
    return np.array([i + j * p for j in range(p) for i in range(j, p)])


def _to_vech(p: int, meanstructure: bool):
    """(rows of (mu, vec Sigma) kept, J mapping (mu, vech) -> (mu, vec)) for the h1 coordinates."""
    D = _miss._dup(p)
    if meanstructure:
        J = np.zeros((p + p * p, p + D.shape[1]))
        J[:p, :p] = np.eye(p)
        J[p:, p:] = D
        rows = np.concatenate([np.arange(p), p + _vech_rows(p)])
    else:
        J = np.zeros((p + p * p, D.shape[1]))
        J[p:, :] = D
        rows = p + _vech_rows(p)
    return rows, J


def h1_matrices(X, mu, Sigma, *, meanstructure: bool = True):
    r"""Observed (:math:`A_1`) and first-order (:math:`B_1`) h1 information per row at given moments.

    :math:`A_1 = -\frac1n J^\top H J` with :math:`H` the Hessian of the (casewise) normal
    log-likelihood in :math:`(\mu, \operatorname{vec}\Sigma)` (:func:`analysis.sem.missing.hessian`),
    :math:`B_1 = \frac1n J^\top\big(\sum_i s_i s_i^\top\big)J` with the casewise scores
    :math:`s_i` (:func:`analysis.sem.missing.casewise_scores`), :math:`J` mapping
    :math:`(\mu, \operatorname{vech}\Sigma)` to :math:`(\mu, \operatorname{vec}\Sigma)`. Without
    a mean structure the mean block is dropped (and ``mu`` should be the sample means).

    Parameters
    ----------
    X : array_like, shape (n, p)
        Raw rows, NaN for missing values (rows without any observed value are ignored).
    mu : array_like, shape (p,)
    Sigma : array_like, shape (p, p)
        The moments at which to evaluate (lavaan's "structured": the model-implied ones).
    meanstructure : bool, default True

    Returns
    -------
    A1, B1 : numpy.ndarray
        Square, of size :math:`p + p(p+1)/2` (or :math:`p(p+1)/2` without means).

    References
    ----------
    Yuan, K.-H., & Bentler, P. M. (2000). *Sociological Methodology, 30*, 165--200.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 2))
    >>> A1, B1 = h1_matrices(X, X.mean(axis=0), np.cov(X.T, ddof=0))
    >>> A1.shape, bool(np.allclose(A1, B1, atol=0.3))
    ((5, 5), True)
    """
    if not isinstance(meanstructure, (bool, np.bool_)):
        raise ValueError(f"`meanstructure` must be True or False; got {meanstructure!r}.")
    pat = _miss.Patterns(X)
    mu, Sigma = _miss._check_moments(pat, mu, Sigma)
    _, J = _to_vech(pat.p, meanstructure)
    try:
        with np.errstate(over="raise", under="ignore"):
            H = _miss.hessian(pat, mu, Sigma)
            A1 = -(J.T @ H @ J) / pat.n
            sc = _miss.casewise_scores(pat, mu, Sigma) @ J
            B1 = sc.T @ sc / pat.n
    except FloatingPointError:
        raise ValueError("`X`: the information matrices overflow at this scale of the data (variances beyond "
                         "about 1e+-150); rescale the variables (e.g. to SD units) first.") from None
    return 0.5 * (A1 + A1.T), B1


def _check_square(name, M, q=None):
    M = np.asarray(M, dtype=float)
    if M.ndim != 2 or M.shape[0] != M.shape[1] or (q is not None and M.shape[0] != q):
        want = f"{q} x {q}" if q is not None else "square"
        raise ValueError(f"`{name}` must be a {want} matrix; got shape {M.shape}.")
    if not np.isfinite(M).all():
        raise ValueError(f"`{name}` must be finite.")
    return M


def _inv(name, E):
    """Inverse of a positive definite matrix after diagonal equilibration (units of the data drop out)."""
    dg = np.diag(E).copy()
    if not (dg > 0).all():
        raise ValueError(f"`{name}` is singular or not positive definite (a diagonal element <= 0): the model "
                         "may not be identified.")
    d = 1.0 / np.sqrt(dg)
    Es = E * np.outer(d, d)
    ev = np.linalg.eigvalsh(0.5 * (Es + Es.T))
    if ev.min() <= 1e-12 * max(abs(ev.max()), 1e-300):
        raise ValueError(f"`{name}` is singular or not positive definite (smallest eigenvalue of the "
                         f"equilibrated matrix {ev.min():.3g}): the model may not be identified.")
    return np.linalg.inv(Es) * np.outer(d, d)


def sandwich_vcov(E, B1s, Deltas, ns):
    r"""Huber-White covariance matrix of the estimates, :math:`\frac1N E^{-1}(\sum_g f_g\Delta_g^\top B_{1g}\Delta_g)E^{-1}`.

    Parameters
    ----------
    E : array_like, shape (q, q)
        h0 information per row (observed: the Hessian of the objective divided by N).
    B1s : list of array_like
        Per group the first-order h1 information per row (:func:`h1_matrices`).
    Deltas : list of array_like
        Per group the Jacobian of the h1 coordinates :math:`(\mu, \operatorname{vech}\Sigma)`
        (without means: :math:`\operatorname{vech}\Sigma` only) with respect to :math:`\theta`.
    ns : list of int
        Rows per group.

    Returns
    -------
    numpy.ndarray, shape (q, q)

    References
    ----------
    White, H. (1982). *Econometrica, 50*(1), 1--25.

    Examples
    --------
    >>> sandwich_vcov(np.eye(1), [np.array([[2.0]])], [np.eye(1)], [100]).tolist()
    [[0.02]]
    """
    E = _check_square("E", E)
    q = E.shape[0]
    B1s, Deltas, ns = _check_groups(B1s, Deltas, ns, q)
    Einv = _inv("E", E)
    N = float(sum(ns))
    B0 = sum((n / N) * (D.T @ B @ D) for B, D, n in zip(B1s, Deltas, ns))
    V = Einv @ B0 @ Einv / N
    return 0.5 * (V + V.T)


def _check_groups(B1s, Deltas, ns, q):
    for nm, v in (("B1s", B1s), ("Deltas", Deltas), ("ns", ns)):
        if isinstance(v, (str, bytes, dict)) or not hasattr(v, "__len__") or len(v) == 0:
            raise ValueError(f"`{nm}` must be a non-empty list (one entry per group); got {type(v).__name__}.")
    if not (len(B1s) == len(Deltas) == len(ns)):
        raise ValueError(f"`B1s`, `Deltas` and `ns` must have one entry per group; got lengths "
                         f"{len(B1s)}, {len(Deltas)}, {len(ns)}.")
    outB, outD = [], []
    for g, (B, D) in enumerate(zip(B1s, Deltas)):
        B = _check_square(f"B1s[{g}]", B)
        D = np.asarray(D, dtype=float)
        if D.ndim != 2 or D.shape != (B.shape[0], q):
            raise ValueError(f"`Deltas[{g}]` must be {B.shape[0]} x {q} (h1 coordinates x parameters); got shape "
                             f"{D.shape}.")
        if not np.isfinite(D).all():
            raise ValueError(f"`Deltas[{g}]` must be finite.")
        outB.append(B)
        outD.append(D)
    nn = []
    for g, n in enumerate(ns):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"`ns[{g}]` must be a positive whole number; got {n!r}.")
        nn.append(int(n))
    return outB, outD, nn


def yuan_bentler_scaling(A1s, B1s, Deltas, E, ns, df, *, B1s_h0=None) -> float:
    r"""Yuan-Bentler scaling factor (lavaan's ``"yuan.bentler.mplus"``).

    .. math::

        c = \frac1{df}\sum_g\Big[\operatorname{tr}(A_{1g}^{-1}B_{1g})
            - f_g\operatorname{tr}\big(\Delta_g^\top B^{(0)}_{1g}\Delta_g E^{-1}\big)\Big]

    with :math:`A_{1g}, B_{1g}` "unstructured" (at the saturated moments: the sample moments,
    or the EM estimates under FIML) and :math:`B^{(0)}_{1g}` "structured" (at the
    model-implied moments, the meat of the sandwich), as lavaan's Mplus variant.

    Parameters
    ----------
    A1s, B1s : list of array_like
        Per group the observed and first-order h1 information per row at the saturated
        moments (:func:`h1_matrices`).
    Deltas : list of array_like
        Per group the Jacobian of the h1 coordinates with respect to :math:`\theta`.
    E : array_like, shape (q, q)
        h0 information per row.
    ns : list of int
        Rows per group.
    df : float
        Degrees of freedom of the test (positive).
    B1s_h0 : list of array_like, optional
        Per group the first-order h1 information at the model-implied moments (default: ``B1s``).

    Returns
    -------
    float
        The scaling factor :math:`c` (``chisq.scaling.factor``); :math:`T_{scaled} = T/c`.

    References
    ----------
    Yuan, K.-H., & Bentler, P. M. (2000). *Sociological Methodology, 30*, 165--200.

    Examples
    --------
    >>> A = np.eye(3)
    >>> D = np.array([[1.0], [0.0], [0.0]])
    >>> yuan_bentler_scaling([A], [A], [D], np.eye(1), [50], 2)
    1.0
    """
    E = _check_square("E", E)
    q = E.shape[0]
    B1s, Deltas, ns = _check_groups(B1s, Deltas, ns, q)
    B1s_h0 = B1s if B1s_h0 is None else _check_groups(B1s_h0, Deltas, ns, q)[0]
    if len(A1s) != len(B1s):
        raise ValueError(f"`A1s` must have one entry per group ({len(B1s)}); got {len(A1s)}.")
    if isinstance(df, bool) or not isinstance(df, (int, float, np.number)) or not (df > 0 and np.isfinite(df)):
        raise ValueError(f"`df` must be a positive number (the scaled test needs df > 0); got {df!r}.")
    Einv = _inv("E", E)
    N = float(sum(ns))
    tr = 0.0
    for g, (A1, B1, B0, D, n) in enumerate(zip(A1s, B1s, B1s_h0, Deltas, ns)):
        A1 = _check_square(f"A1s[{g}]", A1, B1.shape[0])
        tr += float(np.sum(B1 * _inv(f"A1s[{g}]", A1).T))
        tr -= (n / N) * float(np.sum(B0 * (D @ Einv @ D.T)))
    return tr / float(df)


def scaled_fit_measures(fit: dict, c: float, c_base: float | None, *, robust: bool = True) -> dict:
    r"""The scaled (and robust) test statistics and fit indices from ML ones and scaling factors.

    Parameters
    ----------
    fit : dict
        At least ``chisq``, ``df``, ``ntotal``, ``ngroups`` (default 1) and, for the
        incremental indices, ``baseline.chisq``, ``baseline.df`` (lavaan's names).
    c : float
        Scaling factor of the model (:func:`yuan_bentler_scaling`), positive.
    c_base : float or None
        Scaling factor of the baseline model; None skips the incremental indices.
    robust : bool, default True
        Also the robust CFI/TLI/RMSEA of Brosseau-Liard & Savalei (complete data).

    Returns
    -------
    dict
        ``chisq.scaled``, ``df.scaled``, ``pvalue.scaled``, ``chisq.scaling.factor``,
        ``rmsea.scaled`` (and ``baseline.chisq.scaled``, ``baseline.pvalue.scaled``,
        ``baseline.chisq.scaling.factor``, ``cfi.scaled``, ``tli.scaled``; with ``robust``
        ``rmsea.robust``, ``cfi.robust``, ``tli.robust``).

    References
    ----------
    Brosseau-Liard, P. E., & Savalei, V. (2014). *Multivariate Behavioral Research, 49*(5), 460--470.

    Examples
    --------
    >>> out = scaled_fit_measures({"chisq": 30.0, "df": 10, "ntotal": 200}, 1.5, None)
    >>> out["chisq.scaled"], round(out["rmsea.scaled"], 4)
    (20.0, 0.0707)
    """
    try:
        from analysis.sem.fit import cfi as _cfi, tli as _tli
    except ImportError:  # before the engine's fit module is merged
        from analysis._sem_fit import cfi as _cfi, tli as _tli

    if not isinstance(fit, dict):
        raise ValueError(f"`fit` must be a dict of fit measures; got {type(fit).__name__}.")
    for k in ("chisq", "df", "ntotal"):
        if k not in fit:
            raise ValueError(f"`fit` lacks {k!r}.")
    for nm, v in (("c", c), ("c_base", c_base)):
        if v is None and nm == "c_base":
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float, np.number)) or not (v > 0 and np.isfinite(v)):
            raise ValueError(f"`{nm}` must be a positive scaling factor; got {v!r}.")
    T, df, N = float(fit["chisq"]), float(fit["df"]), float(fit["ntotal"])
    G = int(fit.get("ngroups", 1))
    Ts = T / c
    out = {"chisq.scaled": Ts, "df.scaled": fit["df"],
           "pvalue.scaled": float(stats.chi2.sf(Ts, df)) if df > 0 else math.nan,
           "chisq.scaling.factor": float(c)}
    out["rmsea.scaled"] = math.sqrt(G) * math.sqrt(max((Ts - df) / (N * df), 0.0)) if df > 0 else 0.0
    if robust:
        out["rmsea.robust"] = math.sqrt(G) * math.sqrt(max((T - c * df) / (N * df), 0.0)) if df > 0 else 0.0
    if c_base is not None and "baseline.chisq" in fit:
        Tb, dfb = float(fit["baseline.chisq"]), float(fit["baseline.df"])
        Tbs = Tb / c_base
        out.update({"baseline.chisq.scaled": Tbs, "baseline.df.scaled": fit["baseline.df"],
                    "baseline.pvalue.scaled": float(stats.chi2.sf(Tbs, dfb)),
                    "baseline.chisq.scaling.factor": float(c_base),
                    "cfi.scaled": _cfi(Ts, df, Tbs, dfb), "tli.scaled": _tli(Ts, df, Tbs, dfb)})
        if robust:
            a, b = T - c * df, Tb - c_base * dfb
            den = max(a, b, 0.0)
            out["cfi.robust"] = 1.0 if den == 0 else 1.0 - max(a, 0.0) / den
            out["tli.robust"] = 1.0 - (a / df) / (b / dfb) if df > 0 and b != 0 else math.nan
    return out


def _group_pieces(d, mu, Sigma, ms):
    """(X rows, mean at which to evaluate) of one engine group."""
    X = d.X
    if not ms:
        mu = np.nanmean(X, axis=0) if d.pat is not None else d.ybar
    return X, mu, Sigma


def fit_mlr(obj, theta0, **kwargs) -> dict:
    r"""MLR estimator for :func:`analysis.sem.sem` (``estimator="MLR"``): ML/FIML estimates, robust inference.

    Fits by the engine's ML (:func:`analysis.sem.estimate.fit_ml`), then the sandwich SEs,
    the Yuan-Bentler scaled test and the scaled/robust fit indices (module docstring), with
    the observed h0 information (lavaan's default for MLR) and structured h1 matrices.

    Parameters
    ----------
    obj : analysis.sem.estimate.Objective
    theta0 : array_like
        Start values.
    **kwargs
        Passed by :func:`analysis.sem.sem` (``partable`` is used for the exogenous covariates).

    Returns
    -------
    dict
        As :func:`analysis.sem.estimate.fit_ml`, plus ``vcov`` (robust) and ``fit`` (lavaan's
        fit measures with the scaled and robust ones added).

    References
    ----------
    Yuan, K.-H., & Bentler, P. M. (2000). *Sociological Methodology, 30*, 165--200.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.sem import sem
    >>> rng = np.random.default_rng(4)
    >>> f = rng.chisquare(2, size=(400, 1))
    >>> X = pd.DataFrame(f @ [[1.0, 0.8, 0.7, 0.6]] + rng.normal(size=(400, 4)), columns=list("abcd"))
    >>> res = sem("f =~ a + b + c + d", X, estimator="MLR")
    >>> res.fit["chisq.scaling.factor"] > 0
    True
    """
    from analysis.sem import fit as _fit
    from analysis.sem.estimate import fit_ml

    if not hasattr(obj, "model") or not hasattr(obj, "data"):
        raise ValueError(f"`obj` must be the engine's Objective; got {type(obj).__name__}.")
    res = dict(fit_ml(obj, np.asarray(theta0, dtype=float)))
    theta = np.asarray(res["theta"], dtype=float)
    model = obj.model
    ms = bool(model.meanstructure)
    pt = kwargs.get("partable")
    exo = []
    if pt is not None and "exo" in pt:
        exo = sorted({r.lhs for r in pt.itertuples() if r.exo == 1 and r.op == "~~" and r.lhs == r.rhs},
                     key=model.ov_names.index)
    fm = dict(_fit.fit_measures(obj, theta, exo=exo))
    if ms:  # analytic in the moments, the model's curvature by differences of its Jacobian
        pats = [d.pat if d.pat is not None else _miss.Patterns.from_moments(d.ybar, d.S, d.n) for d in obj.data]
        E = _miss.observed_information(pats, model, theta) / obj.N
    else:
        E = obj.observed_information(theta)
    notes = []
    A1s, B1s, B1h, Ds, ns, A1b, B1b, Db = [], [], [], [], [], [], [], []
    p = model.p
    rows, _ = _to_vech(p, ms)
    for d, (mu, Sig), (dmu, dS) in zip(obj.data, model.implied(theta), model.jacobian(theta)):
        X, mu_e, Sig = _group_pieces(d, mu, Sig, ms)
        B1h.append(h1_matrices(X, mu_e, Sig, meanstructure=ms)[1])   # structured (the meat)
        A1, B1 = h1_matrices(X, d.h1_mu, d.h1_Sigma, meanstructure=ms)  # unstructured (trace h1)
        A1s.append(A1)
        B1s.append(B1)
        Ds.append(np.vstack([dmu, dS])[rows])
        ns.append(int(d.n))
        # independence (baseline) model: free means, free variances at their ML values
        if d.pat is not None:
            mb, vb = np.nanmean(X, axis=0), np.nanvar(X, axis=0)
        else:
            mb, vb = d.ybar, np.diag(d.S)
        B1_ = h1_matrices(X, mb, np.diag(vb), meanstructure=ms)[1]
        A1_ = h1_matrices(X, mb, np.diag(vb), meanstructure=ms)[0]
        sel = np.zeros((p + p * p, (2 if ms else 1) * p))
        if ms:
            sel[:p, :p] = np.eye(p)
        for j in range(p):
            sel[p + j + j * p, (p if ms else 0) + j] = 1.0
        A1b.append(A1_)
        B1b.append(B1_)
        Db.append(sel[rows])
    try:
        res["vcov"] = sandwich_vcov(E, B1h, Ds, ns)
    except ValueError:
        res["vcov"] = None  # the engine reports the singular information itself
        notes.append("robust SEs not available: singular information")
    df = fm.get("df", 0)
    if df > 0 and res.get("vcov") is not None:
        c = yuan_bentler_scaling(A1s, B1s, Ds, E, ns, df, B1s_h0=B1h)
        # baseline (independence) model, fitted with the same options: the same unstructured trace,
        # its own structured meat and observed information (= Delta' A1 Delta: the model is linear),
        # block diagonal over groups
        trb = 0.0
        for A1u, B1u, A1_, B1_, D_ in zip(A1s, B1s, A1b, B1b, Db):
            Eg = D_.T @ A1_ @ D_
            trb += float(np.sum(B1u * _inv("A1", A1u).T))
            trb -= float(np.sum((D_.T @ B1_ @ D_) * _inv("baseline information", Eg).T))
        dfb = float(fm.get("baseline.df", 0))
        c_b = trb / dfb if dfb > 0 else None
        fm.update(scaled_fit_measures(fm, c, c_b if (c_b is not None and c_b > 0) else None,
                                      robust=all(d.pat is None for d in obj.data)))
    res["fit"] = fm
    if notes:
        res["message"] = "; ".join([res.get("message", "")] + notes).strip("; ")
    return res


def _register() -> None:
    try:
        from analysis.sem.estimate import register_estimator
    except ImportError:  # the engine is not there (yet)
        return
    register_estimator("MLR", fit_mlr)


_register()
