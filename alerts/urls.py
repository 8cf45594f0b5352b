"""Early-warning routes (staff only)."""

from django.urls import path

from alerts import views

app_name = "alerts"
urlpatterns = [
    path("staff/alerts/", views.board, name="board"),
    path("staff/alerts/<int:alert_id>/acknowledge/", views.acknowledge, name="acknowledge"),
]
