"""The early-warning board for supervisors and dispatchers."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alerts import selectors, services
from alerts.models import AlertKind, AlertState
from appeals.console.common import page_range, staff_required

ALERT_VIEWERS = ("appeals.supervise_appeal", "appeals.dispatch_appeal", "analytics.view_analytics")


@staff_required(*ALERT_VIEWERS)
def board(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", AlertState.OPEN)
    kind = request.GET.get("kind", "")
    alerts = selectors.alerts_for_board(state=state, kind=kind if kind in AlertKind.values else "")
    page = Paginator(alerts, 20).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "alerts/board.html",
        {
            "page": page,
            "pages": page_range(page),
            "query_string": params.urlencode(),
            "state": state,
            "kind": kind,
            "states": AlertState.choices,
            "kinds": AlertKind.choices,
            "can_acknowledge": services.can_handle_alerts(request.user),
        },
    )


@staff_required(*ALERT_VIEWERS)
@require_POST
def acknowledge(request: HttpRequest, alert_id: int) -> HttpResponse:
    try:
        services.alert_acknowledge(user=request.user, alert_id=alert_id, note=request.POST.get("note", ""))
    except services.AlertError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已确认预警。"))
    return redirect(reverse("alerts:board") + f"#alert-{alert_id}")
