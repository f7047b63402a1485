"""The evidence log as a Merkle tree: writers append without a log-wide lock, the sequencer
places committed events in order and signs checkpoints, entries publish nobody who is not an
official, and the operator's own check finds tampering of every kind."""

import hashlib
import json
import threading
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from council.evidence import (
    checkpoint_published,
    evidence_append,
    evidence_integrate,
    evidence_verify,
    log_head,
    log_signer,
)
from council.evidence.sequencer import tile_files_write
from council.models import Checkpoint, EvidenceEvent, LogTile, RoleKind
from council.tlog.merkle import leaf_hash, memory_hash_at, tree_root
from council.tlog.note import Verifier, open_note, parse_checkpoint
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _append(n, actor=None, role=""):
    return [
        evidence_append(
            actor=actor,
            actor_role=role,
            action="test.happened",
            obj=("test", i),
            payload={"i": i, "amount": "12.50", "note": "更换路灯"},
        )
        for i in range(n)
    ]


def _entries():
    return [
        bytes(e)
        for e in EvidenceEvent.objects.filter(seq__isnull=False)
        .order_by("seq")
        .values_list("entry", flat=True)
    ]


def test_an_event_joins_the_tree_only_when_the_sequencer_places_it():
    events = _append(3)
    assert [e.seq for e in events] == [None, None, None], "no place, no lock, in the writer"
    assert evidence_integrate() == 3
    assert list(EvidenceEvent.objects.order_by("id").values_list("seq", flat=True)) == [1, 2, 3]
    entries = _entries()
    assert [json.loads(e)["index"] for e in entries] == [0, 1, 2]
    size, root = log_head()
    assert size == 3
    assert root == tree_root(memory_hash_at([leaf_hash(e) for e in entries]), 3)
    assert evidence_integrate() == 0, "nothing placed twice"


def test_every_integration_signs_a_checkpoint_the_logs_key_verifies():
    _append(2)
    evidence_integrate()
    _append(1)
    evidence_integrate()
    checkpoint, cosignatures = checkpoint_published()
    assert (checkpoint.size, cosignatures) == (3, [])
    opened = open_note(checkpoint.note, [Verifier(log_signer().vkey)])
    stated = parse_checkpoint(opened.text)
    assert (stated.origin, stated.size, stated.root) == ("weishi.test/log", 3, log_head()[1])
    assert list(Checkpoint.objects.values_list("size", flat=True)) == [3, 2]


def test_an_event_whose_transaction_rolls_back_is_never_in_the_log():
    _append(1)
    with pytest.raises(RuntimeError), transaction.atomic():
        _append(1)
        raise RuntimeError("the change failed")
    _append(1)
    assert evidence_integrate() == 2
    assert [json.loads(e)["payload"]["i"] for e in _entries()] == [0, 0]


def test_entries_name_officials_and_commit_to_residents():
    staff, resident = UserFactory(), UserFactory()
    evidence_append(actor=staff, actor_role=RoleKind.STAFF, action="test.done", obj=("test", 1))
    event = evidence_append(
        actor=resident, actor_role=RoleKind.RESIDENT, action="test.done", obj=resident
    )
    evidence_integrate()
    by_staff, by_resident = (json.loads(e) for e in _entries())
    assert by_staff["actor"] == f"official:{staff.pk}"
    committed = by_resident["actor"]
    assert committed.startswith("commit:")
    event.refresh_from_db()
    # The operator can open the commitment for an auditor by revealing the event's salt.
    opened = hashlib.sha256(bytes(event.salt) + str(resident.pk).encode()).hexdigest()
    assert committed == f"commit:{opened}"
    assert by_resident["object"].startswith("council.user:commit:")
    assert f"council.user:{resident.pk}" not in json.dumps(by_resident)


def test_the_operators_check_passes_on_an_intact_log():
    _append(300)
    evidence_integrate()
    result = evidence_verify()
    assert result.ok, result.reason
    assert result.checked == 300


@pytest.mark.parametrize(
    ("tamper", "broken_at", "reason"),
    [
        (
            lambda: EvidenceEvent.objects.filter(seq=3).update(payload={"i": 2, "amount": "9"}),
            3,
            "altered",
        ),
        (lambda: EvidenceEvent.objects.filter(seq=3).delete(), 3, "missing"),
        (lambda: EvidenceEvent.objects.filter(seq=2).update(actor_role="staff"), 2, "altered"),
    ],
    ids=["edited", "deleted", "role changed"],
)
def test_the_operators_check_names_the_first_tampered_event(tamper, broken_at, reason):
    _append(5)
    evidence_integrate()
    tamper()
    result = evidence_verify()
    assert not result.ok
    assert result.broken_at == broken_at
    assert reason in result.reason


def test_reordered_entries_and_a_rewritten_tile_are_found():
    _append(5)
    evidence_integrate()
    with transaction.atomic():
        EvidenceEvent.objects.filter(seq=2).update(seq=1000)
        EvidenceEvent.objects.filter(seq=3).update(seq=2)
        EvidenceEvent.objects.filter(seq=1000).update(seq=3)
    assert evidence_verify().broken_at == 2
    with transaction.atomic():  # put back, then rewrite the tile instead
        EvidenceEvent.objects.filter(seq=2).update(seq=1000)
        EvidenceEvent.objects.filter(seq=3).update(seq=2)
        EvidenceEvent.objects.filter(seq=1000).update(seq=3)
    assert evidence_verify().ok
    tile = LogTile.objects.get(level=0, index=0)
    tile.hashes = bytes(32) + bytes(tile.hashes)[32:]
    tile.save()
    assert evidence_verify().broken_at == 1


def test_verify_command_reports_ok_and_names_the_first_broken_event(capsys):
    _append(5)
    evidence_integrate()
    call_command("verify_evidence")
    assert "OK: 5 events verified" in capsys.readouterr().out
    EvidenceEvent.objects.filter(seq=4).update(object_id="999")
    with pytest.raises(CommandError) as raised:
        call_command("verify_evidence")
    assert raised.value.returncode == 1
    assert "event #4" in str(raised.value)


def test_the_public_page_shows_the_signed_checkpoint_without_walking_the_log(
    client, django_assert_max_num_queries
):
    _append(2)
    evidence_integrate()
    size, root = log_head()
    with django_assert_max_num_queries(12):
        page = client.get("/evidence/", HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert "Latest checkpoint" in text
    assert root.hex() in text
    _append(300)
    evidence_integrate()
    with django_assert_max_num_queries(12):
        client.get("/evidence/", HTTP_ACCEPT_LANGUAGE="en")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_writer_does_not_wait_for_another_writers_open_transaction():
    """The chain made every writer wait for the one before to commit; the tree does not."""
    held = threading.Event()
    release = threading.Event()

    def slow_writer():
        try:
            with transaction.atomic():
                evidence_append(actor=None, action="test.slow", obj=("test", "slow"))
                held.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert held.wait(10)
    started = time.monotonic()
    with transaction.atomic():
        evidence_append(actor=None, action="test.fast", obj=("test", "fast"))
    waited = time.monotonic() - started
    evidence_integrate()  # places the committed one; the slow one is not committed yet
    release.set()
    thread.join()
    evidence_integrate()
    assert waited < 2
    actions = list(EvidenceEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions == ["test.fast", "test.slow"], "placed in commit order, not id order"
    assert evidence_verify().ok


def _prepared_appends() -> tuple[int, int]:
    """(statements, runs): the evidence INSERTs this connection holds prepared, and how many
    times they have run (a prepared statement outlives the test's transaction, so tests
    compare runs before and after)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), coalesce(sum(generic_plans + custom_plans), 0) "
            "FROM pg_prepared_statements "
            "WHERE statement LIKE 'INSERT INTO \"council_evidenceevent\"%%'"
        )
        return cursor.fetchone()


@pytest.mark.postgres
def test_an_append_is_a_prepared_statement_counted_like_any_query(settings):
    """Every act's INSERT is parsed and planned once per connection, and still shows in a
    count of the queries a request makes."""
    from django.test.utils import CaptureQueriesContext

    settings.DATABASE_PREPARED_STATEMENTS = True
    _, runs_before = _prepared_appends()
    with CaptureQueriesContext(connection) as queries:
        for i in range(3):
            evidence_append(actor=None, action="test.prepared", obj=("test", i))
    assert len(queries) == 3
    assert all('INSERT INTO "council_evidenceevent"' in q["sql"] for q in queries)
    statements, runs = _prepared_appends()
    assert statements == 1, "one statement prepared, run again and again"
    assert runs == runs_before + 3
    assert list(EvidenceEvent.objects.values_list("object_id", flat=True).order_by("id")) == [
        "0", "1", "2",
    ]  # fmt: skip


@pytest.mark.postgres
def test_behind_a_pooler_that_cannot_keep_them_no_statement_is_prepared(settings):
    settings.DATABASE_PREPARED_STATEMENTS = False
    _, runs_before = _prepared_appends()
    evidence_append(actor=None, action="test.unprepared", obj=("test", 1))
    evidence_append(actor=None, action="test.unprepared", obj=("test", 2))
    assert _prepared_appends()[1] == runs_before
    assert EvidenceEvent.objects.filter(action="test.unprepared").count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_parallel_writers_and_two_sequencers_on_postgresql_leave_one_valid_tree():
    writers, per_writer = 8, 25
    barrier = threading.Barrier(writers + 2)
    writing = threading.Event()
    writing.set()
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

    def sequence():
        # Two schedulers at once (a site restarting one): each steps aside for the other.
        try:
            barrier.wait()
            while writing.is_set():
                evidence_integrate(wait=False)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    writer_threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    sequencers = [threading.Thread(target=sequence) for _ in range(2)]
    for thread in writer_threads + sequencers:
        thread.start()
    for thread in writer_threads:
        thread.join()
    writing.clear()
    for thread in sequencers:
        thread.join()
    assert errors == []
    evidence_integrate()  # what was committed after the sequencers' last run
    result = evidence_verify()
    assert result.ok, result.reason
    assert result.checked == writers * per_writer
    seqs = list(EvidenceEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, writers * per_writer + 1))
    sizes = list(Checkpoint.objects.order_by("size").values_list("size", flat=True))
    assert sizes[-1] == writers * per_writer and len(sizes) == len(set(sizes))


def test_full_tiles_and_bundles_are_written_as_files_the_app_also_serves(
    client, settings, tmp_path
):
    settings.LOG_TILES_ROOT = tmp_path
    _append(300)
    evidence_integrate()
    assert tile_files_write(log_head()[0]) == 2, "tile 0/000 and entry bundle 000: the full ones"
    for path in ("tile/0/000", "tile/entries/000"):
        served = client.get(f"/log/{path}")
        assert served["Cache-Control"] == "public, max-age=31536000, immutable"
        assert (tmp_path / "log" / path).read_bytes() == served.content
    assert not (tmp_path / "log" / "tile/0/001.p/44").exists(), "partial tiles stay in the app"
    assert client.get("/log/tile/0/001.p/44").status_code == 200
    assert tile_files_write(log_head()[0]) == 0, "a file once written is never rewritten"


def test_the_site_never_serves_a_checkpoint_its_key_did_not_sign(client):
    _append(3)
    evidence_integrate()
    served = client.get("/log/checkpoint")
    assert served.status_code == 200
    assert served["Cache-Control"] == "public, max-age=2"
    open_note(served.content.decode(), [Verifier(log_signer().vkey)])
    checkpoint = Checkpoint.objects.get(size=3)
    checkpoint.note = checkpoint.note.replace("\n3\n", "\n4\n")  # edited in the database
    checkpoint.save()
    refused = client.get("/log/checkpoint")
    assert refused.status_code == 503
    assert b"does not verify" in refused.content
