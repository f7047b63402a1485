"""The statistics' cells (``StatisticsCell``): each community's figures, refreshed once an act
that changes one of them commits, so that a district's statistics sum a few hundred cells
instead of reading every proposal, window and project (issue 16, city scale).

Which acts change a figure: a proposal's move through its life (its stage), a ballot or a round
closing (money reserved), a progress update or a completion (money spent), an evaluation
window closing (a verdict) and a disclosure published. ``council.evidence`` calls
``statistics_refresh_after`` for every act it records (the ``evidence_recorded`` hook); acts
that change no figure (a vote, a message, a co-signature) cost nothing.

The refresh runs after the act's transaction has committed, in a transaction of its own that
holds the community's row: two refreshes of one community wait on each other instead of
writing the cells twice, and a failed refresh never undoes the act. Should one fail (the
database gone at that moment), the figures stay as they were until the next act of the
community, or at most an hour: the minute job also refreshes a sixtieth of the communities
each minute (``statistics_sweep``), whatever left their cells behind.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, transaction
from django.db.models.functions import Mod

from council import clock
from council.models import Community
from proposals.lifecycle import TRANSITIONS

from ..models import FigureKind, StatisticsCell
from ..selectors import statistics_cells_scan

logger = logging.getLogger("weishi.statistics")

CHANGES_FIGURES = frozenset(
    {f"proposal.{move}" for move in TRANSITIONS}
    | {
        "ballot.closed",
        "round.closed",
        "progress.posted",
        "completion.recorded",
        "evaluation.window_closed",
        "disclosure.published",
    }
)


def statistics_refresh_after(action: str, community_id: int | None) -> None:
    """The ``evidence_recorded`` hook: once this transaction commits, refresh the cells of
    ``community_id`` if ``action`` changes a figure."""
    if community_id is None or action not in CHANGES_FIGURES:
        return

    def refresh():
        try:
            statistics_refresh(community_id)
        except DatabaseError as error:
            logger.warning(
                "The statistics of community %s were not refreshed (%s); they stay as they "
                "were until its next act or the minute job's sweep (within the hour)",
                community_id,
                error,
            )

    transaction.on_commit(refresh)


@transaction.atomic
def statistics_refresh(community_id: int) -> None:
    """Replace the cells of community ``community_id`` with its figures as the rows say now
    (``selectors.statistics_cells_scan``: four queries over that community's rows)."""
    community = Community.objects.select_for_update().filter(pk=community_id).first()
    if community is None:
        return
    StatisticsCell.objects.filter(community=community).delete()
    StatisticsCell.objects.bulk_create(
        [
            StatisticsCell(
                community=community,
                kind=FigureKind(cell["kind"]),
                key=cell["key"],
                year=cell["year"],
                count=cell["n"],
                budget=cell["money_budget"],
                spent=cell["money_spent"],
                given=cell["evaluations"],
                asked=cell["residents"],
            )
            for cell in statistics_cells_scan(community)
        ]
    )


def statistics_rebuild() -> int:
    """Refresh the cells of every community; how many communities."""
    ids = list(Community.objects.order_by("pk").values_list("pk", flat=True))
    for community_id in ids:
        statistics_refresh(community_id)
    return len(ids)


# Every community's cells are refreshed once per SWEEP_MINUTES by the minute job, a slice each
# minute: a city of 600 communities costs ten refreshes a minute.
SWEEP_MINUTES = 60


def statistics_sweep() -> int:
    """The minute job's slice of the sweep: refresh the cells of the communities whose id
    falls on this minute (id modulo ``SWEEP_MINUTES``), so that cells a failed refresh left
    behind are right again within ``SWEEP_MINUTES``. How many communities were refreshed;
    one that fails is logged and the others still go."""
    slot = int(clock.now().timestamp() // 60) % SWEEP_MINUTES
    ids = list(
        Community.objects.alias(slot=Mod("pk", SWEEP_MINUTES))
        .filter(slot=slot)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    refreshed = 0
    for community_id in ids:
        try:
            statistics_refresh(community_id)
        except DatabaseError as error:
            logger.warning("The sweep did not refresh community %s (%s)", community_id, error)
        else:
            refreshed += 1
    return refreshed
