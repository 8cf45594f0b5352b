"""The staff search (诉求查询): every role searches and lists appeals in every state, within its scope.

Scope is ``appeal_queryset_for_user``: officers and leads see their bureau's appeals (and those it
co-handles), dispatchers, supervisors and managers see every bureau's. The filters only narrow that
queryset; the text query goes through ``appeals.search`` (the database or the search server, with
its fallback), so search never widens what a user may see. Two quick lists serve officers:
"我已答复的" (appeals the user signed for that have been replied to) and "已办结的" (closed appeals
of the user's bureau).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appeals import permissions as perms
from appeals import search
from appeals.models import Appeal, AppealState
from appeals.selectors.access import appeal_queryset_for_user
from appeals.selectors.queues import with_due

S = AppealState

# Quick lists offered above the search form (officers and leads).
QUICK_LISTS: dict[str, Any] = {
    "replied_by_me": _("我已答复的"),
    "closed": _("已办结的"),
}

SEARCH_SORTS: dict[str, list[str]] = {
    "-submitted": ["-submitted_at", "-id"],
    "submitted": ["submitted_at", "id"],
    "-updated": ["-updated_at", "-id"],
}
DEFAULT_SEARCH_SORT = "-submitted"


@dataclass
class StaffSearch:
    """What the search form asked for (already validated)."""

    q: str = ""
    state: str = ""
    bureau: int | None = None
    category: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    quick: str = ""
    sort: str = DEFAULT_SEARCH_SORT


@dataclass
class StaffSearchResult:
    queryset: QuerySet[Any]
    backend: str
    notice: str = ""


def may_filter_by_bureau(user: Any) -> bool:
    """Only staff who see every bureau get the bureau filter (the others see one bureau anyway)."""
    return perms.can_view_all_appeals(user)


def staff_search(*, user: Any, params: StaffSearch) -> StaffSearchResult:
    """Appeals ``user`` may see, narrowed by ``params`` and ordered; text via ``appeals.search``."""
    qs: QuerySet[Any] = appeal_queryset_for_user(user=user).select_related("officer__staff_profile")
    if params.quick == "replied_by_me":
        qs = qs.filter(officer_id=user.pk, replied_at__isnull=False)
    elif params.quick == "closed":
        qs = qs.filter(state=S.CLOSED)
        bureau_id = perms.user_bureau_id(user)
        if bureau_id is not None and not perms.can_view_all_appeals(user):
            qs = qs.filter(bureau_id=bureau_id)
    if params.state in S.values:
        qs = qs.filter(state=params.state)
    if params.bureau and may_filter_by_bureau(user):
        qs = qs.filter(bureau_id=params.bureau)
    if params.category:
        qs = qs.filter(category_id=params.category)
    tz = timezone.get_current_timezone()
    if params.date_from:
        qs = qs.filter(submitted_at__gte=datetime.combine(params.date_from, time.min, tzinfo=tz))
    if params.date_to:
        qs = qs.filter(submitted_at__lt=datetime.combine(params.date_to + timedelta(days=1), time.min, tzinfo=tz))
    backend, notice = search.DatabaseSearch.name, ""
    if params.q:
        outcome = search.search_appeals(queryset=qs, query=params.q)
        qs, backend, notice = outcome.queryset, outcome.backend, outcome.notice
    order = SEARCH_SORTS.get(params.sort, SEARCH_SORTS[DEFAULT_SEARCH_SORT])
    return StaffSearchResult(queryset=with_due(qs).order_by(*order), backend=backend, notice=notice)


def reopening_rating(appeal: Appeal) -> Any:
    """The rating (score and comment) that re-opened ``appeal`` most recently, or None.

    A bad rating of round *n* re-opens the appeal and raises ``reopen_count`` to *n + 1*.
    """
    if not appeal.reopen_count:
        return None
    return (
        appeal.ratings.filter(is_followup=False, round=appeal.reopen_count - 1).order_by("-created_at", "-id").first()
    )
