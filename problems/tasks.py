"""Periodic problem-ticket sweep."""

from __future__ import annotations

from celery import shared_task

from problems.detection import problems_sweep


@shared_task(name="problems.tasks.sweep", ignore_result=True, time_limit=900, soft_time_limit=840)
def sweep() -> dict[str, int]:
    """Flag appeals over a problem threshold (idempotent; every 15 minutes)."""
    run = problems_sweep()
    return {"candidates": run.candidates, "flagged": run.flagged, "updated": run.updated}
