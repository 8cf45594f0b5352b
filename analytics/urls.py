"""URL routes for the dashboard and the report archive."""

app_name = "analytics"
urlpatterns: list = []
