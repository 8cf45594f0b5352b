"""The channel API: partner keys, submitting, looking up and acting on an appeal."""

from __future__ import annotations

import uuid

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from appeals import services
from appeals.api.models import ApiClient
from appeals.models import Appeal, AppealState
from tests import factories
from tests.appeals.portal.conftest import ELF_BYTES, PDF_BYTES, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def partner():
    client, key = ApiClient.create_with_key(name="企业服务小程序", channel=ApiClient.Channel.API)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"ApiKey {key}")
    api.partner = client
    return api


def payload(region, **overrides):
    data = {
        "enterprise_name": "佛山市测试电子有限公司",
        "credit_code": factories.credit_code(),
        "region": region.code,
        "industry": "I",
        "enterprise_size": "micro",
        "contact_name": "陈工",
        "contact_phone": "13900139000",
        "category": "employment",
        "title": "社保补贴咨询",
        "description": "想了解新招应届生的社保补贴怎么申请。",
    }
    data.update(overrides)
    return data


def test_keys_are_stored_hashed_and_shown_once(capsys):
    call_command("create_api_client", name="12345热线", channel="hotline", quiet=True)
    key = capsys.readouterr().out.strip()
    client = ApiClient.objects.get()
    assert key.startswith(f"hy_{client.key_prefix}_")
    assert key not in client.key_hash and client.check_key(key)
    assert client.channel == "hotline"


@pytest.mark.parametrize("header", [None, "ApiKey hy_deadbeef_nope", "ApiKey garbage", "Token abc", "Bearer hy_x_y"])
def test_requests_without_a_valid_key_are_refused(portal_city, header):
    api = APIClient()
    if header:
        api.credentials(HTTP_AUTHORIZATION=header)
    response = api.post("/api/appeals/", payload(portal_city), format="json")
    assert response.status_code in (401, 403)
    assert Appeal.objects.count() == 0


def test_deactivated_key_is_refused_at_once_in_this_process(partner, portal_city):
    assert partner.post("/api/appeals/", payload(portal_city), format="json").status_code == 201  # now cached
    for client in ApiClient.objects.all():
        client.is_active = False
        client.save()
    assert partner.post("/api/appeals/", payload(portal_city), format="json").status_code == 401


def test_a_known_key_is_checked_without_reading_its_row_again(partner, portal_city, settings):
    from appeals.api.authentication import active_client, clear_client_cache

    prefix = ApiClient.objects.get().key_prefix
    assert active_client(prefix) is not None
    # A bulk update sends no signal: the cached client stays valid until it expires...
    ApiClient.objects.update(is_active=False)
    assert active_client(prefix) is not None
    settings.API_CLIENT_CACHE_SECONDS = 0  # ...which here is at once.
    assert active_client(prefix) is None
    clear_client_cache()
    settings.API_CLIENT_CACHE_SECONDS = 10
    assert active_client(prefix) is None


def test_staff_session_cannot_use_the_partner_api(client, portal_city, officer):
    client.force_login(officer)
    response = client.post("/api/appeals/", payload(portal_city), content_type="application/json")
    assert response.status_code in (401, 403)


def test_submit_lookup_and_rate_through_the_api(partner, portal_city, officer):
    response = partner.post("/api/appeals/", payload(portal_city), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "dispatched" and body["bureau"]
    appeal = Appeal.objects.get(tracking_number=body["tracking_number"])
    assert appeal.channel == "api"
    code = body["access_code"]

    response = partner.post(
        "/api/appeals/lookup/", {"tracking_number": body["tracking_number"], "access_code": code}, format="json"
    )
    assert response.status_code == 200
    status = response.json()
    assert status["timeline"][0]["kind"] == "submitted"
    assert status["actions"]["withdraw"] is True

    services.appeal_sign_for(appeal_id=appeal.pk, user=officer)
    services.appeal_submit_reply(appeal_id=appeal.pk, user=officer, reply="可在线申请。")
    url = f"/api/appeals/{appeal.tracking_number}/rating/"
    response = partner.post(url, {"access_code": code, "level": 2, "resolved": False}, format="json")
    assert response.status_code == 200
    assert response.json()["state"] == "handling" and response.json()["reopened"] is True
    response = partner.post(url, {"access_code": code, "level": 2, "resolved": False}, format="json")
    assert response.status_code == 409


def test_wrong_code_is_one_generic_403(partner, portal_city):
    filed = factories.submit(region=portal_city)
    for number, code in ((filed.appeal.tracking_number, "WRONG999"), ("20990101000001", filed.access_code)):
        response = partner.post("/api/appeals/lookup/", {"tracking_number": number, "access_code": code}, format="json")
        assert response.status_code == 403
        assert response.json()["code"] == "access_code"


def test_validation_errors_are_per_field(partner, portal_city):
    response = partner.post(
        "/api/appeals/",
        payload(portal_city, credit_code="91350203M0001QAY9B", contact_phone="123", urgency="urgent"),
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()
    assert "校验码" in errors["credit_code"][0]
    assert "contact_phone" in errors
    assert Appeal.objects.count() == 0


def test_hotline_channel_and_idempotency_header(portal_city):
    _client, key = ApiClient.create_with_key(name="12345热线", channel=ApiClient.Channel.HOTLINE)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"ApiKey {key}")
    token = str(uuid.uuid4())
    first = api.post("/api/appeals/", payload(portal_city), format="json", HTTP_IDEMPOTENCY_KEY=token)
    second = api.post("/api/appeals/", payload(portal_city), format="json", HTTP_IDEMPOTENCY_KEY=token)
    assert first.status_code == 201 and second.status_code == 409
    assert second.json()["tracking_number"] == first.json()["tracking_number"]
    assert "access_code" not in second.json()
    assert Appeal.objects.get().channel == "hotline"


def test_multipart_submission_with_files_checks_content(partner, portal_city):
    data = payload(portal_city)
    data["attachments"] = [upload("x.pdf", ELF_BYTES)]
    response = partner.post("/api/appeals/", data, format="multipart")
    assert response.status_code == 400 and "x.pdf" in str(response.json()["attachments"])
    data = payload(portal_city)
    data["attachments"] = [upload("ok.pdf", PDF_BYTES)]
    response = partner.post("/api/appeals/", data, format="multipart")
    assert response.status_code == 201
    assert Appeal.objects.get().attachments.get().content_type == "application/pdf"


def test_supplement_withdraw_and_file_download(partner, portal_city):
    filed = factories.submit(region=portal_city)
    number, code = filed.appeal.tracking_number, filed.access_code
    response = partner.post(
        f"/api/appeals/{number}/supplements/",
        {"access_code": code, "body": "补充材料", "attachments": [upload("a.pdf", PDF_BYTES)]},
        format="multipart",
    )
    assert response.status_code == 201
    file_id = response.json()["my_files"][0]["id"]
    response = partner.post(f"/api/appeals/{number}/files/{file_id}/", {"access_code": code}, format="json")
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF_BYTES
    response = partner.post(
        f"/api/appeals/{number}/withdraw/", {"access_code": code, "reason": "不需要了"}, format="json"
    )
    assert response.status_code == 200 and response.json()["state"] == AppealState.WITHDRAWN
    response = partner.post(f"/api/appeals/{number}/withdraw/", {"access_code": code}, format="json")
    assert response.status_code == 409


def test_partner_rate_limit(partner, portal_city, settings):
    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "api_client": "2/m"}
    assert partner.get("/api/categories/").status_code == 200
    assert partner.get("/api/regions/").status_code == 200
    response = partner.get("/api/categories/")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0


def test_categories_and_regions(partner, portal_city):
    categories = partner.get("/api/categories/").json()
    assert any(c["code"] == "employment" and c["example"] for c in categories)
    assert any(r["code"] == portal_city.code for r in partner.get("/api/regions/").json())


def test_openapi_schema_documents_the_api_key(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json() if response["Content-Type"].startswith("application/json") else None
    text = response.content.decode()
    assert "/api/appeals/" in text and "ApiKey" in text
    if schema:
        assert "ApiKey" in schema["components"]["securitySchemes"]


def test_submission_serializers_do_not_share_bound_fields(portal_city):
    from appeals.api.serializers import SubmissionSerializer

    first, second = SubmissionSerializer(data={}), SubmissionSerializer(data=payload(portal_city))
    assert not first.is_valid()
    assert second.is_valid(), second.errors
    for name in ("title", "region", "attachments"):
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first and second.fields[name].parent is second
    assert "title" in first.errors and second.validated_data["title"]
    prototype = SubmissionSerializer._declared_fields["title"]
    assert prototype.parent is None and prototype.field_name is None  # the prototypes stay unbound


@pytest.mark.parametrize("bad_name", ["..", "\x01\x02"])
def test_a_file_with_an_unusable_name_is_refused_with_a_message_not_dropped(partner, portal_city, bad_name):
    import io

    named = io.BytesIO(PDF_BYTES)
    named.name = bad_name  # what a client sends as the part's filename
    data = payload(portal_city)
    data["attachments"] = [named, upload("ok.pdf", PDF_BYTES)]
    response = partner.post("/api/appeals/", data, format="multipart")
    assert response.status_code == 400, response.content
    assert "文件名无法使用" in str(response.json()["attachments"])
    assert Appeal.objects.count() == 0
