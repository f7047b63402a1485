"""A test log, written straight from RFC 9162 §2.1 (recomputing everything, for small trees):
Merkle tree hashes, consistency proofs (§2.1.4.1) and signed checkpoints. The witness's tests
use it as the log that talks to the witness."""

import copy
import hashlib

from council.tlog.note import Signer, checkpoint_text, generate_key, sign_note


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def tree_hash(entries: list[bytes]) -> bytes:
    """MTH(D[n])."""
    if not entries:
        return hashlib.sha256(b"").digest()
    if len(entries) == 1:
        return leaf_hash(entries[0])
    k = _split(len(entries))
    return hashlib.sha256(b"\x01" + tree_hash(entries[:k]) + tree_hash(entries[k:])).digest()


def consistency_proof(entries: list[bytes], old_size: int) -> list[bytes]:
    """PROOF(m, D[n]) for m = ``old_size`` and D[n] = ``entries`` (0 < m ≤ n)."""

    def subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
        n = len(leaves)
        if m == n:
            return [] if complete else [tree_hash(leaves)]
        k = _split(n)
        if m <= k:
            return subproof(m, leaves[:k], complete) + [tree_hash(leaves[k:])]
        return subproof(m - k, leaves[k:], False) + [tree_hash(leaves[:k])]

    return subproof(old_size, entries, True)


class Log:
    """A log with its own Ed25519 key, named after its ``origin``, and its entries."""

    def __init__(self, origin: str = "weishi.example.org/log", entries: int = 0):
        skey, self.vkey = generate_key(origin)
        self.signer = Signer(skey)
        self.origin = origin
        self.entries = [f"entry {i}".encode() for i in range(entries)]

    def grow(self, count: int) -> "Log":
        start = len(self.entries)
        self.entries += [f"entry {i}".encode() for i in range(start, start + count)]
        return self

    def rewritten(self, index: int) -> "Log":
        """This log, with the same key, after entry ``index`` was replaced: a rewritten
        history, which the operator holding the key can sign."""
        other = copy.copy(self)
        other.entries = list(self.entries)
        other.entries[index] = b"rewritten"
        return other

    def root(self, size: int | None = None) -> bytes:
        return tree_hash(self.entries[: len(self.entries) if size is None else size])

    def checkpoint(self, size: int | None = None, *, root: bytes | None = None) -> str:
        """The signed checkpoint of the tree of ``size`` entries (all by default), or one that
        gives it ``root`` (what a log rewriting its history would sign)."""
        size = len(self.entries) if size is None else size
        text = checkpoint_text(self.origin, size, self.root(size) if root is None else root)
        return sign_note(text, [self.signer])

    def proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """The consistency proof from ``old_size`` to ``new_size`` (empty from 0 or between
        equal sizes)."""
        new_size = len(self.entries) if new_size is None else new_size
        if old_size in (0, new_size):
            return []
        return consistency_proof(self.entries[:new_size], old_size)
