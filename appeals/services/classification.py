"""Correcting how an appeal is classified: its appeal type (诉求类型).

The appellant's choice (or the suggestion from the text) can be wrong: an "enquiry" that is really
a complaint. A dispatcher, or the officer or lead of the bureau handling it, corrects it while the
appeal is open; the change is an audited ``appeal_type_corrected`` event with the old and new type
and the reason. Deadlines already running are kept (the bureau was told them when it signed for);
limits that start later (a re-handling after a bad review, extensions) follow the new type.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from appeals import permissions as perms
from appeals.errors import InvalidInput, NotAllowed, StateConflict
from appeals.models import OPEN_STATES, Appeal
from appeals.services.runner import commit, open_appeal, require_text
from routing.appeal_types import AppealType, is_known_type


def can_correct_type(appeal: Appeal, user: Any) -> bool:
    """Dispatchers, and the bureau's assigned officer or lead, while the appeal is open."""
    if appeal.state not in OPEN_STATES:
        return False
    return perms.is_dispatcher(user) or perms.is_assigned_officer_or_lead(appeal, user)


def appeal_correct_type(
    *, appeal_id: int, user: Any, appeal_type: str, reason: str, expected_version: int | None = None
) -> Appeal:
    """Set the appeal's type to ``appeal_type`` (no longer "suggested"), with an audit event.

    Raises ``InvalidInput`` (unknown type, no reason, unchanged), ``NotAllowed``, ``StateConflict``
    (closed appeal or a stale form).
    """
    if not is_known_type(appeal_type):
        raise InvalidInput(_("请选择一个有效的诉求类型。"), code="appeal_type")
    reason = require_text(reason, _("请写明更正诉求类型的原因。"))
    with transaction.atomic():
        appeal = open_appeal(appeal_id, expected_version=expected_version)
        if appeal.state not in OPEN_STATES:
            raise StateConflict(_("诉求已经结束，不能再更正诉求类型。"), code="wrong_state")
        if not can_correct_type(appeal, user):
            raise NotAllowed(_("只有分拨员或承办这件诉求的单位可以更正诉求类型。"), code="forbidden")
        if appeal.appeal_type == appeal_type and not appeal.appeal_type_suggested:
            raise InvalidInput(_("诉求类型没有变化。"), code="unchanged")
        previous = appeal.appeal_type
        appeal.appeal_type = appeal_type
        appeal.appeal_type_suggested = False
        commit(
            appeal,
            kind="appeal_type_corrected",
            fields=["appeal_type", "appeal_type_suggested"],
            actor=user,
            reason=reason,
            data={
                "from": previous,
                "to": appeal_type,
                "from_label": str(AppealType(previous).label) if previous else "",
                "to_label": str(AppealType(appeal_type).label),
            },
        )
    return appeal
