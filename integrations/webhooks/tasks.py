"""Celery tasks that send webhooks. They take no arguments, re-read the database and are idempotent."""

from __future__ import annotations

from celery import shared_task

from integrations.webhooks import sender


@shared_task(name="integrations.deliver_webhooks", soft_time_limit=240, time_limit=270)
def deliver_webhooks() -> dict[str, int]:
    """Send every due webhook delivery (queued after a fan-out commits, and run periodically by beat
    to retry failures after their back-off and to cover a broker that was down)."""
    return sender.deliver_due()


@shared_task(name="integrations.retry_webhook", soft_time_limit=60, time_limit=90)
def retry_webhook(delivery_id: int) -> str | None:
    """Send one delivery now, whatever its state (the admin's retry action)."""
    return sender.retry(delivery_id)
