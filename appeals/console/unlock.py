"""The way back for a locked-out staff member: an unlock link by e-mail (here), or an administrator's
reset (the user list's "解除所选账号的登录锁定" action in routing/admin.py).

Lockouts count failures per username *and* client address (settings.AXES_LOCKOUT_PARAMETERS), so a
stranger cannot lock someone out of their own desk; these paths cover the rest (the person locked
themselves out, or an attacker shares their network). The e-mail link carries Django's
password-reset token, which stops working at the account's next login or password change and after
``PASSWORD_RESET_TIMEOUT``; asking for it answers the same whether or not the account exists.
"""

from __future__ import annotations

import logging
from typing import Any

from axes.utils import reset as axes_reset
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from appeals.portal import limits

logger = logging.getLogger(__name__)


class UnlockRequestForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("用户名"), max_length=150)


def unlock_user(user: Any) -> int:
    """Clear every recorded login failure of ``user`` (all addresses); return how many were cleared."""
    return int(axes_reset(username=user.get_username()) or 0)


@never_cache
@require_POST
def unlock_request(request: HttpRequest) -> HttpResponse:
    """Send an unlock link to the account's e-mail address (same answer whether it exists or not)."""
    form = UnlockRequestForm(request.POST)
    wait = limits.wait_seconds(request, name="unlock_ip")
    if wait:
        return render(request, "console/unlock_sent.html", {"error": limits.message(wait)}, status=429)
    if form.is_valid():
        user = (
            get_user_model()
            .objects.filter(username=form.cleaned_data["username"], is_active=True)
            .exclude(email="")
            .first()
        )
        if user is not None:
            uid = urlsafe_base64_encode(force_bytes(user.pk))
            link = settings.SITE_URL + reverse(
                "unlock_confirm", kwargs={"uidb64": uid, "token": default_token_generator.make_token(user)}
            )
            hours = max(1, settings.PASSWORD_RESET_TIMEOUT // 3600)
            body = _(
                "有人（可能是您）请求解除账号 %(username)s 的登录锁定。"
                "如果是您本人，请在%(hours)d小时内打开下面的链接：\n\n%(link)s\n\n"
                "如果不是您本人，请忽略这封邮件，并告诉本单位的系统管理员。"
            ) % {"username": user.get_username(), "hours": hours, "link": link}
            try:
                send_mail(_("【呼应】解除登录锁定"), body, None, [user.email])
            except Exception:
                logger.exception("Could not send the unlock e-mail for user %s", user.pk)
    return render(request, "console/unlock_sent.html", {})


def _user_for(uidb64: str, token: str) -> Any:
    try:
        pk = urlsafe_base64_decode(uidb64).decode()
        user = get_user_model().objects.filter(pk=pk, is_active=True).first()
    except (ValueError, UnicodeDecodeError):
        user = None
    if user is None or not default_token_generator.check_token(user, token):
        return None
    return user


@never_cache
@require_http_methods(["GET", "POST"])
def unlock_confirm(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """Confirm (GET) and clear (POST) the lockout; mail scanners that open links do not unlock."""
    user = _user_for(uidb64, token)
    if user is None:
        raise Http404(_("解锁链接无效或已过期。请在锁定页面重新申请。"))
    if request.method == "POST":
        unlock_user(user)
        messages.success(request, _("账号已解除锁定，请重新登录。忘记密码的，请联系本单位的系统管理员重置。"))
        return redirect("login")
    return render(request, "console/unlock_confirm.html", {"username": user.get_username()})
