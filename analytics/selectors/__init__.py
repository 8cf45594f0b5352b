"""Reads for the dashboard, CSV downloads and reports.

Everything the dashboard shows reads rollup tables only. The report's two listing sheets (overdue
and re-opened appeals, the raw sheet) are the exception: they stream individual appeals, through
``report_overdue_rows`` and ``report_raw_rows`` (``analytics.selectors.listings``, re-exported here).

``Filters`` (``analytics.selectors.filters``) carries the period and the filters from the URL,
plus the scope: a bureau lead's filters are pinned to their own bureau (``bureau_id``) except for
the league tables, which every permitted user sees in full.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date

from django.db.models import F, Func, IntegerField, Q, QuerySet, Sum
from django.utils.translation import get_language

from analytics import metrics, terms
from analytics.collector import collector_paused
from analytics.models import (
    ALL,
    DailyCategoryRegionVolume,
    DailyCategoryVolume,
    DailyScorecard,
    DailyScorecardTotal,
    DailyTerm,
    DailyVolume,
    MonthlyScorecard,
    MonthlyScorecardTotal,
)
from analytics.selectors.filters import Filters
from analytics.selectors.listings import REPORT_OVERDUE_FIELDS as REPORT_OVERDUE_FIELDS
from analytics.selectors.listings import REPORT_RAW_FIELDS as REPORT_RAW_FIELDS
from analytics.selectors.listings import local_range as local_range
from analytics.selectors.listings import report_appeals as report_appeals
from analytics.selectors.listings import report_overdue_rows as report_overdue_rows
from analytics.selectors.listings import report_raw_rows as report_raw_rows
from followup.selectors import followup_counts, followup_total
from problems.selectors import ProblemCounts
from problems.selectors import problem_counts as problems_counts
from routing.models import Bureau, Category, Region

TREND_PERIODS = 8
BASELINE_PERIODS = 8
HOT_TOPIC_BASELINE_PERIODS = 4
# A hot topic must be in at least this many of the period's appeals (one enterprise's wording is not a
# topic) and more frequent than in the baseline (z above 0: distinctive, not merely common).
HOT_TOPIC_MIN_APPEALS = 3
HOT_TOPIC_MIN_Z = 0.0


class PeriodIndex(Func):
    """Which period of ``length`` days, counted from ``start`` (0, 1, …), a date column falls in.

    Grouping by it in SQL sends one row per period instead of one per day (the rising-category
    test reads nine periods of every category × region cell).
    """

    output_field = IntegerField()

    def __init__(self, column: str, start: date, length: int):
        super().__init__(F(column))
        self.start, self.length = start, length

    def as_sql(self, compiler, connection, **extra_context):  # PostgreSQL: date - date is whole days
        column, params = compiler.compile(self.source_expressions[0])
        return f"(({column} - %s::date) / %s)", [*params, self.start, self.length]

    def as_sqlite(self, compiler, connection, **extra_context):
        column, params = compiler.compile(self.source_expressions[0])
        days = f"(CAST(julianday({column}) AS INTEGER) - CAST(julianday(%s) AS INTEGER))"
        return f"({days} / %s)", [*params, self.start.isoformat(), self.length]


# --- Labels -------------------------------------------------------------------------------------


# Inside ``shared_labels()`` (one dashboard page, one report) each label dict is read once, however
# many selectors name categories, regions or bureaus; outside it, every call reads the table.
_label_memo: ContextVar[dict[tuple[str, str], dict[int, str]] | None] = ContextVar("analytics_labels", default=None)


@contextmanager
def shared_labels() -> Iterator[None]:
    """Read each label table at most once (per language) within this block."""
    token = _label_memo.set({})
    try:
        yield
    finally:
        _label_memo.reset(token)


def _labels(kind: str, read: Callable[[], dict[int, str]]) -> dict[int, str]:
    memo = _label_memo.get()
    if memo is None:
        return read()
    key = (kind, get_language() or "")
    if key not in memo:
        memo[key] = read()
    return memo[key]


def category_labels() -> dict[int, str]:
    """Category id → name in the current language."""
    return _labels("category", lambda: {c.pk: c.display_name for c in Category.objects.all()})


def region_labels() -> dict[int, str]:
    """Region id → name in the current language."""
    return _labels("region", lambda: {r.pk: r.display_name for r in Region.objects.all()})


def bureau_labels() -> dict[int, str]:
    """Bureau id → name in the current language."""
    return _labels("bureau", lambda: {b.pk: b.display_name for b in Bureau.objects.all()})


# --- Volume: ranking, trend, heat map, rising ---------------------------------------------------


def volume_rows(filters: Filters, *, start: date | None = None, end: date | None = None) -> QuerySet:
    """Volume rollup rows of the filters' period (or ``start``–``end``) with ``day``, ``category_id``,
    ``appeal_type`` and ``count``: from DailyCategoryVolume when no other filter is set (a few hundred
    rows a day), else from DailyVolume (about one per appeal at a province's volume)."""
    if filters.by_category_only:
        return DailyCategoryVolume.objects.filter(filters.category_volume_q(start=start, end=end))
    return DailyVolume.objects.filter(filters.volume_q(start=start, end=end))


def category_region_rows(filters: Filters, *, start: date | None = None, end: date | None = None) -> QuerySet:
    """Volume rollup rows with ``day``, ``category_id``, ``region_id`` and ``count`` for the heat map and
    the rising test: from DailyCategoryRegionVolume when no filter other than the period and the
    region is set, else from DailyVolume."""
    if filters.by_category_and_region_only:
        return DailyCategoryRegionVolume.objects.filter(filters.category_region_volume_q(start=start, end=end))
    return DailyVolume.objects.filter(filters.volume_q(start=start, end=end))


def category_counts(filters: Filters) -> Counter:
    rows = volume_rows(filters).values("category_id").annotate(n=Sum("count")).order_by()
    return Counter({row["category_id"]: row["n"] for row in rows})


@dataclass
class TypeRow:
    code: str  # "" for appeals filed before types existed that could not be typed
    label: str
    count: int
    share: float  # of the period's appeals
    previous: int  # the same filters one period earlier


def type_breakdown(filters: Filters) -> list[TypeRow]:
    """Appeals per appeal type in the period (with the previous period), in the types' own order.

    Reads DailyVolume on its (day, appeal_type) index. With a type filter set, only that type shows.
    """
    from routing.appeal_types import AppealType

    def counts(f: Filters) -> Counter:
        rows = volume_rows(f).values("appeal_type").annotate(n=Sum("count")).order_by()
        return Counter({row["appeal_type"]: row["n"] for row in rows})

    now, before = counts(filters), counts(filters.shifted(-1))
    total = sum(now.values())
    codes = [code for code in AppealType.values if not filters.appeal_type or code == filters.appeal_type]
    if now.get("") or before.get(""):
        codes.append("")
    return [
        TypeRow(
            code=code,
            label=str(AppealType(code).label) if code else "—",
            count=now.get(code, 0),
            share=now.get(code, 0) / total if total else 0.0,
            previous=before.get(code, 0),
        )
        for code in codes
    ]


def category_period_counts(filters: Filters, periods: int) -> dict[int, list[int]]:
    """Counts per category for the ``periods`` periods ending with the filter's period, oldest first."""
    first = filters.shifted(-(periods - 1))
    rows = (
        volume_rows(filters, start=first.start, end=filters.end)
        .annotate(period=PeriodIndex("day", first.start, filters.length))
        .values_list("category_id", "period")
        .annotate(n=Sum("count"))
        .order_by()
    )
    series: dict[int, list[int]] = defaultdict(lambda: [0] * periods)
    for category_id, index, n in rows:
        series[category_id][index] += n
    return dict(series)


@dataclass
class RankingRow:
    rank: int
    category_id: int
    category: str
    count: int
    share: float | None
    previous: int
    change: int
    change_pct: float | None
    trend: list[int]


def category_ranking(filters: Filters) -> list[RankingRow]:
    """Categories by volume in the period, with share, change vs the previous period and an 8-period trend."""
    series = category_period_counts(filters, TREND_PERIODS)
    labels = category_labels()
    total = sum(s[-1] for s in series.values())
    ordered = sorted(
        (cid for cid, s in series.items() if s[-1] or s[-2]), key=lambda cid: (-series[cid][-1], labels.get(cid, ""))
    )
    rows = []
    for rank, cid in enumerate(ordered, start=1):
        current, previous = series[cid][-1], series[cid][-2]
        rows.append(
            RankingRow(
                rank=rank,
                category_id=cid,
                category=labels.get(cid, str(cid)),
                count=current,
                share=metrics.ratio(current, total),
                previous=previous,
                change=current - previous,
                change_pct=metrics.ratio(current - previous, previous),
                trend=series[cid],
            )
        )
    return rows


def period_starts(filters: Filters, periods: int = TREND_PERIODS) -> list[date]:
    return [filters.shifted(-(periods - 1 - i)).start for i in range(periods)]


Heatmap = tuple[list[tuple[int, str]], list[tuple[int, str]], dict[tuple[int, int], int]]


def heatmap(filters: Filters) -> Heatmap:
    """Category × region counts: (categories, regions, {(category_id, region_id): count})."""
    rows = category_region_rows(filters).values("category_id", "region_id").annotate(n=Sum("count")).order_by()
    cells = {(row["category_id"], row["region_id"]): row["n"] for row in rows}
    c_labels, r_labels = category_labels(), region_labels()
    category_totals: Counter = Counter()
    region_totals: Counter = Counter()
    for (cid, rid), n in cells.items():
        category_totals[cid] += n
        region_totals[rid] += n
    categories = [(cid, c_labels.get(cid, str(cid))) for cid, _n in category_totals.most_common()]
    regions = [(rid, r_labels.get(rid, str(rid))) for rid, _n in region_totals.most_common()]
    return categories, regions, cells


@dataclass
class RisingRow:
    category_id: int
    category: str
    region_id: int | None
    region: str
    count: int
    baseline_mean: float
    ratio: float | None
    p_value: float
    model: str


def rising(filters: Filters) -> list[RisingRow]:
    """Categories and category × region cells significantly above their own recent baseline.

    Baseline: the ``BASELINE_PERIODS`` periods before the current one. Test and thresholds are in
    ``metrics.rising_test`` and docs/metrics.md; Bonferroni-corrected over every cell tested.
    """
    periods = BASELINE_PERIODS + 1
    first = filters.shifted(-BASELINE_PERIODS)
    rows = (
        category_region_rows(filters, start=first.start, end=filters.end)
        .annotate(period=PeriodIndex("day", first.start, filters.length))
        .values_list("category_id", "region_id", "period")
        .annotate(n=Sum("count"))
        .order_by()
    )
    by_category: dict[int, list[int]] = defaultdict(lambda: [0] * periods)
    by_cell: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0] * periods)
    for category_id, region_id, index, n in rows:
        by_category[category_id][index] += n
        by_cell[(category_id, region_id)][index] += n
    tests = len(by_category) + len(by_cell)
    c_labels, r_labels = category_labels(), region_labels()
    out = []
    cells: list[tuple[int | tuple[int, int], list[int]]] = [*by_category.items(), *by_cell.items()]
    for key, series in cells:
        result = metrics.rising_test(series[-1], series[:-1], tests=tests)
        if not result.flagged:
            continue
        cid, rid = (key, None) if isinstance(key, int) else key
        out.append(
            RisingRow(
                category_id=cid,
                category=c_labels.get(cid, str(cid)),
                region_id=rid,
                region=r_labels.get(rid, "") if rid else "",
                count=result.count,
                baseline_mean=round(result.baseline_mean, 1),
                ratio=metrics.ratio(result.count, result.baseline_mean),
                p_value=result.p_value,
                model=result.model,
            )
        )
    out.sort(key=lambda r: (r.p_value, -r.count))
    return out


# --- Scorecards ---------------------------------------------------------------------------------

_SCORE_VALUES = (*metrics.Scorecard.SUMS, "sign_minutes", "reply_minutes")


def scorecard_cells(
    filters: Filters, *fields: str, scoped: bool = True, by: str | None = None, totals: bool = True
) -> list[dict]:
    """Scorecard rollup rows that together cover the period exactly once, ready to sum ``by`` bureau or region.

    Whole calendar months inside the period come from the monthly tables (one row per key and
    month instead of ~30), the days before the first and after the last whole month from the daily
    ones. Where the filters allow it the rows are totals over a dimension (``_total_rows``): per
    bureau instead of per bureau × appeal region, or the day's total for the KPIs. Summing the rows
    gives the same scorecard either way; ``totals=False`` always reads the cells.
    """
    months, days = filters.scorecard_parts()
    total_q = _total_rows(filters, scoped=scoped, by=by) if totals else None
    daily: type[DailyScorecard | DailyScorecardTotal]
    monthly: type[MonthlyScorecard | MonthlyScorecardTotal]
    if total_q is None:
        daily, monthly, row_q = DailyScorecard, MonthlyScorecard, filters.scorecard_q(scoped=scoped)
    else:
        daily, monthly, row_q = DailyScorecardTotal, MonthlyScorecardTotal, total_q
    rows: list[dict] = []
    if months:
        rows.extend(
            monthly.objects.filter(row_q, month__gte=months[0], month__lte=months[1]).values(*fields).order_by()
        )
    if days:
        day_q = Q()
        for first, last in days:
            day_q |= Q(day__gte=first, day__lte=last)
        rows.extend(daily.objects.filter(row_q, day_q).values(*fields).order_by())
    return rows


def _total_rows(filters: Filters, *, scoped: bool, by: str | None) -> Q | None:
    """Which total rows stand for the cells these filters select, or None when only cells can.

    By bureau, or overall, without a region filter: the per-bureau totals (one bureau's for a lead)
    or the day's total. By region without a bureau scope: the per-region totals, of the filtered
    regions if any. A bureau lead's regional breakdown, or a bureau figure within some regions,
    needs the cells.
    """
    bureau_id = filters.bureau_id if scoped else None
    if by == "region":
        if bureau_id is not None:
            return None
        q = Q(bureau_id=ALL) & ~Q(region_id=ALL)
        return q & Q(region_id__in=filters.region_ids) if filters.region_ids is not None else q
    if filters.region_ids is not None:
        return None
    if by == "bureau":
        q = Q(region_id=ALL) & ~Q(bureau_id=ALL)
        return q & Q(bureau_id=bureau_id) if bureau_id is not None else q
    return Q(region_id=ALL, bureau_id=bureau_id if bureau_id is not None else ALL)


def scorecards(filters: Filters, *, by: str = "bureau", scoped: bool = True) -> dict[int, metrics.Scorecard]:
    """Scorecard per bureau (``by="bureau"``) or per appeal region (``by="region"``)."""
    key = f"{by}_id"
    cards: dict[int, metrics.Scorecard] = defaultdict(metrics.Scorecard)
    with collector_paused():
        for row in scorecard_cells(filters, key, *_SCORE_VALUES, scoped=scoped, by=by):
            cards[row[key]].add(row)
    for pk, counts in followup_counts(
        start=filters.start,
        end=filters.end,
        by=by,
        region_ids=filters.region_ids,
        bureau_id=filters.bureau_id if scoped else None,
    ).items():
        if pk is not None:
            cards[pk].add_followups(counts)
    return dict(cards)


def overall_scorecard(filters: Filters) -> metrics.Scorecard:
    total = metrics.Scorecard()
    for row in scorecard_cells(filters, *_SCORE_VALUES):
        total.add(row)
    total.add_followups(
        followup_total(start=filters.start, end=filters.end, region_ids=filters.region_ids, bureau_id=filters.bureau_id)
    )
    return total


def problem_counts(filters: Filters) -> ProblemCounts:
    """Problem tickets (问题工单) of the period in the filters' region and bureau scope."""
    return problems_counts(
        start=filters.start, end=filters.end, region_ids=filters.region_ids, bureau_id=filters.bureau_id
    )


@dataclass
class LeagueRow:
    rank: int
    id: int
    name: str
    card: metrics.Scorecard


def league(filters: Filters, *, by: str) -> list[LeagueRow]:
    """Bureaus or regions ranked by composite score (then response rate, then volume); unscoped."""
    cards = scorecards(filters, by=by, scoped=False)
    labels = bureau_labels() if by == "bureau" else region_labels()
    ordered = sorted(
        cards.items(),
        key=lambda item: (
            -(item[1].composite if item[1].composite is not None else -1),
            -(item[1].response_rate or 0),
            -item[1].dispatched,
            labels.get(item[0], ""),
        ),
    )
    return [
        LeagueRow(rank=i, id=pk, name=labels.get(pk, str(pk)), card=card) for i, (pk, card) in enumerate(ordered, 1)
    ]


def scorecard_rows(filters: Filters) -> list[LeagueRow]:
    """The scorecard table: the user's scope (all bureaus, or a lead's own bureau), by volume."""
    cards = scorecards(filters, by="bureau")
    labels = bureau_labels()
    ordered = sorted(cards.items(), key=lambda item: (-item[1].dispatched, labels.get(item[0], "")))
    return [
        LeagueRow(rank=i, id=pk, name=labels.get(pk, str(pk)), card=card) for i, (pk, card) in enumerate(ordered, 1)
    ]


# --- KPIs and hot topics ------------------------------------------------------------------------


@dataclass
class Kpis:
    appeals: int
    card: metrics.Scorecard
    previous_appeals: int
    previous_card: metrics.Scorecard


def kpis(filters: Filters) -> Kpis:
    previous = filters.shifted(-1)
    total = volume_rows(filters).aggregate(n=Sum("count"))["n"] or 0
    previous_total = volume_rows(previous).aggregate(n=Sum("count"))["n"] or 0
    return Kpis(total, overall_scorecard(filters), previous_total, overall_scorecard(previous))


@dataclass
class HotTopics:
    category_id: int
    category: str
    appeals: int
    terms: list[tuple[str, float, int, int]]


def hot_topics(
    filters: Filters, *, categories: int = 5, top: int = 8, ranking: list[RankingRow] | None = None
) -> list[HotTopics]:
    """Most characteristic terms of the top categories this period vs the previous four periods.

    Term counts are per category and day (no region/industry dimension), so only the period and the
    category selection follow the filters.
    """
    ranking = (ranking if ranking is not None else category_ranking(filters))[:categories]
    if not ranking:
        return []
    baseline_start = filters.shifted(-HOT_TOPIC_BASELINE_PERIODS).start
    ids = [row.category_id for row in ranking]
    current: dict[int, Counter] = defaultdict(Counter)
    baseline: dict[int, Counter] = defaultdict(Counter)
    for row in (
        DailyTerm.objects.filter(category_id__in=ids, day__gte=baseline_start, day__lte=filters.end)
        .values("category_id", "term", "day")
        .annotate(n=Sum("count"))
        .order_by()
    ):
        # Terms stored before a stop word was added are filtered here too, so the list applies at once.
        if not terms.is_informative(row["term"]):
            continue
        target = current if row["day"] >= filters.start else baseline
        target[row["category_id"]][row["term"]] += row["n"]
    return [
        HotTopics(
            category_id=row.category_id,
            category=row.category,
            appeals=row.count,
            terms=[
                scored
                for scored in metrics.log_odds_terms(
                    current[row.category_id],
                    baseline[row.category_id],
                    top=len(current[row.category_id]),
                    min_count=HOT_TOPIC_MIN_APPEALS,
                )
                if scored[1] > HOT_TOPIC_MIN_Z
            ][:top],
        )
        for row in ranking
    ]
