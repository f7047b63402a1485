"""The public log checked from outside, as a resident or a journalist would: the checker
(``tools/weishi_verify.py``, its own process, knowing nothing of Weishi but the URL and the
pinned keys) against the site, and a witness (its own process) asked by the site to cosign.
Every kind of tampering by whoever runs the database — even with the signing key in hand — is
caught by the checker or refused by the witness."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.db import transaction
from django.db.models import F
from django.test import override_settings

from council.evidence import (
    checkpoint_published,
    cosignatures_gather,
    evidence_append,
    evidence_integrate,
    log_signer,
)
from council.models import Checkpoint, Council, EvidenceEvent, EvidenceHead, LogTile
from disclosure.models import Disclosure
from tests.council.test_witness import WitnessProcess
from voting import services as voting_services
from voting.models import Ballot, RoundProject
from voting.services._common import voter_commitment

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db(transaction=True)


def check(site: str, *args: str) -> subprocess.CompletedProcess:
    """The checker, run as an outsider runs it, with the log's key pinned."""
    done = subprocess.run(
        [sys.executable, "tools/weishi_verify.py", site, "--lang", "en"]
        + ["--log-key", log_signer().vkey, *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert "Traceback" not in done.stderr + done.stdout
    return done


def publish_a_decision(projects, tmp_path) -> Path:
    proposal = projects.published()
    evidence_integrate()
    disclosure = Disclosure.objects.get(proposal=proposal, status="published")
    pdf = tmp_path / "决定公示.pdf"
    pdf.write_bytes(disclosure.pdf.read())
    return pdf


def more_acts(n: int = 5) -> None:
    for i in range(n):
        evidence_append(actor=None, action="test.later", obj=("test", i), payload={"i": i})
    evidence_integrate()


def rewrite_history(change, *, keep_checkpoints: bool = False) -> None:
    """What the operator can do with the database and the key: change the past, rebuild the
    whole tree with every hash recomputed, and sign it afresh (or keep serving the checkpoints
    already signed, witnessed ones included)."""
    with transaction.atomic():
        LogTile.objects.all().delete()
        if not keep_checkpoints:
            Checkpoint.objects.all().delete()
        EvidenceHead.objects.all().delete()
        EvidenceEvent.objects.update(seq=None, entry=None)
        change()
    evidence_integrate()


def test_the_checker_proves_a_pdf_is_in_the_log_and_that_the_log_only_grew(
    live_server, projects, tmp_path
):
    pdf = publish_a_decision(projects, tmp_path)
    saved = tmp_path / "checkpoint.txt"
    done = check(live_server.url, "--pdf", str(pdf), "--checkpoint-out", str(saved))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "disclosure.published" in done.stdout
    more_acts()
    done = check(live_server.url, "--since", str(saved))
    assert done.returncode == 0, done.stdout + done.stderr
    done = check(live_server.url, "--audit")
    assert done.returncode == 0, done.stdout + done.stderr
    size = checkpoint_published()[0].size
    assert str(size) in done.stdout


def _edit():
    EvidenceEvent.objects.filter(seq=2).update(entry=b'{"forged":true}')


def _delete():
    EvidenceEvent.objects.filter(seq=3).delete()


def _reorder():
    with transaction.atomic():
        first, second = (
            bytes(e) for e in EvidenceEvent.objects.filter(seq__in=[2, 3]).order_by("seq")
            .values_list("entry", flat=True)
        )  # fmt: skip
        EvidenceEvent.objects.filter(seq=2).update(entry=second)
        EvidenceEvent.objects.filter(seq=3).update(entry=first)


@pytest.mark.parametrize(
    "tamper", [_edit, _delete, _reorder], ids=["edited", "deleted", "reordered"]
)
def test_an_entry_changed_behind_the_trees_back_fails_the_audit(live_server, projects, tamper):
    projects.published()
    evidence_integrate()
    assert check(live_server.url, "--audit").returncode == 0
    tamper()
    done = check(live_server.url, "--audit")
    assert done.returncode != 0
    assert done.stdout + done.stderr


@pytest.mark.parametrize(
    ("change", "audit"),
    [
        (
            lambda: EvidenceEvent.objects.filter(action="disclosure.published").update(
                payload={"pdf_sha256": "0" * 64}
            ),
            0,
        ),
        (lambda: EvidenceEvent.objects.filter(action="proposal.created").first().delete(), 0),
        # A vote deleted is caught by the recount too: the ballot's votes no longer add up.
        (lambda: EvidenceEvent.objects.filter(action="vote.cast").first().delete(), 1),
        (
            lambda: EvidenceEvent.objects.filter(
                pk=evidence_append(actor=None, action="vote.cast", obj=("test", 1)).pk
            ).update(id=-1),  # placed first when the tree is rebuilt
            0,
        ),
    ],
    ids=[
        "edited and rehashed",
        "deleted and rehashed",
        "vote deleted and rehashed",
        "forged entry inserted and rehashed",
    ],
)
def test_a_rewritten_history_signed_afresh_fails_against_a_saved_checkpoint(
    live_server, projects, tmp_path, change, audit
):
    projects.published()
    evidence_integrate()
    saved = tmp_path / "checkpoint.txt"
    assert check(live_server.url, "--checkpoint-out", str(saved)).returncode == 0
    rewrite_history(change)
    more_acts()  # and let it grow past the saved size
    done = check(live_server.url, "--audit")
    assert done.returncode == audit, done.stdout + done.stderr  # the tree itself is sound
    done = check(live_server.url, "--since", str(saved))
    assert done.returncode == 1, done.stdout + done.stderr


def test_a_witness_cosigns_the_honest_log_and_refuses_its_rewrite(live_server, projects, tmp_path):
    witness = WitnessProcess(tmp_path, [log_signer().vkey]).start()
    try:
        with override_settings(LOG_WITNESSES=[(witness.url, witness.vkey)]):
            pdf = publish_a_decision(projects, tmp_path)
            assert cosignatures_gather()["cosigned"] == 1
            pinned = ["--witness-key", witness.vkey]
            done = check(live_server.url, "--pdf", str(pdf), *pinned)
            assert done.returncode == 0, done.stdout + done.stderr
            more_acts()
            assert cosignatures_gather()["cosigned"] == 1, "the log grew: cosigned again"
            witnessed = checkpoint_published()[0].size

            rewrite_history(
                lambda: EvidenceEvent.objects.filter(action="disclosure.published").update(
                    payload={"pdf_sha256": "0" * 64}
                ),
                keep_checkpoints=True,
            )
            more_acts()  # the rewritten log grows, and is signed by the log's own key
            assert cosignatures_gather() == {"cosigned": 0, "witness_refused": 1}
            refusal = witness.refusals()[-1]
            assert refusal["status"] == 422 and "history" in refusal["message"]
            # The site can only publish what the witness cosigned: the honest checkpoint, which
            # the rewritten tiles no longer give.
            assert checkpoint_published()[0].size == witnessed
            done = check(live_server.url, "--audit", *pinned)
            assert done.returncode == 1, done.stdout + done.stderr
            done = check(live_server.url, "--pdf", str(pdf), *pinned)
            assert done.returncode != 0
    finally:
        witness.stop()


# --- The audit recounts what the site decided -------------------------------------------------


def decide_a_ballot_of_each_kind_and_a_round(projects):
    """A roll-call ballot (a member changes their vote, another declares a conflict of interest
    after voting), a secret one (four members online, one by show of hands) and a yearly round
    under Equal Shares (one ballot on paper, through the clerk), all closed; and their entries
    placed in the log."""
    council, staff = projects.council, projects.staff
    roll_call = council.vote(council.ballot(), ["yes", "no", "yes", "abstain", "yes"])
    voting_services.vote_cast(actor=council.members[1], ballot=roll_call, choice="yes")
    voting_services.recusal_declare(
        actor=council.members[4], proposal=roll_call.proposal, reason="本人是该项目的施工方。"
    )
    voting_services.ballot_close(actor=staff, ballot=roll_call, reason="会议表决完毕")

    Council.objects.filter(community=projects.world.a).update(secrecy="secret")
    secret = council.vote(council.ballot(), ["yes", "no", "yes", "yes"])
    voting_services.hand_count_record(actor=staff, ballot=secret, yes=0, no=1, abstain=0)
    voting_services.ballot_close(actor=staff, ballot=secret, reason="会议表决完毕")

    Council.objects.filter(community=projects.world.a).update(secrecy="roll_call")
    slate = [council.proposal(cost) for cost in ("450000", "400000", "120000.50")]
    round_ = council.round(slate, rule="mes")
    approvals = [[0, 1], [1], [1, 2], [2]]
    for member, chosen in zip(council.members, approvals, strict=False):
        voting_services.round_ballot_submit(
            actor=member, round_=round_, approved=[slate[i].pk for i in chosen]
        )
    voting_services.round_ballot_submit(
        actor=staff, round_=round_, approved=[slate[0].pk], member=council.members[4]
    )
    voting_services.round_close(actor=staff, round_=round_, reason="会议表决完毕")
    evidence_integrate()
    return roll_call, secret, round_


def test_the_audit_recounts_each_ballot_and_round_the_site_decided(live_server, projects):
    decide_a_ballot_of_each_kind_and_a_round(projects)
    done = check(live_server.url, "--audit")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 closed ballots recounted (1 of them secret); 0 still open." in done.stdout
    assert "1 closed rounds recomputed; 0 still open." in done.stdout
    assert 'Recomputed "each ballot\'s tally": 2 checked, all agree.' in done.stdout
    assert 'Recomputed "each yearly round\'s funded projects": 1 checked, all agree.' in done.stdout


def test_a_tally_changed_in_the_database_fails_the_audit_naming_its_ballot(live_server, projects):
    roll_call, secret, _round = decide_a_ballot_of_each_kind_and_a_round(projects)
    Ballot.objects.filter(pk=secret.pk).update(yes=F("yes") + 1, no=F("no") - 1)
    done = check(live_server.url, "--audit")
    assert done.returncode == 1, done.stdout + done.stderr
    assert 'Recomputed "each ballot\'s tally": 2 checked, 1 disagree.' in done.stderr
    assert f"Ballot {secret.pk}: the open data (ballots) gives 4 for the yes votes" in done.stderr
    assert f"Ballot {roll_call.pk}" not in done.stderr


def test_a_vote_appended_after_the_close_fails_the_audit_naming_its_ballot(live_server, projects):
    roll_call, _secret, _round = decide_a_ballot_of_each_kind_and_a_round(projects)
    member = projects.council.members[3]
    evidence_append(  # what an operator could slip into the log once the ballot closed
        actor=member,
        actor_role="council_member",
        action="vote.cast",
        obj=roll_call,
        payload={"choice": "yes", "voter": voter_commitment(roll_call, member)},
        community=roll_call.community,
    )
    evidence_integrate()
    done = check(live_server.url, "--audit")
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"Ballot {roll_call.pk}: entry " in done.stderr
    assert "(vote.cast) comes after its close" in done.stderr


def test_funding_changed_in_the_database_fails_the_audit_naming_its_round(live_server, projects):
    _roll_call, _secret, round_ = decide_a_ballot_of_each_kind_and_a_round(projects)
    unfunded = round_.projects.filter(funded=False).first() or round_.projects.first()
    RoundProject.objects.filter(pk=unfunded.pk).update(funded=not unfunded.funded)
    done = check(live_server.url, "--audit")
    assert done.returncode == 1, done.stdout + done.stderr
    assert 'Recomputed "each yearly round\'s funded projects": 1 checked, 1 disagree.' in (
        done.stderr
    )
    assert f"Round {round_.pk}: the open data (round_projects) gives" in done.stderr
    assert f"whether it is funded of project {unfunded.proposal_id}" in done.stderr
