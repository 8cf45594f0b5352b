"""Writes of the problem-ticket module: flagging, assigning a coordinating owner, resolving.

Each write is an audit event on the appeal (``problem_flagged``, ``problem_reflagged``,
``problem_owner_assigned``, ``problem_resolved``) in the same transaction as the ticket change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals.errors import InvalidInput, NotAllowed, StateConflict
from appeals.services.runner import SYSTEM, commit, open_appeal, require_text
from problems.models import ProblemState, ProblemTicket
from routing.roles import staff_display_name


def can_coordinate(user: Any) -> bool:
    """Supervisors assign owners and resolve problem tickets."""
    return bool(user.is_authenticated and user.has_perm("appeals.supervise_appeal"))


def can_own(user: Any) -> bool:
    """A coordinating owner is a supervisor or a bureau lead."""
    return bool(user.is_active and (user.has_perm("appeals.supervise_appeal") or user.has_perm("appeals.lead_bureau")))


def escalated(ticket: ProblemTicket, reasons: list[str], detail: dict[str, Any]) -> bool:
    """Whether the measures grew since the ticket was last written (a new reason, more re-openings,
    more bureaus, a new supervision)."""
    old = ticket.detail or {}
    return (
        not set(reasons) <= set(ticket.reasons)
        or detail["reopen_count"] > old.get("reopen_count", 0)
        or detail["bureaus"] > old.get("bureaus", 0)
        or (detail["supervised_at"] is not None and detail["supervised_at"] != old.get("supervised_at"))
    )


def problem_flag(*, appeal_id: int, reasons: list[str], detail: dict[str, Any], now: datetime) -> str:
    """Flag the appeal (or record what got worse). Returns "flagged", "updated" or "unchanged".

    A new ticket: event ``problem_flagged``. An open ticket whose measures grew: reasons and numbers
    updated, event ``problem_flagged`` again. A resolved ticket whose measures grew since it was
    resolved: flagged again (event ``problem_reflagged``). Otherwise nothing is written, so the
    sweep is idempotent.
    """
    with transaction.atomic():
        appeal = open_appeal(appeal_id)
        ticket = ProblemTicket.objects.select_for_update().filter(appeal_id=appeal_id).first()
        data = {"reasons": reasons, **{k: v for k, v in detail.items() if k != "bureau_ids"}}
        if ticket is None:
            ticket = ProblemTicket(
                appeal=appeal,
                detail=detail,
                region_id=appeal.region_id,
                bureau_id=appeal.bureau_id,
                flagged_at=now,
            )
            ticket.reasons = reasons
            ticket.save(force_insert=True)
            commit(appeal, kind="problem_flagged", fields=[], bump_version=False, actor=SYSTEM, data=data, at=now)
            return "flagged"
        if not escalated(ticket, reasons, detail):
            return "unchanged"
        kind = "problem_flagged"
        fields = ["reopened", "bureaus", "supervised", "detail", "bureau_id"]
        if ticket.state == ProblemState.RESOLVED:
            kind = "problem_reflagged"
            ticket.state = ProblemState.FLAGGED
            ticket.flagged_at = now
            fields += ["state", "flagged_at"]
        ticket.reasons = sorted(set(ticket.reasons) | set(reasons))
        ticket.detail = detail
        ticket.bureau_id = appeal.bureau_id
        ticket.save(update_fields=fields)
        commit(appeal, kind=kind, fields=[], bump_version=False, actor=SYSTEM, data=data, at=now)
        return "updated"


def _open_ticket(ticket_id: int) -> tuple[ProblemTicket, Any]:
    ticket = ProblemTicket.objects.filter(pk=ticket_id).only("appeal_id").first()
    if ticket is None:
        raise InvalidInput(_("找不到这个问题工单。"), code="not_found")
    appeal = open_appeal(ticket.appeal_id)
    ticket = ProblemTicket.objects.select_for_update().get(pk=ticket_id)
    if ticket.state != ProblemState.FLAGGED:
        raise StateConflict(_("这个问题工单已经解除了，请刷新页面。"), code="resolved")
    return ticket, appeal


def problem_assign_owner(*, user: Any, ticket_id: int, owner_id: int | None, note: str) -> ProblemTicket:
    """A supervisor names the coordinating owner (a supervisor or a bureau lead), with a note.

    Side effects: the ticket's owner fields and the audit event ``problem_owner_assigned``.
    Raises ``NotAllowed`` (not a supervisor), ``InvalidInput`` (no note, an owner who is neither a
    supervisor nor a bureau lead) and ``StateConflict`` (the ticket was resolved meanwhile).
    """
    if not can_coordinate(user):
        raise NotAllowed(_("只有督办员可以指派问题工单的协调负责人。"), code="forbidden")
    owner = get_user_model().objects.filter(pk=owner_id).select_related("staff_profile").first() if owner_id else None
    if owner is None or not can_own(owner):
        raise InvalidInput(_("请选择一位督办员或承办单位负责人作为协调负责人。"), code="owner")
    note = require_text(note, _("请写明指派说明，例如需要协调哪些单位、什么时候前反馈。"))
    now = timezone.now()
    with transaction.atomic():
        ticket, appeal = _open_ticket(ticket_id)
        previous = ticket.owner_id
        ticket.owner = owner
        ticket.owner_note = note
        ticket.owner_assigned_at = now
        ticket.save(update_fields=["owner", "owner_note", "owner_assigned_at"])
        commit(
            appeal,
            kind="problem_owner_assigned",
            fields=[],
            bump_version=False,
            actor=user,
            reason=note,
            data={
                "ticket_id": ticket.pk,
                "owner_id": owner.pk,
                "owner": staff_display_name(owner),
                "previous": previous,
            },
            at=now,
            event_type="problem.owner_assigned",
            # ``officer_id`` names the one recipient (the "assignee" audience).
            payload={"officer_id": owner.pk, "note": note, "by": staff_display_name(user), "ticket_id": ticket.pk},
        )
    return ticket


def problem_resolve(*, user: Any, ticket_id: int, reason: str) -> ProblemTicket:
    """A supervisor takes the flag off with a reason (event ``problem_resolved``).

    The ticket is flagged again only if the appeal gets worse afterwards (``problem_flag``).
    Raises ``NotAllowed``, ``InvalidInput`` (no reason) and ``StateConflict`` (already resolved).
    """
    if not can_coordinate(user):
        raise NotAllowed(_("只有督办员可以解除问题工单。"), code="forbidden")
    reason = require_text(reason, _("请写明解除理由。"))
    now = timezone.now()
    with transaction.atomic():
        ticket, appeal = _open_ticket(ticket_id)
        ticket.state = ProblemState.RESOLVED
        ticket.resolved_at = now
        ticket.resolved_by = user
        ticket.resolve_reason = reason
        ticket.save(update_fields=["state", "resolved_at", "resolved_by", "resolve_reason"])
        commit(
            appeal,
            kind="problem_resolved",
            fields=[],
            bump_version=False,
            actor=user,
            reason=reason,
            data={"ticket_id": ticket.pk},
            at=now,
        )
    return ticket
