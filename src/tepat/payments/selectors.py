"""Reads for payments: progress per channel and state, dead letters, reconciliation report."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet, Sum

from tepat.accounts.scoping import region_q
from tepat.core.errors import NotFound
from tepat.payments.models import Difference, Payment, PaymentState
from tepat.programs.models import Cycle


def cycle_has_sent_payments(*, cycle: Cycle) -> bool:
    return (
        Payment.objects.filter(cycle=cycle)
        .exclude(state__in=[PaymentState.ISSUED, PaymentState.CANCELLED])
        .exists()
    )


def cycle_progress(*, cycle: Cycle) -> dict[str, Any]:
    """Counts and amounts per channel and state, and overall, for the progress view."""
    rows = (
        Payment.objects.filter(cycle=cycle)
        .order_by()
        .values("channel", "state")
        .annotate(n=Count("id"), amount=Sum("amount"))
    )
    by_channel: dict[str, dict[str, int]] = {}
    totals: dict[str, int] = {s: 0 for s in PaymentState.values}
    amount_paid = 0
    for r in rows:
        by_channel.setdefault(r["channel"], {s: 0 for s in PaymentState.values})[r["state"]] = r[
            "n"
        ]
        totals[r["state"]] += r["n"]
        if r["state"] == PaymentState.PAID:
            amount_paid += r["amount"] or 0
    total = sum(totals.values())
    done = totals[PaymentState.PAID] + totals[PaymentState.FAILED] + totals[PaymentState.CANCELLED]
    return {
        "total": total,
        "done": done,
        "percent": round(100 * done / total) if total else 0,
        "totals": totals,
        "by_channel": by_channel,
        "amount_paid": amount_paid,
    }


def dead_letters(*, user: Any, cycle: Cycle | None = None) -> QuerySet[Payment]:
    qs = Payment.objects.filter(state__in=[PaymentState.DEAD, PaymentState.FAILED]).filter(
        region_q(user, "village_code")
    )
    if cycle is not None:
        qs = qs.filter(cycle=cycle)
    return qs.select_related("cycle__programme").order_by("id")


def payment_get(*, user: Any, public_id: str) -> Payment:
    p = Payment.objects.filter(region_q(user, "village_code"), public_id=public_id).first()
    if p is None:
        raise NotFound()
    return p


def differences(*, cycle: Cycle) -> QuerySet[Difference]:
    return Difference.objects.filter(cycle=cycle).order_by("kind", "id")


def difference_get(*, pk: int) -> Difference:
    d = Difference.objects.filter(pk=pk).first()
    if d is None:
        raise NotFound()
    return d
