"""A proposal's page and its actions: thin views that read through ``proposals.selectors``
and write through ``proposals.services`` and ``proposals.lifecycle``.

Every view finds the community first (``access_community``), then the proposal *of that
community*; a proposal the user may not see (a draft of someone else's) is 404, like one that
does not exist. Refusals of a service become a message on the page, never an error page: a
POST ends in a redirect to the proposal (PRG), or in a fragment for htmx.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from council.access import access_community
from council.errors import InvalidMove, NotAllowed
from council.params import whole_number
from council.selectors import collection_status
from council.thread_render import thread_context
from council.threads import thread_for

from .. import selectors, services
from ..forms import (
    AdmissibilityForm,
    FeasibilityForm,
    InviteExpertForm,
    OpinionForm,
    ProposalForm,
    ReviseForm,
    UploadForm,
    residents_of,
)
from ..lifecycle import Move, available_moves, proposal_move
from ..media import upload_serve
from ..models import BODY_MAX, Attachment, AttachmentKind, Proposal, Stage
from ..panels import panels_render

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


# --- Helpers --------------------------------------------------------------------------------


def _proposal_of(request, slug: str, pk: int) -> Proposal:
    """The proposal ``pk`` of community ``slug`` as its page shows it; 404 if it is missing,
    of another community, or a draft this user may not see."""
    community = access_community(request.user, slug)
    proposal = selectors.proposal_for_page(pk)
    if (
        proposal is None
        or proposal.community_id != community.pk
        or not request.user.has_perm("proposals.view", proposal)
    ):
        raise Http404
    return proposal


def _text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


def _add_errors(form, error: ValidationError) -> None:
    """A service's ValidationError on the form: on its field when the form has it."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _back(proposal: Proposal):
    return redirect("proposal", slug=proposal.community.slug, pk=proposal.pk)


def _sign_in_first(request, proposal: Proposal):
    messages.info(request, _("Sign in first."))
    page = reverse("proposal", args=[proposal.community.slug, proposal.pk])
    return redirect(f"{reverse('login')}?{urlencode({'next': page})}")


def _refused_page(request, community, message: str):
    """A clear answer, with status 403, to someone who may not use a form at all."""
    return render(
        request,
        "proposals/proposal_refused.html",
        {"community": community, "message": message},
        status=403,
    )


def _cosign_context(request, proposal: Proposal, outcome=None) -> dict:
    user = request.user
    return {
        "proposal": proposal,
        "community": proposal.community,
        "has_cosigned": selectors.has_cosigned(user, proposal),
        "is_proposer": user.is_authenticated and proposal.proposer_id == user.pk,
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


def _page(request, proposal: Proposal, *, forms: dict | None = None, status: int = 200):
    """The proposal's page (with ``forms`` given back with their errors, if any). Its query
    count does not grow with co-signs, opinions, revisions, files or events."""
    user = request.user
    community = proposal.community
    stage = proposal.stage
    # First: it prefetches what the permission checks and forms below read of the proposal.
    page = selectors.proposal_page(proposal)

    can_review = user.has_perm("proposals.review", proposal)
    can_upload = stage in Stage.DRAFT_OR_OPEN and user.has_perm("proposals.add_file", proposal)
    moves = [m for m in available_moves(user, proposal) if m in PAGE_MOVES]
    forms = forms or {}
    if stage == Stage.UNDER_REVIEW and can_review:
        forms.setdefault("admissibility", AdmissibilityForm())
    if stage == Stage.CONSULTATION and can_review:
        forms.setdefault(
            "invite",
            InviteExpertForm(community=community, exclude=proposal.invited_expert_ids),
        )
        forms.setdefault("feasibility", FeasibilityForm())
    if stage == Stage.CONSULTATION and user.has_perm("proposals.post_opinion", proposal):
        forms.setdefault("opinion", OpinionForm())
    if can_upload:
        forms.setdefault("upload", UploadForm())

    context = {
        **_cosign_context(request, proposal),
        **_follow_context(request, proposal),
        **vars(page),
        "collection": collection_status(community),
        "cap": community.cap_for(proposal.project_type),
        "moves": [{"name": m, "label": PAGE_MOVES[m]} for m in moves],
        "merge_targets": selectors.merge_targets(proposal) if Move.MERGE in moves else [],
        "can_review": can_review,
        "can_edit": stage == Stage.DRAFT and user.has_perm("proposals.edit_draft", proposal),
        "can_revise": stage == Stage.CONSULTATION and user.has_perm("proposals.revise", proposal),
        "can_follow": user.has_perm("proposals.follow", proposal),
        "forms": forms,
        "panels": panels_render(request, proposal),
    }
    # The consultation thread (商议 online), readable after consultation too.
    thread = thread_for(user, proposal.thread_id) if proposal.thread_id else None
    if thread is not None:
        context.update(thread_context(user, thread, next_url=request.get_full_path()))
    return render(request, "proposals/proposal_detail.html", context, status=status)


# --- Writing a proposal -----------------------------------------------------------------------


def _save_attachments(actor, proposal: Proposal, files) -> None:
    for uploaded in files:
        services.attachment_add(actor=actor, proposal=proposal, uploaded=uploaded)


def _after_save(request, proposal: Proposal, *, submit: bool, created: bool):
    """Submit if asked; a refused submission keeps the draft and says why."""
    slug = proposal.community.slug
    if not submit:
        messages.success(
            request,
            _("Your draft is saved. It is not public until it is submitted.")
            if created
            else _("Your draft is saved."),
        )
        return redirect("proposal", slug=slug, pk=proposal.pk)
    try:
        services.proposal_submit(actor=request.user, proposal=proposal, seen_stage=Stage.DRAFT)
    except (InvalidMove, NotAllowed, ValidationError) as error:
        messages.error(
            request,
            _("Your draft is saved but not submitted. %(why)s") % {"why": _text(error)},
        )
        return redirect("proposal_edit", slug=slug, pk=proposal.pk)
    messages.success(
        request,
        _(
            "Your proposal is submitted. It is public now and gathers co-signs: with "
            "%(n)d it goes to review."
        )
        % {"n": proposal.community.cosign_threshold},
    )
    return redirect("proposal", slug=slug, pk=proposal.pk)


def proposal_create(request, slug):
    """A resident writes a proposal; staff may enter a paper one on a resident's behalf."""
    community = access_community(request.user, slug)
    user = request.user
    may_propose = user.has_perm("proposals.create", community)
    may_enter = user.has_perm("proposals.enter_on_behalf", community)
    if not (may_propose or may_enter):
        return _refused_page(
            request,
            community,
            _("Only confirmed residents of %(community)s can propose here.")
            % {"community": community},
        )
    form = ProposalForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        community=community,
        on_behalf_choices=residents_of(community) if may_enter else None,
        on_behalf_required=not may_propose,
    )
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():  # a refused file leaves no proposal behind
                proposal = services.proposal_create(
                    actor=user,
                    community=community,
                    data=form.proposal_data(),
                    on_behalf_of=form.cleaned_data.get("on_behalf_of"),
                )
                _save_attachments(user, proposal, form.cleaned_data["files"])
        except ValidationError as error:
            _add_errors(form, error)
        except (InvalidMove, NotAllowed) as error:
            form.add_error(None, str(error))
        else:
            return _after_save(request, proposal, submit="submit" in request.POST, created=True)
    return render(
        request,
        "proposals/proposal_form.html",
        {"community": community, "form": form, "collection": collection_status(community)},
    )


def proposal_edit(request, slug, pk):
    """The proposer (or the staff member who entered it) changes a draft, and may submit."""
    proposal = _proposal_of(request, slug, pk)
    if not request.user.has_perm("proposals.edit_draft", proposal):
        raise Http404
    if proposal.stage != Stage.DRAFT:
        messages.info(request, _("Only a draft can be edited; a submitted proposal is revised."))
        return _back(proposal)
    community = proposal.community
    initial = {name: getattr(proposal, name) for name in ProposalForm.Meta.fields}
    form = ProposalForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        community=community,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                proposal = services.proposal_update_draft(
                    actor=request.user, proposal=proposal, data=form.proposal_data()
                )
                _save_attachments(request.user, proposal, form.cleaned_data["files"])
        except ValidationError as error:
            _add_errors(form, error)
        except (InvalidMove, NotAllowed) as error:
            form.add_error(None, str(error))
        else:
            return _after_save(request, proposal, submit="submit" in request.POST, created=False)
    return render(
        request,
        "proposals/proposal_form.html",
        {
            "community": community,
            "proposal": proposal,
            "form": form,
            "collection": collection_status(community),
        },
    )


# --- The page and its actions -----------------------------------------------------------------


def proposal_detail(request, slug, pk):
    return _page(request, _proposal_of(request, slug, pk))


@require_POST
def proposal_move_view(request, slug, pk):
    """One step of the proposal's life, from a button of its page (``lifecycle``)."""
    proposal = _proposal_of(request, slug, pk)
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
        messages.error(request, _text(error))
    else:
        messages.success(
            request,
            _("Done: the proposal is now %(stage)s.") % {"stage": proposal.get_stage_display()},
        )
    return _back(proposal)


def _merge_target(proposal: Proposal, value: str) -> Proposal | None:
    pk = whole_number(value, minimum=1)
    if pk is None:
        return None
    return selectors.merge_target(proposal, pk)


@require_POST
def proposal_cosign(request, slug, pk):
    """附议 (``action=add``) or take it back (``action=withdraw``); htmx swaps the box."""
    proposal = _proposal_of(request, slug, pk)
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
        return HttpResponseClientRefresh() if request.htmx else _back(proposal)
    return render(
        request,
        "proposals/proposal_detail.html#cosign_box",
        _cosign_context(request, selectors.proposal_for_page(proposal.pk), outcome),
    )


@require_POST
def proposal_follow(request, slug, pk):
    """Follow a proposal, or stop following it (``services.follow_toggle``)."""
    proposal = _proposal_of(request, slug, pk)
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
    return _back(proposal)


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


def _staff_form_action(request, slug, pk, *, perm, refusal, form_key, build_form, act, done):
    """Shared shape of the staff and expert forms of the page: validate, call the service,
    say what happened. An invalid form shows the page again with the errors in place."""
    proposal = _proposal_of(request, slug, pk)
    if not request.user.has_perm(perm, proposal):
        messages.error(request, refusal)
        return _back(proposal)
    form = build_form(proposal)
    if form.is_valid():
        try:
            message = done(act(proposal, form.cleaned_data))
        except ValidationError as error:
            _add_errors(form, error)
        except (InvalidMove, NotAllowed) as error:
            messages.error(request, str(error))
            return _back(proposal)
        else:
            messages.success(request, message)
            return _back(proposal)
    return _page(request, proposal, forms={form_key: form})


@require_POST
def proposal_admissibility(request, slug, pk):
    """Staff record the admissibility checklist of a proposal under review."""

    def act(proposal, data):
        return services.admissibility_record(
            actor=request.user, proposal=proposal, checks=data, note=data["note"]
        )

    return _staff_form_action(
        request, slug, pk,
        perm="proposals.review",
        refusal=_("Only staff of this community can do this."),
        form_key="admissibility",
        build_form=lambda proposal: AdmissibilityForm(request.POST),
        act=act,
        done=lambda review: _("The checklist is recorded: every item holds; it can be admitted.")
        if review.passed
        else _("The checklist is recorded: not every item holds."),
    )  # fmt: skip


@require_POST
def proposal_invite_expert(request, slug, pk):
    """Staff invite one of the community's experts into the consultation."""

    def act(proposal, data):
        return services.expert_invite(actor=request.user, proposal=proposal, expert=data["expert"])

    return _staff_form_action(
        request, slug, pk,
        perm="proposals.review",
        refusal=_("Only staff of this community can do this."),
        form_key="invite",
        build_form=lambda proposal: InviteExpertForm(request.POST, community=proposal.community),
        act=act,
        done=lambda invitation: _("%(name)s is invited to give an expert opinion.")
        % {"name": invitation.expert},
    )  # fmt: skip


@require_POST
def proposal_feasibility(request, slug, pk):
    """Staff record a feasibility review, whose cost estimate counts from now on."""

    def act(proposal, data):
        return services.feasibility_record(
            actor=request.user, proposal=proposal, feasible=data["feasible"],
            cost_estimate=data["cost_estimate"], plan=data["plan"],
        )  # fmt: skip

    return _staff_form_action(
        request, slug, pk,
        perm="proposals.review",
        refusal=_("Only staff of this community can do this."),
        form_key="feasibility",
        build_form=lambda proposal: FeasibilityForm(request.POST),
        act=act,
        done=lambda review: _("The feasibility review is recorded."),
    )  # fmt: skip


@require_POST
def proposal_opinion(request, slug, pk):
    """An invited expert gives a formal opinion."""

    def act(proposal, data):
        return services.opinion_post(
            actor=request.user, proposal=proposal,
            recommendation=data["recommendation"], remarks=data["remarks"],
        )  # fmt: skip

    return _staff_form_action(
        request, slug, pk,
        perm="proposals.post_opinion",
        refusal=_("Only experts invited to this consultation can give an opinion."),
        form_key="opinion",
        build_form=lambda proposal: OpinionForm(request.POST),
        act=act,
        done=lambda opinion: _("Your expert opinion is published."),
    )  # fmt: skip


@require_POST
def proposal_upload(request, slug, pk):
    """Add photos or PDFs to a proposal that is still open; each is cleaned first."""
    proposal = _proposal_of(request, slug, pk)
    user = request.user
    if not user.has_perm("proposals.add_file", proposal):
        messages.error(request, _("You may not add files to this proposal."))
        return _back(proposal)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, proposal, forms={"upload": form})
    try:
        with transaction.atomic():
            _save_attachments(user, proposal, form.cleaned_data["files"])
    except (InvalidMove, NotAllowed, ValidationError) as error:
        messages.error(request, _text(error))
    else:
        count = len(form.cleaned_data["files"])
        messages.success(
            request,
            ngettext("%(n)d file added.", "%(n)d files added.", count) % {"n": count},
        )
    return _back(proposal)


# --- Revisions --------------------------------------------------------------------------------


def proposal_revise_view(request, slug, pk):
    """The proposer revises the text during consultation; every revision is kept."""
    proposal = _proposal_of(request, slug, pk)
    if not request.user.has_perm("proposals.revise", proposal):
        messages.error(request, _("Only the proposer can revise the text."))
        return _back(proposal)
    if proposal.stage != Stage.CONSULTATION:
        messages.error(request, _("The text can be revised during consultation only."))
        return _back(proposal)
    form = ReviseForm(
        request.POST if request.method == "POST" else None,
        initial={
            "title": proposal.title,
            "summary": proposal.summary,
            "body": proposal.body,
            "seen_revision": selectors.latest_revision_number(proposal),
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            revision = services.proposal_revise(
                actor=request.user,
                proposal=proposal,
                title=data["title"],
                summary=data["summary"],
                body=data["body"],
                note=data["note"],
                seen_revision=data["seen_revision"] or None,
            )
        except ValidationError as error:
            _add_errors(form, error)
        except (InvalidMove, NotAllowed) as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("Revision %(n)d is saved; everyone can compare it with the earlier ones.")
                % {"n": revision.number},
            )
            return _back(proposal)
    return render(
        request,
        "proposals/proposal_revise.html",
        {"community": proposal.community, "proposal": proposal, "form": form},
    )


def _revision_number(value, numbers: list[int], default: int) -> int:
    number = whole_number(value)
    return number if number in numbers else default


def proposal_diff(request, slug, pk):
    """Compare any two revisions (``?a=1&b=3``): deletions and insertions marked."""
    proposal = _proposal_of(request, slug, pk)
    revisions = selectors.proposal_revisions(proposal)
    numbers = [r.number for r in revisions]
    context = {"community": proposal.community, "proposal": proposal, "revisions": revisions}
    if revisions:
        b = _revision_number(request.GET.get("b"), numbers, numbers[-1])
        earlier = [n for n in numbers if n < b]
        a = _revision_number(request.GET.get("a"), numbers, earlier[-1] if earlier else b)
        by_number = {r.number: r for r in revisions}
        context |= {"old": by_number[a], "new": by_number[b]}
    return render(request, "proposals/proposal_diff.html", context)


# --- Files ------------------------------------------------------------------------------------


def _attachment_for(request, pk: int) -> Attachment:
    attachment = selectors.attachment_for_serving(pk)
    if attachment is None or not request.user.has_perm("proposals.view", attachment.proposal):
        raise Http404
    return attachment


def _serve(attachment: Attachment, field, content_type: str, filename: str):
    response = upload_serve(field, content_type, filename)
    if not attachment.proposal.is_public:
        patch_cache_control(response, private=True, no_store=True)
    return response


def _content_type(attachment: Attachment) -> str:
    return "image/jpeg" if attachment.kind == AttachmentKind.PHOTO else "application/pdf"


def attachment_file(request, pk):
    """A proposal's photo or PDF, to whoever may see the proposal (404 to anyone else)."""
    attachment = _attachment_for(request, pk)
    return _serve(attachment, attachment.file, _content_type(attachment), attachment.name)


def attachment_thumbnail(request, pk):
    attachment = _attachment_for(request, pk)
    if attachment.kind != AttachmentKind.PHOTO:
        raise Http404
    return _serve(attachment, attachment.thumbnail, "image/jpeg", f"thumb-{attachment.name}")
