"""The worker's side of the outbox: claim due payments under a lease, reschedule them after a
transient failure (with backoff), or send them to the dead letters. The rows are always taken
after the shared side of their cycles' locks (tepat.payments.services.locking)."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from tepat.core import crypto
from tepat.payments import channels
from tepat.payments.models import Payment
from tepat.payments.services.common import P
from tepat.payments.services.locking import PAYABLE, cycles_hold
from tepat.programs.models import Cycle


@dataclass(frozen=True)
class Claimed:
    id: int
    key: str
    public_id: str
    entitlement_id: int
    beneficiary_ref: str
    village_code: str
    amount: int
    channel: str
    payee_fa: str
    payee_name: str
    attempts: int
    cycle_id: int = 0
    ledger_salt: str = ""


def payments_claim(*, worker: str, batch: int, lease_s: float) -> list[Claimed]:
    """Take up to `batch` due payments of payable (approved) cycles under a lease. The cycles
    are held shared first (a cancel in progress makes the worker pass its cycle by), then the
    rows: PostgreSQL, FOR UPDATE SKIP LOCKED, so workers never wait on each other; SQLite, the
    IMMEDIATE transaction holds the write lock, and the UPDATE repeats the due condition, so a
    row is never claimed twice."""
    now = timezone.now()
    due = Q(state=P.ISSUED, next_attempt_at__lte=now) | Q(state=P.SENDING, lease_until__lt=now)
    with transaction.atomic():
        candidates = Cycle.objects.filter(state__in=PAYABLE).values_list("id", flat=True)
        held = cycles_hold(candidates, skip_locked=True)
        payable = [cid for cid, state in held.items() if state in PAYABLE]
        if not payable:
            return []
        ids = list(
            Payment.objects.select_for_update(skip_locked=True)
            .filter(due, cycle_id__in=payable)
            .order_by()
            .values_list("id", flat=True)[:batch]
        )
        if not ids:
            return []
        Payment.objects.filter(due, id__in=ids).update(
            state=P.SENDING,
            lease_until=now + timedelta(seconds=lease_s),
            claimed_by=worker,
            attempts=F("attempts") + 1,
        )
        rows = list(
            Payment.objects.filter(id__in=ids, claimed_by=worker, state=P.SENDING).values_list(
                "id", "payment_key", "public_id", "entitlement_id", "beneficiary_ref",
                "village_code", "amount", "channel", "payee_fa_enc", "payee_name", "attempts",
                "cycle_id", "ledger_salt",
            )
        )  # fmt: skip
    return [
        Claimed(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7],
                crypto.decrypt(r[8], context=channels.PAYEE_CONTEXT), r[9], r[10], r[11], r[12])
        for r in rows
    ]  # fmt: skip


def backoff_seconds(
    attempts: int, *, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Exponential backoff with jitter: base * 2^(attempts-1), capped, times 0.5..1."""
    raw = min(cap, base * (2 ** max(attempts - 1, 0)))
    r = (rng or random).random()
    return raw * (0.5 + r / 2)


def payments_reschedule(
    *,
    worker: str,
    claimed: Sequence[Claimed],
    error: str,
    max_attempts: int,
    base: float,
    cap: float,
) -> tuple[int, int]:
    """After a transient failure: back to the outbox with backoff, or to the dead letters.
    Returns (rescheduled, dead)."""
    now = timezone.now()
    by_attempt: dict[int, list[int]] = defaultdict(list)
    for c in claimed:
        by_attempt[c.attempts].append(c.id)
    retried = dead = 0
    with transaction.atomic():
        cycles_hold(c.cycle_id for c in claimed)
        for attempts, ids in by_attempt.items():
            mine = Payment.objects.filter(id__in=ids, claimed_by=worker, state=P.SENDING)
            if attempts >= max_attempts:
                dead += mine.update(state=P.DEAD, last_error=error[:255], lease_until=None,
                                    claimed_by="")  # fmt: skip
            else:
                when = now + timedelta(seconds=backoff_seconds(attempts, base=base, cap=cap))
                retried += mine.update(state=P.ISSUED, next_attempt_at=when, last_error=error[:255],
                                       lease_until=None, claimed_by="")  # fmt: skip
    return retried, dead


def payments_dead_letter(*, worker: str, claimed: Sequence[Claimed], error: str) -> int:
    with transaction.atomic():
        cycles_hold(c.cycle_id for c in claimed)
        return Payment.objects.filter(
            id__in=[c.id for c in claimed], claimed_by=worker, state=P.SENDING
        ).update(state=P.DEAD, last_error=error[:255], lease_until=None, claimed_by="")
