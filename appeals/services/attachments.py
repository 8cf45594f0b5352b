"""Storing uploaded files on an appeal, and removing them again when the transaction fails.

Files are written to private storage inside the write's transaction (the ``Attachment`` row needs
the stored name); a service that fails after storing calls ``remove_files`` so no orphan is left.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.core.files.uploadedfile import UploadedFile

from appeals.models import Appeal, AppealMessage, Attachment

logger = logging.getLogger(__name__)


def store_attachment(
    *, appeal: Appeal, upload: UploadedFile, source: str, message: AppealMessage | None = None, user: Any = None
) -> Attachment:
    """Save ``upload`` with its SHA-256, size and type as an attachment of ``appeal``."""
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    attachment = Attachment(
        appeal=appeal,
        message=message,
        source=source,
        original_name=(upload.name or "file")[:255],
        content_type=getattr(upload, "content_type", "") or "application/octet-stream",
        size=upload.size or 0,
        sha256=digest.hexdigest(),
        uploaded_by=user if getattr(user, "pk", None) else None,
    )
    attachment.file.save(upload.name or "file", upload, save=False)
    attachment.save()
    return attachment


def remove_files(attachments: list[Attachment]) -> None:
    """Delete the stored files of attachments whose rows were rolled back."""
    for attachment in attachments:
        try:
            attachment.file.delete(save=False)
        except OSError:
            logger.warning("Could not remove orphaned attachment file %s", attachment.file.name)
