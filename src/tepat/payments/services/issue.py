"""Issue: one payment per approved entitlement into the outbox, within the cycle's control
totals, with the `payments.issued` entries of the transparency log."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from tepat.accounts import scoping
from tepat.core import crypto
from tepat.core.audit import audit_record
from tepat.core.errors import FieldProblem, TepatError, ValidationFailed
from tepat.core.money import format_rupiah
from tepat.payments import channels
from tepat.payments.models import Payment
from tepat.payments.services.common import OPERATORS, P, _require
from tepat.payments.services.keys import payment_key
from tepat.payments.services.ledger import _ledger_many
from tepat.payments.services.locking import cycle_lock
from tepat.programs.models import Cycle, CycleState, EntitlementState
from tepat.regions.selectors import dotted
from tepat.registry.rights import restricted_households

if TYPE_CHECKING:
    from tepat.accounts.models import User


def payments_issue(*, acting_user: User, cycle: Cycle) -> int:
    """Write one payment per approved entitlement into the outbox; re-running adds nothing.

    The batch is refused whole when it would take the cycle past its control totals."""
    _require(acting_user, OPERATORS, "menerbitkan pembayaran / issue payments")
    scoping.require_cycle_action(acting_user, cycle, "menerbitkan pembayaran / issue payments")
    cycle = Cycle.objects.select_related("programme").get(pk=cycle.pk)
    if cycle.state != CycleState.APPROVED:
        raise TepatError("Tahap belum disetujui / the cycle is not approved", code="not_approved")
    ents = list(
        cycle.entitlements.filter(state=EntitlementState.APPROVED)
        # UU 27/2022 Art. 11: no new payment while a member's processing is restricted; the
        # frozen entitlement waits, and a later run issues it once the restriction is lifted.
        .exclude(household_id__in=restricted_households())
        .order_by("id")
        .values_list("id", "beneficiary_ref", "village_code", "amount")
    )
    prog = cycle.programme
    keyed = [
        (payment_key(programme=prog.code, cycle=cycle.code, beneficiary=ref, instalment=cycle.instalment), e_id, ref, village, amount)
        for e_id, ref, village, amount in ents
    ]  # fmt: skip
    existing = set(Payment.objects.filter(cycle=cycle).values_list("payment_key", flat=True))
    fresh = [k for k in keyed if k[0] not in existing]
    live = Payment.objects.filter(cycle=cycle).exclude(state=P.CANCELLED)
    have = live.aggregate(n=Count("id"), a=Sum("amount"))
    count = (have["n"] or 0) + len(fresh)
    amount = (have["a"] or 0) + sum(k[4] for k in fresh)
    if count > cycle.control_count or amount > cycle.control_amount:
        raise ValidationFailed([FieldProblem(
            "control_totals", "exceeds_control_totals",
            f"Batch ditolak seluruhnya: {count} pembayaran, {format_rupiah(amount)} melebihi total "
            f"kontrol {cycle.control_count}, {format_rupiah(cycle.control_amount)} / the whole "
            f"batch is refused: {count} payments, {format_rupiah(amount)} exceed the control "
            f"totals of {cycle.control_count}, {format_rupiah(cycle.control_amount)}",
        )])  # fmt: skip
    routes = channels.routes_for(
        beneficiaries=[(k, ref, village) for k, _, ref, village, _ in fresh],
        order=prog.params.get("channels"),
        starts=cycle.period_start,
    )
    now = timezone.now()
    rows = []
    for key, e_id, ref, village, amt in fresh:
        r = routes[key]
        rows.append(Payment(
            payment_key=key, cycle=cycle, entitlement_id=e_id, beneficiary_ref=ref,
            village_code=village, amount=amt, channel=r.channel, provider=r.provider,
            payee_fa_enc=crypto.encrypt(r.payee_fa, context=channels.PAYEE_CONTEXT),
            payee_fa_masked=r.masked, payee_name=r.payee_name[:150], collection_place=r.place,
            collection_from=r.collect_from, collection_until=r.collect_until,
            voucher_code=r.voucher, next_attempt_at=now,
        ))  # fmt: skip
    with transaction.atomic():
        if cycle_lock(cycle).state != CycleState.APPROVED:  # cancelled meanwhile
            raise TepatError(
                "Tahap belum disetujui / the cycle is not approved", code="not_approved"
            )
        for i in range(0, len(rows), 5000):
            Payment.objects.bulk_create(rows[i : i + 5000], ignore_conflicts=True)
        if rows and not existing:
            _ledger_many(_issued_entries(cycle))
        audit_record(actor=acting_user, action="payments.issue", target_type="cycle",
                     target_id=cycle.public_id, detail={"issued": len(rows), "total": count})  # fmt: skip
    return len(rows)


BULK = 5000


def _issued_entries(cycle: Cycle) -> list[tuple[str, Mapping[str, Any], str]]:
    """Where a cycle's payments go, for the transparency log, written with its first payments:
    one `payments.issued` entry per published area with the count and exact total of the
    cycle's approved entitlements there (those held back by a restriction included: they are
    paid by a later run, and a later entry for them alone would publish a count of one).
    Areas follow the open data's suppression rule (tepat.core.disclosure.published_areas), so
    no count the open data hides, and no count below its threshold, can be read or differenced
    out of the log; payment entries themselves carry no region."""
    from tepat.core.disclosure import ROOT, published_areas, suppression_threshold

    per_village: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    approved = cycle.entitlements.filter(state=EntitlementState.APPROVED).values_list(
        "village_code", "amount"
    )
    for village, amount in approved.iterator(chunk_size=BULK):
        per_village[village][0] += 1
        per_village[village][1] += amount
    areas = published_areas(
        {v: n for v, (n, _a) in per_village.items()}, threshold=suppression_threshold()
    )
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for village, (n, amount) in per_village.items():
        totals[areas[village]][0] += n
        totals[areas[village]][1] += amount
    now = timezone.now()
    out: list[tuple[str, Mapping[str, Any], str]] = []
    for area in sorted(totals):
        n, amount = totals[area]
        body: dict[str, Any] = {"programme": cycle.programme.code, "cycle": cycle.code,
                                "time": now, "payments": n, "total_amount": amount}  # fmt: skip
        if area != ROOT:
            body["area"] = dotted(area)
        out.append(("payments.issued", body, cycle.public_id))
    return out
