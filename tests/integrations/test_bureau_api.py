"""The bureau API: credentials, reads with the console's PII rules, actions through the console's services,
and isolation — a credential never sees or acts on another bureau's appeal, on any endpoint."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from appeals.models import Appeal, AppealMessage, Extension, PiiAccessLog
from integrations.bureau_api.selectors import Cursor
from integrations.models import BureauCredential, CredentialUse
from tests import factories
from tests.integrations.conftest import make_credential

pytestmark = pytest.mark.django_db
BASE = "/api/bureau/v1"


@pytest.fixture
def system(hrss, officer):
    credential, key = make_credential(hrss, officer)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return credential, api


@pytest.fixture
def appeal(city, hrss):
    appeal = factories.submit(region=city).appeal
    assert appeal.bureau == hrss and appeal.state == "dispatched"
    return appeal


@pytest.fixture
def foreign(city, finance):
    """An appeal of another bureau (finance) in the same city."""
    appeal = factories.submit(region=city, category=factories.category("financing")).appeal
    assert appeal.bureau == finance
    return appeal


# --- Credentials -------------------------------------------------------------------------------------


def test_requests_without_a_valid_credential_are_refused(appeal, system, hrss, officer):
    credential, api = system
    assert APIClient().get(f"{BASE}/appeals/").status_code == 401
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Bearer hyb_00000000_nope")
    assert bad.get(f"{BASE}/appeals/").status_code == 401
    malformed = APIClient()
    malformed.credentials(HTTP_AUTHORIZATION="Bearer something")
    assert malformed.get(f"{BASE}/appeals/").status_code == 401
    assert api.get(f"{BASE}/appeals/").status_code == 200
    credential.is_active = False
    credential.save()
    response = api.get(f"{BASE}/appeals/")
    assert response.status_code == 401
    assert "停用" in response.json()["detail"]


def test_credential_stops_working_when_its_user_leaves_the_bureau(appeal, system, officer, finance):
    _credential, api = system
    officer.staff_profile.bureau = finance
    officer.staff_profile.save()
    response = api.get(f"{BASE}/appeals/")
    assert response.status_code == 403
    assert "不属于" in response.json()["detail"]


def test_keys_are_stored_hashed(system):
    credential, _api = system
    row = BureauCredential.objects.get(pk=credential.pk)
    assert len(row.key_hash) == 64 and "hyb_" not in row.key_hash


def test_every_call_is_audited(appeal, system):
    credential, api = system
    api.get(f"{BASE}/appeals/")
    api.get(f"{BASE}/appeals/{appeal.pk}/")
    api.post(f"{BASE}/appeals/{appeal.pk}/sign-for/", {}, format="json")
    api.post(f"{BASE}/appeals/{appeal.pk}/sign-for/", {}, format="json")
    uses = list(CredentialUse.objects.filter(credential=credential).order_by("id"))
    assert [(u.action, u.status_code, u.appeal_id) for u in uses] == [
        ("list", 200, None),
        ("read", 200, appeal.pk),
        ("sign_for", 200, appeal.pk),
        ("sign_for", 409, appeal.pk),
    ]


# --- Reads -------------------------------------------------------------------------------------------


def test_list_by_state_and_cursor(city, hrss, system, foreign, officer):
    _credential, api = system
    appeals = [factories.submit(region=city).appeal for _ in range(5)]
    response = api.get(f"{BASE}/appeals/", {"limit": 2})
    page = response.json()
    assert [r["id"] for r in page["results"]] == [a.pk for a in appeals[:2]]
    assert page["has_more"] is True
    seen = [r["id"] for r in page["results"]]
    while page["has_more"]:
        page = api.get(f"{BASE}/appeals/", {"limit": 2, "since": page["next_cursor"]}).json()
        seen += [r["id"] for r in page["results"]]
    assert seen == [a.pk for a in appeals]
    # After an outage: only what changed since the saved cursor comes back, oldest change first.
    from appeals import services

    services.appeal_sign_for(appeal_id=appeals[1].pk, user=officer)
    later = api.get(f"{BASE}/appeals/", {"since": page["next_cursor"]}).json()
    assert [r["id"] for r in later["results"]] == [appeals[1].pk]
    assert later["results"][0]["state"] == "handling"
    handling = api.get(f"{BASE}/appeals/", {"state": "handling"}).json()
    assert [r["id"] for r in handling["results"]] == [appeals[1].pk]
    assert api.get(f"{BASE}/appeals/", {"state": "dispatched,handling"}).json()["results"].__len__() == 5
    # No personal data in the list.
    text = str(api.get(f"{BASE}/appeals/").json())
    assert "13800138000" not in text and "李四" not in text


@pytest.mark.parametrize(
    ("params", "field"), [({"state": "lost"}, "state"), ({"since": "!!"}, "cursor"), ({"limit": "x"}, "limit")]
)
def test_list_bad_parameters(system, params, field):
    _credential, api = system
    response = api.get(f"{BASE}/appeals/", params)
    assert response.status_code == 400
    assert response.json()["code"] == field


def test_cursor_round_trip():
    from django.utils import timezone

    now = timezone.now()
    assert Cursor.decode(Cursor(now, 7).encode()) == Cursor(now, 7)
    assert Cursor.decode("bm90IGEgY3Vyc29y") is None


def test_detail_masks_contact_until_signed_for_and_logs_every_read(appeal, system, officer):
    _credential, api = system
    data = api.get(f"{BASE}/appeals/{appeal.pk}/").json()
    assert data["phone_masked"] is True
    assert data["contact_phone"] != appeal.contact_phone and "*" in data["contact_phone"]
    assert data["credit_code"] == appeal.enterprise.credit_code
    api.post(f"{BASE}/appeals/{appeal.pk}/sign-for/", {"expected_version": data["version"]}, format="json")
    data = api.get(f"{BASE}/appeals/{appeal.pk}/").json()
    assert data["phone_masked"] is False
    assert data["contact_phone"] == appeal.contact_phone
    logs = list(PiiAccessLog.objects.filter(appeal=appeal).order_by("id").values_list("user_id", "action"))
    assert logs == [(officer.pk, "integration_view"), (officer.pk, "integration_view_contact")]


def test_internal_notes_are_not_exposed(appeal, system, officer):
    from appeals import services

    services.appeal_add_message(
        appeal_id=appeal.pk, kind=AppealMessage.Kind.INTERNAL_NOTE, body="内部备注X", actor=officer
    )
    _credential, api = system
    assert "内部备注X" not in str(api.get(f"{BASE}/appeals/{appeal.pk}/").json())


# --- Actions -----------------------------------------------------------------------------------------


def test_working_an_appeal_end_to_end(appeal, system, officer):
    _credential, api = system
    version = api.get(f"{BASE}/appeals/{appeal.pk}/").json()["version"]
    response = api.post(f"{BASE}/appeals/{appeal.pk}/sign-for/", {"expected_version": version}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "handling"
    appeal.refresh_from_db()
    assert appeal.officer == officer

    response = api.post(f"{BASE}/appeals/{appeal.pk}/contact/", {"body": "已电话联系企业负责人。"}, format="json")
    assert response.status_code == 200
    appeal.refresh_from_db()
    assert appeal.first_contact_at is not None

    response = api.post(
        f"{BASE}/appeals/{appeal.pk}/information-request/", {"body": "请补充近三个月用工台账。"}, format="json"
    )
    assert response.status_code == 200, response.json()
    appeal.refresh_from_db()
    assert appeal.paused_at is not None

    response = api.post(
        f"{BASE}/appeals/{appeal.pk}/extension/", {"reason": "需要跨部门核实", "working_days": 3}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert Extension.objects.filter(appeal=appeal, status="pending").exists()
    again = api.post(f"{BASE}/appeals/{appeal.pk}/extension/", {"reason": "再延", "working_days": 3}, format="json")
    assert again.status_code == 409
    assert "审批中" in again.json()["detail"]

    response = api.post(f"{BASE}/appeals/{appeal.pk}/reply/", {"reply": "已协调职业院校专场招聘。"}, format="json")
    assert response.status_code == 200
    assert response.json()["state"] == "replied"
    kinds = list(appeal.events.values_list("kind", flat=True))
    assert {"signed_for", "message.contact", "message.info_request", "extension_requested", "replied"} <= set(kinds)


def test_state_conflicts_are_409_with_a_message(appeal, system):
    _credential, api = system
    stale = api.post(f"{BASE}/appeals/{appeal.pk}/sign-for/", {"expected_version": 99}, format="json")
    assert stale.status_code == 409 and stale.json()["code"] == "stale"
    api.post(f"{BASE}/appeals/{appeal.pk}/sign-for/", {}, format="json")
    twice = api.post(f"{BASE}/appeals/{appeal.pk}/sign-for/", {}, format="json")
    assert twice.status_code == 409
    assert "签收" in twice.json()["detail"]
    returned = api.post(f"{BASE}/appeals/{appeal.pk}/return/", {"reason": "不属本局"}, format="json")
    assert returned.status_code == 409


def test_return_within_the_window(appeal, system):
    _credential, api = system
    response = api.post(f"{BASE}/appeals/{appeal.pk}/return/", {"reason": "属市场监管局职责"}, format="json")
    assert response.status_code == 200
    assert Appeal.objects.get(pk=appeal.pk).state == "returned"


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("return", {}),
        ("return", {"reason": "  "}),
        ("contact", {}),
        ("reply", {"reply": ""}),
        ("extension", {"reason": "x", "working_days": 0}),
        ("extension", {"reason": "x"}),
        ("sign-for", {"expected_version": "abc"}),
    ],
)
def test_invalid_input_is_400_and_changes_nothing(appeal, system, action, payload):
    _credential, api = system
    before = Appeal.objects.get(pk=appeal.pk).version
    response = api.post(f"{BASE}/appeals/{appeal.pk}/{action}/", payload, format="json")
    assert response.status_code == 400
    assert Appeal.objects.get(pk=appeal.pk).version == before


def test_permissions_are_the_consoles(appeal, hrss, system, officer):
    """A second officer's credential cannot act on an appeal the first officer signed for."""
    _credential, api = system
    api.post(f"{BASE}/appeals/{appeal.pk}/sign-for/", {}, format="json")
    other_officer = factories.staff_user("officer", hrss)
    _other, key = make_credential(hrss, other_officer, name="另一套系统")
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = other.post(f"{BASE}/appeals/{appeal.pk}/extension/", {"reason": "x", "working_days": 2}, format="json")
    assert response.status_code == 403
    # ... and sees the phone masked: only the handling officer (or the lead) may.
    assert other.get(f"{BASE}/appeals/{appeal.pk}/").json()["phone_masked"] is True


# --- Isolation over every endpoint --------------------------------------------------------------------

ENDPOINTS = [
    ("get", "/"),
    ("post", "/sign-for/"),
    ("post", "/return/"),
    ("post", "/contact/"),
    ("post", "/information-request/"),
    ("post", "/reply/"),
    ("post", "/extension/"),
]
PAYLOAD = {"reason": "越权测试", "body": "越权测试", "reply": "越权测试", "working_days": 1}


@pytest.mark.parametrize(("method", "suffix"), ENDPOINTS)
def test_another_bureaus_appeal_is_invisible_on_every_endpoint(system, foreign, appeal, method, suffix, finance):
    _credential, api = system
    # Make the foreign appeal actionable for its own bureau, so only scoping can stop the call.
    finance_officer = factories.staff_user("officer", finance)
    if suffix not in ("/", "/sign-for/", "/return/"):
        from appeals import services

        services.appeal_sign_for(appeal_id=foreign.pk, user=finance_officer)
    before = Appeal.objects.get(pk=foreign.pk)
    response = getattr(api, method)(f"{BASE}/appeals/{foreign.pk}{suffix}", PAYLOAD, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    after = Appeal.objects.get(pk=foreign.pk)
    assert (after.state, after.version, after.first_contact_at) == (
        before.state,
        before.version,
        before.first_contact_at,
    )
    assert not PiiAccessLog.objects.filter(appeal=foreign).exists()
    listed = api.get(f"{BASE}/appeals/").json()["results"]
    assert foreign.pk not in {r["id"] for r in listed}


def test_a_cohandled_appeal_is_not_exposed_to_the_cohandling_bureau_system(appeal, finance, officer, system):
    """Console staff of a co-handling bureau may see it; a bureau system only gets its own bureau's tickets."""
    from appeals.models import CoHandling

    finance_officer = factories.staff_user("officer", finance)
    CoHandling.objects.create(appeal=appeal, bureau=finance, request="协助核实", invited_by=officer)
    _cred, key = make_credential(finance, finance_officer, name="金融局系统")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert api.get(f"{BASE}/appeals/{appeal.pk}/").status_code == 404
    assert api.get(f"{BASE}/appeals/").json()["results"] == []


def test_list_query_count_does_not_grow_with_the_page(city, system, django_assert_max_num_queries):
    _credential, api = system
    for _ in range(3):
        factories.submit(region=city)
    with django_assert_max_num_queries(12) as few:
        assert len(api.get(f"{BASE}/appeals/").json()["results"]) == 3
    for _ in range(12):
        factories.submit(region=city)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(api.get(f"{BASE}/appeals/").json()["results"]) == 15


def test_event_feed_replays_what_webhooks_send_without_any_endpoint(
    city, hrss, finance, system, dispatcher, officer, settings
):
    from datetime import timedelta

    from appeals.services import appeal_reroute
    from appeals.services.escalation import sweep_appeal

    _credential, api = system
    moved = factories.submit(region=city).appeal
    assert api.get(f"{BASE}/events/").json()["results"] == []  # too fresh: a late commit could still precede it
    settings.BUREAU_EVENTS_SETTLE_SECONDS = 0
    stays = factories.submit(region=city).appeal
    factories.submit(region=city, category=factories.category("financing"))  # finance's own: not in hrss's feed
    appeal_reroute(appeal_id=moved.pk, user=dispatcher, bureau_id=finance.pk, reason="属金融工作局职责")
    stays.refresh_from_db()
    sweep_appeal(stays.pk, now=stays.sign_for_due + timedelta(minutes=1))

    feed = api.get(f"{BASE}/events/").json()
    assert [(e["type"], e["appeal"]["id"]) for e in feed["results"]] == [
        ("appeal.dispatched", moved.pk),
        ("appeal.dispatched", stays.pk),
        ("appeal.rerouted", moved.pk),
        ("appeal.urged", stays.pk),
    ]
    assert feed["results"][2]["data"] == {"from_bureau_id": hrss.pk, "to_bureau_id": finance.pk}
    sequences = [e["sequence"] for e in feed["results"]]
    assert sequences == sorted(sequences) and feed["has_more"] is False
    page = api.get(f"{BASE}/events/", {"since": sequences[1], "limit": 1}).json()
    assert [e["sequence"] for e in page["results"]] == [sequences[2]] and page["has_more"] is True
    assert api.get(f"{BASE}/events/", {"since": "x"}).status_code == 400
