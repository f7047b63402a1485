"""Yearly rounds (年度集中表决): a slate of proposals put to one approval ballot.

DESIGN.md, "Decisions": quorum applies (members who handed in an approval ballot, even an
empty one); there is no threshold; a member recused from a project cannot approve it; the
money is what was left of the envelope when the round opened. A round that misses quorum
leaves every project in voting. Funded projects become approved; the others are rejected
with the reason stated.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from council import clock
from council.errors import InvalidMove, NotAllowed
from council.evidence import evidence_record
from council.models import Community, RoleKind
from council.notifications import notify_on_commit
from council.validators import refuse_line_breaks
from council.wording import listing
from proposals.lifecycle import Move, proposal_move
from proposals.models import Proposal, Stage

from ..models import (
    BallotStatus,
    FundingRule,
    Reservation,
    Round,
    RoundBallot,
    RoundMember,
    RoundProject,
    VotesFormat,
)
from ..receipts import approved_text, receipt_new, round_commitment, round_list_digest
from ..selectors.money import envelope_left
from ..selectors.results import rejection_reason, round_allocate
from ..selectors.votes import on_open_vote, recused_ids, seated_members
from ..tally import quorum_met
from ._common import (
    clerk_deadline,
    closing_time_check,
    locked,
    member_entry,
    opened_notify,
    opening_fields,
    record_secret_act,
    require,
    rules_copy,
    voter_commitment,
)
from .ballots import reminder_due

# What the title's column holds: a longer one (a Pabulib file's description, say) is refused
# with a message, before PostgreSQL would refuse it with an error.
TITLE_MAX = Round._meta.get_field("title").max_length


def _url(round_: Round) -> str:
    return reverse("round", args=[round_.community.slug, round_.pk])


def _lock(round_: Round) -> Round:
    return locked(round_, "community", "envelope")


@transaction.atomic
def round_open(
    *,
    actor,
    community: Community,
    title: str,
    proposals: list[Proposal],
    closes_at: dt.datetime,
    rule: str = FundingRule.GREEDY,
    add1: bool = True,
) -> Round:
    """Put a slate of proposals in voting to the council's approval ballot, as clerk.

    Guarantees: the title is one line of at most ``TITLE_MAX`` characters; every proposal is
    of the community, in voting and on no other open ballot or round; the round holds what is
    left of this year's envelope now; rules and members (with their recusals per project)
    are copied; members are notified on commit.
    """
    require(actor, "voting.open_round", community, _("Only the community's staff open a round."))
    if rule not in FundingRule.values:
        raise InvalidMove(_("Choose a funding rule."))
    title = title.strip()
    if not title:
        raise InvalidMove(_("Give the round a title."))
    if len(title) > TITLE_MAX:
        raise InvalidMove(
            _("A round's title may have at most %(max)d characters; this one has %(n)d.")
            % {"max": TITLE_MAX, "n": len(title)}
        )
    refuse_line_breaks(title)
    now = clock.now()
    closing_time_check(closes_at, now)
    slate = list(
        Proposal.objects.select_for_update()
        .filter(pk__in=[p.pk for p in proposals])
        .order_by("submitted_at", "pk")
    )
    if len(slate) < 2:
        raise InvalidMove(_("A round puts at least two proposals to the vote."))
    for proposal in slate:
        if proposal.community_id != community.pk or proposal.stage != Stage.VOTING:
            raise InvalidMove(
                _("“%(title)s” is not a proposal of %(c)s in voting.")
                % {"title": proposal.title, "c": community}
            )
        if on_open_vote(proposal):
            raise InvalidMove(
                _("“%(title)s” is already on an open ballot or round.") % {"title": proposal.title}
            )
    fields = opening_fields(actor, community, closes_at, now)
    envelope = fields["envelope"]
    money = envelope_left(envelope)
    if money <= 0:
        raise InvalidMove(_("Nothing is left of the %(year)s envelope.") % {"year": envelope.year})
    members = seated_members(community)
    if not members:
        raise InvalidMove(_("The council has no seated member."))
    round_ = Round.objects.create(
        title=title, rule=rule, add1=add1, money=money, base=len(members), **fields
    )
    RoundProject.objects.bulk_create(
        [
            RoundProject(round=round_, proposal=p, cost=p.counted_cost, position=n)
            for n, p in enumerate(slate, 1)
        ]
    )
    recused = {p.pk: recused_ids(p) for p in slate}
    RoundMember.objects.bulk_create(
        [
            RoundMember(
                round=round_,
                member=user,
                seat_category=seat,
                recused_from=sorted(pk for pk, ids in recused.items() if user.pk in ids),
            )
            for user, seat in members
        ]
    )
    evidence_record(
        actor=actor,
        roles=(RoleKind.STAFF,),
        action="round.opened",
        obj=round_,
        community=community,
        payload={
            "slate": [p.pk for p in slate],
            # Each project's cost as counted now, in the slate's order (the tie-break's).
            "costs": [str(p.counted_cost) for p in slate],
            "money": str(money),
            "rule": rule,
            "add1": add1,
            "base": len(members),
            "rules": rules_copy(round_),
            "closes_at": closes_at.isoformat(),
        },
    )
    opened_notify(
        [user for user, _seat in members],
        gettext_lazy("Round “%(title)s” is open until %(when)s: your approval ballot is awaited."),
        round_.title,
        closes_at,
        _url(round_),
    )
    return round_


def _check_open(round_: Round) -> None:
    if round_.status != BallotStatus.OPEN or round_.closes_at <= clock.now():
        raise InvalidMove(_("This round has closed; ballots are no longer accepted."))


def _approved_ids(round_: Round, line: RoundMember, approved: list[int]) -> list[int]:
    slate = set(round_.projects.values_list("proposal_id", flat=True))
    chosen = sorted(set(approved))
    if not set(chosen) <= slate:
        raise InvalidMove(_("Approve only projects on this round's slate."))
    clash = set(chosen) & set(line.recused_from)
    if clash:
        titles = listing(Proposal.objects.filter(pk__in=clash).values_list("title", flat=True))
        raise InvalidMove(
            _("You are recused from %(titles)s and cannot approve it.") % {"titles": titles}
        )
    return chosen


def _store(round_: Round, member, approved: list[int], recorded_by=None) -> bool:
    """Insert or overwrite the member's one approval ballot, each time with a fresh receipt;
    returns whether it is their first."""
    now = clock.now()
    existing, created = member_entry(
        round_.ballots, member=member, recorded_by=recorded_by, now=now, approved=approved
    )
    if created:
        return True
    existing.approved, existing.recorded_by, existing.updated_at = approved, recorded_by, now
    existing.receipt = receipt_new()  # the old one's commitment is never published
    existing.save(update_fields=["approved", "receipt", "recorded_by", "updated_at"])
    return False


@transaction.atomic
def round_ballot_submit(*, actor, round_: Round, approved: list[int], member=None) -> RoundBallot:
    """Hand in (or change) an approval ballot: any subset of the slate, possibly empty. Each
    time the ballot gets a fresh receipt, shown to the member alone.

    With ``member``, the clerk records a paper ballot on that member's behalf (marked). In a
    secret round the evidence names neither the approvals nor, in the clerk's entry, the
    member; a member's own entry names nobody (``record_secret_act``)."""
    round_ = _lock(round_)
    clerk = member is not None
    if clerk:
        require(
            actor,
            "voting.record_round_ballot",
            round_.community,
            _("Only the clerk records ballots."),
        )
    elif actor is None or not actor.is_authenticated:
        raise NotAllowed(_("Sign in to vote."))
    voter = member if clerk else actor
    _check_open(round_)
    line = RoundMember.objects.filter(round=round_, member=voter).first()
    if line is None:
        raise NotAllowed(
            _("Only members of %(community)s's council on this round's list can vote in it.")
            % {"community": round_.community}
        )
    chosen = _approved_ids(round_, line, approved)
    created = _store(round_, voter, chosen, recorded_by=actor if clerk else None)
    payload = {} if round_.is_secret else {"approved": chosen}
    if clerk and not round_.is_secret:
        payload["member"] = voter.display_name
    if clerk or not round_.is_secret:
        # One key per member on this round whoever hands the ballot in (a secret one's own
        # acts get it from record_secret_act): the log counts who took part, names nobody.
        payload["voter"] = voter_commitment(round_, voter)
    if clerk:
        evidence_record(
            actor=actor,
            roles=(RoleKind.STAFF,),
            action="round.ballot_recorded_by_clerk",
            obj=round_,
            community=round_.community,
            payload=payload,
        )
    else:
        action = "round.ballot_cast" if created else "round.ballot_changed"
        if round_.is_secret:
            record_secret_act(actor, action, round_, round_.community, payload)
        else:
            evidence_record(
                actor=actor,
                roles=(RoleKind.COUNCIL_MEMBER,),
                action=action,
                obj=round_,
                community=round_.community,
                payload=payload,
            )
    return round_.ballots.get(member=voter)


def _close(round_: Round, actor, reason: str) -> Round:
    """Count, allocate and move the proposals; the round row is locked by the caller.

    ``votes_sha256`` becomes the SHA-256 of the published list (``voting.receipts``): each
    approval ballot's commitment with the projects it approves."""
    ballots = list(round_.ballots.values_list("receipt", "approved"))
    approvals = dict.fromkeys(round_.projects.values_list("proposal_id", flat=True), 0)
    for _receipt, approved in ballots:
        for pk in approved:
            approvals[pk] += 1
    round_.participation = len(ballots)
    round_.valid = quorum_met(round_.quorum, round_.base, round_.participation)
    round_.status = BallotStatus.CLOSED
    round_.closed_at = clock.now()
    round_.closed_by = actor
    round_.close_reason = reason
    round_.votes_sha256 = round_list_digest(
        round_.pk,
        [(round_commitment(round_.pk, r, a), approved_text(a)) for r, a in ballots],
    )
    round_.votes_format = VotesFormat.RECEIPTS
    funded = round_allocate(round_, [a for _r, a in ballots]) if round_.valid else []
    spent = Decimal("0")
    for rp in round_.projects.select_related("proposal"):
        rp.approvals = approvals[rp.proposal_id]
        rp.funded = rp.proposal_id in funded if round_.valid else None
        rp.save(update_fields=["approvals", "funded"])
        if rp.funded:
            spent += rp.cost
    round_.spent = spent
    round_.save()
    evidence_record(
        actor=actor,
        roles=(RoleKind.STAFF,),
        action="round.closed",
        obj=round_,
        community=round_.community,
        payload={
            "participation": round_.participation,
            "base": round_.base,
            "valid": round_.valid,
            "funded": funded,
            "approvals": {str(pk): n for pk, n in approvals.items()},
            "spent": str(spent),
            "money": str(round_.money),
            "votes_sha256": round_.votes_sha256,
            "reason": reason,
        },
    )
    if round_.valid:
        for rp in round_.projects.select_related("proposal"):
            if rp.funded:
                proposal_move(actor=actor, proposal=rp.proposal, move=Move.APPROVE, basis=round_)
                Reservation.objects.create(
                    envelope=round_.envelope, proposal=rp.proposal, amount=rp.cost
                )
            else:
                proposal_move(
                    actor=actor,
                    proposal=rp.proposal,
                    move=Move.REJECT,
                    basis=round_,
                    payload={
                        "approvals": rp.approvals,
                        "cost": str(rp.cost),
                        "money": str(round_.money),
                        "reason": str(rejection_reason(round_, rp)),
                    },
                )
    title = round_.title
    notify_on_commit(
        [m.member for m in round_.members.select_related("member")],
        lambda: (
            _("Round “%(title)s” has closed; see which projects are funded.") % {"title": title}
        ),
        _url(round_),
    )
    return round_


ROUNDS = clerk_deadline(
    Round,
    lock=_lock,
    close=_close,
    refusal=gettext_lazy("Only the clerk can close a round."),
    already_closed=gettext_lazy("This round is already closed."),
    reason_needed=gettext_lazy("Say why the round closes early; the reason is published."),
)


def round_close(*, actor, round_: Round, reason: str) -> Round:
    """Close a round early, as clerk, with a reason (evidence); one past its time is closed
    at its time instead (``council.deadlines``)."""
    return ROUNDS.close_early(round_, actor=actor, reason=reason)


def round_close_if_due(round_: Round) -> Round:
    """``round_``, closed first if its time has passed (anyone reading it may trigger this)."""
    return ROUNDS.close_if_due(round_)


def rounds_close_due() -> int:
    """Close every round past its closing time; returns how many closed (scheduler)."""
    return ROUNDS.close_all_due()


def rounds_remind() -> int:
    now = clock.now()
    sent = 0
    for round_ in Round.objects.filter(
        status=BallotStatus.OPEN, reminded_at__isnull=True, closes_at__gt=now
    ).select_related("community"):
        if not reminder_due(round_.opened_at, round_.closes_at, now):
            continue
        with transaction.atomic():
            if not Round.objects.filter(pk=round_.pk, reminded_at__isnull=True).update(
                reminded_at=now
            ):
                continue
            handed_in = set(round_.ballots.values_list("member_id", flat=True))
            waiting = [
                m.member
                for m in round_.members.select_related("member")
                if m.member_id not in handed_in
            ]
            title = round_.title
            notify_on_commit(
                waiting,
                lambda title=title: (
                    _("Reminder: round “%(title)s” closes soon; hand in your ballot.")
                    % {"title": title}
                ),
                _url(round_),
            )
            sent += len(waiting)
    return sent


IMPORT_ERRORS_SHOWN = 20


def _listed(values: list[str]) -> str:
    """Ids for a message: the first ``IMPORT_ERRORS_SHOWN``, each cut if very long, and how
    many more."""
    shown = [v if len(v) <= 40 else f"{v[:16]}…" for v in values[:IMPORT_ERRORS_SHOWN]]
    text = listing(shown)
    if len(values) > IMPORT_ERRORS_SHOWN:
        text += _(" and %(count)s more") % {"count": f"{len(values) - IMPORT_ERRORS_SHOWN:,}"}
    return text


def _as_pk(value: str) -> int | None:
    """A project id as a proposal's primary key: ASCII digits, at most 18 of them (a longer
    number is no database integer, and is never converted)."""
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


@transaction.atomic
def round_import(
    *, actor, community: Community, instance, closes_at: dt.datetime, title: str = ""
) -> Round:
    """Open a round from a Pabulib instance and record its votes as paper ballots entered by
    the clerk (``actor``): project ids are proposal ids of the community, in voting; voter
    ids are the usernames of its seated members.

    All or nothing: every project id and voter id is checked before anything is written, and
    any unknown one refuses the whole file, naming every one of them (the first 20, and a
    count); a ballot the round refuses (a recused member approving that project) refuses it
    too, naming the voter. Then one transaction opens the round and records every ballot."""
    require(actor, "voting.import_round", community, _("Only the community's staff open a round."))
    ids = [row["project_id"] for row in instance.projects]
    found = {
        str(p.pk): p
        for p in Proposal.objects.filter(
            community=community, pk__in=[pk for pk in map(_as_pk, ids) if pk is not None]
        )
    }
    problems = []
    missing = [i for i in ids if i not in found]
    if missing:
        problems.append(
            _("Not a proposal of %(c)s: project %(ids)s.")
            % {"ids": _listed(missing), "c": community}
        )
    seated = {user.username: user for user, _seat in seated_members(community)}
    strangers = [row["voter_id"] for row in instance.votes if row["voter_id"] not in seated]
    if strangers:
        problems.append(
            _("Not seated members of %(c)s's council: voter %(ids)s.")
            % {"ids": _listed(strangers), "c": community}
        )
    if problems:
        raise InvalidMove(" ".join(problems))
    meta_rule = instance.meta.get("rule", "greedy")
    rule = FundingRule.MES if meta_rule.startswith("equalshares") else FundingRule.GREEDY
    # The file's description is the only text of it that is stored (ids are looked up, votes
    # are ids): it becomes the round's title, checked by round_open like a typed one.
    description = instance.meta.get("description", "").strip()
    if not title and len(description) > TITLE_MAX:
        raise InvalidMove(
            _(
                "The file's description becomes the round's title, which may have at most "
                "%(max)d characters; this one has %(n)d."
            )
            % {"max": TITLE_MAX, "n": len(description)}
        )
    round_ = round_open(
        actor=actor,
        community=community,
        title=title or description or _("Imported round"),
        proposals=[found[i] for i in ids],
        closes_at=closes_at,
        rule=rule,
        add1=meta_rule != "equalshares",
    )
    for row in instance.votes:
        approved = [int(pk) for pk in row["vote"].split(",") if pk.strip()]
        try:
            round_ballot_submit(
                actor=actor, round_=round_, approved=approved, member=seated[row["voter_id"]]
            )
        except (InvalidMove, NotAllowed) as error:
            raise InvalidMove(
                _("Voter %(id)s: %(why)s") % {"id": row["voter_id"], "why": error}
            ) from error
    evidence_record(
        actor=actor,
        roles=(RoleKind.STAFF,),
        action="round.imported",
        obj=round_,
        community=community,
        payload={"votes": len(instance.votes)},
    )
    return round_
