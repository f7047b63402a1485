"""What the disclosure app adds to council's and proposals' hooks (``council.hooks``)."""

from council import hooks

from .panels import proposal_disclosure_panel
from .search import disclosure_documents
from .selectors import personal_data_of
from .services import disclosure_tick
from .services.labels import ACTION_LABELS

hooks.register("evidence_action_labels", lambda: ACTION_LABELS)
hooks.register("minute_jobs", disclosure_tick)
hooks.register("proposal_panels", proposal_disclosure_panel)
hooks.register("personal_data_sections", lambda user: {"disclosure": personal_data_of(user)})
hooks.register("search_documents", disclosure_documents)


# Demo projects go through implementation, completion and evaluation for real.
hooks.register_lazy("demo_deciders", "disclosure.demo.deciders")
