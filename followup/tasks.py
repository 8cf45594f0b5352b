"""Periodic follow-up selection."""

from __future__ import annotations

from celery import shared_task

from followup.selection import followup_select


@shared_task(name="followup.tasks.select", ignore_result=True, time_limit=900, soft_time_limit=840)
def select() -> int:
    """Create follow-ups for recently closed appeals the rule picks (idempotent; every 30 minutes)."""
    return followup_select()
