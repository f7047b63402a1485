"""What the disclosure app adds to council's and proposals' hooks (``council.hooks``)."""

from council import hooks

from . import selectors
from .home import awaiting_evaluation_section
from .panels import proposal_disclosure_panel
from .search import disclosure_documents
from .selectors import personal_data_of
from .services import disclosure_tick, statistics_refresh_after
from .services.labels import ACTION_LABELS
from .steps import proposal_deadlines

hooks.register("evidence_action_labels", lambda: ACTION_LABELS)
hooks.register(
    "evidence_object_names",
    lambda: {
        "disclosure.disclosure": selectors.evidence_names_of_disclosures,
        "disclosure.objection": selectors.evidence_names_of_objections,
        "disclosure.progressupdate": selectors.evidence_names_of_progress_updates,
        "disclosure.completion": selectors.evidence_names_of_completions,
        "disclosure.evaluationwindow": selectors.evidence_names_of_evaluation_windows,
        "disclosure.provider": selectors.evidence_names_of_providers,
    },
)
hooks.register("minute_jobs", disclosure_tick)
# Each community's statistics are refreshed once an act that changes them commits.
hooks.register("evidence_recorded", statistics_refresh_after)
hooks.register("evidence_documents", selectors.evidence_document_seq)
hooks.register("proposal_panels", proposal_disclosure_panel)
hooks.register("personal_data_sections", lambda user: {"disclosure": personal_data_of(user)})
# An approved project is due when its publicity period ends, a completed one when its
# evaluation window closes; residents see what awaits their evaluation near the top.
hooks.register("proposal_deadlines", proposal_deadlines)
hooks.register("home_sections", awaiting_evaluation_section, order=20)
hooks.register("search_documents", disclosure_documents)


# Demo projects go through implementation, completion and evaluation for real.
hooks.register_lazy("demo_deciders", "disclosure.demo.deciders")
