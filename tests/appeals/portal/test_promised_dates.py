"""One promised reply date: the confirmation page, e-mail, SMS, tracking page, console and API agree.

A request for help (求助: 10 working days to reply) filed on Friday 2026-09-18 at 20:30 (Asia/Shanghai).
The next day is a Saturday off, the Sunday after is a make-up working day (调休), Friday 2026-09-25
is the Mid-Autumn Festival and 10-01 to 10-07 the National Day holiday, with Saturday 10-10 a
make-up working day. Sign-for limit 1 working day (→ Sunday 09-20 20:30), then 10 working days
(09-21, 22, 23, 24, 28, 29, 30, 10-08, 09, 10): promised 2026-10-10 20:30. The officer signs on
Monday 09-21 at 10:00; ten working days from then would be 10-12 10:00, later than the promise,
so the officer's deadline is capped at the promise.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from appeals import services
from appeals.api.models import ApiClient
from appeals.models import Appeal
from notifications.backends.sms import LocmemSMSBackend
from notifications.tasks import redispatch
from routing import deadlines
from tests.appeals.portal.conftest import form_data

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
FILED = datetime(2026, 9, 18, 20, 30, tzinfo=SHANGHAI)
SIGNED = datetime(2026, 9, 21, 10, 0, tzinfo=SHANGHAI)
PROMISED = "2026-10-10 20:30"
HELP = "help"


@pytest.fixture(autouse=True)
def _locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_BACKEND = "notifications.backends.sms.LocmemSMSBackend"
    settings.NOTIFY_REDISPATCH_AFTER_SECONDS = 0
    LocmemSMSBackend.outbox.clear()


def test_promise_is_computed_on_the_working_day_calendar():
    promised = deadlines.promised_reply_deadline(at=FILED, urgent=False, appeal_type=HELP)
    assert deadlines.format_local(promised) == PROMISED
    from_signing = deadlines.sign_for_deadlines(at=SIGNED, urgent=False, appeal_type=HELP)["reply_due"]
    assert deadlines.format_local(from_signing) == "2026-10-12 10:00"
    capped = deadlines.officer_reply_deadline(signed_at=SIGNED, promised=promised, urgent=False, appeal_type=HELP)
    assert capped == promised


def test_every_place_shows_the_same_promised_date(client, portal_city, officer, settings):
    settings.TIME_ZONE = "UTC"  # the server's zone must not matter: dates are written in Asia/Shanghai
    with time_machine.travel(FILED, tick=False):
        response = client.post(
            reverse("portal:submit"), form_data(portal_city, contact_email="boss@example.com", appeal_type=HELP)
        )
        assert response.status_code == 302
        confirmation = client.get(response["Location"]).content.decode()
        appeal = Appeal.objects.latest("id")
        code = client.session["portal_access"][appeal.tracking_number]
        redispatch()
    assert deadlines.format_local(appeal.promised_reply_by) == PROMISED
    assert PROMISED in confirmation

    [email] = [m for m in mail.outbox if appeal.tracking_number in m.subject]
    assert PROMISED in email.body and PROMISED in email.alternatives[0][0]
    [sms] = [s for s in LocmemSMSBackend.outbox if appeal.tracking_number in s["text"] and "已受理" in s["text"]]
    assert PROMISED in sms["text"]

    with time_machine.travel(SIGNED, tick=False):
        services.appeal_sign_for(appeal_id=appeal.pk, user=officer)
    appeal.refresh_from_db()
    assert appeal.reply_due == appeal.promised_reply_by  # capped: never later than the promise

    # The appellant opens the tracking page with the number and access code (the real way in).
    appellant = Client()
    opened = appellant.post(reverse("portal:lookup"), {"tracking_number": appeal.tracking_number, "access_code": code})
    assert opened.status_code == 302
    tracking = appellant.get(opened["Location"]).content.decode()
    assert PROMISED in tracking

    staff = Client()
    staff.force_login(officer, backend="django.contrib.auth.backends.ModelBackend")
    console = staff.get(f"/staff/appeals/{appeal.pk}/").content.decode()
    assert 'id="promised-reply-by"' in console and PROMISED in console

    _api_client, key = ApiClient.create_with_key(name="小程序")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"ApiKey {key}")
    body = api.post(
        "/api/appeals/lookup/", {"tracking_number": appeal.tracking_number, "access_code": code}, format="json"
    ).json()
    assert deadlines.format_local(parse_datetime(body["deadline"])) == PROMISED


def test_api_submission_returns_the_stored_promise(portal_city):
    from tests.appeals.api.test_api import payload

    _client, key = ApiClient.create_with_key(name="小程序")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"ApiKey {key}")
    with time_machine.travel(FILED, tick=False):
        body = api.post("/api/appeals/", {**payload(portal_city), "appeal_type": HELP}, format="json").json()
    appeal = Appeal.objects.get(tracking_number=body["tracking_number"])
    assert parse_datetime(body["expected_reply_by"]) == appeal.promised_reply_by
    assert deadlines.format_local(appeal.promised_reply_by) == PROMISED
