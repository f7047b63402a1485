"""Every error page: 400, 403 (and a form's expired CSRF token), 404, 413, 429, 500 and 503.

Each is ``templates/<code>.html`` on the site's layout (``templates/error_base.html``), in the
reader's language, with no detail of what went wrong inside. The 500 and 503 pages never read
the database (it may be what failed): they leave out the parts of the layout that do. The
others use the whole layout, and fall back to the same plain one if the database fails while
they render.

- 413: a form body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (Django raises ``RequestDataTooBig``,
  which it would answer with a bare 400).
- 503, with ``Retry-After``: the database could not be reached in time — every pooled
  connection was lent and none came back within ``DATABASE_POOL_TIMEOUT``, or PostgreSQL
  refused ("too many clients") or is restarting — which Django would answer with a 500; or
  the file store could not be reached to open a file (``council.files``).
- 429: ``too_many_requests()`` for views that refuse for a while, and the answer to a
  ``RateLimited`` that no view caught.
"""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.template import context_processors, loader
from django.utils import translation

from council.errors import NotUnderstood, RateLimited, StoreUnavailable

logger = logging.getLogger(__name__)

RETRY_AFTER = 10  # seconds, in a 503's Retry-After and on its page

# PostgreSQL's SQLSTATEs for "cannot take you now": too many connections, starting up or
# shutting down, the server's own admin shutdown, crash recovery.
_UNAVAILABLE_SQLSTATES = {"53300", "57P01", "57P02", "57P03"}


def database_unavailable(error: BaseException | None) -> bool:
    """Whether ``error`` (or what caused it) says the database could not be reached, as
    opposed to a query that went wrong: then the answer is 503, not 500."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        module = type(error).__module__
        if module.startswith("psycopg_pool"):  # PoolTimeout, TooManyRequests
            return True
        if module.startswith("psycopg"):
            sqlstate = getattr(error, "sqlstate", None)
            if sqlstate in _UNAVAILABLE_SQLSTATES:
                return True
            # A failed connection attempt carries no SQLSTATE (refused, timed out, …).
            if sqlstate is None and type(error).__name__ == "OperationalError":
                return True
        if module == "sqlite3" and "database is locked" in str(error):
            return True
        error = error.__cause__ or error.__context__
    return False


class DatabaseBusyLogFilter(logging.Filter):
    """On ``django.request``: a request answered with the busy page (503) because the
    database could not lend a connection in time, or the file store could not be reached, is
    logged as one warning line, without the traceback — under load there may be hundreds, all
    alike, and the traceback says nothing the line does not. Any other error keeps its
    traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, StoreUnavailable):
            reason = "the file store could not be reached"  # council.files logged what it said
        elif error is not None and database_unavailable(error):
            reason = "the database could not lend a connection in time"
        else:
            return True
        record.msg = f"{record.msg} ({reason})"
        record.exc_info, record.exc_text = None, None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def _language(request) -> str:
    # Also when the error came before LocaleMiddleware chose the language.
    return translation.get_language_from_request(request) or settings.LANGUAGE_CODE


def render_error(
    request, status: int, context: dict | None = None, *, plain=False, headers=None
) -> HttpResponse:
    """The error page ``templates/<status>.html`` as a response with that status; ``plain``
    renders it without reading the database."""
    context = {"status": status, **(context or {})}
    template = loader.get_template(f"{status}.html")
    # A request refused before AuthenticationMiddleware (a bad Host header) has no user.
    plain = plain or not hasattr(request, "user")
    with translation.override(_language(request)):
        body = None
        if not plain:
            try:
                body = template.render(context, request)
            except DatabaseError as error:
                logger.warning("The %d page is plain: the database failed (%s)", status, error)
            except Exception:
                # An error page must answer whatever else is broken.
                logger.exception("The %d page is plain: its whole layout failed", status)
        if body is None:
            body = template.render(_plain_context(request, context))
    return HttpResponse(body, status=status, headers=headers)


def _plain_context(request, context: dict) -> dict:
    """What the layout needs, from context processors that never touch the database."""
    # Here, not at the top: the logging configuration imports this module before the apps
    # are ready, and council.display reaches the models.
    from council.display import large_text_remembered

    plain = {
        "plain": True,
        "request": request,
        "csrf_token": get_token(request),
        # 长辈版 from the browser's cookie: an elderly reader's busy page stays readable.
        "large_text": large_text_remembered(request),
        **context,
    }
    for processor in (context_processors.i18n, context_processors.csp):
        plain.update(processor(request))
    return plain


def bad_request(request, exception=None):
    if isinstance(exception, RequestDataTooBig):
        return render_error(request, 413, {"limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE})
    if isinstance(exception, NotUnderstood):
        return render_error(request, 400, {"error_text": str(exception)})
    return render_error(request, 400)


def permission_denied(request, exception=None):
    return render_error(request, 403)


def csrf_failure(request, reason=""):
    """``CSRF_FAILURE_VIEW``: a form sent from a stale page (or from elsewhere)."""
    return render_error(request, 403, {"reason": "csrf"})


def page_not_found(request, exception=None):
    return render_error(request, 404)


def too_many_requests(request, message: str = ""):
    """The 429 page, saying ``message`` (already in the reader's language) or, without
    one, that the reader did this too often and should wait a moment."""
    return render_error(request, 429, {"error_text": message})


def server_error(request):
    error = sys.exc_info()[1]
    if isinstance(error, StoreUnavailable) or database_unavailable(error):
        context = {"retry_after": RETRY_AFTER}
        if isinstance(error, StoreUnavailable):
            # A file the reader asked for, in a store that cannot be reached (council.files).
            context |= {"error_text": str(error), "store": True}
        return render_error(
            request, 503, context, plain=True, headers={"Retry-After": str(RETRY_AFTER)}
        )
    if isinstance(error, RateLimited):
        return render_error(request, 429, {"error_text": str(error)})
    return render_error(request, 500, plain=True)
