"""ASGI entry point: HTTP through Django, websockets through Channels.

Websocket consumers are push-only (every write goes through views and services) and every
subscription is authorised; see notifications.consumers.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402 - needs Django set up first
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from config.staticfiles import warn_if_not_collected  # noqa: E402
from notifications.routing import websocket_urlpatterns  # noqa: E402

warn_if_not_collected()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
