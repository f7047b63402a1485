"""What the WebSocket tests share: the real ASGI application, a connection to it, and the frames
that arrive until it is quiet. Their fresh channel layer is the ``fresh_channel_layer`` fixture
(tests/conftest.py)."""

from channels.testing import WebsocketCommunicator

BASE_HEADERS = [(b"origin", b"http://testserver"), (b"host", b"testserver")]


def application():
    """The real ASGI application, imported once the test environment is set up: the origin
    validator keeps the ALLOWED_HOSTS list of import time, and only the test one has
    "testserver"."""
    from config.asgi import application

    return application


async def socket_connect(path: str, *, language: str = "en", cookie: str | None = None):
    """A connected ``WebsocketCommunicator`` on ``path``, from the test server's origin, in
    ``language``, with ``cookie`` if given."""
    headers = [*BASE_HEADERS, (b"accept-language", language.encode())]
    if cookie is not None:
        headers.append((b"cookie", cookie.encode()))
    communicator = WebsocketCommunicator(application(), path, headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def frames_until_quiet(communicator, quiet: float) -> list[str]:
    """Every frame that arrives until the connection is quiet for ``quiet`` seconds."""
    frames = []
    while not await communicator.receive_nothing(timeout=quiet):
        frames.append(await communicator.receive_from())
    return frames
