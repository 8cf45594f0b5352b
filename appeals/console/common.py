"""Helpers shared by the console views: access control, role homes and error responses."""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

STAFF_PERMISSIONS = (
    "appeals.handle_appeal",
    "appeals.dispatch_appeal",
    "appeals.supervise_appeal",
    "appeals.view_all_appeals",
)


def is_staff_member(user: Any) -> bool:
    """Any user with a console role (officer, lead, dispatcher, supervisor, manager, admin)."""
    return bool(user.is_authenticated and any(user.has_perm(p) for p in STAFF_PERMISSIONS))


def role_home(user: Any) -> str | None:
    """The page each role starts on, or None for a user without any console role."""
    if user.has_perm("appeals.handle_appeal"):
        return reverse("console:bureau")
    if user.has_perm("appeals.dispatch_appeal"):
        return reverse("console:dispatch")
    if user.has_perm("appeals.supervise_appeal"):
        return reverse("console:overdue")
    if user.has_perm("analytics.view_analytics"):
        return "/analytics/"
    if user.is_superuser:
        return reverse("admin:index")
    return None


def is_xhr(request: HttpRequest) -> bool:
    return request.headers.get("X-Requested-With") == "XMLHttpRequest" or "application/json" in request.headers.get(
        "Accept", ""
    )


def forbidden(request: HttpRequest, message: str | None = None) -> HttpResponse:
    message = message or _("您的账号没有查看这个页面的权限。如需开通，请联系系统管理员。")
    if is_xhr(request):
        return JsonResponse({"error": message, "code": "forbidden"}, status=403)
    return render(request, "console/forbidden.html", {"message": message}, status=403)


def staff_required(*permissions: str):
    """Log in first; then require one of ``permissions`` (any console role when none are given)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            allowed = any(user.has_perm(p) for p in permissions) if permissions else is_staff_member(user)
            if not allowed:
                return forbidden(request)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def page_range(page) -> list[int | None]:
    """Page numbers around the current one, with None for gaps (1 … 4 5 6 … 20)."""
    return list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))
