"""WSGI entry point: pages, forms and the REST API (websockets are served by config.asgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

from config.staticfiles import warn_if_not_collected  # noqa: E402 - needs Django set up first

warn_if_not_collected()
