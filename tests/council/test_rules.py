"""The rule table: each staff action has its own permission, held by exactly the people it was
held by when one name covered many actions; and every permission the code asks for exists."""

import re
from pathlib import Path

import pytest
import rules

from council.models import Thread
from proposals.lifecycle import TRANSITIONS
from proposals.models import Proposal
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]

# Actions of the community's staff, one name each (they were ``proposals.review``,
# ``voting.clerk``, ``disclosure.publish``, ``council.moderate_thread`` and
# ``council.staff_community``): which sample object each is asked about.
STAFF_ACTIONS = {
    "council.staff_community": "community",
    "council.list_all_residents": "community",
    "council.register_in_any_grid": "community",
    "council.view_reports": "community",
    "council.hide_message": "thread",
    "council.ban_from_posting": "thread",
    "proposals.take_up": "proposal",
    "proposals.record_admissibility": "proposal",
    "proposals.admit": "proposal",
    "proposals.declare_inadmissible": "proposal",
    "proposals.merge": "proposal",
    "proposals.invite_expert": "proposal",
    "proposals.record_feasibility": "proposal",
    "proposals.open_voting": "proposal",
    "proposals.record_decision": "proposal",
    "proposals.start_implementation": "proposal",
    "proposals.complete": "proposal",
    "proposals.close_evaluation": "proposal",
    "voting.see_clerk_tools": "community",
    "voting.open_ballot": "community",
    "voting.record_paper_vote": "community",
    "voting.record_hand_count": "community",
    "voting.close_early": "community",
    "voting.open_round": "community",
    "voting.import_round": "community",
    "voting.record_round_ballot": "community",
    "voting.schedule_meeting": "community",
    "voting.set_agenda": "community",
    "voting.run_meeting": "community",
    "voting.record_attendance": "community",
    "voting.keep_minutes": "community",
    "disclosure.view_staff_queue": "community",
    "disclosure.view_drafts": "community",
    "disclosure.publish": "community",
    "disclosure.correct": "community",
    "disclosure.answer_objection": "community",
    "disclosure.post_progress": "community",
    "disclosure.import_progress": "community",
    "disclosure.record_completion": "community",
    "disclosure.enter_paper_evaluation": "community",
    "disclosure.close_evaluation_early": "community",
}

# Who holds a staff action on an object of community a: its staff, and nobody else but the
# superuser (Django lets an active superuser do everything).
HOLDS = {
    "a_staff": True,
    "b_staff": False,
    "a_resident": False,
    "a_member": False,
    "admin": False,
    "superuser": True,
}


def sample(world, kind):
    if kind == "community":
        return world.a
    if kind == "thread":
        return Thread(community=world.a)
    return Proposal(community=world.a, proposer=world.a_resident.user, title="样本")


@pytest.mark.parametrize("perm", sorted(STAFF_ACTIONS))
def test_each_staff_action_is_held_by_the_communitys_staff_alone(world, perm):
    superuser = UserFactory(username="root", is_superuser=True, is_staff=True)
    obj = sample(world, STAFF_ACTIONS[perm])
    held = {
        who: (superuser if who == "superuser" else world.user(who)).has_perm(perm, obj)
        for who in HOLDS
    }
    assert held == HOLDS


def test_each_staff_move_of_the_lifecycle_has_its_own_permission():
    staff_moves = [t for t in TRANSITIONS.values() if t.acting_roles == ("staff",)]
    names = [t.permission for t in staff_moves]
    # Approve and reject are one action: recording the council's decision.
    assert len(set(names)) == len(names) - 1
    assert set(names) <= set(STAFF_ACTIONS)


# Where the code names a permission: ``has_perm("…")``, ``permission_required``/``change_perm``/
# ``add_perm`` attributes, ``perm=`` arguments, the helpers that take a permission first
# (``require``, ``require_staff``, ``_staff_only``, ``_may``, ``_clerk_post``, ``_project``,
# ``access_community``), and ``{% has_perm "…" %}`` in templates.
PERM = r"""["']((?:council|proposals|voting|disclosure)\.\w+)["']"""
USES = [
    re.compile(r"has_perm\(\s*" + PERM),
    re.compile(r"(?:permission_required|_perm|perm)\s*=\s*" + PERM),
    re.compile(r"(?:require|require_staff|_staff_only)\(\s*\w+,\s*" + PERM),
    re.compile(r"_may\(\s*request,\s*\w+,\s*" + PERM),
    re.compile(r"_clerk_post\(\s*request,\s*slug,\s*pk,\s*" + PERM),
    re.compile(r"_project\(\s*request,\s*slug,\s*pk,\s*" + PERM),
    re.compile(r"access_community\([^()]*,\s*" + PERM),
    re.compile(r"\{%\s*has_perm\s+" + PERM),
]


def used_perms() -> set[str]:
    found = set()
    for folder in ("council", "proposals", "voting", "disclosure", "bench", "templates"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in {".py", ".html", ".txt"} or "migrations" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            for pattern in USES:
                found.update(pattern.findall(text))
    return found | {t.permission for t in TRANSITIONS.values()}


def test_every_permission_the_code_asks_for_is_in_the_rules():
    used = used_perms()
    # ``council.staff_community`` says whether someone counts as staff at all (tests ask it).
    assert set(STAFF_ACTIONS) - {"council.staff_community"} <= used
    assert sorted(p for p in used if not rules.perm_exists(p)) == []
