"""Admin for appeals: read-only fields, workflow changes as actions that call the services."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appeals import services, validators
from appeals.event_labels import event_label
from appeals.models import (
    Appeal,
    AppealEvent,
    AppealMessage,
    Attachment,
    CoHandling,
    Extension,
    Rating,
)

if TYPE_CHECKING:
    # What ServiceActionsMixin is mixed into; at run time it is a plain mixin.
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = object
from appeals.admin.common import (
    ArbitrateForm,
    DispatchForm,
    MergeForm,
    ReadOnlyInline,
    ReasonForm,
    ServiceActionsMixin,
)
from routing.explain import explain_routing


class EventInline(ReadOnlyInline):
    model = AppealEvent
    fields = [
        "seq",
        "kind_label",
        "actor_kind",
        "actor_label",
        "from_state",
        "to_state",
        "reason",
        "created_at",
        "hash",
    ]
    ordering = ["seq"]
    verbose_name_plural = gettext_lazy("办理记录（审计链，只读）")

    @admin.display(description=gettext_lazy("事件"))
    def kind_label(self, event: AppealEvent) -> str:
        return event_label(event.kind, event.data)


class MessageInline(ReadOnlyInline):
    model = AppealMessage
    fields = ["created_at", "kind", "author", "body"]


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    fk_name = "appeal"
    fields = ["created_at", "source", "original_name", "content_type", "size", "sha256"]


class ExtensionInline(ReadOnlyInline):
    model = Extension
    fields = ["created_at", "working_days", "reason", "status", "decided_by", "decision_note", "new_due"]


class CoHandlingInline(ReadOnlyInline):
    model = CoHandling
    fields = ["created_at", "bureau", "status", "request", "response", "due_at"]


class RatingInline(ReadOnlyInline):
    model = Rating
    fields = ["created_at", "round", "level", "resolved", "comment", "is_default", "is_followup", "contest"]


# --- Appeal: forms for actions that need input ------------------------------------------------------


def _tracking(appeal: Appeal) -> str:
    return appeal.tracking_number


# --- Appeal -----------------------------------------------------------------------------------------


@admin.register(Appeal)
class AppealAdmin(ServiceActionsMixin, admin.ModelAdmin):
    list_display = [
        "tracking_number",
        "title",
        "state_label",
        "category",
        "appeal_type",
        "region",
        "bureau",
        "officer",
        "urgency",
        "submitted_at",
        "reply_due_display",
        "reopen_count",
    ]
    list_display_links = ["tracking_number", "title"]
    list_filter = [
        "state",
        "urgency",
        "channel",
        "category",
        "appeal_type",
        "region",
        ("bureau", admin.RelatedOnlyFieldListFilter),
        "category_disputed",
    ]
    list_select_related = ["category", "region", "bureau", "officer"]
    search_fields = ["=tracking_number", "title", "enterprise__name", "=enterprise__credit_code", "contact_name"]
    date_hierarchy = "submitted_at"
    ordering = ["-submitted_at", "-id"]
    show_full_result_count = False
    list_per_page = 50
    inlines = [EventInline, MessageInline, AttachmentInline, ExtensionInline, CoHandlingInline, RatingInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "tracking_number",
                    "state",
                    "title",
                    "description",
                    "category",
                    "appeal_type",
                    "appeal_type_suggested",
                    "urgency",
                    "urgency_reason",
                    "channel",
                ]
            },
        ),
        (
            gettext_lazy("企业与联系人"),
            {
                "fields": [
                    "enterprise",
                    "enterprise_name",
                    "enterprise_credit_code",
                    "enterprise_now",
                    "region",
                    "industry",
                    "enterprise_size",
                    "contact_name",
                    "contact_phone_masked",
                    "contact_email_masked",
                    "contact_reveal",
                ]
            },
        ),
        (
            gettext_lazy("分拨与办理"),
            {
                "fields": [
                    "bureau",
                    "officer",
                    "routing_rule",
                    "routing_explanation_text",
                    "suggested_category",
                    "category_confidence",
                    "category_disputed",
                    "classifier_version",
                    "merged_into",
                    "rejection_reason",
                    "reply",
                    "rating_level",
                    "reopen_count",
                    "extension_count",
                ]
            },
        ),
        (
            gettext_lazy("时限"),
            {
                "fields": [
                    "sign_for_due",
                    "return_due",
                    "first_contact_due",
                    "reply_due",
                    "paused_at",
                    "warned_at",
                    "urged_at",
                    "supervised_at",
                    "first_contact_urged_at",
                ]
            },
        ),
        (
            gettext_lazy("时间"),
            {
                "fields": [
                    "submitted_at",
                    "dispatched_at",
                    "signed_at",
                    "first_contact_at",
                    "replied_at",
                    "closed_at",
                    "updated_at",
                    "version",
                ]
            },
        ),
    ]
    actions = [
        "action_dispatch",
        "action_arbitrate",
        "action_reject",
        "action_merge",
        "action_sign_for",
        "action_return",
        "action_approve_reply",
        "action_send_back",
        "action_close_unrated",
    ]

    # Appeals are filed through the portal or the API and leave the workflow only through actions.
    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # The list (and its actions) yes; a single appeal's page is view-only: no Save button.
        return obj is None and super().has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return [
            f.name for f in Appeal._meta.concrete_fields if f.name not in ("id", "access_code_hash", "idempotency_key")
        ] + [
            "enterprise_now",
            "routing_explanation_text",
            "contact_phone_masked",
            "contact_email_masked",
            "contact_reveal",
        ]

    @admin.display(description=gettext_lazy("分拨说明"))
    def routing_explanation_text(self, obj: Appeal) -> str:
        """The stored routing decision in sentences (the console's wording), not its JSON."""
        sentences = explain_routing(obj.routing_explanation, text=f"{obj.title}\n{obj.description}")
        return format_html_join(mark_safe("<br>"), "{}", ((sentence,) for sentence in sentences))

    # --- Personal data: masked here, revealed on a separate page that logs the access ------------

    @admin.display(description=gettext_lazy("联系电话"))
    def contact_phone_masked(self, obj: Appeal) -> str:
        return validators.mask_phone(obj.contact_phone)

    @admin.display(description=gettext_lazy("电子邮箱"))
    def contact_email_masked(self, obj: Appeal) -> str:
        return validators.mask_email(obj.contact_email) or "—"

    @admin.display(description=gettext_lazy("完整联系方式"))
    def contact_reveal(self, obj: Appeal) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:appeals_appeal_contact", args=[obj.pk]),
            _("查看完整电话和邮箱（会记入个人信息查看记录）"),
        )

    def get_urls(self):
        extra = [
            path(
                "<path:object_id>/contact/",
                self.admin_site.admin_view(self.contact_view),
                name="appeals_appeal_contact",
            )
        ]
        return extra + super().get_urls()

    def contact_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET: confirm; POST: show the full phone and e-mail and log the access (like the console's 显示号码)."""
        appeal = self.get_object(request, object_id)
        if appeal is None:
            raise Http404(_("找不到这件诉求。"))
        if not self.has_view_permission(request, appeal):
            raise PermissionDenied
        contact = None
        if request.method == "POST":
            contact = services.appeal_contact_reveal_in_admin(appeal=appeal, user=request.user)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": appeal,
            "title": _("诉求人联系方式"),
            "appeal": appeal,
            "contact": contact,
            "masked_phone": validators.mask_phone(appeal.contact_phone),
            "masked_email": validators.mask_email(appeal.contact_email),
        }
        return TemplateResponse(request, "admin/appeals/contact_reveal.html", context)

    @admin.display(description=gettext_lazy("企业资料现状"))
    def enterprise_now(self, obj: Appeal) -> str:
        """The Enterprise record today, when it differs from what the appeal was filed with."""
        if not obj.enterprise_changed_since_filing:
            return _("与提交时相同")
        return _("已变更为：%(name)s（%(code)s）") % {"name": obj.enterprise.name, "code": obj.enterprise.credit_code}

    # Permission gates for showing actions; the services check each appeal again (bureau membership).
    def has_dispatch_permission(self, request) -> bool:
        return request.user.has_perm("appeals.dispatch_appeal")

    def has_handle_permission(self, request) -> bool:
        return request.user.has_perm("appeals.handle_appeal")

    def has_review_permission(self, request) -> bool:
        return request.user.has_perm("appeals.review_appeal")

    @admin.display(description=gettext_lazy("状态"), ordering="state")
    def state_label(self, appeal: Appeal) -> str:
        return format_html('<span class="state state--{}">{}</span>', appeal.state, appeal.get_state_display())

    @admin.display(description=gettext_lazy("答复时限"), ordering="reply_due")
    def reply_due_display(self, appeal: Appeal) -> str:
        if appeal.reply_due is None:
            return "—"
        due = timezone.localtime(appeal.reply_due).strftime("%Y-%m-%d %H:%M")
        if appeal.is_open and appeal.reply_due < timezone.now():
            return format_html('<strong style="color:#b3261e">{} {}</strong>', due, _("已超期"))
        return due

    @admin.action(description=gettext_lazy("派单（待分拨 → 已派单）"), permissions=["dispatch"])
    def action_dispatch(self, request, queryset):
        return self.with_form(
            request,
            queryset,
            action="action_dispatch",
            form_class=DispatchForm,
            title=_("派单"),
            help_text=_("把待分拨的诉求派给承办单位，签收和退单时限从现在开始计算。"),
            run=lambda a, data: services.appeal_dispatch(
                appeal_id=a.pk, user=request.user, bureau_id=data["bureau"].pk, note=data["note"]
            ),
            name=_tracking,
        )

    @admin.action(description=gettext_lazy("退单审核改派（退单待审核 → 已派单）"), permissions=["dispatch"])
    def action_arbitrate(self, request, queryset):
        return self.with_form(
            request,
            queryset,
            action="action_arbitrate",
            form_class=ArbitrateForm,
            title=_("退单审核"),
            help_text=_("退单理由成立就改派给正确的单位；不成立就选原单位，并在审核意见中说明理由。"),
            run=lambda a, data: services.appeal_arbitrate_return(
                appeal_id=a.pk, user=request.user, bureau_id=data["bureau"].pk, ruling=data["ruling"]
            ),
            name=_tracking,
        )

    @admin.action(description=gettext_lazy("不予受理"), permissions=["dispatch"])
    def action_reject(self, request, queryset):
        return self.with_form(
            request,
            queryset,
            action="action_reject",
            form_class=ReasonForm,
            title=_("不予受理"),
            help_text=_("理由会显示给诉求人，请写清楚原因以及可以去哪里解决。"),
            run=lambda a, data: services.appeal_reject(appeal_id=a.pk, user=request.user, reason=data["reason"]),
            name=_tracking,
        )

    @admin.action(description=gettext_lazy("并单"), permissions=["dispatch"])
    def action_merge(self, request, queryset):
        return self.with_form(
            request,
            queryset,
            action="action_merge",
            form_class=MergeForm,
            title=_("并单"),
            help_text=_("所选诉求并入主诉求，随主诉求一起办理和答复。"),
            run=lambda a, data: services.appeal_merge(
                appeal_id=a.pk, user=request.user, master_id=data["master"].pk, note=data["note"]
            ),
            name=_tracking,
        )

    @admin.action(description=gettext_lazy("签收（本单位）"), permissions=["handle"])
    def action_sign_for(self, request, queryset):
        self.run_each(
            request,
            queryset,
            lambda a: services.appeal_sign_for(appeal_id=a.pk, user=request.user),
            label=_("签收"),
            name=_tracking,
        )

    @admin.action(description=gettext_lazy("退单（本单位）"), permissions=["handle"])
    def action_return(self, request, queryset):
        return self.with_form(
            request,
            queryset,
            action="action_return",
            form_class=ReasonForm,
            title=_("退单"),
            help_text=_("说明为什么不属于本单位职责，分拨中心据此审核改派。只能在退单时限内退单。"),
            run=lambda a, data: services.appeal_return(appeal_id=a.pk, user=request.user, reason=data["reason"]),
            name=_tracking,
        )

    @admin.action(description=gettext_lazy("审核通过答复（本单位负责人）"), permissions=["review"])
    def action_approve_reply(self, request, queryset):
        self.run_each(
            request,
            queryset,
            lambda a: services.appeal_approve_reply(appeal_id=a.pk, user=request.user),
            label=_("审核通过"),
            name=_tracking,
        )

    @admin.action(description=gettext_lazy("退回修改答复（本单位负责人）"), permissions=["review"])
    def action_send_back(self, request, queryset):
        return self.with_form(
            request,
            queryset,
            action="action_send_back",
            form_class=ReasonForm,
            title=_("退回修改"),
            help_text=_("写明需要怎样修改，承办人会看到这段意见。"),
            run=lambda a, data: services.appeal_send_back(appeal_id=a.pk, user=request.user, reason=data["reason"]),
            name=_tracking,
        )

    @admin.action(description=gettext_lazy("逾期未评价的按默认评价办结"), permissions=["dispatch"])
    def action_close_unrated(self, request, queryset):
        self.run_each(
            request,
            queryset,
            lambda a: services.appeal_close_unrated(appeal_id=a.pk),
            label=_("默认评价办结"),
            name=_tracking,
        )


# --- Records that are never edited -----------------------------------------------------------------
