"""Recording evidence (信息证据化): what every service calls to log an act, and how acts are
named on the public log.

Services call ``evidence_record``: it works out the role the actor acts in (``acting_role``,
the one rule for every app) and appends the event with ``evidence_append``, the writer below
it. That only inserts the event in the writer's own transaction: it takes no lock on the log,
so writers never wait on each other nor on the log. Once the transaction commits, the
sequencer (``council.evidence.sequencer``, several times a second in the scheduler) gives the
event its place in the Merkle tree and signs a new checkpoint; an event rolled back was never
visible to it.
"""

from __future__ import annotations

import json
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.db import connection, models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import clock
from ..hooks import get_hooks
from ..models import Community, EvidenceEvent, RoleKind
from ..rules import held_roles, is_any_district_admin, is_district_admin_of, is_grid_worker_of_grid
from .entries import canonical_json

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


def _names(refs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], ObjectName]:
    """``{(object_type, object_id): ObjectName}``: one query per kind of object asked. An
    object of a kind no app names is "a record"."""
    ids_by_type: dict[str, set[str]] = defaultdict(set)
    for object_type, object_id in refs:
        ids_by_type[object_type].add(object_id)
    namers = object_namers()
    names = {}
    for object_type, ids in ids_by_type.items():
        namer = namers.get(object_type)
        named = namer(sorted(ids)) if namer else {}
        for object_id in ids:
            names[object_type, object_id] = named.get(object_id) or ObjectName(_("a record"))
    return names


def evidence_ref(record: models.Model | tuple[str, object]) -> dict:
    """How a payload refers to another record (a decision's ``basis``: the ballot, the
    published decision, the evaluation window that made it): ``{"type": "voting.ballot",
    "id": 12}``, the type an entry's ``object_type`` would name it by."""
    if isinstance(record, tuple):
        return {"type": record[0], "id": record[1]}
    if isinstance(record, models.Model) and record.pk is not None:
        return {"type": record._meta.label_lower, "id": record.pk}
    raise TypeError(f"not a saved record nor a (type, id) pair: {record!r}")


def _basis(event: EvidenceEvent) -> tuple[str, str] | str | None:
    """The record an event's decision follows from, as (type, id); an event recorded before
    bases were references holds the words it was given (e.g. "ballot 12")."""
    basis = (event.payload or {}).get("basis") if isinstance(event.payload, dict) else None
    if isinstance(basis, dict) and "type" in basis and "id" in basis:
        return str(basis["type"]), str(basis["id"])
    return basis if isinstance(basis, str) and basis else None


def _set_bases(events: list[EvidenceEvent], names: dict) -> None:
    for event in events:
        basis = _basis(event)
        event.named_basis = (
            None if basis is None else ObjectName(basis) if isinstance(basis, str) else names[basis]
        )


def evidence_name_objects(events: list[EvidenceEvent]) -> list[EvidenceEvent]:
    """Set ``named_object`` (an ``ObjectName``) on each event, and ``named_basis`` (the record
    a decision follows from, or None): one query per kind of object on the page, however many
    entries. An object of a kind no app names is "a record"."""
    bases = [b for b in map(_basis, events) if isinstance(b, tuple)]
    names = _names([(e.object_type, e.object_id) for e in events] + bases)
    for event in events:
        event.named_object = names[event.object_type, event.object_id]
    _set_bases(events, names)
    return events


def evidence_name_bases(events: list[EvidenceEvent]) -> list[EvidenceEvent]:
    """Set ``named_basis`` on each event (as ``evidence_name_objects``), naming nothing else:
    for a list of one object's steps (a proposal's timeline). No query without a basis."""
    _set_bases(events, _names(b for b in map(_basis, events) if isinstance(b, tuple)))
    return events


def acting_role(actor, community: Community | None, *preferred: str, concerning=None) -> str:
    """The role in which ``actor`` does an act in ``community`` (None: at the district level),
    as the evidence log records it: the first of ``preferred`` the actor holds where the act is
    done; else "superuser" for the superuser; else "" (the system, or nobody in particular).

    A role counts only where it is held (``council.rules``): a community's roles in that
    community; a district admin's over the community's district (any district, for an act at
    the district level), and only when the act prefers it; a grid worker's, when the act
    concerns a resident (``concerning``: a residency or its private data), in that resident's
    grid only.
    """
    if actor is None or not actor.is_authenticated:
        return ""
    held = {
        r.kind
        for r in held_roles(actor)
        if community is not None and r.community_id == community.pk
    }
    if concerning is not None:
        held.discard(RoleKind.GRID_WORKER)
        if is_grid_worker_of_grid(actor, concerning):
            held.add(RoleKind.GRID_WORKER)
    if RoleKind.DISTRICT_ADMIN in preferred and (
        is_district_admin_of(actor, community)
        if community is not None
        else is_any_district_admin(actor)
    ):
        held.add(RoleKind.DISTRICT_ADMIN)
    for kind in preferred:
        if kind in held:
            return kind
    return "superuser" if actor.is_superuser else ""


def evidence_record(
    *,
    actor,
    action: str,
    obj: models.Model | tuple[str, object],
    community: Community | None = None,
    payload: dict | None = None,
    role: str | None = None,
    roles: Sequence[str] = (),
) -> EvidenceEvent:
    """Record that ``actor`` did ``action`` to ``obj`` in ``community``: what every service
    calls, last in the transaction that makes the change (see ``evidence_append``).

    The role recorded is ``role`` when the act itself says it (a resident signing up, a
    member's secret vote); else the first of ``roles`` the actor holds there, by
    ``acting_role``'s one rule.
    """
    if role is None:
        role = acting_role(actor, community, *roles)
    elif roles:
        raise TypeError("give the role, or the roles to choose it from, not both")
    return evidence_append(
        actor=actor,
        actor_role=role,
        action=action,
        obj=obj,
        payload=payload,
        community=community,
    )


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
    """Record one act, in ``actor_role`` as given, and return its event; the sequencer
    places it in the tree once this transaction has committed (within a second). Services
    call ``evidence_record``, which chooses the role.

    Takes no lock on the log: call it anywhere in the transaction that makes the change it
    records, and the event is in the log if and only if that change is. ``payload`` must be
    JSON-serialisable and must never hold private data (phone, ID number, address): say
    *which* fields changed, not their values.
    """
    object_type, object_id = _object_ref(obj)
    # Round-trip the payload so what is stored is exactly what is published (Decimal → str, …).
    payload = json.loads(canonical_json(payload or {}))
    actor = actor if actor is not None and actor.is_authenticated else None
    event = EvidenceEvent(
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
    _insert(event)
    for told in get_hooks("evidence_recorded"):
        told(action, event.community_id)
    return event


@cache
def _insert_sql(vendor: str) -> tuple[str, tuple]:
    fields = tuple(f for f in EvidenceEvent._meta.concrete_fields if not f.primary_key)
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({}) RETURNING {}".format(  # noqa: S608 - our own names
        quote(EvidenceEvent._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
        quote(EvidenceEvent._meta.pk.column),
    )
    return sql, fields


def _insert_cursor():
    """A cursor for the append's INSERT: on PostgreSQL one that binds on the server and runs
    the statement prepared (parsed and planned once per connection, then only its values
    sent), unless ``DATABASE_PREPARED_STATEMENTS`` is off (behind a pooler that cannot keep
    them). Django's wrapper stays around it, so the query is logged and counted like any."""
    if connection.vendor != "postgresql" or not settings.DATABASE_PREPARED_STATEMENTS:
        return connection.cursor()
    connection.ensure_connection()
    cursor = _prepared_cursor_class()(connection.connection)
    if connection.queries_logged:
        return connection.make_debug_cursor(cursor)
    return connection.make_cursor(cursor)


@cache
def _prepared_cursor_class():
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparedCursor(ServerBindingCursor):
        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)

    return PreparedCursor


def _insert(event: EvidenceEvent) -> None:
    """``event.save()`` for the one row every act writes, without the ORM's statement compiler:
    the same fields, prepared for the database by the fields themselves, into a statement built
    once and, on PostgreSQL, prepared once per connection. Every service's transaction runs
    this: the compiler was half the Python an append cost, and parsing and planning the
    statement anew a good part of the database's (``bench/evidence.py``)."""
    sql, fields = _insert_sql(connection.vendor)
    values = [f.get_db_prep_save(f.pre_save(event, True), connection) for f in fields]
    with _insert_cursor() as cursor:
        cursor.execute(sql, values)
        event.pk = cursor.fetchone()[0]
    event._state.adding = False
    event._state.db = connection.alias
