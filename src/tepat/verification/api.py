"""Verification API for the field app: public key, day's list, revocation list, OTP, sync."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema

from tepat.verification import selectors, services

router = Router(tags=["verification"])


class KeyOut(Schema):
    alg: str
    key_id: str
    public_key: str


class ProxyOut(Schema):
    name: str
    check: str


class DayItem(Schema):
    id: str
    token: str
    name: str
    amount: int
    village: str
    place: str
    card_check: str
    proxies: list[ProxyOut]


class DayOut(Schema):
    items: list[DayItem]
    revoked: list[str]
    key: KeyOut


class HandoverItem(Schema):
    client_id: str
    token: str
    method: str
    device_time: dt.datetime
    by_proxy: bool = False


class FailureItem(Schema):
    voucher_id: str
    method: str
    reason: str


class SyncIn(Schema):
    device_id: str
    handovers: list[HandoverItem] = []
    failures: list[FailureItem] = []


class SyncOut(Schema):
    accepted: list[str]
    duplicates: list[str]
    rejected: dict[str, str]
    already: list[str]


class OtpIn(Schema):
    voucher_id: str
    code: str = ""


class OtpOut(Schema):
    ok: bool


@router.get("/key", response=KeyOut, auth=None)
def key(request: HttpRequest) -> dict[str, str]:
    """The Ed25519 public key devices use to verify vouchers offline."""
    return selectors.public_key()


@router.get("/day", response=DayOut)
def day(request: HttpRequest) -> dict[str, object]:
    """The signed-in agent's list for today, the revocation list and the key, in one download."""
    return {
        "items": selectors.day_list(user=request.user),
        "revoked": selectors.revocation_list(user=request.user),
        "key": selectors.public_key(),
    }


@router.get("/revoked", response=list[str])
def revoked(request: HttpRequest) -> list[str]:
    return selectors.revocation_list(user=request.user)


@router.post("/sync", response=SyncOut)
def sync(request: HttpRequest, data: SyncIn) -> services.SyncResult:
    """Apply handovers recorded offline; resending a batch is safe (client-generated ids)."""
    for f in data.failures:
        services.verification_failure_record(
            acting_user=request.user, voucher_id=f.voucher_id, method=f.method, reason=f.reason
        )
    items = [
        services.HandoverIn(h.client_id, h.token, h.method, h.device_time, h.by_proxy)
        for h in data.handovers
    ]
    return services.handovers_sync(acting_user=request.user, device_id=data.device_id, items=items)


@router.post("/otp/send", response=OtpOut)
def otp_send(request: HttpRequest, data: OtpIn) -> dict[str, bool]:
    services.otp_send(acting_user=request.user, voucher_id=data.voucher_id)
    return {"ok": True}


@router.post("/otp/check", response=OtpOut)
def otp_check(request: HttpRequest, data: OtpIn) -> dict[str, bool]:
    return {
        "ok": services.otp_check(
            acting_user=request.user, voucher_id=data.voucher_id, code=data.code
        )
    }


class RecordOut(Schema):
    voucher: str
    amount: int
    at: dt.datetime
    settlement: str | None


@router.get("/ewarung/record", response=list[RecordOut])
def ewarung_record(request: HttpRequest) -> list[dict[str, object]]:
    """The signed-in e-Warung's record of vouchers redeemed for goods and their settlement."""
    return selectors.ewarung_record(user=request.user)
