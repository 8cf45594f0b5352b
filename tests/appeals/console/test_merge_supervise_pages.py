"""The console's 撤销并单, 催办/督办, merged followers, routing explanation and arbitration wording."""

from __future__ import annotations

import pytest

from appeals import services
from appeals.models import Appeal, AppealEvent, AppealState
from notifications import delivery, tasks
from notifications.models import Delivery, OutboxEvent
from tests import factories
from tests.appeals.console.test_appeal_page import post

pytestmark = pytest.mark.django_db


@pytest.fixture
def merged(triaged, city, dispatcher):
    other = factories.category("other")
    master = factories.submit(
        region=city, category=other, title="主诉求", enterprise_name="佛山市顺德区美的电器有限公司"
    )
    follower = factories.submit(
        region=city, category=other, title="重复诉求", enterprise_name="佛山市南海区某某五金有限公司"
    )
    master, follower = master.appeal, follower.appeal
    services.appeal_merge(appeal_id=follower.pk, user=dispatcher, master_id=master.pk)
    return Appeal.objects.get(pk=master.pk), Appeal.objects.get(pk=follower.pk)


def test_dispatcher_unmerges_with_a_reason(login, dispatcher, merged):
    master, follower = merged
    client = login(dispatcher)
    page = client.get(f"/staff/appeals/{follower.pk}/")
    assert "unmerge" in page.context["available"]
    html = page.content.decode()
    assert "撤销并单" in html and master.tracking_number in html
    response = post(client, follower, "unmerge", {"reason": ""})
    assert response.status_code == 400
    assert Appeal.objects.get(pk=follower.pk).state == AppealState.MERGED
    response = post(client, follower, "unmerge", {"reason": "并非同一问题"})
    assert response.status_code == 302
    follower.refresh_from_db()
    assert follower.state == AppealState.TRIAGE and follower.merged_into_id is None
    timeline = client.get(f"/staff/appeals/{follower.pk}/").content.decode()
    assert "撤销并单" in timeline and "并非同一问题" in timeline


def test_unmerge_is_not_offered_or_allowed_after_the_master_moved_on(login, dispatcher, supervisor, merged, hrss):
    master, follower = merged
    assert "unmerge" not in login(supervisor).get(f"/staff/appeals/{follower.pk}/").context["available"]
    assert post(login(supervisor), follower, "unmerge", {"reason": "x"}).status_code == 403
    services.appeal_dispatch(appeal_id=master.pk, user=dispatcher, bureau_id=hrss.pk)
    officer = factories.staff_user("officer", hrss)
    services.appeal_sign_for(appeal_id=master.pk, user=officer)
    services.appeal_submit_reply(appeal_id=master.pk, user=officer, reply="已答复")
    client = login(dispatcher)
    assert "unmerge" not in client.get(f"/staff/appeals/{follower.pk}/").context["available"]
    response = post(client, follower, "unmerge", {"reason": "并错了"}, xhr=True)
    assert response.status_code == 409 and response.json()["code"] == "moved_on"


def test_master_page_lists_its_followers_masked_for_bureau_staff(login, dispatcher, merged, hrss, lead):
    master, follower = merged
    html = login(dispatcher).get(f"/staff/appeals/{master.pk}/").content.decode()
    assert "并入本诉求的重复诉求" in html and follower.tracking_number in html
    assert "佛山市南海区某某五金有限公司" in html and f"/staff/appeals/{follower.pk}/" in html
    services.appeal_dispatch(appeal_id=master.pk, user=dispatcher, bureau_id=hrss.pk)
    html = login(lead).get(f"/staff/appeals/{master.pk}/").content.decode()
    assert follower.tracking_number in html and "佛山***有限公司" in html
    assert "某某五金" not in html and f"/staff/appeals/{follower.pk}/" not in html


def test_supervisor_urges_and_supervises_from_the_appeal_page(login, supervisor, officer, handling):
    client = login(supervisor)
    available = client.get(f"/staff/appeals/{handling.pk}/").context["available"]
    assert "urge" in available and "supervise" in available
    assert post(client, handling, "urge", {"note": ""}).status_code == 400
    assert post(client, handling, "urge", {"note": "请今天联系企业"}).status_code == 302
    handling.refresh_from_db()
    assert post(client, handling, "supervise", {"note": "列入督办"}).status_code == 302
    page = client.get(f"/staff/appeals/{handling.pk}/")
    assert "supervise" not in page.context["available"] and "urge" in page.context["available"]
    html = page.content.decode()
    assert "督办员催办" in html and "督办员督办" in html and "列入督办" in html
    assert "supervisor_supervised" not in html and "deadline_supervised" not in html
    overdue = client.get("/staff/overdue/?status=supervised").content.decode()
    assert handling.tracking_number in overdue
    # The officer gets no button, and the service refuses a forged post.
    officer_client = login(officer)
    assert "urge" not in officer_client.get(f"/staff/appeals/{handling.pk}/").context["available"]
    handling.refresh_from_db()
    assert post(officer_client, handling, "urge", {"note": "x"}).status_code == 403


def test_timeline_labels_are_words_in_english_too(login, supervisor, handling):
    services.appeal_supervisor_supervise(appeal_id=handling.pk, user=supervisor, note="note")
    client = login(supervisor)
    client.cookies["django_language"] = "en"
    html = client.get(f"/staff/appeals/{handling.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Supervised by a supervisor" in html and "supervisor_supervised" not in html


def test_routing_explanation_shown_to_dispatchers_and_leads_for_routed_appeals(
    login, dispatcher, lead, officer, dispatched, triaged
):
    for user in (dispatcher, lead):
        page = login(user).get(f"/staff/appeals/{dispatched.pk}/")
        html = page.content.decode()
        assert "分拨说明" in html and page.context["routing_sentences"], user
        assert "按类别的默认承办单位自动派单" in html or "按分拨规则自动派单" in html
        assert "{&quot;" not in html and '{"reason"' not in html
    assert "routing_sentences" not in login(officer).get(f"/staff/appeals/{dispatched.pk}/").context
    html = login(dispatcher).get(f"/staff/appeals/{triaged.pk}/").content.decode()
    assert "未自动派单，转入待分拨。原因：诉求人选择了“其他”类别" in html


def test_manual_dispatch_keeps_why_routing_did_not_route(login, dispatcher, triaged, hrss):
    services.appeal_dispatch(appeal_id=triaged.pk, user=dispatcher, bureau_id=hrss.pk)
    html = login(dispatcher).get(f"/staff/appeals/{triaged.pk}/").content.decode()
    assert "分拨员人工派单" in html and "系统未自动派单的原因：诉求人选择了“其他”类别" in html


def test_arbitration_that_keeps_the_bureau_says_so(login, dispatcher, officer, dispatched, hrss):
    services.appeal_return(appeal_id=dispatched.pk, user=officer, reason="不属于本单位")
    dispatched.refresh_from_db()
    client = login(dispatcher)
    page = client.get(f"/staff/appeals/{dispatched.pk}/").content.decode()
    assert "提交审核结果" in page and "原承办单位：维持派单，退单不成立" in page and "确认改派" not in page
    response = post(client, dispatched, "arbitrate", {"bureau": hrss.pk, "note": "属于人社职责"}, xhr=True)
    assert response.status_code == 200
    assert "已维持原承办单位" in response.json()["message"] and "改派" not in response.json()["message"]
    event = AppealEvent.objects.filter(appeal=dispatched, kind="redispatched").get()
    assert event.data["kept"] is True
    html = client.get(f"/staff/appeals/{dispatched.pk}/").content.decode()
    assert "退单审核：维持原承办单位" in html
    outbox = OutboxEvent.objects.filter(appeal=dispatched, event_type="appeal.dispatched").latest("id")
    assert outbox.payload["kept"] is True
    tasks.process_event(outbox.pk)
    row = Delivery.objects.filter(event=outbox, channel="inbox").first()
    subject, body = delivery.render(row)
    assert "退单未获同意" in subject and "属于人社职责" in body
    row.language = "en"
    subject, _body = delivery.render(row)
    assert subject.startswith("Return not accepted")


def test_arbitration_that_reroutes_says_reassigned(login, dispatcher, officer, dispatched, finance):
    services.appeal_return(appeal_id=dispatched.pk, user=officer, reason="不属于本单位")
    dispatched.refresh_from_db()
    response = post(login(dispatcher), dispatched, "arbitrate", {"bureau": finance.pk, "note": "金融事项"}, xhr=True)
    assert response.json()["message"].startswith("已改派至")
    assert AppealEvent.objects.get(appeal=dispatched, kind="redispatched").data["kept"] is False
