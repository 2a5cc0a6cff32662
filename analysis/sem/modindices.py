r"""Modification indices (lavaan's ``modindices``): score tests of parameters fixed in the model.

The model is extended by each candidate parameter :math:`\phi_j` (cross-loadings, residual and
latent covariances, regressions among variables in regressions, and the fixed parameters of the
model), at its fixed value. With the total expected information :math:`I` of the extended model
at :math:`(\hat\theta, \phi_0)` and the score :math:`d_j = \partial\ell/\partial\phi_j` (Sörbom 1989;
Saris, Satorra & Sörbom 1987),

.. math::

    V_j = I_{jj} - I_{j\theta}I_{\theta\theta}^{-1}I_{\theta j},\qquad
    MI_j = d_j^2 / V_j,\qquad EPC_j = d_j / V_j,

the expected parameter change; ``sepc.lv``/``sepc.all`` are the EPC standardized as the
parameter would be (see :mod:`analysis.sem.standardized`). Candidates with :math:`V_j \approx 0`
(not identified when freed, e.g. a marker loading) are left out, as lavaan does.

References
----------
Saris, W. E., Satorra, A., & Sörbom, D. (1987). The detection and correction of specification
errors in structural equation models. *Sociological Methodology, 17*, 105--129.
Sörbom, D. (1989). Model modification. *Psychometrika, 54*(3), 371--384.
Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software, 48*(2), 1--36.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.sem import estimate as _est
from analysis.sem.model import SEMModel
from analysis.sem.standardized import scale_factors

__all__ = ["modification_indices"]


def _candidates(pt: pd.DataFrame, model: SEMModel) -> list[tuple[str, str, str]]:
    lv = model.lv_names
    exo = set(pt.loc[pt["exo"] == 1, "lhs"])
    ov = [v for v in model.ov_names if v not in exo]
    have = set()
    for lhs, op, rhs in zip(pt["lhs"], pt["op"], pt["rhs"]):
        have.add((lhs, op, rhs))
        if op == "~~":
            have.add((rhs, op, lhs))
    out = []
    for f in lv:
        for v in ov:
            if (f, "=~", v) not in have:
                out.append((f, "=~", v))
    for block in (ov, lv):
        for i, a in enumerate(block):
            for b in block[i + 1:]:
                if (a, "~~", b) not in have:
                    out.append((a, "~~", b))
    eqs = []
    for lhs, op, rhs in zip(pt["lhs"], pt["op"], pt["rhs"]):
        if op == "~":
            for v in (lhs, rhs):
                if v not in eqs:
                    eqs.append(v)
    for a in eqs:
        for b in eqs:
            if a != b and a not in exo and (a, "~", b) not in have and (b, "~", a) not in have:
                out.append((a, "~", b))
    return out


def modification_indices(result) -> pd.DataFrame:
    """Modification indices, expected parameter changes and their standardized versions.

    Parameters
    ----------
    result : analysis.sem.SEMResult
        A model fitted by ML (complete data or FIML).

    Returns
    -------
    pandas.DataFrame
        ``term, lhs, op, rhs, group, group_label, mi, epc, sepc_lv, sepc_all`` (lavaan's
        ``mi``, ``epc``, ``sepc.lv``, ``sepc.all``), one row per candidate and group.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.sem import sem
    >>> rng = np.random.default_rng(2)
    >>> f = rng.normal(size=(400, 2))
    >>> X = pd.DataFrame(np.c_[f[:, [0]] @ [[1, .8, .7]], f[:, [1]] @ [[1, .8, .7]]]
    ...                  + rng.normal(size=(400, 6)) * 0.6, columns=["a1", "a2", "a3", "b1", "b2", "b3"])
    >>> X["b2"] += 0.5 * f[:, 0]           # a cross-loading the model leaves out
    >>> mi = sem("A =~ a1 + a2 + a3\\n B =~ b1 + b2 + b3", X).modification_indices(sort=True)
    >>> mi.iloc[0]["term"], round(float(mi.iloc[0]["mi"]), 1)
    ('A =~ b2', 105.1)
    """
    model: SEMModel = result._model
    obj: _est.Objective = result._obj
    if result.estimator != "ML":
        raise ValueError(f"modification indices are computed for ML fits; this model used {result.estimator!r}.")
    pt = model.partable.copy()
    G = len(model.groups)
    q = model.n_free
    cand = _candidates(pt, model)
    base_cols = ["lhs", "op", "rhs", "user", "block", "group", "free", "ustart", "exo", "label", "plabel", "start"]
    ext_rows = []
    targets = []  # (ext row index, column index)
    nxt = q
    # fixed parameters of the model (not exogenous, not the fixed latent means)
    pt_ext = pt[base_cols].copy()
    fixed_idx = [r for r in range(len(pt)) if pt["free"].iat[r] == 0 and pt["exo"].iat[r] == 0
                 and not (pt["op"].iat[r] == "~1" and pt["lhs"].iat[r] in model.lv_names)]
    for r in fixed_idx:
        nxt += 1
        pt_ext.iat[r, base_cols.index("free")] = nxt
        targets.append((r, nxt - 1))
    for g in range(1, G + 1):
        for lhs, op, rhs in cand:
            nxt += 1
            ext_rows.append(dict(lhs=lhs, op=op, rhs=rhs, user=0, block=g, group=g, free=nxt, ustart=0.0, exo=0,
                                 label="", plabel="", start=np.nan))
            targets.append((len(pt) + len(ext_rows) - 1, nxt - 1))
    if ext_rows:
        pt_ext = pd.concat([pt_ext, pd.DataFrame(ext_rows)], ignore_index=True)
    ext = SEMModel(pt_ext, model.ov_names, groups=model.groups, meanstructure=model.meanstructure,
                   ordered=model.ordered)
    for r in range(len(pt)):
        ext.set_fixed(r, model._fixed[r])
    theta_ext = np.zeros(nxt)
    theta_ext[:q] = result.theta
    vals = model.row_values(result.theta)
    for r, k in targets:
        theta_ext[k] = vals[r] if r < len(pt) else 0.0
    obj_ext = _est.Objective(ext, obj.data)
    N = obj.N
    _, grad = obj_ext.value_grad(theta_ext)
    info = obj_ext.expected_information(theta_ext) * N
    score = -grad * N  # derivative of the log-likelihood
    I_tt = info[:q, :q]
    try:
        I_tt_inv = np.linalg.inv(I_tt)
    except np.linalg.LinAlgError:
        I_tt_inv = np.linalg.pinv(I_tt)
    f_lv, f_all = scale_factors(ext, theta_ext)
    rows = []
    for r, k in targets:
        I_jt = info[k, :q]
        V = info[k, k] - I_jt @ I_tt_inv @ I_jt
        if not np.isfinite(V) or V < 1e-8 * max(info[k, k], 1e-300) or V <= 0:
            continue
        d = score[k]
        mi = d * d / V
        epc = d / V
        lhs, op, rhs, g = pt_ext["lhs"].iat[r], pt_ext["op"].iat[r], pt_ext["rhs"].iat[r], int(pt_ext["group"].iat[r])
        term = f"{lhs} ~1" if op == "~1" else f"{lhs} {op} {rhs}"
        rows.append(dict(term=term, lhs=lhs, op=op, rhs=rhs, group=g, group_label=model.groups[g - 1],
                         mi=float(mi), epc=float(epc), sepc_lv=float(epc * f_lv[r]), sepc_all=float(epc * f_all[r])))
    return pd.DataFrame(rows, columns=["term", "lhs", "op", "rhs", "group", "group_label", "mi", "epc", "sepc_lv",
                                       "sepc_all"])
