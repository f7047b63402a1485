"""Ballots and yearly rounds as the public sees them: their entries in the log and their rows in
the open data, written from docs/transparency-log.md ("Audit") and docs/security.md ("Secret
ballots and rounds") for the tests and the benchmark of ``tools/weishi_verify.py --audit``.

The tallies follow the rules of procedure as DESIGN.md states them; the funded projects are
the app's own (``voting.allocation``, pure Python), so that the checker's recomputation is
checked against the app's. ``Decisions`` gathers entries (without their index: the log gives
it) and open data rows; ``publish`` writes both for a ``StaticLog``.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from voting.allocation import Project, equal_shares, greedy

CHOICES = ("yes", "no", "abstain")
DATASETS = ("ballots", "ballot_receipts", "rounds", "round_projects", "round_receipts")


def sha_lines(*lines: str) -> str:
    return hashlib.sha256("".join(f"{line}\n" for line in lines).encode()).hexdigest()


def voter(kind: str, number: int, member: int) -> str:
    """A stand-in for the server's keyed commitment to a member on one ballot or round."""
    return hashlib.sha256(f"key:{kind}:{number}:{member}".encode()).hexdigest()


def receipt(kind: str, number: int, member: int, version: int = 0) -> str:
    """A stand-in for a member's random receipt (32 characters, A–Z and 2–7)."""
    digest = hashlib.sha256(f"receipt:{kind}:{number}:{member}:{version}".encode()).digest()
    return "".join("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[b % 32] for b in digest[:32])


def tally(base: int, yes: int, no: int, abstain: int, quorum: tuple[int, int], threshold: str):
    """The closing entry's figures, as DESIGN.md's "Rules of procedure" define them."""
    q = Fraction(*quorum)
    participation, cast = yes + no + abstain, yes + no
    valid = participation >= q * base
    needed = {
        "majority_of_members": base // 2 + 1,
        "majority_of_cast": cast // 2 + 1,
        "two_thirds_of_cast": max(1, -(-2 * cast // 3)),
    }[threshold]
    passed = valid and cast > 0 and yes >= needed
    return {
        "base": base,
        "yes": yes,
        "no": no,
        "abstain": abstain,
        "quorum": f"{q.numerator}/{q.denominator}",
        "threshold": threshold,
        "participation": participation,
        "cast": cast,
        "quorum_needed": -(-q.numerator * base // q.denominator),
        "valid": valid,
        "yes_needed": needed,
        "passed": passed,
        "outcome": "approved" if passed else "rejected" if valid else "invalid",
    }


class Decisions:
    """Entries and open data rows of ballots and rounds, in the order they are added."""

    def __init__(self) -> None:
        self.entries: list[dict] = []
        self.open_data: dict[str, list[dict]] = {name: [] for name in DATASETS}

    def add(self, **fields) -> dict:
        fields.setdefault("community", 1)
        fields.setdefault("role", "staff")
        fields.setdefault("actor", "official:1")
        self.entries.append(fields)
        return fields

    # --- Ballots ----------------------------------------------------------------------------

    def ballot(
        self,
        number: int,
        votes: list[tuple[int, str]],
        *,
        secret: bool = False,
        hands: tuple[int, int, int] = (0, 0, 0),
        base: int = 5,
        quorum: tuple[int, int] = (2, 3),
        threshold: str = "majority_of_cast",
        recused: tuple[int, ...] = (),
        close: bool = True,
    ) -> None:
        """A ballot on proposal ``number + 1000``: opened, ``votes`` given in this order
        ((member, choice); a member again changes their vote), ``recused`` members leaving
        (their vote withdrawn), the show of hands, then closed."""
        obj = f"voting.ballot:{number}"
        rules = {
            "quorum_numerator": quorum[0],
            "quorum_denominator": quorum[1],
            "threshold": threshold,
            "secrecy": "secret" if secret else "roll_call",
            "board_shows_running_count": False,
        }
        self.add(
            action="ballot.opened",
            object=obj,
            payload={
                "proposal": number + 1000,
                "closes_at": "2026-01-02T08:00:00+08:00",
                "base": base,
                "rules": rules,
                "meeting": None,
            },
        )
        last: dict[int, tuple[str, int]] = {}
        for member, choice in votes:
            action = "vote.changed" if member in last else "vote.cast"
            last[member] = (choice, last[member][1] + 1 if member in last else 0)
            key = voter("ballot", number, member)
            if secret:
                self.add(
                    action=action,
                    object=obj,
                    role="council_member",
                    actor=None,
                    payload={"voter": key},
                )
            else:
                self.add(
                    action=action,
                    object=obj,
                    role="council_member",
                    actor=f"official:{member}",
                    payload={"choice": choice, "voter": key},
                )
        for member in recused:
            base -= 1
            last.pop(member, None)
            payload = {"base": base}
            if not secret:
                payload["voter"] = voter("ballot", number, member)
            self.add(
                action="ballot.member_recused",
                object=obj,
                role="council_member",
                actor=f"official:{member}",
                payload=payload,
            )
        if hands != (0, 0, 0):
            self.add(
                action="ballot.hands_counted",
                object=obj,
                payload=dict(zip(CHOICES, hands, strict=True)),
            )
        if not close:
            return
        rows = []
        for member, (choice, version) in last.items():
            r = receipt("ballot", number, member, version)
            commitment = sha_lines(
                "weishi:vote:v1", f"ballot:{number}", f"receipt:{r}", f"choice:{choice}"
            )
            rows.append({"ballot_id": number, "commitment": commitment, "choice": choice})
        rows.sort(key=lambda row: row["commitment"])
        digest = sha_lines(
            "weishi:ballot_votes:v2",
            f"ballot:{number}",
            *sorted(f"vote:{row['commitment']}:{row['choice']}" for row in rows),
            "hands:{}:{}:{}".format(*hands),
        )
        choices = [choice for choice, _version in last.values()]
        counts = [choices.count(c) + h for c, h in zip(CHOICES, hands, strict=True)]
        result = tally(base, *counts, quorum, threshold)
        self.add(
            action="ballot.closed",
            object=obj,
            payload={**result, "votes_sha256": digest, "reason": ""},
        )
        self.open_data["ballot_receipts"] += rows
        self.open_data["ballots"].append(
            {
                "ballot_id": number,
                "proposal_id": number + 1000,
                "community": "东湖社区",
                "title": f"提议 {number}",
                "opened": "2026-01-01",
                "closed": "2026-01-02",
                "secrecy": rules["secrecy"],
                "quorum": f"{quorum[0]}/{quorum[1]}",
                "threshold": threshold,
                "base": base,
                "yes": counts[0],
                "no": counts[1],
                "abstain": counts[2],
                "participation": sum(counts),
                "outcome": result["outcome"],
                "sentence": "……",
                "closed_early_reason": "",
                "hands_yes": hands[0],
                "hands_no": hands[1],
                "hands_abstain": hands[2],
                "votes_format": "receipts",
                "votes_sha256": digest,
                "url": f"https://weishi.example.org/c/a/ballots/{number}/",
            }
        )

    # --- Rounds -----------------------------------------------------------------------------

    def round(
        self,
        number: int,
        costs: dict[int, str],
        ballots: list[tuple[int, set[int]]],
        *,
        money: str = "100000.00",
        rule: str = "greedy",
        add1: bool = True,
        secret: bool = False,
        base: int = 5,
        quorum: tuple[int, int] = (1, 2),
        clerk: tuple[int, ...] = (),
    ) -> list[int]:
        """A round on the slate ``costs`` (proposal id → cost, in submission order): opened,
        ``ballots`` handed in in this order ((member, approved ids); a member again changes
        theirs; members in ``clerk`` hand theirs in on paper), closed. Returns the funded ids
        as the app funds them (``voting.allocation``)."""
        obj = f"voting.round:{number}"
        slate = list(costs)
        rules = {
            "quorum_numerator": quorum[0],
            "quorum_denominator": quorum[1],
            "threshold": "majority_of_cast",
            "secrecy": "secret" if secret else "roll_call",
            "board_shows_running_count": False,
        }
        self.add(
            action="round.opened",
            object=obj,
            payload={
                "slate": slate,
                "costs": [costs[pk] for pk in slate],
                "money": money,
                "rule": rule,
                "add1": add1,
                "base": base,
                "rules": rules,
                "closes_at": "2026-01-02T08:00:00+08:00",
            },
        )
        last: dict[int, tuple[list[int], int]] = {}
        for member, approved in ballots:
            chosen = sorted(approved)
            version = last[member][1] + 1 if member in last else 0
            action = "round.ballot_changed" if member in last else "round.ballot_cast"
            last[member] = (chosen, version)
            key = voter("round", number, member)
            if member in clerk:
                payload = (
                    {"voter": key}
                    if secret
                    else {"approved": chosen, "member": f"成员{member}", "voter": key}
                )
                self.add(action="round.ballot_recorded_by_clerk", object=obj, payload=payload)
            elif secret:
                self.add(
                    action=action,
                    object=obj,
                    role="council_member",
                    actor=None,
                    payload={"voter": key},
                )
            else:
                self.add(
                    action=action,
                    object=obj,
                    role="council_member",
                    actor=f"official:{member}",
                    payload={"approved": chosen, "voter": key},
                )
        final = [chosen for chosen, _version in last.values()]
        participation = len(final)
        valid = participation >= Fraction(*quorum) * base
        projects = [
            Project(id=str(pk), cost=Decimal(costs[pk]), order=n) for n, pk in enumerate(slate, 1)
        ]
        sets = [{str(pk) for pk in chosen} for chosen in final]
        if not valid:
            funded = []
        elif rule == "greedy":
            funded = [int(pk) for pk in greedy(projects, sets, Decimal(money))]
        else:
            completion = "add1" if add1 else "none"
            funded = [int(pk) for pk in equal_shares(projects, sets, Decimal(money), completion)]
        approvals = {pk: sum(pk in chosen for chosen in final) for pk in slate}
        spent = sum((Decimal(costs[pk]) for pk in funded), Decimal("0.00"))
        rows = []
        for member, (chosen, version) in last.items():
            text = ",".join(str(pk) for pk in chosen)
            r = receipt("round", number, member, version)
            commitment = sha_lines(
                "weishi:round_ballot:v1", f"round:{number}", f"receipt:{r}", f"approved:{text}"
            )
            rows.append({"round_id": number, "commitment": commitment, "approved": text})
        rows.sort(key=lambda row: row["commitment"])
        digest = sha_lines(
            "weishi:round_ballots:v2",
            f"round:{number}",
            *sorted(f"ballot:{row['commitment']}:{row['approved']}" for row in rows),
        )
        self.add(
            action="round.closed",
            object=obj,
            payload={
                "participation": participation,
                "base": base,
                "valid": valid,
                "funded": funded,
                "approvals": {str(pk): n for pk, n in approvals.items()},
                "spent": f"{spent:.2f}",
                "money": money,
                "votes_sha256": digest,
                "reason": "",
            },
        )
        self.open_data["round_receipts"] += rows
        self.open_data["rounds"].append(
            {
                "round_id": number,
                "community": "东湖社区",
                "title": f"{number} 年度集中表决",
                "opened": "2026-01-01",
                "closed": "2026-01-02",
                "secrecy": rules["secrecy"],
                "quorum": f"{quorum[0]}/{quorum[1]}",
                "rule": rule,
                "completion": ("add1" if add1 else "none") if rule == "mes" else "",
                "base": base,
                "participation": participation,
                "outcome": "decided" if valid else "invalid",
                "money": money,
                "spent": f"{spent:.2f}",
                "closed_early_reason": "",
                "votes_format": "receipts",
                "votes_sha256": digest,
                "url": f"https://weishi.example.org/c/a/rounds/{number}/",
            }
        )
        for position, pk in enumerate(slate, 1):
            self.open_data["round_projects"].append(
                {
                    "round_id": number,
                    "proposal_id": pk,
                    "position": position,
                    "cost": f"{Decimal(costs[pk]):.2f}",
                    "approvals": approvals[pk],
                    "funded": ("yes" if pk in funded else "no") if valid else "undecided",
                }
            )
        return funded


def write_open_data(root: Path, open_data: dict[str, list[dict]]) -> None:
    """Write each dataset as the site serves it: ``/open-data/<name>.json``."""
    folder = root / "open-data"
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in open_data.items():
        document = {"dataset": name, "schema": [], "rows": rows}
        (folder / f"{name}.json").write_text(json.dumps(document, ensure_ascii=False, indent=1))
