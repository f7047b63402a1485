"""Recording evidence (信息证据化): what every service calls to log an act, and how acts are
named on the public log.

``evidence_append`` only inserts the event in the writer's own transaction: it takes no lock
on the log, so writers never wait on each other nor on the log. Once the transaction commits,
the sequencer (``council.evidence.sequencer``, several times a second in the scheduler) gives
the event its place in the Merkle tree and signs a new checkpoint; an event rolled back was
never visible to it.
"""

from __future__ import annotations

import json
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import clock
from ..hooks import get_hooks
from ..models import EvidenceEvent

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
    """Record one act and return its event; the sequencer places it in the tree once this
    transaction has committed (within a second).

    Takes no lock on the log: call it anywhere in the transaction that makes the change it
    records, and the event is in the log if and only if that change is. ``payload`` must be
    JSON-serialisable and must never hold private data (phone, ID number, address): say
    *which* fields changed, not their values.
    """
    object_type, object_id = _object_ref(obj)
    # Round-trip the payload so what is stored is exactly what is published (Decimal → str, …).
    payload = json.loads(json.dumps(payload or {}, cls=DjangoJSONEncoder, sort_keys=True))
    actor = actor if actor is not None and actor.is_authenticated else None
    event = EvidenceEvent.objects.create(
        created_at=clock.now(),
        actor=actor,
        salt=secrets.token_bytes(32),
        actor_role=actor_role,
        action=action,
        object_type=object_type,
        object_id=object_id,
        community=community,
        payload=payload,
    )
    return event
