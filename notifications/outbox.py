"""Recording notification events in the caller's transaction (the transactional outbox)."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.db import transaction

from notifications import realtime
from notifications.models import OutboxEvent

logger = logging.getLogger(__name__)


def emit(
    event_type: str, *, appeal: Any = None, bureau: Any = None, payload: dict[str, Any] | None = None
) -> OutboxEvent:
    """Write an outbox row for ``event_type``. Call inside the transaction that made the change.

    Nothing that can fail or block runs inside the caller's transaction. After it commits:
    (a) the small realtime event is broadcast to the consoles' groups, and (b) the delivery task is
    queued for this row. Both are best effort: errors are logged, never raised (the change is
    already committed), and the periodic re-dispatch delivers rows whose task never ran.
    If the transaction rolls back, neither happens and the row is gone too.
    """
    event = OutboxEvent.objects.create(
        event_type=event_type,
        appeal=appeal,
        bureau=bureau if bureau is not None else getattr(appeal, "bureau", None),
        payload=payload or {},
    )
    message = realtime.snapshot(
        outbox_id=event.pk, event_type=event_type, appeal=appeal, bureau=event.bureau, payload=event.payload
    )
    transaction.on_commit(lambda: _after_commit(event.pk, message), robust=True)
    return event


def _after_commit(event_id: int, message: dict[str, Any]) -> None:
    realtime.publish_event(message)
    if getattr(settings, "NOTIFY_KICK_DELIVERY", True):
        kick(event_id)


# While the broker is known to be down, requests do not pay a connection timeout on every commit:
# for this long after a failed publish, kicks are skipped and the periodic re-dispatch delivers.
BROKER_BACKOFF_SECONDS = 30.0
_broker_down_until = 0.0


def kick(event_id: int) -> bool:
    """Queue the delivery task for one outbox row; False (logged) if the broker is unreachable."""
    global _broker_down_until
    from notifications.tasks import process_event

    if time.monotonic() < _broker_down_until:
        return False
    try:
        process_event.apply_async(args=[event_id], retry=False, queue=getattr(settings, "NOTIFY_TASK_QUEUE", None))
    except Exception as exc:  # noqa: BLE001 - any broker failure: the re-dispatch covers it
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
        logger.warning(
            "Broker unreachable; outbox event %s waits for the periodic re-dispatch (%s). Not retrying for %d s.",
            event_id,
            exc,
            BROKER_BACKOFF_SECONDS,
        )
        return False
    return True
