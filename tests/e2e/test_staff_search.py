"""诉求查询 in a real Chromium for an officer and a dispatcher: scope, the table, masking, axe.

Screenshots go to var/screenshots/staff-search-*.png. Run with a live server port in this
checkout's range, e.g. ``--liveserver 127.0.0.1:18410``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from appeals import services
from appeals.models import RatingLevel
from tests import factories
from tests.e2e.conftest import axe_violations, format_violations

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(900)]

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


@pytest.fixture(autouse=True)
def _taxonomy(transactional_db):
    from routing.taxonomy import load_taxonomy

    load_taxonomy(with_regions=False)


def _login(page, live_server, user) -> None:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def seeded(city, hrss, finance, dispatch_centre):
    officer = factories.staff_user("officer", hrss, display_name="王承办")
    finance_officer = factories.staff_user("officer", finance, display_name="金融局李四")
    dispatcher = factories.staff_user("dispatcher", dispatch_centre, display_name="陈分拨")
    replied = factories.submit(
        region=city,
        title="厂房消防验收咨询",
        enterprise_name="佛山市鸿运五金制品有限公司",
        contact_phone="+8613912345678",
    )
    services.appeal_sign_for(appeal_id=replied.appeal.pk, user=officer)
    services.appeal_submit_reply(appeal_id=replied.appeal.pk, user=officer, reply="已联系消防部门。")
    closed = factories.submit(region=city, title="用工补贴发放进度")
    services.appeal_sign_for(appeal_id=closed.appeal.pk, user=officer)
    services.appeal_submit_reply(appeal_id=closed.appeal.pk, user=officer, reply="补贴已发放。")
    services.appeal_rate(
        appeal_id=closed.appeal.pk, access_code=closed.access_code, level=RatingLevel.SATISFIED, resolved=True
    )
    factories.submit(region=city, title="招工困难，希望对接技工院校")
    theirs = factories.submit(region=city, category=factories.category("financing"), title="贷款贴息申请")
    return {
        "officer": officer,
        "dispatcher": dispatcher,
        "finance_officer": finance_officer,
        "replied": replied.appeal,
        "closed": closed.appeal,
        "theirs": theirs.appeal,
    }


def test_officer_and_dispatcher_search(page, live_server, seeded):
    _login(page, live_server, seeded["officer"])
    page.goto(live_server.url + "/staff/")
    page.get_by_role("link", name="诉求查询").click()
    page.wait_for_url("**/staff/appeals/")
    table = page.locator("table.search-results")
    assert "本单位" in page.locator("main").inner_text()
    assert seeded["theirs"].tracking_number not in table.inner_text()  # another bureau's appeal
    assert "139 **** 5678" in table.inner_text() and "13912345678" not in page.content()
    violations = axe_violations(page)
    assert violations == [], format_violations(violations)
    _shot(page, "staff-search-officer")
    page.get_by_role("link", name="我已答复的").click()
    rows = table.locator("tbody tr")
    assert rows.count() == 2
    _shot(page, "staff-search-officer-replied")
    # Keyboard: type in the search box and press Enter.
    page.get_by_role("link", name="全部").click()
    page.get_by_label("关键词").fill("鸿运五金")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=*")
    assert rows.count() == 1 and seeded["replied"].tracking_number in rows.first.inner_text()

    page.context.clear_cookies()
    _login(page, live_server, seeded["dispatcher"])
    page.goto(live_server.url + "/staff/appeals/")
    assert seeded["theirs"].tracking_number in table.inner_text()
    assert "所有承办单位" in page.locator("main").inner_text()
    page.get_by_label("状态").select_option("closed")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url("**state=closed*")
    assert rows.count() == 1 and seeded["closed"].tracking_number in rows.first.inner_text()
    page.goto(live_server.url + "/staff/appeals/")
    violations = axe_violations(page)
    assert violations == [], format_violations(violations)
    _shot(page, "staff-search-dispatcher")
