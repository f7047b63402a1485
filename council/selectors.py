"""Non-trivial reads of the council app. Each returns a queryset or plain data whose query
count does not grow with the number of rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import (
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, Concat, RowNumber
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from . import clock
from .evidence import (
    ObjectName,
    checkpoint_published,
    evidence_name_objects,
    object_pks,
    objects_named,
)
from .hooks import get_hooks
from .models import (
    Community,
    Council,
    EvidenceEvent,
    Grid,
    Message,
    MessageReport,
    Notification,
    PostingBan,
    PrivateData,
    Role,
    RoleKind,
    RoleStatus,
    Thread,
    ThreadPresence,
    ThreadRead,
)
from .personal_data import iso
from .rules import forget_roles, held_roles

_ACTIVE = Q(roles__status=RoleStatus.ACTIVE)


def communities_found(query: str = "") -> QuerySet[Community]:
    """Communities by district, street (sub-district) and name; with ``query``, those whose
    name, street or district contains it. For paging: no head-counts (``community_overview``
    adds them to one page's)."""
    communities = Community.objects.select_related("sub_district__district").order_by(
        "sub_district__district__name", "sub_district__name", "name", "pk"
    )
    if query:
        communities = communities.filter(
            Q(name__icontains=query)
            | Q(sub_district__name__icontains=query)
            | Q(sub_district__district__name__icontains=query)
        )
    return communities


def community_overview(communities: Iterable[Community]) -> list[Community]:
    """These communities (one page of them), in their order, with their head-counts: one
    query, counting the roles and grids of these communities only."""
    communities = list(communities)

    def counted(rows: QuerySet) -> Subquery:
        # A count per community as its own subquery: each reads that community's rows through
        # an index, where a join of roles and grids would count their product (DISTINCT).
        return Subquery(
            rows.filter(community=OuterRef("pk"))
            .order_by()
            .values("community")
            .annotate(n=Count("pk"))
            .values("n"),
            output_field=IntegerField(),
        )

    active = Role.objects.filter(status=RoleStatus.ACTIVE)
    counts = {
        pk: row
        for pk, *row in Community.objects.filter(pk__in=[c.pk for c in communities])
        .annotate(
            resident_count=Coalesce(counted(active.filter(kind=RoleKind.RESIDENT)), 0),
            member_count=Coalesce(counted(active.filter(kind=RoleKind.COUNCIL_MEMBER)), 0),
            grid_count=Coalesce(counted(Grid.objects.all()), 0),
        )
        .values_list("pk", "resident_count", "member_count", "grid_count")
    }
    for community in communities:
        community.resident_count, community.member_count, community.grid_count = counts[
            community.pk
        ]
    return communities


# Up to this many communities, the header lists them all; a city's hundreds are found on the
# programme page instead (``communities_found``), and the header lists a person's own.
SWITCHER_LISTS_ALL_UP_TO = 12


@dataclass(frozen=True)
class Switcher:
    communities: list[Community]
    more: bool  # there are others, found on the programme page


def community_switcher(user) -> Switcher:
    """The header's communities: all, the user's own first, while there are few; else only
    the user's own, and ``more``. One query however many communities: the first few by name
    and the user's own, each row with the number of communities in all."""
    own = {r.community_id for r in held_roles(user) if r.community_id}
    rows = list(
        Community.objects.annotate(
            place=Window(RowNumber(), order_by=[F("name").asc(), F("pk").asc()]),
            total=Window(Count("pk")),
        )
        .filter(Q(place__lte=SWITCHER_LISTS_ALL_UP_TO) | Q(pk__in=own))
        .only("name", "slug")
        .order_by("name", "pk")
    )
    if not rows or rows[0].total <= SWITCHER_LISTS_ALL_UP_TO:
        return Switcher(sorted(rows, key=lambda c: (c.pk not in own, c.name)), more=False)
    return Switcher([c for c in rows if c.pk in own], more=True)


def council_seats(community: Community) -> QuerySet[Role]:
    """The seated council members of a community, with their (public) seat category and
    term: active council-member roles whose term has not ended."""
    return (
        Role.objects.filter(
            community=community, kind=RoleKind.COUNCIL_MEMBER, status=RoleStatus.ACTIVE
        )
        .filter(Q(term_ends__isnull=True) | Q(term_ends__gte=clock.today()))
        .select_related("user")
        .order_by("seat_category", "user__display_name")
    )


def residents_for(user, community: Community) -> QuerySet[Role]:
    """Residencies of a community the user may see in the staff list.

    Staff see the whole community; a grid worker sees the residents of their own grids only.
    """
    base = Role.objects.filter(community=community, kind=RoleKind.RESIDENT).exclude(
        status=RoleStatus.ENDED
    )
    if user.has_perm("council.list_all_residents", community):
        visible = base
    else:
        grids = [
            r.grid_id
            for r in held_roles(user)
            if r.kind == RoleKind.GRID_WORKER and r.community_id == community.pk
        ]
        visible = base.filter(grid_id__in=grids)
    return visible.select_related(
        "user", "grid", "private_data", "entered_by", "community"
    ).order_by("-status", "grid__name", "user__display_name")


def private_data_for(user, residency_id: int) -> PrivateData | None:
    """A resident's private data, or None when it does not exist *or* the user may not read it.

    Both cases look the same to the caller, who answers 404.
    """
    data = (
        PrivateData.objects.select_related(
            "residency__user", "residency__grid", "residency__community"
        )
        .filter(residency_id=residency_id)
        .first()
    )
    if data is None or not user.has_perm("council.view_privatedata", data):
        return None
    return data


def phone_sign_in_username(phone: str) -> str | None:
    """The username of the resident whose mobile number ``phone`` (as stored: 11 digits) signs
    in: a current residency of an open account, whose number is theirs in its district. None
    when there is none — or more than one, in different districts: then nobody signs in with
    that number (each signs in with their username)."""
    names = list(
        PrivateData.objects.filter(
            phone=phone, phone_district__isnull=False, residency__user__is_active=True
        )
        .exclude(residency__status=RoleStatus.ENDED)
        .values_list("residency__user__username", flat=True)
        .distinct()[:2]
    )
    return names[0] if len(names) == 1 else None


def resident_by_phone(user, community: Community, phone: str) -> PrivateData | None:
    """The current resident of ``community`` with mobile number ``phone`` (as stored) whose
    private data ``user`` may read (the grid worker of their grid, the community's staff);
    None when there is none *or* the user may not read it: both look the same."""
    data = (
        PrivateData.objects.filter(phone=phone, residency__community=community)
        .exclude(residency__status=RoleStatus.ENDED)
        .select_related("residency__user", "residency__grid", "residency__community")
        .order_by(F("phone_district").desc(nulls_last=True), "pk")  # the one it signs in
        .first()
    )
    if data is None or not user.has_perm("council.view_privatedata", data):
        return None
    return data


def evidence_public_page(*, before: int | None = None, limit: int = 50) -> list[EvidenceEvent]:
    """The newest events for the public view (who is shown by role, never by private data),
    each with what it is about in words (``named_object``): one query per kind of object."""
    # Events committed but not yet placed by the sequencer (for a few milliseconds) come
    # first: what someone just did is on the log at once.
    events = EvidenceEvent.objects.select_related("actor", "community").order_by(
        F("seq").desc(nulls_first=True), "-id"
    )
    if before is not None:
        events = events.filter(seq__lt=before)
    return evidence_name_objects(list(events[:limit]))


def evidence_log_status() -> dict:
    """What the evidence page says of the log as a whole: the checkpoint it publishes (size,
    root, when signed) and the witnesses that cosigned it. Two queries, whatever its size."""
    published = checkpoint_published()
    if published is None:
        return {"checkpoint": None, "witnesses": []}
    checkpoint, lines = published
    return {"checkpoint": checkpoint, "witnesses": [line.split(" ")[1] for line in lines]}


# --- How the evidence log names the council's own objects (``evidence_object_names``) --------
# People are never named here: the log names an official as the actor of their own acts, and a
# resident by role only (``EvidenceEvent.public_actor``).


def evidence_names_of_roles(ids) -> dict[str, ObjectName]:
    """A role by its kind (「议事会成员身份」), never by whose it is."""
    rows = Role.objects.filter(pk__in=object_pks(ids)).only("kind")
    return objects_named(
        ids,
        rows,
        lambda role: ObjectName(_("the %(role)s role") % {"role": role.get_kind_display()}),
        _("a role"),
    )


def evidence_names_of_accounts(ids) -> dict[str, ObjectName]:
    """An account, never whose: nothing to read."""
    return {i: ObjectName(_("an account")) for i in ids}


def evidence_names_of_messages(ids) -> dict[str, ObjectName]:
    """A message by its thread (「《…》中的一条发言」), linked when the thread is public; never
    the message's words (they may since have been hidden or deleted)."""
    rows = Message.objects.filter(pk__in=object_pks(ids)).select_related("thread")

    def name(message):
        thread = message.thread
        if not thread.is_public:
            return ObjectName(_("a message in a discussion not made public"))
        words = _("a message in “%(thread)s”") % {"thread": thread.title}
        url = f"{thread.page_url}#message-{message.pk}" if thread.page_url else ""
        return ObjectName(words, url)

    return objects_named(ids, rows, name, _("a message since deleted"))


def evidence_names_of_communities(ids) -> dict[str, ObjectName]:
    """A community by its name, linked to its page."""
    rows = Community.objects.filter(pk__in=object_pks(ids)).only("name", "slug")
    return objects_named(
        ids,
        rows,
        lambda c: ObjectName(c.name, reverse("community", args=[c.slug])),
        _("a community since removed"),
    )


def evidence_names_of_grids(ids) -> dict[str, ObjectName]:
    """A grid by its name."""
    rows = Grid.objects.filter(pk__in=object_pks(ids)).only("name")
    return objects_named(
        ids,
        rows,
        lambda grid: ObjectName(_("the grid %(name)s") % {"name": grid.name}),
        _("a grid since removed"),
    )


def evidence_names_of_councils(ids) -> dict[str, ObjectName]:
    """A council by its name (「东湖社区居民议事会」)."""
    rows = Council.objects.filter(pk__in=object_pks(ids)).only("name")
    return objects_named(
        ids, rows, lambda council: ObjectName(council.name), _("a council since removed")
    )


def collection_status(community: Community) -> str:
    """'open', 'upcoming' or 'closed', for today's date."""
    today = clock.today()
    if today < community.collection_opens:
        return "upcoming"
    if today > community.collection_closes:
        return "closed"
    return "open"


# --- A person's own data (``council.personal_data``): the council app's sections ------------


def own_private_data(user) -> QuerySet[PrivateData]:
    """The signed-in person's own private data, one row per residency, for their own page."""
    return (
        PrivateData.objects.filter(residency__user=user)
        .select_related("residency__community", "residency__grid")
        .order_by("residency_id")
    )


def personal_account(user) -> dict:
    """The account's own fields (never the password hash)."""
    return {
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "language": user.language,
        "email_notifications": user.email_notifications,
        "large_text": user.large_text,
        "date_joined": iso(user.date_joined),
        "last_login": iso(user.last_login),
        "is_active": user.is_active,
        "closed_at": iso(user.closed_at),
    }


def personal_consent(user) -> list[dict]:
    """The consent given at sign-up, per residency: when, and to which purposes. A resident
    registered on their behalf by staff has no consent time on file (entered on paper)."""
    from .personal_data import CONSENT_PURPOSES

    rows = PrivateData.objects.filter(residency__user=user).select_related("residency__community")
    return [
        {
            "community": data.residency.community.name,
            "given_at": iso(data.consented_at),
            "purposes": str(CONSENT_PURPOSES),
            "entered_on_your_behalf": data.residency.entered_by_id is not None,
        }
        for data in rows.order_by("residency_id")
    ]


def personal_private_data(user) -> list[dict]:
    """The person's own private data, unmasked: it is theirs."""
    rows = PrivateData.objects.filter(residency__user=user).select_related(
        "residency__community", "residency__grid"
    )
    return [
        {
            "community": data.residency.community.name,
            "grid": data.residency.grid.name if data.residency.grid else None,
            "phone": data.phone,
            "id_number": data.id_number,
            "address": data.address,
            "household_status": data.household_status,
            "updated_at": iso(data.updated_at),
        }
        for data in rows.order_by("residency_id")
    ]


def personal_roles(user) -> list[dict]:
    rows = Role.objects.filter(user=user).select_related("community", "district", "grid")
    return [
        {
            "role": role.kind,
            "status": role.status,
            "community": role.community.name if role.community else None,
            "district": role.district.name if role.district else None,
            "grid": role.grid.name if role.grid else None,
            "seat_category": role.seat_category or None,
            "term_ends": iso(role.term_ends),
            "entered_on_your_behalf": role.entered_by_id is not None,
            "created_at": iso(role.created_at),
            "confirmed_at": iso(role.confirmed_at),
        }
        for role in rows.order_by("pk")
    ]


def personal_thread_messages(user) -> list[dict]:
    """Messages the person wrote, with every earlier version of each (kept on edit)."""
    from .models import Message

    rows = (
        Message.objects.filter(author=user)
        .select_related("thread__community")
        .prefetch_related("edits")
        .order_by("pk")
    )
    return [
        {
            "id": m.pk,
            "thread": m.thread.title,
            "community": m.thread.community.name,
            "page": m.thread.page_url,
            "kind": m.kind,
            "text": m.body,
            "created_at": iso(m.created_at),
            "edited_at": iso(m.edited_at),
            "deleted_at": iso(m.deleted_at),
            "hidden_at": iso(m.hidden_at),
            "hidden_reason": m.hidden_reason or None,
            "earlier_versions": [
                {"text": e.body, "replaced_at": iso(e.created_at)} for e in m.edits.all()
            ],
        }
        for m in rows
    ]


def personal_message_reports(user) -> list[dict]:
    """Messages the person reported to staff, and why."""
    from .models import MessageReport

    rows = MessageReport.objects.filter(reporter=user).order_by("pk")
    return [
        {
            "message_id": r.message_id,
            "reason": r.reason,
            "created_at": iso(r.created_at),
            "handled_at": iso(r.handled_at),
        }
        for r in rows
    ]


def personal_notifications(user) -> list[dict]:
    rows = Notification.objects.filter(recipient=user).order_by("created_at", "pk")
    return [
        {
            "text": n.text,
            "link": n.url,
            "created_at": iso(n.created_at),
            "read_at": iso(n.read_at),
            "emailed_at": iso(n.emailed_at),
        }
        for n in rows
    ]


def personal_evidence(user) -> list[dict]:
    """The evidence log's entries of the person's own acts (what anyone can read, by entry)."""
    rows = EvidenceEvent.objects.filter(actor=user).select_related("community").order_by("seq")
    return [
        {
            "seq": e.seq,
            "time": iso(e.created_at),
            "action": e.action,
            "object": f"{e.object_type}:{e.object_id}",
            "community": e.community.name if e.community else None,
        }
        for e in rows
    ]


# --- Deliberation threads, for the pages and the consumer ------------------------------------

# A connection not seen for this long has gone (its socket died without saying goodbye).
PRESENCE_TTL = dt.timedelta(seconds=90)


def thread_for(user, thread_id: int) -> Thread | None:
    """The thread if it exists and the user may read it; None otherwise (both look alike).
    The user's roles are read afresh: a role removed a moment ago counts now."""
    thread = Thread.objects.select_related("community").filter(pk=thread_id).first()
    if thread is None:
        return None
    if user.is_authenticated:
        forget_roles(user)
    return thread if user.has_perm("council.read_thread", thread) else None


def thread_messages(thread: Thread, *, after: int = 0, limit: int | None = None):
    """Messages of a thread in order, with what their partial shows (constant queries)."""
    messages = (
        Message.objects.filter(thread=thread, pk__gt=after)
        .select_related("author", "quote__author", "hidden_by")
        .order_by("pk")
    )
    return list(messages[:limit] if limit else messages)


# Top-level messages a page shows at once; "Show earlier messages" loads the ones before.
THREAD_WINDOW = 30


@dataclass
class ThreadWindow:
    """Messages of a thread as a page shows them (``thread_window``): ``messages`` in order,
    top-level ones with their replies; ``earlier`` is the ``before`` that shows the window
    before this one, None when this one reaches the first message."""

    messages: list
    earlier: int | None


def thread_window(thread: Thread, *, before: int | None = None, size: int = THREAD_WINDOW):
    """The last ``size`` top-level messages of the thread before message ``before`` (the
    newest when None), each with all its replies (a reply always hangs from a top-level
    message: ``threads.message_post``). Two queries, each reading the window's rows alone
    through an index, however long the thread. (One query with the first as a subquery would
    read every message of every thread: PostgreSQL cannot use an index for
    ``IN (subquery) OR IN (subquery)``.)"""
    tops = Message.objects.filter(thread=thread, reply_to__isnull=True)
    if before is not None:
        tops = tops.filter(pk__lt=before)
    # One more than shown: whether there is anything earlier.
    top_ids = list(tops.order_by("-pk").values_list("pk", flat=True)[: size + 1])
    if not top_ids:
        return ThreadWindow([], None)
    rows = list(
        Message.objects.filter(Q(pk__in=top_ids) | Q(reply_to__in=top_ids))
        .select_related("author", "quote__author", "hidden_by")
        .order_by("pk")
    )
    shown_tops = [m.pk for m in rows if m.reply_to_id is None]
    if len(shown_tops) <= size:
        return ThreadWindow(rows, None)
    dropped = shown_tops[0]
    return ThreadWindow(
        [m for m in rows if dropped not in (m.pk, m.reply_to_id)], earlier=shown_tops[1]
    )


def message_for(message_id: int) -> Message | None:
    return (
        Message.objects.select_related("thread__community", "author", "quote__author", "hidden_by")
        .filter(pk=message_id)
        .first()
    )


PRESENCE_NAMES = 12  # the most names "who is viewing" lists; the rest are counted


def presence_of(thread_id: int) -> dict:
    """Who is viewing now, across every server process: up to ``PRESENCE_NAMES`` signed-in
    people by name (``users``), how many more there are (``others``) and how many anonymous
    readers (``anonymous``). Three queries, whatever the number of readers."""
    from django.contrib.auth import get_user_model

    fresh = ThreadPresence.objects.filter(
        thread_id=thread_id, seen_at__gte=clock.now() - PRESENCE_TTL
    )
    named = fresh.filter(user__isnull=False).values("user_id").distinct()
    counts = fresh.aggregate(
        anonymous=Count("pk", filter=Q(user__isnull=True)),
        people=Count("user_id", distinct=True),
    )
    users = get_user_model().objects.filter(pk__in=named).order_by("display_name", "username")
    shown = sorted(users[:PRESENCE_NAMES], key=lambda u: u.public_name)
    return {
        "users": shown,
        "others": counts["people"] - len(shown),
        "anonymous": counts["anonymous"],
    }


def open_reports(community):
    """Reports of messages in this community's threads that staff have not handled yet."""
    return (
        MessageReport.objects.filter(message__thread__community=community, handled_at__isnull=True)
        .select_related("message__thread", "message__author", "reporter")
        .order_by("created_at")
    )


def bannable_people(community):
    """Whom the community's staff may bar from posting in its threads: people with an active
    resident, council member or expert role there."""
    from django.contrib.auth import get_user_model

    holders = Role.objects.filter(
        community=community,
        status=RoleStatus.ACTIVE,
        kind__in=[RoleKind.RESIDENT, RoleKind.COUNCIL_MEMBER, RoleKind.EXPERT],
    ).values("user_id")
    return get_user_model().objects.filter(pk__in=holders)


def posting_bans_in_force(community) -> list[PostingBan]:
    """The community's posting bans in force, newest first."""
    return list(
        PostingBan.objects.filter(community=community)
        .filter(Q(until__isnull=True) | Q(until__gt=clock.now()))
        .select_related("user", "banned_by")
        .order_by("-created_at")
    )


# --- A signed-in person's own page (我的) -------------------------------------------------------


def awaiting_confirmation(user) -> list[Role]:
    """The person's residencies still awaiting confirmation, each with its community, its grid
    and ``confirmers``: the active grid workers of that grid (who confirm it, with the
    community's staff). Two queries at most, whatever the number."""
    pending = list(
        Role.objects.filter(user=user, kind=RoleKind.RESIDENT, status=RoleStatus.PENDING)
        .select_related("community", "grid")
        .order_by("pk")
    )
    grids = {r.grid_id for r in pending if r.grid_id}
    workers: dict[int, list] = {}
    if grids:
        for worker in (
            Role.objects.filter(
                kind=RoleKind.GRID_WORKER, status=RoleStatus.ACTIVE, grid_id__in=grids
            )
            .select_related("user")
            .order_by("user__display_name", "pk")
        ):
            workers.setdefault(worker.grid_id, []).append(worker.user)
    for residency in pending:
        residency.confirmers = workers.get(residency.grid_id, [])
    return pending


def my_communities(user, *, pending=()) -> list[dict]:
    """The communities where the person holds a role (or awaits confirmation as a resident),
    by name, each as ``{"community", "kinds"}`` with the kinds of role held there. One query."""
    kinds: dict[int, set] = {}
    for role in held_roles(user):
        if role.community_id:
            kinds.setdefault(role.community_id, set()).add(role.kind)
    for residency in pending:
        kinds.setdefault(residency.community_id, set())
    communities = Community.objects.filter(pk__in=kinds).order_by("name") if kinds else []
    return [{"community": c, "kinds": kinds[c.pk]} for c in communities]


def followed_threads(user, *, limit: int = 10) -> list[Thread]:
    """The threads the person follows, newest activity first, each with ``unread``: messages
    by others after the last one they were shown (``threads.thread_mark_read``).

    Followed: threads they posted in, and those the apps above council name through the
    ``followed_threads`` hook (a proposal they wrote, co-signed or follow). Only threads they
    may read. One query."""
    followed = Q(Exists(Message.objects.filter(thread=OuterRef("pk"), author=user)))
    for hook in get_hooks("followed_threads"):
        followed |= Q(pk__in=hook(user))
    read_upto = ThreadRead.objects.filter(thread=OuterRef("thread_id"), user=user).values(
        "last_read_message_id"
    )[:1]
    unread = (
        Message.objects.filter(
            thread=OuterRef("pk"), deleted_at__isnull=True, hidden_at__isnull=True
        )
        .exclude(author=user)
        .filter(pk__gt=Coalesce(Subquery(read_upto), 0))
        .values("thread")
        .annotate(n=Count("pk"))
        .values("n")
    )
    latest = Message.objects.filter(thread=OuterRef("pk")).order_by("-pk").values("created_at")[:1]
    guest = Thread.guests.through.objects.filter(thread=OuterRef("pk"), user=user)
    threads = list(
        Thread.objects.filter(followed)
        .select_related("community")
        .annotate(
            unread=Coalesce(Subquery(unread), 0),
            last_message_at=Subquery(latest),
            is_guest=Exists(guest),
        )
        .order_by(Coalesce("last_message_at", "created_at").desc(), "-pk")[: limit * 2]
    )
    readable = []
    for thread in threads:
        thread._guest_ids = frozenset({user.pk}) if thread.is_guest else frozenset()
        if user.has_perm("council.read_thread", thread):
            readable.append(thread)
    return readable[:limit]


def latest_notifications(user, *, limit: int = 5) -> list:
    """The person's newest notifications, each with ``link``: its URL if it stays inside the
    site, else "". One query."""
    from .models import Notification

    notes = list(Notification.objects.filter(recipient=user).order_by("-created_at", "-pk")[:limit])
    for note in notes:
        note.link = note.url if url_has_allowed_host_and_scheme(note.url, None) else ""
    return notes


def communities_by_place() -> QuerySet[Community]:
    """Every community ordered by district, sub-district and name, each with ``place``, the
    two names ("District · Sub-district"): for selects grouped by place
    (``council.forms.community_choices``)."""
    # The names joined by the database, not select_related: a city's 600 communities would
    # make 1,200 more model instances than the select needs (a third of the index's time).
    return Community.objects.annotate(
        place=Concat("sub_district__district__name", Value(" · "), "sub_district__name")
    ).order_by("sub_district__district__name", "sub_district__name", "name")
