"""Reads that belong to routing, scoped by who is asking (for the console and the API).

* ``duplicate_candidates``: possible duplicates of an appeal to merge (并单);
* ``cohandlings_for_appeal``: the co-handling requests on an appeal a user may see;
* ``cohandling_inbox``: the co-handling requests waiting on a user's bureau;
* ``assignable_officers``: whom a bureau lead may reassign an appeal to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import QuerySet

from appeals import permissions as perms
from appeals.models import Appeal, AppealState, CoHandling
from appeals.selectors import appeal_queryset_for_user
from routing.classifier import routing_setting
from routing.models import StaffProfile
from routing.roles import Role

_TEXT = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]+")


def text_shingles(text: str) -> set[str]:
    """Character bigrams of the letters, digits and Chinese characters in ``text``."""
    return {run[i : i + 2] for run in _TEXT.findall((text or "").lower()) for i in range(max(len(run) - 1, 1))}


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of two texts' character bigrams (0 = nothing shared, 1 = same)."""
    left, right = text_shingles(a), text_shingles(b)
    if not left or not right:
        return 0.0
    return len(left & right) / len(left | right)


@dataclass
class DuplicateCandidate:
    appeal: Appeal
    similarity: float


def duplicate_candidates(
    *, user: Any, appeal: Appeal, days: int | None = None, limit: int = 5
) -> list[DuplicateCandidate]:
    """Appeals that look like duplicates of ``appeal``: same enterprise (credit code), filed within
    ``days`` (default ``DUPLICATE_WINDOW_DAYS``) of it, not merged/rejected/withdrawn, and with
    text similarity at least ``DUPLICATE_MIN_SIMILARITY``; most similar first.

    Only appeals ``user`` may see are considered. A dispatcher merges one into the other with
    ``appeals.services.appeal_merge`` (the earlier one is usually the master).
    """
    window = timedelta(days=days if days is not None else routing_setting("DUPLICATE_WINDOW_DAYS", 14))
    threshold = routing_setting("DUPLICATE_MIN_SIMILARITY", 0.35)
    others = (
        appeal_queryset_for_user(user=user)
        .filter(
            enterprise_id=appeal.enterprise_id,
            submitted_at__gte=appeal.submitted_at - window,
            submitted_at__lte=appeal.submitted_at + window,
        )
        .exclude(pk=appeal.pk)
        .exclude(state__in=[AppealState.MERGED, AppealState.REJECTED, AppealState.WITHDRAWN])
    )
    text = f"{appeal.title} {appeal.description}"
    found = []
    for other in others[:200]:
        score = similarity(text, f"{other.title} {other.description}")
        if score >= threshold:
            found.append(DuplicateCandidate(other, round(score, 3)))
    found.sort(key=lambda c: (-c.similarity, c.appeal.submitted_at))
    return found[:limit]


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


def assignable_officers(*, user: Any, appeal: Appeal) -> QuerySet[StaffProfile]:
    """Staff of the appeal's bureau a lead may reassign it to (empty unless ``user`` is its lead)."""
    if not perms.is_bureau_lead(appeal, user) or appeal.bureau_id is None:
        return StaffProfile.objects.none()
    return (
        StaffProfile.objects.filter(
            bureau_id=appeal.bureau_id, role__in=[Role.OFFICER, Role.LEAD], user__is_active=True
        )
        .select_related("user")
        .order_by("is_away", "display_name", "user_id")
    )
