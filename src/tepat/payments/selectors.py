"""Reads for payments: progress per channel and state, dead letters, reconciliation report.

Every read is scoped through tepat.accounts.scoping: payments where their village lies inside the
user's scopes and their cycle is readable; differences with the whole cycle. Out of scope is
NotFound, never "forbidden" (no probing)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from tepat.accounts.scoping import difference_q, payment_q
from tepat.core.errors import NotFound
from tepat.payments.models import Difference, Payment, PaymentState, SmsMessage
from tepat.programs.models import Cycle


def cycle_progress(*, user: Any, cycle: Cycle) -> dict[str, Any]:
    """Counts and amounts per channel and state, and overall, for the progress view: of the
    payments the user may see (the part of the cycle inside their regions)."""
    rows = (
        Payment.objects.filter(payment_q(user), cycle=cycle)
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
        payment_q(user)
    )
    if cycle is not None:
        qs = qs.filter(cycle=cycle)
    return qs.select_related("cycle__programme").order_by("id")


def payment_get(*, user: Any, public_id: str) -> Payment:
    p = (
        Payment.objects.filter(payment_q(user), public_id=public_id)
        .select_related("cycle__programme")
        .first()
    )
    if p is None:
        raise NotFound()
    return p


def differences(*, user: Any, cycle: Cycle) -> QuerySet[Difference]:
    return Difference.objects.filter(difference_q(user), cycle=cycle).order_by("kind", "id")


def difference_get(*, user: Any, public_id: str) -> Difference:
    d = (
        Difference.objects.filter(difference_q(user), public_id=public_id)
        .select_related("cycle")
        .first()
    )
    if d is None:
        raise NotFound()
    return d


# --- the payments table against the transparency log -------------------------------------


def ledger_cross_check(*, limit: int = 50) -> list[tuple[int | None, str]]:
    """Compare every settled payment with its entries in the transparency log.

    Returns (ledger index or None, problem) pairs, first bad entry first: a paid or failed
    payment whose amount, beneficiary pseudonym or region differs from what the log says, a
    settled payment with no settlement entry, a log entry whose payment is gone or no longer in
    the state the log recorded. Entries still queued for the sequencer count as present.
    Version-1 entries are compared field by field; version-2 entries by their amount or band
    and their per-payment pseudonym, which the payment's salt recomputes from the beneficiary
    and the exact amount (`_entry_problem`).
    """
    import json

    from tepat.ledger.entries import pseudonymise
    from tepat.ledger.models import LogEntry, PendingEntry
    from tepat.regions.selectors import dotted

    # A cash or e-Warung payment is settled by the handover recorded at the point of distribution.
    settle_kinds = {
        "payment.settled": PaymentState.PAID,
        "payment.failed": PaymentState.FAILED,
        "handover.recorded": PaymentState.PAID,
    }
    logged: dict[str, tuple[int | None, str, dict[str, Any]]] = {}
    for log_index, log_kind, log_ref, log_body in (
        LogEntry.objects.filter(kind__in=settle_kinds).values_list("index", "kind", "ref", "body")
    ).iterator(chunk_size=5000):
        logged[log_ref] = (log_index, log_kind, json.loads(log_body))
    for q_kind, q_ref, q_body in PendingEntry.objects.filter(kind__in=settle_kinds).values_list(
        "kind", "ref", "body"
    ):
        logged.setdefault(q_ref, (None, q_kind, json.loads(q_body)))

    problems: list[tuple[int | None, str]] = []
    seen: set[str] = set()
    rows = Payment.objects.filter(state__in=SETTLED_STATES).values_list(
        "public_id", "state", "amount", "beneficiary_ref", "village_code", "ledger_salt"
    )
    for public_id, state, amount, beneficiary, village, salt in rows.iterator(chunk_size=5000):
        seen.add(public_id)
        entry = logged.get(public_id)
        if entry is None:
            problems.append((None, f"payment {public_id}: {state} but not in the log"))
            continue
        index, kind, body = entry
        where = f"entry {index}" if index is not None else "queued entry"
        if settle_kinds[kind] != state:
            problems.append((index, f"{where}: log says {kind}, payment {public_id} is {state}"))
        elif body.get("v", 1) == 1:
            if body.get("amount") != amount:
                problems.append(
                    (
                        index,
                        f"{where}: amount {body.get('amount')} in the log, {amount} in payment "
                        f"{public_id}",
                    )
                )
            elif body.get("beneficiary") != pseudonymise(beneficiary):
                problems.append((index, f"{where}: beneficiary differs for payment {public_id}"))
            elif body.get("region") != dotted(village):
                problems.append((index, f"{where}: region differs for payment {public_id}"))
        else:
            problem = _entry_problem(body, public_id, amount, beneficiary, salt)
            if problem:
                problems.append((index, f"{where}: {problem}"))
    for ref, (index, kind, _body) in logged.items():
        if ref not in seen:
            where = f"entry {index}" if index is not None else "queued entry"
            problems.append(
                (index, f"{where}: {kind} for payment {ref}, which is missing or not settled")
            )
    problems.sort(key=lambda p: (p[0] is None, p[0] or 0))
    return problems[:limit]


SETTLED_STATES = (PaymentState.PAID, PaymentState.FAILED)


def _entry_problem(
    body: dict[str, Any], public_id: str, amount: int, beneficiary: str, salt: str
) -> str:
    """What a version-2 payment entry and its payment row disagree on ("" when nothing)."""
    from tepat.ledger.entries import payment_pseudonym

    if "amount" in body:
        if body["amount"] != amount:
            return f"amount {body['amount']} in the log, {amount} in payment {public_id}"
    elif not body.get("amount_min", 0) <= amount <= body.get("amount_max", -1):
        return (
            f"amount {amount} of payment {public_id} is outside the log's band "
            f"{body.get('amount_min')}..{body.get('amount_max')}"
        )
    if not salt:
        return ""  # crypto-shredded (erasure blanks the salt): the pseudonym opens to nothing
    expected = payment_pseudonym(
        salt=salt, payment=public_id, beneficiary=beneficiary, amount=amount
    )
    if body.get("beneficiary") != expected:
        return (
            f"beneficiary or amount of payment {public_id} differs from the log's pseudonym "
            "(a commitment to both)"
        )
    return ""


def household_payments(*, household_id: int) -> QuerySet[Payment]:
    """Every payment to one household, newest cycle first, unscoped: for the household's own
    access export (UU 27/2022 Art. 7), whose caller proved who is asking."""
    return (
        Payment.objects.filter(entitlement__household_id=household_id)
        .select_related("cycle__programme")
        .order_by("-cycle__period_start", "-id")
    )


def sms_of_payments(*, payment_ids: list[int]) -> QuerySet[SmsMessage]:
    """The SMS notices written for these payments, oldest first."""
    return SmsMessage.objects.filter(payment_id__in=payment_ids).order_by("created_at", "id")


def payments_count_for_beneficiary(*, person_ref: str, since: Any = None, **_: Any) -> int:
    """Payments to a person that the financial-records retention still keeps: made since
    `since`, or not settled yet whatever their age (registry.rights: erasure blockers)."""
    live = ~Q(state__in=[PaymentState.PAID, PaymentState.FAILED, PaymentState.CANCELLED])
    recent = Q(created_at__gte=since) if since is not None else Q()
    return Payment.objects.filter(Q(beneficiary_ref=person_ref) & (recent | live)).count()
