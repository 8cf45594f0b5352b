"""URL routes of the public portal (mounted at the site root)."""

from django.urls import path

from appeals import files
from appeals.portal import selfservice, views

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
    # Enterprise self-service: a verified contact phone opens its appeals; signed links from SMS/e-mail.
    path("my/", selfservice.start, name="my_start"),
    path("my/verify/", selfservice.verify, name="my_verify"),
    path("my/appeals/", selfservice.my_appeals, name="my_appeals"),
    path("my/appeals/<str:tracking_number>/new-code/", selfservice.new_access_code, name="my_new_code"),
    path("my/sign-out/", selfservice.sign_out, name="my_sign_out"),
    path("t/<str:token>/", selfservice.open_link, name="link"),
    # Staff downloads (permission-checked, logged); linked from the staff console and admin.
    path("files/<int:attachment_id>/", files.staff_attachment, name="staff_attachment"),
]
