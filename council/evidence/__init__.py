"""The evidence log (信息证据化): a Merkle tree log anyone can verify (docs/transparency-log.md).

- ``records``: ``evidence_record`` (what services call), the role it records (``acting_role``),
  and how entries and what they refer to are named on pages;
- ``entries``: an event's public entry, the canonical bytes the tree hashes;
- ``sequencer``: places committed events in the tree and signs checkpoints;
- ``checkpoints``: the signing key, signed checkpoints, witnesses' cosignatures;
- ``verify``: the operator's own full check.
"""

from .checkpoints import checkpoint_note, checkpoint_published, cosignatures_gather, log_signer
from .entries import chain_hash, entry_bytes
from .records import (
    ACTION_LABELS,
    ObjectName,
    acting_role,
    evidence_append,
    evidence_name_bases,
    evidence_name_objects,
    evidence_record,
    evidence_ref,
    object_namers,
    object_pks,
    objects_named,
)
from .sequencer import evidence_integrate, log_head
from .verify import Verification, evidence_verify

__all__ = [
    "ACTION_LABELS",
    "ObjectName",
    "Verification",
    "acting_role",
    "chain_hash",
    "checkpoint_note",
    "checkpoint_published",
    "cosignatures_gather",
    "entry_bytes",
    "evidence_append",
    "evidence_integrate",
    "evidence_name_bases",
    "evidence_name_objects",
    "evidence_record",
    "evidence_ref",
    "evidence_verify",
    "log_head",
    "log_signer",
    "object_namers",
    "object_pks",
    "objects_named",
]
