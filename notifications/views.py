"""The in-app inbox and the notification preferences page (staff, logged in)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from notifications import selectors, services

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    class AuthenticatedHttpRequest(HttpRequest):
        """What ``login_required`` guarantees: ``request.user`` is a signed-in user."""

        user: User


@login_required
@require_GET
def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    unread_only = request.GET.get("show") == "unread"
    items = selectors.inbox_for_user(user=request.user, unread_only=unread_only)
    page = Paginator(items, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/inbox.html",
        {"page": page, "unread_only": unread_only, "unread": selectors.unread_count(user=request.user)},
    )


@login_required
@require_GET
def unread(request: AuthenticatedHttpRequest) -> JsonResponse:
    """The unread count as JSON, for pages refreshing the badge after a reconnect."""
    return JsonResponse({"unread": selectors.unread_count(user=request.user)})


@login_required
@require_POST
def open_item(request: AuthenticatedHttpRequest, item_id: int) -> HttpResponse:
    item = services.inbox_mark_read(user=request.user, item_id=item_id)
    if item is None:
        messages.error(request, _("找不到这条消息，可能已被删除。"))
        return redirect("notifications:inbox")
    if item.url and url_has_allowed_host_and_scheme(item.url, allowed_hosts={request.get_host()}):
        return redirect(item.url)
    return redirect("notifications:inbox")


@login_required
@require_POST
def mark_all_read(request: AuthenticatedHttpRequest) -> HttpResponse:
    count = services.inbox_mark_all_read(user=request.user)
    messages.success(request, _("已将 %(count)d 条消息标为已读。") % {"count": count})
    return redirect("notifications:inbox")


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method == "POST":
        services.preferences_save(
            user=request.user,
            enabled=set(request.POST.getlist("enabled")),
            language=request.POST.get("language", ""),
        )
        messages.success(request, _("通知设置已保存。"))
        return redirect("notifications:preferences")
    return render(
        request,
        "notifications/preferences.html",
        {
            "rows": selectors.preference_matrix(user=request.user),
            "language": selectors.language_for_user(user=request.user) or settings.LANGUAGE_CODE,
            "languages": settings.LANGUAGES,
            "has_email": bool(request.user.email),
            "has_phone": bool(getattr(getattr(request.user, "staff_profile", None), "phone", "")),
        },
    )
