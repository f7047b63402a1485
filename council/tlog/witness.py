"""A transparency-log witness (c2sp.org/tlog-witness) and the log's client for it.

The witness keeps, for each log it watches (known by its origin, which is the name of the log's
key), the size and root hash of the last checkpoint it cosigned. It cosigns a new checkpoint
only if the log signed it and a consistency proof shows the new tree extends the one it
cosigned before. It never cosigns two roots for one size nor a smaller tree after a larger one:
its state file is written (atomically, and synced to disk) before it answers, so this holds
across restarts. Every checkpoint it refuses is appended to ``<state>.refused`` as evidence.

``POST /add-checkpoint``, body: ``old <size>\\n``, the consistency proof's hashes in base64 one
per line, an empty line, then the signed checkpoint. Answers, in the order the specification
checks them:

- 400 the body is malformed (``malformed``);
- 404 the origin is not a log this witness watches (``unknown_log``);
- 403 no signature by the log's key, or a bad one (``not_signed_by_log``, ``bad_log_signature``);
- 400 the old size is larger than the checkpoint's (``smaller_tree``);
- 409 the old size is not the size last cosigned (``wrong_old_size``), with ``Content-Type:
  text/x.tlog.size`` and that size as the body;
- 422 the proof does not show the old tree is a prefix of the new one (``inconsistent``);
- 409 the same size as last cosigned, with another root (``conflicting_root``);
- 200 the cosignature line.

Only the standard library and ``cryptography``: ``python -m council.tlog.witness`` runs a witness
from a checkout without Django; ``manage.py witness`` is the same program.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import datetime
import hashlib
import json
import os
import re
import signal
import socket
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TextIO

from .merkle import ProofError, verify_consistency
from .note import (
    MAX_TREE_SIZE,
    CosignatureSigner,
    NoteError,
    Verifier,
    generate_witness_key,
    open_note,
    parse_checkpoint,
    split_note,
)

SIZE_CONTENT_TYPE = "text/x.tlog.size"
TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"
MAX_PROOF_LINES = (
    63  # tlog-witness: "The client MUST NOT send more than 63 consistency proof lines"
)
# 63 proof lines, a checkpoint and 100 signature lines fit many times over.
MAX_BODY = 256 * 1024
# What a refusal keeps of a request not signed by a watched log: anyone can send those, and
# they prove nothing about the log, so they may not fill the disk.
UNSIGNED_REQUEST_KEPT = 2048
STATE_FORMAT = "weishi-witness-state/1"
DEFAULT_LISTEN = "127.0.0.1:7380"
EMPTY_TREE_ROOT = hashlib.sha256(b"").digest()

_OLD_LINE = re.compile(r"old (0|[1-9][0-9]*)")

# The status each refusal answers with.
REFUSAL_STATUS = {
    "malformed": 400,
    "body_too_large": 413,
    "unknown_log": 404,
    "not_signed_by_log": 403,
    "bad_log_signature": 403,
    "smaller_tree": 400,
    "wrong_old_size": 409,
    "inconsistent": 422,
    "conflicting_root": 409,
}


# ---- the witness ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    """What the witness answers: an HTTP ``status``, a ``body`` and its ``content_type``."""

    status: int
    body: str
    content_type: str = TEXT_CONTENT_TYPE


class Refusal(Exception):
    """A checkpoint the witness does not cosign: ``reason`` (a key of :data:`REFUSAL_STATUS`),
    a message saying exactly what is wrong, and for ``wrong_old_size`` the ``size`` the
    witness last cosigned."""

    def __init__(self, reason: str, message: str, *, size: int | None = None):
        super().__init__(message)
        self.reason = reason
        self.status = REFUSAL_STATUS[reason]
        self.size = size


class WitnessSetupError(Exception):
    """The witness cannot start: a key, the state file or an option is wrong (the message says
    which and how)."""


@dataclass(frozen=True)
class LogState:
    """What the witness last cosigned for one log: tree ``size``, ``root`` hash, the
    ``checkpoint`` note as the log sent it, and when (``cosigned_at``, POSIX seconds)."""

    size: int
    root: bytes
    checkpoint: str
    cosigned_at: int


class WitnessState:
    """The state file: the last checkpoint cosigned per origin, as JSON.

    Loading refuses a file it cannot read exactly (the witness would otherwise forget what it
    cosigned and could be made to cosign a rewritten history); :meth:`put` replaces the file
    atomically (temporary file, fsync, rename, fsync of the folder), so a crash leaves the old
    state or the new one, never a mix.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._logs: dict[str, LogState] = {}
        self._load()

    def _load(self) -> None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return
        except OSError as error:
            raise WitnessSetupError(f"cannot read the state file {self.path}: {error}") from None
        problem = f"the state file {self.path} is damaged"
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise WitnessSetupError(
                f"{problem} (not JSON: {error}); the witness will not start without knowing "
                "what it cosigned. Restore it from a backup."
            ) from None
        if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
            raise WitnessSetupError(f"{problem}: it is not a {STATE_FORMAT} file")
        logs = data.get("logs")
        if not isinstance(logs, dict):
            raise WitnessSetupError(f'{problem}: it has no "logs" object')
        for origin, entry in logs.items():
            try:
                size, root = entry["size"], base64.b64decode(entry["root"], validate=True)
                checkpoint, cosigned_at = entry["checkpoint"], entry["cosigned_at"]
                valid = (
                    isinstance(size, int)
                    and 0 <= size <= MAX_TREE_SIZE
                    and len(root) == 32
                    and isinstance(checkpoint, str)
                    and isinstance(cosigned_at, int)
                )
            except (KeyError, TypeError, binascii.Error, ValueError):
                valid = False
            if not valid:
                raise WitnessSetupError(f"{problem}: the entry of the log {origin!r} is not valid")
            self._logs[origin] = LogState(size, root, checkpoint, cosigned_at)

    def get(self, origin: str) -> LogState | None:
        """What was last cosigned for ``origin``, or None if nothing was."""
        with self._lock:
            return self._logs.get(origin)

    def origins(self) -> list[str]:
        with self._lock:
            return sorted(self._logs)

    def put(self, origin: str, state: LogState) -> None:
        """Record ``state`` for ``origin`` and write the file; returns once it is on disk.
        Raises ``OSError`` (the state in memory is then left as it was)."""
        with self._lock:
            logs = {**self._logs, origin: state}
            data = {
                "format": STATE_FORMAT,
                "logs": {
                    name: {
                        "size": entry.size,
                        "root": base64.b64encode(entry.root).decode(),
                        "checkpoint": entry.checkpoint,
                        "cosigned_at": entry.cosigned_at,
                    }
                    for name, entry in sorted(logs.items())
                },
            }
            _write_atomically(self.path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")
            self._logs = logs


def _write_atomically(path: Path, text: str) -> None:
    folder = path.parent
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    # The rename is durable only once the folder's entry is.
    folder_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(folder_fd)
    finally:
        os.close(folder_fd)


def refusals_path(state_path: Path) -> Path:
    """Where the witness appends the checkpoints it refused: ``<state>.refused``."""
    state_path = Path(state_path)
    return state_path.with_name(state_path.name + ".refused")


@dataclass(frozen=True)
class _Request:
    old_size: int
    proof: list[bytes]
    note: str


def _parse_request(body: bytes) -> _Request:
    """The old size, proof and checkpoint note of an add-checkpoint body; ``Refusal``
    ``malformed`` naming what is wrong."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Refusal("malformed", f"the body is not UTF-8 (byte {error.start})") from None
    first, newline, rest = text.partition("\n")
    if not newline:
        raise Refusal("malformed", "the body does not start with a line `old <size>`")
    match = _OLD_LINE.fullmatch(first)
    if not match:
        raise Refusal(
            "malformed",
            f"the first line is {first[:40]!r}, not `old <size>` (decimal, no leading zeros)",
        )
    old_size = int(match.group(1))
    if old_size > MAX_TREE_SIZE:
        raise Refusal("malformed", f"the old size {old_size} is over 2^64-1")
    proof = []
    while True:
        line, newline, rest = rest.partition("\n")
        if not newline:
            raise Refusal(
                "malformed", "the body has no empty line between the proof and the checkpoint"
            )
        if not line:
            break
        if len(proof) == MAX_PROOF_LINES:
            raise Refusal("malformed", f"the proof has more than {MAX_PROOF_LINES} lines")
        try:
            node = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            node = b""
        if len(node) != 32 or base64.b64encode(node).decode() != line:
            raise Refusal(
                "malformed",
                f"proof line {len(proof) + 1} is not a hash (canonical base64 of 32 bytes): "
                f"{line[:60]!r}",
            )
        proof.append(node)
    return _Request(old_size=old_size, proof=proof, note=rest)


class Witness:
    """Cosigns the checkpoints of the logs whose keys it is given, with ``signer``, keeping
    its state in ``state_path`` and its refusals beside it.

    ``log_keys``: verifier keys of type 0x01; a log's origin is its key's name (several keys
    for one origin are all accepted, for a key rotation). ``clock`` gives the cosignatures'
    time; ``log`` receives one line per request for the operator.
    """

    def __init__(
        self,
        signer: CosignatureSigner,
        log_keys: Iterable[Verifier],
        state_path: Path,
        *,
        clock: Callable[[], float] = time.time,
        log: Callable[[str], None] | None = None,
    ):
        self.signer = signer
        self.logs: dict[str, list[Verifier]] = {}
        for verifier in log_keys:
            if verifier.is_cosigner:
                raise WitnessSetupError(
                    f"{verifier.key} is a witness's key (type 0x04), not a log's key"
                )
            self.logs.setdefault(verifier.name, []).append(verifier)
        self.state = WitnessState(Path(state_path))
        self.refusals_path = refusals_path(Path(state_path))
        self._clock = clock
        self.log = log or (lambda line: None)
        self._origin_locks: dict[str, threading.Lock] = {
            origin: threading.Lock() for origin in self.logs
        }
        self._refusals_lock = threading.Lock()

    def add_checkpoint(self, body: bytes) -> Response:
        """Handle one add-checkpoint request body: the cosignature line (200), or the refusal
        (recorded in the refusals file first) with its status and a message saying what is
        wrong. Raises ``OSError`` only if the state cannot be written (nothing is cosigned)."""
        if len(body) > MAX_BODY:
            return self.refuse_too_large(len(body))
        origin = None
        signed = False
        try:
            request = _parse_request(body)
            try:
                text, _ = split_note(request.note)
                checkpoint = parse_checkpoint(text)
            except NoteError as error:
                raise Refusal("malformed", f"the checkpoint is malformed: {error}") from None
            origin = checkpoint.origin
            verifiers = self.logs.get(origin)
            if verifiers is None:
                raise Refusal(
                    "unknown_log",
                    f"this witness does not witness the log {origin!r} "
                    f"(it witnesses: {', '.join(sorted(self.logs))})",
                )
            try:
                open_note(request.note, verifiers)
            except NoteError as error:
                keys = ", ".join(v.key for v in verifiers)
                if error.code == "bad_signature":
                    raise Refusal(
                        "bad_log_signature",
                        f"the log's signature does not verify: {error} (log key {keys})",
                    ) from None
                raise Refusal(
                    "not_signed_by_log",
                    f"the checkpoint is not signed by the log's key {keys}: {error}",
                ) from None
            signed = True
            with self._origin_locks[origin]:
                line = self._check_and_record(origin, checkpoint, request)
        except Refusal as refusal:
            return self._refuse(refusal, body, origin, signed=signed)
        self.log(
            f"cosigned {origin} size {checkpoint.size} (old size {request.old_size}, "
            f"{len(request.proof)} proof hashes)"
        )
        return Response(200, line)

    def refuse_too_large(self, length: int) -> Response:
        """The refusal (413, recorded) of a body of ``length`` bytes, over :data:`MAX_BODY`."""
        refusal = Refusal("body_too_large", f"the body has {length} bytes; at most {MAX_BODY}")
        return self._refuse(refusal, b"", None)

    def _check_and_record(self, origin, checkpoint, request) -> str:
        """The cosignature of a checkpoint signed by its log, once the witness's record of the
        log has been advanced to it; ``Refusal`` otherwise. Called with the origin's lock held:
        the check and the write are one step, so no two requests can roll the state back."""
        last = self.state.get(origin)
        last_size = last.size if last else 0
        if request.old_size > checkpoint.size:
            raise Refusal(
                "smaller_tree",
                f"the checkpoint's tree (size {checkpoint.size}) is smaller than the old size "
                f"{request.old_size}: a log only grows",
            )
        if request.old_size != last_size:
            raise Refusal(
                "wrong_old_size",
                f"the old size is {request.old_size} but the witness last cosigned size "
                f"{last_size} of {origin}",
                size=last_size,
            )
        if last is None:
            if request.proof:
                raise Refusal(
                    "inconsistent",
                    f"the witness has cosigned nothing of {origin} yet, so the proof must be "
                    f"empty; it has {len(request.proof)} hashes",
                )
            if checkpoint.size == 0 and checkpoint.root != EMPTY_TREE_ROOT:
                raise Refusal(
                    "inconsistent",
                    "the root of the empty tree is SHA-256 of nothing; the checkpoint's is not",
                )
        elif checkpoint.size == last.size:
            if checkpoint.root != last.root:
                raise Refusal(
                    "conflicting_root",
                    f"the witness already cosigned size {last.size} of {origin} with root "
                    f"{base64.b64encode(last.root).decode()}; this checkpoint gives that size "
                    f"the root {base64.b64encode(checkpoint.root).decode()}: the log's history "
                    "was rewritten",
                )
            if request.proof:
                raise Refusal(
                    "inconsistent",
                    f"the proof between two trees of the same size is empty; this one has "
                    f"{len(request.proof)} hashes",
                )
        else:
            try:
                verify_consistency(
                    last.size, checkpoint.size, last.root, checkpoint.root, request.proof
                )
            except ProofError as error:
                raise Refusal("inconsistent", f"the consistency proof is wrong: {error}") from None
        now = int(self._clock())
        if last is None or checkpoint.size != last.size:
            # Persist before answering: a restart must not forget what was cosigned.
            self.state.put(origin, LogState(checkpoint.size, checkpoint.root, request.note, now))
        return self.signer.cosign(checkpoint.text, now)

    def _refuse(
        self, refusal: Refusal, body: bytes, origin: str | None, *, signed: bool = False
    ) -> Response:
        now = self._clock()
        record = {
            "time": datetime.datetime.fromtimestamp(now, datetime.UTC).isoformat(),
            "status": refusal.status,
            "reason": refusal.reason,
            "message": str(refusal),
            "origin": origin,
            "signed_by_log": signed,
            "request": (body if signed else body[:UNSIGNED_REQUEST_KEPT]).decode(
                "utf-8", errors="replace"
            ),
        }
        if not signed and len(body) > UNSIGNED_REQUEST_KEPT:
            record["request_truncated_from"] = len(body)
        last = self.state.get(origin) if signed else None
        if last is not None:
            # With what it had cosigned beside it, a refusal is evidence on its own: two
            # checkpoints the log signed that cannot both be true.
            record["last_cosigned"] = last.checkpoint
        try:
            with self._refusals_lock, self.refusals_path.open("a", encoding="utf-8") as file:
                file.write(json.dumps(record, ensure_ascii=False) + "\n")
                file.flush()
                os.fsync(file.fileno())
        except OSError as error:
            self.log(f"cannot record a refusal in {self.refusals_path}: {error}")
        self.log(
            f"refused {origin or 'a checkpoint'}: {refusal.status} {refusal.reason}: {refusal}"
        )
        if refusal.reason == "wrong_old_size":
            return Response(refusal.status, f"{refusal.size}\n", SIZE_CONTENT_TYPE)
        return Response(refusal.status, f"{refusal}\n")


# ---- HTTP ----------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the specification asks
    server_version = "weishi-witness"
    sys_version = ""
    timeout = 60  # an idle kept-alive connection is closed after a minute

    def do_POST(self) -> None:
        if self.path != "/add-checkpoint":
            self.close_connection = True  # its body is not read
            self._send(Response(404, "not found: this witness answers POST /add-checkpoint\n"))
            return
        length = self.headers.get("Content-Length")
        if length is None:
            self.close_connection = True
            self._send(Response(411, "the request needs a Content-Length\n"))
            return
        if not re.fullmatch(r"[0-9]{1,12}", length):
            self.close_connection = True
            self._send(Response(400, "the Content-Length is not a number\n"))
            return
        if int(length) > MAX_BODY:
            self.close_connection = True  # the body is not read
            self._send(self.server.witness.refuse_too_large(int(length)))
            return
        body = self.rfile.read(int(length))
        try:
            response = self.server.witness.add_checkpoint(body)
        except Exception as error:  # the witness must answer, and say why
            self.server.witness.log(f"could not cosign: {error!r}")
            response = Response(500, f"the witness could not record the checkpoint: {error}\n")
        self._send(response)

    def do_GET(self) -> None:
        if self.path == "/add-checkpoint":
            self._send(Response(405, "add-checkpoint takes a POST\n"), allow="POST")
            return
        if self.path != "/":
            self._send(Response(404, "not found: this witness answers POST /add-checkpoint\n"))
            return
        witness = self.server.witness
        lines = [f"witness {witness.signer.vkey}"]
        for origin in sorted(witness.logs):
            last = witness.state.get(origin)
            size = f"size {last.size} cosigned" if last else "nothing cosigned yet"
            lines.append(f"log {origin}: {size}")
        self._send(Response(200, "\n".join(lines) + "\n"))

    def _send(self, response: Response, *, allow: str | None = None) -> None:
        body = response.body.encode()
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(body)))
        if allow:
            self.send_header("Allow", allow)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002
        pass  # the witness logs each checkpoint itself, with its reason


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # the state is written atomically: stopping mid-request is safe

    def __init__(self, address, witness: Witness, family: int):
        self.address_family = family
        self.witness = witness
        super().__init__(address, _Handler)


def parse_listen(listen: str) -> tuple[str, int, int]:
    """(host, port, address family) of ``HOST:PORT`` or ``[IPV6]:PORT``."""
    host, colon, port = listen.rpartition(":")
    if not colon or not host or not re.fullmatch(r"[0-9]{1,5}", port) or int(port) > 65535:
        raise WitnessSetupError(f"--listen {listen!r}: give HOST:PORT, e.g. {DEFAULT_LISTEN}")
    if host.startswith("[") and host.endswith("]"):
        return host[1:-1], int(port), socket.AF_INET6
    return host, int(port), socket.AF_INET


@contextlib.contextmanager
def _only_witness_on(state_path: Path) -> Iterator[None]:
    """Hold a lock beside the state file while serving: two witnesses sharing one state file
    would each cosign from their own memory of it."""
    import fcntl  # Unix only, as the deployment is

    lock_path = state_path.with_name(state_path.name + ".lock")
    with open(lock_path, "a") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WitnessSetupError(
                f"another witness is running with the state file {state_path} "
                f"(it holds {lock_path}); stop it first"
            ) from None
        yield


# ---- the program ---------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The witness program's options (shared by ``manage.py witness`` and ``python -m``)."""
    parser.add_argument(
        "--listen",
        default=DEFAULT_LISTEN,
        metavar="HOST:PORT",
        help=f"address to listen on (default {DEFAULT_LISTEN}; port 0 picks a free one)",
    )
    parser.add_argument(
        "--key",
        metavar="FILE",
        help="the witness's private key file (PRIVATE+KEY+…); keep it readable by the witness only",
    )
    parser.add_argument(
        "--generate-key",
        metavar="NAME",
        help="write a new witness key named NAME to --key (mode 0600), print its verifier key, "
        "and exit",
    )
    parser.add_argument(
        "--state",
        metavar="FILE",
        help="the witness's state file (JSON): what it cosigned for each log; refused "
        "checkpoints go to FILE.refused",
    )
    parser.add_argument(
        "--log-key",
        action="append",
        default=[],
        metavar="VKEY",
        help="verifier key of a log to witness (<origin>+<key ID>+<key>); repeat for more logs",
    )


def generate_key_file(name: str, path: Path) -> str:
    """Write a new witness signer key named ``name`` to ``path`` (created, mode 0600; an
    existing file is never overwritten) and return its verifier key."""
    try:
        skey, vkey = generate_witness_key(name)
    except NoteError as error:
        raise WitnessSetupError(f"--generate-key: {error}") from None
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise WitnessSetupError(
            f"{path} already exists: a witness key is never overwritten (its verifier key may "
            "already be published); choose another file"
        ) from None
    except OSError as error:
        raise WitnessSetupError(f"cannot create {path}: {error}") from None
    with os.fdopen(fd, "w") as file:
        file.write(skey + "\n")
        file.flush()
        os.fsync(file.fileno())
    return vkey


def load_key_file(path: Path) -> tuple[CosignatureSigner, str | None]:
    """The witness's signer from its key file, and a warning if others may read the file."""
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except OSError as error:
        raise WitnessSetupError(f"cannot read the key file {path}: {error.strerror}") from None
    except UnicodeDecodeError:
        raise WitnessSetupError(f"the key file {path} is not a witness key (not text)") from None
    try:
        signer = CosignatureSigner(text)
    except NoteError as error:
        raise WitnessSetupError(
            f"the key file {path} does not hold a witness key: {error}"
        ) from None
    warning = None
    if Path(path).stat().st_mode & 0o077:
        warning = (
            f"warning: {path} can be read by other users; whoever reads it can cosign as this "
            f"witness (chmod 600 {path})"
        )
    return signer, warning


def run(options: dict, out: TextIO) -> None:
    """Run the witness program with parsed ``options`` (see :func:`add_arguments`), writing
    what it does to ``out``; returns when stopped (Ctrl-C or TERM). Raises
    :class:`WitnessSetupError` when it cannot start."""
    key = options.get("key")
    if options.get("generate_key"):
        if not key:
            raise WitnessSetupError("--generate-key NAME needs --key FILE: where to write it")
        vkey = generate_key_file(options["generate_key"], Path(key))
        out.write(f"wrote a new witness key to {key} (mode 0600); keep it secret.\n")
        out.write("Its verifier key, to publish and to give to the log's operator:\n")
        out.write(vkey + "\n")
        out.flush()
        return
    missing = [
        flag
        for flag, name in (("--key", "key"), ("--state", "state"), ("--log-key", "log_key"))
        if not options.get(name)
    ]
    if missing:
        raise WitnessSetupError(
            f"missing {', '.join(missing)}: a witness needs its key, its state file and at "
            "least one log's key (or --generate-key NAME --key FILE to make a key)"
        )
    signer, warning = load_key_file(Path(key))
    log_keys = []
    for vkey in options["log_key"]:
        try:
            log_keys.append(Verifier(vkey))
        except NoteError as error:
            raise WitnessSetupError(f"--log-key {vkey[:80]!r}: {error}") from None
    host, port, family = parse_listen(options.get("listen") or DEFAULT_LISTEN)
    state_path = Path(options["state"])
    if not state_path.parent.is_dir():
        raise WitnessSetupError(
            f"--state {state_path}: the folder {state_path.parent} does not exist"
        )
    lock = threading.Lock()

    def log(line: str) -> None:
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        with lock:
            out.write(f"{stamp} {line}\n")
            out.flush()

    with _only_witness_on(state_path):
        witness = Witness(signer, log_keys, state_path, log=log)
        try:
            server = _Server((host, port), witness, family)
        except OSError as error:
            raise WitnessSetupError(f"cannot listen on {host}:{port}: {error.strerror}") from None
        if warning:
            log(warning)
        log(f"witness {signer.vkey}")
        log(f"state {state_path}; refused checkpoints are kept in {witness.refusals_path}")
        for origin in sorted(witness.logs):
            last = witness.state.get(origin)
            log(
                f"log {origin}: "
                + (f"size {last.size} cosigned" if last else "nothing cosigned yet")
            )
        for origin in witness.state.origins():
            if origin not in witness.logs:
                log(f"log {origin}: in the state file but not witnessed now (no --log-key)")
        bound_port = server.server_address[1]
        shown = f"[{host}]" if family == socket.AF_INET6 else host
        log(f"listening on http://{shown}:{bound_port}/add-checkpoint")

        def stop(signum, frame):
            raise KeyboardInterrupt

        previous = signal.signal(signal.SIGTERM, stop)
        try:
            server.serve_forever(poll_interval=0.5)
        except KeyboardInterrupt:
            log("stopping")
        finally:
            signal.signal(signal.SIGTERM, previous)
            server.server_close()


# ---- the log's client ----------------------------------------------------------------------------


class WitnessError(Exception):
    """A witness did not cosign: ``code`` says why (``wrong_old_size`` with the witness's
    ``size``, ``unknown_log``, ``not_signed``, ``bad_request``, ``inconsistent``, ``conflict``,
    ``unreachable``, ``bad_response``, ``bad_cosignature``), ``status`` is the HTTP status if
    the witness answered, and the message quotes what it said."""

    def __init__(
        self, code: str, message: str, *, status: int | None = None, size: int | None = None
    ):
        super().__init__(message)
        self.code = code
        self.status = status
        self.size = size


_STATUS_CODES = {
    400: "bad_request",
    403: "not_signed",
    404: "unknown_log",
    409: "conflict",
    422: "inconsistent",
}


def witness_add_checkpoint(
    url: str,
    old_size: int,
    proof: Iterable[bytes],
    note: str,
    timeout: float = 10.0,
    *,
    verifier: Verifier | None = None,
) -> list[str]:
    """Ask the witness at ``url`` (its submission prefix, e.g. ``https://w.example/``) to cosign
    the signed checkpoint ``note``, with the consistency ``proof`` from ``old_size``, the size
    it last cosigned; return its cosignature lines (each ``— <name> <base64>\\n``).

    With ``verifier`` (the witness's key), returns only after checking that a line by that key
    cosigns ``note``. Raises :class:`WitnessError`; on ``wrong_old_size`` its ``size`` is the
    size the witness holds, to retry from.
    """
    body = (
        f"old {old_size}\n"
        + "".join(base64.b64encode(node).decode() + "\n" for node in proof)
        + "\n"
        + note
    ).encode()
    endpoint = url.rstrip("/") + "/add-checkpoint"
    request = urllib.request.Request(  # noqa: S310 (the operator configures the witness's URL)
        endpoint, data=body, method="POST", headers={"Content-Type": TEXT_CONTENT_TYPE}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            status, content_type, text = (
                answer.status,
                answer.headers.get("Content-Type", ""),
                answer.read(),
            )
    except urllib.error.HTTPError as error:
        status, content_type = error.code, error.headers.get("Content-Type", "")
        try:
            text = error.read()
        except OSError:
            text = b""
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise WitnessError("unreachable", f"witness {endpoint} unreachable: {reason}") from None
    said = text.decode("utf-8", errors="replace").strip()
    if status == 409 and content_type.split(";")[0].strip() == SIZE_CONTENT_TYPE:
        if not re.fullmatch(r"0|[1-9][0-9]*", said):
            raise WitnessError(
                "bad_response",
                f"witness {endpoint} answered 409 with a size {said[:40]!r}",
                status=status,
            )
        raise WitnessError(
            "wrong_old_size",
            f"witness {endpoint} last cosigned size {said}, not {old_size}",
            status=status,
            size=int(said),
        )
    if status != 200:
        code = _STATUS_CODES.get(status, "bad_response")
        raise WitnessError(
            code, f"witness {endpoint} refused ({status}): {said[:500]}", status=status
        )
    try:
        lines = text.decode("utf-8")
        _, signatures = split_note("x\n\n" + lines)
    except (UnicodeDecodeError, NoteError) as error:
        raise WitnessError(
            "bad_response",
            f"witness {endpoint} answered 200 without cosignature lines: {error}",
            status=status,
        ) from None
    result = [signature.line for signature in signatures]
    if verifier is not None:
        try:
            open_note(note + "".join(result), [verifier])
        except NoteError as error:
            raise WitnessError(
                "bad_cosignature",
                f"witness {endpoint} did not cosign the checkpoint with {verifier.key}: {error}",
                status=status,
            ) from None
    return result


def main(argv: list[str] | None = None) -> int:
    """``python -m council.tlog.witness``: the witness without Django."""
    parser = argparse.ArgumentParser(
        prog="python -m council.tlog.witness", description=__doc__.splitlines()[0]
    )
    add_arguments(parser)
    options = vars(parser.parse_args(argv))
    try:
        run(options, sys.stdout)
    except WitnessSetupError as error:
        print(f"witness: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
