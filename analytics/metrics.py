"""Pure metric arithmetic: the 三率, composite score, percentiles, and the statistical tests.

No database access here, so every formula in docs/metrics.md can be checked by hand in tests.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.conf import settings

from analytics import histograms


def ratio(numerator: float, denominator: float) -> float | None:
    """numerator / denominator, or None when there is nothing to divide (shown as "—")."""
    return numerator / denominator if denominator else None


def percentile(histogram: Mapping[int | str, int], q: float) -> int | None:
    """Nearest-rank percentile (smallest value with at least q of the mass at or below it).

    Keys may be ints or the decimal strings JSON gives back.
    """
    total = sum(histogram.values())
    if not total:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    items = sorted((int(value), count) for value, count in histogram.items())
    for value, count in items:
        seen += count
        if seen >= rank:
            return value
    return items[-1][0]


@dataclass
class Scorecard:
    """Summed scorecard components of one bureau, region or the whole scope, with derived rates."""

    dispatched: int = 0
    signed_on_time: int = 0
    responded: int = 0
    overdue: int = 0
    returns: int = 0
    rehandles: int = 0
    ratings: int = 0
    resolved: int = 0
    satisfied: int = 0
    basic: int = 0
    # Stored duration histograms of the rows added (analytics.histograms), not merged: percentiles
    # search them all at once, which is what keeps a year of rows cheap.
    sign_minutes: list[histograms.Cumulative] = field(default_factory=list)
    reply_minutes: list[histograms.Cumulative] = field(default_factory=list)
    # Percentiles already computed (minutes), per histogram and q: cleared by ``add``.
    _percentiles: dict[str, dict[float, int | None]] = field(default_factory=dict, repr=False, compare=False)
    # Follow-up calls (回访) of appeals closed in the period, read from the follow-up table rather than
    # the rollups (``add_followups``): due, completed (reached, or unreachable after the last try), outcomes.
    followups_due: int = 0
    followups_completed: int = 0
    followups_resolved: int = 0
    followups_not_resolved: int = 0
    followups_contested: int = 0
    followups_unreachable: int = 0

    SUMS = (
        "dispatched",
        "signed_on_time",
        "responded",
        "overdue",
        "returns",
        "rehandles",
        "ratings",
        "resolved",
        "satisfied",
        "basic",
    )

    def add(self, row: Mapping) -> None:
        self._percentiles.clear()
        for name in self.SUMS:
            value = row.get(name)
            if value:
                setattr(self, name, getattr(self, name) + value)
        # Rollup rows carry stored (packed) histograms; a plain {minutes: count} mapping is packed.
        for name in ("sign_minutes", "reply_minutes"):
            histogram = row.get(name)
            if histogram:
                if not isinstance(histogram, bytes | memoryview):  # a {minutes: count} mapping
                    histogram = histograms.pack(histogram)
                getattr(self, name).append(histograms.Cumulative(histogram))

    def add_followups(self, counts) -> None:
        """Add a ``followup.selectors.FollowUpCounts``."""
        self.followups_due += counts.due
        self.followups_completed += counts.completed
        self.followups_resolved += counts.resolved
        self.followups_not_resolved += counts.not_resolved
        self.followups_contested += counts.contested
        self.followups_unreachable += counts.unreachable

    @property
    def followup_rate(self) -> float | None:
        """回访率: follow-ups completed ÷ follow-ups due."""
        return ratio(self.followups_completed, self.followups_due)

    @property
    def response_rate(self) -> float | None:
        return ratio(self.responded, self.dispatched)

    @property
    def sign_on_time_rate(self) -> float | None:
        return ratio(self.signed_on_time, self.dispatched)

    @property
    def resolution_rate(self) -> float | None:
        return ratio(self.resolved, self.ratings)

    @property
    def satisfaction_rate(self) -> float | None:
        weight = settings.HUYING["BASIC_SATISFIED_WEIGHT"]
        return ratio(self.satisfied + weight * self.basic, self.ratings)

    @property
    def composite(self) -> float | None:
        return composite_score(self.response_rate, self.resolution_rate, self.satisfaction_rate)

    def hours(self, which: str, q: float) -> float | None:
        """The q-percentile of ``which`` durations in hours; the median and p90 are computed together."""
        known = self._percentiles.setdefault(which, {})
        if q not in known:
            qs = (0.5, 0.9) if q in (0.5, 0.9) else (q,)
            known.update(zip(qs, histograms.percentiles(getattr(self, which), qs), strict=True))
        minutes = known[q]
        return None if minutes is None else round(minutes / 60, 1)

    @property
    def sign_median_hours(self) -> float | None:
        return self.hours("sign_minutes", 0.5)

    @property
    def sign_p90_hours(self) -> float | None:
        return self.hours("sign_minutes", 0.9)

    @property
    def reply_median_hours(self) -> float | None:
        return self.hours("reply_minutes", 0.5)

    @property
    def reply_p90_hours(self) -> float | None:
        return self.hours("reply_minutes", 0.9)


def composite_score(response: float | None, resolution: float | None, satisfaction: float | None) -> float | None:
    """0–100: weighted sum of the three rates (weights from settings.HUYING["SCORE_WEIGHTS"]).

    A rate with no denominator is left out and the remaining weights are re-normalised, so a
    bureau with no ratings yet is scored on response alone rather than punished with zeros.
    """
    weights = settings.HUYING["SCORE_WEIGHTS"]
    pairs = [(w, r) for w, r in zip(weights, (response, resolution, satisfaction), strict=True) if r is not None]
    total_weight = sum(w for w, _r in pairs)
    if not total_weight:
        return None
    return round(100 * sum(w * r for w, r in pairs) / total_weight, 1)


# --- Rising-category test -------------------------------------------------------------------------


def poisson_sf(count: int, mean: float) -> float:
    """P(X >= count) for X ~ Poisson(mean)."""
    if count <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    # The probabilities by recurrence, P(k+1) = P(k)·mean/(k+1): one multiplication per term instead
    # of an exp and an lgamma (counts reach thousands per cell at a province's volume).
    term = math.exp(-mean)
    cdf = 0.0
    for k in range(count):
        cdf += term
        term *= mean / (k + 1)
    return max(0.0, 1.0 - cdf)


def negbin_sf(count: int, mean: float, variance: float) -> float:
    """P(X >= count) for a negative binomial with the given mean and variance (> mean)."""
    if count <= 0:
        return 1.0
    r = mean * mean / (variance - mean)
    p = r / (r + mean)
    q = 1.0 - p
    # By recurrence, P(k+1) = P(k)·(k+r)/(k+1)·q, starting from P(0) = p^r (see poisson_sf).
    term = math.exp(r * math.log(p))
    cdf = 0.0
    for k in range(count):
        cdf += term
        term *= (k + r) / (k + 1) * q
    return max(0.0, 1.0 - cdf)


@dataclass
class RisingResult:
    count: int
    baseline_mean: float
    p_value: float
    flagged: bool
    model: str


MIN_COUNT = 10  # never flag fewer appeals than this in the current period
MIN_RATIO = 1.5  # nor a rise of less than half again the baseline
ALPHA = 0.01  # family-wise, Bonferroni-corrected over the cells tested


def rising_test(current: int, baseline: list[int], *, tests: int = 1) -> RisingResult:
    """Is ``current`` above the baseline periods' counts? (negative binomial / Poisson upper tail)."""
    periods = len(baseline)
    mean = sum(baseline) / periods if periods else 0.0
    variance = sum((b - mean) ** 2 for b in baseline) / (periods - 1) if periods > 1 else mean
    # Floor the expected count so a category that was silent is not flagged for a handful of appeals.
    expected = max(mean, 1.0)
    if variance > expected * 1.05:
        p_value, model = negbin_sf(current, expected, variance), "negbin"
    else:
        p_value, model = poisson_sf(current, expected), "poisson"
    flagged = current >= MIN_COUNT and current >= MIN_RATIO * expected and p_value < ALPHA / max(tests, 1)
    return RisingResult(current, mean, p_value, flagged, model)


# --- Hot topics ---------------------------------------------------------------------------------


def log_odds_terms(
    current: Mapping[str, int], baseline: Mapping[str, int], *, top: int = 10, min_count: int = 3, prior: float = 0.5
) -> list[tuple[str, float, int, int]]:
    """Terms most over-represented now vs the baseline: log-odds ratio with an informative Dirichlet
    prior (Monroe, Colaresi & Quinn 2008), z-scored. Returns (term, z, current, baseline) best first.
    """
    vocabulary = set(current) | set(baseline)
    if not vocabulary:
        return []
    pooled = Counter(current)
    pooled.update(baseline)
    pooled_total = sum(pooled.values())
    # Prior pseudo-counts proportional to pooled frequency, total mass = prior × vocabulary size.
    alpha0 = prior * len(vocabulary)
    n_current, n_baseline = sum(current.values()), sum(baseline.values())
    scored = []
    for term in vocabulary:
        y_i, y_j = current.get(term, 0), baseline.get(term, 0)
        if y_i < min_count:
            continue
        a = alpha0 * pooled[term] / pooled_total
        delta = math.log((y_i + a) / (n_current + alpha0 - y_i - a)) - math.log(
            (y_j + a) / (n_baseline + alpha0 - y_j - a)
        )
        variance = 1 / (y_i + a) + 1 / (y_j + a)
        scored.append((term, delta / math.sqrt(variance), y_i, y_j))
    scored.sort(key=lambda item: (-item[1], item[0]))
    return scored[:top]
