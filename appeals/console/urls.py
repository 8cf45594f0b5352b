"""Staff console routes, mounted at /staff/ (namespace ``console``)."""

from django.urls import path

from appeals.console import auth, boards, search, views

app_name = "console"
urlpatterns = [
    path("login/", auth.StaffLoginView.as_view(), name="login"),
    path("logout/", auth.StaffLogoutView.as_view(), name="logout"),
    path("", views.bureau_console, name="bureau"),
    path("queue/", views.queue_fragment, name="queue-fragment"),
    path("counts/", views.counts, name="counts"),
    path("appeals/", search.appeal_search, name="search"),
    path("appeals/<int:appeal_id>/", views.appeal_detail, name="appeal"),
    path("appeals/<int:appeal_id>/phone/", views.reveal_phone, name="reveal-phone"),
    path("appeals/<int:appeal_id>/<slug:action>/", views.appeal_action, name="appeal-action"),
    path("dispatch/", boards.dispatch_board, name="dispatch"),
    path("dispatch/sections/", boards.dispatch_fragment, name="dispatch-fragment"),
    path("overdue/", boards.overdue_board, name="overdue"),
    path("overdue/table/", boards.overdue_fragment, name="overdue-fragment"),
]
