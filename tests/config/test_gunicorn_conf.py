"""config/gunicorn.py: the production HTTP server's settings, as gunicorn itself reads them."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from gunicorn.config import Config

CONF = Path(__file__).resolve().parents[2] / "config" / "gunicorn.py"


def _load(monkeypatch, **env) -> Config:
    for name in ("WEB_CONCURRENCY", "GUNICORN_BIND"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    namespace: dict = {}
    exec(compile(CONF.read_text(), str(CONF), "exec"), namespace)
    config = Config()
    for key, value in namespace.items():
        if key in config.settings:
            config.set(key, value)
    return config


def test_sync_workers_one_per_core_by_default(monkeypatch):
    config = _load(monkeypatch)
    assert config.worker_class_str == "sync"
    assert config.workers == multiprocessing.cpu_count()
    assert config.address == [("127.0.0.1", 8000)]
    assert config.backlog == 2048


def test_workers_and_address_come_from_the_environment(monkeypatch):
    config = _load(monkeypatch, WEB_CONCURRENCY="5", GUNICORN_BIND="0.0.0.0:9000")
    assert config.workers == 5
    assert config.address == [("0.0.0.0", 9000)]
