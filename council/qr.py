"""QR codes of the site's addresses, and the site's public address itself.

``site_url`` is the site's public origin, for documents and links made without a request;
``absolute_url`` makes a path absolute, from ``SITE_URL`` or the request. ``qr_data_uri`` and
``qr_svg`` draw a QR code of an address, as a ``data:`` URI for a PDF's ``<img>`` or as inline
SVG for a page (segno; light to import, unlike ``council.pdf``).
"""

from __future__ import annotations

import segno
from django.conf import settings
from django.utils.safestring import SafeString, mark_safe

# Where a document says to go when settings.SITE_URL is not set (``make run`` sets it to where
# it serves; this is its default address).
FALLBACK_SITE_URL = "http://127.0.0.1:8000"


def site_url() -> str:
    """The site's public origin for documents rendered without a request."""
    return (getattr(settings, "SITE_URL", "") or FALLBACK_SITE_URL).rstrip("/")


def absolute_url(path: str, request=None) -> str:
    """The absolute address of a path of this site: ``SITE_URL`` if set, else the
    request's own origin, else the fallback."""
    if getattr(settings, "SITE_URL", "") or request is None:
        return site_url() + path
    return request.build_absolute_uri(path)


def qr_data_uri(url: str) -> str:
    """A QR code of ``url`` as an SVG ``data:`` URI (vector: sharp at any print size)."""
    return segno.make(url, error="m", micro=False).svg_data_uri(border=4, omitsize=True)


def qr_svg(url: str, title: str = "") -> SafeString:
    """A QR code of ``url`` as inline SVG for a page: segno writes every byte of it (the
    address is encoded as modules, and the title is escaped by segno), so it is safe."""
    svg = segno.make(url, error="m", micro=False).svg_inline(
        border=4, omitsize=True, title=title or None, svgclass="qr", lineclass=None
    )
    return mark_safe(svg)  # noqa: S308 - segno's own markup, escaped text only
