"""A proposal's stepper: the stages of its way, where it stands, what happens next, who acts
and by when.

Nothing here is written for one page: the stages are the lifecycle table's main path
(``main_path``, the longest way through ``lifecycle.TRANSITIONS`` from a draft), what
happens next and who acts are the ``waiting`` and ``who`` of the move that leaves the current
stage along it, and the dates are the community's own rules (the collection window) or, for
the stages the apps above decide, what they give through the ``proposal_deadlines`` hook (a
ballot's closing time, a decision's publicity period, an evaluation window). A proposal that
left the main path (inadmissible, merged, rejected, withdrawn) shows that exit as its last
step.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from council.hooks import get_hooks
from council.models import Council, EvidenceEvent

from ..lifecycle import TRANSITIONS, Transition, Who
from ..models import Proposal, Stage


@dataclass
class Step:
    stage: str
    label: str
    state: str  # "done", "current" or "upcoming"

    @property
    def is_current(self) -> bool:
        return self.state == "current"


@dataclass
class Stepper:
    """The steps in order, with what the current one waits for. ``ended``: the proposal's
    way is over (evaluated, or it left the main path); ``next`` then says how it ended."""

    proposal_id: int
    steps: list[Step]
    current: Step
    since: dt.datetime | None
    ended: bool
    next: str = ""
    who: str = ""
    by: dt.date | dt.datetime | None = None

    @property
    def by_has_time(self) -> bool:
        return isinstance(self.by, dt.datetime)

    @property
    def position(self) -> int:
        """The current step's number, from 1."""
        return self.steps.index(self.current) + 1


@functools.cache
def main_path() -> tuple[str, ...]:
    """The stages of the longest way through the lifecycle table from a draft: the way a
    proposal goes when all goes well (draft, submitted, … evaluated)."""
    successors: dict[str, list[str]] = {}
    for transition in TRANSITIONS.values():
        for source in sorted(transition.sources, key=list(Stage).index):
            following = successors.setdefault(source, [])
            if transition.target not in following:
                following.append(transition.target)

    @functools.cache
    def longest(stage: str) -> tuple[str, ...]:
        best: tuple[str, ...] = ()
        for following in successors.get(stage, []):
            path = longest(following)
            if len(path) > len(best):
                best = path
        return (stage, *best)

    return longest(Stage.DRAFT)


def _forward_move(stage: str) -> Transition | None:
    """The first move of the table that takes ``stage`` one step along the main path."""
    path = main_path()
    if stage not in path or stage == path[-1]:
        return None
    following = path[path.index(stage) + 1]
    for transition in TRANSITIONS.values():
        if stage in transition.sources and transition.target == following:
            return transition
    return None


def _exit_move(stage: str) -> Transition | None:
    """The move that leads off the main path to ``stage`` (None for a stage on it)."""
    if stage in main_path():
        return None
    return next((t for t in TRANSITIONS.values() if t.target == stage), None)


def _cosigns(proposal: Proposal) -> int:
    total = getattr(proposal, "cosign_total", None)
    return proposal.cosigns.count() if total is None else total


def _publicity_days(proposal: Proposal) -> int:
    council = getattr(proposal.community, "council", None)
    return council.publicity_days if council else Council._meta.get_field("publicity_days").default


def facts(proposal: Proposal) -> dict:
    """The figures a step's text may name: co-signs and the threshold, the publicity days."""
    threshold = proposal.community.cosign_threshold
    cosigns = _cosigns(proposal)
    return {
        "cosigns": cosigns,
        "threshold": threshold,
        "missing": max(threshold - cosigns, 0),
        "publicity_days": _publicity_days(proposal),
    }


def _exits_left_from(proposals: list[Proposal]) -> dict[int, str]:
    """For proposals that left the main path by a move with several possible sources (a
    withdrawal), the stage they left from, read from the move's evidence event: one query."""
    ambiguous = {
        p.pk: p
        for p in proposals
        if (move := _exit_move(p.stage)) is not None and len(move.sources) > 1
    }
    if not ambiguous:
        return {}
    actions = {
        f"proposal.{name}"
        for name, t in TRANSITIONS.items()
        if t.target in {p.stage for p in ambiguous.values()}
    }
    found = {}
    for object_id, payload in (
        EvidenceEvent.objects.filter(
            object_type=Proposal._meta.label_lower,
            object_id__in=[str(pk) for pk in ambiguous],
            action__in=actions,
        )
        .order_by("seq")
        .values_list("object_id", "payload")
    ):
        found[int(object_id)] = (payload or {}).get("from")
    return {pk: stage for pk, stage in found.items() if stage}


def _steps_of(proposal: Proposal, left_from: str | None) -> tuple[list[Step], Step, bool]:
    path = main_path()
    label = dict(Stage.choices)
    if proposal.stage in path:
        at = path.index(proposal.stage)
        stages = list(path)
        exit_stage = None
    else:
        move = _exit_move(proposal.stage)
        sources = [s for s in path if move is not None and s in move.sources]
        source = left_from if left_from in sources else (sources[-1] if sources else path[0])
        at = path.index(source) + 1
        stages = [*path[:at], proposal.stage]
        exit_stage = proposal.stage
    steps = [
        Step(stage, str(label[stage]), "done" if i < at else "current" if i == at else "upcoming")
        for i, stage in enumerate(stages)
    ]
    ended = exit_stage is not None or proposal.stage == path[-1]
    return steps, steps[at], ended


def proposals_steps(proposals: Iterable[Proposal], *, viewer=None) -> dict[int, Stepper]:
    """The stepper of each proposal, by id, for ``viewer`` (who reads "you" where it is
    theirs to act). A constant number of queries whatever the number of proposals: one for
    withdrawn ones, and each ``proposal_deadlines`` hook's own. The proposals should come
    with their community (and its council) and, for those gathering co-signs,
    ``cosign_total``."""
    proposals = list(proposals)
    if not proposals:
        return {}
    left = _exits_left_from(proposals)
    deadlines: dict[int, dict] = {}
    for hook in get_hooks("proposal_deadlines"):
        for pk, found in hook(proposals).items():
            deadlines.setdefault(pk, {}).update({k: v for k, v in found.items() if v})
    viewer_id = getattr(viewer, "pk", None) if getattr(viewer, "is_authenticated", False) else None
    steppers = {}
    for proposal in proposals:
        steps, current, ended = _steps_of(proposal, left.get(proposal.pk))
        stepper = Stepper(
            proposal_id=proposal.pk,
            steps=steps,
            current=current,
            since=proposal.stage_changed_at or proposal.created_at,
            ended=ended,
        )
        if ended:
            move = _exit_move(proposal.stage) or _arriving_move(proposal.stage)
            how = str(move.label) if move is not None else current.label
            stepper.next = _("Its way has ended: %(how)s.") % {"how": how}
        else:
            move = _forward_move(proposal.stage)
            if move is not None:
                stepper.next = str(move.waiting) % facts(proposal)
                who = move.who
                if who == Who.PROPOSER and viewer_id and viewer_id == proposal.proposer_id:
                    who = Who.YOU
                stepper.who = str(who)
                stepper.by = move.due(proposal) if move.due else None
            found = deadlines.get(proposal.pk, {})
            stepper.next = str(found.get("next", stepper.next))
            stepper.who = str(found.get("who", stepper.who))
            stepper.by = found.get("by", stepper.by)
        steppers[proposal.pk] = stepper
    return steppers


def _arriving_move(stage: str) -> Transition | None:
    return next((t for t in TRANSITIONS.values() if t.target == stage), None)


def proposal_steps(proposal: Proposal, *, viewer=None) -> Stepper:
    """The stepper of one proposal (``proposals_steps``)."""
    return proposals_steps([proposal], viewer=viewer)[proposal.pk]


__all__ = ["Step", "Stepper", "facts", "main_path", "proposal_steps", "proposals_steps"]
