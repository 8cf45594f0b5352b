"""Admin for deliveries (with the dead-letter "retry" action), inbox items and preferences.

Registered from ``NotificationsConfig.ready()`` so that ``notifications/admin.py`` (the OutboxEvent
admin) stays a separate block owned by its author.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from notifications.models import Delivery, InboxItem, NotificationPreference, NotificationSettings


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "event_type", "recipient_key", "channel", "status", "attempts", "next_attempt_at", "error")
    list_filter = ("status", "channel", "event__event_type")
    search_fields = ("recipient_key", "address", "event__appeal__tracking_number", "last_error")
    list_select_related = ("event",)
    readonly_fields = [f.name for f in Delivery._meta.fields]
    actions = ["retry_now"]
    date_hierarchy = "created_at"

    @admin.display(description=_("事件类型"), ordering="event__event_type")
    def event_type(self, obj: Delivery) -> str:
        return obj.event.event_type

    @admin.display(description=_("最近错误"))
    def error(self, obj: Delivery) -> str:
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("重新发送所选的失败或已放弃的通知"), permissions=["change"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        from notifications.delivery import requeue
        from notifications.tasks import retry_delivery

        ids = requeue(list(queryset.values_list("id", flat=True)))
        queued = 0
        for delivery_id in ids:
            try:
                retry_delivery.apply_async(
                    args=[delivery_id], kwargs={"force": True}, retry=False, queue=settings.NOTIFY_TASK_QUEUE
                )
                queued += 1
            except Exception:  # noqa: BLE001 - broker down: the periodic re-dispatch sends them
                break
        self.message_user(
            request,
            ngettext("已重新排队 %(count)d 条通知。", "已重新排队 %(count)d 条通知。", len(ids)) % {"count": len(ids)},
            messages.SUCCESS,
        )
        if queued < len(ids):
            self.message_user(
                request,
                _("任务队列暂时连不上，这些通知将在一分钟内由定时补发任务发送。"),
                messages.WARNING,
            )
        skipped = queryset.count() - len(ids)
        if skipped:
            self.message_user(request, _("已发送或正在发送的通知不会重发。"), messages.INFO)


@admin.register(InboxItem)
class InboxItemAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "event_type", "title", "created_at", "read_at")
    list_filter = ("event_type", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("title", "user__username", "appeal__tracking_number")
    raw_id_fields = ("user", "appeal", "delivery")


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "event_type", "channel", "enabled")
    list_filter = ("channel", "enabled", "event_type")
    search_fields = ("user__username",)
    raw_id_fields = ("user",)


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(admin.ModelAdmin):
    list_display = ("user", "language")
    raw_id_fields = ("user",)
