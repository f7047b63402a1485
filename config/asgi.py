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

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from council.routing import websocket_urlpatterns as council_routes  # noqa: E402
from voting.routing import websocket_urlpatterns as voting_routes  # noqa: E402

websocket_urlpatterns = council_routes + voting_routes

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
