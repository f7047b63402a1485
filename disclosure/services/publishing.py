"""Drafting and publishing disclosures; the decision's publicity period and its objections.

Every disclosure is drafted automatically (decisions from closed ballots and rounds by the
minute job, implementation from progress updates, results when the evaluation window
closes) and published by staff. Publishing seals it: the SHA-256 of its canonical content and
the evidence log's head hash go into the row and onto its PDF, and no service changes a
published row again. A correction is a new version pointing to the one it corrects.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from council import clock
from council.errors import InvalidMove, NotAllowed
from council.evidence import evidence_record, log_head
from council.files import stored_file_save, stored_files_atomic
from council.models import Council
from council.notifications import notify_on_commit
from council.sanitiser import render_plain
from council.validators import refuse_line_breaks
from proposals.lifecycle import Move, proposal_move
from proposals.models import Proposal, Stage
from proposals.notify import proposal_audience
from voting.models import Ballot, BallotStatus, Outcome, RoundProject

from .. import content as build
from ..models import Disclosure, DisclosureStatus, Kind, Objection
from ..search import disclosure_index
from ._common import (
    ACTORS,
    content_sha256,
    draft_save,
    latest_published,
    official,
    require_staff,
)


def _title(kind: str, proposal: Proposal) -> str:
    with official():
        return f"{proposal.title} · {Kind(kind).label}"


def _decision_content(disclosure_or_proposal) -> dict | None:
    """The decision content of a proposal from what decided it, with every objection lodged
    against any published version so far."""
    proposal = disclosure_or_proposal
    published = list(
        Disclosure.objects.filter(
            proposal=proposal, kind=Kind.DECISION, status=DisclosureStatus.PUBLISHED
        ).values_list("pk", flat=True)
    )
    ballot = (
        Ballot.objects.filter(proposal=proposal, status=BallotStatus.CLOSED)
        .exclude(outcome=Outcome.INVALID)
        .order_by("-closed_at")
        .first()
    )
    if ballot is not None:
        return build.decision_from_ballot(ballot, published), ballot
    rp = (
        RoundProject.objects.filter(proposal=proposal, round__status=BallotStatus.CLOSED)
        .exclude(funded__isnull=True)
        .select_related("round", "proposal")
        .order_by("-round__closed_at")
        .first()
    )
    if rp is not None:
        return build.decision_from_round(rp.round, rp, published), None
    if proposal.stage == Stage.INADMISSIBLE:
        return build.inadmissible(proposal), None
    return None, None


def decision_draft(proposal: Proposal, *, note: str = "", is_correction: bool = False):
    """Draft (or refresh the draft of) a proposal's decision disclosure; None if nothing has
    decided it yet."""
    content, ballot = _decision_content(proposal)
    if content is None:
        return None
    return draft_save(
        proposal=proposal,
        kind=Kind.DECISION,
        title=_title(Kind.DECISION, proposal),
        content=content,
        ballot=ballot,
        note=note,
        is_correction=is_correction,
    )


def decisions_draft_due() -> int:
    """Draft disclosure 1 for every decided proposal that has none yet (minute job): closed
    ballots and rounds, inadmissible proposals."""
    decided = (
        Proposal.objects.filter(stage__in=Stage.VERDICTS)
        .exclude(disclosures__kind=Kind.DECISION)
        .select_related("community", "proposer")
    )
    drafted = 0
    for proposal in decided:
        with transaction.atomic():
            if decision_draft(proposal) is not None:
                drafted += 1
    return drafted


def _render_pdf(disclosure: Disclosure) -> bytes:
    from ..pdf import disclosure_pdf

    return disclosure_pdf(disclosure)


@stored_files_atomic()
def disclosure_publish(*, actor, disclosure: Disclosure) -> Disclosure:
    """Publish a draft, as staff: seal its content hash and the evidence head, render its
    official PDF, start a decision's publicity period, tell the project's audience.
    ``StoreUnavailable`` (nothing published) if the file store cannot take the PDF."""
    disclosure = (
        Disclosure.objects.select_for_update()
        .select_related("proposal__community", "community")
        .get(pk=disclosure.pk)
    )
    community = disclosure.community
    require_staff(
        actor, "disclosure.publish", community, _("Only the community's staff publish disclosures.")
    )
    if disclosure.status != DisclosureStatus.DRAFT:
        raise InvalidMove(_("This disclosure is published already; it never changes."))
    now = clock.now()
    disclosure.content_sha256 = content_sha256(disclosure.content)
    disclosure.status = DisclosureStatus.PUBLISHED
    disclosure.published_at = now
    disclosure.published_by = actor
    if disclosure.previous is not None and disclosure.previous.publicity_ends_at:
        # A later version (objections added, a correction) keeps the period already running.
        disclosure.publicity_ends_at = disclosure.previous.publicity_ends_at
    elif disclosure.kind == Kind.DECISION and disclosure.content.get("approved"):
        days = (
            Council.objects.filter(community=community)
            .values_list("publicity_days", flat=True)
            .first()
            or 5
        )
        disclosure.publicity_ends_at = now + dt.timedelta(days=days)
    # The log's root as the disclosure is published, printed on the PDF: the log up to it is
    # sealed on paper. The publication's own entry (with the PDF's SHA-256) follows it.
    disclosure.evidence_head = log_head()[1].hex()
    pdf = _render_pdf(disclosure)
    disclosure.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    stored_file_save(
        disclosure.pdf,
        f"{disclosure.community.slug}-{disclosure.proposal_id}-{disclosure.kind}-"
        f"v{disclosure.version}.pdf",
        ContentFile(pdf),
    )
    disclosure.save()
    disclosure_index(disclosure)
    disclosure.published_event = evidence_record(
        actor=actor,
        roles=ACTORS,
        action="disclosure.published",
        obj=disclosure,
        community=community,
        payload={
            "proposal": disclosure.proposal_id,
            "kind": disclosure.kind,
            "version": disclosure.version,
            "content_sha256": disclosure.content_sha256,
            "evidence_head": disclosure.evidence_head,
            "pdf_sha256": disclosure.pdf_sha256,
            "previous": disclosure.previous_id,
        },
    )
    disclosure.save(update_fields=["published_event"])
    proposal = disclosure.proposal
    label, title = disclosure.get_kind_display(), proposal.title
    notify_on_commit(
        [u for u in proposal_audience(proposal) if u.pk != actor.pk],
        lambda: _("“%(title)s”: %(kind)s published.") % {"title": title, "kind": label},
        reverse("disclosure", args=[disclosure.pk]),
    )
    return disclosure


@transaction.atomic
def disclosure_correct(*, actor, disclosure: Disclosure, note: str) -> Disclosure:
    """Draft a correction of a published disclosure: a new version, drafted afresh from the
    records (corrected at their source), pointing to it, with a public note."""
    disclosure = Disclosure.objects.select_related("proposal", "community").get(pk=disclosure.pk)
    require_staff(
        actor,
        "disclosure.correct",
        disclosure.community,
        _("Only the community's staff correct disclosures."),
    )
    latest = latest_published(disclosure.proposal, disclosure.kind)
    if disclosure.status != DisclosureStatus.PUBLISHED or latest.pk != disclosure.pk:
        raise InvalidMove(_("Only the latest published version can be corrected."))
    if not note.strip():
        raise InvalidMove(_("Say what the correction changes; the note is published."))
    refuse_line_breaks(note)
    redraft = {
        Kind.DECISION: lambda p: decision_draft(p, note=note.strip(), is_correction=True),
        Kind.IMPLEMENTATION: lambda p: implementation_draft(
            p, note=note.strip(), is_correction=True
        ),
        Kind.RESULT: lambda p: result_draft(p, note=note.strip(), is_correction=True),
    }[disclosure.kind]
    draft = redraft(disclosure.proposal)
    evidence_record(
        actor=actor,
        roles=ACTORS,
        action="disclosure.correction_drafted",
        obj=draft,
        community=disclosure.community,
        payload={"corrects": disclosure.pk, "note": note.strip()[:300]},
    )
    return draft


def implementation_draft(proposal: Proposal, *, note: str = "", is_correction: bool = False):
    return draft_save(
        proposal=proposal,
        kind=Kind.IMPLEMENTATION,
        title=_title(Kind.IMPLEMENTATION, proposal),
        content=build.implementation(proposal),
        note=note,
        is_correction=is_correction,
    )


def result_draft(proposal: Proposal, *, note: str = "", is_correction: bool = False):
    return draft_save(
        proposal=proposal,
        kind=Kind.RESULT,
        title=_title(Kind.RESULT, proposal),
        content=build.result(proposal.evaluation_window),
        note=note,
        is_correction=is_correction,
    )


# --- The publicity period (公示期) and objections (异议) ------------------------------------


def _in_publicity(disclosure: Disclosure) -> bool:
    return disclosure.publicity_ends_at is not None and clock.now() < disclosure.publicity_ends_at


@transaction.atomic
def objection_lodge(*, actor, disclosure: Disclosure, text: str) -> Objection:
    """A resident of the community lodges an objection during the publicity period."""
    disclosure = Disclosure.objects.select_related("community", "proposal").get(pk=disclosure.pk)
    if actor is None or not actor.has_perm("disclosure.object", disclosure.community):
        raise NotAllowed(
            _("Only residents of %(community)s can lodge an objection.")
            % {"community": disclosure.community}
        )
    if disclosure.kind != Kind.DECISION or not _in_publicity(disclosure):
        raise InvalidMove(_("Objections are taken only during a decision's publicity period."))
    text = text.strip()
    if not text:
        raise InvalidMove(_("Write your objection."))
    if len(text) > 2000:
        raise InvalidMove(_("An objection is at most 2,000 characters."))
    objection = Objection.objects.create(
        disclosure=disclosure, author=actor, text=text, text_html=render_plain(text)
    )
    evidence_record(
        actor=actor,
        roles=ACTORS,
        action="objection.lodged",
        obj=objection,
        community=disclosure.community,
        payload={"disclosure": disclosure.pk},
    )
    staff = [
        r.user
        for r in disclosure.community.roles.filter(kind="staff", status="active").select_related(
            "user"
        )
    ]
    title = disclosure.proposal.title
    notify_on_commit(
        staff,
        lambda: (
            _("An objection to the decision on “%(title)s” awaits your answer.") % {"title": title}
        ),
        reverse("disclosure", args=[disclosure.pk]),
    )
    return objection


@transaction.atomic
def objection_answer(*, actor, objection: Objection, answer: str) -> Objection:
    """Staff answer an objection publicly; the decision's next version is drafted with every
    objection and answer so far."""
    objection = (
        Objection.objects.select_for_update()
        .select_related("disclosure__community", "disclosure__proposal")
        .get(pk=objection.pk)
    )
    community = objection.disclosure.community
    require_staff(
        actor,
        "disclosure.answer_objection",
        community,
        _("Only the community's staff answer objections."),
    )
    if objection.answered_at is not None:
        raise InvalidMove(_("This objection has been answered; the answer is published."))
    answer = answer.strip()
    if not answer:
        raise InvalidMove(_("Write the answer; it is published."))
    objection.answer = answer
    objection.answer_html = render_plain(answer)
    objection.answered_by = actor
    objection.answered_at = clock.now()
    objection.save()
    evidence_record(
        actor=actor, roles=ACTORS, action="objection.answered", obj=objection, community=community
    )
    with official():
        note = _("Adds the objections lodged in the publicity period and their answers.")
    decision_draft(objection.disclosure.proposal, note=note)
    notify_on_commit(
        [objection.author],
        lambda: _("Your objection has been answered."),
        reverse("disclosure", args=[objection.disclosure_id]),
    )
    return objection


def unanswered_objections(proposal: Proposal) -> int:
    return Objection.objects.filter(disclosure__proposal=proposal, answered_at__isnull=True).count()


def implementations_start_due() -> int:
    """Move approved projects to in progress once their decision's publicity period has ended
    with every objection answered (minute job). The system acts, on the decision's basis."""
    started = 0
    now = clock.now()
    candidates = (
        Disclosure.objects.filter(
            kind=Kind.DECISION,
            status=DisclosureStatus.PUBLISHED,
            publicity_ends_at__lte=now,
            proposal__stage=Stage.APPROVED,
        )
        .select_related("proposal")
        .order_by("proposal_id", "-version")
    )
    seen = set()
    for disclosure in candidates:
        # A decision answered in its period has several published versions: the latest is
        # the basis, and the project starts once.
        if disclosure.proposal_id in seen:
            continue
        seen.add(disclosure.proposal_id)
        if unanswered_objections(disclosure.proposal):
            continue
        with transaction.atomic():
            proposal_move(
                actor=None,
                proposal=disclosure.proposal,
                move=Move.START,
                basis=disclosure,
            )
        started += 1
    return started


__all__ = [
    "decision_draft",
    "decisions_draft_due",
    "disclosure_correct",
    "disclosure_publish",
    "implementation_draft",
    "implementations_start_due",
    "objection_answer",
    "objection_lodge",
    "result_draft",
    "unanswered_objections",
]
