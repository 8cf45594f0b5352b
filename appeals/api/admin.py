"""Channel partners' API keys in the admin: created here with the key shown exactly once, revoked by an action.

Only the key's SHA-256 is stored (``ApiClient.create_with_key``); after the confirmation page the key
cannot be shown again, so a lost key is revoked and a new client created.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from appeals.api.authentication import clear_client_cache
from appeals.api.models import ApiClient


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    list_display = ("name", "channel", "key_prefix", "is_active", "created_at", "last_used_at")
    list_filter = ("channel", "is_active")
    search_fields = ("name", "key_prefix")
    readonly_fields = ("key_prefix", "created_at", "last_used_at")
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "channel")
        return ("name", "channel", "is_active", "key_prefix", "created_at", "last_used_at")

    def save_model(self, request, obj: ApiClient, form, change) -> None:
        if not change:
            request._new_api_key = obj.assign_new_key()  # type: ignore[attr-defined]
        super().save_model(request, obj, form, change)

    def response_add(self, request: HttpRequest, obj: ApiClient, post_url_continue=None) -> HttpResponse:
        key = getattr(request, "_new_api_key", None)
        if key is None:
            return super().response_add(request, obj, post_url_continue)
        return TemplateResponse(
            request,
            "integrations/admin/secret_once.html",
            {
                **self.admin_site.each_context(request),
                "title": _("请立即保存"),
                "object": obj,
                "label": _("API密钥"),
                "secret": key,
                "note": _(
                    "密钥只显示这一次，平台只保存它的摘要，之后无法再查看。"
                    "请交给渠道合作方，放在请求头 Authorization: ApiKey <密钥> 中使用；遗失后请停用并重新创建。"
                ),
                "opts": obj._meta,
            },
        )

    @admin.action(description=_("停用所选API密钥（立即生效）"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        count = queryset.filter(is_active=True).update(is_active=False)
        clear_client_cache()  # update() sends no post_save: drop this process's cached keys now
        self.message_user(
            request, ngettext("已停用 %(n)d 个API密钥。", "已停用 %(n)d 个API密钥。", count) % {"n": count}
        )
