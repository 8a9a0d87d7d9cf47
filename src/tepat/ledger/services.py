"""Writes to the log: enqueue (the payment path), sequence (background), publish, cosign."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.db import connection, models, transaction
from django.utils import timezone

from tepat.core.audit import audit_record
from tepat.core.errors import FieldProblem, TepatError, ValidationFailed
from tepat.ledger import anchor, merkle, tiles
from tepat.ledger.entries import Entry, entry_json, entry_validate, terminal_field
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
from tepat.ledger.selectors import StoredTree, log_verify, root_at

if TYPE_CHECKING:
    # Below accounts in the layers: the concrete user model is not ours to name here.
    from django.contrib.auth.base_user import AbstractBaseUser as User


logger = logging.getLogger("tepat.ledger")

MAX_ENTRY_BYTES = 0xFFFF  # an entry bundle stores a 2-byte length
_DELETE_CHUNK = 900  # below SQLite's bound-parameter limit on old builds


def _pending(*, kind: str, body: Entry | Mapping[str, Any], ref: str) -> PendingEntry:
    entry = entry_validate(kind=kind, body=body)
    field = terminal_field(kind)
    if field is not None:
        # `verify` finds a second terminal entry (a payment's second settlement) by this column,
        # so it names what the entry ends.
        subject = str(getattr(entry, field, ""))
        if ref and ref != subject:
            raise ValidationFailed(
                [FieldProblem("ref", "ref_mismatch", f"ref {ref!r} is not {field} {subject!r}")]
            )
        ref = subject
    text = entry_json(entry)
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


def _anchored_in_db(size: int, root: bytes) -> bool:
    return Checkpoint.objects.filter(size=size, root=root).exists()


def _anchor() -> anchor.Anchor | None:
    """The checkpoint the next one must extend: the anchor file, or (trust on first use, when
    this state folder has none yet) the latest checkpoint in the database signed by our key."""
    found = anchor.anchor_read()
    if found is not None:
        return found
    latest = Checkpoint.objects.order_by("-size", "-id").first()
    if latest is None:
        return None
    logger.warning(
        "no ledger anchor at %s: starting from the database's checkpoint of size %d",
        anchor.anchor_path(),
        latest.size,
    )
    try:
        body = open_checkpoint(latest.note, log_verifiers(), origin=origin())
    except NoteError as exc:
        raise anchor.LedgerIntegrityError(
            f"the latest stored checkpoint is not signed by this log's keys: {exc}",
            reason="anchor_unreadable",
        ) from exc
    return anchor.Anchor(body.size, body.root, latest.note)


def _publish(size: int, root: bytes, node: merkle.NodeSource) -> Checkpoint:
    """Sign the tree head only after proving it extends the last checkpoint this sequencer
    signed (kept outside the database, see anchor.py); LedgerIntegrityError otherwise."""
    anchor.check_extends(anchor=_anchor(), size=size, root=root, node=node, stored=_anchored_in_db)
    note = sign_checkpoint(CheckpointBody(origin(), size, root), log_signers())
    return Checkpoint.objects.create(size=size, root=root, note=note)


def _signed(checkpoint: Checkpoint | None) -> None:
    """After the commit: remember the checkpoint as the one the next must extend."""
    if checkpoint is not None:
        anchor.anchor_record(checkpoint.note)


def ledger_sequence(*, max_batch: int = 5000, publish: bool = True) -> SequenceResult:
    """Move up to `max_batch` pending entries into the log in one transaction: assign indexes,
    extend the tiles, move the head and (by default) publish a signed checkpoint.

    Refuses (LedgerIntegrityError, nothing sequenced, the alarm raised) when the stored tree no
    longer extends the last checkpoint this sequencer signed."""
    try:
        result = _sequence(max_batch=max_batch, publish=publish)
    except anchor.LedgerIntegrityError as exc:
        anchor.raise_alarm(exc)
        raise
    _signed(result.checkpoint)
    return result


def _sequence(*, max_batch: int, publish: bool) -> SequenceResult:
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
        if not publish:  # extending a rewritten history is refused too, signed or not
            anchor.check_extends(
                anchor=_anchor(), size=size, root=root, node=tree.node, stored=_anchored_in_db
            )
        head.size, head.root = size, root
        head.save(update_fields=["size", "root", "updated_at"])
        ids = [row[0] for row in pending]
        for i in range(0, len(ids), _DELETE_CHUNK):
            PendingEntry.objects.filter(id__in=ids[i : i + _DELETE_CHUNK]).delete()
        checkpoint = _publish(size, root, tree.node) if publish else None
    return SequenceResult(len(pending), size, checkpoint)


def checkpoint_publish(*, acting_user: User | None = None) -> Checkpoint:
    """Sign the current head, unless the latest checkpoint already covers it; refused like
    `ledger_sequence` when the stored tree does not extend the last signed checkpoint."""
    try:
        checkpoint = _checkpoint_publish(acting_user=acting_user)
    except anchor.LedgerIntegrityError as exc:
        anchor.raise_alarm(exc)
        raise
    _signed(checkpoint)
    return checkpoint


def _checkpoint_publish(*, acting_user: User | None) -> Checkpoint:
    with transaction.atomic(durable=True):
        head = _locked_head()
        latest = Checkpoint.objects.order_by("-size", "-id").first()
        if latest is not None and latest.size == head.size:
            return latest
        # The root is recomputed from the tiles, never taken from the head row.
        tree = StoredTree()
        tree.prefetch_ranges([(0, head.size)])
        try:
            root = merkle.root_hash(head.size, tree.node)
        except LookupError as exc:
            raise anchor.LedgerIntegrityError(
                f"the stored tiles do not cover the head of size {head.size}: {exc}",
                reason="inconsistent",
            ) from exc
        if bytes(head.root) != root:
            raise anchor.LedgerIntegrityError(
                f"the head root of size {head.size} differs from the stored tiles",
                reason="inconsistent",
                detail={"tree_size": head.size},
            )
        checkpoint = _publish(head.size, root, tree.node)
        audit_record(
            actor=acting_user,
            action="ledger.checkpoint_publish",
            target_type="ledger.checkpoint",
            target_id=str(checkpoint.pk),
            detail={"size": head.size},
        )
    return checkpoint


def ledger_reanchor(*, reason: str) -> tuple[Path | None, Checkpoint | None]:
    """Make the latest stored checkpoint the one the sequencer must extend, and clear the
    integrity alarm: after a database restored from a backup, once a person has checked why the
    sequencer refused. Refused unless the stored log verifies on its own; audited."""
    reason = reason.strip()
    if len(reason) < 5:
        raise TepatError("Tuliskan alasannya / state the reason", code="reason_required")
    report = log_verify(with_anchor=False)
    if not report.ok:
        raise TepatError(
            "Log tersimpan tidak lolos verifikasi / the stored log does not verify: "
            + "; ".join(report.problems[:3]),
            code="ledger_integrity",
        )
    try:
        before = anchor.anchor_read()
    except anchor.LedgerIntegrityError:
        before = None
    latest = Checkpoint.objects.order_by("-size", "-id").first()
    moved = anchor.anchor_replace(latest.note if latest is not None else None)
    audit_record(
        actor=None,
        action="ledger.reanchor",
        target_type="ledger",
        target_id=origin(),
        detail={
            "reason": reason,
            "before_size": before.size if before is not None else None,
            "after_size": latest.size if latest is not None else None,
        },
    )
    logger.warning(
        "ledger re-anchored at size %s (was %s): %s",
        latest.size if latest is not None else 0,
        before.size if before is not None else None,
        reason,
    )
    return moved, latest


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
            if verifier is None:
                continue  # an unknown key is ignored, as the C2SP spec requires
            if not verified_by(Note(parsed.text, (sig,)), [verifier]):
                # One bad signature from a registered witness: the note is refused whole.
                raise TepatError(
                    f"cosignature of witness {sig.name} does not verify", code="bad_cosignature"
                )
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
