"""Every read of appeals, scoped by who is asking.

Bureau staff see their own bureau's appeals and those their bureau co-handles; dispatchers,
supervisors and managers see all. Views, consumers and tasks read through here, never through
``Appeal.objects`` directly for another bureau's data.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from appeals import access_codes
from appeals import permissions as perms
from appeals.models import Appeal, AppealEvent


def appeal_queryset_for_user(*, user: Any) -> QuerySet[Appeal]:
    """All appeals ``user`` may see, with the relations every list needs."""
    base = Appeal.objects.select_related("category", "region", "bureau", "bureau__region", "enterprise", "officer")
    if perms.can_view_all_appeals(user):
        return base
    bureau_id = perms.user_bureau_id(user)
    if bureau_id is None:
        return base.none()
    return base.filter(Q(bureau_id=bureau_id) | Q(co_handlings__bureau_id=bureau_id)).distinct()


def appeal_get_for_user(*, user: Any, appeal_id: int) -> Appeal | None:
    """One appeal if ``user`` may see it, else None (callers answer 404, not 403, to hide existence)."""
    return appeal_queryset_for_user(user=user).filter(pk=appeal_id).first()


def user_can_see_appeal(*, user: Any, appeal: Appeal) -> bool:
    return appeal_queryset_for_user(user=user).filter(pk=appeal.pk).exists()


def appeal_get_for_appellant(*, tracking_number: str, access_code: str) -> Appeal | None:
    """The appeal matching a tracking number and access code, or None for any wrong pair."""
    number = "".join(ch for ch in (tracking_number or "") if ch.isdigit())
    appeal = (
        Appeal.objects.select_related("category", "region", "bureau", "bureau__region", "enterprise")
        .filter(tracking_number=number)
        .first()
    )
    if appeal is None:
        # Same work either way so timing does not reveal which tracking numbers exist.
        access_codes.hash_access_code(number, access_code)
        return None
    if not access_codes.check_access_code(appeal.tracking_number, access_code, appeal.access_code_hash):
        return None
    return appeal


def appeal_events(*, appeal: Appeal) -> QuerySet[AppealEvent]:
    return AppealEvent.objects.filter(appeal=appeal).select_related("actor").order_by("seq")


def followup_allowed(appeal: Appeal) -> bool:
    """Whether the status page should offer the follow-up rating form (追评): closed by a rating, none yet."""
    ratings = appeal.ratings.all()
    return (
        appeal.state == "closed" and any(not r.is_followup for r in ratings) and not any(r.is_followup for r in ratings)
    )
