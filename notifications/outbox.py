"""Recording notification events in the caller's transaction (the transactional outbox)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction

from notifications import realtime
from notifications.models import OutboxEvent

logger = logging.getLogger(__name__)


def emit(
    event_type: str,
    *,
    appeal: Any = None,
    bureau: Any = None,
    payload: dict[str, Any] | None = None,
    new_appeal: bool = False,
    broadcast: bool = True,
) -> OutboxEvent:
    """Write an outbox row for ``event_type``. Call inside the transaction that made the change.

    Nothing that can fail or block runs inside the caller's transaction. After it commits:
    (a) the small realtime event is broadcast to the consoles' groups, and (b) the delivery task is
    queued for this row. Both are best effort: errors are logged, never raised (the change is
    already committed), and the periodic re-dispatch delivers rows whose task never ran.
    If the transaction rolls back, neither happens and the row is gone too.

    ``new_appeal``: the appeal was created in this transaction (no co-handlers, nobody subscribed
    to its own group yet), which spares the realtime step a query and a message.
    ``broadcast=False``: deliver the notification but send no realtime message (for an event the
    consoles learn from another one in the same transaction).
    """
    [event] = emit_many(
        [
            {
                "event_type": event_type,
                "appeal": appeal,
                "bureau": bureau,
                "payload": payload,
                "new_appeal": new_appeal,
                "broadcast": broadcast,
            }
        ]
    )
    return event


def emit_many(events: list[dict[str, Any]]) -> list[OutboxEvent]:
    """``emit`` for several rows at once (one INSERT); each dict holds ``emit``'s keyword arguments."""
    rows = [
        OutboxEvent(
            event_type=spec["event_type"],
            appeal=spec.get("appeal"),
            bureau=spec["bureau"] if spec.get("bureau") is not None else getattr(spec.get("appeal"), "bureau", None),
            payload=spec.get("payload") or {},
        )
        for spec in events
    ]
    if len(rows) == 1:
        rows[0].save(force_insert=True)
    else:
        OutboxEvent.objects.bulk_create(rows)
    batch = getattr(_local, "batch", None)
    for spec, row in zip(events, rows, strict=True):
        message = realtime.snapshot(
            outbox_id=row.pk, event_type=row.event_type, appeal=row.appeal, bureau=row.bureau, payload=row.payload
        )
        entry = (row.pk, message if spec.get("broadcast", True) else None, bool(spec.get("new_appeal")))
        if batch is not None:
            # Joins the batch only if this row commits: Django drops the hook with a rolled-back savepoint.
            transaction.on_commit(partial(batch.append, entry), robust=True)
        else:
            transaction.on_commit(partial(_after_commit, [entry]), robust=True)
    return rows


_local = threading.local()


@contextmanager
def batched() -> Iterator[None]:
    """Rows emitted inside share one after-commit step: one publish hop and one Celery message.

    Use inside the transaction, around a service's work (``with transaction.atomic(), batched():``).
    A submission emits two or three rows; sending each separately cost a Redis round trip and a
    Celery message apiece on the request path. Nested use joins the outer batch. If the block
    raises, nothing is registered (and the transaction rolls back anyway).
    """
    if getattr(_local, "batch", None) is not None:
        yield
        return
    committed: list[_Entry] = []
    _local.batch = committed
    try:
        yield
    finally:
        _local.batch = None
    # Registered last, so it runs after every row's own hook has added the row.
    transaction.on_commit(partial(_after_commit, committed), robust=True)


# (outbox row id, realtime message or None if not broadcast, created-in-this-transaction flag)
_Entry = tuple[int, dict[str, Any] | None, bool]


def _after_commit(entries: list[_Entry]) -> None:
    if not entries:
        return
    messages = [message for _id, message, _new in entries if message is not None]
    if messages:
        new_ids = frozenset(message["appeal_id"] for _id, message, new in entries if new and message is not None)
        realtime.publish_events(messages, new_appeal_ids=new_ids)
    if getattr(settings, "NOTIFY_KICK_DELIVERY", True):
        kick([event_id for event_id, _message, _new in entries])


# While the broker is known to be down, requests do not pay a connection timeout on every commit:
# for this long after a failed publish, kicks are skipped and the periodic re-dispatch delivers.
BROKER_BACKOFF_SECONDS = 30.0
_broker_down_until = 0.0


def kick(event_ids: list[int]) -> bool:
    """Queue one delivery task for these outbox rows; False (logged) if the broker is unreachable."""
    global _broker_down_until
    from notifications.tasks import process_event, process_events

    if time.monotonic() < _broker_down_until:
        return False
    queue = getattr(settings, "NOTIFY_TASK_QUEUE", None)
    try:
        # One row: the single-row task (also what re-dispatch runs); several: one message for all.
        task, args = (process_event, [event_ids[0]]) if len(event_ids) == 1 else (process_events, [event_ids])
        # argsrepr given, so Celery does not build it with reprlib on the request path.
        task.apply_async(args=args, retry=False, queue=queue, argsrepr=repr(args), kwargsrepr="{}")
    except Exception as exc:  # noqa: BLE001 - any broker failure: the re-dispatch covers it
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
        logger.warning(
            "Broker unreachable; outbox events %s wait for the periodic re-dispatch (%s). Not retrying for %d s.",
            event_ids,
            exc,
            BROKER_BACKOFF_SECONDS,
        )
        return False
    return True
