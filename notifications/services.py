"""Writes for the inbox and notification preferences (the user's own rows only)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from notifications import realtime, selectors
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
        # Only the rows the page offered this person: events of other roles keep their defaults.
        for row in selectors.preference_matrix(user=user):
            for cell in row["cells"]:
                if cell["offered"]:
                    NotificationPreference.objects.update_or_create(
                        user=user,
                        event_type=row["event_type"],
                        channel=cell["channel"],
                        defaults={"enabled": cell["name"] in enabled},
                    )
        if language in languages:
            NotificationSettings.objects.update_or_create(user=user, defaults={"language": language})
