"""Private helpers shared by the plotting modules of :mod:`analysis.plots` (argument checks)."""

from __future__ import annotations


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
