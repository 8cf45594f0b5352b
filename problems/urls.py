"""Problem-ticket routes (supervisors)."""

from django.urls import path

from problems import views

app_name = "problems"
urlpatterns = [
    path("staff/problems/", views.board, name="board"),
    path("staff/problems/<int:ticket_id>/owner/", views.assign_owner, name="assign-owner"),
    path("staff/problems/<int:ticket_id>/resolve/", views.resolve, name="resolve"),
]
