"""Signed notes, checkpoints and witness cosignatures, as C2SP specifies them (Ed25519 only).

- c2sp.org/signed-note: a text ending in a newline, an empty line, then one line per signature,
  ``— <key name> <base64(4-byte key ID ‖ signature)>``. Keys are written the way Go's
  ``golang.org/x/mod/sumdb/note`` writes them: a verifier key ``<name>+<key ID, 8 hex>+<base64(type
  ‖ public key)>`` and a signer key ``PRIVATE+KEY+<name>+<key ID>+<base64(type ‖ 32-byte seed)>``,
  with key ID = SHA-256(name ‖ "\\n" ‖ type ‖ public key)[:4].
- Type ``0x01``: Ed25519 over the note's text (what the log signs checkpoints with).
- Type ``0x04`` (c2sp.org/tlog-cosignature, cosignature/v1): Ed25519 over ``"cosignature/v1\\ntime
  <t>\\n"`` followed by the text; the signature carries the 8-byte big-endian time ``t`` before the
  64 signature bytes. This is what a witness signs.
- c2sp.org/tlog-checkpoint: the text of a checkpoint is the log's origin, its tree size and its
  root hash, one per line.

Every refusal is a :class:`NoteError` with a stable ``code`` (the site and the witness turn
codes into messages for people) and an English message precise enough for a developer.

Only the standard library and ``cryptography``: a witness or a checker runs without Django.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

TYPE_ED25519 = 0x01
TYPE_COSIGNATURE_V1 = 0x04
KEY_TYPES = {TYPE_ED25519: "Ed25519", TYPE_COSIGNATURE_V1: "Ed25519 cosignature/v1"}

SIGNATURE_PREFIX = "\u2014 "  # em dash, space
# Go's note.Open refuses more; it bounds the work a hostile note can ask for.
MAX_SIGNATURES = 100
# tlog-cosignature: "It MUST NOT exceed 2^63 - 1".
MAX_TIMESTAMP = 2**63 - 1
# Tree sizes are unsigned 64-bit integers everywhere else (Go's tlog, the tiles' arithmetic).
MAX_TREE_SIZE = 2**64 - 1

_HEX8 = re.compile(r"[0-9a-fA-F]{8}")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")

# What a NoteError's code means; the codes are stable, the messages may be reworded.
ERROR_CODES = {
    "malformed": "the note does not follow the signed-note format",
    "malformed_checkpoint": "the text is not a checkpoint (origin, size, root hash)",
    "bad_key": "a signer or verifier key cannot be read or does not hold together",
    "unknown_key": "the key is of a type this module does not handle (only 0x01 and 0x04)",
    "ambiguous_key": "two different known keys share the name and key ID of a signature",
    "no_known_signature": "no signature on the note is by a known key",
    "bad_signature": "a signature by a known key does not verify",
}


class NoteError(ValueError):
    """A note, checkpoint or key refused, with a stable ``code`` (one of :data:`ERROR_CODES`)
    and ``key`` (``"<name>+<key ID>"``) when one key is at fault."""

    def __init__(self, code: str, message: str, *, key: str | None = None):
        assert code in ERROR_CODES, code
        super().__init__(message)
        self.code = code
        self.key = key


# ---- keys ---------------------------------------------------------------------------------------


def is_valid_key_name(name: str) -> bool:
    """Whether ``name`` may name a key: non-empty, no Unicode space, no ``+``, no control
    character (signed-note)."""
    return bool(name) and "+" not in name and not any(ch.isspace() or ord(ch) < 0x20 for ch in name)


def key_id(name: str, key_type: int, public_key: bytes) -> int:
    """The key ID of a key: the first 4 bytes, big-endian, of SHA-256(name ‖ "\\n" ‖ type ‖
    public key)."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def _b64decode(text: str) -> bytes | None:
    """The bytes of canonical standard base64 (padded, nothing but the alphabet, unused bits
    zero), or None."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    # Refusing a second spelling of the same bytes keeps every value with one written form.
    return raw if base64.b64encode(raw).decode() == text else None


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _vkey(name: str, key_type: int, public_key: bytes) -> str:
    return f"{name}+{key_id(name, key_type, public_key):08x}+{_b64(bytes([key_type]) + public_key)}"


def _raw_public_key(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _generate(name: str, key_type: int) -> tuple[str, str]:
    if not is_valid_key_name(name):
        raise NoteError(
            "bad_key", f"{name!r} cannot name a key: it must be non-empty, without spaces or '+'"
        )
    private = Ed25519PrivateKey.generate()
    seed = private.private_bytes_raw()
    public = _raw_public_key(private)
    kid = key_id(name, key_type, public)
    skey = f"PRIVATE+KEY+{name}+{kid:08x}+{_b64(bytes([key_type]) + seed)}"
    return skey, _vkey(name, key_type, public)


def generate_key(name: str) -> tuple[str, str]:
    """A new Ed25519 signer key and its verifier key (type 0x01), named ``name``, as Go's
    ``note.GenerateKey`` writes them. A log's key is named after its origin."""
    return _generate(name, TYPE_ED25519)


def generate_witness_key(name: str) -> tuple[str, str]:
    """A new witness key: signer and verifier key of type 0x04 (cosignature/v1)."""
    return _generate(name, TYPE_COSIGNATURE_V1)


def _parse_signer_key(skey: str) -> tuple[str, int, int, Ed25519PrivateKey]:
    """(name, key type, key ID, private key) of a ``PRIVATE+KEY+…`` key whose key ID matches."""
    if not isinstance(skey, str):
        raise NoteError("bad_key", "a signer key is text (PRIVATE+KEY+<name>+<key ID>+<key>)")
    parts = skey.split("+", 4)
    if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
        raise NoteError(
            "bad_key", "a signer key has the form PRIVATE+KEY+<name>+<key ID, 8 hex>+<base64 key>"
        )
    _, _, name, hex_id, encoded = parts
    if not is_valid_key_name(name):
        raise NoteError("bad_key", f"signer key: {name!r} cannot name a key")
    if not _HEX8.fullmatch(hex_id):
        raise NoteError("bad_key", f"signer key {name}: the key ID {hex_id!r} is not 8 hex digits")
    raw = _b64decode(encoded)
    if not raw:
        raise NoteError("bad_key", f"signer key {name}: the key is not canonical base64")
    key_type, seed = raw[0], raw[1:]
    if key_type not in KEY_TYPES:
        raise NoteError(
            "unknown_key",
            f"signer key {name}: key type 0x{key_type:02x} is not supported "
            "(0x01 Ed25519 or 0x04 cosignature/v1)",
        )
    if len(seed) != 32:
        raise NoteError(
            "bad_key", f"signer key {name}: an Ed25519 seed is 32 bytes, this one {len(seed)}"
        )
    private = Ed25519PrivateKey.from_private_bytes(seed)
    kid = key_id(name, key_type, _raw_public_key(private))
    if kid != int(hex_id, 16):
        raise NoteError(
            "bad_key",
            f"signer key {name}: the key ID {hex_id} does not match the key (it is {kid:08x})",
        )
    return name, key_type, kid, private


class Signer:
    """Signs note texts with an Ed25519 signer key of type 0x01 (the log's key).

    ``name``, ``key_id`` (an int; written ``f"{key_id:08x}"``), ``vkey`` (the verifier key to
    publish). Raises :class:`NoteError` ``bad_key``/``unknown_key`` for a key that is not a
    well-formed type-0x01 key whose key ID matches.
    """

    def __init__(self, skey: str):
        name, key_type, kid, private = _parse_signer_key(skey)
        if key_type != TYPE_ED25519:
            raise NoteError(
                "bad_key",
                f"signer key {name} is a witness key (type 0x{key_type:02x}): "
                "cosign with CosignatureSigner, sign with a type 0x01 key",
            )
        self.name = name
        self.key_id = kid
        self._private = private
        self.vkey = _vkey(name, TYPE_ED25519, _raw_public_key(private))

    def sign(self, text: str) -> str:
        """The signature line (``— <name> <base64(key ID ‖ signature)>\\n``) of ``text``, which
        must be a valid note text (:func:`check_text`)."""
        check_text(text)
        signature = self._private.sign(text.encode())
        return _signature_line(self.name, self.key_id, signature)

    def __repr__(self) -> str:
        return f"Signer({self.name}+{self.key_id:08x})"


class CosignatureSigner:
    """Cosigns checkpoints as a witness (cosignature/v1, type 0x04).

    Takes a type 0x04 signer key (as :func:`generate_witness_key` writes) or, as Go's
    ``NewSignerForCosignatureV1`` does, a type 0x01 one; either way the key ID and the verifier
    key (``vkey``) are those of type 0x04.
    """

    def __init__(self, skey: str):
        name, _key_type, _kid, private = _parse_signer_key(skey)
        public = _raw_public_key(private)
        self.name = name
        self.key_id = key_id(name, TYPE_COSIGNATURE_V1, public)
        self._private = private
        self.vkey = _vkey(name, TYPE_COSIGNATURE_V1, public)

    def cosign(self, text: str, timestamp: int) -> str:
        """The cosignature line of the checkpoint text ``text`` at ``timestamp`` (POSIX
        seconds): base64(key ID ‖ 8-byte big-endian time ‖ Ed25519 signature of
        ``"cosignature/v1\\ntime <t>\\n" + text``). ``text`` must be a checkpoint
        (:func:`parse_checkpoint`)."""
        parse_checkpoint(text)
        if not isinstance(timestamp, int) or isinstance(timestamp, bool):
            raise TypeError("a cosignature's timestamp is an int (POSIX seconds)")
        if not 0 <= timestamp <= MAX_TIMESTAMP:
            raise ValueError(f"a cosignature's timestamp is 0 … 2^63-1, not {timestamp}")
        signature = self._private.sign(_cosigned_message(timestamp, text))
        return _signature_line(self.name, self.key_id, timestamp.to_bytes(8, "big") + signature)

    def __repr__(self) -> str:
        return f"CosignatureSigner({self.name}+{self.key_id:08x})"


def _cosigned_message(timestamp: int, text: str) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def _signature_line(name: str, kid: int, signature: bytes) -> str:
    return f"{SIGNATURE_PREFIX}{name} {_b64(kid.to_bytes(4, 'big') + signature)}\n"


class Verifier:
    """Verifies signatures by one key, from its verifier key ``<name>+<key ID>+<base64 key>``.

    A type 0x01 key verifies Ed25519 signatures of the text (a log); a type 0x04 key verifies
    cosignature/v1 signatures (a witness). ``name``, ``key_id`` (int), ``key_type``, ``vkey``.
    Raises :class:`NoteError` ``bad_key`` for a malformed key or one whose key ID does not
    match, ``unknown_key`` for another key type.
    """

    def __init__(self, vkey: str):
        if not isinstance(vkey, str):
            raise NoteError("bad_key", "a verifier key is text (<name>+<key ID>+<key>)")
        parts = vkey.split("+", 2)
        if len(parts) != 3:
            raise NoteError(
                "bad_key",
                f"{vkey[:80]!r} is not a verifier key (<name>+<key ID, 8 hex>+<base64 key>)",
            )
        name, hex_id, encoded = parts
        if not is_valid_key_name(name):
            raise NoteError("bad_key", f"verifier key: {name!r} cannot name a key")
        if not _HEX8.fullmatch(hex_id):
            raise NoteError(
                "bad_key", f"verifier key {name}: the key ID {hex_id!r} is not 8 hex digits"
            )
        raw = _b64decode(encoded)
        if not raw:
            raise NoteError("bad_key", f"verifier key {name}: the key is not canonical base64")
        key_type, public = raw[0], raw[1:]
        kid = key_id(name, key_type, public)
        if kid != int(hex_id, 16):
            raise NoteError(
                "bad_key",
                f"verifier key {name}: the key ID {hex_id} does not match the key "
                f"(it is {kid:08x})",
                key=f"{name}+{hex_id}",
            )
        if key_type not in KEY_TYPES:
            raise NoteError(
                "unknown_key",
                f"verifier key {name}+{hex_id}: key type 0x{key_type:02x} is not supported "
                "(0x01 Ed25519 or 0x04 cosignature/v1)",
                key=f"{name}+{hex_id}",
            )
        if len(public) != 32:
            raise NoteError(
                "bad_key",
                f"verifier key {name}+{hex_id}: an Ed25519 public key is 32 bytes, "
                f"this one {len(public)}",
                key=f"{name}+{hex_id}",
            )
        self.name = name
        self.key_id = kid
        self.key_type = key_type
        self.public_key = public
        self._public = Ed25519PublicKey.from_public_bytes(public)
        self.vkey = _vkey(name, key_type, public)

    @property
    def key(self) -> str:
        """``<name>+<key ID>``: how messages name this key."""
        return f"{self.name}+{self.key_id:08x}"

    @property
    def is_cosigner(self) -> bool:
        """Whether this is a witness's key (type 0x04)."""
        return self.key_type == TYPE_COSIGNATURE_V1

    def verify(self, text: str, signature: bytes) -> bool:
        """Whether ``signature`` (what follows the key ID in a signature line) is this key's
        signature of ``text``."""
        if self.key_type == TYPE_COSIGNATURE_V1:
            if len(signature) != 8 + 64:
                return False
            timestamp = int.from_bytes(signature[:8], "big")
            if timestamp > MAX_TIMESTAMP:
                return False
            message, signature = _cosigned_message(timestamp, text), signature[8:]
        else:
            if len(signature) != 64:
                return False
            message = text.encode()
        try:
            self._public.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Verifier) and other.vkey == self.vkey

    def __hash__(self) -> int:
        return hash(self.vkey)

    def __repr__(self) -> str:
        return f"Verifier({self.vkey})"


# ---- notes --------------------------------------------------------------------------------------


def check_text(text: str) -> None:
    """Raise :class:`NoteError` ``malformed`` unless ``text`` can be a note's text: a str of
    valid Unicode ending in a newline, with no control character but newlines."""
    if not isinstance(text, str):
        raise NoteError("malformed", "a note's text is a str")
    if not text.endswith("\n"):
        raise NoteError("malformed", "a note's text must end with a newline")
    _check_characters(text, "the note's text")


def _check_characters(text: str, what: str) -> None:
    for position, ch in enumerate(text):
        if (ord(ch) < 0x20 and ch != "\n") or 0xD800 <= ord(ch) <= 0xDFFF:
            raise NoteError(
                "malformed",
                f"{what} holds the character U+{ord(ch):04X} at position {position}: "
                "a signed note is UTF-8 with no control character but the newline",
            )


@dataclass(frozen=True)
class NoteSignature:
    """One signature line of a note: key ``name`` and ``key_id``, the ``signature`` bytes
    (after the key ID; a cosignature's start with its 8-byte time), the cosignature's
    ``timestamp`` (None for a type 0x01 signature or one not verified), and the ``line`` as
    written (with its newline)."""

    name: str
    key_id: int
    signature: bytes
    line: str
    timestamp: int | None = None

    @property
    def key(self) -> str:
        return f"{self.name}+{self.key_id:08x}"


@dataclass(frozen=True)
class OpenedNote:
    """A note whose signatures were checked: its ``text``, the ``signatures`` that verified
    with a known key (in the note's order, one per key), and the ``unverified`` ones, by
    keys not known (each distinct line once)."""

    text: str
    signatures: list[NoteSignature] = field(default_factory=list)
    unverified: list[NoteSignature] = field(default_factory=list)

    def signature_by(self, verifier: Verifier) -> NoteSignature | None:
        """The verified signature by ``verifier``'s key, or None."""
        for signature in self.signatures:
            if (signature.name, signature.key_id) == (verifier.name, verifier.key_id):
                return signature
        return None


def split_note(note: str | bytes) -> tuple[str, list[NoteSignature]]:
    """The text of a signed note and its signature lines, parsed but not verified.

    Raises :class:`NoteError` ``malformed`` unless the note is UTF-8 without control characters
    (but newlines), its text and signatures are separated by an empty line, and every line after
    it is a signature line ``— <key name> <base64(key ID ‖ signature)>`` (at most
    :data:`MAX_SIGNATURES`).
    """
    if isinstance(note, bytes | bytearray):
        try:
            note = bytes(note).decode("utf-8")
        except UnicodeDecodeError as error:
            raise NoteError(
                "malformed", f"the note is not UTF-8 (byte {error.start} is invalid)"
            ) from None
    if not isinstance(note, str):
        raise NoteError("malformed", "a note is a str or UTF-8 bytes")
    _check_characters(note, "the note")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError(
            "malformed", "the note has no empty line between its text and its signatures"
        )
    text, block = note[: split + 1], note[split + 2 :]
    if not block:
        raise NoteError("malformed", "the note has no signature line after its empty line")
    if not block.endswith("\n"):
        raise NoteError("malformed", "the note's last signature line does not end with a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(
            "malformed", f"the note has {len(lines)} signature lines; at most {MAX_SIGNATURES}"
        )
    signatures = []
    for number, line in enumerate(lines, start=1):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(
                "malformed",
                f"signature line {number} does not start with an em dash and a space: "
                f"{line[:60]!r}",
            )
        name, space, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if not space or not is_valid_key_name(name):
            raise NoteError(
                "malformed", f"signature line {number} does not start with a valid key name"
            )
        raw = _b64decode(encoded)
        if raw is None or len(raw) < 5:
            raise NoteError(
                "malformed",
                f"signature line {number} ({name}): the signature is not canonical base64 of a "
                "key ID and a signature",
            )
        signatures.append(
            NoteSignature(
                name=name,
                key_id=int.from_bytes(raw[:4], "big"),
                signature=raw[4:],
                line=line + "\n",
            )
        )
    return text, signatures


def open_note(note: str | bytes, verifiers: Iterable[Verifier]) -> OpenedNote:
    """Check a signed note's signatures against the known ``verifiers``, as Go's
    ``note.Open`` does.

    Signatures by keys not among ``verifiers`` (another name, or the same name with another key
    ID) are ignored and listed as ``unverified``; a key's repeated signature counts once.
    Raises :class:`NoteError`: ``malformed`` (see :func:`split_note`), ``bad_signature`` when a
    signature by a known key does not verify (the whole note is refused), ``ambiguous_key`` when
    two different known keys share a name and key ID that a signature uses,
    ``no_known_signature`` when no known key signed it.
    """
    known: dict[tuple[str, int], list[Verifier]] = {}
    for verifier in dict.fromkeys(verifiers):  # the same key given twice is one key
        known.setdefault((verifier.name, verifier.key_id), []).append(verifier)
    text, signatures = split_note(note)
    opened = OpenedNote(text=text)
    seen_keys: set[tuple[str, int]] = set()
    seen_lines: set[str] = set()
    for signature in signatures:
        candidates = known.get((signature.name, signature.key_id))
        if not candidates:
            if signature.line not in seen_lines:
                seen_lines.add(signature.line)
                opened.unverified.append(signature)
            continue
        if len(candidates) > 1:
            raise NoteError(
                "ambiguous_key",
                f"two known keys are named {signature.key}: cannot tell which one signed",
                key=signature.key,
            )
        if (signature.name, signature.key_id) in seen_keys:
            continue
        seen_keys.add((signature.name, signature.key_id))
        verifier = candidates[0]
        if not verifier.verify(text, signature.signature):
            kind = "cosignature" if verifier.is_cosigner else "signature"
            raise NoteError(
                "bad_signature",
                f"the {kind} by {signature.key} does not verify: the note's text is not what "
                "that key signed",
                key=signature.key,
            )
        timestamp = int.from_bytes(signature.signature[:8], "big") if verifier.is_cosigner else None
        opened.signatures.append(
            NoteSignature(
                name=signature.name,
                key_id=signature.key_id,
                signature=signature.signature,
                line=signature.line,
                timestamp=timestamp,
            )
        )
    if not opened.signatures:
        found = ", ".join(s.key for s in signatures)
        expected = ", ".join(sorted(f"{name}+{kid:08x}" for name, kid in known)) or "none"
        raise NoteError(
            "no_known_signature",
            f"the note has no signature by a known key: it is signed by {found}; "
            f"known keys: {expected}",
        )
    return opened


def sign_note(text: str, signers: Iterable[Signer]) -> str:
    """The signed note: ``text``, an empty line, and one signature line per signer."""
    return text + "\n" + "".join(signer.sign(text) for signer in signers)


# ---- checkpoints --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint's text: the log's ``origin``, the tree ``size``, its ``root`` hash (32
    bytes) and the optional ``extensions`` lines that follow (none for Weishi's log)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The checkpoint's note text (ends with a newline)."""
        lines = [self.origin, str(self.size), _b64(self.root), *self.extensions]
        return "\n".join(lines) + "\n"


def checkpoint_text(origin: str, size: int, root: bytes) -> str:
    """The text of the checkpoint of the tree of ``size`` leaves with root hash ``root``
    (``"<origin>\\n<size>\\n<base64 root>\\n"``). Raises ``NoteError`` ``malformed_checkpoint``
    for an empty origin or one with a newline or control character, a size that is not an int
    in 0 … 2^64-1, or a root that is not 32 bytes."""
    if not isinstance(origin, str) or not origin:
        raise NoteError("malformed_checkpoint", "a checkpoint's origin is a non-empty str")
    if "\n" in origin:
        raise NoteError("malformed_checkpoint", "a checkpoint's origin is one line")
    try:
        _check_characters(origin, "the origin")
    except NoteError as error:
        raise NoteError("malformed_checkpoint", str(error)) from None
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_TREE_SIZE:
        raise NoteError(
            "malformed_checkpoint", f"a tree size is an int in 0 … 2^64-1, not {size!r}"
        )
    if not isinstance(root, bytes | bytearray) or len(root) != 32:
        raise NoteError("malformed_checkpoint", "a root hash is 32 bytes (SHA-256)")
    return Checkpoint(origin, size, bytes(root)).text


def parse_checkpoint(text: str) -> Checkpoint:
    """The checkpoint a note text states (c2sp.org/tlog-checkpoint), strictly.

    The text must end with a newline and hold at least three lines: a non-empty origin, the
    tree size in decimal without leading zeros (``0`` for the empty tree), the root hash in
    canonical base64 of exactly 32 bytes; any further (extension) lines must be non-empty.
    Raises :class:`NoteError` ``malformed_checkpoint`` naming the first thing wrong.
    """
    if not isinstance(text, str):
        raise NoteError("malformed_checkpoint", "a checkpoint's text is a str")
    try:
        check_text(text)
    except NoteError as error:
        raise NoteError("malformed_checkpoint", f"checkpoint: {error}") from None
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise NoteError(
            "malformed_checkpoint",
            f"a checkpoint has three lines (origin, size, root hash); this text has {len(lines)}",
        )
    origin, size_line, root_line, *extensions = lines
    if not origin:
        raise NoteError("malformed_checkpoint", "the checkpoint's origin (first line) is empty")
    if not _DECIMAL.fullmatch(size_line):
        raise NoteError(
            "malformed_checkpoint",
            f"the checkpoint's tree size (second line) {size_line[:40]!r} is not a decimal number "
            "without leading zeros",
        )
    size = int(size_line)
    if size > MAX_TREE_SIZE:
        raise NoteError(
            "malformed_checkpoint", f"the checkpoint's tree size {size_line} is over 2^64-1"
        )
    root = _b64decode(root_line)
    if root is None or len(root) != 32:
        raise NoteError(
            "malformed_checkpoint",
            f"the checkpoint's root hash (third line) {root_line[:60]!r} is not canonical base64 "
            "of 32 bytes",
        )
    for number, line in enumerate(extensions, start=4):
        if not line:
            raise NoteError(
                "malformed_checkpoint", f"the checkpoint's line {number} (an extension) is empty"
            )
    return Checkpoint(origin=origin, size=size, root=root, extensions=tuple(extensions))
