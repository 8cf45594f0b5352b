"""Admin for appeals and everything around them.

Appeals are never edited field by field here: every field is read-only (``state`` is a protected
FSM field anyway) and workflow changes are admin actions that call ``appeals.services``, so the
same permission checks, row locks, audit events and outbox rows apply as in the staff console.
Actions that need input (a reason, a bureau, the master appeal) show an intermediate form; the
result is reported per appeal: which succeeded, and for the others the service's own message.

Audit events, ratings and PII access logs are records of what happened: nobody, superusers
included, can add, change or delete them through the admin.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appeals import enterprise_history, services, validators
from appeals.models import (
    Appeal,
    AppealEvent,
    AppealMessage,
    Attachment,
    CannedReply,
    CoHandling,
    Enterprise,
    EnterpriseRevision,
    Extension,
    PiiAccessLog,
    Rating,
    TrackingSequence,
)
from routing.models import Bureau

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    # What ServiceActionsMixin is mixed into; at run time it is a plain mixin.
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = object

admin.site.site_header = gettext_lazy("呼应 Huying 管理后台")
admin.site.site_title = gettext_lazy("呼应管理后台")
admin.site.index_title = gettext_lazy("数据管理")


class ReadOnlyAdminMixin:
    """Viewable by those with the view permission; never added, changed or deleted in the admin."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields or [f.name for f in self.model._meta.concrete_fields]


# --- Enterprise -------------------------------------------------------------------------------------


class EnterpriseForm(forms.ModelForm):
    class Meta:
        model = Enterprise
        fields = ["name", "credit_code", "region", "industry", "size", "contact_name", "phone", "email"]

    def clean_credit_code(self) -> str:
        return validators.validate_credit_code(self.cleaned_data["credit_code"])

    def clean_phone(self) -> str:
        return validators.normalise_phone(self.cleaned_data["phone"])


class EnterpriseRevisionInline(ReadOnlyInline):
    model = EnterpriseRevision
    fields = ["recorded_at", "source", "tracking_number", "name", "region", "industry", "size", "contact_name", "phone"]
    ordering = ["-recorded_at", "-id"]
    verbose_name_plural = gettext_lazy("企业资料变更记录（新的在前）")


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin):
    form = EnterpriseForm
    list_display = ["name", "credit_code", "region", "industry", "size", "contact_name", "created_at"]
    list_filter = ["region", "industry", "size"]
    list_select_related = ["region"]
    search_fields = ["name", "=credit_code", "contact_name"]
    autocomplete_fields = ["region"]
    readonly_fields = ["created_at", "updated_at"]
    ordering = ["-created_at"]
    show_full_result_count = False
    inlines = [EnterpriseRevisionInline]

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        # The enterprise's history keeps what the admin changed (appeals keep what they were filed with).
        enterprise_history.record_revision(
            enterprise=obj, source=EnterpriseRevision.Source.ADMIN, changed_by=request.user
        )


# --- Appeal: read-only inlines ----------------------------------------------------------------------


class EventInline(ReadOnlyInline):
    model = AppealEvent
    fields = ["seq", "kind", "actor_kind", "actor_label", "from_state", "to_state", "reason", "created_at", "hash"]
    ordering = ["seq"]
    verbose_name_plural = gettext_lazy("办理记录（审计链，只读）")


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


def _bureau_field(label: StrOrPromise) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=Bureau.objects.filter(is_active=True).select_related("region", "bureau_type"),
        label=label,
        help_text=gettext_lazy("只能选择启用的承办单位。"),
    )


class DispatchForm(forms.Form):
    bureau = _bureau_field(gettext_lazy("派给承办单位"))
    note = forms.CharField(label=gettext_lazy("派单说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


class ArbitrateForm(forms.Form):
    bureau = _bureau_field(gettext_lazy("改派给（可选原单位）"))
    ruling = forms.CharField(
        label=gettext_lazy("审核意见"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": gettext_lazy("请填写审核意见，承办单位会看到这段话。")},
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("理由"),
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": gettext_lazy("请填写理由。")},
    )


class MergeForm(forms.Form):
    master = forms.CharField(
        label=gettext_lazy("并入的主诉求（受理编号）"),
        max_length=20,
        error_messages={"required": gettext_lazy("请填写主诉求的受理编号。")},
    )
    note = forms.CharField(label=gettext_lazy("并单说明"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def clean_master(self) -> Appeal:
        number = "".join(ch for ch in self.cleaned_data["master"] if ch.isdigit())
        master = Appeal.objects.filter(tracking_number=number).first()
        if master is None:
            raise ValidationError(_("找不到受理编号为 %(number)s 的诉求，请核对后重新填写。") % {"number": number})
        return master


class DecisionNoteForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("审批意见"), required=False, widget=forms.Textarea(attrs={"rows": 3}))


# --- Running services from actions ------------------------------------------------------------------


class ServiceActionsMixin(_ModelAdmin):
    """Run a service for each selected object and report successes and refusals one by one."""

    def run_each(self, request, objects, call: Callable, *, label: str, name: Callable = str) -> None:
        done: list[str] = []
        for obj in objects:
            try:
                result = call(obj)
            except services.AppealError as exc:
                level = messages.ERROR if exc.status == 403 else messages.WARNING
                self.message_user(request, f"{name(obj)}：{exc.message}", level)
                continue
            if result is None:
                self.message_user(
                    request,
                    _("%(name)s：现在还不能%(action)s。") % {"name": name(obj), "action": label},
                    messages.WARNING,
                )
                continue
            done.append(name(obj))
        if done:
            self.message_user(
                request,
                _("%(action)s成功 %(count)d 件：%(names)s")
                % {"action": label, "count": len(done), "names": "、".join(done)},
                messages.SUCCESS,
            )

    def with_form(
        self,
        request,
        queryset: QuerySet,
        *,
        action: str,
        form_class: type[forms.Form],
        title: str,
        help_text: str,
        run: Callable,
        name: Callable = str,
    ):
        """Show ``form_class`` for the selection; once it is valid, ``run(obj, cleaned_data)`` for each."""
        if "apply" in request.POST:
            form = form_class(request.POST)
            if form.is_valid():
                self.run_each(request, queryset, lambda obj: run(obj, form.cleaned_data), label=title, name=name)
                return None
        else:
            form = form_class()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "help": help_text,
            "form": form,
            "objects": list(queryset),
            "action": action,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "submit_label": title,
        }
        return TemplateResponse(request, "admin/appeals/transition_form.html", context)


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
                    "contact_phone",
                    "contact_email",
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
                    "routing_explanation",
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
        ] + ["enterprise_now"]

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


@admin.register(AppealEvent)
class AppealEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "appeal_number",
        "seq",
        "kind",
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
