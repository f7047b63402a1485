"""Funding rules for a yearly round: greedy by approvals, and the Method of Equal Shares.

Pure functions over plain data (no Django, no database), so that a round can be recomputed
from its Pabulib export and checked against researchers' tools (pabutools, equalshares.net).

Every ballot is an approval ballot: the set of project ids one voter approves (possibly empty).
Money is exact throughout: costs and the budget come in as ``Decimal`` yuan and are computed
with as fractions (``fractions.Fraction``, or integers over a common denominator), never
floats: a voter's share ``budget / n`` is not a finite decimal, and rounding would make "does it
fit" and the tie between two projects depend on the order of operations.

Ties between projects always go to the lower cost, then to the earlier submission (lower
``Project.order``), as the rules of procedure say.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

COMPLETIONS = ("add1", "none")

_ZERO = Fraction(0)


@dataclass(frozen=True)
class Project:
    """A project put to the round."""

    id: str  # a string, as in Pabulib
    cost: Decimal  # yuan, at most 2 decimal places, > 0
    order: int  # submission order: lower = earlier (in a .pb file, the row order)


@dataclass
class _Election:
    """The validated input, indexed by position in ``projects``."""

    ids: list[str]
    costs: list[Fraction]
    fen: list[int]  # the same costs in fen (1/100 yuan): integers, for the inner loops
    tie_keys: list[tuple[Fraction, int]]
    supporters: list[int]  # per project, a bit set of voter indices (bit i = voter i)
    counts: list[int]  # approvals per project
    num_voters: int
    budget: Fraction


def _money(value: Decimal, what: str) -> Fraction:
    if isinstance(value, float) or not isinstance(value, Decimal | int):
        raise TypeError(f"{what} must be a Decimal, not {type(value).__name__}")
    if isinstance(value, Decimal) and not value.is_finite():
        raise ValueError(f"{what} is not a finite number: {value}")
    return Fraction(value)


def _election(
    projects: Sequence[Project], ballots: Sequence[Collection[str]], budget: Decimal
) -> _Election:
    """Check the input and index it; raise ``ValueError`` on anything the rules cannot judge."""
    index: dict[str, int] = {}
    orders: set[int] = set()
    costs = []
    for position, project in enumerate(projects):
        if project.id in index:
            raise ValueError(f"duplicate project id {project.id!r}")
        if project.order in orders:
            raise ValueError(f"two projects share the submission order {project.order}")
        cost = _money(project.cost, f"cost of project {project.id!r}")
        if cost <= 0:
            raise ValueError(f"project {project.id!r} costs {project.cost}, not more than 0")
        if (cost * 100).denominator != 1:
            raise ValueError(f"cost of project {project.id!r} has more than 2 decimal places")
        index[project.id] = position
        orders.add(project.order)
        costs.append(cost)
    total = _money(budget, "budget")
    if total < 0:
        raise ValueError(f"the budget is negative: {budget}")

    # Bit sets built through a byte array: OR-ing 10,000-bit integers one voter at a time
    # would copy the integer on every approval.
    width = len(ballots) // 8 + 1
    bits = [bytearray(width) for _ in projects]
    counts = [0] * len(projects)
    for voter, ballot in enumerate(ballots):
        byte, bit = divmod(voter, 8)
        for project_id in set(ballot):
            position = index.get(project_id)
            if position is None:
                raise ValueError(f"ballot {voter} approves unknown project {project_id!r}")
            bits[position][byte] |= 1 << bit
            counts[position] += 1
    return _Election(
        ids=[p.id for p in projects],
        costs=costs,
        fen=[int(cost * 100) for cost in costs],
        tie_keys=[(cost, p.order) for cost, p in zip(costs, projects, strict=True)],
        supporters=[int.from_bytes(b, "little") for b in bits],
        counts=counts,
        num_voters=len(ballots),
        budget=total,
    )


def approvals(projects: Sequence[Project], ballots: Sequence[Collection[str]]) -> dict[str, int]:
    """Number of ballots approving each project, for every project (0 included).

    A ballot naming a project twice counts once; a ballot naming an unknown id raises
    ``ValueError``.
    """
    counts = dict.fromkeys((p.id for p in projects), 0)
    for voter, ballot in enumerate(ballots):
        for project_id in set(ballot):
            if project_id not in counts:
                raise ValueError(f"ballot {voter} approves unknown project {project_id!r}")
            counts[project_id] += 1
    return counts


def greedy(
    projects: Sequence[Project], ballots: Sequence[Collection[str]], budget: Decimal
) -> list[str]:
    """Fund projects by approvals, most approved first, while money remains.

    Guarantees: the result lists the funded ids in the order they were funded; their total
    cost is at most ``budget``; a project that does not fit in what is left is skipped and the
    next ones are still tried; a project nobody approved is never funded; among projects with
    equal approvals the lower cost comes first, then the earlier submission. Input errors
    (unknown or duplicate ids, shared ``order``, cost not > 0 or with more than 2 decimal
    places, negative budget) raise ``ValueError``; a float for money raises ``TypeError``.
    """
    election = _election(projects, ballots, budget)
    left = election.budget
    funded = []
    ranking = sorted(
        range(len(election.ids)),
        key=lambda p: (-election.counts[p], election.tie_keys[p]),
    )
    for p in ranking:
        if election.counts[p] == 0:
            break  # the ranking puts every unapproved project last
        if election.costs[p] <= left:
            funded.append(election.ids[p])
            left -= election.costs[p]
    return funded


def equal_shares(
    projects: Sequence[Project],
    ballots: Sequence[Collection[str]],
    budget: Decimal,
    completion: str = "add1",
) -> list[str]:
    """The Method of Equal Shares with cost satisfaction, as Pabulib and pabutools define it.

    Each voter starts with ``budget / n``. Repeatedly, among the projects whose supporters can
    still pay for them together, the one with the least affordability ``rho / cost`` is
    funded, where ``rho`` is the most any of its supporters pays when they split the cost as
    equally as their remaining money allows (each pays ``min(money left, rho)``); ties go to
    the lower cost, then the earlier submission. The run ends when no project is affordable.
    (With cost satisfaction a supporter's utility for a project is its cost, so ``rho / cost``
    is equalshares.net's price per unit of utility and pabutools' "affordability"; when all
    supporters can pay equally it is 1 / number of supporters, whatever the cost.)

    ``completion="none"`` returns that run. ``completion="add1"`` (the variant cities run;
    pabutools' ``voter_budget_increment=1``) raises every voter's starting money by 1 yuan and
    reruns, until a run's outcome costs more than ``budget`` (the previous outcome is
    returned) or leaves no approved project that would still fit in the money left over (that
    outcome is returned). The result is exactly the unit-by-unit loop's, but the runs whose
    outcome provably equals the previous one are skipped (see ``_mes_run``).

    Guarantees: ids are listed in the order the returned run selected them; their total cost
    is at most ``budget``; only approved projects are funded; no ballots means nothing funded.
    Input errors (unknown or duplicate ids, shared ``order``, cost not > 0 or with more than 2
    decimal places, negative budget, unknown ``completion``) raise ``ValueError``.
    """
    if completion not in COMPLETIONS:
        raise ValueError(f"completion must be one of {COMPLETIONS}, not {completion!r}")
    election = _election(projects, ballots, budget)
    candidates = [p for p in range(len(election.ids)) if election.counts[p] > 0]
    if not candidates:
        return []
    share = election.budget / election.num_voters
    if completion == "none":
        selected, _ = _mes_run(election, candidates, share, track=False)
        return [election.ids[p] for p in selected]

    previous: list[int] = []
    while True:
        selected, step = _mes_run(election, candidates, share, track=True)
        spent = sum((election.costs[p] for p in selected), _ZERO)
        if spent > election.budget:
            # Never on the first run: MES spends at most n * (budget / n).
            return [election.ids[p] for p in previous]
        chosen = set(selected)
        if all(spent + election.costs[p] > election.budget for p in candidates if p not in chosen):
            return [election.ids[p] for p in selected]
        # Only the outcome "every approved project" is constant for all larger shares, and it
        # is exhaustive; so a run that reached this line saw some decision it could change.
        assert step is not None, "an outcome that never changes must have been exhaustive"
        previous = selected
        # The runs at share + 1, ..., share + ceil(step) - 1 lie strictly before the first
        # point where a decision could change, so their outcome is this one: skip them.
        share += max(1, math.ceil(step))


def _mes_run(
    election: _Election, candidates: list[int], share: Fraction, *, track: bool
) -> tuple[list[int], Fraction | None]:
    """One run of MES with ``share`` yuan per voter: the selected project indices, in order.

    With ``track``, also a *stability margin*: a number ``d >= 0`` such that a run starting
    from any share in ``[share, share + d)`` selects the same projects in the same order;
    ``None`` if no starting share above this one can change the outcome.

    Why it holds. Fix the run's path: which project each round selects and, for that project,
    which supporters pay all they have (the *poor*) and which pay ``rho`` (the *rich*). Along a
    fixed path every amount is affine in the starting share ``t``: a voter's money is ``t``
    minus payments, a ``rho`` is ``(cost - what the poor pay) / number of rich``. So amounts are
    carried as pairs (value now, slope in ``t``), and the path stays the run's while these
    affine inequalities keep holding, each checked now and recorded by ``holds``:

    - each selected project's poor have money ``<= rho``, its rich ``>= rho`` (so its ``rho`` and
      the payments keep their formulas);
    - each project found unaffordable still is (money of its supporters ``< cost``; money only
      falls during a run, so it stays out of later rounds);
    - each other project does not beat the selected one: some affine *lower bound* of its
      affordability stays ``>=`` the selected one's. The bound is the ``rho / cost`` formula
      with the poor/rich split it had when last computed. Whatever the split, that formula
      never exceeds the true ``rho`` (the rich pay ``rho``, the poor at most their money, so
      at the formula's price the supporters raise at most the cost), and affordability never
      falls from round to round; so the bound holds for every ``t``, and other projects' splits
      need not stay fixed: only the comparisons that decide the outcome are recorded.

    The margin is the nearest root ahead of any of these differences that is decreasing.

    Representation, for speed. Voters are grouped into *states*: a bit set of voters sharing
    the same money (and, when tracking, the same slope). A voter's money depends only on which
    selected projects they approve, so states stay few, and a project's supporters in a state
    are one AND and a popcount. Moneys and slopes are integer numerators over one common
    denominator ``scale`` (a multiple of 100, so that costs in fen scale to integers), which
    each payment multiplies by the payers' count and a gcd then shrinks: the inner loops do
    integer arithmetic only. Projects are examined lazily, as pabutools does: the last
    affordability computed for a project is a lower bound of its current one, so a project
    whose bound is already worse than the best found this round is not recomputed.
    """
    fen, supporters, counts = election.fen, election.supporters, election.counts
    scale = math.lcm(share.denominator, 100)
    # (voters, money * scale, slope of money in the starting share * scale)
    states = [((1 << election.num_voters) - 1, int(share * scale), scale if track else 0)]
    # Lower bound (value, slope) of each project's affordability: all supporters paying equally.
    bound = {p: (Fraction(1, counts[p]), _ZERO) for p in candidates}
    remaining = list(candidates)
    selected: list[int] = []
    margin: Fraction | None = None

    def holds(value, slope) -> None:
        """Record a decision whose difference is ``value >= 0`` now and moves at ``slope``."""
        nonlocal margin
        if slope < 0:
            root = Fraction(value, -slope)
            if margin is None or root < margin:
                margin = root

    while remaining:
        # Most promising first; the order only saves work (skipping compares exactly).
        remaining.sort(key=lambda p: float(bound[p][0]))
        fen_scale = scale // 100
        best = None  # (affordability, tie key, project, rho * scale * rich, its slope, rich,
        #               groups, number of poor groups)
        unaffordable = set()
        for p in remaining:
            if best is not None and bound[p][0] > best[0]:
                continue  # cannot beat the best: affordability only grows
            cost, mask = fen[p] * fen_scale, supporters[p]
            groups = []  # (money, slope, supporters in that state)
            money = slope = 0
            for voters, value, value_slope in states:
                count = (voters & mask).bit_count()
                if count:
                    groups.append((value, value_slope, count))
                    money += value * count
                    slope += value_slope * count
            if money < cost:
                unaffordable.add(p)
                if track:
                    holds(cost - money, -slope)
                continue
            # The poorest supporters pay all they have; the rest pay rho each. Equal moneys
            # are always on the same side, so scanning groups equals scanning voters.
            groups.sort(key=lambda g: g[0])
            # rho = (cost - paid) / rich, while groups[poor] cannot pay it; affordable, so the
            # scan stops at the richest group at the latest.
            poor, rich, paid, paid_slope = 0, counts[p], 0, 0
            while cost - paid > groups[poor][0] * rich:
                value, value_slope, count = groups[poor]
                paid += value * count
                paid_slope += value_slope * count
                rich -= count
                poor += 1
            # rho = rho_rich / (scale * rich); affordability = rho / cost.
            rho_rich, rho_rich_slope = cost - paid, -paid_slope
            whole = scale * rich * fen[p]
            bound[p] = (Fraction(100 * rho_rich, whole), Fraction(100 * rho_rich_slope, whole))
            key = (bound[p][0], election.tie_keys[p])
            if best is None or key < best[:2]:
                best = (*key, p, rho_rich, rho_rich_slope, rich, groups, poor)
        if best is None:
            break  # nothing affordable: every remaining project was examined, none fits
        alpha, _, chosen, rho_rich, rho_rich_slope, rich, groups, poor = best
        if track:
            for value, value_slope, _ in groups[:poor]:
                holds(rho_rich - value * rich, rho_rich_slope - value_slope * rich)
            for value, value_slope, _ in groups[poor:]:
                holds(value * rich - rho_rich, value_slope * rich - rho_rich_slope)
            # Examined projects lost on affordability or on the tie-break, skipped ones on
            # their bound alone; either way their bound is >= the winner's now.
            alpha_slope = bound[chosen][1]
            for p in remaining:
                if p != chosen and p not in unaffordable and bound[p][1] < alpha_slope:
                    holds(bound[p][0] - alpha, bound[p][1] - alpha_slope)
        selected.append(chosen)
        remaining = [p for p in remaining if p != chosen and p not in unaffordable]
        states, scale = _pay(states, scale, supporters[chosen], rho_rich, rho_rich_slope, rich)
    return selected, margin


def _pay(
    states: list[tuple[int, int, int]],
    scale: int,
    payers: int,
    rho_rich: int,
    rho_rich_slope: int,
    rich: int,
) -> tuple[list[tuple[int, int, int]], int]:
    """The states and scale after every voter in ``payers`` pays ``min(money, rho)``, where
    ``rho = rho_rich / (scale * rich)``: everything is rescaled by ``rich`` first."""
    merged: dict[tuple[int, int], int] = {}
    for voters, value, slope in states:
        inside = voters & payers
        outside = voters ^ inside
        if outside:
            key = (value * rich, slope * rich)
            merged[key] = merged.get(key, 0) | outside
        if inside:
            value, slope = value * rich, slope * rich
            # Poor supporters hand over everything, whatever their slope.
            key = (value - rho_rich, slope - rho_rich_slope) if value >= rho_rich else (0, 0)
            merged[key] = merged.get(key, 0) | inside
    scale *= rich
    # Shrink the common denominator, keeping it a multiple of 100.
    divisor = math.gcd(scale // 100, *(n for key in merged for n in key))
    return [
        (voters, value // divisor, slope // divisor) for (value, slope), voters in merged.items()
    ], scale // divisor
