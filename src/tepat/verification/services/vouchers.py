"""Signed vouchers: issued once per cash or e-Warung payment, revoked by staff of their region,
and looked up, within the agent's regions, for an online check."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from tepat.accounts import scoping
from tepat.accounts.models import Role
from tepat.accounts.scoping import can_see_region
from tepat.core.audit import audit_record
from tepat.core.errors import FieldProblem, NotFound, ValidationFailed
from tepat.payments.models import Payment, PaymentState
from tepat.programs.models import Cycle
from tepat.verification import signing
from tepat.verification.models import Voucher
from tepat.verification.services.common import ISSUERS, VOUCHER_CHANNELS, _require, setting

if TYPE_CHECKING:
    from tepat.accounts.models import User


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


def vouchers_issue(*, acting_user: User, cycle: Cycle) -> int:
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


def voucher_revoke(*, acting_user: User, voucher_id: str, reason: str) -> Voucher:
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


def _scoped_voucher(user: Any, voucher_id: str) -> Voucher:
    _require(user, frozenset({Role.FIELD_AGENT, *ISSUERS}), "memverifikasi / verify")
    v = Voucher.objects.select_related("payment__cycle").filter(public_id=voucher_id).first()
    if v is None or not can_see_region(user, v.village_code):
        raise NotFound()
    return v
