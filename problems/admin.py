from __future__ import annotations

from django.contrib import admin

from problems.models import ProblemTicket


@admin.register(ProblemTicket)
class ProblemTicketAdmin(admin.ModelAdmin):
    list_display = ("appeal", "state", "flagged_at", "owner", "resolved_at")
    list_filter = ("state",)
    raw_id_fields = ("appeal", "owner", "resolved_by")
    # Owners and resolutions are set on the board (audited); the admin only reads.
    readonly_fields = [f.name for f in ProblemTicket._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
