"""Face verification (an optional extra): enrolment keeps only the encrypted descriptor, and
every comparison at the counter is audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction

from tepat.accounts.scoping import can_see_region
from tepat.core import crypto
from tepat.core.audit import audit_record
from tepat.core.errors import NotFound, TepatError
from tepat.verification import signing
from tepat.verification.models import FaceCheck, FaceTemplate, Method
from tepat.verification.services.common import FACE_ENROLLERS, _require, setting
from tepat.verification.services.policy import _require_method
from tepat.verification.services.vouchers import _scoped_voucher

if TYPE_CHECKING:
    from tepat.accounts.models import User


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


def face_enrol(*, acting_user: User, person_ref: str, image: Any) -> FaceTemplate:
    """Enrol a face from a photo (an RGB array): only the encrypted descriptor is kept."""
    from tepat.registry.models import Person
    from tepat.verification import face

    _require(acting_user, FACE_ENROLLERS, "merekam wajah / enrol faces")
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


def face_verify(*, acting_user: User, voucher_id: str, image: Any) -> FaceResult:
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
