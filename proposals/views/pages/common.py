"""What the views of a proposal share: finding the proposal, saying why a service refused,
and going back to the proposal's page."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect

from council.access import access_community

from ... import selectors
from ...models import Proposal


def proposal_of(request, slug: str, pk: int) -> Proposal:
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


def error_text(error: Exception) -> str:
    """What the user reads of a service's refusal (every message of a ValidationError)."""
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


def add_errors(form, error: ValidationError) -> None:
    """A service's ValidationError on the form: on its field when the form has it."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


def back_to_proposal(proposal: Proposal):
    return redirect("proposal", slug=proposal.community.slug, pk=proposal.pk)
