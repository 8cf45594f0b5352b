"""The appeal type as an analytics dimension: rollups, the filter, the breakdown, the report sheet."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine
from openpyxl import load_workbook

from analytics import report as workbook
from analytics import rollups, selectors
from analytics.models import AppealFact, DailyVolume
from analytics.selectors import Filters
from appeals import services
from tests import factories
from tests.analytics.conftest import SHANGHAI

pytestmark = pytest.mark.django_db
WEEK = Filters(start=date(2026, 11, 2), end=date(2026, 11, 8))
PREVIOUS_WEEK = datetime(2026, 10, 27, 10, 0, tzinfo=SHANGHAI)
THIS_WEEK = datetime(2026, 11, 3, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def typed(hrss, dispatcher):
    """This week: 3 complaints, 2 enquiries, 1 report (filed as an enquiry, corrected); last week: 1 complaint."""
    with time_machine.travel(PREVIOUS_WEEK, tick=False):
        factories.submit(region=hrss.region, appeal_type="complaint")
    with time_machine.travel(THIS_WEEK, tick=False):
        for code in ("complaint", "complaint", "complaint", "enquiry", "enquiry"):
            factories.submit(region=hrss.region, appeal_type=code)
        report = factories.submit(region=hrss.region, appeal_type="enquiry").appeal
        # Corrected by a dispatcher: the rollup follows the correction.
        services.appeal_correct_type(appeal_id=report.pk, user=dispatcher, appeal_type="report", reason="实为举报")
    with time_machine.travel(datetime(2026, 11, 9, 9, 0, tzinfo=SHANGHAI), tick=False):
        rollups.update_rollups()
    return report


def test_facts_and_daily_volume_carry_the_type(typed):
    assert AppealFact.objects.get(appeal_id=typed.pk).appeal_type == "report"
    assert set(DailyVolume.objects.values_list("appeal_type", flat=True)) == {"complaint", "enquiry", "report"}


def test_breakdown_by_type_with_the_previous_period(typed):
    rows = {row.code: row for row in selectors.type_breakdown(WEEK)}
    assert list(rows) == ["enquiry", "help", "suggestion", "complaint", "report"]
    assert (rows["complaint"].count, rows["complaint"].previous) == (3, 1)
    assert (rows["enquiry"].count, rows["report"].count, rows["help"].count) == (2, 1, 0)
    assert rows["complaint"].share == pytest.approx(0.5)
    assert rows["complaint"].label == "投诉"


def test_the_type_filter_narrows_the_volume_figures(typed):
    complaints = Filters(start=WEEK.start, end=WEEK.end, appeal_type="complaint")
    assert [(r.code, r.count) for r in selectors.type_breakdown(complaints)] == [("complaint", 3)]
    assert sum(r.count for r in selectors.category_ranking(complaints)) == 3
    assert selectors.report_appeals(complaints).count() == 4  # any date: this week's three and last week's


def test_dashboard_has_the_filter_and_the_breakdown_and_the_csv(client, typed):
    manager = factories.staff_user("manager", None)
    client.force_login(manager)
    period = {"start": "2026-11-02", "end": "2026-11-08"}
    page = client.get("/analytics/", period)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="appeal_type"' in html and 'id="table-types"' in html
    rows = page.context["types_table"].rows
    assert rows[3][:2] == ["投诉", 3]
    filtered = client.get("/analytics/", {**period, "appeal_type": "enquiry"})
    assert [row[:2] for row in filtered.context["types_table"].rows] == [["咨询", 2]]
    assert client.get("/analytics/", {**period, "appeal_type": "grievance"}).status_code == 400
    csv = client.get("/analytics/csv/types/", period).content.decode("utf-8-sig")
    assert csv.splitlines()[0].startswith("诉求类型,件数")


@pytest.mark.parametrize(
    ("language", "sheet", "headers", "complaint"),
    [
        ("zh-hans", "按诉求类型", ["诉求类型", "件数", "占比", "上期件数", "变化"], "投诉"),
        ("en", "By appeal type", ["Appeal type", "Appeals", "Share", "Previous period", "Change"], "Complaint"),
    ],
)
def test_report_sheet_by_type_in_both_languages(typed, tmp_path, language, sheet, headers, complaint):
    path = tmp_path / f"{language}.xlsx"
    workbook.build_workbook(filters=WEEK, language=language, out=str(path))
    rows = list(load_workbook(path)[sheet].iter_rows(values_only=True))
    assert list(rows[0]) == headers
    by_label = {row[0]: row for row in rows[1:]}
    assert by_label[complaint][1:4] == (3, 0.5, 1) and by_label[complaint][4] == 2


def test_report_filter_text_names_the_type():
    text = workbook.describe_filters(
        Filters(start=WEEK.start, end=WEEK.end, appeal_type="complaint"), workbook.Texts("zh-hans")
    )
    assert text == "诉求类型: 投诉"
