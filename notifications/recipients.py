"""Who should hear about an outbox event, by which channels.

Staff recipients come from the event's audiences (``notifications.catalogue``) filtered by each
person's preferences; the appellant is addressed by the contact details given with the appeal.
This runs in the delivery task (system context), so it reads across bureaus by design.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import Q

from notifications import catalogue
from notifications.models import Channel, NotificationPreference, NotificationSettings, OutboxEvent

APPELLANT_KEY = "appellant"


@dataclass(frozen=True)
class Recipient:
    key: str  # "user:<id>" or "appellant"; part of the Delivery unique constraint
    channel: str
    user_id: int | None
    address: str
    language: str


def users_with_perm(perm: str, *, bureau_id: int | None = None) -> list[Any]:
    """Active users holding ``perm`` ("app_label.codename") through a group or directly."""
    app_label, codename = perm.split(".", 1)
    permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
    if permission is None:
        return []
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(groups__permissions=permission) | Q(user_permissions=permission))
    )
    if bureau_id is not None:
        users = users.filter(staff_profile__bureau_id=bureau_id)
    return list(users.select_related("staff_profile").distinct())


def _audience_users(audience: str, event: OutboxEvent) -> list[Any]:
    appeal = event.appeal
    bureau_id = appeal.bureau_id if appeal is not None else event.bureau_id
    if audience == "bureau_staff":
        return users_with_perm("appeals.handle_appeal", bureau_id=bureau_id) if bureau_id else []
    if audience == "bureau_leads":
        return users_with_perm("appeals.review_appeal", bureau_id=bureau_id) if bureau_id else []
    if audience == "officer":
        if appeal is not None and appeal.officer_id:
            return [appeal.officer]
        # Nobody has signed for it yet: the whole bureau hears about it.
        return users_with_perm("appeals.handle_appeal", bureau_id=bureau_id) if bureau_id else []
    if audience == "dispatchers":
        return users_with_perm("appeals.dispatch_appeal")
    if audience == "supervisors":
        return users_with_perm("appeals.supervise_appeal")
    if audience == "managers":
        return users_with_perm("analytics.view_analytics")
    if audience == "requester":
        from appeals.models import Extension

        extension_id = event.payload.get("extension_id")
        extension = Extension.objects.select_related("requested_by").filter(pk=extension_id).first()
        if extension is not None:
            return [extension.requested_by]
        return _audience_users("officer", event)
    if audience == "assignee":
        officer_id = event.payload.get("officer_id") or (appeal.officer_id if appeal is not None else None)
        return list(get_user_model().objects.filter(pk=officer_id, is_active=True)) if officer_id else []
    if audience == "author":
        author_id = event.payload.get("author_id")
        return list(get_user_model().objects.filter(pk=author_id, is_active=True)) if author_id else []
    if audience == "cohandling_staff":
        target = event.payload.get("bureau_id") or event.bureau_id
        return users_with_perm("appeals.handle_appeal", bureau_id=target) if target else []
    raise ValueError(f"unknown audience {audience!r}")


def resolve(event: OutboxEvent) -> list[Recipient]:
    """Every (recipient, channel) that should receive ``event``, after preferences. Pure read."""
    spec = catalogue.spec_for(event.event_type)
    if spec is None:
        return []
    result: list[Recipient] = []
    users: dict[int, Any] = {}
    for audience in spec.audiences:
        for user in _audience_users(audience, event):
            users.setdefault(user.pk, user)
    if users:
        event_type = catalogue.canonical(event.event_type)
        choices = {
            (p.user_id, p.channel): p.enabled
            for p in NotificationPreference.objects.filter(user_id__in=users, event_type=event_type)
        }
        languages = dict(NotificationSettings.objects.filter(user_id__in=users).values_list("user_id", "language"))
        for user_id, user in sorted(users.items()):
            for channel in spec.staff_channels:
                if not choices.get((user_id, channel), channel in spec.staff_defaults):
                    continue
                address = _staff_address(user, channel)
                if channel != Channel.INBOX and not address:
                    continue
                result.append(
                    Recipient(
                        key=f"user:{user_id}",
                        channel=channel,
                        user_id=user_id,
                        address=address,
                        language=languages.get(user_id, settings.LANGUAGE_CODE),
                    )
                )
    appeal = event.appeal
    if appeal is not None and spec.appellant and _appellant_wanted(event):
        language = event.payload.get("language") or settings.LANGUAGE_CODE
        for channel in spec.appellant:
            address = appeal.contact_email if channel == Channel.EMAIL else appeal.contact_phone
            if address:
                result.append(Recipient(APPELLANT_KEY, channel, None, address, language))
    return result


def _staff_address(user: Any, channel: str) -> str:
    if channel == Channel.EMAIL:
        return user.email or ""
    if channel == Channel.SMS:
        profile = getattr(user, "staff_profile", None)
        return profile.phone if profile is not None else ""
    return ""


def _appellant_wanted(event: OutboxEvent) -> bool:
    # A refused extension changes nothing for the appellant; only an approved one is news to them.
    if catalogue.canonical(event.event_type) == "extension.decided":
        return bool(event.payload.get("approved"))
    return True
