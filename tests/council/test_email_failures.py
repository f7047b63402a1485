"""Sending email never fails nor holds what a person did: no request sends email (the minute
scheduler and ``send_digests`` do); a bad header, a refused address or a mail server that is
down is logged, the other recipients still get theirs, and the next run sends what was missed
once it can."""

import datetime as dt
import io
import smtplib
import threading

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.core.management import call_command
from django.db import connections
from django.test import Client
from django.urls import reverse

from council import clock
from council import services as council_services
from council.models import Notification, PasswordResetRequest, User
from proposals import services
from proposals.lifecycle import Move, proposal_move
from proposals.models import Proposal, Stage
from tests.proposals.conftest import ProposalMaker

ALL_CHECKS = dict.fromkeys(
    ["in_scope", "within_cap", "not_property_duty", "not_government_duplicate", "in_community"],
    True,
)


class RefusingBackend(LocmemBackend):
    """A mail server that refuses every address beginning "refused", and takes the rest."""

    def send_messages(self, messages):
        for message in messages:
            refused = [a for a in message.to if a.startswith("refused")]
            if refused:
                raise smtplib.SMTPRecipientsRefused(dict.fromkeys(refused, (550, b"no such user")))
        return super().send_messages(messages)


class DownBackend(BaseEmailBackend):
    """A mail server nobody answers at."""

    def send_messages(self, messages):
        raise ConnectionRefusedError(111, "Connection refused")


def use_backend(settings, backend):
    settings.MAILERS = {"default": {"BACKEND": f"{backend.__module__}.{backend.__qualname__}"}}


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def minutely() -> str:
    """One run of the minute scheduler; what it printed."""
    out = io.StringIO()
    call_command("minutely", stdout=out)
    return out.getvalue()


def wants(user, choice, email=None):
    council_services.notification_preference_set(user=user, choice=choice)
    if email is not None:
        User.objects.filter(pk=user.pk).update(email=email)
    return User.objects.get(pk=user.pk)


def pending(user):
    return Notification.objects.filter(recipient=user, emailed_at__isnull=True).count()


def a_title_with_a_line_break(proposal):
    """A row saved before titles were refused line breaks (the form and service refuse them
    now): written straight to the database."""
    Proposal.objects.filter(pk=proposal.pk).update(title="更换小区路灯\n（幸福路北段）")
    return Proposal.objects.get(pk=proposal.pk)


@pytest.mark.django_db
def test_a_title_with_a_line_break_gets_its_email_with_a_one_line_subject(
    world, commit, mailoutbox
):
    proposer = wants(world.a_resident.user, "immediate")
    proposal = a_title_with_a_line_break(ProposalMaker(world).make(Stage.SUBMITTED))
    mailoutbox.clear()
    with commit():
        proposal_move(actor=world.a_staff, proposal=proposal, move=Move.TAKE_UP)
    minutely()
    assert [m.to for m in mailoutbox] == [[proposer.email]]
    subject = mailoutbox[0].subject
    assert "\n" not in subject and "\r" not in subject
    assert "更换小区路灯 （幸福路北段）" in subject
    assert pending(proposer) == 0


@pytest.mark.django_db(transaction=True)
def test_staff_moving_a_proposal_whose_title_breaks_a_header_get_their_page_not_a_500(
    world, mailoutbox
):
    wants(world.a_resident.user, "immediate")
    proposal = a_title_with_a_line_break(ProposalMaker(world).make(Stage.UNDER_REVIEW))
    services.admissibility_record(actor=world.a_staff, proposal=proposal, checks=ALL_CHECKS)
    minutely()  # the emails of the steps above
    mailoutbox.clear()
    client = Client(raise_request_exception=False)
    client.force_login(world.a_staff)
    response = client.post(
        reverse("proposal_move", args=[world.a.slug, proposal.pk]),
        {"move": Move.ADMIT, "seen_stage": Stage.UNDER_REVIEW},
    )
    assert response.status_code in (200, 302)
    assert Proposal.objects.get(pk=proposal.pk).stage == Stage.CONSULTATION
    minutely()
    assert [m.to for m in mailoutbox] == [[world.a_resident.user.email]]


@pytest.mark.django_db
def test_one_refused_address_skips_no_one_else_and_the_next_run_sends_it(
    world, commit, settings, mailoutbox
):
    maker = ProposalMaker(world)
    proposal = maker.make(Stage.UNDER_REVIEW)
    refused = wants(world.a_resident.user, "immediate", email="refused-resident@example.org")
    others = [wants(maker.cosigner(i), "immediate") for i in range(3)]
    use_backend(settings, RefusingBackend)
    mailoutbox.clear()
    with commit():
        services.admissibility_record(actor=world.a_staff, proposal=proposal, checks=ALL_CHECKS)
        proposal_move(actor=world.a_staff, proposal=proposal, move=Move.ADMIT)
    minutely()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in others)
    assert pending(refused) == 1 and all(pending(u) == 0 for u in others)

    User.objects.filter(pk=refused.pk).update(email="resident@example.org")
    mail.outbox.clear()
    minutely()
    assert [m.to for m in mail.outbox] == [["resident@example.org"]]
    assert pending(refused) == 0


@pytest.mark.django_db
def test_digests_reach_everyone_else_when_one_is_refused(world, commit, settings, mailoutbox):
    maker = ProposalMaker(world)
    proposal = maker.make(Stage.UNDER_REVIEW)
    wants(world.a_resident.user, "off")
    daily = [wants(maker.cosigner(i), "daily") for i in range(4)]
    refused = wants(maker.cosigner(4), "daily", email="refused-cosigner@example.org")
    with commit():
        services.admissibility_record(actor=world.a_staff, proposal=proposal, checks=ALL_CHECKS)
        proposal_move(actor=world.a_staff, proposal=proposal, move=Move.ADMIT)
    use_backend(settings, RefusingBackend)
    mail.outbox.clear()
    out = io.StringIO()
    call_command("send_digests", stdout=out)
    assert "4 digest(s) sent" in out.getvalue()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in daily)
    assert pending(refused) == 1

    User.objects.filter(pk=refused.pk).update(email="cosigner4@example.org")
    mail.outbox.clear()
    call_command("send_digests", stdout=io.StringIO())
    assert [m.to for m in mail.outbox] == [["cosigner4@example.org"]]


@pytest.mark.django_db
def test_with_the_mail_server_down_nothing_is_lost_and_the_next_run_sends_it(
    world, commit, settings, mailoutbox, caplog
):
    maker = ProposalMaker(world)
    proposal = maker.make(Stage.UNDER_REVIEW)
    proposer = wants(world.a_resident.user, "immediate")
    daily = wants(maker.cosigner(0), "daily")
    for i in range(1, world.a.cosign_threshold):
        wants(maker.cosigner(i), "off")
    use_backend(settings, DownBackend)
    with commit():
        services.admissibility_record(actor=world.a_staff, proposal=proposal, checks=ALL_CHECKS)
        proposal_move(actor=world.a_staff, proposal=proposal, move=Move.ADMIT)
    minutely()
    out = io.StringIO()
    call_command("send_digests", stdout=out)
    assert "0 digest(s) sent" in out.getvalue()
    assert pending(proposer) == 1 and pending(daily) == 1
    assert "ConnectionRefusedError" in caplog.text

    use_backend(settings, LocmemBackend)
    mail.outbox.clear()
    minutely()
    assert [m.to for m in mail.outbox] == [[proposer.email]]
    call_command("send_digests", stdout=io.StringIO())
    assert sorted(m.to[0] for m in mail.outbox) == sorted([proposer.email, daily.email])
    assert pending(proposer) == 0 and pending(daily) == 0


# --- No request waits on the mail server -------------------------------------------------------


class BlockingBackend(BaseEmailBackend):
    """A mail server that takes the connection and never answers (it drops packets): a send
    waits until the test lets it go, then times out."""

    called = threading.Event()
    release = threading.Event()

    def send_messages(self, messages):
        BlockingBackend.called.set()
        BlockingBackend.release.wait(timeout=120)
        raise TimeoutError("timed out")


class CountingDownBackend(DownBackend):
    """A mail server nobody answers at, counting how often it was tried."""

    tries = 0

    def send_messages(self, messages):
        CountingDownBackend.tries += 1
        return super().send_messages(messages)


@pytest.fixture
def blocking(settings):
    BlockingBackend.called, BlockingBackend.release = threading.Event(), threading.Event()
    use_backend(settings, BlockingBackend)
    yield BlockingBackend
    BlockingBackend.release.set()  # a request still waiting on it ends


def answered(request):
    """``request()``'s answer, run in a thread of its own; fails if it is still waiting after a
    generous minute (a request that waits on the mail server waits as long as it hangs)."""
    answer = {}

    def run():
        try:
            answer["response"] = request()
        finally:
            connections.close_all()

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "the request is still waiting on the mail server"
    return answer["response"]


@pytest.mark.django_db(transaction=True)
def test_an_act_that_notifies_answers_without_waiting_on_a_mail_server_that_hangs(
    world, settings, blocking
):
    maker = ProposalMaker(world)
    proposal = maker.make(Stage.UNDER_REVIEW)
    services.admissibility_record(actor=world.a_staff, proposal=proposal, checks=ALL_CHECKS)
    emailed = [wants(world.a_resident.user, "immediate")]
    emailed += [wants(maker.cosigner(i), "immediate") for i in range(3)]
    before = {user.pk: pending(user) for user in emailed}  # the steps above notified too
    client = Client(raise_request_exception=False)
    client.force_login(world.a_staff)
    response = answered(
        lambda: client.post(
            reverse("proposal_move", args=[world.a.slug, proposal.pk]),
            {"move": Move.ADMIT, "seen_stage": Stage.UNDER_REVIEW},
        )
    )
    assert response.status_code == 302
    assert Proposal.objects.get(pk=proposal.pk).stage == Stage.CONSULTATION
    assert not blocking.called.is_set()
    assert all(pending(user) == before[user.pk] + 1 for user in emailed)

    # The minute scheduler sends them, once the mail server answers.
    use_backend(settings, LocmemBackend)
    mail.outbox.clear()
    assert f"emails_sent {sum(before.values()) + 4}" in minutely()
    assert {m.to[0] for m in mail.outbox} == {u.email for u in emailed}
    assert all(pending(user) == 0 for user in emailed)


@pytest.mark.django_db(transaction=True)
def test_a_reset_request_answers_at_once_and_alike_whether_or_not_an_account_has_the_address(
    world, settings, blocking
):
    answers = {}
    for n, email in enumerate(["a_resident@example.org", "nobody@example.org"]):
        client = Client(HTTP_ACCEPT_LANGUAGE="en", HTTP_X_FORWARDED_FOR=f"203.0.113.{40 + n}")
        answers[email] = answered(
            lambda client=client, email=email: client.post(
                reverse("password_reset"), {"email": email}
            )
        )
    mine, nobodys = answers["a_resident@example.org"], answers["nobody@example.org"]
    assert (mine.status_code, mine.url) == (nobodys.status_code, nobodys.url)
    assert mine.status_code == 302 and mine.url == reverse("password_reset_done")
    assert not blocking.called.is_set()
    # Either request wrote the same: a row with the address typed.
    assert sorted(PasswordResetRequest.objects.values_list("email", flat=True)) == [
        "a_resident@example.org",
        "nobody@example.org",
    ]

    use_backend(settings, LocmemBackend)
    mail.outbox.clear()
    assert "password_resets_handled 2" in minutely()
    assert [m.to for m in mail.outbox] == [["a_resident@example.org"]]
    assert "/accounts/reset/" in mail.outbox[0].body
    assert "Password reset" in mail.outbox[0].subject  # in the language it was asked in
    assert not PasswordResetRequest.objects.exists()


@pytest.mark.django_db
def test_a_reset_email_the_mail_server_could_not_take_is_sent_by_the_next_run(
    world, settings, mailoutbox, caplog
):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert (
        client.post(reverse("password_reset"), {"email": "a_resident@example.org"}).status_code
        == 302
    )
    use_backend(settings, DownBackend)
    minutely()
    assert mailoutbox == [] and PasswordResetRequest.objects.count() == 1
    assert "ConnectionRefusedError" in caplog.text

    use_backend(settings, LocmemBackend)
    minutely()
    assert [m.to for m in mail.outbox] == [["a_resident@example.org"]]
    assert "密码" in mail.outbox[0].subject  # Chinese, as the request was
    assert not PasswordResetRequest.objects.exists()


@pytest.mark.django_db
def test_a_mail_server_that_is_down_is_tried_once_a_run_not_once_per_email(
    world, commit, settings, mailoutbox
):
    maker = ProposalMaker(world)
    proposal = maker.make(Stage.UNDER_REVIEW)
    emailed = [wants(maker.cosigner(i), "immediate") for i in range(4)]
    Client().post(reverse("password_reset"), {"email": "a_resident@example.org"})
    CountingDownBackend.tries = 0
    use_backend(settings, CountingDownBackend)
    with commit():
        services.admissibility_record(actor=world.a_staff, proposal=proposal, checks=ALL_CHECKS)
        proposal_move(actor=world.a_staff, proposal=proposal, move=Move.ADMIT)
    assert CountingDownBackend.tries == 0  # nothing was sent by the act
    minutely()
    # One try for the notifications' emails, one for the reset email; all left for later.
    assert CountingDownBackend.tries == 2
    assert all(pending(user) == 1 for user in emailed)
    assert PasswordResetRequest.objects.count() == 1


@pytest.mark.django_db
def test_what_could_not_be_emailed_for_a_day_goes_in_the_digest_and_old_reset_requests_go(
    world, commit, settings, mailoutbox, caplog
):
    proposer = wants(world.a_resident.user, "immediate")
    Client().post(reverse("password_reset"), {"email": "a_resident@example.org"})
    use_backend(settings, DownBackend)
    with commit():
        proposal_move(
            actor=world.a_staff,
            proposal=ProposalMaker(world).make(Stage.SUBMITTED),
            move=Move.TAKE_UP,
        )
    minutely()
    use_backend(settings, LocmemBackend)
    with clock.travel(dt.timedelta(days=1, minutes=1)):
        minutely()
        assert mail.outbox == []  # not alone, a day late
        assert not PasswordResetRequest.objects.exists()
        assert "1 password reset request(s) dropped unsent" in caplog.text
        call_command("send_digests", stdout=io.StringIO())
    assert [m.to for m in mail.outbox] == [[proposer.email]]
    assert "每日汇总" in mail.outbox[0].subject  # the digest, in the resident's language
    assert pending(proposer) == 0
