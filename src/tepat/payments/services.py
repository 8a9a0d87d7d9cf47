"""Writes for payments: issue (the outbox), claim/record (the worker), callbacks, dead letters,
statements, reconciliation, distribution and closing of a cycle.

Exactly-once rests on three things: a deterministic payment key under a unique constraint, sent to
the provider as its idempotency key; claims under a lease, so a killed worker's rows come back;
and results recorded only for rows the recording worker still holds.
"""

from __future__ import annotations

import hashlib
import os
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from tepat.accounts.models import Role
from tepat.core import crypto
from tepat.core.audit import audit_record
from tepat.core.errors import FieldProblem, PermissionDenied, TepatError, ValidationFailed
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
from tepat.payments.providers import Outcome, ProviderAdapter
from tepat.programs import services as programs
from tepat.programs.models import Cycle, CycleState, EntitlementState

P = PaymentState
OPERATORS = frozenset({Role.ADMIN, Role.OPERATOR, Role.SUPERVISOR})
APPROVERS = frozenset({Role.ADMIN, Role.SUPERVISOR})
OPEN_STATES = (P.ISSUED, P.SENDING, P.SENT, P.DEAD)


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


def dotted(village_code: str) -> str:
    c = village_code
    return f"{c[:2]}.{c[2:4]}.{c[4:6]}.{c[6:]}" if len(c) == 10 else c


# --- issue ---------------------------------------------------------------------------------


def payments_issue(*, acting_user: Any, cycle: Cycle) -> int:
    """Write one payment per approved entitlement into the outbox; re-running adds nothing.

    The batch is refused whole when it would take the cycle past its control totals."""
    _require(acting_user, OPERATORS, "menerbitkan pembayaran / issue payments")
    cycle = Cycle.objects.select_related("programme").get(pk=cycle.pk)
    if cycle.state != CycleState.APPROVED:
        raise TepatError("Tahap belum disetujui / the cycle is not approved", code="not_approved")
    ents = list(
        cycle.entitlements.filter(state=EntitlementState.APPROVED)
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
        Cycle.objects.select_for_update().filter(pk=cycle.pk).first()
        for i in range(0, len(rows), 5000):
            Payment.objects.bulk_create(rows[i : i + 5000], ignore_conflicts=True)
        audit_record(actor=acting_user, action="payments.issue", target_type="cycle",
                     target_id=cycle.public_id, detail={"issued": len(rows), "total": count})  # fmt: skip
    return len(rows)


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


def payments_claim(*, worker: str, batch: int, lease_s: float) -> list[Claimed]:
    """Take up to `batch` due payments under a lease. PostgreSQL: FOR UPDATE SKIP LOCKED, so
    workers never wait on each other. SQLite: the IMMEDIATE transaction holds the write lock,
    and the UPDATE repeats the due condition, so a row is never claimed twice."""
    now = timezone.now()
    due = Q(state=P.ISSUED, next_attempt_at__lte=now) | Q(state=P.SENDING, lease_until__lt=now)
    with transaction.atomic():
        ids = list(
            Payment.objects.select_for_update(skip_locked=True)
            .filter(due)
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
            )
        )  # fmt: skip
    return [
        Claimed(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7],
                crypto.decrypt(r[8], context=channels.PAYEE_CONTEXT), r[9], r[10])
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


def _entry(
    kind: str, p: Claimed | Payment, cycle: tuple[str, str], channel: str, reason: str = ""
) -> tuple[str, dict[str, Any], str]:
    from tepat.ledger.entries import pseudonymise

    body: dict[str, Any] = {
        "programme": cycle[0], "cycle": cycle[1], "time": timezone.now(), "payment": p.public_id,
        "beneficiary": pseudonymise(p.beneficiary_ref), "amount": p.amount,
        "region": dotted(p.village_code),
    }  # fmt: skip
    if kind == "payment.sent":
        body["channel"] = channel
    if kind == "payment.failed":
        body["reason"] = reason or "unknown"
    return kind, body, p.public_id


def _cycle_codes(payment_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    rows = Payment.objects.filter(id__in=list(payment_ids)).values_list(
        "id", "cycle__programme__code", "cycle__code"
    )
    return {r[0]: (r[1], r[2]) for r in rows}


def payments_record(
    *, worker: str, claimed: Sequence[Claimed], outcomes: Sequence[Outcome]
) -> dict[str, int]:
    """Record a provider's answer for rows this worker still holds (a row whose lease was taken
    over is left to the new holder, which will get the same answer replayed)."""
    by_key = {o.reference_id: o for o in outcomes}
    now = timezone.now()
    counts = {"paid": 0, "failed": 0, "sent": 0, "missing": 0}
    with transaction.atomic():
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


def payments_apply_callbacks(*, outcomes: Sequence[Outcome]) -> dict[str, int]:
    """Apply provider callbacks. Duplicates and stale ones (a `pdng` after the final outcome)
    change nothing: a settled payment never moves again.

    Only the payment rows are locked (not their cycle), so concurrent callbacks for different
    payments do not queue behind each other."""
    counts = {"paid": 0, "failed": 0, "ignored": 0}
    final = {o.reference_id: o for o in outcomes if o.status in ("succ", "rjct")}
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            Payment.objects.select_for_update(of=("self",))
            .filter(payment_key__in=list(final), state__in=[P.ISSUED, P.SENDING, P.SENT, P.DEAD])
            .order_by("id")
        )
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
    counts["ignored"] = len(outcomes) - counts["paid"] - counts["failed"]
    return counts


def payments_poll_status(
    *, adapter: ProviderAdapter, older_than_s: float = 60.0, batch: int = 500
) -> dict[str, int]:
    """Ask the provider about payments sent long ago whose callback never came."""
    cutoff = timezone.now() - timedelta(seconds=older_than_s)
    keys = list(
        Payment.objects.filter(state=P.SENT, sent_at__lt=cutoff).values_list(
            "payment_key", flat=True
        )[:batch]
    )
    if not keys:
        return {"paid": 0, "failed": 0, "ignored": 0}
    return payments_apply_callbacks(outcomes=adapter.status(keys))


# --- dead letters ----------------------------------------------------------------------------

RESOLUTIONS = ("retry", "fallback_cash", "write_off")


def payment_resolve(*, acting_user: Any, payment: Payment, action: str, reason: str) -> Payment:
    """An operator resolves a dead letter (or a permanent failure): retry it, re-issue it as
    cash through PT Pos (a new deterministic payment), or write it off."""
    _require(acting_user, OPERATORS, "menyelesaikan pembayaran gagal / resolve failed payments")
    reason = _reason(reason)
    if action not in RESOLUTIONS:
        raise ValidationFailed(
            [FieldProblem("action", "unknown_code", f"pilihan: {', '.join(RESOLUTIONS)}")]
        )
    with transaction.atomic():
        p = (
            Payment.objects.select_for_update()
            .select_related("cycle__programme")
            .get(pk=payment.pk)
        )
        allowed = (P.DEAD,) if action == "retry" else (P.DEAD, P.FAILED)
        if p.state not in allowed:
            raise TepatError(
                f"Pembayaran berstatus {p.state} / payment is {p.state}", code="invalid_transition"
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
                     detail={"before": before, "after": p.state, "reason": reason})  # fmt: skip
    return p


# --- statements and reconciliation -------------------------------------------------------------


def statement_import(
    *, acting_user: Any, provider: str, file_name: str, data: bytes, adapter: ProviderAdapter
) -> Statement:
    """Import a provider's statement file once (the file's hash is unique)."""
    _require(acting_user, OPERATORS, "mengimpor rekening koran / import statements")
    digest = hashlib.sha256(data).hexdigest()
    try:
        rows = adapter.parse_statement(data)
    except (KeyError, ValueError) as exc:
        raise ValidationFailed(
            [FieldProblem("file", "bad_statement", f"berkas tidak terbaca / unreadable: {exc}")]
        ) from None
    day = rows[0].executed_at[:10] if rows else timezone.localdate().isoformat()
    with transaction.atomic():
        existing = Statement.objects.filter(file_sha256=digest).first()
        if existing is not None:
            return existing
        st = Statement.objects.create(provider=provider, statement_date=day, file_name=file_name[:255],
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

    @property
    def clean(self) -> bool:
        return self.unexplained == 0 and self.open_payments == 0


def cycle_reconcile(*, acting_user: Any, cycle: Cycle) -> Reconciliation:
    """Match the cycle's payments with imported statement lines and record the differences."""
    _require(acting_user, OPERATORS, "merekonsiliasi / reconcile")
    prefix = key_prefix(cycle)
    ours = {
        k: (pid, amount, state)
        for pid, k, amount, state in Payment.objects.filter(cycle=cycle).values_list(
            "id", "payment_key", "amount", "state"
        )
    }
    theirs: dict[str, int] = {}
    for ref, amount in StatementLine.objects.filter(
        reference_id__startswith=prefix, status="succ"
    ).values_list("reference_id", "amount"):
        theirs[ref] = theirs.get(ref, 0) + amount
    found: list[tuple[str, str, int | None, int | None]] = []
    matched: list[int] = []
    for key, (pid, amount, state) in ours.items():
        got = theirs.get(key)
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
    with transaction.atomic():
        current = {
            (d.kind, d.reference_id): d
            for d in Difference.objects.select_for_update().filter(cycle=cycle)
        }
        wanted = {(k, ref) for k, ref, _, _ in found}
        stale = [d.pk for key, d in current.items() if key not in wanted and not d.explanation]
        Difference.objects.filter(pk__in=stale).delete()
        Difference.objects.bulk_create(
            [Difference(cycle=cycle, kind=k, reference_id=ref, ours_amount=a, their_amount=b)
             for k, ref, a, b in found if (k, ref) not in current],
            ignore_conflicts=True,
        )  # fmt: skip
        for i in range(0, len(matched), 5000):
            Payment.objects.filter(id__in=matched[i : i + 5000]).update(reconciled=True)
        audit_record(actor=acting_user, action="cycle.reconcile", target_type="cycle",
                     target_id=cycle.public_id, detail={"matched": len(matched), "differences": len(found)})  # fmt: skip
    by_kind: dict[str, int] = defaultdict(int)
    for k, *_ in found:
        by_kind[k] += 1
    unexplained = Difference.objects.filter(cycle=cycle, explanation="").count()
    open_n = Payment.objects.filter(cycle=cycle, state__in=OPEN_STATES).count()
    return Reconciliation(len(matched), by_kind[Difference.Kind.NOT_OURS], by_kind[Difference.Kind.NOT_PAID],
                          by_kind[Difference.Kind.AMOUNT], by_kind[Difference.Kind.STATUS], unexplained, open_n)  # fmt: skip


def difference_explain(*, acting_user: Any, difference: Difference, explanation: str) -> Difference:
    _require(acting_user, OPERATORS, "menjelaskan selisih / explain differences")
    explanation = _reason(explanation)
    with transaction.atomic():
        d = Difference.objects.select_for_update().get(pk=difference.pk)
        d.explanation = explanation
        d.explained_by = acting_user
        d.save(update_fields=["explanation", "explained_by"])
        audit_record(actor=acting_user, action="difference.explain", target_type="difference",
                     target_id=d.reference_id, detail={"kind": d.kind, "explanation": explanation})  # fmt: skip
    return d


def cycle_distribute(*, acting_user: Any, cycle: Cycle) -> Cycle:
    """approved -> distributed, only when reconciled or every difference is explained."""
    _require(acting_user, APPROVERS, "menandai tersalurkan / mark distributed")
    rec = cycle_reconcile(acting_user=acting_user, cycle=cycle)
    if not rec.clean:
        raise TepatError(
            f"Belum rekonsiliasi: {rec.unexplained} selisih tanpa penjelasan, {rec.open_payments} "
            f"pembayaran belum selesai / not reconciled",
            code="not_reconciled",
        )
    return programs.cycle_mark_distributed(acting_user=acting_user, cycle=cycle, summary={
        "matched": rec.matched, "explained_differences": Difference.objects.filter(cycle=cycle).count()})  # fmt: skip


def cycle_close(*, acting_user: Any, cycle: Cycle) -> Cycle:
    paid = Payment.objects.filter(cycle=cycle, state=P.PAID).aggregate(
        n=Count("id"), a=Sum("amount")
    )
    failed = Payment.objects.filter(cycle=cycle, state=P.FAILED).count()
    return programs.cycle_end(acting_user=acting_user, cycle=cycle, paid=paid["n"] or 0,
                              paid_amount=paid["a"] or 0, failed=failed)  # fmt: skip


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
    already paid, or on other channels, are left alone: a handover never pays twice.
    """
    now = timezone.now()
    rows = list(
        Payment.objects.select_for_update()
        .filter(id__in=list(payment_ids), channel__in=HANDOVER_CHANNELS)
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
