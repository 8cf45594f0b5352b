"""The supervisors' problem-ticket board (问题工单)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from appeals.console.common import page_range, staff_required
from appeals.errors import AppealError
from problems import selectors, services
from problems.models import ProblemReason, ProblemState

VIEWERS = ("appeals.supervise_appeal", "appeals.dispatch_appeal", "analytics.view_analytics")


@staff_required(*VIEWERS)
def board(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", ProblemState.FLAGGED)
    reason = request.GET.get("reason", "")
    page = Paginator(selectors.board(state=state, reason=reason), 20).get_page(request.GET.get("page"))
    tickets = list(page.object_list)
    path_of = selectors.paths([t.appeal_id for t in tickets])
    can_coordinate = services.can_coordinate(request.user)
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "problems/board.html",
        {
            "page": page,
            "pages": page_range(page),
            "query_string": params.urlencode(),
            "rows": [(t, path_of.get(t.appeal_id, [])) for t in tickets],
            "state": state,
            "reason": reason,
            "states": ProblemState.choices,
            "reasons": ProblemReason.choices,
            "can_coordinate": can_coordinate,
            "owners": selectors.owner_choices() if can_coordinate else [],
        },
    )


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


@staff_required(*VIEWERS)
@require_POST
def assign_owner(request: HttpRequest, ticket_id: int) -> HttpResponse:
    try:
        services.problem_assign_owner(
            user=request.user,
            ticket_id=ticket_id,
            owner_id=_int(request.POST.get("owner")),
            note=request.POST.get("note", ""),
        )
    except AppealError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已指派协调负责人。"))
    return redirect(reverse("problems:board") + f"#problem-{ticket_id}")


@staff_required(*VIEWERS)
@require_POST
def resolve(request: HttpRequest, ticket_id: int) -> HttpResponse:
    try:
        services.problem_resolve(user=request.user, ticket_id=ticket_id, reason=request.POST.get("reason", ""))
    except AppealError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已解除问题工单。"))
    return redirect(reverse("problems:board") + f"#problem-{ticket_id}")
