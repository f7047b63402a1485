"""WebSocket routes of the voting app: the live meeting board."""

from django.urls import path

from .consumers import MeetingBoardConsumer

websocket_urlpatterns: list = [
    path("ws/meetings/<id:meeting_id>/", MeetingBoardConsumer.as_asgi()),
]
