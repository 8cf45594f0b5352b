"""Top-level URLs. Each area owns its own ``urls.py``."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.templatetags.static import static
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from appeals.console import auth as console_auth
from appeals.console import two_factor, unlock


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """The icon's hashed static URL (a temporary redirect, so a new icon is picked up)."""
    return HttpResponseRedirect(static("favicon.svg"))


urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    # Browsers and tools that ask for /favicon.ico without reading the page's <link rel="icon">.
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/bureau/v1/", include("integrations.bureau_api.urls")),
    path("api/", include("appeals.api.urls")),
    # The knowledge base: public /kb/ pages and the staff editor under /staff/knowledge/.
    path("", include("knowledge.urls")),
    # Early warning (未诉先办): the supervisors' board under /staff/alerts/.
    path("", include("alerts.urls")),
    path("", include("followup.urls")),
    path("", include("problems.urls")),
    path("open311/", include("integrations.open311.urls")),
    path("staff/login/", console_auth.StaffLoginView.as_view(), name="login"),
    path("staff/logout/", console_auth.StaffLogoutView.as_view(), name="logout"),
    # The way back from a lockout, and two-step login enrolment (issue 12).
    path("staff/unlock/", unlock.unlock_request, name="unlock_request"),
    path("staff/unlock/<str:uidb64>/<str:token>/", unlock.unlock_confirm, name="unlock_confirm"),
    path("staff/2fa/", two_factor.enrol, name="two_factor_enrol"),
    path("staff/", include("appeals.console.urls")),
    path("notifications/", include("notifications.urls")),
    path("analytics/", include("analytics.urls")),
    # The public portal (filing, tracking) is served from the site root.
    path("", include("appeals.portal.urls")),
]
