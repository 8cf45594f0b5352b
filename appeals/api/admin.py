from django.contrib import admin

from appeals.api.models import ApiClient


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    """Keys are created with ``manage.py create_api_client`` (the key is shown once); here they are listed
    and switched off."""

    list_display = ("name", "channel", "key_prefix", "is_active", "created_at", "last_used_at")
    list_filter = ("channel", "is_active")
    readonly_fields = ("key_prefix", "created_at", "last_used_at")
    fields = ("name", "channel", "is_active", "key_prefix", "created_at", "last_used_at")

    def has_add_permission(self, request) -> bool:
        return False
