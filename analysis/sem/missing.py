r"""Full-information maximum likelihood (FIML) for incomplete multivariate normal data.

The one implementation of the casewise ("raw data") normal likelihood of the workbook,
used by the SEM engine (``missing="ml"``), by :func:`analysis.sessions.riclpm` and by the
robust (MLR) standard errors of :mod:`analysis.sem.robust`. Rows of the data are grouped
by their *missing-data pattern* (which variables are observed); each pattern :math:`k`
with :math:`n_k` rows, observed variables :math:`o_k`, mean :math:`\bar y_k` and
covariance :math:`S_k` (denominator :math:`n_k`) contributes

.. math::

    \ell_k(\mu, \Sigma) = -\tfrac{n_k}{2}\Big[p_k \log 2\pi + \log|\Sigma_{o}|
        + \operatorname{tr}\big(\Sigma_{o}^{-1} T_k\big)\Big],\qquad
    T_k = S_k + (\bar y_k - \mu_o)(\bar y_k - \mu_o)^\top,

so that a log-likelihood, its gradient and its Hessian cost O(patterns), not O(rows)
(Arbuckle 1996; the sufficient statistics per pattern are those of lavaan's
``lav_mvnorm_missing_*`` functions, Rosseel 2012). The derivatives, for symmetric
directions :math:`E, F` of :math:`\Sigma` (write :math:`A = \Sigma_o^{-1}`,
:math:`d = \bar y_k - \mu_o`, :math:`B = A T_k A`):

.. math::

    \frac{\partial \ell_k}{\partial \mu_o} = n_k A d,\qquad
    \frac{\partial \ell_k}{\partial \Sigma_o} = -\tfrac{n_k}{2}(A - B),

    \frac{\partial^2 \ell_k}{\partial \mu_o \partial \mu_o^\top} = -n_k A,\quad
    \frac{\partial^2 \ell_k}{\partial \mu_o\, \partial \operatorname{vec}\Sigma_o^\top}
        = -n_k\,(d^\top A \otimes A),\quad
    \frac{\partial^2 \ell_k}{\partial \operatorname{vec}\Sigma_o\,\partial \operatorname{vec}\Sigma_o^\top}
        = -\tfrac{n_k}{2}\big[B \otimes A + A \otimes B - A \otimes A\big].

Derivatives with respect to :math:`\Sigma` are returned for all :math:`p^2` entries of
:math:`\operatorname{vec}\Sigma` (column-major), the layout of the engine's Jacobians
``dSigma [p*p x q]``: the chain rule is then
``dmu @ Jmu + dSigma.ravel(order="F") @ JSigma``.

The saturated (H1) model, unrestricted :math:`\mu` and :math:`\Sigma`, is fitted by the EM
algorithm (Dempster, Laird & Rubin 1977; Little & Rubin 2002, sec. 11.2) started as lavaan
starts it (available-case means, diagonal of available-case variances) and finished by
Newton steps on the analytic Hessian, so that it converges to about 1e-12 in a few
dozen iterations instead of hundreds.

References
----------
Arbuckle, J. L. (1996). Full information estimation in the presence of incomplete data. In
G. A. Marcoulides & R. E. Schumacker (Eds.), *Advanced structural equation modeling*
(pp. 243--277). Erlbaum.
Dempster, A. P., Laird, N. M., & Rubin, D. B. (1977). Maximum likelihood from incomplete
data via the EM algorithm. *JRSS B, 39*(1), 1--38.
Little, R. J. A., & Rubin, D. B. (2002). *Statistical analysis with missing data* (2nd ed.).
Wiley.
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software, 48*(2), 1--36.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["Patterns", "loglik", "loglik_grad", "hessian", "em_saturated", "casewise_scores",
           "pattern_information", "observed_information"]

_LOG2PI = math.log(2.0 * math.pi)


@dataclass
class _Pattern:
    obs: np.ndarray      # observed variable indices (sorted)
    n: int               # rows with this pattern
    mean: np.ndarray     # mean of the observed part
    cov: np.ndarray      # covariance of the observed part, denominator n
    rows: np.ndarray     # positions of the rows in Patterns.X
    p: int = 0           # variables in the data

    def __post_init__(self):
        o, p = self.obs, self.p
        self.k = len(o)
        self.mis = np.setdiff1d(np.arange(p), o)
        self.oo = np.ix_(o, o)
        self.mo = np.ix_(self.mis, o)
        self.om = np.ix_(o, self.mis)
        self.mm = np.ix_(self.mis, self.mis)
        self.full = self.k == p
        # positions of vec(Sigma_oo) (column-major) in the (p + p*p) vector (means first)
        self.vo = p + (o[:, None] + p * o[None, :]).ravel(order="F")


class Patterns:
    r"""Rows of an n x p array grouped by missing-data pattern, with per-pattern sufficient statistics.

    Missing values are NaN. Rows without any observed value carry no information under
    FIML and are left out (as lavaan does); their positions are in ``empty``.

    Parameters
    ----------
    X : array_like, shape (n, p)
        Data, NaN for missing; finite otherwise.

    Attributes
    ----------
    X : numpy.ndarray
        The rows used (n x p), NaN where missing.
    rows : numpy.ndarray
        Positions of the used rows in the input.
    empty : numpy.ndarray
        Positions of the input rows without any observed value (not used).
    n, p : int
        Rows used and variables.
    patterns : list
        One entry per pattern with ``obs`` (observed indices), ``n``, ``mean``, ``cov``
        (denominator ``n``) and ``rows`` (positions in ``X``), sorted by ``rows[0]``.
    obs : numpy.ndarray
        Boolean n x p observed mask.

    Raises
    ------
    ValueError
        ``X`` not a 2-d numeric array, infinite values, no row with an observed value.

    Examples
    --------
    >>> X = np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 5.0], [np.nan, np.nan]])
    >>> pat = Patterns(X)
    >>> pat.n, len(pat.patterns), pat.empty.tolist()
    (3, 2, [3])
    >>> [pt.obs.tolist() for pt in pat.patterns]
    [[0, 1], [0]]
    """

    def __init__(self, X):
        X = _as_data(X)
        obs_all = ~np.isnan(X)
        keep = obs_all.any(axis=1)
        self.empty = np.flatnonzero(~keep)
        self.rows = np.flatnonzero(keep)
        X = X[keep]
        if X.shape[0] == 0:
            raise ValueError("`X`: no row has an observed value.")
        self.X = X
        self.n, self.p = X.shape
        self.obs = obs_all[keep]
        keys, first, inv = np.unique(self.obs, axis=0, return_index=True, return_inverse=True)
        inv = inv.ravel()
        order = np.argsort(first)
        self.patterns: list[_Pattern] = []
        for k in order:
            rows = np.flatnonzero(inv == k)
            o = np.flatnonzero(keys[k])
            Y = X[np.ix_(rows, o)]
            m = Y.mean(axis=0)
            D = Y - m
            self.patterns.append(_Pattern(o, len(rows), m, D.T @ D / len(rows), rows, self.p))

    @classmethod
    def from_moments(cls, mean, cov, n: int) -> "Patterns":
        """A complete-data 'Patterns' from a mean vector and covariance (denominator ``n``).

        The likelihood functions then give the complete-data ML log-likelihood with sample
        moments ``mean`` and ``cov``; :func:`casewise_scores` is not available (no rows).

        Examples
        --------
        >>> pat = Patterns.from_moments(np.zeros(2), np.eye(2), 10)
        >>> round(loglik(pat, np.zeros(2), np.eye(2)), 4)
        -28.3788
        """
        mean = np.asarray(mean, float).ravel()
        cov = np.asarray(cov, float)
        p = len(mean)
        if cov.shape != (p, p):
            raise ValueError(f"`cov` must be {p} x {p} (the length of `mean`); got shape {cov.shape}.")
        if not (np.isfinite(mean).all() and np.isfinite(cov).all()):
            raise ValueError("`mean` and `cov` must be finite.")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"`n` must be a positive whole number; got {n!r}.")
        self = cls.__new__(cls)
        self.X = None
        self.n, self.p = int(n), p
        self.rows = np.arange(n)
        self.empty = np.zeros(0, int)
        self.obs = None
        self.patterns = [_Pattern(np.arange(p), int(n), mean, cov, np.zeros(0, int), p)]
        return self

    @property
    def blocks(self) -> list:
        """Patterns stacked by their number of observed variables (for batched linear algebra).

        Each block is ``(O, n, means, covs)``: observed indices (m x k), counts (m), means
        (m x k) and covariances (m x k x k) of the m patterns with k observed variables.
        """
        key = id(self.patterns)
        cache = getattr(self, "_blocks", None)
        if cache is None or cache[0] != key:
            by_k: dict[int, list] = {}
            for pt in self.patterns:
                by_k.setdefault(pt.k, []).append(pt)
            blocks = []
            for k, pts in sorted(by_k.items()):
                O = np.array([pt.obs for pt in pts], dtype=int).reshape(len(pts), k)
                blocks.append((O, np.array([pt.n for pt in pts], dtype=float),
                               np.array([pt.mean for pt in pts]).reshape(len(pts), k),
                               np.array([pt.cov for pt in pts]).reshape(len(pts), k, k),
                               (O[:, :, None] * self.p + O[:, None, :]).ravel()))
            cache = (key, blocks)
            self._blocks = cache
        return cache[1]

    @property
    def complete(self) -> bool:
        """True when every used row is fully observed (one pattern with all variables)."""
        return len(self.patterns) == 1 and len(self.patterns[0].obs) == self.p

    def __repr__(self) -> str:
        return f"Patterns(n={self.n}, p={self.p}, patterns={len(self.patterns)}, empty={len(self.empty)})"


def _as_data(X) -> np.ndarray:
    if isinstance(X, (dict, str, bytes)) or X is None:
        raise ValueError(f"`X` must be a 2-d numeric array (rows x variables); got {type(X).__name__}.")
    try:
        X = np.array(X, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("`X` must be a 2-d numeric array; it holds non-numeric values.") from None
    if X.ndim != 2 or X.shape[1] == 0:
        raise ValueError(f"`X` must be a 2-d array with at least one column; got shape {X.shape}.")
    bad = np.isinf(X)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ValueError(f"`X` holds an infinite value (row {r}, column {c}); missing values must be NaN.")
    return X


def _check_moments(pat, mu, Sigma):
    if not isinstance(pat, Patterns):
        raise ValueError(f"`pat` must be a Patterns object; got {type(pat).__name__}.")
    mu = np.asarray(mu, dtype=float).ravel()
    Sigma = np.asarray(Sigma, dtype=float)
    if mu.shape != (pat.p,):
        raise ValueError(f"`mu` must have length {pat.p} (the number of variables); got {mu.shape[0]}.")
    if Sigma.shape != (pat.p, pat.p):
        raise ValueError(f"`Sigma` must be {pat.p} x {pat.p}; got shape {Sigma.shape}.")
    if not (np.isfinite(mu).all() and np.isfinite(Sigma).all()):
        raise ValueError("`mu` and `Sigma` must be finite.")
    return mu, Sigma


def _inv_pd(S):
    """(inverse, log-determinant) of a symmetric matrix, or None when not positive definite."""
    try:
        L = np.linalg.cholesky(S)
    except np.linalg.LinAlgError:
        return None
    Li = np.linalg.inv(L)
    return Li.T @ Li, 2.0 * float(np.sum(np.log(np.diag(L))))


def loglik(pat: Patterns, mu, Sigma) -> float:
    r"""FIML (casewise) normal log-likelihood, summed over missing-data patterns.

    .. math::

        \ell(\mu, \Sigma) = \sum_k -\tfrac{n_k}{2}\big[p_k\log 2\pi + \log|\Sigma_{o}|
            + \operatorname{tr}(\Sigma_{o}^{-1}S_k) + (\bar y_k - \mu_o)^\top\Sigma_{o}^{-1}(\bar y_k - \mu_o)\big]

    Parameters
    ----------
    pat : Patterns
    mu : array_like, shape (p,)
    Sigma : array_like, shape (p, p)

    Returns
    -------
    float
        The log-likelihood; ``-inf`` when some :math:`\Sigma_o` is not positive definite
        (convenient for line searches).

    References
    ----------
    Arbuckle, J. L. (1996). In *Advanced structural equation modeling* (pp. 243--277).

    Examples
    --------
    >>> pat = Patterns(np.array([[0.0, 1.0], [1.0, np.nan], [2.0, 3.0]]))
    >>> round(loglik(pat, np.array([1.0, 2.0]), np.eye(2)), 4)
    -6.5947
    """
    mu, Sigma = _check_moments(pat, mu, Sigma)
    return _terms(pat, mu, Sigma, grad=False)[0]


def _terms(pat: Patterns, mu: np.ndarray, Sigma: np.ndarray, grad: bool):
    """(ll, dmu, dSigma) by blocks of patterns with equal numbers of observed variables (batched)."""
    p = pat.p
    ll = 0.0
    gmu = np.zeros(p) if grad else None
    gS = np.zeros(p * p) if grad else None
    for O, n, means, covs, flat in pat.blocks:
        k = O.shape[1]
        S_oo = Sigma[O[:, :, None], O[:, None, :]]
        try:
            L = np.linalg.cholesky(S_oo)
        except np.linalg.LinAlgError:
            return (-math.inf, np.zeros(p), np.zeros((p, p))) if grad else (-math.inf,)
        logdet = 2.0 * np.log(np.diagonal(L, axis1=1, axis2=2)).sum(axis=1)
        Li = np.linalg.inv(L)
        A = np.swapaxes(Li, 1, 2) @ Li
        d = means - mu[O]
        Ad = np.einsum("mij,mj->mi", A, d)
        ll -= 0.5 * float(np.sum(n * (k * _LOG2PI + logdet + np.einsum("mij,mij->m", A, covs)
                                       + np.einsum("mi,mi->m", d, Ad))))
        if grad:
            G = -0.5 * n[:, None, None] * (A - A @ covs @ A - Ad[:, :, None] * Ad[:, None, :])
            gS += np.bincount(flat, weights=G.ravel(), minlength=p * p)
            gmu += np.bincount(O.ravel(), weights=(n[:, None] * Ad).ravel(), minlength=p)
    if not grad:
        return (float(ll),)
    gS = gS.reshape(p, p)
    return float(ll), gmu, 0.5 * (gS + gS.T)


def loglik_grad(pat: Patterns, mu, Sigma):
    r"""FIML log-likelihood and its analytic gradient with respect to :math:`\mu` and :math:`\Sigma`.

    .. math::

        \frac{\partial\ell}{\partial\mu} = \sum_k n_k\,\Sigma_o^{-1} d_k,\qquad
        \frac{\partial\ell}{\partial\Sigma} = \sum_k -\tfrac{n_k}{2}
            \big(\Sigma_o^{-1} - \Sigma_o^{-1} T_k \Sigma_o^{-1}\big)

    (embedded in the observed rows and columns), :math:`d_k = \bar y_k - \mu_o`,
    :math:`T_k = S_k + d_k d_k^\top`. The :math:`\Sigma` gradient is the symmetric matrix
    :math:`G` with :math:`d\ell = \operatorname{tr}(G\, d\Sigma)` for symmetric :math:`d\Sigma`,
    i.e. the derivative with respect to each of the :math:`p^2` entries: chain rule
    ``G.ravel(order="F") @ JSigma``.

    Parameters
    ----------
    pat : Patterns
    mu : array_like, shape (p,)
    Sigma : array_like, shape (p, p)

    Returns
    -------
    ll : float
        ``-inf`` when some :math:`\Sigma_o` is not positive definite (gradients then zero).
    dmu : numpy.ndarray, shape (p,)
    dSigma : numpy.ndarray, shape (p, p), symmetric

    References
    ----------
    Arbuckle, J. L. (1996). In *Advanced structural equation modeling* (pp. 243--277).

    Examples
    --------
    >>> pat = Patterns(np.array([[0.0, 1.0], [1.0, np.nan], [2.0, 3.0]]))
    >>> ll, dmu, dS = loglik_grad(pat, np.array([1.0, 2.0]), np.eye(2))
    >>> dmu.tolist()
    [0.0, 0.0]
    """
    mu, Sigma = _check_moments(pat, mu, Sigma)
    return _terms(pat, mu, Sigma, grad=True)


def hessian(pat: Patterns, mu, Sigma) -> np.ndarray:
    r"""Analytic Hessian of the FIML log-likelihood in :math:`(\mu, \operatorname{vec}\Sigma)`.

    Per pattern (module docstring): :math:`-n_k A` for the means,
    :math:`-n_k(d^\top A\otimes A)` between means and :math:`\operatorname{vec}\Sigma_o`, and
    :math:`-\tfrac{n_k}{2}[B\otimes A + A\otimes B - A\otimes A]` for
    :math:`\operatorname{vec}\Sigma_o`, :math:`B = A T_k A`, embedded in the
    :math:`(p + p^2)` square matrix (means first, then :math:`\operatorname{vec}\Sigma`
    column-major). Valid for symmetric directions: contract it with the engine's Jacobian
    ``J = [Jmu; JSigma]`` as ``J.T @ H @ J``. The negative of it is the observed
    information of the saturated model in these coordinates.

    Parameters
    ----------
    pat : Patterns
    mu : array_like, shape (p,)
    Sigma : array_like, shape (p, p)

    Returns
    -------
    numpy.ndarray, shape (p + p*p, p + p*p)

    Raises
    ------
    ValueError
        Some :math:`\Sigma_o` is not positive definite.

    References
    ----------
    Magnus, J. R., & Neudecker, H. (1999). *Matrix differential calculus* (rev. ed.). Wiley.

    Examples
    --------
    >>> pat = Patterns.from_moments(np.zeros(1), np.eye(1), 10)
    >>> hessian(pat, np.zeros(1), np.eye(1)).tolist()
    [[-10.0, 0.0], [0.0, -5.0]]
    """
    mu, Sigma = _check_moments(pat, mu, Sigma)
    p = pat.p
    P = p + p * p
    H = np.zeros(P * P)
    for O, n, means, covs, _ in pat.blocks:
        m, k = O.shape
        A = _block_inverse(Sigma, O, "the Hessian")
        d = means - mu[O]
        Ad = np.einsum("mij,mj->mi", A, d)
        B = A @ (covs + d[:, :, None] * d[:, None, :]) @ A
        V = p + (O[:, :, None] + p * O[:, None, :]).transpose(0, 2, 1).reshape(m, k * k)  # vec(Sigma_oo) positions
        nn = n[:, None, None]
        Hmm = -nn * A
        C = -nn * (Ad[:, None, :, None] * A[:, :, None, :]).reshape(m, k, k * k)
        K = (B[:, :, None, :, None] * A[:, None, :, None, :]
             + A[:, :, None, :, None] * (B - A)[:, None, :, None, :]).reshape(m, k * k, k * k)
        Hss = -0.5 * nn * K
        for rows, cols, vals in ((O, O, Hmm), (O, V, C), (V, O, np.swapaxes(C, 1, 2)), (V, V, Hss)):
            idx = (rows[:, :, None] * P + cols[:, None, :]).ravel()
            H += np.bincount(idx, weights=vals.ravel(), minlength=P * P)
    return H.reshape(P, P)


def _block_inverse(Sigma, O, what):
    try:
        L = np.linalg.cholesky(Sigma[O[:, :, None], O[:, None, :]])
    except np.linalg.LinAlgError:
        raise ValueError("`Sigma`: a submatrix of the observed variables of a pattern is not positive "
                         f"definite; {what} is not defined there.") from None
    Li = np.linalg.inv(L)
    return np.swapaxes(Li, 1, 2) @ Li


def pattern_information(pat: Patterns, mu, Sigma) -> np.ndarray:
    r"""Expected (Fisher) information of :math:`(\mu, \operatorname{vec}\Sigma)` under MAR, summed over patterns.

    Per pattern :math:`n_k A` for the means and :math:`\tfrac{n_k}{2}(A\otimes A)` for
    :math:`\operatorname{vec}\Sigma_o`, no cross term (the expectation of the negative
    Hessian over :math:`y_o`, Kenward & Molenberghs 1998, lavaan's ``information =
    "expected"`` with missing data). With complete data it is the usual normal-theory
    information :math:`n\,\mathrm{diag}(\Sigma^{-1}, \tfrac12\Sigma^{-1}\otimes\Sigma^{-1})`.

    Parameters
    ----------
    pat : Patterns
    mu : array_like, shape (p,)
    Sigma : array_like, shape (p, p)

    Returns
    -------
    numpy.ndarray, shape (p + p*p, p + p*p)

    References
    ----------
    Kenward, M. G., & Molenberghs, G. (1998). Likelihood based frequentist inference when data are
    missing at random. *Statistical Science, 13*(3), 236--247.

    Examples
    --------
    >>> pat = Patterns.from_moments(np.zeros(1), np.eye(1), 10)
    >>> pattern_information(pat, np.zeros(1), 2 * np.eye(1)).round(12).tolist()
    [[5.0, 0.0], [0.0, 1.25]]
    """
    mu, Sigma = _check_moments(pat, mu, Sigma)
    p = pat.p
    P = p + p * p
    M = np.zeros(P * P)
    for O, n, means, covs, _ in pat.blocks:
        m, k = O.shape
        A = _block_inverse(Sigma, O, "the information")
        V = p + (O[:, :, None] + p * O[:, None, :]).transpose(0, 2, 1).reshape(m, k * k)
        nn = n[:, None, None]
        K = 0.5 * nn * (A[:, :, None, :, None] * A[:, None, :, None, :]).reshape(m, k * k, k * k)
        for rows, vals in ((O, nn * A), (V, K)):
            idx = (rows[:, :, None] * P + rows[:, None, :]).ravel()
            M += np.bincount(idx, weights=vals.ravel(), minlength=P * P)
    return M.reshape(P, P)


def casewise_scores(pat: Patterns, mu, Sigma) -> np.ndarray:
    r"""Per-row gradient of the log-likelihood with respect to :math:`(\mu, \operatorname{vec}\Sigma)`.

    For row :math:`i` with observed part :math:`o`, :math:`A = \Sigma_o^{-1}` and
    :math:`e_i = y_{io} - \mu_o`: :math:`\partial\ell_i/\partial\mu_o = A e_i` and
    :math:`\partial\ell_i/\partial\Sigma_o = -\tfrac12(A - A e_i e_i^\top A)`, zero for the
    missing variables. The rows sum to :func:`loglik_grad`. Multiplied by the model's
    Jacobian (``scores @ J``, ``J = [Jmu; JSigma]``) they give the casewise scores of the
    parameters, whose cross-product is the first-order (meat) matrix of the Huber-White
    sandwich (lavaan's MLR).

    Parameters
    ----------
    pat : Patterns
        Built from raw rows (not :meth:`Patterns.from_moments`).
    mu : array_like, shape (p,)
    Sigma : array_like, shape (p, p)

    Returns
    -------
    numpy.ndarray, shape (n, p + p*p)
        Row ``i`` belongs to ``pat.X[i]``; columns: means, then vec(Sigma) column-major.

    References
    ----------
    Yuan, K.-H., & Bentler, P. M. (2000). Three likelihood-based methods for mean and covariance
    structure analysis with nonnormal missing data. *Sociological Methodology, 30*, 165--200.

    Examples
    --------
    >>> pat = Patterns(np.array([[0.0, 1.0], [1.0, np.nan], [2.0, 3.0]]))
    >>> sc = casewise_scores(pat, np.array([1.0, 2.0]), np.eye(2))
    >>> sc.shape, sc[:, :2].sum(axis=0).tolist()
    ((3, 6), [0.0, 0.0])
    """
    mu, Sigma = _check_moments(pat, mu, Sigma)
    if pat.X is None:
        raise ValueError("`pat` was built from moments (Patterns.from_moments): casewise scores need the rows.")
    p = pat.p
    out = np.zeros((pat.n, p + p * p))
    for pt in pat.patterns:
        o = pt.obs
        r = _inv_pd(Sigma if pt.full else Sigma[pt.oo])
        if r is None:
            raise ValueError("`Sigma`: a submatrix of the observed variables of a pattern is not positive "
                             "definite; the scores are not defined there.")
        A = r[0]
        E = pat.X[np.ix_(pt.rows, o)] - mu[o]
        AE = E @ A
        out[np.ix_(pt.rows, o)] = AE
        G = -0.5 * (A[None, :, :] - AE[:, :, None] * AE[:, None, :])
        out[np.ix_(pt.rows, pt.vo)] = G.transpose(0, 2, 1).reshape(len(pt.rows), -1)
    return out


def observed_information(pats, model, theta, *, h: float = 1e-5) -> np.ndarray:
    r"""Observed information of a structured FIML model: minus the Hessian of :math:`\sum_g \ell_g(\theta)`.

    With :math:`\gamma_g(\theta) = (\mu_g, \operatorname{vec}\Sigma_g)` the model-implied moments
    of group :math:`g`, :math:`J_g = \partial\gamma_g/\partial\theta^\top` (the engine's analytic
    Jacobian) and :math:`H_g`, :math:`g_g` the Hessian (:func:`hessian`) and gradient
    (:func:`loglik_grad`) of the casewise log-likelihood in :math:`\gamma`,

    .. math::

        -\frac{\partial^2\ell}{\partial\theta\,\partial\theta^\top}
          = -\sum_g\Big[J_g^\top H_g J_g + \frac{\partial (J_g^\top g_g)}{\partial\theta^\top}\Big|_{g_g\ \text{fixed}}\Big],

    the first term analytic, the second (the curvature of the model, zero for a model linear in
    :math:`\theta`) by central differences of the Jacobian alone (:math:`2q` Jacobian
    evaluations, no likelihood evaluation). Equals the numerical Hessian of the analytic
    gradient (lavaan's ``observed.information = "hessian"``) at a fraction of its cost.

    Parameters
    ----------
    pats : list of Patterns
        One per group (complete-data groups: :meth:`Patterns.from_moments`). A mean structure
        is assumed (the means are part of :math:`\gamma`).
    model : object
        With ``implied(theta) -> [(mu_g, Sigma_g)]`` and ``jacobian(theta) -> [(dmu_g, dSigma_g)]``
        (``dSigma_g`` the column-major vec, p*p x q), as :class:`analysis.sem.model.SEMModel`.
    theta : array_like, shape (q,)
    h : float, default 1e-5
        Relative step of the differences (times ``max(1, abs(theta[k]))``); positive.

    Returns
    -------
    numpy.ndarray, shape (q, q)
        The total (not per-row) observed information, symmetric.

    References
    ----------
    Magnus, J. R., & Neudecker, H. (1999). *Matrix differential calculus* (rev. ed.). Wiley.
    Rosseel, Y. (2012). lavaan. *Journal of Statistical Software, 48*(2), 1--36.

    Examples
    --------
    >>> class Saturated1:  # one variable, theta = (mu, sigma^2)
    ...     def implied(self, th): return [(np.array([th[0]]), np.array([[th[1]]]))]
    ...     def jacobian(self, th): return [(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))]
    >>> pat = Patterns.from_moments(np.zeros(1), np.eye(1), 10)
    >>> (observed_information([pat], Saturated1(), np.array([0.0, 1.0])).round(8) + 0.0).tolist()
    [[10.0, 0.0], [0.0, 5.0]]
    """
    if isinstance(h, bool) or not isinstance(h, (int, float, np.number)) or not (h > 0 and np.isfinite(h)):
        raise ValueError(f"`h` must be a positive number; got {h!r}.")
    if isinstance(pats, Patterns):
        pats = [pats]
    if not isinstance(pats, (list, tuple)) or not pats or not all(isinstance(x, Patterns) for x in pats):
        raise ValueError("`pats` must be a list of Patterns objects (one per group).")
    if not (hasattr(model, "implied") and hasattr(model, "jacobian")):
        raise ValueError(f"`model` must have implied() and jacobian() methods; got {type(model).__name__}.")
    theta = np.asarray(theta, dtype=float).ravel()
    if not np.isfinite(theta).all():
        raise ValueError("`theta` must be finite.")
    imp, jac = model.implied(theta), model.jacobian(theta)
    if len(imp) != len(pats):
        raise ValueError(f"`pats` has {len(pats)} groups, the model {len(imp)}.")
    q = len(theta)
    H = np.zeros((q, q))
    gam = []
    for pat, (mu, S), (dmu, dS) in zip(pats, imp, jac):
        J = np.vstack([dmu, dS])
        H += J.T @ hessian(pat, mu, S) @ J
        _, gmu, gS = loglik_grad(pat, mu, S)
        gam.append(np.concatenate([gmu, gS.ravel(order="F")]))
    T = np.zeros((q, q))
    for k in range(q):
        step = h * max(1.0, abs(theta[k]))
        e = np.zeros(q)
        e[k] = step
        for gm, (pm, pS), (mm, mS) in zip(gam, model.jacobian(theta + e), model.jacobian(theta - e)):
            T[:, k] += (np.vstack([pm, pS]) - np.vstack([mm, mS])).T @ gm / (2 * step)
    I = -(H + 0.5 * (T + T.T))
    return 0.5 * (I + I.T)


def _dup(p: int) -> np.ndarray:
    """Duplication matrix D (p*p x p(p+1)/2): vec(S) = D vech(S), vech column-major lower triangle."""
    D = np.zeros((p * p, p * (p + 1) // 2))
    k = 0
    for j in range(p):
        for i in range(j, p):
            D[i + j * p, k] = 1.0
            D[j + i * p, k] = 1.0
            k += 1
    return D


def em_saturated(pat: Patterns, tol: float = 1e-10, max_iter: int = 10000):
    r"""ML means and covariances of incomplete normal data (the saturated, H1, model) by EM.

    E-step per pattern: the missing part :math:`m` of a row is replaced by
    :math:`\mu_m + \Sigma_{mo}\Sigma_{oo}^{-1}(y_o - \mu_o)` and the cross-products get the
    conditional covariance :math:`\Sigma_{mm} - \Sigma_{mo}\Sigma_{oo}^{-1}\Sigma_{om}`, using
    the pattern's sufficient statistics; M-step :math:`\mu = T_1/n`,
    :math:`\Sigma = T_2/n - \mu\mu^\top`. Started, as lavaan's, from the available-case means
    and the diagonal of the available-case variances. After EM has settled (relative change
    below 1e-4) Newton steps on the analytic Hessian (:func:`hessian`, over
    :math:`(\mu, \operatorname{vech}\Sigma)`) finish the job; a Newton step that does not
    raise the likelihood falls back to EM. Converged when the largest change of a mean is
    below ``tol`` times the largest standard deviation and that of a covariance below ``tol``
    times the largest variance (so the result does not depend on the units).

    Parameters
    ----------
    pat : Patterns
    tol : float, default 1e-10
        Positive.
    max_iter : int, default 10000
        At least 1.

    Returns
    -------
    mu : numpy.ndarray, shape (p,)
    Sigma : numpy.ndarray, shape (p, p)
    ll : float
        The saturated log-likelihood (lavaan's ``unrestricted.logl``).
    converged : bool

    Raises
    ------
    ValueError
        Bad ``tol``/``max_iter``; a pair of variables never observed together (their
        covariance is not identified).

    References
    ----------
    Dempster, A. P., Laird, N. M., & Rubin, D. B. (1977). *JRSS B, 39*(1), 1--38.
    Little, R. J. A., & Rubin, D. B. (2002). *Statistical analysis with missing data* (2nd ed.), sec. 11.2.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> X = rng.normal(size=(50, 3)); X[:10, 2] = np.nan
    >>> mu, S, ll, ok = em_saturated(Patterns(X))
    >>> ok, round(ll, 4) == round(loglik(Patterns(X), mu, S), 4)
    (True, True)
    """
    if not isinstance(pat, Patterns):
        raise ValueError(f"`pat` must be a Patterns object; got {type(pat).__name__}.")
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.number)) or not (tol > 0 and np.isfinite(tol)):
        raise ValueError(f"`tol` must be a positive number; got {tol!r}.")
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"`max_iter` must be a whole number >= 1; got {max_iter!r}.")
    p, n = pat.p, pat.n
    if pat.complete:
        pt = pat.patterns[0]
        mu, S = pt.mean.copy(), pt.cov.copy()
        return mu, S, loglik(pat, mu, S), True
    cover = np.zeros((p, p))
    for pt in pat.patterns:
        cover[np.ix_(pt.obs, pt.obs)] += pt.n
    if (cover == 0).any():
        j, k = np.argwhere(cover == 0)[0]
        raise ValueError(f"`pat`: variables {j} and {k} are never observed together; their covariance is not "
                         "identified.")
    # available-case moments (lavaan's start)
    s1 = np.zeros(p)
    s2 = np.zeros(p)
    cnt = np.zeros(p)
    for pt in pat.patterns:
        s1[pt.obs] += pt.n * pt.mean
        cnt[pt.obs] += pt.n
    mu = s1 / cnt
    for pt in pat.patterns:
        s2[pt.obs] += pt.n * (np.diag(pt.cov) + (pt.mean - mu[pt.obs]) ** 2)
    var = s2 / cnt
    if (var <= 0).any() or not np.isfinite(var).all():
        j = int(np.flatnonzero(~(var > 0))[0])
        raise ValueError(f"`pat`: variable {j} has zero variance among its observed values.")
    # work in units of a power of two near each SD (exact back-transformation: any magnitude)
    u = 2.0 ** np.round(0.5 * np.log2(var))
    work = _rescaled(pat, u)
    mu_s, S_s, _, converged = _em_fit(work, mu / u, np.diag(var / u ** 2), tol, max_iter)
    mu, Sigma = mu_s * u, S_s * np.outer(u, u)
    return mu, Sigma, loglik(pat, mu, Sigma), converged


def _rescaled(pat: Patterns, u: np.ndarray) -> Patterns:
    """A copy of ``pat`` with variable j divided by ``u[j]`` (statistics rescaled, no recount)."""
    new = Patterns.__new__(Patterns)
    new.__dict__.update(pat.__dict__)
    new.X = None if pat.X is None else pat.X / u
    new.patterns = [_Pattern(pt.obs, pt.n, pt.mean / u[pt.obs], pt.cov / np.outer(u[pt.obs], u[pt.obs]),
                             pt.rows, pat.p) for pt in pat.patterns]
    return new


def _em_fit(pat: Patterns, mu, Sigma, tol, max_iter):
    p = pat.p
    scale = float(np.diag(Sigma).max())
    root = math.sqrt(scale)
    D = _dup(p)
    J = np.zeros((p + p * p, p + D.shape[1]))  # (mu, vech Sigma) -> (mu, vec Sigma)
    J[:p, :p] = np.eye(p)
    J[p:, p:] = D
    lower = (np.concatenate([np.arange(j, p) for j in range(p)]),
             np.concatenate([np.full(p - j, j) for j in range(p)]))  # vech order of _dup
    converged = False
    newton = False
    for _ in range(max_iter):
        if newton:
            ll, gmu, gS = loglik_grad(pat, mu, Sigma)
            g = np.concatenate([gmu, gS[lower] * np.where(lower[0] == lower[1], 1.0, 2.0)])
            H = J.T @ hessian(pat, mu, Sigma) @ J
            try:
                step = -np.linalg.solve(H, g)
            except np.linalg.LinAlgError:
                step = None
            if step is not None and np.isfinite(step).all():
                mu_n = mu + step[:p]
                dS = np.zeros((p, p))
                dS[lower] = step[p:]
                Sigma_n = Sigma + dS + np.tril(dS, -1).T
                ll_n = loglik(pat, mu_n, Sigma_n)
                if np.isfinite(ll_n) and ll_n >= ll - 1e-10 * max(1.0, abs(ll)):
                    delta = max(np.max(np.abs(step[:p])) / root, np.max(np.abs(dS)) / scale)
                    mu, Sigma = mu_n, Sigma_n
                    if delta < tol:
                        converged = True
                        break
                    continue
            newton = False  # the Newton step failed: back to EM
        mu_n, Sigma_n = _em_step(pat, mu, Sigma)
        delta = max(np.max(np.abs(mu_n - mu)) / root, np.max(np.abs(Sigma_n - Sigma)) / scale)
        mu, Sigma = mu_n, Sigma_n
        if delta < tol:
            converged = True
            break
        if delta < 1e-3:
            newton = True
    return mu, Sigma, None, converged


def _em_step(pat: Patterns, mu, Sigma):
    p, n = pat.p, pat.n
    T1 = np.zeros(p)
    T2 = np.zeros((p, p))
    for pt in pat.patterns:
        if pt.full:
            T1 += pt.n * pt.mean
            T2 += pt.n * (pt.cov + np.outer(pt.mean, pt.mean))
            continue
        o, m = pt.obs, pt.mis
        Som = Sigma[pt.om]
        Bm = np.linalg.solve(Sigma[pt.oo], Som).T  # regression of the missing on the observed part
        e = np.empty(p)
        e[o] = pt.mean
        e[m] = mu[m] + Bm @ (pt.mean - mu[o])
        F = np.empty((p, p))
        F[pt.oo] = pt.cov
        BS = Bm @ pt.cov
        F[pt.mo] = BS
        F[pt.om] = BS.T
        F[pt.mm] = BS @ Bm.T + Sigma[pt.mm] - Bm @ Som
        T1 += pt.n * e
        T2 += pt.n * (F + np.outer(e, e))
    mu_n = T1 / n
    S = T2 / n - np.outer(mu_n, mu_n)
    return mu_n, 0.5 * (S + S.T)
