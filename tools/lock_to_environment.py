"""Write environment.yml (conda) from requirements.lock (pip), so the two never drift.

conda users get the scientific core from conda-forge and everything else from PyPI
through conda's pip section; every package appears once, at the version the lock
pins. `make lock` runs this after re-pinning; tests/test_environment.py checks that
environment.yml and the lock name the same packages and versions.

Usage: python tools/lock_to_environment.py [--check]
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
ENV = ROOT / "environment.yml"

# Packages taken from conda-forge (same names there as on PyPI); the rest go to pip.
CONDA_FORGE = (
    "numpy",
    "scipy",
    "pandas",
    "statsmodels",
    "matplotlib",
    "seaborn",
    "pingouin",
    "scikit-learn",
    "jupyterlab",
    "ipykernel",
    "pooch",
    "pytest",
    "hypothesis",
)
PYTHON = "3.11"


def read_lock(path: Path = LOCK) -> dict[str, str]:
    """Return {normalised name: version} for every `name==version` line of the lock."""
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)", line)
        if m:
            pins[normalise(m.group(1))] = m.group(2)
    return pins


def normalise(name: str) -> str:
    """PEP 503 name normalisation (``Foo_Bar`` and ``foo-bar`` are one package)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def render(pins: dict[str, str]) -> str:
    conda = [n for n in CONDA_FORGE if n in pins]
    missing = sorted(set(CONDA_FORGE) - set(pins))
    if missing:
        raise SystemExit(f"conda-forge packages not in the lock: {', '.join(missing)}")
    pip = sorted(n for n in pins if n not in conda)
    lines = [
        "# Conda equivalent of requirements.lock, written by tools/lock_to_environment.py:",
        "# do not edit by hand (run `make lock`). Same packages, same versions as the lock.",
        "name: alliance-workbook",
        "channels:",
        "  - conda-forge",
        "  - nodefaults",
        "dependencies:",
        f"  - python={PYTHON}",
        "  - pip",
    ]
    lines += [f"  - {n}=={pins[n]}" for n in conda]
    lines.append("  - pip:")
    lines += [f"      - {n}=={pins[n]}" for n in pip]
    lines.append("      - -e .")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    text = render(read_lock())
    if "--check" in argv:
        if ENV.read_text(encoding="utf-8") != text:
            print("environment.yml is out of date with requirements.lock: run `make lock`.")
            return 1
        return 0
    ENV.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
