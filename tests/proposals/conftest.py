"""Proposals in any stage, built by driving the real services (never by setting ``stage``)."""

from decimal import Decimal

import pytest

from proposals import services
from proposals.lifecycle import Move, proposal_move
from proposals.models import Stage

PROPOSAL_DATA = {
    "title": "更换小区路灯",
    "summary": "幸福路北段三盏路灯损坏，夜间行走不便。",
    "body": "幸福路北段**三盏**路灯已坏两个月。\n\n- 更换灯具\n- 检修线路",
    "project_type": "engineering",
    "sub_kind": "facilities",
    "location": "幸福路北段",
    "beneficiaries": "幸福路沿线约300户居民",
    "estimated_cost": Decimal("12000.00"),
}

ORDER = [
    Stage.DRAFT,
    Stage.SUBMITTED,
    Stage.UNDER_REVIEW,
    Stage.CONSULTATION,
    Stage.VOTING,
    Stage.APPROVED,
    Stage.IN_PROGRESS,
    Stage.COMPLETED,
    Stage.EVALUATED,
]


class ProposalMaker:
    """``make(stage)`` returns a proposal by ``world.a_resident`` in community ``a`` that has
    walked every step up to ``stage`` through the services."""

    def __init__(self, world):
        self.world = world
        self.cosigners = []

    def cosigner(self, n):
        while len(self.cosigners) <= n:
            i = len(self.cosigners)
            self.cosigners.append(
                self.world.resident(self.world.a, self.world.a_grid1, f"cosigner{i}").user
            )
        return self.cosigners[n]

    def make(self, stage=Stage.SUBMITTED, **data):
        w = self.world
        proposer = w.a_resident.user
        proposal = services.proposal_create(
            actor=proposer, community=w.a, data={**PROPOSAL_DATA, **data}
        )
        if stage == Stage.DRAFT:
            return proposal
        proposal = services.proposal_submit(actor=proposer, proposal=proposal)
        if stage == Stage.SUBMITTED:
            return proposal
        for i in range(w.a.cosign_threshold):
            proposal = services.cosign_add(actor=self.cosigner(i), proposal=proposal)
        if stage == Stage.UNDER_REVIEW:
            return proposal
        if stage in (Stage.INADMISSIBLE,):
            return proposal_move(
                actor=w.a_staff, proposal=proposal, move=Move.DECLARE_INADMISSIBLE,
                reason="属于物业管理职责。",
            )  # fmt: skip
        services.admissibility_record(
            actor=w.a_staff, proposal=proposal, checks=dict.fromkeys(
                ["in_scope", "within_cap", "not_property_duty", "not_government_duplicate",
                 "in_community"], True),
        )  # fmt: skip
        proposal = proposal_move(actor=w.a_staff, proposal=proposal, move=Move.ADMIT)
        if stage == Stage.CONSULTATION:
            return proposal
        services.feasibility_record(
            actor=w.a_staff, proposal=proposal, feasible=True,
            cost_estimate=Decimal("11800.00"), plan="由社区工作站联系施工单位更换。",
        )  # fmt: skip
        proposal = proposal_move(actor=w.a_staff, proposal=proposal, move=Move.OPEN_VOTING)
        rest = {
            Stage.APPROVED: [Move.APPROVE],
            Stage.REJECTED: [Move.REJECT],
            Stage.IN_PROGRESS: [Move.APPROVE, Move.START],
            Stage.COMPLETED: [Move.APPROVE, Move.START, Move.COMPLETE],
            Stage.EVALUATED: [Move.APPROVE, Move.START, Move.COMPLETE, Move.EVALUATE],
        }.get(stage, [])
        for move in rest:
            # Stands for the ballot / publicity period / evaluation window, which later issues
            # build; the lifecycle refuses these moves without a stated basis.
            proposal = proposal_move(
                actor=w.a_staff, proposal=proposal, move=move, basis=("test.record", move)
            )
        return proposal


@pytest.fixture
def proposals(world):
    return ProposalMaker(world)
