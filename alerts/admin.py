from __future__ import annotations

from django.contrib import admin

from alerts.models import Alert, SensitiveTerm


@admin.register(SensitiveTerm)
class SensitiveTermAdmin(admin.ModelAdmin):
    list_display = ("term", "topic", "is_active")
    list_filter = ("topic", "is_active")
    search_fields = ("term",)


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ("title", "kind", "region", "category", "state", "raised_at", "acknowledged_by")
    list_filter = ("kind", "state")
    readonly_fields = ("kind", "key", "title", "detail", "region", "category", "raised_at", "updated_at")
    raw_id_fields = ("acknowledged_by",)
