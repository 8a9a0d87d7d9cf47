"""Offline verification of a payment receipt (entry + inclusion proof + signed checkpoint).

The same steps run in the browser (static/ledger/verify-receipt.js) and in
``tepat ledger verify-receipt``; no database and no network are needed.

A receipt the citizen portal hands to a citizen for their own version-2 payment entry also
carries its `opening`: the payment's salt, the beneficiary and the exact amount, from which the
entry's per-payment pseudonym is recomputed. The public log shows a band; the opened receipt
proves to its holder the exact amount that the signed log committed to. Receipts from the public
API carry no opening.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from tepat.ledger import merkle
from tepat.ledger.entries import payment_pseudonym
from tepat.ledger.note import NoteError, Verifier, open_checkpoint

RECEIPT_FORMAT = "tepat-ledger-receipt/v1"


@dataclass(frozen=True)
class ReceiptResult:
    ok: bool
    reason: str
    entry: dict[str, Any] | None = None
    amount: int | None = None  # the exact amount, when an opening was checked


def opening_check(entry: dict[str, Any] | None, opening: Any) -> tuple[bool, int | None]:
    """Whether `opening` (salt, beneficiary, amount) recomputes the entry's pseudonym, and the
    exact amount it opens to."""
    if not isinstance(entry, dict) or not isinstance(opening, dict) or entry.get("v") != 2:
        return False, None
    try:
        amount = int(opening["amount"])
        expected = payment_pseudonym(
            salt=str(opening["salt"]), payment=str(entry.get("payment", "")),
            beneficiary=str(opening["beneficiary"]), amount=amount,
        )  # fmt: skip
    except (KeyError, TypeError, ValueError):
        return False, None
    if expected != entry.get("beneficiary"):
        return False, None
    low, high = (
        (entry["amount"], entry["amount"])
        if "amount" in entry
        else (entry.get("amount_min"), entry.get("amount_max"))
    )
    if not isinstance(low, int) or not isinstance(high, int) or not low <= amount <= high:
        return False, None
    return True, amount


def receipt_verify(
    receipt: dict[str, Any],
    *,
    trusted_keys: list[Verifier],
    checkpoint_note: str | None = None,
    consistency: list[bytes] | None = None,
) -> ReceiptResult:
    """Check a receipt against trusted log keys, optionally against a separately obtained
    checkpoint (for example a newer one, or one cosigned by a witness)."""
    try:
        if receipt.get("format") != RECEIPT_FORMAT:
            return ReceiptResult(False, "not a Tepat ledger receipt (format)")
        index = int(receipt["index"])
        size = int(receipt["tree_size"])
        entry_text = str(receipt["entry"])
        proof = [base64.b64decode(p, validate=True) for p in receipt["proof"]]
        own = open_checkpoint(str(receipt["checkpoint"]), trusted_keys)
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        return ReceiptResult(False, f"receipt is malformed or its checkpoint is not trusted: {exc}")
    if own.size != size:
        return ReceiptResult(False, "receipt tree size differs from its checkpoint")
    leaf = merkle.leaf_hash(entry_text.encode("utf-8"))
    try:
        merkle.verify_inclusion(index, size, leaf, proof, own.root)
    except merkle.ProofError as exc:
        return ReceiptResult(False, f"entry {index} is not in the checkpointed log: {exc}")
    if checkpoint_note is not None:
        try:
            other = open_checkpoint(checkpoint_note, trusted_keys, origin=own.origin)
        except NoteError as exc:
            return ReceiptResult(False, f"the given checkpoint is not trusted: {exc}")
        if other.size == own.size and other.root != own.root:
            return ReceiptResult(False, "two signed checkpoints of the same size differ (fork)")
        if other.size < own.size:
            return ReceiptResult(False, "the given checkpoint is older than the receipt")
        if other.size > own.size:
            try:
                merkle.verify_consistency(
                    own.size, other.size, own.root, other.root, consistency or []
                )
            except merkle.ProofError as exc:
                return ReceiptResult(
                    False, f"the given checkpoint does not extend the receipt's: {exc}"
                )
    try:
        entry = json.loads(entry_text)
    except json.JSONDecodeError:
        entry = None
    entry = entry if isinstance(entry, dict) else None
    if receipt.get("opening") is not None:
        opened, amount = opening_check(entry, receipt["opening"])
        if not opened:
            return ReceiptResult(False, "the receipt's opening does not match its entry", entry)
        return ReceiptResult(True, "valid", entry, amount)
    return ReceiptResult(True, "valid", entry)
