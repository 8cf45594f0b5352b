"""The Celery application and, in one place, every periodic job (Celery beat)."""

from __future__ import annotations

import os
from contextlib import ExitStack

from celery import Celery
from celery.schedules import crontab
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("huying")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Tasks named in DATABASE_REPLICA_TASKS (the weekly report) read from the replica (config/replica.py).
_replica_blocks: dict[str, ExitStack] = {}


@task_prerun.connect
def _read_from_replica(task_id=None, task=None, **_kwargs) -> None:
    from django.conf import settings

    from config import replica

    if task is not None and task_id and replica.configured() and task.name in settings.DATABASE_REPLICA_TASKS:
        stack = ExitStack()
        stack.enter_context(replica.reading_from_replica())
        _replica_blocks[task_id] = stack


@task_postrun.connect
def _end_replica_reads(task_id=None, **_kwargs) -> None:
    stack = _replica_blocks.pop(task_id or "", None)
    if stack is not None:
        stack.close()


# Every periodic job, with why it runs when it runs. Times are Asia/Shanghai (CELERY_TIMEZONE).
app.conf.beat_schedule = {
    # Knowledge base: retire articles past their end date and warn owners KNOWLEDGE["EXPIRY_WARNING_DAYS"]
    # ahead. Daily at 06:30 so owners read the warning at the start of the day; idempotent.
    "alerts-detect": {
        # Early warning: clusters, repeat filers, surges, sensitive words. Every 15 minutes so a
        # sensitive matter is seen within the hour; each run reads only its recent window; idempotent.
        "task": "alerts.tasks.detect",
        "schedule": float(os.environ.get("ALERTS_DETECT_SECONDS", "900")),
    },
    "knowledge-expiry-sweep": {
        "task": "knowledge.tasks.expiry_sweep",
        "schedule": crontab(minute=30, hour=6),
    },
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
    # Analytics: fold new audit events into the rollup tables the dashboard reads. Every minute: a new
    # appeal shows on the dashboard within a minute (its cached sections are replaced when the tables
    # change, analytics/dashboard.py), and each run stays small (cursor on the event id; idempotent).
    "analytics-update-rollups": {
        "task": "analytics.tasks.update_rollups",
        "schedule": float(os.environ.get("ANALYTICS_ROLLUP_SECONDS", "60")),
    },
    # Analytics: the weekly Excel report for the previous ISO week, Monday 08:00 Asia/Shanghai, so managers
    # find it at the start of the working week (announced with the outbox event report.ready).
    "analytics-weekly-report": {
        "task": "analytics.tasks.weekly_report",
        "schedule": crontab(minute=0, hour=8, day_of_week="mon"),
    },
    # Appeals: the signed digest of every audit-chain head (verify_audit's defence against deleted appeals).
    # Daily at 01:15 Asia/Shanghai, a quiet hour; export it to an outside witness after it runs.
    "appeals-audit-checkpoint": {
        "task": "appeals.audit_checkpoint",
        "schedule": crontab(minute=15, hour=1),
    },
    # Search: re-index appeals changed while the search server was unreachable (a no-op on the database
    # backend). Every 10 minutes: cheap (one comparison query per 1,000 recently changed appeals).
    "appeals-search-catch-up": {
        "task": "appeals.search.catch_up",
        "schedule": float(os.environ.get("SEARCH_CATCH_UP_SECONDS", "600")),
    },
    # Appeals: delete self-service SMS challenges (hashed codes) a day after they expired. Hourly at :23,
    # away from the other hourly jobs; a code lives minutes, so a day's rows are a small table; idempotent.
    "appeals-purge-phone-challenges": {
        "task": "appeals.purge_phone_challenges",
        "schedule": crontab(minute=23),
    },
    # Routing: the deadline sweep (warning / 催办 / 督办, once each; merged appeals told of their master's
    # outcome). Every 5 minutes: urgent sign-for limits are 2 working hours, so a 5-minute lag is small.
    "routing-deadline-sweep": {
        "task": "routing.deadline_sweep",
        "schedule": float(os.environ.get("ROUTING_SWEEP_SECONDS", "300")),
    },
    # Follow-up calls (回访): pick closed appeals due a call (bad ratings, default ratings, a stable sample).
    # Every 30 minutes as a safety net: a close already selects its appeal within seconds; idempotent.
    "followup-select": {
        "task": "followup.tasks.select",
        "schedule": float(os.environ.get("FOLLOW_UP_SELECT_SECONDS", "1800")),
    },
    # Problem tickets (问题工单): flag appeals re-opened or re-routed too often, or open after 督办. Every
    # 15 minutes behind the deadline sweep (events already flag at once); idempotent.
    "problems-sweep": {
        "task": "problems.tasks.sweep",
        "schedule": float(os.environ.get("PROBLEM_SWEEP_SECONDS", "900")),
    },
    # Routing: learn from dispatchers' manual routing — harvest labelled examples, train a new classifier
    # version. Nightly at 02:30 Asia/Shanghai, when nobody is filing or dispatching.
    "routing-retrain-classifier": {
        "task": "routing.retrain_classifier",
        "schedule": crontab(minute=30, hour=2),
    },
}
