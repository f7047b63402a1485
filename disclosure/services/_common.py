"""What every disclosure service shares: the canonical content and its hash, the one draft
per (project, kind), and the roles its acts are recorded in."""

from __future__ import annotations

import hashlib
from decimal import Decimal

from django.utils import translation
from django.utils.formats import date_format
from django.utils.timezone import localtime

from council import clock
from council.errors import NotAllowed
from council.evidence.entries import canonical_json
from council.models import RoleKind
from proposals.models import Proposal

from ..models import Disclosure, DisclosureStatus

OFFICIAL_LANGUAGE = "zh-hans"  # the official record is the Chinese text (DESIGN.md)


def content_sha256(content: dict) -> str:
    """SHA-256 (hex) of the content's canonical JSON (``council.evidence.entries.
    canonical_json``: UTF-8, keys sorted, no spaces), the bytes every published hash was taken
    over."""
    return hashlib.sha256(canonical_json(content)).hexdigest()


def official():
    """Draft in the official language, whatever the actor's page speaks."""
    return translation.override(OFFICIAL_LANGUAGE)


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def day(moment) -> str:
    return date_format(localtime(moment), "Y-m-d") if moment else ""


# The role a disclosure act is recorded in (``council.evidence.evidence_record``): the first
# of these the actor holds in the project's community (staff publish and answer, residents
# object and evaluate).
ACTORS = (RoleKind.STAFF, RoleKind.RESIDENT, RoleKind.COUNCIL_MEMBER)


def require_staff(actor, perm: str, community, message: str) -> None:
    """Refuse (``message``) unless ``actor`` holds the staff permission ``perm`` here."""
    if actor is None or not actor.has_perm(perm, community):
        raise NotAllowed(message)


def latest_published(proposal: Proposal, kind: str) -> Disclosure | None:
    return (
        Disclosure.objects.filter(proposal=proposal, kind=kind, status=DisclosureStatus.PUBLISHED)
        .order_by("-version")
        .first()
    )


def draft_save(
    *,
    proposal: Proposal,
    kind: str,
    title: str,
    content: dict,
    ballot=None,
    note: str = "",
    is_correction: bool = False,
) -> Disclosure:
    """Create, or bring up to date, the one draft of ``proposal``'s ``kind`` disclosure: the
    version after the last published one, pointing to it. Published versions are never
    touched here (nor anywhere else)."""
    previous = latest_published(proposal, kind)
    version = previous.version + 1 if previous else 1
    draft = (
        Disclosure.objects.select_for_update()
        .filter(proposal=proposal, kind=kind, status=DisclosureStatus.DRAFT)
        .first()
    )
    if draft is None:
        draft = Disclosure(proposal=proposal, community_id=proposal.community_id, kind=kind)
    draft.version = version
    draft.previous = previous
    draft.title = title
    draft.content = content
    draft.ballot = ballot
    # Refreshing a drafted correction (a new progress update, an answered objection) keeps
    # it a correction, with its note.
    draft.note = note or (draft.note if draft.pk else "")
    draft.is_correction = is_correction or (draft.is_correction if draft.pk else False)
    draft.drafted_at = clock.now()
    draft.save()
    return draft
