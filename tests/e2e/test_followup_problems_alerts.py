"""The supervisors' and dispatchers' boards in a real Chromium: acknowledging an early warning,
recording a follow-up call's outcome, and assigning a problem ticket's coordinating owner.

Screenshots go to var/screenshots/ (followup-*, problems-*, alerts-*).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

from alerts.models import Alert, AlertAppeal, AlertKind, AlertState
from appeals.models import Appeal, AppealEvent, AppealState, PiiAccessLog
from followup import selection
from followup.models import FollowUp, FollowUpState
from problems import detection
from problems.models import ProblemTicket
from tests import factories
from tests.e2e.conftest import axe_violations, format_violations
from tests.followup.flows import closed, replied

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SCREENSHOTS = Path(django_settings.BASE_DIR) / "var" / "screenshots"


def shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(autouse=True)
def _taxonomy(transactional_db):
    from routing.taxonomy import load_taxonomy

    load_taxonomy(with_regions=False)


def _login(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )


def test_supervisor_acknowledges_an_alert_with_a_note(page, live_server, hrss, officer, dispatch_centre):
    appeals = [factories.submit(region=hrss.region, title=f"园区停电影响生产{i}").appeal for i in range(3)]
    alert = Alert.objects.create(
        kind=AlertKind.CLUSTER,
        key="cluster:e2e",
        title="3家企业在7天内反映同一问题",
        detail={"enterprises": 3, "days": 7, "appeals": 3},
        region=hrss.region,
    )
    AlertAppeal.objects.bulk_create([AlertAppeal(alert=alert, appeal=a) for a in appeals])
    supervisor = factories.staff_user("supervisor", dispatch_centre, display_name="督办员老陈")
    _login(page, live_server, supervisor)
    page.goto(f"{live_server.url}/staff/alerts/")
    card = page.locator(f"#alert-{alert.pk}")
    assert "3家企业在7天内反映同一问题" in card.inner_text()
    assert card.locator("li").count() == 3
    violations = axe_violations(page)
    assert violations == [], format_violations(violations)
    shot(page, "alerts-01-board")
    # An empty note is refused by the browser (required) — the server refuses it too (unit tests).
    card.get_by_label("处理说明").fill("已通知供电局和园区管委会，明天上午联合排查。")
    card.get_by_role("button", name="确认预警").click()
    page.wait_for_selector("text=已确认预警。")
    fresh = Alert.objects.get(pk=alert.pk)
    assert fresh.state == AlertState.ACKNOWLEDGED and fresh.acknowledged_by == supervisor
    page.goto(f"{live_server.url}/staff/alerts/?state=all")
    assert "已通知供电局" in page.locator(f"#alert-{alert.pk}").inner_text()
    shot(page, "alerts-02-acknowledged")


def test_dispatcher_records_a_not_resolved_follow_up(page, live_server, hrss, officer, dispatcher, settings):
    settings.FOLLOW_UP = {**settings.FOLLOW_UP, "SAMPLE_PERCENT": 0}
    appeal = closed(hrss, officer, default=True)
    closed(hrss, officer, bad_first=True)
    # Closing committed for real here, so the close hook has already selected both; the job adds nothing.
    assert FollowUp.objects.count() == 2
    assert selection.followup_select() == 0
    followup = FollowUp.objects.get(appeal=appeal)
    _login(page, live_server, dispatcher)
    page.goto(f"{live_server.url}/staff/follow-up/")
    assert page.locator(".followup-table tbody tr").count() == 2
    violations = axe_violations(page)
    assert violations == [], format_violations(violations)
    shot(page, "followup-01-worklist")

    page.get_by_role("link", name=appeal.tracking_number).click()
    page.wait_for_url(re.compile(rf"/staff/follow-up/{followup.pk}/$"))
    assert "系统按“基本满意”记录" in page.locator(".call-script").inner_text()
    page.get_by_role("button", name="显示号码").click()
    page.wait_for_selector("[data-phone]:has-text('8000')")
    assert PiiAccessLog.objects.filter(user=dispatcher, appeal=appeal, action="view_phone").exists()
    violations = axe_violations(page)
    assert violations == [], format_violations(violations)
    shot(page, "followup-02-case-with-script")

    # Not resolved without a reason: the server says why and keeps the choice.
    page.get_by_label("已联系，问题未解决（重办）").check()
    page.get_by_role("button", name="保存回访结果").click()
    page.wait_for_selector(".flash--error:has-text('重新办理')")
    assert page.get_by_label("已联系，问题未解决（重办）").is_checked()
    shot(page, "followup-03-reason-required")
    page.get_by_label("回访记录").fill("企业说补贴仍未到账，希望继续协调。")
    page.get_by_role("button", name="保存回访结果").click()
    page.wait_for_url(re.compile(r"/staff/follow-up/$"))
    assert "已登记回访结果" in page.inner_text("body")
    shot(page, "followup-04-recorded")
    fresh = Appeal.objects.get(pk=appeal.pk)
    assert fresh.state == AppealState.HANDLING and fresh.reopen_count == 1
    assert FollowUp.objects.get(pk=followup.pk).state == FollowUpState.DONE
    assert [e.kind for e in AppealEvent.objects.filter(appeal=appeal).order_by("-seq")[:2]] == [
        "reopened",
        "followup_not_resolved",
    ]


def test_supervisor_assigns_a_problem_ticket_owner(page, live_server, hrss, officer, dispatch_centre, settings):
    settings.PROBLEM_TICKETS = {**settings.PROBLEM_TICKETS, "REOPEN_THRESHOLD": 2}
    submitted = replied(hrss, officer)
    from appeals import services

    for round_ in range(2):
        services.appeal_rate(appeal_id=submitted.appeal.pk, access_code=submitted.access_code, level=1, resolved=False)
        if round_ == 0:
            services.appeal_submit_reply(appeal_id=submitted.appeal.pk, user=officer, reply="再次答复")
    detection.problems_sweep()
    ticket = ProblemTicket.objects.get(appeal=submitted.appeal)
    supervisor = factories.staff_user("supervisor", dispatch_centre, display_name="督办员老陈")
    lead = factories.staff_user("lead", hrss, display_name="人社局李科长")
    _login(page, live_server, supervisor)
    page.goto(f"{live_server.url}/staff/problems/")
    card = page.locator(f"#problem-{ticket.pk}")
    assert "多次重办" in card.inner_text()
    assert card.locator(".problem-path li", has_text="重办").count() == 2
    violations = axe_violations(page)
    assert violations == [], format_violations(violations)
    shot(page, "problems-01-board")
    card.get_by_label("协调负责人").select_option(str(lead.pk))
    card.get_by_label("指派说明").fill("请牵头与财政局对接，周五前反馈。")
    card.get_by_role("button", name="指派协调负责人").click()
    page.wait_for_selector("text=已指派协调负责人。")
    assert ProblemTicket.objects.get(pk=ticket.pk).owner == lead
    card = page.locator(f"#problem-{ticket.pk}")
    assert "人社局李科长" in card.inner_text()
    assert "指派协调负责人" in card.locator(".problem-path").inner_text()
    shot(page, "problems-02-owner-assigned")
