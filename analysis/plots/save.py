"""House style and reproducible figure export for the workbook.

Every figure of the workbook is drawn in one style (:func:`set_style`) and
written with :func:`save_figure`, which exports PNG (300 dpi), SVG and PDF into
``reports/figures/`` under ``make reproduce`` (so that the report index can show
them and readers can reuse them in papers) and into ``alliance-output/figures/``
(or ``$ALLIANCE_OUTPUT_DIR/figures/``) when a notebook or script is run by hand.
The three files are byte-identical from run to run: the backends' timestamps
are removed and the SVG ids are derived from a fixed salt instead of a random one.

The plotting functions live in the sibling modules of :mod:`analysis.plots`; like
this module they draw, they never compute statistics. Everything here is also
importable from :mod:`analysis.plots` itself.
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
