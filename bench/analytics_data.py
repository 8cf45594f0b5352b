"""Fill a benchmark database with appeals for the analytics benchmarks (idempotent top-up).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/huying_analytics_bench \
        .venv/bin/python bench/analytics_data.py --appeals 1000000 --week-appeals 100000

Uses the bulk generator of ``seed_demo`` (``appeals.demo.bulk.generate_bulk``): realistic category,
region and state mix, valid audit chains, ratings. ``--appeals`` spread over the two years before
``--end``; ``--week-appeals`` extra appeals inside one ISO week (``--week``), the weekly-report
benchmark's worst case. Existing rows count towards the totals, so re-running only tops up.
Then rebuilds the rollups (timed) so the query benchmark reads warm, complete tables.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402

from analytics import weeks  # noqa: E402
from appeals.demo.bulk import generate_bulk  # noqa: E402
from appeals.models import Appeal  # noqa: E402

SHANGHAI = ZoneInfo("Asia/Shanghai")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appeals", type=int, default=1_000_000)
    parser.add_argument("--week-appeals", type=int, default=100_000)
    parser.add_argument("--week", default="2026-W47", help="ISO week of the dense week (default 2026-W47).")
    parser.add_argument("--end", default="2026-11-23", help="End of the two-year span (default 2026-11-23).")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--skip-rebuild", action="store_true")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    end = datetime.fromisoformat(args.end).replace(tzinfo=SHANGHAI)
    week_start, _week_end = weeks.iso_week(args.week)
    week_from = datetime.combine(week_start, datetime.min.time(), tzinfo=SHANGHAI)
    week_to = week_from + timedelta(days=7) - timedelta(seconds=1)
    in_week = Appeal.objects.filter(submitted_at__gte=week_from, submitted_at__lte=week_to).count()
    total = Appeal.objects.count()
    background = total - in_week
    if background < args.appeals - args.week_appeals:
        n = args.appeals - args.week_appeals - background
        print(f"generating {n} appeals over two years to {end:%Y-%m-%d}")
        began = time.perf_counter()
        result = generate_bulk(n, start=end - timedelta(days=730), end=end, seed=args.seed, batch_size=5000)
        print(f"  {result} in {time.perf_counter() - began:.0f} s")
    in_week = Appeal.objects.filter(submitted_at__gte=week_from, submitted_at__lte=week_to).count()
    if in_week < args.week_appeals:
        n = args.week_appeals - in_week
        print(f"generating {n} appeals inside {args.week}")
        began = time.perf_counter()
        result = generate_bulk(n, start=week_from, end=week_to, seed=args.seed + 1, batch_size=5000)
        print(f"  {result} in {time.perf_counter() - began:.0f} s")
    print(f"appeals: {Appeal.objects.count()}, in {args.week}: "
          f"{Appeal.objects.filter(submitted_at__gte=week_from, submitted_at__lte=week_to).count()}")  # fmt: skip
    if not args.skip_rebuild:
        began = time.perf_counter()
        call_command("rebuild_rollups", chunk=5000)
        print(f"rebuild_rollups: {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
