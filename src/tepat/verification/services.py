"""Writes for verification: issue and revoke vouchers, one-time codes, and the sync of handovers
recorded offline by field devices.

Exactly-once: a handover is keyed by its client-generated id (unique), so a resent batch is a
no-op; at most one handover per voucher is accepted (partial unique constraint), so when two
devices redeemed the same voucher offline the one that syncs second is kept, rejected and flagged.
The server orders by arrival, not by the devices' clocks, which may be skewed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tepat.accounts import scoping
from tepat.accounts.models import Role
from tepat.accounts.scoping import can_see_region
from tepat.core import crypto
from tepat.core.audit import audit_record
from tepat.core.errors import FieldProblem, NotFound, PermissionDenied, TepatError, ValidationFailed
from tepat.payments.models import Channel, Payment, PaymentState
from tepat.programs.models import Cycle
from tepat.registry import sealed
from tepat.verification import signing
from tepat.verification.models import (
    EwarungSettlement,
    FaceCheck,
    FaceTemplate,
    Handover,
    HandoverDecision,
    HandoverStatus,
    Method,
    OtpChallenge,
    ProxyCollector,
    ProxyReason,
    VerificationPolicy,
    Voucher,
)

VOUCHER_CHANNELS = (Channel.CASH_POS, Channel.EWARUNG)
ISSUERS = frozenset({Role.ADMIN, Role.OPERATOR, Role.SUPERVISOR})
# Who decides which checks a programme demands at the counter: a national, not a local, choice.
POLICY_EDITORS = frozenset({Role.ADMIN, Role.SUPERVISOR})
PHONE_CONTEXT = sealed.PHONE


def setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def _role(user: Any) -> str:
    return Role.ADMIN if getattr(user, "is_superuser", False) else str(getattr(user, "role", ""))


def _require(user: Any, roles: frozenset[str], what: str) -> None:
    if not getattr(user, "is_authenticated", False) or _role(user) not in roles:
        raise PermissionDenied(f"Peran Anda tidak boleh {what} / your role may not {what}")


# --- the day's list: what the device checks a card or a proxy's ID number against ---------------
#
# The list carries, instead of a KKS account number or a proxy's NIK, a slow salted digest of
# "<voucher id>:<digits>": PBKDF2-HMAC-SHA256 with a random salt drawn for each download and
# TEPAT_DAY_LIST_KDF_ITERATIONS rounds (default 100,000), 16 bytes, hex. The device derives the
# same digest with WebCrypto (PBKDF2 is there; scrypt and Argon2 are not) from what the card or
# ID shows, about 15 ms in desktop Chromium and an estimated 50 to 150 ms on a field phone, once
# per handover. Someone holding a stolen list pays the same rounds for every guess of every entry
# (the salt is new per list and the voucher id differs per entry, so nothing is precomputed or
# shared): see benchmarks/bench_day_list_reversal.py for the figures before and after.

DAY_LIST_KDF = "PBKDF2-SHA256"
DAY_LIST_KDF_BYTES = 16
DEFAULT_DAY_LIST_KDF_ITERATIONS = 100_000


@dataclass(frozen=True)
class DayListKdf:
    """The key derivation of one day's list: its salt (random per download) and rounds."""

    salt: bytes
    iterations: int

    def public(self) -> dict[str, Any]:
        return {"alg": DAY_LIST_KDF, "iterations": self.iterations,
                "salt": signing.b64e(self.salt), "length": DAY_LIST_KDF_BYTES}  # fmt: skip


def day_list_kdf_iterations() -> int:
    value = int(setting("TEPAT_DAY_LIST_KDF_ITERATIONS", DEFAULT_DAY_LIST_KDF_ITERATIONS))
    if value < 1000:
        raise ValueError("TEPAT_DAY_LIST_KDF_ITERATIONS must be at least 1000")
    return value


def day_list_kdf() -> DayListKdf:
    """A fresh salt for one download of a day's list."""
    return DayListKdf(secrets.token_bytes(16), day_list_kdf_iterations())


def card_check(voucher_id: str, card_number: str, *, kdf: DayListKdf) -> str:
    """What the day's list carries instead of a KKS number or a proxy's ID number: the device
    derives the same from what the card or ID shows and compares."""
    digits = "".join(ch for ch in card_number if ch.isdigit())
    return hashlib.pbkdf2_hmac(
        "sha256", f"{voucher_id}:{digits}".encode(), kdf.salt, kdf.iterations,
        DAY_LIST_KDF_BYTES,
    ).hex()  # fmt: skip


def card_checks(pairs: Sequence[tuple[str, str]], *, kdf: DayListKdf) -> list[str]:
    """`card_check` for many (voucher id, number) pairs, on several cores: hashlib's PBKDF2
    releases the GIL, and a list of a few hundred entries would otherwise take seconds."""
    if len(pairs) < 8:
        return [card_check(v, n, kdf=kdf) for v, n in pairs]
    from concurrent.futures import ThreadPoolExecutor

    workers = min(8, os.cpu_count() or 1, len(pairs))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda pair: card_check(pair[0], pair[1], kdf=kdf), pairs))


def cards_on_file(person_refs: Sequence[str]) -> set[str]:
    """The beneficiaries (person public ids) with a KKS card on file: a current bank account,
    the number the day's list lets the device check. Without one, a `card` handover would rest
    on the agent's word alone."""
    from tepat.registry.models import FinancialAddress

    return set(
        FinancialAddress.objects.filter(
            person__public_id__in=list(person_refs), kind="bank", valid_to__isnull=True
        ).values_list("person__public_id", flat=True)
    )


def card_alternatives(methods: Sequence[str]) -> list[str]:
    """What a programme's policy offers instead of the card (OTP, face), in canonical order."""
    return [m for m in Method.values if m != Method.CARD and m in methods]


VOUCHER_VERSION = 2


def _payload(v: Voucher, p: Payment, programme: str, cycle: str) -> dict[str, Any]:
    """What the QR code carries, signed: what the point of distribution checks offline (the
    voucher id, to find it in the day's list and the revocation list; the validity window; the
    key) and what tells a person which voucher it is (programme, cycle, channel, district).
    Version 2 (issue 17) leaves out what version 1 carried beyond that: the beneficiary's
    ledger pseudonym (which linked the voucher to every log entry of the person), the exact
    amount (a PKH amount tells pregnancy, elderly or disability components; the day's list and
    the printed voucher give the agent and the holder the amount) and the village (the
    district is enough to tell a voucher of another place)."""
    return {
        "v": VOUCHER_VERSION, "id": v.public_id, "p": programme, "c": cycle, "ch": p.channel,
        "r": p.village_code[:6], "f": int(v.valid_from.timestamp()),
        "u": int(v.valid_until.timestamp()), "k": v.key_id,
    }  # fmt: skip


def vouchers_issue(*, acting_user: Any, cycle: Cycle) -> int:
    """One signed voucher per cash/e-Warung payment of the cycle; re-running adds nothing."""
    _require(acting_user, ISSUERS, "menerbitkan voucher / issue vouchers")
    scoping.require_cycle_action(acting_user, cycle, "menerbitkan voucher / issue vouchers")
    cycle = Cycle.objects.select_related("programme").get(pk=cycle.pk)
    pays = list(
        Payment.objects.filter(cycle=cycle, channel__in=VOUCHER_CHANNELS, voucher__isnull=True)
        .exclude(state=PaymentState.CANCELLED)
        .order_by("id")
    )
    now = timezone.now()
    default_days = int(setting("TEPAT_VOUCHER_VALID_DAYS", 14))
    kid = signing.key_id()
    made = []
    for p in pays:
        v = Voucher(
            payment=p, village_code=p.village_code, key_id=kid,
            valid_from=p.collection_from or now,
            valid_until=p.collection_until or now + dt.timedelta(days=default_days),
        )  # fmt: skip
        v.token = signing.sign(_payload(v, p, cycle.programme.code, cycle.code))
        made.append(v)
    with transaction.atomic(durable=True):
        Voucher.objects.bulk_create(made, batch_size=2000, ignore_conflicts=True)
        audit_record(actor=acting_user, action="vouchers.issue", target_type="cycle",
                     target_id=cycle.public_id, detail={"issued": len(made)})  # fmt: skip
    return len(made)


def voucher_revoke(*, acting_user: Any, voucher_id: str, reason: str) -> Voucher:
    _require(acting_user, ISSUERS, "mencabut voucher / revoke vouchers")
    if not reason.strip():
        raise ValidationFailed([FieldProblem("reason", "required", "Alasan wajib diisi")])
    with transaction.atomic(durable=True):
        v = Voucher.objects.select_for_update().filter(public_id=voucher_id).first()
        if v is None or not can_see_region(acting_user, v.village_code):
            raise NotFound()
        if v.revoked_at is None:
            v.revoked_at = timezone.now()
            v.revoke_reason = reason.strip()[:255]
            v.save(update_fields=["revoked_at", "revoke_reason"])
            audit_record(actor=acting_user, action="voucher.revoke", target_type="voucher",
                         target_id=v.public_id, region_code=v.village_code,
                         detail={"reason": v.revoke_reason})  # fmt: skip
    return v


PROXY_CONTEXT = "verification.proxy.id_number"


def proxy_register(
    *, acting_user: Any, person_ref: str, name: str, id_number: str, reason: str
) -> ProxyCollector:
    """Register, in advance, who may collect for an elderly or disabled beneficiary."""
    from tepat.registry.models import Person

    _require(acting_user, ISSUERS, "mendaftarkan kuasa / register proxies")
    problems = []
    if reason not in ProxyReason.values:
        problems.append(FieldProblem("reason", "unknown_code", "elderly | disabled"))
    if not name.strip():
        problems.append(FieldProblem("name", "required", "Nama kuasa wajib diisi"))
    digits = "".join(ch for ch in id_number if ch.isdigit())
    if len(digits) < 6:
        problems.append(FieldProblem("id_number", "invalid", "Nomor identitas kuasa tidak sah"))
    person = Person.objects.select_related("household").filter(public_id=person_ref).first()
    if person is None or not can_see_region(acting_user, person.household.village_id):
        raise NotFound()
    if problems:
        raise ValidationFailed(problems)
    with transaction.atomic(durable=True):
        proxy = ProxyCollector.objects.create(
            person_ref=person_ref, name=name.strip()[:150], reason=reason,
            village_code=person.household.village_id,
            id_number_enc=crypto.encrypt(digits, context=PROXY_CONTEXT), registered_by=acting_user,
        )  # fmt: skip
        audit_record(actor=acting_user, action="proxy.register", target_type="person",
                     target_id=person_ref, region_code=person.household.village_id,
                     detail={"reason": reason})  # fmt: skip
    return proxy


def proxy_revoke(*, acting_user: Any, proxy_id: str, reason: str) -> ProxyCollector:
    """End a proxy registration (the proxy moved away, the family asked): devices stop accepting
    the proxy's number at their next download, the server at the next sync."""
    from tepat.registry.models import Person

    _require(acting_user, ISSUERS, "mencabut kuasa / revoke proxies")
    if not reason.strip():
        raise ValidationFailed([FieldProblem("reason", "required", "Alasan wajib diisi")])
    with transaction.atomic(durable=True):
        proxy = ProxyCollector.objects.select_for_update().filter(public_id=proxy_id).first()
        if proxy is None:
            raise NotFound()
        village = proxy.village_code or (
            Person.objects.filter(public_id=proxy.person_ref)
            .values_list("household__village_id", flat=True)
            .first()
            or ""
        )
        if not can_see_region(acting_user, village):
            raise NotFound()
        if proxy.revoked_at is None:
            proxy.revoked_at = timezone.now()
            proxy.revoked_by = acting_user
            proxy.revoke_reason = reason.strip()[:255]
            proxy.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
            audit_record(actor=acting_user, action="proxy.revoke", target_type="person",
                         target_id=proxy.person_ref, region_code=village,
                         detail={"proxy": proxy.public_id, "reason": proxy.revoke_reason})  # fmt: skip
    return proxy


def proxy_numbers(person_refs: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
    """person ref -> [(proxy name, proxy id number)] for live registrations."""
    out: dict[str, list[tuple[str, str]]] = {}
    rows = ProxyCollector.objects.filter(person_ref__in=list(person_refs), revoked_at__isnull=True)
    for p in rows:
        number = crypto.decrypt(p.id_number_enc, context=PROXY_CONTEXT)
        out.setdefault(p.person_ref, []).append((p.name, number))
    return out


# --- verification policy per programme and channel --------------------------------------------


def default_methods() -> list[str]:
    raw = setting("TEPAT_VERIFICATION_DEFAULT_METHODS", "card,otp")
    methods = [m.strip() for m in str(raw).split(",") if m.strip() in Method.values]
    return methods or [Method.CARD]


class PolicyBook:
    """Allowed methods per (programme id, channel), read once per request or sync batch."""

    def __init__(self) -> None:
        self._rows = {
            (programme_id, channel): list(methods)
            for programme_id, channel, methods in VerificationPolicy.objects.values_list(
                "programme_id", "channel", "methods"
            )
        }
        self._default = default_methods()

    def methods(self, programme_id: int, channel: str) -> list[str]:
        return self._rows.get((programme_id, channel), self._default)


def verification_policy_set(
    *, acting_user: Any, programme_code: str, channel: str, methods: Sequence[str]
) -> VerificationPolicy:
    """Set which methods (any one suffices) a programme accepts on a voucher channel."""
    from tepat.programs.models import Programme

    _require(acting_user, POLICY_EDITORS, "mengatur metode verifikasi / set verification methods")
    problems = []
    if channel not in VOUCHER_CHANNELS:
        problems.append(FieldProblem("channel", "unknown_code",
                                     "Saluran harus cash_pos atau ewarung / must be cash_pos or ewarung"))  # fmt: skip
    unknown = [m for m in methods if m not in Method.values]
    if unknown:
        problems.append(FieldProblem("methods", "unknown_code",
                                     f"Metode tidak dikenal / unknown method: {', '.join(unknown)}"))  # fmt: skip
    chosen = [m for m in Method.values if m in set(methods)]  # canonical order, no repeats
    if not chosen and not unknown:
        problems.append(FieldProblem("methods", "required",
                                     "Pilih minimal satu metode / choose at least one method"))  # fmt: skip
    programme = Programme.objects.filter(code=programme_code).first()
    if programme is None:
        raise NotFound()
    if problems:
        raise ValidationFailed(problems)
    with transaction.atomic(durable=True):
        row = (
            VerificationPolicy.objects.select_for_update()
            .filter(programme=programme, channel=channel)
            .first()
        )
        before = list(row.methods) if row else None
        if row is None:
            row = VerificationPolicy(programme=programme, channel=channel)
        row.methods = chosen
        row.updated_by = acting_user
        row.save()
        audit_record(actor=acting_user, action="verification_policy.set", target_type="programme",
                     target_id=programme.public_id, detail={"channel": channel, "before": before,
                                                            "after": chosen})  # fmt: skip
    return row


# --- one-time codes ------------------------------------------------------------------------


def _otp_hash(voucher_id: str, code: str) -> str:
    return hmac.new(
        settings.SECRET_KEY.encode(), f"otp:{voucher_id}:{code}".encode(), hashlib.sha256
    ).hexdigest()


def _phone_of(person_ref: str) -> str:
    from tepat.registry.models import Person

    person = Person.objects.filter(public_id=person_ref).first()
    if person is None or not person.phone_enc:
        return ""
    return sealed.unseal(person.phone_enc, context=PHONE_CONTEXT, row=person.public_id)


def otp_send(*, acting_user: Any, voucher_id: str, gateway: Any = None) -> OtpChallenge:
    """Send a 6-digit code to the beneficiary's registered phone (needs a connection)."""
    from tepat.messaging.gateway import sms_gateway

    v = _scoped_voucher(acting_user, voucher_id)
    _require_method(v, Method.OTP)
    phone = _phone_of(v.payment.beneficiary_ref)
    if not phone:
        raise TepatError("Tidak ada nomor telepon terdaftar / no registered phone", code="no_phone")
    code = f"{secrets.randbelow(10**6):06d}"
    ttl = int(setting("TEPAT_OTP_TTL_SECONDS", 300))
    with transaction.atomic(durable=True):
        ch = OtpChallenge.objects.create(
            voucher=v, code_hash=_otp_hash(v.public_id, code),
            expires_at=timezone.now() + dt.timedelta(seconds=ttl),
        )  # fmt: skip
        audit_record(actor=acting_user, action="otp.send", target_type="voucher",
                     target_id=v.public_id, region_code=v.village_code)  # fmt: skip
    body = f"Kode verifikasi bansos: {code}. Jangan berikan kepada siapa pun selain petugas."
    (gateway or sms_gateway()).send([(f"otp:{ch.pk}", phone, body)])
    return ch


def otp_check(*, acting_user: Any, voucher_id: str, code: str) -> bool:
    v = _scoped_voucher(acting_user, voucher_id)
    limit = int(setting("TEPAT_OTP_MAX_ATTEMPTS", 5))
    with transaction.atomic(durable=True):
        ch = (
            OtpChallenge.objects.select_for_update()
            .filter(voucher=v, used_at__isnull=True, expires_at__gt=timezone.now())
            .order_by("-id")
            .first()
        )
        ok = (
            ch is not None
            and ch.attempts < limit
            and hmac.compare_digest(ch.code_hash, _otp_hash(v.public_id, code.strip()))
        )
        if ch is not None:
            ch.attempts += 1
            if ok:
                ch.used_at = timezone.now()
            ch.save(update_fields=["attempts", "used_at"])
        if not ok:
            audit_record(actor=acting_user, action="verification.failed", target_type="voucher",
                         target_id=v.public_id, region_code=v.village_code,
                         detail={"method": Method.OTP})  # fmt: skip
    return ok


def _scoped_voucher(user: Any, voucher_id: str) -> Voucher:
    _require(user, frozenset({Role.FIELD_AGENT, *ISSUERS}), "memverifikasi / verify")
    v = Voucher.objects.select_related("payment__cycle").filter(public_id=voucher_id).first()
    if v is None or not can_see_region(user, v.village_code):
        raise NotFound()
    return v


def _require_method(v: Voucher, method: str) -> None:
    """Refuse a check the voucher's programme does not accept on its channel: no SMS is sent and
    no photo compared for a handover the sync would reject anyway."""
    allowed = PolicyBook().methods(v.payment.cycle.programme_id, v.payment.channel)
    if method not in allowed:
        raise TepatError(
            f"Metode {method} tidak berlaku untuk program dan saluran voucher ini (yang berlaku: "
            f"{', '.join(allowed)}) / method not allowed for this programme and channel",
            code="method_not_allowed",
        )


def verification_failure_record(
    *, acting_user: Any, voucher_id: str, method: str, reason: str
) -> None:
    """A failed check the device made offline, reported at sync: goes to the audit trail."""
    audit_record(actor=acting_user, action="verification.failed", target_type="voucher",
                 target_id=voucher_id[:16], detail={"method": method[:8], "reason": reason[:64]})  # fmt: skip


# --- handover sync -------------------------------------------------------------------------


@dataclass(frozen=True)
class HandoverIn:
    client_id: str
    token: str
    method: str
    device_time: dt.datetime
    by_proxy: bool = False


@dataclass
class SyncResult:
    accepted: list[str]
    duplicates: list[str]  # second redemptions: rejected, flagged for investigation
    rejected: dict[str, str]  # client id -> reason
    already: list[str]  # replays of handovers already applied


def _check(item: HandoverIn, public_raw: bytes) -> tuple[dict[str, Any] | None, str]:
    if item.method not in Method.values:
        return None, "unknown_method"
    try:
        payload = signing.verify(item.token, public_raw)
    except signing.InvalidVoucher as exc:
        return None, exc.code
    skew = dt.timedelta(seconds=int(setting("TEPAT_DEVICE_CLOCK_SKEW_SECONDS", 6 * 3600)))
    t = item.device_time
    if t.tzinfo is None:
        return None, "naive_device_time"
    if t < dt.datetime.fromtimestamp(payload["f"], dt.UTC) - skew:
        return None, "not_yet_valid"
    if t > dt.datetime.fromtimestamp(payload["u"], dt.UTC) + skew:
        return None, "expired"
    return payload, ""


def handovers_sync(*, acting_user: Any, device_id: str, items: Sequence[HandoverIn]) -> SyncResult:
    """Apply a batch from a device: each handover exactly once, in one transaction."""
    from tepat.ledger.services import ledger_enqueue_many
    from tepat.payments.services import ledger_cycles, payment_entry

    _require(
        acting_user,
        frozenset({Role.FIELD_AGENT, *ISSUERS}),
        "mencatat penyerahan / record handovers",
    )
    res = SyncResult([], [], {}, [])
    ids: dict[str, uuid.UUID] = {}
    for it in items:
        try:
            ids[it.client_id] = uuid.UUID(it.client_id)
        except ValueError:
            res.rejected[it.client_id] = "bad_client_id"
    public_raw = signing.public_key_raw()
    checked: list[tuple[HandoverIn, dict[str, Any]]] = []
    for it in items:
        if it.client_id not in ids:
            continue
        payload, why = _check(it, public_raw)
        if payload is None:
            res.rejected[it.client_id] = why
        else:
            checked.append((it, payload))
    with transaction.atomic(durable=True):
        vids = {p["id"] for _, p in checked}
        # Lock the vouchers first so two syncs touching the same voucher serialise here; only
        # then read which client ids and vouchers are already taken.
        vouchers = {
            v.public_id: v
            for v in Voucher.objects.select_for_update()
            .select_related("payment__cycle__programme")
            .filter(public_id__in=vids)
            .order_by("id")
        }
        seen = {
            str(u)
            for u in Handover.objects.filter(client_id__in=list(ids.values())).values_list(
                "client_id", flat=True
            )
        }
        taken = set(
            Handover.objects.filter(
                voucher__public_id__in=vids, status=HandoverStatus.ACCEPTED
            ).values_list("voucher__public_id", flat=True)
        )
        policy = PolicyBook()
        # A code or a face is checked online before the handover: the sync only accepts a
        # handover by one of those methods when the check really passed for that voucher.
        vpks = [v.pk for v in vouchers.values()]
        otp_passed = set(
            OtpChallenge.objects.filter(voucher_id__in=vpks, used_at__isnull=False).values_list(
                "voucher_id", flat=True
            )
        )
        face_passed = set(
            FaceCheck.objects.filter(voucher_id__in=vpks, ok=True).values_list(
                "voucher_id", flat=True
            )
        )
        with_card = cards_on_file([v.payment.beneficiary_ref for v in vouchers.values()])
        cycles = ledger_cycles(v.payment.cycle_id for v in vouchers.values())
        rows: list[Handover] = []
        ledger: list[tuple[str, dict[str, Any], str]] = []
        failures: list[tuple[str, str, str]] = []
        for it, payload in checked:
            cid = str(ids[it.client_id])
            if cid in seen:
                res.already.append(it.client_id)
                continue
            seen.add(cid)
            v = vouchers.get(payload["id"])
            base = {
                "client_id": ids[it.client_id], "agent": acting_user, "device_id": device_id[:64],
                "method": it.method, "by_proxy": it.by_proxy, "device_time": it.device_time,
            }  # fmt: skip
            if v is None or not can_see_region(acting_user, v.village_code):
                res.rejected[it.client_id] = "unknown_voucher"
                continue
            # A voucher of a cancelled payment (or of a cycle no longer payable) is as good as
            # revoked: a cancelled cycle never pays, at the counter either.
            pay_state, cycle_state = v.payment.state, v.payment.cycle.state
            stopped = pay_state == PaymentState.CANCELLED or cycle_state != "approved"
            if v.revoked_at is not None or stopped:
                gone = "revoked" if v.revoked_at is not None else "payment_cancelled"
                rows.append(Handover(voucher=v, status=HandoverStatus.REJECTED, reason=gone,
                                     flagged=True, **base))  # fmt: skip
                res.rejected[it.client_id] = gone
                failures.append((v.public_id, it.method, gone))
                continue
            p = v.payment
            why = ""
            if it.method not in policy.methods(p.cycle.programme_id, p.channel):
                why = "method_not_allowed"
            elif it.method == Method.OTP and v.pk not in otp_passed:
                why = "otp_not_verified"
            elif it.method == Method.FACE and v.pk not in face_passed:
                why = "face_not_verified"
            if why:
                res.rejected[it.client_id] = why
                failures.append((v.public_id, it.method, why))
                continue
            if it.method == Method.CARD and not it.by_proxy and p.beneficiary_ref not in with_card:
                # Nothing on file to check the card against: the payout would rest on the agent's
                # word. Quarantined (kept, flagged for investigation), never paid; the handover
                # needs another method of the policy (OTP, face).
                others = card_alternatives(policy.methods(p.cycle.programme_id, p.channel))
                rows.append(Handover(voucher=v, status=HandoverStatus.REJECTED,
                                     reason="no_card_on_file", flagged=True, **base))  # fmt: skip
                res.rejected[it.client_id] = "no_card_on_file"
                failures.append((v.public_id, it.method,
                                 f"no_card_on_file; use: {','.join(others) or 'none allowed'}"))  # fmt: skip
                continue
            if (
                it.by_proxy
                and not ProxyCollector.objects.filter(
                    person_ref=v.payment.beneficiary_ref, revoked_at__isnull=True
                ).exists()
            ):
                res.rejected[it.client_id] = "no_registered_proxy"
                failures.append((v.public_id, it.method, "no_registered_proxy"))
                continue
            if v.public_id in taken:
                rows.append(Handover(voucher=v, status=HandoverStatus.DUPLICATE,
                                     reason="double_redemption", flagged=True, **base))  # fmt: skip
                res.duplicates.append(it.client_id)
                failures.append((v.public_id, it.method, "double_redemption"))
                continue
            taken.add(v.public_id)
            rows.append(Handover(voucher=v, status=HandoverStatus.ACCEPTED, **base))
            res.accepted.append(it.client_id)
            ledger.append(
                payment_entry("handover.recorded", p, cycles[p.cycle_id], method=it.method)
            )
        Handover.objects.bulk_create(rows, batch_size=2000)
        if ledger:
            ledger_enqueue_many(items=ledger)
            from tepat.payments.services import payments_mark_handed_over

            payments_mark_handed_over(
                payment_ids=[
                    r.voucher.payment_id for r in rows if r.status == HandoverStatus.ACCEPTED
                ]
            )
        for vid, method, reason in failures:
            verification_failure_record(
                acting_user=acting_user, voucher_id=vid, method=method, reason=reason
            )
        audit_record(actor=acting_user, action="handovers.sync", target_type="device",
                     target_id=device_id[:64], detail={
                         "accepted": len(res.accepted), "duplicates": len(res.duplicates),
                         "rejected": len(res.rejected), "already": len(res.already)})  # fmt: skip
    return res


def handover_resolve(*, acting_user: Any, client_id: str, decision: str, note: str) -> Handover:
    """Close the investigation of a flagged handover (a double redemption, a revoked voucher)
    with a decision and a note; decided once, by staff of the voucher's region."""
    _require(acting_user, ISSUERS, "menyelesaikan penyelidikan / resolve investigations")
    problems = []
    if decision not in HandoverDecision.values:
        problems.append(FieldProblem("decision", "unknown_code",
                                     " | ".join(HandoverDecision.values)))  # fmt: skip
    if not note.strip():
        problems.append(
            FieldProblem("note", "required", "Catatan wajib diisi / a note is required")
        )
    try:
        key = uuid.UUID(client_id)
    except ValueError as exc:
        raise NotFound() from exc
    with transaction.atomic(durable=True):
        h = (
            Handover.objects.select_for_update()
            .select_related("voucher")
            .filter(client_id=key, flagged=True)
            .first()
        )
        if h is None or not can_see_region(acting_user, h.voucher.village_code):
            raise NotFound()
        if problems:
            raise ValidationFailed(problems)
        if h.decided_at is not None:
            raise TepatError(
                "Penyelidikan ini sudah diselesaikan / this investigation is already resolved",
                code="already_resolved",
            )
        h.decision = decision
        h.decision_note = note.strip()[:2000]
        h.decided_at = timezone.now()
        h.decided_by = acting_user
        h.save(update_fields=["decision", "decision_note", "decided_at", "decided_by"])
        audit_record(actor=acting_user, action="handover.resolve", target_type="handover",
                     target_id=str(h.client_id), region_code=h.voucher.village_code,
                     detail={"voucher": h.voucher.public_id, "status": h.status,
                             "before": None, "after": decision, "note": h.decision_note})  # fmt: skip
    return h


# --- face verification (optional extra) ----------------------------------------------------

FACE_CONTEXT = "verification.face_template"


def _template_encode(vec: Any) -> str:
    import numpy as np

    return crypto.encrypt(
        signing.b64e(np.asarray(vec, dtype="<f4").tobytes()), context=FACE_CONTEXT
    )


def _template_decode(enc: str) -> Any:
    import numpy as np

    return np.frombuffer(signing.b64d(crypto.decrypt(enc, context=FACE_CONTEXT)), dtype="<f4")


class NoFace(TepatError):
    http_status = 422

    def __init__(self) -> None:
        super().__init__(
            "Wajah tidak terdeteksi pada foto; ambil ulang dengan wajah menghadap kamera dan "
            "cahaya cukup / no face found in the photo",
            code="no_face",
            field="image",
        )


def face_enrol(*, acting_user: Any, person_ref: str, image: Any) -> FaceTemplate:
    """Enrol a face from a photo (an RGB array): only the encrypted descriptor is kept."""
    from tepat.registry.models import Person
    from tepat.verification import face

    _require(acting_user, frozenset({Role.FIELD_AGENT, *ISSUERS}), "merekam wajah / enrol faces")
    person = Person.objects.select_related("household").filter(public_id=person_ref).first()
    if person is None or not can_see_region(acting_user, person.household.village_id):
        raise NotFound()
    vec = face.descriptor(image)
    if vec is None:
        raise NoFace()
    with transaction.atomic(durable=True):
        tpl, created = FaceTemplate.objects.update_or_create(
            person_ref=person_ref,
            defaults={"template_enc": _template_encode(vec), "enrolled_by": acting_user},
        )
        audit_record(actor=acting_user, action="face.enrol", target_type="person",
                     target_id=person_ref, region_code=person.household.village_id,
                     detail={"replaced": not created})  # fmt: skip
    return tpl


@dataclass(frozen=True)
class FaceResult:
    ok: bool
    distance: float | None
    threshold: float


def face_verify(*, acting_user: Any, voucher_id: str, image: Any) -> FaceResult:
    """Compare a live photo with the voucher holder's enrolled template; every attempt audited."""
    from tepat.verification import face

    v = _scoped_voucher(acting_user, voucher_id)
    _require_method(v, Method.FACE)
    threshold = float(setting("TEPAT_FACE_THRESHOLD", 0.5))
    tpl = FaceTemplate.objects.filter(person_ref=v.payment.beneficiary_ref).first()
    if tpl is None:
        raise TepatError("Belum ada rekaman wajah / no enrolled face", code="not_enrolled")
    vec = face.descriptor(image)
    dist = None if vec is None else face.distance(vec, _template_decode(tpl.template_enc))
    ok = dist is not None and dist <= threshold
    with transaction.atomic(durable=True):
        FaceCheck.objects.create(voucher=v, agent=acting_user, ok=ok, distance=dist)
        audit_record(
            actor=acting_user, action="verification.face" if ok else "verification.failed",
            target_type="voucher", target_id=v.public_id, region_code=v.village_code,
            detail={"method": Method.FACE, "distance": None if dist is None else round(dist, 4),
                    "threshold": threshold, "ok": ok,
                    "reason": "" if ok else ("no_face" if dist is None else "mismatch")},
        )  # fmt: skip
    return FaceResult(ok, dist, threshold)


# --- e-Warung settlement ---------------------------------------------------------------------


def ewarung_settle(*, acting_user: Any, ewarung: Any) -> EwarungSettlement | None:
    """Settle, once, every accepted e-Warung voucher redemption the e-Warung has synced and not
    yet been paid for; None when there is nothing to settle."""
    from django.db.models import Sum

    _require(acting_user, ISSUERS, "menyelesaikan pembayaran e-Warung / settle e-Warung")
    with transaction.atomic(durable=True):
        # Lock the rows so a concurrent settlement cannot take the same redemptions.
        ids = list(
            Handover.objects.select_for_update()
            .filter(
                agent=ewarung, status=HandoverStatus.ACCEPTED, settlement__isnull=True,
                voucher__payment__channel=Channel.EWARUNG,
            )
            .values_list("id", flat=True)
        )  # fmt: skip
        if not ids:
            return None
        total = Handover.objects.filter(id__in=ids).aggregate(a=Sum("voucher__payment__amount"))
        st = EwarungSettlement.objects.create(
            ewarung=ewarung, vouchers=len(ids), amount=total["a"] or 0, created_by=acting_user
        )
        Handover.objects.filter(id__in=ids).update(settlement=st)
        audit_record(actor=acting_user, action="ewarung.settle", target_type="settlement",
                     target_id=st.public_id, detail={"vouchers": st.vouchers, "amount": st.amount,
                                                     "ewarung": ewarung.username})  # fmt: skip
    return st


def verification_forget_person(*, person_ref: str, **_: Any) -> int:
    """Erasure (UU 27/2022 Art. 8, through registry.rights): the person's enrolled face
    template (biometric, specific data) and the proxies registered to collect for them (the
    proxies' names and card numbers, which they gave only for this person) are deleted."""
    faces, _n = FaceTemplate.objects.filter(person_ref=person_ref).delete()
    proxies, _n = ProxyCollector.objects.filter(person_ref=person_ref).delete()
    return faces + proxies
