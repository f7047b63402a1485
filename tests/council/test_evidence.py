"""The evidence log: append, verify, and tampering of every kind detected."""

import threading

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from council.evidence import (
    GENESIS,
    VERIFY_CACHE_KEY,
    event_hash,
    evidence_append,
    evidence_head,
    evidence_verify,
)
from council.models import EvidenceEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _append(n, actor=None):
    return [
        evidence_append(
            actor=actor,
            action="test.happened",
            obj=("test", i),
            payload={"i": i, "amount": "12.50", "note": "更换路灯"},
        )
        for i in range(n)
    ]


def test_each_event_links_to_the_one_before_and_the_chain_verifies():
    events = _append(5)
    assert events[0].prev_hash == GENESIS
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
        assert after.seq == before.seq + 1
    result = evidence_verify()
    assert result.ok and result.checked == 5
    assert evidence_head() == (5, events[-1].hash)


def test_stored_event_hashes_the_same_after_a_round_trip_through_the_database():
    actor = UserFactory()
    event = _append(1, actor=actor)[0]
    stored = EvidenceEvent.objects.get(pk=event.pk)
    assert event_hash(stored) == stored.hash


def test_an_edited_payload_is_detected_at_that_event():
    _append(4)
    EvidenceEvent.objects.filter(seq=3).update(payload={"i": 2, "amount": "99999.00"})
    result = evidence_verify()
    assert not result.ok
    assert result.broken_at == 3
    assert result.checked == 2


def test_an_edited_actor_or_time_is_detected():
    events = _append(3)
    EvidenceEvent.objects.filter(seq=2).update(actor_role="staff")
    assert evidence_verify().broken_at == 2
    EvidenceEvent.objects.filter(seq=2).update(actor_role="", created_at=events[0].created_at)
    assert evidence_verify().broken_at == 2


def test_a_deleted_event_in_the_middle_is_detected():
    _append(5)
    EvidenceEvent.objects.filter(seq=3).delete()
    result = evidence_verify()
    assert not result.ok and result.broken_at == 3


def test_a_deleted_last_event_is_detected_by_the_head():
    _append(3)
    EvidenceEvent.objects.filter(seq=3).delete()
    result = evidence_verify()
    assert not result.ok and result.broken_at == 3


def test_two_events_swapped_are_detected():
    _append(4)
    with transaction.atomic():
        EvidenceEvent.objects.filter(seq=2).update(seq=1000)
        EvidenceEvent.objects.filter(seq=3).update(seq=2)
        EvidenceEvent.objects.filter(seq=1000).update(seq=3)
    result = evidence_verify()
    assert not result.ok and result.broken_at == 2


def test_a_rewritten_event_with_a_recomputed_hash_still_breaks_the_next_link():
    _append(4)
    forged = EvidenceEvent.objects.get(seq=2)
    forged.payload = {"i": 1, "amount": "0.00"}
    forged_hash = event_hash(forged)
    EvidenceEvent.objects.filter(seq=2).update(payload=forged.payload, hash=forged_hash)
    result = evidence_verify()
    assert not result.ok and result.broken_at == 3


def test_verify_command_reports_ok_on_an_intact_chain(capsys):
    _append(3)
    call_command("verify_evidence")
    assert "OK: 3 events verified" in capsys.readouterr().out


def test_verify_command_names_the_first_broken_link_and_exits_non_zero():
    _append(5)
    EvidenceEvent.objects.filter(seq=4).update(object_id="999")
    with pytest.raises(CommandError) as raised:
        call_command("verify_evidence")
    assert raised.value.returncode == 1
    assert "event #4" in str(raised.value)


def test_public_evidence_page_shows_the_verification_and_the_head_hash(client):
    events = _append(2)
    page = client.get("/evidence/", HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert "The chain verifies: 2 entries checked" in text
    assert events[-1].hash in text
    EvidenceEvent.objects.filter(seq=1).update(action="test.rewritten")
    text = client.get("/evidence/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The chain verifies" in text, "one verification a minute is shared by every visitor"
    cache.delete(VERIFY_CACHE_KEY)  # a minute later
    text = client.get("/evidence/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "The chain is broken at entry #1" in text


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_parallel_writers_on_postgresql_leave_one_valid_chain():
    writers, per_writer = 8, 25
    barrier = threading.Barrier(writers)
    errors = []

    def write(w):
        try:
            barrier.wait()
            for i in range(per_writer):
                with transaction.atomic():
                    evidence_append(
                        actor=None, action="test.parallel", obj=("writer", w), payload={"i": i}
                    )
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    result = evidence_verify()
    assert result.ok, result.reason
    assert result.checked == writers * per_writer
    seqs = list(EvidenceEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, writers * per_writer + 1))
    assert EvidenceEvent.objects.values("prev_hash").distinct().count() == writers * per_writer
