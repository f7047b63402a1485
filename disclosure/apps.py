from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisclosureConfig(AppConfig):
    name = "disclosure"
    verbose_name = _("Disclosure")

    def ready(self):
        from council.models import ACTION_LABELS
        from council.personal_data import personal_data_section_register
        from council.scheduler import minute_job_register
        from proposals import demo as proposals_demo
        from proposals.panels import panel_register

        from .demo import deciders
        from .panels import proposal_disclosure_panel
        from .selectors import personal_data_of
        from .services import disclosure_tick
        from .services.labels import ACTION_LABELS as DISCLOSURE_ACTIONS

        # The public evidence log reads what each disclosure action means from council's table.
        ACTION_LABELS.update(DISCLOSURE_ACTIONS)
        minute_job_register(disclosure_tick)
        panel_register(proposal_disclosure_panel)
        personal_data_section_register("disclosure", personal_data_of)
        # Demo projects go through implementation, completion and evaluation for real.
        for move, decider in deciders().items():
            proposals_demo.demo_decider_register(move, decider)
