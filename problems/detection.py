"""Finding problem tickets: appeals re-opened, bounced between bureaus, or still open after 督办.

Thresholds are in ``settings.PROBLEM_TICKETS``:

* ``reopened`` — re-opened (重办) at least ``REOPEN_THRESHOLD`` times (``Appeal.reopen_count``);
* ``bureaus`` — dispatched to at least ``BUREAU_THRESHOLD`` different bureaus over its life (the
  ``bureau_id`` of its ``dispatched``/``redispatched``/``rerouted`` audit events: every return and
  re-route that moved it);
* ``supervised`` — formally supervised (督办, ``supervised_at`` set by the deadline sweep) and
  still open (``FLAG_SUPERVISED``).

``problems_sweep`` reads candidates with three indexed queries and measures only those;
``check_on_event`` re-checks one appeal after an event that can change its measures.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from appeals.models import OPEN_STATES, Appeal, AppealEvent
from problems.models import ProblemReason

logger = logging.getLogger(__name__)

TRIGGER_KINDS = ("reopened", "returned", "redispatched", "rerouted", "deadline_supervised")
ROUTE_KINDS = ("dispatched", "redispatched", "rerouted")
MOVE_KINDS = ("redispatched", "rerouted")


@dataclass
class Measure:
    appeal_id: int
    reopen_count: int = 0
    bureau_ids: list[int] = field(default_factory=list)
    supervised_at: datetime | None = None
    is_open: bool = False

    def reasons(self) -> list[str]:
        config = settings.PROBLEM_TICKETS
        out = []
        if self.reopen_count >= config["REOPEN_THRESHOLD"]:
            out.append(ProblemReason.REOPENED.value)
        if len(self.bureau_ids) >= config["BUREAU_THRESHOLD"]:
            out.append(ProblemReason.BUREAUS.value)
        if config["FLAG_SUPERVISED"] and self.supervised_at is not None and self.is_open:
            out.append(ProblemReason.SUPERVISED.value)
        return out

    def detail(self) -> dict[str, Any]:
        return {
            "reopen_count": self.reopen_count,
            "bureaus": len(self.bureau_ids),
            "bureau_ids": self.bureau_ids,
            "supervised_at": self.supervised_at.isoformat() if self.supervised_at else None,
        }


def measure(appeal_ids: Iterable[int]) -> dict[int, Measure]:
    """The measures of each appeal: two queries however many appeals."""
    ids = list(appeal_ids)
    out: dict[int, Measure] = {}
    for pk, reopen_count, supervised_at, state in Appeal.objects.filter(pk__in=ids).values_list(
        "pk", "reopen_count", "supervised_at", "state"
    ):
        out[pk] = Measure(pk, reopen_count, [], supervised_at, state in OPEN_STATES)
    seen: dict[int, list[int]] = defaultdict(list)
    events = (
        AppealEvent.objects.filter(appeal_id__in=ids, kind__in=ROUTE_KINDS)
        .order_by("appeal_id", "seq")
        .values_list("appeal_id", "data")
    )
    for appeal_id, data in events:
        bureau_id = (data or {}).get("bureau_id")
        if bureau_id is not None and bureau_id not in seen[appeal_id]:
            seen[appeal_id].append(bureau_id)
    for appeal_id, bureaus in seen.items():
        if appeal_id in out:
            out[appeal_id].bureau_ids = bureaus
    return out


def candidate_ids() -> list[int]:
    """Appeals that may meet a threshold (a superset; ``Measure.reasons`` decides exactly)."""
    config = settings.PROBLEM_TICKETS
    ids = set(
        Appeal.objects.filter(reopen_count__gte=config["REOPEN_THRESHOLD"]).values_list("pk", flat=True).order_by()
    )
    if config["FLAG_SUPERVISED"]:
        ids.update(
            Appeal.objects.filter(supervised_at__isnull=False, state__in=OPEN_STATES)
            .values_list("pk", flat=True)
            .order_by()
        )
    # The first dispatch names one bureau; each move may add one more.
    moves = max(config["BUREAU_THRESHOLD"] - 1, 1)
    ids.update(
        AppealEvent.objects.filter(kind__in=MOVE_KINDS)
        .values("appeal_id")
        .annotate(n=Count("pk"))
        .filter(n__gte=moves)
        .values_list("appeal_id", flat=True)
        .order_by()
    )
    return sorted(ids)


@dataclass
class SweepRun:
    candidates: int = 0
    flagged: int = 0
    updated: int = 0
    unchanged: int = 0


def problems_sweep(*, now: datetime | None = None) -> SweepRun:
    """Flag every appeal over a threshold (idempotent; see ``services.problem_flag``)."""
    from problems.models import ProblemTicket
    from problems.services import escalated, problem_flag

    now = now or timezone.now()
    run = SweepRun()
    ids = candidate_ids()
    run.candidates = len(ids)
    for start in range(0, len(ids), 2000):
        chunk = ids[start : start + 2000]
        tickets = {t.appeal_id: t for t in ProblemTicket.objects.filter(appeal_id__in=chunk)}
        for m in measure(chunk).values():
            reasons = m.reasons()
            if not reasons:
                continue
            ticket = tickets.get(m.appeal_id)
            # Nothing new since the last run: skip without taking the appeal's lock (the steady state).
            if ticket is not None and not escalated(ticket, reasons, m.detail()):
                run.unchanged += 1
                continue
            try:
                outcome = problem_flag(appeal_id=m.appeal_id, reasons=reasons, detail=m.detail(), now=now)
            except Exception:
                logger.exception("Problem-ticket sweep failed for appeal %s", m.appeal_id)
                continue
            setattr(run, outcome, getattr(run, outcome) + 1)
    return run


def problem_check(appeal_id: int, *, now: datetime | None = None) -> str | None:
    """Measure one appeal and flag it if it meets a threshold; returns the outcome or None."""
    from problems.services import problem_flag

    m = measure([appeal_id]).get(appeal_id)
    if m is None or not m.reasons():
        return None
    return problem_flag(appeal_id=appeal_id, reasons=m.reasons(), detail=m.detail(), now=now or timezone.now())


def check_on_event(appeal_id: int, kind: str) -> None:
    """After-commit hook (registered in ``ProblemsConfig.ready``)."""
    problem_check(appeal_id)
