"""The Celery application and, in one place, every periodic job (Celery beat)."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("huying")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every periodic job, with why it runs when it runs. Times are Asia/Shanghai (CELERY_TIMEZONE).
app.conf.beat_schedule = {
    # Appeals: close replied appeals left unrated past HUYING["DEFAULT_RATING_DAYS"] as 基本满意 (default).
    # Hourly: the period is counted in days, so an appeal closes at most an hour late; idempotent.
    "appeals-close-unrated": {
        "task": "appeals.tasks.close_unrated_appeals",
        "schedule": crontab(minute=7),
    },
    # Notifications: deliver outbox rows whose task was lost (broker or worker down at commit time) and
    # retry failed deliveries whose backoff has expired. Every minute so nothing waits long.
    "notifications-redispatch": {
        "task": "notifications.redispatch",
        "schedule": float(os.environ.get("NOTIFY_REDISPATCH_SECONDS", "60")),
    },
    # Integrations: send due webhook deliveries (retries after back-off, and anything whose kick was lost
    # while the broker was down). Every 15 s: a bureau system learns of a dispatch within seconds.
    "integrations-deliver-webhooks": {
        "task": "integrations.deliver_webhooks",
        "schedule": float(os.environ.get("WEBHOOK_REDISPATCH_SECONDS", "15")),
    },
    # Notifications: write var/celery-heartbeat so monitoring can see that beat and a worker both run.
    "notifications-heartbeat": {
        "task": "notifications.heartbeat",
        "schedule": float(os.environ.get("NOTIFY_HEARTBEAT_SECONDS", "60")),
    },
    # Analytics: fold new audit events into the rollup tables the dashboard reads. Every 2 minutes keeps
    # the dashboard near-live while each run stays small (cursor on the event id; idempotent).
    "analytics-update-rollups": {
        "task": "analytics.tasks.update_rollups",
        "schedule": float(os.environ.get("ANALYTICS_ROLLUP_SECONDS", "120")),
    },
    # Analytics: the weekly Excel report for the previous ISO week, Monday 08:00 Asia/Shanghai, so managers
    # find it at the start of the working week (announced with the outbox event report.ready).
    "analytics-weekly-report": {
        "task": "analytics.tasks.weekly_report",
        "schedule": crontab(minute=0, hour=8, day_of_week="mon"),
    },
    # Routing: the deadline sweep (warning / 催办 / 督办, once each; merged appeals told of their master's
    # outcome). Every 5 minutes: urgent sign-for limits are 2 working hours, so a 5-minute lag is small.
    "routing-deadline-sweep": {
        "task": "routing.deadline_sweep",
        "schedule": float(os.environ.get("ROUTING_SWEEP_SECONDS", "300")),
    },
    # Routing: learn from dispatchers' manual routing — harvest labelled examples, train a new classifier
    # version. Nightly at 02:30 Asia/Shanghai, when nobody is filing or dispatching.
    "routing-retrain-classifier": {
        "task": "routing.retrain_classifier",
        "schedule": crontab(minute=30, hour=2),
    },
}
