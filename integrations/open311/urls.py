"""Open311 GeoReport v2 routes: /open311/discovery.{json,xml} and /open311/v2/… (format by suffix)."""

from django.urls import re_path

from integrations.open311 import views

app_name = "open311"
FMT = r"\.(?P<fmt>json|xml)$"
urlpatterns = [
    re_path(r"^discovery" + FMT, views.DiscoveryView.as_view(), name="discovery"),
    re_path(r"^v2/services" + FMT, views.ServicesView.as_view(), name="services"),
    re_path(r"^v2/services/(?P<service_code>[-\w]+)" + FMT, views.ServiceDefinitionView.as_view(), name="service"),
    re_path(r"^v2/requests" + FMT, views.RequestsView.as_view(), name="requests"),
    re_path(r"^v2/requests/(?P<service_request_id>[-\w]+)" + FMT, views.RequestDetailView.as_view(), name="request"),
    re_path(r"^v2/tokens/(?P<token>[-\w:]+)" + FMT, views.TokenView.as_view(), name="token"),
]
