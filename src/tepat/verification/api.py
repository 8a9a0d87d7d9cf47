"""Verification API for the field app (public key, day's list, revocation list, OTP, face,
sync) and for staff (policies per programme and channel, proxies, flagged handovers)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from ninja import Field, File, Router, Schema
from ninja.files import UploadedFile
from ninja.params import functions as param
from ninja.responses import Status

from tepat.accounts.selectors import staff_user
from tepat.core.apischema import ErrorOut
from tepat.core.audit import audit_read, region_of
from tepat.verification import face, selectors, services
from tepat.verification.models import Handover, ProxyCollector

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
    methods: list[str]


class KdfOut(Schema):
    """How `card_check` and the proxies' `check` were derived: PBKDF2-SHA256 over
    "<voucher id>:<digits>" with this salt (base64url, new for every download) and rounds."""

    alg: str
    iterations: int
    salt: str
    length: int


class DayOut(Schema):
    items: list[DayItem]
    revoked: list[str]
    key: KeyOut
    kdf: KdfOut


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


@router.get(
    "/day",
    response=DayOut,
    openapi_extra={"responses": {403: {"description": "not a field agent of that place"}}},
)
def day(request: HttpRequest, village: str = "") -> dict[str, object]:
    """The signed-in field agent's list for today (of one assigned `village`, or of all the
    villages and districts the agent is assigned to), the revocation list and the key, in one
    download; 403 for anyone else. Card and proxy ID numbers travel as slow salted digests
    (`kdf`). The list names beneficiaries, so every download is audited with its size and
    region."""
    kdf = services.day_list_kdf()
    items = selectors.day_list(user=request.user, kdf=kdf, village=village)
    audit_read(
        actor=request.user,
        what="verification.day_list",
        count=len(items),
        region_code=region_of(str(item["village"]) for item in items),
        request=request,
    )
    return {
        "items": items,
        "revoked": selectors.revocation_list(user=request.user),
        "key": selectors.public_key(),
        "kdf": kdf.public(),
    }


@router.get("/revoked", response=list[str])
def revoked(request: HttpRequest) -> list[str]:
    return selectors.revocation_list(user=request.user)


@router.post("/sync", response=SyncOut)
def sync(request: HttpRequest, data: SyncIn) -> services.SyncResult:
    """Apply handovers recorded offline; resending a batch is safe (client-generated ids)."""
    for f in data.failures:
        services.verification_failure_record(
            acting_user=staff_user(request),
            voucher_id=f.voucher_id,
            method=f.method,
            reason=f.reason,
        )
    items = [
        services.HandoverIn(h.client_id, h.token, h.method, h.device_time, h.by_proxy)
        for h in data.handovers
    ]
    return services.handovers_sync(
        acting_user=staff_user(request), device_id=data.device_id, items=items
    )


@router.post("/otp/send", response=OtpOut)
def otp_send(request: HttpRequest, data: OtpIn) -> dict[str, bool]:
    services.otp_send(acting_user=staff_user(request), voucher_id=data.voucher_id)
    return {"ok": True}


@router.post("/otp/check", response=OtpOut)
def otp_check(request: HttpRequest, data: OtpIn) -> dict[str, bool]:
    return {
        "ok": services.otp_check(
            acting_user=staff_user(request), voucher_id=data.voucher_id, code=data.code
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


# --- face (optional extra) -----------------------------------------------------------------


class FaceEnrolOut(Schema):
    person_id: str
    enrolled_at: dt.datetime


class FaceVerifyOut(Schema):
    ok: bool
    distance: float | None
    threshold: float


@router.post(
    "/face/enrol",
    response={200: FaceEnrolOut, 413: ErrorOut, 422: ErrorOut, 501: ErrorOut},
    openapi_extra={"responses": {413: {"description": "image too large"},
                                 422: {"description": "not an image, or no face found"},
                                 501: {"description": "the face extra is not installed"}}},
)  # fmt: skip
def face_enrol(
    request: HttpRequest,
    image: File[UploadedFile],
    person_id: str = param.Form(..., min_length=1),
) -> dict[str, object]:
    """Enrol (or replace) a person's face template from a photo (multipart, JPEG or PNG). Only an
    encrypted descriptor is kept, never the photo. Staff of the person's region."""
    tpl = services.face_enrol(
        acting_user=staff_user(request),
        person_ref=person_id,
        image=face.image_from_uploaded_file(image),
    )
    return {"person_id": tpl.person_ref, "enrolled_at": tpl.enrolled_at}


@router.post(
    "/face/verify",
    response={200: FaceVerifyOut, 413: ErrorOut, 422: ErrorOut, 501: ErrorOut},
    openapi_extra={"responses": {413: {"description": "image too large"},
                                 422: {"description": "not an image, or no face found"},
                                 501: {"description": "the face extra is not installed"}}},
)  # fmt: skip
def face_verify(
    request: HttpRequest,
    image: File[UploadedFile],
    voucher_id: str = param.Form(..., min_length=1),
) -> dict[str, object]:
    """Compare a live photo with the voucher holder's enrolled face (online step). A passed check
    lets the device record the handover with method `face`; every attempt is audited."""
    res = services.face_verify(
        acting_user=staff_user(request),
        voucher_id=voucher_id,
        image=face.image_from_uploaded_file(image),
    )
    if res.distance is None:
        raise services.NoFace()
    return {"ok": res.ok, "distance": res.distance, "threshold": res.threshold}


# --- verification policy -------------------------------------------------------------------


class PolicyOut(Schema):
    programme: str
    programme_name: str
    channel: str
    methods: list[str]
    configured: bool
    updated_at: dt.datetime | None


class PolicyIn(Schema):
    methods: list[str]


@router.get("/policies", response=list[PolicyOut])
def policies(request: HttpRequest) -> list[dict[str, object]]:
    """Methods accepted (any one suffices) per programme and voucher channel; `configured` is false
    where the default (TEPAT_VERIFICATION_DEFAULT_METHODS) applies."""
    return selectors.policies()


@router.put("/policies/{programme}/{channel}", response=PolicyOut)
def policy_set(
    request: HttpRequest, programme: str, channel: str, data: PolicyIn
) -> dict[str, object]:
    """Set the accepted methods for one programme and channel (admins and supervisors; audited)."""
    services.verification_policy_set(
        acting_user=staff_user(request),
        programme_code=programme,
        channel=channel,
        methods=data.methods,
    )
    return next(
        p for p in selectors.policies() if p["programme"] == programme and p["channel"] == channel
    )


# --- proxy collectors ----------------------------------------------------------------------


class ProxyRowOut(Schema):
    id: str
    person_id: str
    name: str
    reason: str
    registered_at: dt.datetime
    revoked_at: dt.datetime | None


class ProxyRegisterIn(Schema):
    person_id: str
    name: str
    id_number: str
    reason: str


class ProxyRevokeIn(Schema):
    reason: str = Field(pattern=r"\S")  # required: something besides spaces


def _proxy_row(p: ProxyCollector) -> dict[str, object]:
    return {
        "id": p.public_id, "person_id": p.person_ref, "name": p.name, "reason": p.reason,
        "registered_at": p.registered_at, "revoked_at": p.revoked_at,
    }  # fmt: skip


@router.get("/proxies", response=list[ProxyRowOut])
def proxies(request: HttpRequest, person_id: str = "") -> list[dict[str, object]]:
    """Proxy collectors in your regions: of one person (with revoked ones), or all live ones."""
    rows = (
        selectors.proxies_of(user=request.user, person_ref=person_id)
        if person_id
        else selectors.proxies_in_scope(user=request.user)
    )
    return [_proxy_row(p) for p in rows]


@router.post("/proxies", response={201: ProxyRowOut})
def proxy_register(request: HttpRequest, data: ProxyRegisterIn) -> Status[dict[str, object]]:
    """Register, in advance, who may collect for an elderly or disabled beneficiary (audited)."""
    p = services.proxy_register(
        acting_user=staff_user(request), person_ref=data.person_id, name=data.name,
        id_number=data.id_number, reason=data.reason,
    )  # fmt: skip
    return Status(201, _proxy_row(p))


@router.post("/proxies/{proxy_id}/revoke", response=ProxyRowOut)
def proxy_revoke(request: HttpRequest, proxy_id: str, data: ProxyRevokeIn) -> dict[str, object]:
    return _proxy_row(
        services.proxy_revoke(
            acting_user=staff_user(request), proxy_id=proxy_id, reason=data.reason
        )
    )


# --- flagged handovers ---------------------------------------------------------------------


class FlaggedOut(Schema):
    client_id: str
    voucher: str
    status: str
    reason: str
    device_id: str
    agent: str
    device_time: dt.datetime
    received_at: dt.datetime
    decision: str
    decision_note: str
    decided_at: dt.datetime | None


class FlaggedResolveIn(Schema):
    decision: Literal["no_loss", "recovered", "escalated"]  # models.HandoverDecision
    note: str = Field(pattern=r"\S")


def _flagged_row(h: Handover) -> dict[str, object]:
    return {
        "client_id": str(h.client_id), "voucher": h.voucher.public_id, "status": h.status,
        "reason": h.reason, "device_id": h.device_id, "agent": h.agent.get_username(),
        "device_time": h.device_time, "received_at": h.received_at, "decision": h.decision,
        "decision_note": h.decision_note, "decided_at": h.decided_at,
    }  # fmt: skip


@router.get("/flagged", response=list[FlaggedOut])
def flagged(request: HttpRequest, include_resolved: bool = False) -> list[dict[str, object]]:
    """Flagged handovers (double redemptions, revoked vouchers) in your regions, for investigation."""
    rows = selectors.flagged_handovers(user=request.user, include_resolved=include_resolved)
    return [_flagged_row(h) for h in rows[:500]]


@router.post("/flagged/{client_id}/resolve", response=FlaggedOut)
def flagged_resolve(
    request: HttpRequest, client_id: str, data: FlaggedResolveIn
) -> dict[str, object]:
    """Close an investigation with a decision (no_loss | recovered | escalated) and a note."""
    h = services.handover_resolve(
        acting_user=staff_user(request), client_id=client_id, decision=data.decision, note=data.note
    )
    return _flagged_row(h)
