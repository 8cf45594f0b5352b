"""撤销并单 and a supervisor's 督办 in a real browser, from the staff appeal page.

Screenshots go to var/screenshots/ (merge-*, supervise-*).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from appeals import services
from appeals.models import Appeal, AppealState
from tests import factories
from tests.e2e.conftest import axe_violations, format_violations

pytestmark = pytest.mark.django_db(transaction=True)
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _login(context, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}])


@pytest.fixture(autouse=True)
def _rules_only(monkeypatch, settings):
    from routing import decisions

    monkeypatch.setattr(decisions, "_safe_classify", lambda title, description: None)


def test_dispatcher_merges_then_undoes_the_merge(page, live_server, city, dispatch_centre):
    dispatcher = factories.staff_user("dispatcher", dispatch_centre, display_name="陈分拨")
    other = factories.category("other")
    text = {"title": "希望组织专场招聘会", "description": "工厂招工难，希望人社部门组织一次专场招聘会。"}
    master = factories.submit(region=city, category=other, **text).appeal
    follower = factories.submit(region=city, category=other, enterprise_name="佛山市南海区某某五金有限公司", **text)
    follower = follower.appeal
    _login(page.context, live_server, dispatcher)

    page.goto(f"{live_server.url}/staff/appeals/{follower.pk}/")
    page.get_by_text("并单", exact=True).first.click()  # opens the <details>
    page.fill("#id_merge-master_number", master.tracking_number)
    page.fill("#id_merge-note", "同一企业群体反映同一问题")
    page.locator('form[data-action="merge"] button[type=submit]').click()
    page.locator("dt", has_text="已并入").wait_for()
    assert Appeal.objects.get(pk=follower.pk).state == AppealState.MERGED
    shot(page, "merge-1-merged")

    page.goto(f"{live_server.url}/staff/appeals/{master.pk}/")
    followers = page.locator("[data-followers]")
    assert follower.tracking_number in followers.inner_text()
    assert "佛山市南海区某某五金有限公司" in followers.inner_text()
    assert "分拨说明" in page.locator("[data-routing-explanation]").inner_text()
    shot(page, "merge-2-master-lists-follower")

    page.goto(f"{live_server.url}/staff/appeals/{follower.pk}/")
    page.get_by_text("撤销并单", exact=True).first.click()
    page.locator('form[data-action="unmerge"] button[type=submit]').click()  # no reason: the browser stops it
    assert page.locator("#id_unmerge-reason").evaluate("el => el.validity.valueMissing")
    assert Appeal.objects.get(pk=follower.pk).state == AppealState.MERGED
    shot(page, "merge-3-reason-required")
    page.fill("#id_unmerge-reason", "经电话核实，两家企业反映的是不同问题")
    page.locator('form[data-action="unmerge"] button[type=submit]').click()
    page.locator(".timeline").get_by_text("撤销并单").first.wait_for()
    follower.refresh_from_db()
    assert follower.state == AppealState.TRIAGE and follower.merged_into_id is None
    body = page.locator("body").inner_text()
    assert "待分拨" in body and "经电话核实" in body
    shot(page, "merge-4-unmerged")
    violations = axe_violations(page)
    assert not violations, format_violations(violations)


def test_supervisor_places_an_appeal_under_supervision(page, live_server, hrss, officer, dispatch_centre):
    supervisor = factories.staff_user("supervisor", dispatch_centre, display_name="督办员甲")
    appeal = factories.submit(region=hrss.region, title="社保补贴迟迟未到账").appeal
    services.appeal_sign_for(appeal_id=appeal.pk, user=officer)
    _login(page.context, live_server, supervisor)

    page.goto(f"{live_server.url}/staff/appeals/{appeal.pk}/")
    page.get_by_text("督办", exact=True).first.click()
    page.fill("#id_supervise-note", "企业三次来电，请本周内给出答复")
    page.locator('form[data-action="supervise"] button[type=submit]').click()
    page.locator(".timeline").get_by_text("督办员督办").first.wait_for()
    appeal.refresh_from_db()
    assert appeal.supervised_at is not None
    timeline = page.locator(".timeline").inner_text()
    assert "企业三次来电" in timeline and "deadline_supervised" not in timeline
    shot(page, "supervise-1-appeal-page")

    page.goto(f"{live_server.url}/staff/overdue/?status=supervised")
    assert appeal.tracking_number in page.locator("body").inner_text()
    shot(page, "supervise-2-overdue-board")
