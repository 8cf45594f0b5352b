"""Celery tasks of the routing app (scheduled in ``config/celery.py``). Each is idempotent.

The deadline sweep writes appeals, so it is ``appeals.tasks.deadline_sweep`` (its task name is
still ``routing.deadline_sweep``).
"""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="routing.retrain_classifier", soft_time_limit=600, time_limit=660)
def retrain_classifier() -> str:
    """Harvest dispatchers' manual routing as labelled examples and train a new classifier version.

    Training on unchanged data returns the existing version (the version id hashes the data), so
    running it twice is harmless. Returns the active version id.
    """
    from routing.classifier import train
    from routing.learning import harvest_training_examples

    harvested = harvest_training_examples()
    row = train(include_stored=True)
    logger.info("Classifier retrained: %s (%d new dispatcher examples)", row.version, harvested)
    return row.version
