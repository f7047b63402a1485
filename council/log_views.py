"""The transparency log over HTTP (docs/transparency-log.md): the signed checkpoint, the keys,
and the C2SP tlog-tiles — static, immutable files any proxy or mirror may cache for ever.
Everything here is public and read-only; a path that is not a tile, or a tile the tree does
not have yet, is a plain 404."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.views.decorators.http import require_safe

from .evidence import checkpoint_note, checkpoint_published, log_signer
from .evidence.checkpoints import witnesses
from .hooks import get_hooks
from .models import EvidenceEvent, LogTile
from .tlog.note import NoteError, Verifier, open_note
from .tlog.tiles import HASH_SIZE, WIDTH, TileError, bundle_encode, parse_tile_path

logger = logging.getLogger(__name__)

IMMUTABLE = "public, max-age=31536000, immutable"
TEXT = "text/plain; charset=utf-8"


def _plain(body: str | bytes, *, cache: str, content_type: str = TEXT) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Cache-Control"] = cache
    response["Access-Control-Allow-Origin"] = "*"  # any page or checker may fetch it
    return response


@require_safe
def log_checkpoint(request):
    """The newest published checkpoint with its cosignatures (C2SP tlog-checkpoint)."""
    published = checkpoint_published()
    if published is None:
        raise Http404("the log has no checkpoint yet")
    note = checkpoint_note(*published)
    # Never serve what this log's key did not sign (a row edited in the database).
    try:
        open_note(note, [Verifier(log_signer().vkey)])
    except NoteError as error:
        logger.error("the stored checkpoint %s does not verify: %s", published[0].size, error)
        response = HttpResponse(
            "the log's checkpoint does not verify with its key: not served",
            content_type=TEXT,
            status=503,
        )
        response["Retry-After"] = "60"
        return response
    return _plain(note, cache="public, max-age=2")


@require_safe
def log_key(request):
    """The log's verifier key, then each witness's: pin them from a second source."""
    keys = [log_signer().vkey] + [verifier.vkey for _url, verifier in witnesses()]
    return _plain("".join(f"{key}\n" for key in keys), cache="public, max-age=86400")


@require_safe
def log_tile(request, path: str):
    """A hash tile or an entry bundle, full or partial, exactly as the format says."""
    try:
        level, index, width = parse_tile_path(path)
    except TileError:
        raise Http404("not a tile") from None
    if level == "entries":
        first = index * WIDTH + 1
        entries = list(
            EvidenceEvent.objects.filter(seq__gte=first, seq__lt=first + width)
            .order_by("seq")
            .values_list("entry", flat=True)
        )
        if len(entries) != width or None in entries:
            raise Http404("the log does not have these entries yet")
        body = bundle_encode(bytes(entry) for entry in entries)
    else:
        stored = LogTile.objects.filter(level=level, index=index).values_list("hashes", flat=True)
        if not stored or len(stored[0]) < width * HASH_SIZE:
            raise Http404("the log does not have this tile yet")
        body = bytes(stored[0])[: width * HASH_SIZE]
    return _plain(body, cache=IMMUTABLE, content_type="application/octet-stream")


SHA256 = re.compile(r"[0-9a-f]{64}")


@require_safe
def log_lookup(request):
    """A hint for a checker: the index of the entry recording a document with this SHA-256
    (a disclosure's PDF or content). Only a hint: the checker proves the entry itself."""
    digest = request.GET.get("sha256", "").strip().lower()
    if not SHA256.fullmatch(digest):
        return HttpResponseBadRequest("sha256 must be 64 hexadecimal characters", content_type=TEXT)
    for find in get_hooks("evidence_documents"):
        seq = find(digest)
        if seq is not None:
            response = HttpResponse(f'{{"index": {seq - 1}}}', content_type="application/json")
            response["Access-Control-Allow-Origin"] = "*"
            return response
    raise Http404("no entry records a document with this SHA-256")


VERIFIER = Path(settings.BASE_DIR) / "tools" / "weishi_verify.py"


@require_safe
def log_verifier(request):
    """The checker itself, so that anyone can get it from the site it checks (and compare it
    with a copy from elsewhere)."""
    try:
        body = VERIFIER.read_bytes()
    except OSError:
        raise Http404("the checker is not installed on this server") from None
    response = _plain(
        body, cache="public, max-age=3600", content_type="text/x-python; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="weishi_verify.py"'
    return response
