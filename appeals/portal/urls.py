"""URL routes of the public portal (mounted at the site root)."""

from django.urls import path

from appeals import files
from appeals.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.submit, name="submit"),
    path("submitted/<uuid:token>/", views.confirmation, name="confirmation"),
    path("categories/", views.category_examples, name="categories"),
    path("track/", views.lookup, name="lookup"),
    path("track/<str:tracking_number>/", views.status, name="status"),
    path("track/<str:tracking_number>/supplement/", views.supplement, name="supplement"),
    path("track/<str:tracking_number>/withdraw/", views.withdraw, name="withdraw"),
    path("track/<str:tracking_number>/rate/", views.rate, name="rate"),
    path("track/<str:tracking_number>/follow-up/", views.follow_up, name="follow_up"),
    path("track/<str:tracking_number>/forget/", views.forget, name="forget"),
    path("track/<str:tracking_number>/files/<int:attachment_id>/", views.appellant_file, name="appellant_file"),
    # Staff downloads (permission-checked, logged); linked from the staff console and admin.
    path("files/<int:attachment_id>/", files.staff_attachment, name="staff_attachment"),
]
