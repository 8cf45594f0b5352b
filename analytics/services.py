"""Writes of the analytics app: requesting and generating reports.

Analytics never writes to appeals; the only rows it owns are rollups (``analytics.rollups``) and
``Report``. Generation runs in a Celery task; the row carries the progress the page polls.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import asdict
from datetime import date
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from analytics import models
from analytics import report as workbook
from analytics.models import Report
from analytics.selectors import Filters
from notifications import outbox

logger = logging.getLogger(__name__)

FILTER_FIELDS = ("region_id", "industry", "size", "channel", "appeal_type", "bureau_id")


def filters_to_json(filters: Filters) -> dict[str, Any]:
    data = asdict(filters)
    return {k: data[k] for k in FILTER_FIELDS if data[k] not in (None, "")}


def report_filters(report: Report) -> Filters:
    return Filters(start=report.period_start, end=report.period_end, **report.filters)


def report_title(start: date, end: date, *, english: bool) -> str:
    with translation.override("en" if english else "zh-hans"):
        return models.report_title(start, end)


def report_request(*, user: Any, filters: Filters, language: str) -> Report:
    """Queue an on-demand report for ``filters``; the task starts after commit.

    Raises ValueError when the range is reversed or longer than a year (a report that large
    belongs in a rebuild of the dashboard, not a spreadsheet).
    """
    if filters.end < filters.start:
        raise ValueError(_("结束日期早于开始日期，请调换两个日期后再试。"))
    if filters.length > 366:
        raise ValueError(_("报表最长覆盖一年（366天），请缩短日期范围。"))
    from analytics.tasks import build_report

    with transaction.atomic():
        report = Report.objects.create(
            kind=Report.Kind.ON_DEMAND,
            title=report_title(filters.start, filters.end, english=workbook.is_english(language)),
            period_start=filters.start,
            period_end=filters.end,
            filters=filters_to_json(filters),
            language=language,
            requested_by=user,
        )
        transaction.on_commit(lambda: build_report.delay(report.pk))
    return report


def weekly_report_ensure(*, start: date, end: date, language: str) -> Report:
    """The automatic report row of a week, created once (idempotent under retries and races)."""
    defaults = {
        "title": report_title(start, end, english=workbook.is_english(language)),
        "kind": Report.Kind.WEEKLY,
    }
    try:
        with transaction.atomic():
            report, _created = Report.objects.get_or_create(
                kind=Report.Kind.WEEKLY, period_start=start, period_end=end, language=language, defaults=defaults
            )
    except IntegrityError:
        report = Report.objects.get(kind=Report.Kind.WEEKLY, period_start=start, period_end=end, language=language)
    return report


def _set_progress(report_id: int, percent: int, note: str) -> None:
    # A plain UPDATE outside any transaction so the polling page sees it immediately.
    Report.objects.filter(pk=report_id).update(progress=min(max(percent, 0), 100), progress_note=note)


def report_generate(*, report_id: int) -> Report:
    """Write the workbook of a report, store it, mark it done; announce weekly ones (``report.ready``).

    Idempotent: a report already done is returned untouched. On failure the row is marked failed
    with the error and the exception re-raised (the task logs it).
    """
    report = Report.objects.get(pk=report_id)
    if report.status == Report.Status.DONE:
        return report
    Report.objects.filter(pk=report_id).update(status=Report.Status.RUNNING, progress=1, error="")
    try:
        with tempfile.TemporaryFile() as handle:
            count = workbook.build_workbook(
                filters=report_filters(report),
                language=report.language,
                out=handle,
                progress=lambda p, note: _set_progress(report_id, p, note),
            )
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(0)
            with transaction.atomic():
                report = Report.objects.select_for_update().get(pk=report_id)
                if report.file:
                    report.file.delete(save=False)
                report.file.save(report.filename, File(handle), save=False)
                report.size_bytes = size
                report.appeal_count = count
                report.status = Report.Status.DONE
                report.progress = 100
                report.finished_at = timezone.now()
                report.save()
                if report.kind == Report.Kind.WEEKLY:
                    path = reverse("analytics:report-detail", args=[report.pk])
                    outbox.emit(
                        "report.ready",
                        payload={
                            "report_id": report.pk,
                            "report_title": report_title(report.period_start, report.period_end, english=False),
                            "report_title_en": report_title(report.period_start, report.period_end, english=True),
                            "period_start": report.period_start.isoformat(),
                            "period_end": report.period_end.isoformat(),
                            "language": report.language,
                            "staff_url": settings.SITE_URL + path,
                        },
                    )
    except Exception as exc:
        logger.exception("Report %s failed", report_id)
        Report.objects.filter(pk=report_id).update(status=Report.Status.FAILED, error=str(exc)[:2000])
        raise
    return report
