"""The Excel workbook opened with openpyxl, the weekly_report command and the Monday task."""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone
from openpyxl import load_workbook

from analytics import report as workbook
from analytics import selectors, tasks, weeks
from analytics.models import Report
from analytics.report import workbook as workbook_helpers
from analytics.selectors import Filters
from appeals.models import Appeal
from notifications.models import OutboxEvent
from tests.analytics.conftest import SHANGHAI

pytestmark = pytest.mark.django_db
WEEK = Filters(start=date(2026, 11, 2), end=date(2026, 11, 8))
ZH_SHEETS = [
    "摘要",
    "类别排行",
    "按诉求类型",
    "上升类别",
    "单位考核",
    "地区×类别",
    "超期与重办",
    "问题工单",
    "诉求明细",
    "政策层面待解决的问题",
]
EN_SHEETS = [
    "Summary",
    "Category ranking",
    "By appeal type",
    "Rising categories",
    "Bureau scorecard",
    "Region x category",
    "Overdue and re-opened",
    "Problem tickets",
    "Appeals",
    "Policy-level problems",
]


def week_appeals(filters: Filters = WEEK):
    start, end = selectors.local_range(filters)
    return Appeal.objects.filter(submitted_at__gte=start, submitted_at__lt=end)


@pytest.fixture
def book(populated, tmp_path):
    path = tmp_path / "week.xlsx"
    steps = []
    count = workbook.build_workbook(
        filters=WEEK, language="zh-hans", out=str(path), progress=lambda p, s: steps.append(p)
    )
    return path, count, steps


def test_workbook_sheets_totals_and_chart(book):
    path, count, steps = book
    assert steps[-1] == 100 and steps == sorted(steps)
    wb = load_workbook(path)
    assert wb.sheetnames == ZH_SHEETS
    expected = week_appeals().count()
    assert count == expected > 0

    summary = {row[0]: row[1:] for row in wb["摘要"].iter_rows(values_only=True) if row and row[0]}
    counted = week_appeals().exclude(state__in=["merged", "rejected"]).count()
    assert summary["受理诉求数"][0] == counted
    previous = WEEK.shifted(-1)
    assert summary["受理诉求数"][1] == week_appeals(previous).exclude(state__in=["merged", "rejected"]).count()
    assert summary["受理诉求数"][2] == summary["受理诉求数"][0] - summary["受理诉求数"][1]
    dispatched = Appeal.objects.filter(dispatched_at__gte=selectors.local_range(WEEK)[0]).filter(
        dispatched_at__lt=selectors.local_range(WEEK)[1]
    )
    assert summary["派单数"][0] == dispatched.count()

    ranking = list(wb["类别排行"].iter_rows(values_only=True))
    assert ranking[0] == ("排名", "类别", "件数", "占比", "上期件数", "变化", "环比")
    assert sum(r[2] for r in ranking[1:]) == counted
    assert wb["类别排行"]._charts, "the ranking sheet carries a native bar chart"
    with zipfile.ZipFile(path) as archive:
        chart_xml = archive.read("xl/charts/chart1.xml").decode()
    # (with or without the chart namespace's "c:" prefix, as the writing library chooses)
    assert re.search(r"<(c:)?barChart>", chart_xml) and re.search(r'<(c:)?barDir val="bar"', chart_xml)
    assert "'类别排行'!$C$2:$C$" in chart_xml, "the chart plots the count column"

    score = wb["单位考核"]
    assert [c.value for c in score[1]][:4] == ["承办单位", "派单数", "按时签收数", "响应率"]
    assert sum(row[1] for row in score.iter_rows(min_row=2, values_only=True)) == dispatched.count()
    assert len(score.conditional_formatting) >= 3

    matrix = list(wb["地区×类别"].iter_rows(values_only=True))
    assert matrix[-1][0] == "合计" and matrix[-1][-1] == counted

    raw = wb["诉求明细"]
    assert raw.freeze_panes == "A2"
    assert raw.auto_filter.ref == f"A1:R{expected + 1}"
    assert raw.column_dimensions["R"].width == 40
    rows = list(raw.iter_rows(min_row=2, values_only=True))
    assert len(rows) == expected
    assert {r[0] for r in rows} == set(week_appeals().values_list("tracking_number", flat=True))
    assert all(isinstance(r[1], datetime) for r in rows), "dates are real dates, not text"
    assert raw["B2"].number_format == "yyyy-mm-dd hh:mm"
    first = week_appeals().order_by("submitted_at", "pk").first()
    assert abs((rows[0][1] - timezone.localtime(first.submitted_at).replace(tzinfo=None)).total_seconds()) < 1
    # No personal data in the raw sheet.
    assert first.contact_phone not in {str(v) for r in rows for v in r}


def test_overdue_sheet_lists_overdue_and_reopened(populated, tmp_path):
    filters = Filters(start=date(2026, 9, 14), end=date(2026, 11, 29))
    path = tmp_path / "all.xlsx"
    workbook.build_workbook(filters=filters, language="zh-hans", out=str(path))
    rows = list(load_workbook(path)["超期与重办"].iter_rows(min_row=2, values_only=True))
    card = selectors.overall_scorecard(filters)
    overdue = [r for r in rows if r[7] == "是"]
    assert len(overdue) == card.overdue > 0
    assert sum(r[8] for r in rows) == card.rehandles > 0


def test_weekly_report_command(populated, tmp_path):
    out = tmp_path / "w45.xlsx"
    call_command("weekly_report", "--week", "2026-W45", "--out", str(out), "--lang", "en")
    wb = load_workbook(out)
    assert wb.sheetnames == EN_SHEETS
    assert [c.value for c in wb["Appeals"][1]][:3] == ["Tracking number", "Submitted", "Category"]
    assert [c.value for c in wb["Summary"][7]] == ["Metric", "This period", "Previous period", "Change"]
    categories = {r[2] for r in wb["Appeals"].iter_rows(min_row=2, values_only=True)}
    assert categories and all(c.isascii() for c in categories), "names follow the language"
    ranged = tmp_path / "range.xlsx"
    call_command(
        "weekly_report", "--from", "2026-11-02", "--to", "2026-11-08", "--out", str(ranged), "--channel", "web"
    )
    rows = list(load_workbook(ranged)["诉求明细"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == week_appeals().filter(channel="web").count()
    for bad in (["--week", "2026-47"], ["--from", "2026-11-08", "--to", "2026-11-01"], []):
        with pytest.raises(CommandError):
            call_command("weekly_report", *bad, "--out", str(tmp_path / "x.xlsx"))


def test_monday_task_builds_stores_and_announces_once(populated, settings):
    with time_machine.travel(datetime(2026, 11, 9, 8, 0, tzinfo=SHANGHAI), tick=False):
        report_id = tasks.weekly_report()
        again = tasks.weekly_report()
    assert again == report_id
    report = Report.objects.get()
    assert (report.kind, report.period_start, report.period_end) == ("weekly", date(2026, 11, 2), date(2026, 11, 8))
    assert report.status == Report.Status.DONE and report.progress == 100
    assert report.appeal_count == week_appeals().count()
    with report.file.open("rb") as handle:
        assert load_workbook(handle).sheetnames == ZH_SHEETS
    events = OutboxEvent.objects.filter(event_type="report.ready")
    assert events.count() == 1
    payload = events.get().payload
    assert payload["report_id"] == report.pk and payload["staff_url"].endswith(f"/analytics/reports/{report.pk}/")


def test_iso_week_parsing():
    assert weeks.iso_week("2026-W47") == (date(2026, 11, 16), date(2026, 11, 22))
    assert weeks.previous_iso_week(date(2026, 11, 23)) == (date(2026, 11, 16), date(2026, 11, 22))
    assert weeks.previous_iso_week(date(2026, 11, 29)) == (date(2026, 11, 16), date(2026, 11, 22))
    with pytest.raises(ValueError):
        weeks.iso_week("W47")


def test_cells_are_written_by_type_and_text_never_becomes_a_formula(tmp_path):
    """``Writer.write``: numbers, dates, empty formatted cells, text; formula-like text as quoted text."""
    path = tmp_path / "cells.xlsx"
    w = workbook_helpers.Writer("zh-hans", str(path))
    ws = w.sheet("raw", [10, 10, 10, 10, 10, 10, 10])
    when = datetime(2026, 11, 2, 9, 30)
    ws.append(["标题", 3, 2.5, when, None, "=1+1", w.cell(None, number_format=workbook_helpers.DATETIME)])
    ws.append(["<&>", True, Decimal("1.25"), date(2026, 11, 3), " @SUM(1)", "A=1", w.cell(0.5, number_format="0.0%")])
    w.close()
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml
    sheet = load_workbook(path)["诉求明细"]
    first, second = (list(row) for row in sheet.iter_rows(min_row=1, max_row=2))
    assert [c.value for c in first[:4]] == ["标题", 3, 2.5, when]
    assert first[4].value is None and first[6].value is None and first[6].number_format == "yyyy-mm-dd hh:mm"
    assert first[5].value == "=1+1" and first[5].data_type == "s" and first[5].quotePrefix
    assert not first[0].quotePrefix
    assert [c.value for c in second[:3]] == ["<&>", True, 1.25]
    assert second[3].value == datetime(2026, 11, 3)
    assert second[4].value == " @SUM(1)" and second[4].quotePrefix
    assert second[5].value == "A=1" and not second[5].quotePrefix
    assert second[6].number_format == "0.0%"


def test_english_workbook_has_no_chinese_outside_the_data(populated, tmp_path):
    """Sheet names, titles, headers, labels and notes of the English workbook are English; only what
    comes from the data (appeal titles and texts, enterprise names, names without an English form) may
    be Chinese."""
    from tests.i18n.test_english_pages import CJK, data_names

    out = tmp_path / "en.xlsx"
    workbook.build_workbook(filters=WEEK, language="en", out=str(out), progress=lambda p, s: None)
    names = sorted(data_names(), key=len, reverse=True)
    wb = load_workbook(out)
    left = [f"sheet name {title}" for title in wb.sheetnames if CJK.search(title)]
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                text = cell.value if isinstance(cell.value, str) else ""
                for name in names:
                    text = text.replace(name, "")
                if CJK.search(text):
                    left.append(f"{ws.title}!{cell.coordinate}: {cell.value}")
    assert not left, "Chinese in the English workbook:\n" + "\n".join(left[:80])
