"""Signed checkpoints (C2SP tlog-checkpoint) and the witnesses' cosignatures.

The log's signing key is a file named by ``LOG_SIGNING_KEY_FILE`` (Go's note format,
``PRIVATE+KEY+<origin>+…``): it never enters the database or the repository. With ``DEBUG``
on, a missing key is created (``make run``); a site without one refuses to start
(``config.asgi``).
"""

from __future__ import annotations

import logging
import os
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from .. import clock
from ..models import Checkpoint, Cosignature
from ..tlog.note import NoteError, Signer, Verifier, checkpoint_text, generate_key, sign_note

logger = logging.getLogger(__name__)


def log_key_create(path: Path, origin: str) -> str:
    """Write a new signing key for ``origin`` to ``path`` (mode 0600); its verifier key."""
    skey, vkey = generate_key(origin)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(skey + "\n")
    return vkey


@cache
def log_signer() -> Signer:
    """The log's signer, read once per process from ``LOG_SIGNING_KEY_FILE``."""
    origin, name = settings.LOG_ORIGIN, settings.LOG_SIGNING_KEY_FILE
    if not name:
        raise ImproperlyConfigured(
            "LOG_SIGNING_KEY_FILE is not set: the evidence log cannot sign its checkpoints. "
            "Create a key with `manage.py log_key --create FILE` and keep it out of the "
            "database and the repository."
        )
    path = Path(name)
    if not path.exists() and settings.DEBUG:
        log_key_create(path, origin)
        logger.warning("created a new log signing key in %s for %s", path, origin)
    try:
        signer = Signer(path.read_text().strip())
    except OSError as error:
        raise ImproperlyConfigured(f"cannot read the log's signing key {path}: {error}") from None
    except NoteError as error:
        raise ImproperlyConfigured(f"{path} is not a log signing key: {error}") from None
    if signer.name != origin:
        raise ImproperlyConfigured(
            f"the log's signing key {path} is for {signer.name!r}, but this site's log is "
            f"{origin!r} (LOG_ORIGIN, from SITE_URL): use the key made for this site"
        )
    return signer


def log_verifier_key() -> str:
    return log_signer().vkey


def checkpoint_sign(size: int, root: bytes) -> Checkpoint:
    """Sign the tree of ``size`` leaves with root ``root`` (once per size)."""
    text = checkpoint_text(settings.LOG_ORIGIN, size, root)
    checkpoint, _ = Checkpoint.objects.get_or_create(
        size=size,
        defaults={
            "root": root.hex(),
            "note": sign_note(text, [log_signer()]),
            "signed_at": clock.now(),
        },
    )
    return checkpoint


def witnesses() -> list[tuple[str, Verifier]]:
    """The witnesses the log asks to cosign: ``(url, verifier)`` from ``LOG_WITNESSES``."""
    return [(url, Verifier(vkey)) for url, vkey in settings.LOG_WITNESSES]


def checkpoint_published() -> tuple[Checkpoint, list[str]] | None:
    """The checkpoint the log publishes and its cosignature lines: the newest one every
    configured witness has cosigned, or, with no witnesses, the newest one."""
    names = [verifier.name for _url, verifier in witnesses()]
    checkpoints = Checkpoint.objects.order_by("-size")
    for name in names:
        checkpoints = checkpoints.filter(cosignatures__witness=name)
    checkpoint = checkpoints.first()
    if checkpoint is None:
        return None
    lines = list(
        checkpoint.cosignatures.filter(witness__in=names)
        .order_by("witness")
        .values_list("line", flat=True)
    )
    return checkpoint, lines


def checkpoint_note(checkpoint: Checkpoint, cosignatures: list[str]) -> str:
    """The signed note as served: the log's signature, then the witnesses'."""
    return checkpoint.note + "".join(cosignatures)


def cosignatures_gather(*, timeout: float = 5.0) -> dict[str, int]:
    """Ask each configured witness to cosign the newest checkpoint, with a consistency proof
    from the last size it cosigned; keep the cosignatures it returns. A witness that refuses
    or cannot be reached is logged and asked again next time."""
    from ..tlog.merkle import consistency_proof
    from ..tlog.tiles import HASH_SIZE, TileReader
    from ..tlog.witness import WitnessError, witness_add_checkpoint
    from .sequencer import tile_read

    newest = Checkpoint.objects.order_by("-size").first()
    figures = {"cosigned": 0, "witness_refused": 0}
    if newest is None:
        return figures
    for url, verifier in witnesses():
        last = (
            Checkpoint.objects.filter(cosignatures__witness=verifier.name)
            .order_by("-size")
            .values_list("size", flat=True)
            .first()
        ) or 0
        if last >= newest.size:
            continue
        reader = TileReader(lambda lv, ix, w: tile_read(lv, ix)[: w * HASH_SIZE], newest.size)
        for _attempt in range(2):
            proof = consistency_proof(reader.hash_at, last, newest.size)
            try:
                lines = witness_add_checkpoint(
                    url, last, proof, newest.note, timeout=timeout, verifier=verifier
                )
            except WitnessError as error:
                # The witness knows another size (its state is older or newer than ours):
                # prove from the size it knows, once.
                if error.size is not None and error.size != last and error.size <= newest.size:
                    last = error.size
                    continue
                logger.warning("witness %s refused checkpoint %s: %s", url, newest.size, error)
                figures["witness_refused"] += 1
                break
            line = next((ln for ln in lines if ln.split(" ")[1:2] == [verifier.name]), None)
            if line is None:
                logger.warning("witness %s answered without its cosignature", url)
                figures["witness_refused"] += 1
                break
            with transaction.atomic():
                Cosignature.objects.get_or_create(
                    checkpoint=newest,
                    witness=verifier.name,
                    defaults={"line": line, "received_at": clock.now()},
                )
            figures["cosigned"] += 1
            break
    return figures
