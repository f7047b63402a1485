"""WebSocket routes. Consumers live beside the code they serve (council/consumers.py for
threads); each app adds its routes here through ``include``-like lists as issues land."""

from django.urls import path

from .consumers import ThreadConsumer

websocket_urlpatterns: list = [
    path("ws/threads/<id:thread_id>/", ThreadConsumer.as_asgi()),
]
