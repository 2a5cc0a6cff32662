"""Lesson figures of notebook 07 (power and design): type I inflation and power curves.

Plotting code that is not the point of the lesson (owner: speed). Pure drawing;
saving is left to :func:`analysis.plots.save_figure`.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from analysis.plots.save import OKABE_ITO

__all__ = [
    "type1_inflation_plot",
    "power_curves_plot",
]


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
