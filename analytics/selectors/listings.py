"""The report's two listing sheets: individual appeals (overdue and re-opened, the raw sheet).

The one place analytics reads appeals rather than rollups; the rows are streamed.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from analytics.models import AppealFact
from analytics.selectors.filters import Filters
from appeals.models import Appeal

# Columns of the raw sheet, in order (no personal data: contact name, phone and e-mail are left out).
REPORT_RAW_FIELDS = (
    "tracking_number",
    "submitted_at",
    "category_id",
    "region_id",
    "industry",
    "enterprise_size",
    "channel",
    "urgency",
    "state",
    "bureau_id",
    "dispatched_at",
    "signed_at",
    "reply_due",
    "replied_at",
    "closed_at",
    "rating_level",
    "reopen_count",
    "title",
)
# Columns of the overdue and re-opened sheet; the last two come from the appeal's analytics fact.
REPORT_OVERDUE_FIELDS = (
    "tracking_number",
    "title",
    "bureau_id",
    "category_id",
    "state",
    "reply_due",
    "replied_at",
    "fact_overdue",
    "fact_reopen_count",
)


def local_range(filters: Filters) -> tuple[datetime, datetime]:
    """The period as aware datetimes in the current time zone: [first day 00:00, day after the last 00:00)."""
    tz = timezone.get_current_timezone()
    start = datetime.combine(filters.start, time.min, tzinfo=tz)
    return start, datetime.combine(filters.end + timedelta(days=1), time.min, tzinfo=tz)


def report_appeals(filters: Filters) -> QuerySet[Appeal]:
    """Appeals matching the filters' region, industry, size, channel, appeal type and bureau (any date)."""
    query = Appeal.objects.all()
    if filters.region_ids is not None:
        query = query.filter(region_id__in=filters.region_ids)
    if filters.industry:
        query = query.filter(industry=filters.industry)
    if filters.size:
        query = query.filter(enterprise_size=filters.size)
    if filters.channel:
        query = query.filter(channel=filters.channel)
    if filters.appeal_type:
        query = query.filter(appeal_type=filters.appeal_type)
    if filters.bureau_id is not None:
        query = query.filter(bureau_id=filters.bureau_id)
    return query


def report_raw_rows(filters: Filters) -> QuerySet:
    """Tuples of ``REPORT_RAW_FIELDS`` for the period's appeals, oldest first (stream with ``.iterator``)."""
    start, end = local_range(filters)
    return (
        report_appeals(filters)
        .filter(submitted_at__gte=start, submitted_at__lt=end)
        .order_by("submitted_at", "pk")
        .values_list(*REPORT_RAW_FIELDS)
    )


def report_overdue_rows(filters: Filters) -> QuerySet:
    """Tuples of ``REPORT_OVERDUE_FIELDS``: appeals dispatched in the period that ran overdue or were re-opened.

    Ordered by reply deadline. The flags are read from each appeal's fact in the same query (a
    busy week flags tens of thousands, so neither an id list nor a dict of them in memory).
    """
    facts = AppealFact.objects.filter(dispatch_day__gte=filters.start, dispatch_day__lte=filters.end).filter(
        Q(overdue=True) | Q(reopen_count__gt=0)
    )
    fact = AppealFact.objects.filter(appeal_id=OuterRef("pk"))
    return (
        report_appeals(filters)
        .filter(pk__in=facts.values("appeal_id"))
        .annotate(
            fact_overdue=Subquery(fact.values("overdue")[:1]),
            fact_reopen_count=Subquery(fact.values("reopen_count")[:1]),
        )
        .order_by("reply_due", "pk")
        .values_list(*REPORT_OVERDUE_FIELDS)
    )
