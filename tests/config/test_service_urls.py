"""Broker, channel layer, cache and links: each has its own setting, defaulting as documented."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, django
from django.conf import settings
django.setup()
layer = settings.CHANNEL_LAYERS["default"]
print(json.dumps({
    "broker": settings.CELERY_BROKER_URL,
    "transport": settings.CELERY_BROKER_TRANSPORT_OPTIONS,
    "layer": layer["BACKEND"],
    "layer_url": layer.get("CONFIG", {}).get("hosts", [{}])[0].get("address"),
    "cache": settings.CACHES["default"]["BACKEND"],
    "cache_url": settings.CACHES["default"].get("LOCATION"),
    "site_url": settings.SITE_URL,
    "trusted": settings.TRUSTED_PROXIES,
    "databases": sorted(settings.DATABASES),
    "routers": settings.DATABASE_ROUTERS,
}))
"""
CLEARED = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "CHANNEL_LAYER_URL",
    "CACHE_URL",
    "SITE_URL",
    "HOST",
    "PORT",
    "TRUSTED_PROXIES",
    "DATABASE_REPLICA_URL",
    "DEBUG",
)


def run_probe(tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in CLEARED}
    clean.update({"DJANGO_SETTINGS_MODULE": "config.settings", "HUYING_VAR_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60, check=False
    )


def probe(tmp_path, **env) -> dict:
    result = run_probe(tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_nothing_set_keeps_the_embedded_defaults(tmp_path):
    values = probe(tmp_path)
    assert values["broker"] == "filesystem://"
    assert values["transport"]["data_folder_in"] == str(tmp_path / "celery-broker" / "queue")
    assert values["layer"] == "channels.layers.InMemoryChannelLayer"
    assert values["cache"].endswith("LocMemCache")
    assert values["site_url"] == "http://127.0.0.1:8000"
    assert values["trusted"] == []  # no proxy is believed unless configured
    assert values["databases"] == ["default"]
    assert values["routers"] == []


def test_each_service_defaults_to_redis_url(tmp_path):
    values = probe(tmp_path, REDIS_URL="redis://127.0.0.1:6379/3")
    assert values["broker"] == "redis://127.0.0.1:6379/3"
    assert values["transport"]["visibility_timeout"] == 3600  # and the outage-proof socket options (config/broker.py)
    assert values["layer_url"] == "redis://127.0.0.1:6379/3"
    assert values["cache"] == "config.cache.FailSoftRedisCache"
    assert values["cache_url"] == "redis://127.0.0.1:6379/3"


def test_each_service_can_have_its_own_server(tmp_path):
    values = probe(
        tmp_path,
        REDIS_URL="redis://127.0.0.1:6379/3",
        CELERY_BROKER_URL="amqp://guest:guest@127.0.0.1:5672/huying",
        CHANNEL_LAYER_URL="redis://10.0.0.2:6379/0",
        CACHE_URL="redis://10.0.0.3:6379/1",
    )
    assert values["broker"] == "amqp://guest:guest@127.0.0.1:5672/huying"
    assert values["transport"] == {}  # Redis's visibility timeout means nothing to RabbitMQ
    assert values["layer"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert values["layer_url"] == "redis://10.0.0.2:6379/0"
    assert values["cache_url"] == "redis://10.0.0.3:6379/1"


def test_a_sentinel_broker_names_its_master(tmp_path):
    values = probe(
        tmp_path,
        CELERY_BROKER_URL="sentinel://10.0.0.5:26379;sentinel://10.0.0.6:26379",
        REDIS_SENTINEL_MASTER="huying-prod",
    )
    assert values["transport"] == {"master_name": "huying-prod", "visibility_timeout": 3600}


def test_broker_and_cache_work_without_redis_url(tmp_path):
    values = probe(tmp_path, CELERY_BROKER_URL="amqp://guest:guest@127.0.0.1:5672//", CACHE_URL="redis://h:6379/2")
    assert values["broker"] == "amqp://guest:guest@127.0.0.1:5672//"
    assert values["layer"] == "channels.layers.InMemoryChannelLayer"
    assert values["cache_url"] == "redis://h:6379/2"


def test_an_unknown_cache_url_is_refused_with_a_clear_message(tmp_path):
    result = run_probe(tmp_path, CACHE_URL="memcached://127.0.0.1:11211")
    assert result.returncode != 0
    assert "CACHE_URL must be a redis://" in result.stderr


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"PORT": "8101"}, "http://127.0.0.1:8101"),
        ({"HOST": "192.168.1.20", "PORT": "8101"}, "http://192.168.1.20:8101"),
        ({"HOST": "0.0.0.0", "PORT": "9000"}, "http://127.0.0.1:9000"),
        ({"HOST": "::1"}, "http://[::1]:8000"),
        ({"PORT": "8101", "SITE_URL": "https://huying.example.gov.cn/"}, "https://huying.example.gov.cn"),
    ],
)
def test_site_url_follows_the_served_address_unless_set(tmp_path, env, expected):
    assert probe(tmp_path, **env)["site_url"] == expected


def test_a_replica_url_adds_the_alias_and_the_router(tmp_path):
    values = probe(tmp_path, DATABASE_REPLICA_URL="postgres://postgres@127.0.0.1:5433/huying")
    assert values["databases"] == ["default", "replica"]
    assert values["routers"] == ["config.replica.ReplicaRouter"]
    result = run_probe(tmp_path, DATABASE_REPLICA_URL="sqlite:///replica.sqlite3")
    assert result.returncode != 0
    assert "DATABASE_REPLICA_URL must be a postgres:// URL" in result.stderr
