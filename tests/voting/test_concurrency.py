"""Concurrent votes on PostgreSQL: many requests at once leave one vote per member."""

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from council import services as council_services
from council.evidence import evidence_integrate
from council.models import EvidenceEvent, RoleKind, SeatCategory
from tests.voting.conftest import Council
from voting import services
from voting.models import Vote

MEMBERS, REQUESTS, WORKERS = 30, 300, 16


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_300_concurrent_vote_requests_by_30_members_leave_one_vote_each(world):
    council = Council(world, size=1)
    for i in range(1, MEMBERS):
        residency = world.resident(world.a, world.a_grid1, f"seat{i}")
        council_services.role_assign(
            actor=None,
            user=residency.user,
            kind=RoleKind.COUNCIL_MEMBER,
            community=world.a,
            seat_category=SeatCategory.REGISTERED,
        )
        council.members.append(residency.user)
    ballot = council.ballot()
    assert ballot.base == MEMBERS
    url = reverse("ballot_vote", args=[world.a.slug, ballot.pk])
    rng = random.Random(7)
    # Every member sends several requests; they all arrive at once, in a shuffled order.
    plan = [
        (council.members[i % MEMBERS], rng.choice(["yes", "no", "abstain"]))
        for i in range(REQUESTS)
    ]
    rng.shuffle(plan)
    barrier = threading.Barrier(WORKERS)
    local = threading.local()

    def send(job):
        member, choice = job
        if not getattr(local, "started", False):
            local.started = True
            barrier.wait()
        client = Client()
        client.force_login(member)
        try:
            response = client.post(
                url, {"choice": choice}, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="en"
            )
            return response.status_code, "Your vote is recorded" in response.content.decode()
        finally:
            connection.close()

    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(send, plan))

    assert all(status == 200 for status, _ in results)
    assert all(ok for _, ok in results), "every request was accepted"
    votes = Vote.objects.filter(ballot=ballot)
    assert votes.count() == MEMBERS
    assert votes.values("member").distinct().count() == MEMBERS

    # The evidence log ends on each member's stored choice: one member's votes wait on each
    # other (the vote's row lock), so the sequencer places them in the order they were cast.
    evidence_integrate()
    events = EvidenceEvent.objects.filter(
        object_id=str(ballot.pk), action__in=["vote.cast", "vote.changed"]
    ).order_by("seq")
    last = {}
    for event in events:
        last[event.actor_id] = event.payload["choice"]
    stored = dict(votes.values_list("member_id", "choice"))
    assert last == stored
    assert events.filter(action="vote.cast").count() == MEMBERS

    services.ballot_close(actor=world.a_staff, ballot=ballot, reason="压力测试结束")
    ballot.refresh_from_db()
    counts = Counter(stored.values())
    assert (ballot.yes, ballot.no, ballot.abstain) == (
        counts["yes"],
        counts["no"],
        counts["abstain"],
    )


def _vote_while_another_is_open(first, second, lock_timeout="2s"):
    """Member ``first[0]`` votes on ballot ``first[1]`` in a transaction kept open; meanwhile
    another thread, told to give up after ``lock_timeout`` of waiting on a lock, has member
    ``second[0]`` vote on ballot ``second[1]``. Returns what the second vote raised (None if
    it went through) while the first transaction was still open."""
    voted, done = threading.Event(), threading.Event()
    outcome = {}

    def hold():
        try:
            with transaction.atomic():
                services.vote_cast(actor=first[0], ballot=first[1], choice="yes")
                voted.set()
                done.wait(10)  # open until the other vote has gone through or given up
        finally:
            connection.close()

    def other():
        voted.wait(10)
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL lock_timeout = '{lock_timeout}'")
                services.vote_cast(actor=second[0], ballot=second[1], choice="no")
        except Exception as error:  # noqa: BLE001 — what it raised is the outcome
            outcome["error"] = error
        finally:
            done.set()
            connection.close()

    threads = [threading.Thread(target=hold), threading.Thread(target=other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    return outcome.get("error")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_vote_on_one_ballot_does_not_wait_for_a_vote_on_another(world):
    council = Council(world, size=3)
    one, two = council.ballot(), council.ballot()
    # On another ballot: the second vote goes through while the first is still uncommitted.
    assert _vote_while_another_is_open((council.members[0], one), (council.members[1], two)) is None
    assert Vote.objects.filter(ballot=two, member=council.members[1], choice="no").exists()
    # On the same ballot it waits (the ballot's row lock): the check above could fail.
    error = _vote_while_another_is_open((council.members[0], two), (council.members[2], two))
    assert error is not None and "lock timeout" in str(error)
    assert not Vote.objects.filter(ballot=two, member=council.members[2]).exists()
