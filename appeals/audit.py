"""The audit trail: append-only, hash-chained events per appeal.

Each event's hash covers the previous event's hash and the event's own canonical content, so
editing or deleting a row anywhere in a chain is detected by ``verify_chain`` (and by
``manage.py verify_audit`` over every appeal).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from appeals.models import Appeal, AppealEvent

SYSTEM = "system"
APPELLANT = "appellant"


def event_digest(
    *,
    prev_hash: str,
    appeal_id: int,
    seq: int,
    kind: str,
    actor_id: int | None,
    actor_kind: str,
    actor_label: str,
    from_state: str,
    to_state: str,
    reason: str,
    data: dict[str, Any],
    created_at: datetime,
) -> str:
    """SHA-256 over the previous hash and a canonical JSON of the event's content."""
    content = {
        "appeal": appeal_id,
        "seq": seq,
        "kind": kind,
        "actor": actor_id,
        "actor_kind": actor_kind,
        "actor_label": actor_label,
        "from": from_state,
        "to": to_state,
        "reason": reason,
        "data": data,
        "at": created_at.astimezone(UTC).isoformat(timespec="microseconds"),
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder)
    return hashlib.sha256((prev_hash + canonical).encode()).hexdigest()


def _actor_fields(actor: Any) -> tuple[int | None, str, str]:
    if actor is None or actor == SYSTEM:
        return None, AppealEvent.ActorKind.SYSTEM, ""
    if actor == APPELLANT:
        return None, AppealEvent.ActorKind.APPELLANT, ""
    profile = getattr(actor, "staff_profile", None)
    label = (profile.display_name if profile and profile.display_name else "") or actor.get_username()
    return actor.pk, AppealEvent.ActorKind.STAFF, label


def build_event(
    *,
    appeal: Appeal,
    seq: int,
    prev_hash: str,
    kind: str,
    actor: Any = None,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AppealEvent:
    """An unsaved, hashed event; used by ``record_event`` and by bulk seeding."""
    actor_id, actor_kind, actor_label = _actor_fields(actor)
    created_at = at or timezone.now()
    # Round-trip through JSON so the hash covers exactly what the database will return.
    data = json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder))
    digest = event_digest(
        prev_hash=prev_hash,
        appeal_id=appeal.pk,
        seq=seq,
        kind=kind,
        actor_id=actor_id,
        actor_kind=actor_kind,
        actor_label=actor_label,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data,
        created_at=created_at,
    )
    return AppealEvent(
        appeal=appeal,
        seq=seq,
        kind=kind,
        actor_id=actor_id,
        actor_kind=actor_kind,
        actor_label=actor_label,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        data=data,
        created_at=created_at,
        prev_hash=prev_hash,
        hash=digest,
    )


def record_event(
    *,
    appeal: Appeal,
    kind: str,
    actor: Any = None,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AppealEvent:
    """Append one event to the appeal's chain.

    Must run inside the transaction that made the change, with the appeal row locked (services
    do this), so two writers cannot take the same sequence number.
    ``actor`` is a user, ``"appellant"`` or ``"system"``/None.
    """
    [event] = record_events(
        appeal=appeal,
        events=[
            {
                "kind": kind,
                "actor": actor,
                "from_state": from_state,
                "to_state": to_state,
                "reason": reason,
                "data": data,
                "at": at,
            }
        ],
    )
    return event


def record_events(*, appeal: Appeal, events: list[dict[str, Any]]) -> list[AppealEvent]:
    """Append several events, in order, with one INSERT; each dict holds ``record_event``'s arguments."""
    tail = appeal.__dict__.get(_TAIL)
    if tail is None:
        tail = AppealEvent.objects.filter(appeal=appeal).order_by("-seq").values_list("seq", "hash").first()
    seq, prev_hash = tail if tail else (0, "")
    built = []
    for spec in events:
        seq += 1
        event = build_event(appeal=appeal, seq=seq, prev_hash=prev_hash, **spec)
        prev_hash = event.hash
        built.append(event)
    if len(built) == 1:
        built[0].save(force_insert=True)
    else:
        AppealEvent.objects.bulk_create(built)
    if _TAIL in appeal.__dict__:
        appeal.__dict__[_TAIL] = (seq, prev_hash)
    return built


# The chain's last (seq, hash), kept on an appeal instance its creator has just inserted, so the
# events of a submission are appended without reading back what the same transaction wrote.
_TAIL = "_audit_tail"


def start_tail(appeal: Appeal) -> None:
    """Mark a just-inserted appeal (no events yet): ``record_event`` then tracks its chain in memory.

    Only for the transaction that inserted the row (nobody else can see it yet); call
    ``forget_tail`` once that transaction has ended.
    """
    appeal.__dict__[_TAIL] = (0, "")


def forget_tail(appeal: Appeal) -> None:
    """Back to reading the chain's end from the database (other writers may now append)."""
    appeal.__dict__.pop(_TAIL, None)


@dataclass(frozen=True)
class ChainProblem:
    appeal_id: int
    seq: int
    problem: str


def verify_chain(events: Iterable[AppealEvent]) -> list[ChainProblem]:
    """Check one appeal's events (in seq order): sequence gaps, broken links and altered content."""
    problems: list[ChainProblem] = []
    prev_hash = ""
    expected_seq = 1
    for event in events:
        if event.seq != expected_seq:
            problems.append(
                ChainProblem(
                    event.appeal_id, event.seq, f"expected event #{expected_seq} (missing or reordered events)"
                )
            )
            expected_seq = event.seq
        if event.prev_hash != prev_hash:
            problems.append(ChainProblem(event.appeal_id, event.seq, "link to the previous event is broken"))
        digest = event_digest(
            prev_hash=event.prev_hash,
            appeal_id=event.appeal_id,
            seq=event.seq,
            kind=event.kind,
            actor_id=event.actor_id,
            actor_kind=event.actor_kind,
            actor_label=event.actor_label,
            from_state=event.from_state,
            to_state=event.to_state,
            reason=event.reason,
            data=event.data,
            created_at=event.created_at,
        )
        if digest != event.hash:
            problems.append(ChainProblem(event.appeal_id, event.seq, "content does not match its hash (altered)"))
        prev_hash = event.hash
        expected_seq += 1
    return problems
