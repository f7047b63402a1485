"""What the voting app adds to council's and proposals' hooks (``council.hooks``)."""

from council import hooks

from . import selectors
from .home import awaiting_vote_section
from .panels import proposal_voting_panel
from .selectors.personal_data import personal_data_of
from .services import voting_tick
from .services.labels import ACTION_LABELS, ACTORS_BY_ROLE_ONLY
from .steps import proposal_deadlines

hooks.register("evidence_action_labels", lambda: ACTION_LABELS)
# A secret ballot's "voted" is shown by role only.
hooks.register("evidence_actors_by_role_only", lambda: ACTORS_BY_ROLE_ONLY)
hooks.register(
    "evidence_object_names",
    lambda: {
        "voting.ballot": selectors.evidence_names_of_ballots,
        "voting.meeting": selectors.evidence_names_of_meetings,
        "voting.round": selectors.evidence_names_of_rounds,
        "voting.envelope": selectors.evidence_names_of_envelopes,
    },
)
hooks.register("minute_jobs", voting_tick)
hooks.register("proposal_panels", proposal_voting_panel)
hooks.register("personal_data_sections", lambda user: {"voting": personal_data_of(user)})
# A proposal in voting is due when its ballot closes; members see what awaits their vote first.
hooks.register("proposal_deadlines", proposal_deadlines)
hooks.register("home_sections", awaiting_vote_section, order=10)


# Demo proposals are approved or rejected by a real ballot of the demo council.
hooks.register_lazy("demo_deciders", "voting.demo.deciders")
