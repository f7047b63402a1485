"""The proposal's page, the moves of its buttons, co-signs and follows."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from council.access import access_community
from council.errors import InvalidMove, NotAllowed
from council.params import whole_number
from council.selectors import collection_status, thread_for
from council.thread_render import thread_context
from council.threads import thread_mark_read

from ... import selectors, services
from ...forms import AdmissibilityForm, FeasibilityForm, InviteExpertForm, OpinionForm, UploadForm
from ...lifecycle import Move, available_moves, proposal_move
from ...models import BODY_MAX, Proposal, Stage
from ...panels import panels_render
from .common import back_to_proposal, error_text, proposal_of
from .share import share_context

# Moves offered on the proposal page, with their button. The others belong to the council's
# ballot (approve, reject), the decision disclosure (start), progress (complete) and the
# evaluation window (evaluate), and are refused here.
PAGE_MOVES = {
    Move.SUBMIT: gettext_lazy("Submit"),
    Move.TAKE_UP: gettext_lazy("Take up for review now"),
    Move.ADMIT: gettext_lazy("Admit: open consultation"),
    Move.DECLARE_INADMISSIBLE: gettext_lazy("Declare inadmissible"),
    Move.MERGE: gettext_lazy("Merge into the chosen proposal"),
    Move.WITHDRAW: gettext_lazy("Withdraw the proposal"),
    Move.OPEN_VOTING: gettext_lazy("Put to the council's vote"),
}


def _sign_in_first(request, proposal: Proposal):
    messages.info(request, _("Sign in first."))
    page = reverse("proposal", args=[proposal.community.slug, proposal.pk])
    return redirect(f"{reverse('login')}?{urlencode({'next': page})}")


def _cosign_context(request, proposal: Proposal, outcome=None) -> dict:
    user = request.user
    return {
        "proposal": proposal,
        "community": proposal.community,
        "has_cosigned": selectors.has_cosigned(user, proposal),
        "is_proposer": user.is_authenticated and proposal.proposer_id == user.pk,
        # Signed up, not yet confirmed: no co-sign button, but when it comes.
        "awaiting_confirmation": user.has_perm("council.await_confirmation", proposal),
        "outcome": outcome,
    }


def _follow_context(request, proposal: Proposal, outcome=None) -> dict:
    user = request.user
    return {
        "proposal": proposal,
        "community": proposal.community,
        "following": selectors.follows_proposal(user, proposal),
        "outcome": outcome,
    }


def render_proposal_page(
    request, proposal: Proposal, *, forms: dict | None = None, status: int = 200
):
    """The proposal's page (with ``forms`` given back with their errors, if any). Its query
    count does not grow with co-signs, opinions, revisions, files or events."""
    user = request.user
    community = proposal.community
    stage = proposal.stage
    # First: it prefetches what the permission checks and forms below read of the proposal.
    page = selectors.proposal_page(proposal)

    can_upload = stage in Stage.DRAFT_OR_OPEN and user.has_perm("proposals.add_file", proposal)
    moves = [m for m in available_moves(user, proposal) if m in PAGE_MOVES]
    forms = forms or {}
    if stage == Stage.UNDER_REVIEW and user.has_perm("proposals.record_admissibility", proposal):
        forms.setdefault("admissibility", AdmissibilityForm())
    if stage == Stage.CONSULTATION and user.has_perm("proposals.invite_expert", proposal):
        forms.setdefault(
            "invite",
            InviteExpertForm(community=community, exclude=proposal.invited_expert_ids),
        )
    if stage == Stage.CONSULTATION and user.has_perm("proposals.record_feasibility", proposal):
        forms.setdefault("feasibility", FeasibilityForm())
    if stage == Stage.CONSULTATION and user.has_perm("proposals.post_opinion", proposal):
        forms.setdefault("opinion", OpinionForm())
    if can_upload:
        forms.setdefault("upload", UploadForm())

    context = {
        **_cosign_context(request, proposal),
        **_follow_context(request, proposal),
        **share_context(request, proposal),
        **vars(page),
        "collection": collection_status(community),
        "cap": community.cap_for(proposal.project_type),
        "moves": [{"name": m, "label": PAGE_MOVES[m]} for m in moves],
        "merge_targets": selectors.merge_targets(proposal) if Move.MERGE in moves else [],
        "can_edit": stage == Stage.DRAFT and user.has_perm("proposals.edit_draft", proposal),
        "can_revise": stage == Stage.CONSULTATION and user.has_perm("proposals.revise", proposal),
        "can_follow": user.has_perm("proposals.follow", proposal),
        "forms": forms,
        "panels": panels_render(request, proposal),
        "stepper": selectors.proposal_steps(proposal, viewer=user),
    }
    # The consultation thread (商议 online), readable after consultation too.
    thread = thread_for(user, proposal.thread_id) if proposal.thread_id else None
    if thread is not None:
        context.update(
            thread_context(
                user, thread, next_url=request.get_full_path(), reply_to=request.GET.get("reply")
            )
        )
        # The reader has now seen the thread to its newest message (unread counts on 我的).
        thread_mark_read(user=user, thread_id=thread.pk, message_id=context["thread_last"])
    return render(request, "proposals/proposal_detail.html", context, status=status)


def proposal_detail(request, slug, pk):
    return render_proposal_page(request, proposal_of(request, slug, pk))


@require_POST
def proposal_move_view(request, slug, pk):
    """One step of the proposal's life, from a button of its page (``lifecycle``)."""
    proposal = proposal_of(request, slug, pk)
    if not request.user.is_authenticated:
        return _sign_in_first(request, proposal)
    move = request.POST.get("move", "")
    seen_stage = request.POST.get("seen_stage", "")
    reason = request.POST.get("reason", "")
    try:
        if move not in PAGE_MOVES:
            raise InvalidMove(_("This cannot be done from the proposal's page."))
        if move == Move.SUBMIT:
            proposal = services.proposal_submit(
                actor=request.user, proposal=proposal, seen_stage=seen_stage
            )
        elif move == Move.MERGE:
            target = _merge_target(proposal, request.POST.get("target", ""))
            if target is None:
                raise InvalidMove(_("Choose another proposal to merge into."))
            proposal = services.proposal_merge(
                actor=request.user, proposal=proposal, target=target, seen_stage=seen_stage
            )
        else:
            if len(reason) > BODY_MAX:
                raise InvalidMove(_("Keep the reason under %(n)d characters.") % {"n": BODY_MAX})
            proposal = proposal_move(
                actor=request.user,
                proposal=proposal,
                move=move,
                seen_stage=seen_stage,
                reason=reason,
            )
    except (InvalidMove, NotAllowed, ValidationError) as error:
        messages.error(request, error_text(error))
    else:
        messages.success(
            request,
            _("Done: the proposal is now %(stage)s.") % {"stage": proposal.get_stage_display()},
        )
    return back_to_proposal(proposal)


def _merge_target(proposal: Proposal, value: str) -> Proposal | None:
    pk = whole_number(value, minimum=1)
    if pk is None:
        return None
    return selectors.merge_target(proposal, pk)


@require_POST
def proposal_cosign(request, slug, pk):
    """附议 (``action=add``) or take it back (``action=withdraw``); htmx swaps the box."""
    proposal = proposal_of(request, slug, pk)
    moved_on = False
    try:
        if not request.user.is_authenticated:
            raise NotAllowed(
                _("Sign in first: only residents of %(community)s can co-sign.")
                % {"community": proposal.community}
            )
        if request.POST.get("action") == "withdraw":
            services.cosign_withdraw(actor=request.user, proposal=proposal)
            outcome = ("success", _("Your co-sign is taken back."))
        else:
            moved_on = services.cosign_add(actor=request.user, proposal=proposal).stage != (
                proposal.stage
            )
            outcome = (
                "success",
                _("Thank you: with your co-sign the proposal has enough support to be reviewed.")
                if moved_on
                else _("Thank you: you co-signed this proposal."),
            )
    except (InvalidMove, NotAllowed) as error:
        outcome = ("error", str(error))
    if not request.htmx or moved_on:
        # A new stage changes the whole page: reload it; the message comes along.
        getattr(messages, outcome[0])(request, outcome[1])
        return HttpResponseClientRefresh() if request.htmx else back_to_proposal(proposal)
    return render(
        request,
        "proposals/proposal_detail.html#cosign_box",
        _cosign_context(request, selectors.proposal_for_page(proposal.pk), outcome),
    )


@require_POST
def proposal_follow(request, slug, pk):
    """Follow a proposal, or stop following it (``services.follow_toggle``)."""
    proposal = proposal_of(request, slug, pk)
    try:
        following = services.follow_toggle(
            actor=request.user, community=proposal.community, proposal=proposal
        )
    except NotAllowed as error:
        outcome = ("error", str(error))
    else:
        outcome = (
            "success",
            _("You follow this proposal: you will hear when it moves.")
            if following
            else _("You no longer follow this proposal."),
        )
    if request.htmx:
        return render(
            request,
            "proposals/proposal_detail.html#follow_box",
            _follow_context(request, proposal, outcome),
        )
    getattr(messages, outcome[0])(request, outcome[1])
    return back_to_proposal(proposal)


@require_POST
def community_follow(request, slug):
    """Follow every proposal of a community, or stop; back to where the button was."""
    community = access_community(request.user, slug)
    try:
        following = services.follow_toggle(actor=request.user, community=community)
    except NotAllowed as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("You follow %(community)s: you will hear of its proposals.")
            % {"community": community}
            if following
            else _("You no longer follow %(community)s.") % {"community": community},
        )
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("community", args=[community.slug])
    return redirect(target)
