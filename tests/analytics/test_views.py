"""Dashboard, CSV and report pages: permissions, scoping, filters, downloads."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from unittest import mock

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from analytics import services
from analytics.models import Report
from tests import factories

pytestmark = pytest.mark.django_db
PERIOD = {"start": "2026-09-14", "end": "2026-11-29"}


@pytest.fixture
def manager(db):
    return factories.staff_user("manager", None)


def _csv(response) -> list[list[str]]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    text = content.decode("utf-8")
    assert text.startswith("\ufeff"), "Excel needs the byte-order mark to read UTF-8"
    return list(csv.reader(io.StringIO(text[1:])))


def test_anonymous_is_sent_to_login(client):
    response = client.get("/analytics/")
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize("role", ["officer", "dispatcher", "supervisor"])
def test_staff_without_analytics_permission_are_denied(client, hrss, role):
    client.force_login(factories.staff_user(role, hrss))
    for url in ("/analytics/", "/analytics/csv/ranking/", "/analytics/reports/"):
        assert client.get(url).status_code == 403, url


def test_manager_sees_every_section(client, manager, populated):
    client.force_login(manager)
    response = client.get("/analytics/", PERIOD)
    assert response.status_code == 200
    html = response.content.decode()
    for heading in ("关键指标", "上升类别预警", "类别排行", "近8期趋势", "地区×类别热力图", "承办单位考核", "热点词"):
        assert heading in html, heading
    assert 'id="chart-ranking"' in html and "vendor/echarts.min.js" in html
    context = response.context
    names = [row[0] for row in context["scorecard_table"].rows]
    assert len(names) == len(populated.bureaus)
    # Every bureau is in the league table, and every table has a CSV link carrying the filters.
    assert len(context["league_bureaus"].rows) == len(populated.bureaus)
    assert "/analytics/csv/scorecard/?start=2026-09-14" in html


def test_lead_sees_own_bureau_in_full_and_others_only_in_league(client, populated):
    own = populated.bureaus[0]
    lead = factories.staff_user("lead", own)
    client.force_login(lead)
    response = client.get("/analytics/", PERIOD)
    assert response.status_code == 200
    context = response.context
    assert [row[0] for row in context["scorecard_table"].rows] == [own.display_name]
    assert {row[1] for row in context["league_bureaus"].rows} == {b.display_name for b in populated.bureaus}
    # Volume is scoped too: the lead's ranking counts only their bureau's appeals.
    from appeals.models import Appeal

    ranking_total = sum(row[2] for row in context["ranking_table"].rows)
    assert (
        ranking_total
        == Appeal.objects.filter(bureau=own, submitted_at__date__gte="2026-09-14", submitted_at__date__lte="2026-11-29")
        .exclude(state__in=["merged", "rejected"])
        .count()
    )
    assert ranking_total > 0
    assert context["hot_topics_table"] is None
    assert client.get("/analytics/csv/hot-topics/", PERIOD).status_code == 403
    rows = _csv(client.get("/analytics/csv/league-bureaus/", PERIOD))
    assert len(rows) == 1 + len(populated.bureaus)
    rows = _csv(client.get("/analytics/csv/scorecard/", PERIOD))
    assert [r[0] for r in rows[1:]] == [own.display_name]


def test_csv_of_every_table(client, manager, populated):
    client.force_login(manager)
    for name in (
        "kpis",
        "ranking",
        "types",
        "trend",
        "heatmap",
        "rising",
        "scorecard",
        "hot-topics",
        "league-bureaus",
        "league-regions",
    ):
        response = client.get(f"/analytics/csv/{name}/", PERIOD)
        assert response.status_code == 200, name
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        rows = _csv(response)
        assert rows[0], name
    ranking = _csv(client.get("/analytics/csv/ranking/", PERIOD))
    html_total = sum(int(r[2]) for r in ranking[1:])
    kpis = _csv(client.get("/analytics/csv/kpis/", PERIOD))
    assert int(kpis[1][1]) == html_total  # appeals received = sum of the ranking
    assert client.get("/analytics/csv/nope/", PERIOD).status_code == 404
    # Filters narrow the numbers (and travel in the URL).
    everything = client.get("/analytics/", PERIOD).context["ranking_table"].rows
    web_only = client.get("/analytics/", {**PERIOD, "channel": "web"}).context["ranking_table"].rows
    assert 0 < sum(r[2] for r in web_only) < sum(r[2] for r in everything)


def test_bad_filters_explain_the_fix(client, manager):
    client.force_login(manager)
    response = client.get("/analytics/", {"start": "2026-11-10", "end": "2026-11-01"})
    assert response.status_code == 400
    assert "结束日期早于开始日期" in response.content.decode()
    response = client.get("/analytics/", {"start": "2024-01-01", "end": "2026-01-01"})
    assert response.status_code == 400 and "一年" in response.content.decode()


def test_on_demand_report_flow(client, manager, populated, django_capture_on_commit_callbacks):
    client.force_login(manager)
    with (
        mock.patch("analytics.tasks.build_report.delay") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post("/analytics/reports/", {**PERIOD, "channel": "api", "language": "en"})
    report = Report.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("analytics:report-detail", args=[report.pk])
    delay.assert_called_once_with(report.pk)
    assert report.filters == {"channel": "api"} and report.status == Report.Status.PENDING
    progress = client.get(f"/analytics/reports/{report.pk}/progress.json").json()
    assert progress["status"] == "pending" and progress["download_url"] == ""
    # Not ready: no download link on the page, and the download URL leads to the progress page.
    detail_url = reverse("analytics:report-detail", args=[report.pk])
    early = client.get(f"/analytics/reports/{report.pk}/download/")
    assert early.status_code == 302 and early["Location"] == detail_url

    services.report_generate(report_id=report.pk)
    progress = client.get(f"/analytics/reports/{report.pk}/progress.json").json()
    assert progress["status"] == "done" and progress["progress"] == 100
    page = client.get(f"/analytics/reports/{report.pk}/")
    assert page.status_code == 200 and "<progress" in page.content.decode()
    download = client.get(progress["download_url"])
    assert download.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    assert workbook.sheetnames[0] == "Summary"
    # On-demand reports are not announced to every manager.
    from notifications.models import OutboxEvent

    assert not OutboxEvent.objects.filter(event_type="report.ready").exists()
    assert "下载 Excel" in client.get("/analytics/reports/").content.decode()


def test_report_request_validation(client, manager):
    client.force_login(manager)
    response = client.post("/analytics/reports/", {"start": "", "end": "2026-11-01", "language": "zh-hans"})
    assert response.status_code == 400
    assert "请选择日期" in response.content.decode()
    assert not Report.objects.exists()


def test_lead_reports_are_scoped_and_private(client, populated, manager):
    own, other = populated.bureaus[0], populated.bureaus[1]
    lead = factories.staff_user("lead", own)
    client.force_login(lead)
    with mock.patch("analytics.tasks.build_report.delay"):
        client.post("/analytics/reports/", {**PERIOD, "language": "zh-hans"})
    mine = Report.objects.get()
    assert mine.filters == {"bureau_id": own.pk}
    others = services.report_request(
        user=manager,
        filters=services.report_filters(mine).__class__(start=mine.period_start, end=mine.period_end),
        language="zh-hans",
    )
    assert client.get(f"/analytics/reports/{others.pk}/").status_code == 404
    assert client.get(f"/analytics/reports/{mine.pk}/").status_code == 200
    client.force_login(factories.staff_user("lead", other))
    assert client.get(f"/analytics/reports/{mine.pk}/download/").status_code == 404


BAD_FILTERS = [
    ({"start": "9999-12-31"}, "2099-12-31"),
    ({"end": "0001-01-01"}, "2000-01-01"),
    ({"start": "0001-01-01", "end": "0001-01-05"}, "2000-01-01"),
    ({"start": "2026-13-01"}, "年-月-日"),
    ({"start": "2026-11-31"}, "年-月-日"),
    ({"start": "yesterday"}, "年-月-日"),
    ({"end": "2026-11-02T00:00"}, "年-月-日"),
    ({"start": "2026-11-02", "end": "2026-10-01"}, "对调"),
    ({"start": "2020-01-01", "end": "2026-01-01"}, "一年"),
    ({"region": "99999999999999999999999999"}, "地区"),
    ({"region": "abc"}, "地区"),
    ({"region": "-1"}, "地区"),
    ({"industry": "ZZ"}, "行业"),
    ({"size": "giant"}, "规模"),
    ({"channel": "<script>"}, "渠道"),
]


@pytest.mark.parametrize(("params", "fragment"), BAD_FILTERS)
def test_bad_filters_get_400_with_a_message_on_every_view(client, manager, params, fragment):
    client.force_login(manager)
    dashboard = client.get("/analytics/", params)
    assert dashboard.status_code == 400
    assert fragment in dashboard.content.decode() and 'class="error-summary"' in dashboard.content.decode()
    for name in ("ranking", "kpis", "league-bureaus"):
        response = client.get(f"/analytics/csv/{name}/", params)
        assert response.status_code == 400 and fragment in response.content.decode(), name
    data = {"start": "2026-11-02", "end": "2026-11-08", "language": "zh-hans", **params}
    response = client.post("/analytics/reports/", data)
    assert response.status_code == 400 and fragment in response.content.decode()
    assert not Report.objects.exists()


def test_bad_filters_are_explained_in_english(client, manager):
    client.force_login(manager)
    response = client.get("/analytics/", {"start": "9999-12-31"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "must be between 2000-01-01 and 2099-12-31" in response.content.decode()


def test_report_ids_out_of_range_are_not_found(client, manager):
    client.force_login(manager)
    for url in ("/analytics/reports/{}/", "/analytics/reports/{}/progress.json", "/analytics/reports/{}/download/"):
        assert client.get(url.format(10**30)).status_code == 404


def test_report_page_offers_the_download_only_when_the_file_is_ready(client, manager, populated):
    client.force_login(manager)
    filters = services.report_filters(Report(period_start=date(2026, 11, 2), period_end=date(2026, 11, 8)))
    with mock.patch("analytics.tasks.build_report.delay"):
        first = services.report_request(user=manager, filters=filters, language="zh-hans")
        second = services.report_request(user=manager, filters=filters, language="zh-hans")
    download_url = reverse("analytics:report-download", args=[second.pk])

    page = client.get(f"/analytics/reports/{second.pk}/").content.decode()
    status = page.split('id="report-result"')[1].split("</div>")[0]
    assert download_url not in status and "report-download" not in status
    assert "前面还有 1 份报表" in page
    assert '<noscript><meta http-equiv="refresh" content="10"></noscript>' in page
    assert "本页每 10 秒自动刷新一次" in page
    progress = client.get(f"/analytics/reports/{second.pk}/progress.json").json()
    assert progress["download_url"] == "" and "前面还有 1 份报表" in progress["status_text"]

    Report.objects.filter(pk=second.pk).update(status=Report.Status.RUNNING, progress=61, progress_note="raw")
    progress = client.get(f"/analytics/reports/{second.pk}/progress.json").json()
    assert progress["status_text"] == "生成中 · 61% · 正在写“诉求明细”"
    assert progress["download_url"] == ""
    redirected = client.get(download_url, follow=True)
    assert redirected.redirect_chain == [(reverse("analytics:report-detail", args=[second.pk]), 302)]
    assert "报表还没有生成完成" in redirected.content.decode()

    services.report_generate(report_id=second.pk)
    page = client.get(f"/analytics/reports/{second.pk}/").content.decode()
    status = page.split('id="report-result"')[1].split("</div>")[0]
    assert f'href="{download_url}"' in status and "http-equiv" not in page
    assert client.get(f"/analytics/reports/{second.pk}/progress.json").json()["download_url"] == download_url
    assert client.get(download_url).status_code == 200
    # The archive lists the finished report's download and none for the queued one.
    archive = client.get("/analytics/reports/").content.decode()
    assert download_url in archive
    assert reverse("analytics:report-download", args=[first.pk]) not in archive


def test_dashboard_runs_each_query_once(client, manager, populated):
    """The ranking, trend and heat map feed both a chart and a table: computed once per page."""
    from collections import Counter

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from analytics import dashboard

    client.force_login(manager)
    client.get("/analytics/", PERIOD)  # warm: session, permissions
    dashboard.data_changed()  # the sections are computed again, not read from the cache
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/analytics/", PERIOD).status_code == 200
    repeated = {sql: n for sql, n in Counter(q["sql"] for q in queries.captured_queries).items() if n > 1}
    for sql, n in repeated.items():
        print(n, sql[:300])
    assert not repeated
    assert len(queries) <= 40, len(queries)


def test_dashboard_is_cached_until_the_rollups_change_and_says_how_fresh(client, manager, populated):
    """A cached page is served until a rollup run changes the tables; then the new appeal shows."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import time_machine
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from analytics import rollups, selectors
    from analytics.selectors import Filters
    from tests.analytics.conftest import simulate

    shanghai = ZoneInfo("Asia/Shanghai")
    client.force_login(manager)
    first = client.get("/analytics/", PERIOD).content.decode()
    # The rollups ran at 09:00 Shanghai time (the fixture), and the page says so.
    assert "数据更新于 09:00:00" in first
    with CaptureQueriesContext(connection) as queries:
        again = client.get("/analytics/", PERIOD).content.decode()
    tokens = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert tokens.sub("", again) == tokens.sub("", first)
    assert not [q for q in queries.captured_queries if "analytics_daily" in q["sql"]], "served from the cache"

    period = Filters(start=date(2026, 9, 14), end=date(2026, 11, 29))
    before = selectors.kpis(period).appeals
    simulate(populated, seed=99, count=1, start=datetime(2026, 11, 20, 10, 0, tzinfo=shanghai), days=1)
    with time_machine.travel(datetime(2026, 11, 30, 9, 1, tzinfo=shanghai), tick=False):
        rollups.update_rollups()
    assert selectors.kpis(period).appeals == before + 1
    after = client.get("/analytics/", PERIOD).content.decode()
    assert f'<span class="kpi__value">{before + 1}</span>' in after
    assert f'<span class="kpi__value">{before}</span>' in first
    assert "数据更新于 09:01:00" in after


def test_rollup_task_warms_the_default_view(client, manager, populated):
    """After a run that changed the tables the task renders the default view: the first visitor reads the cache."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import time_machine
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from analytics import tasks
    from tests.analytics.conftest import simulate

    shanghai = ZoneInfo("Asia/Shanghai")
    simulate(populated, seed=98, count=1, start=datetime(2026, 11, 25, 10, 0, tzinfo=shanghai), days=1)
    client.force_login(manager)
    with time_machine.travel(datetime(2026, 11, 30, 9, 1, tzinfo=shanghai), tick=False):
        assert tasks.update_rollups() > 0
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/analytics/")
    html = response.content.decode()
    assert response.status_code == 200 and "关键指标" in html and "数据更新于 09:01:00" in html
    assert not [q for q in queries.captured_queries if "analytics_daily" in q["sql"]], "served from the cache"
