"""Enterprise self-service in a real Chromium: ask for an SMS code, read it from the SMS backend,
see the phone's appeals, open one, get a new access code, sign out; and a signed link from an SMS
(revoked and expired links: tests/appeals/portal/test_selfservice.py).

Screenshots go to var/screenshots/selfservice-*.png; axe-core checks WCAG 2.1 AA on every page.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from notifications import delivery, links
from notifications.backends.sms import LocmemSMSBackend
from notifications.models import OutboxEvent
from tests import factories
from tests.e2e.conftest import axe_violations, format_violations

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

PHONE = "+8613800138000"
SCREENSHOTS = Path(django_settings.VAR_DIR) / "screenshots"


@pytest.fixture(autouse=True)
def _taxonomy(transactional_db):
    from routing.taxonomy import load_taxonomy

    load_taxonomy(with_regions=False)


@pytest.fixture(autouse=True)
def _sms_in_memory(settings):
    settings.SMS_BACKEND = "notifications.backends.sms.LocmemSMSBackend"
    settings.NOTIFY_KICK_DELIVERY = False
    settings.RATELIMIT_CACHE_PREFIX = "rl-e2e-selfservice:"
    LocmemSMSBackend.outbox = []
    yield
    LocmemSMSBackend.outbox = []


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"selfservice-{name}.png"), full_page=True)


def accessible(page, what: str) -> None:
    violations = axe_violations(page)
    assert violations == [], f"{what}: {format_violations(violations)}"


def deliver_sms() -> list[dict]:
    """What the worker would do: deliver every outbox row not yet processed, through the SMS backend."""
    for event_id in OutboxEvent.objects.filter(processed_at__isnull=True).values_list("id", flat=True):
        for delivery_id in delivery.expand_event(event_id):
            delivery.attempt_delivery(delivery_id)
    return list(LocmemSMSBackend.outbox)


def test_request_code_list_open_recover_sign_out(page, live_server, hrss, dispatch_centre):
    city = hrss.region
    mine = factories.submit(region=city, title="电费补贴申请没有回音", contact_phone=PHONE, contact_name="王小明")
    factories.submit(region=city, title="出口退税进度查询", contact_phone=PHONE, enterprise_name="佛山市另一家贸易公司")
    factories.submit(region=city, title="别人的诉求", contact_phone="+8613900139000")
    deliver_sms()
    LocmemSMSBackend.outbox = []
    base = live_server.url

    page.goto(f"{base}/track/")
    page.get_by_role("link", name="用手机短信验证码查看").click()
    page.wait_for_url(re.compile(r"/my/$"))
    shot(page, "01-start")
    accessible(page, "start")

    # Bad input first: a landline cannot receive the code; the error summary takes the focus.
    page.fill("#id_contact_phone", "020-12345678")
    page.get_by_role("button", name="获取短信验证码").click()
    page.wait_for_selector(".error-summary")
    assert page.evaluate("() => document.activeElement.hasAttribute('data-error-summary')")
    assert "验证码只能发送到手机" in page.inner_text(".error-summary")
    page.get_by_role("link", name=re.compile("联系电话")).click()
    assert page.evaluate("() => document.activeElement.id") == "id_contact_phone"
    shot(page, "02-start-error")
    accessible(page, "start with an error")

    page.fill("#id_contact_phone", "138 0013 8000")
    page.get_by_role("button", name="获取短信验证码").click()
    # (The browser keeps the error summary link's #fragment across the redirect.)
    page.wait_for_url(re.compile(r"/my/verify/(#.*)?$"))
    assert "138 **** 8000" in page.inner_text("main")
    [sms] = deliver_sms()
    assert sms["to"] == PHONE
    code = re.search(r"验证码 (\d{6})", sms["text"]).group(1)
    shot(page, "03-verify")
    accessible(page, "verify")

    page.fill("#id_code", "000000" if code != "000000" else "111111")
    page.get_by_role("button", name="验证并查看诉求").click()
    page.wait_for_selector(".error-summary")
    assert "还可以再试4次" in page.inner_text(".error-summary")
    shot(page, "04-verify-wrong")
    accessible(page, "verify with a wrong code")

    page.fill("#id_code", code)
    page.get_by_role("button", name="验证并查看诉求").click()
    page.wait_for_url(re.compile(r"/my/appeals/(#.*)?$"))
    main = page.inner_text("main")
    assert "电费补贴申请没有回音" in main and "出口退税进度查询" in main and "别人的诉求" not in main
    assert "王小明" not in main
    shot(page, "05-list")
    accessible(page, "list")

    page.get_by_role("link", name=mine.appeal.tracking_number).click()
    page.wait_for_url(re.compile(rf"/track/{mine.appeal.tracking_number}/$"))
    assert "电费补贴申请没有回音" in page.inner_text("main")
    shot(page, "06-status")

    # A new access code for this appeal, sent by SMS, never shown.
    page.goto(f"{base}/my/appeals/")
    page.get_by_role("button", name=f"为诉求 {mine.appeal.tracking_number} 重新获取查询码").click()
    page.wait_for_selector(".flash--success")
    assert "新查询码已通过短信发送到" in page.inner_text(".flash--success")
    [new_code_sms] = [s for s in deliver_sms() if "新查询码" in s["text"]]
    new_code = re.search(r"新查询码为 ([A-Z0-9]{8})", new_code_sms["text"]).group(1)
    assert new_code not in page.content()
    shot(page, "07-new-code")
    accessible(page, "list after a new code")

    page.get_by_role("button", name="退出").click()
    page.wait_for_url(re.compile(r"/my/$"))
    page.goto(f"{base}/my/appeals/")
    page.wait_for_url(re.compile(r"/my/$"))

    # The new code works in the ordinary lookup.
    page.goto(f"{base}/track/")
    page.fill("#id_tracking_number", mine.appeal.tracking_number)
    page.fill("#id_access_code", new_code)
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(re.compile(rf"/track/{mine.appeal.tracking_number}/$"))
    assert "查询码已重新发放" in page.inner_text(".timeline")
    shot(page, "08-status-after-new-code")


def test_signed_link_from_an_sms_and_a_tampered_one(page, live_server, hrss, dispatch_centre):
    filed = factories.submit(region=hrss.region, title="招不到熟练焊工", contact_phone=PHONE)
    deliver_sms()
    texts = [s["text"] for s in LocmemSMSBackend.outbox if s["to"] == PHONE and "/t/" in s["text"]]
    assert texts, LocmemSMSBackend.outbox
    path = re.search(r"https?://[^/\s]+(/t/[^\s]+/)", texts[0]).group(1)
    page.goto(live_server.url + path)
    page.wait_for_url(re.compile(rf"/track/{filed.appeal.tracking_number}/$"))
    assert "招不到熟练焊工" in page.inner_text("main")
    shot(page, "09-link-opens-status")

    token = path.split("/")[2]
    page.goto(live_server.url + f"/t/{token[:-3]}xyz/")
    assert "链接不完整或已被改动" in page.inner_text("main")
    shot(page, "10-link-tampered")
    accessible(page, "tampered link")
    assert links.read_token(token).appeal_id == filed.appeal.pk
