"""Every file the app keeps goes through the configured storage, and comes back through the
app after its checks: here the store is Django's InMemoryStorage (a stand-in for a store that
several machines share), and the MEDIA_ROOT folder must stay empty."""

import datetime as dt
import hashlib
import io
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from config.settings import media_storage
from council import clock
from disclosure import services
from disclosure.models import Disclosure, Kind
from proposals import services as proposal_services
from proposals.models import Attachment
from tests.proposals.conftest import PROPOSAL_DATA

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def store(settings):
    """The default storage is an in-memory store, configured as the environment would."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": media_storage("django.core.files.storage.InMemoryStorage", ""),
    }
    assert default_storage.__class__.__name__ == "InMemoryStorage"
    return default_storage


def media_root_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(out, "JPEG")
    return out.getvalue()


def body(response) -> bytes:
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content)


def stored(field) -> bytes:
    with default_storage.open(field.name, "rb") as handle:
        return handle.read()


def test_a_proposal_photo_goes_to_the_store_and_is_served_only_to_who_may_see_it(
    client, world, settings, store
):
    proposer = world.a_resident.user
    draft = proposal_services.proposal_create(
        actor=proposer, community=world.a, data=dict(PROPOSAL_DATA)
    )
    client.force_login(proposer)
    response = client.post(
        reverse("proposal_upload", args=[world.a.slug, draft.pk]),
        {"files": [SimpleUploadedFile("street.jpg", jpeg(), content_type="image/jpeg")]},
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert store.exists(attachment.file.name) and store.exists(attachment.thumbnail.name)

    file_url = reverse("attachment_file", args=[attachment.pk])
    thumb_url = reverse("attachment_thumbnail", args=[attachment.pk])
    # A draft's photo: its proposer gets it, never to be kept by a shared cache …
    own = client.get(file_url)
    assert body(own) == stored(attachment.file)
    assert own["Content-Type"] == "image/jpeg" and "private" in own["Cache-Control"]
    assert body(client.get(thumb_url)) == stored(attachment.thumbnail)
    # … and nobody else does.
    client.force_login(world.b_resident.user)
    assert client.get(file_url).status_code == 404
    client.logout()
    assert client.get(file_url).status_code == 404

    # Once the proposal is public, anyone may see it.
    proposal_services.proposal_submit(actor=proposer, proposal=draft)
    assert body(client.get(file_url)) == stored(attachment.file)
    assert media_root_files(settings) == []


def test_published_pdfs_and_progress_photos_go_to_the_store_and_are_served_from_it(
    client, projects, settings, store
):
    proposal = projects.in_progress()
    decision = Disclosure.objects.get(proposal=proposal, kind=Kind.DECISION, status="published")
    assert store.exists(decision.pdf.name)
    pdf = body(client.get(reverse("disclosure_pdf", args=[decision.pk])))
    assert pdf.startswith(b"%PDF-") and hashlib.sha256(pdf).hexdigest() == decision.pdf_sha256

    png = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(png, "PNG")
    update = services.progress_post(
        actor=projects.staff,
        proposal=proposal,
        date=clock.today() + dt.timedelta(days=1),
        text="安装灯具。",
        percent=60,
        spent=Decimal("6000.00"),
        provider=projects.contractor,
        photos=[SimpleUploadedFile("site.png", png.getvalue(), content_type="image/png")],
    )
    photo = update.photos.get()
    assert store.exists(photo.image.name) and store.exists(photo.thumbnail.name)
    served = body(client.get(reverse("progress_photo", args=[photo.pk])))
    assert served == stored(photo.image) and served.startswith(b"\xff\xd8")  # re-encoded JPEG
    assert body(client.get(reverse("progress_thumb", args=[photo.pk]))) == stored(photo.thumbnail)
    assert media_root_files(settings) == []


def test_a_file_gone_from_the_store_is_not_found_not_an_error(client, projects, store):
    proposal = projects.published()
    decision = Disclosure.objects.get(proposal=proposal, kind=Kind.DECISION, status="published")
    store.delete(decision.pdf.name)
    assert client.get(reverse("disclosure_pdf", args=[decision.pk])).status_code == 404
