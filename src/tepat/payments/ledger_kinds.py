"""What the life of a payment writes to the transparency log, and why its entries say so little.

Payment entries, version 1 (written until issue 17): a stable keyed pseudonym of the beneficiary
(`tepat.ledger.entries.pseudonymise`), the exact amount and the village. Together they linked a
person's payments across cycles, revealed PKH components through the amount and counted villages
that the open data hides.

Payment entries, version 2 (`PaymentSentV2`... written now, by `services.payment_entry`):
- `beneficiary` is a per-payment pseudonym (`tepat.ledger.entries.payment_pseudonym`): an HMAC
  keyed with a random salt stored on the payment row only, over the payment id, the beneficiary
  and the exact amount. Two payments of one person share nothing, even for someone holding the
  whole log and every key of the deployment; the payments table (which holds the salt)
  recomputes it, so the cross-check still catches a payment whose beneficiary or amount changed
  after it was logged; and blanking the salt (crypto-shredding) leaves a value that opens to
  nothing.
- no region: where payments go is published once per cycle and area by `payments.issued`, at
  areas chosen by `tepat.core.disclosure.published_areas` (the open data's suppression rule).
- `amount` only where it discloses nothing (the programme's base amount, the same for everyone);
  otherwise a band `amount_min`..`amount_max` (`AMOUNT_BAND` wide, `public_amount`), because a
  PKH amount is a sum of components (pregnancy, young children, school, elderly, severe
  disability).

How the money still adds up, from the public log alone: `cycle.approved`
(tepat.programs.ledger_kinds) carries the exact beneficiary count and total; the
`payments.issued` entries of the cycle carry exact counts and totals per area, which sum to the
payments issued; every payment entry carries an exact amount or a band, and the exact total lies
between the sums of their lower and upper bounds (`tepat.ledger.totals` does these checks on
entries read from the tiles). The exact amount of each payment is in the payments table (checked
against the commitment by `ledger verify`, through `selectors.ledger_cross_check`) and in the
citizen's receipt, which opens the commitment for its own payment.

`handover.recorded` is declared here although verification records the handover: it settles a
cash or e-Warung payment (`services.payments_mark_handed_over`), its body is built by
`services.payment_entry` and the cross-check reads it like a settlement.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from tepat.ledger.entries import Code, Entry, Pseudonym, Region, Rupiah, register_kind


class PaymentSent(Entry):
    kind: Literal["payment.sent"] = "payment.sent"
    payment: Code  # the payment's random public id
    beneficiary: Pseudonym
    amount: Rupiah
    region: Region
    channel: Code


class PaymentSettled(Entry):
    kind: Literal["payment.settled"] = "payment.settled"
    payment: Code
    beneficiary: Pseudonym
    amount: Rupiah
    region: Region


class PaymentFailed(Entry):
    kind: Literal["payment.failed"] = "payment.failed"
    payment: Code
    beneficiary: Pseudonym
    amount: Rupiah
    region: Region
    reason: Code


class HandoverRecorded(Entry):
    kind: Literal["handover.recorded"] = "handover.recorded"
    payment: Code
    beneficiary: Pseudonym
    amount: Rupiah
    region: Region
    method: Code  # card, otp, face, offline voucher...
    point: Code | None = None  # e-Warung / post office public id


class PaymentV2(Entry):
    """Version 2 of the payment kinds (see the module's docstring): a per-payment pseudonym,
    no region, and the exact amount only where it is the programme's base amount."""

    v: Literal[2] = 2  # type: ignore[assignment]
    payment: Code
    beneficiary: Pseudonym
    amount: Rupiah | None = None
    amount_min: Rupiah | None = None
    amount_max: Rupiah | None = None

    @model_validator(mode="after")
    def _amount_or_band(self) -> PaymentV2:
        band = (self.amount_min, self.amount_max)
        if self.amount is not None:
            if band != (None, None):
                raise ValueError("an exact amount or a band, not both")
        elif None in band or band[0] > band[1]:  # type: ignore[operator]
            raise ValueError("an exact amount, or a band with amount_min <= amount_max")
        return self


class PaymentSentV2(PaymentV2):
    kind: Literal["payment.sent"] = "payment.sent"
    channel: Code


class PaymentSettledV2(PaymentV2):
    kind: Literal["payment.settled"] = "payment.settled"


class PaymentFailedV2(PaymentV2):
    kind: Literal["payment.failed"] = "payment.failed"
    reason: Code


class HandoverRecordedV2(PaymentV2):
    kind: Literal["handover.recorded"] = "handover.recorded"
    method: Code  # card, otp, face...
    point: Code | None = None


class PaymentsIssued(Entry):
    """How many payments of a cycle go to one published area, and their exact total: written
    once per area when the cycle's first payments are issued, counting every approved
    entitlement (one held back by a restriction is paid later). `area` is a region chosen by
    `tepat.core.disclosure.published_areas` (left out: the rest of the nation), so each count
    is 0 or at least the open data's suppression threshold."""

    kind: Literal["payments.issued"] = "payments.issued"
    area: Region | None = None
    payments: Annotated[int, Field(ge=1)]
    total_amount: Rupiah


def register() -> None:
    """Called from PaymentsConfig.ready(). Kinds are listed in the privacy register
    (tepat.ledger.privacy) in the order they are first registered: keep this order."""
    register_kind(PaymentSent, PaymentSentV2)
    # Kinds that end a payment's life: a payment has at most one of them in the log (a second
    # `payment.settled`, or a settlement after a failure, is money or history that should not
    # be). Their entries carry the payment's public id in `payment` and in the stored `ref`.
    register_kind(
        PaymentSettled,
        PaymentSettledV2,
        PaymentFailed,
        PaymentFailedV2,
        HandoverRecorded,
        HandoverRecordedV2,
        terminal="payment",
    )
    register_kind(PaymentsIssued)
