"""Broadcasts to WebSocket groups, sent only once the transaction that caused them commits
(Zulip's ``send_event_on_commit``). Events carry ids, never HTML: each connection renders
what it receives for its own viewer."""

from __future__ import annotations

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


def thread_group(thread_id: int) -> str:
    return f"thread-{thread_id}"


def send_event_on_commit(group: str, event: dict) -> None:
    """Send ``event`` (a dict with a ``type`` naming the consumer's handler) to ``group``
    after the current transaction commits; nothing is sent if it rolls back."""

    def send() -> None:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(group, event)

    transaction.on_commit(send)
