"""Admin for enterprises: details editable, every change kept as a revision."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appeals import enterprise_history, services, validators
from appeals.models import (
    Enterprise,
    EnterpriseRevision,
)

if TYPE_CHECKING:
    # What ServiceActionsMixin is mixed into; at run time it is a plain mixin.
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = object
from appeals.admin.common import ReadOnlyInline


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
    fields = [
        "recorded_at",
        "source",
        "tracking_number",
        "name",
        "region",
        "industry",
        "size",
        "contact_name",
        "phone_masked",
    ]

    @admin.display(description=gettext_lazy("电话"))
    def phone_masked(self, obj: EnterpriseRevision) -> str:
        return validators.mask_phone(obj.phone)

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
    # Phone and e-mail are masked on the change page; ?reveal=1 shows (and lets admins edit) them,
    # and every such opening is logged in PiiAccessLog like the console's 显示号码.
    MASKED_FIELDS = ["phone_masked", "email_masked", "contact_reveal"]

    @staticmethod
    def _revealing(request) -> bool:
        return request.GET.get("reveal") == "1"

    def get_fields(self, request, obj=None):
        base = ["name", "credit_code", "region", "industry", "size", "contact_name"]
        if obj is None or self._revealing(request):
            return [*base, "phone", "email", "created_at", "updated_at"]
        return [*base, *self.MASKED_FIELDS, "created_at", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, *self.MASKED_FIELDS]

    @admin.display(description=gettext_lazy("电话"))
    def phone_masked(self, obj: Enterprise) -> str:
        return validators.mask_phone(obj.phone)

    @admin.display(description=gettext_lazy("电子邮箱"))
    def email_masked(self, obj: Enterprise) -> str:
        return validators.mask_email(obj.email) or "—"

    @admin.display(description=gettext_lazy("完整联系方式"))
    def contact_reveal(self, obj: Enterprise) -> str:
        url = reverse("admin:appeals_enterprise_change", args=[obj.pk]) + "?reveal=1"
        return format_html('<a href="{}">{}</a>', url, _("查看或修改完整电话和邮箱（会记入个人信息查看记录）"))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if self._revealing(request) and request.method == "GET":
            enterprise = self.get_object(request, object_id)
            if enterprise is not None and self.has_view_permission(request, enterprise):
                services.enterprise_contact_reveal_in_admin(enterprise=enterprise, user=request.user)
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change) -> None:
        super().save_model(request, obj, form, change)
        # The enterprise's history keeps what the admin changed (appeals keep what they were filed with).
        enterprise_history.record_revision(
            enterprise=obj, source=EnterpriseRevision.Source.ADMIN, changed_by=request.user
        )


# --- Appeal: read-only inlines ----------------------------------------------------------------------
