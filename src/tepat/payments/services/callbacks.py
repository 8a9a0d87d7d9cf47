"""Providers' verified outcomes (callbacks and status answers) and the status polls of
payments whose callback never came: applied only to the signing provider's payments, for our
amount in rupiah; anything else is refused, audited and kept as a difference."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from tepat.core.audit import audit_record
from tepat.payments.models import Difference, Payment
from tepat.payments.providers import Outcome, ProviderAdapter
from tepat.payments.services.common import P, setting
from tepat.payments.services.ledger import _cycle_codes, _entry, _ledger_many
from tepat.payments.services.locking import cycles_hold
from tepat.payments.services.notices import _sms
from tepat.payments.services.outbox import Claimed
from tepat.payments.services.provider import _PROVIDER_ERRORS
from tepat.programs import services as programs
from tepat.programs.models import EntitlementState

# A provider's word is heard only about payments handed to it: claimed (sending), accepted
# (sent), or dead letters it may have executed after all. An issued one was never sent (or waits
# for its retry, which will hear the same answer).
HEARS_PROVIDER = (P.SENDING, P.SENT, P.DEAD)


def _callback_refusal(p: Payment, o: Outcome) -> str:
    """Why a verified provider's outcome may not settle payment `p` ("" when it may)."""
    if not o.provider or o.provider != p.provider.upper():
        return "wrong_provider"
    if p.state not in HEARS_PROVIDER:
        return "not_sent"
    if o.status == "succ" and o.amount != p.amount:
        return "amount_differs"
    if o.status == "succ" and o.currency != "IDR":
        return "currency_differs"
    return ""


def _callbacks_refused(refused: Sequence[tuple[Payment, Outcome, str]]) -> None:
    """Refused outcomes are never applied: each is audited and noted on the payment, and a
    success for another amount or currency becomes a `callback_refused` difference of its cycle,
    which reconciliation keeps until someone explains it."""
    from types import SimpleNamespace

    for p, o, why in refused:
        if why in ("amount_differs", "currency_differs"):
            Difference.objects.get_or_create(
                kind=Difference.Kind.CALLBACK_REFUSED, reference_id=p.payment_key,
                defaults={"cycle_id": p.cycle_id, "ours_amount": p.amount, "their_amount": o.amount},
            )  # fmt: skip
        Payment.objects.filter(id=p.id).update(
            last_error=f"callback refused: {why} ({o.provider or '?'} said {o.status})"[:255]
        )
        audit_record(actor=SimpleNamespace(username=f"provider:{o.provider or '?'}"),
                     action="payment.callback_refused", target_type="payment",
                     target_id=p.public_id, region_code=p.village_code,
                     detail={"reason": why, "provider": o.provider, "status": o.status,
                             "amount": o.amount, "currency": o.currency, "state": p.state,
                             "payment_provider": p.provider})  # fmt: skip


def payments_apply_callbacks(*, outcomes: Sequence[Outcome]) -> dict[str, int]:
    """Apply providers' verified outcomes (callbacks and status answers). Duplicates and stale
    ones (a `pdng` after the final outcome) change nothing: a settled payment never moves again.
    An outcome is applied only to a payment of the provider that signed it, handed to that
    provider, and a success only for our amount in rupiah; anything else is refused (see
    `_callback_refusal`), never paid.

    Like the worker, it holds the shared side of each cycle's lock before any payment row (one
    lock order everywhere), so a cancel never interleaves with a callback, while concurrent
    callbacks do not queue behind each other."""
    counts = {"paid": 0, "failed": 0, "ignored": 0, "refused": 0}
    final = {o.reference_id: o for o in outcomes if o.status in ("succ", "rjct")}
    now = timezone.now()
    with transaction.atomic():
        cycles_hold(
            Payment.objects.filter(payment_key__in=list(final)).values_list("cycle_id", flat=True)
        )
        candidates = list(
            Payment.objects.select_for_update(of=("self",))
            .filter(payment_key__in=list(final), state__in=[P.ISSUED, *HEARS_PROVIDER])
            .order_by("id")
        )
        judged = [(p, final[p.payment_key], _callback_refusal(p, final[p.payment_key]))
                  for p in candidates]  # fmt: skip
        refused = [j for j in judged if j[2]]
        _callbacks_refused(refused)
        rows = [p for p, _, why in judged if not why]
        codes = _cycle_codes(p.id for p in rows)
        ledger: list[tuple[str, Mapping[str, Any], str]] = []
        sms: list[tuple[Claimed | Payment, str, str]] = []
        paid: list[Payment] = []
        failed: dict[str, list[Payment]] = defaultdict(list)
        for p in rows:
            o = final[p.payment_key]
            if p.state != P.SENT:
                ledger.append(_entry("payment.sent", p, codes[p.id], p.channel))
            if o.status == "succ":
                paid.append(p)
                ledger.append(_entry("payment.settled", p, codes[p.id], p.channel))
                sms.append((p, "paid", ""))
            else:
                failed[o.reason or "rjct"].append(p)
                ledger.append(_entry("payment.failed", p, codes[p.id], p.channel, o.reason))
                sms.append((p, "failed", o.reason))
        common = {"settled_at": now, "lease_until": None, "claimed_by": ""}
        if paid:
            Payment.objects.filter(id__in=[p.id for p in paid]).update(state=P.PAID, **common)
            programs.entitlements_mark(
                entitlement_ids=[p.entitlement_id for p in paid], state=EntitlementState.PAID
            )
        for reason, group in failed.items():
            Payment.objects.filter(id__in=[p.id for p in group]).update(
                state=P.FAILED, reason_code=reason[:64], **common
            )
            programs.entitlements_mark(
                entitlement_ids=[p.entitlement_id for p in group], state=EntitlementState.REJECTED
            )
        Payment.objects.filter(id__in=[p.id for p in rows], sent_at__isnull=True).update(
            sent_at=now
        )
        _ledger_many(ledger)
        _sms(sms, {})
    counts["paid"] = len(paid)
    counts["failed"] = sum(len(g) for g in failed.values())
    counts["refused"] = len(refused)
    counts["ignored"] = len(outcomes) - counts["paid"] - counts["failed"] - counts["refused"]
    return counts


def _record_success(p: Payment, o: Outcome) -> bool:
    """The provider says `p` was paid: record it through the callbacks' path (the caller holds
    the cycle's lock). A payment that path may not move (one failed earlier, say) stays as it
    is and becomes a reconciliation difference, never a silent second settlement. Returns
    whether it is now paid."""
    payments_apply_callbacks(outcomes=[o])
    if Payment.objects.filter(pk=p.pk, state=P.PAID).exists():
        return True
    Difference.objects.get_or_create(
        kind=Difference.Kind.STATUS, reference_id=p.payment_key,
        defaults={"cycle_id": p.cycle_id, "ours_amount": p.amount, "their_amount": o.amount},
    )  # fmt: skip
    return False


def payments_poll_status(
    *, adapter: ProviderAdapter, older_than_s: float = 60.0, batch: int = 500
) -> dict[str, int]:
    """Ask the provider about payments sent long ago whose callback never came, and about dead
    letters: a worker's time-out is not a refusal, and a dead letter the provider executed is
    recorded as paid before anyone can re-issue it. For a dead letter only a success is news:
    one the provider rejected or never received stays for an operator to resolve, and is asked
    about again after TEPAT_PAYMENT_DEAD_POLL_S seconds (default 600)."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=older_than_s)
    sent = list(
        Payment.objects.filter(state=P.SENT, sent_at__lt=cutoff).values_list(
            "payment_key", flat=True
        )[:batch]
    )
    dead = list(
        Payment.objects.filter(state=P.DEAD, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("payment_key", flat=True)[:batch]
    )
    counts = {"paid": 0, "failed": 0, "ignored": 0}
    if not sent and not dead:
        return counts
    later = now + timedelta(seconds=float(setting("TEPAT_PAYMENT_DEAD_POLL_S", 600)))
    try:
        outcomes = adapter.status(sent + dead)
    except _PROVIDER_ERRORS:
        outcomes = []  # unreachable: the sent ones are asked about again next turn
    dead_keys = set(dead)
    heard = [o for o in outcomes if o.reference_id not in dead_keys or o.status == "succ"]
    with transaction.atomic():
        cycles_hold(
            Payment.objects.filter(payment_key__in=[o.reference_id for o in heard]).values_list(
                "cycle_id", flat=True
            )
        )
        if heard:
            counts = payments_apply_callbacks(outcomes=heard)
        Payment.objects.filter(payment_key__in=dead, state=P.DEAD).update(next_attempt_at=later)
    return counts
