r"""Growth models: change over sessions with random intercepts and slopes per patient.

The model most session-level psychotherapy papers report (Singer & Willett 2003, ch. 4;
Raudenbush & Bryk 2002, ch. 6): measurement :math:`t` of patient :math:`i`,

.. math::

    y_{ti} = x_{ti}^\top\beta + u_{0i} + u_{1i}\,\mathrm{time}_{ti} + e_{ti},\qquad
    (u_{0i}, u_{1i})^\top \sim N(0, G),\quad e_{ti} \sim N(0, \sigma^2),

where :math:`x_{ti}` holds the intercept, time, patient covariates (e.g. treatment arm,
baseline severity) and time-by-covariate interactions (does the arm change the slope?).
:math:`G` has the intercept variance :math:`\tau_{00}`, the slope variance
:math:`\tau_{11}` and their covariance :math:`\tau_{01}`.

Estimation follows lme4 (Bates, Mächler, Bolker & Walker 2015, sec. 3): with
:math:`G = \sigma^2\Lambda\Lambda^\top`, :math:`\Lambda` lower triangular with the
parameters :math:`\theta` (diagonal :math:`\ge 0`), the (RE)ML criterion is profiled over
:math:`\beta` and :math:`\sigma^2`,

.. math::

    -2\ell_{ML}(\theta) = N\,[1 + \log(2\pi r^2(\theta)/N)] + \sum_i \log|M_i|,

    -2\ell_{REML}(\theta) = (N-p)\,[1 + \log(2\pi r^2(\theta)/(N-p))] + \sum_i \log|M_i| + \log|A|,

with :math:`M_i = \Lambda^\top Z_i^\top Z_i \Lambda + I`, :math:`A` the Schur complement
of the fixed effects and :math:`r^2` the penalised residual sum of squares (see
``analysis.multilevel._ProfiledRE``, shared with the random-slope alliance model).
:math:`\operatorname{cov}\hat\beta = \hat\sigma^2 A^{-1}` as lme4's ``vcov``; BLUPs
:math:`\hat u_i = \Lambda M_i^{-1}\Lambda^\top Z_i^\top (y_i - X_i\hat\beta)` with conditional
variance :math:`\hat\sigma^2 \Lambda M_i^{-1} \Lambda^\top` (lme4's ``condVar``).

Written by hand (on the profiled criterion above) because statsmodels' ``MixedLM`` can stop
at a wrong optimum with only a warning (see the ecosystem notes) and is several times
slower than lme4; every quantity is checked against ``lme4::lmer`` in the tests.

Nested random-effects structures are compared with :func:`compare_growth_models`
(lme4's ``anova``): models fitted by REML are refitted by ML first, as lme4 does. Testing
a variance at zero puts the null on the boundary of the parameter space, so the naive
:math:`\chi^2` p-value is conservative; the 50:50 mixture of :math:`\chi^2_{k-1}` and
:math:`\chi^2_{k}` (Stram & Lee 1994) is given beside it.

References
----------
Bates, D., Mächler, M., Bolker, B., & Walker, S. (2015). Fitting linear mixed-effects
models using lme4. *J Stat Softw, 67*(1), 1--48.
Raudenbush, S. W., & Bryk, A. S. (2002). *Hierarchical linear models* (2nd ed.). Sage.
Singer, J. D., & Willett, J. B. (2003). *Applied longitudinal data analysis*. Oxford UP.
Stram, D. O., & Lee, J. W. (1994). Variance components testing in the longitudinal
mixed effects model. *Biometrics, 50*(4), 1171--1177.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from . import _checks
from scipy import optimize

from .multilevel import BoundaryWarning, ConvergenceWarning

__all__ = ["GrowthModel", "growth_model", "ModelComparison", "compare_growth_models"]

_SINGULAR_TOL = 1e-4  # on the diagonal of theta, as lme4::isSingular


# --------------------------------------------------------------------------- input
def _numeric_column(data: pd.DataFrame, col: str, role: str) -> np.ndarray:
    s = data[col]
    if s.dtype == bool or not pd.api.types.is_numeric_dtype(s):
        vals = pd.to_numeric(s, errors="coerce")
        bad = vals.isna() & s.notna()
        if s.dtype == bool or bad.any():
            row = data.index[bad.to_numpy()][0] if bad.any() else data.index[0]
            raise ValueError(
                f"Column {col!r} (`{role}`) must be numeric; the row with index label {row!r} has "
                f"{s.loc[row]!r} (code categories as 0/1 columns, e.g. with pandas.get_dummies)."
            )
        s = vals
    return s.to_numpy(dtype=float)


def _names(arg: str, value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    try:
        out = list(value)
    except TypeError:
        raise ValueError(f"`{arg}` must be a column name or a list of column names; got {value!r}.") from None
    for v in out:
        if not isinstance(v, str):
            raise ValueError(f"`{arg}` must hold column names (str); got {v!r}.")
    return out


@dataclass
class _Design:
    y: np.ndarray
    X: np.ndarray
    Z: np.ndarray
    codes: np.ndarray
    labels: np.ndarray
    xnames: list
    znames: list
    rows: pd.Index
    dropped: list


def _prepare(data, outcome, time, subject, covariates, time_by, random_slope, na_action) -> _Design:
    _checks.check_dataframe("data", data)
    for arg, col in (("outcome", outcome), ("time", time), ("subject", subject)):
        if not isinstance(col, str):
            raise ValueError(f"`{arg}` must be a column name (str); got {col!r}.")
    covariates = _names("covariates", covariates)
    time_by = _names("time_by", time_by)
    cols = {"outcome": outcome, "time": time, "subject": subject}
    cols.update({f"covariates[{k}]": c for k, c in enumerate(covariates)})
    cols.update({f"time_by[{k}]": c for k, c in enumerate(time_by)})
    _checks.check_columns(data, cols)
    used = [outcome, time, subject, *covariates]
    if len(set(used)) != len(used):
        raise ValueError("Each column may appear only once among `outcome`, `time`, `subject` and `covariates`.")
    for c in time_by:
        if c not in covariates:
            raise ValueError(f"`time_by` column {c!r} must also be in `covariates` (its main effect).")
    _checks.check_na_action(na_action)
    # missing values: refuse (default) or drop the incomplete measurements with a warning
    incomplete = data[[outcome, time, subject, *covariates]].isna().any(axis=1).to_numpy()
    dropped: list = []
    if incomplete.any():
        labels = list(data.index[incomplete])
        if na_action == "fail":
            raise ValueError(
                f"Missing values in `data` at {_checks.describe_labels(labels)} (columns "
                f"{[c for c in used if data[c].isna().any()]}). Pass na_action='omit' to drop those "
                "measurements: the likelihood then uses every observed measurement, which is valid "
                "when the missingness is at random (MAR)."
            )
        dropped = labels
        warnings.warn(f"Dropped {len(labels)} incomplete measurement(s) at {_checks.describe_labels(labels)}.",
                      UserWarning, stacklevel=3)
        data = data.loc[~incomplete]
        if len(data) == 0:
            raise ValueError("Every row of `data` has a missing value; nothing is left to fit.")
    y = _numeric_column(data, outcome, "outcome")
    t = _numeric_column(data, time, "time")
    covs = [_numeric_column(data, c, "covariates") for c in covariates]
    for name, arr in [(outcome, y), (time, t), *zip(covariates, covs)]:
        bad = ~np.isfinite(arr)
        if bad.any():
            raise ValueError(f"Column {name!r} has an infinite value at index label {data.index[bad][0]!r}.")
    codes, labels = pd.factorize(data[subject], sort=True)
    X = np.column_stack([np.ones(len(y)), t, *covs, *[t * covs[covariates.index(c)] for c in time_by]])
    xnames = ["(Intercept)", time, *covariates, *[f"{time}:{c}" for c in time_by]]
    Z = np.column_stack([np.ones(len(y)), t]) if random_slope else np.ones((len(y), 1))
    znames = ["(Intercept)", time] if random_slope else ["(Intercept)"]
    return _Design(y, X, Z, codes.astype(np.intp), np.asarray(labels), xnames, znames, data.index, dropped)


def _check_identified(d: _Design, subject: str, time: str) -> None:
    """Refuse models whose variance components cannot be told apart (lme4's checks and more)."""
    N, p = d.X.shape
    J, q = len(d.labels), d.Z.shape[1]
    if np.ptp(d.y) == 0:
        raise ValueError("The outcome does not vary (every value is the same): there is nothing to model.")
    if J < 2:
        raise ValueError(f"`{subject}` has a single level: at least two patients are needed for a growth model.")
    if J >= N:
        raise ValueError(
            f"Every level of `{subject}` ({J}) has one measurement ({N} rows): the patient and residual "
            "variances are not separately identified (lme4 refuses this model too). Is the subject column "
            "really a measurement id?"
        )
    if q * J >= N:
        raise ValueError(
            f"{N} measurements are too few for {q} random effects in each of {J} patients ({q * J}); "
            "lme4 refuses this model. Fit random intercepts only (random_slope=False) or more waves."
        )
    if q == 2:
        within = pd.Series(d.Z[:, 1]).groupby(d.codes).agg(lambda s: s.nunique() > 1)
        if not within.any():
            raise ValueError(
                f"`{time}` never varies within a patient: the slope variance is not identified. "
                "Each patient needs at least two measurement times."
            )
    if N <= p:
        raise ValueError(f"{N} measurements for {p} fixed effects: more parameters than observations.")
    # rank check on the column-scaled design (scale-free, so extreme magnitudes do not look collinear)
    Xs = d.X / np.max(np.abs(d.X), axis=0)
    if np.linalg.matrix_rank(Xs) < p:
        raise ValueError(
            f"The fixed effects {d.xnames[1:]} are collinear (with each other or the intercept), or a "
            "covariate does not vary; drop one."
        )


# --------------------------------------------------------------------------- fit
class _Criterion:
    """lme4's profiled (RE)ML criterion for one or two random effects per patient.

    The 1x1 and 2x2 matrices M_i = L'Z_i'Z_iL + I are inverted in closed form over all
    patients at once, so one evaluation costs O(J p^2) numpy operations without a Python
    loop or batched LAPACK calls (see the module docstring for the formulas).
    """

    def __init__(self, y, X, Z, codes, J, reml):
        self.N, self.p = X.shape
        self.q = Z.shape[1]
        self.reml = reml
        self.ZtZ = np.zeros((J, self.q, self.q))
        np.add.at(self.ZtZ, codes, Z[:, :, None] * Z[:, None, :])
        self.ZtX = np.zeros((J, self.q, self.p))
        np.add.at(self.ZtX, codes, Z[:, :, None] * X[:, None, :])
        self.Zty = np.zeros((J, self.q))
        np.add.at(self.Zty, codes, Z * y[:, None])
        self.XtX, self.Xty, self.yty = X.T @ X, X.T @ y, float(y @ y)
        self.tril = np.tril_indices(self.q)
        self.diag = [k for k, (r, c) in enumerate(zip(*self.tril)) if r == c]

    def lam(self, theta) -> np.ndarray:
        L = np.zeros((self.q, self.q))
        L[self.tril] = theta
        return L

    def pieces(self, theta):
        """(A, beta, r2, log|V/sigma2|, log|A|, LX, Ly, Minv entries) at theta."""
        if self.q == 1:
            lam = float(theta[0])
            m = lam * lam * self.ZtZ[:, 0, 0] + 1.0
            LX = lam * self.ZtX[:, 0, :]
            Ly = lam * self.Zty[:, 0]
            A = self.XtX - (LX / m[:, None]).T @ LX
            b = self.Xty - LX.T @ (Ly / m)
            qq = self.yty - float(np.sum(Ly * Ly / m))
            ldv = float(np.sum(np.log(m)))
        else:
            l0, l1, l2 = (float(v) for v in theta)
            s00, s01, s11 = self.ZtZ[:, 0, 0], self.ZtZ[:, 0, 1], self.ZtZ[:, 1, 1]
            m00 = l0 * l0 * s00 + 2 * l0 * l1 * s01 + l1 * l1 * s11 + 1.0
            m01 = l2 * (l0 * s01 + l1 * s11)
            m11 = l2 * l2 * s11 + 1.0
            det = m00 * m11 - m01 * m01
            X0, X1 = self.ZtX[:, 0, :], self.ZtX[:, 1, :]
            LX0, LX1 = l0 * X0 + l1 * X1, l2 * X1
            y0, y1 = self.Zty[:, 0], self.Zty[:, 1]
            Ly0, Ly1 = l0 * y0 + l1 * y1, l2 * y1
            i00, i01, i11 = m11 / det, -m01 / det, m00 / det
            MX0 = i00[:, None] * LX0 + i01[:, None] * LX1
            MX1 = i01[:, None] * LX0 + i11[:, None] * LX1
            My0, My1 = i00 * Ly0 + i01 * Ly1, i01 * Ly0 + i11 * Ly1
            A = self.XtX - LX0.T @ MX0 - LX1.T @ MX1
            b = self.Xty - LX0.T @ My0 - LX1.T @ My1
            qq = self.yty - float(np.sum(Ly0 * My0 + Ly1 * My1))
            ldv = float(np.sum(np.log(det)))
        C = np.linalg.cholesky(A)
        beta = np.linalg.solve(A, b)  # A is p x p and well scaled (columns rescaled in _fit)
        r2 = qq - float(b @ beta)
        lda = 2.0 * float(np.sum(np.log(np.diag(C))))
        return A, beta, r2, ldv, lda

    def crit(self, theta) -> float:
        try:
            _, _, r2, ldv, lda = self.pieces(theta)
        except np.linalg.LinAlgError:
            return math.inf
        r2 = max(r2, 1e-300)
        if self.reml:
            d = self.N - self.p
            return d * (1.0 + math.log(2 * math.pi * r2 / d)) + ldv + lda
        return self.N * (1.0 + math.log(2 * math.pi * r2 / self.N)) + ldv

    def optimise(self, start):
        """L-BFGS-B with the diagonal of Lambda bounded at 0 (lme4 uses bobyqa likewise)."""
        bounds = [(0.0, None) if k in self.diag else (None, None) for k in range(len(start))]
        res = optimize.minimize(self.crit, start, method="L-BFGS-B", bounds=bounds,
                                options={"ftol": 1e-14, "gtol": 1e-9, "maxiter": 1000})
        return np.asarray(res.x, float), float(res.fun)

    def polish(self, theta):
        """A Nelder-Mead polish (used next to the boundary, where Newton steps do not apply)."""
        bounds = [(0.0, None) if k in self.diag else (None, None) for k in range(len(theta))]
        res = optimize.minimize(self.crit, theta, method="Nelder-Mead", bounds=bounds,
                                options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 400 * len(theta)})
        return np.asarray(res.x, float), float(res.fun)

    def newton(self, theta, value, steps: int = 6):
        """Newton steps on central-difference derivatives from an interior optimum.

        L-BFGS-B on a numerical gradient stops where the criterion is flat to ~1e-9; a few
        Newton steps (19 evaluations each for three parameters) then reach lme4's optimum
        to ~1e-8 in theta, far cheaper than a derivative-free polish.
        """
        t, f = np.asarray(theta, float), float(value)
        k = len(t)
        for _ in range(steps):
            h = 1e-4 * np.maximum(1.0, np.abs(t))
            g = np.empty(k)
            H = np.empty((k, k))
            fp = np.array([self.crit(t + h[i] * np.eye(k)[i]) for i in range(k)])
            fm = np.array([self.crit(t - h[i] * np.eye(k)[i]) for i in range(k)])
            g = (fp - fm) / (2 * h)
            for i in range(k):
                H[i, i] = (fp[i] - 2 * f + fm[i]) / h[i] ** 2
                for j in range(i):
                    ei, ej = h[i] * np.eye(k)[i], h[j] * np.eye(k)[j]
                    H[i, j] = H[j, i] = (self.crit(t + ei + ej) - self.crit(t + ei - ej)
                                         - self.crit(t - ei + ej) + self.crit(t - ei - ej)) / (4 * h[i] * h[j])
            try:
                np.linalg.cholesky(H)
                step = np.linalg.solve(H, g)
            except np.linalg.LinAlgError:
                break
            new = t - step
            if np.any(new[self.diag] < 0):
                break
            fn = self.crit(new)
            if not fn <= f:
                break
            t, f = new, fn
            if np.max(np.abs(step)) < 1e-10:
                break
        return t, f


def _starts(q: int) -> list[np.ndarray]:
    # on the rescaled problem (outcome and time near unit magnitude) relative SDs near 1
    if q == 1:
        return [np.array([1.0]), np.array([0.1])]
    return [np.array([1.0, 0.0, 1.0]), np.array([0.2, 0.0, 0.2])]


def _fit(d: _Design, reml: bool):
    """Profiled (RE)ML fit on internally rescaled data; returns the back-transformed pieces."""
    N, p = d.X.shape
    J, q = len(d.labels), d.Z.shape[1]
    # Rescale outcome and design columns so that magnitudes from 1e-300 to 1e300 give the same
    # (back-transformed) answer: the criterion is then evaluated on numbers near 1.
    sy = float(np.max(np.abs(d.y - np.median(d.y)))) or 1.0
    cx = np.max(np.abs(d.X), axis=0)
    cx[0] = 1.0
    cx[cx == 0] = 1.0
    y, X = d.y / sy, d.X / cx
    cz = cx[: q]  # Z's columns are X's first q (intercept, time)
    Z = d.Z / cz
    prof = _Criterion(y, X, Z, d.codes, J, reml)
    attempts = []
    best_t, best_v = None, math.inf
    for start in _starts(q):
        try:
            t, v = prof.optimise(start)
        except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
            attempts.append({"start": start.tolist(), "criterion": np.nan, "message": str(exc)})
            continue
        attempts.append({"start": start.tolist(), "criterion": v, "message": ""})
        if v < best_v:
            best_t, best_v = t, v
    if best_t is None:
        raise RuntimeError("The optimizer failed from every start: " + "; ".join(a["message"] for a in attempts))
    crits = np.array([a["criterion"] for a in attempts], float)
    # L-BFGS-B on a numerical gradient stops where the criterion is flat to ~1e-9: Newton
    # steps from an interior optimum, a Nelder-Mead polish next to the boundary, take it to
    # lme4's optimum (variance components to ~1e-7 relative).
    if np.min(best_t[prof.diag]) > 1e-3:
        t, v = prof.newton(best_t, best_v)
        how = "Newton steps from the best start"
    else:
        t, v = prof.polish(best_t)
        how = "Nelder-Mead from the best start (next to the boundary)"
    attempts.append({"start": "polish", "criterion": v, "message": how})
    if v < best_v:
        best_t, best_v = t, v
    spread = float(np.nanmax(crits) - best_v)
    A, beta, r2, _, lda = prof.pieces(best_t)
    sigma2 = r2 / (N - p if reml else N)
    L = prof.lam(best_t)
    # BLUPs in the scaled problem
    M = np.einsum("ab,jbc,cd->jad", L.T, prof.ZtZ, L) + np.eye(q)
    Minv = np.linalg.inv(M)
    resid_z = prof.Zty - np.einsum("jap,p->ja", prof.ZtX, beta)
    u = np.einsum("ab,jbc,dc,jd->ja", L, Minv, L, resid_z)
    condvar = sigma2 * np.einsum("ab,jbc,dc->jad", L, Minv, L)
    # back to the data's scale
    Dz = np.diag(1.0 / cz)
    G = sy**2 * sigma2 * (Dz @ L @ L.T @ Dz)
    beta_o = beta * sy / cx
    cov = sy**2 * sigma2 * np.linalg.inv(A) / np.outer(cx, cx)
    u_o = u * sy / cz
    condvar_o = sy**2 * condvar / np.outer(cz, cz)[None]
    # criterion on the data's scale: y scaled by 1/sy shifts -2l by 2(N or N-p) log sy; the REML
    # term log|A| shifts by -2 sum log cx when X's columns are divided by cx
    dof = N - p if reml else N
    crit = best_v + 2 * dof * math.log(sy)
    if reml:
        crit += 2 * float(np.sum(np.log(cx)))
    # Variances are squares of the data's scale: outcome and time scales far apart (e.g. y in
    # units of 1e-150 and time in units of 1e150) make them leave double precision. Refuse
    # rather than report a variance of 0 or inf.
    tiny = np.finfo(float).tiny
    reps = np.concatenate([[sy**2 * sigma2], np.diag(G), np.diag(cov)])
    scaled = np.concatenate([[sigma2], np.diag(L @ L.T) * sigma2, np.diag(np.linalg.inv(A)) * sigma2])
    lost = (scaled > 0) & ~((reps >= tiny) & np.isfinite(reps))
    if lost.any():
        raise ValueError(
            "The scales of the outcome and of time make the variances overflow or underflow double "
            f"precision (outcome magnitude ~{sy:.1e}, time magnitude ~{cx[1]:.1e}); rescale them "
            "(e.g. express the outcome in points and time in sessions or months)."
        )
    theta = L[prof.tril]  # relative to sigma, on the scaled problem
    diag_idx = [k for k, (r, c) in enumerate(zip(*prof.tril)) if r == c]
    singular = bool(np.any(theta[diag_idx] < _SINGULAR_TOL))
    # standard errors without squaring the scale (stays accurate at extreme magnitudes)
    se = sy * np.sqrt(sigma2 * np.diag(np.linalg.inv(A))) / cx
    return dict(beta=beta_o, cov=cov, se=se, sigma2=sy**2 * sigma2, G=G, crit=crit, u=u_o, condvar=condvar_o,
                singular=singular, spread=spread, attempts=pd.DataFrame(attempts),
                theta_scaled=theta)


# --------------------------------------------------------------------------- results
@dataclass
class GrowthModel:
    """Result of :func:`growth_model`.

    Attributes
    ----------
    outcome, time, subject : str
    covariates, time_by : list of str
    method : {"REML", "ML"}
    random_slope : bool
    n_obs, n_subjects : int
    coefficients : DataFrame
        Fixed effects indexed by ``term``: ``estimate, se, statistic`` (Wald z), ``pvalue``,
        ``ci_low, ci_high`` (Wald, ``level``), as lme4's ``summary`` with multcomp's
        asymptotic p-values.
    vcov : DataFrame
        Covariance of the fixed effects (lme4's ``vcov``).
    variance_components : DataFrame
        One row per component (``grp``, ``var1``, ``var2``, ``variance``, ``sd``; the
        covariance row also has the correlation), as lme4's ``VarCorr``.
    G : DataFrame
        Random-effects covariance matrix.
    sigma2 : float
        Residual variance.
    loglik, aic, bic, deviance : float
        On lme4's scale; for REML fits ``deviance`` is the REML criterion (−2ℓ_REML).
    n_params : int
        Fixed effects + variance parameters + σ (lme4's ``npar`` in ``anova``).
    ranef : DataFrame
        BLUPs per patient (index: patient), one column per random effect; ``ranef_se``
        their conditional standard deviations.
    fitted, residuals : Series
        Conditional fitted values and residuals (index: the data's rows).
    singular, converged : bool
    dropped : list
        Index labels of the measurements dropped by ``na_action="omit"``.
    notes : list of str
    """

    outcome: str
    time: str
    subject: str
    covariates: list
    time_by: list
    method: str
    random_slope: bool
    n_obs: int
    n_subjects: int
    n_clusters = property(lambda self: self.n_subjects, doc="Number of subjects (clusters); = ``n_subjects``.")
    coefficients: pd.DataFrame
    vcov: pd.DataFrame
    variance_components: pd.DataFrame
    G: pd.DataFrame
    sigma2: float
    loglik: float
    aic: float
    bic: float
    deviance: float
    n_params: int
    ranef: pd.DataFrame
    ranef_se: pd.DataFrame
    fitted: pd.Series
    residuals: pd.Series
    singular: bool
    converged: bool
    level: float
    dropped: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    optimizer_log: pd.DataFrame | None = None
    _design: _Design | None = field(default=None, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The fixed effects as a tidy table (``term`` a column)."""
        return self.coefficients.reset_index()

    def to_dict(self) -> dict:
        """Plain-Python summary: coefficients, variance components and fit statistics."""
        return {
            "method": self.method, "n_obs": self.n_obs, "n_subjects": self.n_subjects,
            "coefficients": self.to_frame().to_dict(orient="records"),
            "variance_components": self.variance_components.to_dict(orient="records"),
            "sigma2": self.sigma2, "loglik": self.loglik, "aic": self.aic, "bic": self.bic,
            "deviance": self.deviance, "n_params": self.n_params, "singular": self.singular,
            "converged": self.converged, "dropped": list(self.dropped), "notes": list(self.notes),
        }

    def summary(self) -> str:
        """lme4-style printout: fit statistics, random effects, fixed effects."""
        kind = "REML" if self.method == "REML" else "maximum likelihood"
        rand = f"({' + '.join(['1', self.time][: len(self.G)])} | {self.subject})".replace("1 + ", "")
        fixed = " + ".join([self.time, *self.covariates, *[f"{self.time}:{c}" for c in self.time_by]])
        lines = [f"Linear mixed model (growth model) fit by {kind}",
                 f"Formula: {self.outcome} ~ {fixed} + {rand}", ""]
        crit = "REML criterion" if self.method == "REML" else "deviance"
        lines.append(f"     AIC      BIC   logLik  {crit}")
        lines.append(f"{self.aic:8.1f} {self.bic:8.1f} {self.loglik:8.2f}  {self.deviance:.2f}")
        lines += ["", "Random effects:", " Groups   Name        Variance  Std.Dev.  Corr"]
        for _, r in self.variance_components.iterrows():
            if r["var2"]:
                continue
            grp = r["grp"]
            corr = ""
            lines.append(f" {grp:<8} {r['var1'] or '':<11} {r['variance']:9.4g} {r['sd']:9.4g} {corr}")
        cov_rows = self.variance_components[self.variance_components["var2"] != ""]
        for _, r in cov_rows.iterrows():
            lines.append(f" corr({r['var1']}, {r['var2']}) = {r['corr']:.3f}")
        lines.append(f"Number of obs: {self.n_obs}, groups: {self.subject}, {self.n_subjects}")
        lines += ["", "Fixed effects (Wald z tests):",
                  self.coefficients.to_string(float_format=lambda v: f"{v:.5g}")]
        if self.singular:
            lines.append("NOTE: boundary (singular) fit: a variance is estimated at zero or a correlation at ±1.")
        if not self.converged:
            lines.append("WARNING: the optimizer did not reach one clear optimum (see notes, optimizer_log).")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def apa(self, term: str | None = None) -> str:
        """APA-style sentence on one fixed effect (default: time, or the first time interaction)."""
        if term is None:
            term = f"{self.time}:{self.time_by[0]}" if self.time_by else self.time
        if term not in self.coefficients.index:
            raise ValueError(f"`term` {term!r} is not a fixed effect.{_checks.suggest_name(term, self.coefficients.index)}")
        r = self.coefficients.loc[term]
        p = "p < .001" if r["pvalue"] < 0.001 else f"p = {r['pvalue']:.3f}".replace("0.", ".", 1)
        pct = int(round(self.level * 100))
        sing = " (singular fit)" if self.singular else ""
        return (f"In a growth model with random intercepts{' and slopes' if self.random_slope else ''} "
                f"({self.n_obs} measurements of {self.n_subjects} patients, {self.method}{sing}), "
                f"the {term} effect was b = {r['estimate']:.2f}, SE = {r['se']:.2f}, "
                f"z = {r['statistic']:.2f}, {p}, {pct}% CI [{r['ci_low']:.2f}, {r['ci_high']:.2f}].")


def growth_model(
    data: pd.DataFrame,
    outcome: str,
    time: str,
    subject: str,
    *,
    covariates: Sequence[str] | str | None = None,
    time_by: Sequence[str] | str | None = None,
    random_slope: bool = True,
    method: str = "REML",
    na_action: str = "fail",
    level: float = 0.95,
) -> GrowthModel:
    r"""Fit a growth model: random intercept and slope of time per patient.

    .. math:: y_{ti} = \beta_0 + \beta_1\mathrm{time}_{ti} + \gamma^\top x_i
              + \delta^\top x_i\,\mathrm{time}_{ti} + u_{0i} + u_{1i}\mathrm{time}_{ti} + e_{ti}

    lme4's ``lmer(outcome ~ time + covariates + time:time_by + (time | subject))``,
    estimated on lme4's profiled (RE)ML criterion (see the module docstring); written by
    hand because statsmodels' MixedLM can stop at a wrong optimum.

    Parameters
    ----------
    data : DataFrame
        Long format: one row per measurement.
    outcome, time, subject : str
        Columns: the score, the measurement time (e.g. session or month) and the patient id.
    covariates : list of str, optional
        Numeric fixed-effect columns (code categories as 0/1).
    time_by : list of str, optional
        Covariates whose interaction with time is added (e.g. the treatment arm: does it
        change the slope?). Each must also be in ``covariates``.
    random_slope : bool
        ``True``: ``(time | subject)`` with a correlated intercept and slope;
        ``False``: ``(1 | subject)``.
    method : {"REML", "ML"}
        Compare models that differ in their fixed effects with ML fits.
    na_action : {"fail", "omit"}
        Refuse missing values (default) or drop incomplete measurements with a warning
        (as lme4's ``na.omit``; valid when missingness is at random).
    level : float
        Confidence level of the Wald intervals.

    Returns
    -------
    GrowthModel
        Fixed effects, variance components, fit statistics, BLUPs, residuals.

    Raises
    ------
    ValueError
        Unknown columns (with the nearest name), non-numeric values, missing values under
        ``na_action="fail"``, and unidentified models: one measurement per patient, more
        random effects than measurements, time constant within every patient, collinear
        fixed effects.

    Warns
    -----
    BoundaryWarning
        Singular fit (a variance at zero or a correlation at ±1), as lme4's ``isSingular``.
    ConvergenceWarning
        The starts of the optimizer ended at different optima.

    References
    ----------
    Bates, D., Mächler, M., Bolker, B., & Walker, S. (2015). Fitting linear mixed-effects
    models using lme4. *J Stat Softw, 67*(1), 1--48.
    Singer, J. D., & Willett, J. B. (2003). *Applied longitudinal data analysis*. Oxford UP.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.growth import growth_model
    >>> rng = np.random.default_rng(1)
    >>> n, waves = 60, 5
    >>> pid = np.repeat(np.arange(n), waves); t = np.tile(np.arange(waves), n)
    >>> arm = (pid % 2).astype(float)
    >>> u0, u1 = rng.normal(0, 3, n), rng.normal(0, 0.8, n)
    >>> y = 20 + u0[pid] + (-1 - 0.5 * arm + u1[pid]) * t + rng.normal(0, 2, n * waves)
    >>> df = pd.DataFrame({"patient": pid, "session": t, "arm": arm, "phq": y})
    >>> fit = growth_model(df, "phq", "session", "patient", covariates=["arm"], time_by=["arm"])
    >>> fit.coefficients.index.tolist()
    ['(Intercept)', 'session', 'arm', 'session:arm']
    >>> bool(fit.coefficients.loc["session", "estimate"] < 0)
    True
    """
    reml = {"REML": True, "ML": False}.get(method) if isinstance(method, str) else None
    if reml is None:
        raise ValueError(f"`method` must be 'REML' or 'ML'; got {method!r}.")
    if not isinstance(random_slope, (bool, np.bool_)):
        raise ValueError(f"`random_slope` must be True or False; got {random_slope!r}.")
    level = _checks.check_level("level", level)
    d = _prepare(data, outcome, time, subject, covariates, time_by, bool(random_slope), na_action)
    _check_identified(d, subject, time)
    return _result(d, outcome, time, subject, _names("covariates", covariates), _names("time_by", time_by),
                   bool(random_slope), method, level)


def _result(d: _Design, outcome, time, subject, covariates, time_by, random_slope, method, level) -> GrowthModel:
    reml = method == "REML"
    f = _fit(d, reml)
    N, p = d.X.shape
    J, q = len(d.labels), d.Z.shape[1]
    notes: list[str] = []
    # The starts are compared: different optima are reported (lme4 would warn about
    # convergence); the best criterion is kept.
    # Compare the starts with each other (not with the final polish, which only refines the best
    # start): starts that end far apart point to several optima.
    log = f["attempts"]
    starts = log[log["start"].map(lambda v: not isinstance(v, str))]
    ok = np.isfinite(starts["criterion"].to_numpy(float))
    crit = starts["criterion"].to_numpy(float)[ok]
    far = crit - crit.min() > 1e-4 if ok.any() else np.zeros(0, bool)
    if far.any():
        notes.append(f"{int(far.sum())} of {int(ok.sum())} optimizer starts ended at a worse optimum; the best was kept.")
    if not ok.all():
        notes.append("the optimizer failed from some starts (see optimizer_log)")
    converged = bool(ok.any())
    se = f["se"]
    z = f["beta"] / se
    zc = stats.norm.ppf(0.5 + level / 2)
    coef = pd.DataFrame({"estimate": f["beta"], "se": se, "statistic": z,
                         "pvalue": 2 * stats.norm.sf(np.abs(z)),
                         "ci_low": f["beta"] - zc * se, "ci_high": f["beta"] + zc * se},
                        index=pd.Index(d.xnames, name="term"))
    G = f["G"]
    rows = []
    for a in range(q):
        rows.append({"grp": subject, "var1": d.znames[a], "var2": "", "variance": G[a, a],
                     "sd": math.sqrt(max(G[a, a], 0.0)), "corr": np.nan})
    if q == 2:
        denom = math.sqrt(max(G[0, 0], 0)) * math.sqrt(max(G[1, 1], 0))  # no overflow of the product
        corr = G[0, 1] / denom if denom > 0 else np.nan
        rows.append({"grp": subject, "var1": d.znames[0], "var2": d.znames[1], "variance": G[0, 1],
                     "sd": np.nan, "corr": corr})
    rows.append({"grp": "Residual", "var1": "", "var2": "", "variance": f["sigma2"],
                 "sd": math.sqrt(f["sigma2"]), "corr": np.nan})
    vc = pd.DataFrame(rows)
    n_params = p + q * (q + 1) // 2 + 1
    loglik = -f["crit"] / 2
    aic = -2 * loglik + 2 * n_params
    bic = -2 * loglik + math.log(N) * n_params
    ranef = pd.DataFrame(f["u"], index=pd.Index(d.labels, name=subject), columns=d.znames)
    ranef_se = pd.DataFrame(np.sqrt(np.maximum(np.einsum("jaa->ja", f["condvar"]), 0.0)),
                            index=ranef.index, columns=d.znames)
    fitted = d.X @ f["beta"] + np.sum(d.Z * f["u"][d.codes], axis=1)
    if f["singular"]:
        msg = ("Boundary (singular) fit: a random-effect variance is estimated at zero or the "
               "intercept-slope correlation at ±1; a simpler random-effects structure fits as well.")
        notes.append(msg)
        warnings.warn(msg, BoundaryWarning, stacklevel=3)
    if far.any():
        warnings.warn(notes[0], ConvergenceWarning, stacklevel=3)
    return GrowthModel(
        outcome=outcome, time=time, subject=subject, covariates=covariates, time_by=time_by, method=method,
        random_slope=random_slope, n_obs=N, n_subjects=J, coefficients=coef,
        vcov=pd.DataFrame(f["cov"], index=d.xnames, columns=d.xnames), variance_components=vc,
        G=pd.DataFrame(G, index=d.znames, columns=d.znames), sigma2=f["sigma2"], loglik=loglik, aic=aic,
        bic=bic, deviance=f["crit"], n_params=n_params, ranef=ranef, ranef_se=ranef_se,
        fitted=pd.Series(fitted, index=d.rows, name="fitted"),
        residuals=pd.Series(d.y - fitted, index=d.rows, name="residual"),
        singular=f["singular"], converged=converged, level=level, dropped=d.dropped, notes=notes,
        optimizer_log=f["attempts"], _design=d,
    )


# --------------------------------------------------------------------------- comparison
@dataclass
class ModelComparison:
    """Result of :func:`compare_growth_models`: lme4's ``anova(m1, m2)`` table.

    Attributes
    ----------
    table : DataFrame
        One row per model (in order of ``n_params``): ``npar, AIC, BIC, logLik, deviance``
        and, from the second row on, the LRT ``statistic`` (χ²), ``df``, ``pvalue`` and the
        boundary-corrected ``pvalue_mixture``.
    refitted : bool
        Whether REML fits were refitted by ML.
    notes : list of str
    """

    table: pd.DataFrame
    refitted: bool
    notes: list = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """The comparison table."""
        return self.table.copy()

    def to_dict(self) -> dict:
        """Plain-Python version of the table."""
        return {"table": self.table.reset_index().to_dict(orient="records"), "refitted": self.refitted,
                "notes": list(self.notes)}

    def summary(self) -> str:
        """lme4-style anova table."""
        head = "Models refitted by ML (as lme4's anova does)\n" if self.refitted else ""
        return head + self.table.to_string(float_format=lambda v: f"{v:.5g}") + "".join(
            f"\nnote: {n}" for n in self.notes)

    def apa(self) -> str:
        """APA-style sentence on the last likelihood-ratio test."""
        r = self.table.iloc[-1]
        p = "p < .001" if r["pvalue"] < 0.001 else f"p = {r['pvalue']:.3f}".replace("0.", ".", 1)
        return (f"The likelihood-ratio test favoured {'the larger' if r['pvalue'] < 0.05 else 'neither'} model, "
                f"\u03c7\u00b2({int(r['df'])}) = {r['statistic']:.2f}, {p} "
                f"(AIC {self.table['AIC'].iloc[0]:.1f} vs {r['AIC']:.1f}).")


def _same_data(a: GrowthModel, b: GrowthModel) -> bool:
    da, db = a._design, b._design
    return (da is not None and db is not None and da.y.shape == db.y.shape and np.array_equal(da.y, db.y)
            and np.array_equal(da.codes, db.codes) and a.subject == b.subject and a.outcome == b.outcome)


def compare_growth_models(*models: GrowthModel, refit: bool = True) -> ModelComparison:
    r"""Likelihood-ratio test between nested growth models (lme4's ``anova``).

    .. math:: \chi^2 = -2(\ell_0 - \ell_1),\qquad df = k_1 - k_0,

    with :math:`k` the number of parameters. Fits by REML are refitted by ML first
    (``refit=True``, lme4's default); REML fits may be compared only when their fixed
    effects are the same (``refit=False``). When the larger model adds a random slope, the
    null puts a variance on the boundary: the 50:50 mixture of :math:`\chi^2_{df-1}` and
    :math:`\chi^2_{df}` (Stram & Lee 1994) gives ``pvalue_mixture``, less conservative than
    the naive ``pvalue``.

    Parameters
    ----------
    *models : GrowthModel
        Two or more fits to the same data, nested.
    refit : bool
        Refit REML fits by ML before comparing.

    Returns
    -------
    ModelComparison

    References
    ----------
    Bates, D., Mächler, M., Bolker, B., & Walker, S. (2015). *J Stat Softw, 67*(1).
    Stram, D. O., & Lee, J. W. (1994). *Biometrics, 50*(4), 1171--1177.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.growth import growth_model, compare_growth_models
    >>> rng = np.random.default_rng(2)
    >>> pid = np.repeat(np.arange(50), 4); t = np.tile(np.arange(4.0), 50)
    >>> y = 10 + rng.normal(0, 2, 50)[pid] + (rng.normal(-1, 0.7, 50)[pid]) * t + rng.normal(0, 1, 200)
    >>> df = pd.DataFrame({"id": pid, "t": t, "y": y})
    >>> m0 = growth_model(df, "y", "t", "id", random_slope=False, method="ML")
    >>> m1 = growth_model(df, "y", "t", "id", method="ML")
    >>> cmp = compare_growth_models(m0, m1)
    >>> int(cmp.table["df"].iloc[1])
    2
    """
    if len(models) < 2:
        raise ValueError(f"`models`: give at least two fitted growth models to compare; got {len(models)}.")
    for k, m in enumerate(models):
        if not isinstance(m, GrowthModel):
            raise ValueError(f"`models[{k}]` must be a GrowthModel (from growth_model); got {type(m).__name__}.")
    base = models[0]
    for k, m in enumerate(models[1:], start=1):
        if not _same_data(base, m):
            raise ValueError(f"`models[{k}]` was not fitted to the same measurements as `models[0]`: "
                             "a likelihood-ratio test needs the same data (check dropped rows).")
    fixed_sets = [tuple(m.coefficients.index) for m in models]
    any_reml = any(m.method == "REML" for m in models)
    notes: list[str] = []
    refitted = False
    if any_reml and refit:
        models = tuple(m if m.method == "ML" else _result(m._design, m.outcome, m.time, m.subject, m.covariates,
                                                          m.time_by, m.random_slope, "ML", m.level)
                       for m in models)
        refitted = True
    elif any_reml:
        if len({m.method for m in models}) > 1:
            raise ValueError("Cannot compare a REML fit with an ML fit; use refit=True or fit all by ML.")
        if len(set(fixed_sets)) > 1:
            raise ValueError("REML likelihoods of models with different fixed effects are not comparable "
                             "(the REML criterion depends on the fixed-effects design); use refit=True.")
    order = sorted(range(len(models)), key=lambda k: models[k].n_params)
    ms = [models[k] for k in order]
    for a, b in zip(ms, ms[1:]):
        if a.n_params == b.n_params:
            raise ValueError("Two models have the same number of parameters: they are not nested.")
        if not set(a.coefficients.index) <= set(b.coefficients.index) or (a.random_slope and not b.random_slope):
            raise ValueError("The models are not nested: each model's fixed and random effects must be "
                             "contained in the next larger one.")
    rows = []
    for k, m in enumerate(ms):
        row = {"model": f"models[{order[k]}]", "npar": m.n_params, "AIC": m.aic, "BIC": m.bic,
               "logLik": m.loglik, "deviance": -2 * m.loglik, "statistic": np.nan, "df": np.nan,
               "pvalue": np.nan, "pvalue_mixture": np.nan}
        if k:
            prev = ms[k - 1]
            stat = max(2 * (m.loglik - prev.loglik), 0.0)
            df = m.n_params - prev.n_params
            row.update(statistic=stat, df=float(df), pvalue=float(stats.chi2.sf(stat, df)))
            if m.random_slope and not prev.random_slope:
                lower = stats.chi2.sf(stat, df - 1) if df > 1 else float(stat <= 0)
                row["pvalue_mixture"] = float(0.5 * lower + 0.5 * stats.chi2.sf(stat, df))
                notes.append("random slope tested: the null variance is on the boundary, so the naive "
                             "p-value is conservative; pvalue_mixture is the 50:50 chi-square mixture.")
        rows.append(row)
    return ModelComparison(table=pd.DataFrame(rows).set_index("model"), refitted=refitted, notes=notes)
