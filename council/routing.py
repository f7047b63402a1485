"""WebSocket routes. Consumers live beside the code they serve (council/consumers.py for
threads); each app adds its routes here through ``include``-like lists as issues land."""

websocket_urlpatterns: list = []
