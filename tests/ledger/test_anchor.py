"""The sequencer's anchor (the last checkpoint it signed, kept outside the database): how it is
written, started on a fresh host, and deliberately replaced after a database restore."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from tests.ledger.conftest import payment, recompute_tiles_and_head

from tepat.core.models import AuditEvent
from tepat.ledger import anchor, selectors
from tepat.ledger.anchor import LedgerIntegrityError
from tepat.ledger.models import Checkpoint, LogEntry
from tepat.ledger.services import ledger_enqueue_many, ledger_sequence


def _more(n: int, start: int = 1000) -> None:
    ledger_enqueue_many(
        items=[("payment.sent", payment(i), f"pay-{i:06d}") for i in range(start, start + n)]
    )


def _restore_backup_of_size(size: int) -> None:
    """The database as a backup taken when the log had `size` entries left it."""
    LogEntry.objects.filter(index__gte=size).delete()
    Checkpoint.objects.filter(size__gt=size).delete()
    recompute_tiles_and_head()


def test_the_anchor_is_the_last_signed_note_in_a_private_file(logged):
    logged(30, batch=10)
    last = Checkpoint.objects.get(size=30)
    path = anchor.anchor_path()
    assert path.read_text(encoding="utf-8") == last.note
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700


def test_the_anchor_never_goes_back_to_a_smaller_checkpoint(logged):
    logged(30, batch=10)
    older = Checkpoint.objects.get(size=20)
    anchor.anchor_record(older.note)  # a slower concurrent sequencer finishing late
    current = anchor.anchor_read()
    assert current is not None
    assert current.size == 30


def test_a_fresh_state_folder_starts_from_the_latest_stored_checkpoint(logged):
    logged(30, batch=10)
    anchor.anchor_path().unlink()
    _more(5)
    assert ledger_sequence().size == 35
    current = anchor.anchor_read()
    assert current is not None
    assert current.size == 35


def test_a_fresh_state_folder_still_refuses_a_tree_that_breaks_the_stored_checkpoint(logged):
    logged(30, batch=10)
    anchor.anchor_path().unlink()
    entry = LogEntry.objects.get(index=25)
    entry.body = entry.body.replace("750000", "1")
    entry.save()
    recompute_tiles_and_head()
    _more(5)
    with pytest.raises(LedgerIntegrityError, match="does not extend"):
        ledger_sequence()


def test_an_anchor_file_that_the_log_key_did_not_sign_is_refused(logged):
    logged(10)
    anchor.anchor_path().write_text("not a checkpoint\n", encoding="utf-8")
    _more(5)
    with pytest.raises(LedgerIntegrityError, match="not a checkpoint signed"):
        ledger_sequence()
    report = selectors.log_verify()
    assert not report.ok


def test_verify_warns_when_there_is_no_anchor_yet(logged):
    logged(10)
    anchor.anchor_path().unlink()
    report = selectors.log_verify()
    assert report.ok
    assert any("no ledger anchor" in w for w in report.warnings)


def test_after_a_restore_reanchor_accepts_the_older_log_and_sequencing_resumes(logged, capsys):
    logged(300, batch=100)
    _restore_backup_of_size(200)
    _more(5)
    with pytest.raises(LedgerIntegrityError):
        ledger_sequence()
    assert anchor.integrity_alarm() is not None
    with pytest.raises(CommandError, match="--yes"):
        call_command("ledger", "reanchor", "--reason", "restored the 1 Dec backup")
    call_command("ledger", "reanchor", "--reason", "restored the 1 Dec backup", "--yes")
    assert "size 200" in capsys.readouterr().out
    assert anchor.integrity_alarm() is None
    assert list(anchor.anchor_path().parent.glob("last-checkpoint.replaced-*"))
    assert AuditEvent.objects.filter(action="ledger.reanchor").exists()
    assert ledger_sequence().size == 205
    assert selectors.log_verify().ok


def test_reanchor_refuses_a_log_that_does_not_verify_on_its_own(logged):
    logged(300, batch=100)
    entry = LogEntry.objects.get(index=250)
    entry.body = entry.body.replace("750000", "1")
    entry.save()
    with pytest.raises(CommandError, match="does not verify"):
        call_command("ledger", "reanchor", "--reason", "make the alarm go away", "--yes")
    current = anchor.anchor_read()
    assert current is not None
    assert current.size == 300
