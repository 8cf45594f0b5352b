"""追评: the appellant's one follow-up rating on a closed appeal.

Kept apart from ``appeals.services`` (which owns the state machine) because a follow-up does not
change the appeal's state: it adds a rating row marked ``is_followup`` to the latest round, for the
bureau's scorecard and for reviewers, with an audit event and an outbox notification.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from appeals import access_codes, audit
from appeals.models import Appeal, AppealState, Rating, RatingLevel
from appeals.services import APPELLANT, InvalidInput, NotAllowed, StateConflict
from notifications import outbox


def appeal_followup_rate(
    *, appeal_id: int, access_code: str, level: int, resolved: bool | None, comment: str = ""
) -> Rating:
    """Record the appellant's single follow-up rating (追评) on a closed, rated appeal.

    Side effects: a ``Rating`` with ``is_followup=True``, an audit event ``followup_rated`` and an
    outbox event ``appeal.followup_rated``, in one transaction.
    Raises ``InvalidInput`` (bad level), ``NotAllowed`` (wrong access code) or ``StateConflict``
    (not closed by a rating yet, or a follow-up already given).
    """
    if level not in RatingLevel.values:
        raise InvalidInput(_("请选择一个评价等级。"), code="level")
    comment = (comment or "").strip()
    now = timezone.now()
    with transaction.atomic():
        appeal = Appeal.objects.select_for_update().filter(pk=appeal_id).first()
        if appeal is None or not access_codes.check_access_code(
            appeal.tracking_number, access_code or "", appeal.access_code_hash
        ):
            raise NotAllowed(_("受理编号或查询码不正确。"), code="access_code")
        if appeal.state != AppealState.CLOSED or not appeal.ratings.filter(is_followup=False).exists():
            raise StateConflict(_("诉求办结后才能追加评价。"), code="not_closed")
        if appeal.ratings.filter(is_followup=True).exists():
            raise StateConflict(_("每件诉求只能追加评价一次，您已经追评过了。"), code="already_followed_up")
        rating = Rating.objects.create(
            appeal=appeal,
            level=level,
            resolved=resolved,
            comment=comment,
            is_followup=True,
            round=appeal.reopen_count,
            created_at=now,
        )
        appeal.version += 1
        appeal.save(update_fields=["version", "updated_at"])
        audit.record_event(
            appeal=appeal,
            kind="followup_rated",
            actor=APPELLANT,
            reason=comment,
            data={"level": level, "resolved": resolved, "rating_id": rating.pk},
            at=now,
        )
        outbox.emit("appeal.followup_rated", appeal=appeal, payload={"rating_id": rating.pk, "level": level})
    return rating


def followup_allowed(appeal: Appeal) -> bool:
    """Whether the status page should offer the follow-up rating form."""
    return (
        appeal.state == AppealState.CLOSED
        and appeal.ratings.filter(is_followup=False).exists()
        and not appeal.ratings.filter(is_followup=True).exists()
    )
