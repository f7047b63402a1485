"""The sequencer (Trillian's design): gives committed events their place in the Merkle tree,
in order, and signs a checkpoint of the grown tree.

Writers never wait on it: ``evidence_append`` inserts an event with no place, in the writer's
own transaction. The sequencer, holding the ``EvidenceHead`` row lock so that one integration
runs at a time, takes the events committed since (in insertion order), numbers them after the
tree's last leaf, writes their entries and the tiles they change, and signs the new size and
root — all in one transaction, so a failure leaves the tree as it was. An event whose
transaction rolled back never existed for it; one whose transaction commits later than a
higher-numbered one simply gets a later place.

It runs in the scheduler (``manage.py minutely --loop``) every ``SEQUENCER_INTERVAL``
seconds: a committed act is in a signed checkpoint within about that, and each run places
everything committed since the last in one batch, so its cost per act falls as acts come
faster. Writers never run it (Trillian's design): they only insert.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

from ..models import Checkpoint, EvidenceEvent, EvidenceHead, LogTile, actors_by_role_only
from ..tlog.merkle import EMPTY_ROOT, leaf_hash, tree_root
from ..tlog.tiles import (
    HASH_SIZE,
    WIDTH,
    TileReader,
    bundle_encode,
    tile_path,
    tiles_append,
    tiles_of,
)
from .checkpoints import checkpoint_sign
from .entries import entry_bytes

logger = logging.getLogger(__name__)

BATCH = 2000
# How often the scheduler runs the sequencer: the most a committed act waits for its checkpoint.
SEQUENCER_INTERVAL = 0.25


def log_head() -> tuple[int, bytes]:
    """(size, root) of the tree as the sequencer last left it."""
    head = EvidenceHead.objects.filter(id=1).values_list("seq", "hash").first()
    return (head[0], bytes.fromhex(head[1])) if head else (0, EMPTY_ROOT)


def tile_read(level: int, index: int) -> bytes:
    """A hash tile's stored content; ``b""`` when it does not exist yet."""
    data = LogTile.objects.filter(level=level, index=index).values_list("hashes", flat=True)
    return bytes(data[0]) if data else b""


def _places_save(events: list[EvidenceEvent]) -> None:
    """Store each event's ``seq`` and ``entry``: on PostgreSQL one ``UPDATE … FROM unnest(…)``
    of three arrays (``bulk_update``'s CASE costs rows × cases, seconds for a batch of 2,000;
    a ``VALUES`` list of 1,500 placeholders costs the driver more to parse than the update)."""
    if connection.vendor != "postgresql":
        EvidenceEvent.objects.bulk_update(events, ["seq", "entry"], batch_size=500)
        return
    table = EvidenceEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS e SET seq = v.seq, entry = v.entry "  # noqa: S608 - our table
            "FROM unnest(%s::bigint[], %s::bigint[], %s::bytea[]) AS v(id, seq, entry) "
            "WHERE e.id = v.id",
            [[e.id for e in events], [e.seq for e in events], [e.entry for e in events]],
        )


def _integrate_batch(batch: int, *, wait: bool) -> int | None:
    """One batch; ``None`` when another integration holds the head and ``wait`` is off."""
    with transaction.atomic():
        head = EvidenceHead.objects.select_for_update(skip_locked=not wait).filter(id=1).first()
        if head is None:
            if EvidenceHead.objects.filter(id=1).exists():
                return None  # another run holds it
            head, _ = EvidenceHead.objects.select_for_update().get_or_create(
                id=1, defaults={"seq": 0, "hash": EMPTY_ROOT.hex()}
            )
        pending = list(EvidenceEvent.objects.filter(seq__isnull=True).order_by("id")[:batch])
        if not pending:
            # The first run after an upgrade signs the tree the earlier chain became.
            if not Checkpoint.objects.filter(size=head.seq).exists():
                checkpoint_sign(head.seq, bytes.fromhex(head.hash))
            return 0
        size = head.seq
        leaves = []
        hidden = actors_by_role_only()
        for offset, event in enumerate(pending):
            event.seq = size + offset + 1
            event.entry = entry_bytes(event, hidden)
            leaves.append(leaf_hash(event.entry))
        _places_save(pending)
        read: dict[tuple[int, int], bytes] = {}

        def read_tile(level: int, index: int) -> bytes:
            if (level, index) not in read:
                read[level, index] = tile_read(level, index)
            return read[level, index]

        changed = tiles_append(read_tile, size, leaves)
        LogTile.objects.bulk_create(
            [LogTile(level=lv, index=ix, hashes=data) for (lv, ix), data in changed.items()],
            update_conflicts=True,
            unique_fields=["level", "index"],
            update_fields=["hashes"],
        )
        read.update(changed)
        _files_after_commit(size, size + len(pending), changed)
        size += len(pending)
        reader = TileReader(lambda lv, ix, w: read_tile(lv, ix)[: w * HASH_SIZE], size)
        root = tree_root(reader.hash_at, size)
        head.seq, head.hash = size, root.hex()
        head.save(update_fields=["seq", "hash"])
        checkpoint_sign(size, root)
        return len(pending)


def _file_write(path: Path, data: bytes) -> None:
    """Write a tile file whole or not at all: nginx may serve it the moment it exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_bytes(data)
    os.replace(partial, path)


def _tile_file(level: int | str, index: int) -> Path:
    return Path(settings.LOG_TILES_ROOT) / "log" / tile_path(level, index)


def bundle_read(index: int) -> bytes | None:
    """Entry bundle ``index`` if the tree holds all of its 256 entries."""
    first = index * WIDTH + 1
    entries = list(
        EvidenceEvent.objects.filter(seq__gte=first, seq__lt=first + WIDTH)
        .order_by("seq")
        .values_list("entry", flat=True)
    )
    return bundle_encode(bytes(e) for e in entries) if len(entries) == WIDTH else None


def tile_files_write(size: int, *, missing_only: bool = True) -> int:
    """Write every full hash tile and entry bundle of a tree of ``size`` as files under
    ``LOG_TILES_ROOT`` (those not there yet, unless ``missing_only`` is off); how many. Full
    tiles never change, so a file once written is right for ever."""
    written = 0
    for level, index, width in tiles_of(size):
        path = _tile_file(level, index)
        if width < WIDTH or (missing_only and path.exists()):
            continue
        _file_write(path, tile_read(level, index))
        written += 1
    for index in range(size // WIDTH):
        path = _tile_file("entries", index)
        if missing_only and path.exists():
            continue
        bundle = bundle_read(index)
        if bundle is not None:
            _file_write(path, bundle)
            written += 1
    return written


def _files_after_commit(old_size: int, size: int, changed: dict) -> None:
    """The tiles and bundles an integration completed, as files, once it has committed."""
    full = [(lv, ix, data) for (lv, ix), data in changed.items() if len(data) == WIDTH * HASH_SIZE]
    bundles = range(old_size // WIDTH, size // WIDTH)

    def write() -> None:
        try:
            for level, index, data in full:
                _file_write(_tile_file(level, index), data)
            for index in bundles:
                bundle = bundle_read(index)
                if bundle is not None:
                    _file_write(_tile_file("entries", index), bundle)
        except OSError:
            # The app serves what is missing; the minute job writes it again.
            logger.exception("writing the log's tile files failed")

    if full or bundles:
        transaction.on_commit(write)


def evidence_integrate(*, batch: int = BATCH, wait: bool = True) -> int:
    """Place every committed event not yet in the tree, sign the grown tree; how many.

    With ``wait`` off it returns at once when another integration is running (a second
    scheduler): that one places what was committed meanwhile."""
    total = 0
    while done := _integrate_batch(batch, wait=wait):
        total += done
    return total
