"""The confirmation e-mail with the access code travels through the outbox, sealed, and is never lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from appeals.api.models import ApiClient
from appeals.models import Appeal
from notifications import sealing
from notifications.models import Delivery, OutboxEvent
from notifications.tasks import redispatch
from tests.appeals.portal.conftest import form_data

pytestmark = pytest.mark.django_db

SUBMIT = reverse("portal:submit")


@pytest.fixture(autouse=True)
def _locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_BACKEND = "notifications.backends.sms.LocmemSMSBackend"
    settings.NOTIFY_REDISPATCH_AFTER_SECONDS = 0


def _submit(client, city, **overrides) -> tuple[Appeal, str]:
    response = client.post(SUBMIT, form_data(city, contact_email="boss@example.com", **overrides))
    assert response.status_code == 302
    appeal = Appeal.objects.latest("id")
    return appeal, client.session["portal_access"][appeal.tracking_number]


def _confirmation_mails(code: str) -> list:
    return [m for m in mail.outbox if code in m.body]


def test_the_confirmation_is_an_outbox_row_with_the_code_sealed(client, portal_city):
    appeal, code = _submit(client, portal_city)
    row = OutboxEvent.objects.get(appeal=appeal, event_type="appeal.confirmation")
    assert code not in str(row.payload)
    assert sealing.unseal(row.payload["sealed_code"]) == code
    assert row.payload["tracking_number"] == appeal.tracking_number
    # Nothing was sent yet (no broker kick in tests): the row alone carries the e-mail.
    assert _confirmation_mails(code) == []


def test_a_lost_task_is_made_good_by_the_redispatch_and_the_code_is_wiped_after_sending(client, portal_city):
    appeal, code = _submit(client, portal_city)  # the delivery task is "lost": never queued
    redispatch()
    [message] = _confirmation_mails(code)
    assert message.to == ["boss@example.com"]
    assert appeal.tracking_number in message.subject
    assert code in message.alternatives[0][0]
    row = OutboxEvent.objects.get(appeal=appeal, event_type="appeal.confirmation")
    assert "sealed_code" not in row.payload
    assert Delivery.objects.get(event=row).status == Delivery.Status.SENT
    redispatch()  # exactly once
    assert len(_confirmation_mails(code)) == 1


def test_no_address_no_row(client, portal_city):
    client.post(SUBMIT, form_data(portal_city))
    assert not OutboxEvent.objects.filter(event_type="appeal.confirmation").exists()


def test_the_api_channel_queues_the_same_confirmation(portal_city):
    _client, key = ApiClient.create_with_key(name="小程序", channel=ApiClient.Channel.API)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"ApiKey {key}")
    body = {
        "enterprise_name": "佛山市测试电子有限公司",
        "credit_code": "91440101MA5CJQ4N59",
        "region": portal_city.code,
        "industry": "I",
        "enterprise_size": "micro",
        "contact_name": "陈工",
        "contact_phone": "13900139000",
        "contact_email": "chen@example.com",
        "category": "employment",
        "title": "社保补贴咨询",
        "description": "想了解新招应届生的社保补贴怎么申请。",
    }
    response = api.post("/api/appeals/", body, format="json")
    assert response.status_code == 201
    code = response.json()["access_code"]
    redispatch()
    [message] = _confirmation_mails(code)
    assert message.to == ["chen@example.com"]


def test_rotated_keys_still_open_codes_sealed_under_the_old_key(client, portal_city, settings):
    settings.OUTBOX_SEALING_KEYS = ["old-key"]
    _appeal, code = _submit(client, portal_city)
    settings.OUTBOX_SEALING_KEYS = ["new-key", "old-key"]
    redispatch()
    assert len(_confirmation_mails(code)) == 1
    # A key dropped from the list no longer opens anything.
    assert sealing.unseal(sealing.seal("X")) == "X"
    token = sealing.seal("Y")
    settings.OUTBOX_SEALING_KEYS = ["newest"]
    assert sealing.unseal(token) is None


def test_an_expired_code_is_a_dead_letter_and_is_wiped(client, portal_city, settings):
    settings.OUTBOX_SEALED_MAX_AGE_SECONDS = 3600
    appeal, code = _submit(client, portal_city)
    row = OutboxEvent.objects.get(appeal=appeal, event_type="appeal.confirmation")
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        redispatch()
    delivery = Delivery.objects.get(event=row)
    assert delivery.status == Delivery.Status.DEAD
    assert "no longer available" in delivery.last_error
    row.refresh_from_db()
    assert "sealed_code" not in row.payload
    assert _confirmation_mails(code) == []
