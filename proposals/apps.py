from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProposalsConfig(AppConfig):
    name = "proposals"
    verbose_name = _("Proposals")

    def ready(self):
        # The public evidence log reads what each proposal action means from council's table.
        from council.models import ACTION_LABELS
        from council.personal_data import (
            personal_data_eraser_register,
            personal_data_section_register,
        )

        from .lifecycle import TRANSITIONS
        from .selectors import personal_data_of
        from .services import ACTION_LABELS as PROPOSAL_ACTIONS
        from .services import follows_erase

        ACTION_LABELS.update(PROPOSAL_ACTIONS)
        ACTION_LABELS.update({f"proposal.{move}": t.label for move, t in TRANSITIONS.items()})
        # A person's data export has a proposals section; closing an account forgets follows.
        personal_data_section_register("proposals", personal_data_of)
        personal_data_eraser_register(follows_erase)
