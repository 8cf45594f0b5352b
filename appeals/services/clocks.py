"""The appeal's deadline clocks: pausing while waiting on the appellant, and extensions (延期).

Which deadline runs now is read by ``appeals.selectors.deadlines.running_deadline``; the sweep
that warns, urges and supervises against it is ``appeals.services.escalation``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals import permissions as perms
from appeals.errors import InvalidInput, NotAllowed, StateConflict
from appeals.models import Appeal, AppealState, Extension
from appeals.services.runner import commit, open_appeal, record, require_text
from routing import deadlines


def pause_clock(appeal: Appeal, *, at: datetime, actor: Any) -> list[str]:
    """Stop the deadline clock of a handling appeal (the caller holds the row lock and commits).

    Returns the fields to save; writes a ``clock_paused`` audit event. No-op (empty list) when the
    clock already stands or the appeal is not being handled.
    """
    if appeal.paused_at is not None or appeal.state not in (AppealState.HANDLING, AppealState.REVIEW):
        return []
    appeal.paused_at = at
    record(appeal, kind="clock_paused", actor=actor, at=at)
    return ["paused_at"]


def resume_clock(appeal: Appeal, *, at: datetime, actor: Any) -> list[str]:
    """Restart a paused clock; open deadlines move by the working-day time spent waiting.

    Returns the fields to save; writes a ``clock_resumed`` audit event with the old and new
    deadlines. No-op (empty list) when the clock is running.
    """
    if appeal.paused_at is None:
        return []
    waited = deadlines.working_time_between(appeal.paused_at, at)
    fields = ["paused_at"]
    moved: dict[str, list[str]] = {}
    for name in ("reply_due", "first_contact_due", "promised_reply_by"):
        due = getattr(appeal, name)
        if due is None or (name == "first_contact_due" and appeal.first_contact_at is not None):
            continue
        new_due = deadlines.add_working_time(due, waited)
        setattr(appeal, name, new_due)
        moved[name] = [due.isoformat(), new_due.isoformat()]
        fields.append(name)
    record(
        appeal,
        kind="clock_resumed",
        actor=actor,
        data={"paused_at": appeal.paused_at.isoformat(), "paused_seconds": int(waited.total_seconds()), **moved},
        at=at,
    )
    appeal.paused_at = None
    return fields


def appeal_resume_clock(*, appeal_id: int, user: Any, note: str = "", expected_version: int | None = None) -> Appeal:
    """Staff restart a paused clock by hand (the appellant answered by phone, or will not answer)."""
    with transaction.atomic():
        appeal = open_appeal(appeal_id, expected_version=expected_version)
        if not perms.is_assigned_officer_or_lead(appeal, user):
            raise NotAllowed(_("只有这件诉求的承办人或本单位负责人可以恢复计时。"), code="forbidden")
        if appeal.paused_at is None:
            raise StateConflict(_("这件诉求没有暂停计时。"), code="not_paused")
        # resume_clock writes the clock_resumed event; nothing more to record or announce.
        commit(appeal, fields=resume_clock(appeal, at=timezone.now(), actor=user), kind=None, actor=user)
    return appeal


def extension_limits(appeal: Appeal) -> tuple[int, int]:
    """(most extensions, most working days per request) under the appeal's deadline policy."""
    return deadlines.extension_limits(
        category=appeal.category_id, urgent=appeal.is_urgent, appeal_type=appeal.appeal_type
    )


def may_request_extension(appeal: Appeal, user: Any) -> bool:
    """Whether ``user`` may ask for an extension now (the console offers the button on this)."""
    if appeal.state != AppealState.HANDLING or not perms.is_assigned_officer_or_lead(appeal, user):
        return False
    if any(e.status == Extension.Status.PENDING for e in appeal.extensions.all()):
        return False
    return appeal.extension_count < extension_limits(appeal)[0]


def extension_request(
    *, appeal_id: int, user: Any, reason: str, working_days: int, expected_version: int | None = None
) -> Extension:
    """延期申请 on a handling appeal; a dispatcher decides. Limits: count and length per request."""
    reason = require_text(reason, _("请写明延期理由。"))
    with transaction.atomic():
        appeal = open_appeal(appeal_id, expected_version=expected_version)
        # The limits come from the appeal's deadline policy (category × appeal type × urgency).
        max_count, max_days = extension_limits(appeal)
        if not 1 <= working_days <= max_days:
            raise InvalidInput(_("每次延期为1至%(max)d个工作日。") % {"max": max_days}, code="length")
        if not perms.is_assigned_officer_or_lead(appeal, user):
            raise NotAllowed(_("您没有权限为这件诉求申请延期。"), code="forbidden")
        if appeal.state != AppealState.HANDLING:
            raise StateConflict(_("只有办理中的诉求可以申请延期。"), code="wrong_state")
        if appeal.extension_count >= max_count:
            raise StateConflict(
                _("这件诉求已延期%(count)d次，达到上限。") % {"count": appeal.extension_count}, code="limit"
            )
        if appeal.extensions.filter(status=Extension.Status.PENDING).exists():
            raise StateConflict(_("已有一份延期申请在审批中。"), code="pending")
        extension = Extension.objects.create(
            appeal=appeal, reason=reason, working_days=working_days, requested_by=user, previous_due=appeal.reply_due
        )
        commit(
            appeal,
            kind="extension_requested",
            actor=user,
            reason=reason,
            data={"extension_id": extension.pk, "working_days": working_days},
            event_type="extension.requested",
            payload={"extension_id": extension.pk},
        )
    return extension


def extension_decide(
    *, extension_id: int, user: Any, approve: bool, note: str = "", expected_version: int | None = None
) -> Extension:
    """A dispatcher approves (the reply deadline moves) or refuses an extension; the appellant is told."""
    if not perms.is_dispatcher(user):
        raise NotAllowed(_("只有分拨员可以审批延期。"), code="forbidden")
    with transaction.atomic():
        extension = Extension.objects.select_for_update().filter(pk=extension_id).first()
        if extension is None:
            raise InvalidInput(_("找不到这份延期申请。"), code="not_found")
        appeal = open_appeal(extension.appeal_id, expected_version=expected_version)
        if extension.status != Extension.Status.PENDING:
            raise StateConflict(_("这份延期申请已经审批过了。"), code="decided")
        max_count, _max_days = extension_limits(appeal)
        if approve and appeal.extension_count >= max_count:
            raise StateConflict(_("延期次数已达上限。"), code="limit")
        now = timezone.now()
        extension.status = Extension.Status.APPROVED if approve else Extension.Status.REFUSED
        extension.decided_by = user
        extension.decided_at = now
        extension.decision_note = note
        fields: list[str] = []
        if approve:
            base = appeal.reply_due or now
            extension.new_due = deadlines.extended_deadline(due=base, working_days=extension.working_days)
            appeal.reply_due = extension.new_due
            # The business is told the new date; the promise never moves earlier.
            if appeal.promised_reply_by is None or extension.new_due > appeal.promised_reply_by:
                appeal.promised_reply_by = extension.new_due
            appeal.extension_count += 1
            appeal.warned_at = appeal.urged_at = appeal.supervised_at = None
            fields += ["reply_due", "promised_reply_by", "extension_count", "warned_at", "urged_at", "supervised_at"]
        extension.save()
        commit(
            appeal,
            fields=fields,
            kind="extension_approved" if approve else "extension_refused",
            actor=user,
            reason=note,
            data={
                "extension_id": extension.pk,
                "working_days": extension.working_days,
                "new_due": extension.new_due.isoformat() if extension.new_due else None,
                "request_reason": extension.reason,
            },
            event_type="extension.decided",
            payload={"extension_id": extension.pk, "approved": approve},
        )
    return extension
