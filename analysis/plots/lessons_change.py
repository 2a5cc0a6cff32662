"""Lesson figures of notebooks 03 and 05: therapist effects and change.

Model diagnostics, within/between alliance, clinical significance, sudden gains and ruptures.

Plotting code that is not the point of those lessons (owner: learnb). Pure drawing;
saving is left to :func:`analysis.plots.save_figure`.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from analysis.plots.save import OKABE_ITO

__all__ = [
    "mixed_model_diagnostics",
    "jacobson_truax_plot",
    "within_between_plot",
    "sudden_gains_plot",
    "rupture_episodes_plot",
]


def mixed_model_diagnostics(result, data, *, title: str | None = None) -> Figure:
    r"""Diagnostic plots of a random-intercept model: residual and random-effect QQ plots, residuals vs fitted.

    For the model :math:`y_{ij} = x_{ij}^\top\beta + u_j + e_{ij}` fitted by
    :func:`analysis.multilevel.therapist_effect`, the conditional fitted values are
    :math:`\hat y_{ij} = x_{ij}^\top\hat\beta + \hat u_j` and the residuals
    :math:`\hat e_{ij} = y_{ij} - \hat y_{ij}`. Three panels check the model's assumptions
    (Snijders & Bosker 2012, ch. 10; Loy & Hofmann 2014):

    1. normal QQ plot of the residuals divided by :math:`\hat\sigma` (normal level-1 errors);
    2. normal QQ plot of the predicted therapist effects (BLUPs) divided by their SD (normal
       random effects; BLUPs are shrunk, so their spread is smaller than :math:`\hat\tau` —
       the shape, not the slope, is what to read);
    3. residuals against fitted values with a LOWESS line (linearity, constant variance).

    Written by hand (statsmodels and seaborn draw single QQ plots; none knows the two levels).

    Parameters
    ----------
    result : TherapistEffect
        A fit of :func:`analysis.multilevel.therapist_effect`.
    data : DataFrame
        The data that were fitted (the outcome, covariate and therapist columns of `result`).
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Three axes, in the order above.

    Raises
    ------
    ValueError
        `result` is not a TherapistEffect; `data` is not a DataFrame, lacks a column (with the
        nearest name), has missing or non-numeric values in it (naming the rows), a therapist
        the fit does not know, or another number of rows than the fit.

    References
    ----------
    Loy, A., & Hofmann, H. (2014). HLMdiag: A suite of diagnostics for hierarchical linear
    models in R. *J Stat Softw, 56*(5), 1--28.
    Snijders, T. A. B., & Bosker, R. J. (2012). *Multilevel analysis* (2nd ed.). Sage.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from analysis.simulate import simulate_trial
    >>> from analysis.multilevel import therapist_effect
    >>> pts = simulate_trial(n_therapists=30, caseload=6, seed=3).patients
    >>> fit = therapist_effect(pts, "post", "therapist", covariates=["pre"])
    >>> fig = mixed_model_diagnostics(fit, pts)
    >>> len(fig.axes)
    3
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd
    from scipy import stats
    from statsmodels.nonparametric.smoothers_lowess import lowess

    from analysis._checks import check_columns, check_dataframe, describe_labels
    from analysis.multilevel import TherapistEffect

    if not isinstance(result, TherapistEffect):
        raise ValueError(f"`result` must be a TherapistEffect (from analysis.multilevel.therapist_effect); "
                         f"got {type(result).__name__}.")
    data = check_dataframe("data", data)
    cols = [result.outcome, *result.covariates]
    check_columns(data, {"result.outcome": result.outcome, "result.therapist": result.therapist,
                         **{f"result.covariates[{i}]": c for i, c in enumerate(result.covariates)}})
    if len(data) != result.n_obs:
        raise ValueError(f"`data` has {len(data)} rows but the fit used {result.n_obs}: pass the data that "
                         "were fitted.")
    values = data[cols].apply(pd.to_numeric, errors="coerce")
    bad = values.isna().any(axis=1) | data[result.therapist].isna()
    if bad.any():
        raise ValueError(f"`data` has missing or non-numeric values in columns {cols} or "
                         f"{result.therapist!r} at {describe_labels(data.index[bad.to_numpy()])}.")
    effects = result.effects.set_index("therapist")["effect"]
    known = data[result.therapist].isin(effects.index)
    if not known.all():
        raise ValueError(f"`data` column {result.therapist!r} has therapists the fit does not know, at "
                         f"{describe_labels(data.index[~known.to_numpy()])}.")
    beta = result.fixed["estimate"].to_numpy(float)
    X = np.column_stack([np.ones(len(data)), values[result.covariates].to_numpy(float)])
    u = effects.reindex(data[result.therapist]).to_numpy(float)
    fitted = X @ beta + u
    resid = values[result.outcome].to_numpy(float) - fitted
    z_res = resid / np.sqrt(result.residual_var)
    blup = effects.to_numpy(float)
    z_blup = blup / blup.std(ddof=1) if blup.std(ddof=1) > 0 else blup

    fig, axes = plt.subplots(1, 3, figsize=(11, 3.6))
    for ax, z, what in [(axes[0], z_res, "residuals / sigma"), (axes[1], z_blup, "therapist effects (BLUPs) / SD")]:
        (osm, osr), (slope, icpt, _) = stats.probplot(z, dist="norm")
        ax.scatter(osm, osr, s=9, color=OKABE_ITO[0], alpha=0.7, lw=0)
        lim = np.array([min(osm.min(), osr.min()), max(osm.max(), osr.max())])
        ax.plot(lim, lim, color="0.4", lw=1, ls="--")
        ax.set(xlabel="normal quantile", ylabel=what, title=f"QQ plot: {what.split(' /')[0]}")
    ax = axes[2]
    ax.scatter(fitted, resid, s=9, color=OKABE_ITO[1], alpha=0.6, lw=0)
    ax.axhline(0, color="0.4", lw=1, ls="--")
    smooth = lowess(resid, fitted, frac=0.6, return_sorted=True)
    ax.plot(smooth[:, 0], smooth[:, 1], color=OKABE_ITO[3], lw=2, label="LOWESS")
    ax.set(xlabel=f"fitted {result.outcome}", ylabel="residual", title="Residuals vs fitted")
    ax.legend(fontsize=8, frameon=False)
    for a in axes:
        a.title.set_fontsize(10)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def jacobson_truax_plot(result, groups=None, *, lim=None, title: str | None = None, xlabel: str = "before",
                        ylabel: str = "after") -> Figure:
    r"""Jacobson–Truax plot: each patient's score before and after, coloured by change category.

    Draws the diagonal (no change), the band of unreliable change around it (half-width
    :math:`1.96\,S_{diff}`, or the fixed ``min_change`` of a published rule), cut-off line
    (horizontal, at ``result.cutoff``), and one point per patient coloured by the category of
    :func:`analysis.change.clinical_significance` (recovered, improved, unchanged,
    deteriorated); patients with a missing score are not drawn. Jacobson & Truax (1991).

    Parameters
    ----------
    result : ClinicalSignificance
        From :func:`analysis.change.clinical_significance`.
    groups : sequence, optional
        One label per patient (e.g. the treatment arm); each group gets its own marker.
    lim : (float, float), optional
        Axis limits (both axes); default: the data's range with a margin.
    title, xlabel, ylabel : str
        Labels.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        `result` is not a ClinicalSignificance; `groups` has another length than the patients,
        or more than six groups; `lim` is not two finite increasing numbers.

    References
    ----------
    Jacobson, N. S., & Truax, P. (1991). Clinical significance: A statistical approach to defining
    meaningful change in psychotherapy research. *J Consult Clin Psychol, 59*(1), 12--19.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from analysis.change import clinical_significance
    >>> cs = clinical_significance([20, 25, 18, 30], [8, 24, 19, 12], reliability=0.9, cutoff="a")
    >>> fig = jacobson_truax_plot(cs, groups=["A", "A", "B", "B"])
    >>> len(fig.axes)
    1
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from analysis.change import ClinicalSignificance

    if not isinstance(result, ClinicalSignificance):
        raise ValueError(f"`result` must be a ClinicalSignificance (from analysis.change.clinical_significance); "
                         f"got {type(result).__name__}.")
    table = result.table
    n = len(table)
    if groups is None:
        labels = np.array([""] * n, dtype=object)
    else:
        if isinstance(groups, (str, bytes, dict)) or not hasattr(groups, "__len__"):
            raise ValueError(f"`groups` must be a sequence with one label per patient; got {type(groups).__name__}.")
        labels = np.asarray(list(groups), dtype=object)
        if len(labels) != n:
            raise ValueError(f"`groups` has {len(labels)} labels but the result has {n} patients.")
    kinds = list(dict.fromkeys(labels.tolist()))
    markers = ["o", "s", "^", "D", "v", "P"]
    if len(kinds) > len(markers):
        raise ValueError(f"`groups` has {len(kinds)} groups; at most {len(markers)} can be told apart by marker.")
    pre = table["pre"].to_numpy(float)
    post = table["post"].to_numpy(float)
    if lim is None:
        both = np.r_[pre, post]
        both = both[np.isfinite(both)]
        span = float(both.max() - both.min()) if both.size else 1.0
        lim = (float(both.min()) - 0.05 * span, float(both.max()) + 0.05 * span) if both.size else (0.0, 1.0)
    else:
        try:
            lim = (float(lim[0]), float(lim[1]))
        except (TypeError, ValueError, IndexError):
            raise ValueError(f"`lim` must be two numbers (low, high); got {lim!r}.") from None
        if len(np.atleast_1d(np.asarray(lim))) != 2 or not (np.isfinite(lim).all() and lim[0] < lim[1]):
            raise ValueError(f"`lim` must be two finite numbers with low < high; got {lim!r}.")
    rel = result.reliable
    band = rel.min_change if rel.min_change is not None else rel.critical * rel.s_diff
    band_label = (f"unreliable change (< {band:g} points)" if rel.min_change is not None
                  else f"unreliable change (|RC| \u2264 {rel.critical:g})")
    colors = {"recovered": OKABE_ITO[2], "improved": OKABE_ITO[4], "unchanged": "0.6", "deteriorated": OKABE_ITO[3]}
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    xs = np.array(lim)
    ax.fill_between(xs, xs - band, xs + band, color="0.9", zorder=0, label=band_label)
    ax.plot(xs, xs, color="0.5", lw=0.8)
    ax.axhline(result.cutoff, ls="--", color="0.3", lw=1, label=f"cut-off {result.cutoff_used} = {result.cutoff:.1f}")
    category = table["category"].astype(str).to_numpy()
    for kind, mk in zip(kinds, markers):
        for cat, col in colors.items():
            sel = (labels == kind) & (category == cat)
            if sel.any():
                ax.scatter(pre[sel], post[sel], marker=mk, color=col, s=28, edgecolor="white", lw=0.4,
                           label=f"{kind}: {cat}" if kind != "" else cat)
    ax.set(xlim=lim, ylim=lim, xlabel=xlabel, ylabel=ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=7, loc="upper left", frameon=False)
    return fig


def within_between_plot(panels, *, outcome: str = "change", alliance: str = "alliance_mean",
                        therapist: str = "therapist", xlabel: str | None = None, ylabel: str | None = None,
                        title: str | None = None) -> Figure:
    r"""Patients, therapist means and the within-, between-therapist and total OLS slopes, one panel per data set.

    For each data set the slopes of `outcome` on `alliance` are the ordinary least-squares slopes
    of the deviations from the therapist means (within, :math:`b_W`), of the therapist means
    (between, each patient's row counted, so weighted by caseload, :math:`b_B`) and of the raw
    values (total, :math:`b_T = (SS_W b_W + SS_B b_B)/(SS_W + SS_B)`); each line passes through
    the grand means. Grey points are patients, coloured discs therapist means (area ∝ caseload).
    Raudenbush & Bryk (2002, ch. 5).

    Parameters
    ----------
    panels : dict of str to DataFrame
        Panel title -> one row per patient with the three columns.
    outcome, alliance, therapist : str
        Column names.
    xlabel, ylabel, title : str, optional
        Axis labels (default: the column names) and the figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One axis per panel (shared y axis).

    Raises
    ------
    ValueError
        `panels` is not a non-empty dict of DataFrames; a column is missing (with the nearest name) or
        has missing or non-numeric values (naming the rows); the alliance does not vary within or
        between therapists in a panel.

    References
    ----------
    Raudenbush, S. W., & Bryk, A. S. (2002). *Hierarchical linear models* (2nd ed.). Sage.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from analysis.simulate import simulate_trial
    >>> pts = simulate_trial(n_therapists=20, caseload=5, seed=2).patients
    >>> fig = within_between_plot({"simulated": pts})
    >>> len(fig.axes)
    1
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    from analysis._checks import check_columns, check_dataframe, describe_labels

    if not isinstance(panels, dict) or not panels:
        raise ValueError(f"`panels` must be a non-empty dict of panel title -> DataFrame; got "
                         f"{type(panels).__name__}.")
    prepared = {}
    for name, df in panels.items():
        df = check_dataframe(f"panels[{name!r}]", df, min_rows=2)
        check_columns(df, {"outcome": outcome, "alliance": alliance, "therapist": therapist},
                      argument=f"panels[{name!r}]")
        vals = df[[outcome, alliance]].apply(pd.to_numeric, errors="coerce")
        bad = vals.isna().any(axis=1) | df[therapist].isna()
        if bad.any():
            raise ValueError(f"panels[{name!r}] has missing or non-numeric values in {outcome!r}, {alliance!r} or "
                             f"{therapist!r} at {describe_labels(df.index[bad.to_numpy()])}.")
        d = pd.DataFrame({"y": vals[outcome].to_numpy(float), "a": vals[alliance].to_numpy(float),
                          "g": df[therapist].to_numpy()})
        a_bar = d.groupby("g")["a"].transform("mean")
        y_bar = d.groupby("g")["y"].transform("mean")
        aw, yw = d["a"] - a_bar, d["y"] - y_bar
        ab, yb = a_bar - d["a"].mean(), y_bar - d["y"].mean()
        ss_w, ss_b = float((aw**2).sum()), float((ab**2).sum())
        scale = max(float(np.abs(d["a"]).max()), 1e-300) ** 2 * len(d)
        if ss_w <= 1e-24 * scale or ss_b <= 1e-24 * scale:
            raise ValueError(f"In panels[{name!r}] column {alliance!r} does not vary "
                             f"{'within' if ss_w <= 1e-24 * scale else 'between'} therapists: that slope is not "
                             "defined.")
        slopes = {"within": float((aw * yw).sum()) / ss_w, "between": float((ab * yb).sum()) / ss_b}
        slopes["total"] = (ss_w * slopes["within"] + ss_b * slopes["between"]) / (ss_w + ss_b)
        prepared[name] = (d, slopes)

    fig, axes = plt.subplots(1, len(prepared), figsize=(5 * len(prepared), 4.3), sharey=True, squeeze=False)
    for ax, (name, (d, sl)) in zip(axes[0], prepared.items()):
        ax.scatter(d["a"], d["y"], s=8, color="0.75", label="patient", zorder=1)
        means = d.groupby("g").agg(a=("a", "mean"), y=("y", "mean"), n=("y", "size"))
        ax.scatter(means["a"], means["y"], s=8 * means["n"], color=OKABE_ITO[1], alpha=0.8, edgecolor="white",
                   lw=0.5, label="therapist mean (size = caseload)", zorder=2)
        xs = np.linspace(d["a"].min(), d["a"].max(), 2)
        xm, ym = d["a"].mean(), d["y"].mean()
        for key, colour, ls in [("within", OKABE_ITO[0], "-"), ("between", OKABE_ITO[3], "-"), ("total", "0.1", "--")]:
            ax.plot(xs, ym + sl[key] * (xs - xm), color=colour, ls=ls, lw=2, zorder=3,
                    label=f"{key} slope {sl[key]:.1f}")
        ax.set_title(name, fontsize=10)
        ax.set_xlabel(xlabel if xlabel is not None else alliance)
        ax.legend(fontsize=7, loc="upper left", frameon=True)
    axes[0][0].set_ylabel(ylabel if ylabel is not None else outcome)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def _series_panels(sessions, patients, columns, axes, argument):
    """Shared checks of the per-patient series plots: data, columns, patients and axes."""
    import matplotlib.pyplot as plt
    import numpy as np

    from analysis._checks import check_columns, check_dataframe

    sessions = check_dataframe("sessions", sessions)
    check_columns(sessions, columns, argument="sessions")
    if isinstance(patients, (str, bytes, dict)) or not hasattr(patients, "__len__") or len(patients) == 0:
        raise ValueError(f"`patients` must be a non-empty list of patient ids; got {patients!r}.")
    patients = list(patients)
    known = set(sessions[columns["patient"]])
    unknown = [p for p in patients if p not in known]
    if unknown:
        raise ValueError(f"`patients` names ids not in column {columns['patient']!r} of `sessions`: {unknown}.")
    if axes is None:
        fig, axes = plt.subplots(1, len(patients), figsize=(3.7 * len(patients), 2.9), squeeze=False)
        axes = list(axes[0])
    else:
        axes = list(np.ravel(axes))
        if len(axes) != len(patients):
            raise ValueError(f"`{argument}` has {len(axes)} axes for {len(patients)} patients.")
        fig = axes[0].figure
    return sessions, patients, axes, fig


def sudden_gains_plot(sessions, result, patients, *, score: str = "symptom", patient: str = "patient",
                      session: str = "session", true_gain_session=None, titles=None, ylim=None, axes=None) -> Figure:
    """Each patient's score series with the detected sudden gains drawn as arrows.

    One panel per patient: the observed scores by session, an arrow from the pre-gain to the
    post-gain score of every gain in ``result.gains`` (Tang & DeRubeis 1999 criteria, as
    :func:`analysis.change.sudden_gains` applied them) and, for simulated data, a dotted line
    before the session of the true gain.

    Parameters
    ----------
    sessions : DataFrame
        Long format: one row per patient and session.
    result : SuddenGains
        From :func:`analysis.change.sudden_gains` (or ``sudden_losses``) on `sessions`.
    patients : list
        Patient ids to draw, one panel each.
    score, patient, session : str
        Column names in `sessions`.
    true_gain_session : mapping, optional
        Patient id -> session of the true gain (simulation only; values <= 0 mean none).
    titles : mapping, optional
        Patient id -> panel title (default ``"patient <id>"``).
    ylim : (float, float), optional
        Limits of the score axis (e.g. the instrument's range).
    axes : sequence of Axes, optional
        One axis per patient (e.g. a row of a larger figure); default: a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        `result` is not a SuddenGains; `sessions` is not a DataFrame or lacks a column (with the
        nearest name); `patients` is empty or names unknown ids; `axes` has another length.

    References
    ----------
    Tang, T. Z., & DeRubeis, R. J. (1999). Sudden gains and critical sessions in cognitive-behavioral
    therapy for depression. *J Consult Clin Psychol, 67*(6), 894--904.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> from analysis.change import sudden_gains
    >>> d = pd.DataFrame({"patient": 1, "session": range(1, 9),
    ...                   "symptom": [20, 21, 20, 19, 9, 8, 9, 8]})
    >>> res = sudden_gains(d)
    >>> fig = sudden_gains_plot(d, res, [1])
    >>> len(fig.axes)
    1
    >>> plt.close(fig)
    """
    from analysis.change import SuddenGains

    if not isinstance(result, SuddenGains):
        raise ValueError(f"`result` must be a SuddenGains (from analysis.change.sudden_gains); got "
                         f"{type(result).__name__}.")
    sessions, patients, axes, fig = _series_panels(
        sessions, patients, {"patient": patient, "session": session, "score": score}, axes, "axes")
    for ax, pid in zip(axes, patients):
        d = sessions[sessions[patient] == pid]
        ax.plot(d[session], d[score], "o-", color=OKABE_ITO[0], ms=3, lw=1)
        gains = result.gains[result.gains["patient"] == pid] if len(result.gains) else result.gains
        for _, g in gains.iterrows():
            ax.annotate("", xy=(g["postgain_session"], g["postgain_score"]),
                        xytext=(g["pregain_session"], g["pregain_score"]),
                        arrowprops=dict(arrowstyle="->", color=OKABE_ITO[3], lw=2))
        if true_gain_session is not None and pid in true_gain_session and true_gain_session[pid] > 0:
            ax.axvline(true_gain_session[pid] - 0.5, color="0.6", ls=":", lw=1)
        ax.set_title(titles[pid] if titles is not None and pid in titles else f"patient {pid}", fontsize=9)
        ax.set_xlabel(session)
        if ylim is not None:
            ax.set_ylim(*ylim)
    axes[0].set_ylabel(score)
    return fig


def rupture_episodes_plot(sessions, result, patients, *, alliance: str = "alliance", patient: str = "patient",
                          session: str = "session", true_rupture: str | None = None, titles=None,
                          axes=None) -> Figure:
    """Each patient's alliance series with the rupture rule and the detected episodes.

    One panel per patient: the ratings by session, the patient's mean (solid) and rupture
    threshold (dashed, mean − k SD as :func:`analysis.change.rupture_episodes` set it), each
    episode shaded (green repaired, red not) and, for simulated data, the true ruptures as crosses.

    Parameters
    ----------
    sessions : DataFrame
        Long format: one row per patient and session.
    result : RuptureEpisodes
        From :func:`analysis.change.rupture_episodes` on `sessions`.
    patients : list
        Patient ids to draw, one panel each.
    alliance, patient, session : str
        Column names in `sessions`.
    true_rupture : str, optional
        A boolean column marking true ruptures (simulation only).
    titles : mapping, optional
        Patient id -> panel title.
    axes : sequence of Axes, optional
        One axis per patient; default: a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        `result` is not a RuptureEpisodes; `sessions` lacks a column (with the nearest name);
        `patients` is empty, names unknown ids or patients the rule did not analyse; `axes` has
        another length.

    References
    ----------
    Safran, J. D., & Muran, J. C. (2000). *Negotiating the therapeutic alliance*. Guilford.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> from analysis.change import rupture_episodes
    >>> d = pd.DataFrame({"patient": 1, "session": range(1, 11),
    ...                   "alliance": [4.0, 4.1, 4.0, 4.2, 2.5, 4.1, 4.0, 4.2, 4.1, 4.0]})
    >>> res = rupture_episodes(d, k=1.5, m=2)
    >>> fig = rupture_episodes_plot(d, res, [1])
    >>> len(fig.axes)
    1
    >>> plt.close(fig)
    """
    import numpy as np

    from analysis.change import RuptureEpisodes

    if not isinstance(result, RuptureEpisodes):
        raise ValueError(f"`result` must be a RuptureEpisodes (from analysis.change.rupture_episodes); got "
                         f"{type(result).__name__}.")
    cols = {"patient": patient, "session": session, "alliance": alliance}
    if true_rupture is not None:
        cols["true_rupture"] = true_rupture
    sessions, patients, axes, fig = _series_panels(sessions, patients, cols, axes, "axes")
    info = result.patients.set_index("patient")
    not_rated = [p for p in patients
                 if p not in info.index or not np.isfinite(float(info.loc[p, "threshold"]))]
    if not_rated:
        raise ValueError(f"`patients` names ids the rupture rule did not analyse (too short or constant series): "
                         f"{not_rated}.")
    for ax, pid in zip(axes, patients):
        d = sessions[sessions[patient] == pid]
        ax.plot(d[session], d[alliance], "o-", color=OKABE_ITO[1], ms=3, lw=1)
        ax.axhline(info.loc[pid, "mean"], color="0.5", lw=0.8)
        ax.axhline(info.loc[pid, "threshold"], color="0.5", lw=0.8, ls="--")
        for _, e in result.episodes[result.episodes["patient"] == pid].iterrows():
            ax.axvspan(e["onset"] - 0.4, e["end"] + 0.4, color=OKABE_ITO[2 if e["repaired"] else 3], alpha=0.25)
        if true_rupture is not None:
            tr = d[d[true_rupture].astype(bool)]
            ax.scatter(tr[session], tr[alliance], marker="x", color="k", s=25, zorder=3, label="true rupture")
        ax.set_title(titles[pid] if titles is not None and pid in titles else f"patient {pid}", fontsize=9)
        ax.set_xlabel(session)
    axes[0].set_ylabel(alliance)
    if true_rupture is not None:
        axes[0].legend(fontsize=7, frameon=False, loc="lower left")
    return fig
