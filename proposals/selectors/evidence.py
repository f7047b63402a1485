"""How the evidence log names proposals (``evidence_object_names``, ``council.hooks``)."""

from django.urls import reverse
from django.utils.translation import gettext as _

from council.evidence import ObjectName, object_pks, objects_named

from ..models import Proposal


def proposal_name(proposal: Proposal) -> ObjectName:
    """「提议《更换小区路灯》」, linked to its page; a draft by neither title nor link."""
    if not proposal.is_public:
        return ObjectName(_("a proposal not made public"))
    return ObjectName(
        _("proposal “%(title)s”") % {"title": proposal.title},
        reverse("proposal", args=[proposal.community.slug, proposal.pk]),
    )


def evidence_names_of_proposals(ids) -> dict[str, ObjectName]:
    rows = (
        Proposal.objects.filter(pk__in=object_pks(ids))
        .select_related("community")
        .only("title", "stage", "community__slug")
    )
    return objects_named(ids, rows, proposal_name, _("a proposal since deleted"))
