"""From outbox events to webhook deliveries.

Webhooks subscribe to the notification outbox instead of being sent from the services: when the
notification worker expands an outbox event (``notifications.delivery.expand_event``), this module
adds one ``WebhookDelivery`` per active endpoint of the bureau concerned, in the same transaction.
Nothing runs in the transaction that changed the appeal, and nothing is lost: an event whose
expansion never ran is picked up by the notification re-dispatch, which expands it (and fans it
out) later. The unique constraint makes a repeated expansion harmless.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from integrations.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from notifications import catalogue
from notifications.models import OutboxEvent

logger = logging.getLogger(__name__)

# Outbox event types (after the catalogue's aliases) that bureaus hear about, and their webhook type.
_SIMPLE = {
    "deadline.urged": WebhookEvent.URGED,
    "deadline.supervised": WebhookEvent.SUPERVISED,
    "appeal.rated": WebhookEvent.RATED,
    "appeal.reopened": WebhookEvent.REOPENED,
}
SOURCE_TYPES = frozenset({"appeal.dispatched", *_SIMPLE})


@dataclass(frozen=True)
class Target:
    bureau_id: int
    event_type: str
    data: dict[str, Any] = field(default_factory=dict)


def targets(event: OutboxEvent) -> list[Target]:
    """Which bureaus hear about ``event``, as which webhook event, with what extra data."""
    kind = catalogue.canonical(event.event_type)
    payload = event.payload or {}
    if kind not in SOURCE_TYPES or event.appeal_id is None or event.bureau_id is None:
        return []
    if kind == "appeal.dispatched":
        previous = payload.get("from_bureau_id")
        if previous and previous != event.bureau_id:
            # 改派: the new bureau receives the appeal, the old one learns it has left.
            moved = {"from_bureau_id": previous, "to_bureau_id": event.bureau_id}
            return [
                Target(event.bureau_id, WebhookEvent.REROUTED, moved),
                Target(previous, WebhookEvent.REROUTED, moved),
            ]
        return [Target(event.bureau_id, WebhookEvent.DISPATCHED)]
    data: dict[str, Any] = {}
    if kind in ("deadline.urged", "deadline.supervised"):
        data = {key: payload[key] for key in ("deadline", "due", "overdue_working_hours") if key in payload}
    return [Target(event.bureau_id, _SIMPLE[kind], data)]


def body(event: OutboxEvent, target: Target) -> dict[str, Any]:
    """The small JSON event a bureau receives: ids and state, never personal data (fetch for more)."""
    appeal = event.appeal
    payload = event.payload or {}
    data = dict(target.data)
    if target.event_type in (WebhookEvent.RATED, WebhookEvent.REOPENED) and appeal is not None:
        data["rating_level"] = appeal.rating_level
    return {
        # Stable across retries; one per (event, bureau), so receivers de-duplicate on it.
        "id": f"evt_{event.pk}_{target.bureau_id}",
        "type": str(target.event_type),
        "created_at": timezone.localtime(event.created_at).isoformat(),
        # Increases with every event; per appeal it is the order the changes were committed in.
        "sequence": event.pk,
        "bureau_id": target.bureau_id,
        "appeal": {
            "id": event.appeal_id,
            "tracking_number": appeal.tracking_number if appeal is not None else "",
            "state": payload.get("to") or (appeal.state if appeal is not None else ""),
        },
        "data": data,
    }


def fan_out(event: OutboxEvent) -> list[int]:
    """Create the deliveries for ``event`` (idempotent); returns the endpoint ids that got one.

    Side effects: inserts ``WebhookDelivery`` rows; after commit, asks a worker to send them.
    """
    wanted = targets(event)
    if not wanted:
        return []
    bureau_ids = {t.bureau_id for t in wanted}
    endpoints = list(WebhookEndpoint.objects.filter(bureau_id__in=bureau_ids, is_active=True))
    rows = []
    now = timezone.now()
    for target in wanted:
        for endpoint in endpoints:
            if endpoint.bureau_id == target.bureau_id and endpoint.wants(target.event_type):
                rows.append(
                    WebhookDelivery(
                        endpoint=endpoint,
                        outbox_event=event,
                        appeal_id=event.appeal_id,
                        event_type=target.event_type,
                        payload=body(event, target),
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
    if not rows:
        return []
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    endpoint_ids = sorted({row.endpoint_id for row in rows})
    transaction.on_commit(kick, robust=True)
    return endpoint_ids


def kick() -> None:
    """Queue a sending run (best effort: the periodic run covers a broker that is down)."""
    from django.conf import settings

    if not getattr(settings, "NOTIFY_KICK_DELIVERY", True):
        return
    from integrations.webhooks.tasks import deliver_webhooks

    try:
        deliver_webhooks.apply_async(retry=False, queue=getattr(settings, "NOTIFY_TASK_QUEUE", None))
    except Exception as exc:  # noqa: BLE001 - any broker failure: the periodic run delivers
        logger.warning("Broker unreachable; webhooks wait for the periodic run (%s).", exc)


def subscribe() -> None:
    """Register ``fan_out`` with the notification outbox's expansion step (once per process)."""
    from notifications import delivery

    if fan_out not in delivery.EXPANSION_HOOKS:
        delivery.EXPANSION_HOOKS.append(fan_out)
