"""Settings switch between the embedded defaults and the real services by environment alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, django
from django.conf import settings
django.setup()
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "name": str(settings.DATABASES["default"]["NAME"]),
    "pool": settings.DATABASES["default"].get("OPTIONS", {}).get("pool"),
    "layer": settings.CHANNEL_LAYERS["default"]["BACKEND"],
    "broker": settings.CELERY_BROKER_URL,
    "cache": settings.CACHES["default"]["BACKEND"],
    "email": settings.EMAIL_BACKEND,
    "email_host": getattr(settings, "EMAIL_HOST", ""),
    "language": settings.LANGUAGE_CODE,
    "tz": settings.TIME_ZONE,
    "es": settings.ELASTICSEARCH_URL,
    "debug": settings.DEBUG,
}))
"""
SERVICE_VARS = (
    "DATABASE_URL",
    "REDIS_URL",
    "ELASTICSEARCH_URL",
    "EMAIL_HOST",
    "DEBUG",
    "SECRET_KEY",
    "LANGUAGE_CODE",
    # CI's service pass sets these too; each defaults to REDIS_URL (tests/config/test_service_urls.py).
    "CELERY_BROKER_URL",
    "CHANNEL_LAYER_URL",
    "CACHE_URL",
    "DATABASE_REPLICA_URL",
)


def load_settings(tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in SERVICE_VARS}
    clean.update({"DJANGO_SETTINGS_MODULE": "config.settings", "HUYING_VAR_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60, check=False
    )


def probe(tmp_path, **env) -> dict:
    result = load_settings(tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_no_environment_means_embedded_services(tmp_path):
    values = probe(tmp_path)
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"] == str(tmp_path / "huying.sqlite3")
    assert values["layer"] == "channels.layers.InMemoryChannelLayer"
    assert values["broker"] == "filesystem://"
    assert (tmp_path / "celery-broker" / "queue").is_dir()
    assert values["cache"].endswith("LocMemCache")
    assert values["email"] == "django.core.mail.backends.filebased.EmailBackend"
    assert (values["language"], values["tz"]) == ("zh-hans", "Asia/Shanghai")
    assert values["es"] == ""


def test_real_services_are_chosen_by_environment(tmp_path):
    values = probe(
        tmp_path,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/huying",
        REDIS_URL="redis://127.0.0.1:6379/3",
        ELASTICSEARCH_URL="http://127.0.0.1:9200",
        EMAIL_HOST="smtp.example.org",
    )
    assert values["engine"] == "config.postgresql"
    assert values["pool"]["max_size"] >= 1  # psycopg pool, not persistent per-thread connections
    assert values["layer"] == "channels_redis.pubsub.RedisPubSubChannelLayer"
    assert values["broker"] == "redis://127.0.0.1:6379/3"
    assert values["cache"] == "config.cache.FailSoftRedisCache"  # Django's Redis cache, failing soft
    assert values["email"] == "django.core.mail.backends.smtp.EmailBackend"
    assert values["email_host"] == "smtp.example.org"
    assert values["es"] == "http://127.0.0.1:9200"


def test_the_classic_redis_layer_can_be_chosen(tmp_path):
    values = probe(tmp_path, REDIS_URL="redis://127.0.0.1:6379/3", CHANNELS_LAYER="core")
    assert values["layer"] == "channels_redis.core.RedisChannelLayer"


def test_production_mode_refuses_to_start_without_a_secret_key(tmp_path):
    result = load_settings(tmp_path, DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
    values = probe(tmp_path, DEBUG="false", SECRET_KEY="x" * 50)
    assert values["debug"] is False


def test_the_suite_runs_on_what_the_environment_says():
    """CI runs this suite twice; this pins which services each run really used."""
    engine = settings.DATABASES["default"]["ENGINE"]
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        assert engine == "config.postgresql"
    else:
        assert engine == "django.db.backends.sqlite3"


@pytest.mark.redis
def test_redis_channel_layer_round_trip():
    if not os.environ.get("REDIS_URL"):
        pytest.skip("Set REDIS_URL to test the channels-redis layer against a real Redis.")
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    assert type(layer).__module__.startswith("channels_redis.")

    async def round_trip():
        # One event loop throughout, as inside a consumer (the pub/sub layer requires it).
        channel = await layer.new_channel()
        await layer.group_add("settings-test", channel)
        await layer.group_send("settings-test", {"type": "probe", "value": 42})
        message = await layer.receive(channel)
        await layer.group_discard("settings-test", channel)
        return message

    assert async_to_sync(round_trip)() == {"type": "probe", "value": 42}


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgres_connection_uses_the_pool():
    if settings.DATABASES["default"]["ENGINE"] != "config.postgresql":
        pytest.skip("Set DATABASE_URL to a PostgreSQL database to test the pooled connection.")
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)
    assert connection.pool is not None
