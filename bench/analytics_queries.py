"""Dashboard queries at 1,000,000 appeals, read from the rollup tables (PostgreSQL).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/huying_analytics_bench \
        .venv/bin/python bench/analytics_queries.py --facts 1000000

Generating a million full appeals with their hash-chained audit trails (``seed_demo``'s bulk
generator) takes about 1.5 hours on the 2-core benchmark machine, and deriving facts from them
(``rebuild_rollups``) another ~40 minutes, so this benchmark starts one step later: it writes one
million ``AppealFact`` rows (and their returns) with a realistic mix straight into the fact table,
then builds the rollups from them with the production code (``recompute_volume_days`` /
``recompute_scorecard_days``, timed), then times every dashboard query. The rollup tables it
queries are exactly what a million real appeals produce. Re-running reuses the facts.
On PostgreSQL the facts are written with COPY (about a minute for a million; bulk_create took
~30 minutes). ``--prepare-only`` writes the facts and builds the rollups without timing queries,
so the long step can run under ``nice`` and the timed step stays short.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from analytics import rollups, selectors  # noqa: E402
from analytics.models import (  # noqa: E402
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
)
from analytics.selectors import Filters  # noqa: E402
from routing.models import Bureau, Category, Region  # noqa: E402

END = date(2026, 11, 22)  # a Sunday: the last full ISO week is 2026-W47
DAYS = 730
CATEGORY_WEIGHTS = {
    "employment": 16,
    "financing": 14,
    "tax": 12,
    "export": 9,
    "social_insurance": 8,
    "loan_deferral": 6,
    "licensing": 6,
    "rent": 5,
    "supply_chain": 5,
    "logistics": 4,
    "utilities": 4,
    "resumption": 3,
    "legal": 3,
    "policy": 3,
    "other": 2,
}
VOCABULARY = [
    "招工",
    "社保",
    "贷款",
    "抵押",
    "退税",
    "出口",
    "物流",
    "租金",
    "审批",
    "资质",
    "用电",
    "合同",
    "补贴",
    "担保",
    "订单",
    "原材料",
    "发票",
    "关税",
    "许可证",
    "延期",
]


def weighted(rng: random.Random, weights: dict) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def write_rows(model, objs: list) -> None:
    """Insert ``objs``: PostgreSQL COPY (about 10x faster than bulk_create here), else bulk_create."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs, batch_size=5000)
        return
    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.name == "id")]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    json_fields = {f.attname for f in fields if f.get_internal_type() == "JSONField"}
    connection.ensure_connection()
    with (
        connection.connection.cursor() as cursor,
        cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        for obj in objs:
            copy.write_row(
                [
                    json.dumps(getattr(obj, f.attname), ensure_ascii=False)
                    if f.attname in json_fields
                    else getattr(obj, f.attname)
                    for f in fields
                ]
            )


def synthesize(count: int, seed: int, *, last_days: int = DAYS) -> None:
    """Write ``count`` facts over the two years to END (and their returns), in batches.

    ``last_days``: write only the facts of the last days of that distribution (same density per
    day as the whole ``count``), so a page that reads only those days can be timed at a volume
    whose full two years would take hours to roll up.
    """
    from appeals.demo.organisation import setup_organisation

    setup_organisation()
    rng = random.Random(seed)
    categories = {c.code: c.pk for c in Category.objects.all()}
    regions = list(Region.objects.filter(is_active=True))
    bureau_of = {(b.region_id, b.bureau_type_id): b.pk for b in Bureau.objects.all()}
    category_type = {c.pk: c.default_bureau_type_id for c in Category.objects.all()}
    # Volume grows over the two years and dips at weekends.
    day_weights = []
    for i in range(DAYS):
        day = END - timedelta(days=DAYS - 1 - i)
        day_weights.append((0.6 + 0.8 * i / DAYS) * (0.35 if day.weekday() >= 5 else 1.0))
    total_weight = sum(day_weights)
    next_id = (AppealFact.objects.order_by("-appeal_id").values_list("appeal_id", flat=True).first() or 0) + 1
    facts, returns = [], []
    written = 0
    began = time.perf_counter()
    for i in range(DAYS):
        day = END - timedelta(days=DAYS - 1 - i)
        n = round(count * day_weights[i] / total_weight) if i >= DAYS - last_days else 0
        for _ in range(n):
            category_id = categories[weighted(rng, CATEGORY_WEIGHTS)]
            region = rng.choice(regions)
            city_id = region.parent_id or region.pk
            bureau_id = bureau_of.get((city_id, category_type[category_id]))
            dispatched = bureau_id is not None and rng.random() < 0.97
            rated = dispatched and rng.random() < 0.8
            level = rng.choices([5, 4, 3, 2, 1], weights=[45, 30, 15, 6, 4])[0] if rated else None
            signed = dispatched and rng.random() < 0.95
            facts.append(
                AppealFact(
                    appeal_id=next_id,
                    day=day,
                    category_id=category_id,
                    region_id=region.pk,
                    industry=rng.choice("CCCFFFIIEHKLMA"),
                    size=rng.choices(["micro", "small", "medium"], weights=[55, 35, 10])[0],
                    channel=rng.choices(["web", "api", "hotline"], weights=[50, 35, 15])[0],
                    state="closed" if rated else "handling",
                    counted=rng.random() > 0.02,
                    bureau_id=bureau_id if dispatched else None,
                    dispatch_day=(day + timedelta(days=rng.random() < 0.1)) if dispatched else None,
                    signed_on_time=signed and rng.random() < 0.88,
                    responded=signed and rng.random() < 0.78,
                    overdue=dispatched and rng.random() < 0.07,
                    sign_minutes=int(rng.lognormvariate(5.5, 1.0)) if signed else None,
                    reply_minutes=int(rng.lognormvariate(8.2, 0.7)) if rated else None,
                    reopen_count=1 if level is not None and level <= 2 else 0,
                    ratings=1 if rated else 0,
                    resolved=1 if rated and rng.random() < 0.8 else 0,
                    satisfied=1 if level and level >= 4 else 0,
                    basic=1 if level == 3 else 0,
                    terms=rng.sample(VOCABULARY, 5),
                )
            )
            if dispatched and rng.random() < 0.03:
                returns.append(ReturnFact(appeal_id=next_id, bureau_id=bureau_id, region_id=region.pk, day=day))
            next_id += 1
        if len(facts) >= 50000 or i == DAYS - 1:
            with transaction.atomic():
                write_rows(AppealFact, facts)
                write_rows(ReturnFact, returns)
            written += len(facts)
            facts, returns = [], []
            print(f"\r  facts written: {written:>9,}  ({time.perf_counter() - began:.0f} s)", end="", flush=True)
    print()


def build_rollups() -> float:
    began = time.perf_counter()
    for model in rollups.ROLLUP_TABLES:
        model.objects.all()._raw_delete(model.objects.db)
    days = sorted(AppealFact.objects.order_by().values_list("day", flat=True).distinct())
    months: dict[tuple[int, int], list[date]] = defaultdict(list)
    for day in days:
        months[(day.year, day.month)].append(day)
    for month_days in months.values():
        with transaction.atomic():
            rollups.recompute_volume_days(month_days)
            rollups.recompute_scorecard_days(month_days)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - began


@contextmanager
def cells_only():
    """The selectors as before this round's rollups: scorecards sum bureau × region cells, volume
    figures read DailyVolume (no DailyScorecardTotal, DailyCategoryVolume or DailyCategoryRegionVolume)."""
    original = selectors._total_rows
    narrow = {name: Filters.__dict__[name] for name in ("by_category_only", "by_category_and_region_only")}
    selectors._total_rows = lambda *args, **kwargs: None
    for name in narrow:
        setattr(Filters, name, property(lambda self: False))
    try:
        yield
    finally:
        selectors._total_rows = original
        for name, value in narrow.items():
            setattr(Filters, name, value)


def timed(label: str, fn, repeat: int) -> tuple[str, float, float, float]:
    began = time.perf_counter()
    fn()
    cold = (time.perf_counter() - began) * 1000
    runs = []
    for _ in range(repeat):
        began = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - began) * 1000)
    return label, cold, statistics.median(runs), max(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--facts", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--last-days",
        type=int,
        default=DAYS,
        help="write only the last N days of --facts' two years (e.g. 256 for the 4-week page at 10 M: its "
        "trend, rising baseline and previous period reach back 252 days); --facts then counts the whole "
        "two years, the database holds fewer",
    )
    parser.add_argument("--page-repeat", type=int, default=3, help="timed computed (uncached) dashboard pages")
    parser.add_argument("--only-page", action="store_true", help="time the whole page only, not each query")
    parser.add_argument("--rebuild", action="store_true", help="Rebuild the rollups even if present.")
    parser.add_argument(
        "--prepare-only",
        action="store_true",
        help="Write the facts and build the rollups, then stop (run it under nice; time the queries separately).",
    )
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    have = AppealFact.objects.count()
    synthesized = have == 0 or (args.last_days == DAYS and have < args.facts)
    if synthesized:
        print(f"synthesizing {args.facts - have:,} facts (the last {args.last_days} of {DAYS} days)")
        synthesize(args.facts - have, args.seed, last_days=args.last_days)
    if args.rebuild or synthesized or not DailyVolume.objects.exists():
        print(f"rollups built from facts in {build_rollups():.1f} s")
    if args.prepare_only:
        return
    print(
        f"database: {connection.vendor}; facts {AppealFact.objects.count():,}, DailyVolume rows "
        f"{DailyVolume.objects.count():,}, DailyScorecard rows {DailyScorecard.objects.count():,}, "
        f"MonthlyScorecard rows {MonthlyScorecard.objects.count():,}, "
        f"DailyCategoryVolume rows {DailyCategoryVolume.objects.count():,}, "
        f"DailyCategoryRegionVolume rows {DailyCategoryRegionVolume.objects.count():,}, "
        f"DailyScorecardTotal rows {DailyScorecardTotal.objects.count():,}, "
        f"MonthlyScorecardTotal rows {MonthlyScorecardTotal.objects.count():,}, "
        f"DailyTerm rows {DailyTerm.objects.count():,}"
    )
    week = Filters(start=END - timedelta(days=6), end=END)
    four_weeks = Filters(start=END - timedelta(days=27), end=END)
    month = Filters(start=date(2026, 10, 1), end=date(2026, 10, 31))
    year = Filters(start=END - timedelta(days=364), end=END)
    city = Region.objects.filter(parent__isnull=True).first()
    filtered = Filters(start=four_weeks.start, end=four_weeks.end, region_id=city.pk, channel="web", size="micro")
    year_city = Filters(start=year.start, end=year.end, region_id=city.pk)
    ninety = Filters(start=date(2026, 7, 20), end=date(2026, 10, 17))
    bureau = Bureau.objects.exclude(bureau_type__code="dispatch").first()
    scoped = Filters(start=four_weeks.start, end=four_weeks.end, bureau_id=bureau.pk)
    cases = [
        ("ranking + 8-week trend, 1 week", lambda: selectors.category_ranking(week)),
        ("ranking + 8-period trend, 4 weeks", lambda: selectors.category_ranking(four_weeks)),
        ("ranking, 4 weeks, region+channel+size filter", lambda: selectors.category_ranking(filtered)),
        ("ranking + trend, 1 year (8 years of trend)", lambda: selectors.category_ranking(year)),
        ("rising categories and cells, 1 week", lambda: selectors.rising(week)),
        ("heat map category x region, 4 weeks", lambda: selectors.heatmap(four_weeks)),
        ("KPIs with previous period, 4 weeks", lambda: selectors.kpis(four_weeks)),
        ("bureau scorecard, 1 month", lambda: selectors.scorecard_rows(month)),
        ("bureau scorecard, 1 year", lambda: selectors.scorecard_rows(year)),
        ("bureau scorecard, 1 year, one city", lambda: selectors.scorecard_rows(year_city)),
        ("bureau scorecard, 90 days across 4 months", lambda: selectors.scorecard_rows(ninety)),
        ("league table of bureaus, 1 month", lambda: selectors.league(month, by="bureau")),
        ("league table of regions, 1 month", lambda: selectors.league(month, by="region")),
        ("hot topics (top 5 categories), 1 week", lambda: selectors.hot_topics(week)),
        ("bureau lead's scoped ranking, 4 weeks", lambda: selectors.category_ranking(scoped)),
    ]
    results = [] if args.only_page else [timed(label, fn, args.repeat) for label, fn in cases]
    if not args.only_page:  # the same scorecard reads from the cells, side by side
        with cells_only():
            for label, fn in cases:
                if any(word in label for word in ("KPIs", "scorecard", "league", "ranking", "rising", "heat map")):
                    results.append(timed(f"{label} [cells only, before]", fn, args.repeat))

    def incremental_day() -> None:
        # What update_rollups does for each scorecard day it touches: the day from its facts, then
        # the day's month from its daily rows (rolled back: the tables stay as they were).
        with transaction.atomic():
            rollups.recompute_scorecard_days([date(2026, 10, 15)])
            transaction.set_rollback(True)

    if not args.only_page:
        results.append(timed("maintenance: rewrite 1 scorecard day + its month", incremental_day, 3))

    from django.contrib.auth import get_user_model

    from tests import factories

    get_user_model().objects.filter(username="bench-manager-analytics").delete()
    manager = factories.staff_user("manager", None, username="bench-manager-analytics")
    client = Client()
    client.force_login(manager)
    url = f"/analytics/?start={four_weeks.start}&end={four_weeks.end}"
    from analytics import dashboard

    def cold_page() -> None:
        dashboard.data_changed()  # as after a rollup run that changed the tables: sections computed
        client.get(url)

    with override_settings(ALLOWED_HOSTS=["*"]):
        results.append(timed("whole dashboard page (every section), 4 weeks, computed", cold_page, args.page_repeat))
        with cells_only():
            results.append(
                timed("whole dashboard page, 4 weeks, computed [cells only, before]", cold_page, args.page_repeat)
            )
        # The same page again before the next rollup run: its sections come from the cache.
        results.append(timed("whole dashboard page, 4 weeks, cached sections", lambda: client.get(url), 5))
    manager.delete()

    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f}")
    width = max(len(r[0]) for r in results)
    print(f"\n{'query':<{width}}  {'cold ms':>8}  {'median ms':>9}  {'max ms':>7}")
    for label, cold, median, worst in results:
        print(f"{label:<{width}}  {cold:>8.1f}  {median:>9.1f}  {worst:>7.1f}")


if __name__ == "__main__":
    main()
