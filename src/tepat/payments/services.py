"""Writes for payments: issue (the outbox), claim/record (the worker), callbacks, dead letters,
statements, reconciliation, distribution and closing of a cycle.

Exactly-once rests on three things: a deterministic payment key under a unique constraint, sent to
the provider as its idempotency key; claims under a lease, so a killed worker's rows come back;
and results recorded only for rows the recording worker still holds.

After approval a cycle belongs to payments, and its lifecycle runs one way: issue, the worker,
dead letters, reconciliation, distribution, closing, and cancellation of an approved cycle all
live here, behind one lock per cycle (see "one lock per cycle" below). Programs exposes a small
interface for it (`entitlements_mark`, `cycle_mark_distributed`, `cycle_mark_cancelled`,
`cycle_end`) and never calls back. The worker sends only payments of a payable (approved) cycle,
and nothing that may already have executed at the provider is re-issued, retried, written off or
cancelled before the provider was asked.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from tepat.accounts import scoping
from tepat.accounts.models import Role
from tepat.core import crypto
from tepat.core.audit import audit_record
from tepat.core.errors import (
    FieldProblem,
    NotFound,
    PermissionDenied,
    TepatError,
    ValidationFailed,
)
from tepat.core.money import format_rupiah
from tepat.payments import channels
from tepat.payments.models import (
    Channel,
    Difference,
    Payment,
    PaymentState,
    SmsMessage,
    Statement,
    StatementLine,
)
from tepat.payments.providers import (
    IdempotencyConflict,
    Outcome,
    ProviderAdapter,
    TransientProviderError,
    default_adapter,
)
from tepat.programs import services as programs
from tepat.programs.models import Cycle, CycleState, EntitlementState
from tepat.regions.selectors import dotted
from tepat.registry.rights import restricted_households

P = PaymentState
OPERATORS = frozenset({Role.ADMIN, Role.OPERATOR, Role.SUPERVISOR})
APPROVERS = frozenset({Role.ADMIN, Role.SUPERVISOR})
OPEN_STATES = (P.ISSUED, P.SENDING, P.SENT, P.DEAD)
SYSTEM = SimpleNamespace(username="system:payments")  # the actor of what no person did


def _require(user: Any, roles: frozenset[str], what: str) -> None:
    role = Role.ADMIN if getattr(user, "is_superuser", False) else getattr(user, "role", "")
    if not getattr(user, "is_authenticated", False) or role not in roles:
        raise PermissionDenied(f"Peran Anda tidak boleh {what} / your role may not {what}")


def _reason(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(
            [FieldProblem("reason", "required", "Alasan wajib diisi / a reason is required")]
        )
    return text


def setting(name: str, default: Any) -> Any:
    """A payments setting: Django settings first, then the environment, then the default
    (settings.py is shared; these are listed in docs/operations.md)."""
    return getattr(settings, name, os.environ.get(name, default))


def payment_key(
    *, programme: str, cycle: str, beneficiary: str, instalment: int, series: int = 0
) -> str:
    """Deterministic: the same payment always gets the same key (and idempotency key).

    `series` > 0 only for an operator's re-issue through another channel after a permanent
    failure: a new, equally deterministic payment."""
    raw = f"{programme}|{cycle}|{beneficiary}|{instalment}|{series}"
    return f"{programme}.{cycle}.{hashlib.sha256(raw.encode()).hexdigest()[:24]}"


def key_prefix(cycle: Cycle) -> str:
    return f"{cycle.programme.code}.{cycle.code}."


# --- one lock per cycle ----------------------------------------------------------------------
#
# One lock orders everything that happens to an approved cycle and its payments: the cycle's row.
# Lifecycle changes (issue, resolve, reconcile, distribute, close, cancel) hold it exclusively
# (FOR UPDATE); the paths that move payments (the worker's claim, reschedule and record, status
# polls, callbacks, handovers) hold it shared (FOR SHARE on PostgreSQL), so workers never wait on
# each other while a cancel waits for them and they for it. It is always taken first, before any
# payment row, so the two kinds never deadlock. SQLite serialises every writer (IMMEDIATE
# transactions): there the state checks inside the transaction are enough.

PAYABLE = (CycleState.APPROVED,)  # the only state in which a cycle's payments are sent


class Refused(TepatError):
    """A money action refused for the state things are in (409): nothing was changed."""

    http_status = 409


def cycle_lock(cycle: Cycle) -> Cycle:
    """The cycle, locked exclusively until the caller's transaction ends (call inside one)."""
    try:
        return (
            Cycle.objects.select_for_update(of=("self",))
            .select_related("programme")
            .get(pk=cycle.pk)
        )
    except Cycle.DoesNotExist:
        raise NotFound() from None


def cycles_hold(cycle_ids: Iterable[int], *, skip_locked: bool = False) -> dict[int, str]:
    """The shared side of the cycles' locks, held until the caller's transaction ends:
    {cycle id: state}. With `skip_locked`, a cycle someone is changing right now is left out
    (the worker's claim: it comes back to it on its next turn)."""
    ids = sorted({int(i) for i in cycle_ids})
    if not ids:
        return {}
    if connection.vendor != "postgresql":
        return dict(Cycle.objects.filter(id__in=ids).values_list("id", "state"))
    table = connection.ops.quote_name(Cycle._meta.db_table)
    skip = " SKIP LOCKED" if skip_locked else ""
    sql = f"SELECT id, state FROM {table} WHERE id = ANY(%s) ORDER BY id FOR SHARE{skip}"  # noqa: S608 - the model's own table name
    with connection.cursor() as cursor:
        cursor.execute(sql, [ids])
        return {int(i): str(state) for i, state in cursor.fetchall()}


# --- asking the provider before touching a payment that may have executed ----------------------

_PROVIDER_ERRORS = (TransientProviderError, IdempotencyConflict, TepatError, OSError, ValueError,
                    KeyError)  # fmt: skip


def _ask_provider(
    adapter: ProviderAdapter | None, payments: Sequence[Payment]
) -> dict[str, Outcome]:
    """The provider's word on each payment: payment key -> its outcome (a key it did not answer
    for is missing). Asked outside any transaction, so no lock is held over the network; refused
    whole when the provider cannot be asked, for then any of them may have executed."""
    keys = [p.payment_key for p in payments]
    if not keys:
        return {}
    adapter = adapter or default_adapter()
    out: dict[str, Outcome] = {}
    try:
        for i in range(0, len(keys), 500):
            out.update((o.reference_id, o) for o in adapter.status(keys[i : i + 500]))
    except _PROVIDER_ERRORS as exc:
        raise Refused(
            f"Penyalur tidak dapat ditanya ({exc}); pembayaran mungkin sudah dijalankan, coba lagi "
            f"nanti / the provider could not be asked: the payment may have executed; try later",
            code="provider_status_unknown",
        ) from None
    return out


def _executed(p: Payment, o: Outcome | None) -> str:
    """'yes' when the provider says it paid, 'no' when it says, under its own verified name,
    that it did not (rejected, or never received), else 'unknown': no answer, an unverified one,
    or one still in progress (pdng, rcvd), so it may still execute."""
    if o is None or o.status not in ("succ", "rjct"):
        return "unknown"
    if o.status == "succ":
        return "yes"  # whoever says so: a claimed success always stops a second payment
    if not o.provider or o.provider != p.provider.strip().upper():
        return "unknown"
    return "no"


def _unknown(payments: Sequence[Payment]) -> Refused:
    names = ", ".join(p.public_id for p in payments[:5])
    return Refused(
        f"Penyalur belum dapat memastikan {len(payments)} pembayaran ({names}); mungkin sudah "
        f"dijalankan, coba lagi nanti / the provider cannot yet say whether {len(payments)} "
        f"payment(s) executed: try again later",
        code="provider_status_unknown",
    )


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


# --- issue ---------------------------------------------------------------------------------


def payments_issue(*, acting_user: Any, cycle: Cycle) -> int:
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
            f"Batch ditolak seluruhnya: {count} pembayaran / {format_rupiah(amount)} melebihi total "
            f"kontrol {cycle.control_count} / {format_rupiah(cycle.control_amount)}",
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


# --- worker: claim, reschedule, record ------------------------------------------------------


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


def _ledger_many(items: list[tuple[str, Mapping[str, Any], str]]) -> None:
    """The hook through which payments write to the transparency log (caller's transaction)."""
    if items:
        from tepat.ledger.services import ledger_enqueue_many

        ledger_enqueue_many(items=items)


def _sms(rows: list[tuple[Claimed | Payment, str, str]], cycle_names: Mapping[int, str]) -> None:
    msgs = []
    for p, outcome, reason in rows:
        key = p.key if isinstance(p, Claimed) else p.payment_key
        amount = format_rupiah(p.amount)
        if outcome == "paid":
            body = (
                f"Bansos {amount} telah disalurkan. Cek di cekbansos. Info: kantor Dinsos setempat."
            )
        elif outcome == "failed":
            body = f"Penyaluran bansos {amount} gagal ({reason}). Hubungi pendamping atau kantor Dinsos."
        else:
            body = f"Bansos {amount} sedang diproses."
        msgs.append(
            SmsMessage(
                event_key=f"{key}:{outcome}", payment_id=p.id, template=outcome, body=body[:320]
            )
        )
    for i in range(0, len(msgs), 5000):
        SmsMessage.objects.bulk_create(msgs[i : i + 5000], ignore_conflicts=True)


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


# --- dead letters ----------------------------------------------------------------------------

RESOLUTIONS = ("retry", "fallback_cash", "write_off")


def payment_resolve(
    *,
    acting_user: Any,
    payment: Payment,
    action: str,
    reason: str,
    adapter: ProviderAdapter | None = None,
) -> Payment:
    """An operator resolves a dead letter (or a permanent failure): retry it, re-issue it as
    cash through PT Pos (a new deterministic payment), or write it off.

    Never while the provider may have executed it: the provider is asked first (`adapter`, or
    the default one). A success is recorded as paid, through the callbacks' path, and the
    resolution refused (`provider_executed`); no answer, an unverified one or one still in
    progress refuses it too (`provider_status_unknown`). Only the provider's own rejection (or
    its "never received") lets the operator go on."""
    _require(acting_user, OPERATORS, "menyelesaikan pembayaran gagal / resolve failed payments")
    scoping.require_payment_action(acting_user, payment)
    reason = _reason(reason)
    if action not in RESOLUTIONS:
        raise ValidationFailed(
            [FieldProblem("action", "unknown_code", f"pilihan: {', '.join(RESOLUTIONS)}")]
        )
    allowed = (P.DEAD,) if action == "retry" else (P.DEAD, P.FAILED)
    asked = Payment.objects.get(pk=payment.pk)
    if asked.state not in allowed:
        raise TepatError(
            f"Pembayaran berstatus {asked.state} / payment is {asked.state}",
            code="invalid_transition",
        )
    said = _ask_provider(adapter, [asked]).get(asked.payment_key)
    verdict = _executed(asked, said)
    if verdict == "yes" and said is not None:
        with transaction.atomic():
            cycles_hold([asked.cycle_id])
            paid = _record_success(asked, said)
            audit_record(actor=acting_user, action=f"payment.{action}_refused", target_type="payment",
                         target_id=asked.public_id, region_code=asked.village_code,
                         detail={"reason": "provider_executed", "recorded_paid": paid,
                                 "state": asked.state})  # fmt: skip
        raise Refused(
            "Penyalur sudah menjalankan pembayaran ini: dicatat sebagai dibayar, tidak ada yang "
            "diterbitkan ulang / the provider executed this payment: it is recorded as paid and "
            "nothing is re-issued",
            code="provider_executed",
        )
    if verdict == "unknown":
        raise _unknown([asked])
    with transaction.atomic():
        cycle = cycle_lock(asked.cycle)
        if cycle.state not in PAYABLE:
            raise Refused(
                f"Tahap berstatus {cycle.state}: pembayarannya tidak dapat diselesaikan / a "
                f"{cycle.state} cycle's payments cannot be resolved",
                code="cycle_not_payable",
            )
        p = (
            Payment.objects.select_for_update()
            .select_related("cycle__programme")
            .get(pk=payment.pk)
        )
        if (p.state, p.attempts) != (asked.state, asked.attempts):
            raise Refused(
                "Pembayaran berubah saat penyalur ditanya; coba lagi / the payment changed while "
                "the provider was asked: try again",
                code="payment_changed",
            )
        before = p.state
        note = f"{action}: {reason} ({getattr(acting_user, 'username', '')})"
        if action == "retry":
            p.state, p.attempts, p.next_attempt_at = P.ISSUED, 0, timezone.now()
        else:
            p.state = P.CANCELLED
        p.resolution = (p.resolution + "\n" + note).strip()
        p.save(update_fields=["state", "attempts", "next_attempt_at", "resolution", "updated_at"])
        if action == "fallback_cash":
            series = Payment.objects.filter(entitlement_id=p.entitlement_id).count()
            cycle = p.cycle
            key = payment_key(programme=cycle.programme.code, cycle=cycle.code, beneficiary=p.beneficiary_ref,
                              instalment=cycle.instalment, series=series)  # fmt: skip
            r = channels.cash_route(
                key=key, name=p.payee_name, village_code=p.village_code, starts=timezone.localdate()
            )
            try:
                Payment.objects.create(
                    payment_key=key, cycle=cycle, entitlement_id=p.entitlement_id,
                    beneficiary_ref=p.beneficiary_ref, village_code=p.village_code, amount=p.amount,
                    channel=r.channel, provider=r.provider,
                    payee_fa_enc=crypto.encrypt(r.payee_fa, context=channels.PAYEE_CONTEXT),
                    payee_fa_masked=r.masked, payee_name=r.payee_name, collection_place=r.place,
                    collection_from=r.collect_from, collection_until=r.collect_until,
                    next_attempt_at=timezone.now(), resolution=f"fallback for {p.public_id}",
                )  # fmt: skip
            except IntegrityError:
                raise TepatError(
                    "Sudah diterbitkan ulang / already re-issued", code="duplicate"
                ) from None
            programs.entitlements_mark(
                entitlement_ids=[p.entitlement_id], state=EntitlementState.APPROVED
            )
        audit_record(actor=acting_user, action=f"payment.{action}", target_type="payment",
                     target_id=p.public_id, region_code=p.village_code,
                     detail={"before": before, "after": p.state, "reason": reason,
                             "provider_status": said.status if said else "",
                             "provider_reason": said.reason if said else ""})  # fmt: skip
    return p


# --- statements and reconciliation -------------------------------------------------------------


def statement_import(
    *, acting_user: Any, provider: str, file_name: str, data: bytes, adapter: ProviderAdapter
) -> Statement:
    """Import a provider's signed statement once (its content's hash is unique).

    The file is the provider's signed envelope (`signatures.envelope_seal`), verified with that
    provider's key before anything is read: an operator carries it, but cannot write it. Its
    lines may name only that provider's payments (or references unknown to us, which
    reconciliation reports as not ours). `provider`, when given, must be the signer."""
    from tepat.payments.providers import statement_open
    from tepat.payments.signatures import BadSignature

    _require(acting_user, OPERATORS, "mengimpor rekening koran / import statements")
    scoping.require_national(acting_user, "mengimpor rekening koran / import statements")
    try:
        signer, content = statement_open(data)
    except BadSignature as exc:
        audit_record(actor=acting_user, action="statement.refused", target_type="statement",
                     target_id=hashlib.sha256(data).hexdigest()[:16],
                     detail={"reason": exc.code, "file": file_name[:255]})  # fmt: skip
        raise ValidationFailed([FieldProblem(
            "file", f"signature_{exc.code}",
            f"Rekening koran tidak bertanda tangan sah penyalur / not a validly signed provider "
            f"statement: {exc.message}",
        )]) from None  # fmt: skip
    # Once per statement, however often it is signed or carried: the content's hash is unique.
    digest = hashlib.sha256(content).hexdigest()
    if provider and provider != "g2p-connect" and provider.upper() != signer:
        raise ValidationFailed([FieldProblem(
            "provider", "wrong_provider",
            f"Berkas ditandatangani {signer}, bukan {provider} / signed by {signer}, not {provider}",
        )])  # fmt: skip
    try:
        rows = adapter.parse_statement(content)
    except (KeyError, ValueError) as exc:
        raise ValidationFailed(
            [FieldProblem("file", "bad_statement", f"berkas tidak terbaca / unreadable: {exc}")]
        ) from None
    theirs = dict(
        Payment.objects.filter(payment_key__in=[r.reference_id for r in rows]).values_list(
            "payment_key", "provider"
        )
    )
    foreign = [
        FieldProblem(
            "reference_id",
            "wrong_provider",
            f"pembayaran penyalur {theirs[r.reference_id]} / another provider's payment",
            row=n,
        )
        for n, r in enumerate(rows, start=2)
        if r.reference_id in theirs and theirs[r.reference_id].upper() != signer
    ]
    if foreign:
        raise ValidationFailed(foreign[:100])
    day = rows[0].executed_at[:10] if rows else timezone.localdate().isoformat()
    with transaction.atomic():
        existing = Statement.objects.filter(file_sha256=digest).first()
        if existing is not None:
            return existing
        st = Statement.objects.create(provider=signer, statement_date=day, file_name=file_name[:255],
                                      file_sha256=digest, lines=len(rows), imported_by=acting_user)  # fmt: skip
        lines = [StatementLine(statement=st, reference_id=r.reference_id[:64], amount=r.amount,
                               status=r.status[:8], executed_at=r.executed_at or None) for r in rows]  # fmt: skip
        for i in range(0, len(lines), 5000):
            StatementLine.objects.bulk_create(lines[i : i + 5000])
        audit_record(actor=acting_user, action="statement.import", target_type="statement",
                     target_id=st.public_id, detail={"lines": len(rows), "file": file_name})  # fmt: skip
    return st


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


def cycle_reconcile(*, acting_user: Any, cycle: Cycle) -> Reconciliation:
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


def _reconcile(*, acting_user: Any, cycle: Cycle) -> Reconciliation:
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


def difference_explain(*, acting_user: Any, difference: Difference, explanation: str) -> Difference:
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


def _paid_twice(n: int) -> Refused:
    return Refused(
        f"{n} hak dibayar dua kali; tahap tidak dapat disalurkan atau ditutup sampai dana "
        f"dikembalikan / {n} entitlement(s) paid twice: the cycle cannot be distributed or "
        f"closed until the money is recovered",
        code="paid_twice",
    )


def cycle_distribute(*, acting_user: Any, cycle: Cycle) -> Cycle:
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
        f"pembayaran belum selesai / not reconciled",
        code="not_reconciled",
    )


def cycle_close(*, acting_user: Any, cycle: Cycle) -> Cycle:
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
    *, acting_user: Any, cycle: Cycle, reason: str, adapter: ProviderAdapter | None = None
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


# --- SMS ----------------------------------------------------------------------------------------


def sms_deliver(*, gateway: Any, batch: int = 500) -> int:
    """Send pending SMS through the gateway; a message is marked sent only after the gateway
    accepted it (at-least-once; the gateway dedupes on event_key)."""
    rows = list(
        SmsMessage.objects.filter(state=SmsMessage.State.PENDING)
        .select_related("payment")
        .order_by("id")[:batch]
    )
    if not rows:
        return 0
    from tepat.registry.selectors import person_phones

    phones = person_phones(public_ids=sorted({m.payment.beneficiary_ref for m in rows}))
    # Without a registered phone there is no one to tell: the notice is failed, not retried.
    unreachable = [m.event_key for m in rows if m.payment.beneficiary_ref not in phones]
    if unreachable:
        SmsMessage.objects.filter(event_key__in=unreachable).update(
            state=SmsMessage.State.FAILED, attempts=F("attempts") + 1
        )
    sendable = [m for m in rows if m.payment.beneficiary_ref in phones]
    accepted = gateway.send(
        [(m.event_key, phones[m.payment.beneficiary_ref], m.body) for m in sendable]
    )
    with transaction.atomic():
        SmsMessage.objects.filter(event_key__in=list(accepted), state=SmsMessage.State.PENDING).update(
            state=SmsMessage.State.SENT, sent_at=timezone.now(), attempts=F("attempts") + 1)  # fmt: skip
    return len(accepted)


__all__ = ["Channel"]


# --- handovers at the point of distribution ----------------------------------------------

HANDOVER_CHANNELS = (Channel.CASH_POS, Channel.EWARUNG)


def payments_mark_handed_over(*, payment_ids: Sequence[int]) -> int:
    """Cash (PT Pos) and e-Warung payments whose voucher was handed over become paid.

    Called inside the verification transaction that records the handover, which also appends the
    `handover.recorded` ledger entry (so no `payment.settled` entry is written here). Payments
    already paid, cancelled, of a cycle that is not payable, or on other channels, are left
    alone: a handover never pays twice, nor for a cancelled cycle.
    """
    now = timezone.now()
    ids = list(payment_ids)
    held = cycles_hold(Payment.objects.filter(id__in=ids).values_list("cycle_id", flat=True))
    payable = [cid for cid, state in held.items() if state in PAYABLE]
    rows = list(
        Payment.objects.select_for_update()
        .filter(id__in=ids, channel__in=HANDOVER_CHANNELS, cycle_id__in=payable)
        .exclude(state__in=[PaymentState.PAID, PaymentState.CANCELLED])
    )
    if not rows:
        return 0
    Payment.objects.filter(id__in=[p.id for p in rows]).update(
        state=PaymentState.PAID, settled_at=now, lease_until=None, claimed_by=""
    )
    Payment.objects.filter(id__in=[p.id for p in rows], sent_at__isnull=True).update(sent_at=now)
    programs.entitlements_mark(
        entitlement_ids=[p.entitlement_id for p in rows], state=EntitlementState.PAID
    )
    _sms([(p, "paid", "") for p in rows], {})
    return len(rows)


def payments_forget_payee(*, person_ref: str, **_: Any) -> int:
    """Erasure (UU 27/2022 Art. 8, through registry.rights, once the financial-records
    retention has passed): the payee's account, masked account and name go from the person's
    payments, and the texts sent about them from the SMS outbox. Amounts, states and dates
    stay: the ledger and reconciliation refer to them, and they identify no one. The ledger
    salt goes too: a payment entry's pseudonym then opens to nobody (the cross-check skips a
    blank salt), so the log keeps verifying but no longer links to the person."""
    payments = Payment.objects.filter(beneficiary_ref=person_ref)
    SmsMessage.objects.filter(payment__in=payments).update(body="")
    return payments.update(payee_fa_enc="", payee_fa_masked="", payee_name="", ledger_salt="")
