"""The audit trail: append-only, keyed hash chains per appeal, tied to the appeal row.

What is guaranteed, and against whom (docs/architecture.md, "Audit trail", says the same):

- **Signed chain.** Each event's ``hash`` is HMAC-SHA256, under a dedicated audit key
  (``settings.AUDIT_KEYS``, newest first; ``key_id`` names the key), of the previous event's hash
  and the event's canonical content. Editing, reordering or deleting events breaks the chain, and
  someone with database access but without the key cannot re-compute valid hashes.
- **The appeal row is covered.** Each event also commits ``row_digest``, a SHA-256 of the appeal's
  audited fields (``AUDITED_FIELDS``) as they stood when the event was written; ``verify_audit``
  compares the row's current digest with the newest event's, so an edit of the row outside the
  services (a reply, a phone number, the bureau) is found.
- **Truncation.** ``record_events`` stores the chain's head (sequence and hash) on the appeal row
  in the same transaction, so deleting the newest events is found.
- **Deleted appeals.** A daily signed digest of every head (``appeals.audit_checkpoints``) is kept
  in the database and can be exported to an outside witness.

Someone holding both database access *and* the audit key can still rewrite history consistently;
the exported checkpoints held outside are the defence against that.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.models import Appeal, AppealEvent

SYSTEM = "system"
APPELLANT = "appellant"

# The key derived from SECRET_KEY when AUDIT_KEYS is unset: fine on a laptop, refused by the
# deployment check. Anyone who knows SECRET_KEY can sign with it.
DEV_KEY_ID = "dev-insecure"
# Events the 0004 migration could not re-sign because their unkeyed (pre-HMAC) chain was already
# broken: left as they were so verify_audit keeps reporting them.
LEGACY_BROKEN_KEY_ID = "legacy-broken"

# Fields of the appeal row whose value each event commits to (``row_digest``). Bookkeeping that
# changes without an event (``version``, ``updated_at``, the sweep's warned/urged/supervised
# markers, the paused clock, routing diagnostics) is left out on purpose.
AUDITED_FIELDS = (
    "tracking_number",
    "access_code_hash",
    "enterprise_id",
    "enterprise_name",
    "enterprise_credit_code",
    "contact_name",
    "contact_phone",
    "contact_email",
    "region_id",
    "industry",
    "enterprise_size",
    "category_id",
    "title",
    "description",
    "urgency",
    "urgency_reason",
    "channel",
    "state",
    "bureau_id",
    "officer_id",
    "merged_into_id",
    "rejection_reason",
    "reply",
    "rating_level",
    "reopen_count",
    "extension_count",
    "sign_for_due",
    "return_due",
    "first_contact_due",
    "reply_due",
    "submitted_at",
    "dispatched_at",
    "signed_at",
    "first_contact_at",
    "replied_at",
    "closed_at",
)


# --- Keys -----------------------------------------------------------------------------------------


@cache
def _derived_dev_key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), b"huying audit trail: development key", hashlib.sha256).digest()


def signing_keys() -> list[tuple[str, bytes]]:
    """(key id, key) pairs, newest first: the configured AUDIT_KEYS, or the derived development key."""
    configured = getattr(settings, "AUDIT_KEYS", None) or []
    if configured:
        return [(key_id, secret.encode()) for key_id, secret in configured]
    return [(DEV_KEY_ID, _derived_dev_key(settings.SECRET_KEY))]


def current_key() -> tuple[str, bytes]:
    """The key new events are signed with (the first of ``signing_keys``)."""
    return signing_keys()[0]


def key_for(key_id: str) -> bytes | None:
    """The key with this id, or None when it is not (or no longer) configured."""
    return dict(signing_keys()).get(key_id)


# --- Digests --------------------------------------------------------------------------------------


def _canonical_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return str(value)  # TextChoices members and lazy strings become plain text
    return value


def row_values(appeal: Any) -> dict[str, Any]:
    """The audited fields of an appeal (an instance, or a historical model's in migrations)."""
    return {name: _canonical_value(getattr(appeal, name)) for name in AUDITED_FIELDS}


def row_digest(appeal: Any) -> str:
    """SHA-256 of the appeal's audited fields; an event commits to it, the key covers the event."""
    canonical = json.dumps(row_values(appeal), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _content(
    *,
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
    row_digest: str = "",
    key_id: str | None = None,
) -> bytes:
    content: dict[str, Any] = {
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
    if key_id is not None:  # the keyed format also binds the row digest and the key's id
        content["row"] = row_digest
        content["key"] = key_id
    return json.dumps(
        content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder
    ).encode()


def event_digest(*, key: bytes, key_id: str, prev_hash: str, **content: Any) -> str:
    """HMAC-SHA256 under ``key`` of the previous hash and the event's canonical content."""
    message = prev_hash.encode() + _content(key_id=key_id, **content)
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def unkeyed_digest(*, prev_hash: str, key_id: str | None = None, **content: Any) -> str:
    """Plain SHA-256 of the same message: what someone without the key can compute.

    With ``key_id=None`` this is the chain format used before keys existed (migration 0004
    verifies old chains with it before re-signing them).
    """
    return hashlib.sha256(prev_hash.encode() + _content(key_id=key_id, **content)).hexdigest()


def event_content(event: Any) -> dict[str, Any]:
    return {
        "appeal_id": event.appeal_id,
        "seq": event.seq,
        "kind": event.kind,
        "actor_id": event.actor_id,
        "actor_kind": event.actor_kind,
        "actor_label": event.actor_label,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "reason": event.reason,
        "data": event.data,
        "created_at": event.created_at,
        "row_digest": event.row_digest,
    }


def sign(event: Any, *, key_id: str, key: bytes) -> str:
    """The hash ``event`` (saved or not) must carry when signed with this key."""
    return event_digest(key=key, key_id=key_id, prev_hash=event.prev_hash, **event_content(event))


# --- Writing --------------------------------------------------------------------------------------


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
    """An unsaved, signed event; used by ``record_event`` and by bulk seeding.

    The event commits to the appeal's audited fields as they are on ``appeal`` now, so callers
    set the fields the step changes before recording it.
    """
    actor_id, actor_kind, actor_label = _actor_fields(actor)
    key_id, key = current_key()
    event = AppealEvent(
        appeal=appeal,
        seq=seq,
        kind=kind,
        actor_id=actor_id,
        actor_kind=actor_kind,
        actor_label=actor_label,
        from_state=from_state,
        to_state=to_state,
        reason=str(reason),
        # Round-trip through JSON so the hash covers exactly what the database will return.
        data=json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder)),
        created_at=at or timezone.now(),
        prev_hash=prev_hash,
        row_digest=row_digest(appeal),
        key_id=key_id,
    )
    event.hash = sign(event, key_id=key_id, key=key)
    return event


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
    """Append one event to the appeal's chain and move the head stored on the appeal row.

    Must run inside the transaction that made the change, with the appeal row locked (services
    do this), so two writers cannot take the same sequence number. ``actor`` is a user,
    ``"appellant"`` or ``"system"``/None.
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
    """Append several events, in order, with one INSERT; each dict holds ``record_event``'s arguments.

    Also writes the new head (``audit_head_seq``/``audit_head_hash``) to the appeal row, with an
    UPDATE of those two columns only, in the caller's transaction, and onto ``appeal`` itself so a
    later ``appeal.save()`` writes the same values.
    """
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
    store_head(appeal, seq=seq, hash=prev_hash)
    if _TAIL in appeal.__dict__:
        appeal.__dict__[_TAIL] = (seq, prev_hash)
    return built


def store_head(appeal: Appeal, *, seq: int, hash: str) -> None:
    """Write the chain's head onto the appeal row (and instance) without touching other columns."""
    Appeal.objects.filter(pk=appeal.pk).update(audit_head_seq=seq, audit_head_hash=hash)
    appeal.audit_head_seq, appeal.audit_head_hash = seq, hash


def store_heads(events: Iterable[AppealEvent]) -> None:
    """Bulk seeding: record each appeal's head from the events it has just inserted."""
    heads: dict[int, AppealEvent] = {}
    for event in events:
        if event.appeal_id not in heads or event.seq > heads[event.appeal_id].seq:
            heads[event.appeal_id] = event
    rows = [Appeal(pk=pk, audit_head_seq=e.seq, audit_head_hash=e.hash) for pk, e in heads.items()]
    Appeal.objects.bulk_update(rows, ["audit_head_seq", "audit_head_hash"], batch_size=1000)


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


# --- Verifying ------------------------------------------------------------------------------------


class Finding:
    """Kinds of problem ``verify_chain``/``verify_appeal`` report (stable codes for scripts and tests)."""

    EDITED = "edited"
    REHASHED = "rehashed"
    UNKNOWN_KEY = "unknown_key"
    LEGACY_BROKEN = "legacy_broken"
    REORDERED = "reordered"
    MISSING = "missing"
    BROKEN_LINK = "broken_link"
    TRUNCATED = "truncated"
    HEAD_MISMATCH = "head_mismatch"
    ROW_EDITED = "row_edited"
    STATE_MISMATCH = "state_mismatch"
    NO_EVENTS = "no_events"
    DELETED_APPEAL = "deleted_appeal"
    CHECKPOINT = "checkpoint"


@dataclass(frozen=True)
class ChainProblem:
    appeal_id: int
    seq: int
    problem: str
    kind: str = Finding.EDITED


def verify_chain(events: Iterable[AppealEvent]) -> list[ChainProblem]:
    """Check one appeal's events (in seq order): gaps, order, links and each event's signature."""
    chain = list(events)
    position = {event.hash: event.seq for event in chain}
    problems: list[ChainProblem] = []
    prev_hash = ""
    expected_seq = 1
    for event in chain:

        def report(kind: str, text: str, event: AppealEvent = event) -> None:
            problems.append(ChainProblem(event.appeal_id, event.seq, text, kind))

        gap = event.seq > expected_seq
        if gap:
            report(
                Finding.MISSING,
                _("第 %(first)d 至 %(last)d 条记录缺失（中间的记录被删除）")
                % {"first": expected_seq, "last": event.seq - 1},
            )
        elif event.seq < expected_seq:
            report(Finding.REORDERED, _("序号重复或倒序（记录被调换顺序）"))
        if event.prev_hash != prev_hash:
            linked = position.get(event.prev_hash)
            if linked is not None and linked != event.seq - 1:
                report(
                    Finding.REORDERED,
                    _("本条本应接在第 %(seq)d 条之后（记录被调换顺序）") % {"seq": linked},
                )
            elif not gap:
                report(Finding.BROKEN_LINK, _("与上一条记录的链接断开（上一条被改动或替换）"))
        _check_signature(event, report)
        prev_hash = event.hash
        expected_seq = event.seq + 1
    return problems


def _check_signature(event: AppealEvent, report: Any) -> None:
    if event.key_id == LEGACY_BROKEN_KEY_ID:
        report(Finding.LEGACY_BROKEN, _("升级为密钥签名时，这条记录的旧（无密钥）哈希链已经断开，未能重新签名"))
        return
    key = key_for(event.key_id)
    if key is None:
        report(
            Finding.UNKNOWN_KEY,
            _("签名密钥“%(key)s”未配置（伪造，或该密钥已从 AUDIT_KEYS 中移除）") % {"key": event.key_id},
        )
        return
    if hmac.compare_digest(sign(event, key_id=event.key_id, key=key), event.hash):
        return
    content = event_content(event)
    if event.hash == unkeyed_digest(prev_hash=event.prev_hash, key_id=event.key_id, **content):
        report(Finding.REHASHED, _("内容被改动后用无密钥的哈希重新计算（不是审计密钥签名的）"))
    else:
        report(Finding.EDITED, _("内容与签名不符（记录被改动）"))


def verify_appeal(appeal: Any, chain: list[AppealEvent]) -> list[ChainProblem]:
    """What the appeal row says against its events: the stored head and the audited fields.

    ``appeal`` carries ``pk``, ``state``, ``audit_head_seq``, ``audit_head_hash`` and the
    ``AUDITED_FIELDS``; ``chain`` is its events in seq order (already checked by ``verify_chain``).
    """
    problems: list[ChainProblem] = []
    if not chain:
        return [ChainProblem(appeal.pk, 0, _("诉求没有任何办理记录（整条记录链被删除）"), Finding.NO_EVENTS)]
    last = chain[-1]
    if appeal.audit_head_seq > last.seq:
        problems.append(
            ChainProblem(
                appeal.pk,
                last.seq,
                _("诉求记录的最新一条是第 %(head)d 条，现存记录只到第 %(last)d 条（最新的记录被删除）")
                % {"head": appeal.audit_head_seq, "last": last.seq},
                Finding.TRUNCATED,
            )
        )
    elif appeal.audit_head_seq != last.seq or appeal.audit_head_hash != last.hash:
        problems.append(
            ChainProblem(
                appeal.pk,
                last.seq,
                _("诉求上保存的链头（第 %(head)d 条）与最新记录不符（记录或诉求被改动）")
                % {"head": appeal.audit_head_seq},
                Finding.HEAD_MISMATCH,
            )
        )
    if last.row_digest and row_digest(appeal) != last.row_digest:
        problems.append(
            ChainProblem(
                appeal.pk,
                last.seq,
                _(
                    "诉求本身（状态、单位、承办人、标题、内容、答复、联系电话、企业信息、时限等）在最新记录之后被直接改动"
                ),
                Finding.ROW_EDITED,
            )
        )
    last_state = next((e.to_state for e in reversed(chain) if e.to_state), "")
    if last_state and appeal.state != last_state:
        problems.append(
            ChainProblem(
                appeal.pk,
                last.seq,
                _("诉求状态为“%(state)s”，而办理记录最后的状态是“%(last)s”")
                % {"state": appeal.state, "last": last_state},
                Finding.STATE_MISMATCH,
            )
        )
    return problems
