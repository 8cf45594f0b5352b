"""URL routes; views live beside this module."""

app_name = "portal"
urlpatterns: list = []
