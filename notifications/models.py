"""The notification outbox.

An ``OutboxEvent`` is written in the same database transaction as the change it reports, so a
committed change always has its notification on record even if the broker, the worker or the mail
server is down. Delivery (in-app, websocket, e-mail, SMS) happens afterwards, from tasks that can
be re-run.
"""

from __future__ import annotations

from django.conf import settings
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


class Channel(models.TextChoices):
    """How a notification reaches its recipient (the websocket push is separate: it is not stored)."""

    INBOX = "inbox", _("站内消息")
    EMAIL = "email", _("电子邮件")
    SMS = "sms", _("短信")


class Delivery(models.Model):
    """One notification to one recipient by one channel, with its delivery state.

    The unique constraint on (event, recipient, channel) makes expanding an outbox event idempotent:
    running the expansion twice (a re-dispatch racing the first task) creates each row once.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败，等待重试")
        DEAD = "dead", _("已放弃（需人工处理）")

    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    # "user:<id>" for staff, "appellant" for the person who filed the appeal.
    recipient_key = models.CharField(_("收件人标识"), max_length=40)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notification_deliveries",
    )
    address = models.CharField(_("地址"), max_length=254, blank=True, help_text=_("电子邮箱或手机号。"))
    language = models.CharField(_("语言"), max_length=10, default="zh-hans")
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试时间"), default=timezone.now, db_index=True)
    # A worker that claims a row holds it until this time; a worker that died mid-send loses it.
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("通知投递")
        verbose_name_plural = _("通知投递")
        constraints = [
            models.UniqueConstraint(fields=["event", "recipient_key", "channel"], name="delivery_once_per_recipient"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"{self.event.event_type} → {self.recipient_key} ({self.channel})"


class InboxItem(models.Model):
    """A message in a staff member's in-app inbox (站内消息)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox_items")
    delivery = models.OneToOneField(Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    event_type = models.CharField(_("事件类型"), max_length=50)
    appeal = models.ForeignKey(
        "appeals.Appeal", null=True, blank=True, on_delete=models.CASCADE, related_name="inbox_items"
    )
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        indexes = [models.Index(fields=["user", "read_at"], name="inbox_user_unread")]

    def __str__(self) -> str:
        return self.title


class NotificationPreference(models.Model):
    """A staff member's choice to receive (or not) one event type by one channel.

    Only choices that differ from the defaults in ``notifications.catalogue`` need a row.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs")
    event_type = models.CharField(_("事件类型"), max_length=50)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    enabled = models.BooleanField(_("接收"), default=True)

    class Meta:
        verbose_name = _("通知偏好")
        verbose_name_plural = _("通知偏好")
        constraints = [
            models.UniqueConstraint(fields=["user", "event_type", "channel"], name="preference_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.event_type} {self.channel}={'on' if self.enabled else 'off'}"


class NotificationSettings(models.Model):
    """Per-user notification settings that are not per event: the language messages are written in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_settings"
    )
    language = models.CharField(
        _("通知语言"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )

    class Meta:
        verbose_name = _("通知设置")
        verbose_name_plural = _("通知设置")

    def __str__(self) -> str:
        return f"{self.user} {self.language}"
