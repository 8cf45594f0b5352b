"""Error pages (400, 403, 404, 500, CSRF) in both languages: the site's own layout, what happened,
what to do next; and the favicon every page links to."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.test import Client, override_settings
from django.urls import include, path

from tests import factories

pytestmark = pytest.mark.django_db


def _boom(request):
    raise RuntimeError("simulated fault")


def _suspicious(request):
    raise SuspiciousOperation("bad header")


def _bare_denied(request):
    raise PermissionDenied


urlpatterns = [
    path("test-errors/500/", _boom),
    path("test-errors/400/", _suspicious),
    path("test-errors/403/", _bare_denied),
    path("", include("config.urls")),
]


def _page(response) -> str:
    html = response.content.decode()
    assert 'class="site-header"' in html, "the site's own layout, not a bare page"
    assert 'rel="icon"' in html and "favicon" in html
    return html


def test_officer_opening_analytics_is_told_why_and_where_to_go(client, hrss):
    client.force_login(factories.staff_user("officer", hrss))
    response = client.get("/analytics/")
    assert response.status_code == 403
    html = _page(response)
    assert "您没有权限打开这个页面" in html
    assert "统计分析只对管理者和承办单位负责人开放" in html  # the view's own explanation
    assert "请告诉他页面地址：/analytics/" in html
    assert 'href="/staff/"' in html and "回到工作台" in html
    english = client.get("/analytics/", HTTP_ACCEPT_LANGUAGE="en")
    html = _page(english)
    assert english.status_code == 403
    assert "You do not have permission to open this page" in html and "Back to your workbench" in html
    assert "您没有权限" not in html


@pytest.mark.urls(__name__)
def test_forbidden_without_a_message_for_the_public(client):
    response = client.get("/test-errors/403/")
    html = _page(response)
    assert response.status_code == 403
    assert "这个页面只对工作人员开放" in html and 'href="/staff/login/"' in html


def test_forbidden_without_a_message_for_staff_says_whom_to_ask(client, hrss):
    client.force_login(factories.staff_user("officer", hrss))
    with override_settings(ROOT_URLCONF=__name__):
        html = _page(client.get("/test-errors/403/"))
    assert "请联系本单位的系统管理员开通权限" in html and "请告诉他页面地址：/test-errors/403/" in html


@pytest.mark.parametrize(
    ("language", "heading", "track"),
    [("zh-hans", "找不到这个页面", "查询办理进度"), ("en", "Page not found", "progress")],
)
def test_not_found_offers_the_home_page_and_tracking(client, language, heading, track):
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 404
    html = _page(response)
    assert heading in html and track in html
    assert 'href="/"' in html and 'href="/track/"' in html


def test_not_found_for_staff_links_the_workbench(client, hrss):
    client.force_login(factories.staff_user("officer", hrss))
    html = _page(client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert "找不到这个页面" in html and 'href="/staff/"' in html


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_server_error_and_bad_request_pages(language):
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE=language)
    failed = client.get("/test-errors/500/")
    assert failed.status_code == 500
    html = _page(failed)
    expected = "服务器出错了" if language == "zh-hans" else "Something went wrong on the server"
    assert expected in html and "12345" in html and "simulated fault" not in html
    bad = client.get("/test-errors/400/")
    assert bad.status_code == 400
    html = _page(bad)
    assert ("这个请求无法处理" if language == "zh-hans" else "This request cannot be handled") in html
    assert "bad header" not in html


def test_expired_form_explains_how_to_retry():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/staff/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    html = _page(response)
    assert "页面已过期，请刷新后重新提交" in html


def test_favicon_is_served_and_linked(client):
    assert finders.find("favicon.svg")
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"].endswith(".svg")
    assert 'rel="icon"' in client.get("/").content.decode()
