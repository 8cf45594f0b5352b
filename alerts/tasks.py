"""Periodic early-warning detection."""

from __future__ import annotations

from celery import shared_task

from alerts.services import alerts_detect


@shared_task(name="alerts.tasks.detect", ignore_result=True, time_limit=900, soft_time_limit=840)
def detect() -> dict[str, int]:
    """Run every detector and record new or grown alerts (idempotent; every 15 minutes)."""
    run = alerts_detect()
    return {"raised": run.raised, "grown": run.grown, "unchanged": run.unchanged}
