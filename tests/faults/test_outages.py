"""Fault injection with real processes: a Redis outage, a killed worker, a refusing mail server.

Each test files appeals through the public form (so rate limits, the confirmation e-mail with the
access code and every other notification are on the real path), breaks something, lets it recover,
and prints what it counted:

    appeals acknowledged = N, stored = N, notifications delivered exactly once = M

The Redis and worker tests start their own ``redis-server`` (on ``HUYING_FAULT_PORT_BASE`` + n,
default 18611 and up) and real ``celery worker`` subprocesses, which must open the test database:
they run in the PostgreSQL + Redis pass of CI and are skipped on the embedded SQLite database.
"""

from __future__ import annotations

import email
import json
import os
import shutil
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from appeals.models import Appeal
from notifications import outbox
from notifications.models import Delivery, InboxItem, OutboxEvent
from tests.appeals.portal.conftest import form_data
from tests.notifications.test_worker import start_worker, stop, wait_for, worker_env

PORT_BASE = int(os.environ.get("HUYING_FAULT_PORT_BASE", "18611"))
REDIS_SERVER = shutil.which("redis-server")

needs_processes = pytest.mark.skipif(
    not (os.environ.get("DATABASE_URL", "").startswith("postgres") and REDIS_SERVER),
    reason="fault tests run worker subprocesses that must share the test database (PostgreSQL: set "
    "DATABASE_URL=postgres://…) and start their own redis-server (apt package redis-server); the embedded "
    "in-memory SQLite database cannot be shared",
)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.redis,
    needs_processes,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


class PrivateRedis:
    """A redis-server of this test's own, with an append-only file so a restart keeps the queues."""

    def __init__(self, port: int, folder: Path) -> None:
        self.port = port
        self.folder = folder
        self.proc: subprocess.Popen | None = None
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert REDIS_SERVER
        self.proc = subprocess.Popen(
            [
                *(REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes"),
                *("--dir", str(self.folder), "--logfile", str(self.folder / "redis.log")),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert wait_for(self.ping, timeout=10, interval=0.1), "redis-server did not start"

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()  # an outage, not a tidy shutdown
            self.proc.wait(timeout=10)


@pytest.fixture
def web(settings, tmp_path, request):
    """The test process plays the web server: broker, cache and channel layer on a private Redis."""
    from config.celery import app

    index = request.node.get_closest_marker("redis_port_offset")
    server = PrivateRedis(PORT_BASE + (index.args[0] if index else 0), tmp_path / "redis")
    server.start()
    saved = app.conf.broker_url
    app.conf.broker_url = server.url
    app._pool = None
    app.amqp._producer_pool = None
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "config.cache.FailSoftRedisCache",
            "LOCATION": server.url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        },
    }
    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, "submit_ip": "10000/h"}
    settings.NOTIFY_KICK_DELIVERY = True
    settings.NOTIFY_TASK_QUEUE = None
    outbox._broker_down_until = 0.0
    yield server
    server.kill()
    app.conf.broker_url = saved
    app._pool = None
    app.amqp._producer_pool = None
    outbox._broker_down_until = 0.0


def worker_for(tmp_path: Path, server: PrivateRedis, **extra: str) -> tuple[dict[str, str], Path]:
    env = worker_env(tmp_path, "celery")
    env.update(REDIS_URL=server.url, CACHE_PREFIX="fault", CHANNELS_PREFIX="fault", **extra)
    return env, tmp_path / "worker.log"


def start(env: dict[str, str], log: Path, tmp_path: Path) -> subprocess.Popen:
    """Start a worker (with its scheduler) and wait until it has run a task."""
    from notifications.tasks import heartbeat

    proc = start_worker(env, log, "-Q", "celery", "-B", "--schedule", str(tmp_path / "beat-schedule"))
    stamp = tmp_path / "var" / "celery-heartbeat"
    stamp.unlink(missing_ok=True)
    heartbeat.delay()
    assert wait_for(stamp.exists, timeout=60, interval=0.2), log.read_text(errors="replace")[-3000:]
    return proc


class Filer:
    """Files appeals through the public form, each from its own browser, and keeps the access codes."""

    def __init__(self, city) -> None:
        self.city = city
        self.acknowledged = 0
        self.codes: dict[str, str] = {}
        self.slowest = 0.0

    def file(self, count: int) -> None:
        for i in range(count):
            browser = Client()
            started = time.monotonic()
            data = form_data(self.city, contact_email=f"boss{len(self.codes) + i}@example.com")
            response = browser.post(reverse("portal:submit"), data)
            self.slowest = max(self.slowest, time.monotonic() - started)
            assert response.status_code == 302, response.content.decode()[:500]
            self.acknowledged += 1
            self.codes.update(browser.session["portal_access"])


def all_settled() -> bool:
    return (
        not OutboxEvent.objects.filter(processed_at__isnull=True).exists()
        and not Delivery.objects.exclude(status=Delivery.Status.SENT).exists()
    )


def mails(tmp_path: Path) -> list[email.message.Message]:
    folder = tmp_path / "var" / "mail"
    found = []
    for path in sorted(folder.glob("*")) if folder.exists() else []:
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if chunk.strip():
                found.append(email.message_from_bytes(chunk.strip()))
    return found


def text_of(message: email.message.Message) -> str:
    parts = message.walk() if message.is_multipart() else [message]
    return "".join(
        part.get_payload(decode=True).decode("utf-8", "replace")
        for part in parts
        if part.get_content_type() == "text/plain"
    )


def sms_lines(tmp_path: Path) -> list[dict]:
    folder = tmp_path / "sms"
    if not folder.exists():
        return []
    return [json.loads(line) for p in folder.glob("*.jsonl") for line in p.read_text().splitlines()]


def check_exactly_once(tmp_path: Path, filer: Filer, *, max_resent: int = 0) -> int:
    """Every delivery row is sent and reached its channel once; returns how many were delivered.

    ``max_resent``: copies of an e-mail or SMS re-sent because a worker was killed between handing it
    over and recording it (the same Message-ID; see docs/architecture.md). Zero unless a worker dies.
    """
    stored = Appeal.objects.count()
    rows = Counter(Delivery.objects.filter(status=Delivery.Status.SENT).values_list("channel", flat=True))
    assert Delivery.objects.exclude(status=Delivery.Status.SENT).count() == 0
    # In-app: one inbox item per delivery (a database write, exactly once by construction).
    assert InboxItem.objects.count() == rows["inbox"]
    # E-mail: one message per delivery row, told apart by Message-ID.
    messages = mails(tmp_path)
    by_id = Counter(m["Message-ID"] for m in messages)
    assert len(by_id) == rows["email"], (len(by_id), rows)
    resent = sum(n - 1 for n in by_id.values())
    # SMS: one line per delivery row (each text names its appeal and event).
    texts = Counter((line["to"], line["text"]) for line in sms_lines(tmp_path))
    assert len(texts) == rows["sms"], (len(texts), rows)
    resent += sum(n - 1 for n in texts.values())
    assert resent <= max_resent, f"{resent} message(s) sent twice"
    # The e-mail with the access code reached each appellant once, and no sealed code is left behind.
    bodies = [text_of(m) for m in {m["Message-ID"]: m for m in messages}.values()]
    for tracking, code in filer.codes.items():
        assert sum(code in body for body in bodies) == 1, tracking
    assert not OutboxEvent.objects.filter(payload__has_key="sealed_code").exists()
    delivered = sum(rows.values())
    print(
        f"\nappeals acknowledged = {filer.acknowledged}, stored = {stored}, "
        f"notifications delivered exactly once = {delivered} "
        f"({rows['email']} e-mail incl. {len(filer.codes)} with the access code, {rows['sms']} SMS, "
        f"{rows['inbox']} in-app; re-sent copies = {resent}); slowest submission {filer.slowest:.2f} s"
    )
    assert filer.acknowledged == stored == len(filer.codes)
    return delivered


@pytest.mark.redis_port_offset(0)
def test_redis_outage_with_held_eta_messages(web, tmp_path, portal_city, officer):
    from notifications.tasks import heartbeat

    env, log = worker_for(tmp_path, web)
    worker = start(env, log, tmp_path)
    filer = Filer(portal_city)
    try:
        # Countdown (ETA) messages the worker takes and holds unacknowledged until they are due.
        for _ in range(5):
            heartbeat.apply_async(countdown=600)
        filer.file(10)
        time.sleep(1)
        outage_started = time.monotonic()
        web.kill()
        filer.file(10)  # during the outage: accepted, stored, their notifications wait in the outbox
        time.sleep(max(0.0, 12 - (time.monotonic() - outage_started)))
        outage = time.monotonic() - outage_started
        web.start()
        filer.file(10)
        assert wait_for(all_settled, timeout=60, interval=0.5), log.read_text(errors="replace")[-3000:]
        alive = worker.poll() is None
    finally:
        stop(worker)
    text = log.read_text(errors="replace")
    assert alive, text[-3000:]
    assert "Unrecoverable error" not in text, text[-3000:]
    print(f"\nRedis down for {outage:.1f} s with 5 ETA messages held; worker alive afterwards = {alive}")
    check_exactly_once(tmp_path, filer)


@pytest.mark.redis_port_offset(1)
def test_worker_killed_mid_burst(web, tmp_path, portal_city, officer):
    env, log = worker_for(tmp_path, web, NOTIFY_CLAIM_SECONDS="3")
    worker = start(env, log, tmp_path)
    filer = Filer(portal_city)
    try:
        filer.file(15)
        os.killpg(worker.pid, signal.SIGKILL)  # no warm shutdown, no acknowledgements, mid-burst
        worker.wait(timeout=10)
        killed_with = Delivery.objects.exclude(status=Delivery.Status.SENT).count()
        filer.file(15)
        worker = start(env, log, tmp_path)
        assert wait_for(all_settled, timeout=60, interval=0.5), log.read_text(errors="replace")[-3000:]
    finally:
        stop(worker)
    print(f"\nworker SIGKILLed with {killed_with} deliveries unsent or in flight")
    # A message handed to the mail server or SMS gateway in the instant before the kill is sent again
    # (same Message-ID); at most one per worker thread.
    check_exactly_once(tmp_path, filer, max_resent=4)


def test_smtp_refusing_until_dead_letter_then_retried_from_the_admin(
    settings, tmp_path, portal_city, officer, admin_client
):
    """Runs in this process (no worker): the mail server refuses, deliveries go dead, the admin retries."""
    from aiosmtpd.controller import Controller

    from config.celery import app
    from notifications.tasks import redispatch

    class Refusing:
        def __init__(self) -> None:
            self.reply = "451 4.3.0 Try again later"
            self.accepted: list[bytes] = []

        async def handle_DATA(self, server, session, envelope):
            if self.reply.startswith("250"):
                self.accepted.append(envelope.content)
            return self.reply

    handler = Refusing()
    controller = Controller(handler, hostname="127.0.0.1", port=PORT_BASE + 2)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", PORT_BASE + 2, 5
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.SMS_FILE_PATH = tmp_path / "sms"
    settings.NOTIFY_MAX_ATTEMPTS = 3
    settings.NOTIFY_RETRY_BASE_SECONDS = 0
    settings.NOTIFY_REDISPATCH_AFTER_SECONDS = 0
    saved_eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        filer = Filer(portal_city)
        filer.file(5)
        for _ in range(4):
            redispatch()
        dead = Delivery.objects.filter(channel="email", status=Delivery.Status.DEAD)
        assert dead.count() == 10 and not handler.accepted  # confirmation + dispatched e-mail per appeal
        assert all("451" in row.last_error for row in dead)
        handler.reply = "250 OK"
        changelist = reverse("admin:notifications_delivery_changelist")
        response = admin_client.post(
            changelist,
            {"action": "retry_now", "_selected_action": [str(pk) for pk in dead.values_list("pk", flat=True)]},
        )
        assert response.status_code == 302
        redispatch()  # and a later re-dispatch sends nothing twice
    finally:
        app.conf.task_always_eager = saved_eager
        controller.stop()
    assert Delivery.objects.filter(channel="email", status=Delivery.Status.SENT).count() == 10
    ids = Counter(email.message_from_bytes(raw)["Message-ID"] for raw in handler.accepted)
    assert len(ids) == 10 and set(ids.values()) == {1}
    bodies = [text_of(email.message_from_bytes(raw)) for raw in handler.accepted]
    for code in filer.codes.values():
        assert sum(code in body for body in bodies) == 1
    print(
        f"\nappeals acknowledged = {filer.acknowledged}, stored = {Appeal.objects.count()}, "
        f"notifications delivered exactly once = {len(ids)} e-mails after the admin's retry (10 dead letters)"
    )
