"""Bureau credentials: ``Authorization: Bearer hyb_<prefix>_<secret>``.

The request runs as the credential's staff user (``request.user``) with the credential as
``request.auth``; ``IsBureauSystem`` also checks that the user still belongs to the credential's
bureau, so moving a person to another bureau cannot carry a key's reach along.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions, permissions

from appeals import permissions as perms
from integrations.models import BureauCredential

KEYWORD = "Bearer"


class BureauCredentialAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _sep, key = header.partition(" ")
        if scheme != KEYWORD:
            return None
        key = key.strip()
        parts = key.split("_")
        if len(parts) < 3 or parts[0] != "hyb":
            raise exceptions.AuthenticationFailed(_("接口凭证格式不正确，应为 hyb_<前缀>_<密钥>。"))
        credential = (
            BureauCredential.objects.select_related("user", "user__staff_profile", "bureau")
            .filter(key_prefix=parts[1], is_active=True)
            .first()
        )
        if credential is None or not credential.check_key(key):
            raise exceptions.AuthenticationFailed(_("接口凭证无效或已停用，请联系平台管理员。"))
        if not credential.user.is_active:
            raise exceptions.AuthenticationFailed(_("接口凭证代表的工作人员账号已停用。"))
        now = timezone.now()
        if credential.last_used_at is None or now - credential.last_used_at > timedelta(minutes=1):
            BureauCredential.objects.filter(pk=credential.pk).update(last_used_at=now)
            credential.last_used_at = now
        return credential.user, credential

    def authenticate_header(self, request) -> str:
        return KEYWORD


class IsBureauSystem(permissions.BasePermission):
    """Only a bureau credential whose staff user still works in that bureau."""

    message = _("需要承办单位的接口凭证（请求头 Authorization: Bearer hyb_…）。")

    def has_permission(self, request, view) -> bool:
        credential = request.auth
        if not isinstance(credential, BureauCredential):
            return False
        if perms.user_bureau_id(request.user) != credential.bureau_id:
            self.message = _("接口凭证代表的工作人员已不属于该承办单位，请管理员重新配置。")
            return False
        return True
