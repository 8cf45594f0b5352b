"""The two sheets that list individual appeals: overdue and re-opened, and the raw sheet.

Both stream rows from the database (``selectors.report_*_rows(...).iterator()``) straight into
the sheet; labels of categories, regions and bureaus come from dicts read once, choice labels
from dicts built once per sheet.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from xlsxwriter.utility import xl_col_to_name

from analytics import selectors
from analytics.report.workbook import DATETIME, Progress, Writer, local_naive
from analytics.selectors import Filters
from appeals.models import AppealState, Channel, EnterpriseSize, Industry, RatingLevel, Urgency

# Rows fetched per round trip. Each fetched row is a tuple of 18 values (six datetimes): 2,000
# rows hold a few MB, a tenth of the sheet's whole working set, at no measurable cost in time.
CHUNK_SIZE = 2000

OVERDUE_KEYS = [
    "tracking_number",
    "title_col",
    "bureau",
    "category",
    "state",
    "reply_due",
    "replied_at",
    "is_overdue",
    "reopen_count",
]
RAW_KEYS = [
    "tracking_number",
    "submitted_at",
    "category",
    "region",
    "industry",
    "size",
    "channel",
    "urgency",
    "state",
    "bureau",
    "dispatched_at",
    "signed_at",
    "reply_due",
    "replied_at",
    "closed_at",
    "rating",
    "reopen_count",
    "title_col",
]
RAW_WIDTHS = [20, 17, 18, 14, 8, 8, 10, 8, 10, 26, 17, 17, 17, 17, 17, 10, 8, 40]
# Positions of the datetime columns in RAW_KEYS (and selectors.REPORT_RAW_FIELDS).
RAW_DATETIME_COLUMNS = frozenset({1, 10, 11, 12, 13, 14})


def overdue_sheet(w: Writer, filters: Filters, labels: dict[str, dict]) -> None:
    ws = w.sheet("overdue", [20, 36, 24, 16, 12, 18, 18, 10, 10], freeze="A2")
    w.header(ws, OVERDUE_KEYS)
    states = {value: str(label) for value, label in AppealState.choices}
    bureaus, categories = labels["bureau"], labels["category"]
    yes, no = w.t("yes"), w.t("no")
    dates = dict.fromkeys((5, 6), w.format(num_format=DATETIME))  # empty dates keep their format
    count = 0
    for row in selectors.report_overdue_rows(filters).iterator(chunk_size=CHUNK_SIZE):
        tracking, title, bureau_id, category_id, state, reply_due, replied_at, overdue, reopen_count = row
        ws.append(
            [
                tracking,
                title,
                bureaus.get(bureau_id, ""),
                categories.get(category_id, ""),
                states[state],
                local_naive(reply_due),
                local_naive(replied_at),
                yes if overdue else no,
                reopen_count,
            ],
            dates,
        )
        count += 1
    if count:
        ws.ws.autofilter(f"A1:I{count + 1}")


def raw_sheet(w: Writer, filters: Filters, labels: dict[str, dict], progress: Progress, total: int) -> int:
    """The period's appeals, one row each (no personal data). Returns the number of rows."""
    ws = w.sheet("raw", RAW_WIDTHS, freeze="A2")
    w.header(ws, RAW_KEYS)
    choices: dict[int, dict[Any, Any]] = {
        4: dict(Industry.choices),
        5: dict(EnterpriseSize.choices),
        6: dict(Channel.choices),
        7: dict(Urgency.choices),
        8: dict(AppealState.choices),
        15: dict(RatingLevel.choices),
    }
    choice = {i: {k: str(v) for k, v in c.items()} for i, c in choices.items()}
    lookups = [(2, labels["category"]), (3, labels["region"]), (9, labels["bureau"])]
    count = 0
    tz = timezone.get_current_timezone()
    step = max(total // 20, 1000)
    date_format = w.format(num_format=DATETIME)
    write, sheet = w.write, ws.ws
    # The loop is the report's hot path (100,000 rows × 18 cells): cells are written directly,
    # empty ones skipped, dates with their format, everything else by its type.
    for values in selectors.report_raw_rows(filters).iterator(chunk_size=CHUNK_SIZE):
        row: list[Any] = list(values)
        for index, mapping in lookups:
            row[index] = mapping.get(row[index], "")
        for index, mapping in choice.items():
            value = row[index]
            if value is not None:
                row[index] = mapping.get(value, value)
        count += 1
        for col, value in enumerate(row):
            if value is None:
                continue
            if col in RAW_DATETIME_COLUMNS:
                sheet.write_datetime(count, col, value.astimezone(tz).replace(tzinfo=None), date_format)
            else:
                write(sheet, count, col, value, None)
        if count % step == 0:
            progress(35 + int(60 * count / max(total, 1)), "raw")
    ws.rows = count + 1
    sheet.autofilter(f"A1:{xl_col_to_name(len(RAW_KEYS) - 1)}{count + 1}")
    return count
