"""Yearly round pages: open a round (clerk), hand in an approval ballot (members), the
clerk's paper ballots and early close, and the result — funded and unfunded projects, the
money each used and what remains."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from council.access import access_community
from council.deadlines import is_due
from council.errors import InvalidMove, NotAllowed
from council.validators import form_refusal

from .. import selectors, services
from ..forms.ballots import ClerkRoundBallotForm, CloseForm, RoundBallotForm, RoundOpenForm
from .ballots import private_if_receipt


def _round(request, slug, pk):
    """The round for its page, closed first if its time has passed (the scheduler does it
    too, every minute): a page never shows a stale "open"."""
    community = access_community(request.user, slug)
    round_ = selectors.round_for_page(community, pk)
    if round_ is None:
        raise Http404
    if is_due(round_):
        services.round_close_if_due(round_)
        round_ = selectors.round_for_page(community, pk)
    return round_


def _back(round_):
    return redirect("round", slug=round_.community.slug, pk=round_.pk)


def round_new(request, slug):
    community = access_community(request.user, slug, "voting.open_round")
    form = RoundOpenForm(request.POST or None, proposals=selectors.slate_candidates(community))
    if request.method == "POST" and form.is_valid():
        # The form's fields are round_open's arguments; its slate comes as a queryset.
        data = {**form.cleaned_data, "proposals": list(form.cleaned_data["proposals"])}
        try:
            round_ = services.round_open(actor=request.user, community=community, **data)
        except (InvalidMove, NotAllowed) as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The round is open; the members are notified."))
            return _back(round_)
    return render(
        request,
        "voting/round_form.html",
        {"community": community, "form": form},
        status=400 if form.errors else 200,
    )


def _published(round_, slate) -> list[dict] | None:
    """The round's published list with the titles of the projects each ballot approves."""
    published = selectors.round_list(round_)
    if published is None:
        return None
    titles = {str(rp.proposal_id): rp.proposal.title for rp in slate}
    return [
        {
            "commitment": commitment,
            "approved": approved,
            "titles": [titles[pk] for pk in approved.split(",") if pk],
        }
        for commitment, approved in published.ballots
    ]


def round_detail(request, slug, pk, *, ballot_form=None):
    round_ = _round(request, slug, pk)
    user = request.user
    line, my_ballot = selectors.round_member_line(round_, user)
    slate = list(round_.projects.all())
    is_clerk = user.has_perm("voting.see_clerk_tools", round_.community)
    context = {
        "round": round_,
        "community": round_.community,
        "lines": selectors.round_lines(round_),
        "line": line,
        "my_ballot": my_ballot,
        "is_clerk": is_clerk,
        "handed_in": selectors.round_handed_in(round_),
        # The member's own receipt: read for the signed-in user only, never for anyone else.
        "my_receipt": selectors.my_round_receipt(round_, user),
        "published": _published(round_, slate),
        "left": (round_.money - round_.spent) if round_.spent is not None else None,
    }
    if round_.is_open and line is not None:
        context["ballot_form"] = ballot_form or RoundBallotForm(
            slate=slate,
            recused=set(line.recused_from),
            initial={"approved": [str(pk) for pk in (my_ballot.approved if my_ballot else [])]},
        )
        context["recused_titles"] = [
            rp.proposal.title for rp in slate if rp.proposal_id in set(line.recused_from)
        ]
    if round_.is_open and is_clerk:
        context["clerk_form"] = ClerkRoundBallotForm(
            slate=slate, members=selectors.round_voters(round_)
        )
        context["close_form"] = CloseForm()
    return private_if_receipt(render(request, "voting/round_detail.html", context), context)


@require_POST
def round_ballot(request, slug, pk):
    """Hand in or change my approval ballot; the clerk records a paper ballot with ``member``."""
    round_ = _round(request, slug, pk)
    slate = list(round_.projects.all())
    clerk = "member" in request.POST
    try:
        if not request.user.is_authenticated:
            raise NotAllowed(_("Sign in to vote."))
        if clerk:
            form = ClerkRoundBallotForm(
                request.POST, slate=slate, members=selectors.round_voters(round_)
            )
        else:
            line, _ballot = selectors.round_member_line(round_, request.user)
            recused = set(line.recused_from) if line else set()
            form = RoundBallotForm(request.POST, slate=slate, recused=recused)
        if not form.is_valid():
            raise InvalidMove(_("Tick only projects on this round's slate."))
        services.round_ballot_submit(
            actor=request.user,
            round_=round_,
            approved=form.approved_ids(),
            member=form.cleaned_data["member"] if clerk else None,
        )
    except (InvalidMove, NotAllowed) as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("The paper ballot is recorded, marked as entered by the clerk.")
            if clerk
            else _("Your ballot is handed in. You may change it until the round closes."),
        )
    return _back(round_)


@require_POST
def round_close_view(request, slug, pk):
    round_ = _round(request, slug, pk)
    form = CloseForm(request.POST)
    try:
        if not request.user.has_perm("voting.close_early", round_.community):
            raise NotAllowed(_("Only the clerk can close a round."))
        if not form.is_valid():
            raise InvalidMove(
                form_refusal(form, _("Say why the round closes early; the reason is published."))
            )
        services.round_close(actor=request.user, round_=round_, reason=form.cleaned_data["reason"])
    except (InvalidMove, NotAllowed) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The round is closed."))
    return _back(round_)
