"""URL routes; views live beside this module."""

app_name = "console"
urlpatterns: list = []
