"""A proposal's stepper: its stages from the lifecycle table, where it stands, what happens
next, who acts and by when (``proposals.selectors.steps``), and the page that shows it."""

import re

import pytest
from django.urls import reverse
from django.utils import dateformat, timezone

from proposals import services
from proposals.lifecycle import Move, proposal_move
from proposals.models import Stage
from proposals.selectors import main_path, my_proposals, proposal_steps, proposals_steps
from tests.disclosure.conftest import Projects

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
MAIN = [
    Stage.DRAFT, Stage.SUBMITTED, Stage.UNDER_REVIEW, Stage.CONSULTATION, Stage.VOTING,
    Stage.APPROVED, Stage.IN_PROGRESS, Stage.COMPLETED, Stage.EVALUATED,
]  # fmt: skip


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


def states(stepper):
    return [(s.stage, s.state) for s in stepper.steps]


def test_the_main_path_is_the_longest_way_through_the_lifecycle_table():
    assert list(main_path()) == MAIN


@pytest.mark.parametrize("stage", MAIN[:-1])
def test_each_stage_of_the_main_path_is_the_current_step_with_the_earlier_ones_done(
    proposals, stage
):
    stepper = proposal_steps(proposals.make(stage))
    at = MAIN.index(stage)
    assert states(stepper) == [
        (s, "done" if i < at else "current" if i == at else "upcoming") for i, s in enumerate(MAIN)
    ]
    assert stepper.current.stage == stage and stepper.position == at + 1
    assert not stepper.ended
    assert stepper.next and stepper.who


def test_a_draft_tells_its_proposer_to_submit_it_by_the_end_of_the_collection_window(
    world, proposals
):
    proposal = proposals.make(Stage.DRAFT)
    mine = proposal_steps(proposal, viewer=world.a_resident.user)
    assert mine.who == "you"
    assert mine.by == world.a.collection_closes
    assert "Submit it within the collection window" in mine.next
    assert proposal_steps(proposal, viewer=world.a_staff).who == "the proposer"


def test_a_submitted_proposal_counts_the_co_signs_it_still_needs_until_the_window_closes(
    world, proposals
):
    proposal = proposals.make(Stage.SUBMITTED)
    services.cosign_add(actor=proposals.cosigner(0), proposal=proposal)
    services.cosign_add(actor=proposals.cosigner(1), proposal=proposal)
    stepper = proposal_steps(proposal)
    assert stepper.next == (
        "It needs 3 more co-signs from residents (2 of 5); then staff review it."
    )
    assert stepper.who == "residents, by co-signing"
    assert stepper.by == world.a.collection_closes
    world.a.cosign_threshold = 8
    world.a.save()
    proposal.refresh_from_db()
    assert "It needs 6 more co-signs from residents (2 of 8)" in proposal_steps(proposal).next


def test_staff_act_while_it_is_under_review_or_in_consultation_with_no_date_set(proposals):
    for stage in (Stage.UNDER_REVIEW, Stage.CONSULTATION):
        stepper = proposal_steps(proposals.make(stage))
        assert stepper.who == "community staff"
        assert stepper.by is None


def test_in_voting_the_council_acts_by_the_time_its_ballot_closes(world):
    projects = Projects(world)
    proposal = projects.council.proposal()
    before = proposal_steps(proposal)
    assert before.next == "Staff open the council's ballot; then the council votes on it."
    assert before.by is None
    ballot = projects.council.ballot(proposal, hours=30)
    stepper = proposal_steps(proposal)
    assert stepper.who == "the residents' council"
    assert stepper.by == ballot.closes_at
    assert stepper.by_has_time
    assert "votes on it under its rules of procedure" in stepper.next


def test_an_approved_project_waits_for_its_publicity_period_to_end(world):
    projects = Projects(world)
    proposal = projects.decided()
    assert proposal.stage == Stage.APPROVED
    assert proposal_steps(proposal).by is None  # the decision is not yet published
    proposal = projects.published()
    stepper = proposal_steps(proposal)
    decision = proposal.disclosures.get(kind="decision", status="published")
    assert stepper.by == decision.publicity_ends_at
    assert "publicity period of 5 days" in stepper.next
    assert stepper.who == "community staff"


def test_a_completed_project_waits_for_residents_evaluations_until_the_window_closes(world):
    projects = Projects(world)
    proposal = projects.completed()
    stepper = proposal_steps(proposal)
    assert stepper.current.stage == Stage.COMPLETED
    assert stepper.who == "residents, by evaluating"
    assert stepper.by == proposal.evaluation_window.closes_at
    assert proposal_steps(projects.in_progress()).who == "the implementing organisation"


def test_an_evaluated_project_has_ended_its_way(proposals):
    stepper = proposal_steps(proposals.make(Stage.EVALUATED))
    assert stepper.ended
    assert [s for s in stepper.steps if s.state != "done"] == [stepper.current]
    assert stepper.next == "Its way has ended: evaluated by residents."
    assert stepper.by is None and stepper.who == ""


def test_a_proposal_found_inadmissible_shows_that_as_its_last_step(proposals):
    stepper = proposal_steps(proposals.make(Stage.INADMISSIBLE))
    assert states(stepper) == [
        (Stage.DRAFT, "done"), (Stage.SUBMITTED, "done"), (Stage.UNDER_REVIEW, "done"),
        (Stage.INADMISSIBLE, "current"),
    ]  # fmt: skip
    assert stepper.ended and stepper.next == "Its way has ended: found inadmissible."


def test_a_rejected_proposal_ends_after_the_vote(proposals):
    stepper = proposal_steps(proposals.make(Stage.REJECTED))
    assert [s.stage for s in stepper.steps] == [*MAIN[:5], Stage.REJECTED]
    assert stepper.current.stage == Stage.REJECTED and stepper.ended


def test_a_merged_proposal_ends_after_review(world, proposals):
    target = proposals.make(Stage.SUBMITTED)
    merged = proposals.make(Stage.UNDER_REVIEW)
    merged = services.proposal_merge(actor=world.a_staff, proposal=merged, target=target)
    stepper = proposal_steps(merged)
    assert [s.stage for s in stepper.steps] == [*MAIN[:3], Stage.MERGED]
    assert stepper.next == "Its way has ended: merged into another proposal."


@pytest.mark.parametrize("left_from", [Stage.SUBMITTED, Stage.CONSULTATION])
def test_a_withdrawn_proposal_ends_where_its_proposer_withdrew_it(world, proposals, left_from):
    proposal = proposal_move(
        actor=world.a_resident.user, proposal=proposals.make(left_from), move=Move.WITHDRAW
    )
    stepper = proposal_steps(proposal)
    upto = MAIN.index(left_from) + 1
    assert [s.stage for s in stepper.steps] == [*MAIN[:upto], Stage.WITHDRAWN]
    assert stepper.ended and stepper.next == "Its way has ended: withdrawn by the proposer."


def test_steppers_of_many_proposals_take_no_more_queries_than_of_a_few(
    world, proposals, django_assert_max_num_queries
):
    projects = Projects(world)

    def some(n):
        made = [proposals.make(Stage.SUBMITTED) for _ in range(n)]
        made.append(
            proposal_move(actor=world.a_resident.user, proposal=made.pop(), move="withdraw")
        )
        made.append(projects.council.proposal())
        projects.council.ballot(made[-1])
        return made

    counted = []
    for n in (1, 4):
        some(n)
        mine = my_proposals(world.a_resident.user)  # with what a stepper reads
        with django_assert_max_num_queries(20) as captured:
            steppers = proposals_steps(mine)
        assert len(steppers) == len(mine)
        counted.append(len(captured))
    assert counted[0] == counted[1]


def test_the_proposal_page_opens_with_its_stepper_and_folds_its_timeline(client, world, proposals):
    proposal = proposals.make(Stage.CONSULTATION)
    page = client.get(reverse("proposal", args=[world.a.slug, proposal.pk]), **EN)
    text = page.content.decode()
    assert text.index('class="stepper') < text.index('id="body-title"')
    current = re.findall(r'<li class="stepper-step current" aria-current="step">', text)
    assert len(current) == 1
    assert "Residents and invited experts discuss it" in text
    timeline = re.search(r'<details class="timeline-log">\s*<summary>(.*?)</summary>', text)
    assert timeline is not None  # closed: no "open" attribute
    assert re.fullmatch(r"See the whole timeline \(\d+ entries\)", timeline.group(1))


def test_a_ballots_closing_time_shows_on_the_proposal_page(client, world):
    ballot = Projects(world).council.ballot(hours=30)
    page = client.get(reverse("proposal", args=[world.a.slug, ballot.proposal_id]), **EN)
    stamp = dateformat.format(timezone.localtime(ballot.closes_at), "c")
    assert f'<dd class="stepper-by"><time datetime="{stamp}">' in page.content.decode()
