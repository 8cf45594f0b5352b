"""Celery tasks of the appeals app (the appellant's side).

``close_unrated_appeals`` runs hourly from ``config.celery`` beat. (The submission confirmation
e-mail goes through the outbox: ``notifications.services.confirmation_enqueue``.)
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
