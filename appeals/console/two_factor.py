"""Two-step login for staff: a TOTP authenticator app (django-otp), required for administrators.

Any staff member may enrol on ``/staff/2fa/``; from then on the login form asks for the 6-digit code
as well. Administrators (superusers and users who can open the admin site) must enrol: until their
session is verified, every page except the enrolment page and logout sends them there. The QR code
is drawn on the server as SVG (``qrcode``), so no script or third-party service sees the secret.
Wrong codes are throttled by django-otp (growing delays per device).
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

import qrcode
import qrcode.image.svg
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from appeals.console.common import role_home
from appeals.console.forms import StaffLoginForm


def two_factor_required(user: Any) -> bool:
    """Administrators must use two-step login (``TWO_FACTOR_REQUIRED_FOR_ADMINS``, on by default)."""
    return bool(settings.TWO_FACTOR_REQUIRED_FOR_ADMINS and (user.is_superuser or user.is_staff))


def confirmed_device(user: Any) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-id").first()


class TwoFactorLoginForm(StaffLoginForm):
    """The staff login form, plus the authenticator code for accounts that have enrolled."""

    otp_token = forms.CharField(
        label=gettext_lazy("动态验证码"),
        required=False,
        max_length=8,
        help_text=gettext_lazy("开启了两步验证的账号填写验证器App上的6位数字，其他账号留空。"),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    otp_device: TOTPDevice | None = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        user = self.get_user()
        device = confirmed_device(user) if user is not None else None
        if device is None:
            return cleaned
        token = "".join(ch for ch in cleaned.get("otp_token", "") if ch.isdigit())
        if not token:
            raise forms.ValidationError(
                _("这个账号开启了两步验证，请在“动态验证码”中填写验证器App上显示的6位数字。"), code="otp_required"
            )
        if not device.verify_token(token):
            raise forms.ValidationError(
                _("动态验证码不正确或已过期。请核对手机时间是否准确，等下一个验证码出现后再输入；多次输错需等待更久。"),
                code="otp_invalid",
            )
        self.otp_device = device
        return cleaned


def mark_verified(request: HttpRequest, form: Any) -> None:
    """After a login with a verified code, record the device on the session (django-otp)."""
    device = getattr(form, "otp_device", None)
    if device is not None:
        otp_login(request, device)


class EnrolForm(forms.Form):
    token = forms.CharField(label=gettext_lazy("验证器上的6位数字"), max_length=8)


def _qr_svg(uri: str) -> str:
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=20)
    return image.to_string(encoding="unicode")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    """Show a new authenticator secret as a QR code; confirm it with one code from the app."""
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name=_("验证器App"), confirmed=False)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = "".join(ch for ch in form.cleaned_data["token"] if ch.isdigit())
        if device.verify_token(token):
            # One authenticator per person: the new one replaces any earlier device.
            TOTPDevice.objects.filter(user=request.user).exclude(pk=device.pk).delete()
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            messages.success(request, _("两步验证已开启。以后登录时，除了密码还要输入验证器App上的动态码。"))
            return redirect(role_home(request.user) or settings.LOGIN_REDIRECT_URL)
        form.add_error("token", _("验证码不正确。请确认扫描的是本页的二维码，并输入App上当前显示的6位数字。"))
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return render(
        request,
        "console/two_factor_enrol.html",
        {
            "form": form,
            # Our own SVG markup from the qrcode library (no user input in it).
            "qr_svg": mark_safe(_qr_svg(device.config_url)),  # noqa: S308
            "secret": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
            "required": two_factor_required(request.user),
            "enrolled": confirmed_device(request.user) is not None,
        },
        status=400 if form.errors else 200,
    )


class RequireTwoFactorMiddleware:
    """Administrators without a verified session reach only enrolment and logout.

    Place after django_otp's OTPMiddleware (which provides ``request.user.is_verified``).
    """

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and two_factor_required(user) and not user.is_verified():
            allowed = (reverse("two_factor_enrol"), reverse("logout"), settings.STATIC_URL, "/i18n/")
            if not request.path.startswith(allowed):
                if confirmed_device(user) is not None:
                    # Enrolled, but this session never gave a code: log in again with one.
                    logout(request)
                    messages.info(request, _("管理员账号需要两步验证，请输入密码和动态验证码重新登录。"))
                    return redirect(f"{reverse('login')}?next={quote(request.path)}")
                messages.info(request, _("管理员账号必须开启两步验证。请用手机上的验证器App扫描二维码完成设置。"))
                return redirect("two_factor_enrol")
        return self.get_response(request)
