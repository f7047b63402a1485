"""``tools/weishi_verify.py --audit`` recounts every ballot and recomputes every yearly round's
funded projects from the log's entries and the site's open data: against a static log and open
data written by the tests (tests/tools/decisions.py), a true record passes, each kind of
forgery fails naming the ballot or round; and the checker's arithmetic and funding rules agree
with the app's (voting.tally, voting.allocation) and with pabutools."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings

from tests.tools.decisions import Decisions, voter, write_open_data
from tests.tools.static_log import StaticLog, canonical, make_entry, serving
from tests.tools.test_weishi_verify import TOOL, wv
from tests.voting.test_allocation import elections, pabutools_mes, reference_mes
from voting import allocation
from voting.tally import tally_compute

# --------------------------------------------------------------------------------------------
# A site whose log and open data record ballots and rounds
# --------------------------------------------------------------------------------------------

SLATE = {21: "30000.00", 22: "45000.00", 23: "12000.50", 24: "60000.00", 25: "8000.00"}


def true_record() -> Decisions:
    """Three ballots closed (roll-call with a change of vote, roll-call with a recusal,
    secret with a show of hands and a recusal), one still open; four rounds (greedy, Equal
    Shares with and without Add1, a secret one with a paper ballot) and one that missed its
    quorum."""
    d = Decisions()
    d.ballot(1, [(11, "yes"), (12, "no"), (13, "yes"), (12, "yes"), (14, "abstain")])
    d.ballot(
        2, [(11, "no"), (12, "no"), (13, "yes")], recused=(13,), threshold="majority_of_members"
    )
    d.ballot(
        3,
        [(11, "yes"), (12, "no"), (13, "yes"), (12, "abstain")],
        secret=True,
        hands=(1, 0, 0),
        recused=(15,),
    )
    d.ballot(4, [(11, "yes")], close=False)
    ballots = [(11, {21, 22}), (12, {22, 25}), (13, {21, 23, 24}), (14, {24}), (12, {22, 23})]
    d.round(1, SLATE, ballots, rule="greedy")
    d.round(2, SLATE, ballots, rule="mes", add1=True)
    d.round(3, SLATE, ballots, rule="mes", add1=False)
    d.round(4, SLATE, ballots, rule="mes", secret=True, clerk=(14,))
    d.round(5, SLATE, ballots[:2], base=9)
    return d


class Site:
    """A served static log made of filler entries and ``decisions``' entries, with their open
    data; ``run`` runs the checker on it."""

    def __init__(self, root, url, capsys) -> None:
        self.root, self.url, self.capsys = root, url, capsys
        self.log = StaticLog(root, url.removeprefix("http://") + "/log")
        self.record = true_record()

    def publish(self, entries: list[dict] | None = None, open_data=None) -> None:
        fields = [make_entry(0) for _ in range(300)] + (entries or self.record.entries)
        self.log.publish([canonical({**f, "index": i}) for i, f in enumerate(fields)])
        write_open_data(self.root, open_data or self.record.open_data)

    def run(self, *args: str, lang: str = "en") -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = wv.main([self.url, "--log-key", self.log.log.vkey, "--audit", "--lang", lang, *args])
        out, err = self.capsys.readouterr()
        return code, out, err

    def entry(self, action: str, obj: str) -> dict:
        return next(e for e in self.record.entries if e["action"] == action and e["object"] == obj)

    def row(self, dataset: str, **match) -> dict:
        return next(
            r
            for r in self.record.open_data[dataset]
            if all(r.get(k) == v for k, v in match.items())
        )


@pytest.fixture
def site(tmp_path, capsys):
    with serving(tmp_path) as url:
        site = Site(tmp_path, url, capsys)
        site.publish()
        yield site


def test_a_true_record_recounts_every_ballot_and_recomputes_every_round(site):
    code, out, err = site.run()
    assert (code, err) == (0, ""), err
    assert 'Recomputed "each ballot\'s tally": 3 checked, all agree.' in out
    assert "3 closed ballots recounted (1 of them secret); 1 still open." in out
    assert 'Recomputed "each yearly round\'s funded projects": 5 checked, all agree.' in out
    assert "5 closed rounds recomputed; 0 still open." in out
    assert out.rstrip().endswith("Every check holds.")


def test_the_recount_speaks_chinese_by_default(site):
    code, out, _ = site.run(lang="zh")
    assert code == 0
    assert "✓ 重新核算「每次表决的计票结果」：核对 3 项，全部一致。" in out
    assert "已重新计票 3 次已结束的表决（其中无记名表决 1 次）；1 次表决尚未结束。" in out
    assert "已重新计算 5 次已结束的年度集中表决；0 次尚未结束。" in out


def test_the_funded_projects_recomputed_are_the_apps(site):
    closed = {
        e["object"]: e["payload"]["funded"]
        for e in site.record.entries
        if e["action"] == "round.closed"
    }
    # The record's rounds differ by rule, so each rule is exercised on a different outcome.
    assert closed["voting.round:1"] != closed["voting.round:3"]
    assert closed["voting.round:5"] == []


# --- Forgeries, each named ------------------------------------------------------------------


def test_a_tally_changed_in_the_open_data_is_named(site):
    site.row("ballots", ballot_id=1)["yes"] = 4
    site.publish()
    code, _, err = site.run()
    assert code == 1
    assert '✗ Recomputed "each ballot\'s tally": 3 checked, 1 disagree.' in err
    assert "Ballot 1: the open data (ballots) gives 4 for the yes votes; recomputed: 3." in err


def test_a_vote_recorded_after_the_close_is_named(site):
    late = dict(site.entry("vote.cast", "voting.ballot:1"))
    late["payload"] = {"choice": "no", "voter": voter("ballot", 1, 99)}
    site.publish(site.record.entries + [late])
    code, _, err = site.run()
    assert code == 1
    assert "Ballot 1: entry " in err and "(vote.cast) comes after its close" in err


def test_a_closing_entry_whose_outcome_does_not_follow_from_its_counts_is_named(site):
    site.entry("ballot.closed", "voting.ballot:2")["payload"]["outcome"] = "approved"
    site.publish()
    code, _, err = site.run()
    assert code == 1
    assert "Ballot 2: its closing entry" in err
    assert "gives approved for the outcome; recomputed: invalid." in err


def test_a_roll_call_vote_missing_from_the_log_is_caught_by_the_recount(site):
    entries = [
        e for e in site.record.entries if e is not site.entry("vote.cast", "voting.ballot:1")
    ]
    site.publish(entries)
    code, _, err = site.run()
    assert code == 1
    assert "Ballot 1: each member's last vote in the log counts 2 yes, 0 no, 1 abstain" in err


def test_a_changed_line_of_a_published_list_breaks_its_sealed_hash(site):
    line = site.row("ballot_receipts", ballot_id=3)
    line["choice"] = "no" if line["choice"] != "no" else "yes"
    site.publish()
    code, _, err = site.run()
    assert code == 1
    assert "Ballot 3: the list of votes in the open data (ballot_receipts) has SHA-256" in err
    assert "the list was altered" in err
    assert "Ballot 3: the published list of votes with the show of hands counts" in err


def test_a_secret_list_with_more_votes_than_members_who_voted_is_named(site):
    entries = [
        e for e in site.record.entries if e is not site.entry("vote.cast", "voting.ballot:3")
    ]
    site.publish(entries)
    code, _, err = site.run()
    assert code == 1
    assert "Ballot 3: the published list holds 3 online votes, while the log records 2" in err


def test_a_secret_ballots_entry_that_names_the_voter_is_named(site):
    site.entry("vote.cast", "voting.ballot:3")["actor"] = "official:11"
    site.publish()
    code, _, err = site.run()
    assert code == 1
    assert "Ballot 3 is secret, but entry" in err and "names the member or their choice" in err


def test_votes_on_a_ballot_the_log_never_opened_are_named(site):
    stray = dict(site.entry("vote.cast", "voting.ballot:1"), object="voting.ballot:77")
    site.publish(site.record.entries + [stray])
    code, _, err = site.run()
    assert code == 1
    assert "Ballot 77: entry " in err and "but the log never opened it" in err


def test_funded_projects_other_than_the_rules_are_named(site):
    closed = site.entry("round.closed", "voting.round:2")["payload"]
    closed["funded"] = list(reversed(closed["funded"]))
    funded = site.row("round_projects", round_id=1, proposal_id=25)
    funded["funded"] = "no" if funded["funded"] == "yes" else "yes"
    site.publish()
    code, _, err = site.run()
    assert code == 1
    assert '✗ Recomputed "each yearly round\'s funded projects": 5 checked, 2 disagree.' in err
    assert "Round 2: its closing entry" in err
    assert "for the funded projects (Equal Shares with Add1)" in err
    assert "Round 1: the open data (round_projects) gives" in err
    assert "for whether it is funded of project 25" in err


def test_a_changed_ballot_of_a_round_breaks_its_sealed_hash_and_the_funding(site):
    line = site.row("round_receipts", round_id=1)
    line["approved"] = "21,22,23,24,25"
    site.publish()
    code, _, err = site.run()
    assert code == 1
    assert "Round 1: the list of votes in the open data (round_receipts) has SHA-256" in err


def test_open_data_that_is_not_a_list_of_rows_fails_naming_the_file(site):
    (site.root / "open-data" / "ballots.json").write_text('{"rows": 3}')
    code, _, err = site.run()
    assert code == 1
    assert f"open data file ({site.url}/open-data/ballots.json) is not JSON" in err


def test_missing_open_data_cannot_be_checked(site):
    (site.root / "open-data" / "round_projects.json").unlink()
    code, _, err = site.run()
    assert code == 2
    assert f"HTTP 404 for {site.url}/open-data/round_projects.json" in err


def test_a_log_without_ballots_fetches_no_open_data(site):
    for path in (site.root / "open-data").iterdir():
        path.unlink()
    site.publish([make_entry(0)])
    code, out, err = site.run()
    assert (code, err) == (0, ""), err
    assert "0 closed ballots recounted" in out


def test_entries_from_before_the_audit_are_compared_in_part_and_said_so(site):
    opened = site.entry("round.opened", "voting.round:1")["payload"]
    del opened["costs"], opened["rules"]
    for entry in site.record.entries:
        if entry["object"] == "voting.ballot:2" and entry["action"].startswith("vote."):
            del entry["payload"]["voter"]
    site.publish()
    code, out, err = site.run()
    assert (code, err) == (0, ""), err
    assert "Ballot 2: its entries predate what a recount needs" in out
    assert "Round 1: its entries predate what a recount needs" in out


# --------------------------------------------------------------------------------------------
# The checker's arithmetic against the app's, and its funding rules against the app's and
# pabutools'
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "threshold", ["majority_of_members", "majority_of_cast", "two_thirds_of_cast"]
)
@pytest.mark.parametrize("quorum", [Fraction(1, 2), Fraction(2, 3), Fraction(3, 4), Fraction(1)])
def test_the_checkers_tally_is_the_apps_for_every_small_ballot(threshold, quorum):
    for base in range(1, 8):
        for yes in range(base + 1):
            for no in range(base + 1 - yes):
                for abstain in range(base + 1 - yes - no):
                    app = tally_compute(
                        quorum=quorum,
                        threshold=threshold,
                        base=base,
                        yes=yes,
                        no=no,
                        abstain=abstain,
                    ).as_dict()
                    assert wv.ballot_tally(base, yes, no, abstain, quorum, threshold) == app


def checker(election, rule: str, completion: str = "add1") -> list[str]:
    """The checker's rule on an election of voting.allocation's form: projects numbered in
    their submission order."""
    projects, ballots, budget = election
    ordered = sorted(projects, key=lambda p: p.order)
    number = {p.id: n for n, p in enumerate(ordered)}
    costs = [Fraction(p.cost) for p in ordered]
    sets = [{number[i] for i in ballot} for ballot in ballots]
    if rule == "greedy":
        funded = wv.fund_greedy(costs, sets, Fraction(budget))
    else:
        funded = wv.fund_equal_shares(costs, sets, Fraction(budget), completion)
    return [ordered[n].id for n in funded]


@given(elections())
def test_the_checkers_greedy_is_the_apps(election):
    assert checker(election, "greedy") == allocation.greedy(*election)


@settings(max_examples=150)
@given(elections(max_cost=2000))
def test_the_checkers_equal_shares_is_the_apps_and_the_one_yuan_loops(election):
    assert checker(election, "mes", "none") == allocation.equal_shares(*election, "none")
    funded = checker(election, "mes", "add1")
    assert funded == allocation.equal_shares(*election, "add1")
    assert funded == reference_mes(*election, "add1")


@settings(max_examples=40)
@given(elections(max_cost=100))
def test_the_checkers_equal_shares_is_pabutools(election):
    assert checker(election, "mes", "none") == pabutools_mes(*election, "none")
    assert checker(election, "mes", "add1") == pabutools_mes(*election, "add1")


def test_a_council_round_with_a_large_envelope_is_recomputed_quickly():
    """30 members and ¥2,000,000 (about ¥66,667 each): tens of thousands of one-yuan steps,
    skipped where the outcome cannot change."""
    import random
    import time

    rng = random.Random(7)
    projects = [
        allocation.Project(str(i + 1), Decimal(rng.randint(10_000, 500_000)), i) for i in range(20)
    ]
    ballots = [{p.id for p in projects if rng.random() < 0.3} for _ in range(30)]
    election = (projects, ballots, Decimal(2_000_000))
    started = time.process_time()
    funded = checker(election, "mes")
    assert time.process_time() - started < 20
    assert funded == allocation.equal_shares(*election)


def test_the_published_list_hashes_are_the_apps():
    from voting.receipts import ballot_list_digest, round_list_digest

    rows = [("b" * 64, "yes"), ("a" * 64, "no")]
    assert wv.ballot_list_sha256(7, rows, (1, 0, 2)) == ballot_list_digest(7, rows, (1, 0, 2))
    rows = [("c" * 64, "4,9"), ("d" * 64, "")]
    assert wv.round_list_sha256(8, rows) == round_list_digest(8, rows)


def test_the_record_written_for_these_tests_is_json_the_checker_reads(tmp_path):
    record = true_record()
    write_open_data(tmp_path, record.open_data)
    document = json.loads((tmp_path / "open-data" / "rounds.json").read_text())
    assert len(document["rows"]) == 5


def test_whatever_the_entries_and_open_data_hold_the_checker_says_what_is_wrong(site):
    """Any field of a ballot's or round's entries or open data replaced by any JSON value: the
    audit passes or fails with messages, never breaks down."""
    rng = random.Random(15)
    values = [None, -1, 0, 10**30, "", "x", "1.5", [], [1, "a"], {}, {"a": [None]}, True, 0.5]
    for _ in range(60):
        record = true_record()
        if rng.random() < 0.5:
            entry = rng.choice([e for e in record.entries if e.get("payload")])
            target = entry["payload"]
        else:
            target = rng.choice([row for rows in record.open_data.values() for row in rows])
        key = rng.choice(sorted(target))
        target[key] = rng.choice(values)
        site.record = record
        site.publish()
        code, out, err = site.run()
        assert code in (0, 1), (key, target[key], out + err)
        assert "broke down" not in err


def test_a_result_published_without_any_entry_is_pointed_out(site):
    stray = dict(site.row("ballots", ballot_id=1), ballot_id=99)
    site.record.open_data["ballots"].append(stray)
    site.publish()
    code, out, _ = site.run()
    assert code == 0  # it may have been decided after the checkpoint: said, not failed
    assert "The open data (ballots) publishes 1 result(s) (the first numbered 99)" in out


def test_the_recount_spread_over_processes_agrees_with_one_process(site):
    # --jobs 2: the bundles are checked in worker processes, which send back whole only the
    # entries a recount reads; what the reader is told must not change. The checker runs in
    # its own process, as a resident runs it (single-threaded when it forks its workers).
    def spread():
        done = subprocess.run(
            [sys.executable, str(TOOL), site.url, "--log-key", site.log.log.vkey, "--audit",
             "--lang", "en", "--jobs", "2"],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        return done.returncode, done.stdout, done.stderr

    assert spread() == site.run("--jobs", "1")
    late = dict(site.entry("vote.cast", "voting.ballot:1"))
    late["payload"] = {"choice": "no", "voter": voter("ballot", 1, 99)}
    site.publish(site.record.entries + [late])
    one = site.run("--jobs", "1")
    assert one[0] == 1 and "(vote.cast) comes after its close" in one[2]
    assert spread() == one
