"""Serving attachments to staff: only for appeals the user may see, and every download is logged."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.views.decorators.cache import never_cache

from appeals import selectors, services
from appeals.models import Attachment
from appeals.portal.views import file_response

logger = logging.getLogger(__name__)


@never_cache
@login_required
def staff_attachment(request, attachment_id: int):
    """Download an attachment if the signed-in user may see its appeal (404 otherwise, hiding existence).

    Side effect: a ``PiiAccessLog`` row (attachments often carry personal data).
    """
    attachment = Attachment.objects.filter(pk=attachment_id).only("id", "appeal_id").first()
    if attachment is None:
        raise Http404
    appeal = selectors.appeal_get_for_user(user=request.user, appeal_id=attachment.appeal_id)
    if appeal is None:
        logger.warning("User %s was refused attachment %s", request.user.pk, attachment_id)
        raise Http404
    attachment = Attachment.objects.get(pk=attachment_id)
    services.attachment_download_record(user=request.user, appeal=appeal, attachment=attachment)
    return file_response(attachment)
