"""E-mail delivery against a real local SMTP server (aiosmtpd) that refuses mail."""

from __future__ import annotations

import socket

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from appeals.models import Appeal, AppealState
from notifications import delivery, tasks
from notifications.models import Delivery, OutboxEvent
from tests import factories

pytestmark = pytest.mark.django_db


class Handler:
    """Answers DATA with ``reply`` ("250 OK" accepts) and keeps what it accepted."""

    def __init__(self) -> None:
        self.reply = "451 4.3.0 Try again later"
        self.accepted: list[bytes] = []
        self.attempts = 0

    async def handle_DATA(self, server, session, envelope):
        self.attempts += 1
        if self.reply.startswith("250"):
            self.accepted.append(envelope.content)
        return self.reply


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(settings):
    handler = Handler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_TIMEOUT = 5
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    yield handler
    controller.stop()


def email_delivery(appeal) -> Delivery:
    return Delivery.objects.get(event__appeal=appeal, event__event_type="appeal.dispatched", channel="email")


def retry_until_settled(row: Delivery, limit: int = 10) -> Delivery:
    for _ in range(limit):
        row.refresh_from_db()
        if row.status in (Delivery.Status.SENT, Delivery.Status.DEAD):
            return row
        Delivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())  # skip the backoff wait
        tasks.redispatch()
    row.refresh_from_db()
    return row


def test_smtp_refusing_mail_retries_then_dead_letters_and_the_appeal_is_unaffected(hrss, officer, smtp_server):
    appeal = factories.submit(region=hrss.region, contact_email="boss@example.com").appeal
    tasks.process_event(OutboxEvent.objects.get(appeal=appeal, event_type="appeal.dispatched").pk)

    row = email_delivery(appeal)
    assert row.status == Delivery.Status.FAILED and row.attempts == 1
    assert "451" in row.last_error
    row = retry_until_settled(row)
    assert row.status == Delivery.Status.DEAD
    assert row.attempts == 3  # NOTIFY_MAX_ATTEMPTS in these tests
    assert smtp_server.attempts == 3
    assert smtp_server.accepted == []

    appeal = Appeal.objects.get(pk=appeal.pk)
    assert appeal.state == AppealState.DISPATCHED
    # Other channels of the same event were not held up by the mail server.
    assert Delivery.objects.get(
        event__appeal=appeal, event__event_type="appeal.dispatched", channel="inbox"
    ).status == (Delivery.Status.SENT)

    # The mail server recovers; the admin's retry sends the dead letter.
    smtp_server.reply = "250 OK"
    assert delivery.requeue([row.pk]) == [row.pk]
    tasks.retry_delivery(row.pk, force=True)
    row.refresh_from_db()
    assert row.status == Delivery.Status.SENT
    [message] = smtp_server.accepted
    assert appeal.tracking_number.encode() in message or b"=?utf-8?" in message


def test_smtp_permanent_rejection_is_a_dead_letter_at_once(hrss, smtp_server):
    smtp_server.reply = "554 5.7.1 Message rejected"
    appeal = factories.submit(region=hrss.region, contact_email="boss@example.com").appeal
    tasks.process_event(OutboxEvent.objects.get(appeal=appeal, event_type="appeal.dispatched").pk)
    row = email_delivery(appeal)
    assert (row.status, row.attempts) == (Delivery.Status.DEAD, 1)
    assert "554" in row.last_error


def test_smtp_server_down_is_retried(hrss, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()  # nothing listens here
    settings.EMAIL_TIMEOUT = 2
    appeal = factories.submit(region=hrss.region, contact_email="boss@example.com").appeal
    tasks.process_event(OutboxEvent.objects.get(appeal=appeal, event_type="appeal.dispatched").pk)
    row = email_delivery(appeal)
    assert row.status == Delivery.Status.FAILED
    assert "ConnectionRefused" in row.last_error
