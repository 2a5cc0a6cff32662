"""A small synthetic reports folder for the index page (tools/index_page.py).

Used by tests/test_index_page.py (the builder) and tests/test_browser_index.py (the page in
chromium). Three notebooks, two figures (one the headline), and a ledger with every kind, a
published inconsistency (explained), an unexplained FAIL, text that needs escaping and a long
unbreakable claim, written with ``analysis.ledger.record`` into a temporary folder.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import SimpleNamespace

REPO_ROOT = Path(__file__).resolve().parents[1]
INDEX_PAGE = REPO_ROOT / "tools" / "index_page.py"

HEADLINE = "01_headline_relationship_vs_technique"
NASTY_CLAIM = "Claim with <script>alert('x')</script> & \"quotes\""
LONG_CLAIM = "Long" + "_unbreakable" * 40
DISCREPANCY_CLAIM = "Group cohesion: published r = 0.26 as d"
DISCREPANCY_NOTE = "The article prints r = .26 and d = .56; no r that rounds to .26 gives d = .56 <sic>."
FAIL_CLAIM = "Simulated truth missed"

NOTEBOOKS = (
    ("00_tour.ipynb", "00 · A guided tour"),
    ("01_relationship_elements.ipynb", "01 · Relationship elements"),
    ("08_reproductions.ipynb", "08 · Published analyses, re-run"),
)


def load_index_page():
    """Import tools/index_page.py (tools/ is not a package)."""
    spec = importlib.util.spec_from_file_location("alliance_index_page", INDEX_PAGE)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("alliance_index_page", module)
    spec.loader.exec_module(module)
    return module


def ledger_rows() -> list[dict]:
    """The rows of the synthetic ledger, as keyword arguments of ``ledger.record``."""
    rows = [
        dict(claim="Alliance r = .278 as d", published=0.579, ours=0.5788, tolerance=0.0005,
             source="Flückiger et al. (2018), abstract", kind="published-conversion",
             notebook="00_tour.ipynb"),
        dict(claim=DISCREPANCY_CLAIM, published=0.56, ours=0.5385, tolerance=0.0016,
             source="Burlingame et al. (2018), abstract", kind="published-conversion",
             notebook="01_relationship_elements.ipynb"),
        dict(claim=NASTY_CLAIM, published=1.0, ours=1.0, tolerance=0.1,
             source="Source <i>in italics</i> & more", kind="oracle",
             notebook="01_relationship_elements.ipynb"),
        dict(claim=LONG_CLAIM, published=2.0, ours=2.0, tolerance=0.1, source="metafor::rma",
             kind="oracle", notebook="01_relationship_elements.ipynb"),
        dict(claim="Pooled r (REML)", published=0.27, ours=0.2701, tolerance=0.001,
             source="Our re-analysis of the shipped data", kind="published-reanalysis",
             notebook="01_relationship_elements.ipynb"),
        dict(claim=FAIL_CLAIM, published=0.5, ours=0.7, tolerance=0.05, source="simulation design",
             kind="simulation", notebook="01_relationship_elements.ipynb"),
    ]
    # many passing rows of notebook 08, so that filtering has something to hide
    for i in range(24):
        rows.append(dict(claim=f"Ch. 13 growth: term_{i:02d}", published=round(0.1 * i, 1),
                         ours=0.1 * i, tolerance=0.05, source=f"HSAUR3 ch. 13, p. {i + 1}",
                         kind="published-reanalysis", notebook="08_reproductions.ipynb"))
    return rows


def make_reports(root: Path, headline: bool = True):
    """Write the synthetic reports folder under `root`; return (layout, runs, explained)."""
    from PIL import Image

    from analysis.ledger import record, reset_ledger

    reports = root / "reports"
    (reports / "figures").mkdir(parents=True)
    (reports / "notebooks").mkdir()
    ledger = reports / "ledger.csv"
    reset_ledger(ledger)
    for row in ledger_rows():
        record(**row, path=ledger)
    stems = ["00_tour_study_effects"] + ([HEADLINE] if headline else [])
    for stem in stems:
        Image.new("RGB", (40, 30), (0, 114, 178)).save(reports / "figures" / f"{stem}.png")
        (reports / "figures" / f"{stem}.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
        (reports / "figures" / f"{stem}.pdf").write_bytes(b"%PDF-1.4\n")
    runs = []
    for name, title in NOTEBOOKS:
        page = reports / "notebooks" / f"{Path(name).stem}.html"
        page.write_text(f"<!DOCTYPE html><title>{title}</title><h1>{title}</h1>", encoding="utf-8")
        figures = {"00_tour.ipynb": ["00_tour_study_effects"],
                   "01_relationship_elements.ipynb": [HEADLINE] if headline else []}.get(name, [])
        runs.append(SimpleNamespace(path=Path(name), title=title, html=page, figures=figures))
    layout = SimpleNamespace(reports=reports, ledger=ledger, figures=reports / "figures",
                             index=reports / "index.html")
    explained = {(DISCREPANCY_CLAIM, "01_relationship_elements.ipynb"): DISCREPANCY_NOTE}
    return layout, runs, explained
