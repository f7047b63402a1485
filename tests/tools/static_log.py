"""A small static transparency log, written the way docs/transparency-log.md says (entries,
hash tiles, entry bundles, a signed and cosigned checkpoint, the key list, the lookup hint),
and an HTTP server for it: what tools/weishi_verify.py is tested and benchmarked against.

Written from the document alone, without the checker's code or the server's (council/tlog),
so that the three implementations check one another.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import http.server
import json
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

LOG_KEY = 0x01
WITNESS_KEY = 0x04
TIME = 1_767_225_600  # 2026-01-01 00:00:00 UTC: the cosignatures' time


def canonical(value: object) -> bytes:
    """The entry encoding of the document: UTF-8, keys sorted, no spaces."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def make_entry(index: int, **fields: object) -> dict:
    """An entry with every key of the document, the given ones replacing the defaults."""
    entry = {
        "index": index,
        "time": f"2026-01-01T08:{index // 60 % 60:02d}:{index % 60:02d}.000000+08:00",
        "action": "proposal.submitted",
        "object": f"proposals.proposal:{index % 7}",
        "community": 1,
        "role": "resident",
        "actor": "commit:" + hashlib.sha256(b"salt" + str(index).encode()).hexdigest(),
        "payload": {"title": f"第 {index} 个提议"},
    }
    entry.update(fields)
    return entry


class Signer:
    """An Ed25519 signer of notes: the log's (type 0x01) or a witness's (type 0x04)."""

    def __init__(self, name: str, kind: int = LOG_KEY) -> None:
        self.name = name
        self.kind = kind
        self.private = Ed25519PrivateKey.generate()
        public = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key = bytes([kind]) + public
        self.key_id = hashlib.sha256(name.encode() + b"\n" + self.key).digest()[:4]

    @property
    def vkey(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{base64.b64encode(self.key).decode()}"

    def signature_line(self, text: str, timestamp: int = TIME) -> str:
        """The note's signature line for ``text``: a plain signature for the log, a
        cosignature/v1 for a witness."""
        if self.kind == LOG_KEY:
            blob = self.key_id + self.private.sign(text.encode())
        else:
            message = f"cosignature/v1\ntime {timestamp}\n{text}".encode()
            blob = self.key_id + timestamp.to_bytes(8, "big") + self.private.sign(message)
        return f"— {self.name} {base64.b64encode(blob).decode()}\n"


def leaf(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _power_root(hashes: list[bytes]) -> bytes:
    """The root of a complete subtree whose 2**k bottom hashes are given."""
    while len(hashes) > 1:
        hashes = [node(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
    return hashes[0]


def tiles_of(leaves: list[bytes]) -> list[list[bytes]]:
    """The hashes each tile level stores: level 0 the leaf hashes, level L the roots of the
    complete subtrees of 256**L leaves."""
    levels = [leaves]
    while len(levels[-1]) >= 256:
        below = levels[-1]
        levels.append([_power_root(below[i : i + 256]) for i in range(0, len(below) - 255, 256)])
    return levels


def tree_root(levels: list[list[bytes]], lo: int = 0, hi: int | None = None) -> bytes:
    """RFC 9162's MTH(D[lo:hi]) by its recursive definition, taking whole 256**L blocks from
    the tile levels."""
    leaves = levels[0]
    hi = len(leaves) if hi is None else hi
    n = hi - lo
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[lo]
    for level in range(len(levels) - 1, 0, -1):
        block = 256**level
        if n == block and lo % block == 0:
            return levels[level][lo // block]
    k = 1
    while k * 2 < n:
        k *= 2
    return node(tree_root(levels, lo, lo + k), tree_root(levels, lo + k, hi))


def number_path(n: int) -> str:
    """``1234067`` → ``x001/x234/067``."""
    digits = str(n)
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join(["x" + g for g in groups[:-1]] + groups[-1:])


def write_tiles(directory: Path, kind: str, items: list[bytes], encode) -> None:
    """Write ``items`` as tiles of 256 under ``directory/tile/<kind>/``: full ones, then the
    last partial one as ``.p/<W>``."""
    for start in range(0, len(items), 256):
        chunk = items[start : start + 256]
        path = directory / "tile" / kind / number_path(start // 256)
        if len(chunk) < 256:
            path = path.with_name(path.name + ".p") / str(len(chunk))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(encode(chunk))


def bundle(entries: list[bytes]) -> bytes:
    return b"".join(len(e).to_bytes(2, "big") + e for e in entries)


class StaticLog:
    """A log under ``root/log/`` (served at ``http://host:port/log/``): ``publish`` writes
    everything for a list of encoded entries and returns the signed checkpoint."""

    def __init__(self, root: Path, origin: str, witnesses: int = 2) -> None:
        self.root = root
        self.dir = root / "log"
        self.origin = origin
        self.log = Signer(origin)
        self.witnesses = [Signer(f"witness{i}.example.org", WITNESS_KEY) for i in range(witnesses)]

    def publish(
        self,
        entries: list[bytes],
        *,
        signer: Signer | None = None,
        cosigners: list[Signer] | None = None,
        size: int | None = None,
    ) -> str:
        """Write the entry bundles, the hash tiles, the checkpoint (signed by ``signer``,
        default the log; cosigned by ``cosigners``, default every witness), the key list
        and the lookup hints; ``size`` signs a checkpoint of another size than the number of
        entries (a lie, for the tests)."""
        leaves = [leaf(e) for e in entries]
        levels = tiles_of(leaves)
        write_tiles(self.dir, "entries", entries, bundle)
        for level, hashes in enumerate(levels):
            write_tiles(self.dir, str(level), hashes, b"".join)
        size = len(entries) if size is None else size
        root = tree_root(tiles_of(leaves[:size])) if size != len(entries) else tree_root(levels)
        note = self.sign(size, root, signer=signer, cosigners=cosigners)
        (self.dir / "checkpoint").write_text(note, encoding="utf-8")
        keys = [self.log.vkey] + [w.vkey for w in self.witnesses]
        (self.dir / "key").write_text("".join(k + "\n" for k in keys))
        lookup = {}
        for index, raw in enumerate(entries):
            with contextlib.suppress(ValueError, AttributeError, TypeError):
                payload = json.loads(raw).get("payload") or {}
                for name in ("pdf_sha256", "content_sha256"):
                    if payload.get(name):
                        lookup[payload[name]] = index
        (self.root / "lookup.json").write_text(json.dumps(lookup))
        return note

    def sign(
        self,
        size: int,
        root: bytes,
        *,
        signer: Signer | None = None,
        cosigners: list[Signer] | None = None,
    ) -> str:
        """A checkpoint note for this size and root."""
        text = f"{self.origin}\n{size}\n{base64.b64encode(root).decode()}\n"
        signer = self.log if signer is None else signer
        cosigners = self.witnesses if cosigners is None else cosigners
        return (
            text
            + "\n"
            + signer.signature_line(text)
            + "".join(w.signature_line(text) for w in cosigners)
        )


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the directory as is, and ``/log/lookup?sha256=`` from ``lookup.json``."""

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/log/lookup":
            super().do_GET()
            return
        wanted = urllib.parse.parse_qs(url.query).get("sha256", [""])[0]
        try:
            lookup = json.loads((Path(self.directory) / "lookup.json").read_text())
        except FileNotFoundError:
            lookup = {}
        if wanted not in lookup:
            self.send_error(404)
            return
        body = json.dumps({"index": lookup[wanted]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextlib.contextmanager
def serving(root: Path) -> Iterator[str]:
    """Serve ``root`` over HTTP on a free local port; yield the site's address."""
    handler = functools.partial(_Handler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
