"""What a bureau credential may read: its own bureau's appeals, through the console's selectors."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from appeals import selectors
from appeals.models import Appeal
from integrations.models import BureauCredential
from integrations.webhooks import fanout
from notifications.catalogue import ALIASES
from notifications.models import OutboxEvent


def bureau_appeals(*, credential: BureauCredential) -> QuerySet[Appeal]:
    """Appeals the credential's user may see (console rules) that are assigned to the credential's bureau.

    Appeals the bureau only co-handles are left out: a bureau system acts on the bureau's own tickets.
    """
    return selectors.appeal_queryset_for_user(user=credential.user).filter(bureau_id=credential.bureau_id)


def bureau_appeal(*, credential: BureauCredential, appeal_id: int) -> Appeal | None:
    """One appeal of the bureau, or None (callers answer 404 so other bureaus' appeals stay invisible)."""
    return bureau_appeals(credential=credential).filter(pk=appeal_id).first()


@dataclass(frozen=True)
class Cursor:
    updated_at: datetime
    appeal_id: int

    def encode(self) -> str:
        raw = f"{self.updated_at.isoformat()}|{self.appeal_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> Cursor | None:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
            stamp, _sep, pk = raw.partition("|")
            updated = parse_datetime(stamp)
            if updated is None:
                return None
            return cls(updated_at=updated, appeal_id=int(pk))
        except (ValueError, UnicodeDecodeError):
            return None


def changed_since(queryset: QuerySet[Appeal], cursor: Cursor | None) -> QuerySet[Appeal]:
    """Appeals updated after ``cursor``, oldest change first (the order a reconciling system replays)."""
    if cursor is not None:
        queryset = queryset.filter(
            Q(updated_at__gt=cursor.updated_at) | Q(updated_at=cursor.updated_at, pk__gt=cursor.appeal_id)
        )
    return queryset.order_by("updated_at", "pk")


def bureau_events(*, credential: BureauCredential, after: int, limit: int) -> list[dict]:
    """The webhook events of the credential's bureau with ``sequence`` > ``after``, oldest first.

    Built from the outbox itself, so it holds every event whether or not a webhook endpoint is
    configured or a delivery was lost: the replay a bureau system reconciles with after an outage.
    """
    # Outbox ids are taken at insert, not at commit: a transaction that commits late can add an
    # event below a sequence a reader already passed. Events younger than this are held back so a
    # ``since`` cursor does not skip them (transactions here last milliseconds).
    settled = timezone.now() - timedelta(seconds=float(getattr(settings, "BUREAU_EVENTS_SETTLE_SECONDS", 5)))
    source_types = fanout.SOURCE_TYPES | {alias for alias, name in ALIASES.items() if name in fanout.SOURCE_TYPES}
    bureau_id = credential.bureau_id
    mine = Q(bureau_id=bureau_id) | Q(event_type="appeal.dispatched", payload__from_bureau_id=bureau_id)
    events = (
        OutboxEvent.objects.filter(
            mine, pk__gt=after, event_type__in=source_types, appeal__isnull=False, created_at__lte=settled
        )
        .select_related("appeal")
        .order_by("pk")
    )
    bodies: list[dict] = []
    for event in events[: limit * 2]:
        for target in fanout.targets(event):
            if target.bureau_id == bureau_id:
                bodies.append(fanout.body(event, target))
        if len(bodies) >= limit:
            break
    return bodies[:limit]
