"""Static files in production, and what to say when ``collectstatic`` has not been run.

With ``DEBUG=false`` pages link hashed, compressed names from ``manage.py collectstatic``'s manifest.
Without that manifest Django's manifest storage raises on every ``{% static %}``, so every page would
be an error. The web process refuses to start then (config/static_check.py); anything else that
renders pages (a management command sending e-mail, a test) gets the plain names from this storage,
and whitenoise serves the files from the app folders (``WHITENOISE_USE_FINDERS`` in settings).
"""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


class CollectedStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Manifest storage that serves unversioned names until ``collectstatic`` has written the manifest."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Decided once per process: a manifest written later by collectstatic needs a restart anyway.
        self.collected = bool(self.hashed_files)

    def stored_name(self, name: str) -> str:
        return super().stored_name(name) if self.collected else name
