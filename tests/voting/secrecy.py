"""What an outsider can do with everything public about a secret ballot or round: read it,
recompute its published digest, and try every assignment of choices to members against it.

The formats here are written from ``docs/security.md`` and the open data schema, not imported
from the app: this is the check a resident with a script would run.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator, Sequence

from django.test import Client
from django.urls import reverse

from council.models import EvidenceEvent
from disclosure import opendata

HEX64 = re.compile(r"(?<![0-9a-f])[0-9a-f]{64}(?![0-9a-f])")
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- The published formats (docs/security.md) --------------------------------------------------


def vote_commitment(ballot_id: int, receipt: str, choice: str) -> str:
    return sha256(f"weishi:vote:v1\nballot:{ballot_id}\nreceipt:{receipt}\nchoice:{choice}\n")


def round_commitment(round_id: int, receipt: str, approved: Sequence[int]) -> str:
    ids = ",".join(str(pk) for pk in sorted(approved))
    return sha256(f"weishi:round_ballot:v1\nround:{round_id}\nreceipt:{receipt}\napproved:{ids}\n")


def ballot_list_digest(ballot_id: int, rows: list[dict], hands: Sequence[int]) -> str:
    """``rows``: the ballot's rows of the open data ``ballot_receipts``."""
    lines = ["weishi:ballot_votes:v2", f"ballot:{ballot_id}"]
    lines += sorted(f"vote:{r['commitment']}:{r['choice']}" for r in rows)
    lines.append("hands:{}:{}:{}".format(*hands))
    return sha256("".join(line + "\n" for line in lines))


def round_list_digest(round_id: int, rows: list[dict]) -> str:
    """``rows``: the round's rows of the open data ``round_receipts``."""
    lines = ["weishi:round_ballots:v2", f"round:{round_id}"]
    lines += sorted(f"ballot:{r['commitment']}:{r['approved']}" for r in rows)
    return sha256("".join(line + "\n" for line in lines))


def receipt_of(text: str) -> str:
    """A receipt as shown to its member (groups of four) in its canonical form."""
    return re.sub(r"[^A-Z2-7]", "", text.upper())


# --- The format of the digest before receipts (what the attack of issue 12 used) ---------------


def legacy_digest(rows: list) -> str:
    return sha256(json.dumps(sorted(rows), ensure_ascii=False, separators=(",", ":"), default=str))


# --- Everything public ------------------------------------------------------------------------


def open_data(client: Client) -> dict[str, dict]:
    """Every dataset as JSON (the CSV files carry the same rows)."""
    files = {}
    for name in opendata.DATASETS:
        response = client.get(reverse("open_data_file", args=[name, "json"]))
        files[name] = json.loads(response.getvalue())
    return files


def public_record(client: Client, pages: list[str], object_ids: list[tuple[str, int]]) -> str:
    """The text of ``pages``, of every open data file in both formats, of the evidence page,
    and — more than the public ever sees — the payloads and public actors of every evidence
    event about ``object_ids`` (``(object_type, id)``)."""
    parts = [client.get(page, **ZH).content.decode() for page in pages]
    for name in opendata.DATASETS:
        for fmt in opendata.FORMATS:
            response = client.get(reverse("open_data_file", args=[name, fmt]))
            parts.append(response.getvalue().decode())
    parts.append(client.get(reverse("evidence"), **ZH).content.decode())
    for object_type, pk in object_ids:
        for event in EvidenceEvent.objects.filter(object_type=object_type, object_id=str(pk)):
            parts.append(f"{event.public_actor} {event.action} {json.dumps(event.payload)}")
    return "\n".join(parts)


def assignments(counts: Counter) -> Iterator[tuple]:
    """Every distinct sequence with exactly these counts of each value."""
    values = sorted(counts, key=repr)
    size = sum(counts.values())
    left = dict(counts)
    out: list = []

    def walk():
        if len(out) == size:
            yield tuple(out)
            return
        for value in values:
            if left[value]:
                left[value] -= 1
                out.append(value)
                yield from walk()
                out.pop()
                left[value] += 1

    yield from walk()
