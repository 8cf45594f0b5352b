"""Filing never depends on the cache: with Redis unreachable, submissions are accepted and stored."""

from __future__ import annotations

import socket

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.urls import reverse
from rest_framework.test import APIClient

from appeals.api.models import ApiClient
from appeals.models import Appeal
from appeals.portal import limits
from config import cache as fail_soft
from tests.appeals.portal.conftest import form_data

pytestmark = pytest.mark.django_db


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends: nothing listens there


@pytest.fixture
def redis_down(settings):
    fail_soft.reset()
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "config.cache.FailSoftRedisCache",
            "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
    }
    yield
    fail_soft.reset()


def test_the_form_and_the_api_accept_appeals_while_the_cache_is_down(client, portal_city, hrss, redis_down):
    for _ in range(3):
        response = client.post(reverse("portal:submit"), form_data(portal_city))
        assert response.status_code == 302
        assert client.get(response["Location"]).status_code == 200
    _api_client, key = ApiClient.create_with_key(name="小程序", channel=ApiClient.Channel.API)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"ApiKey {key}")
    body = {
        "enterprise_name": "佛山市测试电子有限公司",
        "credit_code": "91440101MA5CJQ4N59",
        "region": portal_city.code,
        "industry": "I",
        "enterprise_size": "micro",
        "contact_name": "陈工",
        "contact_phone": "13900139000",
        "category": "employment",
        "title": "社保补贴咨询",
        "description": "想了解新招应届生的社保补贴怎么申请。",
    }
    assert api.post("/api/appeals/", body, format="json").status_code == 201
    assert Appeal.objects.count() == 4
    # Routed as usual (the routing table's cache stamp was a miss, not an error).
    assert set(Appeal.objects.values_list("bureau", flat=True)) == {hrss.pk}
    failures = fail_soft.failure_count()
    print(f"appeals acknowledged = 4, stored = {Appeal.objects.count()}, cache calls failed soft = {failures}")
    assert failures > 0


class _BrokenCache(LocMemCache):
    def add(self, *args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    incr = add


def test_a_rate_limit_that_cannot_be_checked_allows_and_is_counted(client, portal_city, settings):
    settings.CACHES = {
        **settings.CACHES,
        "ratelimit": {"BACKEND": f"{__name__}._BrokenCache", "LOCATION": "broken"},
    }
    settings.RATELIMIT_USE_CACHE = "ratelimit"
    before = sum(limits.failed_open.values())
    response = client.post(reverse("portal:submit"), form_data(portal_city))
    assert response.status_code == 302
    assert Appeal.objects.count() == 1
    assert limits.failed_open["submit_ip"] >= 1
    assert sum(limits.failed_open.values()) - before == 2  # per address and per credit code
