"""Admin for enterprises: details editable, every change kept as a revision."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy

from appeals import enterprise_history, validators
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
