"""Demo history is history: its notifications are recorded as not sent.

The services write an outbox row for every step of every demo appeal, dated in the past weeks.
Delivering them after seeding would send hundreds of e-mails, SMS and inbox items about events
weeks old and keep the worker busy for minutes while new appeals' notifications wait behind
them. Instead the seeder marks those rows processed with no deliveries, and says so in the row's
payload (``demo_history``) so the admin's outbox list is honest about what was never sent.
"""

from __future__ import annotations

from notifications.models import OutboxEvent

NOT_SENT = "seeded demo history: recorded, not delivered"


def last_outbox_id() -> int:
    """The newest outbox row's id before seeding (0 for none)."""
    return OutboxEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def settle_notifications(*, after_id: int) -> int:
    """Mark the outbox rows written after ``after_id`` as processed without deliveries; return how many.

    Call inside the seeding transaction, so the after-commit delivery step finds nothing to send.
    """
    rows = list(OutboxEvent.objects.filter(pk__gt=after_id, processed_at__isnull=True))
    for row in rows:
        row.processed_at = row.created_at
        row.payload = {**(row.payload or {}), "demo_history": NOT_SENT}
    OutboxEvent.objects.bulk_update(rows, ["processed_at", "payload"], batch_size=500)
    return len(rows)
