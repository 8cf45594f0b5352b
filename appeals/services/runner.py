"""The write protocol every appeal service follows, in one place.

1. ``open_appeal``: lock the appeal row (``SELECT … FOR UPDATE OF appeals_appeal``) and compare
   the version the user's form showed — a stale form gets ``StateConflict(code="stale")``;
2. the service checks state and permission (``run_transition`` does it from the FSM decorator);
3. ``commit``: bump the version, ``save(update_fields=…)``, append the audit event and write the
   outbox row, inside the same transaction. Deliveries happen after commit from the outbox.

``record`` appends an audit event without saving the row, for the sub-steps of a write whose
``commit`` follows (assignment inside a submission, a paused clock). Nothing else in the project
calls ``appeals.audit.record_event`` for a live appeal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django_fsm import ConcurrentTransition, can_proceed

from appeals import access_codes, audit, event_hooks
from appeals.errors import InvalidInput, NotAllowed, StateConflict
from appeals.models import Appeal, AppealEvent, AppealState
from notifications import links, outbox

if TYPE_CHECKING:
    from django_fsm import FSMMeta

APPELLANT = audit.APPELLANT
SYSTEM = audit.SYSTEM


def state_label(state: str) -> str:
    return str(AppealState(state).label)


def require_text(value: str | None, message: str) -> str:
    """``value`` stripped, or ``InvalidInput(message, code="required")`` when it is blank."""
    value = (value or "").strip()
    if not value:
        raise InvalidInput(message, code="required")
    return value


def lock_appeal(appeal_id: int) -> Appeal:
    """The appeal, its row locked until the transaction ends; ``InvalidInput`` when it does not exist."""
    appeal = (
        # of=("self",): PostgreSQL cannot lock the nullable side of the bureau outer join.
        Appeal.objects.select_for_update(of=("self",))
        .select_related("bureau", "bureau__bureau_type", "category")
        .filter(pk=appeal_id)
        .first()
    )
    if appeal is None:
        raise InvalidInput(_("找不到这件诉求。"), code="not_found")
    return appeal


def check_version(appeal: Appeal, expected_version: int | None) -> None:
    """Refuse a write built on a version of the appeal the user no longer sees (None: not checked)."""
    if expected_version is not None and appeal.version != expected_version:
        raise StateConflict(
            _("这件诉求刚刚被其他人更新过（现在是“%(state)s”）。请刷新页面查看最新情况后再操作。")
            % {"state": state_label(appeal.state)},
            code="stale",
        )


def open_appeal(appeal_id: int, *, expected_version: int | None = None) -> Appeal:
    """Lock the appeal and check the version the user saw. Call inside ``transaction.atomic()``."""
    appeal = lock_appeal(appeal_id)
    check_version(appeal, expected_version)
    return appeal


def record(appeal: Appeal, **event: Any) -> AppealEvent:
    """Append one audit event (the caller holds the row lock and commits the row itself).

    ``event``: ``appeals.audit.record_event``'s arguments — ``kind``, ``actor`` and optionally
    ``from_state``, ``to_state``, ``reason``, ``data``, ``at``.
    """
    row = audit.record_event(appeal=appeal, **event)
    event_hooks.event_recorded(appeal.pk, row.kind)
    return row


def commit(
    appeal: Appeal,
    *,
    kind: str | None,
    fields: Iterable[str] | None = (),
    event_type: str | None = None,
    payload: dict[str, Any] | None = None,
    bureau: Any = None,
    bump_version: bool = True,
    **event: Any,
) -> AppealEvent | None:
    """Save the changed appeal, append its audit event and write its outbox row.

    ``fields`` are the changed columns (``version`` and ``updated_at`` are added); None saves
    every column, which a state transition needs (``ConcurrentTransitionMixin`` makes that UPDATE
    conditional on the state that was read). ``kind`` and ``event`` (``actor``, ``reason``,
    ``data``, ``from_state``, ``to_state``, ``at``) describe the audit event; ``kind`` None records
    none (the write's sub-steps recorded theirs with ``record``). ``event_type`` None writes no
    outbox row. ``bump_version`` False is for system writes the user's open form should survive
    (assignment inside a submission, an event about an appeal whose row does not change).
    Returns the audit event.
    """
    if bump_version:
        appeal.version += 1
    fields = None if fields is None else list(fields)
    if fields is None:
        appeal.save()
    elif fields or bump_version:
        update_fields = list(dict.fromkeys([*fields, "updated_at"]))
        if bump_version:
            update_fields.append("version")
        appeal.save(update_fields=update_fields)
    # else: nothing on the row changed (an event about the appeal, e.g. its master's outcome).
    event_row = record(appeal, kind=kind, **event) if kind else None
    if event_type:
        outbox.emit(event_type, appeal=appeal, bureau=bureau, payload=payload)
    return event_row


class _TransitionMethod(Protocol):
    """A transition method: django_fsm keeps its transitions' metadata on the function."""

    _django_fsm: FSMMeta


def may(method: _TransitionMethod, appeal: Appeal, user: Any) -> bool:
    """The transition's permission alone (django_fsm's has_transition_perm also checks conditions,
    which would report an unmet condition such as a closed return window as a denial)."""
    return method._django_fsm.has_transition_perm(appeal, appeal.state, user)


def run_transition(
    *,
    appeal_id: int,
    transition: str,
    actor: Any,
    kind: str,
    action_label: str,
    kwargs: dict[str, Any] | None = None,
    reason: str = "",
    data: dict[str, Any] | None = None,
    expected_version: int | None = None,
    check_permission: bool = True,
    before: Callable[[Appeal], None] | None = None,
    after: Callable[[Appeal], None] | None = None,
    event_type: str | None = None,
    payload: dict[str, Any] | None = None,
) -> Appeal:
    """Lock, check, transition, commit — the shape every state change shares.

    ``actor`` is a user (permission checked on the transition) or APPELLANT/SYSTEM (already
    authorised by the caller). ``before`` runs after the checks and before the transition, for
    service-specific validation; ``after`` sets derived fields (deadlines) before saving.
    ``payload`` adds entries to the outbox row's payload (``from`` and ``to`` are always there).
    Raises ``StateConflict`` (stale version, wrong state, unmet condition, a concurrent write)
    and ``NotAllowed`` (the transition's permission).
    """
    now = timezone.now()
    try:
        with transaction.atomic():
            appeal = open_appeal(appeal_id, expected_version=expected_version)
            method = getattr(appeal, transition)
            if not can_proceed(method, check_conditions=False):
                raise StateConflict(
                    _("这件诉求现在是“%(state)s”，不能%(action)s。可能已被其他人处理，请刷新页面。")
                    % {"state": state_label(appeal.state), "action": action_label},
                    code="wrong_state",
                )
            if check_permission and actor not in (APPELLANT, SYSTEM) and not may(method, appeal, actor):
                raise NotAllowed(_("您没有权限%(action)s这件诉求。") % {"action": action_label}, code="forbidden")
            if before is not None:
                before(appeal)
            if not can_proceed(method):
                raise StateConflict(_("现在不能%(action)s这件诉求。") % {"action": action_label}, code="condition")
            from_state = appeal.state
            method(**(kwargs or {}))
            if after is not None:
                after(appeal)
            commit(
                appeal,
                fields=None,
                kind=kind,
                actor=actor,
                from_state=from_state,
                to_state=appeal.state,
                reason=reason,
                data=data,
                at=now,
                event_type=event_type or f"appeal.{kind}",
                payload={**(payload or {}), "from": from_state, "to": appeal.state},
            )
    except ConcurrentTransition:
        raise StateConflict(_("这件诉求刚刚被其他人处理了。请刷新页面查看最新情况。"), code="concurrent") from None
    return appeal


@dataclass(frozen=True)
class OwnerProof:
    """The appellant's authority without the access code: a verified contact phone or a signed link.

    Built by the portal only after it checked the proof (``appeals.portal.selfservice``): an SMS code
    for the appeal's contact phone, or a link we sent to it. ``access_version`` is the version of the
    access code the proof was made for (``notifications.links.access_version``): a code issued since
    then voids the proof, as it voids the old code.
    """

    appeal_id: int
    access_version: str


def check_access_code(appeal_id: int, access_code: str | OwnerProof | None) -> None:
    """The appellant's authority: the access code of this appeal (or an ``OwnerProof``), else ``NotAllowed``."""
    appeal = Appeal.objects.filter(pk=appeal_id).only("tracking_number", "access_code_hash").first()
    if isinstance(access_code, OwnerProof):
        allowed = (
            appeal is not None
            and access_code.appeal_id == appeal.pk
            and constant_time_compare(access_code.access_version, links.access_version(appeal.access_code_hash))
        )
    else:
        allowed = appeal is not None and access_codes.check_access_code(
            appeal.tracking_number, access_code or "", appeal.access_code_hash
        )
    if not allowed:
        raise NotAllowed(_("受理编号或查询码不正确。"), code="access_code")
