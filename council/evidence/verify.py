"""The operator's own check of the whole log (``manage.py verify_evidence``): every stored
event against its entry, the entries against the tiles, the tiles against the head and the
newest signed checkpoint. No page runs it; outsiders check the log with
``tools/weishi_verify.py``, which needs none of this."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from .. import clock
from ..models import Checkpoint, EvidenceEvent
from ..tlog.merkle import leaf_hash, tree_root
from ..tlog.note import NoteError, Verifier, open_note
from ..tlog.tiles import HASH_SIZE, WIDTH, TileReader
from .checkpoints import log_signer
from .entries import LEGACY_GENESIS, chain_hash, entry_bytes
from .sequencer import log_head, tile_read


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    head_hash: str
    broken_at: int | None = None
    reason: str = ""
    at: datetime.datetime = field(default_factory=clock.now)


def _broken(checked: int, root: str, seq: int, reason: str) -> Verification:
    return Verification(False, checked, root, seq, reason)


def evidence_verify(chunk_size: int = 2048) -> Verification:
    """Walk every event in the tree and report the first thing wrong, if any.

    Finds an edited event (its stored fields no longer give its entry), a deleted or reordered
    one (a gap in the numbering, or a leaf hash that is not the tile's), an earlier chain link
    that was altered, tiles that do not give the head's root, and a newest checkpoint that is
    not the head or not signed by this log's key.
    """
    size, root = log_head()
    reader = TileReader(lambda lv, ix, w: tile_read(lv, ix)[: w * HASH_SIZE], size)
    expected_seq, prev_chain, tile, checked = 1, LEGACY_GENESIS, b"", 0
    events = EvidenceEvent.objects.filter(seq__isnull=False).order_by("seq")
    for event in events.iterator(chunk_size=chunk_size):
        if event.seq != expected_seq:
            return _broken(
                checked,
                root.hex(),
                expected_seq,
                _("event #%(seq)d is missing") % {"seq": expected_seq},
            )
        index = event.seq - 1
        if index >= size:
            return _broken(
                checked,
                root.hex(),
                event.seq,
                _("event #%(seq)d is beyond the tree's %(size)d entries")
                % {"seq": event.seq, "size": size},
            )
        if event.hash:
            if event.prev_hash != prev_chain:
                return _broken(
                    checked,
                    root.hex(),
                    event.seq,
                    _("event #%(seq)d does not follow event #%(prev)d")
                    % {"seq": event.seq, "prev": event.seq - 1},
                )
            if chain_hash(event) != event.hash:
                return _broken(
                    checked,
                    root.hex(),
                    event.seq,
                    _("event #%(seq)d was altered after it was written") % {"seq": event.seq},
                )
            prev_chain = event.hash
        if index % WIDTH == 0:
            tile = reader.levels(0, index // WIDTH)[0]
        stored = bytes(event.entry or b"")
        if entry_bytes(event) != stored or leaf_hash(stored) != tile[index % WIDTH]:
            return _broken(
                checked,
                root.hex(),
                event.seq,
                _("event #%(seq)d was altered after it was written") % {"seq": event.seq},
            )
        expected_seq, checked = expected_seq + 1, checked + 1
    if checked != size:
        return _broken(
            checked,
            root.hex(),
            checked + 1,
            _("the log ends at event #%(last)d but its head says #%(head)d")
            % {"last": checked, "head": size},
        )
    if size and tree_root(reader.hash_at, size) != root:
        return _broken(checked, root.hex(), size, _("the tree's tiles do not give its root"))
    newest = Checkpoint.objects.order_by("-size").first()
    if size and (newest is None or (newest.size, newest.root) != (size, root.hex())):
        return _broken(
            checked, root.hex(), size, _("the newest signed checkpoint is not the log's head")
        )
    if newest is not None:
        try:
            open_note(newest.note, [Verifier(log_signer().vkey)])
        except NoteError:
            return _broken(
                checked,
                root.hex(),
                size,
                _("the newest checkpoint is not signed by this log's key"),
            )
    return Verification(True, checked, root.hex())
