"""Publishing small realtime events to websocket groups, after the change has committed.

Payloads carry ids, state, version and a timestamp only: consoles refetch what they display
through permission-scoped views, so nothing confidential travels over a group broadcast.
Publishing never raises: by the time it runs the change is committed, and a console that missed
an event resynchronises on reconnect.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

from notifications import catalogue
from notifications.groups import DISPATCH_GROUP, SUPERVISION_GROUP, appeal_group, bureau_group, user_group

logger = logging.getLogger(__name__)

# Seconds a commit hook waits for the channel layer before giving up (the change is committed anyway).
PUBLISH_TIMEOUT = 3.0

# Events the dispatch centre's boards show (triage queue, returns, extensions, merges, overdue).
DISPATCH_EVENTS = frozenset(
    {
        "appeal.submitted",
        "appeal.triage",
        "appeal.dispatched",
        "appeal.redispatched",
        "appeal.returned",
        "appeal.rejected",
        "appeal.merged",
        "appeal.unmerged",
        "extension.requested",
        "extension.decided",
    }
)
SUPERVISION_EVENTS = frozenset({"appeal.reopened", "supervision.urged", "supervision.supervised"})


def snapshot(
    *, outbox_id: int, event_type: str, appeal: Any = None, bureau: Any = None, payload: dict | None = None
) -> dict[str, Any]:
    """The event as it will be broadcast, taken inside the transaction (no queries)."""
    updated_at = getattr(appeal, "updated_at", None)
    bureau_id = getattr(appeal, "bureau_id", None) if appeal is not None else None
    if bureau_id is None and bureau is not None:
        bureau_id = bureau.pk
    return {
        "type": "event",
        "event": event_type,
        "event_id": outbox_id,
        "appeal_id": getattr(appeal, "pk", None),
        "state": getattr(appeal, "state", None),
        "version": getattr(appeal, "version", None),
        "bureau_id": bureau_id,
        "updated_at": updated_at.isoformat() if updated_at else None,
        # A re-dispatch also tells the bureau the appeal left, so its queue drops it.
        **({"from_bureau_id": payload["from_bureau_id"]} if payload and payload.get("from_bureau_id") else {}),
    }


def groups_for(
    message: dict[str, Any], *, extra_bureau_ids: tuple[int, ...] = (), new_appeal: bool = False
) -> list[str]:
    """Every group that should hear about ``message`` (see docs/realtime.md for the table).

    ``new_appeal``: the appeal was created in the transaction that emitted the event, so nobody
    can be subscribed to its own group yet (subscribing needs the committed appeal).
    """
    event_type = catalogue.canonical(message["event"])
    groups: list[str] = []
    # A just-submitted appeal reaches its bureau as "appeal.dispatched" (emitted in the same
    # transaction); the bureau's consoles need not hear about the submission too.
    if message.get("bureau_id") and event_type != "appeal.submitted":
        groups.append(bureau_group(message["bureau_id"]))
    if message.get("from_bureau_id"):
        extra_bureau_ids = (*extra_bureau_ids, message["from_bureau_id"])
    for bureau_id in extra_bureau_ids:
        name = bureau_group(bureau_id)
        if name not in groups:
            groups.append(name)
    if message.get("appeal_id") and not new_appeal:
        groups.append(appeal_group(message["appeal_id"]))
    if event_type in DISPATCH_EVENTS or event_type.startswith("extension."):
        groups.append(DISPATCH_GROUP)
    if catalogue.is_deadline_event(event_type) or event_type in SUPERVISION_EVENTS:
        groups.append(SUPERVISION_GROUP)
    return groups


def _cohandling_bureau_ids(appeal_ids: set[int]) -> dict[int, tuple[int, ...]]:
    """Co-handling bureaus per appeal, for every appeal in one query."""
    if not appeal_ids:
        return {}
    from appeals.models import CoHandling

    found: dict[int, list[int]] = {}
    rows = (
        CoHandling.objects.filter(appeal_id__in=appeal_ids).order_by().values_list("appeal_id", "bureau_id").distinct()
    )
    for appeal_id, bureau_id in rows:
        found.setdefault(appeal_id, []).append(bureau_id)
    return {appeal_id: tuple(sorted(ids)) for appeal_id, ids in found.items()}


_publisher_lock = threading.Lock()
_publisher: tuple[int, asyncio.AbstractEventLoop] | None = None


def _publisher_loop() -> asyncio.AbstractEventLoop:
    """A long-lived event loop in a daemon thread, one per process (re-created after a fork).

    Synchronous code (services committing in a WSGI/ASGI thread, Celery workers) would otherwise
    go through ``async_to_sync``, which starts a fresh event loop per call, and channels-redis
    opens a fresh Redis connection per loop: ~50 ms per publish instead of ~1 ms.
    """
    global _publisher
    with _publisher_lock:
        if _publisher is None or _publisher[0] != os.getpid() or _publisher[1].is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="realtime-publisher", daemon=True).start()
            _publisher = (os.getpid(), loop)
        return _publisher[1]


def send_to_groups(sends: list[tuple[str, dict[str, Any]]]) -> bool:
    """group_send each (group, message) in one event-loop hop; log and swallow errors."""
    if not sends:
        return True
    layer = get_channel_layer()
    if layer is None:
        return False

    by_group: dict[str, list[dict[str, Any]]] = {}
    for group, message in sends:
        by_group.setdefault(group, []).append(message)

    async def _send_group(group: str, messages: list[dict[str, Any]]) -> None:
        for message in messages:  # in order within a group
            await layer.group_send(group, message)

    async def _send_all() -> None:
        # Groups concurrently: one round trip's wait for all of them instead of one per message.
        await asyncio.gather(*(_send_group(group, messages) for group, messages in by_group.items()))

    try:
        if isinstance(layer, InMemoryChannelLayer):
            # The in-memory layer's queues belong to the consumers' loop: publish from that loop.
            async_to_sync(_send_all)()
        else:
            asyncio.run_coroutine_threadsafe(_send_all(), _publisher_loop()).result(timeout=PUBLISH_TIMEOUT)
    except Exception:
        logger.exception("Could not publish %d realtime message(s); consoles will resync.", len(sends))
        return False
    return True


def event_message(payload: dict[str, Any]) -> dict[str, Any]:
    """The channel-layer message for one group: the payload (for the consumer's access check) and
    its JSON text, encoded once here rather than once per console (docs/benchmarks.md)."""
    return {"type": "realtime.event", "payload": payload, "text": json.dumps(payload, separators=(",", ":"))}


def publish_events(messages: list[dict[str, Any]], *, new_appeal_ids: frozenset[int] = frozenset()) -> bool:
    """Broadcast outbox events (in order per group) with one trip to the channel layer; never raises.

    ``new_appeal_ids``: appeals created in the emitting transaction; they have no co-handling
    bureaus and no subscribers of their own yet. Co-handlers of the others come from one query.
    """
    try:
        others = {m["appeal_id"] for m in messages if m.get("appeal_id") and m["appeal_id"] not in new_appeal_ids}
        cohandlers = _cohandling_bureau_ids(others)
        sends = []
        for message in messages:
            appeal_id = message.get("appeal_id")
            extra = cohandlers.get(appeal_id, ()) if appeal_id is not None else ()
            for group in groups_for(message, extra_bureau_ids=extra, new_appeal=appeal_id in new_appeal_ids):
                sends.append((group, event_message({**message, "group": group})))
    except Exception:
        logger.exception("Could not work out realtime groups for %s", [m.get("event") for m in messages])
        return False
    return send_to_groups(sends)


def push_unread(user_id: int | None) -> bool:
    """Tell every open session of ``user_id`` its current unread inbox count."""
    if not user_id:
        return False
    from notifications.models import InboxItem

    try:
        unread = InboxItem.objects.filter(user_id=user_id, read_at__isnull=True).count()
    except Exception:
        logger.exception("Could not count unread items for user %s", user_id)
        return False
    return send_to_groups(
        [(user_group(user_id), {"type": "realtime.inbox", "payload": {"type": "inbox", "unread": unread}})]
    )
