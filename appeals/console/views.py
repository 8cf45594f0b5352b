"""The bureau console: queues, the live queue fragment, counters, and the staff appeal page.

Views parse input, call one selector or service, and render. Service errors become responses a
person can act on: InvalidInput → 400 with the form, NotAllowed → 403, StateConflict → 409 with a
reload link (JSON for XHR).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from appeals import permissions as perms
from appeals import presenters, services
from appeals import selectors as sc
from appeals.console import actions
from appeals.console.common import is_xhr, page_range, role_home, staff_required
from appeals.console.forms import QueueFilterForm
from appeals.models import CannedReply
from appeals.validators import mask_phone
from routing.explain import explain_routing

PAGE_SIZE = 25


def _queue_context(request: HttpRequest) -> dict[str, Any]:
    queue = request.GET.get("queue", "sign_for")
    if queue not in sc.BUREAU_QUEUES:
        queue = "sign_for"
    form = QueueFilterForm(request.GET or None)
    filters = sc.QueueFilters()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = sc.QueueFilters(
            category=data["category"].pk if data.get("category") else None,
            urgency=data.get("urgency") or "",
            overdue=bool(data.get("overdue")),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            q=(data.get("q") or "").strip(),
            sort=data.get("sort") or sc.DEFAULT_SORT,
        )
    queryset = sc.apply_filters(sc.bureau_queue(user=request.user, queue=queue), filters)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    sort_params = params.copy()
    sort_params.pop("sort", None)
    return {
        "sort_query": sort_params.urlencode(),
        "queue": queue,
        "queues": sc.BUREAU_QUEUES,
        "form": form,
        "filters": filters,
        "page": page,
        "page_numbers": page_range(page),
        "query_string": params.urlencode(),
        "rows": sc.rows(page.object_list),
    }


@require_GET
@staff_required()
def bureau_console(request: HttpRequest) -> HttpResponse:
    """本单位工单: the bureau's queues with filters, sorting and pagination; live via console.js."""
    if not request.user.has_perm("appeals.handle_appeal"):
        return redirect(role_home(request.user) or "login")
    context = _queue_context(request)
    context["counts"] = sc.bureau_queue_counts(user=request.user)
    context["bureau_id"] = perms.user_bureau_id(request.user)
    return render(request, "console/bureau.html", context)


@require_GET
@staff_required("appeals.handle_appeal")
def queue_fragment(request: HttpRequest) -> HttpResponse:
    """The queue's table and pager alone, refetched by console.js when an event arrives."""
    return render(request, "console/_queue_table.html", _queue_context(request))


@require_GET
@staff_required()
def counts(request: HttpRequest) -> JsonResponse:
    """Navigation badges and queue tab counts, refetched by console.js after every event."""
    data: dict[str, Any] = {"nav": sc.nav_counts(user=request.user)}
    if request.user.has_perm("appeals.handle_appeal"):
        data["queues"] = sc.bureau_queue_counts(user=request.user)
    return JsonResponse(data)


# --- Appeal page -------------------------------------------------------------------------------


def appeal_context(request: HttpRequest, appeal, **extra: Any) -> dict[str, Any]:
    user = request.user
    available = actions.available_actions(appeal, user)
    due, first_contact_due = sc.current_due(appeal), sc.first_contact_due(appeal)
    canned = CannedReply.objects.filter(Q(category_id=appeal.category_id) | Q(category__isnull=True), is_active=True)
    context = {
        "appeal": appeal,
        "timeline": sc.appeal_timeline(appeal=appeal),
        "attachments": [a for a in appeal.attachments.all() if a.message_id is None],
        "available": available,
        "forms": actions.blank_forms(appeal, available),
        "canned_replies": canned.order_by("title") if "reply" in available else [],
        "masked_phone": mask_phone(appeal.contact_phone),
        "can_reveal_phone": sc.can_reveal_phone(appeal, user),
        "due_status": sc.due_status(due),
        "due_label": sc.due_label(due),
        "first_contact_due": first_contact_due,
        "first_contact_status": sc.due_status(first_contact_due),
        "first_contact_label": sc.due_label(first_contact_due),
        "has_actions": any(name != "note" for name in available),
        "return_reason": sc.return_reason(appeal=appeal) if appeal.state == "returned" else "",
        "is_handler": perms.is_bureau_handler(appeal, user),
        "reopening_rating": sc.reopening_rating(appeal),
        "promised_reply_by": presenters.expected_reply_by(appeal),
    }
    context["followers"] = sc.merged_followers(user=user, appeal=appeal)
    if perms.is_dispatcher(user) or perms.is_bureau_lead(appeal, user):
        context["routing_sentences"] = explain_routing(
            appeal.routing_explanation, text=f"{appeal.title}\n{appeal.description}"
        )
    if "merge" in available:
        context["duplicates"] = [c.appeal for c in sc.find_duplicates(user=user, appeals=[appeal])[appeal.pk]]
    context.update(extra)
    return context


def _get_appeal(request: HttpRequest, appeal_id: int):
    appeal = sc.appeal_for_console(user=request.user, appeal_id=appeal_id)
    if appeal is None:
        # 404, not 403: staff of other bureaus must not learn that the appeal exists.
        raise Http404(_("找不到这件诉求，或者它不属于您的单位。"))
    return appeal


@require_GET
@staff_required()
def appeal_detail(request: HttpRequest, appeal_id: int) -> HttpResponse:
    """The staff appeal page: details, timeline, files, and the actions allowed for this user."""
    appeal = _get_appeal(request, appeal_id)
    return render(request, "console/appeal.html", appeal_context(request, appeal))


@require_POST
@staff_required()
def appeal_action(request: HttpRequest, appeal_id: int, action: str) -> HttpResponse:
    """Run one action from the appeal page (or a console row) through its service."""
    appeal = _get_appeal(request, appeal_id)
    outcome = actions.perform(request, appeal, action)
    if outcome.ok:
        if is_xhr(request):
            return JsonResponse({"ok": True, "message": outcome.message, "redirect": outcome.redirect_to})
        messages.success(request, outcome.message)
        return redirect(outcome.redirect_to or reverse("console:appeal", args=[appeal.pk]))
    if is_xhr(request):
        body: dict[str, Any] = {"error": outcome.message, "code": outcome.code}
        if outcome.form is not None:
            body["fields"] = {name: [str(e) for e in errs] for name, errs in outcome.form.errors.items()}
        if outcome.status == 409:
            body["reload"] = reverse("console:appeal", args=[appeal.pk])
        return JsonResponse(body, status=outcome.status)
    back = request.POST.get("back")
    if back in ("dispatch", "overdue"):
        messages.error(request, outcome.message)
        return redirect(f"console:{back}")
    appeal = _get_appeal(request, appeal_id)  # fresh: show what changed
    extra: dict[str, Any] = {"action_error": outcome.message, "action_status": outcome.status, "failed": action}
    context = appeal_context(request, appeal, **extra)
    if outcome.form is not None and outcome.status == 400:
        context["forms"][action] = outcome.form
        # The summary names and links each field in error; its section is reopened (``failed``).
        context["failed_form"] = outcome.form
    return render(request, "console/appeal.html", context, status=outcome.status)


@require_POST
@staff_required()
def reveal_phone(request: HttpRequest, appeal_id: int) -> HttpResponse:
    """显示号码: unmask the appellant's phone for this response and log the access (PiiAccessLog)."""
    appeal = _get_appeal(request, appeal_id)
    try:
        phone = services.appeal_reveal_phone(appeal=appeal, user=request.user)
    except services.NotAllowed as error:
        if is_xhr(request):
            return JsonResponse({"error": error.message, "code": error.code}, status=403)
        context = appeal_context(request, appeal, action_error=error.message)
        return render(request, "console/appeal.html", context, status=403)
    if is_xhr(request):
        return JsonResponse({"phone": phone})
    return render(request, "console/appeal.html", appeal_context(request, appeal, revealed_phone=phone))
