"""The forms staff and invited experts use on a proposal's page: the admissibility checklist,
expert invitations, the feasibility review and expert opinions."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from council.errors import InvalidMove, NotAllowed

from ... import services
from ...forms import AdmissibilityForm, FeasibilityForm, InviteExpertForm, OpinionForm
from .common import add_errors, back_to_proposal, proposal_of
from .detail import render_proposal_page


def _staff_form_view(name, *, doc, perm, refusal, form_key, build_form, act, done):
    """A POST-only view of one of the page's staff and expert forms: refuse with ``refusal``
    (and change nothing) unless the user holds ``perm`` on the proposal; else validate
    ``build_form(data, proposal)``, call ``act(actor, proposal, cleaned_data)`` and say
    ``done(result)``. A refusal of the service is said as an error; an invalid form, or one
    the service finds invalid, shows the page again with the errors in place (``form_key``)."""

    @require_POST
    def view(request, slug, pk):
        proposal = proposal_of(request, slug, pk)
        if not request.user.has_perm(perm, proposal):
            messages.error(request, str(refusal))
            return back_to_proposal(proposal)
        form = build_form(request.POST, proposal)
        if form.is_valid():
            try:
                message = done(act(request.user, proposal, form.cleaned_data))
            except ValidationError as error:
                add_errors(form, error)
            except (InvalidMove, NotAllowed) as error:
                messages.error(request, str(error))
                return back_to_proposal(proposal)
            else:
                messages.success(request, message)
                return back_to_proposal(proposal)
        return render_proposal_page(request, proposal, forms={form_key: form})

    # Named as the module names it: tracebacks, logs and the URL resolver show the real view.
    view.__name__ = view.__qualname__ = name
    view.__doc__ = doc
    return view


STAFF_ONLY = gettext_lazy("Only staff of this community can do this.")

proposal_admissibility = _staff_form_view(
    "proposal_admissibility",
    doc="Staff record the admissibility checklist of a proposal under review.",
    perm="proposals.record_admissibility",
    refusal=STAFF_ONLY,
    form_key="admissibility",
    build_form=lambda data, proposal: AdmissibilityForm(data),
    act=lambda actor, proposal, data: services.admissibility_record(
        actor=actor, proposal=proposal, checks=data, note=data["note"]
    ),
    done=lambda review: (
        _("The checklist is recorded: every item holds; it can be admitted.")
        if review.passed
        else _("The checklist is recorded: not every item holds.")
    ),
)

proposal_invite_expert = _staff_form_view(
    "proposal_invite_expert",
    doc="Staff invite one of the community's experts into the consultation.",
    perm="proposals.invite_expert",
    refusal=STAFF_ONLY,
    form_key="invite",
    build_form=lambda data, proposal: InviteExpertForm(data, community=proposal.community),
    act=lambda actor, proposal, data: services.expert_invite(
        actor=actor, proposal=proposal, expert=data["expert"]
    ),
    done=lambda invitation: (
        _("%(name)s is invited to give an expert opinion.") % {"name": invitation.expert}
    ),
)

proposal_feasibility = _staff_form_view(
    "proposal_feasibility",
    doc="Staff record a feasibility review, whose cost estimate counts from now on.",
    perm="proposals.record_feasibility",
    refusal=STAFF_ONLY,
    form_key="feasibility",
    build_form=lambda data, proposal: FeasibilityForm(data),
    # The form's fields are the service's arguments: feasible, cost_estimate, plan.
    act=lambda actor, proposal, data: services.feasibility_record(
        actor=actor, proposal=proposal, **data
    ),
    done=lambda review: _("The feasibility review is recorded."),
)

proposal_opinion = _staff_form_view(
    "proposal_opinion",
    doc="An invited expert gives a formal opinion.",
    perm="proposals.post_opinion",
    refusal=gettext_lazy("Only experts invited to this consultation can give an opinion."),
    form_key="opinion",
    build_form=lambda data, proposal: OpinionForm(data),
    # The form's fields are the service's arguments: recommendation, remarks.
    act=lambda actor, proposal, data: services.opinion_post(actor=actor, proposal=proposal, **data),
    done=lambda opinion: _("Your expert opinion is published."),
)
