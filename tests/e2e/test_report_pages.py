"""The report page and the error pages in a real browser: the download appears only when the file
exists (with and without JavaScript), and a refused officer lands on a page that says what to do."""

from __future__ import annotations

from datetime import date
from unittest import mock

import pytest
from django.test import Client

from analytics import services, views
from analytics.models import Report
from analytics.selectors import Filters
from tests import factories
from tests.e2e.conftest import axe_violations, format_violations, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def _login(context, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies["sessionid"]
    context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])


def _queued_report(manager) -> Report:
    with mock.patch("analytics.tasks.build_report.delay"):
        return services.report_request(
            user=manager, filters=Filters(start=date(2026, 11, 2), end=date(2026, 11, 8)), language="zh-hans"
        )


def test_download_appears_only_when_the_report_is_ready(page, live_server, city):
    manager = factories.staff_user("manager", None, display_name="王经理")
    _login(page.context, live_server, manager)
    report = _queued_report(manager)
    page.goto(f"{live_server.url}/analytics/reports/{report.pk}/")
    assert "排队中" in page.locator("#report-status-text").inner_text()
    assert page.locator("#report-download").count() == 0
    assert page.get_by_text("下载 Excel", exact=True).count() == 0
    screenshot(page, "report-queued")
    violations = axe_violations(page)
    assert not violations, format_violations(violations)

    services.report_generate(report_id=report.pk)
    link = page.locator("#report-download")
    link.wait_for(state="visible", timeout=10_000)
    assert link.evaluate("el => el === document.activeElement"), "the new link takes the focus"
    assert "已完成" in page.locator("#report-status-text").inner_text()
    screenshot(page, "report-ready")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == report.filename


def test_without_javascript_the_page_refreshes_until_the_file_is_ready(browser, live_server, city, monkeypatch):
    monkeypatch.setattr(views, "REFRESH_SECONDS", 1)
    context = browser.new_context(java_script_enabled=False, locale="zh-CN")
    try:
        manager = factories.staff_user("manager", None)
        _login(context, live_server, manager)
        report = _queued_report(manager)
        page = context.new_page()
        page.goto(f"{live_server.url}/analytics/reports/{report.pk}/")
        assert page.locator("#report-download").count() == 0
        assert page.get_by_role("link", name="立即刷新").count() == 1
        services.report_generate(report_id=report.pk)
        page.locator("#report-download").wait_for(state="visible", timeout=10_000)
    finally:
        context.close()


def test_an_officer_opening_analytics_sees_a_page_that_says_what_to_do(page, live_server, hrss):
    _login(page.context, live_server, factories.staff_user("officer", hrss))
    response = page.goto(f"{live_server.url}/analytics/")
    assert response is not None and response.status == 403
    assert page.locator("h1").inner_text() == "您没有权限打开这个页面"
    assert page.get_by_role("link", name="回到工作台").count() == 1
    icon = page.locator('link[rel="icon"]').get_attribute("href")
    assert icon and page.request.get(f"{live_server.url}{icon}").ok
    screenshot(page, "error-403")
    violations = axe_violations(page)
    assert not violations, format_violations(violations)
    page.context.clear_cookies()
    response = page.goto(f"{live_server.url}/no-such-page/")
    assert response is not None and response.status == 404
    assert page.get_by_role("link", name="回到首页提交诉求").count() == 1
    screenshot(page, "error-404")
    violations = axe_violations(page)
    assert not violations, format_violations(violations)
