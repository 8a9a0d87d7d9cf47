from __future__ import annotations

import pytest

from tepat.verification import face

pytestmark = pytest.mark.skipif(
    not face.available(),
    reason="dlib is absent: install the optional extra (pip install -e '.[face]') to run face tests",
)
skimage = pytest.importorskip("skimage", reason="scikit-image (face test photos) is absent")


@pytest.fixture
def enrolled(vouchers, field_agent, allow):
    from tepat.verification import services
    from tests.verification.faces import astronaut_variants

    allow("card", "face")
    ref = vouchers[0].payment.beneficiary_ref
    services.face_enrol(
        acting_user=field_agent, person_ref=ref, image=astronaut_variants()["original"]
    )
    return vouchers[0]


def test_the_template_is_encrypted_and_no_image_is_stored(enrolled):
    from tepat.verification.models import FaceTemplate

    tpl = FaceTemplate.objects.get()
    assert len(tpl.template_enc) < 1200  # a 128-float descriptor, not a photo
    assert "0." not in tpl.template_enc


@pytest.mark.parametrize(
    "variant", ["mirrored", "darker", "brighter", "rotated_10", "half_size", "noisy", "grey"]
)
def test_transformed_photos_of_the_same_person_are_accepted(enrolled, field_agent, variant):
    from tepat.verification import services
    from tests.verification.faces import astronaut_variants

    res = services.face_verify(
        acting_user=field_agent, voucher_id=enrolled.public_id, image=astronaut_variants()[variant]
    )
    assert res.ok, res


def test_other_people_are_rejected_and_each_attempt_is_audited(enrolled, field_agent):
    from tepat.core.models import AuditEvent
    from tepat.verification import services
    from tests.verification.faces import other_faces

    results = [
        services.face_verify(acting_user=field_agent, voucher_id=enrolled.public_id, image=img)
        for img in other_faces(10)
    ]
    assert not any(r.ok for r in results)
    assert (
        AuditEvent.objects.filter(action="verification.failed", detail__method="face").count() == 10
    )


def test_a_photo_without_a_face_is_rejected(enrolled, field_agent):
    from skimage import data

    from tepat.verification import services

    res = services.face_verify(
        acting_user=field_agent, voucher_id=enrolled.public_id, image=data.coffee()
    )
    assert not res.ok
    assert res.distance is None


def test_the_threshold_is_a_setting(enrolled, field_agent, settings):
    from tepat.verification import services
    from tests.verification.faces import astronaut_variants

    settings.TEPAT_FACE_THRESHOLD = 0.01
    res = services.face_verify(
        acting_user=field_agent, voucher_id=enrolled.public_id, image=astronaut_variants()["noisy"]
    )
    assert not res.ok
    assert res.threshold == 0.01
