"""A throwaway django-helpdesk site for the side-by-side intake benchmark (``submit_http.py --helpdesk``).

Builds, on first use, a virtualenv under ``var/helpdesk-bench/`` with django-helpdesk installed from
PyPI (pinned below) and a minimal generated Django project that serves its public ticket form
(``/tickets/submit/``) on PostgreSQL, then migrates a database of its own and creates one public
queue. It is served the way Huying ships: gunicorn, sync workers, two processes. Nothing of
django-helpdesk is committed; delete ``var/helpdesk-bench/`` to rebuild.

E-mail: django-helpdesk sends the submitter's confirmation while handling the POST; the site uses
Django's dummy e-mail backend so that no mail server is involved (Huying only writes an outbox row
in the request and delivers later, so the dummy backend makes the comparison, if anything, kinder
to django-helpdesk).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOME = ROOT / "var" / "helpdesk-bench"
VENV = HOME / "venv"
PROJECT = HOME / "site"
PACKAGES = ["django-helpdesk==2.6.1", "gunicorn==23.0.0", "psycopg[binary]==3.2.3"]

SETTINGS = """
import os
from urllib.parse import urlparse

BASE_DIR = os.path.dirname(os.path.abspath(__file__))
SECRET_KEY = os.environ.get("SECRET_KEY", "helpdesk-bench")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "helpdesk",
]
SITE_ID = 1
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "hdsite.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
WSGI_APPLICATION = "hdsite.wsgi.application"
_db = urlparse(os.environ["DATABASE_URL"])
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _db.path.lstrip("/"),
        "USER": _db.username or "",
        "PASSWORD": _db.password or "",
        "HOST": _db.hostname or "",
        "PORT": str(_db.port or ""),
        "CONN_MAX_AGE": 60,
    }
}
STATIC_URL = "/static/"
STATIC_ROOT = os.path.join(BASE_DIR, "static")
MEDIA_ROOT = os.path.join(BASE_DIR, "media")
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
LOGIN_URL = "/login/"
HELPDESK_PUBLIC_TICKET_QUEUE = "bench"
HELPDESK_PUBLIC_TICKET_PRIORITY = 3
HELPDESK_PUBLIC_TICKET_DUE_DATE = None
HELPDESK_TEAMS_MODE_ENABLED = False  # no pinax-teams: the public form does not use teams
"""

URLS = """
from django.urls import include, path

urlpatterns = [path("", include("helpdesk.urls", namespace="helpdesk"))]
"""

WSGI = """
import os
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hdsite.settings")
application = get_wsgi_application()
"""

SETUP = """
import django
django.setup()
from helpdesk.models import Queue
Queue.objects.get_or_create(slug="bench", defaults={"title": "Bench", "allow_public_submission": True})
"""


def build() -> None:
    """Create the virtualenv and the project once (a few minutes: downloads from PyPI)."""
    if not (VENV / "bin" / "gunicorn").exists():
        HOME.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(VENV / "bin" / "pip"), "install", "-q", *PACKAGES], check=True)
    package = PROJECT / "hdsite"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text(SETTINGS)
    (package / "urls.py").write_text(URLS)
    (package / "wsgi.py").write_text(WSGI)


def prepare(env: dict) -> None:
    """Migrate the site's database (``env["DATABASE_URL"]``, created by the caller) and add the public queue."""
    run_env = {**env, "DJANGO_SETTINGS_MODULE": "hdsite.settings", "PYTHONPATH": str(PROJECT)}
    python = str(VENV / "bin" / "python")
    subprocess.run([python, "-m", "django", "migrate", "--noinput", "-v", "0"], cwd=PROJECT, env=run_env, check=True)
    subprocess.run([python, "-c", SETUP], cwd=PROJECT, env=run_env, check=True)


def server_command(port: int, workers: int) -> list[str]:
    """gunicorn with sync workers, ``workers`` processes (Huying's ``config/gunicorn.py`` runs one per core)."""
    return [
        str(VENV / "bin" / "gunicorn"), "hdsite.wsgi:application", "-k", "sync", "-w", str(workers),
        "-b", f"127.0.0.1:{port}", "--backlog", "2048", "--log-level", "warning",
    ]  # fmt: skip


def server_env(env: dict) -> dict:
    return {**env, "DJANGO_SETTINGS_MODULE": "hdsite.settings", "PYTHONPATH": str(PROJECT)}
