"""The log's Merkle tree (RFC 9162 §2.1) and its tiles (C2SP tlog-tiles): roots and proofs
agree with the RFC's definitions and Certificate Transparency's test vectors, at every size
and across tile boundaries, and any altered proof is refused."""

import hashlib

import pytest

from council.tlog.merkle import (
    EMPTY_ROOT,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    memory_hash_at,
    node_hash,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from council.tlog.tiles import (
    TileError,
    TileReader,
    bundle_decode,
    bundle_encode,
    parse_tile_path,
    tile_path,
    tiles_append,
    tiles_of,
)

# Certificate Transparency's reference tree (merkle_tree_test.cc): eight leaves and the root of
# each prefix of them.
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def mth(leaves):
    """RFC 9162's definition of the Merkle Tree Hash, word for word (the oracle)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def _leaves(n):
    return [leaf_hash(f"entry {i}".encode()) for i in range(n)]


def test_roots_match_certificate_transparencys_test_vectors():
    leaves = [leaf_hash(entry) for entry in CT_LEAVES]
    hash_at = memory_hash_at(leaves)
    for size, expected in enumerate(CT_ROOTS, start=1):
        assert tree_root(hash_at, size).hex() == expected
    assert tree_root(hash_at, 0) == EMPTY_ROOT == hashlib.sha256(b"").digest()


@pytest.mark.parametrize("size", [*range(1, 40), 64, 100, 255, 256, 257, 511, 513])
def test_every_inclusion_proof_verifies_and_agrees_with_the_rfc_definition(size):
    leaves = _leaves(size)
    hash_at = memory_hash_at(leaves)
    root = tree_root(hash_at, size)
    assert root == mth(leaves)
    for index in {0, size // 3, size // 2, max(0, size - 2), size - 1}:
        proof = inclusion_proof(hash_at, index, size)
        verify_inclusion(index, size, leaves[index], proof, root)
        assert len(proof) <= size.bit_length()


@pytest.mark.parametrize("new_size", [*range(1, 34), 255, 256, 257, 300])
def test_every_consistency_proof_verifies(new_size):
    leaves = _leaves(new_size)
    hash_at = memory_hash_at(leaves)
    new_root = mth(leaves)
    for old_size in range(0, new_size + 1) if new_size < 40 else (1, 2, 7, 128, 255, new_size):
        proof = consistency_proof(hash_at, old_size, new_size)
        verify_consistency(old_size, new_size, mth(leaves[:old_size]), new_root, proof)


def test_an_altered_inclusion_proof_is_refused():
    leaves = _leaves(13)
    hash_at = memory_hash_at(leaves)
    root = tree_root(hash_at, 13)
    proof = inclusion_proof(hash_at, 5, 13)
    with pytest.raises(ProofError, match="too short"):
        verify_inclusion(5, 13, leaves[5], proof[:-1], root)
    with pytest.raises(ProofError, match="too long"):
        verify_inclusion(5, 13, leaves[5], [*proof, proof[0]], root)
    with pytest.raises(ProofError, match="not in the tree"):
        verify_inclusion(5, 13, leaves[6], proof, root)
    with pytest.raises(ProofError, match="not in the tree"):
        verify_inclusion(5, 13, leaves[5], [proof[0], leaves[0], *proof[2:]], root)
    with pytest.raises(ProofError, match="not in a tree"):
        verify_inclusion(13, 13, leaves[5], proof, root)


def test_a_rewritten_history_has_no_consistency_proof():
    honest = _leaves(20)
    rewritten = [*honest[:7], leaf_hash(b"forged"), *honest[8:]]
    old_root = mth(honest[:10])
    proof = consistency_proof(memory_hash_at(rewritten), 10, 20)
    with pytest.raises(ProofError, match="does not start from the root of size 10"):
        verify_consistency(10, 20, old_root, mth(rewritten), proof)
    with pytest.raises(ProofError, match="different roots"):
        verify_consistency(10, 10, old_root, mth(rewritten[:10]), [])
    with pytest.raises(ProofError, match="no consistency proof goes"):
        verify_consistency(20, 10, mth(honest), old_root, [])
    with pytest.raises(ProofError):
        verify_consistency(10, 20, old_root, mth(honest), proof[:-1])


def test_tile_paths_follow_the_c2sp_encoding():
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(0, 5, 17) == "tile/0/005.p/17"
    assert tile_path("entries", 1000) == "tile/entries/x001/000"
    for level, index, width in [(0, 0, 256), (2, 999, 1), ("entries", 1234567, 255)]:
        assert parse_tile_path(tile_path(level, index, width)) == (level, index, width)
    for bad in ["tile/0/5", "tile/0/x000/005", "tile/0/005.p/256", "tile/0/005.p/0", "tile/a/000"]:
        with pytest.raises(TileError):
            parse_tile_path(bad)


def _grow(sizes):
    """Append leaves in batches of ``sizes`` through ``tiles_append``; the stored tiles."""
    store, leaves = {}, []
    for batch in sizes:
        new = [leaf_hash(f"leaf {len(leaves) + i}".encode()) for i in range(batch)]
        store.update(tiles_append(lambda lv, ix: store.get((lv, ix), b""), len(leaves), new))
        leaves += new
    return store, leaves


def test_tiles_built_batch_by_batch_give_the_same_roots_and_proofs_as_the_definition():
    store, leaves = _grow([1, 254, 2, 300, 65536 - 557, 3, 70])
    size = len(leaves)
    assert size == 65609
    reader = TileReader(lambda lv, ix, w: store[lv, ix][: w * 32], size)
    assert sorted((lv, ix) for lv, ix, _w in tiles_of(size)) == sorted(store)
    assert store[2, 0] == mth(leaves[:65536])
    assert tree_root(reader.hash_at, size) == mth(leaves)
    root = mth(leaves)
    for index in (0, 255, 256, 65535, 65536, size - 1):
        verify_inclusion(
            index, size, leaves[index], inclusion_proof(reader.hash_at, index, size), root
        )
    for old in (1, 256, 65536, 65600):
        old_reader = TileReader(lambda lv, ix, w: store[lv, ix][: w * 32], old)
        proof = consistency_proof(reader.hash_at, old, size)
        verify_consistency(old, size, tree_root(old_reader.hash_at, old), root, proof)


def test_a_tile_of_the_wrong_size_is_named():
    store, leaves = _grow([300])
    reader = TileReader(lambda lv, ix, w: store[lv, ix][: w * 32 - lv], len(leaves))
    with pytest.raises(TileError, match=r"tile/1/000.p/1 is 31 bytes, not 32"):
        tree_root(reader.hash_at, len(leaves))
    reader = TileReader(lambda lv, ix, w: store[lv, ix][: w * 32 - 1 + lv], len(leaves))
    with pytest.raises(TileError, match=r"tile/0/001.p/44 is 1407 bytes, not 1408"):
        inclusion_proof(reader.hash_at, 299, len(leaves))


def test_entry_bundles_round_trip_and_a_short_bundle_is_named():
    entries = [b"", "更换路灯".encode(), b"x" * 300]
    data = bundle_encode(entries)
    assert bundle_decode(data, 3) == entries
    with pytest.raises(TileError, match="holds 3 entries, not 4"):
        bundle_decode(data, 4)
    with pytest.raises(TileError, match="middle of an entry"):
        bundle_decode(data[:-1], 3)
