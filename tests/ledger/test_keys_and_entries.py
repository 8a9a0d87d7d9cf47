"""Key rotation keeps old checkpoints and receipts verifiable; entry schemas are canonical."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tepat.core.crypto import pseudonym
from tepat.core.errors import ValidationFailed
from tepat.ledger import entries, note, selectors
from tepat.ledger.receipts import receipt_verify
from tepat.ledger.services import checkpoint_publish
from tepat.programs import ledger_kinds

WHEN = datetime(2026, 11, 28, 15, 30, tzinfo=UTC)


def test_rotation_signs_with_both_keys_then_old_checkpoints_still_verify(logged, settings):
    old = note.parse_signer(settings.LEDGER_SIGNING_KEY)
    logged(10)
    old_receipt = selectors.receipt(index=3)
    new = note.Signer.generate(old.name)
    # Transition: the new key signs, the old one co-signs.
    settings.LEDGER_SIGNING_KEY = new.skey()
    settings.LEDGER_SIGNING_KEYS_EXTRA = [old.skey()]
    logged(5)
    both = note.parse_note(selectors.latest_checkpoint().note)
    assert note.verified_by(both, [old.verifier, new.verifier]) == [old.verifier, new.verifier]
    # After: only the new key signs; the old verifier stays trusted for history.
    settings.LEDGER_SIGNING_KEYS_EXTRA = []
    settings.LEDGER_VERIFIER_KEYS_OLD = [old.verifier.vkey()]
    logged(1)
    assert selectors.log_verify().ok
    assert receipt_verify(old_receipt, trusted_keys=[old.verifier]).ok
    settings.LEDGER_VERIFIER_KEYS_OLD = []
    assert not selectors.log_verify().ok  # history signed only by an untrusted key


def test_an_on_demand_checkpoint_matches_the_sequenced_tree(logged, log_signer):
    logged(3)
    cp = checkpoint_publish()
    assert note.open_checkpoint(cp.note, [log_signer.verifier]).root == selectors.root_at(3)


def test_the_beneficiary_pseudonym_is_keyed_and_purpose_bound(db):
    value = "3273010101900001"
    assert entries.pseudonymise(value) == pseudonym(value, purpose="ledger.beneficiary")
    assert entries.pseudonymise(value) != pseudonym(value, purpose="open-data")
    assert value not in entries.pseudonymise(value)


@pytest.mark.parametrize(
    ("entry", "want"),
    [
        (
            ledger_kinds.CycleApproved(
                programme="PKH", cycle="2026-T4", time=WHEN, beneficiaries=3, total_amount=9
            ),
            '{"beneficiaries":3,"cycle":"2026-T4","kind":"cycle.approved","programme":"PKH",'
            '"time":"2026-11-28T15:30:00Z","total_amount":9,"v":1}',
        ),
        (
            ledger_kinds.CycleClosed(
                programme="PKH", cycle="2026-T4", time=WHEN, paid=2, paid_amount=5, failed=1
            ),
            '{"cycle":"2026-T4","failed":1,"kind":"cycle.closed","paid":2,"paid_amount":5,'
            '"programme":"PKH","time":"2026-11-28T15:30:00Z","v":1}',
        ),
    ],
)
def test_entries_have_sorted_compact_canonical_json(entry, want):
    assert entries.entry_json(entry) == want


def test_optional_fields_are_left_out_and_unicode_stays_utf8():
    entry = ledger_kinds.EntitlementListPublished(
        programme="PKH", cycle="T4", time=WHEN, beneficiaries=1, total_amount=1,
        list_digest="a" * 64,
    )  # fmt: skip
    assert "region" not in json.loads(entries.entry_json(entry))
    assert entries.canonical_json({"b": "é", "a": 1}) == '{"a":1,"b":"é"}'


@pytest.mark.parametrize(
    "body",
    [
        {"region": "Bandung"},
        {"amount": 1.5},
        {"beneficiary": "3273010101900001"},  # a raw NIK is not a pseudonym
        {"extra": "field"},
    ],
)
def test_entries_refuse_personal_data_and_malformed_values(body, make_payment):
    base = make_payment(1).model_dump()
    with pytest.raises(ValidationFailed):
        entries.entry_validate(kind="payment.sent", body={**base, **body})


def test_every_event_kind_from_the_issue_validates(make_payment):
    ids = {"payment": "pay-1", "beneficiary": "a" * 32, "amount": 10, "region": "32.73"}
    common = {"programme": "PKH", "cycle": "T4", "time": WHEN}
    bodies = {
        "cycle.approved": {"beneficiaries": 1, "total_amount": 10},
        "entitlements.published": {"beneficiaries": 1, "total_amount": 10, "list_digest": "0" * 64},
        "payment.sent": {**ids, "channel": "bank"},
        "payment.settled": ids,
        "payment.failed": {**ids, "reason": "account_closed"},
        "handover.recorded": {**ids, "method": "otp", "point": "ewarung-7"},
        "cycle.closed": {"paid": 1, "paid_amount": 10, "failed": 0},
    }
    for kind, body in bodies.items():
        entry = entries.entry_validate(kind=kind, body={**common, **body})
        assert json.loads(entries.entry_json(entry))["kind"] == kind
