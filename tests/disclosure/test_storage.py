"""Every file the app keeps goes through the configured storage, and comes back through the
app after its checks: here the store is Django's InMemoryStorage (a stand-in for a store that
several machines share), and the MEDIA_ROOT folder must stay empty."""

import datetime as dt
import hashlib
import io
from decimal import Decimal

import pytest
from django.core.files.storage import InMemoryStorage, default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from config.settings import media_storage
from council import clock
from council.models import EvidenceEvent
from disclosure import services
from disclosure.models import Disclosure, Kind, ProgressUpdate
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


# --- A store out of reach ---------------------------------------------------------------------


class ShakyStore(InMemoryStorage):
    """An in-memory store that goes out of reach on cue, as a shared store does when the
    network to it fails: after ``saves_left`` more saves it refuses every save, and while
    ``reachable`` is False every read."""

    saves_left: int | None = None
    reachable = True

    def _save(self, name, content):
        if self.saves_left is not None:
            if self.saves_left <= 0:
                raise ConnectionError("the store does not answer")
            self.saves_left -= 1
        return super()._save(name, content)

    def _open(self, name, mode="rb"):
        if not self.reachable:
            raise ConnectionError("the store does not answer")
        return super()._open(name, mode)


@pytest.fixture
def shaky(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": f"{__name__}.ShakyStore"},
    }
    return default_storage


def files_in(store, folder="") -> list[str]:
    """Every file the store holds (InMemoryStorage has no flat listing)."""
    folders, files = store.listdir(folder)
    found = [f"{folder}{name}" for name in files]
    for sub in folders:
        found += files_in(store, f"{folder}{sub}/")
    return found


STORE_DOWN_ZH = "系统暂时无法保存文件，本次提交未生效，请您过几分钟再试。"


def test_an_upload_the_store_cannot_take_is_refused_on_the_page_and_keeps_none_of_its_files(
    client, world, shaky
):
    proposer = world.a_resident.user
    draft = proposal_services.proposal_create(
        actor=proposer, community=world.a, data=dict(PROPOSAL_DATA)
    )
    client.force_login(proposer)
    # Two photos (a photo and its thumbnail each): the store goes away after three saves.
    shaky.saves_left = 3
    response = client.post(
        reverse("proposal_upload", args=[world.a.slug, draft.pk]),
        {
            "files": [
                SimpleUploadedFile(f"street{n}.jpg", jpeg(), content_type="image/jpeg")
                for n in (1, 2)
            ]
        },
        follow=True,
    )
    assert response.status_code == 200
    assert STORE_DOWN_ZH in response.content.decode()
    assert not Attachment.objects.exists()
    assert files_in(shaky) == []  # the first photo and both thumbnails saved went again

    shaky.saves_left = None  # back: the same upload goes through
    client.post(
        reverse("proposal_upload", args=[world.a.slug, draft.pk]),
        {"files": [SimpleUploadedFile("street.jpg", jpeg(), content_type="image/jpeg")]},
    )
    assert Attachment.objects.count() == 1 and len(files_in(shaky)) == 2


def test_publishing_while_the_store_is_out_of_reach_publishes_nothing_and_says_why(
    client, projects, world, shaky
):
    draft = projects.decision(projects.decided())
    shaky.saves_left = 0
    client.force_login(world.a_staff)
    response = client.post(reverse("disclosure_publish", args=[draft.pk]), follow=True)
    assert STORE_DOWN_ZH in response.content.decode()
    draft.refresh_from_db()
    assert not draft.is_published and not draft.pdf
    assert not EvidenceEvent.objects.filter(action="disclosure.published").exists()
    assert files_in(shaky) == []


def test_a_progress_update_whose_photos_the_store_cannot_take_is_not_posted_and_its_text_stays(
    client, projects, world, shaky
):
    proposal = projects.in_progress()
    shaky.saves_left = 1  # the photo, not its thumbnail
    client.force_login(world.a_staff)
    response = client.post(
        reverse("progress_new", args=[world.a.slug, proposal.pk]),
        {
            "date": clock.today().isoformat(),
            "text": "完成基础施工。",
            "percent": 40,
            "spent": "4000.00",
            "provider": projects.provider.pk,
            "photos": [SimpleUploadedFile("site.jpg", jpeg(), content_type="image/jpeg")],
        },
    )
    page = response.content.decode()
    assert response.status_code == 400 and STORE_DOWN_ZH in page
    assert "完成基础施工。" in page  # what staff typed is still on the form
    assert not ProgressUpdate.objects.filter(proposal=proposal).exists()
    assert not [name for name in files_in(shaky) if name.startswith("progress/")]


def test_a_file_in_a_store_out_of_reach_gets_the_busy_page_in_the_readers_language(
    projects, world, shaky
):
    decision = Disclosure.objects.get(
        proposal=projects.published(), kind=Kind.DECISION, status="published"
    )
    draft = proposal_services.proposal_create(
        actor=world.a_resident.user, community=world.a, data=dict(PROPOSAL_DATA)
    )
    attachment = proposal_services.attachment_add(
        actor=world.a_resident.user,
        proposal=draft,
        uploaded=SimpleUploadedFile("street.jpg", jpeg(), content_type="image/jpeg"),
    )
    shaky.reachable = False
    client = Client(raise_request_exception=False)
    client.force_login(world.a_resident.user)
    for url in (
        reverse("disclosure_pdf", args=[decision.pk]),
        reverse("attachment_file", args=[attachment.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 503 and response["Retry-After"]
        page = response.content.decode()
        assert "文件暂时无法打开" in page and "存放文件的系统暂时连不上，请您过几分钟再试。" in page
        english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "This file is not available right now" in english
        assert "The place where files are kept cannot be reached just now." in english

    shaky.reachable = True
    assert client.get(reverse("disclosure_pdf", args=[decision.pk])).status_code == 200
