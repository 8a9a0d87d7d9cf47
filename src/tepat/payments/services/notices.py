"""SMS notices about payments: written to the outbox (`SmsMessage`) in the transaction that
moves the payment, and delivered later by the worker through the messaging gateway."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tepat.core.money import format_rupiah
from tepat.payments.models import Payment, SmsMessage
from tepat.payments.services.outbox import Claimed


def _sms(rows: list[tuple[Claimed | Payment, str, str]], cycle_names: Mapping[int, str]) -> None:
    msgs = []
    for p, outcome, reason in rows:
        key = p.key if isinstance(p, Claimed) else p.payment_key
        amount = format_rupiah(p.amount)
        if outcome == "paid":
            body = (
                f"Bansos {amount} telah disalurkan. Cek di cekbansos. Info: kantor Dinsos setempat."
            )
        elif outcome == "failed":
            body = f"Penyaluran bansos {amount} gagal ({reason}). Hubungi pendamping atau kantor Dinsos."
        else:
            body = f"Bansos {amount} sedang diproses."
        msgs.append(
            SmsMessage(
                event_key=f"{key}:{outcome}", payment_id=p.id, template=outcome, body=body[:320]
            )
        )
    for i in range(0, len(msgs), 5000):
        SmsMessage.objects.bulk_create(msgs[i : i + 5000], ignore_conflicts=True)


def sms_deliver(*, gateway: Any, batch: int = 500) -> int:
    """Send pending SMS through the gateway; a message is marked sent only after the gateway
    accepted it (at-least-once; the gateway dedupes on event_key)."""
    rows = list(
        SmsMessage.objects.filter(state=SmsMessage.State.PENDING)
        .select_related("payment")
        .order_by("id")[:batch]
    )
    if not rows:
        return 0
    from tepat.registry.selectors import person_phones

    phones = person_phones(public_ids=sorted({m.payment.beneficiary_ref for m in rows}))
    # Without a registered phone there is no one to tell: the notice is failed, not retried.
    unreachable = [m.event_key for m in rows if m.payment.beneficiary_ref not in phones]
    if unreachable:
        SmsMessage.objects.filter(event_key__in=unreachable).update(
            state=SmsMessage.State.FAILED, attempts=F("attempts") + 1
        )
    sendable = [m for m in rows if m.payment.beneficiary_ref in phones]
    accepted = gateway.send(
        [(m.event_key, phones[m.payment.beneficiary_ref], m.body) for m in sendable]
    )
    with transaction.atomic():
        SmsMessage.objects.filter(event_key__in=list(accepted), state=SmsMessage.State.PENDING).update(
            state=SmsMessage.State.SENT, sent_at=timezone.now(), attempts=F("attempts") + 1)  # fmt: skip
    return len(accepted)
