"""Real Celery workers in subprocesses: the embedded filesystem broker, and outages on Redis + PostgreSQL.

The outage tests need a database the worker process can open too, so they run in the
PostgreSQL + Redis pass (``DATABASE_URL=postgres://… REDIS_URL=redis://…``) and are skipped with
the embedded defaults, whose test database is an in-memory SQLite only this process can see.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from notifications.models import Delivery, InboxItem, OutboxEvent
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))

needs_services = pytest.mark.skipif(
    not (os.environ.get("REDIS_URL") and os.environ.get("DATABASE_URL", "").startswith("postgres")),
    reason="needs PostgreSQL and Redis (set DATABASE_URL=postgres://… and REDIS_URL=redis://…): the worker "
    "subprocess must share the test database, which the embedded in-memory SQLite cannot do",
)


def base_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_ALLOW"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        HUYING_VAR_DIR=str(tmp_path / "var"),
        PYTHONPATH=str(ROOT),
        LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def start_worker(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            CELERY,
            "-A",
            "config",
            "worker",
            "--pool=threads",
            "--concurrency=4",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
            *args,
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def wait_for(predicate, timeout: float, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


@pytest.mark.slow
def test_worker_and_beat_run_on_the_embedded_filesystem_broker(tmp_path):
    """No REDIS_URL: beat publishes the heartbeat task through var/celery-broker, the worker runs it."""
    env = base_env(tmp_path, NOTIFY_HEARTBEAT_SECONDS="1", NOTIFY_REDISPATCH_SECONDS="3600")
    for name in ("REDIS_URL", "DATABASE_URL"):
        env.pop(name, None)
    log = tmp_path / "worker.log"
    proc = start_worker(env, log, "-B", "--schedule", str(tmp_path / "beat-schedule"))
    heartbeat = tmp_path / "var" / "celery-heartbeat"
    try:
        assert wait_for(heartbeat.exists, timeout=60), log.read_text(errors="replace")[-3000:]
    finally:
        stop(proc)
    assert heartbeat.read_text().strip()[:4].isdigit()
    # The message really travelled through the filesystem broker's folder.
    assert (tmp_path / "var" / "celery-broker" / "queue").is_dir()
    assert "redis" not in log.read_text(errors="replace").lower()


def worker_env(tmp_path: Path, queue: str) -> dict[str, str]:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    if db.get("PASSWORD"):
        url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return base_env(
        tmp_path,
        DATABASE_URL=url,
        DATABASE_POOL="false",
        NOTIFY_TASK_QUEUE=queue,
        NOTIFY_REDISPATCH_SECONDS="2",
        NOTIFY_REDISPATCH_AFTER_SECONDS="3",
        NOTIFY_HEARTBEAT_SECONDS="3600",
        SMS_BACKEND="notifications.backends.sms.FileSMSBackend",
        SMS_FILE_PATH=str(tmp_path / "sms"),
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
    )


def all_delivered() -> bool:
    return (
        not OutboxEvent.objects.filter(processed_at__isnull=True).exists()
        and not Delivery.objects.exclude(status=Delivery.Status.SENT).exists()
    )


def sms_lines(tmp_path: Path) -> list[dict]:
    folder = tmp_path / "sms"
    if not folder.exists():
        return []
    return [json.loads(line) for path in folder.glob("*.jsonl") for line in path.read_text().splitlines()]


def email_count(tmp_path: Path) -> int:
    folder = tmp_path / "var" / "mail"
    return (
        sum(
            p.read_text(errors="replace").count("\nSubject: ") + p.read_text(errors="replace").startswith("Subject: ")
            for p in folder.glob("*")
        )
        if folder.exists()
        else 0
    )


def submit_one(args) -> None:
    region, i = args
    try:
        factories.submit(region=region, contact_email=f"boss{i}@example.com", title=f"招工困难{i}")
    finally:
        connection.close()  # each pool thread has its own connection


@pytest.fixture
def queue(settings):
    name = f"notify-test-{uuid.uuid4().hex[:8]}"
    settings.NOTIFY_TASK_QUEUE = name
    settings.NOTIFY_KICK_DELIVERY = True
    return name


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
@needs_services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_stopped_during_a_burst_of_500_delivers_every_row_exactly_once(tmp_path, queue, hrss, officer):
    env = worker_env(tmp_path, queue)
    log = tmp_path / "worker.log"
    worker = start_worker(env, log, "-Q", f"{queue},celery", "-B", "--schedule", str(tmp_path / "beat"))
    try:
        # Four concurrent "web requests" at a time; the worker is stopped after the first 150.
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(submit_one, [(hrss.region, i) for i in range(150)]))
            stop(worker)  # warm shutdown mid-burst: queued tasks stay in Redis
            list(pool.map(submit_one, [(hrss.region, i) for i in range(150, 500)]))
        worker = start_worker(env, log, "-Q", f"{queue},celery", "-B", "--schedule", str(tmp_path / "beat"))
        assert wait_for(all_delivered, timeout=180, interval=1), log.read_text(errors="replace")[-3000:]
    finally:
        stop(worker)

    assert OutboxEvent.objects.count() == 1000  # submitted + dispatched per appeal
    # Per appeal: officer inbox + appellant e-mail + SMS for dispatched, SMS for submitted.
    assert Delivery.objects.filter(status=Delivery.Status.SENT).count() == 500 * 4
    assert InboxItem.objects.filter(user=officer).count() == 500
    lines = sms_lines(tmp_path)
    assert len(lines) == 1000
    assert len({line["text"] for line in lines}) == 1000  # no message sent twice
    assert email_count(tmp_path) == 500


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.redis
@needs_services
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_broker_unreachable_during_submissions_then_redispatched(tmp_path, queue, hrss, officer):
    from config.celery import app

    real_url = app.conf.broker_url
    app.conf.broker_url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens: the broker is "down"
    app._pool = None
    app.amqp._producer_pool = None
    try:
        for i in range(20):
            started = time.monotonic()
            submitted = factories.submit(region=hrss.region, title=f"融资难{i}")
            assert submitted.appeal.pk  # accepted and saved
            assert time.monotonic() - started < 5  # the request does not hang on the broker
    finally:
        app.conf.broker_url = real_url
        app._pool = None
        app.amqp._producer_pool = None
    assert OutboxEvent.objects.filter(processed_at__isnull=True).count() == 40

    # The broker (and a worker with its scheduler) come back: the periodic re-dispatch delivers.
    env = worker_env(tmp_path, queue)
    log = tmp_path / "worker.log"
    worker = start_worker(env, log, "-Q", f"{queue},celery", "-B", "--schedule", str(tmp_path / "beat"))
    try:
        assert wait_for(all_delivered, timeout=90, interval=1), log.read_text(errors="replace")[-3000:]
    finally:
        stop(worker)
    assert InboxItem.objects.filter(user=officer).count() == 20
    assert len(sms_lines(tmp_path)) == 40
    assert settings.NOTIFY_KICK_DELIVERY is True
