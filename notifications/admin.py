"""Admin for the notification outbox.

Outbox rows are the record of what happened and are read-only. Deliveries, the in-app inbox and
preferences have their admin in ``notifications.admin_deliveries`` (loaded by the app config).
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from notifications.models import OutboxEvent


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ["id", "event_type", "appeal", "bureau", "created_at", "processed_at"]
    list_filter = ["event_type", ("processed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["appeal", "bureau"]
    search_fields = ["=event_type", "=appeal__tracking_number"]
    date_hierarchy = "created_at"
    ordering = ["-id"]
    show_full_result_count = False
    readonly_fields = ("event_type", "appeal", "bureau", "payload", "created_at", "processed_at")
    fieldsets = [(None, {"fields": readonly_fields})]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("编号"), ordering="id")
    def id(self, event):
        return event.pk
