r"""Therapist effects and the within/between-therapist alliance–outcome relation.

Two estimators on the two-level model of patients :math:`i` nested in therapists
:math:`j`:

- :func:`therapist_effect`: variance components, the therapist ICC with a
  confidence interval, and each therapist's predicted effect (BLUP) with its
  interval, from the random-intercept model

  .. math:: y_{ij} = x_{ij}^\top\beta + u_j + e_{ij},\quad u_j \sim N(0, \tau^2),\;
            e_{ij} \sim N(0, \sigma^2),\qquad \mathrm{ICC} = \tau^2 / (\tau^2 + \sigma^2).

- :func:`disaggregate_alliance`: the alliance split into the therapist's mean
  :math:`\bar A_j` and the patient's deviation from it (group-mean centring;
  Baldwin, Wampold & Imel 2007; Raudenbush & Bryk 2002, ch. 5),

  .. math:: y_{ij} = \beta_0 + \beta_W (A_{ij} - \bar A_j) + \beta_B \bar A_j
            + x_{ij}^\top\gamma + u_j + e_{ij},

  with the contextual effect :math:`\beta_B - \beta_W` and its z test.

Engines
-------
``engine="profile"`` (default for random intercepts) maximises the (RE)ML
criterion profiled over :math:`\beta` and :math:`\sigma^2`, a function of the single
ratio :math:`\lambda = \tau^2/\sigma^2` (lme4 parameter :math:`\theta = \sqrt\lambda`;
Bates, Mächler, Bolker & Walker 2015, eqs. 34 and 41). With :math:`c_j =
\lambda/(1 + \lambda n_j)`, group sums :math:`s_j = \sum_i x_{ij}`, :math:`t_j = \sum_i y_{ij}`:

.. math::

    A = X^\top X - \sum_j c_j s_j s_j^\top,\quad b = X^\top y - \sum_j c_j t_j s_j,\quad
    \hat\beta = A^{-1} b,\quad r^2 = y^\top y - \sum_j c_j t_j^2 - b^\top\hat\beta,

    -2\ell_{ML} = N\,[1 + \log(2\pi r^2/N)] + \sum_j \log(1 + \lambda n_j),

    -2\ell_{REML} = (N-p)\,[1 + \log(2\pi r^2/(N-p))] + \sum_j \log(1 + \lambda n_j) + \log|A|,

:math:`\hat\sigma^2 = r^2/N` (ML) or :math:`r^2/(N-p)` (REML), :math:`\operatorname{cov}\hat\beta =
\hat\sigma^2 A^{-1}`. After the data's sums, each evaluation costs :math:`O(Jp^2)`. The
one-dimensional criterion is scanned on a grid of :math:`\theta` (including 0) and the
best cell refined with bounded Brent, so a boundary optimum (:math:`\tau^2 = 0`) is found
and reported rather than missed. Written by hand because statsmodels' MixedLM can stop
at a wrong optimum on unbalanced data (see the ecosystem notes); it is validated against
lme4 and MixedLM in the tests. ``engine="mixedlm"`` (and random slopes) fit statsmodels
``MixedLM`` with several optimizers ("lbfgs", "powell", "nm"), keep the best
log-likelihood, polish it with L-BFGS, and record every attempt.

BLUPs (Snijders & Bosker 2012, sec. 4.8): :math:`\hat u_j = c_j \sum_i (y_{ij} -
x_{ij}^\top\hat\beta)`, conditional variance :math:`\hat\sigma^2 c_j` (as lme4's
``condVar``; it ignores the uncertainty of :math:`\hat\beta`).

References
----------
Baldwin, S. A., Wampold, B. E., & Imel, Z. E. (2007). Untangling the alliance-outcome
correlation: Exploring the relative importance of therapist and patient variability in
the alliance. *J Consult Clin Psychol, 75*(6), 842--852.
Bates, D., Mächler, M., Bolker, B., & Walker, S. (2015). Fitting linear mixed-effects
models using lme4. *J Stat Softw, 67*(1), 1--48.
Raudenbush, S. W., & Bryk, A. S. (2002). *Hierarchical linear models* (2nd ed.). Sage.
Snijders, T. A. B., & Bosker, R. J. (2012). *Multilevel analysis* (2nd ed.). Sage.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

from analysis._checks import check_columns, check_dataframe, check_level, describe_labels
from analysis._results import ResultMixin, deprecated_alias

__all__ = [
    "BoundaryWarning",
    "ConvergenceWarning",
    "TherapistEffect",
    "AllianceDisaggregation",
    "therapist_effect",
    "disaggregate_alliance",
]

_SINGULAR_TOL = 1e-4  # on theta = tau / sigma, as lme4::isSingular
_CHI2_95 = stats.chi2.ppf(0.95, 1)


class BoundaryWarning(UserWarning):
    """A variance component was estimated at (or next to) zero: a singular fit."""


class ConvergenceWarning(UserWarning):
    """The optimizers disagreed or did not converge."""


# --------------------------------------------------------------------------- input
def _prepare(data: pd.DataFrame, outcome: str, therapist: str, predictors: Sequence[str],
             roles: Sequence[str] | None = None, *, singletons: bool = True):
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"`data` must be a pandas DataFrame; got {type(data).__name__}.")
    roles = list(roles) if roles is not None else ["covariates"] * len(predictors)
    named = [("outcome", outcome), ("therapist", therapist)] + list(zip(roles, predictors))
    for role, col in named:
        if not isinstance(col, str):
            raise ValueError(f"`{role}` must be a column name (str); got {col!r}.")
    for role, col in named:
        check_columns(data, {role: col}, argument="data")
    all_cols = [outcome, therapist, *predictors]
    if len(set(all_cols)) != len(all_cols):
        dup = sorted({c for c in all_cols if all_cols.count(c) > 1})
        raise ValueError(f"Each column may appear only once among outcome, therapist and covariates; "
                         f"{', '.join(map(repr, dup))} appears more than once.")
    check_dataframe("data", data, min_rows=1)
    cols = {}
    for col in [outcome, *predictors]:
        s = data[col]
        if s.dtype == bool or not pd.api.types.is_numeric_dtype(s):
            vals = pd.to_numeric(s, errors="coerce")
            bad = vals.isna() & s.notna()
            if s.dtype == bool or bad.any():
                row = data.index[bad.to_numpy()][0] if bad.any() else data.index[0]
                raise ValueError(
                    f"Column {col!r} must be numeric; row {row!r} has {s.loc[row]!r} "
                    "(code categorical covariates as 0/1 columns, e.g. with pandas.get_dummies)."
                )
            s = vals
        arr = s.to_numpy(dtype=float)
        bad = ~np.isfinite(arr)
        if bad.any():
            rows = list(data.index[bad][:5])
            raise ValueError(
                f"Column {col!r} has missing or infinite values at row(s) {rows} "
                f"({describe_labels(data.index[bad])}); drop or impute them first."
            )
        cols[col] = arr
    g = data[therapist]
    if g.isna().any():
        rows = list(data.index[g.isna().to_numpy()][:5])
        raise ValueError(f"Column {therapist!r} (therapist id) is missing at row(s) {rows}.")
    try:
        codes, labels = pd.factorize(g, sort=True)
    except TypeError:  # mixed, unorderable ids (e.g. 1 and "a")
        codes, labels = pd.factorize(g.astype(str), sort=True)
    if len(labels) < 2:
        raise ValueError(f"Column {therapist!r} (`therapist`) must identify at least two clusters "
                         f"(therapists); found {len(labels)}: a between-cluster variance needs at least "
                         "two therapists.")
    N, J = len(codes), len(labels)
    if J >= N and singletons:
        raise ValueError(
            f"Every cluster in column {therapist!r} (`therapist`) has one observation ({N} rows, {J} "
            f"clusters): the cluster (therapist) and residual variances are not separately identified "
            f"(lme4 refuses this too: the number of levels of a grouping factor must be < the number "
            f"of observations). Is {therapist!r} a patient id rather than a therapist id?"
        )
    return cols, codes.astype(np.int64), labels


def _center_scale(v: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Mean, (population) SD and standardised copy of ``v``, without overflow or underflow at any
    magnitude; the SD is 0 when ``v`` varies by less than 1e-12 of its largest absolute value."""
    a = float(np.max(np.abs(v)))
    if a == 0.0:
        return 0.0, 0.0, np.zeros_like(v)
    w = v / a
    m, sd = float(np.mean(w)), float(np.std(w))
    if sd <= 1e-12:
        return m * a, 0.0, np.zeros_like(v)
    return m * a, sd * a, (w - m) / sd


def _design(cols: dict, predictors: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    n = len(next(iter(cols.values())))
    X = np.column_stack([np.ones(n)] + [cols[c] for c in predictors])
    names = ["Intercept", *predictors]
    for c in predictors:
        if _center_scale(cols[c])[1] == 0.0:
            raise ValueError(f"Covariate {c!r} does not vary (it is collinear with the intercept).")
    Xs, _ = _standardise_X(X)
    if np.linalg.matrix_rank(Xs) < X.shape[1]:
        raise ValueError(f"The covariates {list(predictors)} are collinear (with each other or the intercept).")
    return X, names


def _standardise_X(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre and scale every column but the intercept: ``Xs = X @ M`` (returns ``Xs, M``)."""
    p = X.shape[1]
    M = np.eye(p)
    Xs = X.copy()
    for k in range(1, p):
        m, s, Xs[:, k] = _center_scale(X[:, k])
        M[k, k] = 1.0 / s
        M[0, k] = -m / s
    return Xs, M


class _Scaled:
    r"""The model on standardised data, and the back-transformation to the data's units.

    The (RE)ML optimum is equivariant: with :math:`y_s = (y - m_y)/s_y` and :math:`X_s = XM`
    (covariates centred and scaled), :math:`\beta = s_y M\beta_s + m_y e_1`,
    :math:`\operatorname{cov}\beta = s_y^2 M \operatorname{cov}\beta_s M^\top`, variances times
    :math:`s_y^2`, and the criterion shifts by :math:`n\log s_y^2` (ML) or
    :math:`(N-p)\log s_y^2 - 2\log|\det M|` (REML). Fitting on the standardised scale makes
    results the same for outcomes or covariates in any units (1e-150 or 1e150).
    """

    def __init__(self, y: np.ndarray, X: np.ndarray, codes: np.ndarray, J: int, outcome: str, therapist: str,
                 names: Sequence[str]):
        self.my, self.sy, self.y = _center_scale(y)
        if self.sy == 0.0:
            raise ValueError(f"Column {outcome!r} (`outcome`) has zero variance (every value is "
                             f"{float(y[0])!r}, to 12 digits): there is no variance to split between therapists "
                             "and patients.")
        self.X, self.M = _standardise_X(X)
        self.N, self.p = X.shape
        if self.N < self.p + 2:
            raise ValueError(
                f"More parameters than observations: {self.p} fixed effects and 2 variances from "
                f"{self.N} rows of `data`."
            )
        # identification: the residual (within-therapist) variance must be positive
        n_j = np.bincount(codes, minlength=J).astype(float)
        def demean(v):
            return v - (np.bincount(codes, weights=v, minlength=J) / n_j)[codes]
        yw = demean(self.y)
        Xw = np.column_stack([demean(self.X[:, k]) for k in range(1, self.p)]) if self.p > 1 else np.zeros((self.N, 0))
        if Xw.shape[1]:
            coef, *_ = np.linalg.lstsq(Xw, yw, rcond=None)
            rw = yw - Xw @ coef
        else:
            rw = yw
        coef_t, *_ = np.linalg.lstsq(self.X, self.y, rcond=None)
        rt = self.y - self.X @ coef_t
        if float(rt @ rt) <= 1e-20 * self.N:
            raise ValueError(
                f"The covariates reproduce {outcome!r} exactly (zero residual variance): the variance "
                "components are not identified."
            )
        if float(rw @ rw) <= 1e-20 * self.N:
            raise ValueError(
                f"{outcome!r} does not vary within the clusters of {therapist!r} once the covariates are "
                "taken into account: the residual variance is zero and the therapist variance is not "
                "identified (the likelihood is unbounded)."
            )
        self.logdetM = float(np.linalg.slogdet(self.M)[1])

    def crit_shift(self, reml: bool) -> float:
        log_s2 = 2.0 * math.log(self.sy)
        if reml:
            return (self.N - self.p) * log_s2 - 2.0 * self.logdetM
        return self.N * log_s2

    def beta(self, beta_s: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", under="ignore"):
            b = self.sy * (self.M @ beta_s)
            b[0] += self.my
        return self.representable("fixed effects", b, beta_s)

    def cov(self, cov_s: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", under="ignore"):
            c = np.float64(self.sy) ** 2 * (self.M @ cov_s @ self.M.T)
        return self.representable("fixed-effect covariance", c, np.diag(cov_s), diag=True)

    def var(self, what: str, v_s: Any) -> Any:
        with np.errstate(over="ignore", under="ignore"):
            v = np.float64(self.sy) ** 2 * np.asarray(v_s, float)
        return self.representable(what, v, v_s)

    def times_sy(self, what: str, v_s: Any) -> Any:
        with np.errstate(over="ignore", under="ignore"):
            v = np.float64(self.sy) * np.asarray(v_s, float)
        return self.representable(what, v, v_s)

    def representable(self, what: str, v: np.ndarray, v_s: Any, diag: bool = False) -> np.ndarray:
        """Refuse results that overflow or underflow double precision in the data's units."""
        v = np.asarray(v, float)
        check = np.diag(v) if diag else v
        tiny = np.finfo(float).tiny  # below it, subnormal numbers lose precision
        lost = ~np.isfinite(check) | ((np.abs(check) < tiny) & (np.abs(np.asarray(v_s, float)) >= tiny))
        if lost.any():
            raise ValueError(
                f"The {what} cannot be represented in double precision in the units of the data "
                f"(outcome SD {self.sy:.3g}, covariate SDs "
                f"{', '.join(f'{1 / self.M[k, k]:.3g}' for k in range(1, self.p)) or 'none'}): rescale "
                "the outcome or covariates (e.g. to SD units) before fitting."
            )
        return v


# --------------------------------------------------------------------------- profiled engine
class _ProfiledRI:
    """Profiled (RE)ML criterion of the random-intercept model, O(J p^2) per evaluation."""

    def __init__(self, y: np.ndarray, X: np.ndarray, codes: np.ndarray, J: int, reml: bool):
        self.X, self.codes, self.J, self.reml = X, codes, J, reml
        self.N, self.p = X.shape
        self.n_j = np.bincount(codes, minlength=J).astype(float)
        self.Sx = np.zeros((J, self.p))
        np.add.at(self.Sx, codes, X)
        self.XtX = X.T @ X
        self.set_y(y)

    def set_y(self, y: np.ndarray) -> None:
        self.y = y
        self.Sy = np.bincount(self.codes, weights=y, minlength=self.J)
        self.Xty = self.X.T @ y
        self.yty = float(y @ y)

    def pieces(self, theta: float):
        lam = theta * theta
        c = lam / (1.0 + lam * self.n_j)
        A = self.XtX - (self.Sx * c[:, None]).T @ self.Sx
        b = self.Xty - self.Sx.T @ (c * self.Sy)
        L = np.linalg.cholesky(A)
        beta = np.linalg.solve(A, b)
        r2 = self.yty - float(np.sum(c * self.Sy**2)) - float(b @ beta)
        logdet_V = float(np.sum(np.log1p(lam * self.n_j)))
        logdet_A = 2.0 * float(np.sum(np.log(np.diag(L))))
        return c, A, beta, r2, logdet_V, logdet_A

    def crit(self, theta: float) -> float:
        _, _, _, r2, ldv, lda = self.pieces(theta)
        r2 = max(r2, 1e-300)
        if self.reml:
            d = self.N - self.p
            return d * (1.0 + math.log(2 * math.pi * r2 / d)) + ldv + lda
        return self.N * (1.0 + math.log(2 * math.pi * r2 / self.N)) + ldv

    def optimise(self) -> tuple[float, float]:
        grid = np.concatenate([[0.0], np.logspace(-4, 2, 49)])
        vals = np.array([self.crit(t) for t in grid])
        while np.argmin(vals) == len(grid) - 1 and grid[-1] < 1e8:  # optimum beyond the grid
            more = grid[-1] * np.logspace(0.25, 2, 8)
            grid = np.concatenate([grid, more])
            vals = np.concatenate([vals, [self.crit(t) for t in more]])
        k = int(np.argmin(vals))
        lo = grid[max(k - 1, 0)]
        hi = grid[min(k + 1, len(grid) - 1)]
        res = optimize.minimize_scalar(self.crit, bounds=(lo, hi), method="bounded",
                                       options={"xatol": 1e-12 * max(1.0, hi), "maxiter": 500})
        best_t, best_v = (res.x, res.fun) if res.fun <= vals[k] else (grid[k], vals[k])
        if self.crit(0.0) <= best_v:  # boundary optimum
            best_t, best_v = 0.0, self.crit(0.0)
        return float(best_t), float(best_v)

    def profile_ci(self, theta_hat: float, crit_hat: float, level: float) -> tuple[float, float]:
        """Profile-likelihood interval for theta (criterion rises by the chi2_1 quantile)."""
        q = stats.chi2.ppf(level, 1)
        f = lambda t: self.crit(t) - crit_hat - q  # noqa: E731
        lower = 0.0
        if theta_hat > 0 and f(0.0) > 0:
            lower = optimize.brentq(f, 0.0, theta_hat, xtol=1e-12)
        hi = max(theta_hat, 1e-3) * 2
        while f(hi) < 0:
            hi *= 2
            if hi > 1e8:
                return lower, math.inf
        upper = optimize.brentq(f, theta_hat, hi, xtol=1e-12)
        return lower, upper


class _ProfiledRE:
    """Profiled (RE)ML criterion for q correlated random effects per therapist.

    lme4's formulation (Bates et al. 2015): G = sigma^2 Lambda Lambda', Lambda lower
    triangular with parameters theta; per therapist M_j = Lambda' Z_j'Z_j Lambda + I,
    A = X'X - sum_j (Lambda'Z_j'X_j)' M_j^-1 (Lambda'Z_j'X_j), log|V/sigma^2| = sum_j log|M_j|;
    the criterion is as for the random intercept. Used to polish MixedLM's optimum and to
    compute the fixed-effect covariance sigma^2 A^-1 exactly as lme4 does.
    """

    def __init__(self, y, X, Z, codes, J, reml):
        self.N, self.p = X.shape
        self.q = Z.shape[1]
        self.reml = reml
        zz = Z[:, :, None] * Z[:, None, :]
        zx = Z[:, :, None] * X[:, None, :]
        self.ZtZ = np.zeros((J, self.q, self.q))
        np.add.at(self.ZtZ, codes, zz)
        self.ZtX = np.zeros((J, self.q, self.p))
        np.add.at(self.ZtX, codes, zx)
        self.Zty = np.zeros((J, self.q))
        np.add.at(self.Zty, codes, Z * y[:, None])
        self.XtX, self.Xty, self.yty = X.T @ X, X.T @ y, float(y @ y)
        self.tril = np.tril_indices(self.q)

    def lam(self, theta):
        L = np.zeros((self.q, self.q))
        L[self.tril] = theta
        return L

    def pieces(self, theta):
        L = self.lam(theta)
        M = np.einsum("ab,jbc,cd->jad", L.T, self.ZtZ, L) + np.eye(self.q)
        LX = np.einsum("ab,jbc->jac", L.T, self.ZtX)
        Ly = np.einsum("ab,jb->ja", L.T, self.Zty)
        MiLX = np.linalg.solve(M, LX)
        MiLy = np.linalg.solve(M, Ly[:, :, None])[:, :, 0]
        A = self.XtX - np.einsum("jap,jar->pr", LX, MiLX)
        b = self.Xty - np.einsum("jap,ja->p", LX, MiLy)
        qq = self.yty - float(np.einsum("ja,ja->", Ly, MiLy))
        beta = np.linalg.solve(A, b)
        r2 = qq - float(b @ beta)
        ldv = float(np.sum(np.linalg.slogdet(M)[1]))
        lda = float(np.linalg.slogdet(A)[1])
        return A, beta, r2, ldv, lda

    def crit(self, theta):
        _, _, r2, ldv, lda = self.pieces(theta)
        r2 = max(r2, 1e-300)
        if self.reml:
            d = self.N - self.p
            return d * (1.0 + math.log(2 * math.pi * r2 / d)) + ldv + lda
        return self.N * (1.0 + math.log(2 * math.pi * r2 / self.N)) + ldv

    def theta_from(self, G, sigma2):
        rel = np.asarray(G) / sigma2
        try:
            L = np.linalg.cholesky(rel)
        except np.linalg.LinAlgError:
            w, V = np.linalg.eigh(rel)
            L = np.linalg.cholesky(V @ np.diag(np.maximum(w, 1e-10)) @ V.T)
        return L[self.tril]

    def polish(self, theta0):
        diag = [i for i, (r, c) in enumerate(zip(*self.tril)) if r == c]
        bounds = [(0.0, None) if i in diag else (None, None) for i in range(len(theta0))]
        best_t, best_v = np.asarray(theta0, float), self.crit(theta0)
        for meth, opts in (("L-BFGS-B", {"ftol": 1e-15, "gtol": 1e-11, "maxiter": 5000}),
                           ("Nelder-Mead", {"xatol": 1e-9, "fatol": 1e-12, "maxiter": 1500})):
            res = optimize.minimize(self.crit, best_t, method=meth, bounds=bounds, options=opts)
            if res.fun < best_v:
                best_t, best_v = np.asarray(res.x, float), float(res.fun)
        return best_t, best_v


# --------------------------------------------------------------------------- MixedLM engine
def _fit_mixedlm(y, X, codes, Z, reml: bool, xnames, znames):
    """Fit statsmodels MixedLM with several optimizers; keep the best log-likelihood."""
    import statsmodels.api as sm

    model = sm.MixedLM(y, X, groups=codes, exog_re=Z)
    attempts, fits = [], []
    for method in ("lbfgs", "powell", "nm"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                kw = {"maxiter": 20000} if method in ("nm", "powell") else {}
                r = model.fit(reml=reml, method=method, **kw)
                llf = float(r.llf)
            except Exception as exc:  # an optimizer failing is recorded, not fatal
                attempts.append({"optimizer": method, "loglik": np.nan, "converged": False,
                                 "message": f"{type(exc).__name__}: {exc}"})
                continue
        msg = "; ".join(sorted({str(w.message).splitlines()[0] for w in caught}))
        attempts.append({"optimizer": method, "loglik": llf, "converged": bool(r.converged), "message": msg})
        if np.isfinite(llf):
            fits.append(r)
    if not fits:
        raise RuntimeError("Every MixedLM optimizer failed; see the messages: "
                           + "; ".join(a["message"] for a in attempts))
    best = max(fits, key=lambda r: r.llf)
    return best, pd.DataFrame(attempts)


# --------------------------------------------------------------------------- results
def _fixed_table(names, est, cov) -> pd.DataFrame:
    se = np.sqrt(np.diag(cov))
    z = est / se
    zc = stats.norm.ppf(0.975)
    return pd.DataFrame({"estimate": est, "se": se, "statistic": z, "pvalue": 2 * stats.norm.sf(np.abs(z)),
                         "ci_low": est - zc * se, "ci_high": est + zc * se}, index=pd.Index(names, name="term"))


def _fmt_p(p: float) -> str:
    return "p < .001" if p < 0.001 else f"p = {p:.3f}".replace("0.", ".", 1)


def _fmt_r(x: float, d: int = 3) -> str:
    s = f"{x:.{d}f}"
    return s.replace("0.", ".", 1) if abs(x) < 1 else s


@dataclass
class TherapistEffect(ResultMixin):
    """Result of :func:`therapist_effect`.

    Attributes
    ----------
    outcome, therapist : str
    covariates : list of str
    method : {"REML", "ML"}
    engine : {"profile", "mixedlm"}
    n_obs, n_therapists : int
    fixed : DataFrame
        Fixed effects: estimate, se, z, p, 95% Wald interval.
    fixed_cov : DataFrame
        Covariance matrix of the fixed effects.
    therapist_var, residual_var : float
        τ² and σ².
    icc : float
        τ² / (τ² + σ²).
    icc_ci : tuple of float
        Interval for the ICC (``ci_method``, ``ci_level``).
    loglik : float
        (Restricted) log-likelihood on lme4's scale (−criterion/2).
    theta : float
        τ/σ (lme4's θ).
    singular : bool
        Boundary fit: θ < 1e-4 (lme4's ``isSingular`` tolerance).
    converged : bool
    effects : DataFrame
        Per therapist: n, BLUP ``effect``, conditional ``se``, ``ci_low``, ``ci_high``
        (95%), sorted by therapist id; for caterpillar plots.
    optimizer_log : DataFrame or None
        Every MixedLM attempt (engine "mixedlm").
    notes : list of str
        Warnings raised during the fit, kept.
    """

    _frame_from = ('fixed',)

    outcome: str
    therapist: str
    covariates: list
    method: str
    engine: str
    n_obs: int
    n_therapists: int
    fixed: pd.DataFrame
    fixed_cov: pd.DataFrame
    therapist_var: float
    residual_var: float
    icc: float
    icc_ci: tuple
    ci_method: str
    ci_level: float
    loglik: float
    theta: float
    singular: bool
    converged: bool
    effects: pd.DataFrame
    optimizer_log: pd.DataFrame | None = None
    notes: list = field(default_factory=list)

    n_clusters = property(lambda self: self.n_therapists, doc="Number of therapists (clusters); = ``n_therapists``.")

    def summary(self) -> str:
        """Readable table of variance components, ICC and fixed effects."""
        lo, hi = self.icc_ci
        lines = [
            f"Therapist effect on {self.outcome!r} ({self.method}, engine {self.engine})",
            f"  {self.n_obs} patients, {self.n_therapists} therapists"
            f" (caseload {self.effects['n'].min()}-{self.effects['n'].max()})",
            f"  therapist variance tau^2 = {self.therapist_var:.6g}",
            f"  residual variance sigma^2 = {self.residual_var:.6g}",
            f"  ICC = {self.icc:.4f}, {int(self.ci_level * 100)}% CI [{lo:.4f}, {hi:.4f}] ({self.ci_method})",
            f"  log-likelihood = {self.loglik:.4f}; converged: {self.converged}; singular: {self.singular}",
            "  fixed effects:",
            self.fixed.to_string(float_format=lambda v: f"{v:.5g}"),
        ]
        if self.singular:
            lines.append("  NOTE: boundary (singular) fit: the therapist variance is estimated at zero.")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def apa(self) -> str:
        """One APA-style sentence."""
        lo, hi = self.icc_ci
        adj = f", adjusting for {', '.join(self.covariates)}" if self.covariates else ""
        sing = " (boundary estimate: singular fit)" if self.singular else ""
        return (
            f"Therapists accounted for {100 * self.icc:.1f}% of the variance in {self.outcome}{adj} "
            f"(ICC = {_fmt_r(self.icc)}, {int(self.ci_level * 100)}% CI [{_fmt_r(lo)}, {_fmt_r(hi)}]{sing}; "
            f"\u03c4\u00b2 = {self.therapist_var:.2f}, \u03c3\u00b2 = {self.residual_var:.2f}; "
            f"{self.n_obs} patients, {self.n_therapists} therapists, {self.method})."
        )


def _check_method(method: str) -> bool:
    if method not in ("REML", "ML"):
        raise ValueError(f"`method` must be 'REML' or 'ML'; got {method!r}.")
    return method == "REML"


def _covariate_list(covariates) -> list[str]:
    if covariates is None:
        return []
    if isinstance(covariates, str):
        return [covariates]
    if isinstance(covariates, (dict, pd.DataFrame, pd.Series)) or not hasattr(covariates, "__iter__"):
        raise ValueError(f"`covariates` must be a column name or a list of column names; got "
                         f"{type(covariates).__name__} {covariates!r}.")
    covs = list(covariates)
    for c in covs:
        if not isinstance(c, str):
            raise ValueError(f"`covariates` must hold column names (str); got {c!r}.")
    return covs


def _fit_ri(y, X, codes, labels, names, reml, engine, ci, ci_level, n_boot, seed, *, outcome="outcome",
            therapist="therapist"):
    """Random-intercept fit shared by both public functions (on standardised data; see _Scaled)."""
    N, p = X.shape
    J = len(labels)
    notes: list[str] = []
    sc = _Scaled(y, X, codes, J, outcome, therapist, names)
    prof = _ProfiledRI(sc.y, sc.X, codes, J, reml)
    log = None
    if engine == "profile":
        theta, crit = prof.optimise()
        converged = bool(np.isfinite(crit)) and theta < 1e8
        if not converged:
            notes.append(f"the optimiser stopped at theta = {theta:.3g} (tau/sigma), the edge of its search "
                         "range: the residual variance is (nearly) zero and the fit is not trustworthy")
    else:
        best, log = _fit_mixedlm(sc.y, sc.X, codes, np.ones((N, 1)), reml, names, ["Intercept"])
        sigma2 = float(best.scale)
        tau2 = float(np.asarray(best.cov_re)[0, 0])
        theta = math.sqrt(max(tau2, 0.0) / sigma2)
        crit = prof.crit(theta)
        converged = bool(best.converged)
        if not log["converged"].all():
            notes.append("not every MixedLM optimizer converged; the best log-likelihood was kept "
                         "(see optimizer_log)")
        spread = log["loglik"].max() - log["loglik"].min()
        if np.isfinite(spread) and spread > 1e-4:
            notes.append(f"MixedLM optimizers reached log-likelihoods differing by {spread:.3g}; "
                         "the best was kept")
    c, A, beta_s, r2, _, _ = prof.pieces(theta)
    sigma2_s = r2 / (N - p if reml else N)
    tau2_s = theta**2 * sigma2_s
    cov_s = sigma2_s * np.linalg.inv(A)
    beta, cov = sc.beta(beta_s), sc.cov(cov_s)
    singular = theta < _SINGULAR_TOL
    sigma2 = float(sc.var("residual variance", sigma2_s))
    if singular:  # a boundary estimate may underflow to 0 in the data's units
        with np.errstate(under="ignore"):
            tau2 = float(np.float64(sc.sy) ** 2 * tau2_s)
    else:
        tau2 = float(sc.var("therapist variance", tau2_s))
    fixed = _fixed_table(names, beta, cov)
    icc = theta**2 / (1.0 + theta**2)
    if singular:
        msg = (f"Boundary (singular) fit: the therapist variance is estimated at {tau2:.3g} "
               f"(theta = {theta:.3g} < {_SINGULAR_TOL}); the data show no therapist variance beyond chance.")
        notes.append(msg)
        warnings.warn(msg, BoundaryWarning, stacklevel=3)
    for msg in notes:
        if msg.startswith("MixedLM") or msg.startswith("not every") or msg.startswith("the optimiser"):
            warnings.warn(msg, ConvergenceWarning, stacklevel=3)
    # interval for the ICC
    if ci == "profile":
        tl, tu = prof.profile_ci(theta, crit, ci_level)
        icc_ci = (tl**2 / (1 + tl**2), 1.0 if math.isinf(tu) else tu**2 / (1 + tu**2))
    else:
        rng = np.random.default_rng(seed)
        xb = sc.X @ beta_s
        boots = np.empty(n_boot)
        for b in range(n_boot):
            yb = xb + rng.normal(0, math.sqrt(tau2_s), J)[codes] + rng.normal(0, math.sqrt(sigma2_s), N)
            prof.set_y(yb)
            tb, _ = prof.optimise()
            boots[b] = tb**2 / (1 + tb**2)
        prof.set_y(sc.y)
        a = (1 - ci_level) / 2
        icc_ci = (float(np.quantile(boots, a)), float(np.quantile(boots, 1 - a)))
    # BLUPs
    Sr = prof.Sy - prof.Sx @ beta_s
    u = sc.times_sy("therapist effects (BLUPs)", c * Sr)
    se_u = sc.times_sy("SEs of the therapist effects", np.sqrt(sigma2_s * c))
    zc = stats.norm.ppf(0.975)
    effects = pd.DataFrame({"therapist": labels, "n": prof.n_j.astype(int), "effect": u, "se": se_u,
                            "ci_low": u - zc * se_u, "ci_high": u + zc * se_u})
    crit = crit + sc.crit_shift(reml)
    return dict(fixed=fixed, fixed_cov=pd.DataFrame(cov, index=names, columns=names), therapist_var=tau2,
                residual_var=sigma2, icc=icc, icc_ci=icc_ci, loglik=-crit / 2, theta=theta, singular=singular,
                converged=converged, effects=effects, optimizer_log=log, notes=notes)


def therapist_effect(
    data: pd.DataFrame,
    outcome: str,
    therapist: str,
    covariates: Sequence[str] | str | None = None,
    method: str = "REML",
    *,
    engine: str = "profile",
    ci: str = "profile",
    ci_level: float = 0.95,
    n_boot: int = 1000,
    seed: int | None = 0,
) -> TherapistEffect:
    r"""Therapist variance, ICC and each therapist's predicted effect.

    Fits :math:`y_{ij} = x_{ij}^\top\beta + u_j + e_{ij}` (random intercept per
    therapist; Raudenbush & Bryk 2002; Snijders & Bosker 2012) and reports
    :math:`\tau^2`, :math:`\sigma^2`, :math:`\mathrm{ICC} = \tau^2/(\tau^2+\sigma^2)` — the share of
    (covariate-adjusted) outcome variance between therapists — and BLUPs
    :math:`\hat u_j` with conditional SEs. Agrees with ``lme4::lmer`` (Bates et al.
    2015) to 1e-4 relative (tests).

    Parameters
    ----------
    data : DataFrame
        One row per patient.
    outcome : str
        Numeric outcome column (e.g. post score).
    therapist : str
        Therapist id column (any hashable values; no missing values).
    covariates : list of str, optional
        Numeric covariate columns (e.g. ``["pre", "arm"]``); code categories as 0/1.
    method : {"REML", "ML"}
        REML (default) or ML (for likelihood-ratio comparisons of fixed effects).
    engine : {"profile", "mixedlm"}
        The profiled one-dimensional optimiser (fast; see the module docstring) or
        statsmodels MixedLM with several optimizers, keeping the best.
    ci : {"profile", "bootstrap"}
        ICC interval: profile likelihood (the criterion, profiled over β and σ², rises
        by :math:`\chi^2_{1,level}`; the ICC is monotone in θ so the θ interval maps to it;
        the lower limit is 0 when the boundary is inside the interval) or parametric
        bootstrap percentiles (``n_boot`` refits of data simulated from the fit, ``seed``).
    ci_level : float
        Confidence level of the ICC interval.
    n_boot : int
        Bootstrap replicates (``ci="bootstrap"``).
    seed : int or None
        Seed of the bootstrap.

    Returns
    -------
    TherapistEffect
        With ``summary()`` and ``apa()``; ``effects`` for a caterpillar plot.

    Raises
    ------
    ValueError
        Missing columns (with the nearest name), a non-numeric outcome or covariate
        (naming the row), missing values (naming rows), a missing therapist id, fewer
        than two therapists; a model that is not identified, checked before fitting:
        one observation in every cluster (the therapist and residual variances cannot
        be told apart; lme4 refuses this too), an outcome with zero variance, more
        parameters than observations, collinear covariates, an outcome reproduced
        exactly by the covariates or constant within every therapist (zero residual
        variance); results that overflow double precision in the data's units; bad
        options. The fit itself is done on standardised data and transformed back, so
        it does not depend on the units (outcome and covariates from 1e-150 to 1e150).

    Warns
    -----
    BoundaryWarning
        Therapist variance at zero (singular fit); also ``singular=True``.
    ConvergenceWarning
        MixedLM optimizers disagreeing or not converging (engine "mixedlm").

    References
    ----------
    Bates, D., Mächler, M., Bolker, B., & Walker, S. (2015). Fitting linear mixed-effects
    models using lme4. *J Stat Softw, 67*(1), 1--48.
    Raudenbush, S. W., & Bryk, A. S. (2002). *Hierarchical linear models* (2nd ed.). Sage.
    Snijders, T. A. B., & Bosker, R. J. (2012). *Multilevel analysis* (2nd ed.). Sage.

    Examples
    --------
    >>> from analysis.simulate import simulate_trial
    >>> from analysis.multilevel import therapist_effect
    >>> pts = simulate_trial(n_therapists=80, caseload=6, seed=1).patients
    >>> fit = therapist_effect(pts, "post", "therapist", covariates=["pre", "arm"])
    >>> 0 <= fit.icc < 1 and fit.icc_ci[0] <= fit.icc <= fit.icc_ci[1]
    True
    """
    reml = _check_method(method)
    if engine not in ("profile", "mixedlm"):
        raise ValueError(f"`engine` must be 'profile' or 'mixedlm'; got {engine!r}.")
    if ci not in ("profile", "bootstrap"):
        raise ValueError(f"`ci` must be 'profile' or 'bootstrap'; got {ci!r}.")
    if not (isinstance(ci_level, float) and 0 < ci_level < 1):
        raise ValueError(f"`ci_level` must be a float strictly between 0 and 1; got {ci_level!r}.")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 2:
        raise ValueError(f"`n_boot` must be a whole number >= 2; got {n_boot!r}.")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"`seed` must be None or a whole number >= 0; got {seed!r}.")
    covs = _covariate_list(covariates)
    cols, codes, labels = _prepare(data, outcome, therapist, covs)
    X, names = _design(cols, covs)
    res = _fit_ri(cols[outcome], X, codes, labels, names, reml, engine, ci, ci_level, int(n_boot), seed,
                  outcome=outcome, therapist=therapist)
    return TherapistEffect(outcome=outcome, therapist=therapist, covariates=covs, method=method, engine=engine,
                           n_obs=len(codes), n_therapists=len(labels),
                           ci_method=("profile likelihood" if ci == "profile"
                                      else f"parametric bootstrap, {n_boot} replicates, seed {seed}"),
                           ci_level=ci_level, **res)


@dataclass
class AllianceDisaggregation(ResultMixin):
    """Result of :func:`disaggregate_alliance`.

    Attributes
    ----------
    within, within_se : float
        β_W: outcome change per alliance point of a patient above their therapist's mean.
    between, between_se : float
        β_B: outcome change per alliance point of the therapist mean.
    contextual, contextual_se, contextual_statistic, contextual_pvalue : float
        β_B − β_W, its SE (from the fixed-effect covariance) and two-sided z test.
    fixed : DataFrame
        All fixed effects.
    fixed_cov : DataFrame
    therapist_var, residual_var : float
        Intercept variance and residual variance.
    slope_var, intercept_slope_cov : float or None
        Random-slope variance of the within effect and its covariance with the
        intercept (``random_slope=True``).
    method : str
    random_slope : bool
    singular, converged : bool
    loglik : float
    n_obs, n_therapists : int
    optimizer_log : DataFrame or None
    notes : list of str
    """

    _frame_from = ('fixed',)

    outcome: str
    alliance: str
    within: float
    within_se: float
    between: float
    between_se: float
    contextual: float
    contextual_se: float
    contextual_statistic: float
    contextual_pvalue: float
    fixed: pd.DataFrame
    fixed_cov: pd.DataFrame
    therapist_var: float
    residual_var: float
    slope_var: float | None
    intercept_slope_cov: float | None
    method: str
    random_slope: bool
    singular: bool
    converged: bool
    loglik: float
    n_obs: int
    n_therapists: int
    optimizer_log: pd.DataFrame | None = None
    notes: list = field(default_factory=list)

    #: Old names kept for one release (DeprecationWarning): old -> new.
    _deprecated = {"contextual_z": "contextual_statistic", "contextual_p": "contextual_pvalue"}
    contextual_z = deprecated_alias("contextual_statistic", "contextual_z")
    contextual_p = deprecated_alias("contextual_pvalue", "contextual_p")
    n_clusters = property(lambda self: self.n_therapists, doc="Number of therapists (clusters); = ``n_therapists``.")

    def summary(self) -> str:
        """Readable account of the within, between and contextual effects."""
        lines = [
            f"Alliance ({self.alliance!r}) and {self.outcome!r}: within vs between therapists "
            f"({self.method}, {'random slope' if self.random_slope else 'random intercept'})",
            f"  {self.n_obs} patients, {self.n_therapists} therapists",
            f"  within  (patient vs own therapist's mean): {self.within:.4f} (SE {self.within_se:.4f})",
            f"  between (therapist mean):                  {self.between:.4f} (SE {self.between_se:.4f})",
            f"  contextual (between - within): {self.contextual:.4f} (SE {self.contextual_se:.4f}), "
            f"z = {self.contextual_statistic:.2f}, {_fmt_p(self.contextual_pvalue)}",
            f"  therapist variance = {self.therapist_var:.5g}, residual variance = {self.residual_var:.5g}",
        ]
        if self.random_slope:
            lines.append(f"  slope variance = {self.slope_var:.5g}, intercept-slope covariance = "
                         f"{self.intercept_slope_cov:.5g}")
        lines.append(f"  log-likelihood = {self.loglik:.4f}; converged: {self.converged}; singular: {self.singular}")
        lines.append("  fixed effects:")
        lines.append(self.fixed.to_string(float_format=lambda v: f"{v:.5g}"))
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def apa(self) -> str:
        """One APA-style sentence."""
        return (
            f"Within therapists, a one-point higher alliance than the therapist's mean predicted "
            f"{self.within:.2f} (SE = {self.within_se:.2f}) in {self.outcome}; between therapists, a one-point "
            f"higher therapist mean predicted {self.between:.2f} (SE = {self.between_se:.2f}); the difference "
            f"was {self.contextual:.2f}, z = {self.contextual_statistic:.2f}, {_fmt_p(self.contextual_pvalue)} "
            f"({self.n_obs} patients, {self.n_therapists} therapists, {self.method})."
        )


def disaggregate_alliance(
    data: pd.DataFrame,
    outcome: str,
    alliance: str,
    therapist: str,
    covariates: Sequence[str] | str | None = None,
    random_slope: bool = False,
    method: str = "REML",
    *,
    engine: str = "profile",
) -> AllianceDisaggregation:
    r"""Within- and between-therapist alliance–outcome coefficients (Baldwin et al. 2007).

    The alliance is split by group-mean centring, :math:`A_{ij} = \bar A_j + (A_{ij} -
    \bar A_j)` with :math:`\bar A_j` the mean over the therapist's patients in ``data``,
    and the model

    .. math:: y_{ij} = \beta_0 + \beta_W (A_{ij}-\bar A_j) + \beta_B \bar A_j + x_{ij}^\top\gamma
              + u_{0j} [+ u_{1j}(A_{ij}-\bar A_j)] + e_{ij}

    is fitted (REML by default). The contextual effect :math:`\beta_B - \beta_W` is tested
    with :math:`z = (\hat\beta_B - \hat\beta_W)/\sqrt{V_{BB} + V_{WW} - 2V_{BW}}`
    (Raudenbush & Bryk 2002, ch. 5; Snijders & Bosker 2012, sec. 4.6). Baldwin,
    Wampold & Imel (2007) found the therapist (between) part predicted outcome and the
    patient (within) part did not.

    Parameters
    ----------
    data : DataFrame
        One row per patient.
    outcome, alliance, therapist : str
        Column names (numeric outcome and alliance; therapist id).
    covariates : list of str, optional
        Further numeric covariates (e.g. ``["pre"]``).
    random_slope : bool
        Let the within slope vary over therapists (fitted with statsmodels MixedLM,
        several optimizers, best log-likelihood kept).
    method : {"REML", "ML"}
    engine : {"profile", "mixedlm"}
        For the random-intercept model (random slopes always use MixedLM).

    Returns
    -------
    AllianceDisaggregation
        ``within``, ``between`` with SEs, the contextual test; ``summary()``, ``apa()``.

    Raises
    ------
    ValueError
        As :func:`therapist_effect`; also when the alliance does not vary within
        or between therapists, and, with ``random_slope=True``, when there are not
        more observations than random effects (``N <= 2J``).

    References
    ----------
    Baldwin, S. A., Wampold, B. E., & Imel, Z. E. (2007). Untangling the alliance-outcome
    correlation: Exploring the relative importance of therapist and patient variability in
    the alliance. *J Consult Clin Psychol, 75*(6), 842--852.
    Bates, D., Mächler, M., Bolker, B., & Walker, S. (2015). Fitting linear mixed-effects
    models using lme4. *J Stat Softw, 67*(1), 1--48.
    Raudenbush, S. W., & Bryk, A. S. (2002). *Hierarchical linear models* (2nd ed.). Sage.
    Snijders, T. A. B., & Bosker, R. J. (2012). *Multilevel analysis* (2nd ed.). Sage.

    Examples
    --------
    >>> from analysis.simulate import simulate_trial
    >>> from analysis.multilevel import disaggregate_alliance
    >>> pts = simulate_trial(n_therapists=80, caseload=6, seed=1).patients
    >>> res = disaggregate_alliance(pts, "change", "alliance_mean", "therapist", covariates=["arm"])
    >>> res.contextual == res.between - res.within
    True
    """
    reml = _check_method(method)
    if engine not in ("profile", "mixedlm"):
        raise ValueError(f"`engine` must be 'profile' or 'mixedlm'; got {engine!r}.")
    if not isinstance(random_slope, (bool, np.bool_)):
        raise ValueError(f"`random_slope` must be True or False; got {random_slope!r}.")
    covs = _covariate_list(covariates)
    if alliance in covs:
        raise ValueError(f"Column {alliance!r} is the alliance; do not list it in `covariates`.")
    cols, codes, labels = _prepare(data, outcome, therapist, [alliance, *covs],
                                   roles=["alliance"] + ["covariates"] * len(covs), singletons=False)
    J = len(labels)
    if J >= len(codes):
        raise ValueError(
            f"Column {alliance!r} (`alliance`) does not vary within therapists: every cluster in column "
            f"{therapist!r} (`therapist`) has one observation ({len(codes)} rows, {J} clusters), so the within "
            "coefficient is not identified and the cluster (therapist) and residual variances are not "
            f"separately identified (lme4 refuses such a model too). Is {therapist!r} a patient id?"
        )
    a = cols.pop(alliance)
    n_j = np.bincount(codes, minlength=J)
    mean_j = np.bincount(codes, weights=a, minlength=J) / n_j
    between = mean_j[codes]
    within = a - between
    wname, bname = f"{alliance}_within", f"{alliance}_between"
    amax = float(np.max(np.abs(a)))
    if amax == 0 or np.max(np.abs(within)) <= 1e-12 * amax:
        raise ValueError(f"Column {alliance!r} (`alliance`) does not vary within therapists: the within "
                         "coefficient is not identified.")
    if np.ptp(mean_j) <= 1e-12 * amax:
        raise ValueError(f"Column {alliance!r} (`alliance`) does not vary between therapists (every "
                         "therapist has the same mean): the between coefficient is not identified.")
    cols = {outcome: cols[outcome], wname: within, bname: between, **{c: cols[c] for c in covs}}
    X, names = _design(cols, [wname, bname, *covs])
    y = cols[outcome]
    N, p = X.shape
    notes: list[str] = []
    if not random_slope:
        r = _fit_ri(y, X, codes, labels, names, reml, engine, "profile", 0.95, 2, 0,
                    outcome=outcome, therapist=therapist)
        fixed, cov = r["fixed"], r["fixed_cov"]
        tau2, sigma2, loglik = r["therapist_var"], r["residual_var"], r["loglik"]
        singular, converged, log, notes = r["singular"], r["converged"], r["optimizer_log"], r["notes"]
        slope_var = isc = None
    else:
        if N <= 2 * J:
            raise ValueError(
                f"A random slope needs more observations than random effects: {N} rows and {J} clusters "
                f"in {therapist!r} (`therapist`) give {2 * J} random effects (intercept and slope per "
                "cluster), so the variances are not identified (lme4 refuses this too). Fit the random "
                "intercept model (random_slope=False)."
            )
        sc = _Scaled(y, X, codes, J, outcome, therapist, names)
        Z = np.column_stack([np.ones(N), sc.X[:, 1]])
        T = sc.M[np.ix_([0, 1], [0, 1])]  # Z_s = Z_original @ T
        best, log = _fit_mixedlm(sc.y, sc.X, codes, Z, reml, names, ["Intercept", wname])
        # polish MixedLM's best optimum on lme4's profiled criterion, keep the better
        prof = _ProfiledRE(sc.y, sc.X, Z, codes, J, reml)
        theta0 = prof.theta_from(best.cov_re, float(best.scale))
        theta, crit = prof.polish(theta0)
        crit = crit + sc.crit_shift(reml)
        log = pd.concat([log, pd.DataFrame([{"optimizer": "profiled polish (L-BFGS-B, Nelder-Mead)",
                                             "loglik": -crit / 2, "converged": bool(np.isfinite(crit)),
                                             "message": ""}])], ignore_index=True)
        A, est, r2, _, _ = prof.pieces(theta)
        sigma2_s = r2 / (N - p if reml else N)
        cov_arr = sc.cov(sigma2_s * np.linalg.inv(A))
        fixed = _fixed_table(names, sc.beta(est), cov_arr)
        cov = pd.DataFrame(cov_arr, index=names, columns=names)
        Lm = T @ prof.lam(theta)  # relative covariance factor in the data's units
        rel = Lm @ Lm.T
        sigma2 = float(sc.var("residual variance", sigma2_s))
        cre = sc.var("random-effect covariance", sigma2_s * rel)
        tau2, slope_var, isc = float(cre[0, 0]), float(cre[1, 1]), float(cre[0, 1])
        try:
            singular = bool(np.min(np.diag(np.linalg.cholesky(rel))) < _SINGULAR_TOL)
        except np.linalg.LinAlgError:
            singular = True
        converged = bool(np.isfinite(crit))
        loglik = -crit / 2
        if not log["converged"].all():
            notes.append("not every MixedLM optimizer converged; the best log-likelihood was kept")
        if singular:
            msg = "Boundary (singular) fit: the random-effects covariance is (nearly) singular."
            notes.append(msg)
            warnings.warn(msg, BoundaryWarning, stacklevel=2)
    bw, bb = fixed.loc[wname, "estimate"], fixed.loc[bname, "estimate"]
    var_c = cov.loc[bname, bname] + cov.loc[wname, wname] - 2 * cov.loc[bname, wname]
    ctx = bb - bw
    se_c = math.sqrt(var_c)
    zc = ctx / se_c
    return AllianceDisaggregation(
        outcome=outcome, alliance=alliance, within=float(bw), within_se=float(fixed.loc[wname, "se"]),
        between=float(bb), between_se=float(fixed.loc[bname, "se"]), contextual=float(ctx),
        contextual_se=se_c, contextual_statistic=float(zc), contextual_pvalue=float(2 * stats.norm.sf(abs(zc))),
        fixed=fixed, fixed_cov=cov, therapist_var=float(tau2), residual_var=float(sigma2),
        slope_var=slope_var, intercept_slope_cov=isc, method=method, random_slope=bool(random_slope),
        singular=bool(singular), converged=bool(converged), loglik=float(loglik), n_obs=N, n_therapists=J,
        optimizer_log=log, notes=notes,
    )
