"""Turning outbox events into deliveries and sending them, exactly once in normal operation.

Two steps, both safe to repeat:

1. ``expand_event`` resolves recipients and inserts one ``Delivery`` per (recipient, channel); the
   unique constraint makes a second expansion (a re-dispatch racing the first task) a no-op.
2. ``attempt_delivery`` *claims* a delivery with one conditional UPDATE (so two workers never send
   the same row), sends it outside any transaction, then records the outcome: sent, failed with a
   next attempt time (exponential backoff) for transient errors, or dead after ``NOTIFY_MAX_ATTEMPTS``
   or a permanent error. A worker that dies mid-send leaves a claim that expires after
   ``NOTIFY_CLAIM_SECONDS``; the periodic re-dispatch picks the row up again.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import socket
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation

from notifications import catalogue, links, realtime, recipients, sealing
from notifications.backends import sms
from notifications.models import Channel, Delivery, InboxItem, OutboxEvent
from routing import deadlines

logger = logging.getLogger(__name__)

S = Delivery.Status


def max_attempts() -> int:
    return int(getattr(settings, "NOTIFY_MAX_ATTEMPTS", 5))


def backoff(attempts: int) -> timedelta:
    """Wait before attempt ``attempts + 1``: base × 2^(attempts−1), capped (30 s, 1 min, 2 min … 1 h)."""
    base = float(getattr(settings, "NOTIFY_RETRY_BASE_SECONDS", 30))
    cap = float(getattr(settings, "NOTIFY_RETRY_MAX_SECONDS", 3600))
    return timedelta(seconds=min(cap, base * (2 ** max(0, attempts - 1))))


def is_transient(exc: BaseException) -> bool:
    """Errors worth retrying: the network, timeouts, a server saying "try later" (SMTP 4xx)."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    return isinstance(
        exc,
        smtplib.SMTPServerDisconnected
        | smtplib.SMTPConnectError
        | ConnectionError
        | TimeoutError
        | socket.timeout
        | socket.gaierror
        | sms.TransientSMSError,
    )


# --- Expansion ------------------------------------------------------------------------------------

# Other apps' work on each event, done with its expansion (integrations: webhook deliveries). Each
# hook gets the event inside the expansion's transaction and may only write to the database.
EXPANSION_HOOKS: list[Callable[[OutboxEvent], Any]] = []


def expand_event(event_id: int) -> list[int]:
    """Create the deliveries for one outbox event (idempotent); return the ids still to be sent.

    Side effects: inserts Delivery rows, sets ``OutboxEvent.processed_at``.
    """
    event = OutboxEvent.objects.select_related("appeal", "appeal__officer", "bureau").filter(pk=event_id).first()
    if event is None:
        return []
    if event.processed_at is None:
        wanted = recipients.resolve(event)
        now = timezone.now()
        with transaction.atomic():
            Delivery.objects.bulk_create(
                [
                    Delivery(
                        event=event,
                        channel=r.channel,
                        recipient_key=r.key,
                        user_id=r.user_id,
                        address=r.address,
                        language=r.language,
                        next_attempt_at=now,
                        created_at=now,
                    )
                    for r in wanted
                ],
                ignore_conflicts=True,
            )
            for hook in EXPANSION_HOOKS:
                hook(event)
            OutboxEvent.objects.filter(pk=event.pk, processed_at__isnull=True).update(processed_at=now)
    return list(
        Delivery.objects.filter(event_id=event_id, status__in=[S.PENDING, S.FAILED]).values_list("id", flat=True)
    )


# --- Sending --------------------------------------------------------------------------------------


def claim(delivery_id: int, *, force: bool = False) -> bool:
    """Take a delivery for sending. True if this caller owns it now; one UPDATE, so races are safe."""
    now = timezone.now()
    due = (
        Q(status__in=[S.PENDING, S.FAILED]) if force else Q(status__in=[S.PENDING, S.FAILED], next_attempt_at__lte=now)
    )
    expired = Q(status=S.SENDING, claimed_until__lt=now)
    lease = timedelta(seconds=int(getattr(settings, "NOTIFY_CLAIM_SECONDS", 300)))
    return bool(
        Delivery.objects.filter(pk=delivery_id)
        .filter(due | expired)
        .update(status=S.SENDING, claimed_until=now + lease, attempts=F("attempts") + 1)
    )


def requeue(delivery_ids: list[int]) -> list[int]:
    """Give failed or dead deliveries a fresh set of attempts, due now; return the ids requeued.

    Sent and in-flight deliveries are left alone (no duplicates). The last error stays visible
    until a send succeeds. Used by the admin's retry action.
    """
    ids = list(Delivery.objects.filter(pk__in=delivery_ids, status__in=[S.DEAD, S.FAILED]).values_list("id", flat=True))
    Delivery.objects.filter(pk__in=ids).update(
        status=S.PENDING, attempts=0, next_attempt_at=timezone.now(), claimed_until=None
    )
    return ids


def attempt_delivery(delivery_id: int, *, force: bool = False) -> str | None:
    """Send one delivery if it is due and nobody else is sending it; return its new status.

    ``force`` ignores the backoff time (the admin's "retry now"). Never raises for delivery errors:
    they are recorded on the row. Side effects: e-mail, SMS, an InboxItem, a websocket push.
    """
    if not claim(delivery_id, force=force):
        return None
    delivery = Delivery.objects.select_related("event", "event__appeal", "event__appeal__bureau", "user").get(
        pk=delivery_id
    )
    try:
        _send(delivery)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row; the task succeeds
        transient = is_transient(exc)
        error = f"{type(exc).__name__}: {exc}"[:2000]
        if transient and delivery.attempts < max_attempts():
            status = S.FAILED
            Delivery.objects.filter(pk=delivery_id).update(
                status=status,
                last_error=error,
                claimed_until=None,
                next_attempt_at=timezone.now() + backoff(delivery.attempts),
            )
            logger.warning("Delivery %s failed (attempt %s), will retry: %s", delivery_id, delivery.attempts, error)
        else:
            status = S.DEAD
            Delivery.objects.filter(pk=delivery_id).update(status=status, last_error=error, claimed_until=None)
            logger.error("Delivery %s is dead after %s attempt(s): %s", delivery_id, delivery.attempts, error)
        return status
    return S.SENT


def _send(delivery: Delivery) -> None:
    html = ""
    sealed = "sealed_code" in delivery.event.payload
    if catalogue.canonical(delivery.event.event_type) == CONFIRMATION:
        subject, body, html = render_confirmation(delivery)
    else:
        subject, body = render(delivery)
    if delivery.channel == Channel.INBOX:
        if delivery.user_id is None:
            # Only staff get in-app deliveries (recipients.resolve), and the row goes with its user.
            raise ValueError(f"in-app delivery {delivery.pk} has no user")
        event = delivery.event
        with transaction.atomic():
            # A concurrent sender may have created it already: then it is delivered.
            with contextlib.suppress(IntegrityError):
                InboxItem.objects.get_or_create(
                    delivery=delivery,
                    defaults={
                        "user_id": delivery.user_id,
                        "event_type": catalogue.canonical(event.event_type),
                        "appeal_id": event.appeal_id,
                        "title": subject[:200],
                        "body": body,
                        "url": staff_appeal_path(event.appeal_id) if event.appeal_id else "",
                        "created_at": event.created_at,
                    },
                )
            _mark_sent(delivery)
        transaction.on_commit(lambda: realtime.push_unread(delivery.user_id), robust=True)
        return
    if delivery.channel == Channel.EMAIL:
        # The same Message-ID on every attempt: if a worker dies between handing a message to the mail
        # server and recording it, the re-sent copy is recognisably the same message (mail clients and
        # relays drop duplicates by Message-ID).
        headers = {"Message-ID": f"<delivery-{delivery.pk}.{delivery.event_id}@{message_id_domain()}>"}
        message = EmailMultiAlternatives(subject=subject, body=body, to=[delivery.address], headers=headers)
        if html:
            message.attach_alternative(html, "text/html")
        message.send(fail_silently=False)
    elif delivery.channel == Channel.SMS:
        sms.get_backend().send(to=delivery.address, text=body)
    else:
        raise ValueError(f"unknown channel {delivery.channel!r}")
    # One transaction: a worker killed in between cannot leave a sent code still sealed in its row.
    # (Each of these events has exactly one delivery: the appellant's e-mail or SMS.)
    with transaction.atomic():
        _mark_sent(delivery)
        if sealed:
            wipe_sealed(delivery.event_id)


def message_id_domain() -> str:
    """The domain part of our Message-IDs: the site's host name."""
    return urlsplit(settings.SITE_URL).hostname or "huying.localhost"


def _mark_sent(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(
        status=S.SENT, sent_at=timezone.now(), claimed_until=None, last_error=""
    )


# --- The confirmation e-mail (the one message that carries the access code) ------------------------

CONFIRMATION = "appeal.confirmation"


class SealedCodeUnavailable(ValueError):
    """The sealed access code cannot be opened (expired, wiped, or sealed under a key no longer kept)."""


def render_confirmation(delivery: Delivery) -> tuple[str, str, str]:
    """(subject, text, html) of the confirmation e-mail, with the access code unsealed for this send only."""
    from appeals import presenters  # the appellant-facing wording of the expected reply date

    event = delivery.event
    appeal = event.appeal
    code = sealing.unseal(event.payload.get("sealed_code", ""))
    if appeal is None or code is None:
        # Permanent: retrying cannot bring the code back. The appellant saw it on screen.
        raise SealedCodeUnavailable(f"the access code of outbox event {event.pk} is no longer available")
    language = "en" if delivery.language.startswith("en") else "zh-hans"
    with translation.override(language):
        context = {
            "appeal": appeal,
            "access_code": code,
            "expected_reply_by": presenters.expected_reply_by(appeal),
            "lookup_url": settings.SITE_URL + reverse("portal:lookup"),
            "site_url": settings.SITE_URL,
        }
        subject = render_to_string("notifications/email/appellant_submitted_subject.txt", context)
        text = render_to_string("notifications/email/appellant_submitted.txt", context)
        html = render_to_string("notifications/email/appellant_submitted.html", context)
    return " ".join(subject.split()), text, html


def wipe_sealed(event_id: int) -> None:
    """Remove the sealed access code from an outbox row whose e-mail went out (nothing left to decrypt)."""
    with transaction.atomic():
        event = OutboxEvent.objects.select_for_update().filter(pk=event_id).first()
        if event is not None and "sealed_code" in event.payload:
            payload = {k: v for k, v in event.payload.items() if k != "sealed_code"}
            OutboxEvent.objects.filter(pk=event_id).update(payload=payload)


# --- SMS that carry a code: the self-service one-time code, a new access code -----------------------

SEALED_SMS = frozenset({"selfservice.code", "appeal.access_code_reset"})
SEALED_EVENTS = SEALED_SMS | {CONFIRMATION}


def render_sealed_sms(delivery: Delivery) -> str:
    """The text of an SMS whose code is sealed in the outbox row, unsealed for this send only."""
    event = delivery.event
    code = sealing.unseal(event.payload.get("sealed_code", ""))
    if event.appeal is None or code is None:
        raise SealedCodeUnavailable(f"the code of outbox event {event.pk} is no longer available")
    lang = "en" if delivery.language.startswith("en") else "zh-hans"
    context = {
        "lang": lang,
        "code": code,
        "minutes": event.payload.get("minutes", 10),
        "tracking_number": event.appeal.tracking_number,
        "site_url": settings.SITE_URL,
    }
    name = catalogue.canonical(event.event_type)
    return render_to_string(f"notifications/sms/{name}.txt", context).strip()


# --- Rendering ------------------------------------------------------------------------------------


def staff_appeal_path(appeal_id: int) -> str:
    """The staff console's page for one appeal (the console's URL name if it exists)."""
    for name in ("console:appeal_detail", "console:appeal"):
        try:
            return reverse(name, args=[appeal_id])
        except NoReverseMatch:
            continue
    return f"/staff/appeals/{appeal_id}/"


# The English names of the five rating levels (the Chinese ones come from RatingLevel's labels).
RATING_EN = {5: "very satisfied", 4: "satisfied", 3: "basically satisfied", 2: "dissatisfied", 1: "very dissatisfied"}


def _local(value: Any) -> str:
    return deadlines.format_local(value)


def render(delivery: Delivery) -> tuple[str, str]:
    """(subject, body) for a delivery, in the recipient's language, from the per-event template."""
    event = delivery.event
    if catalogue.canonical(event.event_type) == CONFIRMATION:
        subject, text, _html = render_confirmation(delivery)
        return subject, text
    from appeals import presenters  # the date promised to the business

    appeal = event.appeal
    event_type = catalogue.canonical(event.event_type)
    if event_type in SEALED_SMS:
        return "", render_sealed_sms(delivery)
    lang = "en" if delivery.language.startswith("en") else "zh-hans"
    appellant = delivery.recipient_key == recipients.APPELLANT_KEY
    context: dict[str, Any] = {
        "lang": lang,
        "appellant": appellant,
        "payload": event.payload,
        "site_url": settings.SITE_URL,
        # The appellant's link opens the appeal directly (signed, expiring; notifications.links).
        "track_url": links.appeal_link(appeal) if appellant and appeal is not None else f"{settings.SITE_URL}/track/",
        "link_days": settings.SELF_SERVICE["LINK_MAX_AGE_DAYS"],
        **{k: v for k, v in event.payload.items() if isinstance(k, str) and k.isidentifier()},
    }
    if appeal is not None:
        bureau = appeal.bureau
        context.update(
            tracking_number=appeal.tracking_number,
            title=appeal.title,
            bureau=bureau.name if bureau else "",
            bureau_en=(bureau.name_en or bureau.name) if bureau else "",
            sign_for_due=_local(appeal.sign_for_due),
            reply_due=_local(appeal.reply_due),
            # The date promised to the business (appellant messages use this, never reply_due).
            promised_reply_by=_local(presenters.expected_reply_by(appeal)),
            first_contact_due=_local(appeal.first_contact_due),
            staff_url=settings.SITE_URL + staff_appeal_path(appeal.pk),
            rating=appeal.get_rating_level_display() if appeal.rating_level else "",
            rating_en=RATING_EN.get(appeal.rating_level or 0, ""),
        )
    text = render_to_string(f"notifications/{delivery.channel}/{event_type}.txt", context).strip()
    if delivery.channel == Channel.SMS:
        return "", text
    subject, _sep, body = text.partition("\n")
    return subject.strip(), body.strip()


def wipe_expired_sealed() -> int:
    """Wipe sealed access codes past ``OUTBOX_SEALED_MAX_AGE_SECONDS`` (their e-mail never went out)."""
    cutoff = timezone.now() - timedelta(seconds=int(settings.OUTBOX_SEALED_MAX_AGE_SECONDS))
    ids = list(
        OutboxEvent.objects.filter(
            event_type__in=SEALED_EVENTS, created_at__lt=cutoff, payload__has_key="sealed_code"
        ).values_list("id", flat=True)[:500]
    )
    for event_id in ids:
        wipe_sealed(event_id)
    return len(ids)
