"""Timing helpers shared by the benchmark scripts (not part of the analysis package).

The scripts run as ``.venv/bin/python benchmarks/bench_X.py``, so this folder is on
``sys.path`` and ``from _timing import cpu, median_time`` works.
"""

from __future__ import annotations

import platform
import statistics
import time
from pathlib import Path
from typing import Callable


def cpu() -> str:
    """The processor's model name (``/proc/cpuinfo``), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def median_time(fn: Callable[[], object], reps: int) -> float:
    """Median wall time of ``reps`` calls of ``fn`` (seconds, ``time.perf_counter``)."""
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return float(statistics.median(ts))
