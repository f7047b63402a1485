"""A person's own data (PIPL): the download of everything held about them, closing their
account (their public acts stay, under "Former resident (account closed)"), and the password
reset a grid worker or staff give a resident without email."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from council import services, threads
from council.errors import InvalidMove, NotAllowed
from council.models import (
    EvidenceEvent,
    Notification,
    PrivateData,
    Role,
    RoleKind,
    RoleStatus,
    ThreadRead,
    User,
)
from council.notifications import notify_on_commit
from council.personal_data import CONSENT_PURPOSES, personal_data_export
from council.threads import message_post
from disclosure import services as disclosure_services
from disclosure.models import Disclosure, Kind
from proposals import services as proposal_services
from proposals.models import Follow, Stage
from tests.conftest import signs_in
from tests.disclosure.conftest import Projects
from tests.proposals.conftest import PROPOSAL_DATA

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-enough-password-42"
CLOSED = "Former resident (account closed)"
A_RESIDENT_ID_NUMBER = "11010519491231002X"  # every resident of the world shares it
A_RESIDENT_ADDRESS = "东湖社区幸福路10号"
A_MEMBER_ADDRESS = "东湖社区幸福路8号"


@pytest.fixture
def projects(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return Projects(world)


def english(user=None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        client.force_login(user)
    return client


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.getvalue().decode()


def close(user, password=PASSWORD, confirm=True):
    client = english(user)
    data = {"password": password, **({"confirm": "on"} if confirm else {})}
    return client, client.post(reverse("account_close"), data)


# --- The download -------------------------------------------------------------------------------


def _member_acts_everywhere(world, projects, django_capture_on_commit_callbacks):
    """``world.a_member`` acts in every app: votes and evaluates (the evaluated project),
    writes a proposal, co-signs one, posts a message, lodges an objection, is notified."""
    member = world.a_member.user
    evaluated = projects.evaluated()  # a_member votes yes on its ballot and evaluates it
    published = projects.published()
    decision = Disclosure.objects.get(proposal=published, kind=Kind.DECISION, status="published")
    objection = "预算偏高，请说明。"
    disclosure_services.objection_lodge(actor=member, disclosure=decision, text=objection)
    proposal_services.proposal_create(
        actor=member, community=world.a, data={**PROPOSAL_DATA, "title": "议事员自己的提议"}
    )
    other = projects.council.maker.make(Stage.CONSULTATION)
    cosigned = projects.council.maker.make(Stage.SUBMITTED, title="需要附议的提议")
    proposal_services.cosign_add(actor=member, proposal=cosigned)
    message_post(actor=member, thread=other.thread, body="我支持这个方案。")
    with django_capture_on_commit_callbacks(execute=True):
        notify_on_commit([member], lambda: "有一条给议事员的通知", "/")
    return evaluated, cosigned


def test_the_export_holds_the_persons_own_data_and_acts_from_every_app_and_no_one_elses(
    world, projects, django_capture_on_commit_callbacks
):
    evaluated, cosigned = _member_acts_everywhere(
        world, projects, django_capture_on_commit_callbacks
    )
    member = world.a_member.user
    export = personal_data_export(member)

    assert export["account"]["username"] == "a_member"
    assert export["account"]["display_name"] == "居民a_member"
    assert export["account"]["email"] == "a_member@example.org"
    assert {"language", "email_notifications", "date_joined"} <= set(export["account"])
    [consent] = export["consent"]
    assert consent["given_at"] and consent["purposes"] == str(CONSENT_PURPOSES)
    [private] = export["private_data"]
    assert private["phone"] == "13933334444"
    assert private["id_number"] == A_RESIDENT_ID_NUMBER  # their own, unmasked
    assert private["address"] == A_MEMBER_ADDRESS
    assert private["household_status"] == "registered"
    assert {r["role"] for r in export["roles"]} == {"resident", "council_member"}

    assert [p["title"] for p in export["proposals"]["proposals"]] == ["议事员自己的提议"]
    assert [c["proposal_id"] for c in export["proposals"]["cosigns"]] == [cosigned.pk]
    assert [m["text"] for m in export["thread_messages"]] == ["我支持这个方案。"]
    assert [n["text"] for n in export["notifications"]] == ["有一条给议事员的通知"]
    votes = export["voting"]["votes"]
    assert evaluated.pk in {v["proposal_id"] for v in votes}
    assert {v["choice"] for v in votes} == {"yes"}
    assert [o["text"] for o in export["disclosure"]["objections"]] == ["预算偏高，请说明。"]
    assert [(e["proposal_id"], e["rating"]) for e in export["disclosure"]["evaluations"]] == [
        (evaluated.pk, "satisfied")
    ]
    assert export["evidence_log"] and all(e["action"] for e in export["evidence_log"])

    text = json.dumps(export, ensure_ascii=False, default=str)
    others = PrivateData.objects.exclude(residency__user=member).values_list("phone", flat=True)
    assert len(others) > 3  # a_resident, b_resident, and the co-signers' own numbers
    for someone_elses in (*others, A_RESIDENT_ADDRESS):
        assert someone_elses not in text
    assert "a_resident@example.org" not in text


def test_the_export_holds_an_experts_opinions(world, projects):
    proposal = projects.council.maker.make(Stage.CONSULTATION)
    proposal_services.expert_invite(actor=world.a_staff, proposal=proposal, expert=world.a_expert)
    proposal_services.opinion_post(
        actor=world.a_expert, proposal=proposal, recommendation="support", remarks="结构可行。"
    )
    opinions = personal_data_export(world.a_expert)["proposals"]["expert_opinions"]
    assert [(o["proposal_id"], o["remarks"]) for o in opinions] == [(proposal.pk, "结构可行。")]
    assert personal_data_export(world.a_resident.user)["proposals"]["expert_opinions"] == []


def test_the_download_is_a_json_file_attachment_and_leaves_no_evidence_event(world):
    events = EvidenceEvent.objects.count()
    response = english(world.a_resident.user).get(reverse("personal_data_download"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="weishi-personal-data-')
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    document = json.loads(response.content)
    assert document["account"]["username"] == "a_resident"
    assert document["private_data"][0]["phone"] == "13911112222"
    assert EvidenceEvent.objects.count() == events


@pytest.mark.parametrize("name", ["personal_data", "personal_data_download"])
def test_anonymous_visitors_are_sent_to_sign_in(client, world, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_anonymous_cannot_close_an_account(client, world):
    response = client.post(reverse("account_close"), {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_the_page_is_linked_from_the_header_and_shows_consent_and_the_download(world):
    client = english(world.a_resident.user)
    home = page(client, reverse("home"))
    assert f'href="{reverse("personal_data")}"' in home
    assert "My personal data" in home
    html = page(client, reverse("personal_data"))
    assert "You agreed on" in html
    assert reverse("personal_data_download") in html
    assert "Close my account" in html


def test_the_page_defaults_to_chinese(world):
    client = Client()
    client.force_login(world.a_resident.user)
    response = client.get(reverse("personal_data"))
    assert response.status_code == 200
    assert 'lang="zh-CN"' in response.content.decode()


# --- Closing the account ------------------------------------------------------------------------


def test_a_wrong_password_is_refused_with_a_clear_error_and_changes_nothing(world):
    user = world.a_resident.user
    _client, response = close(user, password="not-my-password")
    assert response.status_code == 400
    assert "That is not your password." in response.content.decode()
    user.refresh_from_db()
    assert user.is_active and user.closed_at is None and user.username == "a_resident"
    assert PrivateData.objects.filter(residency__user=user).exists()
    assert not EvidenceEvent.objects.filter(action="account.closed").exists()


def test_closing_needs_the_confirmation_ticked(world):
    user = world.a_resident.user
    _client, response = close(user, confirm=False)
    assert response.status_code == 400
    assert "Tick the box" in response.content.decode()
    user.refresh_from_db()
    assert user.closed_at is None


def test_only_the_person_can_close_their_own_account(world):
    with pytest.raises(NotAllowed):
        services.account_close(actor=world.a_staff, user=world.a_resident.user)
    user = world.a_resident.user
    services.account_close(actor=user, user=user)
    with pytest.raises(InvalidMove):
        services.account_close(actor=user, user=User.objects.get(pk=user.pk))


def test_a_closed_account_keeps_nothing_personal_and_cannot_sign_in(
    world, django_capture_on_commit_callbacks
):
    user = world.a_resident.user
    proposal_services.follow_toggle(actor=user, community=world.a)
    thread = threads.thread_create(community=world.a, title="路灯")
    threads.thread_mark_read(user=user, thread_id=thread.pk, message_id=1)
    with django_capture_on_commit_callbacks(execute=True):
        notify_on_commit([user], lambda: "一条通知", "/")
    client, response = close(user)
    assert response.status_code == 302

    user.refresh_from_db()
    assert user.closed_at is not None and not user.is_active
    assert user.username == f"closed-{user.pk}"
    assert (user.email, user.display_name, user.first_name, user.last_name) == ("", "", "", "")
    assert not user.has_usable_password()
    assert str(user) == user.public_name == CLOSED
    assert not PrivateData.objects.filter(residency__user=user).exists()
    assert set(Role.objects.filter(user=user).values_list("status", flat=True)) == {
        RoleStatus.ENDED
    }
    assert not Notification.objects.filter(recipient=user).exists()
    assert not Follow.objects.filter(user=user).exists()
    assert not ThreadRead.objects.filter(user=user).exists()

    # Signed out here, and no way back in: neither the old username nor the new one.
    assert client.get(reverse("personal_data")).status_code == 302
    assert not signs_in("a_resident", PASSWORD)
    assert not signs_in(f"closed-{user.pk}", PASSWORD)
    response = english().post(reverse("login"), {"username": "a_resident", "password": PASSWORD})
    assert response.status_code == 200 and response.context["form"].errors

    event = EvidenceEvent.objects.get(action="account.closed")
    assert (event.object_type, event.object_id) == ("council.user", str(user.pk))
    recorded = json.dumps([event.payload, event.actor_role], ensure_ascii=False)
    for personal in ("a_resident", "居民a_resident", "13911112222", A_RESIDENT_ADDRESS):
        assert personal not in recorded


def test_staff_no_longer_see_the_closed_residents_private_data(world):
    residency = world.a_resident
    url = reverse("resident", args=[world.a.slug, residency.pk])
    staff = english(world.a_staff)
    assert "13911112222" in page(staff, url)
    close(residency.user)
    assert staff.get(url).status_code == 404
    residents = page(staff, reverse("residents", args=[world.a.slug]))
    assert "13911112222" not in residents and "居民a_resident" not in residents


def _nothing_of(html: str, *, username: str, display_name: str, phone: str, address: str):
    for what, text in {
        "display name": display_name,
        "username": username,
        "phone": phone,
        "ID number": A_RESIDENT_ID_NUMBER,
        "masked ID number": A_RESIDENT_ID_NUMBER[:4] + "*" * 10,
        "address": address,
    }.items():
        assert text not in html, f"the closed account's {what} is still shown"


def test_after_closing_the_proposers_public_acts_show_the_closed_name(world, projects):
    resident = world.a_resident.user
    evaluated = projects.evaluated()  # proposed by a_resident, who also evaluated it
    discussed = projects.council.maker.make(Stage.CONSULTATION)
    message_post(actor=resident, thread=discussed.thread, body="路灯什么时候修？")
    close(resident)

    visitor = english()
    slug = world.a.slug
    proposal_page = page(visitor, reverse("proposal", args=[slug, discussed.pk]))
    assert f"Proposed by {CLOSED}" in proposal_page
    assert "路灯什么时候修？" in proposal_page  # the message stays, under the closed name
    assert f'<strong class="author">{CLOSED}</strong>' in proposal_page
    project_page = page(visitor, reverse("project", args=[slug, evaluated.pk]))
    evidence_page = page(visitor, reverse("evidence"))
    assert "closed their account" in evidence_page
    for html in (
        proposal_page,
        page(visitor, reverse("proposal", args=[slug, evaluated.pk])),
        project_page,
        evidence_page,
        page(visitor, reverse("open_data")),
    ):
        _nothing_of(
            html,
            username="a_resident",
            display_name="居民a_resident",
            phone="13911112222",
            address=A_RESIDENT_ADDRESS,
        )


def test_after_a_council_member_closes_their_roll_call_votes_show_the_closed_name(world, projects):
    member = world.a_member.user
    proposal = projects.decided()  # a roll-call ballot; a_member voted yes
    ballot = proposal.ballots.get()
    visitor = english()
    assert "居民a_member" in page(visitor, reverse("ballot", args=[world.a.slug, ballot.pk]))
    close(member)

    ballot_page = page(visitor, reverse("ballot", args=[world.a.slug, ballot.pk]))
    assert CLOSED in ballot_page
    votes = json.loads(page(visitor, reverse("open_data_file", args=["votes", "json"])))
    names = {row["member"] for row in votes["rows"] if row["ballot_id"] == ballot.pk}
    assert "已注销居民" in names  # open data is written in Chinese, whoever downloads it
    evidence_page = page(visitor, reverse("evidence"))
    assert CLOSED in evidence_page  # members act under their name: now the closed one
    for html in (ballot_page, json.dumps(votes, ensure_ascii=False), evidence_page):
        _nothing_of(
            html,
            username="a_member",
            display_name="居民a_member",
            phone="13933334444",
            address=A_MEMBER_ADDRESS,
        )


# --- A password reset by the grid worker or staff -----------------------------------------------


def reset(actor, residency, confirm=True):
    url = reverse("resident_password_reset", args=[residency.community.slug, residency.pk])
    return english(actor).post(url, {"confirm": "1"} if confirm else {})


def test_the_grid_worker_resets_a_residents_password_which_then_signs_them_in(world):
    residency = world.a_resident
    response = reset(world.a_worker1, residency)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    password = response.context["password"]
    assert len(password) == 10 and password in response.content.decode()
    assert "a_resident" in response.content.decode()  # the username to sign in with

    assert signs_in("a_resident", password)
    assert not signs_in("a_resident", PASSWORD)

    event = EvidenceEvent.objects.get(action="password.reset_by_staff")
    assert event.actor == world.a_worker1 and event.actor_role == RoleKind.GRID_WORKER
    assert (event.object_type, event.object_id) == ("council.user", str(residency.user_id))
    assert (event.object_id, event.payload) == (str(residency.user_id), {})
    assert password not in json.dumps(event.payload)
    evidence_page = page(english(), reverse("evidence"))
    assert "reset a resident&#x27;s password" in evidence_page
    assert password not in evidence_page


def test_staff_of_the_community_may_reset_too(world):
    response = reset(world.a_staff, world.a_member)
    assert response.status_code == 200
    assert signs_in("a_member", response.context["password"])
    event = EvidenceEvent.objects.get(action="password.reset_by_staff")
    assert event.actor == world.a_staff and event.actor_role == RoleKind.STAFF


@pytest.mark.parametrize(
    "who", ["a_worker2", "b_worker", "b_staff", "admin", "a_expert", "a_member"]
)
def test_anyone_else_gets_404_and_the_password_is_unchanged(world, who):
    response = reset(world.user(who), world.a_resident)  # a_resident lives in a_grid1
    assert response.status_code == 404
    assert signs_in("a_resident", PASSWORD)
    assert not EvidenceEvent.objects.filter(action="password.reset_by_staff").exists()


def test_an_anonymous_visitor_gets_404(client, world):
    url = reverse("resident_password_reset", args=[world.a.slug, world.a_resident.pk])
    assert client.post(url, {"confirm": "1"}).status_code == 404


def test_a_reset_needs_the_confirmation_ticked(world):
    response = reset(world.a_worker1, world.a_resident, confirm=False)
    assert response.status_code == 302
    assert signs_in("a_resident", PASSWORD)


def test_a_grid_worker_cannot_reset_the_password_of_someone_holding_an_official_role(world):
    services.role_assign(
        actor=None, user=world.a_resident.user, kind=RoleKind.STAFF, community=world.b
    )
    assert reset(world.a_worker1, world.a_resident).status_code == 404
    with pytest.raises(NotAllowed):
        services.password_reset_by_staff(actor=world.a_worker1, user=world.a_resident.user)
    assert signs_in("a_resident", PASSWORD)


def test_the_reset_button_is_shown_to_those_allowed_only(world):
    url = reverse("resident", args=[world.a.slug, world.a_resident.pk])
    assert "Reset password" in page(english(world.a_worker1), url)
    assert "Reset password" in page(english(world.a_staff), url)
    assert english(world.a_worker2).get(url).status_code == 404
    services.role_assign(
        actor=None, user=world.a_resident.user, kind=RoleKind.EXPERT, community=world.b
    )
    assert "Reset password" not in page(english(world.a_worker1), url)


def test_a_closed_account_cannot_be_reset(world):
    residency = world.a_resident
    close(residency.user)
    assert reset(world.a_worker1, residency).status_code == 404


# --- Consent at sign-up ---------------------------------------------------------------------------


def test_the_sign_up_service_refuses_without_consent(world):
    with pytest.raises(InvalidMove):
        services.resident_sign_up(
            username="no-consent",
            password=PASSWORD,
            display_name="没同意",
            email="",
            community=world.a,
            grid=None,
            phone="13612345678",
            id_number="",
            address="东湖社区某路1号",
            household_status="registered",
            consent=False,
        )
    assert not User.objects.filter(username="no-consent").exists()


def test_after_a_reset_the_resident_must_choose_their_own_password_before_anything_else(world):
    password = reset(world.a_worker1, world.a_resident).context["password"]
    resident = Client(HTTP_ACCEPT_LANGUAGE="en")
    signed_in = resident.post(
        reverse("login"), {"username": "a_resident", "password": password}, follow=True
    )
    # Signing in lands on the password form, which says why; other pages lead back to it.
    assert signed_in.redirect_chain[-1][0] == reverse("password_change")
    assert "given to you on paper" in signed_in.content.decode()
    for url in (reverse("home"), reverse("personal_data")):
        assert resident.get(url)["Location"] == reverse("password_change")

    # A wrong old password is refused on the form and changes nothing.
    new = {"new_password1": "Quiet-River-2031", "new_password2": "Quiet-River-2031"}
    refused = resident.post(reverse("password_change"), {"old_password": "not-it", **new})
    assert refused.status_code == 200 and refused.context["form"].errors
    assert resident.get(reverse("home"))["Location"] == reverse("password_change")

    chosen = resident.post(reverse("password_change"), {"old_password": password, **new})
    assert chosen["Location"] == reverse("home")
    assert resident.get(reverse("home")).status_code == 200  # still signed in, free to go
    assert signs_in("a_resident", "Quiet-River-2031")
    assert not signs_in("a_resident", password)


def test_a_person_changes_their_own_password_from_their_data_page(world):
    resident = english(world.a_resident.user)
    assert reverse("password_change") in page(resident, reverse("personal_data"))
    assert page(resident, reverse("password_change"))  # open without any reset
