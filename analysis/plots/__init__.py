"""House style, reproducible figure export and the workbook's figures.

Every name is importable from here (``from analysis import plots; plots.forest_plot(...)``,
``from analysis.plots import save_figure``); the code lives in modules named for what
they hold:

* :mod:`analysis.plots.save` -- the house style and export: :data:`OKABE_ITO`,
  :data:`FIGURE_FORMATS`, :func:`set_style`, :func:`figures_dir`, :func:`save_figure`,
  :class:`SavedFigure` (PNG, SVG and PDF, byte-identical from run to run).
* :mod:`analysis.plots.meta` -- meta-analysis figures: :func:`forest_plot`,
  :func:`funnel_plot` (issue 3) and :func:`bubble_plot` (meta-regression, issue 16).
* :mod:`analysis.plots.multilevel` -- :func:`caterpillar_plot` (therapist effects).
* :mod:`analysis.plots.lessons_effects` -- lesson figures of notebooks 00, 01, 02 and 08
  (block A, owner learna): :func:`one_scale_plot`, :func:`tolerance_plot`,
  :func:`interval_plot`, :func:`r_scale_plot`.
* :mod:`analysis.plots.lessons_change` -- lesson figures of notebooks 03 and 05 (block B,
  owner learnb): :func:`mixed_model_diagnostics`, :func:`jacobson_truax_plot`,
  :func:`within_between_plot`, :func:`sudden_gains_plot`, :func:`rupture_episodes_plot`.
* :mod:`analysis.plots.lessons_sem` -- lesson figures of notebooks 04 and 06 (block B,
  owner learnb): :func:`factor_models_plot`, :func:`qq_plot`, :func:`riclpm_paths_plot`,
  :func:`riclpm_dropout_plot`, :func:`invariance_intercepts_plot`.
* :mod:`analysis.plots.lessons_power` -- lesson figures of notebook 07 (block C, owner
  speed): :func:`type1_inflation_plot`, :func:`power_curves_plot`.
* ``analysis/plots/_common.py`` -- private argument checks shared by the drawing modules.

The plotting functions draw, they never compute statistics: a result in, a matplotlib
Figure out, saving left to :func:`save_figure`. A new public function goes into the
module that fits (a new lesson's figures into its block's module), is added to that
module's ``__all__`` and re-exported here, with a bad-input test in
``tests/test_bad_input_plots.py`` or ``tests/test_bad_input_plots__<topic>.py``.
"""

from __future__ import annotations

from analysis.plots.lessons_change import (
    jacobson_truax_plot,
    mixed_model_diagnostics,
    rupture_episodes_plot,
    sudden_gains_plot,
    within_between_plot,
)
from analysis.plots.lessons_effects import interval_plot, one_scale_plot, r_scale_plot, tolerance_plot
from analysis.plots.lessons_power import power_curves_plot, type1_inflation_plot
from analysis.plots.lessons_sem import (
    factor_models_plot,
    invariance_intercepts_plot,
    qq_plot,
    riclpm_dropout_plot,
    riclpm_paths_plot,
)
from analysis.plots.meta import bubble_plot, forest_plot, funnel_plot
from analysis.plots.multilevel import caterpillar_plot
from analysis.plots.save import (
    FIGURE_FORMATS,
    OKABE_ITO,
    PNG_DPI,
    SavedFigure,
    figures_dir,
    save_figure,
    set_style,
)

__all__ = [
    "OKABE_ITO",
    "FIGURE_FORMATS",
    "set_style",
    "figures_dir",
    "save_figure",
    "SavedFigure",
    "forest_plot",
    "funnel_plot",
    "caterpillar_plot",
    "bubble_plot",
    "one_scale_plot",
    "tolerance_plot",
    "interval_plot",
    "r_scale_plot",
    "mixed_model_diagnostics",
    "jacobson_truax_plot",
    "within_between_plot",
    "factor_models_plot",
    "sudden_gains_plot",
    "rupture_episodes_plot",
    "qq_plot",
    "riclpm_paths_plot",
    "riclpm_dropout_plot",
    "invariance_intercepts_plot",
    "type1_inflation_plot",
    "power_curves_plot",
]
