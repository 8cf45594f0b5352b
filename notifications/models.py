"""The notification outbox.

An ``OutboxEvent`` is written in the same database transaction as the change it reports, so a
committed change always has its notification on record even if the broker, the worker or the mail
server is down. Delivery (in-app, websocket, e-mail, SMS) happens afterwards, from tasks that can
be re-run.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxEvent(models.Model):
    """Something worth telling someone about, recorded with the change that caused it."""

    event_type = models.CharField(_("事件类型"), max_length=50, db_index=True)
    appeal = models.ForeignKey(
        "appeals.Appeal", null=True, blank=True, on_delete=models.PROTECT, related_name="outbox_events"
    )
    bureau = models.ForeignKey(
        "routing.Bureau", null=True, blank=True, on_delete=models.PROTECT, related_name="outbox_events"
    )
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, db_index=True)
    # Set once the event has been expanded into deliveries; NULL rows are picked up again.
    processed_at = models.DateTimeField(_("处理时间"), null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("待发通知")
        verbose_name_plural = _("待发通知")

    def __str__(self) -> str:
        return f"{self.event_type} #{self.pk}"
