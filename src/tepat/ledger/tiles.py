"""C2SP tlog-tiles: paths, tile arithmetic and entry bundles (pure functions).

Tiles have height 8: a tile at level L holds up to 256 hashes of tree level 8L. A partial tile is
served as ``.p/<W>``; index N is written in groups of three digits, ``x001/x234/067``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

from tepat.ledger.merkle import HASH_SIZE, node_hash

HEIGHT = 8
WIDTH = 1 << HEIGHT

TileKey = tuple[int, int]  # (level, index)
TileLoader = Callable[[TileKey], bytes]


class TilePathError(ValueError):
    pass


def encode_index(n: int) -> str:
    digits = f"{n:d}"
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    return "/".join([*("x" + g for g in groups[:-1]), groups[-1]])


def tile_path(level: int | str, index: int, width: int = WIDTH) -> str:
    path = f"tile/{level}/{encode_index(index)}"
    return path if width == WIDTH else f"{path}.p/{width}"


_INDEX = re.compile(r"^((?:x\d{3}/)*)(\d{3})(?:\.p/(\d+))?$")


def parse_index_path(rest: str) -> tuple[int, int]:
    """``x001/x234/067.p/12`` -> (1234067, 12); a full tile has width 256."""
    m = _INDEX.match(rest)
    if not m:
        raise TilePathError(f"bad tile index {rest!r}")
    digits = m.group(1).replace("x", "").replace("/", "") + m.group(2)
    width = int(m.group(3)) if m.group(3) is not None else WIDTH
    if m.group(3) is not None and (not 1 <= width < WIDTH or m.group(3).startswith("0")):
        raise TilePathError("a partial tile width is between 1 and 255")
    if len(digits) > 3 and digits.startswith("000"):
        raise TilePathError("tile index has a superfluous leading group")
    return int(digits), width


def subtree_root(hashes: Sequence[bytes]) -> bytes:
    """The root of a perfect subtree (a power-of-two count of hashes)."""
    row = list(hashes)
    while len(row) > 1:
        row = [node_hash(row[i], row[i + 1]) for i in range(0, len(row), 2)]
    return row[0]


def split_hashes(blob: bytes) -> list[bytes]:
    return [blob[i : i + HASH_SIZE] for i in range(0, len(blob), HASH_SIZE)]


def node_from_tiles(level: int, index: int, load: TileLoader) -> bytes:
    """A complete subtree hash from the tile holding its descendants at a multiple-of-8 level."""
    tile_level, rise = divmod(level, HEIGHT)
    first = index << rise
    blob = load((tile_level, first >> HEIGHT))
    offset = (first & (WIDTH - 1)) * HASH_SIZE
    part = blob[offset : offset + (HASH_SIZE << rise)]
    if len(part) != HASH_SIZE << rise:
        raise LookupError(f"tile {tile_level}/{first >> HEIGHT} lacks node {level}/{index}")
    return subtree_root(split_hashes(part))


def extend(size: int, leaves: Sequence[bytes], load: TileLoader) -> dict[TileKey, bytes]:
    """The new contents of every tile touched by appending `leaves` to a tree of `size`.

    `load` returns the stored (possibly partial) tile for a key; only right-edge partial tiles
    are read. Each full tile's root becomes the next level's new hash.
    """
    out: dict[TileKey, bytes] = {}
    start, new = size, list(leaves)
    level = 0
    while new:
        tile = start >> HEIGHT
        blob = load((level, tile))[: (start & (WIDTH - 1)) * HASH_SIZE] if start % WIDTH else b""
        blob += b"".join(new)
        promoted: list[bytes] = []
        first_full = start // WIDTH
        for i in range(0, len(blob), WIDTH * HASH_SIZE):
            chunk = blob[i : i + WIDTH * HASH_SIZE]
            key = (level, tile + i // (WIDTH * HASH_SIZE))
            out[key] = chunk
            if len(chunk) == WIDTH * HASH_SIZE:
                promoted.append(subtree_root(split_hashes(chunk)))
        start, new = first_full, promoted
        level += 1
    return out


def entry_bundle(bodies: Iterable[bytes]) -> bytes:
    out = bytearray()
    for body in bodies:
        if len(body) > 0xFFFF:
            raise ValueError("an entry longer than 65535 bytes does not fit a tile bundle")
        out += len(body).to_bytes(2, "big") + body
    return bytes(out)


def parse_entry_bundle(data: bytes) -> list[bytes]:
    out, i = [], 0
    while i < len(data):
        if i + 2 > len(data):
            raise ValueError("truncated entry bundle")
        n = int.from_bytes(data[i : i + 2], "big")
        if i + 2 + n > len(data):
            raise ValueError("truncated entry bundle")
        out.append(data[i + 2 : i + 2 + n])
        i += 2 + n
    return out
