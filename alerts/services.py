"""Writes of the early-warning module: raising alerts from findings, and acknowledging them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from alerts.detection import DETECTORS, Finding
from alerts.models import Alert, AlertAppeal, AlertKind, AlertState
from notifications import outbox

# Clusters and repeat filings grow: a detection that shares an appeal with an alert of the same kind
# is the same problem, whatever its key. Surges and sensitive words are matched by key alone.
GROWING_KINDS = (AlertKind.CLUSTER, AlertKind.REPEAT)


class AlertError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class DetectionRun:
    raised: int = 0
    grown: int = 0
    unchanged: int = 0


def _existing(finding: Finding) -> Alert | None:
    alert = Alert.objects.select_for_update().filter(kind=finding.kind, key=finding.key).first()
    if alert is None and finding.kind in GROWING_KINDS:
        alert = (
            Alert.objects.select_for_update()
            .filter(kind=finding.kind, links__appeal_id__in=finding.appeal_ids)
            .order_by("pk")
            .first()
        )
    return alert


def _english(headline) -> str:
    with translation.override("en"):
        return headline()


def alert_record(finding: Finding, *, now: datetime) -> str:
    """Raise a new alert for ``finding`` or add its new appeals to the alert already raised.

    Returns "raised", "grown" or "unchanged". Only a new alert notifies (supervisors, and for
    sensitive words the dispatchers too); a growing one is updated silently, so a cluster found again
    every quarter of an hour is announced once.
    """
    with transaction.atomic():
        alert = _existing(finding)
        if alert is None:
            alert = Alert.objects.create(
                kind=finding.kind,
                key=finding.key,
                title=finding.title,
                detail=finding.detail,
                region_id=finding.region_id,
                category_id=finding.category_id,
                raised_at=now,
                updated_at=now,
            )
            AlertAppeal.objects.bulk_create([AlertAppeal(alert=alert, appeal_id=pk) for pk in finding.appeal_ids])
            outbox.emit(
                "alert.sensitive" if alert.kind == AlertKind.SENSITIVE else "alert.raised",
                payload={
                    "alert_id": alert.pk,
                    "kind": alert.kind,
                    "alert_title": alert.title,
                    "alert_title_en": _english(alert.headline_in),
                    "alert_appeals": len(finding.appeal_ids),
                    "alert_url": settings.SITE_URL + reverse("alerts:board") + f"#alert-{alert.pk}",
                },
                broadcast=False,
            )
            return "raised"
        known = set(alert.links.values_list("appeal_id", flat=True))
        new = [pk for pk in finding.appeal_ids if pk not in known]
        if not new:
            return "unchanged"
        AlertAppeal.objects.bulk_create([AlertAppeal(alert=alert, appeal_id=pk) for pk in new])
        alert.title = finding.title
        alert.detail = {**finding.detail, "appeals": len(known) + len(new)}
        alert.updated_at = now
        alert.save(update_fields=["title", "detail", "updated_at"])
        return "grown"


def alerts_detect(*, now: datetime | None = None, kinds: tuple[str, ...] | None = None) -> DetectionRun:
    """Run every detector over its window and record what it finds. Idempotent; safe to repeat."""
    now = now or timezone.now()
    run = DetectionRun()
    for kind, detect in DETECTORS.items():
        if kinds is not None and kind not in kinds:
            continue
        for finding in detect(now):
            outcome = alert_record(finding, now=now)
            setattr(run, outcome, getattr(run, outcome) + 1)
    return run


def can_handle_alerts(user: Any) -> bool:
    return bool(
        user.is_authenticated
        and (user.has_perm("appeals.supervise_appeal") or user.has_perm("appeals.dispatch_appeal"))
    )


@transaction.atomic
def alert_acknowledge(*, user: Any, alert_id: int, note: str) -> Alert:
    """A supervisor or dispatcher acknowledges an alert with a note saying what will be done."""
    if not can_handle_alerts(user):
        raise AlertError(_("只有督办员和分拨员可以确认预警。"))
    alert = Alert.objects.select_for_update().filter(pk=alert_id).first()
    if alert is None:
        raise AlertError(_("没有找到这条预警。"))
    if alert.state == AlertState.ACKNOWLEDGED:
        raise AlertError(_("这条预警已由其他人确认。"))
    if not note.strip():
        raise AlertError(_("请写明处理说明，例如已通知哪个部门、准备怎样处理。"))
    alert.state = AlertState.ACKNOWLEDGED
    alert.acknowledged_by = user
    alert.acknowledged_at = timezone.now()
    alert.note = note.strip()
    alert.save(update_fields=["state", "acknowledged_by", "acknowledged_at", "note"])
    return alert
