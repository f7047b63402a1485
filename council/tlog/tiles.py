"""C2SP tlog-tiles: the log's hashes and entries cut into static, immutable files.

A level-``L`` hash tile holds up to 256 stored hashes of tree level ``8·L`` (the roots of the
subtrees of 256**L leaves), so tile ``(L, N)`` covers leaves ``N·256**(L+1)`` onwards. The
rightmost tile of each level may be *partial* (its first ``W`` hashes); it only ever grows.
Entry bundles cut the entries the same way, 256 to a bundle.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

from .merkle import node_hash, perfect_root

HEIGHT = 8
WIDTH = 1 << HEIGHT  # hashes (or entries) in a full tile
HASH_SIZE = 32
MAX_ENTRY = 0xFFFF  # an entry bundle prefixes each entry with a 2-byte length


class TileError(ValueError):
    """A tile path, a tile or an entry bundle that is not what the format says."""


def _encode_index(n: int) -> str:
    digits = f"{n:d}"
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([f"x{g}" for g in groups[:-1]] + [groups[-1]])


def tile_path(level: int | str, index: int, width: int = WIDTH) -> str:
    """``tile/<L>/<N>[.p/<W>]``; ``level`` ``"entries"`` names an entry bundle."""
    if not 1 <= width <= WIDTH:
        raise TileError(f"a tile holds 1 to {WIDTH} hashes, not {width}")
    path = f"tile/{level}/{_encode_index(index)}"
    return path if width == WIDTH else f"{path}.p/{width}"


_PATH = re.compile(
    r"tile/(?P<level>entries|0|[1-9][0-9]?)/(?P<index>(?:x[0-9]{3}/)*[0-9]{3})(?:\.p/(?P<w>[1-9][0-9]{0,2}))?"
)


def parse_tile_path(path: str) -> tuple[int | str, int, int]:
    """``(level, index, width)`` of a tile path; ``TileError`` if it is not one exactly."""
    match = _PATH.fullmatch(path)
    if not match:
        raise TileError(f"not a tile path: {path!r}")
    groups = match["index"].replace("x", "").split("/")
    if len(groups) > 1 and groups[0] == "000":
        raise TileError(f"a tile index has no leading zero groups: {path!r}")
    width = int(match["w"]) if match["w"] else WIDTH
    if match["w"] and width >= WIDTH:
        raise TileError(f"a partial tile has fewer than {WIDTH} hashes: {path!r}")
    level = match["level"] if match["level"] == "entries" else int(match["level"])
    return level, int("".join(groups)), width


def tile_width(level: int, index: int, size: int) -> int:
    """How many hashes tile ``(level, index)`` holds in a tree of ``size`` leaves (0: none yet)."""
    stored = size >> (HEIGHT * level)
    return max(0, min(WIDTH, stored - index * WIDTH))


def tiles_of(size: int) -> Iterable[tuple[int, int, int]]:
    """Every ``(level, index, width)`` hash tile a tree of ``size`` leaves publishes."""
    level = 0
    while (stored := size >> (HEIGHT * level)) > 0:
        for index in range((stored + WIDTH - 1) // WIDTH):
            yield level, index, tile_width(level, index, size)
        level += 1


def bundle_encode(entries: Iterable[bytes]) -> bytes:
    out = bytearray()
    for entry in entries:
        if len(entry) > MAX_ENTRY:
            raise TileError(f"an entry is {len(entry)} bytes, more than {MAX_ENTRY}")
        out += struct.pack(">H", len(entry)) + entry
    return bytes(out)


def bundle_decode(data: bytes, width: int) -> list[bytes]:
    """The entries of a bundle of ``width`` entries; ``TileError`` if it holds anything else."""
    entries, at = [], 0
    while at < len(data):
        if at + 2 > len(data):
            raise TileError("the entry bundle ends in the middle of a length")
        (n,) = struct.unpack_from(">H", data, at)
        if at + 2 + n > len(data):
            raise TileError("the entry bundle ends in the middle of an entry")
        entries.append(bytes(data[at + 2 : at + 2 + n]))
        at += 2 + n
    if len(entries) != width:
        raise TileError(f"the entry bundle holds {len(entries)} entries, not {width}")
    return entries


def _levels(tile: bytes) -> list[list[bytes]]:
    """A tile's hashes and every complete level above them inside the tile."""
    level = [tile[i : i + HASH_SIZE] for i in range(0, len(tile), HASH_SIZE)]
    levels = [level]
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        levels.append(level)
    return levels


# Full tiles never change, so their inner levels are computed once per process.
_full_levels = lru_cache(maxsize=4096)(_levels)


class TileReader:
    """Stored hashes of a tree of ``size`` leaves, read from its tiles (``read_tile(level,
    index, width) -> bytes``), each tile read once and its inner levels computed once."""

    def __init__(self, read_tile: Callable[[int, int, int], bytes], size: int):
        self.read_tile = read_tile
        self.size = size
        self._partial: dict[tuple[int, int], list[list[bytes]]] = {}

    def levels(self, level: int, index: int) -> list[list[bytes]]:
        width = tile_width(level, index, self.size)
        if width == 0:
            raise TileError(f"tile {level}/{index} is beyond a tree of {self.size}")
        data = self.read_tile(level, index, width)
        if len(data) != width * HASH_SIZE:
            raise TileError(
                f"tile {tile_path(level, index, width)} is {len(data)} bytes, "
                f"not {width * HASH_SIZE}"
            )
        if width == WIDTH:
            return _full_levels(bytes(data))
        key = (level, index)
        if key not in self._partial:
            self._partial[key] = _levels(bytes(data))
        return self._partial[key]

    def hash_at(self, level: int, index: int) -> bytes:
        tile_level, inner = divmod(level, HEIGHT)
        first = index << inner  # its first hash at the tile's level
        levels = self.levels(tile_level, first // WIDTH)
        return levels[inner][index % (WIDTH >> inner)]


def tiles_append(
    read_tile: Callable[[int, int], bytes], size: int, leaves: Sequence[bytes]
) -> dict[tuple[int, int], bytes]:
    """The hash tiles that change when ``leaves`` (leaf hashes) are appended to a tree of
    ``size``: ``{(level, index): new content}``. ``read_tile(level, index)`` gives a tile's
    current content (``b""`` if it does not exist yet)."""
    changed: dict[tuple[int, int], bytearray] = {}
    pending, level = list(leaves), 0
    while pending:
        count = size >> (HEIGHT * level)  # stored hashes at this level before the append
        completed = []
        for h in pending:
            index, slot = divmod(count, WIDTH)
            tile = changed.get((level, index))
            if tile is None:
                tile = changed[level, index] = bytearray(read_tile(level, index))
            if len(tile) != slot * HASH_SIZE:
                raise TileError(
                    f"tile {level}/{index} holds {len(tile)} bytes, expected {slot * HASH_SIZE}"
                )
            tile += h
            if slot == WIDTH - 1:
                completed.append(perfect_root([tile[i : i + 32] for i in range(0, len(tile), 32)]))
            count += 1
        pending, level = completed, level + 1
    return {key: bytes(tile) for key, tile in changed.items()}
