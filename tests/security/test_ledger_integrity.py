"""Attacks on the transparency log by someone who can write the database, and on its verifiers.

Attacks tried:
- rewrite a logged entry, recompute every tile and the head, and let the sequencer sign the new
  tree (it refused: the new tree does not extend the last checkpoint it signed, which it keeps
  outside the database; an alarm is raised and the command exits non-zero);
- the same, then remove every checkpoint that would betray the rewrite (`verify` still fails:
  it compares the log with the sequencer's anchor file);
- cut the log back below its last signed size, or delete only the last signed checkpoint (the
  sequencer refuses to sign, `verify` fails);
- inject a second `payment.settled` for a payment that was already settled, a settlement after
  a failure, or a settlement whose stored kind/ref columns hide it (`verify` names the entry);
- corrupt the second hash of a level-1 tile (`verify` names entry 256, not 0);
- add a bad signature line from a known key (log or witness) to a valid signed note (the note
  is refused whole: checkpoint, receipt, witness cosignature);
- check a receipt in a browser that cannot check Ed25519 (the page says "not verified", never
  "valid"), or whose checkpoint carries a bad signature from the log key ("not valid"): in
  tests/browser/test_ledger_receipt.py, which drives a real chromium.
"""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tepat.core.errors import TepatError
from tepat.core.models import AuditEvent
from tepat.ledger import anchor, note, selectors
from tepat.ledger.anchor import LedgerIntegrityError
from tepat.ledger.entries import pseudonymise
from tepat.ledger.models import Checkpoint, LogEntry, PendingEntry, Tile
from tepat.ledger.receipts import receipt_verify
from tepat.ledger.services import (
    ledger_enqueue,
    ledger_enqueue_many,
    ledger_sequence,
    witness_cosignature_add,
)
from tepat.payments.ledger_kinds import PaymentFailed, PaymentSettled
from tests.ledger.conftest import *  # noqa: F403 - log_signer, witness_signer, logged
from tests.ledger.conftest import ORIGIN, payment, recompute_tiles_and_head

# --- helpers: what an insider with write access to the database does --------------------------


def _rewrite(index: int, **changes: object) -> None:
    entry = LogEntry.objects.get(index=index)
    body = json.loads(entry.body)
    body.update(changes)
    entry.body = json.dumps(body, sort_keys=True, separators=(",", ":"))
    entry.save()


def _rewritten_log(logged) -> None:
    """300 entries signed at 100, 200 and 300; then entry 250's amount rewritten everywhere."""
    logged(300, batch=100)
    _rewrite(250, amount=1)
    recompute_tiles_and_head()


def _more(n: int = 5, start: int = 1000) -> None:
    ledger_enqueue_many(
        items=[("payment.sent", payment(i), f"pay-{i:06d}") for i in range(start, start + n)]
    )


@pytest.fixture
def hooks(monkeypatch):
    told: list[anchor.IntegrityFailure] = []
    monkeypatch.setattr(anchor, "_hooks", [])
    anchor.on_integrity_failure(told.append)
    return told


# --- (a) the sequencer never signs a rewritten history ----------------------------------------


def test_the_sequencer_refuses_to_sign_a_tree_whose_signed_entries_were_rewritten(
    logged, hooks, caplog
):
    _rewritten_log(logged)
    _more()
    with pytest.raises(LedgerIntegrityError, match="does not extend"):
        ledger_sequence(max_batch=100)
    assert Checkpoint.objects.count() == 3  # nothing new signed
    assert PendingEntry.objects.count() == 5  # nothing sequenced
    assert LogEntry.objects.count() == 300
    # The alarm: a hook (monitoring), an audit event, an ERROR log line and a state file.
    assert [h.reason for h in hooks] == ["inconsistent"]
    assert AuditEvent.objects.filter(action="ledger.integrity_failure").exists()
    assert any(r.levelname == "ERROR" and "integrity" in r.getMessage() for r in caplog.records)
    alarm = anchor.integrity_alarm()
    assert alarm is not None
    assert alarm.reason == "inconsistent"


def test_a_refusal_opens_a_national_monitoring_alert(logged):
    from tepat.monitoring.models import Alert, Metric

    _rewritten_log(logged)
    _more()
    for _ in range(2):
        with pytest.raises(LedgerIntegrityError):
            ledger_sequence(max_batch=100)
    alert = Alert.objects.get(rule__metric=Metric.LEDGER_INTEGRITY)  # one alert, refreshed
    assert alert.region_code == ""  # national: only nation-wide roles see it
    assert alert.value == 2
    assert "inconsistent" in alert.note


def test_the_sequence_command_exits_non_zero_when_the_history_was_rewritten(logged):
    _rewritten_log(logged)
    _more()
    with pytest.raises(CommandError, match="REFUSED"):
        call_command("ledger", "sequence")
    assert Checkpoint.objects.count() == 3


def test_publishing_a_checkpoint_on_demand_is_refused_too(logged, hooks):
    _rewritten_log(logged)
    Checkpoint.objects.filter(size=300).delete()  # so that the head looks unsigned
    with pytest.raises(CommandError, match="REFUSED"):
        call_command("ledger", "checkpoint")
    assert hooks


def test_verify_fails_when_the_rewritten_entrys_checkpoints_were_removed_too(logged):
    _rewritten_log(logged)
    Checkpoint.objects.all().delete()
    report = selectors.log_verify()
    assert not report.ok
    assert any("anchor" in p and "rewritten" in p for p in report.problems)
    assert any("missing from the database" in p for p in report.problems)
    with pytest.raises(CommandError, match="FAILED"):
        call_command("ledger", "verify")


def test_the_sequencer_refuses_a_log_cut_back_below_its_last_signed_size(logged, hooks):
    logged(300, batch=100)
    LogEntry.objects.filter(index__gte=200).delete()
    Checkpoint.objects.filter(size__gt=200).delete()
    recompute_tiles_and_head()
    _more(10)
    with pytest.raises(LedgerIntegrityError, match="removed"):
        ledger_sequence(max_batch=100)
    assert [h.reason for h in hooks] == ["tree_shrank"]
    assert not Checkpoint.objects.filter(size=210).exists()
    report = selectors.log_verify()
    assert not report.ok
    assert report.first_bad_index == 200


def test_the_sequencer_refuses_when_its_last_signed_checkpoint_was_deleted(logged, hooks):
    logged(300, batch=100)
    Checkpoint.objects.filter(size=300).delete()
    _more()
    with pytest.raises(LedgerIntegrityError, match="missing from the database"):
        ledger_sequence(max_batch=100)
    assert [h.reason for h in hooks] == ["checkpoint_missing"]
    report = selectors.log_verify()
    assert not report.ok
    assert any("missing from the database" in p for p in report.problems)


def test_an_honest_log_keeps_growing_and_verifying_against_its_anchor(logged):
    logged(300, batch=100)
    _more(20)
    assert ledger_sequence(max_batch=100).size == 320
    assert anchor.anchor_read() == anchor.Anchor(
        320, bytes(Checkpoint.objects.get(size=320).root), Checkpoint.objects.get(size=320).note
    )
    assert anchor.anchor_path().stat().st_mode & 0o777 == 0o600
    assert selectors.log_verify().ok


# --- (b) one terminal entry per payment --------------------------------------------------------


def _settled(pay: str, amount: int = 750_000) -> PaymentSettled:
    base = payment(1)
    return PaymentSettled(
        programme=base.programme, cycle=base.cycle, time=base.time, payment=pay,
        beneficiary=pseudonymise("3273010101900001"), amount=amount, region=base.region,
    )  # fmt: skip


def test_verify_flags_a_second_payment_settled_for_one_payment(logged):
    logged(10)
    ledger_enqueue(kind="payment.settled", body=_settled("pay-000001"), ref="pay-000001")
    ledger_sequence()
    assert selectors.log_verify().ok
    ledger_enqueue(kind="payment.settled", body=_settled("pay-000001", 1), ref="pay-000001")
    ledger_sequence()
    report = selectors.log_verify()
    assert not report.ok
    assert report.first_bad_index == 11
    assert "second terminal entry (payment.settled) for payment pay-000001" in report.problems[0]
    with pytest.raises(CommandError, match="first bad entry: 11"):
        call_command("ledger", "verify")


def test_verify_flags_a_settlement_after_a_failure_of_the_same_payment(logged):
    logged(3)
    base = payment(2)
    failed = PaymentFailed(
        programme=base.programme, cycle=base.cycle, time=base.time, payment="pay-000002",
        beneficiary=base.beneficiary, amount=base.amount, region=base.region, reason="rjct",
    )  # fmt: skip
    ledger_enqueue(kind="payment.failed", body=failed, ref="pay-000002")
    ledger_enqueue(kind="payment.settled", body=_settled("pay-000002"), ref="pay-000002")
    ledger_sequence()
    report = selectors.log_verify()
    assert report.first_bad_index == 4
    assert "already recorded payment.failed" in report.problems[0]


def test_a_settlement_injected_under_another_ref_is_still_found(logged):
    logged(3)
    ledger_enqueue(kind="payment.settled", body=_settled("pay-000001"))
    body = json.loads(LogEntry.objects.get(index=0).body)  # any valid body shape will do
    body.update(kind="payment.settled", payment="pay-000001")
    body.pop("channel")
    # Straight into the queue, with a ref that hides it from a lookup by payment.
    PendingEntry.objects.create(
        kind="payment.settled", ref="innocent", body=json.dumps(body, sort_keys=True)
    )
    ledger_sequence()
    report = selectors.log_verify()
    assert not report.ok
    assert report.first_bad_index == 4
    assert "differ from its body" in report.problems[0]


def test_a_terminal_entry_queued_under_another_payments_ref_is_refused(db, log_signer):
    from tepat.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed, match="ref"):
        ledger_enqueue(kind="payment.settled", body=_settled("pay-000001"), ref="pay-000002")


# --- (c) the first bad entry under a bad upper tile --------------------------------------------


def test_verify_names_the_first_entry_under_a_bad_hash_of_a_level_1_tile(logged):
    logged(600, batch=300)
    tile = Tile.objects.get(level=1, index=0)  # hashes of entries [0, 256) and [256, 512)
    blob = bytes(tile.hashes)
    tile.hashes = blob[:32] + b"\0" * 32
    tile.save()
    report = selectors.log_verify()
    assert not report.ok
    assert report.first_bad_index == 256
    assert "tile 1/0" in report.problems[0]


# --- (d) one bad signature from a known key spoils the whole note -------------------------------


def _with_bad_signature(text: str, signer: note.Signer) -> str:
    """`text` plus a signature line from `signer` made over a different checkpoint."""
    other = note.Checkpoint(ORIGIN, 999, b"\5" * 32).text()
    parsed = note.parse_note(text)
    bad = note.sign_note(other, signer)
    return note.Note(parsed.text, (*parsed.signatures, bad)).render()


def test_a_note_with_one_bad_signature_from_a_known_key_is_refused_whole():
    good, second = note.Signer.generate(ORIGIN), note.Signer.generate("second.example/log")
    text = note.sign_checkpoint(note.Checkpoint(ORIGIN, 5, b"\1" * 32), [good])
    forged = _with_bad_signature(text, second)
    assert note.open_checkpoint(forged, [good.verifier]).size == 5  # unknown key: ignored
    with pytest.raises(note.NoteError, match="does not verify"):
        note.open_checkpoint(forged, [good.verifier, second.verifier])
    # The same key twice, once valid and once not.
    with pytest.raises(note.NoteError, match="does not verify"):
        note.open_checkpoint(_with_bad_signature(text, good), [good.verifier])


def test_a_receipt_whose_checkpoint_carries_a_bad_log_signature_is_not_valid(logged, log_signer):
    logged(10)
    data = selectors.receipt(index=3)
    assert receipt_verify(data, trusted_keys=[log_signer.verifier]).ok
    data["checkpoint"] = _with_bad_signature(data["checkpoint"], log_signer)
    result = receipt_verify(data, trusted_keys=[log_signer.verifier])
    assert not result.ok
    assert "does not verify" in result.reason


def test_a_cosigned_note_with_one_bad_registered_witness_signature_is_refused(
    logged, log_signer, witness_signer, settings
):
    logged(10)
    other = note.Signer.generate("auditor.example/witness", alg=note.ALG_COSIGNATURE_V1)
    settings.LEDGER_WITNESS_KEYS = [witness_signer.verifier.vkey(), other.verifier.vkey()]
    cp = selectors.latest_checkpoint()
    assert cp is not None
    good = note.sign_note(note.parse_note(cp.note).text, witness_signer)
    bad = note.sign_note(note.Checkpoint(ORIGIN, 999, b"\5" * 32).text(), other)
    with pytest.raises(TepatError, match="does not verify"):
        witness_cosignature_add(note=note.add_signatures(cp.note, [good, bad]))
    assert "auditor.example" not in Checkpoint.objects.get(pk=cp.pk).note


# --- (e) the browser never says "valid" when it could not check the signature -------------------
# Driven in a real chromium, beside the other receipt-page tests (one Playwright per session):
# tests/browser/test_ledger_receipt.py::
#   test_a_browser_that_cannot_check_ed25519_shows_the_receipt_as_not_verified
#   test_a_browser_refuses_a_checkpoint_with_one_bad_signature_from_the_log_key
