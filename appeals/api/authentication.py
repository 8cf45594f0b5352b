"""API-key authentication for channel partners: ``Authorization: ApiKey hy_<prefix>_<secret>``."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions, permissions

from appeals.api.models import ApiClient


class ApiClientPrincipal:
    """What ``request.user`` is for a partner's request: authenticated, but not a staff user."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    pk = None
    id = None

    def __init__(self, client: ApiClient) -> None:
        self.client = client

    def __str__(self) -> str:
        return f"api-client:{self.client.key_prefix}"

    def has_perm(self, *args, **kwargs) -> bool:
        return False

    def get_username(self) -> str:
        return str(self)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "ApiKey"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _sep, key = header.partition(" ")
        if scheme != self.keyword:
            return None
        key = key.strip()
        parts = key.split("_")
        if len(parts) < 3 or parts[0] != "hy":
            raise exceptions.AuthenticationFailed(_("API密钥格式不正确，应为 hy_<前缀>_<密钥>。"))
        client = ApiClient.objects.filter(key_prefix=parts[1], is_active=True).first()
        if client is None or not client.check_key(key):
            raise exceptions.AuthenticationFailed(_("API密钥无效或已停用，请联系平台管理员。"))
        now = timezone.now()
        # Write "last used" at most once a minute so a busy partner does not update the row per request.
        if client.last_used_at is None or now - client.last_used_at > timedelta(minutes=1):
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        return ApiClientPrincipal(client), client

    def authenticate_header(self, request) -> str:
        return self.keyword


class IsChannelPartner(permissions.BasePermission):
    """Only requests authenticated with an active partner API key."""

    message = _("需要渠道合作方的API密钥（请求头 Authorization: ApiKey …）。")

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ApiClient)
