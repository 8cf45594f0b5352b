"""Websocket URL routes (consumers live in notifications.consumers)."""

websocket_urlpatterns: list = []
