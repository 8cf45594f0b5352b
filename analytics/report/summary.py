"""The summary sheet: period, filters and every headline metric against the previous period."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from analytics import selectors
from analytics.report.workbook import DATETIME, PERCENT, Texts, Writer, local_naive, pct
from analytics.selectors import Filters
from appeals.models import Channel, EnterpriseSize, Industry
from routing.appeal_types import AppealType


def describe_filters(filters: Filters, w: Texts) -> str:
    """The filters in words ("地区: 佛山市; 渠道: 网站"), or "none (all)"."""
    parts = []
    labels = selectors.region_labels()
    if filters.region_id:
        parts.append(f"{w.t('region')}: {labels.get(filters.region_id, filters.region_id)}")
    if filters.industry:
        parts.append(f"{w.t('industry')}: {filters.industry} {Industry(filters.industry).label}")
    if filters.size:
        parts.append(f"{w.t('size')}: {EnterpriseSize(filters.size).label}")
    if filters.channel:
        parts.append(f"{w.t('channel')}: {Channel(filters.channel).label}")
    if filters.appeal_type:
        parts.append(f"{w.t('appeal_type')}: {AppealType(filters.appeal_type).label}")
    if filters.bureau_id:
        parts.append(f"{w.t('bureau')}: {selectors.bureau_labels().get(filters.bureau_id, filters.bureau_id)}")
    return "; ".join(parts) or w.t("none")


def summary_sheet(w: Writer, filters: Filters) -> None:
    ws = w.sheet("summary", [28, 16, 16, 14])
    now, previous = selectors.kpis(filters), filters.shifted(-1)
    w.title(ws, w.t("title"))
    ws.append([w.t("period"), f"{filters.start:%Y-%m-%d} – {filters.end:%Y-%m-%d}"])
    ws.append([w.t("previous"), f"{previous.start:%Y-%m-%d} – {previous.end:%Y-%m-%d}"])
    ws.append([w.t("filters"), describe_filters(filters, w)])
    ws.append([w.t("generated"), w.cell(local_naive(timezone.now()), number_format=DATETIME)])
    ws.append([])
    w.header(ws, ["metric", "this", "last", "change"])
    a, b = now.card, now.previous_card
    rows: list[tuple[str, Any, Any, str | None]] = [
        ("appeals", now.appeals, now.previous_appeals, None),
        ("dispatched", a.dispatched, b.dispatched, None),
        ("signed_on_time", a.signed_on_time, b.signed_on_time, None),
        ("response_rate", pct(a.response_rate), pct(b.response_rate), PERCENT),
        ("resolution_rate", pct(a.resolution_rate), pct(b.resolution_rate), PERCENT),
        ("satisfaction_rate", pct(a.satisfaction_rate), pct(b.satisfaction_rate), PERCENT),
        ("composite", a.composite, b.composite, "0.0"),
        ("ratings", a.ratings, b.ratings, None),
        ("overdue_count", a.overdue, b.overdue, None),
        ("returns", a.returns, b.returns, None),
        ("rehandles", a.rehandles, b.rehandles, None),
        ("followups_due", a.followups_due, b.followups_due, None),
        ("followups_completed", a.followups_completed, b.followups_completed, None),
        ("followup_rate", pct(a.followup_rate), pct(b.followup_rate), PERCENT),
        ("followup_not_resolved", a.followups_not_resolved, b.followups_not_resolved, None),
        ("followup_contested", a.followups_contested, b.followups_contested, None),
        ("sign_median", a.sign_median_hours, b.sign_median_hours, "0.0"),
        ("sign_p90", a.sign_p90_hours, b.sign_p90_hours, "0.0"),
        ("reply_median", a.reply_median_hours, b.reply_median_hours, "0.0"),
        ("reply_p90", a.reply_p90_hours, b.reply_p90_hours, "0.0"),
    ]
    change_formats = {PERCENT: "+0.0%;-0.0%;0.0%", "0.0": "+0.0;-0.0;0.0", None: "+0;-0;0"}
    for key, this, last, fmt in rows:
        change = None if this is None or last is None else round(this - last, 4)
        ws.append(
            [
                w.t(key),
                w.cell(this, number_format=fmt),
                w.cell(last, number_format=fmt),
                w.cell(change, number_format=change_formats[fmt]),
            ]
        )
