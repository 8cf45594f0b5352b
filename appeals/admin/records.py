"""Admin for the records around appeals: audit events, ratings, PII access, messages, files,
co-handling, extensions, tracking numbers and canned replies (read-only where they are history)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appeals import services
from appeals.event_labels import event_label
from appeals.models import (
    AppealEvent,
    AppealMessage,
    Attachment,
    CannedReply,
    CoHandling,
    Extension,
    PhoneChallenge,
    PiiAccessLog,
    Rating,
    TrackingSequence,
)

if TYPE_CHECKING:
    # What ServiceActionsMixin is mixed into; at run time it is a plain mixin.
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = object
from appeals.admin.common import DecisionNoteForm, ReadOnlyAdminMixin, ServiceActionsMixin


@admin.register(AppealEvent)
class AppealEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "appeal_number",
        "seq",
        "kind_label",
        "actor_kind",
        "actor_label",
        "from_state",
        "to_state",
        "created_at",
        "short_hash",
    ]
    list_filter = ["actor_kind", "to_state"]
    list_select_related = ["appeal"]
    search_fields = ["=appeal__tracking_number", "=kind", "actor_label"]
    ordering = ["-id"]
    show_full_result_count = False
    readonly_fields = [
        "appeal",
        "seq",
        "kind",
        "actor",
        "actor_kind",
        "actor_label",
        "from_state",
        "to_state",
        "reason",
        "data",
        "created_at",
        "prev_hash",
        "hash",
    ]

    @admin.display(description=gettext_lazy("受理编号"), ordering="appeal__tracking_number")
    def appeal_number(self, event: AppealEvent) -> str:
        return event.appeal.tracking_number

    @admin.display(description=gettext_lazy("事件"), ordering="kind")
    def kind_label(self, event: AppealEvent) -> str:
        return f"{event_label(event.kind, event.data)} ({event.kind})"

    @admin.display(description=gettext_lazy("哈希"))
    def short_hash(self, event: AppealEvent) -> str:
        return event.hash[:12] + "…"


@admin.register(Rating)
class RatingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["appeal", "level", "resolved", "is_default", "is_followup", "round", "contest", "created_at"]
    list_filter = ["level", "resolved", "is_default", "is_followup", "contest"]
    list_select_related = ["appeal"]
    search_fields = ["=appeal__tracking_number", "comment"]
    ordering = ["-created_at"]
    show_full_result_count = False


@admin.register(PiiAccessLog)
class PiiAccessLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "user", "action", "appeal", "detail"]
    list_filter = ["action"]
    list_select_related = ["user", "appeal"]
    search_fields = ["user__username", "=appeal__tracking_number", "action", "detail"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]


@admin.register(PhoneChallenge)
class PhoneChallengeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Self-service SMS codes, for support questions ("did a code go out?"). The code and the phone
    number are keyed hashes and are never shown; search takes a whole client address only."""

    list_display = ["created_at", "sent", "ip", "attempts", "used_at", "expires_at", "credit_code"]
    list_filter = ["sent"]
    fields = ("created_at", "sent", "ip", "attempts", "used_at", "expires_at", "credit_code")
    readonly_fields = ("created_at", "sent", "ip", "attempts", "used_at", "expires_at", "credit_code")
    search_fields = ["=ip", "=credit_code"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]


@admin.register(AppealMessage)
class AppealMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "appeal", "kind", "author", "short_body"]
    list_filter = ["kind"]
    list_select_related = ["appeal", "author"]
    search_fields = ["=appeal__tracking_number", "body"]
    ordering = ["-created_at"]
    show_full_result_count = False

    @admin.display(description=gettext_lazy("内容"))
    def short_body(self, message: AppealMessage) -> str:
        return message.body[:40]


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    # Files are served only through the staff console's permission-checked view, not from here.
    list_display = ["created_at", "appeal", "source", "original_name", "content_type", "size"]
    list_filter = ["source", "content_type"]
    list_select_related = ["appeal"]
    search_fields = ["=appeal__tracking_number", "original_name", "=sha256"]
    exclude = ["file"]
    ordering = ["-created_at"]


@admin.register(CoHandling)
class CoHandlingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["appeal", "bureau", "status", "due_at", "created_at", "responded_at"]
    list_filter = ["status", ("bureau", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["appeal", "bureau"]
    search_fields = ["=appeal__tracking_number", "bureau__name", "request", "response"]
    ordering = ["-created_at"]


@admin.register(TrackingSequence)
class TrackingSequenceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["day", "last_value"]
    ordering = ["-day"]


@admin.register(Extension)
class ExtensionAdmin(ReadOnlyAdminMixin, ServiceActionsMixin, admin.ModelAdmin):
    """Extensions are requested in the console; a dispatcher may decide them here too (through the service)."""

    list_display = ["appeal", "working_days", "status", "requested_by", "decided_by", "created_at", "new_due"]
    list_filter = ["status"]
    list_select_related = ["appeal", "requested_by", "decided_by"]
    search_fields = ["=appeal__tracking_number", "reason"]
    ordering = ["-created_at"]
    actions = ["action_approve", "action_refuse"]

    def has_dispatch_permission(self, request) -> bool:
        return request.user.has_perm("appeals.dispatch_appeal")

    def _decide(self, request, queryset, *, approve: bool, action: str):
        title = _("批准延期") if approve else _("不批准延期")
        return self.with_form(
            request,
            queryset.select_related("appeal"),
            action=action,
            form_class=DecisionNoteForm,
            title=title,
            help_text=_("审批结果会通知承办单位和诉求人；批准后答复时限相应顺延。"),
            run=lambda ext, data: services.extension_decide(
                extension_id=ext.pk, user=request.user, approve=approve, note=data["note"]
            ),
            name=lambda ext: ext.appeal.tracking_number,
        )

    @admin.action(description=gettext_lazy("批准延期"), permissions=["dispatch"])
    def action_approve(self, request, queryset):
        return self._decide(request, queryset, approve=True, action="action_approve")

    @admin.action(description=gettext_lazy("不批准延期"), permissions=["dispatch"])
    def action_refuse(self, request, queryset):
        return self._decide(request, queryset, approve=False, action="action_refuse")


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    list_display = ["title", "category", "is_active"]
    list_filter = ["is_active", "category"]
    list_editable = ["is_active"]
    list_select_related = ["category"]
    search_fields = ["title", "body"]
    autocomplete_fields = ["category"]
    ordering = ["category__sort_order", "title"]
