"""Reads of the log: stored tiles as a node source, proofs, receipts, tile bytes, verification."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count

from tepat.core.errors import NotFound, TepatError
from tepat.ledger import anchor, merkle, tiles
from tepat.ledger.entries import terminal_field, terminal_kinds
from tepat.ledger.keys import log_verifiers, origin
from tepat.ledger.models import Checkpoint, LogEntry, LogHead, Tile
from tepat.ledger.note import open_checkpoint
from tepat.ledger.receipts import RECEIPT_FORMAT


class StoredTree:
    """Complete subtree hashes read from stored tiles, with a per-use cache (and an overlay of
    tiles written in the current transaction)."""

    def __init__(self) -> None:
        self.cache: dict[tiles.TileKey, bytes] = {}
        self.loaded: set[tiles.TileKey] = set()  # keys that exist in the database

    def prefetch(self, keys: Iterable[tiles.TileKey]) -> None:
        wanted = [k for k in set(keys) if k not in self.cache]
        by_level: dict[int, list[int]] = {}
        for level, index in wanted:
            by_level.setdefault(level, []).append(index)
        for level, indexes in by_level.items():
            rows = Tile.objects.filter(level=level, index__in=indexes).values_list(
                "index", "hashes"
            )
            for index, blob in rows:
                self.cache[(level, index)] = bytes(blob)
                self.loaded.add((level, index))
        for key in wanted:
            self.cache.setdefault(key, b"")

    def tile(self, key: tiles.TileKey) -> bytes:
        if key not in self.cache:
            self.prefetch([key])
        return self.cache[key]

    def node(self, level: int, index: int) -> bytes:
        return tiles.node_from_tiles(level, index, self.tile)

    def prefetch_ranges(self, ranges: Iterable[tuple[int, int]]) -> None:
        keys: list[tiles.TileKey] = []
        for start, end in ranges:
            for level, index in merkle.complete_subtrees(start, end):
                tile_level, rise = divmod(level, tiles.HEIGHT)
                keys.append((tile_level, (index << rise) >> tiles.HEIGHT))
        self.prefetch(keys)


def log_size() -> int:
    head = LogHead.objects.filter(pk=1).first()
    return head.size if head else 0


def _check_size(size: int) -> None:
    if not 0 < size <= log_size():
        raise TepatError(f"tree size {size} is not a size of this log", code="bad_size")


def inclusion_proof(*, index: int, size: int) -> list[bytes]:
    _check_size(size)
    if not 0 <= index < size:
        raise TepatError(f"entry {index} is not in a tree of size {size}", code="bad_index")
    tree = StoredTree()
    tree.prefetch_ranges(merkle.path_ranges(index, 0, size))
    return merkle.inclusion_proof(index, size, tree.node)


def consistency_proof(*, first: int, second: int) -> list[bytes]:
    _check_size(second)
    if not 0 < first <= second:
        raise TepatError(f"cannot prove size {first} against size {second}", code="bad_size")
    tree = StoredTree()
    tree.prefetch_ranges(merkle.subproof_ranges(first, 0, second, True))
    return merkle.consistency_proof(first, second, tree.node)


def root_at(size: int) -> bytes:
    tree = StoredTree()
    tree.prefetch_ranges([(0, size)])
    return merkle.root_hash(size, tree.node)


def latest_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-size", "-id").first()


def tile_bytes(*, level: int, index: int, width: int) -> bytes | None:
    blob = Tile.objects.filter(level=level, index=index).values_list("hashes", flat=True).first()
    if blob is None or len(blob) < width * merkle.HASH_SIZE:
        return None
    return bytes(blob)[: width * merkle.HASH_SIZE]


def entry_bundle_bytes(*, index: int, width: int) -> bytes | None:
    first = index * tiles.WIDTH
    if log_size() < first + width:
        return None
    bodies = LogEntry.objects.filter(index__gte=first, index__lt=first + width).order_by("index")
    rows = list(bodies.values_list("body", flat=True))
    if len(rows) != width:
        return None
    return tiles.entry_bundle(b.encode("utf-8") for b in rows)


def _b64(items: Iterable[bytes]) -> list[str]:
    return [base64.b64encode(h).decode("ascii") for h in items]


def receipt(*, index: int) -> dict[str, Any]:
    """Everything a citizen needs to check offline that entry `index` is in the signed log."""
    entry = LogEntry.objects.filter(index=index).first()
    checkpoint = latest_checkpoint()
    if entry is None or checkpoint is None or checkpoint.size <= index:
        raise NotFound("Entri belum tercatat di checkpoint / entry not yet in a checkpoint")
    return {
        "format": RECEIPT_FORMAT,
        "index": index,
        "kind": entry.kind,
        "entry": entry.body,
        "tree_size": checkpoint.size,
        "proof": _b64(inclusion_proof(index=index, size=checkpoint.size)),
        "checkpoint": checkpoint.note,
        "log_keys": [v.vkey() for v in log_verifiers()],
    }


def receipts_for_ref(*, ref: str) -> list[dict[str, Any]]:
    indexes = LogEntry.objects.filter(ref=ref).order_by("index").values_list("index", flat=True)
    return [receipt(index=i) for i in indexes]


@dataclass
class VerifyReport:
    size: int = 0
    checked: int = 0
    first_bad_index: int | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def bad(self, index: int | None, message: str) -> None:
        if index is not None and (self.first_bad_index is None or index < self.first_bad_index):
            self.first_bad_index = index
        self.problems.append(message)


def _level0_hashes(size: int) -> Iterator[bytes]:
    """Stored leaf hashes in order; a missing tile shows as empty hashes."""
    expected = 0
    rows = Tile.objects.filter(level=0).order_by("index").values_list("index", "hashes")
    for index, blob in rows.iterator(chunk_size=256):
        while expected < index and expected * tiles.WIDTH < size:
            yield from [b""] * tiles.WIDTH
            expected += 1
        yield from tiles.split_hashes(bytes(blob))
        expected = index + 1
    while True:
        yield b""


def _check_upper_levels(report: VerifyReport, up: list[bytes]) -> None:
    """Compare stored tiles of level >= 1 with roots recomputed from the level below."""
    level = 1
    while up:
        stored = Tile.objects.filter(level=level).order_by("index").values_list("index", "hashes")
        expected_tiles = (len(up) + tiles.WIDTH - 1) // tiles.WIDTH
        seen = 0
        for index, blob in stored.iterator(chunk_size=256):
            want = b"".join(up[index * tiles.WIDTH : (index + 1) * tiles.WIDTH])
            got = bytes(blob)
            if got != want:
                # The first differing hash names the first entry it covers: hash j of tile
                # L/N is the root of entries [(N*256 + j) * 256**L, ...).
                have, need = tiles.split_hashes(got), tiles.split_hashes(want)
                j = next(
                    (k for k, (a, b) in enumerate(zip(have, need, strict=False)) if a != b),
                    min(len(have), len(need)),
                )
                covered = (index * tiles.WIDTH + j) * tiles.WIDTH**level
                report.bad(
                    covered,
                    f"tile {level}/{index} differs from the entries below it "
                    f"(hash {j}, entries from {covered})",
                )
                return
            seen += 1
        if seen != expected_tiles:
            report.bad(None, f"tiles of level {level} are missing")
            return
        up = [
            tiles.subtree_root(up[i : i + tiles.WIDTH])
            for i in range(0, len(up) - tiles.WIDTH + 1, tiles.WIDTH)
        ]
        level += 1


def _terminal_columns(
    index: int, kind: str, ref: str, body: str, terminal: frozenset[str], marks: tuple[str, ...]
) -> str | None:
    """A problem when a terminal entry's stored `kind`/`ref` columns (not hashed) differ from
    its signed body, which would hide a second settlement from the duplicate check. `terminal`:
    the terminal kinds; `marks`: them and a backslash (a terminal entry's body names its kind
    literally unless it uses JSON escapes), both computed once per verification."""
    if kind not in terminal and not any(m in body for m in marks):
        return None
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return f"entry {index}: its body is not a JSON object" if kind in terminal else None
    body_kind = data.get("kind")
    if kind not in terminal and body_kind not in terminal:
        return None
    field = terminal_field(kind) or terminal_field(body_kind)
    if body_kind != kind or data.get(field) != ref:
        return (
            f"entry {index}: stored kind/ref ({kind}, {ref}) differ from its body "
            f"({body_kind}, {data.get(field)})"
        )
    return None


def _check_terminal_duplicates(report: VerifyReport, limit: int = 20) -> None:
    """At most one terminal entry (settled, failed, handed over) per payment: a second
    `payment.settled` is a second payout or an injected entry, even in an intact log."""
    terminal = terminal_kinds()
    refs = list(
        LogEntry.objects.filter(kind__in=terminal)
        .exclude(ref="")
        .values("ref")
        .annotate(n=Count("index"))
        .filter(n__gt=1)
        .order_by("ref")
        .values_list("ref", flat=True)[:limit]
    )
    found = []
    for ref in refs:
        rows = list(
            LogEntry.objects.filter(kind__in=terminal, ref=ref)
            .order_by("index")
            .values_list("index", "kind")[:2]
        )
        (first, first_kind), (second, second_kind) = rows
        found.append(
            (
                second,
                f"entry {second}: a second terminal entry ({second_kind}) for payment {ref}; "
                f"entry {first} already recorded {first_kind}",
            )
        )
    for index, message in sorted(found):
        report.bad(index, message)


def _check_anchor(report: VerifyReport, tree: StoredTree, good: int) -> None:
    """Compare the database with the last checkpoint the sequencer signed (kept outside the
    database): removed entries, rewritten entries and removed checkpoints all show here."""
    try:
        last = anchor.anchor_read()
    except anchor.LedgerIntegrityError as exc:
        report.bad(None, str(exc))
        return
    alarm = anchor.integrity_alarm()
    if alarm is not None:
        report.warnings.append(
            f"the sequencer refused to sign at {alarm.at}: {alarm.message} "
            "(cleared by `tepat ledger reanchor`)"
        )
    if last is None:
        report.warnings.append(
            f"no ledger anchor at {anchor.anchor_path()}: checkpoints removed from the database "
            "would go unnoticed (the sequencer writes it when it next signs)"
        )
        return
    size = report.size
    if last.size > size:
        report.bad(
            size,
            f"the log holds {size} entries; the sequencer last signed a checkpoint of "
            f"{last.size} (anchor file): entries {size} to {last.size - 1} were removed",
        )
    elif last.size and merkle.root_hash(last.size, tree.node) != last.root:
        first = good if good < last.size else 0
        report.bad(
            first,
            f"entries below {last.size} differ from the last checkpoint the sequencer signed "
            f"(anchor file): entries {first} to {last.size - 1} were rewritten",
        )
    if last.size and not Checkpoint.objects.filter(size=last.size, root=last.root).exists():
        report.bad(
            None,
            f"the checkpoint of size {last.size} the sequencer last signed (anchor file) is "
            "missing from the database: checkpoints were removed",
        )


def log_verify(*, with_anchor: bool = True) -> VerifyReport:
    """Recompute the whole log from the stored entries and compare it with every stored hash, the
    head, every published checkpoint and the last checkpoint the sequencer signed (anchor file);
    then check that no payment has two terminal entries. Streams, so it runs at 10M entries in
    bounded memory; names the first bad entry index."""
    report = VerifyReport(size=log_size())
    columns: list[tuple[int, str]] = []
    _verify_tree(report, columns, with_anchor)
    for index, message in columns[:20]:
        report.bad(index, message)
    _check_terminal_duplicates(report)
    return report


def _verify_tree(report: VerifyReport, columns: list[tuple[int, str]], with_anchor: bool) -> None:
    size = report.size
    leaves = _level0_hashes(size)
    expected = 0
    block: list[bytes] = []
    up: list[bytes] = []  # recomputed roots of full level-0 tiles
    terminal = terminal_kinds()
    marks = (*sorted(terminal), "\\")
    rows = LogEntry.objects.order_by("index").values_list("index", "kind", "ref", "body")
    for index, kind, ref, body in rows.iterator(chunk_size=5000):
        if index != expected:
            report.bad(expected, f"entry {expected}: missing or out of order (found {index})")
            break
        leaf = merkle.leaf_hash(body.encode("utf-8"))
        if next(leaves) != leaf:
            report.bad(index, f"entry {index}: its body does not match the stored leaf hash")
            break
        problem = _terminal_columns(index, kind, ref, body, terminal, marks)
        if problem is not None:
            columns.append((index, problem))
        block.append(leaf)
        if len(block) == tiles.WIDTH:
            up.append(tiles.subtree_root(block))
            block = []
        expected += 1
    report.checked = expected
    if report.ok and expected != size:
        report.bad(
            expected, f"entry {expected}: the log holds {expected} entries, head says {size}"
        )
    if report.ok and next(leaves) != b"":
        report.bad(size, f"entry {size}: level-0 tiles hold more hashes than the log has entries")
    if not report.ok:
        return
    _check_upper_levels(report, up)
    if not report.ok:
        return
    # The tiles now equal what the entries give, so roots may be read from them.
    tree = StoredTree()
    good = 0  # entries below this size match a signed checkpoint
    for cp in Checkpoint.objects.order_by("size", "id"):
        try:
            parsed = open_checkpoint(cp.note, log_verifiers(), origin=origin())
        except ValueError as exc:
            report.bad(None, f"checkpoint {cp.pk} (size {cp.size}): {exc}")
            continue
        if parsed.size != cp.size or parsed.root != bytes(cp.root):
            report.bad(None, f"checkpoint {cp.pk}: stored size/root differ from its signed note")
        if cp.size > size:
            report.bad(size, f"checkpoint {cp.pk} covers {cp.size} entries, the log has {size}")
        elif merkle.root_hash(cp.size, tree.node) != parsed.root:
            report.bad(
                good,
                f"checkpoint {cp.pk} (size {cp.size}): root differs from the entries; "
                f"entries {good} to {cp.size - 1} were rewritten",
            )
        else:
            good = max(good, cp.size)
    head = LogHead.objects.filter(pk=1).first()
    if head is not None and bytes(head.root) != merkle.root_hash(size, tree.node):
        report.bad(None, "the head root differs from the entries")
    if with_anchor:
        _check_anchor(report, tree, good)


def entries_for_refs(*, refs: Iterable[str]) -> dict[str, list[LogEntry]]:
    """ref -> its sequenced log entries, in log order (one query, not one per ref)."""
    out: dict[str, list[LogEntry]] = {}
    wanted = sorted(set(refs))
    for start in range(0, len(wanted), 900):
        for entry in LogEntry.objects.filter(ref__in=wanted[start : start + 900]).order_by("index"):
            out.setdefault(entry.ref, []).append(entry)
    return out
