"""Which closed appeals get a follow-up call (回访), and creating their ``FollowUp`` rows.

The rule (settings ``FOLLOW_UP``):

* every appeal with a rating at or below ``BAD_RATING_MAX`` in any round (差评, including those
  re-handled and closed since) — reason ``bad_rating``;
* every appeal closed by the default rating (no rating within the rating period) — ``default_rating``;
* ``SAMPLE_PERCENT`` per cent of the rest, chosen by a hash of the appeal id, so a rerun (or the
  close hook and the periodic job both) picks the same appeals — ``sample``.

Selection runs when an appeal closes (``select_on_close``, an after-commit hook) and every half
hour over the appeals closed in the last ``LOOKBACK_DAYS`` days (``followup_select``), which picks up
whatever the hook missed. Both are idempotent: one follow-up per appeal and handling round.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from appeals.models import Appeal, AppealState, Rating
from followup.models import FollowUp, FollowUpReason

BATCH = 5000


def in_sample(appeal_id: int, percent: int) -> bool:
    """Whether ``appeal_id`` falls in the ``percent`` % sample: stable across runs and processes."""
    if percent <= 0:
        return False
    digest = hashlib.sha256(f"followup:{appeal_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < percent


def reason_for(*, appeal_id: int, worst_level: int | None, closed_by_default: bool) -> str | None:
    """The reason an appeal is called, or None when it is not selected."""
    config = settings.FOLLOW_UP
    if worst_level is not None and worst_level <= config["BAD_RATING_MAX"]:
        return FollowUpReason.BAD_RATING
    if closed_by_default:
        return FollowUpReason.DEFAULT_RATING
    if in_sample(appeal_id, config["SAMPLE_PERCENT"]):
        return FollowUpReason.SAMPLE
    return None


def _candidates():
    ratings = Rating.objects.filter(appeal_id=OuterRef("pk"))
    closing = ratings.filter(round=OuterRef("reopen_count"), is_followup=False)
    return (
        Appeal.objects.filter(state=AppealState.CLOSED, closed_at__isnull=False)
        .exclude(Exists(FollowUp.objects.filter(appeal_id=OuterRef("pk"), round=OuterRef("reopen_count"))))
        .annotate(
            worst_level=Subquery(ratings.order_by("level").values("level")[:1]),
            closing_rating_id=Subquery(closing.values("pk")[:1]),
            closing_default=Subquery(closing.values("is_default")[:1]),
        )
        .values(
            "pk",
            "reopen_count",
            "bureau_id",
            "region_id",
            "closed_at",
            "worst_level",
            "closing_rating_id",
            "closing_default",
        )
        .order_by("pk")
    )


def _build(row: dict, now: datetime) -> FollowUp | None:
    reason = reason_for(
        appeal_id=row["pk"],
        worst_level=row["worst_level"],
        # An appeal closed without any rating row can only have closed by the default rule.
        closed_by_default=bool(row["closing_default"]) or row["closing_rating_id"] is None,
    )
    if reason is None:
        return None
    return FollowUp(
        appeal_id=row["pk"],
        round=row["reopen_count"],
        reason=reason,
        rating_id=row["closing_rating_id"],
        bureau_id=row["bureau_id"],
        region_id=row["region_id"],
        closed_at=row["closed_at"],
        due_at=row["closed_at"] + timedelta(days=settings.FOLLOW_UP["DUE_DAYS"]),
        created_at=now,
    )


def followup_select(*, now: datetime | None = None, since: datetime | None = None) -> int:
    """Create follow-ups for appeals closed since ``since`` (default: ``LOOKBACK_DAYS`` ago).

    Returns the number of follow-ups created. Idempotent (existing ones are skipped, and a
    concurrent run's rows are ignored on conflict). Writes no audit events: the selection can be
    recomputed from the ratings at any time; the outcome of each call is audited.
    """
    now = now or timezone.now()
    if since is None:
        since = now - timedelta(days=settings.FOLLOW_UP["LOOKBACK_DAYS"])
    created = 0
    batch: list[FollowUp] = []
    for row in _candidates().filter(closed_at__gte=since).iterator(chunk_size=BATCH):
        followup = _build(row, now)
        if followup is not None:
            batch.append(followup)
        if len(batch) >= BATCH:
            created += len(FollowUp.objects.bulk_create(batch, ignore_conflicts=True))
            batch = []
    if batch:
        created += len(FollowUp.objects.bulk_create(batch, ignore_conflicts=True))
    return created


def followup_select_one(appeal_id: int, *, now: datetime | None = None) -> FollowUp | None:
    """Select one just-closed appeal if the rule picks it; returns its follow-up (new or existing)."""
    now = now or timezone.now()
    row = _candidates().filter(pk=appeal_id).first()
    if row is None:
        return FollowUp.objects.filter(appeal_id=appeal_id).order_by("-round").first()
    followup = _build(row, now)
    if followup is None:
        return None
    FollowUp.objects.bulk_create([followup], ignore_conflicts=True)
    return FollowUp.objects.filter(appeal_id=appeal_id, round=row["reopen_count"]).first()


def select_on_close(appeal_id: int, kind: str) -> None:
    """After-commit hook on the ``closed`` event (registered in ``FollowUpConfig.ready``)."""
    followup_select_one(appeal_id)
