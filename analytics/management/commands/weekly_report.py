"""Write the Excel report for an ISO week or a date range to a file."""

from __future__ import annotations

import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from analytics import report as workbook
from analytics import rollups, weeks
from analytics.selectors import Filters


class Command(BaseCommand):
    help = "Write the appeals report (Excel) for an ISO week (--week 2026-W47) or a range (--from/--to)."

    def add_arguments(self, parser):
        parser.add_argument("--week", help="ISO week, e.g. 2026-W47 (Monday to Sunday).")
        parser.add_argument("--from", dest="start", help="First day, YYYY-MM-DD (with --to).")
        parser.add_argument("--to", dest="end", help="Last day, YYYY-MM-DD, inclusive (with --from).")
        parser.add_argument("--out", required=True, help="Path of the .xlsx file to write.")
        parser.add_argument("--lang", choices=["zh", "en"], default="zh", help="Header language (default zh).")
        parser.add_argument("--region", type=int, help="Only appeals of this region id (and its districts).")
        parser.add_argument("--industry", default="", help="Only this GB/T 4754 section letter.")
        parser.add_argument("--size", default="", choices=["", "micro", "small", "medium"])
        parser.add_argument("--channel", default="", choices=["", "web", "api", "hotline"])
        parser.add_argument(
            "--no-update", action="store_true", help="Do not fold new audit events into the rollups first."
        )

    def handle(self, *args, **options):
        if options["week"] and (options["start"] or options["end"]):
            raise CommandError("Give either --week or --from/--to, not both.")
        if options["week"]:
            try:
                start, end = weeks.iso_week(options["week"])
            except ValueError:
                raise CommandError(f"--week must look like 2026-W47, not {options['week']!r}.") from None
        elif options["start"] and options["end"]:
            try:
                start, end = date.fromisoformat(options["start"]), date.fromisoformat(options["end"])
            except ValueError as exc:
                raise CommandError(f"Dates must be YYYY-MM-DD: {exc}") from None
            if end < start:
                raise CommandError("--to is before --from; swap the two dates.")
        else:
            raise CommandError("Give --week 2026-W47, or both --from and --to.")
        filters = Filters(
            start=start,
            end=end,
            region_id=options["region"],
            industry=options["industry"].upper(),
            size=options["size"],
            channel=options["channel"],
        )
        if not options["no_update"]:
            rollups.update_rollups()
        began = time.perf_counter()
        count = workbook.build_workbook(
            filters=filters, language="en" if options["lang"] == "en" else "zh-hans", out=options["out"]
        )
        seconds = time.perf_counter() - began
        self.stdout.write(
            self.style.SUCCESS(f"Wrote {options['out']}: {start} to {end}, {count} appeals, {seconds:.1f} s.")
        )
