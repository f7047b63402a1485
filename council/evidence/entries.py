"""What the public log says about an event: its *entry*, the canonical bytes the Merkle tree
hashes (docs/transparency-log.md, "Entries").

Entries are public, so they name officials acting in public by their user id, and put a salted
commitment where a resident would be named: the actor, or a user an act is about. A member's
act in a secret ballot or round names nobody.
"""

from __future__ import annotations

import hashlib
import json

from django.core.serializers.json import DjangoJSONEncoder

from ..models import EvidenceEvent, actors_by_role_only

# The earlier hash chain's first link points at this.
LEGACY_GENESIS = "0" * 64

# Object types whose id identifies a person: committed to, never published.
PERSON_OBJECTS = frozenset({"council.user"})


def canonical_json(document) -> bytes:
    """The one encoding of a JSON document: UTF-8, keys sorted, no spaces."""
    return json.dumps(
        document, sort_keys=True, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder
    ).encode()


def commitment(salt: bytes, value: str) -> str:
    """``commit:<hex>``, SHA-256(salt ‖ value): says nothing of ``value`` without the salt,
    and shows it once the salt is revealed."""
    return "commit:" + hashlib.sha256(bytes(salt) + value.encode()).hexdigest()


def public_actor(event: EvidenceEvent, hidden_by_action: dict | None = None) -> str | None:
    if event.actor_id is None:
        return None
    hidden = (hidden_by_action if hidden_by_action is not None else actors_by_role_only()).get(
        event.action
    )
    if hidden and hidden(event.payload):
        return None
    if event.actor_role in EvidenceEvent.NAMED_ROLES:
        return f"official:{event.actor_id}"
    return commitment(event.salt, str(event.actor_id))


def public_object(event: EvidenceEvent) -> str:
    if event.object_type in PERSON_OBJECTS:
        return f"{event.object_type}:{commitment(event.salt, event.object_id)}"
    return f"{event.object_type}:{event.object_id}"


def entry_document(event: EvidenceEvent, hidden_by_action: dict | None = None) -> dict:
    """The entry of an event that has its place (``seq``) in the tree (``hidden_by_action``:
    ``actors_by_role_only()``, read once for a batch)."""
    document = {
        "index": event.seq - 1,
        "time": event.created_at.isoformat(timespec="microseconds"),
        "action": event.action,
        "object": public_object(event),
        "community": event.community_id,
        "role": event.actor_role,
        "actor": public_actor(event, hidden_by_action),
        "payload": event.payload,
    }
    if event.hash:
        document["chain"] = {"seq": event.seq, "prev": event.prev_hash, "hash": event.hash}
    return document


def entry_bytes(event: EvidenceEvent, hidden_by_action: dict | None = None) -> bytes:
    return canonical_json(entry_document(event, hidden_by_action))


def chain_hash(event: EvidenceEvent) -> str:
    """The earlier hash chain's hash of an event recorded before the tree: it covered the
    actor's id, so only the operator (or an auditor given the row) can recompute it."""
    return hashlib.sha256(
        canonical_json(
            {
                "seq": event.seq,
                "prev": event.prev_hash,
                "time": event.created_at.isoformat(timespec="microseconds"),
                "actor": event.actor_id,
                "role": event.actor_role,
                "action": event.action,
                "object": f"{event.object_type}:{event.object_id}",
                "community": event.community_id,
                "payload": event.payload,
            }
        )
    ).hexdigest()
