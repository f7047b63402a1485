"""The evidence log (信息证据化): append-only, hash-chained, verifiable.

Every event stores the SHA-256 of the event before it, and its own hash covers that link, so an
edited, deleted or reordered event breaks the chain at a point ``evidence_verify`` names.

Appends are serialised by locking the single ``EvidenceHead`` row (``SELECT … FOR UPDATE`` on
PostgreSQL; SQLite's IMMEDIATE transactions already serialise writers). The lock is held until
the surrounding transaction commits, so services append *last*, after their own writes: the
chain order is then the commit order and concurrent writers cannot fork it.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import clock
from .cache import cache_degraded
from .hooks import get_hooks
from .models import EvidenceEvent, EvidenceHead

GENESIS = "0" * 64

# What the council's own evidence actions mean, for the public view (``council.hooks``).
ACTION_LABELS = {
    "resident.signed_up": gettext_lazy("signed up as a resident"),
    "resident.confirmed": gettext_lazy("confirmed a resident's sign-up"),
    "resident.registered_on_behalf": gettext_lazy("registered a resident on their behalf"),
    "private_data.changed": gettext_lazy("changed a resident's private data"),
    "role.assigned": gettext_lazy("assigned a role"),
    "role.confirmed": gettext_lazy("confirmed a new role (second person)"),
    "role.refused": gettext_lazy("was refused a role grant"),
    "role.ended": gettext_lazy("ended a role"),
    "role.created": gettext_lazy("assigned a role"),
    "role.changed": gettext_lazy("changed a role"),
    "community.created": gettext_lazy("set up a community"),
    "community.changed": gettext_lazy("changed a community's settings"),
    "grid.created": gettext_lazy("set up a grid"),
    "grid.changed": gettext_lazy("changed a grid"),
    "council.created": gettext_lazy("set up a council"),
    "council.changed": gettext_lazy("changed the council's rules of procedure"),
    "account.closed": gettext_lazy("closed their account"),
    "password.reset_by_staff": gettext_lazy("reset a resident's password"),
    "account.unlocked": gettext_lazy("unlocked a resident's sign-in"),
}


@dataclass(frozen=True)
class ObjectName:
    """What an evidence entry is about, in the reader's words: 「提议《更换小区路灯》」, and the
    page that shows it (``""`` when there is none to show, or none the public may see).
    Rendering only: an entry's hash covers its ``object_type`` and ``object_id``, never these."""

    words: str
    url: str = ""


def object_pks(ids: Iterable[str]) -> list[int]:
    """The ids that can be primary keys (an entry's ``object_id`` is text), for ``pk__in``."""
    return [int(i) for i in ids if i.isdecimal() and len(i) < 19]


def objects_named(ids, rows, name, gone: str) -> dict[str, ObjectName]:
    """``{id: name(row)}`` for each id asked: ``rows`` are the objects found (one query),
    ``gone`` the words for an id no longer found (deleted since)."""
    found = {str(row.pk): row for row in rows}
    return {i: name(found[i]) if i in found else ObjectName(gone) for i in ids}


def object_namers() -> dict:
    """How each model's objects are named on the public log: every app's
    ``evidence_object_names`` hook (``council.hooks``), merged."""
    namers = {}
    for hook in get_hooks("evidence_object_names"):
        namers.update(hook())
    return namers


def evidence_name_objects(events: list[EvidenceEvent]) -> list[EvidenceEvent]:
    """Set ``named_object`` (an ``ObjectName``) on each event: one query per kind of object
    on the page, however many entries. An object of a kind no app names is "a record"."""
    ids_by_type: dict[str, set[str]] = defaultdict(set)
    for event in events:
        ids_by_type[event.object_type].add(event.object_id)
    namers = object_namers()
    names = {}
    for object_type, ids in ids_by_type.items():
        namer = namers.get(object_type)
        named = namer(sorted(ids)) if namer else {}
        for object_id in ids:
            names[object_type, object_id] = named.get(object_id) or ObjectName(_("a record"))
    for event in events:
        event.named_object = names[event.object_type, event.object_id]
    return events


def _canonical(
    *,
    seq: int,
    prev_hash: str,
    created_at,
    actor_id: int | None,
    actor_role: str,
    action: str,
    object_type: str,
    object_id: str,
    community_id: int | None,
    payload: dict,
) -> bytes:
    document = {
        "seq": seq,
        "prev": prev_hash,
        "time": created_at.isoformat(timespec="microseconds"),
        "actor": actor_id,
        "role": actor_role,
        "action": action,
        "object": f"{object_type}:{object_id}",
        "community": community_id,
        "payload": payload,
    }
    return json.dumps(
        document, sort_keys=True, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder
    ).encode()


def event_hash(event: EvidenceEvent) -> str:
    """Recompute an event's hash from its stored fields."""
    return hashlib.sha256(
        _canonical(
            seq=event.seq,
            prev_hash=event.prev_hash,
            created_at=event.created_at,
            actor_id=event.actor_id,
            actor_role=event.actor_role,
            action=event.action,
            object_type=event.object_type,
            object_id=event.object_id,
            community_id=event.community_id,
            payload=event.payload,
        )
    ).hexdigest()


def _object_ref(obj: models.Model | tuple[str, object]) -> tuple[str, str]:
    if isinstance(obj, tuple):
        return obj[0], str(obj[1])
    return obj._meta.label_lower, str(obj.pk)


def evidence_append(
    *,
    actor,
    action: str,
    obj: models.Model | tuple[str, object],
    payload: dict | None = None,
    actor_role: str = "",
    community=None,
) -> EvidenceEvent:
    """Append one event to the chain and return it.

    Call it last in the transaction that makes the change it records: it locks the chain's head
    until that transaction commits. ``payload`` must be JSON-serialisable and must never hold
    private data (phone, ID number, address): say *which* fields changed, not their values.
    """
    object_type, object_id = _object_ref(obj)
    # Round-trip the payload so what is stored is exactly what was hashed (Decimal → str, …).
    payload = json.loads(json.dumps(payload or {}, cls=DjangoJSONEncoder, sort_keys=True))
    with transaction.atomic():
        head, _ = EvidenceHead.objects.select_for_update().get_or_create(
            id=1, defaults={"seq": 0, "hash": GENESIS}
        )
        event = EvidenceEvent(
            seq=head.seq + 1,
            prev_hash=head.hash,
            created_at=clock.now(),
            actor=actor if actor is not None and actor.is_authenticated else None,
            actor_role=actor_role,
            action=action,
            object_type=object_type,
            object_id=object_id,
            community=community,
            payload=payload,
        )
        event.hash = event_hash(event)
        event.save(force_insert=True)
        head.seq, head.hash = event.seq, event.hash
        head.save(update_fields=["seq", "hash"])
    return event


def evidence_head() -> tuple[int, str]:
    """(sequence number, hash) of the chain's last event; (0, GENESIS) when empty."""
    head = EvidenceHead.objects.filter(id=1).values_list("seq", "hash").first()
    return head or (0, GENESIS)


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    head_hash: str
    broken_at: int | None = None
    reason: str = ""
    at: datetime.datetime = field(default_factory=clock.now)


def evidence_verify(chunk_size: int = 2000) -> Verification:
    """Walk the whole chain and report the first broken link, if any.

    Detects an edited event (its hash no longer matches its content), a deleted or reordered
    event (a sequence gap or a ``prev_hash`` that is not the previous event's hash) and a
    truncated tail (the head row points past the last event).
    """
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    for event in EvidenceEvent.objects.order_by("seq").iterator(chunk_size=chunk_size):
        if event.seq != expected_seq:
            return Verification(
                False,
                checked,
                expected_prev,
                expected_seq,
                _("event #%(seq)d is missing") % {"seq": expected_seq},
            )
        if event.prev_hash != expected_prev:
            return Verification(
                False,
                checked,
                expected_prev,
                event.seq,
                _("event #%(seq)d does not follow event #%(prev)d")
                % {"seq": event.seq, "prev": event.seq - 1},
            )
        if event_hash(event) != event.hash:
            return Verification(
                False,
                checked,
                expected_prev,
                event.seq,
                _("event #%(seq)d was altered after it was written") % {"seq": event.seq},
            )
        expected_prev, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    head_seq, head_hash = evidence_head()
    if (head_seq, head_hash) != (checked, expected_prev):
        return Verification(
            False,
            checked,
            expected_prev,
            checked + 1,
            _("the chain ends at event #%(last)d but its head says #%(head)d")
            % {"last": checked, "head": head_seq},
        )
    return Verification(True, checked, expected_prev)


VERIFY_CACHE_KEY = "evidence:verification"
# This process's latest verification: what the page shows, if recent enough, while the shared
# cache is unreachable (council.cache), so that the outage does not start with a walk.
_last_verification: Verification | None = None


def evidence_verify_recent(max_age: int = 60) -> Verification:
    """The whole chain's verification, recomputed at most once per ``max_age`` seconds.

    Verifying reads every event, so the public page shares one result per minute across all
    visitors and workers (the cache is Redis in production) instead of walking the chain on
    every request; the page says when it was checked. While the cache is unreachable each
    process shows its own latest result instead. The command always verifies afresh.
    """
    global _last_verification
    result = cache.get(VERIFY_CACHE_KEY)
    if result is None:
        last = _last_verification
        if (
            last is not None
            and cache_degraded()
            and (clock.now() - last.at).total_seconds() < max_age
        ):
            result = last
        else:
            result = evidence_verify()
            cache.set(VERIFY_CACHE_KEY, result, max_age)
    _last_verification = result
    return result
