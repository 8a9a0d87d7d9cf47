"""One-time codes sent to the beneficiary's registered phone, checked online before the
handover."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tepat.core.audit import audit_record
from tepat.core.errors import TepatError
from tepat.registry import sealed
from tepat.verification.models import Method, OtpChallenge
from tepat.verification.services.common import PHONE_CONTEXT, setting
from tepat.verification.services.policy import _require_method
from tepat.verification.services.vouchers import _scoped_voucher

if TYPE_CHECKING:
    from tepat.accounts.models import User


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


def otp_send(*, acting_user: User, voucher_id: str, gateway: Any = None) -> OtpChallenge:
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


def otp_check(*, acting_user: User, voucher_id: str, code: str) -> bool:
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
