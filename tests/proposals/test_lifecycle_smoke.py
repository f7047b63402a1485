import pytest

from proposals.models import Stage

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "stage",
    [
        Stage.DRAFT,
        Stage.SUBMITTED,
        Stage.UNDER_REVIEW,
        Stage.INADMISSIBLE,
        Stage.CONSULTATION,
        Stage.VOTING,
        Stage.APPROVED,
        Stage.REJECTED,
        Stage.EVALUATED,
    ],
)
def test_a_proposal_can_be_walked_to_every_stage_through_the_services(proposals, stage):
    assert proposals.make(stage).stage == stage
