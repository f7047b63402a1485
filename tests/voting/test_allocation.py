"""The funding rules, against pabutools (the researchers' reference) and a plain reference."""

import random
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pabutools.election import (
    ApprovalBallot,
    ApprovalProfile,
    Cost_Sat,
    Instance,
)
from pabutools.election import Project as PabuProject
from pabutools.election.pabulib import parse_pabulib_from_string
from pabutools.rules import greedy_utilitarian_welfare, method_of_equal_shares  # noqa: E402
from pabutools.tiebreaking import TieBreakingRule  # noqa: E402

from voting import allocation
from voting.allocation import Project, approvals, equal_shares, greedy
from voting.pabulib import parse, write

DATA = Path(__file__).parent / "data"


def P(project_id, cost, order):
    return Project(id=project_id, cost=Decimal(cost), order=order)


# --- references ---------------------------------------------------------------------------


def our_tie_breaking(projects):
    """Lower cost, then earlier submission: pabutools sorts tied projects by this key."""
    order = {p.id: p.order for p in projects}
    return TieBreakingRule(lambda instance, profile, project: (project.cost, order[project.name]))


def pabutools_election(projects, ballots, budget):
    pabu = {p.id: PabuProject(p.id, Fraction(p.cost)) for p in projects}
    instance = Instance(pabu.values(), budget_limit=Fraction(budget))
    profile = ApprovalProfile([ApprovalBallot([pabu[i] for i in ballot]) for ballot in ballots])
    return instance, profile


def pabutools_greedy(projects, ballots, budget):
    instance, profile = pabutools_election(projects, ballots, budget)
    # With cost satisfaction a project's satisfaction per yuan is its number of approvals.
    funded = greedy_utilitarian_welfare(
        instance, profile, sat_class=Cost_Sat, tie_breaking=our_tie_breaking(projects)
    )
    # pabutools also funds unapproved projects (last, while they fit); our rule never does.
    approved = {project_id for ballot in ballots for project_id in ballot}
    return [p.name for p in funded if p.name in approved]


def pabutools_mes(projects, ballots, budget, completion):
    instance, profile = pabutools_election(projects, ballots, budget)
    funded = method_of_equal_shares(
        instance,
        profile,
        sat_class=Cost_Sat,
        tie_breaking=our_tie_breaking(projects),
        voter_budget_increment=1 if completion == "add1" else None,
    )
    return [p.name for p in funded]


def reference_mes(projects, ballots, budget, completion="add1"):
    """MES voter by voter, every project recomputed every round, Add1 one yuan at a time with
    pabutools' stopping rule: the definition, with no speed-up."""
    total = Fraction(budget)
    supporters = {p.id: [i for i, ballot in enumerate(ballots) if p.id in ballot] for p in projects}
    candidates = [p for p in projects if supporters[p.id]]
    if not ballots or not candidates:
        return []

    def run(share):
        money = [share] * len(ballots)
        left, chosen = list(candidates), []
        while True:
            best = None
            for p in left:
                cost = Fraction(p.cost)
                moneys = sorted(money[i] for i in supporters[p.id])
                if sum(moneys) < cost:
                    continue
                paid, rest = Fraction(0), len(moneys)
                for m in moneys:
                    rho = (cost - paid) / rest
                    if rho <= m:
                        break
                    paid, rest = paid + m, rest - 1
                key = (rho / cost, cost, p.order)
                if best is None or key < best[0]:
                    best = (key, p, rho)
            if best is None:
                return chosen
            _, p, rho = best
            for i in supporters[p.id]:
                money[i] -= min(money[i], rho)
            chosen.append(p)
            left.remove(p)

    share = total / len(ballots)
    if completion == "none":
        return [p.id for p in run(share)]
    previous = []
    while True:
        outcome = run(share)
        spent = sum(Fraction(p.cost) for p in outcome)
        if spent > total:
            return [p.id for p in previous]
        if all(spent + Fraction(p.cost) > total for p in candidates if p not in outcome):
            return [p.id for p in outcome]
        previous = outcome
        share += 1


def cost_of(projects, funded):
    costs = {p.id: p.cost for p in projects}
    return sum((costs[i] for i in funded), Decimal(0))


# --- generated instances ------------------------------------------------------------------


@st.composite
def elections(draw, max_projects=6, max_voters=8, max_cost=300):
    """Small approval elections. Costs often collide (to exercise the tie-breaks) and some
    have fen; ids are not in submission order (so that neither rule can lean on id order);
    the budget is a share of the total cost, so that the rules have choices to make."""
    m = draw(st.integers(1, max_projects))
    cost = st.one_of(
        st.sampled_from([10, 20, 30, 60]).map(Decimal),
        st.integers(1, max_cost).map(Decimal),
        st.integers(1, max_cost * 100).map(lambda fen: Decimal(fen) / 100),
    )
    names = draw(st.permutations(range(m)))
    orders = draw(st.permutations(range(m)))
    projects = [
        Project(id=f"p{name}", cost=draw(cost), order=order)
        for name, order in zip(names, orders, strict=True)
    ]
    ids = [p.id for p in projects]
    ballots = draw(st.lists(st.sets(st.sampled_from(ids)), min_size=2, max_size=max_voters))
    percent = draw(st.integers(0, 110))
    total = sum(p.cost for p in projects)
    budget = (total * percent / 100).quantize(Decimal("0.01"))
    return projects, ballots, budget


@given(elections())
def test_greedy_matches_pabutools(election):
    assert greedy(*election) == pabutools_greedy(*election)


@given(elections())
def test_plain_equal_shares_matches_pabutools(election):
    assert equal_shares(*election, completion="none") == pabutools_mes(*election, "none")


@settings(max_examples=40)
@given(elections(max_cost=100))
def test_add1_equal_shares_matches_pabutools(election):
    assert equal_shares(*election) == pabutools_mes(*election, "add1")


@settings(max_examples=150)
@given(elections(max_cost=2000))
def test_fast_add1_equals_unit_by_unit_reference(election):
    """Large costs against few yuan per voter: the fast path jumps over many yuan steps."""
    assert equal_shares(*election) == reference_mes(*election, "add1")
    assert equal_shares(*election, completion="none") == reference_mes(*election, "none")


@given(elections(max_projects=8, max_voters=12, max_cost=5000))
def test_funded_projects_always_fit_the_budget(election):
    projects, ballots, budget = election
    approved = {project_id for ballot in ballots for project_id in ballot}
    for funded in (
        greedy(*election),
        equal_shares(*election),
        equal_shares(*election, completion="none"),
    ):
        assert cost_of(projects, funded) <= budget
        assert set(funded) <= approved
        assert len(set(funded)) == len(funded)


@given(elections(max_cost=2000), st.integers(0, 3000), st.integers(1, 7))
def test_outcome_is_constant_within_the_stability_margin(election, numerator, denominator):
    """What the jump rests on: from any share, the run's outcome does not change before the
    margin that run reports, at whole yuan steps or in between."""
    projects, ballots, budget = election
    data = allocation._election(projects, ballots, budget)
    candidates = [p for p in range(len(projects)) if data.counts[p]]
    if not candidates:
        return
    share = Fraction(numerator, denominator)
    outcome, margin = allocation._mes_run(data, candidates, share, track=True)
    assert allocation._mes_run(data, candidates, share, track=False)[0] == outcome
    reach = margin if margin is not None else Fraction(10**6)
    for fraction in (Fraction(1, 1000), Fraction(1, 2), Fraction(999, 1000)):
        later = share + reach * fraction
        assert allocation._mes_run(data, candidates, later, track=False)[0] == outcome
    for step in range(1, min(int(reach), 50)):
        assert allocation._mes_run(data, candidates, share + step, track=False)[0] == outcome


# --- named behaviour ------------------------------------------------------------------------


def test_greedy_skips_a_project_that_does_not_fit_and_funds_a_cheaper_later_one():
    projects = [P("small", 30, 0), P("big", 80, 1), P("middle", 50, 2)]
    ballots = [{"big", "middle", "small"}] * 3 + [{"big", "middle"}, {"big"}]
    assert approvals(projects, ballots) == {"small": 3, "big": 5, "middle": 4}
    # big (5 approvals) leaves 40: middle (4) does not fit and is skipped, small (3) does.
    assert greedy(projects, ballots, Decimal(120)) == ["big", "small"]


def test_a_project_nobody_approved_is_never_funded_even_with_money_left():
    projects = [P("wanted", 10, 0), P("unwanted", 5, 1)]
    ballots = [{"wanted"}, {"wanted"}, set()]
    assert greedy(projects, ballots, Decimal(1000)) == ["wanted"]
    assert equal_shares(projects, ballots, Decimal(1000)) == ["wanted"]
    assert equal_shares(projects, ballots, Decimal(1000), completion="none") == ["wanted"]
    assert equal_shares(projects, [set(), set()], Decimal(1000)) == []
    assert greedy(projects, [], Decimal(1000)) == []
    assert equal_shares(projects, [], Decimal(1000)) == []


def test_greedy_ties_go_to_the_lower_cost_then_the_earlier_submission():
    projects = [P("late-cheap", 40, 3), P("early-dear", 60, 0), P("late", 50, 2), P("early", 50, 1)]
    ballots = [{"late-cheap", "early-dear", "late", "early"}] * 2
    assert greedy(projects, ballots, Decimal(140)) == ["late-cheap", "early", "late"]
    assert greedy(projects, ballots, Decimal(100)) == ["late-cheap", "early"]


def test_equal_shares_ties_go_to_the_lower_cost_then_the_earlier_submission():
    # Everyone approves everything: every affordability is 1/n, so the tie-break decides.
    projects = [P("b", 30, 2), P("a", 30, 1), P("c", 20, 3)]
    ballots = [{"a", "b", "c"}] * 4
    assert equal_shares(projects, ballots, Decimal(80), completion="none") == ["c", "a", "b"]
    assert equal_shares(projects, ballots, Decimal(55), completion="none") == ["c", "a"]


def test_equal_shares_does_not_let_a_majority_take_everything():
    # Six voters want the A projects, four the B projects; each costs 30 of the 100.
    projects = [P(f"A{i}", 30, i) for i in range(3)] + [P(f"B{i}", 30, 3 + i) for i in range(2)]
    ballots = [{"A0", "A1", "A2"}] * 6 + [{"B0", "B1"}] * 4
    assert greedy(projects, ballots, Decimal(100)) == ["A0", "A1", "A2"]
    # The six hold 60 of the 100: two A projects. The four hold 40: one B project.
    assert equal_shares(projects, ballots, Decimal(100), completion="none") == ["A0", "A1", "B0"]
    assert equal_shares(projects, ballots, Decimal(100)) == ["A0", "A1", "B0"]


def test_add1_funds_more_than_plain_equal_shares():
    # Two voters want X (60) but hold only 50 between them; the other two fund Y (40).
    # Add1 raises every share to 30: X becomes affordable and both fit in the 100.
    projects = [P("X", 60, 0), P("Y", 40, 1)]
    ballots = [{"X"}, {"X"}, {"Y"}, {"Y"}]
    assert equal_shares(projects, ballots, Decimal(100), completion="none") == ["Y"]
    assert equal_shares(projects, ballots, Decimal(100)) == ["Y", "X"]
    assert pabutools_mes(projects, ballots, Decimal(100), "add1") == ["Y", "X"]


def test_add1_stops_before_the_outcome_exceeds_the_budget():
    # Raising the shares first funds Z too (over budget): the outcome before that is kept.
    projects = [P("X", 60, 0), P("Y", 35, 1), P("Z", 30, 2)]
    ballots = [{"X", "Z"}, {"X", "Z"}, {"Y"}, {"Y", "Z"}]
    funded = equal_shares(projects, ballots, Decimal(100))
    assert funded == reference_mes(projects, ballots, Decimal(100))
    assert funded == pabutools_mes(projects, ballots, Decimal(100), "add1")
    assert cost_of(projects, funded) <= 100


def test_realistic_council_round_from_a_pabulib_file():
    text = (DATA / "donghu-2025.pb").read_text(encoding="utf-8")
    projects, ballots, budget = parse(text).to_allocation()
    # p6 (5 approvals) does not fit after p2 and p1; cheaper p5, p3, p7 still do; p8, with no
    # approval, is never funded though 104,999.50 is left.
    assert greedy(projects, ballots, budget) == ["p2", "p1", "p5", "p3", "p7"]
    assert greedy(projects, ballots, budget) == pabutools_greedy(projects, ballots, budget)
    for completion in ("none", "add1"):
        assert equal_shares(projects, ballots, budget, completion) == pabutools_mes(
            projects, ballots, budget, completion
        )
    # pabutools reading the file itself agrees (its Project names are our ids).
    instance, profile = parse_pabulib_from_string(text)
    tie = our_tie_breaking(projects)
    funded = method_of_equal_shares(
        instance, profile, sat_class=Cost_Sat, tie_breaking=tie, voter_budget_increment=1
    )
    assert [p.name for p in funded] == equal_shares(projects, ballots, budget)
    assert {p.name: Fraction(int(p.cost.numerator), int(p.cost.denominator)) for p in instance} == {
        p.id: Fraction(p.cost) for p in projects
    }


def district_round(num_voters, num_projects, seed, budget):
    """A district-style round: skewed popularity, costs ¥1,000–¥20,000 (small, so that
    pabutools' one-yuan-at-a-time Add1 stays quick)."""
    rng = random.Random(seed)
    projects = [P(str(i + 1), rng.randint(1_000, 20_000), i) for i in range(num_projects)]
    weights = [rng.paretovariate(1.2) for _ in projects]
    ballots = [
        set(rng.choices([p.id for p in projects], weights=weights, k=rng.randint(1, 5)))
        for _ in range(num_voters)
    ]
    return projects, ballots, Decimal(budget)


@pytest.mark.parametrize(("voters", "seed"), [(40, 1), (120, 2), (300, 3)])
def test_realistic_district_rounds_match_pabutools(voters, seed):
    election = district_round(voters, 12, seed, 60_000)
    assert greedy(*election) == pabutools_greedy(*election)
    assert equal_shares(*election, completion="none") == pabutools_mes(*election, "none")
    assert equal_shares(*election) == pabutools_mes(*election, "add1")


def test_written_file_read_by_pabutools_gives_the_same_outcome():
    projects, ballots, budget = district_round(60, 10, 4, 50_000)
    text = write(
        parse(
            "META\nkey;value\nbudget;{}\nvote_type;approval\nPROJECTS\nproject_id;cost\n{}\n"
            "VOTES\nvoter_id;vote\n{}\n".format(
                budget,
                "\n".join(f"{p.id};{p.cost}" for p in projects),
                "\n".join(f"{i};{','.join(sorted(b))}" for i, b in enumerate(ballots)),
            )
        )
    )
    instance, profile = parse_pabulib_from_string(text)
    funded = method_of_equal_shares(
        instance,
        profile,
        sat_class=Cost_Sat,
        tie_breaking=our_tie_breaking(projects),
        voter_budget_increment=1,
    )
    assert [p.name for p in funded] == equal_shares(projects, ballots, budget)


def test_few_voters_and_a_large_envelope_need_few_runs(monkeypatch):
    """30 council members and ¥2,000,000: ~¥66,667 each, and the unit-by-unit loop would run
    Equal Shares tens of thousands of times; the jumps need a few dozen."""
    rng = random.Random(7)
    projects = [P(str(i + 1), rng.randint(10_000, 500_000), i) for i in range(20)]
    ballots = [{p.id for p in projects if rng.random() < 0.3} for _ in range(30)]
    runs = []
    real_run = allocation._mes_run

    def counting_run(*args, **kwargs):
        runs.append(args[2])
        return real_run(*args, **kwargs)

    monkeypatch.setattr(allocation, "_mes_run", counting_run)
    funded = equal_shares(projects, ballots, Decimal(2_000_000))
    assert cost_of(projects, funded) <= 2_000_000
    assert len(runs) < 200
    assert runs[-1] - runs[0] > 1000  # it did travel far beyond the first share


def test_fast_add1_equals_a_unit_by_unit_loop_on_a_large_envelope():
    """Six voters, ¥30,000: thousands of one-yuan steps, run one by one (with the inner run of
    this module, checked against the reference above) and compared with the fast path."""
    rng = random.Random(11)
    projects = [P(str(i + 1), rng.randint(1_000, 12_000), i) for i in range(7)]
    ballots = [{p.id for p in projects if rng.random() < 0.45} for _ in range(6)]
    budget = Decimal(30_000)
    data = allocation._election(projects, ballots, budget)
    candidates = [p for p in range(len(projects)) if data.counts[p]]
    share, previous, steps = data.budget / len(ballots), [], 0
    while True:
        outcome, _ = allocation._mes_run(data, candidates, share, track=False)
        steps += 1
        spent = sum(data.costs[p] for p in outcome)
        if spent > data.budget:
            expected = previous
            break
        if all(spent + data.costs[p] > data.budget for p in candidates if p not in outcome):
            expected = outcome
            break
        previous, share = outcome, share + 1
    assert steps > 100  # the instance does exercise many steps
    assert equal_shares(projects, ballots, budget) == [data.ids[p] for p in expected]


# --- input ----------------------------------------------------------------------------------


def test_approvals_counts_every_project_once_per_ballot():
    projects = [P("a", 1, 0), P("b", 1, 1), P("c", 1, 2)]
    assert approvals(projects, [["a", "a", "b"], {"b"}, set()]) == {"a": 1, "b": 2, "c": 0}


@pytest.mark.parametrize(
    ("projects", "ballots", "budget", "error"),
    [
        ([P("a", 1, 0)], [{"x"}], Decimal(5), "unknown project 'x'"),
        ([P("a", 1, 0), P("a", 2, 1)], [], Decimal(5), "duplicate project id 'a'"),
        ([P("a", 1, 0), P("b", 2, 0)], [], Decimal(5), "submission order 0"),
        ([P("a", 0, 0)], [], Decimal(5), "not more than 0"),
        ([P("a", "1.005", 0)], [], Decimal(5), "more than 2 decimal places"),
        ([P("a", 1, 0)], [], Decimal(-1), "negative"),
    ],
)
def test_bad_input_is_refused(projects, ballots, budget, error):
    for rule in (greedy, equal_shares):
        with pytest.raises(ValueError, match=error):
            rule(projects, ballots, budget)


def test_money_must_not_be_a_float():
    with pytest.raises(TypeError):
        greedy([Project("a", 1.5, 0)], [], Decimal(5))
    with pytest.raises(TypeError):
        equal_shares([P("a", 1, 0)], [], 5.0)


def test_unknown_completion_is_refused():
    with pytest.raises(ValueError, match="completion"):
        equal_shares([P("a", 1, 0)], [{"a"}], Decimal(5), completion="add2")
