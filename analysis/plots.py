"""House style and reproducible figure export for the workbook.

Every figure of the workbook is drawn in one style (:func:`set_style`) and
written with :func:`save_figure`, which exports PNG (300 dpi), SVG and PDF into
``reports/figures/`` so that the report index can show them and readers can
reuse them in papers. The three files are byte-identical from run to run: the
backends' timestamps are removed and the SVG ids are derived from a fixed salt
instead of a random one.

Plotting functions for the analyses (forest and funnel plots, issue 3) belong in
the section marked below; like the rest of the module they draw, they never
compute statistics.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import matplotlib as mpl
import seaborn as sns
from matplotlib.figure import Figure

__all__ = [
    "OKABE_ITO",
    "FIGURE_FORMATS",
    "set_style",
    "figures_dir",
    "save_figure",
]

#: The Okabe–Ito palette (Okabe & Ito, 2008, *Color Universal Design*),
#: distinguishable under the common colour-vision deficiencies. Reordered so
#: that the first colours have good contrast on white (yellow and black last).
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)

#: The formats written by :func:`save_figure`, in this order.
FIGURE_FORMATS: tuple[str, ...] = ("png", "svg", "pdf")

#: Resolution of the PNG export (print quality).
PNG_DPI = 300

# A fixed salt makes the SVG element ids (clip paths, glyph definitions)
# the same in every run; matplotlib otherwise draws them at random.
_SVG_HASHSALT = "alliance-workbook"

# Backend metadata without dates: a date would make every export differ.
# Creator/Producer/Software keep matplotlib's version string, which is
# constant for a given lock file and useful provenance.
_METADATA = {
    "svg": {"Date": None},
    "pdf": {"CreationDate": None, "ModDate": None},
    "png": {},
}

# Letters, digits, '-' and '_' only: no path separators, no dots (so no
# extension and no '..'), no spaces that would break links in the index.
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}")

_REPO_ROOT = Path(__file__).resolve().parents[1]


def set_style(context: str = "notebook") -> None:
    """Apply the workbook's house style to matplotlib and seaborn.

    A white-grid seaborn theme, the colour-blind-safe Okabe–Ito palette and
    DejaVu Sans (shipped with matplotlib, so the same on every machine). Call
    it once at the top of a notebook; it is idempotent.

    Parameters
    ----------
    context : {"paper", "notebook", "talk", "poster"}, default "notebook"
        seaborn's scaling of fonts and lines.

    Raises
    ------
    ValueError
        If `context` is not one of seaborn's contexts.

    References
    ----------
    Okabe, M., & Ito, K. (2008). *Color Universal Design (CUD): How to make
    figures and presentations that are friendly to colorblind people.*

    Examples
    --------
    >>> from analysis.plots import set_style, OKABE_ITO
    >>> set_style()
    >>> import matplotlib as mpl
    >>> mpl.rcParams["font.family"]
    ['DejaVu Sans']
    """
    if context not in ("paper", "notebook", "talk", "poster"):
        raise ValueError(
            "`context` must be one of 'paper', 'notebook', 'talk', 'poster'; " f"got {context!r}."
        )
    sns.set_theme(
        context=context,
        style="whitegrid",
        palette=list(OKABE_ITO),
        font="DejaVu Sans",
        rc={
            "axes.titleweight": "bold",
            "axes.spines.top": False,
            "axes.spines.right": False,
            "figure.dpi": 100,
            "savefig.dpi": PNG_DPI,
            "svg.hashsalt": _SVG_HASHSALT,
            # Text as paths in SVG: looks the same without the font installed.
            "svg.fonttype": "path",
            # Embed TrueType (Type 42) fonts in PDF so the text stays selectable.
            "pdf.fonttype": 42,
        },
    )


def figures_dir(directory: str | os.PathLike | None = None) -> Path:
    """Return the folder that figures are written to.

    Parameters
    ----------
    directory : path, optional
        Explicit folder. Without it: ``$ALLIANCE_REPORTS_DIR/figures`` when
        that variable is set (``make reproduce`` and the tests set it), else
        ``<repository root>/reports/figures``.

    Returns
    -------
    pathlib.Path
        The folder (not created here).

    Examples
    --------
    >>> figures_dir("/tmp/figs")
    PosixPath('/tmp/figs')
    """
    if directory is not None:
        return Path(directory)
    reports = os.environ.get("ALLIANCE_REPORTS_DIR")
    if reports:
        return Path(reports) / "figures"
    return _REPO_ROOT / "reports" / "figures"


def _check_name(name: object) -> str:
    """Refuse figure names that are not a plain file stem."""
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise ValueError(
            "`name` must be a plain file stem of letters, digits, '-' and '_' "
            "(at most 100 characters, no path separator, no extension); "
            f"got {name!r}."
        )
    return name


def save_figure(
    fig: Figure, name: str, *, directory: str | os.PathLike | None = None
) -> dict[str, Path]:
    """Write a figure as ``<name>.png`` (300 dpi), ``<name>.svg`` and ``<name>.pdf``.

    The files are byte-identical from run to run on the same software: no
    dates in the metadata and SVG ids from a fixed salt. Existing files of the
    same name are overwritten.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to write (e.g. ``plt.gcf()`` or ``grid.figure`` for a
        seaborn grid).
    name : str
        File stem: letters, digits, ``-`` and ``_``; no folder, no extension.
    directory : path, optional
        Target folder; default :func:`figures_dir` (``reports/figures``, or
        ``$ALLIANCE_REPORTS_DIR/figures``). Created if needed.

    Returns
    -------
    dict of str to pathlib.Path
        The written files keyed by format: ``{"png": ..., "svg": ..., "pdf": ...}``.

    Raises
    ------
    ValueError
        If `name` is not a plain file stem or `fig` is not a matplotlib figure.

    Examples
    --------
    >>> import matplotlib.pyplot as plt, tempfile
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], [0, 1])
    >>> paths = save_figure(fig, "diagonal", directory=tempfile.mkdtemp())
    >>> sorted(paths)
    ['pdf', 'png', 'svg']
    >>> plt.close(fig)
    """
    name = _check_name(name)
    if not isinstance(fig, Figure):
        raise ValueError(f"`fig` must be a matplotlib Figure, got {type(fig).__name__}.")
    folder = figures_dir(directory)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {fmt: folder / f"{name}.{fmt}" for fmt in FIGURE_FORMATS}
    # rc_context so that the export is deterministic even when set_style()
    # was not called (and without changing the caller's settings).
    with mpl.rc_context({"svg.hashsalt": _SVG_HASHSALT}):
        for fmt, path in paths.items():
            fig.savefig(
                path,
                format=fmt,
                dpi=PNG_DPI,
                bbox_inches="tight",
                metadata=_METADATA[fmt],
            )
    return paths


# ---------------------------------------------------------------------------
# Analysis plots (forest plot, funnel plot: issue 3) go below this line. They
# take results objects from the estimators, return the matplotlib Figure and
# leave saving to save_figure.
# ---------------------------------------------------------------------------


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
    ``lower``–``upper`` that :func:`analysis.multilevel.therapist_effect` computed
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
    eff = result.effects
    needed = ("therapist", "effect", "lower", "upper")
    if not isinstance(eff, pd.DataFrame) or any(c not in eff.columns for c in needed):
        raise ValueError(f"`result.effects` must be a DataFrame with columns {list(needed)}.")
    if len(eff) == 0:
        raise ValueError("`result.effects` holds no therapist.")
    vals = eff[["effect", "lower", "upper"]].to_numpy(dtype=float)
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


__all__.append("caterpillar_plot")
