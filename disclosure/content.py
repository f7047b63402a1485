"""What each disclosure says: its canonical content, built from the records in the official
language (Chinese). Pure reads; ``disclosure.services`` stores the result as a draft.

The content holds data and the Chinese labels of choices — never HTML and never private
data (phone, ID number, address, household status): names are display names, and residents
who object or evaluate are not named at all.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

from django.utils.translation import gettext as _

from proposals.models import Proposal, Recommendation
from voting.models import Ballot, Outcome, Round, RoundProject
from voting.selectors import ballot_tally, rejection_reason

from .models import Completion, EvaluationWindow, Kind, Objection, Rating, Verdict
from .services._common import day, money, official
from .verdict import verdict_compute

SCHEMA = 1


def _proposal(proposal: Proposal) -> dict:
    return {
        "id": proposal.pk,
        "title": proposal.title,
        "summary": proposal.summary,
        "body": proposal.body,
        # The sanitiser's HTML of the Markdown, made when the text was written.
        "body_html": proposal.body_html,
        "project_type": proposal.get_project_type_display(),
        "sub_kind": proposal.get_sub_kind_display(),
        "location": proposal.location,
        "beneficiaries": proposal.beneficiaries,
        "proposer": proposal.proposer.public_name,
        "submitted": day(proposal.submitted_at),
        "cost": money(proposal.counted_cost),
    }


def _consultation(proposal: Proposal) -> dict:
    feasibility = proposal.feasibility_reviews.order_by("-created_at", "-pk").first()
    opinions = list(proposal.expert_opinions.select_related("expert").order_by("created_at"))
    counts = Counter(o.get_recommendation_display() for o in opinions)
    return {
        "feasible": feasibility.feasible if feasibility else None,
        "cost_estimate": money(feasibility.cost_estimate) if feasibility else None,
        "plan": feasibility.plan if feasibility else "",
        "plan_html": feasibility.plan_html if feasibility else "",
        "opinions": [
            {
                "expert": o.expert.public_name,
                "recommendation": o.get_recommendation_display(),
                "remarks": o.remarks,
                "remarks_html": o.remarks_html,
                "date": day(o.created_at),
            }
            for o in opinions
        ],
        "opinion_counts": {
            str(label): counts.get(str(label), 0) for label in Recommendation.labels
        },
    }


def _objections(disclosure_ids: list[int]) -> list[dict]:
    return [
        {
            "lodged": day(o.created_at),
            "text": o.text,
            "answer": o.answer,
            "answered": day(o.answered_at),
        }
        for o in Objection.objects.filter(disclosure_id__in=disclosure_ids).order_by(
            "created_at", "pk"
        )
    ]


def _base(kind: str, proposal: Proposal) -> dict:
    return {
        "schema": SCHEMA,
        "kind": kind,
        "kind_label": str(Kind(kind).label),
        "community": proposal.community.name,
        "proposal": _proposal(proposal),
    }


def _roll_call(ballot: Ballot) -> list[dict]:
    """Each member's vote by display name and seat (roll-call ballots only)."""
    votes = {v.member_id: v.get_choice_display() for v in ballot.votes.all()}
    lines = ballot.eligible.select_related("member").order_by(
        "seat_category", "member__display_name"
    )
    return [
        {
            "name": line.member.public_name,
            "seat": line.get_seat_category_display(),
            "choice": _("recused")
            if line.recused
            else str(votes.get(line.member_id, _("did not vote"))),
        }
        for line in lines
    ]


def decision_from_ballot(ballot: Ballot, objections_of: list[int] = ()) -> dict:
    """Disclosure 1 from a closed ballot: the proposal, the consultation, the rules applied,
    the tally and its sentence, each member's vote when roll-call, the outcome."""
    with official():
        proposal = ballot.proposal
        tally = ballot_tally(ballot)
        content = _base(Kind.DECISION, proposal)
        content["consultation"] = _consultation(proposal)
        content["rules"] = {
            "quorum": f"{ballot.quorum_numerator}/{ballot.quorum_denominator}",
            "threshold": ballot.get_threshold_display(),
            "secrecy": ballot.get_secrecy_display(),
        }
        content["ballot"] = {
            "id": ballot.pk,
            "opened": day(ballot.opened_at),
            "closed": day(ballot.closed_at),
            "base": ballot.base,
            "yes": tally.yes,
            "no": tally.no,
            "abstain": tally.abstain,
            "sentence": tally.sentence(),
            "votes_sha256": ballot.votes_sha256,
            "closed_early_reason": ballot.close_reason,
        }
        content["votes"] = [] if ballot.is_secret else _roll_call(ballot)
        content["outcome"] = ballot.get_outcome_display()
        content["approved"] = ballot.outcome == Outcome.APPROVED
        content["objections"] = _objections(list(objections_of))
    return content


def decision_from_round(round_: Round, rp: RoundProject, objections_of: list[int] = ()) -> dict:
    """Disclosure 1 of a project decided in a yearly round."""
    with official():
        proposal = rp.proposal
        content = _base(Kind.DECISION, proposal)
        content["consultation"] = _consultation(proposal)
        content["rules"] = {
            "quorum": f"{round_.quorum_numerator}/{round_.quorum_denominator}",
            "threshold": _("approval ballot of a yearly round: no threshold"),
            "secrecy": round_.get_secrecy_display(),
            "funding_rule": round_.get_rule_display(),
        }
        content["round"] = {
            "id": round_.pk,
            "title": round_.title,
            "closed": day(round_.closed_at),
            "base": round_.base,
            "participation": round_.participation,
            "money": money(round_.money),
            "spent": money(round_.spent),
            "approvals": rp.approvals,
            "cost": money(rp.cost),
            "reason": "" if rp.funded else rejection_reason(round_, rp),
            "votes_sha256": round_.votes_sha256,
        }
        content["votes"] = []
        content["outcome"] = _("funded") if rp.funded else _("not funded")
        content["approved"] = bool(rp.funded)
        content["objections"] = _objections(list(objections_of))
    return content


def inadmissible(proposal: Proposal) -> dict:
    """Disclosure 1 of an inadmissible proposal: the reason, which is public."""
    with official():
        content = _base(Kind.DECISION, proposal)
        content["outcome"] = proposal.get_stage_display()
        content["approved"] = False
        content["inadmissible_reason"] = proposal.inadmissible_reason
        content["objections"] = []
    return content


def implementation(proposal: Proposal) -> dict:
    """Disclosure 2: every progress update so far, in order, with provider and spending."""
    with official():
        content = _base(Kind.IMPLEMENTATION, proposal)
        updates = list(
            proposal.progress_updates.select_related("provider").prefetch_related("photos")
        )
        content["updates"] = [
            {
                "id": u.pk,
                "date": u.date.isoformat(),
                "text": u.text,
                "percent": u.percent,
                "spent": money(u.spent),
                "provider": u.provider.name,
                "provider_kind": u.provider.get_kind_display(),
                "photos": len(u.photos.all()),
                "imported": u.imported,
            }
            for u in updates
        ]
        content["percent"] = updates[-1].percent if updates else 0
        content["spent"] = money(updates[-1].spent) if updates else money(Decimal("0"))
    return content


def result(window: EvaluationWindow) -> dict:
    """Disclosure 3: completion, final accounts, and the residents' evaluation with its
    distribution, participation and verdict."""
    with official():
        proposal = window.proposal
        completion: Completion = proposal.completion
        content = _base(Kind.RESULT, proposal)
        variance = completion.actual - completion.budget
        content["completion"] = {
            "date": day(completion.recorded_at),
            "acceptance_note": completion.acceptance_note,
            "provider": completion.provider.name,
            "budget": money(completion.budget),
            "actual": money(completion.actual),
            "variance": money(variance),
            "variance_percent": (
                f"{(variance * 100 / completion.budget):.1f}" if completion.budget else None
            ),
            "variance_explanation": completion.variance_explanation,
        }
        counts = dict.fromkeys(Rating.values, 0)
        paper = 0
        comments = []
        for e in window.evaluations.order_by("updated_at", "pk"):
            counts[e.rating] += 1
            paper += e.entered_by_id is not None
            if e.comment.strip():
                comments.append({"rating": e.get_rating_display(), "comment": e.comment})
        total = sum(counts.values())
        verdict = verdict_compute(counts["satisfied"], counts["basic"], counts["dissatisfied"])
        content["evaluation"] = {
            "opened": day(window.opens_at),
            "closed": day(window.closed_at),
            "satisfied": counts["satisfied"],
            "basic": counts["basic"],
            "dissatisfied": counts["dissatisfied"],
            "total": total,
            "paper": paper,
            "residents": window.residents or 0,
            "participation_percent": (
                f"{total * 100 / window.residents:.1f}" if window.residents else "0.0"
            ),
            "verdict": verdict,
            "verdict_label": str(Verdict(verdict).label),
            "rule": _(
                "More than half 满意 → satisfied; 满意 and 基本满意 together more than half → "
                "basically satisfied; otherwise dissatisfied; none given → no verdict."
            ),
            "comments": comments,
            "close_reason": window.close_reason,
        }
    return content
