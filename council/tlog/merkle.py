"""RFC 9162 §2.1 Merkle tree hashing and proofs (the hashing of Certificate Transparency).

Leaves are hashed as SHA-256(0x00 ‖ entry) and interior nodes as SHA-256(0x01 ‖ left ‖ right).
Proofs are computed from *stored hashes*: the hash of each complete subtree, addressed by
``(level, index)`` — the subtree of 2**level leaves starting at leaf ``index << level``.
Where those hashes come from (tiles in the database, tiles over HTTP, a list in memory) is
the caller's ``hash_at(level, index)``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

HashAt = Callable[[int, int], bytes]

_sha256 = hashlib.sha256


class ProofError(ValueError):
    """A proof does not prove what it claims (wrong length, wrong hashes, sizes out of range)."""


def leaf_hash(entry: bytes) -> bytes:
    return _sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n ≥ 2): where RFC 9162 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_root(hashes: Sequence[bytes]) -> bytes:
    """The root of a complete subtree over ``hashes`` (their count a power of two)."""
    level = list(hashes)
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def subtree_hash(hash_at: HashAt, start: int, end: int) -> bytes:
    """RFC 9162's MTH(D[start:end]) for a range that occurs in proofs of trees rooted at 0: the
    complete subtrees it is made of, joined right to left."""
    n = end - start
    if n <= 0:
        raise ValueError("an empty range has no hash")
    if n & (n - 1) == 0 and start % n == 0:
        return hash_at(n.bit_length() - 1, start // n)
    k = _split(n)
    return node_hash(subtree_hash(hash_at, start, start + k), subtree_hash(hash_at, start + k, end))


EMPTY_ROOT = _sha256(b"").digest()


def tree_root(hash_at: HashAt, size: int) -> bytes:
    """The root hash of the tree of the first ``size`` leaves (SHA-256 of nothing when empty)."""
    return subtree_hash(hash_at, 0, size) if size else EMPTY_ROOT


def inclusion_proof(hash_at: HashAt, index: int, size: int) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(index, D[0:size]): the audit path of leaf ``index``."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size}")
    path: list[bytes] = []
    start, end, m = 0, size, index
    while end - start > 1:
        k = _split(end - start)
        if m < k:
            path.append(subtree_hash(hash_at, start + k, end))
            end = start + k
        else:
            path.append(subtree_hash(hash_at, start, start + k))
            start, m = start + k, m - k
    path.reverse()
    return path


def consistency_proof(hash_at: HashAt, old_size: int, new_size: int) -> list[bytes]:
    """RFC 9162 §2.1.4.1 PROOF(old_size, D[0:new_size]): empty when the sizes are equal or the
    old tree is empty."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"a tree of {new_size} cannot extend one of {old_size}")
    if old_size in (0, new_size):
        return []
    proof: list[bytes] = []
    start, end, m, whole = 0, new_size, old_size, True
    while True:
        n = end - start
        if m == n:
            if not whole:
                proof.append(subtree_hash(hash_at, start, end))
            break
        k = _split(n)
        if m <= k:
            proof.append(subtree_hash(hash_at, start + k, end))
            end = start + k
        else:
            proof.append(subtree_hash(hash_at, start, start + k))
            start, m, whole = start + k, m - k, False
    proof.reverse()
    return proof


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2: the root that ``proof`` leads to from ``leaf`` at ``index``."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is too short")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes):
    """Raise ``ProofError`` unless ``proof`` shows leaf hash ``leaf`` at ``index`` in the tree
    of ``size`` leaves with root ``root``."""
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise ProofError(f"leaf {index} is not in the tree of {size} with this root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: return if ``proof`` shows that the tree of ``old_size`` leaves with
    root ``old_root`` is a prefix of the tree of ``new_size`` leaves with root ``new_root``
    (from the empty tree and between equal sizes the proof is empty); raise ``ProofError``
    saying what does not hold otherwise."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"no consistency proof goes from size {old_size} to size {new_size}")
    if old_size == new_size:
        if proof:
            raise ProofError(
                "a proof between two trees of the same size is empty; this one has "
                f"{len(proof)} hashes"
            )
        if old_root != new_root:
            raise ProofError(f"the two trees of size {old_size} have different roots")
        return
    if old_size == 0:
        if proof:
            raise ProofError(
                f"a proof from the empty tree is empty; this one has {len(proof)} hashes"
            )
        return
    if not proof:
        raise ProofError(f"the proof from size {old_size} to size {new_size} is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # the old tree is a complete subtree of the new one
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError(
                f"the proof from size {old_size} to size {new_size} has more hashes than such a "
                f"proof has ({len(proof)})"
            )
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError(
            f"the proof from size {old_size} to size {new_size} is cut short: it has "
            f"{len(proof)} hashes, too few for these sizes"
        )
    if fr != old_root:
        raise ProofError(
            f"the proof does not start from the root of size {old_size}: the log's history up "
            f"to size {old_size} is not the one it showed before"
        )
    if sr != new_root:
        # When the old tree is a complete subtree its root starts the path and cannot differ:
        # a changed history then shows here.
        raise ProofError(
            f"the proof does not lead from the root of size {old_size} to the root of size "
            f"{new_size}: the log's history up to size {old_size} changed, or the proof is wrong"
        )


def memory_hash_at(leaves: Sequence[bytes]) -> HashAt:
    """``hash_at`` over leaf hashes held in memory (tests and small trees)."""

    def hash_at(level: int, index: int) -> bytes:
        width = 1 << level
        return perfect_root(leaves[index * width : (index + 1) * width])

    return hash_at
