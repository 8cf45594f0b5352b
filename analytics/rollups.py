"""Keeping the fact and rollup tables up to date.

The incremental path (``update_rollups``, run by Celery every few minutes) reads audit events with
an id above the cursor, recomputes the fact row of every appeal they touch, then recomputes the
rollup rows of every day those facts belonged to before or after. Recomputing whole days from
facts (instead of adding deltas) makes a run idempotent: running it twice, or after a crash
between two steps, gives the same tables. The cursor row is locked for the run so two workers
never interleave.

``rebuild_all`` truncates and recomputes everything (``manage.py rebuild_rollups``).

Scorecards have two levels: ``DailyScorecard`` (from the facts) and ``MonthlyScorecard`` (sums of a
month's daily rows), each with its totals over one dimension (``DailyScorecardTotal``,
``MonthlyScorecardTotal``: per bureau, per appeal region, overall), all rewritten together by
``recompute_scorecard_days``.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from analytics import dashboard, histograms
from analytics import terms as term_segmentation
from analytics.models import (
    ALL,
    AppealFact,
    DailyCategoryRegionVolume,
    DailyCategoryVolume,
    DailyScorecard,
    DailyScorecardTotal,
    DailyTerm,
    DailyVolume,
    MonthlyScorecard,
    MonthlyScorecardTotal,
    ReturnFact,
    RollupCursor,
)
from appeals.models import OPEN_STATES, Appeal, AppealEvent, AppealState, Rating

CURSOR = "appeal_events"
# Every table derived from the facts (what ``rebuild_all`` empties besides the facts themselves).
ROLLUP_TABLES = (
    DailyVolume,
    DailyCategoryVolume,
    DailyCategoryRegionVolume,
    DailyScorecard,
    DailyScorecardTotal,
    MonthlyScorecard,
    MonthlyScorecardTotal,
    DailyTerm,
)
EVENT_BATCH = 2000
DISPATCH_KINDS = ("dispatched", "redispatched")

_APPEAL_FIELDS = (
    "id",
    "submitted_at",
    "category_id",
    "region_id",
    "industry",
    "enterprise_size",
    "channel",
    "appeal_type",
    "state",
    "bureau_id",
    "dispatched_at",
    "signed_at",
    "sign_for_due",
    "first_contact_at",
    "first_contact_due",
    "replied_at",
    "reply_due",
    "reopen_count",
    "title",
    "description",
)


def local_day(value: datetime) -> date:
    return timezone.localdate(value)


def _minutes(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None or end < start:
        return None
    return int((end - start).total_seconds() // 60)


def rating_counts(ratings: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """Counted ratings of one appeal and their numerators (rules in docs/metrics.md)."""
    count_default = settings.HUYING["COUNT_DEFAULT_RATINGS"]
    out = {"ratings": 0, "resolved": 0, "satisfied": 0, "basic": 0}
    for rating in ratings:
        if rating["is_followup"] or rating["contest"] == Rating.Contest.UPHELD:
            continue
        if rating["is_default"] and not count_default:
            continue
        out["ratings"] += 1
        # A default rating closes the appeal as 基本满意 without objection: counted as resolved.
        if rating["resolved"] is True or (rating["is_default"] and rating["resolved"] is None):
            out["resolved"] += 1
        if rating["level"] >= 4:
            out["satisfied"] += 1
        elif rating["level"] == 3:
            out["basic"] += 1
    return out


def build_fact(
    appeal: Mapping[str, Any],
    events: Sequence[Mapping[str, Any]],
    ratings: Sequence[Mapping[str, Any]],
    *,
    now: datetime,
    terms: list[str] | None = None,
) -> tuple[AppealFact, list[ReturnFact]]:
    """Derive the fact row (and its returns) of one appeal from its row, events and ratings."""
    dispatched_at = appeal["dispatched_at"]
    bureau_id = appeal["bureau_id"] if dispatched_at else None
    signed_at = appeal["signed_at"]
    signed_on_time = bool(
        bureau_id and signed_at and (appeal["sign_for_due"] is None or signed_at <= appeal["sign_for_due"])
    )
    contact = appeal["first_contact_at"]
    responded = bool(
        signed_on_time
        and contact is not None
        and (appeal["first_contact_due"] is None or contact <= appeal["first_contact_due"])
    )
    reply_due, replied_at = appeal["reply_due"], appeal["replied_at"]
    overdue = bool(
        bureau_id
        and reply_due is not None
        and (
            (replied_at is not None and replied_at > reply_due)
            or (replied_at is None and appeal["state"] in OPEN_STATES and now > reply_due)
        )
    )
    first_reply = next((e["created_at"] for e in events if e["kind"] == "replied"), replied_at)
    returns: list[ReturnFact] = []
    current_bureau = None
    for event in events:
        if event["kind"] in DISPATCH_KINDS:
            current_bureau = (event["data"] or {}).get("bureau_id", current_bureau)
        elif event["kind"] == "returned":
            returning = current_bureau or appeal["bureau_id"]
            if returning:
                returns.append(
                    ReturnFact(
                        appeal_id=appeal["id"],
                        bureau_id=returning,
                        region_id=appeal["region_id"],
                        day=local_day(event["created_at"]),
                    )
                )
    if terms is None:
        terms = term_segmentation.document_terms(appeal["title"], appeal["description"])
    fact = AppealFact(
        appeal_id=appeal["id"],
        day=local_day(appeal["submitted_at"]),
        category_id=appeal["category_id"],
        region_id=appeal["region_id"],
        industry=appeal["industry"],
        size=appeal["enterprise_size"],
        channel=appeal["channel"],
        appeal_type=appeal["appeal_type"] or "",
        state=appeal["state"],
        counted=appeal["state"] not in (AppealState.MERGED, AppealState.REJECTED),
        bureau_id=bureau_id,
        dispatch_day=local_day(dispatched_at) if dispatched_at else None,
        signed_on_time=signed_on_time,
        responded=responded,
        overdue=overdue,
        sign_minutes=_minutes(dispatched_at, signed_at) if bureau_id else None,
        reply_minutes=_minutes(dispatched_at, first_reply) if bureau_id else None,
        reopen_count=appeal["reopen_count"],
        terms=terms,
        **rating_counts(ratings),
    )
    return fact, returns


def _load(
    appeal_ids: list[int],
) -> tuple[list[dict[str, Any]], dict[int, list[Mapping[str, Any]]], dict[int, list[Mapping[str, Any]]]]:
    appeals = list(Appeal.objects.filter(pk__in=appeal_ids).order_by().values(*_APPEAL_FIELDS))
    events: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for event in (
        AppealEvent.objects.filter(appeal_id__in=appeal_ids, kind__in=(*DISPATCH_KINDS, "returned", "replied"))
        .order_by("appeal_id", "seq")
        .values("appeal_id", "kind", "data", "created_at")
    ):
        events[event["appeal_id"]].append(event)
    ratings: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for rating in (
        Rating.objects.filter(appeal_id__in=appeal_ids)
        .order_by()
        .values("appeal_id", "level", "resolved", "is_default", "is_followup", "contest")
    ):
        ratings[rating["appeal_id"]].append(rating)
    return appeals, events, ratings


def refresh_appeals(appeal_ids: Iterable[int], *, now: datetime | None = None) -> int:
    """Recompute the facts of ``appeal_ids`` and every rollup day they touch. Returns facts written.

    Must run inside a transaction (the callers hold the cursor lock).
    """
    ids = sorted(set(appeal_ids))
    if not ids:
        return 0
    now = now or timezone.now()
    old_facts = {f.appeal_id: f for f in AppealFact.objects.filter(appeal_id__in=ids)}
    volume_days: set[date] = set()
    score_days: set[date] = set()
    for fact in old_facts.values():
        volume_days.add(fact.day)
        if fact.dispatch_day:
            score_days.add(fact.dispatch_day)
    score_days.update(ReturnFact.objects.filter(appeal_id__in=ids).values_list("day", flat=True).distinct())

    appeals, events, ratings = _load(ids)
    facts, returns = [], []
    for appeal in appeals:
        old = old_facts.get(appeal["id"])
        # Texts never change after submission: keep the segmentation instead of running jieba again.
        fact, appeal_returns = build_fact(
            appeal, events[appeal["id"]], ratings[appeal["id"]], now=now, terms=old.terms if old else None
        )
        facts.append(fact)
        returns.extend(appeal_returns)
        volume_days.add(fact.day)
        if fact.dispatch_day:
            score_days.add(fact.dispatch_day)
        score_days.update(r.day for r in appeal_returns)

    AppealFact.objects.filter(appeal_id__in=ids).delete()
    ReturnFact.objects.filter(appeal_id__in=ids).delete()
    AppealFact.objects.bulk_create(facts, batch_size=1000)
    ReturnFact.objects.bulk_create(returns, batch_size=1000)
    recompute_volume_days(volume_days)
    recompute_scorecard_days(score_days)
    return len(facts)


def recompute_volume_days(days: Iterable[date]) -> None:
    """Rewrite DailyVolume, its narrower copies (by category, by category × region) and DailyTerm rows of ``days``."""
    days = sorted(set(days))
    if not days:
        return
    DailyVolume.objects.filter(day__in=days).delete()
    DailyCategoryVolume.objects.filter(day__in=days).delete()
    DailyCategoryRegionVolume.objects.filter(day__in=days).delete()
    DailyTerm.objects.filter(day__in=days).delete()
    volume: Counter = Counter()
    by_category: Counter = Counter()
    by_category_region: Counter = Counter()
    terms: Counter = Counter()
    for fact in (
        AppealFact.objects.filter(day__in=days, counted=True)
        .order_by()
        .values_list(
            "day", "category_id", "region_id", "industry", "size", "channel", "bureau_id", "terms", "appeal_type"
        )
        .iterator(chunk_size=5000)
    ):
        day, category_id, region_id, industry, size, channel, bureau_id, fact_terms, appeal_type = fact
        volume[(day, category_id, region_id, industry, size, channel, bureau_id or 0, appeal_type)] += 1
        by_category[(day, category_id, appeal_type)] += 1
        by_category_region[(day, category_id, region_id)] += 1
        for term in fact_terms:
            terms[(day, category_id, term)] += 1
    DailyVolume.objects.bulk_create(
        (
            DailyVolume(
                day=k[0],
                category_id=k[1],
                region_id=k[2],
                industry=k[3],
                size=k[4],
                channel=k[5],
                bureau_id=k[6],
                appeal_type=k[7],
                count=n,
            )
            for k, n in volume.items()
        ),
        batch_size=2000,
    )
    DailyCategoryVolume.objects.bulk_create(
        (DailyCategoryVolume(day=k[0], category_id=k[1], appeal_type=k[2], count=n) for k, n in by_category.items()),
        batch_size=2000,
    )
    DailyCategoryRegionVolume.objects.bulk_create(
        (
            DailyCategoryRegionVolume(day=k[0], category_id=k[1], region_id=k[2], count=n)
            for k, n in by_category_region.items()
        ),
        batch_size=2000,
    )
    DailyTerm.objects.bulk_create(
        (DailyTerm(day=k[0], category_id=k[1], term=k[2][:40], count=n) for k, n in terms.items()),
        batch_size=5000,
    )


_SCORE_SUMS = ("signed_on_time", "responded", "overdue", "ratings", "resolved", "satisfied", "basic")
_CELL_SUMS = ("dispatched", *_SCORE_SUMS, "returns", "rehandles")


def recompute_scorecard_days(days: Iterable[date]) -> None:
    """Rewrite DailyScorecard rows of ``days`` from the facts and return facts, then their totals and months.

    The day's totals (``DailyScorecardTotal``) are summed from the new cells, and the monthly rows
    of every month containing one of ``days`` are rebuilt from the new daily rows, so cells, totals,
    days and months never disagree.
    """
    days = sorted(set(days))
    if not days:
        return
    DailyScorecard.objects.filter(day__in=days).delete()
    cells: dict[tuple, DailyScorecard] = {}
    durations: dict[tuple, tuple[Counter, Counter]] = {}

    def cell(day: date, bureau_id: int, region_id: int) -> DailyScorecard:
        key = (day, bureau_id, region_id)
        if key not in cells:
            cells[key] = DailyScorecard(day=day, bureau_id=bureau_id, region_id=region_id)
            durations[key] = (Counter(), Counter())
        return cells[key]

    for fact in (
        AppealFact.objects.filter(dispatch_day__in=days, bureau_id__isnull=False)
        .order_by()
        .values("dispatch_day", "bureau_id", "region_id", "reopen_count", "sign_minutes", "reply_minutes", *_SCORE_SUMS)
        .iterator(chunk_size=5000)
    ):
        row = cell(fact["dispatch_day"], fact["bureau_id"], fact["region_id"])
        row.dispatched += 1
        for name in _SCORE_SUMS:
            setattr(row, name, getattr(row, name) + int(fact[name]))
        row.rehandles += fact["reopen_count"]
        sign, reply = durations[(fact["dispatch_day"], fact["bureau_id"], fact["region_id"])]
        if fact["sign_minutes"] is not None:
            sign[fact["sign_minutes"]] += 1
        if fact["reply_minutes"] is not None:
            reply[fact["reply_minutes"]] += 1
    for day, bureau_id, region_id in ReturnFact.objects.filter(day__in=days).values_list(
        "day", "bureau_id", "region_id"
    ):
        cell(day, bureau_id, region_id).returns += 1
    totals = _totals(cells, durations)
    for key, row in cells.items():
        sign, reply = durations[key]
        row.sign_minutes = histograms.pack(sign)
        row.reply_minutes = histograms.pack(reply)
    DailyScorecard.objects.bulk_create(cells.values(), batch_size=1000)
    DailyScorecardTotal.objects.filter(day__in=days).delete()
    DailyScorecardTotal.objects.bulk_create(totals, batch_size=1000)
    recompute_scorecard_months({day.replace(day=1) for day in days})


def _totals(
    cells: Mapping[tuple, DailyScorecard], durations: Mapping[tuple, tuple[Counter, Counter]]
) -> list[DailyScorecardTotal]:
    """Per day: each bureau over every region, each region over every bureau, and everything."""
    totals: dict[tuple, DailyScorecardTotal] = {}
    total_durations: dict[tuple, tuple[Counter, Counter]] = {}
    for (day, bureau_id, region_id), row in cells.items():
        sign, reply = durations[(day, bureau_id, region_id)]
        for key in ((day, bureau_id, ALL), (day, ALL, region_id), (day, ALL, ALL)):
            if key not in totals:
                totals[key] = DailyScorecardTotal(day=day, bureau_id=key[1], region_id=key[2])
                total_durations[key] = (Counter(), Counter())
            target = totals[key]
            for name in _CELL_SUMS:
                setattr(target, name, getattr(target, name) + getattr(row, name))
            total_durations[key][0].update(sign)
            total_durations[key][1].update(reply)
    for key, target in totals.items():
        target.sign_minutes = histograms.pack(total_durations[key][0])
        target.reply_minutes = histograms.pack(total_durations[key][1])
    return list(totals.values())


def month_end(month: date) -> date:
    """The last day of the month that starts on ``month``."""
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def recompute_scorecard_months(months: Iterable[date]) -> None:
    """Rewrite the monthly rows of ``months`` (first days of months), cells and totals, as sums of their days."""
    for month in sorted(set(months)):
        for daily, monthly in ((DailyScorecard, MonthlyScorecard), (DailyScorecardTotal, MonthlyScorecardTotal)):
            _sum_month(month, daily, monthly)


def _sum_month(month: date, daily: type[Any], monthly: type[Any]) -> None:
    monthly.objects.filter(month=month).delete()
    cells: dict[tuple[int, int], Any] = {}
    parts: dict[tuple[int, int], tuple[list, list]] = defaultdict(lambda: ([], []))
    for row in (
        daily.objects.filter(day__gte=month, day__lte=month_end(month))
        .order_by()
        .values("bureau_id", "region_id", "sign_minutes", "reply_minutes", *_CELL_SUMS)
        .iterator(chunk_size=2000)
    ):
        key = (row["bureau_id"], row["region_id"])
        if key not in cells:
            cells[key] = monthly(month=month, bureau_id=key[0], region_id=key[1])
        target = cells[key]
        for name in _CELL_SUMS:
            setattr(target, name, getattr(target, name) + row[name])
        parts[key][0].append(row["sign_minutes"])
        parts[key][1].append(row["reply_minutes"])
    for key, target in cells.items():
        target.sign_minutes = histograms.merge(parts[key][0])
        target.reply_minutes = histograms.merge(parts[key][1])
    monthly.objects.bulk_create(cells.values(), batch_size=1000)


def update_rollups(*, batch: int = EVENT_BATCH, max_batches: int | None = None, now: datetime | None = None) -> int:
    """Process audit events past the cursor, batch by batch. Returns the number of events read.

    Each batch is one transaction that locks the cursor row, so concurrent runs queue up instead
    of double-processing; a crash rolls the batch back with its cursor move.
    Also refreshes open appeals whose reply deadline passed since the last run (overdue changes
    with time, not with an event).
    """
    total = 0
    batches = 0
    changed = False
    now = now or timezone.now()
    RollupCursor.objects.get_or_create(name=CURSOR)
    while max_batches is None or batches < max_batches:
        with transaction.atomic():
            cursor = RollupCursor.objects.select_for_update().get(name=CURSOR)
            rows = list(
                AppealEvent.objects.filter(pk__gt=cursor.last_event_id)
                .order_by("pk")
                .values_list("pk", "appeal_id")[:batch]
            )
            ids = {appeal_id for _pk, appeal_id in rows}
            since = cursor.overdue_checked_until
            overdue_query = Appeal.objects.filter(state__in=OPEN_STATES, replied_at__isnull=True, reply_due__lte=now)
            if since is not None:
                overdue_query = overdue_query.filter(reply_due__gt=since)
            due = list(overdue_query.order_by("reply_due", "pk").values_list("pk", "reply_due")[:batch])
            ids.update(pk for pk, _due in due)
            refresh_appeals(ids, now=now)
            changed = changed or bool(ids)
            if rows:
                cursor.last_event_id = rows[-1][0]
            # A full batch of newly overdue appeals: resume after the last one next time round.
            cursor.overdue_checked_until = due[-1][1] if len(due) == batch else now
            cursor.save()
        total += len(rows)
        batches += 1
        if len(rows) < batch and len(due) < batch:
            break
    if changed:
        dashboard.data_changed()
    return total


def rebuild_all(*, chunk: int = 2000, progress: Callable[[int], None] | None = None) -> int:
    """Truncate and recompute every fact and rollup from appeals and their events.

    ``progress(n)`` is called after each chunk with the number of appeals done in it. Returns the
    number of appeals. The cursor is set to the last event id seen before the rebuild started, so
    the incremental task continues from there (events arriving during the rebuild are re-read).
    """
    now = timezone.now()
    last_event = AppealEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with transaction.atomic():
        for model in (AppealFact, ReturnFact, *ROLLUP_TABLES):
            model.objects.all()._raw_delete(model.objects.db)
    last_id = 0
    count = 0
    while True:
        ids = list(Appeal.objects.filter(pk__gt=last_id).order_by("pk").values_list("pk", flat=True)[:chunk])
        if not ids:
            break
        appeals, events, ratings = _load(ids)
        facts, returns = [], []
        for appeal in appeals:
            fact, appeal_returns = build_fact(appeal, events[appeal["id"]], ratings[appeal["id"]], now=now)
            facts.append(fact)
            returns.extend(appeal_returns)
        with transaction.atomic():
            AppealFact.objects.bulk_create(facts, batch_size=1000)
            ReturnFact.objects.bulk_create(returns, batch_size=1000)
        last_id = ids[-1]
        count += len(ids)
        if progress:
            progress(len(ids))
    # Rollups month by month, so memory stays bounded by one month's cells.
    volume_days = sorted(AppealFact.objects.order_by().values_list("day", flat=True).distinct())
    # exclude(dispatch_day=None): only dates (the column is nullable, so the stubs say date | None).
    dispatch_days = cast(
        "set[date]",
        set(AppealFact.objects.exclude(dispatch_day=None).order_by().values_list("dispatch_day", flat=True).distinct()),
    )
    score_days = sorted(dispatch_days | set(ReturnFact.objects.order_by().values_list("day", flat=True).distinct()))
    for days, recompute in ((volume_days, recompute_volume_days), (score_days, recompute_scorecard_days)):
        by_month: dict[tuple[int, int], list[date]] = defaultdict(list)
        for day in days:
            by_month[(day.year, day.month)].append(day)
        for month_days in by_month.values():
            with transaction.atomic():
                recompute(month_days)
    RollupCursor.objects.update_or_create(
        name=CURSOR, defaults={"last_event_id": last_event, "overdue_checked_until": now}
    )
    dashboard.data_changed()
    return count
