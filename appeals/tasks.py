"""Celery tasks of the appeals app (scheduled in ``config/celery.py``). Each is idempotent.

``close_unrated_appeals`` runs hourly; ``deadline_sweep`` every few minutes. (The submission
confirmation e-mail goes through the outbox: ``notifications.services.confirmation_enqueue``.)
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from appeals import services
from appeals.models import Appeal, AppealState

logger = logging.getLogger(__name__)

CLOSE_BATCH = 500


@shared_task(acks_late=True, time_limit=30 * 60, soft_time_limit=29 * 60)
def close_unrated_appeals() -> int:
    """Close replied appeals left unrated past HUYING["DEFAULT_RATING_DAYS"] as 基本满意 (default).

    Idempotent: ``services.appeal_close_unrated`` re-checks each appeal under its row lock and
    skips any rated or closed meanwhile, so overlapping runs and retries are harmless. Works in
    batches until none are left; returns how many appeals it closed.
    """
    cutoff = timezone.now() - timedelta(days=settings.HUYING["DEFAULT_RATING_DAYS"])
    closed = 0
    seen: set[int] = set()
    while True:
        ids = list(
            Appeal.objects.filter(state=AppealState.REPLIED, rating_level__isnull=True, replied_at__lte=cutoff)
            .exclude(pk__in=seen)
            .order_by("replied_at", "pk")
            .values_list("pk", flat=True)[:CLOSE_BATCH]
        )
        if not ids:
            break
        for appeal_id in ids:
            seen.add(appeal_id)
            try:
                if services.appeal_close_unrated(appeal_id=appeal_id) is not None:
                    closed += 1
            except services.AppealError:
                logger.warning("Default rating skipped for appeal %s", appeal_id, exc_info=True)
    if closed:
        logger.info("Closed %d unrated appeals with the default rating.", closed)
    return closed


@shared_task(name="appeals.purge_phone_challenges", soft_time_limit=240, time_limit=270)
def purge_phone_challenges() -> int:
    """Delete self-service SMS challenges that expired over a day ago (idempotent); return how many."""
    from appeals.services.selfservice import purge_phone_challenges as purge

    deleted = purge()
    if deleted:
        logger.info("Purged %d expired self-service challenges.", deleted)
    return deleted


@shared_task(name="routing.deadline_sweep", soft_time_limit=240, time_limit=270)
def deadline_sweep() -> dict[str, int]:
    """Warn, urge (催办) and supervise (督办) appeals against their deadlines, once each, and tell
    merged appeals' appellants about their master's outcome. Safe to overlap with itself.

    Keeps its original task name so beat entries and queued messages stay valid.
    """
    counts = services.run_sweep()
    counts["appeal.master_outcome"] = services.notify_merged_followers()
    if any(counts.values()):
        logger.info("Deadline sweep: %s", counts)
    return counts


__all__ = ["close_unrated_appeals", "deadline_sweep"]
