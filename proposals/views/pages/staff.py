"""The forms staff and invited experts use on a proposal's page: the admissibility checklist,
expert invitations, the feasibility review and expert opinions."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from council.errors import InvalidMove, NotAllowed

from ... import services
from ...forms import AdmissibilityForm, FeasibilityForm, InviteExpertForm, OpinionForm
from .common import add_errors, back_to_proposal, proposal_of
from .detail import render_proposal_page


def _staff_form_action(request, slug, pk, *, perm, refusal, form_key, build_form, act, done):
    """Shared shape of the staff and expert forms of the page: validate, call the service,
    say what happened. An invalid form shows the page again with the errors in place."""
    proposal = proposal_of(request, slug, pk)
    if not request.user.has_perm(perm, proposal):
        messages.error(request, refusal)
        return back_to_proposal(proposal)
    form = build_form(proposal)
    if form.is_valid():
        try:
            message = done(act(proposal, form.cleaned_data))
        except ValidationError as error:
            add_errors(form, error)
        except (InvalidMove, NotAllowed) as error:
            messages.error(request, str(error))
            return back_to_proposal(proposal)
        else:
            messages.success(request, message)
            return back_to_proposal(proposal)
    return render_proposal_page(request, proposal, forms={form_key: form})


@require_POST
def proposal_admissibility(request, slug, pk):
    """Staff record the admissibility checklist of a proposal under review."""

    def act(proposal, data):
        return services.admissibility_record(
            actor=request.user, proposal=proposal, checks=data, note=data["note"]
        )

    return _staff_form_action(
        request, slug, pk,
        perm="proposals.record_admissibility",
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
        perm="proposals.invite_expert",
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

    return _staff_form_action(
        request, slug, pk,
        perm="proposals.record_feasibility",
        refusal=_("Only staff of this community can do this."),
        form_key="feasibility",
        build_form=lambda proposal: FeasibilityForm(request.POST),
        # The form's fields are the service's arguments: feasible, cost_estimate, plan.
        act=lambda proposal, data: services.feasibility_record(
            actor=request.user, proposal=proposal, **data
        ),
        done=lambda review: _("The feasibility review is recorded."),
    )  # fmt: skip


@require_POST
def proposal_opinion(request, slug, pk):
    """An invited expert gives a formal opinion."""

    return _staff_form_action(
        request, slug, pk,
        perm="proposals.post_opinion",
        refusal=_("Only experts invited to this consultation can give an opinion."),
        form_key="opinion",
        build_form=lambda proposal: OpinionForm(request.POST),
        # The form's fields are the service's arguments: recommendation, remarks.
        act=lambda proposal, data: services.opinion_post(
            actor=request.user, proposal=proposal, **data
        ),
        done=lambda opinion: _("Your expert opinion is published."),
    )  # fmt: skip
