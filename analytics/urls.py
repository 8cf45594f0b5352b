"""URL routes for the dashboard and the report archive."""

from django.urls import path

from analytics import views

app_name = "analytics"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("csv/<slug:name>/", views.table_csv, name="csv"),
    path("reports/", views.reports, name="reports"),
    path("reports/<int:pk>/", views.report_detail, name="report-detail"),
    path("reports/<int:pk>/progress.json", views.report_progress, name="report-progress"),
    path("reports/<int:pk>/download/", views.report_download, name="report-download"),
]
