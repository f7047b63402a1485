from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VotingConfig(AppConfig):
    name = "voting"
    verbose_name = _("Voting")

    def ready(self):
        from council.models import ACTION_LABELS, ACTORS_BY_ROLE_ONLY
        from council.personal_data import personal_data_section_register
        from council.scheduler import minute_job_register
        from proposals import demo as proposals_demo
        from proposals.panels import panel_register

        from .demo import deciders
        from .panels import proposal_voting_panel
        from .selectors.personal_data import personal_data_of
        from .services import voting_tick
        from .services.labels import ACTION_LABELS as VOTING_ACTIONS
        from .services.labels import ACTORS_BY_ROLE_ONLY as SECRET_ACTS

        # The public evidence log reads what each voting action means from council's table,
        # and which of them it shows by role only (a secret ballot's "voted").
        ACTION_LABELS.update(VOTING_ACTIONS)
        ACTORS_BY_ROLE_ONLY.update(SECRET_ACTS)
        panel_register(proposal_voting_panel)
        minute_job_register(voting_tick)
        personal_data_section_register("voting", personal_data_of)
        # Demo proposals are approved or rejected by a real ballot of the demo council.
        for move, decider in deciders().items():
            proposals_demo.demo_decider_register(move, decider)
