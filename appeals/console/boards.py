"""The dispatcher console (triage, returns, extensions, duplicates) and the overdue board."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from appeals import selectors as sc
from appeals.console.common import page_range, staff_required
from routing.models import Bureau

PAGE_SIZE = 25


def _bureaus() -> list[Bureau]:
    return list(
        Bureau.objects.filter(is_active=True)
        .exclude(bureau_type__code="dispatch")
        .select_related("region", "bureau_type")
        .order_by("region__sort_order", "region__code", "bureau_type__code")
    )


def _latest_reason(appeal: Any) -> str:
    events = getattr(appeal, "return_events", [])  # prefetched by returned_queue
    return events[0].reason if events else ""


def _dispatch_context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    bureaus = _bureaus()
    triage_page = Paginator(sc.triage_queue(user=user), PAGE_SIZE).get_page(request.GET.get("page"))
    triage = list(triage_page.object_list)
    duplicates = sc.find_duplicates(user=user, appeals=triage)
    returned = list(sc.returned_queue(user=user)[:100])
    return {
        "bureaus": bureaus,
        "triage_page": triage_page,
        "page_numbers": page_range(triage_page),
        "triage_rows": [
            {
                "appeal": appeal,
                "suggested": sc.suggested_bureau(appeal=appeal, bureaus=bureaus),
                "duplicates": [c.appeal for c in duplicates.get(appeal.pk, [])],
                "reason": sc.triage_reason(appeal),
            }
            for appeal in triage
        ],
        "returned_rows": [
            {
                "appeal": appeal,
                "reason": _latest_reason(appeal),
                "returned_from": appeal.bureau,
            }
            for appeal in returned
        ],
        "extensions": list(sc.pending_extensions(user=user)[:100]),
    }


@require_GET
@staff_required("appeals.dispatch_appeal")
def dispatch_board(request: HttpRequest) -> HttpResponse:
    """分拨中心: one-click routing from the classifier's suggestion, returns, extensions, merges."""
    return render(request, "console/dispatch.html", _dispatch_context(request))


@require_GET
@staff_required("appeals.dispatch_appeal")
def dispatch_fragment(request: HttpRequest) -> HttpResponse:
    return render(request, "console/_dispatch_sections.html", _dispatch_context(request))


def _overdue_context(request: HttpRequest) -> dict[str, Any]:
    status = request.GET.get("status", "all")
    if status not in sc.OVERDUE_FILTERS:
        status = "all"
    try:
        bureau_id = int(request.GET.get("bureau") or 0) or None
    except ValueError:
        bureau_id = None
    page = Paginator(sc.overdue_board(user=request.user, status=status, bureau_id=bureau_id), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    params = request.GET.copy()
    params.pop("page", None)
    return {
        "status": status,
        "statuses": sc.OVERDUE_FILTERS,
        "bureau_id": bureau_id,
        "bureaus": _bureaus(),
        "page": page,
        "page_numbers": page_range(page),
        "query_string": params.urlencode(),
        "rows": sc.rows(page.object_list),
    }


@require_GET
@staff_required("appeals.supervise_appeal", "appeals.dispatch_appeal")
def overdue_board(request: HttpRequest) -> HttpResponse:
    """超期督办: appeals near, at or past their deadline across all bureaus."""
    return render(request, "console/overdue.html", _overdue_context(request))


@require_GET
@staff_required("appeals.supervise_appeal", "appeals.dispatch_appeal")
def overdue_fragment(request: HttpRequest) -> HttpResponse:
    return render(request, "console/_overdue_table.html", _overdue_context(request))
