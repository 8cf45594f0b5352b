"""The real client behind trusted proxies: rate limits, login lockout and the access log agree on it."""

from __future__ import annotations

import logging

import pytest
from django.core.cache import cache
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from config.proxies import AccessLogMiddleware, TrustedProxyMiddleware, client_ip, resolve_client
from tests import factories

NGINX = "127.0.0.1"


@pytest.fixture
def behind_nginx(settings):
    settings.TRUSTED_PROXIES = [NGINX, "::1", "10.0.0.0/8"]


def resolved(**meta) -> dict:
    request = RequestFactory().get("/", **meta)
    seen = {}

    def view(req):
        seen.update(req.META)
        return HttpResponse()

    TrustedProxyMiddleware(view)(request)
    return seen


@pytest.mark.parametrize(
    ("forwarded", "client"),
    [
        ("203.0.113.7", "203.0.113.7"),
        # A visitor's own header is kept by nginx on the left; the address nginx appended wins.
        ("198.51.100.1, 203.0.113.7", "203.0.113.7"),
        # Several trusted hops (a load balancer in 10/8, then nginx) are skipped from the right.
        ("198.51.100.1, 203.0.113.7, 10.1.2.3", "203.0.113.7"),
        ("203.0.113.7:51234", "203.0.113.7"),
        ("[2001:db8::7]:443", "2001:db8::7"),
        # Garbage stops the walk at the last hop a trusted proxy vouched for.
        ("203.0.113.7, not-an-address", NGINX),
        ("", NGINX),
    ],
)
def test_client_is_the_first_untrusted_hop_from_the_right(behind_nginx, forwarded, client):
    meta = resolved(REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=forwarded)
    assert meta["REMOTE_ADDR"] == client
    assert meta["huying.peer_addr"] == NGINX


def test_forwarded_headers_from_an_untrusted_peer_are_dropped(behind_nginx):
    meta = resolved(REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="203.0.113.7", HTTP_X_FORWARDED_PROTO="https")
    assert meta["REMOTE_ADDR"] == "198.51.100.9"
    assert "HTTP_X_FORWARDED_FOR" not in meta
    assert "HTTP_X_FORWARDED_PROTO" not in meta


def test_by_default_no_proxy_is_trusted(settings):
    assert settings.TRUSTED_PROXIES == []
    assert resolve_client({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.7"}) == ("127.0.0.1", False)


def test_https_is_believed_from_a_trusted_proxy_only(behind_nginx, client):
    seen = []

    def view(request):
        seen.append(request.is_secure())
        return HttpResponse()

    factory = RequestFactory()
    TrustedProxyMiddleware(view)(factory.get("/", REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_PROTO="https"))
    TrustedProxyMiddleware(view)(factory.get("/", REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_PROTO="https"))
    assert seen == [True, False]


def test_client_ip_resolves_requests_that_skipped_the_middleware(behind_nginx):
    request = RequestFactory().get("/", REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert client_ip(request) == "203.0.113.7"


@pytest.fixture
def tight_lookup_limit(settings):
    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "lookup_ip": "2/m"}
    cache.clear()
    yield
    cache.clear()


def lookup(client, **meta):
    return client.post(reverse("portal:lookup"), {"tracking_number": "X", "access_code": "Y"}, **meta)


@pytest.mark.django_db
def test_rate_limit_buckets_follow_the_forwarded_client(behind_nginx, tight_lookup_limit, client):
    for _ in range(2):
        assert lookup(client, REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR="203.0.113.7").status_code != 429
    assert lookup(client, REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 429
    # Another visitor behind the same proxy has a bucket of their own.
    assert lookup(client, REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR="203.0.113.8").status_code != 429
    # A spoofed header typed by the limited visitor, appended to by nginx, changes nothing.
    spoofed = "192.0.2.1, 203.0.113.7"
    assert lookup(client, REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=spoofed).status_code == 429


@pytest.mark.django_db
def test_a_spoofed_header_from_outside_the_proxies_picks_no_bucket(behind_nginx, tight_lookup_limit, client):
    for number in range(2):
        assert lookup(client, REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR=f"192.0.2.{number}").status_code != 429
    assert lookup(client, REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429


@pytest.mark.django_db
def test_login_lockout_keys_on_the_real_client(behind_nginx, settings, client, hrss):
    from axes.models import AccessAttempt

    settings.AXES_FAILURE_LIMIT = 2
    factories.staff_user("officer", hrss, username="wang")
    for _ in range(2):
        client.post(
            reverse("login"),
            {"username": "wang", "password": "wrong"},
            REMOTE_ADDR=NGINX,
            HTTP_X_FORWARDED_FOR="203.0.113.7",
        )
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.7"]


def test_the_access_log_names_the_real_client(behind_nginx, settings, caplog):
    settings.ACCESS_LOG = True
    request = RequestFactory().get("/track/?code=SECRET", REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR="203.0.113.7")
    app = TrustedProxyMiddleware(AccessLogMiddleware(lambda req: HttpResponse("hello", status=201)))
    with caplog.at_level(logging.INFO, logger="huying.access"):
        app(request)
    [line] = [r.getMessage() for r in caplog.records if r.name == "huying.access"]
    assert line.startswith('203.0.113.7 "GET /track/" 201 5 ')
    assert "SECRET" not in line
