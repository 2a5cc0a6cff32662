"""House style and reproducible figure export for the workbook.

Every figure of the workbook is drawn in one style (:func:`set_style`) and
written with :func:`save_figure`, which exports PNG (300 dpi), SVG and PDF into
``reports/figures/`` under ``make reproduce`` (so that the report index can show
them and readers can reuse them in papers) and into ``alliance-output/figures/``
(or ``$ALLIANCE_OUTPUT_DIR/figures/``) when a notebook or script is run by hand.
The three files are byte-identical from run to run: the backends' timestamps
are removed and the SVG ids are derived from a fixed salt instead of a random one.

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

from analysis import _outputs

__all__ = [
    "OKABE_ITO",
    "FIGURE_FORMATS",
    "set_style",
    "figures_dir",
    "save_figure",
    "SavedFigure",
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


def set_style(context: str = "notebook") -> None:
    """Apply the workbook's house style to matplotlib and seaborn.

    A white-grid seaborn theme, the colour-blind-safe Okabe–Ito palette and
    DejaVu Sans (shipped with matplotlib, so the same on every machine). Call
    it once at the top of a notebook; it is idempotent.

    Parameters
    ----------
    context : {"paper", "notebook", "talk", "poster"}, default "notebook"
        seaborn's scaling of fonts and lines.

    Returns
    -------
    None
        Sets matplotlib's global ``rcParams`` (through ``seaborn.set_theme``).

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

    Only ``make reproduce`` writes the workbook's ``reports/``: it sets
    ``$ALLIANCE_REPORTS_DIR`` (so do the tests). A notebook run by hand (JupyterLab,
    ``jupyter nbconvert --execute``) or a user's script writes into the output folder
    instead, ``$ALLIANCE_OUTPUT_DIR`` or ``./alliance-output/``.

    Parameters
    ----------
    directory : path, optional
        Explicit folder, returned as given. Without it: ``$ALLIANCE_REPORTS_DIR/figures``
        when that variable is set (``make reproduce`` and the tests set it), else
        ``$ALLIANCE_OUTPUT_DIR/figures`` when that is set, else ``alliance-output/figures``
        in the current working folder (a notebook's kernel runs in the notebook's folder;
        when the current folder is inside the workbook's ``reports/``, ``alliance-output/``
        is made beside ``reports/`` instead).

    Returns
    -------
    pathlib.Path
        The folder (not created here); never inside the workbook's ``reports/`` unless
        ``$ALLIANCE_REPORTS_DIR`` or `directory` says so.

    Raises
    ------
    ValueError
        If `directory` is not a str or path (or is the empty string), if
        ``$ALLIANCE_OUTPUT_DIR`` lies inside the workbook's ``reports/``, or if the
        output folder exists and is a file.

    References
    ----------
    None: a utility (no method literature).

    Examples
    --------
    >>> figures_dir("/tmp/figs")
    PosixPath('/tmp/figs')
    """
    if directory is not None:
        if not isinstance(directory, (str, os.PathLike)) or isinstance(directory, bytes) or str(directory) == "":
            raise ValueError(f"`directory` must be a folder path (str or pathlib.Path) or None; got {directory!r}.")
        return Path(directory)
    reports = _outputs.reports_dir()
    if reports is not None:
        return reports / "figures"
    return _outputs.output_dir() / "figures"


def _check_name(name: object) -> str:
    """Refuse figure names that are not a plain file stem."""
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise ValueError(
            "`name` must be a plain file stem of letters, digits, '-' and '_' "
            "(at most 100 characters, no path separator, no extension); "
            f"got {name!r}."
        )
    return name


class SavedFigure(dict):
    """The files written by :func:`save_figure`: a dict of format to path.

    Its ``repr`` names the figure and formats but not the folder, so a
    notebook whose cell ends with ``save_figure(...)`` shows the same text on
    every machine (the executed HTML stays identical run to run).
    """

    def __repr__(self) -> str:
        name = next(iter(self.values())).stem if self else ""
        return f"SavedFigure({name!r}: {', '.join(self)})"


def save_figure(
    fig: Figure, name: str, *, directory: str | os.PathLike | None = None
) -> SavedFigure:
    """Write a figure as ``<name>.png`` (300 dpi), ``<name>.svg`` and ``<name>.pdf``.

    The files are byte-identical from run to run on the same software: no
    dates in the metadata and SVG ids from a fixed salt. Existing figures of the
    same name are overwritten; an existing file of that name that is not a
    PNG/SVG/PDF figure (e.g. a CSV) is refused, never truncated.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to write (e.g. ``plt.gcf()`` or ``grid.figure`` for a
        seaborn grid).
    name : str
        File stem: letters, digits, ``-`` and ``_``; no folder, no extension.
    directory : path, optional
        Target folder; default :func:`figures_dir`: ``$ALLIANCE_REPORTS_DIR/figures``
        under ``make reproduce`` (and the tests), else the output folder's ``figures/``
        (``$ALLIANCE_OUTPUT_DIR/figures`` or ``./alliance-output/figures``; the first
        such save in a process prints where it goes). Created if needed.

    Returns
    -------
    SavedFigure
        A dict of the written files keyed by format (``"png"``, ``"svg"``,
        ``"pdf"``), shown without the folder.

    Raises
    ------
    ValueError
        If `name` is not a plain file stem, `fig` is not a matplotlib figure, or
        a target file exists and is not a figure of its format.

    References
    ----------
    Hunter, J. D. (2007). Matplotlib: A 2D graphics environment. *Computing in Science &
    Engineering, 9*(3), 90--95. https://doi.org/10.1109/MCSE.2007.55
    Matplotlib documentation: ``Figure.savefig`` (its ``metadata`` argument per backend)
    and the ``svg.hashsalt`` rcParam, https://matplotlib.org/stable/api/figure_api.html

    Examples
    --------
    >>> import matplotlib.pyplot as plt, tempfile
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], [0, 1])
    >>> paths = save_figure(fig, "diagonal", directory=tempfile.mkdtemp())
    >>> paths
    SavedFigure('diagonal': png, svg, pdf)
    >>> paths["png"].name
    'diagonal.png'
    >>> plt.close(fig)
    """
    name = _check_name(name)
    if not isinstance(fig, Figure):
        raise ValueError(f"`fig` must be a matplotlib Figure, got {type(fig).__name__}.")
    folder = figures_dir(directory)
    if directory is None and _outputs.reports_dir() is None:
        _outputs.announce("figures", folder, "directory")
    folder.mkdir(parents=True, exist_ok=True)
    paths = SavedFigure((fmt, folder / f"{name}.{fmt}") for fmt in FIGURE_FORMATS)
    # Overwrite only earlier figures: never truncate a file that is not one (issue 13).
    magic = {"png": (b"\x89PNG\r\n\x1a\n",), "pdf": (b"%PDF-",), "svg": (b"<?xml", b"<svg")}
    for fmt, path in paths.items():
        if path.exists() or path.is_symlink():
            head = b"?"
            if path.is_file():
                with open(path, "rb") as handle:
                    head = handle.read(64).lstrip()
            if head and not head.startswith(magic[fmt]):
                raise ValueError(f"`name`: {path} exists and is not a {fmt.upper()} figure; "
                                 "refusing to overwrite it (choose another name or directory).")
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


# --- Meta-analysis plots ---
# Forest and funnel plots (issue 3). Pure drawing: a fitted result in, a
# matplotlib Figure out. Artists carry ``gid``s ("study-ci", "study-point",
# "summary-diamond", "prediction-interval", "weight", "contour-<level>",
# "pseudo-ci", "studies", "filled-studies") so that tests and users can find them.

__all__ += ["forest_plot", "funnel_plot"]


def _meta_result(result: object, name: str = "result"):
    """Return `result` if it is an intercept-only MetaResult, else raise ValueError."""
    from analysis.meta import MetaResult

    if not isinstance(result, MetaResult):
        raise ValueError(
            f"`{name}` must be a MetaResult from analysis.meta.meta_analysis, got {type(result).__name__}."
        )
    if result.p != 1:
        raise ValueError(
            f"`{name}` has moderators ({result.p} coefficients); forest and funnel plots need a model "
            "without moderators (fit one per subgroup or use meta_analysis without `mods`)."
        )
    return result


def _per_study(values: object, k: int, name: str) -> list:
    """A list of k entries from a sequence, naming `name` when the length is wrong."""
    if isinstance(values, (str, bytes)):
        raise ValueError(f"`{name}` must be a sequence with one entry per study, got a string.")
    out = list(values)
    if len(out) != k:
        raise ValueError(f"`{name}` has {len(out)} entries but the result has k = {k} studies.")
    return out


def _ratio_scale(transform, res) -> tuple[bool, object]:
    """(draw on a log ratio axis?, the transform to use) for a fit and a `transform` argument."""
    from analysis.meta import EXP_TRANSFORMS, RATIO_MEASURES

    if transform is None and getattr(res, "measure", None) in RATIO_MEASURES:
        return True, "exp"
    return (isinstance(transform, str) and transform in EXP_TRANSFORMS), transform


def _check_exp_range(name: str, values) -> None:
    """Log ratios beyond +-700 have no finite ratio (exp overflows to inf or underflows to 0)."""
    import numpy as np

    ext = float(np.max(np.abs(values)))
    if not ext <= 700:
        raise ValueError(f"`{name}` has log ratios (or interval bounds) up to {ext:g} in absolute value, too "
                         "large to draw on the ratio scale (exp overflows); check the data or draw the log "
                         "scale with transform='none'.")


def _ratio_label(res) -> str:
    from analysis.meta import RATIO_MEASURES

    name = RATIO_MEASURES.get(getattr(res, "measure", None), "ratio")
    return f"{name[0].upper()}{name[1:]} (log scale)"


def _tidy(t: float) -> float:
    """Drop floating-point dust (0.30000000000000004 -> 0.3): 12 significant digits."""
    return float(f"{t:.12g}")


def _within(values, low: float, high: float) -> list[float]:
    """The distinct tidied positive values in [low, high], sorted."""
    tidy = {_tidy(float(v)) for v in values}
    return sorted(v for v in tidy if v > 0 and low <= v <= high)


def _ratio_ticks(low: float, high: float) -> list[float]:
    """Readable ticks for a log axis spanning [low, high] (both > 0).

    Powers of 2 (0.25, 0.5, 1, 2, 4) when the range lies within 1/64..64 and spans at
    least a factor 4; 1-2-5 steps per decade for wide or far ranges; finer steps (0.8,
    1, 1.25, 1.5, 2) for narrow ones.
    """
    import numpy as np

    lo, hi = np.log2(low), np.log2(high)
    if hi - lo >= 2 and low >= 1 / 64 and high <= 64:
        return [float(2.0**e) for e in range(int(np.ceil(lo - 1e-9)), int(np.floor(hi + 1e-9)) + 1)]
    if hi - lo >= 2:
        steps = (1.0, 2.0, 5.0) if hi - lo < 10 else (1.0,)
    else:
        steps = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0)
    out = []
    for e in range(int(np.floor(np.log10(low))) - 1, int(np.ceil(np.log10(high))) + 1):
        out += [m * 10.0**e for m in steps if low <= m * 10.0**e <= high]
    out += [1.0 / t for t in list(out) if t > 1 and low <= 1 / t <= high and hi - lo < 2]
    out = _within(out, low, high)
    while len(out) > 9:
        out = out[::2]
    if len(out) < 3:  # a narrow range (e.g. 0.9 to 1.05): plain linear steps
        from matplotlib.ticker import MaxNLocator

        out = _within(MaxNLocator(nbins=4).tick_values(low, high), low, high)
    return out


def _log_ratio_axis(ax, which: str) -> None:
    """Make `which` ("x" or "y") of `ax` logarithmic with plain ratio tick labels."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

    axis = ax.xaxis if which == "x" else ax.yaxis
    getattr(ax, f"set_{which}scale")("log")
    low, high = getattr(ax, f"get_{which}lim")()
    ticks = _ratio_ticks(low, high)
    axis.set_major_locator(FixedLocator(ticks))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    axis.set_minor_locator(NullLocator())


def _check_drawing_args(**args: object) -> None:
    """Entry checks shared by the plots: texts, reference values, sizes, switches and colours.

    Keyword names say what is checked: ``xlabel``, ``title``, ``summary_label`` (str, or None
    where the plot has a default), ``refline``/``contour_centre`` (finite number; refline may
    be None), ``figsize`` (two positive finite numbers, or None), ``show_*`` (bool), ``color``
    (a matplotlib colour or None).
    """
    import math

    import numpy as np
    from matplotlib.colors import is_color_like

    for name, value in args.items():
        if name in ("xlabel", "title", "summary_label"):
            if value is not None and not isinstance(value, str):
                raise ValueError(f"`{name}` must be a string; got {value!r}.")
        elif name in ("refline", "contour_centre"):
            if value is None and name == "refline":
                continue
            if (isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating))
                    or not math.isfinite(float(value))):
                raise ValueError(f"`{name}` must be a finite number{' or None' if name == 'refline' else ''}; "
                                 f"got {value!r}.")
        elif name == "figsize":
            if value is None:
                continue
            try:
                w, h = (float(v) for v in value)
            except (TypeError, ValueError):
                raise ValueError(f"`figsize` must be (width, height) in inches; got {value!r}.") from None
            if not (math.isfinite(w) and math.isfinite(h) and w > 0 and h > 0):
                raise ValueError(f"`figsize` must be two positive finite numbers (inches); got {value!r}.")
        elif name.startswith("show_"):
            if not isinstance(value, bool):
                raise ValueError(f"`{name}` must be True or False; got {value!r}.")
        elif name == "color":
            if value is not None and not is_color_like(value):
                raise ValueError(f"`color` must be a matplotlib colour (a name such as 'C0' or 'black', "
                                 f"or '#rrggbb'); got {value!r}.")


# Offsets (points) of the forest plot's right-hand columns from the axes' edge.
_EST_PT, _WEIGHT_PT = 8.0, 160.0


def _fmt_ci(est: float, lo: float, hi: float, digits: int) -> str:
    # round first, then add 0.0, so that -0.0001 prints as 0.00, not -0.00
    est, lo, hi = (round(float(x), digits) + 0.0 for x in (est, lo, hi))
    return f"{est:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def forest_plot(
    result,
    labels=None,
    *,
    groups=None,
    subgroups=None,
    transform=None,
    xlabel: str | None = None,
    title: str | None = None,
    refline: float | str | None = "auto",
    show_weights: bool = True,
    show_prediction: bool = True,
    digits: int = 2,
    summary_label: str | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    r"""Forest plot: each study's effect with its CI and weight, the pooled diamond and the prediction interval.

    Study rows show :math:`y_i \pm z_{1-\alpha/2}\sqrt{v_i}` (normal-theory CIs, as
    metafor's ``forest``) with a square whose area is proportional to the
    study's model weight :math:`w_i = 1/(v_i + \hat\tau^2)` (shown in % of the
    total on the right). The summary diamond spans the pooled confidence interval
    of `result`; the bar through it is the prediction interval
    :math:`\hat\mu \pm c\sqrt{SE^2 + \hat\tau^2}` (Riley, Higgins & Deeks, 2011),
    the range in which the true effect of a new, comparable study is expected.
    With `groups`, studies are drawn in blocks, each closed by its subgroup
    diamond (from `subgroups`, else from :func:`analysis.meta.subgroup_analysis`
    with the same estimator, test and level as `result`); the weights stay
    those of the overall model.

    Drawing only: every number comes from the results objects (or the estimator
    named above). Written on matplotlib (no maintained Python forest plot takes
    these results objects).

    Parameters
    ----------
    result : analysis.meta.MetaResult
        An intercept-only fit from :func:`analysis.meta.meta_analysis`.
    labels : sequence of str, optional
        One label per study (default "Study 1" ... "Study k").
    groups : sequence, optional
        Subgroup label of each study; draws one block per subgroup (in sorted
        order, as :func:`~analysis.meta.subgroup_analysis`).
    subgroups : analysis.meta.SubgroupResult, optional
        Subgroup fits to draw (requires `groups`, the same labels).
    transform : {"z2r", "exp", "none", ...} or callable, optional
        Back-transformation of every x value (e.g. ``"z2r"`` draws Fisher z on
        the r scale), as :meth:`MetaResult.predict`. Log ratios are drawn on the
        ratio scale: with ``transform="exp"`` (or its aliases), or by default when
        the fit knows its measure is one (``meta_analysis(..., measure="OR")``;
        OR, RR, ROM), the x axis is logarithmic with ratio tick labels (e.g. 0.25,
        0.5, 1, 2, 4), the reference line sits at 1 and the "estimate [CI]" column
        shows ratios, as metafor's ``forest(..., atransf=exp)``. ``transform="none"``
        keeps the log scale.
    xlabel, title : str, optional
        Axis label (default "Effect size", or e.g. "Odds ratio (log scale)" on the
        ratio scale; say the scale and the direction) and optional title.
    refline : float, "auto" or None
        Vertical reference line ("no effect"), on the drawn scale: "auto" is 1 on the
        ratio scale and 0 otherwise; None for none. On the ratio scale it must be > 0.
    show_weights, show_prediction : bool
        Weight column; prediction-interval bar (random-effects models only).
    digits : int
        Decimals of the "estimate [CI]" column.
    summary_label : str, optional
        Label of the pooled row (default "RE model (<method>)" or "FE model").
    figsize : (float, float), optional
        Default: 7.5 inches wide, 0.28 inch per row.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If `result` is not an intercept-only MetaResult, `labels`/`groups` have
        the wrong length or missing values, `subgroups` is given without
        `groups` or does not match them, or `digits` is negative.

    References
    ----------
    Lewis, S., & Clarke, M. (2001). Forest plots: trying to see the wood and the
    trees. *BMJ, 322*, 1479-1480.
    Riley, R. D., Higgins, J. P. T., & Deeks, J. J. (2011). Interpretation of
    random effects meta-analyses. *BMJ, 342*, d549.

    Examples
    --------
    >>> from analysis.meta import meta_analysis
    >>> res = meta_analysis([0.2, 0.5, 0.1, 0.4], [0.02, 0.03, 0.01, 0.05])
    >>> fig = forest_plot(res, ["A", "B", "C", "D"], xlabel="Fisher z")
    >>> len([c for c in fig.axes[0].lines if c.get_gid() == "study-ci"])
    4
    >>> odds = meta_analysis([-0.9, -1.6, -0.2], [0.36, 0.21, 0.05], measure="OR")
    >>> ax = forest_plot(odds).axes[0]
    >>> ax.get_xscale(), [t.get_text() for t in ax.get_xticklabels()][:3]
    ('log', ['0.125', '0.25', '0.5'])
    """
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.patches import Polygon
    from matplotlib.transforms import blended_transform_factory
    from scipy import stats

    from analysis.meta import SubgroupResult, _transform, subgroup_analysis

    _check_drawing_args(xlabel=xlabel, title=title, summary_label=summary_label, figsize=figsize,
                        show_weights=show_weights, show_prediction=show_prediction,
                        # "auto" (the default) is resolved below, once the scale is known
                        **({} if isinstance(refline, str) else {"refline": refline}))
    res = _meta_result(result)
    k = res.k
    ratio, transform = _ratio_scale(transform, res)
    f = _transform(transform)
    if xlabel is None:
        xlabel = _ratio_label(res) if ratio else "Effect size"
    if isinstance(refline, str):
        if refline != "auto":
            raise ValueError(f"`refline` must be a number, 'auto' or None; got {refline!r}.")
        refline = 1.0 if ratio else 0.0
    if ratio and refline is not None and not refline > 0:
        raise ValueError(f"`refline` must be > 0 on the ratio (log) scale (no effect is 1); got {refline!r}.")
    if not isinstance(digits, (int, np.integer)) or isinstance(digits, bool) or digits < 0:
        raise ValueError(f"`digits` must be a non-negative integer, got {digits!r}.")
    labels = [f"Study {i + 1}" for i in range(k)] if labels is None else [str(x) for x in _per_study(labels, k, "labels")]
    if subgroups is not None and groups is None:
        raise ValueError("`subgroups` needs `groups` (the subgroup label of each study) to place the studies.")
    if subgroups is not None and not isinstance(subgroups, SubgroupResult):
        raise ValueError(f"`subgroups` must be a SubgroupResult, got {type(subgroups).__name__}.")

    z = float(stats.norm.ppf(0.5 + res.level / 2))
    y, v = np.asarray(res.yi, float), np.asarray(res.vi, float)
    lo, hi = y - z * np.sqrt(v), y + z * np.sqrt(v)
    if ratio:
        _check_exp_range("result", np.r_[lo, hi, res.pi_low, res.pi_high])
    weights = np.asarray(res.weights, float)

    # --- layout: a list of rows from the top: ("study", i) / ("header", g) / ("sub", g) / ("gap",) / ("summary",)
    rows: list[tuple] = []
    if groups is not None:
        g = _per_study(groups, k, "groups")
        missing = [i for i, x in enumerate(g) if x is None or (isinstance(x, float) and np.isnan(x))]
        if missing:
            raise ValueError(f"`groups` has missing labels at position{'s' if len(missing) > 1 else ''} "
                             f"{', '.join(map(str, missing[:5]))}.")
        g = [str(x) for x in g]
        levels = sorted(set(g))
        if subgroups is None:
            subgroups = subgroup_analysis(y, v, g, method=res.method, test=res.test, level=res.level)
        table = subgroups.table
        if sorted(map(str, table.index)) != levels:
            raise ValueError(f"`subgroups` has subgroups {list(map(str, table.index))} but `groups` has {levels}.")
        for lev in levels:
            rows.append(("header", lev))
            rows += [("study", i) for i in range(k) if g[i] == lev]
            rows.append(("sub", lev))
            rows.append(("gap",))
    else:
        rows += [("study", i) for i in range(k)]
        rows.append(("gap",))
    rows.append(("summary",))

    n = len(rows)
    ypos = {j: n - j for j in range(n)}  # top row highest
    if figsize is None:
        figsize = (8.0, max(2.5, 0.28 * n + 1.4))
    fig, ax = plt.subplots(figsize=figsize)
    colour, summary_colour = OKABE_ITO[0], "0.15"
    wmax = weights.max()
    right = blended_transform_factory(ax.transAxes, ax.transData)
    ticks, ticklabels = [], []

    def column(yc: float, text: str, offset_pt: float, ha: str, va: str = "center", **kw) -> None:
        # right-hand text columns, placed in points from the axes' right edge
        ax.annotate(text, xy=(1.0, yc), xycoords=right, xytext=(offset_pt, 0), textcoords="offset points",
                    ha=ha, va=va, fontsize=8, annotation_clip=False, **kw)

    def diamond(yc: float, est: float, a: float, b: float, gid: str, colour: str) -> None:
        pts = [(f(a), yc), (f(est), yc + 0.32), (f(b), yc), (f(est), yc - 0.32)]
        ax.add_patch(Polygon(np.asarray(pts, float), closed=True, facecolor=colour, edgecolor=colour, gid=gid,
                             zorder=3))

    for j, row in enumerate(rows):
        yc = ypos[j]
        if row[0] == "study":
            i = row[1]
            ax.plot([f(lo[i]), f(hi[i])], [yc, yc], color=colour, lw=1.0, gid="study-ci", zorder=2)
            size = 4 + 8 * np.sqrt(weights[i] / wmax)
            ax.plot([f(y[i])], [yc], marker="s", ms=size, color=colour, ls="none", gid="study-point", zorder=3)
            ticks.append(yc)
            ticklabels.append(labels[i])
            column(yc, _fmt_ci(float(f(y[i])), float(f(lo[i])), float(f(hi[i])), digits), _EST_PT, "left",
                   gid="estimate-text")
            if show_weights:
                column(yc, f"{weights[i]:.1f}%", _WEIGHT_PT, "right", gid="weight")
        elif row[0] == "header":
            ticks.append(yc)
            ticklabels.append(row[1])
        elif row[0] == "sub":
            t = subgroups.table.loc[[ix for ix in subgroups.table.index if str(ix) == row[1]][0]]
            diamond(yc, float(t["estimate"]), float(t["ci_low"]), float(t["ci_high"]), "subgroup-diamond",
                    OKABE_ITO[1])
            ticks.append(yc)
            ticklabels.append(f"Subgroup (k = {int(t['k'])})")
            column(yc, _fmt_ci(float(f(t["estimate"])), float(f(t["ci_low"])), float(f(t["ci_high"])), digits),
                   _EST_PT, "left")
        elif row[0] == "summary":
            diamond(yc, res.estimate, res.ci_low, res.ci_high, "summary-diamond", summary_colour)
            if show_prediction and res.method != "FE":
                ax.plot([f(res.pi_low), f(res.pi_high)], [yc, yc], color=summary_colour, lw=1.0, ls="-",
                        gid="prediction-interval", zorder=1)
                ax.plot([f(res.pi_low), f(res.pi_high)], [yc, yc], ls="none", marker="|", ms=8,
                        color=summary_colour, zorder=1)
            label = summary_label or ("FE model" if res.method == "FE" else f"RE model ({res.method})")
            ticks.append(yc)
            ticklabels.append(label)
            column(yc, _fmt_ci(float(f(res.estimate)), float(f(res.ci_low)), float(f(res.ci_high)), digits),
                   _EST_PT, "left", fontweight="bold")
            if show_weights:
                column(yc, f"{weights.sum():.0f}%", _WEIGHT_PT, "right", fontweight="bold")

    if refline is not None:
        ax.axvline(refline, color="0.4", ls="--", lw=0.8, zorder=0, gid="refline")
    if ratio:
        _log_ratio_axis(ax, "x")
    ax.set_yticks(ticks, ticklabels, fontsize=8)
    for tl, row in zip(ax.get_yticklabels(), [r for r in rows if r[0] != "gap"]):
        if row[0] in ("header", "summary"):
            tl.set_fontweight("bold")
    ax.set_ylim(0.3, n + 0.7)
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    top = n + 0.9
    column(top, f"Estimate [{int(round(res.level * 100))}% CI]", _EST_PT, "left", va="bottom", fontweight="bold")
    if show_weights:
        column(top, "Weight", _WEIGHT_PT, "right", va="bottom", fontweight="bold")
    note = f"k = {k}"
    if res.method != "FE":
        note += f"; τ² = {res.tau2:.4f}, I² = {res.i2:.1f}%"
        if show_prediction:
            note += f"; bar through the diamond: {int(round(res.level * 100))}% prediction interval"
    ax.set_title(title if title else "", loc="left", fontsize=11, pad=20)
    ax.annotate(note, xy=(0.0, 0.0), xycoords="axes fraction", xytext=(0, -46), textcoords="offset points",
                fontsize=7.5, color="0.3", va="top", ha="left")
    fig.tight_layout()
    margin_in = ((_WEIGHT_PT if show_weights else _EST_PT + 115) + 8) / 72.0
    fig.subplots_adjust(right=max(0.45, 1.0 - margin_in / figsize[0]))
    return fig


def funnel_plot(
    result,
    contours=(0.90, 0.95, 0.99),
    *,
    trimfill=None,
    xlabel: str = "Effect size",
    title: str | None = None,
    contour_centre: float = 0.0,
    figsize: tuple[float, float] = (7.6, 4.8),
) -> Figure:
    r"""Contour-enhanced funnel plot (Peters et al., 2008), optionally with trim-and-fill studies.

    Each study is a point at (:math:`y_i`, :math:`SE_i = \sqrt{v_i}`), the SE
    axis reversed so that precise studies are at the top. Shaded regions mark
    where a study would be statistically significant against `contour_centre`
    (0: no effect): for a two-sided level :math:`c`, the boundary is
    :math:`x = x_0 \pm z_{(1+c)/2}\,SE`; the region between the contours of
    successive levels is shaded darker for smaller p. Dashed lines are the
    pseudo-confidence region :math:`\hat\mu \pm z_{1-\alpha/2}\,SE` around the
    pooled estimate (at the result's level). Asymmetry *inside* the
    non-significant (white) region suggests something other than publication
    bias; missing studies *in* it are what selective publication would leave.
    With `trimfill`, the imputed studies are open circles and the adjusted
    estimate a dotted line.

    Drawing only; written on matplotlib.

    Parameters
    ----------
    result : analysis.meta.MetaResult
        An intercept-only fit (the observed studies).
    contours : sequence of float
        Two-sided significance levels of the contours, each in (0, 1), e.g.
        (0.90, 0.95, 0.99) for p = .10, .05, .01. Empty for a plain funnel.
    trimfill : analysis.meta_bias.TrimFillResult, optional
        Result of :func:`analysis.meta_bias.trim_and_fill` on `result`.
    xlabel, title : str
    contour_centre : float
        Where the significance contours are centred (0 = no effect).
    figsize : (float, float)

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If `result` is not an intercept-only MetaResult, a contour level is not
        in (0, 1) or repeated, or `trimfill` is not a TrimFillResult for k
        observed studies.

    References
    ----------
    Peters, J. L., Sutton, A. J., Jones, D. R., Abrams, K. R., & Rushton, L. (2008).
    Contour-enhanced meta-analysis funnel plots help distinguish publication bias
    from other causes of asymmetry. *Journal of Clinical Epidemiology, 61*, 991-996.
    Sterne, J. A. C., & Egger, M. (2001). Funnel plots for detecting bias in
    meta-analysis. *Journal of Clinical Epidemiology, 54*, 1046-1055.

    Examples
    --------
    >>> from analysis.meta import meta_analysis
    >>> res = meta_analysis([0.2, 0.5, 0.1, 0.4], [0.02, 0.03, 0.01, 0.05])
    >>> fig = funnel_plot(res, xlabel="Fisher z")
    >>> sorted(p.get_gid() for p in fig.axes[0].patches if p.get_gid())[:1]
    ['contour-0.90']
    """
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.patches import Patch, Polygon
    from scipy import stats

    from analysis.meta_bias import TrimFillResult

    _check_drawing_args(xlabel=xlabel, title=title, contour_centre=contour_centre, figsize=figsize)
    res = _meta_result(result)
    if isinstance(contours, (str, bytes)):
        raise ValueError("`contours` must be a sequence of levels in (0, 1), got a string.")
    try:
        levels = [float(c) for c in contours]
    except (TypeError, ValueError):
        raise ValueError(f"`contours` must be a sequence of numbers in (0, 1), got {contours!r}.") from None
    bad = [c for c in levels if not (0.0 < c < 1.0)]
    if bad:
        raise ValueError(f"`contours`: every level must lie strictly between 0 and 1; got {bad[0]!r}.")
    if len(set(levels)) != len(levels):
        raise ValueError(f"`contours` has a repeated level: {levels}.")
    levels = sorted(levels)
    if trimfill is not None:
        if not isinstance(trimfill, TrimFillResult):
            raise ValueError(f"`trimfill` must be a TrimFillResult, got {type(trimfill).__name__}.")
        if int((~np.asarray(trimfill.filled)).sum()) != res.k:
            raise ValueError(f"`trimfill` was computed on {int((~trimfill.filled).sum())} studies, "
                             f"but `result` has k = {res.k}.")
    if not np.isfinite(contour_centre):
        raise ValueError(f"`contour_centre` must be finite, got {contour_centre!r}.")

    se = np.sqrt(np.asarray(res.vi, float))
    yv = np.asarray(res.yi, float)
    all_se = se if trimfill is None else np.sqrt(np.asarray(trimfill.vi, float))
    se_max = float(all_se.max()) * 1.08
    fig, ax = plt.subplots(figsize=figsize)
    s_grid = np.array([0.0, se_max])
    x0 = float(contour_centre)

    # contours: from the outermost (most significant) inwards, so inner ones paint over
    zs = [float(stats.norm.ppf(0.5 + c / 2)) for c in levels]
    greys = np.linspace(0.90, 0.62, len(levels)) if levels else []
    handles = []
    outer = 1e6
    for c, zc, grey in zip(levels, zs, greys):
        # region where |y - x0| / SE > zc: two wedges outside the lines x0 +/- zc*SE
        for sgn in (-1, 1):
            pts = [(x0 + sgn * zc * 0.0, 0.0), (x0 + sgn * zc * se_max, se_max), (x0 + sgn * outer, se_max),
                   (x0 + sgn * outer, 0.0)]
            ax.add_patch(Polygon(np.asarray(pts), closed=True, facecolor=str(grey), edgecolor="none", zorder=0,
                                 gid=f"contour-{c:.2f}"))
        handles.append(Patch(facecolor=str(grey), label=f"p < {1 - c:.2f}".replace("0.", ".")))
    # paint the non-significant wedge of the lowest level white (axes background shows through)
    if levels:
        z_in = zs[0]
        ax.add_patch(Polygon(np.asarray([(x0, 0.0), (x0 - z_in * se_max, se_max), (x0 + z_in * se_max, se_max)]),
                             closed=True, facecolor="white", edgecolor="none", zorder=0, gid="non-significant"))
        handles.insert(0, Patch(facecolor="white", edgecolor="0.6", label=f"p > {1 - levels[0]:.2f}".replace("0.", ".")))
    # pseudo-CI around the estimate
    zc = float(stats.norm.ppf(0.5 + res.level / 2))
    est = res.estimate
    for sgn in (-1, 1):
        ax.plot(est + sgn * zc * s_grid, s_grid, color="0.25", ls="--", lw=0.9, gid="pseudo-ci", zorder=2)
    ax.axvline(est, color="0.25", lw=1.0, zorder=2, gid="estimate-line", label="pooled estimate")
    ax.scatter(yv, se, s=28, color=OKABE_ITO[0], edgecolor="white", linewidth=0.5, zorder=4, gid="studies",
               label=f"studies (k = {res.k})")
    if trimfill is not None and trimfill.k0 > 0:
        fill = np.asarray(trimfill.filled, bool)
        ax.scatter(np.asarray(trimfill.yi)[fill], np.sqrt(np.asarray(trimfill.vi)[fill]), s=28, facecolor="white",
                   edgecolor=OKABE_ITO[3], linewidth=1.2, zorder=4, gid="filled-studies",
                   label=f"imputed by trim-and-fill (k0 = {trimfill.k0})")
        ax.axvline(trimfill.estimate, color=OKABE_ITO[3], ls=":", lw=1.2, zorder=2, gid="trimfill-estimate",
                   label="adjusted estimate")
    pts_x = np.concatenate([yv, np.asarray(trimfill.yi) if trimfill is not None else yv,
                            [est - zc * se_max, est + zc * se_max, x0]])
    span = pts_x.max() - pts_x.min()
    ax.set_xlim(pts_x.min() - 0.08 * span, pts_x.max() + 0.08 * span)
    ax.set_ylim(se_max, 0.0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Standard error")
    ax.grid(False)
    ax.set_facecolor("white")
    leg1 = ax.legend(handles=handles, title="significance\nagainst %g" % x0, loc="upper left",
                     bbox_to_anchor=(1.02, 1.0), fontsize=8, title_fontsize=8, frameon=False) if handles else None
    if leg1 is not None:
        ax.add_artist(leg1)
    ax.plot([], [], color="0.25", ls="--", lw=0.9, label=f"{int(round(res.level * 100))}% pseudo-CI")
    ax.legend(loc="lower left", bbox_to_anchor=(1.02, 0.0), fontsize=8, frameon=False)
    if title:
        ax.set_title(title, loc="left", fontsize=11)
    fig.tight_layout()
    return fig


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


__all__.append("caterpillar_plot")


# --------------------------------------------------------------------------------------------
# bubble plot of a meta-regression (issue 16)
# --------------------------------------------------------------------------------------------
__all__.append("bubble_plot")


def bubble_plot(
    model,
    moderator,
    *,
    transform=None,
    labels=None,
    show_ci: bool = True,
    show_prediction: bool = False,
    refline: float | None = None,
    n_grid: int = 200,
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    r"""Bubble plot of a meta-regression: effects against one moderator, with the fitted line.

    One circle per study at (moderator value, :math:`y_i`) whose area is proportional
    to the study's model weight :math:`w_i = 1/(v_i + \hat\tau^2)`; the regression line
    :math:`\hat y(x) = x^\top\hat\beta` over the moderator's range with its confidence
    band :math:`\hat y \pm c\sqrt{x^\top \widehat{\mathrm{Var}}(\hat\beta)\,x}` (and, on
    request, the prediction band with :math:`+\hat\tau^2` under the root), from
    :meth:`analysis.meta.MetaResult.predict`. Other moderators are held at their means,
    as metafor's ``regplot`` (Viechtbauer 2010; Thompson & Higgins 2002 for the plot).
    Log-ratio measures are drawn on the ratio scale with a logarithmic y axis, as in
    :func:`forest_plot`.

    Drawing only: every number comes from the fit. Written on matplotlib.

    Parameters
    ----------
    model : analysis.meta.MetaResult
        A meta-regression from :func:`analysis.meta.meta_analysis` with ``mods``.
    moderator : str or int
        The moderator on the x axis: a coefficient name of ``model.coef_names`` (not the
        intercept) or its position in that list.
    transform : {"z2r", "exp", "none", ...} or callable, optional
        Back-transformation of the y values (as in :func:`forest_plot`).
    labels : sequence of str, optional
        Study labels written beside the circles.
    show_ci, show_prediction : bool
        Draw the confidence band (default) and the prediction band (off by default).
    refline : float, optional
        Horizontal reference line (e.g. 0, or 1 on the ratio scale).
    n_grid : int, default 200
        Points on which the line and bands are evaluated (>= 2).
    xlabel, ylabel, title : str, optional
        Axis labels (defaults: the moderator's name; "Effect size" or the ratio's name)
        and title.
    figsize : (float, float), optional
        Default (6.5, 4.5) inches.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If `model` is not a MetaResult with moderators, `moderator` is unknown (with the
        nearest name suggested), the intercept, or constant across studies, `labels` has
        the wrong length, `n_grid` < 2, or `refline` is not positive on a ratio axis.

    References
    ----------
    Thompson, S. G., & Higgins, J. P. T. (2002). How should meta-regression analyses be
    undertaken and interpreted? *Statistics in Medicine, 21*, 1559-1573.
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    *Journal of Statistical Software, 36*(3), 1-48.

    Examples
    --------
    >>> from analysis.meta import meta_analysis
    >>> res = meta_analysis([0.1, 0.3, 0.35, 0.6], [0.02, 0.03, 0.01, 0.04], mods=[[1], [2], [3], [4]])
    >>> fig = bubble_plot(res, "mod1")
    >>> [c.get_gid() for c in fig.axes[0].collections][:2]
    ['studies', 'ci-band']
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from analysis._checks import suggest_name
    from analysis.meta import MetaResult, _transform

    if not isinstance(model, MetaResult):
        raise ValueError(f"`model` must be a MetaResult from analysis.meta.meta_analysis, got {type(model).__name__}.")
    slopes = [i for i in range(model.p) if not (model.has_intercept and i == 0)]
    if model.p < 2 or not slopes:
        raise ValueError("`model` has no moderators; a bubble plot needs a meta-regression (meta_analysis with `mods`).")
    names = list(model.coef_names)
    if isinstance(moderator, (bool, np.bool_)) or not isinstance(moderator, (str, int, np.integer)):
        raise ValueError(f"`moderator` must be a coefficient name or position, got {type(moderator).__name__}.")
    if isinstance(moderator, str):
        if moderator not in names:
            raise ValueError(f"`moderator` {moderator!r} is not a coefficient of `model`.{suggest_name(moderator, names)} "
                             f"Its coefficients are: {', '.join(names)}.")
        j = names.index(moderator)
    else:
        j = int(moderator)
        if not 0 <= j < model.p:
            raise ValueError(f"`moderator` position {j} is out of range: `model` has {model.p} coefficients ({', '.join(names)}).")
    if j not in slopes:
        raise ValueError(f"`moderator` {names[j]!r} is the intercept; choose a moderator ({', '.join(names[i] for i in slopes)}).")
    if isinstance(n_grid, bool) or not isinstance(n_grid, (int, np.integer)) or n_grid < 2:
        raise ValueError(f"`n_grid` must be an integer >= 2, got {n_grid!r}.")
    x = np.asarray(model.X[:, j], float)
    if np.ptp(x) == 0:
        raise ValueError(f"`moderator` {names[j]!r} takes one value ({x[0]:g}) in every study; there is no line to draw.")
    k = model.k
    if labels is not None:
        labels = [str(v) for v in _per_study(labels, k, "labels")]
    ratio, transform = _ratio_scale(transform, model)
    f = _transform(transform)
    if ratio and refline is not None and not refline > 0:
        raise ValueError(f"`refline` must be > 0 on the ratio (log) scale (no effect is 1); got {refline!r}.")

    grid = np.linspace(x.min(), x.max(), int(n_grid))
    means = model.X.mean(axis=0)
    Xn = np.tile(means, (grid.size, 1))
    Xn[:, j] = grid
    if model.has_intercept:
        Xn = Xn[:, 1:]
    if ratio:
        raw = model.predict(newmods=Xn)
        _check_exp_range("model", np.r_[np.asarray(model.yi, float), raw.ci_low, raw.ci_high, raw.pi_low, raw.pi_high])
    pred = model.predict(newmods=Xn, transform=transform)

    fig, ax = plt.subplots(figsize=figsize or (6.5, 4.5))
    w = np.asarray(model.weights, float)
    y = np.asarray(f(np.asarray(model.yi, float)), float)
    ax.scatter(x, y, s=20 + 280 * w / w.max(), facecolor="none", edgecolor="0.2", lw=0.9, zorder=3, gid="studies")
    if show_ci:
        ax.fill_between(grid, pred.ci_low, pred.ci_high, color=OKABE_ITO[0], alpha=0.2, lw=0, zorder=1, gid="ci-band")
    if show_prediction:
        ax.plot(grid, pred.pi_low, color=OKABE_ITO[0], ls=":", lw=1.0, zorder=1, gid="pi-band")
        ax.plot(grid, pred.pi_high, color=OKABE_ITO[0], ls=":", lw=1.0, zorder=1)
    ax.plot(grid, pred.pred, color=OKABE_ITO[0], lw=1.6, zorder=2, gid="regression-line")
    if refline is not None:
        ax.axhline(refline, color="0.4", ls="--", lw=0.8, zorder=0, gid="refline")
    if labels is not None:
        for xi, yi, lab in zip(x, y, labels):
            ax.annotate(lab, (xi, yi), xytext=(4, 4), textcoords="offset points", fontsize=7, color="0.3")
    if ratio:
        _log_ratio_axis(ax, "y")
    ax.set_xlabel(xlabel if xlabel is not None else names[j])
    ax.set_ylabel(ylabel if ylabel is not None else (_ratio_label(model) if ratio else "Effect size"))
    note = f"k = {k}; circle area ∝ weight"
    if show_ci:
        note += f"; band: {int(round(model.level * 100))}% CI"
    if model.p > 2:
        note += "; other moderators at their means"
    ax.set_title(title if title else "", loc="left", fontsize=11)
    ax.annotate(note, xy=(0.0, 0.0), xycoords="axes fraction", xytext=(0, -34), textcoords="offset points",
                fontsize=7.5, color="0.3", va="top", ha="left")
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------------
# Lesson figures of notebooks 00, 01, 02 and 08 (plotting that is not the point of the lesson).
# Each block adds its names to __all__ below itself, so that blocks merge without conflict.
# ---------------------------------------------------------------------------------------------
# (block A: notebooks 00, 01, 02, 08)


_ONE_SCALE_COLUMNS = ("element", "side", "measure", "status", "r_estimate", "r_ci_low", "r_ci_high",
                      "pct_variance")


def one_scale_plot(rows, *, title: str | None = None, figsize: tuple[float, float] = (11, 7.8)) -> Figure:
    r"""Published results on one scale: r with its CI (d on a top axis) and signed % of variance.

    The headline figure of notebook 01. Left panel: each row's correlation ``r_estimate`` with its
    95% CI where one is given (a circle for results published as r, a diamond for results published
    as d or g and converted with :func:`analysis.effect_sizes.d_to_r`), coloured by ``side``
    (relationship or technique); rows whose ``status`` is not ``"checked"`` are drawn open and grey.
    A top axis shows the same effect as Cohen's d, :math:`d = 2r/\sqrt{1-r^2}` (equal group sizes).
    Right panel: the signed share of outcome variance, ``pct_variance`` (:math:`100\,r^2` with the
    sign of r). The first row is drawn at the top. Written by hand (a layout, no estimate).

    Parameters
    ----------
    rows : pandas.DataFrame
        One row per result with the columns ``element`` (label), ``side`` (``"relationship"`` or
        ``"technique"``), ``measure`` (``"r"``, ``"d"`` or ``"g"``: as published), ``status``
        (``"checked"`` or not), ``r_estimate``, ``r_ci_low``, ``r_ci_high`` (NaN where the source
        prints no interval) and ``pct_variance``.
    title : str, optional
        Figure title.
    figsize : tuple of float
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If `rows` is not a non-empty DataFrame, lacks a column (the message suggests the nearest
        name), has a ``side`` other than the two above, or a non-finite ``r_estimate`` or
        ``pct_variance`` or an :math:`|r| \geq 1` (index labels named).

    Examples
    --------
    >>> import pandas as pd, matplotlib.pyplot as plt
    >>> rows = pd.DataFrame({"element": ["Empathy", "Adherence"], "side": ["relationship", "technique"],
    ...                      "measure": ["r", "r"], "status": ["checked", "checked"],
    ...                      "r_estimate": [0.28, 0.02], "r_ci_low": [0.23, float("nan")],
    ...                      "r_ci_high": [0.33, float("nan")], "pct_variance": [7.84, 0.04]})
    >>> fig = one_scale_plot(rows, title="Two results")
    >>> fig.axes[0].get_xlabel()
    'correlation with outcome, r (95% CI)'
    >>> plt.close(fig)
    """
    import numpy as np
    import pandas as pd
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from analysis import effect_sizes
    from analysis._checks import check_columns, check_dataframe, describe_labels

    rows = check_dataframe("rows", rows)
    check_columns(rows, list(_ONE_SCALE_COLUMNS), argument="rows")
    bad_side = ~rows["side"].isin(["relationship", "technique"])
    if bad_side.any():
        raise ValueError(f"`rows` column 'side' must be 'relationship' or 'technique'; "
                         f"{describe_labels(rows.index[bad_side])} are not.")
    values = {}
    for col in ("r_estimate", "r_ci_low", "r_ci_high", "pct_variance"):
        try:
            values[col] = pd.to_numeric(rows[col], errors="raise").to_numpy(float)
        except (TypeError, ValueError):
            raise ValueError(f"`rows` column {col!r} must hold numbers.") from None
    for col in ("r_estimate", "pct_variance"):
        bad = ~np.isfinite(values[col])
        if bad.any():
            raise ValueError(f"`rows` column {col!r} must be finite; {describe_labels(rows.index[bad])} are not.")
    for col in ("r_estimate", "r_ci_low", "r_ci_high"):
        with np.errstate(invalid="ignore"):
            bad = np.abs(values[col]) >= 1
        if bad.any():
            raise ValueError(f"`rows` column {col!r} must be a correlation between -1 and 1; "
                             f"{describe_labels(rows.index[bad])} are not.")

    n = len(rows)
    order = np.arange(n)[::-1]  # first row at the top
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=figsize, sharey=True, gridspec_kw={"width_ratios": [3, 1.3]})
    colours = {"relationship": OKABE_ITO[0], "technique": OKABE_ITO[3]}
    for i in range(n):
        y = order[i]
        c = colours[rows["side"].iloc[i]]
        unchecked = rows["status"].iloc[i] != "checked"
        lo, hi = values["r_ci_low"][i], values["r_ci_high"][i]
        if np.isfinite(lo) and np.isfinite(hi):
            ax.plot([lo, hi], [y, y], color="0.6" if unchecked else c, lw=1.6)
        ax.plot(values["r_estimate"][i], y, marker="D" if rows["measure"].iloc[i] != "r" else "o", ms=7,
                color="0.6" if unchecked else c, mfc="white" if unchecked else c, mew=1.5)
        ax2.barh(y, values["pct_variance"][i], color="white" if unchecked else c,
                 edgecolor="0.6" if unchecked else c, height=0.6, hatch="///" if unchecked else None)
    labels = [f"{e}{' (unchecked)' if s != 'checked' else ''}  [{m}]"
              for e, s, m in zip(rows["element"], rows["status"], rows["measure"])]
    ax.set_yticks(order, labels, fontsize=8.5)
    ax.axvline(0, color="0.3", lw=0.8, ls="--")
    ax.set_xlabel("correlation with outcome, r (95% CI)")
    finite = np.concatenate([v[np.isfinite(v)] for k, v in values.items() if k != "pct_variance"])
    ax.set_xlim(-0.2 if finite.min() >= -0.2 else finite.min() - 0.05,
                0.65 if finite.max() <= 0.65 else finite.max() + 0.05)

    def _r2d(r):  # matplotlib passes arrays of any shape; the converters take 1-D input
        r = np.asarray(r, float)
        return np.reshape(effect_sizes.r_to_d(np.clip(r.ravel(), -0.99, 0.99)), r.shape)

    def _d2r(d):
        d = np.asarray(d, float)
        return np.reshape(effect_sizes.d_to_r(d.ravel()), d.shape)

    top = ax.secondary_xaxis("top", functions=(_r2d, _d2r))
    top.set_xlabel("same effect as Cohen's d (equal group sizes assumed)")
    ax2.axvline(0, color="0.3", lw=0.8)
    ax2.set_xlabel("% of outcome variance\n(100 r², signed)")
    for a in (ax, ax2):
        a.grid(axis="y", visible=False)
    sides = list(rows["side"])
    for i in range(1, n):  # a thin line where the side changes
        if sides[i] != sides[i - 1]:
            ax.axhline(order[i] + 0.5, color="0.75", lw=0.8)
    ax.legend(handles=[Line2D([], [], color=colours["relationship"], marker="o", ls="-", label="relationship element"),
                       Line2D([], [], color=colours["technique"], marker="o", ls="-", label="technique"),
                       Line2D([], [], color="0.3", marker="D", ls="none", label="published as d or g, converted to r"),
                       Line2D([], [], color="0.6", marker="o", mfc="white", ls="-", label="not read in a source")],
              loc="lower right", fontsize=8, frameon=True)
    if title:
        fig.suptitle(title, fontsize=12, fontweight="bold", x=0.02, ha="left")
    fig.tight_layout()
    return fig


def tolerance_plot(rows, *, title: str | None = None, clip: float = 3.0,
                   figsize: tuple[float, float] = (7, 3.2)) -> Figure:
    r"""Each printed number's difference from ours, in units of its tolerance, by section.

    Notebook 08's summary figure: for every compared number the scaled difference
    :math:`(\text{ours} - \text{printed}) / \text{tolerance}` (0 when the tolerance is 0, i.e. a
    count, which passes only when equal), clipped at ``±clip``; dashed lines at ±1 (inside passes).
    Points are green when ``status`` is ``"pass"``, red otherwise, one row of points per section
    (in order of first appearance). Written by hand (a layout, no estimate).

    Parameters
    ----------
    rows : pandas.DataFrame
        Columns ``section``, ``printed`` (the printed text or number), ``ours``, ``tolerance``
        (>= 0) and ``status``.
    title : str, optional
        Axes title; default ``"<n> printed numbers re-run on their data"``.
    clip : float
        Largest absolute scaled difference drawn (> 0).
    figsize : tuple of float
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If `rows` is not a non-empty DataFrame, lacks a column, has a non-numeric or non-finite
        ``printed`` or ``ours``, a negative or non-finite ``tolerance`` (index labels named), or
        `clip` is not a positive number.

    Examples
    --------
    >>> import pandas as pd, matplotlib.pyplot as plt
    >>> rows = pd.DataFrame({"section": ["A", "A", "B"], "printed": ["0.62", "12", "-0.5429"],
    ...                      "ours": [0.6231, 12, -0.5430], "tolerance": [0.005, 0, 5e-5],
    ...                      "status": ["pass", "pass", "FAIL"]})
    >>> fig = tolerance_plot(rows)
    >>> fig.axes[0].get_title()
    '3 printed numbers re-run on their data'
    >>> plt.close(fig)
    """
    import numpy as np
    import pandas as pd
    import matplotlib.pyplot as plt

    from analysis._checks import check_columns, check_dataframe, describe_labels

    rows = check_dataframe("rows", rows)
    check_columns(rows, ["section", "printed", "ours", "tolerance", "status"], argument="rows")
    if isinstance(clip, bool) or not isinstance(clip, (int, float, np.number)) or not (np.isfinite(clip) and clip > 0):
        raise ValueError(f"`clip` must be a positive number, got {clip!r}.")
    nums = {}
    for col in ("printed", "ours", "tolerance"):
        nums[col] = pd.to_numeric(rows[col], errors="coerce").to_numpy(float)
        bad = ~np.isfinite(nums[col])
        if bad.any():
            raise ValueError(f"`rows` column {col!r} must hold finite numbers; "
                             f"{describe_labels(rows.index[bad])} do not.")
    bad = nums["tolerance"] < 0
    if bad.any():
        raise ValueError(f"`rows` column 'tolerance' must be >= 0; {describe_labels(rows.index[bad])} are negative.")
    tol = nums["tolerance"]
    scaled = np.divide(nums["ours"] - nums["printed"], tol, out=np.zeros(len(rows)), where=tol > 0)
    scaled = np.clip(scaled, -clip, clip)
    fig, ax = plt.subplots(figsize=figsize)
    sections = list(dict.fromkeys(rows["section"]))
    status = rows["status"].to_numpy()
    section_of = rows["section"].to_numpy()
    for k, section in enumerate(sections):
        mask = section_of == section
        y = np.full(int(mask.sum()), k) + np.linspace(-0.25, 0.25, int(mask.sum()))
        ax.scatter(scaled[mask], y, s=12, c=np.where(status[mask] == "pass", "#1a7f37", "#b42318"))
    ax.axvline(-1, color="grey", lw=0.8, ls="--")
    ax.axvline(1, color="grey", lw=0.8, ls="--")
    ax.set_yticks(range(len(sections)), sections)
    ax.set_xlabel(f"(ours − printed) / tolerance   (|·| ≤ 1 passes; clipped at ±{clip:g})")
    ax.set_title(title if title is not None else f"{len(rows)} printed numbers re-run on their data")
    fig.tight_layout()
    return fig


def _interval_columns(table, columns, argument):
    """Numeric columns of a lesson-figure table: finite estimates, bounds finite or NaN, low <= high."""
    import numpy as np
    import pandas as pd

    from analysis._checks import describe_labels

    out = {}
    for role, col in columns.items():
        try:
            out[role] = pd.to_numeric(table[col], errors="raise").to_numpy(float)
        except (TypeError, ValueError):
            raise ValueError(f"`{argument}` column {col!r} must hold numbers.") from None
        bad = np.isinf(out[role]) | (np.isnan(out[role]) if role == "est" else False)
        if np.any(bad):
            raise ValueError(f"`{argument}` column {col!r} must be finite; {describe_labels(table.index[bad])} are not.")
    if "lo" in out and "hi" in out:
        with np.errstate(invalid="ignore"):
            bad = (out["lo"] > out["est"]) | (out["hi"] < out["est"])
        if np.any(bad):
            raise ValueError(f"`{argument}`: the interval must contain the estimate "
                             f"({columns['lo']} <= {columns['est']} <= {columns['hi']}); "
                             f"{describe_labels(table.index[bad])} do not.")
    return out


def interval_plot(table, *, estimate: str = "estimate", ci_low: str = "ci_low", ci_high: str = "ci_high",
                  n: str | None = None, highlight=None, highlight_label: str | None = None,
                  refline: float | None = None, refline_label: str | None = None, r_axis: bool = False,
                  xlabel: str = "Hedges' g vs control (CHE model, CR2 95% CI)", title: str | None = None,
                  colour: int = 0, figsize: tuple[float, float] = (7, 4.4)) -> Figure:
    r"""Estimates with their confidence intervals, one row per label (first row at the top).

    Notebook 02's figures of therapy-type and format means. Each row of `table` is drawn as a dot
    with its interval; the y labels are the table's index (with ``"(<n> trials)"`` when `n` names a
    count column). Optionally one row is highlighted, a dashed reference line drawn (e.g. the mean
    over all rows) and a top axis added that shows the same standardized difference as r,
    :math:`r = g/\sqrt{g^2 + 4}` (equal group sizes). Written by hand (a layout, no estimate).

    Parameters
    ----------
    table : pandas.DataFrame
        One row per estimate, indexed by its label.
    estimate, ci_low, ci_high : str
        Columns of the estimate and its interval bounds (bounds may be NaN: no interval drawn).
    n : str, optional
        Column with the number of trials behind each row, shown in the label.
    highlight : label, optional
        Index label of a row drawn larger in another colour, with `highlight_label` in the legend.
    highlight_label : str, optional
        Legend text of the highlighted row.
    refline : float, optional
        x position of a dashed reference line, with `refline_label` in the legend.
    refline_label : str, optional
        Legend text of the reference line.
    r_axis : bool
        Add a top axis in r units.
    xlabel, title : str
        Axis label and title.
    colour : int
        Index into :data:`OKABE_ITO` of the dots.
    figsize : tuple of float
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If `table` is not a non-empty DataFrame, a named column is missing (with a suggestion),
        holds non-numbers, an estimate is missing or infinite, an interval does not contain its
        estimate (index labels named), `highlight` is not an index label, or `colour` is not an
        index of the palette.

    Examples
    --------
    >>> import pandas as pd, matplotlib.pyplot as plt
    >>> means = pd.DataFrame({"estimate": [0.76, 0.61], "ci_low": [0.70, 0.35], "ci_high": [0.82, 0.87],
    ...                       "trials": [250, 15]}, index=["cbt", "sup"])
    >>> fig = interval_plot(means, n="trials", highlight="sup", highlight_label="supportive counselling")
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['cbt (250 trials)', 'sup (15 trials)']
    >>> plt.close(fig)
    """
    import numpy as np
    import matplotlib.pyplot as plt

    from analysis import effect_sizes
    from analysis._checks import check_columns, check_dataframe, suggest_name

    table = check_dataframe("table", table)
    check_columns(table, {"estimate": estimate, "ci_low": ci_low, "ci_high": ci_high, "n": n}, argument="table")
    vals = _interval_columns(table, {"est": estimate, "lo": ci_low, "hi": ci_high}, "table")
    if highlight is not None and highlight not in table.index:
        raise ValueError(f"`highlight` {highlight!r} is not an index label of `table`.{suggest_name(highlight, table.index)}")
    if isinstance(colour, bool) or not isinstance(colour, (int, np.integer)) or not 0 <= colour < len(OKABE_ITO):
        raise ValueError(f"`colour` must be an index of OKABE_ITO (0 to {len(OKABE_ITO) - 1}), got {colour!r}.")
    k = len(table)
    y = np.arange(k)[::-1]  # first row at the top
    fig, ax = plt.subplots(figsize=figsize)
    est, lo, hi = vals["est"], vals["lo"], vals["hi"]
    xerr = np.vstack([np.where(np.isfinite(lo), est - lo, 0.0), np.where(np.isfinite(hi), hi - est, 0.0)])
    ax.errorbar(est, y, xerr=xerr, fmt="o", color=OKABE_ITO[colour], capsize=2)
    if highlight is not None:
        i = list(table.index).index(highlight)
        ax.plot(est[i], y[i], "o", color=OKABE_ITO[5 if colour != 5 else 1], ms=9, label=highlight_label)
    if refline is not None:
        ax.axvline(float(refline), ls="--", color="grey", lw=1, label=refline_label)
    labels = [str(i) for i in table.index]
    if n is not None:
        labels = [f"{lab} ({int(c)} trials)" for lab, c in zip(labels, table[n])]
    ax.set_yticks(y, labels)
    ax.set_xlabel(xlabel)
    if r_axis:
        def _g2r(g):
            g = np.asarray(g, float)
            return np.reshape(effect_sizes.d_to_r(g.ravel()), g.shape)

        def _r2g(r):
            r = np.asarray(r, float)
            return np.reshape(effect_sizes.r_to_d(np.clip(r.ravel(), -0.99, 0.99)), r.shape)

        ax.secondary_xaxis("top", functions=(_g2r, _r2g)).set_xlabel("r")
    if title:
        ax.set_title(title, fontsize=10)
    if (highlight is not None and highlight_label) or (refline is not None and refline_label):
        ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def r_scale_plot(contrasts, published, *, title: str = ("Technique (light blue), therapist contact (orange), "
                                                         "relationship elements (dark blue)"),
                 figsize: tuple[float, float] = (8, 8)) -> Figure:
    r"""Our contrasts and the published results on one r scale (notebook 02's comparison figure).

    From the top: our contrasts (squares with their 95% CI; light blue when ``group`` starts with
    ``"technique"``, orange otherwise), then the published technique results (diamonds), then the
    published relationship elements (dots with their CI where one is printed). Standardized
    differences must already be on the r scale (:func:`analysis.effect_sizes.d_to_r`). Written by
    hand (a layout, no estimate).

    Parameters
    ----------
    contrasts : pandas.DataFrame
        Columns ``label``, ``group``, ``r``, ``r_lo``, ``r_hi``.
    published : pandas.DataFrame
        Published rows measured as r: columns ``element``, ``side`` (``"relationship"`` or
        ``"technique"``), ``estimate``, ``ci_low``, ``ci_high`` (NaN where no CI is printed).
    title : str
        Axes title.
    figsize : tuple of float
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If either table is not a DataFrame (`contrasts` must have a row; `published` may be empty),
        lacks a column (with a suggestion), holds non-numbers or non-finite estimates, an interval
        that does not contain its estimate, an r outside (-1, 1), or a ``side`` other than the two
        above (index labels named).

    Examples
    --------
    >>> import pandas as pd, matplotlib.pyplot as plt
    >>> ours = pd.DataFrame({"label": ["group vs individual"], "group": ["therapist contact"],
    ...                      "r": [-0.05], "r_lo": [-0.1], "r_hi": [0.0]})
    >>> pub = pd.DataFrame({"element": ["Empathy", "Adherence"], "side": ["relationship", "technique"],
    ...                     "estimate": [0.28, 0.02], "ci_low": [0.23, None], "ci_high": [0.33, None]})
    >>> fig = r_scale_plot(ours, pub)
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['group vs individual', 'Adherence (published)', 'Empathy (published)']
    >>> plt.close(fig)
    """
    import numpy as np
    import matplotlib.pyplot as plt

    from analysis._checks import check_columns, check_dataframe, describe_labels

    contrasts = check_dataframe("contrasts", contrasts)
    published = check_dataframe("published", published, min_rows=0)
    check_columns(contrasts, ["label", "group", "r", "r_lo", "r_hi"], argument="contrasts")
    check_columns(published, ["element", "side", "estimate", "ci_low", "ci_high"], argument="published")
    ours = _interval_columns(contrasts, {"est": "r", "lo": "r_lo", "hi": "r_hi"}, "contrasts")
    pub = _interval_columns(published, {"est": "estimate", "lo": "ci_low", "hi": "ci_high"}, "published")
    for name, frame, vals in (("contrasts", contrasts, ours), ("published", published, pub)):
        with np.errstate(invalid="ignore"):
            bad = np.any([np.abs(v) >= 1 for v in vals.values()], axis=0)
        if np.any(bad):
            raise ValueError(f"`{name}` holds correlations outside (-1, 1); {describe_labels(frame.index[bad])}.")
    bad_side = ~published["side"].isin(["relationship", "technique"]).to_numpy()
    if bad_side.any():
        raise ValueError(f"`published` column 'side' must be 'relationship' or 'technique'; "
                         f"{describe_labels(published.index[bad_side])} are not.")
    fig, ax = plt.subplots(figsize=figsize)
    labels = []
    yv = 0
    for i in range(len(contrasts)):
        col = OKABE_ITO[5] if str(contrasts["group"].iloc[i]).startswith("technique") else OKABE_ITO[1]
        r, lo, hi = ours["est"][i], ours["lo"][i], ours["hi"][i]
        ax.errorbar(r, yv, xerr=[[r - lo if np.isfinite(lo) else 0.0], [hi - r if np.isfinite(hi) else 0.0]],
                    fmt="s", color=col, capsize=2)
        labels.append(str(contrasts["label"].iloc[i]))
        yv += 1
    sides = published["side"].to_numpy()
    for i in np.flatnonzero(sides == "technique"):
        ax.plot(pub["est"][i], yv, "D", color=OKABE_ITO[5])
        labels.append(f"{published['element'].iloc[i]} (published)")
        yv += 1
    for i in np.flatnonzero(sides == "relationship"):
        r = pub["est"][i]
        lo = pub["lo"][i] if np.isfinite(pub["lo"][i]) else r
        hi = pub["hi"][i] if np.isfinite(pub["hi"][i]) else r
        ax.errorbar(r, yv, xerr=[[r - lo], [hi - r]], fmt="o", color=OKABE_ITO[0], capsize=2)
        labels.append(f"{published['element'].iloc[i]} (published)")
        yv += 1
    ax.set_yticks(range(yv), labels, fontsize=8)
    ax.axvline(0, color="grey", lw=1)
    ax.set_xlabel("r (g converted with r = g / sqrt(g\u00b2 + 4))")
    ax.set_title(title, fontsize=9)
    ax.invert_yaxis()
    return fig


__all__ += ["one_scale_plot", "tolerance_plot", "interval_plot", "r_scale_plot"]




# ---------------------------------------------------------------------------------------------
# Lesson figures of notebooks 03, 04, 05 and 06.
# ---------------------------------------------------------------------------------------------
# (block B: notebooks 03, 04, 05, 06)
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


__all__ += ["mixed_model_diagnostics"]


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


__all__ += ["jacobson_truax_plot"]


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


__all__ += ["within_between_plot"]


def factor_models_plot(comparison, *, item_order=None, truth=None, item_groups=None,
                       title_loadings: str = "Standardised loadings", rmsea_line: float = 0.06) -> Figure:
    """Loadings of competing factor models side by side, and their RMSEA with 90% CI, CFI and SRMR.

    Left: one bar per item and model (for a bifactor model, the loadings on its general factor),
    with optional generating loadings as black marks. Right: each model's RMSEA with its 90%
    interval, annotated with CFI and SRMR, and a reference line (default .06, Hu & Bentler 1999).

    Parameters
    ----------
    comparison : FactorModelComparison
        From :func:`analysis.psychometrics.compare_factor_models` (anything with ``models``, a dict of
        fitted CFA results with ``loadings`` and ``general``, and ``table`` with ``rmsea``,
        ``rmsea_lower``, ``rmsea_upper``, ``cfi``, ``srmr``).
    item_order : sequence of str, optional
        Items in the order to draw (default: as in the first model's loadings).
    truth : mapping or Series, optional
        Generating loading per item (simulation only).
    item_groups : mapping, optional
        Item -> subscale name, printed under the item.
    title_loadings : str
        Title of the left panel.
    rmsea_line : float
        Reference line on the RMSEA axis.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        `comparison` lacks ``models`` or ``table`` (or the table its fit columns); `item_order`
        names an item no model has; `rmsea_line` is not a number in (0, 1).

    References
    ----------
    Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes in covariance structure
    analysis. *Structural Equation Modeling, 6*(1), 1--55.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from analysis import psychometrics
    >>> from analysis.simulate import simulate_wai_sr_items
    >>> items = simulate_wai_sr_items(300, seed=2).items.astype(float)
    >>> comparison = psychometrics.compare_factor_models(items, psychometrics.wai_sr_key())
    >>> fig = factor_models_plot(comparison)
    >>> len(fig.axes)
    2
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    models = getattr(comparison, "models", None)
    table = getattr(comparison, "table", None)
    if not isinstance(models, dict) or not models or not isinstance(table, pd.DataFrame):
        raise ValueError("`comparison` must be a FactorModelComparison (from "
                         f"analysis.psychometrics.compare_factor_models); got {type(comparison).__name__}.")
    need = ["rmsea", "rmsea_lower", "rmsea_upper", "cfi", "srmr"]
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise ValueError(f"`comparison.table` lacks the fit columns {missing}.")
    if isinstance(rmsea_line, bool) or not isinstance(rmsea_line, (int, float)) or not 0 < rmsea_line < 1:
        raise ValueError(f"`rmsea_line` must be a number in (0, 1); got {rmsea_line!r}.")
    first = next(iter(models.values())).loadings
    order = list(dict.fromkeys(first["item"])) if item_order is None else list(item_order)
    known = set(first["item"])
    unknown = [it for it in order if it not in known]
    if unknown:
        raise ValueError(f"`item_order` names items the models do not have: {unknown}.")

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), gridspec_kw={"width_ratios": [1.5, 1]})
    x = np.arange(len(order))
    width = 0.8 / len(models)
    for k, (name, res) in enumerate(models.items()):
        ld = res.loadings
        label = name
        if getattr(res, "general", None) is not None:
            ld = ld[ld["factor"] == res.general]
            label = f"{name} (general factor)"
        std = ld.groupby("item")["std"].first().reindex(order)
        axes[0].bar(x + (k - (len(models) - 1) / 2) * width, std, width, color=OKABE_ITO[k % len(OKABE_ITO)],
                    label=label)
    if truth is not None:
        axes[0].plot(x, pd.Series(truth).reindex(order), "k_", markersize=14, mew=2,
                     label="generating loading (latent)")
    ticks = [f"{it}\n{item_groups[it]}" if item_groups is not None and it in item_groups else str(it) for it in order]
    axes[0].set_xticks(x, ticks, fontsize=8)
    axes[0].set_ylabel("standardised loading")
    axes[0].set_ylim(0, 1.2)
    axes[0].legend(fontsize=8, loc="upper center", ncol=2)
    axes[0].set_title(title_loadings)
    tab = table
    axes[1].errorbar(tab["rmsea"], np.arange(len(tab)),
                     xerr=[tab["rmsea"] - tab["rmsea_lower"], tab["rmsea_upper"] - tab["rmsea"]],
                     fmt="o", color="k", capsize=4)
    for i, (_, r) in enumerate(tab.iterrows()):
        axes[1].annotate(f"CFI {r['cfi']:.3f}, SRMR {r['srmr']:.3f}", (r["rmsea_upper"], i),
                         xytext=(6, 0), textcoords="offset points", va="center", fontsize=8)
    axes[1].axvline(rmsea_line, ls="--", color="grey", lw=1)
    axes[1].set_yticks(np.arange(len(tab)), [str(i) for i in tab.index])
    axes[1].set_xlabel(f"RMSEA with 90% CI (dashed: {rmsea_line:g})")
    axes[1].set_xlim(0, max(0.15, float(tab["rmsea_upper"].max()) * 1.8))
    axes[1].invert_yaxis()
    axes[1].set_title("Model fit")
    fig.tight_layout()
    return fig


__all__ += ["factor_models_plot"]


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


__all__ += ["sudden_gains_plot", "rupture_episodes_plot"]


def qq_plot(values, ax=None, *, title: str | None = None, xlabel: str = "normal quantile",
            ylabel: str = "standardised value") -> Figure:
    r"""Normal QQ plot of standardised values against normal quantiles, with the identity line.

    The values are standardised by their own mean and SD, :math:`z_{(i)} = (v_{(i)} - \bar v)/s`,
    sorted, and plotted against :math:`\Phi^{-1}((i - 0.5)/n)`; points on the dashed identity line
    mean normality, bent tails or a staircase (rounded scores) show where it fails
    (Wilk & Gnanadesikan 1968). Used for residuals and random effects of mixed models.

    Parameters
    ----------
    values : array-like of float
        At least three finite values that are not all equal.
    ax : matplotlib Axes, optional
        Where to draw; default: a new figure.
    title, xlabel, ylabel : str
        Labels.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        `values` is not numeric, has fewer than three values, missing or infinite values (naming
        their positions), or no spread.

    References
    ----------
    Wilk, M. B., & Gnanadesikan, R. (1968). Probability plotting methods for the analysis of data.
    *Biometrika, 55*(1), 1--17.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> fig = qq_plot(np.random.default_rng(1).normal(size=50), title="normal sample")
    >>> len(fig.axes[0].lines)
    2
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt
    import numpy as np
    from scipy import stats

    try:
        v = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ValueError(f"`values` must be numbers; got {type(values).__name__}.") from None
    if v.size < 3:
        raise ValueError(f"`values` needs at least 3 values for a QQ plot; got {v.size}.")
    bad = np.flatnonzero(~np.isfinite(v))
    if bad.size:
        raise ValueError(f"`values` has missing or infinite values at positions {bad[:10].tolist()}.")
    top = float(np.max(np.abs(v)))
    w = v / top if top > 0 else v  # scaled first, so that 1e-300 or 1e300 neither underflow nor overflow
    sd = float(np.std(w, ddof=1))
    if not sd > 0:
        raise ValueError("`values` has no spread (all values equal): nothing to compare with a normal distribution.")
    z = np.sort((w - w.mean()) / sd)
    q = stats.norm.ppf((np.arange(1, z.size + 1) - 0.5) / z.size)
    if ax is None:
        fig, ax = plt.subplots(figsize=(4.6, 3.8))
    else:
        fig = ax.figure
    ax.plot(q, z, "o", ms=2.5, alpha=0.5, color=OKABE_ITO[0])
    lim = [min(q.min(), z.min()), max(q.max(), z.max())]
    ax.plot(lim, lim, color="0.3", lw=1, ls="--")
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if title:
        ax.set_title(title)
    return fig


__all__ += ["qq_plot"]


def _lagged_table(name: str, lagged: object):
    """Check a table of RI-CLPM lagged paths (columns path, wave, estimate, se) and return it."""
    import numpy as np
    import pandas as pd

    if not isinstance(lagged, pd.DataFrame):
        raise ValueError(f"`{name}` must be a DataFrame of lagged paths (the `lagged` table of "
                         f"analysis.sessions.riclpm); got {type(lagged).__name__}.")
    need = ["path", "wave", "estimate", "se"]
    missing = [c for c in need if c not in lagged.columns]
    if missing:
        raise ValueError(f"`{name}` lacks the columns {missing} (it needs {need}).")
    if lagged.empty:
        raise ValueError(f"`{name}` has no rows: nothing to draw.")
    try:
        vals = lagged[["wave", "estimate", "se"]].to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` columns wave, estimate and se must be numbers.") from None
    bad = ~np.isfinite(vals).all(axis=1)
    if bad.any():
        raise ValueError(f"`{name}` has missing or infinite wave/estimate/se at index labels "
                         f"{list(lagged.index[bad][:10])}.")
    return lagged


def riclpm_paths_plot(lagged, *, labels=None, title: str | None = None, ax=None) -> Figure:
    r"""Within-person cross-lagged paths of an RI-CLPM per wave, with 95% Wald intervals.

    Each path :math:`\hat\beta_t` is drawn at its wave with the interval
    :math:`\hat\beta_t \pm 1.96\,\widehat{SE}`, the two cross-lagged directions side by side,
    and a dashed line at 0 (Hamaker, Kuiper & Grasman 2015).

    Parameters
    ----------
    lagged : DataFrame
        The ``lagged`` table of :func:`analysis.sessions.riclpm`: columns ``path``, ``wave``,
        ``estimate``, ``se``.
    labels : mapping, optional
        Path -> legend label; default ``{"x -> y": "x -> y", "y -> x": "y -> x"}``. Only the paths
        named here are drawn, in this order.
    title : str, optional
        Title of the axes.
    ax : matplotlib Axes, optional
        Where to draw; default: a new 7 x 3.6 inch figure.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        `lagged` is not a DataFrame, lacks a column, is empty or has missing values (naming the
        index labels); `labels` names a path that `lagged` does not have.

    References
    ----------
    Hamaker, E. L., Kuiper, R. M., & Grasman, R. P. P. P. (2015). A critique of the cross-lagged
    panel model. *Psychological Methods, 20*(1), 102--116.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> lagged = pd.DataFrame({"path": ["x -> y", "x -> y", "y -> x", "y -> x"], "wave": [2, 3, 2, 3],
    ...                        "estimate": [0.1, -0.05, 0.2, 0.15], "se": [0.05, 0.06, 0.05, 0.07]})
    >>> fig = riclpm_paths_plot(lagged, title="two waves")
    >>> len(fig.axes[0].containers)
    2
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    lagged = _lagged_table("lagged", lagged)
    if labels is None:
        labels = {"x -> y": "x -> y", "y -> x": "y -> x"}
    if not hasattr(labels, "items") or not labels:
        raise ValueError(f"`labels` must be a non-empty mapping path -> label; got {type(labels).__name__}.")
    known = set(lagged["path"])
    unknown = [p for p in labels if p not in known]
    if unknown:
        raise ValueError(f"`labels` names paths that `lagged` does not have: {unknown} "
                         f"(it has {sorted(known)}).")
    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 3.6))
    else:
        fig = ax.figure
    n = len(labels)
    for j, (path, label) in enumerate(labels.items()):
        sub = lagged[lagged["path"] == path]
        ax.errorbar(sub["wave"] + (j - (n - 1) / 2) * 0.15, sub["estimate"], yerr=1.96 * sub["se"], fmt="o",
                    color=OKABE_ITO[j % len(OKABE_ITO)], label=label)
    ax.axhline(0, color="0.3", lw=1, ls="--")
    ax.set(xlabel="wave (session)", ylabel="within-person cross-lagged path (95% CI)")
    if title:
        ax.set_title(title)
    ax.legend(frameon=False, fontsize=8)
    return fig


def riclpm_dropout_plot(means, fits, *, path: str = "x -> y", truth: float = 0.0,
                        ylabel_means: str = "wave mean", ylabel_path: str = "cross-lagged path (95% CI)",
                        title: str | None = None) -> Figure:
    r"""Wave means and one cross-lagged path of several RI-CLPM fits (e.g. before dropout, complete cases, FIML).

    Left: one line of wave means per column of `means`. Right: the chosen cross-lagged path per wave
    of each fit, :math:`\hat\beta_t \pm 1.96\,\widehat{SE}`, with a dashed line at the generating
    value. Used to show what complete-case analysis costs under MAR dropout and what
    full-information ML recovers (Enders & Bandalos 2001).

    Parameters
    ----------
    means : DataFrame
        One row per wave (in order, waves 1, 2, ...), one column per fit; the column names are the
        legend labels.
    fits : mapping
        Legend label -> ``lagged`` table of :func:`analysis.sessions.riclpm` (columns ``path``,
        ``wave``, ``estimate``, ``se``).
    path : str
        The path drawn on the right (default ``"x -> y"``).
    truth : float
        Generating value of the path (dashed line).
    ylabel_means, ylabel_path : str
        Axis labels of the two panels.
    title : str, optional
        Title above both panels.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        `means` is not a non-empty numeric DataFrame; `fits` is not a non-empty mapping of lagged
        tables (naming the bad one), or a table lacks `path`; `truth` is not a finite number.

    References
    ----------
    Enders, C. K., & Bandalos, D. L. (2001). The relative performance of full information maximum
    likelihood estimation for missing data in structural equation models. *Structural Equation
    Modeling, 8*(3), 430--457.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> means = pd.DataFrame({"all": [10.0, 9.0, 8.0], "completers": [9.0, 8.0, 7.0]})
    >>> lag = pd.DataFrame({"path": ["x -> y", "x -> y"], "wave": [2, 3], "estimate": [0.1, 0.0],
    ...                     "se": [0.05, 0.05]})
    >>> fig = riclpm_dropout_plot(means, {"all (N = 3)": lag, "completers (N = 2)": lag})
    >>> len(fig.axes)
    2
    >>> plt.close(fig)
    """
    import math

    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    if not isinstance(means, pd.DataFrame) or means.empty:
        raise ValueError(f"`means` must be a non-empty DataFrame (waves x fits); got {type(means).__name__}.")
    try:
        m = means.to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise ValueError("`means` must hold numbers (wave means).") from None
    if not np.isfinite(m).all():
        raise ValueError("`means` has missing or infinite values at index labels "
                         f"{list(means.index[~np.isfinite(m).all(axis=1)][:10])}.")
    if not hasattr(fits, "items") or not fits:
        raise ValueError(f"`fits` must be a non-empty mapping label -> lagged table; got {type(fits).__name__}.")
    tables = {label: _lagged_table(f"fits[{label!r}]", tab) for label, tab in fits.items()}
    for label, tab in tables.items():
        if path not in set(tab["path"]):
            raise ValueError(f"`fits[{label!r}]` has no path {path!r} (it has {sorted(set(tab['path']))}).")
    if isinstance(truth, bool) or not isinstance(truth, (int, float)) or not math.isfinite(truth):
        raise ValueError(f"`truth` must be a finite number; got {truth!r}.")

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    ax = axes[0]
    waves = range(1, len(means) + 1)
    for j, col in enumerate(means.columns):
        ax.plot(waves, means[col], marker="o", color=OKABE_ITO[j % len(OKABE_ITO)], label=col)
    ax.set(xlabel="session", ylabel=ylabel_means, title="Wave means")
    ax.legend(frameon=False, fontsize=8)
    ax = axes[1]
    n = len(tables)
    for j, (label, tab) in enumerate(tables.items()):
        sub = tab[tab["path"] == path]
        ax.errorbar(sub["wave"] + (j - (n - 1) / 2) * 0.15, sub["estimate"], yerr=1.96 * sub["se"], fmt="o",
                    color=OKABE_ITO[j % len(OKABE_ITO)], label=label)
    ax.axhline(truth, color="0.3", lw=1, ls="--", label=f"truth ({truth:g})")
    ax.set(xlabel="wave (session)", ylabel=ylabel_path, title="Cross-lagged path",
           xticks=sorted({int(w) for tab in tables.values() for w in tab.loc[tab["path"] == path, "wave"]}))
    ax.set_ylim(top=ax.get_ylim()[1] + 1.0)
    ax.legend(frameon=False, fontsize=8, loc="upper left", ncol=2)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


__all__ += ["riclpm_paths_plot", "riclpm_dropout_plot"]


def invariance_intercepts_plot(params, subscales, *, highlight=None, highlight_label: str | None = None,
                               title: str | None = None) -> Figure:
    r"""Item intercept differences between two groups of a metric-invariance model, with 95% CIs.

    In the metric model (equal loadings, intercepts free per group, latent means fixed at 0) the
    intercept difference of item :math:`j` is :math:`\hat\nu_{jB} - \hat\nu_{jA}`, drawn with
    :math:`\pm 1.96\sqrt{SE_A^2 + SE_B^2}` (the groups' estimates are independent). A difference in a
    latent mean would move all items of a factor together; a single item moving alone is scalar
    non-invariance of that item (Meredith 1993; Byrne, Shavelson & Muthén 1989).

    Parameters
    ----------
    params : DataFrame
        Parameter table of a two-group model (e.g. ``measurement_invariance(...).steps["metric"].params``)
        with columns ``op``, ``lhs``, ``group``, ``estimate``, ``se``; intercepts have ``op == "~1"``.
        The difference is second group minus first (in order of appearance).
    subscales : mapping
        Factor -> list of items; sets the order and the bar colours.
    highlight : str, optional
        An item whose bar is hatched and outlined.
    highlight_label : str, optional
        Legend label of the highlighted bar (default: the item's name).
    title : str, optional
        Title of the axes.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        `params` is not a DataFrame or lacks a column; it does not have exactly two groups; an item
        of `subscales` has no intercept in both groups (naming it); `highlight` is not an item of
        `subscales`.

    References
    ----------
    Meredith, W. (1993). Measurement invariance, factor analysis and factorial invariance.
    *Psychometrika, 58*(4), 525--543.

    Byrne, B. M., Shavelson, R. J., & Muthén, B. (1989). Testing for the equivalence of factor
    covariance and mean structures: the issue of partial measurement invariance.
    *Psychological Bulletin, 105*(3), 456--466.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> params = pd.DataFrame({"op": ["~1"] * 4, "lhs": ["i1", "i2", "i1", "i2"],
    ...                        "group": ["A", "A", "B", "B"], "estimate": [3.0, 3.5, 3.1, 4.0],
    ...                        "se": [0.1, 0.1, 0.1, 0.1]})
    >>> fig = invariance_intercepts_plot(params, {"task": ["i1", "i2"]}, highlight="i2")
    >>> [round(float(b.get_height()), 2) for b in fig.axes[0].patches]
    [0.1, 0.5]
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    if not isinstance(params, pd.DataFrame):
        raise ValueError(f"`params` must be a parameter DataFrame (e.g. the `params` of a metric model); "
                         f"got {type(params).__name__}.")
    need = ["op", "lhs", "group", "estimate", "se"]
    missing = [c for c in need if c not in params.columns]
    if missing:
        raise ValueError(f"`params` lacks the columns {missing} (it needs {need}).")
    if not hasattr(subscales, "items") or not subscales:
        raise ValueError(f"`subscales` must be a non-empty mapping factor -> items; got {type(subscales).__name__}.")
    order = [it for its in subscales.values() for it in its]
    item_factor = {it: f for f, its in subscales.items() for it in its}
    nu = params[(params["op"] == "~1") & params["lhs"].isin(order)]
    groups = list(dict.fromkeys(nu["group"]))
    if len(groups) != 2:
        raise ValueError(f"`params` must hold the intercepts of exactly two groups; found {len(groups)} "
                         f"({groups}).")
    wide = nu.pivot_table(index="lhs", columns="group", values=["estimate", "se"], aggfunc="first")
    absent = [it for it in order if it not in wide.index
              or not np.isfinite(wide.loc[it].to_numpy(dtype=float)).all()]
    if absent:
        raise ValueError(f"`params` has no finite intercept (estimate and se) in both groups for the items {absent}.")
    if highlight is not None and highlight not in item_factor:
        raise ValueError(f"`highlight` must be an item of `subscales`; got {highlight!r}.")
    wide = wide.reindex(order)
    g0, g1 = groups
    diff = wide[("estimate", g1)] - wide[("estimate", g0)]
    se_diff = np.sqrt(wide[("se", g0)] ** 2 + wide[("se", g1)] ** 2)
    factors = list(subscales)
    colors = OKABE_ITO
    fig, ax = plt.subplots(figsize=(7.5, 4.0))
    xs = np.arange(len(order))
    bars = ax.bar(xs, diff, color=[colors[factors.index(item_factor[it]) % len(colors)] for it in order])
    handles = [plt.Rectangle((0, 0), 1, 1, color=colors[k % len(colors)]) for k in range(len(factors))]
    labels = list(factors)
    if highlight is not None:
        hl = colors[len(factors) % len(colors)]
        bars[order.index(highlight)].set(edgecolor=hl, linewidth=2.5, hatch="//")
        handles.append(plt.Rectangle((0, 0), 1, 1, facecolor="white", edgecolor=hl, hatch="//", linewidth=2))
        labels.append(highlight_label or str(highlight))
    ax.legend(handles=handles, labels=labels, fontsize=8, loc="upper left")
    ax.errorbar(xs, diff, yerr=1.96 * se_diff, fmt="none", ecolor="k", capsize=3, lw=1)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xticks(xs, [f"{it}\n{item_factor[it]}" for it in order], fontsize=8)
    ax.set_ylabel(f"intercept {g1} − {g0} (metric model), 95% CI")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


__all__ += ["invariance_intercepts_plot"]



# ---------------------------------------------------------------------------------------------
# Lesson figures of notebook 07 (power and design).
# ---------------------------------------------------------------------------------------------
# (block C: notebook 07)


def _power_table(name: str, table: object, columns: list[str]):
    """A non-empty DataFrame with `columns` (named in the error), the numeric ones finite."""
    import numpy as np

    from analysis._checks import check_columns, check_dataframe

    check_dataframe(name, table)
    check_columns(table, columns, argument=name)
    for col in columns:
        if col == "analysis":
            continue
        values = np.asarray(table[col], dtype=object)
        try:
            arr = values.astype(float)
        except (TypeError, ValueError):
            raise ValueError(f"Column {col!r} of `{name}` must be numeric.") from None
        if not np.all(np.isfinite(arr)):
            bad = table.index[~np.isfinite(arr)]
            raise ValueError(f"Column {col!r} of `{name}` has missing or infinite values at index labels "
                             f"{', '.join(map(str, bad[:5]))}.")
    return table


def _check_alpha_arg(alpha: object) -> float:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 < float(alpha) < 1:
        raise ValueError(f"`alpha` must be a number strictly between 0 and 1, got {alpha!r}.")
    return float(alpha)


def type1_inflation_plot(table, *, n_therapists: int = 30, alpha: float = 0.05,
                         figsize: tuple[float, float] = (8, 4.6)) -> Figure:
    r"""Type I error of the naive and the multilevel test against the therapist ICC (notebook 07).

    Points: simulated rejection rates with 95% Monte Carlo intervals (rate ± 1.96 MC SE), one
    colour per caseload :math:`m`; filled circles the naive OLS test that ignores therapists
    nested in arms, open squares the multilevel test. Dashed lines: the naive test's
    large-sample rate :math:`2\Phi(-z_{1-\alpha/2}/\sqrt{\mathrm{DE}})`,
    :math:`\mathrm{DE} = 1 + (m-1)\rho` (Wampold & Serlin 2000; Donner & Klar 2000); grey line: α.

    Parameters
    ----------
    table : DataFrame
        ``PowerResult.table`` of a grid over ``caseload`` and ``therapist_icc`` with the analyses
        ``treatment_ols`` and ``treatment_multilevel``: columns ``caseload``, ``therapist_icc``,
        ``analysis``, ``rate``, ``mc_se``.
    n_therapists : int
        Therapists of the simulated trials (for the title and the analytic line).
    alpha : float
        Level of the tests.
    figsize : tuple of float
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        `table` not a non-empty DataFrame, a missing column (with the nearest name) or non-numeric
        or missing values in it, an `alpha` outside (0, 1), `n_therapists` not a whole number >= 2.

    References
    ----------
    Wampold, B. E., & Serlin, R. C. (2000). The consequence of ignoring a nested factor on
    measures of effect size in analysis of variance. *Psychol Methods, 5*(4), 425--433.
    Donner, A., & Klar, N. (2000). *Design and analysis of cluster randomization trials in health
    research*. Arnold.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"caseload": [5, 5], "therapist_icc": [0.1, 0.1], "analysis": ["treatment_ols",
    ...                   "treatment_multilevel"], "rate": [0.12, 0.05], "mc_se": [0.01, 0.01]})
    >>> len(type1_inflation_plot(t).axes)
    1
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from analysis.power import design_effect, naive_rejection_rate

    _power_table("table", table, ["caseload", "therapist_icc", "analysis", "rate", "mc_se"])
    alpha = _check_alpha_arg(alpha)
    if isinstance(n_therapists, bool) or not isinstance(n_therapists, (int, np.integer)) or n_therapists < 2:
        raise ValueError(f"`n_therapists` must be a whole number >= 2, got {n_therapists!r}.")
    fig, ax = plt.subplots(figsize=figsize)
    caseloads = sorted(set(table["caseload"]))
    icc_line = np.linspace(0, max(0.22, float(table["therapist_icc"].max()) * 1.1), 100)
    for k, m in enumerate(caseloads):
        colour = OKABE_ITO[k % len(OKABE_ITO)]
        sub = table[table["caseload"] == m]
        naive = sub[sub["analysis"] == "treatment_ols"]
        ml = sub[sub["analysis"] == "treatment_multilevel"]
        ax.plot(icc_line, naive_rejection_rate(0.0, n_therapists * m, design_effect(m, icc_line), alpha),
                color=colour, lw=1, ls="--")
        ax.errorbar(naive["therapist_icc"], naive["rate"], yerr=1.96 * naive["mc_se"], fmt="o", color=colour,
                    capsize=3, label=f"naive OLS, caseload {m} (dashed: 2Φ(−z/√DE))")
        ax.errorbar(ml["therapist_icc"] + 0.003, ml["rate"], yerr=1.96 * ml["mc_se"], fmt="s", mfc="white",
                    color=colour, capsize=3, label=f"multilevel model, caseload {m}")
    ax.axhline(alpha, color="0.3", lw=0.8)
    ax.set_xlabel("therapist ICC (post | pre)")
    ax.set_ylabel(f"type I error (rejection rate at α = {alpha:g})")
    ax.set_title(f"Ignoring therapists nested in arms inflates the type I error\n"
                 f"(SIMULATED; {n_therapists} therapists)")
    ax.legend(fontsize=8, loc="upper left")
    return fig


def power_curves_plot(table_a, table_b, table_c, *, delta_c: float, caseload: int = 5, alpha: float = 0.05,
                      figsize: tuple[float, float] = (14, 4.4)) -> Figure:
    r"""Monte Carlo power of notebook 07's three questions in one figure (three panels).

    Points: simulated power with 95% Monte Carlo intervals (``ci_low``, ``ci_high``). (a) the
    alliance--outcome correlation against the number of patients, with the Fisher-z power for
    :math:`N` independent patients (dashed; Fisher 1921); (b) the between-therapist alliance
    coefficient against the number of therapists (no closed form: points joined); (c) a treatment
    difference with therapists nested in arms, with the design-effect approximation
    :math:`1-\beta \approx P(|T_{J-2}(\lambda)| > t_{J-2,1-\alpha/2})`,
    :math:`\lambda = \delta\sqrt{a(1-a)N/\mathrm{DE}}`, :math:`\mathrm{DE} = 1 + (m-1)\rho`
    (dashed; Donner & Klar 2000) and its normal version (dotted). Grey lines: 80% power and α.

    Parameters
    ----------
    table_a : DataFrame
        Question (a): columns ``alliance_outcome_r``, ``n_therapists``, ``rate``, ``ci_low``,
        ``ci_high``, ``analytic``.
    table_b : DataFrame
        Question (b): columns ``share`` (of the therapist outcome variance the therapists' alliance
        carries), ``n_therapists``, ``rate``, ``ci_low``, ``ci_high``.
    table_c : DataFrame
        Question (c): columns ``therapist_icc``, ``n_therapists``, ``analysis``, ``rate``,
        ``ci_low``, ``ci_high`` (the rows of ``treatment_multilevel`` are drawn).
    delta_c : float
        Standardised treatment difference on the scale of the analysed residual (post given pre).
    caseload : int
        Patients per therapist (m) in all three questions.
    alpha : float
        Level of the tests.
    figsize : tuple of float
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        A table that is not a non-empty DataFrame, a missing column (with the nearest name),
        non-numeric or missing values; `delta_c` not a finite number; `caseload` not a whole
        number >= 1; `alpha` outside (0, 1).

    References
    ----------
    Donner, A., & Klar, N. (2000). *Design and analysis of cluster randomization trials in health
    research*. Arnold.
    Fisher, R. A. (1921). On the "probable error" of a coefficient of correlation deduced from a
    small sample. *Metron, 1*, 3--32.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"alliance_outcome_r": [0.2, 0.2], "n_therapists": [10, 20], "rate": [0.3, 0.5],
    ...                   "ci_low": [0.2, 0.4], "ci_high": [0.4, 0.6], "analytic": [0.32, 0.52]})
    >>> b = pd.DataFrame({"share": [0.5, 0.5], "n_therapists": [20, 40], "rate": [0.2, 0.4],
    ...                   "ci_low": [0.1, 0.3], "ci_high": [0.3, 0.5]})
    >>> c = pd.DataFrame({"therapist_icc": [0.05, 0.05], "n_therapists": [10, 20], "analysis":
    ...                   ["treatment_multilevel"] * 2, "rate": [0.3, 0.6], "ci_low": [0.2, 0.5],
    ...                   "ci_high": [0.4, 0.7]})
    >>> len(power_curves_plot(a, b, c, delta_c=0.4).axes)
    3
    """
    import math

    import matplotlib.pyplot as plt
    import numpy as np

    from analysis.power import design_effect, power_two_arm

    _power_table("table_a", table_a, ["alliance_outcome_r", "n_therapists", "rate", "ci_low", "ci_high",
                                      "analytic"])
    _power_table("table_b", table_b, ["share", "n_therapists", "rate", "ci_low", "ci_high"])
    _power_table("table_c", table_c, ["therapist_icc", "n_therapists", "analysis", "rate", "ci_low", "ci_high"])
    if isinstance(delta_c, bool) or not isinstance(delta_c, (int, float, np.floating)) \
            or not math.isfinite(float(delta_c)):
        raise ValueError(f"`delta_c` must be a finite number, got {delta_c!r}.")
    if isinstance(caseload, bool) or not isinstance(caseload, (int, np.integer)) or caseload < 1:
        raise ValueError(f"`caseload` must be a whole number >= 1, got {caseload!r}.")
    alpha = _check_alpha_arg(alpha)

    def bars(d):
        return [d["rate"] - d["ci_low"], d["ci_high"] - d["rate"]]

    fig, axes = plt.subplots(1, 3, figsize=figsize, sharey=True)
    ax = axes[0]
    for k, r in enumerate(sorted(set(table_a["alliance_outcome_r"]))):
        d = table_a[table_a["alliance_outcome_r"] == r].sort_values("n_therapists")
        colour = OKABE_ITO[k % len(OKABE_ITO)]
        ax.errorbar(caseload * d["n_therapists"], d["rate"], yerr=bars(d), fmt="o", color=colour, capsize=3,
                    label=f"r = {r}")
        ax.plot(caseload * d["n_therapists"], d["analytic"], color=colour, lw=1, ls="--")
    js = sorted(set(table_a["n_therapists"]))
    ax.set_xticks([caseload * j for j in js])
    ax.set_xlabel(f"patients ({', '.join(map(str, js))} therapists of {caseload})")
    ax.set_ylabel(f"power (α = {alpha:g})")
    ax.set_title("(a) alliance–outcome r")
    ax.legend(fontsize=8)
    ax = axes[1]
    for k, f in enumerate(sorted(set(table_b["share"]))):
        d = table_b[table_b["share"] == f].sort_values("n_therapists")
        ax.errorbar(d["n_therapists"], d["rate"], yerr=bars(d), fmt="o-", lw=1, color=OKABE_ITO[k % len(OKABE_ITO)],
                    capsize=3, label=f"{f:.0%} of therapist variance")
    jb = sorted(set(table_b["n_therapists"]))
    ax.set_xscale("log", base=2)
    ax.set_xticks(jb, labels=[str(j) for j in jb])
    ax.set_xlabel(f"therapists ({caseload} patients each)")
    ax.set_title("(b) the therapist's alliance")
    ax.legend(fontsize=8, title="alliance carries", title_fontsize=8)
    ax = axes[2]
    ml = table_c[table_c["analysis"] == "treatment_multilevel"]
    j_max = int(max(ml["n_therapists"])) if len(ml) else 60
    for k, icc in enumerate(sorted(set(ml["therapist_icc"]))):
        d = ml[ml["therapist_icc"] == icc].sort_values("n_therapists")
        colour = OKABE_ITO[k % len(OKABE_ITO)]
        ax.errorbar(d["n_therapists"], d["rate"], yerr=bars(d), fmt="o", color=colour, capsize=3,
                    label=f"ICC = {icc}")
        grid = np.arange(6, j_max + 1)
        de = design_effect(caseload, icc)
        ax.plot(grid, power_two_arm(delta_c, caseload * grid, de, alpha, df=grid - 2), color=colour, lw=1,
                ls="--")
        ax.plot(grid, power_two_arm(delta_c, caseload * grid, de, alpha), color=colour, lw=0.8, ls=":")
    ax.set_xlabel(f"therapists (nested in arms, {caseload} patients each)")
    ax.set_title("(c) treatments")
    ax.legend(fontsize=8)
    for ax in axes:
        ax.axhline(0.8, color="0.6", lw=0.6)
        ax.axhline(alpha, color="0.6", lw=0.6, ls=":")
        ax.set_ylim(0, 1.02)
    fig.suptitle("Monte Carlo power (SIMULATED; points: simulation with 95% MC intervals, lines: approximations)",
                 y=1.01)
    return fig


__all__ += ["type1_inflation_plot", "power_curves_plot"]
