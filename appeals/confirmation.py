"""The confirmation e-mail after a submission: tracking number and access code.

It is the only message that carries the plain access code, which is never stored in the database,
so it travels in the task's arguments instead of an outbox payload. ``appeal_submit`` queues it
after commit; a broker outage must not fail the submission (the code was shown on screen).
"""

from __future__ import annotations

import logging
from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from appeals import presenters
from appeals.models import Appeal

logger = logging.getLogger(__name__)


@shared_task(
    name="appeals.tasks.send_submission_email",  # the name queued messages carry
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

    transaction.on_commit(publish)
