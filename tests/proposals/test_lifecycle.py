"""The lifecycle: one table, one guarded writer; random sequences never break it."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from council.errors import InvalidMove, NotAllowed
from council.evidence import evidence_verify
from council.models import EvidenceEvent
from proposals import services
from proposals.lifecycle import TRANSITIONS, Move, proposal_move
from proposals.models import Proposal, Stage

pytestmark = pytest.mark.django_db

CHECKS = ["in_scope", "within_cap", "not_property_duty", "not_government_duplicate", "in_community"]

# Every stage a proposal can be in: where it starts, and where some move leads.
ALLOWED_STAGES = frozenset({t.target for t in TRANSITIONS.values()} | {Stage.DRAFT})


def test_every_move_is_in_the_one_table_and_targets_a_known_stage():
    assert set(TRANSITIONS) == {v for k, v in vars(Move).items() if not k.startswith("_")}
    assert set(Stage.values) == ALLOWED_STAGES


def test_a_move_from_the_wrong_stage_is_refused_with_a_message_and_changes_nothing(
    proposals, world
):
    proposal = proposals.make(Stage.SUBMITTED)
    with pytest.raises(InvalidMove, match="cannot be done while"):
        proposal_move(actor=world.a_staff, proposal=proposal, move=Move.OPEN_VOTING)
    proposal.refresh_from_db()
    assert proposal.stage == Stage.SUBMITTED


def test_a_move_by_the_wrong_person_is_refused(proposals, world):
    proposal = proposals.make(Stage.UNDER_REVIEW)
    for outsider in (world.b_staff, world.a_resident.user, world.a_expert, AnonymousUser()):
        with pytest.raises(NotAllowed):
            proposal_move(actor=outsider, proposal=proposal, move=Move.TAKE_UP)
    with pytest.raises(NotAllowed):
        proposal_move(actor=world.a_staff, proposal=proposal, move=Move.WITHDRAW)


def test_a_stale_page_cannot_act(proposals, world):
    proposal = proposals.make(Stage.UNDER_REVIEW)
    with pytest.raises(InvalidMove, match="moved on since you opened"):
        proposal_move(
            actor=world.a_resident.user,
            proposal=proposal,
            move=Move.WITHDRAW,
            seen_stage=Stage.SUBMITTED,
        )
    proposal.refresh_from_db()
    assert proposal.stage == Stage.UNDER_REVIEW


def test_every_move_leaves_an_evidence_event_with_from_and_to(proposals, world):
    proposal = proposals.make(Stage.CONSULTATION)
    moves = list(
        EvidenceEvent.objects.filter(
            object_id=str(proposal.pk), action__in=[f"proposal.{m}" for m in TRANSITIONS]
        ).values_list("action", "payload")
    )
    assert [a for a, _ in moves] == [
        "proposal.submit",
        "proposal.reach_threshold",
        "proposal.admit",
    ]
    assert moves[-1][1] == {"from": "under_review", "to": "consultation"}


def test_inadmissible_needs_a_written_reason_which_is_public(proposals, world):
    proposal = proposals.make(Stage.UNDER_REVIEW)
    with pytest.raises(InvalidMove, match="reason"):
        proposal_move(
            actor=world.a_staff, proposal=proposal, move=Move.DECLARE_INADMISSIBLE, reason="  "
        )
    proposal = proposal_move(
        actor=world.a_staff,
        proposal=proposal,
        move=Move.DECLARE_INADMISSIBLE,
        reason="属于物业<b>管理</b>职责",
    )
    assert proposal.inadmissible_reason_html == "属于物业&lt;b&gt;管理&lt;/b&gt;职责"


def test_admitting_needs_a_checklist_with_every_item_confirmed(proposals, world):
    proposal = proposals.make(Stage.UNDER_REVIEW)
    with pytest.raises(InvalidMove, match="admissibility checklist"):
        proposal_move(actor=world.a_staff, proposal=proposal, move=Move.ADMIT)
    services.admissibility_record(
        actor=world.a_staff, proposal=proposal, checks={c: c != "within_cap" for c in CHECKS}
    )
    with pytest.raises(InvalidMove):
        proposal_move(actor=world.a_staff, proposal=proposal, move=Move.ADMIT)
    services.admissibility_record(
        actor=world.a_staff, proposal=proposal, checks=dict.fromkeys(CHECKS, True)
    )
    assert proposal_move(actor=world.a_staff, proposal=proposal, move=Move.ADMIT).stage == (
        Stage.CONSULTATION
    )


def test_voting_opens_only_after_a_feasible_review_within_the_cap(proposals, world):
    proposal = proposals.make(Stage.CONSULTATION)
    with pytest.raises(InvalidMove, match="feasibility review"):
        proposal_move(actor=world.a_staff, proposal=proposal, move=Move.OPEN_VOTING)
    services.feasibility_record(
        actor=world.a_staff, proposal=proposal, feasible=True,
        cost_estimate=Decimal("600000.00"), plan="超出上限的方案",
    )  # fmt: skip
    with pytest.raises(InvalidMove, match="above the cap"):
        proposal_move(actor=world.a_staff, proposal=proposal, move=Move.OPEN_VOTING)
    services.feasibility_record(
        actor=world.a_staff, proposal=proposal, feasible=True,
        cost_estimate=Decimal("9000.00"), plan="调整后的方案",
    )  # fmt: skip
    proposal = proposal_move(actor=world.a_staff, proposal=proposal, move=Move.OPEN_VOTING)
    assert proposal.stage == Stage.VOTING
    assert proposal.counted_cost == Decimal("9000.00")


def test_staff_cannot_decide_by_hand_what_the_ballot_decides(proposals, world):
    proposal = proposals.make(Stage.VOTING)
    for move in (Move.APPROVE, Move.REJECT):
        with pytest.raises(InvalidMove, match="cannot be taken by hand"):
            proposal_move(actor=world.a_staff, proposal=proposal, move=move)
    proposal = proposal_move(
        actor=world.a_staff, proposal=proposal, move=Move.APPROVE, basis=("voting.ballot", 1)
    )
    event = EvidenceEvent.objects.filter(action="proposal.approve").get()
    assert event.payload["basis"] == {"type": "voting.ballot", "id": 1}


def test_a_direct_submit_still_keeps_revision_one_and_checks_the_cap(proposals, world):
    proposal = proposals.make(Stage.DRAFT)
    other = proposals.make(Stage.DRAFT, title="另一个")
    done = proposal_move(actor=world.a_resident.user, proposal=proposal, move=Move.SUBMIT)
    assert list(done.revisions.values_list("number", flat=True)) == [1]
    # The district admin lowered the cap after the draft was written.
    world.a.cap_engineering = Decimal("1000.00")
    world.a.save()
    with pytest.raises(InvalidMove, match="above the cap"):
        proposal_move(actor=world.a_resident.user, proposal=other, move=Move.SUBMIT)


def test_the_proposer_withdraws_before_voting_but_not_after(proposals, world):
    for stage in (Stage.SUBMITTED, Stage.UNDER_REVIEW, Stage.CONSULTATION):
        proposal = proposals.make(stage)
        done = proposal_move(actor=world.a_resident.user, proposal=proposal, move=Move.WITHDRAW)
        assert done.stage == Stage.WITHDRAWN
    proposal = proposals.make(Stage.VOTING)
    with pytest.raises(InvalidMove):
        proposal_move(actor=world.a_resident.user, proposal=proposal, move=Move.WITHDRAW)


# --- The property: random moves by random people ---------------------------------------


def _expected_ok(step, proposal, world, people, cosigns, checklist_ok, feasibility_ok, reason):
    """An independent statement of the rules of DESIGN.md, to check the table against."""
    kind, name, who = step
    actor = people[who]
    stage = proposal.stage
    staff = actor == world.a_staff
    proposer = actor == world.a_resident.user
    resident = who.startswith("a_res") or who.startswith("cosigner")
    threshold = world.a.cosign_threshold
    if kind == "cosign":
        return stage == Stage.SUBMITTED and resident and not proposer and who not in cosigns
    rules = {
        Move.SUBMIT: (stage == Stage.DRAFT and proposer),
        Move.REACH_THRESHOLD: False,  # only ever by the co-sign that crosses the threshold
        Move.TAKE_UP: stage == Stage.SUBMITTED and staff,
        Move.ADMIT: stage == Stage.UNDER_REVIEW and staff and checklist_ok,
        Move.DECLARE_INADMISSIBLE: stage == Stage.UNDER_REVIEW and staff and bool(reason.strip()),
        Move.MERGE: stage == Stage.UNDER_REVIEW and staff,
        Move.WITHDRAW: stage in (Stage.SUBMITTED, Stage.UNDER_REVIEW, Stage.CONSULTATION)
        and proposer,
        Move.OPEN_VOTING: stage == Stage.CONSULTATION and staff and feasibility_ok,
        # Decisive moves follow from a ballot, publicity period or evaluation window; by hand
        # (no basis given) they are always refused.
        Move.APPROVE: False,
        Move.REJECT: False,
        Move.START: False,
        Move.COMPLETE: False,
        Move.EVALUATE: False,
    }
    if name == Move.REACH_THRESHOLD:
        may = (resident and not proposer) or staff
        return stage == Stage.SUBMITTED and may and len(cosigns) >= threshold
    return rules[name]


PEOPLE = ["a_res", "cosigner0", "cosigner1", "cosigner2", "cosigner3", "cosigner4",
          "cosigner5", "a_staff", "b_staff", "a_expert", "a_worker1", "b_res"]  # fmt: skip
STEPS = st.one_of(
    st.tuples(st.just("move"), st.sampled_from(sorted(TRANSITIONS)), st.sampled_from(PEOPLE)),
    st.tuples(st.just("cosign"), st.just(""), st.sampled_from(PEOPLE)),
    st.tuples(st.just("checklist"), st.booleans().map(str), st.just("a_staff")),
    st.tuples(st.just("feasibility"), st.booleans().map(str), st.just("a_staff")),
)


class Rollback(Exception):
    pass


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEPS, min_size=1, max_size=30), reason=st.sampled_from(["", "重复项目"]))
def test_random_moves_by_random_people_never_break_the_rules(proposals, world, steps, reason):
    people = {
        "a_res": world.a_resident.user, "a_staff": world.a_staff, "b_staff": world.b_staff,
        "a_expert": world.a_expert, "a_worker1": world.a_worker1, "b_res": world.b_resident.user,
        **{f"cosigner{i}": proposals.cosigner(i) for i in range(6)},
    }  # fmt: skip
    try:
        with transaction.atomic():
            target = proposals.make(Stage.SUBMITTED, title="另一个提议")
            proposal = proposals.make(Stage.DRAFT)
            cosigns, checklist_ok, feasibility_ok = set(), False, False
            for step in steps:
                kind, name, who = step
                before = proposal.stage
                if kind == "checklist":
                    if before == Stage.UNDER_REVIEW:
                        services.admissibility_record(
                            actor=world.a_staff, proposal=proposal,
                            checks=dict.fromkeys(CHECKS, name == "True"),
                        )  # fmt: skip
                        checklist_ok = name == "True"
                    continue
                if kind == "feasibility":
                    if before == Stage.CONSULTATION:
                        services.feasibility_record(
                            actor=world.a_staff, proposal=proposal, feasible=name == "True",
                            cost_estimate=Decimal("5000.00"), plan="方案",
                        )  # fmt: skip
                        feasibility_ok = name == "True"
                    continue
                expected = _expected_ok(
                    step, proposal, world, people, cosigns, checklist_ok, feasibility_ok, reason
                )
                try:
                    if kind == "cosign":
                        proposal = services.cosign_add(actor=people[who], proposal=proposal)
                    else:
                        proposal = proposal_move(
                            actor=people[who], proposal=proposal, move=name,
                            reason=reason, target=target,
                        )  # fmt: skip
                    succeeded = True
                except (InvalidMove, NotAllowed):
                    succeeded = False
                proposal = Proposal.objects.get(pk=proposal.pk)
                assert succeeded == expected, (step, before, proposal.stage)
                if not succeeded:
                    assert proposal.stage == before
                elif kind == "cosign":
                    cosigns.add(who)
                    reached = len(cosigns) >= world.a.cosign_threshold
                    assert proposal.stage == (Stage.UNDER_REVIEW if reached else Stage.SUBMITTED)
                else:
                    assert proposal.stage == TRANSITIONS[name].target
                assert proposal.stage in ALLOWED_STAGES
            assert evidence_verify().ok
            raise Rollback
    except Rollback:
        pass
