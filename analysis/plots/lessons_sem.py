"""Lesson figures of notebooks 04 and 06: sessions and measurement.

QQ plot, RI-CLPM paths and dropout, factor models and invariance intercepts.

Plotting code that is not the point of those lessons (owner: learnb). Pure drawing;
saving is left to :func:`analysis.plots.save_figure`.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from analysis.plots.save import OKABE_ITO

__all__ = [
    "factor_models_plot",
    "qq_plot",
    "riclpm_paths_plot",
    "riclpm_dropout_plot",
    "invariance_intercepts_plot",
]


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
