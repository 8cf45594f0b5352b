"""Celery tasks of the analytics app (schedules in config/celery.py)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from analytics import dashboard, rollups, services, weeks

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, time_limit=30 * 60, soft_time_limit=29 * 60)
def update_rollups() -> int:
    """Fold new audit events into the fact and rollup tables (cursor on the event id; idempotent).

    Safe to run concurrently: each batch locks the cursor row. When the tables changed, the
    dashboard's default view is rendered into the cache (``analytics.dashboard``). Returns the
    number of events read.
    """
    version = dashboard.current_version()
    read = rollups.update_rollups()
    if dashboard.current_version() != version:
        try:
            dashboard.warm()
        except Exception:  # the rollups are done; a failed warm-up only means a slower first page
            logger.exception("analytics: warming the dashboard cache failed")
    return read


@shared_task(acks_late=True, time_limit=30 * 60, soft_time_limit=29 * 60)
def build_report(report_id: int) -> None:
    """Generate one report's workbook (idempotent: a finished report is left alone)."""
    services.report_generate(report_id=report_id)


@shared_task(acks_late=True, time_limit=45 * 60, soft_time_limit=44 * 60)
def weekly_report() -> int:
    """Monday morning: bring rollups up to date, then build the previous ISO week's report.

    Idempotent: the week's report row is unique, and a finished one is not rebuilt.
    Returns the report's id.
    """
    rollups.update_rollups()
    start, end = weeks.previous_iso_week(timezone.localdate())
    report = services.weekly_report_ensure(start=start, end=end, language=settings.LANGUAGE_CODE)
    services.report_generate(report_id=report.pk)
    return report.pk
