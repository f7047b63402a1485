"""Receipts (投票凭证): how a member checks their vote was counted while nobody else can tell
how they voted.

Pure functions: no database, no clock. Every cast or change of a vote or of a round's approval
ballot gets a fresh receipt, a random secret of 160 bits that only its member is shown. Once
the ballot or round closes, what is published is the list of *commitments* with their choices
and the SHA-256 of that list (``votes_sha256``). A commitment is the SHA-256 of a receipt with
its choice: only someone who holds the receipt can link it to a member, and the list, sorted by
these random values, says nothing of who voted when.

Each text hashed below is UTF-8, one line feed after every line, nothing else. The public
description of the same bytes is ``docs/security.md`` ("Secret ballots and rounds") and the
open data schema; a test recomputes them from that description.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterable, Sequence

RECEIPT_BYTES = 20  # 160 bits: 32 base32 characters, no padding
GROUP = 4


def receipt_new() -> str:
    """A fresh receipt: 32 characters of the RFC 4648 base32 alphabet (A–Z, 2–7)."""
    return base64.b32encode(secrets.token_bytes(RECEIPT_BYTES)).decode("ascii")


def receipt_shown(receipt: str) -> str:
    """The receipt as its member reads and copies it: groups of four, e.g. ``ABCD-EFGH-…``."""
    return "-".join(receipt[i : i + GROUP] for i in range(0, len(receipt), GROUP))


def _sha256(lines: Iterable[str]) -> str:
    return hashlib.sha256("".join(f"{line}\n" for line in lines).encode()).hexdigest()


def approved_text(approved: Iterable[int]) -> str:
    """Approved project ids as they are written in commitments and lists: ``4,9`` or ``""``."""
    return ",".join(str(pk) for pk in sorted(set(approved)))


def vote_commitment(ballot_id: int, receipt: str, choice: str) -> str:
    return _sha256(
        ["weishi:vote:v1", f"ballot:{ballot_id}", f"receipt:{receipt}", f"choice:{choice}"]
    )


def round_commitment(round_id: int, receipt: str, approved: Iterable[int]) -> str:
    return _sha256(
        [
            "weishi:round_ballot:v1",
            f"round:{round_id}",
            f"receipt:{receipt}",
            f"approved:{approved_text(approved)}",
        ]
    )


def ballot_list_digest(
    ballot_id: int, rows: Iterable[tuple[str, str]], hands: Sequence[int] = (0, 0, 0)
) -> str:
    """SHA-256 of a ballot's published list: ``rows`` are (commitment, choice)."""
    yes, no, abstain = hands
    return _sha256(
        [
            "weishi:ballot_votes:v2",
            f"ballot:{ballot_id}",
            *sorted(f"vote:{commitment}:{choice}" for commitment, choice in rows),
            f"hands:{yes}:{no}:{abstain}",
        ]
    )


def round_list_digest(round_id: int, rows: Iterable[tuple[str, str]]) -> str:
    """SHA-256 of a round's published list: ``rows`` are (commitment, approved_text)."""
    return _sha256(
        [
            "weishi:round_ballots:v2",
            f"round:{round_id}",
            *sorted(f"ballot:{commitment}:{approved}" for commitment, approved in rows),
        ]
    )
