"""Refuse to serve in production without the static files' manifest.

With ``DEBUG=false`` the static files are served by whitenoise's ``CompressedManifestStaticFilesStorage``,
which looks every ``{% static %}`` name up in ``staticfiles/staticfiles.json``. Without that file
(``collectstatic`` never ran) every page would fail with a 500; the web process stops at startup
instead, saying what to run. Called from config/wsgi.py and config/asgi.py.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def require_static_manifest() -> None:
    """Raise ImproperlyConfigured when the manifest storage is in use and its manifest is missing."""
    staticfiles = settings.STORAGES.get("staticfiles")
    backend = str(staticfiles.get("BACKEND", "")) if isinstance(staticfiles, dict) else ""
    # Django's and whitenoise's manifest storages, and config.staticfiles' one built on them.
    if settings.DEBUG or not any(word in backend for word in ("Manifest", "CollectedStaticFilesStorage")):
        return
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if not manifest.is_file():
        raise ImproperlyConfigured(
            f"The static files' manifest {manifest} is missing, so every page would fail. "
            "Run `python manage.py collectstatic --noinput` (with the same settings) before starting "
            "the web server; see README's production section."
        )
