"""Celery tasks that deliver the outbox. Every task takes ids, re-reads the database and is idempotent."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from notifications import delivery
from notifications.models import Delivery, OutboxEvent

logger = logging.getLogger(__name__)

S = Delivery.Status


def _redispatch_after() -> timedelta:
    return timedelta(seconds=float(getattr(settings, "NOTIFY_REDISPATCH_AFTER_SECONDS", 30)))


@shared_task(name="notifications.process_event", acks_late=True, soft_time_limit=120, time_limit=150)
def process_event(event_id: int) -> int:
    """Expand one outbox event into deliveries and attempt each once; return how many were sent.

    Safe to run any number of times for the same event (deliveries are unique and claimed before
    sending). Failed deliveries are left with a next-attempt time for ``redispatch``.
    """
    sent = 0
    for delivery_id in delivery.expand_event(event_id):
        if delivery.attempt_delivery(delivery_id) == S.SENT:
            sent += 1
    return sent


@shared_task(name="notifications.process_events", acks_late=True, soft_time_limit=240, time_limit=270)
def process_events(event_ids: list[int]) -> int:
    """``process_event`` for the rows one transaction emitted together (one broker message)."""
    return sum(process_event.run(event_id) for event_id in event_ids)


@shared_task(name="notifications.retry_delivery", acks_late=True, soft_time_limit=60, time_limit=90)
def retry_delivery(delivery_id: int, force: bool = False) -> str | None:
    """Attempt one delivery now (the admin's retry action uses ``force=True`` to skip the backoff)."""
    return delivery.attempt_delivery(delivery_id, force=force)


@shared_task(name="notifications.redispatch", soft_time_limit=240, time_limit=270)
def redispatch(batch: int = 500) -> dict[str, int]:
    """Catch up on everything the broker or a worker dropped (runs every minute from beat).

    - outbox rows never expanded (``processed_at`` NULL) older than ``NOTIFY_REDISPATCH_AFTER_SECONDS``:
      their task was lost (broker down at commit time, worker killed);
    - deliveries due for a retry, pending rows whose worker died after expanding, and rows whose
      sender died mid-send (claim expired);
    - sealed access codes whose confirmation e-mail never went out, once they expire (wiped).
    Work is done inline in batches, so a broker outage cannot also stop the catch-up.
    """
    cutoff = timezone.now() - _redispatch_after()
    events = list(
        OutboxEvent.objects.filter(processed_at__isnull=True, created_at__lte=cutoff)
        .order_by("id")
        .values_list("id", flat=True)[:batch]
    )
    sent = 0
    for event_id in events:
        sent += process_event.run(event_id)
    now = timezone.now()
    due = list(
        Delivery.objects.filter(
            Q(status=S.FAILED, next_attempt_at__lte=now)
            | Q(status=S.PENDING, created_at__lte=cutoff)
            | Q(status=S.SENDING, claimed_until__lt=now)
        )
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:batch]
    )
    for delivery_id in due:
        if delivery.attempt_delivery(delivery_id) == S.SENT:
            sent += 1
    wiped = delivery.wipe_expired_sealed()
    if events or due or wiped:
        logger.info("Re-dispatch: %d event(s), %d delivery(ies) picked up, %d sent", len(events), len(due), sent)
    return {"events": len(events), "deliveries": len(due), "sent": sent}


@shared_task(name="notifications.heartbeat", ignore_result=True, soft_time_limit=10, time_limit=20)
def heartbeat() -> str:
    """Record that the worker ran a task from the scheduler (monitoring reads var/celery-heartbeat)."""
    stamp = timezone.now().isoformat()
    path = settings.VAR_DIR / "celery-heartbeat"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(stamp + "\n", encoding="utf-8")
    tmp.replace(path)
    return stamp
