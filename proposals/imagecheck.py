"""Is an uploaded photo whole? A structural check of JPEG, PNG, WebP and HEIF files.

Pillow decides whether a short file is an error through one process-wide switch,
``ImageFile.LOAD_TRUNCATED_IMAGES``; WeasyPrint turns it on when it is imported (and
pillow-heif reads it too). Flipping it back would race between threads, so the upload code
does not rely on it: before Pillow decodes anything, the file's own structure is walked here,
in plain Python, and a photo cut short anywhere (in transfer, or by a phone that ran out of
space) is told apart from a whole one whatever the switch says.

What "whole" means, per format:

- JPEG (and MPO, phones' multi-picture JPEG): every marker segment fits in the file, and the
  image reaches its end-of-image marker (``FFD9``) after its last scan. Bytes after that marker
  are allowed (phones append their own data there; an MPO's second picture is not used).
- PNG: every chunk fits and its CRC matches, up to the ``IEND`` chunk.
- WebP: the RIFF container's declared size is all there, and every chunk inside it fits.
- HEIF/HEIC: the top-level ISO-BMFF boxes fit exactly in the file, the last one ending at its
  end (pillow-heif's own decoding, which raises on a short image, checks the coded data).
"""

from __future__ import annotations

import zlib

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Markers without a length field: TEM, RST0-RST7, SOI, EOI.
_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD9)}


def _jpeg_whole(data: bytes) -> bool:
    if not data.startswith(b"\xff\xd8"):
        return False
    pos, end = 2, len(data)
    while pos < end:
        if data[pos] != 0xFF:
            return False  # a segment must start with a marker
        while pos < end and data[pos] == 0xFF:  # fill bytes may pad a marker
            pos += 1
        if pos >= end:
            return False
        marker = data[pos]
        pos += 1
        if marker == 0xD9:
            return True  # end of image
        if marker in _JPEG_STANDALONE:
            continue
        if pos + 2 > end:
            return False
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2 or pos + length > end:
            return False
        pos += length
        if marker == 0xDA:
            # Entropy-coded data follows a scan header: it ends at the first marker that is
            # neither a stuffed 0xFF (FF00) nor a restart marker (FFD0-FFD7).
            while True:
                pos = data.find(b"\xff", pos)
                if pos < 0 or pos + 1 >= end:
                    return False
                following = data[pos + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7:
                    pos += 2
                elif following == 0xFF:
                    pos += 1  # fill byte before a marker
                else:
                    break
    return False


def _png_whole(data: bytes) -> bool:
    if not data.startswith(_PNG_SIGNATURE):
        return False
    pos, end = len(_PNG_SIGNATURE), len(data)
    while pos + 12 <= end:
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        body_end = pos + 8 + length
        if body_end + 4 > end:
            return False
        crc = int.from_bytes(data[body_end : body_end + 4], "big")
        if zlib.crc32(data[pos + 4 : body_end]) != crc:
            return False
        if kind == b"IEND":
            return True
        pos = body_end + 4
    return False


def _webp_whole(data: bytes) -> bool:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return False
    riff_end = 8 + int.from_bytes(data[4:8], "little")
    if riff_end > len(data):
        return False
    pos = 12
    if pos + 8 > riff_end:
        return False  # no chunk at all
    while pos < riff_end:
        if pos + 8 > riff_end:
            return False
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        chunk_end = pos + 8 + size
        if chunk_end > riff_end:
            return False
        pos = chunk_end + (size & 1)  # chunks are padded to an even length
    return True


def _heif_whole(data: bytes) -> bool:
    pos, end = 0, len(data)
    if data[4:8] != b"ftyp":
        return False
    while pos < end:
        if pos + 8 > end:
            return False
        size = int.from_bytes(data[pos : pos + 4], "big")
        header = 8
        if size == 1:  # a 64-bit size follows the type
            if pos + 16 > end:
                return False
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
            header = 16
        elif size == 0:  # the box runs to the end of the file
            return True
        if size < header or pos + size > end:
            return False
        pos += size
    return True


_CHECKS = {
    "JPEG": _jpeg_whole,
    "MPO": _jpeg_whole,
    "PNG": _png_whole,
    "WEBP": _webp_whole,
    "HEIF": _heif_whole,
}


def photo_is_whole(data: bytes, image_format: str) -> bool:
    """Whether ``data``, a file Pillow identified as ``image_format`` (its ``format``), is
    structurally complete. ``False`` for a format not checked here (the caller accepts only
    these)."""
    check = _CHECKS.get(image_format)
    return check is not None and check(data)
