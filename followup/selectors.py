"""Reads of the follow-up module: the worklist, one case, the review queue and analytics counts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from appeals.models import Rating
from followup.models import FollowUp, FollowUpOutcome, FollowUpState


def _with_appeal(qs: QuerySet[FollowUp]) -> QuerySet[FollowUp]:
    return qs.select_related("appeal", "appeal__category", "bureau", "rating", "completed_by__staff_profile")


def worklist(*, state: str = FollowUpState.PENDING) -> QuerySet[FollowUp]:
    """Follow-ups in ``state`` (``"all"``: every one), the earliest due first."""
    qs = FollowUp.objects.all()
    if state in FollowUpState.values:
        qs = qs.filter(state=state)
    return _with_appeal(qs).order_by("due_at", "pk")


def followup_get(*, followup_id: int) -> FollowUp | None:
    return _with_appeal(FollowUp.objects.filter(pk=followup_id)).first()


def contests_pending() -> QuerySet[Rating]:
    """Ratings contested on a follow-up call, waiting for the dispatch centre's decision (oldest first)."""
    return (
        Rating.objects.filter(contest=Rating.Contest.PENDING)
        .select_related("appeal", "appeal__bureau")
        .order_by("created_at", "pk")
    )


@dataclass
class FollowUpCounts:
    """Follow-ups of one bureau (or region, or everything) selected in a period, by result."""

    selected: int = 0
    due: int = 0
    completed: int = 0
    resolved: int = 0
    not_resolved: int = 0
    contested: int = 0
    unreachable: int = 0

    @property
    def rate(self) -> float | None:
        """回访率: follow-ups completed (reached, or closed unreachable after the last try) ÷ due."""
        return self.completed / self.due if self.due else None

    def add(self, other: FollowUpCounts) -> None:
        for name in ("selected", "due", "completed", "resolved", "not_resolved", "contested", "unreachable"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _period_q(start: date, end: date) -> Q:
    tz = timezone.get_current_timezone()
    since = timezone.make_aware(datetime.combine(start, time.min), tz)
    until = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz)
    return Q(closed_at__gte=since, closed_at__lt=until)


def followup_counts(
    *,
    start: date,
    end: date,
    by: str = "bureau",
    region_ids: list[int] | None = None,
    bureau_id: int | None = None,
    now: datetime | None = None,
) -> dict[int | None, FollowUpCounts]:
    """Follow-up counts per bureau or region (``by``) for appeals closed between ``start`` and ``end``.

    A follow-up is *due* once its due date has passed or it has a result; *completed* when the
    appellant was reached or it closed as unreachable after the last try. One grouped query.
    """
    now = now or timezone.now()
    qs = FollowUp.objects.filter(_period_q(start, end))
    if region_ids is not None:
        qs = qs.filter(region_id__in=region_ids)
    if bureau_id is not None:
        qs = qs.filter(bureau_id=bureau_id)
    key = f"{by}_id"
    finished = ~Q(state=FollowUpState.PENDING)
    rows = (
        qs.values(key)
        .annotate(
            selected=Count("pk"),
            due=Count("pk", filter=Q(due_at__lte=now) | finished),
            completed=Count("pk", filter=finished),
            resolved=Count("pk", filter=Q(outcome=FollowUpOutcome.RESOLVED)),
            not_resolved=Count("pk", filter=Q(outcome=FollowUpOutcome.NOT_RESOLVED)),
            contested=Count("pk", filter=Q(outcome=FollowUpOutcome.CONTESTED)),
            unreachable=Count("pk", filter=Q(state=FollowUpState.UNREACHABLE)),
        )
        .order_by()
    )
    out: dict[int | None, FollowUpCounts] = defaultdict(FollowUpCounts)
    for row in rows:
        pk = row.pop(key)
        out[pk] = FollowUpCounts(**row)
    return dict(out)


def followup_total(**kwargs) -> FollowUpCounts:
    total = FollowUpCounts()
    for counts in followup_counts(**kwargs).values():
        total.add(counts)
    return total
