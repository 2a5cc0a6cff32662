"""Lesson figures of notebooks 00, 01, 02 and 08 (published effects on one scale, tolerances, intervals).

Plotting code that is not the point of those lessons (owner: learna). Pure drawing;
saving is left to :func:`analysis.plots.save_figure`.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from analysis.plots.save import OKABE_ITO

__all__ = [
    "one_scale_plot",
    "tolerance_plot",
    "interval_plot",
    "r_scale_plot",
]


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
