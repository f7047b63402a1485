"""Responses sent as they are written (a file of any size in constant memory), under WSGI and
ASGI alike.

Django's ``StreamingHttpResponse`` reads a *synchronous* iterator whole before sending it when
it serves ASGI (daphne), and an *asynchronous* one whole when it serves WSGI: either way a large
export would sit in memory. ``streaming_response`` gives each server the kind it streams: under
ASGI, an async iterator that pulls each piece from the synchronous one in the request's own
thread (``thread_sensitive``: the one whose database connection the view used), so the pieces
are read from the database as the client takes them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse


def streaming_response(request, pieces: Iterator[bytes], **kwargs) -> StreamingHttpResponse:
    content = _pulled(pieces) if isinstance(request, ASGIRequest) else pieces
    return StreamingHttpResponse(content, **kwargs)


async def _pulled(pieces: Iterator[bytes]) -> AsyncIterator[bytes]:
    # next() with a default: StopIteration cannot cross sync_to_async's future.
    pull = sync_to_async(next, thread_sensitive=True)
    try:
        while (piece := await pull(pieces, None)) is not None:
            yield piece
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            await sync_to_async(close, thread_sensitive=True)()
