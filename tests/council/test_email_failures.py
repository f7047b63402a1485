"""Sending email never fails what a person did: a bad header, a refused address or a mail
server that is down is logged, the other recipients still get theirs, and ``send_digests``
sends what was missed once it can."""

import io
import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from council import services as council_services
from council.models import Notification, User
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
    mailoutbox.clear()
    client = Client(raise_request_exception=False)
    client.force_login(world.a_staff)
    response = client.post(
        reverse("proposal_move", args=[world.a.slug, proposal.pk]),
        {"move": Move.ADMIT, "seen_stage": Stage.UNDER_REVIEW},
    )
    assert response.status_code in (200, 302)
    assert Proposal.objects.get(pk=proposal.pk).stage == Stage.CONSULTATION
    assert [m.to for m in mailoutbox] == [[world.a_resident.user.email]]


@pytest.mark.django_db
def test_one_refused_address_skips_no_one_else_and_the_digest_sends_it_later(
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
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in others)
    assert pending(refused) == 1 and all(pending(u) == 0 for u in others)

    User.objects.filter(pk=refused.pk).update(email="resident@example.org")
    mail.outbox.clear()
    call_command("send_digests", stdout=io.StringIO())
    assert ["resident@example.org"] in [m.to for m in mail.outbox]
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
    out = io.StringIO()
    call_command("send_digests", stdout=out)
    assert "0 digest(s) sent" in out.getvalue()
    assert pending(proposer) == 1 and pending(daily) == 1
    assert "ConnectionRefusedError" in caplog.text

    use_backend(settings, LocmemBackend)
    mail.outbox.clear()
    call_command("send_digests", stdout=io.StringIO())
    assert sorted(m.to[0] for m in mail.outbox) == sorted([proposer.email, daily.email])
    assert pending(proposer) == 0 and pending(daily) == 0
