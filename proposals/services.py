"""Every write of the proposals app. Stage changes go through ``lifecycle.proposal_move``.

Each service checks permission with ``council.rules``, validates, writes in one transaction
and appends its evidence event last. A refusal raises ``NotAllowed`` or ``InvalidMove`` (or
Django's ``ValidationError`` for field problems) with a message for the user; nothing is
saved half-way.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from council.errors import InvalidMove, NotAllowed
from council.evidence import evidence_record
from council.files import stored_file_save, stored_files_atomic
from council.models import RoleKind
from council.money import format_yuan
from council.notifications import notify_on_commit
from council.rules import is_expert_of, is_resident_of
from council.sanitiser import render_markdown
from council.threads import post_expert_opinion, thread_guest_add
from council.validators import require_one_line

from .lifecycle import Move, proposal_move
from .models import (
    AdmissibilityReview,
    CoSign,
    ExpertInvitation,
    ExpertOpinion,
    FeasibilityReview,
    Follow,
    Proposal,
    Revision,
    Stage,
)
from .notify import proposal_event_notify
from .search import proposal_index

User = get_user_model()

TEXT_FIELDS = ("title", "summary", "body")
EDITABLE_FIELDS = (
    *TEXT_FIELDS,
    "project_type",
    "sub_kind",
    "location",
    "beneficiaries",
    "estimated_cost",
)


# Who writes or adds to a proposal: staff entering it on paper, or a resident.
AUTHORS = (RoleKind.STAFF, RoleKind.RESIDENT)


def _lock(proposal: Proposal) -> Proposal:
    return (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("community")
        .get(pk=proposal.pk)
    )


def _check_cost(proposal: Proposal) -> None:
    cap = proposal.community.cap_for(proposal.project_type)
    if proposal.estimated_cost is not None and proposal.estimated_cost > cap:
        raise ValidationError(
            {
                "estimated_cost": _(
                    "The estimated cost is above the cap of %(cap)s for %(type)s projects "
                    "in this community."
                )
                % {"cap": format_yuan(cap), "type": proposal.get_project_type_display()}
            }
        )


def _apply(proposal: Proposal, data: dict) -> None:
    for name in EDITABLE_FIELDS:
        if name in data:
            setattr(proposal, name, data[name])
    proposal.body_html = render_markdown(proposal.body)
    proposal.full_clean(exclude=["community", "proposer", "entered_by", "merged_into"])
    _check_cost(proposal)


@transaction.atomic
def proposal_create(*, actor, community, data: dict, on_behalf_of=None) -> Proposal:
    """Create a draft. A resident proposes for themself; staff enter a paper proposal on a
    resident's behalf (``on_behalf_of``), recorded as such."""
    if on_behalf_of is None:
        if not actor.has_perm("proposals.create", community):
            raise NotAllowed(
                _("Only confirmed residents of %(community)s can propose here.")
                % {"community": community}
            )
        proposer, entered_by = actor, None
    else:
        if not actor.has_perm("proposals.enter_on_behalf", community):
            raise NotAllowed(_("Only staff of this community can enter paper proposals."))
        if not is_resident_of(on_behalf_of, community):
            raise InvalidMove(
                _("%(name)s is not a confirmed resident of %(community)s.")
                % {"name": on_behalf_of, "community": community}
            )
        proposer, entered_by = on_behalf_of, actor
    proposal = Proposal(community=community, proposer=proposer, entered_by=entered_by)
    _apply(proposal, data)
    proposal.save()
    Follow.objects.get_or_create(user=proposer, community=community, proposal=proposal)
    evidence_record(
        actor=actor,
        roles=AUTHORS,
        action="proposal.created_on_behalf" if entered_by else "proposal.created",
        obj=proposal,
        community=community,
    )
    return proposal


@transaction.atomic
def proposal_update_draft(*, actor, proposal: Proposal, data: dict) -> Proposal:
    """Change a draft. Once submitted, the text changes only through revisions."""
    proposal = _lock(proposal)
    if not actor.has_perm("proposals.edit_draft", proposal):
        raise NotAllowed(_("You may not edit this proposal."))
    if proposal.stage != Stage.DRAFT:
        raise InvalidMove(_("Only a draft can be edited; a submitted proposal is revised."))
    _apply(proposal, data)
    proposal.save()
    return proposal


def proposal_submit(*, actor, proposal: Proposal, seen_stage: str | None = None) -> Proposal:
    """Submit a draft inside the collection window; its text becomes revision 1 (the
    lifecycle's SUBMIT move does both)."""
    return proposal_move(actor=actor, proposal=proposal, move=Move.SUBMIT, seen_stage=seen_stage)


def _maybe_reach_threshold(actor, proposal: Proposal) -> Proposal:
    if (
        proposal.stage == Stage.SUBMITTED
        and proposal.cosigns.count() >= proposal.community.cosign_threshold
    ):
        return proposal_move(actor=actor, proposal=proposal, move=Move.REACH_THRESHOLD)
    return proposal


@transaction.atomic
def cosign_add(*, actor, proposal: Proposal) -> Proposal:
    """附议: a resident of the community supports a proposal that is gathering co-signs.

    Once each, never one's own. The co-sign that reaches the community's threshold moves the
    proposal to review in the same transaction. Concurrent co-signs are serialised on the
    proposal's row, so the threshold is crossed exactly once.
    """
    proposal = _lock(proposal)
    if is_resident_of(actor, proposal) and proposal.proposer_id == actor.pk:
        raise InvalidMove(_("You cannot co-sign your own proposal."))
    if not actor.has_perm("proposals.cosign", proposal):
        if actor.has_perm("council.await_confirmation", proposal):
            raise NotAllowed(_("You can co-sign once your residency is confirmed."))
        raise NotAllowed(
            _("Only residents of %(community)s can co-sign.") % {"community": proposal.community}
        )
    if proposal.stage != Stage.SUBMITTED:
        raise InvalidMove(_("This proposal is no longer gathering co-signs."))
    try:
        with transaction.atomic():
            CoSign.objects.create(proposal=proposal, user=actor)
    except IntegrityError as error:
        raise InvalidMove(_("You have already co-signed this proposal.")) from error
    Follow.objects.get_or_create(user=actor, community=proposal.community, proposal=proposal)
    evidence_record(
        actor=actor,
        role=RoleKind.RESIDENT,
        action="proposal.cosigned",
        obj=proposal,
        community=proposal.community,
    )
    return _maybe_reach_threshold(actor, proposal)


@transaction.atomic
def cosign_withdraw(*, actor, proposal: Proposal) -> Proposal:
    """Take a co-sign back, while the proposal is still gathering."""
    if not actor.is_authenticated:
        raise NotAllowed(_("Sign in first."))
    proposal = _lock(proposal)
    if proposal.stage != Stage.SUBMITTED:
        raise InvalidMove(_("Co-signs can be taken back only while the proposal is gathering."))
    deleted, _rows = CoSign.objects.filter(proposal=proposal, user=actor).delete()
    if not deleted:
        raise InvalidMove(_("You have not co-signed this proposal."))
    evidence_record(
        actor=actor,
        role=RoleKind.RESIDENT,
        action="proposal.cosign_withdrawn",
        obj=proposal,
        community=proposal.community,
    )
    return proposal


def _staff_only(actor, perm: str, proposal: Proposal, *stages: str) -> Proposal:
    proposal = _lock(proposal)
    if not actor.has_perm(perm, proposal):
        raise NotAllowed(_("Only staff of this community can do this."))
    if stages and proposal.stage not in stages:
        raise InvalidMove(
            _("This cannot be done while the proposal is %(stage)s.")
            % {"stage": proposal.get_stage_display()}
        )
    return proposal


def _staff_review_save(actor, review, action: str, payload: dict):
    """Validate and save a staff review of its proposal, then record ``action`` as staff."""
    review.full_clean()
    review.save()
    evidence_record(
        actor=actor,
        role=RoleKind.STAFF,
        action=action,
        obj=review.proposal,
        payload=payload,
        community=review.proposal.community,
    )
    return review


@transaction.atomic
def admissibility_record(
    *, actor, proposal: Proposal, checks: dict, note: str = ""
) -> AdmissibilityReview:
    """Staff record the admissibility checklist of a proposal under review."""
    proposal = _staff_only(actor, "proposals.record_admissibility", proposal, Stage.UNDER_REVIEW)
    checks = {check: bool(checks.get(check)) for check in AdmissibilityReview.CHECKS}
    review = AdmissibilityReview(proposal=proposal, reviewer=actor, note=note, **checks)
    return _staff_review_save(actor, review, "proposal.admissibility_recorded", checks)


@transaction.atomic
def proposal_merge(*, actor, proposal: Proposal, target: Proposal, seen_stage=None) -> Proposal:
    """Merge ``proposal`` into ``target`` (the lifecycle's MERGE carries co-signers over).

    Both rows are locked first, lowest id first, so two merges in opposite directions wait
    for each other instead of deadlocking.
    """
    locked = {
        p.pk: p
        for p in Proposal.objects.select_for_update(of=("self",))
        .filter(pk__in=[proposal.pk, target.pk])
        .order_by("pk")
    }
    return proposal_move(
        actor=actor,
        proposal=proposal,
        move=Move.MERGE,
        target=locked.get(target.pk, target),
        seen_stage=seen_stage,
    )


@transaction.atomic
def expert_invite(*, actor, proposal: Proposal, expert) -> ExpertInvitation:
    """Staff invite one of the community's experts into a proposal's consultation."""
    proposal = _staff_only(actor, "proposals.invite_expert", proposal, Stage.CONSULTATION)
    if not is_expert_of(expert, proposal):
        raise InvalidMove(_("%(name)s is not an expert of this community.") % {"name": expert})
    invitation, created = ExpertInvitation.objects.get_or_create(
        proposal=proposal, expert=expert, defaults={"invited_by": actor}
    )
    if not created:
        raise InvalidMove(_("%(name)s is already invited.") % {"name": expert})
    if proposal.thread_id is not None:
        thread_guest_add(thread=proposal.thread, user=expert)
    evidence_record(
        actor=actor,
        role=RoleKind.STAFF,
        action="proposal.expert_invited",
        obj=proposal,
        payload={"expert": expert.pk},
        community=proposal.community,
    )
    title = proposal.title
    notify_on_commit(
        [expert],
        lambda: _("You are invited to give an expert opinion on “%(title)s”.") % {"title": title},
        reverse("proposal", args=[proposal.community.slug, proposal.pk]),
    )
    return invitation


@transaction.atomic
def feasibility_record(
    *, actor, proposal: Proposal, feasible: bool, cost_estimate: Decimal, plan: str
) -> FeasibilityReview:
    """Staff record a feasibility review; its estimate is the cost that counts from now on."""
    proposal = _staff_only(actor, "proposals.record_feasibility", proposal, Stage.CONSULTATION)
    review = FeasibilityReview(
        proposal=proposal,
        reviewer=actor,
        feasible=feasible,
        cost_estimate=cost_estimate,
        plan=plan,
        plan_html=render_markdown(plan),
    )
    return _staff_review_save(
        actor,
        review,
        "proposal.feasibility_recorded",
        {"feasible": feasible, "cost_estimate": str(cost_estimate)},
    )


@transaction.atomic
def opinion_post(*, actor, proposal: Proposal, recommendation: str, remarks: str) -> ExpertOpinion:
    """An invited expert gives a formal opinion during consultation."""
    proposal = _lock(proposal)
    if not actor.has_perm("proposals.post_opinion", proposal):
        raise NotAllowed(_("Only experts invited to this consultation can give an opinion."))
    if proposal.stage != Stage.CONSULTATION:
        raise InvalidMove(_("Opinions are given during consultation."))
    opinion = ExpertOpinion(
        proposal=proposal,
        expert=actor,
        recommendation=recommendation,
        remarks=remarks,
        remarks_html=render_markdown(remarks),
    )
    opinion.full_clean()
    opinion.save()
    if proposal.thread_id is not None:
        # The formal opinion appears in the thread where it was given.
        post_expert_opinion(
            actor=actor,
            thread=proposal.thread,
            text=f"**{opinion.get_recommendation_display()}**\n\n{remarks}",
        )
    evidence_record(
        actor=actor,
        role=RoleKind.EXPERT,
        action="proposal.opinion_given",
        obj=proposal,
        payload={"recommendation": recommendation},
        community=proposal.community,
    )
    proposal_event_notify(proposal, actor, lambda: _("“%(title)s”: an expert gave an opinion"))
    return opinion


@transaction.atomic
def proposal_revise(
    *,
    actor,
    proposal: Proposal,
    title: str,
    summary: str,
    body: str,
    note: str = "",
    seen_revision: int | None = None,
) -> Revision:
    """The proposer revises the text during consultation; every revision is kept.

    ``seen_revision`` is the revision the proposer's form started from: if another revision
    was saved since (another tab), this one is refused rather than silently overwriting it.
    """
    proposal = _lock(proposal)
    if not actor.has_perm("proposals.revise", proposal):
        raise NotAllowed(_("Only the proposer can revise the text."))
    if proposal.stage != Stage.CONSULTATION:
        raise InvalidMove(_("The text can be revised during consultation only."))
    latest = proposal.revisions.order_by("-number").first()
    number = (latest.number if latest else 0) + 1
    if seen_revision is not None and latest is not None and seen_revision != latest.number:
        raise InvalidMove(
            _("The text was revised since you opened this form; reload it and revise again.")
        )
    if latest and (latest.title, latest.summary, latest.body) == (title, summary, body):
        raise InvalidMove(_("Nothing changed in the text."))
    require_one_line(note=note)
    _apply(proposal, {"title": title, "summary": summary, "body": body})
    proposal.save(update_fields=["title", "summary", "body", "body_html"])
    proposal_index(proposal)
    revision = Revision.objects.create(
        proposal=proposal, number=number, title=title, summary=summary, body=body,
        author=actor, note=note[:200],
    )  # fmt: skip
    evidence_record(
        actor=actor,
        role=RoleKind.RESIDENT,
        action="proposal.revised",
        obj=proposal,
        payload={"revision": number},
        community=proposal.community,
    )
    proposal_event_notify(proposal, actor, lambda: _("“%(title)s”: the proposer revised the text"))
    return revision


@transaction.atomic
def follow_toggle(*, actor, community, proposal: Proposal | None = None) -> bool:
    """Follow or stop following a proposal (or a community). Returns True when now following."""
    if not actor.is_authenticated:
        raise NotAllowed(_("Sign in to follow."))
    if proposal is not None and not actor.has_perm("proposals.view", proposal):
        raise NotAllowed(_("You may not follow this."))
    deleted, _rows = Follow.objects.filter(
        user=actor, community=community, proposal=proposal
    ).delete()
    if deleted:
        return False
    Follow.objects.create(user=actor, community=community, proposal=proposal)
    return True


# What these actions mean in the public evidence log.
ACTION_LABELS = {
    "proposal.created": gettext_lazy("wrote a proposal"),
    "proposal.created_on_behalf": gettext_lazy("entered a paper proposal on a resident's behalf"),
    "proposal.cosigned": gettext_lazy("co-signed a proposal"),
    "proposal.cosign_withdrawn": gettext_lazy("took back a co-sign"),
    "proposal.admissibility_recorded": gettext_lazy("recorded the admissibility checklist"),
    "proposal.cosigns_carried_over": gettext_lazy("carried co-signs over from a merged proposal"),
    "proposal.expert_invited": gettext_lazy("invited an expert"),
    "proposal.feasibility_recorded": gettext_lazy("recorded a feasibility review"),
    "proposal.opinion_given": gettext_lazy("gave an expert opinion"),
    "proposal.revised": gettext_lazy("revised a proposal"),
    "proposal.file_added": gettext_lazy("added a photo or document"),
}


@stored_files_atomic()
def attachment_add(*, actor, proposal: Proposal, uploaded):
    """Attach a cleaned photo or PDF (``proposals.media``) to a proposal that is still open.
    ``StoreUnavailable`` if the file store cannot take it; a failed attach leaves no file in
    the store (``council.files``)."""
    from .media import clean_upload
    from .models import Attachment

    proposal = _lock(proposal)
    if not actor.has_perm("proposals.add_file", proposal):
        raise NotAllowed(_("You may not add files to this proposal."))
    if proposal.stage not in Stage.DRAFT_OR_OPEN:
        raise InvalidMove(_("Files can be added until the proposal is put to the vote."))
    clean = clean_upload(uploaded)
    attachment = Attachment(
        proposal=proposal, kind=clean.kind, name=clean.name, size=clean.content.size,
        uploaded_by=actor,
    )  # fmt: skip
    stored_file_save(attachment.file, clean.name, clean.content)
    if clean.thumbnail is not None:
        stored_file_save(attachment.thumbnail, f"thumb-{clean.name}", clean.thumbnail)
    attachment.save()
    evidence_record(
        actor=actor,
        roles=AUTHORS,
        action="proposal.file_added",
        obj=proposal,
        payload={"attachment": attachment.pk, "kind": clean.kind},
        community=proposal.community,
    )
    return attachment


def follows_erase(user) -> None:
    """Closing an account (``council.services.account_close``) forgets what the person
    followed: private, not a public act (a ``personal_data_erasers`` hook)."""
    Follow.objects.filter(user=user).delete()
