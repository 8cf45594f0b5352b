"""API-key authentication for channel partners: ``Authorization: ApiKey hy_<prefix>_<secret>``."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db.models.signals import post_delete, post_save
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
        client = active_client(parts[1])
        if client is None or not client.check_key(key):
            raise exceptions.AuthenticationFailed(_("API密钥无效或已停用，请联系平台管理员。"))
        now = timezone.now()
        # Write "last used" at most once a minute so a busy partner does not update the row per request.
        if client.last_used_at is None or now - client.last_used_at > timedelta(minutes=1):
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
            client.last_used_at = now
        return ApiClientPrincipal(client), client

    def authenticate_header(self, request) -> str:
        return self.keyword


# Active clients by key prefix, kept per process for API_CLIENT_CACHE_SECONDS (default 10): a
# partner's every request would otherwise read its row. Saving or deleting a client clears this
# process's copy at once; other processes see a deactivated key within that many seconds.
_clients: dict[str, tuple[float, ApiClient | None]] = {}
_clients_lock = threading.Lock()


def active_client(prefix: str) -> ApiClient | None:
    ttl = getattr(settings, "API_CLIENT_CACHE_SECONDS", 10)
    now = time.monotonic()
    with _clients_lock:
        cached = _clients.get(prefix)
    if cached is not None and now - cached[0] < ttl:
        return cached[1]
    client = ApiClient.objects.filter(key_prefix=prefix, is_active=True).first()
    if ttl > 0:
        with _clients_lock:
            if len(_clients) > 1000:  # unknown prefixes must not grow this without bound
                _clients.clear()
            _clients[prefix] = (now, client)
    return client


def clear_client_cache(**kwargs) -> None:
    with _clients_lock:
        _clients.clear()


post_save.connect(clear_client_cache, sender=ApiClient, dispatch_uid="api.clients.save")
post_delete.connect(clear_client_cache, sender=ApiClient, dispatch_uid="api.clients.delete")


class IsChannelPartner(permissions.BasePermission):
    """Only requests authenticated with an active partner API key."""

    message = _("需要渠道合作方的API密钥（请求头 Authorization: ApiKey …）。")

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, ApiClient)
