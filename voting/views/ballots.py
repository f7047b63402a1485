"""Ballot pages: the council page, awaiting my vote, open a ballot, vote, the clerk's tools.

Ballots are public (a council vote is a public act); the forms are for members and clerks.
A refusal by a service becomes a message on the page — a form error or a flash after a
redirect — never an error page.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from council.access import access_community
from council.deadlines import is_due
from council.errors import InvalidMove, NotAllowed
from council.params import whole_number
from council.selectors import council_seats
from council.validators import form_refusal

from .. import selectors, services
from ..forms.ballots import (
    BallotOpenForm,
    ClerkVoteForm,
    CloseForm,
    HandCountForm,
    RecusalForm,
    VoteForm,
)


def _fresh(slug, pk):
    """The ballot for its page, closed first if its time has passed (the scheduler does it
    too, every minute): a page never shows a stale "open"."""
    ballot = selectors.ballot_for_page(slug, pk)
    if ballot is not None and is_due(ballot):
        services.ballot_close_if_due(ballot)
        ballot = selectors.ballot_for_page(slug, pk)
    return ballot


def _ballot(request, slug, pk):
    # Ballots are public, like their community: one query finds both, and a missing community
    # is a 404 as a missing ballot is.
    ballot = _fresh(slug, pk)
    if ballot is None:
        raise Http404
    return ballot


def _back(ballot):
    return redirect("ballot", slug=ballot.community.slug, pk=ballot.pk)


def council_page(request, slug):
    """The council: seats, rules, money of the year, meetings, ballots and rounds."""
    community = access_community(request.user, slug)
    return render(
        request,
        "voting/council.html",
        {
            "community": community,
            "seats": council_seats(community),
            "money": selectors.money_of_year(community),
            "is_clerk": request.user.has_perm("voting.see_clerk_tools", community),
            **selectors.council_overview(community),
        },
    )


@login_required
def awaiting(request):
    """Awaiting my vote: open ballots and rounds where I may vote and have not."""
    return render(request, "voting/awaiting.html", selectors.awaiting_for(request.user))


def ballot_new(request, slug, pk):
    """The clerk opens a ballot on a proposal in voting."""
    community = access_community(request.user, slug, "voting.open_ballot")
    proposal = selectors.proposal_of(community, pk)
    if proposal is None:
        raise Http404
    meetings = selectors.meetings_open_for(community)
    form = BallotOpenForm(request.POST or None, meetings=meetings)
    meeting = whole_number(request.GET.get("meeting"), minimum=1)
    if request.method == "GET" and meeting is not None:
        form.fields["meeting"].initial = meeting
    if request.method == "POST" and form.is_valid():
        try:
            ballot = services.ballot_open(
                actor=request.user,
                proposal=proposal,
                closes_at=form.cleaned_data["closes_at"],
                meeting=form.cleaned_data["meeting"],
            )
        except (InvalidMove, NotAllowed) as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The ballot is open; the members are notified."))
            return _back(ballot)
    return render(
        request,
        "voting/ballot_form.html",
        {"community": community, "proposal": proposal, "form": form},
        status=400 if form.errors else 200,
    )


def _vote_context(request, ballot, *, form=None, outcome=None) -> dict:
    user = request.user
    votes = selectors.ballot_votes(ballot, user)
    shows_running_count = (
        ballot.is_open and not ballot.is_secret and ballot.board_shows_running_count
    )
    return {
        "ballot": ballot,
        "community": ballot.community,
        "tally": votes.tally,
        # 「还需 N 票」 tells the yes votes so far: shown only where the ballot's copied rules
        # let a running count be shown (a roll-call ballot whose council allows it, as on the
        # meeting board). Otherwise the page shows how many took part and nothing of how.
        "shows_running_count": shows_running_count,
        "yes_still_needed": votes.tally.yes_still_needed if shows_running_count else None,
        "lines": votes.lines,
        "my_vote": votes.my_vote,
        # The member's own receipt: read for the signed-in user only, never for anyone else.
        "my_receipt": votes.my_receipt,
        "can_vote": ballot.is_open and user.has_perm("voting.vote", ballot),
        "vote_form": form or VoteForm(),
        "outcome": outcome,
    }


def private_if_receipt(response, context):
    """A page that shows its reader's receipt is kept by no cache, shared or not."""
    if context.get("my_receipt"):
        add_never_cache_headers(response)
    return response


def ballot_detail(request, slug, pk):
    ballot = _ballot(request, slug, pk)
    if request.htmx and request.GET.get("part") == "count":
        # What an open page polls every 10 s: how many voted and, where shown, 「还需 N 票」.
        return render(
            request, "voting/ballot_detail.html#live_count", _vote_context(request, ballot)
        )
    user = request.user
    is_clerk = user.has_perm("voting.see_clerk_tools", ballot.community)
    context = _vote_context(request, ballot)
    context.update(
        {
            "opinions": selectors.expert_opinions(ballot.proposal),
            "published": selectors.ballot_list(ballot),
            "is_clerk": is_clerk,
            "is_member_here": user.has_perm("voting.sign_in", ballot.community),
        }
    )
    if is_clerk and ballot.is_open:
        context["clerk_form"] = ClerkVoteForm(members=selectors.ballot_voters(ballot))
        context["hands_form"] = HandCountForm()
        context["close_form"] = CloseForm()
    return private_if_receipt(render(request, "voting/ballot_detail.html", context), context)


@require_POST
def ballot_vote(request, slug, pk):
    """Cast or change my vote; htmx swaps the vote box, a plain POST redirects back."""
    ballot = _ballot(request, slug, pk)
    form = VoteForm(request.POST)
    outcome = None
    if not request.user.is_authenticated:
        outcome = ("error", _("Sign in to vote."))
    elif form.is_valid():
        try:
            services.vote_cast(
                actor=request.user, ballot=ballot, choice=form.cleaned_data["choice"]
            )
            outcome = (
                "success",
                _("Your vote is recorded. You may change it until the ballot closes."),
            )
            form = None
        except (InvalidMove, NotAllowed) as error:
            outcome = ("error", str(error))
    else:
        outcome = ("error", _("Choose yes, no or abstain."))
    if not request.htmx:
        getattr(messages, outcome[0])(request, outcome[1])
        return _back(ballot)
    if outcome[0] == "error":
        # Refused: perhaps closed meanwhile (by the clock, the clerk or the scheduler), which
        # the page must show. A vote changes no field of the ballot itself, so after a vote
        # the ballot read above is still what the page shows.
        ballot = _fresh(slug, pk) or ballot
    context = _vote_context(request, ballot, form=form, outcome=outcome)
    # The vote box, and the list of members swapped out of band: the voter's row shows their
    # vote without a reload.
    html = render_to_string("voting/ballot_detail.html#vote_box", context, request=request)
    html += render_to_string(
        "voting/ballot_detail.html#members", {**context, "oob": True}, request=request
    )
    return private_if_receipt(HttpResponse(html), context)


def _clerk_post(request, slug, pk, perm, act):
    ballot = _ballot(request, slug, pk)
    if not request.user.has_perm(perm, ballot.community):
        messages.error(request, _("Only the clerk can do this."))
        return _back(ballot)
    try:
        message = act(ballot)
    except (InvalidMove, NotAllowed) as error:
        messages.error(request, str(error))
    else:
        if message:
            messages.success(request, message)
    return _back(ballot)


@require_POST
def ballot_record(request, slug, pk):
    """The clerk records a member's show-of-hands vote (roll-call ballots)."""

    def act(ballot):
        form = ClerkVoteForm(request.POST, members=selectors.ballot_voters(ballot))
        if not form.is_valid():
            raise InvalidMove(_("Choose a member on the list and their vote."))
        services.vote_record_by_clerk(
            actor=request.user,
            ballot=ballot,
            member=form.cleaned_data["member"],
            choice=form.cleaned_data["choice"],
        )
        return _("Recorded, marked as entered by the clerk.")

    return _clerk_post(request, slug, pk, "voting.record_paper_vote", act)


@require_POST
def ballot_hands(request, slug, pk):
    """The clerk records show-of-hands totals (secret ballots)."""

    def act(ballot):
        form = HandCountForm(request.POST)
        if not form.is_valid():
            raise InvalidMove(_("Enter the three totals as whole numbers, zero or more."))
        services.hand_count_record(actor=request.user, ballot=ballot, **form.cleaned_data)
        return _("The totals are recorded.")

    return _clerk_post(request, slug, pk, "voting.record_hand_count", act)


@require_POST
def ballot_close_view(request, slug, pk):
    """The clerk closes the ballot early, with a reason."""

    def act(ballot):
        form = CloseForm(request.POST)
        if not form.is_valid():
            raise InvalidMove(
                form_refusal(form, _("Say why the ballot closes early; the reason is published."))
            )
        ballot = services.ballot_close(
            actor=request.user, ballot=ballot, reason=form.cleaned_data["reason"]
        )
        return _("The ballot is closed: %(outcome)s.") % {"outcome": ballot.get_outcome_display()}

    return _clerk_post(request, slug, pk, "voting.close_early", act)


@require_POST
def recusal(request, slug, pk):
    """A member declares a conflict of interest on a proposal."""
    community = access_community(request.user, slug)
    proposal = selectors.public_proposal(community, pk)
    if proposal is None:
        raise Http404
    form = RecusalForm(request.POST)
    try:
        if not request.user.is_authenticated:
            raise NotAllowed(_("Sign in first."))
        if not form.is_valid():
            raise InvalidMove(
                form_refusal(form, _("Say what the conflict of interest is; it is published."))
            )
        services.recusal_declare(
            actor=request.user, proposal=proposal, reason=form.cleaned_data["reason"]
        )
    except (InvalidMove, NotAllowed) as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, _("Your conflict of interest is recorded: you do not vote on this proposal.")
        )
    return redirect(reverse("proposal", args=[community.slug, proposal.pk]))
