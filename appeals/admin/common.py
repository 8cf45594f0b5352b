"""What the appeals admin pages share: read-only mixins and inlines, and service actions with forms."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from appeals import services
from appeals.models import (
    Appeal,
)
from routing.models import Bureau

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    # What ServiceActionsMixin is mixed into; at run time it is a plain mixin.
    _ModelAdmin = admin.ModelAdmin[Any]
else:
    _ModelAdmin = object


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
