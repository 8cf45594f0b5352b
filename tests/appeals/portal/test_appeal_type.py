"""Appeal types on appeals: intake (form, API, service), deadlines, staff correction, display, migration."""

from __future__ import annotations

import importlib
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from appeals import services
from appeals.api.models import ApiClient
from appeals.models import Appeal, AppealEvent
from tests import factories
from tests.appeals.portal.conftest import form_data

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
ENQUIRY = ("请问稳岗返还怎么申请", "想了解今年稳岗返还需要哪些材料，什么时候发放。")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.fixture
def partner():
    _client, key = ApiClient.create_with_key(name="企业服务小程序", channel=ApiClient.Channel.API)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"ApiKey {key}")
    return api


def api_payload(region, **overrides):
    data = {
        "enterprise_name": "佛山市测试电子有限公司",
        "credit_code": factories.credit_code(),
        "region": region.code,
        "industry": "I",
        "enterprise_size": "micro",
        "contact_name": "陈工",
        "contact_phone": "13900139000",
        "category": "employment",
        "title": ENQUIRY[0],
        "description": ENQUIRY[1],
    }
    data.update(overrides)
    return data


# --- The service -------------------------------------------------------------------------------------


def test_the_appellants_type_is_kept_and_a_missing_one_is_suggested_and_marked(hrss):
    chosen = factories.submit(region=hrss.region, appeal_type="complaint").appeal
    assert (chosen.appeal_type, chosen.appeal_type_suggested) == ("complaint", False)
    suggested = factories.submit(region=hrss.region, title=ENQUIRY[0], description=ENQUIRY[1]).appeal
    assert (suggested.appeal_type, suggested.appeal_type_suggested) == ("enquiry", True)
    submitted = AppealEvent.objects.get(appeal=suggested, kind="submitted")
    assert submitted.data["appeal_type"] == "enquiry" and submitted.data["appeal_type_suggested"] is True
    assert suggested.routing_explanation["appeal_type_basis"] == "suggested"


def test_a_broken_router_still_types_the_appeal(hrss, monkeypatch):
    from appeals.services import submission

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(submission, "decide", broken)
    appeal = factories.submit(region=hrss.region, title=ENQUIRY[0], description=ENQUIRY[1]).appeal
    assert appeal.state == "triage" and appeal.appeal_type == "enquiry" and appeal.appeal_type_suggested


def test_the_reply_deadline_follows_the_type(hrss, officer):
    with time_machine.travel(at("2026-03-03T10:00"), tick=False):  # a Tuesday
        enquiry = factories.submit(region=hrss.region, appeal_type="enquiry").appeal
        complaint = factories.submit(region=hrss.region, appeal_type="complaint").appeal
        enquiry = services.appeal_sign_for(appeal_id=enquiry.pk, user=officer)
        complaint = services.appeal_sign_for(appeal_id=complaint.pk, user=officer)
    assert enquiry.reply_due == at("2026-03-05T10:00")  # 2 working days
    assert complaint.reply_due == at("2026-03-24T10:00")  # 15 working days


# --- The portal form -------------------------------------------------------------------------------------


def test_the_form_offers_the_types_as_a_labelled_radio_group_with_hints(client, portal_city):
    html = client.get("/").content.decode()
    assert 'id="field-appeal_type"' in html and "<legend" in html
    for code in ("enquiry", "help", "suggestion", "complaint", "report"):
        assert f'name="appeal_type" value="{code}"' in html
    assert "想了解政策、办事条件或流程" in html and "反映违法违规行为" in html


def test_the_form_in_english_shows_english_types_and_hints(client, portal_city):
    client.cookies["django_language"] = "en"
    html = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Enquiry" in html and "Complaint" in html
    assert "Policies, eligibility or how to apply" in html


def test_the_type_is_required_on_the_form_with_a_message_in_the_users_language(client, portal_city):
    data = form_data(portal_city)
    del data["appeal_type"]
    response = client.post("/", data)
    assert response.status_code == 400 and Appeal.objects.count() == 0
    assert "请选择诉求类型" in response.content.decode()
    client.cookies["django_language"] = "en"
    response = client.post("/", {**data, "appeal_type": "grievance"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "Please choose an appeal type" in response.content.decode()
    assert Appeal.objects.count() == 0


def test_the_chosen_type_is_saved_from_the_form(client, portal_city):
    response = client.post("/", form_data(portal_city, appeal_type="suggestion"))
    assert response.status_code == 302
    appeal = Appeal.objects.get()
    assert (appeal.appeal_type, appeal.appeal_type_suggested) == ("suggestion", False)


# --- The API ------------------------------------------------------------------------------------------


def test_the_api_takes_an_optional_type_and_suggests_a_missing_one(partner, portal_city):
    response = partner.post("/api/appeals/", api_payload(portal_city, appeal_type="report"), format="json")
    assert response.status_code == 201, response.json()
    first = Appeal.objects.get(tracking_number=response.json()["tracking_number"])
    assert (first.appeal_type, first.appeal_type_suggested) == ("report", False)
    response = partner.post("/api/appeals/", api_payload(portal_city), format="json")
    assert response.status_code == 201
    second = Appeal.objects.get(tracking_number=response.json()["tracking_number"])
    assert (second.appeal_type, second.appeal_type_suggested) == ("enquiry", True)
    code = response.json()["access_code"]
    status = partner.post(
        "/api/appeals/lookup/", {"tracking_number": second.tracking_number, "access_code": code}, format="json"
    ).json()
    assert status["appeal_type"] == "enquiry" and status["appeal_type_label"] == "咨询"


def test_an_unknown_type_is_a_400_listing_the_codes_and_nothing_is_saved(partner, portal_city):
    response = partner.post("/api/appeals/", api_payload(portal_city, appeal_type="grievance"), format="json")
    assert response.status_code == 400
    message = str(response.json()["appeal_type"])
    assert "grievance" in message
    for code in ("enquiry", "help", "suggestion", "complaint", "report"):
        assert code in message
    assert Appeal.objects.count() == 0


def test_the_types_are_listed_with_hints_and_default_reply_limits(partner):
    rows = {row["code"]: row for row in partner.get("/api/appeal-types/").json()}
    assert list(rows) == ["enquiry", "help", "suggestion", "complaint", "report"]
    assert rows["enquiry"]["name"] == "咨询" and rows["enquiry"]["hint"]
    assert (rows["enquiry"]["reply_limit"], rows["enquiry"]["reply_unit"]) == (2, "working_days")
    assert rows["complaint"]["reply_limit"] == 15
    schema = partner.get("/api/schema/").content.decode()
    assert "/api/appeal-types/" in schema and "complaint" in schema


# --- Staff correction and display ---------------------------------------------------------------------------


def test_a_dispatcher_or_the_bureau_corrects_the_type_with_an_audited_event(hrss, officer, dispatcher, finance):
    appeal = factories.submit(region=hrss.region, title=ENQUIRY[0], description=ENQUIRY[1]).appeal
    assert appeal.appeal_type_suggested
    services.appeal_sign_for(appeal_id=appeal.pk, user=officer)
    corrected = services.appeal_correct_type(
        appeal_id=appeal.pk, user=officer, appeal_type="complaint", reason="来电说明是投诉窗口态度"
    )
    assert (corrected.appeal_type, corrected.appeal_type_suggested) == ("complaint", False)
    event = AppealEvent.objects.get(appeal=appeal, kind="appeal_type_corrected")
    assert event.data["from"] == "enquiry" and event.data["to"] == "complaint"
    assert event.reason == "来电说明是投诉窗口态度" and event.actor == officer
    services.appeal_correct_type(appeal_id=appeal.pk, user=dispatcher, appeal_type="report", reason="实为举报")
    other_bureau = factories.staff_user("officer", finance)
    with pytest.raises(services.NotAllowed):
        services.appeal_correct_type(appeal_id=appeal.pk, user=other_bureau, appeal_type="help", reason="x")
    with pytest.raises(services.InvalidInput):
        services.appeal_correct_type(appeal_id=appeal.pk, user=dispatcher, appeal_type="grievance", reason="x")
    with pytest.raises(services.InvalidInput):
        services.appeal_correct_type(appeal_id=appeal.pk, user=dispatcher, appeal_type="help", reason=" ")
    appeal.refresh_from_db()
    assert appeal.appeal_type == "report"


def test_the_console_shows_and_corrects_the_type(client, hrss, officer):
    appeal = factories.submit(region=hrss.region, appeal_type="help").appeal
    appeal = services.appeal_sign_for(appeal_id=appeal.pk, user=officer)
    client.force_login(officer, backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(f"/staff/appeals/{appeal.pk}/")
    assert "correct_type" in page.context["available"]
    assert "data-appeal-type" in page.content.decode() and "求助" in page.content.decode()
    response = client.post(
        f"/staff/appeals/{appeal.pk}/correct_type/",
        {
            "correct_type-expected_version": appeal.version,
            "correct_type-appeal_type": "suggestion",
            "correct_type-reason": "内容是改进建议",
        },
    )
    assert response.status_code == 302
    appeal.refresh_from_db()
    assert appeal.appeal_type == "suggestion"
    page = client.get(f"/staff/appeals/{appeal.pk}/").content.decode()
    assert "更正诉求类型" in page
    # The appellant's timeline says so, in their language.
    from appeals import presenters

    entries = presenters.timeline(appeal, AppealEvent.objects.filter(appeal=appeal).order_by("seq"))
    assert any(e.text == "工作人员把诉求类型更正为“建议”。" for e in entries)
    with translation.override("en"):
        entries = presenters.timeline(appeal, AppealEvent.objects.filter(appeal=appeal).order_by("seq"))
        assert any(e.text == "Staff corrected the appeal type to “Suggestion”." for e in entries)


def test_the_tracking_page_shows_the_type(client, hrss):
    result = factories.submit(region=hrss.region, appeal_type="complaint")
    appeal = result.appeal
    response = client.post(
        reverse("portal:lookup"),
        {"tracking_number": appeal.tracking_number, "access_code": result.access_code},
        follow=True,
    )
    html = response.content.decode()
    assert "诉求类型" in html and "投诉" in html


# --- The data migration -----------------------------------------------------------------------------------


def test_the_migration_types_legacy_appeals_from_their_text():
    migration = importlib.import_module("appeals.migrations.0006_appeal_type")
    hrss_city = factories.RegionFactory()
    appeal = factories.submit(region=hrss_city, title=ENQUIRY[0], description=ENQUIRY[1]).appeal
    plain = factories.submit(region=hrss_city, title="情况说明", description="具体情况电话里说。").appeal
    Appeal.objects.filter(pk__in=[appeal.pk, plain.pk]).update(appeal_type="", appeal_type_suggested=False)
    migration.type_existing_appeals(apps, None)
    assert dict(Appeal.objects.values_list("pk", "appeal_type")) == {appeal.pk: "enquiry", plain.pk: "help"}
    assert all(Appeal.objects.values_list("appeal_type_suggested", flat=True))


def test_type_labels_translate():
    from routing.appeal_types import AppealType

    with translation.override("en"):
        assert [str(t.label) for t in AppealType] == [
            "Enquiry",
            "Request for help",
            "Suggestion",
            "Complaint",
            "Report",
        ]
