"""A citizen checks a payment receipt on the ledger page; the browser verifies it with WebCrypto."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tepat.ledger import selectors
from tepat.ledger.entries import pseudonymise
from tepat.ledger.note import Signer
from tepat.ledger.services import ledger_enqueue_many, ledger_sequence
from tepat.payments.ledger_kinds import PaymentSent


@pytest.fixture
def receipt(settings):
    signer = Signer.generate("test.tepat/ledger")
    settings.LEDGER_ORIGIN = "test.tepat/ledger"
    settings.LEDGER_SIGNING_KEY = signer.skey()
    items = [
        (
            "payment.sent",
            PaymentSent(
                programme="PKH",
                cycle="2026-T4",
                time=datetime(2026, 11, 28, 8, 0, tzinfo=UTC),
                payment=f"pay-{i}",
                beneficiary=pseudonymise(f"32730101019000{i:02d}"),
                amount=750_000,
                region="32.73.01.1001",
                channel="bank",
            ),
            f"pay-{i}",
        )
        for i in range(13)
    ]
    ledger_enqueue_many(items=items)
    ledger_sequence(max_batch=100)
    return selectors.receipt(index=6)


def _check(page, axe, text: str) -> str:
    """Checks `text` on the ledger page; axe-core runs on the empty form and on the result."""
    page.goto("/ledger/verify/")
    axe(page, label="receipt check")
    page.fill("#receipt-text", text)
    page.click("#ledger-receipt-form button[type=submit]")
    page.wait_for_selector("#receipt-result .usa-alert")
    axe(page, label="receipt check: result")
    return page.inner_text("#receipt-result")


def test_a_genuine_receipt_is_shown_as_valid_with_its_entry(page, axe, receipt):
    result = _check(page, axe, json.dumps(receipt))
    assert "Sah / Valid" in result
    assert page.is_visible("#receipt-entry")
    assert "pay-6" in page.inner_text("#receipt-entry")


def test_a_receipt_with_a_changed_amount_is_shown_as_not_valid(page, axe, receipt):
    receipt["entry"] = receipt["entry"].replace("750000", "950000")
    result = _check(page, axe, json.dumps(receipt))
    assert "Tidak sah / Not valid" in result
    assert "Bukti inklusi" in result


def test_text_that_is_not_a_receipt_gets_a_plain_reason(page, axe, receipt):
    result = _check(page, axe, "not json")
    assert "Tidak sah" in result


def test_a_receipt_whose_checkpoint_another_key_signed_is_not_valid(page, axe, receipt):
    from tepat.ledger import note

    impostor = Signer.generate("test.tepat/ledger")  # same name, different key
    body = note.parse_checkpoint(note.parse_note(receipt["checkpoint"]).text)
    receipt["checkpoint"] = note.sign_checkpoint(body, [impostor])
    result = _check(page, axe, json.dumps(receipt))
    if "Tidak terverifikasi" in result:
        pytest.skip("this chromium has no Ed25519 in WebCrypto")
    assert "Tidak sah / Not valid" in result
    assert "kunci log yang dipercaya" in result


# Browsers without Ed25519 in WebCrypto (or whose check throws) must never show "Valid".
NO_ED25519 = """
(() => {
  const subtle = crypto.subtle;
  const importKey = subtle.importKey.bind(subtle);
  subtle.importKey = function (format, key, algorithm, ...rest) {
    const name = typeof algorithm === "string" ? algorithm : algorithm && algorithm.name;
    if (String(name).toLowerCase() === "ed25519") {
      return Promise.reject(new DOMException("Unrecognized name.", "NotSupportedError"));
    }
    return importKey(format, key, algorithm, ...rest);
  };
})();
"""

VERIFY_THROWS = """
(() => {
  const subtle = crypto.subtle;
  const verify = subtle.verify.bind(subtle);
  subtle.verify = function (algorithm, ...rest) {
    const name = typeof algorithm === "string" ? algorithm : algorithm && algorithm.name;
    if (String(name).toLowerCase() === "ed25519") {
      return Promise.reject(new DOMException("Operation failed", "OperationError"));
    }
    return verify(algorithm, ...rest);
  };
})();
"""


@pytest.mark.parametrize("script", [NO_ED25519, VERIFY_THROWS], ids=["no-import", "verify-throws"])
def test_a_browser_that_cannot_check_ed25519_shows_the_receipt_as_not_verified(
    page, axe, receipt, script
):
    page.add_init_script(script)
    result = _check(page, axe, json.dumps(receipt))
    assert "Tidak terverifikasi / Not verified" in result
    assert "Valid" not in result
    assert "Sah" not in result
    assert not page.is_visible("#receipt-entry")


def test_a_browser_refuses_a_checkpoint_with_one_bad_signature_from_the_log_key(
    page, axe, receipt, settings
):
    from tepat.ledger import note

    assert "Sah / Valid" in _check(page, axe, json.dumps(receipt))
    # A second signature line from the log's own key, made over another checkpoint.
    signer = note.parse_signer(settings.LEDGER_SIGNING_KEY)
    parsed = note.parse_note(receipt["checkpoint"])
    bad = note.sign_note(note.Checkpoint(signer.name, 999, b"\5" * 32).text(), signer)
    receipt["checkpoint"] = note.Note(parsed.text, (*parsed.signatures, bad)).render()
    result = _check(page, axe, json.dumps(receipt))
    assert "Tidak sah / Not valid" in result
    assert "Tanda tangan checkpoint tidak sah" in result


# --- issue 17: a version-2 entry (per-payment pseudonym, amount band) and its opening ----------

SALT = "5a" * 16


@pytest.fixture
def opened_receipt(settings):
    from tepat.ledger.entries import payment_pseudonym
    from tepat.payments.ledger_kinds import PaymentSettledV2

    signer = Signer.generate("test.tepat/ledger")
    settings.LEDGER_ORIGIN = "test.tepat/ledger"
    settings.LEDGER_SIGNING_KEY = signer.skey()
    items = [
        (
            "payment.settled",
            PaymentSettledV2(
                programme="PKH",
                cycle="2026-T4",
                time=datetime(2026, 11, 28, 8, 0, tzinfo=UTC),
                payment=f"pay-{i}",
                beneficiary=payment_pseudonym(
                    salt=SALT, payment=f"pay-{i}", beneficiary=f"person-{i}", amount=1_125_000
                ),
                amount_min=1_000_000,
                amount_max=1_999_999,
            ),
            f"pay-{i}",
        )
        for i in range(5)
    ]
    ledger_enqueue_many(items=items)
    ledger_sequence(max_batch=100)
    receipt = selectors.receipt(index=3)
    receipt["opening"] = {"salt": SALT, "beneficiary": "person-3", "amount": 1_125_000}
    return receipt


def test_a_citizens_opened_receipt_shows_the_exact_amount_behind_the_band(
    page, axe, opened_receipt
):
    result = _check(page, axe, json.dumps(opened_receipt))
    if "Tidak terverifikasi" in result:
        pytest.skip("this chromium has no Ed25519 in WebCrypto")
    assert "Sah / Valid" in result
    assert "Rp1.125.000" in result
    entry = page.inner_text("#receipt-entry")
    assert "Rp1.000.000" in entry  # the public entry: a band only, as people read rupiah
    assert "Nominal paling kecil (amount_min)" in entry  # each signed field in words, key kept


@pytest.mark.parametrize(
    "change",
    [{"amount": 1_125_001}, {"beneficiary": "person-4"}, {"amount": 2_500_000}],
    ids=["other-amount", "other-person", "outside-the-band"],
)
def test_an_opening_that_does_not_recompute_the_entry_is_not_valid(
    page, axe, opened_receipt, change
):
    opened_receipt["opening"] = {**opened_receipt["opening"], **change}
    result = _check(page, axe, json.dumps(opened_receipt))
    if "Tidak terverifikasi" in result:
        pytest.skip("this chromium has no Ed25519 in WebCrypto")
    assert "Tidak sah / Not valid" in result
    assert "Pembuka tanda terima tidak cocok" in result
