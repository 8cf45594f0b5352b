"""Pausing the cyclic garbage collector around allocation-heavy analytics computations."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while one page's figures are computed.

    Dashboard sections and scorecards allocate tens of thousands of short-lived objects (rollup
    rows, histograms, scorecards), all freed by reference counting once the figures are made. With the
    collector running, those bursts trigger full collections that walk every object the process
    holds (about 400,000 once Django, the router and the templates are loaded): at 1 M appeals
    that made the bureau scorecard 2.7× slower (bench/analytics_queries.py). The pause is
    bounded by one computation; a concurrent thread's own pause is respected (the collector is
    re-enabled only by whoever disabled it).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
