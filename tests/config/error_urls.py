"""The site's URLs plus two views that refuse as some views do: for the 403 and 429 pages,
which no public page of the site answers on request."""

from django.core.exceptions import PermissionDenied
from django.urls import path
from django.utils.translation import gettext

from config.error_views import too_many_requests
from config.urls import handler400, handler403, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as site
from council.errors import RateLimited


def forbidden(request):
    raise PermissionDenied


def throttled(request):
    return too_many_requests(request)


def rate_limited(request):
    # As a service raises it: a message in the reader's language.
    raise RateLimited(gettext("Too many requests"))


urlpatterns = [
    path("test-forbidden/", forbidden),
    path("test-throttled/", throttled),
    path("test-rate-limited/", rate_limited),
    *site,
]
