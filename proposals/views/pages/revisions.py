"""Revising a proposal's text during consultation, and comparing any two revisions."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils.translation import gettext as _

from council.errors import InvalidMove, NotAllowed
from council.params import whole_number

from ... import selectors, services
from ...forms import ReviseForm
from ...models import Stage
from .common import add_errors, back_to_proposal, proposal_of


def proposal_revise_view(request, slug, pk):
    """The proposer revises the text during consultation; every revision is kept."""
    proposal = proposal_of(request, slug, pk)
    if not request.user.has_perm("proposals.revise", proposal):
        messages.error(request, _("Only the proposer can revise the text."))
        return back_to_proposal(proposal)
    if proposal.stage != Stage.CONSULTATION:
        messages.error(request, _("The text can be revised during consultation only."))
        return back_to_proposal(proposal)
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
        try:
            # The form's fields are the service's: title, summary, body, note, seen_revision.
            revision = services.proposal_revise(
                actor=request.user, proposal=proposal, **form.cleaned_data
            )
        except ValidationError as error:
            add_errors(form, error)
        except (InvalidMove, NotAllowed) as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("Revision %(n)d is saved; everyone can compare it with the earlier ones.")
                % {"n": revision.number},
            )
            return back_to_proposal(proposal)
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
    proposal = proposal_of(request, slug, pk)
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
