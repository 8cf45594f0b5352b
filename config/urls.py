"""Top-level URLs. Each area owns its own ``urls.py``."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from appeals.console import auth as console_auth

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/bureau/v1/", include("integrations.bureau_api.urls")),
    path("api/", include("appeals.api.urls")),
    path("open311/", include("integrations.open311.urls")),
    path("staff/login/", console_auth.StaffLoginView.as_view(), name="login"),
    path("staff/logout/", console_auth.StaffLogoutView.as_view(), name="logout"),
    path("staff/", include("appeals.console.urls")),
    path("notifications/", include("notifications.urls")),
    path("analytics/", include("analytics.urls")),
    # The public portal (filing, tracking) is served from the site root.
    path("", include("appeals.portal.urls")),
]
