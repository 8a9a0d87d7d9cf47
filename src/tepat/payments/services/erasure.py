"""Erasure of a payee (UU 27/2022 Art. 8), one of registry.rights' erasure steps."""

from __future__ import annotations

from typing import Any

from tepat.payments.models import Payment, SmsMessage


def payments_forget_payee(*, person_ref: str, **_: Any) -> int:
    """Erasure (UU 27/2022 Art. 8, through registry.rights, once the financial-records
    retention has passed): the payee's account, masked account and name go from the person's
    payments, and the texts sent about them from the SMS outbox. Amounts, states and dates
    stay: the ledger and reconciliation refer to them, and they identify no one. The ledger
    salt goes too: a payment entry's pseudonym then opens to nobody (the cross-check skips a
    blank salt), so the log keeps verifying but no longer links to the person."""
    payments = Payment.objects.filter(beneficiary_ref=person_ref)
    SmsMessage.objects.filter(payment__in=payments).update(body="")
    return payments.update(payee_fa_enc="", payee_fa_masked="", payee_name="", ledger_salt="")
