"""WSGI entry point: the pages, served by ``bin/serve``'s gunicorn page workers (WebSockets are
config.asgi's, on the daphne workers). It refuses to start without the keys config.asgi
needs, so that a worker without them fails at once rather than at its first sign-in or act."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

from django.conf import settings  # noqa: E402

settings.SECRET_KEY  # noqa: B018 ("The SECRET_KEY setting must not be empty")
# The evidence log's signing key: every act's write signs a checkpoint.
from council.evidence.checkpoints import log_signer  # noqa: E402

log_signer()
