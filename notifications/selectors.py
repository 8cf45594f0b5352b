"""Reads for the inbox and preferences pages, always scoped to the asking user."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from notifications import catalogue
from notifications.models import InboxItem, NotificationPreference, NotificationSettings


def inbox_for_user(*, user: Any, unread_only: bool = False) -> QuerySet[InboxItem]:
    items = InboxItem.objects.filter(user=user).select_related("appeal")
    return items.filter(read_at__isnull=True) if unread_only else items


def unread_count(*, user: Any) -> int:
    return InboxItem.objects.filter(user=user, read_at__isnull=True).count()


# The permission that puts someone in each audience (see notifications.recipients).
AUDIENCE_PERMISSION = {
    "bureau_staff": "appeals.handle_appeal",
    "officer": "appeals.handle_appeal",
    "assignee": "appeals.handle_appeal",
    "requester": "appeals.handle_appeal",
    "cohandling_staff": "appeals.handle_appeal",
    "bureau_leads": "appeals.review_appeal",
    "author": "appeals.handle_appeal",
    "dispatchers": "appeals.dispatch_appeal",
    "supervisors": "appeals.supervise_appeal",
    "managers": "analytics.view_analytics",
}


def preference_matrix(*, user: Any) -> list[dict[str, Any]]:
    """One row per event that can reach staff: its label and, per channel, offered/enabled."""
    chosen = {(p.event_type, p.channel): p.enabled for p in NotificationPreference.objects.filter(user=user)}
    rows = []
    for event_type, spec in catalogue.staff_configurable_events():
        if not any(user.has_perm(AUDIENCE_PERMISSION[a]) for a in spec.audiences):
            continue  # events this person's roles never receive are not offered
        cells = []
        for channel in (catalogue.INBOX, catalogue.EMAIL, catalogue.SMS):
            offered = channel in spec.staff_channels
            enabled = chosen.get((event_type, channel), channel in spec.staff_defaults) if offered else False
            cells.append(
                {"channel": channel, "offered": offered, "enabled": enabled, "name": f"{event_type}:{channel}"}
            )
        rows.append({"event_type": event_type, "label": spec.label, "cells": cells})
    return rows


def language_for_user(*, user: Any) -> str | None:
    return NotificationSettings.objects.filter(user=user).values_list("language", flat=True).first()
