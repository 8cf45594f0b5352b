"""Outbox expansion, recipients, preferences, templates, retries and dead letters."""

from __future__ import annotations

import re
import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from appeals import services
from notifications import delivery, links, outbox, tasks
from notifications.backends.sms import LocmemSMSBackend, SMSError, TransientSMSError
from notifications.models import Delivery, InboxItem, NotificationPreference, NotificationSettings, OutboxEvent
from tests import factories


def _linked_appeal(text: str) -> int:
    """The appeal a signed link in ``text`` opens (the message links to the appeal itself)."""
    match = re.search(r"/t/([^/\s]+)/", text)
    assert match, text
    return links.read_token(match.group(1)).appeal_id


pytestmark = pytest.mark.django_db
S = Delivery.Status


def event_of(appeal, event_type) -> OutboxEvent:
    return OutboxEvent.objects.get(appeal=appeal, event_type=event_type)


def test_dispatch_reaches_bureau_inbox_and_appellant_by_email_and_sms(hrss, officer, lead, finance):
    factories.staff_user("officer", finance)  # another bureau: must not hear about it
    appeal = factories.submit(region=hrss.region, contact_email="boss@example.com").appeal
    event = event_of(appeal, "appeal.dispatched")

    sent = tasks.process_event(event.pk)

    rows = set(Delivery.objects.filter(event=event).values_list("recipient_key", "channel", "status"))
    assert rows == {
        (f"user:{officer.pk}", "inbox", "sent"),
        (f"user:{lead.pk}", "inbox", "sent"),
        ("appellant", "email", "sent"),
        ("appellant", "sms", "sent"),
    }
    assert sent == 4
    item = InboxItem.objects.get(user=officer)
    assert appeal.tracking_number in item.title + item.body
    assert item.url.endswith(f"/{appeal.pk}/")
    [email] = mail.outbox
    assert email.to == ["boss@example.com"]
    # The appellant's link opens the appeal directly (signed, expiring: notifications.links).
    assert _linked_appeal(email.body) == appeal.pk and appeal.tracking_number in email.body
    assert hrss.name in email.body
    [sms] = LocmemSMSBackend.outbox
    assert sms["to"] == appeal.contact_phone and _linked_appeal(sms["text"]) == appeal.pk
    event.refresh_from_db()
    assert event.processed_at is not None


def test_access_code_never_appears_in_notifications(hrss, officer):
    submitted = factories.submit(region=hrss.region, contact_email="boss@example.com")
    for event in OutboxEvent.objects.filter(appeal=submitted.appeal):
        tasks.process_event(event.pk)
    texts = [m.body + m.subject for m in mail.outbox] + [s["text"] for s in LocmemSMSBackend.outbox]
    assert texts
    assert all(submitted.access_code not in text for text in texts)


def test_processing_twice_delivers_once(hrss, officer):
    appeal = factories.submit(region=hrss.region, contact_email="boss@example.com").appeal
    event = event_of(appeal, "appeal.dispatched")
    tasks.process_event(event.pk)
    # Simulate a re-dispatch that races the first task and finds the row unprocessed.
    OutboxEvent.objects.filter(pk=event.pk).update(processed_at=None)
    assert tasks.process_event(event.pk) == 0
    assert Delivery.objects.filter(event=event).count() == 3  # officer inbox, appellant e-mail and SMS
    assert InboxItem.objects.filter(user=officer).count() == 1
    assert len(mail.outbox) == 1
    assert len(LocmemSMSBackend.outbox) == 1


def test_a_claimed_delivery_is_not_sent_by_a_second_worker(hrss, officer):
    appeal = factories.submit(region=hrss.region).appeal
    [delivery_id] = delivery.expand_event(event_of(appeal, "appeal.dispatched").pk)[:1]
    assert delivery.claim(delivery_id) is True
    assert delivery.claim(delivery_id) is False
    assert delivery.attempt_delivery(delivery_id) is None


def test_preferences_switch_channels_on_and_off(hrss, officer, lead):
    officer.email = "officer@example.com"
    officer.save()
    NotificationPreference.objects.create(user=officer, event_type="appeal.dispatched", channel="email", enabled=True)
    NotificationPreference.objects.create(user=lead, event_type="appeal.dispatched", channel="inbox", enabled=False)
    NotificationSettings.objects.create(user=officer, language="en")
    appeal = factories.submit(region=hrss.region).appeal
    tasks.process_event(event_of(appeal, "appeal.dispatched").pk)

    assert not InboxItem.objects.filter(user=lead).exists()
    [email] = [m for m in mail.outbox if m.to == ["officer@example.com"]]
    assert email.subject == "[Huying] New appeal for your bureau"
    assert "has been dispatched to your bureau" in email.body
    item = InboxItem.objects.get(user=officer)
    assert item.title == "New appeal for your bureau"


def test_chinese_is_the_default_language(hrss, officer):
    appeal = factories.submit(region=hrss.region).appeal
    tasks.process_event(event_of(appeal, "appeal.dispatched").pk)
    item = InboxItem.objects.get(user=officer)
    assert item.title == "新诉求派至本单位"
    assert "签收" in item.body


@pytest.mark.parametrize(
    ("event_type", "audience"),
    [
        ("appeal.review_requested", "lead"),
        ("extension.requested", "dispatcher"),
        ("appeal.returned", "dispatcher"),
        ("deadline.supervised", "supervisor"),
        ("report.ready", "manager"),
    ],
)
def test_each_event_reaches_its_audience(event_type, audience, hrss, officer, lead, dispatcher):
    supervisor = factories.staff_user("supervisor", None)
    manager = factories.staff_user("manager", None)
    expected = {"lead": lead, "dispatcher": dispatcher, "supervisor": supervisor, "manager": manager}[audience]
    appeal = factories.submit(region=hrss.region).appeal
    event = outbox.emit(event_type, appeal=appeal if event_type != "report.ready" else None)
    tasks.process_event(event.pk)
    users = set(InboxItem.objects.filter(event_type=event_type).values_list("user_id", flat=True))
    assert expected.pk in users
    if audience in ("dispatcher", "manager"):
        assert officer.pk not in users


def test_extension_refusal_is_not_sent_to_the_appellant_but_approval_is(hrss, officer, dispatcher):
    appeal = factories.submit(region=hrss.region, contact_email="boss@example.com").appeal
    services.appeal_sign_for(appeal_id=appeal.pk, user=officer)
    ext = services.extension_request(appeal_id=appeal.pk, user=officer, reason="需要多部门会商", working_days=3)
    services.extension_decide(extension_id=ext.pk, user=dispatcher, approve=False)
    refused = OutboxEvent.objects.filter(event_type="extension.decided").last()
    tasks.process_event(refused.pk)
    assert set(Delivery.objects.filter(event=refused).values_list("recipient_key", flat=True)) == {f"user:{officer.pk}"}
    assert "未获批准" in InboxItem.objects.get(user=officer, event_type="extension.decided").body

    ext = services.extension_request(appeal_id=appeal.pk, user=officer, reason="需要多部门会商", working_days=3)
    services.extension_decide(extension_id=ext.pk, user=dispatcher, approve=True)
    approved = OutboxEvent.objects.filter(event_type="extension.decided").last()
    tasks.process_event(approved.pk)
    assert Delivery.objects.filter(event=approved, recipient_key="appellant", channel="email").exists()
    assert any("延长至" in m.body for m in mail.outbox)


def test_transient_failures_retry_with_backoff_then_dead_letter(hrss, officer, monkeypatch, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 3
    calls = []

    def flaky(self, *, to, text):
        calls.append(to)
        raise TransientSMSError("provider timeout")

    monkeypatch.setattr(LocmemSMSBackend, "send", flaky)
    appeal = factories.submit(region=hrss.region).appeal
    tasks.process_event(event_of(appeal, "appeal.submitted").pk)
    row = Delivery.objects.get(channel="sms", event__event_type="appeal.submitted")
    assert (row.status, row.attempts) == (S.FAILED, 1)
    assert "provider timeout" in row.last_error
    first_wait = row.next_attempt_at - timezone.now()
    assert timedelta(seconds=25) < first_wait <= timedelta(seconds=30)

    assert tasks.redispatch()["deliveries"] == 0  # not due yet
    Delivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    tasks.redispatch()
    row.refresh_from_db()
    assert (row.status, row.attempts) == (S.FAILED, 2)
    second_wait = row.next_attempt_at - timezone.now()
    assert timedelta(seconds=55) < second_wait <= timedelta(seconds=60)  # doubled

    Delivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    tasks.redispatch()
    row.refresh_from_db()
    assert (row.status, row.attempts) == (S.DEAD, 3)
    assert len(calls) == 3
    Delivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    tasks.redispatch()
    assert len(calls) == 3  # dead letters stay dead until someone retries them


def test_permanent_failure_is_dead_at_once(hrss, monkeypatch):
    def refuse(self, *, to, text):
        raise SMSError("invalid number")

    monkeypatch.setattr(LocmemSMSBackend, "send", refuse)
    appeal = factories.submit(region=hrss.region).appeal
    tasks.process_event(event_of(appeal, "appeal.submitted").pk)
    row = Delivery.objects.get(channel="sms", event__event_type="appeal.submitted")
    assert (row.status, row.attempts) == (S.DEAD, 1)


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (smtplib.SMTPServerDisconnected("gone"), True),
        (smtplib.SMTPDataError(451, b"try later"), True),
        (smtplib.SMTPDataError(554, b"rejected"), False),
        (smtplib.SMTPRecipientsRefused({"a@b": (450, b"busy")}), True),
        (smtplib.SMTPRecipientsRefused({"a@b": (550, b"no such user")}), False),
        (ConnectionRefusedError(), True),
        (TimeoutError(), True),
        (ValueError("bug"), False),
    ],
)
def test_transient_error_classification(exc, transient):
    assert delivery.is_transient(exc) is transient


def test_redispatch_picks_up_events_whose_task_was_lost(hrss, officer, settings):
    appeal = factories.submit(region=hrss.region).appeal
    OutboxEvent.objects.filter(appeal=appeal).update(created_at=timezone.now() - timedelta(minutes=5))
    result = tasks.redispatch()
    assert result["events"] == 2
    assert InboxItem.objects.filter(user=officer, appeal=appeal).count() == 1
    assert not OutboxEvent.objects.filter(processed_at__isnull=True).exists()
    assert tasks.redispatch()["events"] == 0


def test_redispatch_leaves_fresh_events_to_their_task(hrss, officer):
    factories.submit(region=hrss.region)
    assert tasks.redispatch()["events"] == 0


def test_redispatch_recovers_a_delivery_whose_sender_died(hrss, officer):
    appeal = factories.submit(region=hrss.region).appeal
    ids = delivery.expand_event(event_of(appeal, "appeal.dispatched").pk)
    assert delivery.claim(ids[0])  # then the worker "dies"
    Delivery.objects.filter(pk=ids[0]).update(claimed_until=timezone.now() - timedelta(seconds=1))
    tasks.redispatch()
    assert Delivery.objects.get(pk=ids[0]).status == S.SENT


def test_emit_kicks_the_task_after_commit_only(hrss, settings, monkeypatch, django_capture_on_commit_callbacks):
    """A submission's outbox rows leave in one broker message, and only after commit."""
    settings.NOTIFY_KICK_DELIVERY = True
    queued = []
    monkeypatch.setattr(tasks.process_event, "apply_async", lambda args, **kw: queued.append([args[0]]))
    monkeypatch.setattr(tasks.process_events, "apply_async", lambda args, **kw: queued.append(list(args[0])))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        appeal = factories.submit(region=hrss.region).appeal
    assert queued == []  # nothing leaves the transaction before commit
    for callback in callbacks:
        callback()
    assert len(queued) == 1
    assert sorted(queued[0]) == sorted(OutboxEvent.objects.filter(appeal=appeal).values_list("pk", flat=True))
    assert len(queued[0]) == 2  # appeal.submitted + appeal.dispatched


def test_a_batch_skips_rows_whose_savepoint_rolled_back(
    hrss, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from django.db import transaction

    settings.NOTIFY_KICK_DELIVERY = True
    queued = []
    monkeypatch.setattr(tasks.process_event, "apply_async", lambda args, **kw: queued.append([args[0]]))
    monkeypatch.setattr(tasks.process_events, "apply_async", lambda args, **kw: queued.append(list(args[0])))
    appeal = factories.submit(region=hrss.region).appeal
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic(), outbox.batched():
        kept = outbox.emit("appeal.assigned", appeal=appeal)
        try:
            with transaction.atomic():
                outbox.emit("appeal.returned", appeal=appeal)
                raise RuntimeError("the inner step fails")
        except RuntimeError:
            pass
        also_kept = outbox.emit("appeal.replied", appeal=appeal)
    assert queued == [[kept.pk, also_kept.pk]]


def test_emit_outside_a_batch_kicks_its_own_task(hrss, settings, monkeypatch, django_capture_on_commit_callbacks):
    settings.NOTIFY_KICK_DELIVERY = True
    queued = []
    monkeypatch.setattr(tasks.process_event, "apply_async", lambda args, **kw: queued.append(args[0]))
    appeal = factories.submit(region=hrss.region).appeal
    with django_capture_on_commit_callbacks(execute=True):
        event = outbox.emit("appeal.assigned", appeal=appeal)
    assert queued == [event.pk]


def test_process_events_expands_every_row(hrss):
    appeal = factories.submit(region=hrss.region, contact_email="a@example.com").appeal
    ids = list(OutboxEvent.objects.filter(appeal=appeal).order_by("pk").values_list("pk", flat=True))
    tasks.process_events.run(ids)
    assert not OutboxEvent.objects.filter(pk__in=ids, processed_at__isnull=True).exists()


def test_broker_down_at_commit_is_logged_and_the_appeal_is_saved(
    hrss, settings, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    settings.NOTIFY_KICK_DELIVERY = True
    monkeypatch.setattr(outbox, "_broker_down_until", 0.0)

    attempts = []

    def broker_down(*args, **kwargs):
        attempts.append(args)
        raise ConnectionRefusedError("broker unreachable")

    monkeypatch.setattr(tasks.process_event, "apply_async", broker_down)
    monkeypatch.setattr(tasks.process_events, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        submitted = factories.submit(region=hrss.region)
    assert submitted.appeal.pk
    assert "periodic re-dispatch" in caplog.text
    assert OutboxEvent.objects.filter(appeal=submitted.appeal, processed_at__isnull=True).count() == 2
    # One failed publish opens the circuit: the next request does not wait on the broker.
    with django_capture_on_commit_callbacks(execute=True):
        factories.submit(region=hrss.region)
    assert len(attempts) == 1


def test_file_sms_backend_appends_json_lines(tmp_path, settings):
    import json

    from notifications.backends.sms import FileSMSBackend

    settings.SMS_FILE_PATH = tmp_path / "sms"
    backend = FileSMSBackend()
    first = backend.send(to="+8613800138000", text="您好")
    backend.send(to="+8613800138001", text="second")
    [path] = (tmp_path / "sms").iterdir()
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [(line["to"], line["text"]) for line in lines] == [("+8613800138000", "您好"), ("+8613800138001", "second")]
    assert lines[0]["id"] == first


def test_every_catalogue_event_renders_in_both_languages(hrss, officer):
    """A template per event and channel, in Chinese and English, for every audience it has."""
    from notifications import catalogue, sealing

    appeal = factories.submit(region=hrss.region, contact_email="a@example.com").appeal
    for event_type, spec in catalogue.EVENTS.items():
        payload = {"approved": True, "sealed_code": sealing.seal("ABCD2345")}
        event = OutboxEvent.objects.create(event_type=event_type, appeal=appeal, payload=payload)
        combos = [("user:1", ch) for ch in spec.staff_channels if spec.audiences] + [
            ("appellant", ch) for ch in spec.appellant
        ]
        for key, channel in combos:
            for lang in ("zh-hans", "en"):
                row = Delivery(event=event, channel=channel, recipient_key=key, language=lang)
                subject, body = delivery.render(row)
                assert body, (event_type, key, channel, lang)
                if channel != "sms":
                    assert subject, (event_type, key, channel, lang)
                names = (appeal.title, appeal.contact_name, hrss.name)
                text = subject + body
                for name in names:
                    text = text.replace(name, "")
                has_cjk = any("\u4e00" <= ch <= "\u9fff" for ch in text)
                if lang == "en":
                    assert not has_cjk, (event_type, channel, body)
                else:
                    assert has_cjk, (event_type, channel, body)


def test_assignment_reaches_only_the_assigned_officer(hrss, officer, lead):
    colleague = factories.staff_user("officer", hrss)
    officer.email = "officer@example.com"
    officer.save()
    appeal = factories.submit(region=hrss.region).appeal
    event = outbox.emit("appeal.assigned", appeal=appeal, payload={"officer_id": officer.pk, "mode": "round_robin"})
    tasks.process_event(event.pk)
    assert set(Delivery.objects.filter(event=event).values_list("recipient_key", "channel")) == {
        (f"user:{officer.pk}", "inbox"),
        (f"user:{officer.pk}", "email"),
    }
    assert not InboxItem.objects.filter(user=colleague, event_type="appeal.assigned").exists()
    assert "已分派给您" in InboxItem.objects.get(user=officer, event_type="appeal.assigned").body
