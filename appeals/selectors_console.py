"""Reads behind the staff consoles: queues, filters, counters, duplicates and the overdue board.

Everything starts from ``appeals.selectors.appeal_queryset_for_user`` so a bureau officer can never
list another bureau's appeals here; the functions only narrow and order that scoped queryset.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Case, Count, F, Prefetch, Q, QuerySet, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from appeals import permissions as perms
from appeals.models import Appeal, AppealEvent, AppealState, CoHandling, Extension, Urgency
from appeals.selectors import appeal_queryset_for_user

S = AppealState

# Time left before a deadline at which the countdown turns amber (red once it has passed).
AMBER_WINDOW = timedelta(hours=24)
# How far apart two appeals may have been filed and still be suggested as duplicates.
DUPLICATE_WINDOW = timedelta(days=14)
DUPLICATE_TITLE_RATIO = 0.6

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
    """Annotate ``due_at``: the deadline that matters now (sign-for while dispatched, else the reply)."""
    return queryset.annotate(
        due_at=Case(
            When(state=S.DISPATCHED, then=F("sign_for_due")),
            When(state__in=[S.HANDLING, S.REVIEW], then=F("reply_due")),
            default=None,
        ),
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
    from appeals import search

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


def due_status(due: datetime | None, *, now: datetime | None = None) -> str:
    """``red`` past the deadline, ``amber`` inside AMBER_WINDOW, ``ok`` otherwise, ``""`` without one."""
    if due is None:
        return ""
    now = now or timezone.now()
    if due <= now:
        return "red"
    if due - now <= AMBER_WINDOW:
        return "amber"
    return "ok"


def due_label(due: datetime | None, *, now: datetime | None = None) -> str:
    """Countdown text for a deadline: 剩余 3 小时 / 已超期 2 天 (console.js keeps it current)."""
    if due is None:
        return ""
    now = now or timezone.now()
    seconds = int((due - now).total_seconds())
    span = abs(seconds)
    if span >= 86400:
        amount = _("%(n)d 天") % {"n": span // 86400}
    elif span >= 3600:
        amount = _("%(n)d 小时") % {"n": span // 3600}
    else:
        amount = _("%(n)d 分钟") % {"n": max(span // 60, 1)}
    return (_("剩余 %(t)s") if seconds > 0 else _("已超期 %(t)s")) % {"t": amount}


@dataclass
class Row:
    """One queue row: the appeal and its deadline's colour and countdown."""

    appeal: Appeal
    due_status: str
    due_label: str


def rows(appeals: Any) -> list[Row]:
    now = timezone.now()
    return [Row(a, due_status(a.due_at, now=now), due_label(a.due_at, now=now)) for a in appeals]


# --- Appeal page -------------------------------------------------------------------------------


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


EVENT_LABELS: dict[str, Any] = {
    "submitted": _("提交诉求"),
    "triage": _("进入待分拨"),
    "dispatched": _("派单"),
    "redispatched": _("改派"),
    "signed_for": _("签收"),
    "returned": _("退单"),
    "review_requested": _("提交审核"),
    "sent_back": _("退回修改"),
    "replied": _("答复"),
    "closed": _("办结"),
    "reopened": _("重办"),
    "withdrawn": _("撤回"),
    "rejected": _("不予受理"),
    "merged": _("并单"),
    "extension_requested": _("申请延期"),
    "extension_approved": _("批准延期"),
    "extension_refused": _("不批准延期"),
    "warned": _("临期预警"),
    "urged": _("催办"),
    "supervised": _("督办"),
    "reassigned": _("改派承办人"),
    "assigned": _("分配承办人"),
    "cohandling_invited": _("邀请协办"),
    "cohandling_submitted": _("提交协办意见"),
    "cohandling_declined": _("拒绝协办"),
}


@dataclass
class TimelineEntry:
    at: datetime
    kind: str  # "event" or "message"
    internal: bool
    item: Any
    label: str = ""
    state_label: str = ""


def appeal_timeline(*, appeal: Appeal) -> list[TimelineEntry]:
    """Audit events and messages merged in time order; internal notes are flagged as internal."""
    events = AppealEvent.objects.filter(appeal=appeal).select_related("actor__staff_profile").order_by("seq")
    messages = (
        appeal.messages.select_related("author__staff_profile").prefetch_related("attachments").order_by("created_at")
    )
    entries = [
        TimelineEntry(
            at=e.created_at,
            kind="event",
            internal=False,
            item=e,
            label=str(EVENT_LABELS.get(e.kind, e.kind)),
            state_label=str(AppealState(e.to_state).label) if e.to_state in AppealState.values else "",
        )
        for e in events
        if not e.kind.startswith("message.")  # the message itself is shown instead
    ]
    entries += [TimelineEntry(at=m.created_at, kind="message", internal=m.is_internal, item=m) for m in messages]
    entries.sort(key=lambda entry: (entry.at, 0 if entry.kind == "event" else 1))
    return entries


def return_reason(*, appeal: Appeal) -> str:
    """Why the bureau returned the appeal (the latest 退单 event's reason)."""
    event = AppealEvent.objects.filter(appeal=appeal, kind="returned").order_by("-seq").first()
    return event.reason if event else ""


# --- Dispatcher --------------------------------------------------------------------------------


TRIAGE_REASONS: dict[str, Any] = {
    "category_other": _("诉求人选择了“其他”类别"),
    "category_other_low_confidence": _("“其他”类别，分类建议把握不足"),
    "disputed_low_confidence": _("填报类别与内容不符，分类建议把握不足"),
    "no_rule": _("没有匹配的分拨规则或承办单位"),
    "router_error": _("自动分拨出错"),
}


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


def duplicate_candidates(*, user: Any, appeals: list[Appeal]) -> dict[int, list[Appeal]]:
    """Possible duplicates for each appeal: same enterprise or a very similar title within 14 days.

    One query for the whole page: candidates are loaded for the span of submission dates and
    compared in Python (titles are short, so difflib's ratio is cheap).
    """
    if not appeals:
        return {}
    start = min(a.submitted_at for a in appeals) - DUPLICATE_WINDOW
    end = max(a.submitted_at for a in appeals) + DUPLICATE_WINDOW
    pool = list(
        appeal_queryset_for_user(user=user)
        .filter(submitted_at__range=(start, end))
        .exclude(state__in=[S.MERGED, S.REJECTED, S.WITHDRAWN])
        .select_related(None)
        .only("id", "tracking_number", "title", "enterprise_id", "submitted_at", "state", "region_id")
        .order_by("submitted_at")[:2000]
    )
    result: dict[int, list[Appeal]] = {}
    for appeal in appeals:
        matches = []
        for other in pool:
            if other.pk == appeal.pk or abs(other.submitted_at - appeal.submitted_at) > DUPLICATE_WINDOW:
                continue
            same_enterprise = other.enterprise_id == appeal.enterprise_id
            similar = difflib.SequenceMatcher(None, other.title, appeal.title).ratio() >= DUPLICATE_TITLE_RATIO
            if same_enterprise or similar:
                matches.append(other)
        result[appeal.pk] = matches[:5]
    return result


# --- Supervision -------------------------------------------------------------------------------

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
