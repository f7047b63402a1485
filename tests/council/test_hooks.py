"""``council.hooks``: how the apps above council add to what it does, in a fixed order, and
without loading demo code when the site starts."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from council import hooks
from council.notifications import email_tick
from council.scheduler import log_tick
from disclosure.panels import proposal_disclosure_panel
from disclosure.services import disclosure_tick
from voting.panels import proposal_voting_panel
from voting.services import voting_tick

ROOT = Path(__file__).resolve().parents[2]

HOOK_NAMES = [
    "evidence_action_labels",
    "evidence_actors_by_role_only",
    "evidence_object_names",
    "minute_jobs",
    "proposal_panels",
    "proposal_deadlines",
    "home_sections",
    "followed_threads",
    "personal_data_sections",
    "personal_data_erasers",
    "demo_deciders",
]

# What a server process does before its first request: the ASGI application (Django set up),
# every route's view imported, every app's hooks found.
START_UP = f"""
import json, sys
import config.asgi
from django.urls import get_resolver
get_resolver().url_patterns
from council import hooks
for name in {HOOK_NAMES!r}:
    hooks.get_hooks(name)
print(json.dumps(sorted(sys.modules)))
"""


@pytest.fixture
def hook_name():
    """A hook of the test's own, forgotten afterwards."""
    name = "test_hook"
    yield name
    hooks._hooks.pop(name, None)


def test_starting_the_site_imports_no_demo_module():
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": "1"})
    result = subprocess.run(
        [sys.executable, "-c", START_UP],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    modules = json.loads(result.stdout)
    assert {"council.weishi_hooks", "voting.weishi_hooks", "disclosure.weishi_hooks"} <= set(
        modules
    )
    assert [m for m in modules if m == "demo" or m.endswith(".demo")] == []


def test_a_hook_is_registered_directly_or_as_a_decorator_and_returned_by_order(hook_name):
    def first():
        pass

    def second():
        pass

    @hooks.register(hook_name, order=-1)
    def before():
        pass

    hooks.register(hook_name, first)
    hooks.register(hook_name, second)
    assert hooks.get_hooks(hook_name) == [before, first, second]
    assert hooks.get_hooks("no_such_hook") == []


def test_minute_jobs_send_email_after_every_other_job():
    assert hooks.get_hooks("minute_jobs") == [log_tick, voting_tick, disclosure_tick, email_tick]


def test_the_proposal_page_shows_voting_before_disclosure():
    assert hooks.get_hooks("proposal_panels") == [proposal_voting_panel, proposal_disclosure_panel]


def test_a_persons_own_page_shows_what_awaits_them_before_what_they_did():
    sections = [hook.__name__ for hook in hooks.get_hooks("home_sections")]
    assert sections == [
        "awaiting_vote_section",
        "awaiting_evaluation_section",
        "my_proposals_section",
        "my_cosigns_section",
        "followed_threads_section",
        "notifications_section",
    ]


def test_every_hook_is_documented_in_the_hooks_module():
    for name in HOOK_NAMES:
        assert f"``{name}``" in hooks.__doc__


def test_every_app_labels_its_evidence_actions():
    from council.models import action_labels

    labels = action_labels()
    for action in ("role.assigned", "thread.message_posted", "proposal.cosigned", "vote.cast"):
        assert action in labels
    assert "proposal.approve" in labels  # a lifecycle move, labelled as the move


def test_a_lazy_hook_calls_the_function_its_dotted_path_names(hook_name):
    hooks.register_lazy(hook_name, "voting.receipts.receipt_shown")
    [hook] = hooks.get_hooks(hook_name)
    assert hook("ABCDEFGH") == "ABCD-EFGH"


def test_a_personal_data_export_has_the_councils_sections_first_then_each_app_in_turn():
    apps = [hook.__module__ for hook in hooks.get_hooks("personal_data_sections")]
    assert apps == [
        "council.weishi_hooks",
        "proposals.weishi_hooks",
        "voting.weishi_hooks",
        "disclosure.weishi_hooks",
    ]
