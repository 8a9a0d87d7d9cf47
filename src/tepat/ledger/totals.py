"""Checking that a cycle's money adds up from the public log alone (no database, no keys).

Version-2 payment entries publish a band where an exact amount would tell a household's make-up
(tepat.payments.ledger_kinds), so a verifier cannot add up exact payments. What it can check,
from the entries it read out of the tiles:

- the `payments.issued` entries of a cycle (exact counts and totals per published area) add up
  to no more than what `cycle.approved` approved;
- the log holds no more payments than were issued, plus one re-issue per failed payment;
- once every issued payment is in the log, the exact issued total lies between the sums of the
  payments' lower and upper bounds (an exact amount is its own bounds);
- `cycle.closed` says as many payments were paid as the log holds settlements and handovers
  for, and its exact paid amount lies between their bounds.

A payment that is logged with an amount its band does not allow, an invented payment, or a paid
total that no set of logged payments can make shows up as a problem naming the cycle. The exact
amount of one payment is checked by the cross-check against the payments table (`ledger verify`)
and by the citizen's receipt, which opens its own payment's pseudonym.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tepat.core.money import format_rupiah as rp

PAYMENT_KINDS = frozenset(
    {"payment.sent", "payment.settled", "payment.failed", "handover.recorded"}
)
PAID_KINDS = frozenset({"payment.settled", "handover.recorded"})


@dataclass
class CycleTotals:
    approved: tuple[int, int] | None = None  # beneficiaries, total amount
    issued_count: int = 0
    issued_amount: int = 0
    bounds: dict[str, tuple[int, int]] = field(default_factory=dict)  # payment -> (low, high)
    paid: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)
    closed: tuple[int, int] | None = None  # paid, paid amount


def bounds_of(entry: Mapping[str, Any]) -> tuple[int, int]:
    """The least and most a payment entry's amount can be."""
    if "amount" in entry:
        return int(entry["amount"]), int(entry["amount"])
    return int(entry["amount_min"]), int(entry["amount_max"])


def cycle_totals(entries: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], CycleTotals]:
    """(programme, cycle) -> what the log says about its money."""
    out: dict[tuple[str, str], CycleTotals] = {}
    for e in entries:
        t = out.setdefault((str(e.get("programme")), str(e.get("cycle"))), CycleTotals())
        kind = e.get("kind")
        if kind == "cycle.approved":
            t.approved = (int(e["beneficiaries"]), int(e["total_amount"]))
        elif kind == "payments.issued":
            t.issued_count += int(e["payments"])
            t.issued_amount += int(e["total_amount"])
        elif kind in PAYMENT_KINDS:
            t.bounds.setdefault(str(e["payment"]), bounds_of(e))
            if kind in PAID_KINDS:
                t.paid.add(str(e["payment"]))
            elif kind == "payment.failed":
                t.failed.add(str(e["payment"]))
        elif kind == "cycle.closed":
            t.closed = (int(e["paid"]), int(e["paid_amount"]))
    return out


def totals_check(entries: Iterable[Mapping[str, Any]]) -> list[str]:
    """Problems with the money of any cycle in `entries` (empty when everything adds up)."""
    problems: list[str] = []
    for (programme, cycle), t in sorted(cycle_totals(entries).items()):
        name = f"{programme}/{cycle}"
        over = t.approved is not None and (
            t.issued_count > t.approved[0] or t.issued_amount > t.approved[1]
        )
        if over and t.approved is not None:
            problems.append(
                f"{name}: issued {t.issued_count} payments / {rp(t.issued_amount)}, more than "
                f"the approved {t.approved[0]} / {rp(t.approved[1])}"
            )
        # An operator may re-issue a payment that failed for good: one new payment per failure.
        if t.issued_count and len(t.bounds) > t.issued_count + len(t.failed):
            problems.append(
                f"{name}: the log holds {len(t.bounds)} payments, {t.issued_count} were issued "
                f"and {len(t.failed)} failed"
            )
        if t.issued_count and len(t.bounds) == t.issued_count:
            low = sum(b[0] for b in t.bounds.values())
            high = sum(b[1] for b in t.bounds.values())
            if not low <= t.issued_amount <= high:
                problems.append(
                    f"{name}: the issued total {rp(t.issued_amount)} is outside what its logged "
                    f"payments allow ({rp(low)} to {rp(high)})"
                )
        if t.closed is not None:
            low = sum(t.bounds[p][0] for p in t.paid)
            high = sum(t.bounds[p][1] for p in t.paid)
            if t.closed[0] != len(t.paid):
                problems.append(
                    f"{name}: closed with {t.closed[0]} paid, the log holds {len(t.paid)} "
                    "settlements and handovers"
                )
            if not low <= t.closed[1] <= high:
                problems.append(
                    f"{name}: the paid total {rp(t.closed[1])} is outside what its logged "
                    f"settlements allow ({rp(low)} to {rp(high)})"
                )
    return problems
