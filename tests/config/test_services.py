"""The channel layer and cache the settings choose actually carry messages and values.

On the PostgreSQL + Redis run of CI this goes through Redis; on the embedded default through
the in-memory layer and the local cache.
"""

import asyncio

import pytest
from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache


async def test_a_group_message_reaches_every_channel_in_the_group():
    layer = get_channel_layer()
    first, second = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("thread-1", first)
    await layer.group_add("thread-1", second)
    await layer.group_send("thread-1", {"type": "thread.message", "id": 42})
    got = await asyncio.wait_for(
        asyncio.gather(layer.receive(first), layer.receive(second)), timeout=5
    )
    assert [m["id"] for m in got] == [42, 42]
    await layer.group_discard("thread-1", first)
    await layer.group_discard("thread-1", second)


@pytest.mark.redis
def test_with_redis_url_the_channel_layer_and_cache_are_redis():
    assert isinstance(get_channel_layer(), RedisChannelLayer)
    cache.set("weishi-probe", "东湖", 10)
    assert cache.get("weishi-probe") == "东湖"
    assert isinstance(caches["default"], RedisCache)
