"""The Celery application and, in one place, every periodic job (Celery beat)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("huying")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every periodic job, with why it runs when it runs. Times are Asia/Shanghai (CELERY_TIMEZONE).
app.conf.beat_schedule = {
    # Notifications: deliver outbox rows whose task was lost (broker or worker down at commit time) and
    # retry failed deliveries whose backoff has expired. Every minute so nothing waits long.
    "notifications-redispatch": {
        "task": "notifications.redispatch",
        "schedule": float(os.environ.get("NOTIFY_REDISPATCH_SECONDS", "60")),
    },
    # Notifications: write var/celery-heartbeat so monitoring can see that beat and a worker both run.
    "notifications-heartbeat": {
        "task": "notifications.heartbeat",
        "schedule": float(os.environ.get("NOTIFY_HEARTBEAT_SECONDS", "60")),
    },
}
