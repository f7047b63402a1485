"""A proposal's life: the one table of allowed moves and the one guarded writer.

``proposal_move`` is the only code that changes ``Proposal.stage``. It locks the row, checks
that the move is allowed from the current stage (and from the stage the user saw, so a stale
page cannot act), that the actor holds the move's permission (``council.rules``), and the
move's guard; then it saves, runs the move's effects, appends the evidence event last and
queues notifications for after the commit. A refused move raises with a message for the user
and changes nothing. What a move does besides changing the stage (fields it sets, effects, what
its evidence event records) is declared with it in ``TRANSITIONS``.

    draft → submitted → under_review → consultation → voting → approved → in_progress
                                    ├→ inadmissible          └→ rejected     → completed
                                    └→ merged (from under_review)             → evaluated
    withdrawn: by the proposer, from submitted, under_review or consultation
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from council import clock
from council.errors import InvalidMove, NotAllowed
from council.evidence import evidence_record, evidence_ref
from council.models import RoleKind
from council.money import format_yuan
from council.sanitiser import render_plain
from council.threads import thread_create, thread_set_open

from .models import CoSign, Proposal, Revision, Stage
from .notify import proposal_moved_notify
from .search import proposal_index


class Who:
    """Who acts for a proposal to move on, in the words its stepper shows residents."""

    YOU = gettext_lazy("you")
    PROPOSER = gettext_lazy("the proposer")
    RESIDENTS_COSIGNING = gettext_lazy("residents, by co-signing")
    STAFF = gettext_lazy("community staff")
    COUNCIL = gettext_lazy("the residents' council")
    PROVIDER = gettext_lazy("the implementing organisation")
    RESIDENTS_EVALUATING = gettext_lazy("residents, by evaluating")


class Move:
    SUBMIT = "submit"
    REACH_THRESHOLD = "reach_threshold"
    TAKE_UP = "take_up"
    ADMIT = "admit"
    DECLARE_INADMISSIBLE = "declare_inadmissible"
    MERGE = "merge"
    WITHDRAW = "withdraw"
    OPEN_VOTING = "open_voting"
    APPROVE = "approve"
    REJECT = "reject"
    START = "start"
    COMPLETE = "complete"
    EVALUATE = "evaluate"


Guard = Callable[[Proposal, dict], str | None]


def _window_open(proposal: Proposal, extra: dict) -> str | None:
    community = proposal.community
    if not community.collection_is_open(clock.today()):
        return _(
            "Proposals can be submitted only during %(community)s's collection window "
            "(%(opens)s to %(closes)s)."
        ) % {
            "community": community,
            "opens": date_format(community.collection_opens),
            "closes": date_format(community.collection_closes),
        }
    return None


def _within_cap(proposal: Proposal, extra: dict) -> str | None:
    cap = proposal.community.cap_for(proposal.project_type)
    if proposal.estimated_cost > cap:
        return _("The estimated cost is above the cap of %(cap)s for %(type)s projects.") % {
            "cap": format_yuan(cap),
            "type": proposal.get_project_type_display(),
        }
    return None


def _has_basis(proposal: Proposal, extra: dict) -> str | None:
    """Decisions are not staff's to make by hand: the move names the record that made it."""
    if not extra.get("basis"):
        return _(
            "This step follows from the council's ballot, the publicity period or the "
            "evaluation window; it cannot be taken by hand."
        )
    return None


def _threshold_reached(proposal: Proposal, extra: dict) -> str | None:
    if proposal.cosigns.count() < proposal.community.cosign_threshold:
        return _("The proposal has not yet gathered enough co-signs.")
    return None


def _admissible(proposal: Proposal, extra: dict) -> str | None:
    review = proposal.admissibility_reviews.order_by("-created_at", "-pk").first()
    if review is None or not review.passed:
        return _("Record an admissibility checklist with every item confirmed first.")
    return None


def _has_reason(proposal: Proposal, extra: dict) -> str | None:
    if not (extra.get("reason") or "").strip():
        return _("Write the reason; it is published.")
    return None


def _merge_target(proposal: Proposal, extra: dict) -> str | None:
    target = extra.get("target")
    if target is None or target.pk == proposal.pk:
        return _("Choose another proposal to merge into.")
    if target.community_id != proposal.community_id:
        return _("A proposal can only be merged into one of the same community.")
    if target.stage not in Stage.OPEN:
        return _("The proposal merged into must still be open to co-signs, review or consultation.")
    return None


def _feasible_within_cap(proposal: Proposal, extra: dict) -> str | None:
    review = proposal.latest_feasibility
    if review is None:
        return _("Record a feasibility review with a cost estimate first.")
    if not review.feasible:
        return _("The latest feasibility review found the project not feasible.")
    cap = proposal.community.cap_for(proposal.project_type)
    if review.cost_estimate > cap:
        return _("The estimated cost %(cost)s is above the cap of %(cap)s for this type.") % {
            "cost": format_yuan(review.cost_estimate),
            "cap": format_yuan(cap),
        }
    return None


# --- When a move is due, by the community's own rules (``selectors.steps``; apps above add
# their deadlines through the ``proposal_deadlines`` hook) --------------------------------------


def _collection_closes(proposal: Proposal):
    """Submitting and gathering co-signs happen within the community's collection window."""
    return proposal.community.collection_closes


# --- What a move writes on the row besides its stage (before it is saved) ----------------------


def _stamp_submitted(proposal: Proposal, extra: dict) -> tuple[str, ...]:
    """Submission is dated: the moment the proposal left its draft."""
    proposal.submitted_at = proposal.stage_changed_at
    return ("submitted_at",)


def _keep_reason(proposal: Proposal, extra: dict) -> tuple[str, ...]:
    """The reason a proposal is inadmissible is kept with it, to be published."""
    reason = extra["reason"].strip()
    proposal.inadmissible_reason = reason
    proposal.inadmissible_reason_html = render_plain(reason)
    return ("inadmissible_reason", "inadmissible_reason_html")


def _link_target(proposal: Proposal, extra: dict) -> tuple[str, ...]:
    """A merged proposal points to the one it was merged into."""
    proposal.merged_into = extra["target"]
    return ("merged_into",)


def _name_target(proposal: Proposal, extra: dict) -> dict:
    """The evidence of a merge names the proposal merged into."""
    return {"into": extra["target"].pk}


# --- Effects: what else a move does once the row is saved -----------------------------------


def _first_revision(proposal: Proposal, actor, extra: dict) -> None:
    """On submission the text becomes revision 1: what co-signers read is kept."""
    Revision.objects.create(
        proposal=proposal, number=1, title=proposal.title, summary=proposal.summary,
        body=proposal.body, author=proposal.proposer,
    )  # fmt: skip


def _carry_cosigns(proposal: Proposal, actor, extra: dict) -> None:
    """On a merge the merged proposal's proposer and co-signers now support the target,
    which may thereby reach its own threshold."""
    target = extra["target"]
    supporters = set(proposal.cosigns.values_list("user_id", flat=True)) | {proposal.proposer_id}
    supporters -= set(target.cosigns.values_list("user_id", flat=True)) | {target.proposer_id}
    CoSign.objects.bulk_create([CoSign(proposal=target, user_id=u) for u in sorted(supporters)])
    evidence_record(
        actor=actor,
        role=RoleKind.STAFF,
        action="proposal.cosigns_carried_over",
        obj=target,
        payload={"from": proposal.pk, "count": len(supporters)},
        community=target.community,
    )
    target.refresh_from_db(fields=["stage"])
    if (
        target.stage == Stage.SUBMITTED
        and target.cosigns.count() >= target.community.cosign_threshold
    ):
        proposal_move(actor=actor, proposal=target, move=Move.REACH_THRESHOLD)


def _open_thread(proposal: Proposal, actor, extra: dict) -> None:
    """Consultation opens the proposal's real-time thread (商议, online)."""
    if proposal.thread_id is None:
        proposal.thread = thread_create(
            community=proposal.community,
            title=proposal.title,
            page_url=reverse("proposal", args=[proposal.community.slug, proposal.pk]),
        )
        proposal.save(update_fields=["thread"])
    else:
        thread_set_open(thread=proposal.thread, is_open=True)


def _close_thread(proposal: Proposal, actor, extra: dict) -> None:
    """Leaving consultation closes the thread to new posts; it stays readable."""
    if proposal.thread_id is not None:
        thread_set_open(thread=proposal.thread, is_open=False)


# Sets fields of the row (before it is saved) and returns their names.
FieldSetter = Callable[[Proposal, dict], tuple[str, ...]]
Effect = Callable[[Proposal, object, dict], None]
# What the move's evidence event records besides the stages it went from and to.
EventPayload = Callable[[Proposal, dict], dict]


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    permission: str
    label: str
    guards: tuple[Guard, ...] = field(default=())
    acting_roles: tuple[str, ...] = (RoleKind.STAFF,)
    effects: tuple[Effect, ...] = field(default=())
    sets: tuple[FieldSetter, ...] = field(default=())
    event_payload: EventPayload | None = None
    # For the stepper (``selectors.steps``), while the proposal waits in a source stage for
    # this move: what happens next, said to a resident (formatted with ``steps.facts``), who
    # acts (``Who``), and the date it is due by, from the community's rules, if any.
    waiting: str = ""
    who: str = ""
    due: Callable[[Proposal], object] | None = None


TRANSITIONS: dict[str, Transition] = {
    Move.SUBMIT: Transition(
        frozenset({Stage.DRAFT}), Stage.SUBMITTED, "proposals.submit",
        gettext_lazy("submitted"), (_window_open, _within_cap),
        (RoleKind.RESIDENT, RoleKind.STAFF), (_first_revision,), sets=(_stamp_submitted,),
        waiting=gettext_lazy(
            "Submit it within the collection window; until then only you and the community's "
            "staff see it."
        ),
        who=Who.PROPOSER, due=_collection_closes,
    ),
    Move.REACH_THRESHOLD: Transition(
        frozenset({Stage.SUBMITTED}), Stage.UNDER_REVIEW, "proposals.reach_threshold",
        gettext_lazy("reached the co-sign threshold"), (_threshold_reached,),
        (RoleKind.RESIDENT, RoleKind.STAFF),
        waiting=gettext_lazy(
            "It needs %(missing)s more co-signs from residents (%(cosigns)s of %(threshold)s); "
            "then staff review it."
        ),
        who=Who.RESIDENTS_COSIGNING, due=_collection_closes,
    ),
    Move.TAKE_UP: Transition(
        frozenset({Stage.SUBMITTED}), Stage.UNDER_REVIEW, "proposals.take_up",
        gettext_lazy("taken up for review by staff"),
    ),
    Move.ADMIT: Transition(
        frozenset({Stage.UNDER_REVIEW}), Stage.CONSULTATION, "proposals.admit",
        gettext_lazy("found admissible; consultation opened"), (_admissible,),
        effects=(_open_thread,),
        waiting=gettext_lazy(
            "Staff check it against the programme's checklist; if it fits, consultation opens."
        ),
        who=Who.STAFF,
    ),
    Move.DECLARE_INADMISSIBLE: Transition(
        frozenset({Stage.UNDER_REVIEW}), Stage.INADMISSIBLE, "proposals.declare_inadmissible",
        gettext_lazy("found inadmissible"), (_has_reason,), sets=(_keep_reason,),
    ),
    Move.MERGE: Transition(
        frozenset({Stage.UNDER_REVIEW}), Stage.MERGED, "proposals.merge",
        gettext_lazy("merged into another proposal"), (_merge_target,),
        effects=(_carry_cosigns,), sets=(_link_target,), event_payload=_name_target,
    ),
    Move.WITHDRAW: Transition(
        frozenset(Stage.OPEN), Stage.WITHDRAWN, "proposals.withdraw",
        gettext_lazy("withdrawn by the proposer"), (), (RoleKind.RESIDENT,), (_close_thread,),
    ),
    Move.OPEN_VOTING: Transition(
        frozenset({Stage.CONSULTATION}), Stage.VOTING, "proposals.open_voting",
        gettext_lazy("put to the council's vote"), (_feasible_within_cap,),
        effects=(_close_thread,),
        waiting=gettext_lazy(
            "Residents and invited experts discuss it; staff assess its feasibility and cost, "
            "then put it to the council's vote."
        ),
        who=Who.STAFF,
    ),
    Move.APPROVE: Transition(
        frozenset({Stage.VOTING}), Stage.APPROVED, "proposals.record_decision",
        gettext_lazy("approved by the council"), (_has_basis,),
        waiting=gettext_lazy("The residents' council votes on it under its rules of procedure."),
        who=Who.COUNCIL,
    ),
    Move.REJECT: Transition(
        frozenset({Stage.VOTING}), Stage.REJECTED, "proposals.record_decision",
        gettext_lazy("rejected by the council"), (_has_basis,),
    ),
    Move.START: Transition(
        frozenset({Stage.APPROVED}), Stage.IN_PROGRESS, "proposals.start_implementation",
        gettext_lazy("implementation started"), (_has_basis,),
        waiting=gettext_lazy(
            "The decision is published for a publicity period of %(publicity_days)s days, in "
            "which residents may object; work starts once every objection is answered."
        ),
        who=Who.STAFF,
    ),
    Move.COMPLETE: Transition(
        frozenset({Stage.IN_PROGRESS}), Stage.COMPLETED, "proposals.complete",
        gettext_lazy("completed"), (_has_basis,),
        waiting=gettext_lazy(
            "The implementing organisation does the work; staff publish its progress and, at "
            "the end, the final accounts."
        ),
        who=Who.PROVIDER,
    ),
    Move.EVALUATE: Transition(
        frozenset({Stage.COMPLETED}), Stage.EVALUATED, "proposals.close_evaluation",
        gettext_lazy("evaluated by residents"), (_has_basis,),
        waiting=gettext_lazy(
            "Residents of the community evaluate the result; when the evaluation window "
            "closes, the result is published."
        ),
        who=Who.RESIDENTS_EVALUATING,
    ),
}  # fmt: skip


def moves_from(stage: str) -> list[str]:
    return [name for name, t in TRANSITIONS.items() if stage in t.sources]


def available_moves(user, proposal: Proposal) -> list[str]:
    """Moves this user may attempt now (permission and stage; guards are checked on use)."""
    return [
        name
        for name in moves_from(proposal.stage)
        if name != Move.REACH_THRESHOLD and user.has_perm(TRANSITIONS[name].permission, proposal)
    ]


@transaction.atomic
def proposal_move(
    *,
    actor,
    proposal: Proposal,
    move: str,
    seen_stage: str | None = None,
    reason: str = "",
    target: Proposal | None = None,
    basis=None,
    payload: dict | None = None,
) -> Proposal:
    """Move ``proposal`` by ``move`` on behalf of ``actor``, or raise and change nothing.

    ``seen_stage`` is the stage the actor's page showed: if the proposal has moved on since,
    the move is refused as stale instead of acting on something the actor did not see.
    ``basis`` is the record a decisive move follows from (the ballot, the published decision,
    the evaluation window: a model instance, or a ``(type, id)`` pair): the council's vote, the
    publicity period and the evaluation window decide those, not a click. The evidence event
    refers to it (``payload["basis"]``, ``council.evidence.evidence_ref``).
    ``actor`` is None when the system makes such a decisive move by rule (a ballot closed at
    its closing time); the evidence then names "the system".
    Raises ``NotAllowed`` (wrong person) or ``InvalidMove`` (wrong stage, stale page, guard).
    """
    transition = TRANSITIONS.get(move)
    if transition is None:
        raise InvalidMove(_("Unknown action."))
    proposal = (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("community__sub_district")
        .get(pk=proposal.pk)
    )
    if actor is None:
        # The system acts by rule (a ballot closing at its time), only on decisive moves.
        if _has_basis not in transition.guards:
            raise NotAllowed(_("You may not do this to this proposal."))
    elif not actor.has_perm(transition.permission, proposal):
        raise NotAllowed(_("You may not do this to this proposal."))
    if seen_stage is not None and seen_stage != proposal.stage:
        raise InvalidMove(
            _("This proposal has moved on since you opened the page (it is now %(stage)s). "
              "Reload the page and check before acting.")
            % {"stage": proposal.get_stage_display()}
        )  # fmt: skip
    if proposal.stage not in transition.sources:
        raise InvalidMove(
            _("This cannot be done while the proposal is %(stage)s.")
            % {"stage": proposal.get_stage_display()}
        )
    basis_ref = evidence_ref(basis) if basis else None  # refused before anything is written
    extra = {"reason": reason, "target": target, "basis": basis}
    for guard in transition.guards:
        problem = guard(proposal, extra)
        if problem:
            raise InvalidMove(problem)

    before = proposal.stage
    proposal.stage = transition.target
    proposal.stage_changed_at = clock.now()
    fields = ["stage", "stage_changed_at"]
    for setter in transition.sets:
        fields += setter(proposal, extra)
    proposal.save(update_fields=fields)
    if (before in Stage.PUBLIC) != (proposal.stage in Stage.PUBLIC):
        proposal_index(proposal)  # it becomes public: people find it by searching
    for effect in transition.effects:
        effect(proposal, actor, extra)
    event_payload = {"from": before, "to": proposal.stage, **(payload or {})}
    if transition.event_payload is not None:
        event_payload |= transition.event_payload(proposal, extra)
    if basis_ref:
        event_payload["basis"] = basis_ref
    evidence_record(
        actor=actor,
        roles=transition.acting_roles,
        action=f"proposal.{move}",
        obj=proposal,
        payload=event_payload,
        community=proposal.community,
    )
    proposal_moved_notify(proposal, transition.label, actor)
    return proposal
