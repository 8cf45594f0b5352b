"""Bureau API routes (mounted at /api/bureau/v1/)."""

from django.urls import path

from integrations.bureau_api import views

app_name = "bureau_api"
urlpatterns = [
    path("appeals/", views.AppealListView.as_view(), name="appeals"),
    path("events/", views.EventListView.as_view(), name="events"),
    path("appeals/<int:appeal_id>/", views.AppealDetailView.as_view(), name="appeal"),
    path("appeals/<int:appeal_id>/sign-for/", views.SignForView.as_view(), name="sign_for"),
    path("appeals/<int:appeal_id>/return/", views.ReturnView.as_view(), name="return"),
    path("appeals/<int:appeal_id>/contact/", views.ContactView.as_view(), name="contact"),
    path("appeals/<int:appeal_id>/information-request/", views.InformationRequestView.as_view(), name="info_request"),
    path("appeals/<int:appeal_id>/reply/", views.ReplyView.as_view(), name="reply"),
    path("appeals/<int:appeal_id>/extension/", views.ExtensionView.as_view(), name="extension"),
]
