"""Celery discovers tasks in ``<app>.tasks``; the webhook tasks live with the webhooks."""

from integrations.webhooks.tasks import deliver_webhooks, retry_webhook

__all__ = ["deliver_webhooks", "retry_webhook"]
