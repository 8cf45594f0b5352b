"""Websocket URL routes: one multiplexed live connection per browser tab."""

from django.urls import path

from notifications.consumers import LiveConsumer

websocket_urlpatterns = [
    path("ws/live/", LiveConsumer.as_asgi()),
]
