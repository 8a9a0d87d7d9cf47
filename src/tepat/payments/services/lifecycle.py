"""The end of an approved cycle's life, under its exclusive lock: distributed once reconciled,
closed with its totals, or cancelled after the money is stopped. Programs records each step
(`cycle_mark_distributed`, `cycle_end`, `cycle_mark_cancelled`) and never calls back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Count, Sum

from tepat.accounts import scoping
from tepat.core.audit import audit_record
from tepat.core.errors import TepatError
from tepat.payments.models import Difference, Payment
from tepat.payments.providers import ProviderAdapter
from tepat.payments.services.callbacks import _record_success
from tepat.payments.services.common import APPROVERS, OPEN_STATES, P, Refused, _reason, _require
from tepat.payments.services.locking import cycle_lock
from tepat.payments.services.provider import _ask_provider, _executed, _unknown
from tepat.payments.services.reconciliation import _reconcile
from tepat.programs import services as programs
from tepat.programs.models import Cycle, CycleState

if TYPE_CHECKING:
    from tepat.accounts.models import User


def _paid_twice(n: int) -> Refused:
    return Refused(
        f"{n} hak dibayar dua kali; tahap tidak dapat disalurkan atau ditutup sampai dana "
        f"dikembalikan / {n} entitlement(s) paid twice: the cycle cannot be distributed or "
        f"closed until the money is recovered",
        code="paid_twice",
    )


def cycle_distribute(*, acting_user: User, cycle: Cycle) -> Cycle:
    """approved -> distributed, only when reconciled or every difference is explained (and none
    is a double payment). The reconciliation it runs is kept even when it refuses."""
    _require(acting_user, APPROVERS, "menandai tersalurkan / mark distributed")
    scoping.require_cycle_action(acting_user, cycle, "menandai tersalurkan / mark distributed")
    with transaction.atomic():
        c = cycle_lock(cycle)
        rec = _reconcile(acting_user=acting_user, cycle=c)
        if rec.clean:
            return programs.cycle_mark_distributed(acting_user=acting_user, cycle=c, summary={
                "matched": rec.matched,
                "explained_differences": Difference.objects.filter(cycle=c).count()})  # fmt: skip
    if rec.paid_twice:
        raise _paid_twice(rec.paid_twice)
    raise TepatError(
        f"Belum rekonsiliasi: {rec.unexplained} selisih tanpa penjelasan, {rec.open_payments} "
        f"pembayaran belum selesai / not reconciled: {rec.unexplained} unexplained "
        f"difference(s), {rec.open_payments} payment(s) not finished",
        code="not_reconciled",
    )


def cycle_close(*, acting_user: User, cycle: Cycle) -> Cycle:
    """distributed -> ended, with the paid and failed totals in the log. Reconciled once more
    first: a double payment that came to light since distribution refuses it."""
    _require(acting_user, APPROVERS, "menutup tahap / close cycles")
    scoping.require_cycle_action(acting_user, cycle, "menutup tahap / close cycles")
    with transaction.atomic():
        c = cycle_lock(cycle)
        if c.state != CycleState.DISTRIBUTED:
            raise programs.InvalidTransition(c, CycleState.ENDED)
        rec = _reconcile(acting_user=acting_user, cycle=c)
        if not rec.paid_twice:
            paid = Payment.objects.filter(cycle=c, state=P.PAID).aggregate(
                n=Count("id"), a=Sum("amount")
            )
            failed = Payment.objects.filter(cycle=c, state=P.FAILED).count()
            return programs.cycle_end(acting_user=acting_user, cycle=c, paid=paid["n"] or 0,
                                      paid_amount=paid["a"] or 0, failed=failed)  # fmt: skip
    raise _paid_twice(rec.paid_twice)


def _in_flight(payments: Sequence[Payment]) -> Refused:
    names = ", ".join(p.public_id for p in payments[:5])
    return Refused(
        f"{len(payments)} pembayaran sedang di penyalur ({names}); tunggu hasilnya lalu batalkan "
        f"lagi / {len(payments)} payment(s) are with the provider and may still execute: wait "
        f"for their outcome, then cancel again",
        code="payments_in_flight",
    )


def cycle_cancel(
    *, acting_user: User, cycle: Cycle, reason: str, adapter: ProviderAdapter | None = None
) -> Cycle:
    """Cancel a cycle. Before approval this is programs' own `cycle_cancel`; after approval the
    money is stopped first, under the cycle's exclusive lock (so no worker claims, records or
    polls meanwhile):

    - refused while any payment is with the provider (sending or sent) and so may still
      execute: the worker settles it, then the cancel is tried again;
    - every payment the provider may hold although we gave up on it (a dead letter, or an
      issued one that was handed over before and waits for its retry) is checked with the
      provider (`adapter`, or the default one): a dead letter it paid is recorded as paid; one
      waiting for its retry that it paid refuses the cancel (the retry records it); no answer
      refuses the whole cancel;
    - every other issued or dead payment is cancelled; paid ones stay paid, and so do their
      entitlements; failed ones stay failed;
    - then programs marks the cycle and its other entitlements cancelled, audited and logged.
    """
    _require(acting_user, APPROVERS, "membatalkan tahap / cancel cycles")
    scoping.require_cycle_action(acting_user, cycle, "membatalkan tahap / cancel cycles")
    reason = _reason(reason)
    current = Cycle.objects.get(pk=cycle.pk)
    if current.state in (CycleState.DRAFT, CycleState.TO_APPROVE):
        return programs.cycle_cancel(acting_user=acting_user, cycle=current, reason=reason)
    if current.state != CycleState.APPROVED:
        raise programs.InvalidTransition(current, CycleState.CANCELLED)
    open_rows = list(Payment.objects.filter(cycle=current, state__in=OPEN_STATES).order_by("id"))
    if busy := [p for p in open_rows if p.state in (P.SENDING, P.SENT)]:
        raise _in_flight(busy)
    doubtful = [p for p in open_rows if p.state == P.DEAD or p.attempts > 0]
    said = _ask_provider(adapter, doubtful)
    asked = {p.pk: (p.state, p.attempts) for p in doubtful}
    with transaction.atomic():
        c = cycle_lock(current)
        if c.state != CycleState.APPROVED:
            raise programs.InvalidTransition(c, CycleState.CANCELLED)
        rows = list(
            Payment.objects.select_for_update(of=("self",))
            .filter(cycle=c, state__in=OPEN_STATES)
            .order_by("id")
        )
        if busy := [p for p in rows if p.state in (P.SENDING, P.SENT)]:
            raise _in_flight(busy)
        executed: list[Payment] = []
        unknown: list[Payment] = []
        for p in rows:
            if p.state != P.DEAD and p.attempts == 0:
                continue  # never handed to anyone
            if asked.get(p.pk) != (p.state, p.attempts):
                raise Refused(
                    "Pembayaran berubah saat penyalur ditanya; coba lagi / a payment changed while "
                    "the provider was asked: try again",
                    code="payment_changed",
                )
            verdict = _executed(p, said.get(p.payment_key))
            if verdict == "unknown":
                unknown.append(p)
            elif verdict == "yes":
                executed.append(p)
        if unknown:
            raise _unknown(unknown)
        if waiting := [p for p in executed if p.state != P.DEAD]:
            raise _in_flight(waiting)
        for p in executed:
            if not _record_success(p, said[p.payment_key]):
                raise Refused(
                    f"Penyalur menjalankan {p.public_id} dengan data yang berbeda; lihat "
                    f"rekonsiliasi / the provider executed {p.public_id} with different details: "
                    f"see the reconciliation",
                    code="provider_executed",
                )
        paid_now = {p.pk for p in executed}
        stop = [p.pk for p in rows if p.pk not in paid_now]
        for i in range(0, len(stop), 5000):
            Payment.objects.filter(id__in=stop[i : i + 5000], state__in=(P.ISSUED, P.DEAD)).update(
                state=P.CANCELLED, reason_code="cycle_cancelled", lease_until=None, claimed_by=""
            )
        paid = Payment.objects.filter(cycle=c, state=P.PAID).aggregate(
            n=Count("id"), a=Sum("amount")
        )
        audit_record(actor=acting_user, action="payments.cancel", target_type="cycle",
                     target_id=c.public_id,
                     detail={"cancelled": len(stop), "found_paid": len(paid_now),
                             "paid": paid["n"] or 0, "reason": reason})  # fmt: skip
        return programs.cycle_mark_cancelled(acting_user=acting_user, cycle=c, reason=reason,
                                             paid=paid["n"] or 0, paid_amount=paid["a"] or 0,
                                             cancelled=len(stop))  # fmt: skip
