"""URL routes; views live beside this module."""

app_name = "api"
urlpatterns: list = []
