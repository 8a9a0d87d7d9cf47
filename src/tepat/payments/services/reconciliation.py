"""Reconciliation: a cycle's payments matched with the imported statement lines under the
cycle's lock, the differences recorded, and explained by someone who did not import them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction

from tepat.accounts import scoping
from tepat.core.audit import audit_record
from tepat.core.errors import PermissionDenied
from tepat.payments.models import Difference, Payment, Statement, StatementLine
from tepat.payments.services.common import OPEN_STATES, OPERATORS, P, Refused, _reason, _require
from tepat.payments.services.keys import key_prefix
from tepat.payments.services.locking import cycle_lock
from tepat.programs.models import Cycle

if TYPE_CHECKING:
    from tepat.accounts.models import User


@dataclass(frozen=True)
class Reconciliation:
    matched: int
    paid_not_ours: int
    ours_not_paid: int
    amount_differs: int
    status_differs: int
    unexplained: int
    open_payments: int
    paid_twice: int = 0  # entitlements with two successful payments: never explained away

    @property
    def clean(self) -> bool:
        return self.unexplained == 0 and self.open_payments == 0 and self.paid_twice == 0


def cycle_reconcile(*, acting_user: User, cycle: Cycle) -> Reconciliation:
    """Match the cycle's payments with imported statement lines and record the differences."""
    _require(acting_user, OPERATORS, "merekonsiliasi / reconcile")
    scoping.require_cycle_action(acting_user, cycle, "merekonsiliasi / reconcile")
    with transaction.atomic():
        return _reconcile(acting_user=acting_user, cycle=cycle_lock(cycle))


# Differences that no explanation settles: money paid twice must come back (or be proven not to
# have left), not be written about. `difference_explain` refuses them.
UNEXPLAINABLE = frozenset({Difference.Kind.PAID_TWICE})
# Differences found elsewhere than by matching statements (so never dropped as stale here).
_NOT_FROM_MATCHING = (Difference.Kind.PAID_CANCELLED, Difference.Kind.CALLBACK_REFUSED)


def _reconcile(*, acting_user: User, cycle: Cycle) -> Reconciliation:
    """The matching, under the cycle's lock (held by the caller): payments cannot change state
    while it runs, so what it reports is one moment's truth."""
    prefix = key_prefix(cycle)
    ours = {
        k: (pid, amount, state, ent)
        for pid, k, amount, state, ent in Payment.objects.filter(cycle=cycle).values_list(
            "id", "payment_key", "amount", "state", "entitlement_id"
        )
    }
    theirs: dict[str, int] = {}
    for ref, amount in StatementLine.objects.filter(
        reference_id__startswith=prefix, status="succ"
    ).values_list("reference_id", "amount"):
        theirs[ref] = theirs.get(ref, 0) + amount
    found: list[tuple[str, str, int | None, int | None]] = []
    matched: list[int] = []
    succeeded: dict[int, list[tuple[int, str, int]]] = defaultdict(list)
    for key, (pid, amount, state, ent) in ours.items():
        got = theirs.get(key)
        if state == P.PAID or got is not None:
            succeeded[ent].append((pid, key, amount))
        if state == P.PAID:
            if got is None:
                found.append((Difference.Kind.NOT_PAID, key, amount, None))
            elif got != amount:
                found.append((Difference.Kind.AMOUNT, key, amount, got))
            else:
                matched.append(pid)
        elif got is not None:
            found.append((Difference.Kind.STATUS, key, amount, got))
    for key, got in theirs.items():
        if key not in ours:
            found.append((Difference.Kind.NOT_OURS, key, None, got))
    # One entitlement, two successes (our rows, or the provider's statement for either key):
    # named by the later payment, with what was owed and what left.
    for legs in succeeded.values():
        if len(legs) > 1:
            legs.sort()
            found.append((Difference.Kind.PAID_TWICE, legs[1][1], legs[0][2],
                          sum(a for _, _, a in legs)))  # fmt: skip
    current = {
        (d.kind, d.reference_id): d
        for d in Difference.objects.select_for_update().filter(cycle=cycle)
    }
    wanted = {(k, ref) for k, ref, _, _ in found}
    stale = [d.pk for key, d in current.items()
             if key not in wanted and not d.explanation and d.kind not in _NOT_FROM_MATCHING]  # fmt: skip
    Difference.objects.filter(pk__in=stale).delete()
    Difference.objects.bulk_create(
        [Difference(cycle=cycle, kind=k, reference_id=ref, ours_amount=a, their_amount=b)
         for k, ref, a, b in found if (k, ref) not in current],
        ignore_conflicts=True,
    )  # fmt: skip
    for i in range(0, len(matched), 5000):
        Payment.objects.filter(id__in=matched[i : i + 5000]).update(reconciled=True)
    by_kind: dict[str, int] = defaultdict(int)
    for k, *_ in found:
        by_kind[k] += 1
    audit_record(actor=acting_user, action="cycle.reconcile", target_type="cycle",
                 target_id=cycle.public_id,
                 detail={"matched": len(matched), "differences": len(found),
                         "paid_twice": by_kind[Difference.Kind.PAID_TWICE]})  # fmt: skip
    unexplained = Difference.objects.filter(cycle=cycle, explanation="").count()
    open_n = Payment.objects.filter(cycle=cycle, state__in=OPEN_STATES).count()
    return Reconciliation(len(matched), by_kind[Difference.Kind.NOT_OURS], by_kind[Difference.Kind.NOT_PAID],
                          by_kind[Difference.Kind.AMOUNT], by_kind[Difference.Kind.STATUS], unexplained, open_n,
                          by_kind[Difference.Kind.PAID_TWICE])  # fmt: skip


def _refuse_unexplainable(d: Difference) -> None:
    if d.kind in UNEXPLAINABLE:
        raise Refused(
            "Pembayaran ganda tidak dapat dijelaskan; dana harus dikembalikan / a double payment "
            "cannot be explained away: the money must be recovered",
            code="not_explainable",
        )


def _statement_importers(d: Difference) -> set[int]:
    """Who imported the statements a difference rests on: those whose lines fed its cycle's
    reconciliation (any line with the cycle's key prefix), or, without a cycle, those naming
    its reference."""
    if d.cycle is not None:
        lines = StatementLine.objects.filter(reference_id__startswith=key_prefix(d.cycle))
    else:
        lines = StatementLine.objects.filter(reference_id=d.reference_id)
    return {
        uid
        for uid in Statement.objects.filter(id__in=lines.values("statement_id")).values_list(
            "imported_by_id", flat=True
        )
        if uid is not None
    }


def difference_explain(
    *, acting_user: User, difference: Difference, explanation: str
) -> Difference:
    """Explain a reconciliation difference. Maker-checker: whoever imported a statement that
    the cycle's reconciliation used may not explain its differences (else one person could bring
    in a statement and explain away what it shows)."""
    _require(acting_user, OPERATORS, "menjelaskan selisih / explain differences")
    scoping.require_cycle_action(acting_user, difference.cycle, "menjelaskan selisih / explain")
    _refuse_unexplainable(difference)
    if getattr(acting_user, "pk", None) in _statement_importers(difference):
        raise PermissionDenied(
            "Anda mengimpor rekening koran tahap ini; selisihnya dijelaskan petugas lain / you "
            "imported a statement of this cycle: another officer explains its differences"
        )
    explanation = _reason(explanation)
    with transaction.atomic():
        d = Difference.objects.select_for_update().get(pk=difference.pk)
        d.explanation = explanation
        d.explained_by = acting_user
        d.save(update_fields=["explanation", "explained_by"])
        audit_record(actor=acting_user, action="difference.explain", target_type="difference",
                     target_id=d.reference_id, detail={"kind": d.kind, "explanation": explanation})  # fmt: skip
    return d
