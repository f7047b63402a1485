"""What each evidence action of the disclosure app means, for the public evidence log."""

from django.utils.translation import gettext_lazy as _

ACTION_LABELS = {
    "disclosure.published": _("published a disclosure"),
    "disclosure.correction_drafted": _("drafted a correction of a disclosure"),
    "objection.lodged": _("lodged an objection"),
    "objection.answered": _("answered an objection"),
    "progress.posted": _("posted a progress update"),
    "completion.recorded": _("recorded completion and the final accounts"),
    "evaluation.window_opened": _("opened the evaluation window"),
    "evaluation.window_closed": _("closed the evaluation window"),
    "evaluation.given": _("evaluated a project"),
    "evaluation.changed": _("changed an evaluation"),
    "evaluation.paper_entered": _("entered a paper evaluation"),
    "provider.created": _("added a provider to the list"),
    "provider.changed": _("changed a provider on the list"),
}
