"""Rollups equal a straight computation over raw appeals, ratings and events (seeded random data)."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from analytics import histograms, metrics, rollups, selectors
from analytics.models import (
    AppealFact,
    DailyCategoryRegionVolume,
    DailyCategoryVolume,
    DailyScorecard,
    DailyScorecardTotal,
    DailyTerm,
    DailyVolume,
    MonthlyScorecard,
    MonthlyScorecardTotal,
    RollupCursor,
)
from analytics.selectors import Filters
from appeals.models import OPEN_STATES, Appeal, AppealEvent, AppealState, Rating
from tests.analytics.conftest import SHANGHAI, simulate

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)
pytestmark = pytest.mark.django_db


def local(value):
    return timezone.localdate(value)


def raw_category_counts(start: date, end: date, *, region_ids=None, channel="") -> Counter:
    counts: Counter = Counter()
    for appeal in Appeal.objects.exclude(state__in=[AppealState.MERGED, AppealState.REJECTED]):
        if not start <= local(appeal.submitted_at) <= end:
            continue
        if region_ids is not None and appeal.region_id not in region_ids:
            continue
        if channel and appeal.channel != channel:
            continue
        counts[appeal.category_id] += 1
    return counts


def nearest_rank(values: list[int], q: float):
    if not values:
        return None
    values = sorted(values)
    return round(values[max(1, math.ceil(q * len(values))) - 1] / 60, 1)


def raw_scorecards(start: date, end: date, now: datetime, *, region_ids=None) -> dict[int, dict]:
    """Every scorecard component computed straight from appeals, ratings and events."""
    weight = settings.HUYING["BASIC_SATISFIED_WEIGHT"]
    cards: dict[int, dict] = defaultdict(lambda: defaultdict(int) | {"sign": [], "reply": []})
    for appeal in Appeal.objects.exclude(dispatched_at=None).exclude(bureau=None):
        if not start <= local(appeal.dispatched_at) <= end:
            continue
        if region_ids is not None and appeal.region_id not in region_ids:
            continue
        card = cards[appeal.bureau_id]
        card["dispatched"] += 1
        on_time = appeal.signed_at is not None and appeal.signed_at <= appeal.sign_for_due
        card["signed_on_time"] += on_time
        card["responded"] += bool(
            on_time and appeal.first_contact_at and appeal.first_contact_at <= appeal.first_contact_due
        )
        if appeal.reply_due and (
            (appeal.replied_at and appeal.replied_at > appeal.reply_due)
            or (appeal.replied_at is None and appeal.state in OPEN_STATES and now > appeal.reply_due)
        ):
            card["overdue"] += 1
        card["rehandles"] += appeal.reopen_count
        if appeal.signed_at:
            card["sign"].append(int((appeal.signed_at - appeal.dispatched_at).total_seconds() // 60))
        first_reply = appeal.events.filter(kind="replied").order_by("seq").first()
        if first_reply:
            card["reply"].append(int((first_reply.created_at - appeal.dispatched_at).total_seconds() // 60))
        for rating in Rating.objects.filter(appeal=appeal, is_followup=False).exclude(contest=Rating.Contest.UPHELD):
            if rating.is_default and not settings.HUYING["COUNT_DEFAULT_RATINGS"]:
                continue
            card["ratings"] += 1
            card["resolved"] += rating.resolved is True or (rating.is_default and rating.resolved is None)
            card["sat"] += 1.0 if rating.level >= 4 else (weight if rating.level == 3 else 0)
    for event in AppealEvent.objects.filter(kind="returned"):
        if not start <= local(event.created_at) <= end:
            continue
        if region_ids is not None and event.appeal.region_id not in region_ids:
            continue
        dispatch = (
            AppealEvent.objects.filter(
                appeal_id=event.appeal_id, seq__lt=event.seq, kind__in=["dispatched", "redispatched"]
            )
            .order_by("-seq")
            .first()
        )
        cards[dispatch.data["bureau_id"]]["returns"] += 1
    return cards


def assert_scorecards_match(filters: Filters, now: datetime, *, region_ids=None) -> None:
    raw = raw_scorecards(filters.start, filters.end, now, region_ids=region_ids)
    rolled = selectors.scorecards(filters)
    expected_bureaus = {b for b, c in raw.items() if c["dispatched"] or c["returns"]}
    if filters.bureau_id is not None:  # a bureau lead's scope: their own bureau only
        expected_bureaus &= {filters.bureau_id}
    assert set(rolled) == expected_bureaus
    for bureau_id, card in rolled.items():
        expected = raw[bureau_id]
        for name in (
            "dispatched",
            "signed_on_time",
            "responded",
            "overdue",
            "rehandles",
            "ratings",
            "resolved",
            "returns",
        ):
            assert getattr(card, name) == expected[name], (bureau_id, name)
        assert card.satisfaction_rate == pytest.approx(
            expected["sat"] / expected["ratings"] if expected["ratings"] else None
        )
        assert card.sign_median_hours == nearest_rank(expected["sign"], 0.5)
        assert card.sign_p90_hours == nearest_rank(expected["sign"], 0.9)
        assert card.reply_median_hours == nearest_rank(expected["reply"], 0.5)
        assert card.reply_p90_hours == nearest_rank(expected["reply"], 0.9)


def scorecard_totals():
    return (
        [
            (r.day, r.bureau_id, r.region_id, r.dispatched, r.signed_on_time, r.responded, r.overdue, r.returns,
             r.rehandles, r.ratings, r.resolved, r.satisfied, r.basic, histograms.unpack(r.sign_minutes),
             histograms.unpack(r.reply_minutes))
            for r in DailyScorecardTotal.objects.order_by("day", "bureau_id", "region_id")
        ],
        [
            (r.month, r.bureau_id, r.region_id, r.dispatched, r.signed_on_time, r.responded, r.overdue, r.returns,
             r.rehandles, r.ratings, r.resolved, r.satisfied, r.basic, histograms.unpack(r.sign_minutes),
             histograms.unpack(r.reply_minutes))
            for r in MonthlyScorecardTotal.objects.order_by("month", "bureau_id", "region_id")
        ],
    )  # fmt: skip


def snapshot():
    def rows(model, *fields):
        return sorted(model.objects.values_list(*fields))

    return (
        rows(DailyVolume, "day", "category_id", "region_id", "industry", "size", "channel", "bureau_id", "count"),
        rows(DailyCategoryVolume, "day", "category_id", "appeal_type", "count"),
        rows(DailyCategoryRegionVolume, "day", "category_id", "region_id", "count"),
        [
            (r.day, r.bureau_id, r.region_id, r.dispatched, r.signed_on_time, r.responded, r.overdue, r.returns,
             r.rehandles, r.ratings, r.resolved, r.satisfied, r.basic, histograms.unpack(r.sign_minutes),
             histograms.unpack(r.reply_minutes))
            for r in DailyScorecard.objects.order_by("day", "bureau_id", "region_id")
        ],
        [
            (r.month, r.bureau_id, r.region_id, r.dispatched, r.signed_on_time, r.responded, r.overdue, r.returns,
             r.rehandles, r.ratings, r.resolved, r.satisfied, r.basic, histograms.unpack(r.sign_minutes),
             histograms.unpack(r.reply_minutes))
            for r in MonthlyScorecard.objects.order_by("month", "bureau_id", "region_id")
        ],
        *scorecard_totals(),
        rows(DailyTerm, "day", "category_id", "term", "count"),
    )  # fmt: skip


def test_rollups_equal_raw_computation(populated):
    world = populated
    with time_machine.travel(NOW, tick=False):
        for filters in (
            # Days + one whole month (October, from MonthlyScorecard) + days.
            Filters(start=date(2026, 9, 14), end=date(2026, 11, 29)),
            # Whole months only (September – November), and one whole month on its own.
            Filters(start=date(2026, 9, 1), end=date(2026, 11, 30)),
            Filters(start=date(2026, 10, 1), end=date(2026, 10, 31)),
            # Days after a whole month, days before one, and days crossing a month boundary.
            Filters(start=date(2026, 10, 1), end=date(2026, 11, 9)),
            Filters(start=date(2026, 9, 20), end=date(2026, 10, 31)),
            Filters(start=date(2026, 10, 25), end=date(2026, 11, 7)),
            Filters(start=date(2026, 10, 5), end=date(2026, 10, 18)),
            Filters(start=date(2026, 11, 16), end=date(2026, 11, 22)),
        ):
            assert selectors.category_counts(filters) == raw_category_counts(filters.start, filters.end)
            assert_scorecards_match(filters, NOW)
        # The scorecard filters work the same on the monthly path: region (a city and its
        # districts) and a bureau lead's scope.
        for city in world.cities:
            region_ids = {r.pk for r in world.regions if r.pk == city.pk or r.parent_id == city.pk}
            for start, end in ((date(2026, 9, 14), date(2026, 11, 29)), (date(2026, 9, 1), date(2026, 11, 30))):
                assert_scorecards_match(Filters(start=start, end=end, region_id=city.pk), NOW, region_ids=region_ids)
        busiest = Counter(Appeal.objects.exclude(bureau=None).values_list("bureau_id", flat=True)).most_common(1)[0][0]
        assert_scorecards_match(Filters(start=date(2026, 9, 14), end=date(2026, 11, 29), bureau_id=busiest), NOW)
        assert MonthlyScorecard.objects.filter(month=date(2026, 10, 1)).exists()
        city = world.cities[0]
        filters = Filters(start=date(2026, 9, 14), end=date(2026, 11, 29), region_id=city.pk, channel="web")
        region_ids = {r.pk for r in world.regions if r.pk == city.pk or r.parent_id == city.pk}
        assert selectors.category_counts(filters) == raw_category_counts(
            filters.start, filters.end, region_ids=region_ids, channel="web"
        )
    # The random trail really exercised every component (otherwise the comparison proves little).
    total = selectors.overall_scorecard(Filters(start=date(2026, 9, 1), end=date(2026, 12, 31)))
    assert total.returns > 0 and total.rehandles > 0 and total.overdue > 0 and total.ratings > 5
    assert Rating.objects.filter(is_default=True).exists()
    assert Rating.objects.filter(contest=Rating.Contest.UPHELD).exists()


def test_incremental_equals_rebuild_and_is_idempotent(world):
    start = datetime(2026, 10, 5, 9, 0, tzinfo=SHANGHAI)
    simulate(world, seed=11, count=25, start=start, days=21)
    with time_machine.travel(NOW, tick=False):
        # Small batches, run twice: same tables as one full rebuild.
        rollups.update_rollups(batch=7)
        simulate(world, seed=12, count=15, start=start + timedelta(days=7), days=14)
    with time_machine.travel(NOW, tick=False):
        rollups.update_rollups(batch=7)
        rollups.update_rollups(batch=7)
        incremental = snapshot()
        assert RollupCursor.objects.get().last_event_id == AppealEvent.objects.order_by("-pk").first().pk
        call_command("rebuild_rollups", "--no-progress")
        assert snapshot() == incremental
        assert AppealFact.objects.count() == Appeal.objects.count()


def test_overdue_flag_follows_time_without_events(world):
    start = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)
    with time_machine.travel(start, tick=False):
        from tests import factories

        appeal = factories.submit(region=world.cities[0], category=factories.category("employment")).appeal
        officer = world.officers[appeal.bureau_id]
        from appeals import services

        services.appeal_sign_for(appeal_id=appeal.pk, user=officer)
        rollups.update_rollups()
    filters = Filters(start=date(2026, 11, 2), end=date(2026, 11, 2))
    assert selectors.overall_scorecard(filters).overdue == 0
    appeal.refresh_from_db()
    with time_machine.travel(appeal.reply_due + timedelta(hours=1), tick=False):
        # No new event: the deadline sweep inside update_rollups notices the passed deadline.
        rollups.update_rollups()
    assert selectors.overall_scorecard(filters).overdue == 1


SCORE_FIELDS = (
    *metrics.Scorecard.SUMS,
    "sign_median_hours",
    "sign_p90_hours",
    "reply_median_hours",
    "reply_p90_hours",
)


def summed(filters: Filters, *, by: str | None, scoped: bool, totals: bool) -> dict:
    """Scorecards summed from ``scorecard_cells`` (the totals or only the cells), keyed by ``by``."""
    key = f"{by}_id" if by else None
    fields = (*([key] if key else []), *selectors._SCORE_VALUES)
    cards: dict = defaultdict(metrics.Scorecard)
    for row in selectors.scorecard_cells(filters, *fields, scoped=scoped, by=by, totals=totals):
        cards[row[key] if key else None].add(row)
    return {pk: tuple(getattr(card, name) for name in SCORE_FIELDS) for pk, card in cards.items()}


def test_scorecard_totals_give_the_cells_figures(populated):
    """Reading totals (per bureau, per region, per day) gives exactly what summing the cells gives."""
    world = populated
    city = world.cities[0]
    busiest = Counter(Appeal.objects.exclude(bureau=None).values_list("bureau_id", flat=True)).most_common(1)[0][0]
    periods = ((date(2026, 9, 14), date(2026, 11, 29)), (date(2026, 10, 1), date(2026, 10, 31)),
               (date(2026, 11, 16), date(2026, 11, 22)))  # fmt: skip
    compared = 0
    for start, end in periods:
        for region_id in (None, city.pk):
            for bureau_id in (None, busiest):
                filters = Filters(start=start, end=end, region_id=region_id, bureau_id=bureau_id)
                for by in ("bureau", "region", None):
                    for scoped in (True, False):
                        from_totals = summed(filters, by=by, scoped=scoped, totals=True)
                        assert from_totals == summed(filters, by=by, scoped=scoped, totals=False)
                        compared += len(from_totals)
    assert compared > 50
    # The unfiltered page really reads the totals: one row per day (and month) for the KPIs.
    filters = Filters(start=date(2026, 11, 2), end=date(2026, 11, 29))
    rows = selectors.scorecard_cells(filters, "dispatched", by=None)
    assert (
        len(rows)
        == DailyScorecardTotal.objects.filter(
            day__gte=filters.start, day__lte=filters.end, bureau_id=0, region_id=0
        ).count()
    )
    assert len(rows) < len(selectors.scorecard_cells(filters, "dispatched", by=None, totals=False))


def test_migration_backfills_totals_of_existing_cells(populated):
    """Cells rolled up before the totals existed get their totals from the migration."""
    import importlib

    from django.apps import apps

    expected = scorecard_totals()
    assert expected[0] and expected[1]
    DailyScorecardTotal.objects.all().delete()
    MonthlyScorecardTotal.objects.all().delete()
    migration = importlib.import_module("analytics.migrations.0004_scorecard_totals")
    migration.backfill_totals(apps, None)
    assert scorecard_totals() == expected


def test_category_volume_answers_unfiltered_pages_like_the_full_volume(populated):
    """DailyCategoryVolume (day × category × type) gives the figures DailyVolume gives, with or without
    a type filter; any other filter reads DailyVolume."""
    import importlib

    from django.apps import apps
    from django.db.models import Sum

    appeal_type = DailyVolume.objects.exclude(appeal_type="").values_list("appeal_type", flat=True).first()
    assert appeal_type
    for start, end in ((date(2026, 9, 14), date(2026, 11, 29)), (date(2026, 11, 2), date(2026, 11, 29))):
        for filters in (Filters(start=start, end=end), Filters(start=start, end=end, appeal_type=appeal_type)):
            assert filters.by_category_only
            assert selectors.volume_rows(filters).model is DailyCategoryVolume
            full = DailyVolume.objects.filter(filters.volume_q())
            for key in ("category_id", "appeal_type"):
                assert Counter(
                    {r[key]: r["n"] for r in selectors.volume_rows(filters).values(key).annotate(n=Sum("count"))}
                ) == Counter({r[key]: r["n"] for r in full.values(key).annotate(n=Sum("count"))})
            assert selectors.kpis(filters).appeals == full.aggregate(n=Sum("count"))["n"] > 0
    assert selectors.volume_rows(Filters(start=start, end=end, channel="web")).model is DailyVolume
    # The migration fills the table from DailyVolume rows rolled up before it existed.
    expected = sorted(DailyCategoryVolume.objects.values_list("day", "category_id", "appeal_type", "count"))
    DailyCategoryVolume.objects.all().delete()
    importlib.import_module("analytics.migrations.0005_category_volume").backfill(apps, None)
    assert sorted(DailyCategoryVolume.objects.values_list("day", "category_id", "appeal_type", "count")) == expected


def test_category_region_volume_gives_the_heat_map_and_rising_test_their_figures(populated, monkeypatch):
    """DailyCategoryRegionVolume answers the heat map and the rising test exactly as DailyVolume does,
    with or without a region filter; another filter reads DailyVolume."""
    import importlib

    from django.apps import apps

    world = populated
    city = world.cities[0]
    cases = [
        Filters(start=date(2026, 11, 16), end=date(2026, 11, 22)),
        Filters(start=date(2026, 11, 2), end=date(2026, 11, 29)),
        Filters(start=date(2026, 11, 2), end=date(2026, 11, 29), region_id=city.pk),
    ]
    for filters in cases:
        assert filters.by_category_and_region_only
        assert selectors.category_region_rows(filters).model is DailyCategoryRegionVolume
    narrow = [(selectors.heatmap(f), selectors.rising(f)) for f in cases]
    monkeypatch.setattr(Filters, "by_category_and_region_only", property(lambda self: False))
    assert selectors.category_region_rows(cases[0]).model is DailyVolume
    assert narrow == [(selectors.heatmap(f), selectors.rising(f)) for f in cases]
    assert any(cells for (_c, _r, cells), _rising in narrow)
    monkeypatch.undo()
    assert not Filters(start=date(2026, 11, 2), end=date(2026, 11, 29), channel="web").by_category_and_region_only
    # The migration fills the table from DailyVolume rows rolled up before it existed.
    expected = sorted(DailyCategoryRegionVolume.objects.values_list("day", "category_id", "region_id", "count"))
    DailyCategoryRegionVolume.objects.all().delete()
    importlib.import_module("analytics.migrations.0006_category_region_volume").backfill(apps, None)
    assert sorted(DailyCategoryRegionVolume.objects.values_list("day", "category_id", "region_id", "count")) == expected
