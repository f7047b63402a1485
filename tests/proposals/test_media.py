"""Uploaded photos are what they claim: a photo cut short in transfer is refused, whatever else
the process has imported (WeasyPrint sets Pillow's process-wide LOAD_TRUNCATED_IMAGES)."""

import io
import json
import os
import random
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from proposals.media import clean_upload

FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")


def photo_bytes(fmt: str, **options) -> bytes:
    """A noisy 240 x 180 photo (noise keeps every format's data long enough to cut)."""
    noise = random.Random(12)
    pixels = bytes(noise.randrange(256) for _ in range(240 * 180 * 3))
    out = io.BytesIO()
    Image.frombytes("RGB", (240, 180), pixels).save(out, fmt, **options)
    return out.getvalue()


def cuts(data: bytes) -> list[int]:
    """Where a transfer may stop: in the middle, near the end, two bytes short."""
    return [len(data) // 2, len(data) - 64, len(data) - 2]


def refused(data: bytes, name: str) -> bool:
    try:
        clean_upload(SimpleUploadedFile(name, data))
    except ValidationError:
        return True
    return False


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_truncated_photo_is_refused_after_weasyprint_is_imported(fmt):
    import weasyprint  # noqa: F401  (what the PDF code imports; it flips Pillow's switch)

    whole = photo_bytes(fmt)
    assert not refused(whole, f"whole.{fmt.lower()}")
    for cut in cuts(whole):
        assert refused(whole[:cut], f"cut.{fmt.lower()}"), f"{fmt} cut at {cut} of {len(whole)}"


def test_a_truncated_photo_gets_a_message_saying_so():
    whole = photo_bytes("JPEG")
    with pytest.raises(ValidationError) as caught:
        clean_upload(SimpleUploadedFile("IMG_0042.jpg", whole[: len(whole) // 2]))
    assert "IMG_0042.jpg" in caught.value.messages[0]
    assert "incomplete" in caught.value.messages[0] or "不完整" in caught.value.messages[0]


@pytest.mark.parametrize(
    ("fmt", "options"),
    [
        ("JPEG", {"progressive": True}),  # several scans, each with its own tables
        ("JPEG", {"exif": Image.Exif().tobytes(), "quality": 95}),
        ("PNG", {"optimize": True}),
        ("WEBP", {"lossless": True}),
        ("HEIF", {}),  # phones' HEIC
    ],
)
def test_whole_photos_of_every_kind_are_accepted(fmt, options):
    clean = clean_upload(SimpleUploadedFile(f"p.{fmt.lower()}", photo_bytes(fmt, **options)))
    assert clean.kind == "photo"
    assert Image.open(io.BytesIO(clean.content.read())).size == (240, 180)


def test_a_jpeg_with_bytes_after_its_end_is_still_a_photo():
    # Some phones append their own data after the image's end marker.
    assert not refused(photo_bytes("JPEG") + b"\x00vendor trailer", "trailer.jpg")


# Run in a fresh interpreter: whether weasyprint was imported before or after the upload code
# must not matter (module state decides Pillow's switch).
SCRIPT = """
import io, json, sys
import django
first = sys.argv[1]
if first == "weasyprint":
    import weasyprint
django.setup()
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from proposals.media import clean_upload
if first == "media":
    import weasyprint
from PIL import ImageFile
results = {"switch": ImageFile.LOAD_TRUNCATED_IMAGES}
for name, hexdata in json.loads(sys.stdin.read()).items():
    try:
        clean_upload(SimpleUploadedFile(name, bytes.fromhex(hexdata)))
        results[name] = "accepted"
    except ValidationError:
        results[name] = "refused"
print(json.dumps(results))
"""


@pytest.mark.parametrize("first", ["weasyprint", "media"])
def test_truncated_photos_are_refused_whichever_module_is_imported_first(first, tmp_path):
    files = {}
    for fmt in FORMATS:
        whole = photo_bytes(fmt)
        files[f"whole.{fmt}"] = whole.hex()
        for cut in cuts(whole):
            files[f"cut{cut}.{fmt}"] = whole[:cut].hex()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "1",
        "DATABASE_URL": "",
        "SQLITE_PATH": str(tmp_path / "unused.sqlite3"),
        "PYTHONPATH": str(settings.BASE_DIR),
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, first],
        input=json.dumps(files),
        capture_output=True,
        text=True,
        env=env,
        cwd=settings.BASE_DIR,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert results.pop("switch") is True  # weasyprint did flip it: the check must not care
    for name, outcome in results.items():
        assert outcome == ("accepted" if name.startswith("whole.") else "refused"), name
