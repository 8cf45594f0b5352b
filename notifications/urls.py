"""URL routes for the in-app inbox and notification preferences."""

app_name = "notifications"
urlpatterns: list = []
