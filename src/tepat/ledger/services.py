"""Writes to the log: enqueue (the payment path), sequence (background), publish, cosign."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from tepat.core.audit import audit_record
from tepat.core.errors import FieldProblem, TepatError, ValidationFailed
from tepat.ledger import merkle, tiles
from tepat.ledger.entries import Entry, entry_json, entry_validate
from tepat.ledger.keys import log_signers, log_verifiers, origin, witness_verifiers
from tepat.ledger.models import (
    Checkpoint,
    LogEntry,
    LogHead,
    PendingEntry,
    Tile,
    WitnessCosignature,
)
from tepat.ledger.note import (
    Checkpoint as CheckpointBody,
)
from tepat.ledger.note import (
    Note,
    NoteError,
    add_signatures,
    open_checkpoint,
    parse_note,
    sign_checkpoint,
    verified_by,
)
from tepat.ledger.selectors import StoredTree, root_at

MAX_ENTRY_BYTES = 0xFFFF  # an entry bundle stores a 2-byte length
_DELETE_CHUNK = 900  # below SQLite's bound-parameter limit on old builds


def _pending(*, kind: str, body: Entry | Mapping[str, Any], ref: str) -> PendingEntry:
    text = entry_json(entry_validate(kind=kind, body=body))
    if len(text.encode("utf-8")) > MAX_ENTRY_BYTES:
        raise ValidationFailed([FieldProblem("body", "too_long", "entry exceeds 65535 bytes")])
    return PendingEntry(kind=kind, ref=ref, body=text)


def ledger_enqueue(*, kind: str, body: Entry | Mapping[str, Any], ref: str = "") -> PendingEntry:
    """Queue one entry in the caller's transaction: it is logged if and only if the caller's
    change commits. Costs one insert; the sequencer does the hashing and signing later."""
    row = _pending(kind=kind, body=body, ref=ref)
    row.save()
    return row


def _insert_rows(
    model: type[models.Model], columns: list[str], rows: list[tuple[Any, ...]]
) -> None:
    """Bulk insert below the ORM: COPY on PostgreSQL, executemany elsewhere. The entry path is
    hot, and bulk_create's model instances and client-side quoting dominated the profile."""
    table = connection.ops.quote_name(model._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)  # noqa: S608 - names come from the model


def ledger_enqueue_many(*, items: Iterable[tuple[str, Entry | Mapping[str, Any], str]]) -> int:
    """Queue many (kind, body, ref) entries with one bulk insert; returns how many."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = [
        (p.kind, p.ref, p.body, now) for p in (_pending(kind=k, body=b, ref=r) for k, b, r in items)
    ]
    _insert_rows(PendingEntry, ["kind", "ref", "body", "created_at"], rows)
    return len(rows)


@dataclass(frozen=True)
class SequenceResult:
    count: int
    size: int
    checkpoint: Checkpoint | None


def _locked_head() -> LogHead:
    # select_for_update makes concurrent sequencers on PostgreSQL take turns; on SQLite the
    # IMMEDIATE transaction already holds the database write lock.
    head = LogHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        LogHead.objects.get_or_create(pk=1, defaults={"size": 0, "root": merkle.EMPTY_ROOT})
        head = LogHead.objects.select_for_update().get(pk=1)
    return head


def _write_tiles(updates: dict[tiles.TileKey, bytes], tree: StoredTree) -> None:
    fresh = []
    for key, blob in updates.items():
        if key in tree.loaded:
            Tile.objects.filter(level=key[0], index=key[1]).update(hashes=blob)
        else:
            fresh.append(Tile(level=key[0], index=key[1], hashes=blob))
        tree.cache[key] = blob
    Tile.objects.bulk_create(fresh, batch_size=500)


def _publish(size: int, root: bytes) -> Checkpoint:
    note = sign_checkpoint(CheckpointBody(origin(), size, root), log_signers())
    return Checkpoint.objects.create(size=size, root=root, note=note)


def ledger_sequence(*, max_batch: int = 5000, publish: bool = True) -> SequenceResult:
    """Move up to `max_batch` pending entries into the log in one transaction: assign indexes,
    extend the tiles, move the head and (by default) publish a signed checkpoint."""
    with transaction.atomic(durable=True):
        head = _locked_head()
        pending = list(
            PendingEntry.objects.order_by("id").values_list("id", "kind", "ref", "body")[:max_batch]
        )
        if not pending:
            return SequenceResult(0, head.size, None)
        now = connection.ops.adapt_datetimefield_value(timezone.now())
        start = head.size
        _insert_rows(
            LogEntry,
            ["index", "kind", "ref", "body", "sequenced_at"],
            [(start + i, kind, ref, body, now) for i, (_, kind, ref, body) in enumerate(pending)],
        )
        leaves = [merkle.leaf_hash(body.encode("utf-8")) for _, _, _, body in pending]
        tree = StoredTree()
        updates = tiles.extend(start, leaves, tree.tile)
        _write_tiles(updates, tree)
        size = start + len(pending)
        root = merkle.root_hash(size, tree.node)
        head.size, head.root = size, root
        head.save(update_fields=["size", "root", "updated_at"])
        ids = [row[0] for row in pending]
        for i in range(0, len(ids), _DELETE_CHUNK):
            PendingEntry.objects.filter(id__in=ids[i : i + _DELETE_CHUNK]).delete()
        checkpoint = _publish(size, root) if publish else None
    return SequenceResult(len(pending), size, checkpoint)


def checkpoint_publish(*, acting_user: Any = None) -> Checkpoint:
    """Sign the current head, unless the latest checkpoint already covers it."""
    with transaction.atomic(durable=True):
        head = _locked_head()
        latest = Checkpoint.objects.order_by("-size", "-id").first()
        if latest is not None and latest.size == head.size:
            return latest
        checkpoint = _publish(head.size, bytes(head.root))
        audit_record(
            actor=acting_user,
            action="ledger.checkpoint_publish",
            target_type="ledger.checkpoint",
            target_id=str(checkpoint.pk),
            detail={"size": head.size},
        )
    return checkpoint


def witness_cosignature_add(*, note: str) -> Checkpoint:
    """Accept a witness's cosigned copy of one of our checkpoints and publish the cosignature.

    The witness checked consistency with the last checkpoint it signed before cosigning; here we
    check that the checkpoint is ours (our key, our origin, our root at that size) and that the
    cosignature comes from a registered witness key.
    """
    try:
        body = open_checkpoint(note, log_verifiers(), origin=origin())
        parsed = parse_note(note)
    except NoteError as exc:
        raise TepatError(f"checkpoint refused: {exc}", code="bad_checkpoint") from exc
    with transaction.atomic(durable=True):
        head = _locked_head()
        if body.size > head.size or body.size == 0 or root_at(body.size) != body.root:
            raise TepatError("checkpoint is not consistent with this log", code="inconsistent")
        checkpoint = (
            Checkpoint.objects.filter(size=body.size, root=body.root).order_by("id").first()
        )
        if checkpoint is None:
            raise TepatError("this log never published that checkpoint", code="unknown_checkpoint")
        known = {(v.name, v.key_id): v for v in witness_verifiers()}
        added = []
        for sig in parsed.signatures:
            verifier = known.get((sig.name, sig.key_id))
            if verifier is None or not verified_by(Note(parsed.text, (sig,)), [verifier]):
                continue
            _, created = WitnessCosignature.objects.get_or_create(
                checkpoint=checkpoint,
                witness=sig.name,
                defaults={"key_id": sig.key_id.hex(), "line": sig.line()},
            )
            if created:
                added.append(sig)
        if not added and not checkpoint.cosigs.exists():
            raise TepatError(
                "no valid cosignature from a registered witness", code="no_cosignature"
            )
        if added:
            checkpoint.note = add_signatures(checkpoint.note, added)
            checkpoint.save(update_fields=["note"])
    return checkpoint
