"""Knowledge base routes: public pages under /kb/, staff pages under /staff/knowledge/."""

from django.urls import path

from knowledge import views

app_name = "knowledge"
urlpatterns = [
    path("kb/", views.article_list, name="list"),
    path("kb/<int:article_id>/", views.article_detail, name="detail"),
    path("kb/suggest/", views.suggest, name="suggest"),
    path("kb/suggest/event/", views.suggestion_event, name="suggestion_event"),
    path("staff/knowledge/", views.staff_list, name="staff_list"),
    path("staff/knowledge/new/", views.staff_create, name="staff_create"),
    path("staff/knowledge/<int:article_id>/", views.staff_edit, name="staff_edit"),
    path("staff/knowledge/<int:article_id>/<slug:action>/", views.staff_action, name="staff_action"),
    path("staff/knowledge/promote/<int:appeal_id>/", views.staff_promote, name="staff_promote"),
    path("staff/knowledge/deflection/", views.staff_deflection, name="staff_deflection"),
]
