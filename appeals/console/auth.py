"""Staff login and logout. Repeated failures lock the account (django-axes, see settings)."""

from __future__ import annotations

import math
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from appeals.console.common import role_home
from appeals.console.two_factor import TwoFactorLoginForm, mark_verified


class StaffLoginView(auth_views.LoginView):
    template_name = "console/login.html"
    form_class = TwoFactorLoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        mark_verified(self.request, form)  # a session that gave its TOTP code counts as verified
        return response

    def get_success_url(self) -> str:
        # An explicit, safe ``next`` wins; otherwise each role starts on its own console.
        next_url = self.get_redirect_url()
        if next_url:
            return next_url
        return role_home(self.request.user) or settings.LOGIN_REDIRECT_URL

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["failure_limit"] = settings.AXES_FAILURE_LIMIT
        return context


class StaffLogoutView(auth_views.LogoutView):
    """POST-only (Django's LogoutView); the header's logout button posts here."""


def lockout(request, *args, **kwargs):
    """Shown instead of the login page while axes has the account locked (AXES_LOCKOUT_CALLABLE)."""
    cooloff = settings.AXES_COOLOFF_TIME
    minutes = math.ceil(float(cooloff) * 60) if cooloff else None
    until = timezone.localtime(timezone.now() + timedelta(minutes=minutes)) if minutes else None
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    return render(
        request,
        "console/lockout.html",
        {"minutes": minutes, "until": until, "failure_limit": settings.AXES_FAILURE_LIMIT, "next": next_url},
        status=429,
    )
