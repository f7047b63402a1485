"""Minimal settings for the realtime benchmark's floor (bench/echo_asgi.py).

No database, no templates, no middleware: only what a Channels consumer needs, and the same
Redis channel layer as ``config.settings`` (REDIS_URL, the same pool size).
"""

import os

DEBUG = False
SECRET_KEY = os.environ.get("SECRET_KEY") or "bench-echo-only-secret-key-" + "x" * 30
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1").split(",") if h]
INSTALLED_APPS = ["channels"]
DATABASES: dict = {}
USE_TZ = True

_REDIS_URL = os.environ.get("REDIS_URL", "")
if _REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py 8 also made socket_timeout default to 5 s, the length of channels-redis's
            # blocking BZPOPMIN: an idle receive then raises TimeoutError and the consumer dies
            # (django/channels_redis#422). None is redis-py 7's default.
            "CONFIG": {
                "hosts": [{"address": _REDIS_URL, "max_connections": 1000, "socket_timeout": None}]
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
