"""Admin for system integrations: bureau credentials and webhook endpoints (secrets shown once),
the credential audit trail, webhook deliveries with the dead-letter retry, Open311 policies."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from appeals import permissions as perms
from integrations.models import (
    BureauCredential,
    CredentialUse,
    Open311Policy,
    Open311Request,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from integrations.webhooks import targets


def _show_secret_once(request: HttpRequest, obj: Any, *, label: str, secret: str, note: str) -> HttpResponse:
    return TemplateResponse(
        request,
        "integrations/admin/secret_once.html",
        {
            "title": _("请立即保存"),
            "object": obj,
            "label": label,
            "secret": secret,
            "note": note,
            "opts": obj._meta,
            "site_header": admin.site.site_header,
        },
    )


class BureauCredentialForm(forms.ModelForm):
    class Meta:
        model = BureauCredential
        fields = ("name", "bureau", "user", "is_active")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        bureau, user = data.get("bureau"), data.get("user")
        if bureau is not None and user is not None:
            if perms.user_bureau_id(user) != bureau.pk:
                raise ValidationError({"user": _("这位工作人员不属于所选的承办单位。")})
            if not user.has_perm("appeals.handle_appeal"):
                raise ValidationError({"user": _("这位工作人员没有办理诉求的权限（承办人或单位负责人）。")})
        return data


@admin.register(BureauCredential)
class BureauCredentialAdmin(admin.ModelAdmin):
    form = BureauCredentialForm
    list_display = ("name", "bureau", "user", "key_prefix", "is_active", "created_at", "last_used_at", "revoked_at")
    list_filter = ("is_active", "bureau")
    search_fields = ("name", "key_prefix", "bureau__name")
    readonly_fields = ("key_prefix", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        # A key's bureau and acting user are fixed once issued; issue a new key instead.
        return (*self.readonly_fields, "bureau", "user") if obj is not None else self.readonly_fields

    def save_model(self, request, obj: BureauCredential, form, change) -> None:
        if not change:
            prefix, key = BureauCredential.new_key()
            obj.set_key(key, prefix)
            request._new_integration_key = key  # type: ignore[attr-defined]
        if change and "is_active" in form.changed_data and not obj.is_active:
            obj.revoked_at = timezone.now()
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        key = getattr(request, "_new_integration_key", None)
        if key is None:
            return super().response_add(request, obj, post_url_continue)
        return _show_secret_once(
            request,
            obj,
            label=_("接口凭证"),
            secret=key,
            note=_(
                "凭证只显示这一次，平台只保存它的摘要。"
                "请交给承办单位系统的管理员，放在请求头 Authorization: Bearer <凭证> 中使用。"
            ),
        )

    @admin.action(description=_("停用所选凭证（立即生效）"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[BureauCredential]) -> None:
        count = queryset.filter(is_active=True).update(is_active=False, revoked_at=timezone.now())
        self.message_user(request, ngettext("已停用 %(n)d 个凭证。", "已停用 %(n)d 个凭证。", count) % {"n": count})


@admin.register(CredentialUse)
class CredentialUseAdmin(admin.ModelAdmin):
    list_display = ("created_at", "credential", "method", "path", "action", "appeal", "status_code", "remote_addr")
    list_filter = ("action", "status_code")
    search_fields = ("path", "credential__key_prefix", "appeal__tracking_number")
    list_select_related = ("credential", "appeal")
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("接收地址"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label=_("订阅的事件"),
        choices=WebhookEvent.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("都不勾选表示全部事件。"),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("bureau", "url", "events", "is_active", "allow_private_network")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        url = data.get("url")
        if url:
            try:
                targets.check_url(url, allow_private=bool(data.get("allow_private_network")))
            except ValidationError as exc:
                self.add_error("url", exc)
        if url and not settings.DEBUG and not url.startswith("https://") and not data.get("allow_private_network"):
            self.add_error("url", _("生产环境的接收地址必须使用 https://。"))
        return data


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("bureau", "url", "is_active", "allow_private_network", "created_at")
    list_filter = ("is_active", "bureau")
    search_fields = ("url", "bureau__name")

    def save_model(self, request, obj: WebhookEndpoint, form, change) -> None:
        if not change:
            obj.secret = WebhookEndpoint.new_secret()
            request._new_webhook_secret = obj.secret  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        secret = getattr(request, "_new_webhook_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        return _show_secret_once(
            request,
            obj,
            label=_("签名密钥"),
            secret=secret,
            note=_(
                "接收方用这个密钥校验 Huying-Webhook-Signature（HMAC-SHA256，见 docs/integrations.md）。"
                "这里只显示一次。"
            ),
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "event_type",
        "endpoint",
        "appeal",
        "status",
        "attempts",
        "last_status_code",
        "error",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("status", "event_type", "endpoint__bureau")
    search_fields = ("appeal__tracking_number", "last_error")
    list_select_related = ("endpoint", "appeal")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ["retry_now"]
    date_hierarchy = "created_at"

    @admin.display(description=_("最近错误"))
    def error(self, obj: WebhookDelivery) -> str:
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("重新推送所选的失败或已放弃的事件"), permissions=["change"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        S = WebhookDelivery.Status
        count = queryset.filter(status__in=[S.FAILED, S.DEAD]).update(
            status=S.PENDING, next_attempt_at=timezone.now(), claimed_until=None
        )
        from integrations.webhooks.fanout import kick

        kick()
        self.message_user(
            request,
            ngettext("已重新排队 %(n)d 个事件。", "已重新排队 %(n)d 个事件。", count) % {"n": count},
            messages.SUCCESS,
        )


@admin.register(Open311Policy)
class Open311PolicyAdmin(admin.ModelAdmin):
    list_display = ("client", "may_submit", "listing", "returns_token")
    list_filter = ("listing", "may_submit")


@admin.register(Open311Request)
class Open311RequestAdmin(admin.ModelAdmin):
    list_display = ("appeal", "client", "jurisdiction_id", "public_description", "created_at")
    list_select_related = ("appeal", "client")
    readonly_fields = [f.name for f in Open311Request._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
