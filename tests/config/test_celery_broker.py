"""A real task round trip through whatever broker the settings name: the filesystem broker by default,
RabbitMQ in CI's service pass (CELERY_BROKER_URL=amqp://… on a vhost of its own)."""

from __future__ import annotations

import os
import time
import uuid

import pytest

from config.celery import app
from notifications.tasks import heartbeat

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def test_the_configured_broker_carries_a_task_to_a_worker_and_back(tmp_path, settings):
    from celery.contrib.testing.worker import start_worker

    expected = os.environ.get("CELERY_BROKER_URL", "")
    with app.connection_for_write() as connection:
        driver = connection.transport.driver_type
    if expected.startswith("amqp"):
        assert driver == "amqp", "CELERY_BROKER_URL names RabbitMQ but the app does not use it"
    assert app.conf.broker_url == settings.CELERY_BROKER_URL

    # A queue of this test's own, so parallel runs and other sessions on the same broker never meet.
    queue = f"huying-test-{uuid.uuid4().hex[:10]}"
    stamp = tmp_path / "celery-heartbeat"
    settings.VAR_DIR = tmp_path  # where notifications.heartbeat writes its stamp
    with start_worker(app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=60):
        heartbeat.apply_async(queue=queue)
        deadline = time.monotonic() + 30
        while not stamp.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    assert stamp.exists(), f"the task did not come back through {driver}"
    assert stamp.read_text().strip()[:4].isdigit()
