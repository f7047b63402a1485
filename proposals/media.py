"""Uploaded photos and documents, checked by content and cleaned before anything is stored.

A photo (JPEG, PNG, WebP or a phone's HEIC) is checked whole (``proposals.imagecheck``: a
photo cut short is refused, whatever Pillow's process-wide switch for truncated images says),
decoded, turned upright, re-encoded as JPEG without its EXIF block (which holds GPS position
and camera details) and given a thumbnail for lists. A document must be a PDF by its bytes, not
by its name. Anything else is refused. ``upload_serve`` sends a stored file back: a photo
inline, a document only ever as a download.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.http import FileResponse
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import open_heif, register_heif_opener

from council.files import stored_file_open

from .imagecheck import photo_is_whole

register_heif_opener()
Image.MAX_IMAGE_PIXELS = 40_000_000  # larger is refused as a decompression bomb

MAX_BYTES = 10 * 1024 * 1024
MAX_SIDE = 2560
THUMB_SIDE = 320
PHOTO_FORMATS = {"JPEG", "PNG", "WEBP", "HEIF", "MPO"}


@dataclass
class CleanUpload:
    kind: str  # "photo" or "document"
    name: str
    content: ContentFile
    thumbnail: ContentFile | None


def _jpeg(image: Image.Image, side: int) -> bytes:
    image = image.copy()
    image.thumbnail((side, side))
    if image.mode not in ("RGB", "L"):
        background = Image.new("RGB", image.size, "white")
        background.paste(image, mask=image.convert("RGBA").split()[-1])
        image = background
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85, optimize=True)  # no exif= argument: EXIF is dropped
    return out.getvalue()


def clean_upload(uploaded) -> CleanUpload:
    """Check and clean one uploaded file, or raise ``ValidationError`` saying why."""
    if uploaded.size > MAX_BYTES:
        raise ValidationError(
            _("“%(name)s” is too large: files may be at most %(mb)d MB.")
            % {"name": uploaded.name, "mb": MAX_BYTES // (1024 * 1024)}
        )
    data = uploaded.read(MAX_BYTES + 1)
    stem = os.path.splitext(get_valid_filename(os.path.basename(uploaded.name)) or "file")[0]
    if data.startswith(b"%PDF-"):
        return CleanUpload("document", f"{stem[:100]}.pdf", ContentFile(data), None)
    try:
        with Image.open(io.BytesIO(data)) as probe:
            image_format = probe.format
            probe.verify()
        if image_format not in PHOTO_FORMATS:
            raise UnidentifiedImageError(image_format)
        if not photo_is_whole(data, image_format):
            raise ValidationError(
                _("“%(name)s” is incomplete: the file was cut short, perhaps while it was being "
                  "sent. Please upload it again.") % {"name": uploaded.name}
            )  # fmt: skip
        if image_format == "HEIF":
            # pillow-heif's Pillow plugin, too, ignores a decoding error while the switch is
            # on; its own decoder raises.
            image = open_heif(io.BytesIO(data)).to_pillow()
        else:
            image = Image.open(io.BytesIO(data))
        image = ImageOps.exif_transpose(image)
        image.load()
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        EOFError,
        RuntimeError,
        Image.DecompressionBombError,
    ) as error:
        raise ValidationError(
            _("“%(name)s” is not a photo (JPEG, PNG, WebP, HEIC) or a PDF document.")
            % {"name": uploaded.name}
        ) from error
    return CleanUpload(
        "photo",
        f"{stem[:100]}.jpg",
        ContentFile(_jpeg(image, MAX_SIDE)),
        ContentFile(_jpeg(image, THUMB_SIDE)),
    )


def upload_serve(field, content_type: str, filename: str) -> FileResponse:
    """The stored file of ``field`` as a response (404 if there is none, or it is gone; the
    busy page if the store cannot be reached: ``council.files.stored_file_open``),
    streamed from whichever storage keeps it (``STORAGES["default"]``): never a redirect to
    the store, so no file ever has an address that skips the caller's permission check.

    Only a JPEG, which is always a photo this module re-encoded, is shown inline. Anything else
    (a PDF is the uploader's own bytes: it may carry scripts, forms and links) is downloaded,
    never rendered in the site's origin, and never sniffed as anything but ``content_type``.
    """
    response = FileResponse(
        stored_file_open(field),
        content_type=content_type,
        filename=filename,
        as_attachment=content_type != "image/jpeg",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
