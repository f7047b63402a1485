"""What the disclosure app tells a proposal's stepper (the ``proposal_deadlines`` hook): an
approved project is due when its decision's publicity period ends; a completed one when its
evaluation window closes."""

from __future__ import annotations

from django.utils.translation import gettext as _

from proposals.models import Stage

from .models import Disclosure, DisclosureStatus, EvaluationWindow, Kind


def proposal_deadlines(proposals) -> dict[int, dict]:
    """Two queries at most, whatever the number of proposals."""
    approved = [p.pk for p in proposals if p.stage == Stage.APPROVED]
    completed = [p.pk for p in proposals if p.stage == Stage.COMPLETED]
    found: dict[int, dict] = {}
    if approved:
        for pk in approved:
            found[pk] = {"next": _("Staff publish the decision; a publicity period follows, in "
                                   "which residents may object.")}  # fmt: skip
        for pk, ends in (
            Disclosure.objects.filter(
                proposal_id__in=approved,
                kind=Kind.DECISION,
                status=DisclosureStatus.PUBLISHED,
                publicity_ends_at__isnull=False,
            )
            .order_by("proposal_id", "version")
            .values_list("proposal_id", "publicity_ends_at")
        ):
            found[pk] = {"by": ends}  # the latest version's, last
    if completed:
        for pk, closes in EvaluationWindow.objects.filter(
            proposal_id__in=completed, closed_at__isnull=True
        ).values_list("proposal_id", "closes_at"):
            found[pk] = {"by": closes}
    return found
