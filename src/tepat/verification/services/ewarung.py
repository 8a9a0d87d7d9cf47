"""e-Warung settlement: every accepted e-Warung redemption paid to the e-Warung once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction

from tepat.core.audit import audit_record
from tepat.payments.models import Channel
from tepat.verification.models import EwarungSettlement, Handover, HandoverStatus
from tepat.verification.services.common import ISSUERS, _require

if TYPE_CHECKING:
    from tepat.accounts.models import User


def ewarung_settle(*, acting_user: User, ewarung: Any) -> EwarungSettlement | None:
    """Settle, once, every accepted e-Warung voucher redemption the e-Warung has synced and not
    yet been paid for; None when there is nothing to settle."""
    from django.db.models import Sum

    _require(acting_user, ISSUERS, "menyelesaikan pembayaran e-Warung / settle e-Warung")
    with transaction.atomic(durable=True):
        # Lock the rows so a concurrent settlement cannot take the same redemptions.
        ids = list(
            Handover.objects.select_for_update()
            .filter(
                agent=ewarung, status=HandoverStatus.ACCEPTED, settlement__isnull=True,
                voucher__payment__channel=Channel.EWARUNG,
            )
            .values_list("id", flat=True)
        )  # fmt: skip
        if not ids:
            return None
        total = Handover.objects.filter(id__in=ids).aggregate(a=Sum("voucher__payment__amount"))
        st = EwarungSettlement.objects.create(
            ewarung=ewarung, vouchers=len(ids), amount=total["a"] or 0, created_by=acting_user
        )
        Handover.objects.filter(id__in=ids).update(settlement=st)
        audit_record(actor=acting_user, action="ewarung.settle", target_type="settlement",
                     target_id=st.public_id, detail={"vouchers": st.vouchers, "amount": st.amount,
                                                     "ewarung": ewarung.username})  # fmt: skip
    return st
