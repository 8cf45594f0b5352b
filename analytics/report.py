"""The Excel report (weekly, or for any range and filter), written with openpyxl in write-only mode.

Write-only (streaming) mode keeps memory flat however many appeals the raw sheet holds: rows go to
a temporary file as they are appended. Every sheet is therefore built top to bottom, styles are
set per cell (``WriteOnlyCell``) and column widths before the first row. The two listing sheets
stream through ``ColumnCells`` (one reusable cell per column) and openpyxl serialises with lxml
(a requirement) — together 1.5× faster than a new cell per date and the pure-Python writer. Summary sheets read the
rollup tables; only "Overdue and re-opened" and the raw sheet list individual appeals.
Headers come in Chinese or English by the requester's language (``HEADERS``); names of
categories, regions and bureaus follow the language through ``display_name``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import IO, Any

from django.db.models import Q
from django.utils import timezone, translation
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule, DataBarRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from analytics import selectors
from analytics.metrics import Scorecard
from analytics.models import AppealFact
from analytics.selectors import Filters
from appeals.models import Appeal, AppealState, Channel, EnterpriseSize, Industry, RatingLevel, Urgency

Progress = Callable[[int, str], None]

# (Chinese, English) for every fixed text in the workbook.
TEXT: dict[str, tuple[str, str]] = {
    "summary": ("摘要", "Summary"),
    "ranking": ("类别排行", "Category ranking"),
    "rising": ("上升类别", "Rising categories"),
    "scorecard": ("单位考核", "Bureau scorecard"),
    "matrix": ("地区×类别", "Region x category"),
    "overdue": ("超期与重办", "Overdue and re-opened"),
    "raw": ("诉求明细", "Appeals"),
    "title": ("呼应 · 企业诉求统计报表", "Huying appeal report"),
    "period": ("统计期间", "Period"),
    "previous": ("对比期间", "Compared with"),
    "filters": ("筛选条件", "Filters"),
    "none": ("无（全部）", "none (all)"),
    "generated": ("生成时间", "Generated"),
    "metric": ("指标", "Metric"),
    "this": ("本期", "This period"),
    "last": ("上期", "Previous period"),
    "change": ("变化", "Change"),
    "appeals": ("受理诉求数", "Appeals received"),
    "dispatched": ("派单数", "Dispatched"),
    "signed_on_time": ("按时签收数", "Signed for on time"),
    "response_rate": ("响应率", "Response rate"),
    "resolution_rate": ("解决率", "Resolution rate"),
    "satisfaction_rate": ("满意率", "Satisfaction rate"),
    "composite": ("综合得分", "Composite score"),
    "overdue_count": ("超期件数", "Overdue"),
    "returns": ("退单数", "Returns"),
    "rehandles": ("重办数", "Re-handles"),
    "ratings": ("评价数", "Ratings"),
    "sign_median": ("签收用时中位数（小时）", "Sign-for time, median (h)"),
    "sign_p90": ("签收用时P90（小时）", "Sign-for time, p90 (h)"),
    "reply_median": ("答复用时中位数（小时）", "Reply time, median (h)"),
    "reply_p90": ("答复用时P90（小时）", "Reply time, p90 (h)"),
    "rank": ("排名", "Rank"),
    "category": ("类别", "Category"),
    "count": ("件数", "Appeals"),
    "share": ("占比", "Share"),
    "previous_count": ("上期件数", "Previous period"),
    "change_pct": ("环比", "Change %"),
    "region": ("地区", "Region"),
    "baseline": ("基线均值", "Baseline mean"),
    "ratio": ("倍数", "Ratio"),
    "p_value": ("P值", "p-value"),
    "model": ("检验", "Test"),
    "no_rising": ("本期没有显著上升的类别。", "No category rose significantly this period."),
    "bureau": ("承办单位", "Bureau"),
    "total": ("合计", "Total"),
    "tracking_number": ("受理编号", "Tracking number"),
    "title_col": ("标题", "Title"),
    "state": ("状态", "State"),
    "reply_due": ("答复时限", "Reply due"),
    "replied_at": ("答复时间", "Replied"),
    "is_overdue": ("是否超期", "Overdue"),
    "reopen_count": ("重办次数", "Re-handles"),
    "submitted_at": ("提交时间", "Submitted"),
    "industry": ("行业", "Industry"),
    "size": ("企业规模", "Size"),
    "channel": ("渠道", "Channel"),
    "urgency": ("紧急程度", "Urgency"),
    "dispatched_at": ("派单时间", "Dispatched"),
    "signed_at": ("签收时间", "Signed for"),
    "closed_at": ("办结时间", "Closed"),
    "rating": ("评价", "Rating"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "chart_title": ("各类别诉求件数", "Appeals by category"),
}

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="B3261E")
HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="center")
TITLE_FONT = Font(bold=True, size=14)
PERCENT = "0.0%"
DATETIME = "yyyy-mm-dd hh:mm"
DATE = "yyyy-mm-dd"


def is_english(language: str) -> bool:
    return language.lower().startswith("en")


class Writer:
    """Small helpers around a write-only workbook in one language."""

    def __init__(self, language: str):
        self.english = is_english(language)
        self.workbook = Workbook(write_only=True)

    def t(self, key: str) -> str:
        return TEXT[key][1 if self.english else 0]

    def sheet(self, key: str, widths: list[int], *, freeze: str | None = None):
        ws = self.workbook.create_sheet(self.t(key))
        # Sheet views are written with the first row in write-only mode: freeze before appending.
        if freeze:
            ws.freeze_panes = freeze
            ws.print_title_rows = "1:1"  # repeat the header on every printed page
        # Printed (or converted to PDF): landscape, every column on one page width.
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        for index, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(index)].width = width
        return ws

    def cell(
        self, ws, value: Any, *, number_format: str | None = None, font: Font | None = None, fill=None, align=None
    ):
        cell = WriteOnlyCell(ws, value=value)
        if align:
            cell.alignment = align
        if number_format:
            cell.number_format = number_format
        if font:
            cell.font = font
        if fill:
            cell.fill = fill
        return cell

    def header(self, ws, keys: list[str]) -> None:
        ws.append([self.cell(ws, self.t(k), font=HEADER_FONT, fill=HEADER_FILL, align=HEADER_ALIGNMENT) for k in keys])

    def title(self, ws, text: str) -> None:
        ws.append([self.cell(ws, text, font=TITLE_FONT)])


def local_naive(value: datetime | None) -> datetime | None:
    """Excel has no time zones: datetimes are written as Asia/Shanghai wall-clock time."""
    if value is None:
        return None
    return timezone.localtime(value).replace(tzinfo=None)


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def describe_filters(filters: Filters, w: Writer) -> str:
    parts = []
    labels = selectors.region_labels()
    if filters.region_id:
        parts.append(f"{w.t('region')}: {labels.get(filters.region_id, filters.region_id)}")
    if filters.industry:
        parts.append(f"{w.t('industry')}: {filters.industry} {Industry(filters.industry).label}")
    if filters.size:
        parts.append(f"{w.t('size')}: {EnterpriseSize(filters.size).label}")
    if filters.channel:
        parts.append(f"{w.t('channel')}: {Channel(filters.channel).label}")
    if filters.bureau_id:
        parts.append(f"{w.t('bureau')}: {selectors.bureau_labels().get(filters.bureau_id, filters.bureau_id)}")
    return "; ".join(parts) or w.t("none")


def _summary(w: Writer, filters: Filters) -> None:
    ws = w.sheet("summary", [28, 16, 16, 14])
    now, previous = selectors.kpis(filters), filters.shifted(-1)
    w.title(ws, w.t("title"))
    ws.append([w.t("period"), f"{filters.start:%Y-%m-%d} – {filters.end:%Y-%m-%d}"])
    ws.append([w.t("previous"), f"{previous.start:%Y-%m-%d} – {previous.end:%Y-%m-%d}"])
    ws.append([w.t("filters"), describe_filters(filters, w)])
    ws.append([w.t("generated"), w.cell(ws, local_naive(timezone.now()), number_format=DATETIME)])
    ws.append([])
    w.header(ws, ["metric", "this", "last", "change"])
    a, b = now.card, now.previous_card
    rows: list[tuple[str, Any, Any, str | None]] = [
        ("appeals", now.appeals, now.previous_appeals, None),
        ("dispatched", a.dispatched, b.dispatched, None),
        ("signed_on_time", a.signed_on_time, b.signed_on_time, None),
        ("response_rate", _pct(a.response_rate), _pct(b.response_rate), PERCENT),
        ("resolution_rate", _pct(a.resolution_rate), _pct(b.resolution_rate), PERCENT),
        ("satisfaction_rate", _pct(a.satisfaction_rate), _pct(b.satisfaction_rate), PERCENT),
        ("composite", a.composite, b.composite, "0.0"),
        ("ratings", a.ratings, b.ratings, None),
        ("overdue_count", a.overdue, b.overdue, None),
        ("returns", a.returns, b.returns, None),
        ("rehandles", a.rehandles, b.rehandles, None),
        ("sign_median", a.sign_median_hours, b.sign_median_hours, "0.0"),
        ("sign_p90", a.sign_p90_hours, b.sign_p90_hours, "0.0"),
        ("reply_median", a.reply_median_hours, b.reply_median_hours, "0.0"),
        ("reply_p90", a.reply_p90_hours, b.reply_p90_hours, "0.0"),
    ]
    change_formats = {PERCENT: "+0.0%;-0.0%;0.0%", "0.0": "+0.0;-0.0;0.0", None: "+0;-0;0"}
    for key, this, last, fmt in rows:
        change = None if this is None or last is None else round(this - last, 4)
        ws.append(
            [
                w.t(key),
                w.cell(ws, this, number_format=fmt),
                w.cell(ws, last, number_format=fmt),
                w.cell(ws, change, number_format=change_formats[fmt]),
            ]
        )


def _ranking(w: Writer, filters: Filters) -> None:
    rows = selectors.category_ranking(filters)
    ws = w.sheet("ranking", [8, 26, 12, 10, 14, 10, 10], freeze="A2")
    w.header(ws, ["rank", "category", "count", "share", "previous_count", "change", "change_pct"])
    for row in rows:
        ws.append(
            [
                row.rank,
                row.category,
                row.count,
                w.cell(ws, _pct(row.share), number_format=PERCENT),
                row.previous,
                row.change,
                w.cell(ws, _pct(row.change_pct), number_format="+0.0%;-0.0%;0.0%"),
            ]
        )
    if rows:
        chart = BarChart()
        chart.type = "bar"  # horizontal bars read best with long Chinese category names
        chart.title = w.t("chart_title")
        chart.y_axis.title = w.t("count")
        chart.legend = None
        chart.height = max(7.5, 0.6 * len(rows))
        chart.width = 18
        data = Reference(ws, min_col=3, min_row=1, max_row=len(rows) + 1)
        categories = Reference(ws, min_col=2, min_row=2, max_row=len(rows) + 1)
        chart.add_data(data, titles_from_data=True)
        chart.set_categories(categories)
        chart.x_axis.scaling.orientation = "maxMin"  # rank 1 at the top
        # Below the table, so the sheet prints on one page width.
        ws.add_chart(chart, f"A{len(rows) + 3}")


def _rising(w: Writer, filters: Filters) -> None:
    rows = selectors.rising(filters)
    ws = w.sheet("rising", [24, 16, 10, 12, 10, 12, 10])
    w.header(ws, ["category", "region", "count", "baseline", "ratio", "p_value", "model"])
    for row in rows:
        ws.append(
            [
                row.category,
                row.region or "—",
                row.count,
                row.baseline_mean,
                w.cell(ws, None if row.ratio is None else round(row.ratio, 2), number_format="0.00"),
                w.cell(ws, row.p_value, number_format="0.00E+00"),
                row.model,
            ]
        )
    if not rows:
        ws.append([w.t("no_rising")])


SCORECARD_KEYS = [
    "bureau",
    "dispatched",
    "signed_on_time",
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "composite",
    "sign_median",
    "sign_p90",
    "reply_median",
    "reply_p90",
    "overdue_count",
    "returns",
    "rehandles",
]


def scorecard_values(card: Scorecard) -> list[Any]:
    return [
        card.dispatched,
        card.signed_on_time,
        _pct(card.response_rate),
        _pct(card.resolution_rate),
        _pct(card.satisfaction_rate),
        card.composite,
        card.sign_median_hours,
        card.sign_p90_hours,
        card.reply_median_hours,
        card.reply_p90_hours,
        card.overdue,
        card.returns,
        card.rehandles,
    ]


def _scorecard(w: Writer, filters: Filters) -> None:
    rows = selectors.scorecard_rows(filters)
    ws = w.sheet("scorecard", [30, 10, 12, 10, 10, 10, 10, 14, 14, 14, 14, 10, 10, 10], freeze="B2")
    ws.row_dimensions[1].height = 32  # two lines for the long headers
    w.header(ws, SCORECARD_KEYS)
    for row in rows:
        values = scorecard_values(row.card)
        cells = [row.name]
        for index, value in enumerate(values):
            cells.append(w.cell(ws, value, number_format=PERCENT if 2 <= index <= 4 else None))
        ws.append(cells)
    if rows:
        last = len(rows) + 1
        red = PatternFill("solid", fgColor="FDE8E8")
        # Rates under 80 % stand out; the composite runs red → amber → green; overdue as data bars.
        for column in ("D", "E", "F"):
            ws.conditional_formatting.add(
                f"{column}2:{column}{last}", CellIsRule(operator="lessThan", formula=["0.8"], fill=red)
            )
        ws.conditional_formatting.add(
            f"G2:G{last}",
            ColorScaleRule(
                start_type="num",
                start_value=60,
                start_color="F8696B",
                mid_type="num",
                mid_value=80,
                mid_color="FFEB84",
                end_type="num",
                end_value=100,
                end_color="63BE7B",
            ),
        )
        ws.conditional_formatting.add(
            f"L2:L{last}", DataBarRule(start_type="num", start_value=0, end_type="max", color="B3261E")
        )


def _matrix(w: Writer, filters: Filters) -> None:
    categories, regions, cells = selectors.heatmap(filters)
    ws = w.sheet("matrix", [26, *([12] * (len(regions) + 1))], freeze="B2")
    header = [w.t("category"), *[name for _id, name in regions], w.t("total")]
    ws.append([w.cell(ws, v, font=HEADER_FONT, fill=HEADER_FILL) for v in header])
    column_totals = [0] * len(regions)
    for cid, name in categories:
        values = [cells.get((cid, rid), 0) for rid, _name in regions]
        for i, value in enumerate(values):
            column_totals[i] += value
        ws.append([name, *values, sum(values)])
    bold = Font(bold=True)
    ws.append(
        [
            w.cell(ws, w.t("total"), font=bold),
            *[w.cell(ws, v, font=bold) for v in column_totals],
            w.cell(ws, sum(column_totals), font=bold),
        ]
    )
    if categories and regions:
        end = f"{get_column_letter(len(regions) + 1)}{len(categories) + 1}"
        ws.conditional_formatting.add(
            f"B2:{end}", ColorScaleRule(start_type="min", start_color="FFFFFF", end_type="max", end_color="F8696B")
        )


class ColumnCells:
    """Streams rows into a write-only sheet through one reusable cell per column.

    ``ws.append`` builds a new ``WriteOnlyCell`` after every styled value, and a cell passed in
    is first tried as a plain value (an exception, with the cell's repr, per cell); on the raw
    sheet (100,000 rows × 18 columns, six of them dates) that was about a third of the sheet's
    time. Write-only sheets serialise each appended row at once, so one cell per column (the
    date columns carrying their number format) can be refilled row after row. The values still
    go through openpyxl's own type checks (``cell.value = …``) and XML writer.
    """

    def __init__(self, ws, columns: int, number_formats: dict[int, str], *, styled_blanks: bool = False):
        # styled_blanks: an empty value in a formatted column still writes its (empty, formatted)
        # cell, as ``WriteOnlyCell(ws, value=None)`` with a number format does.
        self.styled_blanks = styled_blanks
        self.cells = []
        for index in range(columns):
            cell = WriteOnlyCell(ws)
            cell.column = index + 1
            if index in number_formats:
                cell.number_format = number_formats[index]
            self.cells.append(cell)
        self.ws = ws

    def _cells(self, values, row_index: int):
        for cell, value in zip(self.cells, values, strict=True):
            if value is None and not (self.styled_blanks and cell.has_style):
                continue
            cell.value = value
            cell.row = row_index
            yield cell

    def __enter__(self) -> ColumnCells:
        # The sheet's row generator looks ``_values_to_row`` up on every append: rows appended
        # while this is active are built from the column cells (openpyxl 3.1's write-only sheet).
        self.ws._values_to_row = self._cells
        return self

    def __exit__(self, *exc_info) -> None:
        del self.ws._values_to_row


def _appeal_scope(filters: Filters):
    """Appeals matching the filters (for the two listing sheets)."""
    query = Appeal.objects.all()
    if filters.region_ids is not None:
        query = query.filter(region_id__in=filters.region_ids)
    if filters.industry:
        query = query.filter(industry=filters.industry)
    if filters.size:
        query = query.filter(enterprise_size=filters.size)
    if filters.channel:
        query = query.filter(channel=filters.channel)
    if filters.bureau_id is not None:
        query = query.filter(bureau_id=filters.bureau_id)
    return query


def local_range(filters: Filters) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = datetime.combine(filters.start, time.min, tzinfo=tz)
    return start, datetime.combine(filters.end + timedelta(days=1), time.min, tzinfo=tz)


def _overdue(w: Writer, filters: Filters, labels: dict[str, dict]) -> None:
    ws = w.sheet("overdue", [20, 36, 24, 16, 12, 18, 18, 10, 10], freeze="A2")
    keys = ["tracking_number", "title_col", "bureau", "category", "state", "reply_due", "replied_at"]
    w.header(ws, [*keys, "is_overdue", "reopen_count"])
    facts = AppealFact.objects.filter(dispatch_day__gte=filters.start, dispatch_day__lte=filters.end).filter(
        Q(overdue=True) | Q(reopen_count__gt=0)
    )
    flagged = {
        appeal_id: (overdue, reopen_count)
        for appeal_id, overdue, reopen_count in facts.values_list("appeal_id", "overdue", "reopen_count").iterator(
            chunk_size=5000
        )
    }
    # A subquery rather than the ids as parameters: a busy week flags tens of thousands.
    query = (
        _appeal_scope(filters)
        .filter(pk__in=facts.values("appeal_id"))
        .order_by("reply_due", "pk")
        .values_list("pk", "tracking_number", "title", "bureau_id", "category_id", "state", "reply_due", "replied_at")
    )
    states = {value: str(label) for value, label in AppealState.choices}
    yes, no = w.t("yes"), w.t("no")
    count = 0
    with ColumnCells(ws, 9, {5: DATETIME, 6: DATETIME}, styled_blanks=True):
        for pk, tracking, title, bureau_id, category_id, state, reply_due, replied_at in query.iterator(
            chunk_size=5000
        ):
            overdue, reopen_count = flagged[pk]
            ws.append(
                [
                    tracking,
                    title,
                    labels["bureau"].get(bureau_id, ""),
                    labels["category"].get(category_id, ""),
                    states[state],
                    local_naive(reply_due),
                    local_naive(replied_at),
                    yes if overdue else no,
                    reopen_count,
                ]
            )
            count += 1
    if count:
        ws.auto_filter.ref = f"A1:I{count + 1}"


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
_RAW_FIELDS = (
    "tracking_number",
    "submitted_at",
    "category_id",
    "region_id",
    "industry",
    "enterprise_size",
    "channel",
    "urgency",
    "state",
    "bureau_id",
    "dispatched_at",
    "signed_at",
    "reply_due",
    "replied_at",
    "closed_at",
    "rating_level",
    "reopen_count",
    "title",
)
_DATETIME_COLUMNS = {1, 10, 11, 12, 13, 14}


def raw_rows(filters: Filters):
    """The period's appeals (no personal data: contact name, phone and e-mail are left out)."""
    start, end = local_range(filters)
    return (
        _appeal_scope(filters)
        .filter(submitted_at__gte=start, submitted_at__lt=end)
        .order_by("submitted_at", "pk")
        .values_list(*_RAW_FIELDS)
    )


def _raw(w: Writer, filters: Filters, labels: dict[str, dict], progress: Progress, total: int) -> int:
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
    with ColumnCells(ws, len(RAW_KEYS), dict.fromkeys(_DATETIME_COLUMNS, DATETIME)):
        for values in raw_rows(filters).iterator(chunk_size=5000):
            row: list[Any] = list(values)
            for index in _DATETIME_COLUMNS:
                value = row[index]
                if value is not None:
                    row[index] = value.astimezone(tz).replace(tzinfo=None)
            for index, mapping in lookups:
                row[index] = mapping.get(row[index], "")
            for index, mapping in choice.items():
                value = row[index]
                if value is not None:
                    row[index] = mapping.get(value, value)
            ws.append(row)
            count += 1
            if count % step == 0:
                progress(35 + int(60 * count / max(total, 1)), "raw")
    ws.auto_filter.ref = f"A1:{get_column_letter(len(RAW_KEYS))}{count + 1}"
    return count


def build_workbook(*, filters: Filters, language: str, out: str | IO[bytes], progress: Progress | None = None) -> int:
    """Write the report for ``filters`` to ``out`` (path or binary file). Returns the raw sheet's row count.

    ``progress(percent, step)`` is called as sheets are written (percent 0–100).
    """
    report_progress: Progress = progress or (lambda _p, _s: None)
    with translation.override(language):
        w = Writer(language)
        labels = {
            "category": selectors.category_labels(),
            "region": selectors.region_labels(),
            "bureau": selectors.bureau_labels(),
        }
        report_progress(2, "summary")
        _summary(w, filters)
        report_progress(8, "ranking")
        _ranking(w, filters)
        report_progress(14, "rising")
        _rising(w, filters)
        report_progress(20, "scorecard")
        _scorecard(w, filters)
        report_progress(26, "matrix")
        _matrix(w, filters)
        report_progress(30, "overdue")
        _overdue(w, filters, labels)
        total = raw_rows(filters).count()
        report_progress(35, "raw")
        count = _raw(w, filters, labels, report_progress, total)
        report_progress(97, "save")
        w.workbook.save(out)
    report_progress(100, "done")
    return count


def iso_week(value: str) -> tuple[date, date]:
    """'2026-W47' → (Monday, Sunday) of that ISO week."""
    try:
        year, week = value.upper().split("-W")
        monday = date.fromisocalendar(int(year), int(week), 1)
    except (ValueError, TypeError):
        raise ValueError(value) from None
    return monday, monday + timedelta(days=6)


def previous_iso_week(today: date) -> tuple[date, date]:
    monday = today - timedelta(days=today.weekday()) - timedelta(days=7)
    return monday, monday + timedelta(days=6)
