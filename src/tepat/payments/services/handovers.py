"""Handovers at the point of distribution: a cash or e-Warung voucher handed over pays its
payment, inside the verification transaction that records the handover."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import timezone

from tepat.payments.models import Channel, Payment, PaymentState
from tepat.payments.services.locking import PAYABLE, cycles_hold
from tepat.payments.services.notices import _sms
from tepat.programs import services as programs
from tepat.programs.models import EntitlementState

HANDOVER_CHANNELS = (Channel.CASH_POS, Channel.EWARUNG)


def payments_mark_handed_over(*, payment_ids: Sequence[int]) -> int:
    """Cash (PT Pos) and e-Warung payments whose voucher was handed over become paid.

    Called inside the verification transaction that records the handover, which also appends the
    `handover.recorded` ledger entry (so no `payment.settled` entry is written here). Payments
    already paid, cancelled, of a cycle that is not payable, or on other channels, are left
    alone: a handover never pays twice, nor for a cancelled cycle.
    """
    now = timezone.now()
    ids = list(payment_ids)
    held = cycles_hold(Payment.objects.filter(id__in=ids).values_list("cycle_id", flat=True))
    payable = [cid for cid, state in held.items() if state in PAYABLE]
    rows = list(
        Payment.objects.select_for_update()
        .filter(id__in=ids, channel__in=HANDOVER_CHANNELS, cycle_id__in=payable)
        .exclude(state__in=[PaymentState.PAID, PaymentState.CANCELLED])
    )
    if not rows:
        return 0
    Payment.objects.filter(id__in=[p.id for p in rows]).update(
        state=PaymentState.PAID, settled_at=now, lease_until=None, claimed_by=""
    )
    Payment.objects.filter(id__in=[p.id for p in rows], sent_at__isnull=True).update(sent_at=now)
    programs.entitlements_mark(
        entitlement_ids=[p.entitlement_id for p in rows], state=EntitlementState.PAID
    )
    _sms([(p, "paid", "") for p in rows], {})
    return len(rows)
