"""The last checkpoint the sequencer signed, kept where the database writer cannot change it.

Whoever can write the database can rewrite an entry, recompute every tile and the head, and
remove the checkpoints that would betray the change. So the sequencer keeps its own copy of the
last checkpoint it signed (the signed note itself) in a file: ``LEDGER_STATE_DIR/last-checkpoint``
(default ``VAR_DIR/ledger``; setting ``LEDGER_STATE_DIR`` or ``TEPAT_LEDGER_STATE_DIR``), 0600 in
a 0700 folder, replaced atomically and only ever by a larger checkpoint. Before it signs a new
tree head the sequencer proves, with an RFC 9162 consistency proof read from the stored tiles,
that the new tree extends that checkpoint, and that the checkpoint is still in the database; if
not it refuses to sign, writes ``integrity-alarm.json`` beside it, logs at ERROR, records an
audit event and tells every hook registered with `on_integrity_failure` (the ledger sits below
the monitoring app, which registers a hook rather than being called). `tepat ledger verify`
checks the database against the same file, so removed checkpoints are caught.

A fresh state folder with a log that already has checkpoints starts from the latest checkpoint
the database holds (trust on first use, logged as a warning); `tepat ledger reanchor` is the
deliberate, audited way to accept a log after restoring the database from a backup.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings

from tepat.core.errors import TepatError
from tepat.ledger import merkle
from tepat.ledger.keys import log_verifiers, origin
from tepat.ledger.note import NoteError, open_checkpoint

logger = logging.getLogger("tepat.ledger")

ANCHOR_FILE = "last-checkpoint"
ALARM_FILE = "integrity-alarm.json"
LOCK_FILE = ".lock"


class LedgerIntegrityError(TepatError):
    """The stored log does not extend the last checkpoint this sequencer signed."""

    def __init__(self, message: str, *, reason: str, detail: dict[str, Any] | None = None):
        super().__init__(message, code="ledger_integrity")
        self.reason = reason
        self.detail = detail or {}


@dataclass(frozen=True)
class Anchor:
    size: int
    root: bytes
    note: str


def state_dir() -> Path:
    value = getattr(settings, "LEDGER_STATE_DIR", None) or os.environ.get(
        "TEPAT_LEDGER_STATE_DIR", ""
    )
    return Path(value) if value else Path(settings.VAR_DIR) / "ledger"


def anchor_path() -> Path:
    return state_dir() / ANCHOR_FILE


def alarm_path() -> Path:
    return state_dir() / ALARM_FILE


def _ensure_dir() -> Path:
    path = state_dir()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):  # a folder we do not own keeps its mode
        path.chmod(0o700)
    return path


@contextlib.contextmanager
def _locked() -> Iterator[None]:
    """An exclusive lock on the state folder (sequencers in several processes of one host)."""
    fd = os.open(_ensure_dir() / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _open(note: str, where: str) -> Anchor:
    try:
        body = open_checkpoint(note, log_verifiers(), origin=origin())
    except (NoteError, ValueError) as exc:
        raise LedgerIntegrityError(
            f"{where} is not a checkpoint signed by this log's keys ({exc}); after a key "
            "rotation keep the old verifier key in TEPAT_LEDGER_VERIFIER_KEYS_OLD",
            reason="anchor_unreadable",
        ) from exc
    return Anchor(body.size, body.root, note)


def anchor_read() -> Anchor | None:
    """The last checkpoint this sequencer signed, or None when it has signed none here."""
    path = anchor_path()
    try:
        note = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise LedgerIntegrityError(
            f"cannot read the ledger anchor {path}: {exc}", reason="anchor_unreadable"
        ) from exc
    return _open(note, f"the ledger anchor {path}")


def anchor_record(note: str) -> None:
    """Remember `note` (a checkpoint just signed and committed) unless a larger one is already
    remembered: concurrent sequencers may finish out of order, and the anchor never shrinks."""
    new = _open(note, "the checkpoint to remember")
    with _locked():
        try:
            old = anchor_read()
        except LedgerIntegrityError:
            old = None  # an unreadable anchor was already refused before signing
        if old is not None and old.size >= new.size:
            return
        _write_atomic(anchor_path(), note)


def anchor_replace(note: str | None) -> Path | None:
    """Set the anchor to `note` (None: forget it), keeping the old file beside it; returns where
    the old one went. Only `tepat ledger reanchor` calls this, after a person decided."""
    with _locked():
        moved = None
        path = anchor_path()
        if path.exists():
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            moved = path.with_name(f"{path.name}.replaced-{stamp}")
            os.replace(path, moved)
        if note is not None:
            _open(note, "the new anchor")
            _write_atomic(path, note)
        alarm = alarm_path()
        if alarm.exists():
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            os.replace(alarm, alarm.with_name(f"{alarm.name}.cleared-{stamp}"))
    return moved


def check_extends(
    *,
    anchor: Anchor | None,
    size: int,
    root: bytes,
    node: merkle.NodeSource,
    stored: Callable[[int, bytes], bool],
) -> None:
    """Refuse (LedgerIntegrityError) unless the tree (`size`, `root`, whose complete subtrees
    `node` reads from the stored tiles) extends `anchor`, and `stored(size, root)` says the
    anchored checkpoint is still in the database."""
    if anchor is None or anchor.size == 0:
        return
    detail = {"anchor_size": anchor.size, "tree_size": size}
    if size < anchor.size:
        raise LedgerIntegrityError(
            f"Log lebih pendek dari checkpoint terakhir yang ditandatangani / the stored log "
            f"holds {size} entries but this sequencer last signed a checkpoint of "
            f"{anchor.size}: entries were removed",
            reason="tree_shrank",
            detail=detail,
        )
    try:
        proof = merkle.consistency_proof(anchor.size, size, node)
        merkle.verify_consistency(anchor.size, size, anchor.root, root, proof)
    except (merkle.ProofError, LookupError) as exc:
        raise LedgerIntegrityError(
            f"Log tidak konsisten dengan checkpoint terakhir / the stored tree of size {size} "
            f"does not extend the checkpoint of size {anchor.size} this sequencer last signed "
            f"({exc}): entries below {anchor.size} were rewritten",
            reason="inconsistent",
            detail=detail,
        ) from exc
    if not stored(anchor.size, anchor.root):
        raise LedgerIntegrityError(
            f"Checkpoint terakhir hilang dari basis data / the checkpoint of size {anchor.size} "
            "this sequencer last signed is missing from the database: checkpoints were removed",
            reason="checkpoint_missing",
            detail=detail,
        )


# --- the alarm -------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntegrityFailure:
    reason: str  # tree_shrank | inconsistent | checkpoint_missing | anchor_unreadable
    message: str
    at: str  # ISO time, UTC
    detail: dict[str, Any] = field(default_factory=dict)


IntegrityHook = Callable[[IntegrityFailure], object]
_hooks: list[IntegrityHook] = []


def on_integrity_failure(hook: IntegrityHook) -> IntegrityHook:
    """Register `hook` to be told when the sequencer refuses to sign (apps call this in
    `ready()`; the monitoring app opens an alert). The ledger never imports its listeners."""
    if hook not in _hooks:
        _hooks.append(hook)
    return hook


def integrity_alarm() -> IntegrityFailure | None:
    """The last refusal not yet cleared by `tepat ledger reanchor` (for health pages)."""
    try:
        data = json.loads(alarm_path().read_text(encoding="utf-8"))
        return IntegrityFailure(**data)
    except (OSError, ValueError, TypeError):
        return None


def raise_alarm(exc: LedgerIntegrityError) -> IntegrityFailure:
    """Record a refusal everywhere a person will see it. Runs after the refused transaction
    rolled back, so the audit event is not lost with it."""
    from django.db import transaction

    from tepat.core.audit import audit_record

    failure = IntegrityFailure(
        reason=exc.reason,
        message=exc.message,
        at=datetime.now(UTC).isoformat(timespec="seconds"),
        detail=dict(exc.detail),
    )
    logger.error("ledger integrity failure (%s): %s", failure.reason, failure.message)
    try:
        with _locked():
            _write_atomic(alarm_path(), json.dumps(asdict(failure), sort_keys=True))
    except OSError:
        logger.exception("cannot write the ledger integrity alarm file")
    try:
        with transaction.atomic():
            audit_record(
                actor=None,
                action="ledger.integrity_failure",
                target_type="ledger",
                target_id=origin(),
                detail={"reason": failure.reason, "message": failure.message, **failure.detail},
            )
    except Exception:  # the alarm must not be hidden by a database that refuses writes
        logger.exception("cannot record the ledger integrity failure in the audit log")
    for hook in list(_hooks):
        try:
            hook(failure)
        except Exception:
            logger.exception("ledger integrity hook %r failed", hook)
    return failure
