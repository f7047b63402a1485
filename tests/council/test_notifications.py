"""Notifications, through the real services: who hears of what, in which language, by which
email, and the page and header badge where they are read.

Notifications are written when the transaction commits, so every act whose notifications are
checked runs inside ``django_capture_on_commit_callbacks(execute=True)``.
"""

import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from council import services as council_services
from council.errors import InvalidMove, NotAllowed
from council.models import Notification, User
from council.notifications import notify_on_commit, unread_count
from proposals import services
from proposals.lifecycle import TRANSITIONS, Move, proposal_move
from proposals.models import Stage
from tests.proposals.conftest import ProposalMaker

pytestmark = pytest.mark.django_db

TITLE = "更换小区路灯"
ALL_CHECKS = dict.fromkeys(
    ["in_scope", "within_cap", "not_property_duty", "not_government_duplicate", "in_community"],
    True,
)


@pytest.fixture
def proposals(world):
    """``proposals.make(stage)``, as in the proposals tests (a proposal by ``a_resident``)."""
    return ProposalMaker(world)


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run the block, then its on-commit callbacks, as if its transaction had committed."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def speaks(user, language):
    user.language = language
    user.save(update_fields=["language"])
    return user


def texts(user):
    return list(
        Notification.objects.filter(recipient=user).order_by("pk").values_list("text", flat=True)
    )


def recipients():
    return set(Notification.objects.values_list("recipient__username", flat=True))


def moved(label):
    return f"“{TITLE}”: {label}"


def to_consultation(world, proposal):
    services.admissibility_record(actor=world.a_staff, proposal=proposal, checks=ALL_CHECKS)
    return proposal_move(actor=world.a_staff, proposal=proposal, move=Move.ADMIT)


def to_voting(world, proposal):
    services.feasibility_record(
        actor=world.a_staff, proposal=proposal, feasible=True, cost_estimate="11800.00",
        plan="由社区工作站联系施工单位更换。",
    )  # fmt: skip
    return proposal_move(actor=world.a_staff, proposal=proposal, move=Move.OPEN_VOTING)


# --- Who hears of what ---------------------------------------------------------------------


def test_the_proposer_is_not_notified_of_their_own_submission(world, proposals, commit):
    draft = proposals.make(Stage.DRAFT)
    with commit():
        proposal = services.proposal_submit(actor=world.a_resident.user, proposal=draft)
    assert proposal.stage == Stage.SUBMITTED
    assert not Notification.objects.exists()


def test_the_co_sign_reaching_the_threshold_notifies_proposer_and_co_signers_but_not_the_actor(
    world, proposals, commit
):
    proposer = speaks(world.a_resident.user, "en")
    proposal = proposals.make(Stage.SUBMITTED)
    threshold = world.a.cosign_threshold
    with commit():
        for i in range(threshold - 1):
            proposal = services.cosign_add(actor=proposals.cosigner(i), proposal=proposal)
    assert not Notification.objects.exists(), "a co-sign below the threshold notifies no one"

    last = proposals.cosigner(threshold - 1)
    with commit():
        proposal = services.cosign_add(actor=last, proposal=proposal)
    assert proposal.stage == Stage.UNDER_REVIEW
    assert recipients() == {"a_resident"} | {f"cosigner{i}" for i in range(threshold - 1)}
    assert texts(proposer) == [moved("reached the co-sign threshold")]
    assert texts(last) == []


def test_the_proposer_hears_of_every_move_staff_make(world, proposals, commit):
    proposer = speaks(world.a_resident.user, "en")
    proposal = proposals.make(Stage.SUBMITTED)
    expected = []
    steps = [
        (Move.TAKE_UP, "taken up for review by staff"),
        (Move.ADMIT, "found admissible; consultation opened"),
        (Move.OPEN_VOTING, "put to the council's vote"),
        (Move.APPROVE, "approved by the council"),
        (Move.START, "implementation started"),
        (Move.COMPLETE, "completed"),
        (Move.EVALUATE, "evaluated by residents"),
    ]
    for move, label in steps:
        with commit():
            if move == Move.ADMIT:
                proposal = to_consultation(world, proposal)
            elif move == Move.OPEN_VOTING:
                proposal = to_voting(world, proposal)
            else:
                proposal = proposal_move(
                    actor=world.a_staff, proposal=proposal, move=move, basis=("test.record", move)
                )
        expected.append(moved(label))
        assert texts(proposer) == expected, move
    assert proposal.stage == Stage.EVALUATED
    assert recipients() == {"a_resident"}, "staff do not hear of their own moves"
    url = reverse("proposal", args=[world.a.slug, proposal.pk])
    assert set(Notification.objects.values_list("url", flat=True)) == {url}


@pytest.mark.parametrize(
    ("move", "label"),
    [(Move.DECLARE_INADMISSIBLE, "found inadmissible"), (Move.REJECT, "rejected by the council")],
)
def test_the_proposer_hears_of_an_end_that_is_not_approval(world, proposals, commit, move, label):
    proposer = speaks(world.a_resident.user, "en")
    proposal = proposals.make(Stage.VOTING if move == Move.REJECT else Stage.UNDER_REVIEW)
    with commit():
        proposal_move(
            actor=world.a_staff,
            proposal=proposal,
            move=move,
            reason="属于物业职责。",
            basis=("voting.ballot", 1),
        )
    assert texts(proposer) == [moved(label)]


def test_co_signers_hear_when_the_proposal_moves_on(world, proposals, commit):
    proposal = proposals.make(Stage.UNDER_REVIEW)
    cosigners = [proposals.cosigner(i) for i in range(world.a.cosign_threshold)]
    for user in cosigners:
        speaks(user, "en")
    with commit():
        to_consultation(world, proposal)
    for user in cosigners:
        assert texts(user) == [moved("found admissible; consultation opened")]


def test_a_withdrawal_by_the_proposer_notifies_the_co_signers_not_the_proposer(
    world, proposals, commit
):
    proposal = proposals.make(Stage.UNDER_REVIEW)
    with commit():
        proposal_move(actor=world.a_resident.user, proposal=proposal, move=Move.WITHDRAW)
    assert recipients() == {f"cosigner{i}" for i in range(world.a.cosign_threshold)}


def test_a_resident_following_the_community_hears_of_every_proposal_there(world, proposals, commit):
    follower = speaks(world.a_member.user, "en")
    assert services.follow_toggle(actor=follower, community=world.a) is True
    outsider = world.b_resident.user
    services.follow_toggle(actor=outsider, community=world.b)
    first = proposals.make(Stage.DRAFT)
    second = proposals.make(Stage.DRAFT, title="社区篮球场翻新")
    with commit():
        services.proposal_submit(actor=world.a_resident.user, proposal=first)
        services.proposal_submit(actor=world.a_resident.user, proposal=second)
    assert texts(follower) == [moved("submitted"), "“社区篮球场翻新”: submitted"]
    assert texts(outsider) == [], "following community b says nothing of community a"
    assert texts(world.a_resident.user) == []


def test_a_resident_following_a_proposal_hears_of_its_moves_only(world, proposals, commit):
    follower = speaks(world.a_member.user, "en")
    followed = proposals.make(Stage.SUBMITTED)
    other = proposals.make(Stage.SUBMITTED, title="社区篮球场翻新")
    assert services.follow_toggle(actor=follower, community=world.a, proposal=followed) is True
    with commit():
        proposal_move(actor=world.a_staff, proposal=followed, move=Move.TAKE_UP)
        proposal_move(actor=world.a_staff, proposal=other, move=Move.TAKE_UP)
    assert texts(follower) == [moved("taken up for review by staff")]


def test_unfollowing_stops_the_notifications(world, proposals, commit):
    follower = world.a_member.user
    proposal = proposals.make(Stage.SUBMITTED)
    services.follow_toggle(actor=follower, community=world.a, proposal=proposal)
    assert services.follow_toggle(actor=follower, community=world.a, proposal=proposal) is False
    with commit():
        proposal_move(actor=world.a_staff, proposal=proposal, move=Move.TAKE_UP)
    assert texts(follower) == []


def test_each_text_is_in_its_recipients_language_whatever_the_actors(world, proposals, commit):
    english = speaks(world.a_resident.user, "en")
    chinese = speaks(world.a_member.user, "zh-hans")
    services.follow_toggle(actor=chinese, community=world.a)
    proposal = proposals.make(Stage.SUBMITTED)
    with commit(), translation.override("zh-hans"):  # the actor's page was in Chinese
        proposal_move(actor=world.a_staff, proposal=proposal, move=Move.TAKE_UP)
    with commit(), translation.override("en"):  # the actor's page was in English
        proposal = to_consultation(world, proposal)
    assert texts(english) == [
        moved("taken up for review by staff"),
        moved("found admissible; consultation opened"),
    ]
    with translation.override("zh-hans"):
        in_chinese = [
            gettext("“%(title)s”: %(what)s") % {"title": TITLE, "what": TRANSITIONS[m].label}
            for m in (Move.TAKE_UP, Move.ADMIT)
        ]
    assert texts(chinese) == in_chinese


# --- Email ---------------------------------------------------------------------------------


@pytest.fixture
def audience(world, proposals, mailoutbox):
    """A proposal under review whose proposer and co-signers chose every kind of email."""
    proposal = proposals.make(Stage.UNDER_REVIEW)
    people = {
        "immediate": world.a_resident.user,
        "daily": proposals.cosigner(0),
        "off": proposals.cosigner(1),
        "immediate_no_email": proposals.cosigner(2),
        "daily_no_email": proposals.cosigner(3),
        "daily_too": proposals.cosigner(4),
    }
    for name, user in people.items():
        choice = name.removesuffix("_no_email").removesuffix("_too")
        council_services.notification_preference_set(user=speaks(user, "en"), choice=choice)
    User.objects.filter(
        pk__in=[people["immediate_no_email"].pk, people["daily_no_email"].pk]
    ).update(email="")
    mailoutbox.clear()
    return proposal, people


def test_immediate_users_get_one_email_per_notification_from_the_scheduler_and_no_one_else_does(
    world, commit, audience, mailoutbox
):
    proposal, people = audience
    with commit():
        proposal = to_consultation(world, proposal)
    with commit():
        to_voting(world, proposal)
    assert mailoutbox == []  # nothing is sent by the act itself
    call_command("minutely", stdout=io.StringIO())
    immediate = people["immediate"]
    assert [m.to for m in mailoutbox] == [[immediate.email], [immediate.email]]
    bodies = [m.body for m in mailoutbox]
    assert moved("found admissible; consultation opened") in bodies[0]
    assert moved("put to the council's vote") in bodies[1]
    assert reverse("proposal", args=[world.a.slug, proposal.pk]) in bodies[0]
    assert not Notification.objects.filter(recipient=immediate, emailed_at__isnull=True).exists()
    # Everyone else is notified in the app all the same.
    for user in people.values():
        assert len(texts(user)) == 2


def test_daily_users_get_one_digest_with_everything_pending_and_only_once(
    world, commit, audience, mailoutbox
):
    proposal, people = audience
    with commit():
        proposal = to_consultation(world, proposal)
    with commit():
        to_voting(world, proposal)
    out = io.StringIO()
    call_command("send_digests", stdout=out)
    assert "2 digest(s) sent" in out.getvalue()
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        [people["daily"].email, people["daily_too"].email]
    )
    for message in mailoutbox:
        assert moved("found admissible; consultation opened") in message.body
        assert moved("put to the council's vote") in message.body
    for name in ("daily", "daily_too"):
        assert not Notification.objects.filter(
            recipient=people[name], emailed_at__isnull=True
        ).exists()
    # What was not emailed stays unmarked: "off" and the digest user without an address.
    for name in ("off", "daily_no_email", "immediate_no_email"):
        assert Notification.objects.filter(recipient=people[name], emailed_at__isnull=True)

    mailoutbox.clear()
    out = io.StringIO()
    call_command("send_digests", stdout=out)
    assert mailoutbox == []
    assert "0 digest(s) sent" in out.getvalue()


def test_a_digest_holds_only_what_came_since_the_last_one(world, commit, audience, mailoutbox):
    proposal, people = audience
    with commit():
        proposal = to_consultation(world, proposal)
    call_command("send_digests", stdout=io.StringIO())
    with commit():
        to_voting(world, proposal)
    mailoutbox.clear()
    call_command("send_digests", stdout=io.StringIO())
    assert len(mailoutbox) == 2
    for message in mailoutbox:
        assert moved("put to the council's vote") in message.body
        assert "consultation opened" not in message.body


# --- Transactions --------------------------------------------------------------------------


def test_a_rolled_back_transaction_writes_no_notification_and_sends_no_email(
    world, proposals, django_capture_on_commit_callbacks, mailoutbox
):
    council_services.notification_preference_set(user=world.a_resident.user, choice="immediate")
    proposal = proposals.make(Stage.SUBMITTED)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        proposal_move(actor=world.a_staff, proposal=proposal, move=Move.TAKE_UP)
        raise RuntimeError("something later in the same transaction failed")
    assert callbacks == []
    assert not Notification.objects.exists()
    assert mailoutbox == []
    proposal.refresh_from_db()
    assert proposal.stage == Stage.SUBMITTED


def test_a_refused_move_notifies_no_one(world, proposals, commit):
    proposal = proposals.make(Stage.SUBMITTED)
    with commit():
        with pytest.raises(NotAllowed):
            proposal_move(actor=world.b_staff, proposal=proposal, move=Move.TAKE_UP)
        with pytest.raises(InvalidMove):
            proposal_move(actor=world.a_staff, proposal=proposal, move=Move.APPROVE)
    assert not Notification.objects.exists()


# --- The page and the badge ----------------------------------------------------------------


def notify(commit, user, *items):
    with commit():
        for text, url in items:
            notify_on_commit([user], lambda text=text: text, url)


def test_the_page_needs_a_signed_in_user(client):
    response = client.get(reverse("notifications"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert "next=/notifications/" in response.url
    assert client.post(reverse("notifications"), {"action": "mark_read"}).status_code == 302


def test_the_page_lists_the_users_notifications_newest_first_with_links(client, world, commit):
    user = world.a_resident.user
    notify(commit, user, ("第一条", "/c/x/proposals/1/"), ("第二条", "/c/x/proposals/2/"))
    notify(commit, world.a_member.user, ("别人的通知", "/c/x/proposals/3/"))
    notify(commit, user, ("第三条", "/c/x/proposals/3/"), ("危险链接", "javascript:alert(1)"))
    client.force_login(user)
    text = client.get(reverse("notifications")).content.decode()
    order = [text.index(t) for t in ("危险链接", "第三条", "第二条", "第一条")]
    assert order == sorted(order)
    assert '<a href="/c/x/proposals/2/">第二条</a>' in text
    assert "别人的通知" not in text
    assert "javascript:" not in text
    assert text.count('class="notification unread"') == 4


def test_the_page_shows_thirty_notifications_at_a_time(client, world, commit):
    user = world.a_resident.user
    notify(commit, user, *[(f"通知{i:02d}", f"/n/{i}/") for i in range(31)])
    client.force_login(user)
    first = client.get(reverse("notifications")).content.decode()
    assert first.count('<li class="notification') == 30
    assert "通知30" in first and "通知00" not in first
    assert "?page=2" in first
    second = client.get(reverse("notifications"), {"page": 2}).content.decode()
    assert second.count('<li class="notification') == 1
    assert "通知00" in second


BADGE = re.compile(r'<span class="badge" aria-hidden="true">(\d+)</span>')


def test_the_header_badge_counts_unread_and_mark_all_read_clears_it(client, world, commit):
    user = world.a_resident.user
    notify(commit, user, ("一", "/a/"), ("二", "/b/"), ("三", "/c/"))
    client.force_login(user)
    home = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert BADGE.search(home).group(1) == "3"
    assert '<span class="visually-hidden">(3 unread)</span>' in home
    assert f'href="{reverse("notifications")}"' in home

    response = client.post(reverse("notifications"), {"action": "mark_read"})
    assert response.status_code == 302 and response.url == reverse("notifications")
    assert unread_count(user) == 0
    assert Notification.objects.filter(recipient=user, read_at__isnull=False).count() == 3
    page = client.get(response.url).content.decode()
    assert BADGE.search(page) is None
    assert 'class="notification unread"' not in page
    assert "一" in page, "read notifications stay listed"


def test_mark_all_read_leaves_other_users_alone(client, world, commit):
    notify(commit, world.a_resident.user, ("一", "/a/"))
    notify(commit, world.a_member.user, ("二", "/b/"))
    client.force_login(world.a_resident.user)
    client.post(reverse("notifications"), {"action": "mark_read"})
    assert unread_count(world.a_member.user) == 1


def test_no_badge_for_visitors_or_for_nothing_unread(client, world):
    assert 'class="badge"' not in client.get("/").content.decode()
    client.force_login(world.a_resident.user)
    text = client.get("/").content.decode()
    assert 'class="badge"' not in text
    assert f'href="{reverse("notifications")}"' in text


def notification_queries(client, path):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(path).status_code == 200
    return [q["sql"] for q in ctx.captured_queries if "council_notification" in q["sql"]]


def test_the_badge_costs_one_query_per_page_and_none_for_visitors(client, world, commit):
    notify(commit, world.a_resident.user, ("一", "/a/"))
    assert notification_queries(client, "/") == []
    client.force_login(world.a_resident.user)
    assert len(notification_queries(client, reverse("overview"))) == 1
    assert len(notification_queries(client, reverse("evidence"))) == 1
    # 我的 lists the newest notifications too: the badge, and that list.
    assert len(notification_queries(client, "/")) == 2


# --- The email setting ---------------------------------------------------------------------


@pytest.mark.parametrize("choice", ["immediate", "daily", "off"])
def test_the_email_setting_is_saved_from_the_page(client, world, choice):
    user = world.a_resident.user
    client.force_login(user)
    page = client.get(reverse("notifications")).content.decode()
    assert 'name="email_notifications"' in page
    response = client.post(
        reverse("notifications"), {"action": "email", "email_notifications": choice}
    )
    assert response.status_code == 302 and response.url == reverse("notifications")
    user.refresh_from_db()
    assert user.email_notifications == choice
    page = client.get(reverse("notifications")).content.decode()
    assert re.search(rf'value="{choice}"[^>]*checked', page)


def test_an_email_choice_that_is_not_offered_is_refused(client, world):
    user = world.a_resident.user
    client.force_login(user)
    response = client.post(
        reverse("notifications"), {"action": "email", "email_notifications": "weekly"}
    )
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.email_notifications == "daily"
    with pytest.raises(ValidationError):
        council_services.notification_preference_set(user=user, choice="weekly")
    with pytest.raises(NotAllowed):
        from django.contrib.auth.models import AnonymousUser

        council_services.notification_preference_set(user=AnonymousUser(), choice="off")


def test_the_page_says_when_no_email_can_be_sent(client, world):
    user = world.a_resident.user
    User.objects.filter(pk=user.pk).update(email="")
    client.force_login(user)
    text = client.get(reverse("notifications"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "no email address on file" in text
