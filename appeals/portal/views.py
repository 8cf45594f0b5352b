"""Views of the public portal: file an appeal, see the confirmation, look it up, follow and act on it.

Views parse and validate, call one service or selector, and render. Appellants are identified
by tracking number + access code (kept in their session after a submit or lookup, see
``appeals.portal.session``), never by a login.
"""

from __future__ import annotations

import logging
import uuid

from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from appeals import presenters, selectors, services
from appeals.models import OPEN_STATES, Appeal, AppealState, Attachment, RatingLevel
from appeals.portal import limits
from appeals.portal import session as portal_session
from appeals.portal.forms import AppealForm, LookupForm, RatingForm, SupplementForm, WithdrawForm
from appeals.portal.uploads import safe_name
from appeals.selectors import selfservice as selfservice_selectors
from notifications import links
from routing.decisions import routing_table
from routing.models import Category

logger = logging.getLogger(__name__)


def _limited(request, form, template: str, wait: int, context: dict | None = None) -> HttpResponse:
    form.add_error(None, limits.message(wait))
    response = render(request, template, {"form": form, **(context or {})}, status=429)
    response["Retry-After"] = str(wait)
    return response


def _files_to_reselect(request, form) -> list[str]:
    """Names of files the browser sent with a form that failed: the user must choose them again."""
    if not form.errors:
        return []
    return [safe_name(f.name) for f in request.FILES.getlist("attachments")]


def _submit_context(form, reselect: list[str] | None = None) -> dict:
    def category_choices() -> list:  # called by the template only when it renders the fields
        return list(zip(form["category"], form.fields["category"].queryset, strict=False))

    return {
        "form": form,
        "category_choices": category_choices,
        "reselect": reselect or [],
        "nav": "submit",
        # An empty form looks the same to every visitor: its fields (about two thirds of the
        # page's rendering time) are cached for as long as the lists they show are unchanged.
        "fields_cache_key": None if form.is_bound else _unbound_fields_key(),
    }


def _unbound_fields_key() -> str:
    return ":".join(
        str(part) for part in (routing_table().generation, settings.ATTACHMENT_MAX_FILES, settings.ATTACHMENT_MAX_BYTES)
    )


@never_cache
@require_http_methods(["GET", "POST"])
def submit(request):
    """The public appeal form (GET) and its submission (POST)."""
    template = "portal/submit.html"
    if request.method != "POST":
        return render(request, template, _submit_context(AppealForm()))
    form = AppealForm(request.POST, request.FILES)
    if form.honeypot_filled:
        logger.info("Honeypot field filled in; submission dropped.")
        form.is_valid()
        form.add_error(None, _("提交没有成功。请刷新页面，只填写页面上显示的项目后再提交。"))
        return render(request, template, _submit_context(form), status=400)
    wait = limits.wait_seconds(request, name="submit_ip")
    if wait:
        form.is_valid()
        return _limited(request, form, template, wait, _submit_context(form, _files_to_reselect(request, form)))
    if not form.is_valid():
        return render(request, template, _submit_context(form, _files_to_reselect(request, form)), status=400)
    data = form.cleaned_data
    wait = limits.wait_seconds(
        request, name="submit_credit_code", value=f"{data['credit_code']}:{data['contact_phone']}"
    )
    if wait:
        context = _submit_context(form, [safe_name(f.name) for f in data["attachments"]])
        return _limited(request, form, template, wait, context)
    token = data["idempotency_token"]
    submission = form.submission()
    try:
        result = services.appeal_submit(submission=submission)
    except services.DuplicateSubmission:
        return redirect("portal:confirmation", token=token)
    except services.AppealError as exc:
        form.add_error(None, exc.message)
        context = _submit_context(form, [safe_name(f.name) for f in data["attachments"]])
        return render(request, template, context, status=exc.status)
    portal_session.remember_confirmation(request, str(token), result.appeal.tracking_number, result.access_code)
    return redirect("portal:confirmation", token=token)


# A double click lands here before the request that saved the appeal has written the session: the
# page then asks the browser to come back (meta refresh) up to this many times, a second apart,
# instead of holding a server worker while it waits.
CONFIRMATION_RECHECKS = 5


@never_cache
def confirmation(request, token: uuid.UUID):
    """Tracking number and access code, shown large with copy buttons, and what happens next."""
    found = portal_session.confirmation_for(request, str(token))
    if found is None:
        appeal = Appeal.objects.filter(idempotency_key=token).only("tracking_number").first()
        if appeal is None:
            raise Http404
        try:
            attempt = max(0, int(request.GET.get("recheck", "0")))
        except ValueError:
            attempt = 0
        if attempt < CONFIRMATION_RECHECKS:
            next_url = f"{reverse('portal:confirmation', kwargs={'token': token})}?recheck={attempt + 1}"
            return render(request, "portal/confirmation_pending.html", {"next_url": next_url})
        # Submitted, but from another browser session: the code was shown there, never again.
        return render(request, "portal/already_submitted.html", {"tracking_number": appeal.tracking_number})
    appeal = selectors.appeal_get_for_appellant(
        tracking_number=found["tracking_number"], access_code=found["access_code"]
    )
    if appeal is None:
        raise Http404
    return render(
        request,
        "portal/confirmation.html",
        {
            "appeal": appeal,
            "access_code": found["access_code"],
            "expected_reply_by": presenters.expected_reply_by(appeal),
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def lookup(request):
    """Find an appeal by tracking number + access code; one generic message for any wrong pair."""
    template = "portal/lookup.html"
    if request.method != "POST":
        return render(request, template, {"form": LookupForm(), "nav": "track"})
    form = LookupForm(request.POST)
    wait = limits.wait_seconds(request, name="lookup_ip")
    if wait:
        form.is_valid()
        return _limited(request, form, template, wait, {"nav": "track"})
    if not form.is_valid():
        return render(request, template, {"form": form, "nav": "track"}, status=400)
    appeal = selectors.appeal_get_for_appellant(
        tracking_number=form.cleaned_data["tracking_number"], access_code=form.cleaned_data["access_code"]
    )
    if appeal is None:
        form.add_error(
            None,
            _("受理编号或查询码不正确。请对照提交成功页面或邮件逐位核对；查询码不区分大小写，不含数字0和1、字母O和I。"),
        )
        return render(request, template, {"form": form, "nav": "track"}, status=400)
    portal_session.remember_access(request, appeal.tracking_number, form.cleaned_data["access_code"].strip().upper())
    return redirect("portal:status", tracking_number=appeal.tracking_number)


def _appeal_from_session(request, tracking_number: str) -> tuple[Appeal | None, str | services.OwnerProof]:
    """The appeal this session may open, and the authority the services need for its actions.

    Three ways in, each re-checked on every request: the access code (lookup or confirmation), a
    signed link from an SMS or e-mail (while the access code it was made for is current), or a
    verified contact phone (enterprise self-service, while the grant lasts).
    """
    code = portal_session.access_code_for(request, tracking_number)
    if code:
        appeal = selectors.appeal_get_for_appellant(tracking_number=tracking_number, access_code=code)
        if appeal is not None:
            return appeal, code
    version = portal_session.link_version_for(request, tracking_number)
    if version:
        appeal = selfservice_selectors.appeal_for_link(tracking_number=tracking_number, access_version=version)
        if appeal is not None:
            return appeal, services.OwnerProof(appeal_id=appeal.pk, access_version=version)
        portal_session.forget_link(request, tracking_number)
    grant = portal_session.phone_grant(request)
    if grant:
        appeal = selfservice_selectors.appeal_for_verified_phone(
            tracking_number=tracking_number, phone=grant["phone"], credit_code=grant["credit_code"]
        )
        if appeal is not None:
            proof = services.OwnerProof(
                appeal_id=appeal.pk, access_version=links.access_version(appeal.access_code_hash)
            )
            return appeal, proof
    return None, ""


def _need_lookup(request) -> HttpResponse:
    messages.info(request, _("请输入受理编号和查询码查看诉求。"))
    return redirect("portal:lookup")


def _status_context(appeal: Appeal, **forms) -> dict:
    label, due = presenters.current_deadline(appeal)
    files = presenters.visible_attachments(appeal)
    events = selectors.appeal_events(appeal=appeal)
    supplements = presenters.appellant_supplements(appeal, files["mine"])
    sent_with_supplements = {file.pk for supplement in supplements for file in supplement.files}
    context = {
        "appeal": appeal,
        "timeline": presenters.timeline(appeal, events),
        "deadline_label": label,
        "deadline": due,
        "my_files": [file for file in files["mine"] if file.pk not in sent_with_supplements],
        "my_supplements": supplements,
        "reply_files": files["replies"],
        "can_supplement": appeal.state in OPEN_STATES,
        "can_withdraw": appeal.state in OPEN_STATES,
        "can_rate": appeal.state == AppealState.REPLIED,
        "can_follow_up": selectors.followup_allowed(appeal),
        "reopened": appeal.reopen_count > 0 and appeal.state in OPEN_STATES,
        "rating_levels": RatingLevel,
        "supplement_form": forms.get("supplement_form") or SupplementForm(),
        "rating_form": forms.get("rating_form") or RatingForm(),
        "followup_form": forms.get("followup_form") or RatingForm(prefix="followup"),
        "nav": "track",
    }
    return context


@never_cache
def status(request, tracking_number: str):
    """The appellant's page for one appeal: timeline, deadline, reply, files, bureau, actions."""
    appeal, _code = _appeal_from_session(request, tracking_number)
    if appeal is None:
        return _need_lookup(request)
    context = _status_context(appeal)
    context["self_service"] = portal_session.phone_grant(request) is not None
    return render(request, "portal/status.html", context)


def _action_guard(request, tracking_number: str):
    appeal, code = _appeal_from_session(request, tracking_number)
    if appeal is None:
        return None, code, _need_lookup(request)
    wait = limits.wait_seconds(request, name="action_ip")
    if wait:
        messages.error(request, limits.message(wait))
        response = redirect("portal:status", tracking_number=tracking_number)
        return None, code, response
    return appeal, code, None


def _service_error(request, appeal: Appeal, exc: services.AppealError) -> HttpResponse:
    messages.error(request, exc.message)
    return redirect("portal:status", tracking_number=appeal.tracking_number)


@never_cache
@require_POST
def supplement(request, tracking_number: str):
    """Add a supplementary message (with files) while the appeal is being handled."""
    appeal, _code, response = _action_guard(request, tracking_number)
    if response is not None:
        return response
    form = SupplementForm(request.POST, request.FILES)
    if not form.is_valid():
        context = _status_context(appeal, supplement_form=form)
        context["reselect"] = _files_to_reselect(request, form)
        return render(request, "portal/status.html", context, status=400)
    try:
        services.appeal_add_message(
            appeal_id=appeal.pk,
            kind="appellant",
            body=form.cleaned_data["body"],
            actor=services.APPELLANT,
            attachments=form.cleaned_data["attachments"],
        )
    except services.AppealError as exc:
        return _service_error(request, appeal, exc)
    messages.success(request, _("补充材料已提交，承办单位会看到。"))
    return redirect("portal:status", tracking_number=tracking_number)


@never_cache
@require_http_methods(["GET", "POST"])
def withdraw(request, tracking_number: str):
    """Confirm (GET) and withdraw (POST) an appeal that has not been answered yet."""
    if request.method != "POST":
        appeal, _code = _appeal_from_session(request, tracking_number)
        if appeal is None:
            return _need_lookup(request)
        if appeal.state not in OPEN_STATES:
            messages.error(request, _("这件诉求已答复或已结束，不能撤回。"))
            return redirect("portal:status", tracking_number=tracking_number)
        return render(request, "portal/withdraw.html", {"appeal": appeal, "form": WithdrawForm()})
    appeal, code, response = _action_guard(request, tracking_number)
    if response is not None:
        return response
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return render(request, "portal/withdraw.html", {"appeal": appeal, "form": form}, status=400)
    try:
        services.appeal_withdraw(appeal_id=appeal.pk, access_code=code, reason=form.cleaned_data["reason"])
    except services.AppealError as exc:
        return _service_error(request, appeal, exc)
    messages.success(request, _("诉求已撤回。如有新的问题，可以重新提交。"))
    return redirect("portal:status", tracking_number=tracking_number)


@never_cache
@require_POST
def rate(request, tracking_number: str):
    """Rate the reply; a bad rating re-opens the appeal (重办) and the page says so."""
    appeal, code, response = _action_guard(request, tracking_number)
    if response is not None:
        return response
    form = RatingForm(request.POST)
    if not form.is_valid():
        return render(request, "portal/status.html", _status_context(appeal, rating_form=form), status=400)
    try:
        appeal = services.appeal_rate(
            appeal_id=appeal.pk,
            access_code=code,
            level=form.cleaned_data["level"],
            resolved=form.cleaned_data["resolved"],
            comment=form.cleaned_data["comment"],
        )
    except services.AppealError as exc:
        return _service_error(request, appeal, exc)
    if appeal.state == AppealState.HANDLING:
        messages.warning(
            request,
            _("感谢评价。您的诉求已重新交给承办单位办理（重办），新的答复时限是%(due)s。")
            % {"due": presenters._format_due(presenters.expected_reply_by(appeal))},
        )
    else:
        messages.success(request, _("感谢评价，诉求已办结。办结后您还可以追加一次评价。"))
    return redirect("portal:status", tracking_number=tracking_number)


@never_cache
@require_POST
def follow_up(request, tracking_number: str):
    """One follow-up rating (追评) after the appeal is closed."""
    appeal, code, response = _action_guard(request, tracking_number)
    if response is not None:
        return response
    form = RatingForm(request.POST, prefix="followup")
    if not form.is_valid():
        return render(request, "portal/status.html", _status_context(appeal, followup_form=form), status=400)
    try:
        services.appeal_followup_rate(
            appeal_id=appeal.pk,
            access_code=code,
            level=form.cleaned_data["level"],
            resolved=form.cleaned_data["resolved"],
            comment=form.cleaned_data["comment"],
        )
    except services.AppealError as exc:
        return _service_error(request, appeal, exc)
    messages.success(request, _("追评已提交，谢谢您。"))
    return redirect("portal:status", tracking_number=tracking_number)


@require_POST
def forget(request, tracking_number: str):
    """Stop showing this appeal in this browser (for shared or public computers)."""
    portal_session.forget_access(request, tracking_number)
    portal_session.forget_link(request, tracking_number)
    messages.info(request, _("已退出查看。再次查看需要输入受理编号和查询码。"))
    return redirect("portal:lookup")


@never_cache
def appellant_file(request, tracking_number: str, attachment_id: int):
    """Download a file of this appeal: the appellant's own, or one the bureau sent with its reply."""
    appeal, _code = _appeal_from_session(request, tracking_number)
    if appeal is None:
        raise Http404
    attachment = Attachment.objects.select_related("message").filter(pk=attachment_id, appeal_id=appeal.pk).first()
    if attachment is None or not presenters.appellant_may_see(attachment):
        raise Http404
    return file_response(attachment)


def file_response(attachment: Attachment) -> FileResponse:
    """Send a stored attachment as a download, never rendered inline by the browser."""
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


def category_examples(request):
    """A printable list of categories with examples (linked from the form's category help)."""
    return render(request, "portal/categories.html", {"categories": Category.objects.filter(is_active=True)})


def status_url(appeal: Appeal) -> str:
    return reverse("portal:status", kwargs={"tracking_number": appeal.tracking_number})
