"""Workbook helpers of the Excel report: fixed texts in two languages, formats, page setup, safe cells.

The report is written with XlsxWriter in ``constant_memory`` mode: each row goes to a temporary
file as soon as the next row starts, so memory stays flat however many appeals the raw sheet
holds, and strings are written inline (no shared-string table growing with every title). Every
sheet is therefore built top to bottom, and column widths, freeze panes and page setup are set
before the first row. (openpyxl's write-only mode did the same job in round 1 but imports numpy
when it is installed, ~20 MB, and its fast path needed a private hook; see docs/benchmarks.md.)

Every value goes through :meth:`Sheet.append`: strings are always written as strings (the workbook
is opened with ``strings_to_formulas`` and friends off), and formula-like ones also carry the
``quote_prefix`` format (``analytics.spreadsheet_text`` says why), so no user text is ever a formula.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

import xlsxwriter
from django.utils import timezone
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from analytics.spreadsheet_text import is_formula_like

Progress = Callable[[int, str], None]

# (Chinese, English) for every fixed text in the workbook.
TEXT: dict[str, tuple[str, str]] = {
    "summary": ("摘要", "Summary"),
    "ranking": ("类别排行", "Category ranking"),
    "types": ("按诉求类型", "By appeal type"),
    "appeal_type": ("诉求类型", "Appeal type"),
    "untyped": ("未分类型（旧诉求）", "No type (older appeals)"),
    "rising": ("上升类别", "Rising categories"),
    "scorecard": ("单位考核", "Bureau scorecard"),
    "matrix": ("地区×类别", "Region x category"),
    "overdue": ("超期与重办", "Overdue and re-opened"),
    "raw": ("诉求明细", "Appeals"),
    "policy": ("政策层面待解决的问题", "Policy-level problems"),
    "warning_kind": ("预警类型", "Warning"),
    "warning": ("问题", "Problem"),
    "raised_at": ("预警时间", "Raised"),
    "action": ("处理说明", "Action taken"),
    "no_warnings": ("本期没有预警。", "No early warnings this period."),
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
    "followup_rate": ("回访率", "Follow-up rate"),
    "followups_due": ("应回访数", "Follow-ups due"),
    "followups_completed": ("已回访数", "Follow-ups completed"),
    "followup_resolved": ("回访：已解决", "Follow-up: resolved"),
    "followup_not_resolved": ("回访：未解决（重办）", "Follow-up: not resolved (re-opened)"),
    "followup_contested": ("回访：对评价有异议", "Follow-up: rating contested"),
    "followup_unreachable": ("回访：联系不上", "Follow-up: unreachable"),
    "problems": ("问题工单", "Problem tickets"),
    "problem_reasons": ("标记原因", "Flagged for"),
    "problem_bureaus": ("经过单位数", "Bureaus in path"),
    "flagged_at": ("标记时间", "Flagged"),
    "owner": ("协调负责人", "Coordinating owner"),
    "owner_note": ("指派说明", "Owner's brief"),
    "resolve_reason": ("解除理由", "Resolution"),
    "problems_flagged": ("本期标记", "Flagged this period"),
    "problems_open": ("目前待协调", "Open now"),
    "problems_with_owner": ("其中已指派协调负责人", "Open with an owner"),
    "problems_resolved": ("本期解除", "Resolved this period"),
    "no_problems": ("本期没有问题工单。", "No problem tickets this period."),
}

HEADER = {"bold": True, "font_color": "#FFFFFF", "bg_color": "#B3261E", "text_wrap": True, "valign": "vcenter"}
TITLE = {"bold": True, "font_size": 14}
BOLD = {"bold": True}
PERCENT = "0.0%"
DATETIME = "yyyy-mm-dd hh:mm"
DATE = "yyyy-mm-dd"
# Excel's column width unit is the width of a digit of the default font: 7 pixels for Calibri 11.
DIGIT_PIXELS = 7
A4 = 9  # Excel's paper size code


def is_english(language: str) -> bool:
    return language.lower().startswith("en")


def local_naive(value: datetime | None) -> datetime | None:
    """Excel has no time zones: datetimes are written as Asia/Shanghai wall-clock time."""
    if value is None:
        return None
    return timezone.localtime(value).replace(tzinfo=None)


def pct(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


class Texts:
    """The workbook's fixed texts in one language."""

    def __init__(self, language: str):
        self.english = is_english(language)

    def t(self, key: str) -> str:
        return TEXT[key][1 if self.english else 0]


@dataclass(frozen=True)
class Styled:
    """A value with its cell format (a dict of XlsxWriter format properties, see ``Writer.format``)."""

    value: Any
    style: tuple[tuple[str, Any], ...]


class Sheet:
    """One worksheet written row by row (``constant_memory`` needs rows in order)."""

    def __init__(self, writer: Writer, ws: Worksheet):
        self.writer = writer
        self.ws = ws
        self.rows = 0  # rows written so far; the next row's 0-based index

    @property
    def name(self) -> str:
        return self.ws.get_name()

    def append(self, values: Iterable[Any], formats: dict[int, Format] | None = None) -> None:
        """Write one row. ``Styled`` values carry their format; ``formats`` gives per-column defaults.

        ``None`` leaves the cell empty, unless its column has a format (then an empty formatted cell).
        """
        write = self.writer.write
        row = self.rows
        for col, value in enumerate(values):
            fmt = formats.get(col) if formats else None
            if value.__class__ is Styled:
                fmt = self.writer.format(**dict(value.style)) if value.style else fmt
                value = value.value
            write(self.ws, row, col, value, fmt)
        self.rows = row + 1


class Writer(Texts):
    """An XlsxWriter workbook in one language, with cached formats and the report's page setup."""

    def __init__(self, language: str, out: str | IO[bytes]):
        super().__init__(language)
        self.book = xlsxwriter.Workbook(
            out,
            {
                "constant_memory": True,
                # Never turn text into something else: "=…" stays text, "12" stays text, URLs too.
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
                "default_date_format": DATETIME,  # a date written without a format is still a date
            },
        )
        self._formats: dict[tuple[tuple[str, Any], ...], Format] = {}
        self._props: dict[int, dict[str, Any]] = {}  # id(format) -> its properties
        self._quoted: dict[int, Format] = {}

    def format(self, **props: Any) -> Format:
        """The workbook's format with these properties (created once, then reused)."""
        key = tuple(sorted(props.items()))
        fmt = self._formats.get(key)
        if fmt is None:
            fmt = self._formats[key] = self.book.add_format(dict(props))
            self._props[id(fmt)] = props
        return fmt

    def quoted(self, fmt: Format | None) -> Format:
        """``fmt`` plus ``quote_prefix``: the cell is text typed with a leading apostrophe."""
        key = id(fmt)
        quoted = self._quoted.get(key)
        if quoted is None:
            props = dict(self._props.get(key, {})) if fmt is not None else {}
            quoted = self._quoted[key] = self.format(**props, quote_prefix=True)
        return quoted

    def cell(self, value: Any, *, number_format: str | None = None, style: dict[str, Any] | None = None) -> Styled:
        """``value`` with a number format and/or other format properties."""
        props = dict(style or {})
        if number_format:
            props["num_format"] = number_format
        return Styled(value, tuple(sorted(props.items())))

    def write(self, ws: Worksheet, row: int, col: int, value: Any, fmt: Format | None) -> None:
        """One cell by the value's type: text always as text, formula-like text with ``quote_prefix``."""
        if value is None:
            if fmt is not None:
                ws.write_blank(row, col, None, fmt)
            return
        cls = value.__class__
        if cls is str:
            if value and is_formula_like(value):
                fmt = self.quoted(fmt)
            ws.write_string(row, col, value, fmt)
        elif cls is int or cls is float:
            ws.write_number(row, col, value, fmt)
        elif cls is bool:
            ws.write_boolean(row, col, value, fmt)
        elif isinstance(value, (datetime, date)):
            ws.write_datetime(row, col, value, fmt)
        elif isinstance(value, numbers.Number):
            ws.write_number(row, col, float(value), fmt)  # type: ignore[arg-type]
        else:
            self.write(ws, row, col, str(value), fmt)

    def sheet(self, key: str, widths: list[int], *, freeze: str | None = None) -> Sheet:
        """A new sheet that prints on whole A4 landscape pages, every column on one page width.

        ``freeze`` ("A2": the first row, "B2": the first row and column) freezes the panes and
        repeats the header row on every printed page.
        """
        ws = self.book.add_worksheet(self.t(key))
        if freeze:
            rows = int(freeze[1:]) - 1
            cols = ord(freeze[0].upper()) - ord("A")
            ws.freeze_panes(rows, cols)
            ws.repeat_rows(0, rows - 1)
        ws.set_landscape()
        ws.set_paper(A4)
        ws.fit_to_pages(1, 0)
        ws.center_horizontally()
        ws.set_margins(left=0.5, right=0.5)
        ws.set_header("&C&A")  # the sheet's name on every page
        ws.set_footer("&C" + self.t("page_footer"))
        for index, width in enumerate(widths):
            # In pixels, so the stored width is exactly ``width`` characters.
            ws.set_column_pixels(index, index, width * DIGIT_PIXELS)
        return Sheet(self, ws)

    def header(self, sheet: Sheet, keys: list[str]) -> None:
        header = self.format(**HEADER)
        sheet.append([self.t(k) for k in keys], dict.fromkeys(range(len(keys)), header))

    def title(self, sheet: Sheet, text: str) -> None:
        sheet.append([text], {0: self.format(**TITLE)})

    def close(self) -> None:
        self.book.close()
