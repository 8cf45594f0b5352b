"""Follow-up routes (the dispatch centre)."""

from django.urls import path

from followup import views

app_name = "followup"
urlpatterns = [
    path("staff/follow-up/", views.worklist, name="worklist"),
    path("staff/follow-up/<int:followup_id>/", views.case, name="case"),
    path("staff/follow-up/<int:followup_id>/phone/", views.reveal_phone, name="reveal-phone"),
    path("staff/follow-up/<int:followup_id>/outcome/", views.record_outcome, name="outcome"),
    path("staff/follow-up/contests/<int:rating_id>/", views.decide_contest, name="decide-contest"),
]
