"""The site's URLs plus the floor view (``bench/served_settings.py``)."""

from django.http import HttpResponse
from django.urls import include, path

FLOOR_PATH = "/__bench__/floor/"


def floor(request):
    """The floor: the cheapest possible view, behind the full middleware stack."""
    return HttpResponse("ok")


urlpatterns = [path(FLOOR_PATH.strip("/") + "/", floor), path("", include("config.urls"))]

handler400 = "config.error_views.bad_request"
handler403 = "config.error_views.permission_denied"
handler404 = "config.error_views.page_not_found"
handler500 = "config.error_views.server_error"
