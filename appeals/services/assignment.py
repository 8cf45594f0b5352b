"""Who in the bureau handles an appeal: automatic assignment and the lead's reassignment.

The policy (pool, round robin, least loaded, skills) is decided by ``routing.assignment``; the
writes to the appeal are here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals import permissions as perms
from appeals.errors import InvalidInput, NotAllowed, StateConflict
from appeals.models import Appeal, AppealState
from appeals.services.runner import SYSTEM, commit, open_appeal, record, state_label
from routing import assignment
from routing.models import Bureau, StaffProfile
from routing.roles import Role, staff_display_name


def auto_assign(appeal: Appeal, *, at: datetime | None = None) -> Any | None:
    """Assign a just-dispatched appeal inside its bureau (see ``routing.assignment``).

    The caller holds the appeal's row lock inside its transaction (the dispatch services do).
    Saves ``officer``, writes an ``assigned`` (or ``assignment_skipped``) audit event and an
    ``appeal.assigned`` outbox row. Returns the officer, or None when the appeal stays in the pool.
    The version is not bumped: a form opened on the dispatched appeal stays valid.
    """
    if appeal.state != AppealState.DISPATCHED:
        return None
    bureau = appeal.bureau
    if bureau is None or bureau.assignment_mode == Bureau.AssignmentMode.POOL:
        return None
    choice = assignment.choose_officer(bureau, category_id=appeal.category_id)
    if choice.officer is None:
        record(
            appeal,
            kind="assignment_skipped",
            actor=SYSTEM,
            reason=_("本单位暂无可分配的承办人（均不在岗或已达在办上限），诉求留在本单位待签收。"),
            data={"mode": choice.mode, "reason": choice.reason},
            at=at,
        )
        return None
    if choice.mode == Bureau.AssignmentMode.ROUND_ROBIN:
        assignment.remember_round_robin(bureau, choice.officer.pk)
    appeal.officer = choice.officer
    commit(
        appeal,
        fields=["officer"],
        bump_version=False,
        kind="assigned",
        actor=SYSTEM,
        data={
            "officer_id": choice.officer.pk,
            "officer": staff_display_name(choice.officer),
            "mode": choice.mode,
            "candidates": choice.candidates,
        },
        at=at,
        event_type="appeal.assigned",
        payload={"officer_id": choice.officer.pk, "mode": choice.mode},
    )
    return choice.officer


def assign_after_dispatch(appeal: Appeal) -> Appeal:
    """Assignment inside the bureau after a manual dispatch, in its own transaction.

    Returns the appeal, refreshed when an officer was assigned.
    """
    with transaction.atomic():
        officer = auto_assign(open_appeal(appeal.pk), at=timezone.now())
    if officer is not None:
        # A fresh instance, not refresh_from_db(): django-fsm-2 switches `protected` off on the field
        # shared by every instance while refreshing, which races other threads' saves (a 500 after a
        # committed write).
        return Appeal.objects.get(pk=appeal.pk)
    return appeal


def appeal_reassign(
    *, appeal_id: int, user: Any, officer_id: int, reason: str = "", expected_version: int | None = None
) -> Appeal:
    """改派承办人: the bureau lead gives an appeal to another officer of the same bureau.

    Allowed while the appeal is dispatched, handling or in review. Writes a ``reassigned`` audit
    event and an ``appeal.assigned`` outbox row for the new officer. Raises ``NotAllowed`` (not
    the bureau's lead), ``StateConflict`` (state, stale version), ``InvalidInput`` (officer).
    """
    with transaction.atomic():
        appeal = open_appeal(appeal_id, expected_version=expected_version)
        if not perms.is_bureau_lead(appeal, user) or appeal.bureau_id is None:
            raise NotAllowed(_("只有本单位负责人可以改派承办人。"), code="forbidden")
        if appeal.state not in (AppealState.DISPATCHED, AppealState.HANDLING, AppealState.REVIEW):
            raise StateConflict(
                _("这件诉求现在是“%(state)s”，不能改派承办人。") % {"state": state_label(appeal.state)},
                code="wrong_state",
            )
        profile = (
            StaffProfile.objects.select_related("user")
            .filter(user_id=officer_id, bureau_id=appeal.bureau_id, role__in=[Role.OFFICER, Role.LEAD])
            .first()
        )
        if profile is None or not profile.user.is_active:
            raise InvalidInput(_("请选择本单位的一名承办人。"), code="officer")
        if appeal.officer_id == officer_id:
            raise InvalidInput(_("这件诉求已经由这位承办人办理，请选择另一位。"), code="same_officer")
        previous = appeal.officer_id
        appeal.officer = profile.user
        commit(
            appeal,
            fields=["officer"],
            kind="reassigned",
            actor=user,
            reason=reason.strip(),
            data={"from_officer_id": previous, "officer_id": officer_id, "officer": staff_display_name(profile.user)},
            event_type="appeal.assigned",
            payload={"officer_id": officer_id, "mode": "lead"},
        )
    return appeal
