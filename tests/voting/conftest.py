"""A council of community ``a`` with several seated members, this year's envelope, and
proposals in voting — all built through the services."""

import datetime as dt
from decimal import Decimal

import pytest

from council import clock
from council import services as council_services
from council.models import RoleKind, SeatCategory
from proposals import services as proposal_services
from proposals.lifecycle import Move, proposal_move
from proposals.models import Stage
from tests.proposals.conftest import ProposalMaker
from voting import services
from voting.models import Envelope

SEATS = [
    SeatCategory.ORGANISATION,
    SeatCategory.NOTABLE,
    SeatCategory.REGISTERED,
    SeatCategory.NON_REGISTERED,
]


class Council:
    """``members``: the seated members of community ``a`` (``world.a_member`` first, then
    ``member1`` …); ``envelope``: community ``a``'s envelope for this year (¥2,000,000)."""

    def __init__(self, world, size=5):
        self.world = world
        self.maker = ProposalMaker(world)
        self.members = [world.a_member.user]
        for i in range(1, size):
            residency = world.resident(world.a, world.a_grid1, f"member{i}")
            council_services.role_assign(
                actor=None,
                user=residency.user,
                kind=RoleKind.COUNCIL_MEMBER,
                community=world.a,
                seat_category=SEATS[i % len(SEATS)],
            )
            self.members.append(residency.user)
        self.envelope = Envelope.objects.create(
            community=world.a, year=clock.today().year, amount=Decimal("2000000.00")
        )
        self.staff = world.a_staff

    def proposal(self, cost=None, **data):
        """A proposal of ``world.a_resident`` in voting; its counted cost is ``cost`` (staff's
        feasibility estimate), ¥11,800 when not given."""
        if cost is None:
            return self.maker.make(Stage.VOTING, **data)
        proposal = self.maker.make(Stage.CONSULTATION, **data)
        proposal_services.feasibility_record(
            actor=self.staff,
            proposal=proposal,
            feasible=True,
            cost_estimate=Decimal(cost),
            plan="按计划实施。",
        )
        return proposal_move(actor=self.staff, proposal=proposal, move=Move.OPEN_VOTING)

    def ballot(self, proposal=None, *, hours=24, meeting=None):
        return services.ballot_open(
            actor=self.staff,
            proposal=proposal or self.proposal(),
            closes_at=clock.now() + dt.timedelta(hours=hours),
            meeting=meeting,
        )

    def round(self, proposals, *, hours=24, title="2026 年度集中表决", **kw):
        """A yearly round on ``proposals``, opened by staff, closing in ``hours``."""
        return services.round_open(
            actor=self.staff,
            community=self.world.a,
            title=title,
            proposals=list(proposals),
            closes_at=clock.now() + dt.timedelta(hours=hours),
            **kw,
        )

    def vote(self, ballot, choices):
        """``choices``: one of yes/no/abstain per member, in order (None skips a member)."""
        for member, choice in zip(self.members, choices, strict=False):
            if choice is not None:
                services.vote_cast(actor=member, ballot=ballot, choice=choice)
        return ballot


@pytest.fixture
def council(world):
    return Council(world)
