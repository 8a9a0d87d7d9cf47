"""Face enrolment and face checks through the API and the staff page: multipart photos, clear
errors for a file that is not an image, too large, or shows no face; region scoping.

Tests that compare faces need the optional extra (dlib); they skip with the reason without it.
The ones that do not (a clear 501 without the extra, the size limit) always run.
"""

from __future__ import annotations

import io

import pytest

from tepat.verification import face
from tepat.verification.models import FaceCheck, FaceTemplate, Handover, HandoverStatus

needs_face = pytest.mark.skipif(
    not face.available(),
    reason="dlib is absent: install the optional extra (pip install -e '.[face]') to run face tests",
)


def png(image) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


def upload(data: bytes, name: str = "foto.png", content_type: str = "image/png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


def test_without_the_extra_the_api_says_so_clearly(
    vouchers, field_agent, staff_client, monkeypatch
):
    monkeypatch.setattr(face, "available", lambda: False)
    r = staff_client(field_agent).post(
        "/api/verification/face/verify",
        {"voucher_id": vouchers[0].public_id, "image": upload(b"\x89PNG whatever")},
    )
    assert r.status_code == 501
    assert r.json()["code"] == "face_unavailable"
    assert "tidak terpasang" in r.json()["message"]


def test_an_oversized_photo_is_refused_before_it_is_read(
    vouchers, field_agent, staff_client, settings
):
    settings.TEPAT_FACE_MAX_UPLOAD_BYTES = 1000
    r = staff_client(field_agent).post(
        "/api/verification/face/verify",
        {"voucher_id": vouchers[0].public_id, "image": upload(b"x" * 1001)},
    )
    assert r.status_code == 413
    assert r.json()["code"] == "image_too_large"
    assert "terlalu besar" in r.json()["message"]


def test_the_person_page_says_when_face_verification_is_not_installed(
    vouchers, bandung_operator, staff_client, monkeypatch
):
    monkeypatch.setattr(face, "available", lambda: False)
    ref = vouchers[0].payment.beneficiary_ref
    page = staff_client(bandung_operator).get(f"/verifikasi/penerima/{ref}/").content.decode()
    assert "belum terpasang" in page
    assert 'name="image"' not in page


@pytest.fixture
def photos():
    pytest.importorskip("skimage", reason="scikit-image (face test photos) is absent")
    from skimage import data

    from tests.verification.faces import astronaut_variants, other_faces

    v = astronaut_variants()
    return {"same": png(v["original"]), "again": png(v["darker"]),
            "other": png(other_faces(1)[0]), "no_face": png(data.coffee())}  # fmt: skip


@pytest.fixture
def enrolled_api(vouchers, bandung_operator, staff_client, photos, allow):
    allow("card", "face")
    ref = vouchers[0].payment.beneficiary_ref
    r = staff_client(bandung_operator).post(
        "/api/verification/face/enrol", {"person_id": ref, "image": upload(photos["same"])}
    )
    assert r.status_code == 200, r.content
    return vouchers[0]


@needs_face
def test_enrolment_keeps_only_an_encrypted_template_and_is_audited(enrolled_api):
    from tepat.core.models import AuditEvent

    tpl = FaceTemplate.objects.get()
    assert tpl.person_ref == enrolled_api.payment.beneficiary_ref
    assert len(tpl.template_enc) < 1200
    event = AuditEvent.objects.get(action="face.enrol")
    assert event.region_code == enrolled_api.village_code


@needs_face
def test_the_same_person_passes_and_the_face_handover_is_then_accepted(
    enrolled_api, field_agent, staff_client, photos
):
    import datetime as dt
    import uuid

    c = staff_client(field_agent)
    r = c.post("/api/verification/face/verify",
               {"voucher_id": enrolled_api.public_id, "image": upload(photos["again"])})  # fmt: skip
    assert r.status_code == 200, r.content
    assert r.json()["ok"] is True
    assert r.json()["distance"] <= r.json()["threshold"]
    body = {"device_id": "hp-1", "handovers": [{
        "client_id": str(uuid.uuid4()), "token": enrolled_api.token, "method": "face",
        "device_time": dt.datetime.now(dt.UTC).isoformat()}]}  # fmt: skip
    res = c.post("/api/verification/sync", body, content_type="application/json").json()
    assert len(res["accepted"]) == 1
    assert Handover.objects.get().status == HandoverStatus.ACCEPTED


@needs_face
def test_another_person_fails_and_cannot_be_handed_over_by_face(
    enrolled_api, field_agent, staff_client, photos
):
    import datetime as dt
    import uuid

    c = staff_client(field_agent)
    r = c.post("/api/verification/face/verify",
               {"voucher_id": enrolled_api.public_id, "image": upload(photos["other"])})  # fmt: skip
    assert r.status_code == 200
    assert r.json()["ok"] is False
    assert FaceCheck.objects.get().ok is False
    body = {"device_id": "hp-1", "handovers": [{
        "client_id": str(uuid.uuid4()), "token": enrolled_api.token, "method": "face",
        "device_time": dt.datetime.now(dt.UTC).isoformat()}]}  # fmt: skip
    res = c.post("/api/verification/sync", body, content_type="application/json").json()
    assert list(res["rejected"].values()) == ["face_not_verified"]


@needs_face
def test_a_photo_without_a_face_gets_a_clear_error(enrolled_api, field_agent, staff_client, photos):
    r = staff_client(field_agent).post(
        "/api/verification/face/verify",
        {"voucher_id": enrolled_api.public_id, "image": upload(photos["no_face"])},
    )
    assert r.status_code == 422
    assert r.json()["code"] == "no_face"
    assert "Wajah tidak terdeteksi" in r.json()["message"]


@needs_face
def test_enrolling_a_photo_without_a_face_keeps_nothing(
    vouchers, bandung_operator, staff_client, photos
):
    ref = vouchers[0].payment.beneficiary_ref
    r = staff_client(bandung_operator).post(
        "/api/verification/face/enrol", {"person_id": ref, "image": upload(photos["no_face"])}
    )
    assert r.status_code == 422
    assert r.json()["code"] == "no_face"
    assert not FaceTemplate.objects.exists()


@needs_face
def test_a_file_that_is_not_an_image_gets_a_clear_error(vouchers, bandung_operator, staff_client):
    ref = vouchers[0].payment.beneficiary_ref
    r = staff_client(bandung_operator).post(
        "/api/verification/face/enrol",
        {"person_id": ref, "image": upload(b"%PDF-1.4 not a photo", "ktp.pdf", "application/pdf")},
    )
    assert r.status_code == 422
    assert r.json()["code"] == "not_an_image"
    assert "bukan gambar" in r.json()["message"]


@needs_face
def test_a_photo_with_more_pixels_than_allowed_is_refused(
    vouchers, bandung_operator, staff_client, monkeypatch
):
    import numpy as np

    monkeypatch.setattr(face, "MAX_PIXELS", 100)
    ref = vouchers[0].payment.beneficiary_ref
    r = staff_client(bandung_operator).post(
        "/api/verification/face/enrol",
        {"person_id": ref, "image": upload(png(np.zeros((20, 20, 3), dtype=np.uint8)))},
    )
    assert r.status_code == 413


@needs_face
def test_staff_of_another_region_cannot_enrol_or_check(
    vouchers, bogor_operator, staff_client, photos, regions, allow
):
    from tests.conftest import make_staff

    allow("face")
    ref = vouchers[0].payment.beneficiary_ref
    r = staff_client(bogor_operator).post(
        "/api/verification/face/enrol", {"person_id": ref, "image": upload(photos["same"])}
    )
    assert r.status_code == 404
    bogor_agent = make_staff("agen_bogor", "field_agent", ("3201011001",))
    r = staff_client(bogor_agent).post(
        "/api/verification/face/verify",
        {"voucher_id": vouchers[0].public_id, "image": upload(photos["same"])},
    )
    assert r.status_code == 404
    assert not FaceTemplate.objects.exists()


@needs_face
def test_an_auditor_cannot_enrol(vouchers, auditor, staff_client, photos):
    ref = vouchers[0].payment.beneficiary_ref
    r = staff_client(auditor).post(
        "/api/verification/face/enrol", {"person_id": ref, "image": upload(photos["same"])}
    )
    assert r.status_code == 403


@needs_face
def test_no_face_check_when_the_programme_does_not_accept_faces(
    vouchers, bandung_operator, field_agent, staff_client, photos
):
    ref = vouchers[0].payment.beneficiary_ref
    staff_client(bandung_operator).post(
        "/api/verification/face/enrol", {"person_id": ref, "image": upload(photos["same"])}
    )
    r = staff_client(field_agent).post(
        "/api/verification/face/verify",
        {"voucher_id": vouchers[0].public_id, "image": upload(photos["same"])},
    )
    assert r.status_code == 400
    assert r.json()["code"] == "method_not_allowed"
    assert not FaceCheck.objects.exists()


@needs_face
def test_the_person_page_enrols_a_face(vouchers, bandung_operator, staff_client, photos):
    c = staff_client(bandung_operator)
    ref = vouchers[0].payment.beneficiary_ref
    r = c.post(f"/verifikasi/penerima/{ref}/wajah/", {"image": upload(photos["same"])})
    assert r.status_code == 302
    assert FaceTemplate.objects.filter(person_ref=ref).exists()
    refused = c.post(f"/verifikasi/penerima/{ref}/wajah/",
                     {"image": upload(photos["no_face"])}, follow=True)  # fmt: skip
    assert "Wajah tidak terdeteksi" in refused.content.decode()
