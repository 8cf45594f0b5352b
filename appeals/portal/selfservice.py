"""Enterprise self-service (我的企业诉求): see every appeal filed with a phone after an SMS code,
get a new access code the same way, and open an appeal from a signed link in an SMS or e-mail.

No accounts and no passwords: a verified contact phone earns this browser session a grant for
``SELF_SERVICE["GRANT_SECONDS"]`` (``appeals.portal.session``). What a phone proves, and why, is
explained in ``appeals.services.selfservice``. Sending codes is limited per phone number and per
client address; wrong codes lock verification per number and per address (``PORTAL_RATE_LIMITS``
``otp_*``). Every answer about a number is the same whether or not it belongs to an appeal.
The code is never logged, never shown, and never stored in clear.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from appeals import services, validators
from appeals.portal import limits
from appeals.portal import session as portal_session
from appeals.portal.forms import CodeForm, PhoneForm
from appeals.selectors import selfservice as selectors
from appeals.services import selfservice
from notifications import links

logger = logging.getLogger(__name__)

START_TEMPLATE = "portal/selfservice_start.html"
VERIFY_TEMPLATE = "portal/selfservice_verify.html"


def _limited(request, template: str, form, message: str, wait: int, context: dict | None = None) -> HttpResponse:
    form.add_error(None, message)
    response = render(request, template, {"form": form, "nav": "mine", **(context or {})}, status=429)
    response["Retry-After"] = str(wait)
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def start(request):
    """Ask for the contact phone (and optionally the credit code); text a code if it is an appeal's."""
    if request.method != "POST":
        if portal_session.phone_grant(request):
            return redirect("portal:my_appeals")
        return render(request, START_TEMPLATE, _start_context(PhoneForm()))
    form = PhoneForm(request.POST)
    for name in ("otp_send_ip", "otp_send_ip_day"):
        wait = limits.wait_seconds(request, name=name)
        if wait:
            form.is_valid()
            return _limited(request, START_TEMPLATE, form, limits.message(wait), wait, _start_context(form))
    if not form.is_valid():
        return render(request, START_TEMPLATE, _start_context(form), status=400)
    phone = form.cleaned_data["contact_phone"]
    credit_code = form.cleaned_data["credit_code"]
    digest = selfservice.phone_digest(phone)
    for name in ("otp_send_phone", "otp_send_phone_day"):
        wait = limits.wait_seconds(request, name=name, value=digest)
        if wait:
            return _limited(request, START_TEMPLATE, form, _phone_limit_message(wait), wait, _start_context(form))
    challenge = selfservice.phone_challenge_start(
        phone=phone,
        credit_code=credit_code,
        ip=limits.client_address(request) or None,
        language=get_language() or settings.LANGUAGE_CODE,
    )
    portal_session.remember_challenge(request, challenge.pk, phone, credit_code)
    return redirect("portal:my_verify")


def _start_context(form) -> dict:
    return {"form": form, "nav": "mine", "ttl_minutes": max(1, int(settings.SELF_SERVICE["CODE_TTL_SECONDS"]) // 60)}


def _phone_limit_message(wait: int) -> str:
    return _("这个号码获取验证码的次数已达上限。") + limits.message(wait)


def _verify_context(form, pending: dict) -> dict:
    return {
        "form": form,
        "nav": "mine",
        "masked_phone": validators.mask_phone(pending["phone"]),
        "minutes": max(1, int(settings.SELF_SERVICE["CODE_TTL_SECONDS"]) // 60),
    }


VERIFY_MESSAGES = {
    "expired": lambda: _("验证码已过期，请重新获取。"),
    "used": lambda: _("这个验证码已经用过了，请重新获取。"),
    "exhausted": lambda: _("这个验证码输错的次数太多，已经失效。请重新获取验证码。"),
}


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request):
    """Take the code; a right one opens the list of the phone's appeals for this session."""
    pending = portal_session.pending_challenge(request)
    if not pending:
        messages.info(request, _("请先填写联系电话获取验证码。"))
        return redirect("portal:my_start")
    if request.method != "POST":
        return render(request, VERIFY_TEMPLATE, _verify_context(CodeForm(), pending))
    form = CodeForm(request.POST)
    digest = selfservice.phone_digest(pending["phone"])
    for name, value in (("otp_fail_phone", digest), ("otp_fail_ip", None)):
        wait = limits.locked_seconds(request, name=name, value=value)
        if wait:
            form.is_valid()
            return _limited(
                request, VERIFY_TEMPLATE, form, limits.lockout_message(wait), wait, _verify_context(form, pending)
            )
    if not form.is_valid():
        return render(request, VERIFY_TEMPLATE, _verify_context(form, pending), status=400)
    result = selfservice.phone_challenge_verify(
        challenge_id=pending["id"], phone=pending["phone"], code=form.cleaned_data["code"]
    )
    if result.ok:
        portal_session.grant_phone(
            request, pending["phone"], pending["credit_code"], int(settings.SELF_SERVICE["GRANT_SECONDS"])
        )
        logger.info("Self-service: a phone was verified (challenge %s).", pending["id"])
        return redirect("portal:my_appeals")
    if result.outcome == "wrong":
        limits.count_failure(request, name="otp_fail_phone", value=digest)
        limits.count_failure(request, name="otp_fail_ip")
        if result.attempts_left > 0:
            form.add_error(
                "code",
                _("验证码不正确，还可以再试%(left)d次。请对照最新一条短信填写。") % {"left": result.attempts_left},
            )
        else:
            form.add_error(None, VERIFY_MESSAGES["exhausted"]())
    else:
        form.add_error(None, VERIFY_MESSAGES[result.outcome]())
    return render(request, VERIFY_TEMPLATE, {**_verify_context(form, pending), "retry": True}, status=400)


def _need_grant(request) -> HttpResponse:
    messages.info(request, _("请先验证联系电话（验证有效期已过或尚未验证）。"))
    return redirect("portal:my_start")


@never_cache
def my_appeals(request):
    """Every appeal filed with the verified phone, each opening its tracking page; sign-out button."""
    grant = portal_session.phone_grant(request)
    if not grant:
        return _need_grant(request)
    rows = selectors.appeals_for_verified_phone(phone=grant["phone"], credit_code=grant["credit_code"])
    return render(
        request,
        "portal/selfservice_list.html",
        {
            "rows": rows,
            "masked_phone": validators.mask_phone(grant["phone"]),
            "credit_code": grant["credit_code"],
            "expires": grant["expires"],
            "nav": "mine",
        },
    )


@never_cache
@require_POST
def new_access_code(request, tracking_number: str):
    """Issue a new access code for one of the verified phone's appeals and text it to that phone."""
    grant = portal_session.phone_grant(request)
    if not grant:
        return _need_grant(request)
    appeal = selectors.appeal_for_verified_phone(
        tracking_number=tracking_number, phone=grant["phone"], credit_code=grant["credit_code"]
    )
    if appeal is None:
        messages.error(request, _("找不到这件诉求，或它的联系电话不是您验证的号码。"))
        return redirect("portal:my_appeals")
    wait = limits.wait_seconds(request, name="recover_ip")
    if wait:
        messages.error(request, limits.message(wait))
        return redirect("portal:my_appeals")
    try:
        services.appeal_reset_access_code(
            appeal_id=appeal.pk, verified_phone=grant["phone"], language=get_language() or settings.LANGUAGE_CODE
        )
    except services.AppealError as exc:
        messages.error(request, exc.message)
        return redirect("portal:my_appeals")
    portal_session.forget_access(request, appeal.tracking_number)
    portal_session.forget_link(request, appeal.tracking_number)
    messages.success(
        request,
        _("诉求 %(number)s 的新查询码已通过短信发送到 %(phone)s。原查询码和之前短信、邮件里的链接已失效。")
        % {"number": appeal.tracking_number, "phone": validators.mask_phone(grant["phone"])},
    )
    return redirect("portal:my_appeals")


@require_POST
def sign_out(request):
    """End self-service in this browser (shared or public computers)."""
    portal_session.end_self_service(request)
    messages.info(request, _("已退出。再次查看需要重新获取短信验证码。"))
    return redirect("portal:my_start")


@never_cache
def open_link(request, token: str):
    """A signed link from an SMS or e-mail: open the appeal, or explain why not and offer the SMS code."""
    try:
        target = links.read_token(token)
    except links.LinkExpired:
        return _link_problem(request, "expired")
    except links.LinkInvalid:
        return _link_problem(request, "invalid")
    appeal = selectors.appeal_for_link(appeal_id=target.appeal_id, access_version=target.access_version)
    if appeal is None:
        return _link_problem(request, "revoked")
    portal_session.remember_link(request, appeal.tracking_number, target.access_version)
    return redirect("portal:status", tracking_number=appeal.tracking_number)


def _link_problem(request, reason: str) -> HttpResponse:
    status = 400 if reason == "invalid" else 410
    context = {"reason": reason, "days": settings.SELF_SERVICE["LINK_MAX_AGE_DAYS"], "nav": "mine"}
    return render(request, "portal/link_problem.html", context, status=status)
