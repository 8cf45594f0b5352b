"""Periodic knowledge-base work."""

from __future__ import annotations

from celery import shared_task

from knowledge.services import articles_expiry_sweep


@shared_task(name="knowledge.tasks.expiry_sweep", ignore_result=True, time_limit=300)
def expiry_sweep() -> dict[str, int]:
    """Retire expired articles and warn owners of those ending soon (idempotent; daily)."""
    result = articles_expiry_sweep()
    return {"expired": result.expired, "warned": result.warned}
