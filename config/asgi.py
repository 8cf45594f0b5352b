"""ASGI entry point: HTTP through Django, websockets through Channels.

Websocket consumers are push-only (every write goes through views and services) and every
subscription is authorised and re-checked per event; see notifications.consumers. Handshakes must
come from this site's exact origin, port included (notifications.origins).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from config.static_check import require_static_manifest  # noqa: E402 - needs Django set up first

require_static_manifest()

from channels.auth import AuthMiddlewareStack  # noqa: E402 - needs Django set up first
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from notifications.origins import ExactOriginValidator  # noqa: E402
from notifications.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": ExactOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
