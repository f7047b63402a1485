"""The staff's and residents' disclosure pages: the work queue, publishing, objections,
progress (and its CSV import), completion, evaluating."""

import datetime as dt
import io
import re

import pytest
from django.urls import reverse
from PIL import Image

from council import clock
from disclosure.models import Disclosure, Evaluation, ProgressUpdate

pytestmark = pytest.mark.django_db

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def _jpeg_with_exif():
    image = Image.new("RGB", (64, 48), "orange")
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    out.name = "site.jpg"
    out.seek(0)
    return out


def test_the_work_queue_lists_drafts_objections_and_sign_ups(client, projects, world):
    proposal = projects.decided()
    world.resident(world.a, world.a_grid1, "newcomer", confirm=False)
    client.force_login(world.a_staff)
    page = client.get(reverse("staff_queue", args=[world.a.slug]), **EN).content.decode()
    assert reverse("disclosure", args=[projects.decision(proposal).pk]) in page
    assert "居民newcomer" in page
    for outsider in (world.b_staff, world.a_resident.user):
        client.force_login(outsider)
        assert client.get(reverse("staff_queue", args=[world.a.slug])).status_code == 404


def test_the_work_queue_counts_what_waits_and_shows_no_badge_reading_zero(client, world):
    world.resident(world.a, world.a_grid1, "newcomer", confirm=False)
    client.force_login(world.a_staff)
    page = client.get(reverse("staff_queue", args=[world.a.slug]), **EN).content.decode()
    badges = re.findall(r'<span class="badge">([^<]*)</span>', page)
    assert badges == ["1"], badges  # the one sign-up; the empty lists say "None." instead


def test_staff_publish_from_the_page_and_others_cannot(client, projects, world):
    draft = projects.decision(projects.decided())
    url = reverse("disclosure_publish", args=[draft.pk])
    client.force_login(world.b_staff)
    assert client.post(url).status_code == 404
    client.force_login(world.a_staff)
    response = client.post(url, follow=True, **EN)
    assert "Published." in response.content.decode()
    draft.refresh_from_db()
    assert draft.is_published


def test_a_resident_objects_and_staff_answer_through_the_pages(client, projects, world):
    decision = Disclosure.objects.get(proposal=projects.published(), status="published")
    client.force_login(world.a_resident.user)
    response = client.post(
        reverse("objection_lodge", args=[decision.pk]), {"text": "噪音扰民"}, follow=True, **EN
    )
    assert "Your objection is lodged" in response.content.decode()
    objection = decision.objections.get()
    client.force_login(world.a_staff)
    response = client.post(
        reverse("objection_answer", args=[objection.pk]), {"answer": "施工限定在白天。"}, **EN
    )
    assert response.status_code == 302
    objection.refresh_from_db()
    assert objection.answer == "施工限定在白天。"


def _progress_post(client, world, proposal, **fields):
    """The community's staff post a progress update on ``proposal``, dated today."""
    client.force_login(world.a_staff)
    return client.post(
        reverse("progress_new", args=[world.a.slug, proposal.pk]),
        {"date": clock.today().isoformat(), **fields},
        **EN,
    )


def test_staff_post_progress_with_a_photo_stripped_of_exif(client, projects, world):
    proposal = projects.in_progress()
    response = _progress_post(
        client,
        world,
        proposal,
        text="完成基础施工。",
        percent=40,
        spent="4000.00",
        provider=projects.provider.pk,
        photos=[_jpeg_with_exif()],
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    update = ProgressUpdate.objects.get(proposal=proposal)
    photo = update.photos.get()
    with Image.open(photo.image.path) as stored:
        assert not stored.getexif()


def test_the_progress_form_is_dated_today_in_every_language(client, projects, world):
    """A date input takes YYYY-MM-DD only: Chinese pages must not render 2026/03/01."""
    proposal = projects.in_progress()
    client.force_login(world.a_staff)
    url = reverse("progress_new", args=[world.a.slug, proposal.pk])
    for language in ("zh-hans", "en"):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert f'type="date" name="date" value="{clock.today().isoformat()}"' in page


def test_a_bad_progress_form_keeps_the_input_and_says_why(client, projects, world):
    proposal = projects.published()  # approved, not yet in progress
    response = _progress_post(
        client,
        world,
        proposal,
        text="提前开工",
        percent=10,
        spent="0",
        provider=projects.provider.pk,
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "only while a project is in progress" in page and "提前开工" in page


def test_the_csv_import_page_lists_problems_or_publishes_the_whole_file(client, projects, world):
    proposal = projects.in_progress()
    client.force_login(world.a_staff)
    header = "proposal_id,date,percent,spent,provider,text\n"
    good = f"{proposal.pk},{clock.today().isoformat()},20,2000,{projects.provider.name},进场\n"
    bad = f"{proposal.pk},bad,30,3000,{projects.provider.name},错\n"

    def post(data):
        upload = io.BytesIO(data.encode())
        upload.name = "progress.csv"
        url = reverse("progress_import", args=[world.a.slug])
        return client.post(url, {"file": upload}, **EN)

    response = post(header + good + bad)
    page = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was imported: 1 problem found" in page
    assert "<td>3</td><td>date</td>" in page and "YYYY-MM-DD" in page
    assert not ProgressUpdate.objects.exists()
    response = post(header + good)
    assert response.status_code == 200
    assert "1 update published" in response.content.decode()
    assert ProgressUpdate.objects.get().percent == 20


def test_completion_form_asks_to_explain_a_large_variance(client, projects, world):
    proposal = projects.in_progress()
    client.force_login(world.a_staff)
    url = reverse("completion_new", args=[world.a.slug, proposal.pk])
    data = {
        "acceptance_note": "验收合格",
        "actual": "20000.00",
        "provider": projects.provider.pk,
        "variance_explanation": "",
    }
    response = client.post(url, data, **EN)
    assert response.status_code == 400 and "more than 10%" in response.content.decode()
    data["variance_explanation"] = "居民要求增加照明点位。"
    assert client.post(url, data, **EN).status_code == 302
    proposal.refresh_from_db()
    assert proposal.stage == "completed"


def test_a_resident_evaluates_and_changes_it_on_the_page(client, projects, world):
    proposal = projects.completed()
    url = reverse("evaluate", args=[world.a.slug, proposal.pk])
    assert "Sign in to evaluate" in client.get(url, **EN).content.decode()
    client.force_login(world.a_member.user)
    client.post(url, {"rating": "basic", "comment": ""}, **EN)
    page = client.post(url, {"rating": "satisfied", "comment": "灯很亮"}, follow=True, **EN)
    assert "Your evaluation:" in page.content.decode()
    evaluation = Evaluation.objects.get(resident=world.a_member.user)
    assert evaluation.rating == "satisfied" and evaluation.comment == "灯很亮"
    client.force_login(world.b_resident.user)
    assert "Only residents of" in client.get(url, **EN).content.decode()


def test_awaiting_my_evaluation_and_the_reminder(
    client, projects, world, django_capture_on_commit_callbacks
):
    from council.models import Notification
    from disclosure import services

    proposal = projects.completed()
    client.force_login(world.a_member.user)
    page = client.get(reverse("evaluation_awaiting"), **EN).content.decode()
    assert proposal.title in page
    with clock.travel(dt.timedelta(days=12)), django_capture_on_commit_callbacks(execute=True):
        assert services.windows_remind() >= 1
    # In the recipient's language (Chinese by default), naming the project, linking to it.
    reminder = Notification.objects.get(recipient=world.a_member.user, text__contains="两天")
    assert proposal.title in reminder.text
    assert reminder.url == reverse("project", args=[world.a.slug, proposal.pk])


def test_staff_enter_paper_evaluations_and_close_the_window(client, projects, world):
    proposal = projects.completed()
    client.force_login(world.a_staff)
    client.post(
        reverse("evaluation_paper", args=[world.a.slug, proposal.pk]),
        {"paper-rating": "satisfied", "paper-comment": "纸质"},
        **EN,
    )
    response = client.post(
        reverse("evaluation_close", args=[world.a.slug, proposal.pk]),
        {"reason": "居民大会已集中评价"},
        follow=True,
        **EN,
    )
    assert "disclosure 3 is drafted" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.stage == "evaluated" and proposal.evaluation_window.verdict == "satisfied"
