"""Dispatch catalogue import: all 21 Guangdong cities with several hundred rules, rows per second.

    .venv/bin/python bench/catalogue_import.py [--rules-per-city 20]

Runs on a fresh SQLite database in a temporary folder (migrations load the province: 144 regions,
231 bureaus, 11 bureau types, 15 categories). Builds a workbook from an export plus
``--rules-per-city`` rules for each of the 21 cities (category × city → the category's bureau type,
with keywords), then times, in this order: reading + checking + preview of that workbook; applying
it (all rows added); the round trip (export → check, no changes); and re-applying it with every
rule's priority changed. Prints rows/s for each (rows = every data row in the workbook).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("HUYING_VAR_DIR", tempfile.mkdtemp(prefix="huying-catalogue-bench-"))

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from openpyxl import Workbook, load_workbook  # noqa: E402


def _sheets(data: bytes) -> dict[str, list[list[object]]]:
    workbook = load_workbook(io.BytesIO(data))
    return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in workbook.worksheets}


def _workbook(sheets: dict[str, list[list[object]]]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rules-per-city", type=int, default=20)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)

    from django.contrib.auth import get_user_model

    from routing.catalogue.apply import catalogue_apply
    from routing.catalogue.checks import check_catalogue
    from routing.catalogue.export import export_xlsx
    from routing.catalogue.reader import read_catalogue
    from routing.models import Category, Region

    user, _ = get_user_model().objects.get_or_create(username="bench-operator", defaults={"is_staff": True})
    cities = list(Region.objects.filter(level=Region.Level.CITY).order_by("division_code"))
    categories = list(Category.objects.filter(is_other=False).select_related("default_bureau_type"))
    sheets = _sheets(export_xlsx())
    rules = sheets["分拨规则 (rules)"]
    for city in cities:
        for n in range(args.rules_per_city):
            category = categories[n % len(categories)]
            keywords = f"{city.name[:2]}{category.name[:2]},关键词{n}"
            rules.append(
                [
                    f"{city.name}·{category.name}·{n}",
                    str(100 + n),
                    category.code,
                    city.division_code,
                    keywords,
                    "",
                    category.default_bureau_type.code,
                    "是",
                ]
            )
    data = _workbook(sheets)
    row_count = sum(
        len(rows) - 1
        for title, rows in sheets.items()
        if "(" in title and "readme" not in title and "appeal_types" not in title
    )
    print(f"cities {len(cities)}, rules {len(rules) - 1}, data rows {row_count}, workbook {len(data) // 1024} KiB")

    def timed(label: str, fn, rows: int = row_count) -> object:
        start = time.perf_counter()
        result = fn()
        seconds = time.perf_counter() - start
        print(f"{label:<38} {rows:5d} rows {seconds:6.2f} s  {rows / seconds:8.0f} rows/s")
        return result

    checked = timed("check + preview (new rules)", lambda: check_catalogue(read_catalogue(data)))
    assert not checked.errors, [str(e) for e in checked.errors[:5]]
    print("  preview:", checked.preview.counts())
    result = timed(
        "apply (rules added)", lambda: catalogue_apply(raw=read_catalogue(data), user=user, filename="bench.xlsx")
    )
    print("  applied:", result.added, "added")
    total = row_count + result.added
    exported = timed("export", export_xlsx, total)
    again = timed("round trip check (no changes)", lambda: check_catalogue(read_catalogue(exported)), total)
    assert not again.preview.has_changes and not again.errors
    for row in rules[1:]:
        row[1] = str(int(row[1]) + 1)
    changed = _workbook(sheets)
    result = timed(
        "apply (every rule's priority changed)",
        lambda: catalogue_apply(raw=read_catalogue(changed), user=user, filename="bench2.xlsx"),
    )
    print("  applied:", result.changed, "changed")


if __name__ == "__main__":
    main()
