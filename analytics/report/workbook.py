"""Workbook helpers of the Excel report: fixed texts in two languages, styles, page setup, safe text cells.

The report is written with openpyxl in write-only (streaming) mode, which keeps memory flat however
many appeals the raw sheet holds: rows go to a temporary file as they are appended. Every sheet is
therefore built top to bottom, styles are set per cell (``WriteOnlyCell``) and column widths,
freeze panes and page setup before the first row.

Every string goes through :meth:`Writer.row` / :meth:`Writer.cell` or :class:`ColumnCells`, which
write formula-like text as a string with the ``quotePrefix`` style (``analytics.spreadsheet_text``
says why): no user text ever becomes an ``<f>`` element.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from analytics.spreadsheet_text import is_formula_like

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
    "page_footer": ("第 &P 页，共 &N 页", "Page &P of &N"),
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


def local_naive(value: datetime | None) -> datetime | None:
    """Excel has no time zones: datetimes are written as Asia/Shanghai wall-clock time."""
    if value is None:
        return None
    return timezone.localtime(value).replace(tzinfo=None)


def pct(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def text_cell(ws: Any, value: str) -> WriteOnlyCell:
    """A string cell that stays text: never a formula, ``quotePrefix`` when it looks like one."""
    cell = WriteOnlyCell(ws, value=value)
    cell.data_type = "s"
    cell.quotePrefix = True
    return cell


def safe_value(ws: Any, value: Any) -> Any:
    """``value`` ready for ``ws.append``: formula-like strings become text cells, the rest pass through."""
    if isinstance(value, str) and value and is_formula_like(value):
        return text_cell(ws, value)
    return value


class Writer:
    """Small helpers around a write-only workbook in one language."""

    def __init__(self, language: str):
        self.english = is_english(language)
        self.workbook = Workbook(write_only=True)

    def t(self, key: str) -> str:
        return TEXT[key][1 if self.english else 0]

    def sheet(self, key: str, widths: list[int], *, freeze: str | None = None, title_rows: str | None = None):
        """A new sheet that prints on whole A4 landscape pages, every column on one page width.

        ``freeze`` freezes the panes (sheet views are written with the first row in write-only
        mode, so before appending) and repeats the header row on every printed page, or
        ``title_rows`` names the rows to repeat.
        """
        ws = self.workbook.create_sheet(self.t(key))
        if freeze:
            ws.freeze_panes = freeze
        repeat = title_rows or ("1:1" if freeze else None)
        if repeat:
            ws.print_title_rows = repeat
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.print_options.horizontalCentered = True
        ws.page_margins.left = ws.page_margins.right = 0.5
        ws.oddHeader.center.text = "&A"  # the sheet's name on every page
        ws.oddFooter.center.text = self.t("page_footer")
        for index, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(index)].width = width
        return ws

    def cell(
        self, ws, value: Any, *, number_format: str | None = None, font: Font | None = None, fill=None, align=None
    ):
        cell = text_cell(ws, value) if isinstance(value, str) and is_formula_like(value) else WriteOnlyCell(ws, value)
        if align:
            cell.alignment = align
        if number_format:
            cell.number_format = number_format
        if font:
            cell.font = font
        if fill:
            cell.fill = fill
        return cell

    def row(self, ws, values: Iterable[Any]) -> None:
        """Append one row; formula-like strings are written as text."""
        ws.append([safe_value(ws, value) for value in values])

    def header(self, ws, keys: list[str]) -> None:
        ws.append([self.cell(ws, self.t(k), font=HEADER_FONT, fill=HEADER_FILL, align=HEADER_ALIGNMENT) for k in keys])

    def title(self, ws, text: str) -> None:
        ws.append([self.cell(ws, text, font=TITLE_FONT)])


class ColumnCells:
    """Streams rows into a write-only sheet through one reusable cell per column.

    ``ws.append`` builds a new ``WriteOnlyCell`` after every styled value, and a cell passed in
    is first tried as a plain value (an exception, with the cell's repr, per cell); on the raw
    sheet (100,000 rows × 18 columns, six of them dates) that was about a third of the sheet's
    time. Write-only sheets serialise each appended row at once, so one cell per column (the
    date columns carrying their number format) can be refilled row after row. The values still
    go through openpyxl's own type checks (``cell.value = …``) and XML writer; strings are forced
    to the string type and formula-like ones carry ``quotePrefix`` (toggled per value).
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
        self.quoted = [False] * columns
        self.ws = ws

    def _cells(self, values, row_index: int):
        quoted = self.quoted
        for index, (cell, value) in enumerate(zip(self.cells, values, strict=True)):
            if value is None and not (self.styled_blanks and cell.has_style):
                continue
            cell.value = value
            if value.__class__ is str:
                risky = is_formula_like(value)
                if risky:
                    cell.data_type = "s"
                if risky is not quoted[index]:
                    cell.quotePrefix = quoted[index] = risky
            cell.row = row_index
            yield cell

    def __enter__(self) -> ColumnCells:
        # The sheet's row generator looks ``_values_to_row`` up on every append: rows appended
        # while this is active are built from the column cells (openpyxl 3.1's write-only sheet).
        self.ws._values_to_row = self._cells
        return self

    def __exit__(self, *exc_info) -> None:
        del self.ws._values_to_row
