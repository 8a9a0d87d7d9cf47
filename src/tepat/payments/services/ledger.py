"""The hooks through which payments (and verification, for handovers) describe a payment to
the transparency log: version-2 entries with a pseudonym per payment, no region, and the amount
or its band. Written in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from tepat.payments.models import Payment
from tepat.payments.services.outbox import Claimed
from tepat.programs.models import Cycle


def _ledger_many(items: list[tuple[str, Mapping[str, Any], str]]) -> None:
    """The hook through which payments write to the transparency log (caller's transaction)."""
    if items:
        from tepat.ledger.services import ledger_enqueue_many

        ledger_enqueue_many(items=items)


@dataclass(frozen=True)
class LedgerCycle:
    """What a payment entry says about its cycle: codes, and the programme's base amount (the
    one amount every recipient gets; None where amounts are sums of components, as in PKH)."""

    programme: str
    cycle: str
    base_amount: int | None


def ledger_cycles(cycle_ids: Iterable[int]) -> dict[int, LedgerCycle]:
    from tepat.programs import calc
    from tepat.programs.models import ProgrammeKind

    out: dict[int, LedgerCycle] = {}
    for c in Cycle.objects.filter(id__in=set(cycle_ids)).select_related("programme"):
        base: int | None = None
        if c.programme.kind != ProgrammeKind.PKH:
            try:
                base = calc.flat_amount(c.frozen_params or c.programme.params)
            except (KeyError, TypeError, ValueError):
                base = None
        out[c.pk] = LedgerCycle(c.programme.code, c.code, base)
    return out


def payment_entry(
    kind: str, p: Claimed | Payment, cycle: LedgerCycle, **extra: str
) -> tuple[str, dict[str, Any], str]:
    """A version-2 payment entry (tepat.ledger.entries): a pseudonym for this payment only, no
    region, the amount or its band. The hook through which payments and verification describe a
    payment to the transparency log."""
    from tepat.ledger.entries import payment_pseudonym, public_amount

    body: dict[str, Any] = {
        "v": 2, "programme": cycle.programme, "cycle": cycle.cycle, "time": timezone.now(),
        "payment": p.public_id,
        "beneficiary": payment_pseudonym(salt=p.ledger_salt, payment=p.public_id,
                                         beneficiary=p.beneficiary_ref, amount=p.amount),
        **public_amount(p.amount, base=cycle.base_amount), **extra,
    }  # fmt: skip
    return kind, body, p.public_id


def _entry(
    kind: str, p: Claimed | Payment, cycle: LedgerCycle, channel: str, reason: str = ""
) -> tuple[str, dict[str, Any], str]:
    if kind == "payment.sent":
        return payment_entry(kind, p, cycle, channel=channel)
    if kind == "payment.failed":
        return payment_entry(kind, p, cycle, reason=reason or "unknown")
    return payment_entry(kind, p, cycle)


def _cycle_codes(payment_ids: Iterable[int]) -> dict[int, LedgerCycle]:
    rows = dict(Payment.objects.filter(id__in=list(payment_ids)).values_list("id", "cycle_id"))
    cycles = ledger_cycles(rows.values())
    return {pid: cycles[cid] for pid, cid in rows.items()}
