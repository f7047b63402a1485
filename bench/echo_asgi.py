"""The realtime benchmark's floor: a bare Channels group broadcast, served by daphne.

One ``AsyncWebsocketConsumer`` at ``/ws/echo/<room>/`` joins the group ``echo-<room>``; every
text frame one client sends is ``group_send`` to every member, as is. No ORM, no templates, no
sessions or auth: what a broadcast costs through daphne and the Redis channel layer before the
app does anything. Any HTTP request answers ``ok`` (the benchmark's readiness check).

    DJANGO_SETTINGS_MODULE=bench.echo_settings REDIS_URL=… \\
        .venv/bin/daphne -b 127.0.0.1 -p 8101 bench.echo_asgi:application
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.echo_settings")
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402


class EchoConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.group = "echo-" + self.scope["url_route"]["kwargs"]["room"]
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        if text_data is not None:
            await self.channel_layer.group_send(
                self.group, {"type": "echo.message", "text": text_data}
            )

    async def echo_message(self, event):
        await self.send(text_data=event["text"])


async def ok(scope, receive, send):
    """Any HTTP request: 200 ok."""
    while (await receive())["type"] != "http.request":
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


application = ProtocolTypeRouter(
    {
        "http": ok,
        "websocket": AllowedHostsOriginValidator(
            URLRouter([path("ws/echo/<slug:room>/", EchoConsumer.as_asgi())])
        ),
    }
)
