"""Who may see which appeal, and the permission-scoped ways to fetch one.

Bureau staff see their own bureau's appeals and those their bureau co-handles; dispatchers,
supervisors and managers see all. Appellants are matched by tracking number *and* access code.
Views, consumers and tasks read through here, never through ``Appeal.objects`` directly for
another bureau's data.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q, QuerySet

from appeals import access_codes
from appeals import permissions as perms
from appeals.models import Appeal, AppealEvent, AppealState, CoHandling, Extension
from routing.models import Bureau
from routing.roles import Role


def appeal_queryset_for_user(*, user: Any) -> QuerySet[Appeal]:
    """All appeals ``user`` may see, with the relations every list needs."""
    base = Appeal.objects.select_related("category", "region", "bureau", "bureau__region", "enterprise", "officer")
    if perms.can_view_all_appeals(user):
        return base
    bureau_id = perms.user_bureau_id(user)
    if bureau_id is None:
        return base.none()
    # A subquery, not a join: no duplicate rows, so no DISTINCT (which sorted every column of the
    # bureau's appeals before a page could be cut; EXPLAIN in docs/console.md).
    co_handled = CoHandling.objects.filter(bureau_id=bureau_id).values("appeal_id")
    return base.filter(Q(bureau_id=bureau_id) | Q(pk__in=co_handled))


def appeal_get_for_user(*, user: Any, appeal_id: int) -> Appeal | None:
    """One appeal if ``user`` may see it, else None (callers answer 404, not 403, to hide existence)."""
    return appeal_queryset_for_user(user=user).filter(pk=appeal_id).first()


def appeal_for_console(*, user: Any, appeal_id: int) -> Appeal | None:
    """The appeal with everything its staff page shows, or None if ``user`` may not see it."""
    return (
        appeal_queryset_for_user(user=user)
        .select_related("bureau__bureau_type", "suggested_category", "merged_into", "category__default_bureau_type")
        .prefetch_related(
            "attachments",
            Prefetch("co_handlings", queryset=CoHandling.objects.select_related("bureau")),
            Prefetch("extensions", queryset=Extension.objects.select_related("requested_by", "decided_by")),
        )
        .filter(pk=appeal_id)
        .first()
    )


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
    """The appeal's audit events, oldest first, with the acting user."""
    return AppealEvent.objects.filter(appeal=appeal).select_related("actor").order_by("seq")


def followup_allowed(appeal: Appeal) -> bool:
    """Whether the status page should offer the follow-up rating (追评): closed by a rating, none yet."""
    ratings = list(appeal.ratings.all())
    rated = any(not r.is_followup for r in ratings)
    return appeal.state == AppealState.CLOSED and rated and not any(r.is_followup for r in ratings)


def can_reveal_phone(appeal: Appeal, user: Any) -> bool:
    """Unmasking is for the officer who signed for the appeal (or the bureau lead) and dispatchers."""
    if perms.is_dispatcher(user):
        return True
    return appeal.officer_id is not None and perms.is_assigned_officer_or_lead(appeal, user)


def cohandlings_for_appeal(*, user: Any, appeal: Appeal) -> QuerySet[CoHandling]:
    """Co-handling requests on ``appeal``: all of them for the lead bureau and for staff who see
    every appeal; only its own for a co-handling bureau; none for anyone else."""
    base = CoHandling.objects.filter(appeal=appeal).select_related("bureau", "invited_by", "responded_by")
    if perms.can_view_all_appeals(user):
        return base
    bureau_id = perms.user_bureau_id(user)
    if bureau_id is None:
        return base.none()
    if bureau_id == appeal.bureau_id:
        return base
    return base.filter(bureau_id=bureau_id)


def cohandling_inbox(*, user: Any) -> QuerySet[CoHandling]:
    """Co-handling requests waiting on the user's bureau, oldest due first."""
    bureau_id = perms.user_bureau_id(user)
    if bureau_id is None:
        return CoHandling.objects.none()
    return (
        CoHandling.objects.filter(bureau_id=bureau_id, status=CoHandling.Status.INVITED)
        .select_related("appeal", "appeal__bureau", "invited_by")
        .order_by("due_at", "id")
    )


def assignable_officers(*, appeal: Appeal) -> QuerySet[Any]:
    """Active officers and leads of the appeal's bureau other than its officer (改派承办人's choices)."""
    if appeal.bureau_id is None:
        return get_user_model().objects.none()
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            staff_profile__bureau_id=appeal.bureau_id,
            staff_profile__role__in=[Role.OFFICER, Role.LEAD],
        )
        .exclude(pk=appeal.officer_id or 0)
        .select_related("staff_profile")
        .order_by("staff_profile__display_name", "username")
    )


def cohandling_candidates(*, appeal: Appeal) -> QuerySet[Bureau]:
    """Bureaus that may be asked to co-handle: active, not the appeal's own, not the dispatch centre."""
    return (
        Bureau.objects.filter(is_active=True)
        .exclude(pk=appeal.bureau_id or 0)
        .exclude(bureau_type__code="dispatch")
        .select_related("region", "bureau_type")
        .order_by("region__sort_order", "bureau_type__code")
    )
