"""Multilevel figures: the caterpillar plot of therapist effects (from :func:`analysis.multilevel.therapist_effect`).

Pure drawing: a fitted result in, a matplotlib Figure out; saving is left to
:func:`analysis.plots.save_figure`.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from analysis.plots._common import _check_drawing_args
from analysis.plots.save import OKABE_ITO

__all__ = [
    "caterpillar_plot",
]


# --- Multilevel plots ---


def caterpillar_plot(
    result,
    ax=None,
    *,
    labels: bool | str = "auto",
    color: str | None = None,
    xlabel: str | None = None,
    title: str | None = None,
) -> Figure:
    r"""Caterpillar plot: each therapist's predicted effect with its interval, ranked.

    One row per therapist, ordered from the lowest to the highest predicted
    effect (ties keep the therapist order of ``result.effects``). Each row shows
    the BLUP :math:`\hat u_j = c_j \sum_i (y_{ij} - x_{ij}^\top\hat\beta)`,
    :math:`c_j = \hat\tau^2 / (\hat\sigma^2 + n_j\hat\tau^2)`, and the interval
    ``ci_low``–``ci_high`` that :func:`analysis.multilevel.therapist_effect` computed
    (:math:`\hat u_j \pm 1.96\,\hat\sigma\sqrt{c_j}`, lme4's conditional variance;
    Snijders & Bosker 2012, sec. 4.8). A dashed line marks 0, the average
    therapist. The plot draws what the result holds; it computes nothing. The
    shrinkage is visible: therapists with small caseloads sit near 0 with wide
    intervals. Intervals that miss 0 are not tests of single therapists (there
    are as many intervals as therapists).

    Parameters
    ----------
    result : analysis.multilevel.TherapistEffect
        The result of :func:`analysis.multilevel.therapist_effect`.
    ax : matplotlib.axes.Axes, optional
        Axes to draw into; default a new figure sized to the number of therapists.
    labels : {"auto", True, False}
        Therapist ids as y tick labels; ``"auto"`` shows them for at most 40 therapists.
    color : str, optional
        Colour of points and intervals; default the first Okabe–Ito colour.
    xlabel, title : str, optional
        Axis label and title; defaults name the outcome and the counts.

    Returns
    -------
    matplotlib.figure.Figure
        The figure of the axes drawn into (save it with :func:`save_figure`).

    Raises
    ------
    ValueError
        If `result` is not a ``therapist_effect`` result, its ``effects`` table
        lacks a column or holds a non-finite value or an interval that does not
        contain its estimate, `ax` is not a matplotlib Axes, or `labels` is not
        one of the choices.

    References
    ----------
    Snijders, T. A. B., & Bosker, R. J. (2012). *Multilevel analysis* (2nd ed.). Sage.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from analysis.simulate import simulate_trial
    >>> from analysis.multilevel import therapist_effect
    >>> pts = simulate_trial(n_therapists=20, caseload=6, seed=1).patients
    >>> fit = therapist_effect(pts, "post", "therapist", covariates=["pre", "arm"])
    >>> fig = caterpillar_plot(fit)
    >>> len(fig.axes[0].get_yticks())
    20
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd
    from matplotlib.axes import Axes

    from analysis.multilevel import TherapistEffect

    if not isinstance(result, TherapistEffect):
        raise ValueError(
            "`result` must be the result of analysis.multilevel.therapist_effect "
            f"(a TherapistEffect); got {type(result).__name__}."
        )
    if ax is not None and not isinstance(ax, Axes):
        raise ValueError(f"`ax` must be a matplotlib Axes or None; got {type(ax).__name__}.")
    if labels not in ("auto", True, False):
        raise ValueError(f"`labels` must be 'auto', True or False; got {labels!r}.")
    _check_drawing_args(xlabel=xlabel, title=title, color=color)
    eff = result.effects
    needed = ("therapist", "effect", "ci_low", "ci_high")
    if not isinstance(eff, pd.DataFrame) or any(c not in eff.columns for c in needed):
        raise ValueError(f"`result.effects` must be a DataFrame with columns {list(needed)}.")
    if len(eff) == 0:
        raise ValueError("`result.effects` holds no therapist.")
    vals = eff[["effect", "ci_low", "ci_high"]].to_numpy(dtype=float)
    bad = ~np.isfinite(vals).all(axis=1) | (vals[:, 1] > vals[:, 0]) | (vals[:, 0] > vals[:, 2])
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"`result.effects` row {row} (therapist {eff['therapist'].iloc[row]!r}) has a non-finite "
            "value or an interval that does not contain its estimate."
        )
    order = np.argsort(vals[:, 0], kind="stable")
    est, lo, hi = vals[order, 0], vals[order, 1], vals[order, 2]
    ids = eff["therapist"].to_numpy()[order]
    n = len(est)
    if ax is None:
        fig, ax = plt.subplots(figsize=(6.0, min(max(2.5, 0.12 * n + 1.2), 14.0)))
    colour = color if color is not None else OKABE_ITO[0]
    y = np.arange(n)
    ax.errorbar(est, y, xerr=np.vstack([est - lo, hi - est]), fmt="o", ms=3, color=colour,
                ecolor=colour, elinewidth=0.9, capsize=0, label="therapist (BLUP, 95% interval)")
    ax.axvline(0.0, color="0.3", ls="--", lw=0.8, zorder=0)
    ax.set_ylim(-0.8, n - 0.2)
    show = labels is True or (labels == "auto" and n <= 40)
    ax.set_yticks(y)
    if show:
        ax.set_yticklabels([str(v) for v in ids], fontsize=7)
        ax.set_ylabel("therapist (ranked by predicted effect)")
    else:
        ax.set_yticklabels([])
        ax.tick_params(axis="y", length=0)
        ax.set_ylabel(f"{n} therapists, ranked by predicted effect")
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(xlabel if xlabel is not None else
                  f"therapist effect on {result.outcome} (BLUP, 95% interval)")
    ax.set_title(title if title is not None else
                 f"Therapist effects: {result.n_obs} patients, {n} therapists", fontsize=11)
    return ax.figure
