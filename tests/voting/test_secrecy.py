"""Secret ballots and rounds stay secret (DESIGN.md, "Decisions → Secret ballots"): nothing
public links a member to a choice, even for someone who knows every member id and the totals;
each member can check their own vote was counted; roll-call ballots stay public.
"""

import csv
import datetime as dt
import io
import json
import random
import re
import shutil
import uuid
from collections import Counter

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from council.evidence import entry_bytes, evidence_integrate
from council.models import Checkpoint, EvidenceEvent, EvidenceHead, Secrecy
from council.models import Council as Rules
from council.personal_data import personal_data_export
from disclosure import opendata
from disclosure import services as disclosure_services
from disclosure.models import Disclosure
from tests.conftest import _clear_cache
from tests.disclosure.test_language import _english_runs
from tests.disclosure.test_pdf import pdf_text
from voting import board, selectors, services
from voting.models import Ballot, Round, RoundBallot, Vote
from voting.services._common import voter_commitment

from .conftest import Council
from .secrecy import (
    HEX64,
    ZH,
    assignments,
    ballot_list_digest,
    legacy_digest,
    open_data,
    public_record,
    receipt_of,
    round_commitment,
    round_list_digest,
    vote_commitment,
)

pytestmark = pytest.mark.django_db

# 8 yes, 5 no, 2 abstain: 135,135 ways to hand these to 15 members.
TOTALS = ["yes"] * 8 + ["no"] * 5 + ["abstain"] * 2
CHOICES = ("yes", "no", "abstain")


def secret(world, *, running=False):
    Rules.objects.filter(community=world.a).update(
        secrecy=Secrecy.SECRET, board_shows_running_count=running
    )


def _two_projects(council):
    """Two projects in voting, costing ¥30,000 and ¥20,000."""
    return council.proposal("30000"), council.proposal("20000", title="加装楼道扶手")


def _guesses(member) -> set[str]:
    """What an outsider might try as a member's receipt: what is public about them."""
    return {str(member.pk), member.username, member.display_name, member.public_name}


# --- 1. The attack: every assignment tried against everything public ---------------------------


def _revealed(members, options, hashes: set[str], commitment) -> set:
    """(member, option) pairs whose ``commitment(guess, option)``, made from anything public
    about the member, is among the published ``hashes``."""
    return {
        (member.username, option)
        for member in members
        for option in options
        for guess in _guesses(member)
        if commitment(guess, option) in hashes
    }


def _recovered(members, totals: Counter, hashes: set[str], entry) -> list:
    """Every way of handing out ``totals`` to ``members`` whose digest, hashed as it once was
    from ``entry(member id, option)`` of each member, is among the published ``hashes``."""
    ids = [member.pk for member in members]
    return [
        assignment
        for assignment in assignments(totals)
        if legacy_digest([entry(m, x) for m, x in zip(ids, assignment, strict=True)]) in hashes
    ]


def test_trying_every_assignment_of_a_secret_ballot_singles_out_none(client, world):
    council = Council(world, size=15)
    secret(world)
    ballot = council.ballot()
    truth = random.Random(12).sample(TOTALS, len(TOTALS))
    council.vote(ballot, truth)
    services.ballot_close(actor=world.a_staff, ballot=ballot, reason="会议表决完毕")
    ballot.refresh_from_db()
    pages = [
        reverse("ballot", args=[world.a.slug, ballot.pk]),
        reverse("council_page", args=[world.a.slug]),
        reverse("proposal", args=[world.a.slug, ballot.proposal_id]),
    ]
    public = public_record(client, pages, [("voting.ballot", ballot.pk)])
    hashes = set(HEX64.findall(public))
    members = council.members

    # A commitment made from anything public about a member would give their choice away.
    assert not _revealed(members, CHOICES, hashes, lambda g, c: vote_commitment(ballot.pk, g, c))
    # Every way of handing out 8 yes, 5 no and 2 abstain, hashed as the digest once was.
    recovered = _recovered(members, Counter(TOTALS), hashes, lambda m, c: [m, c])
    assert recovered == [], "the members' votes are recovered from the published digest"

    # What is published fits every assignment alike: choices without members, and a digest
    # anyone recomputes from that list.
    rows = [r for r in open_data(client)["ballot_receipts"]["rows"] if r["ballot_id"] == ballot.pk]
    assert Counter(r["choice"] for r in rows) == Counter(TOTALS)
    assert ballot_list_digest(ballot.pk, rows, (0, 0, 0)) == ballot.votes_sha256
    for event in EvidenceEvent.objects.filter(object_id=str(ballot.pk), action__startswith="vote"):
        assert all(m.public_name not in event.public_actor for m in members)


def test_trying_every_assignment_of_a_secret_round_singles_out_none(client, world):
    council = Council(world, size=15)
    secret(world)
    a, b = _two_projects(council)
    round_ = council.round([a, b])
    # 9 approve a only, 4 approve both, 2 approve b only: 75,075 assignments.
    kinds = [(a.pk,)] * 9 + [(a.pk, b.pk)] * 4 + [(b.pk,)] * 2
    truth = random.Random(7).sample(kinds, len(kinds))
    for member, approved in zip(council.members, truth, strict=True):
        services.round_ballot_submit(actor=member, round_=round_, approved=list(approved))
    services.round_close(actor=world.a_staff, round_=round_, reason="会议表决完毕")
    round_.refresh_from_db()
    pages = [
        reverse("round", args=[world.a.slug, round_.pk]),
        reverse("council_page", args=[world.a.slug]),
    ]
    public = public_record(client, pages, [("voting.round", round_.pk)])
    hashes = set(HEX64.findall(public))
    members = council.members

    assert not _revealed(
        members, set(kinds), hashes, lambda g, a: round_commitment(round_.pk, g, a)
    )
    recovered = _recovered(members, Counter(kinds), hashes, lambda m, a: [m, sorted(a)])
    assert recovered == [], "the members' ballots are recovered from the published digest"

    rows = [r for r in open_data(client)["round_receipts"]["rows"] if r["round_id"] == round_.pk]
    assert Counter(r["approved"] for r in rows) == Counter(
        ",".join(map(str, sorted(k))) for k in kinds
    )
    assert round_list_digest(round_.pk, rows) == round_.votes_sha256


# --- 2. No signal: two assignments with the same totals look the same to the public -----------


class FrozenTime:
    """Django's clock (and so ``council.clock``) stands still at ``at`` until moved."""

    def __init__(self, monkeypatch, at):
        self.at = at
        monkeypatch.setattr(timezone, "now", lambda: self.at)

    def move(self, **delta):
        self.at += dt.timedelta(**delta)


def _same_ids_as_last_time():
    """Rows of the next world get the ids the rolled-back one's rows had (PostgreSQL's
    sequences do not roll back; SQLite's do)."""
    statements = connection.ops.sequence_reset_sql(no_style(), apps.get_models())
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def _fetch(client: Client, url: str) -> str:
    response = client.get(url, **ZH)
    assert response.status_code == 200, url
    return response.getvalue().decode()


def _snapshot(client, urls: dict[str, str], meeting) -> dict[str, str]:
    shots = {name: _fetch(client, url) for name, url in urls.items()}
    shots["board render"] = board.render_board(meeting.pk, "zh-hans")
    return shots


def _secret_ballot_world(world, monkeypatch, settings, tmp_path, start, name, final, first):
    """A 15-member secret ballot at a meeting, every member voting in the same order at the
    same times, member 0 changing from ``first`` to their final choice; the decision is
    published. Returns everything an anonymous visitor can fetch about it, while it is open
    and once decided, and the values that are random in every run. Rolled back after."""
    outputs, random_values = {}, {}
    client = Client()
    with transaction.atomic():
        _same_ids_as_last_time()
        _clear_cache()
        settings.MEDIA_ROOT = tmp_path / name
        time = FrozenTime(monkeypatch, start)
        council = Council(world, size=15)
        secret(world, running=True)  # the board may show running counts: never of a secret one
        proposal = council.proposal(title="加装楼道扶手")
        meeting = services.meeting_schedule(
            actor=world.a_staff,
            community=world.a,
            title="十一月议事会",
            starts_at=time.at + dt.timedelta(minutes=30),
            place="社区活动室",
            proposals=[proposal],
        )
        time.move(minutes=30)
        services.meeting_set_status(actor=world.a_staff, meeting=meeting, status="in_session")
        services.meeting_set_current(
            actor=world.a_staff, meeting=meeting, item=meeting.items.get(position=1)
        )
        ballot = council.ballot(proposal, hours=2, meeting=meeting)
        slug = world.a.slug
        while_open = {
            "ballot page": reverse("ballot", args=[slug, ballot.pk]),
            "council page": reverse("council_page", args=[slug]),
            "meeting page": reverse("meeting", args=[slug, meeting.pk]),
            "evidence page": reverse("evidence"),
            "proposal page": reverse("proposal", args=[slug, proposal.pk]),
            "ballots open data": reverse("open_data_file", args=["ballots", "json"]),
        }
        after_each_vote = {k: while_open[k] for k in ("ballot page", "evidence page")}
        steps = [(council.members[0], first)] + list(zip(council.members, final, strict=True))
        for n, (member, choice) in enumerate(steps):
            time.move(minutes=1)
            services.vote_cast(actor=member, ballot=ballot, choice=choice)
            shots = _snapshot(client, after_each_vote if n < len(final) else while_open, meeting)
            for page, text in shots.items():
                outputs[f"while open, after vote {n}: {page}"] = text
        time.move(minutes=5)
        services.ballot_close(actor=world.a_staff, ballot=ballot, reason="会议表决完毕")
        disclosure_services.decisions_draft_due()
        draft = Disclosure.objects.get(proposal=proposal, kind="decision")
        time.move(minutes=5)
        disclosure = disclosure_services.disclosure_publish(actor=world.a_staff, disclosure=draft)
        time.move(minutes=1)
        decided = {
            **while_open,
            "board page": reverse("meeting_board", args=[slug, meeting.pk]),
            "community page": reverse("community", args=[slug]),
            "project page": reverse("project", args=[slug, proposal.pk]),
            "disclosures": reverse("disclosure_index"),
            "disclosure page": reverse("disclosure", args=[disclosure.pk]),
            "feed": reverse("disclosure_feed"),
            "open data page": reverse("open_data"),
            "statistics": reverse("statistics_district"),
        }
        for page, text in _snapshot(client, decided, meeting).items():
            outputs[f"decided: {page}"] = text
        for dataset, document in open_data(client).items():
            for fmt in ("json", "csv"):
                url = reverse("open_data_file", args=[dataset, fmt])
                outputs[f"decided: open data {dataset}.{fmt}"] = _fetch(client, url)
            if dataset == "ballot_receipts":
                rows = [r for r in document["rows"] if r["ballot_id"] == ballot.pk]
                for row in rows:
                    random_values[row["commitment"]] = "<commitment>"
                ballot.refresh_from_db()
                if ballot_list_digest(ballot.pk, rows, (0, 0, 0)) == ballot.votes_sha256:
                    random_values[ballot.votes_sha256] = "<votes digest, recomputed>"
        pdf = client.get(reverse("disclosure_pdf", args=[disclosure.pk]))
        outputs["decided: disclosure PDF text"] = re.sub(
            r"\s+", "", pdf_text(b"".join(pdf.streaming_content), tmp_path)
        )
        # Hashes over content that holds the votes digest (the digest itself is left as it is
        # unless anyone can recompute it from the published list, above).
        derived = set(EvidenceEvent.objects.values_list("hash", flat=True))
        derived |= set(EvidenceHead.objects.values_list("hash", flat=True))
        derived |= set(Checkpoint.objects.values_list("root", flat=True))
        for d in Disclosure.objects.all():
            derived |= {d.content_sha256, d.pdf_sha256, d.evidence_head}
            # The feed's entry id is derived from the content hash, too.
            derived.add(
                str(uuid.uuid5(uuid.NAMESPACE_URL, f"weishi:disclosure:{d.pk}:{d.content_sha256}"))
            )
        for value in derived - {ballot.votes_sha256, "", None}:
            random_values.setdefault(value, "<hash>")
        transaction.set_rollback(True)
    return outputs, random_values


TOKENS = [
    (re.compile(r'("X-CSRFToken": ")[^"]+'), r"\1<token>"),
    (re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+'), r"\1<token>"),
    (re.compile(r'(nonce=")[^"]+'), r"\1<nonce>"),
]


def _normalised(text: str, random_values: dict[str, str], *, json_file: bool = False) -> str:
    """``text`` without what differs between any two runs: tokens, nonces, random values;
    lines that carry a commitment are sorted among their neighbours (the published list is in
    the order of its random commitments), and so are the rows of a JSON file."""
    for pattern, replacement in TOKENS:
        text = pattern.sub(replacement, text)
    for value, label in random_values.items():
        text = text.replace(value, label)
    if json_file:
        return _json_rows_sorted(text) if "<commitment>" in text else text
    lines, out, run = [line for line in text.split("\n") if line.strip()], [], []
    for line in lines + [None]:
        if line is not None and "<commitment>" in line:
            run.append(line)
            continue
        out.extend(sorted(run))
        run = []
        if line is not None:
            out.append(line)
    return "\n".join(out)


def _json_rows_sorted(text: str) -> str:
    """A JSON open data file with its rows in a fixed order (each a line of its own)."""
    import json

    document = json.loads(text)
    rows = sorted(json.dumps(row, ensure_ascii=False) for row in document.pop("rows"))
    return json.dumps(document, ensure_ascii=False) + "\n" + "\n".join(rows)


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs pdftotext (poppler-utils)")
def test_two_secret_ballots_with_the_same_totals_look_the_same_to_the_public(
    world, monkeypatch, settings, tmp_path
):
    start = timezone.now().replace(microsecond=0)
    final_a = TOTALS
    final_b = random.Random(3).sample(TOTALS, len(TOTALS))
    assert final_a != final_b and Counter(final_a) == Counter(final_b)
    # Member 0 first votes something else, then changes to their final choice.
    first_a = "no" if final_a[0] != "no" else "yes"
    first_b = "no" if final_b[0] != "no" else "yes"
    worlds = []
    for name, final, first in (("a", final_a, first_a), ("b", final_b, first_b)):
        outputs, random_values = _secret_ballot_world(
            world, monkeypatch, settings, tmp_path, start, name, final, first
        )
        seen = {}
        for key, text in outputs.items():
            seen[key] = _normalised(text, random_values, json_file=key.endswith(".json"))
        worlds.append(seen)
    first_world, second_world = worlds
    assert list(first_world) == list(second_world)
    differ = [key for key in first_world if first_world[key] != second_world[key]]
    assert not differ, _first_difference(first_world, second_world, differ)


def _first_difference(one: dict, other: dict, keys: list[str]) -> str:
    key = keys[0]
    a, b = one[key].split("\n"), other[key].split("\n")
    for n, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"{len(keys)} outputs differ, first {key!r} at line {n}:\n{x[:300]}\n{y[:300]}"
    return f"{len(keys)} outputs differ, first {key!r} in length"


# --- 3. A member checks their own vote; nobody else sees their receipt ------------------------

EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
RECEIPT = re.compile(r'class="receipt-code">([^<]+)<')


def _page(client, url, user=None) -> str:
    client.logout()
    if user is not None:
        client.force_login(user)
    return client.get(url, **EN).content.decode()


def test_a_member_finds_their_commitment_with_their_choice_in_the_published_list(
    client, council, world
):
    secret(world)
    ballot = council.vote(council.ballot(), ["yes", "no", "no", "yes", "yes"])
    member = council.members[2]
    services.vote_cast(actor=member, ballot=ballot, choice="abstain")  # a change: a new receipt
    url = reverse("ballot", args=[world.a.slug, ballot.pk])
    page = _page(client, url, member)
    receipt = receipt_of(RECEIPT.search(page).group(1))
    assert len(receipt) == 32  # 160 bits
    commitment = vote_commitment(ballot.pk, receipt, "abstain")
    assert commitment in page
    assert "anyone you show the receipt or the commitment to can see how you voted" in page
    assert "no-store" in client.get(url, **EN)["Cache-Control"]  # no cache keeps the receipt

    services.ballot_close(actor=world.a_staff, ballot=ballot, reason="会议表决完毕")
    page = _page(client, url, member)
    assert receipt_of(RECEIPT.search(page).group(1)) == receipt
    assert f"starts with {commitment[:12]}" in page and "reads “Abstain”" in page
    public = _page(client, url)
    line = re.search(rf"<code class=\"hash\">{commitment}</code></td><td[^>]*>(\w+)<", public)
    assert line and line.group(1) == "Abstain"
    rows = open_data(client)["ballot_receipts"]["rows"]
    assert {"ballot_id": ballot.pk, "commitment": commitment, "choice": "abstain"} in rows
    [mine] = [
        v for v in personal_data_export(member)["voting"]["votes"] if v["ballot_id"] == ballot.pk
    ]
    assert receipt_of(mine["receipt"]) == receipt and mine["commitment"] == commitment


def test_a_member_finds_their_approval_ballot_in_a_rounds_published_list(client, council, world):
    secret(world)
    a, b = _two_projects(council)
    round_ = council.round([a, b])
    member = council.members[1]
    services.round_ballot_submit(actor=member, round_=round_, approved=[b.pk, a.pk])
    services.round_ballot_submit(actor=council.members[0], round_=round_, approved=[])
    services.round_close(actor=world.a_staff, round_=round_, reason="会议表决完毕")
    url = reverse("round", args=[world.a.slug, round_.pk])
    receipt = receipt_of(RECEIPT.search(_page(client, url, member)).group(1))
    commitment = round_commitment(round_.pk, receipt, [a.pk, b.pk])
    public = _page(client, url)
    assert commitment in public and RECEIPT.search(public) is None
    rows = open_data(client)["round_receipts"]["rows"]
    assert {
        "round_id": round_.pk,
        "commitment": commitment,
        "approved": f"{min(a.pk, b.pk)},{max(a.pk, b.pk)}",
    } in rows
    assert {r["approved"] for r in rows if r["round_id"] == round_.pk} == {
        f"{min(a.pk, b.pk)},{max(a.pk, b.pk)}",
        "",
    }
    [mine] = personal_data_export(member)["voting"]["round_ballots"]
    assert mine["commitment"] == commitment


def test_nobody_but_the_member_sees_their_receipt(client, council, world):
    secret(world)
    ballot = council.vote(council.ballot(), ["yes", "no", "yes", "abstain", "yes"])
    votes = {v.member_id: v for v in ballot.votes.all()}
    url = reverse("ballot", args=[world.a.slug, ballot.pk])
    viewers = [*council.members, world.a_staff, world.admin, world.a_resident.user, None]
    for closed in (False, True):
        if closed:
            services.ballot_close(actor=world.a_staff, ballot=ballot, reason="会议表决完毕")
        for viewer in viewers:
            page = _page(client, url, viewer)
            shown = {receipt_of(r) for r in RECEIPT.findall(page)}
            own = {votes[viewer.pk].receipt} if viewer and viewer.pk in votes else set()
            assert shown == own, viewer
            for member_id, vote in votes.items():
                if viewer is None or member_id != viewer.pk:
                    assert vote.receipt not in page.replace("-", "")
                    if not closed:  # commitments are published with the list, not before
                        assert vote_commitment(ballot.pk, vote.receipt, vote.choice) not in page


def test_a_roll_call_ballot_still_publishes_each_members_vote(client, council, world):
    choices = ["yes", "no", "abstain", "yes", "yes"]
    ballot = council.vote(council.ballot(), choices)
    services.ballot_close(actor=world.a_staff, ballot=ballot, reason="会议表决完毕")
    page = _page(client, reverse("ballot", args=[world.a.slug, ballot.pk]))
    for member, choice in zip(council.members, choices, strict=True):
        assert re.search(
            rf"<td>{member.public_name}</td><td>[^<]*</td>\s*<td>{choice.title()}", page
        )
    rows = [r for r in open_data(client)["votes"]["rows"] if r["ballot_id"] == ballot.pk]
    assert {(r["member"], r["choice"]) for r in rows} == {
        (m.public_name, c) for m, c in zip(council.members, choices, strict=True)
    }
    evidence = _page(client, reverse("evidence"))
    assert all(member.public_name in evidence for member in council.members)
    listed = [
        r for r in open_data(client)["ballot_receipts"]["rows"] if r["ballot_id"] == ballot.pk
    ]
    assert (
        ballot_list_digest(ballot.pk, listed, (0, 0, 0))
        == Ballot.objects.get(pk=ballot.pk).votes_sha256
    )


def test_a_show_of_hands_is_in_the_published_list_and_its_digest(client, council, world):
    secret(world)
    ballot = council.vote(council.ballot(), ["yes", "no"])
    services.hand_count_record(actor=world.a_staff, ballot=ballot, yes=2, no=0, abstain=1)
    services.ballot_close(actor=world.a_staff, ballot=ballot, reason="会议表决完毕")
    ballot.refresh_from_db()
    [row] = [r for r in open_data(client)["ballots"]["rows"] if r["ballot_id"] == ballot.pk]
    assert (row["hands_yes"], row["hands_no"], row["hands_abstain"]) == (2, 0, 1)
    assert row["votes_format"] == "receipts"
    listed = [
        r for r in open_data(client)["ballot_receipts"]["rows"] if r["ballot_id"] == ballot.pk
    ]
    assert (
        ballot_list_digest(ballot.pk, listed, (2, 0, 1))
        == ballot.votes_sha256
        == row["votes_sha256"]
    )
    page = _page(client, reverse("ballot", args=[world.a.slug, ballot.pk]))
    assert "Show of hands recorded by the clerk: 2 yes, 0 no, 1 abstain." in page


# --- The evidence log, the clerk's paper ballots, Pabulib ------------------------------------


def test_the_evidence_log_shows_a_secret_ballots_voters_by_role_only(client, council, world):
    secret(world)
    ballot = council.ballot()
    member = council.members[1]
    services.vote_cast(actor=member, ballot=ballot, choice="yes")
    services.vote_cast(actor=member, ballot=ballot, choice="no")
    page = _page(client, reverse("evidence"))
    assert member.public_name not in page
    assert page.count("council member") >= 2


def test_no_member_id_tried_against_a_secret_votes_evidence_hash_finds_who_voted(council, world):
    """A public entry's hash covers its actor: were the member's id in it, anyone holding the
    entry could try each member in turn and find who voted. The entry is the same whoever
    voted."""
    secret(world)
    ballot = council.ballot()
    member = council.members[2]
    services.vote_cast(actor=member, ballot=ballot, choice="yes")
    services.vote_cast(actor=member, ballot=ballot, choice="no")
    events = list(
        EvidenceEvent.objects.filter(object_id=str(ballot.pk), action__startswith="vote.")
    )
    assert [e.action for e in events] == ["vote.cast", "vote.changed"]
    evidence_integrate()
    for event in events:
        event.refresh_from_db()
        assert event.actor_id is None and event.actor_role == "council_member"
        assert event.public_actor == "council member"
        published = bytes(event.entry)
        assert json.loads(published)["actor"] is None
        for candidate in council.members:
            event.actor_id = candidate.pk  # the search: every member, the exact time known
            assert entry_bytes(event) == published, "nothing in the entry depends on who"
        # The server, which holds the key, can still say whose it was for an auditor.
        opened = [
            m for m in council.members if voter_commitment(ballot, m) == event.payload["voter"]
        ]
        assert opened == [member]


def test_the_clerks_paper_ballot_in_a_secret_round_does_not_name_the_member(council, world):
    secret(world)
    a, b = _two_projects(council)
    round_ = council.round([a, b])
    member = council.members[3]
    services.round_ballot_submit(actor=world.a_staff, round_=round_, approved=[a.pk], member=member)
    event = EvidenceEvent.objects.get(action="round.ballot_recorded_by_clerk")
    # Only the member's keyed commitment on this round, as their own entries carry it: the
    # log counts who took part and names nobody.
    assert event.payload == {"voter": voter_commitment(round_, member)}
    assert member.display_name not in str(event.payload)
    assert event.public_actor == world.a_staff.public_name  # the clerk acts under their name


def _export_votes(round_) -> str:
    out = io.StringIO()
    call_command("export_pabulib", round_.pk, stdout=out)
    return out.getvalue().split("VOTES")[1]


def test_a_secret_rounds_pabulib_voters_are_in_an_order_that_says_nothing(world, settings):
    """The same ballots handed in by different members give the same file."""
    exports = []
    for order in (slice(None), slice(None, None, -1)):
        with transaction.atomic():
            _same_ids_as_last_time()
            council = Council(world)
            secret(world)
            a, b, c = (council.proposal(cost) for cost in ("25000", "10000", "12000"))
            round_ = council.round([a, b, c])
            ballots = [[a, b], [a], [a, c], [c], []][order]
            for member, approved in zip(council.members, ballots, strict=True):
                services.round_ballot_submit(
                    actor=member, round_=round_, approved=[p.pk for p in approved]
                )
            exports.append(_export_votes(round_))
            transaction.set_rollback(True)
    assert exports[0] == exports[1]
    assert [line.split(";")[0] for line in exports[0].split()[1:]] == ["1", "2", "3", "4", "5"]


# --- The migration -------------------------------------------------------------------------


def _migrate(*targets):
    executor = MigrationExecutor(connection)
    executor.migrate(list(targets) or executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_each_vote_a_receipt_and_keeps_digests_already_sealed(world):
    council = Council(world)
    secret(world)
    closed = council.vote(council.ballot(), ["yes", "no", "yes", "yes", "abstain"])
    services.ballot_close(actor=world.a_staff, ballot=closed, reason="会议表决完毕")
    still_open = council.vote(council.ballot(), ["yes", "no"])
    a, b = _two_projects(council)
    round_ = council.round([a, b])
    for member in council.members[:3]:
        services.round_ballot_submit(actor=member, round_=round_, approved=[a.pk])
    sealed = Ballot.objects.get(pk=closed.pk).votes_sha256
    try:
        _migrate(("voting", "0001_initial"))
        _migrate(("voting", "0002_receipts_for_secret_votes"))
    finally:
        _migrate()
    for model in (Vote, RoundBallot):
        receipts = list(model.objects.values_list("receipt", flat=True))
        assert len(set(receipts)) == len(receipts) and all(len(r) == 32 for r in receipts)
    closed = Ballot.objects.get(pk=closed.pk)
    assert (closed.votes_format, closed.votes_sha256) == ("members", sealed)
    assert selectors.ballot_list(closed) is None  # its list would not give the sealed digest
    services.ballot_close(actor=world.a_staff, ballot=still_open, reason="会议表决完毕")
    services.round_close(actor=world.a_staff, round_=round_, reason="会议表决完毕")
    still_open = Ballot.objects.get(pk=still_open.pk)
    assert still_open.votes_format == "receipts"
    assert selectors.ballot_list(still_open).digest == still_open.votes_sha256
    round_ = Round.objects.get(pk=round_.pk)
    assert selectors.round_list(round_).digest == round_.votes_sha256


def test_the_receipt_and_the_published_lists_read_in_chinese(client, council, world):
    secret(world)
    ballot = council.vote(council.ballot(), ["yes", "no", "abstain", "yes"])
    services.hand_count_record(actor=world.a_staff, ballot=ballot, yes=1, no=0, abstain=0)
    a, b = _two_projects(council)
    round_ = council.round([a, b])
    services.round_ballot_submit(actor=council.members[0], round_=round_, approved=[a.pk])
    services.round_ballot_submit(actor=council.members[1], round_=round_, approved=[])
    urls = [
        reverse("ballot", args=[world.a.slug, ballot.pk]),
        reverse("round", args=[world.a.slug, round_.pk]),
    ]
    client.force_login(council.members[0])
    for closed in (False, True):
        if closed:
            services.ballot_close(actor=world.a_staff, ballot=ballot, reason="会议表决完毕")
            services.round_close(actor=world.a_staff, round_=round_, reason="会议表决完毕")
        for url, listed in zip(urls, ("公布的投票清单", "公布的选票清单"), strict=True):
            page = client.get(url, **ZH).content.decode()
            assert "您的投票凭证" in page and (listed in page) == closed
            assert _english_runs(page) == [], url


def test_a_vote_the_clerk_records_has_a_receipt_only_its_member_sees(client, council, world):
    ballot = council.ballot()  # roll-call: the clerk records votes given by show of hands
    member = council.members[4]
    services.vote_record_by_clerk(actor=world.a_staff, ballot=ballot, member=member, choice="no")
    receipt = Vote.objects.get(ballot=ballot, member=member).receipt
    url = reverse("ballot", args=[world.a.slug, ballot.pk])
    assert receipt not in _page(client, url, world.a_staff).replace("-", "")
    assert receipt_of(RECEIPT.search(_page(client, url, member)).group(1)) == receipt


def test_the_rounds_and_the_published_lists_files_carry_exactly_their_schema(
    client, council, world
):
    secret(world)
    ballot = council.vote(council.ballot(), ["yes", "no", "abstain", "yes"])
    services.ballot_close(actor=world.a_staff, ballot=ballot, reason="会议表决完毕")
    a, b = _two_projects(council)
    round_ = council.round([a, b])
    for member in council.members[:4]:
        services.round_ballot_submit(actor=member, round_=round_, approved=[a.pk])
    services.round_close(actor=world.a_staff, round_=round_, reason="会议表决完毕")
    for name in ("ballot_receipts", "rounds", "round_receipts"):
        fields = opendata.DATASETS[name].fields
        document = open_data(client)[name]
        assert [c["name"] for c in document["schema"]] == fields
        assert document["rows"] and all(list(row) == fields for row in document["rows"])
        text = client.get(reverse("open_data_file", args=[name, "csv"])).getvalue()
        header, *rows = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
        assert header == fields and len(rows) == len(document["rows"])
    [row] = open_data(client)["rounds"]["rows"]
    assert (row["round_id"], row["participation"], row["outcome"]) == (round_.pk, 4, "decided")
    assert row["votes_sha256"] == Round.objects.get(pk=round_.pk).votes_sha256
