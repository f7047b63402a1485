"""Writing a proposal: a resident's draft (or staff's entry of a paper one), its edits, and
its submission."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from council.access import access_community
from council.errors import InvalidMove, NotAllowed
from council.selectors import collection_status

from ... import services
from ...forms import ProposalForm, residents_of
from ...models import Proposal, Stage
from ...selectors import proposal_search
from .common import add_errors, back_to_proposal, error_text, proposal_of
from .files import attachments_save


def _refused_page(request, community, message: str):
    """A clear answer, with status 403, to someone who may not use a form at all."""
    return render(
        request,
        "proposals/proposal_refused.html",
        {"community": community, "message": message},
        status=403,
    )


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
            _("Your draft is saved but not submitted. %(why)s") % {"why": error_text(error)},
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


SIMILAR_MAX = 5
SIMILAR_ID = "similar-proposals"


def _suggest_similar(form, community) -> None:
    """When the form opens (a draft reopened has its title) and while the title is typed or
    pasted (after a pause), htmx asks for similar proposals."""
    form.fields["title"].widget.attrs.update(
        {
            "hx-get": reverse("proposal_similar", args=[community.slug]),
            "hx-trigger": "load, input changed delay:500ms",
            "hx-target": f"#{SIMILAR_ID}",
            "hx-sync": "this:replace",
            "aria-controls": SIMILAR_ID,
        }
    )


def proposal_similar(request, slug):
    """Public proposals of the community like the title being typed (``?title=``), at most
    five, best first, so a resident co-signs one instead of proposing it again: the form's
    ``similar`` region."""
    community = access_community(request.user, slug)
    similar = proposal_search(request.GET.get("title", ""), community)[:SIMILAR_MAX]
    return render(
        request,
        "proposals/proposal_form.html#similar",
        {"community": community, "similar": similar},
    )


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
            _("You can propose a project once your residency is confirmed.")
            if user.has_perm("council.await_confirmation", community)
            else _("Only confirmed residents of %(community)s can propose here.")
            % {"community": community},
        )
    form = ProposalForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        community=community,
        on_behalf_choices=residents_of(community) if may_enter else None,
        on_behalf_required=not may_propose,
    )
    _suggest_similar(form, community)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():  # a refused file leaves no proposal behind
                proposal = services.proposal_create(
                    actor=user,
                    community=community,
                    data=form.proposal_data(),
                    on_behalf_of=form.cleaned_data.get("on_behalf_of"),
                )
                attachments_save(user, proposal, form.cleaned_data["files"])
        except ValidationError as error:
            add_errors(form, error)
        except (InvalidMove, NotAllowed) as error:
            form.add_error(None, str(error))
        else:
            return _after_save(request, proposal, submit="submit" in request.POST, created=True)
    return render(
        request,
        "proposals/proposal_form.html",
        {
            "community": community,
            "form": form,
            "collection": collection_status(community),
            "similar_after": "title",
        },
    )


def proposal_edit(request, slug, pk):
    """The proposer (or the staff member who entered it) changes a draft, and may submit."""
    proposal = proposal_of(request, slug, pk)
    if not request.user.has_perm("proposals.edit_draft", proposal):
        raise Http404
    if proposal.stage != Stage.DRAFT:
        messages.info(request, _("Only a draft can be edited; a submitted proposal is revised."))
        return back_to_proposal(proposal)
    community = proposal.community
    initial = {name: getattr(proposal, name) for name in ProposalForm.Meta.fields}
    form = ProposalForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        community=community,
        initial=initial,
    )
    _suggest_similar(form, community)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                proposal = services.proposal_update_draft(
                    actor=request.user, proposal=proposal, data=form.proposal_data()
                )
                attachments_save(request.user, proposal, form.cleaned_data["files"])
        except ValidationError as error:
            add_errors(form, error)
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
            "similar_after": "title",
        },
    )
