"""Static files in production, and what to say when ``collectstatic`` has not been run.

With ``DEBUG=false`` pages link hashed, compressed names from ``manage.py collectstatic``'s manifest.
Without that manifest Django's manifest storage raises on every ``{% static %}``, so every page would
be an error. This storage falls back to the plain names (whitenoise then serves the files from the
app folders, see ``WHITENOISE_USE_FINDERS`` in settings) and :func:`warn_if_not_collected` tells the
operator at startup exactly what to run.
"""

from __future__ import annotations

import logging

from django.conf import settings
from whitenoise.storage import CompressedManifestStaticFilesStorage

logger = logging.getLogger("huying.startup")

COLLECT_COMMAND = "python manage.py collectstatic --noinput"


class CollectedStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Manifest storage that serves unversioned names until ``collectstatic`` has written the manifest."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Decided once per process: a manifest written later by collectstatic needs a restart anyway.
        self.collected = bool(self.hashed_files)

    def stored_name(self, name: str) -> str:
        return super().stored_name(name) if self.collected else name


def not_collected_message() -> str | None:
    """The startup warning when static files are expected collected but are not, else None."""
    if settings.DEBUG or getattr(settings, "STATIC_COLLECTED", True):
        return None
    return (
        f"Static files have not been collected into {settings.STATIC_ROOT}: pages work, but static files "
        f"are served unversioned from the app folders and cannot be cached long. Run `{COLLECT_COMMAND}` "
        "(deploy/ and the Dockerfile do) and restart."
    )


def warn_if_not_collected() -> None:
    """Log :func:`not_collected_message` (called by the WSGI and ASGI entry points at startup)."""
    message = not_collected_message()
    if message:
        logger.warning(message)
