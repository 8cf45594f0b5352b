"""Reads of the early-warning module: the supervisors' board and the weekly report's section."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from alerts.models import Alert, AlertAppeal, AlertState
from appeals.models import Appeal


def alerts_for_board(*, state: str = "", kind: str = "") -> QuerySet[Alert]:
    """Alerts newest first, each with its appeals (tracking number, title, state, bureau)."""
    alerts = Alert.objects.select_related("region", "category", "acknowledged_by")
    if state != "all" and state in AlertState.values:
        alerts = alerts.filter(state=state)
    if kind:
        alerts = alerts.filter(kind=kind)
    appeals = AlertAppeal.objects.select_related("appeal__bureau").only(
        "alert_id",
        "appeal__id",
        "appeal__tracking_number",
        "appeal__title",
        "appeal__state",
        "appeal__bureau__name",
        "appeal__bureau__name_en",
    )
    return alerts.prefetch_related(Prefetch("links", queryset=appeals.order_by("appeal_id"))).order_by(
        "state", "-raised_at", "-pk"
    )


def open_alert_count() -> int:
    return Alert.objects.filter(state=AlertState.OPEN).count()


def alerts_for_week(*, start: date, end: date, region_id: int | None = None) -> list[dict[str, Any]]:
    """Alerts raised between ``start`` and ``end`` (inclusive) for the weekly report's policy section,
    in the active language (``region_id``: only that city's, and alerts without a region)."""
    tz = timezone.get_current_timezone()
    since = timezone.make_aware(datetime.combine(start, time.min), tz)
    until = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz)
    rows = []
    alerts = Alert.objects.filter(raised_at__gte=since, raised_at__lt=until)
    if region_id is not None:
        alerts = alerts.filter(Q(region_id=region_id) | Q(region__isnull=True))
    for alert in alerts.select_related("region", "category").prefetch_related("links").order_by("kind", "-raised_at"):
        numbers = list(
            Appeal.objects.filter(pk__in=[link.appeal_id for link in alert.links.all()[:20]]).values_list(
                "tracking_number", flat=True
            )
        )
        rows.append(
            {
                "kind": alert.get_kind_display(),
                "title": alert.headline,
                "region": alert.region.display_name if alert.region else "",
                "category": alert.category.display_name if alert.category else "",
                "appeals": alert.links.count(),
                "tracking_numbers": numbers,
                "raised_at": alert.raised_at,
                "state": alert.get_state_display(),
                "note": alert.note,
            }
        )
    return rows
