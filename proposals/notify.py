"""Who hears of what happens to a proposal: the proposer at every move, co-signers when it
moves on, and residents following the proposal or its community."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from council.notifications import notify_on_commit

from .models import Follow, Proposal

User = get_user_model()


def proposal_audience(proposal: Proposal, *, cosigners: bool = True):
    """The proposer, co-signers and followers (of it or its community), in one query."""
    who = Q(pk=proposal.proposer_id) | Q(
        pk__in=Follow.objects.filter(
            Q(proposal=proposal) | Q(community_id=proposal.community_id, proposal__isnull=True)
        ).values("user_id")
    )
    if cosigners:
        who |= Q(cosigns__proposal=proposal)
    return User.objects.filter(who).distinct()


def proposal_moved_notify(proposal: Proposal, label, actor) -> None:
    """Tell the proposal's audience (but the actor) that it moved: ``label`` says how (the
    lazy text of the move, translated for each recipient)."""
    title = proposal.title
    actor_pk = actor.pk if actor is not None else None
    recipients = [u for u in proposal_audience(proposal) if u.pk != actor_pk]
    notify_on_commit(
        recipients,
        lambda: _("“%(title)s”: %(what)s") % {"title": title, "what": label},
        reverse("proposal", args=[proposal.community.slug, proposal.pk]),
    )


def proposal_event_notify(proposal: Proposal, actor, text) -> None:
    """Tell the proposal's audience of something other than a move (a revision, an opinion)."""
    recipients = [u for u in proposal_audience(proposal) if u.pk != actor.pk]
    title = proposal.title
    notify_on_commit(
        recipients,
        lambda: text() % {"title": title},
        reverse("proposal", args=[proposal.community.slug, proposal.pk]),
    )
