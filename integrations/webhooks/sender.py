"""Sending webhook deliveries: claimed once, in order per appeal, retried with back-off, then dead-lettered.

* A delivery is *claimed* with one conditional UPDATE before it is sent, so two workers never send
  the same row; a worker that dies mid-send leaves a claim that expires (``WEBHOOK_CLAIM_SECONDS``).
* Order per appeal: a delivery waits while an earlier event of the same appeal for the same
  endpoint is undelivered (or not yet fanned out). A dead-lettered event no longer holds the
  others back; ``sequence`` in the body lets a receiver notice a gap.
* Failures (network errors, timeouts, any non-2xx answer) are retried after
  base × 2^(attempts−1) seconds, capped; after ``WEBHOOK_MAX_ATTEMPTS`` the delivery is dead and
  waits for an administrator's retry. An endpoint that cannot be reached is skipped for the rest of
  the run, so an outage costs one connection attempt per run, not one per event.
* Sending happens in a worker, outside any transaction: a slow or absent receiver never slows
  filing or the console.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import urllib3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from integrations.models import WebhookDelivery
from integrations.webhooks import fanout, signing, targets
from notifications.models import OutboxEvent

logger = logging.getLogger(__name__)

S = WebhookDelivery.Status
UNFINISHED = (S.PENDING, S.FAILED, S.SENDING)

_pool: urllib3.PoolManager | None = None


def _http() -> urllib3.PoolManager:
    global _pool
    if _pool is None:
        _pool = urllib3.PoolManager(num_pools=20, maxsize=2, retries=False)
    return _pool


def max_attempts() -> int:
    return int(getattr(settings, "WEBHOOK_MAX_ATTEMPTS", 10))


def backoff(attempts: int) -> timedelta:
    """Wait before attempt ``attempts + 1``: 30 s, 1 min, 2 min … capped at an hour by default."""
    base = float(getattr(settings, "WEBHOOK_RETRY_BASE_SECONDS", 30))
    cap = float(getattr(settings, "WEBHOOK_RETRY_MAX_SECONDS", 3600))
    return timedelta(seconds=min(cap, base * (2 ** max(0, attempts - 1))))


class EndpointUnreachable(Exception):
    """The receiver could not be reached at all (the rest of its queue waits for the next run)."""


def _earlier_pending(delivery: WebhookDelivery) -> bool:
    """Is an earlier event of the same appeal for the same endpoint still on its way?"""
    if delivery.appeal_id is None:
        return False
    earlier = WebhookDelivery.objects.filter(
        endpoint_id=delivery.endpoint_id,
        appeal_id=delivery.appeal_id,
        outbox_event_id__lt=delivery.outbox_event_id,
        status__in=UNFINISHED,
    )
    if earlier.exists():
        return True
    # An earlier outbox event of this appeal that has not been expanded yet may still produce one.
    return OutboxEvent.objects.filter(
        appeal_id=delivery.appeal_id,
        pk__lt=delivery.outbox_event_id,
        processed_at__isnull=True,
        event_type__in=_source_types(),
    ).exists()


def _source_types() -> list[str]:
    from notifications.catalogue import ALIASES

    return sorted(fanout.SOURCE_TYPES | {alias for alias, name in ALIASES.items() if name in fanout.SOURCE_TYPES})


def claim(delivery_id: int, *, force: bool = False) -> bool:
    """Take a delivery for sending; True if this caller owns it now (one UPDATE, race-safe)."""
    now = timezone.now()
    due = (
        Q(status__in=[S.PENDING, S.FAILED]) if force else Q(status__in=[S.PENDING, S.FAILED], next_attempt_at__lte=now)
    )
    if force:
        due |= Q(status=S.DEAD)
    expired = Q(status=S.SENDING, claimed_until__lt=now)
    lease = timedelta(seconds=int(getattr(settings, "WEBHOOK_CLAIM_SECONDS", 120)))
    return bool(
        WebhookDelivery.objects.filter(pk=delivery_id)
        .filter(due | expired)
        .update(status=S.SENDING, claimed_until=now + lease)
    )


def _post(delivery: WebhookDelivery) -> int:
    """POST the signed body; return the HTTP status. Raises on network errors."""
    endpoint = delivery.endpoint
    targets.check_url(endpoint.url, allow_private=endpoint.allow_private_network)
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = signing.headers(secret=endpoint.secret, event_id=str(delivery.payload.get("id", delivery.pk)), body=body)
    headers["User-Agent"] = "Huying-Webhooks/1"
    timeout = urllib3.Timeout(
        connect=float(getattr(settings, "WEBHOOK_CONNECT_TIMEOUT", 3)),
        read=float(getattr(settings, "WEBHOOK_READ_TIMEOUT", 10)),
    )
    response = _http().request(
        "POST", endpoint.url, body=body, headers=headers, timeout=timeout, redirect=False, preload_content=True
    )
    return int(response.status)


def attempt(delivery_id: int, *, force: bool = False, check_order: bool = True) -> str | None:
    """Send one delivery now if it is due (``force``: even if dead or backing off).

    Returns the new status, ``"waiting"`` when an earlier event of the same appeal must go first, or
    None when another worker holds it. Raises ``EndpointUnreachable`` after recording the failure when
    the receiver could not be reached at all.
    """
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None:
        return None
    if check_order and not force and _earlier_pending(delivery):
        return "waiting"
    if not claim(delivery_id, force=force):
        return None
    unreachable: Exception | None = None
    error = ""
    code: int | None = None
    try:
        code = _post(delivery)
        if not 200 <= code < 300:
            error = f"HTTP {code}"
    except ValidationError as exc:
        error = "; ".join(exc.messages)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"
        unreachable = exc
    attempts = delivery.attempts + 1
    now = timezone.now()
    fields: dict[str, Any] = {"attempts": attempts, "claimed_until": None, "last_status_code": code}
    if not error:
        fields.update(status=S.DELIVERED, delivered_at=now, last_error="")
    elif attempts >= max_attempts():
        fields.update(status=S.DEAD, last_error=error[:2000])
        logger.warning("Webhook delivery %s dead after %d attempts: %s", delivery_id, attempts, error)
    else:
        fields.update(status=S.FAILED, next_attempt_at=now + backoff(attempts), last_error=error[:2000])
    WebhookDelivery.objects.filter(pk=delivery_id, status=S.SENDING).update(**fields)
    if unreachable is not None:
        raise EndpointUnreachable(str(unreachable))
    return str(fields["status"])


def deliver_due(*, limit: int = 1000) -> dict[str, int]:
    """One sending run over every active endpoint: oldest events first, each appeal's in order.

    Side effects: HTTP requests to receivers; delivery rows updated. Safe to run concurrently
    (claims) and to repeat.
    """
    now = timezone.now()
    rows = list(
        WebhookDelivery.objects.filter(status__in=UNFINISHED, endpoint__is_active=True)
        .order_by("outbox_event_id", "id")
        .values("id", "endpoint_id", "appeal_id", "status", "next_attempt_at", "claimed_until")[:limit]
    )
    held: set[tuple[int, int | None]] = set()  # (endpoint, appeal) whose earlier event is not through
    down: set[int] = set()
    counts = {"delivered": 0, "failed": 0, "waiting": 0}
    for row in rows:
        key = (row["endpoint_id"], row["appeal_id"])
        if row["endpoint_id"] in down or (row["appeal_id"] is not None and key in held):
            counts["waiting"] += 1
            continue
        due = (row["status"] in (S.PENDING, S.FAILED) and row["next_attempt_at"] <= now) or (
            row["status"] == S.SENDING and row["claimed_until"] is not None and row["claimed_until"] < now
        )
        if not due:
            held.add(key)
            counts["waiting"] += 1
            continue
        try:
            status = attempt(row["id"])
        except EndpointUnreachable:
            down.add(row["endpoint_id"])
            counts["failed"] += 1
            continue
        if status == S.DELIVERED:
            counts["delivered"] += 1
        else:
            held.add(key)
            counts["failed" if status in (S.FAILED, S.DEAD) else "waiting"] += 1
    return counts


def retry(delivery_id: int) -> str | None:
    """An administrator's retry: send now, even if dead-lettered or backing off."""
    try:
        return attempt(delivery_id, force=True)
    except EndpointUnreachable:
        return str(S.FAILED)
