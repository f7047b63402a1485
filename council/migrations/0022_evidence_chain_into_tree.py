"""Put the events of the earlier hash chain into the Merkle tree, in chain order: event
``seq`` becomes leaf ``seq - 1``; its entry keeps its chain link (``chain``), so the old
hashes stay verifiable. The sequencer signs the first checkpoint on its next run."""

import secrets

from django.db import migrations


def chain_into_tree(apps, schema_editor):
    from council.evidence.entries import entry_bytes
    from council.tlog.merkle import leaf_hash, tree_root
    from council.tlog.tiles import HASH_SIZE, TileReader, tiles_append

    Event = apps.get_model("council", "EvidenceEvent")
    Head = apps.get_model("council", "EvidenceHead")
    Tile = apps.get_model("council", "LogTile")
    tiles: dict[tuple[int, int], bytes] = {}
    size = 0
    events = Event.objects.filter(seq__isnull=False, entry__isnull=True).order_by("seq")
    batch = []

    def flush():
        nonlocal size
        if not batch:
            return
        Event.objects.bulk_update(batch, ["salt", "entry"], batch_size=500)
        leaves = [leaf_hash(bytes(event.entry)) for event in batch]
        tiles.update(tiles_append(lambda lv, ix: tiles.get((lv, ix), b""), size, leaves))
        size += len(batch)
        batch.clear()

    for event in events.iterator(chunk_size=2000):
        if event.seq != size + len(batch) + 1:
            raise RuntimeError(f"the evidence chain has a gap before event #{event.seq}")
        event.salt = secrets.token_bytes(32)
        event.entry = entry_bytes(event)
        batch.append(event)
        if len(batch) >= 2000:
            flush()
    flush()
    if not size:
        return
    Tile.objects.bulk_create(
        [Tile(level=lv, index=ix, hashes=data) for (lv, ix), data in tiles.items()]
    )
    reader = TileReader(lambda lv, ix, w: tiles[lv, ix][: w * HASH_SIZE], size)
    root = tree_root(reader.hash_at, size)
    Head.objects.update_or_create(id=1, defaults={"seq": size, "hash": root.hex()})


class Migration(migrations.Migration):
    dependencies = [("council", "0021_evidence_merkle_tree")]

    operations = [migrations.RunPython(chain_into_tree, migrations.RunPython.noop, elidable=True)]
