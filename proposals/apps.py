from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProposalsConfig(AppConfig):
    name = "proposals"
    verbose_name = _("Proposals")

    def ready(self):
        # The public evidence log reads what each proposal action means from council's table.
        from council.models import ACTION_LABELS

        from .lifecycle import TRANSITIONS
        from .services import ACTION_LABELS as PROPOSAL_ACTIONS

        ACTION_LABELS.update(PROPOSAL_ACTIONS)
        ACTION_LABELS.update({f"proposal.{move}": t.label for move, t in TRANSITIONS.items()})
