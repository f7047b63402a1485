"""The demo proposals: every stage in each community, walked through the real services."""

import datetime as dt

import pytest
from django.core.management import call_command

from council import clock
from council import demo as council_demo
from council.evidence import evidence_verify
from council.models import (
    Community,
    EvidenceEvent,
    Notification,
    PrivateData,
    ProjectType,
    Role,
    RoleKind,
    RoleStatus,
)
from proposals import demo
from proposals.models import (
    AdmissibilityReview,
    CoSign,
    ExpertInvitation,
    ExpertOpinion,
    FeasibilityReview,
    Proposal,
    Revision,
    Stage,
    SubKind,
)

pytestmark = pytest.mark.django_db


def seed_demo(capture):
    with capture(execute=True):  # notifications are written on commit
        call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (
            Proposal,
            CoSign,
            Revision,
            AdmissibilityReview,
            FeasibilityReview,
            ExpertInvitation,
            ExpertOpinion,
            EvidenceEvent,
            Notification,
        )
    }


def test_running_seed_demo_twice_changes_nothing(demo_data, django_capture_on_commit_callbacks):
    before = counts()  # after the first run (the session's, see tests/demo.py)
    assert 20 <= before["Proposal"] <= 32
    assert before["Notification"] > 0, "the walk notifies as the app does"
    seed_demo(django_capture_on_commit_callbacks)
    assert counts() == before
    assert demo.seed() == 0


@pytest.mark.parametrize("slug", ["donghu", "xiling"])
def test_each_community_has_a_proposal_in_every_stage_of_every_type_and_sub_kind(demo_data, slug):
    community = Community.objects.get(slug=slug)
    proposals = Proposal.objects.filter(community=community)
    assert 10 <= proposals.count() <= 16
    assert set(proposals.values_list("stage", flat=True)) == set(Stage.values)
    assert set(proposals.values_list("project_type", flat=True)) == set(ProjectType.values)
    assert set(proposals.values_list("sub_kind", flat=True)) == set(SubKind.values)
    for proposal in proposals:
        assert 0 < proposal.estimated_cost <= community.cap_for(proposal.project_type)
        assert any("\u4e00" <= ch <= "\u9fff" for ch in proposal.title)
        assert proposal.summary and proposal.body and proposal.location
        assert proposal.beneficiaries


def test_every_stage_was_reached_by_the_lifecycle_and_recorded_as_evidence(demo_data):
    for proposal in Proposal.objects.exclude(stage=Stage.DRAFT):
        moves = EvidenceEvent.objects.filter(
            object_type="proposals.proposal",
            object_id=str(proposal.pk),
            payload__has_key="to",
        ).order_by("seq")
        trail = [e.payload["to"] for e in moves]
        assert trail[0] == Stage.SUBMITTED and trail[-1] == proposal.stage, proposal.title
        assert proposal.submitted_at is not None
    assert evidence_verify().ok


def test_the_demo_stages_carry_what_their_stage_implies(demo_data):
    donghu = Community.objects.get(slug="donghu")
    threshold = donghu.cosign_threshold
    in_donghu = Proposal.objects.filter(community=donghu)

    for proposal in in_donghu.filter(stage=Stage.SUBMITTED):
        assert 0 < proposal.cosigns.count() < threshold

    inadmissible = in_donghu.get(stage=Stage.INADMISSIBLE)
    assert inadmissible.inadmissible_reason and inadmissible.inadmissible_reason_html
    assert not inadmissible.admissibility_reviews.get().passed

    merged = in_donghu.get(stage=Stage.MERGED)
    target = merged.merged_into
    carried = set(merged.cosigns.values_list("user_id", flat=True)) | {merged.proposer_id}
    assert carried - {target.proposer_id} <= set(target.cosigns.values_list("user_id", flat=True))

    consultation = in_donghu.get(stage=Stage.CONSULTATION)
    assert consultation.expert_invitations.count() >= 1
    assert consultation.feasibility_reviews.exists()
    assert consultation.expert_opinions.count() >= 1
    revisions = consultation.revisions.order_by("number")
    assert revisions.count() >= 2
    assert revisions.last().author_id == consultation.proposer_id
    assert revisions.last().body == consultation.body

    for stage in (Stage.VOTING, Stage.APPROVED, Stage.REJECTED, Stage.IN_PROGRESS,
                  Stage.COMPLETED, Stage.EVALUATED):  # fmt: skip
        proposal = in_donghu.get(stage=stage)
        review = proposal.latest_feasibility
        assert review.feasible and review.cost_estimate <= donghu.cap_for(proposal.project_type)
        assert proposal.expert_opinions.exists()
        assert proposal.cosigns.count() >= threshold

    assert in_donghu.filter(entered_by__isnull=False).exists(), "a paper proposal, entered by staff"


def test_co_signers_are_confirmed_residents_other_than_the_proposer(demo_data):
    for cosign in CoSign.objects.select_related("proposal"):
        assert cosign.user_id != cosign.proposal.proposer_id
        assert Role.objects.filter(
            user_id=cosign.user_id,
            community_id=cosign.proposal.community_id,
            kind=RoleKind.RESIDENT,
            status=RoleStatus.ACTIVE,
        ).exists()
    for proposal in Proposal.objects.all():
        assert Role.objects.filter(
            user_id=proposal.proposer_id,
            community_id=proposal.community_id,
            kind=RoleKind.RESIDENT,
            status=RoleStatus.ACTIVE,
        ).exists()


def test_no_private_data_in_any_proposal_text(demo_data):
    texts = []
    for proposal in Proposal.objects.all():
        texts += [
            proposal.title,
            proposal.summary,
            proposal.body,
            proposal.location,
            proposal.beneficiaries,
            proposal.inadmissible_reason,
        ]
    for revision in Revision.objects.all():
        texts += [revision.title, revision.summary, revision.body, revision.note]
    text = "\n".join(texts)
    private = list(PrivateData.objects.values_list("phone", "id_number", "address"))
    assert private
    for phone, id_number, address in private:
        assert phone not in text
        assert not id_number or id_number not in text
        assert address not in text


def test_proposals_are_added_even_after_the_collection_window_has_closed(
    django_capture_on_commit_callbacks,
):
    """A demo database loaded long ago: its windows have closed, the proposals still come."""
    council_demo.seed()
    with clock.travel(dt.timedelta(days=365)):
        assert not Community.objects.get(slug="donghu").collection_is_open(clock.today())
        with django_capture_on_commit_callbacks(execute=True):
            added = demo.seed()
        assert added == sum(len(specs) for specs in demo.SPECS.values())
    stages = set(Proposal.objects.values_list("stage", flat=True))
    assert stages == set(Stage.values)
