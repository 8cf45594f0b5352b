from __future__ import annotations

from django.contrib import admin

from followup.models import FollowUp


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ("appeal", "round", "reason", "state", "outcome", "attempts", "due_at", "completed_by")
    list_filter = ("reason", "state", "outcome")
    raw_id_fields = ("appeal", "rating", "completed_by")
    # Outcomes are recorded on the worklist (audited); the admin only reads.
    readonly_fields = [f.name for f in FollowUp._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
