"""Recording the provider's answer to the worker: only for rows the recording worker still
holds, under the shared side of their cycles' locks."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from tepat.core.audit import audit_record
from tepat.payments.models import Difference, Payment
from tepat.payments.providers import Outcome
from tepat.payments.services.common import SYSTEM, P
from tepat.payments.services.ledger import _cycle_codes, _entry, _ledger_many
from tepat.payments.services.locking import PAYABLE, cycles_hold
from tepat.payments.services.notices import _sms
from tepat.payments.services.outbox import Claimed
from tepat.programs import services as programs
from tepat.programs.models import EntitlementState


def _paid_outside_payable(paid: Sequence[Claimed]) -> None:
    """Money the provider moved for a cycle that was no longer payable (which the claim and the
    cancel's refusal while payments are in flight should make impossible): recorded as it is,
    for the money did move, and made a difference of the cycle so that someone looks at it."""
    if not paid:
        return
    Difference.objects.bulk_create(
        [Difference(cycle_id=c.cycle_id, kind=Difference.Kind.PAID_CANCELLED, reference_id=c.key,
                    ours_amount=c.amount, their_amount=c.amount) for c in paid],
        ignore_conflicts=True,
    )  # fmt: skip
    for c in paid:
        audit_record(actor=SYSTEM, action="payment.paid_outside_payable_cycle",
                     target_type="payment", target_id=c.public_id, region_code=c.village_code,
                     detail={"amount": c.amount, "cycle_id": c.cycle_id})  # fmt: skip


def payments_record(
    *, worker: str, claimed: Sequence[Claimed], outcomes: Sequence[Outcome]
) -> dict[str, int]:
    """Record a provider's answer for rows this worker still holds (a row whose lease was taken
    over is left to the new holder, which will get the same answer replayed)."""
    by_key = {o.reference_id: o for o in outcomes}
    now = timezone.now()
    counts = {"paid": 0, "failed": 0, "sent": 0, "missing": 0}
    with transaction.atomic():
        cycle_states = cycles_hold(c.cycle_id for c in claimed)
        ids = [c.id for c in claimed]
        mine = set(
            Payment.objects.select_for_update()
            .filter(id__in=ids, claimed_by=worker, state=P.SENDING)
            .values_list("id", flat=True)
        )
        codes = _cycle_codes(mine)
        paid: list[Claimed] = []
        sent: list[Claimed] = []
        failed: dict[str, list[Claimed]] = defaultdict(list)
        missing: list[Claimed] = []
        for c in claimed:
            if c.id not in mine:
                continue
            o = by_key.get(c.key)
            if o is None:
                missing.append(c)
            elif o.status == "succ":
                paid.append(c)
            elif o.status == "rjct":
                failed[o.reason or "rjct"].append(c)
            else:
                sent.append(c)
        free = {"lease_until": None, "claimed_by": ""}
        ledger: list[tuple[str, Mapping[str, Any], str]] = []
        sms: list[tuple[Claimed | Payment, str, str]] = []
        if paid:
            Payment.objects.filter(id__in=[c.id for c in paid]).update(
                state=P.PAID, sent_at=now, settled_at=now, last_error="", **free)  # fmt: skip
            programs.entitlements_mark(
                entitlement_ids=[c.entitlement_id for c in paid], state=EntitlementState.PAID
            )
            for c in paid:
                ledger.append(_entry("payment.sent", c, codes[c.id], c.channel))
                ledger.append(_entry("payment.settled", c, codes[c.id], c.channel))
                sms.append((c, "paid", ""))
            _paid_outside_payable([c for c in paid if cycle_states.get(c.cycle_id) not in PAYABLE])
        for reason, group in failed.items():
            Payment.objects.filter(id__in=[c.id for c in group]).update(
                state=P.FAILED, sent_at=now, settled_at=now, reason_code=reason[:64], **free)  # fmt: skip
            programs.entitlements_mark(
                entitlement_ids=[c.entitlement_id for c in group], state=EntitlementState.REJECTED
            )
            for c in group:
                ledger.append(_entry("payment.sent", c, codes[c.id], c.channel))
                ledger.append(_entry("payment.failed", c, codes[c.id], c.channel, reason))
                sms.append((c, "failed", reason))
        if sent:
            Payment.objects.filter(id__in=[c.id for c in sent]).update(
                state=P.SENT, sent_at=now, **free
            )
            programs.entitlements_mark(
                entitlement_ids=[c.entitlement_id for c in sent], state=EntitlementState.SENT
            )
            ledger.extend(_entry("payment.sent", c, codes[c.id], c.channel) for c in sent)
        if missing:
            # The provider answered without these: try again later, as for a transient error.
            Payment.objects.filter(id__in=[c.id for c in missing]).update(
                state=P.ISSUED, next_attempt_at=now + timedelta(seconds=5),
                last_error="no status in provider answer", **free)  # fmt: skip
        _ledger_many(ledger)
        _sms(sms, {})
    counts.update(
        paid=len(paid),
        failed=sum(len(g) for g in failed.values()),
        sent=len(sent),
        missing=len(missing),
    )
    return counts
