"""Stored XSS rendered inert, the staff file view's permission check, and the admin change page."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from appeals import services
from appeals.models import Appeal, Attachment, PiiAccessLog
from tests import factories
from tests.appeals.portal.conftest import PDF_BYTES, form_data, upload

pytestmark = pytest.mark.django_db

PAYLOADS = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg/onload=alert(1)>",
    "javascript:alert(1)",
    "</textarea><script>alert(2)</script>",
]
RAW_MARKERS = ["<script>alert", "<img src=x onerror", "<svg/onload", "</textarea><script>"]


def _assert_inert(html: str) -> None:
    for marker in RAW_MARKERS:
        assert marker not in html, marker


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payloads_in_every_text_field_are_inert_on_portal_pages(client, portal_city, officer, payload):
    data = form_data(
        portal_city,
        enterprise_name=f"企业{payload}",
        contact_name=f"张{payload}"[:50],
        title=f"标题{payload}"[:100],
        description=f"内容{payload}",
        urgency="urgent",
        urgency_reason=f"急{payload}"[:200],
        attachments=[upload(f"{payload}.pdf", PDF_BYTES)],
    )
    response = client.post("/", data)
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    _assert_inert(client.get(response["Location"]).content.decode())
    appeal = Appeal.objects.get()
    status_url = reverse("portal:status", kwargs={"tracking_number": appeal.tracking_number})
    client.post(
        reverse("portal:supplement", kwargs={"tracking_number": appeal.tracking_number}),
        {"body": f"补充{payload}", "attachments": [upload(f"s{payload}.png", PDF_BYTES)]},
    )
    services.appeal_sign_for(appeal_id=appeal.pk, user=officer)
    services.appeal_add_message(appeal_id=appeal.pk, kind="info_request", body=f"请补充{payload}", actor=officer)
    html = client.get(status_url).content.decode()
    _assert_inert(html)
    if "<" in payload:
        assert "&lt;" in html  # the payload is shown, as text
    _assert_inert(
        client.get(reverse("portal:withdraw", kwargs={"tracking_number": appeal.tracking_number})).content.decode()
    )
    services.appeal_submit_reply(appeal_id=appeal.pk, user=officer, reply=f"答复{payload}")
    _assert_inert(client.get(status_url).content.decode())
    # Invalid form re-rendered with the payload in it.
    response = client.post("/", {**form_data(portal_city, title=f"{payload}"), "credit_code": "bad"})
    assert response.status_code == 400
    _assert_inert(response.content.decode())


def test_staff_file_view_checks_the_bureau_and_logs(client, portal_city, hrss, officer, finance):
    filed = factories.submit(
        region=portal_city, attachments=[upload("营业执照<script>.pdf", PDF_BYTES, "application/pdf")]
    )
    attachment = Attachment.objects.get()
    url = reverse("portal:staff_attachment", kwargs={"attachment_id": attachment.pk})
    # Anonymous: to the login page.
    response = client.get(url)
    assert response.status_code == 302 and "login" in response["Location"]
    # Another bureau's officer: 404, nothing logged.
    stranger = factories.staff_user("officer", finance)
    client.force_login(stranger)
    assert client.get(url).status_code == 404
    assert PiiAccessLog.objects.count() == 0
    # The handling bureau's officer: the file, as a download, logged.
    client.force_login(officer)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert "<script>" not in response["Content-Disposition"] or "filename*=" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    log = PiiAccessLog.objects.get()
    assert log.user == officer and log.appeal == filed.appeal and log.action == "attachment_download"


def test_missing_attachment_is_404_for_staff(client, officer):
    client.force_login(officer)
    assert client.get(reverse("portal:staff_attachment", kwargs={"attachment_id": 999999})).status_code == 404


@pytest.mark.parametrize("payload", PAYLOADS[:2])
def test_admin_change_page_renders_payloads_inert(client, portal_city, payload):
    assert admin.site.is_registered(Appeal)
    filed = factories.submit(
        region=portal_city,
        title=f"T{payload}"[:100],
        description=f"D{payload}",
        enterprise_name=f"E{payload}",
        contact_name=f"C{payload}"[:50],
        attachments=[upload(f"{payload}.pdf", PDF_BYTES, "application/pdf")],
    )
    services.appeal_add_message(
        appeal_id=filed.appeal.pk, kind="appellant", body=f"S{payload}", actor=services.APPELLANT
    )
    superuser = factories.staff_user("admin", None)
    client.force_login(superuser)
    url = reverse("admin:appeals_appeal_change", args=[filed.appeal.pk])
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    _assert_inert(html)
    assert "&lt;" in html  # shown, as text
    enterprise_url = reverse("admin:appeals_enterprise_change", args=[filed.appeal.enterprise_id])
    _assert_inert(client.get(enterprise_url).content.decode())
