"""SMS backends: a small interface so any provider can be plugged in with one setting.

``settings.SMS_BACKEND`` is the dotted path of a ``BaseSMSBackend`` subclass. The default writes
each message to a file under ``var/sms/`` (one JSON object per line), so development and tests
need no provider. To use a real provider, subclass ``BaseSMSBackend``, implement ``send()`` and
raise ``TransientSMSError`` for failures worth retrying (timeouts, rate limits, 5xx) and
``SMSError`` for failures that will not improve (invalid number, rejected template); see
docs/realtime.md.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SMSError(Exception):
    """The provider refused the message for a reason that retrying will not fix."""


class TransientSMSError(SMSError):
    """A failure that may succeed later (network, timeout, rate limit): the delivery is retried."""


class BaseSMSBackend:
    """Send one text message. Subclasses implement ``send``; options come from ``SMS_BACKEND_OPTIONS``."""

    def __init__(self, **options: Any) -> None:
        self.options = options

    def send(self, *, to: str, text: str) -> str:
        """Send ``text`` to the phone number ``to``; return the provider's message id."""
        raise NotImplementedError


class FileSMSBackend(BaseSMSBackend):
    """Append each message as a JSON line to ``<SMS_FILE_PATH>/<date>.jsonl`` (default var/sms/)."""

    def send(self, *, to: str, text: str) -> str:
        default_folder: str | os.PathLike[str] = getattr(settings, "SMS_FILE_PATH", settings.VAR_DIR / "sms")
        folder = Path(self.options.get("path") or default_folder)
        folder.mkdir(parents=True, exist_ok=True)
        message_id = uuid.uuid4().hex
        line = json.dumps(
            {"id": message_id, "to": to, "text": text, "at": timezone.now().isoformat()}, ensure_ascii=False
        )
        # One write() of one line in append mode: concurrent workers never interleave lines.
        fd = os.open(
            folder / f"{timezone.localdate().isoformat()}.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640
        )
        try:
            os.write(fd, (line + "\n").encode("utf-8"))
        finally:
            os.close(fd)
        return message_id


class ConsoleSMSBackend(BaseSMSBackend):
    """Log each message (useful when watching a worker's output)."""

    def send(self, *, to: str, text: str) -> str:
        message_id = uuid.uuid4().hex
        logger.info("SMS %s to %s: %s", message_id, to, text)
        return message_id


class LocmemSMSBackend(BaseSMSBackend):
    """Keep messages in ``LocmemSMSBackend.outbox`` (tests)."""

    outbox: list[dict[str, str]] = []

    def send(self, *, to: str, text: str) -> str:
        message_id = uuid.uuid4().hex
        self.outbox.append({"id": message_id, "to": to, "text": text})
        return message_id


def get_backend() -> BaseSMSBackend:
    path = getattr(settings, "SMS_BACKEND", "notifications.backends.sms.FileSMSBackend")
    return import_string(path)(**getattr(settings, "SMS_BACKEND_OPTIONS", {}))
