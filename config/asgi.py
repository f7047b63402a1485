"""ASGI entry point: HTTP through Django, WebSockets through Channels.

Each app keeps its consumers' routes in its own ``routing.py``; they are joined here.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from django.conf import settings  # noqa: E402

# A server must not start without its key ("The SECRET_KEY setting must not be empty"):
# reading it raises then, instead of failing later at the first sign-in.
settings.SECRET_KEY  # noqa: B018
# Nor without the evidence log's signing key: it signs a checkpoint after every write.
from council.evidence.checkpoints import log_signer  # noqa: E402

log_signer()


def _close_oversized_frames() -> None:
    """daphne refuses a WebSocket frame over its size limit (--websocket-max-message-size,
    1 MiB) through autobahn, which by default drops the TCP connection without a close frame:
    the browser then sees a bare network failure (1006). With ``failByDrop`` off autobahn
    closes properly, with 1009 "message too big". daphne has no option for it, so its
    factory's options get it here, before daphne builds the factory (it imports this module
    first). Frames under the limit are checked by the consumers (council.realtime.read_frame).
    """
    try:
        from daphne.ws_protocol import WebSocketFactory
    except ImportError:  # served by another ASGI server
        return
    if getattr(WebSocketFactory, "_weishi_close_oversized", False):
        return
    original_init = WebSocketFactory.__init__

    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self.setProtocolOptions(failByDrop=False)

    WebSocketFactory.__init__ = __init__
    WebSocketFactory._weishi_close_oversized = True


_close_oversized_frames()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from council.realtime import socket_auth_stack  # noqa: E402
from council.routing import websocket_urlpatterns as council_routes  # noqa: E402
from voting.routing import websocket_urlpatterns as voting_routes  # noqa: E402

websocket_urlpatterns = council_routes + voting_routes

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            # Channels' AuthMiddlewareStack, but an anonymous socket costs no database hop.
            socket_auth_stack(URLRouter(websocket_urlpatterns))
        ),
    }
)
