"""A proposal's page and its actions, as people meet them through the browser (test client)."""

import datetime as dt
import html
import io
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from council import clock
from council.models import Community
from proposals import services
from proposals.lifecycle import Move
from proposals.models import Attachment, CoSign, Proposal, Revision, Stage

from .conftest import PROPOSAL_DATA

pytestmark = pytest.mark.django_db

ALL_CHECKS = dict.fromkeys(
    ["in_scope", "within_cap", "not_property_duty", "not_government_duplicate", "in_community"],
    "on",
)


@pytest.fixture(autouse=True)
def _english(settings):
    # The pages' new strings are not in the Chinese catalogue yet: read them in English.
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def url(name, proposal, **query):
    path = reverse(name, args=[proposal.community.slug, proposal.pk])
    if query:
        path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return path


def form_data(**overrides):
    return {**PROPOSAL_DATA, "estimated_cost": "12000.00", **overrides}


def page_text(client, proposal):
    response = client.get(url("proposal", proposal))
    assert response.status_code == 200
    return response.content.decode()


def follow_messages(client, response):
    """The messages shown on the page a POST redirected to."""
    assert response.status_code == 302, response.status_code
    return page_messages(client.get(response.url))


def page_messages(response):
    found = re.findall(r'<p class="message [^"]*">(.*?)</p>', response.content.decode(), re.S)
    return [html.unescape(m) for m in found]


def jpeg_with_exif(size=(64, 48)):
    image = Image.new("RGB", size, "orange")
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    exif[0x0110] = "Camera model"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png_bytes(size=(32, 32)):
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 128, 0, 200)).save(out, "PNG")
    return out.getvalue()


def upload(name, content, content_type="image/jpeg"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def cosign(client, user, proposal, action="add", **extra):
    client.force_login(user)
    return client.post(url("proposal_cosign", proposal), {"action": action}, **extra)


def move(client, user, proposal, name, **data):
    client.force_login(user)
    return client.post(
        url("proposal_move", proposal), {"move": name, "seen_stage": proposal.stage, **data}
    )


# --- Every page renders ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "stage",
    [
        Stage.SUBMITTED,
        Stage.UNDER_REVIEW,
        Stage.CONSULTATION,
        Stage.VOTING,
        Stage.INADMISSIBLE,
        Stage.EVALUATED,
    ],
)
@pytest.mark.parametrize("who", [None, "a_staff", "a_resident", "a_expert", "b_resident"])
def test_a_public_proposal_page_renders_for_everyone(client, world, proposals, stage, who):
    proposal = proposals.make(stage)
    if who:
        client.force_login(world.user(who))
    text = page_text(client, proposal)
    assert proposal.title in text
    assert proposal.get_stage_display() in text
    assert "幸福路北段<strong>三盏</strong>路灯已坏两个月" in text  # the stored HTML, unescaped


def test_create_edit_revise_and_diff_pages_render(client, world, proposals):
    client.force_login(world.a_resident.user)
    assert client.get(reverse("proposal_create", args=[world.a.slug])).status_code == 200
    draft = proposals.make(Stage.DRAFT)
    assert client.get(url("proposal_edit", draft)).status_code == 200
    consulted = proposals.make(Stage.CONSULTATION)
    page = client.get(url("proposal_revise", consulted))
    assert page.status_code == 200
    assert 'name="seen_revision" value="1"' in page.content.decode()
    assert client.get(url("proposal_diff", consulted)).status_code == 200


# --- Writing a proposal ---------------------------------------------------------------------


def test_a_resident_saves_a_draft_then_submits_it(client, world):
    client.force_login(world.a_resident.user)
    response = client.post(reverse("proposal_create", args=[world.a.slug]), form_data(save="draft"))
    proposal = Proposal.objects.get()
    assert response.status_code == 302 and response.url == url("proposal", proposal)
    assert proposal.stage == Stage.DRAFT and proposal.proposer == world.a_resident.user
    assert "Your draft is saved" in " ".join(follow_messages(client, response))

    response = client.post(url("proposal_edit", proposal), form_data(title="更换路灯", submit="1"))
    proposal.refresh_from_db()
    assert proposal.stage == Stage.SUBMITTED and proposal.title == "更换路灯"
    assert Revision.objects.filter(proposal=proposal, number=1).exists()
    assert "gathers co-signs" in " ".join(follow_messages(client, response))


def test_a_resident_can_submit_straight_from_the_new_proposal_form(client, world):
    client.force_login(world.a_resident.user)
    client.post(reverse("proposal_create", args=[world.a.slug]), form_data(submit="1"))
    assert Proposal.objects.get().stage == Stage.SUBMITTED


def test_submitting_outside_the_collection_window_keeps_the_draft_and_says_why(client, world):
    client.force_login(world.a_resident.user)
    with clock.travel(dt.timedelta(days=60)):
        response = client.post(
            reverse("proposal_create", args=[world.a.slug]), form_data(submit="1")
        )
        proposal = Proposal.objects.get()
        assert proposal.stage == Stage.DRAFT
        assert response.url == url("proposal_edit", proposal)
        shown = " ".join(follow_messages(client, response))
    assert "saved but not submitted" in shown
    assert "collection window" in shown


def test_staff_enter_a_paper_proposal_on_a_residents_behalf(client, world):
    client.force_login(world.a_staff)
    form = client.get(reverse("proposal_create", args=[world.a.slug])).content.decode()
    assert 'name="on_behalf_of"' in form and world.a_resident.user.display_name in form
    assert world.b_resident.user.display_name not in form
    client.post(
        reverse("proposal_create", args=[world.a.slug]),
        form_data(on_behalf_of=world.a_resident.user.pk, submit="1"),
    )
    proposal = Proposal.objects.get()
    assert proposal.proposer == world.a_resident.user and proposal.entered_by == world.a_staff
    assert proposal.stage == Stage.SUBMITTED
    client.logout()
    text = page_text(client, proposal)
    assert "entered on their behalf by staff" in text
    assert world.a_resident.user.display_name in text


def test_staff_cannot_enter_a_proposal_for_someone_of_another_community(client, world):
    client.force_login(world.a_staff)
    response = client.post(
        reverse("proposal_create", args=[world.a.slug]),
        form_data(on_behalf_of=world.b_resident.user.pk),
    )
    assert response.status_code == 200 and "has-error" in response.content.decode()
    assert not Proposal.objects.exists()


@pytest.mark.parametrize("who", [None, "b_resident", "b_staff", "a_expert", "a_worker1"])
def test_people_who_may_not_propose_get_a_clear_message_and_nothing_is_saved(client, world, who):
    if who:
        client.force_login(world.user(who))
    path = reverse("proposal_create", args=[world.a.slug])
    for response in (client.get(path), client.post(path, form_data(submit="1"))):
        assert response.status_code == 403
        assert "Only confirmed residents of 东湖社区 can propose here." in (
            response.content.decode()
        )
    assert not Proposal.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("title", "", "This field is required."),
        ("title", "   ", "This field is required."),
        ("title", "路" * 81, "at most 80 characters"),
        ("summary", "", "This field is required."),
        ("body", "x" * 10_001, "at most 10000 characters"),
        ("estimated_cost", "0", "greater than or equal to 0.01"),
        ("estimated_cost", "-5", "greater than or equal to 0.01"),
        ("estimated_cost", "abc", "Enter a number."),
        ("estimated_cost", "500000.01", "above the cap of ¥500,000.00"),
        ("project_type", "palace", "Select a valid choice"),
    ],
)
def test_bad_input_is_shown_on_its_field_and_nothing_is_saved(
    client, world, field, value, expected
):
    client.force_login(world.a_resident.user)
    response = client.post(
        reverse("proposal_create", args=[world.a.slug]), form_data(**{field: value}, submit="1")
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors and expected in " ".join(errors[field])
    assert f'id="id_{field}_error"' in response.content.decode()
    assert not Proposal.objects.exists()


def test_photos_and_documents_come_with_a_new_proposal(client, world, media):
    client.force_login(world.a_resident.user)
    client.post(
        reverse("proposal_create", args=[world.a.slug]),
        {
            **form_data(save="draft"),
            "files": [
                upload("lamp.png", png_bytes(), "image/png"),
                upload("quote.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"),
            ],
        },
    )
    proposal = Proposal.objects.get()
    kinds = sorted(a.kind for a in proposal.attachments.all())
    assert kinds == ["document", "photo"]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("photo.jpg", b"just some text, not a photo", "is not a photo"),
        ("big.jpg", b"\xff" * (11 * 1024 * 1024), "too large"),
    ],
)
def test_a_bad_file_leaves_no_proposal_behind(client, world, media, name, content, expected):
    client.force_login(world.a_resident.user)
    response = client.post(
        reverse("proposal_create", args=[world.a.slug]),
        {**form_data(submit="1"), "files": [upload("ok.png", png_bytes()), upload(name, content)]},
    )
    assert response.status_code == 200
    assert expected in " ".join(response.context["form"].errors["files"])
    assert not Proposal.objects.exists() and not Attachment.objects.exists()
    assert not any(media.rglob("*.jpg"))


def test_only_a_draft_is_edited(client, world, proposals):
    proposal = proposals.make(Stage.SUBMITTED)
    client.force_login(world.a_resident.user)
    response = client.get(url("proposal_edit", proposal))
    assert "a submitted proposal is revised" in " ".join(follow_messages(client, response))
    client.force_login(world.a_member.user)
    assert client.get(url("proposal_edit", proposal)).status_code == 404


# --- Who sees what --------------------------------------------------------------------------


@pytest.mark.parametrize("who", [None, "a_member", "b_resident", "b_staff", "a_expert"])
def test_a_draft_is_404_to_everyone_but_its_proposer_and_staff(client, world, proposals, who):
    draft = proposals.make(Stage.DRAFT)
    if who:
        client.force_login(world.user(who))
    assert client.get(url("proposal", draft)).status_code == 404
    assert client.get(url("proposal_edit", draft)).status_code == 404
    assert client.post(url("proposal_cosign", draft), {"action": "add"}).status_code == 404
    for mine in (world.a_resident.user, world.a_staff):
        client.force_login(mine)
        assert client.get(url("proposal", draft)).status_code == 200
        client.logout()


def test_a_proposal_of_another_community_is_404_under_this_communitys_address(
    client, world, proposals
):
    proposal = proposals.make(Stage.SUBMITTED)
    wrong = reverse("proposal", args=[world.b.slug, proposal.pk])
    assert client.get(wrong).status_code == 404
    client.force_login(world.b_staff)
    wrong_move = reverse("proposal_move", args=[world.b.slug, proposal.pk])
    assert client.post(wrong_move, {"move": "take_up", "seen_stage": "submitted"}).status_code == (
        404
    )
    assert client.get(reverse("proposal", args=["nowhere", proposal.pk])).status_code == 404


def test_user_text_is_never_shown_unescaped(client, world):
    client.force_login(world.a_resident.user)
    client.post(
        reverse("proposal_create", args=[world.a.slug]),
        form_data(
            title="<script>alert('t')</script>路灯",
            summary="<img src=x onerror=alert(1)>",
            body="正文<script>alert('b')</script>\n\n<a href='javascript:alert(1)'>x</a>",
            location="<b>幸福路</b>",
            submit="1",
        ),
    )
    proposal = Proposal.objects.get()
    client.logout()
    text = page_text(client, proposal)
    assert "<script>alert" not in text
    assert "<img src=x" not in text and "<b>幸福路</b>" not in text
    assert "javascript:" not in text
    assert "&lt;script&gt;alert(&#x27;t&#x27;)&lt;/script&gt;路灯" in text


# --- Co-signs -------------------------------------------------------------------------------


def test_five_co_signs_move_the_proposal_to_review_and_the_page_shows_it(client, world, proposals):
    proposal = proposals.make(Stage.SUBMITTED)
    client.logout()
    assert "0 / 5" in page_text(client, proposal)
    for i in range(5):
        response = cosign(client, proposals.cosigner(i), proposal)
        assert response.status_code == 302
        if i == 2:
            text = page_text(client, proposal)
            assert '<progress id="cosign-progress" value="3" max="5">' in text
            assert "3 / 5" in text
    proposal.refresh_from_db()
    assert proposal.stage == Stage.UNDER_REVIEW
    shown = page_messages(client.get(response.url))
    assert any("enough support" in m for m in shown)
    client.logout()
    text = page_text(client, proposal)
    assert "under review" in text and "5 residents co-signed." in text


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("b_resident", "Only residents of 东湖社区 can co-sign."),
        ("a_staff", "Only residents of 东湖社区 can co-sign."),
        ("a_resident", "You cannot co-sign your own proposal."),
        (None, "Sign in first: only residents of 东湖社区 can co-sign."),
    ],
)
def test_co_signs_that_are_refused_say_why(client, world, proposals, who, message):
    proposal = proposals.make(Stage.SUBMITTED)
    if who:
        client.force_login(world.user(who))
    response = client.post(url("proposal_cosign", proposal), {"action": "add"})
    assert message in follow_messages(client, response)
    assert not CoSign.objects.exists()


def test_co_signing_twice_is_refused_and_a_co_sign_can_be_taken_back(client, world, proposals):
    proposal = proposals.make(Stage.SUBMITTED)
    member = world.a_member.user
    cosign(client, member, proposal)
    response = cosign(client, member, proposal)
    assert "You have already co-signed this proposal." in follow_messages(client, response)
    assert CoSign.objects.filter(proposal=proposal).count() == 1
    assert "Take back my co-sign" in page_text(client, proposal)

    response = cosign(client, member, proposal, action="withdraw")
    assert "Your co-sign is taken back." in follow_messages(client, response)
    assert not CoSign.objects.exists()
    response = cosign(client, member, proposal, action="withdraw")
    assert "You have not co-signed this proposal." in follow_messages(client, response)


def test_with_htmx_the_co_sign_box_alone_comes_back_with_the_outcome(client, world, proposals):
    proposal = proposals.make(Stage.SUBMITTED)
    response = cosign(client, world.a_member.user, proposal, HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert response.status_code == 200
    assert text.lstrip().startswith('<section id="cosign-box"')
    assert "1 / 5" in text and "Thank you: you co-signed this proposal." in text
    assert "<html" not in text

    refused = cosign(client, world.b_resident.user, proposal, HTTP_HX_REQUEST="true")
    assert "Only residents of 东湖社区 can co-sign." in refused.content.decode()


def test_with_htmx_the_co_sign_that_reaches_the_threshold_reloads_the_page(
    client, world, proposals
):
    proposal = proposals.make(Stage.SUBMITTED)
    for i in range(4):
        cosign(client, proposals.cosigner(i), proposal)
    response = cosign(client, proposals.cosigner(4), proposal, HTTP_HX_REQUEST="true")
    assert response.headers.get("HX-Refresh") == "true"


# --- Review ---------------------------------------------------------------------------------


def test_staff_record_the_checklist_and_admit(client, world, proposals):
    proposal = proposals.make(Stage.UNDER_REVIEW)
    client.force_login(world.a_staff)
    assert "Record the checklist" in page_text(client, proposal)
    response = client.post(
        url("proposal_admissibility", proposal), {**ALL_CHECKS, "in_scope": "", "note": "缺"}
    )
    assert "not every item holds" in " ".join(follow_messages(client, response))
    response = move(client, world.a_staff, proposal, Move.ADMIT)
    assert "every item confirmed" in " ".join(follow_messages(client, response))

    client.post(url("proposal_admissibility", proposal), ALL_CHECKS)
    response = move(client, world.a_staff, proposal, Move.ADMIT)
    proposal.refresh_from_db()
    assert proposal.stage == Stage.CONSULTATION
    assert "in consultation" in " ".join(follow_messages(client, response))


def test_residents_cannot_record_the_checklist(client, world, proposals):
    proposal = proposals.make(Stage.UNDER_REVIEW)
    client.force_login(world.a_member.user)
    assert "Record the checklist" not in page_text(client, proposal)
    response = client.post(url("proposal_admissibility", proposal), ALL_CHECKS)
    assert "Only staff of this community can do this." in follow_messages(client, response)
    assert not proposal.admissibility_reviews.exists()


def test_an_inadmissible_proposal_shows_its_reason_to_the_public(client, world, proposals):
    proposal = proposals.make(Stage.UNDER_REVIEW)
    response = move(client, world.a_staff, proposal, Move.DECLARE_INADMISSIBLE, reason="  ")
    assert "Write the reason; it is published." in follow_messages(client, response)
    move(client, world.a_staff, proposal, Move.DECLARE_INADMISSIBLE, reason="属于物业<b>职责</b>")
    proposal.refresh_from_db()
    assert proposal.stage == Stage.INADMISSIBLE
    client.logout()
    text = page_text(client, proposal)
    assert "Why it is inadmissible" in text
    assert "属于物业&lt;b&gt;职责&lt;/b&gt;" in text or "属于物业职责" in text
    assert "<b>职责</b>" not in text


def test_merging_carries_co_signs_over_and_both_pages_link(client, world, proposals):
    source = proposals.make(Stage.SUBMITTED)
    cosign(client, world.a_member.user, source)
    target = proposals.make(Stage.SUBMITTED, title="幸福路照明改造")
    move(client, world.a_staff, source, Move.TAKE_UP)
    source.refresh_from_db()
    page = page_text(client, source)
    assert 'value="merge"' in page
    assert f'<option value="{target.pk}">#{target.pk} 幸福路照明改造</option>' in page
    response = move(client, world.a_staff, source, Move.MERGE, target=target.pk)
    source.refresh_from_db()
    assert source.stage == Stage.MERGED and source.merged_into == target
    assert "merged" in " ".join(follow_messages(client, response))
    # The member's co-sign is carried over; the proposer is the same person for both.
    assert set(target.cosigns.values_list("user", flat=True)) == {world.a_member.user.pk}
    client.logout()
    assert url("proposal", target) in page_text(client, source)
    assert url("proposal", source) in page_text(client, target)


def _merge_that_reaches_the_threshold(client, world, proposals):
    source = proposals.make(Stage.SUBMITTED)
    for i in range(4):
        cosign(client, proposals.cosigner(i), source)
    target = proposals.make(Stage.SUBMITTED, title="幸福路照明改造")
    cosign(client, world.a_member.user, target)  # 1 + 4 carried over = the threshold of 5
    move(client, world.a_staff, source, Move.TAKE_UP)
    source.refresh_from_db()
    return source, target, move(client, world.a_staff, source, Move.MERGE, target=target.pk)


def test_a_merge_that_brings_the_target_to_its_threshold_sends_it_to_review(
    client, world, proposals
):
    source, target, response = _merge_that_reaches_the_threshold(client, world, proposals)
    assert "Done: the proposal is now merged." in follow_messages(client, response)
    source.refresh_from_db()
    target.refresh_from_db()
    assert source.stage == Stage.MERGED
    assert target.stage == Stage.UNDER_REVIEW
    assert target.cosigns.count() == 5


def test_merging_into_nothing_or_into_itself_is_refused(client, world, proposals):
    proposal = proposals.make(Stage.UNDER_REVIEW)
    for target in ("", "abc", str(proposal.pk), "999999"):
        response = move(client, world.a_staff, proposal, Move.MERGE, target=target)
        assert "Choose another proposal to merge into." in follow_messages(client, response)
    proposal.refresh_from_db()
    assert proposal.stage == Stage.UNDER_REVIEW


def test_a_proposal_gathering_co_signs_offers_no_merge_and_refuses_one(client, world, proposals):
    source = proposals.make(Stage.SUBMITTED)
    target = proposals.make(Stage.SUBMITTED, title="幸福路照明改造")
    client.force_login(world.a_staff)
    assert 'value="merge"' not in page_text(client, source)
    response = move(client, world.a_staff, source, Move.MERGE, target=target.pk)
    assert "This cannot be done while the proposal is gathering co-signs." in follow_messages(
        client, response
    )
    source.refresh_from_db()
    assert source.stage == Stage.SUBMITTED and source.merged_into is None


def test_a_stale_page_cannot_act(client, world, proposals):
    proposal = proposals.make(Stage.SUBMITTED)
    client.force_login(world.a_staff)
    response = client.post(
        url("proposal_move", proposal), {"move": Move.TAKE_UP, "seen_stage": Stage.DRAFT}
    )
    assert "has moved on since you opened the page" in " ".join(follow_messages(client, response))
    proposal.refresh_from_db()
    assert proposal.stage == Stage.SUBMITTED


def test_moves_a_person_may_not_make_are_refused_with_a_message(client, world, proposals):
    proposal = proposals.make(Stage.SUBMITTED)
    response = move(client, world.a_member.user, proposal, Move.TAKE_UP)
    assert "You may not do this to this proposal." in follow_messages(client, response)
    response = move(client, world.a_staff, proposal, "teleport")
    assert follow_messages(client, response)
    proposal.refresh_from_db()
    assert proposal.stage == Stage.SUBMITTED


def test_the_council_vote_is_not_bypassed_from_the_page(client, world, proposals):
    proposal = proposals.make(Stage.VOTING)
    client.force_login(world.a_staff)
    assert 'value="approve"' not in page_text(client, proposal)
    response = move(client, world.a_staff, proposal, Move.APPROVE)
    assert "cannot be done from the proposal's page" in " ".join(follow_messages(client, response))
    proposal.refresh_from_db()
    assert proposal.stage == Stage.VOTING


def test_the_proposer_withdraws(client, world, proposals):
    proposal = proposals.make(Stage.SUBMITTED)
    client.force_login(world.a_resident.user)
    assert 'value="withdraw"' in page_text(client, proposal)
    response = move(client, world.a_resident.user, proposal, Move.WITHDRAW)
    proposal.refresh_from_db()
    assert proposal.stage == Stage.WITHDRAWN
    assert "withdrawn" in " ".join(follow_messages(client, response))


def test_staff_take_a_proposal_up_directly(client, world, proposals):
    proposal = proposals.make(Stage.SUBMITTED)
    move(client, world.a_staff, proposal, Move.TAKE_UP)
    proposal.refresh_from_db()
    assert proposal.stage == Stage.UNDER_REVIEW


# --- Consultation ---------------------------------------------------------------------------


def test_an_invited_expert_gives_an_opinion_marked_as_such(client, world, proposals):
    proposal = proposals.make(Stage.CONSULTATION)
    client.force_login(world.a_expert)
    assert "Publish my opinion" not in page_text(client, proposal)
    response = client.post(
        url("proposal_opinion", proposal), {"recommendation": "support", "remarks": "可行"}
    )
    assert "Only experts invited to this consultation can give an opinion." in follow_messages(
        client, response
    )

    client.force_login(world.a_staff)
    response = client.post(url("proposal_invite_expert", proposal), {"expert": world.a_expert.pk})
    assert "is invited" in " ".join(follow_messages(client, response))
    response = client.post(url("proposal_invite_expert", proposal), {"expert": world.a_expert.pk})
    assert "is already invited" in " ".join(follow_messages(client, response))

    client.force_login(world.a_expert)
    assert "Publish my opinion" in page_text(client, proposal)
    response = client.post(url("proposal_opinion", proposal), {"recommendation": "", "remarks": ""})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    client.post(
        url("proposal_opinion", proposal),
        {"recommendation": "support_with_changes", "remarks": "建议改用**节能灯**"},
    )
    client.logout()
    text = page_text(client, proposal)
    assert "Expert opinion" in text and "support with changes" in text
    assert "<strong>节能灯</strong>" in text
    assert world.a_expert.display_name in text


def test_feasibility_then_voting_opens_and_without_it_voting_is_refused(client, world, proposals):
    proposal = proposals.make(Stage.CONSULTATION)
    response = move(client, world.a_staff, proposal, Move.OPEN_VOTING)
    assert "Record a feasibility review with a cost estimate first." in follow_messages(
        client, response
    )
    response = client.post(
        url("proposal_feasibility", proposal),
        {"feasible": "on", "cost_estimate": "9800.50", "plan": "分两期**施工**"},
    )
    assert "feasibility review is recorded" in " ".join(follow_messages(client, response))
    client.logout()
    text = page_text(client, proposal)
    assert "¥9,800.50" in text and "staff feasibility estimate" in text
    assert "<strong>施工</strong>" in text

    response = move(client, world.a_staff, proposal, Move.OPEN_VOTING)
    proposal.refresh_from_db()
    assert proposal.stage == Stage.VOTING


def test_a_bad_feasibility_form_is_shown_again_with_its_errors(client, world, proposals):
    proposal = proposals.make(Stage.CONSULTATION)
    client.force_login(world.a_staff)
    response = client.post(
        url("proposal_feasibility", proposal), {"cost_estimate": "0", "plan": ""}
    )
    assert response.status_code == 200
    assert response.context["forms"]["feasibility"].errors.keys() == {"cost_estimate", "plan"}
    assert not proposal.feasibility_reviews.exists()


def test_the_proposer_revises_and_anyone_compares_revisions(client, world, proposals):
    proposal = proposals.make(Stage.CONSULTATION)
    client.force_login(world.a_resident.user)
    assert url("proposal_revise", proposal) in page_text(client, proposal)
    new_body = PROPOSAL_DATA["body"].replace("**三盏**", "**四盏**") + "\n- 加装<script>x</script>"
    response = client.post(
        url("proposal_revise", proposal),
        {
            "title": "更换幸福路路灯",
            "summary": PROPOSAL_DATA["summary"],
            "body": new_body,
            "note": "多了一盏",
            "seen_revision": "1",
        },
    )
    assert "Revision 2 is saved" in " ".join(follow_messages(client, response))
    # The same form sent again (another tab) is stale.
    response = client.post(
        url("proposal_revise", proposal),
        {"title": "又改", "summary": "s", "body": "b", "seen_revision": "1"},
    )
    assert "revised since you opened this form" in response.content.decode()

    client.logout()
    diff = client.get(url("proposal_diff", proposal, a=1, b=2)).content.decode()
    assert "<del>三</del><ins>四</ins>" in diff
    assert "更换<del>小区</del><ins>幸福路</ins>路灯" in diff
    assert "<ins>· 加装x</ins>" in diff  # the words, not the Markdown nor the stripped tag
    assert "<script>x" not in diff
    assert "多了一盏" in diff
    # Any two, either order, and nonsense falls back to the latest two.
    reverse_diff = client.get(url("proposal_diff", proposal, a=2, b=1)).content.decode()
    assert "<del>四</del><ins>三</ins>" in reverse_diff
    assert client.get(url("proposal_diff", proposal, a="x", b=99)).status_code == 200


def test_only_the_proposer_revises_and_only_in_consultation(client, world, proposals):
    proposal = proposals.make(Stage.CONSULTATION)
    client.force_login(world.a_member.user)
    response = client.get(url("proposal_revise", proposal))
    assert "Only the proposer can revise the text." in follow_messages(client, response)
    submitted = proposals.make(Stage.SUBMITTED)
    client.force_login(world.a_resident.user)
    response = client.get(url("proposal_revise", submitted))
    assert "during consultation only" in " ".join(follow_messages(client, response))


# --- Files ----------------------------------------------------------------------------------


def test_an_uploaded_photo_loses_its_exif_and_is_served_inline(client, world, proposals, media):
    proposal = proposals.make(Stage.SUBMITTED)
    original = jpeg_with_exif()
    assert Image.open(io.BytesIO(original)).getexif()  # the test photo does carry EXIF
    client.force_login(world.a_resident.user)
    response = client.post(
        url("proposal_upload", proposal), {"files": [upload("street.jpg", original)]}
    )
    assert "1 file added." in follow_messages(client, response)
    attachment = Attachment.objects.get()
    with attachment.file.open("rb") as stored:
        assert not Image.open(stored).getexif()

    client.logout()
    text = page_text(client, proposal)
    file_url = reverse("attachment_file", args=[attachment.pk])
    thumb_url = reverse("attachment_thumbnail", args=[attachment.pk])
    assert f'<a href="{file_url}"><img src="{thumb_url}"' in text
    for path in (file_url, thumb_url):
        served = client.get(path)
        assert served.status_code == 200
        assert served["Content-Type"] == "image/jpeg"
        assert served["Content-Disposition"].startswith("inline")
        assert served["X-Content-Type-Options"] == "nosniff"
        assert not Image.open(io.BytesIO(b"".join(served.streaming_content))).getexif()


def test_an_uploaded_pdf_is_downloaded_never_opened_in_the_page(client, world, proposals, media):
    # An uploaded PDF is the resident's file, not ours: opened inline it would run in the
    # site's origin (a PDF can carry scripts and links), so the browser saves it instead.
    proposal = proposals.make(Stage.SUBMITTED)
    services.attachment_add(
        actor=world.a_resident.user,
        proposal=proposal,
        uploaded=upload("quote.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf"),
    )
    attachment = Attachment.objects.get()
    served = client.get(reverse("attachment_file", args=[attachment.pk]))
    assert served["Content-Type"] == "application/pdf"
    assert served["Content-Disposition"] == 'attachment; filename="quote.pdf"'
    assert served["X-Content-Type-Options"] == "nosniff"
    assert client.get(reverse("attachment_thumbnail", args=[attachment.pk])).status_code == 404
    assert "quote.pdf" in page_text(client, proposal)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("photo.jpg", b"this is a text file pretending to be a photo", "is not a photo"),
        ("big.jpg", b"\x00" * (11 * 1024 * 1024), "is too large"),
    ],
)
def test_bad_files_are_refused_on_upload(client, world, proposals, media, name, content, expected):
    proposal = proposals.make(Stage.SUBMITTED)
    client.force_login(world.a_resident.user)
    response = client.post(url("proposal_upload", proposal), {"files": [upload(name, content)]})
    assert response.status_code == 200
    assert expected in " ".join(response.context["forms"]["upload"].errors["files"])
    assert not Attachment.objects.exists()


def test_outsiders_cannot_upload(client, world, proposals, media):
    proposal = proposals.make(Stage.SUBMITTED)
    client.force_login(world.a_member.user)
    response = client.post(
        url("proposal_upload", proposal), {"files": [upload("a.png", png_bytes(), "image/png")]}
    )
    assert "You may not add files to this proposal." in follow_messages(client, response)
    assert not Attachment.objects.exists()


def test_a_drafts_files_are_404_to_others(client, world, proposals, media):
    draft = proposals.make(Stage.DRAFT)
    services.attachment_add(
        actor=world.a_resident.user, proposal=draft, uploaded=upload("a.png", png_bytes())
    )
    attachment = Attachment.objects.get()
    paths = [reverse(n, args=[attachment.pk]) for n in ("attachment_file", "attachment_thumbnail")]
    for who in (None, world.a_member.user, world.b_staff):
        client.logout()
        if who:
            client.force_login(who)
        assert all(client.get(p).status_code == 404 for p in paths)
    client.force_login(world.a_resident.user)
    response = client.get(paths[0])
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert client.get(reverse("attachment_file", args=[999999])).status_code == 404


# --- Following ------------------------------------------------------------------------------


def test_following_a_proposal_and_a_community(client, world, proposals):
    proposal = proposals.make(Stage.SUBMITTED)
    client.force_login(world.a_member.user)
    response = client.post(url("proposal_follow", proposal))
    assert "You follow this proposal" in " ".join(follow_messages(client, response))
    assert proposal.follows.filter(user=world.a_member.user).exists()
    response = client.post(url("proposal_follow", proposal), HTTP_HX_REQUEST="true")
    assert response.content.decode().lstrip().startswith('<div id="follow-box"')
    assert not proposal.follows.filter(user=world.a_member.user).exists()

    community_url = reverse("community", args=[world.a.slug])
    response = client.post(reverse("community_follow", args=[world.a.slug]))
    assert response.url == community_url
    response = client.post(
        reverse("community_follow", args=[world.a.slug]), {"next": "https://evil.example/"}
    )
    assert response.url == community_url
    client.logout()
    response = client.post(reverse("community_follow", args=[world.a.slug]))
    assert "Sign in to follow." in follow_messages(client, response)


# --- Query count ----------------------------------------------------------------------------


def _with_threshold(world, n):
    Community.objects.filter(pk=world.a.pk).update(cosign_threshold=n)
    world.a.cosign_threshold = n


def _busy_proposal(world, proposals, *, cosigns, opinions, revisions, photos):
    _with_threshold(world, cosigns)
    proposal = proposals.make(Stage.CONSULTATION)
    services.expert_invite(actor=world.a_staff, proposal=proposal, expert=world.a_expert)
    for i in range(opinions):
        services.opinion_post(
            actor=world.a_expert, proposal=proposal, recommendation="support", remarks=f"意见{i}"
        )
    for i in range(2, revisions + 1):
        services.proposal_revise(
            actor=world.a_resident.user, proposal=proposal, title=f"路灯 v{i}",
            summary=PROPOSAL_DATA["summary"], body=f"第{i}版",
        )  # fmt: skip
    for i in range(photos):
        services.attachment_add(
            actor=world.a_resident.user, proposal=proposal, uploaded=upload(f"{i}.png", png_bytes())
        )
    services.feasibility_record(
        actor=world.a_staff, proposal=proposal, feasible=True,
        cost_estimate=Decimal("9000"), plan="计划",
    )  # fmt: skip
    return proposal


@pytest.mark.parametrize("who", [None, "a_staff", "a_expert", "a_resident"])
def test_the_page_query_count_does_not_grow_with_the_proposal(client, world, proposals, media, who):
    small = _busy_proposal(world, proposals, cosigns=2, opinions=1, revisions=1, photos=1)
    large = _busy_proposal(world, proposals, cosigns=12, opinions=5, revisions=5, photos=4)
    assert large.cosigns.count() == 12 and large.revisions.count() == 5
    if who:
        client.force_login(world.user(who))
    counts = []
    for proposal in (small, large, small):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url("proposal", proposal)).status_code == 200
        counts.append(len(queries))
    assert counts[1] == counts[2], [q["sql"] for q in queries.captured_queries]
    assert counts[1] <= 27  # the thread window reads its top-level ids, then their rows
