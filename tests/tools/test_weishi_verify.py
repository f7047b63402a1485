"""tools/weishi_verify.py, the checker anyone downloads to check Weishi's transparency log:
its Merkle proofs against RFC 9162's published test vectors, its signed notes against Go's,
and every mode end to end against a small static log written by the tests' own writer
(tests/tools/static_log.py) and served over HTTP: a good log passes, each kind of tampering
fails with a message naming it and exit status 1, what cannot be checked exits with 2."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tools.static_log import (
    Signer,
    StaticLog,
    bundle,
    canonical,
    make_entry,
    number_path,
    serving,
    tiles_of,
    tree_root,
)

TOOL = Path(__file__).resolve().parents[2] / "tools" / "weishi_verify.py"


def _load_tool():
    """The checker as a module, loaded from its file as an outsider would have it."""
    spec = importlib.util.spec_from_file_location("weishi_verify", TOOL)
    module = importlib.util.module_from_spec(spec)
    sys.modules["weishi_verify"] = module
    spec.loader.exec_module(module)
    return module


wv = _load_tool()


def h(hex_text: str) -> bytes:
    return bytes.fromhex(hex_text)


# --------------------------------------------------------------------------------------------
# RFC 6962/9162 test vectors: the 8-leaf tree of certificate-transparency's merkle tree tests
# (as kept in transparency-dev/merkle, proof/verify_test.go).
# --------------------------------------------------------------------------------------------

LEAVES = [
    h(""),
    h("00"),
    h("10"),
    h("2021"),
    h("3031"),
    h("40414243"),
    h("5051525354555657"),
    h("606162636465666768696a6b6c6d6e6f"),
]
ROOTS = [  # ROOTS[n] is the root of the first n leaves
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [  # (leaf index, tree size, proof)
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")


def test_roots_of_the_rfc_test_tree_are_the_published_ones():
    hashes = [wv.leaf_hash(leaf) for leaf in LEAVES]
    for size in range(len(LEAVES) + 1):
        assert wv.root_from_leaves(hashes[:size]).hex() == ROOTS[size]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_the_published_inclusion_proofs_hold(index, size, proof):
    wv.verify_inclusion(
        index, size, wv.leaf_hash(LEAVES[index]), list(map(h, proof)), h(ROOTS[size])
    )


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_the_published_consistency_proofs_hold(old, new, proof):
    wv.verify_consistency(old, new, h(ROOTS[old]), h(ROOTS[new]), list(map(h, proof)))


def _corrupted_inclusions(index, size, leaf, proof, root):
    """What transparency-dev/merkle's verifier test feeds a verifier, each to be refused."""
    yield "index - 1", (index - 1, size, leaf, proof, root)
    yield "index + 1", (index + 1, size, leaf, proof, root)
    yield "index ^ 2", (index ^ 2, size, leaf, proof, root)
    yield "size * 2", (index, size * 2, leaf, proof, root)
    yield "size / 2", (index, size // 2, leaf, proof, root)
    yield "wrong leaf", (index, size, wv.leaf_hash(b"WrongLeaf"), proof, root)
    yield "empty root", (index, size, leaf, proof, h(ROOTS[0]))
    yield "random root", (index, size, leaf, proof, SOME_HASH)
    yield "trailing garbage", (index, size, leaf, [*proof, b""], root)
    yield "trailing root", (index, size, leaf, [*proof, root], root)
    yield "preceding garbage", (index, size, leaf, [b"", *proof], root)
    yield "preceding root", (index, size, leaf, [root, *proof], root)
    for i in range(len(proof)):
        flipped = [*proof]
        flipped[i] = bytes([proof[i][0] ^ 8]) + proof[i][1:]
        yield f"bit 3 of proof[{i}]", (index, size, leaf, flipped, root)
    yield "truncated", (index, size, leaf, proof[:-1], root)
    if len(proof) > 1:
        yield "inserted", (index, size, leaf, [proof[0], SOME_HASH, *proof[1:]], root)


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_a_truncated_padded_or_altered_inclusion_proof_fails(index, size, proof):
    proof, root, leaf = list(map(h, proof)), h(ROOTS[size]), wv.leaf_hash(LEAVES[index])
    for what, arguments in _corrupted_inclusions(index, size, leaf, proof, root):
        with pytest.raises(wv.VerificationFailed):
            wv.verify_inclusion(*arguments)
            pytest.fail(f"{what}: verified")


def test_a_truncated_inclusion_proof_is_named_as_such():
    index, size, proof = INCLUSION[0]
    with pytest.raises(wv.VerificationFailed, match="has 2 hashes where it needs 3"):
        wv.verify_inclusion(
            index, size, wv.leaf_hash(LEAVES[0]), list(map(h, proof))[:-1], h(ROOTS[8])
        )


@pytest.mark.parametrize(("old", "new", "proof"), [c for c in CONSISTENCY if c[2]])
def test_a_truncated_padded_or_altered_consistency_proof_fails(old, new, proof):
    proof, r1, r2 = list(map(h, proof)), h(ROOTS[old]), h(ROOTS[new])
    corrupted = {
        "old - 1": (old - 1, new, r1, r2, proof),
        "old + 1": (old + 1, new, r1, r2, proof),
        "old ^ 2": (old ^ 2, new, r1, r2, proof),
        "new * 2": (old, new * 2, r1, r2, proof),
        "new / 2": (old, new // 2, r1, r2, proof),
        "wrong old root": (old, new, SOME_HASH, r2, proof),
        "wrong new root": (old, new, r1, SOME_HASH, proof),
        "swapped roots": (old, new, r2, r1, proof),
        "empty proof": (old, new, r1, r2, []),
        "trailing garbage": (old, new, r1, r2, [*proof, b""]),
        "trailing old root": (old, new, r1, r2, [*proof, r1]),
        "trailing new root": (old, new, r1, r2, [*proof, r2]),
        "preceding garbage": (old, new, r1, r2, [b"", *proof]),
        "preceding old root": (old, new, r1, r2, [r1, *proof]),
        "preceding new root": (old, new, r1, r2, [r2, *proof]),
        "preceding proof[0]": (old, new, r1, r2, [proof[0], *proof]),
        "truncated": (old, new, r1, r2, proof[:-1]),
    }
    for i in range(len(proof)):
        flipped = [*proof]
        flipped[i] = bytes([proof[i][0] ^ 16]) + proof[i][1:]
        corrupted[f"bit 4 of proof[{i}]"] = (old, new, r1, r2, flipped)
    for what, arguments in corrupted.items():
        with pytest.raises(wv.VerificationFailed):
            wv.verify_consistency(*arguments)
            pytest.fail(f"{what}: verified")


def test_the_edge_cases_of_consistency_are_decided_as_rfc_9162_does():
    empty, r1, r2 = h(ROOTS[0]), h(ROOTS[1]), h(ROOTS[2])
    wv.verify_consistency(0, 0, empty, empty, [])  # the empty tree is a prefix of every tree
    wv.verify_consistency(0, 1, empty, r1, [])
    wv.verify_consistency(1, 1, r1, r1, [])
    refused = [
        (0, 0, empty, r1, []),  # same size, different roots
        (1, 1, r1, r2, []),
        (1, 0, r1, empty, []),  # time travel to the past
        (2, 1, r2, r1, []),
        (1, 2, r1, r2, []),  # a proof is needed
        (1, 1, r1, r1, [empty]),  # none is needed
        (0, 1, empty, r1, [empty]),
    ]
    for arguments in refused:
        with pytest.raises(wv.VerificationFailed):
            wv.verify_consistency(*arguments)


# --------------------------------------------------------------------------------------------
# Proofs computed from tiles
# --------------------------------------------------------------------------------------------


class Tiles:
    """A tree's tiles in memory, as ``read_tile`` wants them, counting what is read."""

    def __init__(self, count: int) -> None:
        self.leaves = [wv.leaf_hash(b"entry %d" % i) for i in range(count)]
        self.levels = tiles_of(self.leaves)
        self.read: set[tuple[int, int, int]] = set()

    def root(self, size: int) -> bytes:
        return tree_root(tiles_of(self.leaves[:size]))

    def __call__(self, level: int, n: int, width: int) -> bytes:
        self.read.add((level, n, width))
        return b"".join(self.levels[level][n * 256 : n * 256 + width])


def test_inclusion_proofs_from_tiles_hold_for_every_leaf_of_small_trees():
    tiles = Tiles(40)
    for size in range(1, 41):
        root = tiles.root(size)
        for index in range(size):
            proof = wv.inclusion_proof_from_tiles(index, size, tiles)
            wv.verify_inclusion(index, size, tiles.leaves[index], proof, root)


def test_consistency_proofs_from_tiles_hold_for_every_pair_of_small_trees():
    tiles = Tiles(40)
    roots = [tiles.root(size) for size in range(41)]
    for new in range(41):
        for old in range(new + 1):
            proof = wv.consistency_proof_from_tiles(old, new, tiles)
            wv.verify_consistency(old, new, roots[old], roots[new], proof)


def test_proofs_from_tiles_cross_tile_and_level_boundaries_reading_a_few_tiles_only():
    tiles = Tiles(256 * 256 + 600)  # three tile levels, partial tiles on each
    sizes = [1, 255, 256, 257, 511, 512, 4097, 65535, 65536, 65537, 65536 + 300, 65536 + 600]
    roots = {size: tiles.root(size) for size in sizes}
    for new in sizes:
        for index in {0, 1, 255, 256, new // 2, new - 2, new - 1} - {-1}:
            if 0 <= index < new:
                tiles.read.clear()
                proof = wv.inclusion_proof_from_tiles(index, new, tiles)
                wv.verify_inclusion(index, new, tiles.leaves[index], proof, roots[new])
                assert len(tiles.read) <= 6, tiles.read  # at most two tiles a level
        for old in sizes:
            if old <= new:
                tiles.read.clear()
                proof = wv.consistency_proof_from_tiles(old, new, tiles)
                wv.verify_consistency(old, new, roots[old], roots[new], proof)
                assert len(tiles.read) <= 6, tiles.read


def test_a_tile_of_the_wrong_size_is_named():
    tiles = Tiles(600)

    def short(level, n, width):
        return tiles(level, n, width)[:-32]

    with pytest.raises(
        wv.VerificationFailed, match=r"tile/0/001 has 8160 bytes; it must have 8192"
    ):
        wv.inclusion_proof_from_tiles(300, 600, short)


def test_tile_paths_follow_tlog_tiles():
    assert wv.tile_path(0, 0) == "tile/0/000"
    assert wv.tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert wv.tile_path(1, 1000, 5) == "tile/1/x001/000.p/5"
    assert wv.tile_path("entries", 42, 255) == "tile/entries/042.p/255"
    assert number_path(1234067) == "x001/x234/067"  # the tests' writer agrees
    with pytest.raises(ValueError):
        wv.tile_path(0, 0, 0)


def test_an_entry_bundle_is_split_into_exactly_its_entries():
    entries = [b"{}", b'{"a":1}', b""]
    assert wv.parse_entry_bundle(bundle(entries), 3) == entries
    with pytest.raises(wv.VerificationFailed, match="holds 3 entries; it must hold 4"):
        wv.parse_entry_bundle(bundle(entries), 4, "tile/entries/000.p/4")
    with pytest.raises(wv.VerificationFailed, match="its entry 2 is incomplete"):
        wv.parse_entry_bundle(bundle(entries)[:5], 3)


# --------------------------------------------------------------------------------------------
# Signed notes: the vectors of golang.org/x/mod/sumdb/note (note_test.go)
# --------------------------------------------------------------------------------------------

PETER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_KEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
NOTE_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqd"
    "ngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWL"
    "ox33WWd1RvMc+QQ=\n"
)


def test_go_note_verifier_keys_parse_and_every_mangling_is_refused():
    peter = wv.parse_verifier_key(PETER_KEY)
    assert (peter.name, peter.key_id.hex(), peter.kind) == ("PeterNeumann", "c74f20a3", 1)
    assert str(peter) == PETER_KEY
    for i in range(len(PETER_KEY) + 1):
        for j in range(i + 1, len(PETER_KEY) + 1):
            if (i, j) != (0, len(PETER_KEY)):
                with pytest.raises(wv.CannotCheck):
                    wv.parse_verifier_key(PETER_KEY[i:j])
    for i in range(len(PETER_KEY)):
        mangled = PETER_KEY[:i] + chr(ord(PETER_KEY[i]) + 1) + PETER_KEY[i + 1 :]
        with pytest.raises(wv.CannotCheck):
            wv.parse_verifier_key(mangled)
    for bad in (  # a key of the wrong length, an unknown algorithm: both with matching ids
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ):
        with pytest.raises(wv.CannotCheck):
            wv.parse_verifier_key(bad)


def test_go_notes_open_with_the_signatures_of_the_keys_given():
    peter, enoch = wv.parse_verifier_key(PETER_KEY), wv.parse_verifier_key(ENOCH_KEY)
    note = NOTE_TEXT + "\n" + PETER_SIG + ENOCH_SIG
    opened = wv.open_signed_note(note, [peter])
    assert opened.text == NOTE_TEXT
    assert [s.key for s in opened.signatures] == [peter]
    assert opened.unknown == [("EnochRoot", h("af0cfe78"))]
    both = wv.open_signed_note(note.encode(), [peter, enoch])
    assert [s.key for s in both.signatures] == [peter, enoch]
    repeated = wv.open_signed_note(NOTE_TEXT + "\n" + PETER_SIG * 3, [peter])
    assert len(repeated.signatures) == 1


def test_go_notes_malformed_or_badly_signed_are_refused():
    peter = wv.parse_verifier_key(PETER_KEY)
    malformed = [
        NOTE_TEXT,
        NOTE_TEXT + "\n",
        NOTE_TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + NOTE_TEXT + "\n" + PETER_SIG,
        NOTE_TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Bad Name"),
        NOTE_TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        NOTE_TEXT + "\n" + PETER_SIG * 101,
    ]
    for note in malformed:
        with pytest.raises(wv.VerificationFailed, match="malformed"):
            wv.open_signed_note(note, [peter])
    with pytest.raises(wv.VerificationFailed, match="malformed"):
        wv.open_signed_note(b"\xff" + (NOTE_TEXT + "\n" + PETER_SIG).encode(), [peter])
    forged = NOTE_TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(wv.VerificationFailed, match="signature of 'PeterNeumann'.*invalid"):
        wv.open_signed_note(forged, [peter])
    with pytest.raises(wv.VerificationFailed, match="invalid"):
        wv.open_signed_note(NOTE_TEXT.replace("think", "thonk") + "\n" + PETER_SIG, [peter])


def test_a_witness_cosignature_holds_for_its_time_only():
    witness = Signer("witness.example.org", 0x04)
    key = wv.parse_verifier_key(witness.vkey)
    assert key.kind == 0x04
    text = "example.org/log\n3\n" + base64.b64encode(SOME_HASH).decode() + "\n"
    line = witness.signature_line(text, timestamp=1_700_000_000)
    opened = wv.open_signed_note(text + "\n" + line, [key])
    assert opened.signatures[0].timestamp == 1_700_000_000
    blob = bytearray(base64.b64decode(line.split()[-1]))
    blob[11] ^= 1  # another time than the one signed
    altered = f"— witness.example.org {base64.b64encode(bytes(blob)).decode()}\n"
    with pytest.raises(wv.VerificationFailed, match="invalid"):
        wv.open_signed_note(text + "\n" + altered, [key])


def test_checkpoints_parse_and_malformed_ones_are_named():
    root = base64.b64encode(SOME_HASH).decode()
    checkpoint = wv.parse_checkpoint(f"example.org/log\n42\n{root}\n")
    assert (checkpoint.origin, checkpoint.size, checkpoint.root) == (
        "example.org/log",
        42,
        SOME_HASH,
    )
    malformed = {
        f"example.org/log\n42\n{root}": "three lines",
        "example.org/log\n42\n": "three lines",
        f"\n42\n{root}\n": "origin",
        f"example.org/log\n042\n{root}\n": "second line",
        f"example.org/log\n-1\n{root}\n": "second line",
        f"example.org/log\nforty\n{root}\n": "second line",
        "example.org/log\n42\nnot base64!\n": "third line",
        f"example.org/log\n42\n{base64.b64encode(SOME_HASH[:31]).decode()}\n": "third line",
    }
    for text, named in malformed.items():
        with pytest.raises(wv.VerificationFailed, match=named):
            wv.parse_checkpoint(text)


# --------------------------------------------------------------------------------------------
# End to end: the checker against a served static log
# --------------------------------------------------------------------------------------------

PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
PDF_INDEX = 300
SIZE = 600  # bundles of 256, 256 and 88: a partial bundle and partial tiles at two levels
SAVED_SIZE = 400


def log_entries(count: int = SIZE) -> list[bytes]:
    entries = [canonical(make_entry(i)) for i in range(count)]
    entries[PDF_INDEX] = canonical(
        make_entry(
            PDF_INDEX,
            action="disclosure.published",
            object="disclosure.disclosure:9",
            role="staff",
            actor="official:3",
            payload={
                "content_sha256": hashlib.sha256(b"content").hexdigest(),
                "pdf_sha256": hashlib.sha256(PDF).hexdigest(),
            },
        )
    )
    return entries


class Site:
    """A served log of ``SIZE`` entries whose checkpoint at ``SAVED_SIZE`` was saved, and a
    PDF it records; ``run`` runs the checker on it in this process."""

    def __init__(self, root: Path, url: str, capsys) -> None:
        self.root, self.url, self.capsys = root, url, capsys
        self.log = StaticLog(root, url.removeprefix("http://") + "/log")
        self.entries = log_entries()
        self.saved = root / "saved-checkpoint.txt"
        self.saved.write_text(self.log.publish(self.entries[:SAVED_SIZE]))
        self.log.publish(self.entries)
        self.pdf = root / "决定公示.pdf"
        self.pdf.write_bytes(PDF)

    @property
    def keys(self) -> list[str]:
        keys = ["--log-key", self.log.log.vkey]
        for witness in self.log.witnesses:
            keys += ["--witness-key", witness.vkey]
        return keys

    def run(self, *args: str, keys: bool = True, lang: str = "en") -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = wv.main([self.url, *(self.keys if keys else []), *args, "--lang", lang])
        out, err = self.capsys.readouterr()
        return code, out, err

    def bundle_file(self, n: int) -> Path:
        width = min(256, SIZE - 256 * n)
        return self.root / "log" / wv.tile_path("entries", n, width)

    def rewrite_bundle(self, n: int, change) -> None:
        """Replace bundle ``n``'s entries by ``change(entries)`` in place (tiles untouched)."""
        path = self.bundle_file(n)
        entries = wv.parse_entry_bundle(path.read_bytes(), min(256, SIZE - 256 * n))
        path.write_bytes(bundle(change(entries)))


@pytest.fixture
def site(tmp_path, capsys):
    with serving(tmp_path) as url:
        yield Site(tmp_path, url, capsys)


def run_tool(*args: str) -> subprocess.CompletedProcess:
    """The checker as a resident runs it: its own process."""
    return subprocess.run(
        [sys.executable, str(TOOL), *args], capture_output=True, text=True, timeout=120
    )


def test_a_good_log_passes_every_check(site):
    code, out, err = site.run("--audit")
    assert (code, err) == (0, ""), err
    assert f"holds {SIZE} entries" in out
    assert "Witness 'witness0.example.org' cosigned" in out
    assert f"checked all {SIZE} entries (3 bundles)" in out
    assert "root hash recomputed from every entry matches" in out
    assert f'Recomputed "each object\'s history": {SIZE} checked, all agree' in out
    assert out.rstrip().endswith("Every check holds.")

    code, out, err = site.run("--pdf", str(site.pdf))
    assert (code, err) == (0, ""), err
    assert f"Entry {PDF_INDEX} records this file" in out
    assert "action: disclosure.published" in out
    assert "object: disclosure.disclosure:9" in out
    assert f"content_sha256: {hashlib.sha256(b'content').hexdigest()}" in out
    assert "The inclusion proof holds" in out

    code, out, err = site.run("--since", str(site.saved))
    assert (code, err) == (0, ""), err
    assert f"extends the one you saved ({SAVED_SIZE} entries)" in out
    assert f"{SIZE - SAVED_SIZE} were added since" in out


def test_a_saved_checkpoint_proves_a_grown_log_extends_it(site):
    saved = site.root / "now.txt"
    code, out, _ = site.run("--checkpoint-out", str(saved))
    assert code == 0 and "Saved this checkpoint" in out
    assert saved.read_text() == (site.root / "log" / "checkpoint").read_text()
    code, out, _ = site.run("--since", str(saved))
    assert code == 0 and f"exactly the one you saved ({SIZE} entries)" in out
    site.log.publish(site.entries + [canonical(make_entry(i)) for i in range(SIZE, SIZE + 700)])
    code, out, err = site.run("--since", str(saved))
    assert (code, err) == (0, ""), err
    assert "700 were added since" in out


def test_the_checker_speaks_chinese_by_default(site):
    code, out, _ = site.run("--since", str(site.saved), lang="zh")
    assert code == 0
    assert f"✓ 检查点签名有效：存证记录「{site.log.origin}」共有 {SIZE} 条记录" in out
    assert "之前的 400 条记录没有被修改、删除或调换，之后新增了 200 条。" in out
    assert out.rstrip().endswith("全部检查通过。")
    (site.root / "note.txt").write_text("not a pdf")
    code, _, err = site.run("--pdf", str(site.root / "note.txt"), lang="zh")
    assert code == 2
    assert err == f"✗ 「{site.root / 'note.txt'}」不是 PDF 文件（文件开头没有 %PDF-）。\n"


def test_without_pinned_keys_the_checker_says_it_trusts_the_site(site):
    code, out, err = site.run("--audit", keys=False)
    assert (code, err) == (0, ""), err
    assert "it trusts the site" in out
    assert "2 witness(es) cosigned" in out  # the witnesses the site lists


def test_an_edited_entry_fails_its_inclusion_proof_and_the_audit(site):
    def edit(entries):
        entry = json.loads(entries[PDF_INDEX - 256])
        entry["object"] = "disclosure.disclosure:10"
        entries[PDF_INDEX - 256] = canonical(entry)
        return entries

    site.rewrite_bundle(1, edit)
    code, out, err = site.run("--pdf", str(site.pdf))
    assert code == 1
    assert err == (
        f"✗ The inclusion proof fails: entry {PDF_INDEX} does not lead to the signed root hash; "
        "the entry or the log was altered.\n"
    )
    code, out, err = site.run("--audit")
    assert code == 1
    assert f"The root hash recomputed from all {SIZE} entries" in err
    assert "entries were edited, removed, reordered or added" in err


def test_a_deleted_entry_fails_the_audit(site):
    site.rewrite_bundle(0, lambda entries: entries[:10] + entries[11:])
    code, _, err = site.run("--audit")
    assert code == 1
    assert err == ("✗ The entry bundle tile/entries/000 holds 255 entries; it must hold 256.\n")


def test_a_deleted_entry_republished_and_signed_afresh_is_caught(site):
    site.log.publish(site.entries[:10] + site.entries[11:])
    code, _, err = site.run("--since", str(site.saved))
    assert code == 1
    assert "The consistency proof fails" in err
    code, _, err = site.run("--audit")
    assert code == 1
    assert "✗ Entry 10 says its index is 11: not its place in the log." in err


def test_reordered_entries_fail_the_audit(site):
    site.rewrite_bundle(0, lambda e: e[:3] + [e[4], e[3]] + e[5:])
    code, _, err = site.run("--audit")
    assert code == 1
    assert "✗ Entry 3 says its index is 4" in err
    assert "✗ Entry 4 says its index is 3" in err
    assert "The root hash recomputed" in err


def test_reordered_entries_republished_and_signed_afresh_are_caught(site):
    e = site.entries
    site.log.publish(e[:3] + [e[4], e[3]] + e[5:])
    code, _, err = site.run("--since", str(site.saved))
    assert code == 1
    assert "The consistency proof fails" in err


def test_an_appended_forged_entry_fails_the_audit(site):
    forged = canonical(make_entry(SIZE, action="role.granted", object="council.role:1"))
    site.rewrite_bundle(2, lambda entries: [*entries, forged])
    code, _, err = site.run("--audit")
    assert code == 1
    assert err == "✗ The entry bundle tile/entries/002.p/88 holds 89 entries; it must hold 88.\n"


def test_an_appended_forged_entry_signed_by_another_key_is_refused(site):
    forger = Signer(site.log.origin)  # same name, another key
    forged = canonical(make_entry(SIZE, action="role.granted", object="council.role:1"))
    site.log.publish([*site.entries, forged], signer=forger, cosigners=[])
    code, _, err = site.run("--audit")
    assert code == 1
    assert "carries no signature by the log key" in err


def test_a_rewritten_history_with_a_freshly_signed_checkpoint_is_caught(site):
    entries = list(site.entries)
    entries[5] = canonical(make_entry(5, payload={"title": "rewritten"}))
    site.log.publish(entries, cosigners=[])  # the operator signs; no witness would
    code, _, err = site.run("--since", str(site.saved))
    assert code == 1
    assert "Only 0 witness(es) cosigned this checkpoint and you asked for 2" in err
    code, _, err = site.run("--since", str(site.saved), "--min-witnesses", "0")
    assert code == 1
    assert err == (
        f"✗ The consistency proof fails: today's log ({SIZE} entries) does not extend the one "
        f"you saved ({SAVED_SIZE} entries); earlier entries were edited, removed or reordered.\n"
    )
    # Even if the witnesses colluded, a saved checkpoint of the same size catches it.
    site.saved.write_text(site.log.publish(site.entries))
    site.log.publish(entries)
    code, _, err = site.run("--since", str(site.saved))
    assert code == 1
    assert "At the same size, 600 entries, the root hash differs" in err


def test_a_shrunk_log_is_caught(site):
    site.log.publish(site.entries[: SAVED_SIZE - 1])
    code, _, err = site.run("--since", str(site.saved))
    assert code == 1
    assert err == (
        f"✗ The log shrank: you saved it at {SAVED_SIZE} entries and it now has "
        f"{SAVED_SIZE - 1}. Entries were removed.\n"
    )


def test_a_hash_tile_of_the_wrong_size_is_named(site):
    tile = site.root / "log" / "tile" / "1" / "000.p" / "2"
    tile.write_bytes(tile.read_bytes()[:32])
    code, _, err = site.run("--pdf", str(site.pdf))
    assert code == 1
    assert err == "✗ The hash tile tile/1/000.p/2 has 32 bytes; it must have 64 (2 hashes).\n"
    tile.write_bytes(tile.read_bytes() * 3)
    code, _, err = site.run("--since", str(site.saved))
    assert code == 1
    assert "tile/1/000.p/2 has 96 bytes; it must have 64" in err


def test_a_partial_tile_replaced_by_the_full_one_is_read_from_it(site):
    more = site.entries + [canonical(make_entry(i)) for i in range(SIZE, 768)]
    site.log.publish(more, size=SIZE)  # full tiles for 768 entries, a checkpoint for 600
    for kind in ("entries", "0"):
        (site.root / "log" / "tile" / kind / "002.p" / "88").unlink()
    for mode in (["--audit"], ["--pdf", str(site.pdf)], ["--since", str(site.saved)]):
        code, _, err = site.run(*mode)
        assert (code, err) == (0, ""), err


def test_a_missing_tile_is_named(site):
    (site.root / "log" / "tile" / "entries" / "002.p" / "88").unlink()
    code, _, err = site.run("--audit")
    assert code == 2
    assert err == f"✗ The site answered HTTP 404 for {site.url}/log/tile/entries/002.p/88.\n"


def test_a_wrong_log_key_is_refused(site):
    other = Signer(site.log.origin)
    code, _, err = site.run("--audit", "--log-key", other.vkey, keys=False)
    assert code == 1
    assert f"carries no signature by the log key {site.log.origin}+{other.key_id.hex()}" in err


def test_a_wrong_or_missing_witness_is_refused(site):
    stranger = Signer("witness9.example.org", 0x04)
    keys = ["--log-key", site.log.log.vkey, "--witness-key", stranger.vkey]
    code, out, err = site.run("--audit", *keys, keys=False)
    assert code == 1
    assert "Only 0 witness(es) cosigned this checkpoint and you asked for 1" in err
    site.log.publish(site.entries, cosigners=site.log.witnesses[:1])
    code, out, err = site.run("--audit")
    assert code == 1 and "Only 1 witness(es)" in err
    code, out, err = site.run("--audit", "--min-witnesses", "1")
    assert (code, err) == (0, "")
    assert "Witness 'witness1.example.org' has not cosigned this checkpoint" in out


def test_a_forged_cosignature_is_refused(site):
    checkpoint = site.root / "log" / "checkpoint"
    lines = checkpoint.read_text().split("\n")
    name, blob = lines[-2].removeprefix("— ").split(" ")
    forged = bytearray(base64.b64decode(blob))
    forged[-1] ^= 1
    lines[-2] = f"— {name} {base64.b64encode(bytes(forged)).decode()}"
    checkpoint.write_text("\n".join(lines))
    code, _, err = site.run("--audit")
    assert code == 1
    assert f"The signature of '{name}'" in err and "is invalid" in err


@pytest.mark.parametrize(
    ("text", "signature", "named"),
    [
        ("hello", "", "its signatures must follow an empty line"),
        ("{origin}\n600\n", "signed", "three lines"),
        ("{origin}\nmany\n{root}\n", "signed", "second line should be the tree size"),
        ("{origin}\n600\n{root}\n", "dashed", "is not '— <name> <signature>'"),
    ],
)
def test_a_malformed_checkpoint_is_named(site, text, signature, named):
    root = (site.root / "log" / "checkpoint").read_text().split("\n")[2]
    text = text.format(origin=site.log.origin, root=root)
    if signature:
        line = site.log.log.signature_line(text)
        text += "\n" + (line.replace("—", "-") if signature == "dashed" else line)
    (site.root / "log" / "checkpoint").write_text(text)
    code, _, err = site.run("--audit")
    assert code == 1
    assert err.startswith("✗ The checkpoint is malformed: ") and named in err
    assert err.count("\n") == 1


def test_a_pdf_the_log_does_not_record_fails(site):
    other = site.root / "other.pdf"
    other.write_bytes(PDF + b"% edited\n")
    code, _, err = site.run("--pdf", str(other))
    assert code == 1
    sha = hashlib.sha256(other.read_bytes()).hexdigest()
    assert err == (
        f"✗ The log records no file with SHA-256 {sha}: this is not a published version, or it "
        "was altered.\n"
    )


def test_a_lookup_pointing_at_another_entry_fails(site):
    sha = hashlib.sha256(PDF).hexdigest()
    (site.root / "lookup.json").write_text(json.dumps({sha: 7}))
    code, _, err = site.run("--pdf", str(site.pdf))
    assert code == 1
    assert err == (
        f"✗ Entry 7 (proposal.submitted) records no PDF hash: it is not the entry of your file "
        f"({sha}).\n"
    )
    other = site.root / "other.pdf"
    other.write_bytes(PDF + b"% another\n")
    other_sha = hashlib.sha256(other.read_bytes()).hexdigest()
    (site.root / "lookup.json").write_text(json.dumps({other_sha: PDF_INDEX}))
    code, _, err = site.run("--pdf", str(other))
    assert code == 1
    assert f"Entry {PDF_INDEX} records the PDF hash {sha}, not your file's ({other_sha})" in err


def test_an_entry_that_is_not_canonical_json_fails_the_audit(site):
    entries = list(site.entries)
    entries[7] = json.dumps(json.loads(entries[7]), ensure_ascii=False).encode()  # spaces
    entries[8] = b"not json"
    site.log.publish(entries)
    code, _, err = site.run("--audit")
    assert code == 1
    assert "✗ Entry 7 is not canonical JSON" in err
    assert "✗ Entry 8 is not a JSON object." in err
    assert "The root hash recomputed" not in err  # the tree itself is sound


def test_a_recomputation_that_disagrees_fails_the_audit(site, monkeypatch):
    class CountsVotes(wv.Recomputation):
        title = "recompute_object_histories"

        def __init__(self):
            self.result = wv.Recomputed()

        def feed(self, first_index, entries):
            for entry in entries:
                self.result.checked += 1
                if entry["index"] == 42:
                    self.result.problem(wv.Msg("history_gap", object="x", index=42, previous=0))

        def finish(self):
            return self.result

    monkeypatch.setattr(wv, "RECOMPUTATIONS", [*wv.RECOMPUTATIONS, CountsVotes])
    code, out, err = site.run("--audit")
    assert code == 1
    assert f'✗ Recomputed "each object\'s history": {SIZE} checked, 1 disagree.' in err
    assert "The audit found 1 problem(s)" in err


def test_an_entry_not_yet_in_the_checkpoint_cannot_be_checked_yet(site):
    sha = hashlib.sha256(PDF).hexdigest()
    (site.root / "lookup.json").write_text(json.dumps({sha: SIZE + 5}))
    code, _, err = site.run("--pdf", str(site.pdf))
    assert code == 2
    assert f"Entry {SIZE + 5} is not yet covered by the latest checkpoint ({SIZE} entries)" in err


def test_what_cannot_be_checked_exits_with_2_and_says_why(site, tmp_path):
    (site.root / "log" / "checkpoint").unlink()
    code, _, err = site.run("--audit")
    assert code == 2
    assert err == f"✗ The site answered HTTP 404 for {site.url}/log/checkpoint.\n"
    code, _, err = site.run("--pdf", str(tmp_path / "missing.pdf"))
    assert code == 2 and "Cannot read" in err
    code, _, err = site.run(keys=False)
    assert code == 2 and "choose one check" in err
    code, _, err = site.run("--audit", "--pdf", str(site.pdf))
    assert code == 2 and "cannot be combined" in err
    code, _, err = site.run("--audit", "--log-key", "nobody+00000000+AAAA", keys=False)
    assert code == 2 and "The key 'nobody+00000000+AAAA' is malformed" in err
    code, _, err = site.run("--audit", "--log-key", site.log.witnesses[0].vkey, keys=False)
    assert code == 2 and "--log-key must be a log key" in err
    code, _, err = site.run("--audit", "--min-witnesses", "3")
    assert code == 2 and "--min-witnesses is 3 but there are only 2 witness keys" in err
    site.saved.write_text("garbage")
    code, _, err = site.run("--since", str(site.saved), "--min-witnesses", "0")
    assert code == 2 and "is not a valid checkpoint" in err


def test_the_checker_as_a_program_exits_1_or_2_with_one_line_and_no_traceback(site):
    good = run_tool(site.url, *site.keys, "--audit", "--lang", "en")
    assert good.returncode == 0, good.stderr
    site.rewrite_bundle(0, lambda entries: entries[:-1])
    failed = run_tool(site.url, *site.keys, "--audit")
    assert failed.returncode == 1
    assert failed.stderr == "✗ 记录包 tile/entries/000 里有 255 条记录，应为 256 条。\n"
    unreachable = run_tool("http://127.0.0.1:9", "--audit", "--lang", "en")
    assert unreachable.returncode == 2
    assert unreachable.stderr.startswith("✗ Cannot reach the site (http://127.0.0.1:9/log/key)")
    for args in (["ftp://example.org", "--audit"], [site.url, "--bogus"], [site.url]):
        broken = run_tool(*args)
        assert broken.returncode == 2
        assert "Traceback" not in broken.stderr and broken.stderr.count("\n") == 1
    helped = run_tool("--help", "--lang", "en")
    assert helped.returncode == 0 and "--checkpoint-out FILE" in helped.stdout


def test_the_checker_imports_nothing_but_the_standard_library_and_cryptography():
    imported = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.path.insert(0, sys.argv[1]); import weishi_verify; "
            "print('\\n'.join(sorted(sys.modules)))",
            str(TOOL.parent),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    top = {name.split(".")[0] for name in imported}
    outside = {n for n in top - set(sys.stdlib_module_names) if not n.startswith("_")}
    assert outside <= {"weishi_verify", "cryptography", "cffi", "sitecustomize"}, outside


def test_the_audit_spread_over_processes_finds_what_one_process_finds(site):
    # --jobs 2: the bundles are checked by worker processes (forked by the checker, run here
    # as a resident runs it: its own process, single-threaded when it forks).
    def spread():
        done = run_tool(site.url, *site.keys, "--audit", "--jobs", "2", "--lang", "en")
        return done.returncode, done.stdout, done.stderr

    code, out, err = spread()
    assert (code, err) == (0, ""), err
    assert f"checked all {SIZE} entries (3 bundles)" in out
    assert (code, out, err) == site.run("--audit", "--jobs", "1")

    def tamper(entries):
        entries[3], entries[4] = entries[4], entries[3]
        entries[7] = json.dumps(json.loads(entries[7]), indent=1).encode()
        return entries

    site.rewrite_bundle(0, tamper)
    code, out, err = spread()
    assert code == 1
    assert "✗ Entry 3 says its index is 4" in err
    assert "✗ Entry 7 is not canonical JSON" in err
    assert "The root hash recomputed" in err
    assert (code, out, err) == site.run("--audit", "--jobs", "1")

    site.rewrite_bundle(1, lambda entries: entries[:10] + entries[11:])
    code, out, err = spread()
    assert code == 1
    assert err.endswith(
        "✗ The entry bundle tile/entries/001 holds 255 entries; it must hold 256.\n"
    )
