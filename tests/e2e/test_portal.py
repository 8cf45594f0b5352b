"""The appellant's side in a real Chromium: file, fix errors, confirm, look up, withdraw, rate.

Screenshots of every page go to tests/artifacts/portal-*.png; axe-core checks WCAG 2.1 AA on the
form (empty and with errors), the confirmation, the lookup and the status pages.
"""

from __future__ import annotations

import re

import pytest

from appeals import services
from appeals.models import Appeal, AppealState
from tests import factories
from tests.appeals.portal.conftest import PDF_BYTES
from tests.e2e.conftest import axe_violations, format_violations, screenshot

# Transactional (the live server runs in another thread); the taxonomy rows loaded by migrations
# are restored afterwards so later tests still find them.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def _taxonomy(transactional_db):
    """Bureau types and categories, reloaded if an earlier transactional test flushed them (idempotent)."""
    from routing.taxonomy import load_taxonomy

    load_taxonomy(with_regions=False)


@pytest.fixture
def foshan(_taxonomy, hrss, dispatch_centre):
    hrss.contact_phone = "0757-12345"
    hrss.contact_address = "佛山市禅城区人民路1号"
    hrss.save()
    return hrss.region


def _no_violations(page, what: str) -> None:
    violations = axe_violations(page)
    assert violations == [], f"{what}: {format_violations(violations)}"


def _fits(page, width: int) -> None:
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    wide = page.evaluate(
        """(width) => Array.from(document.querySelectorAll('body *'))
            .filter((e) => e.getBoundingClientRect().right > width + 0.5)
            .slice(0, 5).map((e) => e.tagName + '.' + e.className + '#' + e.id)""",
        width,
    )
    assert overflow <= width + 1, f"page is {overflow}px wide at a {width}px viewport: {wide}"


def _lookup(page, base: str, number: str, code: str) -> None:
    page.goto(f"{base}/track/")
    page.fill("#id_tracking_number", number)
    page.fill("#id_access_code", code)
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(re.compile(rf"/track/{number}/$"))


def test_file_fix_errors_confirm_and_look_up(page, live_server, foshan, settings):
    base = live_server.url
    page.goto(base + "/")
    screenshot(page, "portal-01-form-empty")
    _no_violations(page, "empty form")

    # First attempt: a wrong credit code, no title, urgent without a reason, one attachment.
    page.fill("#id_enterprise_name", "佛山市禅城区好运五金制品有限公司")
    page.fill("#id_credit_code", "91350203M0001QAY9B")
    page.select_option("#id_region", str(foshan.pk))
    page.select_option("#id_industry", "C")
    page.check("input[name=enterprise_size][value=small]")
    page.fill("#id_contact_name", "王小明")
    page.fill("#id_contact_phone", "13800138000")
    page.fill("#id_contact_email", "wang@example.com")
    page.check(f"input[name=category][value='{factories.category('employment').pk}']")
    page.check("input[name=urgency][value=urgent]")
    page.fill("#id_description", "订单增加，需要10名熟练焊工，多次招聘无果。")
    page.set_input_files(
        "#id_attachments", files=[{"name": "营业执照.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}]
    )
    page.get_by_role("button", name="提交诉求").click()
    page.wait_for_selector(".error-summary")
    assert page.evaluate("() => document.activeElement.hasAttribute('data-error-summary')")
    summary = page.inner_text(".error-summary")
    assert "校验码" in summary and "标题" in summary and "紧急原因" in summary and "诉求类型" in summary
    assert page.input_value("#id_enterprise_name") == "佛山市禅城区好运五金制品有限公司"
    assert "营业执照.pdf" in page.inner_text("#reselect-notice")
    screenshot(page, "portal-02-form-errors")
    _no_violations(page, "form with errors")
    assert Appeal.objects.count() == 0

    # Fix them, choose the file again and submit.
    page.fill("#id_credit_code", "91350200776049653a")
    page.fill("#id_title", "招不到熟练焊工")
    page.fill("#id_urgency_reason", "下周交货，缺人停线")
    # The type is a plain radio group: reachable and chosen with the keyboard alone.
    page.focus("input[name=appeal_type][value=enquiry]")
    page.keyboard.press("ArrowDown")
    assert page.is_checked("input[name=appeal_type][value=help]")
    page.set_input_files(
        "#id_attachments", files=[{"name": "营业执照.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}]
    )
    page.get_by_role("button", name="提交诉求").click()
    page.wait_for_url(re.compile(r"/submitted/"))
    number = page.inner_text("#tracking-number").strip()
    code = page.inner_text("#access-code").strip()
    appeal = Appeal.objects.get()
    assert appeal.tracking_number == number
    assert appeal.attachments.count() == 1 and appeal.is_urgent
    assert appeal.appeal_type == "help" and not appeal.appeal_type_suggested
    assert page.get_by_role("button", name="复制查询码").is_visible()
    screenshot(page, "portal-03-confirmation")
    _no_violations(page, "confirmation")

    # Look it up from a fresh browser context, as the appellant would another day.
    other = page.context.browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    second = other.new_page()
    second.goto(f"{base}/track/")
    screenshot(second, "portal-04-lookup")
    _no_violations(second, "lookup")
    second.fill("#id_tracking_number", number)
    second.fill("#id_access_code", "WRONG234")
    second.get_by_role("button", name="查询").click()
    second.wait_for_selector(".error-summary")
    assert "受理编号或查询码不正确" in second.inner_text(".error-summary")
    screenshot(second, "portal-05-lookup-error")
    _no_violations(second, "lookup with error")
    _lookup(second, base, number, code.lower())
    assert "招不到熟练焊工" in second.inner_text("main")
    assert "您提交了诉求" in second.inner_text(".timeline")
    assert "0757-12345" in second.inner_text("main")
    screenshot(second, "portal-06-status")
    _no_violations(second, "status")
    other.close()


def test_small_screen_and_large_text(page, live_server, foshan):
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto(live_server.url + "/")
    _fits(page, 320)
    page.get_by_role("button", name="大字模式").click()
    assert page.evaluate("() => document.documentElement.classList.contains('large-text')")
    page.reload()
    assert page.evaluate("() => document.documentElement.classList.contains('large-text')")  # persisted
    _fits(page, 320)
    screenshot(page, "portal-07-form-320-large")
    # English, switched from the header.
    page.get_by_role("button", name="English").click()
    page.wait_for_load_state()
    assert page.evaluate("() => document.documentElement.lang") == "en"


def test_withdraw_an_appeal(page, live_server, foshan):
    filed = factories.submit(region=foshan, title="想撤回的诉求")
    _lookup(page, live_server.url, filed.appeal.tracking_number, filed.access_code)
    page.get_by_role("link", name="撤回诉求").click()
    screenshot(page, "portal-08-withdraw-confirm")
    _no_violations(page, "withdraw confirmation")
    page.get_by_role("button", name="确认撤回").click()
    page.wait_for_selector(".field-error")  # the confirmation box must be ticked
    page.check("#id_confirm")
    page.get_by_role("button", name="确认撤回").click()
    page.wait_for_selector(".flash--success")
    filed.appeal.refresh_from_db()
    assert filed.appeal.state == AppealState.WITHDRAWN
    assert "您撤回了诉求" in page.inner_text(".timeline")
    screenshot(page, "portal-09-withdrawn")


def test_rate_a_reply_badly_then_well_and_follow_up(page, live_server, foshan, officer):
    filed = factories.submit(region=foshan, title="社保补贴没到账")
    appeal_id = filed.appeal.pk
    services.appeal_sign_for(appeal_id=appeal_id, user=officer)
    services.appeal_submit_reply(appeal_id=appeal_id, user=officer, reply="补贴已在审核，月底到账。")
    _lookup(page, live_server.url, filed.appeal.tracking_number, filed.access_code)
    assert "补贴已在审核" in page.inner_text("#reply-title + .reply-text")
    screenshot(page, "portal-10-replied")
    _no_violations(page, "status with reply and rating form")
    page.check("#id_level_4")  # 非常不满意 is the fifth choice (value 1)
    page.check("#id_resolved_1")  # 未解决
    page.fill("#id_comment", "月底也没到账")
    page.get_by_role("button", name="提交评价").click()
    page.wait_for_selector("#reopened-notice")
    assert "重办" in page.inner_text("#reopened-notice")
    screenshot(page, "portal-11-reopened")
    _no_violations(page, "status after a bad rating")
    page.set_viewport_size({"width": 320, "height": 800})
    _fits(page, 320)
    screenshot(page, "portal-11b-status-320")
    page.set_viewport_size({"width": 1280, "height": 900})
    # The bureau answers again; this time the appellant is satisfied and adds a follow-up later.
    services.appeal_submit_reply(appeal_id=appeal_id, user=officer, reply="已到账，请查收。")
    page.reload()
    page.check("#id_level_0")
    page.check("#id_resolved_0")
    page.get_by_role("button", name="提交评价").click()
    page.wait_for_selector("#follow-up")
    _no_violations(page, "closed with follow-up form")
    page.check("#id_followup-level_0")
    page.check("#id_followup-resolved_0")
    page.get_by_role("button", name="提交追评").click()
    page.wait_for_selector(".flash--success")
    assert page.locator("#follow-up").count() == 0
    screenshot(page, "portal-12-followed-up")
    assert Appeal.objects.get(pk=appeal_id).state == AppealState.CLOSED
