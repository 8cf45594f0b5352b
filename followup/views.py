"""The dispatch centre's follow-up worklist (回访), one case with its call script, and the review queue."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from appeals.console.common import page_range, staff_required
from appeals.errors import AppealError
from appeals.services import appeal_reveal_phone
from appeals.validators import mask_phone
from followup import selectors, services
from followup.models import FollowUpOutcome, FollowUpState

FOLLOW_UP = "appeals.dispatch_appeal"


@staff_required(FOLLOW_UP)
def worklist(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", FollowUpState.PENDING)
    page = Paginator(selectors.worklist(state=state), 25).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "followup/worklist.html",
        {
            "page": page,
            "pages": page_range(page),
            "query_string": params.urlencode(),
            "state": state,
            "states": FollowUpState.choices,
            "contests": list(selectors.contests_pending()[:50]),
            "now": timezone.now(),
        },
    )


def _case_context(request: HttpRequest, followup, phone: str = "") -> dict:
    return {
        "followup": followup,
        "appeal": followup.appeal,
        "masked_phone": mask_phone(followup.appeal.contact_phone),
        "revealed_phone": phone,
        "outcomes": FollowUpOutcome.choices,
        "posted": request.POST if request.method == "POST" else {},
    }


@staff_required(FOLLOW_UP)
def case(request: HttpRequest, followup_id: int) -> HttpResponse:
    followup = selectors.followup_get(followup_id=followup_id)
    if followup is None:
        raise Http404
    return render(request, "followup/case.html", _case_context(request, followup))


@staff_required(FOLLOW_UP)
@require_POST
def reveal_phone(request: HttpRequest, followup_id: int) -> HttpResponse:
    """The appellant's number for the call, through the logged reveal (个人信息查看记录)."""
    followup = selectors.followup_get(followup_id=followup_id)
    if followup is None:
        raise Http404
    try:
        phone = appeal_reveal_phone(appeal=followup.appeal, user=request.user)
    except AppealError as exc:
        messages.error(request, exc.message)
        phone = ""
    return render(request, "followup/case.html", _case_context(request, followup, phone))


@staff_required(FOLLOW_UP)
@require_POST
def record_outcome(request: HttpRequest, followup_id: int) -> HttpResponse:
    followup = selectors.followup_get(followup_id=followup_id)
    if followup is None:
        raise Http404
    try:
        followup = services.followup_record_outcome(
            user=request.user,
            followup_id=followup_id,
            outcome=request.POST.get("outcome", ""),
            note=request.POST.get("note", ""),
        )
    except AppealError as exc:
        messages.error(request, exc.message)
        # Keep what was typed: the form is shown again with the error.
        return render(request, "followup/case.html", _case_context(request, followup), status=exc.status)
    if followup.state == FollowUpState.PENDING:
        messages.success(request, _("已记录未联系上（第%(n)s次）。") % {"n": followup.attempts})
    else:
        messages.success(request, _("已登记回访结果：%(outcome)s。") % {"outcome": followup.get_outcome_display()})
    return redirect(reverse("followup:worklist"))


@staff_required(FOLLOW_UP)
@require_POST
def decide_contest(request: HttpRequest, rating_id: int) -> HttpResponse:
    decision = request.POST.get("decision", "")
    if decision not in ("uphold", "dismiss"):
        messages.error(request, _("请选择复核结论。"))
        return redirect(reverse("followup:worklist") + "#contests")
    try:
        services.rating_contest_decide(
            user=request.user,
            rating_id=rating_id,
            uphold=decision == "uphold",
            reason=request.POST.get("reason", ""),
        )
    except AppealError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已记录复核结论。"))
    return redirect(reverse("followup:worklist") + "#contests")
