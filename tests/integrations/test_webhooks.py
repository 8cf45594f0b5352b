"""Webhooks: fan-out from the outbox, signatures verified by a real local receiver, outages, dead letters."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from appeals import services
from appeals.models import Appeal, RatingLevel
from appeals.services import appeal_reroute
from appeals.services.escalation import sweep_appeal
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.webhooks import sender, signing, targets
from notifications import outbox
from notifications.delivery import expand_event
from notifications.models import OutboxEvent
from notifications.tasks import redispatch
from tests import factories

pytestmark = pytest.mark.django_db(transaction=False)
S = WebhookDelivery.Status


def expand_all() -> None:
    """What the notification worker does: expand every new outbox event (webhook fan-out included)."""
    for event_id in OutboxEvent.objects.filter(processed_at__isnull=True).order_by("id").values_list("id", flat=True):
        expand_event(event_id)


def drain(max_runs: int = 50) -> None:
    for _ in range(max_runs):
        sender.deliver_due()
        if not WebhookDelivery.objects.filter(status__in=sender.UNFINISHED).exists():
            return


# --- Signatures -------------------------------------------------------------------------------------


def test_signature_round_trip_and_replay_window():
    body = b'{"id":"evt_1"}'
    headers = signing.headers(secret="whsec_x", event_id="evt_1", body=body, timestamp=1_000_000)
    stamp, signature = headers[signing.TIMESTAMP_HEADER], headers[signing.SIGNATURE_HEADER]
    assert signature.startswith("v1=")
    ok = {"secret": "whsec_x", "body": body, "timestamp": stamp, "signature_header": signature}
    assert signing.verify(**ok, now=1_000_010)
    assert not signing.verify(**{**ok, "secret": "whsec_y"}, now=1_000_010)
    assert not signing.verify(**{**ok, "body": body + b" "}, now=1_000_010)
    assert not signing.verify(**{**ok, "timestamp": "1000001"}, now=1_000_010)  # signed with another time
    assert not signing.verify(**ok, now=1_000_000 + signing.REPLAY_WINDOW_SECONDS + 1)  # a replay, too late
    assert not signing.verify(**{**ok, "timestamp": "soon"}, now=1_000_010)


# --- Target validation --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://172.16.5.4/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_internal_targets_are_refused_in_production(settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    with pytest.raises(ValidationError) as caught:
        targets.check_url(url)
    assert caught.value.code == "private"
    targets.check_url(url, allow_private=True)  # an administrator's explicit exception
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    targets.check_url(url)


@pytest.mark.parametrize("url", ["ftp://example.com/x", "javascript:alert(1)", "http://user:pw@8.8.8.8/x", "/relative"])
def test_malformed_targets_are_refused(url):
    with pytest.raises(ValidationError):
        targets.check_url(url, allow_private=True)


def test_public_ip_literal_is_accepted(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    targets.check_url("https://8.8.8.8/hook")


def test_sending_rechecks_the_target(settings, endpoint, receiver, city, hrss):
    """A host re-pointed to an internal address after it was saved is refused at send time."""
    receiver.start()
    factories.submit(region=city)
    expand_all()
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    sender.deliver_due()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == S.FAILED
    assert "内网" in delivery.last_error
    assert receiver.received == []


# --- Fan-out: which events reach which bureau ------------------------------------------------------------


@pytest.fixture
def finance_endpoint(finance, receiver):
    return WebhookEndpoint.objects.create(bureau=finance, url=receiver.url, secret=receiver.secret)


def test_every_subscribed_event_reaches_the_bureau_signed(
    endpoint, finance_endpoint, receiver, city, hrss, finance, officer, dispatcher
):
    receiver.start()
    first = factories.submit(region=city)  # auto-dispatched to hrss
    appeal = first.appeal
    assert appeal.bureau == hrss
    expand_all()
    drain()
    # Re-route to finance and back: both bureaus hear of each move.
    appeal_reroute(appeal_id=appeal.pk, user=dispatcher, bureau_id=finance.pk, reason="属金融工作局职责")
    appeal_reroute(appeal_id=appeal.pk, user=dispatcher, bureau_id=hrss.pk, reason="改回人社局")
    expand_all()
    drain()
    # Urge and supervision from the deadline sweep.
    appeal.refresh_from_db()
    assert sweep_appeal(appeal.pk, now=appeal.sign_for_due + timedelta(minutes=1)) == "deadline.urged"
    assert sweep_appeal(appeal.pk, now=appeal.sign_for_due + timedelta(days=30)) == "deadline.supervised"
    # Rating: a bad rating re-opens, then a good one closes.
    services.appeal_sign_for(appeal_id=appeal.pk, user=officer)
    services.appeal_submit_reply(appeal_id=appeal.pk, user=officer, reply="已联系职业院校。")
    services.appeal_rate(
        appeal_id=appeal.pk, access_code=first.access_code, level=RatingLevel.DISSATISFIED, resolved=False
    )
    services.appeal_submit_reply(appeal_id=appeal.pk, user=officer, reply="已安排招聘会。")
    services.appeal_rate(appeal_id=appeal.pk, access_code=first.access_code, level=RatingLevel.SATISFIED, resolved=True)
    expand_all()
    drain()

    assert all(r.verified for r in receiver.received)
    by_bureau: dict[int, list[str]] = {}
    for item in receiver.received:
        by_bureau.setdefault(item.body["bureau_id"], []).append(item.body["type"])
    assert by_bureau[hrss.pk] == [
        "appeal.dispatched",
        "appeal.rerouted",
        "appeal.rerouted",
        "appeal.urged",
        "appeal.supervised",
        "appeal.reopened",
        "appeal.rated",
    ]
    assert by_bureau[finance.pk] == ["appeal.rerouted", "appeal.rerouted"]
    rated = receiver.received[-1].body
    assert rated["appeal"] == {"id": appeal.pk, "tracking_number": appeal.tracking_number, "state": "closed"}
    assert rated["data"]["rating_level"] == RatingLevel.SATISFIED
    # Small events, no personal data: the bureau fetches details through the API.
    assert all(
        set(r.body) == {"id", "type", "created_at", "sequence", "bureau_id", "appeal", "data"}
        for r in receiver.received
    )
    assert len({r.event_id for r in receiver.received}) == len(receiver.received)
    assert WebhookDelivery.objects.filter(status=S.DELIVERED).count() == len(receiver.received)


def test_endpoint_can_subscribe_to_some_events(endpoint, receiver, city, dispatcher, finance):
    endpoint.events = ["appeal.rerouted"]
    endpoint.save()
    appeal = factories.submit(region=city).appeal
    appeal_reroute(appeal_id=appeal.pk, user=dispatcher, bureau_id=finance.pk, reason="属金融工作局职责")
    expand_all()
    assert list(WebhookDelivery.objects.values_list("event_type", flat=True)) == ["appeal.rerouted"]


def test_fan_out_is_idempotent(endpoint, city):
    factories.submit(region=city)
    event = OutboxEvent.objects.get(event_type="appeal.dispatched")
    from integrations.webhooks.fanout import fan_out

    fan_out(event)
    fan_out(event)
    expand_event(event.pk)
    assert WebhookDelivery.objects.count() == 1


# --- Never blocking -----------------------------------------------------------------------------------


def test_a_slow_receiver_never_slows_filing(endpoint, receiver, city):
    receiver.delay = 3.0
    receiver.start()
    started = time.monotonic()
    factories.submit(region=city)
    assert time.monotonic() - started < 1.0
    # Nothing was sent in the request: the delivery is created when the worker expands the event.
    assert not WebhookDelivery.objects.exists()
    expand_all()
    assert WebhookDelivery.objects.get().status == S.PENDING


# --- Failures, retries and dead letters ------------------------------------------------------------------


def test_failures_back_off_then_dead_letter_then_admin_retry(settings, endpoint, receiver, city, admin_client):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0
    receiver.status = 500
    receiver.start()
    factories.submit(region=city)
    expand_all()
    sender.deliver_due()
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code, delivery.last_error) == (
        S.FAILED,
        1,
        500,
        "HTTP 500",
    )
    sender.deliver_due()
    sender.deliver_due()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (S.DEAD, 3)
    sender.deliver_due()
    delivery.refresh_from_db()
    assert delivery.attempts == 3  # dead letters wait for a person

    receiver.status = 204
    response = admin_client.post(
        "/admin/integrations/webhookdelivery/",
        {"action": "retry_now", "_selected_action": [delivery.pk]},
        follow=True,
    )
    assert response.status_code == 200
    delivery.refresh_from_db()
    assert delivery.status == S.PENDING
    sender.deliver_due()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == (S.DELIVERED, 4, "")
    assert len(receiver.received) == 4


def test_backoff_grows_and_is_capped(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    settings.WEBHOOK_RETRY_MAX_SECONDS = 600
    assert [sender.backoff(n).total_seconds() for n in (1, 2, 3, 4, 5, 6)] == [30, 60, 120, 240, 480, 600]


def test_claim_is_exclusive(endpoint, city):
    factories.submit(region=city)
    expand_all()
    delivery = WebhookDelivery.objects.get()
    assert sender.claim(delivery.pk) is True
    assert sender.claim(delivery.pk) is False
    assert sender.attempt(delivery.pk) is None  # another worker holds it


# --- The outage: 200 events while the receiver is down ----------------------------------------------------


def _burst(appeals: list[Appeal], total: int) -> list[int]:
    """``total`` urge events spread over ``appeals``, each in its own transaction as the sweep writes them."""
    ids = []
    for n in range(total):
        appeal = appeals[n % len(appeals)]
        with transaction.atomic():
            ids.append(outbox.emit("deadline.urged", appeal=appeal, payload={"deadline": "sign_for", "n": n}).pk)
    return ids


def test_receiver_down_during_a_burst_of_200_events(settings, endpoint, receiver, city):
    settings.NOTIFY_REDISPATCH_AFTER_SECONDS = 0
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.01
    settings.WEBHOOK_RETRY_MAX_SECONDS = 0.05
    settings.WEBHOOK_MAX_ATTEMPTS = 50
    appeals = [factories.submit(region=city).appeal for _ in range(10)]
    OutboxEvent.objects.filter(event_type="appeal.dispatched").update(event_type="appeal.dispatched.seen")
    OutboxEvent.objects.update(processed_at=timezone.now())
    _burst(appeals, 200)

    # The worker expands the burst (webhook fan-out included) while nobody listens on the port.
    redispatch(batch=1000)
    assert WebhookDelivery.objects.count() == 200
    for _ in range(5):
        counts = sender.deliver_due()
        assert counts["delivered"] == 0
        time.sleep(0.06)
    assert not WebhookDelivery.objects.filter(status=S.DELIVERED).exists()
    # One connection attempt per run while it is down, not one per event.
    assert WebhookDelivery.objects.filter(attempts__gt=0).count() == 1
    assert "Connection" in WebhookDelivery.objects.get(attempts__gt=0).last_error

    receiver.start()
    for _ in range(100):
        time.sleep(0.06)
        sender.deliver_due()
        if not WebhookDelivery.objects.exclude(status=S.DELIVERED).exists():
            break
    assert not WebhookDelivery.objects.exclude(status=S.DELIVERED).exists()

    ids = [r.event_id for r in receiver.received]
    assert len(ids) == 200 and len(set(ids)) == 200  # every event, exactly once
    assert all(r.verified for r in receiver.received)
    per_appeal: dict[int, list[int]] = {}
    for item in receiver.received:
        per_appeal.setdefault(item.body["appeal"]["id"], []).append(item.body["sequence"])
    assert set(per_appeal) == {a.pk for a in appeals}
    for sequences in per_appeal.values():
        assert len(sequences) == 20
        assert sequences == sorted(sequences)  # in order per appeal


def test_order_holds_while_an_earlier_event_is_not_fanned_out(endpoint, receiver, city):
    receiver.start()
    appeal = factories.submit(region=city).appeal
    first, second = _burst([appeal], 2)
    OutboxEvent.objects.filter(appeal=appeal, event_type="appeal.dispatched").update(processed_at=timezone.now())
    expand_event(second)  # the later event reaches a worker first
    assert sender.deliver_due()["delivered"] == 0
    assert receiver.received == []
    expand_event(first)
    drain()
    assert [r.body["sequence"] for r in receiver.received] == [first, second]


def test_the_documented_receiver_example_verifies_a_real_delivery(endpoint, city):
    """The Python example in docs/integrations.md, run as written against a body Huying signs."""
    import json
    import re
    from pathlib import Path

    from django.conf import settings as django_settings

    doc = (Path(django_settings.BASE_DIR) / "docs" / "integrations.md").read_text(encoding="utf-8")
    [example] = re.findall(r"```python\n(.*?)```", doc, flags=re.S)
    namespace: dict = {}
    exec(compile(example, "docs/integrations.md", "exec"), namespace)  # our own documentation, run as written
    factories.submit(region=city)
    expand_all()
    delivery = WebhookDelivery.objects.get()
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = signing.headers(secret=endpoint.secret, event_id=delivery.payload["id"], body=body)
    verify = namespace["verify"]
    stamp, signature = headers[signing.TIMESTAMP_HEADER], headers[signing.SIGNATURE_HEADER]
    assert verify(endpoint.secret, body, stamp, signature)
    assert not verify("whsec_other", body, stamp, signature)
    assert not verify(endpoint.secret, body, str(int(stamp) - 3600), signature)
