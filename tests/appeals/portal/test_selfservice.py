"""Enterprise self-service: SMS one-time codes, the phone's list, access-code recovery, signed links."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from appeals import access_codes, services
from appeals.models import AppealEvent, PhoneChallenge
from appeals.services import selfservice
from notifications import delivery, links
from notifications.backends.sms import LocmemSMSBackend
from notifications.models import OutboxEvent
from tests import factories

pytestmark = pytest.mark.django_db

PHONE = "+8613800138000"
OTHER_PHONE = "+8613900139000"


@pytest.fixture(autouse=True)
def _sms_in_memory(settings):
    settings.SMS_BACKEND = "notifications.backends.sms.LocmemSMSBackend"
    settings.NOTIFY_KICK_DELIVERY = False
    LocmemSMSBackend.outbox = []
    yield
    LocmemSMSBackend.outbox = []


@pytest.fixture
def mine(portal_city):
    """Two appeals filed with PHONE (two enterprises) and one filed with another phone."""
    first = factories.submit(
        region=portal_city, title="电费补贴申请没有回音", contact_phone=PHONE, contact_name="王小明"
    )
    second = factories.submit(
        region=portal_city, title="出口退税进度", contact_phone=PHONE, credit_code="91440101MA5CJQ4N59"
    )
    other = factories.submit(region=portal_city, title="别人的诉求", contact_phone=OTHER_PHONE)
    return first, second, other


def deliver_pending() -> list[dict]:
    """Deliver every outbox row not yet processed (as the worker would); return the SMS sent."""
    for event_id in OutboxEvent.objects.filter(processed_at__isnull=True).values_list("id", flat=True):
        for delivery_id in delivery.expand_event(event_id):
            delivery.attempt_delivery(delivery_id)
    return list(LocmemSMSBackend.outbox)


def code_from_sms(to: str = PHONE) -> str:
    texts = [sms["text"] for sms in deliver_pending() if sms["to"] == to and "验证码" in sms["text"]]
    assert texts, LocmemSMSBackend.outbox
    return re.search(r"验证码 (\d{6})", texts[-1]).group(1)


def request_code(client, phone="138 0013 8000", credit_code=""):
    return client.post(reverse("portal:my_start"), {"contact_phone": phone, "credit_code": credit_code})


def sign_in(client, phone="138 0013 8000", credit_code=""):
    assert request_code(client, phone, credit_code).status_code == 302
    response = client.post(reverse("portal:my_verify"), {"code": code_from_sms()})
    assert response.status_code == 302 and response["Location"] == reverse("portal:my_appeals")
    return response


# --- The happy path and the grant's scope ------------------------------------------------------------


def test_code_opens_the_list_of_the_phones_appeals_only(client, mine):
    first, second, other = mine
    response = request_code(client)
    assert response.status_code == 302 and response["Location"] == reverse("portal:my_verify")
    page = client.get(reverse("portal:my_verify")).content.decode()
    assert "138****8000" in page.replace(" ", "")
    sign_in_response = client.post(reverse("portal:my_verify"), {"code": code_from_sms()})
    assert sign_in_response["Location"] == reverse("portal:my_appeals")
    html = client.get(reverse("portal:my_appeals")).content.decode()
    assert first.appeal.tracking_number in html and second.appeal.tracking_number in html
    assert other.appeal.tracking_number not in html and "别人的诉求" not in html
    assert "王小明" not in html and "王**" in html  # contact names masked
    # Each appeal opens without its access code ...
    status = client.get(reverse("portal:status", kwargs={"tracking_number": first.appeal.tracking_number}))
    assert status.status_code == 200 and "电费补贴申请没有回音" in status.content.decode()
    # ... but not another phone's appeal.
    denied = client.get(reverse("portal:status", kwargs={"tracking_number": other.appeal.tracking_number}))
    assert denied.status_code == 302 and denied["Location"] == reverse("portal:lookup")


def test_credit_code_narrows_the_list_to_one_enterprise(client, mine):
    first, second, _other = mine
    sign_in(client, credit_code="91440101ma5cjq4n59")
    html = client.get(reverse("portal:my_appeals")).content.decode()
    assert second.appeal.tracking_number in html and first.appeal.tracking_number not in html
    denied = client.get(reverse("portal:status", kwargs={"tracking_number": first.appeal.tracking_number}))
    assert denied.status_code == 302


def test_grant_allows_actions_through_the_services(client, mine):
    first, _second, _other = mine
    sign_in(client)
    url = reverse("portal:withdraw", kwargs={"tracking_number": first.appeal.tracking_number})
    response = client.post(url, {"reason": "已自行解决", "confirm": "on"})
    assert response.status_code == 302
    first.appeal.refresh_from_db()
    assert first.appeal.state == "withdrawn"


def test_grant_expires(client, mine, settings):
    first, _second, _other = mine
    sign_in(client)
    with time_machine.travel(
        timezone.now() + timedelta(seconds=settings.SELF_SERVICE["GRANT_SECONDS"] + 1), tick=False
    ):
        response = client.get(reverse("portal:my_appeals"))
        assert response.status_code == 302 and response["Location"] == reverse("portal:my_start")
        status = client.get(reverse("portal:status", kwargs={"tracking_number": first.appeal.tracking_number}))
        assert status.status_code == 302


def test_sign_out_ends_the_grant(client, mine):
    first, _second, _other = mine
    sign_in(client)
    assert client.post(reverse("portal:my_sign_out")).status_code == 302
    assert client.get(reverse("portal:my_appeals"))["Location"] == reverse("portal:my_start")
    status = client.get(reverse("portal:status", kwargs={"tracking_number": first.appeal.tracking_number}))
    assert status.status_code == 302


def test_session_key_changes_on_verification(client, mine):
    request_code(client)
    before = client.session.session_key
    client.post(reverse("portal:my_verify"), {"code": code_from_sms()})
    assert client.session.session_key != before


# --- Codes: wrong, expired, single use, lockout --------------------------------------------------------


def test_wrong_codes_count_down_then_the_code_dies(client, mine, settings):
    request_code(client)
    code = code_from_sms()
    wrong = "000000" if code != "000000" else "111111"
    for left in range(settings.SELF_SERVICE["CODE_MAX_ATTEMPTS"] - 1, 0, -1):
        response = client.post(reverse("portal:my_verify"), {"code": wrong})
        assert response.status_code == 400
        assert response.context["form"].errors["code"] == [
            f"验证码不正确，还可以再试{left}次。请对照最新一条短信填写。"
        ]
    last = client.post(reverse("portal:my_verify"), {"code": wrong})
    assert "验证码输错的次数太多" in last.context["form"].non_field_errors()[0]
    # Even the right code no longer works.
    response = client.post(reverse("portal:my_verify"), {"code": code})
    assert response.status_code == 400 and "验证码输错的次数太多" in response.context["form"].non_field_errors()[0]
    assert client.get(reverse("portal:my_appeals")).status_code == 302


def test_repeated_failures_lock_out_the_phone(client, mine, settings):
    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "otp_fail_phone": "3/h", "otp_fail_ip": "100/h"}
    request_code(client)
    code = code_from_sms()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(3):
        assert client.post(reverse("portal:my_verify"), {"code": wrong}).status_code == 400
    locked = client.post(reverse("portal:my_verify"), {"code": code})
    assert locked.status_code == 429 and "Retry-After" in locked
    assert "验证已暂时锁定" in locked.context["form"].non_field_errors()[0]
    # A new code from another address does not lift the phone's lockout.
    other = client.__class__(REMOTE_ADDR="10.9.9.9")
    request_code(other)
    fresh = code_from_sms()
    assert other.post(reverse("portal:my_verify"), {"code": fresh}).status_code == 429


def test_repeated_failures_lock_out_the_address(client, mine, settings, portal_city):
    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "otp_fail_phone": "100/h", "otp_fail_ip": "2/h"}
    factories.submit(region=portal_city, contact_phone="+8613700137000")
    request_code(client)
    code = code_from_sms()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(2):
        client.post(reverse("portal:my_verify"), {"code": wrong})
    # Another number from the same address is locked too.
    request_code(client, phone="13700137000")
    other_code = code_from_sms("+8613700137000")
    assert client.post(reverse("portal:my_verify"), {"code": other_code}).status_code == 429


def test_codes_expire(client, mine, settings):
    request_code(client)
    code = code_from_sms()
    with time_machine.travel(
        timezone.now() + timedelta(seconds=settings.SELF_SERVICE["CODE_TTL_SECONDS"] + 1), tick=False
    ):
        response = client.post(reverse("portal:my_verify"), {"code": code})
    assert response.status_code == 400
    assert response.context["form"].non_field_errors() == ["验证码已过期，请重新获取。"]


def test_codes_work_once(client, mine):
    request_code(client)
    challenge_id = client.session["portal_challenge"]["id"]
    code = code_from_sms()
    assert selfservice.phone_challenge_verify(challenge_id=challenge_id, phone=PHONE, code=code).ok
    again = selfservice.phone_challenge_verify(challenge_id=challenge_id, phone=PHONE, code=code)
    assert again.outcome == "used"


def test_a_challenge_cannot_be_replayed_for_another_number(client, mine):
    request_code(client)
    challenge_id = client.session["portal_challenge"]["id"]
    code = code_from_sms()
    result = selfservice.phone_challenge_verify(challenge_id=challenge_id, phone=OTHER_PHONE, code=code)
    assert not result.ok


def test_bad_input_is_refused_in_the_users_language_and_changes_nothing(client, mine):
    response = request_code(client, phone="12345")
    assert response.status_code == 400 and "电话号码" in str(response.context["form"].errors["contact_phone"])
    response = request_code(client, phone="020-12345678")
    assert "验证码只能发送到手机" in response.context["form"].errors["contact_phone"][0]
    response = request_code(client, credit_code="91350203M0001QAY9B")
    assert "校验码不正确" in response.context["form"].errors["credit_code"][0]
    assert PhoneChallenge.objects.count() == 0 and not OutboxEvent.objects.filter(event_type="selfservice.code")
    request_code(client)
    response = client.post(reverse("portal:my_verify"), {"code": "12ab"})
    assert response.status_code == 400 and response.context["form"].errors["code"] == [
        "验证码是6位数字，请对照短信重新填写。"
    ]
    assert PhoneChallenge.objects.get().attempts == 0
    english = client.post(reverse("portal:my_verify"), {"code": "12ab"}, HTTP_ACCEPT_LANGUAGE="en")
    html = english.content.decode()
    assert english.status_code == 400 and ("6 digits" in html or "six digits" in html)


# --- No enumeration, rate limits -----------------------------------------------------------------------


def test_unknown_numbers_get_the_same_answer_and_no_sms(client, mine):
    known = request_code(client)
    known_page = client.get(known["Location"]).content.decode()
    stranger = client.__class__()
    unknown = request_code(stranger, phone="13600136000")
    unknown_page = stranger.get(unknown["Location"]).content.decode()
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    normalise = lambda html: re.sub(r"csrfmiddlewaretoken\" value=\"[^\"]+\"|1\d\d\*+\d{4}|\d{3} \*+ \d{4}", "", html)  # noqa: E731
    assert normalise(known_page) == normalise(unknown_page)
    sent = deliver_pending()
    assert [sms["to"] for sms in sent if "验证码" in sms["text"]] == [PHONE]
    # Guessing on an unknown number's challenge never succeeds and reads exactly like a wrong code.
    response = stranger.post(reverse("portal:my_verify"), {"code": "123456"})
    assert response.status_code == 400 and "验证码不正确，还可以再试4次" in response.context["form"].errors["code"][0]


def test_sends_are_limited_per_phone(client, mine, settings):
    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "otp_send_phone": "2/h", "otp_send_ip": "100/h"}
    for _ in range(2):
        assert request_code(client).status_code == 302
    other_address = client.__class__(REMOTE_ADDR="10.1.2.3")
    response = request_code(other_address)
    assert response.status_code == 429 and "这个号码获取验证码的次数已达上限" in response.content.decode()
    # An unknown number is limited in exactly the same way.
    for _ in range(2):
        request_code(client, phone="13600136000")
    assert request_code(other_address, phone="13600136000").status_code == 429


def test_sends_are_limited_per_address(client, mine, settings):
    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "otp_send_ip": "2/h"}
    assert request_code(client).status_code == 302
    assert request_code(client, phone="13600136000").status_code == 302
    response = request_code(client, phone="13500135000")
    assert response.status_code == 429 and "操作太频繁了" in response.content.decode()


# --- Secrets: never in logs, never in clear in the database --------------------------------------------


def test_code_is_never_logged_nor_stored_in_clear(client, mine, caplog):
    caplog.set_level(logging.DEBUG)
    request_code(client)
    row = OutboxEvent.objects.get(event_type="selfservice.code")
    code = code_from_sms()
    challenge = PhoneChallenge.objects.get()
    stored = " ".join(str(value) for value in PhoneChallenge.objects.values().get().values())
    assert code not in stored and "13800138000" not in stored
    assert challenge.code_hash and len(challenge.code_hash) == 64
    assert code not in str(row.payload)
    row.refresh_from_db()
    assert "sealed_code" not in row.payload  # wiped once the SMS went out
    client.post(reverse("portal:my_verify"), {"code": code})
    assert code not in caplog.text
    assert all(code not in record.getMessage() for record in caplog.records)


def test_admin_never_shows_the_code_or_the_phone(admin_client, client, mine):
    request_code(client)
    code = code_from_sms()
    challenge = PhoneChallenge.objects.get()
    html = admin_client.get(reverse("admin:appeals_phonechallenge_change", args=[challenge.pk])).content.decode()
    assert code not in html and challenge.code_hash not in html and challenge.phone_digest not in html
    listing = admin_client.get(reverse("admin:appeals_phonechallenge_changelist")).content.decode()
    assert challenge.code_hash not in listing


def test_purge_deletes_old_challenges(client, mine):
    request_code(client)
    with time_machine.travel(timezone.now() + timedelta(days=2), tick=False):
        from appeals.tasks import purge_phone_challenges

        assert purge_phone_challenges() == 1
    assert not PhoneChallenge.objects.exists()


# --- Access-code recovery ------------------------------------------------------------------------------


def test_recovery_rotates_the_code_audits_and_texts_the_new_one(client, mine):
    first, _second, _other = mine
    old_link = links.appeal_link(first.appeal)
    sign_in(client)
    LocmemSMSBackend.outbox = []
    response = client.post(reverse("portal:my_new_code", kwargs={"tracking_number": first.appeal.tracking_number}))
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "新查询码已通过短信发送到" in page
    [sms] = [sms for sms in deliver_pending() if "新查询码" in sms["text"]]
    new_code = re.search(r"新查询码为 ([A-Z0-9]{8})", sms["text"]).group(1)
    assert new_code not in page  # never shown on screen
    first.appeal.refresh_from_db()
    assert access_codes.check_access_code(first.appeal.tracking_number, new_code, first.appeal.access_code_hash)
    assert not access_codes.check_access_code(
        first.appeal.tracking_number, first.access_code, first.appeal.access_code_hash
    )
    event = AppealEvent.objects.filter(appeal=first.appeal).order_by("-seq").first()
    assert event.kind == "access_code_reset" and event.actor_kind == "appellant"
    row = OutboxEvent.objects.get(event_type="appeal.access_code_reset")
    assert new_code not in str(row.payload)
    # The old code no longer opens the appeal; the old link is revoked.
    stranger = client.__class__()
    lookup = stranger.post(
        reverse("portal:lookup"), {"tracking_number": first.appeal.tracking_number, "access_code": first.access_code}
    )
    assert lookup.status_code == 400
    revoked = stranger.get(_path(old_link))
    assert revoked.status_code == 410


def test_recovery_refuses_another_phones_appeal(client, mine):
    _first, _second, other = mine
    sign_in(client)
    before = other.appeal.access_code_hash
    response = client.post(reverse("portal:my_new_code", kwargs={"tracking_number": other.appeal.tracking_number}))
    assert response.status_code == 302
    other.appeal.refresh_from_db()
    assert other.appeal.access_code_hash == before
    with pytest.raises(services.NotAllowed):
        services.appeal_reset_access_code(appeal_id=other.appeal.pk, verified_phone=PHONE, language="zh-hans")


def test_recovery_needs_a_grant(client, mine):
    first, _second, _other = mine
    response = client.post(reverse("portal:my_new_code", kwargs={"tracking_number": first.appeal.tracking_number}))
    assert response["Location"] == reverse("portal:my_start")
    assert not AppealEvent.objects.filter(kind="access_code_reset").exists()


# --- Signed links --------------------------------------------------------------------------------------


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_signed_link_opens_the_appeal_and_its_actions(client, mine):
    first, _second, _other = mine
    response = client.get(_path(links.appeal_link(first.appeal)))
    status_url = reverse("portal:status", kwargs={"tracking_number": first.appeal.tracking_number})
    assert response.status_code == 302 and response["Location"] == status_url
    assert "电费补贴申请没有回音" in client.get(status_url).content.decode()
    withdraw = client.post(
        reverse("portal:withdraw", kwargs={"tracking_number": first.appeal.tracking_number}),
        {"reason": "", "confirm": "on"},
    )
    assert withdraw.status_code == 302
    first.appeal.refresh_from_db()
    assert first.appeal.state == "withdrawn"


def test_signed_link_is_short_enough_for_sms(mine):
    first, _second, _other = mine
    assert len(_path(links.appeal_link(first.appeal))) <= 80


def test_expired_link_offers_the_sms_code(client, mine, settings):
    first, _second, _other = mine
    path = _path(links.appeal_link(first.appeal))
    with time_machine.travel(
        timezone.now() + timedelta(days=settings.SELF_SERVICE["LINK_MAX_AGE_DAYS"], seconds=5), tick=False
    ):
        response = client.get(path)
    assert response.status_code == 410
    html = response.content.decode()
    assert "链接已过期" in html and reverse("portal:my_start") in html


def test_tampered_link_is_refused(client, mine):
    first, _second, other = mine
    token = links.make_token(first.appeal.pk, first.appeal.access_code_hash)
    value, _ts, _signature = token.split(":")
    forged = token.replace(value, f"{other.appeal.pk:x}.{value.split('.')[1]}", 1)
    for bad in (forged, token[:-2] + ("AA" if not token.endswith("AA") else "BB"), "nonsense"):
        response = client.get(reverse("portal:link", kwargs={"token": bad}))
        assert response.status_code == 400 and "链接不完整或已被改动" in response.content.decode()
    assert (
        client.get(reverse("portal:status", kwargs={"tracking_number": other.appeal.tracking_number})).status_code
        == 302
    )
    with pytest.raises(links.LinkInvalid):
        links.read_token(signing.TimestampSigner(salt="another").sign("1.abcdefgh"))


def test_rotation_revokes_links_and_sessions_opened_by_them(client, mine):
    first, _second, _other = mine
    path = _path(links.appeal_link(first.appeal))
    status_url = reverse("portal:status", kwargs={"tracking_number": first.appeal.tracking_number})
    assert client.get(path)["Location"] == status_url
    services.appeal_reset_access_code(appeal_id=first.appeal.pk, verified_phone=PHONE, language="zh-hans")
    assert client.get(status_url).status_code == 302  # the session's link access is gone
    response = client.get(path)
    assert response.status_code == 410 and "查询码已经重新发放" in response.content.decode()


def test_english_pages(client, mine):
    response = client.get(reverse("portal:my_start"), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert "My company" in html and "验证码" not in html
