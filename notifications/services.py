"""Writes for the inbox and notification preferences (the user's own rows only)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications import catalogue, realtime
from notifications.models import InboxItem, NotificationPreference, NotificationSettings


def inbox_mark_read(*, user: Any, item_id: int) -> InboxItem | None:
    """Mark one of ``user``'s items read; None if it is not theirs. Pushes the new unread count."""
    item = InboxItem.objects.filter(user=user, pk=item_id).first()
    if item is None:
        return None
    if item.read_at is None:
        InboxItem.objects.filter(pk=item.pk, read_at__isnull=True).update(read_at=timezone.now())
        transaction.on_commit(lambda: realtime.push_unread(user.pk), robust=True)
    return item


def inbox_mark_all_read(*, user: Any) -> int:
    """Mark every unread item of ``user`` read; return how many. Pushes the new unread count."""
    count = InboxItem.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
    transaction.on_commit(lambda: realtime.push_unread(user.pk), robust=True)
    return count


def preferences_save(*, user: Any, enabled: set[str], language: str) -> None:
    """Store ``user``'s choices. ``enabled`` holds "event:channel" names that are ticked.

    Only offered (event, channel) pairs are stored; a row is kept for every pair so later changes
    to the defaults do not silently change what this person chose.
    """
    languages = {code for code, _label in settings.LANGUAGES}
    with transaction.atomic():
        for event_type, spec in catalogue.staff_configurable_events():
            for channel in spec.staff_channels:
                NotificationPreference.objects.update_or_create(
                    user=user,
                    event_type=event_type,
                    channel=channel,
                    defaults={"enabled": f"{event_type}:{channel}" in enabled},
                )
        if language in languages:
            NotificationSettings.objects.update_or_create(user=user, defaults={"language": language})
