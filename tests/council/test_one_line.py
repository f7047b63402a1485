"""One-line fields (titles, names, places, short reasons) refuse line breaks of every kind, with
a clear message on the form and from the service, and change nothing; multi-line fields keep
their line breaks."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from council import clock, services
from council.errors import InvalidMove
from council.models import Message, User
from council.threads import message_hide, message_post
from council.validators import validate_one_line
from proposals import services as proposal_services
from proposals.models import Proposal, Stage
from tests.proposals.conftest import PROPOSAL_DATA
from tests.voting.conftest import Council
from voting import services as voting_services
from voting.models import Ballot, Meeting

BREAKS = ["\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
ONE_LINE_ZH = "请在一行内填写，不能换行。"
ONE_LINE_EN = "Write this on one line: it cannot hold a line break."


@pytest.mark.parametrize("brk", BREAKS, ids=[f"U+{ord(b[0]):04X}" for b in BREAKS])
def test_every_kind_of_line_break_is_refused(brk):
    with pytest.raises(ValidationError) as caught:
        validate_one_line(f"更换路灯{brk}幸福路")
    assert caught.value.code == "line_break"


@pytest.mark.parametrize("ok", ["更换路灯", "AT&T <b>bold</b>", "a\tb", "", None])
def test_text_on_one_line_passes(ok):
    validate_one_line(ok)


@pytest.fixture
def council(world):
    return Council(world)


def form_data(**overrides):
    return {**PROPOSAL_DATA, "estimated_cost": "12000.00", **overrides}


@pytest.mark.parametrize("field", ["title", "location", "beneficiaries"])
def test_the_proposal_form_refuses_a_line_break_in_chinese_and_saves_nothing(client, world, field):
    client.force_login(world.a_resident.user)
    response = client.post(
        reverse("proposal_create", args=[world.a.slug]),
        form_data(**{field: "幸福路北段\u2028三盏路灯"}, submit="1"),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 200
    assert ONE_LINE_ZH in response.content.decode()
    assert not Proposal.objects.exists()


def test_the_description_keeps_its_line_breaks(client, world):
    client.force_login(world.a_resident.user)
    body = "第一段\n\n- 一号楼\n- 二号楼"
    client.post(reverse("proposal_create", args=[world.a.slug]), form_data(body=body))
    assert Proposal.objects.get().body == body


def test_the_service_refuses_a_title_with_a_line_break(world):
    with pytest.raises(ValidationError) as caught:
        proposal_services.proposal_create(
            actor=world.a_resident.user,
            community=world.a,
            data={**PROPOSAL_DATA, "title": "更换路灯\n（北段）"},
        )
    assert ONE_LINE_EN in caught.value.message_dict["title"]
    assert not Proposal.objects.exists()


def test_a_revision_note_with_a_line_break_is_refused_and_the_text_is_unchanged(world):
    from tests.proposals.conftest import ProposalMaker

    proposal = ProposalMaker(world).make(Stage.CONSULTATION)
    with pytest.raises(ValidationError):
        proposal_services.proposal_revise(
            actor=world.a_resident.user,
            proposal=proposal,
            title="新标题",
            summary=proposal.summary,
            body=proposal.body,
            note="降低了费用\n听取专家意见",
        )
    proposal.refresh_from_db()
    assert proposal.title == PROPOSAL_DATA["title"]


def test_sign_up_refuses_a_display_name_with_a_line_break(world):
    with pytest.raises(ValidationError) as caught:
        services.resident_sign_up(
            username="newcomer",
            password="a-long-enough-password-42",
            display_name="小王\r\n管理员",
            email="",
            community=world.a,
            grid=world.a_grid1,
            phone="13900000000",
            id_number="",
            address="幸福路1号",
            household_status="registered",
            consent=True,
        )
    assert "display_name" in caught.value.message_dict
    assert not User.objects.filter(username="newcomer").exists()


def test_closing_a_ballot_with_a_two_line_reason_is_refused_on_the_page_and_by_the_service(
    client, world, council
):
    ballot = council.ballot()
    with pytest.raises(InvalidMove, match="one line"):
        voting_services.ballot_close(actor=world.a_staff, ballot=ballot, reason="会议结束\n散会")
    client.force_login(world.a_staff)
    response = client.post(
        reverse("ballot_close", args=[world.a.slug, ballot.pk]),
        {"reason": "会议结束\u2029散会"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert ONE_LINE_ZH in response.content.decode()
    assert Ballot.objects.get(pk=ballot.pk).status == "open"


def test_a_meeting_title_or_place_with_a_line_break_is_refused(world, council):
    starts = clock.now() + dt.timedelta(days=2)
    for title, place in (("议事会\n例会", "会议室"), ("议事会例会", "二楼\x85会议室")):
        with pytest.raises(InvalidMove, match="one line"):
            voting_services.meeting_schedule(
                actor=world.a_staff,
                community=world.a,
                title=title,
                starts_at=starts,
                place=place,
                proposals=[],
            )
    assert not Meeting.objects.exists()


def test_a_hiding_reason_is_one_line_but_the_message_keeps_its_lines(world):
    thread = world.a.threads.create(title="讨论")
    message = message_post(actor=world.a_resident.user, thread=thread, body="第一行\n第二行")
    assert Message.objects.get(pk=message.pk).body == "第一行\n第二行"
    with pytest.raises(InvalidMove, match="one line"):
        message_hide(actor=world.a_staff, message_id=message.pk, reason="广告\n重复")
    assert Message.objects.get(pk=message.pk).hidden_at is None
