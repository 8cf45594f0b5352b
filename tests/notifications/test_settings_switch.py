"""REDIS_URL switches the channel layer, cache and Celery broker; without it the embedded defaults apply."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'layer': s.CHANNEL_LAYERS['default']['BACKEND'], 'broker': s.CELERY_BROKER_URL, "
    "'cache': s.CACHES['default']['BACKEND'], 'hosts': s.CHANNEL_LAYERS['default'].get('CONFIG', {}).get('hosts')}))"
)


def probe(tmp_path, **env):
    clean = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CHANNELS_LAYER", "DATABASE_URL")}
    clean.update(DJANGO_SETTINGS_MODULE="config.settings", HUYING_VAR_DIR=str(tmp_path), **env)
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=clean, capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_embedded_defaults_without_redis(tmp_path):
    settings = probe(tmp_path)
    assert settings["layer"] == "channels.layers.InMemoryChannelLayer"
    assert settings["broker"] == "filesystem://"
    assert settings["cache"].endswith("LocMemCache")


@pytest.mark.parametrize(
    ("choice", "backend"),
    [
        (None, "channels_redis.pubsub.RedisPubSubChannelLayer"),
        ("core", "channels_redis.core.RedisChannelLayer"),
    ],
)
def test_redis_url_switches_layer_cache_and_broker(tmp_path, choice, backend):
    env = {"REDIS_URL": "redis://127.0.0.1:6379/9"}
    if choice:
        env["CHANNELS_LAYER"] = choice
    settings = probe(tmp_path, **env)
    assert settings["layer"] == backend
    assert settings["broker"] == "redis://127.0.0.1:6379/9"
    assert settings["cache"] == "config.cache.FailSoftRedisCache"
    [host] = settings["hosts"]
    assert host["address"] == "redis://127.0.0.1:6379/9"
    assert host["socket_timeout"] > 5  # above channels-redis's 5 s BZPOPMIN
