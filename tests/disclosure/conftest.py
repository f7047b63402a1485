"""Projects at every step of the three disclosures, built through the services."""

import datetime as dt
from decimal import Decimal

import pytest

from council import clock
from disclosure import services
from disclosure.models import Disclosure, Kind, Provider
from proposals.models import Proposal
from tests.voting.conftest import Council
from voting import services as voting_services


class Projects:
    """``world.a``'s council (``council``), a provider on the district's list, and helpers
    that take a new proposal to each step: ``decided``, ``published``, ``in_progress``,
    ``completed``, ``evaluated``. Each returns the proposal, fresh from the database."""

    def __init__(self, world):
        self.world = world
        self.council = Council(world)
        self.staff = world.a_staff
        self.provider = Provider.objects.create(
            district=world.district,
            name="阳光社工服务中心",
            kind="social_organisation",
            registered_on=clock.today() - dt.timedelta(days=800),
            rating="AAAA",
        )
        self.contractor = Provider.objects.create(
            district=world.district,
            name="东湖建筑工程有限公司",
            kind="contractor",
            registered_on=clock.today() - dt.timedelta(days=2000),
        )

    def _name(self, stem):
        self.made = getattr(self, "made", 0) + 1
        return f"{stem}{self.made}"

    def decided(self, approve=True, cost=None):
        """A proposal decided by a ballot (all five members vote), its decision drafted."""
        ballot = self.council.ballot(self.council.proposal(cost))
        self.council.vote(ballot, ["yes" if approve else "no"] * 4 + ["abstain"])
        voting_services.ballot_close(actor=self.staff, ballot=ballot, reason="会议表决完毕")
        services.decisions_draft_due()
        return Proposal.objects.get(pk=ballot.proposal_id)

    def decision(self, proposal) -> Disclosure:
        return Disclosure.objects.get(proposal=proposal, kind=Kind.DECISION, status="draft")

    def published(self, approve=True, cost=None):
        proposal = self.decided(approve, cost)
        services.disclosure_publish(actor=self.staff, disclosure=self.decision(proposal))
        return Proposal.objects.get(pk=proposal.pk)

    def in_progress(self, cost=None):
        proposal = self.published(True, cost)
        with clock.travel(dt.timedelta(days=6)):
            services.implementations_start_due()
        return Proposal.objects.get(pk=proposal.pk)

    def progress(self, proposal, percent, spent, day=0, text="完成材料采购。"):
        return services.progress_post(
            actor=self.staff,
            proposal=proposal,
            date=clock.today() + dt.timedelta(days=day),
            text=text,
            percent=percent,
            spent=Decimal(spent),
            provider=self.provider,
        )

    def completed(self, actual="11800.00", explanation=""):
        proposal = self.in_progress()
        self.progress(proposal, 50, "5000.00")
        self.progress(proposal, 100, actual, text="全部完成，已通过验收。")
        services.completion_record(
            actor=self.staff,
            proposal=proposal,
            acceptance_note="社区工作站与居民代表共同验收合格。",
            actual=Decimal(actual),
            provider=self.provider,
            variance_explanation=explanation,
        )
        return Proposal.objects.get(pk=proposal.pk)

    def evaluated(self, ratings=("satisfied", "satisfied", "basic")):
        proposal = self.completed()
        window = proposal.evaluation_window
        residents = [self.world.a_resident.user, self.world.a_member.user] + [
            self.world.resident(self.world.a, self.world.a_grid1, self._name("evaluator")).user
            for _ in range(max(0, len(ratings) - 2))
        ]
        for resident, rating in zip(residents, ratings, strict=False):
            services.evaluation_give(actor=resident, window=window, rating=rating)
        services.window_close(actor=self.staff, window=window, reason="评价期提前结束（测试）")
        return Proposal.objects.get(pk=proposal.pk)


@pytest.fixture
def projects(world):
    return Projects(world)


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Published PDFs and progress photos go to a throwaway folder, not the checkout."""
    settings.MEDIA_ROOT = tmp_path / "media"
