from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.utils import timezone

from tepat.core.errors import ValidationFailed
from tepat.grievances import services
from tepat.grievances.models import CommunityReport, TaskStatus
from tepat.registry.services import household_register
from tests.conftest import BANDUNG_VILLAGE, make_household, make_members
from tests.grievances.conftest import JPEG, PNG

pytestmark = pytest.mark.django_db


def _report(key: str, **kw: object) -> tuple[CommunityReport, bool]:
    data: dict[str, object] = {
        "submission_key": key,
        "kind": "sanggah",
        "village_code": BANDUNG_VILLAGE,
        "subject_name": "Asep Sunandar",
        "reason": "Keluarga ini punya mobil dan rumah dua lantai.",
        "latitude": "-6.8712",
        "longitude": "107.5891",
        "photo": JPEG,
    }
    data.update(kw)
    return services.report_submit(**data)  # type: ignore[arg-type]


def test_a_sanggah_with_photo_and_location_becomes_a_task_that_lapses_in_14_days(
    regions, key, evidence_root
):
    r, created = _report(key())
    assert created
    assert r.status == TaskStatus.OPEN
    assert r.tracking_code.startswith("SGH-")
    assert 13.9 < (r.due_at - timezone.now()).total_seconds() / 86400 <= 14
    stored = (evidence_root / "evidence" / r.photo_path).read_bytes()
    assert stored.startswith(b"\xff\xd8\xff")
    assert r.photo_sha256 == hashlib.sha256(stored).hexdigest()
    assert r.photo_type == "jpeg"


def test_the_lapse_period_is_a_setting(regions, key, evidence_root, settings):
    settings.TEPAT_SANGGAH_LAPSE_DAYS = 3
    r, _ = _report(key())
    assert (r.due_at - timezone.now()) <= dt.timedelta(days=3)


def test_an_usul_gets_its_own_prefix_and_accepts_png(regions, key, evidence_root):
    r, _ = _report(key(), kind="usul", photo=PNG)
    assert r.tracking_code.startswith("USL-")
    assert r.photo_type == "png"


def test_a_file_that_is_not_an_image_is_refused_by_content_not_name(regions, key, evidence_root):
    with pytest.raises(ValidationFailed) as exc:
        _report(key(), photo=b"%PDF-1.7 pretending to be a photo")
    assert exc.value.problems[0].field == "photo"
    assert "bukan foto" in exc.value.message
    assert not (evidence_root / "evidence").exists()


def test_an_oversized_photo_is_refused(regions, key, evidence_root, settings):
    settings.TEPAT_EVIDENCE_MAX_BYTES = 1024
    with pytest.raises(ValidationFailed) as exc:
        _report(key(), photo=JPEG + b"\x00" * 2000)
    assert "terlalu besar" in exc.value.message


def test_a_missing_location_is_refused_with_a_clear_message(regions, key, evidence_root):
    with pytest.raises(ValidationFailed) as exc:
        _report(key(), latitude="", longitude="abc")
    assert {p.field for p in exc.value.problems} == {"latitude", "longitude"}
    assert "Lokasi wajib diisi" in exc.value.message


def test_a_malformed_nik_is_refused(regions, key, evidence_root):
    with pytest.raises(ValidationFailed) as exc:
        _report(key(), subject_nik="12345")
    assert exc.value.problems[0].field == "subject_nik"


def test_a_repeated_submission_makes_no_duplicate(regions, key, evidence_root):
    k = key()
    first, _ = _report(k)
    second, created = _report(k)
    assert not created
    assert second.pk == first.pk
    assert CommunityReport.objects.count() == 1


def test_a_sanggah_naming_a_registered_person_links_to_them_without_keeping_the_nik(
    regions, key, evidence_root, bandung_operator
):
    hh = household_register(
        acting_user=bandung_operator,
        source="test",
        household=make_household(),
        members=make_members(),
    )
    head = hh.members.get(relationship="head")
    nik = make_members()[0]["nik"]
    r, _ = _report(key(), subject_nik=nik)
    assert r.subject_person_ref == head.public_id
    assert nik not in str(CommunityReport.objects.filter(pk=r.pk).values().get())


def test_the_operator_verifies_and_unverified_sanggah_lapse(
    regions, key, evidence_root, bandung_operator
):
    done, _ = _report(key())
    services.report_decide(
        acting_user=bandung_operator, report=done, decision="upheld", note="Terbukti mampu."
    )
    stale, _ = _report(key())
    CommunityReport.objects.filter(pk=stale.pk).update(due_at=timezone.now() - dt.timedelta(days=1))
    assert services.reports_lapse() == 1
    stale.refresh_from_db()
    done.refresh_from_db()
    assert stale.status == TaskStatus.LAPSED
    assert done.status == TaskStatus.UPHELD


def test_an_upheld_sanggah_corrects_the_household_in_the_registry_with_history(
    regions, key, evidence_root, bandung_operator
):
    from tepat.registry.models import ChangeRecord

    hh = household_register(
        acting_user=bandung_operator,
        source="test",
        household=make_household(),
        members=make_members(),
    )
    assert not hh.owns_car
    r, _ = _report(key(), subject_nik=make_members()[0]["nik"])
    services.report_decide(
        acting_user=bandung_operator,
        report=r,
        decision="upheld",
        note="Kunjungan: ada mobil di garasi.",
        corrections={"owns_car": True, "owns_motorcycle": ""},
    )
    hh.refresh_from_db()
    assert hh.owns_car
    change = ChangeRecord.objects.filter(household=hh, action="update").get()
    assert change.source == f"sanggah:{r.tracking_code}"
    assert change.before["owns_car"] is False
    assert change.after["owns_car"] is True


def test_corrections_are_refused_for_a_rejected_or_unmatched_report(
    regions, key, evidence_root, bandung_operator
):
    from tepat.core.errors import TepatError

    r, _ = _report(key())
    with pytest.raises(TepatError):
        services.report_decide(
            acting_user=bandung_operator,
            report=r,
            decision="upheld",
            note="x",
            corrections={"owns_car": True},
        )
    r.refresh_from_db()
    assert r.status == TaskStatus.OPEN
