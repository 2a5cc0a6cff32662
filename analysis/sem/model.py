r"""The parameter table turned into LISREL matrices once; implied moments and their Jacobian.

LISREL "all-y" representation (Jöreskog 1969; Bollen 1989, ch. 9; lavaan's representation):
latent variables :math:`\eta` (factors, plus one "dummy" factor for each observed variable that
takes part in a regression or a covariance with a factor, with loading 1 and residual variance 0),

.. math::

    \eta = \alpha + B\eta + \zeta,\qquad y = \nu + \Lambda\eta + \varepsilon,\qquad
    \mu = \nu + \Lambda(I - B)^{-1}\alpha,\qquad
    \Sigma = \Lambda(I - B)^{-1}\Psi(I - B)^{-\top}\Lambda^\top + \Theta .

With :math:`M = \Lambda(I-B)^{-1}`, :math:`C = (I-B)^{-1}\Psi(I-B)^{-\top}` and
:math:`a = (I-B)^{-1}\alpha`, the derivatives are
:math:`\partial\Sigma/\partial\Lambda_{ij} = e_i (C\Lambda^\top)_{j\cdot} + (\cdot)^\top`,
:math:`\partial\Sigma/\partial B_{ij} = M_{\cdot i}(C\Lambda^\top)_{j\cdot} + (\cdot)^\top`,
:math:`\partial\Sigma/\partial\Psi_{ij} = M_{\cdot i}M_{\cdot j}^\top + (\cdot)^\top` (once for
:math:`i=j`), :math:`\partial\Sigma/\partial\Theta_{ij} = E_{ij} + E_{ji}`,
:math:`\partial\mu/\partial\nu_i = e_i`, :math:`\partial\mu/\partial\alpha_i = M_{\cdot i}`,
:math:`\partial\mu/\partial\Lambda_{ij} = e_i a_j`, :math:`\partial\mu/\partial B_{ij} = M_{\cdot i}a_j`.
Equal parameters (a shared label) share one column: their derivatives add up.

References
----------
Bollen, K. A. (1989). *Structural Equations with Latent Variables*. Wiley.
Jöreskog, K. G. (1969). A general approach to confirmatory maximum likelihood factor analysis.
*Psychometrika, 34*(2), 183--202.
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software, 48*(2), 1--36.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["SEMModel", "check_theta"]


def check_theta(model: "SEMModel", theta, name: str = "theta") -> np.ndarray:
    """`theta` as a finite float vector of length ``model.n_free`` (ValueError naming `name` otherwise)."""
    if not isinstance(model, SEMModel):
        raise ValueError(f"model must be an analysis.sem.model.SEMModel, got {type(model).__name__}.")
    try:
        arr = np.asarray(theta, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a vector of {model.n_free} numbers, got {type(theta).__name__}.") from None
    if arr.ndim != 1 or arr.shape[0] != model.n_free:
        raise ValueError(f"{name} must have length {model.n_free} (the free parameters), got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} has non-finite values at positions {np.flatnonzero(~np.isfinite(arr)).tolist()}.")
    return arr


@dataclass
class _Slot:
    row: int      # row of the parameter table
    group: int    # 0-based group
    mat: str      # lambda, beta, psi, theta, nu, alpha, tau
    i: int
    j: int
    free: int     # 0-based free index, -1 when fixed


class SEMModel:
    """Matrices of a parameter table (all groups), implied moments and their analytic Jacobian.

    Parameters
    ----------
    partable : pandas.DataFrame
        From :func:`analysis.sem.syntax.parameter_table`.
    ov_names : list of str
        The observed variables in the order of the data matrix columns (per group the same).
    groups : list
        Group labels (``[None]`` for one group).
    meanstructure : bool
        Whether the means are modelled.

    Attributes
    ----------
    n_free : int
        q, the number of free parameters after equality constraints.
    groups : list
        Group labels.
    ov_names, lv_names : list of str
        Observed variables (rows of Lambda) and latent variables (factors; dummies are internal).

    Examples
    --------
    >>> from analysis.sem.syntax import parameter_table
    >>> pt = parameter_table("f =~ x1 + x2 + x3")
    >>> m = SEMModel(pt, ["x1", "x2", "x3"])
    >>> m.n_free
    6
    >>> mu, Sigma = m.implied(np.array([0.8, 0.6, 0.5, 0.5, 0.5, 1.0]))[0]
    >>> float(Sigma[0, 1])
    0.8
    """

    def __init__(self, partable: pd.DataFrame, ov_names: list[str], groups: list | None = None,
                 meanstructure: bool = False, ordered: list[str] | None = None):
        self.partable = partable.reset_index(drop=True)
        self.groups = list(groups) if groups is not None else [None]
        self.meanstructure = bool(meanstructure)
        self.ov_names = list(ov_names)
        self.ordered = list(ordered or [])
        pt = self.partable
        lv = []
        for lhs, op in zip(pt["lhs"], pt["op"]):
            if op == "=~" and lhs not in lv:
                lv.append(lhs)
        self.lv_names = lv
        ov = self.ov_names
        # observed variables that need a dummy factor
        dummy: set[str] = set()
        for lhs, op, rhs in zip(pt["lhs"], pt["op"], pt["rhs"]):
            if op == "~":
                dummy |= {v for v in (lhs, rhs) if v in ov}
        changed = True
        while changed:
            changed = False
            for lhs, op, rhs in zip(pt["lhs"], pt["op"], pt["rhs"]):
                if op == "~~" and lhs != rhs:
                    a_eta = lhs in lv or lhs in dummy
                    b_eta = rhs in lv or rhs in dummy
                    if a_eta != b_eta:
                        dummy |= {v for v in (lhs, rhs) if v in ov}
                        changed = True
        self.dummy = [v for v in ov if v in dummy]
        self.eta_names = lv + self.dummy
        p, m = len(ov), len(self.eta_names)
        self.p, self.m = p, m
        oi = {v: k for k, v in enumerate(ov)}
        ei = {v: k for k, v in enumerate(self.eta_names)}
        th_rows = {}
        first_group = pt["group"].to_numpy() == pt["group"].min()
        for v in self.ordered:
            # every group has the same thresholds of an item: count them in the first group only
            th_rows[v] = sorted(int(r[1:]) for l_, o_, r, g1 in zip(pt["lhs"], pt["op"], pt["rhs"], first_group)
                                if o_ == "|" and l_ == v and g1)
        self.n_thresholds = {v: len(th_rows.get(v, [])) for v in ov}
        th_off, k = {}, 0
        for v in ov:
            th_off[v] = k
            k += self.n_thresholds[v]
        self.n_tau = k
        G = len(self.groups)
        slots: list[_Slot] = []
        gcol = pt["group"].to_numpy()
        free = pt["free"].to_numpy().astype(int)
        for r, (lhs, op, rhs) in enumerate(zip(pt["lhs"], pt["op"], pt["rhs"])):
            g = int(gcol[r]) - 1
            if g >= G:
                continue
            if op == "=~":
                slot = ("lambda", oi[rhs], ei[lhs]) if rhs in oi and rhs not in dummy else ("beta", ei[rhs], ei[lhs])
            elif op == "~":
                slot = ("beta", ei[lhs], ei[rhs])
            elif op == "~~":
                if lhs in ei and rhs in ei:
                    a, b = sorted((ei[lhs], ei[rhs]))
                    slot = ("psi", b, a)
                else:
                    a, b = sorted((oi[lhs], oi[rhs]))
                    slot = ("theta", b, a)
            elif op == "~1":
                slot = ("alpha", ei[lhs], 0) if lhs in ei else ("nu", oi[lhs], 0)
            elif op == "|":
                slot = ("tau", th_off[lhs] + int(rhs[1:]) - 1, 0)
            else:
                raise ValueError(f"partable: unknown operator {op!r} in row {r}.")
            slots.append(_Slot(r, g, slot[0], slot[1], slot[2], int(free[r]) - 1))
        self.slots = slots
        self.n_free = int(free.max()) if len(free) else 0
        self._fixed = pt["ustart"].to_numpy(dtype=float).copy()
        # rows -> free index (for results)
        self.row_free = free - 1
        # dummy loadings
        self._dummy_rows = [(oi[v], ei[v]) for v in self.dummy]
        self._by_group = [[s for s in slots if s.group == g] for g in range(G)]

    # ------------------------------------------------------------------ values
    def set_fixed(self, row: int, value: float) -> None:
        """Set the value of a fixed parameter (e.g. exogenous covariates at their sample moments)."""
        self._fixed[row] = value

    def row_values(self, theta: np.ndarray) -> np.ndarray:
        """The value of every row of the parameter table at `theta`."""
        theta = np.asarray(theta, dtype=float)
        out = self._fixed.copy()
        fr = self.row_free >= 0
        out[fr] = theta[self.row_free[fr]]
        return out

    def matrices(self, theta: np.ndarray) -> list[dict]:
        """Per group a dict of ``lambda, beta, psi, theta, nu, alpha, tau``."""
        vals = self.row_values(theta)
        out = []
        p, m = self.p, self.m
        for g in range(len(self.groups)):
            M = {"lambda": np.zeros((p, m)), "beta": np.zeros((m, m)), "psi": np.zeros((m, m)),
                 "theta": np.zeros((p, p)), "nu": np.zeros((p, 1)), "alpha": np.zeros((m, 1)),
                 "tau": np.zeros((self.n_tau, 1))}
            for i, j in self._dummy_rows:
                M["lambda"][i, j] = 1.0
            for s in self._by_group[g]:
                v = vals[s.row]
                M[s.mat][s.i, s.j] = v
                if s.mat in ("psi", "theta"):
                    M[s.mat][s.j, s.i] = v
            out.append(M)
        return out

    def implied(self, theta: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Model-implied ``(mu_g, Sigma_g)`` of every group."""
        return [(c["mu"], c["Sigma"]) for c in self._core(theta)]

    def _core(self, theta: np.ndarray) -> list[dict]:
        out = []
        for M in self.matrices(theta):
            L, B, Psi = M["lambda"], M["beta"], M["psi"]
            Binv = np.linalg.inv(np.eye(self.m) - B) if B.any() else np.eye(self.m)
            Mm = L @ Binv
            C = Binv @ Psi @ Binv.T
            Sigma = Mm @ Psi @ Mm.T + M["theta"]
            Sigma = (Sigma + Sigma.T) / 2
            a = (Binv @ M["alpha"]).ravel()
            mu = M["nu"].ravel() + L @ a
            out.append({"mu": mu, "Sigma": Sigma, "Binv": Binv, "M": Mm, "C": C, "a": a, "L": L, "mats": M})
        return out

    def jacobian(self, theta: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per group ``(dmu [p x q], dSigma [p*p x q])``, ``dSigma`` the column-major vec of Sigma."""
        p, q = self.p, self.n_free
        out = []
        for g, c in enumerate(self._core(theta)):
            dmu = np.zeros((p, q))
            dS = np.zeros((p, p, q))
            Mm, CLt, a = c["M"], c["C"] @ c["L"].T, c["a"]
            for s in self._by_group[g]:
                k = s.free
                if k < 0:
                    continue
                i, j = s.i, s.j
                if s.mat == "lambda":
                    dS[i, :, k] += CLt[j]
                    dS[:, i, k] += CLt[j]
                    dmu[i, k] += a[j]
                elif s.mat == "beta":
                    o = np.outer(Mm[:, i], CLt[j])
                    dS[:, :, k] += o + o.T
                    dmu[:, k] += Mm[:, i] * a[j]
                elif s.mat == "psi":
                    o = np.outer(Mm[:, i], Mm[:, j])
                    dS[:, :, k] += o if i == j else o + o.T
                elif s.mat == "theta":
                    dS[i, j, k] += 1.0
                    if i != j:
                        dS[j, i, k] += 1.0
                elif s.mat == "nu":
                    dmu[i, k] += 1.0
                elif s.mat == "alpha":
                    dmu[:, k] += Mm[:, i]
            # column-major vec of a symmetric matrix: vec index a + b*p -> dS[a, b]
            out.append((dmu, dS.transpose(1, 0, 2).reshape(p * p, q)))
        return out

    def thresholds(self, theta: np.ndarray) -> list[np.ndarray]:
        """Per group the threshold vector (items in ``ov_names`` order, t1, t2, ...)."""
        return [M["tau"].ravel() for M in self.matrices(theta)]
