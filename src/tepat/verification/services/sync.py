"""The sync of handovers recorded offline by field devices: each exactly once (keyed by its
client id), at most one accepted per voucher (the second a flagged duplicate), in one
transaction that also pays the handed-over payments (tepat.payments.services)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction

from tepat.accounts.models import Role
from tepat.accounts.scoping import can_see_region
from tepat.core.audit import audit_record
from tepat.payments.models import PaymentState
from tepat.verification import signing
from tepat.verification.models import (
    FaceCheck,
    Handover,
    HandoverStatus,
    Method,
    OtpChallenge,
    ProxyCollector,
    Voucher,
)
from tepat.verification.services.common import ISSUERS, _require, setting
from tepat.verification.services.day_list import card_alternatives, cards_on_file
from tepat.verification.services.policy import PolicyBook

if TYPE_CHECKING:
    from tepat.accounts.models import User


def verification_failure_record(
    *, acting_user: User, voucher_id: str, method: str, reason: str
) -> None:
    """A failed check the device made offline, reported at sync: goes to the audit trail."""
    audit_record(actor=acting_user, action="verification.failed", target_type="voucher",
                 target_id=voucher_id[:16], detail={"method": method[:8], "reason": reason[:64]})  # fmt: skip


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


def handovers_sync(*, acting_user: User, device_id: str, items: Sequence[HandoverIn]) -> SyncResult:
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
