"""The bureau console's queues: filters, sorting, counters and rows with their countdowns.

Everything starts from ``appeal_queryset_for_user`` so a bureau officer can never list another
bureau's appeals here; the functions only narrow and order that scoped queryset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Case, F, Q, QuerySet, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appeals import permissions as perms
from appeals import search
from appeals.models import Appeal, AppealState, CoHandling, Urgency
from appeals.selectors.access import appeal_queryset_for_user
from appeals.selectors.deadlines import due_expression, due_label, due_status

S = AppealState

BUREAU_QUEUES: dict[str, Any] = {
    "sign_for": _("待签收"),
    "mine": _("我在办的"),
    "bureau": _("本单位在办"),
    "review": _("待审核"),
    "cohandling": _("协办请求"),
    "returned": _("已退单"),
}

SORTS: dict[str, list[Any]] = {
    "due": [F("due_at").asc(nulls_last=True), "id"],
    "-due": [F("due_at").desc(nulls_last=True), "-id"],
    "submitted": ["submitted_at", "id"],
    "-submitted": ["-submitted_at", "-id"],
    "urgency": ["-urgency_rank", F("due_at").asc(nulls_last=True), "id"],
    "number": ["tracking_number"],
    "-number": ["-tracking_number"],
}
DEFAULT_SORT = "due"


def with_due(queryset: QuerySet[Appeal]) -> QuerySet[Any]:
    # Typed Any: the annotations below are not model fields, which the type checker cannot see.
    """Annotate ``due_at`` (the deadline that runs now, ``selectors.deadlines``) and ``urgency_rank``."""
    return queryset.annotate(
        due_at=due_expression(),
        urgency_rank=Case(When(urgency=Urgency.URGENT, then=1), default=0),
    )


def bureau_queue(*, user: Any, queue: str) -> QuerySet[Any]:
    """One of the bureau console's queues for ``user`` (unknown names fall back to 待签收)."""
    scoped = appeal_queryset_for_user(user=user)
    bureau_id = perms.user_bureau_id(user) or 0  # 0 matches no bureau
    own = Q(bureau_id=bureau_id)
    if queue == "mine":
        qs = scoped.filter(own, officer_id=user.pk, state__in=[S.HANDLING, S.REVIEW])
    elif queue == "bureau":
        qs = scoped.filter(own, state__in=[S.HANDLING, S.REVIEW])
    elif queue == "review":
        qs = scoped.filter(own, state=S.REVIEW)
    elif queue == "cohandling":
        ids = CoHandling.objects.filter(bureau_id=bureau_id, status=CoHandling.Status.INVITED).values("appeal_id")
        qs = scoped.filter(pk__in=ids)
    elif queue == "returned":
        qs = scoped.filter(own, state=S.RETURNED)
    else:
        qs = scoped.filter(own, state=S.DISPATCHED)
    return with_due(qs)


@dataclass
class QueueFilters:
    category: int | None = None
    urgency: str = ""
    overdue: bool = False
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""
    sort: str = DEFAULT_SORT


def apply_filters(queryset: QuerySet[Any], filters: QueueFilters) -> QuerySet[Any]:
    """Narrow a queue by the console's filter bar and order it; text goes through ``appeals.search``."""
    qs = queryset
    if filters.category:
        qs = qs.filter(category_id=filters.category)
    if filters.urgency in Urgency.values:
        qs = qs.filter(urgency=filters.urgency)
    if filters.overdue:
        qs = qs.filter(due_at__lt=timezone.now())
    tz = timezone.get_current_timezone()
    if filters.date_from:
        qs = qs.filter(submitted_at__gte=datetime.combine(filters.date_from, time.min, tzinfo=tz))
    if filters.date_to:
        qs = qs.filter(submitted_at__lt=datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=tz))
    if filters.q:
        qs = search.get_backend().filter_queryset(qs, filters.q)
    return qs.order_by(*SORTS.get(filters.sort, SORTS[DEFAULT_SORT]))


def bureau_queue_counts(*, user: Any) -> dict[str, int]:
    """How many appeals wait in each bureau queue (one query per queue, no rows loaded)."""
    return {name: bureau_queue(user=user, queue=name).count() for name in BUREAU_QUEUES}


def nav_counts(*, user: Any) -> dict[str, int]:
    """The numbers in the navigation badges: open appeals of my bureau, triage queue length, unread."""
    counts: dict[str, int] = {}
    if user.has_perm("appeals.handle_appeal"):
        bureau_id = perms.user_bureau_id(user) or 0  # 0 matches no bureau
        counts["bureau-open"] = (
            appeal_queryset_for_user(user=user)
            .filter(bureau_id=bureau_id, state__in=[S.DISPATCHED, S.HANDLING, S.REVIEW])
            .count()
        )
    if perms.is_dispatcher(user):
        counts["triage"] = Appeal.objects.filter(state=S.TRIAGE).count()
    return counts


@dataclass
class Row:
    """One queue row: the appeal and its deadline's colour and countdown."""

    appeal: Appeal
    due_status: str
    due_label: str


def rows(appeals: Any) -> list[Row]:
    now = timezone.now()
    return [Row(a, due_status(a.due_at, now=now), due_label(a.due_at, now=now)) for a in appeals]
