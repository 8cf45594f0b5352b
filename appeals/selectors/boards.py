"""The dispatcher's board (triage, returns, extensions) and the supervisors' overdue board."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appeals.models import Appeal, AppealEvent, AppealState, Extension
from appeals.selectors.access import appeal_queryset_for_user
from appeals.selectors.deadlines import AMBER_WINDOW
from appeals.selectors.queues import with_due
from routing.decisions import TRIAGE_REASONS  # every reason routing gives, in words

S = AppealState


def return_reason(*, appeal: Appeal) -> str:
    """Why the bureau returned the appeal (the latest 退单 event's reason)."""
    event = AppealEvent.objects.filter(appeal=appeal, kind="returned").order_by("-seq").first()
    return event.reason if event else ""


def triage_reason(appeal: Appeal) -> str:
    """Why routing left the appeal to a dispatcher, in words (the stored code when unknown)."""
    code = (appeal.routing_explanation or {}).get("reason", "")
    return str(TRIAGE_REASONS.get(code, code))


def triage_queue(*, user: Any) -> QuerySet[Any]:
    return with_due(
        appeal_queryset_for_user(user=user)
        .filter(state=S.TRIAGE)
        .select_related("suggested_category__default_bureau_type", "category__default_bureau_type", "region__parent")
    ).order_by("-urgency_rank", "submitted_at", "id")


def returned_queue(*, user: Any) -> QuerySet[Appeal]:
    reasons = AppealEvent.objects.filter(kind="returned").order_by("-seq")
    return (
        appeal_queryset_for_user(user=user)
        .filter(state=S.RETURNED)
        .select_related("region__parent", "category__default_bureau_type")
        .prefetch_related(Prefetch("events", queryset=reasons, to_attr="return_events"))
        .order_by("submitted_at", "id")
    )


def pending_extensions(*, user: Any) -> QuerySet[Extension]:
    visible = appeal_queryset_for_user(user=user).values("pk")
    return (
        Extension.objects.filter(status=Extension.Status.PENDING, appeal_id__in=visible)
        .select_related("appeal__bureau", "appeal__category", "requested_by__staff_profile")
        .order_by("created_at", "id")
    )


def suggested_bureau(*, appeal: Appeal, bureaus: list[Any]) -> Any | None:
    """The bureau of the suggested (or filed) category's default type in the appeal's city."""
    category = appeal.suggested_category or appeal.category
    if category is None:
        return None
    city_id = (
        appeal.region.parent_id if appeal.region.level == "district" and appeal.region.parent_id else appeal.region_id
    )
    for bureau in bureaus:
        if bureau.region_id == city_id and bureau.bureau_type_id == category.default_bureau_type_id:
            return bureau
    return None


OVERDUE_FILTERS: dict[str, Any] = {
    "all": _("临期及超期"),
    "near": _("即将到期"),
    "overdue": _("已超期"),
    "supervised": _("已督办"),
}


def overdue_board(*, user: Any, status: str = "all", bureau_id: int | None = None) -> QuerySet[Any]:
    """Open appeals across bureaus near (inside AMBER_WINDOW), at or past their current deadline."""
    now = timezone.now()
    qs = with_due(
        appeal_queryset_for_user(user=user)
        .filter(state__in=[S.DISPATCHED, S.HANDLING, S.REVIEW])
        .annotate(open_extensions=Count("extensions", filter=Q(extensions__status=Extension.Status.PENDING)))
    ).filter(due_at__isnull=False)
    if status == "near":
        qs = qs.filter(due_at__gt=now, due_at__lte=now + AMBER_WINDOW)
    elif status == "overdue":
        qs = qs.filter(due_at__lte=now)
    elif status == "supervised":
        qs = qs.filter(supervised_at__isnull=False)
    else:
        qs = qs.filter(due_at__lte=now + AMBER_WINDOW)
    if bureau_id:
        qs = qs.filter(bureau_id=bureau_id)
    return qs.order_by(F("due_at").asc(), "id")
