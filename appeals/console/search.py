"""诉求查询: the staff search and list page for every role, within the role's scope.

The view parses the form and calls ``appeals.selectors.staff_search``; scope is enforced there
(officers and leads: their bureau; dispatchers, supervisors and managers: every bureau). Phone
numbers are masked in the results like everywhere else in the console.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from appeals import selectors as sc
from appeals.console.common import page_range, staff_required
from appeals.console.forms import StaffSearchForm
from appeals.validators import mask_phone

PAGE_SIZE = 25


@require_GET
@staff_required()
def appeal_search(request: HttpRequest) -> HttpResponse:
    """Search and list appeals in every state; officers get the quick lists 我已答复的 / 已办结的."""
    user = request.user
    with_bureau = sc.may_filter_by_bureau(user)
    form = StaffSearchForm(request.GET or None, with_bureau=with_bureau)
    quick = request.GET.get("quick", "")
    if quick not in sc.QUICK_LISTS:
        quick = ""
    params = sc.StaffSearch(quick=quick)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        params = sc.StaffSearch(
            q=(data.get("q") or "").strip(),
            state=data.get("state") or "",
            bureau=data["bureau"].pk if data.get("bureau") else None,
            category=data["category"].pk if data.get("category") else None,
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            quick=quick,
        )
    result = sc.staff_search(user=user, params=params)
    page = Paginator(result.queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    searched = any(v for k, v in request.GET.items() if k != "page")
    context: dict[str, Any] = {
        "form": form,
        "quick": quick,
        "quick_lists": sc.QUICK_LISTS if user.has_perm("appeals.handle_appeal") else {},
        "with_bureau": with_bureau,
        "page": page,
        "page_numbers": page_range(page),
        "query_string": query.urlencode(),
        "rows": [
            {"row": row, "masked_phone": mask_phone(row.appeal.contact_phone)} for row in sc.rows(page.object_list)
        ],
        "notice": result.notice,
        "searched": searched,
    }
    return render(request, "console/search.html", context)
