"""URL routes of the channel API (mounted at /api/; schema at /api/schema/, docs at /api/docs/)."""

from django.urls import path

from appeals.api import views

app_name = "api"
urlpatterns = [
    path("appeals/", views.SubmitView.as_view(), name="submit"),
    path("appeals/lookup/", views.LookupView.as_view(), name="lookup"),
    path("appeals/<str:tracking_number>/supplements/", views.SupplementView.as_view(), name="supplement"),
    path("appeals/<str:tracking_number>/withdraw/", views.WithdrawView.as_view(), name="withdraw"),
    path("appeals/<str:tracking_number>/rating/", views.RateView.as_view(), name="rate"),
    path("appeals/<str:tracking_number>/follow-up/", views.FollowUpView.as_view(), name="follow_up"),
    path("appeals/<str:tracking_number>/files/<int:attachment_id>/", views.FileView.as_view(), name="file"),
    path("categories/", views.CategoriesView.as_view(), name="categories"),
    path("appeal-types/", views.AppealTypesView.as_view(), name="appeal_types"),
    path("regions/", views.RegionsView.as_view(), name="regions"),
]
