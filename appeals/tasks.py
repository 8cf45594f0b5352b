"""Celery tasks of the appeals app (the appellant's side).

``close_unrated_appeals`` runs hourly from ``config.celery`` beat. ``send_submission_email`` is
queued by the portal and the API right after a submission with an e-mail address: it is the only
message that carries the plain access code, which is never stored in the database, so it travels
in the task's arguments instead of the outbox payload.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from appeals import presenters, services
from appeals.models import Appeal, AppealState

logger = logging.getLogger(__name__)

CLOSE_BATCH = 500


@shared_task(acks_late=True, time_limit=30 * 60, soft_time_limit=29 * 60)
def close_unrated_appeals() -> int:
    """Close replied appeals left unrated past HUYING["DEFAULT_RATING_DAYS"] as 基本满意 (default).

    Idempotent: ``services.appeal_close_unrated`` re-checks each appeal under its row lock and
    skips any rated or closed meanwhile, so overlapping runs and retries are harmless. Works in
    batches until none are left; returns how many appeals it closed.
    """
    cutoff = timezone.now() - timedelta(days=settings.HUYING["DEFAULT_RATING_DAYS"])
    closed = 0
    seen: set[int] = set()
    while True:
        ids = list(
            Appeal.objects.filter(state=AppealState.REPLIED, rating_level__isnull=True, replied_at__lte=cutoff)
            .exclude(pk__in=seen)
            .order_by("replied_at", "pk")
            .values_list("pk", flat=True)[:CLOSE_BATCH]
        )
        if not ids:
            break
        for appeal_id in ids:
            seen.add(appeal_id)
            try:
                if services.appeal_close_unrated(appeal_id=appeal_id) is not None:
                    closed += 1
            except services.AppealError:
                logger.warning("Default rating skipped for appeal %s", appeal_id, exc_info=True)
    if closed:
        logger.info("Closed %d unrated appeals with the default rating.", closed)
    return closed


@shared_task(
    autoretry_for=(SMTPException, ConnectionError, TimeoutError),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=5,
    time_limit=60,
    soft_time_limit=50,
)
def send_submission_email(appeal_id: int, access_code: str, language: str = "zh-hans") -> bool:
    """E-mail the appellant their tracking number and access code after a submission.

    Templates: notifications/email/appellant_submitted.{txt,html}. Skips appeals without an
    e-mail address. Retries transient mail-server errors with backoff. Returns whether it sent.
    """
    appeal = Appeal.objects.select_related("bureau", "category").filter(pk=appeal_id).first()
    if appeal is None or not appeal.contact_email:
        return False
    with translation.override(language):
        context = {
            "appeal": appeal,
            "access_code": access_code,
            "expected_reply_by": presenters.expected_reply_by(appeal),
            "lookup_url": settings.SITE_URL + reverse("portal:lookup"),
            "site_url": settings.SITE_URL,
        }
        subject = render_to_string("notifications/email/appellant_submitted_subject.txt", context).strip()
        text = render_to_string("notifications/email/appellant_submitted.txt", context)
        html = render_to_string("notifications/email/appellant_submitted.html", context)
    message = EmailMultiAlternatives(subject=" ".join(subject.split()), body=text, to=[appeal.contact_email])
    message.attach_alternative(html, "text/html")
    message.send()
    return True


def queue_submission_email(appeal: Appeal, access_code: str) -> None:
    """Queue the confirmation e-mail after commit; a broker outage must not fail the submission."""
    if not appeal.contact_email:
        return
    language = translation.get_language() or settings.LANGUAGE_CODE

    def publish() -> None:
        try:
            send_submission_email.delay(appeal.pk, access_code, language)
        except Exception:  # broker down: the appellant still saw the code on screen
            logger.exception("Could not queue the confirmation e-mail for appeal %s", appeal.pk)

    from django.db import transaction

    transaction.on_commit(publish)
