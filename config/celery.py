"""The Celery application and, in one place, every periodic job (Celery beat)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("huying")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every periodic job, with why it runs when it runs. Times are Asia/Shanghai (CELERY_TIMEZONE).
app.conf.beat_schedule = {}
