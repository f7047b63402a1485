"""Demo data of the disclosure app: the district's providers, and the later steps of the demo
projects done through the services — decisions published, progress posted, completion
recorded, residents' evaluations — so that every disclosure can be seen and followed.

Registered with ``proposals.demo`` (in ``DisclosureConfig.ready``) for the steps after a
decision. One shortcut: a demo project starts right after its decision is published (the
start refers to that decision), as if its publicity period (公示期) had run out without
objection.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from council import clock
from council.models import District, Role, RoleKind, RoleStatus
from proposals.lifecycle import Move, proposal_move
from proposals.models import Proposal, Stage

from . import services
from .models import Disclosure, DisclosureStatus, Kind, Provider

PROVIDERS = [
    ("阳光社工服务中心", "social_organisation", 1200, "AAAA"),
    ("彩虹青少年发展中心", "social_organisation", 700, "AAA"),
    ("东湖建筑工程有限公司", "contractor", 3000, ""),
    ("城市之光照明工程有限公司", "contractor", 2400, ""),
]
RATINGS = ["satisfied", "satisfied", "basic", "satisfied", "dissatisfied", "basic", "satisfied"]


def providers_ensure() -> list[Provider]:
    made = []
    for district in District.objects.all():
        for name, kind, age, rating in PROVIDERS:
            provider, _created = Provider.objects.get_or_create(
                district=district,
                name=name,
                defaults={
                    "kind": kind,
                    "registered_on": clock.today() - dt.timedelta(days=age),
                    "rating": rating,
                },
            )
            made.append(provider)
    return made


def _provider_for(proposal: Proposal) -> Provider:
    providers_ensure()
    kind = "social_organisation" if proposal.project_type == "service" else "contractor"
    return (
        Provider.objects.filter(district_id=proposal.community.sub_district.district_id, kind=kind)
        .order_by("pk")
        .first()
    )


def _publish_drafts(proposal: Proposal, staff, kind: str) -> None:
    for draft in Disclosure.objects.filter(
        proposal=proposal, kind=kind, status=DisclosureStatus.DRAFT
    ):
        services.disclosure_publish(actor=staff, disclosure=draft)


def decide_start(proposal: Proposal, staff) -> Proposal:
    services.decision_draft(proposal)
    _publish_drafts(proposal, staff, Kind.DECISION)
    decision = Disclosure.objects.filter(proposal=proposal, kind=Kind.DECISION).latest("version")
    return proposal_move(
        actor=staff,
        proposal=proposal,
        move=Move.START,
        basis=decision,
    )


def decide_complete(proposal: Proposal, staff) -> Proposal:
    provider = _provider_for(proposal)
    cost = proposal.counted_cost
    steps = [
        (30, Decimal("0.3"), "进场施工，完成前期准备和材料采购。"),
        (100, Decimal("1"), "全部完成，待验收。"),
    ]
    for n, (percent, share, text) in enumerate(steps):
        services.progress_post(
            actor=staff,
            proposal=proposal,
            date=clock.today() + dt.timedelta(days=n),
            text=text,
            percent=percent,
            spent=(cost * share).quantize(Decimal("0.01")),
            provider=provider,
        )
    _publish_drafts(proposal, staff, Kind.IMPLEMENTATION)
    services.completion_record(
        actor=staff,
        proposal=proposal,
        acceptance_note="社区工作站会同居民代表、议事会成员现场验收，符合实施方案要求。",
        actual=(cost * Decimal("0.97")).quantize(Decimal("0.01")),
        provider=provider,
    )
    return Proposal.objects.get(pk=proposal.pk)


def decide_evaluate(proposal: Proposal, staff) -> Proposal:
    window = proposal.evaluation_window
    residents = (
        Role.objects.filter(
            community_id=proposal.community_id, kind=RoleKind.RESIDENT, status=RoleStatus.ACTIVE
        )
        .exclude(user__username__endswith="resident16")
        .select_related("user")
        .order_by("pk")[: len(RATINGS)]
    )
    for role, rating in zip(residents, RATINGS, strict=False):
        services.evaluation_give(actor=role.user, window=window, rating=rating)
    services.evaluation_enter_paper(
        actor=staff, window=window, rating="satisfied", comment="纸质评价表（演示）"
    )
    services.window_close(actor=staff, window=window, reason="演示：评价期提前结束")
    _publish_drafts(proposal, staff, Kind.RESULT)
    return Proposal.objects.get(pk=proposal.pk)


def deciders() -> dict:
    return {
        Move.START: decide_start,
        Move.COMPLETE: decide_complete,
        Move.EVALUATE: decide_evaluate,
    }


@transaction.atomic
def seed() -> int:
    """Providers, and every decision drafted and published (one per community left as a
    draft for staff to publish when trying the demo). Returns how many were published."""
    providers_ensure()
    services.decisions_draft_due()
    published = 0
    for proposal in Proposal.objects.filter(stage=Stage.IN_PROGRESS, progress_updates=None):
        staff = Role.objects.filter(
            community_id=proposal.community_id, kind=RoleKind.STAFF, status=RoleStatus.ACTIVE
        ).first()
        services.progress_post(
            actor=staff.user,
            proposal=proposal,
            date=clock.today(),
            text="施工单位进场，完成现场勘查和材料采购。",
            percent=30,
            spent=(proposal.counted_cost * Decimal("0.25")).quantize(Decimal("0.01")),
            provider=_provider_for(proposal),
        )
        _publish_drafts(proposal, staff.user, Kind.IMPLEMENTATION)
    drafts = Disclosure.objects.filter(status=DisclosureStatus.DRAFT, kind=Kind.DECISION)
    kept = set()
    for draft in drafts.select_related("community").order_by("pk"):
        if draft.community_id not in kept and draft.proposal.stage == Stage.REJECTED:
            kept.add(draft.community_id)  # left for the demo's staff to publish
            continue
        staff = Role.objects.filter(
            community_id=draft.community_id, kind=RoleKind.STAFF, status=RoleStatus.ACTIVE
        ).first()
        if staff is not None:
            services.disclosure_publish(actor=staff.user, disclosure=draft)
            published += 1
    return published
