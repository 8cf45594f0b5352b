"""The staff appeal page: scoping, available actions, 409 conflicts, masking and PII log, XSS, files."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from appeals import services
from appeals.models import AppealMessage, AppealState, CannedReply, Extension, PiiAccessLog
from tests import factories

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def post(client, appeal, action, data=None, *, version=None, xhr=False, **extra):
    payload = {f"{action}-expected_version": appeal.version if version is None else version}
    payload.update({f"{action}-{k}": v for k, v in (data or {}).items()})
    headers = {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"} if xhr else {}
    return client.post(f"/staff/appeals/{appeal.pk}/{action}/", payload, **headers, **extra)


def test_other_bureau_cannot_open_or_act(login, finance_officer, dispatched):
    client = login(finance_officer)
    assert client.get(f"/staff/appeals/{dispatched.pk}/").status_code == 404
    assert post(client, dispatched, "sign_for").status_code == 404
    assert client.post(f"/staff/appeals/{dispatched.pk}/phone/").status_code == 404
    dispatched.refresh_from_db()
    assert dispatched.state == AppealState.DISPATCHED


def test_role_pages_are_guarded(login, officer, dispatcher, supervisor):
    assert login(officer).get("/staff/dispatch/").status_code == 403
    assert login(officer).get("/staff/overdue/").status_code == 403
    assert login(supervisor).get("/staff/dispatch/").status_code == 403
    assert login(supervisor).get("/staff/overdue/").status_code == 200
    assert login(dispatcher).get("/staff/overdue/").status_code == 200
    # A dispatcher has no bureau queue: /staff/ sends them to their own console.
    assert login(dispatcher).get("/staff/")["Location"] == "/staff/dispatch/"


def test_officer_sees_sign_for_and_return_only_before_signing(login, officer, dispatched):
    response = login(officer).get(f"/staff/appeals/{dispatched.pk}/")
    available = response.context["available"]
    assert "sign_for" in available and "return" in available
    assert "reply" not in available and "dispatch" not in available


def test_sign_for_then_reply_with_attachment(login, officer, dispatched):
    client = login(officer)
    response = post(client, dispatched, "sign_for")
    assert response.status_code == 302
    dispatched.refresh_from_db()
    assert dispatched.state == AppealState.HANDLING and dispatched.officer == officer
    page = client.get(f"/staff/appeals/{dispatched.pk}/")
    assert "reply" in page.context["available"] and "sign_for" not in page.context["available"]
    upload = SimpleUploadedFile("答复函.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    response = client.post(
        f"/staff/appeals/{dispatched.pk}/reply/",
        {
            "reply-expected_version": dispatched.version,
            "reply-reply": "已联系企业并协调招聘会。",
            "reply-attachments": upload,
        },
    )
    assert response.status_code == 302
    dispatched.refresh_from_db()
    assert dispatched.state == AppealState.REPLIED
    attachment = dispatched.attachments.get()
    page = client.get(f"/staff/appeals/{dispatched.pk}/").content.decode()
    url = reverse("portal:staff_attachment", args=[attachment.pk])
    assert f'href="{url}"' in page
    download = client.get(url)
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF-1.4 test"
    assert "attachment" in download["Content-Disposition"]
    assert PiiAccessLog.objects.filter(user=officer, action="attachment_download").exists()


def test_stale_version_gets_409_with_reload_link(login, officer, hrss, dispatched):
    colleague = factories.staff_user("officer", hrss)
    stale_version = dispatched.version
    assert post(login(colleague), dispatched, "sign_for").status_code == 302
    response = post(login(officer), dispatched, "sign_for", version=stale_version)
    assert response.status_code == 409
    body = response.content.decode()
    assert "刚刚被其他人更新过" in body
    assert f'href="/staff/appeals/{dispatched.pk}/"' in body
    xhr = post(login(officer), dispatched, "sign_for", version=stale_version, xhr=True)
    assert xhr.status_code == 409
    assert xhr.json()["code"] == "stale" and xhr.json()["reload"] == f"/staff/appeals/{dispatched.pk}/"
    dispatched.refresh_from_db()
    assert dispatched.officer == colleague


def test_stale_version_on_services_without_version_argument(login, officer, handling):
    client = login(officer)
    services.appeal_add_message(appeal_id=handling.pk, kind="internal_note", body="先查政策", actor=officer)
    response = post(client, handling, "extension", {"reason": "需要调查", "working_days": 3}, version=handling.version)
    assert response.status_code == 409
    assert not Extension.objects.filter(appeal=handling).exists()


def test_missing_version_and_invalid_input_are_400(login, officer, handling):
    client = login(officer)
    response = client.post(f"/staff/appeals/{handling.pk}/return/", {"return-reason": "x"})
    assert response.status_code == 400
    response = post(client, handling, "reply", {"reply": "  "})
    assert response.status_code == 400
    assert "field-error" in response.content.decode()


def test_not_allowed_is_403(login, officer, hrss, handling):
    colleague = factories.staff_user("officer", hrss)
    response = post(login(colleague), handling, "reply", {"reply": "抢着答复"}, xhr=True)
    assert response.status_code == 403
    handling.refresh_from_db()
    assert handling.state == AppealState.HANDLING


def test_extension_contact_info_request_and_internal_note(login, officer, dispatcher, handling):
    client = login(officer)
    assert post(client, handling, "contact", {"body": "已电话联系企业"}).status_code == 302
    handling.refresh_from_db()
    assert handling.first_contact_at is not None
    assert post(client, handling, "info_request", {"body": "请补充劳动合同"}).status_code == 302
    handling.refresh_from_db()
    assert post(client, handling, "note", {"body": "内部：需人社局政策科意见"}).status_code == 302
    handling.refresh_from_db()
    assert post(client, handling, "extension", {"reason": "需跨部门协调", "working_days": 3}).status_code == 302
    extension = Extension.objects.get(appeal=handling)
    page = client.get(f"/staff/appeals/{handling.pk}/")
    assert "extension" not in page.context["available"]  # one pending at a time
    body = page.content.decode()
    assert "内部，诉求人看不到" in body and "需人社局政策科意见" in body
    kinds = set(AppealMessage.objects.filter(appeal=handling).values_list("kind", flat=True))
    assert kinds == {"contact", "info_request", "internal_note"}
    # The dispatcher decides it from the appeal page.
    handling.refresh_from_db()
    response = login(dispatcher).post(
        f"/staff/appeals/{handling.pk}/decide_extension/",
        {"decide_extension-decision": "approve", "decide_extension-note": "同意"},
    )
    assert response.status_code == 302
    extension.refresh_from_db()
    assert extension.status == Extension.Status.APPROVED


def test_review_flow_for_lead(login, officer, lead, hrss, handling):
    hrss.requires_review = True
    hrss.save()
    assert post(login(officer), handling, "reply", {"reply": "草稿答复"}).status_code == 302
    handling.refresh_from_db()
    assert handling.state == AppealState.REVIEW
    page = login(lead).get(f"/staff/appeals/{handling.pk}/")
    assert {"approve", "send_back"} <= set(page.context["available"])
    assert "approve" not in login(officer).get(f"/staff/appeals/{handling.pk}/").context["available"]
    assert post(login(lead), handling, "send_back", {"reason": "请补充政策依据"}).status_code == 302
    handling.refresh_from_db()
    assert handling.state == AppealState.HANDLING


def test_phone_masked_until_signed_for_and_reveal_is_logged(login, officer, dispatched):
    client = login(officer)
    page = client.get(f"/staff/appeals/{dispatched.pk}/").content.decode()
    assert "138****8000" in page.replace(" ", "")
    assert "13800138000" not in page.replace(" ", "")
    assert client.post(f"/staff/appeals/{dispatched.pk}/phone/").status_code == 403
    assert not PiiAccessLog.objects.exists()
    post(client, dispatched, "sign_for")
    response = client.post(f"/staff/appeals/{dispatched.pk}/phone/", HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    assert response.status_code == 200
    assert response.json()["phone"].replace(" ", "") == "13800138000"
    log = PiiAccessLog.objects.get()
    assert log.user == officer and log.appeal_id == dispatched.pk and log.action == "view_phone"
    # Reloading the page masks it again.
    assert "138****8000" in client.get(f"/staff/appeals/{dispatched.pk}/").content.decode().replace(" ", "")


def test_canned_replies_for_the_category(login, officer, handling):
    CannedReply.objects.create(category=handling.category, title="招聘会通知", body="本局将于下周举办招聘会。")
    CannedReply.objects.create(category=factories.category("tax"), title="税务专用", body="税务")
    CannedReply.objects.create(category=None, title="通用", body="感谢您的反馈。")
    page = login(officer).get(f"/staff/appeals/{handling.pk}/")
    titles = [c.title for c in page.context["canned_replies"]]
    assert titles == ["招聘会通知", "通用"]
    assert 'data-canned="本局将于下周举办招聘会。"' in page.content.decode()


def test_every_text_field_is_rendered_inert(login, officer, dispatcher, hrss, city):
    appeal = factories.submit(
        region=hrss.region, title=XSS[:90], description=XSS, enterprise_name=XSS, contact_name="张<b>三</b>"
    ).appeal
    services.appeal_add_message(appeal_id=appeal.pk, kind="internal_note", body=XSS, actor=officer)
    CannedReply.objects.create(category=appeal.category, title=XSS[:90], body=XSS)
    services.appeal_sign_for(appeal_id=appeal.pk, user=officer)
    triage = factories.submit(region=city, category=factories.category("other"), title=XSS[:90], description=XSS)
    pages = [
        login(officer).get(f"/staff/appeals/{appeal.pk}/"),
        login(officer).get("/staff/?queue=mine"),
        login(officer).get("/staff/queue/?queue=mine"),
        login(dispatcher).get("/staff/dispatch/"),
        login(dispatcher).get(f"/staff/appeals/{triage.appeal.pk}/"),
    ]
    for response in pages:
        body = response.content.decode()
        assert response.status_code == 200
        assert "<script>alert" not in body
        assert "<img src=x" not in body
        assert "&lt;script&gt;alert" in body


def test_lead_reassigns_to_another_officer(login, officer, lead, hrss, handling):
    colleague = factories.staff_user("officer", hrss, display_name="小周")
    page = login(lead).get(f"/staff/appeals/{handling.pk}/")
    assert "reassign" in page.context["available"]
    assert "reassign" not in login(officer).get(f"/staff/appeals/{handling.pk}/").context["available"]
    choices = list(page.context["forms"]["reassign"].fields["officer"].queryset)
    assert colleague in choices and officer not in choices
    response = post(login(lead), handling, "reassign", {"officer": colleague.pk, "reason": "均衡工作量"})
    assert response.status_code == 302
    handling.refresh_from_db()
    assert handling.officer == colleague
    stale = post(login(lead), handling, "reassign", {"officer": officer.pk}, version=handling.version - 1)
    assert stale.status_code == 409


def test_cohandling_invite_and_response(login, officer, finance_officer, finance, handling):
    page = login(officer).get(f"/staff/appeals/{handling.pk}/")
    assert "cohandle_invite" in page.context["available"]
    assert handling.bureau not in page.context["forms"]["cohandle_invite"].fields["bureau"].queryset
    response = post(
        login(officer),
        handling,
        "cohandle_invite",
        {"bureau": finance.pk, "request": "请提供贴息政策意见", "working_days": 3},
    )
    assert response.status_code == 302
    client = login(finance_officer)
    queue = client.get("/staff/?queue=cohandling")
    assert [r.appeal.pk for r in queue.context["rows"]] == [handling.pk]
    page = client.get(f"/staff/appeals/{handling.pk}/")
    assert {"cohandle_submit", "cohandle_decline"} <= set(page.context["available"])
    assert "请提供贴息政策意见" in page.content.decode()
    handling.refresh_from_db()
    assert post(client, handling, "cohandle_submit", {"body": "可申请市级贴息，比例50%"}).status_code == 302
    assert client.get("/staff/?queue=cohandling").context["rows"] == []
    assert "可申请市级贴息" in login(officer).get(f"/staff/appeals/{handling.pk}/").content.decode()


def test_appeal_page_query_count_does_not_grow_with_the_timeline(login, officer, handling):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(officer)
    url = f"/staff/appeals/{handling.pk}/"
    services.appeal_add_message(
        appeal_id=handling.pk,
        kind="contact",
        body="已联系",
        actor=officer,
        attachments=[SimpleUploadedFile("a.txt", b"x", content_type="text/plain")],
    )
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(10):
        upload = SimpleUploadedFile(f"材料{i}.txt", b"x", content_type="text/plain")
        services.appeal_add_message(
            appeal_id=handling.pk, kind="internal_note", body=f"备注{i}", actor=officer, attachments=[upload]
        )
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.content.decode().count("备注") >= 10
    assert len(many.captured_queries) == len(few.captured_queries), (
        [q["sql"][:300] for q in few.captured_queries],
        [q["sql"][:300] for q in many.captured_queries],
    )


def test_pages_render_in_english(login, officer, dispatcher, handling, triaged):
    client = login(officer)
    client.cookies["django_language"] = "en"
    response = client.get(f"/staff/appeals/{handling.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert '<html lang="en"' in response.content.decode()
    assert client.get("/staff/", HTTP_ACCEPT_LANGUAGE="en").status_code == 200
    dispatcher_client = login(dispatcher)
    assert dispatcher_client.get("/staff/dispatch/", HTTP_ACCEPT_LANGUAGE="en").status_code == 200


def test_the_first_contact_deadline_shows_until_the_appellant_is_contacted(login, officer, handling):
    client = login(officer)
    url = f"/staff/appeals/{handling.pk}/"
    page = client.get(url).content.decode()
    assert "首次联系时限" in page
    assert timezone.localtime(handling.first_contact_due).strftime("%m-%d %H:%M") in page
    services.appeal_add_message(appeal_id=handling.pk, kind="contact", body="已电话联系", actor=officer)
    assert "首次联系时限" not in client.get(url).content.decode()


def test_a_dispatcher_reroutes_a_misrouted_appeal_from_its_page(login, dispatcher, officer, dispatched, finance):
    client = login(dispatcher)
    page = client.get(f"/staff/appeals/{dispatched.pk}/").content.decode()
    assert "改派（派错单位时）" in page
    assert "改派（派错单位时）" not in login(officer).get(f"/staff/appeals/{dispatched.pk}/").content.decode()
    # No reason: refused with the field's message, nothing changes.
    response = post(client, dispatched, "reroute", {"bureau": finance.pk, "note": ""}, xhr=True)
    assert response.status_code == 400
    dispatched.refresh_from_db()
    assert dispatched.bureau_id != finance.pk
    response = post(client, dispatched, "reroute", {"bureau": finance.pk, "note": "属于融资类诉求，应由金融局办理"})
    assert response.status_code == 302
    dispatched.refresh_from_db()
    assert dispatched.bureau_id == finance.pk and dispatched.state == AppealState.DISPATCHED
    assert dispatched.events.filter(kind="rerouted").exists()
    # The current bureau is not offered as a target.
    page = client.get(f"/staff/appeals/{dispatched.pk}/").content.decode()
    assert f'<option value="{finance.pk}"' not in page.split('name="reroute-bureau"')[1].split("</select>")[0]


def test_the_extension_button_and_form_follow_the_appeals_deadline_policy(login, officer, handling):
    from routing.models import DeadlinePolicy

    policy = DeadlinePolicy.objects.create(
        category=handling.category, urgency="", max_extensions=1, max_extension_working_days=2
    )
    client = login(officer)
    page = client.get(f"/staff/appeals/{handling.pk}/")
    assert page.context["forms"]["extension"].fields["working_days"].max_value == 2
    too_long = post(client, handling, "extension", {"reason": "需跨部门协调", "working_days": 3})
    assert too_long.status_code == 400 and not Extension.objects.filter(appeal=handling).exists()
    policy.max_extensions = 0
    policy.save()
    assert "extension" not in client.get(f"/staff/appeals/{handling.pk}/").context["available"]
