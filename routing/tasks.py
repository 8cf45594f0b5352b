"""Celery tasks of the routing app (scheduled in ``config/celery.py``). Each is idempotent."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="routing.deadline_sweep", soft_time_limit=240, time_limit=270)
def deadline_sweep() -> dict[str, int]:
    """Warn, urge (催办) and supervise (督办) appeals against their deadlines, once each, and tell
    merged appeals' appellants about their master's outcome. Safe to overlap with itself."""
    from routing.services import notify_merged_followers
    from routing.sweep import run_sweep

    counts = run_sweep()
    counts["appeal.master_outcome"] = notify_merged_followers()
    if any(counts.values()):
        logger.info("Deadline sweep: %s", counts)
    return counts


@shared_task(name="routing.retrain_classifier", soft_time_limit=600, time_limit=660)
def retrain_classifier() -> str:
    """Harvest dispatchers' manual routing as labelled examples and train a new classifier version.

    Training on unchanged data returns the existing version (the version id hashes the data), so
    running it twice is harmless. Returns the active version id.
    """
    from routing.classifier import train
    from routing.services import harvest_training_examples

    harvested = harvest_training_examples()
    row = train(include_stored=True)
    logger.info("Classifier retrained: %s (%d new dispatcher examples)", row.version, harvested)
    return row.version
