"""The real client behind reverse proxies, decided in one place.

A request's client is its TCP peer (``REMOTE_ADDR``) unless that peer is one of
``settings.TRUSTED_PROXIES``; only then is ``X-Forwarded-For`` read, from the right, skipping
trusted hops, and the first address not trusted is the client. ``X-Forwarded-Proto`` is believed
from trusted proxies only. Anything else a visitor types into those headers is dropped before any
view, rate limit (``RATELIMIT_IP_META_KEY``), django-axes (``AXES_CLIENT_IP_CALLABLE``) or the access
log sees the request, so a spoofed header can neither pick a fresh rate-limit bucket nor shift a
login lockout onto someone else.
"""

from __future__ import annotations

import ipaddress
import logging
import time
from collections.abc import Callable, Iterable
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponse

access_log = logging.getLogger("huying.access")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Set on request.META once the middleware has resolved the client; the peer that connected is kept.
RESOLVED = "huying.client_resolved"
PEER = "huying.peer_addr"


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def trusted_networks() -> tuple[Network, ...]:
    """``settings.TRUSTED_PROXIES`` as networks (a bare address is a /32 or /128)."""
    return _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ())))


def _parse(value: str) -> Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.7:51234"
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _is_trusted(address: Address, networks: Iterable[Network]) -> bool:
    return any(address.version == network.version and address in network for network in networks)


def resolve_client(meta: dict) -> tuple[str, bool]:
    """The client's address for a request's META, and whether the peer is a trusted proxy."""
    peer = meta.get("REMOTE_ADDR") or ""
    networks = trusted_networks()
    peer_address = _parse(peer)
    if peer_address is None or not networks or not _is_trusted(peer_address, networks):
        return peer, False
    client = str(peer_address)
    hops = [hop for hop in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            # Garbage in the chain: stop at the last hop a trusted proxy vouched for.
            break
        client = str(address)
        if not _is_trusted(address, networks):
            break
    return client, True


def client_ip(request: HttpRequest) -> str:
    """The real client's address (django-ratelimit's and django-axes's key, the access log's field)."""
    if request.META.get(RESOLVED):
        return request.META.get("REMOTE_ADDR", "")
    return resolve_client(request.META)[0]


class TrustedProxyMiddleware:
    """Rewrite ``REMOTE_ADDR`` to the real client and drop forwarded headers nobody trusted sent.

    The peer that connected stays in ``request.META["huying.peer_addr"]``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        if not meta.get(RESOLVED):
            client, trusted = resolve_client(meta)
            meta[PEER] = meta.get("REMOTE_ADDR", "")
            meta["REMOTE_ADDR"] = client
            meta[RESOLVED] = True
            if not trusted:
                for header in ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_REAL_IP", "HTTP_FORWARDED"):
                    meta.pop(header, None)
        return self.get_response(request)


class AccessLogMiddleware:
    """One line per request on logger ``huying.access`` with the real client (``ACCESS_LOG=true``).

    Format: ``client "METHOD path" status bytes duration_ms user``. Query strings are left out: tracking
    lookups carry access codes.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.enabled = bool(getattr(settings, "ACCESS_LOG", False))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not self.enabled:
            return self.get_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        user = getattr(request, "user", None)
        size = "-" if response.streaming else str(len(response.content))
        access_log.info(
            '%s "%s %s" %s %s %dms %s',
            client_ip(request) or "-",
            request.method,
            request.path,
            response.status_code,
            size,
            (time.perf_counter() - started) * 1000,
            user.get_username() if user is not None and user.is_authenticated else "-",
        )
        return response
