"""Reads of the problem-ticket module: the supervisors' board with each appeal's path, and counts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from appeals.models import AppealEvent
from appeals.selectors.timeline import EVENT_LABELS
from problems.models import ProblemReason, ProblemState, ProblemTicket

# The steps that make up an appeal's path between bureaus (the full trail is on the appeal's page).
PATH_KINDS = (
    "submitted",
    "dispatched",
    "returned",
    "redispatched",
    "rerouted",
    "signed_for",
    "replied",
    "reopened",
    "deadline_urged",
    "deadline_supervised",
    "closed",
    "problem_flagged",
    "problem_reflagged",
    "problem_owner_assigned",
    "problem_resolved",
)


def board(*, state: str = ProblemState.FLAGGED, reason: str = "") -> QuerySet[ProblemTicket]:
    tickets = ProblemTicket.objects.select_related(
        "appeal", "appeal__bureau", "appeal__category", "owner__staff_profile", "resolved_by__staff_profile"
    )
    if state in ProblemState.values:
        tickets = tickets.filter(state=state)
    if reason in ProblemReason.values:
        tickets = tickets.filter(**{reason: True})
    return tickets.order_by("state", "-flagged_at", "-pk")


@dataclass
class PathStep:
    at: datetime
    kind: str
    label: str
    bureau: str
    reason: str
    actor: str


def paths(appeal_ids: list[int]) -> dict[int, list[PathStep]]:
    """Each appeal's path (dispatches, returns, re-opens, supervision, dates) in one query."""
    out: dict[int, list[PathStep]] = defaultdict(list)
    events = (
        AppealEvent.objects.filter(appeal_id__in=appeal_ids, kind__in=PATH_KINDS)
        .order_by("appeal_id", "seq")
        .only("appeal_id", "kind", "created_at", "data", "reason", "actor_label")
    )
    for e in events:
        data: dict[str, Any] = e.data or {}
        out[e.appeal_id].append(
            PathStep(
                at=e.created_at,
                kind=e.kind,
                label=str(EVENT_LABELS.get(e.kind, e.kind)),
                bureau=str(data.get("bureau") or ""),
                reason=e.reason,
                actor=e.actor_label,
            )
        )
    return dict(out)


def owner_choices() -> list[Any]:
    """Active supervisors and bureau leads, the people a ticket can be given to."""
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(
            Q(groups__permissions__codename__in=["supervise_appeal", "lead_bureau"])
            | Q(user_permissions__codename__in=["supervise_appeal", "lead_bureau"])
        )
        .select_related("staff_profile", "staff_profile__bureau")
        .distinct()
        .order_by("username")
    )
    return list(users)


@dataclass
class ProblemCounts:
    flagged: int = 0  # flagged in the period
    open: int = 0  # still waiting for coordination now
    with_owner: int = 0  # open ones with a coordinating owner
    resolved: int = 0  # resolved in the period
    reopened: int = 0
    bureaus: int = 0
    supervised: int = 0


def _range(start: date, end: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return (
        timezone.make_aware(datetime.combine(start, time.min), tz),
        timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz),
    )


def problem_counts(
    *, start: date, end: date, region_ids: list[int] | None = None, bureau_id: int | None = None
) -> ProblemCounts:
    """Problem tickets flagged and resolved in the period, open now, and flagged per reason."""
    since, until = _range(start, end)
    qs = ProblemTicket.objects.all()
    if region_ids is not None:
        qs = qs.filter(region_id__in=region_ids)
    if bureau_id is not None:
        qs = qs.filter(bureau_id=bureau_id)
    in_period = Q(flagged_at__gte=since, flagged_at__lt=until)
    flagged_open = Q(state=ProblemState.FLAGGED)
    row = qs.aggregate(
        flagged=Count("pk", filter=in_period),
        open=Count("pk", filter=flagged_open),
        with_owner=Count("pk", filter=flagged_open & Q(owner__isnull=False)),
        resolved=Count("pk", filter=Q(resolved_at__gte=since, resolved_at__lt=until)),
        reopened=Count("pk", filter=in_period & Q(reopened=True)),
        bureaus=Count("pk", filter=in_period & Q(bureaus=True)),
        supervised=Count("pk", filter=in_period & Q(supervised=True)),
    )
    return ProblemCounts(**row)


def tickets_for_period(*, start: date, end: date, region_ids: list[int] | None = None) -> QuerySet[ProblemTicket]:
    """Tickets flagged in the period or still open, for the weekly report's listing."""
    since, until = _range(start, end)
    qs = ProblemTicket.objects.filter(Q(flagged_at__gte=since, flagged_at__lt=until) | Q(state=ProblemState.FLAGGED))
    if region_ids is not None:
        qs = qs.filter(region_id__in=region_ids)
    return qs.select_related("appeal", "appeal__bureau", "owner__staff_profile").order_by("-flagged_at", "-pk")
