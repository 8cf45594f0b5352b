"""Recording notification events in the caller's transaction (the transactional outbox)."""

from __future__ import annotations

from typing import Any

from notifications.models import OutboxEvent


def emit(
    event_type: str, *, appeal: Any = None, bureau: Any = None, payload: dict[str, Any] | None = None
) -> OutboxEvent:
    """Write an outbox row for ``event_type``. Call inside the transaction that made the change.

    Delivery is not attempted here: nothing that can fail or block (network I/O) runs inside the
    caller's transaction.
    """
    return OutboxEvent.objects.create(
        event_type=event_type,
        appeal=appeal,
        bureau=bureau if bureau is not None else getattr(appeal, "bureau", None),
        payload=payload or {},
    )
