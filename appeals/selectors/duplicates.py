"""Possible duplicates (并单 candidates): one detector for the appeal page and the dispatcher's board.

Two appeals look like duplicates when they were filed within ``ROUTING["DUPLICATE_WINDOW_DAYS"]``
of each other, the candidate is still open (``OPEN_STATES``: a replied, closed, withdrawn, rejected
or merged appeal is no place to merge into — ``appeal_merge`` refuses it too), and

* they come from the **same enterprise** (credit code) and their texts (title and description)
  are at least ``DUPLICATE_MIN_SIMILARITY`` alike; or, where the caller asks for it (the
  dispatcher's board, ``other_enterprises=True``),
* they come from **another enterprise** and their titles are at least
  ``DUPLICATE_TITLE_SIMILARITY`` alike — one problem reported by many businesses.

Similarity is rapidfuzz's normalised Indel similarity (0 = nothing in common, 1 = the same text;
the measure difflib's ``ratio`` computes, in C++). Only appeals the user may see are considered;
the newest candidates are kept when a window holds more than ``POOL_LIMIT``, and results are
ordered most similar first, then newest first.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from rapidfuzz import fuzz, process

from appeals import permissions as perms
from appeals.models import OPEN_STATES, Appeal, AppealState
from appeals.selectors.access import appeal_queryset_for_user
from appeals.validators import mask_enterprise_name
from routing.classifier import routing_setting

S = AppealState
# Most appeals compared per request (the newest in the window); bounds the work on a busy day.
POOL_LIMIT = 5000


@dataclass(frozen=True)
class DuplicateCandidate:
    appeal: Appeal
    similarity: float


def _text(appeal: Appeal) -> str:
    return f"{appeal.title} {appeal.description}"


def _window() -> timedelta:
    return timedelta(days=routing_setting("DUPLICATE_WINDOW_DAYS", 14))


def find_duplicates(
    *, user: Any, appeals: list[Appeal], other_enterprises: bool = True, days: int | None = None, limit: int = 5
) -> dict[int, list[DuplicateCandidate]]:
    """Possible duplicates for each of ``appeals`` (by id), at most ``limit`` each.

    Two queries for the whole page whatever its size: the page's enterprises' appeals (with
    descriptions) and, with ``other_enterprises``, the titles of every appeal in the window.
    """
    if not appeals:
        return {}
    window = timedelta(days=days) if days is not None else _window()
    text_threshold = 100 * routing_setting("DUPLICATE_MIN_SIMILARITY", 0.35)
    title_threshold = 100 * routing_setting("DUPLICATE_TITLE_SIMILARITY", 0.6)
    start = min(a.submitted_at for a in appeals) - window
    end = max(a.submitted_at for a in appeals) + window
    scoped = (
        appeal_queryset_for_user(user=user)
        .filter(submitted_at__range=(start, end))
        .filter(state__in=OPEN_STATES)
        .select_related(None)
        .order_by("-submitted_at", "-id")
    )
    fields = ["id", "tracking_number", "title", "enterprise_id", "submitted_at", "state", "region_id"]
    enterprise_ids = {a.enterprise_id for a in appeals}
    same_pool = list(scoped.filter(enterprise_id__in=enterprise_ids).only(*fields, "description")[:POOL_LIMIT])
    by_enterprise: dict[int, list[Appeal]] = defaultdict(list)
    for other in same_pool:
        by_enterprise[other.enterprise_id].append(other)
    other_pool: list[Appeal] = []
    if other_enterprises:
        other_pool = list(scoped.only(*fields)[:POOL_LIMIT])

    result: dict[int, list[DuplicateCandidate]] = {}
    for appeal in appeals:

        def near(other: Appeal, appeal: Appeal = appeal) -> bool:
            return other.pk != appeal.pk and abs(other.submitted_at - appeal.submitted_at) <= window

        found: list[DuplicateCandidate] = []
        same = [o for o in by_enterprise.get(appeal.enterprise_id, []) if near(o)]
        for _choice, score, index in process.extract(
            _text(appeal), [_text(o) for o in same], scorer=fuzz.ratio, score_cutoff=text_threshold, limit=None
        ):
            found.append(DuplicateCandidate(same[index], round(score / 100, 3)))
        others = [o for o in other_pool if o.enterprise_id != appeal.enterprise_id and near(o)]
        for _choice, score, index in process.extract(
            appeal.title, [o.title for o in others], scorer=fuzz.ratio, score_cutoff=title_threshold, limit=None
        ):
            found.append(DuplicateCandidate(others[index], round(score / 100, 3)))
        found.sort(key=lambda c: (-c.similarity, -c.appeal.submitted_at.timestamp(), -c.appeal.pk))
        result[appeal.pk] = found[:limit]
    return result


def duplicate_candidates(
    *, user: Any, appeal: Appeal, days: int | None = None, limit: int = 5
) -> list[DuplicateCandidate]:
    """Merge candidates for one appeal from the same enterprise (see the module's rules).

    A dispatcher merges one into the other with ``appeals.services.appeal_merge``.
    """
    return find_duplicates(user=user, appeals=[appeal], other_enterprises=False, days=days, limit=limit)[appeal.pk]


@dataclass(frozen=True)
class MergedFollower:
    appeal: Appeal
    enterprise: str  # masked unless the user may open the follower
    visible: bool


def merged_followers(*, user: Any, appeal: Appeal) -> list[MergedFollower]:
    """The appeals merged into ``appeal`` (并单), oldest first, for its staff page.

    A user who may open a follower (dispatchers, supervisors) sees its enterprise name; bureau
    staff of the master see it masked (the follower was filed by another enterprise) and no link.
    """
    followers = list(
        Appeal.objects.filter(merged_into=appeal, state=S.MERGED)
        .only("id", "tracking_number", "title", "enterprise_name", "submitted_at", "state", "merged_into_id")
        .order_by("submitted_at", "id")
    )
    if not followers:
        return []
    see_all = perms.can_view_all_appeals(user)
    visible = (
        {f.pk for f in followers}
        if see_all
        else set(
            appeal_queryset_for_user(user=user).filter(pk__in=[f.pk for f in followers]).values_list("pk", flat=True)
        )
    )
    return [
        MergedFollower(
            appeal=f,
            enterprise=f.enterprise_name if f.pk in visible else mask_enterprise_name(f.enterprise_name),
            visible=f.pk in visible,
        )
        for f in followers
    ]
