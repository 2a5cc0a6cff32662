"""Meta-analysis figures: forest and funnel plots (issue 3), bubble plot of a meta-regression (issue 16).

Pure drawing: a fitted result in, a matplotlib Figure out; saving is left to
:func:`analysis.plots.save_figure`. Artists carry ``gid`` values ("study-ci", "study-point",
"summary-diamond", "prediction-interval", "weight", "contour-<level>", "pseudo-ci",
"studies", "filled-studies", ...) so that tests and users can find them.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from analysis.plots._common import _check_drawing_args
from analysis.plots.save import OKABE_ITO

__all__ = [
    "forest_plot",
    "funnel_plot",
    "bubble_plot",
]


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


# --------------------------------------------------------------------------------------------
# bubble plot of a meta-regression (issue 16)
# --------------------------------------------------------------------------------------------


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
