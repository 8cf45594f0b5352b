"""Which pages may open the live websocket: exact origins, port included.

Channels' ``AllowedHostsOriginValidator`` compares only the host name with ``ALLOWED_HOSTS``, so a
page served on another port of the same host (another application, a developer tool) could open a
socket with the user's cookies. Browsers send ``Origin`` on every websocket handshake; this
validator accepts it only when scheme, host and port match

* the address the handshake itself was made to (same origin: the ``Host`` header, or
  ``X-Forwarded-Host`` with ``USE_X_FORWARDED_HOST``, which must pass ``ALLOWED_HOSTS``; the
  scheme is ``wss`` → https, or https when ``SECURE_PROXY_SSL_HEADER`` says so), or
* an entry of ``CSRF_TRUSTED_ORIGINS`` (``https://console.example.gov.cn:8443``; a leading
  ``*.`` in the host matches subdomains, as for Django's CSRF check).

Anything else, and a handshake without ``Origin``, is refused with HTTP 403 before the
application sees it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _normalise(scheme: str, host: str, port: int | None) -> tuple[str, str, int] | None:
    scheme = scheme.lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    return scheme, host.lower().rstrip("."), port if port is not None else _DEFAULT_PORTS[scheme]


def parse_origin(value: str) -> tuple[str, str, int] | None:
    """``("https", "example.com", 443)`` for ``"https://Example.com"``; None if not an http(s) origin."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        return None
    return _normalise(parts.scheme, parts.hostname or "", port)


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            try:
                return value.decode("latin-1")
            except UnicodeDecodeError:
                return None
    return None


def _request_scheme(scope: dict[str, Any]) -> str:
    proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy:
        header, secure_value = proxy
        name = header.removeprefix("HTTP_").replace("_", "-").lower().encode("latin-1")
        forwarded = _header(scope, name)
        if forwarded is not None:
            return "https" if forwarded.split(",")[0].strip() == secure_value else "http"
    return "https" if scope.get("scheme") in ("wss", "https") else "http"


def same_origin(scope: dict[str, Any]) -> tuple[str, str, int] | None:
    """The origin of the handshake's own address, if its host is allowed."""
    host = None
    if getattr(settings, "USE_X_FORWARDED_HOST", False):
        host = _header(scope, b"x-forwarded-host")
    host = host or _header(scope, b"host")
    if not host:
        return None
    domain, port = split_domain_port(host.split(",")[0].strip())
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return None
    return _normalise(_request_scheme(scope), domain, int(port) if port else None)


def trusted(origin: tuple[str, str, int]) -> bool:
    """``origin`` is listed in ``CSRF_TRUSTED_ORIGINS`` (scheme, host and port all equal)."""
    scheme, host, port = origin
    for entry in getattr(settings, "CSRF_TRUSTED_ORIGINS", ()):
        wildcard = "://*." in entry
        listed = parse_origin(entry.replace("://*.", "://", 1) if wildcard else entry)
        if listed is None or listed[0] != scheme or listed[2] != port:
            continue
        if host == listed[1] or (wildcard and host.endswith("." + listed[1])):
            return True
    return False


def origin_allowed(scope: dict[str, Any]) -> bool:
    """Whether the handshake's ``Origin`` is this site (exactly) or a trusted origin."""
    raw = _header(scope, b"origin")
    origin = parse_origin(raw) if raw else None
    if origin is None:
        return False
    return origin == same_origin(scope) or trusted(origin)


class ExactOriginValidator:
    """ASGI middleware for websockets: refuse handshakes whose Origin is not exactly allowed."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] != "websocket":
            raise ValueError("ExactOriginValidator only handles websocket connections.")
        if origin_allowed(scope):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)
