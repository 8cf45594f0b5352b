"""Duration histograms stored so that exact percentiles over many rollup rows stay cheap.

A scorecard row keeps the sign-for and reply durations of its appeals as a histogram in whole
minutes. Merging thousands of ``{minute: count}`` dictionaries in Python to find a median was
what made long scorecards slow (a year of daily rows is about a million entries). Instead each
histogram is stored *cumulatively*: the sorted distinct minute values followed by the running
counts, packed as 32-bit little-endian integers::

    values  v₁ < v₂ < … < vₙ
    counts  0, c₁, c₁+c₂, …, c₁+…+cₙ        (n + 1 numbers: the number of durations ≤ vᵢ)

so "how many durations are ≤ x" is one binary search per row, and the nearest-rank percentile of
the union of many rows is a binary search over x (``percentile``): about 17 steps × rows instead of
touching every entry. The result is exactly the percentile of the merged histogram.

Pure functions only: the migration that converted the JSON histograms imports this module.
"""

from __future__ import annotations

import math
import sys
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from itertools import accumulate
from operator import sub

_TYPECODE = "i"  # 32-bit signed: minutes up to ~4,000 years, counts up to 2³¹ per row
_BIG_ENDIAN = sys.byteorder == "big"


def pack(histogram: Mapping[int | str, int]) -> bytes:
    """``{minutes: count}`` (keys may be the decimal strings JSON gives back) → stored bytes."""
    items = sorted((int(value), count) for value, count in histogram.items() if count)
    if not items:
        return b""
    values = array(_TYPECODE, (value for value, _count in items))
    cumulative = array(_TYPECODE, [0])
    running = 0
    for _value, count in items:
        running += count
        cumulative.append(running)
    if _BIG_ENDIAN:
        values.byteswap()
        cumulative.byteswap()
    return values.tobytes() + cumulative.tobytes()


class Cumulative:
    """One stored histogram, ready for "how many durations are ≤ x" queries."""

    __slots__ = ("counts", "values")

    def __init__(self, data: bytes | memoryview | None):
        numbers = array(_TYPECODE)
        if data:
            numbers.frombytes(data)
            if _BIG_ENDIAN:
                numbers.byteswap()
        n = (len(numbers) - 1) // 2
        self.values = numbers[:n]
        self.counts = numbers[n:] if numbers else array(_TYPECODE, [0])

    @property
    def total(self) -> int:
        return self.counts[-1]

    def at_most(self, minutes: int) -> int:
        return self.counts[bisect_right(self.values, minutes)]

    def items(self) -> Iterable[tuple[int, int]]:
        counts = self.counts
        return ((value, counts[i + 1] - counts[i]) for i, value in enumerate(self.values))


def unpack(data: bytes | memoryview | None) -> dict[int, int]:
    """Stored bytes → ``{minutes: count}``."""
    return dict(Cumulative(data).items())


def merge(parts: Iterable[bytes | memoryview | None]) -> bytes:
    """The stored histogram of the union of several stored histograms (for the monthly rollup)."""
    total: Counter = Counter()
    for data in parts:
        for value, count in Cumulative(data).items():
            total[value] += count
    return pack(total)


def percentile(parts: Iterable[Cumulative], q: float) -> int | None:
    """Nearest-rank percentile of the union of ``parts``: the smallest x with ≥ q of the durations ≤ x.

    Exact (the same as merging the histograms first), found by binary search over x.
    """
    return percentiles(parts, (q,))[0]


def percentiles(parts: Iterable[Cumulative], qs: Sequence[float]) -> list[int | None]:
    """Several nearest-rank percentiles of the union of ``parts`` (see ``percentile``), in ``qs``'s order.

    Many small rows are merged once for all of ``qs``; few large ones are searched once per q.
    """
    parts = [p for p in parts if p.values]
    total = sum(p.total for p in parts)
    if not total:
        return [None] * len(qs)
    if len(parts) == 1:
        part = parts[0]
        return [part.values[bisect_right(part.counts, _rank(q, total) - 1) - 1] for q in qs]
    entries = sum(len(p.values) for p in parts)
    if entries <= MERGE_BELOW * len(qs) * len(parts):
        merged = Merged(parts)
        return [merged.percentile(q) for q in qs]
    return [_search(parts, _rank(q, total)) for q in qs]


def _rank(q: float, total: int) -> int:
    return max(1, math.ceil(q * total))


def _search(parts: list[Cumulative], rank: int) -> int:
    low = min(p.values[0] for p in parts)  # at least one duration ≤ low
    high = max(p.values[-1] for p in parts)  # every duration ≤ high
    pairs = [(p.values, p.counts) for p in parts]
    while low < high:
        middle = (low + high) // 2
        if sum(counts[bisect_right(values, middle)] for values, counts in pairs) >= rank:
            high = middle
        else:
            low = middle + 1
    return low


# Many small rows (a few weeks of daily cells with one or two appeals each): sorting their entries
# once is cheaper than ~17 binary-search steps over every row. Few large rows (whole months): the
# search is cheaper. The crossover, measured on the dashboard's scorecards, is near 8 entries a row
# per percentile asked (one merge serves every percentile; the search runs once per percentile).
MERGE_BELOW = 8


class Merged:
    """The union of several stored histograms, sorted once: any number of exact percentiles."""

    __slots__ = ("counts", "total", "values")

    def __init__(self, parts: Iterable[Cumulative]):
        values: array = array(_TYPECODE)
        weights: array = array(_TYPECODE)
        for part in parts:
            values.extend(part.values)
            counts = part.counts
            weights.extend(map(sub, counts[1:], counts[:-1]))
        order = sorted(range(len(values)), key=values.__getitem__)
        self.values = [values[i] for i in order]
        self.counts = list(accumulate(weights[i] for i in order))
        self.total = self.counts[-1] if self.counts else 0

    def percentile(self, q: float) -> int | None:
        """Nearest-rank: the smallest value with at least q of the durations at or below it."""
        if not self.total:
            return None
        rank = max(1, math.ceil(q * self.total))
        return self.values[bisect_left(self.counts, rank)]
