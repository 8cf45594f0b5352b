"""Writes for the inbox and notification preferences (the user's own rows only), and the confirmation e-mail."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from notifications import outbox, realtime, sealing, selectors
from notifications.models import InboxItem, NotificationPreference, NotificationSettings, OutboxEvent


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


# The e-mail that carries the access code (notifications.catalogue "appeal.confirmation").
CONFIRMATION_EVENT = "appeal.confirmation"


def confirmation_enqueue(*, appeal: Any, access_code: str, language: str | None = None) -> OutboxEvent | None:
    """Record the submission confirmation e-mail (tracking number + access code) in the outbox.

    Call it in the transaction that saved the appeal, like any outbox row: the e-mail is then
    delivered exactly like the other notifications (retries, dead letters, the periodic
    re-dispatch), so neither a broker nor a worker fault can lose it. The access code is sealed
    (encrypted, ``notifications.sealing``), never stored in clear, and wiped once the e-mail is sent.
    Returns None, and writes nothing, when the appeal has no e-mail address.
    """
    if not appeal.contact_email:
        return None
    payload = {
        "tracking_number": appeal.tracking_number,
        "sealed_code": sealing.seal(access_code),
        "language": language or translation.get_language() or settings.LANGUAGE_CODE,
    }
    # Not broadcast: the consoles learn of the appeal from its submitted/dispatched events.
    return outbox.emit(CONFIRMATION_EVENT, appeal=appeal, payload=payload, new_appeal=True, broadcast=False)
